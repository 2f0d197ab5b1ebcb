"""The README is tested against the code so it never falls behind."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from harmscope.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    head = README[:800]
    assert "make demo" in head and "make test" in head


def test_readme_python_quick_start_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_readme_cli_commands_exist():
    # The root group lists commands and groups from cli.COMMANDS without loading them
    # (tests/test_cli_startup.py holds that table to what the modules register).
    names = set(typer.main.get_command(app).list_commands(None))
    used = set(re.findall(r"^harmscope (\w+)", README, flags=re.M))
    assert used and used <= names, used - names
