// The map of France with an Île-de-France inset, drawn in SVG from the départements the binary carries (IGN –
// Admin Express, Licence Ouverte 2.0): no tile server, no internet.
import { h } from './api.js';

let geo = null;
async function departements() {
  if (!geo) geo = await (await fetch('/ui/geo/france-departements.geojson')).json();
  return geo;
}

const W = 1500;
const H = 1000;
const FRANCE = { lonMin: -5.3, lonMax: 9.9, latMin: 41.2, latMax: 51.2 };
// The Paris area, where most venues stand, in an inset on the left.
const IDF = { lonMin: 1.85, lonMax: 2.85, latMin: 48.62, latMax: 49.08 };
const INSET = { x: 10, y: 10, w: 520, h: 420 };
const MAIN = { x: 540, y: 0, w: 960, h: 1000 };

/** A projection of a bounding box into a rectangle (equirectangular, scaled by the cosine of the middle latitude). */
function projection(b, box) {
  const c = Math.cos(((b.latMin + b.latMax) / 2) * Math.PI / 180);
  const k = Math.min(box.w / ((b.lonMax - b.lonMin) * c), box.h / (b.latMax - b.latMin));
  const ox = box.x + (box.w - (b.lonMax - b.lonMin) * c * k) / 2;
  const oy = box.y + (box.h - (b.latMax - b.latMin) * k) / 2;
  return (lon, lat) => [ox + (lon - b.lonMin) * c * k, oy + (b.latMax - lat) * k];
}

function pathOf(geometry, project) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let d = '';
  for (const poly of polys) {
    for (const ring of poly) {
      ring.forEach(([lon, lat], i) => {
        const [x, y] = project(lon, lat);
        d += `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
      });
      d += 'Z';
    }
  }
  return d;
}

const inside = (b, lat, lon) => lon >= b.lonMin && lon <= b.lonMax && lat >= b.latMin && lat <= b.latMax;

/**
 * Draws the map. `points`: [{id, name, lat, lon, cls, r, shortfall, incident}]; `lines`: [{from:[lat,lon],
 * to:[lat,lon]}]. Returns {el, update(points, lines)}.
 */
export async function franceMap({ points = [], lines = [], onPick = () => {} } = {}) {
  const g = await departements();
  const main = projection(FRANCE, MAIN);
  const inset = projection(IDF, { x: INSET.x + 4, y: INSET.y + 18, w: INSET.w - 8, h: INSET.h - 22 });
  const metro = g.features.filter((f) => !String(f.properties.code).startsWith('97'));
  const idf = metro.filter((f) => f.properties.region === 'Île-de-France');
  const svg = h('svg', { class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Carte de France' },
    h('g', {}, metro.map((f) => h('path', { class: 'dep', d: pathOf(f.geometry, main) }, h('title', {}, f.properties.nom)))),
    h('defs', {}, h('clipPath', { id: 'inset-clip' }, h('rect', { x: INSET.x, y: INSET.y, width: INSET.w, height: INSET.h }))),
    h('rect', { class: 'inset-frame', x: INSET.x, y: INSET.y, width: INSET.w, height: INSET.h }),
    h('text', { x: INSET.x + 8, y: INSET.y + 14 }, 'Paris et petite couronne'),
    h('g', { 'clip-path': 'url(#inset-clip)' },
      idf.map((f) => h('path', { class: 'dep', d: pathOf(f.geometry, inset) }, h('title', {}, f.properties.nom)))),
    // Where the inset lies on the national map.
    (() => {
      const [x1, y1] = main(IDF.lonMin, IDF.latMax);
      const [x2, y2] = main(IDF.lonMax, IDF.latMin);
      return h('rect', { class: 'inset-frame', x: x1, y: y1, width: x2 - x1, height: y2 - y1 });
    })(),
  );
  const layer = h('g', {});
  svg.append(layer);
  const draw = (pts, lns) => {
    const items = [];
    for (const l of lns) {
      const [x1, y1] = main(l.from[1], l.from[0]);
      const [x2, y2] = main(l.to[1], l.to[0]);
      items.push(h('line', { class: 'leg', x1, y1, x2, y2 }));
    }
    for (const p of pts) {
      const spots = [main(p.lon, p.lat)];
      if (inside(IDF, p.lat, p.lon)) spots.push(inset(p.lon, p.lat));
      for (const [x, y] of spots) {
        const c = h('circle', {
          class: `site ${p.cls || 'f-none'}${p.shortfall ? ' shortfall' : ''}`, cx: x.toFixed(1), cy: y.toFixed(1),
          r: p.r || 5, tabindex: 0, 'data-site': p.id, 'data-state': p.state || '', role: 'button',
          'aria-label': p.name, onclick: () => onPick(p), onkeydown: (e) => { if (e.key === 'Enter') onPick(p); },
        }, h('title', {}, `${p.name} (${p.id})${p.state ? ' — ' + p.state : ''}${p.shortfall ? ' — manque' : ''}`));
        items.push(c);
        if (p.incident) items.push(h('circle', { class: 'incident', cx: x.toFixed(1), cy: y.toFixed(1), r: (p.r || 5) + 5 }));
      }
    }
    layer.replaceChildren(...items);
  };
  draw(points, lines);
  return { el: svg, update: (pts, lns = []) => draw(pts, lns) };
}
