"""Turn a scheme's areas into a design: unit of analysis, treated areas, comparison pool."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError

MIN_DISTRICT_MEAN = 20.0  # monthly crimes: below this a "district" is a few stray rows


@dataclass
class Design:
    unit: str  # lsoa | district
    treated: list[str]
    pool: list[str]  # comparison candidates (DiD); donors come from all other districts
    force: str
    notes: list[str] = field(default_factory=list)
    # Countywide: the treated districts act as one unit (their shocks are shared), compared
    # with every district of the other forces, unmatched (no district resembles a county).
    aggregate: bool = False

    @property
    def cross_force(self) -> bool:
        return (
            any(not a.startswith(self.force + " / ") for a in self.pool)
            if self.unit == "district"
            else False
        )


def _districts(panel: pd.DataFrame) -> pd.Series:
    mean = panel.groupby("area")["count"].mean()
    return mean[mean >= MIN_DISTRICT_MEAN]


def _force_of(areas: dict, lsoa_panel: pd.DataFrame, covariates: pd.DataFrame) -> str:
    """The force a scheme's areas lie in when it names none: the force of its districts,
    LSOAs or (for a point) nearest LSOA crime centroid in the panel, else the panel's only
    force. Areas in several forces, or a countywide scheme over a panel of several forces,
    need the force named."""
    from harmscope.analysis.harm.scope import area_or_only_force

    found: set[str] = set()
    if areas.get("districts"):
        names = {str(d).strip().lower() for d in areas["districts"]}
        district = lsoa_panel["district"].str.split(" / ", n=1).str[-1].str.lower()
        found = set(lsoa_panel.loc[district.isin(names), "force"])
    elif areas.get("lsoas"):
        codes = {str(c).strip().upper() for c in areas["lsoas"]}
        found = set(lsoa_panel.loc[lsoa_panel["area"].isin(codes), "force"])
    elif areas.get("point"):
        cov = covariates.dropna(subset=["lat", "lon"])
        if len(cov):
            d = np.hypot(
                cov["lat"] - float(areas["point"]["lat"]), cov["lon"] - float(areas["point"]["lon"])
            )
            nearest = cov["area"].iloc[int(np.argmin(d.to_numpy()))]
            found = set(lsoa_panel.loc[lsoa_panel["area"] == nearest, "force"])
    held = sorted(found) if len(found) == 1 else sorted(set(lsoa_panel["force"]))
    force, _ = area_or_only_force(None, lambda: held, where="areas.force")
    return force


def resolve_design(
    areas: dict, lsoa_panel: pd.DataFrame, district_panel: pd.DataFrame, covariates: pd.DataFrame
) -> Design:
    """areas: one of {"lsoas": [...]}, {"districts": [...]}, {"point": {lat, lon, radius_m}},
    {"force": name} (countywide); "force" may accompany the others (default: the force the
    areas lie in, else the one force the panel holds; never a fixed force)."""
    force = areas.get("force") or _force_of(areas, lsoa_panel, covariates)
    forces = set(lsoa_panel["force"])
    if force not in forces:
        raise HarmscopeError(
            f"force {force!r} has no data in the store (have: {', '.join(sorted(forces))})",
            where="areas.force",
            fix="ingest that force's street files or correct the force name",
        )
    if areas.get("lsoas"):
        codes = [str(c).strip().upper() for c in areas["lsoas"]]
        known = set(lsoa_panel["area"])
        missing = [c for c in codes if c not in known]
        treated = [c for c in codes if c in known]
        if not treated:
            raise HarmscopeError(
                f"none of the {len(codes)} LSOA codes has crimes in the store (first: {codes[0]})",
                where="areas.lsoas",
                fix="use 2021 LSOA codes as in police.uk files (E01...), or ingest the force's data",
            )
        notes = (
            [f"{len(missing)} LSOA codes had no crimes in the store: {', '.join(missing[:5])}"]
            if missing
            else []
        )
        # Same-force comparisons: other forces' LSOAs carry force-wide changes (recording,
        # operations) that would pass for an effect; in these data Kent's violence fell more
        # than Essex's and Sussex's in late 2025, which biased cross-force DiD placebos.
        pool = sorted(set(lsoa_panel.loc[lsoa_panel["force"] == force, "area"]) - set(treated))
        return Design("lsoa", treated, pool, force, notes)
    if areas.get("point"):
        pt = areas["point"]
        cov = covariates.dropna(subset=["lat", "lon"])
        cov = cov[cov["area"].isin(set(lsoa_panel.loc[lsoa_panel["force"] == force, "area"]))]
        lat0, lon0 = np.radians(float(pt["lat"])), np.radians(float(pt["lon"]))
        lat, lon = np.radians(cov["lat"].to_numpy()), np.radians(cov["lon"].to_numpy())
        d = 6_371_000 * np.hypot((lon - lon0) * np.cos((lat + lat0) / 2), lat - lat0)
        treated = list(cov["area"][d <= float(pt["radius_m"])])
        if not treated:
            raise HarmscopeError(
                f"no LSOA has its crime centroid within {pt['radius_m']} m of ({pt['lat']}, {pt['lon']})",
                where="areas.point",
                fix="check the latitude/longitude (WGS84 degrees) or widen radius_m",
            )
        pool = sorted(set(lsoa_panel.loc[lsoa_panel["force"] == force, "area"]) - set(treated))
        note = (
            f"point area: {len(treated)} LSOAs whose recorded crimes centre within "
            f"{float(pt['radius_m']):.0f} m (crime centroids stand in for LSOA boundaries)"
        )
        return Design("lsoa", treated, pool, force, [note])
    districts = _districts(district_panel)
    if areas.get("districts"):
        treated = []
        for name in areas["districts"]:
            key = f"{force} / {name}"
            if key not in districts.index:
                known = sorted(a.split(" / ", 1)[1] for a in districts.index if a.startswith(force))
                raise HarmscopeError(
                    f"district {name!r} not found in {force} data",
                    where="areas.districts",
                    fix=f"use a district name as in the LSOA names: {', '.join(known)}",
                )
            treated.append(key)
        pool = sorted(set(districts.index) - set(treated))
        same = [a for a in pool if a.startswith(force + " / ")]
        notes = []
        if len(same) >= 3 * len(treated):
            pool = same
        else:
            notes.append(
                "too few untreated districts in the same force: comparison districts come from "
                "the other forces too, so force-wide changes are not cancelled out"
            )
        return Design("district", treated, pool, force, notes)
    if areas.get("countywide") or set(areas) <= {"force"}:
        treated = sorted(a for a in districts.index if a.startswith(force + " / "))
        pool = sorted(set(districts.index) - set(treated))
        if not pool:
            raise HarmscopeError(
                f"a countywide scheme needs other forces to compare with, and the store holds only {force}",
                where="areas.countywide",
                fix="ingest comparison forces' street files (e.g. Essex and Sussex)",
            )
        return Design(
            "district",
            treated,
            pool,
            force,
            [
                "countywide scheme: the only comparisons are other forces' districts, so any "
                "force-wide change (recording practice, operations) is confounded with the scheme"
            ],
            aggregate=True,
        )
    raise HarmscopeError(
        "the scheme has no areas",
        where="areas",
        fix="give lsoas, districts, a point with radius_m, or countywide: true",
    )
