/** Generated inputs for benchmarks, streamed to disk so that their size costs no memory. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { OSCE_PARTICIPATING_ISO3 } from '../datasets/reference/osce.ts';
import { createRandom } from '../engine/stats/random.ts';
import type { IndicatorDefinition } from '../engine/types.ts';

const FIRST_YEAR = 1990;
const YEARS = 35;

/** Enough indicators that (entity, year, indicator) stays unique for `rows` rows. */
export function benchIndicators(rows: number): IndicatorDefinition[] {
  const count = Math.ceil(rows / (OSCE_PARTICIPATING_ISO3.length * YEARS));
  return Array.from({ length: count }, (_, i) => ({
    code: `bench_ind_${String(i + 1).padStart(4, '0')}`,
    name: `Benchmark indicator ${i + 1}`,
    unit: 'per 100,000 population',
    crimeArea: 'context' as const,
    polarity: 'higher_worse' as const,
  }));
}

/** Writes a long CSV `entity,period,indicator,value` of `rows` rows. */
export async function writeLongCsv(path: string, rows: number, seed = 1): Promise<void> {
  const random = createRandom(seed);
  const indicators = benchIndicators(rows);
  const out = createWriteStream(path);
  out.write('entity,period,indicator,value\n');
  let written = 0;
  let buffer = '';
  outer: for (const indicator of indicators) {
    for (const entity of OSCE_PARTICIPATING_ISO3) {
      for (let year = FIRST_YEAR; year < FIRST_YEAR + YEARS; year++) {
        if (written++ >= rows) break outer;
        buffer += `${entity},${year},${indicator.code},${(random.next() * 1000).toFixed(4)}\n`;
        if (buffer.length > 1 << 16) {
          if (!out.write(buffer)) await once(out, 'drain');
          buffer = '';
        }
      }
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
