"""What a benchmark report states about where it ran, and the file it goes to (shared by bench_solvers and
bench_sparse)."""

from __future__ import annotations

import os
import platform
import subprocess

import numpy as np

#: benchmarks/RESULTS.md: the suites that write their section (``--write``) write it here
RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "RESULTS.md")


def env_lines():
    """The report's environment lines: machine, library versions, thread pools, the variables that set them."""
    import numba
    import scipy
    import sklearn
    import threadpoolctl

    import logitgd

    def ver(mod):
        try:
            return __import__(mod).__version__
        except Exception:  # noqa: BLE001
            return "not installed"

    cpu = cpu_name() or "?"
    out = [(f"- Machine: {cpu}, {os.cpu_count()} logical CPUs, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB RAM; shared, noisy host "
            f"(other people run tests on it), no GPU.")]
    out.append(f"- Python {platform.python_version()}; NumPy {np.__version__}, SciPy {scipy.__version__}, "
               f"scikit-learn {sklearn.__version__}, glum {ver('glum')}, tabmat {ver('tabmat')}, "
               f"numba {numba.__version__}, logitgd {getattr(logitgd, '__version__', '?')}")
    for b in threadpoolctl.threadpool_info():
        out.append(f"- threadpoolctl: {b.get('internal_api')} {b.get('version')} ({b.get('user_api')}), "
                   f"{b.get('num_threads')} threads"
                   + (f", kernel `{b.get('architecture')}`" if b.get("architecture") else "")
                   + (f", threading `{b.get('threading_layer')}`" if b.get("threading_layer") else "")
                   + f" — `{os.path.basename(b.get('filepath', ''))}`")
    out.append(f"- numba: {numba.get_num_threads()} threads")
    envs = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_", "NUMBA_", "LOGITGD"))}
    out.append("- Environment as found: " + (", ".join(f"`{k}={v}`" for k, v in sorted(envs.items()))
                                             or "no OPENBLAS_*/OMP_*/MKL_*/NUMBA_*/LOGITGD_* variables"))
    return out


def git_commit():
    """This checkout's short HEAD, noting uncommitted changes under src/."""
    try:
        h = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True,
                           cwd=os.path.dirname(RESULTS)).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], check=False, capture_output=True, text=True,
                               cwd=os.path.dirname(RESULTS)).stdout.strip()
        return h + (" (src/ has uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


def cpu_name():
    """The CPU's model name from /proc/cpuinfo, else ``platform.processor()`` (may be empty)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
