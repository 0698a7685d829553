# Reference values for test/models-autoencoder.test.ts: a linear autoencoder trained by least
# squares (mean squared error, with biases) reaches at best the error of PCA with as many
# components as its bottleneck (Baldi and Hornik, 1989), so PCA's error is the floor it converges to.
# Run: /usr/bin/python3 test/reference/ref_autoencoder.py
import numpy as np

n, p, k = 240, 6, 2
i = np.arange(n)[:, None]
j = np.arange(p)[None, :]
f1 = np.sin(0.37 * i)
f2 = np.cos(0.11 * i + 1)
L0 = np.cos(1.3 * 1 + 0.7 * j)
L1 = np.cos(1.3 * 2 + 0.7 * j)
noise = 0.1 * np.sin(0.913 * i * (j + 1) + j)
X = f1 * L0 + f2 * L1 + noise
Xc = X - X.mean(axis=0)
s = np.linalg.svd(Xc, compute_uv=False)
for comps in (1, 2, 3):
    mse = (s[comps:] ** 2).sum() / (n * p)
    print(f'PCA {comps} components: mean squared reconstruction error {mse!r}')
print('X[0:2]', X[0].tolist(), X[1].tolist())
