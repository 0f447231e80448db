"""What the commands print of a model's predictions: metrics tables, per-class metrics, the confusion matrix;
and the check of output files before any work."""

from __future__ import annotations

import os
import re

import numpy as np

from ..exceptions import DataError


def _identity(path):
    """The file a path names, whatever the path: its device and inode where it exists (so that symbolic and hard
    links to one file are one file), else its real path (a link to a file not yet there names that file)."""
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except (OSError, ValueError):
        return os.path.realpath(path)


def _check_outputs(options, force, inputs=()):
    """Check the output files before any work: ``options`` maps option names to paths; ``inputs`` are the files
    the command reads, which no output may name (not even with --force: that is never what was meant)."""
    given = {opt: path for opt, path in options.items() if path}
    read = {_identity(path): path for path in inputs if path and os.path.isfile(path)}
    seen = {}
    for opt, path in given.items():
        key = _identity(path)
        if key in seen:
            same = "" if os.path.abspath(seen[key][1]) == os.path.abspath(path) else f" (through a link: {path} " \
                f"is {seen[key][1]})"
            raise DataError(f"{seen[key][0]} and {opt} both name {path}{same}; give them different files.")
        if key in read:
            raise DataError(f"{opt} {path} is {read[key]}, which this command reads; give another file for {opt}.")
        seen[key] = opt, path
        if os.path.isdir(path):
            raise DataError(f"{opt} {path} is a directory; give a file name.")
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{opt} {path} already exists; use --force to overwrite it.")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise DataError(f"{opt} {path}: the directory {directory} does not exist.")


def _in_cli_terms(message):
    """A library message with its remedies spelled as this command's options."""
    for python, cli in (("learning_rate='auto'", "--learning-rate auto (the default)"),
                        ("a smaller learning rate", "a smaller --learning-rate"),
                        ("standardizing the features", "--standardize"),
                        ("standardize the features", "--standardize"), ("alpha > 0", "--alpha > 0"),
                        ("max_iter=", "--max-iter "), ("max_iter", "--max-iter"), ("l1_ratio", "--l1-ratio"),
                        ("learning_rate=", "--learning-rate "), ("a larger tol", "a larger --tol"),
                        ("of tol=", "of --tol ")):
        message = message.replace(python, cli)
    # the remaining name='value' parameters: --name value
    return re.sub(r"\b(solver|penalty|multi_class|device|learning_rate|selection)='([^']*)'",
                  lambda m: f"--{m.group(1).replace('_', '-')} {m.group(2)}", message)


def _metrics(model, X, y, threshold=None):
    """Accuracy, log-loss, ROC AUC (one-vs-rest, macro-averaged for K > 2), Brier score and the predictions (at
    ``--threshold`` if given)."""
    from ..report import metrics

    return metrics(model, X, y, threshold)


def check_threshold(threshold, n_classes, what):
    """Refuse ``--threshold`` for ``what`` (the data, the model) of other than two classes, before any work."""
    if threshold is not None and n_classes != 2:
        raise DataError(f"--threshold is for two classes; {what} has {n_classes}.")


def class_weights(given, y):
    """``--class-weight`` for the estimator: 'balanced', or the LABEL=W pairs keyed by the labels of ``y``."""
    if given is None or given == "balanced":
        return given
    labels = {str(v): v for v in np.unique(np.asarray(y))}
    unknown = [k for k in given if k not in labels]
    if unknown:
        raise DataError(f"--class-weight names the label {unknown[0]!r}, which the target does not hold; its labels "
                        f"are {', '.join(labels)}.")
    return {labels[k]: w for k, w in given.items()}


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


#: the coefficient table lists every feature up to this many, else the largest in size and a count of the rest
COEF_ROWS = 30


def coefficient_text(model, names):
    """The fitted coefficients by feature name, as text: the intercept first; two classes: coefficient and odds
    ratio (``exp``: the factor on the odds per unit of the feature); K classes: one column per class. Above 30
    features, the 30 largest in size (and how many are zero)."""
    coef, b = np.asarray(model.coef_, dtype=np.float64), np.asarray(model.intercept_, dtype=np.float64)
    names = [str(n) for n in names]
    size = np.abs(coef).max(axis=0)
    order = np.arange(len(names)) if len(names) <= COEF_ROWS else np.argsort(-size, kind="stable")[:COEF_ROWS]
    width = max([len("(Intercept)")] + [len(names[j]) for j in order]) + 2
    if coef.shape[0] == 1:
        lines = [f"{'feature':<{width}}{'coefficient':>14}{'odds ratio':>14}",
                 f"{'(Intercept)':<{width}}{b[0]:>14.6g}{np.exp(min(b[0], 700.0)):>14.6g}"]
        lines += [f"{names[j]:<{width}}{coef[0, j]:>14.6g}{np.exp(min(coef[0, j], 700.0)):>14.6g}" for j in order]
    else:
        heads = [str(c) for c in model.classes_]
        cell = max(12, max(map(len, heads)) + 2)
        lines = [f"{'feature':<{width}}" + "".join(f"{h:>{cell}}" for h in heads),
                 f"{'(Intercept)':<{width}}" + "".join(f"{v:>{cell}.6g}" for v in b)]
        lines += [f"{names[j]:<{width}}" + "".join(f"{v:>{cell}.6g}" for v in coef[:, j]) for j in order]
    if len(order) < len(names):
        zeros = int(np.sum(size == 0))
        lines.append(f"(the {len(order)} largest of {len(names)} features; {zeros} coefficients are zero)")
    return "\n".join(lines)


def _report(columns, classes, y, part):
    """The metrics table, then per-class metrics and the confusion matrix of ``part``."""
    text = _table(columns)
    if len(classes) > 2:
        text += "\n(ROC AUC: one-vs-rest, averaged over the classes)"
    return text + "\n\n" + _class_report(classes, y, columns[part]["pred"], part)



#: above this many alphas (per l1_ratio), the CV table is printed in two columns side by side
_ONE_COLUMN_MAX = 40


def _cv_rows(model, rows, label, sign, marks):
    """The lines of the CV table for the entries ``rows`` of ``model.cv_results_``."""
    r = model.cv_results_
    width = max(len(label), 8)
    lines = [f"{'alpha':>10} {'nonzero':>7} {label:>{width}} {'std err':>8}  rule"]
    for i in rows:
        mark = marks.get(i, "")
        lines.append(f"{r['alpha'][i]:>10.4g} {int(r['n_active'][i]):>7d} {sign * r['mean_score'][i]:>{width}.4f} "
                     f"{r['std_error'][i]:>8.4f}  {mark}".rstrip())
    return lines


def cv_table(model):
    """The CV table of a fitted LogisticRegressionCV: per l1_ratio, each alpha (largest first) with its number
    of nonzero coefficients, mean CV score (a loss as the loss) and standard error, the min and 1-SE rows
    marked and the chosen one starred; two columns side by side above 40 alphas."""
    from .._selection import cv_selections
    from ..plot import score_label

    r = model.cv_results_
    name, sign = score_label(model.scoring)
    best, one_se = cv_selections(r)
    marks = {best: "min", one_se: "1se"} if best != one_se else {best: "min=1se"}
    marks[model.best_index_] = marks.get(model.best_index_, "") + " *"
    ratios = np.asarray(r["l1_ratio"])
    blocks = []
    for ratio in dict.fromkeys(ratios.tolist()):
        rows = np.flatnonzero(ratios == ratio)
        head = [f"l1_ratio {ratio:g}"] if len(set(ratios.tolist())) > 1 else []
        if len(rows) <= _ONE_COLUMN_MAX:
            blocks.append("\n".join(head + _cv_rows(model, rows, f"CV {name}", sign, marks)))
            continue
        half = -(-len(rows) // 2)
        left, right = (_cv_rows(model, part, f"CV {name}", sign, marks) for part in (rows[:half], rows[half:]))
        pad = max(map(len, left)) + 4
        right += [""] * (len(left) - len(right))
        blocks.append("\n".join(head + [f"{a:<{pad}}{b}".rstrip() for a, b in zip(left, right)]))
    loss = "lower" if sign < 0 else "higher"
    return ("\n\n".join(blocks) + f"\n(CV {name}: the mean over the folds, {loss} is better; std err: of that mean;"
            "\n min: the best; 1se: the largest alpha within one std err of the best; *: chosen)")
