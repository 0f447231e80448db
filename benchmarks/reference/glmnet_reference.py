"""Write tests/data/glmnet_reference.json: regularization paths from R's glmnet (lasso and elastic net,
binary and multinomial), so that tests of the path can check ours without R.

Run from the repository root (needs Rscript with glmnet, Debian's r-cran-glmnet):

    python -m benchmarks.reference.glmnet_reference

For each case in CASES this writes the data to a temporary CSV (and a sparse X as 1-based i, j, x
triplets) and runs glmnet_reference.R next to this file, which fits
``glmnet(x, y, family, alpha = l1_ratio, weights = w, standardize = FALSE, intercept = TRUE,
thresh = 1e-14, maxit = 1e7, nlambda = 30, type.multinomial = "ungrouped")`` on glmnet's default lambda
sequence and computes at each solution logitgd's objective

    J(W, b) = sum_i sw_i loss_i / sum_i sw_i + alpha (l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||_F^2)

(alpha = glmnet's lambda, loss the binary or softmax cross-entropy, intercepts unpenalized; all K
coefficient vectors penalized for multinomial). Here, with numpy only: the exact alpha_max, the smallest
alpha whose solution has W = 0, max_jk |sum_i sw_i x_ij (y_ik - ybar_k)| / (sum(sw) l1_ratio), to set
against glmnet's first lambda; and, per lambda, J again and the largest violation of the optimality
(KKT) conditions at glmnet's solution, which bounds how close the stored coefficients are to exact.

Layout: {"r_version", "glmnet_version", "glmnet_call", "nlambda", "cases": {name: case}}; each case has "data" and
"weights" (rebuild X, y, sw with ``load_case(case)``), "family", "l1_ratio", "n", "n_features",
"n_classes", "lambdas" [L], "intercepts" [L] ([L][K] multinomial), "coef" [L][p] ([L][K][p]
multinomial), "J" [L], "dev_ratio" [L], "lambda_max" (glmnet's first lambda), "alpha_max_numpy",
"npasses", "min_p" [L] (the fitted probabilities' min(p, 1 - p)) and "kkt_max" [L]. L may be below
nlambda: glmnet stops the path early once dev.ratio passes 0.999 or gains less than 1e-5 a step.
"""

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tests.glm_data import glmnet_case, glmnet_data, load_weights

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
R_SCRIPT = HERE / "glmnet_reference.R"
OUT = ROOT / "tests" / "data" / "glmnet_reference.json"
NLAMBDA = 30
GLMNET_CALL = ("glmnet(x, y, family, alpha = l1_ratio, weights = w, standardize = FALSE, intercept = TRUE, "
               "thresh = 1e-14, maxit = 1e7, nlambda = 30, type.multinomial = 'ungrouped')")

# name: (data, weights, l1_ratio, family)
CASES = {
    "ccard_lasso": ("ccard", None, 1.0, "binomial"),
    "ccard_enet": ("ccard", None, 0.5, "binomial"),
    "modechoice_lasso": ("modechoice", None, 1.0, "binomial"),
    "modechoice_enet": ("modechoice", None, 0.5, "binomial"),
    "anes96_lasso": ("anes96", None, 1.0, "binomial"),
    "anes96_enet": ("anes96", None, 0.5, "binomial"),
    "breast_cancer_lasso": ("breast_cancer_std", None, 1.0, "binomial"),
    "breast_cancer_weighted_lasso": ("breast_cancer_std", "1 + i % 3", 1.0, "binomial"),
    "sparse_lasso": ("make_sparse_2000_500", None, 1.0, "binomial"),
    "anes96_party_multinomial": ("anes96_party", None, 1.0, "multinomial"),
}


def load_case(case):
    """``(X, y, sw)`` of a stored case (sw None for unit weights)."""
    return glmnet_case(case)


def onehot(y, K):
    return (y[:, None] == np.arange(K)).astype(np.float64)


def alpha_max(X, y, sw, l1_ratio, K):
    """The smallest alpha at which W = 0 is optimal: the largest |gradient| at the intercept-only fit."""
    sw = np.ones(X.shape[0]) if sw is None else sw
    Y = onehot(y, K) if K > 2 else y[:, None].astype(np.float64)
    R = sw[:, None] * (Y - (sw @ Y) / sw.sum())
    G = np.asarray(X.T @ R)
    return float(np.abs(G).max() / (sw.sum() * l1_ratio))


def check_solution(X, y, sw, l1_ratio, K, lam, a0, B):
    """J and the largest KKT violation at (B, a0) for alpha = lam (B of shape K' x p, K' = 1 if binary)."""
    sw = np.ones(X.shape[0]) if sw is None else sw
    sw = sw / sw.sum()
    Z = np.asarray(X @ B.T) + a0
    if K > 2:
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        loss = lse - Z[np.arange(len(y)), y]
        Rm = np.exp(Z - lse[:, None]) - onehot(y, K)
    else:
        z = Z[:, 0]
        loss = np.logaddexp(0.0, z) - y * z
        Rm = (1 / (1 + np.exp(-z)) - y)[:, None]
    J = sw @ loss + lam * (l1_ratio * np.abs(B).sum() + (1 - l1_ratio) / 2 * (B * B).sum())
    G = np.asarray(X.T @ (sw[:, None] * Rm)).T + lam * (1 - l1_ratio) * B  # smooth part, K' x p
    viol = np.where(B != 0, np.abs(G + lam * l1_ratio * np.sign(B)), np.maximum(np.abs(G) - lam * l1_ratio, 0))
    g0 = np.abs(sw @ Rm)  # the intercepts' gradient
    return float(J), float(max(viol.max(), g0.max()))


def run_r(X, y, sw, names, l1_ratio, family):
    with tempfile.TemporaryDirectory() as tmp:
        csv, tsv = Path(tmp) / "data.csv", Path(tmp) / "out.tsv"
        extra = []
        if sp.issparse(X):
            coo = X.tocoo()
            trip = Path(tmp) / "x.csv"
            pd.DataFrame({"i": coo.row + 1, "j": coo.col + 1, "x": coo.data}).to_csv(
                trip, index=False, float_format="%.17g")
            frame = pd.DataFrame(index=range(X.shape[0]))
            extra = [str(trip), str(X.shape[1])]
        else:
            if {"y", "w"} & set(names):
                raise ValueError("a predictor is named 'y' or 'w'")
            frame = pd.DataFrame(X, columns=names)
        frame["y"] = y
        if sw is not None:
            frame["w"] = sw
        # 17 significant digits round-trip float64
        frame.to_csv(csv, index=False, float_format="%.17g")
        subprocess.run(["Rscript", "--vanilla", str(R_SCRIPT), str(csv), str(tsv), repr(l1_ratio), family,
                        str(NLAMBDA), *extra], check=True)
        lines = tsv.read_text().splitlines()
    out = {"a0": [], "beta": [], "warning": []}
    for line in lines:
        key, *values = line.split("\t")
        if key in ("r_version", "glmnet_version"):
            out[key] = values[0]
        elif key == "warning":
            out[key].append(values[0])
        elif key in ("a0", "beta"):
            out[key].append([float(v) for v in values])
        else:
            out[key] = [float(v) for v in values]
    return out


def run_case(name, data, weights, l1_ratio, family):
    X, y, names = glmnet_data(data)
    n, p = X.shape
    sw = load_weights(weights, n)
    K = int(y.max()) + 1
    r = run_r(X, y, sw, names, l1_ratio, family)
    if r["warning"] or any(r["jerr"]):
        raise RuntimeError(f"{name}: glmnet warned {r['warning']} (jerr {r['jerr']})")
    L, Kb = len(r["lambda"]), (K if family == "multinomial" else 1)
    A0 = np.array(r["a0"])  # L x Kb
    B = np.array(r["beta"]).reshape(L, Kb, p)
    Jnp, kkt = zip(*(check_solution(X, y, sw, l1_ratio, K, lam, A0[i], B[i]) for i, lam in enumerate(r["lambda"])))
    J = np.array(r["J"])
    if np.any(np.abs(J - Jnp) > 1e-13 * np.abs(J)):
        raise RuntimeError(f"{name}: R's J and numpy's differ by {np.max(np.abs(J - Jnp) / J):.3g}")
    if np.any(B[0] != 0):
        raise RuntimeError(f"{name}: the first lambda's coefficients are not all zero")
    if not np.all(np.diff(r["dev_ratio"]) > 0):
        raise RuntimeError(f"{name}: dev.ratio does not increase along the path")
    if not np.all(np.diff(J) < 0):  # the optimal J is increasing in alpha (the penalty is >= 0)
        raise RuntimeError(f"{name}: J does not decrease along the path")
    amax = alpha_max(X, y, sw, l1_ratio, K)
    case = {
        "data": data, "weights": weights, "family": family, "l1_ratio": l1_ratio,
        "n": n, "n_features": p, "n_classes": K,
        "lambdas": r["lambda"],
        "intercepts": A0.tolist() if family == "multinomial" else A0[:, 0].tolist(),
        "coef": B.tolist() if family == "multinomial" else B[:, 0].tolist(),
        "J": r["J"], "dev_ratio": r["dev_ratio"],
        "lambda_max": r["lambda"][0], "alpha_max_numpy": amax,
        "npasses": int(r["npasses"][0]), "min_p": r["min_p"], "kkt_max": list(kkt),
    }
    print(f"{name}: n={n} p={p} K={K} L={L} lambda_max={r['lambda'][0]:.17g} alpha_max_numpy={amax:.17g} "
          f"rel diff={abs(r['lambda'][0] - amax) / amax:.3g} dev_ratio[-1]={r['dev_ratio'][-1]:.6f} "
          f"max KKT={max(kkt):.3g} min_p={min(r['min_p']):.3g} max |J_R - J_np|/J={np.max(np.abs(J - Jnp) / J):.3g}",
          file=sys.stderr)
    return r, case


def dumps(obj, indent=0):
    """JSON with objects one key a line and lists of numbers (or of such lists) on one line each."""
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, list) and obj and isinstance(obj[0], list):
        return "[\n" + ",\n".join(pad + dumps(v, indent + 1) for v in obj) + "\n" + " " * indent + "]"
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError("non-finite number")
    return json.dumps(obj)


def main():
    start = time.perf_counter()
    cases, r = {}, None
    for name, spec in CASES.items():
        r, cases[name] = run_case(name, *spec)
    out = {"r_version": r["r_version"], "glmnet_version": r["glmnet_version"], "glmnet_call": GLMNET_CALL,
           "nlambda": NLAMBDA, "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dumps(out) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB) in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
