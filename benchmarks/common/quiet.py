"""Wait for a quiet machine before a timed run (shared by the benchmark suites)."""

from __future__ import annotations

import os
import time


def _cpu_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


def busy_fraction(dt):
    """Share of all cores that were busy (not idle, not waiting for I/O) over the next ``dt`` seconds."""
    t0, i0 = _cpu_ticks()
    time.sleep(dt)
    t1, i1 = _cpu_ticks()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


class QuietGate:
    """Before a timed run, wait (up to ``max_wait`` s) until other processes use < ``threshold`` of the CPU.

    The machine is sampled over ``sample`` seconds at a time (we are idle while waiting).
    ``calls`` counts the gate's uses, ``waits`` the busy samples, ``not_quiet`` the
    uses that gave up after ``max_wait``.
    """

    def __init__(self, threshold=0.15, max_wait=5.0, enabled=True, sample=0.2):
        self.threshold, self.max_wait, self.sample = threshold, max_wait, sample
        self.enabled = enabled and os.path.exists("/proc/stat")
        self.calls = 0
        self.waits = 0
        self.not_quiet = 0

    def __call__(self):
        self.calls += 1
        if not self.enabled:
            return
        start = time.perf_counter()
        while time.perf_counter() - start < self.max_wait:
            if busy_fraction(self.sample) < self.threshold:
                return
            self.waits += 1
        self.not_quiet += 1
