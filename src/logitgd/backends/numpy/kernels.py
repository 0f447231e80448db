"""The numba kernels (the CPU fast path), loaded on first use.

The kernels live in :mod:`._numba_kernels`, the only module that imports numba. Importing numba takes
0.3-0.5 s, more than a whole small fit: this module loads it only when something here is first used (a
kernel, or ``AVAILABLE``, which the rows ask only for data the kernels are for), so that ``logitgd --help``,
a fit of a small table and a process that never meets large data do not pay for it.
"""

from __future__ import annotations

import importlib


def __getattr__(name):  # AVAILABLE, dense_loss_grad, csr_gram, ...: the kernels module's
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module("._numba_kernels", __package__), name)
