"""``LogisticRegressionCV``: alpha (and l1_ratio) chosen by cross-validation along regularization paths.

As R's ``cv.glmnet``: the alpha sequence comes from the whole data (its ``alpha_max``); each fold
fits one warm-started path (:func:`~logitgd.path.regularization_path`) on its training rows and
scores every alpha on its held-out rows; the chosen alpha maximizes the mean score
(``selection="min"``, the minimum CV error) or is the largest alpha whose mean score is within one
standard error of the best (``"1se"``). The final model is the whole data's path, down to the
chosen alpha, so the refit starts from the path's solution. A ridge CV on binary in-memory data runs
the folds' paths and the whole data's side by side (:mod:`logitgd.lockstep`): the same fits, with
one pass over X per iteration for all of them.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import lockstep
from ._labels import encode
from ._scoring import LinearScores
from ._selection import cv_selections
from .estimator import LogisticRegression
from .loss import make_loss
from .path import fit_path, prepare, regularization_path

_SELECTIONS = ("min", "1se")
#: LogisticRegression parameters the CV estimator passes on to its fits
_PASSED = ("solver", "tol", "max_iter", "fit_intercept", "class_weight", "random_state", "device", "storage_dtype",
           "verbose")


class LogisticRegressionCV(LinearScores, ClassifierMixin, BaseEstimator):
    """Logistic regression with its penalty's strength chosen by cross-validation (glmnet's ``cv.glmnet``).

    Parameters
    ----------
    alphas : int or array-like, default=20
        An int: that many alphas from the whole data's ``alpha_max`` down to ``alpha_max *
        alpha_min_ratio``, evenly spaced in log (for each l1_ratio). A list: those alphas.
    l1_ratios : array-like or None, default=None
        The elastic-net mixings to try (1 lasso, 0 ridge). None: ``(0,)`` for ``penalty="l2"``,
        ``(1,)`` for ``"l1"``, and an error for ``"elasticnet"`` (name them).
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
    alpha_min_ratio : float or None, default=None
        None: glmnet's (1e-4 with more samples than features, else 1e-2).
    cv : int, cross-validation generator or iterable, default=5
        As scikit-learn's: an int is ``StratifiedKFold(cv)``.
    scoring : str or callable, default=None
        A scikit-learn scorer (greater is better); None: ``"neg_log_loss"``.
    selection : {"min", "1se"}, default="min"
    refit : bool, default=True
        Fit the whole data at the chosen alpha (from its path). False: the coefficients are the mean
        over the folds of the fold paths' coefficients at the chosen alpha (as scikit-learn's).
    n_jobs : int or None, default=None
        Folds in parallel (joblib), where each fold runs its own path. Ridge on binary in-memory data
        (see :mod:`logitgd.lockstep`) runs every fold in one process instead: one pass over X serves
        all of them, and the passes use the threads of numba and BLAS.
    solver, tol, max_iter, fit_intercept, class_weight, random_state, device, storage_dtype, verbose :
        As :class:`LogisticRegression`'s, for every fit.

    Attributes
    ----------
    alpha_, l1_ratio_ : the chosen ones.
    alphas_ : ndarray of shape (n_l1_ratios, n_alphas)
    cv_results_ : dict
        ``"l1_ratio"``, ``"alpha"`` (one entry per pair), ``"mean_score"``, ``"std_error"`` (the
        folds' standard deviation over sqrt(n_folds)), ``"split{k}_score"``, and ``"n_active"``
        (nonzero coefficients on the whole data's path).
    coef_path_, intercept_path_ : ndarrays of shape (n_l1_ratios, n_alphas, n_rows, n_features) / (..., n_rows)
        The whole data's paths (``refit=True``).
    coef_, intercept_, classes_, n_features_in_, feature_names_in_ : as LogisticRegression's.
    n_iter_, converged_ : the whole data's path down to the chosen alpha (``refit=True``): its solver
        iterations, and whether every fit on it converged.
    path_ : RegularizationPath
        The whole data's path at the chosen l1_ratio (``refit=True``); ``path_.model(i)`` is the fit at
        ``alphas_[..., i]`` as a plain LogisticRegression (what ``logitgd.save`` writes).
    best_index_ : int, the chosen entry of ``cv_results_``.
    """

    def __init__(self, alphas=20, l1_ratios=None, penalty="l2", alpha_min_ratio=None, cv=5, scoring=None,
                 selection="min", refit=True, n_jobs=None, solver="auto", tol=None, max_iter=None, fit_intercept=True,
                 class_weight=None, random_state=None, device="cpu", storage_dtype=None, verbose=0):
        self.alphas = alphas
        self.l1_ratios = l1_ratios
        self.penalty = penalty
        self.alpha_min_ratio = alpha_min_ratio
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.refit = refit
        self.n_jobs = n_jobs
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device
        self.storage_dtype = storage_dtype
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    _set_n_features = LogisticRegression._set_n_features

    def _ovr(self):
        return False

    def _l1_ratios(self):
        if self.penalty not in ("l2", "l1", "elasticnet"):
            raise ValueError(f"penalty must be 'l2', 'l1' or 'elasticnet', got {self.penalty!r}.")
        if self.l1_ratios is not None and self.penalty != "elasticnet":
            raise ValueError(f"l1_ratios go with penalty='elasticnet' (penalty={self.penalty!r} fixes the mixing).")
        if self.l1_ratios is None:
            if self.penalty == "elasticnet":
                raise ValueError("penalty='elasticnet' needs l1_ratios: the mixings to try, e.g. [0.1, 0.5, 0.9, 1].")
            return [1.0 if self.penalty == "l1" else 0.0]
        ratios = [float(r) for r in np.ravel(self.l1_ratios)]
        if not ratios or any(not 0 <= r <= 1 for r in ratios):
            raise ValueError(f"l1_ratios must be numbers in [0, 1], got {self.l1_ratios!r}.")
        return ratios

    def _check(self):
        if self.selection not in _SELECTIONS:
            raise ValueError(f"selection must be one of {_SELECTIONS}, got {self.selection!r}.")
        if not isinstance(self.refit, (bool, np.bool_)):  # "no" is truthy: only a bool says what was meant
            raise ValueError(f"refit must be a bool (True or False), got {self.refit!r}.")
        a = self.alphas
        if isinstance(a, numbers.Integral):
            if a < 1:
                raise ValueError(f"alphas must be a positive int or a list of alphas, got {a!r}.")
        else:
            a = np.asarray(a, dtype=np.float64).ravel()
            if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
                raise ValueError(f"alphas must be a positive int or a list of positive alphas, got {self.alphas!r}.")

    def _path_params(self):
        return {name: getattr(self, name) for name in _PASSED}

    def fit(self, X, y, sample_weight=None):
        """Cross-validate the alphas (and l1_ratios), choose, and fit the whole data at the choice."""
        from joblib import Parallel, delayed

        self._check()
        ratios = self._l1_ratios()
        for stale in ("coef_path_", "intercept_path_", "n_iter_", "converged_", "path_", "feature_names_in_"):
            self.__dict__.pop(stale, None)
        params = self._path_params()
        X, y, sample_weight = self._validate(X, y, sample_weight)
        y_arr = np.asarray(y)
        splits = list(check_cv(self.cv, y_arr, classifier=True).split(np.zeros((len(y_arr), 1)), y_arr))
        scorer = _neg_log_loss if self.scoring is None else check_scoring(LogisticRegression(), scoring=self.scoring)
        # the whole data's paths set the alpha sequences (alpha_max) and are the refit
        grid = ({"n_alphas": int(self.alphas), "alpha_min_ratio": self.alpha_min_ratio}
                if isinstance(self.alphas, numbers.Integral) else {"alphas": np.asarray(self.alphas, dtype=np.float64)})
        setups = [prepare(X, y, l1_ratio=r, sample_weight=sample_weight, params=params, **grid) for r in ratios]
        self.classes_ = setups[0].est.classes_
        self.n_features_in_ = setups[0].d
        if getattr(setups[0].est, "feature_names_in_", None) is not None:
            self.feature_names_in_ = setups[0].est.feature_names_in_
        self.alphas_ = np.array([setup.alphas for setup in setups])
        fulls, folds = [], []  # folds: (ratio, split) -> that fold's path
        for setup in setups:
            if lockstep.applies(setup):  # every fold and the whole data in one pass over X per iteration
                full, fold_paths = lockstep.cv_paths(setup, splits)
            else:
                full = fit_path(setup, stacklevel=3)
                fold_paths = Parallel(n_jobs=self.n_jobs)(
                    delayed(_fold_path)(X, y_arr, sample_weight, train, setup.alphas, setup.l1_ratio, params)
                    for train, _ in splits)
            fulls.append(full)
            folds.append(fold_paths)
        scores = np.array([[_path_scores(path, X, y_arr, sample_weight, test, scorer)
                            for path, (_, test) in zip(ratio_paths, splits)] for ratio_paths in folds])
        self._record(ratios, fulls, scores)  # scores: (ratio, fold, alpha)
        r, i = divmod(self.best_index_, self.alphas_.shape[1])
        self.alpha_, self.l1_ratio_ = float(self.alphas_[r, i]), ratios[r]
        if self.refit:
            self.coef_path_ = np.array([p.coef_ for p in fulls])
            self.intercept_path_ = np.array([p.intercept_ for p in fulls])
            self.coef_, self.intercept_ = fulls[r].coef_[i].copy(), fulls[r].intercept_[i].copy()
            self.n_iter_ = int(fulls[r].n_iter[: i + 1].sum())
            self.converged_ = bool(fulls[r].converged[: i + 1].all())
            self.path_ = fulls[r]
        else:  # as scikit-learn's: the mean of the folds' fits at the choice
            self.coef_ = np.mean([path.coef_[i] for path in folds[r]], axis=0)
            self.intercept_ = np.mean([path.intercept_[i] for path in folds[r]], axis=0)
        return self

    def _validate(self, X, y, sample_weight):
        """In-memory input checked and converted as scikit-learn's estimators do (CSR for sparse); torch and
        Dask input as it is (the paths' fits check it where it lives)."""
        from . import backends

        if backends.is_tensor(X) or backends.is_dask(X):
            return X, y, sample_weight
        names = getattr(X, "columns", None)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], reset=True)
        if names is not None and hasattr(self, "feature_names_in_"):
            X = pd_frame(X, self.feature_names_in_)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        return X, y, sample_weight

    def _record(self, ratios, fulls, scores):
        n_folds = scores.shape[1]
        mean = scores.mean(axis=1)
        se = scores.std(axis=1, ddof=1) / np.sqrt(n_folds) if n_folds > 1 else np.zeros_like(mean)
        results = {"l1_ratio": np.repeat(ratios, self.alphas_.shape[1]), "alpha": self.alphas_.ravel(),
                   "mean_score": mean.ravel(), "std_error": se.ravel(),
                   "n_active": np.concatenate([p.n_active for p in fulls])}
        for k in range(n_folds):
            results[f"split{k}_score"] = scores[:, k].ravel()
        self.cv_results_ = results
        best, one_se = cv_selections(results)
        self.best_index_ = one_se if self.selection == "1se" else best

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        return super().decision_function(X)


def pd_frame(X, names):
    """A dense X back in a DataFrame with its column names (so that the fits keep ``feature_names_in_``)."""
    import pandas as pd

    return pd.DataFrame(X, columns=names) if isinstance(X, np.ndarray) else X


def _neg_log_loss(model, X, y, sample_weight=None):
    """The default score: minus the mean log-loss over all the model's classes (a fold may lack one).

    From the raw scores by the training loss's stable formula: scikit-learn's ``neg_log_loss`` to
    rounding, except that it clips probabilities at machine epsilon (a loss above about 36 per row).
    """
    return _neg_mean_loss(model.decision_function(X), y, model.classes_, sample_weight)


def _neg_mean_loss(Z, y, classes, sample_weight):
    """Minus the (weighted) mean log-loss of raw scores Z ((n,) for two classes, else (n, K)) for labels y."""
    per_row = make_loss(1 if len(classes) == 2 else len(classes)).loss(encode(y, classes), Z)
    return -float(np.average(per_row, weights=sample_weight))


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def _fold_path(X, y, sample_weight, train, alphas, l1_ratio, params):
    """One fold's path, on its training rows."""
    sw = None if sample_weight is None else np.asarray(sample_weight)[train]
    cw = params.get("class_weight")
    if isinstance(cw, dict):  # keys checked on the whole data's labels; a fold's training rows may lack one
        present = set(np.unique(y[train]))
        params = {**params, "class_weight": {k: w for k, w in cw.items() if k in present}}
    return regularization_path(_rows(X, train), y[train], alphas, l1_ratio=l1_ratio, sample_weight=sw, **params)


def _path_scores(path, X, y, sample_weight, test, scorer):
    """The held-out scores of one fold's path at every alpha."""
    X_test, y_test = _rows(X, test), y[test]
    kwargs = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)[test]}
    if scorer is _neg_log_loss and (isinstance(X_test, np.ndarray) or scipy.sparse.issparse(X_test)):
        # every alpha's scores in one product (one pass over the held-out rows, not one per alpha)
        L, rows, d = path.coef_.shape
        Z = np.asarray(X_test @ path.coef_.reshape(L * rows, d).T) + path.intercept_.reshape(-1)
        Z = Z.reshape(-1, L, rows)
        return [_neg_mean_loss(Z[:, i, 0] if rows == 1 else Z[:, i], y_test, path.classes_, kwargs.get("sample_weight"))
                for i in range(L)]
    return [scorer(path.model(i), X_test, y_test, **kwargs) for i in range(len(path.alphas))]
