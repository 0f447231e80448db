"""One example through the model: the forward pass and the backward pass of its computation graph.

Two classes (the tutorials' notation)::

    forward:   z = w·x + b = Σ_j w_j x_j + b,   a = σ(z),   L(a, y) = -[y log a + (1 - y) log(1 - a)]
    backward:  dz = ∂L/∂z = a - y,   dw_j = ∂L/∂w_j = x_j dz,   db = ∂L/∂b = dz

K classes (softmax): ``z_k = w_k·x + b_k``, ``a_k = exp(z_k) / Σ_l exp(z_l)``, ``L = -log a_y``,
``dz_k = a_k - [y = k]``, ``dw_jk = x_j dz_k``, ``db_k = dz_k``. One-vs-rest: K binary models, each its own
sigmoid and loss (``L = Σ_k L_k``); the probabilities the model predicts are the ``a_k`` normalized.

The gradient is that of this one row's loss, unweighted and without the penalty: the cost J of a fit is the
mean of these losses plus the penalty, so its gradient is the mean of these plus the penalty's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp, softmax

from ._numerics import log1pexp, sigmoid


@dataclass
class Explanation:
    """The numbers of one row's forward and backward pass (see the module's docstring for the formulas).

    Attributes
    ----------
    feature_names : list of str
    x : ndarray of shape (d,)
    classes : ndarray of shape (K,)
    link : {"sigmoid", "softmax", "ovr"}
    coef : ndarray of shape (m, d)
        The weights w: m = 1 score for two classes, else K.
    intercept : ndarray of shape (m,)
        b.
    terms : ndarray of shape (m, d)
        ``w_j x_j`` per score.
    z : ndarray of shape (m,)
        ``Σ_j w_j x_j + b``: the model's ``decision_function``.
    a : ndarray of shape (m,)
        ``σ(z)`` (two classes, one-vs-rest) or ``softmax(z)``.
    proba : ndarray of shape (K,)
        The model's ``predict_proba`` for the row.
    prediction : object
        The predicted label.
    y : object or None
        The true label, if given; then ``loss``, ``dz``, ``db``, ``dw`` are set (else None).
    """

    feature_names: list
    x: np.ndarray
    classes: np.ndarray
    link: str
    coef: np.ndarray
    intercept: np.ndarray
    terms: np.ndarray
    z: np.ndarray
    a: np.ndarray
    proba: np.ndarray
    prediction: object
    y: object = None
    loss: float | None = None
    dz: np.ndarray | None = None
    db: np.ndarray | None = None
    dw: np.ndarray | None = None

    def order(self, top=None):
        """Feature indices by the size of their largest term ``|w_j x_j|``, largest first (at most ``top``)."""
        order = np.argsort(-np.abs(self.terms).max(axis=0), kind="stable")
        return order if top is None else order[:top]

    def score_names(self):
        """What each score is: ``["z"]`` for two classes, else ``["z[<class>]", ...]``."""
        return ["z"] if self.z.shape[0] == 1 else [f"z[{c}]" for c in self.classes]

    def to_frame(self):
        """A pandas DataFrame, one row per feature: ``x``, then per score ``w``, ``w*x`` and (with y) ``dw``."""
        import pandas as pd

        columns = {"x": self.x}
        for k, name in enumerate(self.score_names()):
            suffix = "" if len(self.z) == 1 else f"[{self.classes[k]}]"
            columns[f"w{suffix}"] = self.coef[k]
            columns[f"w*x{suffix}"] = self.terms[k]
            if self.dw is not None:
                columns[f"dw{suffix}"] = self.dw[k]
        return pd.DataFrame(columns, index=pd.Index(self.feature_names, name="feature"))

    def table(self, top=15):
        """The forward and backward pass as text: the ``top`` largest terms, their sum, z, a, the prediction, the
        loss and the gradient."""
        return _table(self, top)

    def __str__(self):
        return self.table()


def explain_row(x, coef, intercept, classes, link, feature_names, y=None):
    """The :class:`Explanation` of the row ``x`` (a dense (d,) float array) under a linear model with ``coef``
    (m, d), ``intercept`` (m,), ``classes``, and ``link`` (``"sigmoid"``, ``"softmax"`` or ``"ovr"``); ``y`` a
    label among ``classes`` or None."""
    x = np.asarray(x, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    terms = coef * x[None, :]
    z = terms.sum(axis=1) + intercept
    classes = np.asarray(classes)
    if link == "softmax":
        a = softmax(z)
        proba = a
        prediction = classes[int(np.argmax(z))]
    else:
        a = sigmoid(z)
        if link == "sigmoid":
            proba = np.array([sigmoid(-z[0]), a[0]])
            prediction = classes[int(z[0] > 0)]
        else:
            proba = a / a.sum()
            prediction = classes[int(np.argmax(z))]
    out = Explanation(list(feature_names), x, classes, link, coef, intercept, terms, z, a, proba, prediction)
    if y is None:
        return out
    k = int(np.flatnonzero(classes == y)[0])
    if link == "sigmoid":
        target = np.array([float(k == 1)])
    else:
        target = (np.arange(len(classes)) == k).astype(np.float64)
    if link == "softmax":
        loss = float(logsumexp(z) - z[k])
    else:  # each binary model's -[t log σ(z) + (1 - t) log(1 - σ(z))] = log(1 + e^{-z}) or log(1 + e^{z})
        loss = float(np.sum(np.where(target == 1, log1pexp(-z), log1pexp(z))))
    dz = a - target
    out.y, out.loss, out.dz, out.db, out.dw = y, loss, dz, dz.copy(), dz[:, None] * x[None, :]
    return out


def _num(v):
    return f"{v:.6g}"


def _table(e, top):
    names = e.score_names()
    m = len(names)
    order = e.order(top)
    rest = np.setdiff1d(np.arange(len(e.x)), order)
    width = max([len("Σ others (" + str(len(rest)) + ")")] + [len(str(e.feature_names[j])) for j in order] + [10])
    lines = []
    binary = m == 1
    head = "forward: z = Σ_j w_j·x_j + b, a = σ(z)" if e.link != "softmax" else \
        "forward: z_k = Σ_j w_jk·x_j + b_k, a_k = softmax(z)_k"
    lines.append(head)
    cols = ["x_j"] + (["w_j", "w_j·x_j"] if binary else [f"w·x {n}" for n in names])
    if e.dw is not None:
        cols += ["dw_j = x_j·dz"] if binary else [f"dw {n}" for n in names]
    widths = [max(12, len(c) + 1) for c in cols]
    lines.append(f"  {'feature':<{width}}" + "".join(f"{c:>{w}}" for c, w in zip(cols, widths)))
    for j in order:
        values = [e.x[j]] + ([e.coef[0, j], e.terms[0, j]] if binary else list(e.terms[:, j]))
        if e.dw is not None:
            values += list(e.dw[:, j])
        cells = "".join(f"{_num(v):>{w}}" for v, w in zip(values, widths))
        lines.append(f"  {str(e.feature_names[j]):<{width}}{cells}")
    if rest.size:
        sums = e.terms[:, rest].sum(axis=1)
        label = f"Σ others ({rest.size})"
        lines.append(f"  {label:<{width}}" + f"{'':>{widths[0]}}" + (f"{'':>{widths[1]}}{_num(sums[0]):>{widths[2]}}"
                     if binary else "".join(f"{_num(s):>{w}}" for s, w in zip(sums, widths[1:]))))
    pad = width + 2 + widths[0] + (widths[1] if binary else 0)

    def row(label, values, note=""):
        text = "".join(f"{_num(v):>{w}}" for v, w in zip(values, widths[(2 if binary else 1):]))
        lines.append(f"  {label:<{pad - 2}}{text}" + (f"   {note}" if note else ""))

    row("Σ w·x", e.terms.sum(axis=1))
    row("b", e.intercept)
    row("z", e.z, "= decision_function")
    if e.link == "sigmoid":
        row("a = σ(z)", e.a, f"= P(y = {e.classes[1]})")
    elif e.link == "ovr":
        row("a = σ(z)", e.a, "each one-vs-rest model's; predict_proba normalizes them to sum 1")
    else:
        row("a = softmax(z)", e.a, "= predict_proba")
    lines.append(f"  prediction: {e.prediction}" + (f" (a {'>' if e.z[0] > 0 else '<='} 0.5)" if binary else
                                                    " (the largest z)"))
    if e.y is None:
        lines.append("  (give the label y for the loss and the backward pass)")
        return "\n".join(lines)
    loss_text = ("L = -[y log a + (1 - y) log(1 - a)]" if binary else
                 "L = -log a_y" if e.link == "softmax" else "L = Σ_k L_k (one binary loss per class)")
    lines.append(f"  loss: {loss_text} = {_num(e.loss)} with y = {e.y}")
    lines.append("backward: dz = a - y, db = dz, dw_j = x_j·dz" if binary else
                 "backward: dz_k = a_k - [y = k], db_k = dz_k, dw_jk = x_j·dz_k")
    row("dz", e.dz)
    row("db", e.db)
    return "\n".join(lines)
