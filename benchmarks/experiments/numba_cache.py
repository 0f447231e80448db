"""Is the fused kernel slower when numba loads it from its disk cache? (issue 19)

The earlier tables compared a process that compiled the kernel with another that loaded it from the cache,
minutes apart, and found the cached one 1.11-1.82x slower. Here both live in one process: the same kernel is
made twice, once with ``cache=True`` (loaded from the disk cache when it is warm: the cache statistics are
printed) and once compiled in-process, and the two are timed interleaved (ABBA) on the same 1,000,000 x 100
float64 X, with and without the gradient.

    python -m benchmarks.experiments.numba_cache [--rows 1000000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from logitgd.backends.numpy import _numba_kernels as K


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, 100))
    y = (rng.random(args.rows) < 0.5).astype(np.float64)
    w, sw, chunks = rng.standard_normal(100) * 0.01, np.empty(0), 4 * numba.get_num_threads()
    print("| kernel | made by | cache hits | median, ms | best, ms |\n|---|---|---:|---:|---:|")
    for want_grad in (True, False):
        g = np.empty(101) if want_grad else np.empty(0)
        saved = K._CACHE
        try:
            K._CACHE = True
            cached = K._make_kernel(True, want_grad, False)
            K._CACHE = False
            fresh = K._make_kernel(True, want_grad, False)
        finally:
            K._CACHE = saved
        kernels = {"loaded from the disk cache": cached, "compiled in this process": fresh}
        for f in kernels.values():
            f(X, y, sw, w, 0.0, g, chunks)
        times = {name: [] for name in kernels}
        for r in range(args.rounds):
            order = list(kernels.items()) if r % 2 else list(kernels.items())[::-1]
            for name, f in order:
                t = time.perf_counter()
                f(X, y, sw, w, 0.0, g, chunks)
                times[name].append(time.perf_counter() - t)
        for name, f in kernels.items():
            hits = sum(f.stats.cache_hits.values())
            print(f"| {'loss and gradient' if want_grad else 'loss only'} | {name} | {hits} | "
                  f"{np.median(times[name]) * 1e3:.2f} | {min(times[name]) * 1e3:.2f} |")


if __name__ == "__main__":
    main()
