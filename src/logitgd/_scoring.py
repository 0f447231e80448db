"""Scoring with a fitted linear model: the estimator's ``decision_function``, ``predict*`` and ``score``."""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.utils.validation import check_is_fitted, validate_data

from . import backends
from ._labels import feature_labels
from ._numerics import log_sigmoid, sigmoid

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def plain_array(estimator, X, reset, finite):
    """``X`` as scikit-learn's ``validate_data`` would return it, without its cost, where that is X itself: a
    non-empty, C-ordered float64/float32 ndarray (no names, no conversion, no copy); ``n_features_in_`` set or
    checked as it does. None for anything else, and wherever scikit-learn would say something (a feature count
    or names that differ from the fit's, non-finite values with ``finite``): the caller then asks it. Its
    checks cost 0.15-0.3 ms a call (the dataframe detection above all), a tenth of a small fit and more of a
    prediction."""
    if not (type(X) is np.ndarray and X.ndim == 2 and X.size and X.dtype in _FLOATS and X.flags.c_contiguous):
        return None
    if finite:
        flat = X.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(flat @ flat if flat.size >= 1_000_000 else np.einsum("i,i->", flat, flat))
        if not np.isfinite(total):
            return None
    if reset:
        estimator.n_features_in_ = X.shape[1]
        estimator.__dict__.pop("feature_names_in_", None)
    elif getattr(estimator, "n_features_in_", None) != X.shape[1] or hasattr(estimator, "feature_names_in_"):
        return None
    return X


def _lazily_on_dask(method):
    """``method(X)``, or for dask input a lazy dask array, each row chunk scored by the in-memory method."""
    @functools.wraps(method)
    def scores(self, X):
        if not backends.is_dask(X):
            return method(self, X)
        check_is_fitted(self)
        from .backends.dask import score

        return score.score_lazily(self, method.__name__, X)

    return scores


class LinearScores:
    """The scoring methods of :class:`~logitgd.LogisticRegression` (a mixin; it reads ``coef_``, ``intercept_``)."""

    def _formula_columns(self, X):
        """A DataFrame of the original variables through the model's formula (a model from ``from_formula``)."""
        spec = getattr(self, "_formula_spec", None)
        if spec is None or not hasattr(X, "columns") or set(self.feature_names_in_) <= set(map(str, X.columns)):
            return X
        from . import formula

        return formula.transform(spec, X)

    @_lazily_on_dask
    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``: shape (n_samples,) for two classes, else (n_samples, K).

        Dask input gives a lazy dask array, here and in the ``predict*`` methods.
        """
        check_is_fitted(self)
        X = self._formula_columns(X)
        if backends.is_tensor(X):  # scored where it lives
            from .backends.torch import validate as _torch

            X, _ = _torch.check_tensor_xy(X)
            self._set_n_features(int(X.shape[1]), False)
            scores = _torch.decision_function(X, self.coef_, self.intercept_)
            return scores[:, 0] if scores.shape[1] == 1 else scores
        checked = plain_array(self, X, reset=False, finite=True)
        X = checked if checked is not None else validate_data(self, X, accept_sparse="csr", accept_large_sparse=True,
                                                              dtype=[np.float64, np.float32], reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y`` (weighted by ``sample_weight``).

        Dask input is scored on the workers; only the predicted and true labels
        (and weights) come back to the client.
        """
        if backends.is_dask(X):
            from .backends.dask import score as _dask

            return _dask.accuracy(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def _ovr(self):
        return len(self.classes_) > 2 and self.multi_class == "ovr"

    @_lazily_on_dask
    def predict_proba(self, X):
        """Class probabilities, ndarray of shape (n_samples, n_classes), columns as ``classes_``.

        Two classes: ``sigmoid`` of the score. Multinomial: the softmax of the
        K scores. ``"ovr"``: each class's ``sigmoid``, normalized to sum to 1.
        """
        z = self.decision_function(X)
        if z.ndim == 1:
            return np.column_stack([sigmoid(-z), sigmoid(z)])
        if self._ovr():
            p = sigmoid(z)
            return p / p.sum(axis=1, keepdims=True)
        return softmax(z, axis=1)

    @_lazily_on_dask
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the raw scores."""
        z = self.decision_function(X)
        if z.ndim == 1:
            return np.column_stack([log_sigmoid(-z), log_sigmoid(z)])
        if self._ovr():
            return log_softmax(log_sigmoid(z), axis=1)
        return log_softmax(z, axis=1)

    def explain(self, x, y=None):
        """One row through the model's computation graph: the forward pass (each term ``w_j x_j``, ``z = w·x + b``,
        ``a = σ(z)``, the prediction, and with the label ``y`` the loss) and the backward pass (``dz = a - y``,
        ``db = dz``, ``dw_j = x_j dz``); softmax for K classes. ``x``: one row, as :meth:`predict` takes it (a 1-d
        array, a (1, d) array or sparse matrix, a one-row DataFrame). Returns a
        :class:`logitgd.explain.Explanation` (``print`` it for the table; ``to_frame()``)."""
        from .exceptions import DataError
        from .explain import explain_row

        check_is_fitted(self)
        X = self._formula_columns(x)
        if isinstance(X, np.ndarray) and X.ndim == 1 or isinstance(X, (list, tuple)) and np.ndim(X) == 1:
            X = np.asarray(X).reshape(1, -1)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        if X.shape[0] != 1:
            raise DataError(f"explain takes one row; got {X.shape[0]} (pass X[i:i + 1], or X.iloc[[i]]).")
        row = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)[0]
        if y is not None:
            if np.ndim(y) > 0:
                y = np.asarray(y).reshape(-1)
                if y.shape[0] != 1:
                    raise DataError(f"explain takes one label; got {y.shape[0]}.")
                y = y[0]
            if not np.any(self.classes_ == y):
                raise DataError(f"y={y!r} is not one of the model's classes {list(self.classes_)}.")
            y = self.classes_[np.flatnonzero(self.classes_ == y)[0]]
        names = feature_labels(getattr(self, "feature_names_in_", None), row.shape[0])
        link = "sigmoid" if len(self.classes_) == 2 else ("ovr" if self._ovr() else "softmax")
        return explain_row(row, self.coef_, self.intercept_, self.classes_, link, names, y)

    @_lazily_on_dask
    def predict(self, X):
        """Labels: the most probable class (two classes: ``classes_[1]`` where its probability exceeds 0.5)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


