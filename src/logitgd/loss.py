"""Binary log-loss on raw scores.

The loss of one example with label ``y`` in {0, 1} and raw score
``z = x·w + b`` is the negative log-likelihood of a Bernoulli with
``p = sigmoid(z)``::

    L(y, z) = -[y log p + (1 - y) log(1 - p)] = log(1 + exp(z)) - y z

Derivatives with respect to the raw score (seed 003's computation graph,
forward ``z -> a -> L``, backward ``dz = a - y``)::

    dL/dz   = sigmoid(z) - y
    d2L/dz2 = sigmoid(z) (1 - sigmoid(z))

Working on ``z`` rather than on ``p`` merges the link into the loss: no
``log(p)`` of a rounded probability is ever taken. The loss is evaluated as
``log1p(exp(-|z|)) + (z (1 - y) if z >= 0 else -z y)``: the linear part is
exact for labels in {0, 1}, so a confidently right prediction keeps its tiny
loss (about ``exp(-|z|)``) to full relative precision instead of cancelling
to zero.
"""

from __future__ import annotations

import numpy as np

from ._numerics import sigmoid


class BinaryLogLoss:
    """Per-sample binary cross-entropy as a function of the raw score."""

    def loss(self, y, raw_prediction):
        """Per-sample loss, ndarray of shape (n,)."""
        z = np.asarray(raw_prediction)
        return _linear_part(y, z) + np.log1p(np.exp(-np.abs(z)))

    def gradient(self, y, raw_prediction):
        """Per-sample dL/dz = sigmoid(z) - y, ndarray of shape (n,)."""
        return sigmoid(raw_prediction) - y

    def loss_gradient(self, y, raw_prediction):
        """Per-sample loss and dL/dz sharing one ``exp(-|z|)``."""
        z = np.asarray(raw_prediction)
        e = np.exp(-np.abs(z))
        loss = _linear_part(y, z) + np.log1p(e)
        grad = np.where(z >= 0, 1, e) / (1 + e) - y
        return loss, grad

    def hessian(self, y, raw_prediction):
        """Per-sample d2L/dz2 = p (1 - p), ndarray of shape (n,)."""
        p = sigmoid(raw_prediction)
        return p * (1 - p)


def _linear_part(y, z):
    """``max(z, 0) - y z``, exact (no cancellation) when y is 0 or 1."""
    return np.where(z >= 0, z * (1 - y), -z * y)
