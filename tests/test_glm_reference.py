"""summary() against R's glm(family = binomial) on six real data sets (numbers in tests/data/glm_reference.json).

The references are written by ``python -m benchmarks.reference.glm_reference`` (R 4.2.2, MASS, sandwich); the
data sets ship with statsmodels (``tests/glm_data.py``). Profile bounds are checked against R's exact
ones (``uniroot`` on constrained ``glm.fit`` refits); ``MASS::confint`` interpolates a spline through
a grid of refits and is itself off the exact bounds by up to 8e-4 relative (the helper's measurement
in the JSON's script), so it is checked to 2e-3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("statsmodels")
import glm_data  # noqa: E402

from logitgd import LogisticRegression  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "data" / "glm_reference.json").read_text())["cases"]


def _rel(a, b, center=None):
    """Largest relative difference; with ``center``, relative to ``max(|b|, |b - center|)`` (an interval bound
    near zero is compared on the scale of its half-width)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.abs(b) if center is None else np.maximum(np.abs(b), np.abs(b - np.asarray(center)))
    return float(np.max(np.abs(a - b) / scale))


@pytest.fixture(scope="module", params=glm_data.NAMES)
def fitted(request):
    X, y = glm_data.load(request.param)
    return request.param, LogisticRegression(alpha=0).fit(X, y)


@pytest.fixture(scope="module")
def case(fitted):
    name, model = fitted
    return name, model.summary(), REFERENCE[name]


def test_sandwich_and_cluster_match_r_sandwich(fitted):
    """R's sandwich::vcovHC (HC0, HC1) and vcovCL (type HC1, groups = row mod 7)."""
    name, model = fitted
    ref = REFERENCE[name]
    assert _rel(model.summary(cov_type="HC0").bse, ref["se_hc0"]) < 1e-6
    assert _rel(model.summary(cov_type="HC1").bse, ref["se_hc1"]) < 1e-6
    groups = np.arange(ref["nobs"]) % 7
    assert _rel(model.summary(cov_type="cluster", groups=groups).bse, ref["se_cluster7"]) < 1e-6


def test_table_matches_glm(case):
    name, s, ref = case
    assert s.labels == ref["coef_names"]
    assert _rel(s.params, ref["coef"]) < 1e-6
    assert _rel(s.bse, ref["se"]) < 1e-6
    assert _rel(s.zvalues, ref["z"]) < 1e-6
    # R's standard errors use the IRLS weights of the step before the last (1e-7 relative on small data);
    # a p-value of 2e-8 amplifies that by z² ~ 30
    assert _rel(s.pvalues, ref["p"]) < 1e-5
    assert _rel(s.cov_params, ref["vcov"]) < 1e-6
    wald = s.conf_int()
    assert _rel(wald[:, 0], ref["wald_lower"], s.params) < 1e-6
    assert _rel(wald[:, 1], ref["wald_upper"], s.params) < 1e-6


def test_fit_statistics_match_glm(case):
    name, s, ref = case
    for ours, theirs in [(s.deviance, ref["deviance"]), (s.null_deviance, ref["null_deviance"]),
                         (s.aic, ref["aic"]), (s.bic, ref["bic"]), (s.llf, ref["loglik"])]:
        assert ours == pytest.approx(theirs, rel=1e-9)
    assert (s.df_resid, s.df_null, s.nobs) == (ref["df_residual"], ref["df_null"], ref["nobs"])


def test_profile_intervals_match_glm(case):
    name, s, ref = case
    for level, suffix in [(0.95, ""), (0.90, "_90")]:
        if f"profile_exact_lower{suffix}" not in ref:
            continue
        ci = s.conf_int(level=level, method="profile")
        assert _rel(ci[:, 0], ref[f"profile_exact_lower{suffix}"], s.params) < 1e-6
        assert _rel(ci[:, 1], ref[f"profile_exact_upper{suffix}"], s.params) < 1e-6
        assert _rel(ci[:, 0], ref[f"profile_mass_lower{suffix}"], s.params) < 2e-3
        assert _rel(ci[:, 1], ref[f"profile_mass_upper{suffix}"], s.params) < 2e-3
        if suffix:
            wald = s.conf_int(level=level)
            assert _rel(wald[:, 0], ref["wald_lower_90"], s.params) < 1e-6
