"""GPU benchmark: the fused gradient kernel against PyTorch and the memory floor; time to f* on a GPU.

Run on a machine with a CUDA GPU, from the repository root::

    PYTHONPATH=src python -m benchmarks.bench_gpu            # the full run (RESULTS.md's GPU section)
    PYTHONPATH=src python -m benchmarks.bench_gpu --quick    # small sizes, a smoke test

Part 1, one gradient evaluation (loss and gradient at a random theta) of the
binary model on float32 data, at 4,000,000 x 256 and 16,000,000 x 32:

* the floor: bytes of X divided by the measured read bandwidth. The read
  bandwidth is the best of (a) a device-to-device copy, counted as bytes read
  plus bytes written, (b) ``torch.sum`` over X, (c) a minimal Triton kernel
  that only reads X (same persistent grid and blocks as the fused kernel);
* PyTorch two-pass: ``X.T @ (sigmoid(X @ w + b) - y)`` in float32 (cuBLAS),
  plus the loss; what a plain implementation does;
* the fused kernel (:mod:`logitgd.backends.torch.triton`) as the library runs it (float64
  arithmetic on float32 data) and with float32 arithmetic, each with the
  reduction of the per-program partial sums; and the same on bfloat16
  storage. Block configurations are tried and each one's time is printed;
  the library's default configuration is marked.

Times are medians of ``triton.testing.do_bench`` (CUDA events) over
rotating copies of w so that nothing is cached between calls.

Part 2, time to ``J <= f* (1 + 1e-6)`` on the ``dense`` problem of
``bench_solvers`` (n x 100 float64, Toeplitz-correlated columns scaled
1 to 1000, L2 alpha = 1e-4), generated on the GPU: logitgd on the GPU (every
solver, a callback stops the fit at the target; X passed as a CUDA tensor,
so no copy), a plain PyTorch Newton–IRLS and a plain ``torch.optim.LBFGS``
on the same tensor, and scikit-learn's fastest solver on this data
(``newton-cholesky``, see RESULTS.md) on all CPU cores of the machine, on
the same data copied to the host. ``f*`` comes from a tight logitgd Newton
solve (float64, tol 1e-12).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings

import numpy as np
import torch
import triton
import triton.language as tl
from triton.testing import do_bench

from logitgd import LogisticRegression
from logitgd.backends.torch import triton as _triton
from logitgd.exceptions import ConvergenceWarning
from logitgd.objective import TorchLogisticObjective

DEV = "cuda"
LINES = []


def say(msg=""):
    print(msg, flush=True)
    LINES.append(msg)


def median_ms(fn, rep=200):
    return do_bench(fn, warmup=25, rep=rep, return_mode="median")


# -- part 1: one gradient evaluation ----------------------------------------------------------

@triton.jit
def _read_kernel(X, out, n, d, stride_x, n_blocks, BLOCK_M: tl.constexpr, BLOCK_D: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_D)
    cmask = cols < d
    acc = tl.zeros([BLOCK_D], dtype=tl.float32)
    for blk in range(pid, n_blocks, tl.num_programs(0)):
        rows = blk * BLOCK_M + tl.arange(0, BLOCK_M)
        x = tl.load(X + rows.to(tl.int64)[:, None] * stride_x + cols[None, :],
                    mask=(rows < n)[:, None] & cmask[None, :], other=0.0)
        acc += tl.sum(x.to(tl.float32), axis=0)
    tl.store(out + pid * BLOCK_D + cols, acc)


def read_bandwidth(X):
    """Best measured read bandwidth (bytes/s) over X: copy, torch.sum, and a read-only Triton kernel."""
    nbytes = X.numel() * X.element_size()
    Y = torch.empty_like(X)
    t_copy = median_ms(lambda: Y.copy_(X)) * 1e-3
    t_sum = median_ms(lambda: X.sum(dtype=torch.float32)) * 1e-3
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    n, d = X.shape
    best_read = math.inf
    for BM_scale in (1, 2, 4):
        BM, BD, _, nw, _ = _triton.config(d, 1, X.element_size(), 4)
        BM = BM * BM_scale
        for per_sm in (2, 4, 8):
            P = sms * per_sm
            out = torch.empty((P, BD), device=DEV, dtype=torch.float32)
            nb = triton.cdiv(n, BM)
            t = median_ms(lambda: _read_kernel[(min(P, nb),)](X, out, n, d, X.stride(0), nb,
                                                               BLOCK_M=BM, BLOCK_D=BD, num_warps=nw)) * 1e-3
            best_read = min(best_read, t)
    Y = None  # frees the copy (the lambda above closes over Y)
    rates = {"copy (read+write)": 2 * nbytes / t_copy, "torch.sum": nbytes / t_sum,
             "Triton read-only": nbytes / best_read}
    return max(rates.values()), rates


def two_pass(X, y, ws):
    """Plain PyTorch: loss and gradient of the binary log-loss in float32, two products over X."""
    it = iter(range(10 ** 9))

    def run():
        w = ws[next(it) % len(ws)]
        z = X @ w[:-1] + w[-1]
        loss = torch.nn.functional.softplus(z).sum() - (y * z).sum()
        r = torch.sigmoid(z) - y
        return loss, X.T @ r, r.sum()
    return run


def fused(X, y, ws, out, f64, cfg):
    it = iter(range(10 ** 9))

    def run():
        w = ws[next(it) % len(ws)]
        P = _triton.loss_grad(X, y, None, w, out, 1, True, f64, cfg)
        return out[:P].sum(0)
    return run


def bench_gradient(n, d, sms, quick):
    say(f"\n### One gradient evaluation, {n:,} x {d}, binary")
    g = torch.Generator(device=DEV).manual_seed(0)
    X = torch.randn((n, d), device=DEV, dtype=torch.float32, generator=g)
    y = (torch.rand(n, device=DEV, generator=g) < 0.5).to(torch.float32)
    y64 = y.double()
    bw, rates = read_bandwidth(X)
    nbytes = X.numel() * 4
    floor = nbytes / bw * 1e3
    say("read bandwidth: " + ", ".join(f"{k} {v / 1e12:.3f} TB/s" for k, v in rates.items())
        + f"; floor = {nbytes / 1e9:.2f} GB / {bw / 1e12:.3f} TB/s = **{floor:.3f} ms**")
    ws32 = [torch.randn(d + 1, device=DEV, generator=g) * 0.05 for _ in range(8)]
    ws64 = [w.double() for w in ws32]
    rows = []
    t = median_ms(two_pass(X, y, ws32))
    rows.append(("PyTorch two-pass (float32, cuBLAS)", "-", t))
    # correctness of the fused kernel against float64 on this data (one w)
    obj_k = TorchLogisticObjective(X, y64.cpu().numpy(), device=DEV)
    obj_r = TorchLogisticObjective(X, y64.cpu().numpy(), device=DEV, use_kernel=False)
    th = ws64[0].cpu().numpy()
    fk, gk = obj_k.value_and_grad(th)
    fr, gr = obj_r.value_and_grad(th)
    say(f"fused vs generic float64 path at one theta: |df|/f = {abs(fk - fr) / abs(fr):.1e}, "
        f"max|dg|/max|g| = {np.abs(gk - gr).max() / np.abs(gr).max():.1e}")
    host = []
    for _ in range(30):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        obj_k.value_and_grad(th)
        host.append(time.perf_counter() - t0)
    rows.append(("`objective.value_and_grad(theta)` as the solvers call it (host to host, fused)", "default",
                 float(np.median(host)) * 1e3))
    default = _triton.config(d, 1, 4, 8)
    results = {}
    for label, Xs, f64 in [("fused, float32 X, float64 arithmetic (library default)", X, True),
                           ("fused, float32 X, float32 arithmetic", X, False)] + (
            [] if quick else []):
        results[label] = tune(label, Xs, y64, ws64, f64, sms, default, rows)
    Xb = X.to(torch.bfloat16)
    del obj_k, obj_r
    for label, f64 in [("fused, bfloat16 X, float64 arithmetic", True), ("fused, bfloat16 X, float32 arithmetic", False)]:
        results[label] = tune(label, Xb, y64, ws64, f64, sms, _triton.config(d, 1, 2, 8), rows)
    # bfloat16 accuracy: the loss and gradient at theta on the rounded data vs the float32 data
    o32 = TorchLogisticObjective(X, y64.cpu().numpy(), device=DEV, use_kernel=False)
    o16 = TorchLogisticObjective(X, y64.cpu().numpy(), device=DEV, storage_dtype="bfloat16")
    f32, g32 = o32.value_and_grad(th)
    f16, g16 = o16.value_and_grad(th)
    say(f"bfloat16 storage at one theta: |df|/f = {abs(f16 - f32) / abs(f32):.1e}, "
        f"max|dg|/max|g| = {np.abs(g16 - g32).max() / np.abs(g32).max():.1e}")
    del o32, o16, Xb
    say("")
    say("| variant | config (BLOCK_M, num_warps, stages, programs/SM) | ms | x floor (float32 bytes) |")
    say("|---|---|---|---|")
    for label, cfg, t in rows:
        say(f"| {label} | {cfg} | {t:.3f} | {t / floor:.2f} |")
    del X, y, y64
    torch.cuda.empty_cache()
    return floor, rows


def tune(label, X, y, ws, f64, sms, default, rows):
    n, d = X.shape
    BM0, BD, BK, nw0, st0 = default
    best = None
    grid = {(bm, w, st) for bm in (BM0, max(1, BM0 // 2), BM0 * 2) for w in (4, 8) for st in (1, 3)}
    for BM, nw, stages in sorted(grid):
            for per_sm in (2, 4):
                out = torch.empty((sms * per_sm, d + 2), device=DEV, dtype=torch.float64)
                cfg = (BM, BD, BK, nw, stages)
                try:
                    t = median_ms(fused(X, y, ws, out, f64, cfg), rep=100)
                except Exception as exc:  # an over-large block: report and go on
                    say(f"  {label} {cfg} per_sm={per_sm}: failed ({type(exc).__name__})")
                    continue
                mark = " (default)" if cfg == default and per_sm == 4 else ""
                print(f"  {label}: BLOCK_M={BM} warps={nw} stages={stages} programs/SM={per_sm}: {t:.3f} ms{mark}",
                      flush=True)
                if mark:
                    rows.append((label + ", default config", f"{BM}, {nw}, {stages}, {per_sm}", t))
                    w0 = ws[0]
                    t_k = median_ms(lambda: _triton.loss_grad(X, y, None, w0, out, 1, True, f64, cfg), rep=100)
                    rows.append((label + ", default config, kernel alone (no sum of partials)",
                                 f"{BM}, {nw}, {stages}, {per_sm}", t_k))
                if best is None or t < best[0]:
                    best = (t, f"{BM}, {nw}, {stages}, {per_sm}")
    rows.append((label + ", best config", best[1], best[0]))
    return best


# -- part 2: time to f* ---------------------------------------------------------------------------

def make_dense_gpu(n, d=100, rho=0.9, seed=0, score_sd=2.0, intercept=-0.5):
    """The ``dense`` problem of bench_solvers.py (same construction), drawn on the GPU."""
    import scipy.linalg

    idx = np.arange(d)
    T = rho ** np.abs(idx[:, None] - idx[None, :])
    Lt = torch.as_tensor(scipy.linalg.cholesky(T, lower=True).T.copy(), device=DEV)
    scales = torch.as_tensor(np.logspace(0.0, 3.0, d), device=DEV)
    u = np.random.default_rng([seed, 2]).standard_normal(d)
    u /= math.sqrt(float(u @ T @ u))
    w_true = score_sd * torch.as_tensor(u, device=DEV) / scales
    g = torch.Generator(device=DEV).manual_seed(seed)
    X = torch.empty((n, d), device=DEV, dtype=torch.float64)
    y = torch.empty(n, device=DEV, dtype=torch.float64)
    B = 1 << 21
    for s in range(0, n, B):
        e = min(n, s + B)
        Xb = torch.randn((e - s, d), device=DEV, dtype=torch.float64, generator=g) @ Lt
        Xb *= scales
        X[s:e] = Xb
        p = torch.sigmoid(Xb @ w_true + intercept)
        y[s:e] = (torch.rand(e - s, device=DEV, dtype=torch.float64, generator=g) < p).double()
    return X, y


def J_of(X, y, alpha, w, b):
    z = X @ w + b
    return float((torch.nn.functional.softplus(z) - y * z).mean() + 0.5 * alpha * (w @ w))


def time_logitgd(X, y, alpha, solver, target, budget):
    hit = {}
    t0 = [0.0]

    def cb(state):
        if state.fun <= target:
            hit["t"] = time.perf_counter() - t0[0]
            return True
        return time.perf_counter() - t0[0] > budget

    m = LogisticRegression(solver=solver, alpha=alpha, tol=1e-14, max_iter=100000, callback=cb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        torch.cuda.synchronize()
        t0[0] = time.perf_counter()
        m.fit(X, y)
        wall = time.perf_counter() - t0[0]
    w = torch.as_tensor(m.coef_[0], device=DEV)
    J = J_of(X, y, alpha, w, float(m.intercept_[0]))
    return hit.get("t"), wall, m.n_iter_, J, m.solver_


def plain_newton(X, y, alpha, target, budget):
    """Plain PyTorch Newton–IRLS: gradient by two products, Hessian by one, Cholesky solve, Armijo backtracking."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    n, d = X.shape
    Xt = torch.cat([X, torch.ones((n, 1), device=DEV, dtype=X.dtype)], 1)
    theta = torch.zeros(d + 1, device=DEV, dtype=X.dtype)
    reg = torch.full((d + 1,), alpha, device=DEV, dtype=X.dtype)
    reg[-1] = 0

    def f_g(th):
        z = Xt @ th
        f = (torch.nn.functional.softplus(z) - y * z).mean() + 0.5 * (reg * th * th).sum()
        return f, Xt.T @ (torch.sigmoid(z) - y) / n + reg * th, z

    f, g, z = f_g(theta)
    it = 0
    while time.perf_counter() - t0 < budget:
        it += 1
        p = torch.sigmoid(z)
        H = (Xt * (p * (1 - p) / n)[:, None]).T @ Xt + torch.diag(reg)
        delta = torch.cholesky_solve(-g[:, None], torch.linalg.cholesky(H))[:, 0]
        step = 1.0
        while True:
            f_new, g_new, z_new = f_g(theta + step * delta)
            if f_new <= f + 1e-4 * step * (g @ delta) or step < 1e-8:
                break
            step /= 2
        theta, f, g, z = theta + step * delta, f_new, g_new, z_new
        if float(f) <= target:
            return time.perf_counter() - t0, it, float(f)
    return None, it, float(f)


def plain_lbfgs(X, y, alpha, target, budget):
    """Plain ``torch.optim.LBFGS`` (strong Wolfe line search, history 20) on the same objective."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    n, d = X.shape
    w = torch.zeros(d, device=DEV, dtype=X.dtype, requires_grad=True)
    b = torch.zeros(1, device=DEV, dtype=X.dtype, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=20, history_size=20, tolerance_grad=0, tolerance_change=0,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = X @ w + b
        f = (torch.nn.functional.softplus(z) - y * z).mean() + 0.5 * alpha * (w @ w)
        f.backward()
        return f

    steps, f = 0, math.inf
    while time.perf_counter() - t0 < budget:
        opt.step(closure)
        steps += 20
        with torch.no_grad():
            f = J_of(X, y, alpha, w, b)
        if f <= target:
            return time.perf_counter() - t0, steps, f
    return None, steps, f


def time_sklearn(Xh, yh, alpha, target, budget):
    from sklearn.linear_model import LogisticRegression as SK

    n = Xh.shape[0]
    out = []
    for k in (4, 5, 6, 8):  # 3 iterations did not reach 1e-6 at 20M rows (first run)
        m = SK(solver="newton-cholesky", C=1.0 / (n * alpha), tol=1e-15, max_iter=k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            m.fit(Xh, yh)
            t = time.perf_counter() - t0
        z = Xh @ m.coef_[0] + m.intercept_[0]
        J = float(np.mean(np.logaddexp(0, z) - yh * z) + 0.5 * alpha * m.coef_[0] @ m.coef_[0])
        out.append((k, t, J))
        say(f"  sklearn newton-cholesky max_iter={k}: {t:.2f} s, J - target = {J - target:+.2e}")
        if J <= target or t > budget:
            return t if J <= target else None, k, J, out
    return None, k, J, out


def bench_time_to_target(n, quick, sklearn_budget):
    alpha = 1e-4
    say(f"\n### Time to f* (1 + 1e-6): `dense` {n:,} x 100 float64, L2 alpha = {alpha}")
    t0 = time.perf_counter()
    X, y = make_dense_gpu(n)
    torch.cuda.synchronize()
    say(f"data drawn on the GPU in {time.perf_counter() - t0:.1f} s ({X.numel() * 8 / 1e9:.1f} GB)")
    # f*: tight Newton (logitgd, on the GPU)
    ref = LogisticRegression(solver="newton", alpha=alpha, tol=1e-12).fit(X, y)
    w = torch.as_tensor(ref.coef_[0], device=DEV)
    fstar = J_of(X, y, alpha, w, float(ref.intercept_[0]))
    target = fstar * (1 + 1e-6)
    say(f"f* = {fstar:.15f} ({ref.n_iter_} Newton iterations, {ref.stop_reason_}); target {target:.15f}")
    say("")
    say("| who | solver | time to target (s) | wall of the fit (s) | iterations | J - f* |")
    say("|---|---|---|---|---|---|")
    ours = {}
    for solver in ("newton", "lbfgs", "auto", "gd"):
        # a warm-up fit on a slice first (Triton compile, cuBLAS handles)
        time_logitgd(X[:100_000], y[:100_000], alpha, solver, -1.0, 5)
        t, wall, it, J, chosen = time_logitgd(X, y, alpha, solver, target, 30 if not quick else 10)
        ours[solver] = t
        name = solver if solver != "auto" else f"auto ({chosen})"
        say(f"| logitgd, GPU | {name} | {fmt(t)} | {wall:.3f} | {it} | {J - fstar:.2e} |")
    plain_newton(X[:100_000], y[:100_000], alpha, -1.0, 2)
    t, it, f = plain_newton(X, y, alpha, target, 60)
    ours["plain newton"] = t
    say(f"| plain PyTorch, GPU | Newton–IRLS (two-pass gradient, Cholesky) | {fmt(t)} | - | {it} | {f - fstar:.2e} |")
    plain_lbfgs(X[:100_000], y[:100_000], alpha, -1.0, 2)
    t, it, f = plain_lbfgs(X, y, alpha, target, 30 if not quick else 10)
    ours["plain lbfgs"] = t
    say(f"| plain PyTorch, GPU | torch.optim.LBFGS (strong Wolfe) | {fmt(t)} | - | {it} | {f - fstar:.2e} |")
    t_sk = None
    if sklearn_budget > 0:
        import threadpoolctl  # noqa: F401

        t0 = time.perf_counter()
        Xh, yh = X.cpu().numpy(), y.cpu().numpy()
        del X, y
        torch.cuda.empty_cache()
        say(f"(copied to the host in {time.perf_counter() - t0:.1f} s; scikit-learn on {os.cpu_count()} cores)")
        t_sk, k, J, _ = time_sklearn(Xh, yh, alpha, target, sklearn_budget)
        say(f"| scikit-learn, {os.cpu_count()} CPU cores | newton-cholesky (max_iter={k}) | {fmt(t_sk)} | - | {k} | "
            f"{J - fstar:.2e} |")
    say("")
    best = min((v for k, v in ours.items() if not k.startswith("plain") and v is not None), default=None)
    if best and t_sk:
        say(f"- fastest logitgd GPU fit {best:.3f} s vs scikit-learn {t_sk:.2f} s: **{t_sk / best:.0f}x** (target >= 100x)")
    for mine, plain in (("newton", "plain newton"), ("lbfgs", "plain lbfgs")):
        if ours.get(mine) and ours.get(plain):
            say(f"- logitgd {mine} {ours[mine]:.3f} s vs {plain} {ours[plain]:.3f} s: "
                f"**{ours[plain] / ours[mine]:.2f}x** (target >= 1.8x)")
        elif ours.get(mine):
            say(f"- logitgd {mine} {ours[mine]:.3f} s; {plain} did not reach the target in its budget")


def fmt(t):
    return "did not reach" if t is None else f"{t:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-gradient", action="store_true")
    ap.add_argument("--skip-fit", action="store_true")
    ap.add_argument("--rows", type=int, default=None, help="rows of `dense` for part 2")
    ap.add_argument("--sklearn-budget", type=float, default=120.0)
    args = ap.parse_args()
    props = torch.cuda.get_device_properties(0)
    say(f"GPU: {props.name}, {props.multi_processor_count} SMs, {props.total_memory / 2**30:.0f} GiB; "
        f"torch {torch.__version__}, triton {triton.__version__}, CUDA {torch.version.cuda}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU cores")
    sms = props.multi_processor_count
    if not args.skip_gradient:
        shapes = [(400_000, 256), (1_600_000, 32)] if args.quick else [(4_000_000, 256), (16_000_000, 32)]
        for n, d in shapes:
            bench_gradient(n, d, sms, args.quick)
    if not args.skip_fit:
        n = args.rows or (200_000 if args.quick else 20_000_000)
        bench_time_to_target(n, args.quick, args.sklearn_budget if not args.quick else 20)
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "bench_gpu.md"), "w") as fh:
            fh.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
