// Supervision: checks by site or application with their state, history and availability; acknowledge; the
// maintenance windows.
import { api, may, h, table, pill, errorBox, toast } from '../api.js';
import { t, time, pct, stateLabel } from '../i18n.js';

function maintenanceForm(view) {
  const msg = h('div');
  const f = h('form', { class: 'panel', onsubmit: async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(f));
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

export async function show(view, params) {
  const check = params.get('check');
  if (check) return one(view, check);
  const f = h('form', { class: 'row panel', onsubmit: (e) => { e.preventDefault(); const d = new FormData(f); location.hash = `#/supervision?${new URLSearchParams([...d].filter(([, v]) => v))}`; } },
    h('label', {}, t('site'), h('input', { name: 'site', value: params.get('site') || '' })),
    h('label', {}, t('application'), h('input', { name: 'application', value: params.get('application') || '' })),
    h('label', {}, t('state'), h('input', { name: 'state', value: params.get('state') ?? 'WARNING,CRITICAL,UNKNOWN,UNREACHABLE', size: 36 })),
    h('button', { class: 'primary', type: 'submit' }, t('ask')));
  const q = new URLSearchParams({ limit: '200' });
  for (const k of ['site', 'application', 'state']) if (params.get(k) ?? (k === 'state' ? 'WARNING,CRITICAL,UNKNOWN,UNREACHABLE' : '')) q.set(k, params.get(k) ?? 'WARNING,CRITICAL,UNKNOWN,UNREACHABLE');
  const [checks, windows] = await Promise.all([api(`/api/v1/monitoring/checks?${q}`), api('/api/v1/monitoring/maintenance')]);
  view.replaceChildren(f, h('div', { class: 'grid2' },
    h('div', { class: 'panel' }, h('h2', {}, `${t('checks')} (${checks.total})`), table([
      { label: t('checks'), value: (c) => c.id },
      { label: t('site'), value: (c) => c.site_id },
      { label: t('application'), value: (c) => c.application_id },
      { label: t('state'), value: (c) => pill(c.shown, stateLabel(c.shown)) },
      { label: t('output'), value: (c) => c.output },
      { label: t('availability'), num: true, value: (c) => pct(c.availability) },
    ], checks.checks, { onRow: (c) => { location.hash = `#/supervision?check=${encodeURIComponent(c.id)}`; }, empty: t('ok') })),
    h('div', {}, may('monitoring:write') ? maintenanceForm(view) : null, h('div', { class: 'panel' }, h('h2', {}, t('maintenance')), table([
      { label: 'Id', value: (w) => w.id },
      { label: t('site'), value: (w) => `${w.scope?.by} ${w.scope?.id}` },
      { label: t('start'), value: (w) => time(w.starts_at) },
      { label: t('end'), value: (w) => time(w.ends_at) },
      { label: t('reason'), value: (w) => w.reason },
    ], windows.windows || [], { empty: t('no_data') })))));
  return {};
}

async function one(view, id) {
  try {
    const c = await api(`/api/v1/monitoring/checks/${encodeURIComponent(id)}`);
    const ack = may('monitoring:write') && ['WARNING', 'CRITICAL', 'UNKNOWN'].includes(c.shown) && !c.acknowledged
      ? h('button', { onclick: async () => { try { await api(`/api/v1/monitoring/checks/${encodeURIComponent(id)}/ack`, { method: 'POST', body: { comment: 'pris en compte' } }); toast(t('acknowledge')); show(view, new URLSearchParams({ check: id })); } catch (e) { toast(e.message); } } }, t('acknowledge'))
      : null;
    view.replaceChildren(h('div', { class: 'panel' },
      h('h2', {}, `${id} `, pill(c.shown, stateLabel(c.shown))),
      h('p', {}, `${c.site_id ?? ''} · ${c.application_id ?? ''} · ${t('availability')} ${pct(c.availability)} · ${c.output}`),
      h('div', { class: 'row' }, ack,
        may('incidents:write') ? h('a', { href: `#/incidents?site=${encodeURIComponent(c.site_id || '')}&check=${encodeURIComponent(id)}` }, `+ ${t('create')} (${t('incidents').toLowerCase()})`) : null),
      h('h3', {}, t('history')),
      table([
        { label: t('since'), value: (x) => time(x.at) },
        { label: t('state'), value: (x) => `${x.from} → ${x.to}` },
        { label: t('output'), value: (x) => x.output },
      ], c.history || [], { empty: t('no_data') }),
      h('p', {}, h('a', { href: '#/supervision' }, '← ' + t('supervision')))));
  } catch (e) { view.replaceChildren(errorBox(e)); }
  return {};
}
