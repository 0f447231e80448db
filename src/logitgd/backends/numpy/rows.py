"""Rows in memory: NumPy arrays and SciPy CSR matrices, with the numba kernels as the fast path.

:class:`NumpyRows` is the rows object of :mod:`logitgd.rows` for data in
this process: the matrix products (``matvec``, ``rmatvec``, ``gram``), the
float64 blocks the generic data term runs on, and the fused one-pass kernel
of :mod:`.kernels` (dense C-contiguous or CSR float data with at least
``KERNEL_MIN_SIZE`` entries), chosen here and nowhere else. A Dask worker
wraps each of its chunks in one too.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse

from ... import rows as stats
from ...loss import MultinomialLogLoss
from . import kernels

KERNEL_MIN_SIZE = 1_000_000
BLOCK_ROWS = 65536
# Below this many entries of X (non-zeros if sparse), a fit runs with one
# BLAS thread: its matrix products take microseconds, and waking a second
# thread costs more. On a loaded machine a second OpenBLAS thread that has to
# wait for a core makes them 10-30x slower (digits, 1797 x 64, 10 classes:
# 1.0 s with two threads against 0.03 s with one, measured with other work
# running on this 2-core host).
ONE_THREAD_BELOW = 1_000_000
# From this many scores (rows x classes) the softmax loss runs in the numba kernel (loading numba costs
# 0.3-0.5 s once per process; at 10,000 scores the kernel saves about 0.5 ms a pass).
SOFTMAX_KERNEL_MIN = 10_000
_THREADPOOLS = []


#: Dense rows up to this many entries of X̃ = [X, 1] keep X̃ for the Hessian (one product instead of four calls
#: and an assembly; 8 MB at most)
TILDE_MAX = 1 << 20


class NumpyRows:
    """X, encoded labels and weights in memory.

    Parameters
    ----------
    X : ndarray or scipy.sparse CSR matrix of shape (n, d), float32 or float64
        A CSR X may carry its float64 CSC copy as the attribute ``logitgd_csc`` (the regularization
        path cuts its columns from a CSC copy and converts once), which the lasso's coordinate descent uses.
    y : ndarray of shape (n,)
        0/1 floats (binary) or class indices (``n_classes > 1``).
    sample_weight : ndarray of shape (n,) or None
    n_classes : int
        1 for the binary model (one score column), else K.
    use_kernel : bool or "auto"
        The fused kernel where the data allows it: always, never, or from
        ``KERNEL_MIN_SIZE`` entries on ("auto"; below it NumPy is as fast and
        nothing needs compiling).
    """

    xp = np

    def __init__(self, X, y, sample_weight=None, n_classes=1, use_kernel="auto"):
        self.X = X
        self.n_classes = int(n_classes)
        self.y = (np.ascontiguousarray(y, dtype=np.float64) if self.n_classes == 1
                  else np.ascontiguousarray(y, dtype=np.intp))
        self.sw = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
        self.n, self.d = X.shape
        self.sparse = scipy.sparse.issparse(X)
        self.dtype = X.dtype
        if use_kernel == "auto":
            use_kernel = (X.nnz if self.sparse else self.n * self.d) >= KERNEL_MIN_SIZE
        self.uses_kernel = bool(use_kernel and kernels.AVAILABLE and self.n_classes == 1 and self._kernel_fits())
        self.memo = stats.OneEntryMemo()
        self._csc = getattr(X, "logitgd_csc", None)

    def _kernel_fits(self):
        if self.X.dtype not in (np.float32, np.float64):
            return False
        if self.sparse:
            return self.X.format == "csr"
        return isinstance(self.X, np.ndarray) and self.X.flags.c_contiguous

    # -- the backend protocol ---------------------------------------------------------
    n_parts = 1
    offsets = (0,)

    def map(self, fn, *args, per_part=None):
        """``[fn(self, *args, *per_part[0])]``: one process holds all the rows (one part), results on the host."""
        return [fn(self, *args, *(per_part[0] if per_part else ()))]

    def map_data_term(self, loss, W, b, want_grad):
        """:func:`logitgd.rows.data_term` over all rows: ``(float, gradient sums or None)``."""
        total, g = stats.data_term(self, loss, W, b, want_grad)
        return float(total), g

    @property
    def sw_sum(self):
        return float(self.n) if self.sw is None else float(self.sw.sum())

    def asarray(self, a):
        return a

    def label_sums(self):
        """Weighted count per class (binary: of 0 and 1), float64."""
        return label_sums(self.y, self.sw, self.n_classes)

    def sgd_functions(self, epoch, auto_step):
        """sgd's epoch and step estimate for these rows: the in-memory ones, as they are."""
        return epoch, auto_step

    def compute_context(self):
        """One BLAS thread for small data (see ``ONE_THREAD_BELOW``), else no change: a context manager."""
        size = self.X.nnz if self.sparse else self.n * self.d
        if size >= ONE_THREAD_BELOW:
            return contextlib.nullcontext()
        if not _THREADPOOLS:  # found once: inspecting the loaded libraries takes ~0.3 ms
            from threadpoolctl import ThreadpoolController

            _THREADPOOLS.append(ThreadpoolController())
        return _THREADPOOLS[0].limit(limits=1, user_api="blas")

    def epoch_batches(self, order, bounds):
        """None: an SGD epoch on the host takes its batches through ``batch_value_and_grad``."""
        return None

    def host_rows(self):
        """``(X, y, sample_weight)`` in memory (the separation LP reads them)."""
        return self.X, self.y, self.sw

    # -- products -----------------------------------------------------------------
    def matvec(self, W):
        """``X @ W`` in X's precision (float32 data: float32 products)."""
        return np.asarray(self.X @ W.astype(self.X.dtype, copy=False))

    def rmatvec(self, R):
        """``Xᵀ @ R`` in X's precision."""
        return np.asarray(self.X.T @ R.astype(self.X.dtype, copy=False))

    def scores(self, W, b):
        """Raw scores ``X W + b`` in float64: shape (n,) for the binary model, (n, K) else."""
        if self.n_classes == 1:
            return (self.X @ W.astype(self.X.dtype, copy=False) + b).astype(np.float64, copy=False)
        Z = np.asarray(self.X @ W.astype(self.X.dtype, copy=False), dtype=np.float64)
        Z += b  # in place: a new (n, K) array costs its page faults (as much as the product at 200,000 x 10)
        return Z

    def blocks(self):
        """The rows as float64 rows objects: ``(self,)`` for float64 X, else blocks of ``BLOCK_ROWS`` rows made
        float64 one at a time."""
        if self.X.dtype == np.float64:
            return (self,)
        return _Blocks(self)

    def take(self, rows):
        """Rows ``rows`` (an index array or a slice) as float64 rows without the kernel (mini-batches)."""
        part = self.X[rows]
        part = part.astype(np.float64) if scipy.sparse.issparse(part) else np.asarray(part, dtype=np.float64)
        batch = object.__new__(NumpyRows)  # the parts are checked already: no second pass over them
        batch.__dict__.update(X=part, y=self.y[rows], sw=None if self.sw is None else self.sw[rows],
                              n_classes=self.n_classes, n=part.shape[0], d=self.d, sparse=self.sparse,
                              dtype=part.dtype, uses_kernel=False, memo=stats.OneEntryMemo(), _csc=None)
        return batch

    def batch_term(self, loss, W, b, rows):
        """The data term and its gradient sums over the rows ``rows`` (a mini-batch): ``(float, g, rows in it)``."""
        part = self.take(rows)
        total, g = stats.term_from_scores(part, loss, part.scores(W, b), True)
        return float(total), g, part.n

    def fused_data_term(self, W, b, want_grad):
        """The kernel's ``(sum_i s_i L_i, gradient sums)``, or None where it does not apply."""
        if not self.uses_kernel:
            return None
        sw = self.sw if self.sw is not None else np.empty(0)
        g = np.empty(self.d + 1) if want_grad else None
        w = np.ascontiguousarray(W, np.float64)
        fn = kernels.csr_loss_grad if self.sparse else kernels.dense_loss_grad
        return fn(self.X, self.y, sw, w, b, g), g

    def fused_scores_term(self, loss, z, want_grad):
        """The softmax loss's ``(sum_i s_i L_i, s ∘ (P - Y))`` at the scores z by the numba kernel (one pass, no
        temporaries: 5-15x the generic NumPy code, whose row-wise reductions over K columns are slow), from
        ``SOFTMAX_KERNEL_MIN`` scores on; else None (the generic code)."""
        if (self.n_classes == 1 or z.size < SOFTMAX_KERNEL_MIN or type(loss) is not MultinomialLogLoss
                or not kernels.AVAILABLE):
            return None
        return kernels.softmax_loss_grad(z, self.y, np.empty(0) if self.sw is None else self.sw, want_grad)

    def gram(self, h, rows=slice(None), block_rows=65536):
        """``X̃ᵀ diag(h) X̃`` over ``rows`` (h given for those rows), X̃ = [X, 1]: shape (d + 1, d + 1)."""
        every = isinstance(rows, slice) and rows == slice(None)
        X = self.X if every else self.X[rows]
        d = self.d
        tiny = 1e-16 * float(h.max(initial=0.0))
        if every and (Xt := self._kept_tilde()) is not None:  # small: one product with X̃ kept
            if h.min(initial=tiny + 1.0) <= tiny:  # (see below: rows of no weight would go subnormal)
                keep = np.flatnonzero(h > tiny)
                h, Xt = h[keep], Xt[keep]
            A = Xt * np.sqrt(h)[:, None]
            return A.T @ A
        if self.sparse and kernels.AVAILABLE:  # row by row, each row the square of its non-zeros
            return kernels.csr_gram(scipy.sparse.csr_matrix(X), h, tiny)
        H = np.zeros((d + 1, d + 1))
        for start in range(0, X.shape[0], block_rows):
            # h >= 0, so X̃ᵀ diag(h) X̃ = AᵀA with A = sqrt(h) X̃: a symmetric
            # rank-k update (NumPy calls BLAS syrk for A.T @ A), half the flops.
            hb = h[start:start + block_rows]
            # Rows whose weight is below rounding of the largest add nothing;
            # leaving them in makes sqrt(h) x subnormal, and subnormal
            # arithmetic is ~100x slower (saturated probabilities do this).
            Xb = X[start:start + block_rows]
            if not (hb > tiny).all():
                keep = np.flatnonzero(hb > tiny)
                hb, Xb = hb[keep], Xb[keep]
            rh = np.sqrt(hb)
            if scipy.sparse.issparse(Xb):
                A = scipy.sparse.csr_matrix(Xb.multiply(rh[:, None]), dtype=np.float64)
                H[:d, :d] += (A.T @ A).toarray()
                H[-1, :d] += A.T @ rh
            else:
                A = np.multiply(Xb, rh[:, None], dtype=np.float64)
                H[:d, :d] += A.T @ A
                H[-1, :d] += rh @ A
            H[-1, -1] += hb.sum()
        H[:d, -1] = H[-1, :d]
        return H

    def _kept_tilde(self):
        """X̃ = [X, 1] in float64, made once, for dense X up to ``TILDE_MAX`` entries of it; else None."""
        if self.sparse or self.n * (self.d + 1) > TILDE_MAX:
            return None
        Xt = self.__dict__.get("_tilde")
        if Xt is None:
            Xt = self._tilde = np.hstack([np.asarray(self.X, dtype=np.float64), np.ones((self.n, 1))])
        return Xt

    def tilde_blocks(self, block_rows, fit_intercept):
        """``(start, [X, 1])`` by blocks of rows, dense float64 (no ones without an intercept)."""
        if fit_intercept and block_rows >= self.n and (Xt := self._kept_tilde()) is not None:
            yield 0, Xt
            return
        for start in range(0, self.n, block_rows):
            Xb = self.X[start:start + block_rows]
            Xb = Xb.toarray() if scipy.sparse.issparse(Xb) else Xb
            Xb = np.asarray(Xb, dtype=np.float64)
            if fit_intercept:
                Xb = np.hstack([Xb, np.ones((Xb.shape[0], 1))])
            yield start, Xb

    def column_sums_of_squares(self):
        """``sum_i s_i x_ij²`` per column, float64, for dense or sparse X (no copy of X)."""
        X, sw = self.X, self.sw
        if self.sparse:
            X = scipy.sparse.csr_matrix(X) if X.format != "csr" else X
            vals = np.square(X.data, dtype=np.float64)
            if sw is not None:
                vals *= np.repeat(sw, np.diff(X.indptr))
            return np.bincount(X.indices, weights=vals, minlength=X.shape[1])
        if sw is None:
            return np.einsum("ij,ij->j", X, X, dtype=np.float64)
        return np.einsum("ij,ij,i->j", X, X, sw, dtype=np.float64)

    # -- proximal Newton by columns (sparse binary lasso) ------------------------------------
    @property
    def column_newton(self):
        """Whether :meth:`lasso_newton_direction` works here (binary data in a scipy.sparse matrix)."""
        return self.sparse and self.n_classes == 1

    def lasso_newton_direction(self, h, grad, theta, lam, l2, fit_intercept, tol, max_sweeps):
        """Coordinate descent over the columns of X (a CSC copy, made once) on the proximal Newton model.

        Coordinates at zero whose gradient is well inside the lasso's dead zone
        (``|grad_j| <= 0.9 l1``) stay out of this step.
        """
        if self._csc is None:
            self._csc = scipy.sparse.csc_matrix(self.X, dtype=np.float64)
        d = self.d
        active = np.flatnonzero((theta[:d] != 0) | (np.abs(grad[:d]) > 0.9 * lam))
        delta, _, _ = kernels.csc_lasso_newton_direction(
            self._csc, h, grad, theta, lam, l2, fit_intercept, active, tol, max_sweeps)
        return delta


def label_sums(y, sw, n_classes):
    """Weighted count per class of encoded host labels (binary: of 0 and 1), float64: the label summary."""
    if n_classes == 1:
        total = float(len(y)) if sw is None else float(sw.sum())
        ones = y.sum() if sw is None else sw @ y
        return np.array([total - ones, ones])
    return np.bincount(y, weights=sw, minlength=n_classes)


class _Blocks:
    """Float64 copies of blocks of ``BLOCK_ROWS`` rows, made one at a time (so the copy stays small)."""

    def __init__(self, rows):
        self.rows = rows

    def __iter__(self):
        for start in range(0, self.rows.n, BLOCK_ROWS):
            yield self.rows.take(slice(start, start + BLOCK_ROWS))
