"""The choices of a cross-validation: the best mean score and glmnet's one-standard-error rule.

One function, read by ``LogisticRegressionCV`` (its choice), the plots and the command line (their marks).
"""

from __future__ import annotations

import numpy as np


def cv_selections(cv_results):
    """``(index of the best mean score, index of the 1-SE choice)`` in ``cv_results`` (a LogisticRegressionCV's
    ``cv_results_``): the 1-SE choice is the largest alpha, at the best entry's l1_ratio, whose mean score is
    within one standard error (the best entry's) of the best."""
    mean = np.asarray(cv_results["mean_score"], dtype=np.float64)
    alpha = np.asarray(cv_results["alpha"], dtype=np.float64)
    ratio = np.asarray(cv_results["l1_ratio"], dtype=np.float64)
    best = int(np.nanargmax(mean))
    same = (ratio == ratio[best]) & (mean >= mean[best] - float(cv_results["std_error"][best]))
    candidates = np.flatnonzero(same)
    return best, int(candidates[np.argmax(alpha[candidates])])
