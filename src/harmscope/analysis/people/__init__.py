"""Analyses of people in a force crime extract (tables ``crimes``, ``persons_in_crimes``).

Every function takes a store and returns a :class:`~harmscope.analysis.result.Result`. All
person-level tables (rankings, flags) are internal only: presenters publish aggregates for
partner/public audiences through :mod:`harmscope.privacy.publish` (see ``commands/people.py``).
Any flag or ranking of people comes with a transparency record (``transparency.py``).
"""

from harmscope.analysis.people.harm import offence_harm
from harmscope.analysis.people.knife import knife_enabled
from harmscope.analysis.people.power_few import power_few
from harmscope.analysis.people.profile import people_profile
from harmscope.analysis.people.repeat import repeat_victimisation, victim_offender_overlap
from harmscope.analysis.people.rfg import rfg_ranking
from harmscope.analysis.people.timing import time_profile
from harmscope.analysis.people.young import young_people

__all__ = [
    "knife_enabled",
    "offence_harm",
    "people_profile",
    "power_few",
    "repeat_victimisation",
    "rfg_ranking",
    "time_profile",
    "victim_offender_overlap",
    "young_people",
]
