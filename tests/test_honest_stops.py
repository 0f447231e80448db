"""converged_ means the stopping rule asked for was met; separation is found by every solver and said exactly."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from conftest import make_logistic_data
from sklearn.datasets import load_breast_cancer, load_iris

from logitgd import LogisticRegression, SeparationWarning, backends
from logitgd.exceptions import ConvergenceWarning
from logitgd.objective import LinearObjective
from logitgd.penalty import make_penalty
from logitgd.preconditioned import Preconditioned
from logitgd.solvers import SOLVERS

ENDOMETRIAL = pd.read_csv(__file__.rsplit("/", 1)[0] + "/data/endometrial.csv")


def _problems():
    X, y, _ = make_logistic_data(n=300, d=5, seed=3)
    X[:, 2] *= 50  # badly scaled
    Xi, yi = load_iris(return_X_y=True)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(yi))
    return {"binary": (X, y.astype(float), None, 1), "3 classes, weighted": (Xi, yi.astype(float), sw, 3)}


# the combinations the estimator runs: L-BFGS takes no L1 term, Newton runs in the original coordinates
_RUNS = [(solver, penalty, coordinates) for solver in ("gd", "lbfgs", "newton")
         for penalty in ("l2", "l1", "elasticnet")
         for coordinates in ("original", "preconditioned")
         if not (solver == "lbfgs" and penalty != "l2" or solver == "newton" and coordinates == "preconditioned")]


@pytest.mark.parametrize("tol", [1e-8, 1e-12])
@pytest.mark.parametrize("problem", list(_problems()))
@pytest.mark.parametrize(("solver", "penalty", "coordinates"), _RUNS)
def test_a_fit_that_says_converged_meets_its_tol(solver, problem, penalty, tol, coordinates):
    """The invariant, checked from outside the solver: when converged, the optimality measure, recomputed at the
    returned point, is at most tol (the gradient's max-norm, or the smallest subgradient's with L1)."""
    X, y, sw, K = _problems()[problem]
    pen = make_penalty(penalty, 1e-2, 0.5 if penalty == "elasticnet" else None)
    objective = LinearObjective(backends.as_data(X, y, sw, K), pen, True)
    problem_ = Preconditioned(objective) if coordinates == "preconditioned" else objective
    x0 = problem_.from_original(objective.intercept_only()) if coordinates == "preconditioned" else \
        objective.intercept_only()
    result = SOLVERS[solver].run(problem_, x0, max_iter=20000, tol=tol, callback=None,
                                 **({"max_dense": 1024} if solver == "newton" else {}))
    assert result.status in ("converged", "stalled"), result.message
    assert result.converged == (result.status == "converged")
    if not result.converged:
        assert "tol" in result.message or "working precision" in result.message
        return
    if penalty in ("l1", "elasticnet") and solver == "gd":  # its rule: the gradient mapping's norm, as reported
        assert result.grad_norm <= tol
        return
    f, g = problem_.value_and_grad(result.x)
    measure = objective.optimality(result.x, g) if coordinates == "original" else float(np.max(np.abs(g)))
    assert measure <= tol * (1 + 1e-6), (measure, result.message)


def test_lbfgs_at_a_tolerance_it_cannot_reach_says_so():
    """The issue's case: tol=1e-12, L-BFGS-B's line search gives out first; that is not convergence."""
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"stopped short of tol=1e-12.*gradient max-norm.*solver='newton'"):
        model = LogisticRegression(solver="lbfgs", tol=1e-12).fit(X, y)
    assert not model.converged_ and "working precision" in model.stop_reason_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at the default tol it converges, and says nothing
        assert LogisticRegression(solver="lbfgs").fit(X, y).converged_
        assert LogisticRegression(solver="newton", tol=1e-12).fit(X, y).converged_


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton", "sgd"])
def test_every_solver_finds_quasi_separation_early_and_says_exactly_what(solver):
    """Endometrial cancer (Heinze & Schemper 2002): NV = 1 only with HG = 1, the 66 rows with NV = 0 on the plane."""
    X, y = ENDOMETRIAL[["NV", "PI", "EH"]], ENDOMETRIAL["HG"]
    with pytest.warns(SeparationWarning) as caught:
        model = LogisticRegression(alpha=0, solver=solver, random_state=0).fit(X, y)
    text = str(caught[0].message)
    assert text.startswith("The classes are quasi-completely separated: a linear program found a hyperplane")
    assert "each of the 79 training rows" in text and "(66 on the plane)" in text and "through 'NV'" in text
    assert "'PI'" not in text and "coef_ is a point on the way" in text
    assert model.stop_reason_ == "quasi-complete separation" and not model.converged_
    assert model.n_iter_ <= 40, model.n_iter_  # within a small budget, not max_iter


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton", "sgd"])
def test_complete_separation_is_told_as_what_was_seen(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 1] + 0.3 * X[:, 2] > 0).astype(int)
    with pytest.warns(SeparationWarning, match="completely separated") as caught:
        model = LogisticRegression(alpha=0, solver=solver, random_state=0).fit(X, y)
    text = str(caught[0].message)
    if "the fitted hyperplane" in text:  # what the fit itself shows: then it is true of coef_
        assert model.score(X, y) == 1.0
    else:
        assert "a linear program found a hyperplane" in text and "'x1'" in text
    assert model.n_iter_ <= 40


def test_separation_is_told_of_the_rows_with_weight_only():
    # rows of weight 0 on the wrong side: they neither count as "on their own side" nor choose the columns named
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 1] > 0).astype(int)
    X[:2] = [[1e3, -5.0, 0.0], [1e3, 5.0, 0.0]]
    y[:2] = [1, 0]
    sw = np.ones(60)
    sw[:2] = 0.0
    with pytest.warns(SeparationWarning, match="completely separated") as caught:
        LogisticRegression(alpha=0, solver="newton").fit(X, y, sample_weight=sw)
    text = str(caught[0].message)
    assert "58 training rows" in text and "'x0'" not in text


def test_a_penalized_fit_is_never_called_separated():
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression().fit(X, y)  # the default alpha: the estimate exists
    assert model.converged_


def test_every_fit_of_a_lasso_path_that_says_converged_meets_its_tol():
    """glmnet's ccard lasso path: proximal Newton's last steps there are so short that g·δ and the L1 term's change
    cancel to rounding; it used to call that converged with the subgradient at 6e-8 (tol 1e-8)."""
    import glm_data
    from test_path import _GLMNET

    from logitgd import regularization_path
    from logitgd.inference import theta_of

    case = _GLMNET["cases"]["ccard_lasso"]
    X, y, sw = glm_data.glmnet_case(case)
    path = regularization_path(X, y, case["lambdas"], l1_ratio=1.0, sample_weight=sw)
    assert path.converged.all()
    data = backends.as_data(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), sw, 1)
    for i, alpha in enumerate(path.alphas):
        objective = LinearObjective(data, make_penalty("l1", alpha), True)
        theta = theta_of(path.model(i))
        assert objective.optimality(theta, objective.value_and_grad(theta)[1]) <= 1e-8 * (1 + 1e-6), alpha


@pytest.mark.parametrize("scale", [1e160, 1e200])
def test_a_column_too_large_to_compute_with_is_refused_by_name(scale):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.assign(**{"mean area": X["mean area"] * scale})
    for solver in ("newton", "lbfgs", "gd"):
        with pytest.raises(ValueError, match=r"column 'mean area' has values up to .*rescale it"):
            LogisticRegression(solver=solver).fit(X, y)
    small = load_breast_cancer(as_frame=True).data.astype(np.float32).assign(**{"mean area": np.float32(1e20)})
    with pytest.raises(ValueError, match=r"'mean area'.*float32 arithmetic.*as float64"):
        LogisticRegression().fit(small, y)


def test_a_large_but_computable_column_fits_the_model_of_the_unscaled_data():
    """Values around 1e100 (squares near 1e200) are within float64's reach: the preconditioned solvers fit the
    same maximum-likelihood model as on the unscaled column (same cost, that coefficient scaled by 1e-100)."""
    X, y, _ = make_logistic_data(n=400, d=4, seed=5)
    big = X.copy()
    big[:, 2] *= 1e100
    for solver in ("lbfgs", "gd"):
        base = LogisticRegression(solver=solver, alpha=0).fit(X, y)
        model = LogisticRegression(solver=solver, alpha=0).fit(big, y)
        assert model.converged_
        assert model.loss_history_[-1] == pytest.approx(base.loss_history_[-1], rel=1e-12)
        np.testing.assert_allclose(model.coef_[0] * [1, 1, 1e100, 1], base.coef_[0], rtol=1e-6)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_value_that_is_not_a_number_is_named_by_row_and_column(value):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X.iloc[5, 3] = value
    word = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=rf"Input X contains {word} \(first at row 5, column 'mean area'; 1 such"):
        LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=rf"contains {word} \(first at row 5, column 'x3'"):
        LogisticRegression().fit(scipy.sparse.csr_matrix(X.to_numpy()), y)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton", "sgd"])
def test_three_separated_classes_stop_every_solver_early(solver):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = np.array([[0, 0], [4, 0], [0, 4]])[y] + rng.uniform(-1, 1, (60, 2))
    with pytest.warns(SeparationWarning, match="completely separated: the fitted hyperplane puts each of the 60"):
        model = LogisticRegression(alpha=0, solver=solver, random_state=0).fit(X, y)
    assert model.score(X, y) == 1.0 and not model.converged_ and model.n_iter_ <= 40


@pytest.mark.parametrize("tol", [1e-8, 1e-13])
def test_firth_says_converged_only_when_its_newton_decrement_is_within_tol(tol):
    """Firth's rule, recomputed from outside: the Newton decrement (in standard errors) at the returned point."""
    import scipy.linalg

    X, y = ENDOMETRIAL[["NV", "PI", "EH"]].to_numpy(float), ENDOMETRIAL["HG"].to_numpy(float)
    objective = LinearObjective(backends.as_data(X, y, None, 1), make_penalty("firth", None), True)
    result = SOLVERS["firth"].run(objective, objective.intercept_only(), max_iter=200, tol=tol, callback=None)
    assert result.status in ("converged", "stalled"), result.message
    if result.converged:
        _, g, info = objective.firth(result.x)
        step = scipy.linalg.solve(info / objective.sw_sum, -g, assume_a="pos")
        assert np.sqrt(max(-objective.sw_sum * float(g @ step), 0.0)) <= tol * (1 + 1e-6)
    else:
        assert "working precision" in result.message
