"""One chunk's products on float64 data at an aligned address and 3 bytes off it (benchmarks only).

A chunk that arrives over the network can sit at any byte offset of its
message; ``logitgd.backends.dask.chunks._aligned`` copies such a chunk once. This shows what
NumPy does without that copy: ``X @ w`` and ``X.T @ r`` side by side, the
same data, in one process.

    python -m benchmarks.experiments.aligned_chunks [n] [d]
"""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
d = int(sys.argv[2]) if len(sys.argv) > 2 else 100
X = np.random.default_rng(0).standard_normal((n, d))
w, r = np.ones(d), np.ones(n)
raw = np.zeros(X.nbytes + 3, np.uint8)
off = raw[3:].view(np.float64).reshape(X.shape)
off[...] = X
g_ref = X.T @ r
print(f"{n:,} x {d} float64, median of 9: X @ w + X.T @ r")
for name, A in (("aligned", X), ("3 bytes off (aligned flag False)", off)):
    times = []
    for _ in range(9):
        t = time.perf_counter()
        A @ w
        g = A.T @ r
        times.append(time.perf_counter() - t)
    print(f"  {name:34s} {np.median(times) * 1e3:7.1f} ms   X.T @ r bit-identical to aligned: {np.array_equal(g, g_ref)}")
