"""Every command that takes --audience publishes through privacy.publish, checked by running it.

The list of such commands is read from the CLI itself, so a new command that takes
--audience and is not listed here fails this test until it is run here and its output is
shown to come from a finished Publication (a registry check, not a reviewer's memory).
"""

from __future__ import annotations

import json

import pytest
import typer

from conftest import DOVER_JAN_2025
from harmscope.cli import app, main
from harmscope.privacy import publish

KEY = "9f3c1a7e5b2d4086c1e7a9f0b3d5c7e92a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d"

# command path -> (arguments after the path, the publication's name, prints JSON on stdout)
RUNS: dict[tuple[str, ...], tuple[list[str], str, bool]] = {
    ("harm",): (
        [*DOVER_JAN_2025, "--json"],
        "harm",
        True,
    ),
    ("hotspots",): (
        ["--area", "Dover", "--from", "2025-01", "--to", "2025-03", "--json"],
        "hotspots",
        True,
    ),
    ("alerts",): (["--json"], "alerts", True),
    ("stopsearch",): (["--from", "2018-01", "--to", "2018-03", "--json"], "stopsearch", True),
    ("evaluate",): (["--power", "--json"], "power", True),
    ("evidence",): (
        ["Medway Task Force", "--start", "2025-07", "--method", "did", "--json"],
        "evidence",
        True,
    ),
    ("report",): (
        [
            *DOVER_JAN_2025,
            "--sections",
            "profile_headline,profile_categories",
            "--out",
            "{tmp}/r.html",
        ],
        "report",
        False,
    ),
    ("sql",): (["SELECT count(*) AS n FROM street_crimes"], "sql", False),
    ("ed", "picture"): (["--json"], "ed-picture", True),
    ("ed", "export"): (["--out", "{tmp}/export"], "ed-export", False),
    ("people",): (["--json", "--reps", "20"], "people", True),
    ("networks",): (["--json"], "networks", True),
    ("outcomes",): (["--area", "Kent Police", "--json"], "outcomes", True),
    ("allocate",): (
        [
            "--budget",
            "1000000",
            "--area",
            "Kent Police",
            "--from",
            "2025-01",
            "--to",
            "2025-12",
            "--json",
        ],
        "allocation",
        True,
    ),
    ("value",): (
        ["Hang 10 (Ramsgate)", "--start", "2025-07", "--cost", "250000", "--json"],
        "value",
        True,
    ),
    ("drivers",): (
        [
            "--covariate",
            "officers_fte",
            "--outcome",
            "violence",
            "--outcome-file",
            "{env}/cov/recorded_crime_SYNTHETIC.csv",
            "--json",
        ],
        "drivers",
        True,
    ),
}


def _audience_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found = []

    def walk(cmd, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):  # a group
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        elif any("--audience" in getattr(p, "opts", []) for p in cmd.params):
            found.append(path)

    walk(root, ())
    return sorted(found)


def test_every_audience_command_is_registered_here():
    missing = [p for p in _audience_commands() if p not in RUNS]
    assert not missing, (
        f"commands taking --audience with no publishing-path check: {missing}; route their "
        "output through privacy.publish.Publication and add them to RUNS"
    )


@pytest.fixture(scope="module")
def env(kent_copy):
    folder, db = kent_copy("registry", "store.duckdb")
    key = folder / "partnership.key"
    key.write_text(KEY + "\n")
    ed = folder / "ed.csv"
    assert main(["simulate", "ed", "--seed", "3", "--out", str(ed), "--db", str(db)]) == 0
    assert main(["ed", "ingest", str(ed), "--db", str(db), "--key-file", str(key), "--quiet"]) == 0
    assert main(["schemes", "--example", "--db", str(db), "--quiet"]) == 0
    crimes = folder / "crimes.csv"  # a SYNTHETIC crime extract for `people` (issue 14)
    assert (
        main(["simulate", "crimes", "--seed", "3", "--out", str(crimes), "--crimes", "3000"]) == 0
    )
    assert (
        main(["crimes", "ingest", str(crimes), "--db", str(db), "--key-file", str(key), "-q"]) == 0
    )
    cov = folder / "cov"
    assert main(["covariates", "example", "--out", str(cov)]) == 0
    add = ["covariates", "add", str(cov / "officers_fte.csv"), "--name", "officers_fte"]
    add += ["--unit", "FTE", "--source", "Home Office police workforce (OGL)", "--db", str(db)]
    assert main(add) == 0
    lines = folder / "lines"  # SYNTHETIC county-lines links for `networks` (issue 15)
    assert main(["simulate", "lines", "--seed", "3", "--out", str(lines)]) == 0
    ingest = ["links", "ingest", str(lines / "links.csv"), "--db", str(db)]
    assert main([*ingest, "--key-file", str(key), "-q"]) == 0
    return folder, db


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(RUNS), ids=lambda p: " ".join(p))
@pytest.mark.parametrize("audience", ["public", "partner"])
def test_output_comes_from_a_finished_publication(env, capsys, path, audience):
    folder, db = env
    args, name, prints_json = RUNS[path]
    tmp = folder / f"{'-'.join(path)}-{audience}"
    tmp.mkdir(exist_ok=True)
    args = [a.replace("{tmp}", str(tmp)).replace("{env}", str(folder)) for a in args]
    before = publish.serial()
    capsys.readouterr()
    code = main([*path, *args, "--db", str(db), "--audience", audience])
    out, err = capsys.readouterr()
    new = [p for p in publish.LOG if p.number > before]
    pubs = [p for p in new if p.name == name]
    assert pubs, f"{' '.join(path)} published nothing through privacy.publish ({err.strip()})"
    pub = pubs[-1]
    assert pub.finished and pub.audience.name == audience
    if path == ("sql",):
        # ad hoc SQL has no protection spec: refused for partner and public
        assert code == 2 and "not published" in err and out == ""
        return
    assert code == 0, err
    if prints_json:
        doc = json.loads(out)
        published = pub.document()
        for key, records in published.items():
            if isinstance(records, list) and key in doc:
                assert doc[key] == records, f"{key} printed differs from the publication"
    if audience == "public":
        for key, df in pub.tables.items():
            for col in ("count", "observed", "searches", "n", "attendances"):
                if col in df.columns:
                    shown = [int(v) for v in df[col].dropna()]
                    assert all(v == 0 or v >= 5 for v in shown), (key, col)
