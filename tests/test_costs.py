"""Costs of crime (analysis.costs): the packaged unit costs against the published figures,
inflation by the deflator, a user's replacement table and its errors, and harm in pounds on
the real Kent 2025 store against an independent pandas count of the police.uk files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from harmscope.analysis.costs import (
    deflator_ratio,
    harm_in_pounds,
    ho_unit_costs,
    latest_price_year,
    unit_costs,
)
from harmscope.errors import HarmscopeError
from harmscope.privacy.costs import publish_harm_in_pounds
from harmscope.reference.offences import load_subgroups

# Home Office Research Report 99 (Heeks et al. 2018), Table 1, 2015/16 prices, as quoted in the
# South Wales Echo, 2 August 2019, "Revealed: the cost of crime" (pressreader.com/uk/
# south-wales-echo/20190802/282020443907609): "£39,360 for rape, £14,050 for violence with
# injury, and £11,320 for a robbery. Vehicle theft costs an estimated £10,290 ... arson attack
# costs £8,420 and a sexual offence - not including rape - costs £6,520 ... Theft from a vehicle
# costs an average £870, while criminal damage apart from arson costs £1,350"; police costs
# "£11,960 on average per homicide, followed by £6,360 for rape and £2,030 for vehicle theft";
# "Murder costs the criminal justice system a further £800,980".
PUBLISHED = {
    "Rape": 39360,
    "Violence with injury": 14050,
    "Robbery": 11320,
    "Theft of vehicle": 10290,
    "Criminal damage - arson": 8420,
    "Other sexual offences": 6520,
    "Theft from vehicle": 870,
    "Criminal damage - other": 1350,
}
POLICE = {"Homicide": 11960, "Rape": 6360, "Theft of vehicle": 2030}
# Values not found in any text reachable here (SOURCES.md): they must stay marked unverified.
UNVERIFIED = {
    "Homicide": 3217740,
    "Violence without injury": 5930,
    "Domestic burglary": 5930,
    "Theft from the person": 1380,
}
# ONS YBGB (GDP at market prices, implied deflator, SA, 2022=100), release 30 June 2025,
# quarterly values typed from the release text.
YBGB = {
    "2015 Q2": 83.2, "2015 Q3": 83.5, "2015 Q4": 83.9, "2016 Q1": 84.4,
    "2024 Q2": 110.1, "2024 Q3": 112.1, "2024 Q4": 113.2, "2025 Q1": 114.1,
}  # fmt: skip
KENT_POLICE_DISTRICTS = {
    "Ashford", "Canterbury", "Dartford", "Dover", "Folkestone and Hythe", "Gravesham",
    "Maidstone", "Medway", "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling",
    "Tunbridge Wells",
}  # fmt: skip
STREET = Path("/work/shared/data/police/kent/street")


def test_packaged_costs_equal_the_published_figures():
    ho = ho_unit_costs().set_index("ho_offence")
    for offence, value in PUBLISHED.items():
        assert ho.loc[offence, "unit_cost"] == value, offence
        assert ho.loc[offence, "status"] == "published-secondary"
        assert "Research Report 99" in ho.loc[offence, "source"]
    for offence, value in POLICE.items():
        assert ho.loc[offence, "police_cost"] == value, offence
    assert ho.loc["Homicide", "cjs_cost"] == 800980
    # the Echo's rounded homicide total agrees with the packaged figure
    assert round(ho.loc["Homicide", "unit_cost"] / 1e5) / 10 == 3.2
    for offence, value in UNVERIFIED.items():
        assert ho.loc[offence, "unit_cost"] == value
        assert ho.loc[offence, "status"] == "unverified"


def test_category_costs_are_the_volume_weighted_mix():
    vol = load_subgroups().set_index("subgroup")["volume_ew"]
    uc = unit_costs().set_index("category")
    # Violence and sexual offences: the costed sub-groups at their cost, the rest at 0
    costed = {
        "Homicide": UNVERIFIED["Homicide"],
        "Violence with injury": PUBLISHED["Violence with injury"],
        "Violence without injury": UNVERIFIED["Violence without injury"],
        "Rape": PUBLISHED["Rape"],
        "Other sexual offences": PUBLISHED["Other sexual offences"],
    }
    vso = vol[
        load_subgroups().set_index("subgroup").police_category == "Violence and sexual offences"
    ]
    expected = sum(vso[s] * c for s, c in costed.items()) / vso.sum()
    assert uc.loc["Violence and sexual offences", "unit_cost_gbp"] == pytest.approx(expected)
    assert uc.loc["Violence and sexual offences", "unit_cost_high"] == UNVERIFIED["Homicide"]
    cd = (vol["Criminal damage"] * 1350 + vol["Arson"] * 8420) / (
        vol["Criminal damage"] + vol["Arson"]
    )
    assert uc.loc["Criminal damage and arson", "unit_cost_gbp"] == pytest.approx(cd)
    assert uc.loc["Criminal damage and arson", ["unit_cost_low", "unit_cost_high"]].tolist() == [
        1350,
        8420,
    ]
    assert uc.loc["Vehicle crime", ["unit_cost_gbp", "unit_cost_high"]].tolist() == [870, 10290]
    for cat in (
        "Drugs",
        "Public order",
        "Possession of weapons",
        "Shoplifting",
        "Anti-social behaviour",
    ):
        assert not uc.loc[cat, "costed"] and uc.loc[cat, "unit_cost_gbp"] == 0
    assert (uc.unit_cost_low <= uc.unit_cost_gbp).all() and (
        uc.unit_cost_gbp <= uc.unit_cost_high
    ).all()
    assert set(uc.price_year) == {"2015/16"}


def test_inflation_is_the_deflator_ratio():
    fy = lambda qs: np.mean([YBGB[q] for q in qs])  # noqa: E731
    ratio = fy(["2024 Q2", "2024 Q3", "2024 Q4", "2025 Q1"]) / fy(
        ["2015 Q2", "2015 Q3", "2015 Q4", "2016 Q1"]
    )
    assert latest_price_year() == 2024
    assert deflator_ratio(2015, 2024) == pytest.approx(ratio)
    base, later = unit_costs(), unit_costs(2024)
    assert later.unit_cost_gbp.to_numpy() == pytest.approx(base.unit_cost_gbp.to_numpy() * ratio)
    assert set(later.price_year) == {"2024/25"}
    assert unit_costs("2024/25").unit_cost_gbp.equals(later.unit_cost_gbp)


def test_a_year_without_a_deflator_is_refused_naming_the_years():
    with pytest.raises(HarmscopeError, match="2015/16.*2024/25") as e:
        unit_costs(2030)
    assert "2030/31" in str(e.value)
    with pytest.raises(HarmscopeError, match="not a year"):
        unit_costs("next year")


def _costs_csv(path: Path, rows: list[dict] | None = None, **change) -> Path:
    table = unit_costs()[list(unit_costs().columns[:7])].copy()
    table["unit_cost_gbp"] = table["unit_cost_gbp"].round(0)
    table["unit_cost_low"] = np.minimum(table["unit_cost_low"], table["unit_cost_gbp"])
    table["unit_cost_high"] = np.maximum(table["unit_cost_high"], table["unit_cost_gbp"])
    table["price_year"] = "2024/25"
    table["source"] = "Test partnership's own costing, table 2"
    table = table.astype(object)
    for col, value in change.items():
        table.loc[0, col] = value
    if rows is not None:
        table = pd.DataFrame(rows)
    table.to_csv(path, index=False)
    return path


def test_a_replacement_costs_file(tmp_path):
    path = _costs_csv(tmp_path / "costs.csv")
    own = unit_costs(costs_file=path).set_index("category")
    given = pd.read_csv(path).set_index("category")
    assert own.unit_cost_gbp.equals(given.unit_cost_gbp.astype(float))
    assert set(own.price_year) == {"2024/25"} and set(own.source) == {given.source.iloc[0]}
    # priced back to 2015/16 by the same deflator ratio
    back = unit_costs(2015, costs_file=path).set_index("category")
    assert back.unit_cost_gbp.to_numpy() == pytest.approx(
        given.unit_cost_gbp.to_numpy() / deflator_ratio(2015, 2024)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "Murder"}, r"line 2, column category: 'Murder' is not a police\.uk category"),
        ({"unit_cost_gbp": "-5"}, r"line 2, column unit_cost_gbp"),
        ({"unit_cost_low": "1e9"}, r"line 2: unit_cost_low <= unit_cost_gbp"),
        ({"costed": "maybe"}, r"line 2, column costed"),
        ({"price_year": "2019/20"}, r"several price years"),
        ({"price_year": "2019/22"}, r"not a financial year"),
        ({"source": ""}, r"line 2, column source: empty"),
    ],
)
def test_bad_costs_files_name_file_line_and_fix(tmp_path, change, message):
    path = _costs_csv(tmp_path / "bad.csv", **change)
    with pytest.raises(HarmscopeError, match=message) as e:
        unit_costs(costs_file=path)
    assert "bad.csv" in str(e.value) and "Fix:" in str(e.value)


def test_a_costs_file_missing_a_column_or_a_category(tmp_path):
    path = tmp_path / "short.csv"
    pd.DataFrame({"category": ["Robbery"], "unit_cost_gbp": [1]}).to_csv(path, index=False)
    with pytest.raises(HarmscopeError, match="lacks column"):
        unit_costs(costs_file=path)
    rows = _costs_csv(tmp_path / "x.csv")
    pd.read_csv(rows).iloc[1:].to_csv(path, index=False)
    with pytest.raises(HarmscopeError, match="has no row for Anti-social behaviour"):
        unit_costs(costs_file=path)


def _independent_counts() -> tuple[pd.Series, pd.Series]:
    """Kent 2025 street crimes by category straight from the police.uk files: every row whose
    LSOA's district is a Kent Police district or unknown (the store's in-area rule); and by
    district, for the rows whose LSOA names one."""
    frames = [
        pd.read_csv(f, usecols=["Crime type", "LSOA name"])
        for f in sorted(STREET.glob("2025-*-kent-street.csv.gz"))
    ]
    df = pd.concat(frames)
    district = df["LSOA name"].str.replace(r" \d{3}[A-Z]$", "", regex=True)
    keep = district.isna() | district.isin(KENT_POLICE_DISTRICTS)
    return df.loc[keep, "Crime type"].value_counts(), district[keep].dropna().value_counts()


def test_harm_in_pounds_on_kent_2025_equals_an_independent_count(kent_store):
    res = harm_in_pounds(
        kent_store, area="Kent Police", date_from="2025-01", date_to="2025-12", price_year=2024
    )
    counts, by_district = _independent_counts()
    costs = unit_costs(2024).set_index("category").unit_cost_gbp
    by_cat = res.tables["by_category"].set_index("category")
    assert (
        by_cat["count"]
        .sort_index()
        .equals(counts.sort_index().rename("count").astype(by_cat["count"].dtype))
    )
    expected = (counts * costs.reindex(counts.index)).sum()
    assert res.summary["cost_gbp"] == pytest.approx(expected)
    assert res.summary["count"] == counts.sum()
    assert res.summary["price_year"] == "2024/25"
    # the uncosted categories and their counts are named in a note
    note = next(n for n in res.notes if n.startswith("No published unit cost"))
    assert f"Shoplifting {counts['Shoplifting']:,}" in note and "Drugs" in note
    # the district table: crimes placed by their LSOA's district (2021 LSOA names)
    placed = res.tables["by_district"].set_index("district_name")["count"]
    assert placed.sort_index().tolist() == by_district.sort_index().tolist()
    assert sorted(placed.index) == sorted(by_district.index)
    assert len(res.tables["by_district"]) == 13


def test_intervals_contain_the_point_and_one_category_is_garwood(kent_store):
    res = harm_in_pounds(
        kent_store,
        area="Dover",
        date_from="2025-01",
        date_to="2025-03",
        by=("district", "category"),
    )
    t = res.tables["by_category"]
    costed = t[t.costed & (t["count"] > 0)]
    assert (costed.cost_ci_low < costed.cost_gbp).all() and (
        costed.cost_gbp < costed.cost_ci_high
    ).all()
    assert (t.cost_low <= t.cost_gbp + 1e-6).all() and (t.cost_gbp <= t.cost_high + 1e-6).all()
    # one category: the exact Poisson (Garwood) interval on its count, times its unit cost
    row = t.set_index("category").loc["Robbery"]
    n = row["count"]
    lo, hi = stats.chi2.ppf(0.025, 2 * n) / 2, stats.chi2.ppf(0.975, 2 * n + 2) / 2
    assert row.cost_ci_low == pytest.approx(lo * row.unit_cost_gbp, rel=1e-6)
    assert row.cost_ci_high == pytest.approx(hi * row.unit_cost_gbp, rel=1e-6)
    s = res.summary
    assert s["cost_gbp_ci"][0] < s["cost_gbp"] < s["cost_gbp_ci"][1]
    assert s["harm_ci"][0] < s["harm"] < s["harm_ci"][1]
    with pytest.raises(HarmscopeError, match="cannot group by"):
        harm_in_pounds(kent_store, area="Dover", by=("ward",))


def test_public_output_hides_small_counts_and_their_pounds(kent_store):
    res = harm_in_pounds(kent_store, area="Dover", date_from="2025-01", date_to="2025-01")
    doc = publish_harm_in_pounds(res, "public").document()
    rows = {r["category"]: r for r in doc["by_category"]}
    small = [
        c for c, n in res.tables["by_category"].set_index("category")["count"].items() if 0 < n < 5
    ]
    assert small
    for cat in small:
        assert rows[cat]["count"] is None and rows[cat]["cost_gbp"] is None
        assert rows[cat]["cost_ci_high"] is None and rows[cat]["harm"] is None
    text = json.dumps(doc["notes"])
    bikes = int(res.tables["by_category"].set_index("category").loc["Bicycle theft", "count"])
    assert f"Bicycle theft {bikes}" not in text and "Bicycle theft [c]" in text
    assert "cost_gbp" not in doc["summary"]  # totals withheld: a category is hidden
    internal = publish_harm_in_pounds(res, "internal").document()
    assert internal["summary"]["cost_gbp"] == pytest.approx(res.summary["cost_gbp"])


def test_cli_harm_pounds_json(kent_store_path, tmp_path):
    from harmscope.cli import app

    out = tmp_path / "pounds.xlsx"
    result = CliRunner().invoke(
        app,
        ["harm", "--pounds", "--area", "Kent Police", "--from", "2025-01", "--to", "2025-12",
         "--price-year", "2024", "--db", str(kent_store_path), "--json", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["price_year"] == "2024/25"
    from harmscope.privacy import publish

    last = publish.last("harm-pounds")  # what was printed is a finished Publication's document
    assert last is not None and last.finished
    assert json.loads(json.dumps(last.document(), default=str))["summary"] == doc["summary"]
    assert {r["category"] for r in doc["unit_costs"]} >= {"Robbery", "Drugs"}
    assert out.exists()
    bad = CliRunner().invoke(
        app, ["harm", "--pounds", "--area", "Kent Police", "--price-year", "2031",
              "--db", str(kent_store_path)],
    )  # fmt: skip
    assert bad.exit_code != 0
    assert "2024/25" in (bad.output + str(bad.exception))


def test_report_section_by_category_and_district(kent_store):
    from datetime import date

    from harmscope.report.render import discover_sections
    from harmscope.report.section import ReportContext
    from harmscope.report.sections import costs

    assert "costs" in [name for _, name, _ in discover_sections()]
    ctx = ReportContext(
        store=kent_store,
        area="Kent Police",
        date_from=date(2025, 1, 1),
        date_to=date(2025, 12, 31),
        audience="public",
    )
    sec = costs.build(ctx)
    assert sec.disclosure_checked and "2024/25 prices" in sec.html
    assert set(sec.tables) == {"cost_by_category", "cost_by_district"}
    assert len(sec.tables["cost_by_district"]) == 13
    assert "Research Report 99" in sec.method
    assert any(n.startswith("No published unit cost") for n in sec.notes)
    small = ReportContext(
        store=kent_store,
        area="Dover",
        date_from=date(2025, 1, 1),
        date_to=date(2025, 1, 31),
        audience="public",
    )
    dover = costs.build(small)
    assert "too small to publish" in dover.html  # a hidden category withholds the total
    assert dover.tables["cost_by_category"]["count"].isna().any()
