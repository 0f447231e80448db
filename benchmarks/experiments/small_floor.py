"""How far a small fit is from the NumPy floor (issue 19): logitgd, scikit-learn and a minimal Newton loop.

    python -m benchmarks.experiments.small_floor [--runs 300]

Breast cancer (569 x 30, standardized) and iris (150 x 4, 3 classes, standardized), L2 alpha = 1e-4, one BLAS
thread, interleaved: ``logitgd.LogisticRegression(alpha)`` at its defaults (tol 1e-8 on the gradient's
max-norm), scikit-learn's ``newton-cholesky`` at ``tol=1e-8``, and (binary only) the shortest Newton loop
NumPy allows: the same steps (Cholesky of ``X̃ᵀ diag(p (1 - p)) X̃ / n + ridge`` by LAPACK, a backtracking
line search on J) with no checks, no objects and no generality. The minimal loop is the floor of NumPy
calls on this data, not a competitor: it is what a fit of this size costs without the library around it.
Median and best wall time of ``--runs`` fits each.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg.lapack as lapack
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import logitgd

ALPHA = 1e-4


def minimal_newton(X, y, alpha, tol=1e-8, max_iter=100):
    """Binary L2 logistic regression by Newton's method in as few NumPy calls as it takes."""
    n, d = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    reg = np.full(d + 1, alpha)
    reg[-1] = 0.0

    def cost(w):
        z = Xt @ w
        return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * (w[:d] @ w[:d]), z

    w = np.zeros(d + 1)
    f, z = cost(w)
    for it in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        g = Xt.T @ (p - y) / n + reg * w
        if np.abs(g).max() <= tol:
            break
        A = Xt * np.sqrt(p * (1.0 - p) / n)[:, None]
        H = A.T @ A
        H.flat[::d + 2] += reg
        c, _ = lapack.dpotrf(H, lower=False)
        delta, _ = lapack.dpotrs(c, -g, lower=False)
        s = 1.0
        while True:
            w_new = w + s * delta
            f_new, z_new = cost(w_new)
            if f_new <= f + 1e-4 * s * (g @ delta) or s < 1e-10:
                break
            s *= 0.5
        w, f, z = w_new, f_new, z_new
    return w, it


def timed(fn, runs):
    fn()
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
    return np.median(walls) * 1e3, min(walls) * 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args(argv)
    print("| data | fit | median ms | best ms | Newton steps |")
    print("|---|---|---:|---:|---:|")
    for name, loader in (("breast cancer", load_breast_cancer), ("iris", load_iris)):
        X, y = loader(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        n = len(y)
        ours = logitgd.LogisticRegression(alpha=ALPHA)
        sk = SkLogisticRegression(C=1.0 / (n * ALPHA), solver="newton-cholesky", tol=1e-8, max_iter=100)
        rows = [("logitgd", lambda: ours.fit(X, y), lambda: ours.n_iter_),
                ("scikit-learn newton-cholesky", lambda: sk.fit(X, y), lambda: int(np.max(sk.n_iter_)))]
        if len(np.unique(y)) == 2:
            yf = y.astype(np.float64)
            rows.append(("minimal NumPy Newton loop", lambda: minimal_newton(X, yf, ALPHA),
                         lambda: minimal_newton(X, yf, ALPHA)[1]))
        with threadpool_limits(limits=1):
            for label, fn, steps in rows:
                med, best = timed(fn, args.runs)
                print(f"| {name} | {label} | {med:.2f} | {best:.2f} | {steps()} |")


if __name__ == "__main__":
    main()
