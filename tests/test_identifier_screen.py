"""The identifier screen (issue 20, finding 2): measured on a labelled probe set, then applied
end to end: an NHS number (or a name, a date of birth, a postcode) planted anywhere in an ED
file reaches no column of any table, no ingest report and no record export; police rejects are
screened the same way.

Run ``pytest tests/test_identifier_screen.py -k probe -s`` to see recall per kind and the
false-positive rate.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import KENT_STREET
from harmscope.cli import main
from harmscope.privacy.identifiers import (
    MAX_REJECT_CHARS,
    code_kinds,
    find_identifiers,
    quarantine_reason,
    redact,
    screen_reject_text,
)
from harmscope.privacy.pseudonymise import nhs_check_digit
from harmscope.simulate.ed import simulate_ed
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

PROBES = Path(__file__).parent / "data" / "identifier_probes.csv"
FREE_TEXT = {"free_text", "location_desc", "weapon_text"}
# Floors measured on the probe set (see the printed table); NHS numbers must all be caught.
# Measured 2026-12-04 on 138 probes: NHS 18/18, date of birth 14/14, phone 11/11, postcode 7/8,
# address 6/7, e-mail 4/5, name 23/25; false positives 2/50 negatives. The 28 "held out" probes
# were written after the rules were tuned: at first sight 11/18 caught and 2/10 false positives;
# three rules were then added (commas in NHS numbers, 12-Mar-1998, PC/DC titles).
RECALL_FLOOR = {
    "nhs_number": 1.0,
    "date_of_birth": 1.0,
    "postcode": 0.85,
    "phone": 1.0,
    "email": 0.8,
    "address": 0.85,
    "name": 0.9,
}
MAX_FALSE_POSITIVE_RATE = 0.05
KEY = "identifier-screen-test-key-0123456789"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _probe_outcomes() -> tuple[dict, dict, list]:
    rows = list(csv.DictReader(PROBES.open(encoding="utf-8")))
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for r in rows:
        column, text = r["column"], r["text"]
        spans = [s.strip() for s in r["identifiers"].split("|") if s.strip()]
        if column in FREE_TEXT:
            out, n = redact(text)
        else:  # a code or date column: quarantined, never stored
            reason = quarantine_reason(column, text)
            if reason:
                assert not any(s in reason for s in spans) and text not in reason
            out, n = ("" if reason else text), int(bool(reason))
        kind = r["kind"]
        caught[kind][1] += 1
        if kind == "negative":
            caught[kind][0] += int(n > 0)
            if n:
                misses.append((r["id"], text, out))
            continue
        ok = all(
            s not in out and (kind not in ("nhs_number", "phone") or _digits(s) not in _digits(out))
            for s in spans
        )
        caught[kind][0] += int(ok)
        if not ok:
            misses.append((r["id"], text, out))
    return caught, {r["id"]: r for r in rows}, misses


def test_probe_set_recall_per_kind_and_false_positive_rate():
    caught, rows, misses = _probe_outcomes()
    assert len(rows) >= 60
    print("\nidentifier screen on tests/data/identifier_probes.csv")
    for kind, (hit, total) in sorted(caught.items()):
        label = "false positives" if kind == "negative" else "recall"
        print(f"  {kind:14s} {label:15s} {hit:3d}/{total:3d} = {hit / total:.0%}")
    for probe_id, text, out in misses:
        print(f"  miss/false positive {probe_id}: {text!r} -> {out!r}")
    assert set(RECALL_FLOOR) <= set(caught), "every kind needs probes"
    for kind, floor in RECALL_FLOOR.items():
        hit, total = caught[kind]
        assert hit / total >= floor, f"{kind}: recall {hit}/{total} under {floor:.0%}"
    fp, negatives = caught["negative"]
    assert negatives >= 30 and fp / negatives <= MAX_FALSE_POSITIVE_RATE


def test_probe_set_covers_the_issue_20_misses():
    _, rows, _ = _probe_outcomes()
    notes = " ".join(r["note"] for r in rows.values())
    assert notes.count("issue 20 miss") >= 8
    assert {r["kind"] for r in rows.values()} >= {
        "nhs_number",
        "date_of_birth",
        "postcode",
        "phone",
        "email",
        "address",
        "name",
        "negative",
    }


def test_the_free_text_redactor_catches_the_issue_20_misses():
    """privacy.redact (used for every free-text column) delegates to the screen."""
    from harmscope.privacy.redact import redact_text

    _, rows, _ = _probe_outcomes()
    for r in rows.values():
        if "issue 20 miss" in r["note"] and r["column"] in FREE_TEXT:
            out, n = redact_text(r["text"])
            spans = [s.strip() for s in r["identifiers"].split("|") if s.strip()]
            assert n and not any(s in out for s in spans), (r["id"], out)


@settings(max_examples=300, deadline=None)
@given(
    nine=st.integers(min_value=400_000_000, max_value=999_999_999),
    cuts=st.lists(st.integers(min_value=1, max_value=9), max_size=5, unique=True),
    seps=st.lists(st.sampled_from([" ", ".", "-", "  ", " - ", "/", "_"]), min_size=5, max_size=5),
    before=st.sampled_from(["", "pt ", "nhs no: ", "outside the pub ", "ref#"]),
    after=st.sampled_from(["", " Maidstone", ".", " (typed by triage)", "x"]),
)
def test_a_valid_nhs_number_is_found_in_any_grouping(nine, cuts, seps, before, after):
    first9 = str(nine)
    check = nhs_check_digit(first9)
    if check is None:
        return
    digits = first9 + str(check)
    shown, last = "", 0
    for k, cut in enumerate(sorted(cuts)):
        shown += digits[last:cut] + seps[k]
        last = cut
    shown += digits[last:]
    out, _ = redact(f"{before}{shown}{after}")
    assert digits not in _digits(out)
    assert quarantine_reason("site_code", shown) is not None


def test_dates_in_date_columns_and_ordinary_codes_are_left_alone():
    for value in ("2025-07-03 14:22", "03/07/2025 14:22", "2025-07-03", "2025-12-31T23:59:00"):
        assert find_identifiers(value, kinds=code_kinds("arrival_datetime")) == []
        assert quarantine_reason("assault_datetime", value) is None
    for column, value in [
        ("site_code", "RVV01"),
        ("postcode", "ME14 1XX"),
        ("lsoa_code", "E01024001"),
    ]:
        assert quarantine_reason(column, value) is None
    # ...but the same date in free text, after a birth cue, is a date of birth.
    assert redact("dob 2001-02-03")[0] == "dob [DATE OF BIRTH]"


def test_reject_text_is_screened_then_capped():
    text = "x" * 5000 + " pt 999.007.9196"
    out = screen_reject_text(text)
    assert len(out) == MAX_REJECT_CHARS and out.endswith("…")
    assert "9990079196" not in _digits(screen_reject_text("y" * 1990 + " 999 007 9196"))


def test_real_police_street_locations_are_rarely_flagged(shared_data):
    """Negative control on real text: the distinct street-level locations of the Kent files."""
    con = duckdb.connect()
    files = [str(p) for p in KENT_STREET]
    locations = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT Location FROM read_csv(?, union_by_name=true, all_varchar=true) "
            "WHERE Location IS NOT NULL",
            [files],
        ).fetchall()
    ]
    flagged = [loc for loc in locations if find_identifiers(loc)]
    rate = len(flagged) / len(locations)
    print(f"\nreal Kent street locations flagged: {len(flagged)}/{len(locations)} = {rate:.2%}")
    assert len(locations) > 5000 and rate < 0.005
    assert not any(f.kind == "nhs_number" for loc in flagged for f in find_identifiers(loc))


# --- end to end: ED ingest, store, report, export ----------------------------------------------

NHS = {  # valid numbers from the test range, each planted in one place
    "site": "9990079196",
    "dotted": "9990237573",
    "four_four_two": "9990316767",
    "spaced": "9990395950",
    "reason": "9990475148",
    "raw": "9990554331",
    "postcode": "9990633525",
    "lsoa": "9990712719",
    "weapon": "9990791902",
    "extra": "9990871094",
}
TEXT_SECRETS = ["Okonkwo", "12/03/1998", "ME14 1XX", "Acacia Avenue", "tyrese@example.com"]


def _plant(tmp_path: Path) -> Path:
    volumes = pd.DataFrame(
        {
            "lad_code": ["E07000110", "E07000112"],
            "month": pd.to_datetime(["2025-07-01", "2025-07-01"]).date,
            "n": [120, 80],
        }
    )
    ed = simulate_ed(volumes, seed=3).ed.copy()
    ed["nhs_number"] = ed["nhs_number"].astype(str)
    base = ed.iloc[0].to_dict()

    def row(**changes):
        r = dict(base)
        r.update(changes)
        return r

    n = NHS
    planted = [
        row(site_code=n["site"]),
        row(
            location_desc=f"outside the kebab shop {n['dotted'][:3]}.{n['dotted'][3:6]}.{n['dotted'][6:]}, Maidstone"
        ),
        row(
            location_desc=f"bus stop {n['four_four_two'][:4]} {n['four_four_two'][4:8]} {n['four_four_two'][8:]}"
        ),
        row(location_desc=" ".join(n["spaced"]) + " Maidstone town centre"),
        row(assault_method=f"{n['reason'][:3]}.{n['reason'][3:6]}.{n['reason'][6:]}"),
        row(age_band=f"NHS {n['raw'][:3]}-{n['raw'][3:6]}-{n['raw'][6:]}"),
        row(postcode=n["postcode"]),
        row(
            postcode="99900791"
        ),  # not an identifier the screen knows: must not be cut to a district
        row(lsoa_code=f"{n['lsoa'][:3]} {n['lsoa'][3:6]} {n['lsoa'][6:]}"),
        row(assault_method_text=f"pint glass nhs {n['weapon'][:5]}-{n['weapon'][5:]}"),
        row(
            location_desc="home, 12 Acacia Avenue, ME14 1XX",
            assault_method_text="Name: Tyrese Okonkwo, DOB 12/03/1998, tyrese@example.com",
        ),
    ]
    frame = pd.concat([ed, pd.DataFrame(planted)], ignore_index=True)
    path = write_ed_csv_frame(frame, tmp_path / "ed_planted.csv")
    # A row with a field too many, carrying a dotted NHS number in the extra field.
    with path.open("a", encoding="utf-8") as fh:
        cells = [str(base[c]) for c in frame.columns] + [
            f"{n['extra'][:3]}.{n['extra'][3:6]}.{n['extra'][6:]}"
        ]
        fh.write(",".join(cells) + "\n")
    return path


def write_ed_csv_frame(frame: pd.DataFrame, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write("# SYNTHETIC ED assault data with planted identifiers (test)\n")
        frame.to_csv(fh, index=False)
    return path


def _leaks_in_store(db: Path) -> list[str]:
    """Every (table.column) whose text, or whose digits, hold a planted identifier."""
    con = duckdb.connect(str(db), read_only=True)
    found = []
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        for table in tables:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
            for c in cols:
                text = f'CAST("{c}" AS VARCHAR)'
                digits = f"regexp_replace({text}, '[^0-9]', '', 'g')"
                for secret in NHS.values():
                    hit = con.execute(
                        f'SELECT count(*) FROM "{table}" WHERE {digits} LIKE ?', [f"%{secret}%"]
                    ).fetchone()[0]
                    if hit:
                        found.append(f"{table}.{c}: {secret}")
                for secret in TEXT_SECRETS:
                    hit = con.execute(
                        f'SELECT count(*) FROM "{table}" WHERE {text} ILIKE ?', [f"%{secret}%"]
                    ).fetchone()[0]
                    if hit:
                        found.append(f"{table}.{c}: {secret}")
    finally:
        con.close()
    return found


def _leaks_in_text(text: str) -> list[str]:
    digits = _digits(text)
    return [s for s in NHS.values() if s in digits] + [s for s in TEXT_SECRETS if s in text]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The planted file ingested through the CLI (JSON report, then the plain-text report)."""
    folder = tmp_path_factory.mktemp("planted")
    key = folder / "k.key"
    key.write_text(KEY + "\n")
    path, db = _plant(folder), folder / "ed.duckdb"
    args = ["ed", "ingest", str(path), "--db", str(db), "--key-file", str(key)]
    outputs = []
    for extra in (["--json"], []):  # the second load finds duplicates and the same rejects
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([*args, *extra])
        assert rc == 0, err.getvalue()
        outputs.append(out.getvalue() + err.getvalue())
    return SimpleNamespace(folder=folder, path=path, db=db, key=key, outputs=outputs)


def test_ingest_reports_hold_no_planted_identifier(planted):
    rep = json.loads(planted.outputs[0])
    assert rep["rows_read"] == rep["rows_loaded"] + rep["rows_duplicate"] + rep["rows_rejected"]
    for text in planted.outputs:
        assert _leaks_in_text(text) == []
    # The site_code, postcode, lsoa_code and code-column plants are quarantined, not stored.
    reasons = " ".join(rep["reject_reasons"])
    for column in ("site_code", "postcode", "lsoa_code", "assault_method", "age_band"):
        assert f"{column} holds what looks like an NHS number" in reasons


def test_planted_identifiers_reach_no_column_of_any_table(planted):
    assert _leaks_in_store(planted.db) == []
    with Store.open(planted.db, read_only=True) as store:
        districts = store.query("SELECT DISTINCT postcode_district AS d FROM ed_assaults").d
    assert districts.dropna().str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?").all()


def test_rejects_hold_screened_capped_text_and_free_text_is_tagged(planted):
    with Store.open(planted.db, read_only=True) as store:
        rej = store.query("SELECT reason, raw FROM rejects")
        desc = store.query("SELECT location_desc, weapon_text FROM ed_assaults")
    assert len(rej) >= 12 and rej.raw.str.len().max() <= MAX_REJECT_CHARS
    assert rej.raw.str.contains(re.escape("[NHS NUMBER]")).all()
    text = " ".join(desc.location_desc.dropna()) + " " + " ".join(desc.weapon_text.dropna())
    for tag in ("[NHS NUMBER]", "[ADDRESS]", "[POSTCODE]", "[NAME]", "[DATE OF BIRTH]", "[EMAIL]"):
        assert tag in text


def test_record_export_carries_pseudonyms_and_screened_text_only(planted, tmp_path, capsys):
    db = planted.db
    out_dir = tmp_path / "export"
    rc = main(
        [
            "ed",
            "export",
            "--out",
            str(out_dir),
            "--audience",
            "internal",
            "--records",
            "--db",
            str(db),
        ]
    )
    assert rc == 0
    capsys.readouterr()
    files = list(out_dir.iterdir())
    assert files
    for f in files:
        assert _leaks_in_text(f.read_text(encoding="utf-8")) == []
    frame = pd.read_csv(out_dir / "ed_records_internal.csv", dtype=str)
    assert (
        "nhs_number" not in frame.columns
        and frame.pseudonym.dropna().str.fullmatch("[0-9a-f]{64}").all()
    )


def test_record_export_screens_a_store_loaded_before_the_screen(planted, tmp_path, capsys):
    """A store written by an older harmscope may hold raw text: the export screens it again."""
    old = tmp_path / "old.duckdb"
    old.write_bytes(planted.db.read_bytes())
    con = duckdb.connect(str(old))
    con.execute(
        "UPDATE ed_assaults SET site_code = ?, location_desc = ?, postcode_district = ? "
        "WHERE rowid IN (SELECT rowid FROM ed_assaults LIMIT 1)",
        [NHS["site"], f"pub {NHS['dotted'][:5]}.{NHS['dotted'][5:]}", NHS["postcode"][:7]],
    )
    con.close()
    out_dir = tmp_path / "export_old"
    args = ["ed", "export", "--out", str(out_dir), "--audience", "internal", "--records"]
    assert main([*args, "--db", str(old)]) == 0
    capsys.readouterr()
    body = (out_dir / "ed_records_internal.csv").read_text(encoding="utf-8")
    assert _leaks_in_text(body) == [] and NHS["postcode"][:7] not in body


def test_police_rejects_are_screened(tmp_path):
    with gzip.open(KENT_STREET[0], "rt", encoding="utf-8") as fh:
        header, good = fh.readline().rstrip("\n"), fh.readline().rstrip("\n")
    cells = next(csv.reader([good]))
    bad_month = list(cells)
    bad_month[1] = f"{NHS['reason'][:3]}.{NHS['reason'][3:6]}.{NHS['reason'][6:]}"
    too_many = [*cells, f"Name: Tyrese Okonkwo {NHS['raw'][:4]} {NHS['raw'][4:8]} {NHS['raw'][8:]}"]

    def line(c):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(c)
        return buf.getvalue()

    path = tmp_path / "2025-12-kent-street.csv"
    path.write_text("\n".join([header, good, line(bad_month), line(too_many), good]) + "\n")
    db = tmp_path / "p.duckdb"
    with Store.open(db) as store:
        f = ingest_paths(store, [path]).files[0]
        assert f.rows_rejected == 2
    assert _leaks_in_store(db) == []
