"""Child process 3 of the Gaussian-mixture speed benchmark: scikit-learn.

    /usr/bin/python3 benchmarks/sklearn_gmm.py <data.f64> <init.json>

Fits sklearn.mixture.GaussianMixture (covariance_type='full', tol=0,
max_iter=20, n_init=1, reg_covar=1e-6) to the same float64 data from the same
start (weights_init, means_init, precisions_init = inverse covariances) and
prints one JSON line. If scikit-learn cannot be imported it prints
{"impl": "sklearn", "available": false, ...} and exits 0.

Timing: the instance's _e_step/_m_step/_initialize_parameters are wrapped
with perf_counter, so the per-iteration figure (E + M of iterations 2..20)
is measured exactly like emlab's trace. fit() wall time is reported too; it
also contains input validation, the discarded initialization that sklearn
1.2 always runs (init_params='random_from_data', the cheapest: one
weighted-covariance pass) and sklearn's extra final E-step.
"""
import json
import os
import resource
import sys
import time
import warnings


def peak_rss_kib():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def blas_info():
    libs = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ''
                name = os.path.basename(path).lower()
                if name.startswith('lib') and ('blas' in name or 'lapack' in name or 'mkl' in name):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    threads = None
    try:
        import ctypes
        for lib in sorted(libs):
            try:
                fn = getattr(ctypes.CDLL(lib), 'openblas_get_num_threads')
                threads = int(fn())
                break
            except (OSError, AttributeError):
                continue
    except ImportError:
        pass
    return sorted(libs), threads


def main():
    if len(sys.argv) != 3:
        print('usage: sklearn_gmm.py <data.f64> <init.json>', file=sys.stderr)
        return 2
    data_file, params_file = sys.argv[1], sys.argv[2]
    try:
        import numpy as np
        import sklearn
        from sklearn.mixture import GaussianMixture
    except ImportError as e:
        print(json.dumps({'impl': 'sklearn', 'available': False, 'reason': str(e)}))
        return 0

    with open(params_file) as f:
        start = json.load(f)
    n, d, k = start['nSamples'], start['nFeatures'], start['nComponents']
    max_iter = 20
    x = np.fromfile(data_file, dtype='<f8')
    if x.size != n * d:
        raise SystemExit(f'{data_file}: expected {n * d} float64 values, got {x.size}')
    x = x.reshape(n, d)
    peak_rss_before_fit = peak_rss_kib()

    weights = np.asarray(start['weights'], dtype=np.float64)
    means = np.asarray(start['means'], dtype=np.float64)
    covs = np.asarray(start['covariances'], dtype=np.float64)
    precisions = np.linalg.inv(covs)
    precisions = 0.5 * (precisions + np.transpose(precisions, (0, 2, 1)))

    gm = GaussianMixture(
        n_components=k, covariance_type='full', tol=0.0, reg_covar=1e-6,
        max_iter=max_iter, n_init=1, init_params='random_from_data',
        weights_init=weights, means_init=means, precisions_init=precisions,
        random_state=start['seed'] % (2**32),
    )

    calls = []

    def timed(kind, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            out = fn(*args, **kwargs)
            calls.append((kind, (time.perf_counter() - t) * 1000.0))
            return out
        return wrapper

    gm._e_step = timed('e', gm._e_step)
    gm._m_step = timed('m', gm._m_step)
    gm._initialize_parameters = timed('init', gm._initialize_parameters)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # ConvergenceWarning: tol=0 never converges, by design
        t0 = time.perf_counter()
        gm.fit(x)
        fit_wall_ms = (time.perf_counter() - t0) * 1000.0

    e = [ms for kind, ms in calls if kind == 'e']
    m = [ms for kind, ms in calls if kind == 'm']
    init = [ms for kind, ms in calls if kind == 'init']
    iters = len(m)
    iter_ms = [e[i] + m[i] for i in range(iters)]
    steady = lambda a: sum(a[1:]) / (len(a) - 1) if len(a) > 1 else (a[0] if a else float('nan'))
    mean_ll = float(gm.score(x))
    libs, threads = blas_info()
    print(json.dumps({
        'impl': 'sklearn',
        'available': True,
        'version': sklearn.__version__,
        'numpy': np.__version__,
        'blas': libs,
        'blasThreads': threads,
        'nIter': int(gm.n_iter_),
        'msPerIter': steady(iter_ms),
        'eStepMs': steady(e[:iters]),
        'mStepMs': steady(m),
        'firstIterMs': iter_ms[0] if iter_ms else None,
        'iterMs': iter_ms,
        'initMs': sum(init),
        'finalEStepMs': e[iters] if len(e) > iters else None,
        'fitWallMs': fit_wall_ms,
        'fitWallPerIterMs': fit_wall_ms / max_iter,
        'meanLogLikelihood': mean_ll,
        'peakRssKiB': peak_rss_kib(),
        'cpuMs': 1000.0 * (resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime),
        'maxRssKiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        'peakRssBeforeFitKiB': peak_rss_before_fit,
    }))
    return 0


if __name__ == '__main__':
    sys.exit(main())
