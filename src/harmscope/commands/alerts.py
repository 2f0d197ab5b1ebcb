"""`harmscope alerts`: which rises this month are new risk and which are noise."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from harmscope.commands import _validate as validate
from harmscope.commands._common import (
    AudienceOption,
    CategoryOption,
    DbOption,
    JsonOption,
    OldCrimeTypeOption,
    OldWeightOption,
    QuietOption,
    ThresholdOption,
    area_option,
    harm_weights,
    out_option,
    print_json,
    renamed,
    require_area,
)
from harmscope.months import parse_month

if TYPE_CHECKING:
    from harmscope.store import Store

HEADERS = [
    "area",
    "category",
    "observed",
    "expected",
    "upper limit",
    "score",
    "alarm",
    "CUSUM",
    "sustained",
    "excess harm",
]
NARROW_DROPS = ("upper limit", "score")  # left out below 110 columns


def _fmt(v) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "[c]"
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:,.1f}"
    return str(v)


def register(app: typer.Typer) -> None:
    @app.command(name="alerts")
    def alerts_cmd(
        level: str = typer.Option(
            "district",
            "--level",
            help="district | lsoa_cluster (LSOAs grouped by their MSOA-style name).",
        ),
        category: list[str] = CategoryOption,
        area: str = area_option(
            "Only this district (LAD code or name), or a force; required when the store holds "
            "several forces."
        ),
        weights: str = typer.Option(
            None, "--weights", help="Rank alarms by harm: css | chi | none (default css)."
        ),
        month: str = typer.Option(
            None, "--month", help="Month to report, YYYY-MM (default: latest held)."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="One-sided level of the upper limit."),
        top: int = typer.Option(20, "--top", help="How many alarms to print."),
        out: Path = out_option("Write every judged area-month"),
        audience: str = AudienceOption,
        threshold: int = ThresholdOption,
        crime_type: list[str] = OldCrimeTypeOption,
        weight: str = OldWeightOption,
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Early warning: Farrington-style exceedances and CUSUM per area x category x month, ranked by harm."""
        from harmscope.analysis.result import frame_records
        from harmscope.analysis.trends import ALARM_COLUMNS
        from harmscope.export.files import check_out
        from harmscope.privacy.alerts import published_alerts
        from harmscope.store import Store

        validate.store_path(db)
        validate.area(area)
        hush = quiet or json_out
        categories = renamed(category, crime_type, new="--category", old="--crime-type", quiet=hush)
        scheme, _ = harm_weights(
            weights, weight, old_name="--weight", choices=("css", "chi", "none"), quiet=hush
        )
        validate.finite(alpha, "--alpha", gt=0, lt=1, fix="pass e.g. --alpha 0.05")
        validate.int_at_least(top, 0, "--top")
        check_out(out)
        with Store.open(db, read_only=True) as store:
            require_area(store, area, quiet=quiet)
            res, published = published_alerts(
                store,
                level=level,
                crime_types=categories or None,
                area=area,
                weight=scheme,
                month=parse_month(month, "--month"),
                alpha=alpha,
                audience=audience,
                threshold=threshold,
            )
        pub = res.extras["publication"]
        if out is not None:
            from harmscope.export.files import readme_rows, suppressed_columns, write_tables

            write_tables(
                {"judged": pub.tables["judged"]},
                out,
                readme=readme_rows(pub, "Every judged area-month (harmscope alerts)"),
                suppressed_cols=suppressed_columns(pub),
            )
        if json_out:
            doc = pub.document()
            payload = {k: v for k, v in doc.items() if k != "judged"}
            payload["written"] = str(out) if out else None
            print_json(payload)
            return
        console = Console()
        s = res.summary
        for note in res.notes:
            console.print(note, highlight=False, soft_wrap=True)
        # ten columns in 80: no borders, and text wraps at spaces rather than ending in "…"
        t = Table(
            title=f"Alarms for {s['latest_month']:%Y-%m} ({s['level']}), ranked by harm",
            box=None,
            pad_edge=False,
            header_style="bold",
        )
        # in a narrow terminal the model's upper limit and score give way to the area and
        # category (they stay in --json and --out)
        narrow = console.width < 110
        shown = [
            (h, c)
            for h, c in zip(HEADERS, ALARM_COLUMNS, strict=True)
            if not (narrow and h in NARROW_DROPS)
        ]
        for c, _ in shown:
            text = c in ("area", "category")
            t.add_column(
                c.replace(" ", "\n"),  # two-word headings on two lines: numbers keep the room
                overflow="fold",
                justify="left" if text else "right",
                no_wrap=not text,
            )
        for r in frame_records(published.head(top)):
            t.add_row(*[_fmt(r[c]) for _, c in shown])
        console.print(t)
        if narrow:
            console.print(
                f"({' and '.join(NARROW_DROPS)}: widen the terminal, or --json / --out)",
                highlight=False,
            )
        console.print(
            f"{s['latest_alarms']} exceedance and {s['latest_cusum_alarms']} CUSUM alarms this month over {s['series']} "
            f"series; {s['latest_too_short']} series too short to judge this month. Over all judged area-months the "
            f"alarm rate is {s['alarm_rate']:.1%} (95% CI {s['alarm_rate_ci'][0]:.1%}-{s['alarm_rate_ci'][1]:.1%}) "
            f"against a nominal {s['alpha']:.0%}.",
            highlight=False,
        )
        console.print(f"Method: {res.method}", highlight=False, soft_wrap=True)
        if out is not None and not quiet:
            Console(stderr=True).print(f"Wrote {out}")


def demo(store: Store, out_dir: Path) -> list[str]:
    """Alerts on the demo store (public audience): the latest month's alarms by district."""
    from harmscope.analysis.trends import AlertSettings
    from harmscope.privacy.alerts import published_alerts
    from harmscope.store.queries.catalog import street_crime_count

    if street_crime_count(store) == 0:
        return ["no street crimes in the sample: skipped"]
    res, published = published_alerts(store, level="district", weight="css", audience="public")
    path = Path(out_dir) / "alerts_districts.csv"
    published.to_csv(path, index=False)
    s = res.summary
    if s["judged_area_months"] == 0:
        head = (
            f"alerts: the sample's {s['months_in_store']} months are too short a history to judge any month "
            f"(a baseline needs at least {AlertSettings().min_baseline} earlier months); nothing is flagged"
        )
    else:
        head = (
            f"alerts {s['latest_month']:%Y-%m}: {s['latest_alarms']} exceedances, {s['latest_cusum_alarms']} CUSUM "
            f"over {s['series']} series ({s['judged_area_months']} area-months judged, "
            f"{s['too_short_area_months']} too short)"
        )
    return [
        head,
        str(path),
    ]
