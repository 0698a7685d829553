"""Shared by the ref_anomaly_multi_*.py scripts: engine/stats/random.ts (mulberry32 and its
Box-Muller normal) ported to Python, and the synthetic panels of test/support/multivariate-data.ts,
so that the reference implementations see exactly the data the TypeScript tests see."""
import math

import numpy as np

M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


class Random:
    def __init__(self, seed):
        self.state = seed & M32
        self.spare = None

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    def normal(self, mean=0.0, sd=1.0):
        if self.spare is not None:
            z, self.spare = self.spare, None
            return mean + sd * z
        u = 0.0
        while u == 0.0:
            u = self.next()
        v = self.next()
        radius = math.sqrt(-2 * math.log(u))
        self.spare = radius * math.sin(2 * math.pi * v)
        return mean + sd * radius * math.cos(2 * math.pi * v)

    def int(self, lo, hi):
        return lo + math.floor(self.next() * (hi - lo))


def mixing(rng, p, scale):
    m = np.zeros((p, p))
    for j in range(p):
        for k in range(p):
            m[j, k] = rng.normal() * scale
        m[j, j] += 1
    return m


def planted_rows(n, p, seed, share, shift_low, shift_span, features):
    """Correlated Gaussian rows; a `share` of them get `features` random coordinates shifted by
    shift_low + shift_span * U either way. Returns (X, labels)."""
    rng = Random(seed)
    m = mixing(rng, p, 0.5)
    X = np.zeros((n, p))
    y = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        z = [rng.normal() for _ in range(p)]
        for j in range(p):
            s = 0.0
            for k in range(p):
                s += m[j, k] * z[k]
            X[i, j] = s
        if rng.next() < share:
            y[i] = 1
            for _ in range(features):
                j = rng.int(0, p)
                X[i, j] += (-1 if rng.next() < 0.5 else 1) * (shift_low + shift_span * rng.next())
    return X, y


def contaminated_rows(n, p, seed, n_out, centre):
    """The first n_out rows a tight cluster at (centre, ..., centre); the rest correlated Gaussian."""
    rng = Random(seed)
    m = mixing(rng, p, 0.5)
    X = np.zeros((n, p))
    for i in range(n):
        z = [rng.normal() for _ in range(p)]
        for j in range(p):
            if i < n_out:
                X[i, j] = centre + 0.5 * z[j]
            else:
                s = 0.0
                for k in range(p):
                    s += m[j, k] * z[k]
                X[i, j] = s
    return X
