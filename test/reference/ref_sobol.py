# Independent numpy implementation of Saltelli (2010) first order and Jansen total on the same
# design (scipy unscrambled Sobol, 2d dims, first point skipped), Ishigami, N = 4096.
import numpy as np
from scipy.stats import qmc
N, d = 4096, 3
base = qmc.Sobol(2 * d, scramble=False).random(N + 1)[1:]
A, B = base[:, :d], base[:, d:]
f = lambda u: (lambda x: np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]))(np.pi * (2 * u - 1))
yA, yB = f(A), f(B)
V = np.var(np.r_[yA, yB])
for i in range(d):
    ABi = A.copy(); ABi[:, i] = B[:, i]; yAB = f(ABi)
    print(i, repr(np.mean(yB * (yAB - yA)) / V), repr(np.mean((yA - yAB) ** 2) / (2 * V)))
