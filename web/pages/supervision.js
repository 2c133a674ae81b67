// Supervision: checks by site or application with their state, history and availability; acknowledge; the
// maintenance windows.
import { api, may, h, table, pill, errorBox, toast } from '../api.js';
import { t, tf, time, pct, stateLabel } from '../i18n.js';

function maintenanceForm(view) {
  const msg = h('div');
  const f = h('form', { class: 'panel', onsubmit: async (e) => {
    e.preventDefault();
    const d = /** @type {Record<string, string>} */ (Object.fromEntries(new FormData(f)));
    try {
      await api('/api/v1/monitoring/maintenance', { method: 'POST', body: {
        id: d.id, scope: { by: d.by, id: d.target }, reason: d.reason,
        starts_at: new Date(d.starts_at).toISOString(), ends_at: new Date(d.ends_at).toISOString(),
      } });
      toast(`${t('maintenance')} ${d.id}`);
      show(view, new URLSearchParams());
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  } },
  h('h3', {}, `${t('maintenance')} — ${t('create')}`),
  h('div', { class: 'row' },
    h('label', {}, 'Id', h('input', { name: 'id', required: true, size: 10 })),
    h('label', {}, t('scope'), h('select', { name: 'by' }, ['site', 'application', 'asset', 'check'].map((x) => h('option', { value: x }, x)))),
    h('label', {}, t('site'), h('input', { name: 'target', required: true, size: 10 }))),
  h('div', { class: 'row' },
    h('label', {}, t('start'), h('input', { name: 'starts_at', type: 'datetime-local', required: true })),
    h('label', {}, t('end'), h('input', { name: 'ends_at', type: 'datetime-local', required: true })),
    h('label', {}, t('reason'), h('input', { name: 'reason' }))),
  h('button', { class: 'primary', type: 'submit' }, t('create')), msg);
  return f;
}

const STATES = ['CRITICAL', 'WARNING', 'UNKNOWN', 'UNREACHABLE', 'MAINTENANCE', 'OK'];
const PROBLEMS = 'CRITICAL,WARNING,UNKNOWN,UNREACHABLE';
const rank = (s) => STATES.indexOf(s);

/** Root causes first, each with the checks it makes unreachable folded under it; then by severity and name. */
export function byCause(checks) {
  const ids = new Set(checks.map((c) => c.id));
  const under = new Map();
  const roots = [];
  for (const c of checks) {
    if (c.cause && c.cause !== c.id) {
      if (!under.has(c.cause)) under.set(c.cause, []);
      under.get(c.cause).push(c);
      if (!ids.has(c.cause)) { ids.add(c.cause); roots.push({ id: c.cause, shown: 'CRITICAL', output: '', missing: true }); }
    } else roots.push(c);
  }
  roots.sort((a, b) => (under.get(b.id)?.length || 0) - (under.get(a.id)?.length || 0) || rank(a.shown) - rank(b.shown) || a.id.localeCompare(b.id));
  return roots.map((r) => ({ ...r, consequences: under.get(r.id) || [] }));
}

export async function show(view, params) {
  const check = params.get('check');
  if (check) return one(view, check);
  const wanted = new Set((params.get('state') ?? PROBLEMS).split(',').filter(Boolean));
  const f = h('form', { class: 'row panel', onsubmit: (e) => {
    e.preventDefault();
    const d = new FormData(f);
    const q = new URLSearchParams(/** @type {[string, string][]} */ ([...d].filter(([k, v]) => v && k !== 'state')));
    q.set('state', d.getAll('state').join(','));
    location.hash = `#/supervision?${q}`;
  } },
  h('label', {}, t('site'), h('input', { name: 'site', value: params.get('site') || '' })),
  h('label', {}, t('application'), h('input', { name: 'application', value: params.get('application') || '' })),
  h('fieldset', { class: 'states' }, h('legend', {}, t('state')), STATES.map((s) =>
    h('label', {}, h('input', { type: 'checkbox', name: 'state', value: s, checked: wanted.has(s) }), ' ', stateLabel(s)))),
  h('button', { class: 'primary', type: 'submit' }, t('ask')));
  const q = new URLSearchParams({ limit: '1000' });
  for (const k of ['site', 'application']) if (params.get(k)) q.set(k, params.get(k));
  if (wanted.size) q.set('state', [...wanted].join(','));
  const [checks, windows] = await Promise.all([api(`/api/v1/monitoring/checks?${q}`), api('/api/v1/monitoring/maintenance')]);
  const grouped = byCause(checks.checks);
  const link = (id) => h('a', { href: `#/supervision?check=${encodeURIComponent(id)}` }, id);
  view.replaceChildren(f, h('div', { class: 'grid2' },
    h('div', { class: 'panel', id: 'checks' }, h('h2', {}, tf('checks_by_cause', { n: checks.total, roots: grouped.length })), table([
      { label: t('checks'), value: (c) => (c.consequences.length
        ? h('details', { class: 'cause' }, h('summary', {}, link(c.id), ` — ${tf('consequences', { n: c.consequences.length })}`),
          h('ul', {}, c.consequences.map((x) => h('li', {}, link(x.id), ` ${x.site_id || ''} `, pill(x.shown, stateLabel(x.shown))))))
        : link(c.id)) },
      { label: t('site'), value: (c) => c.site_id },
      { label: t('state'), value: (c) => pill(c.shown, stateLabel(c.shown)) },
      { label: t('output'), value: (c) => h('span', { class: 'raw' }, c.output) },
      { label: t('availability'), num: true, value: (c) => pct(c.availability) },
    ], grouped, { empty: t('ok') })),
    h('div', {}, may('monitoring:write') ? maintenanceForm(view) : null, h('div', { class: 'panel' }, h('h2', {}, t('maintenance')), table([
      { label: 'Id', value: (w) => w.id },
      { label: t('site'), value: (w) => `${w.scope?.by} ${w.scope?.id}` },
      { label: t('start'), value: (w) => time(w.starts_at) },
      { label: t('end'), value: (w) => time(w.ends_at) },
      { label: t('reason'), value: (w) => w.reason },
    ], windows.windows || [], { empty: t('no_data') })))));
  return {};
}

/** The states the chart colours (with the map's fill classes, `.f-…`). */
const COLOUR = { OK: 1, WARNING: 1, CRITICAL: 1, UNKNOWN: 1, UNREACHABLE: 1, MAINTENANCE: 1 };

/** The last 24 hours of a check as a band of colours, one segment per state, with the hours marked. */
function historyChart(changes, now) {
  const end = Date.now();
  const start = end - 24 * 3600e3;
  const W = 960;
  const x = (ms) => ((ms - start) / (end - start)) * W;
  // Oldest first: each change opens a segment that the next one closes.
  const list = changes.map((c) => ({ at: new Date(c.at).getTime(), from: c.from, to: c.to })).sort((p, q) => p.at - q.at);
  const segments = [];
  let from = start;
  let st = list.find((c) => c.at >= start)?.from ?? (list.length ? list[list.length - 1].to : now);
  for (const c of list.filter((e) => e.at >= start)) {
    segments.push([from, c.at, st]);
    [from, st] = [c.at, c.to];
  }
  segments.push([from, end, st]);
  const ticks = [];
  for (let k = 0; k <= 24; k += 6) ticks.push(start + k * 3600e3);
  return h('svg', { class: 'history-chart', viewBox: `0 0 ${W} 46`, role: 'img', 'aria-label': t('history') },
    segments.map(([a, b, s]) => h('rect', { x: x(a).toFixed(1), y: 0, width: Math.max(1, x(b) - x(a)).toFixed(1), height: 26,
      class: `f-${COLOUR[s] ? s : 'UNKNOWN'}` }, h('title', {}, `${stateLabel(s)} : ${time(new Date(a).toISOString())} → ${time(new Date(b).toISOString())}`))),
    ticks.map((ms) => h('text', { x: Math.min(W - 40, x(ms)).toFixed(1), y: 42 },
      new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(ms)))));
}

async function one(view, id) {
  try {
    const c = await api(`/api/v1/monitoring/checks/${encodeURIComponent(id)}`);
    // Acknowledge with what the operator has to say; once done, who, when and what stay on the check.
    const ack = may('monitoring:write') && ['WARNING', 'CRITICAL', 'UNKNOWN'].includes(c.shown) && !c.acknowledged
      ? h('form', { class: 'row', id: 'ack-form', onsubmit: async (e) => {
        e.preventDefault();
        const comment = new FormData(e.target).get('comment');
        try {
          await api(`/api/v1/monitoring/checks/${encodeURIComponent(id)}/ack`, { method: 'POST', body: { comment } });
          toast(t('acknowledge'));
          one(view, id);
        } catch (err) { toast(err.message); }
      } }, h('label', {}, t('comment'), h('input', { name: 'comment', required: true, size: 40 })),
      h('button', { type: 'submit', class: 'primary' }, t('acknowledge')))
      : null;
    const a = c.acknowledgement;
    view.replaceChildren(h('div', { class: 'panel' },
      h('h2', {}, `${id} `, pill(c.shown, stateLabel(c.shown))),
      h('p', {}, `${c.site_id ?? ''} · ${c.application_id ?? ''} · ${t('since')} ${time(c.last_hard_change)} · ${c.output}`),
      c.alert ? h('p', { class: 'warn' }, tf('held_by_alert', { s: stateLabel(c.alert) })) : null,
      a ? h('p', { class: 'ack', id: 'acknowledged' }, tf('acked_by', { by: a.by.replace(/^user:/, ''), at: time(a.at), comment: a.comment })) : null,
      h('h3', {}, tf('history_24h', { a: pct(c.availability) })),
      historyChart(c.history || [], c.shown),
      h('div', { class: 'row' }, ack,
        may('incidents:write') ? h('a', { href: `#/incidents?site=${encodeURIComponent(c.site_id || '')}&check=${encodeURIComponent(id)}` }, `+ ${t('create')} (${t('incidents').toLowerCase()})`) : null),
      h('h3', {}, t('history')),
      table([
        { label: t('since'), value: (x) => time(x.at) },
        { label: t('state'), value: (x) => h('span', {}, pill(x.from, stateLabel(x.from)), ' → ', pill(x.to, stateLabel(x.to))) },
        { label: t('output'), value: (x) => h('span', { class: 'raw' }, x.output) },
      ], c.history || [], { empty: t('no_data') }),
      h('p', {}, h('a', { href: '#/supervision' }, '← ' + t('supervision')))));
  } catch (e) { view.replaceChildren(errorBox(e)); }
  return {};
}
