"""HARMSCOPE_REFERENCE_DIR: user replacement tables, and clear errors on bad ones."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from harmscope import reference
from harmscope.errors import HarmscopeError
from harmscope.reference._files import ENV_VAR, PACKAGED


@pytest.fixture
def override(tmp_path, monkeypatch):
    (tmp_path / "geography").mkdir()
    (tmp_path / "boundaries").mkdir()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    return tmp_path


def _packaged_lad_text() -> str:
    return (PACKAGED / "geography/lad.csv").read_text()


def test_override_replaces_only_the_files_given(override):
    lad = reference.load_lad()
    lad.loc[lad.lad_code == "E07000110", "csp"] = "Mid Kent CSP"
    lad.loc[lad.lad_code == "E07000110", "alt_names"] = "Testshire"
    lad.to_csv(override / "geography/lad.csv", index=False)
    got = reference.load_lad().set_index("lad_code")
    assert got.loc["E07000110", "csp"] == "Mid Kent CSP"
    # Name matching follows the replaced table.
    assert reference.lad_from_lsoa_name(["Testshire 001A"]) == ["E07000110"]
    # Tables not supplied still come from the package.
    assert len(reference.load_lsoa11()) == 34_753


def test_override_is_reread_when_the_file_changes(override):
    path = override / "geography/forces.csv"
    path.write_text("force_slug,force_name\nkent,Kent Police\n")
    assert reference.force_name_for_slug("essex") is None
    path.write_text("force_slug,force_name\nkent,Kent Police\nessex,Essex Police (local)\n")
    assert reference.force_name_for_slug("essex") == "Essex Police (local)"


def test_missing_column_names_the_file_and_column(override):
    text = _packaged_lad_text().replace(",force,", ",police,", 1)
    (override / "geography/lad.csv").write_text(text)
    with pytest.raises(HarmscopeError) as e:
        reference.load_lad()
    msg = str(e.value)
    assert "lad.csv" in msg and "force" in msg and "Fix:" in msg


def test_non_numeric_value_names_the_line(override):
    lines = _packaged_lad_text().splitlines()
    parts = lines[3].split(",")
    parts[-2] = "lots"  # population_2019
    lines[3] = ",".join(parts)
    (override / "geography/lad.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(HarmscopeError, match=r"population_2019 must be numeric, but line 4"):
        reference.load_lad()


def test_duplicate_key_is_refused(override):
    lines = _packaged_lad_text().splitlines()
    (override / "geography/lad.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(HarmscopeError, match="lad_code must be unique"):
        reference.load_lad()


def test_empty_and_unreadable_files(override):
    path = override / "geography/lsoa11.csv.gz"
    path.write_bytes(b"")
    with pytest.raises(HarmscopeError, match="empty"):
        reference.load_lsoa11()
    path.write_bytes(b"not gzip at all")
    with pytest.raises(HarmscopeError, match="cannot be read"):
        reference.load_lsoa11()


def test_override_dir_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(HarmscopeError, match=f"{ENV_VAR} is set to .* not a folder"):
        reference.load_lad()


def test_boundary_override_drives_placement(override):
    square = {"type": "Polygon", "coordinates": [[[0, 51], [1, 51], [1, 52], [0, 52], [0, 51]]]}
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": square,
                "properties": {
                    "lsoa11_code": "X01000001",
                    "lsoa11_name": "Test 001A",
                    "lad_code": "X0",
                },
            }
        ],
    }
    (override / "boundaries/placement").mkdir()
    with gzip.open(override / "boundaries/placement/kent.geojson.gz", "wt") as fh:
        json.dump(fc, fh)
    (override / "boundaries/placement/index.csv").write_text(
        "force_slug,force_name,lsoas,min_lon,min_lat,max_lon,max_lat\n"
        "kent,Kent Police,1,0,51,1,52\n"
    )
    got = reference.place_points(np.array([0.5, 1.5]), np.array([51.5, 51.5]))
    assert list(got) == ["X01000001", None]


def _write_gz(path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode()))


def test_bad_boundary_files(override):
    (override / "boundaries/maps").mkdir()
    path = override / "boundaries/maps/kent_lsoa.geojson.gz"
    path.write_text("{broken")  # not even gzip
    with pytest.raises(HarmscopeError, match="cannot be read as GeoJSON"):
        reference.lsoa_boundaries(["E07000110"])
    path.write_bytes(gzip.compress(b"{broken"))
    with pytest.raises(HarmscopeError, match="cannot be read as GeoJSON"):
        reference.lsoa_boundaries(["E07000110"])
    _write_gz(
        path,
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"lsoa11_code": "E1"},
                        "geometry": {"type": "Point", "coordinates": [0, 51]},
                    }
                ],
            }
        ),
    )
    with pytest.raises(HarmscopeError, match="lacks propert.*lsoa11_name"):
        reference.lsoa_boundaries(["E07000110"])
    _write_gz(path, json.dumps({"type": "Feature"}))
    with pytest.raises(HarmscopeError, match="not a GeoJSON FeatureCollection"):
        reference.lsoa_boundaries(["E07000110"])
