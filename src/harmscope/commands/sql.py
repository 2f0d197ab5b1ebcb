"""`harmscope sql "SELECT ..."`: one read-only query, run in the sandbox (store/sandbox.py)."""

from __future__ import annotations

import csv
import sys

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands._common import DbOption, JsonOption, print_json
from harmscope.errors import HarmscopeError


def register(app: typer.Typer) -> None:
    @app.command()
    def sql(
        query: str = typer.Argument(
            ..., help="One read-only SELECT (WITH, UNION, VALUES, DESCRIBE, SUMMARIZE are fine)."
        ),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
        audience: str = typer.Option(
            "internal",
            "--audience",
            help="Who the output is for; ED and person-level tables are internal only.",
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Run one SELECT over the store's tables; nothing else runs.

        The query is parsed by DuckDB and refused unless it is a single SELECT that reads
        allow-listed tables only, with no table functions and no file, setting or sequence
        functions. It runs on a read-only connection with external access off. ED and
        person-level tables are for the internal audience only, and each query that reads
        them is written to the audit log."""
        from harmscope.store import sandbox

        if json_out:
            fmt = "json"
        if fmt not in ("table", "csv", "json"):
            raise HarmscopeError(
                f"unknown format '{fmt}'", where="--format", fix="use table, csv or json"
            )
        result = sandbox.run_query(db, query, audience=audience)
        cols, rows = result.columns, result.rows
        # The one door out: an ad hoc result has no protection spec (nothing says which of its
        # columns are counts), so it leaves for the internal audience only.
        import pandas as pd

        from harmscope.privacy.publish import Publication

        pub = Publication.for_audience(audience, "sql")
        if pub.table("result", pd.DataFrame(rows, columns=cols)) is None:
            pub.finish()
            raise HarmscopeError(
                f"ad hoc SQL output is not published to the {pub.audience.name} audience: "
                "nothing says which of its columns are counts, so small numbers could not be "
                "suppressed",
                where="--audience",
                fix="use a command with --audience (harm, stopsearch, hotspots, report...), "
                "which applies disclosure control, or run the query for the internal audience",
            )
        pub.finish()
        if fmt == "json":
            print_json([dict(zip(cols, r, strict=True)) for r in rows])
        elif fmt == "csv":
            w = csv.writer(sys.stdout)
            w.writerow(cols)
            w.writerows(rows)
        else:
            t = Table()
            for c in cols:
                t.add_column(c)
            for r in rows:
                t.add_row(*["" if v is None else str(v) for v in r])
            Console().print(t)
