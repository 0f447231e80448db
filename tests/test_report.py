"""The HTML report (``fit --report``, ``logitgd report``), the ``--plot KIND=FILE`` options and ``logitgd explain``;
the report loaded in a real browser (headless Chromium, the network cut off)."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from browser import Browser, find_chromium
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_iris
from test_plot_kinds import check_image

import logitgd
from logitgd import report
from logitgd.cli import main

#: .ci/run sets this: there the browser test must run (Chromium is installed), never skip
REQUIRED = os.environ.get("LOGITGD_REQUIRE_BROWSER") == "1"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


class Page(HTMLParser):
    """The tags, attributes and table classes of an HTML file."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.tables = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append(attrs.get("class"))


def assert_self_contained(text):
    page = Page(text)
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith("data:"), f"<{tag} {key}={attrs[key][:40]}>"
    assert "@import" not in text and "url(" not in text.replace("url(#arrow)", "")
    assert {"metrics", "coefficients"} <= set(page.tables)
    return page


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A CSV with a categorical column, an iris CSV (three classes) and an svmlight file."""
    d = tmp_path_factory.mktemp("report")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :5].copy()
    df["site"] = np.array(["north", "south", "east"])[np.arange(len(df)) % 3]
    df["diagnosis"] = np.where(y == 1, "benign", "malignant")
    df.to_csv(d / "cancer.csv", index=False)
    Xi, yi = load_iris(return_X_y=True, as_frame=True)
    iris = Xi.copy()
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[yi]
    iris.to_csv(d / "iris.csv", index=False)
    dump_svmlight_file(X.iloc[:, :4].to_numpy(), y.to_numpy(), str(d / "cancer.svm"), zero_based=False)
    return d


def test_report_from_python_is_self_contained(tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = logitgd.LogisticRegression(alpha=1e-2).fit(X, y)
    path = report.write(tmp_path / "r.html", model, train=(X, y), title="iris",
                        regions=("petal length (cm)", "petal width (cm)"), explain=model.explain(X.iloc[[0]], 0))
    text = open(path, encoding="utf-8").read()
    page = assert_self_contained(text)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    # cost, coefficients, roc, pr, calibration, confusion, regions, and the computation graph
    assert len(images) == 8 and all(a["src"].startswith("data:image/svg+xml;base64,") for a in images)
    assert "petal width (cm)" in text and "softmax" in text
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_fit_writes_every_plot_kind_and_a_report(capsys, tables, tmp_path):
    kinds = ["cost", "roc", "pr", "calibration", "confusion", "coefficients", "oddsratios", "regions"]
    files = {k: tmp_path / f"{k}.{['png', 'svg', 'pdf'][i % 3]}" for i, k in enumerate(kinds)}
    argv = ["fit", tables / "cancer.csv", "--target", "diagnosis", "--categorical", "site", "--quiet",
            "--plot-features", "mean radius,mean texture", "--report", tmp_path / "r.html",
            "--model", tmp_path / "m.json"]
    for kind in kinds:
        argv += ["--plot", f"{kind}={files[kind]}" if kind != "cost" else files[kind]]
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    for kind, path in files.items():
        check_image(path)
        assert re.search(rf"^{kind} plot\s+{re.escape(str(path))}", out, re.M)
    assert "(the 114 test rows)" in out
    text = open(tmp_path / "r.html", encoding="utf-8").read()
    assert_self_contained(text)
    assert "site=south" in text  # a categorical column's levels, named as the user wrote them
    assert "mean radius and mean texture" in text

    # evaluate draws the same plots from a saved model, on the file's rows
    code, out, err = cli(capsys, "evaluate", tmp_path / "m.json", tables / "cancer.csv", "--target", "diagnosis",
                         "--plot", f"roc={tmp_path / 'eval_roc.png'}", "--plot", f"regions={tmp_path / 'r2.svg'}",
                         "--plot-features", "mean radius,site=north")
    assert code == 0, err
    check_image(tmp_path / "eval_roc.png")
    check_image(tmp_path / "r2.svg")
    assert "the 569 rows of" in out


@pytest.mark.parametrize("argv, needles", [
    (["--plot", "heat=h.png"], ("unknown plot 'heat'", "roc")),
    (["--plot", "roc=r.jpg"], (".png, .svg or .pdf", "'.jpg'")),
    (["--plot", "roc="], ("file name",)),
    (["--plot", "roc=a.png", "--plot", "roc=b.png"], ("twice",)),
    (["--plot", "cv=c.png"], ("--plot cv=", "--alpha cv")),
    (["--plot-features", "a,b,c", "--plot", "regions=r.png"], ("two features",)),
    (["--report", "r.pdf"], ("--report", ".html")),
])
def test_plot_and_report_options_are_checked(capsys, tables, tmp_path, argv, needles):
    os.chdir(tmp_path)
    code, out, err = cli(capsys, "fit", tables / "iris.csv", "--target", "species", "--quiet", *argv)
    assert code == 1 and err.startswith("logitgd: error: ") and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".png", ".html")]


def test_cv_fit_draws_its_curve_and_path_and_refuses_a_cost_curve(capsys, tables, tmp_path):
    code, out, err = cli(capsys, "fit", tables / "iris.csv", "--target", "species", "--quiet", "--alpha", "cv",
                         "--cv", "3", "--n-alphas", "6", "--plot", f"cv={tmp_path / 'cv.svg'}",
                         "--plot", f"path={tmp_path / 'path.png'}", "--plot", f"roc={tmp_path / 'roc.png'}",
                         "--report", tmp_path / "cv.html")
    assert code == 0, err
    for name in ("cv.svg", "path.png", "roc.png"):
        check_image(tmp_path / name)
    text = open(tmp_path / "cv.html", encoding="utf-8").read()
    assert "Cross-validation curve" in text and "chosen by cross-validation" in text
    code, _, err = cli(capsys, "fit", tables / "iris.csv", "--target", "species", "--quiet", "--alpha", "cv",
                       "--plot", tmp_path / "cost.png")
    assert code == 1 and "no single cost curve" in err


def test_explain_command_prints_the_models_numbers(capsys, tables, tmp_path):
    model = tmp_path / "m.json"
    assert cli(capsys, "fit", tables / "iris.csv", "--target", "species", "--quiet", "--model", model)[0] == 0
    code, out, err = cli(capsys, "explain", model, tables / "iris.csv", "--row", 75, "--target", "species")
    assert code == 0, err
    fitted = logitgd.load(model)
    frame = pd.read_csv(tables / "iris.csv")
    e = fitted.explain(frame.drop(columns="species").iloc[[75]], frame["species"].iloc[75])
    for v in list(e.z) + list(e.a) + [e.loss] + list(e.dz):
        assert f"{float(v):.6g}" in out
    assert "softmax" in out and "label versicolor" in out
    code, _, err = cli(capsys, "explain", model, tables / "iris.csv", "--row", 150)
    assert code == 1 and "has 150 rows" in err
    # svmlight data: the features are the file's column numbers (1-based here)
    svm_model = tmp_path / "svm.json"
    assert cli(capsys, "fit", tables / "cancer.svm", "--quiet", "--model", svm_model)[0] == 0
    code, out, err = cli(capsys, "explain", svm_model, tables / "cancer.svm", "--row", 3)
    assert code == 0, err
    assert re.search(r"^\s+1\s", out, re.M) and re.search(r"^\s+4\s", out, re.M) and "x0" not in out


@pytest.mark.skipif(find_chromium() is None and not REQUIRED, reason="no chromium (apt-get install chromium)")
def test_reports_render_in_a_real_browser_offline(capsys, tables, tmp_path):
    pages = {}
    code, _, err = cli(capsys, "fit", tables / "cancer.csv", "--target", "diagnosis", "--categorical", "site",
                       "--quiet", "--report", tmp_path / "binary.html", "--model", tmp_path / "m.json")
    assert code == 0, err
    pages["binary"] = tmp_path / "binary.html"
    code, _, err = cli(capsys, "fit", tables / "iris.csv", "--target", "species", "--quiet", "--report",
                       tmp_path / "three.html")
    assert code == 0, err
    pages["three"] = tmp_path / "three.html"
    code, _, err = cli(capsys, "fit", tables / "cancer.svm", "--quiet", "--model", tmp_path / "svm.json")
    assert code == 0, err
    code, _, err = cli(capsys, "report", tmp_path / "svm.json", tables / "cancer.svm", "-o", tmp_path / "svm.html",
                       "--row", 7)
    assert code == 0, err
    pages["svmlight"] = tmp_path / "svm.html"
    with Browser() as browser:
        for name, path in pages.items():
            browser.console.clear()
            browser.failed.clear()
            browser.open(path.as_uri())
            images = browser.evaluate(
                "Array.from(document.images).map(i => ({alt: i.alt, w: i.getBoundingClientRect().width, "
                "h: i.getBoundingClientRect().height, nw: i.naturalWidth, done: i.complete}))")
            assert len(images) >= 7, name
            for image in images:
                assert image["done"] and image["nw"] > 0 and image["w"] > 100 and image["h"] > 100, (name, image)
            tables_found = browser.evaluate("Array.from(document.querySelectorAll('table')).map(t => t.className)")
            assert {"metrics", "coefficients"} <= set(tables_found)
            rows = browser.evaluate("document.querySelectorAll('table.coefficients tr').length")
            assert rows > 4
            assert browser.evaluate("document.body.scrollWidth") <= 1280  # no sideways scrolling on a laptop
            errors = [m for m in browser.console if m[0] in ("error", "exception", "assert")]
            assert not errors and not browser.failed, (name, errors, browser.failed)
            shot = browser.screenshot(tmp_path / f"{name}.png")
            check_image(shot)
    text = re.sub(r"data:[^\"]+", "", open(pages["svmlight"], encoding="utf-8").read())  # the text, not the images
    assert "<td>1</td>" in text and "x0" not in text  # the svmlight file's column numbers
