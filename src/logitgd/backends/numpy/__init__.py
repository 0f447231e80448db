"""The in-memory backend: NumPy arrays and SciPy sparse matrices (:class:`NumpyRows`), numba kernels beside."""

from .rows import NumpyRows

__all__ = ["NumpyRows"]
