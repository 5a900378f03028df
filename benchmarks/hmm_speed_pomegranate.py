"""Child process 4 of the HMM speed benchmark: pomegranate 0.14.8's
HiddenMarkovModel (Debian python3-pomegranate) with MultivariateGaussian
emissions, on the same data and start as emlab.

    /usr/bin/python3 benchmarks/hmm_speed_pomegranate.py <x.f64> <init.json> <iters>

The model is built with HiddenMarkovModel.from_matrix(transition, states,
starts) and trained with fit(algorithm='baum-welch', max_iterations=iters,
min_iterations=iters, n_jobs=1, multiple_check_input=False); the
per-iteration times are pomegranate's own epoch durations (History callback).
If pomegranate cannot be imported it prints {"available": false, ...}.
"""
import json
import resource
import sys
import time

import numpy as np


def peak_rss_kib():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    data_file, params_file, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        import pomegranate
        from pomegranate import HiddenMarkovModel, MultivariateGaussianDistribution
        from pomegranate.callbacks import History
    except ImportError as e:
        print(json.dumps({'impl': 'pomegranate', 'available': False, 'reason': str(e)}))
        return
    with open(params_file) as f:
        start = json.load(f)
    s, t, k, d = start['S'], start['T'], start['K'], start['D']
    x = np.fromfile(data_file, dtype='<f8').reshape(s, t, d)
    seqs = [np.ascontiguousarray(x[i]) for i in range(s)]
    dists = [MultivariateGaussianDistribution(np.array(start['means'][j]), np.array(start['covariances'][j])) for j in range(k)]
    model = HiddenMarkovModel.from_matrix(np.array(start['transition']), dists, np.array(start['initial']), state_names=[f's{j}' for j in range(k)])
    history = History()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    model.fit(seqs, algorithm='baum-welch', max_iterations=iters, min_iterations=iters, stop_threshold=-1e300,
              n_jobs=1, verbose=False, multiple_check_input=False, callbacks=[history])
    fit_wall_ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - cpu0) * 1000
    peak = peak_rss_kib()
    iter_ms = [1000 * v for v in history.epoch_durations]
    final = sum(model.log_probability(q) for q in seqs)
    tail = iter_ms[1:]
    print(json.dumps({
        'impl': 'pomegranate',
        'available': True,
        'version': pomegranate.__version__,
        'iterMs': iter_ms,
        'msPerIter': sum(tail) / len(tail),
        'fitWallMs': fit_wall_ms,
        'cpuMs': cpu_ms,
        'peakRssKiB': peak,
        'logLikelihoodPerRow': float(final) / (s * t),
    }))


if __name__ == '__main__':
    main()
