"""Profile one logitgd Newton and L-BFGS fit on the GPU (`dense`, 20,000,000 x 100): where the time goes.

    PYTHONPATH=src python -m benchmarks.experiments.profile_gpu_fit [n]
"""
import cProfile
import pstats
import sys
import time

import torch

from benchmarks.bench_gpu import make_dense_gpu
from logitgd import LogisticRegression

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000
X, y = make_dense_gpu(n)
for solver in ("newton", "lbfgs"):
    LogisticRegression(solver=solver, alpha=1e-4).fit(X[:100_000], y[:100_000])
    torch.cuda.synchronize()
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    m = LogisticRegression(solver=solver, alpha=1e-4, max_iter=4).fit(X, y)
    torch.cuda.synchronize()
    pr.disable()
    print(solver, f"{time.perf_counter() - t0:.3f} s", m.n_iter_)
    pstats.Stats(pr).sort_stats("tottime").print_stats(18)
