"""Issue 20, the ``--dask`` cases 13 and 20 (a-d), through the installed ``logitgd`` command on a LocalCluster it
starts (``--dask local:N``): each ends in one clear line (exit 1), or, for Ctrl-C, in exit 130 with the model
written. What each got before is in its docstring.

The cases of workers killed or out of memory run the command under a 3 GiB address-space limit (a regression that
allocates without bound fails fast instead of swapping): the command and a Dask worker process each take about
2 GB of address space; MALLOC_ARENA_MAX=2 and OPENBLAS_NUM_THREADS=1 keep that low (each thread's malloc arena, and
OpenBLAS's thread buffers, are address space; without the latter OpenBLAS on the client spins for ever in a
Cholesky factorization when its buffers cannot be mapped under a 2 GiB limit, an issue of its own)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import logitgd

pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

_LIMIT = 3 << 30  # bytes of address space for the command and its worker processes
_ENV = {"MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1"}
_LONG_FIT = ["--solver", "gd", "--learning-rate", "1e-9", "--max-iter", "100000000", "--tol", "1e-14"]


def _installed():
    exe = shutil.which("logitgd")
    if exe is None:
        pytest.skip("the logitgd command is not installed")
    return exe


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (_LIMIT, _LIMIT))


def _table(path, n=200, seed=0, gap=None, row_group_size=50):
    """A small Parquet file of 3 features a, b, c and a 0/1 label; ``gap``: the row whose 'a' is missing."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] + rng.standard_normal(n) > 0).astype(np.int64)
    a = pa.array(X[:, 0], mask=None if gap is None else np.arange(n) == gap)
    pq.write_table(pa.table({"a": a, "b": X[:, 1], "c": X[:, 2], "label": y}), path, row_group_size=row_group_size)
    return path


def _worker_processes(pid):
    """The Dask worker processes (multiprocessing's spawned children) of the process ``pid``."""
    found = []
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return found
    for child in children:
        try:
            if "multiprocessing.spawn" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


class _Command:
    """The installed command in a session of its own (as a terminal's job: Ctrl-C goes to its process group),
    stdout read line by line as it comes."""

    def __init__(self, *argv, limited=False, env=None):
        self.proc = subprocess.Popen([_installed(), *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True, env={**os.environ, **_ENV, **(env or {})},
                                     preexec_fn=_limit_address_space if limited else None)  # noqa: PLW1509
        self.lines, self.fitting = [], threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("logitgd: fitting"):
                self.fitting.set()

    def wait(self, timeout):
        """``(exit code, stdout, stderr)``; the process group is killed (and the test fails) after ``timeout``."""
        try:
            err = self.proc.stderr.read() if self._wait(timeout) else ""
        finally:
            self.kill()
        self._reader.join(5)
        return self.proc.returncode, "".join(self.lines), err

    def _wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"no exit after {timeout} s; stdout so far: {''.join(self.lines)!r}")

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


def _killer(command, start):
    """A thread that SIGKILLs every worker process of ``command`` the moment it appears, once ``start`` is set;
    the list of the pids it killed."""
    killed = []

    def run():
        start.wait(120)
        while command.proc.poll() is None:
            for worker in _worker_processes(command.proc.pid):
                try:
                    worker.kill()
                    killed.append(worker.pid)
                except psutil.Error:
                    pass
            time.sleep(0.01)

    threading.Thread(target=run, daemon=True).start()
    return killed


def _one_error_line(err, *needles):
    """stderr ends in one ``logitgd: error: ...`` line holding every needle, with no traceback anywhere."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("logitgd: error: "), err
    for needle in needles:
        assert needle in lines[-1], (needle, lines[-1])
    return lines


# -- case 13: every (re)started worker killed at once ---------------------------------------------------------------

@pytest.mark.parametrize("when", ["as the fit starts", "as the cluster starts"])
def test_13_workers_killed_as_they_start_is_a_clear_error(tmp_path, when):
    """``--dask local:1`` where every worker process is SIGKILLed as soon as it appears: no exit after 150 s (the
    nanny restarted it for ever, and a worker that dies before it takes a task counts against no task's
    allowed-failures); killed during the cluster's start, a page of tracebacks ("Nanny failed to start"). Now one
    line naming the cause, within seconds."""
    data, model = _table(tmp_path / "small.parquet"), tmp_path / "m.json"
    command = _Command("fit", data, "--target", "label", "--dask", "local:1", "--quiet", "--model", model,
                       limited=True)
    start = command.fitting if when == "as the fit starts" else threading.Event()
    if when == "as the cluster starts":
        start.set()
    killed = _killer(command, start)
    code, _out, err = command.wait(timeout=60)
    assert code == 1, (code, err)
    assert killed
    if when == "as the fit starts":
        lines = _one_error_line(err, "the Dask workers died", "times in a row", "killed by signal 9")
    else:
        lines = _one_error_line(err, "could not start a local Dask cluster", "killed by signal 9")
    assert len(lines) <= 10, err  # the nanny's "Restarting worker" lines (one per death, 3 of 4), then the error
    assert not model.exists()


# -- case 20a: a damaged data page -------------------------------------------------------------------------------

def _damage_page_header(path, group=1, column=0):
    """Overwrite six bytes in the middle of the first page header of one column chunk of ``path``."""
    meta = pq.read_metadata(path).row_group(group).column(column)
    offset = meta.dictionary_page_offset or meta.data_page_offset
    with open(path, "r+b") as fh:
        fh.seek(offset + 2)
        fh.write(b"\xff" * 6)


@pytest.mark.parametrize("direct", [True, False])
def test_20a_damaged_page_header_reader_names_the_file(tmp_path, monkeypatch, direct):
    """The reader's row group task (with O_DIRECT, or through the page cache) on a damaged page header: pyarrow's
    "Couldn't deserialize thrift" OSError, the file not named (only checksum errors were). Now a DataError naming
    the file and the row group; the row groups that are intact still read."""
    from logitgd.backends.dask import reader

    path = _table(tmp_path / "damaged.parquet")
    _damage_page_header(path)
    monkeypatch.setattr(reader, "_DIRECT", direct and reader._DIRECT)
    assert reader._read_row_group(str(path), 0, ["a", "b"]).num_rows == 50
    with pytest.raises(logitgd.DataError, match=r"damaged\.parquet, row group 1: .*\(the file is damaged\)") as info:
        reader._read_row_group(str(path), 1, ["a", "b"])
    assert "\n" not in str(info.value)


def test_20a_damaged_page_header_is_one_line(tmp_path):
    """``fit damaged.parquet --dask local:1``: "logitgd: error: Couldn't deserialize thrift: ... Deserializing page
    header failed." with no file named (the in-memory command names it). Now the file and the row group."""
    path = _table(tmp_path / "damaged.parquet")
    _damage_page_header(path)
    code, _out, err = _Command("fit", path, "--target", "label", "--dask", "local:1", "--quiet").wait(timeout=60)
    assert code == 1, err
    lines = _one_error_line(err, f"{path}, row group 1:", "the file is damaged")
    assert len(lines) == 1, err


# -- case 20b: a missing value -------------------------------------------------------------------------------------

def test_20b_missing_value_is_one_line(tmp_path):
    """A missing value in a feature: 11 lines of stderr (the worker's "Compute Failed" traceback) when the issue was
    filed; now one line naming the file, the column and the row."""
    path = _table(tmp_path / "gap.parquet", gap=7)
    code, _out, err = _Command("fit", path, "--target", "label", "--dask", "local:1", "--quiet").wait(timeout=60)
    assert code == 1, err
    expected = f"logitgd: error: cannot fit: {path}: column 'a' has a missing value in row 7; fill or drop it first."
    assert err.strip().splitlines() == [expected], err


# -- case 20c: workers out of memory -------------------------------------------------------------------------------

def test_20c_a_worker_out_of_memory_is_one_line(tmp_path):
    """A 1.5 MB Parquet file whose one row group of 64 Mi rows decodes to gigabytes, under a 3 GiB address-space
    limit: the worker's MemoryError came back to the command as a traceback. Now one line saying memory."""
    rows, piece = 64 << 20, 1 << 20
    zeros, labels = pa.array(np.zeros(piece, np.int8)), pa.array((np.arange(piece) % 2).astype(np.int8))
    path = tmp_path / "big.parquet"  # the same piece over and over: the test holds 2 MB, the file 1.5 MB
    pq.write_table(pa.table({"a": pa.chunked_array([zeros] * (rows // piece)),
                             "label": pa.chunked_array([labels] * (rows // piece))}), path, row_group_size=rows)
    assert pq.read_metadata(path).num_row_groups == 1
    code, _out, err = _Command("fit", path, "--target", "label", "--dask", "local:1", "--quiet",
                              limited=True).wait(timeout=60)
    assert code == 1, err
    lines = _one_error_line(err, "out of memory")
    assert len(lines) == 1, err


def test_20c_workers_stopped_at_their_memory_limit_name_it(tmp_path):
    """Workers that Dask's nanny stops at their memory limit (here a limit they pass as they start): the command's
    error was CommClosedError's "in <TCP (closed) ConnectionPool.register_worker_plugin ...>: Stream is closed", or
    a hang. Now one line saying the workers were stopped at their memory limit."""
    from distributed.system import MEMORY_LIMIT

    terminate = f"{64e6 / MEMORY_LIMIT:.6f}"  # a worker process takes over 64 MB as it starts
    code, _out, err = _Command("fit", _table(tmp_path / "small.parquet"), "--target", "label", "--dask", "local:1",
                              "--quiet", limited=True,
                              env={"DASK_DISTRIBUTED__WORKER__MEMORY__TERMINATE": terminate}).wait(timeout=60)
    assert code == 1, err
    lines = _one_error_line(err, "memory limit", "out of memory")
    assert len(lines) <= 12, err  # the nanny's line for each worker it stopped and restarted, then the error


def test_20c_a_task_that_kills_its_worker_names_the_signal():
    """The API on the command line's cluster (:func:`start_client`): a chunk whose task SIGKILLs the worker computing
    it (as the kernel's OOM killer does): DaskFitError with "out of memory?" as its guess; now it also says how
    the workers ended (signal 9), as their nanny saw it."""
    import dask.array as da

    from logitgd.backends.dask.cluster import close, start_client

    def die(block):  # defined here so that it travels by value to the workers
        if block.size:
            os.kill(os.getpid(), signal.SIGKILL)
        return block

    client, cluster = start_client("local:1")
    try:
        X = np.random.default_rng(0).standard_normal((400, 3))
        y = (X[:, 0] > 0).astype(int)
        Xd = da.from_array(X, chunks=(100, 3)).map_blocks(die, dtype=X.dtype)
        model = logitgd.LogisticRegression()
        with client.as_current(), pytest.raises(logitgd.DaskFitError, match=r"killed by signal 9") as info:
            model.fit(Xd, da.from_array(y, chunks=100))
        assert "no model was stored" in str(info.value) and not hasattr(model, "coef_")
    finally:
        close(client, cluster, quiet=True)


# -- case 20d: Ctrl-C ----------------------------------------------------------------------------------------------

def test_20d_ctrl_c_during_a_dask_fit(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during ``fit --dask local:2``: the model was
    written and the exit 130, but 12 and more tracebacks (each worker process's KeyboardInterrupt, its nanny's
    CancelledError) and the fit's warning as Python prints it. Now: exit 130, the model written, the warning and
    "logitgd: interrupted", nothing else."""
    model = tmp_path / "m.json"
    command = _Command("fit", _table(tmp_path / "small.parquet", n=2000, row_group_size=500), "--target", "label",
                       "--dask", "local:2", "--quiet", *_LONG_FIT, "--model", model)
    assert command.fitting.wait(60), command.lines
    time.sleep(1.5)
    os.killpg(command.proc.pid, signal.SIGINT)
    code, _out, err = command.wait(timeout=60)
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = err.strip().splitlines()
    assert lines[-1] == "logitgd: interrupted" and len(lines) <= 3, err
    assert all(line.startswith("logitgd: ") for line in lines), err
    fitted = logitgd.load(model)
    assert not fitted.converged_ and fitted.n_iter_ > 0 and np.isfinite(fitted.coef_).all()
    assert "interrupted" in fitted.stop_reason_


def test_20d_ctrl_c_while_the_cluster_starts(tmp_path):
    """Ctrl-C to the process group while the local cluster starts (its first worker process exists): one line, exit
    130, promptly, and no worker process left behind."""
    command = _Command("fit", _table(tmp_path / "small.parquet"), "--target", "label", "--dask", "local:2",
                       "--quiet", *_LONG_FIT)
    deadline = time.monotonic() + 60
    while not _worker_processes(command.proc.pid) and time.monotonic() < deadline and command.proc.poll() is None:
        time.sleep(0.01)
    workers = _worker_processes(command.proc.pid)
    assert workers, "no worker process appeared"
    os.killpg(command.proc.pid, signal.SIGINT)
    sent = time.monotonic()
    code, _out, err = command.wait(timeout=60)
    assert code == 130, err
    assert err.strip().splitlines() == ["logitgd: interrupted"], err
    assert time.monotonic() - sent < 20
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
