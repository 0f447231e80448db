"""The PyTorch path (logitgd._torch): the same objective and the same fits as the NumPy path.

Runs on the CPU build of PyTorch (CI) and, where a CUDA GPU exists, on it too
(the ``device`` parameter below); skips cleanly without PyTorch. The fused
Triton kernel is tested in test_triton.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny problems: no thread pool to wake (and a loaded 2-core CI machine)

from logitgd import LogisticRegression  # noqa: E402
from logitgd.backends.torch import device as _device  # noqa: E402
from logitgd.backends.torch import lib as _torch  # noqa: E402
from logitgd.exceptions import ConvergenceWarning  # noqa: E402
from logitgd.objective import LogisticObjective, MultinomialObjective, TorchLogisticObjective, TorchMultinomialObjective  # noqa: E402  # noqa: E402
from logitgd.penalty import L2, ElasticNet  # noqa: E402
from logitgd.solvers.sgd_epoch import batch_order  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
# relative agreement of the objective with the CPU (NumPy) fit, per dtype (issue 6)
RTOL = {np.float64: 1e-9, np.float32: 1e-5}


def _data(n=400, d=6, K=1, dtype=np.float64, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(1, 5, d)
    if sparse:
        X[np.abs(X) < 1.0] = 0.0
    W = rng.standard_normal((d, max(K, 1))) * 0.5
    Z = X @ W
    if K == 1:
        y = (rng.random(n) < 1 / (1 + np.exp(-Z[:, 0]))).astype(float)
    else:
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        y = np.array([rng.choice(K, p=p) for p in P])
    X = X.astype(dtype)
    return (scipy.sparse.csr_matrix(X) if sparse else X), y


def _objectives(K, X, y, **kw):
    if K == 1:
        return LogisticObjective(X, y, **kw), TorchLogisticObjective(X, y, device="cpu", **kw)
    return (MultinomialObjective(X, y, K, **kw), TorchMultinomialObjective(X, y, K, device="cpu", **kw))


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_matches_numpy(K, sparse, dtype, weights, fit_intercept):
    X, y = _data(K=K, dtype=dtype, sparse=sparse)
    rng = np.random.default_rng(1)
    sw = rng.random(len(y)) if weights else None
    ref, dev = _objectives(K, X, y, sample_weight=sw, fit_intercept=fit_intercept, penalty=L2(0.05))
    theta = rng.standard_normal(ref.n_params) * 0.3
    tol = 1e-12 if dtype == np.float64 else 1e-6
    f0, g0 = ref.value_and_grad(theta)
    f1, g1 = dev.value_and_grad(theta)
    assert abs(f1 - f0) <= tol * abs(f0)
    np.testing.assert_allclose(g1, g0, rtol=0, atol=tol * np.abs(g0).max())
    assert abs(dev.value(theta) - f0) <= tol * abs(f0)
    np.testing.assert_allclose(dev.raw_prediction(theta), ref.raw_prediction(theta), rtol=tol, atol=tol)
    H0 = ref.hessian(theta)
    np.testing.assert_allclose(dev.hessian(theta), H0, rtol=0, atol=tol * np.abs(H0).max())
    for other in (theta, theta + 0.5):  # the Hessian from the scores kept at theta, then its own pass
        dev.value_and_grad(other)
        assert dev.data._keep_scores and dev.data._last_scores[0] == dev.data._key(*dev.split(other))
        np.testing.assert_allclose(dev.hessian(theta), H0, rtol=0, atol=tol * np.abs(H0).max())
    v = rng.standard_normal(ref.n_params)
    h0 = ref.hessian_operator(theta)(v)
    np.testing.assert_allclose(dev.hessian_operator(theta)(v), h0, rtol=0, atol=tol * np.abs(h0).max())
    rows = np.sort(rng.choice(len(y), 50, replace=False))
    b0, bg0 = ref.batch_value_and_grad(theta, rows)
    b1, bg1 = dev.batch_value_and_grad(theta, rows)
    assert abs(b1 - b0) <= tol * abs(b0)
    np.testing.assert_allclose(bg1, bg0, rtol=0, atol=tol * np.abs(bg0).max())
    M0 = ref.hessian_bound(max_rows=100)
    np.testing.assert_allclose(dev.hessian_bound(max_rows=100), M0, rtol=1e-12, atol=1e-12 * np.abs(M0).max())
    np.testing.assert_allclose(dev.column_sums_of_squares(), ref.column_sums_of_squares()
                               if hasattr(ref, "column_sums_of_squares") else None, rtol=1e-12)
    np.testing.assert_array_equal(dev.intercept_only(), ref.intercept_only())


def _J(coef, intercept, X, y, K, alpha, l1_ratio):
    """J at a fitted model, by one float64 NumPy evaluator."""
    X64 = X.astype(np.float64)
    theta = np.vstack([coef.T, intercept[None, :]]).ravel()
    pen = ElasticNet(alpha, l1_ratio)
    obj = LogisticObjective(X64, y, penalty=pen) if K == 1 else MultinomialObjective(X64, y, K, penalty=pen)
    return obj.cost(theta)


CASES = [("gd", "l2"), ("gd", "l1"), ("lbfgs", "l2"), ("newton", "l2"), ("newton", "l1"), ("sgd", "l2"),
         ("sgd", "l1"), ("auto", "elasticnet")]


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("solver,penalty", CASES)
@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_matches_cpu(device, solver, penalty, K, sparse, dtype):
    """A device fit reaches the CPU fit's objective: 1e-9 relative (float64), 1e-5 (float32).

    SGD runs a fixed number of epochs (``tol=None``) from the same seed: the
    device takes the same batches, so it must land on the same iterate.
    """
    X, y = _data(K=K, dtype=dtype, sparse=sparse)
    alpha = 0.02
    kw = dict(solver=solver, alpha=alpha, penalty=penalty, random_state=0)
    if penalty == "elasticnet":
        kw["l1_ratio"] = 0.5
    if solver == "sgd":
        kw.update(max_iter=8, tol=None, batch_size=64)
    cpu = _fit(LogisticRegression(**kw), X, y)
    if device == "cpu":  # the torch path on the CPU: pass tensors
        Xt = (torch.sparse_csr_tensor(torch.from_numpy(X.indptr.astype(np.int64)),
                                      torch.from_numpy(X.indices.astype(np.int64)), torch.from_numpy(X.data),
                                      size=X.shape) if sparse else torch.from_numpy(X))
        dev = _fit(LogisticRegression(**kw), Xt, torch.from_numpy(np.asarray(y)))
    else:
        dev = _fit(LogisticRegression(device=device, **kw), X, y)
    assert isinstance(dev.coef_, np.ndarray) and isinstance(dev.intercept_, np.ndarray)
    assert dev.coef_.shape == cpu.coef_.shape and dev.solver_ == cpu.solver_
    l1_ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}[penalty]
    Xd = X.toarray() if sparse else X
    J_cpu = _J(cpu.coef_, cpu.intercept_, Xd, y, K, alpha, l1_ratio)
    J_dev = _J(dev.coef_, dev.intercept_, Xd, y, K, alpha, l1_ratio)
    assert abs(J_dev - J_cpu) <= RTOL[dtype] * J_cpu, (J_dev, J_cpu)
    np.testing.assert_array_equal(dev.predict(X[:20]), cpu.predict(X[:20]))


def test_tensor_input_not_copied_and_predicts_on_device():
    X, y = _data()
    Xt = torch.from_numpy(X)
    obj = TorchLogisticObjective(Xt, y, device="cpu")
    assert obj.data.M.data.data_ptr() == Xt.data_ptr()  # the same memory: no copy
    model = LogisticRegression().fit(Xt, torch.from_numpy(y))
    ref = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.decision_function(Xt), ref.decision_function(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.predict_proba(Xt), ref.predict_proba(X), rtol=1e-8, atol=1e-12)
    assert model.n_features_in_ == X.shape[1] and not hasattr(model, "feature_names_in_")


def test_sample_weight_and_partial_fit_on_torch():
    X, y = _data()
    sw = np.random.default_rng(3).random(len(y))
    a = LogisticRegression(alpha=0.01).fit(X, y, sample_weight=sw)
    b = LogisticRegression(alpha=0.01).fit(torch.from_numpy(X), y, sample_weight=torch.from_numpy(sw))
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-7, atol=1e-9)
    c = LogisticRegression(random_state=0).partial_fit(X, y, classes=[0.0, 1.0])
    d = LogisticRegression(random_state=0).partial_fit(torch.from_numpy(X), y, classes=[0.0, 1.0])
    np.testing.assert_allclose(d.coef_, c.coef_, rtol=1e-9, atol=1e-12)


def test_newton_reads_X_once_per_hessian(monkeypatch):
    # the generic path: per Newton iteration one X @ w (the line search's, whose scores the
    # Hessian reuses from its second call on), one Xᵀ r, and the Hessian's one product per block
    X, y = _data(n=3000, d=5)
    passes = {"mv": 0, "rmv": 0}

    def counting(name, product):
        def counted(self, *args):
            passes[name] += 1
            return product(self, *args)
        return counted

    for name in passes:
        monkeypatch.setattr(_device.DeviceMatrix, name, counting(name, getattr(_device.DeviceMatrix, name)))
    model = LogisticRegression(solver="newton", alpha=1e-3).fit(torch.from_numpy(X), y)
    ref = LogisticRegression(solver="newton", alpha=1e-3).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
    evaluations = model.n_iter_ + 1  # the start, and each accepted step (a unit step here)
    assert passes == {"mv": evaluations + 1, "rmv": evaluations}


def test_tensor_labels_and_autograd_tensors_as_on_the_host():
    from sklearn.exceptions import DataConversionWarning

    X, y = _data()
    Xt = torch.from_numpy(X)
    # tensors that require grad (a parameter, say) are data here: detached, not an autograd error
    Xg, yg = Xt.clone().requires_grad_(True), torch.from_numpy(y).requires_grad_(True)
    ref = LogisticRegression().fit(X, y)
    model = LogisticRegression().fit(Xg, yg)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(model.predict_proba(Xg), ref.predict_proba(X), rtol=1e-9)
    # bool labels keep their type; int64 ids above 2**53 stay distinct (compared as integers)
    yb = y.astype(bool)
    for labels in (yb, torch.from_numpy(yb)):
        m = LogisticRegression().fit(Xt, labels)
        assert m.classes_.dtype == bool and m.predict(Xt).dtype == bool
    big = y.astype(np.int64) + 10**17
    m = LogisticRegression().fit(Xt, torch.from_numpy(big))
    np.testing.assert_array_equal(m.classes_, [10**17, 10**17 + 1])
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-9)
    X3, y3 = _data(K=3)
    big3 = 3 * y3.astype(np.int64) + 2**60
    m3 = LogisticRegression().fit(torch.from_numpy(X3), torch.from_numpy(big3))
    np.testing.assert_allclose(m3.coef_, LogisticRegression().fit(X3, y3).coef_, rtol=1e-9)
    with pytest.warns(DataConversionWarning, match="column-vector"):
        LogisticRegression().fit(Xt, torch.from_numpy(y)[:, None])


def test_sparse_tensor_early_stopping_and_wide_lasso():
    X, y = _data(n=600, sparse=True)
    Xt = torch.sparse_csr_tensor(torch.from_numpy(X.indptr.astype(np.int64)), torch.from_numpy(X.indices.astype(np.int64)),
                                 torch.from_numpy(X.data), size=X.shape)
    kw = {"solver": "sgd", "early_stopping": True, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, b = LogisticRegression(**kw).fit(X, y), LogisticRegression(**kw).fit(Xt, y)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-9, atol=1e-12)
    wide = scipy.sparse.random(50, 1200, density=0.02, random_state=0, format="csr")
    wt = torch.sparse_csr_tensor(torch.from_numpy(wide.indptr.astype(np.int64)),
                                 torch.from_numpy(wide.indices.astype(np.int64)), torch.from_numpy(wide.data),
                                 size=wide.shape)
    with pytest.raises(ValueError, match="not a torch sparse tensor"):
        LogisticRegression(penalty="l1", alpha=0.01, solver="newton").fit(wt, np.arange(50) % 2)


def test_storage_dtype_bfloat16_close_to_float32():
    X, y = _data(n=2000, dtype=np.float32)
    ref = LogisticRegression(alpha=1e-3).fit(X, y)
    low = LogisticRegression(alpha=1e-3, storage_dtype="bfloat16", device="cpu").fit(X, y)
    J_ref = _J(ref.coef_, ref.intercept_, X, y, 1, 1e-3, 0.0)
    J_low = _J(low.coef_, low.intercept_, X, y, 1, 1e-3, 0.0)
    assert J_ref <= J_low <= J_ref * (1 + 1e-3)  # the fit to rounded data: close, never better


def test_bad_device_and_storage_dtype_are_clear():
    X, y = _data()
    with pytest.raises(ValueError, match="storage_dtype"):
        LogisticRegression(storage_dtype="int8").fit(X, y)
    with pytest.raises(ValueError, match="device="):
        LogisticRegression(device="nonsense").fit(X, y)
    with pytest.raises(ValueError, match="sparse"):
        LogisticRegression(storage_dtype="float16").fit(scipy.sparse.csr_matrix(X), y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            LogisticRegression(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        Xn = torch.from_numpy(X.copy())
        Xn[3, 2] = float("nan")
        LogisticRegression().fit(Xn, y)
    with pytest.raises(ValueError, match="features"):
        LogisticRegression().fit(X, y).predict(torch.from_numpy(X[:, :3].copy()))


def test_missing_torch_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_torch, "AVAILABLE", False)
    X, y = _data()
    with pytest.raises(ImportError, match=r"pip install 'logitgd\[gpu\]'"):
        LogisticRegression(device="cuda").fit(X, y)


def test_sgd_batches_match_cpu_order():
    order, bounds = batch_order(np.random.default_rng(5), 103, 10)
    perm = np.random.default_rng(5).permutation(103)
    expected = [np.sort(b) for b in np.array_split(perm, 11)]
    got = [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    assert len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_cli_device(capsys):
    from logitgd.cli import main

    code = main(["fit", "--device", "cuda", "--quiet"])
    err = capsys.readouterr().err
    if torch.cuda.is_available():
        assert code == 0, err
    else:
        assert code == 1 and "no CUDA GPU" in err
