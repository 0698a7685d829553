/**
 * The GOCI connector on GI-TOC's official workbook global_oc_index.xlsx (../shared/datasets/real;
 * skipped where absent): the sheets `2023_dataset` and `2021_dataset` are read as their editions
 * (the title sheet is skipped), all 193 countries of each, and the published pillar averages are
 * recomputed from the stored indicator scores within 0.005, as test/goci.test.ts does for the CSVs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile, type IngestSummary } from '../datasets/ingest.ts';
import { GOCI_INDICATORS } from '../datasets/reference/goci.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { useScratchStore, openTestStore } from './support/stores.ts';
import { expectRefused, writeWorkbook } from './support/workbooks.ts';

const FILE = ['gitoc_ocindex_2021_2023', 'global_oc_index.xlsx'];
const perEdition = (edition: number) => GOCI_INDICATORS.filter((i) => i.editions.includes(edition)).length;

describe.skipIf(!hasRealData('GOCI workbook tests', FILE))('GOCI connector on global_oc_index.xlsx', () => {
  let store: Store;
  let summary: IngestSummary;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    summary = await ingestFile(store, realDataFile(...FILE), { source: 'GI-TOC OC Index workbook' });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  async function scores(year: number): Promise<Map<string, Map<string, number>>> {
    const rows = await store.db.selectFrom('observations').select(['entity_code', 'indicator_code', 'value']).where('year', '=', year).where('indicator_code', 'like', 'ocindex_%').execute();
    const byEntity = new Map<string, Map<string, number>>();
    for (const r of rows) {
      if (!byEntity.has(r.entity_code)) byEntity.set(r.entity_code, new Map());
      byEntity.get(r.entity_code)!.set(r.indicator_code, r.value!);
    }
    return byEntity;
  }

  it('reads both dataset sheets whole, each as its edition, and skips the title sheet', () => {
    expect(perEdition(2021)).toBe(30);
    expect(perEdition(2023)).toBe(36);
    expect(summary).toMatchObject({ format: 'goci', sheets: ['2023_dataset', '2021_dataset'], accepted: 193 * (30 + 36), rejected: 0, missing: 0 });
  });

  it('puts known values where the sheets have them', async () => {
    // 2023_dataset row 2: Afghanistan 7.1 criminality, heroin trade 9.5; 2021_dataset row 2: Turkey 6.89, resilience 3.54.
    const y2023 = await scores(2023);
    const y2021 = await scores(2021);
    expect([y2023.size, y2021.size]).toEqual([193, 193]);
    expect(y2023.get('AFG')!.get('ocindex_criminality')).toBe(7.1);
    expect(y2023.get('AFG')!.get('ocindex_market_heroin_trade')).toBe(9.5);
    expect(y2021.get('TUR')!.get('ocindex_criminality')).toBe(6.89);
    expect(y2021.get('TUR')!.get('ocindex_resilience')).toBe(3.54);
  });

  it.each([2021, 2023])('recomputes the %i pillars from the indicator scores within 0.005 of the published averages', async (edition) => {
    const stored = await scores(edition);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const group = (entity: Map<string, number>, g: string) => GOCI_INDICATORS.filter((i) => i.group === g && i.editions.includes(edition)).map((i) => entity.get(i.code)!);
    let worst = 0;
    for (const [iso3, entity] of stored) {
      const markets = mean(group(entity, 'market'));
      const actors = mean(group(entity, 'actor'));
      const pairs: [number, string][] = [
        [markets, 'ocindex_criminal_markets'],
        [actors, 'ocindex_criminal_actors'],
        [(markets + actors) / 2, 'ocindex_criminality'],
        [mean(group(entity, 'resilience')), 'ocindex_resilience'],
      ];
      for (const [computed, code] of pairs) {
        const difference = Math.abs(computed - entity.get(code)!);
        worst = Math.max(worst, difference);
        expect(difference, `${iso3} ${code}`).toBeLessThanOrEqual(0.005 + 1e-9);
      }
    }
    expect(stored.size).toBe(193);
    expect(worst).toBeGreaterThan(0); // published averages are rounded: zero would mean a value compared with itself
  });
});

describe('GOCI workbooks built here', () => {
  const scratch = useScratchStore();

  const header = ['Continent', 'Region', 'Country', 'Criminality', 'Criminal markets', 'Human trafficking', 'Human smuggling', 'Arms trafficking', 'Flora crimes', 'Fauna crimes', 'Non-renewable resource crimes', 'Heroin trade', 'Cocaine trade', 'Cannabis trade', 'Synthetic drug trade', 'Criminal actors', 'Mafia-style groups', 'Criminal networks', 'State-embedded actors', 'Foreign actors', 'Resilience', 'Political leadership and governance', 'Government transparency and accountability', 'International cooperation', 'National policies and laws', 'Judicial system and detention', 'Law enforcement', 'Territorial integrity', 'Anti-money laundering', 'Economic regulatory capacity', 'Victim and witness support', 'Prevention', 'Non-state actors'];
  const scoresRow = (country: string, text?: string) => ['Europe', 'X', country, ...header.slice(3).map((_, i) => (i === 5 && text ? text : 5))];

  it('refuses a text score, naming file, sheet, line and column; stores nothing', async () => {
    const path = await writeWorkbook(scratch.dir, 'goci-text.xlsx', [{ name: '2021_dataset', rows: [header, scoresRow('Germany'), scoresRow('France', 'high')] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_INVALID_ROWS', /goci-text\.xlsx, sheet "2021_dataset", line 3, field "Flora crimes": "high" is not a number/);
  });

  it('refuses a workbook with a header and no rows', async () => {
    const path = await writeWorkbook(scratch.dir, 'goci-empty.xlsx', [{ name: '2021_dataset', rows: [header] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_EMPTY', /goci-empty\.xlsx, sheet "2021_dataset", line 1: the header has no data rows/);
  });

  it('refuses a sheet whose country column is missing', async () => {
    const path = await writeWorkbook(scratch.dir, 'goci-no-country.xlsx', [{ name: '2021_dataset', rows: [header.filter((h) => h !== 'Country'), scoresRow('Germany').filter((_, i) => i !== 2)] }]);
    await expectRefused(scratch.store, path, 'TL_INPUT_HEADER', /goci-no-country\.xlsx, sheet "2021_dataset", line 1: not a Global Organized Crime Index table/, { format: 'goci' });
  });
});
