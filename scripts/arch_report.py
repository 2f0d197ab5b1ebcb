"""The figures issue 11's closing note compares before and after.

Run: .venv/bin/python scripts/arch_report.py > /tmp/arch_after.txt
Prints: import cycles among harmscope modules (load-time imports, the rule
tests/test_architecture.py holds, and with imports inside functions too, which hide a tangle
rather than remove it); the ten largest modules by lines; the ten most complex functions
(ruff's C901, McCabe) with how many are over 10 and over 12; the first line of
`duplicates --seconds 120`; the CLI start-up ratio (benchmarks/bench_cli.py); and the
violations of the other architecture rules. Reads the tree, changes nothing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
RUFF = Path(sys.executable).parent / "ruff"


def _load(path: Path, name: str):
    """A module from a file (the architecture rules live in the test that holds them)."""
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cycles(arch) -> None:
    for label, load_only in (("load-time imports (rule a)", True),
                             ("all imports, inside functions too", False)):
        graph = arch.import_graph(load_time_only=load_only)
        found = arch.import_cycles(graph)
        print(f"import cycles, {label}: {len(found)}")
        for cycle in found:
            print(f"  {arch.describe_cycle(cycle, graph)}")


def largest_modules(n: int = 10) -> None:
    sizes = [
        (len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(SRC))
        for p in (SRC / "harmscope").rglob("*.py")
    ]
    print(f"largest modules (lines), of {len(sizes)}:")
    for lines, path in sorted(sizes, reverse=True)[:n]:
        print(f"  {lines:5d}  {path}")


def complexity(n: int = 10) -> None:
    """McCabe complexity of every function, from ruff C901 with the threshold at 0."""
    cmd = [str(RUFF if RUFF.exists() else "ruff"), "check", "--select", "C901",
           "--config", "lint.mccabe.max-complexity = 0", "--output-format", "json",
           "--no-cache", "--exit-zero", "src"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = []
    for item in json.loads(out):
        m = re.match(r"`(.+?)` is too complex \((\d+) > \d+\)", item["message"])
        if m:
            where = f"{Path(item['filename']).relative_to(SRC)}:{item['location']['row']}"
            rows.append((int(m.group(2)), m.group(1), where))
    rows.sort(key=lambda r: (-r[0], r[2]))
    over10 = sum(r[0] > 10 for r in rows)
    over12 = sum(r[0] > 12 for r in rows)
    print(f"functions: {len(rows)}; complexity over 10: {over10}; over 12 (C901 limit): {over12}")
    print("most complex functions (McCabe):")
    for score, name, where in rows[:n]:
        print(f"  {score:3d}  {name}  ({where})")


def duplicates() -> None:
    tool = shutil.which("duplicates")
    if tool is None:
        print("duplicates: not on PATH")
        return
    out = subprocess.run([tool, "--seconds", "120"], cwd=ROOT, capture_output=True, text=True)
    first = (out.stdout.splitlines() or ["(no output)"])[0]
    print(f"duplicates --seconds 120 | head -1: {first}")


def startup() -> None:
    bench = _load(ROOT / "benchmarks" / "bench_cli.py", "bench_cli")
    h, b, ratio = bench.startup_ratio()
    print(f"CLI start-up: harmscope --help {h * 1000:.0f} ms, python -c 'import typer' "
          f"{b * 1000:.0f} ms (medians of {bench.RUNS}): ratio {ratio:.2f}x "
          f"(target <= {bench.TARGET:.0f}x)")


def rules(arch) -> None:
    for label, found in (
        ("(b) command imports another command", arch.command_import_violations()),
        ("(c) SQL in commands/ or report/", arch.sql_violations()),
        ("(d) store functions in analysis/ not returning Result", arch.result_violations()),
    ):
        print(f"rule {label}: {len(found)}")
        for line in found:
            print(f"  {line}")


def main() -> int:
    arch = _load(ROOT / "tests" / "test_architecture.py", "test_architecture")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()
    print(f"harmscope architecture report (HEAD {head} plus the working tree)")
    for part in (lambda: cycles(arch), largest_modules, complexity, duplicates, startup,
                 lambda: rules(arch)):
        print()
        part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
