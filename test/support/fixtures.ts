/** Small input files and a catalogue of test indicators, written to a temporary directory. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndicatorDefinition } from '../../engine/types.ts';

export const TEST_INDICATORS: readonly IndicatorDefinition[] = [
  { code: 't_homicide', name: 'Test homicide rate', unit: 'per 100,000 population', crimeArea: 'homicide', polarity: 'higher_worse' },
  { code: 't_seizures', name: 'Test drug seizures', unit: 'kg per 100,000 population', crimeArea: 'drugs', polarity: 'higher_worse' },
  { code: 't_rule_of_law', name: 'Test rule of law', unit: 'index -2.5 to 2.5', crimeArea: 'governance', polarity: 'higher_better' },
  { code: 't_population', name: 'Test population', unit: 'persons', crimeArea: 'context', polarity: 'higher_worse' },
];

export async function tempDir(prefix = 'threatlens-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeFixture(dir: string, name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}
