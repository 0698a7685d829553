# Reference values for test/theil-sen.test.ts, test/mann-kendall.test.ts, test/trend.test.ts
import numpy as np
from scipy import stats
from scipy.stats import norm

def mk(t, y):
    t = np.asarray(t, float); y = np.asarray(y, float); n = len(y)
    o = np.argsort(t); y = y[o]
    s = sum(np.sign(y[j] - y[i]) for i in range(n - 1) for j in range(i + 1, n))
    _, c = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(c * (c - 1) * (2 * c + 5))) / 18
    z = (s - 1) / np.sqrt(var) if s > 0 else ((s + 1) / np.sqrt(var) if s < 0 else 0.0)
    p = 2 * norm.sf(abs(z))
    return s, var, z, p, s / (n * (n - 1) / 2)

series = {
  'A_ties_gaps': ([2005,2006,2007,2009,2010,2011,2013,2014,2015,2016,2018,2019],
                  [4.1,4.5,4.5,5.0,4.8,5.6,5.6,5.6,6.2,5.9,7.1,7.0]),
  'B_falling_outlier': ([2010,2011,2012,2013,2014,2016,2017,2018,2019,2020,2021,2022],
                        [12.0,11.4,11.9,10.8,30.0,10.1,9.7,9.9,9.2,8.8,8.9,8.1]),
  'C_short_ties': ([2018,2019,2020,2021,2022,2023], [3,3,2,3,3,2]),
  'D_unsorted': ([2004,2001,2003,2000,2002], [5.5,2.0,4.0,1.0,4.0]),
}
for name, (t, y) in series.items():
    r = stats.theilslopes(y, t, 0.95)
    rj = stats.theilslopes(y, t, 0.95, method='joint')
    r90 = stats.theilslopes(y, t, 0.90)
    kt = stats.kendalltau(t, y)
    s, var, z, p, taua = mk(t, y)
    print(name)
    print('  theilslopes(0.95) slope=%r intercept=%r low=%r high=%r' % tuple(map(float, r)))
    print('  joint intercept=%r ; theilslopes(0.90) low=%r high=%r' % (float(rj[1]), float(r90[2]), float(r90[3])))
    print('  MK S=%r var=%r z=%r p=%r tauA=%r' % (float(s), float(var), float(z), float(p), float(taua)))
    print('  kendalltau tau_b=%r' % float(kt.correlation))

print('--- trend.test.ts')
t = [2013, 2014, 2015, 2016, 2018, 2019]; y = [5.6, 5.6, 6.2, 5.9, 7.1, 7.0]
r = stats.theilslopes(y, t); print('A window 8 (2012-2019):', 'slope', float(r[0]), 'MK', mk(t, y), 'rel', float(r[0]) * 6 / abs(np.median(y)))
t = list(range(2010, 2020)); y = [100, 100.4, 100.9, 101.1, 101.8, 102.0, 102.6, 103.1, 103.3, 104.0]
r = stats.theilslopes(y, t); print('small change:', 'slope', float(r[0]), 'MK p', mk(t, y)[3], 'rel', float(r[0]) * 9 / abs(np.median(y)))
