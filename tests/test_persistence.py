"""Saving and loading models: ``logitgd.save(model, path, overwrite=False)`` and ``logitgd.load(path)``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import logitgd
from logitgd import LogisticRegression, ModelFileError
from logitgd.exceptions import InferenceError
from logitgd.persistence import FORMAT, FORMAT_VERSION, _checksum


def make_data(n=200, seed=0):
    """Three unscaled features and a noisy (not separable) 0/1 target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 100.0]
    z = X @ [1.0, 0.1, 0.01] + 0.3 + rng.normal(scale=1.5, size=n)
    return X, (z > 0).astype(int)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def frame(data):
    X, y = data
    return pd.DataFrame(X, columns=["age", "income", "größe"]), y


@pytest.fixture(scope="module")
def fitted(frame):
    X, y = frame
    return LogisticRegression(alpha=1e-3).fit(X, y)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.json"
    logitgd.save(fitted, path)
    return path


def assert_same_model(a, b, X):
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert np.array_equal(a.decision_function(X), b.decision_function(X))
    assert np.array_equal(a.predict(X), b.predict(X))
    assert np.array_equal(a.coef_, b.coef_) and a.coef_.dtype == b.coef_.dtype
    assert np.array_equal(a.intercept_, b.intercept_)
    assert np.array_equal(a.classes_, b.classes_) and a.classes_.dtype == b.classes_.dtype
    assert a.n_features_in_ == b.n_features_in_
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_
    assert a.stop_reason_ == b.stop_reason_
    assert np.array_equal(a.loss_history_, b.loss_history_)
    assert hasattr(a, "feature_names_in_") == hasattr(b, "feature_names_in_")
    if hasattr(a, "feature_names_in_"):
        assert list(a.feature_names_in_) == list(b.feature_names_in_)
    params_a, params_b = a.get_params(), b.get_params()
    for key in ("solver", "learning_rate", "alpha", "penalty", "fit_intercept", "max_iter", "tol",
                "verbose", "warm_start"):
        assert params_a[key] == params_b[key], key


# -- round trips -------------------------------------------------------------

def test_round_trip_is_bit_identical(fitted, saved, frame):
    X, _ = frame
    loaded = logitgd.load(saved)
    assert type(loaded) is LogisticRegression
    assert_same_model(fitted, loaded, X)
    assert loaded.converged_ is True
    assert isinstance(loaded.n_iter_, int) and loaded.n_iter_ > 0
    assert list(loaded.feature_names_in_) == ["age", "income", "größe"]
    assert loaded.loss_history_.shape == (loaded.n_iter_ + 1,)
    # A saved-then-loaded model saves to the same bytes.
    again = saved.with_name("again.json")
    logitgd.save(loaded, again)
    assert again.read_bytes() == saved.read_bytes()


def test_round_trip_with_awkward_floats(fitted, tmp_path, frame):
    """Subnormal, tiny, huge, negative zero, 0.1 + 0.2: every double reads back exactly."""
    X, _ = frame
    model = LogisticRegression().fit(*frame)
    model.coef_ = np.array([[5e-324, -0.0, 0.1 + 0.2]])
    model.intercept_ = np.array([-1.2345678901234567e-300])
    model.loss_history_ = np.array([0.6931471805599453, 1 / 3, 2.2250738585072014e-308])
    path = tmp_path / "awkward.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert loaded.coef_.tobytes() == model.coef_.tobytes()  # keeps the sign of zero too
    assert loaded.intercept_.tobytes() == model.intercept_.tobytes()
    assert loaded.loss_history_.tobytes() == model.loss_history_.tobytes()
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("labels", [
    np.array([0, 1]),
    np.array([-1, 1]),
    np.array([3, 7], dtype=np.int32),
    np.array([0.0, 1.0]),
    np.array(["no", "yes"]),
    np.array(["benign", "malignant"], dtype=object),
    np.array([False, True]),
], ids=["int01", "int-1_1", "int32", "float", "str", "object-str", "bool"])
def test_round_trip_keeps_classes(data, tmp_path, labels):
    X, y = data
    model = LogisticRegression(alpha=1e-4).fit(X, labels[y])
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert np.array_equal(loaded.classes_, model.classes_)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert [type(c) for c in loaded.classes_] == [type(c) for c in model.classes_]
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_round_trip_without_feature_names(data, tmp_path):
    X, y = data
    model = LogisticRegression(alpha=1e-4).fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert not hasattr(loaded, "feature_names_in_")
    assert_same_model(model, loaded, X)


@pytest.mark.parametrize("params", [
    {"learning_rate": 1e-5, "max_iter": 20, "alpha": 0.5},
    {"penalty": None, "alpha": 0.0, "tol": 1e-6},
    {"fit_intercept": False, "alpha": 1e-2},
])
def test_round_trip_keeps_parameters(data, tmp_path, params, recwarn):
    X, y = data
    model = LogisticRegression(**params).fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert_same_model(model, loaded, X)
    for key, value in params.items():
        assert getattr(loaded, key) == value


def test_not_converged_model_round_trip(data, tmp_path):
    X, y = data
    with pytest.warns(logitgd.exceptions.ConvergenceWarning):
        model = LogisticRegression(max_iter=2).fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert loaded.converged_ is False and loaded.n_iter_ == 2
    assert loaded.stop_reason_ == model.stop_reason_
    assert_same_model(model, loaded, X)


def test_callback_and_random_state_are_not_saved(data, tmp_path):
    X, y = data
    model = LogisticRegression(alpha=1e-3, random_state=3, callback=lambda state: False).fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert loaded.callback is None
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_file_is_readable_json(saved, fitted):
    payload = json.loads(saved.read_text(encoding="utf-8"))
    assert payload["format"] == FORMAT
    assert payload["format_version"] == FORMAT_VERSION
    assert payload["library_version"] == logitgd.__version__
    assert payload["estimator"] == "LogisticRegression"
    assert payload["classes"] == [0, 1]
    assert payload["feature_names"] == ["age", "income", "größe"]
    assert payload["n_iter"] == fitted.n_iter_
    assert len(payload["sha256"]) == 64


def test_pathlike_and_str_paths(fitted, tmp_path, frame):
    path = tmp_path / "m.json"
    logitgd.save(fitted, str(path))
    assert np.array_equal(logitgd.load(str(path)).predict_proba(frame[0]),
                          logitgd.load(path).predict_proba(frame[0]))


def test_loaded_model_checks_feature_names(saved, frame):
    X, _ = frame
    loaded = logitgd.load(saved)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X.rename(columns={"age": "AGE"}))


# -- saving ------------------------------------------------------------------

def test_save_refuses_to_overwrite(fitted, saved, data, tmp_path):
    before = saved.read_bytes()
    other = LogisticRegression(alpha=1.0).fit(*data)
    with pytest.raises(FileExistsError, match="already exists"):
        logitgd.save(other, saved)
    assert saved.read_bytes() == before

    logitgd.save(other, saved, overwrite=True)
    assert saved.read_bytes() != before
    assert logitgd.load(saved).alpha == 1.0
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.json"]  # no temporary left


def test_save_refuses_to_overwrite_any_file(fitted, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("do not touch")
    with pytest.raises(FileExistsError):
        logitgd.save(fitted, path)
    assert path.read_text() == "do not touch"


def test_save_leaves_no_temporary_files(fitted, tmp_path):
    logitgd.save(fitted, tmp_path / "a.json")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_saved_file_mode_follows_umask(fitted, tmp_path):
    old = os.umask(0o022)
    try:
        logitgd.save(fitted, tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644


def test_save_into_missing_directory(fitted, tmp_path):
    path = tmp_path / "no" / "m.json"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        logitgd.save(fitted, path)
    assert not (tmp_path / "no").exists()


def test_save_onto_a_directory(fitted, tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        logitgd.save(fitted, tmp_path, overwrite=True)
    assert tmp_path.is_dir()


def test_save_unfitted_model(tmp_path):
    with pytest.raises(NotFittedError):
        logitgd.save(LogisticRegression(), tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_save_something_else(tmp_path):
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    X, y = make_data()
    with pytest.raises(TypeError, match="LogisticRegression"):
        logitgd.save(SkLogisticRegression().fit(X, y), tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


# -- loading bad files -------------------------------------------------------

def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        logitgd.load(tmp_path / "missing.json")


def test_load_directory(tmp_path):
    with pytest.raises(ModelFileError, match="directory"):
        logitgd.load(tmp_path)


@pytest.mark.parametrize("keep", [0, 1, 10, 100, 0.5, -3, -2])
def test_load_truncated(saved, keep):
    raw = saved.read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(raw) + keep)
    saved.write_bytes(raw[:n])
    with pytest.raises(ModelFileError) as info:
        logitgd.load(saved)
    message = str(info.value)
    assert str(saved) in message
    assert "\n" not in message
    if n > 1:
        assert "truncated" in message


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    bytes(range(256)),
    b"\xff\xfe\x00\x00garbage",
    b"PAR1\x00\x00\x00",
], ids=["png", "bytes", "bom", "parquet"])
def test_load_binary_file(tmp_path, content):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="m.json") as info:
        logitgd.load(path)
    assert "model" in str(info.value)


@pytest.mark.parametrize("text", [
    '{"name": "my-package", "version": "1.0.0"}',
    "[1, 2, 3]",
    '"logitgd-model"',
    "null",
    "42",
    '{"format": "other-model", "format_version": 1}',
    "[" * 100_000 + "]" * 100_000,
], ids=["package.json", "list", "string", "null", "number", "other-format", "deep"])
def test_load_foreign_json(tmp_path, text):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ModelFileError, match="not a logitgd model file"):
        logitgd.load(path)


def _rewrite(path, change, rehash=False):
    payload = json.loads(path.read_text())
    change(payload)
    if rehash:
        payload["sha256"] = _checksum({k: v for k, v in payload.items() if k != "sha256"})
    path.write_text(json.dumps(payload, indent=1))


@pytest.mark.parametrize("rehash", [False, True])
def test_load_newer_format_version(saved, rehash):
    def newer(payload):
        payload["format_version"] = FORMAT_VERSION + 1
        payload["library_version"] = "9.0.0"
        payload["weights"] = payload.pop("coef")  # a newer format may hold other entries

    _rewrite(saved, newer, rehash=rehash)
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}") as info:
        logitgd.load(saved)
    assert "9.0.0" in str(info.value) and "Upgrade logitgd" in str(info.value)


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_load_invalid_format_version(saved, version):
    _rewrite(saved, lambda p: p.update(format_version=version), rehash=True)
    with pytest.raises(ModelFileError, match="format version"):
        logitgd.load(saved)


@pytest.mark.parametrize("edit", [
    lambda p: p["coef"][0].__setitem__(0, p["coef"][0][0] * 2),
    lambda p: p["coef"][0].__setitem__(1, p["coef"][0][1] + 1e-15),
    lambda p: p["intercept"].__setitem__(0, 0.0),
    lambda p: p.update(n_iter=p["n_iter"] + 1),
    lambda p: p.update(classes=[1, 0]),
    lambda p: p.update(converged=not p["converged"]),
    lambda p: p["params"].update(alpha=0.5),
    lambda p: p.update(feature_names=["a", "b", "c"]),
    lambda p: p.update(extra="added"),
    lambda p: p.update(sha256="0" * 64),
    lambda p: p["coef"][0].__setitem__(0, float("nan")),
    lambda p: p["loss_history"].append(float("inf")),
], ids=["coef", "coef-1ulp", "intercept", "n_iter", "classes", "converged", "params",
        "feature-names", "extra-key", "hash", "nan", "inf"])
def test_load_edited_file_fails_checksum(saved, edit):
    _rewrite(saved, edit)
    with pytest.raises(ModelFileError, match="fails its checksum") as info:
        logitgd.load(saved)
    assert str(saved) in str(info.value)


def test_load_edited_text_fails_checksum(saved):
    """An edit by hand in a text editor: one digit changed."""
    text = saved.read_text()
    start = text.index('"intercept"')
    digit = next(i for i in range(start, len(text)) if text[i] in "123456789")
    saved.write_text(text[:digit] + str(int(text[digit]) % 9 + 1) + text[digit + 1:])
    with pytest.raises(ModelFileError, match="checksum"):
        logitgd.load(saved)


@pytest.mark.parametrize("key", ["coef", "classes", "sha256", "n_features"])
def test_load_missing_entries(saved, key):
    _rewrite(saved, lambda p: p.pop(key))
    with pytest.raises(ModelFileError, match=f"missing the entries {key}"):
        logitgd.load(saved)


@pytest.mark.parametrize("change, match", [
    (lambda p: p.update(estimator="RandomForest"), "not a LogisticRegression"),
    (lambda p: p["params"].update(colour="red"), "malformed"),
    (lambda p: p.update(params=[1, 2]), "malformed"),
    (lambda p: p.update(classes_dtype="no-such-dtype"), "malformed"),
    (lambda p: p.update(coef="abc"), "malformed|inconsistent"),
    (lambda p: p.update(coef=[[1.0, 2.0]]), "inconsistent"),
    (lambda p: p.update(coef=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], intercept=[0.0, 1.0]), "inconsistent"),
    (lambda p: p.update(intercept=[]), "inconsistent"),
    (lambda p: p.update(classes=[0, 1, 2]), "inconsistent"),
    (lambda p: p.update(classes=[1, 1]), "inconsistent"),
    (lambda p: p.update(n_features="3"), "inconsistent"),
    (lambda p: p.update(feature_names=["a", "b"]), "inconsistent"),
    (lambda p: p.update(feature_names=[1, 2, 3]), "inconsistent"),
    (lambda p: p.update(coef=[[1e308 * 10, 0.0, 0.0]]), "checksum|non-finite"),
], ids=["estimator", "unknown-param", "params-list", "dtype", "coef-text", "coef-short", "coef-rows",
        "intercept", "three-classes", "same-class", "n-features-text", "names-short", "names-ints",
        "inf-coef"])
def test_load_inconsistent_file_with_valid_checksum(saved, change, match):
    """A file rebuilt by hand with a fresh checksum is still checked entry by entry."""
    try:
        _rewrite(saved, change, rehash=True)
    except ValueError:  # json refuses to hash inf: write it without a valid hash
        _rewrite(saved, change)
    with pytest.raises(ModelFileError, match=match) as info:
        logitgd.load(saved)
    assert str(saved) in str(info.value)


def test_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)


def test_round_trip_keeps_new_solver_options(tmp_path):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    model = logitgd.LogisticRegression(penalty="elasticnet", l1_ratio=0.3, alpha=1e-2,
                                       class_weight={0: 2.0, 1: 1.0}, solver="newton").fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    back = logitgd.load(path)
    assert back.get_params()["class_weight"] == {0: 2.0, 1: 1.0}
    assert back.l1_ratio == 0.3 and back.penalty == "elasticnet" and back.solver_ == "newton"
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))


# -- format version 2: K classes, sparse data, multi_class, input_encoding ---------

def iris_data():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


@pytest.mark.parametrize("labels", [
    np.array([0, 1, 2]),
    np.array([3, 7, 11], dtype=np.int32),
    np.array(["setosa", "versicolor", "virginica"]),
    np.array(["a", "bb", "ccc"], dtype=object),
], ids=["int", "int32", "str", "object-str"])
@pytest.mark.parametrize("multi_class", ["multinomial", "ovr"])
def test_round_trip_multiclass(tmp_path, labels, multi_class):
    X, y = iris_data()
    model = LogisticRegression(alpha=1e-2, multi_class=multi_class).fit(X, labels[y])
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert loaded.multi_class == multi_class
    assert loaded.coef_.shape == (3, 4) and loaded.intercept_.shape == (3,)
    assert_same_model(model, loaded, X)
    assert [type(c) for c in loaded.classes_] == [type(c) for c in model.classes_]
    payload = json.loads(path.read_text())
    assert payload["format_version"] == FORMAT_VERSION == 3
    assert payload["params"]["multi_class"] == multi_class
    assert payload["classes"] == [c.item() if hasattr(c, "item") else c for c in model.classes_]


def test_round_trip_model_fitted_on_sparse_data(tmp_path):
    import scipy.sparse as sp

    X, y = make_data()
    X = sp.csr_matrix(np.where(np.abs(X) > 5, X, 0.0))
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    path = tmp_path / "m.json"
    logitgd.save(model, path)
    loaded = logitgd.load(path)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(loaded.coef_, model.coef_)


V1_FILE = Path(__file__).parent / "data" / "model_v1.json"


def test_format_version_1_file_still_loads(tmp_path):
    """A file written by logitgd's format 1 (binary, no multi_class, no input_encoding)."""
    payload = json.loads(V1_FILE.read_text(encoding="utf-8"))
    assert payload["format_version"] == 1 and "input_encoding" not in payload
    assert "multi_class" not in payload["params"]
    model, encoding = logitgd.load(V1_FILE, return_encoding=True)
    assert encoding is None
    assert model.multi_class == "auto"
    assert list(model.classes_) == payload["classes"]
    assert list(model.feature_names_in_) == payload["feature_names"]
    X = pd.DataFrame(make_data(n=20, seed=5)[0], columns=payload["feature_names"])
    z = X.to_numpy() @ np.array(payload["coef"][0]) + payload["intercept"][0]
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-14)
    # Saved again, it becomes a version-2 file with the same model.
    again = tmp_path / "again.json"
    logitgd.save(model, again)
    assert json.loads(again.read_text())["format_version"] == FORMAT_VERSION
    assert_same_model(model, logitgd.load(again), X)


SVM_ENCODING = {"kind": "svmlight", "zero_based": False}


def table_encoding():
    return {"kind": "table", "numeric": ["age", "income"],
            "categorical": [{"column": "colour", "categories": ["blue", "red"]}],
            "feature_names": ["age", "income", "colour=blue", "colour=red"]}


@pytest.fixture
def wide_model():
    X, y = make_data()
    return LogisticRegression(alpha=1e-3).fit(np.column_stack([X, X[:, :1] > 0]), y)


@pytest.mark.parametrize("encoding", [None, SVM_ENCODING, table_encoding()], ids=["none", "svmlight", "table"])
def test_input_encoding_round_trip(tmp_path, wide_model, encoding):
    path = tmp_path / "m.json"
    logitgd.save(wide_model, path, input_encoding=encoding)
    model, back = logitgd.load(path, return_encoding=True)
    assert back == encoding
    assert json.loads(path.read_text())["input_encoding"] == encoding
    assert np.array_equal(model.coef_, wide_model.coef_)
    assert isinstance(logitgd.load(path), LogisticRegression)  # without return_encoding: the model only


BAD_ENCODINGS = {
    "not-object": ([1, 2], "not an object"),
    "kind": ({"kind": "xml"}, "unknown kind"),
    "svm-base": ({"kind": "svmlight", "zero_based": "yes"}, "zero_based"),
    "width": (dict(table_encoding(), numeric=["age"], feature_names=["age", "a", "b"]), "makes 3 features"),
    "names": (dict(table_encoding(), feature_names=["age"]), "feature_names"),
    "empty-categories": (dict(table_encoding(), categorical=[{"column": "colour", "categories": []}]),
                         "categorical"),
    "repeated-column": (dict(table_encoding(), numeric=["age", "colour"]), "twice"),
    "extra-entry": (dict(table_encoding(), extra=1), "entries"),
}


@pytest.mark.parametrize("name", list(BAD_ENCODINGS))
def test_malformed_input_encoding(tmp_path, wide_model, name):
    encoding, needle = BAD_ENCODINGS[name]
    path = tmp_path / "m.json"
    with pytest.raises((TypeError, ValueError), match=needle):
        logitgd.save(wide_model, path, input_encoding=encoding)
    assert not path.exists()
    # A file edited by hand, with a fresh checksum, is refused on loading.
    logitgd.save(wide_model, path, input_encoding=table_encoding())
    _rewrite(path, lambda p: p.update(input_encoding=encoding), rehash=True)
    with pytest.raises(ModelFileError, match=f"malformed input_encoding.*{needle}") as info:
        logitgd.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("change", [
    lambda p: p.update(classes=[0, 1, 2]),  # three classes need three rows of coef
    lambda p: p.update(classes=[0, 1, 2], coef=p["coef"] * 3, intercept=p["intercept"]),
    lambda p: p.update(classes=[0, 1, 2], coef=p["coef"] * 3, intercept=p["intercept"] * 3 + [0.0]),
    lambda p: p.update(classes=[0, 1, 1], coef=p["coef"] * 3, intercept=p["intercept"] * 3),
    lambda p: p.update(classes=[0], coef=p["coef"], intercept=p["intercept"]),
    lambda p: p.update(classes=[[0, 1], [2, 3]]),
], ids=["3-classes-1-row", "3-rows-1-intercept", "4-intercepts", "repeated-class", "one-class", "2d-classes"])
def test_load_inconsistent_multiclass_file(saved, change):
    _rewrite(saved, change, rehash=True)
    with pytest.raises(ModelFileError, match="inconsistent"):
        logitgd.load(saved)


def test_inference_entry_for_other_coefficients_is_refused(saved):
    def other(p):
        p["inference"]["theta"][0] += 1.0

    assert json.loads(saved.read_text())["inference"] is not None
    _rewrite(saved, other, rehash=True)
    with pytest.raises(ModelFileError, match="inference entry is for other coefficients"):
        logitgd.load(saved)


def test_format_version_2_file_loads_without_summary(saved):
    def v2(p):
        p.update(format_version=2)
        del p["inference"], p["formula"]

    _rewrite(saved, v2, rehash=True)
    loaded = logitgd.load(saved)
    with pytest.raises(InferenceError, match="needs the data"):
        loaded.summary()


def test_three_class_file_edited_to_consistent_shapes_loads(saved, frame):
    """The shape rules accept K rows for K classes (and the model then predicts K classes)."""
    def three(p):
        # the summary's matrices are for the two-class model: an edit that keeps the file consistent drops them
        p.update(classes=[0, 1, 2], coef=p["coef"] * 3, intercept=p["intercept"] * 3, inference=None)

    _rewrite(saved, three, rehash=True)
    loaded = logitgd.load(saved)
    assert loaded.predict_proba(frame[0]).shape == (len(frame[0]), 3)


def test_a_huge_integer_a_fifo_and_an_oversized_file_are_model_file_errors(tmp_path, monkeypatch):
    from logitgd import ModelFileError, load, persistence

    digits = tmp_path / "digits.json"
    digits.write_text('{"format": "logitgd-model", "format_version": 1' + "0" * 5000 + "}")
    with pytest.raises(ModelFileError, match="not a valid model file"):
        load(digits)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # no writer: opening it would block for ever
    with pytest.raises(ModelFileError, match="not a regular file"):
        load(fifo)
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ModelFileError, match="above the"):
        load(digits)
