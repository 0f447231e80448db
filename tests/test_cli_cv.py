"""``logitgd fit --alpha cv``: alpha (and l1_ratio) chosen by LogisticRegressionCV on the training rows.

The helpers and the small table (``make_frame``) are test_cli's; the chosen alpha, the model file and
the printed metrics are checked against LogisticRegressionCV fitted here on the same training rows.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from test_cli import PNG_MAGIC, assert_one_error, assert_usage_error, cli, make_frame, table_row

import logitgd
from logitgd import LogisticRegressionCV


@pytest.fixture(scope="module")
def cv_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cv")
    load_breast_cancer(as_frame=True).frame.to_csv(d / "cancer.csv", index=False)
    make_frame().to_csv(d / "small.csv", index=False)
    return d


def _training_rows(path, target, test_size=0.2):
    """The training (and test) rows of the CLI's split: (X_tr, y_tr, X_te, y_te)."""
    df = pd.read_csv(path)
    X, y = df.drop(columns=target), df[target].to_numpy()
    if test_size == 0:
        return X, y, None, None
    train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y, random_state=0)
    return X.iloc[train], y[train], X.iloc[test], y[test]


def _fit_cv(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegressionCV(**params).fit(X, y)


def _printed(out, name):
    """The text after the label ``name`` of a report line."""
    (line,) = [line for line in out.splitlines() if line.startswith(f"{name:<15}")]
    return line[15:]


def _chosen_rows(out):
    """The table rows (alpha, nonzero, score, std err) marked as chosen (a trailing '*')."""
    found = re.findall(r"(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(?:min|1se|min=1se) \*", out)
    return [tuple(float(v) for v in row) for row in found]


def test_fit_alpha_cv_chooses_logistic_regression_cv_alpha_and_writes_the_files(capsys, cv_data, tmp_path):
    model, plot_cv, plot_path = tmp_path / "m.json", tmp_path / "cv.png", tmp_path / "path.png"
    code, out, err = cli(capsys, "fit", cv_data / "cancer.csv", "--target", "target", "--quiet", "--alpha", "cv",
                         "--penalty", "l1", "--selection", "1se", "--n-alphas", "12", "--cv", "4",
                         "--model", model, "--plot-cv", plot_cv, "--plot-path", plot_path)
    assert code == 0, err
    X_tr, y_tr, X_te, y_te = _training_rows(cv_data / "cancer.csv", "target")
    cv = _fit_cv(X_tr, y_tr, alphas=12, penalty="l1", cv=4, selection="1se")
    alpha = float(_printed(out, "alpha").split()[0])
    assert alpha == pytest.approx(cv.alpha_, rel=1e-5) and f"{cv.alpha_:.6g}" in _printed(out, "alpha")
    assert "(L1), chosen by 4-fold CV" in _printed(out, "alpha")
    assert _printed(out, "l1_ratio") == "1"
    assert _printed(out, "selection").startswith("1se: the largest alpha")
    (row,) = _chosen_rows(out)  # the starred row of the table is the chosen alpha
    i = cv.best_index_
    assert row[0] == pytest.approx(cv.alpha_, rel=1e-3) and row[1] == cv.cv_results_["n_active"][i]
    assert row[2] == pytest.approx(-cv.cv_results_["mean_score"][i], abs=1e-4)
    assert row[3] == pytest.approx(cv.cv_results_["std_error"][i], abs=1e-4)
    assert len(re.findall(r"^\s*\S+\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}", out, re.M)) == 12  # every alpha, one row each
    assert "455 train, 114 test" in out
    # the usual report is the chosen model's, on the test rows
    assert table_row(out, "accuracy")[1] == pytest.approx(cv.score(X_te, y_te), abs=1e-4)

    saved = logitgd.load(model)
    assert isinstance(saved, logitgd.LogisticRegression)
    assert saved.alpha == cv.alpha_ and saved.penalty == "l1"
    np.testing.assert_array_equal(saved.coef_, cv.coef_)
    np.testing.assert_allclose(saved.predict_proba(X_te), cv.predict_proba(X_te), rtol=1e-12)
    assert list(saved.feature_names_in_) == list(X_tr.columns)
    assert f"model          {model} (a LogisticRegression at the chosen alpha" in out
    for path in (plot_cv, plot_path):
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000
    assert f"cv plot            {plot_cv}" in out and f"path plot          {plot_path}" in out


def test_fit_alpha_cv_elastic_net_mixings_and_a_compact_table(capsys, cv_data):
    code, out, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", "--alpha", "cv",
                         "--penalty", "elasticnet", "--l1-ratio", "0.5,1", "--n-alphas", "50", "--test-size", "0")
    assert code == 0, err
    X, y, _, _ = _training_rows(cv_data / "small.csv", "label", test_size=0)
    cv = _fit_cv(X, y, alphas=50, penalty="elasticnet", l1_ratios=[0.5, 1.0])
    assert float(_printed(out, "alpha").split()[0]) == pytest.approx(cv.alpha_, rel=1e-5)
    assert _printed(out, "l1_ratio") == f"{cv.l1_ratio_:g} (of 0.5, 1)"
    assert _printed(out, "selection").startswith("min: the alpha of the best")
    assert "l1_ratio 0.5" in out.splitlines() and "l1_ratio 1" in out.splitlines()
    # 50 alphas per mixing: two columns of 25 rows side by side
    rows = re.findall(r"^\s*\S+\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}.*?\s+\S+\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}", out, re.M)
    assert len(rows) == 2 * 25
    assert len(_chosen_rows(out)) == 1 and "200 train" in out


@pytest.mark.parametrize("option, value", [("--cv", "3"), ("--selection", "1se"), ("--n-alphas", "10"),
                                           ("--plot-cv", "cv.png"), ("--plot-path", "path.png")])
def test_cv_options_need_alpha_cv(capsys, cv_data, option, value):
    code, out, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", option, value)
    assert_one_error(code, err, option, "--alpha cv")
    assert out == ""


@pytest.mark.parametrize("extra, needles", [
    (["--penalty", "firth"], ("--alpha cv", "--penalty firth")),
    (["--summary"], ("--alpha cv", "--summary", "ignore that selection")),
    (["--cov-type", "HC1"], ("--alpha cv", "--cov-type")),
    (["--penalty", "none"], ("--alpha cv", "--penalty none")),
    (["--plot", "c.png"], ("--plot", "--plot-cv")),
    (["--learning-rate", "0.1"], ("--learning-rate",)),
    (["--multi-class", "ovr"], ("--multi-class ovr",)),
    (["--penalty", "elasticnet"], ("--penalty elasticnet", "--l1-ratio")),
    (["--penalty", "l1", "--l1-ratio", "0.5"], ("--l1-ratio", "--penalty elasticnet")),
    (["--penalty", "elasticnet", "--l1-ratio", "0.5,1.5"], ("--l1-ratio", "[0, 1]")),
])
def test_alpha_cv_refusals_are_one_line_errors(capsys, cv_data, tmp_path, extra, needles):
    code, out, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", "--alpha", "cv",
                         *[str(tmp_path / e) if e.endswith(".png") else e for e in extra])
    assert_one_error(code, err, *needles)
    assert out == ""


def test_alpha_values_and_l1_ratio_lists(capsys, cv_data, tmp_path):
    assert_usage_error(capsys, ["fit", "--alpha", "cvv"], "--alpha", "'cv'", "'cvv'")
    assert_usage_error(capsys, ["fit", "--alpha", "cv", "--cv", "1"], "--cv", "'1'")
    assert_usage_error(capsys, ["fit", "--l1-ratio", "0.5,x"], "--l1-ratio", "'0.5,x'")
    code, _, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet",
                       "--penalty", "elasticnet", "--l1-ratio", "0.5,0.7")
    assert_one_error(code, err, "--l1-ratio", "one number", "--alpha cv")
    code, out, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", "--alpha", "0.01",
                         "--penalty", "elasticnet", "--l1-ratio", "0.5")
    assert code == 0, err
    assert "0.01 (elastic net, l1_ratio 0.5)" in out  # one number: a fit at one alpha, as before
    existing = tmp_path / "cv.png"
    existing.write_bytes(b"keep")
    code, out, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", "--alpha", "cv",
                         "--plot-cv", existing)
    assert_one_error(code, err, "--plot-cv", "already exists", "--force")
    assert existing.read_bytes() == b"keep" and out == ""
    code, _, err = cli(capsys, "fit", cv_data / "small.csv", "--target", "label", "--quiet", "--alpha", "cv",
                       "--plot-cv", tmp_path / "same.png", "--plot-path", tmp_path / "same.png")
    assert_one_error(code, err, "--plot-cv", "--plot-path")
