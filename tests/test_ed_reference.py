"""The packaged town-centre list: estimates, each inside its own district; and the matcher."""

from __future__ import annotations

import numpy as np
import pytest

from harmscope.reference.tables import load_lsoa11
from harmscope.sources.ed_place import Placer, load_town_centres, points_to_lsoa


def test_every_centroid_lies_in_its_district():
    towns = load_town_centres()
    assert len(towns) >= 20 and towns.estimate.eq("true").all()
    lsoa = points_to_lsoa(towns.longitude.to_numpy(), towns.latitude.to_numpy())
    lad = dict(zip(*load_lsoa11()[["lsoa11_code", "lad_code"]].astype(str).T.values, strict=True))
    got = [lad.get(code) for code in lsoa]
    assert got == towns.lad_code.astype(str).tolist()


def test_points_are_placed_anywhere_in_england_and_wales():
    """An assault in London seen at a Kent ED is placed in its London LSOA (every force area
    is packaged), so it is counted outside Kent rather than lost; Paris is not placed."""
    out = points_to_lsoa(
        np.array([-0.1276, 0.52, np.nan, 2.35]), np.array([51.5072, 51.27, np.nan, 48.86])
    )
    lad = dict(zip(*load_lsoa11()[["lsoa11_code", "lad_name"]].astype(str).T.values, strict=True))
    assert lad[out[0]] == "Westminster" and lad[out[1]] == "Maidstone"
    assert out[2] is None and out[3] is None


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("Maidstne town centre", "Maidstone town centre"),
        ("outside the kebab shop, Margaet", "Margate town centre"),
        ("Royal Tunbridge Wells", "Royal Tunbridge Wells town centre"),
        ("taxi rank Herne Bay", "Herne Bay town centre"),
        ("Deal", "Deal town centre"),
    ],
)
def test_fuzzy_matching_finds_the_town(text, town):
    hit = Placer()._match_text(text)
    assert hit[0] == "town_centre" and hit[3] == town


@pytest.mark.parametrize("text", ["home address", "Maidstone Road, Chatham", "Brighton pier"])
def test_unmatched_or_ambiguous_text_is_left_unplaced_with_a_reason(text):
    hit = Placer()._match_text(text)
    assert hit[0] is None and hit[1]
