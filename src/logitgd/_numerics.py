"""Numerically stable elementary functions on raw scores.

Every function here stays finite for any finite input (|z| up to the float
range), in float32 and float64, and keeps the input dtype. None of them ever
evaluates ``exp`` of a positive number:

* ``log1pexp(z) = log(1 + exp(z))`` is computed as ``max(z, 0) + log1p(exp(-|z|))``;
* ``sigmoid(z)`` uses ``exp(-|z|)`` and picks the branch by the sign of z;
* ``log_sigmoid(z) = -log1pexp(-z)``.
"""

from __future__ import annotations

import numpy as np


def log1pexp(z):
    """Softplus ``log(1 + exp(z))``, stable for all z.

    Parameters
    ----------
    z : ndarray of shape (n,)
        Raw scores.

    Returns
    -------
    out : ndarray of shape (n,), same dtype as ``z``
    """
    z = np.asarray(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z):
    """``log(sigmoid(z))`` without forming sigmoid(z); finite for all finite z."""
    return -log1pexp(-np.asarray(z))


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, stable for all z.

    Parameters
    ----------
    z : ndarray of shape (n,)

    Returns
    -------
    p : ndarray of shape (n,), same dtype as ``z``, values in [0, 1]
    """
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def namespace(*arrays):
    """The array namespace of ``arrays``: NumPy itself for NumPy arrays (no wrapper, no overhead), else
    the ``array_api_compat`` namespace (a torch tensor's, for the PyTorch backend)."""
    for a in arrays:
        if not isinstance(a, (np.ndarray, np.generic, float, int)):
            import array_api_compat

            return array_api_compat.array_namespace(a)
    return np
