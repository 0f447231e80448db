"""Input types, told apart without importing the packages that define them."""

from __future__ import annotations


def is_tensor(X):
    """Whether X is a torch tensor (without importing torch)."""
    return type(X).__module__.split(".")[0] == "torch"


def is_dask(X):
    """Whether X is a dask collection (without importing dask)."""
    return type(X).__module__.startswith("dask")  # dask, and dask_expr (dask 2024.8-2024.12 dataframes)


def on_torch(X, device, storage_dtype):
    """Whether a fit goes through PyTorch: a device other than the CPU, 2-byte storage, or a tensor X."""
    return str(device) != "cpu" or storage_dtype is not None or is_tensor(X)
