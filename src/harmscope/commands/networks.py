"""`harmscope networks`: county-lines networks from the store's links, for an audience.

Every output leaves through the publishing path (``privacy.networks.publish_networks``):
internal readers get the person-level lists by shortened pseudonym, partners counts per area,
the public the same counts with small-number suppression. ``--export FILE.graphml|.gexf``
writes the whole graph for Gephi or i2 (internal only, audited). Every run writes an
``audit_log`` row, as the analyses read person-level link tables.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, QuietOption, Stages, print_json

AUDIENCES = ("internal", "partner", "public")


def networks_cmd(
    db: str = DbOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
    audience: str = typer.Option("internal", "--audience", help="internal | partner | public."),
    threshold: int = typer.Option(5, "--threshold", help="Suppress public counts below this."),
    truth: Path = typer.Option(
        None,
        "--truth",
        help="Planted truth (truth.json from `simulate lines`) to measure accuracy.",
    ),
    key_file: Path = typer.Option(
        None, "--key-file", help="Key file for --truth (else HARMSCOPE_KEY)."
    ),
    export: Path = typer.Option(
        None, "--export", help="Write the graph to FILE.graphml or FILE.gexf (internal; audited)."
    ),
    month_from: str = typer.Option(None, "--from", help="First month of links (YYYY-MM)."),
    month_to: str = typer.Option(None, "--to", help="Last month of links (YYYY-MM)."),
    seed: int = typer.Option(0, "--seed", help="Leiden seed (communities)."),
) -> None:
    """County-lines networks from the store's links: communities matched to deal lines, brokers,
    young people at risk, cuckooing, routes, change over time; published for the audience."""
    from harmscope.privacy import audit
    from harmscope.store import Store

    validate.store_path(db)
    audience = validate.choice(audience, AUDIENCES, "--audience").strip().lower()
    validate.int_at_least(threshold, 2, "--threshold")
    validate.seed(seed)
    validate.months(month_from, month_to, "--from", "--to")
    if export is not None:
        from harmscope.export.network import check_export

        check_export(export, audience)
    truth_keyed = None
    if truth is not None:
        validate.input_file(truth, "--truth")
        from harmscope.analysis.networks.accuracy import keyed_truth, read_truth
        from harmscope.sources.links import links_key_material

        raw = read_truth(truth)
        truth_keyed = keyed_truth(raw, links_key_material(None, key_file))
    from harmscope.analysis.networks import network_profile
    from harmscope.privacy.networks import publish_networks

    with Stages("networks", quiet=quiet or json_out) as stages, Store.open(db) as store:
        stages("graph and analyses")
        profile = network_profile(
            store, seed=seed, month_from=month_from, month_to=month_to, truth=truth_keyed
        )
        stages("publishing")
        pub = publish_networks(profile, audience, threshold)
        audit.record(
            store,
            action="picture",
            what="county-lines networks"
            + (" (person-level lists)" if audience == "internal" else " (counts per area)"),
            query=f"network_profile(seed={seed}, from={month_from!r}, to={month_to!r}, "
            f"audience={audience!r}, threshold={threshold})",
            audience=audience,
            rows=int(profile.summary.get("entities") or 0),
        )
        written = None
        if export is not None:
            stages("export")
            from harmscope.export.network import export_network

            written = export_network(store, profile, export, audience=audience)
        stages.close()
    doc = pub.document()
    if written is not None:
        doc["exported"] = str(written)
    if json_out:
        print_json(doc)
        return
    _print(doc, profile, written)


def _print(doc: dict, profile, written) -> None:
    c = Console()
    if profile.synthetic:
        c.print("SYNTHETIC data", style="bold")
    for k, v in doc["summary"].items():
        if not k.endswith("_ci"):
            c.print(f"{k}: {v}", highlight=False)
    if doc["audience"] == "internal":
        _print_lists(c, doc)
    else:
        for r in doc.get("areas", [])[:20]:
            c.print(
                f"{r['area']}: lines {_cell(r['lines'])}, people in lines "
                f"{_cell(r['people_in_lines'])}, young at risk {_cell(r['young_at_risk'])}",
                highlight=False,
                markup=False,  # "[c]" (a suppressed count) is not a style tag
            )
    for name, rec in profile.transparency.items():
        c.print(f"{name}: {rec['statement']}", highlight=False)
    for w in doc.get("withheld", []):
        c.print(f"withheld: {w}", highlight=False)
    if written is not None:
        c.print(f"wrote {written} (audited)", highlight=False)


def _print_lists(c: Console, doc: dict) -> None:
    """The top of the person-level lists (internal only), 80 columns, no borders."""
    from rich.markup import escape
    from rich.table import Table

    for name, cols, n in (
        ("brokers", ["rank", "line", "pseudonym", "broker_score", "pairs_disconnected"], 10),
        ("young_at_risk", ["rank", "pseudonym", "age", "line", "score"], 10),
        ("routes", ["route", "people", "lines"], 5),
    ):
        rows = doc.get(name) or []
        if not rows:
            continue
        t = Table(title=name, box=None)
        for col in cols:
            t.add_column(col, no_wrap=col != "route")
        for r in rows[:n]:
            t.add_row(*[escape(_cell(r.get(col))) for col in cols])
        c.print(t)


def _cell(v) -> str:
    if v is None:
        return "[c]"  # a suppressed count
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def register(app: typer.Typer) -> None:
    app.command("networks")(networks_cmd)
