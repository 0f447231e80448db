"""The Dask backend: data in row chunks on the workers, parameters on the client.

This package is the only code that imports dask (``pip install logitgd[dask]``).
The estimator hands ``dask.array`` and ``dask.dataframe`` inputs to
:func:`.inputs.check` and :func:`.inputs.prepare`:

* the data become one task per row chunk that yields ``(X, y, sample_weight)``
  as NumPy arrays (:class:`~.rows.DaskRows`). They are persisted on the
  workers when they fit in half of the cluster's memory, and otherwise
  recomputed from their source (a Parquet file, say) on every pass, one
  chunk at a time, so memory stays bounded;
* every sum over rows the objective asks for is the function of
  :mod:`logitgd.rows` that the in-memory backend runs, applied by one task
  per chunk to that chunk's rows (the fused one-pass kernel where it
  applies) at the parameters the client sends; the client adds the per-chunk
  results in chunk order. One round trip per evaluation, and the same numbers
  as the in-memory fit up to the rounding of that sum; so the full-batch
  solvers (gd, lbfgs, newton) run unchanged on the client;
* sgd runs its epochs over the partitions in turn
  (:meth:`~.rows.DaskRows.sgd_functions`): the iterate travels to the worker
  that holds a partition, which runs the in-memory epoch over its rows.

Faults: a task lost with its worker is recomputed by Dask from the data's
source (persisted chunks included), and every per-chunk result is a pure
function of its chunk and the parameters, so a fit that survives a lost
worker gives the same model bit for bit. If Dask gives up (the same task
killed its workers several times, or on the command line's local cluster its
workers died again and again before taking any task, or a worker ran out of
memory) the fit raises :class:`~logitgd.DaskFitError`, which says how the workers
ended where that is known, and no model is stored. The Parquet reader of the command line is
:mod:`.reader`; the cluster helpers are :mod:`.cluster`.
"""
