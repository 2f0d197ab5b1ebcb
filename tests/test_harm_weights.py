"""Offence taxonomy and severity weights: provenance, derivation and the user file format."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmscope.errors import HarmscopeError
from harmscope.reference import offences as off

ONS_LIST = (
    Path(os.environ.get("HARMSCOPE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "data"
    / "reference"
    / "offences"
    / ("ons_crime_offence_hierarchy_2017-18.csv")
)


@pytest.mark.parametrize("scheme", off.SCHEMES)
def test_every_weight_carries_source_status_and_derivation(scheme):
    table = off._packaged(scheme)
    assert set(table.level) == {"category", "subgroup", "code"}
    assert table.status.isin(off.STATUSES).all()
    assert (table.source.str.len() > 10).all()
    assert (table.derivation.str.len() > 10).all()
    assert (table.weight >= 0).all() and table.weight.notna().all()
    # nothing here is an official ONS or Cambridge table, so nothing may claim to be one
    assert not (table.status == "official").any()
    # every estimate says how it was made
    est = table[table.status == "estimate"]
    assert est.derivation.str.contains("Estimate|volume-weighted|sub-group", case=False).all()


@pytest.mark.parametrize("scheme", off.SCHEMES)
def test_category_weights_are_the_volume_weighted_mean_of_subgroups(scheme):
    packaged = off.load_weights(scheme)
    assert list(packaged.category) == list(off.POLICE_CATEGORIES)
    table = off._packaged(scheme)
    sub = table[table.level == "subgroup"].set_index("key").weight
    vols = off.load_subgroups()
    for cat, w in zip(packaged.category, packaged.weight, strict=True):
        part = vols[vols.police_category == cat]
        if cat == off.ASB:
            assert w == 0
            continue
        expected = (part.volume_ew * sub.loc[part.subgroup].to_numpy()).sum() / part.volume_ew.sum()
        assert w == pytest.approx(expected, abs=5e-5), cat
    mixed = packaged.set_index("category").loc["Violence and sexual offences"]
    assert mixed.status == "estimate" and mixed.weight_low < mixed.weight < mixed.weight_high


def test_known_published_values_are_where_they_should_be():
    css = off.load_weights("css", level="code").set_index("key").weight
    assert (
        css["8N"] == 203.07 and css["105A"] == 12.99 and css["8L"] == 39.64 and css["34B"] == 993.55
    )
    assert css["1"] == pytest.approx(7978.79) and css["2"] == pytest.approx(4662.79)
    chi = off.load_weights("chi", level="subgroup").set_index("key").weight
    assert (
        chi["Homicide"] == 5475
        and chi["Rape"] == 2555
        and chi["Robbery of personal property"] == 365
    )


def test_taxonomy_covers_the_ons_list_and_flags():
    tax = off.load_taxonomy()
    ons = pd.read_csv(ONS_LIST, dtype=str)
    groups = {
        "violence-against-the-person",
        "sexual-offences",
        "robbery",
        "possession-of-weapons-offences",
        "drug-offences",  # 92A, 92C-92E: for the county-lines supply flag (issue 15)
    }
    leaves = ons[(ons.is_leaf == "True") & ons.offence_group_code.isin(groups)].code
    expected = (set(leaves) - {"1-4.1-4.10-4.2"}) | {"1", "4.1", "4.2", "4.10"}
    assert set(tax.code) == expected
    assert tax.code.is_unique
    subs = set(tax.ons_subgroup)
    for s in (
        "Homicide",
        "Violence with injury",
        "Violence without injury",
        "Stalking and harassment",
        "Death or serious injury caused by unlawful driving",
        "Rape",
        "Other sexual offences",
    ):
        assert s in subs
    t = tax.set_index("code")
    assert (
        t.loc["1", "serious_violence"]
        and t.loc["8N", "serious_violence"]
        and t.loc["34B", "serious_violence"]
    )
    assert t.loc["10D", "serious_violence"] and not t.loc["10C", "serious_violence"]
    assert not t.loc["105A", "serious_violence"] and not t.loc["8L", "injury"]
    assert t.loc["8N", "injury"] and t.loc["4.4", "injury"]
    assert tax[tax.offence_group == "Sexual offences"].sexual.all()
    assert not tax[tax.offence_group != "Sexual offences"].sexual.any()
    cats = off.load_police_categories().set_index("category")
    assert (
        cats.loc["Violence and sexual offences", "mixed"] and not cats.loc["Shoplifting", "mixed"]
    )


def _write(tmp_path, rows, header=("category", "weight", "source", "status")):
    p = tmp_path / "w.csv"
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return p


def _full(weight="1"):
    return [[c, weight, "test", "official"] for c in off.POLICE_CATEGORIES]


def test_a_valid_user_file_replaces_the_packaged_table(tmp_path):
    rows = _full()
    rows[-1][1] = "250.5"
    table = off.load_weights(path=_write(tmp_path, rows))
    assert list(table.category) == list(off.POLICE_CATEGORIES)
    assert table.set_index("category").weight["Violence and sexual offences"] == 250.5
    assert (table.status == "official").all()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r[:-1], "no weight for Violence and sexual offences"),
        (lambda r: r + [["Knife crime", "5", "x", "official"]], "unknown police.uk category"),
        (lambda r: r + [["Robbery", "5", "x", "official"]], "more than once"),
        (lambda r: [r[0][:1] + ["abc"] + r[0][2:]] + r[1:], "number >= 0"),
        (lambda r: [r[0][:1] + ["-3"] + r[0][2:]] + r[1:], "number >= 0"),
        (lambda r: [r[0][:3] + ["guessed"]] + r[1:], "unknown status"),
    ],
)
def test_bad_user_files_are_refused_with_where_and_fix(tmp_path, mutate, message):
    p = _write(tmp_path, mutate(_full()))
    with pytest.raises(HarmscopeError) as err:
        off.load_weights(path=p)
    assert message in str(err.value)
    assert err.value.where == f"--weights {p}" and err.value.fix


def test_file_level_problems(tmp_path):
    with pytest.raises(HarmscopeError, match="file not found"):
        off.load_weights(path=tmp_path / "nope.csv")
    with pytest.raises(HarmscopeError, match="'weight' column"):
        off.load_weights(path=_write(tmp_path, [["Robbery", "1"]], header=("name", "weight")))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01\x02" * 50)
    with pytest.raises(HarmscopeError):
        off.load_weights(path=binary)
    codes = _write(
        tmp_path, [["8N", "100", "x", "official"]], header=("code", "weight", "source", "status")
    )
    with pytest.raises(HarmscopeError, match="police.uk street data carry categories"):
        off.load_weights(path=codes)
    table = off.load_weights(path=codes, level="code")
    assert table.key.tolist() == ["8N"]
    bad_code = _write(
        tmp_path, [["ZZ9", "1", "x", "official"]], header=("code", "weight", "source", "status")
    )
    with pytest.raises(HarmscopeError, match="unknown Home Office offence code"):
        off.load_weights(path=bad_code, level="code")
    with pytest.raises(HarmscopeError, match="unknown weighting scheme"):
        off.load_weights("severity")
    assert np.isfinite(off.load_weights("CHI").weight).all()


def test_volumes_carry_their_source_and_status():
    vols = off.load_subgroups()
    assert vols.volume_status.isin(off.STATUSES).all()
    assert (vols.volume_source.str.len() > 20).all() and (vols.volume_ew > 0).all()
    vso = vols[vols.police_category == "Violence and sexual offences"]
    assert (vso.volume_status == "published-secondary").all()  # cited ONS figures
    assert vso.set_index("subgroup").volume_ew["Violence with injury"] == 512631
    assert set(vols.police_category) == set(off.POLICE_CATEGORIES) - {off.ASB}


def test_reference_dir_override_rederives_category_weights(tmp_path, monkeypatch):
    packaged = off._packaged("chi")
    sub = packaged[packaged.level == "subgroup"].copy()
    sub.loc[sub.key == "Stalking and harassment", "weight"] = 1000.0
    (tmp_path / "offences").mkdir()
    sub.to_csv(tmp_path / "offences" / "weights_chi.csv", index=False)
    monkeypatch.setenv("HARMSCOPE_REFERENCE_DIR", str(tmp_path))
    table = off.load_weights("chi").set_index("category")
    vols = off.load_subgroups()
    part = (
        vols[vols.police_category == "Violence and sexual offences"].set_index("subgroup").volume_ew
    )
    w = sub.set_index("key").weight.loc[part.index]
    assert table.weight["Violence and sexual offences"] == pytest.approx(
        (w * part).sum() / part.sum(), abs=1e-3
    )
    assert table.weight["Violence and sexual offences"] > 240.5
    monkeypatch.delenv("HARMSCOPE_REFERENCE_DIR")
    assert off.load_weights("chi").set_index("category").weight[
        "Violence and sexual offences"
    ] == pytest.approx(240.4839)


def test_harm_from_codes_by_hand(tmp_path):
    from harmscope.analysis.harm import harm_from_codes

    df = pd.DataFrame(
        {"area": ["A", "A", "B", "B"], "code": ["8N", "105A", "8N", "34B"], "count": [10, 20, 5, 2]}
    )
    res = harm_from_codes(df, by=["area"])
    t = res.table.set_index("area")
    assert t.harm["A"] == pytest.approx(10 * 203.07 + 20 * 12.99)
    assert t.harm["B"] == pytest.approx(5 * 203.07 + 2 * 993.55)
    sv = res.tables["by_serious_violence"]
    assert sv[sv.serious_violence].harm.sum() == pytest.approx(15 * 203.07 + 2 * 993.55)
    assert res.summary["harm_ci"][0] < res.summary["harm"] < res.summary["harm_ci"][1]
    with pytest.raises(HarmscopeError, match="no weight for offence code"):
        harm_from_codes(pd.DataFrame({"code": ["ZZ"], "count": [1]}))
    codes = _write(
        tmp_path,
        [["8N", "100", "x", "official"], ["105A", "1", "x", "official"]],
        header=("code", "weight", "source", "status"),
    )
    own = harm_from_codes(df[df.area == "A"], weights=str(codes))
    assert own.summary["harm"] == pytest.approx(10 * 100 + 20 * 1)


def test_cli_codes_extract(tmp_path, capsys):
    import json

    from harmscope.cli import main

    extract = tmp_path / "extract.csv"
    extract.write_text(
        "code,count,month\n8N,10,2025-01\n105A,20,2025-01\n34B,2,2025-02\n", encoding="utf-8"
    )
    assert main(["harm", "--codes", str(extract), "--scheme", "chi", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    chi = off.load_weights("chi", level="code").set_index("key").weight
    assert out["summary"]["harm"] == pytest.approx(
        10 * chi["8N"] + 20 * chi["105A"] + 2 * chi["34B"]
    )
    assert {r["month"] for r in out["table"]} == {"2025-01", "2025-02"}
    bad = tmp_path / "bad.csv"
    bad.write_text("code,count\n8N,-1\n", encoding="utf-8")
    assert main(["harm", "--codes", str(bad)]) == 2
    assert "counts.count" in capsys.readouterr().err
