"""Build the example covariate: police officer FTE by force at 31 March 2015-2019.

Source: the Home Office "Police workforce, England and Wales" data tables (OGL v3.0), Table 1
of each 30 September release ("Police officers by police force area ... (FTE)"), whose middle
column is the 31 March figure. The five .ods files are read from a copy of the repository
Resistance-Lab/resistancelab_data (``source_data/police-population/``, commit
625e720132cc8e912caf091b3b6ebc716fa939a8), which holds them unmodified as downloaded from
gov.uk. Usage::

    python scripts/build_covariate_example.py GIT_DIR_OF_THAT_REPOSITORY

Only the standard library is used (an .ods file is a zip holding content.xml), so anyone can
rerun it; the output is byte-identical for the same inputs.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

COMMIT = "625e720132cc8e912caf091b3b6ebc716fa939a8"
FILES = {  # 31 March of this year -> (release file, gov.uk address)
    2015: (
        "police-workforce-tabs-30sep15.ods",
        "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/494752/police-workforce-tabs-30sep15.ods",
    ),
    2016: (
        "police-workforce-tables-sep16.ods",
        "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/585709/police-workforce-tables-sep16.ods",
    ),
    2017: (
        "police-workforce-tables-jan17.ods",
        "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/675788/police-workforce-tables-jan17.ods",
    ),
    2018: (
        "police-workforce-sep18-tables.ods",
        "https://www.gov.uk/government/statistics/police-workforce-england-and-wales-30-september-2018",
    ),
    2019: (
        "police-workforce-sep19-tables.ods",
        "https://www.gov.uk/government/statistics/police-workforce-england-and-wales-30-september-2019",
    ),
}
# Home Office force names -> police.uk slugs (harmscope's force keys)
SLUGS = {
    "Avon & Somerset": "avon-and-somerset",
    "Bedfordshire": "bedfordshire",
    "Cambridgeshire": "cambridgeshire",
    "Cheshire": "cheshire",
    "City of London": "city-of-london",
    "London, City of": "city-of-london",
    "Cleveland": "cleveland",
    "Cumbria": "cumbria",
    "Derbyshire": "derbyshire",
    "Devon & Cornwall": "devon-and-cornwall",
    "Dorset": "dorset",
    "Durham": "durham",
    "Dyfed-Powys": "dyfed-powys",
    "Essex": "essex",
    "Gloucestershire": "gloucestershire",
    "Greater Manchester": "greater-manchester",
    "Gwent": "gwent",
    "Hampshire": "hampshire",
    "Hertfordshire": "hertfordshire",
    "Humberside": "humberside",
    "Kent": "kent",
    "Lancashire": "lancashire",
    "Leicestershire": "leicestershire",
    "Lincolnshire": "lincolnshire",
    "Merseyside": "merseyside",
    "Metropolitan Police": "metropolitan",
    "Metropolitan": "metropolitan",
    "Norfolk": "norfolk",
    "North Wales": "north-wales",
    "North Yorkshire": "north-yorkshire",
    "Northamptonshire": "northamptonshire",
    "Northumbria": "northumbria",
    "Nottinghamshire": "nottinghamshire",
    "South Wales": "south-wales",
    "South Yorkshire": "south-yorkshire",
    "Staffordshire": "staffordshire",
    "Suffolk": "suffolk",
    "Surrey": "surrey",
    "Sussex": "sussex",
    "Thames Valley": "thames-valley",
    "Warwickshire": "warwickshire",
    "West Mercia": "west-mercia",
    "West Midlands": "west-midlands",
    "West Yorkshire": "west-yorkshire",
    "Wiltshire": "wiltshire",
}
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
P = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"
OUT = (
    Path(__file__).resolve().parents[1] / "src/harmscope/reference/data/covariates/officers_fte.csv"
)


def _rows(data: bytes, name: str = "Table_1") -> list[list[str]]:
    root = ET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("content.xml"))
    for tb in root.iter(TABLE + "table"):
        if tb.get(TABLE + "name") == name:
            out = []
            for r in tb.iter(TABLE + "table-row"):
                cells = []
                for c in r.findall(TABLE + "table-cell"):
                    rep = min(int(c.get(TABLE + "number-columns-repeated", "1")), 20)
                    v = c.get(OFFICE + "value")
                    txt = " ".join("".join(p.itertext()) for p in c.findall(P)).strip()
                    cells += [v if v is not None else txt] * rep
                out.append(cells)
            return out
    raise SystemExit(f"no {name}")


def march_values(data: bytes, year: int) -> dict[str, float]:
    rows = _rows(data)
    title = next(c for r in rows for c in r if c.startswith("Table 1"))
    assert f"31 March {year}" in title, title
    found: dict[str, float] = {}
    for r in rows:
        cells = [c for c in r if c != ""]
        # a force row: its name, then Sep, Mar, Sep values (the Mar column is the second number)
        name = re.sub(r"\d+$", "", cells[0].strip()) if cells else ""  # footnote marks: Derbyshire1
        if len(cells) >= 4 and name in SLUGS:
            # "West Midlands" is both a region and, on a later row, the force: the last one wins
            found[SLUGS[name]] = float(cells[2])
    assert len(found) == 43, (year, len(found))
    return found


def main(git_dir: str) -> None:
    lines = [
        "# officers_fte: police officers (full-time equivalent) in each of the 43 territorial forces of England and Wales, at 31 March.",
        "# period: the financial year that ends on that 31 March (2018/19 = strength at 31 March 2019).",
        "# source: Home Office, Police workforce, England and Wales, data tables of the 30 September 2015-2019 releases, Table 1 (Police officers by police force area, FTE), 31 March column. Open Government Licence v3.0.",
        f"# copies read: repository Resistance-Lab/resistancelab_data, commit {COMMIT}, source_data/police-population/*.ods (the gov.uk files, unmodified).",
        "# built by scripts/build_covariate_example.py; values rounded to 2 decimal places (FTE counts part-time officers as fractions).",
        "# Excludes British Transport Police and officers seconded to central services.",
        "area,period,value",
    ]
    for year, (fname, _url) in sorted(FILES.items()):
        data = subprocess.run(
            [
                "git",
                f"--git-dir={git_dir}",
                "show",
                f"{COMMIT}:source_data/police-population/{fname}",
            ],
            check=True,
            capture_output=True,
        ).stdout
        for slug, v in sorted(march_values(data, year).items()):
            lines.append(f"{slug},{year - 1}/{year % 100:02d},{v:.2f}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(lines) - 7} rows)")


if __name__ == "__main__":
    main(sys.argv[1])
