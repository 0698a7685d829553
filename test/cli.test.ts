/**
 * The threatlens command line, run as a user runs it (a child process on a PGlite data directory):
 * JSON on stdout, errors with file, line and field on stderr and a non-zero exit code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { threatlens } from './support/cli.ts';

describe('threatlens CLI', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = await tempDir();
    dataDir = `${dir}/store`;
    const added = await threatlens(dataDir, 'indicators', 'add', '--code', 'cli_rate', '--name', 'CLI test rate',
      '--unit', 'per 100,000 population', '--crime-area', 'homicide', '--polarity', 'higher_worse');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ registered: 'cli_rate' });
  });

  it('ingests a file and prints a JSON summary; a second time is a no-op', async () => {
    const path = await writeFixture(dir, 'cli.csv', 'entity,period,indicator,value\nDEU,2020,cli_rate,1.5\nFRA,2020,cli_rate,2.5\nPOL,2020,cli_rate,0.5\n');
    const first = await threatlens(dataDir, 'ingest', path, '--source', 'cli test', '--grade', 'B2');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ batchId: 1, accepted: 3, rejected: 0, skippedAsDuplicate: false });
    const again = await threatlens(dataDir, 'ingest', path);
    expect(JSON.parse(again.stdout)).toMatchObject({ batchId: null, skippedAsDuplicate: true, duplicateOf: 1 });

    const scores = await threatlens(dataDir, 'score', '--year', '2020', '--format', 'csv');
    expect(scores.code, scores.stderr).toBe(0);
    const lines = scores.stdout.trim().split('\n');
    expect(lines[0]).toBe('entity,name,score,rank');
    expect(lines).toHaveLength(58);
    expect(lines[1]).toBe('FRA,"France",10.000,1');
  });

  it('scores a framework from a path as CSV (entity, then a node per column) and assesses a state', async () => {
    // DEU 1.5, FRA 2.5, POL 0.5 (ingested above): min-max 0-10 gives 5, 10, 0 (by hand).
    const framework = await writeFixture(dir, 'cli-framework.json', JSON.stringify({
      id: 'cli-test', version: '1.0.0', title: 'CLI test framework',
      defaults: { normalisation: { method: 'minmax', low: 0, high: 10 } },
      roots: [{ id: 'risk', children: [{ id: 'violence', children: ['cli_rate'] }] }],
    }));
    const csv = await threatlens(dataDir, 'score', '--framework', framework, '--year', '2020', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.trim().split('\n')).toEqual(['entity,risk,violence', 'DEU,5.0000,5.0000', 'FRA,10.0000,10.0000', 'POL,0.0000,0.0000']);

    const assessed = await threatlens(dataDir, 'assess', '--framework', framework, '--year', '2020', '--entity', 'fra', '--runs', '50', '--format', 'text');
    expect(assessed.code, assessed.stderr).toBe(0);
    expect(assessed.stdout).toMatch(/^Assessment 1: CLI test framework v1\.0\.0, 2020; data [0-9a-f]{16}, code 0\.1\.0/);
    expect(assessed.stdout).toMatch(/France scores 10\.0 of 10 on the CLI test framework in 2020 \(very high band, rank 1 of 3/);
    const bad = await threatlens(dataDir, 'assess', '--framework', framework, '--year', '2020', '--entity', 'XXX');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TL_BAD_OPTION: entity "XXX" is not one of the 57 OSCE participating states/);
  });

  it('refuses a bad file with the line and field, exit code 1, and stores nothing', async () => {
    const path = await writeFixture(dir, 'cli-bad.csv', 'entity,period,indicator,value\nDEU,2019,cli_rate,lots\n');
    const result = await threatlens(dataDir, 'ingest', path);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error TL_INPUT_INVALID_ROWS: cli-bad\.csv: 1 problem/);
    expect(result.stderr).toMatch(/cli-bad\.csv, line 2, field "value": "lots" is not a number/);
    expect(result.stdout).toBe('');
    const scores = await threatlens(dataDir, 'score', '--year', '2019');
    expect(scores.code).toBe(1);
    expect(scores.stderr).toMatch(/No risk scores for 2019/);
  });

  it('explains a bad option', async () => {
    const result = await threatlens(dataDir, 'ingest', 'x.csv', '--sharing', 'everyone');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--sharing.*everyone.*public, restricted, owner/s);
  });
});
