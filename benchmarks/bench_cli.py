"""Start-up time of the command line: `harmscope --help` against `python -c "import typer"`.

Run: .venv/bin/python benchmarks/bench_cli.py
Both are timed in this run, one after the other, as fresh processes (median of RUNS each, so
a busy moment on a shared machine moves neither much). The target (issue 11) is a ratio of at
most TARGET: the help screen should cost little more than the CLI framework it is built on,
which holds only while the command modules (pandas, scipy, statsmodels, DuckDB) load on
demand. Exits 1 when the ratio is over TARGET, so `make bench` reports it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 7
TARGET = 3.0
# The installed console script, as a user runs it (`python -m harmscope` if there is none).
_SCRIPT = Path(sys.executable).parent / "harmscope"
HARMSCOPE = [str(_SCRIPT), "--help"] if _SCRIPT.exists() else [sys.executable, "-m", "harmscope", "--help"]
BASELINE = [sys.executable, "-c", "import typer"]


def wall_time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def startup_ratio(runs: int = RUNS) -> tuple[float, float, float]:
    """(median `harmscope --help` s, median `import typer` s, ratio). One untimed run of each
    warms the file cache; then the two alternate, so a burst of load from others falls on
    both."""
    wall_time(BASELINE), wall_time(HARMSCOPE)
    base_t, help_t = [], []
    for _ in range(runs):
        base_t.append(wall_time(BASELINE))
        help_t.append(wall_time(HARMSCOPE))
    h, b = statistics.median(help_t), statistics.median(base_t)
    return h, b, h / b


def main() -> int:
    h, b, ratio = startup_ratio()
    print(f"{' '.join(BASELINE[1:])!r:<32} median {b * 1000:6.0f} ms ({RUNS} runs)")
    print(f"{'harmscope --help':<32} median {h * 1000:6.0f} ms ({RUNS} runs)")
    verdict = "pass" if ratio <= TARGET else "FAIL"
    print(f"start-up ratio {ratio:.2f}x (target <= {TARGET:.0f}x): {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
