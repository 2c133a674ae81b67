// Stock: national → organisation → site → lot; on hand, serviceable, reserved, in transit and available side by
// side; how fresh each figure is; lots that expire soon.
import { api, h, table } from '../api.js';
import { t, num, pct, ago, time, today } from '../i18n.js';

export async function show(view, params) {
  const org = params.get('org');
  const site = params.get('site');
  const crumbs = h('p', {}, h('a', { href: '#/stock' }, t('national')),
    org ? [' › ', h('a', { href: `#/stock?org=${org}` }, org)] : null, site ? [' › ', site] : null);
  if (site) {
    const lines = (await api(`/api/v1/stock?site_id=${encodeURIComponent(site)}&limit=10000`)).items;
    const soon = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
    view.replaceChildren(crumbs, h('div', { class: 'panel' }, h('h2', {}, `${t('site')} ${site}`), table([
      { label: t('item'), value: (l) => l.item_id },
      { label: t('lot'), value: (l) => l.lot },
      { label: t('quantity'), num: true, value: (l) => num(l.quantity) },
      { label: t('state'), value: (l) => l.condition },
      { label: t('expires'), value: (l) => l.expires_on, cls: (l) => (l.expires_on && l.expires_on <= soon ? 'bad' : '') },
      { label: t('freshness'), value: (l) => h('span', { title: `${time(l.counted_at)} · ${l._stamp.source}` }, ago(l.counted_at)) },
    ], lines, { empty: t('no_data') })));
    return {};
  }
  const all = await api(`/api/v1/ask/sufficiency?all=true&on=${today()}${org ? `&org=${encodeURIComponent(org)}` : ''}`);
  const cols = (label, value, onRow) => [
    { label, value },
    { label: t('on_hand'), num: true, value: (r) => num(r.on_hand) },
    { label: t('serviceable'), num: true, value: (r) => num(r.serviceable) },
    { label: t('reserved'), num: true, value: (r) => num(r.reserved) },
    { label: t('in_transit'), num: true, value: (r) => num(r.in_transit) },
    { label: t('available'), num: true, value: (r) => num(r.available) },
    { label: t('need'), num: true, value: (r) => num(r.need) },
    { label: t('coverage'), num: true, value: (r) => pct(r.coverage), cls: (r) => (r.shortfall > 0 ? 'bad' : '') },
  ];
  const parts = [crumbs, h('div', { class: 'panel' }, h('h2', {}, org || t('national')),
    table([...cols(t('item'), (s) => s.item_name), { label: t('freshness'), value: (s) => ago(s.oldest_count) }], all.items))];
  // The level below: organisations (national) or sites (an organisation), summed over items.
  const below = new Map();
  for (const s of all.items) {
    for (const x of org ? s.by_site : s.by_organization) {
      const key = org ? x.site_id : x.organization_id;
      const acc = below.get(key) || { key, label: x.name || key, on_hand: 0, serviceable: 0, reserved: 0, in_transit: 0, available: 0, need: 0, shortfall: 0, coverage: null };
      for (const f of ['on_hand', 'serviceable', 'reserved', 'in_transit', 'available', 'need', 'shortfall']) acc[f] += Number(x[f]) || 0;
      below.set(key, acc);
    }
  }
  const rows = [...below.values()].map((r) => ({ ...r, coverage: r.need > 0 ? Math.min(1, r.available / r.need) : null }));
  parts.push(h('div', { class: 'panel' }, h('h2', {}, org ? t('sites') : t('organisation')),
    h('p', { class: 'muted small' }, 'toutes unités confondues / all units summed'),
    table(cols(org ? t('site') : t('organisation'), (r) => r.label), rows, {
      onRow: (r) => { location.hash = org ? `#/stock?org=${org}&site=${r.key}` : `#/stock?org=${r.key}`; },
    })));
  view.replaceChildren(...parts);
  return {};
}
