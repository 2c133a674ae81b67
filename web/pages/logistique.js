// Logistique: the four questions as forms, answers as tables, on the map and as bars; "Engager" commits a plan;
// plans with their steps; the shift of effort with its dry run; what-if scenarios.
import { api, may, caller, h, table, errorBox, toast } from '../api.js';
import { t, tf, num, pct, minutes, arrival, today, time, etaBasis } from '../i18n.js';
import { franceMap } from '../map.js';

const TABS = ['sufficiency', 'locate', 'reinforce', 'deploy', 'plans', 'shift', 'whatif'];

/** The tabs a role may use: the shift of effort is the strategic centre's. */
const allowed = (id) => (id === 'shift' ? may('logistics:shift') : true);

export async function show(view, params) {
  const asked = params.get('tab') || 'sufficiency';
  const active = TABS.includes(asked) ? asked : 'sufficiency';
  const body = h('div', {});
  const mine = TABS.filter(allowed);
  const go = (id) => { location.hash = `#/logistique?tab=${id}`; };
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('logistique') }, mine.map((id, i) =>
    h('button', { role: 'tab', 'aria-selected': String(id === active), id: `tab-${id}`, tabindex: id === active ? 0 : -1,
      onclick: () => go(id),
      // Arrow keys move between tabs, as a tab list should.
      onkeydown: (e) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
        if (step) go(mine[(i + step + mine.length) % mine.length]);
      } }, t(id))));
  view.replaceChildren(tabs, body);
  if (!allowed(active)) {
    body.replaceChildren(h('div', { class: 'panel', role: 'alert', id: 'refused' }, h('h2', {}, t('forbidden')), h('p', {}, t('forbidden_page'))));
    return {};
  }
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
  { label: t('available'), num: true, value: (r) => num(r.available) },
  { label: t('incoming'), num: true, value: (r) => num(r.incoming) },
  { label: t('shortfall'), num: true, value: (r) => num(r.shortfall), cls: (r) => (r.shortfall > 0 ? 'bad' : 'good') },
  { label: t('coverage'), num: true, value: (r) => pct(r.coverage) },
];

/** The answer in words, figure first: what is short (or that the need is covered), the unit and allowance, and how
 * organisations net out in the total. */
function sufficiencySentence(s) {
  const supply = s.available + s.incoming;
  const head = s.shortfall > 0
    ? h('h2', {}, h('span', { class: 'figure bad', id: 'shortfall' }, num(s.shortfall)), ` ${t('suf_short')} — ${s.item_name}`)
    : h('h2', {}, h('span', { class: 'figure good', id: 'shortfall' }, t('suf_covered')), ` — ${s.item_name}`);
  const list = (rows, f) => rows.map((o) => `${o.name || o.organization_id} ${num(f(o))}`).join(', ');
  const short = s.by_organization.filter((o) => o.shortfall > 0);
  const spare = s.by_organization.filter((o) => o.surplus > 0);
  const nets = short.length && spare.length;
  const ringed = s.by_site.filter((x) => x.uncovered > 0).length;
  return [head,
    h('p', { class: 'sentence' }, tf('suf_detail', { unit: s.unit, per: num(s.per_person), persons: num(s.headcount),
      need: num(s.need), supply: num(supply), pct: pct(s.coverage) })),
    nets ? h('p', { class: 'sentence', id: 'netting' }, tf('suf_net', {
      short: tf('suf_net_short', { list: list(short, (o) => o.shortfall) }),
      surplus: tf('suf_net_surplus', { list: list(spare, (o) => o.surplus) }) })) : null,
    ringed ? h('p', { class: 'sentence' }, tf('suf_sites', { n: num(ringed) })) : null];
}

async function sufficiency(body, items) {
  const [f, out] = form(async (d, out) => {
    const item = d.get('item');
    // A tactical group's figures are its own organisation's (and its children's).
    const org = caller()?.organization_id;
    const q = `on=${d.get('on')}&days=${d.get('days')}${org ? `&org=${encodeURIComponent(org)}` : ''}`;
    if (!item) {
      const all = await api(`/api/v1/ask/sufficiency?all=true&${q}`);
      const rows = all.items.map((s) => ({ ...s, label: `${s.item_name} (${s.item})` }));
      out.replaceChildren(h('div', { class: 'panel' }, table(figureColumns(t('item')), rows)));
      return;
    }
    const s = await api(`/api/v1/ask/sufficiency?item=${encodeURIComponent(item)}&${q}`);
    const orgs = s.by_organization.map((o) => ({ ...o, label: o.name || o.organization_id }));
    // Sites with a need, stock or something on its way; most uncovered first (the server's order).
    const sites = s.by_site.filter((o) => o.need > 0 || o.on_hand > 0 || o.incoming > 0)
      .map((o) => ({ ...o, label: `${o.name} (${o.site_id})` }));
    out.replaceChildren(h('div', { class: 'panel', id: 'sufficiency-answer' },
      ...sufficiencySentence(s),
      h('h3', {}, t('coverage')), coverageBars(orgs),
      h('h3', {}, t('organisation')), table(figureColumns(t('organisation')), orgs),
      // A site's own shortfall is red only when its organisation cannot cover it (uncovered).
      h('h3', {}, t('sites')), table([...figureColumns(t('site')).map((c) => (c.label === t('shortfall')
        ? { ...c, cls: (r) => (r.uncovered > 0 ? 'bad' : r.shortfall > 0 ? 'muted' : 'good') } : c)),
      { label: t('uncovered'), num: true, value: (r) => num(r.uncovered), cls: (r) => (r.uncovered > 0 ? 'ring' : '') }], sites)));
    sizeBars(out);
  }, field(t('item'), itemSelect(items, { all: true })), field(t('on'), h('input', { name: 'on', type: 'date', value: today() })),
  field(t('days'), h('input', { name: 'days', type: 'number', min: 1, value: 1 })));
  body.replaceChildren(f, out);
}

async function locate(body, items) {
  const [f, out] = form(async (d, out) => {
    const picked = [...f.querySelector('select').selectedOptions].map((o) => o.value).join(',');
    const hc = d.get('headcount') ? `&headcount=${d.get('headcount')}` : '';
    const horizon = d.get('horizon') ? `&within_min=${d.get('horizon')}` : '';
    const r = await api(`/api/v1/ask/locate?item=${encodeURIComponent(picked)}&near=${encodeURIComponent(d.get('near'))}${hc}${horizon}`);
    const name = (id) => items.find((i) => i.id === id)?.name || id;
    const within = d.get('horizon') ? tf('within_h', { h: minutes(Number(d.get('horizon'))) }) : t('within_all');
    // The answer in words: days of autonomy per item and the item that limits them; else what is there.
    const days = Object.entries(r.autonomy_days || {}).filter(([, v]) => v !== null);
    const limiting = days.length ? days.reduce((a, b) => (b[1] < a[1] ? b : a)) : null;
    const sentence = limiting
      ? h('h2', {}, h('span', { class: 'figure', id: 'autonomy' }, `${num(limiting[1], 1)} ${t('days_word')}`),
        ` ${tf('autonomy_for', { n: num(d.get('headcount')), item: name(limiting[0]), within })}`)
      : h('h2', {}, h('span', { class: 'figure', id: 'autonomy' }, num(r.sites.length)), ` ${tf('sources_within', { within, near: r.near })}`);
    const perItem = h('ul', { class: 'summary', id: 'per-item' }, r.items.map((i) => h('li', {},
      h('strong', {}, name(i)), ` : ${num(r.totals[i] ?? 0)} ${t('available').toLowerCase()}`,
      r.autonomy_days?.[i] != null ? ` — ${num(r.autonomy_days[i], 1)} ${t('days_word')}` : '')));
    const here = [r.lat, r.lon];
    const map = await franceMap({
      points: [{ id: 'near', name: r.near, lat: r.lat, lon: r.lon, cls: 'f-none', r: 8 },
        ...r.sites.map((s) => ({ id: s.site_id, name: `${s.name} — ${minutes(s.eta_min)}`, lat: s.lat, lon: s.lon, cls: 'f-OK' }))],
      // Each source's label gives its travel time.
      lines: r.sites.map((s) => ({ from: [s.lat, s.lon], to: here })),
    });
    out.replaceChildren(h('div', { class: 'grid-half' }, h('div', { class: 'panel', id: 'locate-answer' },
      sentence, h('p', { class: 'muted' }, `${t('near')} ${r.near}`), perItem,
      table([
        { label: t('site'), value: (s) => `${s.name} (${s.site_id})` },
        { label: 'km', num: true, value: (s) => num(s.distance_km, 0) },
        { label: t('travel'), num: true, value: (s) => minutes(s.eta_min) },
        ...r.items.map((i) => ({ label: i, num: true, value: (s) => num(s.available[i] ?? 0) })),
      ], r.sites, { empty: t('no_data') })), h('div', {}, map.el)));
  }, field(t('item'), h('select', { name: 'items', multiple: true, size: 4 }, items.map((i) => h('option', { value: i.id }, i.name)))),
  field(t('near'), h('input', { name: 'near', required: true, placeholder: 'VIL-OLY, Nantes, 48.85,2.35' })),
  field(t('headcount'), h('input', { name: 'headcount', type: 'number', min: 1 })),
  field(t('horizon'), h('select', { name: 'horizon' }, h('option', { value: '60' }, t('within_1h')),
    h('option', { value: '180' }, t('within_3h')), h('option', { value: '' }, t('within_all')))));
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

async function reinforce(body, items, params) {
  const [f, out] = form(async (d, out) => {
    const r = await api(`/api/v1/ask/reinforce?site=${encodeURIComponent(d.get('site'))}&need=${encodeURIComponent(d.get('need'))}`);
    const result = h('p', { role: 'status', id: 'commit-result' });
    const sites = (await api('/api/v1/sites?limit=10000')).items;
    const pos = new Map(sites.map((s) => [s.id, [s.lat, s.lon]]));
    const dest = pos.get(r.site_id);
    const from = [...new Set(r.loads.map((l) => l.from))].filter((s) => pos.has(s));
    const map = await franceMap({
      points: [...from.map((s) => ({ id: s, name: s, lat: pos.get(s)[0], lon: pos.get(s)[1], cls: 'f-OK' })),
        ...(dest ? [{ id: r.site_id, name: r.site_id, lat: dest[0], lon: dest[1], cls: 'f-CRITICAL', r: 8 }] : [])],
      // Each origin's leg says what it brings and how long it takes.
      lines: dest ? from.map((s) => {
        const loads = r.loads.filter((l) => l.from === s);
        const items = new Map();
        for (const l of loads) for (const [k, v] of Object.entries(l.items)) items.set(k, (items.get(k) || 0) + v);
        return { from: pos.get(s), to: dest, label: `${s} : ${[...items].map(([k, v]) => `${k} ${num(v)}`).join(', ')} — ${minutes(Math.max(...loads.map((l) => l.eta_min)))}` };
      }) : [],
    });
    out.replaceChildren(h('div', { class: 'grid-half' }, h('div', { class: 'panel' },
      h('h2', {}, `${t('reinforce')} ${r.site_id} — ${t('eta')} ${arrival(r.eta_min)}`),
      (() => {
        const unmet = Object.entries(r.unmet).filter(([, v]) => v > 0);
        return unmet.length
          ? h('p', { class: 'bad', id: 'unmet' }, `${t('unmet')} : ${unmet.map(([k, v]) => `${k} ${num(v)}`).join(', ')}`)
          : h('p', { class: 'good', id: 'unmet' }, t('covered_all'));
      })(),
      table([
        { label: t('vehicles'), value: (l) => l.vehicle_id },
        { label: t('from'), value: (l) => l.from },
        { label: t('movements'), value: (l) => Object.entries(l.items).map(([k, v]) => `${k} ${num(v)}`).join(', ') },
        { label: 'kg', num: true, value: (l) => `${num(l.mass_kg, 0)} / ${num(l.payload_kg, 0)}` },
        { label: t('travel'), num: true, value: (l) => minutes(l.eta_min) },
      ], r.loads, { empty: t('no_data') }),
      h('div', { class: 'row' }, commitButton(r.proposed_plan, (p) => result.replaceChildren(`${t('committed')} ${p.id}`)), result)),
      h('div', {}, map.el)));
  }, field(t('site'), h('input', { name: 'site', required: true, placeholder: 'VIL-OLY', value: params?.get('site') || '' })),
  field(t('need_list'), h('input', { name: 'need', required: true, placeholder: 'TENTE-10=40,FRIGO=10', value: params?.get('need') || '' })));
  body.replaceChildren(f, out);
  // Prefilled from a site's panel ("Renforcer ce site"): answer at once.
  if (params?.get('site') && params?.get('need')) f.requestSubmit();
}

async function deploy(body) {
  const [f, out] = form(async (d, out) => {
    const q = new URLSearchParams({ from: d.get('from'), to: d.get('to'), headcount: d.get('headcount'), days: d.get('days') });
    const r = await api(`/api/v1/ask/deploy?${q}`);
    const sites = (await api('/api/v1/sites?limit=10000')).items;
    /** @type {Map<string, [number, number]>} */
    const pos = new Map(sites.map((s) => [s.id, [s.lat, s.lon]]));
    // Legs: a vehicle carrying persons drives to the departure zone first (pick-up), then to the destination.
    /** @type {[number, number]} */
    const pickup = [r.from.lat, r.from.lon];
    /** @type {[number, number]} */
    const dest = [r.to.lat, r.to.lon];
    // One labelled leg per origin and kind of trip (not one per vehicle): "BASE-X : 6 bus", the pick-up apart.
    const trips = new Map();
    for (const l of r.legs.filter((x) => pos.has(x.site_id))) {
      const key = `${l.site_id}|${l.role === 'persons' ? 'pickup' : 'direct'}`;
      const trip = trips.get(key) || { site: l.site_id, pickup: l.role === 'persons', kinds: new Map() };
      trip.kinds.set(l.kind, (trip.kinds.get(l.kind) || 0) + 1);
      trips.set(key, trip);
    }
    const label = (tr) => `${tr.site} : ${[...tr.kinds].map(([k, n]) => `${n} ${vehicleKind(k)}`).join(', ')}`;
    /** @type {import('../map.js').Line[]} */
    const lines = [...trips.values()].flatMap((tr) => (tr.pickup
      ? [{ from: pos.get(tr.site), to: pickup, kind: 'pickup', label: `${label(tr)} → ${t('pickup').toLowerCase()} ${place(r.from.label)}` }]
      : [{ from: pos.get(tr.site), to: dest, label: label(tr) }]));
    if ([...trips.values()].some((tr) => tr.pickup)) lines.push({ from: pickup, to: dest, label: `${num(r.headcount)} ${t('persons')} → ${place(r.to.label)}` });
    const pts = [
      { id: 'from', name: `${t('pickup')} : ${place(r.from.label)}`, lat: r.from.lat, lon: r.from.lon, cls: 'f-none', r: 7 },
      { id: 'to', name: r.to.label, lat: r.to.lat, lon: r.to.lon, cls: 'f-none', r: 9 },
      ...[...new Set(r.legs.map((l) => l.site_id))].filter((s) => pos.has(s)).map((s) => ({ id: s, name: s, lat: pos.get(s)[0], lon: pos.get(s)[1], cls: 'f-none' })),
    ];
    const map = await franceMap({ points: pts, lines });
    const result = h('p', { role: 'status', id: 'commit-result' });
    const short = r.shortfall.persons > 0 || Object.keys(r.shortfall.items).length > 0;
    out.replaceChildren(h('div', { class: 'grid-half' },
      h('div', { class: 'panel', id: 'deploy-answer' },
        h('h2', {}, `${r.from.label} → ${r.to.label} : ${num(r.headcount)} ${t('persons')}, ${t('eta')} `, h('span', { id: 'eta' }, arrival(r.eta_min))),
        h('p', { class: 'muted' }, `${num(r.vehicle_km, 0)} ${t('vehicle_km')} · ${r.optimal ? 'optimal' : r.eta_optimal ? t('eta_optimal') : ''} · ${etaBasis(r.eta_basis)}`),
        short ? h('p', { class: 'bad' }, `${t('shortfall')} : ${r.shortfall.persons} ${t('persons')} ${Object.entries(r.shortfall.items).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`) : null,
        h('h3', {}, t('by_origin')), deploySummary(r),
        h('h3', {}, t('vehicles')),
        table([
          { label: t('vehicles'), value: (l) => `${l.vehicle_id} (${vehicleKind(l.kind)})` },
          { label: t('from'), value: (l) => l.site_id },
          { label: t('kind'), value: (l) => t(`role_${l.role}`) },
          { label: t('headcount'), num: true, value: (l) => num(l.persons) },
          { label: t('movements'), value: (l) => Object.entries(l.items).map(([k, v]) => `${k} ${num(v)}`).join(', ') },
          { label: 'km', num: true, value: (l) => num(l.km, 0) },
          { label: t('travel'), num: true, value: (l) => minutes(l.eta_min) },
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

/** A place's name without what follows it in brackets ("Le Mans (72, INSEE 72181, …)" → "Le Mans"), for a map label. */
const place = (label) => String(label).replace(/\s*\(.*$/, '');

/** A vehicle kind in words (the registry's own word when it is not a known kind). */
const vehicleKind = (k) => (t(`vk_${k}`) === `vk_${k}` ? k : t(`vk_${k}`));

/** Who moves what, by origin: "DEP-X : 3 camions apportent … ; arrivée 17:12", "BASE-Y : 6 bus prennent 300
 * personnes à Le Mans …". */
function deploySummary(r) {
  const by = new Map();
  for (const l of r.legs) {
    const o = by.get(l.site_id) || { kinds: new Map(), persons: 0, items: new Map(), eta: 0 };
    o.kinds.set(l.kind, (o.kinds.get(l.kind) || 0) + 1);
    o.persons += l.persons;
    for (const [k, v] of Object.entries(l.items)) o.items.set(k, (o.items.get(k) || 0) + v);
    o.eta = Math.max(o.eta, l.eta_min);
    by.set(l.site_id, o);
  }
  return h('ul', { class: 'summary', id: 'deploy-summary' }, [...by.entries()].map(([site, o]) => {
    const kinds = [...o.kinds.entries()].map(([k, n]) => `${n} ${vehicleKind(k)}`).join(', ');
    const what = [
      o.persons ? tf('picks_up', { n: num(o.persons), at: place(r.from.label) }) : null,
      o.items.size ? tf('brings', { items: [...o.items.entries()].map(([k, v]) => `${k} ${num(v)}`).join(', ') }) : null,
    ].filter(Boolean).join(' ; ');
    return h('li', {}, h('strong', {}, site), ` : ${kinds} — ${what} ; ${t('eta').toLowerCase()} ${arrival(o.eta)}`);
  }));
}

/** A button that asks before it acts: the first click shows the question with "Confirmer" and "Non". */
function confirming(label, question, action, id) {
  const box = h('span', { class: 'row' });
  const ask = () => box.replaceChildren(h('span', { class: 'question' }, question),
    h('button', { class: 'primary', 'data-confirm': id, onclick: async (e) => { e.target.disabled = true; await action(); } }, t('confirm_yes')),
    h('button', { onclick: idle }, t('confirm_no')));
  const idle = () => box.replaceChildren(h('button', { 'data-action': id, onclick: ask }, label));
  idle();
  return box;
}

const planStatus = (s) => t(`plan_${s}`);

async function plans(body, items, params) {
  const detail = h('div', { id: 'plan-detail' });
  const draw = async () => {
    const r = await api('/api/v1/plans');
    // Ship, receive and cancel ask first: each moves stock for real.
    const step = (p, action) => confirming(t(action), tf(`ask_${action}`, { id: p.id, to: p.destination }), async () => {
      try {
        await api(`/api/v1/plans/${p.id}/${action}`, { method: 'POST' });
        toast(tf(`done_${action}`, { id: p.id, to: p.destination }));
        await draw();
      } catch (e) { toast(e.message); await draw(); }
    }, `${action}-${p.id}`);
    const list = r.items.slice().reverse();
    body.replaceChildren(h('div', { class: 'panel', id: 'plans' }, table([
      { label: t('plan'), value: (p) => h('a', { href: `#/logistique?tab=plans&id=${encodeURIComponent(p.id)}` }, p.id) },
      { label: t('status'), value: (p) => h('span', { class: `plan-status s-${p.status}` }, planStatus(p.status)) },
      { label: t('destination'), value: (p) => p.destination },
      { label: t('movements'), num: true, value: (p) => num(p.movements.length) },
      { label: t('purpose'), value: (p) => t(`purpose_${p.purpose}`) === `purpose_${p.purpose}` ? p.purpose : t(`purpose_${p.purpose}`) },
      { label: t('since'), value: (p) => time(p.committed_at) },
      { label: '', value: (p) => h('span', { class: 'row' },
        p.status === 'committed' && may('logistics:write') ? [step(p, 'ship'), step(p, 'cancel')] : null,
        p.status === 'shipped' && may('logistics:write') ? step(p, 'receive') : null) },
    ], list, { empty: t('no_data') })), detail);
    const open = list.find((p) => p.id === params?.get('id'));
    detail.replaceChildren(open ? planDetail(open) : '');
  };
  await draw();
}

/** One plan: where to, what from where on which vehicle, and its history. */
function planDetail(p) {
  const history = [['committed', p.committed_at], ['shipped', p.shipped_at], ['received', p.received_at], ['cancelled', p.cancelled_at]]
    .filter(([, at]) => at);
  return h('div', { class: 'panel', id: 'plan' },
    h('h2', {}, `${p.id} — ${planStatus(p.status)} — ${t('destination')} ${p.destination}`),
    p.note ? h('p', {}, p.note) : null,
    h('h3', {}, t('movements')),
    table([
      { label: t('from'), value: (m) => m.from },
      { label: t('item'), value: (m) => m.item_id },
      { label: t('quantity'), num: true, value: (m) => num(m.quantity) },
      { label: t('vehicles'), value: (m) => m.vehicle_id || '—' },
    ], p.movements),
    p.vehicles?.length ? h('p', {}, `${t('vehicles')} : ${p.vehicles.join(', ')}`) : null,
    h('h3', {}, t('history')),
    h('ol', { class: 'history' }, history.map(([s, at]) => h('li', {}, `${time(at)} — ${planStatus(s)}`))));
}

async function shift(body) {
  const orgs = (await api('/api/v1/organizations?limit=1000')).items;
  const name = (id) => orgs.find((o) => o.id === id)?.name || id;
  const sel = (n) => h('select', { name: n }, orgs.map((o) => h('option', { value: o.id }, o.name)));
  const out = h('div', {});
  /** Preview (dry run) or apply a shift; `sites` narrows it (the reverse of a shift, site by site). */
  const run = async (req, dry) => {
    const r = await api('/api/v1/shift', { method: 'POST', body: { ...req, dry_run: dry } });
    const persons = r.forces.reduce((n, f) => n + (f.headcount || 0), 0);
    const counts = { n: num(r.sites.length), m: num(r.forces.length), p: num(persons), from: name(r.shift.from), to: name(r.shift.to) };
    // A coverage that falls below the need is the warning the strategic centre must not miss, its own included.
    const rows = r.effect.flatMap((o) => o.items.map((i) => ({ ...i, org: o.name || o.organization_id,
      falls: i.after.coverage !== null && i.after.coverage < 1 && i.after.coverage < (i.before.coverage ?? Infinity) })));
    const fallsBy = new Map();
    for (const x of rows.filter((y) => y.falls)) fallsBy.set(x.org, [...(fallsBy.get(x.org) || []), `${x.item} ${pct(x.before.coverage)} → ${pct(x.after.coverage)}`]);
    const falls = [...fallsBy.entries()].map(([org, l]) => `${org} : ${l.join(', ')}`);
    const undo = (sites) => ({ from: r.shift.to, to: r.shift.from, sites, reason: `${t('shift_undo')} — ${r.shift.reason}` });
    out.replaceChildren(h('div', { class: 'panel', id: dry ? 'shift-preview' : 'shift-done' },
      h('h2', {}, tf(dry ? 'shift_preview' : 'shift_applied', counts)),
      dry ? h('p', { class: 'muted' }, t('shift_nothing_yet')) : null,
      falls.length ? h('p', { class: 'warn', id: 'shift-falls' }, tf('shift_falls', { list: falls.join(' ; ') })) : null,
      h('h3', {}, t('sites')),
      table([
        { label: t('site'), value: (s) => `${s.name} (${s.id})` },
        !dry && may('logistics:shift') ? { label: '', value: (s) => confirming(tf('shift_give_back', { to: name(r.shift.from) }),
          tf('shift_give_back_q', { site: s.name, to: name(r.shift.from) }),
          () => run(undo([s.site_id]), false).catch((e) => out.append(errorBox(e))), `undo-${s.id}`) } : null,
      ].filter(Boolean), r.sites),
      h('h3', {}, t('forces')),
      table([
        { label: t('forces'), value: (f) => f.name },
        { label: t('site'), value: (f) => f.site_id },
        { label: t('headcount'), num: true, value: (f) => num(f.headcount) },
      ], r.forces, { empty: t('no_data') }),
      h('h3', {}, t('shift_effect')),
      table([
        { label: t('organisation'), value: (x) => x.org },
        { label: t('item'), value: (x) => x.item },
        { label: `${t('coverage')} ${t('before')}`, num: true, value: (x) => pct(x.before.coverage) },
        { label: `${t('coverage')} ${t('after')}`, num: true, value: (x) => pct(x.after.coverage), cls: (x) => (x.falls ? 'bad' : 'good') },
        { label: `${t('shortfall')} ${t('after')}`, num: true, value: (x) => num(x.after.shortfall), cls: (x) => (x.after.shortfall > 0 ? 'bad' : '') },
      ], rows, { empty: t('no_data') }),
      h('div', { class: 'row' },
        dry && may('logistics:shift') ? confirming(t('apply'), tf('shift_apply_q', counts),
          () => run(req, false).catch((e) => out.append(errorBox(e))), 'apply-shift') : null,
        !dry && may('logistics:shift') ? confirming(tf('shift_undo_all', { to: name(r.shift.from) }), tf('shift_undo_all_q', counts),
          () => run(undo(r.shift.sites), false).catch((e) => out.append(errorBox(e))), 'undo-shift') : null)));
    if (!dry) toast(tf('shift_applied', counts));
  };
  const f = h('form', { class: 'row panel', onsubmit: (e) => {
    e.preventDefault();
    const d = new FormData(f);
    run({ from: d.get('from'), to: d.get('to'), reason: d.get('reason') }, true).catch((err) => out.replaceChildren(errorBox(err)));
  } },
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
