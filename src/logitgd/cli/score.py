"""``logitgd predict`` and ``logitgd evaluate``: a saved model on new data."""

from __future__ import annotations

import sys

from ..exceptions import DataError
from . import _plots
from ._read import _as_model_labels, _read_for_model, formula_response
from ._report import _check_outputs, _metrics, _report, coefficient_text


def cmd_predict(args):
    import pandas as pd

    from ..persistence import load

    _check_outputs({"--output": args.output}, args.force)
    model, encoding = load(args.model, return_encoding=True)
    X, _ = _read_for_model(model, encoding, args.data, None)
    proba = model.predict_proba(X)
    out = pd.DataFrame({f"proba_{c}": proba[:, k] for k, c in enumerate(model.classes_)})
    out["prediction"] = model.predict(X)
    if args.output:
        out.to_csv(args.output, index=False, float_format="%.17g")
        print(f"wrote {len(out)} predictions to {args.output}")
    else:
        out.to_csv(sys.stdout, index=False, float_format="%.17g")
    return 0



def cmd_evaluate(args):
    from ..io import is_svmlight
    from ..persistence import load

    allowed = {kind: True for kind in _plots.KIND_HELP if kind not in ("cv", "path")}
    allowed[None] = "logitgd evaluate (a saved model, without its cross-validation)"
    plots = _plots.parse(args.plot, allowed)
    _check_outputs(_plots.outputs(plots), args.force)
    model, encoding = load(args.model, return_encoding=True)
    target, spec = args.target, getattr(model, "_formula_spec", None)
    if not target and spec is not None:  # a formula model's labels: its response
        target = formula_response(spec["formula"])
    if not target and not is_svmlight(args.data):
        raise DataError("--target is required with a CSV or Parquet file: name the label column.")
    X, y = _read_for_model(model, encoding, args.data, target)
    y = _as_model_labels(y, model.classes_, args.data, target)
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    print(_report({"data": _metrics(model, X, y)}, model.classes_, y, "data"))
    names = _plots.feature_names(getattr(model, "feature_names_in_", None), encoding, X.shape[1])
    print(f"\ncoefficients\n{coefficient_text(model, names)}")
    if plots:
        print()
        _plots.draw(plots, model, X, y, names=names, args=args, rows_text=f"the {len(y)} rows of {args.data}")
    return 0

