"""Real binary-outcome data sets for checking summary statistics against R's glm(family = binomial).

All come with statsmodels (``statsmodels.api.datasets``), so no network is needed. ``load(name)``
returns ``(X, y)``: X a DataFrame of float64 columns, the design matrix without the intercept
column, in a fixed order (categorical predictors dummy-coded with treatment contrasts, the first
level the baseline, named like ``occupation[T.2]``); y a float64 array of 0/1.

The reference numbers for these live in ``tests/data/glm_reference.json``, written by
``python -m benchmarks.reference.glm_reference`` (needs R with MASS); keep the two in step.
"""

import numpy as np
import pandas as pd


def _dummies(column, prefix):
    """Treatment-contrast dummies of ``column`` (first sorted level the baseline), named ``prefix[T.level]``."""
    levels = sorted(column.unique())
    out = {}
    for level in levels[1:]:
        label = int(level) if float(level).is_integer() else level
        out[f"{prefix}[T.{label}]"] = (column == level).astype(np.float64)
    return pd.DataFrame(out, index=column.index)


def _finish(X, y):
    X = X.astype(np.float64).reset_index(drop=True)
    y = np.asarray(y, dtype=np.float64)
    return X, y


def _spector():
    # Spector & Mazzeo (1980): did the grade improve (GRADE) ~ GPA + TUCE + PSI; 32 rows.
    import statsmodels.api as sm

    d = sm.datasets.spector.load_pandas().data
    return _finish(d[["GPA", "TUCE", "PSI"]], d["GRADE"])


def _anes96():
    # 1996 American National Election Study: voted Dole (vote = 1) vs Clinton; 944 rows.
    import statsmodels.api as sm

    d = sm.datasets.anes96.load_pandas().data
    cols = ["logpopul", "TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "age", "educ", "income"]
    return _finish(d[cols], d["vote"])


def _fair():
    # Fair (1978) affairs survey: any affair (affairs > 0) ~ ... + occupation (categorical, 6 levels);
    # 6366 rows.
    import statsmodels.api as sm

    d = sm.datasets.fair.load_pandas().data
    num = d[["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]]
    X = pd.concat([num, _dummies(d["occupation"], "occupation")], axis=1)
    return _finish(X, (d["affairs"] > 0).astype(np.float64))


def _modechoice():
    # Greene's travel mode choice, the air alternative's rows: chose air (choice) ~ its
    # terminal time, in-vehicle cost and time, household income and party size; 210 rows.
    import statsmodels.api as sm

    d = sm.datasets.modechoice.load_pandas().data
    d = d[d["mode"] == 1]
    return _finish(d[["ttme", "invc", "invt", "hinc", "psize"]], d["choice"])


def _randhie():
    # RAND Health Insurance Experiment: any doctor visit (mdvis > 0) ~ ...; 20190 rows.
    import statsmodels.api as sm

    d = sm.datasets.randhie.load_pandas().data
    cols = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
    return _finish(d[cols], (d["mdvis"] > 0).astype(np.float64))


def _ccard():
    # Greene's credit card data: owns the home (OWNRENT) ~ AGE + INCOME + AVGEXP; 72 rows.
    import statsmodels.api as sm

    d = sm.datasets.ccard.load_pandas().data
    return _finish(d[["AGE", "INCOME", "AVGEXP"]], d["OWNRENT"])


_LOADERS = {
    "spector": _spector,
    "anes96": _anes96,
    "fair": _fair,
    "modechoice": _modechoice,
    "randhie": _randhie,
    "ccard": _ccard,
}

NAMES = tuple(_LOADERS)


def load(name):
    """``(X, y)`` for the data set ``name`` (one of ``NAMES``)."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; expected one of {NAMES}") from None
    return loader()


def endometrial():
    """Heinze & Schemper's (2002) endometrial cancer data (79 rows; from R's brglm2): histology grade HG ~ NV + PI + EH.

    Quasi-completely separated by NV (every case with neovasculization has HG = 1): the MLE does not
    exist, Firth's estimate does. Stored in tests/data/endometrial.csv.
    """
    from pathlib import Path

    d = pd.read_csv(Path(__file__).parent / "data" / "endometrial.csv")
    return _finish(d[["NV", "PI", "EH"]], d["HG"])


def iris_setosa():
    """Fisher's iris (150 rows; scikit-learn's copy): setosa or not ~ sepal length + petal length.

    Completely separated (petal length alone splits setosa from the rest): the MLE does not exist, and
    Firth's penalized likelihood has several branches of constrained maxima (its profile is not concave).
    """
    from sklearn.datasets import load_iris

    d = load_iris(as_frame=True).frame
    X = d[["sepal length (cm)", "petal length (cm)"]].set_axis(["sepal_length", "petal_length"], axis=1)
    return _finish(X, (d["target"] == 0).astype(int))


_SEPARATED = {"endometrial": endometrial, "iris_setosa": iris_setosa}

#: the data sets of the Firth references (tests/data/firth_reference.json); the last two are separated
FIRTH_NAMES = ("spector", "ccard", "modechoice", "anes96", *_SEPARATED)


def load_any(name):
    return _SEPARATED[name]() if name in _SEPARATED else load(name)


def anes96_party():
    """The 1996 ANES respondents' party identification in three classes (PID 0-1, 2-3, 4-6) ~ five predictors,
    for the multinomial references (statsmodels' MNLogit, brglm2's brmultinom)."""
    import statsmodels.api as sm

    d = sm.datasets.anes96.load_pandas().data
    return _finish(d[["logpopul", "selfLR", "age", "educ", "income"]], np.digitize(d["PID"], [2, 4]))


def make_sparse(n, d, per_row=50, seed=0):
    """The sparse benchmark problem (benchmarks/bench_sparse.py): ``per_row`` ones per row in power-law columns
    (``P(j) ∝ (j + 10)^-1.1``), labels from a logistic model on them. ``(X as CSR, y)``."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    p = (np.arange(d) + 10.0) ** -1.1
    p /= p.sum()
    cols = rng.choice(d, size=n * per_row, p=p).astype(np.int32)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((np.ones(n * per_row), cols, indptr), shape=(n, d))
    X.sum_duplicates()
    w = rng.standard_normal(d) * 0.3
    z = X @ w - 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    return X, y


def make_stream_problem(n, d, alpha=1e-4, seed=0):
    """The partial_fit-against-fit problem (tests/test_fast_paths.py, benchmarks/experiments/partial_fit_schedule.py):
    columns scaled from 1 to 10 (log-spaced), labels from a logistic model, L2 ``alpha``. ``(X, y, gap)`` with
    ``gap(model)`` the relative distance of a fitted model's cost from f* (Newton at tol 1e-12)."""
    from logitgd.objective import LogisticObjective
    from logitgd.penalty import L2
    from logitgd.solvers import newton

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.logspace(0, 1, d)
    w = rng.standard_normal(d) / np.logspace(0, 1, d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    obj = LogisticObjective(X, y, penalty=L2(alpha))
    f_star = newton(obj, np.zeros(d + 1), tol=1e-12).fun

    def gap(model):
        return (obj.cost(np.r_[model.coef_.ravel(), model.intercept_]) - f_star) / f_star

    return X, y, gap


# -- the data of the glmnet references (tests/data/glmnet_reference.json; benchmarks/reference/glmnet_reference.py)
def glmnet_data(data):
    """``(X, y, names)`` for a case's "data" key: X a float64 ndarray (a CSR matrix for the sparse
    problem), y an int64 array of 0/1 (0..K-1 for multinomial), names the column names."""
    if data in ("ccard", "modechoice", "anes96"):
        X, y = load_any(data)
        return X.to_numpy(), y.astype(np.int64), list(X.columns)
    if data == "anes96_party":
        X, y = anes96_party()
        return X.to_numpy(), y.astype(np.int64), list(X.columns)
    if data == "breast_cancer_std":
        # scikit-learn's copy, each column centred and scaled to (population, ddof = 0) standard deviation 1
        from sklearn.datasets import load_breast_cancer

        d = load_breast_cancer()
        X = (d.data - d.data.mean(axis=0)) / d.data.std(axis=0)
        return X, d.target.astype(np.int64), list(d.feature_names)
    if data == "make_sparse_2000_500":
        X, y = make_sparse(2000, 500, per_row=20, seed=0)
        return X.tocsr(), y.astype(np.int64), [f"x{j}" for j in range(X.shape[1])]
    raise ValueError(f"unknown data {data!r}")


def load_weights(weights, n):
    if weights is None:
        return None
    if weights == "1 + i % 3":
        return 1.0 + np.arange(n) % 3
    raise ValueError(f"unknown weights {weights!r}")


def glmnet_case(case):
    """``(X, y, sw)`` of a stored glmnet reference case (sw None for unit weights)."""
    X, y, _ = glmnet_data(case["data"])
    return X, y, load_weights(case["weights"], X.shape[0])
