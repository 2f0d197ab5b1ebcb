"""Place street-level crimes in the packaged 2011-based geography at ingest.

Police files since 2022 carry 2021 LSOA codes; the reference tables are 2011-based. A row is
placed, in order of preference:

1. ``lsoa_code``: its LSOA code is also a 2011 code (most LSOAs kept their codes);
2. ``point``: its coordinates fall inside a packaged 2011 LSOA polygon (every force area
   of England and Wales is packaged);
3. ``lsoa21_lookup``: no usable point, but its 2021 LSOA code descends from exactly one 2011
   LSOA in the ONS 2011->2021 relationship (a split LSOA); England only;
4. ``lsoa_name``: only the district is known, from the LSOA name ("Maidstone 012F").

Rows that none of these place keep NULL derived columns; ``harmscope status`` counts them.
``out_of_area`` is TRUE when the row's district is not in the force's area (a Kent file holds
a few Bexley and Wealden rows), NULL when the force's area or the row's district is unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope import reference
from harmscope.store import Store


def force_name_for_slug(slug: str) -> str | None:
    return reference.force_name_for_slug(slug)


def _ensure_reference_views(store: Store) -> None:
    if getattr(store, "_hs_ref_registered", False):
        return
    lsoa = reference.load_lsoa11()[
        ["lsoa11_code", "lad_code", "ruc11_code", "ruc11_class", "urban_rural", "imd_decile"]
    ]
    lad = reference.load_lad()[["lad_code", "lad_name", "force"]]
    # Native temp tables: joins against them are much faster than scans of pandas frames.
    look = reference.load_lsoa21_lookup()
    parents = look.groupby("lsoa21_code").lsoa11_code.transform("nunique")
    # Only a 2021 code with a single 2011 parent names one 2011 LSOA; merged codes do not.
    l21 = look.loc[(parents == 1) & (look.lsoa21_code != look.lsoa11_code)]
    l21 = l21[["lsoa21_code", "lsoa11_code"]].drop_duplicates()
    for name, df in (("_hs_ref_lsoa11", lsoa), ("_hs_ref_lad", lad), ("_hs_ref_lsoa21", l21)):
        store.con.register("_hs_tmp_df", df)
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _hs_tmp_df")
        store.con.unregister("_hs_tmp_df")
    store.con.execute(
        "CREATE OR REPLACE TEMP TABLE _hs_ref_forces AS SELECT DISTINCT force FROM _hs_ref_lad "
        "WHERE force IS NOT NULL"
    )
    store._hs_ref_registered = True  # type: ignore[attr-defined]


_LAD_BY_NAME: dict[str, str | None] = {}


def _lads_for_names(names: list[str]) -> list[str | None]:
    """LAD codes for LSOA names, memoised: the same ~1,000 names recur in every monthly file."""
    todo = [n for n in names if n not in _LAD_BY_NAME]
    if todo:
        _LAD_BY_NAME.update(zip(todo, reference.lad_from_lsoa_name(todo), strict=True))
    return [_LAD_BY_NAME[n] for n in names]


def derive_street_geography(store: Store, src: str, dst: str, *, tag: str = "") -> None:
    """CREATE TEMP VIEW ``dst``: the good rows of ``src`` plus the derived columns.

    The view reads two helper tables, ``_hs{tag}_placed`` and ``_hs{tag}_named``: a batch
    (``tag='b'``) keeps its own while single files are ingested in between."""
    _ensure_reference_views(store)
    con = store.con
    pts = con.execute(
        f"""SELECT DISTINCT n.longitude, n.latitude FROM {src} n
            ANTI JOIN _hs_ref_lsoa11 l ON n.lsoa_code = l.lsoa11_code
            WHERE n.__reject IS NULL AND n.longitude IS NOT NULL"""
    ).df()
    placed = pd.DataFrame({"longitude": pts.longitude, "latitude": pts.latitude})
    placed["lsoa11_code"] = (
        reference.place_points(pts.longitude.to_numpy(float), pts.latitude.to_numpy(float))
        if len(pts)
        else np.array([], dtype=object)
    )
    placed = placed[placed.lsoa11_code.notna()].astype({"lsoa11_code": "string"})
    names = con.execute(
        f"""SELECT DISTINCT lsoa_name FROM {src} WHERE __reject IS NULL AND lsoa_name IS NOT NULL"""
    ).df()
    named = pd.DataFrame({"lsoa_name": names.lsoa_name})
    named["lad_code"] = pd.Series(_lads_for_names(list(names.lsoa_name)), dtype="string")
    placed_t, named_t = f"_hs{tag}_placed", f"_hs{tag}_named"
    for name, df in ((placed_t, placed), (named_t, named)):
        con.register("_hs_tmp_df", df)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _hs_tmp_df")
        con.unregister("_hs_tmp_df")
    # A view: the rows are materialised once, by the INSERT into the canonical table.
    con.execute(
        f"""
        CREATE TEMP VIEW {dst} AS
        WITH base AS (
            SELECT n.* EXCLUDE (__line, __reject),
                   CASE WHEN l1.lsoa11_code IS NOT NULL THEN n.lsoa_code
                        ELSE coalesce(p.lsoa11_code, l21.lsoa11_code) END AS lsoa11_code,
                   CASE WHEN l1.lsoa11_code IS NOT NULL THEN 'lsoa_code'
                        WHEN p.lsoa11_code IS NOT NULL THEN 'point'
                        WHEN l21.lsoa11_code IS NOT NULL THEN 'lsoa21_lookup'
                        WHEN nm.lad_code IS NOT NULL THEN 'lsoa_name' END AS placed_by,
                   nm.lad_code AS name_lad
            FROM {src} n
            LEFT JOIN _hs_ref_lsoa11 l1 ON n.lsoa_code = l1.lsoa11_code
            LEFT JOIN {placed_t} p ON l1.lsoa11_code IS NULL
                 AND n.longitude = p.longitude AND n.latitude = p.latitude
            LEFT JOIN _hs_ref_lsoa21 l21 ON l1.lsoa11_code IS NULL AND p.lsoa11_code IS NULL
                 AND n.lsoa_code = l21.lsoa21_code
            LEFT JOIN {named_t} nm ON n.lsoa_name = nm.lsoa_name
            WHERE n.__reject IS NULL
        )
        SELECT b.* EXCLUDE (name_lad),
               coalesce(l.lad_code, b.name_lad) AS lad_code,
               d.lad_name AS lad_name,
               CASE WHEN l.ruc11_code IS NOT NULL THEN l.ruc11_code || ' ' || l.ruc11_class END AS ruc_class,
               l.urban_rural AS urban_rural,
               CAST(l.imd_decile AS INTEGER) AS imd_decile,
               CASE WHEN fa.force IS NULL THEN NULL
                    WHEN coalesce(l.lad_code, b.name_lad) IS NULL THEN NULL
                    ELSE coalesce(d.force, '') <> b.falls_within END AS out_of_area
        FROM base b
        LEFT JOIN _hs_ref_lsoa11 l ON b.lsoa11_code = l.lsoa11_code
        LEFT JOIN _hs_ref_lad d ON d.lad_code = coalesce(l.lad_code, b.name_lad)
        LEFT JOIN _hs_ref_forces fa ON fa.force = b.falls_within
        """
    )
