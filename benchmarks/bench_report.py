"""Time of the whole problem-profile report against the bare aggregation query it rests on.

Run: .venv/bin/python benchmarks/bench_report.py   (or `make bench`)
Builds a store with every Kent, Essex and Sussex street file in ../shared/data (or reuses
HARMSCOPE_BENCH_DB if set), then times, in the same run:

* the bare query: ``GROUP BY lad_code, month, crime_type`` over Kent's street rows for all the
  shared months (the scan every harm section needs at least once);
* building every report section (HTML and its inlined JS excluded);
* rendering the HTML, and writing the file;
* printing it to PDF through headless Chromium, when /usr/bin/chromium is there.

It prints seconds and the ratios to the bare query (best of REPEATS runs each). No timing is
asserted anywhere.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import street_store, timed

from harmscope.report.render import build_report, make_context, render_html

REPEATS = 3
AREA = "Kent Police"


def main() -> None:
    store = street_store()
    span = store.query(
        "SELECT strftime(min(month), '%Y-%m') AS a, strftime(max(month), '%Y-%m') AS b, count(*) AS n "
        "FROM street_crimes WHERE falls_within = ?",
        [AREA],
    )
    first, last, rows = span.a[0], span.b[0], int(span.n[0])
    print(f"{AREA}, {first} to {last}: {rows:,} street rows")

    def bare():
        return store.query(
            "SELECT lad_code, month, crime_type, count(*) AS n FROM street_crimes "
            "WHERE falls_within = ? AND month BETWEEN ? AND ? GROUP BY ALL",
            [AREA, f"{first}-01", f"{last}-01"],
        )

    t_bare, cube = timed(bare, REPEATS)

    def build():
        ctx = make_context(store, AREA, first, last)
        return build_report(ctx)

    t_build, report = timed(build, REPEATS)
    t_render, html = timed(lambda: render_html(report), REPEATS)
    out = Path(tempfile.mkdtemp()) / "kent.html"
    t_write, _ = timed(lambda: out.write_text(html, encoding="utf-8"), REPEATS)

    print(f"bare aggregation query ({len(cube):,} cells): {t_bare:.3f} s")
    print(f"build all sections: {t_build:.2f} s  (ratio {t_build / t_bare:,.0f}x the bare query)")
    for b in report.sections:
        status = "error: " + b.error if b.error else ("skipped" if b.section is None else "ok")
        print(f"    {b.name:<24} {b.seconds:6.2f} s  {status}")
    print(
        f"render HTML ({len(html) / 1e6:.1f} MB): {t_render:.2f} s  (ratio {t_render / t_bare:,.0f}x)"
    )
    print(f"write file: {t_write:.3f} s")
    total = t_build + t_render + t_write
    print(f"report total: {total:.2f} s  (ratio {total / t_bare:,.0f}x the bare query)")

    if Path("/usr/bin/chromium").exists():
        from harmscope.report.pdf import html_to_pdf

        print_html = out.with_suffix(".print.html")
        print_html.write_text(render_html(report, for_print=True), encoding="utf-8")
        t_pdf, pdf = timed(lambda: html_to_pdf(print_html, out.with_suffix(".pdf")), repeat=1)
        print(
            f"PDF through Chromium ({pdf.stat().st_size / 1e6:.1f} MB): {t_pdf:.2f} s "
            f"(ratio {t_pdf / t_bare:,.0f}x)"
        )
    else:
        print("PDF: skipped (/usr/bin/chromium absent; run scripts/install-chromium.sh)")


if __name__ == "__main__":
    main()
