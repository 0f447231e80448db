"""glmnet's plots of a regularization path and of its cross-validation (``plot.glmnet``, ``plot.cv.glmnet``)."""

from __future__ import annotations

import numpy as np

from .._labels import feature_labels
from .._selection import cv_selections
from ._base import finish, new_figure

# -- regularization paths and cross-validation (glmnet's plot.cv.glmnet and plot.glmnet) ------------------

#: features above which a coefficient plot labels only the largest ones at the path's end, not a legend
_LEGEND_MAX = 20
_N_LABELLED = 10


def _penalty_text(l1_ratio):
    if l1_ratio == 1:
        return "lasso"
    if l1_ratio == 0:
        return "ridge"
    return f"elastic net, l1_ratio {l1_ratio:g}"


_SCORE_NAMES = {"log_loss": "log-loss", "brier_score": "Brier score", "roc_auc": "ROC AUC",
                "roc_auc_ovr": "ROC AUC (one-vs-rest)", "average_precision": "average precision",
                "balanced_accuracy": "balanced accuracy", "f1": "F1"}


def score_label(scoring):
    """``(name, sign)`` of what a CV plot or table shows for a scorer: sign -1 turns a ``neg_`` score (and the
    default, minus the log-loss) back into its loss, which is plotted as an error, as glmnet does."""
    if scoring is None:
        return "log-loss", -1
    if isinstance(scoring, str):
        sign = -1 if scoring.startswith("neg_") else 1
        name = scoring[4:] if sign < 0 else scoring
        return _SCORE_NAMES.get(name, name.replace("_", " ")), sign
    name = getattr(scoring, "__name__", None) or getattr(getattr(scoring, "_score_func", None), "__name__", "score")
    return name.replace("_", " "), 1


def cv_curve_data(cv_model):
    """The numbers :func:`plot_cv_curve` draws, from a fitted LogisticRegressionCV.

    Returns a dict: ``"label"`` (the y axis), ``"sign"`` (-1: the plotted value is minus the mean score),
    ``"curves"`` (one dict per l1_ratio: ``l1_ratio``, ``alpha``, ``log_alpha``, ``value`` (sign times the
    mean score), ``error`` (its standard error) and ``n_active``), ``"min"`` and ``"1se"`` (dicts of
    ``index`` into ``cv_results_``, ``alpha``, ``log_alpha``, ``l1_ratio``), ``"selection"``, ``"n_folds"``.
    """
    results = cv_model.cv_results_
    name, sign = score_label(cv_model.scoring)
    ratios = np.asarray(results["l1_ratio"], dtype=np.float64)
    curves = []
    for r in dict.fromkeys(ratios.tolist()):  # the l1_ratios, in the order the model tried them
        rows = np.flatnonzero(ratios == r)
        alpha = np.asarray(results["alpha"], dtype=np.float64)[rows]
        curves.append({"l1_ratio": r, "alpha": alpha, "log_alpha": np.log(alpha),
                       "value": sign * np.asarray(results["mean_score"], dtype=np.float64)[rows],
                       "error": np.asarray(results["std_error"], dtype=np.float64)[rows],
                       "n_active": np.asarray(results["n_active"])[rows]})
    chosen = {}
    for key, index in zip(("min", "1se"), cv_selections(results)):
        a = float(results["alpha"][index])
        chosen[key] = {"index": index, "alpha": a, "log_alpha": float(np.log(a)),
                       "l1_ratio": float(results["l1_ratio"][index])}
    n_folds = sum(1 for key in results if key.startswith("split") and key.endswith("_score"))
    return {"label": f"CV {name}", "sign": sign, "curves": curves, **chosen, "selection": cv_model.selection,
            "n_folds": n_folds}


def _top_ticks(x, counts, min_gap):
    """Tick positions and labels along a top axis: the counts at ``x``, skipping ticks closer than ``min_gap``."""
    order = np.argsort(x)
    ticks, labels = [], []
    for j in order:
        if np.isfinite(x[j]) and (not ticks or x[j] - ticks[-1] >= min_gap):
            ticks.append(float(x[j]))
            labels.append(str(int(counts[j])))
    return ticks, labels


def _count_axis(ax, x, counts, label, n_ticks=12):
    span = float(np.nanmax(x) - np.nanmin(x)) if len(x) > 1 else 1.0
    ticks, labels = _top_ticks(np.asarray(x, dtype=np.float64), counts, span / n_ticks if span > 0 else 1.0)
    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks, labels)
    top.tick_params(labelsize=8)
    top.set_xlabel(label, fontsize=9)
    return top


def cv_curve(cv_model, *, path=None, title=None):
    """glmnet's ``plot.cv.glmnet`` of a fitted LogisticRegressionCV: the mean CV score against
    log(alpha), with error bars of one standard error, dotted lines at the best alpha and at the 1-SE alpha,
    and the number of nonzero coefficients along the top. A loss (the default, minus the log-loss, or any
    ``neg_`` scorer) is plotted as the loss, lower is better. Several l1_ratios: one curve each.

    Returns the figure; writes it to ``path`` (.png, .svg, .pdf) if given."""
    from matplotlib import colormaps

    data = cv_curve_data(cv_model)
    several = len(data["curves"]) > 1
    fig, ax = new_figure(7.5, 5)
    colors = colormaps["tab10"].colors
    for k, curve in enumerate(data["curves"]):
        color = colors[k % 10] if several else "tab:red"
        ax.errorbar(curve["log_alpha"], curve["value"], yerr=curve["error"], fmt="o", ms=4, color=color,
                    ecolor="0.65" if not several else color, elinewidth=1, capsize=2, alpha=1 if not several else 0.8,
                    label=f"l1_ratio {curve['l1_ratio']:g}" if several else None, zorder=3)
    lines = [("min", "black", "best"), ("1se", "tab:blue", "1-SE")]
    if data["min"]["index"] == data["1se"]["index"]:  # one line for both
        lines = [(data["selection"], "black", "best = 1-SE")]
    for key, color, text in lines:
        chosen = data[key]
        mark = " (chosen)" if data["selection"] == key else ""
        ax.axvline(chosen["log_alpha"], ls=":", lw=1.5, color=color,
                   label=f"{text}: alpha {chosen['alpha']:.3g}" + (f", l1_ratio {chosen['l1_ratio']:g}" if several
                                                                     else "") + mark)
    best = next(c for c in data["curves"] if c["l1_ratio"] == data["min"]["l1_ratio"])
    _count_axis(ax, best["log_alpha"], best["n_active"], "nonzero coefficients"
                + (f" (l1_ratio {best['l1_ratio']:g})" if several else ""))
    ax.set_xlabel("log(alpha)")
    ax.set_ylabel(data["label"])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if title is None:
        ratios = [c["l1_ratio"] for c in data["curves"]]
        kinds = (_penalty_text(ratios[0]) if not several
                 else "elastic net, l1_ratios " + ", ".join(f"{r:g}" for r in ratios))
        title = f"{data['n_folds']}-fold cross-validation ({kinds})"
    ax.set_title(title, fontsize=11)
    return finish(fig, path)


def coef_path_data(path_or_cv, feature_names=None, against="alpha"):
    """The numbers :func:`plot_coef_path` draws, from a RegularizationPath or a fitted LogisticRegressionCV
    (its best l1_ratio's whole-data path).

    Returns a dict: ``"x"`` (n_panels, n_alphas: log(alpha), or each panel's L1 norm of the coefficients),
    ``"coef"`` (n_panels, n_alphas, n_features), ``"n_active"`` (n_panels, n_alphas), ``"names"``,
    ``"panels"`` (the panels' titles: one for two classes, one per class for K), ``"labelled"`` (per panel,
    the features named on the plot: all of them up to 20 features (a legend), else the 10 largest in
    absolute value at the path's end, the smallest alpha, that are not zero there), ``"chosen"`` (per
    panel, the x of the CV's alpha; None for a path), ``"chosen_alpha"``, ``"alphas"``, ``"end"`` (the
    index of the smallest alpha), ``"l1_ratio"``, ``"xlabel"``, ``"against"``.
    """
    if against not in ("alpha", "l1_norm"):
        raise ValueError(f"against must be 'alpha' or 'l1_norm', got {against!r}.")
    chosen_index = None
    if hasattr(path_or_cv, "cv_results_"):
        if not hasattr(path_or_cv, "coef_path_"):
            raise ValueError("this LogisticRegressionCV keeps no coefficient path (refit=False); fit it with "
                             "refit=True, or plot a regularization_path.")
        r, chosen_index = divmod(int(path_or_cv.best_index_), path_or_cv.alphas_.shape[1])
        alphas, coef = path_or_cv.alphas_[r], path_or_cv.coef_path_[r]
        l1_ratio = float(path_or_cv.l1_ratio_)
    else:
        alphas, coef, l1_ratio = path_or_cv.alphas, path_or_cv.coef_, float(path_or_cv.l1_ratio)
    alphas = np.asarray(alphas, dtype=np.float64)
    coef = np.transpose(np.asarray(coef, dtype=np.float64), (1, 0, 2))  # (rows, alphas, features)
    n_panels, _, d = coef.shape
    if feature_names is None:
        feature_names = getattr(path_or_cv, "feature_names_in_", None)
    names = feature_labels(feature_names, d)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names for {d} features.")
    classes = list(path_or_cv.classes_)
    panels = ([f"log-odds of {classes[1]!s}"] if n_panels == 1 else [f"class {c!s}" for c in classes])
    if against == "alpha":
        x = np.tile(np.log(alphas), (n_panels, 1))
    else:
        x = np.abs(coef).sum(axis=2)
    end = int(np.argmin(alphas))
    labelled = [list(range(d)) if d <= _LEGEND_MAX else
                [int(j) for j in np.argsort(-np.abs(coef[k, end]), kind="stable")[:_N_LABELLED] if coef[k, end, j]]
                for k in range(n_panels)]
    chosen = None if chosen_index is None else [float(x[k, chosen_index]) for k in range(n_panels)]
    return {"x": x, "coef": coef, "n_active": np.count_nonzero(coef, axis=2), "names": names, "panels": panels,
            "labelled": labelled, "chosen": chosen, "alphas": alphas, "l1_ratio": l1_ratio,
            "chosen_alpha": None if chosen_index is None else float(alphas[chosen_index]),
            "xlabel": "log(alpha)" if against == "alpha" else "L1 norm of the coefficients", "end": end,
            "against": against}


def _spread(targets, gap, low, high):
    """Label positions near ``targets`` at least ``gap`` apart, inside [low, high] where they fit."""
    targets = np.asarray(targets, dtype=np.float64)
    order = np.argsort(targets)
    pos = targets[order].copy()
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    if len(pos) and pos[-1] > high:
        pos[-1] = high
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
    if len(pos) and pos[0] < low:  # too many to fit: spread them over the whole height
        pos = np.linspace(low, high, len(pos))
    out = np.empty_like(pos)
    out[order] = pos
    return out


def _end_labels(ax, x_end, values, names, colors, at_left, fontsize=7):
    """Name lines at the path's end beside the plot's data (glmnet's ``label=TRUE``), without overlaps: the x
    axis grows on that side by the widest name, and the names are spread at least a line apart."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    widths = [ax.text(0, 0, name, fontsize=fontsize).get_window_extent(renderer).width for name in names]
    for text in ax.texts[-len(names):]:
        text.remove()
    lo, hi = ax.get_xlim()
    span, axes_px = hi - lo, ax.get_window_extent(renderer).width
    offset_px = 12.0
    need = max(widths) + offset_px + 6.0
    room = span * need / max(axes_px - need, 1.0)
    ax.set_xlim((lo - room, hi) if at_left else (lo, hi + room))
    offset = offset_px * (span + room) / axes_px
    y_lo, y_hi = ax.get_ylim()
    line_px = fontsize * fig.dpi / 72 * 1.3  # a line of text, and room for the layout to shrink the axes a little
    gap = (y_hi - y_lo) * line_px / max(ax.get_window_extent(renderer).height, 1.0)
    pos = _spread(values, gap, y_lo + gap / 2, y_hi - gap / 2)
    for value, y, name, color in zip(values, pos, names, colors):
        dark = tuple(0.75 * c for c in color[:3])  # the line's color, dark enough to read
        ax.annotate(name, xy=(x_end, value), xytext=(x_end - offset if at_left else x_end + offset, y),
                    fontsize=fontsize, va="center", color=dark, ha="right" if at_left else "left",
                    arrowprops={"arrowstyle": "-", "lw": 0.6, "color": color, "shrinkA": 0, "shrinkB": 0})


def coef_path(path_or_cv, *, feature_names=None, against="alpha", path=None, title=None):
    """glmnet's ``plot.glmnet``: each feature's coefficient against log(alpha) (``against="alpha"``)
    or against the L1 norm of the coefficient vector (``"l1_norm"``), the number of nonzero coefficients
    along the top, one panel per class for K classes. Up to 20 features a legend names them; above, the 10
    largest at the path's end are named beside it. Given a fitted LogisticRegressionCV (its best l1_ratio's
    whole-data path), a dotted line marks the chosen alpha.

    Returns the figure; writes it to ``path`` (.png, .svg, .pdf) if given."""
    from matplotlib import colormaps

    data = coef_path_data(path_or_cv, feature_names, against)
    n_panels, _, d = data["coef"].shape
    ncols = min(n_panels, 2)
    nrows = -(-n_panels // ncols)
    legend = d <= _LEGEND_MAX
    width = 6.5 * ncols + (1.8 if legend and n_panels == nrows * ncols else 0.8)
    fig, axes = new_figure(width, 4.6 * nrows, None, nrows=nrows, ncols=ncols, squeeze=False)
    cmap = colormaps["tab10" if d <= 10 else "tab20"]
    for k in range(n_panels):
        ax = axes.flat[k]
        x = data["x"][k]
        order = np.argsort(x, kind="stable")
        for j in range(d):
            ax.plot(x[order], data["coef"][k, order, j], lw=1.2, color=cmap(j % cmap.N),
                    label=data["names"][j] if k == 0 and legend else None)
        ax.axhline(0, color="0.6", lw=0.6)
        if data["chosen"] is not None:
            ax.axvline(data["chosen"][k], ls=":", color="black", lw=1.5,
                       label=f"CV: alpha {data['chosen_alpha']:.3g}" if k == 0 else None)
        ax.set_xlabel(data["xlabel"])
        ax.set_ylabel("coefficient")
        if n_panels > 1:
            ax.set_title(data["panels"][k], fontsize=10)
        ax.grid(True, alpha=0.3)
        _count_axis(ax, x, data["n_active"][k], "nonzero coefficients", n_ticks=10)
        if not legend and data["labelled"][k]:
            fig.canvas.draw()  # the axes' size, for the labels' room
            end = data["end"]
            chosen = data["labelled"][k]
            _end_labels(ax, x[end], data["coef"][k, end, chosen], [data["names"][j] for j in chosen],
                        [cmap(j % cmap.N) for j in chosen], at_left=against == "alpha")
    spare = list(axes.flat[n_panels:])
    for ax in spare:
        ax.set_visible(False)
    if legend and spare:  # an empty panel (K odd): the legend there
        spare[0].set_visible(True)
        spare[0].axis("off")
        spare[0].legend(*axes.flat[0].get_legend_handles_labels(), loc="center", fontsize=9, frameon=False)
    elif legend:
        fig.legend(loc="outside right center", fontsize=8, frameon=False)
    elif data["chosen"] is not None:
        axes.flat[0].legend(fontsize=8, loc="best")
    if title is None:
        title = f"Coefficient path ({_penalty_text(data['l1_ratio'])})"
        if n_panels == 1:
            title += f": {data['panels'][0]}"
    fig.suptitle(title, fontsize=11)
    return finish(fig, path)
