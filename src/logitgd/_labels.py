"""Labels and weights: the classes a fit learns, the check of new labels, their encoding, the sample weights.

Every backend summarizes the labels it saw (their distinct values, on the
host); the estimator turns that summary into ``classes_`` here and sets its
own attributes. The encoding is what the objective trains on: 0.0/1.0 for
two classes (the binary model's one score column), else class indices.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight


def feature_labels(names, d):
    """The ``d`` features' names as text: ``names`` (e.g. ``feature_names_in_``), or ``x0, x1, ...`` without."""
    return [f"x{j}" for j in range(d)] if names is None else [str(n) for n in names]


def classes_from(found, classes=None):
    """``classes_`` from the distinct labels ``found`` (sorted), or from ``classes`` as given (``partial_fit``).

    Raises ValueError for labels that are not classes (continuous numbers) or
    for fewer than two classes, naming the one there is.
    """
    check_labels(found)
    labels = np.asarray(found) if classes is None else np.unique(np.asarray(classes))
    if classes is not None:
        check_labels(labels)
    if len(labels) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the data "
                         f"contains only one class: {labels[0]!r}.")
    return labels


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
