"""The ``logitgd`` command: fit, predict, evaluate, summary, report, explain.

Exit codes: 0 success, 1 bad input (one line on stderr naming the problem),
2 bad command line, 130 interrupted by Ctrl-C and 143 by SIGTERM (a fit so stopped still writes the model
and plot, with what the fit had; a file being written when the signal came is not written, and the one it was
to replace is left as it was).

The commands live in submodules: :mod:`.fit` (with :mod:`.fit_cv` for ``--alpha cv``), :mod:`.score` (predict,
evaluate), :mod:`.summary`, :mod:`.report` (report, explain, ``fit --report``); :mod:`._plots` the ``--plot`` options;
:mod:`._parser` holds the options, :mod:`._read` the data reading, :mod:`._report` the metrics tables.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading

from .._defaults import default_alpha
from ._parser import build_parser

#: the module and function of each command, imported once it is chosen (``--help`` and ``--version`` import
#: none of them, nor NumPy or scikit-learn)
_COMMANDS = {"fit": ("fit", "cmd_fit"), "predict": ("score", "cmd_predict"), "evaluate": ("score", "cmd_evaluate"),
             "summary": ("summary", "cmd_summary"), "report": ("report", "cmd_report"),
             "explain": ("report", "cmd_explain")}


def __getattr__(name):  # the cmd_* functions, for callers that import them from here
    for module, function in _COMMANDS.values():
        if function == name:
            return getattr(importlib.import_module(f".{module}", __name__), name)
    raise AttributeError(f"module 'logitgd.cli' has no attribute {name!r}")


__all__ = ["build_parser", "cmd_evaluate", "cmd_explain", "cmd_fit", "cmd_predict", "cmd_report", "cmd_summary",
           "main"]


class _Lenient:
    """A text stream that keeps going when its reader has gone (``logitgd fit ... | head -1``): the first
    BrokenPipeError points the descriptor at /dev/null (so that Python's flush at exit is quiet too) and every
    later write is dropped, so the command finishes its work (the model file, the plots) and exits as it
    would have."""

    def __init__(self, stream):
        self._stream, self.gone = stream, False
        if stream is None:  # the descriptor was closed before Python started (``2>&-``)
            self._stream, self.gone = open(os.devnull, "w", encoding="utf-8"), True

    def _closed_pipe(self):
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    #: ``(temporary path, the path the user gave)`` of data read from a pipe (:func:`_spool_pipes`): messages
    #: name what the user gave
    renamed = []

    def write(self, text):
        for temporary, given in self.renamed:
            text = text.replace(temporary, given)
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._closed_pipe()
        return len(text)

    def flush(self):
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._closed_pipe()

    def __getattr__(self, name):  # isatty, fileno, encoding, ...: the stream's
        return getattr(self._stream, name)


_DATA_SUFFIXES = (".csv", ".csv.gz", ".txt", ".parquet", ".pq", ".svm", ".libsvm", ".svmlight", ".svm.gz",
                  ".libsvm.gz", ".svmlight.gz", ".svm.bz2")


def _sniffed_suffix(head):
    """The suffix of data whose first bytes are ``head``: Parquet, gzip, svmlight or CSV."""
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"\x1f\x8b"):  # gzip: what its first bytes decompress to
        import zlib

        try:
            inner = zlib.decompressobj(wbits=31).decompress(head, 65536)
        except zlib.error:
            inner = b""
        return ".svm.gz" if _sniffed_suffix(inner) == ".svm" else ".csv.gz"
    lines = [line.strip() for line in head.splitlines()[:-1] or head.splitlines()]
    first = next((line for line in lines if line and not line.startswith(b"#")), b"")
    fields = first.split(b"#")[0].split()
    svm = len(fields) > 1 and b"," not in first and all(b":" in f for f in fields[1:])
    return ".svm" if svm else ".csv"


def _spool_pipes(args, stack):
    """DATA that is a pipe or a device (``cat x.csv | logitgd fit /dev/stdin``, ``<(zcat x.csv.gz)``), copied to a
    temporary file (removed when the command ends) named by its contents' format, so that every reader can read
    it and seek in it; what the command prints names the path that was given."""
    import stat

    path = getattr(args, "data", None)
    if not isinstance(path, str):
        return
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # the reader's message (no such file)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    if getattr(args, "dask", None):
        from ..exceptions import DataError

        raise DataError(f"{path} is a pipe or a device: --dask reads Parquet files, directories or globs that the "
                        "workers can open; write the data to a file first.")
    import shutil
    import tempfile

    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="logitgd-"))
    with open(path, "rb") as source:
        head = source.read(65536)
        known = os.path.basename(path).lower()
        from ..io.tables import _CSV, _PARQUET, _SVMLIGHT

        suffix = next((s for s in _SVMLIGHT + _PARQUET + _CSV if known.endswith(s)), None) or _sniffed_suffix(head)
        copy = os.path.join(directory, "data" + suffix)
        with open(copy, "wb") as out:
            out.write(head)
            shutil.copyfileobj(source, out, 1 << 20)
    args.data = copy
    _Lenient.renamed.append((copy, path))


def _swapped(args):
    """The message for ``logitgd predict DATA MODEL`` (the two files in the wrong order), else None."""
    model, data = getattr(args, "model", None), getattr(args, "data", None)
    if args.command not in ("predict", "evaluate", "report", "explain") or not model or not data:
        return None
    if model.lower().endswith(_DATA_SUFFIXES) and data.lower().endswith(".json"):
        return (f"{args.command} takes the model file first, then the data: logitgd {args.command} {data} {model} "
                f"(got the data file {model} where the model goes).")
    return None


def _message(exc):
    """One line for the error message of ``exc``."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"  # as in "x.csv: Permission denied"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it ends as Ctrl-C does: a fit keeps the coefficients it had
    (and the model is written), a file being written is removed whole, and nothing else is left behind."""


class _Signals:
    """SIGINT and SIGTERM while a command runs.

    Each raises where the program is (:class:`KeyboardInterrupt`, :class:`Terminated`), except while a fit's
    model is being kept (:meth:`keeping`): there the first one stops the fit (whose solver keeps the coefficients
    it had), and every later one, and any that comes once the fit has returned, waits until the model is written;
    the command then stops as interrupted. A second Ctrl-C right after the first (as impatient users press it) so
    no longer loses the model."""

    def __init__(self):
        self.seen, self.state, self.waiting = [], "off", []

    def __call__(self, signum, frame):
        self.seen.append(signum)
        if self.state == "kept":  # the model is being written: after it
            if not self.waiting:  # not through sys.stderr, whose buffer the signal may have interrupted
                try:
                    os.write(2, b"logitgd: writing the model the fit had, then stopping\n")
                except OSError:
                    pass
            self.waiting.append(signum)
            return
        if self.state == "fitting":  # the fit stops on this one; later ones wait for the model
            self.state = "kept"
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    @contextlib.contextmanager
    def keeping(self):
        """A context for a fit and the writing of its model; call :meth:`fitted` once the fit has returned."""
        self.state, self.waiting = "fitting", []
        try:
            yield self
        finally:
            waiting, self.state, self.waiting = self.waiting, "off", []
        if waiting:  # the model is written: now stop, as the signal asked
            raise Terminated() if waiting[0] == signal.SIGTERM else KeyboardInterrupt()

    def fitted(self):
        if self.state == "fitting":
            self.state = "kept"


SIGNALS = _Signals()


def interrupted_status():
    """The exit status of a command whose fit was interrupted: 143 after SIGTERM, 130 after Ctrl-C."""
    return 143 if signal.SIGTERM in SIGNALS.seen else 130


def _handle_signals():
    """Route SIGINT and SIGTERM through :data:`SIGNALS` while a command runs; the handlers to restore after
    (None: not on the main thread, where none can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    SIGNALS.__init__()
    return {sig: signal.signal(sig, SIGNALS) for sig in (signal.SIGINT, signal.SIGTERM)}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "alpha", "") is None:  # fit: the estimator's default strength, none for Firth's penalty
        args.alpha = default_alpha(args.penalty, None)
    from ..exceptions import DaskFitError, DataError, DivergenceError, InferenceError, ModelFileError

    swapped = _swapped(args)
    if swapped:
        print(f"logitgd: error: {swapped}", file=sys.stderr)
        return 1
    module, function = _COMMANDS[args.command]
    handler = getattr(importlib.import_module(f".{module}", __name__), function)
    # a report on stdout (and messages on stderr) may lose their reader; the files a command writes are its
    # work. predict to standard output is the exception: there the rows are the work, and it stops.
    streams = sys.stdout, sys.stderr
    if not (args.command == "predict" and not args.output):
        sys.stdout = _Lenient(sys.stdout)
    sys.stderr = _Lenient(sys.stderr)
    previous = _handle_signals()
    stack = contextlib.ExitStack()
    try:
        _spool_pipes(args, stack)
        return handler(args)
    except BrokenPipeError:
        # The reader of standard output went away (``logitgd predict ... | head``):
        # stop quietly, and keep Python from complaining when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except (DataError, InferenceError, ModelFileError, DivergenceError, DaskFitError, OSError) as exc:
        print(f"logitgd: error: {_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(f"logitgd: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130  # 128 + the signal's number, as a shell reports it
    finally:
        stack.close()
        _Lenient.renamed.clear()
        sys.stdout, sys.stderr = streams
        for sig, handler in (previous or {}).items():
            signal.signal(sig, handler)
        if argv is None and previous is not None:  # the process's own command, done: its status is decided, and
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C while the interpreter unloads its modules
            # (half a second after a fit) would kill it by the signal (the interpreter's exit restores SIG_DFL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
