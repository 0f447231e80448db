"""What every plot shares: a figure of its own (no pyplot state, no backend switched), and the file written
atomically in the format its suffix names."""

from __future__ import annotations

import os

import numpy as np

from .._files import write_atomically

#: the image formats a plot is written in, by the file's suffix
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def file_format(path):
    """The format that ``path``'s suffix names (``"png"``, ``"svg"``, ``"pdf"``); ValueError for any other."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"{os.fspath(path)}: a plot is written as .png, .svg or .pdf, chosen by the file's suffix; "
                         f"got {suffix or 'no suffix'!r}.")
    return FORMATS[suffix]


def new_figure(width=6.4, height=4.6, ax=None, **subplots):
    """``(figure, axes)``: ``ax``'s figure and ``ax`` when given, else a new figure (not registered with pyplot,
    so it neither shows nor leaks; it renders in a notebook and saves to any format) and its axes."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # a renderer, for text sizes before the figure is saved
    return fig, fig.subplots(**subplots)


def save(fig, path):
    """Write ``fig`` to ``path`` in the format of its suffix, atomically (a temporary file next to it, renamed):
    a failed write leaves the previous file as it was. Returns the path, as a str."""
    fmt = file_format(path)
    # no creation date in SVG and PDF files: the same plot gives the same bytes
    metadata = {"Date": None} if fmt == "svg" else ({"CreationDate": None} if fmt == "pdf" else None)
    return write_atomically(path, lambda fh: fig.savefig(fh, format=fmt, metadata=metadata),
                            suffix="." + fmt, binary=True)


def finish(fig, path):
    """``fig``, written to ``path`` first when one is given."""
    if path is not None:
        save(fig, path)
    return fig


def class_colors(n):
    """One colour per class (tab10, then tab20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(k % cmap.N) for k in range(n)]


def labels_and_proba(model, X, y):
    """``(y as an array, predicted probabilities (n, K), classes)`` of a fitted classifier on ``X``; y must hold
    only the model's classes."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    y = np.asarray(y)
    classes = np.asarray(model.classes_)
    if y.shape[0] != proba.shape[0]:
        raise ValueError(f"y has {y.shape[0]} labels for {proba.shape[0]} rows of X.")
    unknown = ~np.isin(y, classes)
    if unknown.any():
        raise ValueError(f"y holds labels the model was not fitted on (first: {y[unknown][0]!r}, row "
                         f"{int(np.flatnonzero(unknown)[0])}); the model's classes are {list(classes)}.")
    return y, proba, classes
