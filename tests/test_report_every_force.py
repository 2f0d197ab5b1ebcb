"""The problem-profile report is right for any force, not only Kent (issue 19).

The whole report is built for Essex Police and Sussex Police from their real police.uk street
files (2025-01..03, with Kent's for the comparison-force section), through the CLI. It must
exit 0 with every section either built or announced (not applicable, with its reason, or
named at the end as holding no data of its kind), and its text must not carry Kent into
another force's report: no Kent district or town named outside the comparison of forces.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pandas as pd
import pytest

from conftest import COMPARISON_STREET, KENT_STREET
from harmscope.cli import main
from harmscope.report.render import discover_sections
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

MONTHS = ("2025-01", "2025-02", "2025-03")
# Sections that apply to any force with street crimes: they must be built, not announced.
EVERY_FORCE = {
    "coverage",
    "profile_headline",
    "profile_trend",
    "alerts",
    "profile_categories",
    "hotspots",
    "profile_concentration",
    "profile_rural_urban",
    "profile_deprivation",
    "profile_districts",
    "profile_forces",
    "methods",
}
# Sections about data a store holds only when loaded (stop and search, ED, crime extract,
# links, schemes): with none loaded they are named at the end as holding no data.
LOADED_DATA = {"stopsearch", "true_picture", "people", "networks", "evaluation", "value"}


@pytest.fixture(scope="module")
def three_forces_db(tmp_path_factory):
    files = [p for p in [*COMPARISON_STREET, *KENT_STREET] if p.name[:7] in MONTHS]
    assert len(files) == 9, files
    db = tmp_path_factory.mktemp("forces") / "forces.duckdb"
    with Store.open(db) as store:
        assert ingest_paths(store, files).ok
    return str(db)


def _kent_names() -> set[str]:
    """Kent Police's districts and the packaged (Kent and Medway) town names, read from the
    packaged reference files directly."""
    from conftest import ROOT

    data = ROOT / "src/harmscope/reference/data"
    lad = pd.read_csv(data / "geography/lad.csv")
    towns = pd.read_csv(data / "ed/town_centres.csv")
    names = set(lad.loc[lad.force == "Kent Police", "lad_name"])
    names |= set(towns.aliases.astype(str).str.split("|").str[0])
    return names | {"Kent"}


def _visible_text(html: str, drop_ids: tuple[str, ...]) -> str:
    """What a reader sees: no scripts, styles, CSV links, or the sections in ``drop_ids``."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    body = re.sub(r'href="data:[^"]*"', " ", body)
    for sid in drop_ids:  # the section and its paragraph in the methods appendix
        body = re.sub(rf'<section class="rs" id="{sid}">.*?</section>', " ", body, flags=re.S)
        body = re.sub(rf'<h3 id="method-{sid}">.*?</p>', " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("force", ["Essex Police", "Sussex Police"])
def test_whole_report_for_another_force(three_forces_db, tmp_path, capsys, force):
    out = tmp_path / "profile.html"
    args = ["report", "--db", three_forces_db, "--area", force, "--from", MONTHS[0]]
    code = main([*args, "--to", MONTHS[-1], "--out", str(out), "--json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["errors"] == {}
    built, skipped = set(summary["sections"]), set(summary["skipped"])
    announced = summary["not_applicable"]
    every = {name for _, name, _ in discover_sections()}
    # every section is accounted for, once
    assert built | skipped | set(announced) == every
    assert not (built & skipped) and not (built & set(announced))
    missing = EVERY_FORCE - built
    assert not missing, {m: announced.get(m, "skipped") for m in missing}
    # every force area's LSOA boundaries are packaged, so the map is built for any force
    assert "profile_map" in built, announced.get("profile_map", "skipped")
    assert skipped <= LOADED_DATA
    html = out.read_text(encoding="utf-8")
    assert f"Violence and harm problem profile: {force}" in html
    for reason in announced.values():
        assert reason in unescape(html)
    # Kent appears in the comparison of forces (it is one of them), and a street may be
    # called Kent Road; nowhere else is a Kent district or town named
    text = _visible_text(html, ("forces",))
    text = re.sub(r"On or near [^\n<]*?(?=\s{2,}|\d)", " ", text)
    named = {n for n in _kent_names() if re.search(rf"\b{re.escape(n)}\b", text)}
    assert not named, named
