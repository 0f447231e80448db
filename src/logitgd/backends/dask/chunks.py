"""One row chunk on a worker: prepared once (or re-read on every pass), aligned, and its rows object."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..numpy import NumpyRows


def _as_vector(v):
    v = np.asarray(v)
    return v.ravel() if v.ndim == 2 and v.shape[1] == 1 else v


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


_RAW = "logitgd-raw-chunk"


def _materialize(chunk):
    """``(X, y, sample_weight)`` of a chunk: prepared already, or its raw pieces (see ``inputs.prepare``)."""
    if isinstance(chunk, _Chunk):
        return chunk.X, chunk.y, chunk.sw
    return _prepare(*chunk[1:]) if len(chunk) == 5 and isinstance(chunk[0], str) and chunk[0] == _RAW else chunk


def chunk_rows(chunk, n_classes):
    """The rows object of one chunk on its worker (the fused kernel where it applies)."""
    X, y, sw = _materialize(chunk)
    return NumpyRows(X, y, sw, n_classes)


def _call(chunk, extra, fn, n_classes, args):
    """``fn(rows of chunk, *args, *extra)``: one task of a pass."""
    return fn(chunk_rows(chunk, n_classes), *args, *extra)
