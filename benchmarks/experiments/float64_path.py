"""Fused kernel or cuBLAS (generic path) for float64 X: one value_and_grad, and the fits of bench_gpu's part 2.

Also the host-to-host value_and_grad of both paths on float32 X at bench_gpu's two shapes.

    PYTHONPATH=src python -m benchmarks.experiments.float64_path
"""
import time

import numpy as np
import torch

from benchmarks import bench_gpu as B
from logitgd import LogisticRegression
from logitgd.backends.torch import rows as torch_rows
from logitgd.objective import TorchLogisticObjective


def vg_ms(obj, th, reps=15):
    obj.value_and_grad(th)
    ts = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        obj.value_and_grad(th)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e3


n = 20_000_000
X, y = B.make_dense_gpu(n)
yh = y.cpu().numpy()
th = np.random.default_rng(0).standard_normal(101) * 1e-3
for use in (True, False):
    obj = TorchLogisticObjective(X, yh, device="cuda", use_kernel=use)
    print(f"float64 20M x 100, value_and_grad host to host, {'fused kernel' if use else 'cuBLAS two products'}: "
          f"{vg_ms(obj, th):.2f} ms (floor 5.2 ms)", flush=True)
    del obj
alpha = 1e-4
ref = LogisticRegression(solver="newton", alpha=alpha, tol=1e-12).fit(X, y)
fstar = B.J_of(X, y, alpha, torch.as_tensor(ref.coef_[0], device="cuda"), float(ref.intercept_[0]))
target = fstar * (1 + 1e-6)
print(f"f* = {fstar:.15f}")
print("| float64 path | solver | time to target (s) | wall (s) | iterations | J - f* |")
print("|---|---|---|---|---|---|")
for flag in (True, False):
    torch_rows.KERNEL_FOR_FLOAT64 = flag
    for solver in ("newton", "lbfgs", "auto"):
        B.time_logitgd(X[:100_000], y[:100_000], alpha, solver, -1.0, 5)
        t, wall, it, J, chosen = B.time_logitgd(X, y, alpha, solver, target, 20)
        print(f"| {'fused kernel' if flag else 'cuBLAS'} | {solver if solver != 'auto' else 'auto (' + chosen + ')'} | "
              f"{B.fmt(t)} | {wall:.3f} | {it} | {J - fstar:.2e} |", flush=True)
B.plain_newton(X[:100_000], y[:100_000], alpha, -1.0, 2)
t, it, f = B.plain_newton(X, y, alpha, target, 30)
print(f"| plain PyTorch Newton | | {B.fmt(t)} | - | {it} | {f - fstar:.2e} |")
del X, y, ref
torch.cuda.empty_cache()
g = torch.Generator(device="cuda").manual_seed(0)
for n, d in ((4_000_000, 256), (16_000_000, 32)):
    X = torch.randn((n, d), device="cuda", generator=g)
    yh = (torch.rand(n, device="cuda", generator=g) < 0.5).double().cpu().numpy()
    th = np.random.default_rng(1).standard_normal(d + 1) * 0.05
    for use in (True, False):
        obj = TorchLogisticObjective(X, yh, device="cuda", use_kernel=use)
        print(f"float32 {n:,} x {d}, value_and_grad host to host, {'fused kernel' if use else 'generic path'}: "
              f"{vg_ms(obj, th):.2f} ms", flush=True)
        del obj
    del X
    torch.cuda.empty_cache()
