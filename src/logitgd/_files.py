"""Writing a file the user asked for without ever leaving half of it: a new file next to the target, renamed."""

from __future__ import annotations

import os
import secrets


def write_atomically(path, write, *, suffix, binary=False):
    """Call ``write(fh)`` on a new file next to ``path`` and rename it to ``path``; ``path`` (as a str).

    The file is opened with mode 0666 so that the user's umask applies, as for any new file
    (``tempfile.mkstemp`` would make it private, 0600). On any failure it is removed and the target is
    left as it was.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(directory, f".logitgd-{secrets.token_hex(8)}{suffix}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"could not create a temporary file in {directory}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
