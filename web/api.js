// The API client: same origin, the session cookie, the CSRF token on every change; and small DOM helpers that
// build elements (never HTML strings from data).
import { t, explain, problemText } from './i18n.js';

/** Who is signed in, as `/api/v1/session` says (null when no one). @type {any} */
let me = null;

/** @returns {any} */
export function caller() {
  return me;
}

/** @param {string} permission */
export function may(permission) {
  return !!me && me.permissions.includes(permission);
}

/** Who is signed in (null when no one). */
export async function whoami() {
  const r = await fetch('/api/v1/session', { credentials: 'same-origin' });
  const body = r.ok ? await r.json() : null;
  me = body && body.user ? body : null;
  return me;
}

/** @param {string} user @param {string} password */
export async function signIn(user, password) {
  const r = await fetch('/api/v1/session', {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, explain(r.status, body), body);
  me = body;
  return me;
}

export async function signOut() {
  await api('/api/v1/session', { method: 'DELETE' }).catch(() => {});
  me = null;
}

export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {any} body */
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * A JSON request; a FormData body is sent as multipart. Throws ApiError with the server's message.
 * @param {string} path @param {{method?: string, body?: any}} [options] @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (method !== 'GET' && me?.csrf_token) headers['x-csrf-token'] = me.csrf_token;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (r.status === 401) {
    me = null;
    window.dispatchEvent(new Event('vigie:signed-out'));
  }
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  // The message is said in the user's language (i18n.js `explain`); ServiceNow's envelope keeps its own words.
  if (!r.ok) throw new ApiError(r.status, data?.error?.detail ?? explain(r.status, data), data);
  return data;
}

/** A live stream (server-sent events) that reconnects by itself, also after a server restart. */
/**
 * @param {string} path @param {Record<string, (data: any, e: MessageEvent) => void>} handlers
 * @param {(up: boolean) => void} [onStatus]
 */
export function live(path, handlers, onStatus = () => {}) {
  /** @type {EventSource | null} */
  let es = null;
  let closed = false;
  let retry = 500;
  const open = () => {
    if (closed) return;
    const source = new EventSource(path, { withCredentials: true });
    es = source;
    source.onopen = () => { retry = 500; onStatus(true); };
    for (const [kind, f] of Object.entries(handlers)) {
      source.addEventListener(kind, (e) => f(JSON.parse(e.data), e));
    }
    source.onerror = () => {
      onStatus(false);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 10000);
      }
    };
  };
  open();
  return { close() { closed = true; es?.close(); } };
}

/**
 * Builds an element: h('td', {class: 'num'}, 12). Attributes starting with `on` are listeners. Typed `any`: the
 * element's own type depends on the tag.
 * @param {string} tag @param {Record<string, any>} [attrs] @param {...any} children @returns {any}
 */
export function h(tag, attrs = {}, ...children) {
  const svg = ['svg', 'g', 'path', 'circle', 'line', 'text', 'rect', 'polyline', 'title', 'defs', 'clipPath', 'image'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A table from column definitions [{label, value(row), class, num}] and rows. */
/** @param {any[]} columns @param {any[]} rows @param {{onRow?: (row: any) => void, empty?: string}} [options] */
export function table(columns, rows, { onRow, empty } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : c.class }, c.label)));
  const body = rows.map((r) =>
    h('tr', { class: onRow ? 'clickable' : undefined, tabindex: onRow ? 0 : undefined,
      onclick: onRow ? () => onRow(r) : undefined,
      onkeydown: onRow ? (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter') onRow(r); } : undefined },
    columns.map((c) => {
      const v = c.value(r);
      return h('td', { class: [c.num ? 'num' : '', c.cls ? c.cls(r) : ''].join(' ').trim() || undefined },
        v instanceof Node ? v : v ?? '—');
    })));
  if (!rows.length && empty) body.push(h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, empty)));
  return h('table', {}, h('thead', {}, head), h('tbody', {}, body));
}

/** @param {string} state @param {string} [label] */
export function pill(state, label) {
  return h('span', { class: `pill s-${state}` }, label ?? state);
}

/** An error said in the user's language: what happened from the status (refused, not found, unavailable…), then
 * what exactly, from the server's code and parameters (i18n.js `explain`), and its located problems. */
/** @param {any} e */
export function errorBox(e) {
  /** @type {Record<number, string>} */
  const keys = { 400: 'err_invalid', 401: 'err_signed_out', 403: 'forbidden', 404: 'not_found', 409: 'err_conflict',
    413: 'err_too_large', 415: 'err_invalid', 422: 'err_invalid', 429: 'err_throttled', 503: 'err_unavailable' };
  const key = keys[e?.status];
  const detail = e?.message || String(e);
  if (!key) return h('div', { class: 'error', role: 'alert' }, detail);
  const problems = e.body?.problems || [];
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, t(key)),
    detail && detail !== t(key) ? h('div', { class: 'small' }, detail) : null,
    problems.length ? h('ul', { class: 'small' }, problems.slice(0, 20).map((/** @type {any} */ p) => h('li', {}, problemText(p)))) : null);
}

/** @param {string} text */
export function toast(text) {
  const box = document.getElementById('toast');
  const d = h('div', {}, text);
  box?.append(d);
  setTimeout(() => d.remove(), 5000);
}
