"""The coefficient table (``model.summary()``): ``logitgd fit --summary`` and ``logitgd summary MODEL``."""

from __future__ import annotations

from ..exceptions import DataError, InferenceError
from ._read import _as_model_labels, formula_response, read_for_model


def options(args, what):
    """The summary options as :func:`table`'s keywords (cov_type, conf_int, tests, level), checked; ``what``
    names where they apply. ``conf_int`` and ``tests`` stay None when not given: :func:`table` chooses."""
    cov_type = args.cov_type
    if args.cluster:
        if cov_type not in (None, "cluster"):
            raise DataError(f"--cluster gives cluster-robust standard errors; it does not go with "
                            f"--cov-type {cov_type}.")
        cov_type = "cluster"
    elif cov_type == "cluster":
        raise DataError(f"--cov-type cluster needs --cluster COL: the column of {what} holding the group labels.")
    return {"cov_type": cov_type or "nonrobust", "conf_int": args.conf_int, "tests": args.tests,
            "level": 0.95 if args.level is None else args.level}


def given(args):
    """The summary options given on the command line (their names)."""
    return [name for name, value in (("--cov-type", args.cov_type), ("--cluster", args.cluster),
                                     ("--conf-int", args.conf_int), ("--tests", args.tests), ("--level", args.level))
            if value is not None]


def refits(request):
    """What of ``options(...)`` refits the model (profile intervals, LR tests), by option, or []."""
    return [name for name, on in (("--conf-int profile", request["conf_int"] == "profile"),
                                  ("--tests lr", request["tests"] == "lr")) if on]


def table(model, X=None, y=None, *, cov_type, groups=None, conf_int=None, tests=None, level):
    """The text of ``model.summary(X, y, ...)`` (InferenceError: why there is none).

    ``conf_int``/``tests`` None: Wald's, except for a Firth fit with its data at hand, where they are
    logistf's (profile penalized-likelihood intervals, penalized likelihood-ratio tests).
    """
    found = model.summary(X, y, cov_type=cov_type, groups=groups, level=level)
    default = "profile" if found.firth and found.refits else "wald"
    return found.as_text(conf_int=conf_int or default, tests=tests or ("lr" if default == "profile" else "wald"))


def cmd_summary(args):
    """``summary MODEL [--data FILE]``: the coefficient table of a saved model, over its data or FILE's."""
    from ..io import is_svmlight
    from ..persistence import load

    request = options(args, "--data")
    model, encoding = load(args.model, return_encoding=True)
    spec = getattr(model, "_formula_spec", None)
    if args.data is None:
        needs = [name for name, on in (("--target", args.target), ("--cluster", args.cluster)) if on]
        if needs + refits(request):
            raise DataError(f"{(needs + refits(request))[0]} needs --data: the labelled data (the training data) to "
                            "compute over; a model file keeps what the model-based, HC0 and HC1 tables need, not "
                            "the rows.")
        print(f"{args.model} (the summary kept in the model file)")
        return _print(model, **request)
    target = args.target
    if target is None and spec is not None and not is_svmlight(args.data):
        target = formula_response(spec["formula"])
    if not target and not is_svmlight(args.data):
        raise DataError("--target is required with a CSV or Parquet --data file: name the label column.")
    X, y, groups = read_for_model(model, encoding, args.data, target, cluster=args.cluster)
    y = _as_model_labels(y, model.classes_, args.data, target)
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    return _print(model, X, y, groups=groups, **request)


def _print(model, X=None, y=None, **options):
    try:
        text = table(model, X, y, **options)
    except InferenceError as exc:
        raise DataError(f"no summary: {exc}") from None
    except ValueError as exc:  # data the model cannot take (the estimator's validation)
        raise DataError(f"cannot summarize: {exc}") from None
    print(text)
    return 0
