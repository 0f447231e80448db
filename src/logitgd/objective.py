"""The objective: log-loss of a linear model on a backend's rows, plus a penalty.

    J(W, b) = f(W, b) + h(W)
    f(W, b) = sum_i s_i L(y_i, x_i W + b) / sum_i s_i  +  ridge part of the penalty
    h(W)    = lasso part of the penalty (zero for None and "l2")

with sample weights ``s_i`` (all ones by default, so J is the mean log-loss of
the seeds) and the intercept ``b`` never penalized. ``L`` is the binary
log-loss of one score column (sigmoid link) or the softmax cross-entropy of K.
The gradient of f is ``X̃ᵀ(s ∘ (P − Y)) / sum(s) + alpha (1 - l1_ratio) W``.
Solvers see a flat parameter vector ``theta``: the matrix ``[W; b]`` of shape
(d + intercept, K) flattened row by row (K = 1 for two classes), and:

* ``value``, ``grad``, ``value_and_grad``: the smooth part f;
* ``nonsmooth_value`` and ``prox``: the non-smooth part h (``is_smooth`` when
  h is zero); ``cost = value + nonsmooth_value`` is J itself;
* ``hessian``, ``hessian_operator``: the Hessian of f, dense or as products;
* ``batch_value_and_grad``: f and its gradient on a subset of rows.

:class:`LinearObjective` is composed, not specialized: it is given the rows
(a backend's data, see :mod:`logitgd.backends` and :mod:`logitgd.rows`), the
loss and the penalty, and writes the theta layout, the penalty and the
normalization once; every sum over rows is a function of :mod:`logitgd.rows`
that the data's ``map`` runs where the rows are.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import scipy.linalg

from . import rows as stats
from ._numerics import namespace
from .backends.numpy import NumpyRows
from .backends.numpy.rows import KERNEL_MIN_SIZE
from .loss import make_loss
from .penalty import NoPenalty
from .preconditioned import Preconditioned  # noqa: F401 (the objective's coordinates, here for callers)
from .solvers.sgd_epoch import Blowup, Iterate


class LinearObjective:
    """Penalized, weighted mean log-loss of a linear model with one (binary) or K score columns.

    Parameters
    ----------
    data : rows object of a backend
        :class:`~logitgd.backends.numpy.NumpyRows`, the torch backend's
        ``TorchRows`` or the Dask backend's ``DaskRows`` (made by
        :func:`logitgd.backends.as_data`).
    penalty : penalty object (see :mod:`logitgd.penalty`) or None
    fit_intercept : bool
    loss : loss object or None
        Default: the binary log-loss for ``data.n_classes == 1``, else the
        softmax cross-entropy.
    """

    def __init__(self, data, penalty=None, fit_intercept=True, loss=None):
        self.data = data
        self.n_classes = data.n_classes
        self.loss = make_loss(self.n_classes) if loss is None else loss
        self.penalty = NoPenalty() if penalty is None else penalty
        self.fit_intercept = bool(fit_intercept)
        self.n_features = data.d
        self.sw_sum = data.sw_sum
        # theta is the matrix [W; b] of shape (d + intercept, n_classes),
        # flattened row by row: the coefficients come first, then the intercepts.
        self.n_coef = self.n_features * self.n_classes
        self.n_params = (self.n_features + self.fit_intercept) * self.n_classes

    @property
    def uses_kernel(self):
        return self.data.uses_kernel

    @property
    def sparse(self):
        return self.data.sparse

    @property
    def n_samples(self):
        return self.data.n

    @property
    def column_newton(self):
        """Whether :meth:`lasso_newton_direction` works here (binary data in a scipy.sparse matrix)."""
        return self.data.column_newton

    def on_rows(self, rows):
        """This objective over other rows, normalized by their own weight sum (a Dask chunk's on its worker;
        None for a template to send there)."""
        out = copy.copy(self)
        out.data = rows
        out.sw_sum = None if rows is None else rows.sw_sum
        return out

    # -- parameters ---------------------------------------------------------
    def split(self, theta):
        """``(W, b)``: binary ``(w of shape (d,), float b)``; K classes ``(W of shape (d, K), b of shape (K,))``."""
        if self.n_classes == 1:
            if self.fit_intercept:
                return theta[:-1], float(theta[-1])
            return theta, 0.0
        K = self.n_classes
        W = theta[:self.n_coef].reshape(-1, K)
        b = theta[self.n_coef:] if self.fit_intercept else np.zeros(K)
        return W, b

    def _split_direction(self, v):
        """:meth:`split` for a direction: the intercept part of a binary v kept as a NumPy scalar."""
        if self.n_classes == 1:
            return (v[:-1], v[-1]) if self.fit_intercept else (v, 0.0)
        return self.split(v)

    def coefficients(self, theta):
        """The penalized part of theta (all but the intercepts), flat."""
        return theta[:self.n_coef]

    def raw_prediction(self, theta):
        """Raw scores ``Z = X W + b``: ndarray of shape (n_samples,) (binary) or (n_samples, K), float64."""
        return np.concatenate(self.data.map(stats.scores, *self.split(theta)))

    # -- value and gradient -------------------------------------------------
    def _data_term(self, theta, want_grad):
        """``(sum_i s_i L_i, gradient sums of shape ((d + 1) K,) or None)``."""
        return self.data.map_data_term(self.loss, *self.split(theta), want_grad)

    def value(self, theta):
        """f(theta), the smooth part of J (all of J for smooth penalties)."""
        loss, _ = self._data_term(theta, want_grad=False)
        return loss / self.sw_sum + self.penalty.smooth_value(self.coefficients(theta))

    def value_and_grad(self, theta):
        """``(f(theta), ∇f(theta))``, the gradient of shape (n_params,)."""
        loss, g = self._data_term(theta, want_grad=True)
        return self._finish(theta, loss / self.sw_sum, g / self.sw_sum)

    def value_and_grad_at_scores(self, theta, Z):
        """:meth:`value_and_grad` given the host raw scores ``Z = X W + b`` at ``theta`` of rows held in one part
        (in memory): one pass over X for the gradient, none for the scores (a path's KKT check, whose scores come
        from the columns it fitted)."""
        (total, g), = self.data.map(stats.term_from_scores, self.loss, self.data.asarray(Z), True)
        return self._finish(theta, float(total) / self.sw_sum, g / self.sw_sum)

    def _finish(self, theta, mean_loss, g):
        """Add the smooth penalty to a data term's value and gradient (see :meth:`_finish_grad`)."""
        return mean_loss + self.penalty.smooth_value(self.coefficients(theta)), self._finish_grad(theta, g)

    def _finish_grad(self, theta, g):
        """Add the smooth penalty's gradient to a data term's (host or device arrays); drop unused intercept slots."""
        g[:self.n_coef] += self.penalty.smooth_grad(self.coefficients(theta))
        return g if self.fit_intercept else g[:self.n_coef]

    def _batch_scale(self, m):
        """``m · mean(s)``: a batch of ``m`` rows' data term over this is an unbiased estimate of the mean's."""
        return m * self.sw_sum / self.n_samples

    def grad(self, theta):
        """∇f(theta), ndarray of shape (n_params,)."""
        return self.value_and_grad(theta)[1]

    # -- the non-smooth part ------------------------------------------------
    @property
    def is_smooth(self):
        return self.penalty.is_smooth

    def nonsmooth_value(self, theta):
        """h(theta), the lasso part of the penalty."""
        return self.penalty.nonsmooth_value(self.coefficients(theta))

    def cost(self, theta):
        """J(theta) = f(theta) + h(theta)."""
        return self.value(theta) + self.nonsmooth_value(theta)

    def l1_weights(self):
        """Per-parameter strength of h, ndarray of shape (n_params,) (0 for the intercept)."""
        lam = np.zeros(self.n_params)
        lam[:self.n_coef] = self.penalty.l1
        return lam

    def intercept_only(self):
        """Parameters of the best constant model, from the data's label summary.

        Binary: w = 0, b = logit(weighted mean of y); K classes: W = 0 and
        ``b_k = log(weighted share of class k)``, centered. The optimum of J
        when the coefficients are held at zero (the penalty does not touch b),
        and the usual starting point of IRLS.
        """
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            share = self.data.label_sums() / self.sw_sum
            if self.n_classes == 1:
                ybar = min(max(float(share[1]), 1e-10), 1 - 1e-10)
                theta[-1] = np.log(ybar) - np.log1p(-ybar)
            else:
                logs = np.log(np.maximum(share, 1e-10))
                theta[self.n_coef:] = logs - logs.mean()
        return theta

    def optimality(self, theta, grad):
        """Max-norm of the smallest subgradient of J at ``theta``, given ``grad`` = ∇f(theta).

        Zero exactly at the optimum; equal to ``max|grad|`` for smooth penalties.
        For a coefficient at zero the lasso term can absorb up to ``l1`` of the
        gradient; elsewhere it adds ``l1 * sign(w_j)``.
        """
        l1 = self.penalty.l1
        if not l1:
            return float(np.abs(grad).max()) if grad.size else 0.0
        d = self.n_coef
        w, gw = theta[:d], grad[:d]
        sub = np.where(w != 0, np.abs(gw + l1 * np.sign(w)), np.maximum(np.abs(gw) - l1, 0.0))
        return float(max(sub.max(initial=0.0), np.abs(grad[d:]).max(initial=0.0)))

    def prox(self, theta, step):
        """Proximal step of h: soft-threshold the coefficients (never the intercept).

        ``step`` is a float or an ndarray of shape (n_params,), one step per parameter.
        """
        if self.penalty.is_smooth:
            return theta
        d = self.n_coef
        out = np.array(theta, dtype=np.float64) if isinstance(theta, np.ndarray) else \
            namespace(theta).asarray(theta, copy=True)  # a device iterate of an SGD epoch (float64 there)
        out[:d] = self.penalty.prox(out[:d], step if getattr(step, "ndim", 0) == 0 else step[:d])
        return out

    # -- mini-batches ---------------------------------------------------------
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
        loss, g, m = self.data.batch_term(self.loss, *self.split(theta), rows)
        scale = self._batch_scale(m)
        return self._finish(theta, loss / scale, g / scale)

    def epoch_source(self, order, bounds):
        """Batch gradients of an SGD epoch computed where the rows are (a device), or None (on the host).

        See :func:`logitgd.solvers.sgd_epoch.sgd_epoch`: the batches are
        ``order[bounds[i]:bounds[i + 1]]``, and each gradient is the one
        :meth:`batch_value_and_grad` gives, kept on the device.
        """
        batches = self.data.epoch_batches(order, bounds)
        return None if batches is None else _DeviceSource(self, batches)

    # -- second order -----------------------------------------------------------
    def hessian(self, theta, block_rows=None):
        """Dense Hessian of f, ndarray of shape (n_params, n_params).

        ``X̃ᵀ diag(s p (1 - p)) X̃ / sum(s)`` (K classes: ``sum_i s_i (diag(p_i)
        - p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ / sum(s)``) plus the ridge curvature on the
        coefficients; formed by row blocks (BLAS-3), ``n · n_params²`` flops.
        """
        W, b = self.split(theta)
        H = _sum(self.data.map(stats.hessian, self.loss, W, b, self.sw_sum, self.fit_intercept))
        step = H.shape[0] + 1
        H.flat[:self.n_coef * step:step] += self.penalty.curvature()  # the coefficients' diagonal
        return H

    def firth(self, theta):
        """Firth's penalized objective: ``(f*, ∇f*, I)`` at theta, in three passes over the rows.

        ``f* = (sum_i s_i L_i - ½ log det I) / sum(s)``, the negative penalized
        log-likelihood (Jeffreys prior) per unit weight, with ``I = X̃ᵀ diag(s p
        (1 - p)) X̃`` the information (returned unscaled); ``∇f* = -U* / sum(s)``
        with the modified score ``U* = X̃ᵀ (s (y - p) + h (½ - p))`` (Firth, 1993).
        K classes: the reference-class parameters (class 0's held at 0, their gradient 0 and
        their block of the returned I the identity, so Newton leaves them). ``f*`` is ``inf``
        where I is not positive definite.
        """
        K = self.n_classes
        W, b = self.split(theta)
        info = _sum(self.data.map(stats.hessian, self.loss, W, b, 1.0, self.fit_intercept))
        free = np.arange(self.n_params) if K == 1 else np.flatnonzero(np.arange(self.n_params) % K != 0)
        info = info[np.ix_(free, free)]  # K classes: the reference-class parameters (class 0's held at 0)
        try:
            chol = scipy.linalg.cho_factor(info)
        except np.linalg.LinAlgError:
            return np.inf, np.full(self.n_params, np.nan), info
        inverse = scipy.linalg.cho_solve(chol, np.eye(info.shape[0]))
        loss, g = self._data_term(theta, want_grad=True)
        g = g if self.fit_intercept else g[:self.n_coef]
        if K == 1:
            correction = _sum(self.data.map(stats.firth_correction, self.loss, W, b, self.fit_intercept, inverse))
        else:
            correction = np.zeros_like(g)
            correction[free] = _sum(self.data.map(stats.firth_correction_multinomial, self.loss, W, b,
                                                  self.fit_intercept, inverse)).ravel()
            g[np.arange(self.n_params) % K == 0] = 0.0
            full = np.eye(self.n_params)  # class 0's block: identity, so that Newton leaves it at 0
            full[np.ix_(free, free)] = info
            info = full
        logdet = 2 * float(np.sum(np.log(np.diag(chol[0]))))
        return (float(loss) - 0.5 * logdet) / self.sw_sum, (g - correction) / self.sw_sum, info

    def hessian_operator(self, theta):
        """``v -> ∇²f(theta) v`` without forming the matrix (two passes over X per product)."""
        W, b = self.split(np.array(theta, dtype=np.float64))
        l2 = self.penalty.curvature()
        args = (self.loss, W, b, self.sw_sum, self.fit_intercept)

        def hessp(v):
            out = _sum(self.data.map(stats.hessp, *args, *self._split_direction(v)))
            out[:self.n_coef] += l2 * v[:self.n_coef]
            return out

        return hessp

    def hessian_preconditioner(self, theta):
        """K classes: ``r -> B⁻¹ r`` with B the block diagonal of the Hessian at theta (one block per class, the
        coupling between classes left out), for conjugate gradients; ``n · n_params² / K`` flops to form. None for
        the binary model (its whole Hessian is one such block)."""
        if self.n_classes == 1:
            return None
        K = self.n_classes
        blocks = _sum(self.data.map(stats.class_blocks, self.loss, *self.split(theta), self.sw_sum,
                                    self.fit_intercept))
        blocks[:, np.arange(self.n_features), np.arange(self.n_features)] += self.penalty.curvature()
        inverses = np.empty_like(blocks)
        for B, out in zip(blocks, inverses):
            D = np.sqrt(np.diag(B)).copy()
            D[D == 0] = 1.0
            C = B / np.outer(D, D)  # unit diagonal: the jitter is relative to each column's scale
            C[np.diag_indices_from(C)] += 1e-10
            out[...] = scipy.linalg.cho_solve(scipy.linalg.cho_factor(C, check_finite=False), np.diag(1 / D),
                                              check_finite=False) / D[:, None]
        # applied as one batched product (p1² K flops): K triangular solves per CG step cost more in calls

        def solve(r):
            return np.matmul(inverses, r.reshape(-1, K).T[:, :, None])[:, :, 0].T.reshape(-1)

        return solve

    def preconditioner_cost(self):
        """What :meth:`hessian_preconditioner` costs to form, in Hessian-vector products (its blocks' flops,
        ``n p1² K``, over a product's ``4 n p1 K``), or 0 where there is none."""
        return 0 if self.n_classes == 1 else (self.n_features + 1) // 4

    def flat_directions(self):
        """Directions along which the objective is exactly constant, shape (n_params, r), or None.

        The softmax sees only differences between classes: adding the same amount to every class's intercept
        (and, with no ridge term, to every class's coefficient of one feature) changes no probability. Newton
        adds these directions' projector to the Hessian, which then factors; the gradient is orthogonal to
        them, so the step is the same minimum-norm step, without an eigendecomposition."""
        if self.n_classes == 1:
            return None
        K, p1 = self.n_classes, self.n_features + self.fit_intercept
        rows = [self.n_features] if self.fit_intercept else []
        if self.penalty.curvature() == 0 and self.is_smooth:
            rows = list(range(p1))
        if not rows:
            return None
        V = np.zeros((p1, K, len(rows)))
        for i, j in enumerate(rows):
            V[j, :, i] = 1.0 / math.sqrt(K)
        return V.reshape(p1 * K, len(rows))

    def lasso_newton_direction(self, theta, grad, tol, max_sweeps=100):
        """Proximal Newton step for a lasso term without forming the Hessian (sparse binary data).

        Minimizes ``grad·δ + ½ δᵀ∇²f δ + h(theta + δ)`` by coordinate descent
        over the columns of X, as newGLMNET does: each coordinate costs the
        non-zeros of its column.

        Returns
        -------
        delta : ndarray of shape (n_params,)
        """
        if not self.column_newton:
            raise NotImplementedError("lasso_newton_direction needs binary data in a scipy.sparse matrix")
        h = self.data.map(stats.hessian_weights, self.loss, *self.split(theta), self.sw_sum)[0]
        return self.data.lasso_newton_direction(h, grad, theta, self.penalty.l1, self.penalty.curvature(),
                                                self.fit_intercept, tol, max_sweeps)

    # -- curvature ----------------------------------------------------------
    def column_sums_of_squares(self):
        """``sum_i s_i x_ij²`` per column, ndarray of shape (n_features,), float64."""
        return _sum(self.data.map(stats.column_sums_of_squares))

    def hessian_bound(self, max_rows=None, block_rows=65536):
        """Böhning's bound on the Hessian, ``X̃ᵀ S X̃ / (4 sum(s)) + penalty``.

        ``X̃ = [X, 1]`` (the column of ones only with an intercept). Since
        ``p (1 - p) <= 1/4``, this matrix dominates the Hessian of J
        everywhere, so ``M⁻¹∇J`` is a step that never overshoots. For K
        classes the bound is this block with 1/2 for 1/4, once per class
        (``M ⊗ I_K``, since ``diag(p) - p pᵀ <= I/2``); the block is returned.

        Parameters
        ----------
        max_rows : int or None
            If X has more rows, estimate the data part from every k-th row
            (``n·d²`` flops become ``max_rows·d²``). The estimate is a
            preconditioner, no longer a guaranteed bound.

        Returns
        -------
        M : ndarray of shape (n_params / K, n_params / K), float64
        """
        n = self.n_samples
        stride = 1 if max_rows is None or n <= max_rows else -(-n // max_rows)
        # one process holds the rows: scale the weights first; else scale the sum of the parts
        scale = self.loss.bound if self.data.n_parts == 1 else None
        parts = self.data.map(stats.bound_gram, per_part=[(int(o), stride, scale) for o in self.data.offsets])
        M = _sum([p[0] for p in parts])
        if scale is None:
            M *= self.loss.bound / (math.fsum(p[1] for p in parts) or 1.0)
        d = self.n_features
        M[np.diag_indices(d)] += self.penalty.curvature()
        return M if self.fit_intercept else M[:d, :d]

    # -- separation -------------------------------------------------------------
    def margin_range(self, theta):
        """``(smallest, largest)`` margin over the rows of positive weight (see :func:`logitgd.rows.margins`)."""
        parts = self.data.map(stats.margin_range, *self.split(theta))
        return min(p[0] for p in parts), max(p[1] for p in parts)


class LogisticObjective(LinearObjective):
    """The binary objective on data in memory: :class:`LinearObjective` over :class:`NumpyRows`.

    Parameters
    ----------
    X : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,), values in {0, 1}
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    penalty : penalty object (see :mod:`logitgd.penalty`) or None
    use_kernel : bool or "auto"
        The fused kernel (see :class:`~logitgd.backends.numpy.NumpyRows`).
    """

    KERNEL_MIN_SIZE = KERNEL_MIN_SIZE

    def __init__(self, X, y, sample_weight=None, fit_intercept=True, penalty=None, use_kernel="auto"):
        super().__init__(NumpyRows(X, y, sample_weight, 1, use_kernel), penalty, fit_intercept)

    X = property(lambda self: self.data.X)
    y = property(lambda self: self.data.y)
    sample_weight = property(lambda self: self.data.sw)


class MultinomialObjective(LogisticObjective):
    """The softmax objective on data in memory over K classes (``y``: class indices in ``[0, n_classes)``).

    All K classes are parametrized; the loss only sees differences between
    classes' scores, so a ridge penalty picks the member of that family whose
    coefficients sum to zero across classes, and the intercepts' sum stays
    where the solver started it.
    """

    def __init__(self, X, y, n_classes, sample_weight=None, fit_intercept=True, penalty=None, use_kernel="auto"):
        LinearObjective.__init__(self, NumpyRows(X, y, sample_weight, n_classes, use_kernel), penalty,
                                 fit_intercept)


class _DeviceSource:
    """An SGD epoch's batch gradients on a device (see :meth:`LinearObjective.epoch_source`).

    Per step only device work is queued; a non-finite gradient is flagged on
    the device and raised once, at the end of the epoch.
    """

    each_step = False

    def __init__(self, objective, batches):
        self.objective, self.batches = objective, batches
        self.n_batches = batches.n_batches
        self.xp = batches.xp
        self._bad = None

    def asarray(self, a):
        return self.batches.asarray(a)

    def start(self, it):
        return Iterate(self.asarray(it.x), it.t, None if it.avg is None else self.asarray(it.avg), it.avg_count)

    def grad(self, theta, i):
        obj, xp = self.objective, self.xp
        sums, m = self.batches.sums(i, obj.loss, *obj._split_direction(theta))
        g = obj._finish_grad(theta, sums / obj._batch_scale(m))
        bad = ~xp.all(xp.isfinite(g))
        self._bad = bad if self._bad is None else self._bad | bad
        return g

    def max_abs(self, v):
        return float(self.xp.max(self.xp.abs(v))) if v.shape[0] else 0.0

    def finish(self, it):
        if self._bad is not None and bool(self._bad):
            raise Blowup("a mini-batch value or gradient became non-finite")
        host = self.batches.to_host
        return Iterate(host(it.x), it.t, None if it.avg is None else host(it.avg), it.avg_count)


def _sum(parts):
    """The parts' sum, in their order (the first part itself when there is one)."""
    if len(parts) == 1:
        return np.asarray(parts[0], dtype=np.float64)
    out = np.array(parts[0], dtype=np.float64, copy=True)
    for p in parts[1:]:
        out += p
    return out


class TorchLogisticObjective(LinearObjective):
    """The binary objective with its rows on a torch device (the PyTorch backend's ``TorchRows``).

    Parameters as :class:`LogisticObjective`, and ``device``, ``storage_dtype``
    and ``use_kernel`` as ``logitgd.backends.torch.TorchRows``.
    """

    def __init__(self, X, y, sample_weight=None, fit_intercept=True, penalty=None, device="cuda",
                 storage_dtype=None, use_kernel="auto", n_classes=1):
        from .backends.torch.rows import TorchRows

        data = TorchRows(X, y, sample_weight, n_classes, device=device,
                         storage_dtype=storage_dtype, use_kernel=use_kernel)
        super().__init__(data, penalty, fit_intercept)


class TorchMultinomialObjective(TorchLogisticObjective):
    """The softmax objective with its rows on a torch device (``y``: class indices)."""

    def __init__(self, X, y, n_classes, sample_weight=None, fit_intercept=True, penalty=None, device="cuda",
                 storage_dtype=None, use_kernel="auto"):
        super().__init__(X, y, sample_weight, fit_intercept, penalty, device, storage_dtype, use_kernel,
                         n_classes=n_classes)
