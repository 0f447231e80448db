"""The cases of benchmarks/parity.py: small seeded data sets (NumPy only) and the fits made on them.

:func:`build_cases` lists every :class:`Case` (group ``np``, ``torch`` or ``dask``, a data set named for
:func:`data`, the estimator's parameters, the kind of fit); parity.py runs and compares them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

ALPHA = 1e-2


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
