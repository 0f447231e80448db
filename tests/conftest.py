import os

# scikit-learn's array-API estimator check runs only when SciPy is imported
# with this set; set it before anything imports SciPy so that check is not skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest


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
