"""Fused one-pass kernels for dense and CSR data (the CPU fast path), loaded through :mod:`.kernels`.

This is the only module that imports numba. If numba is missing or broken,
``AVAILABLE`` is False and the objective uses its generic NumPy code, which
computes the same numbers in two passes over X.

Why a kernel: the generic gradient ``X.T @ (sigmoid(X @ w + b) - y)`` reads X
from memory twice. Here each thread walks its own rows, four at a time: the
four rows are read once into cache, used for ``z = x·w + b``, and used again
at once for ``g += r x`` while still in L1. Loss and gradient accumulate in
float64 for float32 and float64 data alike; X is never copied or upcast.

What keeps it at the memory floor (measured in benchmarks/RESULTS.md): four
rows per pass share the loads of ``w`` and the load/store of ``g``; ``log1p``
is an inline series instead of a libm call, so the four rows' transcendental
work overlaps; and rows 16 ahead are software-prefetched, because a four-row
pass is too long for the out-of-order window to keep enough misses in flight.

The per-row loss uses ``e = exp(-|z|)``: ``L = max(z, 0) - y z + log1p(e)``,
with ``max(z, 0) - y z`` written so it is exact for y in {0, 1}, and
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
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    AVAILABLE = True
except ImportError:  # pragma: no cover
    numba = None
    AVAILABLE = False


# numba's default "workqueue" threading layer aborts the process if two Python
# threads launch parallel kernels at once (a threaded grid search, say), so
# launches are serialized. Forked processes are safe with it.
_LAUNCH = threading.Lock()
_PREFETCH_ROWS = 16
# Compiling a kernel takes 2-3 s, so by default the compiled code is kept in
# numba's on-disk cache and later processes load it in ~0.1 s. The loaded
# kernel runs as fast as one compiled in the running process: timed side by
# side in one process (benchmarks/experiments/numba_cache.py) they are within
# 3% (an earlier table's 1.1-1.8x compared two processes minutes apart, on a
# host whose bandwidth moves that much). LOGITGD_NUMBA_CACHE=0 compiles
# in-process instead; so does a process that can write no cache (:func:`_can_cache`).
_FAST = {"reassoc", "contract"}


def _cache_probe():  # pragma: no cover - never called: numba is only asked whether it could cache it
    return 0


def _can_cache():
    """Whether numba finds somewhere to keep this module's compiled kernels (a ``__pycache__`` beside it or a
    user cache directory that can be written); where it finds none, ``cache=True`` raises "cannot cache
    function ... no locator available" (a user who can write neither the installed package nor a home)."""
    try:
        numba.njit(cache=True)(_cache_probe)
    except RuntimeError:
        return False
    return True


_CACHE = AVAILABLE and os.environ.get("LOGITGD_NUMBA_CACHE", "1") != "0" and _can_cache()

if AVAILABLE:

    @intrinsic
    def _prefetch(typingctx, arr, i, j):
        """Prefetch the cache line of ``arr[i, j]`` (no bounds check; never faults)."""
        def codegen(context, builder, sig, args):
            aryty = sig.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], args[2]],
                                           wraparound=False)
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
            # read, keep in all cache levels, data cache
            builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                              ir.Constant(i32, 1)])
            return context.get_dummy_value()
        return types.void(arr, i, j), codegen

    @numba.njit(inline="always", fastmath=_FAST)
    def _log1p_small(e):
        """log1p(e) for 0 <= e <= 1, inline: ``2 atanh(s)``, ``s = e / (2 + e) <= 1/3``.

        The odd series ``2 s sum_k s^(2k) / (2k + 1)`` to 17 terms (truncation
        below 2e-17 relative); keeps full relative precision for tiny e.
        """
        s = e / (2.0 + e)
        t = s * s
        p = 1.0 / 35.0
        p = p * t + 1.0 / 33.0
        p = p * t + 1.0 / 31.0
        p = p * t + 1.0 / 29.0
        p = p * t + 1.0 / 27.0
        p = p * t + 1.0 / 25.0
        p = p * t + 1.0 / 23.0
        p = p * t + 1.0 / 21.0
        p = p * t + 1.0 / 19.0
        p = p * t + 1.0 / 17.0
        p = p * t + 1.0 / 15.0
        p = p * t + 1.0 / 13.0
        p = p * t + 1.0 / 11.0
        p = p * t + 1.0 / 9.0
        p = p * t + 1.0 / 7.0
        p = p * t + 1.0 / 5.0
        p = p * t + 1.0 / 3.0
        return 2.0 * s + 2.0 * s * t * p

    @numba.njit(inline="always")
    def _row(z, yi):
        """``(loss, dL/dz)`` of one row from its raw score."""
        e = np.exp(-abs(z))
        # max(z, 0) - y z is exact for y in {0, 1}; adding log1p last keeps a
        # tiny loss. (This function is compiled without fastmath, so the
        # order of the additions is kept even where it is inlined.)
        li = (max(z, 0.0) - yi * z) + _log1p_small(e)
        r = (1.0 if z >= 0 else e) / (1.0 + e) - yi
        return li, r

    @numba.njit(inline="always")
    def _sum_chunks(G, out):
        """``out[k] = sum_c G[c, k]``: plain loops, since ``G[:, k].sum()`` under
        parallel=True would launch a parallel region per k."""
        for k in range(G.shape[1]):
            acc = 0.0
            for c in range(G.shape[0]):
                acc += G[c, k]
            out[k] = acc

    def _make_kernel(prefetch, want_grad, has_sw):
        """One kernel per combination: the flags are compile-time constants,
        which keeps their branches out of the inner loops (about 7% faster)."""

        @numba.njit(parallel=True, fastmath=_FAST, cache=_CACHE, nogil=True)
        def kernel(X, y, sw, w, b, grad_out, n_chunks):
            n, d = X.shape
            per_line = 64 // X.itemsize
            G = np.zeros((n_chunks, d + 1))
            losses = np.zeros(n_chunks)
            step = (n + n_chunks - 1) // n_chunks
            for c in numba.prange(n_chunks):
                g = np.zeros(d)
                gb = 0.0
                loss = 0.0
                i = c * step
                stop = min(n, (c + 1) * step)
                while i + 4 <= stop:
                    if prefetch:
                        for jj in range(0, 4 * d, per_line):
                            _prefetch(X, i + _PREFETCH_ROWS, jj)
                    z0 = b
                    z1 = b
                    z2 = b
                    z3 = b
                    for j in range(d):
                        wj = w[j]
                        z0 += X[i, j] * wj
                        z1 += X[i + 1, j] * wj
                        z2 += X[i + 2, j] * wj
                        z3 += X[i + 3, j] * wj
                    l0, r0 = _row(z0, y[i])
                    l1, r1 = _row(z1, y[i + 1])
                    l2, r2 = _row(z2, y[i + 2])
                    l3, r3 = _row(z3, y[i + 3])
                    if has_sw:
                        l0 *= sw[i]
                        l1 *= sw[i + 1]
                        l2 *= sw[i + 2]
                        l3 *= sw[i + 3]
                        r0 *= sw[i]
                        r1 *= sw[i + 1]
                        r2 *= sw[i + 2]
                        r3 *= sw[i + 3]
                    loss += (l0 + l1) + (l2 + l3)
                    if want_grad:
                        gb += (r0 + r1) + (r2 + r3)
                        for j in range(d):
                            g[j] += (r0 * X[i, j] + r1 * X[i + 1, j]) + (r2 * X[i + 2, j] + r3 * X[i + 3, j])
                    i += 4
                while i < stop:
                    z = b
                    for j in range(d):
                        z += X[i, j] * w[j]
                    li, r = _row(z, y[i])
                    if has_sw:
                        li *= sw[i]
                        r *= sw[i]
                    loss += li
                    if want_grad:
                        gb += r
                        for j in range(d):
                            g[j] += r * X[i, j]
                    i += 1
                losses[c] = loss
                if want_grad:
                    G[c, :d] = g
                    G[c, d] = gb
            if want_grad:
                _sum_chunks(G, grad_out)
            return losses.sum()

        return kernel

    def _make_csr_kernel(want_grad, has_sw):
        """One pass over a CSR matrix: each thread a contiguous range of rows,
        scores from the row's non-zeros, then the gradient scattered from the
        same non-zeros while they are in cache; per-thread gradient buffers."""

        @numba.njit(parallel=True, cache=_CACHE, nogil=True)
        def kernel(data, indices, indptr, y, sw, w, b, grad_out, n_chunks):
            n = indptr.shape[0] - 1
            d = w.shape[0]
            G = np.zeros((n_chunks if want_grad else 0, d + 1))
            losses = np.zeros(n_chunks)
            step = (n + n_chunks - 1) // n_chunks
            for c in numba.prange(n_chunks):
                loss = 0.0
                for i in range(c * step, min(n, (c + 1) * step)):
                    z = b
                    for k in range(indptr[i], indptr[i + 1]):
                        z += data[k] * w[indices[k]]
                    li, r = _row(z, y[i])
                    if has_sw:
                        li *= sw[i]
                        r *= sw[i]
                    loss += li
                    if want_grad:
                        for k in range(indptr[i], indptr[i + 1]):
                            G[c, indices[k]] += r * data[k]
                        G[c, d] += r
                losses[c] = loss
            if want_grad:
                _sum_chunks(G, grad_out)
            return losses.sum()

        return kernel

    @numba.njit(inline="always")
    def _weighted_row(z, yi, s):
        li, r = _row(z, yi)
        return s * li, s * r

    @numba.njit(parallel=True, fastmath=_FAST, cache=_CACHE, nogil=True)
    def _multi_kernel(X, y, S, fits, W, b, n_chunks):
        """F fits' weighted loss sums and gradient sums in one pass over dense X: four rows at a time are
        read once and used for every fit's scores and gradient while they are in L1 (the four rows share
        the loads of each fit's w and the load and store of its g, as in the one-fit kernel)."""
        n, d = X.shape
        m = fits.shape[0]
        G = np.zeros((n_chunks, m, d + 1))
        L = np.zeros((n_chunks, m))
        step = (n + n_chunks - 1) // n_chunks
        for c in numba.prange(n_chunks):
            g = np.zeros((m, d + 1))
            loss = np.zeros(m)
            part = np.zeros(m)
            i = c * step
            stop = min(n, (c + 1) * step)
            while i < stop:
                if (i - c * step) % 256 == 0:  # the loss in two levels: the line search compares sums to ~1e-15
                    loss += part
                    part[:] = 0.0
                q = min(4, stop - i)
                i1, i2, i3 = min(i + 1, stop - 1), min(i + 2, stop - 1), min(i + 3, stop - 1)
                for k in range(m):
                    f = fits[k]
                    # rows past the chunk's end repeat its last row with weight 0
                    s0, s1 = S[i, f], S[i1, f] if q > 1 else 0.0
                    s2, s3 = S[i2, f] if q > 2 else 0.0, S[i3, f] if q > 3 else 0.0
                    if s0 == 0.0 and s1 == 0.0 and s2 == 0.0 and s3 == 0.0:
                        continue
                    z0 = b[k]
                    z1 = b[k]
                    z2 = b[k]
                    z3 = b[k]
                    for j in range(d):
                        wj = W[k, j]
                        z0 += X[i, j] * wj
                        z1 += X[i1, j] * wj
                        z2 += X[i2, j] * wj
                        z3 += X[i3, j] * wj
                    l0, r0 = _weighted_row(z0, y[i], s0)
                    l1, r1 = _weighted_row(z1, y[i1], s1)
                    l2, r2 = _weighted_row(z2, y[i2], s2)
                    l3, r3 = _weighted_row(z3, y[i3], s3)
                    part[k] += (l0 + l1) + (l2 + l3)
                    g[k, d] += (r0 + r1) + (r2 + r3)
                    for j in range(d):
                        g[k, j] += (r0 * X[i, j] + r1 * X[i1, j]) + (r2 * X[i2, j] + r3 * X[i3, j])
                i += q
            G[c] = g
            L[c] = loss + part
        return L.sum(axis=0), G.sum(axis=0)

    _KERNELS = {}


def _csc_lasso_cd_py(indptr, indices, data, h, g, theta, lam, l2, fit_intercept, active, d_out, r_out,
                     tol, max_sweeps):
    """Coordinate descent on the proximal Newton model of a sparse binary problem (newGLMNET's inner loop).

    Minimizes over the step ``δ`` (in place in ``d_out``, from zero)::

        g·δ + ½ Σ_i h_i (x̃_i·δ)² + ½ l2 ||δ_w||² + lam Σ_j |θ_j + δ_j|

    one column of X (CSC) at a time, keeping ``r = X δ_w`` (``r_out``, without
    the intercept) up to date, so a coordinate costs the non-zeros of its
    column. Only the coordinates in ``active`` move. The intercept (last
    entry, if ``fit_intercept``; a column of ones, no lasso term) is
    re-optimized after every coordinate at no cost: its model gradient is
    ``g_b + Σ h_i r_i + δ_b Σ h_i``, and ``Σ h_i r_i`` changes by ``δ_j Σ_i h_i x_ij``
    when coordinate j moves; and each coordinate's step is the exact joint one of (δ_j, δ_b),
    with the curvature of the column centred by h. Without that, uncentered columns (counts,
    one-hot) are all correlated through the intercept and the sweeps crawl.
    Stops when no coordinate moves its model by more than ``tol``
    (``|δ_j| sqrt(A_j)``). Returns the sweeps done.
    """
    n = h.shape[0]
    d = indptr.shape[0] - 1
    A = np.zeros(d)
    c = np.zeros(d)  # Σ_i h_i x_ij, for the columns that may move (the others are never read)
    hxd = np.empty(indptr[d])  # h_i x_ij per non-zero of those columns: the sweeps stream it
    for jj in range(active.shape[0]):
        j = active[jj]
        acc = 0.0
        acc1 = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            hx = h[indices[k]] * data[k]
            hxd[k] = hx
            acc += hx * data[k]
            acc1 += hx
        A[j] = acc + l2
        c[j] = acc1
    h_sum = 0.0
    for i in range(n):
        h_sum += h[i]
    use_b = fit_intercept and h_sum > 0.0
    hr = 0.0  # Σ_i h_i r_i
    db = 0.0  # the intercept's step
    for sweep in range(max_sweeps):
        biggest = 0.0
        for jj in range(active.shape[0]):
            j = active[jj]
            # the exact minimum over (δ_j, δ_b) together: b is re-optimized after each coordinate, so its
            # model gradient is 0 here and eliminating δ_b leaves the curvature A_j - c_j² / Σh (the column
            # centred by h, as glmnet's sparse solvers do), which converges in far fewer sweeps
            a = A[j] - c[j] * c[j] / h_sum if use_b else A[j]
            if a <= 1e-12 * A[j]:
                continue
            G = g[j] + l2 * d_out[j] + db * c[j]
            for k in range(indptr[j], indptr[j + 1]):
                G += hxd[k] * r_out[indices[k]]
            u = theta[j] + d_out[j]
            v = u - G / a
            t = lam / a
            new = v - t if v > t else (v + t if v < -t else 0.0)
            delta = new - u
            if delta != 0.0:
                d_out[j] += delta
                for k in range(indptr[j], indptr[j + 1]):
                    r_out[indices[k]] += delta * data[k]
                hr += delta * c[j]
                biggest = max(biggest, abs(delta) * np.sqrt(a))
                if use_b:
                    step_b = -(g[d] + hr + db * h_sum) / h_sum
                    db += step_b
        if use_b:
            step_b = -(g[d] + hr + db * h_sum) / h_sum
            db += step_b
            biggest = max(biggest, abs(step_b) * np.sqrt(h_sum))
        if biggest <= tol:
            break
    if fit_intercept:
        d_out[d] = db
        for i in range(n):
            r_out[i] += db
    return min(sweep + 1, max_sweeps)


if AVAILABLE:
    _csc_lasso_cd = numba.njit(cache=_CACHE, nogil=True)(_csc_lasso_cd_py)
else:  # pragma: no cover
    _csc_lasso_cd = _csc_lasso_cd_py


def _csr_gram_py(indptr, indices, data, h, tiny, H):
    """``X̃ᵀ diag(h) X̃`` of a CSR X (X̃ = [X, 1]) into the zeroed ``H`` of shape (d + 1, d + 1), row by row:
    each row costs the square of its non-zeros, not of d. Rows with ``h_i <= tiny`` are left out (they add
    nothing, and their products would be subnormal). Pairs within a row go to one triangle, then are mirrored,
    so that unsorted or repeated column indices are counted right."""
    n = indptr.shape[0] - 1
    d = H.shape[0] - 1
    D = np.zeros(d)
    for i in range(n):
        hi = h[i]
        if hi <= tiny:
            continue
        start, end = indptr[i], indptr[i + 1]
        for a in range(start, end):
            ja = indices[a]
            va = hi * data[a]
            H[d, ja] += va
            D[ja] += va * data[a]
            for k in range(a + 1, end):
                H[ja, indices[k]] += va * data[k]
        H[d, d] += hi
    for j in range(d):
        for k in range(j + 1, d):
            t = H[j, k] + H[k, j]
            H[j, k] = t
            H[k, j] = t
        H[j, j] = 2.0 * H[j, j] + D[j]
        H[j, d] = H[d, j]


if AVAILABLE:
    _csr_gram = numba.njit(cache=_CACHE, nogil=True)(_csr_gram_py)
else:  # pragma: no cover
    _csr_gram = _csr_gram_py


def csr_gram(X, h, tiny):
    """``X̃ᵀ diag(h) X̃`` of a CSR matrix X (``X̃ = [X, 1]``), float64, shape (d + 1, d + 1); rows with
    ``h <= tiny`` left out."""
    H = np.zeros((X.shape[1] + 1, X.shape[1] + 1))
    _csr_gram(X.indptr, X.indices, np.asarray(X.data, dtype=np.float64), np.ascontiguousarray(h, dtype=np.float64),
              float(tiny), H)
    return H


def csc_lasso_newton_direction(Xc, h, g, theta, lam, l2, fit_intercept, active, tol, max_sweeps=100):
    """The proximal Newton step of a sparse binary lasso problem, by coordinate descent over CSC columns.

    Parameters
    ----------
    Xc : scipy.sparse CSC matrix (n, d), float64
    h : ndarray (n,)
        Per-sample curvature ``s_i p_i (1 - p_i) / sum(s)``.
    g : ndarray (d + fit_intercept,)
        Gradient of the smooth part at ``theta``.
    theta : ndarray (d + fit_intercept,)
    lam, l2 : float
        Lasso and ridge strengths.
    active : ndarray of int
        Columns that may move.
    tol : float
    max_sweeps : int

    Returns
    -------
    delta : ndarray (d + fit_intercept,)
    r : ndarray (n,)
        ``X̃ δ``.
    sweeps : int
    """
    delta = np.zeros(theta.shape[0])
    r = np.zeros(Xc.shape[0])
    sweeps = _csc_lasso_cd(Xc.indptr, Xc.indices, Xc.data, np.ascontiguousarray(h, dtype=np.float64),
                           np.ascontiguousarray(g, dtype=np.float64), np.ascontiguousarray(theta, dtype=np.float64),
                           float(lam), float(l2), bool(fit_intercept), np.ascontiguousarray(active, dtype=np.int64),
                           delta, r, float(tol), int(max_sweeps))
    return delta, r, sweeps


def _kernel(want_grad, has_sw):
    """The compiled kernel for these flags, with prefetch if this LLVM has it."""
    key = (want_grad, has_sw)
    if key not in _KERNELS:
        _KERNELS[key] = [_make_kernel(True, want_grad, has_sw), _make_kernel(False, want_grad, has_sw)]
    return _KERNELS[key]


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
        kernels = _kernel(want_grad, sw.shape[0] > 0)
        while True:
            try:
                return kernels[0](X, y, sw, w, float(b), grad_out, n_chunks)
            except (numba.core.errors.LoweringError, numba.core.errors.TypingError):
                if len(kernels) == 1:
                    raise
                # This LLVM does not know the prefetch intrinsic: same kernel without it.
                del kernels[0]


def csr_loss_grad(X, y, sw, w, b, grad_out=None):
    """:func:`dense_loss_grad` for a scipy.sparse CSR matrix (int32 or int64 indices).

    One pass over the non-zeros; the gradient is accumulated in one buffer of
    ``n_features + 1`` float64 per thread.
    """
    want_grad = grad_out is not None
    if grad_out is None:
        grad_out = np.empty(0)
    has_sw = sw.shape[0] > 0
    key = ("csr", want_grad, has_sw)
    with _LAUNCH:
        if key not in _KERNELS:
            _KERNELS[key] = _make_csr_kernel(want_grad, has_sw)
        return _KERNELS[key](X.data, X.indices, X.indptr, y, sw, w, float(b), grad_out,
                             numba.get_num_threads())


def dense_multi_loss_grad(X, y, S, fits, W, b):
    """Several fits' weighted loss sums and gradient sums in one pass over dense X (:mod:`logitgd.lockstep`).

    ``X`` (n, d) C-contiguous float32/float64; ``y`` (n,) float64 in {0, 1}; ``S`` (n, F) float64, the row
    weights of F fits; ``fits`` (m,) int64, the fits to evaluate; ``W`` (m, d) and ``b`` (m,) float64 their
    coefficients and intercepts. Returns ``(loss sums (m,), gradient sums (m, d + 1))``, the intercept's last.
    """
    with _LAUNCH:
        return _multi_kernel(X, y, S, fits, W, b, 4 * numba.get_num_threads())


def _softmax_rows_py(Z, y, sw, R, start, stop, want_grad):
    """Rows ``start:stop`` of the softmax loss: ``sum_i s_i L_i``, and ``R[i] = s_i (p_i - e_{y_i})``.

    The generic code's formula (:class:`logitgd.loss.MultinomialLogLoss`) in one pass per row, no temporaries:
    ``L_i = log1p(sum_{k != top} exp(z_k - z_top)) + z_top - z_{y_i}``, the top score's term left out of the
    sum so that a confident right answer keeps its tiny loss to full relative precision.
    """
    K = Z.shape[1]
    total = 0.0
    for i in range(start, stop):
        top = 0
        m = Z[i, 0]
        for k in range(1, K):
            if Z[i, k] > m:
                m = Z[i, k]
                top = k
        rest = 0.0
        for k in range(K):
            if k != top:
                e = np.exp(Z[i, k] - m)
                rest += e
                if want_grad:
                    R[i, k] = e
        s = sw[i] if sw.shape[0] > 0 else 1.0
        yi = y[i]
        total += s * (np.log1p(rest) + (m - Z[i, yi]))
        if want_grad:
            R[i, top] = 1.0
            scale = s / (1.0 + rest)
            for k in range(K):
                R[i, k] *= scale
            R[i, yi] -= s
    return total


if AVAILABLE:
    _softmax_rows = numba.njit(cache=_CACHE, nogil=True)(_softmax_rows_py)
else:  # pragma: no cover
    _softmax_rows = _softmax_rows_py


def softmax_loss_grad(Z, y, sw, want_grad):
    """``(sum_i s_i L_i, R)`` of the softmax loss at the scores ``Z`` (n, K) float64 with class indices ``y``
    and weights ``sw`` (an empty array: all ones); ``R = s ∘ (P - Y)``, shape (n, K), or None.

    On this thread: between the two BLAS products of a gradient, a parallel kernel competes with OpenBLAS's
    threads, which spin on the cores after each product (200,000 x 10 scores: 43 ms on all threads, against
    37 ms on one; the whole gradient 94 -> 64 ms).
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.int64)
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    R = np.empty(Z.shape) if want_grad else np.empty((0, Z.shape[1]))
    return _softmax_rows(Z, y, sw, R, 0, Z.shape[0], want_grad), (R if want_grad else None)
