"""Mini-batch / stochastic gradient descent.

One epoch shuffles the rows (from ``random_state``) and cuts them into
``ceil(n_samples / batch_size)`` batches of nearly equal size (at most
``batch_size`` rows; no tiny, extra-noisy last batch). For each batch
B the smooth part f of the cost is estimated without bias by
``objective.batch_value_and_grad(x, B)`` and the parameters take one step::

    x <- prox_{eta h}(x - eta g_B)        (x - eta g_B when h = 0)

``batch_size=1`` is SGD, ``batch_size=n_samples`` is full-batch gradient
descent (the rows are then not shuffled at all). The proximal step keeps the
L1 part h of an elastic net exact: coefficients come out exactly zero, and
the penalty is never dropped.

Learning-rate schedules (``t`` counts updates from 1, over the whole run)
------------------------------------------------------------------------
``"constant"``
    ``eta_t = eta0``. With a constant step SGD converges to a neighbourhood
    of the optimum whose size is proportional to ``eta0`` times the variance
    of the batch gradients (smaller for larger batches); plain gradient
    descent when ``batch_size = n_samples``.
``"invscaling"``
    ``eta_t = eta0 / t**power_t``. For ``1/2 < power_t <= 1`` the steps
    satisfy Robbins–Monro (``sum eta_t = inf``, ``sum eta_t² < inf``), so the
    noise is averaged out and the iterates converge to the optimum itself;
    ``power_t = 1/2`` (the default) decays more slowly and is the classical
    choice for convex, non-strongly-convex problems (error ``O(1/sqrt(t))``),
    especially with ``average=True``.
``"adaptive"``
    ``eta = eta0`` while the epoch cost keeps falling; whenever it has failed
    to fall by ``tol·|best|`` for ``n_iter_no_change`` epochs in a row, the
    step is divided by 5 (each division shrinks the noise neighbourhood of
    the constant step by the same factor) and the count restarts. The run
    stops (converged) when ``eta < 1e-6·eta0``.
``"auto"``
    No tuning. Two estimates at the starting point, then a step that
    follows the epoch costs:

    1. A diagonal scaling ``D``: the per-parameter second moment of the
       single-row gradients (the diagonal of the empirical Fisher matrix),
       estimated without per-row loops from the differences of the gradients
       of pairs of disjoint small batches, ``E (g_A - g_B)² = 2 Var / m`` for
       batches of m rows, from up to 10 000 rows. For the logistic loss at
       ``x = 0`` every row has ``(p - y)² = 1/4 = p (1 - p)``, so this *is*
       the diagonal of the Hessian there (Böhning's bound), and near the
       optimum of a well-specified model it approximates it (Bartlett's
       identity). Steps are taken in the metric of D,
       ``x <- prox(x - eta D⁻¹ g, eta D⁻¹)`` (for a separable L1 term that
       is exactly the proximal step in that metric), which undoes the scale
       of each column: a column multiplied by 1000 gets a step 10⁶ times
       smaller and the other columns keep theirs. Parameters never seen in
       the sample get the median of D. The estimate misses the curvature of
       a smooth (ridge) penalty, which dominates where the data hardly
       constrain a parameter (a nearly constant column; the collinear
       directions an already preconditioned objective caps), so it is kept
       only if it promises the faster typical rate: ``1 / c_D`` in its
       metric against ``median(D) / c_I`` in the plain one (``c`` as in 2,
       measured in both); a well-scaled objective such as
       :class:`~logitgd.preconditioned.Preconditioned` is thus stepped as it is.
    2. A step ``eta0 = 1 / c``, ``c`` the largest curvature of a batch
       objective along its own scaled gradient ``d = D⁻¹ g_B`` on the first
       10 batches of ``batch_size`` rows: ``c = dᵀ H_B d / dᵀ D d``, the local
       value from a finite difference of batch gradients, raised to the
       secant curvature over the proposed step ``1/c`` until that step does
       not overshoot the minimum of the batch objective along ``d`` (a short
       line search). This is the step that the noise of a batch of that size
       allows: for one row it is the "normalized" step ``1 / L_i`` of that
       row, for all rows ``1 / L`` of the whole problem, and in between it
       tracks the expected smoothness ``L_b ≈ L_max / b + L`` of a b-row batch
       (Gower et al., 2019).

    Then the "bold driver" rule (Vogl et al., 1988; Battiti, 1989) on the
    epoch costs: after an epoch that lowers the best watched cost by more
    than ``tol·|best|`` the step grows by 1.2; after any other epoch it is
    halved, and an epoch that did not lower the cost at all is undone (the
    iterate, average and counter go back to where the epoch started, and the
    recorded cost is the one kept). An epoch that fails to improve means the
    noise floor of the step has been reached (or the step overshoots), so
    the step shrinks and with it the floor; an epoch that improves lets the
    step grow, which matters because the logistic curvature at the start
    (``p = 1/2``) is the largest it will ever be, and near a confident fit
    the safe step is several times larger. Undoing keeps the returned
    iterate the best one seen, so a lucky epoch can never make the run stop
    on a worse one, and ``loss_history`` never goes up. The run stops by the
    common rule below: ``n_iter_no_change`` epochs without improvement are as
    many halvings of the step that did not help. If an epoch blows up (a
    non-finite value, or a cost ten times the starting one), it is undone
    and redone, not counted, with a step ten times smaller, instead of
    raising :class:`DivergenceError`.

Stopping
--------
Once per epoch the full cost ``J = f + h`` is evaluated on all rows at the
iterate that would be returned (the running average with ``average=True``,
once averaging has started) and appended to ``loss_history``. The run stops
(``converged``) when the watched cost (J, or the validation cost when
``validation`` is given) has not improved by more than ``tol·|best|`` for
``n_iter_no_change`` epochs in a row, as scikit-learn's ``SGDClassifier``
does, or when the adaptive schedules have shrunk the step below
``1e-6·eta0``; otherwise after ``max_iter`` epochs (``"max_iter"``).
``tol=None`` switches the cost-based rules (stopping and step cuts) off.

Continuation
------------
The result carries ``state`` (:class:`SGDState`): the raw iterate, update
counter, current step, diagonal scaling, averaging sums, random generator,
best costs and stopping counters. Passing it back as ``state=`` continues
exactly where the run stopped: E calls with ``max_iter=1`` give bit for bit
the run of one call with ``max_iter=E`` (on the same objective and options).
"""

from __future__ import annotations

import math
import numbers
import weakref

import numpy as np

from ..exceptions import DivergenceError
from ..result import IterationState, SolverResult
from .sgd_epoch import Blowup as _Blowup
from .sgd_epoch import EpochPlan, Iterate, SGDState, auto_step, sgd_epoch

SCHEDULES = ("auto", "constant", "invscaling", "adaptive")

_CUT = 5.0            # step divisor of "adaptive"
_AUTO_CUT = 2.0       # step divisor of "auto" after an epoch that did not improve
_AUTO_GROW = 1.2      # step factor of "auto" after an epoch that improved
_BLOWUP_CUT = 10.0    # step divisor of "auto" after an epoch that blew up
_MIN_STEP = 1e-6      # stop (or give up) once eta < _MIN_STEP * eta0
_BLOWUP = 10.0        # an epoch cost above _BLOWUP * max(|J0|, 1) has diverged


def stochastic_gradient_descent(objective, x0, *, batch_size=32, learning_rate="auto", eta0=None,
                                power_t=0.5, max_iter=100, tol=1e-4, n_iter_no_change=5,
                                average=False, random_state=None, validation=None, callback=None,
                                state=None, epoch=sgd_epoch, auto_step=auto_step):
    """Minimize ``objective`` by mini-batch stochastic (proximal) gradient descent.

    See the module docstring for the schedules, the stopping rule and the
    continuation state.

    Parameters
    ----------
    objective : object
        With ``n_samples``, ``batch_value_and_grad(x, rows)`` (f and its
        gradient estimated on ``rows``, unbiased), ``value(x)``, and, for a
        non-smooth part h, ``is_smooth``, ``nonsmooth_value(x)`` and
        ``prox(x, step)`` (``step`` a float, or with ``"auto"`` an ndarray of
        shape (n_params,)), and ``epoch_source(order, bounds)`` (None, or the
        batch gradients of an epoch where the rows are).
        :class:`~logitgd.objective.LinearObjective` and
        :class:`~logitgd.preconditioned.Preconditioned` both qualify.
    x0 : ndarray of shape (n_params,)
        Starting point; ignored (may be None) when ``state`` is given.
    batch_size : int >= 1
        Rows per update; 1 is SGD, ``n_samples`` (or more) full-batch GD.
    learning_rate : {"auto", "constant", "invscaling", "adaptive"}
        The step schedule.
    eta0 : float > 0 or None
        Initial step; required by "constant", "invscaling" and "adaptive",
        must be None for "auto" (which estimates it).
    power_t : float >= 0
        Exponent of "invscaling".
    max_iter : int >= 1
        Epochs (full passes over the rows) in this call.
    tol : float >= 0 or None
        Relative improvement of the epoch cost that counts as progress.
        None: no cost-based stopping, and no step changes for "adaptive" and
        "auto" (which then keeps its estimated step).
    n_iter_no_change : int >= 1
        Epochs without progress before stopping (or, for "adaptive", before
        dividing the step by 5).
    average : bool
        Return the running average of the iterates, started after the first
        epoch (averaged SGD, Polyak–Ruppert). The run itself continues from
        the raw iterates; the cost, the stopping rule and ``callback`` see the
        average. An average of sparse iterates is only as sparse as all of them.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Shuffling (and the samples "auto" estimates from). An int seeds a new
        ``numpy.random.default_rng``; a generator is used (and advanced) as
        is. Ignored when ``state`` is given (the state carries its own).
    validation : object, callable or None
        Early stopping: a second objective on held-out rows, in the same
        coordinates as ``objective`` (its ``cost(x)``, or ``value(x)`` plus
        ``nonsmooth_value(x)``, is used), or a callable ``x -> float``. When
        given, the stopping rule and step cuts watch its cost instead of the
        training cost, and the returned iterate is the one with the lowest
        validation cost seen (the starting point included).
    callback : callable or None
        ``callback(IterationState)`` after every epoch with the iterate that
        would be returned, its cost J and ``iteration`` = epochs done in this
        call; a truthy return stops with ``status="stopped"``.
    state : SGDState or None
        ``result.state`` of an earlier call, to continue it.
    epoch, auto_step : callables
        One epoch from explicit state, and the "auto" step estimate:
        :func:`~.sgd_epoch.sgd_epoch` and :func:`~.sgd_epoch.auto_step`, or a
        backend's drivers of them (Dask: over the partitions in turn).

    Returns
    -------
    SolverResult
        ``x`` (the final, averaged or best-validation iterate), ``fun`` (its
        cost J), ``n_iter`` (epochs done in this call), ``loss_history`` (J at
        the start of the call, then after each epoch), ``grad_norm`` (max-norm
        of the last mini-batch gradient mapping ``(x - x+) / step``, an
        estimate), ``status`` (``"converged"``, ``"max_iter"``,
        ``"stopped"``, ``"interrupted"``) and ``state`` (:class:`SGDState`;
        None if interrupted before the first update of a new run).

    Raises
    ------
    ValueError
        For a bad parameter, naming it.
    DivergenceError
        When a fixed schedule makes the cost or a gradient non-finite, or
        the cost grows tenfold ("auto" shrinks its step instead).
    """
    _check_options(batch_size, learning_rate, eta0, power_t, max_iter, tol, n_iter_no_change,
                   average, validation, callback, state)
    n = int(objective.n_samples)
    if n < 1:
        raise ValueError("objective has no rows (n_samples=0): there is nothing to fit.")
    run = _Run(objective, batch_size=min(int(batch_size), n), learning_rate=learning_rate,
               power_t=float(power_t), tol=None if tol is None else float(tol),
               n_iter_no_change=int(n_iter_no_change), average=bool(average),
               validation=_validation_cost(validation), callback=callback, epoch=epoch, auto_step=auto_step)
    return run.solve(x0, eta0, random_state, state, int(max_iter))


# -- option checks ---------------------------------------------------------------

def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _check_options(batch_size, learning_rate, eta0, power_t, max_iter, tol, n_iter_no_change,
                   average, validation, callback, state):
    if not (_is_int(batch_size) and batch_size >= 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    if not (isinstance(learning_rate, str) and learning_rate in SCHEDULES):
        raise ValueError(f"learning_rate must be one of {SCHEDULES}, got {learning_rate!r}.")
    if learning_rate == "auto":
        if eta0 is not None:
            raise ValueError(f"eta0 must be None with learning_rate='auto' (which estimates the step), "
                             f"got eta0={eta0!r}; pick learning_rate='constant', 'invscaling' or "
                             "'adaptive' to set it yourself.")
    elif not (_is_real(eta0) and eta0 > 0):
        raise ValueError(f"eta0 must be a positive number with learning_rate={learning_rate!r}, "
                         f"got eta0={eta0!r} (or use learning_rate='auto', which needs no eta0).")
    if not (_is_real(power_t) and power_t >= 0):
        raise ValueError(f"power_t must be a number >= 0, got {power_t!r}.")
    if not (_is_int(max_iter) and max_iter >= 1):
        raise ValueError(f"max_iter must be an integer >= 1 (epochs), got {max_iter!r}.")
    if tol is not None and not (_is_real(tol) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0 or None, got {tol!r}.")
    if not (_is_int(n_iter_no_change) and n_iter_no_change >= 1):
        raise ValueError(f"n_iter_no_change must be an integer >= 1, got {n_iter_no_change!r}.")
    if average not in (True, False) or _is_int(average) and not isinstance(average, np.bool_):
        raise ValueError(f"average must be True or False, got {average!r}.")
    if validation is not None and not (hasattr(validation, "cost") or hasattr(validation, "value")
                                       or callable(validation)):
        raise ValueError("validation must be None, an objective (with cost or value) or a callable "
                         f"x -> float, got {type(validation).__name__}.")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {type(callback).__name__}.")
    if state is not None:
        if not isinstance(state, SGDState):
            raise ValueError(f"state must be the SGDState of an earlier result (result.state), got "
                             f"{type(state).__name__}.")
        if state.learning_rate != learning_rate:
            raise ValueError(f"state comes from a run with learning_rate={state.learning_rate!r}; it cannot "
                             f"be continued with learning_rate={learning_rate!r}.")
        if learning_rate != "auto" and float(eta0) != state.eta0:
            raise ValueError(f"state comes from a run with eta0={state.eta0!r}; it cannot be continued "
                             f"with eta0={eta0!r}.")


def _make_rng(random_state):
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is None or _is_int(random_state) or isinstance(random_state, np.random.SeedSequence):
        if _is_int(random_state) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state!r}.")
        return np.random.default_rng(random_state)
    raise ValueError("random_state must be None, an int, a numpy Generator or RandomState, got "
                     f"{random_state!r}.")


def _validation_cost(validation):
    if validation is None:
        return None
    if hasattr(validation, "cost"):
        return validation.cost
    if hasattr(validation, "value"):
        if getattr(validation, "is_smooth", True) or not hasattr(validation, "nonsmooth_value"):
            return validation.value
        return lambda x: validation.value(x) + validation.nonsmooth_value(x)
    return validation


# -- the run ---------------------------------------------------------------------

class _Run:
    def __init__(self, objective, *, batch_size, learning_rate, power_t, tol, n_iter_no_change,
                 average, validation, callback, epoch=sgd_epoch, auto_step=auto_step):
        self.obj = objective
        self.epoch = epoch
        self.auto_step = auto_step
        self.n = int(objective.n_samples)
        self.bs = batch_size
        self.lr = learning_rate
        self.power_t = power_t
        self.tol = tol
        self.patience = n_iter_no_change
        self.average = average
        self.vcost = validation
        self.callback = callback
        self.smooth = bool(getattr(objective, "is_smooth", True))

    def cost(self, x):
        return self.obj.value(x) + (0.0 if self.smooth else self.obj.nonsmooth_value(x))

    def watched(self, st):
        """The iterate that would be returned (ignoring the validation choice)."""
        if self.average and st.avg is not None and st.avg_count > 0:
            return st.avg
        return st.x

    # -- set-up ---------------------------------------------------------------
    def _new_state(self, x0, eta0, random_state):
        x = np.array(x0, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"x0 must be one-dimensional, got shape {np.shape(x0)}.")
        n_params = getattr(self.obj, "n_params", None)
        if n_params is not None and x.shape[0] != n_params:
            raise ValueError(f"x0 has {x.shape[0]} entries, the objective has {n_params} parameters.")
        if not np.all(np.isfinite(x)):
            raise ValueError("x0 contains NaN or infinite values.")
        rng = _make_rng(random_state)
        J0 = self.cost(x)
        if not math.isfinite(J0):
            raise ValueError(f"the cost at x0 is not finite ({J0!r}).")
        return SGDState(x=x, learning_rate=self.lr, t=0, eta0=math.nan if eta0 is None else float(eta0),
                        eta=math.nan if eta0 is None else float(eta0), scale=None, rng=rng, epoch=0,
                        initial_cost=J0, fun=J0, best=J0)

    def _resume(self, state):
        st = state._copy()
        x = st.x
        n_params = getattr(self.obj, "n_params", None)
        if n_params is not None and x.shape[0] != n_params:
            raise ValueError(f"state has {x.shape[0]} parameters, the objective has {n_params}.")
        if not self.average:
            st.avg, st.avg_count = None, 0
        same = st._objective_ref is not None and st._objective_ref() is self.obj
        if not same or st.fun_is_average != (self.watched(st) is st.avg):
            # other data (partial_fit on a new piece) or another watched iterate
            st.fun = self.cost(self.watched(st))
            if not same and st._objective_ref is not None:  # another piece (not a state unpickled, whose
                # objective is unknown): its cost before any step on it is held out, as a validation cost is
                st.previous_arrival, st.arrival, st.fresh_piece = st.arrival, st.fun, True
            st.validation_cost = None
            if not st.watches_validation:
                st.best = st.fun
                st.no_improvement = 0
        return st

    def _start_watching(self, st):
        """Align ``best`` and the counters with what this call watches."""
        m = self.watched(st)
        if self.vcost is not None:
            if st.validation_cost is None:
                st.validation_cost = float(self.vcost(m))
            if not st.watches_validation or st.best_x is None:
                st.watches_validation = True
                st.best = st.validation_cost
                st.no_improvement = 0
                st.best_x, st.best_fun, st.best_validation = m.copy(), st.fun, st.validation_cost
        elif st.watches_validation:
            st.watches_validation = False
            st.best = st.fun
            st.no_improvement = 0
            st.best_x = st.best_fun = st.best_validation = None
            st.validation_cost = None

    def solve(self, x0, eta0, random_state, state, max_iter):
        st = None
        status = message = None
        history = []
        vhistory = None
        n_done = 0
        gnorm = math.nan
        live = [None]  # the latest (x, t, avg, avg_count) inside an epoch
        try:
            if state is None:
                st = self._new_state(x0, eta0, random_state)
                if self.lr == "auto":
                    # may be interrupted: there is no state to return until it is done
                    pending, st = st, None
                    pending.eta0, pending.scale = self.auto_step(self.obj, pending.x, pending.rng, self.bs)
                    pending.eta = pending.eta0
                    st = pending
            else:
                st = self._resume(state)
            self._start_watching(st)
            history.append(st.fun)
            vhistory = None if self.vcost is None else [st.validation_cost]
            while n_done < max_iter:
                snapshot = (st.x, st.t, st.avg, st.avg_count, st.fun, st.fun_is_average, st.validation_cost)
                try:
                    gnorm = self._epoch(st, live)
                    m = self.watched(st)
                    J = self.cost(m)
                    if not math.isfinite(J) or J > _BLOWUP * max(abs(st.initial_cost), 1.0):
                        raise _Blowup(f"the cost rose from {st.initial_cost:.6g} to {J:.6g}")
                except _Blowup as exc:
                    if self.lr != "auto":
                        raise self._divergence(st, exc.what) from None
                    (st.x, st.t, st.avg, st.avg_count, st.fun, st.fun_is_average,
                     st.validation_cost) = snapshot
                    live[0] = None
                    st.eta /= _BLOWUP_CUT
                    if st.eta < _MIN_STEP * st.eta0:
                        raise self._divergence(st, exc.what) from None
                    continue
                V = None if self.vcost is None else float(self.vcost(m))
                n_done += 1
                st.epoch += 1
                stop, reject = self._after_epoch(st, m, J, V)
                if reject:  # "auto": back to the start of the epoch
                    (st.x, st.t, st.avg, st.avg_count, st.fun, st.fun_is_average,
                     st.validation_cost) = snapshot
                    m, J, V = self.watched(st), st.fun, st.validation_cost
                else:
                    st.fun, st.fun_is_average, st.validation_cost = J, m is st.avg, V
                history.append(J)
                if vhistory is not None:
                    vhistory.append(V)
                live[0] = None  # the epoch is committed
                if self.callback is not None and self.callback(IterationState(
                        iteration=n_done, x=m, fun=J, grad_norm=gnorm)):
                    status, message = "stopped", "stopped by callback"
                    break
                if stop:
                    status, message = "converged", stop
                    break
            else:
                status, message = "max_iter", f"reached max_iter={max_iter} epochs"
        except KeyboardInterrupt:
            status, message = "interrupted", "interrupted by the user (KeyboardInterrupt)"
            if st is None:  # during the set-up of "auto": nothing done yet
                x = np.array(x0, dtype=np.float64)
                return SolverResult(x=x, fun=self._safe_cost(x), n_iter=0, converged=False,
                                    status=status, message=message, loss_history=history,
                                    grad_norm=gnorm, state=None)
            if live[0] is not None:  # in the middle of an epoch: keep its last update
                st.x, st.t, st.avg, st.avg_count = live[0]
                st.fun = self._safe_cost(self.watched(st))
                st.fun_is_average = self.watched(st) is st.avg
                st.validation_cost = None
        if vhistory is not None:
            st.validation_history = vhistory
        try:
            st._objective_ref = weakref.ref(self.obj)
        except TypeError:
            st._objective_ref = None
        if self.vcost is not None:
            x, fun = st.best_x, st.best_fun
        else:
            x, fun = self.watched(st), st.fun
        return SolverResult(x=x.copy(), fun=fun, n_iter=n_done, converged=status == "converged",
                            status=status, message=message, loss_history=history,
                            grad_norm=gnorm, state=st._copy())

    def _safe_cost(self, x):
        try:
            return self.cost(x)
        except KeyboardInterrupt:
            return math.nan

    def _divergence(self, st, what):
        eta = st.eta0 if self.lr == "invscaling" else st.eta
        hint = ("Use a smaller eta0, or learning_rate='auto', which estimates the step from the "
                "curvature of the first mini-batches." if self.lr != "auto" else
                "The objective is not finite along the gradient steps even for tiny steps.")
        return DivergenceError(
            f"stochastic gradient descent diverged with learning_rate={self.lr!r} "
            f"(eta0={st.eta0:g}, step {eta:g}, batch_size={self.bs}): {what} in epoch {st.epoch + 1}. "
            + hint)

    # -- one epoch --------------------------------------------------------------
    def _epoch(self, st, live):
        """One epoch from ``st`` (:func:`~.sgd_epoch.sgd_epoch` or the backend's driver); returns the gradient norm."""
        plan = EpochPlan(batch_size=self.bs, learning_rate=self.lr, eta=st.eta, eta0=st.eta0, power_t=self.power_t,
                         scale=st.scale, averaging=self.average and st.epoch >= 1, smooth=self.smooth)
        it, gnorm = self.epoch(self.obj, Iterate(st.x, st.t, st.avg, st.avg_count), st.rng, plan, live)
        st.x, st.t, st.avg, st.avg_count = it
        return gnorm

    # -- after an epoch ----------------------------------------------------------
    def _after_epoch(self, st, m, J, V):
        """Update the best costs, counters and step: ``(message if the run should stop, reject)``.

        ``reject`` (``"auto"`` only): the epoch did not lower the watched cost;
        the caller puts the iterate back where the epoch started.
        """
        watched = J if V is None else V
        if V is not None and V < st.best_validation:
            st.best_x, st.best_fun, st.best_validation = m.copy(), J, V
        if self.tol is None:
            st.best = min(st.best, watched)
            return None, False
        what = "validation cost" if V is not None else "cost"
        if self.lr == "auto" and V is None and st.fresh_piece:
            # partial_fit, an epoch on a new piece: that piece's own cost after steps on it always looks
            # better (the steps fitted it: the step grew on every piece and never settled), so the step follows
            # the held-out costs at arrival instead, this piece's against the one before's: the bold driver's
            # rule on costs that were not fitted, and no epoch undone (it would drop the piece's rows)
            st.fresh_piece = False  # further epochs on this piece: the rule below
            st.best = min(st.best, watched)
            if st.previous_arrival is not None:
                st.eta = st.eta * _AUTO_GROW if st.arrival < st.previous_arrival else st.eta / _AUTO_CUT
                st.eta = max(st.eta, _MIN_STEP * st.eta0)  # a stream has no end: the step keeps learning
            return None, False
        improved = watched < st.best - self.tol * abs(st.best)
        reject = self.lr == "auto" and not watched < st.best
        st.no_improvement = 0 if improved else st.no_improvement + 1
        st.best = min(st.best, watched)
        if self.lr == "auto":
            st.eta = st.eta * _AUTO_GROW if improved else st.eta / _AUTO_CUT
        elif self.lr == "adaptive" and st.no_improvement >= self.patience:
            st.eta /= _CUT
            st.no_improvement = 0
        if self.lr in ("auto", "adaptive") and st.eta < _MIN_STEP * st.eta0:
            return (f"the step fell below {_MIN_STEP:g}·eta0 after the {what} stopped improving "
                    f"by tol={self.tol:g} (relative)"), reject
        if self.lr != "adaptive" and st.no_improvement >= self.patience:
            return (f"the {what} has not improved by more than tol={self.tol:g} (relative) for "
                    f"{self.patience} epochs"), reject
        return None, reject
