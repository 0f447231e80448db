"""Statistics over rows, written once for every backend.

Each function here takes a backend's *rows* (the rows one process holds:
:class:`logitgd.backends.numpy.NumpyRows` in memory, a torch device's
``TorchRows``, or one Dask chunk's ``NumpyRows`` on a worker) and returns
sums over those rows. The objective adds the parts up: a backend's ``map``
runs a function on each of its row sets (one, or one per chunk) and brings
the results to the host. A new per-row statistic is one function here.

What a rows object gives (the backend protocol; see ARCHITECTURE.md):

* ``xp`` (its array namespace), ``n`` (rows), ``d`` (features),
  ``n_classes`` (1 for the binary model), ``y`` (0/1 floats, or class
  indices), ``sw`` (sample weights or None);
* ``asarray(a)``: a host float64 array on the rows' device;
* ``matvec(W)`` / ``rmatvec(R)``: ``X @ W`` and ``Xᵀ @ R`` in X's product
  precision; ``scores(W, b)``: the raw scores in float64;
* ``blocks()``: the rows as float64 blocks, each a rows object (a tuple of itself when it is float64);
* ``gram(h)``: ``X̃ᵀ diag(h) X̃`` with ``X̃ = [X, 1]``, shape (d + 1, d + 1);
* ``tilde_blocks(block_rows, fit_intercept)``: dense float64 blocks of X̃;
* ``fused_data_term(W, b, want_grad)``: a fused kernel's data term, or None;
* ``fused_scores_term(loss, z, want_grad)``: a kernel's ``(sum_i s_i L_i, s ∘ dL/dz)`` at the scores z, or None;
* ``memo(key, make)``: a value kept for this rows object (one entry);
* ``label_sums()``: the weighted count of each class (the label summary).

Parameters arrive as host NumPy arrays: ``W`` of shape (d,) (binary) or
(d, K), ``b`` a float or an array of shape (K,).
"""

from __future__ import annotations

import numpy as np


class OneEntryMemo:
    """``memo(key, make)``: ``make()`` kept for the last ``key`` (a rows object's ``memo``)."""

    def __init__(self):
        self._entry = None

    def __call__(self, key, make):
        if self._entry is None or self._entry[0] != key:
            self._entry = (key, make())
        return self._entry[1]

    def peek(self, key):
        """The value kept for ``key``, or None (nothing is made)."""
        return self._entry[1] if self._entry is not None and self._entry[0] == key else None


#: Up to this many raw scores (128 MB), a data term keeps its ``dL/dz`` for the Hessian at the same point
#: (Newton's next step): the probabilities then cost one addition instead of the scores and an ``exp`` again
#: (small data: a third of a step's calls; 200,000 x 50, 10 classes: 60 ms a step). The memo holds one entry,
#: so this is the memory the Hessian's weights take anyway.
KEEP_DZ_MAX = 1 << 24


def _point(W, b):
    """A parameter point as a memo key."""
    return W.tobytes(), np.asarray(b).tobytes()


def data_term(rows, loss, W, b, want_grad):
    """``(sum_i s_i L_i, gradient sums of shape ((d + 1) K,) or None)`` over ``rows``.

    The gradient is ``[X̃ᵀ (s ∘ dL/dz)]`` flattened row by row (the layout of
    theta, the intercept slots included).
    """
    fast = rows.fused_data_term(W, b, want_grad)
    if fast is not None:
        return fast
    blocks = rows.blocks()
    if isinstance(blocks, tuple):  # the rows themselves, float64 already
        z = blocks[0].scores(W, b)
        keep = ("dz", *_point(W, b)) if want_grad and rows.n * rows.n_classes <= KEEP_DZ_MAX else None
        return term_from_scores(blocks[0], loss, z, want_grad, keep)
    parts = [_block_term(block, loss, W, b, want_grad) for block in blocks]
    total, g = 0.0, None
    for part, g_part in parts:
        total += float(part)
        if want_grad:
            g = g_part if g is None else g + g_part
    return total, g


def _block_term(rows, loss, W, b, want_grad):
    """The data term of float64 rows: two passes over X (scores, then ``Xᵀ r``)."""
    return term_from_scores(rows, loss, rows.scores(W, b), want_grad)


def term_from_scores(rows, loss, z, want_grad, keep=None):
    """``(sum_i s_i L_i, [Xᵀ r; sum(r)] flat)`` with ``r = s ∘ dL/dz`` at the scores ``z`` of ``rows``; with a
    ``keep`` key, ``dL/dz`` is kept in the rows' memo under it (for :func:`hessian_weights`)."""
    xp = rows.xp
    fast = rows.fused_scores_term(loss, z, want_grad)
    if fast is not None:  # the weighted sum and the weighted dL/dz in one pass (a kernel)
        total, r = fast
        if not want_grad:
            return total, None
        if keep is not None and rows.sw is None:  # r is dL/dz itself
            rows.memo(keep, lambda: r)
        return total, xp.concat([rows.rmatvec(r), (xp.ones_like(r[:, 0]) @ r)[None, ...]], axis=0).reshape(-1)
    if want_grad:
        per_sample, r = loss.loss_gradient(rows.y, z)
        if keep is not None:
            rows.memo(keep, lambda: r)
    else:
        per_sample, r = loss.loss(rows.y, z), None
    sw = rows.sw
    if sw is not None:
        per_sample = per_sample * sw
    # the methods .sum() and .reshape() (NumPy's and torch's alike): the namespace's functions
    # cost NumPy a Python wrapper each, which small data notice
    total = per_sample.sum()
    if not want_grad:
        return total, None
    if sw is not None:
        r = r * (sw if r.ndim == 1 else sw[:, None])
    if xp is np:  # into one array (a concatenation costs small data a tenth of the data term)
        g = np.empty((rows.d + 1,) + r.shape[1:])
        g[:-1] = rows.rmatvec(r)
        g[-1] = r.sum(0)
        return total, g.reshape(-1)
    return total, xp.concat([rows.rmatvec(r), r.sum(0)[None, ...]], axis=0).reshape(-1)


def scores(rows, W, b):
    """Raw scores ``X W + b``, float64: shape (n,) (binary) or (n, K)."""
    return rows.scores(W, b)


def hessian_weights(rows, loss, W, b, sw_sum):
    """Binary: ``s_i p_i (1 - p_i) / sum(s)``, shape (n,); K classes: the probabilities P, shape (n, K).

    From the ``dL/dz`` a data term at the same point kept (small data), else from the scores."""
    dz = rows.memo.peek(("dz", *_point(W, b)))
    if dz is not None:
        P = loss.proba_from_gradient(rows.y, dz)
        if rows.n_classes > 1:
            return P
        h = P * (1 - P)
    elif rows.n_classes > 1:
        return loss.proba(rows.scores(W, b))
    else:
        h = loss.hessian(rows.y, rows.scores(W, b))
    if rows.sw is not None:
        h = h * rows.sw
    return h / sw_sum


def _weights(rows, loss, W, b, sw_sum):
    key = ("hessian_weights", *_point(W, b), sw_sum)
    return rows.memo(key, lambda: hessian_weights(rows, loss, W, b, sw_sum))


def hessian(rows, loss, W, b, sw_sum, fit_intercept):
    """The data part of the Hessian of the mean loss, shape (n_params, n_params) (no penalty)."""
    H = _weights(rows, loss, W, b, sw_sum)
    if rows.n_classes == 1:
        H = rows.gram(H)
        return H if fit_intercept else H[:rows.d, :rows.d]
    return _multinomial_hessian(rows, H, sw_sum, fit_intercept)


def _multinomial_hessian(rows, P, sw_sum, fit_intercept, block_rows=None):
    """``sum_i s_i (diag(p_i) - p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ / sum(s)``.

    Formed as ``blockdiag_k(X̃ᵀ diag(s p_k (1 - p_k)) X̃)`` and, off the diagonal blocks, ``-BᵀB`` with
    ``B = sqrt(s) (X̃ ⊗ P)`` row by row (BLAS-3), ``n · n_params²`` flops;
    sparse X is made dense one block of rows at a time. The diagonal blocks are not ``X̃ᵀ diag(s p_k) X̃``
    minus BᵀB's: where a probability nears 1 that difference cancels to rounding and can come out negative.
    """
    xp, K = rows.xp, rows.n_classes
    p1 = rows.d + bool(fit_intercept)
    n_params = p1 * K
    s = (xp.ones_like(P[:, 0]) if rows.sw is None else rows.sw) / sw_sum
    diag = xp.zeros((p1 * K, p1), dtype=P.dtype, device=P.device)  # row i K + k: X̃ᵀ diag(s p_k (1 - p_k)) X̃'s i
    B_flat = xp.zeros((n_params, n_params), dtype=P.dtype, device=P.device)
    block_rows = block_rows or max(1, 2 ** 22 // n_params)
    for start, Xt in rows.tilde_blocks(block_rows, fit_intercept):
        stop = start + Xt.shape[0]
        Pb, sb = P[start:stop], s[start:stop]
        # all K diagonal blocks in one product (a loop over the classes costs small data a dozen calls each)
        diag += _row_kron(xp, Xt, (sb[:, None] * Pb) * (1 - Pb)).T @ Xt
        B = _row_kron(xp, Xt, xp.sqrt(sb)[:, None] * Pb)
        B_flat += B.T @ B
    H = -xp.reshape(B_flat, (p1, K, p1, K))
    diag = xp.reshape(diag, (p1, K, p1))
    for k in range(K):
        H[:, k, :, k] = diag[:, k, :]
    return xp.reshape(H, (n_params, n_params))


def _row_kron(xp, A, B):
    """Row by row ``A_i ⊗ B_i``: shape (n, a b). NumPy's einsum where it can (NumPy's broadcast product over a
    last axis of K = 3 to 10 is 1.5-2x slower)."""
    if xp is np:
        return np.einsum("ij,ik->ijk", A, B).reshape(A.shape[0], -1)
    return xp.reshape(A[:, :, None] * B[:, None, :], (A.shape[0], -1))


def class_blocks(rows, loss, W, b, sw_sum, fit_intercept):
    """K classes: the diagonal blocks of the data part of the Hessian, ``X̃ᵀ diag(s p_k (1 - p_k)) X̃ / sum(s)``
    per class, shape (K, p1, p1) (``p1 = d + intercept``); ``n · p1² · K`` flops, a K-th of the whole Hessian."""
    xp = rows.xp
    P = _weights(rows, loss, W, b, sw_sum)
    s = (xp.ones_like(P[:, 0]) if rows.sw is None else rows.sw) / sw_sum
    p1 = rows.d + bool(fit_intercept)
    return xp.stack([rows.gram(s * P[:, k] * (1 - P[:, k]))[:p1, :p1] for k in range(rows.n_classes)])


def hessp(rows, loss, W, b, sw_sum, fit_intercept, V, c):
    """The data part of the Hessian-vector product ``∇²f · [V; c]``, flat (no penalty)."""
    xp = rows.xp
    H = _weights(rows, loss, W, b, sw_sum)
    U = rows.matvec(rows.asarray(V))
    if rows.n_classes == 1:
        if fit_intercept:
            U = U + c
        T = H * U
        out = rows.rmatvec(T)
        return xp.concat([out, xp.sum(T)[None]]) if fit_intercept else out
    T = xp.astype(U, xp.float64, copy=False)  # the product is a new array: work in it
    T += rows.asarray(c)
    T *= H
    # row sums as a product with ones: a reduction over K columns per row is slow in NumPy (60 us at 1797 x 10)
    T -= H * (T @ xp.ones_like(T[0]))[:, None]
    if rows.sw is not None:
        T *= rows.sw[:, None]
    out = rows.rmatvec(T) / sw_sum
    if fit_intercept:
        out = xp.concat([out, ((xp.ones_like(T[:, 0]) @ T) / sw_sum)[None, :]], axis=0)
    return xp.reshape(out, (-1,))


def bound_gram(rows, offset, stride, scale):
    """Data part of Böhning's bound over the rows ``offset + i ≡ 0 (mod stride)``: ``(X̃ᵀ S X̃, sum(s))``.

    The weights ``s`` are the sample weights (ones without); with ``scale``
    they are first scaled to sum to ``scale`` (one process holds all rows),
    else the gram is unscaled and the caller scales the sum of the parts.
    """
    picked = slice((-offset) % stride, None, stride)
    m = len(range(rows.n)[picked])
    xp = rows.xp
    h = rows.asarray(np.ones(m)) if rows.sw is None else xp.asarray(rows.sw[picked], copy=True)
    total = float(xp.sum(h))
    if scale is not None:
        h *= scale / (total or 1.0)
    return rows.gram(h, picked), total


def column_sums_of_squares(rows):
    """``sum_i s_i x_ij²`` per column, shape (d,)."""
    return rows.column_sums_of_squares()


def margin_range(rows, W, b):
    """``(smallest, largest)`` margin among rows of positive weight (:func:`margins`); ``(inf, -inf)`` for none."""
    m = margins(rows, W, b)
    xp = rows.xp
    if not m.shape[0]:
        return float("inf"), float("-inf")
    return float(xp.min(m)), float(xp.max(m))


def margins(rows, W, b):
    """Per-row margins of the rows of positive weight: binary ``(2y - 1) z``; K classes ``z_y - max_{k≠y} z_k``."""
    xp = rows.xp
    Z = rows.scores(W, b)
    keep = None if rows.sw is None else rows.sw > 0
    if rows.n_classes == 1:
        m = (2.0 * rows.y - 1.0) * Z
        return m if keep is None else m[keep]
    y = rows.y
    if keep is not None:
        Z, y = Z[keep], y[keep]
    own = xp.take_along_axis(Z, y[:, None], axis=1)[:, 0]
    others = xp.where(xp.arange(Z.shape[1])[None, :] == y[:, None], -xp.inf, Z)
    return own - xp.max(others, axis=1)


def score_blocks(rows, loss, W, b, fit_intercept, block_rows=None):
    """``(start, U)`` by blocks of rows: the per-row scores ``s_i x̃_i ⊗ dL/dz_i``, shape (m, (d + 1) K).

    Row ``i`` of ``U`` is sample ``i``'s gradient contribution in the layout
    of theta (``[W; b]`` row by row); their sum is the data term's gradient.
    """
    xp = rows.xp
    r = loss.loss_gradient(rows.y, rows.scores(W, b))[1]
    if rows.sw is not None:
        r = r * (rows.sw if r.ndim == 1 else rows.sw[:, None])
    if r.ndim == 1:
        r = r[:, None]
    width = (rows.d + bool(fit_intercept)) * r.shape[1]
    for start, Xt in rows.tilde_blocks(block_rows or max(1, 2 ** 22 // width), fit_intercept):
        m = Xt.shape[0]
        yield start, _row_kron(xp, Xt, r[start:start + m])


def score_outer(rows, loss, W, b, fit_intercept):
    """The sandwich's meat ``sum_i u_i u_iᵀ`` of the per-row scores (:func:`score_blocks`), unscaled."""
    M = None
    for _, U in score_blocks(rows, loss, W, b, fit_intercept):
        M = U.T @ U if M is None else M + U.T @ U
    return M


def cluster_score_sums(rows, loss, W, b, fit_intercept, codes):
    """``[(groups, S)]`` per block: the score sums ``S[g] = sum_{i in g} u_i`` of the groups present.

    ``codes`` is a host array of non-negative integer group codes, one per row.
    The rows of each block are ordered by group and summed by differences of a
    cumulative sum, on the rows' device; the caller adds blocks and parts.
    """
    xp = rows.xp
    codes = np.asarray(codes)
    out = []
    for start, U in score_blocks(rows, loss, W, b, fit_intercept):
        block = codes[start:start + U.shape[0]]
        order = np.argsort(block, kind="stable")
        ordered = block[order]
        first = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        edges = np.r_[first, ordered.shape[0]]
        to_device = getattr(U, "device", None)
        C = xp.cumulative_sum(xp.take(U, xp.asarray(order, device=to_device), axis=0), axis=0,
                              include_initial=True)
        sums = (xp.take(C, xp.asarray(edges[1:], device=to_device), axis=0)
                - xp.take(C, xp.asarray(edges[:-1], device=to_device), axis=0))
        out.append((ordered[first], sums))
    return out


def positive_weights(rows):
    """How many rows have a positive sample weight (all rows without weights)."""
    return rows.n if rows.sw is None else int(rows.xp.sum(rows.sw > 0))


def firth_correction(rows, loss, W, b, fit_intercept, information_inverse):
    """``sum_i x̃_i h_i (1/2 - p_i)``: Firth's score correction, binary.

    ``h_i = s_i p_i (1 - p_i) x̃_iᵀ I⁻¹ x̃_i`` is the diagonal of the hat matrix
    ``W^½ X̃ (X̃ᵀ W X̃)⁻¹ X̃ᵀ W^½``, formed row block by row block (never n x n).
    """
    xp = rows.xp
    p = loss.proba(rows.scores(W, b))
    w = p * (1 - p)
    if rows.sw is not None:
        w = w * rows.sw
    M = rows.asarray(information_inverse)
    out = None
    for start, Xt in rows.tilde_blocks(max(1, 2 ** 22 // (rows.d + 2)), fit_intercept):
        m = Xt.shape[0]
        h = w[start:start + m] * xp.sum((Xt @ M) * Xt, axis=1)
        part = Xt.T @ (h * (0.5 - p[start:start + m]))
        out = part if out is None else out + part
    return out


def firth_correction_multinomial(rows, loss, W, b, fit_intercept, information_inverse):
    """``∂(½ log det I) / ∂θ`` for K classes, reference-class layout: shape (d + 1, K - 1).

    With ``I = Σ_i s_i x̃_i x̃_iᵀ ⊗ V_i`` over classes 1..K-1 (``V = diag(p) - p pᵀ``) the
    derivative along class c's coefficient a is ``½ Σ_i s_i x̃_ia p_ic (u_ic - p_i·u_i)`` with
    ``u_i = diag(Q_i) - 2 Q_i p_i`` and ``Q_i[k, k'] = x̃_iᵀ (I⁻¹)_{k k'} x̃_i`` (Kosmidis & Firth's
    adjusted score; two classes give :func:`firth_correction`'s ``X̃ᵀ h (½ - p)``).
    """
    xp = rows.xp
    P = loss.proba(rows.scores(W, b))[:, 1:]
    s = None if rows.sw is None else rows.sw
    p1, K1 = rows.d + bool(fit_intercept), P.shape[1]
    M = xp.reshape(rows.asarray(information_inverse), (p1, K1 * p1 * K1))  # rows (j, k), columns (j', k')
    out = None
    for start, Xt in rows.tilde_blocks(max(1, 2 ** 22 // (p1 * K1 * K1 + 1)), fit_intercept):
        m = Xt.shape[0]
        Pb = P[start:start + m]
        T = xp.reshape(Xt @ xp.reshape(xp.permute_dims(xp.reshape(M, (p1, K1, p1, K1)), (0, 1, 3, 2)),
                                       (p1, K1 * K1 * p1)), (m, K1, K1, p1))
        Q = xp.sum(T * Xt[:, None, None, :], axis=3)  # (m, K-1, K-1)
        diagonal = xp.sum(Q * xp.eye(K1, dtype=Q.dtype, device=Q.device)[None, :, :], axis=2)
        u = diagonal - 2 * xp.sum(Q * Pb[:, None, :], axis=2)
        t = Pb * (u - xp.sum(Pb * u, axis=1, keepdims=True))
        if s is not None:
            t = t * s[start:start + m][:, None]
        part = 0.5 * (Xt.T @ t)
        out = part if out is None else out + part
    return out
