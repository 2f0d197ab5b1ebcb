"""Early warning: is this month's count in an area a new risk or noise?

Per area (district, or LSOA cluster = the MSOA-style name shared by its LSOAs, e.g.
"Maidstone 012") x category x month:

- an expected count and upper limit from a Farrington-style quasi-Poisson baseline
  (Farrington, Andrews, Beale & Catchpole 1996, JRSS A 159:547; R surveillance::farringtonFlexible):
  a seasonal baseline is reweighted to down-weight past outbreaks (Anscombe residuals > 1), the
  dispersion phi is floored at 1, and the limit uses the 2/3-power transformation:
  U = mu (1 + (2/3) q sqrt(phi mu + var(mu_hat)) / mu)^(3/2), q the 1-alpha quantile of Student's
  t on (baseline months - 1) df because phi is estimated from few months; exceedance score =
  (observed - mu) / (U - mu), alarm when the score > 1 (observed above U);
- the seasonal baseline takes the same month +/- w in each of the previous b years
  (defaults b=5, w=1 for months; farringtonFlexible uses b=5, w=3 for weeks) and needs at least
  ``min_years`` of them; without them it falls back, and says so, to a recent baseline of up to
  12 earlier months within the previous 24 (at least ``min_baseline`` months), which ignores
  seasonality;
- no trend term: Farrington fits one only with 3+ years of history, which monthly police.uk
  series here never have;
- CUSUM (Page 1954) on the standardised residuals z = (y - mu)/sqrt(phi mu + var(mu_hat)),
  S_t = max(0, S_{t-1} + z_t - k), alarm when S_t > h (k = 0.5, h = 4: about 1 false alarm in
  170 months for normal residuals), reset after a gap in the months;
- Farrington's rule against alarms on tiny counts: none when the current and previous 3 months
  hold fewer than 5 events.

Alerts are ranked by harm: the excess over the expected count times the category's harm
weight (or the excess count when unweighted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.hotspot_inputs import harm_weights
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.months import to_month
from harmscope.store.queries.scope import CUBE_KEYS, count_cube, months_held


@dataclass
class AlertSettings:
    alpha: float = 0.05
    b: int = 5  # years of seasonal history wanted
    w: int = 1  # months either side of the same month in earlier years
    min_years: int = 3  # fewest earlier years for a seasonal baseline
    recent_months: int = 12  # fallback baseline length
    recent_window: int = 24  # fallback baseline looks back this many months at most
    min_baseline: int = 6  # fewest baseline months to judge at all
    cusum_k: float = 0.5
    cusum_h: float = 4.0
    min_recent_events: int = 5  # Farrington: no alarm with fewer events in the last 4 months


def _mindex(months) -> np.ndarray:
    return np.array([m.year * 12 + m.month - 1 for m in months], dtype=np.int64)


def quasi_poisson_mean(y: np.ndarray, reweight: bool = True):
    """Intercept-only quasi-Poisson fit with Farrington's reweighting: (mu, phi, var(mu_hat)).

    ``y`` is one baseline (1-D) or one baseline per row (2-D); results are scalars or arrays.
    Before the floor at 1 that Farrington applies, phi equals statsmodels
    GLM(Poisson, var_weights=w).fit(scale='X2').scale on a constant (pinned in the tests)."""
    y = np.asarray(y, dtype=float)
    one = y.ndim == 1
    y = np.atleast_2d(y)
    n = y.shape[1]
    w = np.ones_like(y)
    mu = y.mean(axis=1)
    phi = _phi(y, mu, w, n)
    if reweight and n > 2:
        # Anscombe residuals; points with r > 1 get weight r^-2 (Farrington et al. 1996, s. 3.3)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (
                1.5
                * (np.cbrt(y) ** 2 - np.cbrt(mu)[:, None] ** 2)
                / (np.sqrt(np.maximum(phi, 1e-12))[:, None] * mu[:, None] ** (1 / 6))
            )
        r = np.where(mu[:, None] > 0, r, 0.0)
        w = np.where(r > 1, 1.0 / np.maximum(r, 1e-12) ** 2, 1.0)
        w = w * n / w.sum(axis=1, keepdims=True)
        mu = (w * y).sum(axis=1) / w.sum(axis=1)
        phi = _phi(y, mu, w, n)
    phi_used = np.maximum(phi, 1.0)
    var_mu = np.where(mu > 0, phi_used * mu / n, 0.0)
    if one:
        return float(mu[0]), float(phi_used[0]), float(var_mu[0])
    return mu, phi_used, var_mu


def _phi(y, mu, w, n):
    if n < 2:
        return np.ones(len(mu))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (w * (y - mu[:, None]) ** 2).sum(axis=1) / mu / (n - 1)
    return np.where(mu > 0, phi, 1.0)


def upper_limit(mu, phi, var_mu, alpha: float, df: int | None = None):
    """Farrington's 2/3-power upper limit (one-sided, 1 - alpha); scalars or arrays.

    With ``df`` the normal quantile becomes Student's t on df degrees of freedom: phi is
    estimated from the baseline, and with 6-12 baseline months the normal quantile gives about
    twice the nominal false-alert rate (benchmarks/validate_alerts.py measures this)."""
    mu = np.asarray(mu, dtype=float)
    z = stats.t.ppf(1 - alpha, df) if df else stats.norm.ppf(1 - alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = mu * (1 + (2.0 / 3.0) * z * np.sqrt(phi * mu + var_mu) / mu) ** 1.5
    up = np.where(mu > 0, up, 0.0)
    return float(up) if up.ndim == 0 else up


def baseline_positions(midx: np.ndarray, t: int, s: AlertSettings) -> tuple[np.ndarray, str]:
    """Positions of the baseline months for the month at position t, and the mode used."""
    now = midx[t]
    past = np.nonzero(midx < now)[0]
    years = []
    for k in range(1, s.b + 1):
        centre = now - 12 * k
        sel = past[np.abs(midx[past] - centre) <= s.w]
        if len(sel):
            years.append(sel)
    if len(years) >= s.min_years:
        return np.concatenate(years), "seasonal"
    recent = past[midx[past] >= now - s.recent_window][-s.recent_months :]
    if len(recent) >= s.min_baseline:
        return recent, "recent"
    return recent, "too short"


_COLUMNS = [
    "expected",
    "upper",
    "score",
    "phi",
    "alarm",
    "cusum",
    "cusum_alarm",
    "baseline_months",
    "baseline",
]


def judge_matrix(
    y: np.ndarray, months: list[date], s: AlertSettings | None = None
) -> dict[str, np.ndarray]:
    """Expected, upper limit, score, alarm and CUSUM for many series sharing the same months.

    ``y`` is (series, months). Every series has the same months, so each month's baseline
    positions are found once and the fits run on whole matrices.
    """
    s = s or AlertSettings()
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n_s, n_t = y.shape
    midx = _mindex(months)
    out = {c: np.full((n_s, n_t), np.nan) for c in ("expected", "upper", "score", "phi", "cusum")}
    out["alarm"] = np.zeros((n_s, n_t), dtype=bool)
    out["cusum_alarm"] = np.zeros((n_s, n_t), dtype=bool)
    out["baseline_months"] = np.zeros((n_s, n_t), dtype=np.int64)
    out["baseline"] = np.empty((n_s, n_t), dtype=object)
    cusum = np.zeros(n_s)
    for t in range(n_t):
        pos, mode = baseline_positions(midx, t, s)
        out["baseline"][:, t] = mode
        out["baseline_months"][:, t] = len(pos)
        if t > 0 and midx[t] - midx[t - 1] > 1:
            cusum[:] = 0.0  # a gap in the months: restart the sum
        if mode == "too short":
            continue
        # Farrington's reweighting needs a long baseline: on 6-12 recent months it deflates phi and
        # doubles the false alerts (measured in benchmarks/validate_alerts.py), so it is used only
        # for seasonal baselines
        mu, phi, var_mu = quasi_poisson_mean(y[:, pos], reweight=(mode == "seasonal"))
        up = upper_limit(mu, phi, var_mu, s.alpha, df=len(pos) - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(
                up > mu, (y[:, t] - mu) / (up - mu), np.where(y[:, t] > mu, np.inf, 0.0)
            )
            sd = np.where(mu > 0, np.sqrt(phi * mu + var_mu), 1.0)
        recent = y[:, (midx >= midx[t] - 3) & (midx <= midx[t])].sum(axis=1)
        cusum = np.maximum(0.0, cusum + (y[:, t] - mu) / sd - s.cusum_k)
        out["expected"][:, t], out["upper"][:, t], out["score"][:, t], out["phi"][:, t] = (
            mu,
            up,
            score,
            phi,
        )
        out["alarm"][:, t] = (y[:, t] > up) & (recent >= s.min_recent_events)
        out["cusum"][:, t] = cusum
        out["cusum_alarm"][:, t] = cusum > s.cusum_h
    return out


def judge_series(y: np.ndarray, months: list[date], s: AlertSettings | None = None) -> pd.DataFrame:
    """Expected, upper limit, score, alarm and CUSUM for each month of one count series."""
    m = judge_matrix(np.asarray(y, dtype=float)[None, :], months, s)
    return pd.DataFrame({c: m[c][0] for c in _COLUMNS})


# -- the store-level analysis ----------------------------------------------------------------

_LEVELS = {"district": CUBE_KEYS["district_name"], "lsoa_cluster": CUBE_KEYS["lsoa_cluster"]}


def _monthly_cube(
    store, level: str, crime_types=None, area=None
) -> tuple[pd.DataFrame, list[date]]:
    """Counts per area x category x month (zeros filled), and the months the store holds."""
    if level not in _LEVELS:
        raise HarmscopeError(
            f"unknown level {level!r}", where="--level", fix="use district or lsoa_cluster"
        )
    expr = _LEVELS[level]
    from harmscope.analysis.grid import _filters

    where_sql, params = _filters(crime_types, None, None, area, located=False)
    where = f"{where_sql} AND {expr} IS NOT NULL"
    months = [to_month(m).first_day for m in months_held(store)]
    df = count_cube(
        store,
        where,
        params,
        {"area": expr, "crime_type": CUBE_KEYS["category"], "month": CUBE_KEYS["month"]},
    )
    if df.empty:
        raise HarmscopeError(
            "no events match these filters", where="alerts", fix="check --crime-type and --area"
        )
    df["month"] = [to_month(m).first_day for m in df["month"]]
    full = pd.MultiIndex.from_product(
        [sorted(df["area"].unique()), sorted(df["crime_type"].unique()), months],
        names=["area", "crime_type", "month"],
    )
    cube = (
        df.set_index(["area", "crime_type", "month"])["count"]
        .reindex(full, fill_value=0)
        .reset_index()
    )
    return cube, months


def history_statement(months: list[date], s: AlertSettings) -> str:
    midx = _mindex(months)
    gaps = [
        f"{months[i - 1]:%Y-%m}..{months[i]:%Y-%m}"
        for i in range(1, len(months))
        if midx[i] - midx[i - 1] > 1
    ]
    span = (midx[-1] - midx[0] + 1) if len(midx) else 0
    text = (
        f"The store holds {len(months)} months ({months[0]:%Y-%m} to {months[-1]:%Y-%m}"
        + (f", with gaps between {', '.join(gaps)}" if gaps else "")
        + f"), spanning {span} months. "
    )
    years_needed = s.min_years * 12
    if span <= years_needed:
        text += (
            f"A seasonal Farrington baseline (the same month +/- {s.w} in each of the previous b={s.b} years, "
            f"at least {s.min_years} years) is impossible on this history, so every month is judged against a "
            f"recent baseline instead: up to {s.recent_months} earlier months within the previous "
            f"{s.recent_window}, at least {s.min_baseline}, with no seasonal adjustment (a seasonal rise such "
            "as summer violence can raise an alarm). Months with fewer earlier months are reported as too "
            "short to judge."
        )
    return text


def alerts(
    store,
    *,
    level: str = "district",
    crime_types: list[str] | None = None,
    area: str | None = None,
    weight: str = "none",
    month: date | None = None,
    settings: AlertSettings | None = None,
) -> Result:
    """Farrington-style exceedances and CUSUM per area x category x month, alarms ranked by harm."""
    s = settings or AlertSettings()
    cube, months = _monthly_cube(store, level, crime_types, area)
    notes = [history_statement(months, s)]
    try:
        weights, wnote = harm_weights(weight)
    except HarmscopeError as exc:
        weights, wnote = (
            None,
            f"Harm weights unavailable ({exc.problem}); alarms ranked by excess count.",
        )
    notes.append(wnote)
    wide = cube.pivot_table(
        index=["area", "crime_type"], columns="month", values="count", aggfunc="sum"
    )
    wide = wide.reindex(columns=months).fillna(0)
    judged = judge_matrix(wide.to_numpy(), months, s)
    n_s, n_t = wide.shape
    table = pd.DataFrame(
        {
            "area": np.repeat(wide.index.get_level_values(0).to_numpy(), n_t),
            "crime_type": np.repeat(wide.index.get_level_values(1).to_numpy(), n_t),
            "month": np.tile(np.array(months, dtype=object), n_s),
            "observed": wide.to_numpy().ravel().astype(int),
            **{c: judged[c].ravel() for c in _COLUMNS},
        }
    )
    table.insert(0, "level", level)
    wmap = weights.to_dict() if weights is not None else {}
    table["weight"] = table["crime_type"].map(wmap).astype(float) if weights is not None else 1.0
    table["excess"] = (table["observed"] - table["expected"]).clip(lower=0)
    table["harm_excess"] = table["excess"] * table["weight"].fillna(0 if weights is not None else 1)
    latest = month or months[-1]
    if latest not in months:
        raise HarmscopeError(
            f"the store holds no street crimes for {latest:%Y-%m}",
            where="--month",
            fix=f"choose a month between {months[0]:%Y-%m} and {months[-1]:%Y-%m} that the store holds",
        )
    judged_rows = table[table["baseline"] != "too short"]
    alarms = table[(table["alarm"]) | (table["cusum_alarm"])].copy()
    alarms = alarms.sort_values(["month", "harm_excess"], ascending=[False, False])
    latest_alarms = alarms[alarms["month"] == latest]
    too_short = table[(table["month"] == latest) & (table["baseline"] == "too short")]
    summary = {
        "level": level,
        "latest_month": latest,
        "series": int(table.groupby(["area", "crime_type"]).ngroups),
        "months_in_store": len(months),
        "judged_area_months": int(len(judged_rows)),
        "too_short_area_months": int((table["baseline"] == "too short").sum()),
        "alarm_rate": float(judged_rows["alarm"].mean()) if len(judged_rows) else None,
        "alpha": s.alpha,
        "latest_alarms": int(latest_alarms["alarm"].sum()),
        "latest_cusum_alarms": int(latest_alarms["cusum_alarm"].sum()),
        "latest_too_short": int(len(too_short)),
        "baseline_modes": table["baseline"].value_counts().to_dict(),
    }
    if summary["alarm_rate"] is not None:
        lo, hi = _wilson(int(judged_rows["alarm"].sum()), len(judged_rows))
        summary["alarm_rate_ci"] = [lo, hi]
    method = (
        "Farrington-style exceedance per area x category x month: quasi-Poisson baseline (intercept only, "
        "dispersion floored at 1; Farrington's reweighting of past outbreaks on seasonal baselines only), one-sided "
        f"{100 * (1 - s.alpha):g}% upper limit by the 2/3-power transformation with a Student-t quantile "
        "(baseline months - 1 df), exceedance score (observed - "
        "expected)/(limit - expected), alarm when observed > limit and the last 4 months hold at least "
        f"{s.min_recent_events} events. CUSUM (k={s.cusum_k}, h={s.cusum_h}) on standardised residuals for "
        "sustained shifts. Baselines: seasonal (same month +/- w in up to b earlier years) when at least "
        f"{s.min_years} years exist, else the last up-to-{s.recent_months} months (minimum {s.min_baseline}), "
        "stated per row in 'baseline'. Assumptions: counts are overdispersed Poisson around a stable level; "
        "recording changes look like real rises. Uncertainty: the limit is a prediction limit; about alpha of "
        "judged area-months alarm by chance, more where seasonality is unmodelled."
    )
    res = Result(table=table, summary=summary, method=method, notes=notes)
    res.tables["alarms"] = alarms.reset_index(drop=True)
    if len(latest_alarms):
        top = latest_alarms.iloc[0]
        res.charts["top_alarm"] = series_chart(table, top["area"], top["crime_type"])
    res.charts["alarms_by_month"] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": "Alarms per month",
        "data": {
            "values": _records(
                table.groupby("month")
                .agg(alarms=("alarm", "sum"), cusum=("cusum_alarm", "sum"))
                .reset_index()
            )
        },
        "mark": "bar",
        "encoding": {
            "x": {"field": "month", "type": "ordinal"},
            "y": {"field": "alarms", "type": "quantitative"},
        },
    }
    return res


# the columns a published alarm table shows, and what in it is derived from this month's count
# (the expected count and limit come from past months; only the observed count is a new small number)
ALARM_COLUMNS = [
    "area",
    "crime_type",
    "observed",
    "expected",
    "upper",
    "score",
    "alarm",
    "cusum",
    "cusum_alarm",
    "harm_excess",
]
ALARM_DERIVED = {"harm_excess": "observed", "score": "observed"}


def latest_alarms(res: Result, columns: list[str] = ALARM_COLUMNS) -> pd.DataFrame:
    """The alarms of the result's latest month, with ``columns`` only."""
    alarms = res.tables["alarms"]
    return alarms[alarms["month"] == res.summary["latest_month"]][columns].reset_index(drop=True)


def series_chart(table: pd.DataFrame, area: str, crime_type: str) -> dict:
    """Observed, expected and upper limit for one series (Vega-Lite layers)."""
    g = table[(table["area"] == area) & (table["crime_type"] == crime_type)]
    g = _with_gaps(g[["month", "observed", "expected", "upper", "alarm"]])
    # gaps as gaps: a month with no file is a null row, and the marks break there rather than
    # drawing a straight line across it
    gap = "break-paths-show-domains"
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": f"{crime_type} in {area}",
        "data": {"values": _records(g)},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.2, "invalid": gap},
                "encoding": {
                    "x": {"field": "month", "type": "temporal", "title": "month"},
                    "y": {
                        "field": "expected",
                        "type": "quantitative",
                        "title": "crimes per month (shaded: expected to upper limit)",
                    },
                    "y2": {"field": "upper"},
                },
            },
            {
                "mark": {"type": "line", "invalid": gap},
                "encoding": {
                    "x": {"field": "month", "type": "temporal"},
                    "y": {"field": "observed", "type": "quantitative"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "color": "red"},
                "transform": [{"filter": "datum.alarm"}],
                "encoding": {
                    "x": {"field": "month", "type": "temporal"},
                    "y": {"field": "observed", "type": "quantitative"},
                },
            },
        ],
    }


def _with_gaps(g: pd.DataFrame) -> pd.DataFrame:
    """Every month from the first to the last, with null rows for months not held."""
    if g.empty:
        return g
    months = pd.to_datetime(g["month"].astype(str).str[:7] + "-01")
    full = pd.date_range(months.min(), months.max(), freq="MS")
    if len(full) == len(g):
        return g
    text = isinstance(g["month"].iloc[0], str)
    keyed = g.assign(month=months).set_index("month").reindex(full)
    out = keyed.rename_axis("month").reset_index()
    if text:
        width = len(str(g["month"].iloc[0]))
        out["month"] = out["month"].dt.strftime("%Y-%m-%d").str[:width]
    return out


def _records(df: pd.DataFrame) -> list[dict]:
    from harmscope.analysis.result import frame_records

    return frame_records(df)


def _wilson(k: int, n: int) -> tuple[float, float]:
    from harmscope.analysis.intervals import wilson

    lo, hi = wilson(k, n)
    return float(lo), float(hi)
