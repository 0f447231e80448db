"""Write tests/data/firth_reference.json: Firth's logistic regression from R (brglm2) on the data sets of
tests/glm_data.py's FIRTH_NAMES, so that tests can check ours without R.

Run from the repository root (needs Rscript with brglm2, Debian's r-cran-brglm2):

    python -m benchmarks.reference.firth_reference

firth_reference.R fits ``glm(y ~ ., family = binomial, method = "brglmFit", type = "AS_mean")`` and
computes the profile penalized-likelihood intervals (logistf's default kind; logistf itself is not
packaged for Debian) by its own BFGS constrained maxima and uniroot, independent of logitgd's Newton.
"""

import json
import subprocess
import tempfile
from pathlib import Path

from tests.glm_data import FIRTH_NAMES, anes96_party, load_any

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "tests" / "data" / "firth_reference.json"


def run_r(name):
    X, y = load_any(name)
    with tempfile.TemporaryDirectory() as tmp:
        csv, tsv = Path(tmp) / "data.csv", Path(tmp) / "out.tsv"
        frame = X.copy()
        frame["y"] = y
        frame.to_csv(csv, index=False, float_format="%.17g")
        subprocess.run(["Rscript", "--vanilla", str(HERE / "firth_reference.R"), str(csv), str(tsv)], check=True)
        case = {}
        for line in tsv.read_text().splitlines():
            key, *values = line.split("\t")
            case[key] = values if key == "coef_names" else [float(v) for v in values]
    case["penalized_loglik"], case["iter"] = case["penalized_loglik"][0], int(case["iter"][0])
    return case


def run_multinomial():
    """brmultinom on glm_data.anes96_party: coefficients (K - 1 rows) and SEs in R's order (class by class)."""
    X, y = anes96_party()
    with tempfile.TemporaryDirectory() as tmp:
        csv, tsv = Path(tmp) / "data.csv", Path(tmp) / "out.tsv"
        X.assign(y=y.astype(int)).to_csv(csv, index=False, float_format="%.17g")
        subprocess.run(["Rscript", "--vanilla", str(HERE / "firth_multinomial.R"), str(csv), str(tsv)], check=True)
        case = {"coef": []}
        for line in tsv.read_text().splitlines():
            key, *values = line.split("\t")
            if key.endswith("names"):
                case[key] = values
            elif key == "coef":
                case["coef"].append([float(v) for v in values])
            else:
                case[key] = [float(v) for v in values]
    return case


def main():
    version = subprocess.run(["Rscript", "-e", "cat(R.version.string, as.character(packageVersion('brglm2')))"],
                             check=True, capture_output=True, text=True).stdout
    cases = {name: run_r(name) for name in FIRTH_NAMES}
    OUT.write_text(json.dumps({"r_version": version, "cases": cases, "multinomial": run_multinomial()},
                              indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
