"""Regularization paths (logitgd.regularization_path) and LogisticRegressionCV."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from conftest import make_logistic_data
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from logitgd import LogisticRegression, LogisticRegressionCV, regularization_path

_PENALTY = {1.0: ("l1", None), 0.0: ("l2", None), 0.5: ("elasticnet", 0.5)}


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _single(X, y, alpha, l1_ratio, **kw):
    penalty, ratio = _PENALTY[l1_ratio]
    return LogisticRegression(alpha=alpha, penalty=penalty, l1_ratio=ratio, **kw).fit(X, y)


def _J(model, X, y, l1_ratio):
    """The penalized objective of a fitted model, computed here (mean log-loss plus the elastic net)."""
    from sklearn.metrics import log_loss

    W = model.coef_
    return (log_loss(y, model.predict_proba(X), labels=model.classes_)
            + model.alpha * (l1_ratio * np.abs(W).sum() + (1 - l1_ratio) / 2 * (W ** 2).sum()))


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
def test_path_equals_single_fits_and_starts_at_alpha_max(l1_ratio):
    X, y = _cancer()
    path = regularization_path(X, y, n_alphas=25, l1_ratio=l1_ratio, tol=1e-10)
    assert path.alphas[0] == pytest.approx(path.alpha_max) and np.all(np.diff(path.alphas) < 0)
    assert path.alphas[-1] == pytest.approx(path.alpha_max * 1e-4)
    assert path.converged.all() and path.coef_.shape == (25, 1, 30)
    if l1_ratio > 0:
        assert path.n_active[0] == 0 and path.n_active[-1] > 20
        # just below alpha_max one coefficient leaves zero
        below = _single(X, y, path.alpha_max * (1 - 1e-3), l1_ratio, tol=1e-12)
        assert np.count_nonzero(below.coef_) == 1
    for i in (1, 8, 16, 24):
        single = _single(X, y, path.alphas[i], l1_ratio, tol=1e-12)
        J_path, J_single = _J(path.model(i), X, y, l1_ratio), _J(single, X, y, l1_ratio)
        assert J_path == pytest.approx(path.objective[i], rel=1e-12)
        assert abs(J_path - J_single) <= 1e-9 * J_single


def test_strong_rules_change_nothing_and_sparse_equals_dense():
    X, y, _ = make_logistic_data(400, 60, seed=3)
    X[np.abs(X) < 0.7] = 0.0
    with_rules = regularization_path(X, y, n_alphas=15, tol=1e-10)
    without = regularization_path(X, y, n_alphas=15, tol=1e-10, strong_rules=False)
    sparse = regularization_path(scipy.sparse.csr_matrix(X), y, n_alphas=15, tol=1e-10)
    np.testing.assert_allclose(with_rules.alphas, without.alphas, rtol=1e-14)
    np.testing.assert_allclose(with_rules.objective, without.objective, rtol=1e-9)
    np.testing.assert_allclose(sparse.objective, with_rules.objective, rtol=1e-9)
    assert np.array_equal(with_rules.n_active, without.n_active)


def test_multinomial_weighted_and_given_alphas():
    X, y, _ = make_logistic_data(300, 6, seed=1)
    y3 = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    w = np.random.default_rng(0).integers(1, 4, 300)
    path = regularization_path(X, y3, [0.1, 0.001, 0.01], l1_ratio=0.5, sample_weight=w, tol=1e-10)
    assert list(path.alphas) == [0.1, 0.01, 0.001] and path.coef_.shape == (3, 3, 6)
    replicated = regularization_path(np.repeat(X, w, axis=0), np.repeat(y3, w), [0.1, 0.01, 0.001], l1_ratio=0.5,
                                     tol=1e-10)
    np.testing.assert_allclose(path.objective, replicated.objective, rtol=1e-9)
    for i, alpha in enumerate(path.alphas):
        single = LogisticRegression(alpha=alpha, penalty="elasticnet", l1_ratio=0.5, tol=1e-12).fit(X, y3, w)
        J = _J(path.model(i), np.repeat(X, w, axis=0), np.repeat(y3, w), 0.5)
        assert J == pytest.approx(_J(single, np.repeat(X, w, axis=0), np.repeat(y3, w), 0.5), rel=1e-9)


def test_dask_path_equals_in_memory(client):
    da = pytest.importorskip("dask.array")
    X, y, _ = make_logistic_data(400, 8, seed=2)
    base = regularization_path(X, y, n_alphas=6, tol=1e-10)
    dist = regularization_path(da.from_array(X, chunks=(100, 8)), da.from_array(y, chunks=100), n_alphas=6, tol=1e-10)
    np.testing.assert_allclose(dist.alphas, base.alphas, rtol=1e-12)
    np.testing.assert_allclose(dist.objective, base.objective, rtol=1e-9)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.0])
def test_torch_path_and_cv_equal_in_memory(l1_ratio):
    torch = pytest.importorskip("torch")
    X, y, _ = make_logistic_data(300, 6, seed=4)
    base = regularization_path(X, y, n_alphas=6, l1_ratio=l1_ratio, tol=1e-10)
    on_torch = regularization_path(torch.tensor(X), torch.tensor(y), n_alphas=6, l1_ratio=l1_ratio, tol=1e-10)
    np.testing.assert_allclose(on_torch.alphas, base.alphas, rtol=1e-12)
    np.testing.assert_allclose(on_torch.objective, base.objective, rtol=1e-10)
    np.testing.assert_allclose(on_torch.coef_, base.coef_, atol=1e-7)
    penalty = "l1" if l1_ratio else "l2"
    cv = LogisticRegressionCV(alphas=5, penalty=penalty, tol=1e-10).fit(X, y)
    cv_torch = LogisticRegressionCV(alphas=5, penalty=penalty, tol=1e-10).fit(torch.tensor(X), torch.tensor(y))
    assert cv_torch.alpha_ == cv.alpha_
    np.testing.assert_allclose(cv_torch.cv_results_["mean_score"], cv.cv_results_["mean_score"], atol=1e-9)


def test_path_model_is_a_fitted_estimator(tmp_path):
    import logitgd

    X, y, _ = make_logistic_data(200, 4, seed=7)
    path = regularization_path(X, y, n_alphas=5, l1_ratio=0.5)
    model = path.model(3)
    assert model.alpha == path.alphas[3] and model.penalty == "elasticnet" and model.l1_ratio == 0.5
    np.testing.assert_array_equal(model.coef_, path.coef_[3])
    logitgd.save(model, tmp_path / "m.json")
    np.testing.assert_array_equal(logitgd.load(tmp_path / "m.json").predict_proba(X), model.predict_proba(X))


def test_path_refusals():
    X, y, _ = make_logistic_data(100, 3)
    with pytest.raises(ValueError, match="sets 'alpha' itself"):
        regularization_path(X, y, alpha=0.1)
    with pytest.raises(ValueError, match="l1_ratio must be"):
        regularization_path(X, y, l1_ratio=2)
    with pytest.raises(ValueError, match="alphas must be"):
        regularization_path(X, y, alphas=[0.1, -1])
    with pytest.raises(ValueError, match="n_alphas must be"):
        regularization_path(X, y, n_alphas=0)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_cv_agrees_with_grid_search(penalty):
    # the lasso on the breast cancer data's correlated columns is flat: fold fits whose objectives agree to
    # 1e-16 differ by 3e-6 in held-out log-loss; the lasso case runs on well-conditioned data
    X, y = _cancer() if penalty == "l2" else make_logistic_data(400, 12, seed=6)[:2]
    cv = LogisticRegressionCV(alphas=12, penalty=penalty, tol=1e-10).fit(X, y)
    alphas = list(cv.alphas_[0])
    grid = GridSearchCV(LogisticRegression(penalty=penalty, tol=1e-10), {"alpha": alphas}, scoring="neg_log_loss",
                        cv=StratifiedKFold(5)).fit(X, y)
    # GridSearchCV lists the alphas as given (largest first here too)
    np.testing.assert_allclose(cv.cv_results_["mean_score"], grid.cv_results_["mean_test_score"], rtol=0, atol=1e-6)
    assert cv.alpha_ == grid.best_params_["alpha"] and cv.l1_ratio_ == (1.0 if penalty == "l1" else 0.0)
    refit = LogisticRegression(alpha=cv.alpha_, penalty=penalty, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(cv.coef_, refit.coef_, atol=1e-5)
    assert cv.score(X, y) == refit.score(X, y)
    assert cv.coef_path_.shape == (1, 12, 1, X.shape[1])


def test_one_standard_error_rule():
    X, y = _cancer()
    best = LogisticRegressionCV(alphas=15, penalty="l1").fit(X, y)
    one_se = LogisticRegressionCV(alphas=15, penalty="l1", selection="1se").fit(X, y)
    r = best.cv_results_
    i, j = best.best_index_, one_se.best_index_
    assert one_se.alpha_ >= best.alpha_
    assert r["mean_score"][j] >= r["mean_score"][i] - r["std_error"][i]
    larger = r["alpha"] > one_se.alpha_
    assert np.all(r["mean_score"][larger] < r["mean_score"][i] - r["std_error"][i])
    assert r["n_active"][j] <= r["n_active"][i]


def test_cv_elastic_net_pipeline_clone_and_refit_false():
    X, y, _ = make_logistic_data(300, 5, seed=4)
    pipe = make_pipeline(StandardScaler(), LogisticRegressionCV(alphas=6, penalty="elasticnet", l1_ratios=[0.2, 1.0],
                                                                n_jobs=2))
    pipe.fit(X, y)
    model = pipe[-1]
    assert model.l1_ratio_ in (0.2, 1.0) and model.cv_results_["alpha"].shape == (12,)
    assert pipe.score(X, y) > 0.7  # scikit-learn's LogisticRegression: 0.75 on these data
    again = clone(model).set_params(refit=False).fit(StandardScaler().fit_transform(X), y)
    assert again.alpha_ == model.alpha_ and again.coef_.shape == model.coef_.shape
    model.set_params(refit=False).fit(StandardScaler().fit_transform(X), y)
    assert not hasattr(model, "coef_path_")  # nothing left from the refit=True fit
    with pytest.raises(ValueError, match="l1_ratios go with penalty='elasticnet'"):
        LogisticRegressionCV(penalty="l2", l1_ratios=[0.5]).fit(X, y)
    with pytest.raises(ValueError, match="needs l1_ratios"):
        LogisticRegressionCV(penalty="elasticnet").fit(X, y)
    with pytest.raises(ValueError, match="selection must be"):
        LogisticRegressionCV(selection="best").fit(X, y)


_WEIGHTS_CHANGE_FOLDS = "repeated rows land in other folds than weighted ones (as scikit-learn's LogisticRegressionCV)"


@parametrize_with_checks([LogisticRegressionCV(alphas=5)], expected_failed_checks=lambda est: {
    "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_CHANGE_FOLDS,
    "check_sample_weight_equivalence_on_sparse_data": _WEIGHTS_CHANGE_FOLDS})
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


_GLMNET = json.loads((Path(__file__).parent / "data" / "glmnet_reference.json").read_text())


@pytest.mark.parametrize("name", sorted(_GLMNET["cases"]))
def test_path_matches_glmnet(name):
    """glmnet (standardize=FALSE, thresh=1e-14) on its own lambda sequence, at logitgd's default tol: our
    objective is never above glmnet's by more than 1e-12 relative (measured: 4.4e-14), and below it by at
    most 1e-9 (measured: 2.6e-10, where glmnet's coefficients stop short: they are good to ~sqrt(thresh))."""
    import glm_data

    case = _GLMNET["cases"][name]
    X, y, sw = glm_data.glmnet_case(case)
    path = regularization_path(X, y, case["lambdas"], l1_ratio=case["l1_ratio"], sample_weight=sw)
    assert path.converged.all()
    assert path.alpha_max == pytest.approx(case["lambda_max"], rel=1e-12)
    J = np.asarray(case["J"])
    assert np.all(path.objective <= J * (1 + 1e-12)) and np.all(path.objective >= J * (1 - 1e-9))
    assert np.array_equal(path.n_active > 0, np.asarray(case["coef"]).reshape(len(J), -1).any(axis=1))
