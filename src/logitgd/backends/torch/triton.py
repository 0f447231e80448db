"""Fused one-pass GPU kernels (Triton): scores, loss and gradient from one read of X.

This is the only module that imports triton; :mod:`logitgd.backends.torch` allocates
the tensors and calls :func:`loss_grad`. If triton is missing or broken,
``AVAILABLE`` is False and the objective uses its generic PyTorch code (two
matrix-vector products), which is also the reference these kernels are
tested against. With ``TRITON_INTERPRET=1`` set before the import, the same
kernels run on the CPU through Triton's interpreter (how the tests in CI
exercise them).

Why a kernel: on a GPU, full-batch logistic regression is bound by memory
bandwidth. ``X.T @ (sigmoid(X @ w + b) - y)`` reads X twice (two cuBLAS
calls) and writes and reads the n-vectors in between. Here each program of a
persistent grid walks its share of row blocks; a block of ``BLOCK_M`` rows
(all ``BLOCK_D >= d`` columns) is loaded once into registers and used for the
scores ``z = X w + b``, the loss and ``dL/dz``, and at once for the gradient
``sum_i r_i x_i`` — X is read from memory exactly once.

Numerics: X is loaded in its storage dtype (float64, float32, bfloat16,
float16) and converted to the compute dtype: float64 for float64 data,
float32 otherwise (bfloat16/float16 storage accumulates in float32). The
dot products run in the compute dtype; the link (loss and ``dL/dz``, a few
values per row) in float64, so the intercepts' gradient is exact to float64
rounding. Each block's loss and gradient sums are added into float64
accumulators, so the
sums over millions of rows keep float64 accuracy; each program writes its
partial sums (one row of ``out``) and the caller adds the rows up. The loss
uses ``e = exp(-|z|)`` only; ``log1p(e)`` is computed with Kahan's trick
(``log(u) * e / (u - 1)``, ``u = 1 + e``), exact to rounding also for tiny e.

Multinomial (K classes, ``BLOCK_K`` = next power of two >= K): the scores of
a row block are the 3-D broadcast product ``x[:, :, None] * W[None]`` summed
over features (CUDA cores, not tensor cores: no tf32 rounding), the
softmax is max-shifted with ``log1p`` of the sum over the non-maximal
classes, as in :class:`logitgd.loss.MultinomialLogLoss`.
"""

from __future__ import annotations

import os

try:  # pragma: no cover - depends on the environment
    if os.environ.get("LOGITGD_DISABLE_TRITON"):
        raise ImportError("disabled by LOGITGD_DISABLE_TRITON")
    import triton
    import triton.language as tl

    AVAILABLE = True
except Exception:  # pragma: no cover - ImportError, or a triton that fails to initialise
    triton = None
    AVAILABLE = False

INTERPRET = os.environ.get("TRITON_INTERPRET", "0") == "1"
# Widest row (next power of two of n_features) kept in registers in one block;
# wider data goes through the generic PyTorch path.
MAX_BLOCK_D = 1024
MAX_CLASSES = 16


def next_pow2(n):
    return 1 << max(0, int(n) - 1).bit_length()


def config(n_features, n_classes, itemsize, compute_itemsize=8):
    """``(BLOCK_M, BLOCK_D, BLOCK_K, num_warps, stages)`` for this shape and storage.

    Binary: the best of the configurations timed on an H100 (benchmarks/RESULTS.md,
    float64 arithmetic): 4096 stored values per block for 2- and 4-byte
    storage (16 rows of 256 features, 128 of 32), 1024 for float64 (8 rows of
    100), with the row-block loads pipelined 3 deep except for narrow float32
    rows. Multinomial blocks hold ``BLOCK_M * BLOCK_D * BLOCK_K`` values in
    their 3-D products: about 16,384 / BLOCK_K rows' worth (not tuned).
    """
    BD = max(16, next_pow2(n_features))
    BK = 1 if n_classes == 1 else max(2, next_pow2(n_classes))
    if BK == 1:
        per_block = 1024 if itemsize == 8 else 4096
        BM = max(1, min(1024, per_block // BD))
        if itemsize == 8:
            return BM, BD, BK, 8, 3
        if itemsize == 4:
            return BM, BD, BK, (8 if BD >= 256 else 4), (3 if BD >= 128 else 1)
        return BM, BD, BK, 4, 3
    budget = max((16384 if compute_itemsize == 4 else 8192) // BK, 2048)
    BM = max(1, min(1024, budget // BD))
    return BM, BD, BK, (8 if BM * BD >= 8192 else 4), 1


if AVAILABLE:

    @triton.jit
    def _log1p(e):
        """log1p(e) for e >= 0, exact to rounding (Kahan: log(u) e / (u - 1), u = 1 + e)."""
        u = 1.0 + e
        return tl.where(u == 1.0, e, tl.log(u) * (e / (u - 1.0)))

    @triton.jit
    def _binary_kernel(X, y, sw, w, out, zout, n, d, stride_x, stride_out, n_blocks,
                       BLOCK_M: tl.constexpr, BLOCK_D: tl.constexpr, HAS_SW: tl.constexpr,
                       WANT_GRAD: tl.constexpr, F64: tl.constexpr, STAGES: tl.constexpr,
                       WRITE_Z: tl.constexpr):
        pid = tl.program_id(0)
        n_prog = tl.num_programs(0)
        ct = tl.float64 if F64 else tl.float32
        cols = tl.arange(0, BLOCK_D)
        cmask = cols < d
        wv = tl.load(w + cols, mask=cmask, other=0.0).to(ct)
        b = tl.load(w + d)
        loss_acc = tl.zeros([BLOCK_M], dtype=tl.float64)
        gb_acc = tl.zeros([BLOCK_M], dtype=tl.float64)
        # One accumulator per element of the block, reduced over rows once at
        # the end: no cross-thread reduction per block for the gradient.
        g_acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=ct)
        for blk in tl.range(pid, n_blocks, n_prog, num_stages=STAGES):
            rows = blk * BLOCK_M + tl.arange(0, BLOCK_M)
            rmask = rows < n
            offs = rows.to(tl.int64)[:, None] * stride_x + cols[None, :]
            x = tl.load(X + offs, mask=rmask[:, None] & cmask[None, :], other=0.0).to(ct)
            # the dot product in the compute dtype; the link (n values) in float64
            z = tl.sum(x * wv[None, :], axis=1).to(tl.float64) + b
            if WRITE_Z:
                tl.store(zout + rows, z, mask=rmask)
            yv = tl.load(y + rows, mask=rmask, other=0.0).to(tl.float64)
            e = tl.exp(-tl.abs(z))
            pos = z >= 0
            loss = tl.where(pos, z * (1.0 - yv), -z * yv) + _log1p(e)
            if HAS_SW:
                s = tl.load(sw + rows, mask=rmask, other=0.0).to(tl.float64)
                loss = loss * s
            loss_acc += tl.where(rmask, loss, 0.0)
            if WANT_GRAD:
                r = tl.where(pos, 1.0, e) / (1.0 + e) - yv
                if HAS_SW:
                    r = r * s
                r = tl.where(rmask, r, 0.0)
                gb_acc += r
                g_acc += x * r.to(ct)[:, None]
        base = out + pid.to(tl.int64) * stride_out
        if WANT_GRAD:
            tl.store(base + cols, tl.sum(g_acc.to(tl.float64), axis=0), mask=cmask)
            tl.store(base + d, tl.sum(gb_acc, axis=0))
        tl.store(base + stride_out - 1, tl.sum(loss_acc, axis=0))

    @triton.jit
    def _multinomial_kernel(X, y, sw, w, out, n, d, K, stride_x, stride_out, n_blocks,
                            BLOCK_M: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_K: tl.constexpr,
                            HAS_SW: tl.constexpr, WANT_GRAD: tl.constexpr, F64: tl.constexpr, STAGES: tl.constexpr):
        pid = tl.program_id(0)
        n_prog = tl.num_programs(0)
        ct = tl.float64 if F64 else tl.float32
        cols = tl.arange(0, BLOCK_D)
        ks = tl.arange(0, BLOCK_K)
        cmask = cols < d
        kmask = ks < K
        # theta is [W; b] of shape (d + 1, K), row by row
        W = tl.load(w + cols[:, None] * K + ks[None, :], mask=cmask[:, None] & kmask[None, :],
                    other=0.0).to(ct)
        bv = tl.load(w + d * K + ks, mask=kmask, other=0.0)
        loss_acc = tl.zeros([BLOCK_M], dtype=tl.float64)
        gb_acc = tl.zeros([BLOCK_K], dtype=tl.float64)
        g_acc = tl.zeros([BLOCK_D, BLOCK_K], dtype=tl.float64)
        for blk in tl.range(pid, n_blocks, n_prog, num_stages=STAGES):
            rows = blk * BLOCK_M + tl.arange(0, BLOCK_M)
            rmask = rows < n
            offs = rows.to(tl.int64)[:, None] * stride_x + cols[None, :]
            x = tl.load(X + offs, mask=rmask[:, None] & cmask[None, :], other=0.0).to(ct)
            z = tl.sum(x[:, :, None] * W[None, :, :], axis=1).to(tl.float64) + bv[None, :]
            z = tl.where(kmask[None, :], z, -float("inf"))
            m = tl.max(z, axis=1)
            top = tl.argmax(z, axis=1)
            E = tl.exp(z - m[:, None])
            is_top = ks[None, :] == top[:, None]
            rest = tl.sum(tl.where(is_top, 0.0, E), axis=1)
            yv = tl.load(y + rows, mask=rmask, other=0).to(tl.int32)
            is_y = ks[None, :] == yv[:, None]
            zy = tl.sum(tl.where(is_y, z, 0.0), axis=1)
            loss = _log1p(rest) + (m - zy)
            if HAS_SW:
                s = tl.load(sw + rows, mask=rmask, other=0.0).to(tl.float64)
                loss = loss * s
            loss_acc += tl.where(rmask, loss, 0.0)
            if WANT_GRAD:
                R = tl.where(is_top, 1.0, E) / (1.0 + rest)[:, None] - tl.where(is_y, 1.0, 0.0)
                if HAS_SW:
                    R = R * s[:, None]
                R = tl.where(rmask[:, None] & kmask[None, :], R, 0.0)
                gb_acc += tl.sum(R, axis=0)
                g_acc += tl.sum(x[:, :, None] * R.to(ct)[:, None, :], axis=0).to(tl.float64)
        base = out + pid.to(tl.int64) * stride_out
        if WANT_GRAD:
            tl.store(base + cols[:, None] * K + ks[None, :], g_acc, mask=cmask[:, None] & kmask[None, :])
            tl.store(base + d * K + ks, gb_acc, mask=kmask)
        tl.store(base + stride_out - 1, tl.sum(loss_acc, axis=0))


def fits(n_features, n_classes):
    """Whether a row of this width (and this many classes) fits the kernels."""
    return AVAILABLE and next_pow2(n_features) <= MAX_BLOCK_D and n_classes <= MAX_CLASSES


def loss_grad(X, y, sw, w, out, n_classes, want_grad, f64, cfg=None, z_out=None):
    """Launch the fused kernel: partial sums into ``out``, one row per program.

    Parameters
    ----------
    X : tensor of shape (n, d), row-major (unit column stride), on the device
    y : tensor of shape (n,): float labels in {0, 1} (binary) or int class indices
    sw : tensor of shape (n,) or None
    w : tensor of shape ((d + 1) * K,), float64: ``[W; b]`` row by row
        (``b`` last; zero without an intercept)
    out : tensor of shape (n_programs, (d + 1) * K + 1), float64
        Receives, per program, the gradient sums ``[X̃ᵀ R]`` (row by row) and
        the weighted loss sum in the last column. With ``want_grad`` False
        only that last column is written.
    n_classes : int
        1 for the binary model, else K.
    f64 : bool
        Compute in float64 (float64 data) rather than float32.
    cfg : tuple or None
        ``(BLOCK_M, BLOCK_D, BLOCK_K, num_warps[, stages])`` (stages: how many row
        blocks' loads are in flight, software pipelining); None picks :func:`config`.
    z_out : float64 tensor of n values, or None
        Binary only: receives the scores ``z = X w + b`` (8 bytes per row
        written; Newton's Hessian weights then need no pass of their own).
    """
    n, d = X.shape
    K = n_classes
    if cfg is None:
        cfg = config(d, K, X.element_size(), 8 if f64 else 4)
    BM, BD, BK, num_warps = cfg[:4]
    stages = cfg[4] if len(cfg) > 4 else 1
    n_blocks = triton.cdiv(n, BM)
    grid = (min(out.shape[0], n_blocks),)
    has_sw = sw is not None
    sw_arg = sw if has_sw else y
    if K == 1:
        _binary_kernel[grid](X, y, sw_arg, w, out, out if z_out is None else z_out, n, d, X.stride(0),
                             out.stride(0), n_blocks, BLOCK_M=BM, BLOCK_D=BD, HAS_SW=has_sw,
                             WANT_GRAD=bool(want_grad), F64=bool(f64), STAGES=stages,
                             WRITE_Z=z_out is not None, num_warps=num_warps)
    else:
        if z_out is not None:
            raise ValueError("z_out is for the binary kernel only.")
        _multinomial_kernel[grid](X, y, sw_arg, w, out, n, d, K, X.stride(0), out.stride(0), n_blocks,
                                  BLOCK_M=BM, BLOCK_D=BD, BLOCK_K=BK, HAS_SW=has_sw,
                                  WANT_GRAD=bool(want_grad), F64=bool(f64), STAGES=stages, num_warps=num_warps)
    return grid[0]
