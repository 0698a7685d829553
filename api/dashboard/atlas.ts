/**
 * The map's boundaries, cut from Natural Earth (the `world-atlas` package) at build time: the 57
 * OSCE participating states at 1:50m, keyed by ISO3, and their non-OSCE neighbours at 1:110m as
 * grey context. Only the arcs the kept geometries use are shipped (a whole 1:50m world is 756 kB).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import type { GeometryCollection, GeometryObject, Topology } from 'topojson-specification';
import { OSCE_PARTICIPATING_STATES } from '../../datasets/reference/osce.ts';

const require = createRequire(import.meta.url);

type Geometry = GeometryObject<Record<string, unknown>>;
/** Arc references of a polygon or line geometry: arrays of arc indexes, nested one level per polygon. */
type ArcTree = number | ArcTree[];

/** Natural Earth features without an ISO numeric code that belong to a participating state (ISO 3166 covers the whole island). */
const PART_OF: Readonly<Record<string, string>> = { 'N. Cyprus': 'CYP' };

/** The shipped atlas: two topologies, since the 1:50m and 1:110m files have different transforms and arcs. */
export interface DashboardAtlas {
  /** Object `states`: one geometry per participating state, `id` its ISO3 code, `properties.name` and `.subregion`. */
  readonly osce: Topology;
  /**
   * Object `context`: neighbouring countries that are not participating states, `properties.name`;
   * object `northAmerica`: the United States and Canada again at 1:110m, enough for the small inset.
   */
  readonly context: Topology;
}

function mapArcs(arcs: ArcTree, f: (index: number) => number): ArcTree {
  if (typeof arcs === 'number') return f(arcs);
  return arcs.map((a) => mapArcs(a, f));
}

function nameOf(g: Geometry): string {
  return String((g.properties as { name?: unknown } | undefined)?.name ?? '');
}

function geometryArcs(g: Geometry): ArcTree | undefined {
  return 'arcs' in g ? (g.arcs as ArcTree) : undefined;
}

/**
 * A topology holding only `geometries` and the arcs they reference, renumbered; an arc index i
 * read backwards is written ~i (TopoJSON 2.1.4), so ~i maps to ~(new index).
 */
export function pruneTopology(source: Topology, objectName: string, geometries: readonly Geometry[]): Topology {
  const used = new Map<number, number>();
  const arcs: Topology['arcs'] = [];
  const renumber = (index: number): number => {
    const forward = index < 0 ? ~index : index;
    let next = used.get(forward);
    if (next === undefined) {
      const arc = source.arcs[forward];
      if (!arc) throw new Error(`atlas: arc ${forward} is not in the topology (${source.arcs.length} arcs)`);
      next = arcs.length;
      used.set(forward, next);
      arcs.push(arc);
    }
    return index < 0 ? ~next : next;
  };
  const kept = geometries.map((g) => {
    const a = geometryArcs(g);
    return (a === undefined ? { ...g } : { ...g, arcs: mapArcs(a, renumber) }) as Geometry;
  });
  const collection: GeometryCollection<Record<string, unknown>> = { type: 'GeometryCollection', geometries: kept };
  return { type: 'Topology', ...(source.transform ? { transform: source.transform } : {}), objects: { [objectName]: collection }, arcs };
}

/** Polygon arc lists of a Polygon or MultiPolygon, as MultiPolygon parts. */
function polygonParts(g: Geometry): ArcTree[] {
  if (g.type === 'Polygon') return [g.arcs as ArcTree];
  if (g.type === 'MultiPolygon') return g.arcs as ArcTree[];
  throw new Error(`atlas: expected a polygon, got ${g.type}`);
}

async function readTopology(file: string): Promise<Topology> {
  return JSON.parse(await readFile(require.resolve(`world-atlas/${file}`), 'utf8')) as Topology;
}

/** Longitude-latitude box of a geometry from its arcs (quantized, delta-encoded). */
function geometryBox(topology: Topology, g: Geometry): [number, number, number, number] {
  const t = topology.transform!;
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (a: ArcTree) => {
    if (typeof a !== 'number') return a.forEach(visit);
    let x = 0;
    let y = 0;
    for (const [dx, dy] of topology.arcs[a < 0 ? ~a : a]!) {
      x += dx!;
      y += dy!;
      const lon = x * t.scale[0] + t.translate[0];
      const lat = y * t.scale[1] + t.translate[1];
      box[0] = Math.min(box[0], lon);
      box[1] = Math.min(box[1], lat);
      box[2] = Math.max(box[2], lon);
      box[3] = Math.max(box[3], lat);
    }
  };
  const arcs = geometryArcs(g);
  if (arcs !== undefined) visit(arcs);
  return box;
}

/** Context is drawn where the two frames look: the northern hemisphere from the Pacific to China. */
function inFrame([west, south, east, north]: [number, number, number, number]): boolean {
  return north > 12 && south < 84 && east > -180 && west < 150;
}

export async function buildAtlas(): Promise<DashboardAtlas> {
  const [fine, coarse] = await Promise.all([readTopology('countries-50m.json'), readTopology('countries-110m.json')]);
  const byNumeric = new Map(OSCE_PARTICIPATING_STATES.map((s) => {
    const numeric = countries.alpha3ToNumeric(s.iso3);
    if (!numeric) throw new Error(`atlas: no ISO numeric code for ${s.iso3}`);
    return [numeric, s] as const;
  }));
  const fineGeometries = (fine.objects.countries as GeometryCollection<{ name: string }>).geometries as Geometry[];
  const states = new Map<string, { name: string; subregion: string; parts: ArcTree[] }>();
  for (const g of fineGeometries) {
    const state = g.id === undefined ? undefined : byNumeric.get(String(g.id));
    const iso3 = state?.iso3 ?? PART_OF[nameOf(g)];
    if (!iso3) continue;
    const entry = states.get(iso3) ?? { name: state?.name ?? iso3, subregion: state?.subregion ?? '', parts: [] };
    if (state) {
      entry.name = state.name;
      entry.subregion = state.subregion;
    }
    entry.parts.push(...polygonParts(g));
    states.set(iso3, entry);
  }
  const missing = OSCE_PARTICIPATING_STATES.filter((s) => !states.has(s.iso3)).map((s) => s.iso3);
  if (missing.length > 0) throw new Error(`atlas: world-atlas countries-50m.json has no boundary for ${missing.join(', ')}`);
  const stateGeometries: Geometry[] = [...states].map(([iso3, { name, subregion, parts }]) =>
    parts.length === 1
      ? { type: 'Polygon', id: iso3, properties: { name, subregion }, arcs: parts[0] as number[][] }
      : { type: 'MultiPolygon', id: iso3, properties: { name, subregion }, arcs: parts as number[][][] },
  );

  const osceNames = new Set(['N. Cyprus']);
  const coarseGeometries = ((coarse.objects.countries as GeometryCollection<{ name: string }>).geometries as Geometry[]).filter((g) => {
    if (g.id !== undefined && byNumeric.has(String(g.id))) return false;
    if (osceNames.has(nameOf(g))) return false;
    return inFrame(geometryBox(coarse, g));
  });
  const context = coarseGeometries.map((g) => ({ type: g.type, properties: { name: nameOf(g) }, arcs: geometryArcs(g) }) as Geometry);
  const northAmerica = ((coarse.objects.countries as GeometryCollection).geometries as Geometry[])
    .filter((g) => ['USA', 'CAN'].includes(byNumeric.get(String(g.id))?.iso3 ?? ''))
    .map((g) => ({ ...g, id: byNumeric.get(String(g.id))!.iso3, properties: { name: byNumeric.get(String(g.id))!.name, subregion: byNumeric.get(String(g.id))!.subregion } }) as Geometry);
  if (northAmerica.length !== 2) throw new Error('atlas: world-atlas countries-110m.json lacks the United States or Canada');
  const contextTopology = pruneTopology(coarse, 'context', [...context, ...northAmerica]);
  // Split the one collection into two objects over the same arcs.
  const all = (contextTopology.objects.context as GeometryCollection).geometries;
  contextTopology.objects.context = { type: 'GeometryCollection', geometries: all.slice(0, context.length) };
  contextTopology.objects.northAmerica = { type: 'GeometryCollection', geometries: all.slice(context.length) };
  return { osce: pruneTopology(fine, 'states', stateGeometries), context: contextTopology };
}
