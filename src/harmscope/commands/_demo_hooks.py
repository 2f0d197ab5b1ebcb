"""The command modules' ``demo(store, out_dir)`` hooks, found by name (`harmscope demo`).

A helper, not a command: `commands/demo.py` asks it for the hooks, so no command module imports
another (tests/test_architecture.py). A hook lives beside its command because it shows that
command's output on the bundled sample.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator

import harmscope.commands as _commands


def demo_hooks() -> Iterator[tuple[str, Callable]]:
    """(module name, hook) for every command module with a ``demo``; the report goes last:
    it gathers what the other analyses show, and its path ends the demo."""
    order = lambda m: (m.name == "report", m.name)  # noqa: E731
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=order):
        if info.name in ("demo",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"harmscope.commands.{info.name}")
        hook = getattr(module, "demo", None)
        if hook is not None:
            yield info.name, hook
