"""Time to J <= f* (1 + 1e-6) of one fit: the problem, logitgd's solvers and the competitors' (shared by
bench_solvers and bench_sparse; the method is described in bench_solvers' docstring).

A :class:`Problem` holds the data, the penalty, the independent evaluator of J and the target. Each
``run_*`` function times one solver on it and returns a :func:`result` dict (status, time, iterations,
J, notes, every wall time): logitgd's fits through a timestamping callback (:func:`run_logitgd`), the
competitors' as complete fits with the smallest ``max_iter`` that reaches the target
(:func:`search_max_iter`; scikit-learn's ``lbfgs`` through a traced fit, ``SGDClassifier`` by epochs).
"""

from __future__ import annotations

import sys
import time
import traceback
import types
import warnings

import numpy as np

from benchmarks.common import solvers_reference as ref

TARGET_REL = 1e-6
CHEAP_S = 5.0  # a timed fit shorter than this is repeated (best of 3) even where --repeats is 1
OUR_TOL = 1e-12
OUR_MAX_ITER = 1_000_000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# -- one problem ---------------------------------------------------------------------
class Problem:
    """A data set, a penalty, its reference optimum and the target."""

    def __init__(self, dataset, penalty, X, y, alpha, budget, repeats, gate):
        self.dataset, self.penalty, self.X, self.y, self.alpha = dataset, penalty, X, y, alpha
        self.n, self.d = X.shape
        self.budget, self.repeats, self.gate = budget, repeats, gate
        self.cost = ref.Cost(X, y, penalty, alpha)
        self.C = 1.0 / (self.n * alpha)
        self.reference = None
        self.f_star = self.target = None

    def solve_reference(self):
        self.reference = ref.reference_optimum(self.cost, log=log)
        self.f_star = self.reference["f"]
        self.target = self.f_star * (1 + TARGET_REL)

    def J(self, coef, intercept):
        return self.cost(np.ravel(coef), float(np.ravel(intercept)[0]) if np.ndim(intercept) else float(intercept))

    def gap(self, J):
        return (J - self.f_star) / self.f_star


def n_repeats(P, first_wall):
    """How many timed fits in all: ``P.repeats``, or 3 where one fit is cheap (< CHEAP_S)."""
    return P.repeats if P.repeats > 1 or first_wall >= CHEAP_S else 3


def result(status, **kw):
    r = {"status": status, "time": None, "iters": None, "J": None, "note": "", "walls": [], "tries": []}
    r.update(kw)
    return r


# -- logitgd ----------------------------------------------------------------------------
def _short_error(e):
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg}"[:300]


def fit_logitgd(P, solver, X=None, y=None, stop_at_target=True, budget=None, **params):
    """One logitgd fit with the timestamping callback. Returns a dict (or raises)."""
    from logitgd import LogisticRegression  # imported lazily: solvers are being written

    X = P.X if X is None else X
    y = P.y if y is None else y
    budget = P.budget if budget is None else budget
    state = {"hit_t": None, "hit_it": None, "hit_fun": None, "calls": 0, "over": False}
    target = P.target
    t0 = [0.0]

    def callback(s):
        t = time.perf_counter() - t0[0]
        state["calls"] += 1
        if state["hit_t"] is None and target is not None and s.fun <= target:
            state.update(hit_t=t, hit_it=s.iteration, hit_fun=float(s.fun))
            if stop_at_target:
                return True
        if t > budget:
            state["over"] = True
            return True
        return False

    kw = {"solver": solver, "penalty": P.penalty, "alpha": P.alpha, "callback": callback}
    kw.update(params)
    model = LogisticRegression(**kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0[0] = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - t0[0]
    state["wall"] = wall
    state["model"] = model
    state["warnings"] = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:160]}" for w in caught})
    return state


def warm_up_logitgd(P, solver):
    """Compile/load numba kernels and touch imports on a 20,000-row slice (>= 1e6 entries for dense)."""
    m = min(P.n, 20_000)
    try:
        fit_logitgd(P, solver, X=P.X[:m], y=P.y[:m], stop_at_target=False, budget=30.0, max_iter=3, tol=0.0)
    except Exception as e:  # noqa: BLE001 - the timed fit reports it
        log(f"    warm-up: {_short_error(e)}")


def run_logitgd(P, solver, defaults=False):
    """Time-to-target for one of our solvers (``defaults``: default tol/max_iter, run to its own stop)."""
    warm_up_logitgd(P, solver)
    params = {} if defaults else {"tol": OUR_TOL, "max_iter": OUR_MAX_ITER}
    runs = []
    want = P.repeats
    while len(runs) < want:
        P.gate()
        try:
            st = fit_logitgd(P, solver, stop_at_target=not defaults, **params)
        except Exception as e:  # noqa: BLE001 - the table reports it
            log(f"    {solver}: {_short_error(e)}")
            if not isinstance(e, (ValueError, NotImplementedError, TypeError)):
                log(traceback.format_exc())
            return result("error", note=_short_error(e))
        runs.append(st)
        reached = (not st["over"]) if defaults else st["hit_t"] is not None
        if len(runs) == 1:
            # repeat cheap fits only; a fit that ran into the budget says all it has to say once
            want = n_repeats(P, st["hit_t"] if st["hit_t"] is not None else st["wall"]) if reached else 1
    model = runs[-1]["model"]
    J = P.J(model.coef_, model.intercept_)
    last = runs[-1]
    notes = []
    if solver == "auto" and getattr(model, "solver_", None):
        notes.append(f"chose `{model.solver_}`")
    if defaults:
        notes.append(f"own stop: {getattr(model, 'stop_reason_', '?')}")
    if last["warnings"]:
        notes.append("; ".join(last["warnings"]))
    if last["calls"] == 0:
        notes.append("callback never called")
    hits = [r["hit_t"] for r in runs if r["hit_t"] is not None]
    walls = [r["wall"] for r in runs]
    n_iter = getattr(model, "n_iter_", None)
    if defaults:
        status = "reached" if J <= P.target else "not reached"
        r = result(status, time=min(walls), iters=n_iter, J=J, walls=walls)
        if last["hit_t"] is not None:
            notes.append(f"crossed the target at {last['hit_t']:.3g} s, iteration {last['hit_it']}")
    elif len(hits) == len(runs):
        r = result("reached", time=min(hits), iters=last["hit_it"], J=J, walls=hits, fit_wall=min(walls))
        if J > P.target:
            notes.append(f"**callback's J {last['hit_fun']:.15g} <= target, but the independent J of coef_ is not**")
            r["status"] = "mismatch"
    elif last["calls"] == 0 and J <= P.target:
        r = result("reached", time=min(walls), iters=n_iter, J=J, walls=walls)
        notes.append("time = whole fit")
    else:
        status = "budget" if last["over"] else "not reached"
        r = result(status, time=min(walls), iters=n_iter, J=J, walls=walls)
        if not last["over"]:
            notes.append(f"stopped on its own: {getattr(model, 'stop_reason_', '?')}")
    r["note"] = "; ".join(notes)
    return r


# -- competitors: search over max_iter ----------------------------------------------------
def search_max_iter(P, fit_k, k0=1, growth=2, resolution=0.1, label=""):
    """Smallest max_iter (to ``resolution``) whose full fit reaches the target, under the budget.

    ``fit_k(k)`` -> dict(wall, n_iter, J). Grows k geometrically, never
    starting a fit predicted (linearly in k) to take longer than the budget;
    then bisects. Returns the result dict for the reported fit.
    """
    tried = {}
    spent = [0.0]

    def run(k):
        if P.repeats == 1:  # the search fits are the timed fits (on `real`, the repeats below are)
            P.gate()
        r = fit_k(k)
        r["k"] = k
        tried[k] = r
        spent[0] += r["wall"]
        log(f"    {label} max_iter={k}: n_iter={r['n_iter']} wall={r['wall']:.3f}s gap={P.gap(r['J']):.3e}")
        return r

    lo, k, hi = 0, k0, None
    while True:
        r = run(k)
        if r["J"] <= P.target:
            hi = k
            break
        if r["n_iter"] is not None and r["n_iter"] < k and lo and tried[lo]["n_iter"] == r["n_iter"]:
            # a larger max_iter did not buy a single iteration: it stops on its own
            return _not_reached(P, tried, f"stopped on its own after {r['n_iter']} iterations")
        if r["wall"] >= P.budget:
            return _not_reached(P, tried, "budget")
        lo = k
        nxt = k * growth
        per = r["wall"] / k
        if per * nxt > P.budget:
            nxt = int(P.budget / per)
            if nxt < 1.25 * k:  # the last fit already used most of the budget
                return _not_reached(P, tried, "budget")
        k = nxt
    # bisection, capped at twice the budget for the whole search
    while hi - lo > max(1, int(resolution * hi)) and spent[0] + tried[hi]["wall"] <= 2.5 * P.budget:
        mid = (lo + hi) // 2
        if run(mid)["J"] <= P.target:
            hi = mid
        else:
            lo = mid
    return _reached(P, tried, hi, lo, fit_k)


def _reached(P, tried, hi, lo, fit_k):
    best = tried[hi]
    # On `real` (repeats > 1) the search ran its fits back to back, warm, while
    # every logitgd fit is timed after the quiet gate: time the competitor's
    # repeats the same way and leave the search's wall out.
    gated = P.repeats > 1
    walls = [] if gated else [best["wall"]]
    for _ in range(n_repeats(P, best["wall"]) - (0 if gated else 1)):
        P.gate()
        walls.append(fit_k(hi)["wall"])
    note = f"max_iter={hi}" + (f" (max_iter={lo} did not reach)" if lo else "")
    if best.get("note"):
        note += "; " + best["note"]
    return result("reached", time=min(walls), iters=best["n_iter"], J=best["J"], walls=walls, note=note,
                  tries=sorted(tried.items()))


def _not_reached(P, tried, why):
    k, last = max(tried.items())
    bestk, best = min(tried.items(), key=lambda kv: kv[1]["J"])
    status = "budget" if why == "budget" else "not reached"
    note = (f"largest fit max_iter={k}: {last['wall']:.1f} s, gap {P.gap(last['J']):.1e}"
            + (f"; best gap {P.gap(best['J']):.1e} at max_iter={bestk}" if bestk != k else "")
            + ("" if why == "budget" else f"; {why}"))
    if last.get("note"):
        note += "; " + last["note"]
    return result(status, time=last["wall"], iters=last["n_iter"], J=best["J"] if bestk != k else last["J"],
                  walls=[last["wall"]], note=note, tries=sorted(tried.items()))


def _quiet_fit(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - t0
    return wall, caught


def sk_model(P, solver, k, tol=1e-15, **extra):
    from sklearn.linear_model import LogisticRegression as SkLR

    l1_ratio = 1.0 if P.penalty == "l1" else 0.0
    kw = {"solver": solver, "C": P.C, "l1_ratio": l1_ratio, "max_iter": k, "tol": tol}
    if solver in ("saga", "liblinear"):
        kw["random_state"] = 0
    kw.update(extra)
    return SkLR(**kw)


_ROUTINE = ("failed to converge", "max_iter was reached", "did not converge", "TOTAL NO. OF ITERATIONS")


def _unusual_warnings(caught):
    """Warnings other than the routine 'max_iter reached' (which every capped fit raises)."""
    msgs = {str(w.message).replace("\n", " ")[:150] for w in caught}
    return "; ".join(sorted(m for m in msgs if not any(r in m for r in _ROUTINE)))


def sk_fit_k(P, solver, **extra):
    def fit_k(k):
        model = sk_model(P, solver, k, **extra)
        wall, caught = _quiet_fit(model, P.X, P.y)
        return {"wall": wall, "n_iter": int(np.ravel(model.n_iter_)[0]), "J": P.J(model.coef_, model.intercept_),
                "note": _unusual_warnings(caught)}
    return fit_k


def warm_up(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the timed fit reports it
        log(f"    warm-up: {_short_error(e)}")


def run_sklearn(P, solver):
    m = min(P.n, 2000)
    warm_up(lambda: sk_model(P, solver, 5).fit(P.X[:m], P.y[:m]))
    extra = {}
    growth = 2
    if solver == "liblinear":
        # liblinear penalizes the intercept as the weight of a constant column of this
        # value; large enough that the intercept's penalty alpha |b| / s is ~1e-8 of J.
        extra["intercept_scaling"] = 1e7
    if solver == "saga":
        growth = 4
    try:
        return search_max_iter(P, sk_fit_k(P, solver, **extra), growth=growth, label=solver)
    except Exception as e:  # noqa: BLE001
        log(traceback.format_exc())
        return result("error", note=_short_error(e))


def run_sklearn_lbfgs(P):
    """Traced fit to find the first iteration reaching the target, then one clean timed fit."""
    import scipy.optimize
    import sklearn.linear_model._logistic as sk_logistic

    m = min(P.n, 2000)
    warm_up(lambda: sk_model(P, "lbfgs", 5).fit(P.X[:m], P.y[:m]))
    trace = []
    t0 = [0.0]

    def minimize(fun, x0, *args, callback=None, **kwargs):
        def cb(xk):
            t = time.perf_counter() - t0[0]
            trace.append((t, np.array(xk, dtype=np.float64, copy=True)))
            if callback is not None:
                callback(xk)
            if t > P.budget:
                raise StopIteration
        return scipy.optimize.minimize(fun, x0, *args, callback=cb, **kwargs)

    shim = types.ModuleType("optimize_traced")
    shim.__dict__.update(scipy.optimize.__dict__)
    shim.minimize = minimize
    saved = sk_logistic.optimize
    sk_logistic.optimize = shim
    try:
        model = sk_model(P, "lbfgs", 10**6)
        P.gate()
        t0[0] = time.perf_counter()
        wall, _ = _quiet_fit(model, P.X, P.y)
    finally:
        sk_logistic.optimize = saved
    d = P.d
    k_hit, t_hit = None, None
    gaps = []
    for i, (t, x) in enumerate(trace):
        J = P.trace_J(x) if hasattr(P, "trace_J") else P.cost(x[:d], x[d])
        gaps.append(P.gap(J))
        if J <= P.target:
            k_hit, t_hit = i + 1, t
            break
    log(f"    lbfgs traced: {len(trace)} iterations in {wall:.2f}s; first reaching the target: {k_hit}")
    if k_hit is None:
        J_last = P.J(model.coef_, model.intercept_)
        status = "budget" if trace and trace[-1][0] > P.budget else "not reached"
        return result(status, time=wall, iters=int(np.ravel(model.n_iter_)[0]), J=J_last, walls=[wall],
                      note=f"traced fit: {len(trace)} iterations, {wall:.1f} s, final gap {P.gap(J_last):.1e}")
    fit_k = sk_fit_k(P, "lbfgs")
    tried = {}
    k = k_hit
    for _ in range(3):  # the clean fit should reproduce the traced iterates
        P.gate()
        r = fit_k(k)
        tried[k] = r
        if r["J"] <= P.target:
            break
        k += 1
    else:
        return result("not reached", time=r["wall"], iters=r["n_iter"], J=r["J"], walls=[r["wall"]],
                      note=f"traced fit reached the target at iteration {k_hit}, clean fits up to {k} did not")
    res = _reached(P, tried, k, k - 1, fit_k)
    res["note"] = (f"max_iter={k}, tol=1e-15 (iteration {k - 1} of the traced fit did not reach); "
                   f"the traced fit crossed at {t_hit:.3g} s" + (f"; {r['note']}" if r.get("note") else ""))
    return res


def glum_model(P, k):
    from glum import GeneralizedLinearRegressor

    return GeneralizedLinearRegressor(family="binomial", alpha=P.alpha, l1_ratio=1.0 if P.penalty == "l1" else 0.0,
                                      fit_intercept=True, max_iter=k, gradient_tol=1e-15)


def run_glum(P):
    try:
        import glum  # noqa: F401
    except ImportError as e:
        return result("error", note=f"not installed ({e}); pip install glum")
    m = min(P.n, 2000)
    warm_up(lambda: _quiet_fit(glum_model(P, 5), P.X[:m], P.y[:m]))

    def fit_k(k):
        model = glum_model(P, k)
        wall, caught = _quiet_fit(model, P.X, P.y)
        return {"wall": wall, "n_iter": int(model.n_iter_), "J": P.J(model.coef_, model.intercept_),
                "note": _unusual_warnings(caught)}

    try:
        return search_max_iter(P, fit_k, growth=2, label="glum")
    except Exception as e:  # noqa: BLE001
        log(traceback.format_exc())
        return result("error", note=_short_error(e))


def run_sgdclassifier(P):
    from sklearn.linear_model import SGDClassifier

    def model():
        return SGDClassifier(loss="log_loss", penalty=P.penalty, alpha=P.alpha, fit_intercept=True,
                             random_state=0, tol=None)

    m = min(P.n, 2000)
    warm_up(lambda: model().partial_fit(P.X[:m], P.y[:m], classes=np.array([0.0, 1.0])))
    clf = model()
    elapsed = 0.0
    best = None
    history = []
    P.gate()
    epoch = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while elapsed < P.budget:
            epoch += 1
            t0 = time.perf_counter()
            clf.partial_fit(P.X, P.y, classes=np.array([0.0, 1.0]))
            elapsed += time.perf_counter() - t0
            J = P.J(clf.coef_, clf.intercept_)
            history.append((epoch, elapsed, J))
            if best is None or J < best[2]:
                best = (epoch, elapsed, J)
            if J <= P.target or not np.isfinite(J):
                break
    ep, t_best, J_best = best
    if J_best <= P.target:
        return result("reached", time=t_best, iters=ep, J=J_best, walls=[t_best], note="epochs via partial_fit")
    return result("budget" if elapsed >= P.budget else "not reached", time=elapsed, iters=epoch, J=J_best,
                  walls=[elapsed],
                  note=(f"{epoch} epochs in {elapsed:.1f} s; best gap {P.gap(J_best):.1e} after epoch {ep} "
                        f"({t_best:.1f} s); last gap {P.gap(history[-1][2]):.1e}"))
