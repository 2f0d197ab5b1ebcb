"""Covariate files (issue 21): the packaged example, and bad files that must be refused whole
with every problem named by line, leaving the store's rows exactly as they were."""

from __future__ import annotations

import json

import pytest

from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.sources.covariates import add_covariate, parse_period, read_covariate
from harmscope.sources.covariates_example import example_path
from harmscope.store import Store

SOURCE = "test figures"


@pytest.fixture()
def store():
    s = Store.open(":memory:")
    yield s
    s.close()


def _rows(store) -> tuple[int, int]:
    return (
        store.query("SELECT count(*) AS n FROM covariates").n[0],
        store.query("SELECT count(*) AS n FROM covariate_values").n[0],
    )


def _write(tmp_path, text, name="c.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_example_is_the_home_office_series_with_its_source(store):
    text = example_path().read_text(encoding="utf-8")
    assert "Home Office" in text and "Open Government Licence" in text and "Table 1" in text
    rep = add_covariate(store, example_path(), name="officers_fte", unit="FTE", source=SOURCE)
    assert rep.rows_read == rep.rows_loaded == 215
    assert (rep.area_level, rep.period_kind, rep.areas) == ("force", "financial_year", 43)
    v = store.query("SELECT area_code, period, value FROM covariate_values")
    # figures as published (Table 1 of the 30 September 2019 release, 31 March 2019 column)
    got = v.set_index(["area_code", "period"]).value
    assert got["Kent Police", "2018/19"] == 3552.57
    assert got["Metropolitan Police Service", "2018/19"] == 30435.49
    # the 43 forces add up to the published "Total 43 forces" at 31 March (to rounding)
    totals = v.groupby("period").value.sum()
    assert totals["2014/15"] == pytest.approx(126818.09, abs=0.05)
    assert totals["2018/19"] == pytest.approx(123170.86, abs=0.05)


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        (
            "area,period,value\nkent,2019,10\nKentt,2019,11\nessex,2019,12\n",
            "FTE",
            "line 3: unknown force 'Kentt' (did you mean Kent Police?)",
        ),
        (
            "area,period,value\nkent,2019,10\nessex,2019,12\nKent Police,2019,11\n",
            "FTE",
            "line 4: duplicate of line 2 (Kent Police, 2019)",
        ),
        ("area,period,value\nkent,2019,10\nessex,2019,12\n", None, "the unit is missing"),
        (
            "area,period,value,unit\nkent,2019,10,FTE\nessex,2019,12,headcount\n",
            None,
            "several units",
        ),
        (
            "area,period,value\nkent,2019,10\nessex,2018/19,12\n",
            "FTE",
            "periods of more than one kind",
        ),
        ("area,period,value\nkent,2019,ten\nessex,2019,\n", "FTE", "value 'ten' is not a number"),
        ("area,period,value\nkent,2019-13,10\n", "FTE", "is not a year"),
        ("area,period\nkent,2019\n", "FTE", "lacks the column(s) value"),
        ("area,period,value\n", "FTE", "no rows"),
        ("area,period,value\nkent,2018/20,10\n", "FTE", "is not a year"),
    ],
)
def test_bad_files_are_refused_whole_and_rows_are_conserved(store, tmp_path, text, unit, message):
    add_covariate(store, example_path(), name="officers_fte", unit="FTE", source=SOURCE)
    before = _rows(store)
    with pytest.raises(HarmscopeError) as info:
        add_covariate(
            store,
            _write(tmp_path, text),
            name="officers_fte",
            unit=unit,
            source=SOURCE,
            replace=True,
        )
    assert message in str(info.value), str(info.value)
    assert info.value.fix
    assert _rows(store) == before  # the old series is intact: nothing half-replaced


def test_every_bad_line_is_listed(store, tmp_path):
    lines = ["area,period,value"] + [f"nowhere{i},2019,1" for i in range(20)] + ["kent,2019,1"]
    with pytest.raises(HarmscopeError) as info:
        read_covariate(_write(tmp_path, "\n".join(lines)), unit="x")
    msg = str(info.value)
    assert "20 problem(s) in 21 rows" in msg and "and 8 more" in msg


def test_replace_swaps_the_whole_series(store, tmp_path):
    add_covariate(
        store,
        _write(tmp_path, "area,period,value\nkent,2019,1\nessex,2019,2\nsussex,2019,3\n"),
        name="x",
        unit="u",
        source=SOURCE,
    )
    with pytest.raises(HarmscopeError, match="already held"):
        add_covariate(
            store,
            _write(tmp_path, "area,period,value\nkent,2020,1\n", "d.csv"),
            name="x",
            unit="u",
            source=SOURCE,
        )
    rep = add_covariate(
        store,
        _write(tmp_path, "area,period,value\nkent,2020,5\n", "d.csv"),
        name="x",
        unit="u",
        source=SOURCE,
        replace=True,
    )
    assert rep.replaced and _rows(store) == (1, 1)  # 2019 did not linger


def test_levels_and_periods(store, tmp_path):
    csp = _write(
        tmp_path,
        "area,period,value\nAshford CSP,2019-01,1\nCanterbury,2019-01,2\nMedway CSP,2019-01,3\n",
    )
    rep = add_covariate(store, csp, name="c", unit="u", source=SOURCE)
    assert rep.area_level == "csp" and rep.period_kind == "month"
    lad = _write(
        tmp_path, "area,period,value\nE07000105,FY2019/20,1\nMaidstone,FY2019-20,2\n", "l.csv"
    )
    rep = add_covariate(store, lad, name="d", unit="u", source=SOURCE)
    assert rep.area_level == "district" and rep.periods == ["2019/20"]
    assert parse_period("2018/2019")[1:] == ("2018/19", parse_period("2018-2019")[2])
    assert parse_period("2018-12")[0] == "month" and parse_period("2018-19") is None
    assert parse_period("1999/00")[1] == "1999/00"


def test_name_and_source_are_required(store, tmp_path):
    f = _write(tmp_path, "area,period,value\nkent,2019,1\n")
    with pytest.raises(HarmscopeError, match="not a series name"):
        add_covariate(store, f, name="Officers FTE", unit="u", source=SOURCE)
    with pytest.raises(HarmscopeError, match="source is missing"):
        add_covariate(store, f, name="x", unit="u", source="  ")


def test_cli_add_list_and_sql(tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    bad = _write(tmp_path, "area,period,value\nkent,2019,1\nkent,2019,2\n")
    assert (
        main(
            [
                "covariates",
                "add",
                str(bad),
                "--name",
                "x",
                "--unit",
                "u",
                "--source",
                "s",
                "--db",
                db,
            ]
        )
        == 2
    )
    assert "duplicate of line 2" in capsys.readouterr().err
    assert main(
        [
            "covariates",
            "add",
            str(example_path()),
            "--name",
            "officers_fte",
            "--unit",
            "FTE",
            "--source",
            "Home Office",
            "--db",
            db,
        ]
    ) in (0, None)
    capsys.readouterr()
    assert main(["covariates", "list", "--db", db, "--json"]) in (0, None)
    listed = json.loads(capsys.readouterr().out)["covariates"]
    assert [c["name"] for c in listed] == ["officers_fte"] and listed[0]["areas"] == 43
    # the new tables are on the sql allow-list (open tables: not audited, any analyst)
    assert main(["sql", "SELECT count(*) AS n FROM covariate_values", "--db", db, "--json"]) in (
        0,
        None,
    )
    assert "215" in capsys.readouterr().out


def test_outcome_table_bad_rows(tmp_path):
    from harmscope.sources.recorded_crime import read_outcome_table

    f = _write(
        tmp_path,
        "area,period,offence,count\nkent,2018/19,Violence,10\nkent,2018/19,violence,3\n"
        "essex,2018/19,Violence,-1\nnowhere,2018/19,Violence,1\nsussex,2019,Violence,1\n",
    )
    with pytest.raises(HarmscopeError) as info:
        read_outcome_table(f, level="force", period_kind="financial_year")
    msg = str(info.value)
    for part in (
        "line 3: duplicate of line 2",
        "line 4: count '-1'",
        "line 5: unknown force",
        "line 6: period '2019' is not a financial year",
    ):
        assert part in msg, msg
