"""Saving and loading fitted models as JSON (no pickle).

The file is one JSON object::

    {
      "format": "logitgd-model",      # identifies the file
      "format_version": 1,            # bumped on incompatible changes
      "library_version": "0.1.0",     # logitgd that wrote it
      "estimator": "LogisticRegression",
      "params": {...},                # constructor parameters (all but callback and random_state;
                                      #  a class_weight dict as {"pairs": [[label, weight], ...]})
      "solver_used": "lbfgs",         # the solver that ran (solver_)
      "classes": [0, 1],              # labels, in classes_ order
      "classes_dtype": "int64",       # NumPy dtype string of classes_
      "n_features": 30,
      "feature_names": [...] | null,
      "coef": [[...]],                # (n_classes_fitted, n_features)
      "intercept": [...],
      "n_iter": 123, "converged": true, "stop_reason": "...",
      "loss_history": [...],
      "sha256": "..."                 # of the object above, without this key
    }

Floats are written by Python's ``repr``, the shortest string that reads back
to the same double, so a round trip gives bit-identical predictions. The
checksum catches edits and corruption that still leave valid JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .exceptions import ModelFileError

FORMAT = "logitgd-model"
FORMAT_VERSION = 1
_REQUIRED = ("format_version", "library_version", "estimator", "params", "classes",
             "classes_dtype", "n_features", "feature_names", "coef", "intercept", "n_iter",
             "converged", "stop_reason", "loss_history", "sha256")
_PARAMS = ("solver", "learning_rate", "alpha", "penalty", "l1_ratio", "fit_intercept", "max_iter", "tol",
           "class_weight", "verbose", "warm_start", "batch_size", "eta0", "power_t", "average",
           "early_stopping", "validation_fraction", "n_iter_no_change")


def _checksum(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _to_json_scalar(v):
    return v.item() if isinstance(v, np.generic) else v


def _create_temp(directory):
    """A new, empty file next to the target: ``(fd, path)``.

    Opened with mode 0666 so that the user's umask applies, as for any new
    file (``tempfile.mkstemp`` would make the model private, 0600).
    """
    for _ in range(100):
        tmp = os.path.join(directory, f".logitgd-{secrets.token_hex(8)}.json.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory}.")


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


def save(model, path, *, overwrite=False):
    """Write a fitted :class:`~logitgd.LogisticRegression` to ``path`` as JSON.

    Parameters
    ----------
    model : fitted LogisticRegression
    path : str or path-like
    overwrite : bool, default=False
        An existing file is replaced only if True.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        The directory of ``path`` does not exist.
    IsADirectoryError
        ``path`` is a directory.
    TypeError
        ``model`` is not a logitgd LogisticRegression.
    """
    from . import __version__
    from .estimator import LogisticRegression

    if not isinstance(model, LogisticRegression):
        raise TypeError(f"save() writes a logitgd LogisticRegression, got {type(model).__name__}.")
    check_is_fitted(model)
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
        "params": {k: _param_to_json(k, params[k]) for k in _PARAMS},
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
    }
    payload["sha256"] = _checksum(payload)
    # Write next to the target and rename: a crash never leaves half a file.
    fd, tmp = _create_temp(directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    """Read a model written by :func:`save`.

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
    try:
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
    except UnicodeDecodeError:
        raise ModelFileError(f"{path} is not a logitgd model: it is not a text (JSON) file.") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path} is not a valid model file: JSON error at line {exc.lineno}, column "
            f"{exc.colno} ({exc.msg}); the file may be truncated or corrupted."
        ) from None
    except RecursionError:
        raise ModelFileError(f"{path} is not a logitgd model file (its JSON is nested too deeply).") from None
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
    if (not isinstance(d, int) or isinstance(d, bool) or d < 1 or coef.shape != (1, d)
            or intercept.shape != (1,) or classes.shape != (2,) or classes[0] == classes[1]
            or loss_history.ndim != 1
            or (names is not None and (not isinstance(names, list) or len(names) != d
                                       or not all(isinstance(n, str) for n in names)))):
        raise ModelFileError(
            f"{path} is inconsistent: coef has shape {coef.shape}, intercept {intercept.shape}, "
            f"{classes.size} classes, n_features={d!r} and "
            f"{'no' if names is None else len(names) if isinstance(names, list) else 'malformed'} "
            "feature names (expected coef (1, n_features), intercept (1,), 2 distinct classes)."
        )
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
    return model


__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]
