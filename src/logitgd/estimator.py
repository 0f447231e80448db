"""The scikit-learn compatible estimator."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._numerics import log_sigmoid, sigmoid
from .exceptions import ConvergenceWarning, SeparationWarning
from .objective import LogisticObjective, Preconditioned
from .penalty import make_penalty
from .separation import SeparationMonitor
from .solvers import SOLVERS


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression trained by gradient descent.

    Minimizes the weighted mean log-loss plus an L2 penalty on the
    coefficients (never on the intercept)::

        J(w, b) = sum_i s_i L(y_i, x_i·w + b) / sum_i s_i + alpha / 2 ||w||²

    Parameters
    ----------
    solver : {"gd"}, default="gd"
        Full-batch gradient descent.
    learning_rate : float or "auto", default="auto"
        A float is the fixed step of the plain update ``w <- w - lr * grad``.
        ``"auto"`` needs no tuning: gradient descent preconditioned by
        Böhning's bound on the Hessian (so column scale and correlation do
        not matter), with Nesterov acceleration, adaptive restart and a
        backtracking line search; the cost never goes up.
    alpha : float >= 0, default=0.0
        Penalty strength. ``alpha=0`` is the maximum-likelihood fit. Matches
        scikit-learn's ``C = 1 / (n_samples * alpha)`` (``sum(sample_weight)``
        in place of n_samples with weights).
    penalty : {"l2", None}, default="l2"
        ``None`` ignores ``alpha``.
    fit_intercept : bool, default=True
    max_iter : int, default=5000
    tol : float, default=1e-8
        Stop when the max-norm of the gradient falls to ``tol`` (for
        ``"auto"``, of the gradient in the preconditioned coordinates, which
        is scale-free), or, with a fixed learning rate, when the relative
        decrease of the cost in one iteration falls to ``tol``.
    random_state : int, RandomState, Generator or None, default=None
        None starts from zeros; otherwise from small random coefficients
        (normal, standard deviation 0.01) drawn from this seed.
    verbose : int, default=0
        Print the cost every ``max(1, 100 // verbose)`` iterations.
    warm_start : bool, default=False
        Start from the previous fit's coefficients.
    callback : callable or None, default=None
        ``callback(state)`` after every iteration with
        :class:`logitgd.result.IterationState` (``state.x`` in the solver's
        coordinates, ``state.fun`` the cost); return True to stop.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
    converged_ : bool
    loss_history_ : ndarray of shape (n_iter_ + 1,)
        Cost J before the first update and after each iteration.
    stop_reason_ : str
        Why the solver stopped.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)
        Only when X was a DataFrame with string column names.
    """

    def __init__(self, solver="gd", learning_rate="auto", alpha=0.0, penalty="l2",
                 fit_intercept=True, max_iter=5000, tol=1e-8, random_state=None, verbose=0,
                 warm_start=False, callback=None):
        self.solver = solver
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callback = callback

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = False
        return tags

    def _check_params(self):
        if self.solver not in SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not available; expected one of {sorted(SOLVERS)}.")
        lr = self.learning_rate
        if not (lr == "auto" if isinstance(lr, str) else
                isinstance(lr, numbers.Real) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning_rate must be a positive number or 'auto', got {lr!r}.")
        if not (isinstance(self.alpha, numbers.Real) and np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a non-negative number, got {self.alpha!r}.")
        if not (isinstance(self.max_iter, numbers.Integral) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}.")
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a non-negative number, got {self.tol!r}.")
        return make_penalty(self.penalty, self.alpha)

    def _initial_theta(self, n_params):
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape[1] + self.fit_intercept == n_params:
            theta = self.coef_.ravel().astype(np.float64)
            return np.append(theta, self.intercept_) if self.fit_intercept else theta
        if self.random_state is None:
            return np.zeros(n_params)
        rng = self.random_state
        if not isinstance(rng, np.random.Generator):
            rng = check_random_state(rng)
        return rng.normal(scale=0.01, size=n_params)

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 data stays float32.
        y : array-like of shape (n_samples,)
            Exactly two distinct labels (ints, strings, bools, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the cost is their weighted mean.

        Returns
        -------
        self
        """
        penalty = self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], order="C")
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}."
            )
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type} ({len(self.classes_)} classes: {list(self.classes_[:5])}"
                f"{'...' if len(self.classes_) > 5 else ''})."
            )
        y01 = (y == self.classes_[1]).astype(np.float64)
        sw = self._check_sample_weight(sample_weight, X)

        objective = LogisticObjective(X, y01, sample_weight=sw, fit_intercept=self.fit_intercept,
                                      penalty=penalty)
        theta0 = self._initial_theta(objective.n_params)
        if self.learning_rate == "auto":
            problem = Preconditioned(objective)
            to_original = problem.to_original
            x0 = problem.from_original(theta0)
        else:
            problem = objective
            to_original = np.asarray
            x0 = theta0

        monitor = SeparationMonitor(objective) if penalty.alpha == 0 else None
        every = max(1, 100 // self.verbose) if self.verbose else 0

        def callback(state):
            if every and state.iteration % every == 0:
                print(f"iter {state.iteration:6d}  cost {state.fun:.10g}  |grad| {state.grad_norm:.3g}")
            if self.callback is not None and self.callback(state):
                return True
            return monitor is not None and monitor(to_original(state.x), state.iteration)

        result = SOLVERS[self.solver](problem, x0, learning_rate=self.learning_rate,
                                      max_iter=self.max_iter, tol=self.tol, callback=callback)
        theta = to_original(result.x)
        w, b = objective.split(theta)
        self.coef_ = w.reshape(1, -1).copy()
        self.intercept_ = np.array([b])
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.loss_history_ = np.asarray(result.loss_history)
        self.stop_reason_ = result.message
        self._warn_on_stop(result, monitor)
        return self

    def _check_sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not np.all(np.isfinite(sw)):
            raise ValueError("sample_weight contains NaN or infinite values.")
        if sw.sum() <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
        # The cost is a weighted mean: equal weights are the same as none.
        return None if np.all(sw == sw[0]) else sw

    def _warn_on_stop(self, result, monitor):
        if monitor is not None and monitor.kind is not None:
            self.stop_reason_ = f"{monitor.kind} separation"
            warnings.warn(
                f"The classes are {monitor.kind}ly separated: a hyperplane puts every training "
                "sample on its own class's side" + (" or on the plane" if monitor.kind != "complete" else "")
                + ", so the maximum-likelihood estimate does not exist and the coefficients would "
                f"grow without bound. Stopped after {result.n_iter} iterations; coef_ gives a "
                "separating direction, not an estimate, and predicted probabilities are "
                "overconfident. Use alpha > 0 (an L2 penalty) for finite, well-defined coefficients.",
                SeparationWarning, stacklevel=3,
            )
        elif result.status == "max_iter":
            warnings.warn(
                f"Gradient descent did not converge in max_iter={self.max_iter} iterations "
                f"(gradient max-norm {result.grad_norm:.3g} > tol={self.tol:g}). Increase max_iter, "
                + ("use learning_rate='auto', or standardize the features"
                   if self.learning_rate != "auto" else "or use alpha > 0 if the classes are nearly separable")
                + ".",
                ConvergenceWarning, stacklevel=3,
            )
        elif result.status == "interrupted":
            warnings.warn(
                f"Fit interrupted after {result.n_iter} iterations; the model keeps the last "
                "accepted coefficients (converged_=False).",
                UserWarning, stacklevel=3,
            )

    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``, ndarray of shape (n_samples,)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """Class probabilities, ndarray of shape (n_samples, 2), columns as ``classes_``."""
        z = self.decision_function(X)
        return np.column_stack([sigmoid(-z), sigmoid(z)])

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the raw scores."""
        z = self.decision_function(X)
        return np.column_stack([log_sigmoid(-z), log_sigmoid(z)])

    def predict(self, X):
        """Labels: ``classes_[1]`` where the probability exceeds 0.5."""
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(int)]
