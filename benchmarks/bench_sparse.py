"""Sparse and multinomial benchmarks: time to J <= f* (1 + 1e-6), logitgd against scikit-learn.

Run from the repository root::

    python -m benchmarks.bench_sparse                 # writes its section of benchmarks/RESULTS.md
    python -m benchmarks.bench_sparse --rows 50000 --features 10000 --no-write   # a quick look

Problems:

* ``sparse``: ``--rows`` x ``--features`` CSR (default 500,000 x 100,000), ~50
  non-zeros (ones) per row, columns drawn with power-law frequencies
  (``P(j) ∝ (j + 10)^-1.1``), binary labels from a logistic model on the
  same features; ``l2`` (alpha = 1e-5) and ``l1`` (alpha = 1e-4);
* ``digits``: scikit-learn's digits (1797 x 64, standardized), 10 classes,
  multinomial, ``l2`` with alpha = 1e-3;
* ``multiclass`` (not in the default list): 200,000 x 50 standard normal, 10 classes drawn from a softmax
  model, ``l2`` with alpha = 1e-4.

``f*`` is the lowest J that any solver reached in a tight run made for that
purpose (logitgd and scikit-learn both, named in the output), evaluated by one
independent float64 evaluator written here. Timing is bench_solvers' (common/time_to_target.py):
a callback timestamps logitgd's first iterate under the target; a competitor's
time is one complete fit with the smallest ``max_iter`` that reaches it.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

from benchmarks.common import time_to_target as tt
from benchmarks.common.quiet import QuietGate
from benchmarks.common.report import RESULTS, env_lines, git_commit
from tests.glm_data import make_sparse  # the generator lives with the tests' data (they use it too)

MARK_START = "<!-- bench_sparse:start -->"
MARK_END = "<!-- bench_sparse:end -->"


class Cost:
    """Independent float64 J for binary or multinomial data, dense or sparse."""

    def __init__(self, X, y, penalty, alpha, n_classes=2):
        self.X, self.y, self.penalty, self.alpha, self.K = X, np.asarray(y), penalty, float(alpha), n_classes
        self.n, self.d = X.shape

    def __call__(self, coef, intercept):
        W = np.asarray(coef, dtype=np.float64).reshape(-1, self.d)
        b = np.ravel(np.asarray(intercept, dtype=np.float64))
        Z = np.asarray(self.X @ W.T) + b
        if self.K == 2:
            z = Z[:, 0]
            loss = np.mean(np.logaddexp(0.0, z) - self.y * z)
        else:
            m = Z.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
            loss = np.mean(lse - Z[np.arange(self.n), self.y])
        pen = 0.5 * float((W * W).sum()) if self.penalty == "l2" else float(np.abs(W).sum())
        return float(loss) + self.alpha * pen


class Problem(tt.Problem):
    def __init__(self, dataset, penalty, X, y, alpha, budget, repeats, gate, n_classes=2):
        self.dataset, self.penalty, self.X, self.y, self.alpha = dataset, penalty, X, y, alpha
        self.n, self.d = X.shape
        self.budget, self.repeats, self.gate = budget, repeats, gate
        self.cost = Cost(X, y, penalty, alpha, n_classes)
        self.C = 1.0 / (self.n * alpha)
        self.f_star = self.target = None

    def J(self, coef, intercept):
        return self.cost(coef, intercept)

    def trace_J(self, x):
        """J of scikit-learn's flat lbfgs iterate: (d + 1,) binary; multinomial (K, d + 1) in Fortran order."""
        if self.cost.K == 2:
            return self.cost(x[:self.d], x[self.d])
        M = np.asarray(x).reshape(self.d + 1, self.cost.K)
        return self.cost(M[:self.d].T, M[self.d])

    def solve_reference(self, fits):
        """f* = the lowest J of the tight fits ``fits`` (label -> fitted model)."""
        found = {}
        for label, make in fits.items():
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make()
            found[label] = (self.J(model.coef_, model.intercept_), time.perf_counter() - t)
            tt.log(f"    reference {label}: J={found[label][0]:.15g} ({found[label][1]:.1f} s)")
        best = min(found, key=lambda k: found[k][0])
        self.f_star = found[best][0]
        self.target = self.f_star * (1 + tt.TARGET_REL)
        spread = max(v[0] for v in found.values()) / self.f_star - 1
        return (f"f\\* = {self.f_star:.15g} from {best}; the other tight fits: "
                + ", ".join(f"{k} {v[0] / self.f_star - 1:.1e} above ({v[1]:.0f} s)" for k, v in found.items() if k != best)
                + f" (spread {spread:.1e})")


def sk(P, solver, max_iter, tol, **kw):
    from sklearn.linear_model import LogisticRegression as SkLR

    extra = {"random_state": 0} if solver in ("saga", "liblinear") else {}
    if solver == "liblinear":
        extra["intercept_scaling"] = 1e4
    extra.update(kw)
    m = SkLR(solver=solver, C=P.C, l1_ratio=1.0 if P.penalty == "l1" else 0.0, max_iter=max_iter, tol=tol, **extra)
    return m.fit(P.X, P.y)


def ours(P, tol, max_iter=100_000, **kw):
    from logitgd import LogisticRegression

    return LogisticRegression(alpha=P.alpha, penalty=P.penalty, tol=tol, max_iter=max_iter, **kw).fit(P.X, P.y)


def run_problem(P, references, competitors, our_solvers):
    line = P.solve_reference(references)
    tt.log(line)
    rows = []
    for s in our_solvers:
        tt.log(f"  -- logitgd:{s}")
        rows.append((f"logitgd `solver=\"{s}\"`", tt.run_logitgd(P, s)))
    for solver in competitors:
        tt.log(f"  -- sklearn:{solver}")
        if solver == "lbfgs":
            rows.append(("sklearn `lbfgs`", tt.run_sklearn_lbfgs(P)))
        else:
            extra = {"intercept_scaling": 1e4} if solver == "liblinear" else {}
            rows.append((f"sklearn `{solver}`", tt.search_max_iter(P, tt.sk_fit_k(P, solver, **extra),
                                                                    growth=2, label=solver)))
    for label, r in rows:
        tt.log(f"     {label}: {r['status']} time={r['time']} iters={r['iters']} J={r['J']} {r['note']}")
    return line, rows


def table(P, line, rows):
    out = [f"### `{P.dataset}` {P.penalty} (alpha = {P.alpha:g}), {P.n:,} x {P.d:,}"
           + (f", {P.X.nnz:,} non-zeros" if sp.issparse(P.X) else ""), "", "- " + line, "",
           "| solver | reached 1e-6 | time to target, s | iterations | (J - f\\*)/f\\* | notes |",
           "|---|---|---:|---:|---:|---|"]
    for label, r in rows:
        t = "—" if r["time"] is None else f"{r['time']:.3g}"
        gap = "—" if r["J"] is None else f"{P.gap(r['J']):.1e}"
        out.append(f"| {label} | {'yes' if r['status'] == 'reached' else '**no** (' + r['status'] + ')'} | {t} | "
                   f"{r['iters']} | {gap} | {r['note']} |")
    ours_t = [r["time"] for label, r in rows if label.startswith("logitgd `solver=\"auto\"") and r["status"] == "reached"]
    theirs = [(r["time"], label) for label, r in rows if label.startswith("sklearn") and r["status"] == "reached"]
    if ours_t and theirs:
        t_best, who = min(theirs)
        out += ["", (f"**auto {ours_t[0]:.3g} s vs fastest scikit-learn ({who}) {t_best:.3g} s: "
                     f"ratio {ours_t[0] / t_best:.2f}**")]
    return out + [""]


def wide(args):
    """d = 1,000,000 features, n = 500,000 rows: it trains, and how much memory it takes."""
    import resource

    from logitgd import LogisticRegression

    n, d = 500_000, 1_000_000
    t = time.perf_counter()
    X, y = make_sparse(n, d)
    made = time.perf_counter() - t
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out = [f"### `wide`: {n:,} x {d:,} CSR, {X.nnz:,} non-zeros ({csr_bytes / 2**30:.2f} GiB), made in {made:.0f} s",
           "", "| penalty | solver chosen | iterations | converged | fit time, s | peak RSS of the process, GiB |",
           "|---|---|---:|---|---:|---:|"]
    for pen, alpha in (("l2", 1e-5), ("l1", 1e-4)):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = LogisticRegression(alpha=alpha, penalty=pen).fit(X, y)
        wall = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        tt.log(f"wide {pen}: {m.solver_} {m.n_iter_} its, {wall:.1f} s, converged {m.converged_}, maxrss {rss:.2f} GiB")
        out.append(f"| {pen} (alpha = {alpha:g}) | `{m.solver_}` | {m.n_iter_} | {m.converged_} | {wall:.1f} | {rss:.2f} |")
    out += ["", f"Peak RSS before the fits (data made): {rss0:.2f} GiB; the machine has 24 GiB.", ""]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--features", type=int, default=100_000)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per solver fit on `sparse`")
    ap.add_argument("--problems", default="sparse-l2,sparse-l1,digits")
    ap.add_argument("--no-write", dest="write", action="store_false")
    args = ap.parse_args(argv)
    gate = QuietGate(enabled=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    out = [(f"Command: `python -m benchmarks.bench_sparse {' '.join(sys.argv[1:] if argv is None else argv)}`; "
            f"started {started:%Y-%m-%d %H:%M} UTC, commit `{git_commit()}`."), ""]
    out += env_lines() + [""]
    problems = args.problems.split(",")
    if any(p.startswith("sparse") for p in problems):
        t = time.perf_counter()
        X, y = make_sparse(args.rows, args.features)
        tt.log(f"sparse data {X.shape}, nnz {X.nnz:,} ({time.perf_counter() - t:.0f} s)")
        for pen, alpha in (("l2", 1e-5), ("l1", 1e-4)):
            if f"sparse-{pen}" not in problems:
                continue
            P = Problem("sparse", pen, X, y, alpha, args.budget, 1, gate)
            if pen == "l2":
                refs = {"logitgd newton (CG), tol 1e-10": lambda P=P: ours(P, 1e-10, solver="newton"),
                        "sklearn lbfgs, tol 1e-10": lambda P=P: sk(P, "lbfgs", 5000, 1e-10)}
                comp = ["lbfgs", "liblinear", "saga"]
                mine = ["auto", "lbfgs", "newton", "gd"]
            else:
                refs = {"logitgd newton, tol 1e-10": lambda P=P: ours(P, 1e-10, solver="newton"),
                        "sklearn liblinear, tol 1e-7": lambda P=P: sk(P, "liblinear", 300, 1e-7)}
                comp = ["liblinear", "saga"]
                mine = ["auto", "newton", "gd"]
            line, rows = run_problem(P, refs, comp, mine)
            out += table(P, line, rows)
        del X, y
    if "wide" in problems:
        out += wide(args)
    if "digits" in problems:
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler

        Xd, yd = load_digits(return_X_y=True)
        Xd = StandardScaler().fit_transform(Xd)
        P = Problem("digits", "l2", Xd, yd, 1e-3, 20.0, 10, gate, n_classes=10)
        refs = {"logitgd newton, tol 1e-12": lambda P=P: ours(P, 1e-12, solver="newton"),
                "sklearn lbfgs, tol 1e-12": lambda P=P: sk(P, "lbfgs", 20_000, 1e-12)}
        line, rows = run_problem(P, refs, ["lbfgs", "newton-cholesky"], ["auto", "lbfgs", "newton", "gd"])
        out += table(P, line, rows)
    if "multiclass" in problems:
        # issue 19's table: 200,000 x 50, 10 classes (logitgd was 1.67x scikit-learn's best to 1e-6 of J*)
        rng = np.random.default_rng(0)
        Xm = rng.standard_normal((200_000, 50))
        Z = Xm @ (rng.standard_normal((50, 10)) * 0.4)
        ym = (Z + rng.gumbel(size=Z.shape)).argmax(axis=1)  # draws from the softmax model
        P = Problem("multiclass", "l2", Xm, ym, 1e-4, 60.0, 3, gate, n_classes=10)
        refs = {"logitgd newton, tol 1e-12": lambda P=P: ours(P, 1e-12, solver="newton"),
                "sklearn lbfgs, tol 1e-12": lambda P=P: sk(P, "lbfgs", 20_000, 1e-12)}
        line, rows = run_problem(P, refs, ["lbfgs", "newton-cg"], ["auto", "lbfgs", "newton"])
        out += table(P, line, rows)
    text = "\n".join(out)
    print(text)
    if args.write:
        with open(RESULTS) as f:
            content = f.read()
        block = f"{MARK_START}\n{text.rstrip()}\n{MARK_END}"
        if MARK_START in content:
            i, j = content.index(MARK_START), content.index(MARK_END) + len(MARK_END)
            content = content[:i] + block + content[j:]
        else:
            content = content.rstrip("\n") + "\n\n## Sparse and multinomial (`bench_sparse.py`)\n\n" + block + "\n"
        with open(RESULTS, "w") as f:
            f.write(content)


if __name__ == "__main__":
    main()
