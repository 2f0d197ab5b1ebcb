"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import typer

from harmscope.errors import HarmscopeError

DbOption = typer.Option(
    None, "--db", help="Store file (default: HARMSCOPE_DB or ./harmscope.duckdb)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bars or chatter on stderr.")

# -- options several commands share (one definition, one help text) -------------------------
AREA_HELP = (
    "Force (Kent Police), county (Kent), district name or GSS code, several districts "
    '("Dartford,Gravesham") or a named CSP ("Safer Maidstone Partnership"). Required when the '
    "store holds several forces."
)
AudienceOption = typer.Option(
    "internal", "--audience", help="internal | partner | public (public suppresses small counts)."
)
ThresholdOption = typer.Option(
    5, "--threshold", help="Smallest count shown to a public audience (smaller ones suppressed)."
)
FromOption = typer.Option(None, "--from", help="First month, YYYY-MM (default: first held).")
ToOption = typer.Option(None, "--to", help="Last month, YYYY-MM (default: last held).")
CategoryOption = typer.Option(
    None, "--category", help="police.uk category (repeat for several); default all."
)
# Old spellings, hidden, kept for one release (docs/DEVELOPING.md, "CLI vocabulary").
OldCrimeTypeOption = typer.Option(None, "--crime-type", hidden=True, help="Old name of --category.")
OldWeightOption = typer.Option(None, "--weight", hidden=True, help="Old name of --weights.")
OldSchemeOption = typer.Option(None, "--scheme", hidden=True, help="Old name of --weights.")
KeyFileOption = typer.Option(
    None, "--key-file", help="File holding the pseudonymisation key (else HARMSCOPE_KEY)."
)
TABLE_OUT_HELP = (
    "the format comes from the extension: .csv, .xlsx (with a README sheet) or .parquet."
)


def area_option(help: str = AREA_HELP):
    """``--area`` with the command's own help (what an area may be differs by command)."""
    return typer.Option(None, "--area", help=help)


def out_option(what: str, *, formats: str = TABLE_OUT_HELP):
    """``--out FILE``: ``what`` is written; the help names the formats it takes."""
    return typer.Option(None, "--out", help=f"{what}; {formats}")


def weights_option(default_help: str, *, none: bool = False):
    """``--weights``: a packaged harm scheme (css | chi[ | none]) or a CSV of category weights."""
    kinds = "css | chi | none" if none else "css | chi"
    return typer.Option(
        None,
        "--weights",
        help=f"Harm weights: {kinds} (css: ONS Crime Severity Score, chi: Cambridge Crime Harm "
        f"Index){'' if none else ', or a CSV of category weights (columns category,weight[,source,status,derivation])'}; "
        f"default {default_help}.",
    )


def _given(value) -> bool:
    return value is not None and value != [] and value != ()


def renamed(value, old_value, *, new: str, old: str, default=None, quiet: bool = False):
    """The value of an option given by its name or by its hidden old name (one release).

    Both at once is an error; the old name alone works and says so on stderr (never stdout,
    so --json stays clean; nothing with --quiet or --json)."""
    if not _given(old_value):
        return value if _given(value) else default
    if _given(value):
        raise HarmscopeError(
            f"{old} is the old name of {new}; both were given",
            where=old,
            fix=f"give only {new}",
        )
    if not quiet:
        sys.stderr.write(f"Note: {old} is now {new}; {old} will be removed in a later release.\n")
    return old_value


def harm_weights(
    weights: str | None,
    old: str | None,
    *,
    old_name: str,
    default: str = "css",
    choices: tuple[str, ...] = ("css", "chi"),
    files: bool = False,
    quiet: bool = False,
) -> tuple[str, str | None]:
    """``--weights`` (or its hidden old name) as the library's pair (scheme, weights file):
    a packaged scheme in ``choices``, or (where ``files``) the path of a CSV of category
    weights, the scheme then staying ``default``."""
    if files and _given(old) and _given(weights) and weights not in choices:
        return old, weights  # the old pair `--scheme S --weights FILE`: the file wins, as before
    value = renamed(weights, old, new="--weights", old=old_name, default=default, quiet=quiet)
    if value in choices:
        return value, None
    if files and value == weights:
        return default, value
    raise HarmscopeError(
        f"unknown harm weights {value!r}",
        where="--weights" if value == weights else old_name,
        fix=f"use {' | '.join(choices)}" + (" or the path of a weights CSV" if files else ""),
    )


def require_area(
    store, area: str | None, *, where: str = "--area", quiet: bool = False
) -> str | None:
    """No silent area default: with no ``area``, a store holding several forces is refused
    (naming them), and a single-force store's force is announced on stderr. Returns the area
    given, else the one force held (None when the store holds no street crimes)."""
    from harmscope.analysis.harm.scope import area_or_only_force
    from harmscope.store.queries.catalog import forces_held

    resolved, note = area_or_only_force(area, lambda: forces_held(store), where=where)
    if note and not quiet:
        sys.stderr.write(
            f"Area: {resolved} (the only force the store holds; {where} narrows it).\n"
        )
    return resolved


def ingest_command(app: typer.Typer, ingest, *, file_help: str, help: str) -> None:
    """Add `<group> ingest FILE` to ``app``: a person-level file loaded the same way by every
    group that takes one (check the file, the store and the key file before any work, load
    in one store transaction, then print the load report: JSON, or its lines unless --quiet).
    ``ingest(store, path, key_file=)`` pseudonymises at the door, so no command handles a raw
    identifier; ``help`` is the command's help text (what a docstring would say)."""

    @app.command("ingest", help=help)
    def ingest_cmd(
        path: Path = typer.Argument(..., help=file_help),
        key_file: Path = KeyFileOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        from rich.console import Console

        from harmscope.commands import _validate as validate
        from harmscope.store import Store

        validate.input_file(path, "FILE")
        validate.store_path(db)
        if key_file is not None:
            validate.input_file(key_file, "--key-file")
        with Store.open(db) as store:
            report = ingest(store, path, key_file=key_file)
        if json_out:
            print_json(report.to_dict())
        elif not quiet:
            Console().print("\n".join(report.lines()), highlight=False)


def table(title: str | None, columns):
    """A rich Table with these column headers (the text views build many such tables)."""
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    return t


def print_notes(res, console) -> None:
    """A result's notes, then its method, as plain wrapped text."""
    for note in res.notes:
        console.print(f"Note: {note}", highlight=False, soft_wrap=True)
    console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)


def print_result(res, title: str, console) -> None:
    """A result's summary as a measure/value table, its small tables, then notes and method."""
    from rich.table import Table

    from harmscope.analysis.result import frame_records

    def cell(v) -> str:
        return f"{v:,.4g}" if isinstance(v, float) else str(v)

    t = Table(title=title)
    t.add_column("measure")
    t.add_column("value")
    for k, v in res.summary.items():
        t.add_row(k, ", ".join(cell(x) for x in v) if isinstance(v, list) else cell(v))
    console.print(t)
    for name, df in res.tables.items():
        if name in ("units", "geometry_bng") or len(df) > 30:
            continue
        bt = Table(title=name)
        for c in df.columns:
            bt.add_column(str(c))
        for rec in frame_records(df):
            bt.add_row(*[cell(v) for v in rec.values()])
        console.print(bt)
    print_notes(res, console)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(_plain(obj), indent=2, default=str) + "\n")


def _plain(obj: Any) -> Any:
    """``obj`` as plain JSON values. A pandas value (Timestamp, NA, NaT) can only be there if
    pandas is loaded: then the result contract's own conversion; else the same walk without
    pandas, so `status --json` never waits for it (issue 18)."""
    if "pandas" in sys.modules:
        from harmscope.analysis.result import _jsonable

        return _jsonable(obj)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # a numpy scalar
        try:
            obj = obj.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


class Stages:
    """Stages and a progress bar on stderr for a long command (issue 12); nothing with --quiet.

    Use as a context manager; call ``stages("label")`` as each stage starts, or hand it to a
    library function as its ``progress(label, done, total)`` callback. In a terminal a bar
    shows the stage, how many of how many and the time taken (and is cleared at the end); when
    stderr is a file or a pipe, each stage is one line instead, so logs read plainly. Always
    stderr, so stdout (a path, or --json) stays clean for scripts.
    """

    def __init__(self, title: str, *, quiet: bool = False) -> None:
        self.title = title
        self.quiet = quiet
        self._progress = None
        self._task = None
        self._last: str | None = None
        self._console = None

    def __enter__(self) -> Stages:
        if self.quiet:
            return self
        from rich.console import Console

        self._console = Console(stderr=True)
        if self._console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.title, total=None)
        return self

    def __call__(self, label: str, done: int | None = None, total: int | None = None) -> None:
        if self.quiet or self._console is None:
            return
        text = f"{self.title}: {label}"
        if self._progress is not None:
            self._progress.update(self._task, description=text, completed=done or 0, total=total)
        elif label != self._last:
            count = f" ({done + 1} of {total})" if done is not None and total else ""
            self._console.print(f"{text}{count}", highlight=False, soft_wrap=True)
        self._last = label

    def close(self) -> None:
        """Clear the bar before printing results (a live bar and stdout output would mix)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._console = None

    def __exit__(self, *exc) -> None:
        self.close()
