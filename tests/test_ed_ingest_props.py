"""Property tests for the ED reader: any mix of good, bad and repeated rows is conserved, and no
identifier survives into the store, whatever column it was typed into."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmscope.privacy.pseudonymise import nhs_check_digit
from harmscope.sources.ed import ingest_ed
from harmscope.store import Store

KEY = b"property-test-key-0123456789"
# A file with the required columns, the free text and the identifier (no place columns).
HEADER = (
    "site_code,arrival_datetime,assault_datetime,assault_method,assault_method_text,"
    "location_type,location_desc,age_band,nhs_number"
).split(",")


@st.composite
def nhs_numbers(draw):
    while True:
        first9 = f"999{draw(st.integers(0, 999_999)):06d}"
        check = nhs_check_digit(first9)
        if check is not None:
            return first9 + str(check)


@st.composite
def rows(draw):
    nhs = draw(nhs_numbers())
    row = [
        draw(st.sampled_from(["RVV01", "RPA02", ""])),
        draw(
            st.sampled_from(["2025-03-01 23:10", "01/03/2025 23:10", "2025-03-01", "yesterday", ""])
        ),
        draw(st.sampled_from(["2025-03-01 22:40", "", "2025-03-02 10:00", "garbage"])),
        draw(st.sampled_from(["BODY", "knife", "GLASS", "SWORD", nhs])),
        draw(st.sampled_from(["", "punched", f"pt no {nhs}", "by Mr Smith"])),
        draw(st.sampled_from(["STREET", "PUB_CLUB", "PUB", nhs])),
        draw(st.sampled_from(["Margate", "Maidstne high st", "", f"call 07700 900{nhs[-3:]}"])),
        draw(st.sampled_from(["18-24", "", "adult", nhs])),
        draw(st.sampled_from([nhs, nhs[:3] + " " + nhs[3:6] + " " + nhs[6:], "", nhs[::-1]])),
    ]
    cut = draw(st.sampled_from([None, None, None, 5, 11]))  # wrong number of fields sometimes
    if cut == 11:
        row = [*row, "extra", nhs]
    elif cut is not None:
        row = row[:cut]
    return row, nhs


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(data=st.lists(rows(), min_size=1, max_size=25), repeat=st.integers(0, 3))
def test_rows_conserved_and_identifiers_never_stored(tmp_path_factory, data, repeat):
    lines = [r for r, _ in data] + [r for r, _ in data[:repeat]]  # exact repeats
    planted = {n for _, n in data} | {n[::-1] for _, n in data}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(lines)
    path = tmp_path_factory.mktemp("p") / "ed.csv"
    path.write_text(buf.getvalue())
    store = Store.open(":memory:")
    try:
        rep = ingest_ed(store, path, key=KEY)
        assert rep.rows_read == len(lines)
        assert rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_rejected
        n_stored = store.query("SELECT count(*) AS n FROM ed_assaults").n[0]
        assert n_stored == rep.rows_loaded
        assert store.query("SELECT count(*) AS n FROM rejects").n[0] == rep.rows_rejected
        text = " ".join(
            str(v)
            for t in ("ed_assaults", "rejects", "ingests")
            for v in store.query(f"SELECT * FROM {t}").to_numpy().ravel()
        )
        digits = set(re.findall(r"\d{10}", re.sub(r"(?<=\d)[ -](?=\d)", "", text)))
        assert not digits & planted
    finally:
        store.close()
