"""The ``logitgd`` command: fit, predict, evaluate, summary, report, explain.

Exit codes: 0 success, 1 bad input (one line on stderr naming the problem),
2 bad command line, 130 fit interrupted by Ctrl-C (the model and plot are
still written, with what the fit had).

The commands live in submodules: :mod:`.fit` (with :mod:`.fit_cv` for ``--alpha cv``), :mod:`.score` (predict,
evaluate), :mod:`.summary`, :mod:`.report` (report, explain, ``fit --report``); :mod:`._plots` the ``--plot`` options;
:mod:`._parser` holds the options, :mod:`._read` the data reading, :mod:`._report` the metrics tables.
"""

from __future__ import annotations

import importlib
import os
import sys

from ._parser import DEFAULT_ALPHA, build_parser

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


def _message(exc):
    """One line for the error message of ``exc``."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"  # as in "x.csv: Permission denied"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "alpha", "") is None:  # fit: the default strength, none for Firth's penalty
        args.alpha = 0.0 if args.penalty == "firth" else DEFAULT_ALPHA
    from ..exceptions import DataError, DivergenceError, InferenceError, ModelFileError

    module, function = _COMMANDS[args.command]
    handler = getattr(importlib.import_module(f".{module}", __name__), function)
    try:
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
    except (DataError, InferenceError, ModelFileError, DivergenceError, OSError) as exc:
        print(f"logitgd: error: {_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("logitgd: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
