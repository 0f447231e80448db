"""``logitgd predict`` and ``logitgd evaluate``: a saved model on new data."""

from __future__ import annotations

import sys

from ..exceptions import DataError
from . import _plots
from ._read import _read_for_model, read_labelled
from ._report import _check_outputs, _metrics, _report, check_threshold, coefficient_text

#: the formats predictions are written in, by the output file's suffix
PREDICTION_FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet"}


def _prediction_format(path):
    lower = path.lower()
    for suffix, fmt in PREDICTION_FORMATS.items():
        if lower.endswith(suffix):
            return fmt
    raise DataError(f"--output {path}: predictions are written as CSV (.csv, .csv.gz) or Parquet (.parquet), chosen "
                    "by the file's suffix.")


def cmd_predict(args):
    import pandas as pd

    from .._files import write_atomically
    from ..io import is_svmlight, read_table
    from ..persistence import load
    from ..report import predict

    fmt = _prediction_format(args.output) if args.output else "csv"
    _check_outputs({"--output": args.output}, args.force, inputs=[args.model, args.data])
    if args.keep and is_svmlight(args.data):
        raise DataError(f"--keep names columns of a table; the svmlight file {args.data} has none.")
    model, encoding = load(args.model, return_encoding=True)
    X, _ = _read_for_model(model, encoding, args.data, None)
    kept = {}
    if args.keep:
        table = read_table(args.data).rename(columns=str)
        for column in args.keep:
            if column not in table.columns:
                raise DataError(f"--keep: {args.data} has no column {column!r}.")
            kept[column] = table[column].to_numpy()
    check_threshold(args.threshold, len(model.classes_), "the model")
    proba = model.predict_proba(X)
    out = pd.DataFrame(kept)
    for k, c in enumerate(model.classes_):
        out[f"proba_{c}"] = proba[:, k]
    out["prediction"] = predict(model, X, args.threshold, proba)
    number = f"%.{args.digits}g"
    if not args.output:
        out.to_csv(sys.stdout, index=False, float_format=number)
        return 0
    if fmt == "parquet":  # full precision: a binary format loses nothing
        write_atomically(args.output, lambda fh: out.to_parquet(fh, index=False), suffix=".parquet", binary=True)
    else:
        compression = "gzip" if args.output.lower().endswith(".gz") else None
        write_atomically(args.output, lambda fh: out.to_csv(fh, index=False, float_format=number,
                                                            compression=compression),
                         suffix=".csv.gz" if compression else ".csv", binary=True)
    print(f"wrote {len(out)} predictions to {args.output}")
    return 0


def cmd_evaluate(args):
    from ..persistence import load

    allowed = {kind: True for kind in _plots.KIND_HELP if kind not in ("cv", "path")}
    allowed[None] = "logitgd evaluate (a saved model, without its cross-validation)"
    plots = _plots.parse(args.plot, allowed)
    _check_outputs(_plots.outputs(plots), args.force, inputs=[args.model, args.data])
    model, encoding = load(args.model, return_encoding=True)
    X, y = read_labelled(args, model, encoding)
    check_threshold(args.threshold, len(model.classes_), "the model")
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    print(_report({"data": _metrics(model, X, y, args.threshold)}, model.classes_, y, "data"))
    names = _plots.feature_names(getattr(model, "feature_names_in_", None), encoding, X.shape[1])
    print(f"\ncoefficients\n{coefficient_text(model, names)}")
    if plots:
        print()
        _plots.draw(plots, model, X, y, names=names, args=args, rows_text=f"the {len(y)} rows of {args.data}")
    return 0

