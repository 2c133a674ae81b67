// Exercices: start one from a shipped scenario (who may run exercises), join it, follow its clock and injects,
// pause, resume or end it, and open its after-action review: expected against done, response times, what was
// missed, the participants' actions in order, to download as PDF, XLSX or CSV.
import { api, caller, may, h, table, toast, errorBox } from '../api.js';
import { t, tf, time } from '../i18n.js';

/** `hh:mm:ss` of seconds. */
export function hms(/** @type {number} */ s) {
  const n = Math.max(0, Math.floor(s));
  return [Math.floor(n / 3600), Math.floor(n / 60) % 60, n % 60].map((x) => String(x).padStart(2, '0')).join(':');
}

/** Joins an exercise: the browser goes to its sandbox, signed in there as itself. */
export async function join(/** @type {string} */ id) {
  await api(`/api/v1/exercises/${encodeURIComponent(id)}/join`, { method: 'POST' });
  location.hash = '#/';
  location.reload();
}

/** Leaves the exercise: back to the live Vigie. */
export async function leave() {
  await api('/api/v1/exercise/leave', { method: 'POST' }).catch(() => {});
  location.hash = '#/exercices';
  location.reload();
}

export async function show(view, params) {
  const review = params.get('review');
  if (review) return showReview(view, review);
  const status = h('div', { id: 'exercise-status' });
  const act = async (/** @type {() => Promise<any>} */ f, /** @type {string} */ done) => {
    try {
      await f();
      toast(done);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  };
  const { items, current } = await api('/api/v1/exercises');
  const running = items.filter((/** @type {any} */ x) => !x.ended);
  const parts = [h('div', { class: 'panel' },
    h('h2', {}, t('exercices')),
    h('p', { class: 'sentence', id: 'exercises-answer' }, running.length
      ? h('strong', { class: 'warn' }, tf('ex_running', { n: running.length, names: running.map((/** @type {any} */ x) => x.name).join(', ') }))
      : h('strong', {}, t('ex_none_running'))),
    current ? h('p', {}, tf('ex_inside', { name: current.name }), ' ',
      h('button', { class: 'primary', id: 'exercise-leave', onclick: () => leave() }, t('ex_leave'))) : null,
    status)];
  if (may('exercises:run') && !current) {
    const scenarios = (await api('/api/v1/exercises/scenarios')).items;
    const pick = h('select', { id: 'ex-scenario', name: 'scenario' },
      scenarios.map((/** @type {any} */ s) => h('option', { value: s.id }, `${s.name} (${tf('ex_injects', { n: s.injects })})`)));
    const speed = h('input', { id: 'ex-speed', name: 'speed', type: 'number', min: '0.1', max: '3600', step: '0.1', value: '1' });
    const about = h('p', { class: 'muted', id: 'ex-about' }, scenarios[0]?.description || '');
    pick.addEventListener('change', () => { about.textContent = scenarios.find((/** @type {any} */ s) => s.id === pick.value)?.description || ''; });
    parts.push(h('form', { class: 'panel', id: 'exercise-start', onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      act(() => api('/api/v1/exercises', { method: 'POST', body: { scenario: pick.value, speed: Number(speed.value) } }), t('ex_started'));
    } },
    h('h3', {}, t('ex_start_title')),
    h('p', { class: 'muted' }, t('ex_start_note')),
    h('p', { class: 'row' }, h('label', { for: 'ex-scenario' }, t('ex_scenario')), pick,
      h('label', { for: 'ex-speed' }, t('ex_speed')), speed,
      h('button', { type: 'submit', class: 'primary' }, t('ex_start'))),
    about));
  }
  const control = (/** @type {any} */ x, /** @type {string} */ action) => h('button', { 'data-exercise': x.id, 'data-action': action,
    onclick: () => act(() => api(`/api/v1/exercises/${encodeURIComponent(x.id)}/control`, { method: 'POST', body: { action } }), t(`ex_${action}_done`)) },
  t(`ex_${action}`));
  parts.push(h('div', { class: 'panel', id: 'exercise-list' }, table([
    { label: t('ex_name'), value: (/** @type {any} */ x) => x.name },
    { label: t('ex_started_at'), value: (/** @type {any} */ x) => time(x.started) },
    { label: t('ex_clock'), num: true, value: (/** @type {any} */ x) => `T+${hms(x.elapsed_s)} ×${x.speed}${x.paused ? ` (${t('ex_paused')})` : ''}` },
    { label: t('ex_fired'), num: true, value: (/** @type {any} */ x) => `${x.fired} / ${x.injects_total}` },
    { label: t('state'), value: (/** @type {any} */ x) => (x.ended ? t('ex_ended') : t('ex_running_one')) },
    { label: '', value: (/** @type {any} */ x) => h('span', { class: 'row' },
      !x.ended && current?.id !== x.id ? h('button', { class: 'primary', 'data-join': x.id, onclick: () => act(() => join(x.id), t('ex_joined')) }, t('ex_join')) : null,
      // Steered and reviewed from the live Vigie only (inside, the permissions are the picture's).
      !x.ended && may('exercises:run') && !current ? [x.paused ? control(x, 'resume') : control(x, 'pause'), control(x, 'end')] : null,
      may('exercises:run') && !current ? h('a', { class: 'button', href: `#/exercices?review=${encodeURIComponent(x.id)}`, 'data-review': x.id }, t('ex_review')) : null) },
  ], items, { empty: t('ex_empty') })));
  view.replaceChildren(...parts);
  return {};
}

async function showReview(/** @type {HTMLElement} */ view, /** @type {string} */ id) {
  const r = await api(`/api/v1/exercises/${encodeURIComponent(id)}/review`);
  const missed = r.missed.length ? ` ${tf('ex_missed', { what: r.missed.join(' ; ') })}` : '';
  view.replaceChildren(
    h('nav', { 'aria-label': t('breadcrumb') }, h('a', { href: '#/exercices' }, t('exercices')), ' › ', r.name),
    h('div', { class: 'panel', id: 'review' },
      h('h2', {}, tf('ex_review_of', { name: r.name })),
      h('p', { class: 'sentence', id: 'review-answer' }, h('strong', { class: r.done < r.expected ? 'warn' : undefined },
        tf('ex_score', { done: r.done, of: r.expected, on_time: r.on_time }) + missed)),
      h('p', { class: 'muted' }, tf('ex_review_meta', { started: time(r.started), speed: r.speed, played: hms(r.elapsed_s) })),
      h('p', { class: 'row' }, t('rep_download'), ['pdf', 'xlsx', 'csv'].map((f) =>
        h('a', { class: 'button', href: `/api/v1/exercises/${encodeURIComponent(id)}/review?format=${f}`, download: '' }, f.toUpperCase()))),
      h('h3', {}, t('ex_injects_title')),
      table([
        { label: t('ex_inject'), value: (/** @type {any} */ i) => i.title },
        { label: t('ex_planned'), num: true, value: (/** @type {any} */ i) => hms(i.planned_s) },
        { label: t('ex_expected'), value: (/** @type {any} */ i) => i.expected || '—' },
        { label: t('ex_done'), value: (/** @type {any} */ i) => (!i.expected ? '' : i.done ? (i.on_time ? t('ex_on_time') : t('ex_late')) : t('ex_missed_one')),
          cls: (/** @type {any} */ i) => (!i.expected ? '' : i.on_time ? 'good' : 'bad') },
        { label: t('ex_response'), num: true, value: (/** @type {any} */ i) => (i.response_s == null ? '—' : hms(i.response_s)) },
        { label: t('sr_by'), value: (/** @type {any} */ i) => (i.by || '').split('/')[0] },
        { label: t('ex_action'), value: (/** @type {any} */ i) => i.what || i.error || '' },
      ], r.injects),
      h('h3', {}, t('ex_timeline')),
      table([
        { label: t('ex_clock'), num: true, value: (/** @type {any} */ a) => hms(a.exercise_s) },
        { label: t('sr_when'), value: (/** @type {any} */ a) => time(a.at) },
        { label: t('sr_by'), value: (/** @type {any} */ a) => a.actor.split('/')[0] },
        { label: t('ex_action'), value: (/** @type {any} */ a) => a.what },
      ], r.actions, { empty: t('ex_no_action') })));
  return {};
}

/** The red banner of every page inside an exercise: its name, clock, last message; the way out. */
export function banner(/** @type {HTMLElement} */ top) {
  const ex = caller()?.exercise;
  document.body.classList.toggle('in-exercise', !!ex);
  document.getElementById('exercise-banner')?.remove();
  if (!ex) return;
  const clock = h('span', { id: 'exercise-clock' });
  const last = h('span', { id: 'exercise-last' });
  const bar = h('div', { id: 'exercise-banner', class: 'exercise-banner', role: 'status' },
    h('strong', {}, `EXERCICE — ${ex.name}`), clock, last,
    h('button', { onclick: () => leave() }, t('ex_leave')));
  top.before(bar);
  const tick = async () => {
    try {
      const s = await api(`/api/v1/exercises/${encodeURIComponent(ex.id)}`);
      clock.textContent = `T+${hms(s.elapsed_s)} ×${s.speed}${s.paused ? ` — ${t('ex_paused')}` : ''}${s.ended ? ` — ${t('ex_ended')}` : ''}`;
      const fired = s.injects.filter((/** @type {any} */ i) => i.fired);
      last.textContent = fired.length ? tf('ex_last', { title: fired[fired.length - 1].title }) : '';
    } catch { /* the next tick says it */ }
  };
  tick();
  const timer = setInterval(() => { if (!document.body.contains(bar)) clearInterval(timer); else tick(); }, 2000);
}
