"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from harmscope.analysis.result import _jsonable

DbOption = typer.Option(
    None, "--db", help="Store file (default: HARMSCOPE_DB or ./harmscope.duckdb)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bars or chatter on stderr.")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(obj), indent=2, default=str) + "\n")
