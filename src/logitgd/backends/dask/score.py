"""Scoring dask input with a fitted model: lazily, chunk by chunk on the workers."""

from __future__ import annotations

import math

import dask
import numpy as np

from .chunks import _as_vector


def score_lazily(estimator, method, X):
    """``estimator.method(X)`` for a dask array or dataframe X: a lazy dask array with X's row chunks.

    Each chunk is scored on a worker by the in-memory method (so the checks of
    in-memory input, feature names included, apply to every chunk). A
    dataframe's partitions have unknown lengths until computed.
    """
    import dask.array as da

    n_classes = len(estimator.classes_)
    width = {"predict": None, "decision_function": None if n_classes == 2 else n_classes}.get(method, n_classes)
    dtype = estimator.classes_.dtype if method == "predict" else np.dtype(np.float64)
    if hasattr(X, "columns"):  # dataframe: its partitions, as pandas frames
        shape = (math.nan,) if width is None else (math.nan, width)
        return da.concatenate([da.from_delayed(dask.delayed(_score, pure=True)(part, estimator, method), shape=shape,
                                               dtype=dtype) for part in X.to_delayed()])
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"Expected a 2D dask array for X, got ndim={getattr(X, 'ndim', None)}.")
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    if width is None:
        return X.map_blocks(_score, estimator, method, dtype=dtype, drop_axis=1, meta=np.empty(0, dtype))
    return X.map_blocks(_score, estimator, method, dtype=dtype, chunks=(X.chunks[0], (width,)),
                        meta=np.empty((0, 0), dtype))


def accuracy(estimator, X, y, sample_weight=None):
    """``estimator.score(X, y, sample_weight)`` for dask X (y and the weights dask or in memory)."""
    from sklearn.metrics import accuracy_score

    # one by one: dataframes (expressions) and arrays (graphs) do not compute well together
    pred, y, sample_weight = (v.compute() if dask.is_dask_collection(v) else v
                              for v in (score_lazily(estimator, "predict", X), y, sample_weight))
    return float(accuracy_score(_as_vector(y), pred,
                                sample_weight=None if sample_weight is None else _as_vector(sample_weight)))


def _score(block, estimator, method):
    return getattr(estimator, method)(block)
