"""The ``logitgd`` command line: fit, predict, evaluate.

Most tests call :func:`logitgd.cli.main` in-process and read stdout/stderr
with capsys; one test runs the installed console script in a subprocess.

Every bad input is checked for a non-zero exit code and for one clear line
on stderr naming the problem, with no traceback.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import logitgd
from logitgd.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FEATURES = ["a", "b", "c"]


# -- data -------------------------------------------------------------------

def make_frame(n=200, seed=0, labels=("no", "yes")):
    """Three unscaled features, a noisy (not separable) binary target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    z = X @ [1.0, 0.1, 0.01] + 0.5 + rng.normal(scale=1.5, size=n)
    df = pd.DataFrame(X, columns=FEATURES)
    df["label"] = np.where(z > 0, labels[1], labels[0])
    return df


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Read-only inputs shared by the tests of this module."""
    d = tmp_path_factory.mktemp("data")
    df = make_frame()
    df.to_csv(d / "data.csv", index=False)
    df.to_parquet(d / "data.parquet")
    ints = make_frame(seed=1, labels=(0, 1))
    ints.to_csv(d / "ints.csv", index=False)
    return d


@pytest.fixture(scope="module")
def model_path(data_dir):
    """A model fitted by the CLI on data.csv (string labels)."""
    path = data_dir / "model.json"
    assert main(["fit", str(data_dir / "data.csv"), "--target", "label", "--quiet",
                 "--model", str(path)]) == 0
    return path


def write_csv(tmp_path, df, name="bad.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


# -- helpers ----------------------------------------------------------------

def cli(capsys, *argv):
    """Run ``logitgd argv`` in-process: (exit code, stdout, stderr).

    ``predict`` writes all 17 digits here: these tests compare what it writes with the model's own numbers at
    full precision (its default of 6 significant digits is tested in test_cli_tables.py)."""
    if argv and argv[0] == "predict" and "--digits" not in argv:
        argv = (*argv, "--digits", "17")
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error(code, err, *needles):
    """Exit code 1 and exactly one 'logitgd: error:' line on stderr, naming each needle."""
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), f"expected one line on stderr, got:\n{err!r}"
    assert lines[0].startswith("logitgd: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def assert_usage_error(capsys, argv, *needles):
    """Bad command line: argparse exits with 2 and names the option."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    for needle in needles:
        assert needle in last, last


def fit_args(data, *extra):
    return ["fit", data, "--target", "label", "--quiet", *extra]


def table_row(out, name):
    """The numbers of the metrics row ``name`` in the printed table."""
    for line in out.splitlines():
        if line.startswith(name + " ") and len(line.split()) > len(name.split()):
            return [float(v) for v in line[len(name):].split()]
    raise AssertionError(f"no row {name!r} in:\n{out}")


# -- fit: happy paths -------------------------------------------------------

def test_fit_builtin_data_default_alpha_converges(capsys):
    code, out, err = cli(capsys, "fit", "--quiet")
    assert code == 0, err
    assert "breast-cancer" in out
    assert "569 rows, 30 features" in out
    assert "alpha          0.0001 (L2)" in out
    assert "converged      yes" in out
    assert "455 train, 114 test" in out
    header = next(line for line in out.splitlines() if line.split() == ["train", "test"])
    assert header
    train_acc, test_acc = table_row(out, "accuracy")
    assert train_acc > 0.95 and test_acc > 0.9
    for name in ("log-loss", "ROC AUC"):
        assert len(table_row(out, name)) == 2
    assert "warning" not in err
    assert "Traceback" not in err


def test_fit_builtin_alpha_zero_warns_about_separation(capsys, tmp_path):
    model = tmp_path / "mle.json"
    code, out, err = cli(capsys, "fit", "--quiet", "--alpha", "0", "--model", model)
    assert code == 0, err
    assert "Traceback" not in err
    warning = [line for line in err.splitlines() if line.startswith("logitgd: warning:")]
    assert len(warning) == 1, err
    assert "separated" in warning[0] and "alpha > 0" in warning[0]
    assert "0 (maximum likelihood)" in out
    assert "converged      no" in out and "separation" in out
    # The model is still written, and records why it stopped.
    loaded = logitgd.load(model)
    assert not loaded.converged_
    assert "separation" in loaded.stop_reason_


def test_fit_csv_with_string_labels_writes_model_and_plot(capsys, data_dir, tmp_path):
    model, plot = tmp_path / "model.json", tmp_path / "cost.png"
    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", "--model", model, "--plot", plot))
    assert code == 0, err
    assert err == ""
    assert "200 rows, 3 features" in out and "target 'label'" in out
    assert "160 train, 40 test" in out
    assert "converged      yes" in out
    assert f"model          {model}" in out
    assert f"cost plot          {plot}" in out
    for name in ("accuracy", "log-loss", "ROC AUC"):
        train, test = table_row(out, name)
        assert 0 <= train and 0 <= test
    assert 0.6 < table_row(out, "accuracy")[0] < 1.0  # noisy data: not separable

    assert plot.read_bytes()[:8] == PNG_MAGIC
    loaded = logitgd.load(model)
    assert isinstance(loaded, logitgd.LogisticRegression)
    assert list(loaded.classes_) == ["no", "yes"]
    assert list(loaded.feature_names_in_) == FEATURES
    assert loaded.converged_
    assert loaded.alpha == pytest.approx(1e-4)
    assert loaded.n_iter_ == len(loaded.loss_history_) - 1
    # The model reproduces the printed train accuracy's order of magnitude on all the data.
    df = pd.read_csv(data_dir / "data.csv")
    assert np.mean(loaded.predict(df[FEATURES]) == df["label"]) > 0.6


def test_fit_parquet(capsys, data_dir, tmp_path):
    model = tmp_path / "model.json"
    code, out, err = cli(capsys, *fit_args(data_dir / "data.parquet", "--model", model))
    assert code == 0, err
    assert "200 rows, 3 features" in out
    # CSV and Parquet hold the same data: the same model.
    csv_model = tmp_path / "csv.json"
    assert cli(capsys, *fit_args(data_dir / "data.csv", "--model", csv_model))[0] == 0
    a, b = logitgd.load(model), logitgd.load(csv_model)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_fit_test_size_zero_uses_all_rows(capsys, data_dir):
    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", "--test-size", "0"))
    assert code == 0, err
    assert "200 train" in out and "test" not in out.split("rows")[-1].splitlines()[0]
    assert len(table_row(out, "accuracy")) == 1


def test_fit_options_reach_the_model(capsys, data_dir, tmp_path):
    model = tmp_path / "m.json"
    code, _out, err = cli(capsys, *fit_args(data_dir / "ints.csv", "--alpha", "0.01", "--max-iter", "3",
                                           "--tol", "0", "--model", model))
    assert code == 0, err
    # Three iterations are not enough: a convergence warning, on one line.
    warnings = [line for line in err.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("logitgd: warning:")
    assert "--max-iter 3" in warnings[0] and "max_iter" not in warnings[0]
    loaded = logitgd.load(model)
    assert loaded.alpha == 0.01 and loaded.max_iter == 3 and loaded.n_iter_ == 3
    assert not loaded.converged_
    assert loaded.classes_.tolist() == [0, 1]


def test_fit_fixed_learning_rate(capsys, data_dir, tmp_path):
    model = tmp_path / "m.json"
    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", "--learning-rate", "1e-6",
                                           "--max-iter", "50", "--model", model))
    assert code == 0, err
    assert "learning rate  1e-06" in out
    assert logitgd.load(model).learning_rate == 1e-6


def test_fit_learning_rate_far_too_large_is_an_error(capsys, data_dir, tmp_path):
    model = tmp_path / "m.json"
    code, _out, err = cli(capsys, *fit_args(data_dir / "data.csv", "--learning-rate", "1e6",
                                           "--model", model))
    line = assert_one_error(code, err, "learning", "1e+06", "diverged", "auto")
    assert "--learning-rate auto" in line
    assert not model.exists()


def test_fit_shows_a_progress_bar_unless_quiet(capsys, data_dir):
    code, _out, err = cli(capsys, "fit", data_dir / "data.csv", "--target", "label")
    assert code == 0
    assert "fitting" in err and "Traceback" not in err
    code, _out, err = cli(capsys, *fit_args(data_dir / "data.csv"))
    assert code == 0 and err == ""


def test_fit_interrupted_writes_model_and_exits_130(capsys, data_dir, tmp_path, monkeypatch):
    """Ctrl-C during the fit (simulated in the progress bar's update, after 3 iterations)."""
    import tqdm.auto

    class InterruptingBar:
        def __init__(self, *args, **kwargs):
            self.n = 0

        def update(self, k):
            self.n += k
            if self.n >= 3:
                raise KeyboardInterrupt

        def set_postfix_str(self, *args, **kwargs):
            pass

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", InterruptingBar)
    model, plot = tmp_path / "m.json", tmp_path / "c.png"
    code, _out, err = cli(capsys, "fit", data_dir / "data.csv", "--target", "label",
                         "--model", model, "--plot", plot)
    assert code == 130
    assert "Traceback" not in err
    assert "interrupted" in err
    loaded = logitgd.load(model)
    assert not loaded.converged_ and loaded.n_iter_ == 3
    assert "interrupted" in loaded.stop_reason_
    assert plot.read_bytes()[:8] == PNG_MAGIC


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"logitgd {logitgd.__version__}"


# -- predict and evaluate: happy paths --------------------------------------

@pytest.mark.filterwarnings("error")
def test_predict_writes_csv_with_original_labels(capsys, data_dir, model_path, tmp_path):
    out_path = tmp_path / "preds.csv"
    code, out, err = cli(capsys, "predict", model_path, data_dir / "data.csv", "--output", out_path)
    assert code == 0, err
    assert err == ""
    assert f"wrote 200 predictions to {out_path}" in out
    preds = pd.read_csv(out_path)
    assert list(preds.columns) == ["proba_no", "proba_yes", "prediction"]
    assert len(preds) == 200
    assert set(preds["prediction"]) <= {"no", "yes"}
    assert set(preds["prediction"]) == {"no", "yes"}
    np.testing.assert_allclose(preds["proba_no"] + preds["proba_yes"], 1.0, rtol=0, atol=1e-15)

    model = logitgd.load(model_path)
    df = pd.read_csv(data_dir / "data.csv")
    # Written with 17 significant digits; the library may round the last bit
    # differently for another memory layout of the same data.
    np.testing.assert_allclose(preds[["proba_no", "proba_yes"]].to_numpy(),
                               model.predict_proba(df[FEATURES]), rtol=1e-12, atol=0)
    assert (preds["prediction"].to_numpy() == model.predict(df[FEATURES])).all()
    assert ((preds["proba_yes"] > 0.5) == (preds["prediction"] == "yes")).all()


@pytest.mark.filterwarnings("error")
def test_predict_to_stdout_with_parquet_and_columns_in_any_order(capsys, data_dir, model_path, tmp_path):
    df = pd.read_csv(data_dir / "data.csv")
    shuffled = tmp_path / "shuffled.parquet"
    df[["label", "c", "a", "b"]].assign(extra="ignored").to_parquet(shuffled)
    code, out, err = cli(capsys, "predict", model_path, shuffled)
    assert code == 0, err
    assert err == ""
    preds = pd.read_csv(io.StringIO(out))
    model = logitgd.load(model_path)
    np.testing.assert_allclose(preds[["proba_no", "proba_yes"]].to_numpy(),
                               model.predict_proba(df[FEATURES]), rtol=1e-12, atol=0)


@pytest.mark.filterwarnings("error")
def test_predict_integer_labels(capsys, data_dir, tmp_path):
    model = tmp_path / "ints.json"
    assert cli(capsys, *fit_args(data_dir / "ints.csv", "--model", model))[0] == 0
    code, out, err = cli(capsys, "predict", model, data_dir / "ints.csv")
    assert code == 0, err
    preds = pd.read_csv(io.StringIO(out))
    assert list(preds.columns) == ["proba_0", "proba_1", "prediction"]
    assert preds["prediction"].dtype.kind == "i"
    assert set(preds["prediction"]) == {0, 1}


def test_predict_does_not_need_the_target_column(capsys, data_dir, model_path, tmp_path):
    features_only = write_csv(tmp_path, pd.read_csv(data_dir / "data.csv")[FEATURES], "new.csv")
    code, out, err = cli(capsys, "predict", model_path, features_only)
    assert code == 0, err
    assert len(pd.read_csv(io.StringIO(out))) == 200


@pytest.mark.filterwarnings("error")
def test_evaluate_prints_metrics(capsys, data_dir, model_path):
    code, out, err = cli(capsys, "evaluate", model_path, data_dir / "data.csv", "--target", "label")
    assert code == 0, err
    assert err == ""
    assert "(200 rows)" in out
    (accuracy,) = table_row(out, "accuracy")
    (logloss,) = table_row(out, "log-loss")
    (auc,) = table_row(out, "ROC AUC")

    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    model = logitgd.load(model_path)
    df = pd.read_csv(data_dir / "data.csv")
    proba = model.predict_proba(df[FEATURES])[:, 1]
    assert accuracy == pytest.approx(accuracy_score(df["label"], model.predict(df[FEATURES])), abs=1e-4)
    assert logloss == pytest.approx(log_loss(df["label"] == "yes", proba), abs=1e-4)
    assert auc == pytest.approx(roc_auc_score(df["label"] == "yes", proba), abs=1e-4)
    assert 0.6 < accuracy < 1 and 0.5 < auc < 1


@pytest.mark.filterwarnings("error")
def test_evaluate_parquet_data_on_csv_model(capsys, data_dir, model_path):
    code, out, err = cli(capsys, "evaluate", model_path, data_dir / "data.parquet", "--target", "label")
    code_csv, out_csv, _ = cli(capsys, "evaluate", model_path, data_dir / "data.csv", "--target", "label")
    assert code == code_csv == 0, err
    for name in ("accuracy", "log-loss", "ROC AUC"):
        assert table_row(out, name) == table_row(out_csv, name)


# -- bad input: data files ---------------------------------------------------

def test_missing_data_file(capsys, tmp_path, model_path):
    missing = tmp_path / "nope.csv"
    assert_one_error(*cli(capsys, *fit_args(missing))[::2], str(missing), "does not exist")
    assert_one_error(*cli(capsys, "predict", model_path, missing)[::2], str(missing), "does not exist")
    assert_one_error(*cli(capsys, "evaluate", model_path, missing, "--target", "label")[::2],
                     str(missing), "does not exist")


def test_data_file_is_a_directory(capsys, tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert_one_error(*cli(capsys, *fit_args(folder))[::2], str(folder), "directory")


def test_fit_data_without_target_option(capsys, data_dir):
    code, _, err = cli(capsys, "fit", data_dir / "data.csv", "--quiet")
    assert_one_error(code, err, "--target")


def test_evaluate_table_without_target_option(capsys, data_dir, model_path):
    code, out, err = cli(capsys, "evaluate", model_path, data_dir / "data.csv")
    assert_one_error(code, err, "--target", "CSV or Parquet")
    assert out == ""


def test_missing_target_column(capsys, data_dir, model_path):
    code, _, err = cli(capsys, "fit", data_dir / "data.csv", "--target", "Label", "--quiet")
    assert_one_error(code, err, "'Label'", "no target column", "a, b, c, label")
    code, _, err = cli(capsys, "evaluate", model_path, data_dir / "data.csv", "--target", "outcome")
    assert_one_error(code, err, "'outcome'", "no target column")


def test_builtin_data_with_unknown_target(capsys):
    assert_one_error(*cli(capsys, "fit", "--target", "nope", "--quiet")[::2], "'nope'", "breast-cancer")


def test_no_feature_columns(capsys, tmp_path):
    path = write_csv(tmp_path, pd.DataFrame({"label": ["a", "b"] * 5}))
    assert_one_error(*cli(capsys, *fit_args(path))[::2], "no feature columns")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_non_numeric_feature_names_column_and_row(capsys, tmp_path, fmt, model_path):
    df = make_frame()
    df["b"] = df["b"].map(repr).astype(object)  # numbers as text, as a CSV may hold them
    df.loc[4, "b"] = "12,5"
    df.loc[9, "b"] = "n/a?"
    path = tmp_path / f"bad.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    expected = (str(path), "column 'b'", "not numeric", "row 5", "'12,5'", "1 more")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)
    assert_one_error(*cli(capsys, "evaluate", model_path, path, "--target", "label")[::2], *expected)


def test_category_columns_are_encoded_and_dates_are_not_numbers(capsys, tmp_path):
    df = make_frame()
    df["colour"] = pd.Categorical(np.where(np.arange(200) % 2, "red", "blue"))
    path = tmp_path / "cat.parquet"
    df.to_parquet(path)
    code, out, err = cli(capsys, *fit_args(path))  # a category column is categorical by its type (issue 17)
    assert code == 0, err
    assert "1 categorical columns, one-hot encoded into 2" in out and "colour=red" in out

    df = make_frame()
    df["when"] = pd.Timestamp("2024-05-01")
    path = tmp_path / "dates.parquet"
    df.to_parquet(path)
    assert_one_error(*cli(capsys, *fit_args(path))[::2], "column 'when'", "not numeric", "datetime")


def test_boolean_feature_is_numeric(capsys, tmp_path):
    df = make_frame()
    df["flag"] = np.arange(200) % 3 == 0
    code, out, err = cli(capsys, *fit_args(write_csv(tmp_path, df, "bool.csv")))
    assert code == 0, err
    assert "4 features" in out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_missing_value_names_column_and_row(capsys, tmp_path, fmt, model_path):
    df = make_frame()
    df.loc[6, "c"] = np.nan
    path = tmp_path / f"nan.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    expected = (str(path), "column 'c'", "missing value", "row 7")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)


def test_empty_cell_in_csv_is_a_missing_value(capsys, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n")
    assert_one_error(*cli(capsys, *fit_args(path, "--test-size", "0"))[::2],
                     "column 'b'", "missing value", "row 2")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_value_names_column_and_row(capsys, tmp_path, fmt, value, model_path):
    df = make_frame()
    df.loc[41, "a"] = value
    path = tmp_path / f"inf.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    expected = (str(path), "column 'a'", "infinite", "row 42")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)
    assert_one_error(*cli(capsys, "evaluate", model_path, path, "--target", "label")[::2], *expected)


def test_target_with_one_class(capsys, tmp_path, model_path):
    df = make_frame()
    df["label"] = "yes"
    path = write_csv(tmp_path, df)
    assert_one_error(*cli(capsys, *fit_args(path))[::2], "'label'", "only one class", "'yes'")
    # Evaluating on data of one class is legitimate: accuracy and log-loss exist, ROC AUC does not.
    code, out, _ = cli(capsys, "evaluate", model_path, path, "--target", "label")
    assert code == 0
    auc_line = next(line for line in out.splitlines() if line.startswith("ROC AUC"))
    assert auc_line.split()[-1] == "n/a"
    assert float(next(line for line in out.splitlines() if line.startswith("accuracy")).split()[-1]) > 0


def test_evaluate_binary_model_on_data_with_a_third_class(capsys, tmp_path, model_path):
    df = make_frame()
    df.loc[:9, "label"] = "maybe"
    path = write_csv(tmp_path, df)
    assert_one_error(*cli(capsys, "evaluate", model_path, path, "--target", "label")[::2],
                     "'label'", "'maybe'", "does not know", "'no'", "'yes'")


def test_continuous_target_is_not_a_class_label(capsys, tmp_path):
    df = make_frame()
    df["label"] = np.arange(200) / 7.0
    path = write_csv(tmp_path, df)
    assert_one_error(*cli(capsys, *fit_args(path))[::2], "'label'", "not whole", "row 2", "continuous")


def test_target_with_missing_value(capsys, tmp_path):
    df = make_frame()
    df.loc[12, "label"] = None
    assert_one_error(*cli(capsys, *fit_args(write_csv(tmp_path, df)))[::2],
                     "target column 'label'", "missing value", "row 13")


def test_too_few_rows_for_a_test_set(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("a,label\n1,x\n2,y\n3,x\n4,y\n5,x\n")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], "--test-size 0")
    assert cli(capsys, *fit_args(path, "--test-size", "0"))[0] == 0


@pytest.mark.parametrize("name", ["empty.csv", "empty.parquet"])
def test_empty_file(capsys, tmp_path, name, model_path):
    path = tmp_path / name
    path.write_bytes(b"")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], str(path), "empty")
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], str(path), "empty")


def test_blank_lines_only_csv(capsys, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n\n")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], str(path), "empty")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_header_but_no_rows(capsys, tmp_path, fmt, model_path):
    df = make_frame().iloc[:0]
    path = tmp_path / f"header.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    expected = (str(path), "header but no data rows")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)
    assert_one_error(*cli(capsys, "evaluate", model_path, path, "--target", "label")[::2], *expected)


def test_parquet_that_is_really_csv(capsys, data_dir, tmp_path, model_path):
    fake = tmp_path / "fake.parquet"
    shutil.copy(data_dir / "data.csv", fake)
    assert_one_error(*cli(capsys, *fit_args(fake))[::2], str(fake), "not a Parquet file")
    assert_one_error(*cli(capsys, "predict", model_path, fake)[::2], str(fake), "not a Parquet file")


def test_csv_that_is_really_parquet(capsys, data_dir, tmp_path, model_path):
    fake = tmp_path / "fake.csv"
    shutil.copy(data_dir / "data.parquet", fake)
    assert_one_error(*cli(capsys, *fit_args(fake))[::2], str(fake), "Parquet", ".parquet")
    assert_one_error(*cli(capsys, "evaluate", model_path, fake, "--target", "label")[::2],
                     str(fake), "Parquet")


def test_damaged_parquet(capsys, data_dir, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes((data_dir / "data.parquet").read_bytes()[:300])
    assert_one_error(*cli(capsys, *fit_args(broken))[::2], str(broken), "could not be read as Parquet")


def test_csv_that_is_not_text(capsys, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert_one_error(*cli(capsys, *fit_args(path))[::2], str(path))


def test_gzip_csv(capsys, data_dir, tmp_path):
    import gzip

    good = tmp_path / "data.csv.gz"
    good.write_bytes(gzip.compress((data_dir / "data.csv").read_bytes()))
    code, out, err = cli(capsys, *fit_args(good))
    assert code == 0, err
    assert "200 rows, 3 features" in out

    not_gzip = tmp_path / "plain.csv.gz"
    shutil.copy(data_dir / "data.csv", not_gzip)
    assert_one_error(*cli(capsys, *fit_args(not_gzip))[::2], str(not_gzip), "could not be read as CSV")
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(good.read_bytes()[:300])
    assert_one_error(*cli(capsys, *fit_args(truncated))[::2], str(truncated), "could not be read as CSV")


def test_malformed_csv(capsys, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,y,5\n")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], str(path), "not well-formed CSV", "line 3")


@pytest.mark.parametrize("name", ["data.xlsx", "data.json", "data", "data.csv.bak"])
def test_unknown_extension(capsys, data_dir, tmp_path, name, model_path):
    path = tmp_path / name
    shutil.copy(data_dir / "data.csv", path)
    expected = (str(path), "cannot tell the format", ".csv", ".parquet")
    assert_one_error(*cli(capsys, *fit_args(path))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)


def test_data_columns_do_not_match_the_model(capsys, data_dir, model_path, tmp_path):
    df = pd.read_csv(data_dir / "data.csv").rename(columns={"b": "B"})
    path = write_csv(tmp_path, df, "renamed.csv")
    expected = (str(path), "does not match the model", "'b'")
    assert_one_error(*cli(capsys, "predict", model_path, path)[::2], *expected)
    assert_one_error(*cli(capsys, "evaluate", model_path, path, "--target", "label")[::2], *expected)

    fewer = write_csv(tmp_path, df.drop(columns=["B", "c"]), "fewer.csv")
    assert_one_error(*cli(capsys, "predict", model_path, fewer)[::2], "lacks 2 of the model's 3", "'b', 'c'")


def test_evaluate_labels_the_model_does_not_know(capsys, data_dir, model_path, tmp_path):
    df = pd.read_csv(data_dir / "data.csv")
    df["label"] = df["label"].map({"no": "n", "yes": "y"})
    assert_one_error(*cli(capsys, "evaluate", model_path, write_csv(tmp_path, df), "--target", "label")[::2],
                     "'label'", "'n'", "'y'", "does not know", "'no'", "'yes'")


def test_evaluate_matches_labels_by_text(capsys, data_dir, tmp_path):
    """A model fitted on 0/1 evaluates data whose labels read back as text '0'/'1'."""
    model = tmp_path / "ints.json"
    assert cli(capsys, *fit_args(data_dir / "ints.csv", "--model", model))[0] == 0
    df = pd.read_csv(data_dir / "ints.csv")
    df["label"] = df["label"].map({0: "0", 1: "1"}).astype(object)
    path = tmp_path / "text.parquet"
    df.to_parquet(path)
    code, out, err = cli(capsys, "evaluate", model, path, "--target", "label")
    code_int, out_int, _ = cli(capsys, "evaluate", model, data_dir / "ints.csv", "--target", "label")
    assert code == code_int == 0, err
    assert table_row(out, "accuracy") == table_row(out_int, "accuracy")


# -- bad input: model files --------------------------------------------------

def _model_file(tmp_path, model_path, name, mutate):
    path = tmp_path / name
    mutate(path, model_path.read_bytes())
    return path


def _edit(path, raw):
    payload = json.loads(raw)
    payload["coef"][0][0] *= 1.5
    path.write_text(json.dumps(payload, indent=1))


def _newer(path, raw):
    payload = json.loads(raw)
    payload["format_version"] = 99
    del payload["classes_dtype"]  # a future format may change what it holds
    path.write_text(json.dumps(payload))


BAD_MODELS = {
    "truncated": (lambda p, raw: p.write_bytes(raw[: len(raw) // 2]), ("not a valid model file", "truncated")),
    "no closing brace": (lambda p, raw: p.write_bytes(raw.rstrip()[:-1]), ("not a valid model file",)),
    "binary": (lambda p, raw: p.write_bytes(PNG_MAGIC + bytes(range(256))), ("not a text (JSON) file",)),
    "other json": (lambda p, raw: p.write_text('{"name": "package", "version": "1.0"}'),
                   ("not a logitgd model file",)),
    "json list": (lambda p, raw: p.write_text("[1, 2, 3]"), ("not a logitgd model file",)),
    "edited": (_edit, ("fails its checksum", "edited")),
    "newer version": (_newer, ("format version 99", "Upgrade logitgd")),
    "empty": (lambda p, raw: p.write_bytes(b""), ("not a valid model file",)),
}


@pytest.mark.parametrize("kind", list(BAD_MODELS))
def test_model_file_that_does_not_load(capsys, data_dir, model_path, tmp_path, kind):
    mutate, needles = BAD_MODELS[kind]
    bad = _model_file(tmp_path, model_path, "bad.json", mutate)
    assert_one_error(*cli(capsys, "predict", bad, data_dir / "data.csv")[::2], str(bad), *needles)
    assert_one_error(*cli(capsys, "evaluate", bad, data_dir / "data.csv", "--target", "label")[::2],
                     str(bad), *needles)


def test_missing_model_file(capsys, data_dir, tmp_path):
    missing = tmp_path / "none.json"
    assert_one_error(*cli(capsys, "predict", missing, data_dir / "data.csv")[::2], str(missing), "does not exist")
    assert_one_error(*cli(capsys, "evaluate", missing, data_dir / "data.csv", "--target", "label")[::2],
                     str(missing), "does not exist")


def test_model_path_is_a_directory(capsys, data_dir, tmp_path):
    assert_one_error(*cli(capsys, "predict", tmp_path, data_dir / "data.csv")[::2], str(tmp_path), "directory")


def test_predict_into_a_closed_pipe(capsys, data_dir, model_path, monkeypatch):
    """``logitgd predict model data | head``: the reader goes away; no traceback, no error line."""

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise io.UnsupportedOperation("fileno")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["predict", str(model_path), str(data_dir / "data.csv")])
    monkeypatch.undo()
    assert code == 1
    assert capsys.readouterr().err == ""


# -- output files: no overwrite without --force -------------------------------

@pytest.mark.parametrize("option", ["--model", "--plot"])
def test_fit_does_not_overwrite_outputs_without_force(capsys, data_dir, tmp_path, option):
    existing = tmp_path / ("existing.png" if option == "--plot" else "existing.out")
    existing.write_bytes(b"precious")
    other = tmp_path / ("m.json" if option == "--plot" else "c.png")
    other_option = "--model" if option == "--plot" else "--plot"
    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", option, existing, other_option, other))
    assert_one_error(code, err, str(existing), "already exists", "--force")
    assert existing.read_bytes() == b"precious"
    assert not other.exists()  # refused before fitting: nothing written
    assert out == ""

    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", option, existing, other_option, other,
                                           "--force"))
    assert code == 0, err
    content = existing.read_bytes()
    if option == "--plot":
        assert content[:8] == PNG_MAGIC
    else:
        assert logitgd.load(existing).classes_.tolist() == ["no", "yes"]
    assert other.exists()


def test_predict_does_not_overwrite_output_without_force(capsys, data_dir, model_path, tmp_path):
    existing = tmp_path / "preds.csv"
    existing.write_text("keep me\n")
    code, _out, err = cli(capsys, "predict", model_path, data_dir / "data.csv", "--output", existing)
    assert_one_error(code, err, str(existing), "already exists", "--force")
    assert existing.read_text() == "keep me\n"

    code, _out, err = cli(capsys, "predict", model_path, data_dir / "data.csv", "--output", existing, "--force")
    assert code == 0, err
    assert list(pd.read_csv(existing).columns) == ["proba_no", "proba_yes", "prediction"]


def test_output_in_a_missing_directory(capsys, data_dir, model_path, tmp_path):
    target = tmp_path / "no" / "such" / "m.json"
    code, out, err = cli(capsys, *fit_args(data_dir / "data.csv", "--model", target))
    assert_one_error(code, err, "--model", str(tmp_path / "no" / "such"), "does not exist")
    assert out == ""  # checked before reading or fitting anything
    code, out, err = cli(capsys, "predict", model_path, data_dir / "data.csv", "--output", target.with_suffix(".csv"))
    assert_one_error(code, err, "--output", "does not exist")


def test_output_is_a_directory(capsys, data_dir, tmp_path):
    folder = tmp_path / "dir.json"
    folder.mkdir()
    code, _, err = cli(capsys, *fit_args(data_dir / "data.csv", "--model", folder, "--force"))
    assert_one_error(code, err, str(folder), "directory")
    assert folder.is_dir()


def test_model_and_plot_must_differ(capsys, data_dir, tmp_path):
    same = tmp_path / "out.png"
    code, _, err = cli(capsys, *fit_args(data_dir / "data.csv", "--model", same, "--plot", same))
    assert_one_error(code, err, "--model", "--plot", str(same))
    assert not same.exists()


# -- bad command lines ---------------------------------------------------------

@pytest.mark.parametrize("argv, needles", [
    (["fit", "--alpha", "-1"], ("--alpha", "non-negative", "'-1'")),
    (["fit", "--alpha", "nan"], ("--alpha",)),
    (["fit", "--alpha", "lots"], ("--alpha", "'lots'")),
    (["fit", "--learning-rate", "0"], ("--learning-rate", "'auto'")),
    (["fit", "--learning-rate", "-0.1"], ("--learning-rate", "'auto'")),
    (["fit", "--learning-rate", "fast"], ("--learning-rate", "'fast'", "'auto'")),
    (["fit", "--learning-rate", "inf"], ("--learning-rate",)),
    (["fit", "--test-size", "1"], ("--test-size", "[0, 1)")),
    (["fit", "--test-size", "half"], ("--test-size", "'half'")),
    (["fit", "--max-iter", "0"], ("--max-iter", "'0'")),
    (["fit", "--max-iter", "1.5"], ("--max-iter",)),
    (["fit", "--tol=-1e-8"], ("--tol", "non-negative")),
    (["fit", "--random-state", "-1"], ("--random-state",)),
    (["predict", "model.json"], ("data",)),
    (["train"], ("train",)),
    ([], ("command",)),
])
def test_bad_command_line_exits_2(capsys, argv, needles):
    assert_usage_error(capsys, argv, *needles)


# -- the installed command -------------------------------------------------------

def test_console_script_is_installed(data_dir, tmp_path):
    exe = shutil.which("logitgd")
    if exe is None:  # the script lives next to this interpreter
        candidate = os.path.join(os.path.dirname(sys.executable), "logitgd")
        exe = candidate if os.path.exists(candidate) else None
    assert exe is not None, "the 'logitgd' console script is not installed"
    model = tmp_path / "m.json"
    done = subprocess.run([exe, "fit", str(data_dir / "data.csv"), "--target", "label", "--quiet",
                           "--model", str(model)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "converged      yes" in done.stdout
    assert logitgd.load(model).classes_.tolist() == ["no", "yes"]

    # Errors reach the shell as an exit status and one line, without a traceback.
    done = subprocess.run([exe, "predict", str(model), str(tmp_path / "missing.csv")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"logitgd: error: data file {tmp_path / 'missing.csv'} does not exist."]


@pytest.mark.parametrize("args, expected", [
    (["--penalty", "l1", "--alpha", "0.01"], ("0.01 (L1)", "solver         newton")),
    (["--penalty", "elasticnet", "--l1-ratio", "0.5", "--alpha", "0.01"], ("elastic net, l1_ratio 0.5",)),
    (["--solver", "sgd"], ("solver         sgd", "learning rate  auto")),
])
def test_fit_reports_penalty_and_solver(capsys, args, expected):
    code, out, err = cli(capsys, "fit", "--quiet", *args)
    assert code == 0, err
    for text in expected:
        assert text in out


def test_options_the_estimator_refuses_are_one_line_errors(capsys):
    # in the command line's terms: its option names, not the estimator's parameters
    assert_one_error(*cli(capsys, "fit", "--quiet", "--penalty", "elasticnet")[::2], "cannot fit", "--l1-ratio")
    assert_one_error(*cli(capsys, "fit", "--quiet", "--solver", "lbfgs", "--learning-rate", "0.1")[::2],
                     "cannot fit", "--learning-rate")


# -- per-class metrics and the confusion matrix -------------------------------------

def per_class(out):
    """{label: [precision, recall, F1, support]} from the printed per-class table."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("per class ("))
    assert lines[start + 1].split() == ["class", "precision", "recall", "F1", "support"]
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        label, *values = line.split()
        rows[label] = [float(v) for v in values]
    return rows


def confusion(out):
    """(labels across, {true label: counts}) from the printed confusion matrix."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix ("))
    assert "true class down, predicted class across" in lines[start]
    across = lines[start + 1].split()
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip() or len(line.split()) != len(across) + 1:
            break
        label, *counts = line.split()
        rows[label] = [int(c) for c in counts]
    return across, rows


def assert_report_matches(out, y, pred, classes):
    """The printed per-class table and confusion matrix are scikit-learn's, for these predictions."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = [str(c) for c in classes]
    rows = per_class(out)
    assert list(rows) == labels
    expected = np.column_stack(precision_recall_fscore_support(y, pred, labels=classes, zero_division=0))
    np.testing.assert_allclose([rows[lab] for lab in labels], expected, atol=5e-5)
    across, matrix = confusion(out)
    assert across == labels and list(matrix) == labels
    assert np.array_equal([matrix[lab] for lab in labels], confusion_matrix(y, pred, labels=classes))


@pytest.mark.filterwarnings("error")
def test_evaluate_binary_prints_per_class_metrics_and_confusion_matrix(capsys, data_dir, model_path):
    code, out, err = cli(capsys, "evaluate", model_path, data_dir / "data.csv", "--target", "label")
    assert code == 0, err
    model = logitgd.load(model_path)
    df = pd.read_csv(data_dir / "data.csv")
    assert_report_matches(out, df["label"].to_numpy(), model.predict(df[FEATURES]), model.classes_)
    assert sum(confusion(out)[1]["yes"]) == (df["label"] == "yes").sum()


# -- more than two classes -------------------------------------------------------------

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory):
    from sklearn.datasets import load_iris

    d = tmp_path_factory.mktemp("iris")
    bunch = load_iris(as_frame=True)
    df = bunch.frame.rename(columns={"target": "code"})
    df.drop(columns="code").assign(species=bunch.target_names[df["code"]]).to_csv(d / "iris.csv", index=False)
    df.to_csv(d / "iris_codes.csv", index=False)
    return d


@pytest.fixture(scope="module")
def iris_model(iris_dir):
    path = iris_dir / "iris.json"
    assert main(["fit", str(iris_dir / "iris.csv"), "--target", "species", "--quiet", "--model", str(path)]) == 0
    return path


@pytest.mark.filterwarnings("error")
def test_fit_three_classes_prints_per_class_metrics(capsys, iris_dir, tmp_path):
    model_file = tmp_path / "m.json"
    code, out, err = cli(capsys, "fit", iris_dir / "iris.csv", "--target", "species", "--quiet",
                         "--model", model_file)
    assert code == 0, err
    assert err == ""
    assert "150 rows, 4 features), target 'species', 3 classes" in out
    assert "multi-class    multinomial" in out
    assert "120 train, 30 test" in out
    assert "one-vs-rest" in out  # how the ROC AUC of K classes is averaged
    train_acc, test_acc = table_row(out, "accuracy")
    assert train_acc > 0.9 and test_acc > 0.85
    for name in ("log-loss", "ROC AUC"):
        assert all(0 < v < 1.01 for v in table_row(out, name))
    rows = per_class(out)
    assert list(rows) == ["setosa", "versicolor", "virginica"]
    assert [r[3] for r in rows.values()] == [10, 10, 10]  # stratified test part
    across, matrix = confusion(out)
    assert across == ["setosa", "versicolor", "virginica"]
    counts = np.array(list(matrix.values()))
    assert counts.sum() == 30 and counts.sum(axis=1).tolist() == [10, 10, 10]
    assert np.trace(counts) / 30 == pytest.approx(test_acc, abs=1e-4)

    model = logitgd.load(model_file)
    assert model.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    assert list(model.feature_names_in_) == IRIS


@pytest.mark.filterwarnings("error")
def test_evaluate_three_classes_matches_sklearn(capsys, iris_dir, iris_model):
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    code, out, err = cli(capsys, "evaluate", iris_model, iris_dir / "iris.csv", "--target", "species")
    assert code == 0, err
    model = logitgd.load(iris_model)
    df = pd.read_csv(iris_dir / "iris.csv")
    y, proba, pred = df["species"].to_numpy(), model.predict_proba(df[IRIS]), model.predict(df[IRIS])
    assert table_row(out, "accuracy")[0] == pytest.approx(accuracy_score(y, pred), abs=1e-4)
    assert table_row(out, "log-loss")[0] == pytest.approx(log_loss(y, proba, labels=model.classes_), abs=1e-4)
    assert table_row(out, "ROC AUC")[0] == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_), abs=1e-4)
    assert_report_matches(out, y, pred, model.classes_)


@pytest.mark.filterwarnings("error")
def test_evaluate_three_classes_on_data_without_one_of_them(capsys, iris_dir, iris_model, tmp_path):
    df = pd.read_csv(iris_dir / "iris.csv")
    path = write_csv(tmp_path, df[df["species"] != "setosa"], "two.csv")
    code, out, err = cli(capsys, "evaluate", iris_model, path, "--target", "species")
    assert code == 0, err
    auc_line = next(line for line in out.splitlines() if line.startswith("ROC AUC"))
    assert auc_line.split()[-1] == "n/a"  # undefined without every class
    assert 0 < table_row(out, "accuracy")[0] <= 1
    assert per_class(out)["setosa"][3] == 0
    assert sum(confusion(out)[1]["setosa"]) == 0


@pytest.mark.filterwarnings("error")
def test_predict_three_classes(capsys, iris_dir, iris_model):
    code, out, err = cli(capsys, "predict", iris_model, iris_dir / "iris.csv")
    assert code == 0, err
    preds = pd.read_csv(io.StringIO(out))
    columns = ["proba_setosa", "proba_versicolor", "proba_virginica"]
    assert list(preds.columns) == [*columns, "prediction"]
    model = logitgd.load(iris_model)
    df = pd.read_csv(iris_dir / "iris.csv")
    np.testing.assert_allclose(preds[columns].to_numpy(), model.predict_proba(df[IRIS]), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(preds[columns].sum(axis=1), 1.0, atol=1e-12)
    best = np.array([c.removeprefix("proba_") for c in columns])[preds[columns].to_numpy().argmax(axis=1)]
    assert (preds["prediction"].to_numpy() == best).all()


def test_fit_three_classes_one_vs_rest_with_integer_labels(capsys, iris_dir, tmp_path):
    paths = {mc: tmp_path / f"{mc}.json" for mc in ("ovr", "multinomial")}
    for mc, path in paths.items():
        code, out, err = cli(capsys, "fit", iris_dir / "iris_codes.csv", "--target", "code", "--quiet",
                             "--multi-class", mc, "--alpha", "0.01", "--model", path)
        assert code == 0, err
        assert f"multi-class    {mc}" in out
        assert list(per_class(out)) == ["0", "1", "2"]
    ovr, multinomial = (logitgd.load(paths[mc]) for mc in ("ovr", "multinomial"))
    assert ovr.multi_class == "ovr" and multinomial.multi_class == "multinomial"
    assert ovr.classes_.tolist() == [0, 1, 2] and ovr.coef_.shape == (3, 4)
    assert not np.allclose(ovr.coef_, multinomial.coef_)
    code, out, err = cli(capsys, "predict", paths["ovr"], iris_dir / "iris_codes.csv")
    assert code == 0, err
    preds = pd.read_csv(io.StringIO(out))
    assert list(preds.columns) == ["proba_0", "proba_1", "proba_2", "prediction"]
    assert preds["prediction"].dtype.kind == "i"


def test_too_few_rows_for_a_stratified_test_set_of_many_classes(capsys, tmp_path):
    df = pd.DataFrame({"a": np.arange(20.0), "label": np.repeat(list("abcde"), 4)})
    path = write_csv(tmp_path, df, "five.csv")
    assert_one_error(*cli(capsys, *fit_args(path, "--test-size", "0.1"))[::2], "stratified", "--test-size")
    assert cli(capsys, *fit_args(path, "--test-size", "0.25"))[0] == 0


# -- svmlight files ------------------------------------------------------------------

@pytest.fixture(scope="module")
def svm_dir(tmp_path_factory):
    """data.csv's features, with small values set to zero, as 1-based svmlight files; labels 0/1."""
    import bz2
    import gzip

    from sklearn.datasets import dump_svmlight_file

    d = tmp_path_factory.mktemp("svm")
    df = make_frame()
    X = df[FEATURES].to_numpy(copy=True)
    X[np.abs(X) < 0.5] = 0.0
    dump_svmlight_file(X, (df["label"] == "yes").astype(int), str(d / "data.svm"), zero_based=False)
    raw = (d / "data.svm").read_bytes()
    (d / "data.svm.gz").write_bytes(gzip.compress(raw))
    (d / "data.libsvm.bz2").write_bytes(bz2.compress(raw))
    return d


@pytest.fixture(scope="module")
def svm_model(svm_dir):
    path = svm_dir / "svm.json"
    assert main(["fit", str(svm_dir / "data.svm"), "--quiet", "--model", str(path)]) == 0
    return path


def load_svm(path, n_features=3):
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(str(path), zero_based=False, n_features=n_features)
    return X, y.astype(int)


def test_fit_svmlight_is_the_model_of_its_matrix(capsys, svm_dir, tmp_path):
    path = tmp_path / "m.json"
    code, out, err = cli(capsys, "fit", svm_dir / "data.svm", "--quiet", "--test-size", "0", "--model", path)
    assert code == 0, err
    assert "200 rows, 3 features" in out and "1-based feature indices" in out
    assert "labels from the file" in out
    X, y = load_svm(svm_dir / "data.svm")
    model, encoding = logitgd.load(path, return_encoding=True)
    assert encoding == {"kind": "svmlight", "zero_based": False}
    assert model.classes_.tolist() == [0, 1] and not hasattr(model, "feature_names_in_")
    reference = logitgd.LogisticRegression(alpha=1e-4).fit(X.toarray(), y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["data.svm.gz", "data.libsvm.bz2"])
def test_fit_compressed_svmlight(capsys, svm_dir, svm_model, tmp_path, name):
    path = tmp_path / "m.json"
    code, _out, err = cli(capsys, "fit", svm_dir / name, "--quiet", "--model", path)
    assert code == 0, err
    assert np.array_equal(logitgd.load(path).coef_, logitgd.load(svm_model).coef_)


@pytest.mark.filterwarnings("error")
def test_predict_and_evaluate_svmlight(capsys, svm_dir, svm_model):
    from sklearn.metrics import accuracy_score

    model = logitgd.load(svm_model)
    X, y = load_svm(svm_dir / "data.svm")
    code, out, err = cli(capsys, "predict", svm_model, svm_dir / "data.svm.gz")
    assert code == 0, err
    preds = pd.read_csv(io.StringIO(out))
    assert list(preds.columns) == ["proba_0", "proba_1", "prediction"]
    np.testing.assert_allclose(preds[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(X), rtol=1e-12)
    assert np.array_equal(preds["prediction"], model.predict(X))

    code, out, err = cli(capsys, "evaluate", svm_model, svm_dir / "data.svm")
    assert code == 0, err
    assert table_row(out, "accuracy")[0] == pytest.approx(accuracy_score(y, model.predict(X)), abs=1e-4)
    assert_report_matches(out, y, model.predict(X), model.classes_)


def test_predict_svmlight_with_fewer_features_than_the_model(capsys, svm_model, tmp_path):
    path = tmp_path / "narrow.svm"
    path.write_text("1 1:0.5\n0 2:-1\n")
    code, out, err = cli(capsys, "predict", svm_model, path)
    assert code == 0, err
    model = logitgd.load(svm_model)
    X = np.array([[0.5, 0.0, 0.0], [0.0, -1.0, 0.0]])
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out))["proba_1"], model.predict_proba(X)[:, 1], rtol=1e-12)


def bad_svm(tmp_path, svm_dir, line, at=17, name="bad.svm"):
    lines = (svm_dir / "data.svm").read_text().splitlines()
    lines[at - 1] = line
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("line, needles", [
    ("1 1:0.5 abc", ("expected 'index:value'", "'abc'")),
    ("1 1:0.5 2:nan", ("non-finite", "'nan'")),
    ("one 1:0.5", ("numeric label", "'one'")),
    ("1 2:1 1:0.5", ("increase",)),
])
def test_malformed_svmlight_line(capsys, svm_dir, svm_model, tmp_path, line, needles):
    path = bad_svm(tmp_path, svm_dir, line)
    expected = (f"{path} line 17:", *needles)
    assert_one_error(*cli(capsys, "fit", path, "--quiet")[::2], *expected)
    assert_one_error(*cli(capsys, "predict", svm_model, path)[::2], *expected)
    assert_one_error(*cli(capsys, "evaluate", svm_model, path)[::2], *expected)


def test_svmlight_with_more_features_than_the_model(capsys, svm_dir, svm_model, tmp_path):
    path = bad_svm(tmp_path, svm_dir, "1 1:0.5 4:2", at=9)
    assert_one_error(*cli(capsys, "predict", svm_model, path)[::2], "line 9:", "index 4", "3 features")
    assert_one_error(*cli(capsys, "evaluate", svm_model, path)[::2], "line 9:", "index 4", "3 features")


def test_svmlight_index_zero_for_a_model_of_one_based_data(capsys, svm_dir, svm_model, tmp_path):
    path = bad_svm(tmp_path, svm_dir, "0 0:1.5 2:1", at=30)
    assert_one_error(*cli(capsys, "predict", svm_model, path)[::2], "line 30:", "index 0", "1-based")
    # Fitting reads such a file as 0-based (index 0 appears), and says so.
    code, out, err = cli(capsys, "fit", path, "--quiet")
    assert code == 0, err
    assert "4 features" in out and "0-based feature indices" in out


@pytest.mark.parametrize("content, needle", [(b"", "is empty"), (b"# nothing\n\n", "no data lines")])
def test_svmlight_without_data(capsys, svm_model, tmp_path, content, needle):
    path = tmp_path / "empty.svm"
    path.write_bytes(content)
    assert_one_error(*cli(capsys, "fit", path, "--quiet")[::2], str(path), needle)
    assert_one_error(*cli(capsys, "predict", svm_model, path)[::2], str(path), needle)


def test_svmlight_with_one_class(capsys, tmp_path):
    path = tmp_path / "one.svm"
    path.write_text("1 1:1\n1 2:1\n1 1:3\n")
    assert_one_error(*cli(capsys, "fit", path, "--quiet", "--test-size", "0")[::2], "the labels have only one class")


def test_svmlight_options_that_do_not_apply(capsys, svm_dir, svm_model):
    data = svm_dir / "data.svm"
    assert_one_error(*cli(capsys, "fit", data, "--target", "label", "--quiet")[::2], "--target", "svmlight")
    assert_one_error(*cli(capsys, "fit", data, "--categorical", "a", "--quiet")[::2], "--categorical", "svmlight")
    assert_one_error(*cli(capsys, "evaluate", svm_model, data, "--target", "label")[::2], "--target", "svmlight")


def test_svmlight_and_table_models_do_not_mix(capsys, data_dir, model_path, svm_dir, svm_model):
    assert_one_error(*cli(capsys, "predict", model_path, svm_dir / "data.svm")[::2],
                     "svmlight file", "named columns", "a, b, c")
    assert_one_error(*cli(capsys, "predict", svm_model, data_dir / "data.csv")[::2],
                     "trained on an svmlight file", ".svm")


# -- categorical columns ---------------------------------------------------------------

def make_cat_frame(n=240, seed=0):
    """Two numeric columns, a text and an integer category, and a target that depends on all of them."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "a": rng.normal(size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "b": rng.normal(size=n) * 10,
        "size": rng.choice([1, 2, 3, 4], size=n),
    })
    z = df["a"] + 1.5 * (df["colour"] == "red") - (df["size"] == 4) + 0.05 * df["b"] + rng.normal(size=n)
    df["label"] = np.where(z > 0.3, "pos", "neg")
    return df


@pytest.fixture(scope="module")
def cat_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cat")
    df = make_cat_frame()
    df.to_csv(d / "cat.csv", index=False)
    df[["label", "size", "b", "colour", "a"]].to_parquet(d / "cat.parquet")
    return d


@pytest.fixture(scope="module")
def cat_model(cat_dir):
    path = cat_dir / "cat.json"
    assert main(["fit", str(cat_dir / "cat.csv"), "--target", "label", "--categorical", "colour,size",
                 "--quiet", "--test-size", "0", "--model", str(path)]) == 0
    return path


def encoded(df, categories=None):
    """The matrix logitgd should build: numeric a, b, then one-hot colour and size, by scikit-learn."""
    import scipy.sparse as sp
    from sklearn.preprocessing import OneHotEncoder

    cats = df[["colour", "size"]].astype(str)
    enc = OneHotEncoder(categories=categories or "auto", handle_unknown="ignore").fit(cats)
    return sp.hstack([sp.csr_matrix(df[["a", "b"]].to_numpy()), enc.transform(cats)], format="csr"), enc


def test_fit_categorical_is_the_model_of_the_one_hot_matrix(capsys, cat_dir, cat_model):
    model, encoding = logitgd.load(cat_model, return_encoding=True)
    df = pd.read_csv(cat_dir / "cat.csv")
    X, enc = encoded(df)
    assert encoding["numeric"] == ["a", "b"]
    assert encoding["categorical"] == [{"column": c, "categories": list(cats)}
                                       for c, cats in zip(["colour", "size"], enc.categories_)]
    assert model.n_features_in_ == X.shape[1] == 9
    reference = logitgd.LogisticRegression(alpha=1e-4).fit(X, df["label"])
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-9)
    code, out, err = cli(capsys, "fit", cat_dir / "cat.csv", "--target", "label", "--categorical", "colour,size",
                         "--quiet")
    assert code == 0, err
    assert "240 rows, 9 features: 2 numeric and 2 categorical columns, one-hot encoded into 7" in out


@pytest.mark.filterwarnings("error")
def test_predict_and_evaluate_categorical(capsys, cat_dir, cat_model):
    model = logitgd.load(cat_model)
    df = pd.read_csv(cat_dir / "cat.csv")
    X, _ = encoded(df)
    code, out, err = cli(capsys, "predict", cat_model, cat_dir / "cat.parquet")  # columns in another order
    assert code == 0, err
    assert err == ""
    preds = pd.read_csv(io.StringIO(out))
    np.testing.assert_allclose(preds[["proba_neg", "proba_pos"]].to_numpy(), model.predict_proba(X), rtol=1e-12)

    code, out, err = cli(capsys, "evaluate", cat_model, cat_dir / "cat.parquet", "--target", "label")
    code_csv, out_csv, _ = cli(capsys, "evaluate", cat_model, cat_dir / "cat.csv", "--target", "label")
    assert code == code_csv == 0, err
    for name in ("accuracy", "log-loss", "ROC AUC"):
        assert table_row(out, name) == table_row(out_csv, name)
    assert table_row(out, "accuracy")[0] == pytest.approx(np.mean(model.predict(X) == df["label"]), abs=1e-4)
    assert_report_matches(out, df["label"].to_numpy(), model.predict(X), model.classes_)


def test_predict_categorical_unseen_category_encodes_as_zeros(capsys, cat_dir, cat_model, tmp_path):
    model, encoding = logitgd.load(cat_model, return_encoding=True)
    new = make_cat_frame(n=8, seed=3).drop(columns="label")
    new["size"] = new["size"].astype(object)
    new.loc[5, "size"] = "XL"
    path = write_csv(tmp_path, new, "new.csv")
    code, out, err = cli(capsys, "predict", cat_model, path)
    assert code == 0
    warning = err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("logitgd: warning:")
    assert "'size'" in warning[0] and "row 6" in warning[0] and "'XL'" in warning[0] and "zeros" in warning[0]
    categories = [np.array(b["categories"], dtype=object) for b in encoding["categorical"]]
    X, _ = encoded(new, categories)
    assert X[5, 5:].nnz == 0  # no size column is set for the unseen size
    preds = pd.read_csv(io.StringIO(out))
    np.testing.assert_allclose(preds["proba_pos"], model.predict_proba(X)[:, 1], rtol=1e-12)


def test_categorical_bad_input(capsys, cat_dir, cat_model, tmp_path):
    data = cat_dir / "cat.csv"
    assert_one_error(*cli(capsys, *fit_args(data, "--categorical", "colour,shape"))[::2],
                     "--categorical", "no column 'shape'", "a, colour, b, size, label")
    assert_one_error(*cli(capsys, *fit_args(data, "--categorical", "label"))[::2], "'label'", "target")
    assert_one_error(*cli(capsys, *fit_args(data))[::2], "column 'colour'", "not numeric", "--categorical")
    assert_one_error(*cli(capsys, "fit", "--categorical", "mean radius", "--quiet")[::2], "--categorical", "DATA")

    df = make_cat_frame()
    df.loc[10, "colour"] = None
    path = write_csv(tmp_path, df, "missing.csv")
    expected = (str(path), "categorical column 'colour'", "missing value", "row 11")
    assert_one_error(*cli(capsys, *fit_args(path, "--categorical", "colour,size"))[::2], *expected)
    assert_one_error(*cli(capsys, "predict", cat_model, path)[::2], *expected)

    fewer = write_csv(tmp_path, make_cat_frame().drop(columns=["size", "b"]), "fewer.csv")
    assert_one_error(*cli(capsys, "predict", cat_model, fewer)[::2], "lacks 2 of the model's 4 columns", "'b', 'size'")
    assert_usage_error(capsys, ["fit", "x.csv", "--categorical", "a,,b"], "--categorical", "'a,,b'")


# -- the coefficient table: fit --summary, --formula, logitgd summary ----------------------------

SPECTOR_FORMULA = "GRADE ~ GPA + TUCE + C(PSI)"


@pytest.fixture(scope="module")
def spector_dir(tmp_path_factory):
    """statsmodels' spector data (32 rows) as CSV, with a group column ``g`` (6 groups) for cluster SEs."""
    sm = pytest.importorskip("statsmodels.api")
    d = sm.datasets.spector.load_pandas().data
    d["g"] = np.arange(len(d)) % 6
    path = tmp_path_factory.mktemp("spector")
    d.to_csv(path / "spector.csv", index=False)
    d.drop(columns="g").to_csv(path / "nogroups.csv", index=False)
    return path


def spector():
    import statsmodels.api as sm

    d = sm.datasets.spector.load_pandas().data
    return d, d[["GPA", "TUCE", "PSI"]], d["GRADE"].to_numpy(), np.arange(len(d)) % 6


def coef_table(text):
    """The lines of the coefficient table (its header line to the last parameter's row)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Coefficients ("))
    end = lines.index("---", start)
    return lines[start:end]


def assert_same_table(out, expected, conf_int="wald", names=()):
    """The printed table of ``out`` is ``expected.as_text(conf_int)``'s, line for line (the printed precision)."""
    got, want = coef_table(out), coef_table(expected.as_text(conf_int=conf_int))
    assert got == want, "\n".join(got + ["-- expected --"] + want)
    for name in names:
        assert any(line.split()[0] == name for line in got[2:]), name
    for line in got[2:]:  # odds ratios are exp(coef), to the printed digits
        fields = line.split()
        assert float(fields[-3]) == pytest.approx(np.exp(float(fields[1])), rel=1e-3)


def test_fit_summary_matches_model_summary(capsys, spector_dir):
    from logitgd import LogisticRegression

    _, X, y, _ = spector()
    code, out, err = cli(capsys, "fit", spector_dir / "nogroups.csv", "--target", "GRADE", "--quiet",
                         "--test-size", "0", "--alpha", "0", "--summary", "--cov-type", "HC1", "--level", "0.9")
    assert code == 0, err
    expected = LogisticRegression(alpha=0).fit(X, y).summary(cov_type="HC1", level=0.9)
    assert "sandwich HC1" in out and "90% wald intervals" in out
    assert_same_table(out, expected, names=["(Intercept)", "GPA", "TUCE", "PSI"])


def test_fit_summary_profile_intervals(capsys, spector_dir):
    from logitgd import LogisticRegression

    _, X, y, _ = spector()
    code, out, err = cli(capsys, "fit", spector_dir / "nogroups.csv", "--target", "GRADE", "--quiet",
                         "--test-size", "0", "--alpha", "0", "--summary", "--conf-int", "profile")
    assert code == 0, err
    assert_same_table(out, LogisticRegression(alpha=0).fit(X, y).summary(), conf_int="profile")


def test_fit_summary_cluster_over_the_training_rows(capsys, spector_dir):
    """--cluster g: g is not a feature, and its labels follow the rows of the stratified train split."""
    from sklearn.model_selection import train_test_split

    from logitgd import LogisticRegression

    _, X, y, g = spector()
    code, out, err = cli(capsys, "fit", spector_dir / "spector.csv", "--target", "GRADE", "--quiet",
                         "--test-size", "0.25", "--summary", "--cluster", "g")
    assert code == 0, err
    X_tr, _, y_tr, _, g_tr, _ = train_test_split(X, y, g, test_size=0.25, stratify=y, random_state=0)
    expected = LogisticRegression(alpha=1e-4).fit(X_tr, y_tr).summary(cov_type="cluster", groups=g_tr)
    assert "cluster-robust, 6 groups" in out and "over the 24 training rows" in out
    assert_same_table(out, expected, names=["GPA", "TUCE", "PSI"])
    assert not any(line.split()[0] == "g" for line in coef_table(out)[2:])


def test_fit_summary_option_errors(capsys, spector_dir):
    data = spector_dir / "spector.csv"
    base = ["fit", data, "--target", "GRADE", "--quiet"]
    assert_one_error(*cli(capsys, *base, "--summary", "--cluster", "school")[::2],
                     "no column 'school'", "--cluster", "'GPA', 'TUCE', 'PSI', 'GRADE', 'g'")
    assert_one_error(*cli(capsys, *base, "--summary", "--cov-type", "cluster")[::2], "--cluster COL")
    assert_one_error(*cli(capsys, *base, "--summary", "--cluster", "g", "--cov-type", "HC0")[::2], "--cluster")
    assert_one_error(*cli(capsys, *base, "--cov-type", "HC0")[::2], "--cov-type", "--summary")
    assert_one_error(*cli(capsys, *base, "--summary", "--conf-int", "profile")[::2], "--alpha 0")
    assert_usage_error(capsys, [*base, "--summary", "--level", "1.5"], "--level", "'1.5'")
    assert_usage_error(capsys, [*base, "--summary", "--cov-type", "HC3"], "--cov-type", "HC3")


def test_fit_summary_that_is_not_valid_still_writes_the_model(capsys, spector_dir, tmp_path):
    """An L1 fit has no valid summary: one error line (the estimator's reason), after the model file."""
    model = tmp_path / "l1.json"
    code, out, err = cli(capsys, "fit", spector_dir / "nogroups.csv", "--target", "GRADE", "--quiet",
                         "--penalty", "l1", "--alpha", "0.01", "--summary", "--model", model)
    assert_one_error(code, err, "no summary")
    assert model.exists() and "model " in out


def test_fit_formula_and_its_predict_evaluate(capsys, spector_dir, tmp_path):
    from logitgd import LogisticRegression

    d, *_ = spector()
    model = tmp_path / "formula.json"
    code, out, err = cli(capsys, "fit", spector_dir / "spector.csv", "--formula", SPECTOR_FORMULA, "--quiet",
                         "--test-size", "0", "--alpha", "0", "--summary", "--model", model)
    assert code == 0, err
    expected = LogisticRegression.from_formula(SPECTOR_FORMULA, d, alpha=0)
    assert "target 'GRADE'" in out and "3 features" in out
    assert_same_table(out, expected.summary(), names=["GPA", "TUCE", "C(PSI)[T.1.0]"])

    # predict and evaluate build the formula's columns from the original variables (no --target: the response)
    code, out, err = cli(capsys, "predict", model, spector_dir / "spector.csv")
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    np.testing.assert_allclose(got["proba_1.0"], expected.predict_proba(d)[:, 1], rtol=1e-12)
    code, out, err = cli(capsys, "evaluate", model, spector_dir / "spector.csv")
    assert code == 0, err
    assert table_row(out, "accuracy")[0] == pytest.approx(np.mean(expected.predict(d) == d["GRADE"]), abs=1e-4)


def test_fit_formula_with_a_test_split(capsys, spector_dir):
    code, out, err = cli(capsys, "fit", spector_dir / "spector.csv", "--formula", "GRADE ~ GPA + PSI", "--quiet")
    assert code == 0, err
    assert "formula 'GRADE ~ GPA + PSI'" in out and len(table_row(out, "accuracy")) == 2


def test_fit_formula_errors(capsys, spector_dir, svm_dir, tmp_path):
    data = spector_dir / "spector.csv"
    assert_one_error(*cli(capsys, "fit", svm_dir / "data.svm", "--formula", "y ~ x", "--quiet")[::2],
                     "--formula", "svmlight")
    assert_one_error(*cli(capsys, "fit", data, "--formula", SPECTOR_FORMULA, "--target", "PSI", "--quiet")[::2],
                     "--target 'PSI'", "--formula")
    code, _, err = cli(capsys, "fit", data, "--formula", SPECTOR_FORMULA, "--target", "GRADE", "--quiet")
    assert code == 0, err  # the same label twice is no conflict
    assert_one_error(*cli(capsys, "fit", data, "--formula", SPECTOR_FORMULA, "--categorical", "PSI",
                          "--quiet")[::2], "--categorical", "C(column)")
    assert_one_error(*cli(capsys, "fit", data, "--formula", SPECTOR_FORMULA, "--dask", "local:1",
                          "--quiet")[::2], "--formula", "--dask")
    assert_one_error(*cli(capsys, "fit", data, "--formula", "GRADE ~ GPA + school", "--quiet")[::2],
                     "--formula", "'school'")
    assert_one_error(*cli(capsys, "fit", "--formula", SPECTOR_FORMULA, "--quiet")[::2], "--formula", "DATA")


def test_summary_command_with_data(capsys, spector_dir, tmp_path):
    """``logitgd summary MODEL --data FILE``: cluster SEs and profile intervals over the file's rows."""
    from logitgd import LogisticRegression

    _, X, y, g = spector()
    model = tmp_path / "m.json"
    assert main(["fit", str(spector_dir / "nogroups.csv"), "--target", "GRADE", "--quiet", "--test-size", "0",
                 "--alpha", "0", "--model", str(model)]) == 0
    capsys.readouterr()
    expected = LogisticRegression(alpha=0).fit(X, y)
    code, out, err = cli(capsys, "summary", model, "--data", spector_dir / "spector.csv", "--target", "GRADE",
                         "--cluster", "g", "--conf-int", "profile")
    assert code == 0, err
    assert "on " in out.splitlines()[0] and "(32 rows)" in out.splitlines()[0]
    assert_same_table(out, expected.summary(X, y, cov_type="cluster", groups=g), conf_int="profile",
                      names=["GPA", "TUCE", "PSI"])


def test_summary_command_of_a_formula_model_with_data(capsys, spector_dir, tmp_path):
    from logitgd import LogisticRegression

    d, *_ = spector()
    model = tmp_path / "f.json"
    assert main(["fit", str(spector_dir / "spector.csv"), "--formula", SPECTOR_FORMULA, "--quiet", "--test-size", "0",
                 "--alpha", "0", "--model", str(model)]) == 0
    capsys.readouterr()
    code, out, err = cli(capsys, "summary", model, "--data", spector_dir / "spector.csv", "--cov-type", "HC0")
    assert code == 0, err
    assert_same_table(out, LogisticRegression.from_formula(SPECTOR_FORMULA, d, alpha=0).summary(cov_type="HC0"),
                      names=["C(PSI)[T.1.0]"])


def test_summary_command_errors(capsys, spector_dir, model_path):
    data = spector_dir / "spector.csv"
    assert_one_error(*cli(capsys, "summary", model_path, "--cluster", "g")[::2], "--cluster", "--data")
    assert_one_error(*cli(capsys, "summary", model_path, "--conf-int", "profile")[::2], "profile", "--data")
    assert_one_error(*cli(capsys, "summary", model_path, "--data", data)[::2], "--target")
    assert_one_error(*cli(capsys, "summary", model_path, "--data", data, "--target", "GRADE", "--cluster",
                          "school")[::2], "no column 'school'", "'GPA'")


def test_summary_command_without_data_needs_persistence_format_3(capsys, spector_dir, tmp_path):
    """NEEDS the model file's summary ingredients (logitgd.save/load, format 3): the table without the data."""
    from logitgd import LogisticRegression

    _, X, y, _ = spector()
    model = tmp_path / "m.json"
    assert main(["fit", str(spector_dir / "nogroups.csv"), "--target", "GRADE", "--quiet", "--test-size", "0",
                 "--alpha", "0", "--model", str(model)]) == 0
    capsys.readouterr()
    expected = LogisticRegression(alpha=0).fit(X, y)
    for cov_type in ("nonrobust", "HC0", "HC1"):
        code, out, err = cli(capsys, "summary", model, "--cov-type", cov_type, "--level", "0.99")
        assert code == 0, err
        assert_same_table(out, expected.summary(cov_type=cov_type, level=0.99), names=["GPA", "TUCE", "PSI"])


def test_fit_dask_summary(capsys, spector_dir, tmp_path):
    """--dask --summary: over the workers' data, while they hold it; the model file then keeps the table."""
    pytest.importorskip("distributed")
    from logitgd import LogisticRegression

    _, X, y, _ = spector()
    parquet, model = tmp_path / "spector.parquet", tmp_path / "d.json"
    pd.read_csv(spector_dir / "nogroups.csv").to_parquet(parquet)
    code, out, err = cli(capsys, "fit", parquet, "--target", "GRADE", "--dask", "local:1", "--alpha", "0", "--quiet",
                         "--summary", "--cov-type", "HC0", "--model", model)
    assert code == 0, err
    expected = LogisticRegression(alpha=0).fit(X, y).summary(cov_type="HC0")
    assert_same_table(out, expected, names=["GPA", "TUCE", "PSI"])
    assert_one_error(*cli(capsys, "fit", parquet, "--target", "GRADE", "--dask", "local:1", "--quiet",
                          "--summary", "--cluster", "g")[::2], "--cluster", "--dask")


def test_fit_penalty_firth_on_separated_data(capsys, tmp_path):
    """--penalty firth: no alpha needed (the default 1e-4 is not applied), finite estimates, and by default
    logistf's table (profile penalized-likelihood intervals, penalized LR tests)."""
    import glm_data

    X, y = glm_data.endometrial()
    path = tmp_path / "endometrial.csv"
    X.assign(HG=y).to_csv(path, index=False)
    code = main(["fit", str(path), "--target", "HG", "--penalty", "firth", "--test-size", "0", "--summary",
                 "--model", str(tmp_path / "m.json"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "Firth's penalized likelihood" in out and "separated" not in out
    model = logitgd.load(tmp_path / "m.json")
    assert model.penalty == "firth" and model.alpha == 0
    expected = model.summary(X, y).as_text(conf_int="profile", tests="lr").splitlines()
    assert "Pr(>Chisq)" in out and all(line in out for line in expected[5:10])  # the header and all four rows
    # Wald on request; and without the data (a model file alone) Wald is all there is
    main(["summary", str(tmp_path / "m.json"), "--data", str(path), "--target", "HG", "--tests", "wald",
          "--conf-int", "wald"])
    assert "Pr(>|z|)" in capsys.readouterr().out
    main(["summary", str(tmp_path / "m.json")])
    assert "wald intervals" in capsys.readouterr().out
    assert main(["summary", str(tmp_path / "m.json"), "--tests", "lr"]) == 1
    assert "--tests lr needs --data" in capsys.readouterr().err
    # the unpenalized fit's separation warning names the remedies as options
    main(["fit", str(path), "--target", "HG", "--alpha", "0", "--test-size", "0", "--quiet"])
    err = capsys.readouterr().err
    assert "quasi-completely separated" in err and "--penalty firth" in err and "--alpha > 0" in err
    code = main(["fit", str(path), "--target", "HG", "--penalty", "firth", "--alpha", "0.1", "--test-size", "0",
                 "--model", str(tmp_path / "m2.json"), "--quiet"])
    assert code == 1 and "takes no alpha" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["fit", "--help"], ["report", "--help"]])
def test_version_and_help_start_without_the_numeric_stack(argv):
    """``logitgd --version`` and ``--help`` import neither NumPy nor scikit-learn (they took seconds)."""
    code = ("import sys\nfrom logitgd.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'scipy', 'sklearn', 'pandas', 'matplotlib') if m in sys.modules]\n"
            "print('heavy:', heavy)" % argv)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("heavy: []"), out[-300:]


def _installed():
    exe = shutil.which("logitgd") or os.path.join(os.path.dirname(sys.executable), "logitgd")
    assert os.path.exists(exe), "the 'logitgd' console script is not installed"
    return exe


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_a_closed_pipe_never_costs_the_fit(data_dir, tmp_path, closed):
    """``logitgd fit ... --model m.json | head -1`` (the reader leaves after one line): the model and the plot are
    written all the same, and the exit status is the fit's."""
    model, plot = tmp_path / "m.json", tmp_path / "cost.png"
    command = (f"'{_installed()}' fit '{data_dir / 'data.csv'}' --target label --model '{model}' --plot '{plot}'"
               " --plot roc=" + f"'{tmp_path / 'roc.svg'}'")
    if closed in ("stderr", "both"):
        command += " 2>&-"  # standard error closed outright
    if closed in ("stdout", "both"):
        command += " | head -c 20 >/dev/null; exit ${PIPESTATUS[0]}"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert logitgd.load(model).classes_.tolist() == ["no", "yes"]
    assert plot.read_bytes()[:8] == PNG_MAGIC and (tmp_path / "roc.svg").stat().st_size > 1000
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
