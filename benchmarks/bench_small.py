"""Small real data sets: time to J <= f* (1 + 1e-6), logitgd against scikit-learn (and glum where it applies).

Run from the repository root::

    python -m benchmarks.bench_small                        # every data set, best of 5; prints a markdown report
    python -m benchmarks.bench_small --quick                # three data sets, one repeat, 3 s budget
    python -m benchmarks.bench_small --datasets iris,fair --repeats 3 --budget 5

The report goes to stdout (paste it into benchmarks/RESULTS.md); progress goes to stderr. Nothing is written.

Problems: penalty l2, ``J = mean log-loss + alpha/2 ||W||^2``, intercept unpenalized (logitgd ``alpha``;
scikit-learn ``C = 1/(n alpha)``; glum ``alpha``), binary or multinomial (softmax over K classes, K x d
coefficients). Data: scikit-learn's breast_cancer (standardized and raw), iris, wine, digits (raw and
standardized) and statsmodels' fair, spector, anes96, modechoice, randhie (those that load offline; the
others are skipped with the reason printed); what X and y are is in the report's data table.

Method: the timing is bench_solvers' and bench_sparse's (``common/time_to_target.py``; their ``Problem``,
``Cost`` and ``solve_reference`` are reused). f* is the lowest J of tight reference fits (logitgd
``newton`` tol 1e-12, scikit-learn ``newton-cholesky`` and ``lbfgs`` at tol 1e-14). logitgd's time is the
first iterate under the target (callback timestamp); a competitor's is one complete fit with the smallest
``max_iter`` that reaches it. Every scikit-learn solver runs twice: with the default thread pools and inside
``threadpoolctl.threadpool_limits(1)``. The whole-fit row times ``LogisticRegression(alpha=...)`` with its
own defaults (no callback). One GridSearchCV loop on breast_cancer compares the whole-loop wall time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import bench_sparse
from benchmarks.bench_solvers import fmt_time, table
from benchmarks.common import time_to_target as tt
from benchmarks.common.quiet import QuietGate
from benchmarks.common.report import env_lines, git_commit

ALPHA = 1e-4
QUICK_DATASETS = "breast_cancer,iris,spector"
GRID_ALPHAS = np.logspace(-4, -1, 10)
THREADS = (("default", None), ("1 thread", 1))


# -- data -----------------------------------------------------------------------------------------------
def _std(X):
    from sklearn.preprocessing import StandardScaler

    return np.ascontiguousarray(StandardScaler().fit_transform(np.asarray(X, dtype=np.float64)))


def _labels(y):
    """Labels as 0..K-1 (int64) and K."""
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), len(classes)


def _sklearn(name):
    from sklearn import datasets

    loader = {"breast_cancer": datasets.load_breast_cancer, "iris": datasets.load_iris, "wine": datasets.load_wine,
              "digits": datasets.load_digits}[name]
    data = loader()
    return np.asarray(data.data, dtype=np.float64), data.target


def _statsmodels(name):
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas()


def _sklearn_problem(name, standardize, what):
    """A loader of scikit-learn's data set ``name``: ``() -> (X, y, what X and y are)``."""
    def load():
        X, y = _sklearn(name)
        return (_std(X) if standardize else np.ascontiguousarray(X)), y, what
    return load


load_breast_cancer_std = _sklearn_problem("breast_cancer", True, "breast_cancer, 30 features standardized; y = benign")
load_breast_cancer_raw = _sklearn_problem("breast_cancer", False,
                                          "breast_cancer, 30 features raw (scales 1e-3 to 4e3); y = benign")
load_iris = _sklearn_problem("iris", True, "iris, 4 features standardized; y = species (3)")
load_wine = _sklearn_problem("wine", True, "wine, 13 features standardized; y = cultivar (3)")
load_digits_raw = _sklearn_problem("digits", False, "digits, 64 pixels raw (0..16, float64, unscaled); y = digit (10)")
load_digits_std = _sklearn_problem("digits", True,
                                   "digits, 64 pixels standardized (constant pixels stay 0); y = digit (10)")


def load_fair():
    d = _statsmodels("fair")
    return (_std(d.exog.to_numpy()), (d.endog.to_numpy() > 0).astype(int),
            "statsmodels fair: " + ", ".join(d.exog.columns) + " standardized; y = affairs > 0")


def load_spector():
    d = _statsmodels("spector")
    return (_std(d.exog.to_numpy()), d.endog.to_numpy().astype(int),
            "statsmodels spector: " + ", ".join(d.exog.columns) + " standardized; y = GRADE")


def load_anes96():
    d = _statsmodels("anes96")
    return (_std(d.exog.to_numpy()), d.endog.to_numpy().astype(int),
            "statsmodels anes96: " + ", ".join(d.exog.columns) + " standardized; y = PID (7 party-id levels)")


def load_modechoice():
    """One row per traveller: the four modes' attributes side by side, y = the mode chosen."""
    d = _statsmodels("modechoice").data.sort_values(["individual", "mode"])
    attrs = ["ttme", "invc", "invt", "gc"]
    n_modes = int(d["mode"].nunique())
    groups = d.groupby("individual", sort=True)
    if not (groups.size() == n_modes).all() or not (groups["choice"].sum() == 1).all():
        raise ValueError("modechoice: not one row per mode and one choice per individual")
    wide = np.stack([g[attrs].to_numpy().ravel() for _, g in groups])
    first = groups.first()
    X = np.column_stack([wide, first[["hinc", "psize"]].to_numpy()])
    y = np.array([int(g["mode"].to_numpy()[g["choice"].to_numpy() == 1][0]) for _, g in groups])
    return (_std(X), y, f"statsmodels modechoice, one row per traveller: {'/'.join(attrs)} of each of the "
            f"{n_modes} modes, hinc, psize ({X.shape[1]} columns, standardized; ttme is 0 for car); "
            f"y = mode chosen ({n_modes}: air, train, bus, car)")


def load_randhie():
    d = _statsmodels("randhie")
    return (_std(d.exog.to_numpy()), (d.endog.to_numpy() > 0).astype(int),
            "statsmodels randhie: " + ", ".join(d.exog.columns) + " standardized; y = mdvis > 0 (any visit)")


# name -> (loader, alpha)
DATASETS = {
    "breast_cancer": (load_breast_cancer_std, ALPHA),
    "breast_cancer_raw": (load_breast_cancer_raw, ALPHA),
    "iris": (load_iris, ALPHA),
    "wine": (load_wine, ALPHA),
    "digits_raw": (load_digits_raw, ALPHA),
    "digits": (load_digits_std, ALPHA),
    "digits_a1e-3": (load_digits_std, 1e-3),
    "fair": (load_fair, ALPHA),
    "spector": (load_spector, ALPHA),
    "anes96": (load_anes96, ALPHA),
    "modechoice": (load_modechoice, ALPHA),
    "randhie": (load_randhie, ALPHA),
}


# -- the problem ------------------------------------------------------------------------------------------
class Problem(bench_sparse.Problem):
    """bench_sparse's Problem (binary or multinomial J, sklearn's flat lbfgs iterate); a reference fit that
    raises (logitgd is being edited) is reported in the line instead of ending the run."""

    def solve_reference(self, fits):
        fitted, failed, secs = {}, [], {}
        for label, make in fits.items():
            t = time.perf_counter()
            try:  # one BLAS thread: the reference is not timed, and it is faster on this 2-core host
                with warnings.catch_warnings(), threadpool_limits(limits=1):
                    warnings.simplefilter("ignore")
                    fitted[label] = make()
                secs[label] = time.perf_counter() - t
            except Exception as e:  # noqa: BLE001 - the report says it
                failed.append(f"**{label} raised {tt._short_error(e)}**")
                tt.log(f"    reference {label}: {tt._short_error(e)}")
        if not fitted:
            raise RuntimeError("every reference fit raised: " + "; ".join(failed))
        line = super().solve_reference({k: (lambda m=m: m) for k, m in fitted.items()})
        line += "; fit times " + ", ".join(f"{k} {s:.2g} s" for k, s in secs.items())
        return line + ("; " + "; ".join(failed) if failed else "")


def references(P):
    from logitgd import LogisticRegression

    def ours():
        return LogisticRegression(alpha=P.alpha, solver="newton", tol=1e-12, max_iter=1000).fit(P.X, P.y)

    return {"logitgd newton tol 1e-12": ours,
            "sklearn newton-cholesky tol 1e-14": lambda: bench_sparse.sk(P, "newton-cholesky", 1000, 1e-14),
            "sklearn lbfgs tol 1e-14": lambda: bench_sparse.sk(P, "lbfgs", 10_000, 1e-14)}


def solver_list(K):
    rows = [(f"logitgd:{s}", f"logitgd `solver=\"{s}\"`", lambda P, s=s: tt.run_logitgd(P, s))
            for s in ("auto", "newton", "lbfgs")]
    sk = ["lbfgs", "newton-cg", "newton-cholesky"] + (["liblinear"] if K == 2 else [])
    for solver in sk:
        for tname, limit in THREADS:
            def run(P, solver=solver, limit=limit):
                with threadpool_limits(limits=limit):
                    return tt.run_sklearn_lbfgs(P) if solver == "lbfgs" else tt.run_sklearn(P, solver)
            extra = " (`intercept_scaling=1e7`)" if solver == "liblinear" else ""
            rows.append((f"sklearn:{solver}:{tname}", f"sklearn `{solver}`{extra}, {tname} BLAS", run))
    if K == 2:
        rows.append(("glum", "glum `GeneralizedLinearRegressor(family=\"binomial\")`", tt.run_glum))
    return rows


def whole_fit(P):
    """logitgd with its defaults (own tol, max_iter, solver choice), no callback: best wall of P.repeats."""
    from logitgd import LogisticRegression

    def fit():
        model = LogisticRegression(alpha=P.alpha)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = time.perf_counter()
            model.fit(P.X, P.y)
            wall = time.perf_counter() - t
        return model, wall, caught

    try:
        fit()  # warm-up
        walls = []
        for _ in range(P.repeats):
            P.gate()
            model, wall, caught = fit()
            walls.append(wall)
    except Exception as e:  # noqa: BLE001 - the table reports it
        tt.log(f"    whole fit: {tt._short_error(e)}")
        return tt.result("error", note=tt._short_error(e)), None
    J = P.J(model.coef_, model.intercept_)
    conv = getattr(model, "converged_", None)
    info = {"solver": getattr(model, "solver_", "?"), "converged": conv}
    notes = [f"chose `{info['solver']}`", f"converged_={conv}" if conv else f"**converged_={conv}**",
             f"own stop: {getattr(model, 'stop_reason_', '?')}"]
    msgs = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:160]}" for w in caught})
    notes += msgs
    r = tt.result("reached" if J <= P.target else "not reached", time=min(walls),
                  iters=getattr(model, "n_iter_", None), J=J, walls=walls, note="; ".join(notes))
    return r, info


def run_problem(name, P, desc):
    line = P.solve_reference(references(P))
    tt.log(line)
    rows = []
    for key, label, runner in solver_list(P.cost.K):
        tt.log(f"  -- {key}")
        t = time.perf_counter()
        r = runner(P)
        tt.log(f"     {r['status']} time={r['time']} iters={r['iters']} J={r['J']} "
               f"({time.perf_counter() - t:.1f} s) {r['note']}")
        rows.append((key, label, r))
    tt.log("  -- logitgd defaults, whole fit")
    r, info = whole_fit(P)
    tt.log(f"     {r['status']} time={r['time']} J={r['J']} {r['note']}")
    rows.append(("logitgd:whole", "logitgd `LogisticRegression(alpha=...)` defaults, **whole fit** (own stop, "
                 "no callback)", r))
    return {"name": name, "P": P, "desc": desc, "line": line, "rows": rows, "whole": r, "whole_info": info}


# -- GridSearchCV -------------------------------------------------------------------------------------------
_GRID_FITS = []


def _recording_class():
    import logitgd

    class RecordingLR(logitgd.LogisticRegression):
        """logitgd's estimator that records solver_/converged_ of every fit (the untimed check loop)."""

        def fit(self, X, y, **kw):
            out = super().fit(X, y, **kw)
            _GRID_FITS.append((self.alpha, getattr(self, "solver_", "?"), getattr(self, "converged_", None),
                               getattr(self, "stop_reason_", "?")))
            return out

    return RecordingLR


def grid_search(repeats, gate):
    from sklearn.linear_model import LogisticRegression as SkLR
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    import logitgd

    X, y, _ = load_breast_cancer_std()
    n = X.shape[0]
    Cs = [1.0 / (0.8 * n * a) for a in GRID_ALPHAS]

    def cv():
        return StratifiedKFold(5, shuffle=True, random_state=0)

    configs = [("logitgd `LogisticRegression()` defaults", None,
                lambda: GridSearchCV(logitgd.LogisticRegression(), {"alpha": list(GRID_ALPHAS)}, cv=cv(),
                                     scoring="neg_log_loss"))]
    for solver in ("lbfgs", "newton-cholesky"):
        for tname, limit in THREADS:
            configs.append((f"sklearn `{solver}` (default tol/max_iter), {tname} BLAS", limit,
                            lambda solver=solver: GridSearchCV(SkLR(solver=solver), {"C": Cs}, cv=cv(),
                                                               scoring="neg_log_loss")))
    out = []
    for label, limit, make in configs:
        walls, gs, n_warn = [], None, 0
        try:
            with threadpool_limits(limits=limit):
                for i in range(repeats + 1):  # the first loop warms up, untimed
                    gs = make()
                    if i:
                        gate()
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        t = time.perf_counter()
                        gs.fit(X, y)
                        wall = time.perf_counter() - t
                    if i:
                        walls.append(wall)
                        n_warn = max(n_warn, len(caught))
        except Exception as e:  # noqa: BLE001 - the table reports it
            tt.log(f"  grid {label}: {tt._short_error(e)}")
            out.append({"label": label, "error": tt._short_error(e)})
            continue
        p = gs.best_params_
        alpha = p["alpha"] if "alpha" in p else 1.0 / (0.8 * n * p["C"])
        out.append({"label": label, "wall": min(walls), "walls": walls, "alpha": alpha, "C": p.get("C"),
                    "score": gs.best_score_, "warnings": n_warn})
        tt.log(f"  grid {label}: {min(walls):.3f} s, alpha {alpha:.3g}, score {gs.best_score_:.6f}")
    _GRID_FITS.clear()
    try:  # untimed: every logitgd fit of the loop, with its converged_
        GridSearchCV(_recording_class()(), {"alpha": list(GRID_ALPHAS)}, cv=cv(), scoring="neg_log_loss").fit(X, y)
    except Exception as e:  # noqa: BLE001
        tt.log(f"  grid check loop: {tt._short_error(e)}")
    return out, list(_GRID_FITS), n


# -- report ---------------------------------------------------------------------------------------------------
def chosen(r):
    m = re.search(r"chose `([^`]+)`", r.get("note", "") or "")
    return m.group(1) if m else "?"


def summary(res):
    by = {k: r for k, _, r in res["rows"]}
    auto = by["logitgd:auto"]
    sk = [(r["time"], k) for k, _, r in res["rows"] if k.startswith("sklearn:") and r["status"] == "reached"]
    best = min(sk) if sk else None
    return auto, best, by.get("glum"), res["whole"]


def summary_table(results):
    out = ["| problem | n x d, K | logitgd `auto` (chose) s | sklearn best s (solver, threads) | ratio auto/best "
           "| ratio <= 0.5 | glum s | logitgd defaults whole fit s (reached target, `converged_`) |",
           "|---|---|---:|---|---:|---|---:|---|"]
    for res in results:
        P = res["P"]
        auto, best, gl, whole = summary(res)
        a_ok = auto["status"] == "reached"
        a_txt = (f"{auto['time']:.3g} (`{chosen(auto)}`)" if a_ok
                 else f"**{auto['status']}**" + (f" (`{chosen(auto)}`)" if chosen(auto) != "?" else ""))
        if best:
            _, solver, threads = best[1].split(":")
            b_txt = f"{best[0]:.3g} (`{solver}`, {threads})"
        else:
            b_txt = "none reached"
        ratio = auto["time"] / best[0] if a_ok and best else None
        r_txt = f"{ratio:.2f}" if ratio is not None else "—"
        ok = "—" if ratio is None else ("yes" if ratio <= 0.5 else "**no**")
        if gl is None:
            g_txt = "n/a (multinomial)"
        elif gl["status"] == "reached":
            g_txt = f"{gl['time']:.3g}"
        elif gl["status"] == "error":
            g_txt = "n/a (not installed)" if "not installed" in gl["note"] else "error"
        else:
            g_txt = f"no ({gl['status']})"
        if whole["status"] == "error":
            w_txt = "**error**"
        else:
            conv = res["whole_info"]["converged"]
            w_txt = (f"{fmt_time(whole)} ({'yes' if whole['status'] == 'reached' else '**no**'}, "
                     f"{conv if conv else '**' + str(conv) + '**'})")
        out.append(f"| `{res['name']}` (alpha {P.alpha:g}) | {P.n:,} x {P.d}, {P.cost.K} | {a_txt} | {b_txt} | "
                   f"{r_txt} | {ok} | {g_txt} | {w_txt} |")
    return out


def loud_flags(results, grid_fits):
    flags = []
    for res in results:
        info = res["whole_info"]
        if info is not None and info["converged"] is not True:
            flags.append(f"`{res['name']}`: logitgd defaults (solver `{info['solver']}`) ended with "
                         f"`converged_ == {info['converged']}` ({res['whole']['note']})")
        for key, label, r in res["rows"]:
            if key.startswith("logitgd:") and r["status"] in ("error", "mismatch"):
                flags.append(f"`{res['name']}`: {label}: {r['status']}: {r['note']}")
    bad = [f for f in grid_fits if f[2] is not True]
    if bad:
        flags.append(f"GridSearchCV: {len(bad)} of {len(grid_fits)} logitgd fits ended with `converged_ != True`: "
                     + "; ".join(f"alpha {a:.3g} `{s}` {c} ({why})" for a, s, c, why in bad[:5]))
    if not flags:
        return ["No logitgd `auto` fit with its own stopping rule (whole-fit rows, every GridSearchCV fit) ended "
                "with `converged_ == False`; no logitgd fit raised.", ""]
    return ["**WARNING — logitgd fits that did not converge or failed:**", ""] + [f"- **{f}**" for f in flags] + [""]


def grid_table(grid, grid_fits, n, repeats):
    out = [f"### GridSearchCV on `breast_cancer` (standardized, {n} x 30)", "",
           "`GridSearchCV(est, grid, cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring=\"neg_log_loss\")`, "
           f"10 alphas log-spaced 1e-4..1e-1 (scikit-learn: C = 1/(0.8 n alpha), n = {n}); 50 fits + the refit per "
           f"loop; whole-loop wall time, best of {repeats} after one untimed loop.", "",
           "| estimator | loop wall s (best) | walls | chosen alpha | chosen C | best mean neg_log_loss | warnings |",
           "|---|---:|---|---:|---:|---:|---:|"]
    for g in grid:
        if "error" in g:
            out.append(f"| {g['label']} | **error** | | | | | {g['error']} |")
            continue
        C = "—" if g["C"] is None else f"{g['C']:.4g}"
        out.append(f"| {g['label']} | {g['wall']:.3g} | {', '.join(f'{w:.3g}' for w in g['walls'])} | "
                   f"{g['alpha']:.3g} | {C} | {g['score']:.6f} | {g['warnings']} |")
    ours = next((g for g in grid if "wall" in g and g["label"].startswith("logitgd")), None)
    theirs = [g for g in grid if "wall" in g and g["label"].startswith("sklearn")]
    if ours and theirs:
        b = min(theirs, key=lambda g: g["wall"])
        out += ["", f"logitgd loop {ours['wall']:.3g} s vs fastest scikit-learn loop ({b['label']}) {b['wall']:.3g} s: "
                    f"ratio {ours['wall'] / b['wall']:.2f}."]
    if grid_fits:
        solvers = sorted({f[1] for f in grid_fits})
        conv = sum(f[2] is True for f in grid_fits)
        out += ["", f"Check loop (untimed, the same GridSearchCV with a subclass recording each fit): "
                    f"{len(grid_fits)} logitgd fits, solver(s) {', '.join(f'`{s}`' for s in solvers)}, "
                    f"`converged_` True in {conv} of {len(grid_fits)}."]
    return out + [""]


def build_report(args, argv, results, skipped, grid, grid_fits, grid_n, env, started, wall, gate, commit):
    out = ["## bench_small: time to J <= f\\*(1 + 1e-6) on small real data sets, logitgd against scikit-learn", ""]
    p = out.append
    p(f"Command: `python -m benchmarks.bench_small{(' ' + ' '.join(argv)) if argv else ''}` — run "
      f"{started:%Y-%m-%d %H:%M} UTC at commit `{commit}`, {wall / 60:.1f} minutes in all; repeats {args.repeats}, "
      f"budget {args.budget:g} s per fit. Before each timed fit the script waited up to {gate.max_wait:g} s for the "
      f"machine to go idle (still busy at {gate.not_quiet} of {gate.calls} starts).")
    p("")
    p("Environment:")
    p("")
    out.extend(env)
    p("")
    p("Method:")
    p("")
    p("1. J = mean log-loss + alpha/2 ||W||² (binary: w; multinomial: softmax, K x d), intercept unpenalized, "
      "evaluated for every solver by one independent float64 NumPy evaluator; scikit-learn C = 1/(n alpha).")
    p("2. f\\* = the lowest J of tight reference fits (one BLAS thread): logitgd `newton` tol 1e-12, scikit-learn "
      "`newton-cholesky` and `lbfgs` (max_iter 10,000) at tol 1e-14; target J <= f\\*(1 + 1e-6).")
    p("3. logitgd (`auto`, `newton`, `lbfgs`, tol 1e-12): a callback timestamps the first iterate under the "
      "target (time from the start of `fit()`) and stops the fit; `auto`'s choice (`solver_`) is named.")
    p("4. scikit-learn (`lbfgs`, `newton-cg`, `newton-cholesky`, `liblinear` for binary) and glum (binary): one "
      "complete fit with the smallest `max_iter` reaching the target (traced fit for `lbfgs`, else growth + "
      "bisection to 10 %), each with the default thread pools and inside `threadpool_limits(1)`; "
      "\"sklearn best\" = the minimum over solvers and both thread settings.")
    p(f"5. Every timed fit after a warm-up, best of {args.repeats} (of 3 where `--repeats 1` and the fit is "
      f"< 5 s); the whole-fit row is `LogisticRegression(alpha=...)` with logitgd's own defaults and stopping rule, "
      "no callback. Timings on this shared 2-core VM move by 10-30 % between runs.")
    p("")
    out.extend(loud_flags(results, grid_fits))
    p("### Summary")
    p("")
    out.extend(summary_table(results))
    p("")
    p("liblinear penalizes the intercept as the weight of a constant column; it runs with the harness's "
      "`intercept_scaling=1e7` (so that this penalty is negligible), and where its row says it stopped on its own "
      "short of the target, that is with this setting.")
    p("")
    if skipped:
        p("Skipped data sets: " + "; ".join(f"`{k}` ({v})" for k, v in skipped.items()) + ".")
        p("")
    p("### Data")
    p("")
    p("| problem | n x d | K | alpha | X and y |")
    p("|---|---:|---:|---:|---|")
    for res in results:
        P = res["P"]
        p(f"| `{res['name']}` | {P.n:,} x {P.d} | {P.cost.K} | {P.alpha:g} | {res['desc']} |")
    p("")
    if grid is not None:
        out.extend(grid_table(grid, grid_fits, grid_n, args.grid_repeats))
    for res in results:
        P = res["P"]
        p(f"### `{res['name']}` ({P.n:,} x {P.d}, K = {P.cost.K}), l2, alpha = {P.alpha:g}")
        p("")
        p("- " + res["line"])
        p(f"- target J <= {P.target:.15g}; budget {P.budget:g} s per fit.")
        p("")
        out.extend(table(P, res["rows"]))
        p("")
    return out


# -- main ----------------------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=None,
                    help=f"comma-separated, from {','.join(DATASETS)} (default all; {QUICK_DATASETS} with --quick)")
    ap.add_argument("--repeats", type=int, default=None, help="timed fits per solver, best reported (default 5; 1 "
                                                              "with --quick)")
    ap.add_argument("--budget", type=float, default=None, help="seconds per fit (default 10; 3 with --quick)")
    ap.add_argument("--quick", action="store_true", help="three data sets, one repeat, 3 s budget, grid best of 1")
    ap.add_argument("--no-grid", action="store_true", help="skip the GridSearchCV loop")
    ap.add_argument("--no-quiet-wait", action="store_true", help="do not wait for an idle machine before a fit")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.budget = args.budget or (3.0 if args.quick else 10.0)
    args.grid_repeats = 1 if args.quick else 3
    names = (args.datasets or (QUICK_DATASETS if args.quick else ",".join(DATASETS))).split(",")
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        ap.error(f"unknown data set(s) {unknown}; choose from {','.join(DATASETS)}")
    gate = QuietGate(enabled=not args.no_quiet_wait, max_wait=1.0, sample=0.1)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    env = env_lines()
    commit = git_commit()
    results, skipped = [], {}
    for name in names:
        loader, alpha = DATASETS[name]
        try:
            X, y, desc = loader()
            y, K = _labels(y)
        except Exception as e:  # noqa: BLE001 - offline or missing data: skip it, say why
            skipped[name] = tt._short_error(e)
            print(f"skipping {name}: {skipped[name]}", file=sys.stderr, flush=True)
            continue
        tt.log(f"== {name}: {X.shape[0]} x {X.shape[1]}, K = {K}, alpha = {alpha:g}")
        P = Problem(name, "l2", X, y, alpha, args.budget, args.repeats, gate, n_classes=K)
        try:
            results.append(run_problem(name, P, desc))
        except Exception as e:  # noqa: BLE001 - e.g. every reference fit raised
            skipped[name] = f"failed: {tt._short_error(e)}"
            tt.log(f"  {name} failed: {skipped[name]}")
    grid = grid_fits = grid_n = None
    if not args.no_grid:
        tt.log("== GridSearchCV on breast_cancer")
        grid, grid_fits, grid_n = grid_search(args.grid_repeats, gate)
    wall = time.perf_counter() - t0
    env.append(f"- Load average (1 min) at start {load0[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
    text = "\n".join(build_report(args, argv, results, skipped, grid, grid_fits or [], grid_n, env, started, wall,
                                  gate, commit))
    print(text)


if __name__ == "__main__":
    main()
