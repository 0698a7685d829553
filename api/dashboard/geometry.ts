/**
 * The map's geometry, projected once at build time with d3-geo: SVG path data for each of the 57
 * participating states (1:50m; the United States and Canada 1:110m, in the small inset) and their
 * grey neighbours (1:110m), in two frames of equal-area conic projections
 * (Europe to Central Asia and Mongolia; North America as an inset over the empty Atlantic off
 * Morocco), and the points that mark the states too small to see. The boundaries never change
 * between requests, so projecting them in every visitor's browser (about 0.3 s of main-thread
 * work on the 1:50m atlas) would only delay the first coloured map.
 */
import { geoBounds, geoCentroid, geoConicEqualArea, geoPath, type GeoPermissibleObjects, type GeoProjection } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection } from 'topojson-specification';
import type { DashboardAtlas } from './atlas.ts';

export const MAP_WIDTH = 1000;
export const MAP_HEIGHT = 600;

export interface Frame {
  readonly id: 'main' | 'inset';
  readonly label: string;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** The main frame fills the picture; North America sits over its empty bottom-left corner. */
export const FRAMES: readonly Frame[] = [
  { id: 'main', label: '', x0: 4, y0: 4, x1: MAP_WIDTH - 4, y1: MAP_HEIGHT - 4 },
  { id: 'inset', label: 'North America', x0: 4, y0: 398, x1: 246, y1: MAP_HEIGHT - 4 },
];

const INSET_STATES = new Set(['USA', 'CAN']);

/** Participating states smaller than a few pixels on the map: marked by points (and listed as buttons by the page). */
export const SMALL_STATES = ['AND', 'LIE', 'LUX', 'MLT', 'MCO', 'SMR', 'VAT'] as const;

export interface MapGeometry {
  readonly width: number;
  readonly height: number;
  readonly frames: readonly Frame[];
  readonly states: readonly { readonly id: string; readonly name: string; readonly subregion: string; readonly frame: Frame['id']; readonly d: string }[];
  readonly context: readonly { readonly name: string; readonly frame: Frame['id']; readonly d: string }[];
  readonly markers: readonly { readonly id: string; readonly x: number; readonly y: number }[];
}

interface Feature {
  readonly type: 'Feature';
  readonly id?: string | number;
  readonly properties: { readonly name: string; readonly subregion?: string };
  readonly geometry: GeoPermissibleObjects;
}

/** Points spanning a longitude-latitude box, for fitting a projection to it. */
function box(west: number, east: number, south: number, north: number): GeoPermissibleObjects {
  const coordinates: [number, number][] = [];
  for (let lon = west; lon <= east; lon += 5) coordinates.push([lon, south], [lon, north]);
  return { type: 'MultiPoint', coordinates };
}

function features(topology: DashboardAtlas['osce'], object: string): Feature[] {
  return (feature(topology, topology.objects[object] as GeometryCollection) as unknown as { features: Feature[] }).features;
}

/** Whether a feature's longitude-latitude box can reach into a frame at all (cheap pre-filter). */
function near(f: Feature, [[west, south], [east, north]]: [[number, number], [number, number]]): boolean {
  const [[w, s], [e, n]] = geoBounds(f as never);
  // A box across the antimeridian (w > e) is kept: it is rare and clipping handles it.
  return w > e || (e >= west && w <= east && n >= south && s <= north);
}

export function projectAtlas(atlas: DashboardAtlas): MapGeometry {
  // The inset is small: the United States and Canada at 1:110m (their 1:50m coasts would be two thirds of the file).
  const northAmerica = features(atlas.context, 'northAmerica');
  const states = [...features(atlas.osce, 'states').filter((f) => !INSET_STATES.has(String(f.id))), ...northAmerica];
  const context = features(atlas.context, 'context');
  const frame = (id: Frame['id']) => FRAMES.find((f) => f.id === id)!;
  const main = frame('main');
  const inset = frame('inset');
  const inInset = states.filter((f) => INSET_STATES.has(String(f.id)));
  const clip = (f: Frame): [[number, number], [number, number]] => [[f.x0, f.y0], [f.x1, f.y1]];
  const mainProjection: GeoProjection = geoConicEqualArea().parallels([40, 65]).rotate([-48, 0])
    .fitExtent([[main.x0, main.y0 + 6], [main.x1, main.y1 - 6]], box(-24, 112, 34, 70));
  const insetProjection: GeoProjection = geoConicEqualArea().parallels([33, 65]).rotate([100, 0])
    .fitExtent([[inset.x0 + 6, inset.y0 + 18], [inset.x1 - 6, inset.y1 - 6]], { type: 'FeatureCollection', features: inInset } as GeoPermissibleObjects);
  // Clipped to the frame at projection: no path data for what the frame does not show (France overseas, Russia east of the frame).
  mainProjection.clipExtent(clip(main));
  insetProjection.clipExtent(clip(inset));
  const paths = { main: geoPath(mainProjection).digits(1), inset: geoPath(insetProjection).digits(1) };
  const lonLat = { main: [[-40, 20], [150, 85]] as [[number, number], [number, number]], inset: [[-180, 10], [-40, 85]] as [[number, number], [number, number]] };

  const out: { states: MapGeometry['states'][number][]; context: MapGeometry['context'][number][] } = { states: [], context: [] };
  for (const id of ['main', 'inset'] as const) {
    for (const f of context) {
      if (!near(f, lonLat[id])) continue;
      const d = paths[id](f.geometry);
      if (d) out.context.push({ name: f.properties.name, frame: id, d });
    }
  }
  for (const f of states) {
    const id = INSET_STATES.has(String(f.id)) ? 'inset' : 'main';
    const d = paths[id](f.geometry);
    if (!d) throw new Error(`map geometry: ${String(f.id)} falls outside its frame`);
    out.states.push({ id: String(f.id), name: f.properties.name, subregion: f.properties.subregion ?? '', frame: id, d });
  }
  const markers = SMALL_STATES.map((code) => {
    const f = states.find((x) => x.id === code);
    const p = f ? mainProjection(geoCentroid(f.geometry)) : null;
    if (!p) throw new Error(`map geometry: no point for ${code}`);
    return { id: code, x: Math.round(p[0] * 10) / 10, y: Math.round(p[1] * 10) / 10 };
  });
  return { width: MAP_WIDTH, height: MAP_HEIGHT, frames: FRAMES, states: out.states, context: out.context, markers };
}
