"""The full public-output attack (issue 10): every command that takes --audience public, for
the force and all 13 districts, a single month and the full year, attacked together.

``make test`` runs a subset (tests/test_public_attack.py); this runs the whole sweep, which
takes about 10-25 minutes on two cores. It prints the attacker's counts (outputs, tables,
hidden cells, equations, recovered) and fails if any hidden count is recovered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    env = dict(os.environ, HARMSCOPE_FULL_ATTACK="1")
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
        str(ROOT / "tests" / "test_public_attack.py"), "-k", "no_public_output",
    ]  # fmt: skip
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
