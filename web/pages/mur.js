// Le mur: every site and suite in its colour, the counts, the latest changes and the open major incidents; live
// over SSE (a change repaints within half a second), reconnecting by itself; readable from ten metres. In readiness
// mode (`#/mur?mode=preparation`, before the Games) every site in the colour of its readiness instead: late, at risk,
// on time, ready; the late and at-risk ones in large type, the root causes and late deliveries below.
import { api, may, h, pill, live } from '../api.js';
import { t, tf, num, stateLabel, time } from '../i18n.js';
import { isMajor } from './incidents.js';

const ORDER = ['CRITICAL', 'UNREACHABLE', 'WARNING', 'UNKNOWN', 'MAINTENANCE', 'OK'];

/** Clock time in Paris, HH:MM. */
const hhmm = (iso) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

/** The output the screens show for a change: a check gone stale says so in the user's language. */
const outputOf = (c) => (c.stale || c.output === 'no result within the TTL' ? t('stale_output') : c.output || '');

/**
 * The change feed, grouped by cause: one line for a whole outage (its cause, its site, how many checks it took
 * down), one for the checks that went silent together, one for a burst at one site in the same minute; the rest one
 * line each. Newest first, at most 12 lines.
 */
export function feed(changes) {
  const groups = [];
  const byKey = new Map();
  for (const c of changes) {
    // A cause's consequences together; checks gone silent together; a burst at one site in one minute (a venue
    // coming back) together; the rest one line each.
    const minute = String(c.at).slice(0, 16);
    const key = c.cause ? `cause|${c.cause}|${c.to}`
      : (c.stale || c.output === 'no result within the TTL') ? `stale|${c.site_id || ''}|${c.to}`
        : c.site_id ? `site|${c.site_id}|${c.to}|${minute}` : `one|${c.check_id}|${c.at}`;
    let g = byKey.get(key);
    if (!g) {
      g = { key, at: c.at, to: c.to, cause: c.cause, site: c.site_id, checks: [], output: outputOf(c) };
      byKey.set(key, g);
      groups.push(g);
    }
    if (!g.checks.includes(c.check_id)) g.checks.push(c.check_id);
    if (c.at > g.at) g.at = c.at;
  }
  return groups.sort((a, b) => String(b.at).localeCompare(String(a.at))).slice(0, 12);
}

/** A stable order of tiles, so that a tile never moves: `?order=ID,ID,…` on the wall's address, then the sites'
 * `wall_order` attribute, then their names. Only colours change. */
async function tileOrder(params) {
  const asked = (params?.get('order') || '').split(',').filter(Boolean);
  const sitesInfo = await api('/api/v1/sites?limit=10000').then((r) => r.items).catch(() => []);
  const rankOf = new Map(sitesInfo.map((s) => [s.id, Number(s.attributes?.wall_order ?? Infinity)]));
  const names = new Map(sitesInfo.map((s) => [s.id, s.name]));
  const place = (a, b) => {
    const [ia, ib] = [asked.indexOf(a.id), asked.indexOf(b.id)];
    if (ia !== ib) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
    return (rankOf.get(a.id) ?? Infinity) - (rankOf.get(b.id) ?? Infinity) || a.name.localeCompare(b.name, 'fr');
  };
  return { place, names };
}

/** The wall's clock, ticking every second; returns its element and a stop. */
function wallClock() {
  const clock = h('span', { class: 'clock' });
  const tick = () => { clock.textContent = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date()); };
  tick();
  const timer = setInterval(tick, 1000);
  return { clock, stop: () => clearInterval(timer) };
}

/** The wall's frame: its head (the live dot, the title, the clock), the rows above the tiles, the tiles, and the
 * lists beside them, each under its heading. */
function wallFrame(view, { dot, title, clock, top, tiles, lists }) {
  view.replaceChildren(
    h('div', { class: 'wall-head' }, h('h1', {}, dot, 'Vigie — ', title), clock),
    ...top,
    h('div', { class: 'wall-main' }, tiles,
      h('div', { class: 'wall-bottom' }, lists.map(([heading, list]) => h('section', {}, h('h2', {}, heading), list)))));
}

const READINESS = ['R_LATE', 'R_AT_RISK', 'R_ON_TIME', 'R_READY'];
const dayMonth = (iso) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit' }).format(new Date(iso));
const pct = (p) => `${Math.floor(p)} %`;

/** The wall in readiness mode: every site by its readiness, refreshed every 30 seconds. */
async function showReadiness(view, params) {
  const { clock, stop } = wallClock();
  // Polled every 30 seconds: the dot says whether the last poll answered.
  const dot = h('span', { class: 'live-dot off', title: t('offline') });
  const answer = h('p', { class: 'wall-answer', id: 'wall-answer' });
  const counts = h('div', { class: 'counts four' });
  const alerts = h('div', { class: 'alerts', id: 'alerts' });
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const roots = h('ol', { id: 'roots' });
  const deliveries = h('ol', { id: 'deliveries' });
  wallFrame(view, { dot, title: t('rd_wall_title'), clock, top: [answer, counts, alerts], tiles,
    lists: [[t('rd_blockers'), roots], [t('rd_late_deliveries'), deliveries]] });
  const { place, names } = await tileOrder(params);
  const paint = async () => {
    const [sum, bl] = await Promise.all([api('/api/v1/readiness?by=site'), api('/api/v1/readiness/blockers')]);
    const sites = sum.items.map((r) => ({ ...r, id: r.key, name: names.get(r.key) || r.key, st: `R_${String(r.state).toUpperCase()}` }));
    const late = sites.filter((s) => s.state === 'late').length;
    answer.replaceChildren(h('strong', {}, tf('rd_wall_answer', { ontime: sites.length - late, total: sites.length })));
    counts.replaceChildren(...READINESS.map((s) => h('div', { class: `s-${s}` }, stateLabel(s), h('b', {}, num(sites.filter((x) => x.st === s).length)))));
    const when = (s) => (s.ready && s.state !== 'ready' ? tf('rd_ready_by', { at: dayMonth(s.ready) }) : stateLabel('R_READY'));
    tiles.replaceChildren(...sites.slice().sort(place).map((s) => h('div', { class: `tile s-${s.st}`, 'data-site': s.id, 'data-state': s.st },
      h('span', { class: 'name' }, s.name), h('small', {}, `${s.id} · ${pct(s.percent)} · ${when(s)}`))));
    const bad = sites.filter((s) => s.state === 'late' || s.state === 'at_risk')
      .sort((a, b) => READINESS.indexOf(a.st) - READINESS.indexOf(b.st) || String(b.ready).localeCompare(String(a.ready)));
    alerts.replaceChildren(...bad.slice(0, 8).map((s) => h('div', { class: `alert-tile s-${s.st}`, 'data-site': s.id, 'data-state': s.st },
      h('span', { class: 'name' }, s.name),
      h('span', { class: 'what' }, `${stateLabel(s.st)} · ${when(s)}${s.deadline ? `, ${t('rd_deadline').toLowerCase()} ${dayMonth(s.deadline)}` : ''}`))),
    ...(bad.length > 8 ? [h('div', { class: 'alert-more' }, tf('and_more', { n: bad.length - 8 }))] : []));
    alerts.classList.toggle('empty', !bad.length);
    roots.replaceChildren(...bl.items.slice(0, 8).map((b) => h('li', {},
      `${b.task.site_id} · ${b.task.name} — ${b.task.reason || t('rd_no_reason')} `, h('span', { class: 'muted' }, tf('rd_holds', { n: b.blocks.length, owner: b.task.owner })))));
    if (!bl.items.length) roots.replaceChildren(h('li', { class: 'muted' }, t('rd_none_blocked')));
    deliveries.replaceChildren(...bl.late_deliveries.slice(0, 8).map((d) => h('li', {},
      `${d.task.site_id} · ${d.task.name}${d.task.plan?.expected_at ? ` — ${tf('rd_expected', { at: time(d.task.plan.expected_at) })}` : ''} `,
      h('span', { class: 'muted' }, tf('rd_delays', { n: d.blocks.length })))));
    if (!bl.late_deliveries.length) deliveries.replaceChildren(h('li', { class: 'muted' }, t('none')));
  };
  const poll = async () => {
    const up = await paint().then(() => true, () => false);
    dot.className = `live-dot${up ? '' : ' off'}`;
    dot.title = up ? t('live') : t('offline');
  };
  await poll();
  const refresh = setInterval(poll, 30000);
  const keep = setInterval(() => api('/api/v1/session').catch(() => {}), 300000);
  return { dispose() { stop(); clearInterval(refresh); clearInterval(keep); } };
}

export async function show(view, params) {
  if (params?.get('mode') === 'preparation') return showReadiness(view, params);
  const { clock, stop } = wallClock();
  const dot = h('span', { class: 'live-dot off', title: t('offline') });
  const counts = h('div', { class: 'counts' });
  const suites = h('div', { class: 'suites' });
  const alerts = h('div', { class: 'alerts', id: 'alerts' });
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const changes = h('ol', { id: 'changes' });
  const majors = h('ul', { id: 'majors' });
  wallFrame(view, { dot, title: t('mur'), clock, top: [counts, suites, alerts], tiles,
    lists: [[t('major_incidents'), majors], [t('latest_changes'), changes]] });
  const { place } = await tileOrder(params);
  const since = (s) => (s.state !== 'OK' && s.since ? h('small', { class: 'since' }, tf('since_hhmm', { t: hhmm(s.since) })) : null);
  const tile = (s) => h('div', { class: `tile s-${s.state}`, 'data-site': s.id, 'data-state': s.state },
    h('span', { class: 'name' }, s.name), h('small', {}, `${s.id} · ${stateLabel(s.state)}`), since(s));
  const paint = (st) => {
    counts.replaceChildren(...ORDER.map((s) => h('div', { class: `s-${s}` }, stateLabel(s), h('b', {}, num(st.counts[s.toLowerCase()])))));
    suites.replaceChildren(...st.suites.map((s) => h('div', { class: `tile s-${s.state}`, 'data-suite': s.id, 'data-state': s.state },
      s.name, h('small', {}, stateLabel(s.state)))));
    const sites = st.sites.slice().sort(place);
    tiles.replaceChildren(...sites.map(tile));
    // What to read from ten metres: the sites not OK, worst first then longest, in large type.
    const bad = st.sites.filter((s) => s.state !== 'OK' && s.state !== 'MAINTENANCE')
      .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || String(a.since).localeCompare(String(b.since)));
    alerts.replaceChildren(...bad.slice(0, 8).map((s) => h('div', { class: `alert-tile s-${s.state}`, 'data-site': s.id, 'data-state': s.state },
      h('span', { class: 'name' }, s.name), h('span', { class: 'what' }, `${stateLabel(s.state)}${s.since ? ` ${tf('since_hhmm', { t: hhmm(s.since) })}` : ''}`))),
    ...(bad.length > 8 ? [h('div', { class: 'alert-more' }, tf('and_more', { n: bad.length - 8 }))] : []));
    alerts.classList.toggle('empty', !bad.length);
  };
  // The latest changes kept to group them (a power cut's hundreds of checks are one line).
  const history = [];
  const drawFeed = () => {
    changes.replaceChildren(...feed(history).map((g) => h('li', { 'data-group': g.key },
      `${hhmm(g.at)} `, pill(g.to, stateLabel(g.to)), ' ',
      g.cause ? tf('feed_cause', { cause: g.cause, site: g.site ? ` @ ${g.site}` : '', n: g.checks.length })
        // What the check printed is its own text (`.raw`), the rest the UI's.
        : [g.checks.length > 1 ? tf('feed_many', { n: g.checks.length, site: g.site ? ` @ ${g.site}` : '' })
          : `${g.checks[0]}${g.site ? ' @ ' + g.site : ''}`, ' — ', h('span', { class: 'raw' }, g.output)])));
  };
  const addChange = (c, draw = true) => {
    history.unshift(c);
    history.length = Math.min(history.length, 2000);
    if (draw) drawFeed();
  };
  const loadMajors = async () => {
    if (!may('incidents:read') && !may('wall:read')) return;
    const r = await api('/api/v1/incidents').catch(() => null);
    if (!r) return;
    const open = r.incidents.map((x) => x.incident).filter(isMajor);
    majors.replaceChildren(...open.map((i) => h('li', {}, `${i.number} P${i.priority} — ${i.short_description}${i.location ? ' @ ' + i.location : ''}`)));
    if (!open.length) majors.replaceChildren(h('li', { class: 'muted' }, t('no_data')));
  };
  const refresh = async () => paint(await api('/api/v1/monitoring/state'));
  await refresh();
  const hist = await api('/api/v1/monitoring/history?limit=200').catch(() => ({ changes: [] }));
  for (const c of hist.changes.slice().reverse()) addChange({ ...c.change, check_id: c.change.check_id }, false);
  drawFeed();
  await loadMajors();
  let pending = null;
  const stream = live('/api/v1/monitoring/stream', {
    state: (c) => {
      addChange(c);
      // Repaint the tile at once, then the roll-ups from the server.
      const tile = c.site_id && tiles.querySelector(`[data-site="${CSS.escape(c.site_id)}"]`);
      if (tile && ORDER.indexOf(c.to) < ORDER.indexOf(tile.dataset.state) && c.to !== 'OK') {
        tile.className = `tile s-${c.to}`;
        tile.dataset.state = c.to;
        tile.querySelector('small').textContent = `${c.site_id} · ${stateLabel(c.to)}`;
      }
      if (!pending) pending = setTimeout(async () => { pending = null; await refresh().catch(() => {}); loadMajors(); }, 300);
    },
    resync: () => refresh(),
  }, (up) => {
    dot.className = `live-dot${up ? '' : ' off'}`;
    dot.title = up ? t('live') : t('offline');
    if (up) refresh().catch(() => {});
  });
  // A wall screen is never idle by design: keep its session alive (every 5 minutes).
  const keep = setInterval(() => api('/api/v1/session').catch(() => {}), 300000);
  return { dispose() { stream.close(); stop(); clearInterval(keep); clearTimeout(pending); } };
}
