"""Crime extract ingest: keyed pseudonyms at the door, rows conserved, rejects without IDs.

Real DuckDB stores throughout; the extracts are synthetic (``harmscope simulate crimes``) or
small hand-written files with the failure under test.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmscope.errors import HarmscopeError
from harmscope.privacy.pseudonymise import Pseudonymiser
from harmscope.simulate.crimes import simulate_crimes, write_crimes_csv
from harmscope.sources.crime_extract import hmac_pads, hmac_sql, ingest_crime_extract
from harmscope.store import Store

KEY = secrets.token_hex(32).encode()
HEADER = (
    "crime_ref,offence_code,recorded_date,committed_from,committed_to,lsoa_code,victim_id,"
    "victim_age,victim_sex,offender_id,offender_age,offender_sex,knife_flag\n"
)


def _sql_pseudonym(values: list[str], prefix: str = "") -> list[str]:
    con = duckdb.connect()
    opad, ipad = hmac_pads(KEY)
    con.execute(
        "CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS x, generate_subscripts(?::VARCHAR[], 1) AS i",
        [values, values],
    )
    rows = con.execute(
        f"SELECT {hmac_sql('x', prefix)} FROM t ORDER BY i", {"opad": opad, "ipad": ipad}
    ).fetchall()
    return [r[0] for r in rows]


def test_in_engine_hmac_is_the_ed_pseudonym():
    # The same person must get the same pseudonym here as in ED ingest (Pseudonymiser).
    ids = ["SYN-P0000001", "943 476 5919", "943-476-5919", "ab\tc", "é1x", "A\x0bB", "x" * 100]
    p = Pseudonymiser(KEY)
    assert _sql_pseudonym(ids) == [p(i) for i in ids]
    assert _sql_pseudonym(["R1"], "crime:") == [p("crime:R1")]
    # RFC 2104 directly, for a key longer than the SHA-256 block (hashed first).
    long_key = secrets.token_hex(40).encode()
    opad, ipad = hmac_pads(long_key)
    got = (
        duckdb.connect()
        .execute(f"SELECT {hmac_sql(chr(39) + 'abc' + chr(39))}", {"opad": opad, "ipad": ipad})
        .fetchone()[0]
    )
    assert got == hmac.new(long_key, b"abc", hashlib.sha256).hexdigest()


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_in_engine_hmac_matches_for_any_text(value):
    value = value.replace("\x00", "")
    if not value:
        return
    assert _sql_pseudonym([value]) == [Pseudonymiser(KEY)(value)]


@pytest.fixture(scope="module")
def small_extract(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crimes")
    sim = simulate_crimes(3, crimes=3000)
    path, _, _ = write_crimes_csv(sim, folder / "extract.csv")
    return sim, path


def test_no_raw_identifier_in_the_store_bytes(small_extract, tmp_path):
    sim, path = small_extract
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        rep = ingest_crime_extract(store, path, key=KEY)
        assert rep.conserved() and rep.rows_loaded == sim.truth["rows_clean"]
        raws = store.query("SELECT raw FROM rejects").raw.tolist()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    # Every crime reference and person ID starts SYN-; normalised (dashes dropped) SYN too.
    for needle in (b"SYN-", b"SYNP", b"SYNKT", KEY):
        assert needle not in data, needle
    assert raws and all("SYN" not in r for r in raws)
    assert any("[CRIME REF]" in r for r in raws)


def test_rows_conserved_and_rerun_is_all_duplicates(small_extract, tmp_path):
    sim, path = small_extract
    with Store.open(tmp_path / "s.duckdb") as store:
        first = ingest_crime_extract(store, path, key=KEY)
        t = sim.truth
        assert first.rows_read == t["rows_written"]
        assert first.rows_duplicate == t["rows_duplicate_planted"]
        assert first.rows_rejected == t["rows_unknown_code_planted"] + t["rows_bad_date_planted"]
        assert first.unknown_codes == {"999Z": t["rows_unknown_code_planted"]}
        again = ingest_crime_extract(store, path, key=KEY)
        assert again.rows_loaded == 0 and again.conserved()
        assert again.rows_duplicate == first.rows_loaded + first.rows_duplicate
        # The same file under another key would count every crime twice: refused.
        with pytest.raises(HarmscopeError, match="another pseudonymisation key"):
            ingest_crime_extract(store, path, key=secrets.token_hex(32).encode())
        assert store.query("SELECT count(*) n FROM crimes").n[0] == first.rows_loaded


def test_missing_or_weak_key_refused(small_extract, tmp_path, monkeypatch):
    _, path = small_extract
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    with Store.open(tmp_path / "k.duckdb") as store:
        with pytest.raises(HarmscopeError, match="no pseudonymisation key"):
            ingest_crime_extract(store, path)
        monkeypatch.setenv("HARMSCOPE_KEY", "0123456789abcdef0123456789abcdef")
        with pytest.raises(HarmscopeError, match="not random"):
            ingest_crime_extract(store, path)
        assert store.query("SELECT count(*) n FROM ingests").n[0] == 0


def _ingest_text(tmp_path, text: bytes | str, name="x.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    store = Store.open(tmp_path / "b.duckdb")
    return store, ingest_crime_extract(store, path, key=KEY)


def test_bad_rows_are_rejected_with_reasons_and_conserved(tmp_path):
    rows = [
        "R1,8N,2025-03-02,2025-03-01 22:10,,E01024000,V1,30,F,O1,19,M,N",  # good
        "R2,999Z,2025-03-02,2025-03-01 22:10,,,V2,30,F,,,,N",  # unknown code
        "R3,105A,2025-03-02,2025-02-30 22:10,,,V3,30,F,,,,N",  # impossible date
        "R4,105A,2025-03-02,2025-03-01 22:10,2025-03-01 20:00,,V4,30,F,,,,N",  # to < from
        "R5,105A,2025-02-01,2025-03-01 22:10,,,V5,30,F,,,,N",  # recorded before committed
        "R6,105A,2031-03-02,2031-03-01 22:10,,,V6,30,F,,,,N",  # future
        "R7,105A,2025-03-02,2025-03-01 22:10,,,V7,150,F,,,,N",  # impossible age
        "R8,105A,2025-03-02,2025-03-01 22:10,,,V8,30,F,,,,N,extra",  # malformed
        "R9,34B,2025-03-02,2025-03-01 22:10,,,V9,22,M,O1|O2,19|17,M|M,Y",  # two offenders
        "R1,8N,2025-03-02,2025-03-01 22:10,,E01024000,V1,30,F,O1,19,M,N",  # duplicate
        "R10,8n,02/03/2025,01/03/2025 22:10,,,,,,,,,",  # lower-case code, UK dates, no people
    ]
    store, rep = _ingest_text(tmp_path, HEADER + "\n".join(rows) + "\n")
    with store:
        assert rep.conserved()
        assert (rep.rows_read, rep.rows_loaded, rep.rows_duplicate, rep.rows_rejected) == (
            11,
            3,
            1,
            7,
        )
        reasons = " | ".join(rep.reject_reasons)
        for bit in (
            "999Z",
            "not a real date",
            "committed_to is before",
            "recorded_date is before",
            "future",
            "victim_age",
            "malformed",
        ):
            assert bit in reasons, bit
        rej = store.query("SELECT line, reason, raw FROM rejects ORDER BY line")
        assert rej.line.tolist() == [3, 4, 5, 6, 7, 8, 9]
        for raw in rej.raw:
            assert not any(f"{p}{i}," in raw for p in "VRO" for i in range(1, 11)), raw
        people = store.query("SELECT role, count(*) n FROM persons_in_crimes GROUP BY 1 ORDER BY 1")
        assert dict(zip(people.role, people.n, strict=True)) == {"offender": 3, "victim": 2}
        # O1 is one person across two crimes (same pseudonym)
        assert (
            store.query(
                "SELECT count(DISTINCT pseudonym) n FROM persons_in_crimes "
                "JOIN persons USING (person_id) WHERE role='offender'"
            ).n[0]
            == 2
        )


def test_missing_columns(tmp_path):
    # A required column missing: a clear error, nothing loaded.
    with pytest.raises(HarmscopeError, match="missing column.*committed_from"):
        _ingest_text(tmp_path, "crime_ref,offence_code,recorded_date\nR1,8N,2025-01-01\n")
    # Optional columns missing: every row still loads.
    store, rep = _ingest_text(
        tmp_path,
        "crime_ref,offence_code,recorded_date,committed_from\n"
        "R1,8N,2025-01-02,2025-01-01\nR2,105A,2025-01-02,2025-01-01 10:00\n",
        name="y.csv",
    )
    with store:
        assert (rep.rows_read, rep.rows_loaded) == (2, 2)


def test_non_utf8_file_conserves_rows(tmp_path):
    text = HEADER + "R1,8N,2025-03-02,2025-03-01 22:10,,,VÉ1,30,F,,,,N\n"
    store, rep = _ingest_text(tmp_path, text.encode("cp1252"))
    with store:
        assert rep.encoding == "windows-1252"
        assert (rep.rows_read, rep.rows_loaded) == (1, 1)
        assert store.query("SELECT pseudonym FROM persons").pseudonym[0] == (
            Pseudonymiser(KEY)("VÉ1")
        )


def test_newer_format_version_refused(tmp_path):
    with pytest.raises(HarmscopeError, match="version"):
        _ingest_text(tmp_path, "# format: harmscope-crime-extract/2\n" + HEADER)


def test_bom_crlf_and_quotes(tmp_path):
    text = (
        "\ufeffcrime_ref,offence_code,recorded_date,committed_from\r\n"
        'R1,8N,2025-01-02,2025-01-01\r\n"R2",105A,2025-01-02,"2025-01-01 10:00"\r\n'
    )
    store, rep = _ingest_text(tmp_path, text)
    with store:
        assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (2, 2, 0)
        # the loader's two-step key (normalise once, then HMAC) is the ED pseudonym too
        keys = set(store.query("SELECT crime_key FROM crimes").crime_key)
        assert keys == {Pseudonymiser(KEY)("crime:R1"), Pseudonymiser(KEY)("crime:R2")}


def test_persons_numbered_once_across_crimes_and_extracts(tmp_path):
    # A person's pseudonym is stored once (persons); person rows hold its integer number, in
    # every crime and in a later extract. Listed offenders keep their own ages and sexes.
    first = [
        "R1,8N,2025-03-02,2025-03-01 22:10,,,V1,30,F,O1|O-2,19|17,M|F,N",
        "R2,105A,2025-03-03,2025-03-02 22:10,,,V 1,31,F,O1,19,M,N",  # 'V 1' normalises to V1
    ]
    store, rep = _ingest_text(tmp_path, HEADER + "\n".join(first) + "\n")
    store.close()
    later = tmp_path / "later.csv"
    later.write_text(HEADER + "R3,8N,2025-04-02,2025-04-01 22:10,,,V9,40,M,O2,18,F,N\n")
    with Store.open(tmp_path / "b.duckdb") as store:
        ingest_crime_extract(store, later, key=KEY)
        p = Pseudonymiser(KEY)
        persons = store.query("SELECT person_id, pseudonym FROM persons")
        assert sorted(persons.pseudonym) == sorted(p(x) for x in ("V1", "O1", "O-2", "V9"))
        assert persons.person_id.is_unique
        rows = store.query(
            """SELECT c.crime_key, s.pseudonym, p.role, p.age, p.sex
            FROM persons_in_crimes p JOIN persons s USING (person_id)
            JOIN crimes c USING (crime_id) ORDER BY c.committed_from, p.role, p.age"""
        )
        got = [tuple(r) for r in rows.itertuples(index=False)]
        r1, r2, r3 = (p(f"crime:R{i}") for i in (1, 2, 3))
        assert got == [
            (r1, p("O2"), "offender", 17, "female"),
            (r1, p("O1"), "offender", 19, "male"),
            (r1, p("V1"), "victim", 30, "female"),
            (r2, p("O1"), "offender", 19, "male"),
            (r2, p("V1"), "victim", 31, "female"),
            (r3, p("O2"), "offender", 18, "female"),
            (r3, p("V9"), "victim", 40, "male"),
        ]
