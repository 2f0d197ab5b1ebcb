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


def test_points_outside_kent_are_not_placed():
    out = points_to_lsoa(np.array([-0.1276, 0.52, np.nan]), np.array([51.5072, 51.27, np.nan]))
    assert out[0] is None and out[1] is not None and out[2] is None


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
