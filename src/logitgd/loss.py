"""Binary and multinomial log-loss on raw scores.

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


class MultinomialLogLoss:
    """Per-sample softmax cross-entropy as a function of the raw scores.

    With raw scores ``z`` of shape (K,) for one example of class ``c``::

        L(c, z) = logsumexp(z) - z_c,     dL/dz = softmax(z) - onehot(c)

    ``logsumexp`` is max-shifted (``m + log(sum(exp(z - m)))``, ``m = max z``),
    so no ``exp`` overflows and the loss of a confident right answer keeps its
    precision. The second derivative is ``diag(p) - p pᵀ``.
    """

    def loss(self, y, raw_prediction):
        """Per-sample loss for integer labels ``y`` in [0, K), ndarray of shape (n,)."""
        return self.loss_gradient(y, raw_prediction, want_grad=False)[0]

    def loss_gradient(self, y, raw_prediction, want_grad=True):
        """Per-sample loss, shape (n,), and dL/dz = P - Y, shape (n, K) (None if not ``want_grad``)."""
        Z = np.asarray(raw_prediction, dtype=np.float64)
        rows = np.arange(Z.shape[0])
        top = Z.argmax(axis=1)
        m = Z[rows, top]
        E = np.exp(Z - m[:, None])
        # log(sum exp(z - m)) = log1p(sum over the others): a confident right
        # answer keeps its tiny loss to full relative precision.
        E[rows, top] = 0.0
        rest = E.sum(axis=1)
        loss = np.log1p(rest) + (m - Z[rows, y])
        if not want_grad:
            return loss, None
        E[rows, top] = 1.0
        E /= (1.0 + rest)[:, None]
        E[rows, y] -= 1.0
        return loss, E

    def proba(self, raw_prediction):
        """Softmax of the raw scores, rows summing to 1."""
        Z = np.asarray(raw_prediction, dtype=np.float64)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
