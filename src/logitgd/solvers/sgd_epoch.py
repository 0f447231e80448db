"""One epoch of mini-batch (proximal) gradient descent, and the "auto" step, as functions over explicit state.

:func:`sgd_epoch` takes the iterate (an :class:`Iterate`: x, the update count,
the running average) and the generator, and returns the new iterate: nothing
of the run is changed in place, so the run can undo an epoch by keeping the
old value (optax's style). The same function runs everywhere:

* on the host, the gradients come from ``problem.batch_value_and_grad``;
* on a device, ``problem.epoch_source(order, bounds)`` gives a source whose
  gradients are computed where the rows are, with no host synchronisation
  per step (a non-finite gradient is flagged there and raised at the end);
* for Dask data, the estimator passes a driver that runs this function on
  each partition in turn, on the worker that holds it.

See :mod:`logitgd.solvers.sgd` for the schedules and for "auto".
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .._numerics import namespace
from ..exceptions import DivergenceError

_PROBE_ROWS = 10_000  # rows sampled to estimate the diagonal scaling of "auto"
_PROBE_PAIRS = 128    # pairs of small batches they are cut into
_PROBE_BATCHES = 10   # batches whose curvature sets the step of "auto"


@dataclass
class SGDState:
    """Everything needed to continue a stochastic gradient descent run.

    Returned as ``result.state``; pass it back as ``state=`` to continue.
    Treat it as opaque and immutable (the solver never modifies one it is
    given, so the same state can be continued twice with the same outcome).

    Attributes
    ----------
    x : ndarray of shape (n_params,)
        The raw (not averaged) iterate the next update starts from.
    learning_rate : str
        The schedule that produced it.
    t : int
        Updates done so far.
    eta0 : float
        Initial step (for ``"auto"``: the estimated one).
    eta : float
        Current step of ``"constant"``, ``"adaptive"`` and ``"auto"``.
    scale : ndarray of shape (n_params,) or None
        Diagonal scaling D of ``"auto"`` (steps are ``eta / D``).
    rng : numpy.random.Generator or numpy.random.RandomState
        Shuffling generator, in the state it is to continue from.
    epoch : int
        Epochs done over the whole run.
    initial_cost : float
        Cost at the very start of the run (the divergence test compares
        with it).
    fun : float
        Cost of the watched iterate (average or raw) after the last epoch.
    fun_is_average : bool
        Whether ``fun`` is the cost of the average.
    avg : ndarray of shape (n_params,) or None
        Running average of the iterates (``average=True``, from the second
        epoch on); ``avg_count`` iterates are in it.
    best : float
        Best watched cost so far (validation cost if watched, else J).
    no_improvement : int
        Epochs in a row without an improvement of ``best`` by ``tol·|best|``.
    watches_validation : bool
        Whether ``best`` is a validation cost.
    best_x, best_fun, best_validation : ndarray, float, float or None
        With a validation objective: the iterate of lowest validation cost,
        its training cost and its validation cost.
    validation_cost : float or None
        Validation cost of the watched iterate after the last epoch.
    validation_history : list of float or None
        Validation costs of the last call, aligned with ``loss_history``.
    arrival, previous_arrival, fresh_piece : float or None, float or None, bool
        Continued on other data (``partial_fit`` on a new piece): the cost of that piece at the iterate it
        arrived to, before any step on it; the same for the piece before; and whether no epoch has run on this
        piece yet. ``"auto"`` sets its step by these held-out costs there (see :mod:`.sgd`).
    """

    x: np.ndarray
    learning_rate: str
    t: int
    eta0: float
    eta: float
    scale: np.ndarray | None
    rng: object
    epoch: int
    initial_cost: float
    fun: float
    fun_is_average: bool = False
    avg: np.ndarray | None = None
    avg_count: int = 0
    best: float = math.inf
    no_improvement: int = 0
    watches_validation: bool = False
    best_x: np.ndarray | None = None
    best_fun: float | None = None
    best_validation: float | None = None
    validation_cost: float | None = None
    validation_history: list | None = None
    arrival: float | None = None
    previous_arrival: float | None = None
    fresh_piece: bool = False
    _objective_ref: object = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        # the reference to the objective (only a shortcut) neither pickles nor deep-copies
        state = self.__dict__.copy()
        state["_objective_ref"] = None
        return state

    def _copy(self):
        """A deep copy (arrays and generator), sharing only the objective reference."""
        out = copy.deepcopy(self)
        out._objective_ref = self._objective_ref
        return out


class Blowup(Exception):
    """An epoch went non-finite or grew the cost tenfold (the run then undoes it)."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what


class Iterate(NamedTuple):
    """The part of an SGD run an epoch changes: ``x``, updates ``t``, the average and its count."""

    x: object
    t: int
    avg: object
    avg_count: int


@dataclass(frozen=True)
class EpochPlan:
    """What an epoch needs to know of the run: the step, the schedule and whether it averages."""

    batch_size: int
    learning_rate: str
    eta: float
    eta0: float
    power_t: float
    scale: np.ndarray | None
    averaging: bool
    smooth: bool


def batch_order(rng, n, batch_size):
    """``(order, bounds)``: the rows of one epoch in batch order and the batch boundaries.

    One ``rng.permutation(n)`` cut into ``ceil(n / batch_size)`` batches of
    nearly equal size (the first ``n % n_batches`` one row longer), each
    sorted; all rows in order, unshuffled, when ``batch_size >= n``.
    """
    if batch_size >= n:
        return np.arange(n), np.array([0, n])
    nb = -(-n // batch_size)
    perm = rng.permutation(n)
    sizes = np.full(nb, n // nb)
    sizes[:n % nb] += 1
    bounds = np.zeros(nb + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    ids = np.repeat(np.arange(nb), sizes)
    return perm[np.lexsort((perm, ids))], bounds


class HostSource:
    """Batch gradients on the host from ``problem.batch_value_and_grad``; a non-finite one raises at once."""

    each_step = True

    def __init__(self, problem, order, bounds):
        self.problem, self.order, self.bounds = problem, order, bounds
        self.n_batches = len(bounds) - 1
        self.whole = self.n_batches == 1 and len(order) == bounds[-1] and bounds[0] == 0

    def start(self, it):
        return it

    def asarray(self, a):
        return a

    def grad(self, x, i):
        rows = slice(None) if self.whole else self.order[self.bounds[i]:self.bounds[i + 1]]
        f, g = self.problem.batch_value_and_grad(x, rows)
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            raise Blowup("a mini-batch value or gradient became non-finite")
        return g

    def finish(self, it):
        return it

    def max_abs(self, v):
        return float(np.max(np.abs(v))) if v.size else 0.0


def sgd_epoch(problem, it, rng, plan, live=None):
    """One epoch of updates ``x <- prox_{eta h}(x - eta g_B)`` over the batches of :func:`batch_order`.

    Parameters
    ----------
    problem : objective (or preconditioned objective)
        ``n_samples``, ``batch_value_and_grad``, ``prox``, ``epoch_source``.
    it : Iterate
    rng : numpy.random.Generator or RandomState
        Shuffles the rows (advanced).
    plan : EpochPlan
    live : list or None
        ``live[0]`` receives the iterate after each update on the host (so an
        interrupted epoch keeps its last update).

    Returns
    -------
    (Iterate, float)
        The new iterate and the max-norm of the last gradient mapping ``(x - x+) / step``.

    Raises
    ------
    Blowup
        When a batch value or gradient is not finite.
    """
    order, bounds = batch_order(rng, int(problem.n_samples), plan.batch_size)
    src = problem.epoch_source(order, bounds) or HostSource(problem, order, bounds)
    x, t, avg, k = src.start(it)
    step = plan.eta / src.asarray(plan.scale) if plan.scale is not None else plan.eta
    invscaling = plan.learning_rate == "invscaling"
    if plan.averaging and avg is None:
        avg, k = namespace(x).zeros_like(x), 0
    x_prev = x
    for i in range(src.n_batches):
        g = src.grad(x, i)
        t += 1
        if invscaling:
            step = plan.eta0 / t ** plan.power_t
        z = x - step * g
        x_new = z if plan.smooth else problem.prox(z, step)
        if plan.averaging:
            k += 1
            avg = avg + (x_new - avg) / k
        x_prev, x = x, x_new
        if live is not None and src.each_step:
            live[0] = Iterate(x, t, avg, k)
    gnorm = src.max_abs((x_prev - x) / step)
    out = src.finish(Iterate(x, t, avg, k))
    if live is not None:
        live[0] = out
    return out, gnorm


def auto_step(problem, x, rng, batch_size):
    """``(eta0, D or None)``: scaling and a safe step at ``x`` for batches of ``batch_size`` rows (see
    :mod:`logitgd.solvers.sgd`)."""
    n, bs = int(problem.n_samples), int(batch_size)
    D = _fisher_diagonal(problem, x, rng)
    bvg = problem.batch_value_and_grad
    probes = []
    for _ in range(min(_PROBE_BATCHES, -(-n // bs))):
        rows = slice(None) if bs >= n else np.sort(rng.choice(n, bs, replace=False))
        f, g = bvg(x, rows)
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            raise DivergenceError("the objective or its gradient is not finite at the starting point.")
        probes.append((rows, g))
    c_scaled = max((_curvature(problem, x, rows, g, D) for rows, g in probes), default=0.0)
    c_plain = max((_curvature(problem, x, rows, g, None) for rows, g in probes), default=0.0)
    # The scaling is an estimate (it misses the curvature of a smooth penalty,
    # which matters where the data hardly do); keep it only if it promises the
    # faster typical rate: 1/c in its metric, against median(D)/c without it.
    typical = float(np.median(D))
    if c_scaled > 0 and math.isfinite(c_scaled) and (
            not (c_plain > 0 and math.isfinite(c_plain)) or 1.0 / c_scaled >= typical / c_plain):
        return 1.0 / c_scaled, D
    if c_plain > 0 and math.isfinite(c_plain):
        return 1.0 / c_plain, None
    return 1.0, D

def _curvature(problem, x, rows, g, D):
    """Curvature of the batch objective along ``d = D⁻¹ g`` in the metric D (I if None).

    ``dᵀ H d / dᵀ D d`` from a finite difference of gradients, raised to the
    secant curvature over the step ``1 / c`` until that step no longer
    overshoots the batch objective's minimum along ``d``.
    """
    bvg = problem.batch_value_and_grad
    d = g if D is None else g / D
    dDd = float(d @ g)
    if not dDd > 0:
        return 0.0
    eps = 1e-4 / math.sqrt(dDd)  # a step of length 1e-4 in the metric
    c = max(float((bvg(x + eps * d, rows)[1] - g) @ d) / (eps * dDd), 0.0)
    for _ in range(8):
        if not c > 0:
            break
        s = 1.0 / c
        g_s = bvg(x - s * d, rows)[1]
        secant = float((g - g_s) @ d) / (s * dDd) if np.all(np.isfinite(g_s)) else math.inf
        if not math.isfinite(secant):
            c *= 10.0
            continue
        if secant <= c * (1 + 1e-9):
            break
        c = secant
    return c

def _fisher_diagonal(problem, x, rng):
    """Per-parameter second moment of the single-row gradients at ``x``, from batch gradients."""
    n = int(problem.n_samples)
    S = min(n, _PROBE_ROWS)
    pairs = max(1, min(_PROBE_PAIRS, S // 2))
    m = max(1, S // (2 * pairs))
    if n < 2:
        return np.ones_like(x)
    idx = rng.choice(n, size=min(n, 2 * pairs * m), replace=False)
    bvg = problem.batch_value_and_grad
    sq = np.zeros_like(x)
    total = np.zeros_like(x)
    for k in range(pairs):
        a = np.sort(idx[2 * k * m:(2 * k + 1) * m])
        b = np.sort(idx[(2 * k + 1) * m:(2 * k + 2) * m])
        ga, gb = bvg(x, a)[1], bvg(x, b)[1]
        sq += (ga - gb) ** 2
        total += ga + gb
    var = 0.5 * m * sq / pairs
    mean = total / (2 * pairs)
    D = var + mean ** 2
    ok = np.isfinite(D) & (D > 0)
    if not ok.any():
        return np.ones_like(x)
    D[~ok] = np.median(D[ok])
    return D
