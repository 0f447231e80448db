"""Every file the command line writes is whole or not there: a full disk, a size limit, SIGTERM or SIGINT in the
middle of a write leave the previous file as it was and no temporary file behind; an interrupted fit still writes
the model it had. Through the installed ``logitgd`` command, on a real file system that fills up (a tmpfs of a few
kilobytes, mounted in a private mount namespace) and with real signals."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from test_cli import _installed

import logitgd

BIRTHWT = os.path.join(os.path.dirname(__file__), "data", "birthwt.csv")
FIT = ["--target", "low", "--drop", "Unnamed: 0,bwt", "--quiet"]


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A model, cost plot, report and predictions from an earlier run: what a failed --force must keep."""
    d = tmp_path_factory.mktemp("previous")
    outputs = {"model": d / "m.json", "plot": d / "cost.png", "report": d / "report.html", "preds": d / "preds.csv"}
    run = subprocess.run([_installed(), "fit", BIRTHWT, *FIT, "--model", outputs["model"], "--plot", outputs["plot"],
                          "--report", outputs["report"]], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([_installed(), "predict", outputs["model"], BIRTHWT, "--output", outputs["preds"]],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return outputs


def _commands(outputs):
    """The commands that overwrite each output with --force (a different model: --alpha 0.1)."""
    exe = _installed()
    return {
        "fit": [exe, "fit", BIRTHWT, *FIT, "--alpha", "0.1", "--model", outputs["model"], "--plot",
                outputs["plot"], "--report", outputs["report"], "--force"],
        "predict": [exe, "predict", outputs["model"], BIRTHWT, "--output", outputs["preds"], "--force"],
    }


def _leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith(".logitgd-"))


# Runs inside the private mount namespace, where the tmpfs is: copies the previous outputs in, fills the file
# system up, runs the commands and reports what each left.
_ON_TMPFS = r"""
import json, os, shutil, subprocess, sys
directory, spec = sys.argv[1], json.loads(sys.argv[2])
outputs = {k: os.path.join(directory, os.path.basename(v)) for k, v in spec["previous"].items()}
for k, v in spec["previous"].items():
    shutil.copyfile(v, outputs[k])
with open(os.path.join(directory, "filler"), "wb", buffering=0) as fh:  # every block, to the last one
    try:
        while True:
            fh.write(b"\0" * 512)
    except OSError:
        pass
report = {}
for name, argv in spec["commands"].items():
    argv = [outputs.get(a, a) for a in argv]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    report[name] = {"code": run.returncode, "stderr": run.stderr,
                    "kept": {k: open(p, "rb").read() == open(spec["previous"][k], "rb").read()
                             for k, p in outputs.items()},
                    "leftovers": sorted(n for n in os.listdir(directory) if n.startswith(".logitgd-"))}
print(json.dumps(report))
"""


def _in_a_private_tmpfs(directory, size, program_args):
    """Run ``_ON_TMPFS`` with a tmpfs of ``size`` bytes mounted on ``directory`` in a mount namespace of its own
    (unprivileged where user namespaces are allowed, else as root); None where neither is possible."""
    inner = ["sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"', str(directory),
             sys.executable, "-c", _ON_TMPFS, str(directory), *program_args]
    for prefix in (["unshare", "-rm"], ["unshare", "-m"]):
        if shutil.which(prefix[0]) is None:
            return None
        run = subprocess.run(prefix + inner, capture_output=True, text=True, timeout=600)
        if run.returncode == 0:
            return json.loads(run.stdout)
        if "mount" not in run.stderr and "unshare" not in run.stderr:
            raise AssertionError(run.stderr)
    return None


def test_a_full_file_system_keeps_every_previous_output(previous, tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    keys = {str(v): k for k, v in previous.items()}  # the commands name the outputs by key inside
    commands = {name: [keys.get(str(a), str(a)) for a in argv] for name, argv in _commands(previous).items()}
    size = sum(os.path.getsize(p) for p in previous.values()) + 16 * 1024
    report = _in_a_private_tmpfs(mount, size, [json.dumps({"previous": {k: str(v) for k, v in previous.items()},
                                                            "commands": commands})])
    if report is None:  # pragma: no cover - a machine with neither user namespaces nor root
        pytest.skip("this machine can mount no tmpfs (no user namespaces, not root); the size-limit test below "
                    "still runs")
    for name, got in report.items():
        assert got["code"] == 1, (name, got)
        assert got["stderr"].startswith("logitgd: error: ") and len(got["stderr"].splitlines()) == 1, got
        assert "No space left on device" in got["stderr"] and "left as it was" in got["stderr"], got
        assert all(got["kept"].values()), (name, got["kept"])
        assert got["leftovers"] == [], got


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_a_file_size_limit_keeps_the_previous_output(previous, tmp_path, command):
    """The same, where any machine can make a write fail half-way: RLIMIT_FSIZE (Python ignores SIGXFSZ, so the
    write itself fails, with EFBIG) of 2 KB, below every output's size."""
    copies = {k: tmp_path / os.path.basename(v) for k, v in previous.items()}
    for k, v in previous.items():
        shutil.copyfile(v, copies[k])
    argv = [str(a) for a in _commands(copies)[command]]

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("logitgd: error: ") and len(run.stderr.splitlines()) == 1, run.stderr
    assert "File too large" in run.stderr and "left as it was" in run.stderr, run.stderr
    for k, p in copies.items():
        assert p.read_bytes() == previous[k].read_bytes(), k
    assert _leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory):
    """200,000 rows of birthwt's columns: a predictions file that takes a while to write."""
    raw = pd.read_csv(BIRTHWT)
    big = raw.sample(200_000, replace=True, random_state=0)
    path = tmp_path_factory.mktemp("big") / "big.csv"
    big.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_predictions_are_written_keeps_the_previous_file(previous, many_rows, tmp_path, sig, code):
    out = tmp_path / "preds.csv"
    shutil.copyfile(previous["preds"], out)
    proc = subprocess.Popen([_installed(), "predict", previous["model"], many_rows, "--output", out, "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _leftovers(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)  # the temporary file appears: the rows are being written
    assert proc.poll() is None, "the predictions were written before the signal could be sent"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] in ("logitgd: interrupted", "logitgd: terminated"), err
    assert out.read_bytes() == previous["preds"].read_bytes()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_long_fit_writes_the_model_it_had(tmp_path, sig, code):
    model = tmp_path / "m.json"
    proc = subprocess.Popen([_installed(), "fit", BIRTHWT, *FIT, "--solver", "gd", "--learning-rate", "1e-9",
                             "--max-iter", "100000000", "--model", model], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed, and flushed, just before the fit starts
    assert "fitting" in line, line
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "interrupted" in err
    fitted = logitgd.load(model)
    assert not fitted.converged_ and fitted.n_iter_ > 0
    assert np.isfinite(fitted.coef_).all()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.3])
def test_a_second_ctrl_c_right_after_the_first_still_writes_the_model(tmp_path, delay):
    """Issue 20, case 3: Ctrl-C, then Ctrl-C again as the fit stops. The second one came while the fit was
    returning or the model was being written (10 ms after the first: exit 130, "interrupted", no model file; at
    0.1-0.3 s the process died by the signal itself); now it waits until the model is written."""
    model = tmp_path / "m.json"
    proc = subprocess.Popen([_installed(), "fit", BIRTHWT, *FIT, "--solver", "gd", "--learning-rate", "1e-9",
                             "--max-iter", "100000000", "--model", model], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert "fitting" in proc.stdout.readline()
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err.strip().splitlines()[-1], err
    fitted = logitgd.load(model)
    assert not fitted.converged_ and fitted.n_iter_ > 0
    assert _leftovers(tmp_path) == []


def test_a_replaced_file_keeps_its_mode(previous, tmp_path):
    """``fit --model PRIVATE --force``: a private (0600) model stays private; a new file gets the umask's mode."""
    private = tmp_path / "m.json"
    shutil.copyfile(previous["model"], private)
    private.chmod(0o600)
    fresh = tmp_path / "new.json"
    run = subprocess.run([_installed(), "fit", BIRTHWT, *FIT, "--model", private, "--force"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([_installed(), "fit", BIRTHWT, *FIT, "--model", fresh], capture_output=True, text=True,
                         timeout=300, preexec_fn=lambda: os.umask(0o027))
    assert run.returncode == 0, run.stderr
    assert (private.stat().st_mode & 0o777, fresh.stat().st_mode & 0o777) == (0o600, 0o640)


def test_a_symbolic_link_stays_a_link_to_the_file_written(tmp_path):
    """``--model LINK --force``: the file the link points to is replaced (as a shell's ``>`` writes it), its mode
    kept; the link is not turned into a file beside it."""
    from logitgd._files import write_atomically

    real = tmp_path / "models" / "current.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "model.json"
    link.symlink_to(real)
    write_atomically(link, lambda fh: fh.write("new"), suffix=".json")
    assert link.is_symlink() and real.read_text() == "new" and real.stat().st_mode & 0o777 == 0o600
    with pytest.raises(OSError, match=r"nothing was written.*nodir"):
        write_atomically(tmp_path / "nodir" / "x.json", lambda fh: fh.write("x"), suffix=".json")
    assert _leftovers(tmp_path) == []
