"""Harm-weighted counts and rates by area and month (police.uk street data).

Harm = Σ weight(category) × count, with the weights of :mod:`harmscope.reference.offences`
(ONS Crime Severity Score or Cambridge Crime Harm Index, or a user's table). Counts are
aggregated in the engine (the query layer, :mod:`harmscope.store.queries.scope`) and only the
area × month × category cube comes back.

Intervals. Counts are treated as Poisson and populations as fixed. A count rate gets the
exact (Garwood) interval; a harm total Σ wᵢnᵢ gets the gamma interval of Fay & Feuer (1997,
Stat Med 16:791), the standard interval for a weighted sum of Poisson counts (it reduces to
Garwood when all weights are 1). Neither covers error in the weights or in the population.
Both live in :mod:`harmscope.analysis.intervals`, the one home of the codebase's intervals.

Modules: scope (an area name, months and categories resolved against the reference data;
the weights table), populations (residents per area), rates (rates with intervals and the
shared texts), _data (the store reads every analysis starts from: checked scope and weights,
the weighted cube, the LSOA frame with zeros), profile (:func:`harm_by_area`,
:func:`harm_trend`), codes (:func:`harm_from_codes`), compare (:func:`rural_urban`,
:func:`deprivation_gradient`, :func:`compare_forces`), smoothing
(:func:`smoothed_lsoa_rates`), concentration (:func:`concentration`) and sensitivity
(:func:`weight_sensitivity`: shares and rankings under every plausible weighting). Each imports only the
modules below it, never this ``__init__``, so the package has no import cycle.
"""

from harmscope.analysis.harm.codes import harm_from_codes
from harmscope.analysis.harm.compare import (
    MAX_COMPARISON_FORCES,
    RATIO_COLS,
    compare_forces,
    comparison_forces,
    deprivation_gradient,
    quasi_poisson,
    rural_urban,
)
from harmscope.analysis.harm.concentration import (
    TOP_PCTS,
    concentration,
    gini,
    lorenz,
    top_share,
    units_for_share,
)
from harmscope.analysis.harm.populations import LEVEL_KEYS, populations, scope_population
from harmscope.analysis.harm.profile import harm_by_area, harm_trend
from harmscope.analysis.harm.rates import (
    COUNT_RATE_COLS,
    HARM_RATE_COLS,
    HARM_SUMS,
    MIXED_NOTE,
    add_rates,
    coverage_note,
)
from harmscope.analysis.harm.scope import (
    LEVELS,
    Scope,
    check_category_names,
    check_level,
    require_area,
    resolve_scope,
    resolve_weights,
    scheme_name,
)
from harmscope.analysis.harm.sensitivity import (
    conclusions,
    scenario_weights,
    shares_by_scenario,
    weight_sensitivity,
)
from harmscope.analysis.harm.smoothing import eb_global, smoothed_lsoa_rates
from harmscope.analysis.intervals import garwood, log_ratio_ci, weighted_poisson_ci
from harmscope.months import parse_month, shift_year

__all__ = [
    "COUNT_RATE_COLS",
    "HARM_RATE_COLS",
    "HARM_SUMS",
    "LEVELS",
    "LEVEL_KEYS",
    "MAX_COMPARISON_FORCES",
    "MIXED_NOTE",
    "RATIO_COLS",
    "TOP_PCTS",
    "Scope",
    "add_rates",
    "check_category_names",
    "check_level",
    "compare_forces",
    "comparison_forces",
    "conclusions",
    "concentration",
    "coverage_note",
    "deprivation_gradient",
    "eb_global",
    "garwood",
    "gini",
    "harm_by_area",
    "harm_from_codes",
    "harm_trend",
    "log_ratio_ci",
    "lorenz",
    "parse_month",
    "populations",
    "quasi_poisson",
    "require_area",
    "resolve_scope",
    "resolve_weights",
    "rural_urban",
    "scenario_weights",
    "scheme_name",
    "scope_population",
    "shares_by_scenario",
    "shift_year",
    "smoothed_lsoa_rates",
    "top_share",
    "units_for_share",
    "weight_sensitivity",
    "weighted_poisson_ci",
]
