"""Comparison forces: the report's force against the other forces in the store (up to
``MAX_COMPARISON_FORCES``, the closest in population: ``analysis.harm.comparison_forces``),
as harm and crimes per 1,000 residents over the months all of them have, with ratios and
intervals. Areas held that are not police forces harmscope knows are named, never dropped."""

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
    from harmscope.analysis.harm import compare_forces, comparison_forces

    sc = scope(ctx)
    if sc.force is None:
        raise NotApplicable(
            f"{sc.label} is not within one police force, so it is not compared with others",
            title=TITLE,
        )
    held = queries.street_forces_held(ctx.store, ctx.date_from, ctx.date_to)
    # chosen from what the store holds (never a fixed list): the held police forces closest
    # to this one in population; anything else held is named with the reason it is left out
    others, left_out = comparison_forces(sc.force, held)
    if not others:
        raise NotApplicable(_none_to_compare(sc.force, left_out), title=TITLE)
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
    if left_out:
        sentences.append(_left_out_sentence(left_out))
    return result_section(
        "forces",
        TITLE,
        res,
        sentences,
        charts={"forces": rate_chart(pub, "force", "Harm per 1,000 residents by force")},
        tables={"forces": pub},
    )


def _names(names: list[str], most: int = 6) -> str:
    """Names for a sentence, the first ``most`` and how many more."""
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _by_reason(left_out: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, why in left_out.items():
        groups.setdefault(why, []).append(name)
    return groups


def _none_to_compare(force: str, left_out: dict[str, str]) -> str:
    """Why there is no comparison: the store holds no other force for the period, or only
    areas harmscope cannot rate (a relabelled store's "Force 01"), named."""
    if not left_out:
        return (
            f"the store holds no other force's street crimes for this period to compare "
            f"{force} with (load them with `harmscope ingest PATH`)"
        )
    return (
        f"the store's other areas for this period ({_names(sorted(left_out))}) are not police "
        "forces in harmscope's reference data, so there is no population to compare "
        f"{force}'s rates with (a comparison needs forces as police.uk names them)"
    )


def _left_out_sentence(left_out: dict[str, str]) -> str:
    """One sentence naming what the store holds but the comparison leaves out, and why."""
    parts = [f"{_names(sorted(names))} ({why})" for why, names in _by_reason(left_out).items()]
    return "Held in the store but not compared: " + "; ".join(parts) + "."
