"""Run every benchmarks/bench_*.py (``run.py bench``) or validate_*.py (``run.py validate``).

Each script has a ``main()`` that prints its own figures. Scripts run one after another, each
in its own process, so one's memory does not count against the next.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "bench"
    if kind not in ("bench", "validate"):
        print("usage: run.py bench|validate [NAME...]", file=sys.stderr)
        return 2
    wanted = set(argv[1:])
    scripts = sorted(HERE.glob(f"{kind}_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem.split("_", 1)[1] in wanted]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
