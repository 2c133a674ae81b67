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
        // The cause's link beside (not inside) the fold that holds its consequences.
        ? h('div', {}, link(c.id), h('details', { class: 'cause' }, h('summary', {}, tf('consequences', { n: c.consequences.length })),
          h('ul', {}, c.consequences.map((x) => h('li', {}, link(x.id), ` ${x.site_id || ''} `, pill(x.shown, stateLabel(x.shown)))))))
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

/**
 * The last 24 hours of a check as segments [from ms, to ms, state], oldest first: each change opens a segment that
 * the next one closes.
 * @param {{at: string, from: string, to: string}[]} changes @param {string} now @param {number} end
 */
function segmentsOf(changes, now, end) {
  const start = end - 24 * 3600e3;
  const list = changes.map((c) => ({ at: new Date(c.at).getTime(), from: c.from, to: c.to })).sort((p, q) => p.at - q.at);
  /** @type {[number, number, string][]} */
  const segments = [];
  let from = start;
  let st = list.find((c) => c.at >= start)?.from ?? (list.length ? list[list.length - 1].to : now);
  for (const c of list.filter((e) => e.at >= start)) {
    segments.push([from, c.at, st]);
    [from, st] = [c.at, c.to];
  }
  segments.push([from, end, st]);
  return segments;
}

/**
 * Availability over the segments, by the server's rule (docs/monitoring.md): up (OK, weak signals) over up and down
 * (error, unreachable); unknown and maintenance count in neither. Null when there was neither up nor down time.
 * @param {[number, number, string][]} segments
 */
export function availability(segments) {
  let up = 0;
  let down = 0;
  for (const [a, b, s] of segments) {
    if (s === 'OK' || s === 'WARNING') up += b - a;
    else if (s === 'CRITICAL' || s === 'UNREACHABLE') down += b - a;
  }
  return up + down > 0 ? up / (up + down) : null;
}

// Severity from the bottom of the chart up, each level named in the user's language on the axis.
const LEVELS = ['OK', 'MAINTENANCE', 'WARNING', 'UNKNOWN', 'UNREACHABLE', 'CRITICAL'];
const hourOf = (/** @type {number} */ s) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(s * 1e3));

/**
 * The state over 24 hours as a stepped line (uPlot, embedded by the build; drag to zoom on a span, double-click to
 * come back), severity upwards, Paris hours along.
 * @param {HTMLElement} box @param {[number, number, string][]} segments
 */
function stateChart(box, segments) {
  const xs = [];
  const ys = [];
  for (const [a, , s] of segments) { xs.push(a / 1e3); ys.push(LEVELS.indexOf(s)); }
  const [, last, st] = segments[segments.length - 1];
  xs.push(last / 1e3); ys.push(LEVELS.indexOf(st));
  const css = getComputedStyle(document.documentElement);
  const grid = { stroke: '#24365a', width: 1 };
  return new uPlot({
    width: Math.max(480, Math.min(1600, box.clientWidth || 960)), height: 190, legend: { show: false },
    scales: { x: { time: true }, y: { range: [-0.5, LEVELS.length - 0.5] } },
    axes: [
      { stroke: css.getPropertyValue('--muted'), grid, values: (_u, ticks) => ticks.map(hourOf) },
      { stroke: css.getPropertyValue('--muted'), grid, size: 110, splits: () => LEVELS.map((_, i) => i), values: (_u, ticks) => ticks.map((i) => stateLabel(LEVELS[i])) },
    ],
    series: [{}, { label: 'état', stroke: '#4ea1ff', width: 2, fill: '#4ea1ff22', paths: uPlot.paths.stepped({ align: 1 }) }],
  }, [xs, ys], box);
}

/** The last 24 hours of a check as a band of colours, one segment per state, with the hours marked. */
function historyChart(segments) {
  const end = segments[segments.length - 1][1];
  const start = end - 24 * 3600e3;
  const W = 960;
  const x = (ms) => ((ms - start) / (end - start)) * W;
  return h('svg', { class: 'history-chart', viewBox: `0 0 ${W} 26`, preserveAspectRatio: 'none', role: 'img', 'aria-label': t('history') },
    segments.map(([a, b, s]) => h('rect', { x: x(a).toFixed(1), y: 0, width: Math.max(1, x(b) - x(a)).toFixed(1), height: 26,
      class: `f-${COLOUR[s] ? s : 'UNKNOWN'}` }, h('title', {}, `${stateLabel(s)} : ${time(new Date(a).toISOString())} → ${time(new Date(b).toISOString())}`))));
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
    const segments = segmentsOf(c.history || [], c.shown, Date.now());
    const up = availability(segments);
    const chart = h('div', { id: 'state-chart', class: 'state-chart', role: 'img', 'aria-label': t('history') });
    view.replaceChildren(h('div', { class: 'panel' },
      h('h2', {}, `${id} `, pill(c.shown, stateLabel(c.shown))),
      h('p', {}, `${c.site_id ?? ''} · ${c.application_id ?? ''} · ${t('since')} ${time(c.last_hard_change)} · ${c.output}`),
      c.alert ? h('p', { class: 'warn' }, tf('held_by_alert', { s: stateLabel(c.alert) })) : null,
      a ? h('p', { class: 'ack', id: 'acknowledged' }, tf('acked_by', { by: a.by.replace(/^user:/, ''), at: time(a.at), comment: a.comment })) : null,
      h('h3', {}, t('history_24h')),
      h('p', { class: 'sentence', id: 'availability' }, up === null ? t('availability_maintenance')
        : h('span', {}, h('strong', { class: 'figure' }, pct(up)), ` ${t('availability_24h')}`)),
      historyChart(segments), chart,
      h('div', { class: 'row' }, ack,
        may('incidents:write') ? h('a', { href: `#/incidents?site=${encodeURIComponent(c.site_id || '')}&check=${encodeURIComponent(id)}` }, `+ ${t('create')} (${t('incidents').toLowerCase()})`) : null),
      h('h3', {}, t('history')),
      table([
        { label: t('since'), value: (x) => time(x.at) },
        { label: t('state'), value: (x) => h('span', {}, pill(x.from, stateLabel(x.from)), ' → ', pill(x.to, stateLabel(x.to))) },
        { label: t('output'), value: (x) => h('span', { class: 'raw' }, x.output) },
      ], c.history || [], { empty: t('no_data') }),
      h('p', {}, h('a', { href: '#/supervision' }, '← ' + t('supervision')))));
    stateChart(chart, segments);
  } catch (e) { view.replaceChildren(errorBox(e)); }
  return {};
}
