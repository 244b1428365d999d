"""Daily counters: every visit, admission, referral and yuan of a simulated day, by axis.

Axes use the codes of ``flowsim.domain``. Indicators (``flowsim.indicators``) and the tidy
daily table (``flowsim.results``) are computed from these arrays and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from flowsim.domain import N_QUINTILES, Direction, Payer, Scheme, Service, Tier

N_T, N_S, N_K = len(Tier), len(Service), len(Scheme)


@dataclass
class DayCounts:
    """Counts of one simulated day. Shapes are given as axis names."""

    visits: np.ndarray = field(default_factory=lambda: np.zeros((N_S, N_T, N_K), np.int64))
    # [service, tier, scheme] outpatient visits (inpatient row stays 0)
    admissions: np.ndarray = field(default_factory=lambda: np.zeros((N_T, N_K), np.int64))
    # [tier, scheme]
    money: np.ndarray = field(default_factory=lambda: np.zeros((len(Payer), N_S, N_T, N_K)))
    # [Payer, service, tier, scheme] yuan
    minor_episodes: np.ndarray = field(default_factory=lambda: np.zeros(N_K, np.int64))
    # [scheme] new acute minor episodes
    no_care: np.ndarray = field(default_factory=lambda: np.zeros(N_K, np.int64))
    # [scheme] minor episodes for which the patient sought no care
    serious_episodes: np.ndarray = field(default_factory=lambda: np.zeros(N_K, np.int64))
    # [scheme] new acute serious episodes of residents not already in hospital
    referrals: np.ndarray = field(
        default_factory=lambda: np.zeros((len(Direction), N_T, N_T), np.int64))
    # [Direction, from tier, to tier]
    turned_away: np.ndarray = field(default_factory=lambda: np.zeros(N_T, np.int64))
    # [tier] patients who found a facility full and went elsewhere
    occupied_beds: np.ndarray = field(default_factory=lambda: np.zeros(N_T, np.int64))
    # [tier] at the end of the day
    oop_by_quintile: np.ndarray = field(default_factory=lambda: np.zeros(N_QUINTILES))
    # [income quintile] yuan out of pocket
    fund_revenue: np.ndarray = field(default_factory=lambda: np.zeros(N_K))
    # [scheme] yuan of contributions accrued to the fund
    admissions_forgone: np.ndarray = field(default_factory=lambda: np.zeros(N_K, np.int64))
    # [scheme] serious episodes whose patient chose not to be admitted (应住院未住院)
    admissions_avoided: np.ndarray = field(default_factory=lambda: np.zeros(N_T, np.int64))
    # [tier] serious episodes a case-paid hospital treated as outpatients instead of admitting
    dip_points: np.ndarray = field(default_factory=lambda: np.zeros(N_T))
    # [tier] DIP points earned by admissions
    dip_standard: np.ndarray = field(default_factory=lambda: np.zeros(N_T))
    # [tier] yuan of DIP standards at the provisional point value


def stack(days: list[DayCounts]) -> dict[str, np.ndarray]:
    """Stack day records into arrays with a leading day axis."""
    return {f.name: np.stack([getattr(d, f.name) for d in days]) for f in fields(DayCounts)}
