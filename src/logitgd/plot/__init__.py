"""Plots of a fitted model, with matplotlib (imported only in this package).

Each function draws on a figure of its own (or on ``ax=``), returns the figure, and writes it when given
``path=``: PNG, SVG or PDF by the file's suffix, atomically (a temporary file renamed into place). Nothing
touches pyplot's state, so they work the same in scripts, notebooks and servers.

>>> from logitgd import plot
>>> plot.roc(model, X_test, y_test, path="roc.png")          # doctest: +SKIP

========================  ==================================================================================
``cost(model)``           the cost J per iteration
``roc(model, X, y)``      ROC curve and AUC (K classes: one per class against the rest)
``pr(model, X, y)``       precision-recall curve and average precision
``calibration(m, X, y)``  reliability curve, Brier score, histogram of the predicted probabilities
``confusion(m, X, y)``    confusion matrix
``coefficients(model)``   coefficients or odds ratios, with Wald intervals where the fit has inference
``decision_regions(..)``  the predicted class over two features, the others held at their medians
``cv_curve(cv_model)``    glmnet's CV curve: mean score, standard errors, the min and 1-SE alphas
``coef_path(path)``       glmnet's coefficient path against log(alpha) or the L1 norm
========================  ==================================================================================
"""

from __future__ import annotations

from ._base import FORMATS, file_format, save
from ._metrics import brier_score, calibration, confusion, pr, roc
from ._model import coefficient_table, coefficients, cost, decision_regions, summary_terms
from ._path import coef_path, coef_path_data, cv_curve, cv_curve_data, score_label

__all__ = ["FORMATS", "brier_score", "calibration", "coef_path", "coef_path_data", "coefficient_table",
           "coefficients", "confusion", "cost", "cv_curve", "cv_curve_data", "decision_regions", "file_format", "pr",
           "roc", "save", "score_label", "summary_terms"]
