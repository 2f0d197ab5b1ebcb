"""`harmscope report`: the harm-weighted problem profile as one offline HTML (or PDF) file."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    OldSchemeOption,
    QuietOption,
    Stages,
    harm_weights,
    print_json,
)
from harmscope.errors import HarmscopeError


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        area: str = typer.Option(
            ...,
            "--area",
            help="A force (Kent Police), county (Kent), district (Maidstone, E07000110) or "
            'several districts as one area ("Dartford,Gravesham").',
        ),
        date_from: str = typer.Option(..., "--from", help="First month, YYYY-MM."),
        date_to: str = typer.Option(..., "--to", help="Last month, YYYY-MM."),
        out: Path = typer.Option(
            ...,
            "--out",
            help="Output file; its extension picks the format: .html (read and share), .pdf "
            "(A4, to print) or .xlsx (every published table as an Excel sheet).",
        ),
        fmt: str = typer.Option(
            None, "--format", help="html, pdf or xlsx (default: from --out's extension)."
        ),
        audience: str = typer.Option(
            "internal",
            "--audience",
            help="internal | partner | public (public applies disclosure control).",
        ),
        threshold: int = typer.Option(
            5,
            "--threshold",
            help="Public audience: suppress counts below this (default 5; ONS research outputs use 10).",
        ),
        weights: str = typer.Option(
            None,
            "--weights",
            help="Harm weights: css (ONS Crime Severity Score, the default), chi (Cambridge "
            "Crime Harm Index) or a CSV of category weights to use instead of the packaged table.",
        ),
        only: str = typer.Option(
            None,
            "--sections",
            help="Comma-separated section modules to include (default: all), e.g. coverage,profile_trend.",
        ),
        cell_size: float = typer.Option(
            None,
            "--cell-size",
            help="Hotspot grid cell size in metres (default: about 150-250 m for one district, "
            "sfhotspot's 1/50 rule for a larger area; the report states the rule it used).",
        ),
        basemap: str = typer.Option(
            None,
            "--basemap",
            help="Tile URL template for a basemap under the maps, e.g. your organisation's "
            "server (https://tiles.example.org/{z}/{x}/{y}.png). Off by default: the report "
            "then fetches nothing; with it, the maps fetch tiles when opened (the report says so).",
        ),
        budget: float = typer.Option(
            None,
            "--budget",
            help="A budget in pounds to split between the area's community safety "
            "partnerships by the needs formula (the funding allocation section; "
            "`harmscope allocate` gives the options). Without it that section does not apply.",
        ),
        allow_partial: bool = typer.Option(
            False,
            "--allow-partial",
            help="Internal audience only: write a draft even when a section could not be "
            "built (its box says why) and exit 0. Without it a failed section writes nothing "
            "and exits non-zero; a section that does not apply to the area says so either way.",
        ),
        scheme_old: str = OldSchemeOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Write the problem-profile report for AREA from --from to --to."""
        from harmscope.report.render import output_format, write_report
        from harmscope.store import Store
        from harmscope.store.queries.catalog import table_rows

        validate.store_path(db)
        validate.area(area)
        validate.output_file(out, "--out", example="report.html")
        chosen = output_format(out, fmt)  # before any work: an unknown extension is refused
        scheme, weights_file = harm_weights(
            weights, scheme_old, old_name="--scheme", files=True, quiet=quiet or json_out
        )
        options = _options(scheme, weights_file, cell_size, basemap)
        if budget is not None:
            validate.finite(budget, "--budget", gt=0, fix="pass pounds, e.g. --budget 1000000")
            options["allocation_budget"] = budget
        sections = _sections(only)
        # A report that shows ED figures (or the networks section's person-level figures) must
        # write its audit row, so it needs a writable store; one without them is only read.
        with Store.open(db, read_only=True) as probe:
            audited = table_rows(probe, "ed_assaults") > 0 or table_rows(probe, "links") > 0
        with (
            Store.open(db, read_only=not audited) as store,
            Stages("report", quiet=quiet or json_out) as stages,
        ):
            path, rep = write_report(
                store,
                area,
                date_from,
                date_to,
                out,
                fmt=chosen,
                audience=audience,
                threshold=threshold,
                options=options,
                only=sections,
                progress=stages,
                # a broken part is an error, not a box: write_report writes nothing and raises
                # (naming the sections) unless an internal draft is asked for
                allow_partial=allow_partial,
            )
        _print_summary(path, chosen, audience, rep, json_out, quiet)


def _options(scheme: str, weights: str | None, cell_size, basemap) -> dict:
    """The report's options from the command line (checked before any work)."""
    options = {"scheme": scheme}
    if cell_size is not None:
        validate.finite(cell_size, "--cell-size", gt=0, fix="pass metres, e.g. --cell-size 200")
        options["cell_size"] = cell_size
    if basemap is not None:
        from harmscope.report.maps import check_basemap

        options["basemap"] = check_basemap(basemap)
    if weights is not None:
        validate.input_file(weights, "--weights")
        if not Path(weights).exists():
            raise HarmscopeError(
                "file not found", where=f"--weights {weights}", fix="give the path of a weights CSV"
            )
        options["weights"] = str(weights)
    return options


def _sections(only: str | None) -> list[str] | None:
    """--sections as a list of known section names (None: all)."""
    if not only:
        return None
    from harmscope.report.render import discover_sections

    known = [name for _, name, _ in discover_sections()]
    sections = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in known]
    if unknown:
        raise HarmscopeError(
            f"unknown section(s): {', '.join(unknown)}",
            where="--sections",
            fix=f"choose from: {', '.join(known)}",
        )
    return sections


def _print_summary(
    path: Path, chosen: str, audience: str, rep, json_out: bool, quiet: bool
) -> None:
    from harmscope.report.render import SKIPPED_REASON

    summary = {
        "path": str(path),
        "format": chosen,
        "audience": audience,
        "sections": [b.name for b in rep.sections if b.section is not None],
        "withheld": [b.name for b in rep.sections if b.withheld],
        # every section left out says why: no data for it here (the report's closing line
        # names them), or it does not apply to this area (the reason shown in its place)
        "skipped": {b.name: SKIPPED_REASON for b in rep.skipped},
        "not_applicable": {b.name: b.unavailable for b in rep.sections if b.unavailable},
        "errors": {b.name: b.error for b in rep.errors},
        "bytes": path.stat().st_size,
    }
    if json_out:
        print_json(summary)
        return
    for b in rep.errors:
        sys.stderr.write(f"Warning: section {b.name} failed: {b.error}\n")
    if not quiet:
        for name, why in summary["not_applicable"].items():
            sys.stderr.write(f"Section {name} does not apply: {why}.\n")
        if summary["skipped"]:
            sys.stderr.write(
                f"Not in this report ({SKIPPED_REASON}): {', '.join(summary['skipped'])}.\n"
            )
        sys.stderr.write(
            f"{len(summary['sections'])} sections, {path.stat().st_size / 1e6:.1f} MB\n"
        )
    print(path)


def demo(store, out_dir: Path) -> list[str]:
    """Write the report for the bundled sample (Kent, 2025-07..12) and return its path line."""
    from harmscope.report.render import write_report
    from harmscope.store.queries.catalog import street_span

    span = street_span(store)
    if span is None:
        return ["report: no street data in the demo store, no report written"]
    first, last, force = span
    path, rep = write_report(store, force, first, last, Path(out_dir) / "problem-profile.html")
    if rep.errors:
        raise HarmscopeError(
            "the demo report has sections that could not be built: "
            + "; ".join(f"{b.name} ({b.error})" for b in rep.errors),
            where=str(path),
            fix="this is a bug in harmscope: please report it with the error above",
        )
    return [f"report: {path} ({len([b for b in rep.sections if b.section])} sections)"]
