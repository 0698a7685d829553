/**
 * Assessments end to end on the synthetic demo panel, on each store: the API's framework scores
 * (with ETag), stored assessments with provenance, reproducibility, and checks of the numbers
 * against their own definitions (geometric top, arithmetic pillars, exact contributions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../api/app.ts';
import { loadDemoData } from '../datasets/demo/load.ts';
import { loadFramework } from '../datasets/frameworks/index.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { createAssessment, frameworkScoreTable, type AssessmentResult } from '../engine/scoring/assessment-run.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import { listIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { testKey, type TestCredential } from './support/principals.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const RUNS = 200;

describe.each(STORE_KINDS)('assessments on %s (synthetic demo panel)', (kind) => {
  let store: Store;
  let app: App;
  let framework: Framework;
  let demoSha: string;
  /** Routes need a credential (issue 6): an analyst of one agency. */
  let analyst: TestCredential;
  let headers: Record<string, string>;

  beforeAll(async () => {
    store = await openTestStore(kind);
    const summary = await loadDemoData(store, await tempDir());
    demoSha = summary.sha256;
    framework = await loadFramework('osce-threat-demo', new Set((await listIndicators(store.db)).map((i) => i.code)));
    app = await buildApp({ store });
    analyst = await testKey(store, 'analyst');
    headers = analyst.headers;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('scores the 57 states; risk is the geometric mean of its pillars, threat the mean of its two parts', async () => {
    const table = await frameworkScoreTable(store.db, framework, 2022);
    expect(table.rows).toHaveLength(57);
    let checked = 0;
    for (const row of table.rows) {
      const { risk, threat, vulnerability, lack_of_resilience: lack, crime_markets: markets, crime_indicators: indicators } = row.scores;
      if ([risk, threat, vulnerability, lack, markets, indicators].some((v) => v === null || v === undefined)) continue;
      // rounded to 3 decimals in the table: compare within the rounding
      expect(Math.cbrt(Math.max(threat!, 0.01) * Math.max(vulnerability!, 0.01) * Math.max(lack!, 0.01))).toBeCloseTo(risk!, 2);
      expect((markets! + indicators!) / 2).toBeCloseTo(threat!, 2);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    const ranks = table.rows.map((r) => r.rank).filter((r): r is number => r !== null).sort((a, b) => a - b);
    expect(ranks[0]).toBe(1);
  });

  it('stores an assessment with provenance; the same request gives the same result', async () => {
    const request = { year: 2022, entity: 'ALB', runs: RUNS, seed: 7, requestedBy: 'test', purpose: 'reproducibility test' };
    const first = await createAssessment(store.db, framework, request);
    const second = await createAssessment(store.db, framework, request);
    expect(second.id).not.toBe(first.id);
    expect(second.result).toEqual(first.result);
    expect(second.paramsHash).toBe(first.paramsHash);
    expect(first.dataVersion).toBe((await dataVersion(store.db)).version);
    const provenance = first.provenance as { batches: { id: number; sha256: string }[]; framework: { id: string; paramsHash: string } };
    expect(provenance.batches.map((b) => b.sha256)).toContain(demoSha);
    expect(provenance.framework).toMatchObject({ id: 'osce-threat-demo', paramsHash: first.paramsHash });
    expect(first.codeVersion).toMatch(/^0\.1\.0/);

    const result = first.result as AssessmentResult;
    // Sobol: N (d + 2) runs for the d = 4 uncertain inputs, a total index per input.
    expect(result.sensitivity!.runs).toBe(result.sensitivity!.N * 6);
    expect(result.sensitivity!.inputs.map((i) => i.input)).toEqual(['normalisation', 'aggregation', 'imputation', 'weights']);
    for (const input of result.sensitivity!.inputs) expect(input.totalInterval[0]).toBeLessThanOrEqual(input.totalInterval[1]);
    const albania = result.entities[0]!;
    const risk = albania.roots[0]!;
    expect(risk.root).toBe('risk');
    // The geometric root's contributions are exact in log space: they sum to ln(score).
    const logSum = risk.explanation.contributions.reduce((acc, c) => acc + c.term, 0);
    expect(logSum).toBeCloseTo(Math.log(risk.score!), 5);
    expect(risk.interval!.rankLow).toBeLessThanOrEqual(risk.interval!.rankMedian);
    expect(risk.interval!.rankMedian).toBeLessThanOrEqual(risk.interval!.rankHigh);
    expect(['high', 'medium', 'low']).toContain(albania.confidence.level);
    expect(albania.confidence.reasons.length).toBe(4);
    expect(albania.narrative).toContain('Albania');
    expect(albania.narrative).toContain(risk.score!.toFixed(1));
    expect(albania.threatMatrix.cells.length).toBeGreaterThan(3);
    // the table and the assessment agree on the score
    const table = await frameworkScoreTable(store.db, framework, 2022);
    expect(table.rows.find((r) => r.entity === 'ALB')!.scores.risk).toBeCloseTo(risk.score!, 3);

    const otherSeed = await createAssessment(store.db, framework, { ...request, seed: 8 });
    expect((otherSeed.result as AssessmentResult).method.seed).toBe(8);
    expect((otherSeed.result as AssessmentResult).entities[0]!.nodeScores).toEqual(albania.nodeScores);
  }, 120_000);

  it('serves framework scores with an ETag and answers 304 while data and framework are unchanged', async () => {
    const res = await app.inject({ url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.scores).toHaveLength(57);
    expect(body.node).toBe('risk');
    expect(body.synthetic).toBe(true);
    const etag = res.headers.etag as string;
    // A strong validator: the hash of the answer's bytes.
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await app.inject({ url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers: { ...headers, 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const threat = await app.inject({ url: '/v1/risk-scores?framework=osce-threat-demo&year=2022&node=threat', headers });
    expect(threat.json().scores.find((s: { entity: string }) => s.entity === 'ALB').score).toBe(body.scores.find((s: { entity: string }) => s.entity === 'ALB').nodes.threat);

    for (const [url, status] of [
      ['/v1/risk-scores?framework=osce-threat-demo', 400],
      ['/v1/risk-scores?framework=osce-threat-demo&year=2022&node=nope', 400],
      ['/v1/risk-scores?framework=no-such&year=2022', 404],
      ['/v1/risk-scores?framework=..%2Fpackage.json&year=2022', 400],
    ] as const) {
      const r = await app.inject({ url, headers });
      expect(r.statusCode, url).toBe(status);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
  });

  it('POST /v1/assessments stores one; GET reads it back; bad requests are problems', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: { framework: 'osce-threat-demo', year: 2021, entity: 'SRB', runs: RUNS, requestedBy: 'analyst-1', purpose: 'test of the assessment route' } });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(res.headers.location).toBe(`/v1/assessments/${created.id}`);
    expect(created.result.entities[0].entity).toBe('SRB');
    const read = await app.inject({ url: `/v1/assessments/${created.id}`, headers });
    expect(read.statusCode).toBe(200);
    // POST answers with the stored result's text spliced in; GET with the schema's serialiser.
    expect(read.json()).toEqual(created);
    expect(Object.keys(created)).toEqual(Object.keys(read.json()));
    expect(res.headers['content-type']).toBe(read.headers['content-type']);
    // Asked again (warm: the computation and its JSON are reused), the same result under a new id.
    const again = (await app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: { framework: 'osce-threat-demo', year: 2021, entity: 'SRB', runs: RUNS, requestedBy: 'analyst-1', purpose: 'test of the assessment route' } })).json();
    expect(again.id).not.toBe(created.id);
    expect(again.result).toEqual(created.result);
    expect((await app.inject({ url: `/v1/assessments/${again.id}`, headers })).json()).toEqual(again);
    expect((await app.inject({ url: '/v1/assessments/999999', headers })).statusCode).toBe(404);
    for (const payload of [
      { framework: 'osce-threat-demo', year: 2021, entity: 'XXX', requestedBy: 'a', purpose: 'a bad entity' },
      { framework: 'osce-threat-demo', year: 2021, requestedBy: 'a', extra: 1 },
      { framework: 'osce-threat-demo', requestedBy: 'a' },
    ]) {
      const bad = await app.inject({ method: 'POST', url: '/v1/assessments', headers, payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.headers['content-type']).toMatch(/problem\+json/);
    }
    // The audit entry names the authenticated caller; the requester stated in the body is kept beside it.
    const audit = await store.db.selectFrom('audit_log').select(['action', 'actor', 'details', 'purpose']).where('action', '=', 'assessment.create').execute();
    expect(audit.some((a) => a.actor === `key:${analyst.id}` && (a.details as { statedRequester?: string }).statedRequester === 'analyst-1' && a.purpose === 'test of the assessment route')).toBe(true);
  }, 120_000);

  it('a new batch changes the data version that the next assessment records, and the ETag', async () => {
    const before = await app.inject({ url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers });
    const dir = await tempDir();
    await ingestFile(store, await writeFixture(dir, 'extra.csv', 'entity,period,indicator,value\nALB,2022,robbery_rate,99\n'), { format: 'long', grade: 'B2' });
    const after = await app.inject({ url: '/v1/risk-scores?framework=osce-threat-demo&year=2022', headers });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const assessment = await createAssessment(store.db, framework, { year: 2022, entity: 'ALB', runs: 50, requestedBy: 'test' });
    expect(assessment.dataVersion).toBe(after.json().dataVersion);
    expect(assessment.dataVersion).not.toBe(before.json().dataVersion);
  }, 120_000);
});
