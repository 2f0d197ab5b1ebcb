"""Offence-level harm by Home Office code (CSS and CHI code-level weights)."""

from __future__ import annotations

from harmscope.analysis.people._data import require_crimes, taxonomy, weights_cte
from harmscope.analysis.result import Result
from harmscope.reference.offences import load_weights


def offence_harm(store) -> Result:
    """Crimes and harm by Home Office offence code, with the police.uk-category view beside it.

    The code-level harm is count x the code's weight (CSS sentence-equivalent days; CHI
    starting-point custody days). ``tables['by_category']`` sums it to the 14 police.uk
    categories and sets it against what the open data allow: the category count times the
    category weight. The gap is the harm hidden by pooling codes of very different gravity.
    """
    require_crimes(store)
    css_cte, css_p = weights_cte("css")
    chi = load_weights("chi", level="code")
    counts = store.query(
        f"""WITH {css_cte}
        SELECT c.offence_code AS code, count(*) AS crimes, sum(c.knife::INT) AS knife,
               any_value(w.weight) AS css_weight
        FROM crimes c LEFT JOIN w ON w.code = c.offence_code GROUP BY 1""",
        css_p,
    )
    tax = taxonomy()[["code", "label", "ons_subgroup", "offence_group", "police_category"]]
    t = counts.merge(tax, on="code", how="left")
    t["chi_weight"] = t.code.map(
        dict(zip(chi.key.astype(str).str.upper(), chi.weight, strict=True))
    )
    t["css_harm"] = t.crimes * t.css_weight.fillna(0)
    t["chi_harm"] = t.crimes * t.chi_weight.fillna(0)
    t["css_share"] = t.css_harm / t.css_harm.sum()
    t["crime_share"] = t.crimes / t.crimes.sum()
    t["violence_against_the_person"] = t.offence_group == "Violence against the person"
    t = t.sort_values("css_harm", ascending=False).reset_index(drop=True)
    cat_w = load_weights("css", level="category").set_index("category")["weight"]
    by_cat = t.groupby("police_category", as_index=False).agg(
        crimes=("crimes", "sum"), css_harm_code_level=("css_harm", "sum")
    )
    by_cat["css_weight_category"] = by_cat.police_category.map(cat_w)
    by_cat["css_harm_category_level"] = by_cat.crimes * by_cat.css_weight_category
    by_cat["ratio_code_to_category"] = by_cat.css_harm_code_level / by_cat.css_harm_category_level
    vap = t[t.violence_against_the_person]
    summary = {
        "crimes": int(t.crimes.sum()),
        "codes_seen": int(len(t)),
        "css_harm_total": float(t.css_harm.sum()),
        "chi_harm_total": float(t.chi_harm.sum()),
        "vap_codes_seen": int(len(vap)),
        "vap_css_share": float(vap.css_harm.sum() / t.css_harm.sum()) if len(t) else None,
        "top_code_by_harm": t.code.iloc[0] if len(t) else None,
    }
    method = (
        "Each crime is weighted by its Home Office offence code: ONS Crime Severity Score "
        "code-level weights (sentence-equivalent days) and Cambridge Crime Harm Index weights "
        "(starting-point custody days), from the packaged tables (many code weights are "
        "estimates carried from their ONS sub-group; see reference/data/offences/SOURCES.md). "
        "Assumptions: one crime is one count of its code; codes without a weight add no harm. "
        "Uncertainty: the totals are exact for the extract; the weights carry the ranges given "
        "in the weights table (weight_low..weight_high), not shown as intervals here. The "
        "by-category table shows what police.uk category weights would give for the same "
        "crimes."
    )
    return Result(table=t, summary=summary, method=method, tables={"by_category": by_cat})
