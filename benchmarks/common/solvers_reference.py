"""Data sets, the independent cost evaluator and the reference optimum for ``bench_solvers``.

Nothing here uses logitgd: the cost ``J`` and the optimum ``f*`` are computed
by plain NumPy/SciPy code (plus a small numba loop for the lasso subproblem),
so that every timed solver, ours and the competitors', is judged by the same
independent yardstick.

    J(w, b) = mean_i log(1 + exp(z_i)) - y_i z_i  +  P(w),   z = X w + b
    P(w)    = alpha / 2 ||w||^2   (L2)   or   alpha ||w||_1   (L1)

The intercept ``b`` is never penalized. All arithmetic is float64, also for
float32 data (each block of rows is converted on the fly).
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np
import scipy.linalg
import scipy.special

BLOCK = 65536


# -- data ----------------------------------------------------------------------
def make_dense(n, d=100, rho=0.9, seed=0, score_sd=2.0, intercept=-0.5):
    """Correlated, badly scaled dense data with labels from a logistic model.

    ``X = Z @ chol(T).T`` with ``Z`` standard normal and ``T_ij = rho^|i-j|``
    (so every column has unit variance and neighbours correlate by ``rho``),
    then column ``j`` is multiplied by ``scales[j]``, log-spaced from 1 to
    1,000. The true coefficients are a fixed random direction ``u`` in the
    unscaled coordinates, normalized so that the score ``x·w_true`` has
    standard deviation ``score_sd`` (``w_true = score_sd * u / scales``);
    ``y ~ Bernoulli(sigmoid(x·w_true + intercept))``. With ``score_sd = 2`` the
    Bayes log-loss is about 0.45: far from separable.

    Rows are generated in fixed blocks from one stream, so the first ``m``
    rows do not depend on ``n``.

    Returns
    -------
    X : ndarray (n, d) float64, C-contiguous
    y : ndarray (n,) float64 in {0, 1}
    info : dict (scales, w_true, b_true, rho)
    """
    rng_x = np.random.default_rng([seed, 1])
    rng_w = np.random.default_rng([seed, 2])
    rng_y = np.random.default_rng([seed, 3])
    idx = np.arange(d)
    T = rho ** np.abs(idx[:, None] - idx[None, :])
    Lt = scipy.linalg.cholesky(T, lower=True).T.copy()  # X_block = Z_block @ L.T
    scales = np.logspace(0.0, 3.0, d)
    u = rng_w.standard_normal(d)
    u /= math.sqrt(float(u @ T @ u))  # Var(x_std · u) = 1
    w_true = score_sd * u / scales
    X = np.empty((n, d))
    y = np.empty(n)
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        Z = rng_x.standard_normal((e - s, d))
        Xb = Z @ Lt
        Xb *= scales
        X[s:e] = Xb
        p = scipy.special.expit(Xb @ w_true + intercept)
        y[s:e] = rng_y.random(e - s) < p
    return X, y, {"scales": scales, "w_true": w_true, "b_true": intercept, "rho": rho}


def make_real():
    """scikit-learn's breast-cancer data, standardized (569 x 30), y = 1 for 'benign'."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = np.asarray(data.data, dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.ascontiguousarray(X), np.asarray(data.target, dtype=np.float64)


# -- the cost --------------------------------------------------------------------
class Cost:
    """Independent float64 evaluator of J for one data set and one penalty.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64
    y : ndarray (n,), {0, 1}
    penalty : "l2" or "l1"
    alpha : float
    """

    def __init__(self, X, y, penalty, alpha):
        if penalty not in ("l2", "l1"):
            raise ValueError(penalty)
        self.X, self.y, self.penalty, self.alpha = X, np.asarray(y, dtype=np.float64), penalty, float(alpha)
        self.n, self.d = X.shape

    def _blocks(self):
        for s in range(0, self.n, BLOCK):
            yield s, np.asarray(self.X[s:s + BLOCK], dtype=np.float64), self.y[s:s + BLOCK]

    def mean_loss(self, w, b):
        w = np.asarray(w, dtype=np.float64).ravel()
        total = 0.0
        for _, Xb, yb in self._blocks():
            z = Xb @ w + float(b)
            total += float(np.sum(np.logaddexp(0.0, z) - yb * z))
        return total / self.n

    def penalty_value(self, w):
        w = np.asarray(w, dtype=np.float64).ravel()
        if self.penalty == "l2":
            return 0.5 * self.alpha * float(w @ w)
        return self.alpha * float(np.abs(w).sum())

    def __call__(self, w, b):
        return self.mean_loss(w, b) + self.penalty_value(w)

    def loss_grad_hess(self, w, b, hessian=True):
        """Mean log-loss, its gradient (d + 1,) and Hessian (d + 1, d + 1) in (w, b); no penalty."""
        d = self.d
        g = np.zeros(d + 1)
        H = np.zeros((d + 1, d + 1)) if hessian else None
        f = 0.0
        for _, Xb, yb in self._blocks():
            z = Xb @ w + b
            f += float(np.sum(np.logaddexp(0.0, z) - yb * z))
            p = scipy.special.expit(z)
            r = p - yb
            g[:d] += Xb.T @ r
            g[d] += r.sum()
            if hessian:
                h = p * (1.0 - p)
                Xs = Xb * np.sqrt(h)[:, None]
                H[:d, :d] += Xs.T @ Xs
                H[:d, d] += Xb.T @ h
                H[d, d] += h.sum()
        g /= self.n
        if hessian:
            H[d, :d] = H[:d, d]
            H /= self.n
        return f / self.n, g, H

    def column_rms(self):
        if not hasattr(self, "_rms"):
            sq = np.zeros(self.d)
            for _, Xb, _ in self._blocks():
                sq += np.einsum("ij,ij->j", Xb, Xb)
            self._rms = np.sqrt(sq / self.n)
        return self._rms

    def kkt_violation(self, w, b):
        """Max violation of the optimality conditions: ``(raw, scaled)``.

        Per coordinate, the smallest-norm element of the subdifferential of J:
        the gradient for L2; for L1 ``|g_j + alpha sign(w_j)|`` where
        ``w_j != 0`` and ``max(0, |g_j| - alpha)`` where ``w_j == 0``; ``|g_b|``
        for the intercept. ``scaled`` divides coordinate j by the RMS of column
        j (the violation for standardized columns), which makes columns of
        scale 1 and 1,000 comparable.
        """
        _, g, _ = self.loss_grad_hess(w, b, hessian=False)
        d = self.d
        gw = g[:d]
        if self.penalty == "l2":
            v = np.abs(gw + self.alpha * w)
        else:
            v = np.where(w != 0, np.abs(gw + self.alpha * np.sign(w)), np.maximum(0.0, np.abs(gw) - self.alpha))
        vb = abs(g[d])
        return float(max(np.max(v), vb)), float(max(np.max(v / self.column_rms()), vb))


# -- the reference optimum ------------------------------------------------------------
@numba.njit(cache=False)
def _lasso_qp_cd(H, g, w, l1, n_pen, tol, max_sweeps):
    """Minimize ``g·D + D·H·D / 2 + l1 * sum_{j < n_pen} |w_j + D_j|`` over D by coordinate descent.

    Coordinates ``j >= n_pen`` (the intercept) are not penalized. Returns D.
    """
    m = g.shape[0]
    D = np.zeros(m)
    HD = np.zeros(m)
    for sweep in range(max_sweeps):
        max_change = 0.0
        max_scale = 0.0
        for j in range(m):
            hjj = H[j, j]
            if hjj <= 0.0:
                continue
            # gradient of the quadratic part along j, without j's own term
            gj = g[j] + HD[j] - hjj * D[j]
            if j < n_pen:
                # minimize gj * t + hjj t^2 / 2 + l1 |w_j + t| over t; u = w_j + t
                c = hjj * w[j] - gj  # argmin of the smooth part in u is c / hjj
                if c > l1:
                    u = (c - l1) / hjj
                elif c < -l1:
                    u = (c + l1) / hjj
                else:
                    u = 0.0
                t = u - w[j]
            else:
                t = -gj / hjj
            delta = t - D[j]
            if delta != 0.0:
                for k in range(m):
                    HD[k] += H[k, j] * delta
                D[j] = t
            a = abs(delta) * math.sqrt(hjj)
            max_change = max(max_change, a)
            s = abs(w[j] + D[j]) * math.sqrt(hjj)
            max_scale = max(max_scale, s)
        if max_change <= tol * max(max_scale, 1e-300):
            break
    return D


def reference_optimum(cost, log=print, max_iter=60):
    """Tight float64 solve: Newton (L2) or proximal Newton (L1), both with backtracking on J.

    The proximal Newton step solves the lasso-penalized quadratic model exactly
    (coordinate descent to 1e-15). Stops when the model's predicted decrease
    is below 1e-16 J (J's rounding floor), then reports the KKT violation. The
    last predicted decrease (relative to J) is the certificate: near the optimum
    it estimates J - J* (for L2 it is the squared Newton decrement).

    Returns
    -------
    dict with w, b, f (J*), iterations, seconds, kkt, loss (mean log-loss at the
    optimum), zeros (number of exactly-zero coefficients).
    """
    d = cost.d
    w = np.zeros(d)
    b = 0.0
    # start from the intercept-only optimum: b = logit(mean y)
    ybar = float(np.mean(cost.y))
    b = math.log(ybar / (1.0 - ybar))
    f = cost(w, b)
    t0 = time.perf_counter()
    alpha = cost.alpha
    it = 0
    for it in range(1, max_iter + 1):
        _, g, H = cost.loss_grad_hess(w, b)
        theta = np.append(w, b)
        if cost.penalty == "l2":
            g[:d] += alpha * w
            H[np.diag_indices(d)] += alpha
            step = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
            pred = float(g @ step)  # directional derivative (negative)
            l1_now = 0.0
        else:
            step = _lasso_qp_cd(H, g, theta, alpha, d, 1e-15, 100000)
            l1_now = alpha * float(np.abs(w).sum())
            pred = float(g @ step) + alpha * float(np.abs(w + step[:d]).sum()) - l1_now
        t = 1.0
        while True:
            cand = theta + t * step
            f_new = cost(cand[:d], cand[d])
            if f_new <= f + 1e-4 * t * pred or t < 1e-10:
                break
            t *= 0.5
        if f_new <= f:
            w, b, f = cand[:d].copy(), float(cand[d]), f_new
        log(f"    reference {cost.penalty} iter {it}: J = {f!r}, predicted decrease {-pred:.3g}, step {t:g}")
        if -pred < 1e-16 * abs(f):
            break
    kkt, kkt_scaled = cost.kkt_violation(w, b)
    return {"w": w, "b": b, "f": f, "iterations": it, "seconds": time.perf_counter() - t0, "kkt": kkt,
            "kkt_scaled": kkt_scaled, "certificate": -pred / abs(f),
            "loss": cost.mean_loss(w, b), "zeros": int(np.sum(w == 0))}


def l1_alpha_for_half_zeros(cost_factory, d, lo, hi, log=print, max_steps=25):
    """Bisect alpha (geometrically) until about half of the d coefficients are zero at the L1 optimum.

    A development helper: the benchmark uses the fixed alphas it found (see
    ``bench_solvers.L1_ALPHA``) and prints the actual count at each run.
    """
    for _ in range(max_steps):
        mid = math.sqrt(lo * hi)
        ref = reference_optimum(cost_factory(mid), log=lambda *_: None)
        log(f"  alpha = {mid:.4g}: {ref['zeros']} zeros of {d}")
        if abs(ref["zeros"] - d / 2) <= max(1, d // 20):
            return mid, ref
        if ref["zeros"] > d / 2:
            hi = mid
        else:
            lo = mid
    return mid, ref
