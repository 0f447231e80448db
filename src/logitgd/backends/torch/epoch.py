"""The rows of one SGD epoch on the device: batches gathered once, gradient sums per batch with no host sync."""

from __future__ import annotations

import numpy as np

from ... import rows as stats
from .device import _csr_tensor, _small, _small_t
from .lib import torch


class EpochBatches:
    """The batches ``order[bounds[i]:bounds[i + 1]]`` of :class:`~.rows.TorchRows`, in float64 products.

    The rows of the epoch are gathered in batch order once (one upload of the
    order per epoch); each batch is then a slice of them.
    """

    def __init__(self, data, order, bounds):
        self.data, self.xp, self.n_classes, self.d = data, data.xp, data.n_classes, data.d
        self.bounds = bounds
        self.n_batches = len(bounds) - 1
        M, dev = data.M, data.device
        self.whole = self.n_batches == 1
        self.order = torch.as_tensor(order, device=dev)
        if M.sparse and not self.whole:
            self.Xe = M.take(order)
            self.indptr_e = np.zeros(len(order) + 1, dtype=np.int64)
            np.cumsum(np.diff(M.indptr)[order], out=self.indptr_e[1:])
        self.y_e = data.y.index_select(0, self.order)
        self.sw_e = None if data.sw is None else data.sw.index_select(0, self.order)

    asarray = property(lambda self: self.data.asarray)
    to_host = property(lambda self: self.data.to_host)

    def _rows(self, a, b):
        M = self.data.M
        if self.whole:
            return M.data
        if M.sparse:
            o0, o1 = int(self.indptr_e[a]), int(self.indptr_e[b])
            Xe = self.Xe
            return _csr_tensor(Xe.crow_indices()[a:b + 1] - o0, Xe.col_indices()[o0:o1], Xe.values()[o0:o1],
                               (b - a, self.d))
        return M.data.index_select(0, self.order[a:b])

    def sums(self, i, loss, W, b):
        """``(gradient sums [X̃ᵀ r] of batch i, flat, on the device; its rows)``."""
        a, e = int(self.bounds[i]), int(self.bounds[i + 1])
        batch = _BatchRows(self, self._rows(a, e), self.y_e[a:e], None if self.sw_e is None else self.sw_e[a:e])
        _, g = stats.term_from_scores(batch, loss, batch.scores(W, b), True)
        return g, e - a


class _BatchRows:
    """One batch as the rows :func:`logitgd.rows.term_from_scores` takes (dense tensor of any dtype, or CSR)."""

    def __init__(self, parent, X, y, sw):
        self.xp, self.n_classes, self.d = parent.xp, parent.n_classes, parent.d
        self.asarray = parent.asarray
        self.X, self.y, self.sw = X, y, sw
        self.n = X.shape[0]

    def matvec(self, W):
        return _small(self.X, W) if W.ndim == 2 else _small(self.X, W[:, None])[:, 0]

    def rmatvec(self, R):
        return _small_t(self.X, R) if R.ndim == 2 else _small_t(self.X, R[:, None])[:, 0]

    def scores(self, W, b):
        return self.matvec(self.asarray(W)) + (b if np.ndim(b) == 0 else self.asarray(b))

    def fused_scores_term(self, loss, z, want_grad):
        return None  # the generic loss, in torch

