"""Ridge paths of several row subsets of one in-memory X, in lockstep: cross-validation's folds in one pass.

``LogisticRegressionCV`` with an L2 penalty fits, along one alpha sequence, a path per fold and one
on the whole data: F = n_folds + 1 fits of the same X that differ only in which rows weigh (and how
much). One at a time, each fit reads all of X at every iteration. Here they run side by side: a pass
over X, by blocks of rows, computes the scores of all F fits at once (``X_b @ W`` with W of shape
(d, F): about the memory traffic of one matrix-vector product) and their gradients while the block
is in cache, so the F fits cost about one fit's passes over the data.

Each fit is Newton's method on ``J_f(θ) = Σ_i s_fi L_i / Σ_i s_fi + α/2 ||w||²`` (``s_f``: fit f's
row weights), warm-started from the previous alpha's solution, with a line search (Armijo, the
estimator's Newton rule) and a Hessian kept from an earlier iterate and corrected by BFGS's secant
update after each step. Forming Hessians is most of the cost of Newton on dense data (n p² flops
against a pass's n p), so they are formed seldom and shared: when a fit's gradient falls by less than
``REFRESH_RATIO`` in a step, it takes the Hessian of the fit on the most rows (the whole data) at that
fit's iterate; the folds' Hessians differ from it by sampling noise, which the steps and the BFGS
updates absorb (the gradients, and so the solutions, are each fit's own). The first step at each alpha
needs no pass over X: the loss's gradient at the previous solution is known, and the penalty's
changes by ``(α_k - α_{k-1}) w``. A fit stops as the estimator's Newton does: the max-norm of ∇J_f
at most ``tol``.

Binary labels, dense or CSR X with up to 999 features (the Hessians are dense); the estimators
decide when this applies (:func:`applies`) and fall back to one path per fold otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.sparse

from .backends import is_dask, is_tensor
from .backends.numpy import kernels
from .backends.numpy.rows import NumpyRows
from .loss import BinaryLogLoss
from .solvers import SOLVERS
from .solvers.newton import J_ROUNDING

#: a fit's Hessian is formed again after a step that leaves more than this share of its gradient's max-norm
REFRESH_RATIO = 0.5
#: the smallest X (rows x features) for the lockstep: below it the per-fit overhead of Python outweighs the
#: passes it saves (measured: 5,000 x 100 and 20,000 x 20 about even, 20,000 x 100 4x faster)
MIN_SIZE = 1_000_000
#: rows over which the Hessians are formed, at most
HESSIAN_ROWS = 65536
#: rows per block of a pass (the block's scores and residuals stay in cache for ``X_bᵀ R``)
BLOCK_ROWS = 8192
#: the most parameters (features + intercept) for the dense Hessians
MAX_PARAMS = 1000
_SIGMA = 1e-4  # Armijo constant, the estimator's Newton's
_LOSS = BinaryLogLoss()


def applies(setup):
    """Whether a CV of this :func:`logitgd.path.prepare`-d path runs here: binary ridge on in-memory X with at
    most 999 features and at least ``MIN_SIZE`` entries, the Newton solver (``solver`` ``"auto"`` or
    ``"newton"``) on the CPU, class weights fixed per class (not ``"balanced"``, which each fold computes
    from its own rows)."""
    est, X = setup.est, setup.X
    return (setup.n_classes == 1 and setup.l1_ratio == 0 and est.solver in ("auto", "newton")
            and est.device == "cpu" and est.storage_dtype is None and not isinstance(est.class_weight, str)
            and not is_tensor(X) and not is_dask(X)
            and (isinstance(X, np.ndarray) or scipy.sparse.issparse(X) and X.format == "csr")
            and X.shape[1] + 1 <= MAX_PARAMS and X.shape[0] * X.shape[1] >= MIN_SIZE)


def ridge_paths(X, y, weights, alphas, *, fit_intercept=True, tol=1e-8, max_iter=100):
    """Ridge paths of the F row weightings ``weights`` (n, F) of ``(X, y)``, along the decreasing ``alphas``.

    Returns ``(coef (F, L, d), intercept (F, L), objective (F, L), n_iter (F, L), converged (F, L))``:
    at each alpha, each fit's coefficients, intercept, penalized objective J, Newton steps and whether
    it met ``tol`` within ``max_iter`` steps.
    """
    fits = _Fits(X, y, weights, fit_intercept)
    F, d, L = fits.F, fits.d, len(alphas)
    out = (np.zeros((F, L, d)), np.zeros((F, L)), np.zeros((F, L)), np.zeros((F, L), dtype=int),
           np.zeros((F, L), dtype=bool))
    theta = fits.intercept_only()
    loss, grad = fits.evaluate(theta, np.arange(F))
    hessians = fits.hessians(theta, np.arange(F))  # at the start the fits differ only in their rows
    for k, alpha in enumerate(alphas):
        theta, loss, grad, hessians, n_iter, converged = _newton(fits, float(alpha), theta, loss, grad, hessians,
                                                                 tol, max_iter)
        out[0][:, k], out[1][:, k] = theta[:, :d], theta[:, d] if fit_intercept else 0.0
        out[2][:, k] = loss + 0.5 * alpha * np.einsum("fj,fj->f", theta[:, :d], theta[:, :d])
        out[3][:, k], out[4][:, k] = n_iter, converged
    return out


def _newton(fits, alpha, theta, loss, grad, hessians, tol, max_iter):
    """All fits at one alpha, from their solutions at the previous one; a pass over X per round serves every
    fit that needs an evaluation (a new Newton step or a shortened one)."""
    F, d = fits.F, fits.d
    pen = np.zeros(fits.p)
    pen[:d] = alpha
    theta, loss, grad = theta.copy(), loss.copy(), grad.copy()
    n_iter = np.zeros(F, dtype=int)
    done = np.zeros(F, dtype=bool)
    converged = np.zeros(F, dtype=bool)
    delta = np.zeros_like(theta)
    step, slope, J = np.ones(F), np.zeros(F), np.zeros(F)
    fresh = np.ones(F, dtype=bool)  # a new Newton direction is due
    factors = [None] * F
    stale = []
    while True:
        for f in np.flatnonzero(fresh & ~done):
            G = grad[f] + pen * theta[f]
            gnorm = float(np.max(np.abs(G)))
            if gnorm <= tol:
                done[f] = converged[f] = True
                continue
            if n_iter[f] >= max_iter:
                done[f] = True
                continue
            if factors[f] is None:
                factors[f] = _factor(hessians[f] + np.diag(pen))
            delta[f] = -_solve(factors[f], G)
            slope[f] = float(G @ delta[f])
            if not slope[f] < 0:  # no descent left along Newton's direction: take the gradient's
                delta[f], slope[f] = -G, -float(G @ G)
            J[f] = loss[f] + 0.5 * float(pen @ theta[f] ** 2)
            step[f], fresh[f] = 1.0, False
        active = np.flatnonzero(~done)
        if active.size == 0:
            return theta, loss, grad, hessians, n_iter, converged
        trial = theta[active] + step[active, None] * delta[active]
        t_loss, t_grad = fits.evaluate(trial, active)
        for j, f in enumerate(active):
            J_new = t_loss[j] + 0.5 * float(pen @ trial[j] ** 2)
            old = float(np.max(np.abs(grad[f] + pen * theta[f])))
            new = float(np.max(np.abs(t_grad[j] + pen * trial[j])))
            noise = J_ROUNDING * abs(J[f])
            accept = math.isfinite(J_new) and (J_new <= J[f] + _SIGMA * step[f] * slope[f]
                                               # J changes below its own rounding: a lower gradient decides
                                               or abs(J_new - J[f]) <= noise and new < old)
            if accept:
                if new > REFRESH_RATIO * old:
                    stale.append(f)
                else:  # the kept Hessian learns the step's curvature (BFGS's secant update)
                    hessians[f], factors[f] = _bfgs(hessians[f], trial[j] - theta[f], t_grad[j] - grad[f]), None
                theta[f], loss[f], grad[f] = trial[j], t_loss[j], t_grad[j]
                n_iter[f] += 1
                fresh[f] = True
            elif step[f] < 1e-10 or -slope[f] <= noise:  # no decrease at working precision: as the estimator's
                # Newton, stop (shorter steps cannot show a decrease the model puts below J's rounding)
                done[f] = converged[f] = True
            else:
                step[f] *= 0.5
        if stale:  # one Hessian for all of them: the fit on the most rows', at its iterate
            ref = fits.reference
            H = fits.hessians(theta[ref:ref + 1], [ref])[0]
            for f in stale:
                hessians[f], factors[f] = H.copy(), None
        stale = []


def _bfgs(H, s, y):
    """BFGS's update of the Hessian approximation H by the step s and the change y of the gradient (skipped
    when ``yᵀs`` is not safely positive)."""
    Hs = H @ s
    sHs, ys = float(s @ Hs), float(y @ s)
    if not (ys > 1e-12 * math.sqrt(float(y @ y) * float(s @ s)) and sHs > 0):
        return H
    return H - np.outer(Hs, Hs) / sHs + np.outer(y, y) / ys


def _factor(A):
    """Cholesky of a positive definite A, or None (then :func:`_solve` takes the least-squares solution)."""
    try:
        return scipy.linalg.cho_factor(A, check_finite=False), A
    except np.linalg.LinAlgError:
        return None, A


def _solve(factor, g):
    c, A = factor
    if c is not None:
        return scipy.linalg.cho_solve(c, g, check_finite=False)
    return scipy.linalg.lstsq(A, g, check_finite=False)[0]


class _Fits:
    """F weightings of the rows of one (X, y): their passes over X, their Hessians."""

    def __init__(self, X, y, weights, fit_intercept):
        self.X, self.y = X, np.ascontiguousarray(y, dtype=np.float64)
        self.S = np.ascontiguousarray(weights, dtype=np.float64)
        self.S_sum = self.S.sum(axis=0)
        self.n, self.d = X.shape
        self.F = self.S.shape[1]
        self.reference = int(np.argmax(self.S_sum))
        self.fit_intercept = bool(fit_intercept)
        self.p = self.d + self.fit_intercept
        # the Hessians only steer the steps (the gradients, and so the solutions, are over all rows): on large
        # data they come from HESSIAN_ROWS rows drawn at random
        keep = (np.sort(np.random.default_rng(0).choice(self.n, HESSIAN_ROWS, replace=False))
                if self.n > HESSIAN_ROWS else slice(None))
        self.hessian_rows = NumpyRows(X[keep], self.y[keep], use_kernel=False), self.S[keep]
        self.kernel = kernels.AVAILABLE and isinstance(X, np.ndarray) and X.flags.c_contiguous

    def intercept_only(self):
        """Each fit's best constant model (w = 0, b = logit of its weighted share of ones), shape (F, p)."""
        theta = np.zeros((self.F, self.p))
        if self.fit_intercept:
            share = np.clip(self.y @ self.S / self.S_sum, 1e-10, 1 - 1e-10)
            theta[:, -1] = np.log(share) - np.log1p(-share)
        return theta

    def _scores(self, Xb, theta):
        Z = np.asarray(Xb @ theta[:, :self.d].T, dtype=np.float64)
        return Z + theta[:, self.d] if self.fit_intercept else Z

    def evaluate(self, theta, fits):
        """Mean losses (m,) and their gradients (m, p) of the fits ``fits`` at ``theta`` (m, p): one pass."""
        scale = self.S_sum[fits]
        if self.kernel:
            W = np.ascontiguousarray(theta[:, :self.d])
            b = theta[:, self.d].copy() if self.fit_intercept else np.zeros(len(fits))
            total, G = kernels.dense_multi_loss_grad(self.X, self.y, self.S, np.asarray(fits, dtype=np.int64), W, b)
            return total / scale, G[:, :self.p] / scale[:, None]
        total, G = np.zeros(len(fits)), np.zeros((len(fits), self.p))
        every = len(fits) == self.F
        for start in range(0, self.n, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, self.n)
            Xb = self.X[start:stop]
            per_row, R = _LOSS.loss_gradient(self.y[start:stop, None], self._scores(Xb, theta))
            Sb = self.S[start:stop] if every else self.S[start:stop, fits]
            total += np.einsum("ij,ij->j", Sb, per_row)
            R *= Sb
            G[:, :self.d] += np.asarray(Xb.T @ R).T
            if self.fit_intercept:
                G[:, self.d] += R.sum(axis=0)
        return total / scale, G / scale[:, None]

    def hessians(self, theta, fits):
        """Each fit's Hessian (data part) at ``theta`` (m, p) over the Hessian rows: a list of m (p, p) arrays."""
        rows, S = self.hessian_rows
        h = np.empty((rows.n, len(fits)))
        for start in range(0, rows.n, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, rows.n)
            h[start:stop] = _LOSS.hessian(None, self._scores(rows.X[start:stop], theta))
        weights = S[:, fits]
        h *= weights / weights.sum(axis=0)
        return [rows.gram(np.ascontiguousarray(h[:, j]))[:self.p, :self.p] for j in range(len(fits))]

def cv_paths(setup, splits):
    """The paths of a cross-validation, all in lockstep: ``(the whole data's, [each split's training rows'])``.

    ``setup`` is the whole data's :func:`logitgd.path.prepare` (a ridge path that :func:`applies`), ``splits``
    the ``(train, test)`` index pairs; the rows keep their sample (and class) weights.
    """
    est, X, n = setup.est, setup.X, setup.X.shape[0]
    base = np.ones(n) if setup.sw is None else np.asarray(setup.sw, dtype=np.float64)
    S = np.zeros((n, len(splits) + 1))
    for f, (train, _) in enumerate(splits):
        S[train, f] = base[train]
    S[:, -1] = base
    coef, intercept, objective, n_iter, converged = ridge_paths(
        X, setup.y_enc, S, setup.alphas, fit_intercept=est.fit_intercept,
        tol=SOLVERS["newton"].tol if est.tol is None else est.tol,
        max_iter=SOLVERS["newton"].max_iter if est.max_iter is None else est.max_iter)
    paths = [setup.result(coef[f][:, None, :], intercept[f][:, None], objective[f], n_iter[f], converged[f],
                          stacklevel=4) for f in range(S.shape[1])]
    return paths[-1], paths[:-1]
