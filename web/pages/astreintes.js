// Astreintes: who is on duty now (or at another time), team by team and level by level, with a click to call or
// write; the answer first: how many people hold how many teams, and the next hand-over. Three more views: the
// calendar (who holds each level when, overrides made and taken back there by those who edit rosters), the
// escalation policy (each team's chain of levels, the channels and rules), and the log of messages sent. A partner
// sees its own teams, a tactical group its duty officers (the server decides).
import { api, h, table, errorBox, may, pill, toast } from '../api.js';
import { t, tf, time } from '../i18n.js';

/** Clock time in Paris, HH:MM. @param {string} iso */
const hhmm = (iso) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

/** A `datetime-local` value in Paris time. @param {Date} d */
function localValue(d) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const VIEWS = ['now', 'calendrier', 'personnes', 'escalade', 'messages'];

/** The views' tabs, the current one marked. @param {string} current */
function tabs(current) {
  return h('nav', { class: 'tabs no-print', id: 'oncall-views', 'aria-label': t('astreintes') }, VIEWS.map((v) =>
    h('a', { class: 'button', href: v === 'now' ? '#/astreintes' : `#/astreintes?vue=${v}`,
      'aria-current': v === current ? 'page' : undefined }, t(`oc_view_${v}`))));
}

/** @param {HTMLElement} view @param {URLSearchParams} [params] */
export async function show(view, params) {
  const which = params?.get('vue') || 'now';
  if (which === 'calendrier') return calendar(view, params || new URLSearchParams());
  if (which === 'escalade') return escalation(view);
  if (which === 'messages') return messages(view, params || new URLSearchParams());
  if (which === 'personnes') return directory(view, params || new URLSearchParams());
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
    tabs('now'),
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

/** A person's colour in the calendar, the same wherever they appear. @param {string} id */
function hue(id) {
  // FNV-1a: ids that differ by one letter (ana-1, ana-2) land far apart on the colour wheel.
  let x = 2166136261;
  for (const c of id) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  return `hsl(${x % 360} 50% 27%)`; // dark enough for white text whatever the hue (WCAG AA)
}

/** Places a bar on its track (styles set through the DOM: the content security policy refuses style attributes).
 * @param {HTMLElement} el @param {number} left @param {number} width @param {string} [background] */
function place(el, left, width, background) {
  el.style.left = `${left}%`;
  el.style.width = `${width}%`;
  if (background) el.style.background = background;
  return el;
}

/** The day (Paris) of an instant, YYYY-MM-DD. @param {Date} d */
const dayOf = (d) => localValue(d).slice(0, 10);

/** The calendar: each team's levels as bars over the days, overrides marked; the override form for those who edit
 * rosters. @param {HTMLElement} view @param {URLSearchParams} params */
async function calendar(view, params) {
  const from = params.get('from') || dayOf(new Date());
  const days = Number(params.get('days') || 7);
  const team = params.get('team') || '';
  let data;
  try {
    data = await api(`/api/v1/oncall/calendar?from=${from}&days=${days}${team ? `&team=${encodeURIComponent(team)}` : ''}`);
  } catch (e) {
    view.replaceChildren(tabs('calendrier'), errorBox(e));
    return {};
  }
  const start = Date.parse(data.from);
  const end = Date.parse(data.until);
  const pct = (/** @type {string} */ iso) => ((Date.parse(iso) - start) / (end - start)) * 100;
  const levels = data.teams.flatMap((/** @type {any} */ tc) => tc.levels.map((/** @type {any} */ l) => ({ ...l, tc })));
  const overrides = levels.flatMap((/** @type {any} */ l) => l.spans.filter((/** @type {any} */ s) => s.reason));
  const writer = may('rosters:write');
  const formBox = h('div', { id: 'override-form' });
  /** Opens the form for a span of a level. @param {any} l @param {any} [s] */
  const edit = (l, s) => {
    if (!writer) return;
    formBox.replaceChildren(overrideForm(data.teams, l, s));
    formBox.scrollIntoView({ block: 'nearest' });
  };
  const dayMarks = [];
  for (let d = 0; d < days; d++) {
    const at = new Date(start + d * 86400e3 + 12 * 3600e3);
    dayMarks.push(place(h('div', { class: 'cal-day' },
      new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', weekday: 'short', day: '2-digit', month: '2-digit' }).format(at)),
    (d / days) * 100, 100 / days));
  }
  const rows = levels.map((/** @type {any} */ l) => h('div', { class: 'cal-row', 'data-team': l.tc.team_id, 'data-level': l.level },
    h(writer ? 'button' : 'div', { class: 'cal-label', type: writer ? 'button' : undefined, title: writer ? t('oc_edit_rotation') : undefined,
      onclick: writer ? () => {
        formBox.replaceChildren(rotationForm(data.teams, l), teamForm(data.teams, l.tc));
        formBox.scrollIntoView({ block: 'nearest' });
      } : undefined }, h('strong', {}, l.tc.team), ` · ${tf('oc_level_n', { n: l.level })}`,
      h('div', { class: 'small muted' }, `${t(`oc_period_${l.period}`)} : ${l.people.map((/** @type {any} */ p) => p.name).join(', ') || '—'}`)),
    h('div', { class: 'cal-track' }, l.spans.map((/** @type {any} */ s) => place(h(writer ? 'button' : 'div', {
      class: `cal-span${s.reason ? ' cal-override' : ''}`, type: writer ? 'button' : undefined,
      title: `${s.name} — ${time(s.from)} → ${time(s.until)}${s.reason ? ` — ${tf('oc_override', { why: s.reason })}` : ''}`,
      'data-person': s.person_id, onclick: () => edit(l, s) }, s.name),
    pct(s.from), Math.max(pct(s.until) - pct(s.from), 0.3), hue(s.person_id))))));
  const shift = (/** @type {number} */ n) => {
    const d = new Date(Date.parse(`${from}T12:00:00Z`) + n * 86400e3);
    const p = new URLSearchParams({ vue: 'calendrier', from: d.toISOString().slice(0, 10), days: String(days) });
    if (team) p.set('team', team);
    return `#/astreintes?${p}`;
  };
  view.replaceChildren(
    tabs('calendrier'),
    h('div', { class: 'panel' },
      h('h2', {}, t('oc_view_calendrier')),
      h('p', { class: 'sentence', id: 'calendar-answer' }, h('strong', {}, tf('oc_cal_answer', {
        from: new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit' }).format(new Date(start)),
        days, teams: data.teams.length, levels: levels.length, overrides: overrides.length })),
      writer ? ` ${t('oc_cal_hint')}` : ''),
      h('p', { class: 'row no-print' }, h('a', { href: shift(-days) }, `← ${t('oc_earlier')}`), ' ',
        h('a', { href: '#/astreintes?vue=calendrier' }, t('oc_today')), ' ', h('a', { href: shift(days) }, `${t('oc_later')} →`),
        writer ? h('button', { type: 'button', class: 'primary', id: 'new-override', onclick: () => levels[0] && edit(levels[0]) }, t('oc_new_override')) : null,
        writer ? h('button', { type: 'button', id: 'new-team', onclick: () => { formBox.replaceChildren(teamForm(data.teams, null)); } }, t('oc_new_team')) : null)),
    formBox,
    h('div', { class: 'panel calendar', id: 'calendar' },
      h('div', { class: 'cal-row cal-head' }, h('div', { class: 'cal-label' }), h('div', { class: 'cal-track' }, dayMarks)),
      rows.length ? rows : h('p', { class: 'muted' }, t('oc_nobody'))),
  );
  return {};
}

/** Who may hold a team's duty, as far as the calendar tells (the server decides): a partner's team, the people of
 * that partner's teams; an organisation's, those of its teams; a team of neither, everyone.
 * @param {any[]} teams @param {any} tc @returns {Map<string, string>} */
function eligible(teams, tc) {
  const same = (/** @type {any} */ x) => (tc.partner_id ? x.partner_id === tc.partner_id
    : tc.organization_id ? x.organization_id === tc.organization_id : true);
  /** @type {Map<string, string>} */
  const out = new Map();
  for (const x of teams.filter(same)) for (const lv of x.levels) for (const p of lv.people) out.set(p.id, p.name);
  return out;
}

/** The form that puts a person on duty for a span (or takes an override back).
 * @param {any[]} teams @param {any} l @param {any} [s] */
function overrideForm(teams, l, s) {
  const options = teams.flatMap((/** @type {any} */ tc) => tc.levels.map((/** @type {any} */ lv) =>
    h('option', { value: `${tc.team_id}|${lv.level}`, selected: tc.team_id === l.tc.team_id && lv.level === l.level },
      `${tc.team} · ${tf('oc_level_n', { n: lv.level })}`)));
  // Whom to put on duty: the level's own people first, then the others who may hold it, by name.
  const everyone = eligible(teams, l.tc);
  const own = new Set(l.people.map((/** @type {any} */ p) => p.id));
  const byName = (/** @type {[string, string]} */ a, /** @type {[string, string]} */ b) => a[1].localeCompare(b[1], 'fr');
  const pick = (/** @type {[string, string]} */ [id, name]) => h('option', { value: id, selected: s?.reason ? s.person_id === id : false }, name);
  const people = h('select', { name: 'person', required: true },
    h('option', { value: '' }, t('oc_person_hint')),
    h('optgroup', { label: `${l.tc.team} · ${tf('oc_level_n', { n: l.level })}` }, [...everyone].filter(([id]) => own.has(id)).sort(byName).map(pick)),
    h('optgroup', { label: t('oc_others') }, [...everyone].filter(([id]) => !own.has(id)).sort(byName).map(pick)));
  const status = h('div', { id: 'override-status' });
  const submit = async (/** @type {boolean} */ removed) => {
    const f = new FormData(/** @type {HTMLFormElement} */ (document.getElementById('override')));
    const [team_id, level] = String(f.get('which')).split('|');
    const body = { team_id, level: Number(level), from: String(f.get('from')).replace('T', ' '), until: String(f.get('until')).replace('T', ' '),
      person_id: String(f.get('person')), reason: String(f.get('reason') || ''), removed };
    try {
      await api('/api/v1/oncall/overrides', { method: 'POST', body });
      toast(removed ? t('oc_override_removed') : t('oc_override_saved'));
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  };
  const fromValue = s ? localValue(new Date(s.override_from || s.from)) : localValue(new Date());
  const untilValue = s ? localValue(new Date(s.until)) : localValue(new Date(Date.now() + 8 * 3600e3));
  return h('div', { class: 'panel' },
    h('h3', {}, s?.reason ? tf('oc_override_of', { who: s.name }) : t('oc_new_override')),
    h('form', { id: 'override', class: 'row', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); submit(false); } },
      h('label', {}, t('oc_team'), h('select', { name: 'which' }, options)),
      h('label', {}, t('oc_from'), h('input', { type: 'datetime-local', name: 'from', value: fromValue, required: true })),
      h('label', {}, t('oc_to'), h('input', { type: 'datetime-local', name: 'until', value: untilValue, required: true })),
      h('label', {}, t('oc_person'), people),
      h('label', {}, t('oc_reason'), h('input', { name: 'reason', maxlength: 200, value: s?.reason || '', placeholder: t('oc_reason_hint') })),
      h('button', { type: 'submit', class: 'primary' }, t('oc_save_override')),
      s?.reason ? h('button', { type: 'button', id: 'remove-override', onclick: () => submit(true) }, t('oc_remove_override')) : null),
    status);
}

/** The form that sets a rotation: who takes turns (in order: moved up, taken off, added), how often, from when.
 * @param {any[]} teams @param {any} l */
function rotationForm(teams, l) {
  const everyone = eligible(teams, l.tc);
  /** @type {{id: string, name: string}[]} */
  const order = l.people.map((/** @type {any} */ p) => ({ id: p.id, name: p.name }));
  const list = h('ol', { id: 'rotation-people' });
  const adder = h('select', { id: 'rotation-add', 'aria-label': t('oc_add_person') });
  const draw = () => {
    list.replaceChildren(...order.map((p, k) => h('li', { 'data-person': p.id }, p.name, ' ',
      k ? h('button', { type: 'button', class: 'small', 'aria-label': `${t('oc_up')} ${p.name}`, onclick: () => { order.splice(k - 1, 0, ...order.splice(k, 1)); draw(); } }, '↑') : null,
      h('button', { type: 'button', class: 'small', 'aria-label': `${t('oc_take_off')} ${p.name}`, onclick: () => { order.splice(k, 1); draw(); } }, '✕'))));
    adder.replaceChildren(h('option', { value: '' }, t('oc_add_person')), ...[...everyone]
      .filter(([id]) => !order.some((p) => p.id === id)).sort((a, b) => a[1].localeCompare(b[1], 'fr'))
      .map(([id, name]) => h('option', { value: id }, name)));
  };
  adder.addEventListener('change', () => {
    if (adder.value) order.push({ id: adder.value, name: everyone.get(adder.value) || adder.value });
    draw();
  });
  draw();
  const status = h('div', { id: 'rotation-status' });
  const submit = async (/** @type {Event} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const body = { team_id: l.tc.team_id, level: l.level, period: String(f.get('period')),
      starts_at: String(f.get('starts_at')).replace('T', ' '), people: order.map((p) => p.id) };
    try {
      await api('/api/v1/oncall/rotations', { method: 'POST', body });
      toast(t('oc_rotation_saved'));
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      status.replaceChildren(errorBox(err));
    }
  };
  return h('div', { class: 'panel' },
    h('h3', {}, `${t('oc_edit_rotation')} — ${l.tc.team} · ${tf('oc_level_n', { n: l.level })}`),
    h('form', { id: 'rotation', class: 'row', onsubmit: submit },
      h('label', {}, t('oc_period'), h('select', { name: 'period' }, ['shift', 'daily', 'weekly'].map((v) =>
        h('option', { value: v, selected: v === l.period }, t(`oc_period_${v}`))))),
      h('label', {}, t('oc_first_handover'), h('input', { type: 'datetime-local', name: 'starts_at', value: localValue(new Date(l.starts_at)), required: true })),
      h('div', {}, h('div', { class: 'small muted' }, t('oc_turns')), list, adder),
      h('button', { type: 'submit', class: 'primary' }, t('oc_save_rotation'))),
    status);
}

/** The people of the rosters with their contact points, by name; those who edit rosters change them or add one.
 * @param {HTMLElement} view @param {URLSearchParams} params */
async function directory(view, params) {
  let data;
  try {
    data = await api('/api/v1/oncall/people');
  } catch (e) {
    view.replaceChildren(tabs('personnes'), errorBox(e));
    return {};
  }
  const q = (params.get('q') || '').toLowerCase();
  const rows = data.items.filter((/** @type {any} */ p) => !q || [p.id, p.name, p.email, p.partner_id, p.organization_id]
    .some((x) => String(x || '').toLowerCase().includes(q)));
  const writer = may('rosters:write');
  const formBox = h('div', { id: 'person-form' });
  const missing = data.items.filter((/** @type {any} */ p) => !p.email && !p.mobile).length;
  const edit = (/** @type {any} */ p) => {
    formBox.replaceChildren(personForm(p));
    formBox.scrollIntoView({ block: 'nearest' });
  };
  view.replaceChildren(
    tabs('personnes'),
    h('div', { class: 'panel' },
      h('h2', {}, t('oc_view_personnes')),
      h('p', { class: 'sentence', id: 'people-answer' }, h('strong', {}, tf('oc_people_answer', { n: data.items.length })), ' ',
        missing ? h('span', { class: 'warn' }, tf('oc_people_missing', { n: missing })) : t('oc_people_all_reachable')),
      h('form', { class: 'row no-print', onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const v = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get('q') || '');
        location.hash = `#/astreintes?vue=personnes${v ? `&q=${encodeURIComponent(v)}` : ''}`;
      } }, h('label', {}, t('oc_search'), h('input', { type: 'search', name: 'q', value: params.get('q') || '' })),
      h('button', { type: 'submit' }, t('oc_show')),
      writer ? h('button', { type: 'button', class: 'primary', id: 'new-person', onclick: () => edit(null) }, t('oc_new_person')) : null)),
    formBox,
    h('div', { class: 'panel', id: 'people' }, table([
      { label: t('oc_person'), value: (/** @type {any} */ p) => [h('strong', {}, p.name), h('div', { class: 'small muted' }, p.id)] },
      { label: t('oc_whom'), value: (/** @type {any} */ p) => p.partner_id || p.organization_id || '—' },
      { label: t('oc_email'), value: (/** @type {any} */ p) => p.email ? h('a', { href: `mailto:${p.email}` }, p.email) : '—' },
      { label: t('oc_mobile'), value: (/** @type {any} */ p) => p.mobile ? h('a', { href: `tel:${p.mobile}` }, p.mobile) : '—' },
      { label: t('oc_chat'), value: (/** @type {any} */ p) => p.chat || '—' },
    ], rows, { onRow: writer ? edit : undefined, empty: t('oc_nobody') })));
  return {};
}

/** The form that writes a person (null: a new one). @param {any} p */
function personForm(p) {
  const status = h('div', { id: 'person-status' });
  const field = (/** @type {string} */ name, /** @type {string} */ label, /** @type {Record<string, any>} */ attrs = {}) =>
    h('label', {}, label, h('input', { name, value: p?.[name] ?? '', ...attrs }));
  return h('div', { class: 'panel' },
    h('h3', {}, p ? tf('oc_edit_person', { who: p.name }) : t('oc_new_person')),
    h('form', { id: 'person', class: 'row', onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (e.target)));
      const body = { id: String(f.id), name: String(f.name), email: String(f.email || ''), mobile: String(f.mobile || ''),
        chat: String(f.chat || ''), partner_id: String(f.partner_id || '') || null, organization_id: String(f.organization_id || '') || null };
      try {
        await api('/api/v1/oncall/people', { method: 'POST', body });
        toast(t('oc_person_saved'));
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (err) {
        status.replaceChildren(errorBox(err));
      }
    } },
    field('id', t('oc_id'), { required: true, readonly: p ? true : undefined }),
    field('name', t('oc_name'), { required: true, maxlength: 200 }),
    field('email', t('oc_email'), { type: 'email', maxlength: 200 }),
    field('mobile', t('oc_mobile'), { type: 'tel', placeholder: '06 12 34 56 78' }),
    field('chat', t('oc_chat_handle'), { maxlength: 200 }),
    field('partner_id', t('oc_partner')),
    field('organization_id', t('oc_organization')),
    h('button', { type: 'submit', class: 'primary' }, t('oc_save_person'))),
    status);
}

/** The form that writes a team: a new one with its first level (period, first hand-over, first person), or one's
 * name, partner, site, organisation and chat channel. @param {any[]} teams @param {any} tc */
function teamForm(teams, tc) {
  /** @type {Map<string, string>} */
  const everyone = new Map();
  for (const x of teams) for (const lv of x.levels) for (const p of lv.people) everyone.set(p.id, p.name);
  const status = h('div', { id: 'team-status' });
  const field = (/** @type {string} */ name, /** @type {string} */ label, /** @type {Record<string, any>} */ attrs = {}) =>
    h('label', {}, label, h('input', { name, value: tc?.[name] ?? '', ...attrs }));
  return h('div', { class: 'panel' },
    h('h3', {}, tc ? tf('oc_edit_team', { team: tc.team }) : t('oc_new_team')),
    h('form', { id: 'team', class: 'row', onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (e.target)));
      const opt = (/** @type {any} */ v) => String(v || '').trim() || null;
      const team = { id: String(f.team_id), name: String(f.name), partner_id: opt(f.partner_id), site_id: opt(f.site_id),
        organization_id: opt(f.organization_id), webhook: String(f.webhook || '') };
      try {
        await api('/api/v1/oncall/teams', { method: 'POST', body: team });
        if (!tc) {
          await api('/api/v1/oncall/rotations', { method: 'POST', body: { team_id: team.id, level: 1, period: String(f.period),
            starts_at: String(f.starts_at).replace('T', ' '), people: [String(f.person)] } });
        }
        toast(t('oc_team_saved'));
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (err) {
        status.replaceChildren(errorBox(err));
      }
    } },
    h('label', {}, t('oc_id'), h('input', { name: 'team_id', value: tc?.team_id ?? '', required: true, readonly: tc ? true : undefined })),
    h('label', {}, t('oc_name'), h('input', { name: 'name', value: tc?.team ?? '', required: true, maxlength: 200 })),
    field('partner_id', t('oc_partner')), field('site_id', t('oc_site')), field('organization_id', t('oc_organization')),
    field('webhook', t('oc_chat'), { placeholder: t('oc_webhook_hint') }),
    tc ? null : [
      h('label', {}, t('oc_period'), h('select', { name: 'period' }, ['shift', 'daily', 'weekly'].map((v) => h('option', { value: v }, t(`oc_period_${v}`))))),
      h('label', {}, t('oc_first_handover'), h('input', { type: 'datetime-local', name: 'starts_at', value: `${dayOf(new Date())}T06:00`, required: true })),
      h('label', {}, t('oc_first_person'), h('select', { name: 'person', required: true }, h('option', { value: '' }, t('oc_person_hint')),
        [...everyone].sort((a, b) => a[1].localeCompare(b[1], 'fr')).map(([id, name]) => h('option', { value: id }, name)))),
    ],
    h('button', { type: 'submit', class: 'primary' }, t('oc_save_team'))),
    status);
}

/** The escalation policy: how people are paged, in sentences, then each team's chain. @param {HTMLElement} view */
async function escalation(view) {
  let data;
  try {
    data = await api('/api/v1/oncall/escalation');
  } catch (e) {
    view.replaceChildren(tabs('escalade'), errorBox(e));
    return {};
  }
  const p = data.paging;
  const chats = new Map((p?.chat || []).map((/** @type {any} */ c) => [c.name, c.format]));
  const rules = p ? [
    tf('oc_rule_escalate', { min: p.escalate_after_min, repeats: p.escalation_repeats }),
    t('oc_rule_updates'),
    tf('oc_rule_plans', { ship: p.plan_ship_within_min, late: p.plan_late_after_min }),
    p.coverage.length ? tf('oc_rule_coverage', { items: p.coverage.map((/** @type {any} */ c) =>
      `${c.item} < ${Math.round(c.below * 100)} % / ${c.days} j`).join(', ') }) : null,
    p.warn_before_shift_min ? tf('oc_rule_shift', { min: p.warn_before_shift_min }) : null,
    p.link_ttl_min ? tf('oc_rule_link', { min: p.link_ttl_min }) : null,
    tf('oc_rule_old', { min: p.page_opened_within_min }),
    t('oc_rule_quiet'),
  ].filter(Boolean) : [];
  const channels = p ? [t('oc_ch_email'),
    p.sms.gateways.length ? tf('oc_ch_sms', { p: p.sms.up_to_priority, gw: p.sms.gateways.join(' → ') }) : null,
    p.voice.gateways.length ? tf('oc_ch_voice', { p: p.voice.up_to_priority, gw: p.voice.gateways.join(' → ') }) : null,
    p.chat.length ? tf('oc_ch_chat', { n: p.chat.length }) : null].filter(Boolean) : [];
  view.replaceChildren(
    tabs('escalade'),
    h('div', { class: 'panel' },
      h('h2', {}, t('oc_view_escalade')),
      h('p', { class: 'sentence', id: 'escalation-answer' }, h('strong', {},
        p ? tf('oc_esc_answer', { min: p.escalate_after_min, teams: data.teams.length }) : t('oc_esc_off')),
      p ? ` ${tf('oc_esc_channels', { list: channels.join(', ') })}` : ''),
      rules.length ? h('ul', { id: 'rules' }, rules.map((r) => h('li', {}, r))) : null),
    h('div', { class: 'panel', id: 'chains' },
      table([
        { label: t('oc_team'), value: (/** @type {any} */ tc) => [h('strong', {}, tc.team), h('div', { class: 'small muted' },
          [tc.partner_id, tc.organization_id, tc.site_id].filter(Boolean).join(' · ') || tc.team_id)] },
        { label: t('oc_chain'), value: (/** @type {any} */ tc) => h('span', { class: 'chain' }, tc.levels.map((/** @type {any} */ l, /** @type {number} */ i) => [
          i ? h('span', { class: 'muted' }, ` → ${p ? tf('oc_after', { min: p.escalate_after_min }) : ''} → `) : null,
          h('span', {}, h('strong', {}, tf('oc_level_n', { n: l.level })), ' ', l.spans[0]?.name || t('oc_nobody_short'),
            h('span', { class: 'small muted' }, ` (${t(`oc_period_${l.period}`)}, ${l.people.length})`))]).flat()) },
        { label: t('oc_chat'), value: (/** @type {any} */ tc) => tc.webhook
          ? `${tc.webhook}${chats.has(tc.webhook) ? ` (${chats.get(tc.webhook)})` : ` — ${t('oc_chat_unknown')}`}` : '—' },
      ], data.teams, { empty: t('oc_nobody') })),
  );
  return {};
}

/** The notification log. @param {HTMLElement} view @param {URLSearchParams} params */
async function messages(view, params) {
  const q = new URLSearchParams();
  for (const k of ['status', 'channel', 'q']) if (params.get(k)) q.set(k, String(params.get(k)));
  let data;
  try {
    data = await api(`/api/v1/notifications?${q}`);
  } catch (e) {
    view.replaceChildren(tabs('messages'), errorBox(e));
    return {};
  }
  const tone = { sent: 'OK', queued: 'MAINTENANCE', failed: 'WARNING', given_up: 'CRITICAL' };
  const form = h('form', { class: 'row no-print', id: 'log-filter', onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const p = new URLSearchParams({ vue: 'messages' });
    for (const k of ['status', 'channel', 'q']) if (f.get(k)) p.set(k, String(f.get(k)));
    location.hash = `#/astreintes?${p}`;
  } },
  h('label', {}, t('oc_state'), h('select', { name: 'status' }, ['', 'sent', 'queued', 'failed', 'given_up'].map((v) =>
    h('option', { value: v, selected: params.get('status') === v }, v ? t(`oc_st_${v}`) : t('oc_all'))))),
  h('label', {}, t('oc_channel'), h('select', { name: 'channel' }, ['', 'email', 'chat', 'sms', 'voice'].map((v) =>
    h('option', { value: v, selected: params.get('channel') === v }, v ? t(`oc_chan_${v}`) : t('oc_all'))))),
  h('label', {}, t('oc_search'), h('input', { type: 'search', name: 'q', value: params.get('q') || '', placeholder: 'INC0000042, ana…' })),
  h('button', { type: 'submit' }, t('oc_show')));
  view.replaceChildren(
    tabs('messages'),
    h('div', { class: 'panel' },
      h('h2', {}, t('oc_view_messages')),
      h('p', { class: 'sentence', id: 'log-answer' },
        h('strong', {}, tf('oc_log_answer', { total: data.total, sent: data.sent })), ' ',
        !data.total ? t('oc_log_none') : data.failed || data.given_up || data.queued
          ? h('span', { class: data.given_up ? 'crit' : 'warn' }, tf('oc_log_rest', { failed: data.failed, given_up: data.given_up, queued: data.queued }))
          : t('oc_log_all_sent')),
      form),
    h('div', { class: 'panel', id: 'log' },
      table([
        { label: t('oc_when'), value: (/** @type {any} */ l) => time(l.queued_at) },
        { label: t('oc_why'), value: (/** @type {any} */ l) => t(`oc_why_${l.notification.why}`) },
        { label: t('oc_to_whom'), value: (/** @type {any} */ l) => [h('strong', {}, l.person), h('div', { class: 'small muted' },
          `${t(`oc_chan_${l.notification.channel}`)} · ${l.team} · ${tf('oc_level_n', { n: l.notification.level })}`)] },
        { label: t('oc_subject'), value: (/** @type {any} */ l) => l.notification.number
          ? h('a', { href: `#/incidents?id=${l.notification.number}` }, l.notification.subject.replace(/^\[Vigie\] /, ''))
          : l.notification.subject.replace(/^\[Vigie\] /, '') },
        { label: t('oc_state'), value: (/** @type {any} */ l) => [pill(/** @type {any} */ (tone)[l.state], t(`oc_st_${l.state}`)),
          h('div', { class: 'small muted' }, l.status === 'sent' ? `${time(l.at)} · ${l.detail}` : l.error
            ? `${l.error}${l.retry_at ? ` · ${tf('oc_retry', { at: time(l.retry_at) })}` : ''}` : '', l.attempts > 1 ? ` · ${tf('oc_attempts', { n: l.attempts })}` : '')] },
        { label: t('oc_acked'), value: (/** @type {any} */ l) => l.acknowledged ? `${time(l.acknowledged[0])} · ${l.acknowledged[1]}` : '—' },
      ], data.items, { empty: t('oc_log_empty') })),
  );
  return {};
}
