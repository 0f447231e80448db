"""Regularization paths: one fit per alpha along a decreasing sequence, each warm-started from the last.

As R's ``glmnet``: for a penalty with an L1 term the path starts at ``alpha_max``, the smallest alpha
at which every coefficient is zero (exactly: the max-norm of the loss's gradient at the
intercept-only fit, over ``l1_ratio``), and each fit runs on the columns the sequential strong rule
keeps (Tibshirani et al., 2012: ``|∇_j| >= l1_ratio (2 alpha_k - alpha_{k-1})``, and the columns
already active), followed by a check of the KKT conditions over all columns, which adds back any
column the rule dropped wrongly and refits. Wide data then costs a pass over all columns per alpha
(the gradient) and solver work on the few active ones.

The fits are :class:`~logitgd.LogisticRegression`'s own (its validation, solvers, backends), so
every solver, penalty and backend the estimator takes, the path takes.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from . import backends
from .estimator import LogisticRegression
from .exceptions import ConvergenceWarning
from .penalty import make_penalty

#: glmnet's ``lambda.min.ratio``: the smallest alpha over alpha_max, when n_samples > n_features / otherwise
ALPHA_MIN_RATIO = (1e-4, 1e-2)
#: the l1_ratio glmnet uses for alpha_max of a ridge path (whose alpha_max is infinite)
_RIDGE_L1_RATIO = 1e-3


@dataclass
class RegularizationPath:
    """The fits of :func:`regularization_path`, alpha by alpha (largest first).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    coef_ : ndarray of shape (n_alphas, n_rows, n_features)
        ``coef_[i]`` is the ``coef_`` of the fit at ``alphas[i]`` (``n_rows`` 1 for two classes, else K).
    intercept_ : ndarray of shape (n_alphas, n_rows)
    objective : ndarray of shape (n_alphas,)
        The penalized objective J at each fit (mean log-loss plus the penalty).
    n_iter, converged, n_active : ndarrays of shape (n_alphas,)
        Solver iterations (all refits of that alpha), whether every fit converged, and the number of
        features with a nonzero coefficient.
    alpha_max : float
        The smallest alpha at which all coefficients are zero (for a ridge path, glmnet's convention:
        that of ``l1_ratio = 1e-3``).
    l1_ratio : float
    classes_, feature_names_in_ : the estimator's.
    params : dict
        The estimator parameters of the fits (:meth:`model` rebuilds one).
    """

    alphas: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    objective: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    n_active: np.ndarray
    alpha_max: float
    l1_ratio: float
    classes_: np.ndarray
    feature_names_in_: np.ndarray | None
    params: dict

    def model(self, i):
        """A fitted :class:`~logitgd.LogisticRegression` holding the coefficients at ``alphas[i]``."""
        est = LogisticRegression(**{**self.params, "alpha": float(self.alphas[i])})
        est.classes_ = self.classes_
        est.n_features_in_ = self.coef_.shape[2]
        if self.feature_names_in_ is not None:
            est.feature_names_in_ = self.feature_names_in_
        est.coef_, est.intercept_ = self.coef_[i].copy(), self.intercept_[i].copy()
        est.n_iter_, est.converged_ = int(self.n_iter[i]), bool(self.converged[i])
        est.solver_, est.stop_reason_ = self.params.get("solver", "auto"), "fitted on a regularization path"
        est.loss_history_ = np.array([self.objective[i]])
        return est


def penalty_name(l1_ratio):
    """The estimator's ``penalty`` (and ``l1_ratio``) for a path's ``l1_ratio``."""
    if not (isinstance(l1_ratio, numbers.Real) and 0 <= l1_ratio <= 1):
        raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}.")
    if l1_ratio == 1:
        return "l1", None
    if l1_ratio == 0:
        return "l2", None
    return "elasticnet", float(l1_ratio)


def alpha_grid(alpha_max, n_alphas, alpha_min_ratio):
    """``n_alphas`` values from ``alpha_max`` down to ``alpha_max * alpha_min_ratio``, evenly spaced in log."""
    if not (isinstance(n_alphas, numbers.Integral) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer, got {n_alphas!r}.")
    if not (isinstance(alpha_min_ratio, numbers.Real) and 0 < alpha_min_ratio < 1):
        raise ValueError(f"alpha_min_ratio must be in (0, 1), got {alpha_min_ratio!r}.")
    if n_alphas == 1:
        return np.array([alpha_max])
    return alpha_max * np.geomspace(1.0, alpha_min_ratio, n_alphas)


def regularization_path(X, y, alphas=None, *, n_alphas=100, alpha_min_ratio=None, l1_ratio=1.0, sample_weight=None,
                        strong_rules=True, **params):
    """Fit a logistic regression at each of a decreasing sequence of alphas, each fit warm-started from the last.

    Parameters
    ----------
    X, y, sample_weight : as :meth:`LogisticRegression.fit` (in memory, sparse, torch or Dask).
    alphas : array-like, default=None
        The alphas, fitted largest first (returned sorted that way). None: ``n_alphas`` values from
        ``alpha_max`` down to ``alpha_max * alpha_min_ratio``, evenly spaced in log (glmnet's sequence).
    n_alphas : int, default=100
    alpha_min_ratio : float, default=None
        None: 1e-4 when there are more samples than features, 1e-2 otherwise (glmnet's).
    l1_ratio : float in [0, 1], default=1.0
        1 is the lasso (glmnet's default), 0 ridge, between them the elastic net; the penalty is
        ``alpha * (l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||²)``, glmnet's with ``lambda = alpha``,
        ``alpha = l1_ratio`` and ``standardize = FALSE``.
    strong_rules : bool, default=True
        With an L1 term, fit each alpha on the columns the sequential strong rule keeps, then check
        the KKT conditions over all columns (the result is the same; wide data is faster).
    **params
        Other :class:`LogisticRegression` parameters (``solver``, ``tol``, ``max_iter``,
        ``fit_intercept``, ``class_weight``, ``device``, ...). Not ``alpha``, ``penalty``,
        ``warm_start``, ``multi_class="ovr"``.

    Returns
    -------
    RegularizationPath
    """
    setup = prepare(X, y, alphas, n_alphas=n_alphas, alpha_min_ratio=alpha_min_ratio, l1_ratio=l1_ratio,
                    sample_weight=sample_weight, params=params)
    return fit_path(setup, strong_rules, stacklevel=3)


def fit_path(setup, strong_rules=True, stacklevel=2):
    """The fits of a :func:`prepare`-d path, alpha by alpha: a :class:`RegularizationPath` (a ConvergenceWarning
    ``stacklevel`` frames up from here if a fit did not converge)."""
    full, pen, ratio, alphas, d, rows = setup.full, setup.pen, setup.ratio, setup.alphas, setup.d, setup.n_classes
    est, X = setup.est, setup.X
    screen = strong_rules and setup.l1_ratio > 0 and backends.take_columns(X, np.arange(0)) is not None
    cuts = _Cuts(X) if screen else None
    coefs, intercepts = np.zeros((len(alphas), rows, d)), np.zeros((len(alphas), rows))
    objective, n_iter = np.zeros(len(alphas)), np.zeros(len(alphas), dtype=int)
    converged = np.zeros(len(alphas), dtype=bool)
    theta, grad, previous = setup.null, setup.grad0, setup.alpha_max
    for i, alpha in enumerate(alphas):
        penalty = make_penalty(pen, float(alpha), ratio)
        if screen:  # its KKT check computed the mean log-loss at theta over all columns
            theta, loss, grad, n_iter[i], converged[i] = _fit_screened(est, cuts, setup.y_enc, setup.sw, penalty,
                                                                       rows, full, theta, grad, previous)
        else:
            _, theta, result, *_ = est._fit_one(X, setup.y_enc, setup.sw, penalty, rows, _warm(full, theta))
            loss, n_iter[i], converged[i] = full.value(theta), result.n_iter, result.converged
        W, b = full.split(theta)
        coefs[i] = np.reshape(W, (d, rows)).T
        intercepts[i] = np.reshape(b, rows)
        # the full objective's own penalty is zero: its value is the mean log-loss
        objective[i] = float(loss + penalty.value(full.coefficients(theta)))
        previous = float(alpha)
    return setup.result(coefs, intercepts, objective, n_iter, converged, stacklevel=stacklevel + 1)


@dataclass
class PathSetup:
    """What a path needs before its fits (:func:`prepare`): the checked data, the alphas, the start."""

    est: LogisticRegression
    X: object
    y_enc: object
    sw: object
    n_classes: int  # 1 for two classes (the binary model's one row of coefficients), else K
    d: int
    pen: str
    ratio: float | None
    l1_ratio: float
    full: object  # the unpenalized objective over all rows and columns
    null: np.ndarray  # the intercept-only fit
    grad0: np.ndarray  # the loss's gradient there, coefficient block (d, n_classes)
    alpha_max: float
    alphas: np.ndarray

    def result(self, coefs, intercepts, objective, n_iter, converged, stacklevel=3):
        """The :class:`RegularizationPath` of these fits (a ConvergenceWarning, at ``stacklevel``, if any did not
        converge)."""
        alphas = self.alphas
        if not converged.all():
            bad = alphas[~converged]
            warnings.warn(f"the fits at {bad.size} of the {len(alphas)} alphas did not converge (the largest of "
                          f"them {bad[0]:.4g}); raise max_iter, or loosen tol.", ConvergenceWarning,
                          stacklevel=stacklevel)
        return RegularizationPath(alphas=alphas, coef_=coefs, intercept_=intercepts, objective=objective,
                                  n_iter=n_iter, converged=converged,
                                  n_active=np.count_nonzero(np.any(coefs != 0, axis=1), axis=1),
                                  alpha_max=self.alpha_max, l1_ratio=self.l1_ratio, classes_=self.est.classes_,
                                  feature_names_in_=getattr(self.est, "feature_names_in_", None),
                                  params=self.est.get_params())


def prepare(X, y, alphas=None, *, n_alphas=100, alpha_min_ratio=None, l1_ratio=1.0, sample_weight=None, params):
    """The checks, the data, alpha_max and the alphas of :func:`regularization_path` (its parameters): all but
    the fits."""
    for name in ("alpha", "penalty", "l1_ratio", "warm_start"):
        if name in params:
            raise ValueError(f"regularization_path sets {name!r} itself; pass alphas= and l1_ratio= instead.")
    pen, ratio = penalty_name(l1_ratio)
    est = LogisticRegression(penalty=pen, l1_ratio=ratio, alpha=1.0, **params)
    est._check_params()
    if est.multi_class == "ovr":
        raise ValueError("regularization_path fits the multinomial model for K > 2 classes, not multi_class='ovr'.")
    X, y_enc, sw = est._validate_xy(X, y, sample_weight)
    n_classes = 1 if len(est.classes_) == 2 else len(est.classes_)
    d = X.shape[1]
    full = est._objective(X, y_enc, sw, make_penalty(pen, 0.0, ratio), n_classes)
    null = full.intercept_only()
    grad0 = _coef_block(full, full.value_and_grad(null)[1])
    alpha_max = float(np.max(np.abs(grad0))) / max(float(l1_ratio), _RIDGE_L1_RATIO) if d else 0.0
    if alphas is None:
        ratio_min = alpha_min_ratio if alpha_min_ratio is not None else ALPHA_MIN_RATIO[X.shape[0] <= d]
        alphas = alpha_grid(alpha_max if alpha_max > 0 else 1.0, n_alphas, ratio_min)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] < 0:
            raise ValueError("alphas must be a non-empty list of finite, non-negative numbers.")
    return PathSetup(est=est, X=X, y_enc=y_enc, sw=sw, n_classes=n_classes, d=d, pen=pen, ratio=ratio,
                     l1_ratio=float(l1_ratio), full=full, null=null, grad0=grad0, alpha_max=alpha_max, alphas=alphas)


def _coef_block(objective, vector):
    """The coefficients' entries of a parameter-shaped vector, as ``(d, rows)``."""
    W, _ = objective.split(vector)
    return np.reshape(W, (W.shape[0], -1))


def _warm(objective, theta):
    """``theta`` as the estimator's warm start ``(coef rows, intercepts)``."""
    W, b = objective.split(theta)
    rows = objective.n_classes
    return np.reshape(W, (-1, rows)).T, np.reshape(np.asarray(b, dtype=np.float64), rows)


def _fit_screened(est, cuts, y_enc, sw, penalty, n_classes, full, theta, grad, previous):
    """One alpha of an L1 path on the strong rule's columns, refitted until the KKT conditions hold on all.

    ``grad`` is the loss's gradient (coefficient block, ``(d, rows)``) at ``theta``, the previous fit. The
    fit runs on a cut of X's columns that holds the strong set: the previous cut while it does, else a new
    one, wide enough for about three more alphas (the strong rule from ``previous`` to the alpha three
    steps on, extrapolated geometrically). Returns ``(theta, the mean log-loss and the loss's gradient at it,
    iterations, converged)``.
    """
    d, rows = grad.shape
    alpha, l1 = penalty.alpha, penalty.l1
    ratio = l1 / alpha
    size = np.max(np.abs(grad), axis=1)
    nonzero = np.any(_coef_block(full, theta) != 0, axis=1)
    strong = nonzero | (size >= ratio * (2 * alpha - previous))
    # the rule's bound three alphas on (fewer where the steps are so long that it would keep every column)
    ahead = [2 * alpha * (alpha / previous) ** k - previous for k in (3, 2, 1)] if previous > alpha else []
    ahead = next((bound for bound in ahead if bound > 0), None)
    wider = strong if ahead is None else strong | (size >= ratio * ahead)
    total, ok = 0, True
    while True:
        cols, Xs = cuts.take(np.flatnonzero(strong), np.flatnonzero(wider))
        sub_theta, Z, it, conv = _fit_columns(est, Xs, y_enc, sw, penalty, n_classes, full, theta, cols)
        total, ok = total + it, ok and conv
        theta = _expand(full, sub_theta, cols, d, rows)
        # the scores come from the cut (X W + b is the same with W zero outside it): one pass over X, for Xᵀr
        loss, g = full.value_and_grad(theta) if Z is None else full.value_and_grad_at_scores(theta, Z)
        grad = _coef_block(full, g)
        # KKT for a column held at zero: the loss's gradient (the ridge term's is 0 there) within l1
        outside = np.ones(d, dtype=bool)
        outside[cols] = False
        violated = outside & (np.max(np.abs(grad), axis=1) > l1 * (1 + 1e-9) + 1e-15)
        if not violated.any():
            return theta, loss, grad, total, ok
        strong |= violated
        wider |= violated


def _fit_columns(est, Xs, y_enc, sw, penalty, n_classes, full, theta, cols):
    """Fit ``Xs`` (X's columns ``cols``) from ``theta`` restricted to them: ``(theta of that fit, its raw scores
    X W + b (None for no columns), iterations, converged)``."""
    if cols.size == 0:  # every coefficient at zero: the intercept-only fit of this penalty
        return full.intercept_only(), None, 0, True
    W, b = full.split(theta)
    W = np.reshape(W, (-1, n_classes))[cols]
    warm = (W.T, np.reshape(np.asarray(b, dtype=np.float64), n_classes))
    objective, sub, result, *_ = est._fit_one(Xs, y_enc, sw, penalty, n_classes, warm, by_columns=True)
    same_rows = objective.n_samples == full.n_samples  # not sgd's early-stopping split
    return sub, objective.raw_prediction(sub) if same_rows else None, result.n_iter, result.converged


class _Cuts:
    """Column subsets of an in-memory X for a screened path, kept while they hold the columns asked for.

    Sparse X is cut from a CSC copy (contiguous columns), made once, and each cut converted to CSR once,
    carrying its CSC part for the coordinate descent (``logitgd_csc``), instead of CSR column indexing
    and the descent's own CSC copy per alpha.
    """

    def __init__(self, X):
        self.X = X
        self.csc = scipy.sparse.csc_matrix(X, dtype=np.float64) if scipy.sparse.issparse(X) else None
        self.cols, self.cut = np.arange(0), None

    def take(self, need, wider):
        """``(cols, X[:, cols])`` with ``cols`` holding ``need``: the current cut if it does, else ``wider``'s."""
        if need.size == 0 or np.isin(need, self.cols, assume_unique=True).all():
            return (self.cols, self.cut) if need.size else (need, None)
        cols = wider
        if cols.size == self.X.shape[1] and self.csc is not None:  # X itself, sharing its arrays, with the CSC
            X = self.X
            cut = scipy.sparse.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape, copy=False)
            cut.logitgd_csc = self.csc.astype(np.float64, copy=False)
        elif cols.size == self.X.shape[1]:
            cut = self.X
        elif self.csc is not None:
            part = self.csc[:, cols]
            cut = part.tocsr().astype(self.X.dtype, copy=False)
            cut.logitgd_csc = part
        else:
            cut = backends.take_columns(self.X, cols)
        self.cols, self.cut = cols, cut
        return cols, cut


def _expand(full, sub, cols, d, rows):
    """A parameter vector of the full width from one fitted on the columns ``cols``."""
    if cols.size == 0:
        return sub
    sub = np.asarray(sub)
    n_sub = cols.size * rows
    theta = np.zeros(full.n_params)
    W = np.zeros((d, rows))
    W[cols] = np.reshape(sub[:n_sub], (cols.size, rows))
    theta[: d * rows] = W.ravel()
    theta[d * rows:] = sub[n_sub:]
    return theta
