"""Draw the figures of README.md into docs/ from real data sets: ``python docs/make_figures.py``.

Two classes: scikit-learn's breast cancer data (Wisconsin diagnostic), its eight "mean" features other than
perimeter and area (which are functions of the radius), standardized, unpenalized, fitted on 80% of the rows
and drawn on the other 20%. Three classes: Fisher's iris. The CV plots: the lasso path of all 30 breast-cancer
features.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split

from logitgd import LogisticRegression, LogisticRegressionCV, plot, report

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    y = pd.Series(np.where(y == 1, "benign", "malignant"), name="diagnosis")
    X8 = X.iloc[:, [0, 1, 4, 5, 6, 7, 8, 9]]  # the "mean" features but perimeter and area (collinear with radius)
    X8 = (X8 - X8.mean()) / X8.std()  # per standard deviation: odds ratios on one scale
    X_tr, X_te, y_tr, y_te = train_test_split(X8, y, test_size=0.2, stratify=y, random_state=0)
    model = LogisticRegression(solver="gd", max_iter=4000).fit(X_tr, y_tr)  # a cost curve with some shape
    newton = LogisticRegression().fit(X_tr, y_tr)
    out = {}
    out["cost"] = plot.cost(model)
    out["roc"] = plot.roc(newton, X_te, y_te)
    out["pr"] = plot.pr(newton, X_te, y_te)
    out["calibration"] = plot.calibration(newton, X_te, y_te, n_bins=8)
    out["confusion"] = plot.confusion(newton, X_te, y_te)
    out["coefficients"] = plot.coefficients(newton, odds_ratios=True)
    Xi, yi = load_iris(return_X_y=True, as_frame=True)
    yi = pd.Series(np.array(["setosa", "versicolor", "virginica"])[yi], name="species")
    iris = LogisticRegression(alpha=1e-3).fit(Xi, yi)
    out["regions"] = plot.decision_regions(iris, Xi, yi, features=("petal length (cm)", "petal width (cm)"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = LogisticRegressionCV(alphas=30, penalty="l1", selection="1se").fit(X, y)
    out["cv_curve"] = plot.cv_curve(cv)
    out["coef_path"] = plot.coef_path(cv)
    for name, fig in out.items():
        plot.save(fig, os.path.join(HERE, f"{name}.png"))
    explained = newton.explain(X_te.iloc[[0]], y_te.iloc[0])
    with open(os.path.join(HERE, "graph.svg"), "w", encoding="utf-8") as fh:
        fh.write(report.graph_svg(explained))
    print("\n".join(sorted(os.listdir(HERE))))


if __name__ == "__main__":
    main()
