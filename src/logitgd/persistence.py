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
      "classes": [0, 1],              # labels, in classes_ order (K >= 2 of them); datetime64 labels as
                                      #  ISO text, timedelta64 as counts of their unit, bytes as latin-1 text
      "classes_dtype": "<i8",         # NumPy dtype string of classes_ (np.asarray(classes, dtype) restores them)
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
import itertools
import json
import math
import os
import stat

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._files import write_atomically
from .exceptions import ModelFileError
from .solvers import is_integer, is_number

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


_FLOAT_MAX = int(np.finfo(np.float64).max)

#: a model file larger than this is not read (the largest models, 1e6 float64 coefficients, write ~25 MiB)
MAX_FILE_BYTES = 1 << 30


def _checksum(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _to_json_scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(value):
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False


def _storable_classes(classes):
    """``classes_`` as the file's ``classes``, checked to read back as they are (values and dtype); ModelFileError
    for labels a model file cannot hold (complex numbers, long doubles, objects other than text)."""
    try:
        values = _classes_to_json(classes)
        back = _classes_from_json(values, classes.dtype.str)
        ok = _jsonable(values) and back.dtype == classes.dtype and np.array_equal(back, classes)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ModelFileError(f"cannot save the model: its labels (classes_ {_short(classes.tolist())}, dtype "
                             f"{classes.dtype}) cannot be stored in a model file, which holds booleans, integers, "
                             "floats up to float64, text, bytes, datetime64 and timedelta64 labels; convert the labels "
                             "(y) to one of these and fit again.")
    return values


def _label_to_json(v):
    """One label (a class_weight key) as JSON: a datetime64, timedelta64 or bytes label as in ``classes``."""
    if isinstance(v, (np.datetime64, np.timedelta64, bytes)):
        return _classes_to_json(np.asarray([v]))[0]
    return _to_json_scalar(v)


def _param_to_json(name, value):
    # A class_weight dict may have non-string keys (labels): keep them as pairs.
    if name == "class_weight" and isinstance(value, dict):
        return {"pairs": [[_label_to_json(k), _to_json_scalar(v)] for k, v in value.items()]}
    return _to_json_scalar(value)


def _classes_to_json(classes):
    """``classes_`` as JSON values: datetime64 as ISO text (in its unit), timedelta64 as counts of its unit, bytes
    as latin-1 text (every byte one character), others as their Python scalars."""
    kind = classes.dtype.kind
    if kind == "M":
        return [str(s) for s in np.datetime_as_string(classes)]
    if kind == "m":
        return classes.astype(np.int64).tolist()
    if kind == "S":
        return [bytes(c).decode("latin-1") for c in classes]
    return [_to_json_scalar(c) for c in classes]


def _is_finite(v):
    """A JSON number that is a finite float64 (an integer of 400 digits is not: float() would overflow)."""
    return is_number(v) and (math.isfinite(v) if isinstance(v, float) else abs(v) <= _FLOAT_MAX)


def _label_of(v, dtype):
    """The label ``v`` (a JSON value of the file's ``classes``) as a scalar of ``dtype``, or None where it is not one
    (out of range, another type, text that the dtype would cut or alter)."""
    kind = dtype.kind
    if kind == "b":
        return np.bool_(v) if isinstance(v, bool) else None
    if kind in "iu":
        info = np.iinfo(dtype)
        return dtype.type(v) if is_integer(v) and info.min <= v <= info.max else None
    if kind == "f":
        if not is_number(v):
            return None
        try:
            with np.errstate(over="ignore"):  # 70000.0 as float16: inf, refused below
                c = np.array([v], dtype=dtype)[0]
        except OverflowError:
            return None
        return c if float(c) == v else None  # exact: no rounding, no overflow to inf
    if kind in "UO":
        if not isinstance(v, str):
            return None
        c = np.array([v], dtype=dtype)[0]
        return c if c == v else None  # a <U3 cuts 'abcd'; trailing NULs are dropped
    if kind == "S":
        try:
            raw = v.encode("latin-1") if isinstance(v, str) else None
        except UnicodeEncodeError:
            return None
        c = None if raw is None else np.array([raw], dtype=dtype)[0]
        return c if c is not None and c == raw else None
    if kind in "Mm":
        if is_integer(v):  # a count of the unit (datetime64[ns] labels were written so before ISO text)
            ok = np.iinfo(np.int64).min < v <= np.iinfo(np.int64).max  # the minimum is NaT
            return np.array([v], dtype=np.int64).view(dtype.newbyteorder("="))[0] if ok else None
        if kind == "M" and isinstance(v, str):
            try:
                c = np.array([v], dtype=dtype)
            except (ValueError, OverflowError):
                return None
            # exact: numpy reads "2020-01-01T12:00" into datetime64[D] as 2020-01-01, silently
            return c[0] if not np.isnat(c[0]) and np.datetime_as_string(c)[0] == v else None
    return None


def _classes_from_json(values, dtype_text):
    """``classes_`` from the file's ``classes`` (a flat list) and ``classes_dtype``; ValueError naming the entry."""
    if not isinstance(dtype_text, str):
        raise ValueError(f"classes_dtype is {dtype_text!r}, not a NumPy dtype string such as '<i8'")
    try:
        dtype = np.dtype(dtype_text)
    except (TypeError, ValueError):
        raise ValueError(f"classes_dtype {dtype_text!r} is not a NumPy dtype") from None
    if (dtype.kind not in "biufUSOMm" or dtype.fields is not None or dtype.subdtype is not None
            or (dtype.kind in "US" and dtype.itemsize == 0)
            or (dtype.kind in "Mm" and np.datetime_data(dtype)[0] == "generic")):
        raise ValueError(f"classes_dtype {dtype_text!r} ({dtype}) is not a dtype of labels (booleans, integers, "
                         "floats, text, bytes, datetime64 or timedelta64 with a unit)")
    labels = []
    for i, v in enumerate(values):
        c = _label_of(v, dtype)
        if c is None:
            raise ValueError(f"classes[{i}] is {_short(v)}, which is not a label of classes_dtype {dtype_text!r} "
                             f"({dtype})")
        labels.append(c)
    if dtype.kind == "O":
        out = np.empty(len(labels), dtype=object)  # 1-d, whatever the text
        out[:] = labels
        return out
    return np.array(labels, dtype=dtype)


def _short(v):
    text = repr(v)
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} characters)"


def _params_from_json(params, dtype_text):
    """The constructor's parameters from the file's ``params``; ValueError naming the entry that is malformed."""
    if not isinstance(params, dict):
        raise TypeError("params is not an object")
    params = dict(params)
    for name, value in params.items():
        if name != "class_weight" and not (value is None or isinstance(value, (bool, int, float, str))):
            raise ValueError(f"params.{name} is {_short(value)}, not a number, text, true/false or null")
        if is_number(value) and not _is_finite(value):
            raise ValueError(f"params.{name} is {_short(value)}, beyond the range of a float64")
    if "fit_intercept" in params and not isinstance(params["fit_intercept"], bool):  # the summary's layout needs it
        raise ValueError(f"params.fit_intercept is {_short(params['fit_intercept'])}, not true or false")
    if "class_weight" in params:
        params["class_weight"] = _class_weight_from_json(params["class_weight"], dtype_text)
    return params


def _class_weight_from_json(cw, dtype_text):
    if cw is None or cw == "balanced":
        return cw
    expected = ('expected null, "balanced" or {"pairs": [[label, weight], ...]} with distinct labels and weights '
                "finite numbers >= 0")
    if not (isinstance(cw, dict) and set(cw) == {"pairs"} and isinstance(cw["pairs"], list)):
        raise ValueError(f"params.class_weight is {_short(cw)}; {expected}")
    weights = {}
    try:
        dtype = np.dtype(dtype_text)
    except (TypeError, ValueError):
        dtype = None  # classes_dtype's own check says so
    for i, pair in enumerate(cw["pairs"]):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"params.class_weight pair {i} is {_short(pair)}, not [label, weight]; {expected}")
        label, weight = pair
        if not isinstance(label, (bool, int, float, str)):
            raise ValueError(f"params.class_weight pair {i} has the label {_short(label)}; {expected}")
        if not (_is_finite(weight) and weight >= 0):
            raise ValueError(f"params.class_weight pair {i} has the weight {_short(weight)} (label {_short(label)}); "
                             f"{expected}")
        if dtype is not None and dtype.kind in "MmS" and isinstance(label, (int, str)) and not isinstance(label, bool):
            restored = _label_of(label, dtype)  # written as classes are (ISO text, counts, latin-1 text)
            label = label if restored is None else restored
        if label in weights:
            raise ValueError(f"params.class_weight names the label {_short(pair[0])} twice; {expected}")
        weights[label] = weight
    return weights


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
    ModelFileError
        (a ValueError) The labels or a parameter cannot be written to a model file (complex or object labels
        that are not text, a parameter JSON cannot hold); nothing is written.
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
        "classes": _storable_classes(model.classes_),
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
    try:
        payload["sha256"] = _checksum(payload)
    except (TypeError, ValueError) as exc:  # a parameter JSON cannot hold (a Fraction, an object): nothing written
        bad = next((k for k, v in payload.items() if not _jsonable(v)), "an entry")
        raise ModelFileError(f"cannot save the model to {path}: its {bad} cannot be written as JSON ({exc}).") from None
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
    if not isinstance(payload["classes"], list) or any(isinstance(c, (list, dict)) for c in payload["classes"]):
        raise ModelFileError(f"{path} is inconsistent: classes is {_short(payload['classes'])}, not a list of the "
                             "K >= 2 labels.")
    try:
        model = LogisticRegression(**_params_from_json(payload["params"], payload["classes_dtype"]))
        model._check_params()  # the estimator's own checks of alpha, penalty, l1_ratio, solver, ...
        classes = _classes_from_json(payload["classes"], payload["classes_dtype"])
        _check_labels(classes)
        coef, intercept, loss_history = (_floats(payload, key) for key in ("coef", "intercept", "loss_history"))
        _check_fit_record(payload)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path} has malformed contents: {' '.join(str(exc).split())[:300]}") from None
    d = payload["n_features"]
    names = payload["feature_names"]
    if isinstance(names, list) and all(isinstance(n, str) for n in names) and len(set(names)) < len(names):
        twice = next(n for i, n in enumerate(names) if n in names[:i])
        raise ModelFileError(f"{path} is inconsistent: feature_names repeats {twice!r} (the names of the "
                             "features must be distinct).")
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
        try:
            _check_formula_spec(spec, payload["feature_names"], int(model.n_features_in_))
        except ValueError as exc:
            raise ModelFileError(f"{path} has a malformed formula entry: {exc}.") from None
        model._formula_spec, model.formula_ = spec, spec["formula"]
    if entry is None:
        return
    try:
        _check_inference_entry(entry, model)
        found = inference.Ingredients.from_json(entry)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path} has a malformed inference entry: {exc}") from None
    if not np.allclose(found.theta, inference.theta_of(model), rtol=0, atol=0):
        raise ModelFileError(f"{path} is inconsistent: its inference entry is for other coefficients.")
    model._inference = found


def _check_labels(classes):
    """ValueError unless ``classes`` are labels a fit could have learned (not continuous numbers)."""
    from . import _labels

    if classes.ndim == 1 and classes.size:
        try:
            _labels.check_labels(classes)
        except ValueError as exc:
            raise ValueError(f"classes {_short(classes.tolist())} are not class labels: {exc}") from None
        if np.any(classes[:-1] > classes[1:]):  # a fit sorts them (np.unique); encoding searches them
            raise ValueError(f"classes {_short(classes.tolist())} are not in increasing order, as a fit makes them")


def _floats(payload, key):
    """The entry ``key`` (a list of numbers, or of lists of numbers) as float64; ValueError naming it."""
    return _number_array(payload[key], key)


def _number_array(value, key):
    """``value``, a list of finite JSON numbers (or of lists of them), as float64; ValueError naming ``key``.
    NumPy alone would read null as NaN and true as 1.0."""
    if not isinstance(value, list):
        raise ValueError(f"{key} is {_short(value)}, not a list of numbers")
    try:
        found = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{key} is not an array of numbers ({exc})") from None
    flat = value if found.ndim == 1 else itertools.chain.from_iterable(value) if found.ndim == 2 else []
    if not (set(map(type, flat)) <= {int, float} and np.all(np.isfinite(found))):  # 0.05 s for 1e6 numbers
        flat = value if found.ndim == 1 else itertools.chain.from_iterable(value)
        bad = next((v for v in flat if type(v) not in (int, float) or not _is_finite(v)), None)
        raise ValueError(f"{key} holds {_short(bad)}, not a finite number")
    return found


def _check_fit_record(payload):
    """ValueError unless n_iter, converged, stop_reason and solver_used are what save() writes."""
    if not (is_integer(payload["n_iter"]) and payload["n_iter"] >= 0):
        raise ValueError(f"n_iter is {_short(payload['n_iter'])}, not a whole number >= 0")
    if not isinstance(payload["converged"], bool):
        raise ValueError(f"converged is {_short(payload['converged'])}, not true or false")
    if not isinstance(payload["stop_reason"], str):
        raise ValueError(f"stop_reason is {_short(payload['stop_reason'])}, not text")
    solver = payload.get("solver_used")
    if not (solver is None or isinstance(solver, str)):
        raise ValueError(f"solver_used is {_short(solver)}, not a solver's name")


def _check_inference_entry(entry, model):
    """ValueError unless the inference entry has the types and sizes :meth:`Ingredients.to_json` writes for
    ``model`` (its classes, features and intercept)."""
    if not isinstance(entry, dict):
        raise ValueError("it is not an object")
    missing = [k for k in ("n_classes", "d", "fit_intercept", "theta", "information", "meat", "llf", "llnull",
                           "nobs", "sw_sum", "separation", "separating") if k not in entry]
    if missing:
        raise ValueError(f"it lacks {', '.join(missing)}")
    K, d, fit_intercept = model.coef_.shape[0], int(model.n_features_in_), bool(model.fit_intercept)
    if not (is_integer(entry["n_classes"]) and entry["n_classes"] == K):
        raise ValueError(f"n_classes is {_short(entry['n_classes'])}, the model's coef has {K} rows")
    if not (is_integer(entry["d"]) and entry["d"] == d):
        raise ValueError(f"d is {_short(entry['d'])}, the model has {d} features")
    if entry["fit_intercept"] is not fit_intercept:
        raise ValueError(f"fit_intercept is {_short(entry['fit_intercept'])}, the model's is {fit_intercept}")
    P = (d + fit_intercept) * K
    for key, shape in (("theta", (P,)), ("information", (P, P)), ("meat", (P, P))):
        found = _number_array(entry[key], key)
        if found.shape != shape:
            raise ValueError(f"{key} has the shape {found.shape}, not {shape}")
    for key in ("llf", "llnull"):
        if not _is_finite(entry[key]):
            raise ValueError(f"{key} is {_short(entry[key])}, not a finite number")
    if not (is_integer(entry["nobs"]) and 1 <= entry["nobs"] <= 2**53):
        raise ValueError(f"nobs is {_short(entry['nobs'])}, not a count of rows (a whole number from 1 to 2**53)")
    if not (_is_finite(entry["sw_sum"]) and entry["sw_sum"] > 0):
        raise ValueError(f"sw_sum is {_short(entry['sw_sum'])}, not a number > 0")
    if entry["separation"] not in (None, "complete", "quasi-complete"):
        raise ValueError(f"separation is {_short(entry['separation'])}, not null, 'complete' or 'quasi-complete'")
    separating = entry["separating"]
    if not (isinstance(separating, list) and all(is_integer(j) and 0 <= j < d for j in separating)):
        raise ValueError(f"separating is {_short(separating)}, not a list of feature indices below {d}")
    if not isinstance(entry.get("firth", False), bool):
        raise ValueError(f"firth is {_short(entry['firth'])}, not true or false")


def _check_formula_spec(spec, names, d):
    """ValueError unless ``spec`` has the entries and types :func:`logitgd.formula.design` writes, its columns
    being the model's features."""
    from .formula import _SPEC_VERSION

    if not isinstance(spec, dict):
        raise ValueError("it is not an object")
    if (not is_integer(spec.get("version")) or spec["version"] != _SPEC_VERSION
            or not isinstance(spec.get("formula"), str) or "~" not in spec["formula"]):
        raise ValueError(f'expected "version": {_SPEC_VERSION} and "formula": text with a "~"')
    columns = spec.get("columns")
    if not (_is_str_list(columns) and len(columns) == d and (names is None or columns == names)):
        raise ValueError(f"columns is {_short(columns)}, not the model's {d} feature names")
    if names is None:
        raise ValueError("the model has no feature_names; a formula model's are the formula's columns")
    for key in ("fit_intercept", "ensure_full_rank"):
        if not isinstance(spec.get(key, True), bool):
            raise ValueError(f"{key} is {_short(spec[key])}, not true or false")
    if not isinstance(spec.get("transform_state"), dict):
        raise ValueError(f"transform_state is {_short(spec.get('transform_state'))}, not an object")
    state = spec.get("encoder_state")
    if not (isinstance(state, dict) and all(
            isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict)
            for v in state.values())):
        raise ValueError(f"encoder_state is {_short(state)}, not an object of [kind, state] pairs")


def _distinct(classes):
    try:
        return len(set(classes.tolist())) == len(classes)
    except TypeError:  # unhashable entries
        return False


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _numbers(value, n, positive=False):
    return (isinstance(value, list) and len(value) == n
            and all(_is_finite(v) and (v > 0 or not positive) for v in value))


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
