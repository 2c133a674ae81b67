// Import: CSV/XLSX files dropped or chosen, validated first (what would change, reductions and disappearances
// included, with a warning; bad rows shown with their content), nothing written until confirmed; confirming
// commits what the validation read, without sending the files again.
import { api, h, table, errorBox } from '../api.js';
import { t, tf, num, problemText } from '../i18n.js';

/** The problems in the user's language, each with the row it points at (read from the file in the browser when it
 * is text). */
async function problemList(problems, files) {
  const texts = new Map();
  for (const f of files) {
    if (/\.(csv|txt)$/i.test(f.name) && f.size < 64 * 1024 * 1024) texts.set(f.name, (await f.text()).split(/\r?\n/));
  }
  return h('ol', { id: 'problems' }, problems.map((p) => {
    const row = p.line ? texts.get(p.file)?.[p.line - 1] : undefined;
    return h('li', {}, problemText(p), row !== undefined && row !== null ? h('pre', { class: 'row-content' }, row.slice(0, 400)) : null);
  }));
}

export async function show(view) {
  // The browser's own file button speaks the browser's language: ours says it in the UI's.
  const input = h('input', { type: 'file', multiple: true, accept: '.csv,.xlsx,.xlsm', id: 'files', class: 'visually-hidden' });
  let files = [];
  const chosen = h('p', { class: 'muted', id: 'chosen' });
  const pick = (list) => {
    files = [...list];
    chosen.textContent = files.length ? files.map((f) => f.name).join(', ') : t('drop_here');
  };
  input.addEventListener('change', () => pick(input.files));
  pick([]);
  const out = h('div', {});
  const report = (r) => table([
    { label: t('table'), value: ([k]) => k },
    { label: t('rows'), num: true, value: ([, v]) => num(v.rows) },
    { label: t('created'), num: true, value: ([, v]) => num(v.created) },
    { label: t('updated'), num: true, value: ([, v]) => num(v.updated) },
    { label: t('unchanged'), num: true, value: ([, v]) => num(v.unchanged) },
  ], Object.entries(r.report.tables));
  // What a recount takes away, said before anything is written.
  const reductions = (r) => {
    const list = r.report.reductions || [];
    if (!list.length) return null;
    const gone = list.filter((x) => Number(x.after) === 0).length;
    return h('div', { class: 'warn', id: 'reductions', role: 'alert' },
      h('p', {}, tf('import_reductions', { n: num(list.length + (r.report.reductions_more || 0)), gone: num(gone) })),
      table([
        { label: t('site'), value: (x) => x.site_id },
        { label: t('item'), value: (x) => x.item_id },
        { label: t('before'), num: true, value: (x) => num(x.before) },
        { label: t('after'), num: true, value: (x) => num(x.after), cls: (x) => (Number(x.after) === 0 ? 'bad' : '') },
      ], list.slice(0, 200)));
  };
  const validate = async () => {
    if (!files.length) { out.replaceChildren(h('p', { class: 'warn' }, t('drop_here'))); return; }
    out.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    try {
      const form = new FormData();
      for (const f of files) form.append('file', f, f.name);
      const r = await api('/api/v1/import?dry_run=true', { method: 'POST', body: form });
      if (!r.valid) {
        out.replaceChildren(h('div', { class: 'panel' }, h('h2', { class: 'bad' }, `${t('problems')} : ${r.problems.length} — ${t('nothing_written')}`),
          await problemList(r.problems, files)));
        return;
      }
      out.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, t('report')), report(r), reductions(r),
        h('p', {}, `${num(r.report.events)} ${t('events')}`),
        h('button', { class: 'primary', id: 'confirm', onclick: async (e) => {
          e.target.disabled = true;
          try {
            // The validated files are committed as they were read: nothing is sent again.
            const done = await api(`/api/v1/import/previews/${encodeURIComponent(r.preview)}`, { method: 'POST' });
            out.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, t('imported')), report(done), reductions(done)));
          } catch (err) { e.target.disabled = false; out.append(errorBox(err)); }
        } }, t('confirm'))));
    } catch (e) {
      const problems = e.body?.problems || [];
      out.replaceChildren(h('div', { class: 'panel' }, h('h2', { class: 'bad' }, `${t('problems')} : ${problems.length || ''} — ${t('nothing_written')}`),
        problems.length ? await problemList(problems, files) : errorBox(e)));
    }
  };
  // Files can be dropped on the zone as well as chosen.
  const zone = h('div', { class: 'panel drop', id: 'drop-zone',
    ondragover: (e) => { e.preventDefault(); zone.classList.add('over'); },
    ondragleave: () => zone.classList.remove('over'),
    ondrop: (e) => { e.preventDefault(); zone.classList.remove('over'); pick(e.dataTransfer.files); } },
  h('label', { class: 'button', for: 'files' }, t('choose_files')), input, chosen,
  h('button', { class: 'primary', onclick: validate }, t('validate')));
  view.replaceChildren(zone, out);
  return {};
}
