import numpy as np
import pytest

from logitgd._numerics import log1pexp, log_sigmoid, sigmoid
from logitgd.loss import BinaryLogLoss


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_extreme_scores(dtype):
    z = np.array([-1e308 if dtype == np.float64 else -3e38, -1e4, -745, -40, -1, 0, 1, 40, 745,
                  1e4, 1e308 if dtype == np.float64 else 3e38], dtype=dtype)
    for f in (log1pexp, log_sigmoid, sigmoid):
        out = f(z)
        assert out.dtype == dtype
        assert np.all(np.isfinite(out)), f.__name__
    p = sigmoid(z)
    assert np.all((p >= 0) & (p <= 1))
    assert p[0] == 0 and p[-1] == 1
    # log1pexp(z) ~ z for large z, ~ exp(z) for very negative z
    assert log1pexp(z)[-2] == dtype(1e4)
    assert log_sigmoid(z)[1] == dtype(-1e4)


def test_match_reference_in_the_safe_range():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(log1pexp(z), np.logaddexp(0, z), rtol=1e-15)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(log_sigmoid(z), -np.logaddexp(0, -z), rtol=1e-15)


def test_tiny_tail_keeps_relative_precision():
    # log(1 + exp(-40)) must not round to 0: it is about 4.25e-18.
    assert log1pexp(np.array([-40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-15)
    assert sigmoid(np.array([-40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-14)


def test_loss_gradient_consistent():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(100) * 50
    y = (rng.random(100) < 0.5).astype(float)
    loss = BinaryLogLoss()
    lo, gr = loss.loss_gradient(y, z)
    np.testing.assert_allclose(lo, loss.loss(y, z), rtol=1e-14)
    np.testing.assert_allclose(gr, loss.gradient(y, z), rtol=1e-14, atol=1e-300)
    # -log p for y = 1 and -log(1 - p) for y = 0, each written without cancellation.
    ref = np.where(y == 1, np.logaddexp(0, -z), np.logaddexp(0, z))
    np.testing.assert_allclose(lo, ref, rtol=1e-13)
    p = sigmoid(z)
    np.testing.assert_allclose(loss.hessian(y, z), p * (1 - p), rtol=1e-14)
