"""Saving and loading fitted models as JSON (no pickle).

The file is one JSON object::

    {
      "format": "logitgd-model",      # identifies the file
      "format_version": 2,            # bumped on incompatible changes
      "library_version": "0.1.0",     # logitgd that wrote it
      "estimator": "LogisticRegression",
      "params": {...},                # constructor parameters (all but callback and random_state;
                                      #  a class_weight dict as {"pairs": [[label, weight], ...]})
      "solver_used": "lbfgs",         # the solver that ran (solver_)
      "classes": [0, 1],              # labels, in classes_ order (K >= 2 of them)
      "classes_dtype": "int64",       # NumPy dtype string of classes_
      "n_features": 30,
      "feature_names": [...] | null,
      "coef": [[...]],                # (1, n_features) for two classes, (K, n_features) for K > 2
      "intercept": [...],             # (1,) for two classes, (K,) for K > 2
      "n_iter": 123, "converged": true, "stop_reason": "...",
      "loss_history": [...],
      "input_encoding": {...} | null, # how the command line turned a data file into X (below)
      "formula": {...} | null,        # the formula's spec (logitgd.formula) for a model from from_formula
      "inference": {...} | null,      # what summary() needs of the training data (below)
      "sha256": "..."                 # of the object above, without this key
    }

``input_encoding`` is null for a model fitted on numbers (a NumPy array, a
DataFrame, the numeric columns of a CSV file), else one of::

    {"kind": "svmlight", "zero_based": true}
    {"kind": "table", "numeric": [column, ...],
     "categorical": [{"column": name, "categories": [str, ...], "reference": str (optional)}, ...],
     "feature_names": [column, ..., "name=category", ...]}

(see :func:`logitgd.io.encode_table`).

``inference`` (version 3) holds the fitted theta, the observed information
and the sandwich's meat (``n_params x n_params`` each), the log-likelihoods
of the model and of the intercept-only model, the number of observations and
the separation finding (:class:`logitgd.inference.Ingredients`): a loaded
model prints its model-based, HC0 and HC1 summary without the data. It is
written when the model holds its training data in this process (Dask data:
once ``summary()`` has run), its summary is valid (not L1, not one-vs-rest)
and it has at most :data:`MAX_STORED_PARAMS` parameters;
profile intervals and cluster standard errors need the data
(``model.summary(X, y)``). Version 1 files (binary models, without
``input_encoding`` and the ``multi_class`` parameter) and version 2 files
(without ``formula`` and ``inference``) still load.

Floats are written by Python's ``repr``, the shortest string that reads back
to the same double, so a round trip gives bit-identical predictions. The
checksum catches edits and corruption that still leave valid JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._files import write_atomically
from .exceptions import ModelFileError

FORMAT = "logitgd-model"
FORMAT_VERSION = 3
MAX_STORED_PARAMS = 300
"""Most parameters for which the model file stores the summary's matrices (two of n_params² numbers)."""
_REQUIRED = ("format_version", "library_version", "estimator", "params", "classes",
             "classes_dtype", "n_features", "feature_names", "coef", "intercept", "n_iter",
             "converged", "stop_reason", "loss_history", "sha256")
_PARAMS = ("solver", "learning_rate", "alpha", "penalty", "l1_ratio", "fit_intercept", "max_iter", "tol",
           "class_weight", "verbose", "warm_start", "batch_size", "eta0", "power_t", "average",
           "early_stopping", "validation_fraction", "n_iter_no_change", "multi_class", "firth_intercept")


#: a model file larger than this is not read (the largest models, 1e6 float64 coefficients, write ~25 MiB)
MAX_FILE_BYTES = 1 << 30


def _checksum(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _to_json_scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def _param_to_json(name, value):
    # A class_weight dict may have non-string keys (labels): keep them as pairs.
    if name == "class_weight" and isinstance(value, dict):
        return {"pairs": [[_to_json_scalar(k), _to_json_scalar(v)] for k, v in value.items()]}
    return _to_json_scalar(value)


def _params_from_json(params):
    params = dict(params)
    cw = params.get("class_weight")
    if isinstance(cw, dict):
        params["class_weight"] = {k: v for k, v in cw["pairs"]}
    return params


def save(model, path, *, overwrite=False, input_encoding=None):
    """Write a fitted :class:`~logitgd.LogisticRegression` to ``path`` as JSON.

    Parameters
    ----------
    model : fitted LogisticRegression
        Binary or multi-class.
    path : str or path-like
    overwrite : bool, default=False
        An existing file is replaced only if True.
    input_encoding : dict or None, default=None
        How the data file was turned into the model's features (see the
        module docstring); the command line stores it so that ``predict``
        and ``evaluate`` encode new data the same way.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The directory of ``path`` does not exist.
    IsADirectoryError
        ``path`` is a directory.
    TypeError
        ``model`` is not a logitgd LogisticRegression, or ``input_encoding``
        is not a dict.
    ValueError
        ``input_encoding`` is malformed or does not match the model.
    """
    from ._version import __version__
    from .estimator import LogisticRegression

    if not isinstance(model, LogisticRegression):
        raise TypeError(f"save() writes a logitgd LogisticRegression, got {type(model).__name__}.")
    check_is_fitted(model)
    if input_encoding is not None:
        _check_input_encoding(input_encoding, int(model.n_features_in_))
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a file name for the model.")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (--force) to replace it.")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: the directory {directory} does not exist.")
    params = model.get_params()
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(model).__name__,
        "params": {k: _param_to_json(k, params[k]) for k in _PARAMS if k in params},
        "solver_used": getattr(model, "solver_", None),
        "classes": [_to_json_scalar(c) for c in model.classes_],
        "classes_dtype": model.classes_.dtype.str,
        "n_features": int(model.n_features_in_),
        "feature_names": (None if not hasattr(model, "feature_names_in_")
                          else [str(f) for f in model.feature_names_in_]),
        "coef": model.coef_.tolist(),
        "intercept": model.intercept_.tolist(),
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "stop_reason": str(model.stop_reason_),
        "loss_history": [float(v) for v in model.loss_history_],
        "input_encoding": input_encoding,
        "formula": getattr(model, "_formula_spec", None),
        "inference": _inference_entry(model),
    }
    payload["sha256"] = _checksum(payload)
    # Write next to the target and rename: a crash never leaves half a file.
    write_atomically(path, lambda fh: fh.write(json.dumps(payload, indent=1, allow_nan=False) + "\n"),
                     suffix=".json")


def load(path, *, return_encoding=False, as_pipeline=False):
    """Read a model written by :func:`save` (any format version up to :data:`FORMAT_VERSION`).

    Parameters
    ----------
    path : str or path-like
    return_encoding : bool, default=False
        Also return the file's ``input_encoding`` (a dict, or None).
    as_pipeline : bool, default=False
        Return a scikit-learn ``Pipeline`` that takes the raw table the command line read (a DataFrame of the
        CSV or Parquet file's columns, by name): its first step (``"table"``, :class:`logitgd.io.TableEncoder`)
        replays the file's encoding (imputation, standardization, one-hot columns and reference levels), its
        last (``"model"``) is the model. A model fitted without a table encoding gets the model alone as its
        one step.

    Returns
    -------
    model : LogisticRegression (or Pipeline with ``as_pipeline``)
    input_encoding : dict or None
        Only with ``return_encoding=True``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFileError
        The file is not valid JSON, not a logitgd model, from a newer format,
        truncated, edited or otherwise inconsistent; the message says which.
    """
    from .estimator import LogisticRegression

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path} does not exist.")
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a model file.")
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device would block, or never end
        raise ModelFileError(f"{path} is not a regular file (a pipe or a device); give the model file itself.")
    if os.path.getsize(path) > MAX_FILE_BYTES:
        raise ModelFileError(f"{path} is {os.path.getsize(path) / 2**20:.0f} MiB, above the {MAX_FILE_BYTES >> 20} MiB "
                             "a logitgd model file can be; it is not one.")
    try:
        with open(path, encoding="utf-8") as fh:
            payload = json.loads(fh.read(MAX_FILE_BYTES + 1))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path} is not a logitgd model: it is not a text (JSON) file.") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path} is not a valid model file: JSON error at line {exc.lineno}, column "
            f"{exc.colno} ({exc.msg}); the file may be truncated or corrupted."
        ) from None
    except RecursionError:
        raise ModelFileError(f"{path} is not a logitgd model file (its JSON is nested too deeply).") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits (Python's int string limit)
        raise ModelFileError(f"{path} is not a valid model file: {' '.join(str(exc).split())[:200]}.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a logitgd model file (no \"format\": \"{FORMAT}\" entry).")
    # The version comes first: a newer format may lack entries this one requires.
    version = payload.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version}, written by logitgd "
            f"{payload.get('library_version', '(unknown)')}; this logitgd reads versions up to "
            f"{FORMAT_VERSION}. Upgrade logitgd."
        )
    if "format_version" in payload and not (isinstance(version, int) and not isinstance(version, bool)
                                            and 1 <= version <= FORMAT_VERSION):
        raise ModelFileError(f"{path} has an invalid model format version {version!r}.")
    missing = [k for k in _REQUIRED if k not in payload]
    if missing:
        raise ModelFileError(f"{path} is missing the entries {', '.join(missing)}; the file is truncated or damaged.")
    body = {k: v for k, v in payload.items() if k != "sha256"}
    try:
        ok = _checksum(body) == payload["sha256"]
    except ValueError:  # NaN or Infinity, which save() never writes
        ok = False
    if not ok:
        raise ModelFileError(f"{path} fails its checksum: the file was edited or corrupted after it was written.")
    if payload["estimator"] != "LogisticRegression":
        raise ModelFileError(f"{path} holds a {payload['estimator']!r}, not a LogisticRegression.")
    try:
        if not isinstance(payload["params"], dict):
            raise TypeError("params is not an object")
        model = LogisticRegression(**_params_from_json(payload["params"]))
        classes = np.array(payload["classes"], dtype=np.dtype(payload["classes_dtype"]))
        coef = np.array(payload["coef"], dtype=np.float64)
        intercept = np.array(payload["intercept"], dtype=np.float64)
        loss_history = np.array(payload["loss_history"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has malformed contents: {exc}") from None
    d = payload["n_features"]
    names = payload["feature_names"]
    n_classes = classes.shape[0] if classes.ndim == 1 else 0
    rows = 1 if n_classes == 2 else n_classes
    if (not isinstance(d, int) or isinstance(d, bool) or d < 1 or n_classes < 2
            or coef.shape != (rows, d) or intercept.shape != (rows,) or not _distinct(classes)
            or loss_history.ndim != 1
            or (names is not None and (not isinstance(names, list) or len(names) != d
                                       or not all(isinstance(n, str) for n in names)))):
        raise ModelFileError(
            f"{path} is inconsistent: coef has shape {coef.shape}, intercept {intercept.shape}, "
            f"{classes.size} classes, n_features={d!r} and "
            f"{'no' if names is None else len(names) if isinstance(names, list) else 'malformed'} "
            "feature names (expected K >= 2 distinct classes, coef (1, n_features) and intercept (1,) "
            "for two classes, (K, n_features) and (K,) for K > 2)."
        )
    encoding = payload.get("input_encoding")
    if encoding is not None:
        try:
            _check_input_encoding(encoding, d)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path} has a malformed input_encoding: {exc}") from None
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ModelFileError(f"{path} has non-finite coefficients.")
    model.classes_ = classes
    model.coef_ = coef
    model.intercept_ = intercept
    model.n_features_in_ = d
    if names is not None:
        model.feature_names_in_ = np.array(names, dtype=object)
    if payload.get("solver_used") is not None:
        model.solver_ = payload["solver_used"]
    model.n_iter_ = payload["n_iter"]
    model.converged_ = payload["converged"]
    model.stop_reason_ = payload["stop_reason"]
    model.loss_history_ = loss_history
    _restore_inference(model, payload, path)
    if as_pipeline:
        from sklearn.pipeline import Pipeline

        from .io import TableEncoder

        steps = [("table", TableEncoder(encoding))] if encoding and encoding.get("kind") == "table" else []
        model = Pipeline(steps + [("model", model)])
    return (model, encoding) if return_encoding else model


def _inference_entry(model):
    """The summary's ingredients as JSON, or None where they cannot or need not be stored."""
    from . import inference
    from .exceptions import InferenceError

    n_params = model.coef_.size + (model.intercept_.size if model.fit_intercept else 0)
    if n_params > MAX_STORED_PARAMS:
        return None
    held = getattr(model, "_fit_data", None)
    if getattr(model, "_inference", None) is None and held is not None and getattr(held.data, "is_dask_data", False):
        return None  # spread over a cluster that may be gone: stored only once summary() has run
    try:
        inference.check_model(model)
        return model._ingredients().to_json()
    except InferenceError:  # not valid for this model, or its data are not at hand
        return None


def _restore_inference(model, payload, path):
    from . import inference

    spec, entry = payload.get("formula"), payload.get("inference")
    if spec is not None:
        if not (isinstance(spec, dict) and isinstance(spec.get("formula"), str)):
            raise ModelFileError(f"{path} has a malformed formula entry.")
        model._formula_spec, model.formula_ = spec, spec["formula"]
    if entry is None:
        return
    try:
        found = inference.Ingredients.from_json(entry)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has a malformed inference entry: {exc}") from None
    if not np.allclose(found.theta, inference.theta_of(model), rtol=0, atol=0):
        raise ModelFileError(f"{path} is inconsistent: its inference entry is for other coefficients.")
    model._inference = found


def _distinct(classes):
    try:
        return len(set(classes.tolist())) == len(classes)
    except TypeError:  # unhashable entries
        return False


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _numbers(value, n, positive=False):
    return (isinstance(value, list) and len(value) == n
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    and (v > 0 or not positive) for v in value))


def _check_preprocess(prep, n_numeric):
    """Raise ValueError unless ``prep`` is what ``io.fit_preprocess`` writes for ``n_numeric`` columns."""
    from .io import IMPUTE_STRATEGIES

    if not isinstance(prep, dict) or set(prep) != {"impute", "statistics", "standardize", "mean", "scale"}:
        raise ValueError("preprocess has the entries impute, statistics, standardize, mean, scale")
    if prep["impute"] is None:
        if prep["statistics"] is not None:
            raise ValueError("preprocess has statistics but no impute strategy")
    elif prep["impute"] not in IMPUTE_STRATEGIES or not _numbers(prep["statistics"], n_numeric):
        raise ValueError(f"preprocess.impute is not one of {IMPUTE_STRATEGIES} with {n_numeric} finite statistics")
    if not isinstance(prep["standardize"], bool):
        raise ValueError("preprocess.standardize is not true or false")
    if prep["standardize"]:
        if not (_numbers(prep["mean"], n_numeric) and _numbers(prep["scale"], n_numeric, positive=True)):
            raise ValueError(f"preprocess.mean and scale are not {n_numeric} finite numbers (scales positive)")
    elif prep["mean"] is not None or prep["scale"] is not None:
        raise ValueError("preprocess has a mean and scale but standardize is false")


def _check_input_encoding(encoding, n_features):
    """Raise TypeError/ValueError unless ``encoding`` is a valid input_encoding for ``n_features`` columns."""
    if not isinstance(encoding, dict):
        raise TypeError("it is not an object")
    kind = encoding.get("kind")
    if kind == "svmlight":
        if set(encoding) != {"kind", "zero_based"} or not isinstance(encoding["zero_based"], bool):
            raise ValueError('expected {"kind": "svmlight", "zero_based": true or false}')
        return
    if kind != "table":
        raise ValueError(f"unknown kind {kind!r} (expected 'table' or 'svmlight')")
    if set(encoding) - {"preprocess"} != {"kind", "numeric", "categorical", "feature_names"}:
        raise ValueError("a table encoding has the entries kind, numeric, categorical, feature_names (and "
                         "preprocess)")
    numeric, blocks = encoding["numeric"], encoding["categorical"]
    if not _is_str_list(numeric):
        raise ValueError("numeric is not a list of column names")
    if "preprocess" in encoding:
        _check_preprocess(encoding["preprocess"], len(numeric))
    if not (isinstance(blocks, list) and all(
            isinstance(b, dict) and set(b) in ({"column", "categories"}, {"column", "categories", "reference"})
            and isinstance(b["column"], str) and _is_str_list(b["categories"]) and b["categories"]
            and len(set(b["categories"])) == len(b["categories"])
            and (isinstance(b.get("reference", ""), str) and b.get("reference") not in b["categories"])
            for b in blocks)):
        raise ValueError('categorical is not a list of {"column": name, "categories": [distinct text, ...]} (with '
                         'an optional "reference": a level that is not among the categories)')
    columns = numeric + [b["column"] for b in blocks]
    if len(set(columns)) != len(columns):
        raise ValueError("a column is named twice")
    width = len(numeric) + sum(len(b["categories"]) for b in blocks)
    if width != n_features:
        raise ValueError(f"it makes {width} features, the model has {n_features}")
    if not _is_str_list(encoding["feature_names"]) or len(encoding["feature_names"]) != width:
        raise ValueError(f"feature_names is not a list of {width} names")


__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]
