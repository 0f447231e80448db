"""The result of ``LogisticRegression.summary()``: the coefficient table and the fit statistics.

Computed by :mod:`logitgd.inference`; this module only holds and prints the
numbers. pandas is imported where a DataFrame is asked for.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from .exceptions import InferenceError

_COV_NAMES = {
    "nonrobust": "model-based (inverse observed information)",
    "HC0": "sandwich HC0 (robust to misspecification)",
    "HC1": "sandwich HC1 (HC0 x n / (n - k))",
    "cluster": "cluster-robust, {g} groups (x G/(G-1) x (n-1)/(n-k))",
}


class Summary:
    """Coefficients, standard errors, tests and intervals of a fitted logistic regression.

    Attributes
    ----------
    labels : list
        Parameter names: ``"(Intercept)"`` and the feature names; with K > 2
        classes ``(class, term)`` pairs for every class but the first (the
        reference class).
    params, bse, zvalues, pvalues : ndarray of shape (k,)
        Estimates, standard errors, Wald z statistics and their two-sided p-values.
    cov_params : ndarray of shape (k, k)
        The covariance of ``params`` of type ``cov_type``.
    llf, llnull : float
        Log-likelihood of the model and of the intercept-only model.
    deviance, null_deviance : float
        ``-2 llf`` and ``-2 llnull`` (0/1 responses: the saturated model's log-likelihood is 0).
    nobs : int
        Rows with positive weight.
    df_model, df_resid, df_null : float
        Parameters besides the intercepts (for an L2 fit, the effective number
        ``trace((I + Λ)⁻¹ I)``), ``nobs - k`` and ``nobs`` minus the intercepts.
    aic, bic, prsquared, llr, llr_pvalue : float
        ``-2 llf + 2k``, ``-2 llf + k log(nobs)``, McFadden's ``1 - llf / llnull``,
        the likelihood-ratio statistic against the intercept-only model and its p-value.
    separation : {"complete", "quasi-complete"} or None
        Set when the maximum-likelihood estimate does not exist; standard
        errors, tests and intervals are then NaN.
    """

    def __init__(self, *, labels, params, cov_params, level, cov_type, n_groups, llf, llnull, nobs, df_model,
                 df_null, n_params, alpha, separation, separating, converged, classes, profile,
                 firth=False):
        self.labels = labels
        self.params = params
        self.cov_params = cov_params
        self.level = level
        self.cov_type = cov_type
        self.n_groups = n_groups
        self.llf, self.llnull, self.nobs = llf, llnull, nobs
        self.df_model, self.df_null = df_model, df_null
        self.df_resid = nobs - n_params
        self.alpha = alpha
        self.separation, self.separating = separation, separating
        self.converged = converged
        self.firth = firth
        self.classes = classes
        self._profile = profile
        self._profile_cache = {}
        self.bse = np.sqrt(np.diag(cov_params))
        self.zvalues = params / self.bse
        self.pvalues = 2 * scipy.stats.norm.sf(np.abs(self.zvalues))
        self.deviance, self.null_deviance = -2 * llf, -2 * llnull
        self.aic = -2 * llf + 2 * n_params
        self.bic = -2 * llf + np.log(nobs) * n_params
        self.prsquared = 1 - llf / llnull if llnull != 0 else np.nan
        self.llr = 2 * (llf - llnull)
        self.llr_pvalue = float(scipy.stats.chi2.sf(self.llr, self.df_model)) if self.df_model > 0 else np.nan

    def conf_int(self, level=None, method="wald"):
        """``(k, 2)`` array of interval bounds, at ``level`` (default: the summary's).

        ``"wald"``: ``params ± z bse``. ``"profile"``: where the profile
        log-likelihood is within ``chi2(1, level) / 2`` of its maximum, by a
        constrained refit per bound (R's ``confint()`` for a glm); needs the
        data (the model as fitted, or ``summary(X, y)``), for unpenalized fits.
        """
        level = self.level if level is None else level
        if not 0 < level < 1:
            raise InferenceError(f"level must be in (0, 1), got {level!r}.")
        if method == "wald":
            q = scipy.stats.norm.ppf(0.5 + level / 2)
            return np.column_stack([self.params - q * self.bse, self.params + q * self.bse])
        if method != "profile":
            raise InferenceError(f"method must be 'wald' or 'profile', got {method!r}.")
        if self.separation is not None:
            return np.full((len(self.params), 2), np.nan)
        if self._profile is None:
            why = ("an L2-penalized fit has no likelihood profile to invert" if self.alpha > 0 else
                   "they refit the model, and need its data: call model.summary(X, y) with the training data")
            raise InferenceError(f"no profile-likelihood intervals: {why}.")
        if level not in self._profile_cache:
            self._profile_cache[level] = np.column_stack(self._profile(level))
        return self._profile_cache[level]

    @property
    def refits(self):
        """Whether profile intervals and LR tests can be computed here (the data are at hand; not an L2 fit)."""
        return self._profile is not None

    def lr_tests(self):
        """DataFrame of likelihood-ratio tests of each parameter being 0: ``chi2`` (1 df) and ``p_value``.

        One constrained refit per parameter (needs the data, as profile intervals do). For a Firth fit
        these are the penalized likelihood-ratio tests that R's logistf reports, valid under separation.
        """
        if self._profile is None:
            raise InferenceError("no likelihood-ratio tests: they refit the model, and need its data (call "
                                 "model.summary(X, y)), for unpenalized or Firth fits.")
        if "lr" not in self._profile_cache and self.separation is not None:  # no maximum to test against
            self._profile_cache["lr"] = (np.full(len(self.params), np.nan),) * 2
        if "lr" not in self._profile_cache:
            chi2 = self._profile(None)
            self._profile_cache["lr"] = (chi2, scipy.stats.chi2.sf(chi2, 1))
        chi2, p = self._profile_cache["lr"]
        return self._frame({"chi2": chi2, "p_value": p})

    def odds_ratios(self, level=None, method="wald"):
        """DataFrame of ``exp(params)`` and the exponentiated interval bounds."""
        ci = np.exp(self.conf_int(level, method))
        return self._frame({"odds_ratio": np.exp(self.params), "lower": ci[:, 0], "upper": ci[:, 1]})

    def to_frame(self, conf_int="wald", tests="wald"):
        """DataFrame, one row per parameter: estimate, std. error, test, p, interval and odds ratio (with its interval).

        ``tests="wald"``: the columns ``z`` and ``p_value`` (Wald); ``"lr"``: ``chi2`` and ``p_value`` of
        :meth:`lr_tests` (for a Firth fit, logistf's penalized likelihood-ratio tests).
        """
        ci = self.conf_int(method=conf_int)
        stat, p = self._tests(tests)
        return self._frame({"coef": self.params, "std_err": self.bse, "z" if tests == "wald" else "chi2": stat,
                            "p_value": p, "ci_lower": ci[:, 0], "ci_upper": ci[:, 1], "odds_ratio": np.exp(self.params),
                            "or_lower": np.exp(ci[:, 0]), "or_upper": np.exp(ci[:, 1])})

    def _tests(self, tests):
        if tests == "wald":
            return self.zvalues, self.pvalues
        if tests != "lr":
            raise InferenceError(f"tests must be 'wald' or 'lr', got {tests!r}.")
        found = self.lr_tests()
        return found["chi2"].to_numpy(), found["p_value"].to_numpy()

    def _frame(self, columns):
        import pandas as pd

        if self.labels and isinstance(self.labels[0], tuple):
            index = pd.MultiIndex.from_tuples(self.labels, names=["class", "term"])
        else:
            index = pd.Index(self.labels, name="term")
        return pd.DataFrame(columns, index=index)

    # -- the text table -----------------------------------------------------------------------------
    def as_text(self, conf_int="wald", tests="wald"):
        """The table of ``print(summary)``, in the spirit of R's ``summary.glm``.

        ``conf_int``: ``"wald"`` or ``"profile"`` intervals; ``tests``: ``"wald"`` (z and Pr(>|z|)) or
        ``"lr"`` (likelihood-ratio Chisq and Pr(>Chisq), one refit per parameter). For a Firth fit,
        ``as_text("profile", "lr")`` is R's logistf table: the inference that stays valid under separation.
        """
        lines = [f"Logistic regression ({'binary' if len(self.classes) == 2 else 'multinomial'}): "
                 f"{self.nobs} observations, {len(self.params)} parameters"]
        if len(self.classes) == 2:
            lines.append(f"Modelled: P(y = {self.classes[1]!r}) against {self.classes[0]!r}")
        else:
            lines.append(f"Reference class: {self.classes[0]!r} (coefficients are log odds against it)")
        if self.alpha > 0:
            lines.append(f"L2 penalty alpha = {self.alpha:g}: the covariance is the penalized estimator's "
                         "(I + Λ)⁻¹ I (I + Λ)⁻¹; tests and intervals are conditional on alpha "
                         "(alpha was not estimated from these data, or they ignore that it was).")
        if self.firth:
            lines.append("Firth's penalized likelihood (Jeffreys prior): standard errors from the information at the "
                         "estimate; profile intervals and LR tests from the penalized likelihood (as R's logistf: "
                         "as_text('profile', 'lr'), the ones valid under separation); llf, deviance, AIC and the LR "
                         "test against the intercept-only model are the unpenalized likelihood's at this estimate.")
        if not self.converged:
            lines.append("WARNING: the fit did not converge; the table is at its last iterate, not the optimum.")
        lines.append("")
        if self.separation is not None:
            who = f" by {', '.join(map(repr, self.separating))}" if self.separating else ""
            lines += [f"The classes are {self.separation}ly separated{who}: the maximum-likelihood estimate does not",
                      "exist (the log-likelihood keeps rising as some coefficients grow), so no standard errors,",
                      "tests or intervals are shown: they would be meaningless. The coefficients below are a point",
                      "on the way to infinity. Fit with penalty='firth' (Firth's bias reduction, finite under",
                      "separation, with profile penalized-likelihood intervals), or alpha > 0 (an L2 penalty).", ""]
            table = [("", "Estimate")] + [(self._label(i), f"{v:.6g}") for i, v in enumerate(self.params)]
            lines += self._columns(table)
        else:
            cov = _COV_NAMES[self.cov_type].format(g=self.n_groups)
            ci = self.conf_int(method=conf_int)
            stat, p = self._tests(tests)
            pct = f"{100 * self.level:g}%"
            kind = "Wald z tests" if tests == "wald" else "likelihood-ratio tests"
            lines.append(f"Coefficients (standard errors: {cov}; {kind}; {pct} {conf_int} intervals):")
            head = ("", "Estimate", "Std. Error", *(("z value", "Pr(>|z|)") if tests == "wald" else
                                                   ("Chisq", "Pr(>Chisq)")), "", f"{pct} lower", "upper",
                    "Odds ratio", "OR lower", "OR upper")
            rows = [head]
            for i, v in enumerate(self.params):
                rows.append((self._label(i), f"{v:.6g}", f"{self.bse[i]:.4g}", f"{stat[i]:.3f}",
                             _pformat(p[i]), _stars(p[i]), f"{ci[i, 0]:.5g}", f"{ci[i, 1]:.5g}",
                             f"{np.exp(v):.4g}", f"{np.exp(ci[i, 0]):.4g}", f"{np.exp(ci[i, 1]):.4g}"))
            lines += self._columns(rows)
            lines.append("---")
            lines.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        lines += ["",
                  f"    Null deviance: {self.null_deviance:.6g}  on {self.df_null:g}  degrees of freedom",
                  f"Residual deviance: {self.deviance:.6g}  on {self.df_resid:.6g}  degrees of freedom",
                  f"AIC: {self.aic:.6g}   BIC: {self.bic:.6g}   Log-likelihood: {self.llf:.6g}",
                  f"McFadden pseudo R-squared: {self.prsquared:.4f}   LR test against the intercept-only model: "
                  f"chi2 = {self.llr:.5g} on {self.df_model:.6g} df, p = {_pformat(self.llr_pvalue)}"]
        return "\n".join(lines)

    def __str__(self):
        return self.as_text()

    def __repr__(self):
        return f"<logitgd Summary: {len(self.params)} parameters, cov_type={self.cov_type!r}>"

    def _label(self, i):
        lab = self.labels[i]
        return lab if isinstance(lab, str) else f"{lab[0]}: {lab[1]}"

    @staticmethod
    def _columns(rows):
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        return ["  ".join(v.ljust(w) if c == 0 or c == 5 else v.rjust(w) for c, (v, w) in
                          enumerate(zip(r, widths))).rstrip() for r in rows]


def _pformat(p):
    if not np.isfinite(p):
        return "NA"
    return "<2e-16" if p < 2e-16 else f"{p:.3g}"


def _stars(p):
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""
