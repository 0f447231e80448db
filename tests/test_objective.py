import numpy as np
import pytest
from conftest import make_logistic_data

from logitgd.backends.numpy import kernels as _kernels
from logitgd.objective import LogisticObjective, Preconditioned
from logitgd.penalty import L2
from logitgd.solvers import _lasso_qp, gradient_descent

needs_kernel = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")


def central_differences(f, theta, h=1e-6):
    g = np.empty_like(theta)
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = h
        g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


@pytest.mark.parametrize("use_kernel", [False, pytest.param(True, marks=needs_kernel)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_gradient_matches_finite_differences(use_kernel, fit_intercept, weighted, alpha):
    X, y, _ = make_logistic_data(n=200, d=6, seed=1)
    rng = np.random.default_rng(2)
    sw = rng.uniform(0.1, 3, size=len(y)) if weighted else None
    obj = LogisticObjective(X, y, sample_weight=sw, fit_intercept=fit_intercept,
                            penalty=L2(alpha), use_kernel=use_kernel)
    assert obj.uses_kernel == use_kernel
    theta = rng.standard_normal(obj.n_params)
    f, g = obj.value_and_grad(theta)
    assert f == pytest.approx(obj.value(theta), rel=1e-14)
    fd = central_differences(obj.value, theta)
    assert np.max(np.abs(g - fd)) / np.max(np.abs(g)) < 1e-6


def test_value_is_the_seeds_mean_cross_entropy():
    X, y, _ = make_logistic_data(n=50, d=3)
    theta = np.array([0.2, -0.1, 0.4, 0.05])
    p = 1 / (1 + np.exp(-(X @ theta[:3] + theta[3])))
    J = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    grad = np.append(X.T @ (p - y) / len(y), np.mean(p - y))
    obj = LogisticObjective(X, y)
    f, g = obj.value_and_grad(theta)
    assert f == pytest.approx(J, rel=1e-13)
    np.testing.assert_allclose(g, grad, rtol=1e-12)


def test_per_example_derivatives_follow_the_computation_graph():
    """Seed 003: forward z -> a -> L, backward dz = a - y, dw = x dz, db = dz."""
    x = np.array([[1.5, -2.0]])
    w, b = np.array([0.3, 0.7]), -0.2
    for y in (0.0, 1.0):
        z = x[0] @ w + b
        a = 1 / (1 + np.exp(-z))
        dz = a - y
        obj = LogisticObjective(x, np.array([y]))
        loss, g = obj.value_and_grad(np.append(w, b))
        assert loss == pytest.approx(-(y * np.log(a) + (1 - y) * np.log(1 - a)), rel=1e-14)
        np.testing.assert_allclose(g[:2], x[0] * dz, rtol=1e-14)  # dw = x * dz
        assert g[2] == pytest.approx(dz, rel=1e-14)  # db = dz


def test_seed_worked_example_update():
    """Seed 001: x = 2, y = 1, p = 0.3, learning rate 0.1 -> beta_1 rises by 0.14."""
    obj = LogisticObjective(np.array([[2.0]]), np.array([1.0]))
    beta0 = np.log(0.3 / 0.7)  # intercept that makes p = 0.3 when beta_1 = 0
    theta = np.array([0.0, beta0])
    _, g = obj.value_and_grad(theta)
    assert g[0] == pytest.approx((0.3 - 1) * 2)  # -1.4
    res = gradient_descent(obj, theta, learning_rate=0.1, max_iter=1, tol=0)
    assert res.n_iter == 1
    assert res.x[0] - theta[0] == pytest.approx(0.14, rel=1e-12)
    assert res.x[1] - theta[1] == pytest.approx(0.07, rel=1e-12)


@pytest.mark.parametrize("use_kernel", [False, pytest.param(True, marks=needs_kernel)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_scores_and_scales_stay_finite(use_kernel, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    X[:, 0] *= 1e6  # a column in the wrong units
    y = (rng.random(300) < 0.5).astype(float)
    obj = LogisticObjective(X.astype(dtype), y, use_kernel=use_kernel)
    for theta in (np.array([1e-2, 1e3, -1e3, 5e2, 1e4]),   # |z| up to ~1e4 and beyond
                  np.array([1.0, 1.0, 1.0, 1.0, 0.0])):   # |z| ~ 1e6
        f, g = obj.value_and_grad(theta)
        assert np.isfinite(f) and np.all(np.isfinite(g))
        assert f > 100  # hugely wrong predictions cost a lot; nothing saturated to inf/nan


@needs_kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_equals_generic_path(dtype):
    X, y, _ = make_logistic_data(n=1003, d=7, seed=3, dtype=dtype)
    sw = np.random.default_rng(4).uniform(0, 2, size=len(y))
    theta = np.random.default_rng(5).standard_normal(8) * 20  # many saturated samples
    for weights in (None, sw):
        fast = LogisticObjective(X, y, sample_weight=weights, use_kernel=True)
        slow = LogisticObjective(X, y, sample_weight=weights, use_kernel=False)
        f1, g1 = fast.value_and_grad(theta)
        f2, g2 = slow.value_and_grad(theta)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert f1 == pytest.approx(f2, rel=rtol)
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())


@needs_kernel
def test_kernel_keeps_tiny_losses_precise():
    # Every sample confidently right: the loss is ~exp(-50) per sample, not 0.
    X = np.ones((10, 1))
    obj = LogisticObjective(X, np.ones(10), fit_intercept=False)
    assert obj.value(np.array([50.0])) == pytest.approx(np.exp(-50.0), rel=1e-12)


def test_float32_data_is_not_copied():
    X, y, _ = make_logistic_data(n=100, d=3, dtype=np.float32)
    obj = LogisticObjective(X, y)
    assert obj.X is X


def test_hessian_bound_dominates_hessian():
    X, y, _ = make_logistic_data(n=300, d=4, seed=6)
    sw = np.random.default_rng(7).uniform(0.5, 2, size=len(y))
    obj = LogisticObjective(X, y, sample_weight=sw, penalty=L2(0.1))
    M = obj.hessian_bound()
    A = np.c_[X, np.ones(len(y))]
    for theta in np.random.default_rng(8).standard_normal((5, 5)):
        p = 1 / (1 + np.exp(-(A @ theta)))
        H = (A * (sw * p * (1 - p))[:, None]).T @ A / sw.sum()
        H[:4, :4] += 0.1 * np.eye(4)
        assert np.linalg.eigvalsh(M - H).min() > -1e-12


@pytest.mark.parametrize("max_dense", [2048, 1])  # Cholesky factor, diagonal
def test_preconditioned_coordinates(max_dense):
    X, y, _ = make_logistic_data(n=200, d=4, seed=9)
    X[:, 1] *= 1000
    obj = LogisticObjective(X, y, penalty=L2(0.01))
    pre = Preconditioned(obj, max_dense=max_dense)
    theta = np.random.default_rng(10).standard_normal(5) * 1e-3
    v = pre.from_original(theta)
    np.testing.assert_allclose(pre.to_original(v), theta, rtol=1e-12)
    assert pre.value(v) == pytest.approx(obj.value(theta), rel=1e-14)
    fd = central_differences(pre.value, v, h=1e-6)
    g = pre.grad(v)
    assert np.max(np.abs(g - fd)) / np.max(np.abs(g)) < 1e-6


def test_collinear_columns_do_not_break_the_preconditioner():
    X, y, _ = make_logistic_data(n=200, d=3, seed=11)
    X = np.c_[X, X[:, 0] * 2.0, np.zeros(200)]  # duplicate direction and a zero column
    obj = LogisticObjective(X, y)
    pre = Preconditioned(obj)
    res = gradient_descent(pre, np.zeros(6), tol=1e-9)
    assert res.converged
    theta = pre.to_original(res.x)
    assert np.all(np.isfinite(theta))


@needs_kernel
def test_kernel_is_safe_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    X, y, _ = make_logistic_data(n=2000, d=5, seed=12)
    obj = LogisticObjective(X, y)
    theta = np.linspace(-1, 1, 6)
    expected = obj.value_and_grad(theta)[1]
    with ThreadPoolExecutor(4) as pool:
        grads = list(pool.map(lambda _: obj.value_and_grad(theta)[1], range(16)))
    for g in grads:
        np.testing.assert_array_equal(g, expected)


@needs_kernel
def test_kernel_without_prefetch_gives_the_same_numbers():
    X, y, _ = make_logistic_data(n=1001, d=9, seed=14)
    sw = np.random.default_rng(15).uniform(0, 2, size=len(y))
    w, b = np.linspace(-1, 1, 9), 0.3
    results = []
    for kernel in _kernels._kernel(True, True):  # with and without prefetch
        g = np.empty(10)
        loss = kernel(X, y.astype(float), sw, w, b, g, 8)
        results.append((loss, g))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-13)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_subsampled_hessian_bound_estimates_the_full_one():
    X, y, _ = make_logistic_data(n=20000, d=3, seed=16)
    obj = LogisticObjective(X, y, penalty=L2(0.5))
    full, sub = obj.hessian_bound(), obj.hessian_bound(max_rows=5000)
    np.testing.assert_allclose(sub, full, atol=0.03 * np.abs(full).max())
    np.testing.assert_allclose(np.diag(sub)[:3] - np.diag(full)[:3], 0, atol=0.05)
    assert sub[-1, -1] == pytest.approx(0.25)


def test_kernel_is_used_for_large_data_only():
    small, y, _ = make_logistic_data(n=100, d=3)
    assert not LogisticObjective(small, y).uses_kernel
    big = np.zeros((LogisticObjective.KERNEL_MIN_SIZE // 10, 10))
    assert LogisticObjective(big, np.zeros(len(big))).uses_kernel == _kernels.AVAILABLE
    assert not LogisticObjective(np.asfortranarray(big), np.zeros(len(big))).uses_kernel


@needs_kernel
def test_estimator_fit_is_the_same_through_the_kernel(monkeypatch):
    from logitgd import LogisticRegression

    X, y, _ = make_logistic_data(n=2000, d=6, seed=17)
    sw = np.random.default_rng(18).uniform(0.5, 2, size=len(y))
    generic = LogisticRegression(alpha=1e-3, tol=1e-10).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(LogisticObjective, "KERNEL_MIN_SIZE", 0)
    fused = LogisticRegression(alpha=1e-3, tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(fused.coef_, generic.coef_, rtol=1e-7)  # both at tol=1e-10
    np.testing.assert_allclose(fused.loss_history_[-1], generic.loss_history_[-1], rtol=1e-13)


def test_lasso_qp_coordinate_descent_satisfies_the_kkt_conditions():
    rng = np.random.default_rng(19)
    A = rng.standard_normal((50, 8))
    H = A.T @ A / 50 + 0.01 * np.eye(8)
    c = rng.standard_normal(8)
    lam = np.full(8, 0.3)
    lam[-1] = 0.0  # an unpenalized "intercept"
    for solve in (_lasso_qp._lasso_qp_cd(), _lasso_qp._lasso_qp_cd_py):
        u = np.zeros(8)
        solve(H, c, u, lam, 1e-13, 10_000)
        grad = c + H @ u
        nz = u != 0
        np.testing.assert_allclose(grad[nz], -lam[nz] * np.sign(u[nz]), atol=1e-10)
        assert np.all(np.abs(grad[~nz]) <= lam[~nz] + 1e-10)
        assert (~nz).any()
