"""Labels and weights: the classes a fit learns, the check of new labels, their encoding, the sample weights.

Every backend summarizes the labels it saw (their distinct values, on the
host); the estimator turns that summary into ``classes_`` here and sets its
own attributes. The encoding is what the objective trains on: 0.0/1.0 for
two classes (the binary model's one score column), else class indices.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight

from .exceptions import DataError


def feature_labels(names, d):
    """The ``d`` features' names as text: ``names`` (e.g. ``feature_names_in_``), or ``x0, x1, ...`` without."""
    return [f"x{j}" for j in range(d)] if names is None else [str(n) for n in names]


def classes_from(found, classes=None):
    """``classes_`` from the distinct labels ``found`` (sorted), or from ``classes`` as given (``partial_fit``).

    Raises ValueError for labels that are not classes (continuous numbers) or
    for fewer than two classes, naming the one there is.
    """
    check_labels(found)
    labels = np.asarray(found) if classes is None else distinct(np.asarray(classes), "classes")
    if classes is not None:
        check_labels(labels)
    if len(labels) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the data "
                         f"contains only one class: {labels[0]!r}.")
    return labels


def label_text(value):
    """A label as the user wrote it: ``1``, ``'a'`` (not numpy's ``np.int64(1)``, ``np.str_('a')``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def distinct(y, what="y"):
    """The distinct labels of ``y``, sorted (``np.unique``); a DataError naming the kinds of label where they
    cannot be sorted into classes (numbers and text mixed in an object array, or None among them)."""
    try:
        return np.unique(y)
    except TypeError:
        first = {}
        for v in np.ravel(np.asarray(y, dtype=object)):
            first.setdefault(type(v).__name__, v)
        kinds = ", ".join(f"{label_text(v)} ({k})" for k, v in first.items())
        text = any(isinstance(v, (str, bytes)) for v in first.values())
        number = any(isinstance(v, (numbers.Number, np.generic)) and not isinstance(v, (str, bytes))
                     for v in first.values())
        mix = "string and number" if text and number else " and ".join(first)
        raise DataError(f"Mix of label input types ({mix}) in {what}: its labels cannot be sorted into classes "
                        f"(first of each type: {kinds}); give every label as text or every label as a number "
                        "(for example y.astype(str)).") from None


def check_labels(found):
    """scikit-learn's ``check_classification_targets`` on the distinct labels ``found`` (1-d), in microseconds
    for the usual kinds (integers, booleans, text, whole floats: scikit-learn's check costs 0.2-0.3 ms, a small
    fit's tenth); other kinds (objects, mixed) go through scikit-learn's."""
    found = np.asarray(found)
    kind = found.dtype.kind
    if kind in "biuUS":
        return
    if kind == "f" and found.ndim == 1:
        if np.all(np.isfinite(found)) and np.array_equal(found, np.floor(found)):
            return
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which expects "
                         "discrete classes on a regression target with continuous values.")
    check_classification_targets(found)
    type_of_target(found, input_name="y", raise_unknown=True)


def check_known(found, classes_):
    """Raise ValueError naming the labels in ``found`` that are not in ``classes_``."""
    unknown = np.setdiff1d(found, classes_)
    if unknown.size:
        raise ValueError(f"y has labels {list(unknown[:5])} not in classes_ {list(classes_)}.")


def encode(y, classes_):
    """``y`` as the objective's labels: 0.0/1.0 floats for two classes, else indices into ``classes_``."""
    if len(classes_) == 2:
        return (y == classes_[1]).astype(np.float64)
    return np.searchsorted(classes_, y).astype(np.intp)


def class_weight_factors(class_weight, classes_, counts):
    """Weight per class (ndarray of shape (n_classes,)) from ``class_weight`` and the count of each class, or None.

    ``"balanced"`` is ``n_samples / (n_classes * count)``; a dict gives its own
    weight to the classes it names (1 to the others).
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        return np.array([class_weight.get(c, 1.0) for c in classes_], dtype=np.float64)
    if class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (len(classes_) * counts)
    raise ValueError(f"class_weight must be a dict, 'balanced' or None, got {class_weight!r}.")


def check_class_weight(class_weight, classes_=None):
    """Refuse (ValueError, naming what is wrong) a ``class_weight`` other than None, ``"balanced"`` or a dict of
    finite weights >= 0; with ``classes_``, also a dict key that is not one of them (scikit-learn's
    ``compute_class_weight`` refuses it too: ``{"1": 10.0}`` for the label 1 would weigh nothing) or a weight of 0
    (the class would not count: its intercept runs to minus infinity)."""
    if class_weight is None or isinstance(class_weight, str) and class_weight == "balanced":
        return
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{label: weight}}, 'balanced' or None, got {class_weight!r}.")
    for label, w in class_weight.items():
        if isinstance(w, (bool, np.bool_)) or not (isinstance(w, numbers.Real) and np.isfinite(w) and w >= 0):
            raise ValueError(f"class_weight must give each class a finite weight >= 0; it gives {label_text(label)} "
                             f"the weight {w!r}.")
    if classes_ is None:
        return
    known = set(classes_)  # as class_weight_factors looks them up: by hash and ==
    unknown = [k for k in class_weight if k not in known]
    if unknown:
        raise ValueError(f"class_weight has the key{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(label_text(k) for k in unknown[:5])}, which {'are' if len(unknown) > 1 else 'is'}"
                         f" not among the labels [{', '.join(label_text(c) for c in classes_)}] (a key must equal a "
                         "label, of its type: '1' is not 1).")
    zero = [c for c in classes_ if c in class_weight and class_weight[c] == 0]
    if zero:
        raise DataError(f"class {label_text(zero[0])} has no weight: class_weight gives it 0, so the fit cannot "
                        "learn it (its intercept would run to minus infinity); drop its rows instead, or give it "
                        "a weight > 0.")


def check_weighted_classes(sums, counts, classes_):
    """Refuse (DataError) weights that are zero on every row of a class (``sums``, ``counts``: per class of
    ``classes_``): the fit would converge to a model of nothing for it (an intercept of about -23, every
    probability of that class 0), as if its rows were not there."""
    empty = np.flatnonzero((np.asarray(sums) <= 0) & (np.asarray(counts) > 0))
    if empty.size:
        k = int(empty[0])
        raise DataError(f"class {label_text(classes_[k])} has no weight: every sample_weight of its "
                        f"{int(counts[k])} rows is 0, so the fit cannot learn it; drop its rows (and the class) or "
                        "give some of them weight.")


def check_sample_weight(sample_weight, X):
    """Checked sample weights of shape (n_samples,), float64, or None (none given, or all equal: the cost is a
    weighted mean, so equal weights are the same as none). ValueError for negative, non-finite or all-zero ones."""
    if sample_weight is None:
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinite values.")
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to zero: there is nothing to fit.")
    return None if np.all(sw == sw[0]) else sw


def with_class_weight(sw, class_weight, classes_, y, X):
    """Checked sample weights ``sw`` (or None) multiplied by the weight of each row's class."""
    check_class_weight(class_weight, classes_)
    if class_weight is None:
        return sw
    if isinstance(class_weight, dict):
        cw = class_weight_factors(class_weight, classes_, None)[np.searchsorted(classes_, y)]
    else:  # "balanced" over the classes present in y, as scikit-learn's
        cw = compute_sample_weight(class_weight, y)
    return check_sample_weight(cw if sw is None else sw * cw, X)


def _value_limit(dtype):
    """The largest magnitude a fit computes with in ``dtype``: the square root of the largest number over 1e4,
    so that sums of squares over many rows stay finite (1.3e150 for float64, 1.8e15 for float32)."""
    return float(np.sqrt(np.finfo(dtype).max) / 1e4)


def _first_bad(X, test):
    """``(row, column, count)`` of the cells where ``test`` holds (the first in row order, then column order), for
    a dense array or a CSR matrix (its indices may be unsorted), a block of rows at a time (no copy of X)."""
    if hasattr(X, "tocsr"):
        X = X.tocsr()
        bad = test(X.data)
        count = int(bad.sum())
        if not count:
            return None, None, 0
        row = int(np.searchsorted(X.indptr, int(np.argmax(bad)), side="right") - 1)
        cells = slice(X.indptr[row], X.indptr[row + 1])
        return row, int(X.indices[cells][bad[cells]].min()), count
    first, count = (None, None), 0
    step = max(1, 2 ** 20 // max(X.shape[1], 1))
    for start in range(0, X.shape[0], step):
        bad = test(X[start:start + step])
        found = int(bad.sum())
        if found and first[0] is None:
            r, c = np.unravel_index(int(np.argmax(bad)), bad.shape)
            first = (start + int(r), int(c))
        count += found
    return first[0], first[1], count


def check_values(X, names=None):
    """Refuse data a fit cannot compute with, naming the cell or the column: NaN, infinity, or magnitudes whose
    squares overflow (a column scaled by 1e160). One pass: the sum of squares, finite and below the square of
    the largest magnitude allowed for all other data (it replaces scikit-learn's sum-is-finite check, at the same
    cost); only data that fail it are looked at again, a block of rows at a time."""
    if X.dtype.kind != "f":
        return  # integers are finite, and are made float64 before a fit
    data = X.data if hasattr(X, "tocsr") else X.ravel(order="K")  # no copy for C- or Fortran-ordered X
    limit = _value_limit(X.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        # small data: einsum, on this thread (a BLAS dot wakes its threads: 4-8 ms instead of 10 us for 17,000
        # values on a busy 2-core machine)
        total = float(data @ data if data.size >= 1_000_000 else np.einsum("i,i->", data, data))
    if np.isfinite(total) and total <= limit * limit:
        return
    names = feature_labels(names, X.shape[1])
    row, col, count = _first_bad(X, lambda a: ~np.isfinite(a))
    if count:
        value = X[row, col]
        raise ValueError(f"Input X contains {'NaN' if np.isnan(value) else 'infinity'} (first at row {row}, "
                         f"column {names[col]!r}; {count} such values): fill or drop them before fitting.")
    biggest = np.maximum(np.asarray(X.max(axis=0).todense() if hasattr(X, "tocsr") else X.max(axis=0)).ravel(),
                         -np.asarray(X.min(axis=0).todense() if hasattr(X, "tocsr") else X.min(axis=0)).ravel())
    huge = np.flatnonzero(biggest > limit)
    if huge.size:
        j = int(huge[np.argmax(biggest[huge])])
        raise ValueError(f"column {names[j]!r} has values up to {biggest[j]:.3g}, too large to fit with in "
                         f"{X.dtype} arithmetic (the limit is {limit:.2g}: sums of squares of larger values overflow): "
                         "rescale it (divide it by a power of ten)"
                         + (", or give the data as float64" if X.dtype == np.float32 else "")
                         + (f"; {huge.size - 1} more columns too" if huge.size > 1 else "") + ".")


def check_firth_columns(X, sw, names=None):
    """Refuse, by name, a column that is zero on every row with weight: Firth's penalty is half the log of the
    Fisher information's determinant, which such a column makes 0 whatever the coefficients."""
    if not (isinstance(X, np.ndarray) or hasattr(X, "tocsr")):
        return  # tensors and dask rows: the solver's own check
    rows = X if sw is None else X[np.asarray(sw) > 0]
    used = np.asarray((abs(rows) > 0).sum(axis=0)).ravel() > 0
    if not used.all():
        name = feature_labels(names, X.shape[1])[int(np.flatnonzero(~used)[0])]
        raise ValueError(f"penalty='firth' needs every column to be non-zero on some row: column {name!r} is all "
                         "zero (on the rows with weight), so the Fisher information is singular and Firth's penalty "
                         "(half the log of its determinant) undefined; drop the column.")
