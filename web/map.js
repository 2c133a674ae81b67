// The map of France with a Paris-area inset, drawn in SVG (Web Mercator) from the départements the binary carries
// (IGN – Admin Express, Licence Ouverte 2.0): no tile server, no internet. When the configuration names a tile
// server (`[ui] tile_url`), its tiles are laid under the outlines.
import { h, caller } from './api.js';
import { t } from './i18n.js';

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

/** Web Mercator, as a fraction of the world (0..1 from the west and from the north), as tile servers cut it. */
const mx = (lon) => (lon + 180) / 360;
const my = (lat) => {
  const r = (lat * Math.PI) / 180;
  return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2;
};

/** A projection of a bounding box into a rectangle, with what tiles need (scale, offsets). */
function projection(b, box) {
  const [x0, x1, y0, y1] = [mx(b.lonMin), mx(b.lonMax), my(b.latMax), my(b.latMin)];
  const k = Math.min(box.w / (x1 - x0), box.h / (y1 - y0));
  const ox = box.x + (box.w - (x1 - x0) * k) / 2;
  const oy = box.y + (box.h - (y1 - y0) * k) / 2;
  const f = (lon, lat) => [ox + (mx(lon) - x0) * k, oy + (my(lat) - y0) * k];
  Object.assign(f, { k, ox, oy, x0, x1, y0, y1 });
  return f;
}

/** The tiles covering a projection's box, at the zoom closest to its scale. */
function tiles(url, p) {
  const z = Math.max(0, Math.min(18, Math.round(Math.log2(p.k / 256))));
  const n = 2 ** z;
  const size = p.k / n;
  const out = [];
  for (let tx = Math.floor(p.x0 * n); tx <= Math.floor(p.x1 * n); tx++) {
    for (let ty = Math.floor(p.y0 * n); ty <= Math.floor(p.y1 * n); ty++) {
      const href = url.replace('{z}', z).replace('{x}', tx).replace('{y}', ty);
      out.push(h('image', { class: 'tile-img', href, x: (p.ox + (tx / n - p.x0) * p.k).toFixed(1),
        y: (p.oy + (ty / n - p.y0) * p.k).toFixed(1), width: size.toFixed(1), height: size.toFixed(1) }));
    }
  }
  return out;
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
 * Draws the map. `points`: [{id, name, lat, lon, cls, r, uncovered, incident}] (`uncovered`: a need the site's
 * organisation does not cover, drawn as a dashed ring apart from the state colours); `lines`: [{from:[lat,lon],
 * to:[lat,lon]}]. Returns {el, update(points, lines)}.
 */
export async function franceMap({ points = [], lines = [], onPick = () => {} } = {}) {
  const g = await departements();
  const main = projection(FRANCE, MAIN);
  const inset = projection(IDF, { x: INSET.x + 4, y: INSET.y + 18, w: INSET.w - 8, h: INSET.h - 22 });
  const metro = g.features.filter((f) => !String(f.properties.code).startsWith('97'));
  const idf = metro.filter((f) => f.properties.region === 'Île-de-France');
  const url = caller()?.tile_url;
  const clip = `clip-${Math.random().toString(36).slice(2)}`;
  const mainClip = `${clip}-main`;
  const svg = h('svg', { class: `map${url ? ' tiled' : ''}`, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('map_label') },
    h('defs', {},
      h('clipPath', { id: clip }, h('rect', { x: INSET.x, y: INSET.y, width: INSET.w, height: INSET.h })),
      h('clipPath', { id: mainClip }, h('rect', { x: MAIN.x, y: MAIN.y, width: MAIN.w, height: MAIN.h }))),
    url ? h('g', { 'clip-path': `url(#${mainClip})` }, tiles(url, main)) : null,
    h('g', {}, metro.map((f) => h('path', { class: 'dep', d: pathOf(f.geometry, main) }, h('title', {}, f.properties.nom)))),
    h('rect', { class: 'inset-frame', x: INSET.x, y: INSET.y, width: INSET.w, height: INSET.h }),
    url ? h('g', { 'clip-path': `url(#${clip})` }, tiles(url, inset)) : null,
    h('text', { x: INSET.x + 8, y: INSET.y + 14 }, t('inset')),
    h('g', { 'clip-path': `url(#${clip})` },
      idf.map((f) => h('path', { class: 'dep', d: pathOf(f.geometry, inset) }, h('title', {}, f.properties.nom)))),
    // Where the inset lies on the national map.
    (() => {
      const [x1, y1] = main(IDF.lonMin, IDF.latMax);
      const [x2, y2] = main(IDF.lonMax, IDF.latMin);
      return h('rect', { class: 'inset-where', x: x1, y: y1, width: x2 - x1, height: y2 - y1 });
    })(),
  );
  const layer = h('g', {});
  svg.append(layer);
  const draw = (pts, lns) => {
    const items = [];
    for (const l of lns) {
      // On the national map, and on the Paris inset too when both ends lie in it.
      const views = [main];
      if (inside(IDF, l.from[0], l.from[1]) && inside(IDF, l.to[0], l.to[1])) views.push(inset);
      for (const p of views) {
        const [x1, y1] = p(l.from[1], l.from[0]);
        const [x2, y2] = p(l.to[1], l.to[0]);
        items.push(h('line', { class: 'leg', x1, y1, x2, y2 }));
      }
    }
    for (const p of pts) {
      const spots = [main(p.lon, p.lat)];
      if (inside(IDF, p.lat, p.lon)) spots.push(inset(p.lon, p.lat));
      for (const [x, y] of spots) {
        const c = h('circle', {
          class: `site ${p.cls || 'f-none'}`, cx: x.toFixed(1), cy: y.toFixed(1),
          r: p.r || 5, tabindex: 0, 'data-site': p.id, 'data-state': p.state || '', role: 'button',
          'aria-label': p.name, onclick: () => onPick(p), onkeydown: (e) => { if (e.key === 'Enter') onPick(p); },
        }, h('title', {}, `${p.name} (${p.id})${p.state ? ' — ' + p.state : ''}${p.uncovered ? ` — ${t('uncovered_need').toLowerCase()}` : ''}`));
        items.push(c);
        if (p.uncovered) items.push(h('circle', { class: 'need-ring', 'data-site': p.id, cx: x.toFixed(1), cy: y.toFixed(1), r: (p.r || 5) + 4 }));
        if (p.incident) items.push(h('circle', { class: 'incident', cx: x.toFixed(1), cy: y.toFixed(1), r: (p.r || 5) + 5 }));
      }
    }
    layer.replaceChildren(...items);
  };
  draw(points, lines);
  return { el: svg, update: (pts, lns = []) => draw(pts, lns) };
}
