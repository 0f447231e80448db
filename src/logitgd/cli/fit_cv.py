"""``logitgd fit --alpha cv``: alpha (and l1_ratio) chosen by cross-validation on the training rows, as R's
``cv.glmnet`` (:class:`~logitgd.LogisticRegressionCV`); the CV table, the chosen model's report, its plots and
its model file (a plain LogisticRegression at the chosen alpha)."""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass

from ..exceptions import ConvergenceWarning, DataError
from . import _plots
from ._plots import feature_names
from ._report import _in_cli_terms, _metrics, _report, coefficient_text, cv_table

DEFAULT_FOLDS, DEFAULT_N_ALPHAS = 5, 20


@dataclass
class Request:
    """The cross-validation that ``--alpha cv`` and its options ask for."""

    penalty: str
    l1_ratios: list | None
    folds: int
    selection: str
    n_alphas: int


def _cv_options(args):
    plots = getattr(args, "plots", {})
    return [name for name, value in (("--cv", args.cv), ("--selection", args.selection),
                                     ("--n-alphas", args.n_alphas), ("--plot-cv", args.plot_cv),
                                     ("--plot-path", args.plot_path), ("--plot cv=", plots.get("cv")),
                                     ("--plot path=", plots.get("path"))) if value is not None]


def request(args):
    """The :class:`Request` of ``--alpha cv``, checked before any work; None without it (and then ``--l1-ratio``
    becomes the one number the estimator takes)."""
    ratios = args.l1_ratio
    if args.alpha != "cv":
        extra = _cv_options(args)
        if extra:
            raise DataError(f"{', '.join(extra)} {'goes' if len(extra) == 1 else 'go'} with --alpha cv: add "
                            "--alpha cv to choose alpha by cross-validation.")
        if isinstance(ratios, list):
            if len(ratios) > 1:
                raise DataError(f"--l1-ratio takes one number for a fit at one alpha, got {len(ratios)}: several, "
                                "to choose among by cross-validation, go with --alpha cv.")
            args.l1_ratio = ratios[0]
        return None
    from .summary import given

    summary = "--summary" if args.summary else next(iter(given(args)), None)
    refused = [(args.penalty == "firth", "--penalty firth: Firth's penalty has no strength to choose"),
               (args.penalty == "none", "--penalty none: there is no penalty whose strength to choose; give "
                                        "--penalty l2, l1 or elasticnet"),
               (summary is not None,
                f"{summary}: the standard errors and tests of a model whose "
                "alpha was chosen by cross-validation would ignore that selection (they treat alpha as fixed in "
                "advance); fit at one --alpha for a summary"),
               (bool(args.dask), "--dask: cross-validation runs in memory for now"),
               (bool(args.formula), "--formula for now: give the columns with --target (and --categorical)"),
               ("cost" in getattr(args, "plots", {}),
                "--plot cost=: there is no single cost curve; --plot-cv FILE and --plot-path FILE (or --plot cv=FILE "
                "and path=FILE) draw the CV curve and the coefficient path"),
               (args.learning_rate != "auto", "a fixed --learning-rate: the path's fits choose their own steps"),
               (args.batch_size is not None, "--batch-size: the path's fits are not stochastic"),
               (args.multi_class == "ovr", "--multi-class ovr: the path fits the multinomial model")]
    for bad, why in refused:
        if bad:
            raise DataError(f"--alpha cv does not go with {why}.")
    if args.penalty == "elasticnet" and ratios is None:
        raise DataError("--penalty elasticnet needs --l1-ratio: the mixing, or several separated by commas to choose "
                        "among by cross-validation (e.g. --l1-ratio 0.1,0.5,0.9,1).")
    if args.penalty != "elasticnet" and ratios is not None:
        raise DataError(f"--l1-ratio goes with --penalty elasticnet, not --penalty {args.penalty}.")
    if ratios is not None and any(r > 1 for r in ratios):
        raise DataError(f"--l1-ratio takes numbers in [0, 1], got {max(ratios):g}.")
    return Request(penalty=args.penalty, l1_ratios=ratios, folds=args.cv or DEFAULT_FOLDS,
                   selection=args.selection or "min", n_alphas=args.n_alphas or DEFAULT_N_ALPHAS)


def chosen_model(cv_model):
    """The model at ``cv_model``'s choice as a fitted :class:`~logitgd.LogisticRegression` (what the model file
    holds; ``save`` writes no LogisticRegressionCV): the whole training rows' path at the chosen alpha."""
    est = cv_model.path_.model(cv_model.best_index_ % cv_model.alphas_.shape[1])
    est.n_iter_, est.converged_ = int(cv_model.n_iter_), bool(cv_model.converged_)
    est.stop_reason_ = (f"alpha chosen by {len(_folds(cv_model))}-fold cross-validation ({cv_model.selection} rule) "
                        "on a regularization path")
    return est


def _folds(cv_model):
    return [key for key in cv_model.cv_results_ if key.startswith("split")]


def _penalty_text(l1_ratio):
    return {1.0: "L1", 0.0: "L2"}.get(l1_ratio, f"elastic net, l1_ratio {l1_ratio:g}")


def run(args, req, data, train, test, intro):
    """Cross-validate on the training rows, print the CV table and the chosen model's report, write the files;
    the exit code."""
    from .._selection import cv_selections
    from ..cv import LogisticRegressionCV
    from ..plot import score_label

    (X_tr, y_tr), (X_te, y_te) = train, test
    params = {"solver": args.solver or "auto", "tol": args.tol, "max_iter": args.max_iter,
              "class_weight": args.class_weight,
              **({} if args.device == "cpu" else {"device": args.device})}
    model = LogisticRegressionCV(alphas=req.n_alphas, l1_ratios=req.l1_ratios, penalty=req.penalty, cv=req.folds,
                                 selection=req.selection, **params)
    n_ratios = 1 if req.l1_ratios is None else len(req.l1_ratios)
    print(intro)
    print(f"cross-validation: {req.folds} folds (stratified) of the {len(y_tr)} training rows, {req.n_alphas} "
          f"alphas{f' x {n_ratios} l1_ratios' if n_ratios > 1 else ''}, each fold one warm-started path", flush=True)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_tr, y_tr)
        except (ValueError, ImportError) as exc:
            raise DataError(f"cannot fit: {_in_cli_terms(str(exc))}") from None
    elapsed = time.perf_counter() - start
    for message in dict.fromkeys(str(w.message) for w in caught):  # each path warns alike: once each
        print(f"logitgd: warning: {_in_cli_terms(message)}", file=sys.stderr)
    # the folds' fits too: any of them stopping early makes the choice less sure
    converged = model.converged_ and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    best = chosen_model(model)

    results = model.cv_results_
    name, _ = score_label(model.scoring)
    i_min, i_1se = cv_selections(results)
    row = model.alphas_[model.best_index_ // model.alphas_.shape[1]]
    if i_min % len(row) == len(row) - 1:
        print(f"logitgd: warning: the best mean CV {name} is at the smallest alpha of the path "
              f"({results['alpha'][i_min]:.4g}): a smaller alpha may do better still.", file=sys.stderr)
    other = i_min if req.selection == "1se" else i_1se
    rule = {"min": "min: the alpha of the best mean CV " + name,
            "1se": f"1se: the largest alpha whose mean CV {name} is within one standard error of the best"}
    print(f"alpha          {model.alpha_:.6g} ({_penalty_text(model.l1_ratio_)}), chosen by {req.folds}-fold CV; "
          f"{'min' if req.selection == '1se' else '1se'} would be {results['alpha'][other]:.6g}")
    print(f"l1_ratio       {model.l1_ratio_:g}" + (f" (of {', '.join(f'{r:g}' for r in req.l1_ratios)})"
                                                   if n_ratios > 1 else ""))
    print(f"selection      {rule[req.selection]}")
    print(f"nonzero        {int(results['n_active'][model.best_index_])} of {model.n_features_in_} features")
    print(f"\n{cv_table(model)}\n")
    print(f"solver         {params['solver']}")
    print(f"iterations     {model.n_iter_} (the training rows' path, down to the chosen alpha)")
    print(f"time           {elapsed:.3f} s")
    print(f"converged      {'yes' if converged else 'no: some fits of the paths stopped early (see the warnings)'}")
    print(f"rows           {len(y_tr)} train" + (f", {len(y_te)} test" if y_te is not None else ""))
    columns = {"train": _metrics(best, X_tr, y_tr, args.threshold)}
    if X_te is not None:
        columns["test"] = _metrics(best, X_te, y_te, args.threshold)
    print(_report(columns, best.classes_, y_tr if X_te is None else y_te, "train" if X_te is None else "test"))
    names = feature_names(data.names, data.encoding, X_tr.shape[1])
    print(f"\ncoefficients (at the chosen alpha)\n{coefficient_text(best, names)}")
    if args.model or args.plots or args.report:
        print()
    if args.model:
        from ..persistence import save

        save(best, args.model, overwrite=args.force, input_encoding=data.encoding)
        print(f"model          {args.model} (a LogisticRegression at the chosen alpha; the CV results are not saved)")
    X_show, y_show = (X_tr, y_tr) if X_te is None else (X_te, y_te)
    rows_text = f"the {len(y_show)} {'training' if X_te is None else 'test'} rows"
    _plots.draw(args.plots, best, X_show, y_show, names=names, args=args, rows_text=rows_text, cv_model=model,
                source=os.path.basename(data.source))
    if args.report:
        from .report import write

        write(args, best, data, (X_tr, y_tr), (X_te, y_te), names=names, elapsed=elapsed, cv_model=model)
    return 0
