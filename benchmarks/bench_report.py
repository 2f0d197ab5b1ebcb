"""Time of a force-year problem-profile report from the command line (issue 18).

Run: .venv/bin/python benchmarks/bench_report.py   (or `make bench`)
Builds a store with every Kent, Essex and Sussex street file in ../shared/data (or reuses
HARMSCOPE_BENCH_DB if set), then times, in the same run, interleaved and best of REPEATS:

* ``report_force_year``: ``harmscope report --area "Kent Police" --from 2025-01 --to
  2025-12 --out FILE.html`` as a user runs it (a fresh process: start-up, imports, every
  section, the HTML written);
* its baseline: the bare DuckDB read of the same year's rows in a fresh Python process
  (``import duckdb``, open the store read-only, ``GROUP BY lad_code, month, crime_type`` over
  Kent's 2025 street rows): the least any command that reads those rows pays;
* ``report_force_year_pdf``: the same report written as PDF through headless Chromium (when
  /usr/bin/chromium is there), against the same baseline;
* in-process, for the breakdown only: each section's build time, and the HTML render.

No timing is asserted anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import figure, street_store

REPEATS = 3
AREA = "Kent Police"
FIRST, LAST = "2025-01", "2025-12"
# the installed console script, as a user runs it (or the same entry point through -c)
_SCRIPT = Path(sys.executable).with_name("harmscope")
HARMSCOPE = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "import sys; from harmscope.cli import main; sys.exit(main())"]
)

BARE_READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute(
    "SELECT lad_code, month, crime_type, count(*) AS n FROM street_crimes "
    "WHERE falls_within = ? AND month BETWEEN ? AND ? GROUP BY ALL",
    [sys.argv[2], sys.argv[3] + "-01", sys.argv[4] + "-01"],
).df()
"""


# The runs see compiled bytecode, as an installed package has: with PYTHONDONTWRITEBYTECODE
# set (as some shells and CI set it) every run would compile ~130 harmscope modules from
# source first (0.3-0.8 s here), a cost no user of an installed harmscope pays. The bytecode
# goes to a scratch folder, not beside the sources; one untimed run of each command fills it.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="harmscope-bench-pyc-")


def _wall(cmd: list[str]) -> float:
    """Wall seconds of one run of ``cmd`` (which must succeed)."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_ENV)
    took = time.perf_counter() - t0
    if res.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {res.stderr[-2000:]}")
    return took


def _report_cmd(db: str, out: Path) -> list[str]:
    return [
        *HARMSCOPE,
        "report",
        "--db",
        db,
        "--area",
        AREA,
        "--from",
        FIRST,
        "--to",
        LAST,
        "--out",
        str(out),
        "--quiet",
    ]


def _breakdown(store) -> None:
    """In-process: each section's build time and the render (best of one; for reading)."""
    from harmscope.report.render import build_report, make_context, render_html

    t0 = time.perf_counter()
    report = build_report(make_context(store, AREA, FIRST, LAST))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render_html(report)
    t_render = time.perf_counter() - t0
    print(
        f"in-process: build {t_build:.2f} s, render HTML {t_render:.2f} s ({len(html) / 1e6:.1f} MB)"
    )
    for b in sorted(report.sections, key=lambda b: -b.seconds)[:8]:
        print(f"    {b.name:<24} {b.seconds:6.2f} s")


def main() -> None:
    store = street_store()
    db = str(store.path)
    _breakdown(store)
    store.close()  # the commands below open it themselves
    out = Path(tempfile.mkdtemp()) / "kent.html"
    bare_cmd = [sys.executable, "-c", BARE_READ, db, AREA, FIRST, LAST]
    html_cmd = _report_cmd(db, out)
    _wall(bare_cmd), _wall(html_cmd)  # untimed: writes the bytecode (see _ENV)
    bare, html = [], []
    for _ in range(REPEATS):  # interleaved, so a burst of load falls on both
        bare.append(_wall(bare_cmd))
        html.append(_wall(html_cmd))
    print(
        f"runs (s): report {', '.join(f'{t:.2f}' for t in html)}; bare read "
        f"{', '.join(f'{t:.2f}' for t in bare)}"
    )
    base = min(bare)
    figure("report_force_year", min(html), "s", base)
    if Path("/usr/bin/chromium").exists() and os.environ.get("HARMSCOPE_BENCH_PDF", "1") != "0":
        pdf_cmd = _report_cmd(db, out.with_suffix(".pdf"))
        pdf = [_wall(pdf_cmd) for _ in range(2)]
        figure("report_force_year_pdf", min(pdf), "s", base)
    else:
        print(
            "report_force_year_pdf: skipped (/usr/bin/chromium absent; scripts/install-chromium.sh)"
        )


if __name__ == "__main__":
    main()
