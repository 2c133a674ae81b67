// Astreintes: who is on duty now (or at another time), team by team and level by level, with a click to call or
// write; the answer first: how many people hold how many teams, and the next hand-over. A partner sees its own
// teams, a tactical group its duty officers (the server decides).
import { api, h, table, errorBox } from '../api.js';
import { t, tf, time } from '../i18n.js';

/** Clock time in Paris, HH:MM. @param {string} iso */
const hhmm = (iso) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

/** A `datetime-local` value in Paris time. @param {Date} d */
function localValue(d) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** @param {HTMLElement} view @param {URLSearchParams} [params] */
export async function show(view, params) {
  const at = params?.get('at') || '';
  const q = params?.get('q') || '';
  let data;
  try {
    data = await api(`/api/v1/oncall${at ? `?at=${encodeURIComponent(at.replace('T', ' '))}` : ''}`);
  } catch (e) {
    view.replaceChildren(errorBox(e));
    return {};
  }
  /** @type {Map<string, any[]>} */
  const byTeam = new Map();
  for (const d of data.items) {
    if (!byTeam.has(d.team_id)) byTeam.set(d.team_id, []);
    byTeam.get(d.team_id).push(d);
  }
  const words = q.toLowerCase();
  const teams = [...byTeam.values()].filter((levels) => !words || levels.some((d) =>
    [d.team, d.team_id, d.name, d.partner_id, d.organization_id, d.site_id].some((x) => String(x || '').toLowerCase().includes(words))));
  const people = new Set(data.items.map((/** @type {any} */ d) => d.person_id)).size;
  const next = data.items.reduce((/** @type {any} */ n, /** @type {any} */ d) => (!n || d.until < n.until ? d : n), null);
  // The teams that hand over next, together.
  const handing = new Set(data.items.filter((/** @type {any} */ d) => d.until === next?.until).map((/** @type {any} */ d) => d.team_id));
  const person = (/** @type {any} */ d) => d ? h('span', { class: 'duty' },
    h('strong', {}, d.name),
    d.mobile ? [' · ', h('a', { href: `tel:${d.mobile}` }, d.mobile)] : null,
    d.email ? [' · ', h('a', { href: `mailto:${d.email}` }, d.email)] : null,
    h('span', { class: 'small muted' }, ` ${Date.parse(d.until) - Date.parse(data.at) > 20 * 3600e3
      ? tf('oc_until_day', { at: time(d.until) }) : tf('oc_until', { at: hhmm(d.until) })}`),
    d.override_reason ? h('span', { class: 'small warn' }, ` (${tf('oc_override', { why: d.override_reason })})`) : null) : '—';
  const form = h('form', { class: 'row no-print', id: 'oncall-filter', onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const p = new URLSearchParams();
    if (f.get('at')) p.set('at', String(f.get('at')));
    if (f.get('q')) p.set('q', String(f.get('q')));
    location.hash = `#/astreintes${p.size ? `?${p}` : ''}`;
  } },
  h('label', {}, t('oc_at'), h('input', { type: 'datetime-local', name: 'at', value: at || localValue(new Date(data.at)) })),
  h('label', {}, t('oc_search'), h('input', { type: 'search', name: 'q', value: q, placeholder: t('oc_search_hint') })),
  h('button', { type: 'submit' }, t('oc_show')),
  at ? h('a', { href: '#/astreintes' }, t('oc_now')) : null);
  view.replaceChildren(
    h('div', { class: 'panel' },
      h('h2', {}, t('astreintes')),
      h('p', { class: 'sentence', id: 'oncall-answer' },
        h('strong', {}, tf(at ? 'oc_answer_at' : 'oc_answer', { people, teams: byTeam.size, at: time(data.at) })), ' ',
        next ? tf('oc_next', { at: hhmm(next.until), team: handing.size > 1 ? tf('oc_teams', { n: handing.size }) : next.team }) : ''),
      form),
    h('div', { class: 'panel', id: 'oncall' },
      table([
        { label: t('oc_team'), value: (/** @type {any[]} */ l) => [h('strong', {}, l[0].team), h('div', { class: 'small muted' },
          [l[0].partner_id, l[0].organization_id, l[0].site_id].filter(Boolean).join(' · ') || l[0].team_id)] },
        { label: t('oc_level1'), value: (/** @type {any[]} */ l) => person(l.find((d) => d.level === 1)) },
        { label: t('oc_level2'), value: (/** @type {any[]} */ l) => person(l.find((d) => d.level === 2)) },
      ], teams, { empty: t('oc_nobody') })),
  );
  return {};
}
