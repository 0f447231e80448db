"""Generated input, as a careful user and a hostile file would give it (Hypothesis): every input either fits and
says what happened, or fails with one clear error of the project's own; never a traceback from a library, a
NumPy RuntimeWarning (pyproject makes those errors), a NaN in a model, or a silent stop short of convergence.

CI runs the "ci" profile (a bounded, derandomized number of examples, see conftest.py); ``python
scripts/fuzz.py`` runs the same properties on many more, random, examples.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitgd import LogisticRegression
from logitgd.cli import main
from logitgd.exceptions import ConvergenceWarning, DataError

# Texts that mean a library's internals reached the user: the checks in front of them are missing.
LIBRARY_TEXTS = ("array must not contain infs or NaNs", "LinAlgError", "could not convert", "object of type",
                 "index out of", "unsupported operand", "NoneType", "Traceback", "overflow encountered",
                 "invalid value encountered",
                 "nan_to_num", "setting an array element")

_SPECIAL = [0.0, -0.0, 1.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, 5e-324, 1e150, 1e160, 3e38]
_cells = st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from(_SPECIAL), st.integers(-5, 5))


@st.composite
def estimator_inputs(draw):
    n, d = draw(st.integers(2, 25)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    X = draw(hnp.arrays(np.float64, (n, d), elements=_cells))
    with np.errstate(over="ignore"):
        X = X.astype(dtype)
    y = draw(st.one_of(hnp.arrays(np.int64, n, elements=st.integers(0, 2)),
                       st.lists(st.sampled_from(["no", "yes", "maybe"]), min_size=n, max_size=n).map(np.array),
                       hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, 0.5, math.nan]))))
    sw = draw(st.one_of(st.none(), hnp.arrays(np.float64, n, elements=st.one_of(
        st.floats(0, 10, allow_nan=False), st.sampled_from([0.0, -1.0, math.nan, math.inf, 1e300])))))
    params = draw(st.fixed_dictionaries({
        "solver": st.sampled_from(["auto", "gd", "lbfgs", "newton", "sgd"]),
        "penalty": st.sampled_from(["l2", "l1", None, "firth"]),
        "alpha": st.sampled_from([None, 0.0, 1e-4, 1.0]),
        "fit_intercept": st.booleans(),
    }))
    return X, y, sw, params


def _fit(X, y, sw, params):
    """The fit's model, or the ValueError/TypeError it raised (the estimator API's errors, as scikit-learn's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            model = LogisticRegression(max_iter=300, random_state=0, **params).fit(X, y, sample_weight=sw)
        except (ValueError, TypeError) as exc:
            return exc, caught
    return model, caught


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(estimator_inputs())
def test_the_estimator_fits_and_says_so_or_refuses_clearly(case):
    X, y, sw, params = case
    got, caught = _fit(X, y, sw, params)
    if isinstance(got, Exception):
        text = str(got)
        assert text and "\n" not in text.strip(), text
        assert not any(t in text for t in LIBRARY_TEXTS), text
        return
    model = got
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all(), model.stop_reason_
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    told = [w for w in caught if issubclass(w.category, (ConvergenceWarning, UserWarning))]
    assert model.converged_ or told, ("stopped short of convergence without a word", model.stop_reason_)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _check_cli(code, err):
    """0 (warnings allowed, each one line), or 1 with one line that names the problem; never an exception."""
    assert code in (0, 1), (code, err)
    lines = err.splitlines()
    assert all(line.startswith("logitgd: ") for line in lines), err
    if code == 1:
        errors = [line for line in lines if line.startswith("logitgd: error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], err
        assert not any(t in errors[0] for t in LIBRARY_TEXTS), err


_csv_cells = st.one_of(
    st.integers(-3, 3).map(str), st.floats(-1e3, 1e3, allow_nan=False).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e400", "1,5", "0x10", "True", "yes", '"a,b"', "é", " 1 ",
                     "1e308", "-0", "2147483648", "99999999999999999999", "a\"b", "NULL"]))


@st.composite
def csv_files(draw):
    n_cols, n_rows = draw(st.integers(1, 4)), draw(st.integers(0, 10))
    names = draw(st.lists(st.sampled_from(["x", "z", "w", "", "y ", "x.1", "é"]), min_size=n_cols - 1,
                          max_size=n_cols - 1))
    header = ["y", *names]
    sep = draw(st.sampled_from([",", ";", "\t"]))
    labels = st.sampled_from(["0", "1", "yes", "no", "", "2", "1.5", "NA"])
    rows = [[draw(labels), *(draw(_csv_cells) for _ in names)] for _ in range(n_rows)]
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "#", sep * 6, "x"])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=csv_files())
def test_any_csv_fits_or_gets_one_line(capsys, tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    code, _, err = _cli(capsys, "fit", path, "--target", "y", "--quiet", "--test-size", "0", "--max-iter", "200")
    _check_cli(code, err)


_columns = {
    "int": st.lists(st.integers(-2**62, 2**62), min_size=1),
    "float": st.lists(st.sampled_from(_SPECIAL) | st.floats(-5, 5), min_size=1),
    "text": st.lists(st.sampled_from(["a", "b", "", "é", None]), min_size=1),
    "bool": st.lists(st.booleans() | st.none(), min_size=1),
    "date": st.lists(st.dates().map(pd.Timestamp), min_size=1),
}


@st.composite
def parquet_frames(draw):
    n = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(sorted(_columns)), min_size=1, max_size=3))
    data = {}
    for j, kind in enumerate(kinds):
        values = draw(_columns[kind].map(lambda v, n=n: (v * n)[:n]))
        data[f"c{j}"] = pd.Series(values).astype("category") if draw(st.booleans()) and kind == "text" else values
    target_kind = draw(st.sampled_from(["int", "text", "bool", "float", "list"]))
    pool = {"int": [0, 1, 2], "text": ["no", "yes", None], "bool": [True, False], "float": [0.0, 1.0, math.nan],
            "list": [[0], [1, 0]]}[target_kind]
    data["y"] = [draw(st.sampled_from(pool)) for _ in range(n)]
    return pd.DataFrame(data)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=parquet_frames())
def test_any_parquet_fits_or_gets_one_line(capsys, tmp_path, frame):
    path = tmp_path / "data.parquet"
    try:
        frame.to_parquet(path)
    except Exception:  # noqa: BLE001 - a frame pyarrow cannot store is not a file anyone has
        assume(False)
    code, _, err = _cli(capsys, "fit", path, "--target", "y", "--quiet", "--test-size", "0", "--max-iter", "200")
    _check_cli(code, err)


_svm_tokens = st.one_of(
    st.builds(lambda i, v: f"{i}:{v}", st.integers(0, 40) | st.sampled_from([-1, 2**31 - 1, "x", ""]),
              st.sampled_from(["1", "0.5", "-3", "nan", "inf", "1e400", "x", "", "1e308"])),
    st.sampled_from(["qid:1", "#", "# comment", ":", "1:", ":1"]))


@st.composite
def svmlight_files(draw):
    labels = st.sampled_from(["0", "1", "-1", "+1", "2", "1.5", "nan", "x", ""])
    lines = [" ".join([draw(labels), *draw(st.lists(_svm_tokens, max_size=4))])
             for _ in range(draw(st.integers(0, 8)))]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=svmlight_files())
def test_any_svmlight_file_fits_or_gets_one_line(capsys, tmp_path, text):
    path = tmp_path / "data.svm"
    path.write_text(text, encoding="utf-8")
    code, _, err = _cli(capsys, "fit", path, "--quiet", "--test-size", "0", "--max-iter", "200")
    _check_cli(code, err)


@pytest.mark.parametrize("reader", ["table", "svmlight"])
def test_the_readers_raise_only_data_errors_on_bytes(tmp_path, reader):
    """Random bytes under each suffix: the reader's own DataError, with the file named."""
    from logitgd.io import read_svmlight, read_table

    rng = np.random.default_rng(0)
    for i in range(40 if os.environ.get("HYPOTHESIS_PROFILE") != "long" else int(os.environ["LOGITGD_FUZZ_EXAMPLES"])):
        suffix = [".csv", ".parquet", ".csv.gz"][i % 3] if reader == "table" else [".svm", ".svm.gz"][i % 2]
        path = tmp_path / f"f{i}{suffix}"
        path.write_bytes(rng.integers(0, 256, rng.integers(0, 300), dtype=np.uint8).tobytes())
        try:
            read_table(path) if reader == "table" else read_svmlight(path)
        except DataError as exc:
            assert str(path.name) in str(exc) or str(path) in str(exc), exc


_BAD = os.path.join(os.path.dirname(__file__), "data", "bad")


_CASES = json.load(open(os.path.join(_BAD, "cases.json")))


@pytest.mark.parametrize("case", _CASES, ids=[f"{c['file']} {' '.join(c['args'][2:])}".strip() for c in _CASES])
def test_the_bad_input_corpus(capfd, case):
    """``logitgd fit FILE ...`` (or ``predict FILE DATA`` for a model file); capfd: the workers' logs of a --dask
    case count too (they write to the inherited stderr)."""
    if case.get("command") == "predict":
        code, _, err = _cli(capfd, "predict", os.path.join(_BAD, case["file"]), *(os.path.join(_BAD, a)
                                                                                    for a in case["args"]))
    else:
        code, _, err = _cli(capfd, "fit", os.path.join(_BAD, case["file"]), *case["args"], "--quiet", "--test-size",
                            "0")
    _check_cli(code, err)
    assert code == 1 and case["message"] in err, err
