"""``CountyModel``: one county's health system as a Mesa 3 model; one step = one day.

Build: county geography → residents (arrays, + ``Patient`` handles) → facilities (Mesa agents and
their arrays) → the rules in force on the start date, with a scheduled event at every later date
on which a policy value changes and at every new insurance year. The model is made of parts,
each with one job and its own state:

- ``facilities`` (``flowsim.facilities.Facilities``): capacity, load and running totals;
- ``chooser`` (``flowsim.choice.Chooser``): the logit choice of a facility or of going without;
- ``illness`` (``flowsim.illness.Illness``): who falls ill, how badly, bill noise;
- ``minor``, ``chronic`` (``flowsim.outpatient``): outpatient stages;
- ``admissions``, ``stays`` (``flowsim.inpatient``): the inpatient stage and stays in progress;
- ``settlements`` (``flowsim.community.Settlements``): capitation and year-end settlements;
- ``providers`` (``flowsim.providers.Providers``): what the facility agents decide, once a month
  (Mesa recurring event) and when new rules take effect, and the lead hospital's view of the
  budget year.

Daily step, in this fixed order (``step``): discharges, minor episodes, 两病 follow-ups,
admissions. Every encounter is priced by ``flowsim.policy.claim_for`` in the compiled loops of
``flowsim.encounters`` and lands in the day's ``DayCounts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import mesa
import numpy as np
import pandas as pd

from flowsim import encounters
from flowsim.agents import Patient
from flowsim.choice import Chooser
from flowsim.community import Settlements
from flowsim.config import Scenario, load_scenario, resolve
from flowsim.counters import DayCounts, stack
from flowsim.county import County
from flowsim.csv_county import load_county_csv
from flowsim.domain import (
    CATASTROPHIC_SHARE,
    DAYS_PER_YEAR,
    N_QUINTILES,
    N_SCHEMES,
    UNLIMITED,
    Tier,
)
from flowsim.encounters import MEASURES
from flowsim.facilities import Facilities
from flowsim.illness import Illness
from flowsim.inpatient import Admissions, Stays
from flowsim.outpatient import ChronicFollowups, MinorEpisodes
from flowsim.policy import Rules
from flowsim.population import build_residents
from flowsim.providers import Providers
from flowsim.streams import Streams
from flowsim.synthetic_county import generate_county

PATIENT_AGENTS_UP_TO = 50_000
"""Populations up to this size get a ``Patient`` agent per resident at build; larger ones get
them on demand (``model.patient(row)``): 500,000 Mesa agents would cost ~3 s and ~460 B each."""
PARAMETER_SECTIONS = ("facilities", "choice", "illness", "responses", "community", "providers")
"""Scenario sections resolved once, on the start date (``CountyModel.params``)."""


class CountyModel(mesa.Model):
    """A county's residents, facilities and insurance rules.

    Args:
        scenario: a loaded ``Scenario`` (default: the built-in baseline county).
        seed: random seed; the same seed and scenario give identical results.
        patient_agents: create a ``Patient`` agent per resident (default: only when the
            population is at most ``PATIENT_AGENTS_UP_TO``).

    State:
        day: days simulated so far (the index of the day the next step simulates).
        rules: the policy in force (``flowsim.policy.Rules``), replaced on change dates.
        params: the undated sections (``PARAMETER_SECTIONS``) resolved on the start date.
        today: the counters of the day in progress (``DayCounts``); day_counts: every day's.
        books: where the compiled loops book today's encounters (``encounters.Books``).
        years: outcomes of each insurance year closed so far.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        seed: int | None = None,
        patient_agents: bool | None = None,
    ) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        super().__init__(rng=seed)
        self.seed = seed
        self.config = scenario if scenario is not None else load_scenario()
        self.streams = Streams(seed)
        self.start_date: date = self.config.start_date
        self.day = 0
        self.params = SimpleNamespace(**{name: resolve(getattr(self.config, name), self.start_date)
                                         for name in PARAMETER_SECTIONS})
        self.rules = Rules(self.config, self.start_date)
        self.county = build_county(self.config, self.streams.on("county"))
        self.residents = build_residents(self.config.population,
                                         self.county.villages.population.to_numpy(),
                                         self.streams.on("population"))
        self._set_cost_sensitivity()
        self.members = np.bincount(self.residents.scheme, minlength=N_SCHEMES)
        self.facilities = Facilities(self)
        n = len(self.residents)
        if patient_agents if patient_agents is not None else n <= PATIENT_AGENTS_UP_TO:
            Patient.create_agents(self, n, np.arange(n))
        self._patients: dict[int, Patient] = {}
        self.chooser = Chooser(self)
        self.illness = Illness(self)
        self.minor = MinorEpisodes(self)
        self.chronic = ChronicFollowups(self)
        self.stays = Stays(self)
        self.admissions = Admissions(self)
        self.settlements = Settlements(self)
        self.day_counts: list[DayCounts] = []
        self.years: list[dict] = []
        self.chronic.certify()
        for d in self.config.change_dates():
            self.schedule_event(self._apply_rules, at=(d - self.start_date).days)
        self._schedule_year_end()
        self.providers = Providers(self)
        self.providers.schedule()

    def _set_cost_sensitivity(self) -> None:
        """Cost sensitivity = (median income / income) ^ η, clipped to [0.2, 5] before the power."""
        r = self.residents
        median = self.config.population.income_median.value
        r.table["cost_sensitivity"] = np.clip(median / r.income, 0.2, 5.0) ** (
            self.params.choice.income_elasticity)

    # -- time ----------------------------------------------------------------------------------

    @property
    def date(self) -> date:
        """Calendar date of ``day``."""
        return self.start_date + timedelta(days=self.day)

    def _apply_rules(self) -> None:
        """Put the rules in force on ``self.date`` (scheduled at every change date)."""
        self.rules = Rules(self.config, self.date)
        self.chronic.certify()

    def _schedule_year_end(self) -> None:
        next_year = date(self.date.year + 1, 1, 1)
        self.schedule_event(self._close_year, at=(next_year - self.start_date).days)

    def _close_year(self) -> None:
        """Record the insurance year's outcomes, settle it, start the next.

        The 医共体 settlement's retained, reinvested surplus raises grassroots quality and
        capability (``Providers.settled``).
        """
        self.years.append(self.year_outcomes())
        year = self.day_counts[self.settlements.year_start:]
        row = self.settlements.close_year(year, self.date - timedelta(days=1))
        if row is not None:
            if row["quality_gain"] > 0:
                self.facilities.improve_grassroots(row["quality_gain"])
            self.providers.settled(row)
        self.settlements.year_start = len(self.day_counts)
        self.residents.reset_year()
        self._schedule_year_end()

    def year_outcomes(self) -> dict:
        """Catastrophic expenditure and out-of-pocket of the insurance year so far.

        Catastrophic: out-of-pocket ≥ CATASTROPHIC_SHARE (40 %) of capacity to pay, where
        capacity to pay = income × (1 − subsistence_share) (per resident, individual income).
        """
        r = self.residents
        capacity = r.income * (1 - self.config.population.subsistence_share.value)
        catastrophic = r.oop_year >= CATASTROPHIC_SHARE * capacity
        return {
            "year": (self.date - timedelta(days=1)).year,
            "days": self.day - sum(y["days"] for y in self.years),
            "residents": len(r),
            "catastrophic": int(catastrophic.sum()),
            "catastrophic_by_quintile": np.bincount(r.quintile[catastrophic],
                                                    minlength=N_QUINTILES),
            "residents_by_quintile": np.bincount(r.quintile, minlength=N_QUINTILES),
            "oop": float(r.oop_year.sum(dtype=np.float64)),
        }

    # -- the day -------------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day: its stages in a fixed order."""
        self._open_day()
        if self.rules.payment.outpatient_capitation.any():
            self.settlements.pay_capitation()
        self.stays.discharge()
        self.minor.step()
        self.chronic.step()
        self.admissions.step()
        self._close_day()

    def _open_day(self) -> None:
        """New counters and free outpatient places; the fund accrues today's contributions."""
        self.today = t = DayCounts()
        f = self.facilities
        f.new_day()
        self.books = encounters.Books(
            self.residents.table, f.tier, self.rules.payment.outpatient_capitation, t.money,
            t.visits, t.admissions, t.oop_by_quintile, f.turned_away, f.totals,
            self.settlements.capitation_cost)
        t.fund_revenue += self.rules.fund.contribution * self.members / DAYS_PER_YEAR

    def _close_day(self) -> None:
        """Patients turned away and beds occupied by tier; keep the day's counters."""
        f = self.facilities
        self.today.turned_away += f.by_tier(f.turned_away)
        self.today.occupied_beds += f.by_tier(np.minimum(f.beds_occupied, UNLIMITED))
        self.day_counts.append(self.today)
        f.end_day()
        self.day += 1

    # -- inspection ----------------------------------------------------------------------------

    def patient(self, row: int) -> Patient:
        """The ``Patient`` agent of resident ``row`` (created on first request at full scale)."""
        if row not in self._patients:
            existing = self.agents_by_type.get(Patient)
            if existing is not None and len(existing) == len(self.residents):
                self._patients = {p.row: p for p in existing}
            else:
                self._patients[row] = Patient(self, row)
        return self._patients[row]

    def record(self) -> RunRecord:
        """What the run produced so far, for ``flowsim.results.Results.from_record``."""
        if not self.day_counts:
            raise ValueError("the model has not simulated any day yet: call run_for(days) first")
        fac = self.county.facilities[["facility_id", "name", "tier", "township", "x_km", "y_km",
                                      "outpatient_slots_per_day", "beds"]].copy()
        for name, values in zip(MEASURES, self.facilities.totals, strict=True):
            fac[name] = values
        fac["settlements"] = self.settlements.settled
        fac["cost"] = self.params.providers.cost_to_charge[self.facilities.tier] * fac["bill"]
        f = self.facilities
        return RunRecord(
            scenario=self.config,
            seed=self.seed,
            start_date=self.start_date,
            counts=stack(self.day_counts),
            years=[*self.years, {**self.year_outcomes(), "partial": True}],
            facilities=fac,
            residents=len(self.residents),
            residents_by_quintile=np.bincount(self.residents.quintile,
                                              minlength=N_QUINTILES).tolist(),
            members_by_scheme=self.members.tolist(),
            beds_by_tier=[int(f.beds[f.tier == t].sum()) if t != Tier.OUT_OF_COUNTY else 0
                          for t in Tier],
            settlements=list(self.settlements.community.settlements),
            dip_settlements=list(self.settlements.dip),
            capitation_settlements=list(self.settlements.capitation),
            decisions=list(self.providers.log),
        )


@dataclass(frozen=True)
class RunRecord:
    """A run's output as plain data: what ``CountyModel.record`` hands to ``Results``.

    ``counts``: every ``DayCounts`` field stacked with a leading day axis; ``years``: outcomes
    per insurance year (``CountyModel.year_outcomes``), the last one the year in progress
    (``partial``); ``facilities``: one row per facility with its totals (``encounters.Total``);
    settlements: rows of the year-end settlement tables (``flowsim.community``); ``decisions``: the
    lead hospital's monthly decisions (``flowsim.providers.Providers.log``).
    """

    scenario: Scenario
    seed: int
    start_date: date
    counts: dict[str, np.ndarray]
    years: list[dict]
    facilities: pd.DataFrame
    residents: int
    residents_by_quintile: list[int]
    members_by_scheme: list[int]
    beds_by_tier: list[int]
    settlements: list[dict]
    dip_settlements: list[dict]
    capitation_settlements: list[dict]
    decisions: list[dict]

    @property
    def days(self) -> int:
        """Days simulated."""
        return len(next(iter(self.counts.values())))


def build_county(scenario: Scenario, rng: np.random.Generator) -> County:
    """The county of ``scenario``: generated, or read from its CSV files."""
    c = scenario.county
    if c.synthetic is not None:
        return generate_county(c.name, c.synthetic, scenario.facilities.capacity_per_1000, rng)
    return load_county_csv(c.name, c.csv, scenario.file.parent if scenario.file else Path.cwd())
