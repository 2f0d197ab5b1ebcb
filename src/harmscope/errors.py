"""One exception type whose message always says what, where and how to fix it."""

from __future__ import annotations


class HarmscopeError(Exception):
    """A user-facing error.

    The CLI prints ``Error: <message>`` without a traceback, so the message must stand
    alone: name the argument or file, say what is wrong, and say what to do.
    """

    def __init__(self, problem: str, *, where: str | None = None, fix: str | None = None):
        self.problem = problem
        self.where = where
        self.fix = fix
        parts = [f"{where}: {problem}" if where else problem]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class InputFileError(HarmscopeError):
    """A whole input file could not be read (not police data, truncated, binary...)."""
