"""The objective: log-loss of a linear model on data, plus a penalty.

    J(w, b) = f(w, b) + h(w)
    f(w, b) = sum_i s_i L(y_i, x_i·w + b) / sum_i s_i  +  ridge part of the penalty
    h(w)    = lasso part of the penalty (zero for None and "l2")

with sample weights ``s_i`` (all ones by default, so J is the mean log-loss of
the seeds) and the intercept ``b`` never penalized. The gradient of f is
``Xᵀ(s ∘ (p − y)) / sum(s) + alpha (1 - l1_ratio) w`` and
``sum(s ∘ (p − y)) / sum(s)`` for ``b``. Solvers see a flat parameter vector
``theta = [w_1, …, w_d, b]`` (no ``b`` without an intercept) and:

* ``value``, ``grad``, ``value_and_grad``: the smooth part f;
* ``nonsmooth_value`` and ``prox``: the non-smooth part h (``is_smooth`` when
  h is zero); ``cost = value + nonsmooth_value`` is J itself;
* ``hessian``, ``hessian_operator``: the Hessian of f, dense or as products;
* ``batch_value_and_grad``: f and its gradient on a subset of rows.

Dense C-contiguous data goes through the fused one-pass kernel of
:mod:`logitgd._kernels` when numba is there; everything else through the
generic NumPy path below, which is also the reference the kernel is tested
against.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from . import _kernels
from .loss import BinaryLogLoss
from .penalty import NoPenalty


class LogisticObjective:
    """Penalized, weighted mean log-loss of ``sigmoid(X w + b)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,), values in {0, 1}
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    penalty : penalty object (see :mod:`logitgd.penalty`) or None
    use_kernel : bool or "auto"
        Use the fused kernel where the data allows it (dense, C-contiguous,
        float32/float64, numba installed): always (True), never (False), or
        when X has at least ``KERNEL_MIN_SIZE`` entries ("auto"), below which
        NumPy is as fast and no kernel needs compiling or loading.
    """

    KERNEL_MIN_SIZE = 1_000_000
    BLOCK_ROWS = 65536

    def __init__(self, X, y, sample_weight=None, fit_intercept=True, penalty=None,
                 use_kernel="auto"):
        self.X = X
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.fit_intercept = bool(fit_intercept)
        self.penalty = NoPenalty() if penalty is None else penalty
        n, d = X.shape
        if sample_weight is None:
            self.sample_weight = None
            self.sw_sum = float(n)
        else:
            self.sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
            self.sw_sum = float(self.sample_weight.sum())
        self.n_features = d
        self.n_params = d + self.fit_intercept
        self.loss = BinaryLogLoss()
        if use_kernel == "auto":
            use_kernel = X.shape[0] * X.shape[1] >= self.KERNEL_MIN_SIZE
        self.uses_kernel = bool(
            use_kernel and _kernels.AVAILABLE and isinstance(X, np.ndarray)
            and X.dtype in (np.float32, np.float64) and X.flags.c_contiguous
        )

    # -- parameters ---------------------------------------------------------
    def split(self, theta):
        """``(w, b)`` from the flat parameter vector."""
        if self.fit_intercept:
            return theta[:-1], float(theta[-1])
        return theta, 0.0

    def raw_prediction(self, theta):
        """Raw scores ``z = X w + b``, ndarray of shape (n_samples,)."""
        w, b = self.split(theta)
        return self.X @ w.astype(self.X.dtype, copy=False) + b

    # -- value and gradient -------------------------------------------------
    def _data_term(self, theta, want_grad):
        """``(sum_i s_i L_i, gradient sums of shape (d + 1,) or None)``."""
        w, b = self.split(theta)
        if self.uses_kernel:
            sw = self.sample_weight if self.sample_weight is not None else np.empty(0)
            g = np.empty(self.n_features + 1) if want_grad else None
            loss = _kernels.dense_loss_grad(self.X, self.y, sw, np.ascontiguousarray(w, np.float64), b, g)
            return loss, g
        if self.X.dtype == np.float64:
            return self._data_term_rows(self.X, self.y, self.sample_weight, w, b, want_grad)
        # Other dtypes (float32): float64 arithmetic, one block of rows at a
        # time, so the temporary copy stays small and sums stay accurate.
        loss, g = 0.0, np.zeros(self.n_features + 1) if want_grad else None
        for start in range(0, self.X.shape[0], self.BLOCK_ROWS):
            rows = slice(start, start + self.BLOCK_ROWS)
            sw = None if self.sample_weight is None else self.sample_weight[rows]
            part, g_part = self._data_term_rows(np.asarray(self.X[rows], dtype=np.float64), self.y[rows],
                                                sw, w, b, want_grad)
            loss += part
            if want_grad:
                g += g_part
        return loss, g

    def _data_term_rows(self, X, y, sw, w, b, want_grad):
        """Generic NumPy data term on float64 rows: two passes over ``X``."""
        z = X @ w + b
        if not want_grad:
            per_sample = self.loss.loss(y, z)
        else:
            per_sample, r = self.loss.loss_gradient(y, z)
        if sw is not None:
            per_sample = per_sample * sw
        loss = float(per_sample.sum())
        if not want_grad:
            return loss, None
        if sw is not None:
            r = r * sw
        g = np.empty(X.shape[1] + 1)
        g[:-1] = X.T @ r
        g[-1] = r.sum()
        return loss, g

    def value(self, theta):
        """f(theta), the smooth part of J (all of J for smooth penalties)."""
        loss, _ = self._data_term(theta, want_grad=False)
        return loss / self.sw_sum + self.penalty.smooth_value(self.split(theta)[0])

    def value_and_grad(self, theta):
        """``(f(theta), ∇f(theta))``, the gradient of shape (n_params,)."""
        loss, g = self._data_term(theta, want_grad=True)
        return self._finish(theta, loss / self.sw_sum, g / self.sw_sum)

    def _finish(self, theta, mean_loss, g):
        """Add the smooth penalty to a data term; drop the intercept slot if unused."""
        w, _ = self.split(theta)
        g[:-1] += self.penalty.smooth_grad(w)
        if not self.fit_intercept:
            g = g[:-1]
        return mean_loss + self.penalty.smooth_value(w), g

    def grad(self, theta):
        """∇f(theta), ndarray of shape (n_params,)."""
        return self.value_and_grad(theta)[1]

    # -- the non-smooth part ------------------------------------------------
    @property
    def is_smooth(self):
        return self.penalty.is_smooth

    def nonsmooth_value(self, theta):
        """h(theta), the lasso part of the penalty."""
        return self.penalty.nonsmooth_value(self.split(theta)[0])

    def cost(self, theta):
        """J(theta) = f(theta) + h(theta)."""
        return self.value(theta) + self.nonsmooth_value(theta)

    def l1_weights(self):
        """Per-parameter strength of h, ndarray of shape (n_params,) (0 for the intercept)."""
        lam = np.full(self.n_params, self.penalty.l1)
        if self.fit_intercept:
            lam[-1] = 0.0
        return lam

    def intercept_only(self):
        """Parameters of the best constant model: w = 0, b = logit(weighted mean of y).

        The optimum of J when the coefficients are held at zero (the penalty
        does not touch b), and the usual starting point of IRLS.
        """
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            s = self.sample_weight
            ybar = float(self.y.mean() if s is None else s @ self.y / self.sw_sum)
            ybar = min(max(ybar, 1e-10), 1 - 1e-10)
            theta[-1] = np.log(ybar) - np.log1p(-ybar)
        return theta

    def optimality(self, theta, grad):
        """Max-norm of the smallest subgradient of J at ``theta``, given ``grad`` = ∇f(theta).

        Zero exactly at the optimum; equal to ``max|grad|`` for smooth penalties.
        For a coefficient at zero the lasso term can absorb up to ``l1`` of the
        gradient; elsewhere it adds ``l1 * sign(w_j)``.
        """
        l1 = self.penalty.l1
        if not l1:
            return float(np.max(np.abs(grad))) if grad.size else 0.0
        d = self.n_features
        w, gw = theta[:d], grad[:d]
        sub = np.where(w != 0, np.abs(gw + l1 * np.sign(w)), np.maximum(np.abs(gw) - l1, 0.0))
        return float(max(sub.max(initial=0.0), np.abs(grad[d:]).max(initial=0.0)))

    def prox(self, theta, step):
        """Proximal step of h: soft-threshold the coefficients (never the intercept).

        ``step`` is a float or an ndarray of shape (n_params,), one step per parameter.
        """
        if self.penalty.is_smooth:
            return theta
        d = self.n_features
        out = np.array(theta, dtype=np.float64)
        out[:d] = self.penalty.prox(out[:d], step if np.ndim(step) == 0 else step[:d])
        return out

    # -- mini-batches ---------------------------------------------------------
    @property
    def n_samples(self):
        return self.X.shape[0]

    def batch_value_and_grad(self, theta, rows):
        """f and its gradient estimated on ``rows`` (an index array or a slice).

        The data term is ``sum_{i in rows} s_i L_i / (|rows| · mean(s))``, an
        unbiased estimate of the full data term when rows are drawn uniformly;
        the penalty is added in full.

        Returns
        -------
        value : float
        grad : ndarray of shape (n_params,)
        """
        X = np.asarray(self.X[rows], dtype=np.float64)
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        w, b = self.split(theta)
        loss, g = self._data_term_rows(X, self.y[rows], sw, w, b, want_grad=True)
        scale = X.shape[0] * self.sw_sum / self.n_samples
        return self._finish(theta, loss / scale, g / scale)

    # -- second order -----------------------------------------------------------
    def _hessian_weights(self, theta):
        """``s_i p_i (1 - p_i) / sum(s)``, ndarray of shape (n_samples,)."""
        h = self.loss.hessian(self.y, self.raw_prediction(theta).astype(np.float64, copy=False))
        if self.sample_weight is not None:
            h = h * self.sample_weight
        return h / self.sw_sum

    def hessian(self, theta, block_rows=65536):
        """Dense Hessian of f, ndarray of shape (n_params, n_params).

        ``X̃ᵀ diag(s p (1 - p)) X̃ / sum(s)`` plus the ridge curvature on the
        coefficients; formed by row blocks (BLAS-3), ``n · n_params²`` flops.
        """
        return self._weighted_gram(self._hessian_weights(theta), block_rows)

    def _weighted_gram(self, h, block_rows=65536, rows=slice(None)):
        """``X̃ᵀ diag(h) X̃`` over ``rows`` plus the ridge curvature (coefficients only)."""
        X = self.X[rows]
        d = self.n_features
        H = np.zeros((d + 1, d + 1))
        tiny = 1e-16 * float(h.max(initial=0.0))
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
            A = np.multiply(Xb, rh[:, None], dtype=np.float64)
            H[:d, :d] += A.T @ A
            H[-1, :d] += rh @ A
            H[-1, -1] += hb.sum()
        H[:d, -1] = H[-1, :d]
        H[np.diag_indices(d)] += self.penalty.curvature()
        return H if self.fit_intercept else H[:d, :d]

    def hessian_operator(self, theta):
        """``v -> ∇²f(theta) v`` without forming the matrix (two passes over X per product)."""
        h = self._hessian_weights(theta)
        X = self.X
        l2 = self.penalty.curvature()
        d = self.n_features

        def hessp(v):
            w = v[:d]
            u = X @ w.astype(X.dtype, copy=False)
            if self.fit_intercept:
                u = u + v[d]
            hu = h * u
            out = np.empty_like(v, dtype=np.float64)
            out[:d] = X.T @ hu.astype(X.dtype, copy=False) + l2 * w
            if self.fit_intercept:
                out[d] = hu.sum()
            return out

        return hessp

    # -- curvature ----------------------------------------------------------
    def hessian_bound(self, max_rows=None, block_rows=65536):
        """Böhning's bound on the Hessian, ``X̃ᵀ S X̃ / (4 sum(s)) + penalty``.

        ``X̃ = [X, 1]`` (the column of ones only with an intercept). Since
        ``p (1 - p) <= 1/4``, this matrix dominates the Hessian of J
        everywhere, so ``M⁻¹∇J`` is a step that never overshoots.

        Parameters
        ----------
        max_rows : int or None
            If X has more rows, estimate the data part from every k-th row
            (``n·d²`` flops become ``max_rows·d²``). The estimate is a
            preconditioner, no longer a guaranteed bound.

        Returns
        -------
        M : ndarray of shape (n_params, n_params), float64
        """
        n = self.X.shape[0]
        stride = 1 if max_rows is None or n <= max_rows else -(-n // max_rows)
        rows = slice(None, None, stride)
        m = len(range(n)[rows])
        h = np.ones(m) if self.sample_weight is None else self.sample_weight[rows].copy()
        h /= 4.0 * (h.sum() or 1.0)
        return self._weighted_gram(h, block_rows, rows)


class Preconditioned:
    """The objective in new coordinates ``v`` with ``theta = R⁻¹ v``.

    With ``RᵀR = M`` a bound on the Hessian (see
    :meth:`LogisticObjective.hessian_bound`), a unit gradient step in ``v``
    is the step ``theta - M⁻¹ ∇J(theta)`` in the original coordinates: the
    Böhning–Lindsay bound step, which turns badly scaled and correlated
    columns into a well-conditioned problem. ``R`` is the Cholesky factor of
    ``M`` (dense, for up to ``max_dense`` parameters, where forming ``M`` costs
    ``n·max_dense²`` flops at BLAS-3 speed) or the square root of
    its diagonal. With a lasso term the diagonal is used whatever the size:
    only then is the proximal step in ``v`` still a per-coordinate soft
    threshold (by ``step / D_j``).

    Parameters
    ----------
    objective : LogisticObjective
    max_dense : int
        Largest number of parameters for which the full matrix is factored.
    """

    def __init__(self, objective, max_dense=1024):
        self.objective = objective
        self.n_params = objective.n_params
        if self.n_params <= max_dense and objective.is_smooth:
            # From at most max(100k, 10 p²) rows: the line search covers the
            # sampling error, and forming M costs a few gradient passes at most.
            M = objective.hessian_bound(max_rows=max(100_000, 10 * self.n_params ** 2))
        else:
            M = None
        self._dense = M is not None
        if self._dense:
            # Factor the unit-diagonal version, so the jitter is relative to
            # each column's own scale. The jitter keeps the bound a bound and
            # caps the step along (nearly) collinear directions at 1e6 times
            # the others: beyond that, rounding in those directions would be
            # blown up into the coefficients.
            D = np.sqrt(np.diag(M)).copy()
            D[D == 0] = 1.0
            C = M / np.outer(D, D)
            jitter = 1e-6
            while True:
                try:
                    Rc = scipy.linalg.cholesky(C + jitter * np.eye(len(C)), lower=False)
                    break
                except np.linalg.LinAlgError:
                    jitter *= 100
            self._R = Rc * D[None, :]
        else:
            self._D = self._diagonal_bound()

    def _diagonal_bound(self):
        obj = self.objective
        X = obj.X
        sw = obj.sample_weight
        sq = np.einsum("ij,ij->j", X, X, dtype=np.float64) if sw is None else (
            np.einsum("ij,ij,i->j", X, X, sw, dtype=np.float64))
        diag = sq / (4.0 * obj.sw_sum) + obj.penalty.curvature()
        if obj.fit_intercept:
            diag = np.append(diag, 0.25)
        D = np.sqrt(diag)
        D[D == 0] = 1.0
        return D

    def to_original(self, v):
        """``theta = R⁻¹ v``."""
        if self._dense:
            return scipy.linalg.solve_triangular(self._R, v, lower=False)
        return v / self._D

    def from_original(self, theta):
        """``v = R theta``."""
        if self._dense:
            return self._R @ theta
        return theta * self._D

    def _pull_back(self, g):
        """Gradient in ``v``: ``R⁻ᵀ ∇J``."""
        if self._dense:
            return scipy.linalg.solve_triangular(self._R, g, lower=False, trans="T")
        return g / self._D

    def value(self, v):
        return self.objective.value(self.to_original(v))

    @property
    def is_smooth(self):
        return self.objective.is_smooth

    def nonsmooth_value(self, v):
        return self.objective.nonsmooth_value(self.to_original(v))

    def cost(self, v):
        return self.objective.cost(self.to_original(v))

    def prox(self, v, step):
        if self.objective.is_smooth:
            return v
        # h(v / D) thresholds coordinate j by step * l1 / D_j: a prox in theta
        # with per-coordinate steps step / D_j, mapped back.
        return self.from_original(self.objective.prox(self.to_original(v), step / self._D ** 2))

    def value_and_grad(self, v):
        f, g = self.objective.value_and_grad(self.to_original(v))
        return f, self._pull_back(g)

    @property
    def n_samples(self):
        return self.objective.n_samples

    def batch_value_and_grad(self, v, rows):
        f, g = self.objective.batch_value_and_grad(self.to_original(v), rows)
        return f, self._pull_back(g)

    def grad(self, v):
        return self.value_and_grad(v)[1]
