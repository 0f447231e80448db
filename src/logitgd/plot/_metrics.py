"""How well a fitted model separates and calibrates: ROC, precision-recall, calibration, confusion matrix.

scikit-learn's displays draw them; for K classes each class against the rest, on one axes.
"""

from __future__ import annotations

import numpy as np

from ._base import class_colors, finish, labels_and_proba, new_figure


def _one_vs_rest(y, proba, classes):
    """``[(label, is that class, its probability)]``: the positive class for two classes, every class for K."""
    if len(classes) == 2:
        return [(f"positive class {classes[1]}", y == classes[1], proba[:, 1])]
    return [(str(c), y == c, proba[:, k]) for k, c in enumerate(classes)]


def _curves(display, model, X, y, ax, drawable, chance_level):
    """``(figure, axes, number of curves, the displays drawn)``: one ``display.from_predictions`` per class against
    the rest (the positive class for two), in the class colours, skipping the classes ``drawable(is that class)``
    refuses; ``chance_level(n_curves, drawn so far)`` says which draws the chance line."""
    y, proba, classes = labels_and_proba(model, X, y)
    fig, ax = new_figure(5.6, 5.0, ax)
    curves = _one_vs_rest(y, proba, classes)
    ax.set_prop_cycle(color=class_colors(len(curves)))  # the class colours, whatever keywords the displays take
    drawn = []
    for label, positive, p in curves:
        if drawable(positive):
            drawn.append(display.from_predictions(positive, p, ax=ax, name=label,
                                                  plot_chance_level=chance_level(len(curves), drawn)))
    return fig, ax, len(curves), drawn


def roc(model, X, y, *, ax=None, path=None, title=None):
    """The ROC curve of ``model`` on ``(X, y)``, with its AUC (K classes: one curve per class against the rest, and
    the macro-averaged AUC in the title). Returns the figure; writes it to ``path`` (.png, .svg, .pdf) if given."""
    from sklearn.metrics import RocCurveDisplay

    # a class that is all or none of these rows has no curve; the first curve drawn draws the chance line
    fig, ax, n, drawn = _curves(RocCurveDisplay, model, X, y, ax, lambda positive: positive.any() and
                                not positive.all(), lambda n, drawn: not drawn)
    if not drawn:
        raise ValueError("no ROC curve: these rows hold one class only.")
    aucs = [d.roc_auc for d in drawn]
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity, recall)")
    ax.grid(True, alpha=0.3)
    if title is None:
        title = (f"ROC curve: AUC {aucs[0]:.3f}" if n == 1 else
                 f"ROC curves, one class vs the rest: macro AUC {np.mean(aucs):.3f}")
    ax.set_title(title, fontsize=11)
    return finish(fig, path)


def pr(model, X, y, *, ax=None, path=None, title=None):
    """The precision-recall curve, with the average precision (AP) and the positives' share as the chance level
    (K classes: one curve per class against the rest). Returns the figure; writes it to ``path`` if given."""
    from sklearn.metrics import PrecisionRecallDisplay

    # a class absent from these rows has no curve; the chance line (the positives' share) for two classes only
    fig, ax, n, drawn = _curves(PrecisionRecallDisplay, model, X, y, ax, lambda positive: positive.any(),
                                lambda n, drawn: n == 1)
    if not drawn:
        raise ValueError("no precision-recall curve: these rows hold no positive label.")
    aps = [d.average_precision for d in drawn]
    ax.set_xlabel("recall (true positive rate)")
    ax.set_ylabel("precision (positive predictive value)")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    if title is None:
        title = (f"Precision-recall: AP {aps[0]:.3f}" if n == 1 else
                 f"Precision-recall, one class vs the rest: mean AP {np.mean(aps):.3f}")
    ax.set_title(title, fontsize=11)
    return finish(fig, path)


def brier_score(y, proba, classes):
    """The mean squared distance of the predicted probabilities from the one-hot labels over the K classes, halved
    for two classes so that it is scikit-learn's ``brier_score_loss`` of the positive class there."""
    onehot = (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
    total = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    return total / 2 if len(classes) == 2 else total


def calibration(model, X, y, *, n_bins=10, strategy="uniform", path=None, title=None):
    """The reliability curve (mean predicted probability against the observed frequency, per bin), the Brier score,
    and below it a histogram of the predicted probabilities (K classes: one curve per class against the rest).
    Returns the figure; writes it to ``path`` if given."""
    from sklearn.calibration import CalibrationDisplay

    y, proba, classes = labels_and_proba(model, X, y)
    fig, (top, bottom) = new_figure(5.6, 6.4, None, nrows=2, height_ratios=[3, 1.2], sharex=True)
    curves = _one_vs_rest(y, proba, classes)
    colors = class_colors(len(curves))
    for k, (label, positive, p) in enumerate(curves):
        CalibrationDisplay.from_predictions(positive, p, n_bins=n_bins, strategy=strategy, ax=top, color=colors[k],
                                            name=label)
        bottom.hist(p, bins=np.linspace(0, 1, 2 * n_bins + 1), color=colors[k], alpha=0.6 if len(curves) > 1 else 1,
                    histtype="stepfilled" if len(curves) == 1 else "step", lw=1.5, label=label)
    top.legend(loc="upper left", fontsize=9)
    top.set_xlabel("")
    top.set_ylabel("observed frequency of the class")
    top.grid(True, alpha=0.3)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("rows")
    bottom.grid(True, alpha=0.3)
    brier = brier_score(y, proba, classes)
    if title is None:
        title = f"Calibration: Brier score {brier:.4f}" + (" (over the K classes)" if len(classes) > 2 else "")
    top.set_title(title, fontsize=11)
    return finish(fig, path)


def confusion(model, X, y, *, normalize=None, ax=None, path=None, title=None):
    """The confusion matrix of ``model.predict`` (rows: true labels, columns: predicted), counts or, with
    ``normalize="true"``, the share of each true class. Returns the figure; writes it to ``path`` if given."""
    from sklearn.metrics import ConfusionMatrixDisplay

    y, _, classes = labels_and_proba(model, X, y)
    pred = np.asarray(model.predict(X))
    side = min(3.8 + 0.45 * len(classes), 12)
    fig, ax = new_figure(side + 1.0, side, ax)
    ConfusionMatrixDisplay.from_predictions(y, pred, labels=classes, normalize=normalize, ax=ax, cmap="Blues",
                                            colorbar=True, values_format=None if normalize is None else ".2f")
    accuracy = float(np.mean(pred == y))
    ax.set_title(title or f"Confusion matrix: accuracy {accuracy:.3f} ({len(y)} rows)", fontsize=11)
    return finish(fig, path)
