"""Intervention register: the documented format, its validation errors, and the store."""

from __future__ import annotations

import textwrap

import pytest

from harmscope.errors import HarmscopeError
from harmscope.sources.register import (
    STRANDS,
    example_register_path,
    load_schemes,
    read_register,
    store_register,
)
from harmscope.store import Store

GOOD = """
schemes:
  - name: Test scheme
    provider: Example Trust
    areas:
      districts: [Thanet]
    start: 2025-07
    cost_gbp: "£120,000"
    strand: Enforcement
    target_outcome:
      crime_types: [violence and sexual offences, Robbery]
      harm: true
    target_group: young people
"""


def _write(tmp_path, text, name="reg.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_example_register_has_the_partnership_schemes_and_no_invented_dates():
    schemes = read_register(example_register_path())
    names = [s["name"] for s in schemes]
    assert len(schemes) == 9
    for expected in (
        "St Giles Trust",
        "The Shed",
        "Hang 10",
        "Youth Resilience",
        "Refocus",
        "Reform, Restore, Respect",
        "Growing Against Violence",
        "Medway Task Force",
        "Volunteer Police Cadets",
    ):
        assert any(n.startswith(expected) for n in names), expected
    assert all(s["start"] is None and s["end"] is None and s["cost_gbp"] is None for s in schemes)
    assert {s["strand"] for s in schemes} <= set(STRANDS)
    kinds = {s["area_kind"] for s in schemes}
    assert kinds == {"districts", "point", "countywide"}


def test_good_register_is_normalised(tmp_path):
    (s,) = read_register(_write(tmp_path, GOOD))
    assert s["strand"] == "enforcement"
    assert s["crime_types"] == ["Violence and sexual offences", "Robbery"]
    assert s["cost_gbp"] == 120000.0
    assert s["start"].isoformat() == "2025-07-01"
    assert s["force"] == "Kent Police"


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("strand: Enforcement", "strand: policing", "strand", "four"),
        ("start: 2025-07", "start: July 2025", "start", "YYYY-MM"),
        ("start: 2025-07", "start: 2025-07\n    end: 2025-01", "end", "before start"),
        (
            "districts: [Thanet]",
            "districts: [Thanet]\n      lsoas: [E01024123]",
            "areas",
            "exactly one",
        ),
        ("districts: [Thanet]", "lsoas: [X123]", "areas.lsoas", "LSOA codes"),
        (
            "crime_types: [violence and sexual offences, Robbery]",
            "crime_types: [Knife crime]",
            "crime_types",
            "police.uk",
        ),
        ("target_group: young people", "target_groop: young people", "scheme 1", "unknown field"),
        ('cost_gbp: "£120,000"', "cost_gbp: lots", "cost_gbp", "not a number"),
        ("provider: Example Trust", "provider: ''", "provider", "missing"),
    ],
)
def test_errors_name_the_file_scheme_field_and_fix(tmp_path, old, new, where, words):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(HarmscopeError) as err:
        read_register(path)
    msg = str(err.value)
    assert str(path) in msg and where in msg and words in msg and "Fix:" in msg


def test_duplicate_names_and_bad_yaml(tmp_path):
    dup = GOOD + GOOD.split("schemes:\n", 1)[1]
    with pytest.raises(HarmscopeError, match="unique"):
        read_register(_write(tmp_path, dup))
    with pytest.raises(HarmscopeError, match="not valid YAML"):
        read_register(_write(tmp_path, "schemes:\n  - name: [unclosed\n"))
    with pytest.raises(HarmscopeError, match="schemes:"):
        read_register(_write(tmp_path, "- name: x\n"))


def test_csv_form(tmp_path):
    text = (
        "name,provider,area_kind,areas,force,start,end,cost_gbp,strand,crime_types,harm,target_group,selected_for_high_counts,notes\n"
        "A,P,point,51.33;1.41;1500,,2025-06,,5000,prevention,Violence and sexual offences,true,youth,yes,n\n"
        "B,P,lsoas,E01024123;E01024124,,,,,rehabilitation,,false,,,\n"
    )
    a, b = read_register(_write(tmp_path, text, "reg.csv"))
    assert a["areas"]["point"] == {"lat": 51.33, "lon": 1.41, "radius_m": 1500.0}
    assert a["selected_for_high_counts"] is True and a["cost_gbp"] == 5000.0
    assert b["areas"]["lsoas"] == ["E01024123", "E01024124"] and b["start"] is None
    with pytest.raises(HarmscopeError, match="lat;lon;radius_m"):
        read_register(_write(tmp_path, text.replace("51.33;1.41;1500", "51.33"), "bad.csv"))


def test_stored_in_a_real_store_and_replaced_by_name(tmp_path):
    store = Store.open(":memory:")
    path = example_register_path()
    assert store_register(store, read_register(path), path) == 9
    assert store_register(store, read_register(path), path) == 9  # re-load replaces, no duplicates
    back = load_schemes(store)
    assert len(back) == 9
    assert {s["name"]: s for s in back}["Hang 10 (Ramsgate)"]["areas"]["point"][
        "radius_m"
    ] == 1500.0
    assert back == sorted(read_register(path), key=lambda s: s["name"])
    with pytest.raises(HarmscopeError, match="no scheme named"):
        load_schemes(store, ["nonexistent"])
