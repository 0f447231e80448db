"""Training on Dask: data in row chunks on the workers, parameters on the client.

With :mod:`logitgd.backends.dask` (the Parquet reader and the cluster
helpers), the only code that imports dask (``pip install logitgd[dask]``). The
estimator hands ``dask.array`` and ``dask.dataframe`` inputs here
(:func:`validate`); everything else in logitgd is unchanged:

* the data become one task per row chunk that yields ``(X, y, sample_weight)``
  as NumPy arrays (:class:`DaskData`). They are persisted on the workers when
  they fit in half of the cluster's memory, and otherwise recomputed from
  their source (a Parquet file, say) on every pass, one chunk at a time, so
  memory stays bounded;
* the objective (:class:`DaskLogisticObjective`,
  :class:`DaskMultinomialObjective`) is the in-memory objective of
  :mod:`logitgd.objective` with its data term mapped over the chunks: one task
  per chunk runs the in-memory code (the fused one-pass kernel where it
  applies) on its rows at the parameters the client sends, and the client
  adds the per-chunk sums in chunk order. One round trip per evaluation, and
  the same numbers as the in-memory fit up to the rounding of that sum;
* second-order pieces (Hessian as a sum of per-chunk Hessians, Hessian-vector
  products, Böhning's bound, column sums of squares) are sums over chunks too,
  so the full-batch solvers (gd, lbfgs, newton) run unchanged on the client;
* sgd runs its epochs over the partitions in turn (:func:`partitioned_sgd`):
  the parameters and the solver's state travel to the worker that holds a
  partition, which runs the in-memory solver over its rows and sends them on.

Faults: a task lost with its worker is recomputed by Dask from the data's
source (persisted chunks included), and every per-chunk result is a pure
function of its chunk and the parameters, so a fit that survives a lost
worker gives the same model bit for bit. If Dask gives up (the same task
killed its workers several times) the fit raises :class:`~logitgd.DaskFitError` and
no model is stored.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import dask
import numpy as np

from .backends.dask.cluster import _cluster_memory, _compute, _current_client, _futures, _gather, _persists
from .objective import LogisticObjective, MultinomialObjective, Preconditioned, _column_sums_of_squares
from .solvers import SOLVERS
from .solvers.sgd import _check_options, _Run


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (array, dataframe, series)."""
    return dask.is_dask_collection(obj)


# -- input --------------------------------------------------------------------------
def validate(estimator, X, y, sample_weight, reset=True, classes=None):
    """The dask counterpart of the estimator's ``_validate_xy``: ``(DaskData, None, None)``.

    Cheap and lazy: dtypes, shapes and chunking from metadata; one pass over
    the labels (and weights) for the classes, the row counts and the weight
    sums. X is read when the objective is first evaluated (and a NaN or
    infinity in it is reported then).
    """
    from sklearn.utils.multiclass import check_classification_targets

    if not reset or classes is not None:
        raise ValueError("partial_fit does not take dask input; fit trains on it (solver='sgd' runs its epochs "
                         "over the partitions in turn).")
    if getattr(estimator, "early_stopping", False):
        raise ValueError("early_stopping is not available for dask input.")
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
    if together is None:
        label_parts = list(zip(y_parts, sw_parts))
    stats = _compute([dask.delayed(_label_stats, pure=True)(yp, sp) for yp, sp in label_parts])
    # rows per chunk: from the labels' pass when it went over the same chunks, else from X's metadata
    rows = np.array([s[0] for s in stats], dtype=np.int64)
    if together is not None:
        rows = _known_rows(X, n_chunks, int(rows.sum()))
    labels = np.unique(np.concatenate([s[1] for s in stats]))
    check_classification_targets(labels)
    if len(labels) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the data "
                         f"contains only one class: {labels[0]!r}.")
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
    class_weight = _class_weight(estimator.class_weight, labels, counts)
    if class_weight is not None:
        wsums = wsums * class_weight
        if wsums.sum() <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
    weighted = class_weight is not None or any(p is not None for p in sw_parts)
    estimator.classes_ = labels
    estimator.n_features_in_ = n_features
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    if len(labels) > 2 and estimator.multi_class == "ovr":
        raise ValueError("multi_class='ovr' is not available for dask input; the multinomial model is.")
    prep = _Prep(labels, dtype, class_weight)
    # A chunk is the persisted result of _prepare, or the raw pieces that each pass's task
    # prepares itself (one task per chunk and pass, not two).
    chunks = [(_RAW, xp, yp, sp, prep) for xp, yp, sp in zip(X_parts, y_parts, sw_parts)]
    nbytes = int(np.sum(rows)) * n_features * np.dtype(dtype).itemsize
    persisted = _persists(nbytes, _cluster_memory(), already=_already_persisted(X, dtype))
    if persisted:
        prepared = [dask.delayed(_prepare_chunk, pure=True)(*c[1:]) for c in chunks]
        client = _current_client()
        chunks = list(dask.persist(*prepared) if client is None else client.persist(prepared))
        futures = _futures(chunks)
    else:
        futures = _raw_futures(X, y, sample_weight, chunks) if together is None else None
    return DaskData(chunks, rows, n_features, np.dtype(dtype), float(wsums.sum()), wsums, weighted,
                    persisted, futures), None, None


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


def _call(chunk, extra, fn, spec, args):
    return fn(chunk, spec, *args, *extra)


# -- scoring ----------------------------------------------------------------------------
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
    pred, y, sample_weight = (v.compute() if is_dask_collection(v) else v
                              for v in (score_lazily(estimator, "predict", X), y, sample_weight))
    return float(accuracy_score(_as_vector(y), pred,
                                sample_weight=None if sample_weight is None else _as_vector(sample_weight)))


def _score(block, estimator, method):
    return getattr(estimator, method)(block)


# -- per-chunk tasks (run on the workers) ---------------------------------------------
def _as_vector(v):
    v = np.asarray(v)
    return v.ravel() if v.ndim == 2 and v.shape[1] == 1 else v


def _label_stats(y, sw):
    """``(rows, labels, counts, weight sums, (finite, min, max) of the weights or None)`` of one chunk."""
    y = _as_vector(y)
    labels, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(labels)).astype(np.float64)
    if sw is None:
        return len(y), labels, counts, counts, None
    sw = np.asarray(sw, dtype=np.float64).ravel()
    if len(sw) != len(y):
        raise ValueError(f"sample_weight has {len(sw)} rows in a chunk where y has {len(y)}.")
    finite = bool(np.isfinite(sw).all())
    wsums = np.bincount(inverse, weights=sw, minlength=len(labels)) if finite else counts
    return len(y), labels, counts, wsums, (finite, float(sw.min(initial=np.inf)), float(sw.max(initial=-np.inf)))


@dataclass(frozen=True)
class _Prep:
    classes: np.ndarray
    dtype: object
    class_weight: np.ndarray | None


def _aligned(a):
    """``a``, or an aligned copy of it if its data are not on a multiple of its item size.

    Arrays that arrive over the network (a chunk moved to another worker)
    can sit at any byte offset of the message they came in. NumPy and BLAS
    take other code paths, with other rounding, for float64 data off an
    8-byte boundary (and slower ones), so the same chunk would give other
    bits on another worker; one copy on arrival keeps every result a
    function of the chunk's values alone.
    """
    return a if a is None or a.flags.aligned else a.copy()


def _prepare(X, y, sw, prep):
    """One chunk as ``(X C-contiguous, encoded y, sample_weight or None)``, every array aligned (:func:`_aligned`)."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy(dtype=prep.dtype)
    X = np.require(X, dtype=prep.dtype, requirements=["C", "A"])
    y = _as_vector(y)
    if len(y) != X.shape[0]:
        raise ValueError(f"A chunk of X has {X.shape[0]} rows and the matching chunk of y has {len(y)}; "
                         "give X and y the same row chunks (or partitions).")
    classes = prep.classes
    if len(classes) == 2:
        y_enc = (y == classes[1]).astype(np.float64)
    else:
        y_enc = np.searchsorted(classes, y).astype(np.intp)
    if sw is not None:
        sw = _aligned(np.asarray(sw, dtype=np.float64).ravel())
    if prep.class_weight is not None:
        cw = prep.class_weight[np.searchsorted(classes, y)]
        sw = cw if sw is None else sw * cw
    return X, y_enc, sw


class _Chunk:
    """A prepared chunk kept in a worker's memory: ``X``, encoded ``y``, ``sample_weight`` or None.

    Its size for Dask's memory accounting counts only the arrays it made: an X
    (or weights) taken as they were from an array already in the worker's
    memory (``X = X.persist()``) is counted there once, not twice (which would
    make Dask spill for nothing).
    """

    def __init__(self, X, y, sw, owns_X, owns_sw):
        self.X, self.y, self.sw = X, y, sw
        self.owns_X, self.owns_sw = owns_X, owns_sw

    def __setstate__(self, state):  # unpickled on another worker: see _aligned
        self.__dict__.update(state)
        self.X, self.y, self.sw = _aligned(self.X), _aligned(self.y), _aligned(self.sw)

    def __sizeof__(self):
        return (self.y.nbytes + (self.X.nbytes if self.owns_X else 0)
                + (self.sw.nbytes if self.sw is not None and self.owns_sw else 0) + 200)


def _prepare_chunk(X, y, sw, prep):
    """:func:`_prepare` for persisting: a :class:`_Chunk`."""
    Xc, yc, swc = _prepare(X, y, sw, prep)
    def shared(made, given):
        return isinstance(given, np.ndarray) and made is not None and np.may_share_memory(made, given)

    return _Chunk(Xc, yc, swc, owns_X=not shared(Xc, X), owns_sw=not shared(swc, sw))


@dataclass(frozen=True)
class _Spec:
    """What a task needs to rebuild the in-memory objective of its chunk."""

    n_classes: int
    fit_intercept: bool
    sw_sum: float
    penalty: object = None


_RAW = "logitgd-raw-chunk"


def _materialize(chunk):
    """``(X, y, sample_weight)`` of a chunk: prepared already, or its raw pieces (see ``validate``)."""
    if isinstance(chunk, _Chunk):
        return chunk.X, chunk.y, chunk.sw
    return _prepare(*chunk[1:]) if len(chunk) == 5 and isinstance(chunk[0], str) and chunk[0] == _RAW else chunk


def _chunk_objective(chunk, spec, global_sum=True):
    """The in-memory objective of one chunk (normalized by the whole data's weight sum)."""
    X, y, sw = _materialize(chunk)
    if spec.n_classes > 1:
        obj = MultinomialObjective(X, y, spec.n_classes, sample_weight=sw, fit_intercept=spec.fit_intercept,
                                   penalty=spec.penalty)
    else:
        obj = LogisticObjective(X, y, sample_weight=sw, fit_intercept=spec.fit_intercept, penalty=spec.penalty)
    if global_sum:
        obj.sw_sum = spec.sw_sum
    return obj


def _term(chunk, spec, theta, want_grad):
    obj = _chunk_objective(chunk, spec)
    loss, g = obj._data_term(theta, want_grad)
    if not math.isfinite(loss) and not np.isfinite(obj.X).all():
        raise ValueError("Input X contains NaN or infinity.")
    return loss, g


def _hessian(chunk, spec, theta):
    return _chunk_objective(chunk, spec).hessian(theta)


def _hessp(chunk, spec, theta, v):
    return _chunk_objective(chunk, spec).hessian_operator(theta)(v)


def _bound(chunk, spec, offset, stride):
    """Data part of Böhning's bound over this chunk's rows ``offset + i ≡ 0 (mod stride)``, unscaled."""
    obj = _chunk_objective(chunk, spec)
    rows = slice((-offset) % stride, None, stride)
    h = np.ones(len(range(obj.n_samples)[rows])) if obj.sample_weight is None else obj.sample_weight[rows].copy()
    return obj._weighted_gram(h, rows=rows), float(h.sum())


def _colsq(chunk, spec):
    X, _, sw = _materialize(chunk)
    return _column_sums_of_squares(X, sw)


def _min_margin(chunk, spec, theta):
    """Smallest margin (own class's score minus the best other) among rows of positive weight."""
    obj = _chunk_objective(chunk, spec)
    rows = slice(None) if obj.sample_weight is None else obj.sample_weight > 0
    if spec.n_classes == 1:
        m = ((2.0 * obj.y - 1.0) * obj.raw_prediction(theta))[rows]
    else:
        Z = obj.raw_prediction(theta)[rows]
        y = obj.y[rows]
        idx = np.arange(len(y))
        own = Z[idx, y].copy()
        Z[idx, y] = -np.inf
        m = own - Z.max(axis=1, initial=-np.inf)
    return float(m.min(initial=np.inf))


# -- data and objectives (client side) ------------------------------------------------------
class DaskData:
    """Row chunks of ``(X, y, sample_weight)`` as dask tasks, and what is known about them.

    Attributes
    ----------
    chunks : list
        One per row chunk: a persisted dask.delayed.Delayed yielding ``(X, y_encoded,
        sample_weight or None)``, or the tuple of its raw pieces that each task prepares.
    rows : ndarray of shape (n_chunks,) or None (partition sizes of a dataframe are not known)
    shape : (n_samples, n_features)
    sw_sum : float
        Sum of the (class-weighted) sample weights; ``n_samples`` without weights.
    class_weight_sums : ndarray of shape (n_classes,)
        That sum per class.
    persisted : bool
        Whether the chunks are held in the workers' memory (else re-read each pass).
    n_chunks : int
    nbytes : int
        Bytes of X (``n_samples * n_features`` of ``dtype``).
    passes : int
        Passes over the chunks so far: each map of the objective's pieces over
        them (one round trip) and each sgd epoch counts one.
    """

    is_dask_data = True

    def __init__(self, chunks, rows, n_features, dtype, sw_sum, class_weight_sums, weighted, persisted,
                 futures=None):
        self.chunks = chunks
        # rows per chunk, or only their total (partition sizes of a dataframe are not known
        # without a pass over it): then the strided rows of hessian_bound start afresh in each chunk
        self.rows = None if np.ndim(rows) == 0 else np.asarray(rows, dtype=np.int64)
        self.offsets = (np.zeros(len(chunks), dtype=np.int64) if self.rows is None else
                        np.concatenate([[0], np.cumsum(self.rows)[:-1]]).astype(np.int64))
        self.shape = (int(np.sum(rows)), int(n_features))
        self.dtype = dtype
        self.sw_sum = sw_sum
        self.class_weight_sums = class_weight_sums
        self.weighted = weighted
        self.persisted = persisted
        # (client, per chunk: its future, or its raw pieces as futures): passes go straight to them
        self.futures = futures
        self.passes = 0

    @property
    def n_chunks(self):
        return len(self.chunks)

    @property
    def nbytes(self):
        return self.shape[0] * self.shape[1] * np.dtype(self.dtype).itemsize

    def objective(self, n_classes, fit_intercept, penalty):
        """The objective of this data (``n_classes == 1``: binary)."""
        if n_classes == 1:
            return DaskLogisticObjective(self, fit_intercept=fit_intercept, penalty=penalty)
        return DaskMultinomialObjective(self, n_classes, fit_intercept=fit_intercept, penalty=penalty)


class _DaskObjectiveMixin:
    """Overrides of :class:`LogisticObjective` that map the work over the chunks of :class:`DaskData`."""

    distributed = True

    def _init_dask(self, data, fit_intercept, penalty):
        from .penalty import NoPenalty

        self.data = data
        self.X = None  # the rows live on the workers
        self.y = None
        self.sample_weight = None
        self.fit_intercept = bool(fit_intercept)
        self.penalty = NoPenalty() if penalty is None else penalty
        self.sw_sum = data.sw_sum
        self.n_features = data.shape[1]
        self.sparse = False
        self._setup_classes()
        self.n_coef = self.n_features * self.n_classes
        self.n_params = (self.n_features + self.fit_intercept) * self.n_classes
        self.uses_kernel = False
        self._spec = _Spec(self.n_classes, self.fit_intercept, self.sw_sum)
        self._cache = {}
        # sgd goes over the partitions in turn; the full-batch solvers are the in-memory ones
        self.solvers = {**SOLVERS, "sgd": partitioned_sgd}
        self.separation_monitor = DaskSeparationMonitor

    def _map(self, fn, *args, per_chunk=None):
        """``[fn(chunk, spec, *args, *per_chunk[i])]`` over the chunks, in one round trip (one pass)."""
        per_chunk = per_chunk or [()] * len(self.data.chunks)
        self.data.passes += 1
        if self.data.futures is not None:  # persisted on a cluster: straight to the futures, no graph
            client, futures = self.data.futures
            return _gather(client, client.map(_call, futures, per_chunk, fn=fn, spec=self._spec, args=args,
                                              pure=False))
        return _compute([dask.delayed(fn, pure=False)(c, self._spec, *args, *extra)
                         for c, extra in zip(self.data.chunks, per_chunk)])

    @property
    def n_samples(self):
        return self.data.shape[0]

    def raw_prediction(self, theta):
        raise NotImplementedError("raw_prediction would bring every row to the client; predict with "
                                  "the fitted model on the chunks instead.")

    def _data_term(self, theta, want_grad):
        # A pass costs the same with or without the gradient (one-pass kernel)
        # and a round trip costs more than either: always take both, and keep
        # the last few, since line searches ask for f(x) and then ∇f(x).
        theta = np.asarray(theta, dtype=np.float64)
        key = theta.tobytes()
        if key not in self._cache:
            parts = self._map(_term, theta, True)
            g = parts[0][1].copy()
            for _, gp in parts[1:]:
                g += gp
            self._cache[key] = (math.fsum(p[0] for p in parts), g)
            while len(self._cache) > 4:
                del self._cache[next(iter(self._cache))]
        loss, g = self._cache[key]
        return loss, (g.copy() if want_grad else None)

    def batch_value_and_grad(self, theta, rows):
        raise NotImplementedError("mini-batches over dask data run partition by partition (partitioned_sgd).")

    def hessian(self, theta, block_rows=None):
        H = _sum(self._map(_hessian, np.asarray(theta, dtype=np.float64)))
        H[np.diag_indices(self.n_coef)] += self.penalty.curvature()
        return H

    def hessian_operator(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        l2 = self.penalty.curvature()

        def hessp(v):
            out = _sum(self._map(_hessp, theta, np.asarray(v, dtype=np.float64)))
            out[:self.n_coef] += l2 * v[:self.n_coef]
            return out

        return hessp

    def hessian_bound(self, max_rows=None, block_rows=65536):
        n = self.n_samples
        stride = 1 if max_rows is None or n <= max_rows else -(-n // max_rows)
        parts = self._map(_bound, per_chunk=[(int(o), stride) for o in self.data.offsets])
        M = _sum([p[0] for p in parts])
        M *= self._BOUND / (math.fsum(p[1] for p in parts) or 1.0)
        d = self.n_features
        M[np.diag_indices(d)] += self.penalty.curvature()
        return M

    def column_sums_of_squares(self):
        return _sum(self._map(_colsq))

    def min_margin(self, theta):
        """Smallest margin over all rows of positive weight (positive: the classes are separated)."""
        return min(self._map(_min_margin, np.asarray(theta, dtype=np.float64)))

    def intercept_only(self):
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            share = self.data.class_weight_sums / self.sw_sum
            if self.n_classes == 1:
                ybar = min(max(float(share[1]), 1e-10), 1 - 1e-10)
                theta[-1] = np.log(ybar) - np.log1p(-ybar)
            else:
                logs = np.log(np.maximum(share, 1e-10))
                theta[self.n_coef:] = logs - logs.mean()
        return theta


def _sum(parts):
    out = np.array(parts[0], dtype=np.float64, copy=True)
    for p in parts[1:]:
        out += p
    return out


class DaskLogisticObjective(_DaskObjectiveMixin, LogisticObjective):
    """:class:`~logitgd.objective.LogisticObjective` over :class:`DaskData`."""

    def __init__(self, data, fit_intercept=True, penalty=None):
        self._init_dask(data, fit_intercept, penalty)


class DaskMultinomialObjective(_DaskObjectiveMixin, MultinomialObjective):
    """:class:`~logitgd.objective.MultinomialObjective` over :class:`DaskData`."""

    def __init__(self, data, n_classes, fit_intercept=True, penalty=None):
        self.n_classes = int(n_classes)
        self._init_dask(data, fit_intercept, penalty)


class DaskSeparationMonitor:
    """Complete-separation check for dask data (one pass): every margin positive.

    Same schedule as :class:`~logitgd.separation.SeparationMonitor`; the
    linear-programming test for quasi-complete separation needs all rows in
    one place and is not run.
    """

    def __init__(self, objective, first_check=10, every=False):
        self.objective = objective
        self._every = every
        self._next_check = first_check
        self.kind = None

    def __call__(self, theta, iteration):
        if iteration < self._next_check:
            return False
        self._next_check = iteration + 1 if self._every else 2 * self._next_check
        if self.objective.min_margin(theta) > 0:
            self.kind = "complete"
            return True
        return False


# -- sgd --------------------------------------------------------------------------------
class _PartitionedRun(_Run):
    """The in-memory sgd run with its epoch going over the partitions in turn (see :func:`partitioned_sgd`)."""

    def __init__(self, problem, **options):
        super().__init__(problem, **options)
        self._options = dict(options, callback=None)  # the callback stays on the client
        objective = problem.objective if isinstance(problem, Preconditioned) else problem
        self._data = objective.data
        self._chunks = objective.data.chunks
        self._spec = _Spec(objective.n_classes, objective.fit_intercept, objective.sw_sum, objective.penalty)
        self._template = None
        if isinstance(problem, Preconditioned):
            self._template = copy.copy(problem)
            self._template.objective = None

    def _task(self, fn, chunk, *args):
        return _compute([dask.delayed(fn, pure=False)(chunk, self._spec, self._template, self._options, *args)])[0]

    def _epoch(self, st, live):
        gnorm = math.nan
        self._data.passes += 1  # the chunks in turn: one pass
        for i in st.rng.permutation(len(self._chunks)):
            st.x, st.t, st.avg, st.avg_count, rng, gnorm = self._task(_sgd_chunk_epoch, self._chunks[i], st)
            _set_rng_state(st.rng, rng)
            live[0] = (st.x, st.t, st.avg, st.avg_count)
        return gnorm

    def _auto_step(self, x, rng):
        # from the first partition: a few thousand rows are all the estimates use
        eta0, scale, advanced = self._task(_sgd_chunk_auto_step, self._chunks[0], x, rng)
        _set_rng_state(rng, advanced)
        return eta0, scale


def _set_rng_state(rng, other):
    if isinstance(rng, np.random.Generator):
        rng.bit_generator.state = other.bit_generator.state
    else:
        rng.set_state(other.get_state())


def _chunk_run(chunk, spec, template, options):
    """The in-memory sgd run on one chunk's own objective, in the coordinates of ``template``."""
    obj = _chunk_objective(chunk, spec, global_sum=False)
    problem = obj
    if template is not None:
        problem = copy.copy(template)
        problem.objective = obj
    return _Run(problem, **dict(options, batch_size=min(options["batch_size"], obj.n_samples)))


def _sgd_chunk_epoch(chunk, spec, template, options, st):
    gnorm = _chunk_run(chunk, spec, template, options)._epoch(st, [None])
    return st.x, st.t, st.avg, st.avg_count, st.rng, gnorm


def _sgd_chunk_auto_step(chunk, spec, template, options, x, rng):
    eta0, scale = _chunk_run(chunk, spec, template, options)._auto_step(x, rng)
    return eta0, scale, rng


def partitioned_sgd(problem, x0, *, batch_size=32, learning_rate="auto", eta0=None, power_t=0.5, max_iter=100,
                    tol=1e-4, n_iter_no_change=5, average=False, random_state=None, validation=None, callback=None,
                    state=None):
    """:func:`~logitgd.solvers.sgd.stochastic_gradient_descent` with its epochs over the partitions in turn.

    The same run (schedules, averaging, the "auto" step and its bold-driver
    rule, the epoch cost J on all the data, stopping) with one change: an
    epoch visits the chunks in a random order and, at each, the worker that
    holds it runs the mini-batch updates over the chunk's rows (shuffled),
    on the chunk's own objective in the coordinates of ``problem``; the
    parameters and the run's state travel from chunk to chunk. The "auto"
    step and scaling are estimated on the first chunk.

    Parameters and result as :func:`~logitgd.solvers.sgd.stochastic_gradient_descent`
    (``validation`` and ``state`` are not available for dask data).
    """
    if validation is not None or state is not None:
        raise ValueError("early stopping and continued runs (partial_fit) are not available for dask data.")
    _check_options(batch_size, learning_rate, eta0, power_t, max_iter, tol, n_iter_no_change, average, None,
                   callback, None)
    run = _PartitionedRun(problem, batch_size=int(batch_size), learning_rate=learning_rate, power_t=float(power_t),
                          tol=None if tol is None else float(tol), n_iter_no_change=int(n_iter_no_change),
                          average=bool(average), validation=None, callback=callback)
    return run.solve(x0, eta0, random_state, None, int(max_iter))
