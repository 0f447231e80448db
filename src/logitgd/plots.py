"""Plots with matplotlib (imported here only, with the file-only Agg backend)."""

from __future__ import annotations

import numpy as np


def plot_cost_curve(loss_history, path, title="Cost over iterations"):
    """Save the cost J per iteration as a PNG.

    Parameters
    ----------
    loss_history : array-like of shape (n_iter + 1,)
    path : str or path-like
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cost = np.asarray(loss_history, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(np.arange(len(cost)), cost, lw=1.5)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J (mean log-loss + penalty)")
    ax.set_title(title)
    if len(cost) > 1 and cost.min() > 0 and cost.max() / cost.min() > 20:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
