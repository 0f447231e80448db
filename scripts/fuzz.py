"""The long run of the property-based tests (tests/test_properties.py): random examples, many of them.

    python scripts/fuzz.py                  # 2000 examples per property (about 10 minutes on 2 cores)
    python scripts/fuzz.py --examples 20000 # longer
    python scripts/fuzz.py -- -k csv        # pytest options after --

The test suite runs the same properties on 40 derandomized examples each (the "ci" profile of
tests/conftest.py). A failure prints the smallest input Hypothesis found and a @reproduce_failure
line; add the input to tests/data/bad/ with the message it must get (see its README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property (default 2000)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest options (after --)")
    args = parser.parse_args(argv)
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long", "LOGITGD_FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", "-q", os.path.join(ROOT, "tests", "test_properties.py"),
               *args.pytest_args]
    return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
