// Le mur: every site and suite in its colour, the counts, the latest changes and the open major incidents; live
// over SSE (a change repaints within half a second), reconnecting by itself; readable from ten metres.
import { api, may, h, pill, live } from '../api.js';
import { t, num, time, stateLabel } from '../i18n.js';
import { isMajor } from './incidents.js';

const ORDER = ['CRITICAL', 'UNREACHABLE', 'WARNING', 'UNKNOWN', 'MAINTENANCE', 'OK'];

export async function show(view) {
  const clock = h('span', { class: 'clock' });
  const dot = h('span', { class: 'live-dot off', title: t('offline') });
  const counts = h('div', { class: 'counts' });
  const suites = h('div', { class: 'suites' });
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const changes = h('ol', { id: 'changes' });
  const majors = h('ul', { id: 'majors' });
  view.replaceChildren(
    h('div', { class: 'wall-head' }, h('h1', {}, dot, 'Vigie — ', t('mur')), clock),
    counts, suites,
    h('div', { class: 'wall-main' }, tiles,
      h('div', { class: 'wall-bottom' },
        h('section', {}, h('h2', {}, t('major_incidents')), majors),
        h('section', {}, h('h2', {}, t('latest_changes')), changes))));
  const tick = () => { clock.textContent = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date()); };
  tick();
  const timer = setInterval(tick, 1000);

  const paint = (st) => {
    counts.replaceChildren(...ORDER.map((s) => h('div', { class: `s-${s}` }, stateLabel(s), h('b', {}, num(st.counts[s.toLowerCase()])))));
    suites.replaceChildren(...st.suites.map((s) => h('div', { class: `tile s-${s.state}`, 'data-suite': s.id, 'data-state': s.state },
      s.name, h('small', {}, stateLabel(s.state)))));
    const sites = st.sites.slice().sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.name.localeCompare(b.name));
    tiles.replaceChildren(...sites.map((s) => h('div', { class: `tile s-${s.state}`, 'data-site': s.id, 'data-state': s.state },
      s.name, h('small', {}, `${s.id} · ${stateLabel(s.state)}`))));
  };
  const history = [];
  const addChange = (c) => {
    history.unshift(c);
    history.length = Math.min(history.length, 12);
    changes.replaceChildren(...history.map((x) => h('li', {}, `${time(x.at)} `, pill(x.to, stateLabel(x.to)), ` ${x.check_id}${x.site_id ? ' @ ' + x.site_id : ''} — ${x.output || ''}`)));
  };
  const loadMajors = async () => {
    if (!may('incidents:read')) return;
    const r = await api('/api/v1/incidents').catch(() => null);
    if (!r) return;
    const open = r.incidents.map((x) => x.incident).filter(isMajor);
    majors.replaceChildren(...open.map((i) => h('li', {}, `${i.number} P${i.priority} — ${i.short_description}${i.location ? ' @ ' + i.location : ''}`)));
    if (!open.length) majors.replaceChildren(h('li', { class: 'muted' }, t('no_data')));
  };
  const refresh = async () => paint(await api('/api/v1/monitoring/state'));
  await refresh();
  const hist = await api('/api/v1/monitoring/history?limit=12').catch(() => ({ changes: [] }));
  for (const c of hist.changes.slice().reverse()) addChange({ ...c.change, check_id: c.change.check_id });
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
  return { dispose() { stream.close(); clearInterval(timer); clearInterval(keep); clearTimeout(pending); } };
}
