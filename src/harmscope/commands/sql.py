"""`harmscope sql "SELECT ..."`: read-only queries against the store."""

from __future__ import annotations

import csv
import re
import sys

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands._common import DbOption, JsonOption, print_json
from harmscope.errors import HarmscopeError
from harmscope.store import Store

# Tables holding health (ED) records: reading them is an export that must be audited.
_ED_TABLES = re.compile(r"\b(ed_assaults|police_victims)\b", re.IGNORECASE)


def register(app: typer.Typer) -> None:
    @app.command()
    def sql(
        query: str = typer.Argument(
            ..., help="One read-only SQL query (SELECT/WITH/DESCRIBE/SUMMARIZE)."
        ),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
        audience: str = typer.Option(
            "internal", "--audience", help="Who the output is for; ED tables are internal only."
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Run a read-only query; the store cannot be changed from here.

        Queries that read ED (hospital) tables are allowed for the internal audience only,
        and each one is written to the audit log."""
        if json_out:
            fmt = "json"
        if fmt not in ("table", "csv", "json"):
            raise HarmscopeError(
                f"unknown format '{fmt}'", where="--format", fix="use table, csv or json"
            )
        touches_ed = bool(_ED_TABLES.search(query))
        if touches_ed and audience != "internal":
            raise HarmscopeError(
                f"ED tables cannot be queried row by row for the '{audience}' audience",
                where="sql",
                fix="use `harmscope ed export --audience ...`, which applies disclosure control",
            )
        with Store.open(db, read_only=not touches_ed) as store:
            cols, rows = store.read_only_query(query)
            if touches_ed:
                from harmscope.privacy import audit

                with store.transaction():
                    audit.record(
                        store,
                        action="sql",
                        what="ad hoc SQL over ED tables",
                        query=query,
                        audience=audience,
                        rows=len(rows),
                        output="stdout",
                    )
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
