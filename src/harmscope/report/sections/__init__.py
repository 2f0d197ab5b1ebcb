"""Report sections: every module here is a plug-in the report finds by itself.

To add a section (stop and search, hotspots, evaluation, ED...), create
``harmscope/report/sections/<name>.py`` with:

``ORDER: int``
    Where it goes. The problem profile uses 10 (coverage), 20 (headline), 30 (trend),
    40 (harm against count), 50 (map), 60 (concentration), 70 (rural/urban), 80 (deprivation),
    90 (districts), 100 (comparison forces) and 1000 (methods and sources, always last).
    Pick a free number in between or between 100 and 1000.

``build(ctx: ReportContext) -> Section | None``
    ``ctx`` (``harmscope.report.section.ReportContext``) has the store, the area, the months
    (``ctx.date_from``/``ctx.date_to``, or ``ctx.month_from``/``ctx.month_to`` as YYYY-MM),
    the audience and ``ctx.cache`` (``ctx.cached(key, make)`` shares a result between sections;
    ``ctx.cache["scope"]`` is the resolved ``analysis.harm.Scope``). When the section does
    not apply here (an all-urban area has no rural/urban comparison; one district has no
    ranking), raise ``harmscope.report.section.NotApplicable("why, in plain words",
    title=...)``: the report shows the reason in the section's place. Return None only when
    the store holds no data of the section's kind at all (no stop and search, no ED file):
    the report names it at the end. Anything else raised (a ``HarmscopeError`` included) is
    a failure: the report is not written and ``harmscope report`` exits non-zero naming the
    section (``--allow-partial`` writes an internal draft with the failure in a box).

The ``Section`` you return holds escaped ``html`` (use markupsafe.escape for values),
Vega-Lite ``charts`` (dicts, e.g. ``altair.Chart(...).to_dict()``), ``tables`` (DataFrames; a
table with the same key as a chart is shown under it, collapsible, with a CSV download),
``captions``, ``notes`` (caveats) and ``method`` (what was done, assumptions, uncertainty).

Disclosure control: pass every table through ``ctx.protect(df, count_cols=[...],
derived={...})``, draw the charts and write the sentences from the protected tables, and set
``disclosure_checked=True``. With ``--audience public`` a section that does not is withheld
(its title stays, with a note). Modules whose names start with ``_`` are helpers, not sections.
"""
