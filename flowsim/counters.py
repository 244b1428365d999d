"""Daily counters: every visit, admission, referral and yuan of a simulated day, by axis.

Each counter is declared once in ``COUNTERS`` by the names of its axes (``AXES``); the day's
arrays (``DayCounts``), the tidy daily table (``flowsim.results``) and the summed window the
indicators read (``flowsim.indicators.Window``) follow from that declaration.
"""

from __future__ import annotations

import numpy as np

from flowsim.domain import (
    DIRECTIONS,
    N_QUINTILES,
    PAYERS,
    ROUTES,
    SCHEMES,
    SERVICES,
    TIERS,
)

AXES: dict[str, tuple[str, ...]] = {
    "service": SERVICES,
    "tier": TIERS,
    "to_tier": TIERS,
    "scheme": SCHEMES,
    "payer": PAYERS,
    "direction": DIRECTIONS,
    "route": ROUTES,
    "quintile": tuple(f"q{q + 1}" for q in range(N_QUINTILES)),
}
"""Axis name → the labels of its positions (codes of ``flowsim.domain``)."""

COUNTERS: dict[str, tuple[tuple[str, ...], type, str]] = {
    "visits": (("service", "tier", "scheme"), np.int64,
               "outpatient visits (the inpatient row stays 0)"),
    "admissions": (("tier", "scheme"), np.int64, "admissions, including transfers and rehab"),
    "money": (("payer", "service", "tier", "scheme"), np.float64, "yuan by payer (Payer)"),
    "minor_episodes": (("scheme",), np.int64, "new acute minor episodes"),
    "no_care": (("scheme",), np.int64, "minor episodes for which no care was sought"),
    "serious_episodes": (("scheme",), np.int64,
                         "new acute serious episodes of residents not already in hospital"),
    "referrals": (("direction", "tier", "to_tier"), np.int64, "referrals between tiers"),
    "turned_away": (("tier",), np.int64, "patients who found a facility full and went elsewhere"),
    "occupied_beds": (("tier",), np.int64, "beds occupied at the end of the day (bed-days)"),
    "oop_by_quintile": (("quintile",), np.float64, "yuan out of pocket by income quintile"),
    "fund_revenue": (("scheme",), np.float64, "yuan of contributions accrued to the fund"),
    "admissions_forgone": (("scheme",), np.int64,
                           "serious episodes not admitted by choice (应住院未住院)"),
    "admissions_avoided": (("tier",), np.int64,
                           "serious episodes a case-paid hospital treated as outpatients"),
    "stays_by_route": (("route", "tier"), np.int64,
                       "inpatient stays begun: new admissions, transfers (上转) and "
                       "rehabilitation stays (下转), by the tier admitting"),
    "dip_points": (("tier",), np.float64, "DIP points earned by admissions"),
    "dip_standard": (("tier",), np.float64, "yuan of DIP standards at the provisional value"),
    "choices": (("service", "tier"), np.int64,
                "patients' own choices of a facility: minor episodes (outpatient), 两病 follow-ups "
                "(by the benefit claimed), serious episodes (inpatient); no referral or transfer"),
    "first_contact": (("tier",), np.int64,
                      "episodes that sought care (minor, or serious and admitted) by the tier of "
                      "their first contact (a referral visit, or the facility itself)"),
    "gatekeeping_referrals": (("service", "tier"), np.int64,
                              "referral visits at a grassroots facility (基层首诊), by the service "
                              "and tier they refer to"),
    "bypass": (("service", "tier"), np.int64,
               "visits and admissions at a tier penalised without a referral, made without one "
               "(emergencies excepted)"),
}
"""Counter name → (axes, dtype, what it counts). Add a counter here, then increment it in the
stage that sees it and read it in an indicator."""


class DayCounts:
    """The counters of one simulated day: one zero array per ``COUNTERS`` entry, by its axes."""

    def __init__(self) -> None:
        for name, (axes, dtype, _) in COUNTERS.items():
            setattr(self, name, np.zeros(tuple(len(AXES[a]) for a in axes), dtype))


def stack(days: list[DayCounts]) -> dict[str, np.ndarray]:
    """Stack day records into arrays with a leading day axis."""
    return {name: np.stack([getattr(d, name) for d in days]) for name in COUNTERS}
