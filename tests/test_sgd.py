"""Mini-batch / stochastic gradient descent (logitgd.solvers.sgd)."""

import pickle

import numpy as np
import pytest
from conftest import make_logistic_data

from logitgd import DivergenceError
from logitgd.objective import LogisticObjective, Preconditioned
from logitgd.penalty import L1, L2, ElasticNet
from logitgd.solvers import gradient_descent
from logitgd.solvers.sgd import SGDState
from logitgd.solvers.sgd import stochastic_gradient_descent as sgd


@pytest.fixture(scope="module")
def l2_problem():
    """A small L2 problem and its optimal cost (accelerated gd, tol=1e-10)."""
    X, y, _ = make_logistic_data(n=300, d=4, seed=11)
    obj = LogisticObjective(X, y, penalty=L2(1e-2))
    ref = gradient_descent(obj, np.zeros(5), learning_rate="auto", tol=1e-10)
    assert ref.converged
    return obj, ref.fun


def _rel(J, Jopt):
    return (J - Jopt) / abs(Jopt)


def test_full_batch_constant_step_is_gradient_descent():
    X, y, _ = make_logistic_data(n=120, d=3, seed=1)
    obj = LogisticObjective(X, y, penalty=L2(1e-2))
    gd = gradient_descent(obj, np.zeros(4), learning_rate=0.5, max_iter=15, tol=0)
    res = sgd(obj, np.zeros(4), batch_size=120, learning_rate="constant", eta0=0.5, max_iter=15, tol=None,
              random_state=0)
    assert res.n_iter == 15 and res.status == "max_iter" and not res.converged
    np.testing.assert_allclose(res.x, gd.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.loss_history, gd.loss_history, rtol=1e-12)
    # any batch_size >= n_samples is the same
    big = sgd(obj, np.zeros(4), batch_size=10_000, learning_rate="constant", eta0=0.5, max_iter=15, tol=None)
    np.testing.assert_array_equal(big.x, res.x)


def test_full_batch_with_l1_is_ista():
    X, y, _ = make_logistic_data(n=120, d=5, seed=2)
    obj = LogisticObjective(X, y, penalty=L1(0.05))
    gd = gradient_descent(obj, np.zeros(6), learning_rate=1.0, max_iter=30, tol=0)
    res = sgd(obj, np.zeros(6), batch_size=120, learning_rate="constant", eta0=1.0, max_iter=30, tol=None)
    np.testing.assert_allclose(res.x, gd.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(res.x == 0, gd.x == 0)


def test_same_seed_same_result_other_seed_other_result(l2_problem):
    obj, _ = l2_problem
    kw = {"batch_size": 16, "max_iter": 5, "tol": None}
    a = sgd(obj, np.zeros(5), random_state=3, **kw)
    b = sgd(obj, np.zeros(5), random_state=3, **kw)
    c = sgd(obj, np.zeros(5), random_state=4, **kw)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.loss_history == b.loss_history
    assert not np.array_equal(a.x, c.x)
    # a Generator (or RandomState) is used as given
    d = sgd(obj, np.zeros(5), random_state=np.random.default_rng(3), **kw)
    np.testing.assert_array_equal(a.x, d.x)
    e = sgd(obj, np.zeros(5), random_state=np.random.RandomState(3), **kw)
    assert np.all(np.isfinite(e.x))


@pytest.mark.parametrize("learning_rate, eta0, batch_size", [
    ("auto", None, 1),
    ("auto", None, 16),
    ("auto", None, 300),
    ("constant", 0.3, 32),
    ("invscaling", 1.0, 16),
    ("adaptive", 0.5, 16),
])
def test_every_schedule_reaches_the_optimum(l2_problem, learning_rate, eta0, batch_size):
    obj, Jopt = l2_problem
    res = sgd(obj, np.zeros(5), batch_size=batch_size, learning_rate=learning_rate, eta0=eta0,
              max_iter=300, tol=1e-5, random_state=0)
    assert res.converged, res.message
    assert res.n_iter == len(res.loss_history) - 1
    assert res.fun == pytest.approx(obj.cost(res.x), rel=1e-12)
    assert 0 <= _rel(res.fun, Jopt) < 1e-3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("precondition", [False, True])
def test_auto_needs_no_tuning_on_badly_scaled_data(dtype, precondition):
    X, y, _ = make_logistic_data(n=400, d=4, seed=5)
    X[:, 0] *= 1000
    X[:, 2] = X[:, 2] * 1e-3 + 5
    obj = LogisticObjective(X.astype(dtype), y, penalty=L2(1e-3))
    pre = Preconditioned(obj)
    Jopt = gradient_descent(pre, np.zeros(5), tol=1e-10).fun
    problem = pre if precondition else obj
    res = sgd(problem, np.zeros(5), batch_size=32, tol=1e-5, random_state=0)
    assert res.converged and np.all(np.isfinite(res.x))
    assert _rel(res.fun, Jopt) < 1e-3
    # "auto" keeps the best iterate: the recorded cost never goes up
    assert np.all(np.diff(res.loss_history) <= 0)


def test_l1_gives_exact_zeros_near_the_fista_optimum():
    X, y, _ = make_logistic_data(n=400, d=4, seed=6)
    X = np.c_[X, np.random.default_rng(0).standard_normal((400, 4))]  # pure-noise columns
    l1 = 0.03
    obj = LogisticObjective(X, y, penalty=L1(l1))
    ref = gradient_descent(obj, np.zeros(9), learning_rate="auto", tol=1e-10, max_iter=100_000)
    zeros = ref.x[:-1] == 0
    # zero with a margin: the gradient there is well inside [-l1, l1]
    clear = zeros & (np.abs(obj.grad(ref.x)[:-1]) < 0.8 * l1)
    assert clear.sum() >= 3
    for lr, eta0, batch_size in (("auto", None, 100), ("constant", 0.5, 200)):
        res = sgd(obj, np.zeros(9), batch_size=batch_size, learning_rate=lr, eta0=eta0, tol=1e-6, max_iter=300,
                  random_state=1)
        assert _rel(res.fun, ref.fun) < 1e-3
        ours = res.x[:-1] == 0
        assert ours.any() and not np.any(ours & ~zeros)  # exact zeros, only where the optimum has them
        if lr == "auto":
            assert np.all(ours[clear])


def test_elastic_net_keeps_both_penalty_parts():
    X, y, _ = make_logistic_data(n=300, d=6, seed=7)
    obj = LogisticObjective(X, y, penalty=ElasticNet(0.05, 0.5))
    ref = gradient_descent(obj, np.zeros(7), tol=1e-10, max_iter=100_000)
    res = sgd(obj, np.zeros(7), batch_size=50, tol=1e-6, max_iter=300, random_state=2)
    assert res.fun == pytest.approx(obj.cost(res.x), rel=1e-12)
    assert obj.nonsmooth_value(res.x) > 0
    assert _rel(res.fun, ref.fun) < 1e-3


def test_averaging_reduces_the_noise_of_single_row_sgd(l2_problem):
    obj, Jopt = l2_problem
    excess = {}
    for average in (False, True):
        excess[average] = [_rel(sgd(obj, np.zeros(5), batch_size=1, learning_rate="constant", eta0=0.1,
                                    max_iter=10, tol=None, average=average, random_state=seed).fun, Jopt)
                           for seed in range(4)]
    assert np.mean(excess[True]) < 0.25 * np.mean(excess[False])
    assert max(excess[True]) < min(excess[False])


def test_average_starts_after_the_first_epoch(l2_problem):
    obj, _ = l2_problem
    kw = {"batch_size": 50, "learning_rate": "constant", "eta0": 0.5, "tol": None, "random_state": 0}
    one = sgd(obj, np.zeros(5), max_iter=1, average=True, **kw)
    plain = sgd(obj, np.zeros(5), max_iter=1, **kw)
    np.testing.assert_array_equal(one.x, plain.x)
    assert one.state.avg is None
    two = sgd(obj, np.zeros(5), max_iter=2, average=True, **kw)
    assert two.state.avg_count == 6  # the second epoch's updates: 300 rows / 50
    np.testing.assert_array_equal(two.x, two.state.avg)
    assert not np.array_equal(two.x, two.state.x)


def test_early_stopping_returns_the_best_validation_iterate():
    # Few rows, many columns, no penalty: the training cost keeps falling while
    # the held-out cost turns up.
    X, y, _ = make_logistic_data(n=260, d=30, seed=8, scale=0.3)
    train = LogisticObjective(X[:60], y[:60])
    held = LogisticObjective(X[60:], y[60:])
    seen = []
    res = sgd(train, np.zeros(31), batch_size=10, learning_rate="constant", eta0=0.1, max_iter=200, tol=1e-4,
              n_iter_no_change=5, validation=held, random_state=0,
              callback=lambda s: seen.append((s.x.copy(), held.cost(s.x))))
    vcost = [held.cost(np.zeros(31))] + [v for _, v in seen]
    best = int(np.argmin(vcost))
    assert res.converged and res.n_iter < 200
    assert 1 < best < len(vcost) - 1  # the validation cost did turn up
    np.testing.assert_array_equal(res.x, seen[best - 1][0])
    assert res.fun == pytest.approx(train.cost(res.x), rel=1e-12)
    assert res.state.best_validation == pytest.approx(vcost[best], rel=1e-12)
    assert res.state.validation_history == pytest.approx(vcost, rel=1e-12)
    # it stopped n_iter_no_change epochs after the last improvement
    assert res.n_iter == best + 5
    # without validation the training cost goes on falling
    plain = sgd(train, np.zeros(31), batch_size=10, learning_rate="constant", eta0=0.1, max_iter=len(seen),
                tol=None, random_state=0)
    assert plain.fun < res.fun
    # a plain callable works as well
    again = sgd(train, np.zeros(31), batch_size=10, learning_rate="constant", eta0=0.1, max_iter=200, tol=1e-4,
                validation=held.cost, random_state=0)
    np.testing.assert_array_equal(again.x, res.x)


@pytest.mark.parametrize("options", [
    {"learning_rate": "auto", "average": True},
    {"learning_rate": "invscaling", "eta0": 0.5},
    {"learning_rate": "adaptive", "eta0": 2.0, "n_iter_no_change": 2, "tol": 1e-3},
    {"learning_rate": "auto", "validation": "held"},
])
def test_one_epoch_calls_continue_exactly(options):
    X, y, _ = make_logistic_data(n=200, d=4, seed=9)
    obj = LogisticObjective(X[:150], y[:150], penalty=ElasticNet(1e-2, 0.3))
    options = dict(options)
    if options.get("validation") == "held":
        options["validation"] = LogisticObjective(X[150:], y[150:], penalty=ElasticNet(1e-2, 0.3))
    kw = dict(batch_size=8, random_state=5, **options)
    E = 12
    whole = sgd(obj, np.zeros(5), max_iter=E, **kw)
    state, history, xs = None, [], []
    for _ in range(whole.n_iter):
        part = sgd(obj, np.zeros(5), max_iter=1, state=state, **kw)
        history = history + part.loss_history[len(history) > 0:]
        state = part.state
        xs.append(part.x)
    np.testing.assert_array_equal(part.x, whole.x)
    np.testing.assert_array_equal(state.x, whole.state.x)
    assert history == whole.loss_history
    assert part.status == whole.status and state.t == whole.state.t and state.eta == whole.state.eta
    # the state handed in is not modified: continuing it twice gives the same
    again = sgd(obj, None, max_iter=1, state=state, **kw)
    again2 = sgd(obj, None, max_iter=1, state=state, **kw)
    np.testing.assert_array_equal(again.x, again2.x)
    # and a pickled state continues the same way (the estimator may be pickled between partial_fit calls)
    again3 = sgd(obj, None, max_iter=1, state=pickle.loads(pickle.dumps(state)), **kw)
    np.testing.assert_array_equal(again.x, again3.x)
    assert again.loss_history == again3.loss_history


def test_state_continues_on_a_new_objective():
    X, y, _ = make_logistic_data(n=200, d=3, seed=10)
    first = LogisticObjective(X[:100], y[:100])
    second = LogisticObjective(X[100:], y[100:])
    a = sgd(first, np.zeros(4), max_iter=1, random_state=0)
    b = sgd(second, None, max_iter=1, state=a.state)
    assert isinstance(b.state, SGDState) and b.state.epoch == 2
    assert b.loss_history[0] == pytest.approx(second.cost(a.state.x))
    assert b.fun == pytest.approx(second.cost(b.x))


def test_huge_constant_step_raises_divergence_naming_the_learning_rate():
    X, y, _ = make_logistic_data(n=200, d=3, seed=12)
    X[:, 0] *= 1000
    obj = LogisticObjective(X, y)
    with pytest.raises(DivergenceError, match=r"learning_rate='constant'.*eta0=1000.*'auto'"):
        sgd(obj, np.zeros(4), learning_rate="constant", eta0=1000.0, random_state=0)
    # "auto" copes with the same data
    res = sgd(obj, np.zeros(4), random_state=0)
    assert np.all(np.isfinite(res.x)) and res.fun < obj.cost(np.zeros(4))


def test_non_finite_gradient_raises_divergence():
    X, y, _ = make_logistic_data(n=50, d=2, seed=13)

    class Broken(LogisticObjective):
        def batch_value_and_grad(self, theta, rows):
            f, g = super().batch_value_and_grad(theta, rows)
            return f, g * np.nan

    with pytest.raises(DivergenceError, match="non-finite"):
        sgd(Broken(X, y), np.zeros(3), learning_rate="constant", eta0=0.1)


@pytest.mark.parametrize("kwargs, name", [
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"learning_rate": "optimal"}, "learning_rate"),
    ({"learning_rate": "constant"}, "eta0"),
    ({"learning_rate": "invscaling", "eta0": -1.0}, "eta0"),
    ({"learning_rate": "adaptive", "eta0": float("nan")}, "eta0"),
    ({"learning_rate": "auto", "eta0": 0.1}, "eta0"),
    ({"power_t": -0.5}, "power_t"),
    ({"max_iter": 0}, "max_iter"),
    ({"tol": -1.0}, "tol"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"average": 1}, "average"),
    ({"random_state": "seed"}, "random_state"),
    ({"validation": 3}, "validation"),
    ({"callback": 3}, "callback"),
    ({"state": object()}, "state"),
])
def test_bad_parameters_raise_value_error_naming_them(kwargs, name):
    X, y, _ = make_logistic_data(n=30, d=2, seed=14)
    with pytest.raises(ValueError, match=name):
        sgd(LogisticObjective(X, y), np.zeros(3), **kwargs)


def test_state_from_another_schedule_is_refused(l2_problem):
    obj, _ = l2_problem
    res = sgd(obj, np.zeros(5), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="learning_rate"):
        sgd(obj, None, learning_rate="constant", eta0=0.1, state=res.state)


def test_callback_sees_each_epoch_and_can_stop(l2_problem):
    obj, _ = l2_problem
    seen = []
    res = sgd(obj, np.zeros(5), batch_size=20, random_state=0,
              callback=lambda s: seen.append((s.iteration, s.fun)) or s.iteration == 3)
    assert res.status == "stopped" and res.n_iter == 3 and not res.converged
    assert [i for i, _ in seen] == [1, 2, 3]
    assert [f for _, f in seen] == res.loss_history[1:]


def test_interrupt_keeps_a_finite_iterate(l2_problem):
    obj, _ = l2_problem

    def interrupt(state):
        if state.iteration == 2:
            raise KeyboardInterrupt

    res = sgd(obj, np.zeros(5), batch_size=20, random_state=0, callback=interrupt)
    assert res.status == "interrupted" and not res.converged and res.n_iter == 2
    assert np.all(np.isfinite(res.x)) and res.fun == pytest.approx(obj.cost(res.x))

    class Interrupting(LogisticObjective):
        calls = 0

        def batch_value_and_grad(self, theta, rows):
            Interrupting.calls += 1
            if Interrupting.calls == 200:  # in the middle of an epoch
                raise KeyboardInterrupt
            return super().batch_value_and_grad(theta, rows)

    mid = Interrupting(obj.X, obj.y, penalty=obj.penalty)
    res = sgd(mid, np.zeros(5), batch_size=5, learning_rate="constant", eta0=0.2, random_state=0)
    assert res.status == "interrupted" and np.all(np.isfinite(res.x))
    assert res.state.t == 199 and not np.array_equal(res.x, np.zeros(5))
    assert res.fun == pytest.approx(mid.cost(res.x))
    # and the run can go on from there
    more = sgd(obj, None, batch_size=5, learning_rate="constant", eta0=0.2, max_iter=1, state=res.state)
    assert more.state.t == 199 + 60
