"""The links contract end to end through `harmscope.cli.main`: simulate, refuse without the
key, ingest, derive (real store, SYNTHETIC data)."""

from __future__ import annotations

import json
import secrets

from harmscope.cli import main
from harmscope.store import Store


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_refuse_ingest_derive(tmp_path, capsys, monkeypatch):
    out_dir, db = tmp_path / "sim", tmp_path / "s.duckdb"
    code, out, _ = _run(
        capsys, ["simulate", "lines", "--seed", "3", "--out", str(out_dir), "--json"]
    )
    assert code in (0, None)
    sim = json.loads(out)
    links = out_dir / "links.csv"
    assert sim["synthetic"] and links.is_file() and (out_dir / "truth.json").is_file()

    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    code, out, err = _run(capsys, ["links", "ingest", str(links), "--db", str(db), "--json"])
    assert code == 2
    assert "no pseudonymisation key" in err and "HARMSCOPE_KEY" in err
    with Store.open(db) as store:
        assert store.query("SELECT count(*) n FROM links").n[0] == 0

    monkeypatch.setenv("HARMSCOPE_KEY", secrets.token_hex(32))
    code, out, _ = _run(capsys, ["links", "ingest", str(links), "--db", str(db), "--json"])
    assert code in (0, None)
    rep = json.loads(out)
    assert rep["rows_read"] == rep["rows_loaded"] == sim["recorded_links"]
    assert rep["conserved"] and rep["synthetic"]

    code, out, _ = _run(capsys, ["links", "derive", "--db", str(db), "--json"])
    assert code in (0, None)
    assert json.loads(out)["derived_co_offending_links"] == 0  # no crime extract loaded

    code, out, _ = _run(capsys, ["links", "ingest", str(tmp_path / "nope.csv"), "--db", str(db)])
    assert code == 2
