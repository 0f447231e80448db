"""Errors and warnings that logitgd raises on purpose."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceError(RuntimeError):
    """A fixed learning rate made the cost blow up; no coefficients were kept."""


class SeparationWarning(ConvergenceWarning):
    """The classes are (quasi-)separable: the unpenalized MLE does not exist."""


class DataError(ValueError):
    """Input data that cannot be used, with a message naming what is wrong."""


class ModelFileError(ValueError):
    """A model file that is corrupted, truncated or not a logitgd model."""


class DaskFitError(RuntimeError):
    """Dask could not finish a pass over the data (for example: workers kept dying)."""


class InferenceError(ValueError):
    """A summary that would not be valid (L1 selection, singular information, missing data); the message says why."""


__all__ = ["ConvergenceWarning", "DaskFitError", "DataError", "DivergenceError", "InferenceError", "ModelFileError",
           "SeparationWarning"]
