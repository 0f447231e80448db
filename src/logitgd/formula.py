"""R-style formulas (``"admit ~ gre + gpa + C(rank)"``) turned into a design matrix, via formulaic.

This is the one module that imports formulaic, and it imports it only when a formula is used, so
``import logitgd.formula`` works without it (``pip install 'logitgd[formula]'`` brings it).

``design(formula, data)`` materializes the training matrix and records, in ``Design.spec``, a plain
JSON-serializable dict from which ``transform(spec, new_data)`` rebuilds the very same columns on new
data: the categorical levels (``C(x)``, string columns) and the state of stateful transforms
(``center(x)``, ``scale(x)``, ``bs(x)``, ...) are those of the training data, not of the new data.

formulaic's ``ModelSpec`` holds ``formula``, ``transform_state`` (plain dicts of numbers and arrays),
``encoder_state`` (``{factor: (Kind, {"categories": [...], "contrasts": ContrastsState})}``) and
``structure`` (formulaic ``Term`` objects). The spec keeps the formula, the transform state and the
encoder state's kinds and categories; formulaic documents ``categories`` as the source of truth and
``contrasts`` as introspection only (the contrasts themselves are part of the formula text), and the
structure is not stored: it is a deterministic function of the formula, and the column names it
yields are stored and checked instead.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Design", "design", "transform"]

_SPEC_VERSION = 1
_INTERCEPT = "Intercept"
_ITEMS = "__items__"  # a dict whose keys are not all strings, as [[key, value], ...]


@dataclass(frozen=True, eq=False)  # eq on DataFrames is ambiguous: identity
class Design:
    """The model matrix of a formula on a data frame.

    X: the model matrix, float64, without the intercept column, formulaic's column names.
    y: the response, 1-D, its labels as in the data.
    fit_intercept: False when the formula removes the intercept (``- 1``, ``+ 0``, ``0 +``).
    spec: JSON-serializable; ``transform(spec, data)`` rebuilds the columns of X on new data.
    """

    X: pd.DataFrame
    y: np.ndarray
    fit_intercept: bool
    spec: dict


def _formulaic():
    try:
        import formulaic
    except ImportError as e:  # pragma: no cover - exercised only without formulaic
        raise ImportError("formulas need formulaic: pip install 'logitgd[formula]'") from e
    return formulaic


def _check_frame(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"formula data must be a pandas DataFrame, not {type(data).__name__}")
    return data


def _parse(formula: str):
    """The (lhs, rhs) SimpleFormulas of ``formula``, after checking it has exactly one ``~``."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string, not {type(formula).__name__}")
    if "~" not in formula:
        raise ValueError(f"formula {formula!r} has no '~': write it as 'response ~ predictors', e.g. 'y ~ x1 + x2'")
    formulaic = _formulaic()
    try:
        parsed = formulaic.Formula(formula)
    except Exception as e:
        raise ValueError(f"cannot parse formula {formula!r}: {e}") from e
    if type(parsed).__name__ == "SimpleFormula":  # '~ x': formulaic reads it as the right-hand side alone
        raise ValueError(f"formula {formula!r} has no response before '~'")
    lhs, rhs = getattr(parsed, "lhs", None), getattr(parsed, "rhs", None)
    if lhs is None or rhs is None or type(lhs).__name__ != "SimpleFormula" or type(rhs).__name__ != "SimpleFormula":
        raise ValueError(
            f"formula {formula!r} must have one response and one set of predictors ('y ~ x1 + x2'), not several parts"
        )
    if not list(lhs):
        raise ValueError(f"formula {formula!r} has no response before '~'")
    return lhs, rhs


def _variable_names(simple_formula) -> list[str]:
    return sorted(str(v) for v in simple_formula.required_variables)


def _check_columns(names: list[str], data: pd.DataFrame, what: str) -> None:
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise ValueError(
            f"{what}{'s' if len(missing) > 1 else ''} {', '.join(repr(n) for n in missing)} not in the data; "
            f"available columns: {', '.join(repr(str(c)) for c in data.columns)}"
        )


def _check_missing(names: list[str], data: pd.DataFrame) -> None:
    for name in names:
        isna = data[name].isna().to_numpy()
        if isna.any():
            pos = int(np.flatnonzero(isna)[0])
            raise ValueError(
                f"column {name!r} has missing values ({int(isna.sum())}), the first in row {data.index[pos]!r} "
                f"(position {pos}); drop or impute them before using the formula"
            )


def _materialize(model_spec, data: pd.DataFrame, formula: str):
    """model_spec.get_model_matrix(data), formulaic's evaluation errors turned into ValueErrors."""
    try:
        return model_spec.get_model_matrix(data, context={})
    except ValueError:
        raise
    except Exception as e:
        raise ValueError(f"cannot evaluate formula {formula!r} on the data: {e}") from e


# -- JSON conversion of formulaic's state ------------------------------------------------------------------------


def _jsonable(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float, str)):
        return _jsonable(value.item(), where)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{where} is a numpy array of dtype {value.dtype}, which cannot be stored as JSON")
        return _jsonable(value.tolist(), where)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _ITEMS not in value:
            return {k: _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
        # other keys (poly's {0: alpha0, 1: alpha1}): JSON would turn them into strings
        return {
            _ITEMS: [[_jsonable(k, f"{where} key {k!r}"), _jsonable(v, f"{where}[{k!r}]")] for k, v in value.items()]
        }
    raise ValueError(f"{where} is a {type(value).__name__} ({value!r}), which cannot be stored as JSON")


def _encoder_state_to_json(encoder_state: dict) -> dict:
    out = {}
    for expr, (kind, state) in encoder_state.items():
        state = {k: v for k, v in state.items() if k != "contrasts"}  # introspection only in formulaic
        out[str(expr)] = [getattr(kind, "value", kind), _jsonable(state, f"encoder_state[{expr!r}]")]
    return out


def _encoder_state_from_json(encoder_state: dict) -> dict:
    from formulaic.parser.types import Factor

    return {expr: (Factor.Kind(kind), dict(state)) for expr, (kind, state) in encoder_state.items()}


# -- the response --------------------------------------------------------------------------------------------------


def _response(lhs, lhs_matrix, data: pd.DataFrame, formula: str) -> np.ndarray:
    terms = [str(t) for t in lhs]
    if len(terms) == 1 and terms[0] in data.columns:  # a bare column: its values, as they are
        return data[terms[0]].to_numpy()
    values = lhs_matrix.to_numpy()
    if values.shape[1] == 1:
        return values[:, 0]
    # formulaic one-hot encoded a categorical response: back to the labels
    categorical = [
        (expr, state)
        for expr, (kind, state) in lhs_matrix.model_spec.encoder_state.items()
        if getattr(kind, "value", kind) == "categorical"
    ]
    if len(categorical) == 1 and len(categorical[0][1].get("categories", ())) == values.shape[1]:
        categories = np.asarray(list(categorical[0][1]["categories"]) + [None], dtype=object)[:-1]
        onehot = values.astype(np.float64)
        if np.all(onehot.sum(axis=1) == 1):
            return categories[onehot.argmax(axis=1)]
    raise ValueError(
        f"the response of {formula!r} gives {values.shape[1]} columns ({', '.join(map(str, lhs_matrix.columns))}); "
        "it must be a single column"
    )


# -- the API -------------------------------------------------------------------------------------------------------


def design(formula: str, data: pd.DataFrame) -> Design:
    """The model matrix, response and intercept choice of ``formula`` on ``data``, and the spec to redo it."""
    data = _check_frame(data)
    lhs, rhs = _parse(formula)
    lhs_names, rhs_names = _variable_names(lhs), _variable_names(rhs)
    _check_columns(lhs_names, data, "response variable")
    _check_columns(rhs_names, data, "predictor")
    _check_missing(sorted(set(lhs_names) | set(rhs_names)), data)

    formulaic = _formulaic()
    lhs_matrix = _materialize(formulaic.ModelSpec(lhs, na_action="raise", output="pandas"), data, formula)
    rhs_matrix = _materialize(formulaic.ModelSpec(rhs, na_action="raise", output="pandas"), data, formula)

    y = _response(lhs, lhs_matrix, data, formula)
    n_distinct = len(pd.unique(pd.Series(y, dtype=object) if y.dtype == object else y))
    if n_distinct < 2:
        only = f" ({getattr(y[0], 'item', lambda: y[0])()!r})" if n_distinct == 1 else ""
        raise ValueError(
            f"the response of {formula!r} has {n_distinct} distinct value{'s' if n_distinct != 1 else ''}"
            f"{only}; a logistic regression needs at least 2"
        )

    model_spec = rhs_matrix.model_spec
    fit_intercept = _INTERCEPT in rhs_matrix.columns
    X = rhs_matrix.drop(columns=[_INTERCEPT]) if fit_intercept else rhs_matrix
    X = pd.DataFrame(X.to_numpy(dtype=np.float64), index=data.index, columns=[str(c) for c in X.columns])

    spec = {
        "version": _SPEC_VERSION,
        "formula": formula,
        "rhs": str(rhs),
        "columns": list(X.columns),
        "fit_intercept": fit_intercept,
        "ensure_full_rank": bool(model_spec.ensure_full_rank),
        "transform_state": _jsonable(dict(model_spec.transform_state), "transform_state"),
        "encoder_state": _encoder_state_to_json(model_spec.encoder_state),
    }
    return Design(X=X, y=y, fit_intercept=fit_intercept, spec=spec)


def _unseen_categories(model_spec, data: pd.DataFrame) -> list[tuple[str, list]]:
    """(factor, values not among its training categories) for each categorical factor of model_spec."""
    import copy

    from formulaic.materializers import PandasMaterializer
    from formulaic.utils.stateful_transforms import stateful_eval

    context = PandasMaterializer(data, context={}).layered_context
    found = []
    for expr, (kind, state) in model_spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical" or "categories" not in state:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = stateful_eval(expr, context, {}, copy.deepcopy(model_spec.transform_state), model_spec)
        except Exception:  # noqa: BLE001, S112  # pragma: no cover - the full materialization reports it
            continue
        values = getattr(values, "__wrapped__", values)
        known = set(state["categories"])
        unseen = [v for v in pd.unique(pd.Series(np.asarray(values, dtype=object))) if v not in known]
        if unseen:
            found.append((expr, unseen))
    return found


def transform(spec: dict, data: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``design(spec["formula"], training).X`` (same names, order, levels, transform state) on ``data``.

    ``data`` needs only the predictors. Raises ValueError for a category not seen in training.
    """
    data = _check_frame(data)
    if not isinstance(spec, dict) or spec.get("version") != _SPEC_VERSION or "formula" not in spec:
        raise ValueError("not a formula spec made by logitgd.formula.design")
    formula = spec["formula"]
    _, rhs = _parse(formula)
    rhs_names = _variable_names(rhs)
    _check_columns(rhs_names, data, "predictor")
    _check_missing(rhs_names, data)

    formulaic = _formulaic()
    from formulaic.errors import DataMismatchWarning

    model_spec = formulaic.ModelSpec(
        rhs,
        na_action="raise",
        output="pandas",
        ensure_full_rank=spec.get("ensure_full_rank", True),
        transform_state=_json_copy(spec["transform_state"]),
        encoder_state=_encoder_state_from_json(spec["encoder_state"]),
    )
    # formulaic only warns about unseen categories (and makes them NaN, rows of zeros): check first
    unseen: dict[str, list] = {}
    for expr, values in _unseen_categories(model_spec, data):
        seen = unseen.setdefault(_factor_label(expr), [])
        seen.extend(v for v in values if v not in seen)
    if unseen:
        detail = "; ".join(f"{label}: {', '.join(map(repr, values))}" for label, values in unseen.items())
        raise ValueError(f"categories not seen in training, which the model has no coefficients for: {detail}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)  # a ValueError from _materialize, never NaN rows
        matrix = _materialize(model_spec, data, formula)

    if _INTERCEPT in matrix.columns:
        matrix = matrix.drop(columns=[_INTERCEPT])
    columns = [str(c) for c in matrix.columns]
    if columns != spec["columns"]:
        raise ValueError(
            f"formula {formula!r} gives the columns {columns} on the data, not those of training: {spec['columns']}"
        )
    return pd.DataFrame(matrix.to_numpy(dtype=np.float64), index=data.index, columns=columns)


def _factor_label(expr: str) -> str:
    m = re.fullmatch(r"C\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*(,.*)?\)", expr)
    return f"column {m.group(1)!r}" if m else f"column {expr!r}"


def _json_copy(value: Any) -> Any:
    """A copy of JSON-made state, with the dicts _jsonable stored as items made dicts again."""
    if isinstance(value, dict):
        if set(value) == {_ITEMS}:
            return {_hashable(_json_copy(k)): _json_copy(v) for k, v in value[_ITEMS]}
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key
