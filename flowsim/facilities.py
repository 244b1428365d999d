"""The county's facilities as arrays: capacity, load and what each has done so far.

One row per facility (``County.facilities`` order); the Mesa facility agents (``flowsim.agents``)
read their row. Outpatient places are counted per day, beds as they are occupied and freed;
``allocate`` hands out places first come, first served and counts the patients turned away.
"""

from __future__ import annotations

import numpy as np

from flowsim.agents import FACILITY_CLASSES
from flowsim.choice import allocate
from flowsim.domain import GRASSROOTS, N_SCHEMES, UNLIMITED, Tier
from flowsim.encounters import Total


class Facilities:
    """Capacity and running totals of every facility.

    State:
        tier: [facility] tier code.
        slots, beds: [facility] outpatient places per day and beds (``UNLIMITED`` outside
            the county).
        beds_occupied: [facility] beds in use now.
        slots_left: [facility] outpatient places left today.
        visits_yesterday: [facility] outpatient visits of the previous day (crowding).
        turned_away: [facility] patients who found the facility full today.
        totals: [Total, facility] visits, admissions and yuan since the start of the run.
        agents: the facility agents (``flowsim.agents``), by row.
        quality: [tier] quality patients perceive, 0–1 (grows with reinvested surplus).
        catchment: [facility, scheme] residents a grassroots facility serves (capitation).
    """

    def __init__(self, model) -> None:
        fac = model.county.facilities
        self.tier = fac.tier_code.to_numpy(np.int64)
        outside = self.tier == Tier.OUT_OF_COUNTY
        self.slots = np.where(outside, UNLIMITED, fac.outpatient_slots_per_day.to_numpy(np.int64))
        self.beds = np.where(outside, UNLIMITED, fac.beds.to_numpy(np.int64))
        self.beds_occupied = np.zeros(len(fac), np.int64)
        self.slots_left = self.slots.copy()
        self.visits_yesterday = np.zeros(len(fac), np.int64)
        self.turned_away = np.zeros(len(fac), np.int64)
        self.totals = np.zeros((len(Total), len(fac)))
        self.quality = model.params.facilities.quality.copy()
        self.catchment = catchment_by_scheme(model)
        self.agents = [FACILITY_CLASSES[Tier(tier)](model, row)
                       for row, tier in enumerate(self.tier)]

    def __len__(self) -> int:
        return len(self.tier)

    def new_day(self) -> None:
        """Every outpatient place is free again; nobody has been turned away yet."""
        self.slots_left = self.slots.copy()
        self.turned_away = np.zeros(len(self), np.int64)

    def end_day(self) -> None:
        """Remember today's visits for tomorrow's crowding."""
        self.visits_yesterday = self.visits_today()

    def visits_today(self) -> np.ndarray:
        """[facility] outpatient visits so far today."""
        return self.slots - self.slots_left

    def allocate(self, weight, uniform, fac, capacity_left) -> tuple[np.ndarray, np.ndarray]:
        """``choice.allocate`` against ``capacity_left``, counting the patients turned away.

        Returns (pick, residual): the alternative each patient got (-1: none) and the residual
        uniform of their last choice.
        """
        pick, residual, away = allocate(weight, uniform, fac, capacity_left)
        self.turned_away += away
        return pick, residual

    def book_outpatient_places(self, fac: np.ndarray) -> None:
        """Take one outpatient place at each of facilities ``fac`` (one per visit)."""
        self.slots_left -= np.bincount(fac, minlength=len(self))

    def by_tier(self, values: np.ndarray) -> np.ndarray:
        """[tier] sums of a [facility] array, as integers."""
        return np.bincount(self.tier, weights=values, minlength=len(Tier)).astype(np.int64)

    def agents_in_decision_order(self) -> list:
        """The facility agents, county hospitals (the 医共体 lead) first, then by tier and row."""
        order = {Tier.COUNTY: 0, Tier.TOWNSHIP: 1, Tier.VILLAGE: 2, Tier.OUT_OF_COUNTY: 3}
        return sorted(self.agents, key=lambda a: (order[a.tier], a.row))

    def improve_grassroots(self, gain: float) -> None:
        """Raise grassroots quality by ``gain`` points (at most 1)."""
        self.quality[GRASSROOTS] = np.minimum(1.0, self.quality[GRASSROOTS] + gain)


def catchment_by_scheme(model) -> np.ndarray:
    """[facility, scheme] residents a grassroots facility serves (0 for other tiers).

    A village clinic serves its village; a township centre its township's villages.
    """
    r, fac = model.residents, model.county.facilities
    tier = fac.tier_code.to_numpy()
    n_villages = len(model.county.villages)
    by_village = np.bincount(r.village * N_SCHEMES + r.scheme,
                             minlength=N_SCHEMES * n_villages).reshape(n_villages, N_SCHEMES)
    township = model.county.villages.township.to_numpy()
    by_township = np.zeros((township.max() + 1, N_SCHEMES))
    np.add.at(by_township, township, by_village)
    out = np.zeros((len(fac), N_SCHEMES))
    clinic = tier == Tier.VILLAGE
    out[clinic] = by_village[fac.village.to_numpy()[clinic]]
    centre = tier == Tier.TOWNSHIP
    out[centre] = by_township[fac.township.to_numpy()[centre]]
    return out
