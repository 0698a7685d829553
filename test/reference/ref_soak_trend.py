# Reference values for test/soak-trend.test.ts (bench/soak-trend.ts fitTrend, studentTQuantile).
# Run: /usr/bin/python3 test/reference/ref_soak_trend.py
import math
from scipy import stats

cases = {
    # a flat, noisy heap (MB) sampled every 10 s from minute 2 to minute 10
    'flat': ([2 + i / 6 for i in range(49)], [112.0 + 0.4 * math.sin(7 * i) for i in range(49)]),
    # a leak of 0.05 MB/min under the same noise
    'leak': ([2 + i / 6 for i in range(49)], [112.0 + 0.05 * (2 + i / 6) + 0.4 * math.sin(7 * i) for i in range(49)]),
    # a short hand-typed series (uneven times)
    'short': ([1.0, 1.5, 2.0, 3.0, 3.5], [80.2, 80.9, 80.4, 81.6, 81.1]),
}
for name, (x, y) in cases.items():
    r = stats.linregress(x, y)
    n = len(x)
    t = stats.t.ppf(0.975, n - 2)
    print(name, 'n', n)
    print('  slope %r intercept %r stderr %r' % (r.slope, r.intercept, r.stderr))
    print('  t.ppf(0.975, %d) %r low %r high %r' % (n - 2, t, r.slope - t * r.stderr, r.slope + t * r.stderr))

for p, df in [(0.975, 1), (0.975, 3), (0.975, 10), (0.975, 47), (0.995, 5), (0.5, 4)]:
    print('t.ppf(%r, %d) = %r' % (p, df, stats.t.ppf(p, df)))
