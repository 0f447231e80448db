"""glmnet's plots in logitgd.plot: the CV curve and the coefficient path.

Each plot test checks the file (a PNG of the figure's size) and the numbers drawn: the figure is caught
on its way to the file (``_save``) and its artists' data are compared with the model's attributes.
"""

from __future__ import annotations

import os
import struct
import warnings

import numpy as np
import pytest
from conftest import make_logistic_data
from matplotlib.text import Text

from logitgd import LogisticRegressionCV, plot, regularization_path
from logitgd._selection import cv_selections
from logitgd.plot import _path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) of a PNG file, from its IHDR chunk; fails on anything that is not a PNG."""
    data = open(path, "rb").read()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", "not a PNG"
    assert len(data) > 5_000, "too small to hold a plot"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def figures(monkeypatch):
    """The figures the plots write, kept (their artists are checked after the file is written)."""
    caught = []
    finish = _path.finish

    def keep(fig, path):
        caught.append(fig)
        return finish(fig, path)

    monkeypatch.setattr(_path, "finish", keep)
    return caught


def written(draw, *args, path, **kwargs):
    """Draw to ``path``; the path, as a str."""
    draw(*args, path=path, **kwargs)
    return str(path)


def _cv(selection="min", **kw):
    X, y, _ = make_logistic_data(240, 6, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegressionCV(alphas=10, penalty="l1", selection=selection, cv=4, **kw).fit(X, y)


def _errorbar_points(ax):
    """The (x, y) of each error-bar series' markers, in drawing order."""
    return [c.lines[0].get_xydata() for c in ax.containers]


def _vertical_lines(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == ":"]


def test_cv_curve_draws_the_loss_with_standard_errors_and_both_choices(tmp_path, figures):
    best, one_se = _cv("min"), _cv("1se")
    assert best.best_index_ != one_se.best_index_  # the two lines are apart on these data
    out = written(plot.cv_curve, one_se, path=tmp_path / "cv.png")
    assert out == str(tmp_path / "cv.png")
    assert png_size(out) == (750, 500)
    assert not [f for f in os.listdir(tmp_path) if f != "cv.png"]  # no temporary file left behind

    r = one_se.cv_results_
    data = plot.cv_curve_data(one_se)
    assert data["label"] == "CV log-loss" and data["sign"] == -1 and data["n_folds"] == 4
    (curve,) = data["curves"]
    np.testing.assert_array_equal(curve["value"], -r["mean_score"])
    np.testing.assert_array_equal(curve["error"], r["std_error"])
    np.testing.assert_array_equal(curve["n_active"], r["n_active"])
    # both choices, computed from cv_results_, whichever selection the model used
    assert data["min"]["index"] == best.best_index_ and data["1se"]["index"] == one_se.best_index_
    assert data["1se"]["alpha"] == one_se.alpha_ and data["min"]["alpha"] == best.alpha_

    (ax,) = [a for a in figures[-1].axes if a.get_ylabel()]
    assert ax.get_ylabel() == "CV log-loss" and ax.get_xlabel() == "log(alpha)"
    (points,) = _errorbar_points(ax)
    np.testing.assert_allclose(points, np.column_stack([np.log(r["alpha"]), -r["mean_score"]]), rtol=1e-12)
    bars = ax.containers[0].lines[2][0].get_segments()  # one vertical segment per alpha: the mean -+ 1 SE
    np.testing.assert_allclose([s[:, 1] for s in bars],
                               np.column_stack([-r["mean_score"] - r["std_error"], -r["mean_score"] + r["std_error"]]),
                               rtol=1e-12)
    lines = {line.get_label().split(":")[0]: line.get_xdata()[0] for line in _vertical_lines(ax)}
    assert lines == pytest.approx({"best": np.log(best.alpha_), "1-SE": np.log(one_se.alpha_)}, rel=1e-12)
    assert any("(chosen)" in t.get_text() and "1-SE" in t.get_text() for t in ax.get_legend().get_texts())
    top = [child for child in ax.child_axes]  # the nonzero counts along the top
    labels = [int(t.get_text()) for t in top[0].get_xticklabels()]
    ticks = top[0].get_xticks()
    for tick, count in zip(ticks, labels):
        assert count == r["n_active"][np.argmin(np.abs(np.log(r["alpha"]) - tick))]


def test_cv_curve_several_l1_ratios_and_a_score(tmp_path, figures):
    X, y, _ = make_logistic_data(240, 6, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegressionCV(alphas=6, penalty="elasticnet", l1_ratios=[0.3, 1.0], cv=3,
                                     scoring="accuracy").fit(X, y)
    png_size(written(plot.cv_curve, model, path=tmp_path / "cv.png", title="mine"))
    data = plot.cv_curve_data(model)
    assert data["label"] == "CV accuracy" and data["sign"] == 1  # a score, plotted as it is
    (ax,) = [a for a in figures[-1].axes if a.get_ylabel()]
    assert ax.get_title() == "mine"
    points = _errorbar_points(ax)
    assert len(points) == 2
    r = model.cv_results_
    for k, ratio in enumerate([0.3, 1.0]):
        rows = r["l1_ratio"] == ratio
        np.testing.assert_allclose(points[k][:, 1], r["mean_score"][rows], rtol=1e-12)
        assert data["curves"][k]["l1_ratio"] == ratio
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "l1_ratio 0.3" in texts and "l1_ratio 1" in texts


def test_cv_selections_match_the_estimator():
    r = {"l1_ratio": np.array([0.5, 0.5, 0.5, 1.0, 1.0, 1.0]), "alpha": np.array([1.0, 0.1, 0.01, 1.0, 0.1, 0.01]),
         "mean_score": np.array([-0.9, -0.5, -0.6, -0.55, -0.41, -0.4]),
         "std_error": np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.02])}
    # best: index 5; within 0.02 of it and at its l1_ratio: index 4 (alpha 0.1); index 1 is another l1_ratio
    assert cv_selections(r) == (5, 4)
    assert plot.score_label("neg_brier_score") == ("Brier score", -1)
    assert plot.score_label("roc_auc") == ("ROC AUC", 1)


def test_coef_path_lines_are_the_path_and_a_legend_names_them(tmp_path, figures):
    X, y, _ = make_logistic_data(200, 5, seed=2)
    path = regularization_path(X, y, n_alphas=12)
    names = ["a", "b", "c", "d", "e"]
    png_size(written(plot.coef_path, path, path=tmp_path / "p.png", feature_names=names))
    fig = figures[-1]
    (ax,) = [a for a in fig.axes if a.get_visible() and a.get_ylabel()]
    lines = [line for line in ax.get_lines() if line.get_label() in names]
    assert [line.get_label() for line in lines] == names
    order = np.argsort(np.log(path.alphas))
    for j, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), np.log(path.alphas)[order], rtol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), path.coef_[order, 0, j], rtol=1e-12)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == names
    assert not _vertical_lines(ax)  # a path has no chosen alpha

    data = plot.coef_path_data(path, names, against="l1_norm")
    np.testing.assert_allclose(data["x"][0], np.abs(path.coef_[:, 0, :]).sum(axis=1))
    np.testing.assert_array_equal(data["n_active"][0], path.n_active)
    assert data["chosen"] is None and data["xlabel"].startswith("L1 norm")
    with pytest.raises(ValueError, match="against"):
        plot.coef_path_data(path, against="lambda")
    with pytest.raises(ValueError, match="5 features"):
        plot.coef_path_data(path, ["a"])


def test_coef_path_of_a_cv_model_marks_its_alpha_and_names_the_largest(tmp_path, figures):
    X, y, _ = make_logistic_data(300, 25, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegressionCV(alphas=8, penalty="elasticnet", l1_ratios=[0.5, 1.0], cv=3).fit(X, y)
    r, i = divmod(model.best_index_, 8)
    for against in ("alpha", "l1_norm"):
        png_size(written(plot.coef_path, model, path=tmp_path / f"{against}.png", against=against))
        (ax,) = [a for a in figures[-1].axes if a.get_visible() and a.get_ylabel()]
        (vline,) = _vertical_lines(ax)
        coef = model.coef_path_[r]
        x_chosen = np.log(model.alpha_) if against == "alpha" else np.abs(coef[i]).sum()
        assert vline.get_xdata()[0] == pytest.approx(x_chosen, rel=1e-12)
        np.testing.assert_allclose(coef[i], model.coef_)
        # 25 features: no legend of them; the 10 largest at the path's end (the smallest alpha) are named
        names = [t.get_text() for t in ax.texts]
        largest = np.argsort(-np.abs(coef[-1, 0]))[:10]
        assert sorted(names) == sorted(f"x{j}" for j in largest)
        boxes = sorted((Text.get_window_extent(t) for t in ax.texts), key=lambda b: b.y0)  # the names, no lines
        assert all(low.y1 <= high.y0 + 0.5 for low, high in zip(boxes, boxes[1:]))  # no overlaps
        assert all(ax.get_window_extent().x0 <= b.x0 and b.x1 <= ax.get_window_extent().x1 for b in boxes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegressionCV(alphas=4, penalty="l1", cv=3, refit=False).fit(X, y)
    with pytest.raises(ValueError, match="refit=False"):
        written(plot.coef_path, model, path=tmp_path / "none.png")


def test_coef_path_has_one_panel_per_class(tmp_path, figures):
    X, y, _ = make_logistic_data(300, 4, seed=1)
    y3 = np.array(["lo", "mid", "hi"])[np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])]
    path = regularization_path(X, y3, n_alphas=10, l1_ratio=0.5)
    png_size(written(plot.coef_path, path, path=tmp_path / "k.png", against="l1_norm"))
    panels = [a for a in figures[-1].axes if a.get_visible() and a.get_ylabel()]
    assert [a.get_title() for a in panels] == [f"class {c}" for c in path.classes_]
    for k, ax in enumerate(panels):
        x = np.abs(path.coef_[:, k, :]).sum(axis=1)
        line = ax.get_lines()[0]
        np.testing.assert_allclose(np.sort(line.get_xdata()), np.sort(x), rtol=1e-12)
    # three panels in a 2 x 2 grid: the legend in the fourth
    (legend,) = [a.get_legend() for a in figures[-1].axes if a.get_legend() is not None]
    assert [t.get_text() for t in legend.get_texts()] == ["x0", "x1", "x2", "x3"]


def test_spread_keeps_labels_apart_and_inside():
    pos = _path._spread([0.0, 0.01, 0.02, 5.0, 9.99], gap=1.0, low=0.0, high=10.0)
    ordered = np.sort(pos)
    assert np.all(np.diff(ordered) >= 1.0 - 1e-12) and ordered[0] >= 0 and ordered[-1] <= 10
    assert pos[3] == 5.0  # a label with room stays at its line


def test_plot_replaces_an_existing_file(tmp_path):
    target = tmp_path / "cv.png"
    target.write_bytes(b"old")
    written(plot.cv_curve, _cv(), path=target)
    png_size(target)
    assert os.listdir(tmp_path) == ["cv.png"]
