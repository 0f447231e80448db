"""Newton–Raphson (IRLS) with a line search, and proximal Newton for the lasso term.

For the logistic log-likelihood the Newton step solves
``H δ = -∇f`` with ``H = X̃ᵀ diag(s p (1 - p)) X̃ / sum(s) + ridge`` — the same
system as iteratively reweighted least squares (seed 002). Two ways to solve it:

* **Newton–Cholesky** (up to ``max_dense`` parameters): form H by row blocks
  (``n·p²`` flops, BLAS-3) and factor it;
* **Newton–CG** (more parameters): truncated conjugate gradients on
  Hessian-vector products, two passes over X each, stopped at a relative
  residual ``min(0.5, sqrt(|g|))`` (Eisenstat–Walker), so H is never formed.

A backtracking (Armijo) line search on the step keeps every iteration a
descent; convergence is quadratic near the optimum.

With a lasso term h (``penalty="l1"`` or ``"elasticnet"``) the step is the
*proximal Newton* step (Lee, Sun & Saunders, 2014): minimize the quadratic
model plus h,

    δ = argmin_d  g·d + ½ dᵀ H d + h(x + d),

solved by coordinate descent on the small dense problem (glmnet's inner
solver; no pass over the data), then a line search on J = f + h with the sufficient decrease
``J(x + sδ) <= J(x) + σ s Δ``, ``Δ = g·δ + h(x + δ) - h(x)``. This needs the
dense H, so it is offered up to ``max_dense`` parameters, and above that for
binary data in a scipy.sparse matrix, where the objective runs the coordinate
descent over the columns of X instead (newGLMNET, as in liblinear).

Stops when the smallest subgradient of J has max-norm ``<= tol``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from ..result import IterationState, SolverResult
from ._lasso_qp import lasso_qp

_SIGMA = 1e-4  # Armijo constant
#: J's rounding, relative, as evaluated on large data (a sum over 1e5-1e7 rows in a few chunks: measured
#: up to about 1e-13); a change of J below it says nothing, and then only the gradient decides
J_ROUNDING = 1e-13
_potrf, _potrs = scipy.linalg.lapack.dpotrf, scipy.linalg.lapack.dpotrs


def newton(objective, x0, *, max_iter=100, tol=1e-8, callback=None, max_dense=1000):
    """Minimize ``objective`` by (proximal) Newton steps with a line search.

    Parameters
    ----------
    objective : LinearObjective
        Needs ``value_and_grad``, ``value``, ``cost``, ``optimality``, and
        ``hessian`` (Cholesky, lasso) or ``hessian_operator`` (CG).
    x0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of Newton iterations.
    tol : float
        Stop when ``objective.optimality(x, ∇f(x)) <= tol``.
    callback : callable or None
        ``callback(IterationState)`` after each iteration; truthy stops.
    max_dense : int
        Form and factor the Hessian up to this many parameters; above it use
        conjugate gradients (smooth problems) or refuse (lasso term).

    Returns
    -------
    SolverResult
    """
    x = np.array(x0, dtype=np.float64)
    p = len(x)
    smooth = objective.is_smooth
    column_newton = getattr(objective, "column_newton", False)
    if not smooth and p > max_dense and not column_newton:
        raise ValueError(
            f"solver='newton' handles the L1 penalty by proximal Newton steps, which form the "
            f"{p} x {p} Hessian; that is above max_dense={max_dense}. Use solver='gd' or 'sgd' for "
            "L1 on this many features."
        )
    history = []
    cg_state = {}  # Newton–CG: whether the steps so far needed the preconditioner
    status, message, n_iter, gnorm = "max_iter", f"reached max_iter={max_iter}", 0, float("nan")
    try:
        f, g = objective.value_and_grad(x)
        F = f + (0.0 if smooth else objective.nonsmooth_value(x))
        history.append(F)
        for it in range(1, max_iter + 1):
            gnorm = objective.optimality(x, g)
            if gnorm <= tol:
                status, message = "converged", f"subgradient max-norm {gnorm:.3g} <= tol={tol:g}"
                break
            if smooth:
                delta = _newton_direction(objective, x, g, p <= max_dense, cg_state)
                slope = float(g @ delta)
                if not slope < 0:  # not a descent direction (H numerically singular): use -g
                    delta, slope = -g, -float(g @ g)
            else:
                # inexact inner solves, tighter as the outer iterate converges
                inner_tol = max(min(0.1, gnorm) * gnorm, 0.1 * tol)
                if p > max_dense:  # sparse data: coordinate descent over X's columns, no Hessian
                    delta = objective.lasso_newton_direction(x, g, tol=inner_tol)
                else:
                    delta = _prox_newton_direction(objective, x, g, objective.hessian(x), tol=inner_tol)
                slope = float(g @ delta) + objective.nonsmooth_value(x + delta) - objective.nonsmooth_value(x)
                if not slope < 0:
                    if not np.any(delta):  # the model sees no step left: at working precision
                        status, message = "stalled", (f"the proximal Newton model sees no step left (subgradient "
                                                      f"max-norm {gnorm:.3g})")
                        break
                    # a step so short that g·δ and the change of the L1 term cancel to rounding (their sum is
                    # about -δᵀHδ): the line search judges it by the subgradient, as it does near the optimum
                    slope = 0.0
            step, F_new, x_new, g_new = _line_search(objective, x, F, delta, slope, smooth, gnorm)
            n_iter = it
            if x_new is None:
                status, message = "stalled", (f"the line search found no decrease at working precision (gradient "
                                              f"max-norm {gnorm:.3g})")
                break
            x, F, g = x_new, F_new, g_new
            history.append(F)
            if callback is not None and callback(IterationState(it, x, F, gnorm)):
                status, message = "stopped", "stopped by callback"
                break
        else:
            gnorm = objective.optimality(x, g)
            if gnorm <= tol:
                status, message = "converged", f"subgradient max-norm {gnorm:.3g} <= tol={tol:g}"
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user (KeyboardInterrupt)"
    return SolverResult(x=x, fun=history[-1] if history else objective.cost(x), n_iter=n_iter,
                        converged=status == "converged", status=status, message=message,
                        loss_history=history, grad_norm=gnorm)


def _newton_direction(objective, x, g, dense, cg_state):
    """Solve ``H δ = -g`` by Cholesky (dense) or truncated CG."""
    if dense:
        H = objective.hessian(x)
        flat = objective.flat_directions()
        if flat is not None:  # directions f does not see (K classes): H + c VVᵀ factors, the step is the same
            H += np.mean(np.diag(H)) * (flat @ flat.T)
        # On the unit-diagonal scaling of H (scale-free). Cholesky when H is
        # well conditioned; otherwise (collinear columns, more features than
        # rows, saturated probabilities) the minimum-norm solution, so that
        # directions the data cannot see get no step at all.
        D = np.sqrt(np.diag(H)).copy()
        D[D == 0] = 1.0
        C = H / np.outer(D, D)
        # LAPACK directly: on small problems the scipy.linalg wrappers'
        # checks cost as much as the factorization.
        factor, info = _potrf(C, lower=False)
        if info == 0:
            r = np.abs(np.diag(factor))
            if r.min() ** 2 > 1e-15 * r.max() ** 2:
                step, info = _potrs(factor, -g / D, lower=False)
                if info == 0:
                    return step / D
        lam, Q = scipy.linalg.eigh(C)
        keep = lam > 1e-15 * lam[-1]
        return (Q[:, keep] @ ((Q[:, keep].T @ (-g / D)) / lam[keep])) / D
    hessp = objective.hessian_operator(x)
    b = -g
    rtol = min(0.5, math.sqrt(float(np.linalg.norm(g))))
    max_iter = max(20, min(2 * len(g), 500))
    if cg_state.get("precondition"):
        return _truncated_cg(hessp, b, rtol, max_iter, objective.hessian_preconditioner(x))[0]
    # Plain CG first, for as many products as forming the preconditioner would cost (K classes: the per-class
    # blocks, about p/(4K) products); a step it does not finish in those goes on preconditioned, from where it
    # is, and so do the later steps. Well-conditioned data never pay for the blocks (200,000 x 50, 10 classes:
    # 0.5 s each), badly conditioned data get them after a few products (digits: 3-10x fewer products).
    budget = objective.preconditioner_cost()
    if not budget:
        return _truncated_cg(hessp, b, rtol, max_iter)[0]
    step, r, done = _truncated_cg(hessp, b, rtol, min(max_iter, max(5, budget)))
    if done:
        return step
    cg_state["precondition"] = True
    return _truncated_cg(hessp, b, rtol, max_iter, objective.hessian_preconditioner(x), step, r)[0]


def _truncated_cg(hessp, b, rtol, max_iter, precondition=None, x=None, r=None):
    """Conjugate gradients for ``H x = b`` from x = 0 (or from ``x`` with its residual ``r = b - H x``), stopped
    at ``|r| <= rtol |b|``; preconditioned by ``precondition(r) ≈ H⁻¹ r`` where given (K classes: the per-class
    blocks of H, which cut the products needed 3-10x on digits). Returns ``(x, r, whether it got there)``."""
    x = np.zeros_like(b) if x is None else x.copy()
    r = b.copy() if r is None else r.copy()
    stop = (rtol ** 2) * float(b @ b)
    if float(r @ r) <= stop:
        return x, r, True
    z = r if precondition is None else precondition(r)
    d = z.copy()
    rz = float(r @ z)
    for _ in range(max_iter):
        Hd = hessp(d)
        dHd = float(d @ Hd)
        if dHd <= 0:  # no positive curvature along d (numerically): stop here
            return (x if x.any() else b), r, True
        a = rz / dHd
        x += a * d
        r -= a * Hd
        if float(r @ r) <= stop:
            return x, r, True
        z = r if precondition is None else precondition(r)
        rz_new = float(r @ z)
        d = z + (rz_new / rz) * d
        rz = rz_new
    return x, r, False


def _prox_newton_direction(objective, x, g, H, tol):
    """``argmin_d g·d + ½ dᵀHd + h(x + d)`` for a lasso-type h, by coordinate descent.

    In ``u = x + d`` the model is ``c·u + ½ uᵀHu + sum_j lam_j |u_j|`` with
    ``c = g - H x``; coordinate descent (as in glmnet) solves it exactly per
    coordinate, from the current x (warm start), with no pass over the data.
    """
    u = x.copy()
    lasso_qp(H, g - H @ x, u, objective.l1_weights(), tol)
    return u - x


def _line_search(objective, x, F, delta, slope, smooth, gnorm):
    """Backtracking on J along δ from step 1: ``(step, J, x + sδ, ∇f)``, or ``(.., None, None)``.

    Accepts the Armijo condition ``J(x + sδ) <= J(x) + σ s slope``. Near the
    optimum J changes below its own rounding and that test cannot decide; a
    step whose change of J is within rounding (``J_ROUNDING``) is then accepted if
    it lowers the optimality measure (the gradient), as Newton's steps there
    do; and when even the model's predicted decrease is below rounding, a
    rejected unit step ends the search (shorter ones cannot show a decrease
    either) instead of 60 halvings, each a pass over the data. Each
    trial evaluates f and its gradient together (one pass over the data):
    Newton's unit step is almost always accepted, and its gradient is the
    next iteration's.
    """
    step = 1.0
    noise = J_ROUNDING * abs(F)
    for _ in range(60):
        x_new = x + step * delta
        f_new, g_new = objective.value_and_grad(x_new)
        F_new = f_new + (0.0 if smooth else objective.nonsmooth_value(x_new))
        if math.isfinite(F_new):
            if slope < 0 and F_new <= F + _SIGMA * step * slope:
                return step, F_new, x_new, g_new
            if abs(F_new - F) <= noise and objective.optimality(x_new, g_new) < gnorm:
                return step, F_new, x_new, g_new
        if -slope <= noise:  # the model's decrease is below J's rounding: shorter steps cannot show one
            break
        step *= 0.5
    return step, F, None, None
