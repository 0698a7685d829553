/**
 * The sharing rules, pure (engine/access) and as SQL (engine/store/visibility.ts) on each store:
 * who may read a batch, the intersection rule for results computed from several batches, the
 * scope a principal reads under, and that the SQL agrees with the pure rules on every batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agencyScope, ALL_DATA, PUBLIC_DATA, scopeFor, type DataScope, type Principal } from '../engine/access/roles.ts';
import { agencyMayRead, describeReaders, readersOfResult, scopeAllowsBatch, scopeAllowsResult, type BatchSharing } from '../engine/access/sharing.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { currentAnnualValues, dataVersion } from '../engine/store/observations.ts';
import type { Store } from '../engine/store/database.ts';
import { batchArrayVisible, batchSharing, visibleBatchIds } from '../engine/store/visibility.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';
import { sql } from 'kysely';

const PUBLIC: BatchSharing = { id: 1, ownerAgency: 'public', sharingLevel: 'public', sharedWith: [] };
const RESTRICTED_A_TO_B: BatchSharing = { id: 2, ownerAgency: 'agency-a', sharingLevel: 'restricted', sharedWith: ['agency-b'] };
const RESTRICTED_B_TO_A_C: BatchSharing = { id: 3, ownerAgency: 'agency-b', sharingLevel: 'restricted', sharedWith: ['agency-a', 'agency-c'] };
const OWNER_C: BatchSharing = { id: 4, ownerAgency: 'agency-c', sharingLevel: 'owner', sharedWith: ['agency-a'] };
const AGENCIES = ['agency-a', 'agency-b', 'agency-c', 'agency-d'];

describe('sharing rules (pure)', () => {
  it('public batches for all, restricted for owner and named agencies, owner-only for the owner (its shared_with ignored)', () => {
    // Written out by hand from the rule, agency by agency.
    const expected: Record<string, boolean[]> = {
      'agency-a': [true, true, true, false],
      'agency-b': [true, true, true, false],
      'agency-c': [true, false, true, true],
      'agency-d': [true, false, false, false],
    };
    for (const agency of AGENCIES) {
      expect([PUBLIC, RESTRICTED_A_TO_B, RESTRICTED_B_TO_A_C, OWNER_C].map((b) => agencyMayRead(b, agency)), agency).toEqual(expected[agency]);
    }
  });

  it('a result is readable by the intersection of its inputs\' readers', () => {
    expect(describeReaders(readersOfResult([]))).toBe('everyone');
    expect(describeReaders(readersOfResult([PUBLIC]))).toBe('everyone');
    expect(describeReaders(readersOfResult([PUBLIC, RESTRICTED_A_TO_B]))).toBe('agency-a, agency-b');
    // {a, b} ∩ {b, a, c} = {a, b}
    expect(describeReaders(readersOfResult([RESTRICTED_A_TO_B, RESTRICTED_B_TO_A_C]))).toBe('agency-a, agency-b');
    // {b, a, c} ∩ {c} = {c}
    expect(describeReaders(readersOfResult([RESTRICTED_B_TO_A_C, OWNER_C]))).toBe('agency-c');
    // {a, b} ∩ {c} = nobody
    expect(describeReaders(readersOfResult([RESTRICTED_A_TO_B, OWNER_C]))).toBe('no one');
  });

  it('a scope reads a result only if it may read every input, and never one whose inputs are unknown', () => {
    const inputs = [PUBLIC, RESTRICTED_A_TO_B];
    const ids = inputs.map((b) => b.id);
    expect(scopeAllowsResult(agencyScope('agency-b'), inputs, ids)).toBe(true);
    expect(scopeAllowsResult(agencyScope('agency-c'), inputs, ids)).toBe(false);
    expect(scopeAllowsResult(PUBLIC_DATA, inputs, ids)).toBe(false);
    expect(scopeAllowsResult(PUBLIC_DATA, [PUBLIC], [1])).toBe(true);
    expect(scopeAllowsResult(agencyScope('agency-a'), [PUBLIC], [1, 99]), 'batch 99 is unknown').toBe(false);
    expect(scopeAllowsResult(ALL_DATA, [], [99]), 'the operator reads everything').toBe(true);
  });

  it('only analysts and data scientists with a stated purpose read beyond public data', () => {
    const as = (role: Principal['role']): Principal => ({ subject: 's', agency: 'agency-a', role, source: 'api_key' });
    for (const role of ['analyst', 'data_scientist'] as const) {
      expect(scopeFor(as(role), 'investigating cross-border trafficking')).toEqual(agencyScope('agency-a'));
      expect(scopeFor(as(role), null)).toEqual(PUBLIC_DATA);
    }
    for (const role of ['viewer', 'oversight', 'admin'] as const) expect(scopeFor(as(role), 'any purpose')).toEqual(PUBLIC_DATA);
  });
});

describe.each(STORE_KINDS)('sharing rules as SQL on %s', (kind) => {
  let store: Store;
  const batch: Record<string, number> = {};

  beforeAll(async () => {
    store = await openTestStore(kind);
    const dir = await tempDir();
    // Four batches of the same cell (DEU homicide 2020), latest last: public 1.0, then restricted/owner revisions.
    const file = async (name: string, value: number) => writeFixture(dir, name, `entity,period,indicator,value\nDEU,2020,homicide_rate,${value}\nFRA,2020,homicide_rate,${value + 1}\n`);
    batch.public = (await ingestFile(store, await file('p.csv', 1), { grade: 'B2' })).batchId!;
    batch.aToB = (await ingestFile(store, await file('ab.csv', 2), { grade: 'B2', owner: 'agency-a', sharing: 'restricted', sharedWith: ['agency-b'] })).batchId!;
    batch.bToAC = (await ingestFile(store, await file('bac.csv', 3), { grade: 'B2', owner: 'agency-b', sharing: 'restricted', sharedWith: ['agency-a', 'agency-c'] })).batchId!;
    batch.ownerC = (await ingestFile(store, await file('c.csv', 4), { grade: 'B2', owner: 'agency-c', sharing: 'owner', sharedWith: ['agency-a'] })).batchId!;
  });
  afterAll(async () => {
    await store?.close();
  });

  const scopes: [string, DataScope][] = [['all', ALL_DATA], ['public', PUBLIC_DATA], ...AGENCIES.map((a): [string, DataScope] => [a, agencyScope(a)])];

  it('visibleBatchIds agrees with the pure rule for every scope and batch', async () => {
    const sharing = await batchSharing(store.db, Object.values(batch));
    expect(sharing).toHaveLength(4);
    for (const [name, scope] of scopes) {
      const expected = sharing.filter((b) => scopeAllowsBatch(scope, b)).map((b) => b.id);
      expect(await visibleBatchIds(store.db, scope), name).toEqual(expected);
    }
    expect(await visibleBatchIds(store.db, agencyScope('agency-d'))).toEqual([batch.public]);
  });

  it('the current value is the latest batch the scope may see, and the data version covers only those batches', async () => {
    // By hand: a sees public(1), aToB(2), bToAC(3) -> 3; b sees the same -> 3; c sees public, bToAC, ownerC -> 4; d -> 1.
    const expected: Record<string, number> = { all: 4, public: 1, 'agency-a': 3, 'agency-b': 3, 'agency-c': 4, 'agency-d': 1 };
    for (const [name, scope] of scopes) {
      const deu = (await currentAnnualValues(store.db, { scope })).find((v) => v.entity === 'DEU');
      expect(deu?.value, name).toBe(expected[name]);
    }
    expect((await dataVersion(store.db, agencyScope('agency-d'))).version).toBe((await dataVersion(store.db, PUBLIC_DATA)).version);
    expect((await dataVersion(store.db, agencyScope('agency-a'))).version).not.toBe((await dataVersion(store.db, PUBLIC_DATA)).version);
  });

  it('batchArrayVisible applies the intersection rule to an array of input batches', async () => {
    const everyone = ['public', ...AGENCIES];
    const cases: [number[], string[]][] = [
      [[], everyone],
      [[batch.public!], everyone],
      [[batch.public!, batch.aToB!], ['agency-a', 'agency-b']],
      [[batch.aToB!, batch.bToAC!], ['agency-a', 'agency-b']],
      [[batch.bToAC!, batch.ownerC!], ['agency-c']],
      [[batch.aToB!, batch.ownerC!], []],
      [[batch.public!, 99_999], []],
    ];
    for (const [ids, readers] of cases) {
      for (const name of ['public', ...AGENCIES]) {
        const scope = name === 'public' ? PUBLIC_DATA : agencyScope(name);
        const row = await sql<{ visible: boolean }>`select ${batchArrayVisible(scope, 'input')} as visible from (select ${sql.val(ids)}::integer[] as input) t`.execute(store.db);
        expect(row.rows[0]!.visible, `${JSON.stringify(ids)} for ${name}`).toBe(readers.includes(name));
      }
    }
  });
});
