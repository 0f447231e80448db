"""Prototype variants of the fused kernel of ``logitgd.backends.numpy.kernels`` (benchmarks only).

Not used by the package. Each variant takes ``(X, y, w, b, grad_out, n_chunks)``
and returns the loss sum (no sample weights; ``grad_out`` receives the
gradient sums, as in the shipped kernel), so ``bench_core`` can time them
side by side and show where the time of the fused gradient goes:

* ``baseline``   - the shipped kernel's loop, row by row (copy, weights dropped).
* ``no_log1p``   - same, but the loss term is skipped (gradient only).
* ``linear_r``   - no exp/log1p/division at all: ``r = z - y``. What the
  dot + axpy over X costs by itself.
* ``dot_only``   - only ``z = x·w + b`` and ``sum(z)``: one streaming read of X
  through numba (also one of bench_core's bandwidth probes).
* ``blocked``    - rows in blocks of 32: all dots, then all losses, then all
  axpys. Tried, slower (not in the benchmark tables).
* ``rows4``, ``rows4_series`` - 4 rows per pass (w and g loaded once per 4
  rows), with libm ``log1p`` or an inline ``log1p`` series.
* ``rows4_series_pf16`` / ``_pf32`` - the same plus software prefetch 16 / 32
  rows ahead: the variant that reaches the floor.
* ``rows8_vec*`` - 8 rows per pass with an inline exp as well, written so
  LLVM could vectorize the per-row part across rows. It did not; slower.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_OPTS = {"parallel": True, "fastmath": {"reassoc", "contract"}, "cache": False, "nogil": True}


@intrinsic
def _prefetch(typingctx, arr, i, j):
    """Prefetch (into all cache levels) the line holding ``arr[i, j]``.

    No bounds check: ``j`` may run past the row (the next rows' lines) and
    ``i`` past the end; a prefetch never faults.
    """
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], args[2]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # rw=0 (read), locality=3 (keep in all levels), cache type 1 (data)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.void(arr, i, j), codegen


@numba.njit(nogil=True, cache=False)
def _reduce(G, grad_out):
    # Plain loops, as in the shipped kernel: ``G[:, k].sum()`` under
    # parallel=True would launch one parallel region per k.
    n_chunks, d1 = G.shape
    for k in range(d1):
        s = 0.0
        for c in range(n_chunks):
            s += G[c, k]
        grad_out[k] = s


@numba.njit(**_OPTS)
def baseline(X, y, w, b, grad_out, n_chunks):
    n, d = X.shape
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
            li = max(z, 0.0) + np.log1p(e) - yi * z
            r = (1.0 if z >= 0 else e) / (1.0 + e) - yi
            loss += li
            gb += r
            for j in range(d):
                g[j] += r * X[i, j]
        losses[c] = loss
        G[c, :d] = g
        G[c, d] = gb
    _reduce(G, grad_out)
    return losses.sum()


@numba.njit(**_OPTS)
def no_log1p(X, y, w, b, grad_out, n_chunks):
    n, d = X.shape
    G = np.zeros((n_chunks, d + 1))
    step = (n + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        g = np.zeros(d)
        gb = 0.0
        for i in range(c * step, min(n, (c + 1) * step)):
            z = b
            for j in range(d):
                z += X[i, j] * w[j]
            e = np.exp(-abs(z))
            r = (1.0 if z >= 0 else e) / (1.0 + e) - y[i]
            gb += r
            for j in range(d):
                g[j] += r * X[i, j]
        G[c, :d] = g
        G[c, d] = gb
    _reduce(G, grad_out)
    return 0.0


@numba.njit(**_OPTS)
def linear_r(X, y, w, b, grad_out, n_chunks):
    n, d = X.shape
    G = np.zeros((n_chunks, d + 1))
    step = (n + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        g = np.zeros(d)
        gb = 0.0
        for i in range(c * step, min(n, (c + 1) * step)):
            z = b
            for j in range(d):
                z += X[i, j] * w[j]
            r = z - y[i]
            gb += r
            for j in range(d):
                g[j] += r * X[i, j]
        G[c, :d] = g
        G[c, d] = gb
    _reduce(G, grad_out)
    return 0.0


@numba.njit(**_OPTS)
def dot_only(X, y, w, b, grad_out, n_chunks):
    n, d = X.shape
    sums = np.zeros(n_chunks)
    step = (n + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        s = 0.0
        for i in range(c * step, min(n, (c + 1) * step)):
            z = b
            for j in range(d):
                z += X[i, j] * w[j]
            s += z
        sums[c] = s
    return sums.sum()


@numba.njit(**_OPTS)
def blocked(X, y, w, b, grad_out, n_chunks):
    n, d = X.shape
    B = 32
    G = np.zeros((n_chunks, d + 1))
    losses = np.zeros(n_chunks)
    step = (n + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        g = np.zeros(d)
        zb = np.empty(B)
        gb = 0.0
        loss = 0.0
        stop = min(n, (c + 1) * step)
        for i0 in range(c * step, stop, B):
            m = min(B, stop - i0)
            for k in range(m):
                z = b
                for j in range(d):
                    z += X[i0 + k, j] * w[j]
                zb[k] = z
            for k in range(m):
                z = zb[k]
                e = np.exp(-abs(z))
                yk = y[i0 + k]
                loss += max(z, 0.0) + np.log1p(e) - yk * z
                r = (1.0 if z >= 0 else e) / (1.0 + e) - yk
                gb += r
                zb[k] = r
            for k in range(m):
                r = zb[k]
                for j in range(d):
                    g[j] += r * X[i0 + k, j]
        losses[c] = loss
        G[c, :d] = g
        G[c, d] = gb
    _reduce(G, grad_out)
    return losses.sum()


# -- four rows at a time ----------------------------------------------------
# The shipped kernel is compute-bound, not memory-bound (see bench_core.py
# --variants): per row it reloads and re-stores the whole gradient g (d
# loads + d stores) and calls libm's exp and log1p. Doing 4 rows per pass
# shares the w loads of the 4 dot products and the g load/store of the 4
# axpys; the 4 rows' exp/log1p are independent and overlap.

@numba.njit(inline="always", fastmath={"reassoc", "contract"})
def _log1p_series(e):
    """log1p(e) for 0 <= e <= 1 without a libm call (inlines, overlaps).

    ``log1p(e) = 2 atanh(s)``, ``s = e / (2 + e) <= 1/3``: the odd series
    ``2 s sum_k s^(2k) / (2k + 1)``, 17 terms (truncation < 2e-17 relative).
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
def _row(z, yi, series):
    """``(loss, residual)`` of one row, as in the shipped kernel."""
    e = np.exp(-abs(z))
    lp = _log1p_series(e) if series else np.log1p(e)
    li = max(z, 0.0) + lp - yi * z
    r = (1.0 if z >= 0 else e) / (1.0 + e) - yi
    return li, r


def _make_rows4(series, ahead=0):
    """4 rows per pass; ``ahead > 0``: software-prefetch the rows that many
    rows ahead (the 4-row pass is too long for the out-of-order window to
    keep enough cache misses in flight on its own)."""
    @numba.njit(**_OPTS)
    def kernel(X, y, w, b, grad_out, n_chunks):
        n, d = X.shape
        per_line = 64 // X.itemsize
        G = np.zeros((n_chunks, d + 1))
        losses = np.zeros(n_chunks)
        step = (n + n_chunks - 1) // n_chunks
        for c in numba.prange(n_chunks):
            g = np.zeros(d)
            gb = 0.0
            loss = 0.0
            start = c * step
            stop = min(n, (c + 1) * step)
            i = start
            while i + 4 <= stop:
                if ahead > 0:
                    for jj in range(0, 4 * d, per_line):
                        _prefetch(X, i + ahead, jj)
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
                l0, r0 = _row(z0, y[i], series)
                l1, r1 = _row(z1, y[i + 1], series)
                l2, r2 = _row(z2, y[i + 2], series)
                l3, r3 = _row(z3, y[i + 3], series)
                loss += (l0 + l1) + (l2 + l3)
                gb += (r0 + r1) + (r2 + r3)
                for j in range(d):
                    g[j] += (r0 * X[i, j] + r1 * X[i + 1, j]) + (r2 * X[i + 2, j] + r3 * X[i + 3, j])
                i += 4
            while i < stop:
                z = b
                for j in range(d):
                    z += X[i, j] * w[j]
                li, r = _row(z, y[i], series)
                loss += li
                gb += r
                for j in range(d):
                    g[j] += r * X[i, j]
                i += 1
            losses[c] = loss
            G[c, :d] = g
            G[c, d] = gb
        _reduce(G, grad_out)
        return losses.sum()
    return kernel


rows4 = _make_rows4(False)
rows4_series = _make_rows4(True)
rows4_series_pf8 = _make_rows4(True, 8)
rows4_series_pf16 = _make_rows4(True, 16)
rows4_series_pf32 = _make_rows4(True, 32)


# -- eight rows at a time, no libm calls ---------------------------------------
# After rows4_series the remaining scalar work per row is one libm exp call
# and two divisions. Here the per-row part of 8 rows is straight-line
# arithmetic (an inline exp, the log1p series) in a loop over the 8 rows that
# LLVM can vectorize across rows.

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00
# 2**-k for k = 0 .. 1100 (exact down to 2**-1074, then 0.0)
_POW2_NEG = np.ldexp(1.0, -np.arange(1101)).astype(np.float64)


@numba.njit(inline="always", fastmath={"reassoc", "contract"})
def _exp_neg(a):
    """exp(-a) for a >= 0 (NaN or huge a -> 0.0), without a libm call.

    ``a = k ln2 + r`` (Cody-Waite), ``|r| <= ln2 / 2``; ``exp(-r)`` by its
    Taylor polynomial of degree 13 (truncation < 1e-17), times ``2**-k`` from
    a table.
    """
    kf = np.floor(a * _INV_LN2 + 0.5)
    if not (kf <= 1100.0):  # huge, inf or NaN: 2**-1100 = 0 (and r = 0, no inf * 0)
        kf = 1100.0
        a = 1100.0 * _LN2_HI
    r = (a - kf * _LN2_HI) - kf * _LN2_LO
    x = -r
    p = 1.0 / 6227020800.0
    p = p * x + 1.0 / 479001600.0
    p = p * x + 1.0 / 39916800.0
    p = p * x + 1.0 / 3628800.0
    p = p * x + 1.0 / 362880.0
    p = p * x + 1.0 / 40320.0
    p = p * x + 1.0 / 5040.0
    p = p * x + 1.0 / 720.0
    p = p * x + 1.0 / 120.0
    p = p * x + 1.0 / 24.0
    p = p * x + 1.0 / 6.0
    p = p * x + 0.5
    p = p * x + 1.0
    p = p * x + 1.0
    return p * _POW2_NEG[int(kf)]


def _make_rows8_vec(ahead):
    @numba.njit(**_OPTS)
    def kernel(X, y, w, b, grad_out, n_chunks):
        n, d = X.shape
        per_line = 64 // X.itemsize
        G = np.zeros((n_chunks, d + 1))
        losses = np.zeros(n_chunks)
        step = (n + n_chunks - 1) // n_chunks
        for c in numba.prange(n_chunks):
            g = np.zeros(d)
            zb = np.empty(8)
            rb = np.empty(8)
            gb = 0.0
            loss = 0.0
            start = c * step
            stop = min(n, (c + 1) * step)
            i = start
            while i + 8 <= stop:
                if ahead > 0:
                    for jj in range(0, 8 * d, per_line):
                        _prefetch(X, i + ahead, jj)
                for q in range(0, 8, 4):
                    i0 = i + q
                    z0 = b
                    z1 = b
                    z2 = b
                    z3 = b
                    for j in range(d):
                        wj = w[j]
                        z0 += X[i0, j] * wj
                        z1 += X[i0 + 1, j] * wj
                        z2 += X[i0 + 2, j] * wj
                        z3 += X[i0 + 3, j] * wj
                    zb[q] = z0
                    zb[q + 1] = z1
                    zb[q + 2] = z2
                    zb[q + 3] = z3
                for k in range(8):
                    z = zb[k]
                    yk = y[i + k]
                    e = _exp_neg(abs(z))
                    loss += max(z, 0.0) + _log1p_series(e) - yk * z
                    r = (1.0 if z >= 0 else e) / (1.0 + e) - yk
                    gb += r
                    rb[k] = r
                for q in range(0, 8, 4):
                    i0 = i + q
                    r0 = rb[q]
                    r1 = rb[q + 1]
                    r2 = rb[q + 2]
                    r3 = rb[q + 3]
                    for j in range(d):
                        g[j] += (r0 * X[i0, j] + r1 * X[i0 + 1, j]) + (r2 * X[i0 + 2, j] + r3 * X[i0 + 3, j])
                i += 8
            while i < stop:
                z = b
                for j in range(d):
                    z += X[i, j] * w[j]
                li, r = _row(z, y[i], True)
                loss += li
                gb += r
                for j in range(d):
                    g[j] += r * X[i, j]
                i += 1
            losses[c] = loss
            G[c, :d] = g
            G[c, d] = gb
        _reduce(G, grad_out)
        return losses.sum()
    return kernel


rows8_vec = _make_rows8_vec(0)
rows8_vec_pf16 = _make_rows8_vec(16)
rows8_vec_pf32 = _make_rows8_vec(32)


VARIANTS = {
    "baseline": baseline,
    "no_log1p": no_log1p,
    "linear_r": linear_r,
    "dot_only": dot_only,
    "blocked": blocked,
    "rows4": rows4,
    "rows4_series": rows4_series,
    "rows4_series_pf8": rows4_series_pf8,
    "rows4_series_pf16": rows4_series_pf16,
    "rows4_series_pf32": rows4_series_pf32,
    "rows8_vec": rows8_vec,
    "rows8_vec_pf16": rows8_vec_pf16,
    "rows8_vec_pf32": rows8_vec_pf32,
}
