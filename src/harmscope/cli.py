"""Command line: thin over the library. Each command module in harmscope.commands registers itself.

Errors print as ``Error: ...`` with no traceback and no local variables.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import duckdb
import typer
from rich.console import Console

import harmscope.commands as _commands
from harmscope import __version__
from harmscope.errors import HarmscopeError
from harmscope.store.store import StoreError, store_failure

app = typer.Typer(
    name="harmscope",
    help="Violence reduction analytics: ingest police open data, weigh harm, find hotspots, evaluate schemes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"harmscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """harmscope: see `harmscope COMMAND --help`."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"harmscope.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning HarmscopeError into a one-line message and exit 2."""
    try:
        rv = app(args=argv, standalone_mode=False)
        # Without standalone mode, typer.Exit(code) comes back as the return value.
        if isinstance(rv, int):
            return rv
    except StoreError as exc:
        return _store_error(exc, argv)
    except HarmscopeError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("Error: aborted.")
        return 1
    except KeyboardInterrupt:
        err_console.print(
            "Error: interrupted; the store is as it was before the file being loaded."
        )
        return 130
    except Exception as exc:  # click usage errors and anything unexpected: no traceback, no locals
        # Usage errors (typer's bundled click): they know how to show themselves.
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return int(exc.exit_code)
        if isinstance(exc, duckdb.Error):  # the store failed: say what to do, in one line
            args = sys.argv[1:] if argv is None else argv
            db = args[args.index("--db") + 1] if "--db" in args[:-1] else None
            mapped = store_failure(exc, db) or StoreError(
                f"the store reported an error ({_first_line(exc)})",
                where=db or "store",
                fix="run `harmscope status` to check the store; if it persists, report this "
                "with the command you ran",
            )
            return _store_error(mapped, argv)
        err_console.print(
            f"[bold red]Error:[/] unexpected {type(exc).__name__}: {exc}. "
            "Please report this with the command you ran.",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _store_error(exc: StoreError, argv: list[str] | None) -> int:
    """A store failure (disk full, damaged file): one ``Error:`` line on stderr, and with
    ``--json`` the same as ``{"error": ...}`` on stdout for scripts. Exit 2."""
    err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
    args = sys.argv[1:] if argv is None else argv
    if "--json" in args:
        from harmscope.commands._common import print_json

        error = {"message": str(exc), "problem": exc.problem, "where": exc.where, "fix": exc.fix}
        print_json({"error": error})
    return 2


if __name__ == "__main__":
    sys.exit(main())
