"""Solvers: functions ``solver(objective, x0, **options) -> SolverResult``.

They see only the objective's ``value`` / ``value_and_grad`` and know nothing
of estimators, data formats or files.
"""

from .gd import gradient_descent
from .lbfgs import lbfgs
from .newton import newton
from .sgd import stochastic_gradient_descent

SOLVERS = {"gd": gradient_descent, "sgd": stochastic_gradient_descent, "lbfgs": lbfgs, "newton": newton}

__all__ = ["SOLVERS", "gradient_descent", "lbfgs", "newton", "stochastic_gradient_descent"]
