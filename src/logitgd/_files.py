"""Writing a file the user asked for without ever leaving half of it: a new file next to the target, renamed."""

from __future__ import annotations

import os
import secrets
import stat


def write_atomically(path, write, *, suffix, binary=False):
    """Call ``write(fh)`` on a new file next to ``path`` and rename it to ``path``; ``path`` (as a str).

    The file is opened with mode 0666 so that the user's umask applies, as for any new file
    (``tempfile.mkstemp`` would make it private, 0600); a file it replaces keeps its own mode (a private
    model stays private). The data are flushed to the disk before the rename, so that a full disk shows
    as an error here, not as a short file later. On any failure (an error, a signal turned into an
    exception) the new file is removed and the target is left as it was; an ``OSError`` then names the
    target and says so.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
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
            fh.flush()
            os.fsync(fh.fileno())
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            kept = "the file there before is left as it was" if mode is not None else "nothing was written"
            raise OSError(exc.errno, f"{exc.strerror} ({kept})", path) from None
        raise
    return path
