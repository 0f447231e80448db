"""``--plot KIND=FILE``: which plots a command writes, checked before any work, and drawn after the fit."""

from __future__ import annotations

import os

from ..exceptions import DataError
from ._parser import KIND_HELP

#: the plots drawn from labelled rows (the others from the fitted model alone)
DATA_KINDS = ("roc", "pr", "calibration", "confusion", "regions")


def parse(values, allowed):
    """``{kind: path}`` from ``--plot`` values (``KIND=FILE``; a bare ``FILE`` is the cost curve), each kind in
    ``allowed`` and each file's suffix a known format; DataError naming the value otherwise."""
    from ..plot import FORMATS

    plots = {}
    for value in values or ():
        kind, sep, path = value.partition("=")
        if not sep:
            kind, path = "cost", value
        kind = kind.strip().lower()
        if kind not in KIND_HELP:
            raise DataError(f"--plot {value}: unknown plot {kind!r}; the plots are {', '.join(KIND_HELP)} "
                            "(as KIND=FILE).")
        if kind not in allowed:
            raise DataError(f"--plot {value}: {allowed[None]} has no {kind} plot.")
        if not path:
            raise DataError(f"--plot {value}: give a file name after {kind}=.")
        if os.path.splitext(path)[1].lower() not in FORMATS:
            raise DataError(f"--plot {value}: a plot is written as .png, .svg or .pdf (by the file's suffix), "
                            f"not {os.path.splitext(path)[1] or 'without a suffix'!r}.")
        if kind in plots:
            raise DataError(f"--plot names the {kind} plot twice ({plots[kind]} and {path}).")
        plots[kind] = path
    return plots


def check_report_name(option, path):
    """Refuse a report file name that does not end in .html (or .htm), before any work."""
    if os.path.splitext(path)[1].lower() not in (".html", ".htm"):
        raise DataError(f"{option} {path}: the report is an HTML file; give a name ending in .html.")


def feature_names(names, encoding, d):
    """The features' names as the user knows them: ``names`` (a table's columns, or a model's
    ``feature_names_in_``) where given, ``--categorical`` ones as ``column=level``, or an svmlight file's column
    numbers (as in the file: 1-based unless it is 0-based)."""
    if names is not None:
        return [str(n) for n in names]
    encoding = encoding or {}
    names = encoding.get("feature_names")
    if names is not None and len(names) == d:
        return [str(n) for n in names]
    base = 0 if encoding.get("zero_based", False) else 1
    return [str(j + base) for j in range(d)]


def outputs(plots, options=None):
    """The plots as ``_check_outputs`` options, each named as the user asked for it (``options``: kind -> option,
    e.g. ``{"cv": "--plot-cv"}``; else ``--plot KIND=``)."""
    options = options or {}
    return {options.get(kind, f"--plot {kind}="): path for kind, path in plots.items()}


def regions_features(args, names):
    """The two features of the regions plot: ``--plot-features`` (names, or column numbers for svmlight data),
    else the first two."""
    given = getattr(args, "plot_features", None)
    if not given:
        if len(names) < 2:
            raise DataError("--plot regions= needs two features; the data have one.")
        return names[0], names[1]
    if len(given) != 2:
        raise DataError(f"--plot-features names two features, got {len(given)}: {','.join(given)}.")
    for name in given:
        if name not in names:
            raise DataError(f"--plot-features: {name!r} is not a feature of the model; its features are "
                            f"{', '.join(names[:12])}" + (" ..." if len(names) > 12 else "") + ".")
    return tuple(given)


def draw(plots, model, X, y, *, names, args, rows_text, cv_model=None, source=""):
    """Write each requested plot; print one line per file. ``X, y``: the rows the data plots show (``rows_text``
    says which, e.g. "the 114 test rows")."""
    from .. import plot

    for kind, path in plots.items():
        if kind == "cost":
            plot.cost(model, path=path)
        elif kind in ("coefficients", "oddsratios"):
            plot.coefficients(model, odds_ratios=kind == "oddsratios", feature_names=names, path=path)
        elif kind == "cv":
            plot.cv_curve(cv_model, path=path, title=f"cross-validation on {source}")
        elif kind == "path":
            plot.coef_path(cv_model, feature_names=names, path=path, title=f"Coefficient path on {source}")
        elif kind == "regions":
            f0, f1 = regions_features(args, names)
            plot.decision_regions(model, X, y, features=(names.index(f0), names.index(f1)), path=path)
        else:
            getattr(plot, kind)(model, X, y, path=path)
        where = f" ({rows_text})" if kind in DATA_KINDS else ""
        print(f"{kind + ' plot':<18} {path}{where}")
