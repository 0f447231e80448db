"""Issue 20, cases 14 and 19b: model files edited by hand (with their checksum recomputed, so that the checksum does
not catch the edit) and labels of unusual dtypes. Each ends in a correct result or one
:class:`logitgd.ModelFileError` naming the entry of the file and what was expected; on the command line, one
``logitgd: error:`` line and exit status 1. What each case got before the fix is in its test's docstring (the
tracebacks were reproduced on the code before the change).

The model files are written here, into ``tmp_path``, from a 40-row draw: nothing in ``tests/data`` is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import logitgd
from logitgd import LogisticRegression, ModelFileError
from logitgd.persistence import _checksum


def _installed():
    exe = shutil.which("logitgd") or os.path.join(os.path.dirname(sys.executable), "logitgd")
    assert os.path.exists(exe), "the 'logitgd' console script is not installed"
    return exe


def _frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    return X, (X["x"] + rng.normal(size=n) > 0).to_numpy().astype(int)


def _fit(labels=None, **params):
    """A model on the 40 rows, its classes ``labels[y]`` (``labels`` of 2 or 3 labels) or 0/1."""
    X, y = _frame()
    if labels is not None:
        y = labels[y + (X["y"].to_numpy() > 0.5) * (len(labels) > 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(**params).fit(X, y)


def _rehashed(path, change):
    """Edit the JSON of ``path`` with ``change(payload)`` and recompute its checksum, as a careful editor would."""
    payload = json.loads(path.read_text())
    change(payload)
    payload["sha256"] = _checksum({k: v for k, v in payload.items() if k != "sha256"})
    path.write_text(json.dumps(payload, indent=1))
    return path


@pytest.fixture
def data_csv(tmp_path):
    X, _ = _frame()
    path = tmp_path / "data.csv"
    X.to_csv(path, index=False)
    return path


@pytest.fixture
def saved(tmp_path):
    """A two-class model with feature names x, y and its summary's entry (inference)."""
    path = tmp_path / "model.json"
    logitgd.save(_fit(), path)
    assert json.loads(path.read_text())["inference"] is not None
    return path


def _cli(*argv):
    return subprocess.run([_installed(), *map(str, argv)], capture_output=True, text=True, timeout=120,
                          check=False)


def _one_error_line(run, path, *needles):
    """Exit 1, no traceback, and one line on stderr, ``logitgd: error: ...``, naming ``path`` and holding every
    needle in the rest of the line (pytest's folders are named after the tests: a needle must not match them)."""
    assert run.returncode == 1, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logitgd: error: "), run.stderr
    assert str(path) in lines[0], lines[0]
    rest = lines[0].replace(str(path), "")
    for needle in needles:
        assert needle in rest, (needle, lines[0])


def _refused(path, *needles):
    with pytest.raises(ModelFileError) as info:
        logitgd.load(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    rest = message.replace(str(path), "")  # pytest's folders are named after the tests: a needle must not match them
    for needle in needles:
        assert needle in rest, (needle, message)
    return rest


# -- case 14b: classes out of range for classes_dtype -----------------------------------------------------------

@pytest.mark.parametrize("labels, classes, needle", [
    (np.array([0, 1], dtype=np.int8), [0, 300], "classes[1] is 300"),
    (np.array([0, 1], dtype=np.uint8), [-1, 1], "classes[0] is -1"),
    (np.array([0, 1], dtype=np.uint64), [0, 2**64], f"classes[1] is {2**64}"),
    (np.array([0, 1]), [0.5, 1], "classes[0] is 0.5"),
    (np.array([0, 1]), ["0", "1"], "classes[0] is '0'"),
    (np.array(["a", "b"]), ["a", "bb"], "classes[1] is 'bb'"),
    (np.array([False, True]), [0, 1], "classes[0] is 0"),
    (np.array([0.0, 1.0], dtype=np.float16), [0.0, 70000.0], "classes[1] is 70000.0"),
    (np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"), ["2020-01-01T12:00", "2021-01-01"],
     "classes[0] is '2020-01-01T12:00'"),
], ids=["int8-300", "uint8-negative", "uint64-2**64", "int64-half", "int64-text", "U1-cut", "bool-int",
        "float16-overflow", "datetime-day-with-time"])
def test_classes_that_are_not_of_their_dtype_are_refused(tmp_path, labels, classes, needle):
    """Before: int8 300 / uint8 -1 / uint64 2**64 gave ``OverflowError: Python integer 300 out of bounds for int8``
    (not a ModelFileError); the others loaded silently as other labels (0.5 cut to 0, 'bb' to 'b', 70000 to inf,
    '2020-01-01T12:00' to 2020-01-01), so predict named classes the model was not fitted on."""
    path = tmp_path / "m.json"
    logitgd.save(_fit(labels), path)
    _rehashed(path, lambda p: p.update(classes=classes))
    message = _refused(path, needle, "classes_dtype")
    assert str(labels.dtype) in message


@pytest.mark.parametrize("classes, needle", [([1, 0], "increasing order"), ([0.5, 1.5], "not class labels")],
                         ids=["unsorted", "continuous"])
def test_classes_a_fit_cannot_make_are_refused(saved, classes, needle):
    """Before: both loaded; classes [1, 0] swapped every prediction's label silently (a fit sorts its classes), and
    [0.5, 1.5] are continuous values that fit() refuses as labels."""
    _rehashed(saved, lambda p: p.update(classes=classes, classes_dtype="<f8" if 0.5 in classes else "<i8"))
    _refused(saved, needle)


@pytest.mark.parametrize("dtype", ["<c16", "i4,i4", "<U0", "V8", "<M8", 7], ids=str)
def test_classes_dtype_that_is_not_a_label_dtype_is_refused(saved, dtype):
    """Before: complex and structured dtypes loaded as such (0 and 1 as 0j and 1j, or as (0, 0) and (1, 1)) and <U0
    took a size from the values; V8, <M8 and 7 were refused with numpy's words only ("a bytes-like object is
    required", "Converting an integer to a NumPy datetime requires a specified unit", "Cannot interpret '7'")."""
    _rehashed(saved, lambda p: p.update(classes_dtype=dtype))
    _refused(saved, "classes_dtype", "not a")


def test_classes_out_of_range_command_line(saved, data_csv):
    """Before: ``OverflowError: Python integer 300 out of bounds for int8`` with a traceback."""
    _rehashed(saved, lambda p: p.update(classes=[0, 300], classes_dtype="|i1"))
    _one_error_line(_cli("predict", saved, data_csv), saved, "classes[1] is 300", "int8")


# -- case 14c: a malformed params.class_weight ------------------------------------------------------------------

BAD_CLASS_WEIGHTS = {
    "no-pairs": {"x": 1},
    "extra-entry": {"pairs": [[0, 2.0]], "x": 1},
    "pairs-text": {"pairs": "0=2"},
    "weight-text": {"pairs": [[0, "x"]]},
    "weight-negative": {"pairs": [[0, -1.0]]},
    "weight-bool": {"pairs": [[0, True]]},
    "weight-null": {"pairs": [[0, None]]},
    "weight-400-digits": {"pairs": [[0, 10**400]]},
    "not-a-pair": {"pairs": [[0]]},
    "label-list": {"pairs": [[[0], 2.0]]},
    "label-twice": {"pairs": [[0, 2.0], [0, 3.0]]},
    "a-list": [1, 2],
    "other-text": "balance",
    "a-number": 2.0,
}


@pytest.mark.parametrize("name", list(BAD_CLASS_WEIGHTS))
def test_malformed_class_weight_is_refused(saved, name):
    """Before: ``KeyError: 'pairs'`` for a dict without "pairs"; ``ValueError: not enough values to unpack`` (wrapped,
    without naming class_weight) for [[0]]; every other one loaded silently (a weight 'x' or -1 only failed at the
    next fit)."""
    _rehashed(saved, lambda p: p["params"].update(class_weight=BAD_CLASS_WEIGHTS[name]))
    _refused(saved, "params.class_weight")


@pytest.mark.parametrize("name", ["no-pairs", "weight-text"])
def test_malformed_class_weight_command_line(saved, data_csv, name):
    """Before: a traceback ending in ``KeyError: 'pairs'`` (no-pairs); weight-text predicted as if it were valid."""
    _rehashed(saved, lambda p: p["params"].update(class_weight=BAD_CLASS_WEIGHTS[name]))
    _one_error_line(_cli("predict", saved, data_csv), saved, "params.class_weight")


def test_well_formed_class_weight_still_loads(tmp_path):
    path = tmp_path / "m.json"
    logitgd.save(_fit(class_weight={0: 2.0, 1: 0.5}), path)
    assert logitgd.load(path).class_weight == {0: 2.0, 1: 0.5}
    _rehashed(path, lambda p: p["params"].update(class_weight="balanced"))
    assert logitgd.load(path).class_weight == "balanced"


# -- case 14d: repeated feature_names ---------------------------------------------------------------------------

def test_repeated_feature_names_are_refused(saved):
    """Before: the file loaded, and predict on the command line ended in narwhals' ``DuplicateError: Expected unique
    column names, got: - 'x' 2 times`` (a DataFrame's predict: scikit-learn's "feature names should match")."""
    _rehashed(saved, lambda p: p.update(feature_names=["x", "x"]))
    _refused(saved, "feature_names repeats 'x'")


def test_repeated_feature_names_command_line(saved, data_csv):
    """Before: a traceback ending in ``narwhals.exceptions.DuplicateError``."""
    _rehashed(saved, lambda p: p.update(feature_names=["x", "x"]))
    _one_error_line(_cli("predict", saved, data_csv), saved, "feature_names repeats 'x'")


# -- case 19b: datetime64 and other unusual labels --------------------------------------------------------------

def _round_trip(tmp_path, labels, **params):
    model = _fit(labels, **params)
    path = tmp_path / "m.json"
    logitgd.save(model, path, overwrite=True)
    back = logitgd.load(path)
    assert back.classes_.dtype == model.classes_.dtype
    assert np.array_equal(back.classes_, model.classes_)
    X, _ = _frame()
    assert np.array_equal(back.predict(X), model.predict(X))
    assert back.predict(X).dtype == model.predict(X).dtype
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    return model, back, json.loads(path.read_text())


@pytest.mark.parametrize("unit", ["Y", "M", "D", "h", "s", "ms", "us", "ns"])
def test_datetime_labels_round_trip(tmp_path, unit):
    """Before: save raised ``TypeError: Object of type date is not JSON serializable`` (datetime for s, ms, us; only
    ns, whose .item() is an int, worked). Now the file holds the labels' ISO text in their unit."""
    labels = np.array(["2020-01-01", "2021-01-01", "2022-01-01"], dtype=f"datetime64[{unit}]")
    model, _, payload = _round_trip(tmp_path, labels[:2])
    assert payload["classes"] == [str(t) for t in np.datetime_as_string(model.classes_)]
    assert payload["classes_dtype"] == np.dtype(f"datetime64[{unit}]").str
    _round_trip(tmp_path, labels)  # three classes


def test_datetime_ns_labels_written_as_integers_still_load(tmp_path):
    """Files written before held datetime64[ns] labels as integers (nanoseconds since 1970): they still load."""
    labels = np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[ns]")
    model = _fit(labels)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    _rehashed(path, lambda p: p.update(classes=labels.astype(np.int64).tolist()))
    back = logitgd.load(path)
    assert back.classes_.dtype == labels.dtype and np.array_equal(back.classes_, labels)


@pytest.mark.parametrize("labels", [
    np.array([False, True]),
    np.array([2**63 + 1, 2**64 - 1], dtype=np.uint64),
    np.array([-2**63, 2**63 - 1], dtype=np.int64),
    np.array([-3, 7], dtype=np.int8),
    np.array([0.0, 1e300]),
    np.array([0.0, 2.0], dtype=np.float16),
    np.array([1.0, 3.0], dtype=np.float32),
    np.array([b"no", b"yes"]),
    np.array([b"\x00\xff", b"\xfe"]),
    np.array(["nein", "ja, gerne", "\u00fc\u20ac"]),
    np.array(["a", "b"], dtype=object),
    np.array([1, 2], dtype="timedelta64[h]"),
    np.array([-5, 10**15], dtype="timedelta64[ns]"),
], ids=["bool", "uint64-above-2**63", "int64-extremes", "int8", "float-1e300", "float16", "float32", "bytes",
        "bytes-not-text", "numpy-str", "object-str", "timedelta-hours", "timedelta-ns"])
def test_unusual_label_dtypes_round_trip(tmp_path, labels):
    """Before: bytes and timedelta64[h] labels failed at save with ``TypeError: Object of type bytes (timedelta) is
    not JSON serializable``; the others (timedelta64[ns] too: its .item() is an int) already worked and still do."""
    _round_trip(tmp_path, labels)


@pytest.mark.parametrize("labels, weights", [
    (np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"), [2.0, 1.0]),
    (np.array([b"no", b"yes"]), [0.5, 3.0]),
    (np.array([1, 2], dtype="timedelta64[h]"), [1.0, 4.0]),
], ids=["datetime", "bytes", "timedelta"])
def test_class_weight_keyed_by_unusual_labels_round_trips(tmp_path, labels, weights):
    """Before: save raised ``TypeError: Object of type date (bytes, timedelta) is not JSON serializable``."""
    cw = dict(zip(labels.tolist() if labels.dtype.kind == "S" else list(labels), weights))
    _, back, _ = _round_trip(tmp_path, labels, class_weight=cw)
    assert back.class_weight == cw


@pytest.mark.skipif(np.dtype(np.longdouble) == np.dtype(np.float64), reason="long double is float64 here")
def test_labels_a_file_cannot_hold_are_refused_at_save(tmp_path):
    """Before: ``TypeError: Object of type longdouble is not JSON serializable`` from json. Now one
    ModelFileError (a ValueError) naming the labels' dtype, and nothing written."""
    model = _fit(np.array([0, 1], dtype=np.longdouble))
    path = tmp_path / "m.json"
    with pytest.raises(ModelFileError, match="cannot be stored") as info:
        logitgd.save(model, path)
    assert str(np.dtype(np.longdouble)) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_datetime_target_command_line(tmp_path):
    """Before: ``logitgd fit`` on a Parquet file whose target is a timestamp column (read as datetime64[ms]) fitted,
    then died at saving the model with a traceback (``TypeError: Object of type datetime is not JSON
    serializable``). Now fit writes the model and predict names the dates."""
    pytest.importorskip("pyarrow")
    X, y = _frame()
    data = tmp_path / "dated.parquet"
    X.assign(when=np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[ms]")[y]).to_parquet(data)
    model = tmp_path / "m.json"
    fit = _cli("fit", data, "--target", "when", "--test-size", "0", "--quiet", "--model", model)
    assert fit.returncode == 0 and "Traceback" not in fit.stderr, fit.stderr
    predict = _cli("predict", model, data)
    assert predict.returncode == 0, predict.stderr
    lines = predict.stdout.splitlines()
    assert lines[0].endswith(",prediction") and "2021-06-30" in lines[0]
    assert {line.rsplit(",", 1)[1] for line in lines[1:]} <= {"2020-01-01", "2021-06-30"}


# -- further holes of the same kind (a fuzz of every entry, the checksum recomputed) ------------------------------

def _set(path, value):
    """A change that sets the entry at ``path`` (keys and indices) to ``value``."""
    def change(payload):
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


#: name: (change, a piece of the message now, what it got before)
HOLES = {
    "coef-400-digits": (_set(("coef", 0, 0), 10**400), "coef is not an array of numbers",
                        "OverflowError: int too large to convert to float"),
    "intercept-400-digits": (_set(("intercept",), [10**400]), "intercept is not an array", "OverflowError"),
    "loss-400-digits": (_set(("loss_history", 0), 10**400), "loss_history is not an array", "OverflowError"),
    "loss-null": (_set(("loss_history", 0), None), "loss_history holds None", "loaded, loss_history_ holding NaN"),
    "coef-true": (_set(("coef", 0, 0), True), "coef holds True",
                  "read as 1.0: refused only as 'inference entry is for other coefficients'"),
    "coef-text": (_set(("coef",), "abc"), "coef is 'abc'", "'could not convert string to float', coef not named"),
    "fit-intercept-null": (_set(("params", "fit_intercept"), None), "params.fit_intercept is None",
                           "ValueError: operands could not be broadcast together with shapes (3,) (2,)"),
    "alpha-list": (_set(("params", "alpha"), [[1]]), "params.alpha is [[1]]",
                   "loaded; summary: TypeError: float() argument must be ... not 'list'"),
    "alpha-400-digits": (_set(("params", "alpha"), 10**400), "params.alpha is 1000",
                         "loaded; summary: OverflowError: int too large to convert to float"),
    "alpha-text": (_set(("params", "alpha"), "abc"), "alpha must be", "loaded; summary: TypeError"),
    "n-iter-text": (_set(("n_iter",), "abc"), "n_iter is 'abc'", "loaded, n_iter_ = 'abc'"),
    "converged-text": (_set(("converged",), "yes"), "converged is 'yes'", "loaded, converged_ = 'yes'"),
    "stop-reason-number": (_set(("stop_reason",), 5), "stop_reason is 5", "loaded, stop_reason_ = 5"),
    "classes-nested": (lambda p: p.update(classes=[[0, 300], [1, 2]], classes_dtype="|i1"), "classes is [[0, 300]",
                       "OverflowError: Python integer 300 out of bounds for int8"),
    "inference-n-classes": (_set(("inference", "n_classes"), -1e308), "n_classes is -1e+308",
                            "loaded; summary: TypeError: 'float' object cannot be interpreted as an integer"),
    "inference-llf-null": (_set(("inference", "llf"), None), "llf is None",
                           "loaded; summary: TypeError: unsupported operand type(s) for *: 'int' and 'NoneType'"),
    "inference-nobs-null": (_set(("inference", "nobs"), None), "nobs is None", "loaded; summary: TypeError"),
    "inference-nobs-400-digits": (_set(("inference", "nobs"), 10**400), "nobs is 1000",
                                  "loaded; summary: OverflowError"),
    "inference-separating-null": (_set(("inference", "separating"), None), "separating is None",
                                  "loaded; summary: TypeError: 'NoneType' object is not iterable"),
    "inference-theta-400-digits": (_set(("inference", "theta", 0), 10**400), "theta is not an array",
                                   "OverflowError"),
    "inference-meat-null": (_set(("inference", "meat", 0, 0), None), "meat holds None",
                            "loaded, the sandwich's meat holding NaN"),
}


@pytest.mark.parametrize("name", list(HOLES))
def test_entries_of_a_wrong_type_or_size_are_refused(saved, name):
    """Before: HOLES's third column (from load, or from predict or summary after a silent load)."""
    change, needle, _ = HOLES[name]
    _rehashed(saved, change)
    _refused(saved, needle)


@pytest.mark.parametrize("name", ["coef-400-digits", "fit-intercept-null", "inference-llf-null"])
def test_entries_of_a_wrong_type_command_line(saved, data_csv, name):
    """Before: tracebacks (OverflowError at load; ``ValueError: operands could not be broadcast together`` at load;
    ``TypeError: unsupported operand type(s) for *: 'int' and 'NoneType'`` in ``logitgd summary``)."""
    change, needle, _ = HOLES[name]
    _rehashed(saved, change)
    _one_error_line(_cli("predict", saved, data_csv), saved, needle)
    _one_error_line(_cli("summary", saved), saved, needle)


def test_a_400_digit_number_in_the_input_encoding_is_refused(tmp_path):
    """Before: ``OverflowError: int too large to convert to float`` from the check of the encoding itself."""
    X, y = _frame()
    model = LogisticRegression().fit(X.to_numpy(), y)
    encoding = {"kind": "table", "numeric": ["x", "y"], "categorical": [], "feature_names": ["x", "y"],
                "preprocess": {"impute": "mean", "statistics": [0.0, 0.0], "standardize": False, "mean": None,
                               "scale": None}}
    path = tmp_path / "m.json"
    logitgd.save(model, path, input_encoding=encoding)
    _rehashed(path, lambda p: p["input_encoding"]["preprocess"]["statistics"].__setitem__(0, 10**400))
    _refused(path, "input_encoding", "statistics")


@pytest.fixture
def formula_model(tmp_path):
    pytest.importorskip("formulaic")
    X, y = _frame()
    frame = X.assign(g=np.where(X["y"] > 0, "u", "v"), t=y)
    path = tmp_path / "formula.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logitgd.save(LogisticRegression.from_formula("t ~ x + C(g)", frame), path)
    data = tmp_path / "frame.csv"
    frame.to_csv(data, index=False)
    return path, data


@pytest.mark.parametrize("change, needle", [
    (lambda p: p["formula"].update(encoder_state=None), "encoder_state"),  # AttributeError at predict
    (lambda p: p.update(feature_names=None, inference=None), "feature_names"),  # AttributeError at predict
    (lambda p: p["formula"].update(columns=["x", "other"]), "columns"),  # a DataError that blamed the data
    (lambda p: p["formula"].update(version="1"), "version"),
], ids=["encoder-state-null", "no-feature-names", "columns", "version-text"])
def test_malformed_formula_entry_is_refused(formula_model, change, needle):
    """Before: ``AttributeError: 'NoneType' object has no attribute 'items'`` (encoder_state null) and
    ``'LogisticRegression' object has no attribute 'feature_names_in_'`` (no feature_names) at predict; other
    columns made predict blame the data ("formula ... gives the columns ..."). A version "1" loaded."""
    path, data = formula_model
    _rehashed(path, change)
    _refused(path, "formula", needle)
    _one_error_line(_cli("predict", path, data), path, needle)
