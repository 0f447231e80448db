"""``--report FILE.html`` of ``fit``, ``logitgd report MODEL DATA -o FILE.html`` and ``logitgd explain``."""

from __future__ import annotations

import os

import numpy as np

from .._defaults import default_alpha
from ..exceptions import DataError
from . import _plots
from ._read import _as_model_labels, _describe, _read_for_model, read_labelled, take_rows
from ._report import _check_outputs


def _check_row(row, n, source):
    if row >= n:
        raise DataError(f"--row {row}: {source} has {n} rows (0 to {n - 1}).")


def _traced(model, X, y, row, names):
    """Row ``row`` of X through the model, its features named ``names``."""
    e = model.explain(take_rows(X, [row]), None if y is None else np.asarray(y)[row])
    e.feature_names = list(names)
    return e


def _fit_text(model, elapsed=None):
    penalty = getattr(model, "penalty", "l2")
    alpha = 0.0 if penalty is None else float(default_alpha(penalty, getattr(model, "alpha", None)))
    text = {"solver": str(getattr(model, "solver_", "?")),
            "penalty": "Firth's penalized likelihood" if penalty == "firth" else
            (f"{penalty}, alpha {alpha:g}" + (f", l1_ratio {model.l1_ratio:g}" if penalty == "elasticnet" else "")
             if alpha > 0 else "none (maximum likelihood)"),
            "iterations": str(getattr(model, "n_iter_", "?")),
            "converged": ("yes" if getattr(model, "converged_", False) else "no")
            + f" ({getattr(model, 'stop_reason_', '')})"}
    if elapsed is not None:
        text["time"] = f"{elapsed:.3f} s"
    return text


def _data_text(source, X, y, encoding, classes, split=None):
    text = {"source": source, "shape": _describe(X, encoding), "classes": ", ".join(map(str, classes))}
    if split:
        text["split"] = split
    imputed = ((encoding or {}).get("preprocess") or {}).get("impute")
    text["missing values"] = (f"numbers filled with the training rows' {imputed.replace('_', ' ')} (--impute)"
                              if imputed else "none: the readers refuse empty cells and NaN, naming the row and "
                              "column")
    if encoding and encoding.get("kind") == "table" and encoding["categorical"]:
        text["categorical"] = ", ".join(f"{b['column']} ({len(b['categories']) + ('reference' in b)} levels)"
                                        for b in encoding["categorical"]) + ", one-hot encoded"
    return text


def write(args, model, data, train, test, *, names, elapsed, warnings_text=(), cv_model=None):
    """The report of ``fit --report``: the training and test rows' metrics, the test rows' plots."""
    from ..report import write as write_report

    (X_tr, y_tr), (X_te, y_te) = train, test
    X_last, y_last = (X_tr, y_tr) if X_te is None else (X_te, y_te)
    split = f"{len(y_tr)} training rows" + (f", {len(y_te)} test rows (held out, stratified)" if y_te is not None
                                            else " (no test split)")
    fit = _fit_text(model, elapsed)
    if cv_model is not None:
        fit["alpha"] = f"{cv_model.alpha_:.6g}, chosen by cross-validation ({cv_model.selection} rule)"
    write_report(args.report, model, train=(X_tr, y_tr), test=None if X_te is None else (X_te, y_te),
                 title=f"logitgd: {os.path.basename(data.source)}",
                 data=_data_text(data.source, data.X, data.y, data.encoding, model.classes_, split),
                 fit=fit, warnings_text=warnings_text, cv_model=cv_model, feature_names=names,
                 regions=_plots.regions_features(args, names) if len(names) >= 2 else None,
                 explain=_traced(model, X_last, y_last, 0, names))
    print(f"{'report':<15}{args.report}")


def _names(model, encoding, d):
    return _plots.feature_names(getattr(model, "feature_names_in_", None), encoding, d)


def cmd_report(args):
    from ..persistence import load
    from ..report import write as write_report

    _plots.check_report_name("-o", args.output)
    _check_outputs({"--output": args.output}, args.force, inputs=[args.model, getattr(args, "data", None)])
    model, encoding = load(args.model, return_encoding=True)
    X, y = read_labelled(args, model, encoding)
    _check_row(args.row, X.shape[0], args.data)
    names = _names(model, encoding, X.shape[1])
    write_report(args.output, model, test=(X, y), title=f"logitgd: {os.path.basename(args.model)} on "
                 f"{os.path.basename(args.data)}",
                 data=_data_text(args.data, X, y, encoding, model.classes_), fit=_fit_text(model),
                 feature_names=names, regions=_plots.regions_features(args, names) if len(names) >= 2 else None,
                 explain=_traced(model, X, y, args.row, names))
    print(f"wrote the report of {args.model} on {args.data} ({len(y)} rows) to {args.output}")
    return 0


def cmd_explain(args):
    from ..io import is_svmlight
    from ..persistence import load

    model, encoding = load(args.model, return_encoding=True)
    target = args.target
    X, y = _read_for_model(model, encoding, args.data, target)
    if y is not None and (target or is_svmlight(args.data)):
        y = _as_model_labels(y, model.classes_, args.data, target)
    _check_row(args.row, X.shape[0], args.data)
    e = _traced(model, X, y, args.row, _names(model, encoding, X.shape[1]))
    print(f"{args.model}, row {args.row} of {args.data}" + ("" if y is None else f" (label {e.y})"))
    print(e.table(top=args.top))
    return 0
