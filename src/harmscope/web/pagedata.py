"""What a page draws that its payload leaves out: the hotspot map's cells.

``data.payload("hotspots", ...)`` is the CLI's ``hotspots --json``, which carries the class
table but not the cells (the CLI writes those with ``--out``). The map needs the significant
cells, so this asks the same library calls and the same publishing path
(``privacy.publishers.publish_hotspots``) for them, at the same audience, cached like a payload
(``data.CACHE``, keyed on the data version). Nothing here decides what is shown: the cells are
the published table's rows; only the non-significant ones are left off the map.

When the hotspots payload carries ``cells`` itself, the page draws those and this is not used.
"""

from __future__ import annotations

from harmscope.web import data

SIGNIFICANT = ("hot", "cold")


def _build(store, audience: str, p: dict) -> dict:
    doc = data.hotspot_document(store, audience, p)
    cells = [c for c in doc.get("cells", []) if str(c.get("class", "")).startswith(SIGNIFICANT)]
    return {"cells": cells, "cell_size_m": (doc.get("summary") or {}).get("cell_size_m")}


def area_districts(store, params: dict) -> list[str]:
    """The GSS codes of the districts the page's area covers (the only force held when no
    area is given): the map's outlines and town names. Reference data, no counts."""
    from harmscope.analysis.hotspot_inputs import area_lad_codes

    area = data._check_area(store, params.get("area"))
    return sorted(area_lad_codes(area) or [])


def hotspot_cells(store, audience: str, params: dict) -> dict:
    """{"cells": the published significant cells, "cell_size_m": their size}."""
    return data.cached_build(store, "hotspots#cells", audience, data.normalise(params), _build)[0]
