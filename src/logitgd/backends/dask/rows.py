"""Rows in chunks on a Dask cluster: :class:`DaskRows`, whose ``map`` runs a function of :mod:`logitgd.rows`
on every chunk where it lives and brings the per-chunk results back in chunk order (one round trip).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math

import dask
import numpy as np

from ... import rows as stats
from .chunks import _call, chunk_rows
from .cluster import _compute, _gather


class DaskRows:
    """Row chunks of ``(X, y, sample_weight)`` as dask tasks, and what is known about them.

    Attributes
    ----------
    chunks : list
        One per row chunk: a persisted dask.delayed.Delayed yielding a prepared chunk,
        or the tuple of its raw pieces that each task prepares.
    rows : ndarray of shape (n_chunks,) or None (partition sizes of a dataframe are not known)
    shape : (n_samples, n_features)
    n_classes : int
        1 for the binary model, else K.
    sw_sum : float
        Sum of the (class-weighted) sample weights; ``n_samples`` without weights.
    class_weight_sums : ndarray of shape (max(K, 2),)
        That sum per class: the label summary.
    persisted : bool
        Whether the chunks are held in the workers' memory (else re-read each pass).
    nbytes : int
        Bytes of X (``n_samples * n_features`` of ``dtype``).
    passes : int
        Passes over the chunks so far: each map over them (one round trip)
        and each sgd epoch counts one.
    """

    is_dask_data = True
    uses_kernel = False
    sparse = False
    column_newton = False

    def __init__(self, chunks, rows, n_features, dtype, n_classes, sw_sum, class_weight_sums, weighted, persisted,
                 futures=None):
        self.chunks = chunks
        # rows per chunk, or only their total (partition sizes of a dataframe are not known
        # without a pass over it): then the strided rows of hessian_bound start afresh in each chunk
        self.rows = None if np.ndim(rows) == 0 else np.asarray(rows, dtype=np.int64)
        self.offsets = (np.zeros(len(chunks), dtype=np.int64) if self.rows is None else
                        np.concatenate([[0], np.cumsum(self.rows)[:-1]]).astype(np.int64))
        self.shape = (int(np.sum(rows)), int(n_features))
        self.n, self.d = self.shape
        self.dtype = dtype
        self.n_classes = int(n_classes)
        self.sw_sum = sw_sum
        self.class_weight_sums = class_weight_sums
        self.weighted = weighted
        self.persisted = persisted
        # (client, per chunk: its future, or its raw pieces as futures): passes go straight to them
        self.futures = futures
        self.passes = 0
        self._cache = {}

    @property
    def n_chunks(self):
        return len(self.chunks)

    n_parts = n_chunks

    @property
    def nbytes(self):
        return self.shape[0] * self.shape[1] * np.dtype(self.dtype).itemsize

    # -- the backend protocol --------------------------------------------------------------
    def map(self, fn, *args, per_part=None):
        """``[fn(rows of chunk i, *args, *per_part[i])]`` over the chunks, in one round trip."""
        per_part = per_part or [()] * len(self.chunks)
        self.passes += 1
        if self.futures is not None:  # persisted on a cluster: straight to the futures, no graph
            client, futures = self.futures
            return _gather(client, client.map(_call, futures, per_part, fn=fn, n_classes=self.n_classes, args=args,
                                              pure=False))
        return _compute([dask.delayed(_call, pure=False)(c, extra, fn, self.n_classes, args)
                         for c, extra in zip(self.chunks, per_part)])

    def map_data_term(self, loss, W, b, want_grad):
        """The data term summed over the chunks (losses by ``math.fsum``, gradients in chunk order).

        A pass costs the same with or without the gradient (one-pass kernel)
        and a round trip costs more than either: both are always taken, and
        the last few are kept, since line searches ask for f(x) and then ∇f(x).
        """
        key = np.asarray(W, dtype=np.float64).tobytes() + np.asarray(b, dtype=np.float64).tobytes()
        if key not in self._cache:
            parts = self.map(_checked_term, loss, W, b)
            g = parts[0][1].copy()
            for _, gp in parts[1:]:
                g += gp
            self._cache[key] = (math.fsum(p[0] for p in parts), g)
            while len(self._cache) > 4:
                del self._cache[next(iter(self._cache))]
        loss_sum, g = self._cache[key]
        return loss_sum, (g.copy() if want_grad else None)

    def label_sums(self):
        return self.class_weight_sums

    def host_rows(self):
        return None  # the rows are spread over the cluster

    def batch_term(self, loss, W, b, rows):
        return self.take(rows)

    def take(self, rows):
        raise NotImplementedError("mini-batches over dask data run partition by partition (sgd's epochs go over "
                                  "the partitions in turn).")

    def compute_context(self):
        return contextlib.nullcontext()

    def epoch_batches(self, order, bounds):
        return None

    # -- sgd: epochs over the partitions in turn ------------------------------------------------
    def sgd_functions(self, epoch, auto_step):
        """``(epoch, auto_step)`` for sgd over these chunks, from the in-memory ``epoch`` and ``auto_step``.

        An epoch visits the chunks in a random order and, at each, the worker
        that holds it runs ``epoch`` over the chunk's rows (shuffled) on the
        chunk's own objective in the coordinates of the problem; the iterate
        and the generator travel from chunk to chunk. The "auto" step and
        scaling are estimated on the first chunk. The run itself (schedules,
        averaging, the epoch cost J on all the data, stopping) is the
        in-memory one.
        """
        def partitioned_epoch(problem, it, rng, plan, live=None):
            template = problem.on_rows(None)
            self.passes += 1
            gnorm = math.nan
            for i in rng.permutation(len(self.chunks)):
                it, advanced, gnorm = self._task(_chunk_epoch, self.chunks[i], template, epoch, it, rng, plan)
                _set_rng_state(rng, advanced)
                if live is not None:
                    live[0] = it
            return it, gnorm

        def partitioned_auto_step(problem, x, rng, batch_size):
            # from the first partition: a few thousand rows are all the estimates use
            eta0, scale, advanced = self._task(_chunk_auto_step, self.chunks[0], problem.on_rows(None), auto_step, x,
                                               rng, batch_size)
            _set_rng_state(rng, advanced)
            return eta0, scale

        return partitioned_epoch, partitioned_auto_step

    def _task(self, fn, chunk, *args):
        return _compute([dask.delayed(fn, pure=False)(chunk, self.n_classes, *args)])[0]


def _checked_term(rows, loss, W, b):
    """A chunk's data term (always with the gradient); a non-finite X is named."""
    loss_sum, g = stats.data_term(rows, loss, W, b, True)
    if not math.isfinite(loss_sum) and not np.isfinite(rows.X).all():
        raise ValueError("Input X contains NaN or infinity.")
    return float(loss_sum), g


def _set_rng_state(rng, other):
    if isinstance(rng, np.random.Generator):
        rng.bit_generator.state = other.bit_generator.state
    else:
        rng.set_state(other.get_state())


def _chunk_problem(chunk, n_classes, template):
    rows = chunk_rows(chunk, n_classes)
    return template.on_rows(rows), rows.n


def _chunk_epoch(chunk, n_classes, template, epoch, it, rng, plan):
    """One epoch on one chunk's rows, with its own weight sum, in the template's coordinates."""
    problem, n = _chunk_problem(chunk, n_classes, template)
    it, gnorm = epoch(problem, it, rng, dataclasses.replace(plan, batch_size=min(plan.batch_size, n)))
    return it, rng, gnorm


def _chunk_auto_step(chunk, n_classes, template, auto_step, x, rng, batch_size):
    problem, n = _chunk_problem(chunk, n_classes, template)
    eta0, scale = auto_step(problem, x, rng, min(batch_size, n))
    return eta0, scale, rng
