// Main courante: the operations log of the shift on duty, new entries, and the hand-over: what the next shift
// inherits (open incidents with their SLA, breaches, pending decisions, the shift's entries), who hands over to
// whom, signed by the incoming lead (a journalled entry), printable.
import { api, may, h, table, errorBox, toast } from '../api.js';
import { t, tf, time } from '../i18n.js';
import { clock } from './incidents.js';

const KINDS = ['note', 'decision', 'handover'];
const NAMES = ['matin', 'après-midi', 'nuit'];

/** The shift before or after one (`2024-07-26 matin` ↔ `2024-07-25 nuit`). */
function neighbour(shift, step) {
  const [day, name] = [shift.slice(0, 10), shift.slice(11)];
  let k = NAMES.indexOf(name) + step;
  const d = new Date(`${day}T12:00:00Z`);
  if (k < 0) { k = 2; d.setUTCDate(d.getUTCDate() - 1); }
  if (k > 2) { k = 0; d.setUTCDate(d.getUTCDate() + 1); }
  return `${d.toISOString().slice(0, 10)} ${NAMES[k]}`;
}
const who = (actor) => String(actor || '').replace(/^user:/, '').replace(/\/token:.*/, '');

export async function show(view, params) {
  const [log, incidents] = await Promise.all([api('/api/v1/log'), api('/api/v1/incidents')]);
  // The hand-over shown: the one asked for, else the shift on duty's.
  const shift = params?.get('shift') || log.shift;
  const hand = await api(`/api/v1/log/handover?shift=${encodeURIComponent(shift)}`);
  const text = h('input', { name: 'text', required: true, size: 60 });
  const kind = h('select', { name: 'kind' }, KINDS.map((k) => h('option', { value: k }, t(`tl_${k}`))));
  const msg = h('div');
  const add = may('incidents:write') ? h('form', { class: 'row panel no-print', onsubmit: async (e) => {
    e.preventDefault();
    try { await api('/api/v1/log', { method: 'POST', body: { text: text.value, kind: kind.value } }); show(view, params); } catch (err) { msg.replaceChildren(errorBox(err)); }
  } }, h('label', {}, t('text'), text), h('label', {}, t('kind'), kind), h('button', { class: 'primary', type: 'submit' }, t('add')), msg) : null;
  // The hand-over first, full width (what a lead reads and signs), then the shift's log.
  view.replaceChildren(add, handover(hand, incidents.incidents, view, params),
    h('div', { class: 'panel no-print' }, h('h2', {}, `${t('shift_now')} ${log.shift}`), table([
      { label: t('since'), value: (e) => time(e.at) },
      { label: t('kind'), value: (e) => t(`tl_${e.kind}`) },
      { label: t('user'), value: (e) => who(e.by) },
      { label: t('text'), value: (e) => e.text },
    ], log.entries.slice().reverse(), { empty: t('no_data') })));
  return {};
}

/** The hand-over of one shift as a page a lead reads, signs and prints. */
function handover(hand, incidents, view, params) {
  const sla = new Map(incidents.map((x) => [x.incident.number, x.sla]));
  const signed = hand.signatures || [];
  const note = h('input', { name: 'note', size: 40, placeholder: t('handover_note') });
  const sign = may('incidents:write') && !signed.length ? h('form', { class: 'row no-print', id: 'sign-handover', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('/api/v1/log', { method: 'POST', body: { kind: 'signature', handover_of: hand.shift, text: note.value || t('handover_received') } });
      toast(t('handover_signed_toast'));
      show(view, new URLSearchParams({ shift: hand.shift }));
    } catch (err) { e.target.append(errorBox(err)); }
  } }, note, h('button', { class: 'primary', type: 'submit' }, t('handover_sign'))) : null;
  const go = (s) => h('a', { href: `#/courante?shift=${encodeURIComponent(s)}` }, s);
  return h('div', { class: 'panel handover', id: 'handover' },
    h('p', { class: 'row no-print small' }, '← ', go(neighbour(hand.shift, -1)), ' · ', go(neighbour(hand.shift, 1)), ' →'),
    h('h2', {}, tf('handover_title', { shift: hand.shift })),
    h('p', { class: 'sentence', id: 'handover-who' }, hand.outgoing?.length
      ? tf('handover_from', { from: hand.outgoing.map(who).join(', ') }) : t('handover_from_none'),
    ' ', signed.length
      ? h('strong', { id: 'handover-signed' }, tf('handover_signed', { by: who(signed[0].by), at: time(signed[0].at), text: signed[0].text }))
      : h('span', { class: 'warn' }, t('handover_unsigned'))),
    hand.reliefs?.length ? h('p', { id: 'handover-reliefs' }, `${t('handover_reliefs')} : `,
      hand.reliefs.map((r) => tf('handover_relief', { team: r.team, from: r.outgoing, to: r.incoming })).join(' ; '), '.') : null,
    h('h3', {}, `${t('open_incidents')} (${hand.open_incidents.length})`),
    table([
      { label: t('number'), value: (i) => h('a', { href: `#/incidents?id=${i.number}` }, i.number) },
      { label: t('priority'), value: (i) => `P${i.priority}` },
      { label: t('state'), value: (i) => t(`inc_${i.state}`) },
      { label: t('description'), value: (i) => i.short_description },
      { label: t('assignment_group'), value: (i) => i.assignment_group || '—' },
      { label: t('sla_resolution'), value: (i) => clock(sla.get(i.number)?.resolution) },
    ], hand.open_incidents, { empty: t('no_data') }),
    h('h3', {}, `${t('handover_breaches')} (${hand.breaches.length})`),
    hand.breaches.length ? h('p', { class: 'bad' }, hand.breaches.join(', ')) : h('p', { class: 'good' }, t('none')),
    h('h3', {}, `${t('handover_pending')} (${hand.pending_actions.length})`),
    hand.pending_actions.length ? h('ul', {}, hand.pending_actions.map((a) => h('li', {}, a))) : h('p', { class: 'good' }, t('none')),
    h('h3', {}, `${t('entries')} (${hand.entries.length})`),
    h('ol', { class: 'timeline' }, hand.entries.map((e) => h('li', {}, `${time(e.at)} · ${t(`tl_${e.kind}`)} · ${who(e.by)} — ${e.text}`))),
    h('div', { class: 'row no-print' }, sign,
      h('button', { type: 'button', onclick: () => window.print() }, t('print'))));
}
