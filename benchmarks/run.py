"""Run every benchmarks/bench_*.py (``run.py bench``) or validate_*.py (``run.py validate``).

Each script has a ``main()`` that prints its own figures. Scripts run one after another, each
in its own process, so one's memory does not count against the next. Their output is shown as
it comes; every line in the contract form of issue 18 (``name: value unit (baseline value
unit, ratio R)``, see ``_common.CONTRACT``) is also collected, and the run ends with a summary
block of them, one line per figure, in the order printed. A full bench run also checks that
the figures issue 18 names are all there: a missing one fails the run, as a failed script does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from _common import CONTRACT

HERE = Path(__file__).resolve().parent

# The figures issue 18's contract names: `make bench` must print each of them.
REQUIRED = (
    "ingest_vs_bare_read",
    "report_force_year",
    "cli_help",
    "placebo_200",
    "one_force_on_national_store",
)


def run_script(script: Path) -> tuple[int, list[str]]:
    """Run ``script``, echoing its output line by line; (exit code, its contract lines)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines as they are printed, not at exit
    found = []
    with subprocess.Popen(
        [sys.executable, str(script)],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if CONTRACT.match(line.rstrip("\n")):
                found.append(line.rstrip("\n"))
    return proc.returncode, found


def summary(figures: list[tuple[str, str]], check_required: bool) -> list[str]:
    """Print the summary block; return the required figure names that are missing."""
    if figures:
        print(f"\n=== summary: {len(figures)} figures ===")
        shown = None
        for script, line in figures:
            if script != shown:  # lines stay exactly in the contract form; the script above
                print(f"# {script}")
                shown = script
            print(line)
    names = {CONTRACT.match(line)["name"] for _, line in figures}
    missing = [n for n in REQUIRED if n not in names] if check_required else []
    if missing:
        print(f"missing contract figures: {', '.join(missing)}")
    return missing


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
    figures: list[tuple[str, str]] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc, found = run_script(script)
        figures += [(script.name, line) for line in found]
        print(f"--- {script.name}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(script.name)
    missing = summary(figures, check_required=kind == "bench" and not wanted)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
