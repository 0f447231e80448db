import numpy as np
import pytest
from conftest import make_logistic_data

from logitgd import DivergenceError
from logitgd.objective import LogisticObjective, Preconditioned
from logitgd.penalty import L2
from logitgd.solvers import gradient_descent


def test_fixed_step_is_the_plain_update():
    X, y, _ = make_logistic_data(n=100, d=3)
    obj = LogisticObjective(X, y)
    res = gradient_descent(obj, np.zeros(4), learning_rate=0.5, max_iter=7, tol=0)
    theta = np.zeros(4)
    history = [obj.value(theta)]
    for _ in range(7):
        theta = theta - 0.5 * obj.grad(theta)
        history.append(obj.value(theta))
    np.testing.assert_allclose(res.x, theta, rtol=1e-13)
    np.testing.assert_allclose(res.loss_history, history, rtol=1e-13)
    assert res.n_iter == 7 and res.status == "max_iter" and not res.converged


def test_fixed_step_stops_when_the_cost_stops_dropping():
    X, y, _ = make_logistic_data(n=200, d=3)
    res = gradient_descent(LogisticObjective(X, y), np.zeros(4), learning_rate=1.0, tol=1e-9,
                           max_iter=100000)
    assert res.converged and res.n_iter < 100000
    assert "relative decrease" in res.message or "gradient" in res.message


def test_too_large_learning_rate_raises_naming_it():
    X, y, _ = make_logistic_data(n=200, d=3)
    X = X * 1000.0
    with pytest.raises(DivergenceError, match=r"learning_rate=50.*'auto'"):
        gradient_descent(LogisticObjective(X, y), np.zeros(4), learning_rate=50.0, max_iter=1000)


@pytest.mark.parametrize("precondition", [True, False])
def test_auto_never_increases_the_cost(precondition):
    X, y, _ = make_logistic_data(n=400, d=5, seed=2)
    X[:, 0] *= 100
    obj = LogisticObjective(X, y, penalty=L2(1e-3))
    problem = Preconditioned(obj) if precondition else obj
    res = gradient_descent(problem, np.zeros(6), tol=1e-9, max_iter=20000)
    assert res.converged
    h = np.asarray(res.loss_history)
    assert len(h) == res.n_iter + 1
    assert np.all(np.diff(h) <= 8 * np.finfo(float).eps * h[:-1])
    assert res.grad_norm <= 1e-9


def test_preconditioning_makes_bad_scaling_cheap():
    X, y, _ = make_logistic_data(n=400, d=5, seed=3)
    X[:, 0] *= 1e4
    X[:, 1] = X[:, 1] * 1e-3 + 50
    obj = LogisticObjective(X, y, penalty=L2(1e-4))
    pre = Preconditioned(obj)
    res = gradient_descent(pre, np.zeros(6), tol=1e-10)
    assert res.converged and res.n_iter < 300


def test_callback_can_stop_and_interrupt_keeps_the_iterate():
    X, y, _ = make_logistic_data(n=100, d=3)
    obj = LogisticObjective(X, y)
    seen = []
    res = gradient_descent(obj, np.zeros(4), callback=lambda s: seen.append(s.fun) or s.iteration == 3)
    assert res.status == "stopped" and res.n_iter == 3 and len(seen) == 3

    def interrupt(state):
        if state.iteration == 4:
            raise KeyboardInterrupt

    for lr in ("auto", 0.5):
        res = gradient_descent(obj, np.zeros(4), learning_rate=lr, callback=interrupt)
        assert res.status == "interrupted" and not res.converged
        assert res.n_iter == 4 and np.all(np.isfinite(res.x))
        assert res.fun == pytest.approx(obj.value(res.x))


def test_bad_learning_rate_value():
    X, y, _ = make_logistic_data(n=20, d=2)
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_descent(LogisticObjective(X, y), np.zeros(3), learning_rate=-1.0)


def test_a_fixed_step_that_is_too_large_is_a_divergence_not_a_warning():
    """A step of at most 1/L never raises the cost: one that oscillates to max_iter, or ends above its start,
    raises DivergenceError; a small step that runs out of iterations only warns."""
    import warnings

    from logitgd import DivergenceError, LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)) * np.array([1, 5, 20])
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    with pytest.raises(DivergenceError, match="did not converge: the cost still rose"):
        LogisticRegression(solver="gd", learning_rate=0.05, max_iter=500).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LogisticRegression(solver="gd", learning_rate=0.01, max_iter=500).fit(X, y)
    assert not model.converged_ and any("max_iter" in str(w.message) for w in caught)
    assert np.all(np.diff(model.loss_history_) <= 0)
