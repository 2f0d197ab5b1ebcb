"""The harm table (area x category) written for an audience (`harmscope harm --out FILE`)."""

from __future__ import annotations

from pathlib import Path


def write_harm_table(pub, out: Path, *, csv_only: bool = False) -> Path:
    """Write the published area x category table at ``out`` in the format its extension
    names (export.files); ``csv_only`` (the old ``--csv`` flag) writes CSV whatever the name."""
    from harmscope.export.files import readme_rows, suppressed_columns, write_tables
    from harmscope.export.rounding import write_csv

    table = pub.tables["table"]
    if csv_only:
        write_csv(table, out)
    else:
        write_tables(
            {"table": table},
            out,
            readme=readme_rows(pub, "Harm by area and category (harmscope harm)"),
            suppressed_cols=suppressed_columns(pub),
        )
    return Path(out)


def write_sensitivity_tables(pub, out: Path) -> Path:
    """Write a published weight-sensitivity result (`harmscope harm --sensitivity --out FILE`):
    every published table, in the format the extension names (export.files)."""
    from harmscope.export.files import readme_rows, suppressed_columns, write_tables

    write_tables(
        dict(pub.tables),
        out,
        readme=readme_rows(pub, "Harm under every weighting (harmscope harm --sensitivity)"),
        suppressed_cols=suppressed_columns(pub),
    )
    return Path(out)


def _pct(v) -> str:
    return "[c]" if v is None or v != v else f"{float(v):.0%}"


def sensitivity_text(doc: dict) -> str:
    """The published weight sensitivity as plain text: the category table (central CSS and
    CHI shares and the range over every weighting), then the conclusions that survive every
    weighting and those that do not, then the uncertainty statement."""
    s = doc.get("summary", {})
    lines = [
        f"Harm under every weighting: {s.get('area')} ({s.get('months')} months, "
        f"{s.get('scenarios')} weighting scenarios)",
        "",
        f"{'category':32} {'crimes':>8} {'CSS':>5} {'CHI':>5} {'range':>11} {'rank':>7}",
    ]
    for r in doc.get("table", []):
        count = "[c]" if r.get("count") is None else f"{int(r['count']):,}"
        lo, hi = r.get("rank_best"), r.get("rank_worst")
        rank = "" if lo is None else (f"{lo:.0f}" if lo == hi else f"{lo:.0f}-{hi:.0f}")
        lines.append(
            f"{r['category'][:32]:32} {count:>8} {_pct(r.get('share_css_central')):>5} "
            f"{_pct(r.get('share_chi_central')):>5} "
            f"{_pct(r.get('share_min')) + '-' + _pct(r.get('share_max')):>11} {rank:>7}"
        )
    rows = doc.get("conclusions", [])
    lines += ["", "Conclusions that hold under every weighting:"]
    lines += [f"  - {r['claim']}" for r in rows if r.get("holds")] or ["  (none)"]
    lines += ["", "Conclusions that do NOT hold under every weighting:"]
    lines += [
        f"  - {r['claim']} ({r['detail']})" if r.get("detail") else f"  - {r['claim']}"
        for r in rows
        if not r.get("holds")
    ] or ["  (none)"]
    if doc.get("uncertainty"):
        lines += ["", doc["uncertainty"]]
    if doc.get("withheld"):
        lines += ["", "Withheld: " + "; ".join(doc["withheld"])]
    lines += ["", "Method: " + str(doc.get("method", ""))]
    return "\n".join(lines)


def write_pounds_tables(pub, out: Path) -> Path:
    """Write a published harm-in-pounds result (`harmscope harm --pounds --out FILE`): every
    published table, in the format the extension names (export.files)."""
    from harmscope.export.files import readme_rows, suppressed_columns, write_tables

    write_tables(
        dict(pub.tables),
        out,
        readme=readme_rows(pub, "Harm in pounds (harmscope harm --pounds)"),
        suppressed_cols=suppressed_columns(pub),
    )
    return Path(out)


def _gbp(v) -> str:
    if v is None or v != v:
        return "[c]"
    v = float(v)
    if abs(v) >= 1e9:
        return f"£{v / 1e9:,.2f}bn"
    if abs(v) >= 1e6:
        return f"£{v / 1e6:,.1f}m"
    return f"£{v:,.0f}"


def _pounds_row(name: str, r: dict) -> str:
    count = "[c]" if r.get("count") is None else f"{int(r['count']):,}"
    ci = f"{_gbp(r.get('cost_ci_low'))}-{_gbp(r.get('cost_ci_high'))}"
    harm = "[c]" if r.get("harm") is None else f"{float(r['harm']):,.0f}"
    return f"{name[:30]:30} {count:>8} {_gbp(r.get('cost_gbp')):>10} {ci:>21} {harm:>12}"


def pounds_text(doc: dict) -> str:
    """The published harm in pounds as plain text: the headline, the table by category and by
    district (cost with its 95% interval), the categories with no published cost, method."""
    s = doc.get("summary", {})
    lines = [
        f"Harm in pounds: {s.get('area')} ({s.get('first_month')} to {s.get('last_month')}, "
        f"{s.get('price_year')} prices)",
    ]
    if s.get("cost_gbp") is not None:
        lo, hi = s.get("cost_gbp_ci") or [None, None]
        rlo, rhi = s.get("cost_gbp_range") or [None, None]
        lines.append(
            f"Total {_gbp(s['cost_gbp'])} (95% CI {_gbp(lo)} to {_gbp(hi)}) for "
            f"{s.get('costed_count'):,} costed of {s.get('count'):,} crimes; unit-cost range "
            f"{_gbp(rlo)} to {_gbp(rhi)}"
        )
    head = f"{'':30} {'crimes':>8} {'cost':>10} {'95% CI':>21} {'harm (days)':>12}"
    lines += ["", "By category", head]
    lines += [_pounds_row(r["category"], r) for r in doc.get("by_category", [])]
    lines += ["", "By district", head]
    lines += [_pounds_row(r.get("district_name") or "", r) for r in doc.get("by_district", [])]
    for note in doc.get("notes", []):
        lines += ["", note]
    if doc.get("withheld"):
        lines += ["", "Withheld: " + "; ".join(doc["withheld"])]
    lines += ["", "Method: " + str(doc.get("method", ""))]
    return "\n".join(lines)
