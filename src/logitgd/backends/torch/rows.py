"""Rows on a torch device: :class:`TorchRows`, the rows object of :mod:`logitgd.rows` for PyTorch."""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse

from ... import rows as stats
from .._types import is_tensor
from ..numpy import NumpyRows
from ..numpy.rows import label_sums
from . import triton as _triton
from .device import DeviceMatrix, _to_host, resolve_device
from .epoch import EpochBatches, _BatchRows
from .lib import STORAGE_DTYPES, require, torch

#: use_kernel="auto" on float64 X: the fused kernel (True) or cuBLAS's two products (False).
#: Measured on an H100 (benchmarks/RESULTS.md, run 6): at 20,000,000 x 100 one value_and_grad
#: takes 31.8 ms through the kernel and 15.0 ms through cuBLAS, so float64 data goes to cuBLAS;
#: float32 and 2-byte storage go through the kernel (4.4 ms against 17.5 ms at 4,000,000 x 256).
KERNEL_FOR_FLOAT64 = False
N_PROGRAMS_PER_SM = 4


class TorchRows:
    """X, encoded labels and weights on a torch device.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix or torch tensor (dense, or sparse CSR) of shape (n, d)
    y : ndarray of shape (n,): 0/1 floats (binary) or class indices
    sample_weight : ndarray of shape (n,) or None
    n_classes : int
        1 for the binary model, else K.
    device : str or torch.device
        Where to compute; a tensor X with ``device="cpu"`` stays on its own device.
    storage_dtype : {None, "bfloat16", "float16"}
        Store dense X in 2 bytes per entry (arithmetic stays float64).
    use_kernel : {"auto", True, False}
        The fused Triton kernel: on CUDA when it fits ("auto"), also under
        ``TRITON_INTERPRET=1`` on the CPU (True), or never (False).
    """

    n_parts = 1
    offsets = (0,)

    def __init__(self, X, y, sample_weight=None, n_classes=1, device="cuda", storage_dtype=None, use_kernel="auto"):
        require()
        import array_api_compat.torch as xp

        self.xp = xp
        if storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f"storage_dtype must be one of {STORAGE_DTYPES}, got {storage_dtype!r}.")
        self.device = resolve_device(device, X)
        if storage_dtype is not None and (scipy.sparse.issparse(X) or (is_tensor(X) and X.layout != torch.strided)):
            raise ValueError(f"storage_dtype={storage_dtype!r} is for dense X; sparse data keeps its own dtype.")
        self.M = DeviceMatrix(X, self.device, storage_dtype)
        self.storage_dtype = storage_dtype
        self.n_classes = K = int(n_classes)
        self.n, self.d = self.M.n, self.M.d
        self.sparse = self.M.sparse
        self.dtype = np.dtype(np.float64 if self.M.source_dtype in (np.float64, torch.float64) else np.float32)
        self.y = torch.as_tensor(np.asarray(y, dtype=np.float64 if K == 1 else np.int64), device=self.device)
        self.sw = None if sample_weight is None else torch.as_tensor(
            np.asarray(sample_weight, dtype=np.float64), device=self.device)
        self.sw_sum = float(self.n) if sample_weight is None else float(np.sum(sample_weight, dtype=np.float64))
        self._source = X
        self._y_host = np.ascontiguousarray(y, dtype=np.float64 if K == 1 else np.intp)
        self._sw_host = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
        self.memo = stats.OneEntryMemo()
        # (key, Z) of the last data term, kept once a Hessian has been asked for (see scores):
        # solvers that never ask keep no n-sized array and the kernel writes no scores
        self._last_scores = None
        self._keep_scores = False
        self.uses_kernel = bool(
            use_kernel and not self.M.sparse and _triton.fits(self.d, K)
            and (self.device.type == "cuda" or (use_kernel is True and _triton.INTERPRET))
            and (use_kernel is True or KERNEL_FOR_FLOAT64 or self.M.data.dtype != torch.float64))
        if self.uses_kernel:
            sms = (torch.cuda.get_device_properties(self.device).multi_processor_count
                   if self.device.type == "cuda" else 2)
            self._kernel_out = torch.empty((sms * N_PROGRAMS_PER_SM, (self.d + 1) * K + 1),
                                           dtype=torch.float64, device=self.device)

    # -- the backend protocol -----------------------------------------------------------
    def map(self, fn, *args, per_part=None):
        """``[fn(self, *args, *per_part[0])]`` with the result brought to the host."""
        return [_to_host(fn(self, *args, *(per_part[0] if per_part else ())))]

    def asarray(self, a):
        if torch.is_tensor(a):
            return a.to(device=self.device, dtype=torch.float64)
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=self.device)

    def label_sums(self):
        """The label summary, from the host labels (as in memory)."""
        return label_sums(self._y_host, self._sw_host, self.n_classes)

    def host_rows(self):
        """``(X, y, sample_weight)`` as host arrays (a copy of X from the device; the separation LP reads them)."""
        X = self._source
        if is_tensor(X):
            X = (X.to_dense() if X.layout != torch.strided else X).detach().to("cpu", torch.float64).numpy()
        return X, self._y_host, self._sw_host

    # -- products -------------------------------------------------------------------------
    def matvec(self, W):
        """``X @ W`` in float64 (W of shape (d,) or (d, K))."""
        return self.M.mv(W)

    def rmatvec(self, R):
        """``Xᵀ @ R`` in float64."""
        return self.M.rmv(R)

    def _key(self, W, b):
        return np.asarray(W).tobytes(), np.asarray(b, dtype=np.float64).tobytes()

    def scores(self, W, b):
        """Raw scores in float64: those kept from the last data term at ``(W, b)`` (Newton forms its Hessian
        where its line search has just evaluated), else one pass over X.

        The first call turns the keeping of scores on: from then on each data
        term keeps its scores (n·K floats; the binary kernel writes them).
        """
        key = self._key(W, b)
        last = self._last_scores
        if last is not None and last[0] == key:
            Z = last[1]
        else:
            self._keep_scores = True
            Z = self._fresh_scores(W, b)
        return Z[:, 0] if self.n_classes == 1 else Z

    def _fresh_scores(self, W, b):
        """Scores of shape (n, K) (K = 1 for the binary model), float64."""
        W = self.asarray(W)
        Z = self.M.mv(W)
        Z = (Z[:, None] if Z.ndim == 1 else Z) + self.asarray(np.reshape(b, (-1,)))
        return Z

    def blocks(self):
        return (self,)

    def take(self, rows):
        """The rows ``rows`` (host ints or a slice) on the device: a batch rows object (float64 products)."""
        if isinstance(rows, slice):
            rows = np.arange(self.n)[rows]
        idx = torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device)
        return _BatchRows(self, self.M.take(rows), self.y[idx], None if self.sw is None else self.sw[idx])

    def sgd_functions(self, epoch, auto_step):
        """sgd's epoch and step estimate for these rows: the in-memory ones, as they are."""
        return epoch, auto_step

    def compute_context(self):
        return contextlib.nullcontext()

    def batch_term(self, loss, W, b, rows):
        """The data term and its gradient sums over the rows ``rows`` (a mini-batch), one transfer to the host:
        ``(float, g, rows in it)``. Mini-batches are float64, as on the CPU: small, and the "auto" step's finite
        differences of batch gradients need the precision."""
        part = self.take(rows)
        total, g = stats.term_from_scores(part, loss, part.scores(W, b), True)
        out = torch.cat([total[None], g]).cpu().numpy()
        return float(out[0]), out[1:], part.n

    def epoch_batches(self, order, bounds):
        """The rows of one SGD epoch on the device (:class:`~.epoch.EpochBatches`)."""
        return EpochBatches(self, order, bounds)

    def solve_triangular(self, R, B, trans):
        """``R⁻¹ B`` (``trans``: ``R⁻ᵀ B``) for an upper triangular R on the device."""
        return torch.linalg.solve_triangular(R.T, B, upper=False) if trans else \
            torch.linalg.solve_triangular(R, B, upper=True)

    def to_host(self, a):
        return _to_host(a)

    def map_data_term(self, loss, W, b, want_grad):
        """:func:`logitgd.rows.data_term`, with one transfer of ``(d + 1) K + 1`` numbers to the host."""
        if self.uses_kernel:
            out = self._kernel_term(W, b, want_grad)
        else:
            Z = self._fresh_scores(W, b)
            if self._keep_scores:
                self._last_scores = (self._key(W, b), Z)
            total, g = stats.term_from_scores(self, loss, Z[:, 0] if self.n_classes == 1 else Z, want_grad)
            out = total[None] if not want_grad else torch.cat([total[None], g])
        out = out.cpu().numpy()
        return float(out[0]), (out[1:].copy() if want_grad else None)

    def fused_data_term(self, W, b, want_grad):
        return None  # the kernel runs from map_data_term, which also keeps its scores

    def fused_scores_term(self, loss, z, want_grad):
        return None  # the generic loss, in torch

    def _kernel_term(self, W, b, want_grad):
        K, d = self.n_classes, self.d
        T = torch.zeros((d + 1, K), dtype=torch.float64, device=self.device)
        T[:-1] = self.asarray(W).reshape(d, K)
        T[-1] = self.asarray(np.reshape(b, (-1,)))
        Z = None
        if self._keep_scores and K == 1:
            Z = torch.empty((self.n, 1), dtype=torch.float64, device=self.device)
            self._last_scores = (self._key(W, b), Z)
        P = _triton.loss_grad(self.M.data, self.y, self.sw, T.reshape(-1), self._kernel_out, K, want_grad, True,
                              z_out=Z)
        part = self._kernel_out[:P].sum(0)
        return part[-1:] if not want_grad else torch.cat([part[-1:], part[:-1]])

    def gram(self, h, rows=slice(None), block_rows=1 << 22):
        """``X̃ᵀ diag(h) X̃`` (over ``rows``), X̃ = [X, 1]: float64 tensor of shape (d + 1, d + 1).

        By blocks of rows, ``AᵀA`` with ``A = sqrt(h) [X, 1]`` (float64, the
        intercept's column included): one matrix product per block gives the
        whole matrix, and X is read once.
        """
        row_idx = None if rows == slice(None) else np.arange(self.n)[rows]
        d = self.d
        H = torch.zeros((d + 1, d + 1), dtype=torch.float64, device=self.device)
        if row_idx is not None and self.M.sparse:  # sparse rows by index: zero the others
            full = torch.zeros(self.n, dtype=torch.float64, device=self.device)
            full[torch.as_tensor(row_idx, device=self.device)] = h
            return self.gram(full, slice(None), block_rows)
        n = self.n if row_idx is None else len(row_idx)
        block_rows = max(1, min(block_rows, (1 << 26) // (d + 1), n))
        A = torch.empty((block_rows, d + 1), dtype=torch.float64, device=self.device)
        for s in range(0, n, block_rows):
            e = min(n, s + block_rows)
            if row_idx is not None:
                Xb = self.M.data.index_select(0, torch.as_tensor(row_idx[s:e], device=self.device))
            elif self.M.sparse:
                Xb = self.M.dense_rows(s, e)
            else:
                Xb = self.M.data[s:e]  # any stored dtype: the product below is float64
            Ab = A[:e - s]
            torch.sqrt(h[s:e], out=Ab[:, d])
            torch.mul(Xb, Ab[:, d:], out=Ab[:, :d])
            H.addmm_(Ab.T, Ab)
        return H

    def tilde_blocks(self, block_rows, fit_intercept):
        for start in range(0, self.n, block_rows):
            stop = min(self.n, start + block_rows)
            Xb = self.M.dense_rows(start, stop)
            if fit_intercept:
                Xb = torch.cat([Xb, torch.ones((stop - start, 1), dtype=torch.float64, device=self.device)], dim=1)
            yield start, Xb

    def column_sums_of_squares(self):
        return self.M.column_sums_of_squares(self.sw)

    # -- proximal Newton by columns: on the host, for a scipy.sparse X ------------------------
    @property
    def column_newton(self):
        """Proximal Newton by columns (sparse binary lasso) needs a scipy matrix on the host: only for scipy input."""
        return self.sparse and self.n_classes == 1 and scipy.sparse.issparse(self._source)

    def lasso_newton_direction(self, h, grad, theta, lam, l2, fit_intercept, tol, max_sweeps):
        host = NumpyRows(self._source, np.zeros(self.n), None, 1, use_kernel=False)
        return host.lasso_newton_direction(h, grad, theta, lam, l2, fit_intercept, tol, max_sweeps)
