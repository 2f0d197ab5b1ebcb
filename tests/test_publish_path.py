"""The publishing path on the real Kent data: small counts, the harm checksum, district against
force differencing, and outputs that are functions of published counts only.

The attacks here are written from the outputs (JSON as printed), not from the library's
internals: an integer programme (scipy's HiGHS MILP) minimises and maximises every hidden
count under every equation the output gives; a cell whose minimum equals its maximum is
recovered.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from conftest import DOVER_JAN_2025
from harmscope.cli import main
from harmscope.privacy.audience import get_audience
from harmscope.privacy.publishers import publish_harm
from harmscope.privacy.weighted import Universe, _Block
from harmscope.reference import load_lad

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def harm_run(store, *, audience="internal", threshold=5, **options):
    """What `harmscope harm --json` prints: the harm Publication's document."""
    return publish_harm(store, audience, threshold, **options).document()


def _districts() -> list[str]:
    lad = load_lad()
    return sorted(lad.loc[lad.force == "Kent Police", "lad_name"].astype(str))


def _range(k: int, n: int, a_eq, b_eq, a_ub=None, lo_ub=None, hi_ub=None) -> tuple[float, float]:
    """Integer min and max of variable k (all variables integer, >= 0)."""
    cons = []
    if a_eq is not None and len(a_eq):
        cons.append(LinearConstraint(np.array(a_eq, float), np.array(b_eq), np.array(b_eq)))
    if a_ub is not None and len(a_ub):
        cons.append(LinearConstraint(np.array(a_ub, float), np.array(lo_ub), np.array(hi_ub)))
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[k] = sign
        r = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf))
        assert r.status == 0, r.message  # the true counts are always a solution
        out.append(sign * r.fun)
    return out[0], out[1]


def _attack_by_category(
    doc: dict, weights: dict[str, float], exact_harm: bool
) -> tuple[int, int, int]:
    """(hidden cells, equations, recovered) for one harm JSON document."""
    cats = doc["by_category"]
    hidden = [r["category"] for r in cats if r["count"] is None]
    if not hidden:
        return 0, 0, 0
    vis_n = sum(r["count"] for r in cats if r["count"] is not None)
    vis_h = sum(weights[r["category"]] * r["count"] for r in cats if r["count"] is not None)
    s = doc["summary"]
    n = len(hidden)
    a_eq, b_eq, a_ub, lo, hi = [], [], [], [], []
    if s["count"] is not None:
        a_eq.append([1.0] * n)
        b_eq.append(s["count"] - vis_n)
    if s["harm"] is not None:
        row = [weights[c] for c in hidden]
        err = 0.0 if exact_harm else float(s.get("harm_error") or 0.0)
        # the output states its harm exactly, or as an estimate within +- harm_error
        a_ub.append(row)
        lo.append(s["harm"] - vis_h - err - 1e-6)
        hi.append(s["harm"] - vis_h + err + 1e-6)
    recovered = 0
    for k in range(n):
        low, high = _range(k, n, a_eq, b_eq, a_ub, lo, hi)
        recovered += int(round(low) == round(high))
    return n, len(a_eq) + len(a_ub), recovered


def test_public_by_category_shows_no_small_count(kent_store_path, capsys):
    """Finding 1: `harm --area Dover --from 2025-01 --to 2025-01 --audience public --json`
    printed by_category unprotected (Theft from the person 1, Bicycle theft 4)."""
    code = main(
        [
            "harm",
            "--db",
            str(kent_store_path),
            *DOVER_JAN_2025,
            "--audience",
            "public",
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    for table in ("by_category", "table", "totals"):
        shown = [r["count"] for r in doc[table] if r.get("count") is not None]
        assert shown and all(c == 0 or c >= 5 for c in shown), table
    hidden = {r["category"] for r in doc["by_category"] if r["count"] is None}
    assert {"Theft from the person", "Bicycle theft"} <= hidden
    # a figure built from a hidden count is hidden with it
    assert all(
        r["harm"] is None and r["harm_share"] is None
        for r in doc["by_category"]
        if r["count"] is None
    )


@pytest.mark.slow
def test_harm_checksum_recovers_nothing_for_any_district_month(kent_store):
    """Finding 2: with the exact harm total beside the category counts, an integer programme
    recovered 373 of 373 hidden category counts over Kent's 2025 district x month outputs.
    The same attack on what is published now recovers none; on the old publication (exact
    harm, same suppression) it recovers most, so the attack itself works."""
    from harmscope.reference.offences import load_weights

    w = dict(zip(*load_weights("css")[["category", "weight"]].T.to_numpy(), strict=True))
    w = {k: float(v) for k, v in w.items()}
    public = get_audience("public")
    tried = cells = equations = recovered = recovered_old = 0
    for district in _districts():
        for month in MONTHS:
            doc = harm_run(
                kent_store, area=district, date_from=month, date_to=month, audience=public.name
            )
            inside = harm_run(kent_store, area=district, date_from=month, date_to=month)
            tried += 1
            n, e, r = _attack_by_category(doc, w, exact_harm=False)
            cells, equations, recovered = cells + n, equations + e, recovered + r
            old = dict(doc, summary=dict(doc["summary"], harm=inside["summary"]["harm"]))
            recovered_old += _attack_by_category(old, w, exact_harm=True)[2]
    print(
        f"\nchecksum attack: {tried} outputs, {cells} hidden cells, {equations} equations, "
        f"{recovered} recovered now; {recovered_old} recovered with the exact total"
    )
    assert tried == 13 * 12 and cells > 100
    assert recovered == 0
    assert recovered_old > cells // 2


def test_district_outputs_cannot_be_differenced_from_the_force(kent_store):
    """Finding (c): the force's category totals minus the other districts' published counts
    leave each district's hidden count with more than one possible value (one protected
    universe per force; the unplaced rows are an unpublished row of it)."""
    for month in ("2025-01", "2025-06"):
        force = harm_run(
            kent_store,
            level="county",
            area="Kent Police",
            date_from=month,
            date_to=month,
            audience="public",
        )
        total = {r["category"]: r["count"] for r in force["by_category"]}
        per = {
            d: {
                r["category"]: r["count"]
                for r in harm_run(
                    kent_store, area=d, date_from=month, date_to=month, audience="public"
                )["by_category"]
            }
            for d in _districts()
        }
        attacked = recovered = 0
        for cat, tot in total.items():
            if tot is None:
                continue
            hidden = [d for d in per if per[d].get(cat, 0) is None]
            if not hidden:
                continue
            visible = sum(v for d in per if (v := per[d].get(cat, 0)) is not None)
            n = len(hidden) + 1  # + the unplaced rows' count, unknown and >= 0
            for k in range(len(hidden)):
                low, high = _range(k, n, [[1.0] * n], [tot - visible])
                attacked += 1
                recovered += int(round(low) == round(high))
        print(
            f"\n{month}: differencing attacked {attacked} hidden district cells, recovered {recovered}"
        )
        assert attacked > 0 and recovered == 0


def test_published_harm_is_a_function_of_published_counts(kent_store):
    """Change the hidden counts to another table with the same published cells and margins:
    every published figure stays the same (so none can tell the two apart)."""
    from harmscope.analysis.harm import harm_by_area
    from harmscope.privacy.harm_view import UNPLACED

    res = harm_by_area(
        kent_store, level="district", area="Kent Police", date_from="2025-01", date_to="2025-01"
    )
    wt = res.tables["weights"]
    u = Universe(
        res.table,
        row="area_code",
        col="category",
        weights=dict(zip(wt.category, wt.weight, strict=True)),
        threshold=5,
        suppress=True,
        unpublished_rows=(),
    )
    b = u.blocks[()]
    hid = list(zip(*np.nonzero(b.hidden), strict=True))
    assert len(hid) >= 4
    n = len(hid)
    # equations: every visible row and column total over the hidden cells
    a_eq, b_eq = [], []
    for i in range(b.x.shape[0]):
        row = [1.0 if h[0] == i else 0.0 for h in hid]
        if any(row):
            a_eq.append(row)
            b_eq.append(sum(b.x[h] for h in hid if h[0] == i))
    for j in range(b.x.shape[1]):
        row = [1.0 if h[1] == j else 0.0 for h in hid]
        if any(row):
            a_eq.append(row)
            b_eq.append(sum(b.x[h] for h in hid if h[1] == j))
    c = np.zeros(n)
    c[0] = -1.0  # push the first hidden cell as high as it goes: another table
    r = milp(
        c,
        constraints=[LinearConstraint(np.array(a_eq), b_eq, b_eq)],
        integrality=np.ones(n),
        bounds=Bounds(0, np.inf),
    )
    assert r.status == 0
    other = b.x.copy()
    for k, h in enumerate(hid):
        other[h] = round(r.x[k])
    assert (other != b.x).any(), "the table has only one completion: protection failed"
    rows = list(b.rows)
    cols = list(b.cols)
    twin = _Block(rows, cols, other, b.hidden, *b.visibility, b.w)
    u2 = Universe.__new__(Universe)
    u2.__dict__.update(u.__dict__)
    u2.blocks = {(): twin}
    for area in [*rows, None]:
        picked = rows if area is None else [area]
        a, z = u.total(picked), u2.total(picked)
        assert (a.count, a.harm, a.harm_error) == pytest.approx((z.count, z.harm, z.harm_error))
    assert UNPLACED not in rows


def test_failed_section_is_an_error_not_a_box(kent_store_path, tmp_path, monkeypatch, capsys):
    """Finding 4 (second half): a section that raises makes `report` exit non-zero; for the
    public audience no document is written at all."""
    import harmscope.report.sections.profile_categories as cats

    def broken(ctx):
        raise ValueError("planted failure")

    monkeypatch.setattr(cats, "build", broken)
    args = [
        "report",
        "--db",
        str(kent_store_path),
        *DOVER_JAN_2025,
        "--sections",
        "profile_headline,profile_categories",
    ]
    public = tmp_path / "public.html"
    assert main([*args, "--out", str(public), "--audience", "public"]) == 2
    err = capsys.readouterr().err
    assert "profile_categories" in err and "planted failure" in err
    assert not public.exists()
    internal = tmp_path / "internal.html"
    assert main([*args, "--out", str(internal)]) == 2
    assert not internal.exists()  # nothing half-made: a draft only with --allow-partial
    capsys.readouterr()
    draft = tmp_path / "draft.html"
    assert main([*args, "--out", str(draft), "--allow-partial"]) == 0
    assert "planted failure" in draft.read_text()


def test_unspecified_tables_never_leave_for_partner_or_public():
    from harmscope.privacy.publish import Publication

    df = pd.DataFrame({"area": ["a", "b"], "count": [3, 40]})
    for audience in ("partner", "public"):
        pub = Publication.for_audience(audience, "probe")
        assert pub.table("raw", df) is None
        marked_wrongly = pub.table("claims", df, protected=True)
        assert marked_wrongly is None
        assert pub.figure("total", 43, source="raw") is None
        doc = pub.finish().document()
        assert "raw" not in doc and "claims" not in doc and doc["summary"] == {}
        assert len(doc["withheld"]) == 3
    pub = Publication.for_audience("internal", "probe")
    assert pub.table("raw", df) is not None


def test_public_report_charts_are_drawn_from_their_tables(kent_store):
    from harmscope.report.render import build_report, make_context

    ctx = make_context(kent_store, "Dover", "2025-01", "2025-01", audience="public")
    rep = build_report(ctx)
    pub = rep.publication
    assert pub is not None and pub.finished and pub.tables
    assert not rep.errors
    assert pub.dropped == [], pub.dropped
