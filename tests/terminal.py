"""Run a command on a pseudo-terminal of a given size and render what a user's screen then shows."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios


def run_on_terminal(argv, cols=100, rows=40, timeout=120):
    """``(exit status, everything the command wrote)``: stdout and stderr on one pseudo-terminal of ``cols``."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the command closed its end
            break
        if not chunk:
            break
        out += chunk
    code = proc.wait(timeout)
    os.close(master)
    return code, out.decode("utf-8", "replace")


def screen(text):
    """The lines a terminal shows after ``text``: carriage return, newline, cursor up (``ESC[nA``) and erase to the
    end of the line (``ESC[K``), which are what progress bars write."""
    lines, row, col, i = [""], 0, 0, 0
    while i < len(text):
        escape = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
        if escape:
            n = int(escape.group(1) or 1)
            if escape.group(2) == "A":
                row = max(0, row - n)
            elif escape.group(2) == "K":
                lines[row] = lines[row][:col]
            i += escape.end()
            continue
        ch = text[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1:]
            col += 1
        i += 1
    return [line.rstrip() for line in lines]
