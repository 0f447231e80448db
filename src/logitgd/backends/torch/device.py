"""X on a torch device behind one small interface (dense or CSR), and picking the device."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse

from .._types import is_tensor
from .lib import require, torch


def resolve_device(device, X=None):
    """The ``torch.device`` to train on: ``device``, or X's own device for a tensor with ``device="cpu"``.

    Raises ValueError for a device torch does not know or that is not there
    (``"cuda"`` without a CUDA GPU), naming it.
    """
    require()
    if is_tensor(X) and (device is None or str(device) == "cpu"):
        return X.device
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a device PyTorch knows ({exc}).") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: PyTorch {torch.__version__} sees no CUDA GPU here "
                         "(a CPU-only build, or no GPU). Use device='cpu'.")
    return dev


def _quiet():
    """Silence torch's 'sparse CSR support is in beta' notices."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
    return ctx


def _csr_tensor(crow, col, val, shape):
    ctx = _quiet()
    try:
        return torch.sparse_csr_tensor(crow, col, val, size=shape, check_invariants=False)
    finally:
        ctx.__exit__(None, None, None)


def _csr_take(indptr, col, val, rows, d):
    """Rows ``rows`` (host ints) of the CSR matrix ``(indptr on the host, col, val)``, as a CSR tensor."""
    rows = np.asarray(rows, dtype=np.int64)
    lengths = indptr[rows + 1] - indptr[rows]
    crow = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=crow[1:])
    pos = torch.as_tensor(np.repeat(indptr[rows] - crow[:-1], lengths) + np.arange(crow[-1]), device=col.device)
    return _csr_tensor(torch.as_tensor(crow, device=col.device), col[pos], val[pos], (len(rows), d))


def take_rows(X, rows):
    """Rows ``rows`` (host ints) of a torch X, dense or sparse CSR, where X is (early stopping's hold-out)."""
    if X.layout == torch.strided:
        return X.index_select(0, torch.as_tensor(np.asarray(rows, dtype=np.int64), device=X.device))
    return _csr_take(X.crow_indices().cpu().numpy().astype(np.int64), X.col_indices(), X.values(), rows,
                     X.shape[1])


def take_columns(X, columns):
    """Columns ``columns`` (host ints) of a dense torch X, where X is; None for a sparse one."""
    if X.layout != torch.strided:
        return None
    return X.index_select(1, torch.as_tensor(np.asarray(columns, dtype=np.int64), device=X.device))


class DeviceMatrix:
    """X on the device, dense (strided) or CSR, behind one small interface.

    Dense X is stored in its own dtype (or ``storage_dtype``); products are
    computed in float64 (blocks of rows upcast first; the fused kernel
    converts in registers). CSR values are kept in float64. CSR keeps the transpose as a second CSR matrix (one more
    copy of the non-zeros) so that ``Xᵀ r`` is a fast row-wise product too,
    plus the row pointer on the host for cutting row ranges without a
    device round trip.
    """

    def __init__(self, X, device, storage_dtype=None):
        self.device = device
        if scipy.sparse.issparse(X):
            X = scipy.sparse.csr_matrix(X)
            self.sparse = True
            self.indptr = np.asarray(X.indptr, dtype=np.int64)
            crow = torch.as_tensor(self.indptr, device=device)
            col = torch.as_tensor(np.asarray(X.indices, dtype=np.int64), device=device)
            val = torch.as_tensor(X.data, device=device).to(torch.float64)
            self._set_csr(crow, col, val, X.shape)
        elif is_tensor(X) and X.layout == torch.sparse_csr:
            self.sparse = True
            crow = X.crow_indices().to(device=device, dtype=torch.int64)
            col = X.col_indices().to(device=device, dtype=torch.int64)
            val = X.values().to(device=device, dtype=torch.float64)
            self.indptr = crow.cpu().numpy()
            self._set_csr(crow, col, val, tuple(X.shape))
        else:
            self.sparse = False
            t = X if is_tensor(X) else torch.from_numpy(np.ascontiguousarray(X))
            if t.layout != torch.strided:
                raise ValueError(f"X as a torch tensor must be dense (strided) or sparse CSR, not {t.layout}.")
            self.source_dtype = t.dtype
            store = getattr(torch, storage_dtype) if storage_dtype else t.dtype
            t = t.to(device=device, dtype=store)  # no copy when already there in that dtype
            if storage_dtype == "float16" and not bool(torch.isfinite(t).all()):
                raise ValueError("storage_dtype='float16': X has values beyond float16's range (65504); "
                                 "use storage_dtype='bfloat16' or None.")
            if t.stride(-1) != 1:
                t = t.contiguous()
            self.data = t
            self.shape = tuple(t.shape)
        self.n, self.d = self.shape
        if self.sparse:
            self.source_dtype = X.dtype
        # stored in fewer bytes than the float64 arithmetic: upcast by blocks of rows
        self.upcast = not self.sparse and self.data.dtype != torch.float64
        self._block = max(1, (1 << 24) // max(self.d, 1))

    def _set_csr(self, crow, col, val, shape):
        self.crow, self.col, self.val = crow, col, val
        self.shape = tuple(int(s) for s in shape)
        self.data = _csr_tensor(crow, col, val, self.shape)
        # transpose (CSC of X = CSR of Xᵀ), built once
        ctx = _quiet()
        try:
            self.data_t = self.data.to_sparse_coo().t().coalesce().to_sparse_csr()
        finally:
            ctx.__exit__(None, None, None)

    @property
    def nbytes(self):
        if self.sparse:
            return sum(t.numel() * t.element_size() for t in (self.crow, self.col, self.val))
        return self.data.numel() * self.data.element_size()

    # -- products -----------------------------------------------------------------
    def mv(self, W):
        """``X @ W`` for W of shape (d,) or (d, K), float64."""
        if self.sparse:
            return self.data @ W if W.ndim == 2 else (self.data @ W[:, None])[:, 0]
        if not self.upcast:
            return self.data @ W
        out = torch.empty((self.n,) + tuple(W.shape[1:]), dtype=W.dtype, device=self.device)
        for s in range(0, self.n, self._block):
            out[s:s + self._block] = self.data[s:s + self._block].to(W.dtype) @ W
        return out

    def rmv(self, R):
        """``Xᵀ @ R`` for R of shape (n,) or (n, K), float64."""
        if self.sparse:
            return self.data_t @ R if R.ndim == 2 else (self.data_t @ R[:, None])[:, 0]
        if not self.upcast:
            return self.data.T @ R
        out = None
        for s in range(0, self.n, self._block):
            part = self.data[s:s + self._block].to(R.dtype).T @ R[s:s + self._block]
            out = part if out is None else out + part
        return out

    def dense_rows(self, start, stop, dtype=torch.float64):
        """Rows ``start:stop`` as a dense tensor of ``dtype``."""
        if not self.sparse:
            return self.data[start:stop].to(dtype)
        return self.csr_range(start, stop).to_dense().to(dtype)

    def csr_range(self, start, stop):
        """Rows ``start:stop`` of a CSR X as a CSR tensor (offsets from the host row pointer)."""
        a, b = int(self.indptr[start]), int(self.indptr[stop])
        return _csr_tensor(self.crow[start:stop + 1] - a, self.col[a:b], self.val[a:b], (stop - start, self.d))

    def take(self, rows):
        """The rows ``rows`` (host int array, or device int64 tensor for dense X): dense tensor or CSR."""
        if not self.sparse:
            idx = rows if is_tensor(rows) else torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device)
            return self.data.index_select(0, idx)
        return _csr_take(self.indptr, self.col, self.val, rows, self.d)

    def column_sums_of_squares(self, sw=None):
        """``sum_i s_i x_ij²`` per column, float64 tensor of shape (d,)."""
        if self.sparse:
            v = self.val.to(torch.float64) ** 2
            if sw is not None:
                v = v * torch.repeat_interleave(sw, self.crow[1:] - self.crow[:-1], output_size=v.shape[0])
            return torch.bincount(self.col, weights=v, minlength=self.d)
        out = torch.zeros(self.d, dtype=torch.float64, device=self.device)
        for s in range(0, self.n, self._block):
            Xb = self.data[s:s + self._block].to(torch.float64)
            out += (Xb * Xb).sum(0) if sw is None else sw[s:s + self._block] @ (Xb * Xb)
        return out


def _small(Xb, W):
    """``Xb @ W`` for a batch that is a dense tensor (any dtype) or a CSR tensor, in W's dtype."""
    if Xb.dtype != W.dtype:
        Xb = Xb.to(W.dtype)
    return Xb @ W


def _small_t(Xb, R):
    """``Xbᵀ @ R`` (R of shape (m, K))."""
    if Xb.dtype != R.dtype:
        Xb = Xb.to(R.dtype)
    return Xb.T @ R if Xb.layout == torch.strided else Xb.t() @ R


def _to_host(a):
    """Tensors (in tuples and lists too) as NumPy arrays; other values as they are."""
    if isinstance(a, tuple):
        return tuple(_to_host(v) for v in a)
    if isinstance(a, list):
        return [_to_host(v) for v in a]
    if torch.is_tensor(a):
        return a.detach().to("cpu").numpy()
    return a
