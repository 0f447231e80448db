"""The fit itself: its cost curve, its coefficients (with intervals where the fit has inference), and the
decision regions it draws over two features."""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import scipy.sparse

from .._labels import feature_labels
from ..exceptions import InferenceError
from ._base import class_colors, finish, new_figure


def _alpha_text(model):
    if getattr(model, "penalty", None) == "firth":
        return "Firth"
    alpha = float(getattr(model, "alpha", 0.0) or 0.0)
    return f"alpha {alpha:g}" if alpha > 0 else "alpha 0"


def cost(model, *, ax=None, path=None, title=None):
    """The cost J (mean log-loss plus penalty) per iteration of a fitted model (``loss_history_``), on a log scale
    when it spans more than a factor 20; the title names the solver, the penalty's strength and the iterations.
    Returns the figure; writes it to ``path`` (.png, .svg, .pdf) if given."""
    history = np.asarray(model.loss_history_, dtype=np.float64)
    fig, ax = new_figure(6.0, 4.0, ax)
    ax.plot(np.arange(len(history)), history, lw=1.5)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J (mean log-loss + penalty)")
    positive = history[np.isfinite(history)]
    if len(positive) > 1 and positive.min() > 0 and positive.max() / positive.min() > 20:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if title is None:
        converged = "converged" if getattr(model, "converged_", True) else "not converged"
        title = (f"Cost: solver {getattr(model, 'solver_', '?')}, {_alpha_text(model)}, "
                 f"{getattr(model, 'n_iter_', len(history) - 1)} iterations ({converged})")
    ax.set_title(title, fontsize=10)
    return finish(fig, path)


def _feature_names(model, given=None):
    """``given``, else the model's own feature names (x0, x1, ... without)."""
    return feature_labels(given if given is not None else getattr(model, "feature_names_in_", None),
                          int(model.n_features_in_))


def summary_terms(model, level=0.95, feature_names=None):
    """``(summary, labels)``: ``model.summary(level=level)`` and its terms' labels with the features named
    ``feature_names`` (``"class: term"`` for K classes); or ``(None, why there is none)`` (an L1 fit, no data kept,
    separation, ...)."""
    try:
        summary = model.summary(level=level)
    except InferenceError as exc:
        return None, str(exc)
    if summary.separation is not None:
        return None, f"{summary.separation} separation"
    rename = dict(zip(_feature_names(model), _feature_names(model, feature_names)))
    return summary, [f"{label[0]}: {rename.get(str(label[1]), label[1])}" if isinstance(label, tuple)
                     else rename.get(str(label), str(label)) for label in summary.labels]


def coefficient_table(model, level=0.95, feature_names=None):
    """``(labels, estimates, lower, upper, note)`` of the coefficients (the intercepts left out): Wald intervals at
    ``level`` from ``model.summary()`` where the fit has them, else the estimates alone (``lower``, ``upper`` None)
    and ``note`` says why. ``feature_names`` replace the model's own (e.g. an svmlight file's column numbers)."""
    summary, found = summary_terms(model, level, feature_names)  # the terms' labels, or why there is no table
    if summary is not None:
        ci = np.asarray(summary.conf_int(), dtype=np.float64)
        keep = [i for i, label in enumerate(summary.labels)
                if (label[1] if isinstance(label, tuple) else label) != "(Intercept)"]
        return [found[i] for i in keep], np.asarray(summary.params)[keep], ci[keep, 0], ci[keep, 1], None
    note = f"no intervals: {found.split(':')[0]}"
    names = _feature_names(model, feature_names)
    coef = np.asarray(model.coef_, dtype=np.float64)
    if coef.shape[0] == 1:
        return names, coef[0], None, None, note
    return [f"{c}: {n}" for c in model.classes_ for n in names], coef.ravel(), None, None, note


def coefficients(model, *, odds_ratios=False, top=30, level=0.95, feature_names=None, ax=None, path=None,
                 title=None):
    """The coefficients as points, largest in size first (at most ``top``), with ``level`` Wald intervals where the
    fit has inference (``model.summary()``: an unpenalized or ridge fit whose data it keeps); ``odds_ratios``:
    ``exp`` of each, on a log axis. K classes: one row per class and feature (multinomial: against the first,
    reference, class where intervals are shown). ``feature_names``: the features' names, if not the model's own.
    Returns the figure; writes it to ``path`` if given."""
    labels, est, lower, upper, note = coefficient_table(model, level, feature_names)
    order = np.argsort(-np.abs(est), kind="stable")
    shown = order[:top]
    hidden = len(order) - len(shown)
    shown = shown[::-1]  # the largest at the top
    fig, ax = new_figure(6.4, min(1.6 + 0.28 * len(shown), 12), ax)
    transform = np.exp if odds_ratios else (lambda v: v)
    y = np.arange(len(shown))
    if lower is not None:
        ax.errorbar(transform(est[shown]), y, xerr=[transform(est[shown]) - transform(lower[shown]),
                                                   transform(upper[shown]) - transform(est[shown])],
                    fmt="o", ms=4, color="tab:blue", ecolor="0.45", elinewidth=1.2, capsize=2)
    else:
        ax.plot(transform(est[shown]), y, "o", ms=4, color="tab:blue")
    ax.axvline(1.0 if odds_ratios else 0.0, color="0.5", lw=0.8, ls="--")
    if odds_ratios:
        ax.set_xscale("log")
    ax.set_yticks(y, [labels[i] for i in shown], fontsize=8)
    ax.set_xlabel("odds ratio (log scale)" if odds_ratios else "coefficient (change in log-odds per unit)")
    ax.grid(True, axis="x", alpha=0.3)
    if title is None:
        kind = "Odds ratios" if odds_ratios else "Coefficients"
        title = (f"{kind} with {level:.0%} Wald intervals" if lower is not None
                 else f"{kind} ({note or 'no intervals'})")
        if hidden:
            title += f"; the {len(shown)} largest of {len(order)}"
    ax.set_title(title, fontsize=10)
    return finish(fig, path)


def _column(X, j):
    if hasattr(X, "iloc"):
        return np.asarray(X.iloc[:, j])
    if scipy.sparse.issparse(X):
        return np.asarray(X[:, [j]].toarray()).ravel()
    return np.asarray(X)[:, j]


def _reference_row(X, at):
    """The row the other features are held at: a one-row DataFrame or a (1, d) array (CSR for sparse X)."""
    if isinstance(at, numbers.Integral):
        if not -X.shape[0] <= at < X.shape[0]:
            raise ValueError(f"at={at} is not a row of X, which has {X.shape[0]} rows.")
        return X.iloc[[at]] if hasattr(X, "iloc") else X[[at]]
    if isinstance(at, str) and at == "median":
        if hasattr(X, "iloc"):
            values = {c: (X[c].median() if X[c].dtype.kind in "biuf" else X[c].mode(dropna=True).iloc[0])
                      for c in X.columns}
            import pandas as pd

            return pd.DataFrame({c: [v] for c, v in values.items()}).astype(X.dtypes.to_dict(), errors="ignore")
        if scipy.sparse.issparse(X):
            X = scipy.sparse.csc_matrix(X)
            row = np.zeros(X.shape[1])
            dense = np.flatnonzero(2 * np.diff(X.indptr) >= X.shape[0])  # a median can be non-zero only here
            if dense.size:
                row[dense] = np.median(X[:, dense].toarray(), axis=0)
            return scipy.sparse.csr_matrix(row[None, :])
        return np.median(np.asarray(X, dtype=np.float64), axis=0)[None, :]
    row = np.asarray(at, dtype=np.float64).reshape(1, -1)
    if row.shape[1] != X.shape[1]:
        raise ValueError(f"at has {row.shape[1]} values for the {X.shape[1]} features of X.")
    return row


def _grid_rows(reference, j0, j1, g0, g1):
    """Rows equal to ``reference`` but for features ``j0``, ``j1`` set to ``g0``, ``g1``."""
    m = g0.size
    if hasattr(reference, "iloc"):
        rows = reference.iloc[np.zeros(m, dtype=int)].reset_index(drop=True)
        rows.iloc[:, j0], rows.iloc[:, j1] = g0, g1
        return rows
    if scipy.sparse.issparse(reference):
        ref = scipy.sparse.csr_matrix(reference, dtype=np.float64).copy()
        ref.data[np.isin(ref.indices, [j0, j1])] = 0.0  # the two features come from the grid
        ref.eliminate_zeros()
        rows = ref[np.zeros(m, dtype=int)]
        pairs = scipy.sparse.csr_matrix((np.concatenate([g0, g1]), (np.tile(np.arange(m), 2),
                                         np.repeat([j0, j1], m))), shape=rows.shape)
        return (rows + pairs).tocsr()
    rows = np.repeat(np.asarray(reference, dtype=np.float64), m, axis=0)
    rows[:, j0], rows[:, j1] = g0, g1
    return rows


def _feature_index(model, X, feature):
    names = _feature_names(model) if not hasattr(X, "columns") else [str(c) for c in X.columns]
    if isinstance(feature, numbers.Integral):
        if not 0 <= feature < len(names):
            raise ValueError(f"feature {feature} is not a column of X, which has {len(names)}.")
        return int(feature), names[int(feature)]
    if str(feature) not in names:
        raise ValueError(f"feature {feature!r} is not a column of X; its columns are {names[:10]}"
                         + (" ..." if len(names) > 10 else "") + ".")
    return names.index(str(feature)), str(feature)


def decision_regions(model, X, y=None, *, features=(0, 1), at="median", resolution=200, max_points=2000,
                     ax=None, path=None, title=None):
    """The predicted class over a grid of two features (by index or name), the other features held at their
    median (the most frequent value of a non-numeric column; ``at=i``: at row i of X; or given values), one colour
    per class, with the rows of ``X`` drawn on it (coloured by ``y`` when given; at most ``max_points``, a random
    sample). scikit-learn's ``DecisionBoundaryDisplay`` draws the regions. Returns the figure; writes it to
    ``path`` if given."""
    from sklearn.inspection import DecisionBoundaryDisplay

    if len(features) != 2:
        raise ValueError(f"features must name two columns, got {len(features)}.")
    (j0, n0), (j1, n1) = (_feature_index(model, X, f) for f in features)
    if j0 == j1:
        raise ValueError(f"features must be two different columns, got {n0!r} twice.")
    x0, x1 = _column(X, j0).astype(np.float64), _column(X, j1).astype(np.float64)
    pad0, pad1 = 0.05 * (np.ptp(x0) or 1.0), 0.05 * (np.ptp(x1) or 1.0)
    g0, g1 = np.meshgrid(np.linspace(x0.min() - pad0, x0.max() + pad0, resolution),
                         np.linspace(x1.min() - pad1, x1.max() + pad1, resolution))
    classes = np.asarray(model.classes_)
    rows = _grid_rows(_reference_row(X, at), j0, j1, g0.ravel(), g1.ravel())
    predicted = np.argmax(np.asarray(model.predict_proba(rows)), axis=1)  # the class index of model.predict
    from matplotlib.colors import BoundaryNorm, ListedColormap

    colors = class_colors(len(classes))
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
    fig, ax = new_figure(6.4, 5.2, ax)
    # the class index per grid point (a 1-d response); newer scikit-learn colours K classes by multiclass_colors
    known = inspect.signature(DecisionBoundaryDisplay).parameters
    extra, style = {}, {"cmap": cmap, "norm": norm}
    if "n_classes" in known:
        extra["n_classes"] = len(classes)
        if len(classes) > 2 and "multiclass_colors" in known:
            extra["multiclass_colors"], style = [tuple(c) for c in colors], {}
    DecisionBoundaryDisplay(xx0=g0, xx1=g1, response=predicted.reshape(g0.shape).astype(float), xlabel=n0, ylabel=n1,
                            **extra).plot(ax=ax, plot_method="pcolormesh", alpha=0.3, shading="auto",
                                      rasterized=True, **style)  # one image in SVG and PDF, not 40,000 cells
    n = x0.shape[0]
    pick = np.arange(n) if n <= max_points else np.sort(np.random.default_rng(0).choice(n, max_points, replace=False))
    if y is not None:
        y = np.asarray(y)
        for k, c in enumerate(classes):
            mine = pick[y[pick] == c]
            ax.scatter(x0[mine], x1[mine], s=14, color=colors[k], edgecolor="black", linewidth=0.4, label=str(c))
        ax.legend(title="class", fontsize=8, loc="best", framealpha=0.9)
    else:
        ax.scatter(x0[pick], x1[pick], s=10, color="black", alpha=0.5)
    if title is None:
        held = "the other features at their medians" if isinstance(at, str) else (
            f"the other features as in row {at}" if isinstance(at, numbers.Integral) else "the other features fixed")
        title = f"Decision regions over {n0} and {n1}" + (f"\n{held}" if X.shape[1] > 2 else "")
        if n > max_points:
            title += f"; {max_points} of {n} rows shown"
    ax.set_title(title, fontsize=10)
    return finish(fig, path)
