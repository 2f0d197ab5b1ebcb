"""Packaged geography tables checked against the public source files they come from."""

from __future__ import annotations

import csv
import gzip

import duckdb
import pytest

from harmscope import reference


@pytest.fixture(scope="module")
def ref(shared_data):
    return shared_data / "reference"


@pytest.fixture(scope="module")
def lsoa():
    return reference.load_lsoa11()


@pytest.fixture(scope="module")
def lad():
    return reference.load_lad()


def _km_lookup(ref) -> dict[str, tuple[str, str]]:
    with open(ref / "lookups/kent_medway_lsoa11_to_lad.csv", newline="") as fh:
        return {r["LSOA11CD"]: (r["LSOA11NM"], r["LAD_CD"]) for r in csv.DictReader(fh)}


def test_every_england_and_wales_lsoa_once(lsoa, ref):
    assert len(lsoa) == 34_753
    assert lsoa.lsoa11_code.is_unique
    assert (lsoa.lsoa11_code.str[0] == "E").sum() == 32_844
    assert (lsoa.lsoa11_code.str[0] == "W").sum() == 1_909
    with gzip.open(ref / "ruc/ruc_2011.csv.gz", "rt", newline="") as fh:
        source = {r["lsoa"]: r for r in csv.DictReader(fh)}
    assert set(lsoa.lsoa11_code) == set(source)
    row = lsoa.set_index("lsoa11_code").loc["E01024379"]  # a Kent LSOA, spot-check the join
    assert row.ruc11_code == source["E01024379"]["RUC11CD"]
    assert row.lsoa11_name == source["E01024379"]["LSOA11NM"]
    # Every LSOA has a district: none is left without one.
    assert lsoa.lad_code.notna().all() and lsoa.lad_name.notna().all()


def test_kent_and_medway_rows_agree_with_the_geojson_lookup(lsoa, ref):
    km = _km_lookup(ref)
    assert len(km) == 1_065
    rows = lsoa[lsoa.lsoa11_code.isin(km)]
    assert len(rows) == 1_065
    for code, name, lad_code in zip(rows.lsoa11_code, rows.lsoa11_name, rows.lad_code, strict=True):
        assert km[code] == (name, lad_code), code
    assert set(rows.lad_code) == set(reference.lad_codes_for_force("Kent Police"))


def test_population_matches_an_independent_sum_of_the_source(lsoa, lad, ref):
    # Re-derive from the raw files in DuckDB, not pandas: population -> LSOA -> council -> GSS.
    con = duckdb.connect()
    by_lad = con.execute(
        f"""
        WITH pop AS (
            SELECT lsoa, CAST(replace(pop, ',', '') AS BIGINT) AS pop
            FROM read_csv('{ref / "population/2019_population.csv.gz"}', all_varchar=true)
            WHERE lsoa <> 'Grand Total'),
        look AS (SELECT * FROM read_csv('{ref / "lookups/lookup_lsoa_to_registry.csv.gz"}',
                                        all_varchar=true)),
        reg AS (SELECT "local-authority-code" AS la, "gss-code" AS gss
                FROM read_csv('{ref / "lookups/uk_local_authorities_current.csv.gz"}',
                              all_varchar=true))
        SELECT reg.gss AS lad_code, sum(pop.pop) AS pop
        FROM pop JOIN look ON look.lsoa = pop.lsoa
        JOIN reg ON reg.la = look."local-authority-code"
        WHERE pop.lsoa LIKE 'E%' OR pop.lsoa LIKE 'W%'
        GROUP BY 1"""
    ).df()
    expected = dict(zip(by_lad.lad_code, by_lad["pop"].astype(int), strict=True))
    assert int(lsoa.population_2019.sum()) == sum(expected.values())
    got = dict(zip(lad.lad_code, lad.population_2019.astype(int), strict=True))
    assert got == expected
    # The source's 'Grand Total' row is not the total of its rows: it must not be used.
    total_row = con.execute(
        f"""SELECT CAST(replace(pop, ',', '') AS BIGINT) FROM
            read_csv('{ref / "population/2019_population.csv.gz"}', all_varchar=true)
            WHERE lsoa = 'Grand Total'"""
    ).fetchone()[0]
    assert total_row != sum(expected.values())
    assert lsoa.population_2019.notna().all() and (lsoa.population_2019 > 0).all()


def test_imd_is_english_only_and_in_national_deciles(lsoa):
    eng = lsoa[lsoa.lsoa11_code.str.startswith("E")]
    wal = lsoa[lsoa.lsoa11_code.str.startswith("W")]
    assert eng.imd_decile.notna().all() and eng.imd_score.notna().all()
    assert wal.imd_decile.isna().all() and wal.imd_score.isna().all()
    # IMD deciles split the 32,844 English LSOAs by rank into tenths (3,284.4 each; the
    # published cut points put 3,283-3,285 in each).
    counts = eng.imd_decile.value_counts()
    assert sorted(counts.index) == list(range(1, 11))
    assert counts.between(3_283, 3_285).all(), counts.to_dict()
    # A higher score is more deprived, and deciles are score bands that do not overlap
    # (beyond the 3-decimal rounding of the packaged score).
    bands = eng.groupby("imd_decile").imd_score.agg(["min", "max"]).sort_index()
    assert (bands["max"].shift(-1).iloc[:-1] <= bands["min"].iloc[:-1] + 0.001).all()


def test_urban_rural_follows_the_ruc_codes(lsoa):
    urban = lsoa.ruc11_code.isin(["A1", "B1", "C1", "C2"])
    rural = lsoa.ruc11_code.isin(["D1", "D2", "E1", "E2"])
    assert (urban | rural).all()
    assert (lsoa.urban_rural[urban] == "urban").all()
    assert (lsoa.urban_rural[rural] == "rural").all()


def test_lad_table_covers_every_district_with_a_force(lad, lsoa):
    assert len(lad) == 318
    assert set(lsoa.lad_code) == set(lad.lad_code)
    forces = set(reference.load_forces().force_name)
    assert lad.force.notna().all()
    assert set(lad.force) <= forces
    kent = lad[lad.force == "Kent Police"]
    assert len(kent) == 13
    assert set(kent.county) == {"Kent", "Medway"}
    assert (kent.county == "Kent").sum() == 12
    assert kent.csp.notna().all()
    essex = lad[lad.force == "Essex Police"]
    assert len(essex) == 14
    assert set(essex.lad_name) >= {"Southend-on-Sea", "Thurrock", "Chelmsford"}
    sussex = lad[lad.force == "Sussex Police"]
    assert len(sussex) == 13
    assert set(sussex.county) == {"East Sussex", "West Sussex", "Brighton and Hove"}
    fh = lad.set_index("lad_code").loc["E07000112"]
    assert fh.lad_name == "Folkestone and Hythe"
    assert "Shepway" in fh.alt_names.split("|")


def test_alt_names_never_point_at_two_districts(lad):
    from harmscope.reference.names import normalise_name

    seen: dict[str, str] = {}
    for code, name, alts in zip(lad.lad_code, lad.lad_name, lad.alt_names, strict=True):
        for n in [name, *(alts.split("|") if isinstance(alts, str) else [])]:
            key = normalise_name(n)
            assert seen.setdefault(key, code) == code, (n, code, seen[key])


def test_force_slugs(shared_data):
    assert reference.force_name_for_slug("kent") == "Kent Police"
    assert reference.force_name_for_slug("Metropolitan") == "Metropolitan Police Service"
    assert reference.force_name_for_slug("city-of-london") == "City of London Police"
    assert reference.force_name_for_slug("atlantis") is None
    assert reference.force_name_for_slug("") is None
    forces = reference.load_forces()
    assert len(forces) == 45 and forces.force_slug.is_unique and forces.force_name.is_unique
    # The 'Falls within' text of every real file is the name its file-name slug maps to
    # (the first 200 rows of each file: enough to see the force, quick to read).
    files = sorted((shared_data / "police").glob("*/street/*-street.csv.gz"))
    assert len(files) == 48
    for f in files:
        slug = f.name[len("YYYY-MM-") : -len("-street.csv.gz")]
        with gzip.open(f, "rt", newline="") as fh:
            rows = csv.DictReader(fh)
            falls = {r["Falls within"] for _, r in zip(range(200), rows, strict=False)}
        assert falls == {reference.force_name_for_slug(slug)}, f.name


def test_lad_codes_for_force():
    assert len(reference.lad_codes_for_force("Kent Police")) == 13
    assert reference.lad_codes_for_force("kent police") == reference.lad_codes_for_force(
        "Kent Police"
    )
    assert len(reference.lad_codes_for_force("Metropolitan Police Service")) == 32
    assert reference.lad_codes_for_force("No Such Police") == set()


def test_loaders_return_independent_copies():
    a = reference.load_lad()
    a.loc[:, "lad_name"] = "changed"
    assert (reference.load_lad().lad_name != "changed").all()
