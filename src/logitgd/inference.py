"""Statistical inference for a fitted model: information, sandwich, cluster sums, profile likelihood.

Everything that needs the data is a sum over rows (:mod:`logitgd.rows`), run
by the data's backend where the rows are (in memory, on a torch device, on
the Dask workers); what comes back is a few ``n_params x n_params`` matrices.
:func:`ingredients` gathers them at the fitted parameters; :func:`summarize`
turns them into a :class:`~logitgd.summary.Summary` for a covariance type.

Parametrization: the binary model's ``[(Intercept), coef...]``; with K > 2
classes the reference-class one of R's ``nnet::multinom`` and statsmodels'
``MNLogit``, ``beta_k - beta_0`` for ``k = 1..K-1`` (the softmax's
likelihood sees only these differences). Its information and scores are the
rows and columns of the full K-class ones that belong to classes 1..K-1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.stats

from . import rows as stats
from ._labels import feature_labels
from .exceptions import InferenceError
from .objective import LinearObjective, _sum
from .penalty import make_penalty
from .separation import lp_finding
from .summary import Summary

MAX_PARAMS = 4000
"""Most parameters (all classes' coefficients and intercepts) a summary forms the information for."""

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")
_LP_ENTRIES = 20_000_000


@dataclass
class Ingredients:
    """What a summary needs of the data, at the fitted parameters (all in the full K-class layout of theta).

    ``information`` is the observed information of the log-likelihood (the
    unnormalized Hessian of the summed loss), ``meat`` the sum of the
    per-row score outer products (HC0's meat); ``objective`` is the
    training data's objective when the data are at hand (None for a model
    read from a file), for profile intervals and cluster sums.
    """

    theta: np.ndarray
    n_classes: int
    d: int
    fit_intercept: bool
    information: np.ndarray
    meat: np.ndarray
    llf: float
    llnull: float
    nobs: int
    sw_sum: float
    separation: str | None = None
    separating: list = field(default_factory=list)
    firth: bool = False
    objective: LinearObjective | None = None

    def to_json(self):
        return {"n_classes": self.n_classes, "d": self.d, "fit_intercept": self.fit_intercept,
                "theta": self.theta.tolist(), "information": self.information.tolist(), "meat": self.meat.tolist(),
                "llf": self.llf, "llnull": self.llnull, "nobs": self.nobs, "sw_sum": self.sw_sum,
                "separation": self.separation, "separating": list(self.separating), "firth": self.firth}

    @classmethod
    def from_json(cls, entry):
        P = len(entry["theta"])
        values = {k: entry[k] for k in ("n_classes", "d", "fit_intercept", "llf", "llnull", "nobs", "sw_sum",
                                        "separation", "separating")}
        values["firth"] = bool(entry.get("firth", False))
        out = cls(theta=np.array(entry["theta"], dtype=np.float64),
                  information=np.array(entry["information"], dtype=np.float64).reshape(P, P),
                  meat=np.array(entry["meat"], dtype=np.float64).reshape(P, P), **values)
        if out.d + out.fit_intercept != P // max(out.n_classes, 1) or P % max(out.n_classes, 1):
            raise ValueError("the inference entry's sizes do not match")
        return out


def theta_of(model):
    """The full theta ``[W; b]`` (row by row) of a fitted model's ``coef_`` and ``intercept_``."""
    K = model.coef_.shape[0]
    theta = model.coef_.T if K > 1 else model.coef_[0][:, None]
    if model.fit_intercept:
        theta = np.vstack([theta, np.asarray(model.intercept_, dtype=np.float64)[None, :]])
    return np.ascontiguousarray(theta, dtype=np.float64).ravel()


def check_model(model):
    """Refuse models whose Wald table would not be valid, before any pass over the data."""
    if len(model.classes_) > 2 and model.multi_class == "ovr":
        raise InferenceError("summary() is for the likelihood of one model; multi_class='ovr' fits K separate "
                             "binary models. Fit with multi_class='multinomial' (or summarize each class-vs-rest "
                             "model fitted on its own).")
    penalty = make_penalty(model.penalty, model.alpha, model.l1_ratio)
    if getattr(model, "firth_intercept", None) == "flic":
        raise InferenceError("summary() of a FLIC fit is not available yet: its coefficients' standard errors and "
                             "intervals are those of the Firth fit; summarize LogisticRegression(penalty='firth').")
    if penalty.alpha > 0 and penalty.l1_ratio > 0:
        raise InferenceError(
            f"no Wald table for an L1 / elastic-net fit (penalty={model.penalty!r}, alpha={penalty.alpha:g}): its "
            "standard errors would ignore that the data chose the predictors (post-selection inference is not "
            "valid). Instead: refit the selected predictors with alpha=0 on data not used to select them (sample "
            "splitting), or use penalty='l2', or bootstrap the whole procedure.")
    if penalty.alpha > 0 and len(model.classes_) > 2:
        raise InferenceError("summary() of a penalized multinomial fit is not available: the ridge penalty is not "
                             "invariant to the reference-class parametrization. Fit with alpha=0, or two classes.")
    return penalty


def ingredients(objective, theta, stop_reason="", converged=True, firth=False):
    """:class:`Ingredients` of ``objective`` (the training data) at ``theta``: four passes over the rows.

    ``firth``: a fit of Firth's penalized likelihood. Its estimate exists under separation, as a
    ridge-penalized one does (``objective.penalty.alpha > 0``): neither is checked for it.
    """
    n_params = objective.n_params
    if n_params > MAX_PARAMS:
        raise InferenceError(f"the model has {n_params} parameters; summary() forms the {n_params} x {n_params} "
                             f"information matrix only up to MAX_PARAMS={MAX_PARAMS} parameters.")
    data, loss, fit_intercept = objective.data, objective.loss, objective.fit_intercept
    W, b = objective.split(theta)
    information = _sum(data.map(stats.hessian, loss, W, b, 1.0, fit_intercept))
    meat = _sum(data.map(stats.score_outer, loss, W, b, fit_intercept))
    llf = -float(objective._data_term(theta, want_grad=False)[0])
    llnull = -float(objective._data_term(objective.intercept_only(), want_grad=False)[0])
    nobs = int(sum(data.map(stats.positive_weights)))
    exists = firth or objective.penalty.alpha > 0
    kind, separating = (None, []) if exists else _separation(objective, theta, stop_reason, converged)
    return Ingredients(theta=np.asarray(theta, dtype=np.float64), n_classes=objective.n_classes, d=data.d,
                       fit_intercept=fit_intercept, information=np.asarray(information), meat=np.asarray(meat),
                       llf=llf, llnull=llnull, nobs=nobs, sw_sum=float(objective.sw_sum), separation=kind,
                       separating=separating, firth=firth, objective=objective)


def _separation(objective, theta, stop_reason, converged):
    """``(kind or None, indices of the separating predictors)``: the fit's finding, the margins, the LP.

    The LP runs for binary data with the rows in this process: always up to 2e6 entries (a second
    or less), and up to 2e7 where the MLE may not exist: the fit found separation, did not
    converge, or has saturated probabilities (a margin above 8). A fit that "converged" is no proof:
    along a separating direction the gradient vanishes too (Newton stops at tol=1e-8 with margins
    of about log(share / tol), 17 on quasi-separated data of 80 rows).
    """
    kind = next((k for k in ("quasi-complete", "complete") if stop_reason.startswith(k)), None)
    smallest, largest = objective.margin_range(theta)
    if kind is None and smallest > 0:
        kind = "complete"
    host = None
    entries = objective.n_samples * objective.n_params
    doubtful = kind is not None or not converged or largest > 8
    if objective.n_classes == 1 and (entries <= _LP_ENTRIES / 10 or doubtful and entries <= _LP_ENTRIES):
        host = objective.data.host_rows()
    if host is None:
        return kind, []
    X, y, sw = host
    found = lp_finding(X.toarray() if hasattr(X, "toarray") else np.asarray(X), np.asarray(y), sw,
                       objective.fit_intercept)
    return (kind, []) if found is None else (found.kind, found.columns)


def layout(ing, names, classes):
    """``(order, labels)``: the working parameters' indices in theta and their labels.

    Binary: ``(Intercept)`` first, then the features. K classes: for each
    class but the first, its intercept and features (labels ``(class, term)``).
    """
    d, K = ing.d, ing.n_classes
    terms = (["(Intercept)"] if ing.fit_intercept else []) + list(names)
    cols = ([d] if ing.fit_intercept else []) + list(range(d))
    if K == 1:
        return np.array(cols), terms
    order, labels = [], []
    for k in range(1, K):
        order += [j * K + k for j in cols]
        labels += [(classes[k], t) for t in terms]
    return np.array(order), labels


def reference_theta(ing):
    """theta with class 0's coefficients and intercept subtracted from every class's (K > 2), else theta."""
    if ing.n_classes == 1:
        return ing.theta.copy()
    T = ing.theta.reshape(-1, ing.n_classes)
    return (T - T[:, :1]).ravel()


def _inverse(A, labels):
    """Inverse of the symmetric information ``A``; an :class:`InferenceError` naming the columns if it is singular."""
    scale = np.sqrt(np.clip(np.diag(A), 0, None))
    zero = [labels[i] for i in np.flatnonzero(scale == 0)]
    if zero:
        raise InferenceError(f"the information matrix is singular: {_names(zero)} carry no information (a column "
                             "that is zero, or constant where the probabilities are 0 or 1, for every sample). "
                             "Drop it.")
    C = A / np.outer(scale, scale)
    vals, vecs = np.linalg.eigh(C)
    if vals[0] <= 1e-11 * vals[-1]:
        v = vecs[:, 0]
        involved = [labels[i] for i in np.flatnonzero(np.abs(v) > 0.05 * np.abs(v).max())]
        raise InferenceError(
            f"the information matrix is singular (condition number {vals[-1] / max(vals[0], 1e-300):.3g}): the "
            f"columns {_names(involved)} are collinear (a linear combination of them is constant on the data). "
            "Drop one of them, or use alpha > 0.")
    inv = np.linalg.inv(C) / np.outer(scale, scale)
    return (inv + inv.T) / 2


def _names(labels):
    return ", ".join(repr(lab if isinstance(lab, str) else f"{lab[0]}: {lab[1]}") for lab in labels)


def cluster_meat(ing, groups):
    """``(sum_g S_g S_gᵀ, number of groups)`` with ``S_g`` the score sums of the rows of group ``g``."""
    if ing.objective is None:
        raise InferenceError("cluster standard errors need the data: call model.summary(X, y, cov_type='cluster', "
                             "groups=...) with the training data.")
    obj = ing.objective
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != obj.data.n:
        raise InferenceError(f"groups must have one entry per row of the data ({obj.data.n}), got shape "
                             f"{groups.shape}.")
    try:
        found, codes = np.unique(groups, return_inverse=True)
    except TypeError as exc:
        raise InferenceError(f"groups cannot be compared to each other: {exc}") from None
    if found.dtype.kind == "f" and np.isnan(found).any():
        first = int(np.flatnonzero(groups != groups)[0])
        raise InferenceError(f"groups has missing values (NaN), first at row {first}.")
    G = found.shape[0]
    if G < 2:
        raise InferenceError("cluster standard errors need at least two groups.")
    W, b = obj.split(ing.theta)
    bounds = [int(o) for o in obj.data.offsets] + [obj.data.n]
    if any(a > b for a, b in zip(bounds, bounds[1:])) or (len(bounds) > 2 and bounds[1] == 0):
        raise InferenceError("cluster standard errors need to know which rows each partition holds, and the "
                             "partition sizes of this dask dataframe are not known: pass a dask array (or a "
                             "dataframe with known divisions and lengths), or compute the summary in memory.")
    per_part = [(codes[bounds[i]:bounds[i + 1]],) for i in range(len(bounds) - 1)]
    S = np.zeros((G, ing.theta.shape[0]))
    for part in obj.data.map(stats.cluster_score_sums, obj.loss, W, b, obj.fit_intercept, per_part=per_part):
        for ids, sums in part:
            np.add.at(S, ids, np.asarray(sums))
    return S.T @ S, G


def summarize(ing, model, *, cov_type="nonrobust", groups=None, level=0.95):
    """The :class:`Summary` of ``model`` from its :class:`Ingredients`."""
    if cov_type not in COV_TYPES:
        raise InferenceError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    if (cov_type == "cluster") != (groups is not None):
        raise InferenceError("cov_type='cluster' needs groups= (one group label per row), and groups= needs "
                             "cov_type='cluster'.")
    names = feature_labels(getattr(model, "feature_names_in_", None), ing.d)
    order, labels = layout(ing, names, model.classes_.tolist())
    params = reference_theta(ing)[order]
    k = order.shape[0]
    info = ing.information[np.ix_(order, order)]
    penalty = make_penalty(model.penalty, model.alpha, model.l1_ratio)
    ridge = penalty.alpha * (1 - penalty.l1_ratio) * ing.sw_sum if penalty.alpha > 0 else 0.0
    A = info.copy()
    if ridge:
        A[np.diag_indices(k)] += np.where(order < ing.d * ing.n_classes, ridge, 0.0)
    n_groups, edf = None, float(k)
    if ing.separation is not None:
        cov = np.full((k, k), np.nan)
    else:
        A_inv = _inverse(A, labels)
        if ridge:  # the effective number of parameters of the ridge fit
            edf = float(np.trace(A_inv @ info))
        if cov_type == "nonrobust":
            cov = A_inv @ info @ A_inv if ridge else A_inv
        else:
            if cov_type == "cluster":
                meat, n_groups = cluster_meat(ing, groups)
                meat = meat[np.ix_(order, order)]
                factor = n_groups / (n_groups - 1) * (ing.nobs - 1) / (ing.nobs - k)
            else:
                meat = ing.meat[np.ix_(order, order)]
                factor = ing.nobs / (ing.nobs - k) if cov_type == "HC1" else 1.0
            cov = factor * (A_inv @ meat @ A_inv)
        cov = (cov + cov.T) / 2
    n_const = (max(ing.n_classes - 1, 1)) if ing.fit_intercept else 0
    profile = None
    if ing.objective is not None and not ridge and ing.separation is None:
        def profile(level_, _ing=ing, _order=order, _cov=cov):
            if level_ is None:  # the likelihood-ratio tests of beta_j = 0
                return likelihood_ratio_tests(_ing, _order)
            return profile_intervals(_ing, _order, np.sqrt(np.diag(_cov)), level_)
    return Summary(labels=labels, params=params, cov_params=cov, level=level, cov_type=cov_type,
                   n_groups=n_groups, llf=ing.llf, llnull=ing.llnull, nobs=ing.nobs, df_model=edf - n_const,
                   df_null=ing.nobs - n_const, n_params=edf, alpha=penalty.alpha,
                   separation=ing.separation, separating=[names[j] for j in ing.separating],
                   converged=bool(getattr(model, "converged_", True)), classes=model.classes_.tolist(), firth=ing.firth,
                   profile=profile)


# -- profile likelihood ----------------------------------------------------------------------------
def _maximize(obj, theta, free, tol):
    """Newton over the entries ``free`` of theta (the others held): ``(theta, mean loss, gradient)``.

    Stops when the Newton decrement says the summed log-likelihood is within ``tol`` of its maximum.
    """
    f, g = obj.value_and_grad(theta)
    for _ in range(100):
        gF = g[free]
        H = obj.hessian(theta)[np.ix_(free, free)]
        try:
            step = scipy.linalg.solve(H, gF, assume_a="pos")
        except (np.linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(H, gF, rcond=None)[0]
        decrement = float(gF @ step)
        if decrement / 2 * obj.sw_sum <= tol:
            break
        t = 1.0
        while t > 1e-12:
            cand = theta.copy()
            cand[free] -= t * step
            fc, gc = obj.value_and_grad(cand)
            if fc <= f - 1e-4 * t * decrement:
                break
            t /= 2
        else:
            break
        theta, f, g = cand, fc, gc
    return theta, f, g


def _profile_objective(ing, order, tol):
    """``(objective, theta_hat, f_hat)``: the (penalized, for Firth) objective and its maximum over ``order``."""
    obj = LinearObjective(ing.objective.data, None, ing.fit_intercept)
    if ing.firth:
        obj = _FirthView(obj)
    theta_hat, f_hat, _ = _maximize(obj, reference_theta(ing), order, tol)
    return obj, theta_hat, f_hat


def likelihood_ratio_tests(ing, order, tol=1e-13):
    """``2 (llf_max - llf_j(0))`` per working parameter, by a constrained refit with ``beta_j = 0`` each.

    For a Firth fit, the penalized likelihood's (logistf's default tests), valid under separation.
    """
    obj, theta_hat, f_hat = _profile_objective(ing, order, tol)
    stats_ = np.empty(len(order))
    for i, j in enumerate(order):
        theta = theta_hat.copy()
        theta[j] = 0.0
        _, f, _ = _maximize(obj, theta, np.delete(order, i), tol)
        stats_[i] = max(2 * obj.sw_sum * (f - f_hat), 0.0)
    return stats_


def profile_intervals(ing, order, bse, level, tol=1e-13):
    """``(lower, upper)`` per working parameter: where the profile log-likelihood is chi2(1, level) / 2 below the max.

    Each bound is a root of the signed root deviance ``r(c) = sign(c - beta_j) sqrt(2 (llf_max - llf_j(c)))``
    at ``±sqrt(chi2(1, level))``, found by Newton's method on ``c`` (``dr/dc = ∂llf/∂beta_j / -r``, the score
    at the constrained optimum) with bisection as a safeguard. ``llf_j(c)`` is a constrained refit that
    follows the profile from the estimate (:func:`_follow`): Firth's penalized likelihood need not be
    concave, and on separated data its constrained maxima form several branches; the bound is the first
    crossing on the branch through the estimate. A profile that never falls that far gives an infinite bound.
    """
    z = float(np.sqrt(scipy.stats.chi2.ppf(level, 1)))
    obj, theta_hat, f_hat = _profile_objective(ing, order, tol)
    lower, upper = np.empty(len(order)), np.empty(len(order))
    for i, j in enumerate(order):
        free = np.delete(order, i)
        for side, out in ((-1, lower), (1, upper)):
            out[i] = _bound(obj, theta_hat, f_hat, j, free, side * z, bse[i], tol)
    failed = np.flatnonzero(np.isnan(lower) | np.isnan(upper))
    if failed.size:
        warnings.warn(f"the profile-likelihood bounds of parameters {failed.tolist()} (in the table's order) were "
                      "not found: the constrained refits did not settle (NaN in the interval).", RuntimeWarning,
                      stacklevel=3)
    return lower, upper


def _follow(obj, start, c, j, free, tol):
    """The constrained maximum at ``theta_j = c`` on the branch through ``start`` (a constrained maximum itself).

    A predictor step along the branch's tangent (``d theta_free / d c = -H_ff⁻¹ H_fj``), then Newton. The
    refit is on the same branch when Newton moved less than one unit of the information's metric from the
    prediction; otherwise ``None`` (the caller shortens the step).
    """
    H = obj.hessian(start)
    tangent = np.linalg.lstsq(H[np.ix_(free, free)], H[free, j], rcond=None)[0]
    guess = start.copy()
    guess[j] = c
    guess[free] -= (c - start[j]) * tangent
    theta, f, g = _maximize(obj, guess, free, tol)
    moved = theta[free] - guess[free]
    if obj.sw_sum * float(moved @ H[np.ix_(free, free)] @ moved) > 1.0:
        return None
    return theta, f, g


def _bound(obj, theta_hat, f_hat, j, free, target, se, tol):
    beta, sw = theta_hat[j], obj.sw_sum
    step0 = abs(target) * (se if np.isfinite(se) and se > 0 else 1.0)
    inside, at_inside, outside = beta, theta_hat, None  # c values with r(c) short of / past the target
    c = beta + np.sign(target) * step0
    for _ in range(200):
        refit = _follow(obj, at_inside, c, j, free, tol)
        if refit is None:  # another branch: halve the step from the last point short of the target
            if abs(c - inside) <= 1e-8 * step0:
                return np.nan
            c = inside + (c - inside) / 2
            continue
        theta, f, g = refit
        D = max(2 * sw * (f - f_hat), 0.0)
        r = np.sign(c - beta) * np.sqrt(D)
        if abs(r - target) <= 1e-10:
            return c
        if abs(r) < abs(target):
            inside, at_inside = c, theta
        else:
            outside = c
        slope = sw * g[j] / r if r != 0 else 0.0
        new = c + (target - r) / slope if slope > 0 else np.nan
        if outside is None:
            if not np.isfinite(new) or abs(new - beta) <= abs(c - beta):
                new = beta + 2 * (c - beta)  # flat: step out
            if abs(new - beta) > 1e6 * step0:
                return np.sign(target) * np.inf
        elif not (min(inside, outside) < new < max(inside, outside)):
            new = (inside + outside) / 2
        c = new
    return np.nan


class _FirthView:
    """Firth's penalized objective with the interface :func:`_maximize` uses (the last evaluation kept)."""

    def __init__(self, objective):
        self.objective, self.sw_sum, self._last = objective, objective.sw_sum, None

    def _at(self, theta):
        if self._last is None or not np.array_equal(self._last[0], theta):
            self._last = (theta.copy(), self.objective.firth(theta))
        return self._last[1]

    def value_and_grad(self, theta):
        f, g, _ = self._at(theta)
        return f, g

    def hessian(self, theta):
        return self._at(theta)[2] / self.sw_sum
