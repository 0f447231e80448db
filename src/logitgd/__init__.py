"""logitgd: logistic regression trained by gradient descent.

>>> from logitgd import LogisticRegression
>>> model = LogisticRegression(alpha=1e-4).fit(X, y)   # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from .estimator import LogisticRegression
from .exceptions import DaskFitError, DataError, DivergenceError, ModelFileError, SeparationWarning
from .persistence import load, save

try:
    __version__ = version("logitgd")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["DaskFitError", "DataError", "DivergenceError", "LogisticRegression", "ModelFileError",
           "SeparationWarning", "load", "save", "__version__"]
