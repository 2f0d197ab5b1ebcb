"""The harm table (area x category) written for an audience (`harmscope harm --out FILE`)."""

from __future__ import annotations

from pathlib import Path


def write_harm_table(pub, out: Path, *, csv_only: bool = False) -> Path:
    """Write the published area x category table at ``out`` in the format its extension
    names (export.files); ``csv_only`` (the old ``--csv`` flag) writes CSV whatever the name."""
    from harmscope.export.files import readme_rows, suppressed_columns, write_tables
    from harmscope.export.rounding import write_csv

    table = pub.tables["table"]
    if csv_only:
        write_csv(table, out)
    else:
        write_tables(
            {"table": table},
            out,
            readme=readme_rows(pub, "Harm by area and category (harmscope harm)"),
            suppressed_cols=suppressed_columns(pub),
        )
    return Path(out)
