"""logitgd: logistic regression trained by gradient descent.

>>> from logitgd import LogisticRegression
>>> model = LogisticRegression(alpha=1e-4).fit(X, y)   # doctest: +SKIP
"""

from ._version import __version__
from .cv import LogisticRegressionCV
from .estimator import LogisticRegression
from .exceptions import DaskFitError, DataError, DivergenceError, ModelFileError, SeparationWarning
from .path import RegularizationPath, regularization_path
from .persistence import load, save

__all__ = ["DaskFitError", "DataError", "DivergenceError", "LogisticRegression", "LogisticRegressionCV",
           "ModelFileError", "RegularizationPath", "SeparationWarning", "load", "regularization_path", "save",
           "__version__"]
