"""The PyTorch backend: X, y and the weights on a torch device (a GPU, or the CPU), the Triton kernel beside.

This package is the only place that imports PyTorch (an optional dependency:
``pip install 'logitgd[gpu]'``), and :mod:`.triton` the only one that imports
Triton. The solvers are unchanged: they keep the parameters as a float64
NumPy vector on the host; :class:`~.rows.TorchRows` sends them to the device
(d·K numbers), computes on the rows that live there, and sends back sums of
the same size. X is moved to the device once (a tensor already there is used
as it is, not copied); nothing of size n crosses the bus per iteration.

What runs where:

* the data term: the fused Triton kernel of :mod:`.triton` (one read of X for
  scores, loss and gradient) for dense float32 (or 2-byte) data up to 1024
  features on a CUDA device; else the generic code of :mod:`logitgd.rows`
  through PyTorch's products (two passes: cuBLAS for float64, which measured
  faster than the kernel there; torch's sparse kernels for CSR). The generic
  path is the reference the kernel is tested against.
* Hessians, Hessian-vector products and the preconditioners' sums: the
  generic functions of :mod:`logitgd.rows` on the device. The Hessian's
  weights come from the scores kept from the last data term at the same
  parameters (kept, by both paths, once a Hessian has been asked for:
  Newton's line search has just evaluated there).
* Mini-batch SGD: :func:`.sgd.sgd_epoch` runs a whole epoch on the device with
  no host synchronisation per step.

Arithmetic is float64 whatever X is stored in, as on the CPU; reduced-precision
storage (``storage_dtype="bfloat16"`` or ``"float16"``) keeps dense X in 2
bytes per entry on the device. README.md gives the accuracy this costs.
"""

from .lib import AVAILABLE, INSTALL_HINT, STORAGE_DTYPES, require, sync

__all__ = ["AVAILABLE", "INSTALL_HINT", "STORAGE_DTYPES", "require", "sync"]
