"""Dask input: X, y and the weights checked from metadata and one pass over the labels, then prepared.

:func:`check` gives the label summary (labels, counts and weight sums per
label) without touching X; the estimator decides ``classes_`` from it, and
:func:`prepare` turns the input into :class:`~.rows.DaskRows` for those
classes (and class weights).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import dask
import numpy as np

from ..._labels import distinct
from .chunks import _RAW, _as_vector, _Prep, _prepare_chunk
from .cluster import _cluster_memory, _compute, _current_client, _futures, _persists
from .rows import DaskRows


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (array, dataframe, series)."""
    return dask.is_dask_collection(obj)


@dataclass
class DaskInput:
    """Checked dask input and its label summary (see :func:`check`)."""

    X: object
    y: object
    sample_weight: object
    parts: tuple  # (X_parts, y_parts, sw_parts, from one frame)
    rows: object
    n_features: int
    dtype: object
    feature_names: object
    labels: np.ndarray
    counts: np.ndarray
    weight_sums: np.ndarray


def check(X, y, sample_weight):
    """Shapes, dtypes and chunking from metadata, and one pass over the labels (and weights): a :class:`DaskInput`.

    Cheap and lazy: X is read when the objective is first evaluated (a NaN or
    infinity in it is reported then).
    """
    X_parts, n_features, dtype, names = _feature_parts(X)
    together = _frame_parts(X, y, sample_weight)
    if together is not None:
        X_parts, y_parts, sw_parts, label_parts = together
        n_chunks = len(X_parts)
    else:
        n_chunks = len(X_parts)
        y_parts = _vector_parts(y, X, n_chunks, "y")
        sw_parts = [None] * n_chunks if sample_weight is None else _vector_parts(sample_weight, X, n_chunks,
                                                                                 "sample_weight")
        label_parts = list(zip(y_parts, sw_parts))
    stats = _compute([dask.delayed(_label_stats, pure=True)(yp, sp) for yp, sp in label_parts])
    # rows per chunk: from the labels' pass when it went over the same chunks, else from X's metadata
    rows = np.array([s[0] for s in stats], dtype=np.int64)
    if together is not None:
        rows = _known_rows(X, n_chunks, int(rows.sum()))
    labels = distinct(np.concatenate([s[1] for s in stats]))  # text in one chunk, numbers in another: named
    counts = np.zeros(len(labels))
    wsums = np.zeros(len(labels))
    for _, lab, cnt, ws, _info in stats:
        idx = np.searchsorted(labels, lab)
        counts[idx] += cnt
        wsums[idx] += ws
    if sample_weight is not None:
        infos = [s[4] for s in stats if s[4] is not None]
        if not all(finite for finite, _, _ in infos):
            raise ValueError("sample_weight contains NaN or infinite values.")
        lo, hi = min(i[1] for i in infos), max(i[2] for i in infos)
        if lo < 0:
            raise ValueError("Negative values in data passed to sample_weight")
        if wsums.sum() <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
        if lo == hi:  # equal weights are the same as none (as for in-memory data)
            sw_parts, wsums = [None] * n_chunks, counts.copy()
    return DaskInput(X, y, sample_weight, (X_parts, y_parts, sw_parts, together is not None), rows, n_features,
                     dtype, names, labels, counts, wsums)


def prepare(inp, classes, class_weight=None):
    """:class:`~.rows.DaskRows` of checked input for ``classes`` (``class_weight``: dict, "balanced" or None)."""
    X_parts, y_parts, sw_parts, together = inp.parts
    factors = _class_weight(class_weight, inp.labels, inp.counts)
    wsums = inp.weight_sums
    if factors is not None:
        wsums = wsums * factors
        if wsums.sum() <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
    weighted = factors is not None or any(p is not None for p in sw_parts)
    prep = _Prep(classes, inp.dtype, factors)
    # A chunk is the persisted result of _prepare, or the raw pieces that each pass's task
    # prepares itself (one task per chunk and pass, not two).
    chunks = [(_RAW, xp, yp, sp, prep) for xp, yp, sp in zip(X_parts, y_parts, sw_parts)]
    nbytes = int(np.sum(inp.rows)) * inp.n_features * np.dtype(inp.dtype).itemsize
    already = _already_persisted(inp.X, inp.dtype)
    persisted = _persists(nbytes, _cluster_memory(), already=already)
    if persisted:
        client = _current_client()
        # a chunk of an X held on the workers is prepared where it is: moved, it would arrive at
        # any byte offset and be copied (see chunks._aligned), and Dask would hold X twice
        homes = {}
        if already and client is not None:
            from distributed import futures_of

            homes = {key: addrs for key, addrs in client.who_has(futures_of(inp.X)).items() if addrs}
        prepared = []
        for c in chunks:
            home = homes.get(getattr(c[1], "key", None))
            with dask.annotate(**({"workers": list(home), "allow_other_workers": False} if home else {})):
                prepared.append(dask.delayed(_prepare_chunk, pure=True)(*c[1:]))
        chunks = list(dask.persist(*prepared) if client is None else client.persist(prepared, optimize_graph=False))
        futures = _futures(chunks)
    else:
        futures = _raw_futures(inp.X, inp.y, inp.sample_weight, chunks) if not together else None
    n_classes = 1 if len(classes) == 2 else len(classes)
    return DaskRows(chunks, inp.rows, inp.n_features, np.dtype(inp.dtype), n_classes, float(wsums.sum()), wsums,
                    weighted, persisted, futures)


def _feature_parts(X):
    """``(list of per-chunk delayed, n_features, dtype, feature names or None)``."""
    if hasattr(X, "columns"):  # dask.dataframe
        names = [str(c) for c in X.columns]
        X = X.optimize()
        dtypes = list(X.dtypes)
        bad = [c for c, t in zip(X.columns, dtypes) if not (np.issubdtype(t, np.number) or np.issubdtype(t, np.bool_))]
        if bad:
            raise ValueError(f"X has non-numeric columns {bad[:5]}; logitgd needs numeric features.")
        dtype = np.float32 if dtypes and all(t == np.float32 for t in dtypes) else np.float64
        all_str = all(isinstance(c, str) for c in X.columns)
        return list(X.to_delayed()), len(names), dtype, (np.asarray(names, dtype=object) if all_str else None)
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"Expected a 2D dask array for X, got ndim={getattr(X, 'ndim', None)}.")
    if not (np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)):
        raise ValueError(f"X has dtype {X.dtype}; logitgd needs numeric features.")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    if X.numblocks[1] != 1:  # chunks along rows only: every task sees whole rows
        X = X.rechunk({1: -1})
    return list(X.to_delayed().ravel()), int(X.shape[1]), dtype, None


def _frame_parts(X, y, sample_weight):
    """Per-partition ``(X, y, sample_weight)`` of a dask dataframe and series from the same source, or None.

    Taken from one frame, so each pass reads each partition once (and the
    optimizer cannot split the label column into partitions of its own).
    """
    series = [v for v in (y, sample_weight) if v is not None]
    if not (hasattr(X, "columns") and all(hasattr(v, "to_frame") and is_dask_collection(v) for v in series)):
        return None
    names = {"y": "__logitgd_y__", "sw": "__logitgd_sw__"}
    try:
        frame = X.assign(**{names["y"]: y})
        if sample_weight is not None:
            frame = frame.assign(**{names["sw"]: sample_weight})
        parts = list(frame.to_delayed())
    except (ValueError, TypeError, NotImplementedError):  # not aligned: taken one by one
        return None
    columns = list(X.columns)
    X_parts = [dask.delayed(_columns, pure=True)(p, columns) for p in parts]
    y_parts = [dask.delayed(_columns, pure=True)(p, names["y"]) for p in parts]
    sw_parts = ([None] * len(parts) if sample_weight is None else
                [dask.delayed(_columns, pure=True)(p, names["sw"]) for p in parts])
    # The labels' pass reads only their columns (partitions need not match X's: only sums are kept).
    label_frame = frame[[names["y"]] + ([names["sw"]] if sample_weight is not None else [])].optimize()
    label_parts = [(dask.delayed(_columns, pure=True)(p, names["y"]),
                    None if sample_weight is None else dask.delayed(_columns, pure=True)(p, names["sw"]))
                   for p in label_frame.to_delayed()]
    return X_parts, y_parts, sw_parts, label_parts


def _known_rows(X, n_chunks, n_rows):
    """Rows per chunk from X's metadata (known partition sizes), or None (then only ``n_rows`` is known)."""
    sizes = getattr(X, "chunks", None)
    if sizes is not None and len(sizes[0]) == n_chunks and not any(map(math.isnan, sizes[0])):
        return np.asarray(sizes[0], dtype=np.int64)
    return np.array([n_rows], dtype=np.int64) if n_chunks == 1 else n_rows


def _columns(frame, columns):
    return frame[columns]


def _vector_parts(v, X, n_chunks, name):
    """Per-chunk pieces of ``y`` or ``sample_weight``, aligned with the chunks of X."""
    if is_dask_collection(v):
        if hasattr(v, "columns") and v.ndim == 2:  # a one-column dataframe
            if len(v.columns) != 1:
                raise ValueError(f"{name} must be one column, got {len(v.columns)}.")
            v = v[v.columns[0]]
        if hasattr(v, "ndim") and not hasattr(v, "to_frame") and v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if hasattr(v, "chunks") and hasattr(X, "chunks") and not hasattr(v, "to_frame"):
            if v.ndim != 1:
                raise ValueError(f"{name} must be one-dimensional, got ndim={v.ndim}.")
            if v.chunks[0] != X.chunks[0] and not any(map(math.isnan, X.chunks[0])):
                if v.shape[0] != X.shape[0]:
                    raise ValueError(f"X has {X.shape[0]} rows but {name} has {v.shape[0]}.")
                v = v.rechunk({0: X.chunks[0]})
        parts = list(np.ravel(v.to_delayed()))
        if len(parts) != n_chunks:
            raise ValueError(f"{name} is split into {len(parts)} chunks and X into {n_chunks}; give them the same "
                             "row chunks (or partitions).")
        return parts
    # An in-memory vector: cut at X's chunk boundaries.
    v = np.asarray(v)
    if v.ndim != 1:
        v = v.ravel() if v.ndim == 2 and v.shape[1] == 1 else v
        if v.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {v.shape}.")
    sizes = X.chunks[0] if hasattr(X, "chunks") and hasattr(X, "numblocks") else None
    if sizes is None or any(map(math.isnan, sizes)):
        sizes = tuple(_compute([dask.delayed(len)(p) for p in _feature_parts(X)[0]]))
    if sum(sizes) != len(v):
        raise ValueError(f"X has {sum(sizes)} rows but {name} has {len(v)}.")
    bounds = np.cumsum((0,) + tuple(sizes))
    return [v[a:b] for a, b in itertools.pairwise(bounds)]


def _class_weight(class_weight, labels, counts):
    """Weight per class (ndarray of shape (n_classes,)) or None."""
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        return np.array([class_weight.get(c, 1.0) for c in labels], dtype=np.float64)
    if class_weight == "balanced":
        return counts.sum() / (len(labels) * counts)
    raise ValueError(f"class_weight must be a dict, 'balanced' or None, got {class_weight!r}.")


def _already_persisted(X, dtype):
    """Whether X is a float dask array held in the workers' memory already (``X = X.persist()``).

    Its chunks then need no copy to become the chunks' X: the prepared chunks
    share them (and are persisted whatever their size; see :class:`_Chunk`).
    """
    if hasattr(X, "columns") or X.dtype != dtype:
        return False
    try:
        from distributed import futures_of
    except ImportError:
        return False
    n_keys = int(np.prod(X.numblocks))
    return len(futures_of(X)) == n_keys and len(X.__dask_graph__()) == n_keys


def _raw_futures(X, y, sample_weight, chunks):
    """``(client, chunks with their pieces as futures)`` when X, y (and the weights) are persisted dask
    arrays held on a cluster, so that each pass maps over them directly; else None."""
    try:
        from distributed import Client, futures_of
        client = Client.current(allow_global=True)
    except (ImportError, ValueError):
        return None
    pieces = []
    for k, v in ((1, X), (2, y), (3, sample_weight)):
        if v is None and k == 3:
            pieces.append([None] * len(chunks))
            continue
        by_key = {f.key: f for f in futures_of(v)} if is_dask_collection(v) else {}
        found = [by_key.get(getattr(c[k], "key", None)) for c in chunks]
        if not all(f is not None for f in found):
            return None
        pieces.append(found)
    return client, [(_RAW, xf, yf, sf, c[4]) for xf, yf, sf, c in zip(*pieces, chunks)]


def _label_stats(y, sw):
    """``(rows, labels, counts, weight sums, (finite, min, max) of the weights or None)`` of one chunk."""
    y = _as_vector(y)
    try:
        labels, inverse = np.unique(y, return_inverse=True)
    except TypeError:  # text and numbers mixed: the DataError that names them
        distinct(y)
        raise
    counts = np.bincount(inverse, minlength=len(labels)).astype(np.float64)
    if sw is None:
        return len(y), labels, counts, counts, None
    sw = np.asarray(sw, dtype=np.float64).ravel()
    if len(sw) != len(y):
        raise ValueError(f"sample_weight has {len(sw)} rows in a chunk where y has {len(y)}.")
    finite = bool(np.isfinite(sw).all())
    wsums = np.bincount(inverse, weights=sw, minlength=len(labels)) if finite else counts
    return len(y), labels, counts, wsums, (finite, float(sw.min(initial=np.inf)), float(sw.max(initial=-np.inf)))
