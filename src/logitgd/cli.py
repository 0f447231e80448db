"""The ``logitgd`` command: fit, predict, evaluate.

Exit codes: 0 success, 1 bad input (one line on stderr naming the problem),
2 bad command line, 130 fit interrupted by Ctrl-C (the model and plot are
still written, with what the fit had).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

from . import __version__
from .exceptions import DataError, DivergenceError, ModelFileError

DEFAULT_ALPHA = 1e-4
BUILTIN = "breast-cancer"


def _learning_rate(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _non_negative(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}") from None
    if not (value >= 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _int_in(low, high=None):
    what = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what
    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        prog="logitgd", description="Logistic regression trained by gradient descent.")
    parser.add_argument("--version", action="version", version=f"logitgd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="train a model on a CSV/Parquet file (or the built-in data)")
    fit.add_argument("data", nargs="?", help=f"CSV or Parquet file; omitted: the built-in {BUILTIN} data")
    fit.add_argument("--target", help="name of the label column (required with DATA)")
    fit.add_argument("--test-size", type=_fraction, default=0.2,
                     help="fraction held out for testing, stratified (default 0.2; 0 for none)")
    fit.add_argument("--alpha", type=_non_negative, default=DEFAULT_ALPHA,
                     help=f"L2 penalty strength (default {DEFAULT_ALPHA:g}; 0 for the pure MLE)")
    fit.add_argument("--learning-rate", type=_learning_rate, default="auto",
                     help="fixed step, or 'auto' for line search (default)")
    fit.add_argument("--solver", choices=["auto", "gd", "sgd", "lbfgs", "newton"], default=None,
                     help="optimizer (default: 'gd' with a numeric --learning-rate, else 'auto')")
    fit.add_argument("--penalty", choices=["l2", "l1", "elasticnet", "none"], default="l2",
                     help="penalty on the coefficients (default l2)")
    fit.add_argument("--l1-ratio", type=_non_negative, default=None,
                     help="share of L1 in the elastic net (required with --penalty elasticnet)")
    fit.add_argument("--max-iter", type=_int_in(1), default=None,
                     help="iteration limit (default: the solver's, e.g. 5000 for gd, 100 for newton)")
    fit.add_argument("--tol", type=_non_negative, default=None,
                     help="gradient tolerance (default: the solver's, 1e-8; 1e-4 for sgd)")
    fit.add_argument("--random-state", type=_int_in(0, 2**32 - 1), default=0,
                     help="seed of the train/test split (default 0)")
    fit.add_argument("--model", help="write the fitted model here (JSON)")
    fit.add_argument("--plot", help="write the cost curve here (PNG)")
    fit.add_argument("--force", action="store_true", help="overwrite existing output files")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")

    pred = sub.add_parser("predict", help="probabilities and labels for new data")
    pred.add_argument("model", help="model file written by 'logitgd fit --model'")
    pred.add_argument("data", help="CSV or Parquet file with the model's feature columns")
    pred.add_argument("--output", help="write predictions here (CSV); default: standard output")
    pred.add_argument("--force", action="store_true", help="overwrite an existing output file")

    ev = sub.add_parser("evaluate", help="metrics of a saved model on labelled data")
    ev.add_argument("model", help="model file written by 'logitgd fit --model'")
    ev.add_argument("data", help="CSV or Parquet file with the model's features and the target")
    ev.add_argument("--target", required=True, help="name of the label column")
    return parser


def _check_outputs(options, force):
    """Check the output files before any work: ``options`` maps option names to paths."""
    given = {opt: path for opt, path in options.items() if path}
    seen = {}
    for opt, path in given.items():
        key = os.path.abspath(path)
        if key in seen:
            raise DataError(f"{seen[key]} and {opt} both name {path}; give them different files.")
        seen[key] = opt
        if os.path.isdir(path):
            raise DataError(f"{opt} {path} is a directory; give a file name.")
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{opt} {path} already exists; use --force to overwrite it.")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise DataError(f"{opt} {path}: the directory {directory} does not exist.")


def _load_builtin():
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame, "target", f"built-in {BUILTIN} data"


def _metrics(model, X, y):
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    proba = model.predict_proba(X)
    pred = model.predict(X)
    positive = y == model.classes_[1]
    auc = roc_auc_score(positive, proba[:, 1]) if 0 < positive.sum() < len(y) else float("nan")
    return {
        "accuracy": accuracy_score(y, pred),
        "log-loss": log_loss(positive, proba[:, 1], labels=[False, True]),
        "ROC AUC": auc,
    }


def _table(columns):
    """Rows 'accuracy', 'log-loss', 'ROC AUC' for each named column of metrics."""
    names = list(columns)
    lines = [f"{'':<12}" + "".join(f"{n:>10}" for n in names)]
    for key in ("accuracy", "log-loss", "ROC AUC"):
        values = (columns[n][key] for n in names)
        lines.append(f"{key:<12}" + "".join(f"{v:>10.4f}" if np.isfinite(v) else f"{'n/a':>10}" for v in values))
    return "\n".join(lines)


def cmd_fit(args):
    from sklearn.model_selection import train_test_split

    from .estimator import LogisticRegression
    from .io import read_table, split_xy

    _check_outputs({"--model": args.model, "--plot": args.plot}, args.force)
    if args.data is None:
        df, target, source = _load_builtin()
        target = args.target or target
    else:
        if not args.target:
            raise DataError("--target is required with a DATA file: name the label column.")
        df, target, source = read_table(args.data), args.target, args.data
    X, y, names = split_xy(df, target, source)
    import pandas as pd

    if args.test_size > 0:
        counts = pd.Series(y).value_counts()
        if counts.min() < 2 or round(args.test_size * len(y)) < 2:
            raise DataError(f"{source}: too few rows in a class to hold out a stratified test set; use --test-size 0.")
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=args.test_size, stratify=y,
                                                  random_state=args.random_state)
    else:
        X_tr, y_tr, X_te, y_te = X, y, None, None
    X_tr = pd.DataFrame(X_tr, columns=names)

    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=args.max_iter, desc="fitting", unit="it", file=sys.stderr, leave=False,
                   dynamic_ncols=True)  # total=None (solver's default limit): a counter

    def progress(state):
        bar.update(state.iteration - bar.n)
        bar.set_postfix_str(f"cost={state.fun:.6g}", refresh=False)

    solver = args.solver or ("gd" if args.learning_rate != "auto" else "auto")
    penalty = None if args.penalty == "none" else args.penalty
    model = LogisticRegression(solver=solver, alpha=args.alpha, penalty=penalty, l1_ratio=args.l1_ratio,
                               learning_rate=args.learning_rate, max_iter=args.max_iter, tol=args.tol,
                               callback=progress if bar is not None else None)
    print(f"logitgd {__version__}: fitting {source} ({len(y)} rows, {len(names)} features), target {target!r}")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_tr, y_tr)
        except DivergenceError as exc:
            raise DivergenceError(f"{exc} On the command line: --learning-rate auto (the default).") from None
        finally:
            if bar is not None:
                bar.close()
    elapsed = time.perf_counter() - start
    for w in caught:
        print(f"logitgd: warning: {w.message}", file=sys.stderr)

    columns = {"train": _metrics(model, X_tr, y_tr)}
    if X_te is not None:
        columns["test"] = _metrics(model, pd.DataFrame(X_te, columns=names), y_te)
    kind = {"l2": "L2", "l1": "L1", "elasticnet": f"elastic net, l1_ratio {args.l1_ratio:g}"
            if args.l1_ratio is not None else "elastic net"}.get(args.penalty)
    summary = f"{args.alpha:g} ({kind})" if args.alpha > 0 and kind else f"{args.alpha:g} (maximum likelihood)"
    print(f"alpha          {summary}")
    print(f"solver         {model.solver_}")
    if model.solver_ in ("gd", "sgd"):
        print(f"learning rate  {args.learning_rate}")
    print(f"iterations     {model.n_iter_}")
    print(f"time           {elapsed:.3f} s")
    print(f"converged      {'yes' if model.converged_ else 'no'} ({model.stop_reason_})")
    print(f"rows           {len(y_tr)} train" + (f", {len(y_te)} test" if y_te is not None else ""))
    print(_table(columns))
    if args.model:
        from .persistence import save

        save(model, args.model, overwrite=args.force)
        print(f"model          {args.model}")
    if args.plot:
        from .plots import plot_cost_curve

        plot_cost_curve(model.loss_history_, args.plot, title=f"logitgd on {os.path.basename(source)}")
        print(f"cost curve     {args.plot}")
    if "interrupted" in model.stop_reason_:
        return 130
    return 0


def _features(df, model, source):
    """The model's feature columns of ``df``, checked, as the model expects them."""
    import pandas as pd

    from .io import model_features

    X = model_features(df, model, source)
    names = getattr(model, "feature_names_in_", None)
    return X if names is None else pd.DataFrame(X, columns=list(names), copy=False)


def cmd_predict(args):
    import pandas as pd

    from .io import read_table
    from .persistence import load

    _check_outputs({"--output": args.output}, args.force)
    model = load(args.model)
    X = _features(read_table(args.data), model, args.data)
    proba = model.predict_proba(X)
    out = pd.DataFrame({f"proba_{c}": proba[:, k] for k, c in enumerate(model.classes_)})
    out["prediction"] = model.predict(X)
    if args.output:
        out.to_csv(args.output, index=False, float_format="%.17g")
        print(f"wrote {len(out)} predictions to {args.output}")
    else:
        out.to_csv(sys.stdout, index=False, float_format="%.17g")
    return 0


def _as_model_labels(y, classes, source, target):
    """Labels of ``y`` as the model's ``classes_`` (matched by value, else by text)."""
    if np.isin(y, classes).all():
        return y
    lookup = {str(c): c for c in classes}
    unknown = sorted({str(v) for v in y} - lookup.keys())
    if unknown:
        raise DataError(
            f"{source}: target column {target!r} has labels {unknown[:5]} that the model does "
            f"not know (its classes are {[str(c) for c in classes]})."
        )
    return np.array([lookup[str(v)] for v in y], dtype=classes.dtype)


def cmd_evaluate(args):
    from .io import check_target, read_table
    from .persistence import load

    model = load(args.model)
    df = read_table(args.data)
    if args.target not in df.columns:
        raise DataError(f"{args.data} has no target column {args.target!r}.")
    check_target(df[args.target], args.target, args.data, min_classes=1)
    y = _as_model_labels(df[args.target].to_numpy(), model.classes_, args.data, args.target)
    X = _features(df, model, args.data)
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    print(_table({"data": _metrics(model, X, y)}))
    return 0


def _message(exc):
    """One line for the error message of ``exc``."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"  # as in "x.csv: Permission denied"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = {"fit": cmd_fit, "predict": cmd_predict, "evaluate": cmd_evaluate}[args.command]
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader of standard output went away (``logitgd predict ... | head``):
        # stop quietly, and keep Python from complaining when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except (DataError, ModelFileError, DivergenceError, OSError) as exc:
        print(f"logitgd: error: {_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("logitgd: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
