"""`harmscope schemes`: load, check and list the intervention register."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json, table
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.store import Store


def _areas_text(s: dict) -> str:
    """The scheme's areas in the words `evaluate` uses (a countywide one names its force)."""
    from harmscope.analysis.evaluation.run import describe

    return describe({**s["areas"], "force": s["force"]})


def _print(schemes: list[dict], title: str) -> None:
    t = table(
        title,
        ("name", "provider", "strand", "areas", "start", "end", "cost (GBP)", "outcome"),
    )
    for s in schemes:
        t.add_row(
            s["name"],
            s["provider"],
            s["strand"],
            _areas_text(s),
            f"{s['start']:%Y-%m}" if s["start"] else "unknown",
            f"{s['end']:%Y-%m}" if s["end"] else "",
            f"{s['cost_gbp']:,.0f}" if s["cost_gbp"] is not None else "unknown",
            ", ".join(s["crime_types"]) + (" + harm" if s["harm"] else ""),
        )
    Console().print(t)


def register(app: typer.Typer) -> None:
    @app.command(name="schemes")
    def schemes_cmd(
        path: Path = typer.Argument(
            None, help="Register file (.yaml or .csv) to validate and load."
        ),
        example: bool = typer.Option(
            False, "--example", help="Load the packaged Kent & Medway example register."
        ),
        check: bool = typer.Option(False, "--check", help="Only validate the file; store nothing."),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Intervention register: load a YAML/CSV register (or --example) into the store, --check one, or list the stored schemes."""
        from harmscope.sources.register import (
            example_register_path,
            load_schemes,
            read_register,
            store_register,
        )
        from harmscope.store import Store

        validate.store_path(db)
        validate.input_file(path, "PATH")
        if path is not None and example:
            raise HarmscopeError(
                "give a FILE or --example, not both", where="schemes", fix="drop one of them"
            )
        src = example_register_path() if example else path
        if src is None:
            with Store.open(db, read_only=True) as store:
                schemes = load_schemes(store)
            if json_out:
                print_json({"schemes": schemes})
            elif not schemes:
                Console().print(
                    "No schemes stored. Load a register: `harmscope schemes FILE` (or --example)."
                )
            else:
                _print(schemes, f"{len(schemes)} schemes in the store")
            return
        schemes = read_register(src)
        if check:
            if json_out:
                print_json({"valid": True, "file": str(src), "schemes": schemes})
            else:
                _print(schemes, f"{src}: {len(schemes)} valid schemes")
            return
        with Store.open(db) as store:
            n = store_register(store, schemes, src)
        if json_out:
            print_json({"loaded": n, "file": str(src), "schemes": [s["name"] for s in schemes]})
        elif not quiet:
            Console().print(f"Loaded {n} schemes from {src}.", highlight=False)


def demo(store: Store, out_dir: Path) -> list[str]:
    """Load the example register into the demo store."""
    from harmscope.sources.register import example_register_path, read_register, store_register

    schemes = read_register(example_register_path())
    n = store_register(store, schemes, example_register_path())
    return [f"schemes: loaded the example register ({n} schemes; dates unknown, none invented)"]
