"""Evidence from elsewhere (issue 17, item 4): toolkit priors, the conjugate combination, the
register link, the command and the report section.

The conjugate formula is checked against numerical integration and Monte Carlo of prior x
likelihood and against a published worked example; the packaged toolkit figures against the
source text typed here with its citation; the whole path on the real Kent data."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from datetime import date

import numpy as np
import pytest

from harmscope.analysis.evaluation.evidence import (
    combine,
    evidence_for_scheme,
    local_estimate,
    posterior_by_integration,
    prior_for,
    strands,
    toolkit_entry,
    toolkit_table,
)
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.report.section import NotApplicable, ReportContext
from harmscope.report.sections import evidence as section
from harmscope.sources.register import (
    example_register_path,
    load_schemes,
    read_register,
    store_register,
)
from harmscope.store import Store

# -- the conjugate combination ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mu0, tau0, y, s",
    [
        (math.log(0.79), 0.35, math.log(0.93), 0.032),  # a precise local study
        (math.log(0.79), 0.35, math.log(1.10), 0.40),  # a small, noisy one
        (math.log(0.70), 0.12, math.log(1.30), 0.15),  # prior and data disagree
        (0.0, 0.07, 0.12, 0.06),
    ],
)
def test_conjugate_posterior_equals_numerical_integration(mu0, tau0, y, s):
    exact = combine(mu0, tau0, y, s)
    grid = posterior_by_integration(mu0, tau0, y, s)
    assert exact["mean"] == pytest.approx(grid["mean"], abs=1e-6)
    assert exact["sd"] == pytest.approx(grid["sd"], rel=1e-5)
    assert exact["prob_reduction"] == pytest.approx(grid["prob_reduction"], abs=1e-4)
    assert 0 < exact["weight_local"] < 1


def test_conjugate_posterior_equals_monte_carlo_importance_sampling():
    """Draws from the prior weighted by the likelihood: an estimator independent of the formula."""
    mu0, tau0, y, s = math.log(0.79), 0.35, math.log(0.95), 0.12
    rng = np.random.default_rng(17)
    theta = rng.normal(mu0, tau0, 400_000)
    w = np.exp(-0.5 * ((y - theta) / s) ** 2)
    w /= w.sum()
    mean = float((w * theta).sum())
    sd = float(np.sqrt((w * (theta - mean) ** 2).sum()))
    exact = combine(mu0, tau0, y, s)
    assert exact["mean"] == pytest.approx(mean, abs=0.002)
    assert exact["sd"] == pytest.approx(sd, rel=0.02)
    assert exact["prob_reduction"] == pytest.approx(float(w[theta < 0].sum()), abs=0.005)


def test_published_worked_example_diamond_and_kaul_2004():
    """Diamond GA, Kaul S. Prior convictions: Bayesian approaches to the analysis and
    interpretation of clinical megatrials. J Am Coll Cardiol 2004;43(11):1929-39, Figure 2:
    'Prior' log OR xp = 0, sigma p = 0.07; 'Evidence' xe = 0.12, sigma e = 0.06; 'Posterior'
    xpe = 0.07, sigma pe = 0.05 (two decimals, as printed)."""
    post = combine(0.0, 0.07, 0.12, 0.06)
    assert round(post["mean"], 2) == 0.07
    assert round(post["sd"], 2) == 0.05


def test_a_small_local_study_is_pulled_to_the_prior_and_a_large_one_is_not():
    prior = prior_for("yef", "mentoring")  # 21% reduction: log(0.79)
    small = combine(prior["mean"], prior["sd"], 0.0, 0.60)  # no change, very noisy
    large = combine(prior["mean"], prior["sd"], 0.0, 0.02)  # no change, precise
    assert small["weight_local"] < 0.3 < 0.99 < large["weight_local"]
    assert math.exp(small["mean"]) < 0.9  # most of the way to the toolkit's 0.79
    assert math.exp(large["mean"]) == pytest.approx(1.0, abs=0.005)  # stays with the data


def test_local_standard_error_from_a_wald_interval_is_exact():
    y, s = math.log(0.9), 0.1
    lo, hi = math.exp(y - 1.959964 * s), math.exp(y + 1.959964 * s)
    got_y, got_s = local_estimate(0.9, [lo, hi])
    assert got_y == pytest.approx(y) and got_s == pytest.approx(s, rel=1e-5)
    with pytest.raises(HarmscopeError):
        local_estimate(0.9, [1.2, 0.8])


# -- the packaged toolkit figures against their sources ---------------------------------------

# (toolkit, strand) -> (band, % reduction, its outcome, confidence, text of the source, source)
SOURCE_TEXT = {
    ("yef", "mentoring"): (
        "MODERATE",
        "21",
        "violence",
        "not found",
        "The YEF Toolkit show that mentoring programmes lead to an average 21% reduction in violence",
        "youthendowmentfund.org.uk/news/yef-announce-10-million-investment-to-help-young-people-turn-to-mentors-not-violence",
    ),
    ("yef", "focused_deterrence"): (
        "HIGH",
        "33",
        "crime",
        "high",
        "Global evidence, highlighted in the YEF Toolkit, shows that this approach can reduce crime by an average of 33%",
        "youthendowmentfund.org.uk/?p=117071",
    ),
    ("yef", "social_skills_training"): (
        "HIGH",
        "32",
        "crime",
        "high",
        "On average social skills training programmes have reduced the number of children involved in crime by 32%.",
        "youthendowmentfund.org.uk/toolkit/social-skills-training",
    ),
    ("yef", "ae_navigators"): (
        "HIGH",
        "",
        "",
        "very low",
        "However, we have a very low confidence in this estimate, which is based on only two US-based studies",
        "youthendowmentfund.org.uk/funding/evaluations/hospital-navigators-multi-site-trial",
    ),
    ("yef", "sports_programmes"): (
        "HIGH",
        "",
        "",
        "low",
        "we only have a 'low' level of confidence in our Toolkit estimate of high impact for sports interventions",
        "youthendowmentfund.org.uk/do-sports-and-positive-activities-help-to-prevent-violence",
    ),
    ("yef", "after_school_programmes"): (
        "LOW",
        "8",
        "crime",
        "not found",
        "after-school programmes can reduce crime overall by 8%",
        "youthendowmentfund.org.uk/toolkit/after-school-programmes/",
    ),
    ("yef", "hot_spots_policing"): (
        "MODERATE",
        "",
        "",
        "not found",
        "MODERATE (10%-30% less violence): Hot spots policing",
        "youthendowmentfund.org.uk/about-us/our-strategy/sectors/policing/",
    ),
    ("yef", "cognitive_behavioural_therapy"): (
        "HIGH",
        "",
        "",
        "not found",
        "HIGH (30%+ less violence): Trauma-specific therapies; Cognitive Behavioural Therapy",
        "youthendowmentfund.org.uk/about-us/our-strategy/sectors/health/",
    ),
}


@pytest.mark.parametrize("key", list(SOURCE_TEXT))
def test_toolkit_values_equal_the_source_text(key):
    band, pct, outcome, confidence, quote, url = SOURCE_TEXT[key]
    e = toolkit_entry(*key)
    assert (e["impact_band"], e["reduction_pct"], e["reduction_outcome"]) == (band, pct, outcome)
    assert e["confidence"] == confidence
    assert quote in e["quote"], "the stored quote is the source's own words"
    assert url in e["url"] and e["accessed"] and e["source"]
    if pct:  # the figure appears in the quoted sentence itself
        assert f"{pct}%" in e["quote"]


def test_every_entry_has_a_source_or_says_not_found():
    t = toolkit_table()
    assert set(t["toolkit"]) == {"yef", "cop"}
    for r in t.to_dict(orient="records"):
        assert r["source"], r
        assert r["url"] or r["source"].startswith("not found"), r
        assert r["quote"] or r["impact_band"] == "not found", r


def test_priors_follow_the_stated_rules():
    m = prior_for("yef", "mentoring")
    assert m["mean"] == pytest.approx(math.log(1 - 0.21)) and m["sd"] == 0.35
    hs = prior_for("yef", "hot_spots_policing")  # MODERATE band, no figure: midpoint 20%
    assert hs["mean"] == pytest.approx(math.log(0.80))
    fd = prior_for("yef", "focused_deterrence")  # 33% is on crime: the band (HIGH: 30%) is used
    assert fd["mean"] == pytest.approx(math.log(0.70)) and "HIGH" in fd["basis"]
    assert fd["sd"] == 0.12  # YEF: "we have high confidence in this estimate"
    sp = prior_for("yef", "sports_programmes")  # confidence 'low'
    assert sp["sd"] == 0.25 and sp["sd"] < prior_for("yef", "ae_navigators")["sd"]
    kc = prior_for("yef", "knife_crime_education")  # no clear evidence: centred on no effect
    assert kc["mean"] == 0.0
    diluted = prior_for("yef", "mentoring", reach=0.1)
    assert diluted["mean"] == pytest.approx(math.log(1 - 0.021))
    for bad in (("cop", "hot_spots_policing"), ("yef", "bystander_interventions")):
        with pytest.raises(HarmscopeError, match="no usable effect"):
            prior_for(*bad)
    with pytest.raises(HarmscopeError, match="reach"):
        prior_for("yef", "mentoring", reach=0)


# -- the register link ------------------------------------------------------------------------

REG = """
schemes:
  - name: Linked scheme
    provider: Example Trust
    areas:
      districts: [Thanet]
    start: 2025-07
    strand: prevention
    evidence: {toolkit: yef, strand: %s}
"""


def _reg(tmp_path, strand, name="reg.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(REG % strand), encoding="utf-8")
    return p


def test_register_accepts_a_strand_and_lists_the_valid_ones_when_wrong(tmp_path):
    (s,) = read_register(_reg(tmp_path, "Mentoring"))
    assert s["evidence"] == {"toolkit": "yef", "strand": "mentoring"}
    with pytest.raises(HarmscopeError) as err:
        read_register(_reg(tmp_path, "mentorship"))
    e = err.value
    assert "unknown yef strand 'mentorship'" in e.problem
    assert "scheme 1 (Linked scheme), evidence.strand" in e.where
    for valid in strands("yef"):
        assert valid in e.fix
    bad_toolkit = _reg(tmp_path, "mentoring").read_text().replace("toolkit: yef", "toolkit: eef")
    (tmp_path / "b.yaml").write_text(bad_toolkit)
    with pytest.raises(HarmscopeError, match="unknown toolkit"):
        read_register(tmp_path / "b.yaml")
    (tmp_path / "c.yaml").write_text(
        bad_toolkit.replace("{toolkit: eef, strand: mentoring}", "mentoring")
    )
    with pytest.raises(HarmscopeError, match="block with toolkit and strand"):
        read_register(tmp_path / "c.yaml")


def test_register_csv_form_and_the_store_round_trip(tmp_path):
    csv = tmp_path / "reg.csv"
    csv.write_text(
        "name,provider,area_kind,areas,strand,evidence\n"
        "A,Trust,districts,Thanet,prevention,yef:sports_programmes\n"
        "B,Trust,districts,Dover,prevention,\n",
        encoding="utf-8",
    )
    schemes = read_register(csv)
    assert [s["evidence"] for s in schemes] == [
        {"toolkit": "yef", "strand": "sports_programmes"},
        None,
    ]
    with Store.open(tmp_path / "s.duckdb") as store:
        store_register(store, schemes, csv)
        back = {s["name"]: s["evidence"] for s in load_schemes(store)}
    assert back == {"A": {"toolkit": "yef", "strand": "sports_programmes"}, "B": None}


def test_example_register_links_only_the_clear_matches():
    links = {s["name"]: s["evidence"] for s in read_register(example_register_path())}
    assert links["St Giles Trust (east Kent)"] == {"toolkit": "yef", "strand": "mentoring"}
    assert links["Medway Task Force"] == {"toolkit": "yef", "strand": "focused_deterrence"}
    assert links["Youth Resilience (Thanet)"]["strand"] == "knife_crime_education"
    assert links["Volunteer Police Cadets (Kent)"] is None
    assert links["The Shed (Folkestone)"] is None


# -- the whole path on the real Kent data (Essex and Sussex as donors) -------------------------


@pytest.fixture(scope="module")
def store_copy(all_store_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("evidence") / "evidence.duckdb"
    shutil.copy(all_store_path, path)
    assert main(["schemes", "--example", "--db", str(path), "--quiet"]) == 0
    return path


def test_real_scheme_local_prior_and_combined_side_by_side(store_copy):
    with Store.open(store_copy, read_only=True) as store:
        big = evidence_for_scheme(store, scheme="St Giles Trust (east Kent)", start="2025-07")
        small = evidence_for_scheme(
            store,
            scheme="Hang 10 (Ramsgate)",
            toolkit="yef",
            strand="mentoring",
            start="2025-07",
        )
    for res in (big, small):
        t = res.table
        assert set(t["estimate"]) == {"local", "prior", "combined"}
        for _, g in t.groupby("method"):
            loc, pri, com = (g[g["estimate"] == k].iloc[0] for k in ("local", "prior", "combined"))
            # the combination lies between the local estimate and the prior, and is tighter
            assert (
                min(loc["log_irr"], pri["log_irr"])
                <= com["log_irr"]
                <= max(loc["log_irr"], pri["log_irr"])
            )
            assert com["sd_log"] < min(loc["sd_log"], pri["sd_log"])
            w = (1 / loc["sd_log"] ** 2) / (1 / loc["sd_log"] ** 2 + 1 / pri["sd_log"] ** 2)
            assert com["weight_local"] == pytest.approx(w)
            assert com["irr_low"] < com["irr"] < com["irr_high"]
        assert res.summary["prior_irr"] == pytest.approx(0.79)
        assert "exchangeable" in res.method and "youthendowmentfund.org.uk" in res.method
    # five districts (a large study) lean on their own data more than a 1.5 km circle does
    assert big.summary["weight_local"] > small.summary["weight_local"]


def test_cli_json_public_and_errors(store_copy, capsys):
    db = ["--db", str(store_copy)]
    capsys.readouterr()
    argv = [
        "evidence",
        "Medway Task Force",
        "--start",
        "2025-07",
        "--json",
        "--audience",
        "public",
        *db,
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["audience"] == "public" and doc["summary"]["strand"] == "focused_deterrence"
    assert {r["estimate"] for r in doc["main"]} == {"local", "prior", "combined"}
    assert doc["toolkit_entry"][0]["url"].startswith("https://youthendowmentfund.org.uk")
    assert "withheld" not in doc
    assert main(["evidence", "The Shed (Folkestone)", "--start", "2025-07", *db]) == 2
    assert "no evidence link" in capsys.readouterr().err
    assert main(["evidence", "Medway Task Force", *db]) == 2
    assert "no start month" in capsys.readouterr().err
    assert main(["evidence", "Medway Task Force", "--start", "2025-07", "--reach", "2", *db]) == 2


def test_report_section_applies_only_to_linked_dated_schemes(store_copy):
    ctx = dict(area="Kent", date_from=date(2025, 1, 1), date_to=date(2025, 12, 1))
    with Store.open(store_copy) as store:
        with pytest.raises(NotApplicable, match="none has a start month"):
            section.build(ReportContext(store, **ctx))
        store.execute(
            "UPDATE interventions SET start_month = DATE '2025-07-01' "
            "WHERE name IN ('St Giles Trust (east Kent)', 'The Shed (Folkestone)')"
        )
        try:
            sec = section.build(ReportContext(store, audience="public", **ctx))
            store.execute("UPDATE interventions SET evidence = NULL")
            with pytest.raises(NotApplicable, match="linked to a toolkit strand"):
                section.build(ReportContext(store, **ctx))
        finally:
            store_register(store, read_register(example_register_path()), example_register_path())
    assert "St Giles" in sec.html and "The Shed" not in sec.html
    assert sec.disclosure_checked
    from harmscope.privacy.audience import is_checked

    (table,) = sec.tables.values()
    assert is_checked(table) and list(table["estimate"][:3]) == ["local", "prior", "combined"]


def test_a_method_without_a_finite_interval_is_left_out_and_named():
    from harmscope.analysis.evaluation.evidence import shrink

    prior = prior_for("yef", "mentoring")
    results = [
        {"method": "did", "irr": 0.93, "irr_ci": [0.86, 1.00]},
        {"method": "synthetic_control", "irr": 0.96, "irr_ci": [0.0, math.inf]},
        {"method": "its", "irr": None, "irr_ci": None, "error": "too few months"},
    ]
    skipped: list[str] = []
    table = shrink(results, prior, skipped)
    assert list(dict.fromkeys(table["method"])) == ["did"]
    assert (
        len(skipped) == 2 and "synthetic_control" in skipped[0] and "too few months" in skipped[1]
    )
    local = table[table["estimate"] == "local"].iloc[0]
    assert (local["irr_low"], local["irr_high"]) == (0.86, 1.00)  # the method's own interval


def test_posterior_intervals_cover_planted_effects_drawn_from_the_prior():
    """Planted truth: effects drawn from the prior, local estimates drawn around them; the 95%
    posterior intervals cover the planted effect 95% of the time (the local interval alone
    does too, but is wider)."""
    prior = prior_for("yef", "sports_programmes")
    rng = np.random.default_rng(7)
    n, s = 20_000, 0.2
    theta = rng.normal(prior["mean"], prior["sd"], n)
    y = rng.normal(theta, s)
    post = [combine(prior["mean"], prior["sd"], yi, s) for yi in y]
    mean = np.array([p["mean"] for p in post])
    sd = post[0]["sd"]
    covered = np.abs(theta - mean) <= 1.959964 * sd
    se = math.sqrt(0.95 * 0.05 / n)  # Monte Carlo standard error of a 95% coverage
    assert abs(covered.mean() - 0.95) < 4 * se
    assert sd < s
