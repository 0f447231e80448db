"""model.summary(): statistics against statsmodels, honesty where inference is not valid, every backend, the file."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse
from conftest import make_logistic_data

import logitgd
from logitgd import LogisticRegression
from logitgd.exceptions import InferenceError

sm = pytest.importorskip("statsmodels.api")


def _spector():
    d = sm.datasets.spector.load_pandas()
    return d.exog, d.endog.to_numpy()


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


# -- against statsmodels -----------------------------------------------------------------------
def test_binary_matches_statsmodels_logit():
    X, y = _spector()
    s = LogisticRegression(alpha=0).fit(X, y).summary()
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    assert s.labels == ["(Intercept)", "GPA", "TUCE", "PSI"]
    assert _rel(s.params, ref.params) < 1e-6
    assert _rel(s.bse, ref.bse) < 1e-6
    assert _rel(s.zvalues, ref.tvalues) < 1e-6
    assert _rel(s.pvalues, ref.pvalues) < 1e-6
    assert _rel(s.conf_int(), ref.conf_int().to_numpy()) < 1e-6
    assert _rel(s.cov_params, ref.cov_params().to_numpy()) < 1e-6
    for ours, theirs in [(s.llf, ref.llf), (s.llnull, ref.llnull), (s.aic, ref.aic), (s.bic, ref.bic),
                         (s.prsquared, ref.prsquared), (s.llr, ref.llr), (s.llr_pvalue, ref.llr_pvalue)]:
        assert ours == pytest.approx(theirs, rel=1e-9)
    assert (s.df_model, s.df_resid, s.nobs) == (ref.df_model, ref.df_resid, ref.nobs)
    frame = s.to_frame()
    assert list(frame.index) == s.labels and frame.loc["GPA", "odds_ratio"] == pytest.approx(np.exp(s.params[1]))
    assert s.odds_ratios().loc["PSI", "lower"] == pytest.approx(np.exp(s.conf_int()[3, 0]))


def test_sandwich_and_cluster_match_statsmodels():
    X, y = _spector()
    model = LogisticRegression(alpha=0).fit(X, y)
    exog = sm.add_constant(X)
    # statsmodels' Logit has no HC1 of its own: cov_type="HC1" falls back to HC0 (cov_white_simple without
    # correction), so HC0 is compared with it and HC1 with its HC0 times n / (n - k)
    hc0 = sm.Logit(y, exog).fit(disp=0, tol=1e-12, cov_type="HC0")
    assert _rel(model.summary(cov_type="HC0").cov_params, hc0.cov_params().to_numpy()) < 1e-6
    n, k = exog.shape
    assert _rel(model.summary(cov_type="HC1").cov_params, hc0.cov_params().to_numpy() * n / (n - k)) < 1e-6
    groups = np.arange(n) % 7
    cl = sm.Logit(y, exog).fit(disp=0, tol=1e-12, cov_type="cluster", cov_kwds={"groups": groups})
    s = model.summary(cov_type="cluster", groups=groups)
    assert _rel(s.cov_params, cl.cov_params().to_numpy()) < 1e-6
    assert s.n_groups == 7 and "7 groups" in str(s)
    # string labels are groups too, in any order
    labels = np.array(["abcdefg"[g] for g in groups])[::-1][::-1]
    assert _rel(model.summary(cov_type="cluster", groups=labels).bse, s.bse) < 1e-12


def test_multinomial_reference_class_matches_mnlogit():
    d = sm.datasets.anes96.load_pandas().data
    X = d[["logpopul", "selfLR", "age", "educ", "income"]]
    y = np.digitize(d["PID"], [2, 4])  # three classes
    model = LogisticRegression(alpha=0).fit(X, y)
    exog = sm.add_constant(X)
    ref = sm.MNLogit(y, exog).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    s = model.summary()
    assert s.labels[:2] == [(1, "(Intercept)"), (1, "logpopul")] and len(s.labels) == 12
    assert _rel(s.params, ref.params.to_numpy().T.ravel()) < 1e-6
    assert _rel(s.bse, ref.bse.to_numpy().T.ravel()) < 1e-6
    assert _rel(s.pvalues, ref.pvalues.to_numpy().T.ravel()) < 1e-5
    for ours, theirs in [(s.llf, ref.llf), (s.llnull, ref.llnull), (s.aic, ref.aic), (s.bic, ref.bic)]:
        assert ours == pytest.approx(theirs, rel=1e-9)
    assert (s.df_model, s.df_resid) == (ref.df_model, ref.df_resid)
    hc0 = sm.MNLogit(y, exog).fit(disp=0, method="newton", tol=1e-12, maxiter=100, cov_type="HC0")
    assert _rel(model.summary(cov_type="HC0").bse, hc0.bse.to_numpy().T.ravel()) < 1e-6
    assert s.to_frame().index.names == ["class", "term"]
    assert "Reference class: 0 " in str(s)


def test_profile_intervals_invert_the_likelihood_ratio_test():
    """At each bound, the constrained refit's deviance is chi2(1, level) above the minimum."""
    X, y = _spector()
    model = LogisticRegression(alpha=0).fit(X, y)
    s = model.summary()
    ci = s.conf_int(method="profile")
    wald = s.conf_int()
    assert np.all(ci[:, 0] < s.params) and np.all(s.params < ci[:, 1])
    assert not np.allclose(ci, wald, rtol=1e-2)  # 32 rows: the profile is far from quadratic
    exog = sm.add_constant(X).to_numpy()
    for j, bound in [(1, ci[1, 0]), (3, ci[3, 1])]:
        others = np.delete(exog, j, axis=1)
        fit = sm.GLM(y, others, family=sm.families.Binomial(), offset=bound * exog[:, j]).fit(tol=1e-12)
        assert fit.deviance - s.deviance == pytest.approx(3.841458820694124, abs=1e-7)
    ci90 = s.conf_int(level=0.90, method="profile")
    assert np.all(ci90[:, 0] > ci[:, 0]) and np.all(ci90[:, 1] < ci[:, 1])


# -- where inference is not valid ------------------------------------------------------------------
def test_complete_separation_prints_no_standard_errors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(alpha=0).fit(X, y)
    s = model.summary()
    assert s.separation == "complete" and "x1" in s.separating
    assert np.all(np.isnan(s.bse)) and np.all(np.isnan(s.conf_int(method="profile")))
    text = str(s)
    assert "completely separated by 'x1'" in text and "Std. Error" not in text
    # a ridge penalty's estimate exists on the same data (the default alpha): its table is shown, with
    # no word of separation, from the training data kept and from the data given again alike
    ridge = LogisticRegression().fit(X, y)
    for s in (ridge.summary(), ridge.summary(X, y)):
        assert s.separation is None and np.all(np.isfinite(s.bse)) and s.alpha == 1e-4
        assert "separated" not in str(s) and "Std. Error" in str(s)


def test_quasi_complete_separation_named():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 2))
    X[:, 0] = (rng.random(80) < 0.3).astype(float)  # a dummy: y is 1 whenever it is 1
    y = np.where(X[:, 0] == 1, 1, (rng.random(80) < 0.4).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(alpha=0).fit(X, y)
    s = model.summary()
    assert s.separation == "quasi-complete" and s.separating == ["x0"]
    assert "quasi-completely separated by 'x0'" in str(s) and np.all(np.isnan(s.bse))


def test_collinear_columns_are_named():
    X, y = _spector()
    X = X.assign(GPA2=2 * X["GPA"] - X["PSI"])
    model = LogisticRegression(alpha=0, solver="lbfgs", max_iter=50).fit(X, y)
    with pytest.raises(InferenceError, match=r"the columns 'GPA', 'PSI', 'GPA2' are collinear"):
        model.summary()
    X = X.drop(columns="GPA2").assign(zero=0.0)
    with pytest.raises(InferenceError, match="'zero' carry no information"):
        LogisticRegression(alpha=0).fit(X, y).summary()


def test_l1_and_ovr_refused_l2_conditional_on_alpha():
    X, y, _ = make_logistic_data(300, 4)
    for params in [dict(penalty="l1", alpha=0.01), dict(penalty="elasticnet", alpha=0.01, l1_ratio=0.5)]:
        with pytest.raises(InferenceError, match="post-selection inference is not valid"):
            LogisticRegression(**params).fit(X, y).summary()
    y3 = np.digitize(X[:, 0] + np.random.default_rng(0).standard_normal(300), [-0.5, 0.5])
    with pytest.raises(InferenceError, match="multi_class='ovr'"):
        LogisticRegression(multi_class="ovr").fit(X, y3).summary()
    alpha = 0.05
    model = LogisticRegression(alpha=alpha).fit(X, y)
    s = model.summary()
    # the penalized estimator's covariance, (I + Λ)⁻¹ I (I + Λ)⁻¹, from scratch
    Xt = np.column_stack([np.ones(300), X])
    beta = np.r_[model.intercept_, model.coef_[0]]
    p = 1 / (1 + np.exp(-Xt @ beta))
    info = Xt.T @ (Xt * (p * (1 - p))[:, None])
    A = info + np.diag([0.0] + [alpha * 300] * 4)
    expected = np.linalg.solve(A, np.linalg.solve(A, info).T)
    assert _rel(s.cov_params, expected) < 1e-9
    assert s.df_model == pytest.approx(np.trace(np.linalg.solve(A, info)) - 1)
    assert "conditional on alpha" in str(s)
    with pytest.raises(InferenceError, match="L2-penalized"):
        s.conf_int(method="profile")


def test_bad_arguments():
    X, y = _spector()
    model = LogisticRegression(alpha=0).fit(X, y)
    with pytest.raises(InferenceError, match="cov_type must be one of"):
        model.summary(cov_type="HC3")
    with pytest.raises(InferenceError, match="needs groups="):
        model.summary(cov_type="cluster")
    with pytest.raises(InferenceError, match="one entry per row"):
        model.summary(cov_type="cluster", groups=[1, 2])
    with pytest.raises(InferenceError, match="level must be in"):
        model.summary().conf_int(level=95)
    g = np.arange(32) % 3.0
    g[5] = np.nan
    with pytest.raises(InferenceError, match="missing values"):
        model.summary(cov_type="cluster", groups=g)


def test_too_many_parameters(monkeypatch):
    from logitgd import inference

    X, y, _ = make_logistic_data(100, 5)
    model = LogisticRegression(alpha=0).fit(X, y)
    monkeypatch.setattr(inference, "MAX_PARAMS", 5)
    with pytest.raises(InferenceError, match="6 parameters.*MAX_PARAMS=5"):
        model.summary()


# -- backends --------------------------------------------------------------------------------------
def _same(a, b, rtol=1e-8):
    assert _rel(a.cov_params, b.cov_params) < rtol
    assert a.llf == pytest.approx(b.llf, rel=1e-12) and a.llnull == pytest.approx(b.llnull, rel=1e-12)


def test_sparse_and_torch_equal_in_memory():
    X, y, _ = make_logistic_data(400, 4)
    X[X < -1] = 0.0
    groups = np.arange(400) % 13
    model = LogisticRegression(alpha=0).fit(X, y)
    inputs = [scipy.sparse.csr_matrix(X)]
    torch = None
    try:
        import torch
        inputs.append(torch.tensor(X))
    except ImportError:
        pass
    for Xb in inputs:
        for cov_type in ("nonrobust", "HC1", "cluster"):
            g = groups if cov_type == "cluster" else None
            _same(model.summary(Xb, y, cov_type=cov_type, groups=g), model.summary(cov_type=cov_type, groups=g))
        np.testing.assert_allclose(model.summary(Xb, y).conf_int(method="profile"),
                                   model.summary().conf_int(method="profile"), rtol=1e-8)
    if torch is None:
        pytest.skip("PyTorch is not installed: the sparse case ran, the torch case did not")


def test_dask_equals_in_memory(client):
    da = pytest.importorskip("dask.array")
    X, y, _ = make_logistic_data(600, 4, seed=3)
    groups = np.arange(600) % 29
    model = LogisticRegression(alpha=0).fit(X, y)
    on_dask = LogisticRegression(alpha=0).fit(da.from_array(X, chunks=(200, 4)), da.from_array(y, chunks=200))
    np.testing.assert_allclose(on_dask.coef_, model.coef_, rtol=1e-8)
    for cov_type in ("nonrobust", "HC1", "cluster"):
        g = groups if cov_type == "cluster" else None
        _same(on_dask.summary(cov_type=cov_type, groups=g), model.summary(cov_type=cov_type, groups=g))
    np.testing.assert_allclose(on_dask.summary().conf_int(method="profile"),
                               model.summary().conf_int(method="profile"), rtol=1e-8)


# -- keeping it ------------------------------------------------------------------------------------
def test_model_file_keeps_the_summary(tmp_path):
    X, y = _spector()
    model = LogisticRegression(alpha=0).fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    for cov_type in ("nonrobust", "HC0", "HC1"):
        assert str(loaded.summary(cov_type=cov_type)) == str(model.summary(cov_type=cov_type))
    with pytest.raises(InferenceError, match="need its data"):
        loaded.summary().conf_int(method="profile")
    with pytest.raises(InferenceError, match="cluster standard errors need the data"):
        loaded.summary(cov_type="cluster", groups=np.arange(32) % 4)
    # with the data again, everything
    np.testing.assert_allclose(loaded.summary(X, y).conf_int(method="profile"),
                               model.summary().conf_int(method="profile"), rtol=1e-10)


def test_pickle_drops_the_data_and_partial_fit_needs_them():
    X, y = _spector()
    model = LogisticRegression(alpha=0).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    assert not hasattr(again, "_fit_data")
    with pytest.raises(InferenceError, match=r"call model.summary\(X, y\)"):
        again.summary()
    assert _rel(again.summary(X, y).bse, model.summary().bse) < 1e-12
    pf = LogisticRegression(solver="sgd").partial_fit(X.to_numpy(), y, classes=[0.0, 1.0])
    with pytest.raises(InferenceError, match="partial_fit"):
        pf.summary()


def test_formula_names_and_prediction():
    pytest.importorskip("formulaic")
    d = sm.datasets.spector.load_pandas().data
    d = d.assign(level=np.where(d["TUCE"] > 22, "high", np.where(d["TUCE"] > 19, "mid", "low")))
    model = LogisticRegression.from_formula("GRADE ~ GPA + C(level) + GPA:PSI", d, alpha=0)
    s = model.summary()
    assert s.labels == ["(Intercept)", "GPA", "C(level)[T.low]", "C(level)[T.mid]", "GPA:PSI"]
    exog = np.column_stack([np.ones(32), d["GPA"], d["level"] == "low", d["level"] == "mid",
                            d["GPA"] * d["PSI"]]).astype(float)
    ref = sm.Logit(d["GRADE"].to_numpy(), exog).fit(disp=0, tol=1e-12)
    assert _rel(s.bse, ref.bse) < 1e-6
    np.testing.assert_allclose(model.predict_proba(d.drop(columns="GRADE"))[:, 1], ref.predict(exog), rtol=1e-6)


def test_a_bound_not_found_is_said_not_silent(monkeypatch):
    from logitgd import inference

    X, y = _spector()
    s = LogisticRegression(alpha=0).fit(X, y).summary()
    monkeypatch.setattr(inference, "_bound", lambda *args: np.nan)
    with pytest.warns(RuntimeWarning, match=r"bounds of parameters \[0, 1, 2, 3\].*not found"):
        assert np.all(np.isnan(s.conf_int(method="profile")))
