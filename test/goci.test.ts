/**
 * The GI-TOC Global Organized Crime Index through the `goci` connector, on the real published files
 * (../shared/datasets/real; skipped where absent): every edition ingests whole, known values land
 * where the files put them, and the pillar averages recomputed from the stored indicator scores
 * match GI-TOC's published averages (rounded to 2 decimals) for all 193 countries.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { GOCI_INDICATORS } from '../datasets/reference/goci.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const FILES = {
  2021: ['gitoc_ocindex_csv', 'oc_2021.csv'],
  2023: ['gitoc_ocindex_csv', 'oc_2023.csv'],
  2025: ['gitoc_ocindex_2025', 'oc_index.csv'],
} as const;
const available = hasRealData('GOCI connector tests', ...Object.values(FILES).map((f) => [...f]));

describe.skipIf(!available)('GOCI connector on the published files', () => {
  let store: Store;
  const summaries: Record<number, IngestSummary> = {};

  beforeAll(async () => {
    store = await openTestStore('pglite');
    for (const [edition, parts] of Object.entries(FILES)) {
      summaries[Number(edition)] = await ingestFile(store, realDataFile(...parts), { source: `GI-TOC OC Index ${edition}`, grade: 'B3' });
    }
  });
  afterAll(async () => {
    await store?.close();
  });

  async function scores(year: number): Promise<Map<string, Map<string, number>>> {
    const rows = await store.db
      .selectFrom('observations')
      .select(['entity_code', 'indicator_code', 'value'])
      .where('year', '=', year)
      .where('indicator_code', 'like', 'ocindex_%')
      .execute();
    const byEntity = new Map<string, Map<string, number>>();
    for (const r of rows) {
      if (!byEntity.has(r.entity_code)) byEntity.set(r.entity_code, new Map());
      byEntity.get(r.entity_code)!.set(r.indicator_code, r.value!);
    }
    return byEntity;
  }

  it('ingests every edition whole: 193 countries, every indicator of the edition', () => {
    const perEdition = (edition: number) => GOCI_INDICATORS.filter((i) => i.editions.includes(edition) && (edition !== 2025 || i.group !== 'published')).length;
    expect(perEdition(2021)).toBe(30);
    expect(perEdition(2023)).toBe(36);
    expect(perEdition(2025)).toBe(32);
    for (const edition of [2021, 2023, 2025]) {
      expect(summaries[edition], String(edition)).toMatchObject({ accepted: 193 * perEdition(edition), rejected: 0, missing: 0, format: 'goci' });
    }
  });

  it('puts known published values where the files have them', async () => {
    const y2021 = await scores(2021);
    expect(y2021.size).toBe(193);
    // oc_2021.csv, first row: Turkey.
    expect(y2021.get('TUR')!.get('ocindex_criminality')).toBe(6.89);
    expect(y2021.get('TUR')!.get('ocindex_market_human_smuggling')).toBe(9);
    expect(y2021.get('TUR')!.get('ocindex_resilience')).toBe(3.54);
    // oc_2023.csv, first row: Afghanistan.
    const y2023 = await scores(2023);
    expect(y2023.get('AFG')!.get('ocindex_criminality')).toBe(7.1);
    expect(y2023.get('AFG')!.get('ocindex_market_heroin_trade')).toBe(9.5);
    // oc_index.csv (2025): Namibia's ISO2 code is the text "NA", not a missing value.
    const y2025 = await scores(2025);
    expect(y2025.size).toBe(193);
    expect(y2025.get('NAM')!.get('ocindex_market_human_trafficking')).toBe(3.5);
    expect(y2025.get('AGO')!.get('ocindex_market_human_trafficking')).toBe(6);
  });

  it('reads each file independently to the same numbers (a second parse of the CSV)', async () => {
    const text = readFileSync(realDataFile(...FILES[2023]), 'utf8');
    const rows = Papa.parse<Record<string, string>>(text.trim(), { header: true }).data;
    const stored = await scores(2023);
    const germany = rows.find((r) => r.Country === 'Germany')!;
    expect(stored.get('DEU')!.get('ocindex_market_synthetic_drug_trade')).toBe(Number(germany['Synthetic drug trade']));
    expect(stored.get('DEU')!.get('ocindex_resilience_law_enforcement')).toBe(Number(germany['Law enforcement']));
  });

  it.each([2021, 2023])('recomputes the %i pillars from the indicator scores within 0.005 of the published averages', async (edition) => {
    const stored = await scores(edition);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const group = (entity: Map<string, number>, g: string) =>
      GOCI_INDICATORS.filter((i) => i.group === g && i.editions.includes(edition)).map((i) => entity.get(i.code)!);
    let worst = 0;
    for (const [iso3, entity] of stored) {
      const markets = mean(group(entity, 'market'));
      const actors = mean(group(entity, 'actor'));
      const resilience = mean(group(entity, 'resilience'));
      const pairs: [number, string][] = [
        [markets, 'ocindex_criminal_markets'],
        [actors, 'ocindex_criminal_actors'],
        [(markets + actors) / 2, 'ocindex_criminality'],
        [resilience, 'ocindex_resilience'],
      ];
      for (const [computed, code] of pairs) {
        const difference = Math.abs(computed - entity.get(code)!);
        worst = Math.max(worst, difference);
        expect(difference, `${iso3} ${code}`).toBeLessThanOrEqual(0.005 + 1e-9);
      }
    }
    expect(stored.size).toBe(193);
    expect(worst).toBeGreaterThan(0); // the published values are rounded: a zero would mean we compared a value with itself
  });
});
