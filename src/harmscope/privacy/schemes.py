"""What the intervention register publishes (the web's schemes page), through the one path.

The register holds no counts of people or events: each row is a scheme's name, provider,
areas, dates, cost and target crimes, as the partnership wrote them. So it goes as one
reference table (marked checked for the audience), and nothing else: a field added to the
register later is published only if it arrives in this table.
"""

from __future__ import annotations

import pandas as pd

from harmscope.privacy.audience import Audience
from harmscope.privacy.publish import Publication


def publish_schemes(
    schemes: list[dict], audience: str | Audience, threshold: int = 5
) -> Publication:
    """The register (``sources.register.load_schemes``) for an audience."""
    pub = Publication.for_audience(audience, "schemes", threshold)
    # object dtype: every value exactly as the register gave it (no int -> float)
    frame = pd.DataFrame(schemes, dtype=object)
    pub.table("schemes", frame, reference=True)
    return pub.finish()


def schemes_records(pub: Publication) -> list[dict]:
    """The published register as the list of dicts `harmscope schemes --json` prints."""
    table = pub.tables.get("schemes")
    return [] if table is None else table.to_dict(orient="records")
