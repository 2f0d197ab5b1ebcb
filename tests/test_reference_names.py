"""District from LSOA name, on every distinct LSOA name in the real Kent, Essex, Sussex files."""

from __future__ import annotations

import duckdb
import pytest

from harmscope import reference


@pytest.fixture(scope="module")
def names(shared_data):
    files = [str(p) for p in sorted((shared_data / "police").glob("*/street/*.csv.gz"))]
    assert len(files) == 48
    return duckdb.sql(
        f"""SELECT "Falls within" AS force, "LSOA code" AS code, "LSOA name" AS name,
                   count(*) AS n
            FROM read_csv({files!r}, union_by_name=true)
            WHERE "LSOA name" IS NOT NULL GROUP BY ALL"""
    ).df()


def test_every_real_lsoa_name_is_matched(names):
    distinct = sorted(set(names.name))
    got = dict(zip(distinct, reference.lad_from_lsoa_name(distinct), strict=True))
    unmatched = [n for n, c in got.items() if c is None]
    print(f"{len(distinct)} distinct LSOA names, {len(unmatched)} unmatched: {unmatched[:10]}")
    assert unmatched == []


def test_name_match_agrees_with_the_2011_code_lookup(names):
    lsoa = reference.load_lsoa11()
    lad_of = dict(zip(lsoa.lsoa11_code, lsoa.lad_code, strict=True))
    known = names[names.code.isin(lad_of)].drop_duplicates(["code", "name"])
    got = reference.lad_from_lsoa_name(known.name)
    want = [lad_of[c] for c in known.code]
    bad = [(n, g, w) for n, g, w in zip(known.name, got, want, strict=True) if g != w]
    assert len(known) > 3_000
    assert bad == []


def test_names_fall_in_the_reporting_force_area(names):
    codes = reference.lad_from_lsoa_name(names.name)
    lad = reference.load_lad().set_index("lad_code")
    names = names.assign(force_of_lad=[lad.loc[c, "force"] for c in codes])
    outside = names[names.force_of_lad != names.force]
    share = outside.n.sum() / names.n.sum()
    print(f"rows whose LSOA district lies outside the reporting force: {share:.3%}")
    assert 0 < share < 0.005
    # SOURCES section 4: Kent files hold a few Bexley and Wealden rows.
    kent_out = set(
        lad.loc[
            list(set(c for c, f in zip(codes, names.force, strict=True) if f == "Kent Police")),
            "lad_name",
        ]
    ) - set(lad[lad.force == "Kent Police"].lad_name)
    assert {"Bexley", "Wealden"} <= kent_out


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Maidstone 012F", "E07000110"),
        ("Folkestone and Hythe 005A", "E07000112"),
        ("Shepway 005A", "E07000112"),  # the 2011 name of the same district
        ("Tonbridge & Malling 001A", "E07000115"),
        ("  Medway 015A ", "E06000035"),
        ("Mendip 001A", "E06000066"),  # merged into Somerset in 2023
        ("Taunton Deane 001A", "E06000066"),  # two renames: TAU -> SWT -> Somerset
        ("Bristol 001A", "E06000023"),
        ("St Helens 001A", "E08000013"),
        ("Southend-on-Sea 001A", "E06000033"),
        ("Rhondda Cynon Taf 001A", "W06000016"),
        ("Vale of Glamorgan 001A", "W06000014"),  # register: "The Vale of Glamorgan"
        ("Bristol, City of 001A", "E06000023"),
        ("Herefordshire, County of 001A", "E06000019"),
        ("Bournemouth, Christchurch and Poole 001A", "E06000058"),
        ("Barrow-in-Furness 001A", "E06000064"),  # Cumbria split: to Westmorland and Furness
        ("Copeland 001A", "E06000063"),  # ... and to Cumberland
        ("Nowhere 001A", None),
        ("Maidstone", None),  # not an LSOA name
        ("", None),
        (None, None),
    ],
)
def test_known_names(name, code):
    assert reference.lad_from_lsoa_name([name]) == [code]
