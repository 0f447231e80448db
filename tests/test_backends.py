"""The objective on every backend (NumPy dense, SciPy CSR, PyTorch on the CPU, Dask) against the NumPy reference.

Each test takes the ``backend`` fixture and builds its objective through
:func:`make_objective`, the only code here that knows how a backend's
objective is constructed (issue 12: after the redesign only that function,
and :data:`NOT_OFFERED`, should change). The reference is always the
in-memory NumPy objective on the dense data.

Torch and Dask cases skip cleanly when those packages are missing; the Dask
cases share one LocalCluster of two worker processes, started only when a
Dask case runs. Every Dask evaluation is a round trip, so the cases below
are a few representative combinations rather than the full cross-product.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.sparse

from logitgd import backends
from logitgd.objective import LinearObjective
from logitgd.penalty import make_penalty
from logitgd.solvers import gradient_descent

BACKENDS = ["numpy", "csr", "torch", "dask"]
N, D = 120, 4


_DASK_DATA = {}  # (ids of X, y, sample_weight) -> (their DaskData, the arrays kept alive); emptied with the client


# -- the adaptor: the one place that knows how each backend builds its objective ------------------------------
def make_objective(backend, X, y, sample_weight, n_classes, fit_intercept, penalty):
    """The objective of ``(X, y, sample_weight)`` on ``backend`` (``n_classes == 1``: binary, y in {0., 1.};
    else y holds class indices). X is a dense float64 ndarray, converted here; penalty is a penalty object."""
    if backend == "dask":  # needs a current distributed client (the dask_client fixture)
        import dask.array as da

        from logitgd import LogisticRegression

        key = (id(X), id(y), id(sample_weight))  # the data are persisted on the workers once per module
        if key not in _DASK_DATA:
            rows = -(-X.shape[0] // 3)  # three row chunks
            parts = (da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows),
                     None if sample_weight is None else da.from_array(sample_weight, chunks=rows))
            _DASK_DATA[key] = (LogisticRegression()._validate_xy(*parts)[0], (X, y, sample_weight))
        data = _DASK_DATA[key][0]
    else:
        if backend == "torch":
            import torch

            X = torch.tensor(X)
        elif backend == "csr":
            X = scipy.sparse.csr_matrix(X)
        data = backends.as_data(X, y, sample_weight, n_classes, device="cpu")
    return LinearObjective(data, penalty, fit_intercept)


#: (backend, method) pairs a backend does not offer now (it raises NotImplementedError); the tests
#: check that they are refused, then skip. Remove an entry when the backend gains the method.
NOT_OFFERED = set()


# -- fixtures ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client(client):
    """conftest's cluster, and this module's persisted data emptied with it."""
    yield client
    _DASK_DATA.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """The backend's name; module-scoped, so the tests run grouped by backend (one cluster start)."""
    name = request.param
    if name == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)  # tiny problems, shared cores
    elif name == "dask":
        pytest.importorskip("distributed")
        pytest.importorskip("dask.array")
        request.getfixturevalue("dask_client")
    return name


# -- data and cases ------------------------------------------------------------------------------------------
@functools.cache
def _data(n_classes, weighted):
    """``(X, y, sample_weight)``: X with a third of its entries exactly zero (so CSR is really sparse),
    y drawn from a logistic (binary) or softmax model with one irrelevant feature."""
    rng = np.random.default_rng(12 + n_classes)
    X = rng.standard_normal((N, D)) * np.array([1.0, 2.0, 0.5, 1.5])
    X[rng.random((N, D)) < 1 / 3] = 0.0
    # feature 2 does not matter (the lasso sets it to zero)
    W, b = (([[1.0], [-0.6], [0.0], [0.5]], [0.3]) if n_classes == 1 else
            ([[0.8, -0.4, -0.4], [-0.3, 0.6, -0.3], [0.0, 0.0, 0.0], [0.4, 0.2, -0.6]], [0.2, -0.3, 0.1]))
    Z = X @ np.array(W) + np.array(b)
    if n_classes == 1:
        y = (rng.random(N) < 1 / (1 + np.exp(-Z[:, 0]))).astype(np.float64)
    else:
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        y = (rng.random((N, 1)) > np.cumsum(P, axis=1)).sum(axis=1).astype(np.intp)
        assert set(y) == set(range(n_classes))
    sw = rng.uniform(0.2, 3.0, N) if weighted else None
    X.setflags(write=False)  # shared by every test (y and sw stay writable: torch warns on read-only arrays)
    return X, y, sw


PENALTIES = {None: (None, 0.0, None), "l2": ("l2", 0.1, None), "l1": ("l1", 0.03, None),
             "elasticnet": ("elasticnet", 0.06, 0.5)}


def _l1_l2(name):
    _, alpha, l1_ratio = PENALTIES[name]
    if name is None:
        return 0.0, 0.0
    r = {"l2": 0.0, "l1": 1.0}.get(name, l1_ratio)
    return alpha * r, alpha * (1 - r)


class Case:
    def __init__(self, n_classes, weighted, fit_intercept, penalty):
        self.n_classes, self.weighted, self.fit_intercept, self.penalty_name = (
            n_classes, weighted, fit_intercept, penalty)
        self.K = max(n_classes, 1)
        self.X, self.y, self.sw = _data(n_classes, weighted)
        self.l1, self.l2 = _l1_l2(penalty)
        self.n_params = (D + fit_intercept) * self.K
        self.n_coef = D * self.K

    def penalty(self):
        return make_penalty(*PENALTIES[self.penalty_name])

    def objective(self, backend):
        return make_objective(backend, self.X, self.y, self.sw, self.n_classes, self.fit_intercept, self.penalty())

    def reference(self):
        return make_objective("numpy", self.X, self.y, self.sw, self.n_classes, self.fit_intercept, self.penalty())

    def theta(self, seed=0, scale=0.5, zeros=False):
        """A random theta; ``zeros``: some coefficients exactly zero (the lasso's other branch)."""
        theta = np.random.default_rng(seed).standard_normal(self.n_params) * scale
        if zeros:
            theta[:self.n_coef:3] = 0.0
        return theta


def _cases(*specs):
    return [pytest.param(Case(*s), id=f"K{s[0]}-{'sw' if s[1] else 'nosw'}-{'b' if s[2] else 'nob'}-{s[3]}")
            for s in specs]


# (n_classes, weighted, fit_intercept, penalty): each of binary and K = 3 with every penalty, with and
# without weights and intercept
CASES = _cases(
    (1, False, True, None),
    (1, True, True, "l2"),
    (1, True, False, "elasticnet"),
    (1, False, False, "l1"),
    (3, False, True, "l1"),
    (3, True, True, "elasticnet"),
    (3, True, False, "l2"),
    (3, False, False, None),
)
# where the lasso term matters
L1_CASES = [c for c in CASES if c.values[0].l1 > 0]
# finite differences (2 n_params evaluations: a round trip each on Dask) on half the cases: both K, with and
# without weights and intercept, every penalty with a smooth or non-smooth part
FD_CASES = [c for c in CASES if c.id in ("K1-sw-b-l2", "K1-sw-nob-elasticnet", "K3-nosw-b-l1", "K3-sw-nob-l2")]
assert len(FD_CASES) == 4


def _close(a, ref, rtol):
    """Elementwise ``rtol``, plus ``rtol`` of the largest entry (entries near zero)."""
    ref = np.asarray(ref, dtype=np.float64)
    np.testing.assert_allclose(a, ref, rtol=rtol, atol=rtol * np.abs(ref).max(initial=0.0))


def _rel_err(a, ref):
    return np.max(np.abs(np.asarray(a) - ref)) / np.max(np.abs(ref))


def _central_differences(f, theta, h=1e-6):
    """Central differences of f (scalar or vector valued) along each coordinate, stacked on axis 0."""
    out = []
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = h
        out.append((np.asarray(f(theta + e)) - np.asarray(f(theta - e))) / (2 * h))
    return np.array(out)


def _not_offered(backend, obj, method, *args):
    if (backend, method) in NOT_OFFERED:
        with pytest.raises(NotImplementedError):
            getattr(obj, method)(*args)
        pytest.skip(f"{backend} does not offer {method} (NOT_OFFERED)")


# -- tests -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_layout(backend, case):
    obj = case.objective(backend)
    assert obj.n_params == case.n_params
    assert obj.n_classes == case.K
    theta = case.theta()
    W, b = obj.split(theta)
    if case.n_classes == 1:
        np.testing.assert_array_equal(W, theta[:D])
        assert b == (theta[-1] if case.fit_intercept else 0.0)
    else:
        np.testing.assert_array_equal(W, theta[:case.n_coef].reshape(D, case.K))
        np.testing.assert_array_equal(b, theta[case.n_coef:] if case.fit_intercept else np.zeros(case.K))
    lam = obj.l1_weights()
    assert lam.shape == (case.n_params,)
    np.testing.assert_array_equal(lam[:case.n_coef], case.l1)
    np.testing.assert_array_equal(lam[case.n_coef:], 0.0)


@pytest.mark.parametrize("case", CASES)
def test_value_and_gradient_match_reference(backend, case):
    obj, ref = case.objective(backend), case.reference()
    theta = case.theta(seed=1)
    f_ref, g_ref = ref.value_and_grad(theta)
    f, g = obj.value_and_grad(theta)
    assert g.shape == (case.n_params,)
    assert f == pytest.approx(f_ref, rel=1e-12)
    _close(g, g_ref, 1e-12)
    assert obj.value(theta) == pytest.approx(f_ref, rel=1e-12)
    _close(obj.grad(theta), g_ref, 1e-12)


@pytest.mark.parametrize("case", FD_CASES)
def test_gradient_matches_finite_differences(backend, case):
    obj = case.objective(backend)
    theta = case.theta(seed=1)
    fd = _central_differences(obj.value, theta)
    assert _rel_err(obj.grad(theta), fd) < 1e-6


@pytest.mark.parametrize("case", CASES)
def test_cost_and_nonsmooth_value_are_the_lasso_term(backend, case):
    obj = case.objective(backend)
    theta = case.theta(seed=2)
    h = case.l1 * np.abs(theta[:case.n_coef]).sum()  # intercepts are never penalized
    assert obj.nonsmooth_value(theta) == pytest.approx(h, rel=1e-14, abs=0.0)
    assert obj.is_smooth == (case.l1 == 0)
    assert obj.cost(theta) == pytest.approx(obj.value(theta) + h, rel=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_prox_soft_thresholds_the_coefficients_only(backend, case):
    obj = case.objective(backend)
    theta = case.theta(seed=3)
    c = case.n_coef
    for step in (0.7, np.linspace(0.5, 3.0, case.n_params)):  # a scalar step, and one per parameter
        thr = np.broadcast_to(step, theta.shape)[:c] * case.l1
        out = obj.prox(theta, step)
        assert out.shape == theta.shape
        np.testing.assert_allclose(out[:c], np.sign(theta[:c]) * np.maximum(np.abs(theta[:c]) - thr, 0.0),
                                   rtol=1e-15, atol=0)
        np.testing.assert_array_equal(out[c:], theta[c:])  # intercepts untouched
    if case.l1:
        big = obj.prox(theta, 1e6)  # every coefficient thresholded to exactly zero, intercepts kept
        np.testing.assert_array_equal(big[:c], 0.0)
        np.testing.assert_array_equal(big[c:], theta[c:])


@pytest.mark.parametrize("case", CASES)
def test_optimality_is_the_smallest_subgradient(backend, case):
    """At a theta with some coefficients at zero: the formula, and the limit of the prox's gradient mapping."""
    obj = case.objective(backend)
    theta = case.theta(seed=4, zeros=True)
    g = obj.grad(theta)
    c, lam = case.n_coef, case.l1
    w, gw = theta[:c], g[:c]
    sub = np.where(w != 0, np.abs(gw + lam * np.sign(w)), np.maximum(np.abs(gw) - lam, 0.0))
    expected = max(sub.max(), np.abs(g[c:]).max(initial=0.0))
    opt = obj.optimality(theta, g)
    assert opt == pytest.approx(expected, rel=1e-12)
    assert opt > 1e-3  # not an optimum
    # (theta - prox(theta - t g, t)) / t tends to the smallest subgradient as t -> 0 (equal for small t)
    t = 1e-6
    mapping = (theta - obj.prox(theta - t * g, t)) / t
    assert np.max(np.abs(mapping)) == pytest.approx(opt, rel=1e-6)


@functools.cache
def _optimum(case):
    """The minimizer of J, from the NumPy reference: accelerated proximal gradient descent, then plain
    proximal steps of length 1 / L (L from Böhning's bound), which keep converging below the accelerated
    run's working-precision stop."""
    ref = case.reference()
    theta = gradient_descent(ref, np.zeros(case.n_params), tol=1e-12, max_iter=100_000).x
    step = 1.0 / np.linalg.eigvalsh(ref.hessian_bound()).max()
    for _ in range(2000):
        theta = ref.prox(theta - step * ref.grad(theta), step)
    assert ref.optimality(theta, ref.grad(theta)) < 1e-11
    return theta


@pytest.mark.parametrize("case", L1_CASES)
def test_optimality_is_zero_at_the_optimum_a_prox_fixed_point(backend, case):
    obj = case.objective(backend)
    theta = _optimum(case)
    c = case.n_coef
    assert (theta[:c] == 0).any() and (theta[:c] != 0).any()  # both branches of the lasso are exercised
    g = obj.grad(theta)
    assert obj.optimality(theta, g) < 1e-10
    t = 0.5
    np.testing.assert_allclose(obj.prox(theta - t * g, t), theta, rtol=0, atol=1e-10)
    # a coefficient moved off the optimum (a zero one made nonzero) is seen
    moved = theta.copy()
    moved[np.flatnonzero(theta[:c] == 0)[0]] = 0.05
    assert obj.optimality(moved, obj.grad(moved)) > 1e-3


@pytest.mark.parametrize("case", CASES)
def test_hessian_is_symmetric_and_its_operator_the_product(backend, case):
    obj, ref = case.objective(backend), case.reference()
    theta = case.theta(seed=5)
    H = obj.hessian(theta)
    assert H.shape == (case.n_params, case.n_params)
    _close(H, ref.hessian(theta), 1e-12)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-14 * np.abs(H).max())
    hessp = obj.hessian_operator(theta)
    rng = np.random.default_rng(6)
    for v in (rng.standard_normal(case.n_params), np.eye(case.n_params)[-1]):
        _close(hessp(v), H @ v, 1e-12)


@pytest.mark.parametrize("case", FD_CASES)
def test_hessian_matches_finite_differences_of_the_gradient(backend, case):
    obj = case.objective(backend)
    theta = case.theta(seed=5)
    fd = _central_differences(obj.grad, theta)  # row k: d grad / d theta_k
    assert _rel_err(obj.hessian(theta), fd) < 1e-6


@pytest.mark.parametrize("case", CASES)
def test_hessian_bound_dominates_the_hessian(backend, case):
    obj, ref = case.objective(backend), case.reference()
    M = obj.hessian_bound()
    p1 = D + case.fit_intercept
    assert M.shape == (p1, p1)  # one block; for K classes the bound is M ⊗ I_K
    _close(M, ref.hessian_bound(), 1e-12)
    full = np.kron(M, np.eye(case.K))  # theta is [W; b] row by row: K consecutive entries per row
    for seed, scale in ((7, 0.3), (8, 1.0), (9, 3.0)):
        H = obj.hessian(case.theta(seed=seed, scale=scale))
        lo = np.linalg.eigvalsh(full - H).min()
        assert lo >= -1e-10 * np.abs(full).max(), (scale, lo)
    H0 = obj.hessian(np.zeros(case.n_params))
    if case.n_classes == 1:  # p (1 - p) = 1/4 at zero scores: the bound is attained
        _close(H0, M, 1e-12)
    else:
        assert np.linalg.eigvalsh(full - H0).min() >= -1e-10 * np.abs(full).max()


@pytest.mark.parametrize("case", CASES)
def test_intercept_only_zeroes_the_intercepts_gradient(backend, case):
    obj = case.objective(backend)
    theta = obj.intercept_only()
    assert theta.shape == (case.n_params,)
    c = case.n_coef
    np.testing.assert_array_equal(theta[:c], 0.0)
    _close(theta, case.reference().intercept_only(), 1e-12)
    if not case.fit_intercept:
        np.testing.assert_array_equal(theta, 0.0)
        return
    if case.K > 1:
        assert abs(theta[c:].sum()) < 1e-12  # centered
    g = obj.grad(theta)
    np.testing.assert_allclose(g[c:], 0.0, rtol=0, atol=1e-12)
    assert np.abs(g[:c]).max() > 1e-3  # the coefficients' gradient is not zero there: the data matter


@pytest.mark.parametrize("case", CASES)
def test_raw_prediction_is_X_W_plus_b(backend, case):
    obj = case.objective(backend)
    theta = case.theta(seed=10)
    _not_offered(backend, obj, "raw_prediction", theta)
    W, b = obj.split(theta)
    expected = case.X @ W + b
    Z = obj.raw_prediction(theta)
    assert Z.shape == ((N,) if case.n_classes == 1 else (N, case.K))
    _close(Z, expected, 1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0].fit_intercept])
def test_column_sums_of_squares(backend, case):
    obj = case.objective(backend)
    s = np.ones(N) if case.sw is None else case.sw
    _close(obj.column_sums_of_squares(), s @ case.X ** 2, 1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0].fit_intercept][:2])
def test_a_new_statistic_is_one_function_for_every_backend(backend, case):
    """ARCHITECTURE.md's promise: a per-row statistic written once against the rows protocol runs on every
    backend through ``data.map`` (here the weighted sum of squared scores and the weighted squared-score
    moments ``Xᵀ (s ∘ z²)``, the shape of a sandwich estimator's meat or a score test's statistic)."""
    obj = case.objective(backend)
    theta = case.theta(seed=12)
    W, b = obj.split(theta)

    def weighted_squares(rows, W, b):  # the statistic: nothing in it names a backend
        z = rows.scores(W, b)
        z2 = z * z if z.ndim == 1 else (z * z).sum(1)
        s = z2 if rows.sw is None else z2 * rows.sw
        return s.sum(), rows.rmatvec(s)

    parts = obj.data.map(weighted_squares, W, b)
    assert len(parts) == obj.data.n_parts
    total = sum(float(p[0]) for p in parts)
    moments = np.sum([np.asarray(p[1]) for p in parts], axis=0)
    Z = case.X @ W + b
    z2 = Z * Z if Z.ndim == 1 else (Z * Z).sum(1)
    s = z2 if case.sw is None else z2 * case.sw
    assert total == pytest.approx(s.sum(), rel=1e-12)
    _close(moments, case.X.T @ s, 1e-12)
