"""Solvers: functions ``solver(objective, x0, **options) -> SolverResult``.

They see only the objective's ``value`` / ``value_and_grad`` and know nothing
of estimators, data formats or files.
"""

from .gd import gradient_descent
from .lbfgs import lbfgs
from .newton import newton

SOLVERS = {"gd": gradient_descent, "lbfgs": lbfgs, "newton": newton}

__all__ = ["SOLVERS", "gradient_descent", "lbfgs", "newton"]
