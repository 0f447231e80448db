"""Detecting (quasi-)separation, where the unpenalized MLE does not exist.

With signs ``s_i = 2 y_i - 1`` and rows ``x̃_i = [x_i, 1]``, the data are
*separated* if some ``beta != 0`` has ``s_i x̃_i·beta >= 0`` for every sample,
strictly for at least one (Albert & Anderson, 1984). Then the log-likelihood
keeps rising along ``beta`` and gradient descent only inflates the
coefficients. Two checks, cheap first:

* complete separation is certified by the current iterate itself: if every
  margin ``s_i z_i`` is positive, the current hyperplane separates the data;
* otherwise linear programs decide (see :func:`separation_kind`). They run
  once, when a probability starts to saturate (a margin above 8) or at the
  end of a fit that did not converge, and only on data small enough for them
  (``max_lp_entries``).

With K classes (softmax) the margin of a sample is its own class's score
minus the best other class's score; all margins positive is again complete
separation (the scores can be scaled up for ever). The LP test for the
quasi-complete case is binary only: a multinomial fit on quasi-separated
data runs to ``max_iter`` and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from . import rows as stats


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


@dataclass
class Finding:
    """What a separation check found, said no stronger than it was shown.

    ``kind``: ``"complete"`` or ``"quasi-complete"``. ``by_iterate``: the fit's own
    hyperplane separates the training rows (so ``coef_`` points along a separating
    direction); otherwise a linear program showed that some hyperplane does. ``columns``:
    the predictors the separating direction uses (indices; empty when the LP did not
    run). ``on_plane``: for quasi-complete separation, how many training rows lie on
    the separating plane (the rows whose probabilities stay away from 0 and 1).
    """

    kind: str
    by_iterate: bool = False
    columns: list = field(default_factory=list)
    on_plane: int | None = None
    n_rows: int | None = None

    def describe(self, names=None):
        """One sentence: what was found, through which columns, how many rows on the plane."""
        rows = f" {self.n_rows}" if self.n_rows is not None else ""
        if self.kind == "complete":
            what = (f"the fitted hyperplane puts each of the{rows} training rows strictly on its own class's side"
                    if self.by_iterate else
                    f"a linear program found a hyperplane that puts each of the{rows} training rows strictly on "
                    "its own class's side")
        else:
            plane = f" ({self.on_plane} on the plane)" if self.on_plane is not None else ""
            what = (f"a linear program found a hyperplane with each of the{rows} training rows on its own class's "
                    f"side or on the plane{plane}, and some strictly on a side")
        if self.columns:
            labels = [f"x{j}" if names is None else str(names[j]) for j in self.columns]
            what += f", through {', '.join(repr(n) for n in labels[:8])}" + (" and more" if len(labels) > 8 else "")
        return f"The classes are {self.kind}ly separated: {what}"


def lp_finding(X, y, sample_weight=None, fit_intercept=True):
    """:class:`Finding` of the linear programs over the rows (X dense), or None if the classes are not separated."""
    kind, direction = separating_direction(X, y, sample_weight, fit_intercept)
    if kind is None:
        return None
    keep = np.ones(X.shape[0], bool) if sample_weight is None else np.asarray(sample_weight) > 0
    scores = X[keep] @ direction[:X.shape[1]] + (direction[-1] if fit_intercept else 0.0)
    scale = np.max(np.abs(X[keep]), axis=0)  # over the rows that count, as separating_direction scales them
    weight = np.abs(direction[:X.shape[1]]) * scale  # each predictor's share of the separating scores
    columns = [int(j) for j in np.flatnonzero(weight > max(1e-7, 0.05 * weight.max(initial=0.0)))]
    on_plane = None
    if kind == "quasi-complete":
        size = np.abs(X[keep]) @ np.abs(direction[:X.shape[1]]) + (abs(direction[-1]) if fit_intercept else 0.0)
        on_plane = int(np.sum(np.abs(scores) <= 1e-7 * np.maximum(size, 1e-300)))
    return Finding(kind, columns=columns, on_plane=on_plane, n_rows=int(keep.sum()))


class SeparationMonitor:
    """Watches an unpenalized fit; says when the data turn out separated.

    Call it with the parameters in the original coordinates and the
    iteration number; it checks at iterations 10, 20, 40, 80, ... (by
    default) and returns True once separation is established: ``finding`` is then its
    :class:`Finding` (``kind``: ``"complete"`` or ``"quasi-complete"``). :meth:`finish` asks
    the linear programs at the end of a fit that did not converge, if they have not run.

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

    def __init__(self, objective, saturation=8.0, max_lp_entries=20_000_000, first_check=10, every=False):
        self.objective = objective
        self._every = every
        self.saturation = saturation
        self.max_lp_entries = max_lp_entries
        self.finding = None
        self._next_check = first_check
        self._lp_done = False
        self._multi = objective.n_classes > 1

    @property
    def kind(self):
        return None if self.finding is None else self.finding.kind

    def __call__(self, theta, iteration):
        if iteration < self._next_check:
            return False
        self._next_check = iteration + 1 if self._every else 2 * self._next_check
        smallest, largest = self.objective.margin_range(theta)
        if smallest > 0:
            self.finding = Finding("complete", by_iterate=True, n_rows=self._rows_with_weight())
            return True
        return largest > self.saturation and self._linear_programs()

    def _rows_with_weight(self):
        """Rows with a positive weight: the only ones the margins (and the message) speak of."""
        return int(sum(self.objective.data.map(stats.positive_weights)))

    def finish(self, theta):
        """At the end of a fit that did not converge: the LP, if it has not run (a slow fit may never saturate:
        gradient descent on quasi-separated data creeps towards infinity). True if the classes are separated."""
        if self.finding is None:
            if self.objective.margin_range(theta)[0] > 0:
                self.finding = Finding("complete", by_iterate=True, n_rows=self._rows_with_weight())
            else:
                self._linear_programs()
        return self.finding is not None

    def _linear_programs(self):
        """The LP test, once (the answer depends on the data only); for two classes, with all rows in one place."""
        obj = self.objective
        if self._multi or self._lp_done or obj.n_samples * obj.n_params > self.max_lp_entries:
            return False
        self._lp_done = True
        host = obj.data.host_rows()
        if host is None:  # the rows are spread over a cluster
            return False
        X, y, sw = host
        self.finding = lp_finding(X.toarray() if hasattr(X, "toarray") else np.asarray(X), y, sw, obj.fit_intercept)
        return self.finding is not None
