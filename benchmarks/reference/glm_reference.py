"""Write tests/data/glm_reference.json: R's glm(family = binomial) summary numbers for the data
sets of tests/glm_data.py, so that tests can check ours without R.

Run from the repository root (needs Rscript with MASS and sandwich on PATH):

    python -m benchmarks.reference.glm_reference

For each data set this writes X and y to a temporary CSV and runs glm_reference.R next to this
file, which fits ``glm(y ~ ., family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))``
and records, as %.17g: summary(fit)$coefficients, confint.default (Wald), MASS's confint.glm
(profile likelihood, spline-interpolated), the exact profile-likelihood bounds (uniroot, tol 1e-12,
on the constrained deviance minus the deviance minus qchisq(level, 1)), vcov, deviance, null
deviance, residual and null degrees of freedom, AIC, BIC, log-likelihood and nobs.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.glm_data import NAMES, load

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
R_SCRIPT = HERE / "glm_reference.R"
OUT = ROOT / "tests" / "data" / "glm_reference.json"

# the data sets that also get their intervals at these levels (keys suffixed "_90")
EXTRA_LEVELS = {"spector": [0.90], "fair": [0.90]}
INT_KEYS = {"df_residual", "df_null", "nobs", "iter"}
SCALAR_KEYS = {"deviance", "null_deviance", "aic", "bic", "loglik"} | INT_KEYS


def run_r(name):
    X, y = load(name)
    if "y" in X.columns:
        raise ValueError(f"{name}: a predictor is named 'y'")
    with tempfile.TemporaryDirectory() as tmp:
        csv, tsv = Path(tmp) / "data.csv", Path(tmp) / "out.tsv"
        frame = X.copy()
        frame["y"] = y
        # 17 significant digits round-trip float64
        frame.to_csv(csv, index=False, float_format="%.17g")
        levels = [str(level) for level in EXTRA_LEVELS.get(name, [])]
        subprocess.run(["Rscript", "--vanilla", str(R_SCRIPT), str(csv), str(tsv), *levels], check=True)
        lines = tsv.read_text().splitlines()
    case, vcov, warnings, r_version = {}, [], [], None
    for line in lines:
        key, *values = line.split("\t")
        if key == "r_version":
            r_version = values[0]
        elif key == "coef_names":
            case[key] = values
        elif key == "warning":
            warnings.append(values[0])
        elif key == "vcov":
            vcov.append([float(v) for v in values])
        elif key in SCALAR_KEYS:
            (value,) = values
            case[key] = int(float(value)) if key in INT_KEYS else float(value)
        else:
            case[key] = [float(v) for v in values]
    case["vcov"] = vcov
    if case["coef_names"][1:] != list(X.columns):
        raise RuntimeError(f"{name}: R's coefficient names {case['coef_names']} differ from {list(X.columns)}")
    if warnings:
        # from MASS's profiling or the constrained fits, never the fit itself (that stops the script)
        case["r_warnings"] = warnings
    return r_version, case


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("names", nargs="*", default=list(NAMES))
    args = parser.parse_args(argv)
    cases, r_version = {}, None
    for name in args.names:
        r_version, case = run_r(name)
        cases[name] = case
        rel = []
        for side in ("lower", "upper"):
            mass, exact = np.array(case[f"profile_mass_{side}"]), np.array(case[f"profile_exact_{side}"])
            rel.append(np.abs(mass - exact) / np.maximum(np.abs(exact), 1e-300))
        print(
            f"{name}: n={case['nobs']} k={len(case['coef'])} "
            f"max rel |MASS - exact| profile bound = {np.max(rel):.3g}"
            + (f"  R warnings: {case['r_warnings']}" if "r_warnings" in case else ""),
            file=sys.stderr,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"r_version": r_version, "cases": cases}, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
