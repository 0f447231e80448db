"""Regularization paths and cross-validation (issue 15): logitgd against glmnet and scikit-learn, side by side.

Run from the repository root::

    python -m benchmarks.bench_path path [--rows 500000 --features 100000] [--n-alphas 100] [--ratio 0.01]
    python -m benchmarks.bench_path cv [--dense-rows 1000000] [--sparse-rows 500000 --sparse-features 100000]
        [--ratio 0.01] [--sk-l2 newton-cholesky] [--parts dense,sparse]

``path``: an L1 path of ``--n-alphas`` alphas, from alpha_max down to ``alpha_max * --ratio`` (log-spaced), on
the sparse benchmark problem (tests/glm_data.make_sparse, as bench_sparse) and on a real data set (scikit-learn's
breast cancer, standardized). logitgd ``regularization_path`` (default tol) in this process; glmnet on the *same*
lambda sequence in Rscript (``standardize = FALSE, thresh = 1e-14``, ``glmnet.control(fdev = 0)`` so that it does
not stop the path early), timed by ``system.time`` around the ``glmnet`` call only (X read untimed, as CSC arrays
written by ``tofile``). Each side's objective J (mean log-loss + alpha ||w||_1) at every alpha is evaluated here by
one float64 evaluator; the gap is against the lower of the two.

``cv``: 5-fold stratified CV over 20 alphas (L2 on the ``dense`` 1,000,000 x 100 problem of bench_solvers; L1 on
the sparse problem): logitgd ``LogisticRegressionCV`` against scikit-learn's ``LogisticRegressionCV`` (its fastest
solver for the penalty: lbfgs and newton-cholesky for L2, liblinear for L1 (saga is slower on these);
``Cs = 1 / (n_train alpha)``, the same penalties) and ``GridSearchCV(logitgd.LogisticRegression)`` over the same
alphas and folds; n_jobs=1 everywhere, wall time by ``perf_counter`` around ``fit``. Each row is printed as its
method finishes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

from benchmarks.common.report import env_lines, git_commit

HERE = os.path.dirname(os.path.abspath(__file__))

GLMNET_R = r"""
suppressPackageStartupMessages({library(glmnet); library(Matrix)})
a <- commandArgs(trailingOnly = TRUE); d <- a[1]; n <- as.integer(a[2]); p <- as.integer(a[3])
nnz <- as.integer(a[4])
rd <- function(f, what, k, size = NA) {
  con <- file(file.path(d, f), "rb"); on.exit(close(con)); readBin(con, what, k, size = size)
}
X <- new("dgCMatrix", i = rd("i.bin", "integer", nnz, 4), p = rd("p.bin", "integer", p + 1, 4),
         x = rd("x.bin", "double", nnz), Dim = c(n, p))
y <- rd("y.bin", "double", n); lam <- rd("lambda.bin", "double", as.integer(a[5]))
glmnet.control(fdev = 0)
t <- system.time(f <- glmnet(X, y, family = "binomial", alpha = 1, lambda = lam, standardize = FALSE,
                             thresh = 1e-14, maxit = 1e7))
B <- as.matrix(f$beta)
writeBin(as.double(c(t[["elapsed"]], f$npasses, length(f$lambda))), file.path(d, "meta.bin"))
writeBin(as.double(f$a0), file.path(d, "a0.bin")); writeBin(as.double(B), file.path(d, "beta.bin"))
"""


def objective(X, y, w, b, alpha):
    """Mean log-loss + alpha ||w||_1, float64, stable."""
    z = np.asarray(X @ w).ravel() + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + alpha * np.abs(w).sum())


def glmnet_path(X, y, alphas):
    """glmnet on these lambdas: ``(seconds, passes, coefficients (L, p), intercepts (L,))``."""
    Xc = X.tocsc()
    Xc.sort_indices()
    with tempfile.TemporaryDirectory() as tmp:
        Xc.indices.astype(np.int32).tofile(os.path.join(tmp, "i.bin"))
        Xc.indptr.astype(np.int32).tofile(os.path.join(tmp, "p.bin"))
        Xc.data.astype(np.float64).tofile(os.path.join(tmp, "x.bin"))
        np.asarray(y, dtype=np.float64).tofile(os.path.join(tmp, "y.bin"))
        np.asarray(alphas, dtype=np.float64).tofile(os.path.join(tmp, "lambda.bin"))
        script = os.path.join(tmp, "g.R")
        with open(script, "w") as f:
            f.write(GLMNET_R)
        subprocess.run(["Rscript", "--vanilla", script, tmp, str(X.shape[0]), str(X.shape[1]), str(Xc.nnz),
                        str(len(alphas))], check=True)
        seconds, passes, L = np.fromfile(os.path.join(tmp, "meta.bin"))
        L = int(L)
        beta = np.fromfile(os.path.join(tmp, "beta.bin")).reshape(L, X.shape[1])  # column-major p x L
        a0 = np.fromfile(os.path.join(tmp, "a0.bin"))
    return seconds, int(passes), beta, a0


def run_path(name, X, y, n_alphas, ratio):
    import scipy.sparse as sp

    from logitgd import regularization_path

    Xs = sp.csr_matrix(X)
    regularization_path(Xs[:2000], y[:2000], n_alphas=3)  # numba compilation, untimed
    t = time.perf_counter()
    path = regularization_path(Xs, y, n_alphas=n_alphas, alpha_min_ratio=ratio)
    ours = time.perf_counter() - t
    seconds, passes, beta, a0 = glmnet_path(Xs, y, path.alphas)
    J_ours = np.array([objective(Xs, y, path.coef_[i, 0], path.intercept_[i, 0], a) for i, a in enumerate(path.alphas)])
    J_glm = np.array([objective(Xs, y, beta[i], a0[i], a) for i, a in enumerate(path.alphas)])
    best = np.minimum(J_ours, J_glm)
    gap_o, gap_g = (J_ours - best) / best, (J_glm - best) / best
    print(f"| {name} | {X.shape[0]:,} x {X.shape[1]:,} ({Xs.nnz:,} non-zeros) | {len(path.alphas)}, "
          f"ratio {ratio:g} | {ours:.2f} | {seconds:.2f} | {seconds / ours:.2f}x | {gap_o.max():.1e} / "
          f"{np.median(gap_o):.1e} | {gap_g.max():.1e} / {np.median(gap_g):.1e} | {int(path.n_iter.sum())} Newton | "
          f"{passes} passes | {path.n_active[-1]} |", flush=True)


def main_path(args):
    from sklearn.datasets import load_breast_cancer

    from tests.glm_data import make_sparse

    print("| data | size | alphas | logitgd (s) | glmnet (s) | glmnet / logitgd | logitgd gap max / median | "
          "glmnet gap max / median | logitgd iterations | glmnet passes | nonzero at the end |")
    print("|---|---|---|---:|---:|---:|---|---|---:|---:|---:|")
    d = load_breast_cancer()
    Xb = (d.data - d.data.mean(axis=0)) / d.data.std(axis=0)
    run_path("breast cancer (standardized)", Xb, d.target.astype(np.float64), args.n_alphas, args.ratio_real)
    X, y = make_sparse(args.rows, args.features)
    run_path("sparse (make_sparse)", X, y.astype(np.float64), args.n_alphas, args.ratio)


def run_cv(name, X, y, penalty, n_alphas=20, folds=5, alpha_min_ratio=None, sk_l2=("newton-cholesky",)):
    from sklearn.linear_model import LogisticRegressionCV as SkCV
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from logitgd import LogisticRegression, LogisticRegressionCV

    cv = StratifiedKFold(folds)
    base = []

    def row(label, seconds, alpha):  # printed as each method finishes: a slow competitor hides nothing
        base.append(seconds)
        print(f"| {name} | {penalty} | {label} | {seconds:.1f} | {base[0] / seconds:.2f} | {alpha:.4g} |",
              flush=True)

    t = time.perf_counter()
    ours = LogisticRegressionCV(alphas=n_alphas, penalty=penalty, cv=cv, alpha_min_ratio=alpha_min_ratio).fit(X, y)
    row("logitgd LogisticRegressionCV", time.perf_counter() - t, ours.alpha_)
    alphas = list(ours.alphas_[0])
    t = time.perf_counter()
    grid = GridSearchCV(LogisticRegression(penalty=penalty), {"alpha": alphas}, scoring="neg_log_loss",
                        cv=cv).fit(X, y)
    row("GridSearchCV(logitgd LogisticRegression)", time.perf_counter() - t, grid.best_params_["alpha"])
    n_train = X.shape[0] * (folds - 1) / folds
    Cs = [1.0 / (n_train * a) for a in alphas]
    for solver in (sk_l2 if penalty == "l2" else ("liblinear",)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            sk = SkCV(Cs=Cs, penalty=penalty, solver=solver, cv=cv, scoring="neg_log_loss", max_iter=1000,
                      tol=1e-6).fit(X, y)
            row(f"scikit-learn LogisticRegressionCV({solver})", time.perf_counter() - t,
                1.0 / (n_train * float(sk.C_[0])))


def main_cv(args):
    from benchmarks.common.solvers_reference import make_dense
    from tests.glm_data import make_sparse

    print("| data | penalty | method | wall (s) | logitgd CV / this | chosen alpha |")
    print("|---|---|---|---:|---:|---:|")
    if "dense" in args.parts:
        X, y, _ = make_dense(args.dense_rows)
        run_cv(f"dense {args.dense_rows:,} x 100", X, y, "l2", sk_l2=args.sk_l2.split(","))
        del X
    if "sparse" in args.parts:
        X, y = make_sparse(args.sparse_rows, args.sparse_features)
        run_cv(f"sparse {args.sparse_rows:,} x {args.sparse_features:,}", X, y, "l1", alpha_min_ratio=args.ratio)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="part", required=True)
    p = sub.add_parser("path")
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--features", type=int, default=100_000)
    p.add_argument("--n-alphas", type=int, default=100)
    p.add_argument("--ratio", type=float, default=0.01, help="alpha_min / alpha_max on the sparse problem")
    p.add_argument("--ratio-real", type=float, default=1e-4, help="alpha_min / alpha_max on breast cancer")
    c = sub.add_parser("cv")
    c.add_argument("--dense-rows", type=int, default=1_000_000)
    c.add_argument("--sparse-rows", type=int, default=500_000)
    c.add_argument("--sparse-features", type=int, default=100_000)
    c.add_argument("--ratio", type=float, default=0.01, help="alpha_min / alpha_max on the sparse problem")
    c.add_argument("--sk-l2", default="newton-cholesky",
                   help="scikit-learn's solvers for L2, comma list (lbfgs takes hours at 1e6 rows of this problem)")
    c.add_argument("--parts", default="dense,sparse", help="which problems: dense, sparse or both (comma list)")
    args = ap.parse_args()
    print(f"bench_path {args.part} at {git_commit()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{' '.join(sys.argv[1:])}")
    for line in env_lines():
        print(line)
    if args.part == "path":
        version = "cat(R.version.string, 'glmnet', as.character(packageVersion('glmnet')))"
        print(subprocess.run(["Rscript", "-e", version], capture_output=True, text=True).stdout)
    (main_path if args.part == "path" else main_cv)(args)


if __name__ == "__main__":
    main()
