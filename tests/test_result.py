"""The Result contract: to_dict carries everything, the text block and the notebook view.

Answers here are written out by hand from the inputs, not read back from the code under test.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmscope.analysis.result import EXTRAS, Result

SRC = Path(__file__).resolve().parents[1] / "src" / "harmscope"


def _result() -> Result:
    table = pd.DataFrame(
        {
            "district": ["Dover", "Thanet"],
            "crimes": np.array([12, 30], dtype="int64"),
            "rate": [1.5, float("nan")],
            "month": pd.to_datetime(["2025-01-01", "2025-02-01"]),
        }
    )
    by_month = pd.DataFrame({"month": ["2025-01", "2025-02", "2025-03"], "n": [4, 5, 6]})
    return Result(
        table=table,
        summary={
            "harm": np.float64(2.5),
            "harm_ci": [np.float64(1.25), 3.75],
            "crimes": np.int64(42),
            "ratio": float("inf"),
            "label": "Kent",
        },
        charts={"bars": {"mark": "bar", "data": {"values": [{"x": np.int64(1)}]}}},
        method="Counted crimes. Assumptions: none. Uncertainty: Poisson.",
        tables={"by_month": by_month},
        notes=["A note."],
        extras={"crime_types": ["Robbery"]},
        title="Harm in Kent",
    )


def test_to_dict_round_trips_through_json_with_every_part():
    res = _result()
    back = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    # keys the commands relied on before, unchanged
    assert back["summary"] == {
        "harm": 2.5,
        "harm_ci": [1.25, 3.75],
        "crimes": 42,
        "ratio": None,
        "label": "Kent",
    }
    assert back["method"].startswith("Counted crimes")
    assert back["notes"] == ["A note."]
    assert back["table"][1] == {
        "district": "Thanet",
        "crimes": 30,
        "rate": None,
        "month": "2025-02-01T00:00:00",
    }
    # what to_dict used to drop
    assert back["title"] == "Harm in Kent"
    assert back["tables"]["by_month"] == [
        {"month": "2025-01", "n": 4},
        {"month": "2025-02", "n": 5},
        {"month": "2025-03", "n": 6},
    ]
    assert back["charts"]["bars"]["data"]["values"] == [{"x": 1}]
    assert back["extras"] == {"crime_types": ["Robbery"]}
    assert back["table_shapes"]["table"] == {
        "rows": 2,
        "columns": ["district", "crimes", "rate", "month"],
    }
    assert back["table_shapes"]["by_month"]["rows"] == 3
    assert json.loads(res.to_json()) == back


def test_to_dict_without_table_keeps_shapes_and_drops_rows():
    back = json.loads(_result().to_json(with_table=False))
    assert "table" not in back and "tables" not in back
    assert back["table_shapes"]["by_month"]["rows"] == 3


def test_extras_that_are_not_json_are_named_by_type():
    class Weights:  # stands in for a sparse neighbour matrix
        n = 2

    res = _result()
    res.extras["weights"] = Weights()
    res.extras["frame"] = pd.DataFrame({"a": [1.0, math.nan]})
    back = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert back["extras"]["weights"] == {"type": "Weights"}
    assert back["extras"]["frame"] == [{"a": 1.0}, {"a": None}]


def test_summary_is_still_a_dict_and_also_the_text_block():
    res = _result()
    assert res.summary["crimes"] == 42
    assert dict(res.summary)["label"] == "Kent"
    res.summary["extra_key"] = 7  # written after construction, still shown
    text = res.summary()
    assert text == res.summary_text()
    lines = text.splitlines()
    assert lines[0] == "Harm in Kent"
    for key in ("harm", "crimes", "ratio", "label", "extra_key"):
        assert any(line.startswith(key + " ") for line in lines), key
    # the interval sits beside its estimate, not on a line of its own
    assert any(line.startswith("harm ") and "2.5 (95% CI 1.25 to 3.75)" in line for line in lines)
    assert not any(line.startswith("harm_ci") for line in lines)
    assert "  table: 2 rows x 4 columns" in lines
    assert "  by_month: 3 rows x 2 columns" in lines
    assert "Method: Counted crimes. Assumptions: none. Uncertainty: Poisson." in text
    assert "  - A note." in lines


def test_summary_assigned_later_is_callable_too():
    res = Result(table=pd.DataFrame())
    res.summary = {"n": 3, "share_ci": [0.1, 0.2]}
    text = res.summary()
    assert "n         3" in text
    assert "share_ci  95% CI 0.1 to 0.2" in text
    assert res.to_dict()["summary"] == {"n": 3, "share_ci": [0.1, 0.2]}


def test_ci_level_is_named_as_given():
    res = Result(table=pd.DataFrame(), summary={"x": 1.0, "x_ci": [0.5, 1.5]}, ci_level=0.9)
    assert "1 (90% CI 0.5 to 1.5)" in res.summary()


def test_repr_html_escapes_everything():
    evil = "<script>alert(1)</script>"
    res = Result(
        table=pd.DataFrame({"name": [evil]}),
        summary={evil: evil},
        method=evil,
        notes=[evil],
        title=evil,
    )
    out = res._repr_html_()
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    # title, summary key, summary value, note, method, and the table cell (pandas escapes it)
    assert out.count("&lt;script&gt;") == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</td>" in out


def _extras_names_used() -> dict[str, list[str]]:
    """Every literal extras name written in the package: extras={...} and extras["..."]."""
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            keys = []
            if isinstance(node, ast.Subscript) and getattr(node.value, "attr", None) == "extras":
                keys = [node.slice]
            elif isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "extras" for t in node.targets
            ):
                keys = getattr(node.value, "keys", []) or []
            elif isinstance(node, ast.keyword) and node.arg == "extras":
                keys = getattr(node.value, "keys", []) or []
            for k in keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    found.setdefault(k.value, []).append(f"{path.relative_to(SRC)}:{k.lineno}")
    return found


def test_every_extra_used_is_declared():
    used = _extras_names_used()
    assert {"weights", "publication"} <= set(used)  # the scan finds the known ones
    undeclared = {k: v for k, v in used.items() if k not in EXTRAS}
    assert not undeclared, f"declare these in analysis.result.EXTRAS: {undeclared}"


@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_declared_extras_say_what_they_hold(name):
    assert len(EXTRAS[name]) > 30


def test_real_results_round_trip_through_json(kent_store):
    """Every part of real analyses' results (numpy scalars, dates, NaN, spatial weights)
    survives to_dict -> strict JSON, and the text block names every headline figure."""
    from datetime import date

    from harmscope.analysis.hotspots import hotspots
    from harmscope.analysis.stopsearch import scrutiny

    hot = hotspots(kent_store, area="Dover", date_from=date(2025, 1, 1), date_to=date(2025, 6, 1))
    results = {"hotspots": hot, **scrutiny(kent_store, "2018-01", "2018-12")}
    for name, res in results.items():
        back = json.loads(json.dumps(res.to_dict(), allow_nan=False))
        assert back["summary"].keys() == res.summary.keys(), name
        assert len(back["table"]) == len(res.table), name
        assert set(back["tables"]) == set(res.tables), name
        assert set(back["charts"]) == set(res.charts), name
        text = res.summary()
        for key in res.summary:
            if not (key.endswith("_ci") and key[:-3] in res.summary):
                assert f"\n{key} " in text, (name, key)
    weights = json.loads(hot.to_json())["extras"]["weights"]
    assert weights == {"type": "csr_matrix"}  # the neighbour matrix, named, not dumped
    assert hot.title == "Gi* hotspots"


def test_accuracy_json_keeps_per_unit_counts_internal():
    """to_dict carries every table, so a command printing it for partner or public would now
    show per-unit counts; the accuracy check's JSON keeps them for the internal audience."""
    from harmscope.privacy.publishers import accuracy_document

    units = pd.DataFrame({"unit": ["a", "b"], "train_count": [1, 2], "test_count": [0, 3]})
    res = Result(
        table=pd.DataFrame({"selection": ["top 5%"], "hit_rate": [0.4]}),
        summary={"pai": 2.0},
        method="m",
        tables={"units": units},
    )
    internal = accuracy_document(res, "internal")
    assert internal["tables"]["units"][1] == {"unit": "b", "train_count": 2, "test_count": 3}
    for audience in ("partner", "public"):
        doc = accuracy_document(res, audience)
        assert set(doc) == {"summary", "method", "notes", "table"}, audience
        assert "train_count" not in json.dumps(doc)
        assert doc["table"] == [{"selection": "top 5%", "hit_rate": 0.4}]
