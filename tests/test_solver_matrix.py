"""Every solver × penalty combination offered, against each other and against scikit-learn."""

import itertools
import warnings

import numpy as np
import pytest
from conftest import make_logistic_data
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from logitgd import LogisticRegression
from logitgd.objective import LogisticObjective
from logitgd.penalty import make_penalty

SUPPORTED = {
    None: ["gd", "sgd", "lbfgs", "newton"],
    "l2": ["gd", "sgd", "lbfgs", "newton"],
    "l1": ["gd", "sgd", "newton"],
    "elasticnet": ["gd", "sgd", "newton"],
}
ALPHA = {None: 0.0, "l2": 1e-2, "l1": 2e-2, "elasticnet": 2e-2}


def _data(dtype):
    X, y, _ = make_logistic_data(n=400, d=6, seed=21)
    X[:, 1] *= 30  # one badly scaled column
    return X.astype(dtype), y


def _fit(solver, penalty, X, y, **extra):
    kw = {"solver": solver, "penalty": penalty, "alpha": ALPHA[penalty]}
    if penalty == "elasticnet":
        kw["l1_ratio"] = 0.5
    if solver == "sgd":
        # the "auto" schedule halves the step whenever an epoch stops improving,
        # so a long patience drives the noise floor below the 1e-6 target
        kw.update(tol=1e-10, n_iter_no_change=20, max_iter=2000, random_state=0)
    else:
        kw["tol"] = 1e-10
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return LogisticRegression(**kw).fit(X, y)


def _cost(model, X, y, penalty):
    pen = make_penalty(penalty, ALPHA[penalty], 0.5 if penalty == "elasticnet" else None)
    obj = LogisticObjective(np.asarray(X, dtype=np.float64), y, penalty=pen)
    return obj.cost(np.append(model.coef_[0], model.intercept_))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", list(SUPPORTED))
def test_every_pair_of_solvers_agrees_on_the_objective(penalty, dtype):
    X, y = _data(dtype)
    costs = {s: _cost(_fit(s, penalty, X, y), X, y, penalty) for s in SUPPORTED[penalty]}
    for a, b in itertools.combinations(costs, 2):
        assert costs[a] == pytest.approx(costs[b], rel=1e-6), (a, b, costs)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_solvers_give_exact_zeros_in_the_same_places(penalty):
    X, y = _data(np.float64)
    X = np.c_[X, np.random.default_rng(3).standard_normal((len(y), 4))]  # pure-noise columns
    patterns = {}
    for s in ("gd", "newton"):
        patterns[s] = _fit(s, penalty, X, y).coef_[0] == 0
    assert patterns["gd"].any()
    np.testing.assert_array_equal(patterns["gd"], patterns["newton"])


def test_l1_matches_scikit_learn_saga():
    X, y = _data(np.float64)
    X = StandardScaler().fit_transform(np.c_[X, np.random.default_rng(4).standard_normal((len(y), 4))])
    alpha = ALPHA["l1"]
    ref = SkLogisticRegression(l1_ratio=1.0, C=1 / (len(y) * alpha), solver="saga", tol=1e-12,
                               max_iter=100000).fit(X, y)
    ours = _fit("newton", "l1", X, y)
    pen = make_penalty("l1", alpha)
    obj = LogisticObjective(X, y, penalty=pen)
    j_ref = obj.cost(np.append(ref.coef_[0], ref.intercept_))
    j_ours = obj.cost(np.append(ours.coef_[0], ours.intercept_))
    assert j_ours == pytest.approx(j_ref, rel=1e-6)
    assert j_ours <= j_ref * (1 + 1e-12)
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(ref.coef_) < 1e-8)


@pytest.mark.parametrize("solver, penalty", [("lbfgs", "l1"), ("lbfgs", "elasticnet")])
def test_unsupported_combinations_are_refused(solver, penalty):
    X, y = _data(np.float64)
    kw = {"l1_ratio": 0.5} if penalty == "elasticnet" else {}
    with pytest.raises(ValueError, match=f"solver='{solver}'.*(L1|smooth)"):
        LogisticRegression(solver=solver, penalty=penalty, alpha=0.1, **kw).fit(X, y)


def test_newton_refuses_l1_on_too_many_features():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 1001))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="solver='newton'.*1000"):
        LogisticRegression(solver="newton", penalty="l1", alpha=0.1).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("option, value", [("learning_rate", 0.1), ("batch_size", 8), ("eta0", 0.1),
                                           ("average", True), ("early_stopping", True)])
def test_options_a_solver_would_ignore_are_refused(solver, option, value):
    X, y = _data(np.float64)
    with pytest.raises(ValueError, match=option):
        LogisticRegression(solver=solver, **{option: value}).fit(X, y)


def test_auto_picks_a_solver_and_says_which():
    X, y = _data(np.float64)
    assert LogisticRegression(alpha=1e-3).fit(X, y).solver_ == "newton"  # small: Hessians are cheap
    big = np.repeat(X, 60, axis=0)  # 24,000 x 6, 7 parameters: still small
    assert LogisticRegression(alpha=1e-3).fit(big, np.repeat(y, 60)).solver_ == "newton"
    wide = np.c_[np.repeat(X, 5, axis=0), np.random.default_rng(6).standard_normal((2000, 300))]
    assert LogisticRegression(alpha=1e-3).fit(wide, np.repeat(y, 5)).solver_ == "lbfgs"
    assert LogisticRegression(alpha=1e-3, penalty="l1").fit(X, y).solver_ == "newton"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations only: not converged
        assert LogisticRegression(alpha=1e-3, learning_rate=1e-4, max_iter=3).fit(X, y).solver_ == "gd"
        assert LogisticRegression(alpha=1e-3, batch_size=8, max_iter=2, random_state=0).fit(X, y).solver_ == "sgd"


def test_elasticnet_needs_l1_ratio_and_l1_ratio_needs_elasticnet():
    X, y = _data(np.float64)
    with pytest.raises(ValueError, match="l1_ratio"):
        LogisticRegression(penalty="elasticnet", alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        LogisticRegression(penalty="l2", alpha=0.1, l1_ratio=0.5).fit(X, y)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_class_weight_equals_sample_weight(solver):
    X, y = _data(np.float64)
    a = LogisticRegression(solver=solver, alpha=1e-2, tol=1e-10, class_weight={0: 3.0, 1: 0.5}).fit(X, y)
    b = LogisticRegression(solver=solver, alpha=1e-2, tol=1e-10).fit(X, y, sample_weight=np.where(y == 0, 3.0, 0.5))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    bal = LogisticRegression(solver=solver, alpha=1e-2, tol=1e-10, class_weight="balanced").fit(X, y)
    counts = np.bincount(y)
    c = LogisticRegression(solver=solver, alpha=1e-2, tol=1e-10).fit(
        X, y, sample_weight=len(y) / (2 * counts[y]))
    np.testing.assert_allclose(bal.coef_, c.coef_, rtol=1e-7)


def test_partial_fit_in_ten_pieces_matches_fit():
    X, y = _data(np.float64)
    kw = dict(solver="sgd", alpha=1e-2, learning_rate="constant", eta0=0.05, batch_size=8, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0: runs all 20 epochs, "not converged"
        full = LogisticRegression(max_iter=20, tol=0.0, **kw).fit(X, y)
    pieces = LogisticRegression(**kw)
    for _ in range(20):
        for idx in np.array_split(np.arange(len(y)), 10):
            pieces.partial_fit(X[idx], y[idx], classes=[0, 1])
    j_full, j_pieces = _cost(full, X, y, "l2"), _cost(pieces, X, y, "l2")
    assert abs(j_full - j_pieces) <= 1e-3 * j_full


def test_partial_fit_needs_classes_first_and_refuses_other_solvers():
    X, y = _data(np.float64)
    with pytest.raises(ValueError, match="classes"):
        LogisticRegression(solver="sgd").partial_fit(X, y)
    with pytest.raises(ValueError, match="partial_fit.*sgd"):
        LogisticRegression(solver="newton").partial_fit(X, y, classes=[0, 1])
    model = LogisticRegression(solver="sgd", random_state=0).partial_fit(X[:50], y[:50], classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes_"):
        model.partial_fit(X[:5], np.array([0, 1, 2, 0, 1]))


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_every_full_batch_solver_stops_on_separation(solver):
    from sklearn.datasets import load_breast_cancer

    from logitgd import SeparationWarning

    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(SeparationWarning, match="separated"):
        model = LogisticRegression(solver=solver, alpha=0.0).fit(X, y)
    assert not model.converged_ and model.n_iter_ <= 80


@pytest.mark.parametrize("solver", ["gd", "sgd", "lbfgs", "newton"])
def test_every_solver_can_be_interrupted_and_keeps_a_finite_iterate(solver):
    X, y = _data(np.float64)

    def interrupt(state):
        if state.iteration == 2:
            raise KeyboardInterrupt

    kw = {"random_state": 0} if solver == "sgd" else {}
    with pytest.warns(UserWarning, match="interrupted"):
        model = LogisticRegression(solver=solver, alpha=1e-2, callback=interrupt, **kw).fit(X, y)
    assert not model.converged_ and model.n_iter_ <= 2
    assert np.all(np.isfinite(model.coef_))
