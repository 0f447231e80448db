"""Firth's bias-reduced logistic regression (issue 14): logitgd against R's brglm2, side by side.

Run from the repository root::

    python -m benchmarks.bench_firth [--sizes 100000x50,1000000x20] [--epsilon 1e-10] [--tol 1e-8]

For each size ``n x d``: float64 standard normal features, coefficients N(0, 0.3²), intercept 0.3, labels drawn
from that logistic model (not separable), seed ``(SEED, n, d)``. A child process (``--child``) builds the data,
does untimed warm-up Firth fits on 2,000 rows and on 1.1e6 / d rows (numba compilation; the fused kernel
serves data above 1e6 entries), resets its peak-RSS counter
(``/proc/self/clear_refs`` = 5), times ``LogisticRegression(penalty="firth", tol=...).fit(X, y)`` with
``time.perf_counter`` and reads ``VmHWM``; it counts the evaluations of the Firth objective (each one: the
information gram and the hat-diagonal pass; step halving adds some). Then it measures the floor: one gram
``Xc.T @ Xc`` (Xc = [1, X]) and one ``Xc @ A`` (A: k x k, the hat-diagonal pass's product), and writes X
(column-major) and y with ``ndarray.tofile`` for R.

R (``benchmarks/firth_brglm2.R``) reads them with ``readBin`` and builds the data.frame untimed; ``system.time``
covers the ``glm(y ~ ., family = binomial, method = "brglmFit", type = "AS_mean", epsilon = ...)`` call only.
The coefficients are compared: max over j of |a_j - b_j| / |b_j| and max |a - b| / max |b|.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SEED = 14
HERE = os.path.dirname(os.path.abspath(__file__))


def make_data(n, d, seed=SEED):
    rng = np.random.default_rng([seed, n, d])
    beta = rng.normal(0.0, 0.3, d)
    X = rng.standard_normal((n, d))
    eta = X @ beta + 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
    return X, y, beta


def _hwm_gib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def child(n, d, tol, workdir):
    from logitgd import LogisticRegression
    from logitgd.objective import LinearObjective

    calls = [0]
    orig = LinearObjective.firth

    def counted(self, theta):
        calls[0] += 1
        return orig(self, theta)

    LinearObjective.firth = counted
    out = {}
    t = time.perf_counter()
    X, y, beta = make_data(n, d)
    out["build_s"] = time.perf_counter() - t
    # warm-up (compilation, numba's cache): one small fit, and one of > 1e6 entries (the fused kernel's size)
    for rows in (2000, min(n, 1_100_000 // d + 1)):
        Xw, yw, _ = make_data(rows, d, seed=SEED + 1)
        LogisticRegression(penalty="firth", tol=tol).fit(Xw, yw)
    calls[0] = 0
    out["hwm_before_gib"] = _hwm_gib()
    _reset_hwm()
    t = time.perf_counter()
    m = LogisticRegression(penalty="firth", tol=tol).fit(X, y)
    out["fit_s"] = time.perf_counter() - t
    out["hwm_fit_gib"] = _hwm_gib()
    out.update(n_iter=int(np.ravel(m.n_iter_)[0]), evals=calls[0], solver=str(getattr(m, "solver_", "?")),
               stop=str(getattr(m, "stop_reason_", "?")), converged=bool(getattr(m, "converged_", True)),
               coef=[float(m.intercept_[0])] + [float(v) for v in np.ravel(m.coef_)])
    # floor: one gram and one n x k by k x k product (best of 3 each)
    Xc = np.empty((n, d + 1))
    Xc[:, 0] = 1.0
    Xc[:, 1:] = X
    A = np.linalg.cholesky(Xc[:5000].T @ Xc[:5000] / 5000)
    g, h = [], []
    for _ in range(3):
        t = time.perf_counter()
        G = Xc.T @ Xc
        g.append(time.perf_counter() - t)
        t = time.perf_counter()
        Z = Xc @ A
        h.append(time.perf_counter() - t)
    del G, Z, Xc
    out["gram_s"], out["gemm_s"] = min(g), min(h)
    X.T.tofile(os.path.join(workdir, "X.bin"))  # X.T is C-ordered (d, n): the bytes of X column by column
    y.tofile(os.path.join(workdir, "y.bin"))
    print(json.dumps(out))


def run_r(workdir, n, d, epsilon, maxit):
    t = time.perf_counter()
    p = subprocess.run(["Rscript", os.path.join(HERE, "firth_brglm2.R"), workdir, str(n), str(d), repr(epsilon),
                        str(maxit)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("R failed:\n" + p.stderr[-3000:])
    out = {}
    with open(os.path.join(workdir, "r_out.txt")) as f:
        for line in f:
            k, v = line.rstrip("\n").split(" ", 1)
            out[k] = v
    out["coef"] = np.fromfile(os.path.join(workdir, "r_coef.bin"), dtype=np.float64).tolist()
    out["process_s"] = wall
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000x50,1000000x20")
    ap.add_argument("--tol", type=float, default=1e-8, help="logitgd's tol (max-norm of the penalized score / n)")
    ap.add_argument("--epsilon", type=float, default=1e-10, help="brglm2's epsilon")
    ap.add_argument("--maxit", type=int, default=100)
    ap.add_argument("--child", nargs=3, metavar=("N", "D", "DIR"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(int(a.child[0]), int(a.child[1]), a.tol, a.child[2])
        return
    from benchmarks.common.report import env_lines, git_commit

    print(f"bench_firth at {git_commit()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for line in env_lines():
        print(line)
    rows, notes = [], []
    for size in a.sizes.split(","):
        n, d = (int(v) for v in size.lower().split("x"))
        with tempfile.TemporaryDirectory(prefix="bench_firth_") as wd:
            p = subprocess.run([sys.executable, "-m", "benchmarks.bench_firth", "--tol", repr(a.tol),
                                "--child", str(n), str(d), wd], capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError("logitgd child failed:\n" + p.stderr[-3000:])
            L = json.loads(p.stdout.strip().splitlines()[-1])
            R = run_r(wd, n, d, a.epsilon, a.maxit)
        ca, cb = np.array(L["coef"]), np.array(R["coef"])
        rel_el = float(np.max(np.abs(ca - cb) / np.abs(cb)))
        rel_nm = float(np.max(np.abs(ca - cb)) / np.max(np.abs(cb)))
        k = d + 1
        floor_it = L["gram_s"] + L["gemm_s"]
        r_s = float(R["elapsed"])
        rows.append(f"| {n:,} x {d} | {L['fit_s']:.3f} | {L['n_iter']} ({L['evals']} evals) | {r_s:.2f} | "
                    f"{R['iter']} | {r_s / L['fit_s']:.1f}x | {floor_it:.3f} | "
                    f"{L['fit_s'] / L['evals'] / floor_it:.2f} | "
                    f"{rel_el:.1e} | {rel_nm:.1e} | {L['hwm_fit_gib']:.2f} | {float(R['hwm_gib']):.2f} |")
        notes.append(f"- {n:,} x {d}: X {n * d * 8 / 1e9:.2f} GB; logitgd: solver {L['solver']}, {L['stop']}; "
                     f"brglm2 converged {R['converged']} in {R['iter']} iterations (epsilon {a.epsilon:g}), "
                     f"user {float(R['user']):.2f} s, Rscript process {R['process_s']:.1f} s in all; "
                     f"floor: one gram Xc.T @ Xc {L['gram_s']:.3f} s ({n * k * k / 2 / L['gram_s'] / 1e9:.1f} G "
                     f"multiply-adds/s counting n k²/2), one Xc @ A {L['gemm_s']:.3f} s "
                     f"({n * k * k / L['gemm_s'] / 1e9:.1f} G multiply-adds/s); logitgd peak RSS before the fit "
                     f"{L['hwm_before_gib']:.2f} GiB, R's before glm {float(R['hwm_before_gib']):.2f} GiB")
        print(rows[-1], flush=True)
    print(f"\nR {R['R']}, brglm2 {R['brglm2']}, R's BLAS {R['blas']}; logitgd tol {a.tol:g}, brglm2 epsilon "
          f"{a.epsilon:g}\n")
    print("| n x d | logitgd fit (s) | logitgd iterations | brglm2 glm (s) | brglm2 iterations | brglm2 / logitgd | "
          "floor per evaluation: gram + hat pass (s) | logitgd s per evaluation / floor | coef max rel diff "
          "(elementwise) | max abs diff / max abs | logitgd peak RSS (GiB) | R peak RSS (GiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(r)
    print()
    for s in notes:
        print(s)


if __name__ == "__main__":
    main()
