/**
 * Synthetic panels for the multivariate detector tests, drawn from engine/stats/random.ts. The
 * same generators are ported to Python in test/reference/ref_anomaly_multi_data.py (draw for
 * draw), so the reference implementations (scikit-learn, scipy) see the same numbers.
 */
import { createRandom, type Random } from '../../engine/stats/random.ts';

function mixing(random: Random, p: number, scale: number): Float64Array {
  const m = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < p; k++) m[j * p + k] = random.normal() * scale;
    m[j * p + j] = m[j * p + j]! + 1;
  }
  return m;
}

/**
 * Correlated Gaussian rows (row-major); a `share` of them get `features` random coordinates
 * shifted by shiftLow + shiftSpan x U either way. labels: 1 for the shifted rows.
 */
export function plantedRows(n: number, p: number, seed: number, share: number, shiftLow: number, shiftSpan: number, features: number): { data: Float64Array; labels: Uint8Array } {
  const random = createRandom(seed);
  const m = mixing(random, p, 0.5);
  const data = new Float64Array(n * p);
  const labels = new Uint8Array(n);
  const z = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) z[j] = random.normal();
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += m[j * p + k]! * z[k]!;
      data[i * p + j] = s;
    }
    if (random.next() < share) {
      labels[i] = 1;
      for (let f = 0; f < features; f++) {
        const j = random.int(0, p);
        data[i * p + j] = data[i * p + j]! + (random.next() < 0.5 ? -1 : 1) * (shiftLow + shiftSpan * random.next());
      }
    }
  }
  return { data, labels };
}

/** The first nOut rows a tight cluster at (centre, ..., centre) (sd 0.5); the rest correlated Gaussian. */
export function contaminatedRows(n: number, p: number, seed: number, nOut: number, centre: number): Float64Array {
  const random = createRandom(seed);
  const m = mixing(random, p, 0.5);
  const data = new Float64Array(n * p);
  const z = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) z[j] = random.normal();
    for (let j = 0; j < p; j++) {
      if (i < nOut) data[i * p + j] = centre + 0.5 * z[j]!;
      else {
        let s = 0;
        for (let k = 0; k < p; k++) s += m[j * p + k]! * z[k]!;
        data[i * p + j] = s;
      }
    }
  }
  return data;
}
