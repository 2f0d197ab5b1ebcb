"""`harmscope alerts`: which rises this month are new risk and which are noise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.analysis.harm import parse_month
from harmscope.analysis.result import Result, frame_records
from harmscope.analysis.trends import (
    ALARM_COLUMNS,
    AlertSettings,
    alerts,
    latest_alarms,
)
from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, print_json
from harmscope.export.files import check_out
from harmscope.store import Store

# the published table keeps the month, after the area and category
SHOWN = [*ALARM_COLUMNS[:2], "month", *ALARM_COLUMNS[2:]]
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


def run(
    store: Store,
    *,
    level: str = "district",
    crime_types: list[str] | None = None,
    area: str | None = None,
    weight: str = "css",
    month=None,
    alpha: float = 0.05,
    audience: str = "internal",
    threshold: int = 5,
) -> tuple[Result, pd.DataFrame]:
    """The alerts result and its published table of alarms (through the publishing path)."""
    from harmscope.privacy.publishers import publish_alerts

    res = alerts(
        store,
        level=level,
        crime_types=crime_types,
        area=area,
        weight=weight,
        month=month,
        settings=AlertSettings(alpha=alpha),
    )
    pub = publish_alerts(res, latest_alarms(res, SHOWN), audience, threshold)
    res.extras["publication"] = pub
    return res, pub.tables["alarms"]


def _fmt(v) -> str:
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
        crime_type: list[str] = typer.Option(
            None, "--crime-type", help="police.uk category (repeat for several); default all."
        ),
        area: str = typer.Option(None, "--area", help="Only this district (LAD code or name)."),
        weight: str = typer.Option(
            "css", "--weight", help="Rank alarms by harm: css | chi | none."
        ),
        month: str = typer.Option(
            None, "--month", help="Month to report, YYYY-MM (default: latest held)."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="One-sided level of the upper limit."),
        top: int = typer.Option(20, "--top", help="How many alarms to print."),
        out: Path = typer.Option(
            None,
            "--out",
            help="Write every judged area-month; the format comes from the extension: .csv, "
            ".xlsx (with a README sheet) or .parquet.",
        ),
        audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
        threshold: int = typer.Option(
            5, "--threshold", help="Disclosure threshold for --audience public."
        ),
        db: str = DbOption,
        json_out: bool = JsonOption,
        quiet: bool = QuietOption,
    ) -> None:
        """Early warning: Farrington-style exceedances and CUSUM per area x category x month, ranked by harm."""
        validate.store_path(db)
        validate.area(area)
        validate.choice(weight, ("css", "chi", "none"), "--weight")
        validate.finite(alpha, "--alpha", gt=0, lt=1, fix="pass e.g. --alpha 0.05")
        validate.int_at_least(top, 0, "--top")
        check_out(out)
        with Store.open(db, read_only=True) as store:
            res, published = run(
                store,
                level=level,
                crime_types=crime_type or None,
                area=area,
                weight=weight,
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
    if store.query("SELECT count(*) AS n FROM street_crimes").n[0] == 0:
        return ["no street crimes in the sample: skipped"]
    res, published = run(store, level="district", weight="css", audience="public")
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
