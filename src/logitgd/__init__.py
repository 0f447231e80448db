"""logitgd: logistic regression trained by gradient descent.

>>> from logitgd import LogisticRegression
>>> model = LogisticRegression(alpha=1e-4).fit(X, y)   # doctest: +SKIP

The names below are imported when first used (PEP 562), so that ``logitgd --version`` and ``--help`` start
without the numeric stack.
"""

from __future__ import annotations

import importlib

from ._version import __version__

#: each public name and the module that defines it
_WHERE = {
    "LogisticRegression": ".estimator", "LogisticRegressionCV": ".cv", "RegularizationPath": ".path",
    "regularization_path": ".path", "load": ".persistence", "save": ".persistence",
    "DaskFitError": ".exceptions", "DataError": ".exceptions", "DivergenceError": ".exceptions",
    "ModelFileError": ".exceptions", "SeparationWarning": ".exceptions",
}

__all__ = ["DaskFitError", "DataError", "DivergenceError", "LogisticRegression", "LogisticRegressionCV",
           "ModelFileError", "RegularizationPath", "SeparationWarning", "load", "regularization_path", "save",
           "__version__"]


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value  # once: later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'logitgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
