"""Packaged reference data: 2011 LSOAs, districts, police forces and boundaries.

Every table's source is in ``reference/data/SOURCES.md``; ``scripts/build_reference.py``
regenerates the files. Set HARMSCOPE_REFERENCE_DIR to a folder holding files with the same
relative names (e.g. ``geography/lsoa11.csv.gz``) to replace any of them.
"""

from harmscope.reference._files import ENV_VAR as REFERENCE_DIR_ENV
from harmscope.reference.geography import (
    force_boundaries,
    forces_for_lads,
    lad_boundaries,
    load_lsoa21_lookup,
    lsoa_boundaries,
    place_points,
    placement_index,
)
from harmscope.reference.names import district_part, lad_from_lsoa_name
from harmscope.reference.tables import (
    csp_districts,
    force_name_for_slug,
    lad_codes_for_force,
    load_csps,
    load_forces,
    load_lad,
    load_lsoa11,
)

__all__ = [
    "REFERENCE_DIR_ENV",
    "csp_districts",
    "district_part",
    "force_boundaries",
    "force_name_for_slug",
    "forces_for_lads",
    "lad_boundaries",
    "lad_codes_for_force",
    "lad_from_lsoa_name",
    "load_csps",
    "load_forces",
    "load_lad",
    "load_lsoa11",
    "load_lsoa21_lookup",
    "lsoa_boundaries",
    "place_points",
    "placement_index",
]
