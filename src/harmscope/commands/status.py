"""`harmscope status`: forces x kinds x months held, missing months, rejects, unplaced rows."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json

# Short headers so the placement table fits an 80-column terminal.
_SHORT = {
    "no_location": "no loc",
    "placed_by_lsoa_code": "by code",
    "placed_by_point": "by point",
    "placed_by_lsoa21_lookup": "by 2021 code",
    "lsoa_placed_pct": "in LSOA %",
    "district_only": "district",
    "unplaced": "unplaced",
    "out_of_area": "out of area",
}


def register(app: typer.Typer) -> None:
    @app.command()
    def status(db: str = DbOption, json_out: bool = JsonOption) -> None:
        """What the store holds and what is missing."""
        from harmscope.store import Store
        from harmscope.store.status import store_status

        validate.store_path(db)
        with Store.open(db, read_only=True) as store:
            st = store_status(store)
        if json_out:
            print_json(st)
            return
        console = Console()
        console.print(f"Store {st['path']} (schema v{st['schema_version']})")
        t = Table(title="Coverage")
        for c in ("kind", "force", "from", "to", "months", "rows", "missing months", "partial"):
            t.add_column(c, no_wrap=c in ("kind", "from", "to"))
        for c in st["coverage"]:
            miss = c["missing_months"]
            miss_txt = (
                "none"
                if not miss
                else (", ".join(miss) if len(miss) <= 2 else f"{len(miss)} ({miss[0]}..{miss[-1]})")
            )
            t.add_row(
                c["kind"],
                c["force"],
                c["first_month"],
                c["last_month"],
                str(c["months"]),
                f"{c['rows']:,}",
                miss_txt,
                ", ".join(p["month"] for p in c.get("partial_months", [])) or "none",
            )
        console.print(t)
        for c in st["coverage"]:
            for p in c.get("partial_months", []):
                console.print(
                    f"Partial month: {c['kind']} {c['force']} {p['month']} holds {p['rows']:,} "
                    f"rows against about {p['typical']:,} in the months around it; its figures "
                    "are not comparable (an excerpt or an incomplete download).",
                    highlight=False,
                )
        _print_placement(console, st["street_placement"])
        for f in st.get("files", []):
            console.print(
                f"Files: {f['kind']}: {f['files']:,} loaded (last {f['last_loaded']}), rows read "
                f"{f['rows_read']:,}, loaded {f['rows_loaded']:,}, rejected {f['rows_rejected']:,}",
                highlight=False,
            )
        console.print(f"Rejected rows: {st['tables']['rejects']:,}")
        for r in st["rejects_by_reason"][:10]:
            console.print(f"  {r['n']:>7,}  {r['kind']}: {r['reason']}", highlight=False)


def _print_placement(console: Console, rows: list[dict]) -> None:
    """The placement table, and each force's share of rows in a 2011 LSOA in words."""
    if not rows:
        return
    p = Table(title="Street crimes: placement in 2011 geography")
    keys = list(rows[0].keys())
    for k in keys:
        p.add_column(_SHORT.get(k, k), justify="left" if k == "force" else "right")
    for r in rows:
        p.add_row(*[f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k in keys])
    console.print(p)
    for r in rows:
        console.print(
            f"{r['force']}: {r['lsoa_placed_pct']:.2f}% of in-area rows are in a 2011 "
            "LSOA; LSOA-level figures (maps, smoothing, concentration) leave out the rest.",
            highlight=False,
        )
