"""County-lines networks at scale: about 1,000,000 SYNTHETIC links, ingest + every analysis.

Issue 15 target: ingest and all analyses within 60 s, peak memory under 2 GB, with igraph's
own timings as the baseline. Each stage runs in its own process (``ru_maxrss`` is that
process's peak; the parent stays small): ``make`` (simulate_lines scaled up with
``background_people``, written as links.csv), ``ingest`` (sources.links.ingest_links, keyed),
``analyses`` (network_profile: graph, communities, brokers, young people, cuckooing, routes,
change month by month) and ``igraph`` (the baseline: the same pairs read from the store, then
igraph alone builds the core graph, runs Leiden (the same passes as the analyses) and
connected components, and betweenness inside the found lines). ``HARMSCOPE_BENCH_BACKGROUND`` sets the
background population (default 520,000: about a million links; 50000 for a quick run),
``HARMSCOPE_BENCH_LINES`` the planted lines (default 40).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from _common import figure, run_child

_CHILD = r"""
import json, os, resource, sys, time
mode, folder, db = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
out = {}
if mode == "make":
    from harmscope.simulate.lines import write_lines
    links, truth = write_lines(folder, 1, background_people=int(os.environ["BG"]),
                               n_lines=int(os.environ["NL"]))
    out["links"] = json.loads(open(truth).read())["recorded_links"]
elif mode == "ingest":
    from harmscope.store import Store
    from harmscope.sources.links import ingest_links
    with Store.open(db) as store:
        rep = ingest_links(store, folder + "/links.csv")
    out["conserved"] = rep.conserved()
elif mode == "analyses":
    from harmscope.store import Store
    from harmscope.analysis.networks import network_profile
    with Store.open(db, read_only=True) as store:
        prof = network_profile(store, seed=1)
    out["timings"] = prof.timings
    out["summary"] = {k: prof.summary[k] for k in ("entities", "core_entities", "links",
        "communities", "lines_found", "young_flagged", "betweenness_exact", "months")}
    out["engine"] = prof.structure.engine
else:  # igraph alone on the same pairs
    import numpy as np, igraph as ig, random
    from harmscope.store import Store
    with Store.open(db, read_only=True) as store:
        t1 = time.perf_counter()
        pairs = store.con.execute(
            "SELECT least(source_key, target_key) a, greatest(source_key, target_key) b, "
            "count(*) w FROM links WHERE source_type IN ('person','phone','address') AND "
            "target_type IN ('person','phone','address') GROUP BY 1, 2").df()
        out["read_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    codes, uniq = __import__("pandas").factorize(
        __import__("pandas").concat([pairs.a, pairs.b], ignore_index=True))
    n = len(pairs)
    g = ig.Graph(n=len(uniq), edges=np.column_stack([codes[:n], codes[n:]]).tolist())
    g.es["weight"] = pairs.w.tolist()
    out["build_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    random.seed(1)
    from harmscope.analysis.networks.structure import LARGE_PASSES
    part = g.community_leiden(objective_function="modularity", weights="weight",
                              n_iterations=LARGE_PASSES)
    g.connected_components()
    out["leiden_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    memb = np.asarray(part.membership)
    sizes = np.bincount(memb)
    for c in np.argsort(-sizes)[:40]:  # as many communities as planted lines, largest first
        g.induced_subgraph(np.flatnonzero(memb == c).tolist()).betweenness(directed=False)
    out["betweenness_s"] = time.perf_counter() - t1
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(mode: str, folder: Path, db: Path, env: dict) -> dict:
    return run_child(_CHILD, mode, folder, db, env=env)


def main() -> int:
    bg = int(os.environ.get("HARMSCOPE_BENCH_BACKGROUND", "520000"))
    lines = int(os.environ.get("HARMSCOPE_BENCH_LINES", "40"))
    env = {**os.environ, "BG": str(bg), "NL": str(lines)}
    env.setdefault("HARMSCOPE_KEY", secrets.token_hex(32))
    tmp = Path(tempfile.mkdtemp(prefix="bench_networks_"))
    db = tmp / "net.duckdb"
    try:
        made = _child("make", tmp, db, env)
        size = (tmp / "links.csv").stat().st_size / 1e6
        print(
            f"SYNTHETIC links: {made['links']:,} recorded ({lines} lines, {bg:,} background "
            f"people), {size:.0f} MB, made in {made['seconds']:.1f} s"
        )
        ing = _child("ingest", tmp, db, env)
        ana = _child("analyses", tmp, db, env)
        base = _child("igraph", tmp, db, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the file and store are large: leave nothing
    total = ing["seconds"] + ana["seconds"]
    core = base["build_s"] + base["leiden_s"] + base["betweenness_s"]
    t = ana["timings"]
    print(f"ingest: {ing['seconds']:.1f} s, peak {ing['peak_mb']:.0f} MB (conserved: "
          f"{ing['conserved']})")  # fmt: skip
    print(
        f"analyses: {ana['seconds']:.1f} s, peak {ana['peak_mb']:.0f} MB; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in t.items())
        + f"; Leiden by {ana['engine']}"
    )
    print(f"  {ana['summary']}")
    print(
        f"ingest + analyses: {total:.1f} s (target 60 s); peak "
        f"{max(ing['peak_mb'], ana['peak_mb']):.0f} MB (target 2048 MB)"
    )
    print(
        f"igraph alone on the same pairs: read {base['read_s']:.1f} s, build "
        f"{base['build_s']:.1f} s, Leiden + components {base['leiden_s']:.1f} s, betweenness "
        f"of the 40 largest communities {base['betweenness_s']:.1f} s = {core:.1f} s; "
        f"analyses / igraph core = {ana['seconds'] / core:.1f}x"
    )
    # the analyses against igraph alone (build, Leiden + components, betweenness) on the same
    # pairs; peak memory of ingest or analyses against the igraph process's peak
    figure("networks_analyses", ana["seconds"], "s", core)
    figure("networks_ingest_plus_analyses", total, "s", base["read_s"] + core)
    figure(
        "networks_peak_memory", max(ing["peak_mb"], ana["peak_mb"]), "MB", base["peak_mb"]
    )
    print(
        json.dumps(
            {
                "links": made["links"],
                "ingest_s": ing["seconds"],
                "ingest_peak_mb": ing["peak_mb"],
                "analyses_s": ana["seconds"],
                "analyses_peak_mb": ana["peak_mb"],
                "timings": t,
                "igraph_core_s": core,
                "ratio": ana["seconds"] / core,
            }
        )
    )
    return 0 if total <= 60 and max(ing["peak_mb"], ana["peak_mb"]) < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
