"""Training on a GPU (or any PyTorch device): the objective with its data on the device.

This is the only module that imports PyTorch (an optional dependency:
``pip install 'logitgd[gpu]'``). The solvers are unchanged: they keep the
parameters ``theta`` as a float64 NumPy vector on the host and call the
objective's methods; here those methods send ``theta`` to the device (d·K
numbers), compute on X, y and the weights that live there, and send back a
float and a gradient of the same size. X is moved to the device once, when
the objective is made (a tensor already on the device is used as it is, not
copied); nothing of size n crosses the bus per iteration.

What runs where:

* ``value`` / ``value_and_grad``: the fused Triton kernel of
  :mod:`logitgd._triton` (one read of X for scores, loss and gradient) for
  dense float32 (or 2-byte) data up to 1024 features on a CUDA device; the
  generic PyTorch path otherwise (two matrix-vector products: cuBLAS for
  float64, which measured faster than the kernel there; torch's sparse
  kernels for CSR). The generic path is the reference the kernel is tested
  against.
* ``hessian`` (Newton–Cholesky), ``hessian_operator`` (Newton–CG),
  ``hessian_bound`` and the column sums of squares (the preconditioners) on
  the device. The Hessian's weights come from the scores kept from the last
  value / gradient at the same theta (kept, by both paths, once a Hessian has
  been asked for: Newton's line search has just evaluated there).
* Mini-batch SGD: :meth:`TorchPreconditioned.sgd_epoch` /
  :meth:`_TorchData.sgd_epoch` run a whole epoch on the device with no host
  synchronisation per step (the finite-gradient check and the step's size
  are read back once per epoch; the batches are the same as on the CPU,
  drawn on the host from ``random_state`` and uploaded once per epoch).

Arithmetic is float64 whatever X is stored in, as on the CPU (float32 data
is converted as it is read: in registers in the kernel, by blocks of rows in
the generic path), so every solver reaches the same tolerances as on the CPU
and a float32 fit agrees with the CPU fit to rounding. Reduced-precision
storage (``storage_dtype="bfloat16"`` or ``"float16"``) keeps X in 2 bytes
per entry on the device: half the bytes per pass. The model is then fitted to
the rounded data; README.md gives the accuracy this costs, measured.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse

from . import _triton
from .objective import LogisticObjective, MultinomialObjective, Preconditioned

try:  # pragma: no cover - depends on the environment
    import torch

    AVAILABLE = True
except ImportError:  # pragma: no cover
    torch = None
    AVAILABLE = False

INSTALL_HINT = ("PyTorch is not installed: training on a GPU needs it. Install it with "
                "pip install 'logitgd[gpu]' (or pip install torch, with the CUDA build for your GPU).")
STORAGE_DTYPES = (None, "bfloat16", "float16")
#: use_kernel="auto" on float64 X: the fused kernel (True) or cuBLAS's two products (False).
#: Measured on an H100 (benchmarks/RESULTS.md, run 6): at 20,000,000 x 100 one value_and_grad
#: takes 31.8 ms through the kernel and 15.0 ms through cuBLAS, so float64 data goes to cuBLAS;
#: float32 and 2-byte storage go through the kernel (4.4 ms against 17.5 ms at 4,000,000 x 256).
KERNEL_FOR_FLOAT64 = False


def require():
    """Raise ImportError saying what to install when PyTorch is missing."""
    if not AVAILABLE:
        raise ImportError(INSTALL_HINT)


def is_tensor(X):
    """Whether X is a torch tensor (without importing torch)."""
    return type(X).__module__.split(".")[0] == "torch" and hasattr(X, "device")


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


class _HostView:
    """A host-side stand-in for device data: shape and dtype, NumPy on demand.

    The objective's ``X`` attribute: what looks at it on the host (the
    separation test on small data) gets a NumPy copy through ``np.asarray``
    or ``toarray()``; nothing else copies the data back.
    """

    def __init__(self, tensor, dtype):
        self._t = tensor
        self.shape = tuple(tensor.shape)
        self.dtype = np.dtype(dtype)

    def toarray(self):
        t = self._t.to_dense() if self._t.layout != torch.strided else self._t
        return t.detach().to("cpu", torch.float64).numpy()

    def __array__(self, dtype=None, copy=None):
        a = self.toarray()
        return a if dtype is None else a.astype(dtype)


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


def binary_terms(z, y, want_grad=True):
    """Per-row loss and ``dL/dz`` of the binary log-loss on device scores ``z`` (as :mod:`logitgd.loss`)."""
    e = torch.exp(-z.abs())
    pos = z >= 0
    loss = torch.where(pos, z * (1 - y), -z * y) + torch.log1p(e)
    if not want_grad:
        return loss, None
    return loss, torch.where(pos, torch.ones_like(e), e) / (1 + e) - y


def softmax_terms(Z, y, want_grad=True):
    """Per-row softmax cross-entropy and ``P - Y`` on device scores ``Z`` of shape (n, K)."""
    m, top = Z.max(dim=1)
    E = torch.exp(Z - m[:, None])
    E.scatter_(1, top[:, None], 0.0)
    rest = E.sum(dim=1)
    loss = torch.log1p(rest) + (m - Z.gather(1, y[:, None])[:, 0])
    if not want_grad:
        return loss, None
    E.scatter_(1, top[:, None], 1.0)
    E /= (1 + rest)[:, None]
    E.scatter_add_(1, y[:, None], -torch.ones_like(E[:, :1]))
    return loss, E


class _TorchData:
    """Device-side data term, second order and SGD epochs, shared by the binary and softmax objectives.

    Internally theta is the matrix ``Θ = [W; b]`` of shape (d + 1, K)
    (K = 1 for the binary model; b = 0 without an intercept), so one code
    path serves both: scores ``Z = X W + b``, gradient ``X̃ᵀ R``.
    """

    #: Fused Triton kernel: "auto" (on a CUDA device, when it fits), True (whenever it fits;
    #: with TRITON_INTERPRET=1 also on the CPU), False (never).
    use_kernel = "auto"
    N_PROGRAMS_PER_SM = 4
    #: ``(theta, Z)`` of the last value / gradient, kept once a Hessian has been asked for (see
    #: :meth:`_scores_at`); solvers that never ask keep no n-sized array and the kernel writes no scores
    _last_scores = None
    _keep_scores = False

    def _init_device(self, X, y, sample_weight, device, storage_dtype, use_kernel):
        require()
        if storage_dtype not in STORAGE_DTYPES:
            raise ValueError(f"storage_dtype must be one of {STORAGE_DTYPES}, got {storage_dtype!r}.")
        self.device = resolve_device(device, X)
        if storage_dtype is not None and (scipy.sparse.issparse(X) or (is_tensor(X) and X.layout != torch.strided)):
            raise ValueError(f"storage_dtype={storage_dtype!r} is for dense X; sparse data keeps its own dtype.")
        self.M = DeviceMatrix(X, self.device, storage_dtype)
        self.storage_dtype = storage_dtype
        # float64 arithmetic whatever X is stored in (as on the CPU): the
        # solvers' tolerances (1e-8 on the gradient) are then reachable
        self.cdtype = torch.float64
        K = self.n_classes
        if K == 1:
            self.yd = torch.as_tensor(self.y, device=self.device).to(self.cdtype)
        else:
            self.yd = torch.as_tensor(np.asarray(self.y, dtype=np.int64), device=self.device)
        self.y64 = self.yd if K > 1 else self.yd.to(torch.float64)
        self.swd = None if self.sample_weight is None else torch.as_tensor(
            self.sample_weight, device=self.device).to(self.cdtype)
        self.sw64 = None if self.sample_weight is None else torch.as_tensor(self.sample_weight, device=self.device)
        self.use_kernel = use_kernel
        self.uses_kernel = bool(
            use_kernel and not self.M.sparse and _triton.fits(self.M.d, K)
            and (self.device.type == "cuda" or (use_kernel is True and _triton.INTERPRET))
            and (use_kernel is True or KERNEL_FOR_FLOAT64 or self.M.data.dtype != torch.float64))
        if self.uses_kernel:
            if self.device.type == "cuda":
                sms = torch.cuda.get_device_properties(self.device).multi_processor_count
            else:
                sms = 2
            self._kernel_out = torch.empty((sms * self.N_PROGRAMS_PER_SM, (self.M.d + 1) * K + 1),
                                           dtype=torch.float64, device=self.device)
        # A host stand-in: shape, dtype, and a copy on demand (separation test)
        self.X = X if not is_tensor(X) else _HostView(X, np.float64 if X.dtype == torch.float64 else np.float32)
        self.sparse = self.M.sparse

    @property
    def column_newton(self):
        """Proximal Newton by columns (sparse binary lasso) needs a scipy matrix on the host: only for scipy input."""
        return self.sparse and self.n_classes == 1 and scipy.sparse.issparse(self.X)

    # -- parameters on the device -------------------------------------------------------
    def _theta_matrix(self, theta, dtype=None):
        """Θ = [W; b] of shape (d + 1, K) on the device (b = 0 without an intercept)."""
        K, d = self.n_classes, self.n_features
        full = np.zeros((d + 1) * K)
        full[:len(theta)] = theta  # theta is [W; b] row by row; no b slots without an intercept
        T = torch.as_tensor(full, device=self.device).reshape(d + 1, K)
        return T if dtype is None else T.to(dtype)

    def _xw(self, W):
        """``X @ W`` for W of shape (d, K): a matrix-vector product when K = 1 (not a one-column matrix product)."""
        return self.M.mv(W[:, 0])[:, None] if W.shape[1] == 1 else self.M.mv(W)

    def _xtr(self, R):
        """``Xᵀ @ R`` for R of shape (n, K), as :meth:`_xw`."""
        return self.M.rmv(R[:, 0])[:, None] if R.shape[1] == 1 else self.M.rmv(R)

    def _scores(self, T):
        """Z = X W + b on all rows, shape (n, K), float64."""
        return self._xw(T[:-1]) + T[-1]

    def _scores_at(self, theta):
        """The scores at ``theta``: those of the last value / gradient when it was at this theta (Newton
        forms its Hessian where its line search has just evaluated the gradient), else one pass over X.

        The first call turns the keeping of scores on: from then on each value
        / gradient keeps its scores (n·K floats; the binary kernel writes them).
        """
        last = self._last_scores
        if last is not None and np.array_equal(last[0], theta):
            return last[1]
        self._keep_scores = True
        return self._scores(self._theta_matrix(theta))

    def raw_prediction(self, theta):
        """Raw scores on the host: ndarray of shape (n_samples,) (binary) or (n_samples, K)."""
        Z = self._scores(self._theta_matrix(theta, self.cdtype)).to("cpu", torch.float64).numpy()
        return Z[:, 0] if self.n_classes == 1 else Z

    # -- value and gradient ---------------------------------------------------------------
    def _terms(self, Z, y, want_grad):
        if self.n_classes == 1:
            loss, r = binary_terms(Z[:, 0], y, want_grad)
            return loss, None if r is None else r[:, None]
        return softmax_terms(Z, y, want_grad)

    def _device_data_term(self, theta, want_grad):
        """``[sum_i s_i L_i, G row by row]`` as one float64 device vector (G only with ``want_grad``)."""
        T = self._theta_matrix(theta)
        if self.uses_kernel:
            w = T.reshape(-1)
            Z = None
            if self._keep_scores and self.n_classes == 1:
                Z = torch.empty((self.M.n, 1), dtype=torch.float64, device=self.device)
                self._last_scores = (np.array(theta, dtype=np.float64), Z)
            P = _triton.loss_grad(self.M.data, self.yd, self.swd, w, self._kernel_out, self.n_classes,
                                  want_grad, True, z_out=Z)
            part = self._kernel_out[:P].sum(0)
            return part[-1:] if not want_grad else torch.cat([part[-1:], part[:-1]])
        # With K classes the intercepts' gradient sums to 0 over the classes up
        # to float64 rounding: no spurious Newton step along the direction the
        # softmax cannot see (float32 arithmetic here made that step huge).
        Z = self._scores(T)
        if self._keep_scores:
            self._last_scores = (np.array(theta, dtype=np.float64), Z)
        loss, R = self._terms(Z, self.y64, want_grad)
        if self.sw64 is not None:
            loss = loss * self.sw64
            if want_grad:
                R = R * self.sw64[:, None]
        lsum = loss.sum()[None]
        if not want_grad:
            return lsum
        G = torch.empty((self.n_features + 1, self.n_classes), dtype=torch.float64, device=self.device)
        G[:-1] = self._xtr(R)
        G[-1] = R.sum(0)
        return torch.cat([lsum, G.reshape(-1)])

    def _data_term(self, theta, want_grad):
        out = self._device_data_term(theta, want_grad).cpu().numpy()  # one transfer of (d + 1) K + 1 numbers
        return float(out[0]), (out[1:].copy() if want_grad else None)

    @property
    def n_samples(self):
        return self.M.n

    def batch_value_and_grad(self, theta, rows):
        """As :meth:`LogisticObjective.batch_value_and_grad`, on the device."""
        if isinstance(rows, slice):
            rows = np.arange(self.M.n)[rows]
        # mini-batches in float64, as on the CPU: small, and the "auto" step's
        # finite differences of batch gradients need the precision
        T = self._theta_matrix(theta)
        Xb = self.M.take(rows)
        y = self.yd[torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device)]
        loss, R = self._terms(_small(Xb, T[:-1]) + T[-1], y if self.n_classes > 1 else y.double(), True)
        if self.sw64 is not None:
            s = self.sw64[torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device)]
            loss, R = loss * s, R * s[:, None]
        G = torch.empty((self.n_features + 1, self.n_classes), dtype=torch.float64, device=self.device)
        G[:-1] = _small_t(Xb, R)
        G[-1] = R.sum(0, dtype=torch.float64)
        out = torch.cat([loss.sum(dtype=torch.float64)[None], G.reshape(-1)]).cpu().numpy()
        scale = len(rows) * self.sw_sum / self.M.n
        return self._finish(theta, float(out[0]) / scale, out[1:] / scale)

    # -- second order ---------------------------------------------------------------------
    def _hessian_weights_device(self, theta):
        """Binary: ``s_i p_i (1 - p_i) / sum(s)``; softmax: the probabilities P (n, K). Float64, device."""
        Z = self._scores_at(theta)
        if self.n_classes > 1:
            return torch.softmax(Z, dim=1)
        p = torch.sigmoid(Z[:, 0])
        h = p * (1 - p)
        if self.sw64 is not None:
            h = h * self.sw64
        return h / self.sw_sum

    def _gram(self, h, row_idx=None, block_rows=1 << 22):
        """``X̃ᵀ diag(h) X̃`` over all rows (or ``row_idx``), float64 device tensor of shape (d + 1, d + 1).

        By blocks of rows, ``AᵀA`` with ``A = sqrt(h) [X, 1]`` (float64, the
        intercept's column included): one matrix product per block gives the
        whole matrix, and X is read once. No ridge term and no dropping of the
        intercept row here.
        """
        d = self.n_features
        H = torch.zeros((d + 1, d + 1), dtype=torch.float64, device=self.device)
        n = self.M.n if row_idx is None else len(row_idx)
        if row_idx is not None and self.M.sparse:  # sparse rows by index: zero the others
            full = torch.zeros(self.M.n, dtype=torch.float64, device=self.device)
            full[torch.as_tensor(row_idx, device=self.device)] = h
            return self._gram(full, None, block_rows)
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

    def _weighted_gram(self, h, block_rows=65536, rows=slice(None)):
        """As :meth:`LogisticObjective._weighted_gram` (the Böhning bound uses it), on the device."""
        idx = None if rows == slice(None) else np.arange(self.M.n)[rows]
        H = self._gram(torch.as_tensor(np.asarray(h, dtype=np.float64), device=self.device), idx)
        H = H.cpu().numpy()
        d = self.n_features
        H[np.diag_indices(d)] += self.penalty.curvature()
        return H if self.fit_intercept else H[:d, :d]

    def column_sums_of_squares(self):
        """``sum_i s_i x_ij²`` per column, ndarray of shape (n_features,) (the diagonal preconditioner)."""
        return self.M.column_sums_of_squares(self.sw64).cpu().numpy()

    def hessian(self, theta, block_rows=None):
        """Dense Hessian of f, ndarray of shape (n_params, n_params), formed on the device in float64."""
        d, K = self.n_features, self.n_classes
        if K == 1:
            return self._weighted_gram_device(self._hessian_weights_device(theta))
        P = self._hessian_weights_device(theta)
        s = (torch.ones(self.M.n, dtype=torch.float64, device=self.device) if self.sw64 is None
             else self.sw64) / self.sw_sum
        p1 = d + 1
        H = torch.zeros((p1, K, p1, K), dtype=torch.float64, device=self.device)
        B_flat = torch.zeros((p1 * K, p1 * K), dtype=torch.float64, device=self.device)
        block_rows = block_rows or max(1, (1 << 24) // (p1 * K))
        for start in range(0, self.M.n, block_rows):
            stop = min(self.M.n, start + block_rows)
            Xt = torch.cat([self.M.dense_rows(start, stop),
                            torch.ones((stop - start, 1), dtype=torch.float64, device=self.device)], dim=1)
            Pb, sb = P[start:stop], s[start:stop]
            for k in range(K):
                H[:, k, :, k] += (Xt * (sb * Pb[:, k])[:, None]).T @ Xt
            B = (Xt[:, :, None] * (sb.sqrt()[:, None] * Pb)[:, None, :]).reshape(Xt.shape[0], -1)
            B_flat += B.T @ B
        H = (H.reshape(p1 * K, p1 * K) - B_flat).cpu().numpy()
        if not self.fit_intercept:
            H = H[:d * K, :d * K]
        H[np.diag_indices(d * K)] += self.penalty.curvature()
        return H

    def _weighted_gram_device(self, h):
        H = self._gram(h).cpu().numpy()
        d = self.n_features
        H[np.diag_indices(d)] += self.penalty.curvature()
        return H if self.fit_intercept else H[:d, :d]

    def hessian_operator(self, theta):
        """``v -> ∇²f(theta) v`` on the device (two passes over X per product)."""
        K, d = self.n_classes, self.n_features
        hw = self._hessian_weights_device(theta)
        s = None if self.sw64 is None else self.sw64[:, None]
        l2 = self.penalty.curvature()

        def hessp(v):
            V = self._theta_matrix(v)
            U = self._scores(V)
            if K == 1:
                T = hw[:, None] * U
            else:
                T = hw * U
                T -= hw * T.sum(dim=1, keepdim=True)
                if s is not None:
                    T *= s
                T /= self.sw_sum
            out = torch.empty((d + 1, K), dtype=torch.float64, device=self.device)
            out[:d] = self._xtr(T) + l2 * V[:-1]
            out[d] = T.sum(0)
            out = out.reshape(-1).cpu().numpy()
            return out if self.fit_intercept else out[:d * K]

        return hessp

    # -- SGD on the device ----------------------------------------------------------------------
    def sgd_epoch(self, run, st, live):
        """One epoch of :mod:`logitgd.solvers.sgd` on the device, no host sync per step."""
        return _sgd_epoch(self, _Identity(self), run, st, live)


class TorchLogisticObjective(_TorchData, LogisticObjective):
    """:class:`~logitgd.objective.LogisticObjective` with X, y and the weights on a torch device.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix or torch tensor (dense, or sparse CSR) of shape (n, d)
    y : ndarray of shape (n,), values in {0, 1}
    device : str or torch.device
        Where to compute; a tensor X with ``device="cpu"`` stays on its own device.
    storage_dtype : {None, "bfloat16", "float16"}
        Store dense X in 2 bytes per entry (arithmetic stays float64).
    use_kernel : {"auto", True, False}
        The fused Triton kernel: on CUDA when it fits ("auto"), also under
        ``TRITON_INTERPRET=1`` on the CPU (True), or never (False).
    """

    def __init__(self, X, y, sample_weight=None, fit_intercept=True, penalty=None, device="cuda",
                 storage_dtype=None, use_kernel="auto"):
        LogisticObjective.__init__(self, _ShapeOnly(X), y, sample_weight=sample_weight,
                                   fit_intercept=fit_intercept, penalty=penalty, use_kernel=False)
        self._init_device(X, y, sample_weight, device, storage_dtype, use_kernel)

    def _kernel_fits(self, X):
        return False

    preconditioner = None  # set below (TorchPreconditioned)


class TorchMultinomialObjective(_TorchData, MultinomialObjective):
    """:class:`~logitgd.objective.MultinomialObjective` with its data on a torch device (parameters as
    :class:`TorchLogisticObjective`, plus ``n_classes``)."""

    def __init__(self, X, y, n_classes, sample_weight=None, fit_intercept=True, penalty=None, device="cuda",
                 storage_dtype=None, use_kernel="auto"):
        MultinomialObjective.__init__(self, _ShapeOnly(X), y, n_classes, sample_weight=sample_weight,
                                      fit_intercept=fit_intercept, penalty=penalty, use_kernel=False)
        self._init_device(X, y, sample_weight, device, storage_dtype, use_kernel)

    preconditioner = None


class _ShapeOnly:
    """What the base constructors look at: the shape (the data itself goes to the device)."""

    def __init__(self, X):
        self.shape = tuple(X.shape)
        self.dtype = np.float64
        self.nnz = 0


class TorchPreconditioned(Preconditioned):
    """:class:`~logitgd.objective.Preconditioned` whose diagonal bound and SGD epochs run on the device."""

    def _diagonal_bound(self):
        obj = self.objective
        diag = obj.column_sums_of_squares() * (obj._BOUND / obj.sw_sum) + obj.penalty.curvature()
        if obj.fit_intercept:
            diag = np.append(diag, obj._BOUND)
        D = np.sqrt(diag)
        D[D == 0] = 1.0
        return np.repeat(D, self._K)

    def sgd_epoch(self, run, st, live):
        return _sgd_epoch(self.objective, _DeviceCoordinates(self), run, st, live)


TorchLogisticObjective.preconditioner = TorchPreconditioned
TorchMultinomialObjective.preconditioner = TorchPreconditioned


class _Identity:
    """Solver coordinates = theta (no preconditioner), on the device."""

    def __init__(self, obj):
        self.p = obj.n_params

    def to_original(self, v):
        return v

    def pull_back(self, g):
        return g

    def soft_threshold_scale(self):
        return None


class _DeviceCoordinates:
    """The map ``theta = R⁻¹ v`` of a :class:`Preconditioned` and its pull-back, on the device."""

    def __init__(self, pre):
        obj = pre.objective
        self.K = pre._K
        self.dense = pre._dense
        if self.dense:
            self.R = torch.as_tensor(pre._R, device=obj.device)
        else:
            self.D = torch.as_tensor(pre._D, device=obj.device)

    def to_original(self, v):
        if self.dense:
            V = v.reshape(-1, self.K)
            return torch.linalg.solve_triangular(self.R, V, upper=True).reshape(-1)
        return v / self.D

    def pull_back(self, g):
        if self.dense:
            G = g.reshape(-1, self.K)
            return torch.linalg.solve_triangular(self.R.T, G, upper=False).reshape(-1)
        return g / self.D

    def soft_threshold_scale(self):
        # prox in v of h(v / D): threshold v_j by step * l1 / D_j (diagonal only, see Preconditioned.prox)
        return None if self.dense else self.D


def _batch_order(rng, n, bs):
    """The rows of one epoch in batch order, and the batch boundaries: the same batches as
    ``_Run._batches`` (``rng.permutation``, ``array_split``, each batch sorted), without a list of arrays."""
    if bs >= n:
        return np.arange(n), np.array([0, n])
    nb = -(-n // bs)
    perm = rng.permutation(n)
    sizes = np.full(nb, n // nb)
    sizes[:n % nb] += 1
    bounds = np.zeros(nb + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    ids = np.repeat(np.arange(nb), sizes)
    return perm[np.lexsort((perm, ids))], bounds


def _sgd_epoch(obj, coords, run, st, live):
    """One SGD epoch on the device: the loop of ``_Run._epoch`` with x, the average and every batch there.

    Per step only device work is queued (gather the batch, scores, gradient,
    step, prox, average); the step size is a host float. Non-finite
    gradients are flagged on the device and checked once at the end of the
    epoch (the epoch is then undone by the solver, as on the CPU).
    """
    from .solvers.sgd import _Blowup

    dev, K, d = obj.device, obj.n_classes, obj.n_features
    n = obj.M.n
    order, bounds = _batch_order(st.rng, n, run.bs)
    if obj.M.sparse and len(bounds) > 2:  # rows of the epoch in batch order, one gather
        Xe = obj.M.take(order)
        indptr_e = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.diff(obj.M.indptr)[order], out=indptr_e[1:])
    order_d = torch.as_tensor(order, device=dev)
    y_e = obj.yd.index_select(0, order_d)
    if K == 1:
        y_e = y_e.double()
    sw_e = None if obj.sw64 is None else obj.sw64.index_select(0, order_d)
    scale_norm = obj.sw_sum / n
    l2, l1 = obj.penalty.l2, obj.penalty.l1
    smooth = run.smooth
    p = obj.n_params
    n_coef = obj.n_coef
    x = torch.as_tensor(st.x, device=dev)
    avg = None if st.avg is None else torch.as_tensor(st.avg, device=dev)
    t, k = st.t, st.avg_count
    averaging = run.average and st.epoch >= 1
    if averaging and avg is None:
        avg, k = torch.zeros_like(x), 0
    step_vec = None if st.scale is None else 1.0 / torch.as_tensor(st.scale, device=dev)
    thr_scale = coords.soft_threshold_scale()
    bad = torch.zeros((), dtype=torch.bool, device=dev)
    x_prev = x
    step = st.eta
    G = torch.empty((d + 1, K), dtype=torch.float64, device=dev)
    for i in range(len(bounds) - 1):
        a, b = int(bounds[i]), int(bounds[i + 1])
        if obj.M.sparse:
            if len(bounds) > 2:
                o0, o1 = int(indptr_e[a]), int(indptr_e[b])
                Xb = _csr_tensor(Xe.crow_indices()[a:b + 1] - o0, Xe.col_indices()[o0:o1],
                                 Xe.values()[o0:o1], (b - a, d))
            else:
                Xb = obj.M.data
        else:
            Xb = obj.M.data if len(bounds) == 2 else obj.M.data.index_select(0, order_d[a:b])
        theta = coords.to_original(x)
        T = torch.zeros((d + 1) * K, dtype=torch.float64, device=dev)
        T[:theta.shape[0]] = theta
        T = T.reshape(d + 1, K)
        _, R = obj._terms(_small(Xb, T[:-1]) + T[-1], y_e[a:b], True)  # float64, as on the CPU
        if sw_e is not None:
            R = R * sw_e[a:b, None]
        G[:-1] = _small_t(Xb, R)
        G[-1] = R.sum(0, dtype=torch.float64)
        g = G.reshape(-1)[:p] / ((b - a) * scale_norm)
        if l2:
            g[:n_coef] += l2 * theta[:n_coef]
        g = coords.pull_back(g)
        bad |= ~torch.isfinite(g).all()
        t += 1
        if run.lr == "invscaling":
            step = st.eta0 / t ** run.power_t
        s = step if step_vec is None else step * step_vec
        x_new = x - s * g
        if not smooth:
            x_new = _soft_threshold(x_new, s, l1, n_coef, thr_scale)
        if averaging:
            k += 1
            avg = avg + (x_new - avg) / k
        x_prev, x = x, x_new
    if bool(bad):
        raise _Blowup("a mini-batch value or gradient became non-finite")
    s = step if step_vec is None else step * step_vec
    gnorm = float(((x_prev - x) / s).abs().max()) if p else 0.0
    st.x = x.cpu().numpy()
    st.t, st.avg_count = t, k
    st.avg = None if avg is None else avg.cpu().numpy()
    live[0] = (st.x, st.t, st.avg, st.avg_count)
    return gnorm


def _soft_threshold(v, step, l1, n_coef, scale):
    """Prox of the lasso term on the coefficients (never the intercepts), in the solver's coordinates.

    ``scale`` None: theta coordinates, threshold ``step * l1``. Else v = D theta:
    threshold v_j by ``step_j * l1 / D_j``.
    """
    thr = step * l1 if scale is None else step * l1 / scale
    out = v.clone()
    c = v[:n_coef]
    t = thr if not torch.is_tensor(thr) else thr[:n_coef]
    out[:n_coef] = torch.sign(c) * torch.clamp(c.abs() - t, min=0.0)
    return out


def make_objective(X, y, n_classes, sample_weight, fit_intercept, penalty, device, storage_dtype=None):
    """The device objective for the estimator: binary (``n_classes == 1``) or softmax."""
    if n_classes == 1:
        return TorchLogisticObjective(X, y, sample_weight=sample_weight, fit_intercept=fit_intercept,
                                      penalty=penalty, device=device, storage_dtype=storage_dtype)
    return TorchMultinomialObjective(X, y, n_classes, sample_weight=sample_weight, fit_intercept=fit_intercept,
                                     penalty=penalty, device=device, storage_dtype=storage_dtype)


def check_tensor_X(X):
    """Validate a torch X for fit: 2-D, float32/float64 (any layout we support), finite, non-empty.

    Returns X detached from autograd (the same memory): a tensor that requires
    grad, or a parameter, is data here.
    """
    require()
    X = X.detach()
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D tensor for X, got shape {tuple(X.shape)}.")
    if X.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"X as a torch tensor must be float32 or float64, got {X.dtype}.")
    if X.layout not in (torch.strided, torch.sparse_csr):
        raise ValueError(f"X as a torch tensor must be dense (strided) or sparse CSR, not {X.layout}.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X has shape {tuple(X.shape)}: it needs at least one sample and one feature.")
    vals = X.values() if X.layout == torch.sparse_csr else X
    if not bool(torch.isfinite(vals).all()):
        raise ValueError("Input X contains NaN or infinity.")
    return X


def validate_tensor_xy(estimator, X, y, reset):
    """The estimator's checks for a torch X (kept on its device): ``(X, y as a 1-D ndarray or None)``.

    Sets (``reset``) or checks ``n_features_in_``; y (small) comes to the host.
    """
    from sklearn.utils.validation import check_consistent_length, column_or_1d

    X = check_tensor_X(X)
    d = int(X.shape[1])
    if reset:
        estimator.n_features_in_ = d
        estimator.__dict__.pop("feature_names_in_", None)
    elif d != estimator.n_features_in_:
        raise ValueError(f"X has {d} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    if y is None:
        return X, None
    y = column_or_1d(np.asarray(to_numpy(y)), warn=True)
    check_consistent_length(np.empty((X.shape[0], 0)), y)
    return X, y


def validate(estimator, X, y, sample_weight, reset, classes):
    """The estimator's ``_validate_xy`` for a torch X with numeric labels, the label work on X's device.

    ``(X, y as class indices (ndarray), sample_weight or None)``, setting
    ``classes_`` when ``reset``; None when the labels are not numeric or
    ``class_weight`` is set (the estimator then takes its host path). Sorting
    millions of labels on the host (several ``np.unique``) costs seconds;
    on the GPU, milliseconds.
    """
    if estimator.class_weight is not None:
        return None
    yt = y if is_tensor(y) else None
    if yt is None:
        yh = np.asarray(y)
        if yh.dtype.kind not in "biuf":
            return None
        yt = torch.as_tensor(yh)
    X, _ = validate_tensor_xy(estimator, X, None, reset)
    yt = yt.detach().to(X.device)
    if yt.ndim == 2 and yt.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                      "to (n_samples, ), for example using ravel().", DataConversionWarning, stacklevel=4)
        yt = yt[:, 0]
    if yt.ndim != 1 or yt.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}), got shape {tuple(yt.shape)}.")
    is_bool = yt.dtype == torch.bool
    if is_bool:
        yt = yt.to(torch.int64)
    if yt.is_floating_point() and not bool(torch.isfinite(yt).all()):
        raise ValueError("Input y contains NaN or infinity.")
    labels = torch.unique(yt)
    if yt.is_floating_point() and not bool((labels == labels.round()).all()):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which expects "
                         "discrete classes on a regression target with continuous values.")
    labels_h = labels.cpu().numpy()
    if is_bool:  # classes_ False/True, as on the host
        labels_h = labels_h.astype(bool)
    if reset:
        found = labels_h if classes is None else np.unique(np.asarray(classes))
        if len(found) < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, but the data "
                             f"contains only one class: {found[0]!r}.")
        estimator.classes_ = found
    unknown = np.setdiff1d(labels_h, estimator.classes_)
    if unknown.size:
        raise ValueError(f"y has labels {list(unknown[:5])} not in classes_ {list(estimator.classes_)}.")
    # compared in the labels' own kind: int64 ids above 2**53 are not all distinct as float64
    key = (np.float64, torch.float64) if yt.is_floating_point() else (np.int64, torch.int64)
    cls = torch.as_tensor(np.asarray(estimator.classes_).astype(key[0]), device=X.device)
    yk = yt.to(key[1])
    if len(estimator.classes_) == 2:
        y_enc = (yk == cls[1]).to(torch.float64).cpu().numpy()
    else:
        y_enc = torch.searchsorted(cls, yk).cpu().numpy().astype(np.intp)
    sw = estimator._check_sample_weight(to_numpy(sample_weight), X)
    return X, y_enc, sw


def to_numpy(a):
    """A tensor (any device) as a NumPy array; anything else unchanged."""
    if is_tensor(a):
        return a.detach().cpu().numpy()
    return a


def decision_function(X, coef, intercept):
    """``X @ coef.T + intercept`` for a torch X, computed where X is; ndarray of shape (n, K)."""
    dt = torch.float64 if X.dtype == torch.float64 else torch.float32
    W = torch.as_tensor(coef.T, device=X.device).to(dt)
    Z = (X @ W if X.layout == torch.strided else X.to(dt) @ W) + torch.as_tensor(intercept, device=X.device).to(dt)
    return Z.to("cpu", torch.float64).numpy()


def sync(device=None):
    """Wait for queued device work (for timing)."""
    if AVAILABLE and torch.cuda.is_available():
        torch.cuda.synchronize(device)


__all__ = ["AVAILABLE", "INSTALL_HINT", "DeviceMatrix", "TorchLogisticObjective", "TorchMultinomialObjective",
           "TorchPreconditioned", "make_objective", "require", "resolve_device", "is_tensor"]

