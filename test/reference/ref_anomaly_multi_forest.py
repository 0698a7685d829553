"""Reference values for test/anomaly-forest.test.ts: scikit-learn's average path length c(n) and
IsolationForest's ROC-AUC on the seeded data of test/support/multivariate-data.ts (ported in
ref_anomaly_multi_data.py), and roc_auc_score on a small case with ties.

Run: cd test/reference && /usr/bin/python3 ref_anomaly_multi_forest.py
"""
import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length
from sklearn.metrics import roc_auc_score

from ref_anomaly_multi_data import planted_rows

print('sklearn', sklearn.__version__)
ns = [0, 1, 2, 3, 4, 5, 10, 100, 256, 1000, 100000]
print('_average_path_length', ns, repr(_average_path_length(ns).tolist()))

X, y = planted_rows(4000, 8, 21, 0.03, 3.0, 2.0, 2)
print('planted rows', X.shape, 'positives', int(y.sum()), 'X[0]', repr(X[0].tolist()))
aucs = []
for rs in range(10):
    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=rs).fit(X)
    aucs.append(roc_auc_score(y, -forest.score_samples(X)))
print('IsolationForest(100, 256) ROC-AUC over random_state 0..9', repr([round(a, 4) for a in aucs]), 'mean', repr(float(np.mean(aucs))))

print('roc_auc_score ties', repr(roc_auc_score([0, 1, 0, 1, 1, 0, 0], [0.2, 0.5, 0.5, 0.9, 0.2, 0.1, 0.5])))
