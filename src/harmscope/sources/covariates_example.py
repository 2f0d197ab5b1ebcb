"""The packaged covariate example: real officer FTE by force, and a SYNTHETIC outcome for it.

Used by `harmscope covariates example` and the drivers demo; kept in the library so neither
command imports the other.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harmscope.errors import HarmscopeError

EXAMPLE_SOURCE = (
    "Home Office, Police workforce, England and Wales, 30 September 2015-2019 data tables, "
    "Table 1 (police officers by police force area, FTE), 31 March column; Open Government "
    "Licence v3.0"
)


def example_path() -> Path:
    """The packaged example: police officer FTE by force at 31 March 2015-2019 (Home Office)."""
    return (
        Path(__file__).resolve().parents[1]
        / "reference"
        / "data"
        / "covariates"
        / "officers_fte.csv"
    )


def write_example(out: Path, *, elasticity: float = -0.1, seed: int = 1) -> list[Path]:
    """Copy the real covariate and write a SYNTHETIC outcome table for the same forces."""
    from harmscope.reference.tables import load_lad
    from harmscope.simulate.panel import synthetic_outcome
    from harmscope.sources.covariates import read_covariate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cov_path = out / "officers_fte.csv"
    shutil.copyfile(example_path(), cov_path)
    values, _ = read_covariate(cov_path, unit="FTE")
    lad = load_lad()
    pop = lad.dropna(subset=["force"]).groupby("force").population_2019.sum().astype(float)
    missing = sorted(set(values.area_code) - set(pop.index))
    if missing:
        raise HarmscopeError(
            f"no population for {', '.join(missing)}",
            where="reference/geography/lad.csv",
            fix="the packaged district table should name every force",
        )
    table = synthetic_outcome(values, pop, elasticity=elasticity, seed=seed)
    path = out / "recorded_crime_SYNTHETIC.csv"
    lines = [
        "# SYNTHETIC recorded crime by force and financial year, made by harmscope.simulate.panel."
        "synthetic_outcome: NOT real figures.",
        f"# source: SYNTHETIC, planted elasticity {elasticity} on officer FTE per head a year earlier, seed {seed}",
        "# population: ONS mid-2019 estimates summed over each force's districts (packaged lad.csv), held constant.",
        "# No public copy of police recorded crime by force and year could be obtained when this example was built.",
    ]
    text = table.drop(columns=["period_start"]).rename(columns={"area_code": "area"})
    path.write_text("\n".join(lines) + "\n" + text.to_csv(index=False), encoding="utf-8")
    return [cov_path, path]
