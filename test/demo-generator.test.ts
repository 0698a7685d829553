/** The synthetic demo panel: deterministic, complete where promised, correlated, with its ground truth. */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { sampleCorrelation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { DEMO_INDICATORS } from '../datasets/demo/catalogue.ts';
import { generateDemoPanel, writeDemoFiles } from '../datasets/demo/generate.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { createRandom } from '../engine/stats/random.ts';
import { tempDir } from './support/fixtures.ts';

const { rows, truth } = generateDemoPanel();
const byKey = new Map(rows.map((r) => [`${r.entity}|${r.indicator}|${r.period}`, r]));
const catalogue = new Map(DEMO_INDICATORS.map((i) => [i.code, i]));

describe('createRandom', () => {
  it('is deterministic per seed and uniform enough', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const draws = Array.from({ length: 10_000 }, () => a.next());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const normals = Array.from({ length: 10_000 }, () => a.normal(3, 2));
    const m = normals.reduce((s, x) => s + x, 0) / normals.length;
    const sd = Math.sqrt(normals.reduce((s, x) => s + (x - m) ** 2, 0) / (normals.length - 1));
    expect(m).toBeCloseTo(3, 1);
    expect(sd).toBeCloseTo(2, 1);
  });
});

describe('generateDemoPanel', () => {
  it('is reproducible from its seed, and the seed matters', () => {
    expect(generateDemoPanel().rows).toEqual(rows);
    expect(generateDemoPanel({ seed: 7 }).rows).not.toEqual(rows);
  });

  it('covers the 57 states and 25 years, with population every year', () => {
    expect(new Set(rows.map((r) => r.entity))).toEqual(new Set(OSCE_PARTICIPATING_ISO3));
    for (const entity of OSCE_PARTICIPATING_ISO3) {
      for (let year = 2000; year <= 2024; year++) expect(byKey.has(`${entity}|population|${year}`), `${entity} ${year}`).toBe(true);
    }
    // Order of magnitude right, from the Holy See to the United States.
    const population2020 = (entity: string) => byKey.get(`${entity}|population|2020`)!.value;
    expect(population2020('VAT')).toBeGreaterThan(400);
    expect(population2020('VAT')).toBeLessThan(2000);
    expect(population2020('MCO')).toBeGreaterThan(20_000);
    expect(population2020('MCO')).toBeLessThan(80_000);
    expect(population2020('USA')).toBeGreaterThan(250e6);
    expect(population2020('USA')).toBeLessThan(450e6);
  });

  it('uses only catalogue codes, with their units, and stays in the expected size', () => {
    for (const r of rows) {
      expect(catalogue.has(r.indicator), r.indicator).toBe(true);
      expect(r.unit).toBe(catalogue.get(r.indicator)!.unit);
    }
    expect(rows.length).toBeGreaterThan(30_000);
    expect(rows.length).toBeLessThan(45_000);
  });

  it('gives every state-year values in at least two scored crime areas', () => {
    const areas = new Map<string, Set<string>>();
    for (const r of rows) {
      const area = catalogue.get(r.indicator)!.crimeArea;
      if (area === 'context') continue;
      const key = `${r.entity}|${r.period}`;
      if (!areas.has(key)) areas.set(key, new Set());
      areas.get(key)!.add(area);
    }
    for (const entity of OSCE_PARTICIPATING_ISO3) {
      for (let year = 2000; year <= 2024; year++) expect(areas.get(`${entity}|${year}`)?.size ?? 0).toBeGreaterThanOrEqual(2);
    }
  });

  it('has missing values as real data has them', () => {
    const annual = DEMO_INDICATORS.filter((i) => !i.code.startsWith('goci_'));
    const present = rows.filter((r) => !r.indicator.startsWith('goci_')).length;
    const missingShare = 1 - present / (57 * 25 * annual.length);
    expect(missingShare).toBeGreaterThan(0.05);
    expect(missingShare).toBeLessThan(0.4);
    // More missing in early years than later (reporting started late in many places).
    const annualRowsIn = (year: number) => rows.filter((r) => r.period === year && !r.indicator.startsWith('goci_')).length;
    expect(annualRowsIn(2000)).toBeLessThan(0.7 * annualRowsIn(2015));
    // GI-TOC-style scores exist only in their edition years.
    expect(new Set(rows.filter((r) => r.indicator.startsWith('goci_')).map((r) => r.period))).toEqual(new Set([2021, 2023]));
  });

  it('keeps values in their plausible range, except planted unit errors', () => {
    const unitErrors = new Set(truth.anomalies.filter((a) => a.kind === 'unit_error').map((a) => `${a.entity}|${a.indicator}|${a.period}`));
    for (const r of rows) {
      const def = catalogue.get(r.indicator)!;
      if (unitErrors.has(`${r.entity}|${r.indicator}|${r.period}`)) continue;
      expect(r.value, `${r.entity} ${r.indicator} ${r.period}`).toBeGreaterThanOrEqual(def.plausibleMin!);
      expect(r.value, `${r.entity} ${r.indicator} ${r.period}`).toBeLessThanOrEqual(def.plausibleMax!);
    }
    expect(unitErrors.size).toBeGreaterThan(0);
    // Both directions of unit error: x1000 and /1000.
    const ratios = truth.anomalies.filter((a) => a.kind === 'unit_error').map((a) => a.plantedValue / a.expectedValue);
    expect(ratios.some((ratio) => ratio > 500)).toBe(true);
    expect(ratios.some((ratio) => ratio < 1 / 500)).toBe(true);
  });

  // GI-TOC-style scores exist only in 2021 and 2023, so the cross-section is 2021, not 2020.
  it('correlates organised-crime markets against governance and with corruption offences and homicide', () => {
    const values = (indicator: string, year: number) =>
      new Map(rows.filter((r) => r.indicator === indicator && r.period === year).map((r) => [r.entity, r.value]));
    const market = values('goci_market_human_trafficking', 2021);
    const ruleOfLaw = values('wgi_rule_of_law', 2021);
    const both = [...market.keys()].filter((k) => ruleOfLaw.has(k));
    expect(sampleCorrelation(both.map((k) => market.get(k)!), both.map((k) => ruleOfLaw.get(k)!))).toBeLessThan(-0.3);
    const bribery = values('bribery_offences_rate', 2021);
    const withBribery = [...market.keys()].filter((k) => bribery.has(k));
    expect(sampleCorrelation(withBribery.map((k) => market.get(k)!), withBribery.map((k) => Math.log(bribery.get(k)!)))).toBeGreaterThan(0.3);
    const networks = values('goci_actor_criminal_networks', 2021);
    const homicide = values('homicide_rate', 2021);
    const all = [...networks.keys()];
    expect(sampleCorrelation(all.map((k) => networks.get(k)!), all.map((k) => Math.log(homicide.get(k)!)))).toBeGreaterThan(0.4);
  });

  it('records every planted anomaly and break in the data it describes', () => {
    expect(truth.synthetic).toBe(true);
    expect(truth.anomalies.length).toBeGreaterThanOrEqual(30);
    expect(new Set(truth.anomalies.map((a) => a.kind))).toEqual(new Set(['spike', 'dip', 'unit_error', 'multivariate']));
    for (const a of truth.anomalies) {
      expect(byKey.get(`${a.entity}|${a.indicator}|${a.period}`)?.value).toBe(a.plantedValue);
      expect(a.plantedValue).not.toBe(a.expectedValue);
    }
    expect(truth.breaks.length).toBeGreaterThanOrEqual(5);
    for (const b of truth.breaks) {
      expect(byKey.get(`${b.entity}|${b.indicator}|${b.fromPeriod}`)?.source).toBe(b.sourceAfter);
      const before = rows.filter((r) => r.entity === b.entity && r.indicator === b.indicator && r.period < b.fromPeriod);
      expect(before.length).toBeGreaterThan(0);
      for (const r of before) expect(r.source).toBe(b.sourceBefore);
    }
    expect(rows.every((r) => r.source.startsWith('SYNTHETIC'))).toBe(true);
  });

  it('writes a long CSV that reads back to the same rows', async () => {
    const dir = await tempDir();
    const { csvPath, truthPath, rows: written } = await writeDemoFiles(dir);
    expect(written).toBe(rows.length);
    const records = parse(await readFile(csvPath, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(rows.length);
    expect(Object.keys(records[0]!)).toEqual(['entity', 'period', 'indicator', 'value', 'unit', 'source']);
    const sample = rows[1234]!;
    expect(records[1234]).toEqual({ ...sample, period: String(sample.period), value: String(sample.value) });
    expect(JSON.parse(await readFile(truthPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(truth)));
    // Units contain commas, so they must come back quoted.
    expect(records.find((r) => r.indicator === 'homicide_rate')?.unit).toBe('per 100,000 population');
    // Same seed, same bytes.
    const csvBytes = await readFile(csvPath);
    const again = await writeDemoFiles(await tempDir());
    expect((await readFile(again.csvPath)).equals(csvBytes)).toBe(true);
    expect((await readFile(again.truthPath)).equals(await readFile(truthPath))).toBe(true);
  });
});
