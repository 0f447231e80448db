"""Reading data files (:mod:`logitgd.io`): svmlight files, one-hot encoding of categorical columns, labels."""

from __future__ import annotations

import bz2
import gzip

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.preprocessing import OneHotEncoder

from logitgd.exceptions import DataError
from logitgd.io import apply_encoding, check_target, encode_table, is_svmlight, read_svmlight, read_table


def sparse_data(n=40, d=7, seed=0):
    """A sparse matrix with empty rows and columns, and 0/1 labels."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.3, format="csr", random_state=seed) * 10 - 0.5 * (
        sp.random(n, d, density=0.1, format="csr", random_state=seed + 1))
    X = sp.csr_matrix(X)
    X.data = np.round(X.data, 6)
    X.eliminate_zeros()
    return X, rng.integers(0, 2, size=n)


def assert_same_sparse(A, B):
    assert sp.issparse(A) and A.format == "csr" and A.dtype == np.float64
    assert A.shape == B.shape
    assert (A != B).nnz == 0


# -- svmlight: good files ------------------------------------------------------

@pytest.mark.parametrize("zero_based", [True, False])
@pytest.mark.parametrize("suffix", [".svm", ".libsvm", ".svmlight", ".svm.gz", ".svm.bz2"])
def test_svmlight_written_by_sklearn_reads_back(tmp_path, zero_based, suffix):
    X, y = sparse_data()
    plain = tmp_path / "plain.svm"
    dump_svmlight_file(X, y, str(plain), zero_based=zero_based)
    path = tmp_path / f"data{suffix}"
    opener = {".gz": gzip.compress, ".bz2": bz2.compress}.get(path.suffix, lambda b: b)
    path.write_bytes(opener(plain.read_bytes()))

    X_read, y_read, zb = read_svmlight(path)
    assert zb is zero_based
    assert_same_sparse(X_read, X)
    assert y_read.dtype == np.int64 and np.array_equal(y_read, y)
    # The same as scikit-learn's own reader.
    X_sk, y_sk = load_svmlight_file(str(path), zero_based=zero_based, n_features=X.shape[1])
    assert_same_sparse(X_read, sp.csr_matrix(X_sk))
    assert np.array_equal(y_read, y_sk)


def test_svmlight_with_a_model_width_and_base(tmp_path):
    """n_features pads to the model's width; zero_based reads the indices as the model's data did."""
    path = tmp_path / "d.svm"
    path.write_text("1 1:0.5 3:2\n# a comment line\n\n-1 qid:4 2:1.5 # trailing comment\n")
    X, y, zb = read_svmlight(path)
    assert not zb and X.shape == (2, 3)
    assert X.toarray().tolist() == [[0.5, 0.0, 2.0], [0.0, 1.5, 0.0]]
    assert y.tolist() == [1, -1]

    wide, _, _ = read_svmlight(path, n_features=5, zero_based=False)
    assert wide.shape == (2, 5) and np.array_equal(wide.toarray()[:, :3], X.toarray())
    as_zero_based, _, zb = read_svmlight(path, n_features=5, zero_based=True)
    assert zb and np.array_equal(as_zero_based.toarray()[:, 1:4], X.toarray())


def test_svmlight_float_labels_stay_float(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("0.5 1:1\n1.5 2:1\n")
    _, y, _ = read_svmlight(path)
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.5]


def test_is_svmlight():
    assert all(is_svmlight(p) for p in ["a.svm", "A.SVM", "x.libsvm.gz", "x.svmlight.bz2", "dir.csv/x.svm"])
    assert not any(is_svmlight(p) for p in ["a.csv", "a.svm.zip", "a.parquet", "svm"])


def test_read_table_refuses_svmlight(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("1 1:1\n")
    with pytest.raises(DataError, match="svmlight"):
        read_table(path)


# -- svmlight: bad files ---------------------------------------------------------

GOOD = "1 1:0.5 2:1\n0 2:3\n"


@pytest.mark.parametrize("bad_line, needles", [
    ("0 abc", ("expected 'index:value'", "'abc'")),
    ("0 1:x", ("numeric value", "'1:x'")),
    ("0 a:1", ("whole-number index", "'a:1'")),
    ("0 1.5:1", ("whole-number index", "'1.5:1'")),
    ("0 1:", ("numeric value", "'1:'")),
    ("0 1:2:3", ("numeric value", "'1:2:3'")),
    ("yes 1:1", ("numeric label", "'yes'")),
    ("1:1 2:1", ("numeric label", "'1:1'")),
    ("1,2 1:1", ("one numeric label", "multi-label")),
    ("0 2:1 1:1", ("increase", "1 comes after 2")),
    ("0 1:1 1:2", ("increase", "1 comes after 1")),
    ("0 -1:1", ("negative",)),
    ("0 99999999999999:1", ("too large",)),
    ("0 1:nan", ("non-finite", "'nan'")),
    ("0 1:inf", ("non-finite", "'inf'")),
    ("0 1:1e400", ("non-finite", "'1e400'")),
    ("nan 1:1", ("label", "'nan'", "not a finite number")),
    ("\0\1\2 1:1", ("binary",)),
], ids=lambda v: v if isinstance(v, str) else None)
@pytest.mark.parametrize("compression", ["", ".gz"])
def test_malformed_svmlight_line_is_named(tmp_path, bad_line, needles, compression):
    content = (GOOD + "# comment\n\n" + bad_line + "\n" + GOOD).encode("latin-1")
    path = tmp_path / f"data.svm{compression}"
    path.write_bytes(gzip.compress(content) if compression else content)
    with pytest.raises(DataError) as info:
        read_svmlight(path)
    message = str(info.value)
    assert message.startswith(f"{path} line 5: "), message
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_svmlight_index_zero_in_a_one_based_read(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("1 1:1 2:1\n0 2:1\n1 0:4 1:1\n")
    X, _, zb = read_svmlight(path)  # "auto": any index 0 makes the file 0-based
    assert zb and X.shape == (3, 3)
    with pytest.raises(DataError, match=r"d.svm line 3: feature index 0 .*1-based"):
        read_svmlight(path, zero_based=False)


@pytest.mark.parametrize("zero_based, first_bad", [(False, 2), (True, 1)])
def test_svmlight_more_features_than_the_model(tmp_path, zero_based, first_bad):
    path = tmp_path / "d.svm"
    path.write_text("1 3:1\n0 4:1\n")
    with pytest.raises(DataError) as info:
        read_svmlight(path, n_features=3, zero_based=zero_based)
    message = str(info.value)
    assert f"line {first_bad}:" in message and "beyond the model's 3 features" in message


@pytest.mark.parametrize("content, needle", [
    (b"", "is empty"),
    (b"# only a comment\n\n   \n", "no data lines"),
])
def test_svmlight_without_data(tmp_path, content, needle):
    path = tmp_path / "d.svm"
    path.write_bytes(content)
    with pytest.raises(DataError, match=needle):
        read_svmlight(path)


def test_svmlight_damaged_compression(tmp_path):
    not_gzip = tmp_path / "d.svm.gz"
    not_gzip.write_text(GOOD)
    with pytest.raises(DataError, match="could not be read as compressed svmlight"):
        read_svmlight(not_gzip)
    cut = tmp_path / "cut.svm.bz2"
    cut.write_bytes(bz2.compress((GOOD * 200).encode())[:60])
    with pytest.raises(DataError, match="cut.svm.bz2 could not be read"):
        read_svmlight(cut)


def test_svmlight_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_svmlight(tmp_path / "none.svm")


# -- categorical columns -----------------------------------------------------------

def cat_frame(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "y": rng.normal(size=n),
        "size": rng.choice([3, 1, 2], size=n),
        "label": rng.choice(["a", "b"], size=n),
    })


def expected_matrix(df, numeric, categorical, categories=None):
    """What the encoding should be, built with scikit-learn directly."""
    enc = OneHotEncoder(categories=categories or "auto", handle_unknown="ignore", sparse_output=True)
    enc.fit(df[categorical].astype(str))
    X = sp.hstack([sp.csr_matrix(df[numeric].to_numpy(dtype=float)),
                   enc.transform(df[categorical].astype(str))], format="csr")
    return X, enc


def test_encode_table_one_hot_encodes_the_named_columns():
    df = cat_frame()
    X, y, encoding = encode_table(df, "label", ["size", "colour"], "t.csv")
    expected, enc = expected_matrix(df, ["x", "y"], ["size", "colour"])
    assert_same_sparse(X, expected)
    assert np.array_equal(y, df["label"].to_numpy())
    assert encoding["numeric"] == ["x", "y"]
    assert [b["column"] for b in encoding["categorical"]] == ["size", "colour"]
    assert [b["categories"] for b in encoding["categorical"]] == [list(c) for c in enc.categories_]
    assert encoding["feature_names"][:2] == ["x", "y"]
    assert len(encoding["feature_names"]) == X.shape[1]
    assert "colour=red" in encoding["feature_names"] and "size=3" in encoding["feature_names"]


def test_apply_encoding_reproduces_it_and_zeros_unseen_categories():
    df = cat_frame()
    _, _, encoding = encode_table(df, "label", ["colour", "size"], "t.csv")
    X_same, unseen = apply_encoding(df.drop(columns="label")[["size", "y", "colour", "x"]], encoding, "t.csv")
    assert unseen == []
    assert_same_sparse(X_same, encode_table(df, "label", ["colour", "size"], "t.csv")[0])

    new = cat_frame(n=6, seed=1).drop(columns="label")
    new.loc[2, "colour"] = "purple"
    new.loc[4, "colour"] = "teal"
    X_new, unseen = apply_encoding(new, encoding, "new.csv")
    assert unseen == [("colour", 2, 3, "purple")]
    categories = [np.array(b["categories"], dtype=object) for b in encoding["categorical"]]
    expected, _ = expected_matrix(new, ["x", "y"], ["colour", "size"], categories)
    assert_same_sparse(X_new, expected)
    colour_block = X_new[:, 2:5].toarray()
    assert colour_block[2].sum() == 0 and colour_block[4].sum() == 0
    assert (colour_block.sum(axis=1) == 1).sum() == 4


def test_categories_are_compared_as_text():
    """An integer column in one file matches the same numbers written as text in another."""
    df = cat_frame().drop(columns="colour")
    _, _, encoding = encode_table(df, "label", ["size"], "t.parquet")
    as_text = df.assign(size=df["size"].astype(str))
    X_text, unseen = apply_encoding(as_text, encoding, "t.csv")
    X_int, _ = apply_encoding(df, encoding, "t.parquet")
    assert unseen == [] and (X_text != X_int).nnz == 0


def test_categorical_missing_value_names_column_and_row():
    df = cat_frame()
    df["colour"] = df["colour"].astype(object)
    df.loc[6, "colour"] = None
    df.loc[9, "colour"] = None
    with pytest.raises(DataError, match=r"t.csv: categorical column 'colour' has a missing value at row 7 "
                                        r"\(and 1 more\)"):
        encode_table(df, "label", ["colour"], "t.csv")
    _, _, encoding = encode_table(cat_frame(), "label", ["colour"], "t.csv")
    with pytest.raises(DataError, match="'colour' has a missing value at row 7"):
        apply_encoding(df, encoding, "t.csv")


@pytest.mark.parametrize("categorical, needles", [
    (["colr"], ("no column 'colr'", "x, colour, y, size, label")),
    (["label"], ("'label'", "target")),
    (["colour", "colour"], ("'colour'", "twice")),
])
def test_encode_table_bad_column_names(categorical, needles):
    with pytest.raises(DataError) as info:
        encode_table(cat_frame(), "label", categorical, "t.csv")
    for needle in needles:
        assert needle in str(info.value)


def test_encode_table_numeric_columns_are_still_checked():
    df = cat_frame()
    df.loc[3, "y"] = np.inf
    with pytest.raises(DataError, match="column 'y' has an infinite value at row 4"):
        encode_table(df, "label", ["colour"], "t.csv")
    df = cat_frame().assign(note="text")
    with pytest.raises(DataError, match="column 'note' is not numeric.*--categorical"):
        encode_table(df, "label", ["colour"], "t.csv")


def test_apply_encoding_missing_columns():
    df = cat_frame()
    _, _, encoding = encode_table(df, "label", ["colour"], "t.csv")
    with pytest.raises(DataError, match=r"lacks 2 of the model's 4 columns: 'y', 'colour'"):
        apply_encoding(df.drop(columns=["y", "colour"]), encoding, "new.csv")


def test_only_categorical_features():
    df = cat_frame()[["colour", "label"]]
    X, _, encoding = encode_table(df, "label", ["colour"], "t.csv")
    assert encoding["numeric"] == [] and X.shape == (30, 3)
    assert np.array_equal(X.toarray().sum(axis=1), np.ones(30))


# -- labels --------------------------------------------------------------------------

def test_check_target_accepts_many_classes_and_refuses_continuous_values():
    check_target(pd.Series(["a", "b", "c", "a"]), "t", "f.csv")
    check_target(pd.Series([0.0, 1.0, 2.0]), "t", "f.csv")
    with pytest.raises(DataError, match=r"f.csv: target column 't' holds numbers that are not whole \(row 2: 0.5"):
        check_target(pd.Series([1.0, 0.5, 2.25]), "t", "f.csv")
    with pytest.raises(DataError, match="only one class"):
        check_target(pd.Series(["a", "a"]), "t", "f.csv")
    with pytest.raises(DataError, match="f.svm: the labels have only one class"):
        check_target(np.array([1, 1]), None, "f.svm", what="the labels")


@pytest.mark.parametrize("index", [2**31 - 2, 2**25])
def test_an_svmlight_index_far_beyond_the_data_is_refused_before_any_allocation(tmp_path, index):
    path = tmp_path / "wide.svm"
    path.write_text(f"1 3:1 {index}:1\n0 1:1\n")
    with pytest.raises(DataError, match=rf"feature index {index} \(data line 1\) is far beyond .*3 values in 2 lines"):
        read_svmlight(path)


def test_wide_hashed_svmlight_with_enough_values_is_read(tmp_path):
    """Above 2**24 columns, a file with a value for every 64 columns is read (hashed features)."""
    rng = np.random.default_rng(0)
    n_rows, width = 200, 2**24 + 2**20
    cols = np.sort(rng.choice(width, size=(n_rows, 1400)), axis=1)
    lines = [f"{i % 2} " + " ".join(f"{c + 1}:1" for c in np.unique(row)) for i, row in enumerate(cols)]
    lines[0] += f" {width}:1"
    path = tmp_path / "hashed.svm"
    path.write_text("\n".join(lines) + "\n")
    X, y, zero_based = read_svmlight(path)
    assert X.shape == (n_rows, width) and not zero_based
