"""Penalties on the coefficients (never on the intercept).

Every penalty is the elastic net

    P(w) = alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||²)

split into a smooth part (the ridge term) and a non-smooth part (the lasso
term). A penalty gives:

* ``value(w)``: P(w);
* ``smooth_value(w)``, ``smooth_grad(w)``: the ridge term and its gradient;
* ``nonsmooth_value(w)``: the lasso term;
* ``prox(w, step)``: the proximal operator of the lasso term,
  ``argmin_u  l1 * ||u||_1 + ||u - w||² / (2 step)`` — soft thresholding by
  ``step * alpha * l1_ratio`` (``step`` may be a vector, one step per coordinate);
* ``curvature()``: the constant Hessian of the smooth part, a multiple of I;
* ``is_smooth``: whether the lasso term is zero.
"""

from __future__ import annotations

import numpy as np

from ._defaults import default_alpha
from ._numerics import namespace


class ElasticNet:
    """``alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||²)``.

    Parameters
    ----------
    alpha : float >= 0
        Strength. With ``sample_weight=None``, ``l1_ratio=0`` matches
        scikit-learn's ``LogisticRegression(C=1 / (n_samples * alpha))``.
    l1_ratio : float in [0, 1]
        0 is ridge (L2), 1 is lasso (L1).
    """

    def __init__(self, alpha=0.0, l1_ratio=0.0):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.l1 = self.alpha * self.l1_ratio
        self.l2 = self.alpha * (1.0 - self.l1_ratio)

    @property
    def is_smooth(self):
        return self.l1 == 0

    def value(self, w):
        return self.smooth_value(w) + self.nonsmooth_value(w)

    def smooth_value(self, w):
        return 0.5 * self.l2 * float(w @ w) if self.l2 else 0.0

    def smooth_grad(self, w):
        return self.l2 * w

    def nonsmooth_value(self, w):
        return self.l1 * float(np.abs(w).sum()) if self.l1 else 0.0

    def prox(self, w, step):
        if not self.l1:
            return w
        xp = namespace(w)  # NumPy on the host, torch for the SGD epoch on a device
        return xp.sign(w) * xp.maximum(xp.abs(w) - step * self.l1, 0.0)

    def curvature(self):
        return self.l2

    def __repr__(self):
        return f"ElasticNet(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r})"


def NoPenalty():
    """The zero penalty: the fit is the maximum-likelihood estimate."""
    return ElasticNet(0.0, 0.0)


def L2(alpha):
    """Ridge penalty ``alpha / 2 * ||w||²``."""
    return ElasticNet(alpha, 0.0)


def L1(alpha):
    """Lasso penalty ``alpha * ||w||_1``."""
    return ElasticNet(alpha, 1.0)


PENALTIES = (None, "l2", "l1", "elasticnet", "firth")


def make_penalty(penalty, alpha, l1_ratio=None):
    """Penalty object from the estimator's ``penalty``, ``alpha`` (None: the default) and ``l1_ratio``."""
    alpha = default_alpha(penalty, alpha)
    if penalty == "firth":  # Jeffreys-prior penalty on the likelihood itself: the solver "firth" applies it
        if alpha != 0:
            raise ValueError(f"penalty='firth' takes no alpha (got alpha={alpha!r}): it penalizes by ½ log det I(β).")
        return NoPenalty()
    if penalty is None or alpha == 0:
        if penalty not in PENALTIES:
            raise ValueError(f"penalty={penalty!r} is not supported; expected one of {PENALTIES}.")
        return NoPenalty()
    if penalty == "l2":
        return L2(alpha)
    if penalty == "l1":
        return L1(alpha)
    if penalty == "elasticnet":
        if l1_ratio is None or not 0 <= l1_ratio <= 1:
            raise ValueError(f"penalty='elasticnet' needs l1_ratio in [0, 1], got {l1_ratio!r}.")
        return ElasticNet(alpha, l1_ratio)
    raise ValueError(f"penalty={penalty!r} is not supported; expected one of {PENALTIES}.")
