/**
 * The dashboard's build (api/dashboard/build.ts): the map cut from world-atlas and projected at
 * build time, the indicator classes, and the bundle; no browser needed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { describe, expect, it } from 'vitest';
import { buildAtlas, pruneTopology } from '../api/dashboard/atlas.ts';
import { DIST_DIR, ensureDashboardBuilt, transferSizes } from '../api/dashboard/build.ts';
import { fifths, scoreClasses, scoreLegend } from '../api/dashboard/classes.ts';
import { FRAMES, projectAtlas, SMALL_STATES } from '../api/dashboard/geometry.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';

describe('indicator classes: five fifths by value in the direction of risk', () => {
  it('puts ten distinct values two to a class, highest values in the highest class', () => {
    // By hand: ranks 1..10 (least risk first), class = floor(5 (r - 1) / 10): 0 0 1 1 2 2 3 3 4 4.
    const { classes, legend } = fifths([5, 1, 9, 3, 7, 2, 10, 4, 8, 6], 'higher_worse');
    expect(classes).toEqual([2, 0, 4, 1, 3, 0, 4, 1, 3, 2]);
    expect(legend.map((c) => [c.from, c.to])).toEqual([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
  });

  it('reverses the order where higher is better, keeps missing values missing and ties together', () => {
    // higher_better: 10 is least risk. Values 10, 10, 8, null, 5, 1 -> present n = 5, ranks by risk:
    // 10 and 10 tie at rank 1 (class 0), 8 rank 3 (floor(5*2/5) = 2), 5 rank 4 (3), 1 rank 5 (4).
    const { classes, legend } = fifths([10, 10, 8, null, 5, 1], 'higher_better');
    expect(classes).toEqual([0, 0, 2, null, 3, 4]);
    expect(legend[1]).toEqual({ band: 1, label: 'second fifth', from: null, to: null });
    expect(legend[4]).toEqual({ band: 4, label: 'highest fifth', from: 1, to: 1 });
  });

  it('classes 57 values into groups of 12, 11, 12, 11, 11', () => {
    const values = Array.from({ length: 57 }, (_, i) => i * 1.5);
    const { classes } = fifths(values, 'higher_worse');
    expect([0, 1, 2, 3, 4].map((b) => classes.filter((c) => c === b).length)).toEqual([12, 11, 12, 11, 11]);
  });

  it('bands scores by the thresholds, a threshold belonging to the class above', () => {
    expect(scoreClasses([0, 1.99, 2, 3.5, 4.99, 5, 6.49, 6.5, 10, null], [2, 3.5, 5, 6.5])).toEqual([0, 0, 1, 2, 2, 3, 3, 4, 4, null]);
    expect(scoreLegend([2, 3.5, 5, 6.5]).map((c) => [c.label, c.from, c.to])).toEqual([
      ['very low', null, 2],
      ['low', 2, 3.5],
      ['medium', 3.5, 5],
      ['high', 5, 6.5],
      ['very high', 6.5, null],
    ]);
  });
});

describe('the map cut from world-atlas', () => {
  it('keeps only the arcs the kept geometries use, renumbered, and draws the same shapes', () => {
    // Two squares sharing arc 1 (read backwards by the second); arc 3 is unused.
    const topology: Topology = {
      type: 'Topology',
      arcs: [
        [[0, 0], [1, 0]],
        [[1, 0], [1, 1]],
        [[1, 1], [0, 1], [0, 0]],
        [[5, 5], [6, 6]],
        [[1, 0], [2, 0], [2, 1], [1, 1]],
      ],
      objects: {
        all: {
          type: 'GeometryCollection',
          geometries: [
            { type: 'Polygon', id: 'A', arcs: [[0, 1, 2]] },
            { type: 'Polygon', id: 'B', arcs: [[4, ~1]] },
          ],
        },
      },
    };
    const geometries = (topology.objects.all as GeometryCollection).geometries;
    const pruned = pruneTopology(topology, 'kept', [geometries[1]!]);
    expect(pruned.arcs).toEqual([topology.arcs[4], topology.arcs[1]]);
    expect((pruned.objects.kept as GeometryCollection).geometries[0]).toMatchObject({ id: 'B', arcs: [[0, ~1]] });
    // topojson-client decodes both to the same ring.
    const before = feature(topology, { type: 'GeometryCollection', geometries: [geometries[1]!] }).features[0]!.geometry;
    const after = feature(pruned, pruned.objects.kept as GeometryCollection).features[0]!.geometry;
    expect(after).toEqual(before);
  });

  it('has a boundary for each of the 57 participating states, Cyprus as the whole island', async () => {
    const atlas = await buildAtlas();
    const states = (atlas.osce.objects.states as GeometryCollection<{ name: string }>).geometries;
    expect(states.map((g) => g.id).sort()).toEqual([...OSCE_PARTICIPATING_ISO3].sort());
    const cyprus = states.find((g) => g.id === 'CYP')!;
    expect(cyprus.type).toBe('MultiPolygon');
    // Natural Earth draws northern Cyprus separately: both parts are in CYP.
    expect((cyprus as { arcs: unknown[] }).arcs.length).toBeGreaterThanOrEqual(2);
    const context = (atlas.context.objects.context as GeometryCollection<{ name: string }>).geometries.map((g) => (g.properties as { name: string }).name);
    expect(context).toContain('Greenland');
    expect(context).toContain('Mexico');
    expect(context).not.toContain('Germany');
  });

  it('projects every state into its frame, North America into the inset, the small states as points inside the main frame', async () => {
    const geometry = projectAtlas(await buildAtlas());
    expect(geometry.states).toHaveLength(57);
    for (const s of geometry.states) {
      expect(s.d, s.id).toMatch(/^M[-\d.]+,[-\d.]+/);
      expect(s.frame, s.id).toBe(s.id === 'USA' || s.id === 'CAN' ? 'inset' : 'main');
    }
    const main = FRAMES.find((f) => f.id === 'main')!;
    const inset = FRAMES.find((f) => f.id === 'inset')!;
    expect(geometry.markers.map((m) => m.id)).toEqual([...SMALL_STATES]);
    for (const m of geometry.markers) {
      expect(m.x).toBeGreaterThan(main.x0);
      expect(m.x).toBeLessThan(main.x1);
      expect(m.y).toBeGreaterThan(main.y0);
      expect(m.y).toBeLessThan(main.y1);
      // Not hidden under the North America inset.
      expect(m.x > inset.x1 || m.y < inset.y0, m.id).toBe(true);
    }
    // Clipped at projection: every coordinate of the main frame's paths lies within the frame (1 px of rounding).
    for (const s of geometry.states.filter((x) => x.frame === 'main')) {
      const numbers = s.d.match(/-?\d+(\.\d+)?/g)!.map(Number);
      for (let i = 0; i < numbers.length; i += 2) {
        expect(numbers[i]!).toBeGreaterThanOrEqual(main.x0 - 1);
        expect(numbers[i]!).toBeLessThanOrEqual(main.x1 + 1);
      }
    }
  });
});

describe('the bundle', () => {
  it('builds into dist once and is up to date after, the page naming its assets by the build hash', async () => {
    const first = await ensureDashboardBuilt();
    const again = await ensureDashboardBuilt();
    expect(again.rebuilt).toBe(false);
    expect(again.hash).toBe(first.hash);
    expect(Object.keys(again.files).sort()).toEqual(['app.js', 'index.html', 'map.json', 'style.css']);
    const page = await readFile(join(DIST_DIR, 'index.html'), 'utf8');
    for (const asset of ['app.js', 'style.css', 'map.json']) expect(page).toContain(`${asset}?v=${again.hash}`);
    // Nothing from another origin: no CDN.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    const app = await readFile(join(DIST_DIR, 'app.js'), 'utf8');
    expect(app).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const total = transferSizes(again);
    console.log(`dashboard bundle: app.js ${again.files['app.js']!.bytes} B (${again.files['app.js']!.gzip} B gzip); everything ${total.bytes} B, ${total.served} B as served compressed`);
    expect(again.files['app.js']!.gzip).toBeLessThan(50_000);
  });
});
