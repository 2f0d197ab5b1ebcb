"""`harmscope demo`: load the bundled real sample and run every analysis that has a demo hook."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import JsonOption, QuietOption, print_json
from harmscope.commands._demo_hooks import demo_hooks


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Path = typer.Option(
            Path("demo-output"), "--out", help="Folder for the demo's outputs."
        ),
        db: str = typer.Option(
            None, "--db", help="Store file (default: <out>/harmscope-demo.duckdb)."
        ),
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Load the bundled Kent sample into a demo store, then run each analysis on it."""
        from harmscope.sources.ingest import ingest_paths
        from harmscope.sources.sample import sample_dir
        from harmscope.store import Store
        from harmscope.store.queries.catalog import EXAMPLE_QUERY
        from harmscope.store.status import store_status

        validate.output_folder(out, "--out", create=True)
        validate.store_path(db)
        console = Console(stderr=json_out)
        out.mkdir(parents=True, exist_ok=True)
        db_path = Path(db) if db else out / "harmscope-demo.duckdb"
        made: dict[str, list[str]] = {}
        with Store.open(db_path) as store:
            report = ingest_paths(store, [sample_dir()], quiet=quiet or json_out)
            st = store_status(store)
            if not json_out:
                console.print(f"[bold]harmscope demo[/]: bundled real sample -> {db_path}")
                console.print(
                    f"Ingested {len(report.files)} files: {report.rows_read:,} rows read = "
                    f"{report.rows_loaded:,} loaded + {report.rows_duplicate:,} duplicate + "
                    f"{report.rows_rejected:,} rejected"
                )
                for c in st["coverage"]:
                    console.print(
                        f"  {c['kind']:<12} {c['force']:<14} {c['first_month']}..{c['last_month']} "
                        f"{c['rows']:>8,} rows, missing months: {', '.join(c['missing_months']) or 'none'}",
                        highlight=False,
                    )
                for p in st["street_placement"]:
                    console.print(
                        f"  placement ({p['force']}): {p['unplaced']:,} of {p['rows']:,} street rows not placed "
                        f"in a 2011 LSOA ({p['no_location']:,} have no location); {p['out_of_area']:,} out of area",
                        highlight=False,
                    )
            for name, hook in demo_hooks():
                lines = hook(store, out) or []
                made[name] = [str(x) for x in lines]
                if not json_out:
                    for line in lines:
                        console.print(f"  [{name}] {line}", highlight=False)
        if json_out:
            print_json(
                {
                    "db": str(db_path),
                    "ingest": report.to_dict() | {"files": len(report.files)},
                    "status": st,
                    "outputs": made,
                }
            )
            return
        console.print(
            "\nNext: `harmscope status --db " + str(db_path) + "`, "
            f'`harmscope sql "{EXAMPLE_QUERY}" --db ' + str(db_path) + "`, or `harmscope --help`.",
            highlight=False,
        )
