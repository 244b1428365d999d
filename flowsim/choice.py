"""Facility choice: multinomial logit by inverse CDF, with capacity limits.

Patient i picks alternative j with probability ``w_j / Σ_k w_k`` (McFadden's multinomial logit,
``w_j = exp(V_j − c)`` for any c; ``flowsim.encounters.utilities``): the first j whose
cumulative weight exceeds ``U × Σ_k w_k`` for one uniform U per patient. Patients are served in
order; one who finds the chosen facility full drops that alternative and chooses again among the
rest. Each choice leaves a residual uniform, ``(U × Σ − W_<j) / w_j``: U's position within the
chosen alternative's slice, again U(0, 1) and independent of the choice, which drives the next
choice (a re-choice after a full facility, or a later referral). A patient's choices are thus a
function of their own draw and utilities: a reform changes choices, not the noise (common random
numbers).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from flowsim import encounters
from flowsim.domain import Tier

if TYPE_CHECKING:
    from flowsim.county import County


class Column(IntEnum):
    """Alternatives of a resident's choice set: the columns of ``choice_set``."""

    OWN_VILLAGE = 0  # the clinic of the resident's village
    OWN_TOWNSHIP = 1  # the centre of the resident's township
    OTHER_TOWNSHIP = 2  # the nearest other township centre
    COUNTY = 3  # the nearest county hospital
    OUT_OF_COUNTY = 4  # the nearest out-of-county hospital


CHOICE_TIERS = np.array([Tier.VILLAGE, Tier.TOWNSHIP, Tier.TOWNSHIP, Tier.COUNTY,
                         Tier.OUT_OF_COUNTY], dtype=np.int64)
"""[Column] tier of each alternative (read-only tier codes)."""
CHOICE_TIERS.setflags(write=False)
OWN_GRASSROOTS = np.isin(np.arange(len(Column)), [Column.OWN_VILLAGE, Column.OWN_TOWNSHIP])
"""[Column] the alternative is the resident's own village clinic or township centre."""
ALL_COLUMNS = np.arange(len(Column))
WITH_BEDS = np.array([c for c in Column if c != Column.OWN_VILLAGE])
"""Columns that can admit (village clinics have no beds)."""


def choice_set(county: County) -> np.ndarray:
    """Facilities each village's residents choose among, as facility rows.

    Returns:
        int32 ``[n_villages, Column]``: the village's own clinic, its own township health
        centre, the nearest *other* township centre by travel time, the nearest county hospital
        and the nearest out-of-county hospital; -1 where there is none (a village without a
        clinic, a county with one township, a county without out-of-county hospitals). Ties go
        to the lower facility row.
    """
    fac = county.facilities
    tier = fac["tier_code"].to_numpy()
    travel = county.travel_min
    choices = np.full((len(county.villages), len(Column)), -1, dtype=np.int32)

    clinics = np.flatnonzero(tier == Tier.VILLAGE)
    choices[fac["village"].to_numpy()[clinics], Column.OWN_VILLAGE] = clinics

    centres = np.flatnonzero(tier == Tier.TOWNSHIP)
    centre_of = np.full(max(county.n_townships, 1), -1, dtype=np.int64)
    centre_of[fac["township"].to_numpy()[centres]] = centres
    own = centre_of[county.villages["township"].to_numpy()]
    choices[:, Column.OWN_TOWNSHIP] = own
    if len(centres) > 1:
        minutes = travel[:, centres].astype(np.float64)
        minutes[centres[None, :] == own[:, None]] = np.inf
        choices[:, Column.OTHER_TOWNSHIP] = centres[np.argmin(minutes, axis=1)]

    for col in (Column.COUNTY, Column.OUT_OF_COUNTY):
        rows = np.flatnonzero(tier == CHOICE_TIERS[col])
        if len(rows):
            choices[:, col] = rows[np.argmin(travel[:, rows], axis=1)]
    return choices


@njit(cache=True)
def allocate(
    weight: np.ndarray,
    uniform: np.ndarray,
    facility: np.ndarray,
    capacity_left: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick an alternative per patient, first come (lowest index) first served.

    Args:
        weight: [k, n] logit weights ≥ 0; 0 marks an unavailable
            alternative.
        uniform: [n] U(0, 1) draws, one per patient.
        facility: [k', n] facility row of each of the first k' ≤ k alternatives; -1, or an
            alternative beyond the first k' (e.g. no care), has no capacity limit.
        capacity_left: [n_facilities] places left today (not modified).

    Returns:
        (pick, residual, turned_away): pick[n] alternative chosen, -1 if nothing was
        available; residual[n] the residual uniform of the patient's last choice;
        turned_away[n_facilities] patients turned away by each facility (one per full
        facility tried).
    """
    k, n = weight.shape
    left = capacity_left.copy()
    turned_away = np.zeros(len(capacity_left), np.int64)
    pick = np.full(n, -1, np.int64)
    residual = uniform.copy()
    w = np.empty(k)
    for i in range(n):
        total = 0.0
        for j in range(k):
            w[j] = weight[j, i]
            total += w[j]
        u = uniform[i]
        while total > 0.0:
            target = u * total
            below = 0.0
            chosen = -1
            for j in range(k):
                if w[j] > 0.0:
                    chosen = j  # the last available one, should rounding leave target ≥ total
                    if target < below + w[j]:
                        break
                    below += w[j]
            u = min(max((target - below) / w[chosen], 0.0), 1.0)
            f = facility[chosen, i] if chosen < facility.shape[0] else -1
            if f < 0 or left[f] > 0:
                if f >= 0:
                    left[f] -= 1
                pick[i] = chosen
                residual[i] = u
                break
            turned_away[f] += 1
            total -= w[chosen]
            w[chosen] = 0.0
    return pick, residual, turned_away


# -- the choice model of a county ----------------------------------------------------------------


class Chooser:
    """Nested-logit choice of whether and where to seek care, for a county.

    State:
        alternatives: [Column, village] facility row of each alternative (-1: none).
        own_facilities: [2, village] the village's clinic and township centre (where a
            contracted resident's family doctor works).
        travel_min: [village, Column] minutes to each alternative (inf: none).
        fixed: {inpatient: ([column, village] tier constant − travel, [column, village] rows)}.
        referrer: ``encounters.ReferralPath``: where each village's residents get a referral.

    Utility of a facility (``encounters.utilities``), in utils: tier constant
    + quality_x_severity × quality × severity − travel_per_hour × hours
    − β_service × cost sensitivity × OOP − crowding × yesterday's load + family doctor + habit,
    with β_service = ``cost_per_100_yuan`` / 100 of the claim's service. Seeking care is a nest
    of the facilities (dissimilarity μ) beside going without, whose utility is a constant that
    depends on no price (``encounters.care_nest``): making one facility dearer moves patients to
    the others and, through the nest's inclusive value, a little out of care, never away from
    the other facilities.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.params = p = model.params.choice
        county = model.county
        alternatives = choice_set(county).astype(np.int64)
        self.alternatives = np.ascontiguousarray(alternatives.T)
        self.own_facilities = np.ascontiguousarray(
            self.alternatives[[Column.OWN_VILLAGE, Column.OWN_TOWNSHIP]])
        villages = np.arange(len(county.villages))[:, None]
        self.travel_min = np.where(alternatives >= 0,
                                   county.travel_min[villages, np.maximum(alternatives, 0)],
                                   np.inf)
        self.cost_per_yuan = p.cost_per_100_yuan / 100  # [service]
        self.fixed = {inpatient: self._fixed_utility(inpatient) for inpatient in (False, True)}
        self.referrer = self._referrer()
        self.taste = encounters.Taste(self.cost_per_yuan, float(p.family_doctor), float(p.habit))
        self._outpatient_day: int | None = None  # the day ``_outpatient_table`` was built for
        self._outpatient_table: np.ndarray | None = None

    def of(self, records: np.ndarray) -> np.ndarray:
        """[Column, n] facility rows of the choice sets of residents with ``records``."""
        return self.alternatives.take(records["village"], axis=1)

    def weights(self, records, fac, severity, service, bill, *, inpatient=False, emergency=None,
                without_care=None) -> tuple[np.ndarray, np.ndarray]:
        """Choice weights and paths for residents with ``records`` choosing among ``fac`` [k, n].

        ``fac`` are the hospitals (``WITH_BEDS`` columns) if ``inpatient``, else every column;
        ``bill`` [k] yuan per alternative; ``service`` a scalar or [k, n]; ``emergency`` [n]
        (default none). Within the care nest the weights are exp((V − top) / μ). With
        ``without_care`` (the constant of no care or of not being admitted) a last row holds
        going without, and the rows become choice probabilities (``encounters.care_nest``).

        Returns:
            (weight [k (+ 1), n] float32, referred [k, n] bool: the alternative is reached
            through a grassroots referral, ``encounters.utilities``).
        """
        m = self.model
        cols = WITH_BEDS if inpatient else ALL_COLUMNS
        tiers = CHOICE_TIERS[cols]
        k, n = fac.shape
        weight = np.empty((k + (without_care is not None), n), np.float32)
        v, top = weight[:k], np.empty(n)
        referred = np.zeros((k, n), np.bool_)
        emergency = np.zeros(n, bool) if emergency is None else emergency
        encounters.utilities(
            m.rules.tables, records, fac, tiers, OWN_GRASSROOTS[cols],
            self.village_utility(inpatient),
            m.facilities.quality[tiers] * self.params.quality_x_severity,
            severity, as_column(service, (k, n), np.int8), np.asarray(bill, np.float64),
            emergency, self.taste, self.referrer, m.rules.gatekept, v, top, referred)
        mu = self.params.care_nest_dissimilarity
        if mu != 1.0:
            v /= np.float32(mu)
        np.exp(v, out=v)
        if without_care is not None:
            encounters.care_nest(weight, top, float(without_care), float(mu), emergency)
        return weight, referred

    def village_utility(self, inpatient: bool) -> np.ndarray:
        """[alternative, village] utility shared by a village's residents today.

        tier constant − travel_per_hour × hours − crowding × yesterday's load (visits / slots, or
        occupied / beds); −inf where the village has no such alternative. The
        outpatient table depends only on yesterday's visits: built once a day.
        """
        if inpatient:
            return self._village_table(True)
        if self._outpatient_day != self.model.day:
            self._outpatient_day = self.model.day
            self._outpatient_table = self._village_table(False)
        return self._outpatient_table

    def _village_table(self, inpatient: bool) -> np.ndarray:
        f = self.model.facilities
        used, capacity = ((f.beds_occupied, f.beds) if inpatient else (f.visits_yesterday, f.slots))
        load = used / np.maximum(capacity, 1)
        fixed, fac = self.fixed[inpatient]
        return fixed - self.params.crowding * load[fac]

    def _fixed_utility(self, inpatient: bool) -> tuple[np.ndarray, np.ndarray]:
        """(tier constant − travel, −inf where missing; facility, 0 where missing)."""
        p = self.params
        tier_constant = p.inpatient_tier_constant if inpatient else p.outpatient_tier_constant
        cols = WITH_BEDS if inpatient else ALL_COLUMNS
        fac = self.alternatives[cols]
        fixed = (tier_constant[CHOICE_TIERS[cols]][:, None]
                 - p.travel_per_hour * self.travel_min.T[cols] / 60)
        return np.where(fac >= 0, fixed, -np.inf), np.maximum(fac, 0)

    def _referrer(self) -> encounters.ReferralPath:
        """Each village's grassroots referrer: its clinic, else its township centre.

        Burden = travel_per_hour × (minutes there / 60 + referral_visit_hours), in utils.
        """
        p = self.params
        clinic = self.alternatives[Column.OWN_VILLAGE]
        column = np.where(clinic >= 0, Column.OWN_VILLAGE, Column.OWN_TOWNSHIP)
        villages = np.arange(clinic.size)
        facility = self.alternatives[column, villages]
        tier = np.where(facility >= 0, CHOICE_TIERS[column], -1).astype(np.int64)
        hours = self.travel_min[villages, column] / 60 + p.referral_visit_hours
        burden = p.travel_per_hour * hours
        bill = self.model.params.facilities.outpatient_bill[np.maximum(tier, 0)]
        return encounters.ReferralPath(facility.astype(np.int64), tier,
                                       np.ascontiguousarray(bill, np.float64),
                                       np.where(facility >= 0, burden, np.inf))


def as_column(x, shape, dtype) -> np.ndarray:
    """``x`` as a contiguous array of ``shape`` and ``dtype`` (a scalar is repeated)."""
    if np.ndim(x) == 0:
        return np.full(shape, x, dtype)
    return np.ascontiguousarray(x, dtype)
