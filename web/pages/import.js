// Import: CSV/XLSX files validated first, the report line by line, nothing written until confirmed.
import { api, h, table, errorBox } from '../api.js';
import { t, num } from '../i18n.js';

export async function show(view) {
  const input = h('input', { type: 'file', multiple: true, accept: '.csv,.xlsx,.xlsm', id: 'files' });
  const out = h('div', {});
  const send = async (dry) => {
    const form = new FormData();
    for (const f of input.files) form.append('file', f, f.name);
    return api(`/api/v1/import${dry ? '?dry_run=true' : ''}`, { method: 'POST', body: form });
  };
  const report = (r) => table([
    { label: 'Table', value: ([k]) => k },
    { label: t('rows'), num: true, value: ([, v]) => num(v.rows) },
    { label: t('created'), num: true, value: ([, v]) => num(v.created) },
    { label: t('updated'), num: true, value: ([, v]) => num(v.updated) },
    { label: t('unchanged'), num: true, value: ([, v]) => num(v.unchanged) },
  ], Object.entries(r.report.tables));
  const validate = async () => {
    out.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    try {
      const r = await send(true);
      if (!r.valid) {
        out.replaceChildren(h('div', { class: 'panel' }, h('h2', { class: 'bad' }, `${t('problems')} : ${r.lines.length} — ${t('nothing_written')}`),
          h('ol', { id: 'problems' }, r.lines.map((l) => h('li', {}, l)))));
        return;
      }
      out.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, t('report')), report(r),
        h('p', {}, `${num(r.report.events)} ${t('events')}`),
        h('button', { class: 'primary', id: 'confirm', onclick: async () => {
          try { const done = await send(false); out.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, t('imported')), report(done))); } catch (e) { out.append(errorBox(e)); }
        } }, t('confirm'))));
    } catch (e) {
      const lines = e.body?.lines || [];
      out.replaceChildren(h('div', { class: 'panel' }, h('h2', { class: 'bad' }, `${t('problems')} : ${lines.length || ''} — ${t('nothing_written')}`),
        lines.length ? h('ol', { id: 'problems' }, lines.map((l) => h('li', {}, l))) : errorBox(e)));
    }
  };
  view.replaceChildren(h('div', { class: 'panel drop' }, h('label', {}, t('files'), input),
    h('button', { class: 'primary', onclick: validate }, t('validate'))), out);
  return {};
}
