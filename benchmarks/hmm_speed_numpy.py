"""Child process 3 of the HMM speed benchmark: Baum-Welch for a Gaussian HMM
(full covariances) written here in vectorized NumPy, on the same data and
start as emlab.

    /usr/bin/python3 benchmarks/hmm_speed_numpy.py <x.f64> <init.json> <iters>

Every sequence has the same length T, so the recursions run over all S
sequences at once: the scaled forward pass is one (S x K) @ (K x K) product
and an elementwise product per time step, the backward pass likewise, and the
expected transition counts one (K x S) @ (S x K) product per step. Emission
log-densities use one Cholesky factor per state (scipy's triangular solve on
all rows at once). The M-step adds 1e-6 to covariance diagonals, like emlab.
Prints one JSON line; per-iteration times exclude reading the file and the
final log-likelihood (one more forward pass at the last parameters).
"""
import json
import math
import os
import resource
import sys
import time

import numpy as np
from scipy.linalg import solve_triangular


def peak_rss_kib():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
        return max((p.get('num_threads') or 0) for p in threadpool_info()) or None
    except Exception:
        return os.environ.get('OPENBLAS_NUM_THREADS')


def log_emission(xf, means, covs):
    n, d = xf.shape
    k = means.shape[0]
    out = np.empty((n, k))
    for j in range(k):
        chol = np.linalg.cholesky(covs[j])
        y = solve_triangular(chol, (xf - means[j]).T, lower=True, check_finite=False)
        out[:, j] = -0.5 * (d * math.log(2 * math.pi) + 2 * np.log(np.diag(chol)).sum() + np.einsum('ij,ij->j', y, y))
    return out


def forward(logb, pi, a):
    """Scaled forward pass over all sequences: alpha (S, T, K) normalized, log p per sequence."""
    s, t, k = logb.shape
    m = logb.max(axis=2, keepdims=True)
    b = np.exp(logb - m)
    alpha = np.empty_like(b)
    c = np.empty((s, t))
    v = pi[None, :] * b[:, 0]
    c[:, 0] = v.sum(1)
    alpha[:, 0] = v / c[:, 0, None]
    for i in range(1, t):
        v = (alpha[:, i - 1] @ a) * b[:, i]
        c[:, i] = v.sum(1)
        alpha[:, i] = v / c[:, i, None]
    loglik = np.log(c).sum(1) + m[:, :, 0].sum(1)
    return alpha, b, c, loglik


def e_step(x, pi, a, means, covs):
    s, t, d = x.shape
    k = pi.shape[0]
    logb = log_emission(x.reshape(-1, d), means, covs).reshape(s, t, k)
    alpha, b, c, loglik = forward(logb, pi, a)
    beta = np.ones((s, k))
    gamma = np.empty_like(alpha)
    gamma[:, t - 1] = alpha[:, t - 1]
    xi = np.zeros((k, k))
    for i in range(t - 2, -1, -1):
        u = b[:, i + 1] * beta / c[:, i + 1, None]
        xi += alpha[:, i].T @ u
        beta = u @ a.T
        gamma[:, i] = alpha[:, i] * beta
    xi *= a
    return gamma, xi, loglik


def m_step(x, gamma, xi, reg):
    s, t, d = x.shape
    k = gamma.shape[2]
    g0 = gamma[:, 0].sum(0)
    pi = g0 / g0.sum()
    a = xi / xi.sum(1, keepdims=True)
    gf = gamma.reshape(-1, k)
    xf = x.reshape(-1, d)
    nk = gf.sum(0)
    means = (gf.T @ xf) / nk[:, None]
    covs = np.empty((k, d, d))
    for j in range(k):
        diff = xf - means[j]
        covs[j] = (gf[:, j, None] * diff).T @ diff / nk[j] + reg * np.eye(d)
    return pi, a, means, covs


def main():
    data_file, params_file, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(params_file) as f:
        start = json.load(f)
    s, t, k, d = start['S'], start['T'], start['K'], start['D']
    x = np.fromfile(data_file, dtype='<f8').reshape(s, t, d)
    pi = np.array(start['initial'])
    a = np.array(start['transition'])
    means = np.array(start['means'])
    covs = np.array(start['covariances'])
    cpu0 = time.process_time()
    iter_ms = []
    for _ in range(iters):
        t0 = time.perf_counter()
        gamma, xi, loglik = e_step(x, pi, a, means, covs)
        pi, a, means, covs = m_step(x, gamma, xi, 1e-6)
        del gamma
        iter_ms.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (time.process_time() - cpu0) * 1000
    peak = peak_rss_kib()
    logb = log_emission(x.reshape(-1, d), means, covs).reshape(s, t, k)
    final = forward(logb, pi, a)[3].sum()
    tail = iter_ms[1:]
    print(json.dumps({
        'impl': 'numpy',
        'available': True,
        'numpy': np.__version__,
        'blasThreads': blas_threads(),
        'iterMs': iter_ms,
        'msPerIter': sum(tail) / len(tail),
        'cpuMs': cpu_ms,
        'peakRssKiB': peak,
        'logLikelihoodPerRow': float(final) / (s * t),
    }))


if __name__ == '__main__':
    main()
