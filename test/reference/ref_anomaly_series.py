"""Reference values for the per-series anomaly detectors' tests
(test/anomaly-series-robust.test.ts, -trend.test.ts, -forecast.test.ts), computed independently
with numpy and scipy from the formulas the detectors document.

Run: /usr/bin/python3 test/reference/ref_anomaly_series.py (numpy 1.24, scipy 1.10).
"""
import math

import numpy as np
from scipy import stats

MAD_TO_SD = 1.482602218505602


def robust(v):
    v = np.asarray(v, float)
    med = np.median(v)
    mad = np.median(np.abs(v - med))
    if mad > 0:
        return med, MAD_TO_SD * mad
    mean_ad = np.mean(np.abs(v - med))
    return med, math.sqrt(math.pi / 2) * mean_ad


print('--- madZScores')
for v in ([1, 2, 3, 4, 100], [5, 5, 5, 5, 9, 5, 1], [2.5, 3.1, 2.9, 3.0, 2.7, 8.4]):
    med, s = robust(v)
    print(v, 'median', med, 'scale', s, 'z', [float((x - med) / s) for x in v])

print('--- hampel (window of the 2k+1 nearest points, shifted at the ends), k = 2')
v = [10, 11, 10.5, 30, 10.8, 11.2, 10.9, 11.5, 11.1, 2, 11.4]
k = 2
n = len(v)
z = []
for i in range(n):
    start = min(max(0, i - k), n - (2 * k + 1))
    med, s = robust(v[start:start + 2 * k + 1])
    z.append(float((v[i] - med) / s))
print('z', z)

print('--- trend residual (leave-one-out Theil-Sen, joint intercept, log units)')
years = list(range(2005, 2021))
rate = [5.1, 5.3, 5.2, 5.6, 5.5, 5.9, 6.0, 6.1, 12.5, 6.4, 6.3, 6.8, 6.7, 7.0, 7.2, 7.1]
pop = [2.0e5] * 16  # a small state: counts of about 10 a year at a rate per 100,000
count = [r * p / 1e5 for r, p in zip(rate, pop)]
y = np.log(rate)
x = np.array(years, float)
out = []
for i in range(len(x)):
    m = np.ones(len(x), bool)
    m[i] = False
    res = stats.theilslopes(y[m], x[m], method='joint')
    slope, icpt = float(res[0]), float(res[1])
    resid = y[m] - (icpt + slope * x[m])
    _, s = robust(resid)
    s = max(s, 0.02)
    xm = x[m].mean()
    lev = math.sqrt(1 + 1 / m.sum() + (x[i] - xm) ** 2 / np.sum((x[m] - xm) ** 2))
    yhat = icpt + slope * x[i]
    expected = math.exp(yhat)
    unit = 1e5  # value * population / count
    lam = expected * pop[i] / unit
    sd_plain = s * lev
    sd_count = math.sqrt(sd_plain ** 2 + 1 / max(lam, 0.5))
    out.append((years[i], expected, (y[i] - yhat) / sd_plain, (y[i] - yhat) / sd_count, math.exp(yhat - 1.959963984540054 * sd_count), math.exp(yhat + 1.959963984540054 * sd_count)))
for row in out:
    print('year %d expected %r z_without_counts %r z_with_counts %r interval [%r, %r]' % row)

print('--- Student t (scipy.stats.t)')
for p, nu in ((0.975, 10), (0.975, 1), (0.975, 2.22), (0.995, 3.7), (0.9, 50)):
    print('ppf', p, nu, repr(float(stats.t.ppf(p, nu))))
for t, nu in ((3, 5), (40, 1.5), (1e3, 3), (-2, 4)):
    print('sf', t, nu, repr(float(stats.t.sf(t, nu))))

print('--- forecast (anchor last, phi 0.5, window 10, log units, errors from point 3, judged from 8,')
print('    values with |error| > 2 sd pulled in to forecast +- 2 sd once 3 errors exist)')
vals = [100, 104, 103, 109, 112, 111, 118, 121, 119, 126, 131, 129, 180, 140]
xs = np.arange(2000, 2000 + len(vals), dtype=float)
ly = np.log(vals)
clean = list(ly)
errors = []
rows = []


def forecast(end, h):
    lo = max(0, end - 10)
    wx, wy = xs[lo:end], np.array(clean[lo:end])
    slope = float(stats.theilslopes(wy, wx, method='joint')[0])
    return wy[-1] + slope * (0.5 * (1 - 0.5 ** h) / 0.5)


for i in range(3, len(vals)):
    f = forecast(i, 1)
    e = ly[i] - f
    k = len(errors)
    sd = MAD_TO_SD * np.median(np.abs(errors)) if k else float('nan')
    if i >= 8:
        nu = max(1.0, 0.37 * k)
        half = stats.t.ppf(0.975, nu) * sd
        rows.append((int(xs[i]), math.exp(f), math.exp(f - half), math.exp(f + half), e / sd))
    if k >= 3 and abs(e) > 2 * sd:
        clean[i] = f + math.copysign(2 * sd, e)
    errors.append(e)
for r in rows:
    print('year %d expected %r interval [%r, %r] z %r' % r)
k = len(errors)
sd = MAD_TO_SD * np.median(np.abs(errors))
half = stats.t.ppf(0.975, max(1.0, 0.37 * k)) * sd
for h in (1, 2):
    f = forecast(len(vals), h)
    print('nowcast +%d expected %r interval [%r, %r]' % (h, math.exp(f), math.exp(f - half * math.sqrt(h)), math.exp(f + half * math.sqrt(h))))
