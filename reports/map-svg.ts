/**
 * The report's map: a choropleth of the 57 participating states as an SVG string, drawn on the
 * server without a DOM (d3-geo's geoPath writes path strings). Boundaries, frames and colours are
 * the dashboard's, so that a report and the dashboard look alike: the atlas is
 * api/dashboard/atlas.ts's `buildAtlas` (Natural Earth 1:50m states, 1:110m grey context, from
 * world-atlas), the projections are those of api/dashboard/src/map.ts (an equal-area conic frame
 * from Iceland to Mongolia, North America as an inset), and the colours are palette.ts's
 * (ColorBrewer YlOrRd). The dashboard's map module builds DOM nodes, so it is not imported here.
 *
 * Deterministic: the same data gives the same string (the report must re-render identically).
 */
import { geoCentroid, geoConicEqualArea, geoPath, type GeoPermissibleObjects, type GeoProjection } from 'd3-geo';
import { feature } from 'topojson-client';
import { buildAtlas, type DashboardAtlas } from '../api/dashboard/atlas.ts';
import { BAND_COLOURS, BAND_NAMES, NO_DATA_SWATCH } from '../api/dashboard/src/palette.ts';

export { BAND_COLOURS, BAND_NAMES };

/** Participating states too small to see at this scale: marked by a point as well. */
export const SMALL_STATES = ['AND', 'LIE', 'LUX', 'MLT', 'MCO', 'SMR', 'VAT'] as const;
const INSET_STATES = new Set(['USA', 'CAN']);
const WIDTH = 1000;
const HEIGHT = 600;
export const MAIN = { x0: 4, y0: 4, x1: WIDTH - 4, y1: HEIGHT - 4 };
/**
 * North America over the bottom-right corner of the main frame, where only China lies (no
 * participating state: test/reports-document.test.ts checks it). The dashboard puts it top left,
 * over the United Kingdom, Ireland and Iceland.
 */
export const INSET = { x0: 740, y0: 420, x1: WIDTH - 4, y1: HEIGHT - 4 };
/** Coordinates to one decimal of a 1000-unit-wide frame: a tenth of a point, below print resolution. */
const DIGITS = 1;

export interface MapState {
  readonly entity: string;
  /** Band index 0 (very low) .. 4 (very high), null without a score. */
  readonly band: number | null;
  /** Band label as the API gives it (kept on the element for checks). */
  readonly bandLabel: string | null;
  /** Outlined: the state (or the region's states) the report is about. */
  readonly focus: boolean;
}

export interface StateFeature {
  readonly type: 'Feature';
  readonly id: string;
  readonly properties: { readonly name: string; readonly subregion?: string };
  readonly geometry: GeoPermissibleObjects;
}

let atlas: Promise<DashboardAtlas> | undefined;
function loadAtlas(): Promise<DashboardAtlas> {
  atlas ??= buildAtlas();
  atlas.catch(() => (atlas = undefined));
  return atlas;
}

function frameOutline(west: number, east: number, south: number, north: number): GeoPermissibleObjects {
  const coordinates: [number, number][] = [];
  for (let lon = west; lon <= east; lon += 5) coordinates.push([lon, south], [lon, north]);
  return { type: 'MultiPoint', coordinates };
}

/** Polygons smaller than this on the map (square units of the 1000-wide frame) are left out: islands of a pixel. */
const MIN_POLYGON_AREA = 1.5;

/**
 * A geometry without the polygons too small to see at this projection (the Arctic islands make up
 * most of the 1:50m boundaries), keeping a state's largest polygon always, so every state is drawn.
 */
function withoutSpecks(geometry: GeoPermissibleObjects, projection: GeoProjection): GeoPermissibleObjects {
  const g = geometry as { type: string; coordinates?: unknown };
  if (g.type !== 'MultiPolygon' || !Array.isArray(g.coordinates)) return geometry;
  const area = geoPath(projection);
  const polygons = (g.coordinates as unknown[]).map((coordinates) => ({ coordinates, size: area.area({ type: 'Polygon', coordinates } as GeoPermissibleObjects) }));
  const largest = polygons.reduce((a, b) => (b.size > a.size ? b : a));
  const kept = polygons.filter((p) => p === largest || p.size >= MIN_POLYGON_AREA).map((p) => p.coordinates);
  return { type: 'MultiPolygon', coordinates: kept } as GeoPermissibleObjects;
}

/** Points closer than this to the previous one (frame units) are dropped: below what print shows. */
const MIN_STEP = 0.8;

/**
 * A path with the points of each ring that lie within MIN_STEP of the last point kept dropped
 * (d3-geo writes every vertex of the 1:50m coasts; Canada's alone is 100 kB). A ring left with
 * fewer than three points is dropped, unless it is the path's only ring.
 */
export function thinPath(d: string | null): string | null {
  if (!d) return d;
  const rings = d.split('Z').filter((r) => r.length > 0);
  const out: string[] = [];
  for (const ring of rings) {
    const points = ring.split(/[ML]/).filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]);
    const kept: [number, number][] = [];
    for (const [x, y] of points) {
      const last = kept[kept.length - 1];
      if (!last || Math.hypot(x - last[0], y - last[1]) >= MIN_STEP) kept.push([x, y]);
    }
    if (kept.length >= 3 || rings.length === 1) out.push(`M${kept.map(([x, y]) => `${x},${y}`).join('L')}Z`);
  }
  return out.length > 0 ? out.join('') : d;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The main frame's projection: equal-area conic, Iceland to Mongolia (the dashboard's). */
export function mainProjection(): GeoProjection {
  return geoConicEqualArea().parallels([40, 65]).rotate([-48, 0]).fitExtent([[MAIN.x0, MAIN.y0 + 6], [MAIN.x1, MAIN.y1 - 6]], frameOutline(-12, 110, 34, 70));
}

/** The atlas's participating states as GeoJSON features (id = ISO3). */
export async function atlasFeatures(): Promise<readonly StateFeature[]> {
  const { osce } = await loadAtlas();
  return (feature(osce, osce.objects.states as never) as unknown as { features: StateFeature[] }).features;
}

/** The choropleth as an SVG element (a string), `title` as its accessible name. */
export async function choroplethSvg(states: readonly MapState[], title: string): Promise<string> {
  const { osce, context: contextTopology } = await loadAtlas();
  const features = (feature(osce, osce.objects.states as never) as unknown as { features: StateFeature[] }).features;
  const context = (feature(contextTopology, contextTopology.objects.context as never) as unknown as { features: StateFeature[] }).features;
  const byEntity = new Map(states.map((s) => [s.entity, s]));
  const inInset = features.filter((f) => INSET_STATES.has(f.id));
  const main = mainProjection();
  const inset: GeoProjection = geoConicEqualArea().parallels([33, 65]).rotate([100, 0]).fitExtent([[INSET.x0 + 6, INSET.y0 + 18], [INSET.x1 - 6, INSET.y1 - 6]], { type: 'FeatureCollection', features: inInset } as GeoPermissibleObjects);

  const fill = (s: MapState | undefined) => (s?.band === null || s?.band === undefined ? 'url(#map-no-data)' : BAND_COLOURS[s.band]!);
  const stateAttrs = (f: StateFeature) => {
    const s = byEntity.get(f.id);
    return `data-entity="${escapeXml(f.id)}" data-band="${escapeXml(s?.bandLabel ?? '')}" fill="${fill(s)}" class="state${s?.focus ? ' focus' : ''}"`;
  };
  const out: string[] = [];
  out.push(`<svg class="map" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(
    '<defs>' +
      `<pattern id="map-no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${NO_DATA_SWATCH}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern>` +
      `<clipPath id="map-clip-main"><rect x="${MAIN.x0}" y="${MAIN.y0}" width="${MAIN.x1 - MAIN.x0}" height="${MAIN.y1 - MAIN.y0}"/></clipPath>` +
      `<clipPath id="map-clip-inset"><rect x="${INSET.x0}" y="${INSET.y0}" width="${INSET.x1 - INSET.x0}" height="${INSET.y1 - INSET.y0}"/></clipPath>` +
      '</defs>',
  );
  const frame = (box: typeof MAIN, clip: string, projection: GeoProjection, list: readonly StateFeature[]) => {
    // Clipped to the frame before the path is written: what lies outside is not drawn at all.
    const draw = geoPath(projection.clipExtent([[box.x0, box.y0], [box.x1, box.y1]])).digits(DIGITS);
    const path = (geometry: GeoPermissibleObjects) => thinPath(draw(withoutSpecks(geometry, projection)));
    out.push(`<g clip-path="url(#${clip})"><rect x="${box.x0}" y="${box.y0}" width="${box.x1 - box.x0}" height="${box.y1 - box.y0}" class="sea"/>`);
    out.push('<g class="context">');
    for (const f of context) {
      const d = path(f.geometry);
      if (d) out.push(`<path d="${d}"/>`);
    }
    out.push('</g><g class="states">');
    // Focus states last, so that their outline is drawn over their neighbours'.
    const ordered = [...list].sort((a, b) => Number(byEntity.get(a.id)?.focus ?? false) - Number(byEntity.get(b.id)?.focus ?? false) || a.id.localeCompare(b.id));
    for (const f of ordered) {
      const d = path(f.geometry);
      if (d) out.push(`<path d="${d}" ${stateAttrs(f)}/>`);
    }
    out.push('</g></g>');
    out.push(`<rect x="${box.x0}" y="${box.y0}" width="${box.x1 - box.x0}" height="${box.y1 - box.y0}" class="frame"/>`);
  };
  frame(MAIN, 'map-clip-main', main, features.filter((f) => !INSET_STATES.has(f.id)));
  frame(INSET, 'map-clip-inset', inset, inInset);
  out.push(`<text x="${INSET.x0 + 6}" y="${INSET.y0 + 13}" class="frame-label">North America</text>`);
  out.push('<g class="markers">');
  for (const code of SMALL_STATES) {
    const f = features.find((x) => x.id === code);
    const p = f ? main(geoCentroid(f.geometry)) : null;
    if (!f || !p) continue;
    out.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="5" ${stateAttrs(f).replace('class="state', 'class="marker')}/>`);
  }
  out.push('</g></svg>');
  return out.join('');
}

/** Names of the atlas's states, by ISO3 (for the list of small states under the map). */
export async function atlasStateNames(): Promise<Map<string, string>> {
  const { osce } = await loadAtlas();
  const features = (feature(osce, osce.objects.states as never) as unknown as { features: StateFeature[] }).features;
  return new Map(features.map((f) => [f.id, f.properties.name]));
}
