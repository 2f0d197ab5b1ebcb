"""Command line: thin over the library, and quick to start.

Errors print as ``Error: ...`` with no traceback and no local variables.

`harmscope --help` must not wait for pandas, scipy, statsmodels or DuckDB (issue 11: within
3x of `python -c "import typer"`, measured by benchmarks/bench_cli.py). So the root group
knows its commands from ``COMMANDS``, a static table, and imports a command's module only when
that command is asked for (click's lazy-loading group pattern). The table is checked against
what the modules register by tests/test_cli_startup.py, whose failure names the line to add.
Nothing here may import DuckDB or pandas at module level.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator, MutableMapping

import typer
import typer.main
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from harmscope import __version__
from harmscope.errors import HarmscopeError

# Command name -> (module(s) in harmscope.commands, the first paragraph of its help, or None
# for a hidden command). The first module's register(app) adds the command; any further
# modules add subcommands to its group (e.g. `simulate crimes` comes from commands/crimes.py)
# and are imported first. Order is the order of `harmscope --help`: commands, then groups.
COMMANDS: dict[str, tuple[str | tuple[str, ...], str | None]] = {
    "alerts": ("alerts", "Early warning: Farrington-style exceedances and CUSUM per area x category x month, ranked by harm."),
    "allocate": ("allocate", "Split a budget between Community Safety Partnerships by a needs formula (harm, population,\nyoung people, deprivation, rurality) with floors, damping and sensitivity ranges."),
    "demo": ("demo", "Load the bundled Kent sample into a demo store, then run each analysis on it."),
    "drivers": ("drivers", "Officer numbers (or any covariate) and violence across areas and years: two-way fixed\neffects with area-clustered intervals, first differences, lags, placebo outcome and\nplacebo timing, and the smallest association the panel could detect. Never proof of cause."),
    "evaluate": ("evaluate", "Evaluate a scheme (DiD, synthetic control, ITS), its power before funding, or placebo false-positive rates."),
    "evidence": ("evidence", "A scheme's local estimate read beside the Youth Endowment Fund or College of Policing\ntoolkit: the local estimate, the published prior and their combination (Bayesian\nshrinkage), with 95% intervals and the probability of a reduction."),
    "harm": ("harm", "Harm-weighted counts and rates per 1,000 residents by area, month and category."),
    "knox": ("hotspots", "Near repeats (Knox test) in dated, located records, with a Monte Carlo p."),
    "hotspots": ("hotspots", "Where harm concentrates: Gi* hotspots (or KDE, emerging patterns, accuracy) on a BNG grid or LSOAs."),
    "ingest": ("ingest", "Load police open data (street, outcomes, stop and search). Nothing is lost:\nrows read = loaded + duplicate + rejected, per file. Exits 1 if a file failed or\nhad every row rejected."),
    "networks": ("networks", "County-lines networks from the store's links: communities matched to deal lines, brokers,\nyoung people at risk, cuckooing, routes, change over time; published for the audience."),
    "outcomes": ("outcomes", "Hospital admissions for knife assault, knife-enabled serious violence and homicide\n(all ages and under 25): value, 95% interval, trend per year, proxies named."),
    "people": ("people", "Offence-level harm, the power few, repeat victims, overlap, RFG, young people, timing,\nknife-enabled violence: one profile, published for the audience."),
    "report": ("report", "Write the problem-profile report for AREA from --from to --to."),
    "schemes": ("schemes", "Intervention register: load a YAML/CSV register (or --example) into the store, --check one, or list the stored schemes."),
    "serve": ("serve", "Serve the web workspace: dashboard, pages and REST API for each role, audited."),
    "sql": ("sql", "Run one SELECT over the store's tables; nothing else runs."),
    "status": ("status", "What the store holds and what is missing."),
    "stopsearch": ("stopsearch", "Stop and search: arrest, NFA and find rates with intervals; fairness; targeting."),
    "value": ("value", "Value for money of an evaluated scheme: crimes, harm and pounds averted, cost per crime averted, benefit-cost ratio and break-even, with intervals."),
    "covariates": ("covariates", "Area x period series (officer FTE, spend...) for `harmscope drivers`."),
    "crimes": ("crimes", "Force recorded-crime extracts (person-level; pseudonymised at the door)."),
    "db": ("db", "Back up the store to a file, or restore it from one (DuckDB or PostgreSQL)."),
    "ed": ("ed", "ED assault data (ISTV): ingest, true picture, export."),
    "links": ("links", "County-lines network links: ingest a links file (pseudonymised at the door), derive co-offending links from the crime extract."),
    "simulate": (("simulate", "crimes"), "Synthetic data with known ground truth (always labelled synthetic)."),
    "users": ("users", "Web workspace accounts: add, list, disable; verify the web audit trail."),
}

err_console = Console(stderr=True)


def _modules(name: str) -> tuple[str, ...]:
    modules = COMMANDS[name][0]
    return (modules,) if isinstance(modules, str) else modules


def _scratch_root() -> None:
    """A throwaway callback: it makes a scratch Typer a group even with one command."""


def load_command(name: str):
    """The click command ``name`` as its module registers it, on a throwaway Typer (so the
    module's other commands come along unused). None if the module no longer registers it."""
    owner, *others = _modules(name)
    # Imported in name order, as build_app(lazy=False) does: subcommands then keep its order.
    for module in sorted([owner, *others]):
        importlib.import_module(f"harmscope.commands.{module}")
    scratch = typer.Typer()
    scratch.callback()(_scratch_root)
    importlib.import_module(f"harmscope.commands.{owner}").register(scratch)
    return typer.main.get_command(scratch).commands.get(name)


class _LazyCommands(MutableMapping):
    """The root group's ``commands``: names from ``COMMANDS``, each loaded on first use, so
    click's own lookups (``get_command``, "Did you mean ...?") work unchanged."""

    def __init__(self, given: dict | None = None) -> None:
        self._loaded = dict(given or {})

    def __getitem__(self, name: str):
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            command = load_command(name)
            if command is None:
                raise KeyError(name)
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self._loaded if n not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))


class LazyGroup(TyperGroup):
    """The root group. Running a command imports only that command's module(s); the help
    screen lists every command from the table without importing any of them."""

    def __init__(self, *, commands=None, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(commands)
        self._listing = False

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx, cmd_name: str):
        if self._listing and cmd_name in COMMANDS and cmd_name not in self.commands._loaded:
            help_text = COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=help_text, hidden=help_text is None)
        return self.commands.get(cmd_name)

    def format_help(self, ctx, formatter) -> None:
        self._listing = True  # a listing: one line of help per command, from the table
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _version(value: bool) -> None:
    if value:
        print(f"harmscope {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """harmscope: see `harmscope COMMAND --help`."""


def build_app(lazy: bool = True) -> typer.Typer:
    """The root app. ``lazy=False`` registers every command module up front, the way the
    table is checked (and the way start-up worked before issue 11)."""
    root = typer.Typer(
        name="harmscope",
        help="Violence reduction analytics: ingest police open data, weigh harm, find hotspots, "
        "evaluate schemes.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        cls=LazyGroup if lazy else TyperGroup,
    )
    root.callback()(_root)
    if not lazy:
        import pkgutil

        import harmscope.commands as package

        names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
        modules = [importlib.import_module(f"harmscope.commands.{n}") for n in names]
        for module in modules:  # all imported first: a module may add to another's group
            register = getattr(module, "register", None)
            if register is not None:
                register(root)
    return root


app = build_app()


def help_line(command) -> str | None:
    """What the help screen shows for a command: the first paragraph of its help (None if
    hidden). The table holds exactly this."""
    if command.hidden:
        return None
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0].strip()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning HarmscopeError into a one-line message and exit 2."""
    try:
        rv = app(args=argv, standalone_mode=False)
        # Without standalone mode, typer.Exit(code) comes back as the return value.
        if isinstance(rv, int):
            return rv
    except HarmscopeError as exc:
        from harmscope.store.store import StoreError

        if isinstance(exc, StoreError):
            return _store_error(exc, argv)
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
        # DuckDB is loaded only by the commands that use a store; if it is not loaded, the
        # error cannot be DuckDB's.
        duckdb = sys.modules.get("duckdb")
        if duckdb is not None and isinstance(exc, duckdb.Error):  # the store failed: one line
            from harmscope.store.store import StoreError, store_failure

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


def _store_error(exc, argv: list[str] | None) -> int:
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
