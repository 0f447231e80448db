"""The command line on real tables (tests/data: carData's TitanicSurvival and MASS's birthwt, from Debian's
r-cran-cardata and r-cran-mass, exported by ``Rscript -e 'write.csv(carData::TitanicSurvival, "titanic.csv");
write.csv(MASS::birthwt, "birthwt.csv")'``, row names in the first, unnamed, column): choosing columns, row
identifiers, the options the estimator has, predictions' formats, and a fixed learning rate that is too large; each
through the installed ``logitgd`` command."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pandas as pd
import pytest

import logitgd

DATA = os.path.join(os.path.dirname(__file__), "data")
TITANIC = os.path.join(DATA, "titanic.csv")
BIRTHWT = os.path.join(DATA, "birthwt.csv")


def cli(capsys, *argv):
    """``(exit status, stdout, stderr)`` of the installed ``logitgd`` command, as a user runs it."""
    from test_cli import _installed

    done = subprocess.run([_installed(), *map(str, argv)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "120"})
    return done.returncode, done.stdout, done.stderr


def one_error(code, err, *needles):
    assert code == 1 and err.startswith("logitgd: error: ") and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_row_names_are_refused_as_features_with_the_fix(capsys):
    # birthwt: R's row names (85, 86, ...: distinct, under the name pandas gives an unnamed column)
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet")
    one_error(code, err, "'Unnamed: 0'", "row identifier", "--drop 'Unnamed: 0'", "--allow-id 'Unnamed: 0'")
    assert out == ""
    # bwt is the birth weight that defines low (< 2500 g): leaving it in would leak the label
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet", "--drop", "Unnamed: 0,bwt",
                         "--alpha", "0", "--test-size", "0")
    assert code == 0, err
    assert "race" in out and "bwt" not in out.split("coefficients")[1] and "Unnamed" not in out
    # R 4.2, Rscript -e 'coef(glm(low ~ age + lwt + race + smoke + ptl + ht + ui + ftv, binomial, MASS::birthwt))'
    # (race as a number, as the file has it); the table prints 6 significant digits
    r = {"(Intercept)": -0.07897460095, "age": -0.03584540423, "lwt": -0.01238662386, "race": 0.45342395550,
         "smoke": 0.93727542996, "ptl": 0.54208698482, "ht": 1.83071987981, "ui": 0.72196488755,
         "ftv": 0.06346059997}
    coef = {line.split()[0]: float(line.split()[1]) for line in out.split("coefficients\n")[1].splitlines()[1:10]}
    assert coef == pytest.approx(r, rel=2e-5)
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet", "--features", "age,lwt,smoke")
    assert code == 0, err
    table = out.split("coefficients\n")[1]
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["(Intercept)", "age", "lwt", "smoke"]
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet", "--features", "age,weight")
    one_error(code, err, "--features", "no column 'weight'")
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet", "--drop", "low")
    one_error(code, err, "--drop", "target")
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--quiet", "--allow-id", "Unnamed: 0",
                         "--drop", "bwt")
    assert code == 0, err


def test_a_name_column_is_refused_as_an_identifier(capsys, tmp_path):
    path = tmp_path / "titanic.csv"
    pd.read_csv(TITANIC).rename(columns={"Unnamed: 0": "name"}).to_csv(path, index=False)
    code, _, err = cli(capsys, "fit", path, "--target", "survived", "--categorical", "sex,passengerClass", "--quiet")
    one_error(code, err, "'name'", "text with a different value in each of the 1309 rows", "--drop name")


def test_predictions_keep_an_id_and_take_their_format_from_the_suffix(capsys, tmp_path):
    model = tmp_path / "m.json"
    code, _, err = cli(capsys, "fit", TITANIC, "--target", "survived", "--categorical", "sex,passengerClass",
                       "--drop", "Unnamed: 0,age", "--quiet", "--model", model)
    assert code == 0, err
    out_csv, out_pq = tmp_path / "p.csv", tmp_path / "p.parquet"
    assert cli(capsys, "predict", model, TITANIC, "--keep", "Unnamed: 0", "--output", out_csv)[0] == 0
    assert cli(capsys, "predict", model, TITANIC, "--keep", "Unnamed: 0", "--output", out_pq)[0] == 0
    csv, pq = pd.read_csv(out_csv), pd.read_parquet(out_pq)
    assert list(csv.columns) == ["Unnamed: 0", "proba_no", "proba_yes", "prediction"] == list(pq.columns)
    assert csv["Unnamed: 0"].iloc[0] == "Allen, Miss. Elisabeth Walton"
    written = pd.read_csv(out_csv, dtype=str)  # the numbers as written: 6 significant digits
    digits = written[["proba_no", "proba_yes"]].stack().str.split("e").str[0].str.replace(".", "").str.lstrip("0")
    assert digits.str.len().max() <= 6
    fitted = logitgd.load(model)
    np.testing.assert_allclose(pq["proba_yes"], csv["proba_yes"], rtol=1e-5)
    assert pq["proba_yes"].dtype == np.float64
    code, _, err = cli(capsys, "predict", model, TITANIC, "--output", tmp_path / "p.xlsx")
    one_error(code, err, "--output", ".parquet")
    code, _, err = cli(capsys, "predict", model, TITANIC, "--keep", "ticket")
    one_error(code, err, "--keep", "'ticket'")
    assert fitted.classes_.tolist() == ["no", "yes"]


def test_class_weights_threshold_and_a_seeded_sgd(capsys, tmp_path):
    base = ["fit", TITANIC, "--target", "survived", "--categorical", "sex,passengerClass", "--drop", "Unnamed: 0,age",
            "--quiet"]
    runs = [cli(capsys, *base, "--solver", "sgd", "--model", tmp_path / f"s{i}.json")[1] for i in range(2)]
    assert runs[0].split("time")[0] == runs[1].split("time")[0]  # the same iterations, the same numbers
    a, b = (logitgd.load(tmp_path / f"s{i}.json") for i in range(2))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    code, out, err = cli(capsys, *base, "--class-weight", "yes=3", "--threshold", "0.8")
    assert code == 0, err
    code, out_plain, _ = cli(capsys, *base)
    assert out != out_plain
    code, _, err = cli(capsys, *base, "--class-weight", "maybe=2")
    one_error(code, err, "--class-weight", "'maybe'", "no, yes")
    code, _, err = cli(capsys, "fit", BIRTHWT, "--target", "race", "--drop", "Unnamed: 0", "--quiet",
                       "--threshold", "0.3")
    one_error(code, err, "--threshold", "two classes")


def test_a_fixed_learning_rate_that_is_too_large_is_an_error_in_the_command_lines_terms(capsys, tmp_path):
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--drop", "Unnamed: 0,bwt", "--quiet",
                         "--learning-rate", "0.001", "--model", tmp_path / "m.json")
    one_error(code, err, "--learning-rate auto (the default)")
    assert "learning_rate" not in err and "--learning-rate 0.001 did not converge" in err
    assert not (tmp_path / "m.json").exists()


def test_unpenalized_categorical_fit_drops_a_reference_level_as_r_does(capsys, tmp_path):
    model = tmp_path / "m.json"
    code, out, err = cli(capsys, "fit", TITANIC, "--target", "survived", "--categorical", "sex,passengerClass",
                         "--drop", "Unnamed: 0,age", "--alpha", "0", "--test-size", "0", "--quiet", "--model", model)
    assert code == 0, err
    assert "reference levels, as R's: sex=female, passengerClass=1st" in out
    # R 4.2: coef(glm(survived ~ sex + passengerClass, binomial, carData::TitanicSurvival))
    r = {"(Intercept)": 2.109132794, "sex=male": -2.515003531, "passengerClass=2nd": -0.880823259,
         "passengerClass=3rd": -1.723129142}
    table = out.split("coefficients\n")[1].splitlines()[1:5]
    assert {line.split()[0]: float(line.split()[1]) for line in table} == pytest.approx(r, rel=2e-5)
    # the reference level is a known category on new data: no warning, all zeros in its block
    code, out, err = cli(capsys, "predict", model, TITANIC, "--output", tmp_path / "p.csv")
    assert code == 0 and "not seen in training" not in err, err
    # with a penalty every level is kept (the penalty tells them apart), and the command says so
    code, out, err = cli(capsys, "fit", TITANIC, "--target", "survived", "--categorical", "sex,passengerClass",
                         "--drop", "Unnamed: 0,age", "--quiet")
    assert code == 0 and "every level kept" in out and "sex=female" in out.split("coefficients")[1]


@pytest.fixture(scope="module")
def titanic_split(tmp_path_factory):
    """carData's TitanicSurvival as it comes (its row names, text columns, 263 missing ages), cut into a training
    file and a test file."""
    d = tmp_path_factory.mktemp("titanic")
    raw = pd.read_csv(TITANIC)
    test = raw.index % 5 == 0
    raw[~test].to_csv(d / "train.csv", index=False)
    raw[test].to_csv(d / "test.csv", index=False)
    return d


def test_titanic_end_to_end_raw_tables_in_the_same_probabilities_out(capsys, titanic_split, tmp_path):
    d = titanic_split
    model, preds = tmp_path / "titanic.json", tmp_path / "preds.csv"
    code, out, err = cli(capsys, "fit", d / "train.csv", "--target", "survived", "--categorical",
                         "sex,passengerClass", "--drop", "Unnamed: 0", "--impute", "median", "--standardize",
                         "--alpha", "0", "--test-size", "0", "--quiet", "--model", model)
    assert code == 0, err
    assert "missing numbers filled with the training rows' median" in out and "standardized" in out
    assert "reference levels, as R's: sex=female, passengerClass=1st" in out
    # predict and evaluate on the raw test file (its ages missing too), the ID column copied
    code, out, err = cli(capsys, "predict", model, d / "test.csv", "--keep", "Unnamed: 0", "--digits", "17",
                         "--output", preds)
    assert code == 0, err
    report = tmp_path / "titanic.html"
    code, _, err = cli(capsys, "report", model, d / "test.csv", "--target", "survived", "-o", report)
    assert code == 0, err
    text = report.read_text()
    assert "numbers filled with the training rows&#39; median (--impute)" in text and "sex (2 levels)" in text
    code, out, err = cli(capsys, "evaluate", model, d / "test.csv", "--target", "survived")
    assert code == 0, err
    assert "accuracy" in out
    # the same probabilities from Python, from the raw DataFrame
    pipeline = logitgd.load(model, as_pipeline=True)
    raw = pd.read_csv(d / "test.csv")
    written = pd.read_csv(preds)
    np.testing.assert_allclose(pipeline.predict_proba(raw)[:, 1], written["proba_yes"], rtol=1e-15, atol=0)
    assert written["Unnamed: 0"].tolist() == raw["Unnamed: 0"].tolist()
    assert (pipeline.predict(raw) == written["prediction"]).all()
    # the statistics are the training rows': the median age of train.csv, and its mean and sd after filling
    train_age = pd.read_csv(d / "train.csv")["age"]
    _, encoding = logitgd.load(model, return_encoding=True)
    prep = encoding["preprocess"]
    assert prep["statistics"] == [pytest.approx(train_age.median())]
    filled = train_age.fillna(train_age.median())
    assert prep["mean"] == [pytest.approx(filled.mean())] and prep["scale"] == [pytest.approx(filled.std(ddof=0))]


def test_impute_and_standardize_are_checked(capsys, titanic_split, tmp_path):
    d = titanic_split
    base = ["fit", d / "train.csv", "--target", "survived", "--categorical", "sex,passengerClass", "--drop",
            "Unnamed: 0", "--quiet"]
    code, _, err = cli(capsys, *base)  # missing ages, no --impute: the row and the fix
    one_error(code, err, "column 'age' has a missing value", "--impute median")
    path = tmp_path / "empty.csv"
    raw = pd.read_csv(d / "train.csv")
    raw["weight"] = np.nan
    raw.to_csv(path, index=False)
    code, _, err = cli(capsys, "fit", path, *base[2:], "--impute", "mean")
    one_error(code, err, "'weight'", "no value to impute")
    code, out, err = cli(capsys, "fit", *base[1:], "--impute", "most_frequent")
    assert code == 0, err
    assert "most frequent" in out
    # where the preprocessing cannot run, the option is refused by name, never ignored
    for option in (["--impute", "median"], ["--standardize"]):
        code, _, err = cli(capsys, "fit", d / "train.csv", "--formula", "survived ~ age + C(sex)", *option)
        one_error(code, err, "--impute and --standardize do not go with --formula")
        code, _, err = cli(capsys, "fit", d / "train.csv", "--target", "survived", "--dask", "local:1", *option)
        one_error(code, err, f"{option[0]} does not go with --dask")
    # a model file whose preprocessing was edited is refused by name
    model = tmp_path / "m.json"
    assert cli(capsys, *base, "--impute", "median", "--model", model)[0] == 0
    import json

    payload = json.loads(model.read_text())
    payload["input_encoding"]["preprocess"]["statistics"] = ["x"]
    from logitgd.persistence import _checksum

    payload["sha256"] = _checksum({k: v for k, v in payload.items() if k != "sha256"})
    model.write_text(json.dumps(payload))
    with pytest.raises(logitgd.ModelFileError, match="preprocess"):
        logitgd.load(model)


@pytest.mark.parametrize("solver", ["gd", "newton"])
def test_the_progress_bar_leaves_no_fragment_on_the_screen(solver):
    """As a user sees it: the command on a pseudo-terminal, the final screen rendered."""
    from terminal import run_on_terminal, screen
    from test_cli import _installed

    slow = ["--learning-rate", "1e-6", "--max-iter", "20000"] if solver == "gd" else []
    code, raw = run_on_terminal([_installed(), "fit", "--solver", solver, *slow])
    assert code == 0, raw[-2000:]
    assert "fitting:" in raw  # the bar was drawn ...
    shown = screen(raw)
    assert not [line for line in shown if "fitting:" in line or "it/s" in line], shown[:5]  # ... and is gone
    assert shown[0].startswith("logitgd ") and shown[1].startswith(("alpha", "logitgd: warning"))


def test_what_a_new_user_types_wrong_gets_the_fix(capsys, tmp_path):
    code, _, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--learning_rate", "0.1")
    assert code == 2 and "--learning_rate: did you mean --learning-rate?" in err
    model = tmp_path / "m.json"
    assert cli(capsys, "fit", BIRTHWT, "--target", "low", "--drop", "Unnamed: 0,bwt", "--quiet", "--model",
               model)[0] == 0
    code, _, err = cli(capsys, "predict", BIRTHWT, model)
    one_error(code, err, "model file first", f"logitgd predict {model} {BIRTHWT}")
    code, _, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--dask", "local:1", "--categorical", "race")
    one_error(code, err, "--categorical does not go with --dask")


def test_semicolon_csv_and_parquet_category_columns_are_read_as_meant(capsys, tmp_path):
    raw = pd.read_csv(BIRTHWT).drop(columns=["Unnamed: 0", "bwt"])
    semi = tmp_path / "birthwt.csv"
    raw.assign(lwt=raw["lwt"] + 0.5).to_csv(semi, sep=";", decimal=",", index=False)  # "130,5": a decimal comma
    code, out, err = cli(capsys, "fit", semi, "--target", "low", "--quiet", "--alpha", "0", "--test-size", "0")
    assert code == 0, err
    assert "189 rows, 8 features" in out
    typed = tmp_path / "birthwt.parquet"
    raw.assign(race=pd.Categorical(raw["race"].map({1: "white", 2: "black", 3: "other"}))).to_parquet(typed)
    code, out, err = cli(capsys, "fit", typed, "--target", "low", "--quiet", "--alpha", "0", "--test-size", "0")
    assert code == 0, err
    assert "1 categorical columns" in out and "reference levels, as R's: race=black" in out
    assert "race=white" in out.split("coefficients")[1]


def test_the_command_line_and_python_share_one_default_alpha(capsys, tmp_path):
    """No --alpha on the command line, no alpha in Python: the same penalty, the same model (README says why)."""
    from logitgd._defaults import DEFAULT_ALPHA

    model = tmp_path / "m.json"
    code, out, err = cli(capsys, "fit", BIRTHWT, "--target", "low", "--drop", "Unnamed: 0,bwt", "--test-size", "0",
                         "--quiet", "--model", model)
    assert code == 0, err
    assert f"alpha          {DEFAULT_ALPHA:g}" in out
    raw = pd.read_csv(BIRTHWT)
    X, y = raw.drop(columns=["Unnamed: 0", "bwt", "low"]), raw["low"]
    api = logitgd.LogisticRegression().fit(X, y)
    assert api.get_params()["alpha"] is None and logitgd.load(model).alpha == DEFAULT_ALPHA
    np.testing.assert_allclose(logitgd.load(model).coef_, api.coef_, rtol=1e-6)
    assert not np.allclose(logitgd.LogisticRegression(alpha=0).fit(X, y).coef_, api.coef_, rtol=1e-6)
