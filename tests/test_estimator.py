import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_logistic_data
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from logitgd import DivergenceError, LogisticRegression, SeparationWarning


def statsmodels_datasets():
    sm = pytest.importorskip("statsmodels.api")
    spector = sm.datasets.spector.load_pandas().data
    fair = sm.datasets.fair.load_pandas().data
    return {
        "spector": (spector[["GPA", "TUCE", "PSI"]], spector["GRADE"]),
        "fair": (fair.drop(columns="affairs"), (fair["affairs"] > 0).astype(int)),
    }


@pytest.mark.parametrize("name", ["spector", "fair"])
def test_unpenalized_fit_matches_statsmodels(name):
    import statsmodels.api as sm

    X, y = statsmodels_datasets()[name]
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14, maxiter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no separation or convergence warning
        model = LogisticRegression(alpha=0.0, tol=1e-10).fit(X, y)
    ours = np.append(model.intercept_, model.coef_[0])
    np.testing.assert_allclose(ours, ref.params.to_numpy(), rtol=1e-6)
    assert model.converged_


def _iris_versicolor_virginica():
    X, y = load_iris(return_X_y=True)
    keep = y > 0
    return X[keep], y[keep]


@pytest.mark.parametrize("data", ["breast_cancer", "iris"])
@pytest.mark.parametrize("alpha", [1e-4, 1e-2])
def test_l2_fit_matches_scikit_learn(data, alpha):
    X, y = load_breast_cancer(return_X_y=True) if data == "breast_cancer" else _iris_versicolor_virginica()
    n = len(y)
    ref = SkLogisticRegression(C=1 / (n * alpha), solver="newton-cholesky", tol=1e-14,
                               max_iter=1000).fit(X, y)
    model = LogisticRegression(alpha=alpha, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-6)


def test_sample_weight_matches_scikit_learn():
    X, y, _ = make_logistic_data(n=300, d=4, seed=5)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    alpha = 1e-2
    ref = SkLogisticRegression(C=1 / (sw.sum() * alpha), solver="newton-cholesky", tol=1e-14).fit(
        X, y, sample_weight=sw)
    model = LogisticRegression(alpha=alpha, tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6)
    # integer weights are the same as repeated rows
    k = np.random.default_rng(1).integers(0, 3, size=len(y))
    a = LogisticRegression(alpha=alpha, tol=1e-10).fit(X, y, sample_weight=k)
    b = LogisticRegression(alpha=alpha, tol=1e-10).fit(np.repeat(X, k, axis=0), np.repeat(y, k))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)


def test_float32_agrees_with_float64():
    X, y = load_breast_cancer(return_X_y=True)
    m64 = LogisticRegression(alpha=1e-3, tol=1e-9).fit(X, y)
    m32 = LogisticRegression(alpha=1e-3, tol=1e-9).fit(X.astype(np.float32), y)
    scale = np.abs(m64.coef_).max()
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(m32.predict_proba(X), m64.predict_proba(X), atol=1e-4)


def test_badly_scaled_columns_fit_as_well_as_scaled_ones():
    X, y, _ = make_logistic_data(n=500, d=4, seed=7)
    scales = np.array([1e6, 1.0, 1e-3, 1e2])
    m1 = LogisticRegression(alpha=1e-3 / 1, tol=1e-10).fit(X, y)
    m2 = LogisticRegression(alpha=0.0, tol=1e-10).fit(X * scales, y)
    m1 = LogisticRegression(alpha=0.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(m2.coef_[0] * scales, m1.coef_[0], rtol=1e-6)
    assert np.isfinite(m2.loss_history_).all()


def test_separable_data_stops_quickly_with_a_warning():
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(SeparationWarning, match="separated.*alpha > 0"):
        model = LogisticRegression(alpha=0.0).fit(X, y)
    assert not model.converged_ and model.n_iter_ <= 80
    assert "separation" in model.stop_reason_
    # perfectly separated toy data: certified by the iterate itself
    X = np.r_[np.random.default_rng(0).normal(-3, 1, (50, 2)), np.random.default_rng(1).normal(3, 1, (50, 2))]
    y = np.r_[np.zeros(50), np.ones(50)]
    with pytest.warns(SeparationWarning, match="completely separated"):
        model = LogisticRegression(alpha=0.0).fit(X, y)
    assert model.n_iter_ <= 20 and model.score(X, y) == 1.0
    # with a penalty the same data converge, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LogisticRegression(alpha=1e-2).fit(X, y).converged_


def test_fixed_learning_rate_that_diverges_raises():
    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(learning_rate=1.0)
    with pytest.raises(DivergenceError, match=r"learning_rate=1\b.*'auto'"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_fixed_learning_rate_reaches_the_same_optimum_on_standardized_data():
    X, y, _ = make_logistic_data(n=300, d=3, seed=8)
    auto = LogisticRegression(alpha=1e-2, tol=1e-10).fit(X, y)
    fixed = LogisticRegression(alpha=1e-2, learning_rate=2.0, tol=1e-12, max_iter=50000).fit(X, y)
    assert fixed.converged_
    np.testing.assert_allclose(fixed.coef_, auto.coef_, rtol=1e-5)


@pytest.mark.parametrize("labels", [("no", "yes"), (False, True), (-1, 1), (2.0, 7.0)])
def test_any_two_labels(labels):
    X, y01, _ = make_logistic_data(n=200, d=3, seed=9)
    y = np.where(y01 == 1, labels[1], labels[0])
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    assert list(model.classes_) == sorted(labels)
    assert set(model.predict(X)) <= set(labels)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(proba[:, 1] > 0.5).astype(int)])
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-12)


def test_dataframe_and_list_inputs():
    X, y, _ = make_logistic_data(n=100, d=3, seed=10)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    model = LogisticRegression(alpha=1e-3).fit(df, y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    from_list = LogisticRegression(alpha=1e-3).fit(X.tolist(), y.tolist())
    np.testing.assert_allclose(model.coef_, from_list.coef_)
    assert model.coef_.shape == (1, 3) and model.intercept_.shape == (1,)
    assert len(model.loss_history_) == model.n_iter_ + 1
    assert np.all(np.diff(model.loss_history_) <= 1e-15)


def test_warm_start_and_random_init():
    X, y, _ = make_logistic_data(n=300, d=4, seed=11)
    model = LogisticRegression(alpha=1e-3, warm_start=True).fit(X, y)
    first = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ < first / 2
    a = LogisticRegression(alpha=1e-3, random_state=0, tol=1e-10).fit(X, y)
    b = LogisticRegression(alpha=1e-3, random_state=0, tol=1e-10).fit(X, y)
    c = LogisticRegression(alpha=1e-3, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_allclose(a.coef_, c.coef_, rtol=1e-7)


def test_verbose_and_callback(capsys):
    X, y, _ = make_logistic_data(n=100, d=2, seed=12)
    costs = []
    LogisticRegression(alpha=1e-3, verbose=100, callback=lambda s: costs.append(s.fun)).fit(X, y)
    out = capsys.readouterr().out
    assert "iter      1  cost" in out
    assert len(costs) >= 1 and costs == sorted(costs, reverse=True)


@pytest.mark.parametrize("params, match", [
    ({"alpha": -1.0}, "alpha"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"max_iter": 0}, "max_iter"),
    ({"solver": "bfgs"}, "solver"),
    ({"penalty": "l3", "alpha": 1.0}, "penalty"),
])
def test_bad_parameters(params, match):
    X, y, _ = make_logistic_data(n=50, d=2)
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, y)


def test_bad_targets():
    X, _, _ = make_logistic_data(n=30, d=2)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, np.ones(30))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, np.linspace(0, 1, 30))
    with pytest.raises(ValueError, match="non-zero"):
        LogisticRegression().fit(X, np.arange(30) % 2, sample_weight=np.zeros(30))


@parametrize_with_checks([LogisticRegression()])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)  # blobs in the checks are separable
        check(estimator)


def test_separation_kind_by_linear_programming():
    from logitgd.separation import lp_finding, separation_kind

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert separation_kind(X, np.array([0, 0, 1, 1])) == "complete"
    # x = 1 holds both classes: only quasi-complete (the two tied samples lie on the plane)
    X = np.array([[0.0], [1.0], [1.0], [2.0]])
    assert separation_kind(X, np.array([0, 0, 1, 1])) == "quasi-complete"
    found = lp_finding(X, np.array([0, 0, 1, 1]))
    assert (found.on_plane, found.n_rows, found.columns) == (2, 4, [0])
    assert separation_kind(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 0, 1])) is None
    Xb, yb = load_breast_cancer(return_X_y=True)
    assert separation_kind(Xb, yb) == "complete"
    Xf, yf, _ = make_logistic_data(n=300, d=3, seed=13)
    assert separation_kind(Xf, yf) is None
    # zero-weight samples do not count
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert separation_kind(X, np.array([0, 1, 0, 1]), sample_weight=np.array([1, 0, 0, 1])) == "complete"


def test_verbose_shows_something_for_a_short_fit(capsys):
    """verbose=1 prints every 100 iterations: a Newton fit of a few iterations shows its first one too."""
    X, y, _ = make_logistic_data(200, 3, seed=0)
    model = LogisticRegression(alpha=1e-3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert model.n_iter_ < 100 and out.startswith("iter      1  cost ")
