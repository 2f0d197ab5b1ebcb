"""`harmscope db backup|restore`: a consistent copy of the store, and putting one back.

A DuckDB store is copied whole (folded first, under its write lock); a PostgreSQL store is
dumped with pg_dump and restored with pg_restore in one transaction (store/backup.py).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json

db_app = typer.Typer(
    help="Back up the store to a file, or restore it from one (DuckDB or PostgreSQL).",
    no_args_is_help=True,
)


def _say(result, verb: str, json_out: bool) -> None:
    if json_out:
        print_json(result.to_dict())
        return
    Console().print(
        f"{verb} {result.store} {'to' if verb == 'Backed up' else 'from'} {result.file} "
        f"({result.kind}; {result.tables} tables, {result.rows:,} rows, {result.bytes:,} bytes)"
    )


@db_app.command("backup", help="Write a consistent backup of the store to FILE.")
def backup(
    file: Path = typer.Argument(..., help="The backup file to write (replaced if it exists)."),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    from harmscope.store.backup import backup as run

    validate.store_path(db)
    _say(run(db, file), "Backed up", json_out)


@db_app.command(
    "restore", help="Replace the store by the backup FILE (refuses a store holding data)."
)
def restore(
    file: Path = typer.Argument(..., help="A file written by `harmscope db backup`."),
    force: bool = typer.Option(False, "--force", help="Replace a store that already holds data."),
    db: str = DbOption,
    json_out: bool = JsonOption,
) -> None:
    from harmscope.store.backup import restore as run

    validate.store_path(db)
    _say(run(db, file, force=force), "Restored", json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
