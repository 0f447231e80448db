"""The one result type every solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
        Whether a convergence criterion was met.
    status : str
        ``"converged"``, ``"max_iter"``, ``"stopped"`` (the callback asked) or
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
