"""Issue 12, areas: named community safety partnerships from a packaged, sourced table resolve
to their districts, the same way as several districts given by name."""

from __future__ import annotations

import json

import pytest

from harmscope.analysis.harm import resolve_scope
from harmscope.errors import HarmscopeError
from harmscope.reference import csp_districts, load_csps, load_lad


def test_csp_table_is_sourced_and_its_districts_exist():
    csps, lad = load_csps(), load_lad()
    kent_police = set(lad.loc[lad.force == "Kent Police", "lad_code"])
    assert len(csps) >= 14
    for row in csps.itertuples():
        codes = str(row.lad_codes).split("|")
        assert set(codes) <= kent_police, row.csp_name
        assert isinstance(row.source, str) and len(row.source) > 20, row.csp_name
        assert row.estimate in ("yes", "no"), row.csp_name
        if row.estimate == "yes":
            assert row.source.startswith("Estimate"), row.csp_name
    # every Kent and Medway district is in a current district-level CSP
    current = csps[csps.status == "current"]
    single = {codes for codes in current.lad_codes if "|" not in codes}
    assert single == kent_police


@pytest.mark.parametrize(
    ("area", "label", "codes"),
    [
        (
            "Dartford and Gravesham CSP",
            "Dartford and Gravesham Community Safety Partnership",
            ["E07000107", "E07000109"],
        ),
        (
            "dartford & gravesham community safety partnership",
            "Dartford and Gravesham Community Safety Partnership",
            ["E07000107", "E07000109"],
        ),
        ("Safer Maidstone Partnership", "Safer Maidstone Partnership", ["E07000110"]),
        ("Medway CSP", "Medway Community Safety Partnership", ["E06000035"]),
        ("Shepway CSP", "Folkestone and Hythe Community Safety Partnership", ["E07000112"]),
    ],
)
def test_csp_resolves_to_its_districts(area, label, codes):
    scope = resolve_scope(area)
    assert scope.label == label
    assert scope.lad_codes == codes
    assert scope.force == "Kent Police"


def test_county_csp_is_the_twelve_kent_districts_and_a_csp_mixes_with_districts():
    assert resolve_scope("Kent CSP").lad_codes == resolve_scope("Kent").lad_codes
    assert len(resolve_scope("Kent Community Safety Partnership").lad_codes) == 12
    both = resolve_scope("Dartford and Gravesham CSP, Medway")
    assert both.lad_codes == ["E06000035", "E07000107", "E07000109"]
    assert csp_districts("no such partnership") is None


def test_misspelt_csp_gets_did_you_mean():
    with pytest.raises(HarmscopeError, match="did you mean Safer Maidstone Partnership"):
        resolve_scope("Safer Maidston Partnership")


def test_cli_csp_area_counts_as_its_districts(kent_store_path, capsys):
    from harmscope.cli import main as cli_main

    def count(area: str) -> int:
        args = ["harm", "--area", area, "--from", "2025-03", "--to", "2025-03"]
        assert cli_main([*args, "--db", str(kent_store_path), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        return doc["summary"]["count"], doc["summary"]["area"]

    n_csp, label = count("Dartford and Gravesham CSP")
    n_parts, _ = count("Dartford,Gravesham")
    assert n_csp == n_parts > 0
    assert label == "Dartford and Gravesham Community Safety Partnership"
