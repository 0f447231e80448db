"""Bit-for-bit parity harness for refactors that must not change behaviour (issue 12).

Fits a fixed matrix of small, seeded problems (``common/parity_cases.py``)
through the public API only (``logitgd.LogisticRegression``) and saves what
each fit produced; a second command compares two such files::

    PYTHONPATH=/path/to/old/src python -m benchmarks.parity run old.npz
    PYTHONPATH=/path/to/new/src python -m benchmarks.parity run new.npz
    python -m benchmarks.parity compare old.npz new.npz      # exit 1 if a NumPy/Dask case differs
    python -m benchmarks.parity list                         # the case names

Which tree is tested is whatever ``import logitgd`` finds: set PYTHONPATH to
the tree's ``src`` (it comes before the virtualenv's editable install). The
Dask workers are separate processes: they inherit PYTHONPATH, and the run
aborts if a worker imports logitgd from another file than the client.

Per case the file holds ``coef_``, ``intercept_``, ``n_iter_``,
``loss_history_``, ``solver_``, ``converged_``, ``stop_reason_``,
``classes_``, ``predict_proba`` on the first 5 training rows, and the
warnings raised during the fit (``Category: message``; those raised from
inside dask/distributed/tornado are kept apart in ``warnings_other`` and
only reported, since their text can carry sizes and timings). A case that
raises stores ``error`` instead. Keys are ``"<case>|<field>"``; ``__meta__``
holds a JSON record of the tree, versions and per-case seconds (never compared).

Groups: ``np`` (NumPy / scipy.sparse), ``torch`` (CPU tensors) and ``dask``
(a real ``distributed.LocalCluster`` of 2 worker processes). ``compare``
requires ``np`` and ``dask`` cases to be bitwise equal (``np.array_equal``
with ``equal_nan``, same dtype and shape; equal strings) and exits 1
otherwise; ``torch`` cases are only reported, against 1e-12 relative.

Side effects kept out of the trees under test: numba's on-disk cache goes to
``$TMPDIR/logitgd_parity_numba`` (``NUMBA_CACHE_DIR``, unless already set;
``--fresh-numba`` for a throwaway one) and no ``.pyc`` files are written (here
and in the Dask workers), so the run does not write into the ``src`` it imports.

Runtime: about 2-4 minutes on the shared 2-core host (load average 4-6), most
of it the Dask cluster and the sgd cases; the first run of a tree adds the
numba kernels' compilation (about 2 minutes there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

# Before numba (imported by logitgd) and before the Dask workers are spawned. numba's cache goes to a
# directory of its own outside the trees (it keeps one sub-directory per source directory, so several
# trees share it without clashing, and a changed source file is recompiled). Compiling the parallel
# kernels took ~110 s of a 215 s run on the loaded 2-core host; loading them takes ~1 s. Kernels
# loaded from this cache gave the same bits as freshly compiled ones (checked on the base tree).
# --fresh-numba compiles into a throwaway directory instead.
_OWN_NUMBA_CACHE = None
if "NUMBA_CACHE_DIR" not in os.environ:
    if "--fresh-numba" in sys.argv:
        _OWN_NUMBA_CACHE = tempfile.mkdtemp(prefix="parity_numba_")
        os.environ["NUMBA_CACHE_DIR"] = _OWN_NUMBA_CACHE
    else:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "logitgd_parity_numba")
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402

from benchmarks.common.parity_cases import build_cases, data  # noqa: E402

FIELDS = ("coef_", "intercept_", "n_iter_", "loss_history_", "solver_", "converged_", "stop_reason_", "classes_")
N_PROBA_ROWS = 5
TORCH_RTOL = 1e-12
_OTHER_WARNING_SOURCES = (os.sep + "distributed" + os.sep, os.sep + "dask" + os.sep, os.sep + "tornado" + os.sep)


# -- running one case -----------------------------------------------------------------------------
def _as_numpy(a):
    if hasattr(a, "compute"):  # dask
        a = a.compute()
    if hasattr(a, "detach"):  # torch
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _record_model(model, X_head, prefix=""):
    out = {}
    for f in FIELDS:
        if hasattr(model, f):
            v = getattr(model, f)
            out[prefix + f] = np.asarray(str(v)) if isinstance(v, str) else np.asarray(v)
    out[prefix + "proba"] = _as_numpy(model.predict_proba(X_head))
    return out


def _warning_text(w):
    cat = w.category
    return f"{cat.__module__}.{cat.__qualname__}: {w.message}"


def _inputs(case, torch):
    X, y, sw = data(case.dataset)
    sw = sw if case.sample_weight else None
    if case.group == "torch":
        X = torch.from_numpy(X)
        y = torch.from_numpy(y)
        sw = None if sw is None else torch.from_numpy(sw)
    elif case.group == "dask":
        import dask.array as da

        rows = -(-X.shape[0] // 4)
        X = da.from_array(X, chunks=(rows, X.shape[1]))
        y = da.from_array(y, chunks=rows)
        sw = None if sw is None else da.from_array(sw, chunks=rows)
    return X, y, sw


def run_case(case, torch=None):
    import logitgd

    X, y, sw = _inputs(case, torch)
    head = X[:N_PROBA_ROWS]
    out = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if case.kind == "fit" or case.kind == "separable":
                model = logitgd.LogisticRegression(**case.params)
                model.fit(X, y, sample_weight=sw)
                out.update(_record_model(model, head))
            elif case.kind == "warm":
                model = logitgd.LogisticRegression(**{**case.params, "warm_start": True, "max_iter": 3})
                model.fit(X, y, sample_weight=sw)
                out.update(_record_model(model, head, prefix="first_"))
                model.set_params(max_iter=case.params.get("max_iter"))
                model.fit(X, y, sample_weight=sw)
                out.update(_record_model(model, head))
            elif case.kind == "partial":
                model = logitgd.LogisticRegression(**case.params)
                classes = np.unique(np.asarray(y))
                bounds = np.linspace(0, X.shape[0], 4).astype(int)
                for k in range(3):
                    s = slice(bounds[k], bounds[k + 1])
                    model.partial_fit(X[s], y[s], classes=classes if k == 0 else None,
                                      sample_weight=None if sw is None else sw[s])
                    out.update({f"piece{k}_coef_": np.asarray(model.coef_),
                                f"piece{k}_intercept_": np.asarray(model.intercept_)})
                out.update(_record_model(model, head))
            else:
                raise ValueError(case.kind)
        except Exception as e:  # noqa: BLE001 - an error is a result too
            out["error"] = np.asarray(f"{type(e).__module__}.{type(e).__qualname__}: {e}")
            out["traceback"] = np.asarray(traceback.format_exc())
    mine = [w for w in caught if not any(s in (w.filename or "") for s in _OTHER_WARNING_SOURCES)]
    other = [w for w in caught if w not in mine]
    out["warnings"] = np.asarray([_warning_text(w) for w in mine], dtype=str)
    out["warnings_other"] = np.asarray([_warning_text(w) for w in other], dtype=str)
    if case.kind == "separable":
        sep = [str(w.message) for w in caught if w.category.__name__ == "SeparationWarning"]
        out["separation_message"] = np.asarray("\n".join(sep) if sep else "<no SeparationWarning>")
    return out


# -- run ----------------------------------------------------------------------------------------------
def _git(path, *args):
    try:
        return subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, check=False,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def _meta_base(flags):
    import numba
    import scipy
    import sklearn
    import threadpoolctl

    import logitgd

    src = os.path.dirname(os.path.abspath(logitgd.__file__))
    return {
        "logitgd_file": os.path.abspath(logitgd.__file__),
        "git_head": _git(src, "rev-parse", "HEAD"),
        "git_dirty_src": bool(_git(src, "status", "--porcelain", "--", ".")),
        "python": sys.version.split()[0],
        "numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__,
        "numba": numba.__version__, "numba_threads": numba.get_num_threads(),
        "blas": [(b.get("internal_api"), b.get("version"), b.get("num_threads"))
                 for b in threadpoolctl.threadpool_info()],
        "cpu_count": os.cpu_count(),
        "flags": flags,
    }


def _start_cluster():
    import distributed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster, set_as_default=False)
    return cluster, client


def _worker_logitgd(client):
    def where():
        import logitgd

        return os.path.abspath(logitgd.__file__)

    return client.run(where)


def cmd_run(args):
    import logitgd

    t_all = time.perf_counter()
    torch = None
    if not args.no_torch:
        try:
            import torch  # noqa: F811
        except ImportError as e:
            print(f"torch not importable ({e}): torch cases skipped", file=sys.stderr)
            torch = None
    use_dask = not args.no_dask
    if use_dask:
        try:
            import dask  # noqa: F401
            import distributed  # noqa: F401
        except ImportError as e:
            print(f"dask/distributed not importable ({e}): dask cases skipped", file=sys.stderr)
            use_dask = False
    flags = {"np": True, "torch": torch is not None, "dask": use_dask}
    meta = _meta_base(flags)
    meta["load_average_start"] = os.getloadavg()
    if torch is not None:
        meta["torch"] = torch.__version__
        meta["torch_threads"] = torch.get_num_threads()
    cases = [c for c in build_cases() if flags[c.group]]
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    print(f"logitgd from {meta['logitgd_file']} (HEAD {meta['git_head'][:10]}"
          f"{', src has uncommitted changes' if meta['git_dirty_src'] else ''}); {len(cases)} cases",
          file=sys.stderr)

    arrays = {}
    seconds = {}
    cluster = client = None
    try:
        for group in ("np", "torch", "dask"):
            todo = [c for c in cases if c.group == group]
            if not todo:
                continue
            t_group = time.perf_counter()
            ctx = None
            if group == "torch":
                # One torch thread and one BLAS thread for the torch cases. The host-side products of a
                # torch fit (preconditioner, sgd's step estimate: small scipy.linalg calls) do not get the
                # one-BLAS-thread rule that NumPy inputs below 1e6 entries get, and on this loaded 2-core
                # host two OpenBLAS threads made torch/f32/multi/sgd take 28 s instead of ~1 s.
                import threadpoolctl

                torch.set_num_threads(1)
                meta["torch_threads_used"] = 1
                ctx = threadpoolctl.threadpool_limits(1, user_api="blas")
                ctx.__enter__()
            if group == "dask":
                t0 = time.perf_counter()
                cluster, client = _start_cluster()
                where = _worker_logitgd(client)
                meta["dask_workers_logitgd"] = where
                meta["dask_cluster_start_s"] = round(time.perf_counter() - t0, 2)
                bad = {k: v for k, v in where.items() if v != meta["logitgd_file"]}
                if bad:
                    raise SystemExit(f"Dask workers import another logitgd than this process "
                                     f"({meta['logitgd_file']}): {bad}")
                ctx = client.as_current()
                ctx.__enter__()
            try:
                for c in todo:
                    t0 = time.perf_counter()
                    res = run_case(c, torch)
                    seconds[c.name] = round(time.perf_counter() - t0, 3)
                    for k, v in res.items():
                        arrays[f"{c.name}|{k}"] = v
                    if "error" in res and args.verbose:
                        print(f"  {c.name}: {res['error']}", file=sys.stderr)
                    if args.verbose:
                        print(f"  {c.name}: {seconds[c.name]:.2f} s", file=sys.stderr)
            finally:
                if ctx is not None:
                    ctx.__exit__(None, None, None)
            print(f"{group}: {len(todo)} cases in {time.perf_counter() - t_group:.1f} s", file=sys.stderr)
    finally:
        if client is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client.close()
                cluster.close()
        if _OWN_NUMBA_CACHE:
            shutil.rmtree(_OWN_NUMBA_CACHE, ignore_errors=True)
    meta["seconds"] = seconds
    meta["total_s"] = round(time.perf_counter() - t_all, 1)
    meta["numba_cache_dir"] = os.environ["NUMBA_CACHE_DIR"]
    meta["load_average"] = os.getloadavg()
    meta["cases"] = [c.name for c in cases]
    arrays["__meta__"] = np.asarray(json.dumps(meta))
    np.savez(args.out, **arrays)
    n_err = sum(1 for k in arrays if k.endswith("|error"))
    print(f"wrote {args.out}: {len(cases)} cases ({n_err} raised, recorded as 'error') in {meta['total_s']} s "
          f"(logitgd {getattr(logitgd, '__version__', '?')})", file=sys.stderr)
    return 0


# -- compare ------------------------------------------------------------------------------------------
def _load(path):
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    meta = json.loads(str(d.pop("__meta__")))
    cases = {}
    for k, v in d.items():
        name, field = k.rsplit("|", 1)
        cases.setdefault(name, {})[field] = v
    return meta, cases


def _diff(a, b):
    """None if bitwise equal (np.array_equal, NaN-aware, same dtype and shape); else a description."""
    if a.dtype.kind in "US" or b.dtype.kind in "US":
        if a.dtype.kind != b.dtype.kind or a.shape != b.shape or not np.array_equal(a, b):
            sa, sb = a.tolist(), b.tolist()
            return {"text": f"text differs: {sa!r} vs {sb!r}"[:600]}
        return None
    if a.shape != b.shape:
        return {"text": f"shape {a.shape} vs {b.shape}"}
    if a.dtype != b.dtype:
        extra = " (values equal)" if np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") else ""
        return {"text": f"dtype {a.dtype} vs {b.dtype}{extra}"}
    nan_ok = a.dtype.kind in "fc"
    if np.array_equal(a, b, equal_nan=nan_ok):
        if nan_ok and a.tobytes() != b.tobytes():
            return {"text": "values equal, bytes differ (signed zeros or NaN payloads)", "bytes_only": True}
        return None
    if a.dtype.kind == "b":
        return {"text": f"{a.tolist()} vs {b.tolist()}"[:300]}
    af, bf = a.astype(np.float64), b.astype(np.float64)
    fin = np.isfinite(af) & np.isfinite(bf)
    if not np.array_equal(np.isnan(af), np.isnan(bf)) or not np.array_equal(af[~fin], bf[~fin]):
        return {"text": "non-finite entries differ", "rel": np.inf}
    d = np.abs(af - bf)
    scale = np.max(np.abs(af)) if af.size else 0.0
    max_abs = float(np.max(d)) if d.size else 0.0
    rel = max_abs / scale if scale > 0 else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        elem = np.where(d > 0, d / np.abs(af), 0.0)
    txt = f"max abs {max_abs:.3e}, rel (to max |a|) {rel:.3e}, max elementwise rel {float(np.max(elem)):.3e}"
    if a.shape != () and a.size <= 4:
        txt += f" ({a.tolist()} vs {b.tolist()})"
    elif a.shape == ():
        txt = f"{a.item()!r} vs {b.item()!r}; " + txt
    return {"text": txt, "rel": rel}


def cmd_compare(args):
    meta_a, A = _load(args.a)
    meta_b, B = _load(args.b)
    for label, m in (("A", meta_a), ("B", meta_b)):
        print(f"{label}: {m['logitgd_file']} HEAD {m['git_head'][:12]}{' (dirty src)' if m['git_dirty_src'] else ''}; "
              f"numpy {m['numpy']}, scipy {m['scipy']}, numba {m['numba']}, torch {m.get('torch', '-')}; "
              f"{len(m['cases'])} cases in {m['total_s']} s")
    for k in ("numpy", "scipy", "sklearn", "numba", "torch", "blas", "numba_threads", "torch_threads"):
        if meta_a.get(k) != meta_b.get(k):
            print(f"NOTE: environment differs in {k}: {meta_a.get(k)} vs {meta_b.get(k)}")
    flags_a, flags_b = meta_a["flags"], meta_b["flags"]
    names = list(dict.fromkeys(meta_a["cases"] + [n for n in meta_b["cases"] if n not in A]))
    failed, torch_off, n_equal, notes = [], [], 0, []
    for name in names:
        group = name.split("/", 1)[0]
        strict = group != "torch"
        if name not in A or name not in B:
            both_ran = flags_a.get(group) and flags_b.get(group)
            print(f"MISSING  {name}: only in {'A' if name in A else 'B'}"
                  + ("" if both_ran else f" (group {group!r} was not run on both sides)"))
            if strict and both_ran:
                failed.append(name)
            continue
        a, b = A[name], B[name]
        lines, bad = [], False
        for field in sorted(set(a) | set(b)):
            if field == "traceback":
                continue
            other_warn = field == "warnings_other"
            if field not in a or field not in b:
                lines.append(f"    {field}: only in {'A' if field in a else 'B'}")
                bad = bad or not other_warn
                continue
            d = _diff(a[field], b[field])
            if d is None:
                continue
            if d.get("bytes_only"):
                notes.append(f"{name} {field}: {d['text']}")
                continue
            if not strict and "rel" in d and d["rel"] <= TORCH_RTOL:
                lines.append(f"    {field}: within {TORCH_RTOL:g}: {d['text']}")
                continue
            lines.append(f"    {field}{' (report only)' if other_warn else ''}: {d['text']}")
            bad = bad or not other_warn
        if not lines:
            n_equal += 1
            print(f"equal    {name}")
        elif not bad:
            print(f"equal*   {name}" + (" (torch: within tolerance)" if not strict else " (dask warnings differ)"))
            print("\n".join(lines))
            n_equal += 1
        else:
            print(f"{'DIFF' if strict else 'torch-DIFF'}     {name}")
            print("\n".join(lines))
            (failed if strict else torch_off).append(name)
    for n in notes:
        print(f"note: {n}")
    print(f"\n{len(names)} cases: {n_equal} equal, {len(failed)} NumPy/Dask cases differ or are missing, "
          f"{len(torch_off)} torch cases beyond {TORCH_RTOL:g} relative (report only).")
    if failed:
        print("differ: " + ", ".join(failed))
    return 1 if failed else 0


def cmd_list(args):
    cases = build_cases()
    for c in cases:
        sw = " sample_weight" if c.sample_weight else ""
        print(f"{c.name}\t{c.dataset}\t{c.kind}{sw}\t{json.dumps(c.params, default=str, sort_keys=True)}")
    counts = {}
    for c in cases:
        counts[c.group] = counts.get(c.group, 0) + 1
    print(f"# {len(cases)} cases: " + ", ".join(f"{g} {n}" for g, n in counts.items()), file=sys.stderr)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="fit every case with the logitgd that PYTHONPATH selects; save to OUT.npz")
    r.add_argument("out")
    r.add_argument("--no-dask", action="store_true", help="skip the Dask cases (no LocalCluster)")
    r.add_argument("--no-torch", action="store_true", help="skip the torch tensor cases")
    r.add_argument("--only", nargs="+", help="run only the cases whose name contains one of these strings")
    r.add_argument("--fresh-numba", action="store_true",
                   help="compile numba's kernels into a throwaway cache (default: a shared cache in the temp dir)")
    r.add_argument("-v", "--verbose", action="store_true", help="print each case's time and errors")
    c = sub.add_parser("compare", help="compare two files of `run`; exit 1 if a NumPy/Dask case is not bitwise equal")
    c.add_argument("a")
    c.add_argument("b")
    sub.add_parser("list", help="print the cases (name, data, kind, parameters)")
    args = ap.parse_args(argv)
    return {"run": cmd_run, "compare": cmd_compare, "list": cmd_list}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
