"""logitgd.formula: formulas to design matrices (formulaic), and the spec that redoes them on new data."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("formulaic")

from logitgd.formula import Design, design, transform  # noqa: E402


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 24
    return pd.DataFrame(
        {
            "admit": rng.integers(0, 2, n),
            "gre": rng.normal(580, 100, n).round(),
            "gpa": rng.uniform(2.5, 4.0, n).round(2),
            "rank": np.tile([1, 2, 3, 4], n // 4),
            "g": np.tile(["a", "b", "c"], n // 3),
            "label": np.tile(["no", "yes"], n // 2),
            "flag": np.tile([True, False, False], n // 3),
        },
        index=pd.RangeIndex(100, 100 + n),
    )


def _roundtrip(spec):
    return json.loads(json.dumps(spec))


# -- columns, response, intercept ---------------------------------------------------------------------------------


def test_dummy_coding_matches_hand_made(df):
    d = design("admit ~ gre + C(g)", df)
    assert isinstance(d, Design)
    expected = pd.DataFrame(
        {
            "gre": df["gre"].to_numpy(float),
            "C(g)[T.b]": (df["g"] == "b").to_numpy(float),
            "C(g)[T.c]": (df["g"] == "c").to_numpy(float),
        },
        index=df.index,
    )
    pd.testing.assert_frame_equal(d.X, expected)
    assert d.X.dtypes.eq(np.float64).all()
    np.testing.assert_array_equal(d.y, df["admit"].to_numpy())
    assert d.fit_intercept is True
    assert "Intercept" not in d.X.columns


def test_column_names_categorical_interaction_transform(df):
    d = design("admit ~ C(rank) + gre:gpa + np.log(gre) + center(gpa) + scale(gre) + g", df)
    assert list(d.X.columns) == [
        "C(rank)[T.2]",
        "C(rank)[T.3]",
        "C(rank)[T.4]",
        "np.log(gre)",
        "center(gpa)",
        "scale(gre)",
        "g[T.b]",
        "g[T.c]",
        "gre:gpa",
    ]
    np.testing.assert_allclose(d.X["gre:gpa"], df["gre"] * df["gpa"])
    np.testing.assert_allclose(d.X["np.log(gre)"], np.log(df["gre"]))
    np.testing.assert_allclose(d.X["center(gpa)"], df["gpa"] - df["gpa"].mean())
    np.testing.assert_allclose(d.X["scale(gre)"], (df["gre"] - df["gre"].mean()) / df["gre"].std())


@pytest.mark.parametrize("formula", ["admit ~ gre + gpa - 1", "admit ~ gre + gpa + 0", "admit ~ 0 + gre + gpa"])
def test_intercept_removed(df, formula):
    d = design(formula, df)
    assert d.fit_intercept is False
    assert list(d.X.columns) == ["gre", "gpa"]
    assert d.spec["fit_intercept"] is False


def test_no_intercept_keeps_every_level(df):
    d = design("admit ~ C(g) - 1", df)
    assert d.fit_intercept is False
    assert list(d.X.columns) == ["C(g)[a]", "C(g)[b]", "C(g)[c]"]
    np.testing.assert_array_equal(d.X.sum(axis=1), 1.0)


def test_response_labels_as_in_data(df):
    np.testing.assert_array_equal(design("label ~ gre", df).y, df["label"].to_numpy())
    np.testing.assert_array_equal(design("flag ~ gre", df).y, df["flag"].to_numpy())
    assert design("flag ~ gre", df).y.dtype == bool
    # formulaic one-hot encodes C(label): the labels are rebuilt
    np.testing.assert_array_equal(design("C(label) ~ gre", df).y, df["label"].to_numpy())
    np.testing.assert_array_equal(design("I(gre > 580) ~ gpa", df).y.astype(bool), (df["gre"] > 580).to_numpy())


# -- the spec and transform ------------------------------------------------------------------------------------


FORMULAS = [
    "admit ~ gre + C(g)",
    "admit ~ C(rank) + gre:gpa + np.log(gre) + center(gpa) + scale(gre) + g",
    "admit ~ C(g, contr.sum) + gpa:C(rank) + bs(gre, df=4) + poly(gpa, degree=2)",
    "admit ~ 0 + C(g) + gre",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_transform_reproduces_training_matrix(df, formula):
    d = design(formula, df)
    for spec in (d.spec, _roundtrip(d.spec)):
        X = transform(spec, df.drop(columns="admit"))
        pd.testing.assert_frame_equal(X, d.X, check_exact=True)


@pytest.mark.parametrize("formula", FORMULAS)
def test_transform_on_fewer_categories_and_new_rows(df, formula):
    d = design(formula, df)
    spec = _roundtrip(d.spec)
    sub = df[(df["g"] == "b") & (df["rank"] == 2)].drop(columns="admit")  # one level of each factor
    assert len(sub) >= 1
    X = transform(spec, sub)
    pd.testing.assert_frame_equal(X, d.X.loc[sub.index], check_exact=True)
    one = transform(spec, df.drop(columns="admit").iloc[[5]])
    pd.testing.assert_frame_equal(one, d.X.iloc[[5]], check_exact=True)


def test_stateful_transforms_keep_training_state(df):
    d = design("admit ~ center(gpa) + scale(gre)", df)
    new = pd.DataFrame({"gpa": [3.0], "gre": [600.0]})
    X = transform(_roundtrip(d.spec), new)
    assert X.loc[0, "center(gpa)"] == pytest.approx(3.0 - df["gpa"].mean())
    assert X.loc[0, "scale(gre)"] == pytest.approx((600.0 - df["gre"].mean()) / df["gre"].std())


def test_spec_is_plain_json(df):
    d = design("admit ~ C(rank) + scale(gre) + poly(gpa, degree=2) + g", df)
    spec = d.spec
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    assert spec["formula"] == "admit ~ C(rank) + scale(gre) + poly(gpa, degree=2) + g"
    assert spec["columns"] == list(d.X.columns)
    assert spec["encoder_state"]["C(rank)"] == ["categorical", {"categories": [1, 2, 3, 4]}]
    assert spec["encoder_state"]["g"] == ["categorical", {"categories": ["a", "b", "c"]}]
    assert spec["transform_state"]["scale(gre)"]["center"] == pytest.approx(df["gre"].mean())


def test_transform_unseen_categories(df):
    spec = _roundtrip(design("admit ~ gre + C(g) + C(rank)", df).spec)
    new = pd.DataFrame({"gre": [500.0, 600.0, 700.0], "g": ["a", "z", "y"], "rank": [1, 2, 9]})
    with pytest.raises(ValueError, match=r"not seen in training.*column 'g': 'z', 'y'; column 'rank': 9"):
        transform(spec, new)


def test_transform_needs_predictors_not_response(df):
    spec = design("admit ~ gre + C(g)", df).spec
    with pytest.raises(ValueError, match=r"predictor 'g' not in the data; available columns: 'gre'"):
        transform(spec, pd.DataFrame({"gre": [500.0]}))
    with pytest.raises(ValueError, match=r"column 'gre' has missing values \(1\), the first in row 1"):
        transform(spec, pd.DataFrame({"gre": [500.0, np.nan], "g": ["a", "b"]}))
    with pytest.raises(ValueError, match="not a formula spec"):
        transform({"formula": "admit ~ gre"}, df)


# -- errors ------------------------------------------------------------------------------------------------------


def test_formula_without_tilde(df):
    with pytest.raises(ValueError, match="has no '~'"):
        design("admit gre", df)


def test_formula_without_response(df):
    with pytest.raises(ValueError, match="no response before '~'"):
        design("~ gre", df)


def test_unknown_response(df):
    with pytest.raises(ValueError, match=r"response variable 'admitted' not in the data; available columns: 'admit', "):
        design("admitted ~ gre", df)


def test_unknown_predictors(df):
    with pytest.raises(ValueError, match=r"predictors 'GRE', 'rnk' not in the data; available columns: 'admit', 'gre'"):
        design("admit ~ np.log(GRE) + C(rnk) + gpa", df)


def test_missing_values_named_not_dropped(df):
    df = df.astype({"gpa": float})
    df.loc[103, "gpa"] = np.nan
    df.loc[110, "gpa"] = np.nan
    with pytest.raises(ValueError, match=r"column 'gpa' has missing values \(2\), the first in row 103 \(position 3\)"):
        design("admit ~ gre + gpa", df)
    df.loc[101, "admit"] = None
    with pytest.raises(ValueError, match=r"column 'admit' has missing values \(1\), the first in row 101"):
        design("admit ~ gre", df)
    assert design("admit ~ gre", df.drop(index=101)).X.shape == (23, 1)  # unused columns do not matter


def test_nan_after_evaluation(df):
    df = df.assign(gre=df["gre"] - 600)
    with pytest.raises(ValueError, match="np.sqrt"), np.errstate(invalid="ignore"):
        design("admit ~ np.sqrt(gre)", df)


def test_response_needs_two_values(df):
    with pytest.raises(ValueError, match=r"has 1 distinct value \(1\); a logistic regression needs at least 2"):
        design("admit ~ gre", df.assign(admit=1))


def test_not_a_frame():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        design("y ~ x", {"y": [0, 1], "x": [1.0, 2.0]})


def test_imports_without_formulaic():
    code = (
        "import sys; sys.modules['formulaic'] = None\n"
        "import pandas as pd, logitgd.formula as f\n"
        "try:\n"
        "    f.design('y ~ x', pd.DataFrame({'y': [0, 1], 'x': [1.0, 2.0]}))\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "formulas need formulaic: pip install 'logitgd[formula]'" in out
