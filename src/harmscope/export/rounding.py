"""CSV floats at the precision the figures support, not 16 decimals (issue 12).

Fractions (shares, rates, p-values: every value within -1..1) keep 4 decimals, a hundredth of
a percentage point, below any interval these data give; longitude/latitude keep 6 (RFC 7946's
advice); other floats keep 2. Integers, text, dates and missing (suppressed) cells are
unchanged, and so is a frame's ``attrs`` (its disclosure mark). Used by every CSV the CLI and the report write.
"""

from __future__ import annotations

import pandas as pd

FRACTION_DECIMALS = 4
OTHER_DECIMALS = 2
# longitude/latitude in degrees: 2 decimals would move a point by up to about 1 km; 6 is ~0.1 m
COORD_DECIMALS = 6
COORD_COLUMNS = ("lon", "lat", "longitude", "latitude")


def _p_value(name: str) -> bool:
    n = str(name)
    return n in ("p", "gi_p") or "p_value" in n or n.startswith("p_") or n.endswith("_p")


def round_for_export(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_float_dtype(s.dtype):
            continue
        if str(col) in COORD_COLUMNS:
            out[col] = s.round(COORD_DECIMALS)
            continue
        v = s.dropna()
        frac = _p_value(col) or (len(v) > 0 and bool((v.abs() <= 1.0).all()))
        out[col] = s.round(FRACTION_DECIMALS if frac else OTHER_DECIMALS)
    out.attrs = dict(df.attrs)
    return out


def write_csv(df: pd.DataFrame, path, **kwargs) -> None:
    """``df.to_csv(path, index=False)`` with floats rounded (round_for_export)."""
    round_for_export(df).to_csv(path, index=False, **kwargs)
