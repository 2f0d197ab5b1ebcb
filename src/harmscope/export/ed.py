"""ED exports: files that leave harmscope for an audience, each one audited.

Aggregates come from the publishing path (:func:`harmscope.privacy.publishers.publish_ed_picture`),
so an export folder holds exactly what the publication let through; record-level rows are for
the internal audience only, pseudonymised and screened again on the way out.
"""

from __future__ import annotations

import json
from pathlib import Path

from harmscope.analysis.linkage import true_picture
from harmscope.errors import HarmscopeError
from harmscope.export.rounding import write_csv
from harmscope.privacy import audit
from harmscope.privacy.audience import get_audience

RECORD_COLUMNS = (
    "pseudonym, site_code, arrival_at, assault_at, assault_date, month, weapon_code, weapon_text, "
    "location_type, location_desc, postcode_district, lsoa11_code, lad_code, lad_name, placed_by, "
    "unplaced_reason, age_band, sex, synthetic"
)


def _screen_records(frame):
    """Screen a record-level export again on the way out (a store loaded before the identifier
    screen may hold raw text): free text redacted, an identifier in site_code replaced by its
    tag, a postcode district kept only when it is one."""
    import re

    from harmscope.privacy.identifiers import code_kinds, redact

    frame = frame.copy()
    for col in ("weapon_text", "location_desc"):
        frame[col] = [redact(v)[0] if isinstance(v, str) else v for v in frame[col]]
    frame["site_code"] = [
        redact(v, kinds=code_kinds("site_code"))[0] if isinstance(v, str) else v
        for v in frame["site_code"]
    ]
    outward = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?")
    frame["postcode_district"] = [
        v if isinstance(v, str) and outward.fullmatch(v) else None
        for v in frame["postcode_district"]
    ]
    return frame


def export_ed(
    store,
    out: Path,
    *,
    audience: str,
    threshold: int = 5,
    records: bool = False,
    level: str = "lad",
) -> list[Path]:
    """Write ED outputs for ``audience`` under ``out`` and audit each file.

    ``out`` is a folder (one CSV per table and a JSON summary, as before) or one file whose
    extension picks the format (``export.files``: .csv, .xlsx, .parquet; for .csv and .parquet
    the other tables go beside it, and the summary beside it as ``<stem>_summary.json``).
    Record-level export is for the internal audience only; partner and public get the
    aggregate tables (public with small-count suppression).
    """
    from harmscope.export import files as export_files

    out = Path(out)
    fmt = export_files.check_out(out, folder_ok=True)
    aud = get_audience(audience, threshold)
    if records:
        return _export_records(store, out, fmt, aud)
    return _export_aggregates(store, out, fmt, aud, threshold=threshold, level=level)


def _export_records(store, out: Path, fmt: str, aud) -> list[Path]:
    """Record level, internal only: screened again on the way out, one audit row."""
    from harmscope.export import files as export_files

    if not aud.event_level:
        raise HarmscopeError(
            f"record-level ED data may not be exported for the {aud.name} audience",
            where="--records",
            fix="export aggregates (drop --records), or use --audience internal inside the partnership",
        )
    if fmt == "":
        out.mkdir(parents=True, exist_ok=True)  # only once the request is known to be allowed
    path = out / "ed_records_internal.csv" if fmt == "" else out
    sql = f"SELECT {RECORD_COLUMNS} FROM ed_assaults ORDER BY assault_date"
    with store.transaction():
        frame = _screen_records(store.query(sql))
        audit.record(
            store,
            action="export",
            what="ED records (pseudonymised, redacted)",
            query=sql,
            audience=aud.name,
            rows=len(frame),
            suppressed=0,
            output=str(path),
        )
        if fmt == "":
            frame.to_csv(path, index=False)
        else:
            export_files.write_table(frame, path)
    return [path]


def _aggregate_files(pub, out: Path, fmt: str, aud, level: str):
    """(file name -> table, file name -> path, summary path) for the published tables."""
    from harmscope.export import files as export_files

    files = {}
    for name, t in pub.tables.items():
        key = (
            f"ed_true_picture_{level}_{aud.name}.csv"
            if name == "table"
            else f"ed_{name}_{aud.name}.csv"
        )
        files[key] = t
    if fmt == "":
        summary_path = out / f"ed_true_picture_{aud.name}.json"
        targets = {name: out / name for name in files}
    else:
        summary_path = out.with_name(f"{out.stem}_summary.json")
        by_table = export_files.table_paths(list(pub.tables), out)
        targets = dict(zip(files, by_table.values(), strict=True))
    return files, targets, summary_path


def _export_aggregates(
    store, out: Path, fmt: str, aud, *, threshold: int, level: str
) -> list[Path]:
    """The true picture's published tables and summary, each file audited."""
    from harmscope.export import files as export_files
    from harmscope.privacy.publishers import publish_ed_picture

    result = true_picture(store, level=level, audience=aud.name, threshold=threshold)
    pub = publish_ed_picture(result, aud, name="ed-export")
    if fmt == "":
        out.mkdir(parents=True, exist_ok=True)
    files, targets, summary_path = _aggregate_files(pub, out, fmt, aud, level)
    written: list[Path] = []
    try:
        with store.transaction():
            for name, table in files.items():
                path = targets[name]
                audit.record(
                    store,
                    action="export",
                    what=f"ED aggregate table {name}",
                    query=f"true_picture(level={level!r}, audience={aud.name!r}, threshold={threshold})",
                    audience=aud.name,
                    rows=len(table),
                    suppressed=int(
                        table.attrs.get("harmscope_disclosure", {}).get("suppressed", 0)
                    ),
                    output=str(path),
                )
                if fmt == "":
                    write_csv(table, path)  # floats rounded (export.rounding)
                    written.append(path)
            if fmt != "":
                written += export_files.write_tables(
                    pub.tables,
                    out,
                    readme=export_files.readme_rows(pub, "ED true picture (harmscope ed export)"),
                    suppressed_cols=export_files.suppressed_columns(pub),
                )
            audit.record(
                store,
                action="export",
                what="ED true-picture summary and method",
                query=f"true_picture(level={level!r}, audience={aud.name!r})",
                audience=aud.name,
                rows=1,
                suppressed=None,
                output=str(summary_path),
            )
            doc = pub.document()
            summary = {
                k: doc[k]
                for k in ("summary", "audience", "method", "notes", "withheld")
                if k in doc
            }
            summary_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
            written.append(summary_path)
    except BaseException:
        # the audit rows were rolled back: take the files back too (a workbook or a table
        # file may be half written when the failure came from the writer)
        for path in {*written, *(targets.values() if fmt else ())}:
            path.unlink(missing_ok=True)
        raise
    return written
