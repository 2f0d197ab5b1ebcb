"""`harmscope links ingest FILE` (network links, pseudonymised at the door) and
`harmscope links derive` (co-offending links from the crime extract)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    DbOption,
    JsonOption,
    ingest_command,
    print_json,
)

links_app = typer.Typer(
    help="County-lines network links: ingest a links file (pseudonymised at the door), derive "
    "co-offending links from the crime extract.",
    no_args_is_help=True,
)


def _ingest_links(store, path: Path, *, key_file: Path | None):
    from harmscope.sources.links import ingest_links  # imported on use: startup stays light

    return ingest_links(store, path, key_file=key_file)


ingest_command(
    links_app,
    _ingest_links,
    file_help="links.csv (format: docs/links.md).",
    help="Validate, pseudonymise and load one links file (one transaction; rows conserved), "
    "then derive co-offending links from any crime extract in the store.",
)


@links_app.command("derive")
def derive_cmd(db: str = DbOption, json_out: bool = JsonOption) -> None:
    """Rebuild the co-offending links derived from shared crime references (run after loading
    a crime extract; `links ingest` runs it too)."""
    from harmscope.sources.links import derive_links
    from harmscope.store import Store

    validate.store_path(db)
    with Store.open(db) as store:
        out = derive_links(store)
    if json_out:
        print_json({"derived_co_offending_links": out["links"], **out})
        return
    Console().print(
        f"co-offending links derived from the crime extract: {out['links']:,}; people flagged "
        f"for a drug supply offence from it: {out['supply_flagged']:,}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(links_app, name="links")
