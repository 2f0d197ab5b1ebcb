"""Shared by the benchmark and validation scripts: where the data are, a store, a timer, a
child process. Importing it loads no harmscope module, so a script measuring its children's
peak memory (which counts what a fork inherits) stays small.

Not run by run.py (it only runs bench_*.py and validate_*.py). Scripts import it as
``_common``: Python puts the script's own folder first on the path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harmscope.store import Store

# The shared data sit beside the checkout (../shared/data) unless HARMSCOPE_SHARED says otherwise.
SHARED = (
    Path(os.environ.get("HARMSCOPE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "data"
)


def kent_street_files() -> list[Path]:
    """Every Kent street file (2024-01..04 and 2025-01..12 in the shared data)."""
    return sorted((SHARED / "police/kent/street").glob("*.csv.gz"))


def street_files() -> list[Path]:
    """Every Kent street file, then the comparison forces' (Essex, Sussex)."""
    return kent_street_files() + sorted((SHARED / "police/comparison/street").glob("*.csv.gz"))


def street_store(name: str = "bench.duckdb") -> Store:
    """A read-only store of :func:`street_files`; HARMSCOPE_BENCH_DB reuses an existing one."""
    # Imported here: the scripts that only use run_child keep their parent process small.
    from harmscope.sources.ingest import ingest_paths
    from harmscope.store import Store

    path = os.environ.get("HARMSCOPE_BENCH_DB")
    if path and Path(path).exists():
        return Store.open(path, read_only=True)
    tmp = Path(tempfile.mkdtemp()) / name
    with Store.open(tmp) as store:
        ingest_paths(store, street_files(), quiet=True)
    return Store.open(tmp, read_only=True)


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (the least disturbed by other load), and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls."""
    return timed(fn, repeat)[0]


def run_child(script: str, mode: str, *args, env: dict | None = None) -> dict:
    """Run ``script`` (Python source) as ``mode`` in a fresh interpreter and return the JSON
    on its last line of output. One process per step, so each step's peak memory (its own
    ru_maxrss) is measured apart from the others'."""
    res = subprocess.run(
        [sys.executable, "-c", script, mode, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if res.returncode:
        raise SystemExit(f"{mode} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# One benchmark figure as `make bench` prints it (issue 18): ``name: value unit (baseline value
# unit, ratio R)``. run.py collects the lines that match into its closing summary.
CONTRACT = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+): (?P<value>\S+) (?P<unit>[^(),]+?) "
    r"\(baseline (?P<baseline>\S+) (?P<baseline_unit>[^(),]+?), ratio (?P<ratio>\S+)\)$"
)


def _number(v: float) -> str:
    """Four significant figures, but whole numbers from 1,000 up (18889, not 1.889e+04)."""
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def figure(
    name: str, value: float, unit: str, baseline: float, baseline_unit: str | None = None
) -> str:
    """Print (and return) one benchmark figure in the contract form of issue 18:
    ``name: value unit (baseline value unit, ratio R)``, the ratio being value / baseline,
    both measured in the same run. ``name`` has no spaces and a unit no brackets or commas,
    so the line parses back (``CONTRACT``)."""
    ratio = value / baseline if baseline else float("nan")
    ratio_text = f"{ratio:.2g}" if 0 < abs(ratio) < 0.1 else f"{ratio:.2f}"  # 0.0027, not 0.00
    line = (
        f"{name}: {_number(value)} {unit} (baseline {_number(baseline)} {baseline_unit or unit}, "
        f"ratio {ratio_text})"
    )
    if not CONTRACT.match(line):
        raise ValueError(f"not a contract line (a name without spaces?): {line!r}")
    print(line, flush=True)
    return line
