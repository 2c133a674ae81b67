// Situation: the map of every site, coloured by its rolled-up TOC state, ringed where a need is left uncovered by
// the site's organisation (docs/logistics.md); click a site for its panel (what is uncovered, with "Renforcer"
// prefilled; stock with freshness, forces, checks, open incidents). In readiness mode (`?mode=preparation`) the
// sites take the colour of their readiness instead (late, at risk, on time, ready) and the panel opens on it.
import { api, may, caller, h, table, pill, errorBox, live } from '../api.js';
import { t, tf, num, ago, time, stateLabel, today } from '../i18n.js';
import { franceMap } from '../map.js';
import { siteItems } from './stock.js';

const KINDS = {
  venues: (s) => s.kind === 'venue',
  depots: (s) => s.kind === 'depot',
  bases: (s) => ['base', 'camp'].includes(s.kind),
  others: (s) => !['venue', 'depot', 'base', 'camp'].includes(s.kind),
};

/** A site's readiness as a map state. @param {any} r */
const readinessState = (r) => (r ? `R_${String(r.state).toUpperCase()}` : undefined);

/** @param {number} p */
const percent = (p) => `${String(Math.round(p * 10) / 10).replace('.', ',')} %`;

/** @param {HTMLElement} view @param {URLSearchParams} [params] */
export async function show(view, params) {
  let mode = params?.get('mode') === 'preparation' ? 'readiness' : 'health';
  const layers = { venues: true, depots: true, bases: true, others: true, forces: true, vehicles: false, incidents: true };
  const panel = h('aside', { class: 'panel', 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('site')));
  const mapBox = h('div', {});
  const layerBox = h('div', { class: 'layers', role: 'group', 'aria-label': t('layers') });
  view.replaceChildren(h('div', { class: 'grid2' }, h('section', {}, layerBox, mapBox), panel));

  let sites = [];
  let states = new Map();
  let uncoveredAt = new Map();
  let forcesAt = new Map();
  let vehiclesAt = new Map();
  let incidentsAt = new Map();
  /** @type {Map<string, any>} */
  let readinessAt = new Map();
  const org = caller()?.organization_id;
  const load = async () => {
    const [s, st, suf, forces, inc, vehicles, rd] = await Promise.all([
      api('/api/v1/sites?limit=10000'),
      may('monitoring:read') ? api('/api/v1/monitoring/state') : null,
      may('logistics:read') ? api(`/api/v1/ask/sufficiency?all=true&on=${today()}${org ? `&org=${encodeURIComponent(org)}` : ''}`) : null,
      may('logistics:read') ? api('/api/v1/forces?limit=10000') : null,
      may('incidents:read') ? api('/api/v1/incidents') : null,
      may('logistics:read') ? api('/api/v1/vehicles?condition=serviceable&limit=10000') : null,
      may('monitoring:read') ? api('/api/v1/readiness?by=site').catch(() => null) : null,
    ]);
    readinessAt = new Map((rd?.items || []).map((/** @type {any} */ r) => [r.key, r]));
    vehiclesAt = new Map();
    for (const v of vehicles?.items || []) vehiclesAt.set(v.site_id, (vehiclesAt.get(v.site_id) || 0) + 1);
    sites = s.items;
    states = new Map((st?.sites || []).map((x) => [x.id, x.state]));
    uncoveredAt = new Map();
    for (const it of suf?.items || []) {
      for (const bs of it.by_site) {
        if (!(bs.uncovered > 0)) continue;
        if (!uncoveredAt.has(bs.site_id)) uncoveredAt.set(bs.site_id, []);
        uncoveredAt.get(bs.site_id).push({ item: it.item, name: it.item_name, unit: it.unit, uncovered: bs.uncovered, need: bs.need });
      }
    }
    forcesAt = new Map();
    for (const f of forces?.items || []) forcesAt.set(f.site_id, (forcesAt.get(f.site_id) || 0) + f.headcount);
    incidentsAt = new Map();
    for (const i of inc?.incidents || []) if (i.incident.location) incidentsAt.set(i.incident.location, i.incident);
  };
  // Size: a venue stands out; with the forces or vehicles layer, a site grows with what it holds.
  const radius = (s) => {
    if (layers.vehicles && vehiclesAt.get(s.id)) return 4 + Math.min(8, vehiclesAt.get(s.id) / 2);
    if (layers.forces && forcesAt.get(s.id)) return 4 + Math.min(6, Math.sqrt(forcesAt.get(s.id)) / 8);
    return s.kind === 'venue' ? 6 : 4;
  };
  const points = () => sites
    .filter((s) => Object.entries(KINDS).some(([k, f]) => layers[k] && f(s)))
    .map((s) => {
      const state = mode === 'readiness' ? readinessState(readinessAt.get(s.id)) : states.get(s.id);
      return {
      id: s.id, name: s.name, lat: s.lat, lon: s.lon, city: s.city, state,
      cls: state ? `f-${state}` : 'f-none',
      r: radius(s),
      uncovered: uncoveredAt.has(s.id),
      incident: layers.incidents && incidentsAt.has(s.id),
      };
    });
  try {
    await load();
  } catch (e) {
    view.replaceChildren(errorBox(e));
    return {};
  }
  const map = await franceMap({ cluster: true, points: points(),
    onPick: (p) => sitePanel(panel, p.id, sites, uncoveredAt.get(p.id) || [], readinessAt.get(p.id), mode) });
  const legend = h('div', { class: 'legend', id: 'map-legend' });
  const drawLegend = () => legend.replaceChildren(
    ...(mode === 'readiness'
      ? [...['R_LATE', 'R_AT_RISK', 'R_ON_TIME', 'R_READY'].map((s) => pill(s, stateLabel(s))), h('span', { class: 'muted small' }, t('rd_at_risk_legend'))]
      : ['OK', 'WARNING', 'CRITICAL', 'MAINTENANCE', 'UNKNOWN', 'UNREACHABLE'].map((s) => pill(s, stateLabel(s)))),
    h('span', { class: 'ring-legend' }, h('svg', { width: 18, height: 18, 'aria-hidden': 'true' },
      h('circle', { class: 'ring-sample', cx: 9, cy: 9, r: 6 })), ` ${t('ring_legend')}`), h('span', { class: 'muted small' }, 'IGN – Admin Express, Licence Ouverte 2.0'));
  drawLegend();
  mapBox.replaceChildren(map.el, legend);
  /** @param {string} m */
  const setMode = (m) => {
    mode = m;
    history.replaceState(null, '', m === 'readiness' ? '#/situation?mode=preparation' : '#/situation');
    drawLegend();
    map.update(points());
  };
  const modes = readinessAt.size ? h('span', { class: 'mode', role: 'radiogroup', 'aria-label': t('mode_readiness') },
    ['health', 'readiness'].map((m) => h('label', {}, h('input', { type: 'radio', name: 'map-mode', value: m, id: `mode-${m}`,
      checked: mode === m, onchange: () => setMode(m) }), t(`mode_${m}`)))) : null;
  layerBox.replaceChildren(...(modes ? [modes] : []), ...Object.keys(layers).map((k) =>
    h('label', {}, h('input', { type: 'checkbox', checked: layers[k], onchange: (e) => { layers[k] = e.target.checked; map.update(points()); } }), t(k))));
  // Live: a state change refreshes the colours (at most every half second).
  let pending = null;
  const stream = may('monitoring:read') ? live('/api/v1/monitoring/stream', {
    state: () => {
      if (pending) return;
      pending = setTimeout(async () => {
        pending = null;
        const st = await api('/api/v1/monitoring/state').catch(() => null);
        if (st) { states = new Map(st.sites.map((x) => [x.id, x.state])); map.update(points()); }
      }, 500);
    },
  }) : null;
  return { dispose() { stream?.close(); clearTimeout(pending); } };
}

async function sitePanel(panel, id, sites, uncovered, readiness, mode) {
  const s = sites.find((x) => x.id === id);
  panel.replaceChildren(h('h2', {}, `${s?.name ?? id} (${id})`), h('p', { class: 'muted' }, t('loading')));
  const parts = [h('h2', {}, `${s?.name ?? id}`), h('p', { class: 'muted small' }, `${id} · ${s?.kind ?? ''} · ${s?.city ?? ''} · ${s?.organization_id ?? ''}`)];
  // The site's readiness, first in readiness mode: how far, when, and its timeline a click away.
  const rd = readiness && h('p', { id: 'site-readiness', class: 'sentence' },
    pill(readinessState(readiness), stateLabel(readinessState(readiness))), ' ',
    tf('rd_map_line', { pct: percent(readiness.percent), state: readiness.ready ? tf('rd_ready_by', { at: time(readiness.ready) }) : stateLabel('R_READY') }),
    readiness.deadline ? ` (${t('rd_deadline').toLowerCase()} ${time(readiness.deadline)})` : '', ' · ',
    h('a', { href: `#/preparation?site=${encodeURIComponent(id)}` }, t('rd_open_timeline')));
  if (rd && mode === 'readiness') parts.push(rd);
  try {
    if (may('logistics:read')) {
      // The answer first: what this site's organisation cannot cover here, and the way to act on it.
      parts.push(h('h3', {}, t('uncovered_need')));
      if (uncovered.length) {
        parts.push(h('ul', { class: 'uncovered', id: 'uncovered' }, uncovered.map((u) =>
          h('li', {}, h('strong', {}, num(u.uncovered)), ` ${u.unit} — ${u.name} (${t('need')} ${num(u.need)})`))));
        if (may('logistics:write')) {
          const need = uncovered.map((u) => `${u.item}=${Math.ceil(u.uncovered)}`).join(',');
          parts.push(h('p', {}, h('a', { class: 'button primary', id: 'reinforce-site',
            href: `#/logistique?tab=reinforce&site=${encodeURIComponent(id)}&need=${encodeURIComponent(need)}` }, t('reinforce_this'))));
        }
      } else {
        parts.push(h('p', { class: 'good' }, t('all_covered_here')));
      }
      parts.push(h('h3', {}, t('stock')), await siteItems(id, { compact: true }));
      const stock = await api(`/api/v1/stock?site_id=${encodeURIComponent(id)}&limit=1000`);
      parts.push(h('h3', {}, t('counted_lots')), table([
        { label: t('item'), value: (l) => l.item_id },
        { label: t('quantity'), num: true, value: (l) => num(l.quantity) },
        { label: t('state'), value: (l) => t(`cond_${l.condition}`) },
        { label: t('lot'), value: (l) => l.lot },
        { label: t('freshness'), value: (l) => h('span', { title: time(l.counted_at) }, ago(l.counted_at)) },
      ], stock.items, { empty: t('no_data') }));
      const forces = await api(`/api/v1/forces?site_id=${encodeURIComponent(id)}&limit=100`);
      parts.push(h('h3', {}, t('forces')), table([
        { label: t('forces'), value: (f) => f.name },
        { label: t('headcount'), num: true, value: (f) => num(f.headcount) },
        { label: t('organisation'), value: (f) => f.organization_id },
      ], forces.items, { empty: t('no_data') }));
    }
    if (may('monitoring:read')) {
      const checks = await api(`/api/v1/monitoring/checks?site=${encodeURIComponent(id)}&state=WARNING,CRITICAL,UNKNOWN,UNREACHABLE,MAINTENANCE&limit=20`);
      parts.push(h('h3', {}, `${t('checks')} (${checks.total})`), table([
        { label: t('checks'), value: (c) => c.id },
        { label: t('state'), value: (c) => pill(c.shown, stateLabel(c.shown)) },
        { label: t('output'), value: (c) => h('span', { class: 'raw' }, c.output) },
      ], checks.checks, { empty: t('ok') }));
    }
    if (may('incidents:read')) {
      const inc = await api('/api/v1/incidents');
      const here = inc.incidents.filter((i) => i.incident.location === id);
      parts.push(h('h3', {}, t('open_incidents')), table([
        { label: t('number'), value: (i) => h('a', { href: `#/incidents?id=${i.incident.number}` }, i.incident.number) },
        { label: t('priority'), value: (i) => `P${i.incident.priority}` },
        { label: t('description'), value: (i) => i.incident.short_description },
      ], here, { empty: t('no_data') }));
      if (may('incidents:write')) parts.push(h('p', {}, h('a', { href: `#/incidents?site=${encodeURIComponent(id)}` }, `+ ${t('create')} (${id})`)));
    }
  } catch (e) {
    parts.push(errorBox(e));
  }
  if (rd && mode !== 'readiness') parts.push(h('h3', {}, t('preparation')), rd);
  panel.replaceChildren(...parts);
}
