"""Solvers: functions ``solver(objective, x0, **options) -> SolverResult``, and what each one declares.

They see only the objective (``value`` / ``value_and_grad``, and what their
:class:`Solver` entry says they need) and know nothing of estimators, data
formats or files. :data:`SOLVERS` holds, per solver, its defaults, the
estimator options it takes and the penalties it handles: the estimator asks
it (:meth:`Solver.options`) and keeps no list of its own.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .firth import firth
from .gd import gradient_descent
from .lbfgs import lbfgs
from .newton import newton
from .sgd import SCHEDULES, stochastic_gradient_descent

#: the estimator's sgd-only options and their defaults: set for another solver, they are an error
SGD_OPTIONS = {"batch_size": 32, "eta0": None, "power_t": 0.5, "average": False,
               "early_stopping": False, "validation_fraction": 0.1, "n_iter_no_change": 5}
#: Largest number of parameters for which Newton forms the dense Hessian (and proximal Newton runs on it).
NEWTON_MAX_DENSE = 1000
#: solver="auto" with a smooth penalty: Newton while a Hessian costs at most this
#: many flops (n_samples * n_params²; about 10 ms), L-BFGS above. With K classes Newton forms the Hessian up
#: to this size too; above it it solves for its step by conjugate gradients (Hessian-vector products,
#: preconditioned by the per-class blocks).
SMALL_HESSIAN_FLOPS = 1e8
#: solver="auto" with K classes and a smooth penalty: Newton (by conjugate gradients) while one pass over
#: the data costs at most this many flops (n_samples * n_params), L-BFGS above; see :func:`choose`.
SMALL_PASS_FLOPS = 1e9


def is_number(v):
    """A real number that is not a bool (``True`` is neither a step nor a tolerance)."""
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def is_integer(v):
    """An integer that is not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _changed(value, default):
    """Whether an option was set to other than its default (an array, whose ``!=`` has no one truth value, was)."""
    try:
        return bool(value != default)
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Solver:
    """A solver and what it declares.

    Attributes
    ----------
    name : str
    run : callable ``run(objective, x0, **options) -> SolverResult``
    max_iter, tol : its defaults (``tol``: the stopping rule's, see each solver)
    smooth_only : bool
        Whether it needs a smooth penalty (no L1 term).
    needs : tuple of str
        What it asks of the objective besides ``value`` and ``value_and_grad``.
    """

    name: str
    run: object
    max_iter: int
    tol: float
    smooth_only: bool = False
    needs: tuple = ()

    def options(self, params, smooth, n_params, column_newton):
        """The solver's own keyword options from the estimator's ``params``; a clear ValueError for an option
        it would not use, a value it refuses, or a penalty it cannot handle."""
        lr = params["learning_rate"]
        if self.name == "sgd":
            if not (lr == "auto" or lr in SCHEDULES[1:]):
                raise ValueError(f"learning_rate for solver='sgd' must be 'auto' or one of {SCHEDULES[1:]}, "
                                 f"got {lr!r}.")
            if lr != "auto" and not (is_number(params["eta0"]) and params["eta0"] > 0):
                raise ValueError(f"learning_rate={lr!r} needs eta0 > 0, got eta0={params['eta0']!r}.")
            if _changed(params["power_t"], SGD_OPTIONS["power_t"]) and lr != "invscaling":
                raise ValueError(f"power_t={params['power_t']!r} only applies to learning_rate='invscaling' (eta = "
                                 f"eta0 / t**power_t); learning_rate={lr!r} does not use it.")
            if not (is_integer(params["batch_size"]) and params["batch_size"] >= 1):
                raise ValueError(f"batch_size must be a positive integer, got {params['batch_size']!r}.")
            if not (is_number(params["validation_fraction"]) and 0 < params["validation_fraction"] < 1):
                raise ValueError(f"validation_fraction must be a number in (0, 1) (the share of rows held out for "
                                 f"early_stopping), got {params['validation_fraction']!r}.")
            return {k: params[k] for k in ("batch_size", "learning_rate", "eta0", "power_t", "average",
                                           "n_iter_no_change")}
        changed = [k for k, v in SGD_OPTIONS.items() if _changed(params[k], v)]
        if changed:
            raise ValueError(f"{', '.join(changed)} only apply to solver='sgd'; solver={self.name!r} does not use "
                             "them.")
        if self.name == "gd":
            if not (lr == "auto" if isinstance(lr, str) else
                    is_number(lr) and lr == lr and abs(lr) != float("inf") and lr > 0):
                raise ValueError(f"learning_rate for solver='gd' must be a positive number or 'auto', got {lr!r}.")
            return {"learning_rate": lr}
        if lr != "auto":
            raise ValueError(f"learning_rate={lr!r} is not used by solver={self.name!r}; leave it at 'auto'.")
        if (params["penalty"] == "firth") != (self.name == "firth"):
            raise ValueError("penalty='firth' is fitted by solver='firth' (or 'auto'), and solver='firth' fits only "
                             f"penalty='firth'; got solver={self.name!r}, penalty={params['penalty']!r}.")
        if self.smooth_only and not smooth:
            raise ValueError(f"solver={self.name!r} cannot handle penalty={params['penalty']!r} (its L1 term is not "
                             "smooth); use solver='newton', 'gd' or 'sgd'.")
        if self.name == "firth":
            if params["firth_intercept"] not in (None, "flic") or params["firth_intercept"] and not params[
                    "fit_intercept"]:
                raise ValueError(f"firth_intercept must be None or 'flic' (with fit_intercept=True), got "
                                 f"{params['firth_intercept']!r}.")
            return {"flic": params["firth_intercept"] == "flic"}
        if self.name == "newton":
            if not smooth and n_params > NEWTON_MAX_DENSE and not column_newton:
                raise ValueError(f"solver='newton' handles penalty={params['penalty']!r} only up to "
                                 f"{NEWTON_MAX_DENSE} parameters (proximal Newton forms the Hessian) unless X is a "
                                 "scipy.sparse matrix with two classes (not a torch sparse tensor: its columns are "
                                 f"not on the host); this data has {n_params}. Use solver='gd' or 'sgd'.")
            return {"max_dense": NEWTON_MAX_DENSE}
        return {}


def choose(params, smooth, n_samples, n_params, column_newton=False, n_classes=1):
    """The solver ``solver="auto"`` picks for these options and this data.

    Options that only one solver uses pick that solver (an sgd schedule or
    option: ``"sgd"``; a numeric learning rate: ``"gd"``). Measured
    (benchmarks/RESULTS.md): with smooth penalties, L-BFGS in the
    Böhning-preconditioned coordinates needs about as many passes over the
    data as Newton needs Hessians, and a pass costs n·p flops against a
    Hessian's n·p²: it wins on large data (1e6 x 100: 0.5 s vs 2.3 s). On
    small data every iteration is mostly Python overhead and Newton's few
    iterations win (breast cancer: 1.9 ms vs 7-14 ms). With L1, proximal
    Newton beats proximal gradient everywhere we measured.

    K classes: Newton by conjugate gradients (preconditioned where a step needs it) up to ``n·p <=
    SMALL_PASS_FLOPS``, about 2,000,000 rows of 500 parameters: L-BFGS's iterations are few only on
    well-conditioned data, and small tables are often nearly separable (digits, 1797 x 64 at alpha 1e-4:
    L-BFGS ran into max_iter=1000, Newton converged in 13 iterations, 0.21 s to 1e-6 of J* against
    scikit-learn's best 0.78 s); on well-conditioned data Newton's Hessian-vector products cost less than
    L-BFGS's gradients (200,000 x 50, 10 classes: 1.49 s to 1e-6 of J* against 1.90 s, scikit-learn's best
    1.80 s). Above it L-BFGS, whose passes are the fewest (Dask: each a round trip over the workers).
    """
    lr = params["learning_rate"]
    if params["penalty"] == "firth":
        return "firth"
    if lr in SCHEDULES[1:] or any(_changed(params[k], v) for k, v in SGD_OPTIONS.items()):
        return "sgd"
    if isinstance(lr, numbers.Real):
        return "gd"
    if smooth:
        if n_samples * n_params ** 2 <= SMALL_HESSIAN_FLOPS:
            return "newton"
        return "newton" if n_classes > 1 and n_samples * n_params <= SMALL_PASS_FLOPS else "lbfgs"
    return "newton" if n_params <= NEWTON_MAX_DENSE or column_newton else "gd"


def lbfgs_memory(data_bytes, n_params):
    """L-BFGS's history (correction pairs) for data of ``data_bytes`` (None: not known): its work array (two
    vectors of n_params float64 a pair) within half of the data's bytes, 5 to 20 pairs. Wide sparse data has few
    bytes per parameter: 100,000 x 200,000 with 50 non-zeros a row (58 MB) gets 8 pairs, which also converged
    sooner than 20 (118 iterations in 36 s against 91 in 51 s; peak memory 1.78x the CSR arrays against 1.82x,
    measured by tracemalloc)."""
    if data_bytes is None:  # as many as L-BFGS-B's usual default allows
        return 20
    return int(min(20, max(5, data_bytes // 2 // (16 * max(n_params, 1)))))


SOLVERS = {
    "gd": Solver("gd", gradient_descent, max_iter=5000, tol=1e-8, needs=("prox", "nonsmooth_value")),
    "sgd": Solver("sgd", stochastic_gradient_descent, max_iter=100, tol=1e-4,
                  needs=("n_samples", "batch_value_and_grad", "prox", "epoch_source")),
    "lbfgs": Solver("lbfgs", lbfgs, max_iter=1000, tol=1e-8, smooth_only=True),
    "firth": Solver("firth", firth, max_iter=100, tol=1e-8, needs=("firth",)),
    "newton": Solver("newton", newton, max_iter=100, tol=1e-8,
                     needs=("hessian", "hessian_operator", "hessian_preconditioner", "preconditioner_cost",
                            "flat_directions", "optimality", "l1_weights", "lasso_newton_direction")),
}

__all__ = ["SMALL_HESSIAN_FLOPS", "SOLVERS", "Solver", "choose", "gradient_descent", "lbfgs", "lbfgs_memory", "newton",
           "stochastic_gradient_descent"]
