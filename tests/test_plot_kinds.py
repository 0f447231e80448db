"""Every plot of logitgd.plot, on two and on three classes, in each format: a valid file with content, and the
numbers drawn are the model's."""

from __future__ import annotations

import struct
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from matplotlib.image import imread
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score, roc_curve

from logitgd import LogisticRegression, LogisticRegressionCV, plot


def check_image(path):
    """Fail unless ``path`` is a PNG, SVG or PDF (by its suffix) with something drawn in it."""
    data = open(path, "rb").read()
    suffix = str(path).rsplit(".", 1)[1]
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 300 and height >= 250
        pixels = imread(path)[..., :3]
        ink = np.mean(np.any(pixels < 0.9, axis=-1))  # the share of pixels that are not (near) white
        assert 0.02 < ink < 0.9, f"{path}: {ink:.1%} of the pixels drawn"
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # lines, text, colours: not one flat fill
    elif suffix == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        drawn = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] in ("path", "use", "image", "text")]
        assert len(drawn) > 30, f"{path}: {len(drawn)} elements drawn"
    elif suffix == "pdf":
        assert data[:5] == b"%PDF-" and b"%%EOF" in data[-64:], "not a PDF"
        assert data.count(b"stream") >= 2 and len(data) > 4000
    else:  # pragma: no cover
        raise AssertionError(suffix)


@pytest.fixture(scope="module")
def binary():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :8]  # eight named features, a fit with inference (the full set is separable)
    return LogisticRegression().fit(X, y), X, y


@pytest.fixture(scope="module")
def three():
    X, y = load_iris(return_X_y=True, as_frame=True)
    y = pd.Series(np.array(["setosa", "versicolor", "virginica"])[y])
    return LogisticRegression(alpha=1e-2).fit(X, y), X, y


DRAW = {
    "cost": lambda m, X, y, p: plot.cost(m, path=p),
    "coefficients": lambda m, X, y, p: plot.coefficients(m, path=p),
    "oddsratios": lambda m, X, y, p: plot.coefficients(m, odds_ratios=True, path=p),
    "roc": lambda m, X, y, p: plot.roc(m, X, y, path=p),
    "pr": lambda m, X, y, p: plot.pr(m, X, y, path=p),
    "calibration": lambda m, X, y, p: plot.calibration(m, X, y, path=p),
    "confusion": lambda m, X, y, p: plot.confusion(m, X, y, path=p),
    "regions": lambda m, X, y, p: plot.decision_regions(m, X, y, features=(0, 1), path=p),
}


@pytest.mark.parametrize("kind", list(DRAW))
@pytest.mark.parametrize("which", ["binary", "three"])
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_every_plot_writes_a_valid_image_with_content(tmp_path, request, kind, which, fmt):
    model, X, y = request.getfixturevalue(which)
    fig = DRAW[kind](model, X, y, tmp_path / f"{kind}.{fmt}")
    check_image(tmp_path / f"{kind}.{fmt}")
    assert [p.name for p in tmp_path.iterdir()] == [f"{kind}.{fmt}"]  # no temporary file left
    assert fig.axes and fig.axes[0].get_title()


def test_an_unknown_suffix_is_refused_before_drawing(tmp_path, binary):
    model, X, y = binary
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf.*'\.jpg'"):
        plot.roc(model, X, y, path=tmp_path / "roc.jpg")
    assert not list(tmp_path.iterdir())


def test_roc_and_calibration_draw_the_models_numbers(binary):
    model, X, y = binary
    p = model.predict_proba(X)[:, 1]
    ax = plot.roc(model, X, y).axes[0]
    fpr, tpr, _ = roc_curve(y, p)
    curve = [line for line in ax.get_lines() if len(line.get_xdata()) == len(fpr)]
    np.testing.assert_allclose(curve[0].get_xdata(), fpr)
    np.testing.assert_allclose(curve[0].get_ydata(), tpr)
    assert f"AUC {roc_auc_score(y, p):.3f}" in ax.get_title()
    top = plot.calibration(model, X, y).axes[0]
    assert f"Brier score {brier_score_loss(y, p):.4f}" in top.get_title()


def test_three_class_curves_are_one_per_class_against_the_rest(three):
    model, X, y = three
    ax = plot.roc(model, X, y).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    for c in model.classes_:
        assert any(t.startswith(str(c)) for t in texts)
    macro = roc_auc_score(y, model.predict_proba(X), multi_class="ovr")
    assert f"macro AUC {macro:.3f}" in ax.get_title()
    ax = plot.confusion(model, X, y).axes[0]
    shown = np.array([[int(t.get_text()) for t in ax.texts]]).reshape(3, 3)
    np.testing.assert_array_equal(shown, confusion_matrix(y, model.predict(X), labels=model.classes_))


def test_coefficients_show_the_summarys_intervals(binary):
    model, X, y = binary
    summary = model.summary()
    ax = plot.coefficients(model).axes[0]
    assert "95% Wald intervals" in ax.get_title()
    drawn = ax.containers[0].lines[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    params = dict(zip(summary.labels, summary.params))
    np.testing.assert_allclose(drawn.get_xdata(), [params[name] for name in labels], rtol=1e-12)
    assert "(Intercept)" not in labels and len(labels) == 8
    # an L1 fit has no Wald table: the points alone, and the title says why
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lasso = LogisticRegression(penalty="l1", alpha=1e-2).fit(X, y)
    assert "no intervals" in plot.coefficients(lasso).axes[0].get_title()


def test_decision_regions_colour_the_models_prediction(three):
    model, X, y = three
    fig = plot.decision_regions(model, X, y, features=("petal length (cm)", "petal width (cm)"), resolution=30)
    ax = fig.axes[0]
    mesh = ax.collections[0]
    assert ax.get_xlabel() == "petal length (cm)" and "medians" in ax.get_title()
    # the grid's predicted class, recomputed: the other two features at their medians
    g0, g1 = np.meshgrid(np.linspace(X.iloc[:, 2].min() - 0.05 * np.ptp(X.iloc[:, 2]),
                                     X.iloc[:, 2].max() + 0.05 * np.ptp(X.iloc[:, 2]), 30),
                         np.linspace(X.iloc[:, 3].min() - 0.05 * np.ptp(X.iloc[:, 3]),
                                     X.iloc[:, 3].max() + 0.05 * np.ptp(X.iloc[:, 3]), 30))
    grid = pd.DataFrame({c: np.full(g0.size, X[c].median()) for c in X.columns})
    grid.iloc[:, 2], grid.iloc[:, 3] = g0.ravel(), g1.ravel()
    expected = np.searchsorted(model.classes_, model.predict(grid))
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).ravel(), expected)
    fig.canvas.draw()
    colors = mesh.get_facecolors()[:, :3]
    assert len(np.unique(colors.round(3), axis=0)) == 3  # one colour per class
    # held at a row, and on sparse data (an svmlight-like model: columns by number)
    plot.decision_regions(model, X, y, features=(0, 1), at=5)
    Xs = sp.csr_matrix(X.to_numpy())
    sparse_model = LogisticRegression(alpha=1e-2).fit(Xs, y)
    check = plot.decision_regions(sparse_model, Xs, y, features=(2, 3), resolution=20)
    assert check.axes[0].get_xlabel() == "x2"
    with pytest.raises(ValueError, match="not a column"):
        plot.decision_regions(model, X, y, features=("petal length (cm)", "nope"))


def test_cv_plots_in_every_format(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = LogisticRegressionCV(alphas=6, penalty="l1", cv=3).fit(X[:, :10], y)
    Xi, yi = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv3 = LogisticRegressionCV(alphas=5, penalty="l1", cv=3).fit(Xi, yi)  # three classes: a panel each
    plot.cv_curve(cv3, path=tmp_path / "cv3.png")
    fig = plot.coef_path(cv3, path=tmp_path / "path3.svg")
    assert [a.get_title() for a in fig.axes if a.get_visible() and a.get_title()] == ["class 0", "class 1", "class 2"]
    check_image(tmp_path / "cv3.png")
    check_image(tmp_path / "path3.svg")
    for fmt in ("png", "svg", "pdf"):
        plot.cv_curve(cv, path=tmp_path / f"cv.{fmt}")
        plot.coef_path(cv, path=tmp_path / f"path.{fmt}")
        check_image(tmp_path / f"cv.{fmt}")
        check_image(tmp_path / f"path.{fmt}")
