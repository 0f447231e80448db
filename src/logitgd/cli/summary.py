"""The coefficient table (``model.summary()``): ``logitgd fit --summary`` and ``logitgd summary MODEL``."""

from __future__ import annotations

from ..exceptions import DataError, InferenceError
from ._read import _as_model_labels, formula_response, read_for_model


def options(args, what):
    """``(cov_type, conf_int, level)`` of the summary options, checked; ``what`` names where they apply."""
    cov_type = args.cov_type
    if args.cluster:
        if cov_type not in (None, "cluster"):
            raise DataError(f"--cluster gives cluster-robust standard errors; it does not go with "
                            f"--cov-type {cov_type}.")
        cov_type = "cluster"
    elif cov_type == "cluster":
        raise DataError(f"--cov-type cluster needs --cluster COL: the column of {what} holding the group labels.")
    return cov_type or "nonrobust", args.conf_int or "wald", 0.95 if args.level is None else args.level


def given(args):
    """The summary options given on the command line (their names)."""
    return [name for name, value in (("--cov-type", args.cov_type), ("--cluster", args.cluster),
                                     ("--conf-int", args.conf_int), ("--level", args.level)) if value is not None]


def table(model, X=None, y=None, *, cov_type, groups=None, conf_int, level):
    """The text of ``model.summary(X, y, ...)`` with ``conf_int`` intervals (InferenceError: why there is none)."""
    found = model.summary(X, y, cov_type=cov_type, groups=groups, level=level)
    return found.as_text(conf_int=conf_int)


def cmd_summary(args):
    """``summary MODEL [--data FILE]``: the coefficient table of a saved model, over its data or FILE's."""
    from ..io import is_svmlight
    from ..persistence import load

    cov_type, conf_int, level = options(args, "--data")
    model, encoding = load(args.model, return_encoding=True)
    spec = getattr(model, "_formula_spec", None)
    if args.data is None:
        for option, needs in (("--target", args.target), ("--cluster", args.cluster),
                              ("profile intervals", conf_int == "profile")):
            if needs:
                raise DataError(f"{option} needs --data: the labelled data (the training data) to compute over; "
                                "a model file keeps what the model-based, HC0 and HC1 tables need, not the rows.")
        print(f"{args.model} (the summary kept in the model file)")
        return _print(model, cov_type=cov_type, conf_int=conf_int, level=level)
    target = args.target
    if target is None and spec is not None and not is_svmlight(args.data):
        target = formula_response(spec["formula"])
    if not target and not is_svmlight(args.data):
        raise DataError("--target is required with a CSV or Parquet --data file: name the label column.")
    X, y, groups = read_for_model(model, encoding, args.data, target, cluster=args.cluster)
    y = _as_model_labels(y, model.classes_, args.data, target)
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    return _print(model, X, y, cov_type=cov_type, groups=groups, conf_int=conf_int, level=level)


def _print(model, X=None, y=None, **options):
    try:
        text = table(model, X, y, **options)
    except InferenceError as exc:
        raise DataError(f"no summary: {exc}") from None
    except ValueError as exc:  # data the model cannot take (the estimator's validation)
        raise DataError(f"cannot summarize: {exc}") from None
    print(text)
    return 0
