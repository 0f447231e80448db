"""Writing a file the user asked for without ever leaving half of it: a new file next to the target, renamed."""

from __future__ import annotations

import errno
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
    # a symbolic link stays one: the file it points to is the one replaced (as ``>`` in a shell would write it)
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    kept = "the file there before is left as it was" if mode is not None else "nothing was written"
    tmp = None
    try:
        for _ in range(100):
            name = os.path.join(directory, f".logitgd-{secrets.token_hex(8)}{suffix}.tmp")
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                tmp = name
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, f"could not create a temporary file in {directory}")
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            if mode is not None:  # at once: a private file's data are never readable by others, even half written
                os.fchmod(fh.fileno(), mode)
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, f"{exc.strerror} ({kept})", path) from None
        raise
    return path
