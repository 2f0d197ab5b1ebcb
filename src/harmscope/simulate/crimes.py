"""Synthetic force recorded-crime extract (format v1) with planted truth: always SYNTHETIC.

Calibration (sources in ``reference/data/crime_extract/README.md``):

- volumes: the real Kent 2025 police.uk street files, "Violence and sexual offences",
  "Robbery" and "Possession of weapons" by district x month (69,271 rows with an LSOA) and
  by LSOA; one synthetic year is drawn from these shares (``kent_violence_*.csv``);
- offence codes inside each police.uk category: :data:`CODE_SHARES` (estimated shares, see
  the note there);
- offender ages follow an age-crime curve peaking in the late teens (Farrington 1986,
  "Age and crime", Crime and Justice 7); about 85% of offenders are male (MoJ, "Women and the
  Criminal Justice System 2021": women were 15% of arrests);
- concentration: a "power few" 5% of offenders are planted with many offences, echoing Falk
  et al. 2014 (Soc Psychiatry Psychiatr Epidemiol 49:559-571: 1% of the Swedish population
  accounted for 63% of violent-crime convictions); repeat victims are planted at
  ``repeat_share`` of victims, echoing Pease 1998 (Home Office CDP Paper 90: 4% of people
  experience 44% of crime).

Planted truth (written beside the data): the power-few offenders, the repeat victims, a
victim-offender overlap group, and a cohort of young people (aged 12-17 at first offence)
whose offences escalate in harm (common assault -> assault with injury -> knife-enabled
assault with intent/robbery). The realised truth (shares, rates, hour-of-day profile) is
computed here from the raw identifiers, before any pseudonymisation, for tests to compare
against what the analyses recover from the store.

Every file carries a ``# SYNTHETIC`` header comment and a ``synthetic`` column. Person IDs
look like ``SYN-P0001234`` and crime references ``SYN-KT-25-0001234``: they belong to no one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError
from harmscope.reference._files import resolve
from harmscope.reference.offences import load_weights
from harmscope.sources.crime_extract import COLUMNS as EXTRACT_COLUMNS

FORMAT_VERSION = "1"
YEAR = 2025
# Offence-code shares inside each police.uk category. Estimates (harmscope), chosen to be near
# the England and Wales recorded volumes by ONS sub-group (ONS Crime in England and Wales,
# Appendix tables A4, year ending March 2024, rounded); codes not listed do not occur.
CODE_SHARES = {
    "Violence and sexual offences": {
        "105A": 0.30,
        "8N": 0.24,
        "8L": 0.11,
        "8R": 0.11,
        "8Q": 0.05,
        "5D": 0.025,
        "3B": 0.02,
        "11A": 0.01,
        "104": 0.02,
        "8S": 0.01,
        "105B": 0.01,
        "8M": 0.01,
        "19C": 0.025,
        "20A": 0.03,
        "22A": 0.005,
        "88E": 0.01,
        "19D": 0.005,
        "1": 0.0004,
        "2": 0.0006,
        "36": 0.003,
    },
    "Robbery": {"34B": 0.88, "34A": 0.12},
    "Possession of weapons": {"10D": 0.55, "10C": 0.30, "10B": 0.05, "90": 0.10},
}
# Codes whose victim is not a person (the state, a business): no victim_id.
NO_PERSON_VICTIM = {"10A", "10B", "10C", "10D", "81", "90", "34A"}
# Share of crimes with an identified suspect, by category (assumption).
P_SUSPECT = {"Violence and sexual offences": 0.6, "Robbery": 0.35, "Possession of weapons": 1.0}
# Share of crimes known only within a time window (committed_to later than committed_from).
P_WINDOW = 0.3
KNIFE_SHARE = {"8N": 0.05, "5D": 0.25, "2": 0.4, "34B": 0.12, "34A": 0.2, "3B": 0.1, "1": 0.4}
ESCALATION_LADDER = ("105A", "8N", "8N", "5D", "34B", "5D")
# Hour-of-day weights for violence (evening and night peaks), Mon..Sun weights.
HOUR_W = np.array(
    [5, 4, 3, 2, 1.5, 1, 1, 1.5, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7, 7, 7, 7, 7, 6], float
)
DAY_W = np.array([0.13, 0.13, 0.13, 0.14, 0.15, 0.17, 0.15])
MESSY = {"duplicate_row": 0.003, "unknown_code": 0.001, "bad_date": 0.001}
# The extract's columns in the documented order (the reader's own list, so the two agree).
COLUMNS = list(EXTRACT_COLUMNS)


@dataclass
class CrimeSimulation:
    crimes: pd.DataFrame  # the rows as written (clean ones, before messy rows are added)
    written: pd.DataFrame  # what the file holds (messy rows included)
    persons: pd.DataFrame  # person_id, sex, birth_year, power_few, cohort, overlap
    truth: dict = field(default_factory=dict)
    seed: int = 0


def _calibration() -> tuple[pd.DataFrame, pd.DataFrame]:
    vol = pd.read_csv(resolve("crime_extract/kent_violence_volumes.csv"))
    lsoas = pd.read_csv(resolve("crime_extract/kent_violence_lsoas.csv"))
    return vol, lsoas


def _person_ages(rng, n: int, young: bool = False) -> np.ndarray:
    """Offender age at first offence: an age-crime curve peaking at about 18-19."""
    if young:
        return rng.integers(12, 18, n)
    age = 10 + rng.gamma(2.2, 6.5, n)  # mode about 10 + 1.2 * 6.5 = 18
    return np.clip(age, 10, 80).astype(int)


def simulate_crimes(
    seed: int,
    *,
    crimes: int | None = None,
    scale: float = 1.0,
    power_few_share: float = 0.05,
    repeat_share: float = 0.25,
    overlap_share: float = 0.15,
    cohort_per_10k: float = 8.0,
    messy: bool = True,
) -> CrimeSimulation:
    """One synthetic year of a force's violence, robbery and weapons crimes (see module doc)."""
    rng = np.random.default_rng(seed)
    vol, lsoas = _calibration()
    base_total = int(vol.crimes.sum())
    n = int(crimes) if crimes is not None else int(round(base_total * scale))
    if n < 100:
        raise HarmscopeError(
            f"{n} crimes is too few for a synthetic extract",
            where="--crimes",
            fix="ask for at least 100 crimes",
        )
    cells = rng.multinomial(n, vol.crimes / vol.crimes.sum())
    idx = np.repeat(np.arange(len(vol)), cells)
    df = pd.DataFrame(
        {
            "category": vol.category.to_numpy()[idx],
            "district": vol.district.to_numpy()[idx],
            "month": vol.month.to_numpy()[idx],
        }
    )
    # LSOA drawn from the district's real LSOA shares.
    df["lsoa_code"] = ""
    for d, pos in df.groupby("district").indices.items():
        cand = lsoas[lsoas.district == d]
        df.loc[df.index[pos], "lsoa_code"] = rng.choice(
            cand.lsoa_code.to_numpy(), len(pos), p=(cand.crimes / cand.crimes.sum()).to_numpy()
        )
    # Offence codes by category.
    df["offence_code"] = ""
    for cat, shares in CODE_SHARES.items():
        pos = np.flatnonzero(df.category.to_numpy() == cat)
        codes, p = zip(*shares.items(), strict=True)
        p = np.array(p) / sum(p)
        df.loc[df.index[pos], "offence_code"] = rng.choice(codes, len(pos), p=p)
    # Times: day in month, hour of day, weekday preference by rejection-free weighting.
    start = pd.to_datetime(df["month"] + "-01")
    days_in = start.dt.days_in_month.to_numpy()
    day = np.floor(rng.random(n) * days_in).astype(int)
    when = start + pd.to_timedelta(day, unit="D")
    keep = rng.random(n) < DAY_W[when.dt.day_of_week.to_numpy()] / DAY_W.max()
    day = np.where(keep, day, np.floor(rng.random(n) * days_in).astype(int))
    hour = rng.choice(24, n, p=HOUR_W / HOUR_W.sum())
    minute = rng.integers(0, 60, n)
    true_at = start + pd.to_timedelta(day * 1440 + hour * 60 + minute, unit="min")
    df["true_at"] = true_at
    df = df.sort_values("true_at", kind="stable").reset_index(drop=True)
    n = len(df)
    # Time windows: the true time lies uniformly inside [from, to].
    window = rng.random(n) < P_WINDOW
    width_h = np.where(window, rng.choice([1, 2, 3, 4, 6, 8, 12], n), 0)
    before = rng.random(n) * width_h
    df["committed_from"] = df["true_at"] - pd.to_timedelta(before * 3600, unit="s").round("min")
    df["committed_to"] = df["committed_from"] + pd.to_timedelta(width_h, unit="h")
    df.loc[~window, "committed_to"] = pd.NaT
    df["recorded_date"] = (df["true_at"] + pd.to_timedelta(rng.integers(0, 4, n), unit="D")).dt.date

    # --- offenders ----------------------------------------------------------------------
    # People are made district by district: the district's rows are shuffled and cut into
    # runs, one run per person (its size is the person's number of crimes), all vectorised.
    cat_arr = df.category.to_numpy()
    has_off = rng.random(n) < pd.Series(cat_arr).map(P_SUSPECT).to_numpy()
    off_id = np.full(n, -1, dtype=np.int64)
    cohort_n = max(3, int(round(n * cohort_per_10k / 10_000)))
    n_off_rows = int(has_off.sum())
    # expected offenders ~ rows / mean run size; the young cohort is drawn at this rate
    p_young = min(0.5, cohort_n / max(1.0, n_off_rows / 1.5))
    blocks = []  # (pid array, sex array, birth array, power, cohort) per district
    next_pid = 1
    off_rows_all = np.flatnonzero(has_off)
    for _d, pos in (
        pd.Series(df.district.to_numpy()[off_rows_all])
        .groupby(df.district.to_numpy()[off_rows_all])
        .indices.items()
    ):
        rows = rng.permutation(off_rows_all[pos])
        m = len(rows)
        power = rng.random(m) < power_few_share
        young = ~power & (rng.random(m) < p_young)
        size = 1 + np.where(power, rng.poisson(9.0, m), rng.poisson(0.3, m))
        size = np.where(young, rng.integers(4, 7, m), size)
        ends = np.cumsum(size)
        k = int(np.searchsorted(ends, m, side="left")) + 1  # runs needed to cover m rows
        label = np.searchsorted(ends[:k], np.arange(m), side="right")
        pids = next_pid + np.arange(k)
        next_pid += k
        off_id[rows] = pids[label]
        sex = np.where(rng.random(k) < 0.85, "M", "F")
        age0 = np.where(young[:k], _person_ages(rng, k, True), _person_ages(rng, k))
        blocks.append(
            pd.DataFrame(
                {
                    "pid": pids,
                    "sex": sex,
                    "birth_year": YEAR - age0,
                    "power_few": power[:k],
                    "cohort": young[:k],
                    "overlap": False,
                    "offender": True,
                }
            )
        )
    df["offender_pid"] = off_id
    pers = pd.concat(blocks, ignore_index=True)
    # Power-few offenders commit more serious violence: half their violence is with injury.
    is_pf = np.isin(off_id, pers.pid[pers.power_few].to_numpy()) & (
        cat_arr == "Violence and sexual offences"
    )
    upgrade = is_pf & (rng.random(n) < 0.5)
    df.loc[upgrade, "offence_code"] = rng.choice(["8N", "5D"], int(upgrade.sum()), p=[0.8, 0.2])
    # The escalating cohort: offences in time order climb the ladder (df is sorted by time).
    cohort_ids = pers.pid[pers.cohort].to_numpy()
    knife = np.zeros(n, bool)
    in_cohort = np.flatnonzero(np.isin(off_id, cohort_ids))
    if len(in_cohort):
        order = pd.Series(in_cohort).groupby(off_id[in_cohort]).cumcount().to_numpy()
        ladder = np.array(ESCALATION_LADDER)[np.minimum(order, len(ESCALATION_LADDER) - 1)]
        df.loc[in_cohort, "offence_code"] = ladder
        df.loc[in_cohort, "category"] = np.where(
            ladder == "34B", "Robbery", "Violence and sexual offences"
        )
        knife[in_cohort[order >= 2]] = True  # from the third offence on, a knife
    codes = df.offence_code.to_numpy()
    kp = pd.Series(codes).map(KNIFE_SHARE).fillna(0.0).to_numpy()
    knife |= rng.random(n) < kp
    df["knife_flag"] = knife
    # Co-offenders are omitted (one offender per crime): the format allows several.

    # --- victims ------------------------------------------------------------------------
    person_victim = ~np.isin(codes, list(NO_PERSON_VICTIM))
    vic_id = np.full(n, -1, dtype=np.int64)
    vic_rows = np.flatnonzero(person_victim)
    vblocks = []
    for _d, pos in pd.Series(vic_rows).groupby(df.district.to_numpy()[vic_rows]).indices.items():
        rows = rng.permutation(vic_rows[pos])
        m = len(rows)
        size = np.where(rng.random(m) < repeat_share, 1 + rng.geometric(0.5, m), 1)
        ends = np.cumsum(size)
        k = int(np.searchsorted(ends, m, side="left")) + 1
        label = np.searchsorted(ends[:k], np.arange(m), side="right")
        pids = next_pid + np.arange(k)
        next_pid += k
        vic_id[rows] = pids[label]
        vblocks.append(
            pd.DataFrame(
                {
                    "pid": pids,
                    "sex": np.where(rng.random(k) < 0.5, "F", "M"),
                    "birth_year": YEAR - np.clip(rng.normal(33, 14, k), 10, 90).astype(int),
                    "power_few": False,
                    "cohort": False,
                    "overlap": False,
                    "offender": False,
                }
            )
        )
    pers = pd.concat([pers, *vblocks], ignore_index=True)
    # A repeat victim is repeatedly victimised at home: one LSOA for all its crimes.
    hv = vic_id > 0
    df.loc[hv, "lsoa_code"] = (
        df.loc[hv, "lsoa_code"].groupby(vic_id[hv]).transform("first").to_numpy()
    )
    # Victim-offender overlap: some offenders are also a victim (a victim person is replaced
    # by an offender person; the victim's crimes become that offender's victimisations).
    offenders = pers[pers.offender & ~pers.cohort]
    n_overlap = int(round(overlap_share * len(offenders)))
    chosen = rng.choice(offenders.pid.to_numpy(), n_overlap, replace=False)
    victim_persons = rng.permutation(np.unique(vic_id[hv]))[: len(chosen)]
    merged = dict(zip(victim_persons.tolist(), chosen[: len(victim_persons)].tolist(), strict=True))
    if merged:
        vic_id = pd.Series(vic_id).map(lambda v: merged.get(v, v)).to_numpy(dtype=np.int64)
    pers["overlap"] = pers.pid.isin(list(merged.values()))
    pers = pers[~pers.pid.isin(list(merged.keys()))].reset_index(drop=True)
    df["victim_pid"] = vic_id
    # Domestic abuse: about a third of person-victim violence, more among repeat victims.
    vic_counts = pd.Series(vic_id[vic_id > 0]).value_counts()
    repeat_rows = (vic_id > 0) & (pd.Series(vic_id).map(vic_counts).fillna(0).to_numpy() >= 2)
    p_da = np.where(repeat_rows, 0.5, 0.25) * (cat_arr == "Violence and sexual offences")
    df["domestic_abuse"] = rng.random(n) < p_da

    # --- attributes ------------------------------------------------------------------------
    birth = pers.set_index("pid")["birth_year"]
    sexes = pers.set_index("pid")["sex"]
    year = df.true_at.dt.year.to_numpy()

    def age_of(ids):
        b = pd.Series(ids).map(birth).to_numpy(dtype=float)
        return np.where(ids > 0, year - b, np.nan)

    df["victim_age"] = age_of(vic_id)
    df["offender_age"] = age_of(off_id)
    df["victim_sex"] = pd.Series(vic_id).map(sexes).to_numpy()
    df["offender_sex"] = pd.Series(off_id).map(sexes).to_numpy()
    injury_codes = {"8N", "8P", "8S", "5D", "5E", "2", "1"}
    inj = np.where(np.isin(codes, list(injury_codes)), "minor", "none")
    inj = np.where(np.isin(df.offence_code, ["5D", "2"]), "serious", inj)
    inj = np.where(df.offence_code == "1", "fatal", inj)
    df["injury_level"] = inj
    outcome = np.where(
        off_id > 0, rng.choice(["1", "14", "15", "16"], n, p=[0.2, 0.4, 0.25, 0.15]), "18"
    )
    df["outcome_type"] = outcome
    df["outcome_date"] = (df.true_at + pd.to_timedelta(rng.integers(5, 120, n), unit="D")).dt.date
    df["exploitation_flag"] = np.where(np.isin(off_id, cohort_ids) & knife, "Y", "")
    df = df.reset_index(drop=True)

    out = pd.DataFrame(
        {
            "crime_ref": "SYN-KT-25-" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(7),
            "offence_code": df.offence_code,
            "recorded_date": pd.to_datetime(df.recorded_date).dt.strftime("%Y-%m-%d"),
            "committed_from": df.committed_from.dt.strftime("%Y-%m-%d %H:%M"),
            "committed_to": df.committed_to.dt.strftime("%Y-%m-%d %H:%M").fillna(""),
            "longitude": "",
            "latitude": "",
            "lsoa_code": df.lsoa_code,
            "victim_id": np.where(
                vic_id > 0, "SYN-P" + pd.Series(vic_id).astype(str).str.zfill(7), ""
            ),
            "victim_age": _int_text(df.victim_age),
            "victim_sex": df.victim_sex.fillna(""),
            "offender_id": np.where(
                off_id > 0, "SYN-P" + pd.Series(off_id).astype(str).str.zfill(7), ""
            ),
            "offender_age": _int_text(df.offender_age),
            "offender_sex": df.offender_sex.fillna(""),
            "domestic_abuse": np.where(df.domestic_abuse, "Y", "N"),
            "knife_flag": np.where(df.knife_flag, "Y", "N"),
            "injury_level": df.injury_level,
            "outcome_type": df.outcome_type,
            "outcome_date": pd.to_datetime(df.outcome_date).dt.strftime("%Y-%m-%d"),
            "exploitation_flag": df.exploitation_flag,
            "synthetic": "true",
        }
    )
    pers_out = pd.DataFrame(
        {
            "person_id": "SYN-P" + pers.pid.astype(str).str.zfill(7),
            "sex": pers.sex,
            "birth_year": pers.birth_year,
            "offender": pers.offender,
            "power_few": pers.power_few,
            "cohort": pers.cohort,
            "overlap": pers.overlap,
        }
    )
    written = out
    n_dup = n_unknown = n_bad = 0
    if messy:
        dup = out.sample(frac=MESSY["duplicate_row"], random_state=seed)
        unknown = out.sample(frac=MESSY["unknown_code"], random_state=seed + 1).copy()
        unknown["crime_ref"] = unknown.crime_ref.str.replace("SYN-KT", "SYN-KU", regex=False)
        unknown["offence_code"] = "999Z"
        bad = out.sample(frac=MESSY["bad_date"], random_state=seed + 2).copy()
        bad["crime_ref"] = bad.crime_ref.str.replace("SYN-KT", "SYN-KB", regex=False)
        bad["committed_from"] = "2025-02-30 10:00"
        n_dup, n_unknown, n_bad = len(dup), len(unknown), len(bad)
        written = pd.concat([out, dup, unknown, bad]).sample(frac=1.0, random_state=seed)
        written = written.sort_values("committed_from", kind="stable").reset_index(drop=True)
    sim = CrimeSimulation(crimes=out, written=written, persons=pers_out, seed=seed)
    sim.truth = _truth(df, out, pers_out, n_dup=n_dup, n_unknown=n_unknown, n_bad=n_bad)
    sim.truth.update(
        {
            "synthetic": True,
            "seed": seed,
            "format_version": FORMAT_VERSION,
            "planted": {
                "power_few_share_of_offenders": power_few_share,
                "repeat_share_of_victims": repeat_share,
                "overlap_share_of_offenders": overlap_share,
                "cohort_size": len(cohort_ids),
                "escalation_ladder": list(ESCALATION_LADDER),
            },
        }
    )
    return sim


def _int_text(values) -> pd.Series:
    return pd.Series(values).astype("Int64").astype(str).replace("<NA>", "")


def top_share(values: np.ndarray, frac: float) -> float:
    """Share of the total held by the top ``frac`` of units (at least one unit)."""
    v = np.sort(np.asarray(values, float))[::-1]
    if v.sum() <= 0:
        return float("nan")
    k = max(1, int(np.ceil(frac * len(v))))
    return float(v[:k].sum() / v.sum())


def _truth(df, out, persons, *, n_dup, n_unknown, n_bad) -> dict:
    """The realised truth, from raw IDs: what a perfect reading of the clean file gives."""
    w = load_weights("css", level="code").set_index("key")["weight"]
    harm = out.offence_code.map(w).fillna(0).to_numpy()
    off = out.offender_id.to_numpy()
    has = off != ""
    off_harm = pd.Series(harm[has]).groupby(off[has]).sum().to_numpy()
    vic = out.victim_id.to_numpy()
    hv = vic != ""
    vic_counts = pd.Series(vic[hv]).value_counts()
    vic_harm = pd.Series(harm[hv]).groupby(vic[hv]).sum().to_numpy()
    place_harm = pd.Series(harm).groupby(out.lsoa_code.to_numpy()).sum().to_numpy()
    hours = df.true_at.dt.hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    victims = set(vic[hv])
    offenders = set(off[has])
    return {
        "rows_clean": len(out),
        "rows_written": len(out) + n_dup + n_unknown + n_bad,
        "rows_duplicate_planted": n_dup,
        "rows_unknown_code_planted": n_unknown,
        "rows_bad_date_planted": n_bad,
        "offenders": len(offenders),
        "victims": len(victims),
        "power_few_share_top1pct": top_share(off_harm, 0.01),
        "power_few_share_top5pct": top_share(off_harm, 0.05),
        "power_few_share_top10pct": top_share(off_harm, 0.10),
        "victim_share_top5pct": top_share(vic_harm, 0.05),
        "place_share_top5pct": top_share(place_harm, 0.05),
        "repeat_victim_rate": float((vic_counts >= 2).mean()),
        "overlap_persons": len(victims & offenders),
        "cohort_ids_count": int(persons.cohort.sum()),
        "power_few_ids_count": int(persons.power_few.sum()),
        "hour_share": [round(float(x), 5) for x in hours],
        "knife_enabled_selected": int((out.knife_flag == "Y").sum()),
    }


def write_crimes_csv(sim: CrimeSimulation, path: str | Path) -> tuple[Path, Path, Path]:
    """Write the extract (with a SYNTHETIC header), the truth JSON and the truth persons CSV
    beside it: ``FILE.truth.json`` and ``FILE.truth_persons.csv``."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            f"# SYNTHETIC harmscope crime extract, format {FORMAT_VERSION}, seed {sim.seed}: "
            "no real crime or person\n"
        )
        fh.write(f"# format: harmscope-crime-extract/{FORMAT_VERSION}\n")
        sim.written[COLUMNS].to_csv(fh, index=False)
    truth_path = path.with_name(path.name + ".truth.json")
    persons_path = path.with_name(path.name + ".truth_persons.csv")
    truth_path.write_text(json.dumps(sim.truth, indent=2, default=str), encoding="utf-8")
    sim.persons.to_csv(persons_path, index=False)
    return path, truth_path, persons_path
