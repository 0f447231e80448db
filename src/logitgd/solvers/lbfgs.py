"""L-BFGS through SciPy (``scipy.optimize.minimize(method="L-BFGS-B")``).

Limited-memory BFGS builds a curvature model from the last ``memory``
gradient differences; one ``value_and_grad`` pass per iteration plus the
occasional extra line-search evaluation. It needs a smooth objective: with a
lasso term it refuses rather than silently dropping the penalty.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..result import IterationState, SolverResult


class _Stop(Exception):
    pass


def lbfgs(objective, x0, *, max_iter=1000, tol=1e-8, callback=None, memory=20):
    """Minimize a smooth ``objective`` by L-BFGS.

    Parameters
    ----------
    objective : object with ``value_and_grad`` and ``is_smooth``
    x0 : ndarray of shape (n_params,)
    max_iter : int
    tol : float
        Stop when the gradient's max-norm is ``<= tol`` (SciPy's ``gtol``;
        ``ftol`` is 0, so a tiny decrease of the cost alone does not stop it:
        near the optimum the cost changes below rounding long before the
        coefficients settle). A run that can no longer make progress (cost and
        gradient at working precision) restarts from where it stopped, at most
        twice, and then ends ``"stalled"`` (not converged).
    callback : callable or None
        ``callback(IterationState)`` after each iteration; truthy stops.
    memory : int
        Number of stored correction pairs.

    Returns
    -------
    SolverResult
    """
    if not getattr(objective, "is_smooth", True):
        raise ValueError("solver='lbfgs' needs a smooth objective; the L1 term of penalty='l1'/'elasticnet' "
                         "is not. Use solver='newton', 'gd' or 'sgd'.")
    x0 = np.array(x0, dtype=np.float64)
    last = {"f": None, "g": None}
    accepted = {"x": x0, "f": None}
    history = []
    n_iter = 0

    def fun(x):
        f, g = objective.value_and_grad(x)
        last.update(f=f, g=g)
        return f, g

    def on_iteration(intermediate_result):
        nonlocal n_iter
        n_iter += 1
        x = intermediate_result.x
        f = float(intermediate_result.fun)
        accepted.update(x=x.copy(), f=f)
        history.append(f)
        gnorm = float(np.max(np.abs(last["g"]))) if last["g"] is not None and last["g"].size else 0.0
        if callback is not None and callback(IterationState(n_iter, x.copy(), f, gnorm)):
            raise _Stop

    status = None
    try:
        history.append(fun(x0)[0])
        x = x0
        for restart in range(3):  # a stalled run starts again from where it stopped, with no history, twice
            done = n_iter
            res = scipy.optimize.minimize(fun, x, jac=True, method="L-BFGS-B", callback=on_iteration,
                                          options={"maxiter": max_iter - n_iter, "gtol": tol, "ftol": 0.0,
                                                   "maxcor": memory, "maxls": 50})
            x, f = res.x, float(res.fun)
            gnorm = float(np.max(np.abs(res.jac))) if res.jac.size else 0.0
            if gnorm <= tol or n_iter >= max_iter or n_iter == done:
                break
        if gnorm <= tol:
            status, message = "converged", f"gradient max-norm {gnorm:.3g} <= tol={tol:g}"
        elif n_iter >= max_iter:
            status, message = "max_iter", f"reached max_iter={max_iter}"
        else:
            status, message = "stalled", (f"the cost stopped decreasing at working precision with the gradient "
                                          f"max-norm at {gnorm:.3g} (L-BFGS-B: {res.message}, after {restart} "
                                          "restarts)")
    except _Stop:
        status, message = "stopped", "stopped by callback"
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user (KeyboardInterrupt)"
    if status in ("stopped", "interrupted"):  # the last accepted iterate, not a line-search trial
        x = accepted["x"]
        f = accepted["f"] if accepted["f"] is not None else objective.value(x)
        gnorm = float("nan")
    if history and history[-1] != f:
        history.append(f)
    return SolverResult(x=np.asarray(x), fun=f, n_iter=n_iter, converged=status == "converged",
                        status=status, message=message, loss_history=history, grad_norm=gnorm)
