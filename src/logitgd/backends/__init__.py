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

import numpy as np
import scipy.sparse

from ._types import is_dask, is_tensor, on_torch

__all__ = ["as_data", "is_dask", "is_tensor", "on_torch", "take_rows"]


def take_rows(X, rows):
    """Rows ``rows`` (host ints) of an in-memory X where it is: an ndarray, a CSR matrix or a torch tensor."""
    if is_tensor(X):
        from .torch.device import take_rows

        return take_rows(X, rows)
    return X[rows]


def take_columns(X, columns):
    """Columns ``columns`` (host ints) of a validated X where it is (ndarray, sparse matrix, dense torch tensor);
    None where columns are not cut (a torch sparse tensor; Dask's rows, which stay on the workers)."""
    if is_tensor(X):
        from .torch.device import take_columns

        return take_columns(X, columns)
    if isinstance(X, np.ndarray) or scipy.sparse.issparse(X):
        return X[:, columns]
    return None


def as_data(X, y, sample_weight=None, n_classes=1, device="cpu", storage_dtype=None):
    """The rows object for validated data: ``y`` encoded (0/1 floats, or class indices for ``n_classes > 1``).

    Dask data arrive prepared already (the Dask backend's rows object, made
    while validating: see :func:`.dask.inputs.prepare`) and are returned as they are.
    """
    if getattr(X, "is_dask_data", False):  # a DaskRows (without importing dask to ask)
        return X
    if on_torch(X, device, storage_dtype):
        from .torch.rows import TorchRows

        return TorchRows(X, y, sample_weight, n_classes, device=device, storage_dtype=storage_dtype)
    from .numpy import NumpyRows

    return NumpyRows(X, y, sample_weight, n_classes)
