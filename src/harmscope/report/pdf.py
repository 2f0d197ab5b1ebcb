"""Print a report's HTML to PDF with headless Chromium (Debian package `chromium`).

Chromium's own ``--print-to-pdf`` is used rather than a Python browser driver, so the PDF
needs nothing beyond the Debian package (scripts/install-chromium.sh). ``--virtual-time-budget``
lets the page's scripts (the vendored vega-embed) finish drawing every chart before printing;
the flags keep Chromium from phoning home (no background networking, updates or sync), and a
fresh profile folder is used for each run so nothing leaks between reports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harmscope.errors import HarmscopeError

CHROMIUM_ENV = "HARMSCOPE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Virtual milliseconds the page may run before printing; charts need well under a second.
VIRTUAL_TIME_MS = 20000
TIMEOUT_S = 180

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--hide-scrollbars",
)


def find_chromium() -> str:
    """Path of the Chromium binary: $HARMSCOPE_CHROMIUM, /usr/bin/chromium, or on PATH."""
    candidates = [
        os.environ.get(CHROMIUM_ENV),
        DEFAULT_CHROMIUM,
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    for c in candidates:
        if c and Path(c).exists() and os.access(c, os.X_OK):
            return c
    raise HarmscopeError(
        "no Chromium found to print the PDF",
        where="--format pdf",
        fix="run scripts/install-chromium.sh (installs the Debian package chromium), set "
        f"{CHROMIUM_ENV} to a Chromium binary, or use --format html",
    )


def html_to_pdf(
    html_path: str | Path, pdf_path: str | Path, *, chromium: str | None = None
) -> Path:
    """Render ``html_path`` (a local file) to ``pdf_path`` and return the PDF's path."""
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    binary = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="harmscope-chromium-") as profile:
        cmd = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            "--run-all-compositor-stages-before-draw",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.as_uri(),
        ]
        pdf_path.unlink(missing_ok=True)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise HarmscopeError(
                f"Chromium did not finish printing within {TIMEOUT_S} s",
                where="--format pdf",
                fix="try again, or write --format html and print it from a browser",
            ) from None
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise HarmscopeError(
            f"Chromium could not print the PDF (exit {proc.returncode}: {' | '.join(tail)})",
            where="--format pdf",
            fix="check that `chromium --version` works, or use --format html",
        )
    return pdf_path
