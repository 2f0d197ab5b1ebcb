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
