"""The CLI starts without loading the command modules, and its command table is true.

`harmscope --help` lists commands from ``cli.COMMANDS`` (a static table) so that it need not
import pandas, scipy, statsmodels or DuckDB (issue 11). The table is a copy of what the
command modules register, so it can drift: these tests register every module the old way
(``build_app(lazy=False)``) and compare, naming the exact line to add, change or remove.

Issue 18 (`--help` and `status` under 0.5 s): no help screen, the root's or any command's,
imports a heavy library, and `status` on a real store imports DuckDB and nothing else heavy.
Each is read from a fresh interpreter (``-X importtime`` or ``sys.modules``), and
``test_the_import_check_can_fail`` shows the reading sees a heavy import when there is one.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import typer
import typer.main
from typer.testing import CliRunner

import harmscope.commands as package
from harmscope import cli

# Libraries that take a noticeable share of a second to import (issue 18: `--help` and `status`
# under 0.5 s). None may load for a help screen; `status` may load DuckDB, nothing else here.
HEAVY = (
    "pandas", "numpy", "duckdb", "scipy", "statsmodels", "altair", "igraph", "leidenalg",
    "shapely", "pyproj", "geopandas", "libpysal", "esda", "sklearn", "openpyxl", "psycopg",
    "fastapi", "uvicorn",
)


def _command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def _callback_modules(command, found: set[str]) -> set[str]:
    callback = getattr(command, "callback", None)
    if callback is not None:
        found.add(callback.__module__)
    for sub in getattr(command, "commands", {}).values():
        _callback_modules(sub, found)
    return found


def registered() -> list[tuple[str, str | tuple[str, ...], str | None]]:
    """(name, module(s), help line) for every top-level command, in help-screen order, as
    the modules register them. The first module is the one whose register() adds the command;
    the others define subcommands inside it (they must be imported first)."""
    eager = typer.main.get_command(cli.build_app(lazy=False))
    owner: dict[str, str] = {}
    for name in _command_modules():
        register = getattr(importlib.import_module(f"harmscope.commands.{name}"), "register", None)
        if register is None:
            continue
        scratch = typer.Typer()
        scratch.callback()(cli._scratch_root)
        register(scratch)
        for command in typer.main.get_command(scratch).commands:
            owner[command] = name
    out = []
    for name, command in eager.commands.items():
        others = sorted(
            leaf
            for m in _callback_modules(command, set())
            if m.startswith("harmscope.commands.")
            and (leaf := m.rsplit(".", 1)[1]) != owner[name]
            and not leaf.startswith("_")
        )
        modules = owner[name] if not others else (owner[name], *others)
        out.append((name, modules, cli.help_line(command)))
    return out


def table_line(name: str, modules: str | tuple[str, ...], help_line: str | None) -> str:
    """The line of cli.COMMANDS for a command, as Python source."""
    mods = json.dumps(modules) if isinstance(modules, str) else (
        "(" + ", ".join(json.dumps(m) for m in modules) + ")"
    )
    text = "None" if help_line is None else json.dumps(help_line, ensure_ascii=False)
    return f"    {json.dumps(name)}: ({mods}, {text}),"


def drift(table: dict, found: list[tuple]) -> list[str]:
    """What to do to ``table`` so that it matches ``found``, one instruction a line."""
    out = []
    names = [n for n, *_ in found]
    for i, (name, modules, help_line) in enumerate(found):
        line = table_line(name, modules, help_line)
        if name not in table:
            where = f'after the "{names[i - 1]}" line' if i else "as the first line"
            out.append(f"add {where}:\n{line}")
        elif table_line(name, *table[name]) != line:
            out.append(f"replace\n{table_line(name, *table[name])}\nwith\n{line}")
    for name in table:
        if name not in names:
            out.append(f"remove (no module registers {name!r}):\n{table_line(name, *table[name])}")
    if not out and list(table) != names:
        out.append("reorder the lines as the help screen lists them: " + ", ".join(names))
    return out


def test_command_table_matches_what_the_modules_register():
    problems = drift(cli.COMMANDS, registered())
    assert not problems, (
        "cli.COMMANDS in src/harmscope/cli.py has drifted from the command modules:\n\n"
        + "\n\n".join(problems)
    )


def test_drift_names_the_line_to_add():
    found = [("alerts", "alerts", "Early warning."), ("links", "links", 'Lines "a".\nb')]
    problems = drift({"alerts": ("alerts", "Early warning.")}, found)
    assert problems == ['add after the "alerts" line:\n    "links": ("links", "Lines \\"a\\".\\nb"),']
    # The suggested line is valid Python that gives back the same entry.
    entry = eval("{" + problems[0].split("\n", 1)[1] + "}")  # noqa: S307
    assert entry == {"links": ("links", 'Lines "a".\nb')}
    assert drift({"alerts": ("alerts", "Old.")}, found[:1])[0].startswith("replace")
    assert drift({"alerts": ("alerts", "Early warning."), "gone": ("x", None)}, found[:1]) == [
        'remove (no module registers \'gone\'):\n    "gone": ("x", None),'
    ]
    multi = table_line("simulate", ("simulate", "crimes"), None)
    assert multi == '    "simulate": (("simulate", "crimes"), None),'


def _help(app: typer.Typer, args: list[str]) -> str:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "100", "TERMINAL_WIDTH": "100"})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_screen_is_the_same_as_with_every_module_loaded():
    eager = cli.build_app(lazy=False)
    assert _help(cli.build_app(), ["--help"]) == _help(eager, ["--help"])


def test_each_lazily_loaded_command_is_the_registered_one():
    """Each command loaded on its own (in a fresh interpreter, so no other module has run)
    has the same subcommands, in the same order, and options as with every module loaded."""
    def shape(command) -> dict:
        return {
            "params": sorted(p.name or "" for p in command.params),
            "commands": [[n, shape(c)] for n, c in getattr(command, "commands", {}).items()],
        }

    eager = typer.main.get_command(cli.build_app(lazy=False))
    want = {name: shape(eager.commands[name]) for name in cli.COMMANDS}
    script = (
        "import json, sys\n"
        "from harmscope import cli\n"
        "def shape(c):\n"
        "    return {'params': sorted(p.name or '' for p in c.params), 'commands': "
        "[[n, shape(s)] for n, s in getattr(c, 'commands', {}).items()]}\n"
        "print(json.dumps(shape(cli.load_command(sys.argv[1]))))\n"
    )
    for name in cli.COMMANDS:
        # Only a command whose table entry names several modules can miss a subcommand when
        # loaded alone; one fresh process each for those, the others are checked in-process.
        if isinstance(cli.COMMANDS[name][0], str):
            got = shape(cli.load_command(name))
        else:
            out = subprocess.run([sys.executable, "-c", script, name], capture_output=True,
                                 text=True, check=True)
            got = json.loads(out.stdout)
        assert got == want[name], f"`harmscope {name}` loaded alone differs from the full app"


def _imports_of(args: list[str], code: str | None = None) -> set[str]:
    """Top-level packages imported by the installed `harmscope` script run with ``args``
    (``-X importtime`` lists every import on stderr), or by ``python -c code``."""
    script = Path(sys.executable).parent / "harmscope"
    entry = [str(script)] if script.exists() else ["-m", "harmscope"]
    cmd = [sys.executable, "-X", "importtime", *(["-c", code] if code else entry), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "typer" in names, "no -X importtime output: the check would pass vacuously"
    return names


def test_help_imports_no_heavy_library():
    loaded = _imports_of(["--help"]) & set(HEAVY)
    assert not loaded, f"`harmscope --help` imports {sorted(loaded)}"


# Every command's and subcommand's help screen in one fresh interpreter (a command module is
# imported only when its command is asked for): what they imported between them.
_HELP_EVERY_COMMAND = """
import contextlib, io, json, sys
from harmscope import cli
paths = []
for name in cli.COMMANDS:
    command = cli.load_command(name)
    paths.append([name])
    paths += [[name, sub] for sub in getattr(command, "commands", {})]
failed = []
for path in paths:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        rc = cli.main([*path, "--help"])
    if rc != 0 or "Usage" not in out.getvalue():
        failed.append(path)
heavy = sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
print(json.dumps({"helps": len(paths), "failed": failed, "heavy": heavy}))
"""


def test_every_command_help_imports_no_heavy_library():
    """`harmscope CMD --help` loads CMD's module, so a heavy import at the top of any command
    module (or of a module it imports at load) shows here: move it into the function using it."""
    proc = subprocess.run(
        [sys.executable, "-c", _HELP_EVERY_COMMAND, json.dumps(HEAVY)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["helps"] > len(cli.COMMANDS) and got["failed"] == []
    assert got["heavy"] == [], (
        f"help screens of the commands import {got['heavy']}: a command module (or a module "
        "it imports at load time) imports them at module level"
    )


def test_status_on_a_real_store_imports_only_duckdb(kent_store_path):
    """`harmscope status` needs the store (DuckDB) and nothing else heavy: no pandas."""
    for extra in ([], ["--json"]):
        loaded = _imports_of(["status", "--db", str(kent_store_path), *extra]) & set(HEAVY)
        assert loaded == {"duckdb"}, f"`harmscope status {' '.join(extra)}` imports {sorted(loaded)}"


def test_version_imports_no_heavy_library():
    loaded = _imports_of(["--version"]) & set(HEAVY)
    assert not loaded, f"`harmscope --version` imports {sorted(loaded)}"


def test_the_import_check_can_fail():
    # The same reading of -X importtime sees a heavy library when one is imported.
    assert {"pandas", "duckdb"} <= _imports_of([], code="import typer, pandas, duckdb")


def test_importing_harmscope_loads_no_store():
    code = "import sys, harmscope; print(sorted(set(sys.modules) & {'duckdb', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from harmscope import Store  # still there, on first use
    from harmscope.store import Store as StoreClass

    assert Store is StoreClass
