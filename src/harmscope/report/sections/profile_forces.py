"""Comparison forces: the report's force against the other forces in the store, as harm and
crimes per 1,000 residents over the months all of them have, with ratios and intervals."""

from __future__ import annotations

from harmscope.analysis.harm import COUNT_RATE_COLS, HARM_RATE_COLS, RATIO_COLS
from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._charts import rate_chart
from harmscope.report.sections._util import harm_args, result_section, scope
from harmscope.store.queries import report as queries

ORDER = 100
TITLE = "Comparison forces"
_DERIVED = ["harm", *COUNT_RATE_COLS, *HARM_RATE_COLS, *RATIO_COLS]


def build(ctx: ReportContext) -> Section:
    from harmscope.analysis.harm import compare_forces

    sc = scope(ctx)
    if sc.force is None:
        raise NotApplicable(
            f"{sc.label} is not within one police force, so it is not compared with others",
            title=TITLE,
        )
    held = queries.street_forces_held(ctx.store, ctx.date_from, ctx.date_to)
    others = [f for f in held if f != sc.force]
    if not others:
        raise NotApplicable(
            f"the store holds no other force's street crimes for this period to compare "
            f"{sc.force} with (load them with `harmscope ingest PATH`)",
            title=TITLE,
        )
    res = ctx.cached(
        "compare_forces",
        lambda: compare_forces(
            ctx.store,
            [sc.force, *others],
            date_from=ctx.month_from,
            date_to=ctx.month_to,
            **harm_args(ctx),
        ),
    )
    table = res.table[["force", "population", "count", *_DERIVED]]
    derived = {c: "count" for c in _DERIVED}
    pub = ctx.protect(table, count_cols=["count"], derived=derived)
    sentences = [
        f"{sc.force} against {', '.join(others)} over {len(res.summary['months'])} common month(s) "
        f"({res.summary['months'][0]} to {res.summary['months'][-1]})."
    ]
    for r in pub.itertuples():
        if r.force == sc.force or r.harm_ratio != r.harm_ratio or r.harm_ratio is None:
            continue
        sentences.append(
            f"{r.force}: harm per resident {float(r.harm_ratio):.2f} times {sc.force}'s "
            f"(95% CI {float(r.harm_ratio_ci_low):.2f} to {float(r.harm_ratio_ci_high):.2f})."
        )
    sentences.append(
        "Forces map their crimes to police.uk categories themselves, so part of a gap can be recording."
    )
    return result_section(
        "forces",
        TITLE,
        res,
        sentences,
        charts={"forces": rate_chart(pub, "force", "Harm per 1,000 residents by force")},
        tables={"forces": pub},
    )
