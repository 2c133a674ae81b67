// Logistique: the four questions as forms, answers as tables, on the map and as bars; "Engager" commits a plan;
// plans with their steps; the shift of effort with its dry run; what-if scenarios.
import { api, may, h, table, errorBox, toast } from '../api.js';
import { t, num, pct, minutes, today, time } from '../i18n.js';
import { franceMap } from '../map.js';

const TABS = ['sufficiency', 'locate', 'reinforce', 'deploy', 'plans', 'shift', 'whatif'];

export async function show(view, params) {
  const active = TABS.includes(params.get('tab')) ? params.get('tab') : 'sufficiency';
  const body = h('div', {});
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, TABS.map((id) =>
    h('button', { role: 'tab', 'aria-selected': String(id === active), id: `tab-${id}`,
      onclick: () => { location.hash = `#/logistique?tab=${id}`; } }, t(id))));
  view.replaceChildren(tabs, body);
  const items = (await api('/api/v1/items?limit=1000')).items;
  await ({ sufficiency, locate, reinforce, deploy, plans, shift, whatif })[active](body, items, params);
  return {};
}

const field = (label, input) => h('label', {}, label, input);
const itemSelect = (items, { all = false, name = 'item' } = {}) => h('select', { name },
  all ? h('option', { value: '' }, t('all_items')) : null,
  items.map((i) => h('option', { value: i.id }, `${i.name} (${i.id})`)));

function form(onsubmit, ...fields) {
  const out = h('div', { class: 'answer' });
  const f = h('form', { class: 'row panel', onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    try { await onsubmit(new FormData(f), out); } catch (err) { out.replaceChildren(errorBox(err)); }
  } }, ...fields, h('button', { class: 'primary', type: 'submit' }, t('ask')));
  return [f, out];
}

function coverageBars(rows) {
  return h('div', { class: 'bars', 'aria-label': t('coverage') }, rows.map((r) => {
    const c = r.coverage ?? 1;
    return h('div', { class: 'bar' }, h('span', {}, r.label),
      h('div', { class: 'track' }, h('div', { class: `fill${c < 0.5 ? ' low' : c < 1 ? ' mid' : ''}`, 'data-w': c })),
      h('span', { class: 'num' }, pct(r.coverage)));
  }));
}

/** Widths from data-w (CSSOM, allowed by the page's content security policy). */
function sizeBars(root) {
  for (const el of root.querySelectorAll('[data-w]')) el.style.width = `${Math.min(100, Number(el.dataset.w) * 100)}%`;
}

const figureColumns = (label) => [
  { label, value: (r) => r.label },
  { label: t('need'), num: true, value: (r) => num(r.need) },
  { label: t('serviceable'), num: true, value: (r) => num(r.serviceable) },
  { label: t('reserved'), num: true, value: (r) => num(r.reserved) },
  { label: t('in_transit'), num: true, value: (r) => num(r.in_transit) },
  { label: t('available'), num: true, value: (r) => num(r.available) },
  { label: t('shortfall'), num: true, value: (r) => num(r.shortfall), cls: (r) => (r.shortfall > 0 ? 'bad' : 'good') },
  { label: t('coverage'), num: true, value: (r) => pct(r.coverage) },
];

async function sufficiency(body, items) {
  const [f, out] = form(async (d, out) => {
    const item = d.get('item');
    const q = `on=${d.get('on')}&days=${d.get('days')}`;
    if (!item) {
      const all = await api(`/api/v1/ask/sufficiency?all=true&${q}`);
      const rows = all.items.map((s) => ({ ...s, label: `${s.item_name} (${s.item})` }));
      out.replaceChildren(h('div', { class: 'panel' }, table(figureColumns(t('item')), rows)));
      return;
    }
    const s = await api(`/api/v1/ask/sufficiency?item=${encodeURIComponent(item)}&${q}`);
    const orgs = s.by_organization.map((o) => ({ ...o, label: o.name || o.organization_id }));
    const sites = s.by_site.map((o) => ({ ...o, label: `${o.name} (${o.site_id})` }));
    out.replaceChildren(h('div', { class: 'panel', id: 'sufficiency-answer' },
      h('h2', {}, `${s.item_name} — ${t('shortfall')} : `, h('span', { class: s.shortfall > 0 ? 'bad' : 'good', id: 'shortfall' }, num(s.shortfall)),
        ` ${s.unit}`),
      h('p', { class: 'muted' }, `${t('need')} ${num(s.need)} · ${t('serviceable')} ${num(s.serviceable)} · ${t('available')} ${num(s.available)} · ${t('coverage')} ${pct(s.coverage)} · ${num(s.headcount)} ${t('persons')}`),
      h('h3', {}, t('coverage')), coverageBars(orgs),
      h('h3', {}, t('organisation')), table(figureColumns(t('organisation')), orgs),
      h('h3', {}, t('sites')), table(figureColumns(t('site')), sites)));
    sizeBars(out);
  }, field(t('item'), itemSelect(items, { all: true })), field(t('on'), h('input', { name: 'on', type: 'date', value: today() })),
  field(t('days'), h('input', { name: 'days', type: 'number', min: 1, value: 1 })));
  body.replaceChildren(f, out);
}

async function locate(body, items) {
  const [f, out] = form(async (d, out) => {
    const picked = [...f.querySelector('select').selectedOptions].map((o) => o.value).join(',');
    const hc = d.get('headcount') ? `&headcount=${d.get('headcount')}` : '';
    const r = await api(`/api/v1/ask/locate?item=${encodeURIComponent(picked)}&near=${encodeURIComponent(d.get('near'))}${hc}`);
    out.replaceChildren(h('div', { class: 'panel' },
      h('h2', {}, `${t('near')} ${r.near}`),
      r.autonomy_days_min != null ? h('p', {}, `${num(r.autonomy_days_min, 1)} ${t('days')}`) : null,
      table([
        { label: t('site'), value: (s) => `${s.name} (${s.site_id})` },
        { label: 'km', num: true, value: (s) => num(s.distance_km) },
        { label: t('eta'), num: true, value: (s) => minutes(s.eta_min) },
        ...r.items.map((i) => ({ label: i, num: true, value: (s) => num(s.available[i] ?? 0) })),
      ], r.sites, { empty: t('no_data') })));
  }, field(t('item'), h('select', { name: 'items', multiple: true, size: 4 }, items.map((i) => h('option', { value: i.id }, i.name)))),
  field(t('near'), h('input', { name: 'near', required: true, placeholder: 'VIL-OLY, Nantes, 48.85,2.35' })),
  field(t('headcount'), h('input', { name: 'headcount', type: 'number', min: 1 })));
  body.replaceChildren(f, out);
}

function commitButton(plan, done) {
  if (!plan || !may('logistics:write')) return null;
  return h('button', { class: 'primary', id: 'commit', onclick: async (e) => {
    e.target.disabled = true;
    try {
      const r = await api('/api/v1/plans', { method: 'POST', body: plan });
      toast(`${t('committed')} ${r.id}`);
      done(r);
    } catch (err) { e.target.disabled = false; toast(err.message); }
  } }, t('commit'));
}

async function reinforce(body) {
  const [f, out] = form(async (d, out) => {
    const r = await api(`/api/v1/ask/reinforce?site=${encodeURIComponent(d.get('site'))}&need=${encodeURIComponent(d.get('need'))}`);
    const result = h('p', { role: 'status' });
    const sites = (await api('/api/v1/sites?limit=10000')).items;
    const pos = new Map(sites.map((s) => [s.id, [s.lat, s.lon]]));
    const dest = pos.get(r.site_id);
    const from = [...new Set(r.loads.map((l) => l.from))].filter((s) => pos.has(s));
    const map = await franceMap({
      points: [...from.map((s) => ({ id: s, name: s, lat: pos.get(s)[0], lon: pos.get(s)[1], cls: 'f-OK' })),
        ...(dest ? [{ id: r.site_id, name: r.site_id, lat: dest[0], lon: dest[1], cls: 'f-CRITICAL', r: 8 }] : [])],
      lines: dest ? from.map((s) => ({ from: pos.get(s), to: dest })) : [],
    });
    out.replaceChildren(h('div', { class: 'grid-half' }, h('div', { class: 'panel' },
      h('h2', {}, `${t('reinforce')} ${r.site_id} — ${t('eta')} ${minutes(r.eta_min)}`),
      Object.keys(r.unmet).length ? h('p', { class: 'bad' }, `${t('unmet')} : ${Object.entries(r.unmet).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`) : null,
      table([
        { label: t('vehicles'), value: (l) => l.vehicle_id },
        { label: t('from'), value: (l) => l.from },
        { label: t('movements'), value: (l) => Object.entries(l.items).map(([k, v]) => `${k} ${num(v)}`).join(', ') },
        { label: 'kg', num: true, value: (l) => `${num(l.mass_kg)} / ${num(l.payload_kg)}` },
        { label: t('eta'), num: true, value: (l) => minutes(l.eta_min) },
      ], r.loads, { empty: t('no_data') }),
      h('div', { class: 'row' }, commitButton(r.proposed_plan, (p) => result.replaceChildren(`${t('committed')} ${p.id}`)), result)),
      h('div', {}, map.el)));
  }, field(t('site'), h('input', { name: 'site', required: true, placeholder: 'VIL-OLY' })),
  field(t('need_list'), h('input', { name: 'need', required: true, placeholder: 'TENTE-10=40,FRIGO=10' })));
  body.replaceChildren(f, out);
}

async function deploy(body) {
  const [f, out] = form(async (d, out) => {
    const q = new URLSearchParams({ from: d.get('from'), to: d.get('to'), headcount: d.get('headcount'), days: d.get('days') });
    const r = await api(`/api/v1/ask/deploy?${q}`);
    const sites = (await api('/api/v1/sites?limit=10000')).items;
    const pos = new Map(sites.map((s) => [s.id, [s.lat, s.lon]]));
    const lines = r.legs.filter((l) => pos.has(l.site_id)).map((l) => ({ from: pos.get(l.site_id), to: [r.to.lat, r.to.lon] }));
    const pts = [
      { id: 'from', name: r.from.label, lat: r.from.lat, lon: r.from.lon, cls: 'f-WARNING', r: 7 },
      { id: 'to', name: r.to.label, lat: r.to.lat, lon: r.to.lon, cls: 'f-CRITICAL', r: 8 },
      ...r.legs.filter((l) => pos.has(l.site_id)).map((l) => ({ id: l.site_id, name: l.site_id, lat: pos.get(l.site_id)[0], lon: pos.get(l.site_id)[1], cls: 'f-OK' })),
    ];
    const map = await franceMap({ points: pts, lines });
    const result = h('p', { role: 'status', id: 'commit-result' });
    const short = r.shortfall.persons > 0 || Object.keys(r.shortfall.items).length > 0;
    out.replaceChildren(h('div', { class: 'grid-half' },
      h('div', { class: 'panel', id: 'deploy-answer' },
        h('h2', {}, `${r.from.label} → ${r.to.label} : ${num(r.headcount)} ${t('persons')}, ${t('eta')} `, h('span', { id: 'eta' }, minutes(r.eta_min))),
        h('p', { class: 'muted' }, `${num(r.vehicle_km)} ${t('vehicle_km')} · ${r.optimal ? 'optimal' : r.eta_optimal ? t('eta_optimal') : ''} · ${r.eta_basis}`),
        short ? h('p', { class: 'bad' }, `${t('shortfall')} : ${r.shortfall.persons} ${t('persons')} ${Object.entries(r.shortfall.items).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`) : null,
        h('h3', {}, t('movements')),
        table([
          { label: t('vehicles'), value: (l) => `${l.vehicle_id} (${l.kind})` },
          { label: t('from'), value: (l) => l.site_id },
          { label: t('kind'), value: (l) => l.role },
          { label: t('headcount'), num: true, value: (l) => num(l.persons) },
          { label: t('movements'), value: (l) => Object.entries(l.items).map(([k, v]) => `${k} ${num(v)}`).join(', ') },
          { label: 'km', num: true, value: (l) => num(l.km) },
          { label: t('eta'), num: true, value: (l) => minutes(l.eta_min) },
        ], r.legs),
        h('div', { class: 'row' }, r.proposed_plan ? h('span', { class: 'muted' }, t('plan_ready')) : null,
          commitButton(r.proposed_plan, (p) => result.replaceChildren(`${t('committed')} ${p.id}`)), result)),
      h('div', {}, map.el)));
  }, field(t('from'), h('input', { name: 'from', required: true, value: 'Le Mans' })),
  field(t('to'), h('input', { name: 'to', required: true, value: 'NAN' })),
  field(t('headcount'), h('input', { name: 'headcount', type: 'number', min: 1, value: 300 })),
  field(t('days'), h('input', { name: 'days', type: 'number', min: 1, value: 3 })));
  body.replaceChildren(f, out);
}

async function plans(body) {
  const draw = async () => {
    const r = await api('/api/v1/plans');
    const step = (p, action) => h('button', { onclick: async () => {
      try { await api(`/api/v1/plans/${p.id}/${action}`, { method: 'POST' }); toast(`${p.id} : ${t(action)}`); draw(); } catch (e) { toast(e.message); }
    } }, t(action));
    body.replaceChildren(h('div', { class: 'panel', id: 'plans' }, table([
      { label: 'Plan', value: (p) => p.id },
      { label: t('status'), value: (p) => p.status },
      { label: t('destination'), value: (p) => p.destination },
      { label: t('movements'), num: true, value: (p) => num(p.movements.length) },
      { label: t('purpose'), value: (p) => p.purpose },
      { label: t('since'), value: (p) => time(p.committed_at) },
      { label: '', value: (p) => h('span', { class: 'row' },
        p.status === 'committed' && may('logistics:write') ? [step(p, 'ship'), step(p, 'cancel')] : null,
        p.status === 'shipped' && may('logistics:write') ? step(p, 'receive') : null) },
    ], r.items.slice().reverse(), { empty: t('no_data') })));
  };
  await draw();
}

async function shift(body) {
  const orgs = (await api('/api/v1/organizations?limit=1000')).items;
  const sel = (name) => h('select', { name }, orgs.map((o) => h('option', { value: o.id }, o.name)));
  const out = h('div', {});
  const run = async (dry) => {
    const d = new FormData(f);
    const r = await api('/api/v1/shift', { method: 'POST', body: { from: d.get('from'), to: d.get('to'), reason: d.get('reason'), dry_run: dry } });
    out.replaceChildren(h('div', { class: 'panel' },
      h('h2', {}, `${r.shift.from} → ${r.shift.to} : ${r.shift.sites.length} ${t('sites')}${dry ? ` (${t('dry_run')})` : ''}`),
      table([
        { label: t('organisation'), value: (x) => x.org },
        { label: t('item'), value: (x) => x.item },
        { label: `${t('coverage')} ${t('before')}`, num: true, value: (x) => pct(x.before.coverage) },
        { label: `${t('coverage')} ${t('after')}`, num: true, value: (x) => pct(x.after.coverage) },
        { label: `${t('shortfall')} ${t('after')}`, num: true, value: (x) => num(x.after.shortfall), cls: (x) => (x.after.shortfall > 0 ? 'bad' : '') },
      ], r.effect.flatMap((o) => o.items.map((i) => ({ ...i, org: o.organization_id })))),
      dry && may('logistics:shift') ? h('button', { class: 'danger', onclick: () => run(false).catch((e) => out.append(errorBox(e))) }, t('apply')) : null));
  };
  const f = h('form', { class: 'row panel', onsubmit: (e) => { e.preventDefault(); run(true).catch((err) => out.replaceChildren(errorBox(err))); } },
    field(t('from'), sel('from')), field(t('to'), sel('to')), field(t('reason'), h('input', { name: 'reason' })),
    h('button', { class: 'primary', type: 'submit' }, t('dry_run')));
  body.replaceChildren(f, out);
}

async function whatif(body) {
  const example = JSON.stringify({ scenario: { name: 'perte du dépôt', changes: [{ lose_site: { site: 'DEP-VINCENNES' } }] } }, null, 2);
  const text = h('textarea', { rows: 8, cols: 70, name: 'scenario' }, example);
  const out = h('div', {});
  const f = h('form', { class: 'panel', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api(`/api/v1/ask/sufficiency?all=true&on=${today()}`, { method: 'POST', body: JSON.parse(text.value) });
      out.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, `${t('whatif')} « ${r.what_if?.name ?? ''} »`),
        table(figureColumns(t('item')), r.items.map((s) => ({ ...s, label: s.item_name })))));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  } }, h('label', {}, t('scenario'), text), h('button', { class: 'primary', type: 'submit' }, t('ask')));
  body.replaceChildren(f, out);
}
