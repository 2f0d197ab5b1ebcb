"""The packaged files are exactly what scripts/build_reference.py makes from the sources."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from harmscope.reference._files import PACKAGED

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_reference.py"
OUTPUTS = [
    "geography/lsoa11.csv.gz",
    "geography/lad.csv",
    "geography/forces.csv",
    "boundaries/lsoa11_kent_medway.geojson",
    "boundaries/lad_kent_medway.geojson",
    "boundaries/lsoa11_kent_medway_placement.geojson.gz",
]


def test_build_reproduces_the_packaged_files(shared_data, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("build_reference", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--source", str(shared_data / "reference"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "without LAD: 0" in out
    assert "Kent & Medway check: 1065 rows, LAD agrees 1065, name agrees 1065" in out
    for rel in OUTPUTS:
        assert (tmp_path / rel).read_bytes() == (PACKAGED / rel).read_bytes(), rel
