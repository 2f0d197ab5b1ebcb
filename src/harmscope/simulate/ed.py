"""Synthetic ED assault data (ISTV format) with planted under-reporting: always labelled synthetic.

The generator works on a population of assault victims, calibrated on real police counts:

- volumes: for each district x month, the expected number of victims is proportional to the
  police "Violence and sexual offences" count there, divided by the district's planted
  reporting rate (so places where fewer victims report hold more victims per police record);
- each victim attends ED with probability ``p_ed`` (the same for everyone: the ED capture is
  homogeneous, which is what lets the Chapman estimator recover the total);
- each victim is known to the police with probability r = r_place x m_age x m_weapon
  (the planted reporting rate, clipped to [0.02, 0.95]), independently of ED attendance;
- "hidden hotspots" are districts whose place factor is ``hidden_factor`` times lower;
- a night-time-economy share of assaults happens on Friday/Saturday nights in town centres
  and pubs;
- NHS numbers come from the 999 000 0000 - 999 999 9999 range NHS England reserves for
  testing (valid check digit, never issued); phone numbers in free text use Ofcom's
  07700 900xxx drama range;
- ``messy=True`` adds misspelt locations, missing times, blank or mistyped identifiers,
  a few invalid rows and exact duplicates, at the rates in :data:`MESSY`.

The file carries a ``# SYNTHETIC`` header comment and a ``synthetic`` column on every row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.sources.ed import AGE_BANDS, WEAPON_CODES
from harmscope.sources.ed import COLUMNS as ED_COLUMNS

AGE_WEIGHTS = (0.04, 0.06, 0.27, 0.26, 0.17, 0.11, 0.06, 0.03)
AGE_FACTOR = {
    "0-15": 0.7,
    "16-17": 0.6,
    "18-24": 0.8,
    "25-34": 1.0,
    "35-44": 1.1,
    "45-54": 1.2,
    "55-64": 1.2,
    "65+": 1.3,
}
WEAPONS = tuple(WEAPON_CODES)
WEAPON_WEIGHTS = (0.62, 0.08, 0.08, 0.09, 0.005, 0.06, 0.065)
WEAPON_FACTOR = {
    "BODY": 0.8,
    "BLUNT": 1.1,
    "KNIFE": 1.6,
    "GLASS": 1.3,
    "FIREARM": 2.0,
    "OTHER": 1.0,
    "UNKNOWN": 0.9,
}
# Mon..Sun for night-time-economy and other assaults.
NTE_DAYS = np.array([0.04, 0.04, 0.05, 0.09, 0.26, 0.38, 0.14])
NTE_HOURS = {21: 0.08, 22: 0.14, 23: 0.2, 0: 0.2, 1: 0.18, 2: 0.13, 3: 0.07}
DAY_HOURS = np.arange(8, 21)
MESSY = {
    "misspelt_location": 0.15,
    "missing_assault_time": 0.10,
    "missing_assault_date": 0.03,
    "blank_nhs_number": 0.03,
    "mistyped_nhs_number": 0.01,
    "invalid_row": 0.006,
    "duplicate_row": 0.004,
    "free_text_identifier": 0.02,
}
SITES = {  # district -> ED site code (fictitious codes for the county's type 1 EDs)
    "E06000035": "SYN-MED",
    "E07000105": "SYN-WMH",
    "E07000106": "SYN-KCH",
    "E07000107": "SYN-DVH",
    "E07000108": "SYN-WMH",
    "E07000109": "SYN-DVH",
    "E07000110": "SYN-MGH",
    "E07000111": "SYN-TWH",
    "E07000112": "SYN-WMH",
    "E07000113": "SYN-MED",
    "E07000114": "SYN-QEQ",
    "E07000115": "SYN-TWH",
    "E07000116": "SYN-TWH",
}
COLUMNS = list(ED_COLUMNS)
VENUES = (
    "outside Wetherspoons",
    "outside the kebab shop",
    "in the nightclub",
    "at the bar",
    "taxi rank",
    "near the station",
    "in the high street",
)


@dataclass
class EdSimulation:
    """What the generator made, and the truth it planted."""

    ed: pd.DataFrame  # ISTV rows (as written to the CSV)
    police: pd.DataFrame  # linkable police victim set: nhs_number, offence_date, lad_code
    population: pd.DataFrame  # every victim: lad_code, month, age_band, weapon, r, in_ed, in_police
    truth: dict = field(default_factory=dict)
    seed: int = 0


def police_volumes(store, force: str = "Kent Police") -> pd.DataFrame:
    """Police 'Violence and sexual offences' by district x month, in the force's own area."""
    frame = store.query(
        "SELECT lad_code, month, count(*) AS n FROM street_crimes "
        "WHERE crime_type = 'Violence and sexual offences' AND falls_within = ? "
        "AND lad_code IS NOT NULL AND NOT coalesce(out_of_area, FALSE) "
        "GROUP BY ALL ORDER BY lad_code, month",
        [force],
    )
    if frame.empty:
        raise HarmscopeError(
            f"no {force} violence records with a district in the store to calibrate on",
            where="--db",
            fix="ingest Kent street files first (`harmscope ingest PATH`), or pass --db",
        )
    return frame


def _nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid NHS numbers from the test range 999 000 0000 - 999 999 9999."""
    if n > 900_000:
        raise HarmscopeError(
            "too many victims for the NHS test range",
            where="simulate_ed",
            fix="simulate fewer months or a smaller scale",
        )
    weights = np.array([7, 6, 5, 4, 3, 2])  # positions 4-9; the leading 999 adds 9*(10+9+8)
    take = min(1_000_000, int(n * 1.2) + 64)
    while True:
        body = rng.choice(1_000_000, size=take, replace=False)
        digits = (body[:, None] // 10 ** np.arange(5, -1, -1)) % 10
        check = 11 - (243 + digits @ weights) % 11
        check = np.where(check == 11, 0, check)
        ok = check != 10  # remainder 1: no valid check digit exists
        if ok.sum() >= n or take == 1_000_000:
            break
        take = min(1_000_000, take * 2)
    body, check = body[ok][:n], check[ok][:n]
    return np.array([f"999{b:06d}{c}" for b, c in zip(body, check, strict=True)], dtype=object)


def simulate_ed(
    volumes: pd.DataFrame,
    *,
    seed: int = 0,
    p_ed: float = 0.4,
    ed_per_police: float = 0.09,
    base_rate: float = 0.35,
    hidden: tuple[str, ...] | None = None,
    hidden_factor: float = 3.0,
    nte_share: float = 0.5,
    messy: bool = True,
    istv: bool = True,
) -> EdSimulation:
    """Simulate victims, their ED attendances and the police-known subset.

    ``volumes``: lad_code, month, n (police violence counts). ``ed_per_police``: expected ED
    assault attendances per police violence record outside hidden hotspots. ``hidden``:
    district codes to plant as hidden hotspots (default: two chosen by the seed).
    ``istv=False`` skips writing the ISTV rows (fast; for validations that only need counts).
    """
    if not 0 < p_ed <= 1 or not 0 < base_rate < 1 or hidden_factor < 1:
        raise HarmscopeError(
            "p_ed and base_rate must lie in (0, 1] and hidden_factor >= 1",
            where="simulate_ed",
            fix="check the parameters",
        )
    rng = np.random.default_rng(seed)
    from harmscope.sources.ed_place import load_town_centres

    towns = load_town_centres()
    lads = sorted(volumes["lad_code"].unique())
    if hidden is None:
        hidden = tuple(
            sorted(str(x) for x in rng.choice(lads, size=min(2, len(lads)), replace=False))
        )
    place_rate = {lad: base_rate / (hidden_factor if lad in hidden else 1.0) for lad in lads}

    mu = (
        ed_per_police
        / p_ed
        * volumes["n"].to_numpy(float)
        * base_rate
        / volumes["lad_code"].map(place_rate).to_numpy(float)
    )
    k = rng.poisson(mu)
    if k.sum() == 0:
        raise HarmscopeError(
            "the volumes give no victims",
            where="simulate_ed",
            fix="pass police counts with some violence",
        )
    pop = pd.DataFrame(
        {
            "lad_code": np.repeat(volumes["lad_code"].to_numpy(object), k),
            "month": pd.to_datetime(np.repeat(pd.to_datetime(volumes["month"]).to_numpy(), k)),
        }
    )
    n = len(pop)
    pop["age_band"] = rng.choice(AGE_BANDS, size=n, p=AGE_WEIGHTS)
    pop["sex"] = rng.choice(["M", "F"], size=n, p=[0.7, 0.3])
    pop["weapon"] = rng.choice(WEAPONS, size=n, p=np.array(WEAPON_WEIGHTS) / sum(WEAPON_WEIGHTS))
    r = (
        pop["lad_code"].map(place_rate)
        * pop["age_band"].map(AGE_FACTOR)
        * pop["weapon"].map(WEAPON_FACTOR)
    ).clip(0.02, 0.95)
    pop["r"] = r.to_numpy()
    pop["in_ed"] = rng.random(n) < p_ed
    pop["in_police"] = rng.random(n) < pop["r"].to_numpy()
    pop["nhs_number"] = _nhs_numbers(rng, n)
    pop["nte"] = rng.random(n) < nte_share
    pop["assault_at"] = _times(rng, pop)
    pop["town"] = _towns_for(rng, pop["lad_code"].to_numpy(), towns)

    ed_pop = pop[pop["in_ed"]].reset_index(drop=True)
    ed = _istv_rows(rng, ed_pop, towns, messy) if istv else pd.DataFrame(columns=COLUMNS)
    pol = pop[pop["in_police"]]
    lag = rng.choice([0, 0, 0, 1, 2], size=len(pol))  # reported the same day or a day or two later
    police = pd.DataFrame(
        {
            "nhs_number": pol["nhs_number"].to_numpy(),
            "offence_date": (
                pol["assault_at"].dt.normalize() + pd.to_timedelta(lag, unit="D")
            ).dt.date,
            "lad_code": pol["lad_code"].to_numpy(),
            "synthetic": True,
        }
    )
    truth = {
        "seed": seed,
        "p_ed": p_ed,
        "base_rate": base_rate,
        "hidden_hotspots": list(hidden),
        "place_rate": place_rate,
        "age_factor": AGE_FACTOR,
        "weapon_factor": WEAPON_FACTOR,
        "population": n,
        "ed_victims": int(pop["in_ed"].sum()),
        "police_victims": int(pop["in_police"].sum()),
        "both": int((pop["in_ed"] & pop["in_police"]).sum()),
        "messy": dict(MESSY) if messy else {},
    }
    return EdSimulation(ed=ed, police=police, population=pop, truth=truth, seed=seed)


def _times(rng: np.random.Generator, pop: pd.DataFrame) -> pd.Series:
    n = len(pop)
    months = pop["month"]
    days_in = months.dt.days_in_month.to_numpy()
    # Pick a day of week first (NTE weights for night assaults), then a date with that weekday.
    hours = np.empty(n, dtype=int)
    dows = np.empty(n, dtype=int)
    nte = pop["nte"].to_numpy()
    k = int(nte.sum())
    dows[nte] = rng.choice(7, size=k, p=NTE_DAYS / NTE_DAYS.sum())
    hours[nte] = rng.choice(
        list(NTE_HOURS), size=k, p=np.array(list(NTE_HOURS.values())) / sum(NTE_HOURS.values())
    )
    dows[~nte] = rng.integers(0, 7, size=n - k)
    hours[~nte] = rng.choice(DAY_HOURS, size=n - k)
    first_dow = months.dt.day_of_week.to_numpy()
    offset = (dows - first_dow) % 7
    weeks = np.floor(rng.random(n) * np.ceil((days_in - offset) / 7)).astype(int)
    day = np.minimum(offset + 7 * weeks, days_in - 1)
    minutes = rng.integers(0, 60, size=n)
    return months + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hours * 60 + minutes, unit="m")


def _towns_for(rng, lad_codes: np.ndarray, towns: pd.DataFrame) -> np.ndarray:
    """A town centre of each victim's district, uniformly among the district's towns."""
    u = rng.random(len(lad_codes))
    out = np.full(len(lad_codes), None, dtype=object)
    for lad, grp in towns.groupby("lad_code"):
        names = np.array(grp["name"].tolist(), dtype=object)
        mask = lad_codes == lad
        out[mask] = names[(u[mask] * len(names)).astype(int)]
    return out


def _misspell(rng, word: str) -> str:
    if len(word) < 5:
        return word
    i = int(rng.integers(1, len(word) - 1))
    op = rng.integers(0, 3)
    if op == 0:
        return word[:i] + word[i + 1 :]  # drop a letter
    if op == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two
    return word[:i] + word[i] + word[i:]  # double a letter


_WEAPON_TEXT = {
    "KNIFE": "kitchen knife",
    "GLASS": "pint glass",
    "BLUNT": "bat",
    "BODY": "punched",
    "OTHER": "",
    "UNKNOWN": "",
    "FIREARM": "air weapon",
}


def _istv_rows(rng, ed_pop: pd.DataFrame, towns: pd.DataFrame, messy: bool) -> pd.DataFrame:
    # The helpers draw from ``rng`` in a fixed order: a seed always makes the same file.
    from harmscope.reference.tables import load_lsoa11

    lsoa = load_lsoa11()
    lsoa_by_lad = {
        lad: g["lsoa11_code"].astype(str).tolist()
        for lad, g in lsoa[lsoa.lad_code.isin(ed_pop.lad_code.unique())].groupby("lad_code")
    }
    town_xy = {r.name: (r.longitude, r.latitude) for r in towns.itertuples()}
    rate = MESSY if messy else dict.fromkeys(MESSY, 0.0)
    rows = []
    for v in ed_pop.itertuples(index=False):
        assault: datetime = v.assault_at.to_pydatetime()
        arrival = assault + timedelta(minutes=int(20 + rng.exponential(150)))
        loc_type, desc, lon, lat, lsoa_code = _place(rng, v, rate, town_xy, lsoa_by_lad)
        weapon_text = _weapon_text(rng, v, rate)
        nhs = _nhs_as_typed(rng, v.nhs_number, rate)
        row = {
            "site_code": SITES.get(v.lad_code, "SYN-OTH"),
            "arrival_datetime": arrival.strftime("%Y-%m-%d %H:%M"),
            "assault_datetime": _assault_text(rng, assault, rate),
            "assault_method": v.weapon,
            "assault_method_text": weapon_text.strip(),
            "location_type": loc_type,
            "location_desc": desc,
            "postcode": "",
            "longitude": lon,
            "latitude": lat,
            "lsoa_code": lsoa_code,
            "age_band": v.age_band,
            "sex": v.sex,
            "nhs_number": nhs,
            "synthetic": "true",
        }
        if rng.random() < rate["invalid_row"]:
            _spoil(rng, row)
        rows.append(row)
        if rng.random() < rate["duplicate_row"]:
            rows.append(dict(row))
    return pd.DataFrame(rows, columns=COLUMNS)


def _place(rng, v, rate, town_xy, lsoa_by_lad) -> tuple[str, str, str, str, str]:
    """(location type, description, longitude, latitude, LSOA) of one attendance: most are
    described in words, some carry coordinates or an LSOA, a home address neither."""
    loc_type = (
        rng.choice(["PUB_CLUB", "STREET"], p=[0.45, 0.55])
        if bool(v.nte)
        else rng.choice(
            ["HOME", "STREET", "WORK", "SHOP", "TRANSPORT", "SCHOOL", "OTHER"],
            p=[0.35, 0.25, 0.1, 0.1, 0.08, 0.07, 0.05],
        )
    )
    town = v.town or ""
    short = town.replace(" town centre", "").replace(" city centre", "").replace(" high street", "")
    if rng.random() < rate["misspelt_location"]:
        short = " ".join(_misspell(rng, w) for w in short.split())
    u = rng.random()
    lon = lat = lsoa_code = ""
    if loc_type == "HOME" and u < 0.5:
        desc = "home address"  # no place in the text: left to coordinates/LSOA or unplaced
    elif u < 0.15 and town in town_xy:
        x, y = town_xy[town]
        lon, lat = f"{x + rng.normal(0, 0.004):.5f}", f"{y + rng.normal(0, 0.003):.5f}"
        desc = f"{rng.choice(VENUES)}, {short}"
    elif u < 0.25 and v.lad_code in lsoa_by_lad:
        lsoa_code = str(rng.choice(lsoa_by_lad[v.lad_code]))
        desc = ""
    else:
        desc = f"{rng.choice(VENUES)}, {short}" if rng.random() < 0.6 else f"{short} town centre"
    return loc_type, desc, lon, lat, lsoa_code


def _weapon_text(rng, v, rate) -> str:
    """The free-text weapon, sometimes with an identifier typed in (for the redactor)."""
    text = _WEAPON_TEXT[v.weapon]
    if rng.random() < rate["free_text_identifier"]:
        text += rng.choice(
            [
                " by boyfriend Dave Smith",
                " ring back on 07700 900123",
                f" pt nhs no {v.nhs_number}",
                " assailant Mr Jones",
            ]
        )
    return text


def _nhs_as_typed(rng, nhs: str, rate) -> str:
    if rng.random() < rate["blank_nhs_number"]:
        return ""
    if rng.random() < rate["mistyped_nhs_number"]:
        return nhs[:-2] + nhs[-1] + nhs[-2]  # transposed digits: fails the check, mostly
    return nhs


def _assault_text(rng, assault: datetime, rate) -> str:
    if rng.random() < rate["missing_assault_date"]:
        return ""
    if rng.random() < rate["missing_assault_time"]:
        return assault.strftime("%Y-%m-%d")
    return assault.strftime("%Y-%m-%d %H:%M")


def _spoil(rng, row: dict) -> None:
    """Make the row invalid in one of three ways the reader must reject."""
    bad = rng.integers(0, 3)
    if bad == 0:
        row["assault_method"] = "SWORD?"
    elif bad == 1:
        row["arrival_datetime"] = "31/02/2025 25:61"
    else:
        row["site_code"] = ""


def write_ed_csv(sim: EdSimulation, path: str | Path) -> Path:
    """Write the ISTV CSV with a SYNTHETIC header comment."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(
            f"# SYNTHETIC ED assault data made by harmscope (seed {sim.seed}). "
            "Not real patients: NHS numbers are from the 999 test range.\n"
        )
        sim.ed.to_csv(fh, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path


def write_police_csv(sim: EdSimulation, path: str | Path) -> Path:
    """Write the linkable police victim set with a SYNTHETIC header comment."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(f"# SYNTHETIC police victim extract made by harmscope (seed {sim.seed}).\n")
        sim.police.to_csv(fh, index=False, lineterminator="\n")
    return path


def simulate_population_only(n: int, p1: float, p2: float, seed: int) -> tuple[int, int, int]:
    """A closed population of n with independent homogeneous captures: (n1, n2, m).

    The textbook setting of the Chapman estimator, for validating its interval.
    """
    rng = np.random.default_rng(seed)
    a = rng.random(n) < p1
    b = rng.random(n) < p2
    return int(a.sum()), int(b.sum()), int((a & b).sum())
