"""The one result type every solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .exceptions import ConvergenceWarning, SeparationWarning


@dataclass
class IterationState:
    """What a solver passes to ``callback`` after each iteration.

    Attributes
    ----------
    iteration : int
        Iterations done so far (1 after the first update).
    x : ndarray of shape (n_params,)
        Current parameters, in the solver's coordinates.
    fun : float
        Objective value at ``x``.
    grad_norm : float
        Max-norm of the last gradient the solver evaluated.
    """

    iteration: int
    x: np.ndarray
    fun: float
    grad_norm: float


@dataclass
class SolverResult:
    """Outcome of a solver run.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
        Final parameters, in the coordinates of the objective that was solved.
    fun : float
        Objective value at ``x``.
    n_iter : int
        Number of iterations (parameter updates tried).
    converged : bool
        Whether the stopping rule asked for was met (``status == "converged"``).
    status : str
        ``"converged"`` (the stopping rule asked for was met: the optimality
        measure, e.g. the gradient max-norm, is at most ``tol``), ``"stalled"``
        (no progress is left at working precision with the measure above
        ``tol``), ``"max_iter"``, ``"stopped"`` (the callback asked) or
        ``"interrupted"`` (KeyboardInterrupt: ``x`` is the last accepted iterate).
    message : str
        One sentence saying why the solver stopped.
    loss_history : list of float
        Objective value before the first update and after every iteration.
    grad_norm : float
        Max-norm of the gradient last evaluated.
    state : object or None
        What a solver needs to continue the run where it stopped (the
        stochastic solver's :class:`~logitgd.solvers.sgd.SGDState`, passed back
        as ``state=``); None for solvers that cannot be continued.
    """

    x: np.ndarray
    fun: float
    n_iter: int
    converged: bool
    status: str
    message: str
    loss_history: list = field(default_factory=list)
    grad_norm: float = float("nan")
    state: object = None


def stop_warning(result, separation, solver, learning_rate, max_iter, tol, what=""):
    """``(message, category)`` of the warning a fit that stopped so owes its user, or None.

    ``separation``: the separation check's sentence (what it found, see
    ``logitgd.separation.Finding``) or None; ``what`` names the sub-fit (one-vs-rest).
    """
    if separation is not None:
        return (f"{separation}{what}. So the maximum-likelihood estimate does not exist: the likelihood keeps rising "
                f"as the coefficients grow along that direction. Stopped after {result.n_iter} iterations; coef_ is "
                "a point on the way, not an estimate, and its probabilities are overconfident. For finite, "
                "well-defined coefficients use penalty='firth' (Firth's bias-reduced estimate, which exists under "
                "separation and keeps the likelihood's meaning; R's logistf) or alpha > 0 (an L2 penalty).",
                SeparationWarning)
    if result.status == "max_iter":
        if solver == "sgd":
            why = (f"epochs (the epoch cost was still improving by more than tol={tol:g}). "
                   "Increase max_iter, or tol")
        else:
            why = (f"iterations (gradient max-norm {result.grad_norm:.3g} > tol={tol:g}). Increase max_iter, "
                   + ("use learning_rate='auto', or standardize the features"
                      if learning_rate != "auto" else "or use alpha > 0 if the classes are nearly separable"))
        return f"solver={solver!r}{what} did not converge in max_iter={max_iter} {why}.", ConvergenceWarning
    if result.status == "stalled":
        return (f"solver={solver!r}{what} stopped short of tol={tol:g}: {result.message}. The coefficients are "
                "near the optimum but not as near as asked (converged_=False). "
                + ("Use a larger tol, or standardize the features: the gradient's rounding error grows with the "
                   "features' scale." if solver in ("newton", "firth") else
                   "Use a larger tol, or solver='newton', whose steps reach working precision."),
                ConvergenceWarning)
    if result.status == "interrupted":
        return (f"Fit{what} interrupted after {result.n_iter} iterations; the model keeps the last "
                "accepted coefficients (converged_=False).", UserWarning)
    return None
