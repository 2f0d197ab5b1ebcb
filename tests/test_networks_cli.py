"""`harmscope networks` end to end: the contract's JSON keys, what each audience gets (no
pseudonym outside the internal audience), audited GraphML/GEXF exports that parse back, and
the internal-only report section."""

from __future__ import annotations

import json
import re
import secrets
import xml.etree.ElementTree as ET
from datetime import date

import igraph as ig
import pytest

from harmscope.cli import main
from harmscope.store import Store

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
HEX10 = re.compile(r"\b[0-9a-f]{10}\b")
CONTRACT = ("lines_found", "ari", "broker_precision", "broker_recall", "at_risk_precision",
            "at_risk_recall")  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("netcli")
    key = folder / "partnership.key"
    key.write_text(secrets.token_hex(32) + "\n")
    assert main(["simulate", "lines", "--seed", "4", "--out", str(folder / "sim")]) == 0
    db = folder / "s.duckdb"
    args = ["links", "ingest", str(folder / "sim" / "links.csv"), "--db", str(db)]
    assert main([*args, "--key-file", str(key), "-q"]) == 0
    return folder, db, key


def run(capsys, *args) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    code = main(["networks", *map(str, args)])
    out, err = capsys.readouterr()
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return code, doc, err


def test_contract_summary_with_truth(env, capsys):
    folder, db, key = env
    truth = folder / "sim" / "truth.json"
    code, doc, err = run(capsys, "--db", db, "--truth", truth, "--key-file", key, "--json")
    assert code == 0, err
    s = doc["summary"]
    for k in CONTRACT:
        assert k in s and s[k] is not None, k
    assert s["lines_found"] >= 3 and s["ari"] > 0.6
    assert doc["accuracy"] and doc["brokers"] and doc["young_at_risk"]
    # internal lists carry short pseudonyms only, never a full 64-hex key
    for name in ("brokers", "young_at_risk", "cuckooing"):
        assert not HEX64.search(json.dumps(doc[name]))
        assert all(len(r["pseudonym"] if "pseudonym" in r else r["address"]) == 10
                   for r in doc[name])  # fmt: skip


def test_without_truth_no_accuracy_keys(env, capsys):
    _, db, _ = env
    code, doc, err = run(capsys, "--db", db, "--json")
    assert code == 0, err
    assert "lines_found" in doc["summary"]
    assert "ari" not in doc["summary"] and "accuracy" not in doc


@pytest.mark.parametrize("audience", ["partner", "public"])
def test_partner_and_public_get_area_counts_only(env, capsys, audience):
    folder, db, key = env
    truth = folder / "sim" / "truth.json"
    code, doc, err = run(
        capsys, "--db", db, "--audience", audience, "--truth", truth, "--key-file", key, "--json"
    )
    assert code == 0, err
    text = json.dumps(doc)
    assert not HEX64.search(text) and not HEX10.search(text)
    tables = [k for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    assert tables == ["areas"]
    for name in ("brokers", "young_at_risk", "cuckooing", "communities", "routes"):
        assert name not in doc
    if audience == "public":
        shown = [r[c] for r in doc["areas"] for c in ("lines", "people_in_lines", "young_at_risk")]
        assert all(v is None or v == 0 or v >= 5 for v in shown)
        assert any(v is None for v in shown)  # small counts exist and are hidden
    else:
        assert all(r["lines"] is not None for r in doc["areas"])


@pytest.mark.parametrize("ext", [".graphml", ".gexf"])
def test_export_parses_back_and_is_audited(env, capsys, ext):
    folder, db, _ = env
    out = folder / f"net{ext}"
    with Store.open(db, read_only=True) as store:
        before = int(store.query("SELECT count(*) AS n FROM audit_log").n[0])
    code, doc, err = run(capsys, "--db", db, "--export", out, "--json")
    assert code == 0, err
    with Store.open(db, read_only=True) as store:
        links = int(store.query("SELECT count(DISTINCT (least(source_key, target_key), "
                                "greatest(source_key, target_key))) AS n FROM links").n[0])  # fmt: skip
        ents = int(store.query(
            "SELECT count(*) AS n FROM (SELECT source_key FROM links UNION "
            "SELECT target_key FROM links)").n[0])  # fmt: skip
        audit = store.query("SELECT * FROM audit_log ORDER BY audit_id")
    new = audit.iloc[before:]
    exports = new[new.action == "export"]
    assert len(exports) == 1 and exports.output.iat[0] == str(out)
    assert exports.audience.iat[0] == "internal"
    text = out.read_text(encoding="utf-8")  # keys only: no raw person, phone or address
    assert not re.search(r"P\d{7}|07700|Example (Road|Close)", text)
    if ext == ".graphml":
        g = ig.Graph.Read_GraphML(str(out))
        assert g.vcount() == ents and g.ecount() == links
        assert {"type", "community", "line", "broker_score"} <= set(g.vs.attributes())
        assert sum(g.vs["deal_phone"]) >= 3
    else:
        ns = {"g": "http://gexf.net/1.3"}
        root = ET.parse(out).getroot()
        nodes = root.findall(".//g:nodes/g:node", ns)
        edges = root.findall(".//g:edges/g:edge", ns)
        assert len(nodes) == ents and len(edges) == links
        ids = {n.get("id") for n in nodes}
        assert all(e.get("source") in ids and e.get("target") in ids for e in edges)


def test_export_refused_for_partner_and_wrong_extension(env, capsys):
    folder, db, _ = env
    code, _, err = run(capsys, "--db", db, "--audience", "partner", "--export",
                       folder / "x.graphml")  # fmt: skip
    assert code == 2 and "internal only" in err
    assert not (folder / "x.graphml").exists()
    code, _, err = run(capsys, "--db", db, "--export", folder / "x.csv")
    assert code == 2 and ".graphml" in err


def test_truth_needs_a_key(env, capsys, monkeypatch):
    folder, db, _ = env
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    code, _, err = run(capsys, "--db", db, "--truth", folder / "sim" / "truth.json")
    assert code == 2 and "key" in err


def test_report_section_internal_only(env):
    from harmscope.report.section import ReportContext
    from harmscope.report.sections import networks

    _, db, _ = env
    with Store.open(db) as store:
        for audience in ("partner", "public"):
            ctx = ReportContext(store, "Kent", date(2025, 1, 1), date(2025, 12, 31), audience)
            assert networks.build(ctx) is None
        ctx = ReportContext(store, "Kent", date(2025, 1, 1), date(2025, 12, 31), "internal")
        sec = networks.build(ctx)
    assert sec is not None and sec.disclosure_checked
    assert "SYNTHETIC" in sec.html
    assert {"lines", "routes", "brokers", "young_at_risk"} <= set(sec.tables)
    drawn = [k for k in sec.charts if k.startswith("line_")]
    assert len(drawn) >= 3
    for cid in drawn:
        nodes = sec.tables[cid]
        assert nodes.pseudonym.str.len().eq(10).all()
        spec = json.dumps(sec.charts[cid])
        assert not HEX64.search(spec)
        assert nodes.x.between(0, 1).all() and nodes.y.between(0, 1).all()
        assert "deal phone" in set(nodes.role)
