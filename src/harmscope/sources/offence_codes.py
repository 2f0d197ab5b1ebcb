"""A force extract aggregated by Home Office offence code (`harmscope harm --codes FILE`).

CSV with ``code,count`` and any grouping columns (area, month...); the harm of each code is
weighed by ``analysis.harm.harm_from_codes``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError


def read_code_counts(path: Path, where: str = "--codes") -> tuple[pd.DataFrame, list[str]]:
    """The counts by code (codes kept as text, headers lower-cased) and the grouping columns."""
    try:
        frame = pd.read_csv(path, dtype={"code": str}, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise HarmscopeError(
            f"cannot read it as CSV ({type(exc).__name__})",
            where=f"{where} {path}",
            fix="give a UTF-8 CSV with a header row: code,count[,area,month]",
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame, [c for c in frame.columns if c not in ("code", "count")]
