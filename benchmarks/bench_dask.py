"""Dask benchmarks (issue 5): logitgd on a LocalCluster against dask-ml and against itself in memory.

Run from the repository root, one step at a time (each prints JSON lines and
appends them to ``--out``)::

    python -m benchmarks.bench_dask dask      # LocalCluster(2 workers): logitgd gd/lbfgs/newton, dask-ml solvers
    python -m benchmarks.bench_dask inmem     # the same data in one NumPy array: logitgd lbfgs/newton
    python -m benchmarks.bench_dask write --dir DIR --gb 32 [--plain]   # Parquet data for the out-of-core run
    python -m benchmarks.bench_dask diskspeed --dir DIR --files 0       # dd over every file: O_DIRECT and buffered
    python -m benchmarks.bench_dask ooc --dir DIR    # `logitgd fit DIR --dask local:2` from a cold page cache

Data: ``--rows`` x ``--cols`` float64 (default 10,000,000 x 100) in
``--chunks`` row chunks (20), standard normal features, labels drawn from a
logistic model (coefficients N(0, 0.2²), intercept 0.3: far from separable).
Chunk i comes from the seed ``(SEED, i)``, so every step builds the same data.

Problem: the unpenalized maximum-likelihood fit (``alpha=0``), the only
objective that dask-ml's solvers share without re-scaling (dask-glm sums the
log-loss and penalizes the intercept). ``f*`` is the cost of logitgd's Newton
fit with ``tol=1e-10``; the target is ``J <= f* (1 + 1e-6)``.

Timing: the time to the target counts from the start of ``fit()`` (data
already in the workers' memory, validation and preconditioner included) to
the first iterate that reaches it: logitgd's callback timestamps every
iteration; dask-ml's iterates are timestamped by patching dask-glm
(``fmin_l_bfgs_b`` for lbfgs, ``dot`` for newton, the L2 prox for admm) and
their costs computed afterwards, untimed (the checks that need a pass are
subtracted from the clock). The per-pass time is the median of 5 evaluations
of the loss and gradient at random parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

SEED = 5


def make_chunk(i, rows, cols, seed=SEED):
    """``(X, y)`` of chunk ``i``: float64 standard normal features, labels from a logistic model."""
    rng = np.random.default_rng([seed, i])
    X = rng.standard_normal((rows, cols))
    w = np.random.default_rng(seed).standard_normal(cols) * 0.2
    z = X @ w + 0.3
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
    return X, y


def _emit(out, record):
    record["time_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(record)
    print(line, flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(line + "\n")


def _chunk_rows(args):
    rows = [args.rows // args.chunks] * args.chunks
    rows[-1] += args.rows - sum(rows)
    return rows


class Trace:
    """Callback that timestamps every iteration's cost (from the start of fit)."""

    def __init__(self, budget):
        self.t0 = None
        self.points = []
        self.budget = budget

    def start(self):
        self.t0 = time.perf_counter()

    def __call__(self, state):
        t = time.perf_counter() - self.t0
        self.points.append((t, float(state.fun)))
        return t > self.budget

    def time_to(self, target):
        return next((t for t, f in self.points if f <= target), None)


def _fit_ours(X, y, solver, budget, tol=1e-8):
    import logitgd

    trace = Trace(budget)
    model = logitgd.LogisticRegression(solver=solver, alpha=0.0, tol=tol, callback=trace)
    trace.start()
    model.fit(X, y)
    total = time.perf_counter() - trace.t0
    return model, trace, total


def _fit_solvers(X, y, args, step):
    """Each of ``--solvers`` fitted (and emitted as ``step``): ``({solver: model}, parameters of the last)``."""
    models, theta = {}, None
    for solver in args.solvers.split(","):
        model, trace, total = _fit_ours(X, y, solver, args.budget, tol=1e-10 if solver == "newton" else 1e-8)
        models[solver] = model
        theta = np.r_[model.coef_.ravel(), model.intercept_]
        _emit(args.out, {"step": step, "solver": solver, "total_s": total, "n_iter": int(model.n_iter_),
                         "final_cost": float(model.loss_history_[-1]), "trace": trace.points,
                         "coef": theta.tolist()})
    return models, theta


def _pass_time(objective, theta, repeats=5):
    """Median seconds of ``value_and_grad`` near ``theta`` (a fitted model: realistic scores)."""
    rng = np.random.default_rng(1)
    times = []
    for _ in range(repeats):
        theta = np.asarray(theta) * (1 + 1e-3 * rng.standard_normal(len(theta)))  # new theta: no cached pass
        t = time.perf_counter()
        objective.value_and_grad(theta)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), times


# -- in memory ------------------------------------------------------------------------
def cmd_inmem(args):
    from logitgd.objective import LogisticObjective

    rows = _chunk_rows(args)
    t = time.perf_counter()
    X = np.empty((args.rows, args.cols))
    y = np.empty(args.rows)
    start = 0
    for i, r in enumerate(rows):
        X[start:start + r], y[start:start + r] = make_chunk(i, r, args.cols)
        start += r
    _emit(args.out, {"step": "inmem-data", "seconds": time.perf_counter() - t})
    obj = LogisticObjective(X, y)
    obj.value_and_grad(np.zeros(obj.n_params))  # load the kernel
    _, theta = _fit_solvers(X, y, args, "inmem-fit")
    med, times = _pass_time(obj, theta)
    _emit(args.out, {"step": "inmem-pass", "median_s": med, "times": times, "kernel": obj.uses_kernel})


# -- on the cluster -------------------------------------------------------------------------
def _cluster(n_workers):
    import dask
    import distributed

    dask.config.set({"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False})
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                       env={"NUMBA_NUM_THREADS": "1"}, dashboard_address=None)
    return cluster, distributed.Client(cluster)


def cmd_dask(args):
    import dask
    import dask.array as da
    import distributed

    cluster, client = _cluster(args.workers)
    rows = _chunk_rows(args)
    parts = [dask.delayed(make_chunk, pure=True)(i, r, args.cols) for i, r in enumerate(rows)]
    X = da.concatenate([da.from_delayed(p[0], (r, args.cols), np.float64) for p, r in zip(parts, rows)])
    y = da.concatenate([da.from_delayed(p[1], (r,), np.float64) for p, r in zip(parts, rows)])
    t = time.perf_counter()
    X, y = dask.persist(X, y)
    distributed.wait([X, y])
    _emit(args.out, {"step": "dask-data", "seconds": time.perf_counter() - t, "chunks": X.numblocks[0]})

    # per pass (the kernel is loaded on the workers by the first evaluation)
    import logitgd
    from logitgd.objective import LinearObjective

    data, _, _ = logitgd.LogisticRegression()._validate_xy(X, y, None)
    obj = LinearObjective(data, None, True)
    obj.value_and_grad(np.zeros(obj.n_params))  # load the kernel on the workers

    results, theta = _fit_solvers(X, y, args, "dask-fit")
    med, times = _pass_time(obj, theta)
    _emit(args.out, {"step": "dask-pass", "median_s": med, "times": times, "persisted": data.persisted})
    if args.dask_ml:
        f_star = min(float(m.loss_history_[-1]) for m in results.values())
        _dask_ml(args, X, y, obj, f_star)
    client.close()
    cluster.close()


class _Stop(Exception):
    pass


def _dask_ml(args, X, y, obj, f_star):
    """dask-ml's solvers, their iterates timestamped; costs computed afterwards."""
    import dask
    import dask_glm.algorithms as alg
    import dask_glm.regularizers as regs
    from dask_ml.linear_model import LogisticRegression

    target = f_star * (1 + 1e-6)
    n = X.shape[0]
    # dask-glm runs in normalized coordinates (X with its intercept column, standardized)
    Xi = da_add_intercept(X)
    mean, std = (np.asarray(v, dtype=np.float64) for v in dask.compute(Xi.mean(axis=0), Xi.std(axis=0)))
    const = std == 0
    mean[const], std[const] = 0.0, 1.0

    def original(beta_n):
        out = np.array(beta_n, dtype=np.float64)
        out[const] -= np.sum(out * mean / std)
        return out / std

    def cost(beta):  # mean log-loss of the original-coordinates beta (coef..., intercept)
        return float(obj.value(np.asarray(beta, dtype=np.float64)))

    for solver in args.dask_ml.split(","):
        record, clock = [], {"t0": None, "paused": 0.0}

        def now():
            return time.perf_counter() - clock["t0"] - clock["paused"]

        def check(beta_n):
            """Cost of a normalized iterate, off the clock; stop at the target or the budget."""
            t = now()
            pause = time.perf_counter()
            f = cost(original(beta_n))
            clock["paused"] += time.perf_counter() - pause
            record.append((t, f, None))
            if f <= target or t > args.budget:
                raise _Stop

        saved = {}
        if solver == "lbfgs":
            orig = alg.fmin_l_bfgs_b

            def patched(func, x0, *a, **k):
                def f(beta, *fa):
                    loss, grad = func(beta, *fa)
                    t = now()
                    record.append((t, float(loss) / n, None))
                    if float(loss) / n <= target or t > args.budget:
                        raise _Stop
                    return loss, grad
                return orig(f, x0, *a, **k)
            saved["fmin_l_bfgs_b"] = (alg, orig)
            alg.fmin_l_bfgs_b = patched
            model = LogisticRegression(solver="lbfgs", penalty=None, max_iter=10_000, tol=0.0)
        elif solver in ("newton", "admm"):
            if solver == "newton":
                orig = alg.dot

                def patched(A, b):
                    if isinstance(b, np.ndarray) and b.ndim == 1 and np.any(b):
                        check(b)
                    return orig(A, b)
                saved["dot"] = (alg, orig)
                alg.dot = patched
                model = LogisticRegression(solver="newton", max_iter=100, tol=1e-12)
            else:
                orig = regs.L2.proximal_operator

                def patched(self, beta, t):
                    z = orig(self, beta, t)
                    check(z)
                    return z
                saved["proximal_operator"] = (regs.L2, orig)
                regs.L2.proximal_operator = patched
                model = LogisticRegression(solver="admm", penalty="l2", C=1e12, max_iter=1000)
        else:  # gradient_descent, proximal_grad: no hook, the returned model after --gd-iter iterations
            model = LogisticRegression(solver=solver, max_iter=args.gd_iter, penalty="l2", C=1e12)
        clock["t0"] = time.perf_counter()
        stopped = False
        try:
            model.fit(X, y)
        except _Stop:
            stopped = True
        total = time.perf_counter() - clock["t0"] - clock["paused"]
        for name, (owner, fn) in saved.items():
            setattr(owner, name, fn)
        points = [(t, f) for t, f, _ in record]
        if points:
            ttt = next((t for t, f in points if f <= target), None)
            final = points[-1][1]
        else:  # no hook: the returned model, timed as a whole
            final = cost(np.r_[np.ravel(model.coef_), model.intercept_])
            ttt = total if final <= target else None
        if not stopped:  # the solver stopped itself: its returned model
            final = cost(np.r_[np.ravel(model.coef_), model.intercept_])
        _emit(args.out, {"step": "daskml-fit", "solver": solver, "total_s": total, "stopped_by_bench": stopped,
                         "iterates": len(record), "final_cost": final, "target": target, "f_star": f_star,
                         "time_to_target_s": ttt, "trace": points})


def da_add_intercept(X):
    from dask_ml.linear_model.utils import add_intercept

    return add_intercept(X)


# -- out of core -----------------------------------------------------------------------------
def cmd_write(args):
    """Parquet files of ``--rows-per-file`` rows until ``--gb`` GB (float64 features + label)."""
    os.makedirs(args.dir, exist_ok=True)
    per_file = args.rows_per_file
    bytes_per_file = per_file * (args.cols + 1) * 8
    n_files = max(1, int(round(args.gb * 1e9 / bytes_per_file)))
    t = time.perf_counter()

    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    with ProcessPoolExecutor(args.jobs) as pool:
        list(pool.map(partial(_write_file, directory=args.dir, rows=per_file, cols=args.cols,
                              dictionary=not args.plain), range(n_files)))
    size = sum(os.path.getsize(os.path.join(args.dir, f)) for f in os.listdir(args.dir))
    _emit(args.out, {"step": "ooc-write", "files": n_files, "rows": n_files * per_file, "bytes": size,
                     "seconds": time.perf_counter() - t})


def _write_file(i, directory, rows, cols, dictionary=True):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = make_chunk(i, rows, cols)
    names = [f"x{j}" for j in range(cols)] + ["label"]
    table = pa.table([pa.array(X[:, j]) for j in range(cols)] + [pa.array(y)], names=names)
    pq.write_table(table, os.path.join(directory, f"part-{i:05d}.parquet"), compression="none",
                   row_group_size=max(1, rows // 4), use_dictionary=dictionary)


def _drop_page_cache():
    """Empty the page cache (root only); False where that is not allowed."""
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def cmd_diskspeed(args):
    """Sequential read speed with dd (16 MiB blocks), 1, 2 and 4 streams: with O_DIRECT (bypassing the page cache)
    and buffered (through it, with the kernel's read-ahead) after dropping the page cache (needs root).
    ``--files 0`` reads every file in each of the four ways (a whole pass over the data, as a fit makes)."""
    files = sorted(os.path.join(args.dir, f) for f in os.listdir(args.dir))
    used = 0
    for flag in ("iflag=direct", ""):
        if not flag and not _drop_page_cache():
            print("diskspeed: cannot drop the page cache (not root): buffered reads skipped")
            break
        for streams in (1, 2, 4):
            if args.files:
                chosen = files[used:used + streams * args.files]  # files not read just before
                used += len(chosen)
            else:
                chosen = files
                if not flag:
                    _drop_page_cache()
            t = time.perf_counter()
            groups = [chosen[k::streams] for k in range(streams)]
            procs = [subprocess.Popen(["sh", "-c", "; ".join(f"dd if={f} of=/dev/null bs=16M {flag} 2>/dev/null"
                                                             for f in group)]) for group in groups]
            for p in procs:
                p.wait()
            seconds = time.perf_counter() - t
            total = sum(os.path.getsize(f) for f in chosen)
            _emit(args.out, {"step": "diskspeed", "mode": "direct" if flag else "buffered", "streams": streams,
                             "files": len(chosen), "bytes": total, "seconds": seconds,
                             "GB_per_s": total / seconds / 1e9})


def cmd_ooc(args):
    """``logitgd fit DIR --dask local:2``, with every process's memory sampled."""
    import psutil

    cmd = ["logitgd", "fit", args.dir, "--target", "label", "--dask", "local:2", "--solver", args.solver,
           "--tol", str(args.tol)] + (["--max-iter", str(args.max_iter)] if args.max_iter else [])
    peaks = {}
    if not _drop_page_cache():  # start cold: no file in the page cache
        print("ooc: cannot drop the page cache (not root); some files may be read from it")
    cpu0 = psutil.cpu_times()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()
    io0 = psutil.disk_io_counters()

    def sample():
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    name = " ".join(p.cmdline()[:3])[-80:]
                except psutil.Error:
                    continue
                key = (p.pid, name)
                peaks[key] = max(peaks.get(key, 0), rss)
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = []
    for line in proc.stdout:
        output.append(line.rstrip())
        print(line.rstrip()[-300:], flush=True)
    proc.wait()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - t
    io1 = psutil.disk_io_counters()
    cpu1 = psutil.cpu_times()
    busy = {k: getattr(cpu1, k) - getattr(cpu0, k) for k in ("user", "system", "idle", "iowait", "softirq")}
    _emit(args.out, {"step": "ooc-fit", "cmd": " ".join(cmd), "returncode": proc.returncode, "seconds": seconds,
                     "read_bytes": io1.read_bytes - io0.read_bytes,
                     "cpu_share": {k: v / sum(busy.values()) for k, v in busy.items()},
                     "peak_rss_bytes": {f"{pid} {name}": v for (pid, name), v in peaks.items()},
                     "max_peak_rss_GiB": max(peaks.values()) / 2 ** 30 if peaks else None,
                     "output_tail": [line[-300:] for line in output[-12:]]})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["dask", "inmem", "write", "diskspeed", "ooc"])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solvers", default="newton,lbfgs,gd", help="logitgd solvers to time")
    parser.add_argument("--dask-ml", default="lbfgs,newton,admm", help="dask-ml solvers to time ('' for none)")
    parser.add_argument("--gd-iter", type=int, default=50, help="max_iter of dask-ml's gradient_descent")
    parser.add_argument("--budget", type=float, default=180.0, help="seconds per fit before it is stopped")
    parser.add_argument("--dir", default="/work/ooc_parquet")
    parser.add_argument("--gb", type=float, default=32.0)
    parser.add_argument("--plain", action="store_true",
                        help="write: PLAIN-encoded columns (pyarrow's default, dictionary encoding, holds every "
                             "distinct float of a 100,000-row group: 25 %% more bytes, and a gather to decode)")
    parser.add_argument("--rows-per-file", type=int, default=400_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--files", type=int, default=8, help="diskspeed: files to read")
    parser.add_argument("--solver", default="lbfgs", help="ooc: solver")
    parser.add_argument("--tol", type=float, default=1e-6, help="ooc: tol")
    parser.add_argument("--max-iter", type=int, default=None, help="ooc: max_iter")
    parser.add_argument("--out", default=None, help="append the JSON records here")
    args = parser.parse_args(argv)
    {"dask": cmd_dask, "inmem": cmd_inmem, "write": cmd_write, "diskspeed": cmd_diskspeed, "ooc": cmd_ooc}[
        args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
