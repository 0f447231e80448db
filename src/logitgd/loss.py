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
``log(p)`` of a rounded probability is ever taken.
"""

from __future__ import annotations

import numpy as np

from ._numerics import log1pexp, sigmoid


class BinaryLogLoss:
    """Per-sample binary cross-entropy as a function of the raw score."""

    def loss(self, y, raw_prediction):
        """Per-sample loss, ndarray of shape (n,)."""
        return log1pexp(raw_prediction) - y * raw_prediction

    def gradient(self, y, raw_prediction):
        """Per-sample dL/dz = sigmoid(z) - y, ndarray of shape (n,)."""
        return sigmoid(raw_prediction) - y

    def loss_gradient(self, y, raw_prediction):
        """Per-sample loss and dL/dz sharing one ``exp(-|z|)``."""
        z = np.asarray(raw_prediction)
        e = np.exp(-np.abs(z))
        loss = np.maximum(z, 0) + np.log1p(e) - y * z
        grad = np.where(z >= 0, 1, e) / (1 + e) - y
        return loss, grad

    def hessian(self, y, raw_prediction):
        """Per-sample d2L/dz2 = p (1 - p), ndarray of shape (n,)."""
        p = sigmoid(raw_prediction)
        return p * (1 - p)
