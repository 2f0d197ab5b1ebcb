"""Read the planted truth of `harmscope simulate crimes` (FILE.truth_persons.csv).

`harmscope people --truth` measures flag errors against it; the key is needed to match the
planted person ids to the store's pseudonyms.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmscope.errors import HarmscopeError

NEEDED = {"person_id", "sex", "birth_year", "power_few", "cohort"}


def read_truth_persons(path: Path, key_file: Path | None = None) -> tuple[pd.DataFrame, bytes]:
    """The planted persons table and the pseudonymisation key (from ``key_file`` or
    HARMSCOPE_KEY); an error when the file is not a planted-truth persons file."""
    from harmscope.sources.crime_extract import crime_key_material

    key = crime_key_material(None, key_file)
    truth = pd.read_csv(path)
    if not NEEDED <= set(truth.columns):
        raise HarmscopeError(
            "not a planted-truth persons file",
            where="--truth",
            fix="pass the FILE.truth_persons.csv written by `harmscope simulate crimes`",
        )
    return truth, key
