"""The objective in preconditioned coordinates: Böhning's bound as a metric (dense Cholesky or diagonal)."""

from __future__ import annotations

import copy

import numpy as np
import scipy.linalg

#: rows of the first, cheap estimate of Böhning's bound, and the largest condition number (of its unit-diagonal
#: version) at which it is kept
QUICK_ROWS = 10_000
QUICK_CONDITION = 10.0


def _condition(M):
    """The condition number of M scaled to a unit diagonal (inf where it is singular)."""
    D = np.sqrt(np.diag(M))
    if not np.all(D > 0):
        return np.inf
    eig = np.linalg.eigvalsh(M / np.outer(D, D))
    return float(eig[-1] / eig[0]) if eig[0] > 0 else np.inf


class Preconditioned:
    """The objective in new coordinates ``v`` with ``theta = R⁻¹ v``.

    With ``RᵀR = M`` a bound on the Hessian (see
    :meth:`LinearObjective.hessian_bound`), a unit gradient step in ``v``
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
    objective : LinearObjective
    max_dense : int
        Largest number of parameters for which the full matrix is factored.
    """

    def __init__(self, objective, max_dense=1024):
        self.objective = objective
        self.n_params = objective.n_params
        self._K = objective.n_classes
        if self.n_params // self._K <= max_dense and objective.is_smooth:
            # From at most max(100k, 10 p²) rows: the line search covers the
            # sampling error, and forming M costs a few gradient passes at most.
            # First from QUICK_ROWS rows: where that estimate is well conditioned
            # (nearly uncorrelated columns) it is as good a metric, for a tenth
            # of the cost (1,000,000 x 100: 10 ms against 100 ms, two passes).
            p = self.n_params // self._K
            rows = max(100_000, 10 * p ** 2)
            quick = objective.n_samples > QUICK_ROWS and rows > QUICK_ROWS
            M = objective.hessian_bound(max_rows=QUICK_ROWS) if quick else None
            if M is None or _condition(M) > QUICK_CONDITION:
                M = objective.hessian_bound(max_rows=rows)
        else:
            M = None
        self._dense = M is not None
        self._on_device = None
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
        sq = obj.column_sums_of_squares()
        diag = sq * (obj.loss.bound / obj.sw_sum) + obj.penalty.curvature()
        if obj.fit_intercept:
            diag = np.append(diag, obj.loss.bound)
        D = np.sqrt(diag)
        D[D == 0] = 1.0
        # one entry per parameter: theta is [W; b] row by row, K per row
        return np.repeat(D, self._K)

    # theta and v as matrices of shape (d + intercept, K): the bound acts on
    # each class's column alike (M ⊗ I_K). The maps take host arrays, or the
    # device arrays of an SGD epoch run where the rows are (R or D is then
    # copied there once; the triangular solve is the rows' own).
    def _factor(self, like):
        """R (dense) or D (diagonal), as an array where ``like`` is."""
        host = self._R if self._dense else self._D
        if isinstance(like, np.ndarray):
            return host
        if self._on_device is None:
            self._on_device = self.objective.data.asarray(host)
        return self._on_device

    def _solve(self, B, trans):
        """``R⁻¹ B`` (``trans``: ``R⁻ᵀ B``)."""
        if isinstance(B, np.ndarray):
            return scipy.linalg.solve_triangular(self._R, B, lower=False, trans="T" if trans else "N")
        return self.objective.data.solve_triangular(self._factor(B), B, trans)

    def to_original(self, v):
        """``theta = R⁻¹ v``."""
        if self._dense:
            return self._solve(v.reshape(-1, self._K), False).reshape(-1)
        return v / self._factor(v)

    def from_original(self, theta):
        """``v = R theta``."""
        if self._dense:
            return (self._factor(theta) @ theta.reshape(-1, self._K)).reshape(-1)
        return theta * self._factor(theta)

    def _pull_back(self, g):
        """Gradient in ``v``: ``R⁻ᵀ ∇J``."""
        if self._dense:
            return self._solve(g.reshape(-1, self._K), True).reshape(-1)
        return g / self._factor(g)

    def same_coordinates(self, other):
        """``other`` (an objective on other rows, e.g. held-out ones) seen in these coordinates: its cost in v."""
        return _SameCoordinates(other, self)

    def on_rows(self, rows):
        """These coordinates over other rows (see :meth:`LinearObjective.on_rows`)."""
        out = copy.copy(self)
        out.objective = self.objective.on_rows(rows)
        out._on_device = None
        return out

    def epoch_source(self, order, bounds):
        """The objective's device epoch source in these coordinates (None on the host)."""
        src = self.objective.epoch_source(order, bounds)
        return None if src is None else _MappedSource(self, src)

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
        return self.from_original(self.objective.prox(self.to_original(v), step / self._factor(v) ** 2))

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


class _SameCoordinates:
    """A second objective (validation rows) seen in the coordinates of a preconditioned one."""

    def __init__(self, objective, like):
        self.objective = objective
        self.like = like

    def cost(self, v):
        return self.objective.cost(self.like.to_original(v))

    def value(self, v):
        return self.objective.value(self.like.to_original(v))

    def nonsmooth_value(self, v):
        return self.objective.nonsmooth_value(self.like.to_original(v))

    @property
    def is_smooth(self):
        return self.objective.is_smooth


class _MappedSource:
    """A device source in the coordinates ``v`` of a :class:`Preconditioned`: ``R⁻ᵀ ∇f(R⁻¹ v)``."""

    def __init__(self, pre, src):
        self.pre, self.src = pre, src
        self.each_step, self.n_batches = src.each_step, src.n_batches
        self.asarray, self.start, self.finish, self.max_abs = src.asarray, src.start, src.finish, src.max_abs

    def grad(self, v, i):
        return self.pre._pull_back(self.src.grad(self.pre.to_original(v), i))
