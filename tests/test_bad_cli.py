"""Issue 20, the command-line cases: each bad input ends in a correct result or one clear line (exit 1), through
the installed ``logitgd`` command. What each got before is in its docstring."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest
from test_cli import _installed

import logitgd

HERE = os.path.dirname(__file__)
BAD = pathlib.Path(HERE, "data", "bad")
BIRTHWT = os.path.join(HERE, "data", "birthwt.csv")
FIT = ["--target", "low", "--drop", "Unnamed: 0,bwt", "--quiet"]


def _run(*argv, shell=None, installed=False, timeout=300):
    """The command ``logitgd ARGV``: in this process (:func:`logitgd.cli.main`, the installed command's entry
    point, a second or two of imports cheaper), or through the installed command (``installed``), or a shell's
    pipe or process substitution around it (``shell``, with the command as $LOGITGD)."""
    if shell is not None:
        return subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "LOGITGD": _installed()})
    if installed:
        return subprocess.run([_installed(), *map(str, argv)], capture_output=True, text=True, timeout=timeout)
    from logitgd.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def _one_error_line(run, *needles):
    """Exit 1 and one line on stderr, ``logitgd: error: ...`` holding every needle."""
    assert run.returncode == 1, (run.returncode, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logitgd: error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# -- case 5: two outputs, or an output and an input, naming one file ---------------------------------------------

def test_an_output_through_a_link_to_another_output_is_refused(tmp_path):
    """``--model a.json --plot link.png`` with link.png -> a.json: exit 0, and a.json ended up a PNG (the model
    lost); only equal paths were compared."""
    model, link = tmp_path / "a.json", tmp_path / "link.png"
    link.symlink_to(model)  # a link to a file not yet there names that file too
    _one_error_line(_run("fit", BIRTHWT, *FIT, "--model", model, "--plot", link, installed=True), "--model and --plot",
                    f"through a link: {link} is {model}")
    assert not model.exists()
    model.write_text("an earlier model")
    _one_error_line(_run("fit", BIRTHWT, *FIT, "--model", model, "--plot", link, "--force"), "both name")
    hard = tmp_path / "hard.png"
    os.link(model, hard)
    _one_error_line(_run("fit", BIRTHWT, *FIT, "--model", model, "--plot", hard, "--force"), "both name")
    assert model.read_text() == "an earlier model"


def test_an_output_naming_the_data_read_is_refused_even_with_force(tmp_path):
    data = tmp_path / "birthwt.csv"
    data.write_bytes(open(BIRTHWT, "rb").read())
    _one_error_line(_run("fit", data, *FIT, "--model", data, "--force"), f"--model {data} is {data}",
                    "which this command reads")
    run = _run("fit", data, *FIT, "--model", tmp_path / "m.json")
    assert run.returncode == 0, run.stderr
    _one_error_line(_run("predict", tmp_path / "m.json", data, "--output", data, "--force"), "--output")
    _one_error_line(_run("predict", tmp_path / "m.json", data, "--output", tmp_path / "m.json", "--force"),
                    "--output")
    assert data.read_bytes() == open(BIRTHWT, "rb").read()
    parquet = tmp_path / "b.parquet"
    pd.read_csv(BIRTHWT).drop(columns=["Unnamed: 0", "bwt"]).to_parquet(parquet)
    _one_error_line(_run("fit", parquet, "--target", "low", "--dask", "local:1", "--model", parquet, "--force"),
                    "which this command reads")
    assert pd.read_parquet(parquet).shape == (189, 9)


# -- case 7: categories that are the same numbers written differently --------------------------------------------

def test_a_category_is_the_same_number_in_an_integer_and_a_float_column(tmp_path):
    """``--categorical zip`` fitted on 10/20/30, predicting on 10.0/20.0/30.0: every row was an unseen category
    (a warning, and other predictions)."""
    run = _run("fit", BAD / "zip_int.csv", "--target", "y", "--categorical", "zip", "--quiet", "--model",
               tmp_path / "m.json", installed=True)
    assert run.returncode == 0, run.stderr
    out = {}
    for name in ("zip_int.csv", "zip_float.parquet", "zip_text.csv"):
        run = _run("predict", tmp_path / "m.json", BAD / name)
        assert run.returncode == 0 and "warning" not in run.stderr, (name, run.stderr)
        out[name] = run.stdout
    assert out["zip_int.csv"] == out["zip_float.parquet"] == out["zip_text.csv"]
    _, encoding = logitgd.load(tmp_path / "m.json", return_encoding=True)
    assert encoding["feature_names"] == ["x", "zip=10", "zip=20", "zip=30"]


def test_categories_compare_as_numbers_but_codes_keep_their_zeros():
    from logitgd.io.tables import category_texts

    assert list(category_texts(pd.Series([10.0, 2.5, -0.0]))) == ["10", "2.5", "0"]
    assert list(category_texts(pd.Series(["10", "10.0", "+10", "010", "a", "1.50"]))) == \
        ["10", "10", "10", "010", "a", "1.5"]
    assert list(category_texts(pd.Series([True, False]))) == ["True", "False"]


def test_a_model_file_of_float_categories_written_before_still_matches(tmp_path):
    """Files written before kept a float column's 10.0 as "10.0": read, they match 10 and 10.0 alike."""
    from logitgd.io.tables import apply_encoding, encode_table

    df = pd.DataFrame({"zip": [10, 20, 30] * 4, "y": [0, 1] * 6})
    X, _, encoding = encode_table(df, "y", ["zip"], "t.csv")
    old = {**encoding, "categorical": [{"column": "zip", "categories": ["10.0", "20.0", "30.0"]}]}
    for frame in (df, df.assign(zip=df.zip.astype(float))):
        X_old, unseen = apply_encoding(frame, old, "t.csv")
        assert unseen == [] and (X_old != X).nnz == 0


# -- case 15: data from a pipe --------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["stdin", "gzip", "substitution", "parquet", "svmlight"])
def test_data_from_a_pipe_is_read(tmp_path, how):
    """``cat x.csv | logitgd fit /dev/stdin``: "data file /dev/stdin is empty" (it is not). Now read, whatever
    its format, and named as given."""
    model = tmp_path / "m.json"
    source = BIRTHWT
    if how == "parquet":
        source = tmp_path / "b.parquet"
        pd.read_csv(BIRTHWT).to_parquet(source)
    if how == "svmlight":
        from sklearn.datasets import dump_svmlight_file

        df = pd.read_csv(BIRTHWT)
        source = tmp_path / "b.svm"
        dump_svmlight_file(df.drop(columns=["Unnamed: 0", "bwt", "low"]).to_numpy(float), df.low, str(source))
    options = "--quiet" if how == "svmlight" else " ".join(["--target low --drop 'Unnamed: 0,bwt' --quiet"])
    command = {"substitution": f'"$LOGITGD" fit <(cat {source}) {options} --model {model}',
               "gzip": f'gzip -c {source} | "$LOGITGD" fit /dev/stdin {options} --model {model}'}.get(
        how, f'cat {source} | "$LOGITGD" fit /dev/stdin {options} --model {model}')
    run = _run(shell=command)
    assert run.returncode == 0, run.stderr
    assert ("/dev/fd/" if how == "substitution" else "fitting /dev/stdin") in run.stdout
    assert "logitgd-" not in run.stdout + run.stderr  # the temporary copy is not what the user is told of
    fitted = logitgd.load(model)
    direct = logitgd.load(model)
    assert fitted.n_features_in_ == 8 and np.isfinite(direct.coef_).all()


def test_predictions_from_a_pipe_and_an_empty_pipe(tmp_path):
    model = tmp_path / "m.json"
    assert _run("fit", BIRTHWT, *FIT, "--model", model).returncode == 0
    piped = _run(shell=f'cat {BIRTHWT} | "$LOGITGD" predict {model} /dev/stdin')
    direct = _run("predict", model, BIRTHWT)
    assert piped.returncode == 0 and piped.stdout == direct.stdout
    _one_error_line(_run(shell='printf "" | "$LOGITGD" fit /dev/stdin --target low'), "/dev/stdin is empty")
    _one_error_line(_run(shell=f'cat {BIRTHWT} | "$LOGITGD" fit /dev/stdin --target low --dask local:1'),
                    "/dev/stdin is a pipe", "--dask")


# -- case 16: svmlight labels beyond 2**53 --------------------------------------------------------------------------

def test_svmlight_labels_beyond_2_53_stay_two_classes(tmp_path):
    """Labels 2**53 and 2**53 + 1: "the labels have only one class" (float64 merged them)."""
    model = tmp_path / "m.json"
    run = _run("fit", BAD / "labels_2_53.svm", "--quiet", "--test-size", "0", "--model", model)
    assert run.returncode == 0, run.stderr
    assert logitgd.load(model).classes_.tolist() == [2**53, 2**53 + 1]
    run = _run("predict", model, BAD / "labels_2_53.svm")
    assert run.returncode == 0 and f"proba_{2**53 + 1}" in run.stdout.splitlines()[0]


# -- case 17: a finite column of size 1e300, standardized -----------------------------------------------------------

def test_a_column_of_size_1e300_is_standardized_exactly(tmp_path):
    """With --standardize: scikit-learn's overflow warnings, then "Input X contains NaN ... column 'x2'" (the
    wrong column). Now standardized in units of its largest value: the same coefficients as the column / 1e300."""
    df = pd.read_csv(BAD / "column_1e300.csv")
    df.assign(big=df.big / 1e300).to_csv(tmp_path / "small.csv", index=False)
    coef = {}
    for name, path in (("big", BAD / "column_1e300.csv"), ("small", tmp_path / "small.csv")):
        run = _run("fit", path, "--target", "y", "--standardize", "--quiet", "--model", tmp_path / f"{name}.json")
        assert run.returncode == 0 and run.stderr == "", run.stderr
        coef[name] = logitgd.load(tmp_path / f"{name}.json").coef_
    np.testing.assert_allclose(coef["big"], coef["small"], rtol=1e-9)
    _one_error_line(_run("fit", BAD / "column_1e300.csv", "--target", "y", "--quiet"),
                    "column 'big' has values up to 2.33e+300")


# -- case 18: no numba cache can be written ---------------------------------------------------------------------

_NO_CACHE = r"""
import sys
import numba.core.caching as caching
caching.FunctionCache._impl_class._locator_classes = []  # as for a user who can write no cache anywhere
from logitgd.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("options", [["--penalty", "l1"], ["--solver", "newton"]])
def test_fits_compile_without_a_writable_numba_cache(tmp_path, options):
    """``--penalty l1`` (and an iris multinomial fit): "RuntimeError: cannot cache function '_lasso_qp_cd_py': no
    locator available" where no cache can be written. Now compiled in-process."""
    from sklearn.datasets import load_iris

    data = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(data, index=False)
    run = subprocess.run([sys.executable, "-c", _NO_CACHE, "fit", str(data), "--target", "target", "--quiet",
                          *options], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "converged      yes" in run.stdout


# -- cases 11 and 12, under an address-space limit: a regression fails fast instead of swapping --------------------

_LIMIT = 3 << 30  # bytes of address space: the command and its libraries need about 1.5 GB of it


def _limited(*argv):
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (_LIMIT, _LIMIT))

    return subprocess.run([_installed(), *map(str, argv)], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})


@pytest.mark.parametrize("name, index", [("index_2147483646.svm", 2147483646), ("index_33554432.svm", 33554432)])
def test_a_far_feature_index_allocates_nothing(name, index):
    """A 40-byte svmlight file with the feature index 2147483646 (33554432): 16 GiB (11 GiB) allocated for the
    model's columns, killed or MemoryError; under a 3 GiB address-space limit now one line."""
    _one_error_line(_limited("fit", BAD / name),
                    f"feature index {index} (data line 1) is far beyond what the file holds")


def test_a_model_file_that_never_ends_or_is_huge_is_refused_unread(tmp_path):
    """A model "file" that never ends (/dev/zero, or a link to it): MemoryError; a 2 GiB file (sparse on disk):
    read whole. Under a 3 GiB address-space limit, each is one line."""
    link = tmp_path / "model.json"
    link.symlink_to("/dev/zero")
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:
        fh.truncate(2 << 30)
    for model, needle in (("/dev/zero", "not a regular file"), (link, "not a regular file"), (huge, "MiB, above")):
        _one_error_line(_limited("predict", model, BIRTHWT), needle)


def test_a_column_named_as_a_one_hot_column_is_refused(tmp_path):
    """A numeric column "c=u" beside ``--categorical c`` with the level u: the model file's feature names repeated
    'c=u' (found by the model-file fuzz of case 14d)."""
    data = tmp_path / "t.csv"
    pd.DataFrame({"c=u": [1.0, 2, 3, 4] * 5, "c": ["u", "v"] * 10, "y": [0, 1, 1, 0] * 5}).to_csv(data, index=False)
    _one_error_line(_run("fit", data, "--target", "y", "--categorical", "c", "--quiet"),
                    "the one-hot column 'c=u' of --categorical 'c' has the name of another column")
