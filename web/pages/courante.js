// Main courante: the operations log of the shift on duty, new entries, and the hand-over to the next shift.
import { api, may, h, table, errorBox } from '../api.js';
import { t, time } from '../i18n.js';

export async function show(view) {
  const [log, hand] = await Promise.all([api('/api/v1/log'), api('/api/v1/log/handover')]);
  const text = h('input', { name: 'text', required: true, size: 60 });
  const kind = h('select', { name: 'kind' }, ['note', 'decision', 'handover'].map((k) => h('option', { value: k }, k)));
  const msg = h('div');
  const add = may('incidents:write') ? h('form', { class: 'row panel', onsubmit: async (e) => {
    e.preventDefault();
    try { await api('/api/v1/log', { method: 'POST', body: { text: text.value, kind: kind.value } }); show(view); } catch (err) { msg.replaceChildren(errorBox(err)); }
  } }, h('label', {}, t('text'), text), h('label', {}, t('kind'), kind), h('button', { class: 'primary', type: 'submit' }, t('add')), msg) : null;
  view.replaceChildren(add, h('div', { class: 'grid2' },
    h('div', { class: 'panel' }, h('h2', {}, `${t('shift_now')} ${log.shift}`), table([
      { label: t('since'), value: (e) => time(e.at) },
      { label: t('kind'), value: (e) => e.kind },
      { label: t('user'), value: (e) => e.by },
      { label: t('text'), value: (e) => e.text },
    ], log.entries.slice().reverse(), { empty: t('no_data') })),
    h('div', { class: 'panel' }, h('h2', {}, t('handover')),
      h('p', {}, `${hand.open_incidents?.length ?? 0} ${t('open_incidents').toLowerCase()}`),
      h('ul', {}, (hand.open_incidents || []).map((i) => h('li', {}, `${i.number} P${i.priority} — ${i.short_description}`))),
      h('pre', { class: 'small muted' }, JSON.stringify({ breaches: hand.sla_breaches?.length, pending: hand.pending_actions?.length }, null, 1)))));
  return {};
}
