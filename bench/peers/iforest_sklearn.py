"""The Isolation Forest benchmark's peer: scikit-learn's IsolationForest on the same data.

Reads a float64 little-endian matrix (rows x cols, row-major) and a uint8 label vector written by
bench/anomaly-forest.ts (loading is untimed), then times fit and score_samples with
IsolationForest(n_estimators=100, max_samples=256, random_state=SEED) (the same settings as the
TypeScript forest: no bootstrap, all features per tree, depth limit ceil(log2 256)), REPEATS times
with random_state SEED, SEED + 1, ... Writes the anomaly scores of every repeat (-score_samples,
higher = more anomalous; REPEATS x rows float64) to OUT and prints one JSON line: fit and score
seconds of the fastest repeat and sklearn's own roc_auc_score of each repeat.

Run with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main() -> None:
    data_path, labels_path, out_path, rows, cols, seed, repeats = sys.argv[1:8]
    rows, cols, seed, repeats = int(rows), int(cols), int(seed), int(repeats)
    X = np.fromfile(data_path, dtype="<f8").reshape(rows, cols)
    y = np.fromfile(labels_path, dtype=np.uint8)
    fit_times, score_times, all_scores = [], [], []
    for r in range(repeats):
        started = time.perf_counter()
        forest = IsolationForest(n_estimators=100, max_samples=256, random_state=seed + r).fit(X)
        fitted = time.perf_counter()
        scores = -forest.score_samples(X)
        done = time.perf_counter()
        fit_times.append(fitted - started)
        score_times.append(done - fitted)
        all_scores.append(scores)
    np.asarray(all_scores, dtype="<f8").tofile(out_path)
    best = int(np.argmin(np.add(fit_times, score_times)))
    print(json.dumps({
        "fit_seconds": fit_times[best],
        "score_seconds": score_times[best],
        "roc_auc": [float(roc_auc_score(y, s)) for s in all_scores],
        "sklearn": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
