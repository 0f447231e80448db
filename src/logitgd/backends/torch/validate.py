"""The estimator's checks for torch input, and scoring where a tensor lives."""

from __future__ import annotations

import warnings

import numpy as np

from .._types import is_tensor
from .lib import require, torch


def check_tensor_X(X):
    """Validate a torch X for fit: 2-D, float32/float64 (any layout we support), finite, non-empty.

    Returns X detached from autograd (the same memory): a tensor that requires
    grad, or a parameter, is data here.
    """
    require()
    X = X.detach()
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D tensor for X, got shape {tuple(X.shape)}.")
    if X.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"X as a torch tensor must be float32 or float64, got {X.dtype}.")
    if X.layout not in (torch.strided, torch.sparse_csr):
        raise ValueError(f"X as a torch tensor must be dense (strided) or sparse CSR, not {X.layout}.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X has shape {tuple(X.shape)}: it needs at least one sample and one feature.")
    vals = X.values() if X.layout == torch.sparse_csr else X
    if not bool(torch.isfinite(vals).all()):
        raise ValueError("Input X contains NaN or infinity.")
    return X


def check_tensor_xy(X, y=None):
    """``(X, y as a 1-D ndarray or None)`` for a torch X kept on its device; y (small) comes to the host."""
    from sklearn.utils.validation import check_consistent_length, column_or_1d

    X = check_tensor_X(X)
    if y is None:
        return X, None
    y = column_or_1d(np.asarray(to_numpy(y)), warn=True)
    check_consistent_length(np.empty((X.shape[0], 0)), y)
    return X, y


class DeviceLabels:
    """Numeric labels of a torch X, on X's device: their distinct values (the label summary, on the host)
    and their encoding for given classes. Sorting millions of labels on the host (several ``np.unique``)
    costs seconds; on the GPU, milliseconds."""

    def __init__(self, yt, found):
        self._yt, self.found = yt, found

    def encode(self, classes_):
        """0.0/1.0 (two classes) or class indices, as a host ndarray."""
        yt = self._yt
        # compared in the labels' own kind: int64 ids above 2**53 are not all distinct as float64
        key = (np.float64, torch.float64) if yt.is_floating_point() else (np.int64, torch.int64)
        cls = torch.as_tensor(np.asarray(classes_).astype(key[0]), device=yt.device)
        yk = yt.to(key[1])
        if len(classes_) == 2:
            return (yk == cls[1]).to(torch.float64).cpu().numpy()
        return torch.searchsorted(cls, yk).cpu().numpy().astype(np.intp)


def device_labels(X, y):
    """:class:`DeviceLabels` of y for the rows of a checked torch X, or None when y is not numeric."""
    yt = y if is_tensor(y) else None
    if yt is None:
        yh = np.asarray(y)
        if yh.dtype.kind not in "biuf":
            return None
        yt = torch.as_tensor(yh)
    yt = yt.detach().to(X.device)
    if yt.ndim == 2 and yt.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                      "to (n_samples, ), for example using ravel().", DataConversionWarning, stacklevel=5)
        yt = yt[:, 0]
    if yt.ndim != 1 or yt.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one label per row of X ({X.shape[0]}), got shape {tuple(yt.shape)}.")
    is_bool = yt.dtype == torch.bool
    if is_bool:
        yt = yt.to(torch.int64)
    if yt.is_floating_point() and not bool(torch.isfinite(yt).all()):
        raise ValueError("Input y contains NaN or infinity.")
    labels = torch.unique(yt)
    if yt.is_floating_point() and not bool((labels == labels.round()).all()):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which expects "
                         "discrete classes on a regression target with continuous values.")
    found = labels.cpu().numpy()
    return DeviceLabels(yt, found.astype(bool) if is_bool else found)  # classes_ False/True, as on the host


def to_numpy(a):
    """A tensor (any device) as a NumPy array; anything else unchanged."""
    if is_tensor(a):
        return a.detach().cpu().numpy()
    return a


def decision_function(X, coef, intercept):
    """``X @ coef.T + intercept`` for a torch X, computed where X is; ndarray of shape (n, K)."""
    dt = torch.float64 if X.dtype == torch.float64 else torch.float32
    W = torch.as_tensor(coef.T, device=X.device).to(dt)
    Z = (X @ W if X.layout == torch.strided else X.to(dt) @ W) + torch.as_tensor(intercept, device=X.device).to(dt)
    return Z.to("cpu", torch.float64).numpy()
