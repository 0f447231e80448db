"""Block configuration of the fused kernel for float64 data (`dense`, 20,000,000 x 100), then bench_gpu's part 2
with the best one (no scikit-learn: its time is in RESULTS.md from the full run).

Run 5 of benchmarks/RESULTS.md's GPU section; its best configuration became the default of
``logitgd.backends.torch.triton.config`` for float64 data.

    PYTHONPATH=src python -m benchmarks.experiments.tune_f64
"""
import torch

from benchmarks import bench_gpu as B
from logitgd.backends.torch import rows as torch_rows
from logitgd.backends.torch import triton as _triton

X, y = B.make_dense_gpu(20_000_000)
sms = torch.cuda.get_device_properties(0).multi_processor_count
w = torch.randn(101, device="cuda", dtype=torch.float64) * 1e-3
best = None
for BM in (8, 16, 32):
    for nw in (4, 8):
        for st in (1, 3):
            for per_sm in (2, 4):
                out = torch.empty((sms * per_sm, 102), device="cuda", dtype=torch.float64)
                cfg = (BM, 128, 1, nw, st)
                t = B.median_ms(lambda: _triton.loss_grad(X, y, None, w, out, 1, True, True, cfg), rep=50)
                print(f"float64 X 20M x 100: BLOCK_M={BM} warps={nw} stages={st} programs/SM={per_sm}: {t:.2f} ms",
                      flush=True)
                if best is None or t < best[0]:
                    best = (t, cfg, per_sm)
print("best", best, "floor", X.numel() * 8 / 3.08e12 * 1e3, "ms")
X = y = None  # the GPU memory back before part 2 draws its own data
torch.cuda.empty_cache()
cfg = best[1]
_triton.config = lambda *a, **k: cfg
torch_rows.N_PROGRAMS_PER_SM = best[2]
_plain = B.plain_lbfgs
B.plain_lbfgs = lambda X, y, alpha, target, budget: _plain(X, y, alpha, target, min(budget, 8))
B.bench_time_to_target(20_000_000, False, 0)
