"""Links ingest: keyed pseudonyms at the door, rows conserved, rejects without raw ids,
co-offending derived from the crime extract. Real DuckDB stores; small hand-written files
with the failure under test, and the simulator's SYNTHETIC files."""

from __future__ import annotations

import secrets

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmscope.errors import HarmscopeError
from harmscope.privacy.pseudonymise import Pseudonymiser
from harmscope.simulate.lines import write_lines
from harmscope.sources import links as links_mod
from harmscope.sources.crime_extract import hmac_pads, ingest_crime_extract
from harmscope.sources.links import entity_key, ingest_links, key_sql
from harmscope.store import Store

KEY = secrets.token_hex(32).encode()
HEADER = (
    "source_id,source_type,target_id,target_type,link_type,first_seen,last_seen,agency,"
    "confidence,source_age,target_age,source_flags,target_flags\n"
)
CRIME_HEADER = (
    "crime_ref,offence_code,recorded_date,committed_from,victim_id,victim_age,offender_id,"
    "offender_age\n"
)


def _write(tmp_path, text: str, name: str = "links.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _varchar_cells(store) -> list[str]:
    """Every VARCHAR value of every table in the store."""
    out = []
    cols = store.query(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND data_type = 'VARCHAR'"
    )
    for t, c in cols.itertuples(index=False):
        out += [v for (v,) in store.con.execute(f'SELECT "{c}" FROM "{t}"').fetchall() if v]
    return out


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lines")
    links_path, truth_path = write_lines(folder, 11, background_people=400, missing_rate=0.1)
    import json

    return links_path, json.loads(truth_path.read_text())


def test_synthetic_file_loads_conserved_and_keyed(sim, tmp_path):
    path, truth = sim
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_links(store, path, key=KEY)
        assert rep.conserved() and rep.rows_rejected == 0
        assert rep.rows_read == rep.rows_loaded == truth["recorded_links"]
        assert rep.synthetic
        n, synth = store.con.execute(
            "SELECT count(*), bool_and(synthetic) FROM links WHERE source_id = ?", [rep.ingest_id]
        ).fetchone()
        assert n == rep.rows_loaded and synth
        p = Pseudonymiser(KEY)
        line = truth["lines"][0]
        holder = entity_key(p, "person", line["holder"])
        phone = entity_key(p, "phone", line["deal_phone"])
        ent = store.query("SELECT * FROM link_entities").set_index("entity_key")
        assert ent.index.is_unique
        assert ent[ent.entity_type.isin(["person", "phone", "address"])].label.isna().all()
        # The holder is planted out of area with a supply offence (if any link survived).
        if holder in ent.index:
            assert ent.loc[holder, "out_of_area"] and ent.loc[holder, "supply_offence"]
            assert pd.isna(ent.loc[holder, "label"])
        if phone in ent.index:
            assert ent.loc[phone, "entity_type"] == "phone"
        for r in truth["at_risk"]:
            k = entity_key(p, "person", r)
            if k in ent.index:
                assert ent.loc[k, "age"] < 18
        # Places keep a readable key and their name as the label.
        places = ent[ent.entity_type == "place"]
        assert len(places) and all(k == "place:" + lab.lower() for k, lab in places.label.items())
        row = store.query("SELECT * FROM ingests WHERE ingest_id = ?", [rep.ingest_id]).iloc[0]
        assert row.kind == "links" and row.rows_read == rep.rows_read
        # No raw person id, phone number or address anywhere in the store.
        cells = "\n".join(_varchar_cells(store))
        for t in truth["lines"]:
            for raw in (*t["members"], t["deal_phone"], *t["cuckooed_addresses"]):
                assert raw not in cells
        assert "Example Road" not in cells and "Example Close" not in cells
        # (a bare "07700" could occur by chance inside a 64-hex-digit key: look for numbers)
        assert "07700 9" not in cells
        assert not any(t["deal_phone"].replace(" ", "") in cells for t in truth["lines"])
        # Loading the same file again adds nothing.
        again = ingest_links(store, path, key=KEY)
        assert again.rows_loaded == 0 and again.rows_duplicate == rep.rows_loaded
        assert again.conserved()
        assert store.query("SELECT count(*) n FROM links").n[0] == rep.rows_loaded


def test_bad_rows_rejected_with_reasons_no_raw_ids(tmp_path):
    rows = [
        "P1,person,07700 900001,phone,uses_phone,2025-03-01,2025-04-01,BTP,B2,17,,,",  # good
        "P2,persn,P3,person,association,2025-03-01,,Kent Police,,,,,",  # unknown type
        "P4,person,P5,person,co_offending,2025-02-30,,Kent Police,,,,,",  # impossible date
        "P6,person,P7,person,hangs_out,2025-03-01,,Kent Police,,,,,",  # unknown link type
        "P8,person,99 Secret Street,address,uses_phone,2025-03-01,,Kent Police,,,,,",  # pair
        "P9,person,P10,person,association,2025-03-05,2025-03-01,Kent Police,,,,,",  # order
        "P11,person,P12,person,association,2025-03-01,,Kent Police,,200,,,",  # age
        "P13,person,P14,person,association,2025-03-01,,Kent Police,,,,dealer,",  # flag
        "P15,person,P16,person,association,2025-03-01,,Kent Police,,,,",  # too few fields
        ",person,P17,person,association,2025-03-01,,Kent Police,,,,,",  # empty id
        "P18,person,P19,person,association,2099-01-01,,Kent Police,,,,,",  # future
        "P20,P21,person,person,association,2025-03-01,,Kent Police,,,,,",  # columns swapped
    ]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    with Store.open(tmp_path / "b.duckdb") as store:
        rep = ingest_links(store, path, key=KEY)
        assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (12, 1, 11)
        assert rep.conserved()
        rej = store.query("SELECT line, reason, raw FROM rejects ORDER BY line")
        reasons = dict(zip(rej.line, rej.reason, strict=True))
        assert "source_type is not one of" in reasons[3]
        assert "first_seen is not a real date" in reasons[4]
        assert "link_type is not one of" in reasons[5]
        assert "uses_phone must join person and phone" in reasons[6]
        assert "last_seen is before first_seen" in reasons[7]
        assert "source_age" in reasons[8]
        assert "source_flags holds a flag other than" in reasons[9]
        assert "malformed" in reasons[10]
        assert "source_id is empty" in reasons[11]
        assert "future" in reasons[12]
        assert "source_type" in reasons[13]
        assert all(
            r.file == str(path) for r in store.query("SELECT file FROM rejects").itertuples()
        )
        cells = "\n".join(_varchar_cells(store))
        for i in range(1, 22):
            assert f"P{i}," not in cells and not any(c == f"P{i}" for c in cells.split("\n"))
        assert "Secret Street" not in cells and "900001" not in cells
        assert "[SOURCE ID]" in cells and "[TARGET ID]" in cells


def test_missing_column_named_with_fix(tmp_path):
    path = _write(
        tmp_path,
        "source_id,source_type,target_id,link_type,first_seen\nP1,person,P2,association,2025-01-01\n",
    )
    with Store.open(tmp_path / "m.duckdb") as store:
        with pytest.raises(HarmscopeError, match="missing column.*target_type") as exc:
            ingest_links(store, path, key=KEY)
        assert "docs/links.md" in str(exc.value.fix)
        assert store.query("SELECT count(*) n FROM ingests").n[0] == 0


def test_no_key_refused_naming_the_variable(sim, tmp_path, monkeypatch):
    path, _ = sim
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    with Store.open(tmp_path / "k.duckdb") as store:
        with pytest.raises(HarmscopeError, match="no pseudonymisation key") as exc:
            ingest_links(store, path)
        assert "HARMSCOPE_KEY" in str(exc.value.where) + str(exc.value.fix)
        monkeypatch.setenv("HARMSCOPE_KEY", KEY.decode())
        assert ingest_links(store, path).rows_loaded > 0


def test_a_failure_leaves_the_store_as_it_was(sim, tmp_path, monkeypatch):
    path, _ = sim

    def boom(con):
        raise RuntimeError("crash after the rows were inserted")

    monkeypatch.setattr(links_mod, "derive_from_crime_extract", boom)
    with Store.open(tmp_path / "c.duckdb") as store:
        with pytest.raises(RuntimeError, match="crash"):
            ingest_links(store, path, key=KEY)
        for t in ("links", "link_entities", "ingests", "rejects"):
            assert store.query(f"SELECT count(*) n FROM {t}").n[0] == 0, t


def test_person_key_is_the_crime_extract_pseudonym(tmp_path):
    crimes = _write(
        tmp_path,
        CRIME_HEADER + "R1,8N,2025-03-02,2025-03-01 22:10,V1,30,O 1|O2,19|17\n",
        "extract.csv",
    )
    links = _write(
        tmp_path,
        HEADER + "O 1,person,07700 900123,phone,uses_phone,2025-03-01,,Kent Police,,19,,,\n"
        "V1,person,Margate station,place,visits_place,2025-03-01,,BTP,,30,,,\n",
    )
    with Store.open(tmp_path / "p.duckdb") as store:
        ingest_crime_extract(store, crimes, key=KEY)
        ingest_links(store, links, key=KEY)
        pseudonyms = set(store.query("SELECT pseudonym FROM persons").pseudonym)
        keys = set(
            store.query(
                "SELECT source_key FROM links WHERE source_type = 'person' AND derived_from IS NULL"
            ).source_key
        )
        assert keys and keys <= pseudonyms
        p = Pseudonymiser(KEY)
        assert entity_key(p, "person", "O1") == p("O 1") in keys
        # A phone is keyed in its own domain: it can never equal a person's key.
        assert entity_key(p, "phone", "07700 900123") == p("phone:07700900123")
        assert entity_key(p, "phone", "+44 7700 900123") == entity_key(p, "phone", "07700-900123")
        assert entity_key(p, "address", "12 Example Rd, MARGATE") == entity_key(
            p, "address", " 12  example rd margate"
        )
        assert entity_key(p, "place", " Margate  Station") == "place:margate station"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["person", "phone", "address"]),
    st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s),
)
def test_engine_keys_equal_entity_key(etype, raw):
    con = duckdb.connect()
    opad, ipad = hmac_pads(KEY)
    got = con.execute(
        f"SELECT {key_sql('t', 'raw')} FROM (SELECT $t::VARCHAR AS t, trim($raw) AS raw)",
        {"t": etype, "raw": raw, "opad": opad, "ipad": ipad},
    ).fetchone()[0]
    # the loader trims cells (DuckDB trim: spaces) before keying; HMAC normalisation drops them
    assert got == entity_key(Pseudonymiser(KEY), etype, raw)


def test_co_offending_derived_from_shared_crimes(tmp_path):
    crimes = _write(
        tmp_path,
        CRIME_HEADER
        + "R1,8N,2025-03-02,2025-03-01 22:10,V1,30,O1|O2|O3,19|17|22\n"
        + "R2,105A,2025-05-02,2025-05-01 10:00,V2,40,O2|O1,17|19\n"
        + "R3,105A,2025-06-02,2025-06-01 10:00,V3,40,O4,30\n",
        "extract.csv",
    )
    links = _write(
        tmp_path, HEADER + "O1,person,07700 900123,phone,uses_phone,2025-03-01,,Kent Police,,,,,\n"
    )
    with Store.open(tmp_path / "d.duckdb") as store:
        ingest_crime_extract(store, crimes, key=KEY)
        # A drug supply crime (92A): not in the packaged violence taxonomy, so put straight
        # into the table as a later taxonomy would load it.
        store.con.execute(
            """INSERT INTO crimes SELECT source_id, 999, line, 'k999', '92A', recorded_date,
                committed_from, committed_to, month, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                NULL, NULL, synthetic FROM crimes LIMIT 1"""
        )
        store.con.execute(
            """INSERT INTO persons_in_crimes SELECT source_id, 999, person_id, 'offender', 19,
                'male', synthetic FROM persons_in_crimes
                WHERE person_id = (SELECT person_id FROM persons WHERE pseudonym = ?) LIMIT 1""",
            [Pseudonymiser(KEY)("O3")],
        )
        rep = ingest_links(store, links, key=KEY)
        p = Pseudonymiser(KEY)
        d = store.query(
            "SELECT source_key, target_key, first_seen, last_seen, derived_from, line "
            "FROM links WHERE derived_from = 'crime_extract'"
        )
        pairs = {frozenset((r.source_key, r.target_key)): r for r in d.itertuples()}
        o1, o2, o3, o4 = (p(x) for x in ("O1", "O2", "O3", "O4"))
        assert set(pairs) == {frozenset((o1, o2)), frozenset((o1, o3)), frozenset((o2, o3))}
        assert rep.derived_links == 3
        r12 = pairs[frozenset((o1, o2))]
        assert str(r12.first_seen)[:10] == "2025-03-01" and str(r12.last_seen)[:10] == "2025-05-01"
        assert pd.isna(r12.line)  # derived links have no file line
        ent = store.query("SELECT * FROM link_entities").set_index("entity_key")
        assert o4 not in ent.index  # a lone offender has no co-offending link
        assert ent.loc[o3, "supply_offence"] and not ent.loc[o2, "supply_offence"]
        assert ent.loc[o2, "age"] == 17
        assert rep.supply_flagged == 1
        # Deriving again rebuilds, never doubles.
        assert links_mod.derive_links(store)["links"] == 3
        assert (
            store.query("SELECT count(*) n FROM links WHERE derived_from = 'crime_extract'").n[0]
            == 3
        )


def test_a_line_with_surplus_cells_is_one_reject_and_lines_stay_right(tmp_path):
    # DuckDB reports a line with two surplus cells twice; it is one row read, one reject,
    # and the rows after it keep their own line numbers.
    text = (
        "source_id,source_type,target_id,target_type,link_type,first_seen\n"
        "P1,persn,P2,person,association,2025-01-01\n"
        "P1,person,P2,person,association,2025-01-01,x,y\n"
        "P1,person,P2,person,association,2025-13-01\n"
        "P1,person,P2,person,association,2025-01-01\n"
    )
    with Store.open(tmp_path / "x.duckdb") as store:
        rep = ingest_links(store, _write(tmp_path, text), key=KEY)
        assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (4, 1, 3)
        rej = store.query("SELECT line, reason FROM rejects ORDER BY line")
        assert rej.line.tolist() == [2, 3, 4]
        assert "source_type" in rej.reason[0] and "malformed" in rej.reason[1]
        assert "first_seen" in rej.reason[2]
        assert store.query("SELECT line FROM links").line.tolist() == [5]
        assert rep.reject_line_numbers[rej.reason[2]] == [4]


def test_the_example_in_docs_loads(tmp_path):
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "links.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    with Store.open(tmp_path / "doc.duckdb") as store:
        rep = ingest_links(store, _write(tmp_path, example), key=KEY)
        assert rep.rows_rejected == 0 and rep.rows_loaded == example.count("\n") - 1
        assert rep.synthetic
