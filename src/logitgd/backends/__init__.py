"""Backends: where the rows live and how a sum over them is computed.

This package is the only place that knows input types. :func:`as_data` is
the one dispatch: it turns validated ``(X, y, sample_weight)`` into a rows
object of

* :mod:`.numpy`: NumPy arrays and SciPy CSR matrices in this process (the
  numba kernels beside);
* :mod:`.torch`: X, y and the weights on a PyTorch device (the Triton kernel
  beside);
* :mod:`.dask`: row chunks on a Dask cluster (each chunk a NumPy rows object
  on its worker).

Every rows object follows the protocol of :mod:`logitgd.rows`; the objective
and the solvers above see nothing else.
"""

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


def as_data(X, y, sample_weight=None, n_classes=1, device="cpu", storage_dtype=None):
    """The rows object for validated data: ``y`` encoded (0/1 floats, or class indices for ``n_classes > 1``).

    Dask data arrive prepared already (the Dask backend's own rows object,
    made while validating) and are returned as they are.
    """
    if getattr(X, "is_dask_data", False):
        return X
    if on_torch(X, device, storage_dtype):
        from .torch import TorchRows

        return TorchRows(X, y, sample_weight, n_classes, device=device, storage_dtype=storage_dtype)
    from .numpy import NumpyRows

    return NumpyRows(X, y, sample_weight, n_classes)
