"""Penalties on the coefficients (never on the intercept).

A penalty gives ``value(w)``, the gradient of its smooth part
``grad(w)``, and ``prox(w, step)``, the proximal operator
``argmin_u  penalty(u) + ||u - w||^2 / (2 step)``.
"""

from __future__ import annotations

import numpy as np


class NoPenalty:
    """The zero penalty: the fit is the maximum-likelihood estimate."""

    alpha = 0.0

    def value(self, w):
        return 0.0

    def grad(self, w):
        return np.zeros_like(w)

    def prox(self, w, step):
        return w

    def curvature(self):
        """Constant Hessian of the penalty, as a multiple of the identity."""
        return 0.0


class L2:
    """Ridge penalty ``alpha / 2 * ||w||^2``.

    Parameters
    ----------
    alpha : float >= 0
        Strength. With ``sample_weight=None`` this matches scikit-learn's
        ``LogisticRegression(C=1 / (n_samples * alpha))``.
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, w):
        return 0.5 * self.alpha * float(w @ w)

    def grad(self, w):
        return self.alpha * w

    def prox(self, w, step):
        return w / (1.0 + step * self.alpha)

    def curvature(self):
        return self.alpha


def make_penalty(penalty, alpha):
    """Penalty object from the estimator's ``penalty`` and ``alpha``."""
    if penalty is None or alpha == 0:
        return NoPenalty()
    if penalty == "l2":
        return L2(alpha)
    raise ValueError(f"penalty={penalty!r} is not supported; expected 'l2' or None.")
