"""penalty="firth": Firth's bias-reduced logistic regression against R's brglm2 (tests/data/firth_reference.json)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from conftest import make_logistic_data

pytest.importorskip("statsmodels")
import glm_data  # noqa: E402

import logitgd  # noqa: E402
from logitgd import LogisticRegression, SeparationWarning  # noqa: E402

_FILE = json.loads((Path(__file__).parent / "data" / "firth_reference.json").read_text())
REFERENCE, MULTINOMIAL = _FILE["cases"], _FILE["multinomial"]


def _rel(a, b, center=None):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.abs(b) if center is None else np.maximum(np.abs(b), np.abs(b - np.asarray(center)))
    return float(np.max(np.abs(a - b) / scale))


@pytest.mark.parametrize("name", glm_data.FIRTH_NAMES)
def test_matches_brglm2_and_the_profile_reference(name):
    X, y = glm_data.load_any(name)
    ref = REFERENCE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no separation warning, not even on endometrial or iris_setosa
        model = LogisticRegression(penalty="firth").fit(X, y)
    s = model.summary()
    assert model.converged_ and model.solver_ == "firth" and model.n_iter_ <= 50  # 39 on iris_setosa (brglm2: 68)
    assert s.labels == ref["coef_names"]
    assert _rel(s.params, ref["coef"]) < 1e-6
    assert _rel(s.bse, ref["se"]) < 1e-6
    ci = s.conf_int(method="profile")
    assert _rel(ci[:, 0], ref["profile_lower"], s.params) < 1e-6
    assert _rel(ci[:, 1], ref["profile_upper"], s.params) < 1e-6
    assert _rel(s.lr_tests()["chi2"], ref["lr_chisq"]) < 1e-6  # penalized likelihood-ratio tests
    table = s.as_text(conf_int="profile", tests="lr")
    assert "Pr(>Chisq)" in table and "likelihood-ratio tests; 95% profile intervals" in table


def test_endometrial_as_published():
    """Heinze & Schemper (2002), Table 1: NV 2.93, profile interval (0.61, 7.85); the MLE does not exist."""
    X, y = glm_data.endometrial()
    with pytest.warns(SeparationWarning, match="penalty='firth'"):
        LogisticRegression(alpha=0).fit(X, y)
    s = LogisticRegression(penalty="firth").fit(X, y).summary()
    nv = s.labels.index("NV")
    assert s.params[nv] == pytest.approx(2.929, abs=5e-4)
    lower, upper = s.conf_int(method="profile")[nv]
    assert lower == pytest.approx(0.610, abs=5e-4) and upper == pytest.approx(7.855, abs=5e-4)
    assert s.separation is None and np.all(np.isfinite(s.bse))
    assert "Firth's penalized likelihood" in str(s)


def test_complete_separation_gives_a_finite_estimate():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(penalty="firth").fit(X, y)
    assert model.converged_ and model.n_iter_ <= 25 and np.all(np.abs(model.coef_) < 20)


def test_weights_sparse_torch_and_dask_equal_in_memory(client):
    X, y, _ = make_logistic_data(300, 4, seed=5)
    X[X < -0.8] = 0.0
    base = LogisticRegression(penalty="firth").fit(X, y)
    ci = base.summary().conf_int(method="profile")
    # integer weights are replicated rows
    w = np.random.default_rng(0).integers(1, 4, 300)
    weighted = LogisticRegression(penalty="firth").fit(X, y, sample_weight=w)
    replicated = LogisticRegression(penalty="firth").fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, replicated.coef_, rtol=1e-7)
    others = [scipy.sparse.csr_matrix(X)]
    try:
        import torch
        others.append(torch.tensor(X))
    except ImportError:
        pass
    import dask.array as da
    others.append(da.from_array(X, chunks=(100, 4)))
    for Xb in others:
        yb = da.from_array(y, chunks=100) if hasattr(Xb, "dask") else y
        model = LogisticRegression(penalty="firth").fit(Xb, yb)
        np.testing.assert_allclose(model.coef_, base.coef_, rtol=1e-8)
        np.testing.assert_allclose(model.summary().bse, base.summary().bse, rtol=1e-8)
        np.testing.assert_allclose(model.summary().conf_int(method="profile"), ci, rtol=1e-8)


def test_refusals_and_the_model_file(tmp_path):
    X, y, _ = make_logistic_data(100, 3)
    with pytest.raises(ValueError, match="takes no alpha"):
        LogisticRegression(penalty="firth", alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="fitted by solver='firth'"):
        LogisticRegression(penalty="firth", solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="fitted by solver='firth'"):
        LogisticRegression(solver="firth").fit(X, y)
    model = LogisticRegression(penalty="firth").fit(X, y)
    logitgd.save(model, tmp_path / "m.json")
    loaded = logitgd.load(tmp_path / "m.json")
    assert loaded.penalty == "firth" and str(loaded.summary()) == str(model.summary())


def test_flic_mean_probability_is_the_observed_share():
    """FLIC (Puhr et al., 2017): Firth's coefficients, the intercept refitted so that mean(p) = mean(y)."""
    X, y = glm_data.endometrial()
    firth = LogisticRegression(penalty="firth").fit(X, y)
    flic = LogisticRegression(penalty="firth", firth_intercept="flic").fit(X, y)
    np.testing.assert_array_equal(flic.coef_, firth.coef_)
    assert flic.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-9)
    assert abs(firth.predict_proba(X)[:, 1].mean() - y.mean()) > 1e-3  # Firth's is pulled towards 1/2
    assert "FLIC" in flic.stop_reason_
    with pytest.raises(ValueError, match="firth_intercept must be"):
        LogisticRegression(penalty="firth", firth_intercept="flac").fit(X, y)
    with pytest.raises(logitgd.exceptions.InferenceError, match="FLIC"):
        flic.summary()


def test_penalized_likelihood_ratio_tests():
    """The penalized LR test inverts the profile penalized-likelihood interval: p < 0.05 exactly where 0 is
    outside the 95% interval (both from the same penalized likelihood, by separate refits)."""
    X, y = glm_data.endometrial()
    s = LogisticRegression(penalty="firth").fit(X, y).summary()
    tests = s.lr_tests()
    ci = s.conf_int(method="profile")
    outside = (ci[:, 0] > 0) | (ci[:, 1] < 0)
    np.testing.assert_array_equal(tests["p_value"].to_numpy() < 0.05, outside)
    assert tests.loc["EH", "chi2"] > 3.84 and tests.loc["PI", "p_value"] > 0.05


def test_multinomial_matches_brmultinom():
    """Three classes, reference class 0: brglm2's brmultinom(type = "AS_mean") on the ANES party data."""
    X, y = glm_data.anes96_party()
    model = LogisticRegression(penalty="firth").fit(X, y)
    s = model.summary()
    assert model.converged_ and model.n_iter_ <= 25
    assert [f"{c:g}:{t}" for c, t in s.labels] == MULTINOMIAL["vcov_names"]
    assert _rel(s.params, np.ravel(MULTINOMIAL["coef"])) < 1e-6
    assert _rel(s.bse, MULTINOMIAL["se"]) < 1e-6
    # the penalized profile runs in the reference parametrization too: intervals around the estimates
    ci = s.conf_int(method="profile")
    assert np.all(ci[:, 0] < s.params) and np.all(s.params < ci[:, 1])
