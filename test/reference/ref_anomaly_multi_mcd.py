"""Reference values for test/anomaly-mahalanobis.test.ts: scikit-learn's MinCovDet on the seeded
data of test/support/multivariate-data.ts (ported in ref_anomaly_multi_data.py), scipy's
Mahalanobis distance with MinCovDet's location and precision, and scipy.stats.chi2.

Run: cd test/reference && /usr/bin/python3 ref_anomaly_multi_mcd.py
"""
import numpy as np
import scipy
import sklearn
from scipy.spatial.distance import mahalanobis
from scipy.stats import chi2
from sklearn.covariance import MinCovDet

from ref_anomaly_multi_data import contaminated_rows

np.set_printoptions(precision=17, linewidth=200)
print('sklearn', sklearn.__version__, 'scipy', scipy.__version__)


def report(name, X, support_fraction, rows_to_show):
    mcd = MinCovDet(support_fraction=support_fraction, random_state=0).fit(X)
    print(f'--- {name}: n={X.shape[0]} p={X.shape[1]} support_fraction={support_fraction}')
    print('raw_location', repr(mcd.raw_location_.tolist()))
    print('raw_covariance', repr(mcd.raw_covariance_.ravel().tolist()))
    print('raw_support count', int(mcd.raw_support_.sum()), 'outlier rows in raw support', int(mcd.raw_support_[:rows_to_show[0]].sum()))
    print('raw log det', repr(float(np.linalg.slogdet(mcd.raw_covariance_)[1])))
    if name == 'A' and support_fraction == 0.75:
        print('rows outside raw_support_', repr(np.flatnonzero(~mcd.raw_support_).tolist()))
    print('location', repr(mcd.location_.tolist()))
    print('covariance', repr(mcd.covariance_.ravel().tolist()))
    print('support count', int(mcd.support_.sum()))
    print('dist_ (squared) rows', rows_to_show[1], repr([float(mcd.dist_[i]) for i in rows_to_show[1]]))
    d = [mahalanobis(X[i], mcd.location_, mcd.precision_) for i in rows_to_show[1]]
    print('scipy mahalanobis rows', rows_to_show[1], repr(d))
    return mcd


A = contaminated_rows(300, 4, 11, 45, 5.0)
report('A', A, 0.75, (45, [0, 44, 45, 100, 299]))
report('A', A, 0.51, (45, [0, 45, 299]))
B = contaminated_rows(2000, 5, 12, 200, 6.0)
report('B', B, 0.75, (200, [0, 200, 1999]))
C = contaminated_rows(101, 1, 13, 10, 8.0)
report('C', C, 0.6, (10, [0, 10, 100]))

print('--- chi2')
for x, k in [(0.5, 1), (3.0, 2), (11.07, 5), (20.0, 4), (60.0, 10), (150.0, 20), (1e-3, 3), (400.0, 7)]:
    print(f'x={x} k={k} cdf={chi2.cdf(x, k)!r} sf={chi2.sf(x, k)!r}')
for p, k in [(0.5, 1), (0.5, 4), (0.975, 4), (0.975, 20), (0.999, 2), (0.01, 3), (1e-6, 5)]:
    print(f'p={p} k={k} ppf={chi2.ppf(p, k)!r}')
for k in [2, 4, 20]:
    q = chi2.ppf(0.975, k)
    print(f'k={k} reweight consistency 0.975 / chi2.cdf(q975, k + 2) = {0.975 / chi2.cdf(q, k + 2)!r}')
