import os

# scikit-learn's array-API estimator check runs only when SciPy is imported
# with this set; set it before anything imports SciPy so that check is not skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import warnings

import numpy as np
import pytest

try:  # the property-based tests (tests/test_properties.py): bounded and reproducible in CI, long in scripts/fuzz.py
    from hypothesis import settings

    settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, print_blob=True)
    settings.register_profile("long", max_examples=int(os.environ.get("LOGITGD_FUZZ_EXAMPLES", "2000")), deadline=None,
                              print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the test extras
    pass


def make_logistic_data(n=500, d=5, seed=0, scale=1.0, dtype=np.float64):
    """Non-separable data drawn from a logistic model: (X, y, true_coef)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    coef = rng.standard_normal(d) * scale
    z = X @ coef + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    return X.astype(dtype), y, coef


@pytest.fixture
def logistic_data():
    return make_logistic_data()


@pytest.fixture(scope="module")
def client():
    """A real LocalCluster of two worker processes (one per test module that asks), current while in use."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        c = distributed.Client(cluster, set_as_default=False)
    with c.as_current():
        yield c
    c.close()
    cluster.close()
