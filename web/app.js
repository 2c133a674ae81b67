// Vigie's UI: a hash router over pages, the header with role-aware navigation and the FR/EN switch.
import { whoami, signOut, may, caller, h, errorBox } from './api.js';
import { t, setLang, lang } from './i18n.js';

const PAGES = [
  { id: 'situation', load: () => import('./pages/situation.js'),
    visible: () => may('logistics:read') || may('monitoring:read') || may('incidents:read') },
  { id: 'logistique', load: () => import('./pages/logistique.js'), visible: () => may('logistics:read') },
  { id: 'stock', load: () => import('./pages/stock.js'), visible: () => may('logistics:read') },
  { id: 'mur', load: () => import('./pages/mur.js'), visible: () => may('monitoring:read') || may('wall:read') },
  { id: 'supervision', load: () => import('./pages/supervision.js'), visible: () => may('monitoring:read') },
  { id: 'incidents', load: () => import('./pages/incidents.js'), visible: () => may('incidents:read') },
  { id: 'preparation', load: () => import('./pages/preparation.js'), visible: () => may('monitoring:read') },
  { id: 'astreintes', load: () => import('./pages/astreintes.js'),
    visible: () => may('logistics:read') || may('monitoring:read') || may('incidents:read') },
  { id: 'courante', load: () => import('./pages/courante.js'),
    visible: () => may('incidents:read') && !caller()?.partner_id },
  { id: 'rapports', load: () => import('./pages/rapports.js'),
    visible: () => may('logistics:read') || may('monitoring:read') || may('incidents:read') },
  { id: 'exercices', load: () => import('./pages/exercices.js'), visible: () => !!caller() && !may('wall:read') },
  { id: 'import', load: () => import('./pages/import.js'),
    visible: () => may('logistics:write') || may('monitoring:write') },
];

/** Where a role lands: the wall account on the wall, the TOC on supervision, a partner on its incidents, the
 * logistics roles on the situation map (a tactical group's figures are its own). */
export function landing() {
  const role = caller()?.role;
  const want = { viewer: 'mur', toc: 'supervision', partner: 'incidents' }[role] || 'situation';
  return (PAGES.find((p) => p.id === want && p.visible()) || PAGES.find((p) => p.visible()) || PAGES[0]).id;
}

/** A page the caller may not use, or that does not exist: said in words, with the way back. */
function refused(view, page) {
  const known = PAGES.some((p) => p.id === page);
  view.replaceChildren(h('div', { class: 'panel refused', role: 'alert', id: 'refused' },
    h('h2', {}, known ? t('forbidden') : t('not_found')),
    h('p', {}, known ? t('forbidden_page') : t('not_found_page')),
    h('p', {}, h('a', { class: 'button primary', href: `#/${landing()}` }, t('back_home')))));
}

let current = null;
// Each render has its number: a page whose module arrives after a newer render began is not shown.
let generation = 0;

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { page: path || '', params: new URLSearchParams(query || '') };
}

function header(active) {
  const top = document.getElementById('top');
  // Inside an exercise, every page says so first (a red banner with its clock and the way out).
  if (caller()?.exercise) import('./pages/exercices.js').then((m) => { if (!document.getElementById('exercise-banner')) m.banner(top); });
  const me = caller();
  top.replaceChildren(
    h('span', { class: 'brand' }, 'VIGIE'),
    h('nav', { 'aria-label': 'Navigation' },
      me ? PAGES.filter((p) => p.visible()).map((p) =>
        h('a', { href: `#/${p.id}`, class: p.id === active ? 'active' : undefined,
          'aria-current': p.id === active ? 'page' : undefined }, t(p.id))) : []),
    h('span', { class: 'who' },
      me ? `${me.user} · ${t(`who_${me.role}`)}${me.organization_id ? ' · ' + me.organization_id : ''}${me.partner_id ? ' · ' + me.partner_id : ''}` : '',
      h('button', { onclick: () => { setLang(lang === 'fr' ? 'en' : 'fr'); render(); },
        'aria-label': 'Langue / Language' }, lang === 'fr' ? 'EN' : 'FR'),
      me ? h('button', { onclick: async () => { await signOut(); location.hash = '#/login'; } }, t('logout')) : null),
  );
}

async function render() {
  const gen = ++generation;
  const { page, params } = route();
  current?.dispose?.();
  current = null;
  document.body.classList.toggle('wall', page === 'mur');
  const view = document.getElementById('view');
  if (!caller() && page !== 'login') {
    location.hash = '#/login';
    return;
  }
  if (page === '' && caller()) {
    location.hash = `#/${landing()}`;
    return;
  }
  header(page);
  if (page === 'login') {
    const m = await import('./pages/login.js');
    current = m.show(view, params);
    return;
  }
  const p = PAGES.find((x) => x.id === page && x.visible());
  if (!p) {
    refused(view, page);
    return;
  }
  view.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  let shown;
  try {
    const m = await p.load();
    if (gen !== generation) return;
    shown = await m.show(view, params);
  } catch (e) {
    // Never an endless "Chargement…": a refusal or a failure is said on the page.
    if (gen === generation) view.replaceChildren(errorBox(e));
    return;
  }
  if (gen !== generation) {
    shown?.dispose?.();
    return;
  }
  current = shown;
  view.focus({ preventScroll: true });
}

window.addEventListener('hashchange', render);
window.addEventListener('vigie:signed-out', () => { if (route().page !== 'login') location.hash = '#/login'; });
setLang(lang);
whoami().then(render);
