"""Reading the data of a command: the training table (columns, encoding, formula, cluster labels) and data
for a saved model, read as its training data was."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import DataError
from ._parser import BUILTIN


def _load_builtin():
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame, "target", f"built-in {BUILTIN} data"


@dataclass
class Training:
    """The data of ``fit``.

    X is an ndarray with column ``names`` (numeric tables, the built-in data), a CSR matrix with ``names``
    None (svmlight, ``--categorical``) or, with ``--formula``, the formula's columns (a DataFrame) with
    ``frame`` the table of the original variables that ``from_formula`` fits on. ``encoding`` is what the
    model file keeps to read new data the same way; ``groups`` the ``--cluster`` labels (one per row) or None.
    """

    X: Any
    y: np.ndarray
    names: list | None
    encoding: dict | None
    source: str
    target: str | None
    groups: np.ndarray | None = None
    frame: Any = None


def _columns_text(df):
    return ", ".join(map(repr, map(str, df.columns[:20]))) + (", ..." if len(df.columns) > 20 else "")


def _cluster_labels(df, column, source, what="--cluster"):
    """``(df without column, its labels)``; DataError naming the columns when there is no such column."""
    import pandas as pd

    if column not in df.columns:
        raise DataError(f"{source} has no column {column!r} for {what}; its columns are: {_columns_text(df)}.")
    labels = df[column]
    missing = pd.isna(labels).to_numpy()
    if missing.any():
        raise DataError(f"{source}: the {what} column {column!r} has a missing value at row "
                        f"{int(np.flatnonzero(missing)[0]) + 1} ({int(missing.sum())} in all); "
                        "every row needs a group label.")
    return df.drop(columns=[column]), labels.to_numpy()


def formula_response(formula):
    """The response of ``formula`` as written (the text before its ``~``)."""
    return formula.split("~", 1)[0].strip()


def _formula_design(args, df, source):
    from .. import formula as _formula

    if args.target and args.target != formula_response(args.formula):
        raise DataError(f"--target {args.target!r} and --formula {args.formula!r} name different labels; "
                        "the formula's response (before '~') is the label: drop --target.")
    try:
        design = _formula.design(args.formula, df)
    except (ValueError, TypeError, ImportError) as exc:
        raise DataError(f"--formula: {exc}") from None
    return Training(design.X, design.y, list(design.X.columns), None, source, formula_response(args.formula),
                    frame=df)


def formula_features(model, df, source):
    """The columns of a formula model (``model._formula_spec``) built from the original variables in ``df``."""
    from .. import formula as _formula

    try:
        return _formula.transform(model._formula_spec, df)
    except (ValueError, TypeError, ImportError) as exc:
        raise DataError(f"{source}: {exc}") from None


#: column names that say "row identifier" (compared lower-case)
_ID_NAMES = {"rownames", "row.names", "row_names", "unnamed: 0", "index", "id", "rowid", "row_id", "passengerid"}


def _looks_like_id(series, name):
    """Why ``series`` looks like a row identifier (a reason for the message), or None: whole numbers counting
    the rows (0, 1, ... or 1, 2, ... in order), or an identifier's name with a distinct value per row, or text
    with a distinct value in every row (names, codes)."""
    n = len(series)
    if n <= 20:  # a toy table's columns say little
        return None
    values = series.to_numpy()
    if pd_numeric(series):
        v = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.all(np.isfinite(v)) and np.all(v == np.round(v)):
            for start in (0, 1):
                if np.array_equal(v, np.arange(start, start + n)):
                    return f"it counts the rows ({start}, {start + 1}, ..., {start + n - 1})"
    distinct = series.nunique(dropna=False) == n
    if distinct and str(name).strip().lower() in _ID_NAMES:
        return "its name says so and every row has its own value"
    if distinct and not pd_numeric(series) and _mostly_text(series):
        return f"it is text with a different value in each of the {n} rows ({values[0]!r}, {values[1]!r}, ...)"
    return None


def _mostly_text(series):
    """Whether most values of a column are not numbers written as text (those get the numeric reader's error)."""
    import pandas as pd

    return float(pd.to_numeric(series, errors="coerce").notna().mean()) < 0.5


def pd_numeric(series):
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def select_columns(df, args, source, target, keep=()):
    """The table's columns that the fit uses: ``--features`` (and the target and ``keep``), less ``--drop``;
    a feature that looks like a row identifier is refused unless ``--allow-id`` names it."""
    features, drop = getattr(args, "features", None), getattr(args, "drop", None) or []
    columns = [str(c) for c in df.columns]
    df = df.rename(columns=str)
    for option, names in (("--features", features or []), ("--drop", drop)):
        unknown = [c for c in names if c not in columns]
        if unknown:
            raise DataError(f"{option}: {source} has no column {unknown[0]!r}; its columns are: "
                            f"{', '.join(columns[:20])}" + (" ..." if len(columns) > 20 else "") + ".")
    if target in drop or (features and target in features):
        raise DataError(f"{'--drop' if target in drop else '--features'} names the target column {target!r}; "
                        "the target is the label, never a feature.")
    wanted = [c for c in (features or columns) if c not in drop]
    kept = [c for c in columns if c in wanted or c == target or c in keep]
    df = df[kept]
    allowed = set(getattr(args, "allow_id", None) or [])
    for column in df.columns:
        if column == target or column in keep or column in allowed:
            continue
        why = _looks_like_id(df[column], column)
        if why is not None:
            raise DataError(f"{source}: column {column!r} looks like a row identifier ({why}): as a feature it "
                            f"would fit the rows' order or names, not the data. Leave it out with --drop "
                            f"{shlex.quote(column)} (or choose the features with --features), or keep it with "
                            f"--allow-id {shlex.quote(column)}.")
    return df


def _imputes(args):
    return getattr(args, "impute", "none") != "none"


def _preprocessing(args):
    """Whether the fit imputes or standardizes (then the numeric columns go through a table encoding)."""
    return _imputes(args) or getattr(args, "standardize", False)


def read_training_data(args):
    """The :class:`Training` data of ``fit``'s DATA (or the built-in data) and options."""
    from ..io import check_target, encode_table, is_svmlight, read_svmlight, read_table, split_xy

    cluster, formula = getattr(args, "cluster", None), getattr(args, "formula", None)
    if cluster and (cluster == args.target or cluster in args.categorical):
        raise DataError(f"--cluster {cluster!r} names the label or a --categorical column; "
                        "the cluster column holds group labels and is not a feature.")
    if formula and args.categorical:
        raise DataError("--categorical does not go with --formula: write C(column) in the formula instead.")
    if formula and _preprocessing(args):
        raise DataError("--impute and --standardize do not go with --formula yet: write the table's columns with "
                        "--target (and --categorical).")
    if formula and (getattr(args, "features", None) or getattr(args, "drop", None)):
        raise DataError(f"{'--features' if getattr(args, 'features', None) else '--drop'} does not go with --formula: "
                        "the formula names the columns it uses.")
    if args.data is None:
        if args.categorical or formula:
            what = "--categorical" if args.categorical else "--formula"
            raise DataError(f"{what} needs a DATA file (CSV or Parquet); the built-in data are all numeric.")
        df, target, source = _load_builtin()
        target = args.target or target
        df = select_columns(df, args, source, target, keep=[cluster] if cluster else ())
        groups = None
        if cluster:
            df, groups = _cluster_labels(df, cluster, source)
        if _preprocessing(args):
            X, y, encoding = encode_table(df, target, [], source, allow_missing=_imputes(args))
            return Training(X, y, None, encoding, source, target, groups)
        X, y, names = split_xy(df, target, source)
        return Training(X, y, names, None, source, target, groups)
    if is_svmlight(args.data):
        for option, given in (("--target", args.target), ("--categorical", args.categorical),
                              ("--features", getattr(args, "features", None)), ("--drop", getattr(args, "drop", None)),
                              ("--impute", _imputes(args)),
                              ("--standardize", getattr(args, "standardize", False)),
                              ("--formula", formula), ("--cluster", cluster)):
            if given:
                raise DataError(f"{option} applies to CSV and Parquet tables, not to the svmlight file {args.data}: "
                                "it has no named columns, and the label is the first field of each line.")
        X, y, zero_based = read_svmlight(args.data)
        check_target(y, None, args.data, what="the labels")
        return Training(X, y, None, {"kind": "svmlight", "zero_based": zero_based}, args.data, None)
    if not args.target and not formula:
        raise DataError("--target is required with a CSV or Parquet DATA file: name the label column.")
    df = read_table(args.data)
    if not formula:
        df = select_columns(df, args, args.data, args.target, keep=[cluster] if cluster else ())
    groups = None
    if cluster:
        labels = df[cluster].to_numpy() if cluster in df.columns else None
        df, groups = _cluster_labels(df, cluster, args.data)
        if formula:  # the formula names its variables: the column is there if it asks for it
            df[cluster] = labels
    if formula:
        found = _formula_design(args, df, args.data)
        found.groups = groups
        return found
    import pandas as pd

    typed = [str(c) for c in df.columns if str(c) not in (args.target, cluster) and str(c) not in args.categorical
             and isinstance(df[c].dtype, pd.CategoricalDtype)]
    if typed:  # a Parquet (pandas) category column: categorical by its type, as the intro line then says
        args.categorical = list(args.categorical) + typed
    if args.categorical or _preprocessing(args):  # a table encoding, which the model file keeps
        unpenalized = args.penalty in ("none", "firth") or args.alpha == 0
        X, y, encoding = encode_table(df, args.target, args.categorical, args.data, drop_reference=unpenalized,
                                      allow_missing=_imputes(args))
        return Training(X, y, None, encoding, args.data, args.target, groups)
    X, y, names = split_xy(df, args.target, args.data)
    return Training(X, y, names, None, args.data, args.target, groups)


def _describe(X, encoding):
    """'200 rows, 3 features' and, for sparse inputs, how they were made."""
    text = f"{X.shape[0]} rows, {X.shape[1]} features"
    if encoding is None:
        return text
    if encoding["kind"] == "svmlight":
        base = 0 if encoding["zero_based"] else 1
        return f"{text}, {X.nnz} nonzero values, {base}-based feature indices"
    blocks = encoding["categorical"]
    prep = encoding.get("preprocess") or {}
    parts = []
    if blocks:
        part = (f"{len(encoding['numeric'])} numeric and {len(blocks)} categorical columns, one-hot encoded into "
                f"{sum(len(b['categories']) for b in blocks)}")
        references = [f"{b['column']}={b['reference']}" for b in blocks if "reference" in b]
        parts.append(part + (f" (reference levels, as R's: {', '.join(references)})" if references
                             else " (every level kept: the penalty tells them apart)"))
    if prep.get("impute"):
        parts.append(f"missing numbers filled with the training rows' {prep['impute'].replace('_', ' ')}")
    if prep.get("standardize"):
        parts.append("numbers standardized by the training rows' mean and standard deviation")
    return text + (": " + "; ".join(parts) if parts else "")


def _features(df, model, source):
    """The model's feature columns of ``df``, checked, as the model expects them."""
    import pandas as pd

    from ..io import model_features

    X = model_features(df, model, source)
    names = getattr(model, "feature_names_in_", None)
    return X if names is None else pd.DataFrame(X, columns=list(names), copy=False)


def _read_for_model(model, encoding, path, target):
    """``(X, y)`` of a data file, read as the model's training data was; y is None without labels.

    ``target``: the label column of a table (None: no labels wanted). An
    svmlight file always has labels.
    """
    X, y, _ = read_for_model(model, encoding, path, target)
    return X, y


def read_for_model(model, encoding, path, target, cluster=None):
    """``(X, y, groups)``: :func:`_read_for_model` and the labels of the table's column ``cluster`` (or None).

    A model from a formula (``model._formula_spec``) gets the formula's columns, built from the original
    variables of the table (a DataFrame, as ``predict`` expects).
    """
    from ..io import apply_encoding, check_target, is_svmlight, read_svmlight, read_table

    kind = encoding["kind"] if encoding else None
    if is_svmlight(path):
        if target:
            raise DataError(f"--target does not apply to the svmlight file {path}: "
                            "the label is the first field of each line.")
        if cluster:
            raise DataError(f"--cluster names a column of a CSV or Parquet table; the svmlight file {path} has none.")
        names = getattr(model, "feature_names_in_", None)
        if kind == "table" or names is not None:
            shown = ", ".join(encoding["numeric"] + [b["column"] for b in encoding["categorical"]]
                              if kind == "table" else map(str, names))
            raise DataError(f"{path} is an svmlight file, but the model was trained on named columns "
                            f"({shown[:200]}); give a CSV or Parquet file with them.")
        zero_based = encoding["zero_based"] if kind == "svmlight" else "auto"
        X, y, _ = read_svmlight(path, n_features=int(model.n_features_in_), zero_based=zero_based)
        return X, y, None
    if kind == "svmlight":
        raise DataError(f"the model was trained on an svmlight file, but {path} is a table; "
                        "give an svmlight file (.svm, .libsvm, .svmlight).")
    df = read_table(path)
    y = None
    if target is not None:
        if target not in df.columns:
            raise DataError(f"{path} has no target column {target!r}.")
        check_target(df[target], target, path, min_classes=1)
        y = df[target].to_numpy()
    groups = _cluster_labels(df, cluster, path)[1] if cluster else None
    if getattr(model, "_formula_spec", None) is not None:
        X = formula_features(model, df, path)
    elif kind == "table":
        X, unseen = apply_encoding(df, encoding, path)
        for column, count, row, value in unseen:
            print(f"logitgd: warning: {path}: categorical column {column!r} has {count} "
                  f"row{'s' if count > 1 else ''} with a category not seen in training (first: row {row}, "
                  f"{value!r}); encoded as all zeros.", file=sys.stderr)
    else:
        X = _features(df, model, path)
    return X, y, groups


def read_labelled(args, model, encoding):
    """``(X, y)`` of ``args.data`` with its labels (``--target``; a formula model's default: its response; an
    svmlight file's own), read as the model's training data was, the labels as the model's classes."""
    from ..io import is_svmlight

    target, spec = args.target, getattr(model, "_formula_spec", None)
    if not target and spec is not None:  # a formula model's labels: its response
        target = formula_response(spec["formula"])
    if not target and not is_svmlight(args.data):
        raise DataError("--target is required with a CSV or Parquet file: name the label column.")
    X, y = _read_for_model(model, encoding, args.data, target)
    return X, _as_model_labels(y, model.classes_, args.data, target)


def take_rows(a, index):
    """The rows ``index`` of an array, a sparse matrix or a DataFrame (all of them: ``index`` None)."""
    if a is None or index is None:
        return a
    return a.iloc[index] if hasattr(a, "iloc") else a[index]


def _as_model_labels(y, classes, source, target):
    """Labels of ``y`` as the model's ``classes_`` (matched by value, else by text)."""
    if np.isin(y, classes).all():
        return y
    lookup = {str(c): c for c in classes}
    unknown = sorted({str(v) for v in y} - lookup.keys())
    if unknown:
        what = "the labels" if target is None else f"target column {target!r}"
        raise DataError(
            f"{source}: {what} has labels {unknown[:5]} that the model does "
            f"not know (its classes are {[str(c) for c in classes]})."
        )
    return np.array([lookup[str(v)] for v in y], dtype=classes.dtype)

