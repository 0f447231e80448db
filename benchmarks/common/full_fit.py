"""bench_core's part 2, a full fit: the independent evaluator of J, its float64 Newton reference, and the
timed fits of logitgd and scikit-learn (how they are timed: bench_core's docstring)."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.special
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

import logitgd


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Objective:
    """Independent float64 NumPy evaluation of J(w, b) = mean log-loss + alpha/2 |w|^2."""

    def __init__(self, X, y, alpha, block=131072):
        self.X, self.y, self.alpha, self.block = X, y, alpha, block

    def __call__(self, w, b):
        X, y = self.X, self.y
        n = X.shape[0]
        total = 0.0
        for s in range(0, n, self.block):
            z = X[s:s + self.block] @ w + b
            total += float(np.sum(np.logaddexp(0.0, z) - y[s:s + self.block] * z))
        return total / n + 0.5 * self.alpha * float(w @ w)


def newton_reference(X, y, alpha, J, block=65536, max_iter=30):
    """Penalized logistic regression by Newton's method in float64 (with backtracking)."""
    n, d = X.shape
    theta = np.zeros(d + 1)
    f = J(theta[:d], theta[d])
    t0 = time.perf_counter()
    for it in range(1, max_iter + 1):
        g = np.zeros(d + 1)
        H = np.zeros((d + 1, d + 1))
        w, b = theta[:d], theta[d]
        for s in range(0, n, block):
            Xb = X[s:s + block]
            p = scipy.special.expit(Xb @ w + b)
            r = p - y[s:s + block]
            g[:d] += Xb.T @ r
            g[d] += r.sum()
            dd = p * (1.0 - p)
            Xs = Xb * np.sqrt(dd)[:, None]
            H[:d, :d] += Xs.T @ Xs
            H[:d, d] += Xb.T @ dd
            H[d, d] += dd.sum()
        H[d, :d] = H[:d, d]
        g /= n
        H /= n
        g[:d] += alpha * w
        H[np.diag_indices(d)] += alpha
        step = scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
        decrement = float(g @ step)  # Newton decrement squared
        t = 1.0
        while True:
            cand = theta - t * step
            f_new = J(cand[:d], cand[d])
            if f_new <= f or t < 1e-8:
                break
            t *= 0.5
        theta, f = cand, f_new
        log(f"  Newton {it}: J = {f!r}, decrement^2 = {decrement:.3g}")
        # Predicted decrease decrement/2 below 1e-17 J: at the rounding floor
        # of J itself (further steps only shuffle rounding errors).
        if decrement < 2e-17 * abs(f):
            break
    # gradient at the final point
    w, b = theta[:d], theta[d]
    g = np.zeros(d + 1)
    for s in range(0, n, block):
        Xb = X[s:s + block]
        r = scipy.special.expit(Xb @ w + b) - y[s:s + block]
        g[:d] += Xb.T @ r
        g[d] += r.sum()
    g /= n
    g[:d] += alpha * w
    return theta, f, it, time.perf_counter() - t0, float(np.max(np.abs(g)))


def best_of(runs, fn, gate):
    """Run ``fn()`` ``runs`` times; the result with the smallest wall time, plus all wall times."""
    results = []
    for _ in range(runs):
        gate()
        results.append(fn())
    best = min(results, key=lambda r: r["wall"])
    best = dict(best, walls=[r["wall"] for r in results])
    return best


def fit_logitgd(X, y, alpha, target, J, **kw):
    """Fit; with ``target``, a callback stops the fit at the first iterate with J <= target."""
    hits = []

    def callback(state):
        if target is not None and state.fun <= target:
            hits.append(state.iteration)
            return True
        return False

    model = logitgd.LogisticRegression(alpha=alpha, callback=callback, **kw)
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    f = J(model.coef_[0], float(model.intercept_[0]))
    return {"wall": wall, "n_iter": model.n_iter_, "J": f, "reason": model.stop_reason_}


def logitgd_breakdown(X, y, alpha, target):
    """Where one logitgd fit to the target spends its time (an extra, instrumented fit).

    Wraps the objective's methods to count calls and time them; the timed
    fits above are not instrumented. The estimator builds a ``LinearObjective``
    over the backend's rows (``LogisticObjective`` is the in-memory subclass
    that this script's gradient part uses), so that is the class wrapped.
    """
    from logitgd import objective as O

    stats = {}
    originals = {}

    def wrap(cls, name):
        orig = getattr(cls, name)
        originals[(cls, name)] = orig

        def f(self, *a, **k):
            t0 = time.perf_counter()
            try:
                return orig(self, *a, **k)
            finally:
                s = stats.setdefault(f"{cls.__name__}.{name}", [0, 0.0])
                s[0] += 1
                s[1] += time.perf_counter() - t0
        setattr(cls, name, f)

    try:
        for name in ("value", "value_and_grad", "grad", "hessian_bound"):
            wrap(O.LinearObjective, name)
        wrap(O.Preconditioned, "__init__")
        model = logitgd.LogisticRegression(alpha=alpha, callback=lambda s: s.fun <= target)
        t0 = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - t0
    finally:
        for (cls, name), orig in originals.items():
            setattr(cls, name, orig)
    return wall, model.n_iter_, stats


def fit_sklearn(X, y, C, J, max_iter, tol):
    model = SkLogisticRegression(solver="lbfgs", C=C, max_iter=max_iter, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X, y)
        wall = time.perf_counter() - t0
    f = J(model.coef_[0], float(model.intercept_[0]))
    return {"wall": wall, "n_iter": int(model.n_iter_[0]), "J": f, "max_iter": max_iter, "tol": tol}


def sklearn_time_to_target(X, y, C, J, target, gate):
    """Smallest max_iter (tol=1e-15, so only max_iter stops it) whose fit reaches the target.

    L-BFGS is deterministic, so a fit with max_iter=k is the first k
    iterations of any longer fit: grow k until the target is reached, then
    bisect for the smallest such k and report that fit's wall time.
    """
    tried = {}

    def run(k):
        gate()
        res = fit_sklearn(X, y, C, J, max_iter=k, tol=1e-15)
        tried[k] = res
        log(f"  sklearn max_iter={k}: n_iter={res['n_iter']} J={res['J']!r} wall={res['wall']:.2f}s")
        return res["J"] <= target

    lo, k = 0, 5
    while not run(k):
        lo = k
        if tried[k]["n_iter"] < k:  # it stopped on its own before max_iter: cannot get better
            return None, tried
        k = int(k * 1.6) + 1
    hi = k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run(mid):
            hi = mid
        else:
            lo = mid
    return tried[hi], tried
