// Stock: national → organisation → site → lot. Each level shows, item by item, on hand, serviceable, reserved, in
// transit and available side by side with the need; below it, the coverage of each organisation (or site) item
// by item; the lots, with how fresh each count is and the lots that expire soon.
import { api, caller, h, table } from '../api.js';
import { t, tf, num, pct, ago, time, today } from '../i18n.js';

const SOON_DAYS = 30;

export async function show(view, params) {
  // A tactical group lands on its own organisation.
  const org = params.get('org') || caller()?.organization_id;
  const site = params.get('site');
  const crumbs = h('nav', { 'aria-label': t('breadcrumb') }, h('a', { href: '#/stock' }, t('national')),
    org ? [' › ', h('a', { href: `#/stock?org=${encodeURIComponent(org)}` }, org)] : null, site ? [' › ', site] : null);
  const soon = new Date(Date.now() + SOON_DAYS * 86400e3).toISOString().slice(0, 10);
  if (site) {
    const [items, lines] = await Promise.all([siteItems(site),
      api(`/api/v1/stock?site_id=${encodeURIComponent(site)}&limit=10000`).then((r) => r.items)]);
    view.replaceChildren(crumbs, h('div', { class: 'panel' }, h('h2', {}, `${t('site')} ${site}`), items,
      h('h3', {}, t('counted_lots')), lots(lines, soon)));
    return {};
  }
  // Every item of the catalogue, with or without an allowance.
  const all = await api(`/api/v1/ask/sufficiency?all=true&catalogue=true&on=${today()}${org ? `&org=${encodeURIComponent(org)}` : ''}`);
  const figures = [
    { label: t('item'), value: (s) => s.item_name },
    { label: t('on_hand'), num: true, value: (r) => num(r.on_hand) },
    { label: t('serviceable'), num: true, value: (r) => num(r.serviceable) },
    { label: t('reserved'), num: true, value: (r) => num(r.reserved) },
    { label: t('in_transit'), num: true, value: (r) => num(r.in_transit) },
    { label: t('available'), num: true, value: (r) => num(r.available) },
    { label: t('need'), num: true, value: (r) => num(r.need) },
    { label: t('shortfall'), num: true, value: (r) => num(r.shortfall), cls: (r) => (r.shortfall > 0 ? 'bad' : '') },
    { label: t('coverage'), num: true, value: (r) => pct(r.coverage) },
    { label: t('freshness'), value: (s) => h('span', { title: time(s.oldest_count) }, ago(s.oldest_count)) },
  ];
  // The level below, item by item: organisations (national) or sites (an organisation).
  const below = new Map();
  for (const s of all.items) {
    for (const x of org ? s.by_site : s.by_organization) {
      const key = org ? x.site_id : x.organization_id;
      const row = below.get(key) || { key, label: x.name || key, items: {} };
      row.items[s.item] = x;
      below.set(key, row);
    }
  }
  const cell = (x) => (x ? h('span', { class: x.shortfall > 0 ? 'bad' : 'good', title: `${t('available')} ${num(x.available)} / ${t('need')} ${num(x.need)}` },
    x.need > 0 ? pct(x.coverage) : num(x.available)) : '—');
  const matrix = table([
    { label: org ? t('site') : t('organisation'), value: (r) => r.label },
    ...all.items.map((s) => ({ label: s.item, num: true, value: (r) => cell(r.items[s.item]) })),
  ], [...below.values()], { onRow: (r) => { location.hash = org ? `#/stock?org=${encodeURIComponent(org)}&site=${encodeURIComponent(r.key)}` : `#/stock?org=${encodeURIComponent(r.key)}`; } });
  // The reporting discipline: which sites have not counted their stock within the expected frequency.
  const discipline = await api('/api/v1/reports/discipline');
  const orgs = discipline.organizations.filter((/** @type {any} */ o) => !org || o.organization_id === org);
  const lateSites = orgs.flatMap((/** @type {any} */ o) => o.sites.filter((/** @type {any} */ s) => s.late))
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.last_count.localeCompare(b.last_count)); // the oldest first
  const sitesCounted = orgs.reduce((/** @type {number} */ n, /** @type {any} */ o) => n + o.sites.length, 0);
  const reporting = h('div', { class: 'panel', id: 'reporting' },
    h('p', { class: 'sentence', id: 'reporting-answer' }, lateSites.length
      ? h('strong', { class: 'warn' }, tf('rep_late', { n: lateSites.length, of: sitesCounted, hours: discipline.expected_hours }))
      : h('strong', {}, tf('rep_on_time', { of: sitesCounted, hours: discipline.expected_hours }))),
    lateSites.length ? table([
      { label: t('site'), value: (/** @type {any} */ s) => s.name },
      { label: t('rep_last_count'), value: (/** @type {any} */ s) => time(s.last_count) },
      { label: t('rep_age'), num: true, value: (/** @type {any} */ s) => tf('rep_hours', { h: num(s.age_hours) }) },
    ], lateSites.slice(0, 50)) : null);
  const parts = [crumbs, reporting,
    h('div', { class: 'panel' }, h('h2', {}, org || t('national')), table(figures, all.items)),
    h('div', { class: 'panel' }, h('h2', {}, `${t('coverage')} — ${org ? t('sites') : t('organisation')}`),
      h('p', { class: 'muted small' }, t('coverage_note')), matrix)];
  // Lots that expire soon, in this scope.
  const scope = org ? `&organization_id=${encodeURIComponent(org)}` : '';
  const expiring = (await api(`/api/v1/stock?limit=1000&expires_before=${soon}${scope}`)).items;
  parts.push(h('div', { class: 'panel' }, h('h2', {}, t('expiring')), lots(expiring, soon, true)));
  view.replaceChildren(...parts);
  return {};
}

/** What a site holds, item by item, counts and plans' movements included (a receipt shows here at once), with
 * what is on its way, its need and what its organisation leaves uncovered. */
/**
 * A site's holdings item by item (every catalogue item it holds, awaits or needs). `compact`: the map panel's
 * narrower table (what is available, coming, needed, uncovered).
 * @param {string} site @param {{compact?: boolean}} [options]
 */
export async function siteItems(site, { compact = false } = {}) {
  const all = await api(`/api/v1/ask/sufficiency?all=true&catalogue=true&on=${today()}&site=${encodeURIComponent(site)}`);
  const rows = all.items.flatMap((s) => s.by_site.map((x) => ({ ...x, item: s.item, item_name: s.item_name, unit: s.unit })))
    .filter((x) => x.on_hand > 0 || x.incoming > 0 || x.need > 0 || x.reserved > 0);
  return table([
    { label: t('item'), value: (r) => (compact ? h('span', { title: r.item }, r.item_name) : `${r.item_name} (${r.item})`) },
    compact ? null : { label: t('on_hand'), num: true, value: (r) => num(r.on_hand) },
    { label: t('available'), num: true, value: (r) => num(r.available) },
    compact ? null : { label: t('reserved'), num: true, value: (r) => num(r.reserved) },
    { label: t('incoming'), num: true, value: (r) => num(r.incoming) },
    { label: t('need'), num: true, value: (r) => num(r.need) },
    { label: t('uncovered'), num: true, value: (r) => num(r.uncovered), cls: (r) => (r.uncovered > 0 ? 'bad' : '') },
  ].filter(Boolean), rows, { empty: t('no_data') });
}

function lots(lines, soon, withSite = false) {
  return table([
    withSite ? { label: t('site'), value: (l) => h('a', { href: `#/stock?site=${encodeURIComponent(l.site_id)}` }, l.site_id) } : null,
    { label: t('item'), value: (l) => l.item_id },
    { label: t('lot'), value: (l) => l.lot },
    { label: t('quantity'), num: true, value: (l) => num(l.quantity) },
    { label: t('state'), value: (l) => t(`cond_${l.condition}`) },
    { label: t('expires'), value: (l) => l.expires_on, cls: (l) => (l.expires_on && l.expires_on <= soon ? 'bad' : '') },
    { label: t('freshness'), value: (l) => h('span', { title: `${time(l.counted_at)} · ${l._stamp.source}` }, ago(l.counted_at)) },
  ].filter(Boolean), lines, { empty: t('no_data') });
}
