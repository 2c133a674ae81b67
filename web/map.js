// The map: Leaflet (from npm, embedded in the binary by the build, served under /ui/vendor/) over the départements'
// outlines the binary carries (IGN – Admin Express, Licence Ouverte 2.0). Zoom and pan with the wheel, a drag, the
// keys (arrows, + and −) or the buttons; presets France / Île-de-France / Marseille; a search (site id, name,
// commune) that flies to the site and opens it; nearby sites clustered (their count and worst colour); labels that
// appear with zoom and never overlap; the sites in view as a keyboard list. No tile server and no internet: a
// basemap is laid under the outlines only when the configuration names a tile server (`[ui] tile_url`).
/* global L */
import { h, caller } from './api.js';
import { t, tf, stateLabel } from './i18n.js';

/** @type {any} */
let geo = null;
async function departements() {
  if (!geo) geo = await (await fetch('/ui/geo/france-departements.geojson')).json();
  return geo;
}

/** Where each preset looks, as [[south, west], [north, east]]. @type {Record<string, L.LatLngBoundsLiteral>} */
export const PRESETS = {
  france: [[41.3, -5.2], [51.1, 9.6]],
  idf: [[48.62, 1.85], [49.08, 2.85]],
  marseille: [[43.2, 5.2], [43.45, 5.55]],
};
// Worst first, as the wall orders its tiles: a cluster takes the colour of its worst site.
// Readiness (`R_…`, the readiness mode) ranks among the same: late with the errors, at risk with the weak signals.
const WORST = ['CRITICAL', 'UNREACHABLE', 'R_LATE', 'WARNING', 'R_AT_RISK', 'UNKNOWN', 'MAINTENANCE', 'R_ON_TIME', 'OK', 'R_READY'];
/** @param {string | undefined} s */
const rank = (s) => { const i = WORST.indexOf(s ?? ''); return i < 0 ? WORST.length : i; };
// Site labels show from this zoom (a département), or always on an answer's map; fewer where they would overlap.
const LABEL_ZOOM = 9;
// Sites stop clustering from this zoom (a town: the Stade and the Marina de Marseille stand apart).
const CLUSTER_UNTIL = 13;

/** Lower case without accents, for the search. @param {unknown} s */
export const fold = (s) => String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

/**
 * The site a search means: its exact entry in the suggestions, its id, its name, else the first whose id, name or
 * commune contains the words.
 * @param {Point[]} points @param {string} query @returns {Point | undefined}
 */
export function find(points, query) {
  const q = fold(query).trim();
  if (!q) return undefined;
  return points.find((p) => fold(entry(p)) === q)
    || points.find((p) => fold(p.id) === q)
    || points.find((p) => fold(p.name) === q)
    || points.find((p) => q.split(/\s+/).every((w) => fold(`${p.id} ${p.name} ${p.city ?? ''}`).includes(w)));
}
/** @param {Point} p */
const entry = (p) => `${p.name} (${p.id})`;

/**
 * @typedef {{id: string, name: string, lat: number, lon: number, city?: string, cls?: string, state?: string,
 *   r?: number, uncovered?: boolean, incident?: boolean, label?: string}} Point
 * @typedef {{from: [number, number], to: [number, number], label?: string, kind?: string}} Line
 */

/** @param {DOMRect} r @param {DOMRect} o */
const overlaps = (r, o) => r.left < o.right && o.left < r.right && r.top < o.bottom && o.top < r.bottom;

/**
 * Draws the map. `points`: the sites (`uncovered`: a need the site's organisation does not cover, drawn as a
 * dashed ring apart from the state colours; `incident`: an open incident there); `lines`: an answer's legs
 * (`kind: 'pickup'` for a vehicle going to fetch the troops), labelled. `cluster`: group nearby sites (the
 * situation); otherwise the map fits the answer and labels every site it can. Returns {el, update(points, lines)}.
 * @param {{points?: Point[], lines?: Line[], onPick?: (p: Point) => void, cluster?: boolean, preset?: string}} options
 */
export async function franceMap({ points = [], lines = [], onPick = () => {}, cluster = false, preset } = {}) {
  const g = await departements();
  const uid = Math.random().toString(36).slice(2, 8);
  /** @type {HTMLElement} */
  const box = h('div', { class: 'map', id: `map-${uid}`, role: 'region', 'aria-label': t('map_label') });
  const map = L.map(box, {
    minZoom: 4, maxZoom: 17, zoomSnap: 0.5, zoomControl: false, attributionControl: true,
    maxBounds: [[30, -25], [60, 30]], keyboardPanDelta: 120,
  });
  // A view at once (clusters need one); the first real fit waits for the map's size (`place` below).
  map.setView([46.6, 2.4], 5);
  map.attributionControl.setPrefix('Leaflet');
  L.control.zoom({ position: 'topleft', zoomInTitle: t('zoom_in'), zoomOutTitle: t('zoom_out') }).addTo(map);
  const url = caller()?.tile_url;
  /** @type {Record<string, L.Layer>} */
  const overlays = {};
  if (url) L.tileLayer(url, { maxZoom: 18, attribution: t('basemap') }).addTo(map);
  const outlines = L.geoJSON(g, {
    interactive: false,
    filter: (f) => !String(f.properties.code).startsWith('97'),
    style: () => ({ className: `dep${url ? ' tiled' : ''}`, weight: 0.8 }),
    attribution: 'IGN – Admin Express, Licence Ouverte 2.0',
  }).addTo(map);
  overlays[t('departements')] = outlines;
  const legs = L.layerGroup().addTo(map);
  overlays[t('legs')] = legs;
  /** @type {L.LayerGroup} */
  const sites = cluster
    ? L.markerClusterGroup({
      maxClusterRadius: 36, disableClusteringAtZoom: CLUSTER_UNTIL, showCoverageOnHover: false,
      spiderfyOnMaxZoom: false, iconCreateFunction: clusterIcon,
    })
    : L.featureGroup();
  sites.addTo(map);
  overlays[t('sites')] = sites;
  L.control.layers(undefined, overlays, { collapsed: false, position: 'topright' }).addTo(map);

  // The tools above the map: the search, the presets, the way to the list.
  const listId = `sites-${uid}`;
  const listOf = h('ul', { class: 'site-list' });
  const listHead = h('h3', { class: 'small' });
  const list = h('nav', { class: 'site-list-box', id: listId, 'aria-label': t('sites_in_view'), tabindex: -1 }, listHead, listOf);
  const suggestions = h('datalist', { id: `suggest-${uid}` });
  const status = h('span', { class: 'muted small', role: 'status' });
  const search = h('input', { type: 'search', name: 'map-search', list: `suggest-${uid}`, placeholder: t('map_search_ph'),
    'aria-label': t('map_search'), autocomplete: 'off' });
  const go = (/** @type {Point} */ p) => {
    status.textContent = '';
    map.stop();
    map.once('moveend', () => { mark(p.id); onPick(p); });
    map.flyTo([p.lat, p.lon], Math.max(map.getZoom(), 15), { duration: 0.6 });
  };
  const tools = h('div', { class: 'map-tools' },
    h('form', { class: 'map-search', role: 'search', onsubmit: (/** @type {Event} */ e) => {
      e.preventDefault();
      const p = find(shown, search.value);
      if (p) go(p); else status.textContent = tf('map_no_match', { q: search.value });
    } }, search, suggestions, h('button', { type: 'submit' }, t('map_find')), status),
    h('div', { class: 'presets', role: 'group', 'aria-label': t('presets') },
      Object.keys(PRESETS).map((k) => h('button', { type: 'button', 'data-preset': k,
        onclick: () => map.flyToBounds(PRESETS[k], { duration: 0.6 }) }, t(`preset_${k}`)))),
    h('a', { class: 'skip small', href: `#${listId}`, onclick: (/** @type {Event} */ e) => { e.preventDefault(); list.focus(); } }, t('skip_to_list')));

  /** @param {string} id */
  const mark = (id) => {
    box.querySelectorAll('.site.picked').forEach((x) => x.classList.remove('picked'));
    box.querySelector(`.site[data-site="${CSS.escape(id)}"]`)?.classList.add('picked');
  };
  let shown = points;
  const refreshList = () => {
    const b = map.getBounds();
    const inView = shown.filter((p) => b.contains([p.lat, p.lon]))
      .sort((a, z) => rank(a.state) - rank(z.state) || Number(!!z.uncovered) - Number(!!a.uncovered) || a.name.localeCompare(z.name, 'fr'));
    listHead.textContent = tf('sites_in_view_n', { n: inView.length });
    listOf.replaceChildren(...inView.map((p) => h('li', {}, h('button', { type: 'button', class: 'link', 'data-site': p.id, 'data-uncovered': p.uncovered,
      onclick: () => go(p) }, h('span', { class: `dot ${p.cls || 'f-none'}`, 'aria-hidden': 'true' }),
      ` ${p.label ?? p.name}`, p.state && p.state !== 'OK' ? ` — ${stateLabel(p.state)}` : '',
      p.uncovered ? ` — ${t('uncovered_need').toLowerCase()}` : ''))));
  };
  let frame = 0;
  const relabel = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => declutter(box, cluster ? map.getZoom() >= LABEL_ZOOM : true));
  };
  const draw = (/** @type {Point[]} */ pts, /** @type {Line[]} */ lns) => {
    shown = pts;
    suggestions.replaceChildren(...pts.map((p) => h('option', { value: entry(p) }, p.city ?? '')));
    sites.clearLayers();
    const markers = pts.map((p) => marker(p, () => { mark(p.id); onPick(p); }));
    if (cluster) /** @type {any} */ (sites).addLayers(markers); else markers.forEach((m) => sites.addLayer(m));
    legs.clearLayers();
    for (const l of lns) {
      const line = L.polyline([l.from, l.to].map(([la, lo]) => L.latLng(la, lo)), { className: `leg${l.kind ? ` ${l.kind}` : ''}`, interactive: !!l.label });
      if (l.label) line.bindTooltip(l.label, { permanent: true, direction: 'center', className: 'leg-label' });
      legs.addLayer(line);
    }
    refreshList();
    relabel();
  };
  // The first view, once the map has a size: the preset asked for, else the answer, else France.
  let placed = false;
  const place = () => {
    if (placed || !box.clientWidth) return;
    placed = true;
    map.invalidateSize();
    const answer = L.latLngBounds([...shown.map((p) => L.latLng(p.lat, p.lon)), ...lines.flatMap((l) => [L.latLng(...l.from), L.latLng(...l.to)])]);
    if (preset && PRESETS[preset]) map.fitBounds(PRESETS[preset]);
    else if (!cluster && answer.isValid()) map.fitBounds(answer.pad(0.15), { maxZoom: 13 });
    else map.fitBounds(PRESETS.france);
  };
  new ResizeObserver(() => { if (placed) map.invalidateSize(); else place(); }).observe(box);
  map.on('moveend zoomend', () => { box.dataset.zoom = String(map.getZoom()); refreshList(); relabel(); });
  sites.on('animationend', relabel);
  draw(points, lines);
  return {
    el: h('div', { class: 'map-wrap' }, tools, box, list),
    update: (/** @type {Point[]} */ pts, /** @type {Line[]} */ lns = []) => draw(pts, lns),
    map,
  };
}

/** A site's marker: its state's colour, its ring and incident mark, its label. @param {Point} p @param {() => void} pick */
function marker(p, pick) {
  const r = p.r || 5;
  const title = `${p.name} (${p.id})${p.state ? ` — ${stateLabel(p.state)}` : ''}${p.uncovered ? ` — ${t('uncovered_need').toLowerCase()}` : ''}`;
  const el = h('span', { class: 'pin', 'data-rank': rank(p.state) },
    p.uncovered ? h('span', { class: 'need-ring', 'data-site': p.id }) : null,
    p.incident ? h('span', { class: 'incident' }) : null,
    h('span', { class: `site ${p.cls || 'f-none'}`, 'data-site': p.id, 'data-state': p.state || '' }),
    h('span', { class: 'site-label' }, p.label ?? p.name));
  el.style.setProperty('--r', `${r}px`);
  const m = L.marker([p.lat, p.lon], {
    icon: L.divIcon({ html: el, className: 'site-marker', iconSize: [2 * r, 2 * r] }),
    keyboard: false, title, riseOnHover: true,
  });
  /** @type {any} */ (m.options).point = p;
  m.on('click', pick);
  return m;
}

/** A cluster: how many sites, in the colour of the worst, ringed if one has an uncovered need. @param {any} c */
function clusterIcon(c) {
  /** @type {Point[]} */
  const ps = c.getAllChildMarkers().map((/** @type {any} */ m) => m.options.point);
  const worst = ps.reduce((/** @type {string | undefined} */ w, p) => (rank(p.state) < rank(w) ? p.state : w), undefined);
  const ringed = ps.some((p) => p.uncovered);
  const el = h('span', { class: `cluster ${worst ? `f-${worst}` : 'f-none'}${ringed ? ' ringed' : ''}`, 'data-count': ps.length,
    title: tf('cluster_title', { n: ps.length, state: worst ? stateLabel(worst) : '—' }) }, String(ps.length));
  return L.divIcon({ html: el, className: 'cluster-marker', iconSize: [34, 34] });
}

/**
 * Shows the labels that fit: worst state first, none over another label or another site's mark.
 * @param {HTMLElement} box @param {boolean} wanted
 */
function declutter(box, wanted) {
  const pins = [...box.querySelectorAll('.leaflet-marker-pane .pin')];
  for (const p of pins) p.classList.remove('labelled');
  if (!wanted) return;
  const frame = box.getBoundingClientRect();
  const marks = pins.map((p) => /** @type {Element} */ (p.querySelector('.site')).getBoundingClientRect());
  const clusters = [...box.querySelectorAll('.cluster')].map((c) => c.getBoundingClientRect());
  /** @type {DOMRect[]} */
  const placed = [];
  const order = pins.map((p, i) => ({ p, i })).sort((a, z) => Number(/** @type {HTMLElement} */ (a.p).dataset.rank) - Number(/** @type {HTMLElement} */ (z.p).dataset.rank));
  // An answer's leg labels first (they carry the answer), then the sites'.
  for (const tip of box.querySelectorAll('.leaflet-tooltip.leg-label')) {
    tip.classList.remove('hidden');
    const r = tip.getBoundingClientRect();
    if (placed.some((o) => overlaps(r, o))) tip.classList.add('hidden'); else placed.push(r);
  }
  for (const { p, i } of order) {
    const r = /** @type {Element} */ (p.querySelector('.site-label')).getBoundingClientRect();
    if (r.right > frame.right || r.bottom > frame.bottom || r.top < frame.top) continue;
    if (placed.some((o) => overlaps(r, o))) continue;
    if (marks.some((o, j) => j !== i && overlaps(r, o)) || clusters.some((o) => overlaps(r, o))) continue;
    placed.push(r);
    p.classList.add('labelled');
  }
}
