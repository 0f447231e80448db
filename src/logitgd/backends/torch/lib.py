"""The one import of PyTorch, and what to say when it is missing."""

from __future__ import annotations

try:  # pragma: no cover - depends on the environment
    import torch

    AVAILABLE = True
except ImportError:  # pragma: no cover
    torch = None
    AVAILABLE = False

INSTALL_HINT = ("PyTorch is not installed: training on a GPU needs it. Install it with "
                "pip install 'logitgd[gpu]' (or pip install torch, with the CUDA build for your GPU).")
STORAGE_DTYPES = (None, "bfloat16", "float16")


def require():
    """Raise ImportError saying what to install when PyTorch is missing."""
    if not AVAILABLE:
        raise ImportError(INSTALL_HINT)


def sync(device=None):
    """Wait for queued device work (for timing)."""
    if AVAILABLE and torch.cuda.is_available():
        torch.cuda.synchronize(device)
