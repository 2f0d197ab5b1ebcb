"""One `harmscope hotspots` run: Gi*, kernel density, emerging hotspots or accuracy on a later
period, with the choices the command and the demo share (the district cell size, the test
period's defaults, the note when permutation p-values cannot pass Holm).

Kept out of the command so the demo, notebooks and tests run exactly what the CLI runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from harmscope.analysis.result import Result
from harmscope.months import to_month

MODES = ("gistar", "kde", "emerging", "evaluate")
TITLES = {
    "gistar": "Gi* hotspots",
    "kde": "Kernel density",
    "emerging": "Emerging hotspots",
    "evaluate": "Hotspot accuracy on the later period",
}


def district_cell(area: str | None) -> tuple[float, str] | None:
    """The district cell size and its announcement when ``area`` is one district (the report's
    rule, analysis.grid.district_cell_size); None otherwise (a force keeps sfhotspot's rule)."""
    from harmscope.analysis import grid as gridmod
    from harmscope.analysis.hotspot_inputs import area_boundary, area_lad_codes

    codes = area_lad_codes(area)
    if codes is None or len(codes) != 1:
        return None
    boundary = area_boundary(area)
    if boundary is None:
        return None
    x0, y0, x1, y1 = boundary.bounds
    size = gridmod.district_cell_size(x1 - x0, y1 - y0)
    return size, gridmod.district_rule_note(size, min(x1 - x0, y1 - y0))


def announce_size(res: Result, note: str | None) -> None:
    """Put the district rule's note first (the grid's "Cell size: ... (set by the user)" note
    would misname it)."""
    if note:
        res.notes[:] = [note, *(n for n in res.notes if not n.startswith("Cell size"))]


def gistar(store, **kwargs) -> Result:
    """``analysis.hotspots.hotspots`` (same keywords), with a note when the permutation p floor
    leaves no cell able to pass Holm."""
    from harmscope.analysis.hotspots import hotspots

    res = hotspots(store, **kwargs)
    permutations, n = res.summary["permutations"], res.summary["units"]
    floor = 2 / (permutations + 1)
    if permutations and res.summary["correction"] == "holm" and floor * n > 0.05:
        res.notes.append(
            f"With {permutations} permutations the smallest possible p is {floor:.4f}; after Holm over {n:,} "
            "units no cell can reach 95%. Use more permutations, --correction fdr, or the analytic p."
        )
    return res


def evaluation_period(
    train: tuple[date, date], test_from: date | None, test_to: date | None
) -> tuple[date, date]:
    """The evaluation period: from the month after training (or ``test_from``) for as long as
    the training period (or to ``test_to``)."""
    first, last = to_month(train[0]), to_month(train[1])
    t0 = to_month(test_from) or last.shift(1)
    t1 = to_month(test_to) or t0.shift(last - first)
    return t0.first_day, t1.first_day


def run(
    store,
    mode: str = "gistar",
    *,
    crime_types: list[str] | None = None,
    area: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    units: str = "grid",
    cell_size: float | None = None,
    neighbours: str = "queen",
    weight: str = "none",
    permutations: int = 0,
    seed: int | None = None,
    correction: str = "holm",
    bandwidth: float | None = None,
    test_from: date | None = None,
    test_to: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Run one kind of hotspot analysis (``mode`` in MODES) over the months held (or
    ``date_from``..``date_to``). A single district with no ``cell_size`` gets the district
    cell size (announced); ``progress(label)`` is told each stage."""
    from harmscope.store.queries.catalog import held_period

    step = progress or (lambda label: None)
    size_note = None
    if cell_size is None and units == "grid":
        chosen = district_cell(area)
        if chosen:
            cell_size, size_note = chosen
    # what every analysis is asked about, and (all but KDE) how units are formed
    scope = dict(crime_types=crime_types, area=area, cell_size=cell_size, weight=weight)
    unit_rule = dict(units=units, neighbours=neighbours)
    train = held_period(store, date_from, date_to)
    period = dict(date_from=date_from, date_to=date_to)
    if mode == "evaluate":
        from harmscope.analysis.accuracy import evaluate_hotspots

        step("accuracy on the later period")
        res = evaluate_hotspots(
            store,
            train=train,
            test=evaluation_period(train, test_from, test_to),
            **scope,
            **unit_rule,
            correction=correction,
            seed=seed,
        )
    elif mode == "kde":
        from harmscope.analysis.kde import kde

        step("kernel density")
        res = kde(store, **scope, **period, bandwidth=bandwidth)
    elif mode == "emerging":
        from harmscope.analysis.hotspots import emerging_hotspots

        step("emerging hotspots (Gi* month by month, Mann-Kendall trends)")
        res = emerging_hotspots(store, **scope, **period, **unit_rule)
    else:
        step(f"Gi* with {permutations:,} permutations" if permutations else "Gi* (analytic p)")
        res = gistar(
            store,
            **scope,
            **period,
            **unit_rule,
            permutations=permutations,
            seed=seed,
            correction=correction,
        )
    announce_size(res, size_note)
    return res
