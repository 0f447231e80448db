"""Full-batch gradient descent.

Two step rules:

* a fixed ``learning_rate`` η — the plain update of the seeds,
  ``theta <- theta - η ∇J(theta)``, repeated until the cost stops dropping
  (relative decrease ``<= tol``) or the gradient is near zero
  (``max|∇J| <= tol``);
* ``"auto"`` — no tuning: Nesterov's accelerated gradient with a
  backtracking (Armijo) line search on the step ``1/L`` and function-value
  adaptive restart (O'Donoghue & Candès, 2015). A trial point
  ``x+ = y - ∇J(y)/L`` is accepted when
  ``J(x+) <= J(y) - ||∇J(y)||² / (2L)``; otherwise L doubles. After each
  accepted step L shrinks a little so the step can grow back. If the new
  cost is above the previous one the momentum is dropped and the step is
  retried from the previous iterate, so the recorded cost never goes up.
  Stops when ``max|∇J| <= tol``, or when the cost has stopped dropping at
  working precision.

With a non-smooth part h of the objective (the L1 term of the penalty) both
rules become proximal: every gradient step is followed by ``prox`` of h
(ISTA for a fixed step, FISTA for ``"auto"``), and the gradient tested against
``tol`` is the gradient mapping ``(x - x+) / step``. The recorded cost is the
whole J = f + h.

Both rules return a :class:`~logitgd.result.SolverResult`; Ctrl-C during a
fit returns the last accepted iterate with ``status="interrupted"``.
"""

from __future__ import annotations

import math

import numpy as np

from ..exceptions import DivergenceError
from ..result import IterationState, SolverResult

_EPS = np.finfo(np.float64).eps


def gradient_descent(objective, x0, *, learning_rate="auto", max_iter=5000, tol=1e-8,
                     callback=None, lipschitz0=1.0):
    """Minimize ``objective`` by gradient descent.

    Parameters
    ----------
    objective : object with ``value(x)`` and ``value_and_grad(x)``
    x0 : ndarray of shape (n_params,)
        Starting point.
    learning_rate : float > 0 or "auto"
        Fixed step, or ``"auto"`` for accelerated descent with line search.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Stop when the max-norm of the gradient is ``<= tol`` (both rules),
        or, with a fixed step, when the relative decrease of the cost in one
        iteration is ``<= tol``.
    callback : callable or None
        ``callback(IterationState)`` after every iteration; a truthy return
        value stops the solver with ``status="stopped"``.
    lipschitz0 : float
        Initial curvature estimate ``L`` for ``"auto"`` (the first trial
        step is ``1/L``). 1 is exact for a Böhning-preconditioned objective.

    Returns
    -------
    SolverResult
    """
    x = np.array(x0, dtype=np.float64)
    if learning_rate == "auto":
        run = _accelerated
        kwargs = {"lipschitz0": float(lipschitz0)}
    else:
        lr = float(learning_rate)
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"learning_rate must be a positive number or 'auto', got {learning_rate!r}.")
        run = _fixed
        kwargs = {"lr": lr}
    state = {"x": x, "history": [], "n_iter": 0, "grad_norm": float("nan")}
    try:
        status, message = run(objective, state, max_iter=max_iter, tol=tol,
                              callback=callback, **kwargs)
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user (KeyboardInterrupt)"
    x = state["x"]
    history = state["history"]
    fun = history[-1] if history else _Composite(objective).h(x) + objective.value(x)
    return SolverResult(x=x, fun=fun, n_iter=state["n_iter"], converged=status == "converged",
                        status=status, message=message, loss_history=history,
                        grad_norm=state["grad_norm"])


def _notify(callback, state):
    if callback is None:
        return False
    return bool(callback(IterationState(iteration=state["n_iter"], x=state["x"],
                                        fun=state["history"][-1],
                                        grad_norm=state["grad_norm"])))


class _Composite:
    """``F = f + h`` of an objective, with ``h = 0`` and identity prox if it has none."""

    def __init__(self, objective):
        self.obj = objective
        self.smooth = getattr(objective, "is_smooth", True)

    def h(self, x):
        return 0.0 if self.smooth else self.obj.nonsmooth_value(x)

    def prox(self, x, step):
        return x if self.smooth else self.obj.prox(x, step)


def _max_abs(v):
    return float(np.max(np.abs(v))) if v.size else 0.0


def _fixed(objective, state, *, lr, max_iter, tol, callback):
    """The seeds' loop, theta <- theta - lr * grad (then the prox of h), with a divergence guard.

    The gradient norm tested is that of the gradient mapping ``(x - x+)/lr``,
    which is the gradient itself when h = 0.
    """
    comp = _Composite(objective)
    x = state["x"]
    f, g = objective.value_and_grad(x)
    F = f + comp.h(x)
    F0 = F
    history = state["history"]
    history.append(F)
    rises, last_rise = 0, 0
    for it in range(1, max_iter + 1):
        x_new = comp.prox(x - lr * g, lr)
        gnorm = _max_abs(x - x_new) / lr
        state["grad_norm"] = gnorm
        if gnorm <= tol:
            return "converged", f"gradient max-norm {gnorm:.3g} <= tol={tol:g}"
        f_new, g_new = objective.value_and_grad(x_new)
        F_new = f_new + comp.h(x_new)
        rises = rises + 1 if F_new > F else 0
        if not math.isfinite(F_new) or not np.all(np.isfinite(g_new)) or F_new > 10 * max(F0, 1.0) or rises >= 20:
            raise DivergenceError(
                f"gradient descent diverged with learning_rate={lr:g}: the cost rose from "
                f"{F0:.6g} to {F_new:.6g} at iteration {it}. Use a smaller learning rate, "
                "or learning_rate='auto', which chooses the step by line search."
            )
        decrease = F - F_new
        if decrease < 0:
            last_rise = it
        x, F, g = x_new, F_new, g_new
        state.update(x=x, n_iter=it)
        history.append(F)
        if _notify(callback, state):
            return "stopped", "stopped by callback"
        if 0 <= decrease <= tol * max(abs(F), _EPS):
            # the textbook rule (and the documented one of a fixed step): the cost stopped dropping
            return "converged", (f"relative decrease of the cost {decrease / max(abs(F), _EPS):.3g} <= tol={tol:g} "
                                 f"(gradient max-norm {gnorm:.3g})")
    # A step no larger than 1/L never raises the cost: a cost that ends above where it began, or still rises in
    # the last tenth of the iterations, says the step is too large, whatever the iterate looks like.
    if F > F0 or last_rise > 0.9 * max_iter:
        what = (f"the cost ended at {F:.6g}, above the {F0:.6g} it started from (its peak: {max(history):.6g})"
                if F > F0 else f"the cost still rose and fell in the last iterations (at iteration {last_rise} "
                f"of {max_iter}), without converging")
        raise DivergenceError(
            f"gradient descent with learning_rate={lr:g} did not converge: {what}. The step is too large for these "
            "data: use learning_rate='auto', which chooses the step by line search, or a smaller learning rate "
            "(standardizing the features lets a fixed step work on every column)."
        )
    return "max_iter", f"reached max_iter={max_iter}"


def _accelerated(objective, state, *, lipschitz0, max_iter, tol, callback):
    """Accelerated (proximal) gradient with backtracking line search and adaptive restart.

    With a non-smooth part h this is FISTA: ``x+ = prox_{h/L}(y - ∇f(y)/L)``,
    and convergence is measured on the gradient mapping ``L (y - x+)``.
    """
    comp = _Composite(objective)
    history = state["history"]
    x = state["x"]
    f, g = objective.value_and_grad(x)
    F = f + comp.h(x)
    history.append(F)
    y, fy, gy = x, f, g
    L = lipschitz0
    t = 1.0
    best_gnorm, F_progress, since_best = math.inf, math.inf, 0
    for it in range(1, max_iter + 1):
        if comp.smooth:
            gnorm = _max_abs(gy)
            state["grad_norm"] = gnorm
            if gnorm <= tol:  # y's gradient met tol: y is the point returned (x's gradient is not known; its
                state["x"] = y  # cost may be lower than y's by rounding, which says nothing of its gradient)
                history[-1] = fy
                return "converged", f"gradient max-norm {gnorm:.3g} <= tol={tol:g}"
        slack = 8 * _EPS * abs(fy)  # rounding error of f itself
        L, curvature, x_new, f_new = _backtrack(objective, comp, y, fy, gy, L, slack)
        F_new = f_new + comp.h(x_new)
        state["n_iter"] = it
        if not comp.smooth:
            gnorm = L * _max_abs(y - x_new)
            state["grad_norm"] = gnorm
            if gnorm <= tol and F_new <= F + 8 * _EPS * abs(F):
                state["x"] = x_new
                history.append(F_new)
                return "converged", f"gradient-mapping max-norm {gnorm:.3g} <= tol={tol:g}"
        # Stalled: neither the cost (beyond rounding) nor the best gradient
        # norm has improved for 500 iterations.
        if gnorm < best_gnorm * (1 - 1e-3) or F < F_progress - 8 * _EPS * abs(F):
            best_gnorm, F_progress, since_best = min(gnorm, best_gnorm), F, 0
        else:
            since_best += 1
            if since_best >= 500:
                return "stalled", ("the cost and the gradient stopped decreasing at working "
                                   f"precision (gradient max-norm {best_gnorm:.3g})")
        if F_new > F + 8 * _EPS * abs(F) and t > 1.0:
            # Momentum overshot: drop it and step from x instead (restart).
            t = 1.0
            y = x
            history.append(F)
            fy, gy = objective.value_and_grad(y)
            continue
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        y = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, F, t = x_new, F_new, t_new
        state["x"] = x
        history.append(F)
        if _notify(callback, state):
            return "stopped", "stopped by callback"
        fy, gy = objective.value_and_grad(y)
        # Let the step grow back, but not past what the last one measured:
        # every failed trial costs a pass over the data.
        L = max(0.9 * L, curvature)
    return "max_iter", f"reached max_iter={max_iter}"


def _backtrack(objective, comp, y, fy, gy, L, slack):
    """Backtracking: ``(L, curvature, x+, f(x+))`` for the first L (doubling) that passes.

    The trial point is ``x+ = prox_{h/L}(y - gy/L)`` and the test is the
    sufficient-decrease (Armijo) condition ``f(x+) <= f(y) + gy·d + L |d|²/2``
    with ``d = x+ - y``, that is a local curvature
    ``2 (f(x+) - f(y) - gy·d) / |d|² <= L``. Near the optimum the change in f
    drowns in rounding, so there the curvature is measured from gradients
    instead, ``(∇f(x+) - gy)·d / |d|²`` (as in TFOCS).
    """
    for _ in range(200):
        x_new = comp.prox(y - gy / L, 1.0 / L)
        d = x_new - y
        dd = float(d @ d)
        f_new = objective.value(x_new)
        if dd == 0.0:  # the step is below rounding: nothing left to test
            return L, 0.0, x_new, f_new
        if not math.isfinite(f_new):
            L *= 2.0
            continue
        change = f_new - fy
        if abs(change) > 1e3 * slack:
            curvature = 2.0 * (change - float(gy @ d)) / dd
        else:
            g_new = objective.grad(x_new)
            curvature = float((g_new - gy) @ d) / dd
        if curvature <= L * (1 + 1e-12):
            return L, curvature, x_new, f_new
        L = max(2.0 * L, curvature)
    raise FloatingPointError("line search failed: the objective is not finite along the gradient")
