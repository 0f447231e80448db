"""The scikit-learn compatible estimator."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _labels, backends, inference
from ._scoring import LinearScores, plain_array
from .exceptions import InferenceError
from .objective import LinearObjective
from .penalty import make_penalty
from .preconditioned import Preconditioned
from .result import stop_warning
from .separation import SeparationMonitor
from .solvers import SMALL_HESSIAN_FLOPS, SOLVERS, choose, is_integer, is_number, lbfgs_memory
from .solvers.sgd_epoch import auto_step, sgd_epoch

_MULTI_CLASS = ("auto", "multinomial", "ovr")
#: the parameters that are True or False (a bool or numpy.bool_, as scikit-learn's validation asks)
_BOOLEANS = ("fit_intercept", "warm_start", "average", "early_stopping")


def _memory_bytes(X):
    """The bytes X holds in this process's memory: a CSR matrix's three arrays, an array's own; None for tensors
    and dask collections (on a device, or on the workers)."""
    if hasattr(X, "indptr"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes if isinstance(X, np.ndarray) else None


def _plain_labels(y, X):
    """y a 1-d ndarray of X's length whose labels scikit-learn's check would pass as they are (numbers that are
    finite, booleans, text)."""
    if not (type(y) is np.ndarray and y.ndim == 1 and len(y) == X.shape[0] and y.dtype.kind in "biufUS"):
        return False
    return y.dtype.kind != "f" or bool(np.isfinite(y).all())


class LogisticRegression(LinearScores, ClassifierMixin, BaseEstimator):
    """Logistic (binary) and softmax (multinomial) regression trained by gradient descent and its relatives.

    Minimizes the weighted mean log-loss plus an elastic-net penalty on the
    coefficients (never on the intercept)::

        J(w, b) = sum_i s_i L(y_i, x_i·w + b) / sum_i s_i
                  + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||²)

    With more than two classes ``L`` is the softmax cross-entropy of the K
    scores ``x_i·w_k + b_k`` (all K classes parametrized; ``||w||`` is then
    over all K·d coefficients, as in scikit-learn). X may be dense or a
    scipy.sparse matrix (CSC is converted to CSR once; sparse data is never
    made dense).

    Parameters
    ----------
    solver : {"auto", "gd", "sgd", "lbfgs", "newton", "firth"}, default="auto"
        - ``"gd"``: full-batch gradient descent (proximal for L1);
        - ``"sgd"``: mini-batch / stochastic gradient descent (see ``batch_size``);
        - ``"lbfgs"``: L-BFGS (smooth penalties only);
        - ``"newton"``: Newton–Raphson / IRLS with a line search — Newton–Cholesky
          up to 1000 parameters, Newton–CG above; proximal Newton for L1 (up to
          1000 parameters, or any number for two classes and sparse X, by
          coordinate descent over X's columns);
        - ``"auto"``: the solver that the other options ask for (``"gd"`` for a
          numeric ``learning_rate``, ``"sgd"`` for an sgd schedule or option);
          otherwise, for smooth penalties, ``"newton"`` while a Hessian is cheap
          (``n_samples * n_params**2 <= 1e8``, with ``n_params`` the number
          of coefficients and intercepts of all classes) and ``"lbfgs"``
          (preconditioned) above; for L1, ``"newton"`` where it can (above)
          and ``"gd"`` otherwise. The choice is stored in ``solver_``.
    learning_rate : float or str, default="auto"
        For ``"gd"``: a float is the fixed step of the plain update
        ``w <- w - lr * grad``; ``"auto"`` needs no tuning (gradient descent
        preconditioned by Böhning's bound on the Hessian, Nesterov
        acceleration, adaptive restart, backtracking line search; the cost
        never goes up). For ``"sgd"``: the schedule, ``"auto"`` (no tuning),
        ``"constant"``, ``"invscaling"`` or ``"adaptive"`` (these need
        ``eta0``). Not used by ``"lbfgs"``/``"newton"`` (anything but
        ``"auto"`` is an error there).
    alpha : float >= 0 or None, default=None
        Penalty strength; ``0`` is the maximum-likelihood fit (R's ``glm``). ``None``: ``1e-4`` (as on the
        command line; finite on separated data) with an L2/L1/elastic-net penalty, none with ``"firth"`` or
        ``None``. L2 matches scikit-learn's ``C = 1 / (n_samples * alpha)`` (``sum(sample_weight)``).
    penalty : {"l2", "l1", "elasticnet", "firth", None}, default="l2"
        ``None`` ignores ``alpha``. ``"firth"``: Firth's bias-reduced likelihood
        ``log L + ½ log det I`` (no ``alpha``; finite under separation; solver ``"firth"``).
    l1_ratio : float in [0, 1] or None, default=None
        Mix of L1 in the elastic net; required with ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
    max_iter : int or None, default=None
        Iterations (epochs for ``"sgd"``). None: 5000 for gd, 1000 for lbfgs,
        100 for newton, 100 epochs for sgd.
    tol : float or None, default=None
        gd, lbfgs, newton: stop when the max-norm of the gradient (of the
        smallest subgradient with L1; for gd ``"auto"`` in its preconditioned,
        scale-free coordinates) falls to ``tol``; a fixed-step gd also stops
        when the relative decrease of the cost in one iteration falls to
        ``tol``. sgd: stop when the epoch cost has not improved by ``tol``
        (relative) for ``n_iter_no_change`` epochs. firth: when the Newton decrement
        (a bound on every step in standard errors) falls to ``tol``. None: 1e-8 (sgd: 1e-4).
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; ``"balanced"``
        uses ``n_samples / (2 * bincount(y))``. A dict's keys must be labels
        (``1``, not ``"1"``, for the label 1) and its weights finite and > 0.
    random_state : int, RandomState, Generator or None, default=None
        Shuffling for sgd and the validation split. For full-batch solvers,
        None starts from zeros; otherwise from small random coefficients
        (normal, standard deviation 0.01) drawn from this seed.
    verbose : int, default=0
        Print the cost at the first iteration and every ``max(1, 100 // verbose)`` iterations.
    warm_start : bool, default=False
        Start from the previous fit's coefficients.
    callback : callable or None, default=None
        ``callback(state)`` after every iteration (every epoch for sgd) with
        :class:`logitgd.result.IterationState` (``state.fun`` is the cost J,
        ``state.x`` the parameters in the solver's coordinates); return True
        to stop.
    batch_size : int, default=32
        sgd only: rows per update; 1 is SGD, ``n_samples`` is batch GD.
    eta0 : float or None, default=None
        sgd only: initial step of the ``"constant"``, ``"invscaling"`` and
        ``"adaptive"`` schedules.
    power_t : float, default=0.5
        sgd only: exponent of ``"invscaling"``, ``eta = eta0 / t**power_t``
        (set with another schedule, it is an error: that schedule does not use it).
    average : bool, default=False
        sgd only: return the average of the iterates (averaged SGD).
    early_stopping : bool, default=False
        sgd only: hold out ``validation_fraction`` of the rows (stratified)
        and stop when their cost stops improving; keep the best iterate.
    validation_fraction : float, default=0.1
        sgd only, with ``early_stopping``.
    n_iter_no_change : int, default=5
        sgd only: epochs without improvement before stopping.
    multi_class : {"auto", "multinomial", "ovr"}, default="auto"
        With more than two classes: ``"multinomial"`` (and ``"auto"``) fits
        one softmax model; ``"ovr"`` fits one binary model per class (that
        class against the rest) and normalizes their probabilities. With two
        classes all three fit the binary model. Unpenalized multinomial fits
        (``alpha=0``) report coefficients centered across classes (the softmax
        sees only their differences); intercepts are always centered.
    device : str or torch.device, default="cpu"
        ``"cuda"`` (or ``"cuda:1"``, ...) trains through PyTorch on that GPU
        (``pip install 'logitgd[gpu]'``): X, y and the weights are moved
        there once; every solver and penalty runs as on the CPU. A torch
        tensor X always trains through PyTorch where it lives, without a
        copy, unless ``device`` names another device. ``coef_`` and
        ``intercept_`` are NumPy arrays either way.
    storage_dtype : {None, "bfloat16", "float16"}, default=None
        PyTorch path only: keep dense X on the device in 2 bytes per entry
        (arithmetic stays float64): half the memory traffic per pass; the model
        is fitted to the rounded data.
    firth_intercept : {None, "flic"}, default=None
        ``"flic"`` (Puhr et al., 2017): after a Firth fit, refit the intercept by
        maximum likelihood, so the mean predicted probability is the observed share.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    solver_ : str
        The solver that ran (``solver`` unless it was ``"auto"``).
    n_iter_ : int
        For ``"ovr"``, the most iterations any class's fit took.
    converged_ : bool
        For ``"ovr"``, whether every class's fit converged.
    loss_history_ : ndarray
        Cost J before the first update and after each iteration (epoch for sgd);
        for ``"ovr"`` the sum over classes of each fit's history, padded with
        its last value.
    stop_reason_ : str
        Why the solver stopped.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)
        Only when X was a DataFrame with string column names.
    """

    def __init__(self, solver="auto", learning_rate="auto", alpha=None, penalty="l2", l1_ratio=None,
                 fit_intercept=True, max_iter=None, tol=None, class_weight=None, random_state=None,
                 verbose=0, warm_start=False, callback=None, batch_size=32, eta0=None, power_t=0.5,
                 average=False, early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 multi_class="auto", device="cpu", storage_dtype=None, firth_intercept=None):
        self.solver = solver
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callback = callback
        self.batch_size = batch_size
        self.eta0 = eta0
        self.power_t = power_t
        self.average = average
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.multi_class = multi_class
        self.device = device
        self.storage_dtype = storage_dtype
        self.firth_intercept = firth_intercept

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- parameters ---------------------------------------------------------------
    def _check_params(self):
        """Validate parameters; return the penalty object."""
        if not isinstance(self.solver, str) or self.solver != "auto" and self.solver not in SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not available; expected 'auto' or one of {sorted(SOLVERS)}.")
        for name in _BOOLEANS:  # "no" is truthy: only a bool says what was meant
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be a bool (True or False), got {getattr(self, name)!r}.")
        a = self.alpha  # a number (not a bool) >= 0, or None
        if a is not None and (isinstance(a, bool) or not (isinstance(a, numbers.Real) and np.isfinite(a) and a >= 0)):
            raise ValueError(f"alpha must be a non-negative number or None (the default), got {self.alpha!r}.")
        if self.l1_ratio is not None and not (is_number(self.l1_ratio) and 0 <= self.l1_ratio <= 1):
            raise ValueError(f"l1_ratio must be a number in [0, 1], got {self.l1_ratio!r}.")
        if self.l1_ratio is not None and self.penalty != "elasticnet":
            raise ValueError(f"l1_ratio is only used with penalty='elasticnet', not penalty={self.penalty!r}.")
        if self.max_iter is not None and not (is_integer(self.max_iter) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be a positive integer or None, got {self.max_iter!r}.")
        if self.tol is not None and not (is_number(self.tol) and np.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a finite non-negative number or None, got {self.tol!r}.")
        if not (isinstance(self.verbose, (bool, np.bool_)) or is_integer(self.verbose) and self.verbose >= 0):
            raise ValueError(f"verbose must be an integer >= 0 (or a bool), got {self.verbose!r}.")
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"callback must be callable (state -> bool) or None, got {self.callback!r}.")
        _labels.check_class_weight(self.class_weight)
        if self.multi_class not in _MULTI_CLASS:
            raise ValueError(f"multi_class must be one of {_MULTI_CLASS}, got {self.multi_class!r}.")
        if self.storage_dtype not in (None, "bfloat16", "float16"):
            raise ValueError(f"storage_dtype must be None, 'bfloat16' or 'float16', got {self.storage_dtype!r}.")
        if backends.on_torch(None, self.device, self.storage_dtype):
            from .backends.torch.device import resolve_device

            resolve_device(self.device)  # PyTorch missing, or no such device: say so now
        return make_penalty(self.penalty, self.alpha, self.l1_ratio)

    def _warm(self):
        return self.warm_start and hasattr(self, "coef_")

    def _initial_theta(self, n_params, warm=None):
        """Starting parameters: ``warm`` (coef rows, intercepts) if their size fits, else zeros or random."""
        if warm is not None:
            coef, intercept = warm
            theta = np.asarray(coef, dtype=np.float64).T  # (d, K): [W; b] row by row
            if self.fit_intercept:
                theta = np.vstack([theta, np.asarray(intercept, dtype=np.float64)[None, :]])
            if theta.size == n_params:
                return theta.ravel()
        if self.random_state is None or self.solver == "sgd":
            return np.zeros(n_params)
        rng = self.random_state
        if not isinstance(rng, np.random.Generator):
            rng = check_random_state(rng)
        return rng.normal(scale=0.01, size=n_params)

    # -- data ---------------------------------------------------------------------
    def _validate_xy(self, X, y, sample_weight, reset=True, classes=None):
        """Checked ``(X, y as class indices, sample_weight or None)``; sets ``classes_`` when ``reset``.

        For two classes the indices are 0.0/1.0 floats (the binary model's
        labels). Each backend checks its own input and summarizes the labels
        it saw (:mod:`logitgd._labels` turns the summary into ``classes_``);
        dask input comes back as the backend's rows, with y and the weights in them.
        """
        if backends.is_dask(X):  # stays on the workers: checked lazily, see backends/dask
            return self._validate_dask(X, y, sample_weight, reset, classes)
        labels = None
        if backends.is_tensor(X):  # stays where it is (a GPU tensor is not copied): see backends/torch
            from .backends.torch import validate as _torch

            X, _ = _torch.check_tensor_xy(X)
            self._set_n_features(int(X.shape[1]), reset)
            if self.class_weight is None:
                labels = _torch.device_labels(X, y)  # None: labels that are not numbers, sorted on the host
            if labels is None:
                _, y = _torch.check_tensor_xy(X, y)
            sample_weight = _torch.to_numpy(sample_weight)
        else:
            if _plain_labels(y, X) and plain_array(self, X, reset, finite=False) is not None:
                y = np.asarray(y)
            else:
                X, y = validate_data(self, X, y, accept_sparse="csr", accept_large_sparse=True,
                                     dtype=[np.float64, np.float32], order="C", reset=reset, ensure_all_finite=False)
            _labels.check_values(X, getattr(self, "feature_names_in_", None))  # also values too large to fit with
        found = _labels.distinct(y) if labels is None else labels.found
        if reset:
            self.classes_ = _labels.classes_from(found, classes)
        else:
            _labels.check_labels(found)
        if not reset or classes is not None:  # (classes_ made from the labels found holds them all)
            _labels.check_known(found, self.classes_)
        y_enc = _labels.encode(y, self.classes_) if labels is None else labels.encode(self.classes_)
        sw = _labels.check_sample_weight(sample_weight, X)
        if sw is not None and reset and classes is None:  # fit: every class is in y (a piece may lack one)
            k = np.asarray(y_enc).astype(np.intp)
            K = len(self.classes_)
            _labels.check_weighted_classes(np.bincount(k, weights=sw, minlength=K), np.bincount(k, minlength=K),
                                           self.classes_)
        return X, y_enc, _labels.with_class_weight(sw, self.class_weight, self.classes_, y, X)

    def _set_n_features(self, d, reset):
        """``n_features_in_`` for input that scikit-learn's validation does not see (tensors, dask)."""
        if reset:
            self.n_features_in_ = d
            self.__dict__.pop("feature_names_in_", None)
        elif d != self.n_features_in_:
            raise ValueError(f"X has {d} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")

    def _validate_dask(self, X, y, sample_weight, reset, classes):
        """Dask input: the label summary from one pass over the labels, then the backend's rows for ``classes_``."""
        from .backends.dask import inputs

        if not reset or classes is not None:
            raise ValueError("partial_fit does not take dask input; fit trains on it (solver='sgd' runs its epochs "
                             "over the partitions in turn).")
        if self.early_stopping:
            raise ValueError("early_stopping is not available for dask input.")
        checked = inputs.check(X, y, sample_weight)
        classes_ = _labels.classes_from(checked.labels)
        _labels.check_weighted_classes(checked.weight_sums, checked.counts, classes_)
        _labels.check_class_weight(self.class_weight, classes_)
        if len(classes_) > 2 and self.multi_class == "ovr":
            raise ValueError("multi_class='ovr' is not available for dask input; the multinomial model is.")
        self.classes_ = classes_
        self._set_n_features(checked.n_features, True)
        if checked.feature_names is not None:
            self.feature_names_in_ = checked.feature_names
        return inputs.prepare(checked, classes_, self.class_weight), None, None

    def _objective(self, X, y_enc, sw, penalty, n_classes):
        """The binary objective (``n_classes == 1``) or the softmax one, over the rows of the data's backend."""
        data = backends.as_data(X, y_enc, sw, n_classes, device=self.device, storage_dtype=self.storage_dtype)
        return LinearObjective(data, penalty, self.fit_intercept)

    # -- fitting --------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 data stays float32; sparse data stays sparse (CSR).
        y : array-like of shape (n_samples,)
            Two or more distinct labels (ints, strings, bools, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the cost is their weighted mean. Every class needs
            a row of weight > 0 (a DataError names the class that has none).

        Returns
        -------
        self
        """
        penalty = self._check_params()
        warm = (self.coef_, self.intercept_) if self._warm() else None
        X, y_enc, sw = self._validate_xy(X, y, sample_weight)
        K = len(self.classes_)
        if K == 2 or self.multi_class != "ovr":
            objective, theta, result, monitor, max_iter, tol = self._fit_one(
                X, y_enc, sw, penalty, 1 if K == 2 else K, warm)
            self._store(objective, theta, result)
            self._warn_on_stop(result, monitor, max_iter, tol)
        else:
            self._fit_ovr(X, y_enc, sw, penalty, warm)
            objective = None
        # a later partial_fit starts a fresh SGD run from these coefficients; summary() reads the data by reference
        for stale in ("_sgd_state", "_inference", "formula_", "_formula_spec"):
            self.__dict__.pop(stale, None)
        self._fit_data = objective
        return self

    def _fit_ovr(self, X, y_enc, sw, penalty, warm):
        """One binary fit per class (that class against the rest)."""
        K = len(self.classes_)
        coefs, intercepts, results = [], [], []
        for k in range(K):
            warm_k = None if warm is None or warm[0].shape[0] != K else (warm[0][k:k + 1], warm[1][k:k + 1])
            objective, theta, result, monitor, max_iter, tol = self._fit_one(
                X, (y_enc == k).astype(np.float64), sw, penalty, 1, warm_k)
            self._warn_on_stop(result, monitor, max_iter, tol, what=f" (class {self.classes_[k]!r} vs rest)",
                               stacklevel=4)
            w, b = objective.split(theta)
            coefs.append(w)
            intercepts.append(b)
            results.append(result)
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.array(intercepts)
        self.n_iter_ = max(r.n_iter for r in results)
        self.converged_ = all(r.converged for r in results)
        length = max(len(r.loss_history) for r in results)
        self.loss_history_ = np.sum([np.pad(np.asarray(r.loss_history, dtype=float), (0, length - len(r.loss_history)),
                                            mode="edge") for r in results], axis=0)
        self.stop_reason_ = "; ".join(f"{c!r}: {r.message}" for c, r in zip(self.classes_, results))

    def _fit_one(self, X, y_enc, sw, penalty, n_classes, warm, by_columns=False):
        """Run the solver on one objective: ``(objective, theta, result, monitor, max_iter, tol)``; ``by_columns``:
        sparse binary L1 Newton by coordinate descent at any width where H costs more than 1e8 flops."""
        n_params = (X.shape[1] + bool(self.fit_intercept)) * n_classes
        column_newton = scipy.sparse.issparse(X) and n_classes == 1  # sparse binary: CD over columns, any width
        params = vars(self)  # the parameters, as set (get_params costs ~50 us, a small fit's notice)
        solver = self.solver if self.solver != "auto" else choose(params, penalty.is_smooth, X.shape[0], n_params,
                                                                  column_newton, n_classes)
        spec = SOLVERS[solver]
        options = spec.options(params, penalty.is_smooth, n_params, column_newton)
        if solver == "newton" and X.shape[0] * n_params ** 2 > SMALL_HESSIAN_FLOPS and (
                penalty.is_smooth and n_classes > 1  # K classes: conjugate gradients (a Hessian is K² blocks)
                or by_columns and column_newton and not penalty.is_smooth):  # sparse binary L1: over the columns
            options["max_dense"] = 0
        self.solver_ = solver
        if solver == "lbfgs":
            options["memory"] = lbfgs_memory(_memory_bytes(X), n_params)
        if solver == "firth":
            _labels.check_firth_columns(X, sw, getattr(self, "feature_names_in_", None))
        max_iter = self.max_iter or spec.max_iter
        tol = spec.tol if self.tol is None else self.tol

        validation = None
        if solver == "sgd" and self.early_stopping:
            X, y_enc, sw, validation = self._split_validation(X, y_enc, sw, penalty, n_classes)
        objective = self._objective(X, y_enc, sw, penalty, n_classes)
        theta0 = self._initial_theta(objective.n_params, warm)
        if solver == "newton" and self.random_state is None and warm is None:
            # IRLS starts from the intercept-only model: one Newton step saved
            theta0 = objective.intercept_only()
        if self.learning_rate == "auto" and solver in ("gd", "lbfgs", "sgd"):
            problem = Preconditioned(objective)
            to_original = problem.to_original
            x0 = problem.from_original(theta0)
            if validation is not None:
                validation = problem.same_coordinates(validation)
        else:
            problem = objective
            to_original = np.asarray
            x0 = theta0

        monitor = None
        if penalty.alpha == 0 and solver != "firth":  # Firth's estimate exists under separation
            # Newton takes few, large steps: look after each of them.
            monitor = (SeparationMonitor(objective, first_check=2, every=True) if solver == "newton"
                       else SeparationMonitor(objective))
        callback = self._make_callback(monitor, to_original)
        options.update(max_iter=max_iter, tol=tol, callback=callback)
        if solver == "sgd":
            options.update(validation=validation, random_state=self._sgd_rng())
            # the epoch and step estimate where the rows are (over the partitions in turn, for Dask)
            options["epoch"], options["auto_step"] = objective.data.sgd_functions(sgd_epoch, auto_step)
        with objective.data.compute_context():
            result = spec.run(problem, x0, **options)
        theta = to_original(result.x)
        if monitor is not None and (result.status in ("max_iter", "stalled") or solver == "sgd"):
            monitor.finish(theta)  # a slow fit may never saturate a probability (sgd's rule stops the slow ones)
            if monitor.finding is not None:  # no optimum exists, so none was converged to: as if the monitor stopped it
                result.converged, result.status = False, "stopped"
        return objective, theta, result, monitor, max_iter, tol

    def _sgd_rng(self):
        rng = self.random_state
        return rng if isinstance(rng, np.random.Generator) else check_random_state(rng)

    def _split_validation(self, X, y_enc, sw, penalty, n_classes):
        """Stratified hold-out for early stopping: ``(X, y, sw, validation objective)``."""
        from sklearn.model_selection import train_test_split

        idx = np.arange(X.shape[0])
        train, held = train_test_split(idx, test_size=self.validation_fraction, stratify=y_enc,
                                       random_state=check_random_state(self.random_state))
        train, held = np.sort(train), np.sort(held)
        X_held, X_train = backends.take_rows(X, held), backends.take_rows(X, train)
        validation = self._objective(X_held, y_enc[held], None if sw is None else sw[held], penalty, n_classes)
        return X_train, y_enc[train], None if sw is None else sw[train], validation

    def _make_callback(self, monitor, to_original):
        every = max(1, 100 // self.verbose) if self.verbose else 0

        def callback(state):
            if every and (state.iteration % every == 0 or state.iteration == 1):  # a short fit shows too
                print(f"iter {state.iteration:6d}  cost {state.fun:.10g}  |grad| {state.grad_norm:.3g}")
            if self.callback is not None and self.callback(state):
                return True
            return monitor is not None and monitor(to_original(state.x), state.iteration)

        return callback

    def _store(self, objective, theta, result, center=True):
        W, b = objective.split(theta)
        if objective.n_classes == 1:
            self.coef_ = W.reshape(1, -1).copy()
            self.intercept_ = np.array([b])
        else:
            self.coef_ = W.T.copy()
            self.intercept_ = np.array(b, dtype=np.float64)
            if center:
                # The softmax sees only differences between classes: report the
                # centered member of the family (the ridge optimum already is).
                self.intercept_ -= self.intercept_.mean()
                if objective.penalty.alpha == 0:
                    self.coef_ -= self.coef_.mean(axis=0)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.loss_history_ = np.asarray(result.loss_history)
        self.stop_reason_ = result.message

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of stochastic gradient descent on a piece of the data.

        For data that arrives in pieces: the first call needs ``classes`` (all
        labels), later calls continue from where the last stopped (learning
        rate, averaging and shuffling state included). More than two classes
        train the multinomial model (``multi_class="ovr"`` is refused here).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Required on the first call, as in scikit-learn.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if self.solver not in ("auto", "sgd"):
            raise ValueError(f"partial_fit trains by stochastic gradient descent; it needs solver='sgd' "
                             f"(or 'auto'), not solver={self.solver!r}.")
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit (all the labels).")
        state = getattr(self, "_sgd_state", None)
        penalty = self._check_params()
        sgd = SOLVERS["sgd"]
        options = sgd.options(vars(self), penalty.is_smooth, 0, False)
        if self.early_stopping:
            raise ValueError("early_stopping is not available with partial_fit; watch a validation set yourself.")
        X, y_enc, sw = self._validate_xy(X, y, sample_weight, reset=first, classes=classes if first else None)
        K = len(self.classes_)
        if K > 2 and self.multi_class == "ovr":
            raise ValueError("partial_fit trains the multinomial model; multi_class='ovr' is only available with fit.")
        objective = self._objective(X, y_enc, sw, penalty, 1 if K == 2 else K)
        x0 = self._initial_theta(objective.n_params, None if first else (self.coef_, self.intercept_))
        # Raw coordinates, also for learning_rate="auto": a preconditioner built
        # per piece would change the coordinates of the carried state between calls.
        result = sgd.run(objective, x0, max_iter=1, tol=sgd.tol if self.tol is None else self.tol,
                         callback=self._make_callback(None, np.asarray), state=state, random_state=self._sgd_rng(),
                         **options)
        self._sgd_state = result.state
        self._fit_data = self._inference = None  # the pieces are not kept: summary(X, y) gives the data
        self.solver_ = "sgd"
        history = [] if first else list(self.loss_history_)
        self._store(objective, result.x, result, center=False)
        self.loss_history_ = np.asarray(history + list(result.loss_history[-1:]))
        self.n_iter_ = len(self.loss_history_)
        return self

    def _warn_on_stop(self, result, monitor, max_iter, tol, what="", stacklevel=3):
        finding = None if monitor is None else monitor.finding
        if finding is not None:
            self.stop_reason_ = f"{finding.kind} separation"
            finding = finding.describe(getattr(self, "feature_names_in_", None))
        found = stop_warning(result, finding, self.solver_, self.learning_rate, max_iter, tol, what)
        if found is not None:
            warnings.warn(found[0], found[1], stacklevel=stacklevel)

    # -- inference ----------------------------------------------------------------------
    def summary(self, X=None, y=None, sample_weight=None, *, cov_type="nonrobust", groups=None, level=0.95):
        """Coefficients, standard errors, z tests, intervals, odds ratios and fit statistics, as R's ``summary.glm``.

        By default over the data the model was fitted on, which ``fit`` keeps
        by reference (not a copy; ``pickle`` drops it, :func:`logitgd.save`
        stores what the model-based and HC0/HC1 tables need). Pass ``X, y``
        (and ``sample_weight``) to summarize over other data, or after
        ``partial_fit``.

        Parameters
        ----------
        cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
            The inverse observed information; the sandwich ``H⁻¹ M H⁻¹``
            (``HC1`` times ``n / (n - k)``); or the cluster sandwich over
            ``groups``, times ``G / (G - 1) (n - 1) / (n - k)`` (statsmodels').
        groups : array-like of shape (n_samples,), default=None
            Cluster labels, with ``cov_type="cluster"``.
        level : float, default=0.95
            Confidence level of the intervals.

        Returns
        -------
        logitgd.summary.Summary
            ``print()`` it for the table; ``conf_int(method="profile")`` for
            profile-likelihood intervals.
        """
        check_is_fitted(self)
        penalty = inference.check_model(self)
        if X is not None:
            K = len(self.classes_)
            X, y_enc, sw = self._validate_xy(X, y, sample_weight, reset=False)
            found = inference.ingredients(self._objective(X, y_enc, sw, penalty, 1 if K == 2 else K),
                                          inference.theta_of(self), self.stop_reason_, self.converged_,
                                          self.penalty == "firth")
        else:
            found = self._ingredients()
        return inference.summarize(found, self, cov_type=cov_type, groups=groups, level=level)

    def _ingredients(self):
        """What the summary needs of the training data (kept after the first call), or an error saying to pass it."""
        if getattr(self, "_inference", None) is None:
            if getattr(self, "_fit_data", None) is None:
                raise InferenceError("summary() needs the data: this model does not hold the data it was fitted "
                                     "on (fitted by partial_fit, unpickled, or loaded from a file without them); "
                                     "call model.summary(X, y).")
            self._inference = inference.ingredients(self._fit_data, inference.theta_of(self), self.stop_reason_,
                                                    self.converged_, self.penalty == "firth")
        return self._inference

    @classmethod
    def from_formula(cls, formula, data, sample_weight=None, **params):
        """Fit ``formula`` (``"admit ~ gre + gpa + C(rank)"``, formulaic's syntax) on the DataFrame ``data``.

        Categorical terms, interactions and transforms become columns with
        readable names (``feature_names_in_``); ``- 1`` drops the intercept.
        New data for ``predict`` and friends may be a DataFrame of the
        original variables: the same formula (with the training data's
        levels and transform states) builds their columns.
        """
        from . import formula as _formula

        design = _formula.design(formula, data)
        model = cls(**{"fit_intercept": design.fit_intercept, **params}).fit(design.X, design.y, sample_weight)
        model.formula_, model._formula_spec = formula, design.spec
        return model

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        state.pop("_fit_data", None)  # the training data, held by reference, are not pickled
        return state
