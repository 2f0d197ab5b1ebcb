"""`harmscope ingest PATH...`: load police open data files, folders and zip archives."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        paths: list[Path] = typer.Argument(
            ..., help="CSV, .csv.gz, folders (YYYY-MM/ layout) or .zip archives."
        ),
        force: str = typer.Option(
            None,
            "--force",
            help="Force for stop-and-search files whose name lacks it: a police.uk force name "
            "('Kent Police') or slug ('kent').",
        ),
        allow_shrink: bool = typer.Option(
            False,
            "--allow-shrink",
            help="Let a file replace a month with fewer rows than the month has ever held "
            "(police.uk withdrew records). Without it such a file is refused. Recorded.",
        ),
        force_reload: bool = typer.Option(
            False,
            "--force-reload",
            help="Load files again even if their bytes were ingested before (restores a month "
            "a later file replaced; this happens by itself when the store no longer holds them).",
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Load police open data (street, outcomes, stop and search). Nothing is lost:
        rows read = loaded + duplicate + rejected, per file. Exits 1 if a file failed or
        had every row rejected."""
        from harmscope.sources.ingest import canonical_force, ingest_paths
        from harmscope.store import Store

        err = Console(stderr=True)
        if force is not None:  # checked before the store is opened (or created)
            force = canonical_force(force)
        with Store.open(db) as store:
            report = ingest_paths(
                store,
                paths,
                force=force,
                quiet=quiet or json_out,
                allow_shrink=allow_shrink,
                force_reload=force_reload,
            )
        if json_out:
            print_json(report.to_dict())
        else:
            if not quiet:
                for f in report.files:
                    for w in f.warnings:
                        err.print(f"[yellow]Warning:[/] {f.file}: {w}", highlight=False)
            _print_summary(report)
        for f in [*report.failed, *report.rejected]:
            if report.fatal is None or f.error != str(report.fatal):
                err.print(f"[bold red]Error:[/] {f.error}", highlight=False, soft_wrap=True)
        if report.fatal is not None:  # the store failed (disk full, damaged): stop, exit 2
            err.print(f"[bold red]Error:[/] {report.fatal}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        if report.failed or report.rejected:
            raise typer.Exit(1)


_MONTH_PREFIX = re.compile(r"^\d{4}-\d{2}[-_]")
_EXTENSIONS = (".csv.gz", ".csv", ".gz", ".zip")
_KIND_SUFFIXES = ("-stop-and-search", "-street", "-outcomes")  # police.uk file names


def short_file_names(files: list[str]) -> list[str]:
    """The part of each file name that tells the files apart, for an 80-column table.

    police.uk names all start with the month (shown in its own column) and end in .csv or
    .csv.gz, so at 80 columns "2025-01-kent-street.csv.gz" and "2025-01-essex-street.csv.gz"
    were both cut to "2025-0…". Drop the month and the extension; where two names are still
    alike (the same name in two folders), put the folder back in front.
    """
    out = []
    for f in files:
        name = Path(f).name
        low = name.lower()
        for ext in _EXTENSIONS:
            if low.endswith(ext) and len(name) > len(ext):
                name = name[: -len(ext)]
                break
        month = _MONTH_PREFIX.match(name)
        short = _MONTH_PREFIX.sub("", name)
        # the kind has its own column too: "2025-01-kent-street" is Kent's file for that month
        for kind in _KIND_SUFFIXES:
            if short.lower().endswith(kind) and len(short) > len(kind):
                short = short[: -len(kind)]
                break
        out.append(((month.group(0) if month else ""), short or name))
    seen: dict[tuple[str, str], int] = {}
    for key in out:
        seen[key] = seen.get(key, 0) + 1
    return [
        f"{Path(f).parent.name}/{key[1]}" if seen[key] > 1 and Path(f).parent.name else key[1]
        for f, key in zip(files, out, strict=True)
    ]


def _months(months: list[str]) -> str:
    # "to" (not "..") so rich can wrap the range at a space in a narrow terminal
    return f"{months[0]} to {months[-1]}" if len(months) > 1 else ", ".join(months)


def _print_summary(report) -> None:
    console = Console()
    # fits 80 columns: no borders; numbers and status stay whole, the name, kind and month
    # range wrap (or fold) rather than end in "…", so every row stays readable
    table = Table(title="Ingest", box=None, pad_edge=False, header_style="bold")
    numbers = ("read", "loaded", "duplicate", "rejected")
    for col in ("file", "kind", "months", *numbers, "status"):
        table.add_column(
            col,
            justify="right" if col in numbers else "left",
            overflow="fold",
            no_wrap=col in numbers or col == "status",
        )
    names = short_file_names([f.file for f in report.files])
    for f, name in zip(report.files, names, strict=True):
        table.add_row(
            name,
            (f.kind or "-").replace("_", " ").replace("-", " "),
            _months(f.months),
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_duplicate:,}",
            f"{f.rows_rejected:,}",
            f.status,
        )
    table.add_row(
        "total",
        "",
        "",
        f"{report.rows_read:,}",
        f"{report.rows_loaded:,}",
        f"{report.rows_duplicate:,}",
        f"{report.rows_rejected:,}",
        "",
        style="bold",
    )
    console.print(table)
