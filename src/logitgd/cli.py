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

from ._version import __version__
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


def _column_list(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return names


def build_parser():
    parser = argparse.ArgumentParser(
        prog="logitgd", description="Logistic regression trained by gradient descent.")
    parser.add_argument("--version", action="version", version=f"logitgd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="train a model on a CSV/Parquet/svmlight file (or the built-in data)")
    fit.add_argument("data", nargs="?",
                     help=f"CSV, Parquet or svmlight file; omitted: the built-in {BUILTIN} data")
    fit.add_argument("--target", help="name of the label column (required with a CSV or Parquet DATA; "
                                      "an svmlight file holds its labels)")
    fit.add_argument("--categorical", type=_column_list, default=[], metavar="COL1,COL2",
                     help="columns to one-hot encode (CSV/Parquet); the features become a sparse matrix")
    fit.add_argument("--multi-class", choices=["auto", "multinomial", "ovr"], default=None,
                     help="with more than two classes: one softmax model or one-vs-rest "
                          "(default: the estimator's, 'auto')")
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
    fit.add_argument("--device", default="cpu",
                     help="where to train: cpu (default), or cuda / cuda:N through PyTorch (pip install 'logitgd[gpu]')")
    fit.add_argument("--dask", metavar="local[:N]|tcp://HOST:PORT",
                     help="train with Dask (pip install 'logitgd[dask]'): DATA is a Parquet file, directory or "
                          "glob; local:N starts N worker processes here, tcp://HOST:PORT joins a running scheduler")

    pred = sub.add_parser("predict", help="probabilities and labels for new data")
    pred.add_argument("model", help="model file written by 'logitgd fit --model'")
    pred.add_argument("data", help="CSV, Parquet or svmlight file with the model's features")
    pred.add_argument("--output", help="write predictions here (CSV); default: standard output")
    pred.add_argument("--force", action="store_true", help="overwrite an existing output file")

    ev = sub.add_parser("evaluate", help="metrics of a saved model on labelled data")
    ev.add_argument("model", help="model file written by 'logitgd fit --model'")
    ev.add_argument("data", help="CSV, Parquet or svmlight file with the model's features and labels")
    ev.add_argument("--target", help="name of the label column (required with a CSV or Parquet file)")
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
    """Accuracy, log-loss, ROC AUC (one-vs-rest, macro-averaged for K > 2) and the predictions."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    classes = model.classes_
    proba = model.predict_proba(X)
    pred = model.predict(X)
    every_class = bool(np.isin(classes, y).all())  # else ROC AUC is undefined
    if len(classes) == 2:
        positive = y == classes[1]
        loss = log_loss(positive, proba[:, 1], labels=[False, True])
        auc = roc_auc_score(positive, proba[:, 1]) if every_class else float("nan")
    else:
        loss = log_loss(y, proba, labels=classes)
        auc = (roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
               if every_class else float("nan"))
    return {"accuracy": accuracy_score(y, pred), "log-loss": loss, "ROC AUC": auc, "pred": pred}


def _table(columns):
    """Rows 'accuracy', 'log-loss', 'ROC AUC' for each named column of metrics."""
    names = list(columns)
    lines = [f"{'':<12}" + "".join(f"{n:>10}" for n in names)]
    for key in ("accuracy", "log-loss", "ROC AUC"):
        values = (columns[n][key] for n in names)
        lines.append(f"{key:<12}" + "".join(f"{v:>10.4f}" if np.isfinite(v) else f"{'n/a':>10}" for v in values))
    return "\n".join(lines)


def _class_report(classes, y, pred, part):
    """Precision, recall, F1 and support per class, and the confusion matrix, as text."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    matrix = confusion_matrix(y, pred, labels=classes)
    labels = [str(c) for c in classes]
    width = max(12, max(map(len, labels)) + 2)
    lines = [f"per class ({part})", f"{'class':<{width}}" + "".join(
        f"{h:>10}" for h in ("precision", "recall", "F1", "support"))]
    for label, p, r, f, n in zip(labels, precision, recall, f1, support):
        lines.append(f"{label:<{width}}{p:>10.4f}{r:>10.4f}{f:>10.4f}{n:>10d}")
    cell = max(max(map(len, labels)), len(str(matrix.max()))) + 2
    lines += ["", f"confusion matrix ({part}): true class down, predicted class across",
              f"{'':<{width}}" + "".join(f"{label:>{cell}}" for label in labels)]
    for label, counts in zip(labels, matrix):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>{cell}d}" for v in counts))
    return "\n".join(lines)


def _report(columns, classes, y, part):
    """The metrics table, then per-class metrics and the confusion matrix of ``part``."""
    text = _table(columns)
    if len(classes) > 2:
        text += "\n(ROC AUC: one-vs-rest, averaged over the classes)"
    return text + "\n\n" + _class_report(classes, y, columns[part]["pred"], part)


def _read_training_data(args):
    """``(X, y, names, encoding, source, target)`` for ``fit``.

    X is an ndarray with column ``names`` (numeric tables, the built-in
    data) or a CSR matrix with ``names`` None (svmlight, ``--categorical``);
    ``encoding`` is what the model file keeps to read new data the same way.
    """
    from .io import check_target, encode_table, is_svmlight, read_svmlight, read_table, split_xy

    if args.data is None:
        if args.categorical:
            raise DataError("--categorical needs a DATA file; the built-in data has no categorical columns.")
        df, target, source = _load_builtin()
        target = args.target or target
        X, y, names = split_xy(df, target, source)
        return X, y, names, None, source, target
    if is_svmlight(args.data):
        if args.target:
            raise DataError(f"--target does not apply to the svmlight file {args.data}: "
                            "the label is the first field of each line.")
        if args.categorical:
            raise DataError(f"--categorical applies to CSV and Parquet files, not to the svmlight file {args.data}.")
        X, y, zero_based = read_svmlight(args.data)
        check_target(y, None, args.data, what="the labels")
        return X, y, None, {"kind": "svmlight", "zero_based": zero_based}, args.data, None
    if not args.target:
        raise DataError("--target is required with a CSV or Parquet DATA file: name the label column.")
    df = read_table(args.data)
    if args.categorical:
        X, y, encoding = encode_table(df, args.target, args.categorical, args.data)
        return X, y, None, encoding, args.data, args.target
    X, y, names = split_xy(df, args.target, args.data)
    return X, y, names, None, args.data, args.target


def _describe(X, encoding):
    """'200 rows, 3 features' and, for sparse inputs, how they were made."""
    text = f"{X.shape[0]} rows, {X.shape[1]} features"
    if encoding is None:
        return text
    if encoding["kind"] == "svmlight":
        base = 0 if encoding["zero_based"] else 1
        return f"{text}, {X.nnz} nonzero values, {base}-based feature indices"
    blocks = encoding["categorical"]
    return (f"{text}: {len(encoding['numeric'])} numeric and {len(blocks)} categorical "
            f"columns, one-hot encoded into {sum(len(b['categories']) for b in blocks)}")


def _multi_class(model):
    """How a model with more than two classes was fitted: 'multinomial' (softmax) or 'ovr'."""
    return "ovr" if getattr(model, "multi_class", "auto") == "ovr" else "multinomial"


def _progress_bar(args, refresh):
    """``(bar, callback that moves it)`` for the fit, or ``(None, None)`` with --quiet."""
    if args.quiet:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=args.max_iter, desc="fitting", unit="it", file=sys.stderr, leave=False,
               dynamic_ncols=True)  # total=None (solver's default limit): a counter

    def progress(state):
        bar.update(state.iteration - bar.n)
        bar.set_postfix_str(f"cost={state.fun:.6g}", refresh=refresh)

    return bar, progress


def _model(args, callback, **extra):
    """The estimator that the fit options ask for."""
    from .estimator import LogisticRegression

    if args.multi_class is not None:
        extra["multi_class"] = args.multi_class
    return LogisticRegression(solver=args.solver or ("gd" if args.learning_rate != "auto" else "auto"),
                              alpha=args.alpha, penalty=None if args.penalty == "none" else args.penalty,
                              l1_ratio=args.l1_ratio, learning_rate=args.learning_rate, max_iter=args.max_iter,
                              tol=args.tol, callback=callback, **extra)


def _fit_dask_data(model, X, y):
    """``model.fit(X, y)`` on dask input, and the rows (:class:`~logitgd.backends.dask.rows.DaskRows`) that its
    own validation of X made (rows, chunks, bytes, persisted or not, and the passes the fit made over them)."""
    seen = []

    def validate(*args, **kwargs):
        checked = type(model)._validate_xy(model, *args, **kwargs)
        seen.append(checked[0])
        return checked

    model._validate_xy = validate  # this instance only, for this fit
    try:
        model.fit(X, y)
    finally:
        del model._validate_xy
    return seen[-1]


def _cmd_fit_dask(args):
    """``fit DATA --target COL --dask ADDRESS``: train on Parquet data with Dask; the exit code.

    The model file and cost plot are written as by the in-memory command; there is no test split (every
    row trains), and the summary gives the final training cost, not a metrics table (another pass)."""
    from .backends.dask.cluster import _machine_memory, _persists, start_client
    from .backends.dask.reader import read_parquet

    if args.data is None or not args.target:
        raise DataError("--dask trains on a Parquet file, directory or glob: give DATA and --target.")
    for option, path in (("--model", args.model), ("--plot", args.plot)):
        if path and os.path.exists(path) and not args.force:
            raise DataError(f"{option} {path} exists; use --force to overwrite it.")
    try:
        X, y, names = read_parquet(args.data, args.target)
        nbytes = 0 if hasattr(X, "columns") else X.nbytes  # a dataframe's size is not known before reading
        client, cluster = start_client(args.dask, reads_source=not _persists(nbytes, _machine_memory()))
    except ValueError as exc:
        raise DataError(str(exc)) from None
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        print(f"logitgd {__version__}: Dask scheduler {client.scheduler.address} with {len(workers)} workers; "
              f"dashboard {client.dashboard_link}", flush=True)
        print(f"logitgd: fitting {args.data} ({len(names)} features, target {args.target!r}); "
              "no test split with --dask: every row trains", flush=True)
        bar, progress = _progress_bar(args, refresh=True)
        model = _model(args, progress)
        start = time.perf_counter()
        try:
            with client.as_current():
                data = _fit_dask_data(model, X, y)
            model.feature_names_in_ = np.asarray(names, dtype=object)  # X is an array of the files' columns
        except ValueError as exc:
            raise DataError(f"cannot fit: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    where = "persisted in the workers' memory" if data.persisted else "read from the source on every pass"
    print(f"data           {data.shape[0]} rows in {data.n_chunks} chunks, {data.nbytes / 1e9:.3g} GB of features, "
          f"{where}")
    print(f"solver         {model.solver_}")
    print(f"iterations     {model.n_iter_}")
    print(f"time           {elapsed:.3f} s")
    print(f"passes         {data.passes} over the data, {elapsed / max(data.passes, 1):.3f} s each on average")
    print(f"converged      {'yes' if model.converged_ else 'no'} ({model.stop_reason_})")
    print(f"classes        {len(model.classes_)}")
    print(f"train cost     {model.loss_history_[-1]:.10g}")
    if args.model:
        from .persistence import save

        save(model, args.model, overwrite=args.force)
        print(f"model          {args.model}")
    if args.plot:
        from .plots import plot_cost_curve

        plot_cost_curve(model.loss_history_, args.plot, title=f"logitgd on {os.path.basename(args.data)}")
        print(f"cost curve     {args.plot}")
    return 130 if "interrupted" in model.stop_reason_ else 0


def cmd_fit(args):
    if args.dask:  # the data stay on the workers
        return _cmd_fit_dask(args)
    from sklearn.model_selection import train_test_split

    _check_outputs({"--model": args.model, "--plot": args.plot}, args.force)
    X, y, names, encoding, source, target = _read_training_data(args)
    import pandas as pd

    n_classes = len(pd.unique(y))
    if args.test_size > 0:
        counts = pd.Series(y).value_counts()
        if counts.min() < 2 or round(args.test_size * len(y)) < 2:
            raise DataError(f"{source}: too few rows in a class to hold out a stratified test set; use --test-size 0.")
        try:
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=args.test_size, stratify=y,
                                                      random_state=args.random_state)
        except ValueError as exc:  # e.g. fewer test rows than classes
            raise DataError(f"{source}: cannot hold out a stratified test set ({exc}); "
                            "use another --test-size, or --test-size 0.") from None
    else:
        X_tr, y_tr, X_te, y_te = X, y, None, None
    if names is not None:
        X_tr = pd.DataFrame(X_tr, columns=names)
        if X_te is not None:
            X_te = pd.DataFrame(X_te, columns=names)

    bar, progress = _progress_bar(args, refresh=False)
    model = _model(args, progress, **({} if args.device == "cpu" else {"device": args.device}))
    print(f"logitgd {__version__}: fitting {source} ({_describe(X, encoding)}), "
          + ("labels from the file" if target is None else f"target {target!r}")
          + (f", {n_classes} classes" if n_classes > 2 else ""))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_tr, y_tr)
        except DivergenceError as exc:
            raise DivergenceError(f"{exc} On the command line: --learning-rate auto (the default).") from None
        except (ValueError, ImportError) as exc:  # options the estimator refuses (e.g. elasticnet without
            raise DataError(f"cannot fit: {exc}") from None  # --l1-ratio; --device cuda without PyTorch)
        finally:
            if bar is not None:
                bar.close()
    elapsed = time.perf_counter() - start
    for w in caught:
        print(f"logitgd: warning: {w.message}", file=sys.stderr)

    columns = {"train": _metrics(model, X_tr, y_tr)}
    if X_te is not None:
        columns["test"] = _metrics(model, X_te, y_te)
    kind = {"l2": "L2", "l1": "L1", "elasticnet": f"elastic net, l1_ratio {args.l1_ratio:g}"
            if args.l1_ratio is not None else "elastic net"}.get(args.penalty)
    summary = f"{args.alpha:g} ({kind})" if args.alpha > 0 and kind else f"{args.alpha:g} (maximum likelihood)"
    print(f"alpha          {summary}")
    print(f"solver         {model.solver_}")
    if n_classes > 2:
        print(f"multi-class    {_multi_class(model)}")
    if model.solver_ in ("gd", "sgd"):
        print(f"learning rate  {args.learning_rate}")
    print(f"iterations     {model.n_iter_}")
    print(f"time           {elapsed:.3f} s")
    print(f"converged      {'yes' if model.converged_ else 'no'} ({model.stop_reason_})")
    print(f"rows           {len(y_tr)} train" + (f", {len(y_te)} test" if y_te is not None else ""))
    print(_report(columns, model.classes_, y_tr if X_te is None else y_te, "train" if X_te is None else "test"))
    if args.model or args.plot:
        print()
    if args.model:
        from .persistence import save

        save(model, args.model, overwrite=args.force, input_encoding=encoding)
        print(f"model          {args.model}")
    if args.plot:
        from .plots import plot_cost_curve

        plot_cost_curve(model.loss_history_, args.plot, title=f"logitgd on {os.path.basename(source)}")
        print(f"cost curve     {args.plot}")
    return 130 if "interrupted" in model.stop_reason_ else 0


def _features(df, model, source):
    """The model's feature columns of ``df``, checked, as the model expects them."""
    import pandas as pd

    from .io import model_features

    X = model_features(df, model, source)
    names = getattr(model, "feature_names_in_", None)
    return X if names is None else pd.DataFrame(X, columns=list(names), copy=False)


def _read_for_model(model, encoding, path, target):
    """``(X, y)`` of a data file, read as the model's training data was; y is None without labels.

    ``target``: the label column of a table (None: no labels wanted). An
    svmlight file always has labels.
    """
    from .io import apply_encoding, check_target, is_svmlight, read_svmlight, read_table

    kind = encoding["kind"] if encoding else None
    if is_svmlight(path):
        if target:
            raise DataError(f"--target does not apply to the svmlight file {path}: "
                            "the label is the first field of each line.")
        names = getattr(model, "feature_names_in_", None)
        if kind == "table" or names is not None:
            shown = ", ".join(encoding["numeric"] + [b["column"] for b in encoding["categorical"]]
                              if kind == "table" else map(str, names))
            raise DataError(f"{path} is an svmlight file, but the model was trained on named columns "
                            f"({shown[:200]}); give a CSV or Parquet file with them.")
        zero_based = encoding["zero_based"] if kind == "svmlight" else "auto"
        X, y, _ = read_svmlight(path, n_features=int(model.n_features_in_), zero_based=zero_based)
        return X, y
    if kind == "svmlight":
        raise DataError(f"the model was trained on an svmlight file, but {path} is a table; "
                        "give an svmlight file (.svm, .libsvm, .svmlight).")
    df = read_table(path)
    y = None
    if target is not None:
        if target not in df.columns:
            raise DataError(f"{path} has no target column {target!r}.")
        check_target(df[target], target, path, min_classes=1)
        y = df[target].to_numpy()
    if kind == "table":
        X, unseen = apply_encoding(df, encoding, path)
        for column, count, row, value in unseen:
            print(f"logitgd: warning: {path}: categorical column {column!r} has {count} "
                  f"row{'s' if count > 1 else ''} with a category not seen in training (first: row {row}, "
                  f"{value!r}); encoded as all zeros.", file=sys.stderr)
    else:
        X = _features(df, model, path)
    return X, y


def cmd_predict(args):
    import pandas as pd

    from .persistence import load

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


def _as_model_labels(y, classes, source, target):
    """Labels of ``y`` as the model's ``classes_`` (matched by value, else by text)."""
    if np.isin(y, classes).all():
        return y
    lookup = {str(c): c for c in classes}
    unknown = sorted({str(v) for v in y} - lookup.keys())
    if unknown:
        what = "the labels" if target is None else f"target column {target!r}"
        raise DataError(
            f"{source}: {what} has labels {unknown[:5]} that the model does "
            f"not know (its classes are {[str(c) for c in classes]})."
        )
    return np.array([lookup[str(v)] for v in y], dtype=classes.dtype)


def cmd_evaluate(args):
    from .io import is_svmlight
    from .persistence import load

    if not args.target and not is_svmlight(args.data):
        raise DataError("--target is required with a CSV or Parquet file: name the label column.")
    model, encoding = load(args.model, return_encoding=True)
    X, y = _read_for_model(model, encoding, args.data, args.target)
    y = _as_model_labels(y, model.classes_, args.data, args.target)
    print(f"{args.model} on {args.data} ({len(y)} rows)")
    print(_report({"data": _metrics(model, X, y)}, model.classes_, y, "data"))
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
