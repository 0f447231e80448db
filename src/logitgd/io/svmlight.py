"""svmlight/LIBSVM files, read into a sparse CSR matrix, with errors that name the line that is wrong."""

from __future__ import annotations

import bz2
import gzip
import os

import numpy as np
import scipy.sparse as sp

from ..exceptions import DataError
from .tables import _check_file, _one_line


def _open_binary(path):
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def _show(token, limit=40):
    text = token.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _parses(kind, text):
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _svmlight_line_problem(line, zero_based, n_features):
    """What is wrong with one line of an svmlight file, or None.

    The rules are those of scikit-learn's reader: ``label [qid:n]
    index:value ...`` separated by white space, ``#`` starts a comment,
    indices increase along a line, and they are 0-based if ``zero_based``.
    ``n_features`` (with a model): the number of columns there are.
    """
    if b"\0" in line:
        return "holds binary data (a NUL byte); this is not a text svmlight file"
    parts = line.split(b"#", 1)[0].split()
    if not parts:
        return None
    label, features = parts[0], parts[1:]
    if b":" in label:
        return f"expected a numeric label first, got the feature {_show(label)}"
    if b"," in label:
        return f"expected one numeric label, got {_show(label)} (multi-label lines are not supported)"
    if not _parses(float, label):
        return f"expected a numeric label first, got {_show(label)}"
    if not np.isfinite(float(label)):
        return f"the label {_show(label)} is not a finite number"
    if features and features[0].startswith(b"qid"):
        key, _, value = features.pop(0).partition(b":")
        if key != b"qid" or not _parses(int, value):
            return f"expected 'qid:<integer>', got {_show(key + b':' + value)}"
    previous = None
    base = 0 if zero_based else 1
    for token in features:
        index, colon, value = token.partition(b":")
        if not colon:
            return f"expected 'index:value', got {_show(token)}"
        if not _parses(int, index):
            return f"expected 'index:value' with a whole-number index, got {_show(token)}"
        if not _parses(float, value):
            return f"expected 'index:value' with a numeric value, got {_show(token)}"
        index = int(index)
        if index < 0:
            return f"feature index {index} in {_show(token)} is negative"
        if index == 0 and not zero_based:
            return (f"feature index 0 in {_show(token)}, but indices are 1-based here "
                    "(as in the data the model was trained on)")
        if index >= 2**31 - 1:
            return f"feature index {index} in {_show(token)} is too large"
        if previous is not None and index <= previous:
            return (f"feature indices must increase along a line, but {index} comes after {previous} "
                    f"(in {_show(token)})")
        if not np.isfinite(float(value)):
            return f"feature {index} has the non-finite value {_show(value)}"
        if n_features is not None and index - base >= n_features:
            return (f"feature index {index} is beyond the model's {n_features} features "
                    f"(indices {base} to {n_features - 1 + base})")
        previous = index
    return None


def _svmlight_problem(path, zero_based, n_features):
    """``(line number, problem)`` for the first bad line of an svmlight file, or None."""
    try:
        with _open_binary(path) as fh:
            for lineno, line in enumerate(fh, 1):
                problem = _svmlight_line_problem(line, zero_based, n_features)
                if problem:
                    return lineno, problem
    except (OSError, EOFError):  # a damaged .gz/.bz2: reported by the caller
        return None
    return None


def _exact_labels(path, n_rows):
    """The labels of an svmlight file as int64, read from their text (float64, as scikit-learn reads them, merges
    whole numbers from 2**53 on: 2**53 and 2**53 + 1 become one class), or None where they are not all integers
    within int64."""
    labels = []
    with _open_binary(path) as fh:
        for line in fh:
            parts = line.split(b"#", 1)[0].split(None, 1)
            if parts:
                try:
                    labels.append(int(parts[0]))
                except ValueError:
                    return None
    if len(labels) != n_rows or max(map(abs, labels)) >= 2**63:
        return None
    return np.array(labels, dtype=np.int64)


def _svmlight_error(path, zero_based, n_features, fallback):
    found = _svmlight_problem(path, zero_based, n_features)
    if found is None:
        return DataError(f"{path} could not be read as svmlight: {fallback}")
    lineno, problem = found
    return DataError(f"{path} line {lineno}: {problem}.")


#: widths above _WIDE (2**24 columns: 134 MB per class of coefficients) need a value per _COLUMNS_PER_VALUE columns
_WIDE, _COLUMNS_PER_VALUE = 2**24, 64


def read_svmlight(path, *, n_features=None, zero_based="auto"):
    """Read an svmlight/LIBSVM file with :func:`sklearn.datasets.load_svmlight_file`.

    Parameters
    ----------
    path : str or path-like
        ``.svm``, ``.libsvm`` or ``.svmlight``, optionally ``.gz``/``.bz2``.
    n_features : int or None
        The number of columns of X (a model's ``n_features_in_``); an index
        beyond it is an error naming its line. None: as many as the file uses.
    zero_based : bool or "auto"
        Whether feature indices start at 0. ``"auto"`` (as scikit-learn):
        0-based if any index is 0, else 1-based. With a model, pass the
        value that its training file was read with, so that columns match.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        The labels: int64 when all are whole numbers, else float64.
    zero_based : bool
        The indexing used.

    Raises
    ------
    DataError
        Missing or empty file, a damaged compressed file, or a malformed
        line, with the line number and what is wrong with it (scikit-learn's
        own messages do not say which line).
    """
    from sklearn.datasets import load_svmlight_file

    path = os.fspath(path)
    _check_file(path)
    compressed = path.lower().endswith((".gz", ".bz2"))
    try:
        # Always read the indices as they are, and settle the base here: the
        # caller learns which base "auto" chose, and a 0 in a 1-based file
        # gets its line number.
        X, y = load_svmlight_file(path, dtype=np.float64, zero_based=True)
    except (ValueError, OverflowError) as exc:
        raise _svmlight_error(path, zero_based if zero_based != "auto" else True, n_features,
                              _one_line(exc)) from None
    except (OSError, EOFError) as exc:  # a .gz or .bz2 that is not one, or cut short
        what = "compressed svmlight" if compressed else "svmlight"
        raise DataError(f"{path} could not be read as {what}: {_one_line(exc)}") from None
    X = sp.csr_matrix(X)
    if X.shape[0] == 0:
        raise DataError(f"data file {path} has no data lines (only blank lines and comments).")
    lowest = int(X.indices.min()) if X.nnz else None
    if zero_based == "auto":
        zero_based = not (lowest is not None and lowest > 0)
    if not zero_based and lowest == 0:
        raise _svmlight_error(path, False, None, "feature index 0 in a file with 1-based indices")
    width = X.shape[1] if zero_based else max(X.shape[1] - 1, 0)
    if n_features is None and width > _WIDE and width > _COLUMNS_PER_VALUE * X.nnz:
        k = int(np.argmax(X.indices))
        row = int(np.searchsorted(X.indptr, k, side="right"))
        raise DataError(
            f"{path}: feature index {int(X.indices[k])} (data line {row}) is far beyond what "
            f"the file holds ({X.nnz} values in {X.shape[0]} lines): a model of {width} features would take "
            f"{width * 8 / 1e9:.2g} GB per class. Check the file (a typo, or hashed features with too many "
            f"buckets); an index above {_WIDE} is read when the file has a value for every {_COLUMNS_PER_VALUE} "
            "columns.")
    if n_features is not None and width > n_features:
        raise _svmlight_error(path, zero_based, n_features,
                              f"it has {width} features, the model {n_features}")
    if not (np.isfinite(X.data).all() and np.isfinite(y).all()):
        raise _svmlight_error(path, zero_based, n_features, "it holds non-finite values")
    if not zero_based:
        X = sp.csr_matrix((X.data, X.indices - 1, X.indptr), shape=(X.shape[0], width))
    if n_features is not None and X.shape[1] != n_features:
        X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))
    if np.all(y == np.round(y)) and np.abs(y).max() < 2**53:
        y = y.astype(np.int64)
    elif np.abs(y).max() >= 2**53:  # beyond float64's whole numbers: the labels as written, if they are integers
        exact = _exact_labels(path, len(y))
        y = y if exact is None else exact  # else check_target refuses them, naming the first
    return X, y, bool(zero_based)
