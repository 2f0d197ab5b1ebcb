"""Validate the county-lines network analyses against truth planted by `simulate lines`.

Run: .venv/bin/python benchmarks/validate_networks.py   (or `run.py validate networks`)

For each missing-link rate (0, 0.1, 0.2, 0.4: the share of true links never recorded) and
each seed (5 by default, ``HARMSCOPE_VALIDATE_SEEDS``), the real path: simulate lines ->
links.csv -> keyed ingest (sources.links) -> DuckDB store -> network_profile with the truth
keyed by the same key. Prints and writes (``HARMSCOPE_VALIDATE_OUT``, default
docs/networks_accuracy.md) the accuracy table: mean and range over seeds of lines recovered,
adjusted Rand index of the recovered communities against the planted lines (over the line
members), broker precision/recall (top k by the broker score, k = planted brokers) and
at-risk precision/recall (the flagged list), each beside the degree-ranking baseline.
Exit 1 if, at a missing rate of 0.2 or less, the method does not beat the baseline on mean
broker precision and at-risk precision, or the mean ARI is under ``ARI_FLOOR``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from harmscope.analysis.networks import network_profile
from harmscope.analysis.networks.accuracy import keyed_truth, read_truth
from harmscope.simulate.lines import write_lines
from harmscope.sources.links import ingest_links
from harmscope.store import Store

RATES = (0.0, 0.1, 0.2, 0.4)
# A fixed key: the keys order the graph's vertices, and Leiden's result (and so every figure)
# moves a little with that order; a fixed key makes this table repeatable. Synthetic data only.
KEY = b"5d0e7c3b9a1f48e2b6c4d8a0f2e4b6c8a1d3f5e7b9c0d2e4f6a8b0c2d4e6f8a1"
ARI_FLOOR = 0.5
MEASURES = [
    ("lines_recovered_share", "lines recovered (share of planted)"),
    ("ari", "adjusted Rand index"),
    ("broker_precision", "broker precision (= recall: top k)"),
    ("baseline_broker_precision", "baseline: degree, broker precision"),
    ("at_risk_precision", "at-risk precision"),
    ("at_risk_recall", "at-risk recall"),
    ("baseline_at_risk_precision", "baseline: degree, at-risk precision"),
    ("baseline_at_risk_recall", "baseline: degree, at-risk recall"),
]


def run_one(seed: int, rate: float, key: bytes, folder: Path) -> dict:
    d = folder / f"s{seed}_r{rate}"
    links, truth_path = write_lines(d, seed, missing_rate=rate)
    with Store.open(d / "store.duckdb") as store:
        ingest_links(store, links, key=key)
        truth = keyed_truth(read_truth(truth_path), key)
        prof = network_profile(store, seed=seed, truth=truth, change=False)
    s = prof.summary
    out = {k: s.get(k) for k, _ in MEASURES if k in s}
    out["lines_recovered_share"] = s["lines_recovered"] / s["lines_planted"]
    return {"seed": seed, "missing_rate": rate, **out}


def table(rows: pd.DataFrame) -> str:
    lines = [
        "| measure | " + " | ".join(f"missing {r:.0%}" for r in RATES) + " |",
        "|---" * (len(RATES) + 1) + "|",
    ]
    for key, label in MEASURES:
        cells = []
        for r in RATES:
            v = rows.loc[rows.missing_rate == r, key].astype(float)
            cells.append(f"{v.mean():.2f} ({v.min():.2f}-{v.max():.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    n_seeds = int(os.environ.get("HARMSCOPE_VALIDATE_SEEDS", "5"))
    out = Path(os.environ.get("HARMSCOPE_VALIDATE_OUT", "docs/networks_accuracy.md"))
    key = KEY
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="validate_networks_") as tmp:
        rows = pd.DataFrame(
            [run_one(s, r, key, Path(tmp)) for r in RATES for s in range(1, n_seeds + 1)]
        )
    md = table(rows)
    head = (
        "# County-lines networks: accuracy on planted truth\n\n"
        "Written by `benchmarks/validate_networks.py` (SYNTHETIC networks from `harmscope "
        f"simulate lines`: 4 lines, 300 background people, 12 months; seeds 1-{n_seeds}). "
        "Each cell: mean over seeds (range). Missing = share of true links never recorded. "
        "Brokers: top k people by broker score, k = planted brokers (so precision = recall). "
        "At risk: the flagged list (score >= 1.5); its baseline takes as many under-18s by "
        "degree. Lines recovered: planted lines whose members are mostly (>= half) in one "
        "detected line community, one planted line per community.\n\n"
    )
    print(md)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + md + "\n", encoding="utf-8")
    print(f"\nwrote {out} ({time.perf_counter() - t0:.0f} s)")
    ok = True
    for r in RATES:
        if r > 0.2:
            continue
        m = rows[rows.missing_rate == r].mean(numeric_only=True)
        if not (
            m.broker_precision > m.baseline_broker_precision
            and m.at_risk_precision > m.baseline_at_risk_precision
            and m.ari >= ARI_FLOOR
        ):
            print(f"FAIL at missing rate {r}: {m.to_dict()}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
