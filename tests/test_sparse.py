"""scipy.sparse input: same fits as dense data, the one-pass CSR kernel, and memory."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from logitgd import LogisticRegression
from logitgd.backends.numpy import kernels as _kernels
from logitgd.objective import LogisticObjective, MultinomialObjective, Preconditioned
from logitgd.penalty import make_penalty


def _sparse_data(n=600, d=40, density=0.15, K=2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: rng.standard_normal(k))
    W = rng.standard_normal((d, K)) * 0.8
    Z = X @ W + rng.standard_normal((n, K)) * 0.5
    y = Z.argmax(axis=1) if K > 2 else (Z[:, 0] > Z[:, 1]).astype(int)
    return X, y


CASES = [
    ("gd", "l2"), ("lbfgs", "l2"), ("newton", "l2"), ("sgd", "l2"),
    ("gd", "l1"), ("newton", "l1"), ("sgd", "l1"), ("newton", None), ("lbfgs", "elasticnet"),
]


@pytest.mark.parametrize("K", [2, 4])
@pytest.mark.parametrize("solver, penalty", CASES)
def test_sparse_and_dense_give_the_same_fit(solver, penalty, K):
    if solver == "lbfgs" and penalty == "elasticnet":
        solver = "gd"
    X, y = _sparse_data(K=K)
    kw = {"solver": solver, "penalty": penalty, "alpha": 1e-2, "tol": 1e-12, "random_state": None}
    if penalty == "elasticnet":
        kw["l1_ratio"] = 0.5
    if solver == "sgd":
        kw.update(max_iter=30, tol=1e-4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sgd stopped at max_iter; the comparison is what matters
        dense = LogisticRegression(**kw).fit(X.toarray(), y)
        sparse = LogisticRegression(**kw).fit(X, y)
    # The same objective value to 1e-10 (relative) for every solver.
    pen = make_penalty(penalty, 1e-2, kw.get("l1_ratio"))
    y_enc = y if K > 2 else y.astype(float)
    obj = LogisticObjective(X, y_enc, penalty=pen) if K == 2 else MultinomialObjective(X, y, K, penalty=pen)
    J_dense, J_sparse = obj.cost(_theta(dense)), obj.cost(_theta(sparse))
    assert J_sparse == pytest.approx(J_dense, rel=1e-10)
    # The coefficients: to 1e-10 where the solver stops on a gradient of 1e-12
    # (Newton; L-BFGS where both fits say they reached it) or follows the same steps
    # (sgd); elsewhere a 1e-10 agreement of J pins them to about its square root.
    # (L-BFGS-B's own stop, on the relative decrease of J, can come first at a gradient of ~1e-9.)
    exact = ((solver == "newton" and penalty != "l1") or solver == "sgd"
             or (solver == "lbfgs" and K == 2 and dense.converged_ and sparse.converged_))
    scale = np.abs(dense.coef_).max()
    atol = (1e-10 if exact else 1e-6) * scale
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=0, atol=atol)
    np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(X.toarray()), atol=atol)


def _theta(model):
    return np.vstack([model.coef_.T, model.intercept_[None, :]]).ravel() if model.coef_.shape[0] > 1 else (
        np.append(model.coef_[0], model.intercept_))


def test_csc_int64_indices_and_float32_are_accepted():
    X, y = _sparse_data(K=3)
    ref = LogisticRegression(alpha=1e-2, tol=1e-12).fit(X, y)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    for Xv in (X.tocsc(), X64):
        m = LogisticRegression(alpha=1e-2, tol=1e-12).fit(Xv, y)
        np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    m32 = LogisticRegression(alpha=1e-2, tol=1e-8).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(m32.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("weighted", [False, True])
def test_csr_kernel_matches_the_numpy_path(dtype, index_dtype, weighted):
    X, y = _sparse_data(n=1500, d=300, density=0.03)
    X = X.astype(dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    sw = np.random.default_rng(1).random(len(y)) if weighted else None
    theta = np.random.default_rng(2).standard_normal(301) * 2
    fast = LogisticObjective(X, y, sw, penalty=make_penalty("l2", 0.1), use_kernel=True)
    slow = LogisticObjective(X, y, sw, penalty=make_penalty("l2", 0.1), use_kernel=False)
    assert fast.uses_kernel and not slow.uses_kernel
    f1, g1 = fast.value_and_grad(theta)
    f2, g2 = slow.value_and_grad(theta)
    assert f1 == pytest.approx(f2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)
    assert fast.value(theta) == pytest.approx(f1, rel=1e-14)


@pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")
def test_csr_gram_kernel_matches_the_dense_gram():
    """Row by row, with unsorted and repeated column indices, an empty row and rows of tiny weight."""
    rng = np.random.default_rng(3)
    X = sp.random(60, 9, density=0.3, format="csr", random_state=rng)
    X.data = rng.standard_normal(X.nnz)
    X = sp.csr_matrix(sp.diags((np.arange(60) != 5).astype(float)) @ X)  # row 5 empty
    X.eliminate_zeros()
    rows = [(X.indptr[i], X.indptr[i + 1]) for i in range(X.shape[0])]
    order = np.concatenate([rng.permutation(np.arange(a, b)) for a, b in rows])  # unsorted within each row
    messy = sp.csr_matrix((X.data[order], X.indices[order], X.indptr), shape=X.shape)
    messy.data, messy.indices = np.append(messy.data, [0.5]), np.append(messy.indices, [messy.indices[-1]])
    messy.indptr[-1] += 1  # the last row holds its last column twice: the two entries add up
    assert not messy.has_canonical_format
    h = rng.random(60)
    h[:3] = 1e-20  # below 1e-16 of the largest: left out, as the dense gram leaves them
    Xt = np.hstack([messy.toarray(), np.ones((60, 1))])
    keep = h > 1e-16
    expected = Xt[keep].T @ (h[keep, None] * Xt[keep])
    np.testing.assert_allclose(_kernels.csr_gram(messy, h, 1e-16), expected, rtol=1e-12, atol=1e-14)
    objective = LogisticObjective(messy, (rng.random(60) < 0.5).astype(float))
    np.testing.assert_allclose(objective.data.gram(h), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_grad_at_scores_is_value_and_grad(weighted):
    X, y = _sparse_data(n=400, d=50, density=0.1)
    sw = np.random.default_rng(4).random(len(y)) if weighted else None
    objective = LogisticObjective(X, y, sw, penalty=make_penalty("elasticnet", 0.01, 0.5))
    theta = np.random.default_rng(5).standard_normal(51)
    f1, g1 = objective.value_and_grad(theta)
    f2, g2 = objective.value_and_grad_at_scores(theta, objective.raw_prediction(theta))
    assert f2 == pytest.approx(f1, rel=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("K", [2, 3])
def test_peak_memory_of_a_sparse_fit_stays_under_twice_the_data(K):
    rng = np.random.default_rng(0)
    n, d, per_row = 20_000, 5_000, 20
    indices = rng.integers(0, d, n * per_row).astype(np.int32)
    X = sp.csr_matrix((rng.standard_normal(n * per_row), indices, np.arange(0, n * per_row + 1, per_row)),
                      shape=(n, d))
    y = rng.integers(0, K, n)
    data_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    coef_bytes = 8 * (d + 1) * K
    for solver in ("lbfgs", "gd"):
        tracemalloc.start()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LogisticRegression(alpha=1e-3, solver=solver, max_iter=20).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 2 * data_bytes + coef_bytes, (solver, peak, data_bytes)


def test_wide_sparse_data_uses_newton_cg_and_a_diagonal_preconditioner():
    X, y = _sparse_data(n=300, d=3000, density=0.005)
    obj = LogisticObjective(X, y.astype(float), penalty=make_penalty("l2", 1e-2))
    assert not Preconditioned(obj)._dense
    m = LogisticRegression(alpha=1e-2, solver="newton").fit(X, y)
    assert m.converged_ and m.coef_.shape == (1, 3000)
    ref = LogisticRegression(alpha=1e-2, solver="lbfgs", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)


def test_wide_sparse_lasso_uses_proximal_newton_over_columns():
    # one-hot-like 0/1 columns, uncentered: the case the column coordinate descent must handle
    rng = np.random.default_rng(5)
    n, d = 2000, 1500
    X = sp.random(n, d, density=0.01, format="csr", random_state=5, data_rvs=lambda k: np.ones(k))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ (rng.standard_normal(d) * 2) - 0.3)))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newton = LogisticRegression(alpha=2e-3, penalty="l1", tol=1e-10).fit(X, y)
        gd = LogisticRegression(alpha=2e-3, penalty="l1", solver="gd", tol=1e-10).fit(X, y)
    assert newton.solver_ == "newton" and newton.converged_
    obj = LogisticObjective(X, y.astype(float), penalty=make_penalty("l1", 2e-3))
    J_newton = obj.cost(_theta(newton))
    J_gd = obj.cost(_theta(gd))
    assert J_newton == pytest.approx(J_gd, rel=1e-9)
    assert (newton.coef_ == 0).mean() > 0.3
    np.testing.assert_array_equal(newton.coef_ == 0, gd.coef_ == 0)
    # multinomial sparse L1 above 1000 parameters has no column Newton: refused, clearly
    with pytest.raises(ValueError, match="sparse matrix with two classes"):
        LogisticRegression(alpha=2e-3, penalty="l1", solver="newton").fit(X, np.arange(n) % 3)
