"""Inference benchmark (issue 13): the cost of ``summary()`` on 1,000,000 x 100 against statsmodels, and on Dask.

Run from the repository root::

    python -m benchmarks.bench_inference [--n 1000000 --d 100]          # in memory: logitgd vs statsmodels
    python -m benchmarks.bench_inference --dask [--n 4000000 --d 100]   # LocalCluster, data > one worker's memory

Data: ``n x d`` float64 standard normal features in chunks of ``--chunk`` rows
(100,000), labels from a logistic model with coefficients N(0, 0.2²) and
intercept 0.3 (the linear predictor has standard deviation 2: far from
separable, so the MLE exists). Chunk i comes from the seed ``(SEED, i)``
(``bench_dask.make_chunk``), so the in-memory array and the Dask array of a
size are the same numbers.

In memory, each method runs in its own subprocess (``--child``), which builds
the data (after an untimed warm-up fit and summary on 4,000 rows, so that numba's
compilation is not timed), resets its peak-RSS counter (``/proc/self/clear_refs`` = 5) and
reads ``VmHWM`` after each phase: peak memory per phase, and the whole
process's. logitgd: ``fit``; the first ``summary()`` (model-based; it computes
and keeps the ingredients: information, meat, log-likelihoods, nobs);
``summary(cov_type="HC1")`` and ``"HC0"`` from the kept ingredients; and
``summary(X, y, cov_type="HC1")``, which computes them again. statsmodels:
``sm.Logit(y, sm.add_constant(X)).fit(disp=0)`` then ``.bse`` (model-based)
and ``.fit(disp=0, cov_type="HC1")`` then ``.bse``; ``cov_white_simple`` alone
(the sandwich that its "HC1" is). The floor: one ``Xc.T @ Xc`` (a gram of
n p² multiply-adds, p = d + 1) and one read of X (``X.sum(axis=0)``), timed in
the logitgd child.

statsmodels' discrete models (``Logit``) give ``cov_type="HC1"`` no small-sample
factor: they fall back to ``cov_white_simple(use_correction=False)``, i.e. HC0
(checked here: its HC1 covariance against that call). logitgd's HC1 is HC0 times
n / (n - k). So the SE comparison is logitgd HC0 against statsmodels "HC1"
(and logitgd's HC1 against it, to show the n / (n - k)).

``--dask``: a LocalCluster of ``--workers`` (2) processes x 1 thread with
``--memory-limit`` (1.5 GB) each; X is built lazily by one delayed task per
chunk, so 4,000,000 x 100 (3.2 GB) is more than one worker's limit and more
than half of the cluster's (logitgd's rule then does not persist it: every
pass regenerates the chunks). Fit and summary there, then the same data
computed into the client and fitted and summarized in memory.
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

SEED = 13


def make_chunk(i, rows, cols, seed=SEED):
    from benchmarks.bench_dask import make_chunk as _mk
    return _mk(i, rows, cols, seed=seed)


def chunk_rows(n, chunk):
    rows = [chunk] * (n // chunk)
    if n % chunk:
        rows.append(n % chunk)
    return rows


def make_data(n, d, chunk):
    X = np.empty((n, d))
    y = np.empty(n)
    s = 0
    for i, r in enumerate(chunk_rows(n, chunk)):
        X[s:s + r], y[s:s + r] = make_chunk(i, r, d)
        s += r
    return X, y


# -- memory ---------------------------------------------------------------------------------------
def _status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Phases:
    """Wall time and peak RSS (VmHWM after a reset) of each phase of a child."""

    def __init__(self):
        self.out = {}

    def run(self, name, fn):
        reset_peak()
        before = _status("VmRSS")
        t = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t
        self.out[name] = {"wall": wall, "rss_before": before, "peak": _status("VmHWM"), "rss_after": _status("VmRSS")}
        print(f"  {name}: {wall:.2f} s, peak {self.out[name]['peak'] / 2**30:.2f} GiB "
              f"(before {before / 2**30:.2f})", file=sys.stderr, flush=True)
        return result


# -- children -------------------------------------------------------------------------------------
def child_logitgd(args):
    from logitgd import LogisticRegression

    Xw, yw = make_data(4000, args.d, 4000)  # warm-up, untimed: numba's kernels compiled (or loaded from cache)
    LogisticRegression().fit(Xw, yw).summary(cov_type="HC1")
    del Xw, yw
    ph = Phases()
    X, y = ph.run("build the data", lambda: make_data(args.n, args.d, args.chunk))
    m = ph.run("fit", lambda: LogisticRegression().fit(X, y))
    s0 = ph.run("summary() model-based, first", lambda: m.summary())
    s1 = ph.run("summary(HC1), kept ingredients", lambda: m.summary(cov_type="HC1"))
    s2 = ph.run("summary(HC0), kept ingredients", lambda: m.summary(cov_type="HC0"))
    ph.run("summary(X, y, HC1), computed again", lambda: m.summary(X, y, cov_type="HC1"))
    Xc = np.hstack([np.ones((X.shape[0], 1)), X])
    ph.run("floor: one gram Xc.T @ Xc", lambda: Xc.T @ Xc)
    ph.run("floor: one read X.sum(axis=0)", lambda: X.sum(axis=0))
    np.savez(args.save, params=np.asarray(s0.params), nonrobust=np.asarray(s0.bse), HC1=np.asarray(s1.bse),
             HC0=np.asarray(s2.bse), llf=s0.llf)
    return {"method": "logitgd", "phases": ph.out, "n_iter": int(np.max(m.n_iter_)), "solver": m.solver_,
            "stop_reason": m.stop_reason_}


def child_statsmodels(args):
    import statsmodels.api as sm
    from statsmodels.stats.sandwich_covariance import cov_white_simple

    ph = Phases()
    X, y = ph.run("build the data", lambda: make_data(args.n, args.d, args.chunk))
    Xc = ph.run("add_constant", lambda: sm.add_constant(X))

    def nonrobust():
        r = sm.Logit(y, Xc).fit(disp=0)
        return r, np.asarray(r.bse)

    def hc1():
        r = sm.Logit(y, Xc).fit(disp=0, cov_type="HC1")
        return r, np.asarray(r.bse)

    r0, b0 = ph.run("Logit.fit() + .bse (nonrobust)", nonrobust)
    r1, b1 = ph.run("Logit.fit(cov_type=HC1) + .bse", hc1)
    cw = ph.run("cov_white_simple(use_correction=False) alone", lambda: cov_white_simple(r0, use_correction=False))
    cw = cw[0] if isinstance(cw, tuple) else cw
    same = float(np.max(np.abs(np.asarray(r1.cov_params()) - cw)) / np.max(np.abs(cw)))
    np.savez(args.save, params=np.asarray(r0.params), nonrobust=b0, HC1=b1, llf=float(r0.llf))
    return {"method": "statsmodels", "phases": ph.out, "n_iter": int(r0.mle_retvals.get("iterations", -1)),
            "converged": bool(r0.mle_retvals.get("converged")), "hc1_vs_white_simple_noncorrected": same,
            "statsmodels": sm.__version__}


# -- in memory ------------------------------------------------------------------------------------
def rel(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


def absrel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def run_inmemory(args):
    tmp = tempfile.mkdtemp(prefix="bench_inference_")
    res = {}
    for method in ("logitgd", "statsmodels"):
        save = os.path.join(tmp, method + ".npz")
        cmd = [sys.executable, "-m", "benchmarks.bench_inference", "--child", method, "--n", str(args.n),
               "--d", str(args.d), "--chunk", str(args.chunk), "--save", save]
        print(f"# {method} (subprocess)", file=sys.stderr, flush=True)
        t = time.perf_counter()
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        rec = json.loads(out.strip().splitlines()[-1])
        rec["subprocess_wall"] = time.perf_counter() - t
        rec["vmhwm_process"] = rec.pop("_vmhwm")
        rec["arrays"] = dict(np.load(save))
        res[method] = rec
    g, s = res["logitgd"], res["statsmodels"]
    ga, sa = g["arrays"], s["arrays"]
    n, k = args.n, args.d + 1
    GiB = 2**30
    P = lambda r, name: r["phases"][name]
    print()
    print(f"n = {n:,}, d = {args.d} (k = {k} parameters with the intercept), float64; X is {n * args.d * 8 / 1e9:.2f} GB")
    print()
    print("| method | step | wall (s) | peak RSS in the step (GiB) | RSS before (GiB) |")
    print("|---|---|---:|---:|---:|")
    for r in (g, s):
        for name, v in r["phases"].items():
            print(f"| {r['method']} | {name} | {v['wall']:.2f} | {v['peak'] / GiB:.2f} | {v['rss_before'] / GiB:.2f} |")
    print()
    print(f"Whole child process, peak RSS (data included; logitgd's floor steps, which copy X into Xc, left out): logitgd {g['vmhwm_process'] / GiB:.2f} GiB, "
          f"statsmodels {s['vmhwm_process'] / GiB:.2f} GiB")
    print(f"logitgd: solver {g['solver']}, {g['n_iter']} iterations, stop: {g['stop_reason']}; "
          f"statsmodels {s['statsmodels']}: newton, {s['n_iter']} iterations, converged {s['converged']}")
    print()
    fit_g = P(g, "fit")["wall"]
    sum_g = P(g, "summary() model-based, first")["wall"]
    hc1_g = P(g, "summary(HC1), kept ingredients")["wall"]
    again_g = P(g, "summary(X, y, HC1), computed again")["wall"]
    nr_s = P(s, "Logit.fit() + .bse (nonrobust)")["wall"]
    hc_s = P(s, "Logit.fit(cov_type=HC1) + .bse")["wall"]
    cw_s = P(s, "cov_white_simple(use_correction=False) alone")["wall"]
    ac_s = P(s, "add_constant")["wall"]
    both_g = fit_g + sum_g + hc1_g
    print("| comparison | logitgd (s) | statsmodels (s) | statsmodels / logitgd |")
    print("|---|---:|---:|---:|")
    print(f"| fit + model-based SEs | {fit_g + sum_g:.2f} | {nr_s:.2f} | {nr_s / (fit_g + sum_g):.1f}x |")
    print(f"| fit + sandwich SEs | {fit_g + sum_g + hc1_g:.2f} (fit, summary(), summary(HC1)) | {hc_s:.2f} | "
          f"{hc_s / both_g:.1f}x |")
    print(f"| both tables | {both_g:.2f} | {nr_s + hc_s:.2f} (two fits) + {ac_s:.2f} add_constant | "
          f"{(nr_s + hc_s + ac_s) / both_g:.1f}x |")
    print(f"| the SEs alone, from the data | {again_g:.2f} (summary(X, y, HC1): all ingredients) | {cw_s:.2f} "
          f"(cov_white_simple) | {cw_s / again_g:.2f}x |")
    print()
    gram = P(g, "floor: one gram Xc.T @ Xc")["wall"]
    read = P(g, "floor: one read X.sum(axis=0)")["wall"]
    print(f"Floor: summary reads X at least twice (information and meat) = 2 x {n * args.d * 8 / 1e6:.0f} MB "
          f"and does two grams of n k² = {n * k * k:.3g} multiply-adds each. Measured here: one read of X "
          f"{read:.2f} s ({n * args.d * 8 / read / 1e9:.1f} GB/s), one gram Xc.T @ Xc {gram:.2f} s "
          f"({n * k * k / gram / 1e9:.1f} G multiply-adds/s) -> floor 2 grams = {2 * gram:.2f} s; "
          f"logitgd's first summary() {sum_g:.2f} s = {sum_g / (2 * gram):.2f}x that floor.")
    print()
    print("| SEs compared | max relative difference |")
    print("|---|---:|")
    print(f"| model-based: logitgd vs statsmodels | {rel(ga['nonrobust'], sa['nonrobust']):.2e} |")
    print(f"| logitgd HC0 vs statsmodels 'HC1' (= HC0) | {rel(ga['HC0'], sa['HC1']):.2e} |")
    print(f"| logitgd HC1 vs statsmodels 'HC1' | {rel(ga['HC1'], sa['HC1']):.2e} "
          f"(sqrt(n/(n-k)) - 1 = {np.sqrt(n / (n - k)) - 1:.2e}) |")
    print(f"| params: logitgd vs statsmodels, max abs diff / max abs | {absrel(ga['params'], sa['params']):.2e} |")
    print(f"| llf | {abs(float(ga['llf']) - float(sa['llf'])) / abs(float(sa['llf'])):.2e} |")
    print(f"statsmodels' HC1 covariance vs cov_white_simple(use_correction=False): max rel diff "
          f"{s['hc1_vs_white_simple_noncorrected']:.2e}")
    for r in (g, s):
        r.pop("arrays")
    return res


# -- dask -----------------------------------------------------------------------------------------
def _worker_mem():
    def f():
        return _status("VmHWM"), _status("VmRSS")
    return f


def run_dask(args):
    import dask
    import dask.array as da
    import distributed

    from logitgd import LogisticRegression

    env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                       memory_limit=args.memory_limit, env=env, dashboard_address=None)
    client = distributed.Client(cluster)
    rows = chunk_rows(args.n, args.chunk)
    parts = [dask.delayed(make_chunk, pure=True)(i, r, args.d) for i, r in enumerate(rows)]
    X = da.concatenate([da.from_delayed(p[0], (r, args.d), np.float64) for p, r in zip(parts, rows)])
    y = da.concatenate([da.from_delayed(p[1], (r,), np.float64) for p, r in zip(parts, rows)])
    workers0 = set(client.scheduler_info()["workers"])
    limit = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"]
    print(f"# cluster: {args.workers} workers x 1 thread, memory_limit {limit / 1e9:.2f} GB each; "
          f"X {args.n:,} x {args.d} = {X.nbytes / 1e9:.2f} GB in {len(rows)} chunks", file=sys.stderr, flush=True)
    kw = {} if args.solver == "auto" else {"solver": args.solver}
    t = time.perf_counter()
    m = LogisticRegression(**kw).fit(X, y)
    fit_d = time.perf_counter() - t
    persisted = getattr(getattr(getattr(m, "_fit_data", None), "data", None), "persisted", None)
    t = time.perf_counter()
    s0 = m.summary()
    sum_d = time.perf_counter() - t
    t = time.perf_counter()
    s1 = m.summary(cov_type="HC1")
    hc1_d = time.perf_counter() - t
    mem = client.run(_worker_mem())
    workers1 = set(client.scheduler_info()["workers"])
    d_params, d_nr, d_hc1 = np.asarray(s0.params), np.asarray(s0.bse), np.asarray(s1.bse)
    d_iter, d_solver = int(np.max(m.n_iter_)), m.solver_
    del m
    client.close()
    cluster.close()

    t = time.perf_counter()
    Xm, ym = make_data(args.n, args.d, args.chunk)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    mm = LogisticRegression(**kw).fit(Xm, ym)
    fit_m = time.perf_counter() - t
    t = time.perf_counter()
    m0 = mm.summary()
    sum_m = time.perf_counter() - t
    t = time.perf_counter()
    m1 = mm.summary(cov_type="HC1")
    hc1_m = time.perf_counter() - t
    GiB = 2**30
    print()
    print(f"n = {args.n:,}, d = {args.d}, X {X.nbytes / 1e9:.2f} GB; LocalCluster {args.workers} workers x 1 thread, "
          f"memory_limit {limit / 1e9:.2f} GB each; data persisted on the workers: {persisted}; "
          f"workers lost during the run: {len(workers0 - workers1)}")
    print()
    print("| step | Dask (s) | in memory (s) | Dask / in memory |")
    print("|---|---:|---:|---:|")
    print(f"| fit (solver {d_solver} / {mm.solver_}, {d_iter} / {int(np.max(mm.n_iter_))} iterations) | "
          f"{fit_d:.1f} | {fit_m:.1f} | {fit_d / fit_m:.1f}x |")
    print(f"| summary() model-based, first (computes the ingredients) | {sum_d:.1f} | {sum_m:.1f} | "
          f"{sum_d / sum_m:.1f}x |")
    print(f"| summary(HC1), kept ingredients | {hc1_d:.3f} | {hc1_m:.3f} | |")
    print(f"(in memory: building the {Xm.nbytes / 1e9:.1f} GB array in the client took {gen:.1f} s, not counted)")
    print()
    print("| worker | peak RSS (GiB) | RSS at the end (GiB) |")
    print("|---|---:|---:|")
    for i, (addr, (hwm, rss)) in enumerate(sorted(mem.items())):
        print(f"| {i} | {hwm / GiB:.2f} | {rss / GiB:.2f} |")
    print(f"client process peak RSS (includes the in-memory copy): {_status('VmHWM') / GiB:.2f} GiB")
    print()
    print("| Dask vs in memory | max relative difference |")
    print("|---|---:|")
    print(f"| params (max abs diff / max abs) | {absrel(d_params, np.asarray(m0.params)):.2e} |")
    print(f"| model-based SEs | {rel(d_nr, np.asarray(m0.bse)):.2e} |")
    print(f"| HC1 SEs | {rel(d_hc1, np.asarray(m1.bse)):.2e} |")
    return {"fit_dask": fit_d, "summary_dask": sum_d, "fit_mem": fit_m, "summary_mem": sum_m, "persisted": persisted,
            "workers_lost": len(workers0 - workers1), "worker_mem": {k: list(v) for k, v in mem.items()}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="1.5GB")
    ap.add_argument("--solver", default="auto", help="--dask: logitgd's solver (both fits)")
    ap.add_argument("--child", choices=["logitgd", "statsmodels"], help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.n is None:
        args.n = 4_000_000 if args.dask else 1_000_000
    if args.child:
        rec = (child_logitgd if args.child == "logitgd" else child_statsmodels)(args)
        # the whole process's peak: the largest of the phases' (the counter is reset at each), leaving out
        # the floor's steps (their Xc is a copy of X that logitgd never makes)
        rec["_vmhwm"] = max(v["peak"] for k, v in rec["phases"].items() if not k.startswith("floor"))
        rec.pop("vmhwm_process", None)
        print(json.dumps(rec), flush=True)
        return
    from benchmarks.common.report import env_lines
    print("\n".join(env_lines()))
    print(f"- command: python -m benchmarks.bench_inference {' '.join(sys.argv[1:])}")
    (run_dask if args.dask else run_inmemory)(args)


if __name__ == "__main__":
    main()
