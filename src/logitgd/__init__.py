"""logitgd: logistic regression trained by gradient descent.

>>> from logitgd import LogisticRegression
>>> model = LogisticRegression(alpha=1e-4).fit(X, y)   # doctest: +SKIP
"""

from ._version import __version__
from .estimator import LogisticRegression
from .exceptions import DaskFitError, DataError, DivergenceError, ModelFileError, SeparationWarning
from .persistence import load, save

__all__ = ["DaskFitError", "DataError", "DivergenceError", "LogisticRegression", "ModelFileError",
           "SeparationWarning", "load", "save", "__version__"]
