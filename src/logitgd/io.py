"""Reading data files and turning tables into (X, y), with errors that name the problem.

Supported files: CSV (``.csv``, ``.txt``, also gzip-compressed ``.csv.gz``) and
Parquet (``.parquet``, ``.pq``). Every check here raises
:class:`~logitgd.exceptions.DataError` with one line saying which file,
column and row is wrong and what was expected. Rows are counted from 1 for
the first data row (the header is not a row).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .exceptions import DataError

_CSV = (".csv", ".txt", ".csv.gz", ".txt.gz")
_PARQUET = (".parquet", ".pq")


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
    if not os.path.exists(path):
        raise DataError(f"data file {path} does not exist.")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a data file.")
    if os.path.getsize(path) == 0:
        raise DataError(f"data file {path} is empty.")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if lower.endswith(_PARQUET):
        if head != b"PAR1":
            raise DataError(f"{path} is not a Parquet file (it does not start with the Parquet magic bytes).")
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise DataError(f"{path} could not be read as Parquet: {_one_line(exc)}") from None
    if lower.endswith(_CSV):
        if head == b"PAR1":
            raise DataError(f"{path} looks like a Parquet file, not CSV; name it .parquet.")
        try:
            df = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataError(f"data file {path} is empty (no header and no rows).") from None
        except UnicodeDecodeError:
            raise DataError(f"{path} is not a text CSV file (it is not valid UTF-8 text).") from None
        except pd.errors.ParserError as exc:
            raise DataError(f"{path} is not well-formed CSV: {_one_line(exc)}") from None
        except (OSError, EOFError, ValueError) as exc:  # e.g. a .csv.gz that is not gzip
            raise DataError(f"{path} could not be read as CSV: {_one_line(exc)}") from None
        return df
    raise DataError(
        f"cannot tell the format of {path}: expected a name ending in "
        f"{', '.join(_CSV + _PARQUET)}."
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


def numeric_features(df, columns, source):
    """``df[columns]`` as a float64 ndarray, after checking each column.

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
                    f"{_more(more)}; features must be numbers (encode categories first)."
                )
            s = converted
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            row, more = _first_bad(np.isnan(values))
            raise DataError(
                f"{source}: column {col!r} has a missing value at row {row}{_more(more)}; "
                "fill or drop missing values first."
            )
        if np.isinf(values).any():
            row, more = _first_bad(np.isinf(values))
            raise DataError(f"{source}: column {col!r} has an infinite value at row {row}{_more(more)}.")
        out[:, j] = values
    return out


def split_xy(df, target, source):
    """Split a table into features and a binary target column.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
    feature_names : list of str
    """
    if target not in df.columns:
        cols = ", ".join(map(str, df.columns[:20])) + (", ..." if len(df.columns) > 20 else "")
        raise DataError(f"{source} has no target column {target!r}; its columns are: {cols}.")
    features = [c for c in df.columns if c != target]
    if not features:
        raise DataError(f"{source} has no feature columns besides the target {target!r}.")
    _check_rows(len(df), source)
    check_target(df[target], target, source)
    X = numeric_features(df, features, source)
    return X, df[target].to_numpy(), [str(c) for c in features]


def check_target(y, target, source, min_classes=2):
    """Raise DataError unless ``y`` has no missing values and ``min_classes`` to two classes.

    Fitting needs both classes; evaluating a model on data of one class is fine.
    """
    y = pd.Series(y) if not isinstance(y, pd.Series) else y
    _check_rows(len(y), source)
    missing = pd.isna(y).to_numpy()
    if missing.any():
        row, more = _first_bad(missing)
        raise DataError(f"{source}: target column {target!r} has a missing value at row {row}{_more(more)}.")
    classes = pd.unique(y)
    if len(classes) < min_classes:
        raise DataError(
            f"{source}: target column {target!r} has only one class ({classes[0]!r}); "
            "a classifier needs two."
        )
    if len(classes) > 2:
        shown = ", ".join(map(repr, sorted(classes, key=str)[:5])) + (", ..." if len(classes) > 5 else "")
        raise DataError(
            f"{source}: target column {target!r} has {len(classes)} classes ({shown}); "
            "logitgd fits exactly two."
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
            shown = ", ".join(map(repr, missing[:10])) + (", ..." if len(missing) > 10 else "")
            raise DataError(
                f"{source} does not match the model: it lacks {len(missing)} of the model's "
                f"{len(columns)} feature columns: {shown}."
            )
        df = df.rename(columns=str)
    return numeric_features(df, columns, source)
