"""Solvers: functions ``solver(objective, x0, **options) -> SolverResult``.

They see only the objective's ``value`` / ``value_and_grad`` and know nothing
of estimators, data formats or files.
"""

from .gd import gradient_descent

SOLVERS = {"gd": gradient_descent}

__all__ = ["SOLVERS", "gradient_descent"]
