"""Reference values for test/anomaly-series-stl.test.ts: statsmodels' STL and a generalised ESD.

The series are built from an exact integer generator (Park-Miller, 48271 x mod 2^31-1) so that
the TypeScript test rebuilds them bit for bit. For each case it prints, for seasonal, trend and
remainder, the values at a few positions and the sum of squares, from
statsmodels.tsa.seasonal.STL(...).fit() with the parameters named. Then, as the reference for
which points the seasonal detector flags: the hybrid generalised ESD of Twitter's S-H-ESD
(Hochenbaum, Vallis & Kejariwal 2017; Rosner 1983 with median and MAD) on the robust STL
remainder, alpha 0.05, at most 10% of the points.

Run: /usr/bin/python3 test/reference/ref_anomaly_series_stl.py (statsmodels 0.13.5, scipy 1.10).
"""
import json
import math

import numpy as np
from scipy import stats
from statsmodels.tsa.seasonal import STL


def noise(seed, n):
    x = seed
    out = []
    for _ in range(n):
        x = (48271 * x) % 2147483647
        out.append(x / 2147483647 - 0.5)
    return np.array(out)


def series(case):
    if case == 'A':  # monthly, trend, two harmonics, two spikes
        t = np.arange(120.0)
        y = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + 5 * np.cos(4 * np.pi * t / 12) + 4 * noise(11, 120)
        y[30] += 40
        y[77] -= 35
        return y
    if case == 'B':  # quarterly, level shift at 30
        t = np.arange(48.0)
        y = 50 + 6 * np.sin(2 * np.pi * t / 4) + 3 * noise(23, 48)
        y[30:] += 15
        return y
    if case == 'C':  # 30 months: subseries of 2 and 3 points
        t = np.arange(30.0)
        return 20 + 0.1 * t + 3 * np.cos(2 * np.pi * t / 12) + noise(5, 30)
    if case == 'D':  # monthly, larger spans and jumps
        t = np.arange(120.0)
        y = 1000 + 50 * np.sin(2 * np.pi * t / 12) + 2 * t + 30 * noise(99, 120)
        y[60] += 400
        return y
    if case == 'E':  # period 7, constant seasonal (degree 0)
        t = np.arange(50.0)
        return 5 + np.where(t % 7 == 0, 2.0, 0.0) + 0.5 * noise(7, 50)
    raise ValueError(case)


CASES = {
    'A': dict(period=12, robust=True),
    'B': dict(period=4, robust=True),
    'C': dict(period=12, robust=False),
    'D': dict(period=12, robust=True, seasonal=11, seasonal_jump=2, trend_jump=3, low_pass_jump=2),
    'E': dict(period=7, robust=True, seasonal=9, seasonal_deg=0),
}


def esd(x, alpha=0.05, max_share=0.1):
    """Hybrid generalised ESD: R_i = max |x - median| / MAD over the points left, critical lambda_i."""
    x = np.asarray(x, float)
    n = len(x)
    k = max(1, int(math.floor(n * max_share)))
    idx = list(range(n))
    found = 0
    removed = []
    for i in range(1, k + 1):
        vals = x[idx]
        med = np.median(vals)
        mad = stats.median_abs_deviation(vals, scale='normal')
        dev = np.abs(vals - med)
        j = int(np.argmax(dev))
        r = dev[j] / mad
        p = 1 - alpha / (2 * (n - i + 1))
        t = stats.t.ppf(p, n - i - 1)
        lam = (n - i) * t / math.sqrt((n - i - 1 + t * t) * (n - i + 1))
        removed.append(idx[j])
        if r > lam:
            found = i
        del idx[j]
    return sorted(removed[:found])


POS = [0, 1, 5, 17, 29]
out = {}
for case, params in CASES.items():
    y = series(case)
    period = params.pop('period')
    r = STL(y, period=period, **params).fit()
    n = len(y)
    pos = sorted(set([p for p in POS if p < n] + [n // 2, n - 2, n - 1]))
    entry = {'n': n, 'positions': pos}
    for name, arr in (('seasonal', r.seasonal), ('trend', r.trend), ('remainder', r.resid), ('weights', r.weights)):
        arr = np.asarray(arr)
        entry[name] = [float(arr[p]) for p in pos]
        entry[name + 'SumSq'] = float(np.sum(arr ** 2))
    if case in ('A', 'B', 'D'):
        entry['esd'] = esd(np.asarray(r.resid))
    out[case] = entry

# The seasonal detector's default decomposition: a periodic seasonal (R's s.window = "periodic":
# span 10 n + 1, degree 0), robust, as Twitter's S-H-ESD uses; ESD on its remainder.
for case, period in (('A', 12), ('B', 4)):
    y = series(case)
    r = STL(y, period=period, seasonal=10 * len(y) + 1, seasonal_deg=0, robust=True).fit()
    out[case + '_periodic'] = {
        'positions': [0, 30, len(y) - 1],
        'trend': [float(r.trend[p]) for p in (0, 30, len(y) - 1)],
        'seasonal': [float(r.seasonal[p]) for p in (0, 30, len(y) - 1)],
        'remainderSumSq': float(np.sum(np.asarray(r.resid) ** 2)),
        'esd': esd(np.asarray(r.resid)),
    }
print(json.dumps(out, indent=1))
