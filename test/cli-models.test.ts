/**
 * The model lifecycle from the command line, as a user runs it (child processes on a PGlite data
 * directory with the demo data): train, list, card, promote, rollback, anomalies as CSV, and a
 * bad hyperparameter refused without touching the registry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/fixtures.ts';
import { threatlens } from './support/cli.ts';

describe('threatlens train, models and anomalies', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = `${await tempDir()}/store`;
    const migrated = await threatlens(dataDir, 'migrate');
    expect(migrated.code, migrated.stderr).toBe(0);
  }, 180_000);

  it('trains two versions, promotes, rolls back, and refuses a bad hyperparameter', async () => {
    for (const trees of [20, 30]) {
      const trained = await threatlens(dataDir, 'train', 'isolation-forest', '--params', JSON.stringify({ nTrees: trees }), '--seed', '5');
      expect(trained.code, trained.stderr).toBe(0);
      expect(trained.stderr).toMatch(/training isolation-forest/);
      expect(JSON.parse(trained.stdout)).toMatchObject({ state: 'succeeded', percent: 100 });
    }
    const bad = await threatlens(dataDir, 'train', 'isolation-forest', '--params', '{"nTrees": "many"}');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/TL_BAD_OPTION.*nTrees/);

    const listed = JSON.parse((await threatlens(dataDir, 'models', 'list', 'isolation-forest')).stdout) as { version: number; status: string }[];
    expect(listed.map((m) => [m.version, m.status]).sort()).toEqual([[1, 'candidate'], [2, 'candidate']]);
    const card = await threatlens(dataDir, 'models', 'card', 'isolation-forest', '2');
    expect(card.stdout).toMatch(/nTrees/);

    expect(JSON.parse((await threatlens(dataDir, 'models', 'promote', 'isolation-forest', '1')).stdout)).toMatchObject({ version: 1, changed: true });
    expect(JSON.parse((await threatlens(dataDir, 'models', 'promote', 'isolation-forest', '2')).stdout)).toMatchObject({ version: 2, previous: 1 });
    expect(JSON.parse((await threatlens(dataDir, 'models', 'rollback', 'isolation-forest')).stdout)).toMatchObject({ version: 1, previous: 2 });
    const after = JSON.parse((await threatlens(dataDir, 'models', 'list', 'isolation-forest')).stdout) as { version: number; status: string }[];
    expect(after.find((m) => m.status === 'production')?.version).toBe(1);
  }, 300_000);

  it('prints anomaly flags as CSV with the documented columns, from the production model', async () => {
    const out = await threatlens(dataDir, 'anomalies', '--entity', 'alb', '--format', 'csv');
    expect(out.code, out.stderr).toBe(0);
    const [header, ...rows] = out.stdout.trim().split('\n');
    expect(header).toBe('entity,indicator,period,detector,score,severity');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const [entity, , period, detector, score, severity] = row.split(',');
      expect(entity).toBe('ALB');
      expect(period).toMatch(/^\d{4}/);
      expect(detector).toBe('ensemble');
      expect(Number(score)).toBeGreaterThanOrEqual(0.5);
      expect(['low', 'medium', 'high']).toContain(severity);
    }
    const json = JSON.parse((await threatlens(dataDir, 'anomalies', '--entity', 'ALB')).stdout);
    expect(json.run.detectors.isolation_forest.version).toBe(1);
  }, 300_000);
});
