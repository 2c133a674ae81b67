// Incidents: the list with SLA clocks, one incident with its unified timeline, opening one (from a site), and the
// crisis view (major incidents).
import { api, may, h, table, errorBox, toast } from '../api.js';
import { t, num, time, pct } from '../i18n.js';

const state = (s) => t(`inc_${s}`);

function clock(c) {
  if (!c) return '—';
  const cls = c.stage === 'breached' || c.stage === 'missed' ? 'bad' : c.stage === 'warning' ? 'pill s-WARNING' : 'good';
  return h('span', { class: cls }, `${pct(c.percent / 100)} ${c.paused ? '⏸' : ''}`);
}

export async function show(view, params) {
  const id = params.get('id');
  if (id) return detail(view, id);
  const out = h('div', {});
  const create = may('incidents:write') ? createForm(params) : null;
  const crisis = h('div', { class: 'panel', id: 'crisis' });
  view.replaceChildren(h('div', { class: 'grid2' }, out, h('div', {}, create, crisis)));
  const r = await api('/api/v1/incidents');
  const rows = r.incidents;
  out.replaceChildren(h('div', { class: 'panel', id: 'incident-list' }, h('h2', {}, `${t('open_incidents')} (${rows.length})`), table([
    { label: t('number'), value: (x) => h('a', { href: `#/incidents?id=${x.incident.number}` }, x.incident.number) },
    { label: t('priority'), value: (x) => `P${x.incident.priority}` },
    { label: t('state'), value: (x) => state(x.incident.state) },
    { label: t('description'), value: (x) => x.incident.short_description },
    { label: t('location'), value: (x) => x.incident.location },
    { label: t('assignment_group'), value: (x) => x.incident.assignment_group },
    { label: t('sla_response'), value: (x) => clock(x.sla?.response) },
    { label: t('sla_resolution'), value: (x) => clock(x.sla?.resolution) },
  ], rows, { onRow: (x) => { location.hash = `#/incidents?id=${x.incident.number}`; }, empty: t('no_data') })));
  const majors = rows.filter((x) => x.incident.major_incident_state);
  crisis.replaceChildren(h('h2', {}, t('crisis')), table([
    { label: t('number'), value: (x) => h('a', { href: `#/incidents?id=${x.incident.number}` }, x.incident.number) },
    { label: t('state'), value: (x) => x.incident.major_incident_state },
    { label: t('crisis_lead'), value: (x) => x.incident.crisis_lead },
  ], majors, { empty: t('no_data') }));
  return {};
}

function createForm(params) {
  const msg = h('div', { role: 'status' });
  const f = h('form', { class: 'panel', onsubmit: async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(f));
    try {
      const r = await api('/api/now/table/incident', { method: 'POST', body: d });
      toast(`${r.result.number}`);
      location.hash = `#/incidents?id=${r.result.number}`;
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  } },
  h('h2', {}, `${t('create')}`),
  h('label', {}, t('description'), h('input', { name: 'short_description', required: true,
    value: params.get('check') ? `${t('alert_of')} ${params.get('check')}` : '' })),
  h('div', { class: 'row' },
    h('label', {}, t('impact'), h('select', { name: 'impact' }, [1, 2, 3].map((v) => h('option', { value: v, selected: v === 2 }, v)))),
    h('label', {}, t('urgency'), h('select', { name: 'urgency' }, [1, 2, 3].map((v) => h('option', { value: v, selected: v === 2 }, v)))),
    h('label', {}, t('location'), h('input', { name: 'location', value: params.get('site') || '' })),
    h('label', {}, t('assignment_group'), h('input', { name: 'assignment_group' }))),
  params.get('check') ? h('input', { type: 'hidden', name: 'cmdb_ci', value: params.get('check') }) : null,
  h('button', { class: 'primary', type: 'submit' }, t('create')), msg);
  return f;
}

async function detail(view, id) {
  try {
    const [one, tl] = await Promise.all([api(`/api/v1/incidents/${encodeURIComponent(id)}`), api(`/api/v1/incidents/${encodeURIComponent(id)}/timeline`)]);
    const i = one.incident;
    const note = h('input', { name: 'work_notes', placeholder: t('work_note'), 'aria-label': t('work_note') });
    const act = may('incidents:write') ? h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/api/now/table/incident/${i.sys_id}`, { method: 'PATCH', body: { work_notes: note.value } });
        show(view, new URLSearchParams({ id }));
      } catch (err) { toast(err.message); }
    } }, note, h('button', { type: 'submit' }, t('add'))) : null;
    view.replaceChildren(h('div', { class: 'grid2' },
      h('div', { class: 'panel', id: 'incident-detail' },
        h('h2', {}, `${i.number} — ${i.short_description}`),
        h('p', {}, `P${i.priority} · ${state(i.state)} · ${t('location')} ${i.location || '—'} · ${t('assignment_group')} ${i.assignment_group || '—'} · ${time(i.opened_at)}`),
        i.description ? h('p', {}, i.description) : null,
        i.alerts?.length ? h('p', { class: 'muted' }, `${t('alerts')} : ${i.alerts.join(', ')}`) : null,
        h('h3', {}, t('timeline')),
        h('ol', { class: 'timeline' }, tl.timeline.map((e) => h('li', {}, `${time(e.at)} · ${t(`tl_${e.kind}`)}${e.by ? ' · ' + e.by : ''} — ${e.text ?? (e.state ? `${state(e.state)}, P${e.priority}` : e.step ?? '')}`))),
        act),
      h('div', { class: 'panel' }, h('h3', {}, t('crisis')),
        h('p', {}, `${i.major_incident_state || '—'} ${tl.crisis_lead ? '· ' + tl.crisis_lead : ''}`),
        tl.plan ? h('p', {}, `Plan ${tl.plan.id} (${tl.plan.status})`) : null,
        h('p', {}, h('a', { href: '#/incidents' }, '← ' + t('incidents'))))));
  } catch (e) {
    view.replaceChildren(errorBox(e));
  }
  return {};
}
