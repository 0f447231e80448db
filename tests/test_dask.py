"""Training on Dask (logitgd.backends.dask) against the in-memory fit, on a real LocalCluster of 2 worker processes."""

import os
import signal
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
import pandas as pd
from conftest import make_logistic_data

import logitgd
from logitgd.backends.dask import chunks as _dask
from logitgd.backends.dask import cluster as _cluster
from logitgd.backends.dask import reader as _reader
from logitgd.objective import LinearObjective, LogisticObjective, MultinomialObjective
from logitgd.penalty import make_penalty

N, D, CHUNK = 1200, 5, 300


def _data(multinomial=False, seed=3):
    X, y, _ = make_logistic_data(n=N, d=D, seed=seed)
    rng = np.random.default_rng(seed)
    if multinomial:
        y = np.digitize(X[:, 0] - X[:, 1] + rng.standard_normal(N), [-0.7, 0.7])
    sw = rng.random(N) + 0.5
    return X, y, sw


def _params(model):
    return np.concatenate([model.coef_.ravel(), model.intercept_])


def _assert_same(m_mem, m_dask, rtol=1e-8):
    a, b = _params(m_mem), _params(m_dask)
    assert np.max(np.abs(a - b)) <= rtol * np.max(np.abs(a)), (a, b)


def _chunked(X, y, sw):
    return (da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK),
            None if sw is None else da.from_array(sw, chunks=CHUNK))


CASES = [  # (solver, penalty, alpha, l1_ratio, multinomial)
    ("gd", "l2", 1e-2, None, False),
    ("gd", "elasticnet", 2e-2, 0.5, False),
    ("lbfgs", "l2", 1e-3, None, False),
    ("newton", "l2", 1e-3, None, False),
    ("newton", "l1", 1e-2, None, False),
    ("gd", "l2", 1e-2, None, True),
    ("lbfgs", "l2", 1e-3, None, True),
    ("newton", "elasticnet", 1e-2, 0.5, True),
]


@pytest.mark.parametrize("solver, penalty, alpha, l1_ratio, multinomial", CASES)
def test_same_coefficients_as_in_memory(client, solver, penalty, alpha, l1_ratio, multinomial):
    X, y, sw = _data(multinomial)
    params = {"solver": solver, "penalty": penalty, "alpha": alpha, "l1_ratio": l1_ratio, "tol": 1e-10}
    m_mem = logitgd.LogisticRegression(**params).fit(X, y, sample_weight=sw)
    m_dask = logitgd.LogisticRegression(**params).fit(*_chunked(X, y, sw))
    assert m_dask.converged_ and m_dask.solver_ == solver
    _assert_same(m_mem, m_dask)
    np.testing.assert_array_equal(m_dask.classes_, m_mem.classes_)


@pytest.mark.parametrize("multinomial", [False, True])
def test_objective_pieces_match(client, multinomial):
    """Every piece the solvers use equals the in-memory objective's, including Newton-CG's products."""
    X, y, sw = _data(multinomial)
    K = 3 if multinomial else 1
    penalty = make_penalty("elasticnet", 0.1, 0.3)
    y_enc = y if multinomial else y.astype(np.float64)
    mem = (MultinomialObjective(X, y_enc, K, sample_weight=sw, penalty=penalty) if multinomial
           else LogisticObjective(X, y_enc, sample_weight=sw, penalty=penalty))
    est = logitgd.LogisticRegression()
    data, _, _ = est._validate_xy(*_chunked(X, y, sw))
    obj = LinearObjective(data, penalty, True)
    theta = np.random.default_rng(0).standard_normal(mem.n_params) * 0.3
    f0, g0 = mem.value_and_grad(theta)
    f1, g1 = obj.value_and_grad(theta)
    assert f1 == pytest.approx(f0, rel=1e-13)
    np.testing.assert_allclose(g1, g0, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(obj.hessian(theta), mem.hessian(theta), rtol=1e-11, atol=1e-14)
    v = np.arange(mem.n_params, dtype=np.float64)
    np.testing.assert_allclose(obj.hessian_operator(theta)(v), mem.hessian_operator(theta)(v), rtol=1e-11,
                               atol=1e-13)
    for max_rows in (None, 100):  # the strided estimate picks the same rows across chunk boundaries
        np.testing.assert_allclose(obj.hessian_bound(max_rows), mem.hessian_bound(max_rows), rtol=1e-12,
                                   atol=1e-15)
    np.testing.assert_allclose(obj.column_sums_of_squares(), mem.column_sums_of_squares(), rtol=1e-13)
    np.testing.assert_allclose(obj.intercept_only(), mem.intercept_only(), rtol=1e-13, atol=1e-15)


def test_every_map_over_the_chunks_counts_one_pass(client):
    """The data's pass counter (the command line reports it): one per map over the chunks, none for a cached value."""
    X, y, sw = _data()
    data, _, _ = logitgd.LogisticRegression()._validate_xy(*_chunked(X, y, sw))
    assert (data.passes, data.n_chunks, data.nbytes, data.shape) == (0, N // CHUNK, N * D * 8, (N, D))
    obj = LinearObjective(data, make_penalty("l2", 1e-3), True)
    theta = np.zeros(obj.n_params)
    obj.value_and_grad(theta)
    obj.value(theta)  # the same point: from the cache, no pass
    assert data.passes == 1
    obj.column_sums_of_squares()
    obj.hessian(theta)
    obj.hessian_operator(theta)(theta)
    obj.hessian_bound()
    obj.margin_range(theta)
    assert data.passes == 6


def test_dataframe_string_labels_class_weight_no_intercept(client):
    X, y, sw = _data()
    names = [f"f{j}" for j in range(D)]
    df = pd.DataFrame(X, columns=names)
    df["label"] = np.where(y == 1, "yes", "no")
    df["w"] = sw
    ddf = dd.from_pandas(df, npartitions=3)
    params = {"solver": "newton", "alpha": 1e-3, "class_weight": "balanced", "fit_intercept": False, "tol": 1e-10}
    m_mem = logitgd.LogisticRegression(**params).fit(df[names], df["label"], sample_weight=df["w"])
    m_dask = logitgd.LogisticRegression(**params).fit(ddf[names], ddf["label"], sample_weight=ddf["w"])
    _assert_same(m_mem, m_dask)
    assert list(m_dask.feature_names_in_) == names
    assert list(m_dask.classes_) == ["no", "yes"]
    np.testing.assert_array_equal(m_dask.predict(df[names]), m_mem.predict(df[names]))


def test_not_persisted_reads_from_source_each_pass(client, monkeypatch):
    """Data too large for the workers' memory are recomputed from their source on every pass."""
    monkeypatch.setattr(_cluster, "PERSIST_FRACTION", 0.0)
    X, y, sw = _data()
    data, _, _ = logitgd.LogisticRegression()._validate_xy(*_chunked(X, y, sw))
    assert not data.persisted
    m_mem = logitgd.LogisticRegression(solver="lbfgs", alpha=1e-3, tol=1e-10).fit(X, y, sample_weight=sw)
    m_dask = logitgd.LogisticRegression(solver="lbfgs", alpha=1e-3, tol=1e-10).fit(*_chunked(X, y, sw))
    _assert_same(m_mem, m_dask)


def test_sgd_over_partitions_reaches_the_optimum(client):
    X, y, sw = _data()
    params = {"penalty": "elasticnet", "l1_ratio": 0.5, "alpha": 1e-2}
    best = logitgd.LogisticRegression(solver="newton", tol=1e-10, **params).fit(X, y, sample_weight=sw)
    m = logitgd.LogisticRegression(solver="sgd", random_state=0, batch_size=16, **params).fit(*_chunked(X, y, sw))
    assert m.solver_ == "sgd" and m.n_iter_ >= 2
    assert m.loss_history_[-1] <= best.loss_history_[-1] * (1 + 2e-3)
    again = logitgd.LogisticRegression(solver="sgd", random_state=0, batch_size=16, **params).fit(
        *_chunked(X, y, sw))
    np.testing.assert_array_equal(_params(m), _params(again))  # same seed, same model


def test_separation_is_detected(client):
    X, y, _ = make_logistic_data(n=400, d=3, seed=1)
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(logitgd.SeparationWarning):
        m = logitgd.LogisticRegression(solver="lbfgs", alpha=0.0).fit(da.from_array(X, chunks=(100, 3)),
                                                                      da.from_array(y, chunks=100))
    assert m.stop_reason_ == "complete separation"


def test_refusals(client):
    X, y, _ = _data(multinomial=True)
    Xd, yd, _ = _chunked(X, y, None)
    with pytest.raises(ValueError, match="partial_fit"):
        logitgd.LogisticRegression(solver="sgd").partial_fit(Xd, yd, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="ovr"):
        logitgd.LogisticRegression(multi_class="ovr").fit(Xd, yd)
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        logitgd.LogisticRegression(solver="lbfgs").fit(da.from_array(X_nan, chunks=(CHUNK, D)), yd)
    with pytest.raises(ValueError, match="rows"):
        logitgd.LogisticRegression().fit(Xd, da.from_array(y[:-10], chunks=CHUNK))


@pytest.fixture(scope="module")
def fault_client():
    """A cluster of its own for the tests that kill workers; Dask gives up on a task after 1 failure."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        c = distributed.Client(cluster, set_as_default=False)
    yield c  # tests use it in `with fault_client.as_current()`: the other tests keep the module's client
    c.close()
    cluster.close()


def test_worker_killed_mid_fit_gives_the_same_model(fault_client):
    """Kill one worker process (SIGKILL) during a fit: Dask recomputes its chunks, the model is unchanged."""
    X, y, sw = _data(multinomial=True, seed=5)
    params = {"solver": "lbfgs", "alpha": 1e-3, "tol": 1e-10}
    m_mem = logitgd.LogisticRegression(**params).fit(X, y, sample_weight=sw)
    killed = []

    def kill_one(state):
        if state.iteration == 3 and not killed:
            pids = fault_client.run(os.getpid)
            pid = pids[min(pids)]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    Xd, yd, swd = _chunked(X, y, sw)
    with fault_client.as_current():
        m_plain = logitgd.LogisticRegression(**params).fit(Xd, yd, sample_weight=swd)
        m_fault = logitgd.LogisticRegression(callback=kill_one, **params).fit(Xd, yd, sample_weight=swd)
    assert killed and killed[0] not in fault_client.run(os.getpid).values()
    assert m_fault.converged_
    np.testing.assert_array_equal(_params(m_fault), _params(m_plain))  # bit for bit
    _assert_same(m_mem, m_fault)


def test_workers_dying_again_and_again_is_a_clear_error(fault_client, monkeypatch):
    """A chunk that kills every worker that computes it: DaskFitError, no model."""
    monkeypatch.setenv("LOGITGD_DASK_PERSIST", "0")

    def die(block):  # defined here so that it travels by value to the workers
        if block.size:
            os.kill(os.getpid(), signal.SIGKILL)
        return block

    X, y, _ = _data()
    Xd = da.from_array(X, chunks=(CHUNK, D)).map_blocks(die, dtype=X.dtype)
    model = logitgd.LogisticRegression()
    with fault_client.as_current(), pytest.raises(logitgd.DaskFitError, match="workers died"):
        model.fit(Xd, da.from_array(y, chunks=CHUNK))
    assert not hasattr(model, "coef_")


def test_cli_parquet_directory(client, tmp_path, capsys):
    """``logitgd fit DIR --dask tcp://...`` (this module's cluster; ``local:N`` starts its own the same way)."""
    from logitgd.cli import main

    X, y, _ = _data()
    for i, rows in enumerate(np.array_split(np.arange(N), 3)):
        df = pd.DataFrame(X[rows], columns=[f"f{j}" for j in range(D)])
        df["label"] = y[rows]
        df.to_parquet(tmp_path / f"part{i}.parquet")
    model_path = tmp_path / "model.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["fit", str(tmp_path), "--target", "label", "--dask", client.scheduler.address, "--solver", "lbfgs",
                     "--tol", "1e-10", "--model", str(model_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "dashboard http" in out and "converged      yes" in out
    model = logitgd.load(model_path)
    best = logitgd.LogisticRegression(solver="lbfgs", alpha=1e-4, tol=1e-10).fit(X, y)
    _assert_same(best, model)


def test_persisted_input_is_shared_not_counted_twice(client):
    """Chunks prepared from an X the user persisted share its memory, and Dask counts it once."""
    X, y, sw = _data()
    Xd, yd, swd = _chunked(X, y, sw)
    # made on the workers (so aligned; chunks sent over the network can arrive at any byte offset
    # and are copied once, see test_chunks_off_their_alignment_are_copied)
    Xp = client.persist(Xd.map_blocks(np.copy))
    data, _, _ = logitgd.LogisticRegression()._validate_xy(Xp, yd, swd)
    assert data.persisted
    distributed.wait(data.futures[1])
    keys = [f.key for f in data.futures[1]]
    sizes = client.run_on_scheduler(lambda dask_scheduler: [dask_scheduler.tasks[k].nbytes for k in keys])
    assert max(sizes) < CHUNK * D * 8 / 2  # y and the weights, not X again
    m_mem = logitgd.LogisticRegression(solver="newton", alpha=1e-3, tol=1e-10).fit(X, y, sample_weight=sw)
    m_dask = logitgd.LogisticRegression(solver="newton", alpha=1e-3, tol=1e-10).fit(Xp, yd, sample_weight=swd)
    _assert_same(m_mem, m_dask)
    # not persisted, all pieces on the workers (under fresh names): each pass maps over their futures
    yp, swp = client.persist([da.from_array(y, chunks=CHUNK, name=False), da.from_array(sw, chunks=CHUNK, name=False)])
    os.environ["LOGITGD_DASK_PERSIST"] = "0"
    try:
        data, _, _ = logitgd.LogisticRegression()._validate_xy(Xp, yp, swp)
        assert not data.persisted and data.futures is not None
        m_dask = logitgd.LogisticRegression(solver="newton", alpha=1e-3, tol=1e-10).fit(Xp, yp, sample_weight=swp)
    finally:
        del os.environ["LOGITGD_DASK_PERSIST"]
    _assert_same(m_mem, m_dask)


def test_chunks_off_their_alignment_are_copied():
    """float64 data off an 8-byte boundary (as a chunk can arrive over the network) would take other
    code paths in NumPy, with other rounding: prepared and unpickled chunks are aligned copies."""
    import pickle

    X, y, sw = _data()
    X, y, sw = X[:CHUNK], y[:CHUNK], sw[:CHUNK]

    def off(a):
        raw = np.zeros(a.nbytes + 3, dtype=np.uint8)
        v = raw[3:].view(a.dtype).reshape(a.shape)
        v[...] = a
        assert not v.flags.aligned
        return v

    prep = _dask._Prep(classes=np.unique(y), dtype=np.dtype(np.float64), class_weight=None)
    Xc, _, swc = _dask._prepare(off(X), y, off(sw), prep)
    assert Xc.flags.aligned and Xc.flags.c_contiguous and swc.flags.aligned
    np.testing.assert_array_equal(Xc, X)
    np.testing.assert_array_equal(swc, sw)
    chunk = _dask._Chunk(off(X), off(y.astype(np.float64)), off(sw), owns_X=True, owns_sw=True)
    back = pickle.loads(pickle.dumps(chunk))
    assert back.X.flags.aligned and back.y.flags.aligned and back.sw.flags.aligned
    np.testing.assert_array_equal(back.X, X)


def test_cli_dask_option_errors(tmp_path, capsys):
    from logitgd.cli import main

    assert main(["fit", str(tmp_path / "nothing"), "--target", "label", "--dask", "local:2"]) == 1
    assert "No such file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="local:N"):
        _cluster.start_client("local:zero")


@pytest.mark.parametrize("direct", [True, False])
def test_read_parquet_row_groups(tmp_path, monkeypatch, direct):
    """The command line's reader: one C-ordered chunk per row group, the files' values and column names, the
    pandas index left out, float32 kept, and missing values or mismatched files named; read with O_DIRECT
    (where the file system allows it) or through the page cache."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    frames = []
    for i, rows in enumerate((7, 12)):
        df = pd.DataFrame({"a": rng.standard_normal(rows), "n": rng.integers(0, 9, rows),
                           "flag": rng.random(rows) < 0.5, "label": rng.choice(["no", "yes"], rows)},
                          index=pd.Index(np.arange(rows) + 100 * i, name="id"))
        pq.write_table(pa.Table.from_pandas(df), tmp_path / f"part{i}.parquet", row_group_size=5)
        frames.append(df)
    monkeypatch.setattr(_reader, "_DIRECT", direct and _reader._DIRECT)
    monkeypatch.setitem(__import__("dask").config.config, "scheduler", "sync")  # in this process, not the cluster's
    X, y, names = _reader.read_parquet(str(tmp_path), "label")
    full = pd.concat(frames)
    assert names == ["a", "n", "flag"] and X.dtype == np.float64
    assert X.chunks[0] == (5, 2, 5, 5, 2)
    np.testing.assert_array_equal(X.compute(), full[names].to_numpy(dtype=np.float64))
    assert X.blocks[0].compute().flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(y.compute(), full["label"].to_numpy())
    if direct:  # where this file system takes O_DIRECT, the reads above used it
        try:
            os.close(os.open(tmp_path / "part0.parquet", os.O_RDONLY | os.O_DIRECT))
            assert _reader._DIRECT
        except (OSError, AttributeError):
            pass

    pq.write_table(pa.table({"a": np.ones(3, np.float32), "b": np.zeros(3, np.float32), "label": [0, 1, 0]}),
                   tmp_path / "f32.parquet")
    X32, _, _ = _reader.read_parquet(str(tmp_path / "f32.parquet"), "label")
    assert X32.dtype == np.float32 and X32.compute().dtype == np.float32

    pq.write_table(pa.table({"a": [1.0, None, 3.0, None], "label": [0, 1, 0, 1]}), tmp_path / "gaps.parquet",
                   row_group_size=2)
    Xg, _, _ = _reader.read_parquet(str(tmp_path / "gaps.parquet"), "label")
    with pytest.raises(ValueError, match=r"gaps.parquet: column 'a' has a missing value in row 3"):
        Xg.blocks[1].compute()
    with pytest.raises(ValueError, match="differ from those of"):
        _reader.read_parquet(str(tmp_path / "*.parquet"), "label")
    with pytest.raises(ValueError, match="no column 'target'"):
        _reader.read_parquet(str(tmp_path / "part0.parquet"), "target")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="text.parquet: not a Parquet file"):
        _reader.read_parquet(str(tmp_path / "text.parquet"), "label")


@pytest.mark.parametrize("multinomial", [False, True])
def test_scoring_dask_input_is_lazy_and_matches(client, multinomial):
    """predict, predict_proba, predict_log_proba and decision_function on dask input: lazy dask arrays, with the
    in-memory shapes, dtypes and values (arrays and dataframes, feature names checked per partition)."""
    X, y, _ = _data(multinomial)
    labels = np.array(["a", "b", "c"])[y] if multinomial else y
    model = logitgd.LogisticRegression(alpha=1e-3).fit(X, labels)
    Xd = da.from_array(X, chunks=(CHUNK, 2))
    for method in ("predict", "decision_function", "predict_proba", "predict_log_proba"):
        lazy, expected = getattr(model, method)(Xd), getattr(model, method)(X)
        assert isinstance(lazy, da.Array) and lazy.shape == expected.shape and lazy.dtype == expected.dtype
        got = lazy.compute()
        if method == "predict":
            np.testing.assert_array_equal(got, expected)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert model.score(Xd, labels) == model.score(X, labels)
    names = [f"f{j}" for j in range(D)]
    df = pd.DataFrame(X, columns=names)
    framed = logitgd.LogisticRegression(alpha=1e-3).fit(df, labels)
    ddf = dd.from_pandas(df, npartitions=3)
    np.testing.assert_allclose(framed.predict_proba(ddf).compute(), framed.predict_proba(df), rtol=1e-12)
    assert framed.score(ddf, dd.from_pandas(pd.Series(labels), npartitions=3)) == framed.score(df, labels)
    sw = np.linspace(0.5, 2.0, N)
    assert model.score(Xd, labels, sample_weight=sw) == pytest.approx(model.score(X, labels, sample_weight=sw))
    with pytest.raises(ValueError, match="feature names"):
        framed.predict(ddf[names[::-1]]).compute()


def test_read_parquet_column_types(tmp_path, monkeypatch):
    """Every feature column becomes the float dtype on its own (no integer wrap-around of uint64 next to int64;
    float16 next to float64), and a pandas Categorical label is read as its values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    big = 2 ** 63 + 2 ** 62
    pq.write_table(pa.table({"u": pa.array([big, 1], pa.uint64()), "i": pa.array([-3, 4], pa.int64()),
                             "label": [0, 1]}), tmp_path / "ints.parquet")
    pq.write_table(pa.table({"h": pa.array(np.array([0.5, 1.5], np.float16)), "f": [1.0, 2.0],
                             "label": pd.Categorical(["no", "yes"])}), tmp_path / "half.parquet")
    monkeypatch.setitem(__import__("dask").config.config, "scheduler", "sync")
    X, _, _ = _reader.read_parquet(str(tmp_path / "ints.parquet"), "label")
    np.testing.assert_array_equal(X.compute(), [[float(big), -3.0], [1.0, 4.0]])
    X, y, _ = _reader.read_parquet(str(tmp_path / "half.parquet"), "label")
    np.testing.assert_array_equal(X.compute(), [[0.5, 1.0], [1.5, 2.0]])
    assert list(y.compute()) == ["no", "yes"]
    pq.write_table(pa.table({"label": [0, 1]}), tmp_path / "none.parquet")
    with pytest.raises(ValueError, match="no feature columns"):
        _reader.read_parquet(str(tmp_path / "none.parquet"), "label")
    pq.write_table(pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array([0, 1])],
                                        names=["a", "a", "label"]), tmp_path / "twice.parquet")
    with pytest.raises(ValueError, match=r"twice.parquet: columns named more than once: \['a'\]"):
        _reader.read_parquet(str(tmp_path / "twice.parquet"), "label")
    (tmp_path / "types").mkdir()
    pq.write_table(pa.table({"a": np.ones(2), "label": [0, 1]}), tmp_path / "types" / "p0.parquet")
    pq.write_table(pa.table({"a": np.ones(2, np.float32), "label": [0, 1]}), tmp_path / "types" / "p1.parquet")
    with pytest.raises(ValueError, match=r"p1.parquet: its columns \(a: float, .*\) differ from those of .*p0.parquet "
                                         r"\(a: double"):
        _reader.read_parquet(str(tmp_path / "types"), "label")
