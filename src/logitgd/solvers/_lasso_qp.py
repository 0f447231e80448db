"""Coordinate descent on a dense lasso quadratic program: proximal Newton's inner solve (numba where it is)."""

from __future__ import annotations

import os

import numpy as np


def _lasso_qp_cd_py(H, c, u, lam, tol, max_sweeps):
    """Coordinate descent for ``min_u c·u + ½ uᵀHu + sum_j lam_j |u_j|`` (in place on u).

    Coordinate j minimizes exactly: ``u_j = -S(c_j + (Hu)_j - H_jj u_j, lam_j) / H_jj``
    with soft thresholding S; ``Hu`` is kept up to date. Stops when no
    coordinate moves by more than ``tol / H_jj``. Returns the sweeps done.
    """
    p = u.shape[0]
    Hu = H @ u
    for sweep in range(max_sweeps):
        biggest = 0.0
        for j in range(p):
            hjj = H[j, j]
            if hjj <= 0.0:
                continue
            r = c[j] + Hu[j] - hjj * u[j]
            a = abs(r) - lam[j]
            new = 0.0 if a <= 0.0 else -(a if r > 0 else -a) / hjj
            delta = new - u[j]
            if delta != 0.0:
                u[j] = new
                for k in range(p):
                    Hu[k] += H[k, j] * delta
                biggest = max(biggest, abs(delta) * hjj)
        if biggest <= tol:
            return sweep + 1
    return max_sweeps


_COMPILED = []


def _lasso_qp_cd():
    """The compiled coordinate descent (numba, cached on disk; serial and small, p x p), made on first use so
    that a process that fits no lasso does not import numba (0.3-0.5 s); the Python function without numba."""
    if not _COMPILED:
        try:  # pragma: no cover - depends on the environment
            if os.environ.get("LOGITGD_DISABLE_NUMBA"):
                raise ImportError("disabled by LOGITGD_DISABLE_NUMBA")
            import numba

            try:
                _COMPILED.append(numba.njit(cache=True, nogil=True)(_lasso_qp_cd_py))
            except RuntimeError:  # "cannot cache function": nowhere to write the cache; compile in-process
                _COMPILED.append(numba.njit(nogil=True)(_lasso_qp_cd_py))
        except ImportError:  # pragma: no cover
            _COMPILED.append(_lasso_qp_cd_py)
    return _COMPILED[0]


def lasso_qp(H, c, u, lam, tol, max_sweeps=10_000):
    """Solve ``min_u c·u + ½ uᵀHu + sum_j lam_j |u_j|`` by coordinate descent from ``u``.

    Parameters
    ----------
    H : ndarray of shape (p, p), symmetric positive semi-definite, float64
    c : ndarray of shape (p,)
    u : ndarray of shape (p,)
        Starting point; overwritten with the solution.
    lam : ndarray of shape (p,), >= 0
    tol : float
        Stop when a sweep moves no coordinate's gradient by more than ``tol``.

    Returns
    -------
    u : ndarray of shape (p,)
    """
    _lasso_qp_cd()(np.ascontiguousarray(H, dtype=np.float64), np.ascontiguousarray(c, dtype=np.float64), u,
                 np.ascontiguousarray(lam, dtype=np.float64), float(tol), int(max_sweeps))
    return u


