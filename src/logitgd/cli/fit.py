"""``logitgd fit``: train on a table, an svmlight file, the built-in data, or Parquet data with Dask."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from .._version import __version__
from ..exceptions import DataError, DivergenceError
from . import SIGNALS, _plots, fit_cv, interrupted_status
from ._read import _describe, _preprocessing, formula_features, read_training_data, take_rows
from ._report import _check_outputs, _in_cli_terms, _metrics, _report, check_threshold, class_weights, coefficient_text


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
    from ..estimator import LogisticRegression

    if args.multi_class is not None:
        extra["multi_class"] = args.multi_class
    if args.class_weight is not None:
        extra["class_weight"] = args.class_weight
    if args.batch_size is not None:
        extra["batch_size"] = args.batch_size
    if args.solver == "sgd":  # the seed of the split seeds sgd's shuffles: the same command, the same model
        extra.setdefault("random_state", args.random_state)
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
    from ..backends.dask.cluster import _machine_memory, _persists, start_client
    from ..backends.dask.reader import read_parquet

    for option in ("features", "drop", "allow_id", "standardize", "impute", "categorical"):
        if getattr(args, option, None) not in (None, False, "none", []):
            raise DataError(f"--{option.replace('_', '-')} does not go with --dask yet: --dask reads numeric Parquet "
                            "columns as they are; write the data with the (encoded) feature columns and the target "
                            "only, or fit in memory without --dask.")
    if args.formula or args.cluster:
        raise DataError(f"{'--formula' if args.formula else '--cluster'} does not go with --dask: "
                        + ("a formula is fitted on a table in memory." if args.formula else
                           "fit in memory, or save the model (--model) and run 'logitgd summary MODEL --data FILE "
                           "--target COL --cluster COL'."))
    request, text, failed = _summary_request(args), None, None
    if args.data is None or not args.target:
        raise DataError("--dask trains on a Parquet file, directory or glob: give DATA and --target.")
    data_plots = [kind for kind in args.plots if kind in _plots.DATA_KINDS]  # cv and path: --alpha cv refused it
    if data_plots or args.report:
        raise DataError(f"{'--report' if args.report else '--plot ' + data_plots[0] + '='} does not go with --dask "
                        "yet: it draws from rows in memory. Save the model (--model) and run 'logitgd evaluate MODEL "
                        "FILE --plot KIND=FILE' or 'logitgd report' on a table that fits in memory.")
    _check_outputs({"--model": args.model, **_plots.outputs(args.plots)}, args.force, inputs=[args.data])
    from ..backends.dask.cluster import close

    # Dask's warnings (a dashboard port in use, the fit's own) as one line each, as the in-memory command prints them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                X, y, names = read_parquet(args.data, args.target)
                nbytes = 0 if hasattr(X, "columns") else X.nbytes  # a dataframe's size is not known before reading
                client, cluster = start_client(args.dask, reads_source=not _persists(nbytes, _machine_memory()))
            except ValueError as exc:
                raise DataError(str(exc)) from None
            closed = False
            try:
                workers = client.scheduler_info(n_workers=-1)["workers"]
                print(f"logitgd {__version__}: Dask scheduler {client.scheduler.address} with {len(workers)} workers; "
                      f"dashboard {client.dashboard_link}", flush=True)
                print(f"logitgd: fitting {args.data} ({len(names)} features, target {args.target!r}); "
                      "no test split with --dask: every row trains", flush=True)
                bar, progress = _progress_bar(args, refresh=True)
                model = _model(args, progress)
                start = time.perf_counter()
                with SIGNALS.keeping():  # Ctrl-C stops the fit; once it has, another waits until the model is written
                    try:
                        with client.as_current():
                            data = _fit_dask_data(model, X, y)
                            SIGNALS.fitted()
                            model.feature_names_in_ = np.asarray(names, dtype=object)  # X: an array of the columns
                            if request is not None:  # while the workers hold the data; the model file then keeps it
                                text, failed = _summary_text(model, request)
                    except ValueError as exc:
                        raise DataError(f"cannot fit: {_in_cli_terms(str(exc))}") from None
                    finally:
                        SIGNALS.fitted()
                        if bar is not None:
                            bar.close()
                    elapsed = time.perf_counter() - start
                    closed = True  # after an interrupt, quietly: the workers' goodbyes are no news
                    close(client, cluster, quiet="interrupted" in model.stop_reason_)
                    if args.model:  # before the summary lines: the fit's work
                        from ..persistence import save

                        save(model, args.model, overwrite=args.force)
            finally:
                if not closed:  # an error (its one line says what) or an interrupt before the fit
                    close(client, cluster, quiet=True)
        finally:
            for message in dict.fromkeys(" ".join(_in_cli_terms(str(w.message)).split()) for w in caught):
                print(f"logitgd: warning: {message}", file=sys.stderr)
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
    if text is not None:
        print(f"\ncoefficients (over the {data.shape[0]} rows)\n{text}\n")
    if args.model:  # written above
        print(f"model          {args.model}")
    _plots.draw(args.plots, model, None, None, names=list(names), args=args, rows_text="")
    if failed is not None:
        raise failed
    return _stopped(model)


def _summary_request(args):
    """The summary options of ``--summary`` (:func:`.summary.options`), or None without it; the checks that need
    no fit."""
    from .summary import given, options, refits

    if not args.summary:
        extra = given(args)
        if extra:
            raise DataError(f"{', '.join(extra)} {'goes' if len(extra) == 1 else 'go'} with --summary: "
                            "add --summary to print the coefficient table.")
        return None
    found = options(args, "DATA")
    if refits(found) and args.alpha > 0 and args.penalty != "none":
        raise DataError(f"{refits(found)[0]} needs an unpenalized or Firth fit: add --alpha 0 (with --alpha "
                        f"{args.alpha:g} the fit is L2-penalized, and has no likelihood profile to invert).")
    return found


def _summary_text(model, request, groups=None):
    """``(text, None)`` of the fit's coefficient table, or ``(None, error)`` when there is none."""
    from ..exceptions import InferenceError
    from .summary import table

    try:
        return table(model, groups=groups, **request), None
    except InferenceError as exc:
        return None, DataError(f"no summary: {exc}")


def _split(args, y, source):
    """``(train rows, test rows)`` of the stratified split, or ``(None, None)`` with --test-size 0."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    if args.test_size == 0:
        return None, None
    counts = pd.Series(y).value_counts()
    if counts.min() < 2 or round(args.test_size * len(y)) < 2:
        raise DataError(f"{source}: too few rows in a class to hold out a stratified test set; use --test-size 0.")
    try:  # the rows train_test_split(X, y, ...) takes, whatever X is
        return train_test_split(np.arange(len(y)), test_size=args.test_size, stratify=y,
                                random_state=args.random_state)
    except ValueError as exc:  # e.g. fewer test rows than classes
        raise DataError(f"{source}: cannot hold out a stratified test set ({exc}); "
                        "use another --test-size, or --test-size 0.") from None


def _fit(model, args, X_tr, y_tr, frame_tr):
    """Fit ``model`` (a formula: a new model of its parameters, from ``frame_tr``); the fitted model."""
    if frame_tr is None:
        return model.fit(X_tr, y_tr)
    params = {k: v for k, v in model.get_params().items() if k != "fit_intercept"}  # the formula's choice
    return type(model).from_formula(args.formula, frame_tr, **params)


def _preprocess(args, encoding, X_tr, X_te, source):
    """Fit ``--impute`` and ``--standardize`` on the training rows' numeric columns, keep them in ``encoding``
    (the model file replays them on new data) and apply them to both parts: ``(X_tr, X_te)``."""
    from ..io import fit_preprocess, numeric_block, preprocess_matrix

    m = len(encoding["numeric"])
    prep = fit_preprocess(numeric_block(X_tr, m), None if args.impute == "none" else args.impute,
                          args.standardize, encoding["numeric"], f"{source} (training rows)")
    encoding["preprocess"] = prep
    return preprocess_matrix(X_tr, m, prep), None if X_te is None else preprocess_matrix(X_te, m, prep)


def _plot_requests(args):
    """``args.plots`` (``{kind: path}``) from ``--plot``, ``--plot-cv`` and ``--plot-path``, checked."""
    allowed = dict.fromkeys(_plots.KIND_HELP)
    allowed[None] = "logitgd fit"
    plots = _plots.parse(args.plot, allowed)
    args.plot_options = {}
    for kind, option, path in (("cv", "--plot-cv", args.plot_cv), ("path", "--plot-path", args.plot_path)):
        if path is not None:
            if kind in plots:
                raise DataError(f"{option} and --plot {kind}= both ask for the {kind} plot; give one.")
            plots[kind] = path
            args.plot_options[kind] = option
    args.plots = plots
    if args.report:
        _plots.check_report_name("--report", args.report)


def cmd_fit(args):
    _plot_requests(args)
    cv = fit_cv.request(args)  # None without --alpha cv
    if args.dask:  # the data stay on the workers
        return _cmd_fit_dask(args)
    import pandas as pd

    request = None if cv is not None else _summary_request(args)
    _check_outputs({"--model": args.model, **_plots.outputs(args.plots, args.plot_options), "--report": args.report},
                   args.force, inputs=[args.data])
    data = read_training_data(args)
    X, y, names, encoding, source, target = data.X, data.y, data.names, data.encoding, data.source, data.target
    n_classes = len(pd.unique(y))
    train, test = _split(args, y, source)
    y_tr, y_te = take_rows(y, train), (None if test is None else take_rows(y, test))
    frame_tr = take_rows(data.frame, train)
    if data.frame is None:
        X_tr, X_te = take_rows(X, train), (None if test is None else take_rows(X, test))
        if names is not None:
            X_tr = pd.DataFrame(X_tr, columns=names)
            if X_te is not None:
                X_te = pd.DataFrame(X_te, columns=names)

    if encoding is not None and encoding.get("kind") == "table" and _preprocessing(args):
        X_tr, X_te = _preprocess(args, encoding, X_tr, X_te, source)
    intro = (f"logitgd {__version__}: fitting {source} ({_describe(X, encoding)}), "
             + ("labels from the file" if target is None else f"target {target!r}")
             + (f", {n_classes} classes" if n_classes > 2 else "")
             + (f", formula {args.formula!r}" if data.frame is not None else ""))
    check_threshold(args.threshold, n_classes, source)
    args.class_weight = class_weights(args.class_weight, y)  # keyed by the labels, for the estimator
    if cv is not None:
        return fit_cv.run(args, cv, data, (X_tr, y_tr), (X_te, y_te), intro)
    print(intro, flush=True)  # before the bar draws on the terminal: it must own its line
    bar, progress = _progress_bar(args, refresh=False)
    model = _model(args, progress, **({} if args.device == "cpu" else {"device": args.device}))
    start = time.perf_counter()
    with SIGNALS.keeping():  # Ctrl-C stops the fit; once it has, another waits until the model is written
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = _fit(model, args, None if data.frame is not None else X_tr, y_tr, frame_tr)
            except DivergenceError as exc:
                raise DivergenceError(_in_cli_terms(str(exc))) from None
            except (ValueError, ImportError) as exc:  # options or data the estimator refuses (e.g. elasticnet
                raise DataError(f"cannot fit: {_in_cli_terms(str(exc))}") from None  # without --l1-ratio)
            finally:
                SIGNALS.fitted()
                if bar is not None:
                    bar.close()
        elapsed = time.perf_counter() - start
        if args.model:  # first of all the outputs: the fit's work (the metrics below may be interrupted)
            from ..persistence import save

            save(model, args.model, overwrite=args.force, input_encoding=encoding)
    for w in caught:
        print(f"logitgd: warning: {_in_cli_terms(str(w.message))}", file=sys.stderr)
    if data.frame is not None:  # the formula's columns, built as the model builds them for new data
        X_tr = formula_features(model, frame_tr, source)
        X_te = None if test is None else formula_features(model, take_rows(data.frame, test), f"{source} (test rows)")

    columns = {"train": _metrics(model, X_tr, y_tr, args.threshold)}
    if X_te is not None:
        columns["test"] = _metrics(model, X_te, y_te, args.threshold)
    kind = {"l2": "L2", "l1": "L1", "elasticnet": f"elastic net, l1_ratio {args.l1_ratio:g}"
            if args.l1_ratio is not None else "elastic net"}.get(args.penalty)
    summary = f"{args.alpha:g} ({kind})" if args.alpha > 0 and kind else f"{args.alpha:g} (maximum likelihood)"
    if args.penalty == "firth":
        summary = "none (Firth's penalized likelihood)"
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
    failed = None
    names = _plots.feature_names(data.names, data.encoding, X_tr.shape[1])
    if request is not None:  # over the rows the model was fitted on, which it holds
        text, failed = _summary_text(model, request, take_rows(data.groups, train))
        if text is not None:
            print(f"\ncoefficients (over the {len(y_tr)} training rows)\n{text}")
    else:
        print(f"\ncoefficients\n{coefficient_text(model, names)}")
    if args.model or args.plots or args.report:
        print()
    if args.model:
        print(f"model          {args.model}")
    X_show, y_show = (X_tr, y_tr) if X_te is None else (X_te, y_te)
    _plots.draw(args.plots, model, X_show, y_show, names=names, args=args,
                rows_text=f"the {len(y_show)} {'training' if X_te is None else 'test'} rows")
    if args.report:
        from .report import write

        write(args, model, data, (X_tr, y_tr), (X_te, y_te), names=names, elapsed=elapsed,
              warnings_text=[_in_cli_terms(str(w.message)) for w in caught])
    if failed is not None:  # after the model and plot are written
        raise failed
    return _stopped(model)


def _stopped(model):
    """The exit status of a fit that ends (0, or 130/143 where a signal stopped it: then said as the last line)."""
    status = interrupted_status() if "interrupted" in model.stop_reason_ else 0
    if status:
        print(f"logitgd: {'terminated' if status == 143 else 'interrupted'}", file=sys.stderr)
    return status
