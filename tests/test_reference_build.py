"""The packaged files are exactly what the build scripts make from the sources:
scripts/build_reference.py (the geography tables) and scripts/build_boundaries.py (the
boundaries; checked here for Kent, the force whose source polygons are in ../shared/data)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from harmscope.reference._files import PACKAGED

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
OUTPUTS = [
    "geography/lsoa11.csv.gz",
    "geography/lad.csv",
    "geography/forces.csv",
]
KENT_BOUNDARIES = [
    "boundaries/placement/kent.geojson.gz",
    "boundaries/maps/kent_lsoa.geojson.gz",
    "boundaries/maps/kent_lad.geojson.gz",
]


def _load(name: str):
    sys.path.insert(0, str(SCRIPTS))  # build_boundaries imports its sibling build_reference
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(SCRIPTS))


def test_build_reproduces_the_packaged_files(shared_data, tmp_path, capsys):
    mod = _load("build_reference")
    assert mod.main(["--source", str(shared_data / "reference"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "without LAD: 0" in out
    assert "Kent & Medway check: 1065 rows, LAD agrees 1065, name agrees 1065" in out
    for rel in OUTPUTS:
        assert (tmp_path / rel).read_bytes() == (PACKAGED / rel).read_bytes(), rel


def test_boundary_build_reproduces_kents_packaged_files(shared_data, tmp_path, capsys):
    """The 13 Kent and Medway source files (the same martinjc/UK-GeoJSON files the national
    build reads) laid out as in that repository, built for Kent only."""
    src = tmp_path / "statistical"
    (src / "eng" / "lsoa_by_lad").mkdir(parents=True)
    (src / "wal" / "lsoa_by_lad").mkdir(parents=True)
    for f in sorted((shared_data / "reference/geography/lsoa2011_by_lad").glob("*.geojson")):
        shutil.copy(f, src / "eng" / "lsoa_by_lad" / f"{f.stem}.json")
    out = tmp_path / "data"
    shutil.copytree(PACKAGED / "geography", out / "geography")
    mod = _load("build_boundaries")
    args = ["--source", str(src), "--out", str(out / "boundaries"), "--forces", "kent"]
    assert mod.main(args) == 0
    assert "kent: 1065 LSOAs" in capsys.readouterr().out
    for rel in KENT_BOUNDARIES:
        assert (out / rel).read_bytes() == (PACKAGED / rel).read_bytes(), rel
