"""Whole-process times of the command line against a 10-line scikit-learn script (issue 19).

Run from the repository root::

    python -m benchmarks.bench_startup [--runs 15]

Cases, run interleaved (one of each per round, so that a busy moment hits all alike), each a fresh process:

* ``logitgd --version`` and ``logitgd --help``;
* ``logitgd fit breast_cancer.csv --target target`` (writes the model; prints the report);
* the scikit-learn script below on the same CSV: read it with pandas, standardize, fit
  ``LogisticRegression()``, print the training accuracy (what a user writes for the same question).

Prints the median and best wall time of each, and the ratio of the medians. The processes run without
``PYTHONDONTWRITEBYTECODE`` (set on some build machines), so that logitgd's modules are loaded from their
compiled ``.pyc`` files, as scikit-learn's are and as they are after ``pip install``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SKLEARN_SCRIPT = """\
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

df = pd.read_csv({path!r})
X, y = df.drop(columns="target"), df["target"]
model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
print(model.score(X, y))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    from sklearn.datasets import load_breast_cancer

    work = tempfile.mkdtemp(prefix="bench_startup-")
    csv = os.path.join(work, "breast_cancer.csv")
    load_breast_cancer(as_frame=True).frame.to_csv(csv, index=False)
    script = os.path.join(work, "sklearn_fit.py")
    with open(script, "w") as fh:
        fh.write(SKLEARN_SCRIPT.format(path=csv))
    exe = os.path.join(os.path.dirname(sys.executable), "logitgd")
    cases = {
        "logitgd --version": [exe, "--version"],
        "logitgd --help": [exe, "--help"],
        "logitgd fit (breast cancer CSV)": [exe, "fit", csv, "--target", "target", "--model",
                                            os.path.join(work, "model.json"), "--force"],
        "scikit-learn 10-line script": [sys.executable, script],
    }
    times = {name: [] for name in cases}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name, cmd in cases.items():  # once untimed: the disk cache warm for all, the .pyc files written
        subprocess.run(cmd, check=True, capture_output=True, env=env)
    for _ in range(args.runs):
        for name, cmd in cases.items():
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            times[name].append(time.perf_counter() - t)
    print(f"| case (whole process, {args.runs} interleaved runs) | median, s | best, s |")
    print("|---|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.3f} | {min(ts):.3f} |")
    fit, ref = (statistics.median(times[k]) for k in ("logitgd fit (breast cancer CSV)", "scikit-learn 10-line script"))
    print(f"\nlogitgd fit / scikit-learn script (medians): {fit / ref:.2f}")


if __name__ == "__main__":
    main()
