"""Stop-and-search scrutiny: outcome rates, fairness tests and whether searches follow violence.

Answers the Police and Crime Panel's questions with figures that carry their uncertainty:

- :func:`outcome_figures`: searches, arrest, any-action, no-further-action and find rates,
  overall and by month, legislation, object, age, gender, ethnicity and strip search, each
  with a Wilson interval;
- :func:`hit_rate_test`: the outcome test (find rates compared across groups);
- :func:`disproportionality`: searches per 1,000 residents by ethnicity against the White
  rate (needs a population table supplied by the user);
- :func:`ethnicity_agreement`: self- against officer-defined ethnicity, with Cohen's kappa;
- :func:`recording_breaks`: months where the outcome recording changed (a stated test), and
  :func:`rates_around_breaks`, the rates on each side of a break;
- :func:`intelligence_led`: the share of searches inside violence and weapons hot cells
  against the share of those offences there, with a concentration curve, and searches per
  offence by district.

All counting happens in DuckDB; only aggregated frames (or distinct snap points, for the
grid) come back to Python.

Modules: selection (months and force), mapping (outcome groups), searches (the searches CTE,
breakdowns and rates), breaks (recording breaks), outcomes, hit_rate, population_rates (disproportionality), agreement
(ethnicity and kappa), located / cells / curve / districts / intelligence (searches against
violence), charts (Vega-Lite) and combined (:func:`scrutiny`, everything for one period). Protecting
the results for an audience is the publishing path's job: :mod:`harmscope.privacy.stopsearch`.
"""

from harmscope.analysis.stopsearch.agreement import (
    AGREEMENT_METHOD,
    cohens_kappa,
    ethnicity_agreement,
)
from harmscope.analysis.stopsearch.breaks import (
    BREAKS_METHOD,
    rates_around_breaks,
    recording_breaks,
)
from harmscope.analysis.stopsearch.charts import monthly_rates_chart
from harmscope.analysis.stopsearch.combined import scrutiny
from harmscope.analysis.stopsearch.curve import (
    concentration_curve,
    concentration_index,
    curve_percentiles,
)
from harmscope.analysis.stopsearch.hit_rate import HIT_RATE_METHOD, hit_rate_test
from harmscope.analysis.stopsearch.intelligence import INTELLIGENCE_METHOD, intelligence_led
from harmscope.analysis.stopsearch.located import VIOLENCE_TYPES
from harmscope.analysis.stopsearch.mapping import GROUPS, UNMAPPED, load_outcome_mapping
from harmscope.analysis.stopsearch.outcomes import OUTCOME_METHOD, outcome_figures
from harmscope.analysis.stopsearch.population_rates import (
    DISPROPORTIONALITY_METHOD,
    POPULATION_FORMAT,
    disproportionality,
    load_population,
)
from harmscope.analysis.stopsearch.searches import (
    BROAD_ETHNICITY,
    DIMENSIONS,
    NOT_RECORDED,
    NOT_STATED,
    RATE_DEFINITIONS,
    RATES,
)
from harmscope.analysis.stopsearch.selection import Period, parse_month

# The names these had when stop and search was one module (the tests still use them).
_concentration_curve = concentration_curve
_concentration_index = concentration_index

__all__ = [
    "AGREEMENT_METHOD",
    "BREAKS_METHOD",
    "BROAD_ETHNICITY",
    "DIMENSIONS",
    "DISPROPORTIONALITY_METHOD",
    "GROUPS",
    "HIT_RATE_METHOD",
    "INTELLIGENCE_METHOD",
    "NOT_RECORDED",
    "NOT_STATED",
    "OUTCOME_METHOD",
    "POPULATION_FORMAT",
    "RATES",
    "RATE_DEFINITIONS",
    "UNMAPPED",
    "VIOLENCE_TYPES",
    "Period",
    "cohens_kappa",
    "concentration_curve",
    "concentration_index",
    "curve_percentiles",
    "disproportionality",
    "ethnicity_agreement",
    "hit_rate_test",
    "intelligence_led",
    "load_outcome_mapping",
    "load_population",
    "monthly_rates_chart",
    "outcome_figures",
    "parse_month",
    "rates_around_breaks",
    "recording_breaks",
    "scrutiny",
]
