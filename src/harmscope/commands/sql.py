"""`harmscope sql "SELECT ..."`: read-only queries against the store."""

from __future__ import annotations

import csv
import sys

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands._common import DbOption, JsonOption, print_json
from harmscope.errors import HarmscopeError
from harmscope.store import Store


def register(app: typer.Typer) -> None:
    @app.command()
    def sql(
        query: str = typer.Argument(
            ..., help="One read-only SQL query (SELECT/WITH/DESCRIBE/SUMMARIZE)."
        ),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
        db: str = DbOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Run a read-only query; the store cannot be changed from here."""
        if json_out:
            fmt = "json"
        if fmt not in ("table", "csv", "json"):
            raise HarmscopeError(
                f"unknown format '{fmt}'", where="--format", fix="use table, csv or json"
            )
        with Store.open(db, read_only=True) as store:
            cols, rows = store.read_only_query(query)
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
