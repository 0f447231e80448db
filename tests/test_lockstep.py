"""The lockstep ridge paths (logitgd.lockstep): LogisticRegressionCV's folds and whole-data path side by side.

Small data here, so the size gate (``MIN_SIZE``) is lowered; each case is checked against the same CV run one
path per fold (``applies`` off), against GridSearchCV, or against the plain estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
from conftest import make_logistic_data
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

import logitgd.lockstep as lockstep
from logitgd import LogisticRegression, LogisticRegressionCV
from logitgd.backends.numpy import kernels
from logitgd.exceptions import ConvergenceWarning
from logitgd.path import prepare


@pytest.fixture
def engaged(monkeypatch):
    """The lockstep on for small data; returns a function that runs a CV with it off (one path per fold)."""
    monkeypatch.setattr(lockstep, "MIN_SIZE", 0)
    calls = []
    applies = lockstep.applies

    def counted(setup):
        calls.append(applies(setup))
        return calls[-1]

    monkeypatch.setattr(lockstep, "applies", counted)

    def generic(cv, X, y, **fit):
        monkeypatch.setattr(lockstep, "applies", lambda setup: False)
        try:
            return cv.fit(X, y, **fit)
        finally:
            monkeypatch.setattr(lockstep, "applies", counted)

    generic.calls = calls
    return generic


def _data(n=600, d=8, seed=3):
    X, y, _ = make_logistic_data(n, d, seed=seed)
    X[:, 0] *= 30.0  # a badly scaled column, as real tables have
    return X, y


def _compare(a, b, atol=1e-7):
    assert a.alpha_ == b.alpha_
    np.testing.assert_allclose(a.cv_results_["mean_score"], b.cv_results_["mean_score"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.coef_path_, b.coef_path_, rtol=0, atol=atol)
    np.testing.assert_allclose(a.intercept_path_, b.intercept_path_, rtol=0, atol=atol)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=atol)
    assert a.converged_ and b.converged_


@pytest.mark.parametrize("case", ["dense", "float32", "sparse", "weights", "no_intercept", "class_weight", "kfold",
                                  "hessian_sample"])
def test_lockstep_matches_one_path_per_fold(engaged, monkeypatch, case):
    X, y = _data()
    fit, kw, cv = {}, {"tol": 1e-10}, StratifiedKFold(5)
    if case == "float32":
        X = X.astype(np.float32)
    elif case == "sparse":
        X = scipy.sparse.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    elif case == "weights":
        fit["sample_weight"] = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    elif case == "no_intercept":
        kw["fit_intercept"] = False
    elif case == "class_weight":
        kw["class_weight"] = {0: 1.0, 1: 2.5}
    elif case == "kfold":
        cv = KFold(4, shuffle=True, random_state=1)
    elif case == "hessian_sample":  # the Hessians from 150 of the rows, as large data's from HESSIAN_ROWS
        monkeypatch.setattr(lockstep, "HESSIAN_ROWS", 150)
    ours = LogisticRegressionCV(alphas=12, cv=cv, **kw).fit(X, y, **fit)
    assert engaged.calls == [True]
    _compare(ours, engaged(LogisticRegressionCV(alphas=12, cv=cv, **kw), X, y, **fit),
             atol=1e-5 if case == "float32" else 1e-7)
    if case == "no_intercept":
        assert np.all(ours.intercept_path_ == 0)


def test_lockstep_agrees_with_grid_search(engaged):
    X, y = _data(800, 10, seed=5)
    cv = LogisticRegressionCV(alphas=10, tol=1e-10).fit(X, y)
    assert engaged.calls == [True]
    grid = GridSearchCV(LogisticRegression(tol=1e-10), {"alpha": list(cv.alphas_[0])}, scoring="neg_log_loss",
                        cv=StratifiedKFold(5)).fit(X, y)
    np.testing.assert_allclose(cv.cv_results_["mean_score"], grid.cv_results_["mean_test_score"], rtol=0, atol=1e-6)
    assert cv.alpha_ == grid.best_params_["alpha"]
    refit = LogisticRegression(alpha=cv.alpha_, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(cv.coef_, refit.coef_, rtol=0, atol=1e-6)


def test_lockstep_fold_mean_and_scorer(engaged):
    X, y = _data(500, 6, seed=8)
    ours = LogisticRegressionCV(alphas=8, refit=False, scoring="roc_auc", tol=1e-10).fit(X, y)
    other = engaged(LogisticRegressionCV(alphas=8, refit=False, scoring="roc_auc", tol=1e-10), X, y)
    assert ours.alpha_ == other.alpha_
    np.testing.assert_allclose(ours.cv_results_["mean_score"], other.cv_results_["mean_score"], atol=1e-12)
    np.testing.assert_allclose(ours.coef_, other.coef_, atol=1e-7)
    assert not hasattr(ours, "path_")


def test_lockstep_reports_what_did_not_converge(engaged):
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        cv = LogisticRegressionCV(alphas=6, max_iter=1, tol=1e-12).fit(X, y)
    assert not cv.converged_ and cv.path_.n_iter.max() == 1


def test_applies_only_where_it_is_the_same_fit(monkeypatch):
    monkeypatch.setattr(lockstep, "MIN_SIZE", 0)
    X, y = _data()
    yes = {"solver": "auto", "tol": None, "max_iter": None, "fit_intercept": True, "class_weight": None,
           "device": "cpu", "storage_dtype": None}

    def applies(X=X, y=y, l1_ratio=0.0, **change):
        return lockstep.applies(prepare(X, y, n_alphas=3, l1_ratio=l1_ratio, params={**yes, **change}))

    assert applies()
    assert not applies(l1_ratio=0.5)
    assert not applies(y=np.arange(len(y)) % 3)  # three classes: the multinomial model
    assert not applies(solver="lbfgs")
    assert not applies(class_weight="balanced")
    monkeypatch.setattr(lockstep, "MIN_SIZE", 10 ** 9)
    assert not applies()


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")
def test_kernel_matches_numpy_pass():
    rng = np.random.default_rng(4)
    n, d = 1003, 7  # a row count that is not a multiple of the kernel's four
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.4).astype(float)
    S = rng.uniform(0, 2, (n, 5))
    S[rng.random((n, 5)) < 0.3] = 0.0
    theta = rng.standard_normal((3, d + 1))
    fits = lockstep._Fits(X, y, S, True)
    assert fits.kernel
    chosen = np.array([4, 0, 2])
    with_kernel = fits.evaluate(theta, chosen)
    fits.kernel = False
    without = fits.evaluate(theta, chosen)
    np.testing.assert_allclose(with_kernel[0], without[0], rtol=1e-13)
    np.testing.assert_allclose(with_kernel[1], without[1], rtol=1e-11, atol=1e-13)
    # and both are the weighted log-loss computed here
    z = X @ theta[:, :d].T + theta[:, d]
    expected = (S[:, chosen] * (np.logaddexp(0, z) - y[:, None] * z)).sum(0) / S[:, chosen].sum(0)
    np.testing.assert_allclose(without[0], expected, rtol=1e-13)


def test_ridge_paths_solve_each_weighting():
    X, y = _data(400, 5, seed=11)
    rng = np.random.default_rng(2)
    S = np.column_stack([rng.uniform(0.5, 1.5, len(y)), (rng.random(len(y)) < 0.7).astype(float)])
    alphas = [0.3, 0.05, 0.002]
    coef, intercept, objective, n_iter, converged = lockstep.ridge_paths(X, y, S, alphas, tol=1e-11)
    assert converged.all()
    for f in range(2):
        keep = S[:, f] > 0
        for k, alpha in enumerate(alphas):
            ref = LogisticRegression(alpha=alpha, tol=1e-12).fit(X[keep], y[keep], sample_weight=S[keep, f])
            np.testing.assert_allclose(coef[f, k], ref.coef_[0], atol=1e-8)
            np.testing.assert_allclose(intercept[f, k], ref.intercept_[0], atol=1e-8)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                z = X[keep] @ coef[f, k] + intercept[f, k]
            J = np.average(np.logaddexp(0, z) - y[keep] * z, weights=S[keep, f]) + alpha / 2 * coef[f, k] @ coef[f, k]
            assert objective[f, k] == pytest.approx(J, rel=1e-13)
