"""Issue 12, exports: one rule for every command that writes files (``--out`` picks the format
from the extension; an unknown one is refused before any work), and each format round-trips."""

from __future__ import annotations

import zipfile

import duckdb
import numpy as np
import pandas as pd
import pytest

from harmscope.errors import HarmscopeError
from harmscope.export.files import TABLE_FORMATS, check_out, table_paths, write_tables


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_name": ["Dover", "Thanet", "Swale"],
            "month": ["2025-01", "2025-02", "2025-03"],
            "count": pd.array([12, None, 40], dtype="Int64"),
            "share": [0.123456789, 0.5, np.nan],
            "harm": [1234.56789, 99.999, 0.0],
            "alarm": [True, False, True],
        }
    )


@pytest.mark.parametrize("ext", TABLE_FORMATS)
def test_each_table_format_round_trips(tmp_path, ext):
    df = _frame()
    paths = write_tables({"main": df, "other": df.head(1)}, tmp_path / f"t{ext}")
    if ext == ".xlsx":
        from openpyxl import load_workbook

        assert paths == [tmp_path / "t.xlsx"]
        wb = load_workbook(paths[0])
        assert wb.sheetnames == ["README", "main", "other"]
        ws = wb["main"]
        assert ws.max_column == 6 and ws.max_row == 4
        assert ws.cell(row=2, column=3).value == 12  # a number, not text
        assert ws.cell(row=2, column=2).is_date  # months are dates
        assert ws.cell(row=2, column=4).number_format == "0.0%"
        assert ws.cell(row=2, column=4).value == pytest.approx(0.1235)
        return
    assert paths == [tmp_path / f"t{ext}", tmp_path / f"t_other{ext}"]
    if ext == ".csv":
        back = pd.read_csv(paths[0])
    else:
        back = duckdb.sql(f"SELECT * FROM '{paths[0]}'").df()
        assert str(back["count"].dtype).lower().startswith("int")  # typed, not text
        assert back["alarm"].dtype == bool
    assert list(back.columns) == list(df.columns)
    assert back["area_name"].tolist() == ["Dover", "Thanet", "Swale"]
    assert back["share"].iloc[0] == pytest.approx(0.1235)  # fractions: 4 decimals
    assert back["harm"].iloc[0] == pytest.approx(1234.57)  # others: 2 decimals
    assert pd.isna(back["count"].iloc[1])


@pytest.mark.parametrize("name", ["t.txt", "t.docx", "t", "t.xls"])
def test_unknown_extension_is_a_clear_error(tmp_path, name):
    with pytest.raises(HarmscopeError) as err:
        write_tables({"main": _frame()}, tmp_path / name)
    text = str(err.value)
    assert "--out" in text and ".csv, .xlsx, .parquet" in text
    assert not (tmp_path / name).exists()


def test_folder_or_file_rule(tmp_path):
    assert check_out(tmp_path, folder_ok=True) == ""
    assert check_out(tmp_path / "new_folder", folder_ok=True) == ""
    assert check_out(tmp_path / "x.PARQUET") == ".parquet"
    with pytest.raises(HarmscopeError, match="does not exist"):
        check_out(tmp_path / "no" / "x.csv")
    paths = table_paths(["outcomes.table", "outcomes.by_month"], tmp_path / "s.csv")
    assert paths["outcomes.by_month"].name == "s_outcomes_by_month.csv"


# -- through the CLI: refused before any work; written through the publishing path --------------
@pytest.mark.parametrize(
    "argv",
    [
        ["harm", "--out", "{tmp}/h.txt"],
        ["alerts", "--out", "{tmp}/a.json"],
        ["hotspots", "--out", "{tmp}/h.shp"],
        ["evaluate", "--district", "Dover", "--start", "2025-06", "--out", "{tmp}/e.docx"],
        ["stopsearch", "--out", "{tmp}/s.txt"],
        ["ed", "export", "--out", "{tmp}/e.txt"],
    ],
)
def test_cli_refuses_unknown_extension(tmp_path, capsys, argv):
    from harmscope.cli import main as cli_main

    # --db names a store that does not exist: the refusal must come first
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli_main([*args, "--db", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "extension" in err and ".csv" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_harm_out_formats_and_old_csv_flag(kent_store_path, tmp_path):
    from openpyxl import load_workbook

    from harmscope.cli import main as cli_main

    base = ["harm", "--area", "Dover", "--from", "2025-03", "--to", "2025-03"]
    base += ["--db", str(kent_store_path), "--quiet", "--json"]
    assert cli_main([*base, "--out", str(tmp_path / "h.xlsx")]) == 0
    assert zipfile.is_zipfile(tmp_path / "h.xlsx")
    wb = load_workbook(tmp_path / "h.xlsx")
    assert wb.sheetnames[0] == "README" and wb["README"]["A1"].value == "What this is"
    assert cli_main([*base, "--out", str(tmp_path / "h.parquet")]) == 0
    pq = duckdb.sql(f"SELECT * FROM '{tmp_path / 'h.parquet'}'").df()
    assert cli_main([*base, "--csv", str(tmp_path / "old.csv")]) == 0  # hidden alias
    old = pd.read_csv(tmp_path / "old.csv")
    assert list(old.columns) == list(pq.columns) and len(old) == len(pq) == wb["table"].max_row - 1
    assert old["harm"].tolist() == pytest.approx(pq["harm"].tolist())
