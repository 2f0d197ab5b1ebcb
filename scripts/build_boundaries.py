"""Build the packaged 2011 LSOA boundaries for every police force area in England and Wales.

Run from the repository root, after extracting the martinjc/UK-GeoJSON LSOA files:

    git -C <mirror of martinjc/UK-GeoJSON> archive HEAD json/statistical/eng/lsoa_by_lad \\
        json/statistical/wal/lsoa_by_lad | tar -x -C /tmp/ukgeo
    .venv/bin/python scripts/build_boundaries.py --source /tmp/ukgeo/json/statistical

and the 2011->2021 LSOA relationship file (see reference/data/SOURCES.md):

    .venv/bin/python scripts/build_boundaries.py --lookup21 /tmp/LSOA11_LSOA21PopLookups.csv

For each force (43 territorial forces; the LSOAs of the districts ``geography/lad.csv`` gives
it) this writes, under ``src/harmscope/reference/data/boundaries/``:

- ``placement/<force_slug>.geojson.gz``: the LSOA polygons unsimplified at 7 decimals (~1 cm),
  for point-in-polygon placement of police points (which sit on street centre lines, on the
  LSOA edges, so a simplified copy would move points into neighbours);
- ``maps/<force_slug>_lsoa.geojson.gz``: the same LSOAs, edges simplified once as a coverage
  (0.0005 degrees) at 5 decimals, for maps and LSOA units;
- ``maps/<force_slug>_lad.geojson.gz``: the force's districts dissolved from those LSOAs and
  simplified again (0.001 degrees);
- ``forces.geojson.gz``: each force area dissolved from its districts, for clipping hotspot
  grids and for a national map;
- ``placement/index.csv``: force, LSOA count and bounding box, so placement loads only the
  forces whose box holds the points.

Each force is simplified on its own, so Kent's files are the ones the Kent-only build made.
Outputs are deterministic (sorted rows, fixed gzip mtime). Prints the sizes and checks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_reference import (  # noqa: E402  (a sibling script, not a package)
    OUT,
    _polygonal,
    drop_slivers,
    feature_collection,
    simplify_coverage,
    write_csv_gz,
)

DEFAULT_SOURCE = Path("/tmp/ukgeo/json/statistical")


def simplify(geoms: list, tolerance: float, label: str) -> list:
    """simplify_coverage, falling back to a coarser snap (1e-5 degrees, about 1 m) where the
    source polygons overlap by more than the 1e-6 snap mends. Maps only: placement keeps the
    unsimplified polygons."""
    try:
        return simplify_coverage(geoms, tolerance)
    except SystemExit:
        pass
    snapped = shapely.set_precision(np.array(geoms, dtype=object), 1e-5)
    if shapely.coverage_is_valid(snapped):
        print(f"    {label}: coverage valid only after snapping to 1e-5 degrees")
        out = shapely.coverage_simplify(snapped, tolerance)
    else:
        bad = int(np.sum(~shapely.is_empty(shapely.coverage_invalid_edges(snapped))))
        print(f"    {label}: {bad} polygons overlap a neighbour; simplified one by one")
        out = shapely.simplify(snapped, tolerance, preserve_topology=True)
    return [_polygonal(shapely.make_valid(g)) for g in out]


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def load_national(src: Path, lsoa: pd.DataFrame) -> tuple[list[dict], list]:
    """Every 2011 LSOA polygon in eng/ and wal/ lsoa_by_lad of ``lsoa`` (all of England and
    Wales, or the forces asked for), with its current district; stops if one is missing."""
    lad_of = dict(zip(lsoa.lsoa11_code, lsoa.lad_code, strict=True))
    name_of = dict(zip(lsoa.lsoa11_code, lsoa.lsoa11_name, strict=True))
    seen: dict[str, tuple[dict, object]] = {}
    for nation in ("eng", "wal"):
        for f in sorted((src / nation / "lsoa_by_lad").glob("[EW]0*[0-9].json")):
            for ft in json.loads(f.read_text())["features"]:
                code = ft["properties"]["LSOA11CD"]
                if code in seen:
                    raise SystemExit(f"{code} appears twice (second time in {f.name})")
                if code not in lad_of:
                    continue  # another force's LSOA when only some forces are built
                props = {
                    "lsoa11_code": code,
                    "lsoa11_name": name_of[code],
                    "lad_code": lad_of[code],
                }
                seen[code] = (props, shapely.make_valid(shape(ft["geometry"])))
    missing = sorted(set(lad_of) - set(seen))
    if missing:
        raise SystemExit(f"{len(missing)} LSOAs have no polygon, e.g. {missing[:5]}")
    codes = sorted(seen)
    return [seen[c][0] for c in codes], [_polygonal(seen[c][1]) for c in codes]


def dissolve(props: list[dict], geoms: list, key: str) -> dict[str, object]:
    groups: dict[str, list] = {}
    for p, g in zip(props, geoms, strict=True):
        groups.setdefault(p[key], []).append(g)
    return {
        k: drop_slivers(_polygonal(shapely.union_all(v, grid_size=1e-7)))
        for k, v in sorted(groups.items())
    }


def build_force(slug: str, props: list[dict], geoms: list, lad_names: dict, out: Path, args):
    """The three files of one force; returns (LSOA count, bbox, dissolved force polygon)."""
    (out / "placement" / f"{slug}.geojson.gz").write_bytes(_gz(feature_collection(props, geoms, 7)))
    simple = simplify(geoms, args.tolerance, f"{slug} LSOAs")
    (out / "maps" / f"{slug}_lsoa.geojson.gz").write_bytes(
        _gz(feature_collection(props, simple, args.decimals))
    )
    lads = dissolve(props, simple, "lad_code")
    lad_props = [{"lad_code": c, "lad_name": lad_names[c]} for c in lads]
    lad_geoms = simplify(list(lads.values()), args.lad_tolerance, f"{slug} districts")
    (out / "maps" / f"{slug}_lad.geojson.gz").write_bytes(
        _gz(feature_collection(lad_props, lad_geoms, args.decimals))
    )
    # The force outline comes from the unsimplified LSOAs, so neighbouring forces' outlines
    # meet and can be simplified together as one coverage.
    area = drop_slivers(_polygonal(shapely.union_all(geoms, grid_size=1e-6)))
    bounds = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return len(props), bounds, area


def build_lookup21(path: Path, lsoa: pd.DataFrame, out: Path) -> None:
    """2021 LSOA code -> its 2011 LSOA(s) and the ONS change indicator (U/S/M/X).

    Accepts the ONS 'LSOA (2011) to LSOA (2021) ... Lookup' columns (LSOA11CD, LSOA21CD,
    CHGIND) or the derived file whose change column is 'Category'."""
    raw = pd.read_csv(path, dtype=str)
    chg = "CHGIND" if "CHGIND" in raw.columns else "Category"
    df = raw[["LSOA21CD", "LSOA11CD", chg]].rename(
        columns={"LSOA21CD": "lsoa21_code", "LSOA11CD": "lsoa11_code", chg: "change"}
    )
    df = df.drop_duplicates().sort_values(["lsoa21_code", "lsoa11_code"]).reset_index(drop=True)
    unknown = set(df.lsoa11_code) - set(lsoa.lsoa11_code)
    if unknown:
        raise SystemExit(f"{len(unknown)} 2011 codes in the lookup are not 2011 LSOAs")
    bad = set(df.change) - {"U", "S", "M", "X"}
    if bad:
        raise SystemExit(f"unexpected change indicators {sorted(bad)}")
    write_csv_gz(df, out.parent / "geography" / "lsoa21_to_lsoa11.csv.gz")
    print(
        f"lsoa21_to_lsoa11: {len(df)} rows, {df.lsoa21_code.nunique()} 2021 codes, "
        f"{df.lsoa11_code.nunique()} 2011 codes; changes {df.change.value_counts().to_dict()}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=None, help="the statistical/ folder")
    ap.add_argument("--lookup21", type=Path, default=None, help="the 2011->2021 LSOA lookup")
    ap.add_argument("--out", type=Path, default=OUT / "boundaries")
    ap.add_argument("--tolerance", type=float, default=0.0005)
    ap.add_argument("--lad-tolerance", type=float, default=0.001)
    ap.add_argument("--force-tolerance", type=float, default=0.002)
    ap.add_argument("--decimals", type=int, default=5)
    ap.add_argument(
        "--forces", nargs="*", default=None, help="build only these force slugs (a check)"
    )
    args = ap.parse_args(argv)
    geo = args.out.parent / "geography"
    lsoa = pd.read_csv(geo / "lsoa11.csv.gz", dtype=str)
    lad = pd.read_csv(geo / "lad.csv", dtype=str)
    forces = pd.read_csv(geo / "forces.csv", dtype=str)
    if args.lookup21 is not None:
        build_lookup21(args.lookup21, lsoa, args.out)
    if args.source is None:
        return 0
    slug_of = dict(zip(forces.force_name, forces.force_slug, strict=True))
    force_of_lad = dict(zip(lad.lad_code, lad.force, strict=True))
    lad_names = dict(zip(lad.lad_code, lad.lad_name, strict=True))
    if args.forces:
        wanted = set(forces.loc[forces.force_slug.isin(args.forces), "force_name"])
        lsoa = lsoa[lsoa.lad_code.isin(lad.loc[lad.force.isin(wanted), "lad_code"])]
    props, geoms = load_national(args.source, lsoa)
    print(f"national: {len(props)} LSOA polygons")
    for sub in ("placement", "maps"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    by_force: dict[str, list[int]] = {}
    for i, p in enumerate(props):
        by_force.setdefault(slug_of[force_of_lad[p["lad_code"]]], []).append(i)
    index, areas = [], {}
    for slug in sorted(by_force):
        idx = by_force[slug]
        n, b, area = build_force(
            slug, [props[i] for i in idx], [geoms[i] for i in idx], lad_names, args.out, args
        )
        name = forces.set_index("force_slug").force_name[slug]
        index.append(
            {
                "force_slug": slug,
                "force_name": name,
                "lsoas": n,
                "min_lon": round(b[0], 7),
                "min_lat": round(b[1], 7),
                "max_lon": round(b[2], 7),
                "max_lat": round(b[3], 7),
            }
        )
        areas[slug] = (name, area)
        print(f"  {slug}: {n} LSOAs")
    if args.forces:
        return 0  # a partial build writes no index and no national outline
    pd.DataFrame(index).to_csv(
        args.out / "placement" / "index.csv", index=False, lineterminator="\n"
    )
    slugs = sorted(areas)
    force_geoms = simplify([areas[s][1] for s in slugs], args.force_tolerance, "forces")
    fprops = [{"force_slug": s, "force_name": areas[s][0]} for s in slugs]
    (args.out / "forces.geojson.gz").write_bytes(
        _gz(feature_collection(fprops, force_geoms, args.decimals))
    )
    total = sum(f.stat().st_size for f in args.out.rglob("*.gz"))
    print(f"forces: {len(slugs)}; all boundary files {total / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
