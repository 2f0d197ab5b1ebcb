"""Thin commands (issue 11): the store questions commands ask (store/queries/catalog.py), no
silent area default, and one name per concept with the old spellings kept as hidden aliases.

Expected answers come from outside the code under test: the months in the police.uk file
names, the packaged district table's force column, and the same command run under its old
and new option names.
"""

from __future__ import annotations

import json
import re
from datetime import date

from conftest import DOVER_JAN_2025, KENT_STREET
from harmscope.cli import main
from harmscope.store.queries import catalog


def test_held_months_match_the_file_names(kent_store):
    months = sorted(re.match(r"(\d{4}-\d{2})", p.name).group(1) for p in KENT_STREET)
    lo, hi = catalog.held_months(kent_store)
    assert (lo.strftime("%Y-%m"), hi.strftime("%Y-%m")) == (months[0], months[-1])
    assert catalog.held_period(kent_store, date(2025, 3, 1)) == (date(2025, 3, 1), hi)


def test_forces_held_and_the_force_of_a_schemes_areas(kent_store, all_store):
    assert catalog.forces_held(kent_store) == ["Kent Police"]
    assert catalog.forces_held(all_store) == ["Essex Police", "Kent Police", "Sussex Police"]
    # Thanet and Dover are Kent districts; Chelmsford is in Essex (packaged lad.csv)
    assert catalog.force_of_areas(all_store, {"districts": ["Thanet", "Dover"]}) == "Kent Police"
    assert catalog.force_of_areas(all_store, {"districts": ["Chelmsford"]}) == "Essex Police"
    assert catalog.force_of_areas(all_store, {"districts": ["Thanet", "Chelmsford"]}) is None
    # Ramsgate harbour, 1.5 km: only Kent's crimes are near it
    point = {"lat": 51.3347, "lon": 1.4163, "radius_m": 1500}
    assert catalog.force_of_areas(all_store, {"point": point}) == "Kent Police"


def test_a_single_force_store_announces_its_force(kent_store_path, capsys):
    args = ["alerts", "--category", "Robbery", "--db", str(kent_store_path), "--json"]
    capsys.readouterr()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "Area: Kent Police" in err and json.loads(out)["summary"]
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_cli_asks_for_an_area_or_force_on_a_store_of_several_forces(all_store_path, capsys):
    db = ["--db", str(all_store_path)]
    assert main(["harm", "--json", *db]) == 2
    assert "--area" in capsys.readouterr().err
    assert main(["evaluate", "--countywide", "--start", "2025-06", "--json", *db]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "Sussex Police" in err


def _json(capsys, argv) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_old_option_names_give_the_same_output(kent_store_path, capsys):
    db = ["--db", str(kent_store_path), "--json"]
    new = _json(capsys, ["harm", *DOVER_JAN_2025, "--weights", "chi", *db])
    old = _json(capsys, ["harm", *DOVER_JAN_2025, "--scheme", "chi", *db])
    assert new == old and new["summary"]["scheme"] == "chi"
    args = ["alerts", "--area", "Dover", *db]
    new = _json(capsys, [*args, "--category", "Robbery", "--weights", "none"])
    old = _json(capsys, [*args, "--crime-type", "Robbery", "--weight", "none"])
    assert new == old
    # both spellings at once: refused, naming the old one
    assert main(["alerts", "--area", "Dover", "--weight", "css", "--weights", "chi", *db]) == 2
    assert "--weight" in capsys.readouterr().err
