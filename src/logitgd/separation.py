"""Detecting (quasi-)separation, where the unpenalized MLE does not exist.

With signs ``s_i = 2 y_i - 1`` and rows ``x̃_i = [x_i, 1]``, the data are
*separated* if some ``beta != 0`` has ``s_i x̃_i·beta >= 0`` for every sample,
strictly for at least one (Albert & Anderson, 1984). Then the log-likelihood
keeps rising along ``beta`` and gradient descent only inflates the
coefficients. Two checks, cheap first:

* complete separation is certified by the current iterate itself: if every
  margin ``s_i z_i`` is positive, the current hyperplane separates the data;
* otherwise linear programs decide (see :func:`separation_kind`). They run
  only once probabilities start to saturate, and only on data small enough
  for them (``max_lp_entries``).

With K classes (softmax) the margin of a sample is its own class's score
minus the best other class's score; all margins positive is again complete
separation (the scores can be scaled up for ever). The LP test for the
quasi-complete case is binary only: a multinomial fit on quasi-separated
data runs to ``max_iter`` and says so.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize


def separation_kind(X, y, sample_weight=None, fit_intercept=True):
    """Decide by linear programming whether the classes are separated: ``"complete"``, ``"quasi-complete"`` or None.

    See :func:`separating_direction`, which also gives the direction.
    """
    return separating_direction(X, y, sample_weight, fit_intercept)[0]


def separating_direction(X, y, sample_weight=None, fit_intercept=True):
    """Decide by linear programming whether the classes are separated, and along which direction.

    Two small LPs on the rows ``a_i = s_i x̃_i`` (columns scaled to max-abs 1),
    with ``-1 <= beta <= 1``:

    * complete separation: maximize ``t`` subject to ``a_i·beta >= t``; an
      optimum ``t > 0`` is a hyperplane with every sample strictly on its side;
    * quasi-complete separation (Konis, 2007): maximize ``sum_i a_i·beta``
      subject to ``a_i·beta >= 0``; a positive optimum is a direction along
      which the likelihood rises for ever.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), values in {0, 1}
    sample_weight : ndarray of shape (n_samples,) or None
        Samples with zero weight are left out.
    fit_intercept : bool

    Returns
    -------
    kind : {"complete", "quasi-complete"} or None
    direction : ndarray of shape (n_features + fit_intercept,) or None
        A ``beta`` (in X's units, the intercept last) along which the
        likelihood keeps rising; its nonzero entries name the separating
        predictors.
    """
    X = np.asarray(X, dtype=np.float64)
    keep = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
    A = X[keep]
    if fit_intercept:
        A = np.hstack([A, np.ones((A.shape[0], 1))])
    A = A * (2.0 * np.asarray(y, dtype=np.float64)[keep] - 1.0)[:, None]
    scale = np.max(np.abs(A), axis=0)
    scale[scale == 0] = 1.0
    A = A / scale
    n, p = A.shape
    # max t  s.t.  -A beta + t <= 0, beta in [-1, 1], t <= 1
    c = np.zeros(p + 1)
    c[-1] = -1.0
    res = scipy.optimize.linprog(c, A_ub=np.hstack([-A, np.ones((n, 1))]), b_ub=np.zeros(n),
                                 bounds=[(-1, 1)] * p + [(None, 1)], method="highs")
    if res.status == 0 and -res.fun > 1e-7:
        # the sparsest-looking separating direction names the predictors: min ||beta||_1 s.t. A beta >= 1
        # (the intercept free of charge), with beta = u - v, u, v >= 0
        cost = np.ones(p)
        if fit_intercept:
            cost[-1] = 0.0
        sparse = scipy.optimize.linprog(np.r_[cost, cost], A_ub=-np.hstack([A, -A]), b_ub=-np.ones(n),
                                        bounds=(0, None), method="highs")
        beta = sparse.x[:p] - sparse.x[p:] if sparse.status == 0 else res.x[:-1]
        return "complete", beta / scale
    # max sum(A beta)  s.t.  A beta >= 0, beta in [-1, 1]
    res = scipy.optimize.linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(n), bounds=(-1, 1),
                                 method="highs")
    if res.status == 0 and -res.fun > 1e-6 and (A @ res.x).min() > -1e-9:
        return "quasi-complete", res.x / scale
    return None, None


class SeparationMonitor:
    """Watches an unpenalized fit; says when the data turn out separated.

    Call it with the parameters in the original coordinates and the
    iteration number; it checks at iterations 10, 20, 40, 80, ... (by
    default) and returns True once separation is established. ``kind`` is then ``"complete"`` or
    ``"quasi-complete"``.

    Parameters
    ----------
    objective : LinearObjective
    saturation : float
        A margin ``s_i z_i`` above this (a probability within about
        ``exp(-saturation)`` of its label) triggers the LP.
    max_lp_entries : int
        Largest ``n_samples * n_params`` on which the LP is run.
    first_check : int
        First iteration to look at.
    every : bool
        Look at every iteration from ``first_check`` on, instead of at
        ``first_check`` times powers of two.
    """

    def __init__(self, objective, saturation=20.0, max_lp_entries=20_000_000, first_check=10, every=False):
        self.objective = objective
        self._every = every
        self.saturation = saturation
        self.max_lp_entries = max_lp_entries
        self.kind = None
        self._next_check = first_check
        self._lp_done = False
        self._multi = objective.n_classes > 1

    def __call__(self, theta, iteration):
        if iteration < self._next_check:
            return False
        self._next_check = iteration + 1 if self._every else 2 * self._next_check
        obj = self.objective
        smallest, largest = obj.margin_range(theta)
        if smallest > 0:
            self.kind = "complete"
            return True
        # The LP test (quasi-complete separation) is for two classes, with all rows in one place.
        if (not self._multi and not self._lp_done and largest > self.saturation
                and obj.n_samples * obj.n_params <= self.max_lp_entries):
            self._lp_done = True
            host = obj.data.host_rows()
            if host is None:  # the rows are spread over a cluster
                return False
            X, y, sw = host
            X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
            self.kind = separation_kind(X, y, sw, obj.fit_intercept)
            return self.kind is not None
        return False
