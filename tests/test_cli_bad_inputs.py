"""Every command refuses bad options cleanly: `Error: ...`, exit 2, no traceback, nothing written.

A table of bad command-line inputs (numbers out of range or not finite, output paths that are
folders or sit in a missing folder, unknown or empty names), each run in-process through
``harmscope.cli.main`` against the real Kent store. Each must end in a one-line ``Error:``
(exit 2, or click's usage error), never an "unexpected" error, a traceback, or a file written.
Most fail in validation, before any analysis runs. The tally (tried / handled cleanly /
unexpected) is printed at the end of the module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harmscope.cli import main
from harmscope.commands import _validate as v
from harmscope.errors import HarmscopeError

# {db}: the real Kent store (read-only); {rw}: a writable copy; {tmp}: the case's own folder,
# which holds a folder `adir` and a file `afile.txt` (and nothing may be added to it).
PERIOD = ["--from", "2025-01", "--to", "2025-06"]
KENT = ["--area", "Kent", *PERIOD]

CASES: list[tuple[str, list[str]]] = [
    # --- alerts
    ("alerts", ["--area", ""]),
    ("alerts", ["--area", "   "]),
    ("alerts", ["--area", "Maidstne"]),
    ("alerts", ["--alpha", "0"]),
    ("alerts", ["--alpha", "1"]),
    ("alerts", ["--alpha", "-0.1"]),
    ("alerts", ["--alpha", "nan"]),
    ("alerts", ["--alpha", "inf"]),
    ("alerts", ["--top", "-1"]),
    ("alerts", ["--threshold", "0", "--audience", "public"]),
    ("alerts", ["--out", "{tmp}/adir"]),
    ("alerts", ["--out", "{tmp}/missing/alarms.csv"]),
    ("alerts", ["--month", "2025-13"]),
    ("alerts", ["--level", "street"]),
    ("alerts", ["--weight", "heavy"]),
    ("alerts", ["--audience", "everyone"]),
    ("alerts", ["--crime-type", "Jaywalking"]),
    ("alerts", ["--top", "abc"]),
    # --- harm
    ("harm", ["--area", ""]),
    ("harm", ["--area", "Narnia"]),
    ("harm", ["--area", "Canterbury Police"]),
    ("harm", ["--threshold", "-1", "--audience", "public"]),
    ("harm", ["--csv", "{tmp}/adir"]),
    ("harm", ["--csv", "{tmp}/missing/harm.csv"]),
    ("harm", ["--from", "2025-1"]),
    ("harm", ["--from", "2025-06", "--to", "2025-01"]),
    ("harm", ["--level", "street"]),
    ("harm", ["--scheme", "xyz"]),
    ("harm", ["--weights", "{tmp}/missing.csv"]),
    ("harm", ["--category", "Jaywalking"]),
    ("harm", ["--codes", "{tmp}/missing.csv"]),
    ("harm", ["--codes", "{tmp}/adir"]),
    ("harm", ["--codes", "{tmp}/afile.txt"]),
    ("harm", ["--weights", "{tmp}/adir"]),
    ("harm", ["--weights", "{tmp}/afile.txt"]),
    ("harm", ["--csv", ""]),
    # --- hotspots
    ("hotspots", ["--area", ""]),
    ("hotspots", ["--area", "Medwey"]),
    ("hotspots", ["--cell-size", "nan"]),
    ("hotspots", ["--cell-size", "inf"]),
    ("hotspots", ["--cell-size", "0"]),
    ("hotspots", ["--cell-size", "-250"]),
    ("hotspots", ["--cell-size", "0.5"]),
    ("hotspots", ["--permutations", "-5"]),
    ("hotspots", ["--seed", "-1"]),
    ("hotspots", ["--kde", "--bandwidth", "0"]),
    ("hotspots", ["--kde", "--bandwidth", "nan"]),
    ("hotspots", ["--kde", "--bandwidth", "-300"]),
    ("hotspots", ["--neighbours", "knn:0"]),
    ("hotspots", ["--neighbours", "knn:x"]),
    ("hotspots", ["--neighbours", "distance:-5"]),
    ("hotspots", ["--neighbours", "rook"]),
    ("hotspots", ["--units", "hexagons"]),
    ("hotspots", ["--correction", "bonferroni"]),
    ("hotspots", ["--weight", "heavy"]),
    ("hotspots", ["--out", "{tmp}/adir"]),
    ("hotspots", ["--out", "{tmp}/missing/cells.csv"]),
    ("hotspots", ["--out", "{tmp}/cells.txt"]),
    ("hotspots", ["--threshold", "0", "--audience", "public"]),
    ("hotspots", ["--test-from", "May", "--evaluate"]),
    ("hotspots", ["--from", "2025-06", "--to", "2025-01"]),
    ("hotspots", ["--evaluate", "--test-to", "2025-13"]),
    ("hotspots", ["--crime-type", "Jaywalking"]),
    ("hotspots", ["--units", "lsoa", "--area", "Essex"]),
    ("hotspots", ["--seed", "99999999999"]),
    ("hotspots", ["--cell-size", "abc"]),
    ("hotspots", ["--out", ""]),
    # --- knox
    ("knox", ["--iterations", "0"]),
    ("knox", ["--iterations", "-5"]),
    ("knox", ["--seed", "-1"]),
    ("knox", ["--distance-bands", ""]),
    ("knox", ["--distance-bands", "-200,400"]),
    ("knox", ["--distance-bands", "nan"]),
    ("knox", ["--distance-bands", "abc"]),
    ("knox", ["--time-bands", "0"]),
    ("knox", ["--time-bands", "inf"]),
    ("knox", ["--csv", "{tmp}/missing.csv"]),
    ("knox", ["--csv", "{tmp}/adir"]),
    ("knox", ["--source", "twitter"]),
    ("knox", ["--from", "2018/01"]),
    ("knox", ["--csv", "{tmp}/afile.txt"]),
    # --- evaluate
    ("evaluate", ["--k", "0", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--k", "-3", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--cost", "-100", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--cost", "nan", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--cost", "inf", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--power", "--pre-months", "0"]),
    ("evaluate", ["--power", "--post-months", "-1"]),
    ("evaluate", ["--placebo", "-5"]),
    ("evaluate", ["--placebo", "3", "--placebo-areas", "0"]),
    ("evaluate", ["--plant", "1.5", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--plant", "-0.2", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--plant", "nan", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--seed", "-1", "--placebo", "2"]),
    ("evaluate", ["--out", "{tmp}/missing", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--out", "{tmp}/afile.txt", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--start", "2025-13", "--district", "Thanet"]),
    ("evaluate", ["--method", "rct", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--point", "51.3,1.4", "--start", "2025-06"]),
    ("evaluate", ["--point", "51.3,1.4,-500", "--start", "2025-06"]),
    ("evaluate", ["--district", "Narnia", "--start", "2025-06"]),
    ("evaluate", ["--district", "", "--start", "2025-06"]),
    ("evaluate", ["--lsoa", "E01999999", "--start", "2025-06"]),
    ("evaluate", ["--power", "--register", "{tmp}/missing.yaml"]),
    ("evaluate", ["--audience", "everyone", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--k", "2.5", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--end", "June", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--end", "2025-01", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--force", "", "--countywide", "--start", "2025-06"]),
    ("evaluate", ["--force", "Narnia Police", "--countywide", "--start", "2025-06"]),
    ("evaluate", ["--crime-type", "Jaywalking", "--district", "Thanet", "--start", "2025-06"]),
    ("evaluate", ["--scheme", "No Such Scheme", "--start", "2025-06"]),
    ("evaluate", ["--power", "--register", "{tmp}/adir"]),
    ("evaluate", ["--power", "--register", "{tmp}/afile.txt"]),
    # --- report (KENT: a good area and period, so only the option under test is bad)
    ("report", ["--area", "", "--from", "2025-01", "--to", "2025-06", "--out", "{tmp}/r.html"]),
    ("report", ["--area", "Narnia", *PERIOD, "--out", "{tmp}/r.html"]),
    ("report", [*KENT, "--out", "{tmp}/adir"]),
    ("report", [*KENT, "--out", "{tmp}/no/r.html"]),
    ("report", [*KENT, "--out", ""]),
    ("report", [*KENT, "--out", "{tmp}/r.html", "--threshold", "0", "--audience", "public"]),
    ("report", [*KENT, "--out", "{tmp}/r.docx", "--format", "docx"]),
    ("report", ["--area", "Kent", "--from", "2025-13", "--to", "2025-06", "--out", "{tmp}/r.html"]),
    ("report", ["--area", "Kent", "--from", "2025-01", "--to", "2025-xx", "--out", "{tmp}/r.html"]),
    ("report", ["--area", "Kent", "--from", "2025-06", "--to", "2025-01", "--out", "{tmp}/r.html"]),
    ("report", [*KENT, "--out", "{tmp}/r.html", "--sections", "nonsense"]),
    ("report", [*KENT, "--out", "{tmp}/r.html", "--weights", "{tmp}/adir"]),
    ("report", [*KENT, "--out", "{tmp}/r.html", "--scheme", "xyz"]),
    ("report", [*KENT, "--out", "{tmp}/r.html", "--audience", "everyone"]),
    # --- stopsearch
    ("stopsearch", ["--cell", "0"]),
    ("stopsearch", ["--cell", "-5"]),
    ("stopsearch", ["--cell", "nan"]),
    ("stopsearch", ["--cell", "inf"]),
    ("stopsearch", ["--threshold", "1", "--audience", "public"]),
    ("stopsearch", ["--out", "{tmp}/adir"]),
    ("stopsearch", ["--out", "{tmp}/missing/ss.json"]),
    ("stopsearch", ["--force", "Narnia Constabulary"]),
    ("stopsearch", ["--population", "{tmp}/missing.csv"]),
    ("stopsearch", ["--outcome-mapping", "{tmp}/missing.csv"]),
    ("stopsearch", ["--from", "18-01"]),
    ("stopsearch", ["--from", "2018-06", "--to", "2018-01"]),
    ("stopsearch", ["--crime-from", "2025-13"]),
    ("stopsearch", ["--force", ""]),
    ("stopsearch", ["--audience", "everyone"]),
    ("stopsearch", ["--population", "{tmp}/adir"]),
    ("stopsearch", ["--population", "{tmp}/afile.txt"]),
    # --- simulate ed
    ("simulate", ["ed", "--seed", "-1", "--out", "{tmp}/ed.csv"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--hidden", "E99999999"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--hidden", ""]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--hidden", " , "]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/adir"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/missing/ed.csv"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--police-out", "{tmp}/no/p.csv"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--truth-out", "{tmp}/adir"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--force", "Narnia Police"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--force", ""]),
    ("simulate", ["ed", "--seed", "99999999999", "--out", "{tmp}/ed.csv"]),
    ("simulate", ["ed", "--seed", "1", "--out", ""]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--db", "{tmp}/none.duckdb"]),
    # --- ed
    ("ed", ["audit", "--limit", "-5"]),
    ("ed", ["audit", "--limit", "0"]),
    ("ed", ["picture", "--threshold", "0", "--db", "{rw}"]),
    ("ed", ["picture", "--level", "street", "--db", "{rw}"]),
    ("ed", ["export", "--out", "{tmp}/afile.txt", "--db", "{rw}"]),
    ("ed", ["export", "--out", "{tmp}/o", "--threshold", "-2", "--db", "{rw}"]),
    ("ed", ["ingest", "{tmp}/missing.csv", "--db", "{rw}"]),
    ("ed", ["link-police", "{tmp}/adir", "--db", "{rw}"]),
    ("ed", ["ingest", "{tmp}/afile.txt", "--key-file", "{tmp}/missing.key", "--db", "{rw}"]),
    ("ed", ["export", "--out", "{tmp}/o", "--level", "street", "--db", "{rw}"]),
    ("ed", ["export", "--out", "{tmp}/o", "--audience", "everyone", "--db", "{rw}"]),
    ("ed", ["export", "--out", "{tmp}/o", "--records", "--audience", "public", "--db", "{rw}"]),
    ("ed", ["picture", "--audience", "everyone", "--db", "{rw}"]),
    ("ed", ["audit", "--db", "{tmp}/none.duckdb"]),
    # --- schemes, status, demo, sql
    ("schemes", ["{tmp}/missing.yaml", "--check"]),
    ("schemes", ["{tmp}/adir", "--check"]),
    ("schemes", ["{tmp}/afile.txt", "--check"]),
    ("schemes", ["{tmp}/afile.txt", "--example"]),
    ("status", ["--db", "{tmp}/adir"]),
    ("status", ["--db", "{tmp}/none.duckdb"]),
    ("status", ["--db", ""]),
    ("demo", ["--out", "{tmp}/afile.txt"]),
    ("demo", ["--out", "{tmp}/o", "--db", "{tmp}/adir"]),
    ("sql", ["", "--db", "{db}"]),
    ("sql", ["   ", "--db", "{db}"]),
    ("sql", ["SELECT 1", "--format", "xml", "--db", "{db}"]),
    ("sql", ["SELECT 1", "--audience", "everyone", "--db", "{db}"]),
    # --- drivers and covariates (issue 21)
    ("drivers", ["--covariate", ""]),
    ("drivers", ["--covariate", "officers_fte"]),
    ("drivers", ["--covariate", "x", "--lag", "-1"]),
    ("drivers", ["--covariate", "x", "--lag", "9"]),
    ("drivers", ["--covariate", "x", "--lags", "-2"]),
    ("drivers", ["--covariate", "x", "--alpha", "nan"]),
    ("drivers", ["--covariate", "x", "--alpha", "0.7"]),
    ("drivers", ["--covariate", "x", "--audience", "everyone"]),
    ("drivers", ["--covariate", "x", "--threshold", "0", "--audience", "public"]),
    ("drivers", ["--covariate", "x", "--outcome-file", "{tmp}/missing.csv"]),
    ("drivers", ["--covariate", "x", "--outcome-file", "{tmp}/adir"]),
    ("drivers", ["--covariate", "x", "--placebo", " "]),
    ("covariates", ["add", "{tmp}/afile.txt", "--name", "x", "--unit", "u", "--source", "s", "--db", "{rw}"]),
    ("covariates", ["add", "{tmp}/missing.csv", "--name", "x", "--unit", "u", "--source", "s", "--db", "{rw}"]),
    ("covariates", ["add", "{tmp}/adir", "--name", "x", "--unit", "u", "--source", "s", "--db", "{rw}"]),
    ("covariates", ["add", "{tmp}/afile.txt", "--name", "Bad Name", "--unit", "u", "--source", "s", "--db", "{rw}"]),
    ("covariates", ["add", "{tmp}/afile.txt", "--name", "x", "--unit", " ", "--source", "s", "--db", "{rw}"]),
    # --- people / crimes (issue 14)
    ("people", ["--audience", "everyone"]),
    ("people", ["--flag-top", "nan"]),
    ("people", ["--rfg-weights", "a,b,c"]),
    ("people", ["--export", "{tmp}/afile.txt"]),
    ("people", ["--truth", "{tmp}/missing.csv"]),
    ("crimes", ["ingest", "{tmp}/missing.csv"]),
    ("crimes", ["ingest", "{tmp}/adir"]),
]

# --json variants: the error still goes to stderr as `Error: ...`, and stdout stays empty
# (no half-written JSON for a script to parse).
JSON_CASES: list[tuple[str, list[str]]] = [
    ("evaluate", ["--k", "0", "--district", "Thanet", "--start", "2025-06", "--json"]),
    ("hotspots", ["--cell-size", "nan", "--json"]),
    ("harm", ["--area", "", "--json"]),
    ("knox", ["--iterations", "-5", "--json"]),
    ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--hidden", "E99999999", "--json"]),
    ("ed", ["audit", "--limit", "-5", "--json"]),
    ("drivers", ["--covariate", "officers_fte", "--json"]),
]

NO_DB = {"demo"}  # demo's --db is a store it creates

TALLY: dict[str, list[str]] = {"tried": [], "clean": [], "unexpected": []}


@pytest.fixture(scope="module")
def rw_store(kent_store_path, tmp_path_factory) -> Path:
    """A writable copy of the Kent store for commands that open it for writing (ED)."""
    path = tmp_path_factory.mktemp("rw") / "kent_rw.duckdb"
    shutil.copy(kent_store_path, path)
    return path


@pytest.fixture(scope="module", autouse=True)
def _tally(request):
    yield
    tried = len(TALLY["tried"])
    clean = len(TALLY["clean"])
    lines = [
        "",
        f"bad CLI inputs: tried {tried}, handled cleanly {clean}, "
        f"unexpected/unclean {len(TALLY['unexpected'])}",
        *[f"  NOT CLEAN: {x}" for x in TALLY["unexpected"]],
    ]
    # shown without -s too: capture is lifted for these lines
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    with capman.global_and_fixture_disabled():
        for line in lines:
            print(line)


def _expand(args: list[str], db: Path, rw: Path, tmp: Path) -> list[str]:
    return [
        a.replace("{db}", str(db)).replace("{rw}", str(rw)).replace("{tmp}", str(tmp)) for a in args
    ]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _run_bad(cmd, args, kent_store_path, rw_store, tmp_path, capsys, monkeypatch):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile.txt").write_text("not a folder\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # anything written to a default path lands here and is seen
    monkeypatch.setenv("COLUMNS", "200")
    before = _files(tmp_path)
    argv = [cmd, *_expand(args, kent_store_path, rw_store, tmp_path)]
    if "--db" not in argv and cmd not in NO_DB:
        argv += ["--db", str(kent_store_path)]
    label = " ".join(repr(a) if a == "" or " " in a else a for a in [cmd, *args])
    TALLY["tried"].append(label)
    code = main(argv)
    out, err = capsys.readouterr()
    text = out + err
    problems = []
    if code in (0, None):
        problems.append(f"exit {code}")
    if "Error:" not in text:
        problems.append("no 'Error:'")
    if "Traceback" in text:
        problems.append("traceback")
    if "unexpected" in text.lower():
        problems.append("'unexpected'")
    added = _files(tmp_path) - before
    if added:
        problems.append(f"wrote {sorted(added)}")
    if problems:
        TALLY["unexpected"].append(f"{label}: {', '.join(problems)}: {err.strip()[:200]}")
    else:
        TALLY["clean"].append(label)
    return code, out, err, problems


@pytest.mark.parametrize(
    ("cmd", "args"), CASES, ids=[f"{i:03d}-{c}" for i, (c, _) in enumerate(CASES)]
)
def test_bad_input_is_a_clean_error(
    cmd, args, kent_store_path, rw_store, tmp_path, capsys, monkeypatch
):
    code, out, err, problems = _run_bad(
        cmd, args, kent_store_path, rw_store, tmp_path, capsys, monkeypatch
    )
    assert not problems, f"{cmd} {args}: {problems}\nstdout: {out[-500:]}\nstderr: {err[-800:]}"
    if cmd != "sql":  # sql's own owner shapes its errors; here only the clean-error contract
        assert code == 2, (code, err)


@pytest.mark.parametrize(
    ("cmd", "args"), JSON_CASES, ids=[f"json-{i:02d}-{c}" for i, (c, _) in enumerate(JSON_CASES)]
)
def test_bad_input_with_json_leaves_stdout_empty(
    cmd, args, kent_store_path, rw_store, tmp_path, capsys, monkeypatch
):
    code, out, err, problems = _run_bad(
        cmd, args, kent_store_path, rw_store, tmp_path, capsys, monkeypatch
    )
    assert not problems, f"{cmd} {args}: {problems}\nstderr: {err[-800:]}"
    assert code == 2
    assert out.strip() == "", out[:300]
    assert err.lstrip().startswith("Error:")


def test_the_table_is_long_enough():
    assert len(CASES) + len(JSON_CASES) >= 83
    named = [
        ("hotspots", ["--cell-size", "nan"]),
        ("hotspots", ["--cell-size", "inf"]),
        ("hotspots", ["--permutations", "-5"]),
        ("hotspots", ["--seed", "-1"]),
        ("evaluate", ["--k", "0", "--district", "Thanet", "--start", "2025-06"]),
        ("evaluate", ["--k", "-3", "--district", "Thanet", "--start", "2025-06"]),
        ("evaluate", ["--cost", "-100", "--district", "Thanet", "--start", "2025-06"]),
        ("harm", ["--area", ""]),
        ("ed", ["audit", "--limit", "-5"]),
        ("simulate", ["ed", "--seed", "1", "--out", "{tmp}/ed.csv", "--hidden", "E99999999"]),
        ("sql", ["", "--db", "{db}"]),
    ]
    for case in named:
        assert case in CASES, case


# --- the validators themselves, including the values they must let through


def test_numbers_in_range_pass_and_come_back():
    assert v.int_at_least(3, 1, "--k") == 3
    assert v.int_at_least(None, 1, "--k") is None
    assert v.seed(0) == 0 and v.seed(None) is None
    assert v.finite(0.05, "--alpha", gt=0, lt=1) == 0.05
    assert v.finite(250.0, "--cell-size", gt=0) == 250.0
    assert v.finite(None, "--cost", ge=0) is None


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda: v.int_at_least(0, 1, "--k"), "--k"),
        (lambda: v.seed(-1), "--seed"),
        (lambda: v.finite(float("nan"), "--cost", ge=0), "--cost"),
        (lambda: v.finite(float("inf"), "--cell-size", gt=0), "--cell-size"),
        (lambda: v.finite(1.0, "--alpha", gt=0, lt=1), "--alpha"),
        (lambda: v.finite(-1.0, "--cost", ge=0), "--cost"),
        (lambda: v.area(""), "--area"),
        (lambda: v.area("Maidstne"), "--area"),
        (lambda: v.codes("E99999999", ["E07000110"], "--hidden"), "--hidden"),
    ],
)
def test_bad_values_name_the_option_and_a_fix(call, where):
    with pytest.raises(HarmscopeError) as info:
        call()
    assert info.value.where == where and info.value.fix


def test_unknown_area_names_close_matches():
    with pytest.raises(HarmscopeError, match="Maidstone"):
        v.area("Maidstne")
    assert v.area("Kent Police") == "Kent Police"
    assert v.area(" maidstone ") == " maidstone "  # resolved, passed on as given


def test_output_paths(tmp_path):
    (tmp_path / "d").mkdir()
    assert v.output_file(tmp_path / "x.csv", "--out") == tmp_path / "x.csv"
    with pytest.raises(HarmscopeError, match="folder"):
        v.output_file(tmp_path / "d", "--out")
    with pytest.raises(HarmscopeError, match="does not exist"):
        v.output_file(tmp_path / "no" / "x.csv", "--out")
    assert v.output_folder(tmp_path / "d", "--out") == tmp_path / "d"
    with pytest.raises(HarmscopeError):
        v.output_folder(tmp_path / "no", "--out")
