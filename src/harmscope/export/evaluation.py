"""A scheme evaluation written for an audience: a folder (JSON plus one CSV per table) or one
file whose extension picks the format (.json, .csv, .parquet, .xlsx; export.files rules)."""

from __future__ import annotations

import json
from pathlib import Path

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.export.files import TABLE_FORMATS

OUT_FORMATS = (*TABLE_FORMATS, ".json")  # or a folder: JSON plus one CSV per table


def write_outputs(
    res: Result, out: Path, kind: str, audience: str = "internal", *, pub=None
) -> list[Path]:
    """The result as published for the audience: to a folder, JSON plus one CSV per table;
    to a file, in the format its extension names (export.files)."""
    from harmscope.export import files
    from harmscope.privacy.publishers import publish_evaluation, write_tables

    out = Path(out)
    fmt = files.check_out(out, formats=OUT_FORMATS, folder_ok=True)
    if fmt == "" and not out.exists():
        raise HarmscopeError(
            f"folder {out} does not exist", where="--out", fix="create it or pass another folder"
        )
    pub = pub if pub is not None else publish_evaluation(res, kind, audience)
    if fmt == "":
        return write_tables(pub, out, kind)
    if fmt == ".json":
        out.write_text(json.dumps(pub.document(), indent=2, default=str), encoding="utf-8")
        return [out]
    return files.write_tables(
        pub.tables,
        out,
        readme=files.readme_rows(pub, f"Scheme evaluation ({kind}), harmscope evaluate"),
        suppressed_cols=files.suppressed_columns(pub),
    )
