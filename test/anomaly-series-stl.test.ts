/**
 * STL (engine/anomaly/seasonal.ts) against statsmodels' STL, and the seasonal detector against
 * the hybrid generalised ESD of Twitter's S-H-ESD on the same remainder.
 * Reference values: test/reference/ref_anomaly_series_stl.py (statsmodels 0.13.5), pasted below.
 */
import { describe, expect, it } from 'vitest';
import { detectSeasonal, defaultTrendSpan, regularRun, stl, StlDecomposer, type StlOptions } from '../engine/anomaly/seasonal.ts';
import { scoreFromRobustZ, type Series } from '../engine/anomaly/types.ts';

/** Park-Miller (48271 x mod 2^31 - 1), exact in doubles, as the reference script. */
function noise(seed: number, n: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (48271 * x) % 2147483647;
    out.push(x / 2147483647 - 0.5);
  }
  return out;
}

function series(name: string): number[] {
  const t = (n: number) => Array.from({ length: n }, (_, i) => i);
  switch (name) {
    case 'A': {
      const e = noise(11, 120);
      const y = t(120).map((i) => 100 + 0.3 * i + 10 * Math.sin((2 * Math.PI * i) / 12) + 5 * Math.cos((4 * Math.PI * i) / 12) + 4 * e[i]!);
      y[30]! += 40;
      y[77]! -= 35;
      return y;
    }
    case 'B': {
      const e = noise(23, 48);
      return t(48).map((i) => 50 + 6 * Math.sin((2 * Math.PI * i) / 4) + 3 * e[i]! + (i >= 30 ? 15 : 0));
    }
    case 'C': {
      const e = noise(5, 30);
      return t(30).map((i) => 20 + 0.1 * i + 3 * Math.cos((2 * Math.PI * i) / 12) + e[i]!);
    }
    case 'D': {
      const e = noise(99, 120);
      const y = t(120).map((i) => 1000 + 50 * Math.sin((2 * Math.PI * i) / 12) + 2 * i + 30 * e[i]!);
      y[60]! += 400;
      return y;
    }
    case 'E': {
      const e = noise(7, 50);
      return t(50).map((i) => 5 + (i % 7 === 0 ? 2 : 0) + 0.5 * e[i]!);
    }
  }
  throw new Error(name);
}

const CASES: Record<string, { period: number; options: StlOptions }> = {
  A: { period: 12, options: { robust: true } },
  B: { period: 4, options: { robust: true } },
  C: { period: 12, options: { robust: false } },
  D: { period: 12, options: { robust: true, seasonal: 11, seasonalJump: 2, trendJump: 3, lowPassJump: 2 } },
  E: { period: 7, options: { robust: true, seasonal: 9, seasonalDeg: 0 } },
};

interface Ref {
  positions: number[];
  seasonal: number[];
  trend: number[];
  remainder: number[];
  weights: number[];
  /** Sums of squares of seasonal, trend, remainder, weights. */
  sumSq: number[];
  esd?: number[];
}

// statsmodels.tsa.seasonal.STL(y, period, ...).fit(): values at `positions` (ref_anomaly_series_stl.py).
const REF: Record<string, Ref> = {
  A: { positions: [0, 1, 5, 17, 29, 60, 118, 119], seasonal: [4.530965556417069, 9.850158643628873, 6.837114658460103, 7.0695575454698965, 7.297590133711934, 4.600781924964071, -11.506286364420284, -3.115647192953783], trend: [99.14879921820645, 99.49145721263572, 100.85912518774815, 104.88588076731054, 108.63996215465292, 118.5458921190622, 135.19392452778385, 135.54355571165397], remainder: [-0.6787757454390828, 0.199811906048879, -0.34988988585394054, 2.4282817948679565, -0.8004017276090281, -0.7561245922660333, 1.2895121651592376, 0.018260393337044434], weights: [0.9290350242341123, 0.9937417897939148, 0.9808378252593596, 0.2890571578821411, 0.9019317070666634, 0.912312932890965, 0.7561213715462511, 0.999947635884127], sumSq: [7221.574295030901, 1678822.566488371, 3460.311032060441, 94.74061351677912], esd: [6, 18, 30, 42, 77] },
  B: { positions: [0, 1, 5, 17, 24, 29, 46, 47], seasonal: [-1.6192761636759783, 6.481650903197125, 6.3661646568462125, 6.454562366419779, 0.14558248717736672, 7.136032441543404, 0.669954070837044, -6.3306020695994585], trend: [50.44525199122959, 50.338290875655474, 49.78139666383977, 50.65562836376827, 50.53797136896756, 55.33606479021465, 65.0309923696199, 64.94692441020632], remainder: [-0.3244248499689135, 0.547297212048079, -0.558967064675798, 0.05064307498783194, 0.022311897299850614, -5.684292943300065, -0.2562749344205173, 0.12194554176551264], weights: [0.9224787226858171, 0.779608677530984, 0.7728069332996166, 0.9980405625817144, 0.9995803005638807, 0.0, 0.9502001575876172, 0.9886226653524446], sumSq: [1067.2944559145108, 150206.57033169625, 139.6941727449019, 34.213003645149584], esd: [25, 29, 30, 31] },
  C: { positions: [0, 1, 5, 15, 17, 28, 29], seasonal: [2.6132577684167067, 2.2607770654827903, -2.1899204194713646, -0.12307238234849975, -2.346974881532023, -1.54767670303909, -2.524297574411436], trend: [20.048839397473593, 20.15770711718388, 20.590543280868616, 21.61597308186736, 21.797747537747142, 22.7600237570477, 22.847484080139324], remainder: [-0.16198477621024665, 0.20475427440408822, -0.05025021361939608, 0.06566206424220411, 0.12657387193706526, 0.12187577399880212, -0.05113197154077298], weights: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], sumSq: [125.52498663668906, 13909.97495984291, 0.6821597559540074, 30.0] },
  D: { positions: [0, 1, 5, 17, 29, 60, 118, 119], seasonal: [-7.164520209598442, 18.962971888224722, 27.99987062507454, 27.710539356329036, 27.413547728089373, -3.760206057159826, -48.169397330095045, -16.757150991131347], trend: [997.411460999106, 999.8662141833278, 1009.6153433889774, 1034.6434213266305, 1056.0163599849284, 1114.118349929816, 1234.5365377348926, 1236.3024659868815], remainder: [-5.180181319557619, 5.71718788460737, 5.763408309864531, -2.9528534166931877, -12.172244861999843, 398.503944121162, -3.893615864232288, 2.571086566770873], weights: [0.9449661560723284, 0.9331722151403039, 0.9321016789147034, 0.9819586974736529, 0.7156549060903951, 0.0, 0.968741106742416, 0.9863012122672575], sumSq: [150632.72158835828, 150642499.13564634, 165484.85923045417, 97.79935137563263], esd: [60] },
  E: { positions: [0, 1, 5, 17, 25, 29, 48, 49], seasonal: [1.7113329397924204, -0.22857294583222804, -0.3496641807306209, -0.2436329348560454, -0.25261939580266257, -0.23980373329292412, -0.3521265030793015, 1.6886759663091122], trend: [5.1280211983804245, 5.162821021540833, 5.289884229427154, 5.259624351351673, 5.216353798568994, 5.2228172711009195, 5.303473848462828, 5.317112246473105], remainder: [-0.08927546539680975, 0.11336549629360348, -0.026305847304713303, 0.21680450115822225, 0.15163147934229304, -0.20392201592969172, 0.08128055301648285, -0.02450454587567208], weights: [0.9523749895952284, 0.9237788326324001, 0.9958189391139766, 0.7359086803026804, 0.8657704967369445, 0.764299510894023, 0.9604406148839285, 0.9963714309605276], sumSq: [26.82054735519639, 1387.189743882525, 0.7580029004075667, 42.094466912313955] },
};

// ESD on the robust STL remainder with a periodic seasonal (span 10 n + 1, degree 0): A_periodic, B_periodic.
const ESD_PERIODIC = { A: [30, 77], B: [11, 25, 29, 30] };

const sumSq = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v * v, 0);

function monthly(values: readonly number[], start = 2010, extra: (i: number) => Partial<{ source: string }> = () => ({})): Series {
  return {
    entity: 'AAA',
    indicator: 'x',
    periodKind: 'month',
    points: values.map((value, i) => ({ period: `${start + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`, value, ...extra(i) })),
  };
}

describe('stl against statsmodels STL', () => {
  for (const [name, { period, options }] of Object.entries(CASES)) {
    it(`case ${name}: period ${period}, ${JSON.stringify(options)}`, () => {
      const ref = REF[name]!;
      const r = stl(series(name), period, options);
      for (const [k, p] of ref.positions.entries()) {
        expect(Math.abs(r.seasonal[p]! - ref.seasonal[k]!)).toBeLessThan(1e-9);
        expect(Math.abs(r.trend[p]! - ref.trend[k]!)).toBeLessThan(1e-9);
        expect(Math.abs(r.remainder[p]! - ref.remainder[k]!)).toBeLessThan(1e-9);
        expect(Math.abs(r.weights[p]! - ref.weights[k]!)).toBeLessThan(1e-9);
      }
      const sums = [sumSq(r.seasonal), sumSq(r.trend), sumSq(r.remainder), sumSq(r.weights)];
      sums.forEach((s, k) => expect(Math.abs(s - ref.sumSq[k]!) / ref.sumSq[k]!).toBeLessThan(1e-11));
    });
  }

  it("a periodic seasonal (span 10 n + 1, local constants) as statsmodels' STL(seasonal=10n+1, seasonal_deg=0)", () => {
    // ref_anomaly_series_stl.py, A_periodic and B_periodic: trend and seasonal at 0, 30 and n - 1.
    const refs = {
      A: { period: 12, trend: [100.24837178132064, 109.26555919947317, 136.22289811900868], seasonal: [4.653643509739453, 4.961404214692384, -3.204228464727125], remainderSumSq: 2915.114100581588 },
      B: { period: 4, trend: [49.86068780301057, 60.22831065535355, 65.1217975953056], seasonal: [-0.6348512825967867, 0.38069240291202866, -6.4692128697482545], remainderSumSq: 98.19138932354916 },
    };
    for (const [name, ref] of Object.entries(refs)) {
      const y = series(name);
      const r = stl(y, ref.period, { seasonal: 'periodic' });
      [0, 30, y.length - 1].forEach((p, k) => {
        expect(Math.abs(r.trend[p]! - ref.trend[k]!)).toBeLessThan(1e-9);
        expect(Math.abs(r.seasonal[p]! - ref.seasonal[k]!)).toBeLessThan(1e-9);
      });
      expect(Math.abs(sumSq(r.remainder) - ref.remainderSumSq) / ref.remainderSumSq).toBeLessThan(1e-10);
    }
  });

  it('adds up: seasonal + trend + remainder = values', () => {
    const y = series('A');
    const r = stl(y, 12);
    for (let i = 0; i < y.length; i++) expect(r.seasonal[i]! + r.trend[i]! + r.remainder[i]!).toBeCloseTo(y[i]!, 12);
  });

  it("uses statsmodels' default spans (trend 23 and low-pass 13 for monthly data with seasonal 7)", () => {
    expect(defaultTrendSpan(12, 7)).toBe(23); // ceil(1.5 * 12 / (1 - 1.5 / 7)) = ceil(22.9)
    expect(defaultTrendSpan(4, 7)).toBe(9); // ceil(7.64) = 8, made odd
    const d = new StlDecomposer(120, 12);
    expect([d.seasonalSpan, d.trendSpan, d.lowPassSpan, d.innerIter, d.outerIter]).toEqual([7, 23, 13, 2, 15]);
  });

  it('a reused decomposer gives the same result as a fresh one, and reuses the output buffers', () => {
    const d = new StlDecomposer(120, 12);
    const a = d.decompose(series('D'));
    const first = Float64Array.from(a.trend);
    d.decompose(series('A'), a);
    const again = d.decompose(series('D'), a);
    expect(again.trend).toBe(a.trend);
    expect(Array.from(again.trend)).toEqual(Array.from(first));
  });

  it('refuses what it cannot decompose, saying why', () => {
    expect(() => stl(series('A').slice(0, 23), 12)).toThrow(/two full periods: 23 points for period 12/);
    expect(() => stl(series('A'), 12, { seasonal: 8 })).toThrow(/seasonal must be an odd integer/);
    const gap = series('A');
    gap[5] = Number.NaN;
    expect(() => stl(gap, 12)).toThrow(/value 5 is NaN/);
  });
});

describe('detectSeasonal', () => {
  it('flags the same points as the hybrid generalised ESD (S-H-ESD) on the same robust STL remainder', () => {
    // The detector's default decomposition (periodic seasonal) for A and B, the reference's
    // parameters for D. A: only the two planted spikes (with statsmodels' seasonal = 7, ESD and
    // the detector would both add 6, 18 and 42, the rest of the spike's cycle-subseries).
    // B: ESD stops at its cap of 10% of the points (4 of 48) with 11, 25, 29, 30; the detector,
    // which tests each point on its own, flags these and the next in line.
    const quarterly = (y: number[]): Series => ({ entity: 'B', indicator: 'x', periodKind: 'quarter', points: y.map((value, i) => ({ period: `${2000 + Math.floor(i / 4)}-Q${(i % 4) + 1}`, value })) });
    const flaggedOf = (s: Series, options: Parameters<typeof detectSeasonal>[1]) => detectSeasonal(s, options).flatMap((c, i) => (c.score >= 0.5 ? [i] : []));
    expect(flaggedOf(monthly(series('A')), { log: false })).toEqual(ESD_PERIODIC.A);
    expect(flaggedOf(monthly(series('D')), { log: false, stl: CASES.D!.options })).toEqual(REF.D!.esd);
    const b = flaggedOf(quarterly(series('B')), { log: false });
    expect(ESD_PERIODIC.B).toHaveLength(Math.floor(0.1 * 48));
    expect(b).toEqual(expect.arrayContaining(ESD_PERIODIC.B));
    expect(b).toEqual([11, 25, 29, 30, 36]);
    // With statsmodels' default seasonal = 7, both flag the same five points of A.
    expect(flaggedOf(monthly(series('A')), { log: false, stl: { seasonal: 7 } })).toEqual(REF.A!.esd);
  });

  it('scores the robust z of the remainder and explains it: planted spike in a monthly series', () => {
    const y = series('A');
    const cells = detectSeasonal(monthly(y), { log: false });
    const r = stl(y, 12, { seasonal: 'periodic' });
    const rem = Array.from(r.remainder);
    const sorted = [...rem].sort((a, b) => a - b);
    const med = (sorted[59]! + sorted[60]!) / 2;
    const dev = rem.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    const scale = 1.482602218505602 * ((dev[59]! + dev[60]!) / 2);
    const spike = cells[30]!;
    expect(spike.period).toBe('2012-07');
    expect(spike.score).toBeCloseTo(scoreFromRobustZ((rem[30]! - med) / scale), 12);
    expect(spike.severity).toBe('high');
    expect(spike.expected).toBeCloseTo(r.trend[30]! + r.seasonal[30]! + med, 9);
    // normalQuantile (Acklam) is exact to about 1e-9 relative.
    expect(spike.interval![1] - spike.interval![0]).toBeCloseTo(2 * 1.959963984540054 * scale, 7);
    expect(spike.reason).toMatch(/^2012-07: .* where trend \(.*\) and season \(.*\) expect .*; remainder robust z \d+\.\d/);
    expect(spike.attributions).toEqual([{ indicator: 'x', share: 1, value: y[30], expected: spike.expected }]);
    expect(cells[77]!.value).toBe(y[77]);
    expect(cells[77]!.severity).toBe('high');
    expect(cells[0]!.severity).toBe('none');
  });

  it('a x1000 value is a data problem (log scale by default, where robust STL absorbs it); a source change at a flag is a data problem', () => {
    const y = series('D');
    y[90] = y[90]! * 1000;
    const cells = detectSeasonal(monthly(y, 2010, (i) => ({ source: i < 60 ? 'old' : 'new' })));
    expect(cells[90]!.likelyCause).toBe('data_problem');
    expect(cells[90]!.reason).toMatch(/unit error/);
    expect(cells[60]!.likelyCause).toBe('data_problem');
    expect(cells[60]!.reason).toMatch(/source changes here \(old -> new\)/);
    // The neighbours of the x1000 value are not dragged off their fit.
    expect(cells[89]!.score).toBeLessThan(0.5);
    expect(cells[91]!.score).toBeLessThan(0.5);
    // On the raw scale the value is kept out of the decomposition (more than 10 robust sd off).
    const raw = detectSeasonal(monthly(y), { log: false });
    expect(raw[90]!.likelyCause).toBe('data_problem');
    expect(raw[91]!.score).toBeLessThan(0.5);
  });

  it('gives no cells for annual series or fewer than two full periods', () => {
    const y = series('A');
    expect(detectSeasonal(monthly(y.slice(0, 23)))).toEqual([]);
    expect(detectSeasonal({ entity: 'A', indicator: 'x', periodKind: 'year', points: y.slice(0, 30).map((value, i) => ({ period: String(1990 + i), value })) })).toEqual([]);
  });

  it('fills a short gap by interpolation without scoring it; with many gaps uses the longest run', () => {
    const full = monthly(series('A'));
    const points = full.points.filter((_, i) => i !== 50 && i !== 51);
    const cells = detectSeasonal({ ...full, points });
    expect(cells).toHaveLength(118);
    expect(cells.map((c) => c.period)).not.toContain('2014-03');
    const run = regularRun([1, 2, 3, 7, 8, 9, 10, 20], [1, 2, 3, 7, 8, 9, 10, 20], 0.1);
    expect(Array.from(run.values)).toEqual([7, 8, 9, 10]);
    expect(Array.from(run.pointIndex)).toEqual([3, 4, 5, 6]);
    const filled = regularRun([0, 1, 3], [10, 20, 40], 0.5);
    expect(Array.from(filled.values)).toEqual([10, 20, 30, 40]);
    expect(Array.from(filled.pointIndex)).toEqual([0, 1, -1, 2]);
  });
});
