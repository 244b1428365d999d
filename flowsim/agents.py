"""Mesa agents: facilities (a few hundred objects) and thin ``Patient`` handles into the arrays.

Behaviour lives in the model's vectorised daily step; agents expose state for inspection and
for Mesa's AgentSet tools (``model.agents_by_type[CountyHospital]``, ``.agg``, ``.groupby``).
"""

from __future__ import annotations

import mesa

from flowsim.domain import TIERS, Tier
from flowsim.encounters import Total


class Facility(mesa.Agent):
    """A health facility; ``row`` indexes the model's facility arrays and ``county.facilities``."""

    tier: Tier

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = row
        spec = model.county.facilities.iloc[row]
        self.facility_id: str = spec.facility_id
        self.name: str = spec["name"]
        self.township: int = int(spec.township)
        self.outpatient_slots_per_day: int = int(spec.outpatient_slots_per_day)
        self.beds: int = int(spec.beds)

    @property
    def visits(self) -> int:
        """Outpatient visits (ordinary and chronic) so far in the run."""
        return int(self.model.facilities.totals[Total.VISITS, self.row])

    @property
    def admissions(self) -> int:
        """Admissions so far in the run."""
        return int(self.model.facilities.totals[Total.ADMISSIONS, self.row])

    @property
    def fund_income(self) -> float:
        """Insurance-fund payments received so far in the run, yuan."""
        return float(self.model.facilities.totals[Total.FUND, self.row])

    @property
    def occupied_beds(self) -> int:
        """Beds occupied at the end of the last simulated day."""
        return int(self.model.facilities.beds_occupied[self.row])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, tier={TIERS[self.tier]})"


class VillageClinic(Facility):
    """村卫生室: minor illness, 两病 follow-ups; no beds."""

    tier = Tier.VILLAGE


class TownshipHealthCenter(Facility):
    """乡镇卫生院: outpatient care, common admissions, rehabilitation after down-referral."""

    tier = Tier.TOWNSHIP


class CountyHospital(Facility):
    """县级医院: lead hospital of the county medical community (医共体)."""

    tier = Tier.COUNTY


class OutOfCountyHospital(Facility):
    """县域外医院: hospitals outside the county; capacity not limited."""

    tier = Tier.OUT_OF_COUNTY


FACILITY_CLASSES: dict[Tier, type[Facility]] = {
    c.tier: c for c in (VillageClinic, TownshipHealthCenter, CountyHospital, OutOfCountyHospital)
}


class Patient(mesa.Agent):
    """A resident: holds its row in the model's resident arrays and reads its state from them."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = row

    def _get(self, name: str):
        return getattr(self.model.residents, name)[self.row]

    village = property(lambda self: int(self._get("village")), doc="village row")
    age = property(lambda self: int(self._get("age")), doc="age in years")
    scheme = property(lambda self: int(self._get("scheme")), doc="Scheme code")
    income = property(lambda self: float(self._get("income")), doc="income, yuan per year")
    poverty = property(lambda self: int(self._get("poverty")), doc="Poverty code")
    contracted = property(lambda self: bool(self._get("contracted")), doc="family-doctor contract")
    certified = property(lambda self: bool(self._get("certified")), doc="两病 certified")
    last_tier = property(lambda self: int(self._get("last_tier")), doc="tier of last encounter")
    oop_year = property(lambda self: float(self._get("oop_year")), doc="out-of-pocket this year")
    in_hospital = property(lambda self: self._get("inpatient_at") >= 0, doc="admitted now")
    discharge_day = property(lambda self: int(self._get("discharge_day")),
                             doc="day of discharge from the current stay, -1 if not admitted")
