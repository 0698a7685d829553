# Reference values for test/anomaly-metrics.test.ts (engine/anomaly/metrics.ts).
# ROC-AUC and average precision from scikit-learn; precision at k with random tie-breaking by
# brute force over every order of the tied cells (vector A) and by the per-cell probability of
# landing in the top k (vector B).
import itertools
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score

A_scores = [0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.5, 0.3, 0.1, 0.0]
A_labels = [1, 0, 1, 1, 0, 1, 0, 0, 1, 0]

def b_vector(n=200):
    # Reproduced in the test: scores with many ties, labels loosely following the scores.
    scores = [(((i * 37) % 101) // 10) / 10 for i in range(n)]
    labels = [1 if ((i * 7) % 11 < 3 and scores[i] >= 0.4) or (i % 29 == 0) else 0 for i in range(n)]
    return scores, labels

def p_at_k_bruteforce(scores, labels, k):
    groups = {}
    for s, l in zip(scores, labels):
        groups.setdefault(s, []).append(l)
    keys = sorted(groups, reverse=True)
    total = 0.0; count = 0
    for orders in itertools.product(*[list(itertools.permutations(groups[s])) for s in keys]):
        flat = [l for o in orders for l in o]
        total += sum(flat[:k]) / k; count += 1
    return total / count

def p_at_k_per_cell(scores, labels, k):
    scores = np.asarray(scores); labels = np.asarray(labels)
    k = min(k, len(scores)); hits = 0.0
    for s, l in zip(scores, labels):
        if not l: continue
        above = np.sum(scores > s); g = np.sum(scores == s)
        hits += min(1.0, max(0.0, (k - above) / g))
    return hits / k

print('A roc_auc', repr(float(roc_auc_score(A_labels, A_scores))))
print('A average_precision', repr(float(average_precision_score(A_labels, A_scores))))
for k in (1, 2, 3, 5, 6, 10):
    print('A p@%d bruteforce' % k, repr(p_at_k_bruteforce(A_scores, A_labels, k)), 'per-cell', repr(p_at_k_per_cell(A_scores, A_labels, k)))
B_scores, B_labels = b_vector()
print('B n', len(B_scores), 'positives', sum(B_labels))
print('B roc_auc', repr(float(roc_auc_score(B_labels, B_scores))))
print('B average_precision', repr(float(average_precision_score(B_labels, B_scores))))
for k in (10, 40, 100):
    print('B p@%d' % k, repr(p_at_k_per_cell(B_scores, B_labels, k)))
# All tied: AUC 0.5, AP = prevalence.
print('C all tied roc_auc', repr(float(roc_auc_score([1, 0, 0, 1, 0], [0.3] * 5))), 'ap', repr(float(average_precision_score([1, 0, 0, 1, 0], [0.3] * 5))))
