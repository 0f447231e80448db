"""Fused one-pass kernels for dense data (the CPU fast path).

This is the only module that imports numba. If numba is missing or broken,
``AVAILABLE`` is False and the objective uses its generic NumPy code, which
computes the same numbers in two passes over X.

Why a kernel: the generic gradient ``X.T @ (sigmoid(X @ w + b) - y)`` reads X
from memory twice. Here each thread walks its own rows; a row (d values) is
read once into cache, used for ``z = x·w + b``, and used again at once for
``g += r x`` while still in L1. Loss and gradient accumulate in float64 for
float32 and float64 data alike; X is never copied or upcast.

The per-row loss uses ``e = exp(-|z|)``: ``L = max(z, 0) - y z + log1p(e)`` and
``sigmoid(z) = (1 if z >= 0 else e) / (1 + e)``.
"""

from __future__ import annotations

import os
import threading

import numpy as np

try:  # pragma: no cover - exercised by whichever environment runs the tests
    if os.environ.get("LOGITGD_DISABLE_NUMBA"):
        raise ImportError("disabled by LOGITGD_DISABLE_NUMBA")
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover
    numba = None
    AVAILABLE = False


# numba's default "workqueue" threading layer aborts the process if two Python
# threads launch parallel kernels at once (a threaded grid search, say), so
# launches are serialized. Forked processes are safe with it.
_LAUNCH = threading.Lock()

if AVAILABLE:

    @numba.njit(parallel=True, fastmath={"reassoc", "contract"}, cache=True, nogil=True)
    def _dense_loss_grad(X, y, sw, w, b, grad_out, want_grad, n_chunks):
        n, d = X.shape
        has_sw = sw.shape[0] > 0
        G = np.zeros((n_chunks, d + 1))
        losses = np.zeros(n_chunks)
        step = (n + n_chunks - 1) // n_chunks
        for c in numba.prange(n_chunks):
            g = np.zeros(d)
            gb = 0.0
            loss = 0.0
            for i in range(c * step, min(n, (c + 1) * step)):
                z = b
                for j in range(d):
                    z += X[i, j] * w[j]
                e = np.exp(-abs(z))
                yi = y[i]
                # max(z, 0) - y z, written so it is exact for y in {0, 1}
                li = (z * (1.0 - yi) if z >= 0 else -z * yi) + np.log1p(e)
                r = (1.0 if z >= 0 else e) / (1.0 + e) - yi
                if has_sw:
                    li *= sw[i]
                    r *= sw[i]
                loss += li
                if want_grad:
                    gb += r
                    for j in range(d):
                        g[j] += r * X[i, j]
            losses[c] = loss
            if want_grad:
                G[c, :d] = g
                G[c, d] = gb
        if want_grad:
            for k in range(d + 1):
                s = 0.0
                for c in range(n_chunks):
                    s += G[c, k]
                grad_out[k] = s
        return losses.sum()


def dense_loss_grad(X, y, sw, w, b, grad_out=None):
    """Weighted loss sum and (optionally) gradient sums in one pass over X.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous, float32 or float64
    y : ndarray of shape (n,), float64, values in {0, 1}
    sw : ndarray of shape (n,) or (0,), float64
        Sample weights; an empty array means all ones.
    w : ndarray of shape (d,), float64
    b : float
    grad_out : ndarray of shape (d + 1,), float64, or None
        If given, receives ``[sum_i sw_i r_i x_i, sum_i sw_i r_i]`` with
        ``r_i = sigmoid(z_i) - y_i``; if None only the loss is computed.

    Returns
    -------
    loss_sum : float
        ``sum_i sw_i L(y_i, z_i)``.
    """
    want_grad = grad_out is not None
    if grad_out is None:
        grad_out = np.empty(0)
    n_chunks = 4 * numba.get_num_threads()
    with _LAUNCH:
        return _dense_loss_grad(X, y, sw, w, float(b), grad_out, want_grad, n_chunks)
