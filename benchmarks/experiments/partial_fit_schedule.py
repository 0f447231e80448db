"""partial_fit against fit over the same passes (issue 19): the gap to f* after 20 passes over 10 pieces.

    python -m benchmarks.experiments.partial_fit_schedule [--rows 100000] [--features 20]

X has columns scaled from 1 to 10 (log-spaced), labels from a logistic model; L2 alpha = 1e-4; f* from
Newton at tol 1e-12. ``fit``: solver="sgd", 20 epochs (tol=None: all 20 run). ``partial_fit``: the rows in
10 pieces, 20 passes; the gap after passes 1, 5, 10 and 20.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import logitgd
from tests.glm_data import make_stream_problem  # the generator lives with the tests' data (they use it too)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--pieces", type=int, default=10)
    args = ap.parse_args(argv)
    n, d = args.rows, args.features
    X, y, gap = make_stream_problem(n, d)
    warnings.simplefilter("ignore")
    fitted = logitgd.LogisticRegression(solver="sgd", alpha=1e-4, max_iter=20, tol=None, random_state=0).fit(X, y)
    print(f"{n:,} x {d}, {args.pieces} pieces: fit, 20 epochs: gap {gap(fitted):.2e}")
    stream = logitgd.LogisticRegression(solver="sgd", alpha=1e-4, random_state=0)
    for p in range(1, 21):
        for piece in np.array_split(np.arange(n), args.pieces):
            stream.partial_fit(X[piece], y[piece], classes=[0.0, 1.0])
        if p in (1, 5, 10, 20):
            print(f"partial_fit, pass {p}: gap {gap(stream):.2e} (step {stream._sgd_state.eta:.2g})")


if __name__ == "__main__":
    main()
