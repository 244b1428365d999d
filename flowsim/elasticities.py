"""Price elasticities of use, measured as a researcher would: paired runs of a price rise.

A scenario and the same scenario with some bills raised run with the same seed (common random
numbers), so that the difference is the price response and not noise. Arc (midpoint)
elasticities: ε = (ΔQ / Q̄) / (ΔP / P̄).

- ``participation``: the care-seeking episodes (minor episodes seen by a facility, serious
  episodes admitted) against the mean out-of-pocket per visit or admission, under a rise of
  every tier's bills: the elasticity of the decision to seek care (TARGETS: rural −0.52 for a
  first outpatient visit, −0.37 for a first admission).
- ``by_tier``: patients choosing each tier against one tier's bill (own- and cross-price).
"""

from __future__ import annotations

import numpy as np

from flowsim.config import Scenario
from flowsim.domain import TIERS, Payer, Service
from flowsim.indicators import Window

SERVICES = ("outpatient", "inpatient")
"""The services whose prices are raised: ordinary outpatient visits, admissions."""
BILL = {"outpatient": "outpatient_bill", "inpatient": "admission_bill"}
_CODE = {"outpatient": Service.OUTPATIENT, "inpatient": Service.INPATIENT}
"""The scenario parameter holding each service's bills by tier (``facilities.<name>``)."""


def raised(scenario: Scenario, service: str, tiers: tuple[str, ...] = TIERS,
           change: float = 0.10) -> Scenario:
    """``scenario`` with the bills of ``service`` at ``tiers`` raised by ``change`` (0.1: 10 %)."""
    bills = getattr(scenario.facilities, BILL[service]).value
    return scenario.with_overrides({
        f"facilities.{BILL[service]}.value.{t}": getattr(bills, t) * (1 + change) for t in tiers})


def arc(q0: float, q1: float, p0: float, p1: float) -> float:
    """Arc (midpoint) elasticity of Q with respect to P."""
    return ((q1 - q0) / ((q1 + q0) / 2)) / ((p1 - p0) / ((p1 + p0) / 2))


def care_sought(w: Window, service: str) -> float:
    """Episodes that sought care: minor episodes seen by a facility, or serious ones admitted."""
    if service == "outpatient":
        return float(w.minor_episodes.sum() - w.no_care.sum())
    return float(w.serious_episodes.sum() - w.admissions_forgone.sum())


def use_by_tier(w: Window, service: str) -> np.ndarray:
    """[tier] patients who chose the tier for a minor episode, or for a serious one.

    Their own choices (``counters`` ``choices``): the visits and admissions that referrals and
    transfers add later follow from these.
    """
    return w.choices[_CODE[service]].astype(float)


def out_of_pocket_per_unit(w: Window, service: str) -> float:
    """Mean out-of-pocket per ordinary outpatient visit, or per admission, yuan."""
    code = _CODE[service]
    units = w.visits[code].sum() if service == "outpatient" else w.admissions.sum()
    return float(w.money[Payer.PATIENT, code].sum() / units)


def participation(base: Window, rise: Window, service: str) -> float:
    """Arc elasticity of care-seeking episodes w.r.t. the mean out-of-pocket per unit of care."""
    return arc(care_sought(base, service), care_sought(rise, service),
               out_of_pocket_per_unit(base, service), out_of_pocket_per_unit(rise, service))


def by_tier(base: Window, rise: Window, service: str, change: float = 0.10) -> np.ndarray:
    """[tier] arc elasticities of use at each tier w.r.t. the raised bill (+``change``)."""
    q0, q1 = use_by_tier(base, service), use_by_tier(rise, service)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.array([arc(a, b, 1.0, 1.0 + change) if a + b > 0 else np.nan
                         for a, b in zip(q0, q1, strict=True)])


