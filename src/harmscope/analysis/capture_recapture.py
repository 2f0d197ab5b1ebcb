"""Two-source capture-recapture: the Chapman estimator of a closed population's size.

With n1 people in source 1 (ED), n2 in source 2 (police) and m in both:

    N = (n1 + 1)(n2 + 1) / (m + 1) - 1                                   (Chapman 1951)
    Var(N) = (n1 + 1)(n2 + 1)(n1 - m)(n2 - m) / ((m + 1)^2 (m + 2))        (Seber 1970)

Two intervals are given: the normal (Wald) interval, and the log-transformed interval of
Chao (1987), which keeps the lower limit above the number actually seen (n1 + n2 - m) and
has better coverage when m is small. The headline ``N_ci`` is Chao's.

Assumptions (all four matter; each failure biases the estimate):
closed population over the period; independence of the two sources (being seen at ED does
not change the chance of being known to police); homogeneous capture in at least one source;
perfect linkage (no missed or false matches). Positive dependence (people who report are more
likely to attend ED) biases N down; missed links bias it up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

ASSUMPTIONS = (
    "closed population over the period (no one enters or leaves the pool of victims)",
    "independence: being seen at ED does not change the chance of being known to police",
    "homogeneous capture: in at least one of the two sources every victim has the same "
    "chance of being recorded",
    "perfect linkage: the shared pseudonym and date match every pair and only true pairs",
)


@dataclass
class ChapmanEstimate:
    n1: int
    n2: int
    m: int
    N: float
    var: float
    se: float
    ci_wald: tuple[float, float]
    ci: tuple[float, float]  # Chao (1987) log-transformed interval
    observed: int  # n1 + n2 - m, people seen by at least one source
    alpha: float = 0.05

    def as_dict(self) -> dict:
        return {
            "n_ed": self.n1,
            "n_police": self.n2,
            "n_both": self.m,
            "observed": self.observed,
            "N": self.N,
            "N_se": self.se,
            "N_ci": list(self.ci),
            "N_ci_wald": list(self.ci_wald),
            "unseen": self.N - self.observed,
            "share_known_to_police": self.n2 / self.N if self.N > 0 else None,
        }


def chapman(n1: int, n2: int, m: int, alpha: float = 0.05) -> ChapmanEstimate:
    """Chapman's estimate with its Seber variance, Wald interval and Chao interval."""
    n1, n2, m = int(n1), int(n2), int(m)
    if min(n1, n2, m) < 0 or m > min(n1, n2):
        raise ValueError(f"need 0 <= m <= min(n1, n2); got n1={n1}, n2={n2}, m={m}")
    z = float(stats.norm.ppf(1 - alpha / 2))
    N = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    var = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    se = math.sqrt(var)
    observed = n1 + n2 - m
    wald = (max(observed, N - z * se), N + z * se)
    f0 = N - observed  # estimated number seen by neither source
    if f0 > 0 and var > 0:
        c = math.exp(z * math.sqrt(math.log(1 + var / f0**2)))
        chao = (observed + f0 / c, observed + f0 * c)
    else:
        chao = (float(observed), float(N))
    return ChapmanEstimate(n1, n2, m, N, var, se, wald, chao, observed, alpha)
