"""`harmscope ingest PATH...`: load police open data files, folders and zip archives."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json
from harmscope.sources.ingest import canonical_force, ingest_paths
from harmscope.store import Store


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


def _print_summary(report) -> None:
    console = Console()
    table = Table(title="Ingest", show_lines=False)
    for col in ("file", "kind", "months", "read", "loaded", "duplicate", "rejected", "status"):
        table.add_column(
            col, justify="right" if col in ("read", "loaded", "duplicate", "rejected") else "left"
        )
    for f in report.files:
        months = f"{f.months[0]}..{f.months[-1]}" if len(f.months) > 1 else ",".join(f.months)
        table.add_row(
            Path(f.file).name,
            f.kind or "-",
            months,
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
