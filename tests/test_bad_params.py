"""Bad parameters and labels (issue 20, cases 9 and 19): each ends in one clear error naming what is wrong.

Each test's docstring notes what the code before the fix did (the last line of its traceback, or that the
value was accepted).
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from logitgd import DataError, LogisticRegression, LogisticRegressionCV


@pytest.fixture(scope="module")
def data():
    """40 rows, two features, labels 0/1 (22 of them 1)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + rng.normal(size=40) > 0).astype(np.int64)
    return X, y


# -- 9a: booleans --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, extra", [("fit_intercept", {}), ("warm_start", {}),
                                         ("early_stopping", {"solver": "sgd"})])
@pytest.mark.parametrize("value", ["no", None, 1, 0.0])
def test_boolean_parameters_must_be_bools(data, name, extra, value):
    """Before: accepted by truth value (``fit_intercept="no"`` fitted an intercept, ``early_stopping="no"``
    held out rows); no traceback."""
    with pytest.raises(ValueError, match=f"{name} must be a bool .*got {value!r}"):
        LogisticRegression(**extra, **{name: value}).fit(*data)


def test_numpy_bools_are_bools(data):
    model = LogisticRegression(fit_intercept=np.False_, warm_start=np.True_).fit(*data)
    assert model.intercept_[0] == 0.0


def test_refit_of_cv_must_be_a_bool(data):
    """Before: ``LogisticRegressionCV(refit="no")`` refitted (accepted as True)."""
    with pytest.raises(ValueError, match="refit must be a bool"):
        LogisticRegressionCV(alphas=3, cv=2, refit="no").fit(*data)


# -- 9b: class_weight ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("class_weight, key", [({5: 10.0}, "5"), ({"1": 10.0}, "'1'")])
def test_class_weight_key_that_is_not_a_label_is_refused(data, class_weight, key):
    """Before: accepted and ignored (the coefficients of the unweighted fit); no traceback."""
    with pytest.raises(ValueError, match=rf"class_weight has the key {key}, which is not among the labels \[0, 1\]"):
        LogisticRegression(class_weight=class_weight).fit(*data)


def test_class_weight_key_of_cv_is_refused(data):
    """Before: ``LogisticRegressionCV(class_weight={5: 1.0})`` was accepted and the weight ignored."""
    with pytest.raises(ValueError, match=r"key 5, which is not among the labels \[0, 1\]"):
        LogisticRegressionCV(alphas=3, cv=2, class_weight={5: 1.0}).fit(*data)


def test_cv_fold_without_a_weighted_class_still_fits():
    """A class in the whole data but missing from one fold's training rows keeps its weight elsewhere (the keys
    are checked against the whole data's labels, not each fold's)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(41, 2))
    y = np.r_[(X[:40, 0] > 0).astype(int), 2]  # one row of class 2: missing from the training rows of a fold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn: the least populated class has 1 member
        model = LogisticRegressionCV(alphas=3, cv=3, class_weight={2: 3.0}).fit(X, y)
    assert list(model.classes_) == [0, 1, 2]


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, "a", True])
def test_class_weight_values_must_be_finite_and_non_negative(data, weight):
    """Before: -1 gave ``ValueError: Negative values in data passed to `sample_weight`.``, NaN ``ValueError: Input
    sample_weight contains NaN.``, inf ``ValueError: Input sample_weight contains infinity or a value too large for
    dtype('float64').``, "a" ``ValueError: could not convert string to float: 'a'`` (none naming class_weight);
    True was accepted as 1."""
    with pytest.raises(ValueError, match="class_weight must give each class a finite weight >= 0; it gives 1"):
        LogisticRegression(class_weight={1: weight}).fit(*data)


@pytest.mark.parametrize("class_weight", ["abc", [1], 3])
def test_class_weight_of_another_type_is_refused(data, class_weight):
    """Before: "abc" gave ``InvalidParameterError: The 'class_weight' parameter of compute_sample_weight must be
    ...`` (a function the user never called), [1] ``IndexError: list index out of range``."""
    with pytest.raises(ValueError, match=r"class_weight must be a dict \{label: weight\}, 'balanced' or None"):
        LogisticRegression(class_weight=class_weight).fit(*data)


def test_class_weight_of_zero_is_refused(data):
    """Before: ``class_weight={1: 0}`` was accepted and gave a model of nothing (coef_ 0); no traceback."""
    with pytest.raises(DataError, match="class 1 has no weight: class_weight gives it 0"):
        LogisticRegression(class_weight={1: 0}).fit(*data)


def test_class_weight_that_names_the_labels_still_works(data):
    X, y = data
    weighted = LogisticRegression(class_weight={1: 2.0}).fit(X, y)
    by_rows = LogisticRegression().fit(X, y, sample_weight=np.where(y == 1, 2.0, 1.0))
    np.testing.assert_allclose(weighted.coef_, by_rows.coef_, rtol=1e-8)
    LogisticRegression(class_weight={"b": 2.0}).fit(X, np.where(y == 1, "b", "a"))  # text labels
    LogisticRegression(class_weight={True: 2.0}).fit(X, y.astype(bool))  # booleans


# -- 9c: power_t ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{"solver": "sgd"}, {}, {"solver": "sgd", "learning_rate": "constant", "eta0": 0.1},
                                    {"learning_rate": "adaptive", "eta0": 0.1}])
def test_power_t_without_invscaling_is_refused(data, params):
    """Before: accepted and unused (``solver="sgd"`` with its default schedule, ``solver="auto"``, which then
    picked sgd, or another schedule); no traceback."""
    with pytest.raises(ValueError, match="power_t=0.25 only applies to learning_rate='invscaling'"):
        LogisticRegression(power_t=0.25, **params).fit(*data)


def test_power_t_without_invscaling_is_refused_by_partial_fit(data):
    """Before: accepted and unused."""
    with pytest.raises(ValueError, match="power_t=0.25 only applies to learning_rate='invscaling'"):
        LogisticRegression(solver="sgd", power_t=0.25).partial_fit(*data, classes=[0, 1])


def test_power_t_with_invscaling_and_the_default_elsewhere_are_accepted(data):
    model = LogisticRegression(solver="sgd", learning_rate="invscaling", eta0=0.1, power_t=0.25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a slow schedule on purpose: it may stop at max_iter
        clone(model).fit(*data)
    assert clone(model).get_params()["power_t"] == 0.25
    for params in ({"solver": "sgd"}, {"solver": "sgd", "power_t": 0.5}, {}, {"solver": "lbfgs"}):
        clone(LogisticRegression(**params)).fit(*data)  # the default is not "given"


# -- 9d: sample_weight ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton", "gd", "sgd"])
def test_a_class_without_weight_is_refused(data, solver):
    """Before: no traceback; a model of nothing for the class (lbfgs: coef_ about 0, intercept_ -25.8; newton:
    coef_ 0, intercept_ -23.0). scikit-learn 1.9 accepts it too and fits intercept_ -11.5."""
    X, y = data
    with pytest.raises(DataError, match="class 1 has no weight: every sample_weight of its 22 rows is 0"):
        LogisticRegression(solver=solver).fit(X, y, sample_weight=np.where(y == 1, 0.0, 1.0))


def test_a_class_without_weight_is_refused_with_more_classes(data):
    """Before: no traceback; the class's probabilities were all about 0."""
    X, _ = data
    y = np.array(["a", "b", "c", "d"] * 10)
    for multi_class in ("multinomial", "ovr"):
        with pytest.raises(DataError, match="class 'c' has no weight: every sample_weight of its 10 rows is 0"):
            LogisticRegression(multi_class=multi_class).fit(X, y, sample_weight=np.where(y == "c", 0.0, 1.0))


def test_a_class_without_weight_is_refused_by_cv(data):
    """Before: no traceback; every fit had a class of nothing."""
    X, y = data
    with pytest.raises(DataError, match="class 1 has no weight"):
        LogisticRegressionCV(alphas=3, cv=2).fit(X, y, sample_weight=np.where(y == 1, 0.0, 1.0))


def test_a_partial_fit_piece_whose_class_has_no_weight_is_accepted(data):
    """A piece of a stream may lack a class (``classes`` names them all): zero weights on its rows are the same."""
    X, y = data
    model = LogisticRegression(solver="sgd", random_state=0)
    model.partial_fit(X, y, classes=[0, 1], sample_weight=np.where(y == 1, 0.0, 1.0))
    model.partial_fit(X, y)
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("sample_weight, message", [(np.zeros(40), "at least one non-zero"),
                                                    (-np.ones(40), "Negative values"),
                                                    (np.r_[np.nan, np.ones(39)], "NaN")])
def test_all_zero_or_negative_sample_weights_were_and_are_refused(data, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        LogisticRegression().fit(*data, sample_weight=sample_weight)


def test_a_class_without_weight_is_refused_for_dask_input(data):
    """Before: no traceback; a model of nothing for the class."""
    da = pytest.importorskip("dask.array")
    import dask

    X, y = data
    sw = np.where(y == 1, 0.0, 1.0)
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(DataError, match="class 1 has no weight: every sample_weight of its 22 rows is 0"):
            LogisticRegression().fit(da.from_array(X, chunks=20), da.from_array(y, chunks=20),
                                     sample_weight=da.from_array(sw, chunks=20))
        with pytest.raises(ValueError, match=r"class_weight has the key 5, which is not among the labels \[0, 1\]"):
            LogisticRegression(class_weight={5: 1.0}).fit(da.from_array(X, chunks=20), da.from_array(y, chunks=20))


# -- 19a: numbers --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", None, [0.5], "0.5"])
def test_validation_fraction_that_is_not_a_number_is_refused(data, value):
    """Before: ``TypeError: '<' not supported between instances of 'int' and 'str'`` (and 'NoneType', 'list')."""
    with pytest.raises(ValueError, match=r"validation_fraction must be a number in \(0, 1\)"):
        LogisticRegression(solver="sgd", early_stopping=True, validation_fraction=value).fit(*data)


@pytest.mark.parametrize("params, name", [
    ({"penalty": "elasticnet", "l1_ratio": True}, "l1_ratio"),  # before: accepted as 1
    ({"max_iter": True}, "max_iter"),  # before: accepted as 1 iteration
    ({"tol": np.inf}, "tol"),  # before: accepted; stopped at once, "converged"
    ({"tol": True}, "tol"),  # before: accepted as 1
    ({"verbose": "abc"}, "verbose"),  # before: TypeError: unsupported operand type(s) for //: 'int' and 'str'
    ({"verbose": -1}, "verbose"),  # before: accepted; printed every iteration
    ({"verbose": np.nan}, "verbose"),  # before: accepted; printed every iteration
    ({"verbose": 0.5}, "verbose"),  # before: accepted
    ({"solver": "gd", "learning_rate": True}, "learning_rate"),  # before: accepted as a step of 1
    ({"learning_rate": True}, "learning_rate"),  # before: accepted; solver='auto' picked gd, step 1
    ({"solver": ["sgd"]}, "solver"),  # before: TypeError: unhashable type: 'list'
    ({"callback": "abc"}, "callback"),  # before: TypeError: 'str' object is not callable
])
def test_numbers_and_others_of_the_wrong_kind_are_refused(data, params, name):
    """Found by fuzzing the parameters with text, None, NaN, inf, bools and negatives: each was a raw TypeError
    or accepted silently (see each case's comment)."""
    with pytest.raises(ValueError, match=name):
        LogisticRegression(**params).fit(*data)


def test_good_numbers_still_pass(data):
    for params in ({"verbose": True}, {"verbose": np.int64(0)}, {"tol": 0}, {"max_iter": np.int64(5)},
                   {"penalty": "elasticnet", "l1_ratio": np.float64(0.5)}, {"solver": "gd", "learning_rate": 0.5},
                   {"solver": "sgd", "early_stopping": True, "validation_fraction": np.float64(0.25)}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short fits may stop at max_iter
            LogisticRegression(**params).fit(*data)


# -- 19c: labels of mixed types ------------------------------------------------------------------------------------
def test_labels_mixing_numbers_and_text_are_refused(data):
    """Before: ``TypeError: '<' not supported between instances of 'str' and 'int'`` (from np.unique)."""
    X, _ = data
    y = np.array([0, "a", 1, "a"] * 10, dtype=object)
    with pytest.raises(DataError, match=r"Mix of label input types \(string and number\) in y.*0 \(int\), 'a' \(str\)"):
        LogisticRegression().fit(X, y)


def test_labels_with_none_are_refused(data):
    """Before: ``TypeError: '<' not supported between instances of 'NoneType' and 'int'``."""
    X, _ = data
    with pytest.raises(DataError, match=r"Mix of label input types \(int and NoneType\) in y"):
        LogisticRegression().fit(X, np.array([0, None] * 20, dtype=object))


def test_classes_mixing_numbers_and_text_are_refused_by_partial_fit(data):
    """Before: ``TypeError: '<' not supported between instances of 'str' and 'int'``."""
    with pytest.raises(DataError, match=r"Mix of label input types \(string and number\) in classes"):
        LogisticRegression(solver="sgd").partial_fit(*data, classes=np.array([0, "a"], dtype=object))


@pytest.mark.parametrize("chunks", [20, 40])
def test_mixed_labels_on_dask_input_are_named(data, chunks):
    """Case 19c on dask input: labels mixing ints and strings, within a chunk (40) or across chunks (20, the first
    all numbers, the second all text): "TypeError: '<' not supported between instances of 'str' and 'int'"."""
    da = pytest.importorskip("dask.array")
    X, _ = data
    y = np.array([0, 1] * 10 + ["a", "b"] * 10, dtype=object) if chunks == 20 else np.array([0, "a"] * 20, dtype=object)
    with pytest.raises(DataError, match=r"Mix of label input types \(string and number\) in y.*0 \(int\), .a. \(str\)"):
        LogisticRegression().fit(da.from_array(X, chunks=(chunks, 2)), da.from_array(y, chunks=chunks))
