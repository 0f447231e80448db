"""Bit-for-bit parity harness for refactors that must not change behaviour (issue 12).

Fits a fixed matrix of small, seeded problems through the public API only
(``logitgd.LogisticRegression``) and saves what each fit produced; a second
command compares two such files::

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
import scipy.sparse  # noqa: E402

FIELDS = ("coef_", "intercept_", "n_iter_", "loss_history_", "solver_", "converged_", "stop_reason_", "classes_")
N_PROBA_ROWS = 5
TORCH_RTOL = 1e-12
ALPHA = 1e-2
_OTHER_WARNING_SOURCES = (os.sep + "distributed" + os.sep, os.sep + "dask" + os.sep, os.sep + "tornado" + os.sep)


# -- data (all seeded, made with NumPy) -----------------------------------------------------------
def _scales(d):
    return np.geomspace(0.5, 3.0, d)  # unequal column scales, mild enough for a fixed learning rate of 0.1


def _labels(rng, Z):
    """Binary (Z a vector) or categorical (Z n x K) labels drawn from the logistic / softmax model."""
    if Z.ndim == 1:
        return (rng.random(Z.shape[0]) < 1.0 / (1.0 + np.exp(-Z))).astype(np.int64)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    u = rng.random((Z.shape[0], 1))
    return np.minimum((P.cumsum(axis=1) < u).sum(axis=1), Z.shape[1] - 1).astype(np.int64)


def make_dense(n, d, K, seed, intercept=0.3):
    rng = np.random.default_rng(seed)
    s = _scales(d)
    X = rng.standard_normal((n, d)) * s
    if K == 2:
        y = _labels(rng, X @ (rng.standard_normal(d) / s) + intercept)
    else:
        y = _labels(rng, X @ (rng.standard_normal((d, K)) / s[:, None]) + rng.standard_normal(K) * 0.3)
    sw = rng.random(n) + 0.5
    return np.ascontiguousarray(X), y, sw


def make_csr(n, d, K, seed, density=0.2):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, d)) < density
    X = np.where(mask, rng.standard_normal((n, d)) * 1.5, 0.0)
    if K == 2:
        y = _labels(rng, X @ rng.standard_normal(d) * 0.8 + 0.2)
    else:
        y = _labels(rng, X @ rng.standard_normal((d, K)) * 0.8)
    sw = rng.random(n) + 0.5
    return scipy.sparse.csr_matrix(X), y, sw


def make_big_csr(n, d, seed, density):
    """A CSR matrix with at least a million non-zeros (the one-pass CSR kernel), built without a dense copy."""
    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    y = _labels(rng, X @ rng.standard_normal(d) + 0.1)
    sw = rng.random(n) + 0.5
    return X, y, sw


def make_separable(n, seed, K=2, quasi=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    if K == 2:
        m = X[:, 0] + 0.5 * X[:, 1]
        keep = np.abs(m) > 0.2  # a margin: complete separation
        X, m = X[keep], m[keep]
        y = (m > 0).astype(np.int64)
        if quasi:  # two samples on the separating line with opposite labels: quasi-separation only
            X = np.vstack([X, [[0.0, 0.0], [0.0, 0.0]]])
            y = np.append(y, [0, 1])
    else:
        ang = np.arctan2(X[:, 1], X[:, 0])
        y = np.floor((ang + np.pi) / (2 * np.pi / K)).astype(np.int64) % K
        X = X + 3.0 * np.column_stack([np.cos((y + 0.5) * 2 * np.pi / K - np.pi),
                                       np.sin((y + 0.5) * 2 * np.pi / K - np.pi)])
    return np.ascontiguousarray(X), y


_DATA = {}


def data(name):
    """The data sets by name (built once per run)."""
    if name not in _DATA:
        if name == "bin":
            _DATA[name] = make_dense(800, 6, 2, seed=1)
        elif name == "bin_imb":  # about 20 % positives, for class_weight
            _DATA[name] = make_dense(700, 6, 2, seed=2, intercept=-1.8)
        elif name == "multi":
            _DATA[name] = make_dense(900, 6, 3, seed=3)
        elif name == "multi4":
            _DATA[name] = make_dense(1000, 5, 4, seed=4)
        elif name == "csr_bin":
            _DATA[name] = make_csr(1000, 30, 2, seed=5)
        elif name == "csr_multi":
            _DATA[name] = make_csr(1000, 30, 3, seed=6)
        elif name == "sep_bin":
            _DATA[name] = make_separable(300, seed=7) + (None,)
        elif name == "quasi_bin":
            _DATA[name] = make_separable(300, seed=8, quasi=True) + (None,)
        elif name == "sep_multi":
            _DATA[name] = make_separable(300, seed=9, K=3) + (None,)
        elif name == "dask_bin":
            _DATA[name] = make_dense(1200, 5, 2, seed=10)
        elif name == "dask_multi":
            _DATA[name] = make_dense(1200, 5, 3, seed=11)
        elif name == "auto_lbfgs":  # n * n_params**2 = 4000 * 183**2 > 1e8: solver="auto" picks lbfgs
            _DATA[name] = make_dense(4000, 60, 3, seed=14)
        elif name == "auto_gd":  # (300 + 1) * 4 > 1000 parameters, dense: "auto" with L1 picks gd
            _DATA[name] = make_dense(500, 300, 4, seed=15)
        elif name == "kernel_bin":  # 20,000 x 50 = 1e6 entries: the fused numba kernel, and BLAS threads
            _DATA[name] = make_dense(20_000, 50, 2, seed=12)
        elif name == "kernel_csr":  # >= 1e6 non-zeros: the one-pass CSR kernel
            _DATA[name] = make_big_csr(50_000, 200, seed=13, density=0.1)
        elif name.endswith("_f32"):
            X, y, sw = data(name[:-4])
            _DATA[name] = (X.astype(np.float32), y, sw)
        else:
            raise KeyError(name)
    return _DATA[name]


# -- cases ------------------------------------------------------------------------------------------
SOLVERS = {
    "gd-auto": {"solver": "gd"},
    "gd-lr0.1": {"solver": "gd", "learning_rate": 0.1, "max_iter": 300},
    "sgd": {"solver": "sgd", "random_state": 0},
    "lbfgs": {"solver": "lbfgs"},
    "newton": {"solver": "newton"},
    "auto": {"solver": "auto"},
}
PENALTIES = {
    "none": {"penalty": None},
    "l2": {"penalty": "l2", "alpha": ALPHA},
    "l1": {"penalty": "l1", "alpha": ALPHA},
    "enet": {"penalty": "elasticnet", "alpha": ALPHA, "l1_ratio": 0.5},
}
SMOOTH = ("none", "l2")


class Case:
    """One fit (or sequence of fits). ``kind``: fit, warm, partial, separable."""

    def __init__(self, group, name, dataset, params, kind="fit", sample_weight=False, note=""):
        self.group, self.dataset, self.params, self.kind = group, dataset, params, kind
        self.sample_weight, self.note = sample_weight, note
        self.name = f"{group}/{name}"


def build_cases():
    cases = []
    add = cases.append

    # The matrix: storage x classes x solver x the penalties each supports.
    for storage, (bin_ds, multi_ds) in {"dense64": ("bin", "multi"), "dense32": ("bin_f32", "multi_f32"),
                                        "csr": ("csr_bin", "csr_multi")}.items():
        for task, ds in (("bin", bin_ds), ("multi", multi_ds)):
            for s, sp in SOLVERS.items():
                for p, pp in PENALTIES.items():
                    if s == "lbfgs" and p not in SMOOTH:
                        continue
                    add(Case("np", f"{storage}/{task}/{s}/{p}", ds, {**sp, **pp}))

    # sample_weight.
    for storage, (bin_ds, multi_ds) in {"dense64": ("bin", "multi"), "csr": ("csr_bin", "csr_multi")}.items():
        for task, ds in (("bin", bin_ds), ("multi", multi_ds)):
            for s in ("gd-auto", "gd-lr0.1", "sgd", "lbfgs", "newton", "auto"):
                add(Case("np", f"{storage}/{task}/{s}/l2/sw", ds, {**SOLVERS[s], **PENALTIES["l2"]},
                         sample_weight=True))
            for s in ("gd-auto", "newton", "sgd"):
                add(Case("np", f"{storage}/{task}/{s}/l1/sw", ds, {**SOLVERS[s], **PENALTIES["l1"]},
                         sample_weight=True))
    add(Case("np", "dense32/bin/lbfgs/l2/sw", "bin_f32", {**SOLVERS["lbfgs"], **PENALTIES["l2"]}, sample_weight=True))
    add(Case("np", "dense32/multi/newton/enet/sw", "multi_f32", {**SOLVERS["newton"], **PENALTIES["enet"]},
             sample_weight=True))

    # class_weight.
    for task, ds in (("bin", "bin_imb"), ("multi", "multi")):
        for s in ("gd-auto", "sgd", "lbfgs", "newton"):
            add(Case("np", f"dense64/{task}/{s}/l2/balanced", ds,
                     {**SOLVERS[s], **PENALTIES["l2"], "class_weight": "balanced"}))
        add(Case("np", f"dense64/{task}/newton/l1/balanced", ds,
                 {**SOLVERS["newton"], **PENALTIES["l1"], "class_weight": "balanced"}))
    add(Case("np", "dense64/bin/newton/l2/balanced+sw", "bin_imb",
             {**SOLVERS["newton"], **PENALTIES["l2"], "class_weight": "balanced"}, sample_weight=True))
    add(Case("np", "dense64/bin/lbfgs/l2/cw-dict", "bin_imb",
             {**SOLVERS["lbfgs"], **PENALTIES["l2"], "class_weight": {0: 1.0, 1: 3.0}}))
    add(Case("np", "csr/bin/newton/l1/balanced", "csr_bin",
             {**SOLVERS["newton"], **PENALTIES["l1"], "class_weight": "balanced"}))

    # fit_intercept=False.
    for task, ds in (("bin", "bin"), ("multi", "multi")):
        for s in ("gd-auto", "gd-lr0.1", "sgd", "lbfgs", "newton"):
            add(Case("np", f"dense64/{task}/{s}/l2/no-intercept", ds,
                     {**SOLVERS[s], **PENALTIES["l2"], "fit_intercept": False}))
        for s, p in (("newton", "l1"), ("gd-auto", "none"), ("gd-auto", "enet")):
            add(Case("np", f"dense64/{task}/{s}/{p}/no-intercept", ds,
                     {**SOLVERS[s], **PENALTIES[p], "fit_intercept": False}))
    add(Case("np", "csr/bin/newton/l1/no-intercept", "csr_bin",
             {**SOLVERS["newton"], **PENALTIES["l1"], "fit_intercept": False}))
    add(Case("np", "csr/multi/lbfgs/l2/no-intercept", "csr_multi",
             {**SOLVERS["lbfgs"], **PENALTIES["l2"], "fit_intercept": False}))

    # Four classes: multinomial and one-vs-rest.
    for s, p in (("gd-auto", "l2"), ("gd-auto", "l1"), ("lbfgs", "l2"), ("newton", "l2"), ("newton", "l1"),
                 ("sgd", "l2"), ("auto", "none"), ("auto", "enet")):
        add(Case("np", f"dense64/multi4/{s}/{p}", "multi4", {**SOLVERS[s], **PENALTIES[p]}))
        add(Case("np", f"dense64/multi4/{s}/{p}/ovr", "multi4", {**SOLVERS[s], **PENALTIES[p], "multi_class": "ovr"}))
    add(Case("np", "dense64/multi4/lbfgs/l2/multinomial", "multi4",
             {**SOLVERS["lbfgs"], **PENALTIES["l2"], "multi_class": "multinomial"}))
    add(Case("np", "dense64/multi4/newton/l2/ovr/sw", "multi4",
             {**SOLVERS["newton"], **PENALTIES["l2"], "multi_class": "ovr"}, sample_weight=True))
    add(Case("np", "csr/multi/newton/l1/ovr", "csr_multi",
             {**SOLVERS["newton"], **PENALTIES["l1"], "multi_class": "ovr"}))

    # sgd options.
    for task, ds in (("bin", "bin"), ("multi", "multi")):
        for p in ("l2", "l1"):
            add(Case("np", f"dense64/{task}/sgd/{p}/early-stopping", ds,
                     {**SOLVERS["sgd"], **PENALTIES[p], "early_stopping": True}))
            add(Case("np", f"dense64/{task}/sgd/{p}/average", ds, {**SOLVERS["sgd"], **PENALTIES[p], "average": True}))
        add(Case("np", f"dense64/{task}/sgd/l2/early-stopping/sw", ds,
                 {**SOLVERS["sgd"], **PENALTIES["l2"], "early_stopping": True}, sample_weight=True))
        add(Case("np", f"dense64/{task}/sgd/l2/average+early-stopping", ds,
                 {**SOLVERS["sgd"], **PENALTIES["l2"], "average": True, "early_stopping": True}))
    for sched in ("constant", "invscaling", "adaptive"):
        add(Case("np", f"dense64/bin/sgd/l2/{sched}", "bin",
                 {**SOLVERS["sgd"], **PENALTIES["l2"], "learning_rate": sched, "eta0": 0.05}))
    add(Case("np", "dense64/bin/sgd/l2/batch1", "bin", {**SOLVERS["sgd"], **PENALTIES["l2"], "batch_size": 1,
                                                         "max_iter": 5}))
    add(Case("np", "csr/bin/sgd/l2/average", "csr_bin", {**SOLVERS["sgd"], **PENALTIES["l2"], "average": True}))
    add(Case("np", "csr/multi/sgd/l1/early-stopping", "csr_multi",
             {**SOLVERS["sgd"], **PENALTIES["l1"], "early_stopping": True}))
    add(Case("np", "dense64/bin/auto/l2/sgd-option", "bin", {**PENALTIES["l2"], "average": True, "random_state": 0}))

    # warm_start: a 3-iteration fit, then a full one continuing from it.
    for task, ds in (("bin", "bin"), ("multi", "multi")):
        for s, p in (("gd-auto", "l2"), ("gd-lr0.1", "l2"), ("lbfgs", "l2"), ("newton", "l2"), ("newton", "l1"),
                     ("sgd", "l2"), ("gd-auto", "l1")):
            add(Case("np", f"dense64/{task}/{s}/{p}/warm-start", ds, {**SOLVERS[s], **PENALTIES[p]}, kind="warm"))
    add(Case("np", "csr/bin/newton/l1/warm-start", "csr_bin", {**SOLVERS["newton"], **PENALTIES["l1"]}, kind="warm"))
    add(Case("np", "dense64/multi4/lbfgs/l2/ovr/warm-start", "multi4",
             {**SOLVERS["lbfgs"], **PENALTIES["l2"], "multi_class": "ovr"}, kind="warm"))

    # partial_fit over 3 pieces.
    for task, ds in (("bin", "bin"), ("multi", "multi"), ("csr-bin", "csr_bin"), ("csr-multi", "csr_multi"),
                     ("f32-bin", "bin_f32")):
        add(Case("np", f"{task}/sgd/l2/partial-fit", ds, {**SOLVERS["sgd"], **PENALTIES["l2"]}, kind="partial"))
    add(Case("np", "bin/sgd/l1/partial-fit/sw", "bin", {**SOLVERS["sgd"], **PENALTIES["l1"]}, kind="partial",
             sample_weight=True))
    add(Case("np", "multi/sgd/l2/partial-fit/average", "multi", {**SOLVERS["sgd"], **PENALTIES["l2"], "average": True},
             kind="partial"))
    add(Case("np", "bin/auto/l2/partial-fit", "bin", {"random_state": 0, **PENALTIES["l2"]}, kind="partial"))

    # alpha = 0 on separable classes: SeparationWarning (message recorded).
    for ds in ("sep_bin", "quasi_bin"):
        for s in ("gd-auto", "gd-lr0.1", "lbfgs", "newton", "auto"):
            add(Case("np", f"{ds}/{s}/alpha0", ds, {**SOLVERS[s], "alpha": 0.0}, kind="separable"))
    for s in ("gd-auto", "lbfgs", "newton"):
        add(Case("np", f"sep_multi/{s}/alpha0", "sep_multi", {**SOLVERS[s], "alpha": 0.0}, kind="separable"))
    add(Case("np", "sep_bin/newton/none", "sep_bin", {**SOLVERS["newton"], "penalty": None}, kind="separable"))

    # What solver="auto" picks besides newton (solver_ is recorded).
    add(Case("np", "auto_lbfgs/multi/auto/l2", "auto_lbfgs", {**SOLVERS["auto"], **PENALTIES["l2"]}))
    add(Case("np", "auto_gd/multi4/auto/l1", "auto_gd", {**SOLVERS["auto"], **PENALTIES["l1"]}))
    add(Case("np", "dense64/bin/auto/l2/lr0.1", "bin", {**SOLVERS["auto"], **PENALTIES["l2"], "learning_rate": 0.1,
                                                        "max_iter": 300}))

    # Data large enough (>= 1e6 entries / non-zeros) for the numba kernels and multi-threaded BLAS.
    for s, p, sw in (("lbfgs", "l2", False), ("gd-auto", "l2", True), ("newton", "l2", False), ("gd-auto", "l1", False)):
        add(Case("np", f"kernel/dense64/bin/{s}/{p}" + ("/sw" if sw else ""), "kernel_bin",
                 {**SOLVERS[s], **PENALTIES[p]}, sample_weight=sw))
    add(Case("np", "kernel/dense32/bin/lbfgs/l2", "kernel_bin_f32", {**SOLVERS["lbfgs"], **PENALTIES["l2"]}))
    add(Case("np", "kernel/csr/bin/lbfgs/l2/sw", "kernel_csr", {**SOLVERS["lbfgs"], **PENALTIES["l2"]},
             sample_weight=True))
    add(Case("np", "kernel/csr/bin/newton/l1", "kernel_csr", {**SOLVERS["newton"], **PENALTIES["l1"]}))

    # torch CPU tensors (X float64 / float32 tensor, y int64 tensor, device="cpu").
    for dt in ("f64", "f32"):
        for task, ds in (("bin", "bin"), ("multi", "multi")):
            for s in ("gd-auto", "lbfgs", "newton", "sgd"):
                add(Case("torch", f"{dt}/{task}/{s}/l2", ds + ("_f32" if dt == "f32" else ""),
                         {**SOLVERS[s], **PENALTIES["l2"], "device": "cpu"}))
    add(Case("torch", "f64/bin/newton/l1/sw", "bin", {**SOLVERS["newton"], **PENALTIES["l1"], "device": "cpu"},
             sample_weight=True))
    add(Case("torch", "f64/multi/gd-auto/l1", "multi", {**SOLVERS["gd-auto"], **PENALTIES["l1"], "device": "cpu"}))

    # Dask arrays, 4 row chunks, on a LocalCluster of 2 worker processes. An iteration there is a few
    # round trips (0.1-0.3 s on the loaded 2-core host), so gd and sgd are cut short by max_iter
    # (their ConvergenceWarning is recorded): the iterates are compared, convergence is not the point.
    dask_caps = {"gd-auto": {"max_iter": 15}, "sgd": {"max_iter": 8}}
    for task in ("bin", "multi"):
        for s in ("gd-auto", "lbfgs", "newton", "sgd"):
            for sw in (False, True):
                add(Case("dask", f"{task}/{s}/l2" + ("/sw" if sw else ""), f"dask_{task}",
                         {**SOLVERS[s], **PENALTIES["l2"], **dask_caps.get(s, {})}, sample_weight=sw))
    add(Case("dask", "bin/newton/l1", "dask_bin", {**SOLVERS["newton"], **PENALTIES["l1"]}))
    add(Case("dask", "multi/gd-auto/l1/sw", "dask_multi", {**SOLVERS["gd-auto"], **PENALTIES["l1"], "max_iter": 20},
             sample_weight=True))
    add(Case("dask", "bin/lbfgs/l2/balanced", "dask_bin",
             {**SOLVERS["lbfgs"], **PENALTIES["l2"], "class_weight": "balanced"}))
    add(Case("dask", "bin/auto/l2", "dask_bin", {**SOLVERS["auto"], **PENALTIES["l2"]}))

    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


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
