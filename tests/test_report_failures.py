"""A broken part is an error, not a box (issue 19, finding 7).

* A section that does not apply to the area says so in its place and the report is written
  (exit 0): an area with no rural LSOA has no rural/urban comparison.
* A section that crashes (anything but ``NotApplicable``, a HarmscopeError included) stops
  the report: exit non-zero, the section named, nothing written (not even over an old file),
  no temporary file left; ``--allow-partial`` writes an internal draft with the failure boxed.

Real police.uk data throughout (Essex Police street files, 2025-01..02). The planted crashes
replace a section's ``build`` (a plug-in of the report), never the store.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import COMPARISON_STREET, KENT_STREET, ROOT
from harmscope.analysis.harm import rural_urban
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

MONTHS = ("2025-01", "2025-02")
LSOA11 = ROOT / "src/harmscope/reference/data/geography/lsoa11.csv.gz"


def _street_db(tmp_path_factory, name: str, forces: tuple[str, ...], months) -> str:
    """A store of the real police.uk street files of ``forces`` for ``months``."""
    files = [
        p for p in COMPARISON_STREET if p.name[:7] in months and p.name[8:].split("-")[0] in forces
    ]
    assert len(files) == len(forces) * len(months), files
    db = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
    with Store.open(db) as store:
        assert ingest_paths(store, files).ok
    return str(db)


@pytest.fixture(scope="module")
def essex_db(tmp_path_factory):
    """Essex Police street crimes, Jan and Feb 2025 (real police.uk files): one force."""
    return _street_db(tmp_path_factory, "essex", ("essex",), MONTHS)


@pytest.fixture(scope="module")
def two_forces_db(tmp_path_factory):
    """Essex and Sussex street crimes, Jan 2025: a store holding two forces."""
    return _street_db(tmp_path_factory, "two", ("essex", "sussex"), MONTHS[:1])


def _ruc(district: str) -> pd.Series:
    """The RUC 2011 urban/rural class of every 2011 LSOA of ``district``, read from the
    packaged reference file directly (not through the code under test)."""
    lsoa = pd.read_csv(LSOA11, usecols=["lad_name", "urban_rural"])
    return lsoa.loc[lsoa.lad_name == district, "urban_rural"]


def test_all_urban_district_has_no_rural_comparison(essex_db):
    """Basildon (Essex Police) is an area with no rural LSOA: all its 2011 LSOAs are urban in
    ONS RUC 2011, checked here against the packaged file. It is a real district of a real
    force, so its rows, placement and LSOAs are the police.uk ones, nothing relabelled (no
    Kent district is all urban: every one has rural LSOAs). Before the fix the GLM's rural
    term was missing and the section raised KeyError."""
    ruc = _ruc("Basildon")
    assert len(ruc) > 100 and set(ruc) == {"urban"}
    with Store.open(essex_db, read_only=True) as store:
        res = rural_urban(store, area="Basildon", date_from=MONTHS[0], date_to=MONTHS[1])
        mixed = rural_urban(store, area="Chelmsford", date_from=MONTHS[0], date_to=MONTHS[1])
    sentence = (
        f"all {len(ruc)} LSOAs in Basildon are urban (ONS RUC 2011), none rural; "
        "a rural/urban comparison does not apply"
    )
    assert res.summary["comparison"] == "not applicable"
    assert res.summary["not_applicable"] == sentence and sentence in res.notes
    assert list(res.table.urban_rural) == ["urban"] and int(res.table.lsoas.iloc[0]) == len(ruc)
    assert "rural_vs_urban_harm_rate_ratio" not in res.summary
    # a district with both classes still gets its ratio and interval
    assert set(_ruc("Chelmsford")) == {"urban", "rural"}
    assert mixed.summary["comparison"] == "rural against urban"
    lo, hi = mixed.summary["rural_vs_urban_harm_rate_ratio_ci"]
    assert lo < mixed.summary["rural_vs_urban_harm_rate_ratio"] < hi


def test_not_applicable_sections_are_announced_and_the_report_written(essex_db, tmp_path, capsys):
    out = tmp_path / "basildon.html"
    args = ["report", "--db", str(essex_db), "--area", "Basildon"]
    code = main([*args, "--from", MONTHS[0], "--to", MONTHS[1], "--out", str(out), "--json"])
    assert code == 0, capsys.readouterr().err
    html = out.read_text(encoding="utf-8")
    assert "Does not apply here:</strong> all " in html
    assert "LSOAs in Basildon are urban (ONS RUC 2011), none rural" in html
    assert "Basildon is one district with placed crimes; there is no ranking of districts" in html
    assert "KeyError" not in html and "could not be built" not in html


def _plant(monkeypatch, exc: Exception) -> None:
    import harmscope.report.sections.profile_categories as cats

    def broken(ctx):
        raise exc

    monkeypatch.setattr(cats, "build", broken)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("planted failure"),
        # a HarmscopeError is a failure too, not "no data" (the people section used to turn
        # one into an absent section)
        HarmscopeError("planted failure", where="analysis", fix="-"),
    ],
    ids=["bug", "harmscope-error"],
)
def test_crashed_section_writes_nothing_and_exits_nonzero(
    essex_db, tmp_path, monkeypatch, capsys, exc
):
    _plant(monkeypatch, exc)
    out = tmp_path / "profile.html"
    out.write_text("the last good report", encoding="utf-8")
    args = ["report", "--db", str(essex_db), "--area", "Essex Police", "--from", MONTHS[0]]
    args += ["--to", MONTHS[1], "--sections", "profile_headline,profile_categories"]
    for extra in ([], ["--audience", "partner"], ["--format", "xlsx"]):
        target = out if "--format" not in extra else tmp_path / "profile.xlsx"
        assert main([*args, "--out", str(target), *extra]) == 2
        err = capsys.readouterr().err
        assert "section profile_categories" in err and "planted failure" in err
        assert "not written" in err
    # the old file is untouched and no temporary file is left beside it
    assert out.read_text(encoding="utf-8") == "the last good report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.html"]
    # --allow-partial: an internal draft, the failure in its box, exit 0
    assert main([*args, "--out", str(out), "--allow-partial"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "This section could not be built." in html and "planted failure" in html
    # ... never for a partner or the public
    capsys.readouterr()
    assert main([*args, "--out", str(out), "--allow-partial", "--audience", "public"]) == 2
    assert "partner and public reports are only written whole" in capsys.readouterr().err


def test_library_resolves_no_area_to_the_only_force_and_says_so(essex_db, two_forces_db):
    """No silent Kent default: with no area, the one force the store holds (announced in the
    notes); several forces are refused, naming them."""
    from harmscope.analysis.harm import concentration, deprivation_gradient, smoothed_lsoa_rates

    with Store.open(essex_db, read_only=True) as store:
        for fn in (rural_urban, deprivation_gradient, smoothed_lsoa_rates):
            res = fn(store, date_from=MONTHS[0], date_to=MONTHS[1])
            assert res.summary["area"] == "Essex Police"
            assert res.notes[0] == (
                "Area: Essex Police, the only force the store holds (no area was given)."
            )
        given = rural_urban(store, area="Essex Police", date_from=MONTHS[0], date_to=MONTHS[1])
        assert not any(n.startswith("Area:") for n in given.notes)
        assert given.summary == rural_urban(store, date_from=MONTHS[0], date_to=MONTHS[1]).summary
    with Store.open(two_forces_db, read_only=True) as store:
        with pytest.raises(HarmscopeError, match=r"2 forces \(Essex Police, Sussex Police\)"):
            concentration(store, date_from="2025-01", date_to="2025-01", reps=10)


def test_ed_picture_compares_with_the_force_the_ed_records_lie_in(tmp_path_factory):
    """``true_picture`` had force='Kent Police' fixed. In a store of two forces it now takes
    the force whose districts hold the ED records (planted: a synthetic ED file calibrated
    on Kent's real violence, so its records lie in Kent's districts), says so in the notes,
    and an explicit force still wins."""
    from harmscope.analysis.linkage import true_picture
    from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv
    from harmscope.sources.ed import ingest_ed

    files = [p for p in (*KENT_STREET, *COMPARISON_STREET) if p.name[:7] == "2025-01"]
    files = [p for p in files if "sussex" not in p.name]  # Kent and Essex, January 2025
    folder = tmp_path_factory.mktemp("ed_force")
    with Store.open(folder / "ed.duckdb") as store:
        assert ingest_paths(store, files).ok
        sim = simulate_ed(police_volumes(store, "Kent Police"), seed=3)
        assert ingest_ed(
            store, write_ed_csv(sim, folder / "ed.csv"), key=b"force-test-key-9f3Kq27ZpX04mLw"
        ).rows_loaded
        res = true_picture(store)
        note = "Force: Kent Police, where the placed ED records lie (no force was given)."
        assert note in res.notes
        given = true_picture(store, force="Kent Police")
        assert not any(n.startswith("Force:") for n in given.notes)
        assert given.summary == res.summary
