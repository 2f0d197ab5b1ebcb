"""The county-lines ``supply_offence`` flag from a force crime extract (issue 15).

The packaged offence table holds the drug codes (92A, 92C-92E), so an extract's drug rows load
instead of being quarantined, and ``derive_from_crime_extract`` flags offenders in a 92A
(trafficking) crime. Possession (92C-92E) is not supply. Real DuckDB stores; the people and
their expected flags are written out by hand below, not computed by the code under test.
"""

from __future__ import annotations

import secrets

from harmscope.privacy.pseudonymise import Pseudonymiser
from harmscope.reference.offences import load_taxonomy
from harmscope.sources import links as links_mod
from harmscope.sources.crime_extract import ingest_crime_extract
from harmscope.sources.links import ingest_links
from harmscope.store import Store

KEY = secrets.token_hex(32).encode()
CRIMES = (
    "crime_ref,offence_code,recorded_date,committed_from,offender_id,offender_age\n"
    "R1,92A,2025-03-02,2025-03-01 22:10,S1|S2,24|17\n"  # supply, two co-offenders
    "R2,92D,2025-03-05,2025-03-04 12:00,P1|P2,19|16\n"  # possession, two co-offenders
    "R3,92A,2025-04-02,2025-04-01 09:00,S3,30\n"  # supply, alone; S3 is in the links file
    "R4,92D,2025-04-03,2025-04-02 09:00,P3,21\n"  # possession, alone; P3 is in the links file
    "R5,92E,2025-04-04,2025-04-03 09:00,P1,19\n"  # cannabis possession: still not supply
    "R6,92C,2025-04-05,2025-04-04 09:00,P2,16\n"  # other drug offence: not supply
    "R7,92A,2025-05-02,2025-05-01 09:00,L1,40\n"  # supply, alone, in no links file
    "R8,8N,2025-05-03,2025-05-02 23:00,P3|X1,21|33\n"  # violence: not supply
)
LINKS = (
    "source_id,source_type,target_id,target_type,link_type,first_seen\n"
    "S3,person,07700 900001,phone,uses_phone,2025-04-01\n"
    "P3,person,07700 900002,phone,uses_phone,2025-04-02\n"
)
# The answer, by hand: supply offenders who are entities are S1, S2 (co-offenders on R1) and
# S3 (named in the links file). L1 is a lone offender named nowhere else: no entity.
SUPPLY = {"S1", "S2", "S3"}
NOT_SUPPLY = {"P1", "P2", "P3", "X1"}


def _files(tmp_path):
    crimes = tmp_path / "extract.csv"
    crimes.write_text(CRIMES, encoding="utf-8")
    links = tmp_path / "links.csv"
    links.write_text(LINKS, encoding="utf-8")
    return crimes, links


def _flags(store) -> dict[str, bool]:
    """supply_offence by raw person id, for every person of the test who is an entity."""
    p = Pseudonymiser(KEY)
    ent = store.query("SELECT entity_key, supply_offence FROM link_entities")
    flags = dict(zip(ent.entity_key, ent.supply_offence, strict=True))
    return {x: bool(flags[p(x)]) for x in (*SUPPLY, *NOT_SUPPLY, "L1") if p(x) in flags}


def test_drug_codes_are_in_the_packaged_table_and_supply_is_trafficking():
    tax = load_taxonomy().set_index("code")
    for code in ("92A", "92C", "92D", "92E"):
        assert tax.loc[code, "police_category"] == "Drugs"
        assert tax.loc[code, "offence_group"] == "Drug offences"
    assert tax.loc["92A", "ons_subgroup"] == "Trafficking of drugs"
    assert {tax.loc[c, "ons_subgroup"] for c in ("92C", "92D", "92E")} == {"Possession of drugs"}
    # links.py's supply codes are exactly the trafficking codes of the table.
    trafficking = set(tax.index[tax.ons_subgroup == "Trafficking of drugs"])
    assert set(links_mod.SUPPLY_CODES) == trafficking


def test_drug_rows_load_and_set_the_supply_flag(tmp_path):
    crimes, links = _files(tmp_path)
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_crime_extract(store, crimes, key=KEY)
        assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (8, 8, 0)
        assert not rep.unknown_codes
        held = store.query("SELECT offence_code, count(*) n FROM crimes GROUP BY 1")
        assert dict(zip(held.offence_code, held.n, strict=True)) == {
            "92A": 3,
            "92C": 1,
            "92D": 2,
            "92E": 1,
            "8N": 1,
        }
        lrep = ingest_links(store, links, key=KEY)
        assert lrep.supply_flagged == len(SUPPLY)
        flags = _flags(store)
        assert "L1" not in flags  # a lone offender named in no link: no entity
        assert flags == {**dict.fromkeys(SUPPLY, True), **dict.fromkeys(NOT_SUPPLY, False)}
        # Deriving again changes nothing.
        assert links_mod.derive_links(store)["supply_flagged"] == len(SUPPLY)
        assert _flags(store) == flags


def test_links_first_then_extract_then_derive(tmp_path):
    # The other order: the links file is loaded before the extract, and `links derive`
    # (derive_links) picks up the extract's supply rows.
    crimes, links = _files(tmp_path)
    with Store.open(tmp_path / "s.duckdb") as store:
        assert ingest_links(store, links, key=KEY).supply_flagged == 0
        assert _flags(store) == {"S3": False, "P3": False}
        ingest_crime_extract(store, crimes, key=KEY)
        assert links_mod.derive_links(store)["supply_flagged"] == len(SUPPLY)
        assert _flags(store) == {
            **dict.fromkeys(SUPPLY, True),
            **dict.fromkeys(NOT_SUPPLY, False),
        }
