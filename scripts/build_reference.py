"""Regenerate the packaged reference geography in src/harmscope/reference/data.

Run from the repository root:

    .venv/bin/python scripts/build_reference.py [--source /work/shared/data/reference]

Inputs are the public files described in shared/data/SOURCES.md sections 3 and 4 (mySociety
council register and LSOA lookup, ONS RUC 2011, IMD 2019 via mySociety, ONS mid-2019 LSOA
population). The boundaries are built by scripts/build_boundaries.py. Outputs are deterministic: the same
inputs give byte-identical files (gzip mtime is fixed, rows are sorted, JSON keys ordered).
The derivation of every column is documented in reference/data/SOURCES.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from harmscope.reference.names import normalise_name

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "harmscope" / "reference" / "data"
DEFAULT_SOURCE = Path("/work/shared/data/reference")

KENT_MEDWAY_LADS = [
    "E06000035",  # Medway
    *[f"E07000{n}" for n in range(105, 117)],  # the 12 Kent districts
]

# Metropolitan districts carry no county in the register, only their combined authority;
# each of these combined authorities' metropolitan members form one former metropolitan county.
MET_COUNTY_BY_COMBINED_AUTHORITY = {
    "GMCA": "Greater Manchester",
    "WMCA": "West Midlands",
    "WYCA": "West Yorkshire",
    "LCR": "Merseyside",
    "SCR": "South Yorkshire",
    "NECA": "Tyne and Wear",
    "NTCA": "Tyne and Wear",
}

# police.uk force ids (the slug in download file names) and 'Falls within' names, from the
# data.police.uk /api/forces list; see reference/data/SOURCES.md for the copies consulted.
FORCES = [
    ("avon-and-somerset", "Avon and Somerset Constabulary"),
    ("bedfordshire", "Bedfordshire Police"),
    ("cambridgeshire", "Cambridgeshire Constabulary"),
    ("cheshire", "Cheshire Constabulary"),
    ("city-of-london", "City of London Police"),
    ("cleveland", "Cleveland Police"),
    ("cumbria", "Cumbria Constabulary"),
    ("derbyshire", "Derbyshire Constabulary"),
    ("devon-and-cornwall", "Devon & Cornwall Police"),
    ("dorset", "Dorset Police"),
    ("durham", "Durham Constabulary"),
    ("dyfed-powys", "Dyfed-Powys Police"),
    ("essex", "Essex Police"),
    ("gloucestershire", "Gloucestershire Constabulary"),
    ("greater-manchester", "Greater Manchester Police"),
    ("gwent", "Gwent Police"),
    ("hampshire", "Hampshire Constabulary"),
    ("hertfordshire", "Hertfordshire Constabulary"),
    ("humberside", "Humberside Police"),
    ("kent", "Kent Police"),
    ("lancashire", "Lancashire Constabulary"),
    ("leicestershire", "Leicestershire Police"),
    ("lincolnshire", "Lincolnshire Police"),
    ("merseyside", "Merseyside Police"),
    ("metropolitan", "Metropolitan Police Service"),
    ("norfolk", "Norfolk Constabulary"),
    ("north-wales", "North Wales Police"),
    ("north-yorkshire", "North Yorkshire Police"),
    ("northamptonshire", "Northamptonshire Police"),
    ("northumbria", "Northumbria Police"),
    ("nottinghamshire", "Nottinghamshire Police"),
    ("northern-ireland", "Police Service of Northern Ireland"),
    ("south-wales", "South Wales Police"),
    ("south-yorkshire", "South Yorkshire Police"),
    ("staffordshire", "Staffordshire Police"),
    ("suffolk", "Suffolk Constabulary"),
    ("surrey", "Surrey Police"),
    ("sussex", "Sussex Police"),
    ("thames-valley", "Thames Valley Police"),
    ("warwickshire", "Warwickshire Police"),
    ("west-mercia", "West Mercia Police"),
    ("west-midlands", "West Midlands Police"),
    ("west-yorkshire", "West Yorkshire Police"),
    ("wiltshire", "Wiltshire Police"),
    ("btp", "British Transport Police"),
]
# Only BTP's id is confirmed (stop-and-search availability list); its display name is not.
FORCE_VERIFIED = {slug: "yes" for slug, _ in FORCES}
FORCE_VERIFIED["btp"] = "id only (police.uk availability list); name not confirmed"

# Police force areas: Police Act 1996 Schedule 1 as transcribed (with later amendments) in
# mapit's mapit_UK_police_areas_england_wales.py (jennyd/mapit, commit c324ef65...), brought
# up to the current councils in the register: the 2019-2023 unitaries that replaced whole
# districts of one county stay with that county's force (Somerset -> Avon and Somerset,
# Cumberland/Westmorland and Furness -> Cumbria, North/West Northamptonshire ->
# Northamptonshire, Buckinghamshire -> Thames Valley, Dorset/BCP -> Dorset, North Yorkshire).
# Keys: register county codes of two-tier districts; names: register nice-names of unitary,
# metropolitan and Welsh authorities. Every London borough but the City is Metropolitan.
FORCE_AREAS: dict[str, tuple[set[str], set[str]]] = {
    "Avon and Somerset Constabulary": (
        set(),
        {
            "Somerset",
            "Bath and North East Somerset",
            "City of Bristol",
            "North Somerset",
            "South Gloucestershire",
        },
    ),
    "Bedfordshire Police": (set(), {"Bedford", "Central Bedfordshire", "Luton"}),
    "Cambridgeshire Constabulary": ({"CAM"}, {"Peterborough"}),
    "Cheshire Constabulary": (
        set(),
        {"Cheshire East", "Cheshire West and Chester", "Halton", "Warrington"},
    ),
    "City of London Police": (set(), {"City of London"}),
    "Cleveland Police": (
        set(),
        {"Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees"},
    ),
    "Cumbria Constabulary": (set(), {"Cumberland", "Westmorland and Furness"}),
    "Derbyshire Constabulary": ({"DBY"}, {"Derby"}),
    "Devon & Cornwall Police": ({"DEV"}, {"Cornwall", "Plymouth", "Torbay", "Isles of Scilly"}),
    "Dorset Police": (set(), {"Dorset Council", "Bournemouth, Christchurch and Poole"}),
    "Durham Constabulary": (set(), {"County Durham", "Darlington"}),
    "Dyfed-Powys Police": (set(), {"Ceredigion", "Carmarthenshire", "Pembrokeshire", "Powys"}),
    "Essex Police": ({"ESS"}, {"Southend-on-Sea", "Thurrock"}),
    "Gloucestershire Constabulary": ({"GLS"}, set()),
    "Greater Manchester Police": (
        set(),
        {
            "Bolton",
            "Bury",
            "Manchester",
            "Oldham",
            "Rochdale",
            "Salford",
            "Stockport",
            "Tameside",
            "Trafford",
            "Wigan",
        },
    ),
    "Gwent Police": (set(), {"Monmouthshire", "Blaenau Gwent", "Caerphilly", "Newport", "Torfaen"}),
    "Hampshire Constabulary": ({"HAM"}, {"Isle of Wight", "Portsmouth", "Southampton"}),
    "Hertfordshire Constabulary": ({"HRT"}, set()),
    "Humberside Police": (
        set(),
        {
            "East Riding of Yorkshire",
            "Kingston upon Hull",
            "North East Lincolnshire",
            "North Lincolnshire",
        },
    ),
    "Kent Police": ({"KEN"}, {"Medway"}),
    "Lancashire Constabulary": ({"LAN"}, {"Blackburn with Darwen", "Blackpool"}),
    "Leicestershire Police": ({"LEC"}, {"Leicester", "Rutland"}),
    "Lincolnshire Police": ({"LIN"}, set()),
    "Merseyside Police": (set(), {"Knowsley", "Liverpool", "St. Helens", "Sefton", "Wirral"}),
    "Norfolk Constabulary": ({"NFK"}, set()),
    "North Wales Police": (
        set(),
        {"Isle of Anglesey", "Gwynedd", "Denbighshire", "Flintshire", "Conwy", "Wrexham"},
    ),
    "North Yorkshire Police": (set(), {"North Yorkshire", "York"}),
    "Northamptonshire Police": (set(), {"North Northamptonshire", "West Northamptonshire"}),
    "Northumbria Police": (
        set(),
        {
            "Northumberland",
            "Gateshead",
            "Newcastle upon Tyne",
            "North Tyneside",
            "South Tyneside",
            "Sunderland",
        },
    ),
    "Nottinghamshire Police": ({"NTT"}, {"Nottingham"}),
    "South Wales Police": (
        set(),
        {
            "Cardiff",
            "Swansea",
            "Bridgend",
            "Merthyr Tydfil",
            "Neath Port Talbot",
            "Rhondda Cynon Taff",
            "The Vale of Glamorgan",
        },
    ),
    "South Yorkshire Police": (set(), {"Barnsley", "Doncaster", "Rotherham", "Sheffield"}),
    "Staffordshire Police": ({"STS"}, {"Stoke-on-Trent"}),
    "Suffolk Constabulary": ({"SFK"}, set()),
    "Surrey Police": ({"SRY"}, set()),
    "Sussex Police": ({"ESX", "WSX"}, {"Brighton and Hove"}),
    "Thames Valley Police": (
        {"OXF"},
        {
            "Bracknell Forest",
            "Reading",
            "Slough",
            "West Berkshire",
            "Windsor and Maidenhead",
            "Wokingham",
            "Buckinghamshire",
            "Milton Keynes",
        },
    ),
    "Warwickshire Police": ({"WAR"}, set()),
    "West Mercia Police": ({"WOR"}, {"Shropshire", "Herefordshire", "Telford and Wrekin"}),
    "West Midlands Police": (
        set(),
        {"Birmingham", "Coventry", "Dudley", "Sandwell", "Solihull", "Walsall", "Wolverhampton"},
    ),
    "West Yorkshire Police": (set(), {"Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"}),
    "Wiltshire Police": (set(), {"Wiltshire", "Swindon"}),
}


def force_for(county_code: str, name: str, la_type: str) -> list[str]:
    """Every force whose area names this council (more than one would be an error)."""
    hits = [
        f
        for f, (counties, names) in FORCE_AREAS.items()
        if county_code in counties or name in names
    ]
    if la_type == "LBO":
        hits.append("Metropolitan Police Service")
    return hits


RUC_URBAN = {"A1", "B1", "C1", "C2"}
RUC_RURAL = {"D1", "D2", "E1", "E2"}


def lsoa_name_district(name: str) -> str:
    """'Maidstone 012F' -> 'Maidstone'."""
    m = re.match(r"^(.*\S)\s+\d{3}[A-Z]$", name.strip())
    return m.group(1) if m else name.strip()


def read_sources(src: Path) -> dict[str, pd.DataFrame]:
    reg = pd.read_csv(src / "lookups/uk_local_authorities_current.csv.gz", dtype=str)
    look = pd.read_csv(src / "lookups/lookup_lsoa_to_registry.csv.gz", dtype=str)
    ruc = pd.read_csv(src / "ruc/ruc_2011.csv.gz", dtype=str)
    # The population file starts with a BOM, writes numbers with thousands separators and
    # ends with a 'Grand Total' row that is not the total of the rows above it.
    pop = pd.read_csv(src / "population/2019_population.csv.gz", encoding="utf-8-sig", dtype=str)
    imd = pd.read_csv(src / "imd/UK_IMD_E.csv.gz", dtype={"lsoa": str, "nation": str})
    km = pd.read_csv(src / "lookups/kent_medway_lsoa11_to_lad.csv", dtype=str)
    return {"reg": reg, "look": look, "ruc": ruc, "pop": pop, "imd": imd, "km": km}


def build_lsoa11(s: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ruc = s["ruc"].rename(
        columns={
            "lsoa": "lsoa11_code",
            "LSOA11NM": "lsoa11_name",
            "RUC11CD": "ruc11_code",
            "RUC11": "ruc11_class",
        }
    )[["lsoa11_code", "lsoa11_name", "ruc11_code", "ruc11_class"]]
    bad = set(ruc.ruc11_code) - RUC_URBAN - RUC_RURAL
    if bad:
        raise SystemExit(f"unexpected RUC11 codes {sorted(bad)}")
    ruc["urban_rural"] = np.where(ruc.ruc11_code.isin(RUC_URBAN), "urban", "rural")

    reg = s["reg"][["local-authority-code", "gss-code", "nice-name"]]
    look = s["look"].merge(reg, on="local-authority-code", how="left")
    look = look.rename(
        columns={"lsoa": "lsoa11_code", "gss-code": "lad_code", "nice-name": "lad_name"}
    )
    df = ruc.merge(look[["lsoa11_code", "lad_code", "lad_name"]], on="lsoa11_code", how="left")

    imd = s["imd"][s["imd"].nation == "E"][["lsoa", "overall_local_score", "original_decile"]]
    imd = imd.rename(
        columns={
            "lsoa": "lsoa11_code",
            "overall_local_score": "imd_score",
            "original_decile": "imd_decile",
        }
    )
    df = df.merge(imd, on="lsoa11_code", how="left")
    df["imd_score"] = df.imd_score.round(3)
    df["imd_decile"] = df.imd_decile.astype("Int64")

    pop = s["pop"][s["pop"].lsoa != "Grand Total"].copy()
    pop["population_2019"] = pop["pop"].str.replace(",", "", regex=False).astype("int64")
    df = df.merge(
        pop.rename(columns={"lsoa": "lsoa11_code"})[["lsoa11_code", "population_2019"]],
        on="lsoa11_code",
        how="left",
    )
    df["population_2019"] = df.population_2019.astype("Int64")
    cols = [
        "lsoa11_code",
        "lsoa11_name",
        "lad_code",
        "lad_name",
        "ruc11_code",
        "ruc11_class",
        "urban_rural",
        "imd_score",
        "imd_decile",
        "population_2019",
    ]
    return df[cols].sort_values("lsoa11_code").reset_index(drop=True)


def _successor_map(reg: pd.DataFrame) -> dict[str, str]:
    """Old council code -> current council code, following replaced-by chains (TAU->SWT->SMT).

    Only single successors: a council split between two (Cumbria county) has no one heir.
    """
    rep = {
        r["local-authority-code"]: r["replaced-by"]
        for _, r in reg.iterrows()
        if isinstance(r["replaced-by"], str) and "," not in r["replaced-by"]
    }
    out = {}
    for code in rep:
        seen, cur = set(), code
        while cur in rep and cur not in seen:
            seen.add(cur)
            cur = rep[cur]
        out[code] = cur
    return out


def _register_alt_names(r: pd.Series) -> list[str]:
    """The display-worthy alternative names one register row lists under 'alt-names'."""
    # Register alt-names are comma-joined, so names that themselves hold a comma are
    # taken out whole before splitting ("Bournemouth, Christchurch and Poole").
    raw = str(r["alt-names"])
    for whole in (r["official-name"], r["nice-name"]):
        if isinstance(whole, str) and "," in whole:
            raw = raw.replace(whole, "")
    names = []
    for part in raw.split(","):
        part = part.strip()
        # Register alt-names are comma-joined, so "Bristol, City of" arrives in pieces,
        # and the '... Council' forms never appear in police LSOA names.
        if (
            not part
            or part == "nan"
            or normalise_name(part) in {"city of", "county of"}
            or normalise_name(part).endswith(("council", " ua"))
            or part == part.lower()
        ):
            continue
        names.append(part)
    return names


def _alt_names(reg: pd.DataFrame, cur: pd.DataFrame, lsoa: pd.DataFrame) -> dict[str, list[str]]:
    """Candidate alternative names per current LAD (GSS code), in order of preference for
    display: the register's alt-names, then the names of the councils it replaced, then the
    district prefixes of its LSOA names (the forms police data uses)."""
    gss_by_code = dict(zip(reg["local-authority-code"], reg["gss-code"], strict=True))
    alts: dict[str, list[str]] = {g: [] for g in cur["gss-code"]}
    for _, r in cur.iterrows():
        alts[r["gss-code"]].extend(_register_alt_names(r))
    succ = _successor_map(reg)
    old = reg[
        (reg["current-authority"] != "True") & reg["local-authority-type"].isin(["NMD", "UA"])
    ]
    for _, r in old.iterrows():
        heir = gss_by_code.get(succ.get(r["local-authority-code"], ""))
        if heir in alts:
            alts[heir].append(r["nice-name"])
    prefixes = lsoa.assign(district=lsoa.lsoa11_name.map(lsoa_name_district))
    for gss, grp in prefixes.groupby("lad_code"):
        alts[gss].extend(sorted(set(grp.district)))
    return alts


def _ambiguous_names(cur: pd.DataFrame, alts: dict[str, list[str]]) -> list[str]:
    """Normalised names that point at more than one LAD: dropped and reported, because
    guessing which district a shared name means would misplace records."""
    owners: dict[str, set[str]] = {}
    for _, r in cur.iterrows():
        owners.setdefault(normalise_name(r["nice-name"]), set()).add(r["gss-code"])
    for gss, names in alts.items():
        for n in names:
            owners.setdefault(normalise_name(n), set()).add(gss)
    return sorted(k for k, v in owners.items() if len(v) > 1)


def _kept_alt_names(name: str, candidates: list[str], dropped: list[str]) -> list[str]:
    """The candidates that are neither the LAD's own name, a repeat, nor ambiguous."""
    seen = {normalise_name(name)}
    keep = []
    for n in candidates:
        k = normalise_name(n)
        if k in seen or k in dropped:
            continue
        seen.add(k)
        keep.append(n)
    return keep


def _county_of(r: pd.Series, name: str, county_names: dict[str, str]) -> str:
    """The county level a LAD reports under, which depends on the kind of authority."""
    t = r["local-authority-type"]
    if t == "NMD":
        return county_names.get(r["county-la"], "")
    if t in ("LBO", "CC"):
        return "Greater London"
    if t == "MD":
        return MET_COUNTY_BY_COMBINED_AUTHORITY.get(r["combined-authority"], "")
    return name  # unitary authorities and Welsh principal areas are their own county level


def build_lad(s: dict[str, pd.DataFrame], lsoa: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    reg = s["reg"]
    cur = reg[
        (reg["current-authority"] == "True")
        & (reg["lower-or-unitary"] == "True")
        & reg.nation.isin(["England", "Wales"])
    ].copy()
    county_names = dict(zip(reg["local-authority-code"], reg["nice-name"], strict=True))
    alts = _alt_names(reg, cur, lsoa)
    # Keep a name only if it points at one LAD; report collisions instead of guessing.
    dropped = _ambiguous_names(cur, alts)

    rows = []
    pop = lsoa.groupby("lad_code").population_2019.sum()
    for _, r in cur.iterrows():
        gss, name = r["gss-code"], r["nice-name"]
        forces = force_for(r["county-la"], name, r["local-authority-type"])
        if len(forces) != 1:
            raise SystemExit(f"{gss} {name}: force areas {forces}, expected exactly one")
        rows.append(
            {
                "lad_code": gss,
                "lad_name": name,
                "alt_names": "|".join(_kept_alt_names(name, alts[gss], dropped)),
                "county": _county_of(r, name, county_names),
                # Estimate: one CSP per district in Kent and Medway (see SOURCES.md).
                "csp": f"{name} CSP" if gss in KENT_MEDWAY_LADS else "",
                "force": forces[0],
                "population_2019": int(pop.get(gss, 0)),
                "region": r["region"],
            }
        )
    lad = pd.DataFrame(rows).sort_values("lad_code").reset_index(drop=True)
    return lad, dropped


def build_forces() -> pd.DataFrame:
    return pd.DataFrame(
        [{"force_slug": s, "force_name": n, "verified": FORCE_VERIFIED[s]} for s, n in FORCES]
    )


def load_lsoa_polygons(src: Path) -> tuple[list[dict], list]:
    props, geoms = [], []
    for f in sorted((src / "geography/lsoa2011_by_lad").glob("*.geojson")):
        fc = json.loads(f.read_text())
        for ft in fc["features"]:
            props.append(
                {
                    "lsoa11_code": ft["properties"]["LSOA11CD"],
                    "lsoa11_name": ft["properties"]["LSOA11NM"],
                    "lad_code": f.stem,
                }
            )
            geoms.append(shape(ft["geometry"]))
    order = np.argsort([p["lsoa11_code"] for p in props])
    return [props[i] for i in order], [shapely.make_valid(geoms[i]) for i in order]


def _polygonal(g):
    """make_valid/simplify can leave stray lines or points; boundaries keep only areas."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def drop_slivers(g, min_area: float = 1e-6):
    """Remove the sliver holes left where source LSOAs do not quite meet.

    The source coverage has hairline gaps, so a dissolved district is full of tiny holes.
    No Kent or Medway district has a real hole, and 1e-6 square degrees is about 7,000 m2,
    far below any real enclave, so holes and parts smaller than that are dropped.
    """
    parts = getattr(g, "geoms", [g])
    kept = [
        shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= min_area])
        for p in parts
        if p.area >= min_area
    ]
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def simplify_coverage(geoms: list, tolerance: float) -> list:
    """Simplify shared edges once, so neighbouring LSOAs keep meeting without gaps."""
    if tolerance <= 0:
        return list(geoms)
    # The source polygons are written to 15 digits, so neighbours' shared vertices differ in
    # the last places and GEOS sees no shared edges (every polygon fails
    # coverage_invalid_edges). Snapping to 1e-6 degrees (~0.1 m) makes them a valid coverage;
    # without it simplification opens sliver gaps of up to ~2 ha between LSOAs.
    snapped = shapely.set_precision(np.array(geoms, dtype=object), 1e-6)
    if not shapely.coverage_is_valid(snapped):
        raise SystemExit("LSOA polygons are not a valid coverage after snapping to 1e-6")
    out = shapely.coverage_simplify(snapped, tolerance)
    return [_polygonal(shapely.make_valid(g)) for g in out]


def feature_collection(props: list[dict], geoms: list, decimals: int) -> str:
    feats = []
    for p, g in zip(props, geoms, strict=True):
        g = shapely.set_precision(g, 10**-decimals, mode="pointwise")
        feats.append(
            {"type": "Feature", "properties": p, "geometry": _round_coords(mapping(g), decimals)}
        )
    fc = {"type": "FeatureCollection", "features": feats}
    return json.dumps(fc, separators=(",", ":"))


def _round_coords(geom: dict, decimals: int) -> dict:
    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(c[0]), decimals), round(float(c[1]), decimals)]
        return [rnd(x) for x in c]

    return {"type": geom["type"], "coordinates": rnd(geom["coordinates"])}


def write_csv_gz(df: pd.DataFrame, path: Path) -> None:
    buf = io.BytesIO()
    # mtime=0 keeps the gzip bytes identical between runs.
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(df.to_csv(index=False, lineterminator="\n").encode())
    path.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--tolerance",
        type=float,
        default=0.0005,
        help="coverage simplification tolerance in degrees for the map layer",
    )
    ap.add_argument(
        "--lad-tolerance",
        type=float,
        default=0.001,
        help="further coverage simplification of the dissolved districts, in degrees",
    )
    ap.add_argument("--decimals", type=int, default=5)
    args = ap.parse_args(argv)
    s = read_sources(args.source)

    geo = args.out / "geography"
    bnd = args.out / "boundaries"
    geo.mkdir(parents=True, exist_ok=True)
    bnd.mkdir(parents=True, exist_ok=True)

    lsoa = build_lsoa11(s)
    no_lad = lsoa[lsoa.lad_code.isna()]
    print(
        f"lsoa11: {len(lsoa)} rows; without LAD: {len(no_lad)}"
        f"{' ' + ','.join(no_lad.lsoa11_code) if len(no_lad) else ''}"
    )
    print(
        f"  without population: {lsoa.population_2019.isna().sum()}; "
        f"English rows without IMD: "
        f"{(lsoa.lsoa11_code.str[0].eq('E') & lsoa.imd_decile.isna()).sum()}"
    )
    km = s["km"].merge(lsoa, left_on="LSOA11CD", right_on="lsoa11_code", how="left")
    print(
        f"  Kent & Medway check: {len(km)} rows, LAD agrees {int((km.LAD_CD == km.lad_code).sum())}"
        f", name agrees {int((km.LSOA11NM == km.lsoa11_name).sum())}"
    )
    gt = s["pop"][s["pop"].lsoa == "Grand Total"]["pop"].iloc[0]
    print(
        f"  population source 'Grand Total' row = {gt}; E&W sum = {int(lsoa.population_2019.sum())}"
    )
    write_csv_gz(lsoa, geo / "lsoa11.csv.gz")

    lad, dropped = build_lad(s, lsoa)
    print(f"lad: {len(lad)} rows; names dropped as ambiguous: {dropped}")
    print(lad.groupby("force").size().to_string())
    lad.to_csv(geo / "lad.csv", index=False, lineterminator="\n")
    build_forces().to_csv(geo / "forces.csv", index=False, lineterminator="\n")

    # Boundaries (every force area of England and Wales) are built by build_boundaries.py
    # from the national martinjc/UK-GeoJSON files; Kent's come out byte-identical to the
    # Kent-only files this script used to write (checked when they were replaced).
    return 0


if __name__ == "__main__":
    sys.exit(main())
