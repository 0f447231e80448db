"""Tables (CSV and Parquet): reading them, checking their columns and labels, one-hot encoding.

Also how a file's format is told from its name (:func:`is_svmlight`) and the
checks every reader makes of a file (the form of the messages: :mod:`logitgd.io`).
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from ..exceptions import DataError

_CSV = (".csv", ".txt", ".csv.gz", ".txt.gz")
_PARQUET = (".parquet", ".pq")
_SVMLIGHT = tuple(ext + comp for ext in (".svm", ".libsvm", ".svmlight") for comp in ("", ".gz", ".bz2"))


def is_svmlight(path):
    """Whether ``path`` names an svmlight/LIBSVM file (by its extension)."""
    return os.fspath(path).lower().endswith(_SVMLIGHT)


def _check_file(path):
    if not os.path.exists(path):
        raise DataError(f"data file {path} does not exist.")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a data file.")
    if os.path.getsize(path) == 0:
        raise DataError(f"data file {path} is empty.")


def read_table(path):
    """Read a CSV or Parquet file into a DataFrame.

    Raises
    ------
    DataError
        Missing file, unknown extension, empty file, or a file whose contents
        are not what its extension says.
    """
    path = os.fspath(path)
    lower = path.lower()
    _check_file(path)
    if lower.endswith(_SVMLIGHT):
        raise DataError(f"{path} is an svmlight file, not a table; read it with read_svmlight.")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if lower.endswith(_PARQUET):
        if head != b"PAR1":
            raise DataError(f"{path} is not a Parquet file (it does not start with the Parquet magic bytes).")
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:  # pages written with checksums are checked against them (a flipped bit is an error, not a value)
            table = pq.read_table(path, page_checksum_verification=True)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise DataError(f"{path} could not be read as Parquet: {_one_line(exc)}") from None
        nested = [f.name for f in table.schema if pa.types.is_nested(f.type) or pa.types.is_dictionary(f.type)
                  and pa.types.is_nested(f.type.value_type)]
        if nested:
            raise DataError(f"{path}: column {nested[0]!r} holds {table.schema.field(nested[0]).type} values (lists or "
                            "records in a cell); a feature or label column holds one number, category or text per "
                            "row: flatten it, or leave it out.")
        return table.to_pandas()
    if lower.endswith(_CSV):
        if head == b"PAR1":
            raise DataError(f"{path} looks like a Parquet file, not CSV; name it .parquet.")
        try:
            df = pd.read_csv(path)
            if len(df.columns) == 1 and ";" in str(df.columns[0]):
                # a CSV of the semicolon convention (Excel in many locales): ';' between fields, ',' the decimal
                # mark (a '.' still reads: such text is converted as numbers are)
                df = pd.read_csv(path, sep=";", decimal=",")
        except pd.errors.EmptyDataError:
            raise DataError(f"data file {path} is empty (no header and no rows).") from None
        except UnicodeDecodeError:
            raise DataError(f"{path} is not a text CSV file (it is not valid UTF-8 text).") from None
        except pd.errors.ParserError as exc:
            raise DataError(f"{path} is not well-formed CSV: {_one_line(exc)}") from None
        except (OSError, EOFError, ValueError) as exc:  # e.g. a .csv.gz that is not gzip
            raise DataError(f"{path} could not be read as CSV: {_one_line(exc)}") from None
        if not isinstance(df.index, pd.RangeIndex):  # pandas took the first fields as row labels
            raise DataError(f"{path}: row 1 has {len(df.columns) + df.index.nlevels} fields and the header "
                            f"{len(df.columns)}: give every row one field per column name.")
        return df
    raise DataError(
        f"cannot tell the format of {path}: expected a name ending in "
        f"{', '.join(_CSV + _PARQUET + _SVMLIGHT[::3])} (svmlight also .gz, .bz2)."
    )


def _one_line(exc):
    """The text of an exception from a parser, on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_rows(n_rows, source):
    if n_rows == 0:
        raise DataError(f"{source} has a header but no data rows.")


def _first_bad(mask):
    """1-based row of the first True and how many more there are."""
    idx = np.flatnonzero(mask)
    return int(idx[0]) + 1, len(idx) - 1


def _more(n):
    return f" (and {n} more)" if n else ""


def numeric_features(df, columns, source, hint="encode categories first", allow_missing=False):
    """``df[columns]`` as a float64 ndarray, after checking each column.

    ``hint`` ends the message for a column of text: what to do about it.

    Raises
    ------
    DataError
        A column that is not numeric, or holds a missing or infinite value.
    """
    _check_rows(len(df), source)
    out = np.empty((len(df), len(columns)), dtype=np.float64)
    for j, col in enumerate(columns):
        s = df[col]
        if isinstance(s, pd.DataFrame):
            raise DataError(f"{source} has more than one column named {col!r}.")
        if (pd.api.types.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.PeriodDtype)
                or pd.api.types.is_timedelta64_dtype(s) or pd.api.types.is_complex_dtype(s)):
            raise DataError(
                f"{source}: column {col!r} is not numeric: it holds {s.dtype} values "
                f"(row 1 holds {s.iloc[0]!r}); features must be real numbers."
            )
        if s.dtype == bool or pd.api.types.is_bool_dtype(s):
            s = s.astype(np.float64)
        if not pd.api.types.is_numeric_dtype(s):
            converted = pd.to_numeric(s, errors="coerce")
            bad = converted.isna() & s.notna()
            if bad.any():
                row, more = _first_bad(bad.to_numpy())
                raise DataError(
                    f"{source}: column {col!r} is not numeric: row {row} holds {s.iloc[row - 1]!r}"
                    f"{_more(more)}; features must be numbers ({hint})."
                )
            s = converted
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any() and not allow_missing:
            row, more = _first_bad(np.isnan(values))
            raise DataError(
                f"{source}: column {col!r} has a missing value at row {row}{_more(more)}; "
                "fill or drop missing values first (the command line: --impute median)."
            )
        if np.isinf(values).any():
            row, more = _first_bad(np.isinf(values))
            raise DataError(f"{source}: column {col!r} has an infinite value at row {row}{_more(more)}.")
        out[:, j] = values
    return out


def _columns_list(df):
    return ", ".join(map(str, df.columns[:20])) + (", ..." if len(df.columns) > 20 else "")


def _check_target_column(df, target, source):
    if target not in df.columns:
        raise DataError(f"{source} has no target column {target!r}; its columns are: {_columns_list(df)}.")


def split_xy(df, target, source):
    """Split a table into numeric features and a column of class labels.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
    feature_names : list of str
    """
    _check_target_column(df, target, source)
    features = [c for c in df.columns if c != target]
    if not features:
        raise DataError(f"{source} has no feature columns besides the target {target!r}.")
    _check_rows(len(df), source)
    check_target(df[target], target, source)
    X = numeric_features(df, features, source, hint="name text columns with --categorical to one-hot encode them")
    return X, df[target].to_numpy(), [str(c) for c in features]


def check_target(y, target, source, min_classes=2, what=None):
    """Raise DataError unless ``y`` holds class labels, none missing, of at least ``min_classes`` classes.

    Fitting needs two classes or more; evaluating a model on data of one
    class is fine. Numbers that are not whole (a continuous variable, not
    labels) are refused. ``what`` names the labels in messages (default:
    ``"target column 'name'"``; ``"the labels"`` for an svmlight file).
    """
    what = what or f"target column {target!r}"
    has, holds = ("have", "hold") if what.startswith("the labels") else ("has", "holds")
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    _check_rows(len(y), source)
    missing = pd.isna(y).to_numpy()
    if missing.any():
        row, more = _first_bad(missing)
        raise DataError(f"{source}: {what} {has} a missing value at row {row}{_more(more)}.")
    if pd.api.types.is_float_dtype(y):
        values = y.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            row, more = _first_bad(bad)
            raise DataError(
                f"{source}: {what} {holds} numbers that are not whole (row {row}: {float(values[row - 1])!r}"
                f"{_more(more)}); a classifier needs class labels, not a continuous variable."
            )
        huge = np.abs(values) > 2.0**53
        if huge.any():
            row, more = _first_bad(huge)
            raise DataError(
                f"{source}: {what} {holds} {float(values[row - 1])!r} at row {row}{_more(more)}, beyond 2**53, where "
                "floating-point numbers no longer tell neighbouring whole numbers apart; write such labels as text."
            )
    classes = pd.unique(y)
    if len(classes) < min_classes:
        raise DataError(
            f"{source}: {what} {has} only one class ({classes[0]!r}); "
            "a classifier needs two or more."
        )


def _missing_columns_error(source, missing, n_columns, kind="feature columns"):
    shown = ", ".join(map(repr, missing[:10])) + (", ..." if len(missing) > 10 else "")
    return DataError(
        f"{source} does not match the model: it lacks {len(missing)} of the model's "
        f"{n_columns} {kind}: {shown}."
    )


def model_features(df, model, source):
    """The columns ``model`` was trained on, taken from ``df`` by name.

    Raises
    ------
    DataError
        ``df`` lacks some of the model's columns (or, for a model trained
        without names, has a different number of columns).
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        if df.shape[1] != model.n_features_in_:
            raise DataError(
                f"{source} has {df.shape[1]} columns but the model expects {model.n_features_in_} features."
            )
        columns = list(df.columns)
    else:
        columns = [str(c) for c in names]
        present = {str(c) for c in df.columns}
        missing = [c for c in columns if c not in present]
        if missing:
            raise _missing_columns_error(source, missing, len(columns))
        df = df.rename(columns=str)
    return numeric_features(df, columns, source)


# -- categorical columns: one-hot encoding ---------------------------------------

#: a number written plainly (no leading zeros, which make a code such as a zip code, not a number)
_PLAIN_NUMBER = re.compile(r"[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _number_text(v):
    """The text of a category that is the number ``v``: a whole number without its ".0"."""
    if math.isfinite(v) and v == int(v) and abs(v) < 2**53:
        return str(int(v))
    return repr(float(v))


def _category_text(v):
    """The category that the value ``v`` (a number, or text) of a categorical column is."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _number_text(float(v))
    v = str(v)
    return _number_text(float(v)) if _PLAIN_NUMBER.fullmatch(v) else v


def category_texts(values):
    """The categories of a column's ``values`` (a Series or a sequence) as text, compared as values: 10 in an
    integer column, 10.0 in a float one and "10" or "10.0" in a text one are one category; "010" (a code, as a zip
    code) is not 10, and other text is itself."""
    if isinstance(values, pd.Series) and pd.api.types.is_integer_dtype(values.dtype) \
            and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(str).to_numpy(dtype=object)  # the common case, at the speed of pandas
    distinct = pd.unique(np.asarray(values, dtype=object)) if len(values) else []
    texts = {v: _category_text(v) for v in distinct}
    return np.array([texts[v] for v in values], dtype=object)


def _canonical_categories(categories):
    """A model file's categories as :func:`category_texts` writes them (files written before it kept 10.0 as
    "10.0"), where that keeps them distinct; else as stored."""
    texts = [_category_text(c) for c in categories]
    return texts if len(set(texts)) == len(texts) else list(categories)


def _categorical_values(df, columns, source):
    """The categorical ``columns`` of ``df`` as an object array of str (:func:`category_texts`), checked for
    missing values.

    Categories are compared as values, so 1 in a Parquet integer column, 1.0 in a float one and "1" in a CSV
    file are the same category.
    """
    out = np.empty((len(df), len(columns)), dtype=object)
    for j, col in enumerate(columns):
        s = df[col]
        if isinstance(s, pd.DataFrame):
            raise DataError(f"{source} has more than one column named {col!r}.")
        missing = s.isna().to_numpy()
        if missing.any():
            row, more = _first_bad(missing)
            raise DataError(
                f"{source}: categorical column {col!r} has a missing value at row {row}{_more(more)}; "
                "fill it (for example with a 'missing' category) or drop the row."
            )
        out[:, j] = category_texts(s)
    return out


def _one_hot(categories):
    from sklearn.preprocessing import OneHotEncoder

    return OneHotEncoder(categories=categories, sparse_output=True, handle_unknown="ignore", dtype=np.float64)


def encode_table(df, target, categorical, source, drop_reference=False, allow_missing=False):
    """Split a table into a sparse feature matrix, with ``categorical`` columns one-hot encoded, and labels.

    The numeric columns (all but the target and ``categorical``, in file
    order) come first, then one block of 0/1 columns per categorical column
    (in the order given), one column per category seen here, sorted.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
    encoding : dict
        JSON-able; :func:`apply_encoding` encodes new data the same way::

            {"kind": "table", "numeric": [column, ...],
             "categorical": [{"column": name, "categories": [str, ...]}, ...],
             "feature_names": [column, ..., "name=category", ...]}

        With ``drop_reference`` (for an unpenalized fit, whose one-hot blocks would otherwise be collinear with
        the intercept), each column's first level in sorted order is the baseline, as R's treatment contrasts:
        it is not encoded (``"reference": level`` in its block) and the others' coefficients are against it.

    Raises
    ------
    DataError
        No such target or categorical column, a categorical column that is
        the target or named twice, a missing categorical value, or any
        problem :func:`split_xy` reports.
    """
    df = df.rename(columns=str)
    _check_target_column(df, target, source)
    seen = set()
    for col in categorical:
        if col == target:
            raise DataError(f"--categorical names {col!r}, which is the target column.")
        if col not in df.columns:
            raise DataError(f"--categorical: {source} has no column {col!r}; its columns are: {_columns_list(df)}.")
        if col in seen:
            raise DataError(f"--categorical names the column {col!r} twice.")
        seen.add(col)
    numeric = [str(c) for c in df.columns if c != target and c not in seen]
    _check_rows(len(df), source)
    check_target(df[target], target, source)
    X_num = numeric_features(df, numeric, source, hint="name text columns with --categorical to one-hot encode them",
                             allow_missing=allow_missing)
    values = _categorical_values(df, categorical, source)
    levels = [sorted(set(values[:, j].tolist())) for j in range(len(categorical))]
    blocks = []
    for col, cats in zip(categorical, levels):
        block = {"column": col, "categories": cats}
        if drop_reference and len(cats) > 1:  # R's treatment contrasts: the first level is the baseline
            block = {"column": col, "categories": cats[1:], "reference": cats[0]}
        blocks.append(block)
    if blocks:
        encoder = _one_hot([np.array(b["categories"], dtype=object) for b in blocks]).fit(values[:1])
        X = sp.hstack([sp.csr_matrix(X_num), encoder.transform(values)], format="csr", dtype=np.float64)
    else:  # numbers only (a table encoding that carries preprocessing): dense, as read
        X = X_num
    names = numeric + [f"{b['column']}={v}" for b in blocks for v in b["categories"]]
    if len(set(names)) < len(names):  # a column named "c=u" beside --categorical c with the level u
        column, taken = next((b["column"], f"{b['column']}={v}") for b in blocks for v in b["categories"]
                             if names.count(f"{b['column']}={v}") > 1)
        raise DataError(f"{source}: the one-hot column {taken!r} of --categorical {column!r} has the name of another "
                        "column (or level) of the table; rename that column.")
    encoding = {"kind": "table", "numeric": numeric, "categorical": blocks, "feature_names": names}
    return X, df[target].to_numpy(), encoding


def apply_encoding(df, encoding, source):
    """Encode a table as :func:`encode_table` did when it returned ``encoding``.

    A category not seen when ``encoding`` was made encodes to all zeros in
    its column's block (the model then uses only the other columns).

    Returns
    -------
    X : scipy.sparse.csr_matrix, float64
    unseen : list of (column, count, first_row, value)
        For each categorical column with unseen categories: how many rows,
        the first such row (from 1) and its value.

    Raises
    ------
    DataError
        ``df`` lacks some of the columns, or holds a non-numeric, missing or
        infinite value where the encoding needs a number or a category.
    """
    df = df.rename(columns=str)
    numeric = list(encoding["numeric"])
    categorical = [b["column"] for b in encoding["categorical"]]
    wanted = numeric + categorical
    present = set(df.columns)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise _missing_columns_error(source, missing, len(wanted), kind="columns")
    prep = encoding.get("preprocess") or {}
    X_num = numeric_features(df, numeric, source, allow_missing=bool(prep.get("impute")))
    if prep:
        X_num = apply_preprocess(X_num, prep)
    values = _categorical_values(df, categorical, source)
    categories = [np.array(_canonical_categories(b["categories"]), dtype=object) for b in encoding["categorical"]]
    unseen = []
    for j, (col, cats, block) in enumerate(zip(categorical, categories, encoding["categorical"])):
        known = cats if "reference" not in block else np.append(cats, _category_text(block["reference"]))  # zeros
        new = ~np.isin(values[:, j], known)
        if new.any():
            row, more = _first_bad(new)
            unseen.append((col, more + 1, row, values[row - 1, j]))
    if not categorical:
        return X_num, unseen
    X_cat = _one_hot(categories).fit(values[:1]).transform(values)
    X = sp.hstack([sp.csr_matrix(X_num), X_cat], format="csr", dtype=np.float64)
    return X, unseen


# -- preprocessing of the numeric columns: imputation and standardization ------------------------------

IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")


def fit_preprocess(X_num, impute=None, standardize=False, names=None, source="the training rows"):
    """Fit scikit-learn's ``SimpleImputer`` (``impute``: one of IMPUTE_STRATEGIES, or None) and ``StandardScaler``
    on the numeric columns ``X_num`` (training rows only) and return what :func:`apply_preprocess` needs, JSON-able:
    ``{"impute": strategy or None, "statistics": [...] or None, "standardize": bool, "mean": [...] or None,
    "scale": [...] or None}``. A column with no value at all, or that is constant, is an error naming it."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    X_num = np.asarray(X_num, dtype=np.float64)
    names = names or [f"column {j}" for j in range(X_num.shape[1])]
    prep = {"impute": impute, "statistics": None, "standardize": bool(standardize), "mean": None, "scale": None}
    if impute:
        empty = np.flatnonzero(np.all(np.isnan(X_num), axis=0))
        if empty.size:
            raise DataError(f"{source}: column {names[empty[0]]!r} has no value to impute from; drop it.")
        imputer = SimpleImputer(strategy=impute, keep_empty_features=True).fit(X_num)
        prep["statistics"] = [float(v) for v in imputer.statistics_]
        X_num = imputer.transform(X_num)
    elif np.isnan(X_num).any():  # pragma: no cover - the reader refuses missing values without impute
        raise DataError(f"{source}: missing values and no imputation.")
    if standardize:
        # a column of magnitudes whose squares overflow (1e300) is measured in units of its largest value
        with np.errstate(invalid="ignore"):
            biggest = np.max(np.abs(X_num), axis=0, initial=0.0)
        unit = np.where(biggest > np.sqrt(np.finfo(np.float64).max) / 1e4, biggest, 1.0)
        scaler = StandardScaler().fit(X_num / unit)
        scale = np.where(scaler.var_ == 0, 1.0, scaler.scale_ * unit)  # a constant column: scale 1 (scikit-learn)
        prep["mean"] = [float(v) for v in scaler.mean_ * unit]
        prep["scale"] = [float(v) for v in scale]
    return prep


def apply_preprocess(X_num, prep):
    """The numeric columns imputed and standardized as :func:`fit_preprocess` found on the training rows: what
    ``SimpleImputer.transform`` and ``StandardScaler.transform`` of those fits compute."""
    X_num = np.array(X_num, dtype=np.float64)
    if prep.get("impute"):
        rows, cols = np.nonzero(np.isnan(X_num))
        X_num[rows, cols] = np.asarray(prep["statistics"], dtype=np.float64)[cols]
    if prep.get("standardize"):
        X_num = (X_num - np.asarray(prep["mean"], dtype=np.float64)) / np.asarray(prep["scale"], dtype=np.float64)
    return X_num


def preprocess_matrix(X, n_numeric, prep):
    """:func:`apply_preprocess` on the first ``n_numeric`` columns of X (dense, or CSR with one-hot columns
    after them), the rest as they are."""
    if not sp.issparse(X):
        return apply_preprocess(X, prep)
    numeric = apply_preprocess(X[:, :n_numeric].toarray(), prep)
    return sp.hstack([sp.csr_matrix(numeric), X[:, n_numeric:]], format="csr", dtype=np.float64)


def numeric_block(X, n_numeric):
    """The first ``n_numeric`` columns of X as a dense float64 array."""
    return X[:, :n_numeric].toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)[:, :n_numeric]


class TableEncoder(TransformerMixin, BaseEstimator):
    """A raw table (a DataFrame, as read from the CSV or Parquet file) to the model's features, as the command line
    encoded them: the numeric columns imputed and standardized, the categorical ones one-hot encoded. A
    scikit-learn transformer (``fit`` does nothing: it was fitted by ``logitgd fit``), the first step of
    ``logitgd.load(path, as_pipeline=True)``."""

    def __init__(self, encoding):
        self.encoding = encoding

    def fit(self, X=None, y=None):
        return self

    def transform(self, X):
        import warnings

        X, unseen = apply_encoding(pd.DataFrame(X), self.encoding, "the table")
        for column, count, row, value in unseen:
            warnings.warn(f"categorical column {column!r} has {count} row{'s' if count > 1 else ''} with a category "
                          f"not seen in training (first: row {row}, {value!r}); encoded as all zeros.", stacklevel=2)
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.encoding["feature_names"], dtype=object)

    def __sklearn_is_fitted__(self):  # fitted by ``logitgd fit``: the encoding is its state
        return True
