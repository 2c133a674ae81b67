// Incidents: the list with SLA time left, filters and sort; one incident with its unified timeline and the whole
// lifecycle (take, assign, hold, resolve, accept or reject the resolution, cancel; propose and accept a major
// incident); opening one (from a site or a check, warned of an open incident for the same alert or site); the
// crisis view, which lists the same major incidents as the wall.
import { api, may, caller, h, table, errorBox, toast } from '../api.js';
import { t, tf, time } from '../i18n.js';

const state = (s) => t(`inc_${s}`);

/** A major incident, for the crisis view and the wall alike: proposed or accepted as major, or priority 1. */
export function isMajor(i) {
  return i.major_incident_state === 'accepted' || i.major_incident_state === 'proposed' || Number(i.priority) === 1;
}

/** Milliseconds as "2 h 05" or "35 min". */
function span(ms) {
  const m = Math.max(0, Math.round(ms / 60000));
  const hh = Math.floor(m / 60);
  return hh > 0 ? `${hh} h ${String(m % 60).padStart(2, '0')}` : `${m} min`;
}

/** An SLA clock as time left (or overdue by), coloured by its stage; met or missed once it stopped. */
export function clock(c) {
  if (!c) return '—';
  const left = c.target_ms - c.elapsed_ms;
  let text;
  let cls;
  if (c.stage === 'achieved') [text, cls] = [t('sla_met'), 'good'];
  else if (c.stage === 'missed') [text, cls] = [tf('sla_missed', { t: span(-left) }), 'bad'];
  else if (left < 0) [text, cls] = [tf('sla_overdue', { t: span(-left) }), 'bad'];
  else [text, cls] = [tf('sla_left', { t: span(left) }), c.stage === 'warning' ? 'warn' : 'good'];
  return h('span', { class: cls, 'data-sla': c.stage, title: `${Math.round(c.percent)} %` }, `${text}${c.paused ? ` ⏸ ${t('sla_paused')}` : ''}`);
}

const SORTS = {
  urgency: (a, b) => a.incident.priority - b.incident.priority || slaLeft(a) - slaLeft(b),
  sla: (a, b) => slaLeft(a) - slaLeft(b),
  opened: (a, b) => String(b.incident.opened_at).localeCompare(String(a.incident.opened_at)),
};
const slaLeft = (x) => (x.sla?.resolution ? x.sla.resolution.target_ms - x.sla.resolution.elapsed_ms : Infinity);

export async function show(view, params) {
  const id = params.get('id');
  if (id) return detail(view, id);
  const out = h('div', {});
  const crisis = h('div', { class: 'panel', id: 'crisis' });
  const r = await api('/api/v1/incidents');
  const rows = r.incidents;
  const create = may('incidents:write') ? createForm(params, rows) : null;
  view.replaceChildren(h('div', { class: 'grid2' }, out, h('div', {}, create, crisis)));
  // Filters (state, priority, group, site) and sort, kept in the address so a view can be shared.
  const f = { state: params.get('state') || '', priority: params.get('priority') || '', group: params.get('group') || '',
    site: params.get('site_f') || '', sort: params.get('sort') || 'urgency' };
  const distinct = (k) => [...new Set(rows.map((x) => x.incident[k]).filter(Boolean))].sort();
  const select = (name, label, options) => h('label', {}, label, h('select', { name, onchange: (e) => { f[name] = e.target.value; draw(); } },
    options.map(([v, text]) => h('option', { value: v, selected: String(f[name]) === String(v) }, text))));
  const filters = h('div', { class: 'row filters', role: 'group', 'aria-label': t('filters') },
    select('state', t('state'), [['', t('all')], ...[1, 2, 3, 6].map((s) => [s, state(s)])]),
    select('priority', t('priority'), [['', t('all')], ...[1, 2, 3, 4, 5].map((p) => [p, `P${p}`])]),
    select('group', t('assignment_group'), [['', t('all')], ...distinct('assignment_group').map((g) => [g, g])]),
    select('site', t('location'), [['', t('all')], ...distinct('location').map((s) => [s, s])]),
    select('sort', t('sort'), [['urgency', t('sort_urgency')], ['sla', t('sort_sla')], ['opened', t('sort_opened')]]));
  const list = h('div', {});
  const draw = () => {
    const shown = rows.filter((x) => (!f.state || String(x.incident.state) === String(f.state))
      && (!f.priority || String(x.incident.priority) === String(f.priority))
      && (!f.group || x.incident.assignment_group === f.group) && (!f.site || x.incident.location === f.site))
      .sort(SORTS[f.sort] || SORTS.urgency);
    list.replaceChildren(table([
      { label: t('number'), value: (x) => h('a', { href: `#/incidents?id=${x.incident.number}` }, x.incident.number) },
      { label: t('priority'), value: (x) => `P${x.incident.priority}` },
      { label: t('state'), value: (x) => state(x.incident.state) },
      { label: t('description'), value: (x) => x.incident.short_description },
      { label: t('location'), value: (x) => x.incident.location },
      { label: t('assignment_group'), value: (x) => x.incident.assignment_group },
      { label: t('sla_response'), value: (x) => clock(x.sla?.response) },
      { label: t('sla_resolution'), value: (x) => clock(x.sla?.resolution) },
    ], shown, { onRow: (x) => { location.hash = `#/incidents?id=${x.incident.number}`; }, empty: t('no_data') }));
  };
  draw();
  out.replaceChildren(h('div', { class: 'panel', id: 'incident-list' }, h('h2', {}, `${t('open_incidents')} (${rows.length})`), filters, list));
  const majors = rows.filter((x) => isMajor(x.incident));
  crisis.replaceChildren(h('h2', {}, `${t('crisis')} (${majors.length})`), table([
    { label: t('number'), value: (x) => h('a', { href: `#/incidents?id=${x.incident.number}` }, x.incident.number) },
    { label: t('priority'), value: (x) => `P${x.incident.priority}` },
    { label: t('major'), value: (x) => (x.incident.major_incident_state ? t(`major_${x.incident.major_incident_state}`) : '—') },
    { label: t('crisis_lead'), value: (x) => x.incident.crisis_lead || '—' },
  ], majors, { empty: t('no_data') }));
  return {};
}

/** Opening an incident; when one is already open for the same alert or site, it says so and asks again. */
function createForm(params, open) {
  const msg = h('div', { role: 'status' });
  let warned = false;
  const f = h('form', { class: 'panel', id: 'create-incident', onsubmit: async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(f));
    const same = open.filter((x) => (d.cmdb_ci && (x.incident.alerts || []).includes(d.cmdb_ci))
      || (d.location && x.incident.location === d.location));
    if (same.length && !warned) {
      warned = true;
      msg.replaceChildren(h('div', { class: 'warn', id: 'duplicate-warning', role: 'alert' },
        tf('duplicate', { list: same.map((x) => x.incident.number).join(', ') }), ' ',
        ...same.map((x) => h('a', { href: `#/incidents?id=${x.incident.number}` }, x.incident.number))));
      return;
    }
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

const HOLD = [1, 2, 3, 4, 5];
const CLOSE_CODES = ['Solved (Permanently)', 'Solved (Work Around)', 'Solved Remotely (Permanently)', 'Not Solved (Not Reproducible)', 'Closed/Resolved by Caller'];

/** The lifecycle's next steps from where the incident stands, each a small form that says what it needs. */
/** Taking the incident in hand stops its escalation (who was told shows in the timeline).
 * @param {any} i @param {any} tl @param {HTMLElement} view @param {string} id @param {HTMLElement} msg */
function acknowledge(i, tl, view, id, msg) {
  const open = [1, 2, 3].includes(Number(i.state));
  if (tl.acknowledged) return h('p', { class: 'ack', id: 'acknowledged' }, tf('inc_acknowledged', { at: time(tl.acknowledged.at), by: tl.acknowledged.by }));
  if (!open || !may('incidents:write')) return null;
  return h('p', {}, h('button', { type: 'button', class: 'primary', id: 'acknowledge', onclick: async () => {
    try {
      await api(`/api/v1/incidents/${encodeURIComponent(i.number)}/acknowledge`, { method: 'POST' });
      toast(`${i.number} : ${t('inc_ack_done')}`);
      await detail(view, id);
    } catch (err) {
      msg.replaceChildren(errorBox(err));
    }
  } }, t('inc_ack')));
}

function actions(i, change) {
  if (!may('incidents:write')) return null;
  const me = caller()?.user || '';
  const s = Number(i.state);
  const input = (name, label, attrs = {}) => h('label', {}, label, h('input', { name, ...attrs }));
  // A step of the lifecycle is checked by the state machine against the incident as it is now; an edit of fields
  // (assignment) carries the version it was read at, so that it cannot silently undo someone else's edit.
  const act = (id, label, fields, body, cls = '', lock = false) => h('form', { class: `row action ${cls}`, 'data-action': id, onsubmit: (e) => {
    e.preventDefault();
    change(body(Object.fromEntries(new FormData(e.target))), lock);
  } }, ...fields, h('button', { type: 'submit', class: cls.includes('main') ? 'primary' : '' }, label));
  const out = [];
  if (s === 1 || s === 3) {
    out.push(act('take', t('inc_take'), [], () => ({ state: 2, assigned_to: i.assigned_to || me }), 'main'));
  }
  if (s !== 7 && s !== 8) {
    out.push(act('assign', t('inc_assign'), [
      input('assignment_group', t('assignment_group'), { value: i.assignment_group || '' }),
      input('assigned_to', t('assigned_to'), { value: i.assigned_to || '' })], (d) => d, '', true));
  }
  if (s === 2) {
    out.push(act('hold', t('inc_hold'), [h('label', {}, t('hold_reason'), h('select', { name: 'hold_reason' },
      HOLD.map((c) => h('option', { value: c }, t(`hold_${c}`)))))], (d) => ({ state: 3, ...d })));
  }
  if (s === 1 || s === 2 || s === 3) {
    out.push(act('resolve', t('inc_resolve'), [
      h('label', {}, t('close_code'), h('select', { name: 'close_code' }, CLOSE_CODES.map((c, k) => h('option', { value: c }, t(`close_${k}`))))),
      input('close_notes', t('close_notes'), { required: true })], (d) => ({ state: 6, ...d }), 'main'));
  }
  if (s === 6) {
    // A proposed resolution: the caller (or the TOC for them) accepts it, which closes, or rejects it, which reopens.
    const code = CLOSE_CODES.indexOf(i.close_code);
    out.push(h('p', { class: 'warn', id: 'resolution-proposed' }, tf('resolution_proposed', { code: code >= 0 ? t(`close_${code}`) : i.close_code, notes: i.close_notes })));
    out.push(act('accept', t('inc_accept'), [], () => ({ state: 7 }), 'main'));
    out.push(act('reject', t('inc_reject'), [input('comments', t('reason'), { required: true })], (d) => ({ state: 2, ...d })));
  }
  if (s !== 6 && s !== 7 && s !== 8) {
    out.push(act('cancel', t('inc_cancel'), [input('work_notes', t('reason'), { required: true })], (d) => ({ state: 8, ...d })));
  }
  if (s !== 7 && s !== 8) {
    const major = i.major_incident_state;
    if (!major || major === 'rejected') {
      out.push(act('propose-major', t('major_propose'), [], () => ({ major_incident_state: 'proposed' })));
    } else if (major === 'proposed') {
      out.push(act('accept-major', t('major_accept'), [input('u_crisis_lead', t('crisis_lead'), { required: true, value: i.crisis_lead || me })],
        (d) => ({ major_incident_state: 'accepted', ...d }), 'main'));
      out.push(act('reject-major', t('major_reject'), [], () => ({ major_incident_state: 'rejected' })));
    }
  }
  out.push(act('note', t('add'), [input('work_notes', t('work_note'), { required: true })], (d) => d));
  return h('div', { class: 'actions', id: 'incident-actions' }, h('h3', {}, t('inc_next')), ...out);
}

async function detail(view, id, notice = null) {
  try {
    const [one, tl] = await Promise.all([api(`/api/v1/incidents/${encodeURIComponent(id)}`), api(`/api/v1/incidents/${encodeURIComponent(id)}/timeline`)]);
    const i = one.incident;
    const msg = h('div', { role: 'status' });
    // With `lock`, the change carries the version read (optimistic lock): an edit made meanwhile is not overwritten.
    const change = async (body, lock) => {
      try {
        await api(`/api/now/table/incident/${i.sys_id}`, { method: 'PATCH', body: lock ? { ...body, sys_mod_count: i.sys_mod_count } : body });
        toast(`${i.number} : ${t('saved')}`);
        await detail(view, id);
      } catch (err) {
        // Changed meanwhile (an alert, another operator): show it as it is now and say so; nothing was applied.
        if (err.status === 409) await detail(view, id, h('div', { class: 'warn', role: 'alert', id: 'conflict' }, t('changed_meanwhile')));
        else msg.replaceChildren(errorBox(err));
      }
    };
    view.replaceChildren(h('div', { class: 'grid2' },
      h('div', { class: 'panel', id: 'incident-detail', 'data-version': i.sys_mod_count },
        h('h2', {}, `${i.number} — ${i.short_description}`),
        h('p', { class: 'sentence', id: 'incident-state' }, h('strong', {}, state(i.state)), ` · P${i.priority} · ${t('location')} ${i.location || '—'} · ${t('assignment_group')} ${i.assignment_group || '—'}${i.assigned_to ? ` (${i.assigned_to})` : ''} · ${time(i.opened_at)}`),
        h('p', {}, `${t('sla_response')} `, clock(one.sla?.response), ` · ${t('sla_resolution')} `, clock(one.sla?.resolution)),
        // What people and the supervision wrote is theirs (`.raw`): shown as written.
        i.description ? h('p', { class: 'raw' }, i.description) : null,
        i.hold_reason ? h('p', { class: 'muted' }, `${t('hold_reason')} : ${t(`hold_${i.hold_reason}`)}`) : null,
        i.alerts?.length ? h('p', { class: 'muted' }, `${t('alerts')} : ${i.alerts.join(', ')}`) : null,
        notice, acknowledge(i, tl, view, id, msg), actions(i, change), msg,
        h('h3', {}, t('timeline')),
        h('ol', { class: 'timeline', id: 'incident-timeline' }, tl.timeline.map((e) => h('li', { 'data-kind': e.kind }, `${time(e.at)} · ${t(`tl_${e.kind}`)}${e.by ? ' · ' + e.by : ''} — `,
          e.kind === 'notified'
            ? `${e.person} · ${t(`oc_chan_${e.channel}`)} · ${tf('oc_level_n', { n: e.level })} · ${t(`oc_why_${e.why}`)} · ${t(`oc_st_${e.status}`)}`
            : e.text != null ? h('span', { class: 'raw' }, e.text) : (e.state ? `${state(e.state)}, P${e.priority}` : e.step ?? ''))))),
      h('div', { class: 'panel' }, h('h3', {}, t('crisis')),
        h('p', { id: 'major-state' }, `${i.major_incident_state ? t(`major_${i.major_incident_state}`) : '—'} ${tl.crisis_lead ? '· ' + tl.crisis_lead : ''}`),
        tl.plan ? h('p', {}, `Plan ${tl.plan.id} (${t(`plan_${tl.plan.status}`)})`) : null,
        h('p', {}, h('a', { href: '#/incidents' }, '← ' + t('incidents'))))));
  } catch (e) {
    view.replaceChildren(errorBox(e));
  }
  return {};
}
