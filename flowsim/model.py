"""``CountyModel``: one county's health system as a Mesa 3 model; one step = one day.

Build: county geography → facility agents → resident arrays (+ ``Patient`` handles) → the rules
in force on the start date, with a scheduled event at every later date on which a policy value
changes and at every new insurance year. Daily step, in this fixed order:

1. ``_discharge``: beds freed by today's discharges;
2. ``_minor_episodes``: acute minor illness → outpatient choice (or no care) → referral up if
   the facility cannot treat the severity;
3. ``_chronic_followups``: 两病 patients due for a refill → outpatient choice, chronic benefits
   where certified and the tier may claim them;
4. ``_admissions``: upward transfers (上转) and downward rehabilitation referrals (下转) due
   today, then new acute serious episodes choosing among hospitals with a free bed; all
   admitted as one batch.

Every encounter is priced by ``flowsim.policy.claim_for`` in the compiled loops of
``flowsim.encounters`` and lands in ``DayCounts``.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from pathlib import Path

import mesa
import numpy as np
import scipy.special
from numba import njit

from flowsim import encounters, payment
from flowsim.agents import FACILITY_CLASSES, Patient
from flowsim.benefits import Claim
from flowsim.choice import CHOICE_TIERS, allocate, choice_set
from flowsim.community import CommunityBudget, settle_capitation, settle_dip
from flowsim.config import Scenario, load_scenario, resolve
from flowsim.counters import DayCounts
from flowsim.county import County
from flowsim.csv_county import load_county_csv
from flowsim.domain import CATASTROPHIC_SHARE, GRASSROOTS, Referral, Service, Tier
from flowsim.policy import provider_payment, rules_on
from flowsim.population import build_residents
from flowsim.streams import Streams
from flowsim.synthetic_county import generate_county

PATIENT_AGENTS_UP_TO = 50_000
"""Populations up to this size get a ``Patient`` agent per resident at build; larger ones get
them on demand (``model.patient(row)``): 500,000 Mesa agents would cost ~3 s and ~460 B each."""
MAX_STAY_DAYS = 120
"""Length-of-stay ceiling (days)."""
UNLIMITED = 10**9
SEVERITY_GRID = 4096
"""Steps of the tabulated severity quantile function (``beta_by_table``)."""
NOISE_GRID = 4096
"""Equally likely values of the bill noise (``bill_noise_table``)."""

STAY = np.dtype([("row", np.int64), ("facility", np.int64), ("discharge", np.int64),
                 ("then", np.int8), ("severity", np.float64), ("deductible_paid", np.float64),
                 ("emergency", np.bool_)])
"""An inpatient stay in progress: resident row, facility, day of discharge, and what follows
it (``then``, a ``Referral`` code: UP a transfer to a higher tier, DOWN rehabilitation at the
resident's township centre, NONE home), with what a transfer carries over (severity, deductible
paid, emergency)."""
OWN_GRASSROOTS = np.array([True, True, False, False, False])
"""Choice-set columns that are the resident's own village clinic / township centre."""
ALL_COLUMNS = np.arange(5)
INPATIENT_COLUMNS = np.array([1, 2, 3, 4])
"""Choice-set columns with beds (all but the village clinic)."""


class CountyModel(mesa.Model):
    """A county's residents, facilities and insurance rules.

    Args:
        scenario: a loaded ``Scenario`` (default: the built-in baseline county).
        seed: random seed; the same seed and scenario give identical results.
        patient_agents: create a ``Patient`` agent per resident (default: only when the
            population is at most ``PATIENT_AGENTS_UP_TO``).
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
        # undated sections, resolved once: plain floats and per-tier arrays
        self.fp = resolve(self.config.facilities, self.start_date)
        self.cp = resolve(self.config.choice, self.start_date)
        self.ip = resolve(self.config.illness, self.start_date)
        self.resp = resolve(self.config.responses, self.start_date)
        self.community = CommunityBudget(resolve(self.config.community, self.start_date))
        self._year_start = 0  # index into day_counts of the insurance year's first day
        self.dip_settlements: list[dict] = []
        self.county = _build_county(self.config, self.streams.on("county"))
        self._build_facilities()
        self.income_median = self.config.population.income_median.value
        self.n_drg_groups = self.config.payment.drg_groups.value
        self.residents = build_residents(
            self.config.population,
            self.county.villages.population.to_numpy(),
            self.streams.on("population"),
        )
        r = self.residents
        # cost sensitivity = (median income / income) ^ η, clipped to [0.2, 5] before the power
        r.table["cost_sensitivity"] = np.clip(self.income_median / r.income, 0.2, 5.0) ** (
            self.cp.income_elasticity)
        self._noise_table = bill_noise_table(self.fp.bill_dispersion)
        self.members = np.bincount(r.scheme, minlength=2)  # insured persons by scheme
        self.enrolled = self._catchment_by_scheme()  # [facility, scheme] for capitation
        self._capitation_budget = np.zeros(len(self.slots))  # this year's payments, yuan
        self._capitation_cost = np.zeros(len(self.slots))  # fee-for-service value of claims
        self.capitation_settlements: list[dict] = []
        n = len(r)
        if patient_agents if patient_agents is not None else n <= PATIENT_AGENTS_UP_TO:
            Patient.create_agents(self, n, np.arange(n))
        self._patients: dict[int, Patient] = {}
        self.day_counts: list[DayCounts] = []
        self.years: list[dict] = []
        self._apply_rules()
        self._schedule_first_followups()
        for d in self.config.change_dates():
            self.schedule_event(self._apply_rules, at=(d - self.start_date).days)
        self._schedule_year_end()

    # -- build ---------------------------------------------------------------------------------

    def _build_facilities(self) -> None:
        fac = self.county.facilities
        self.fac_tier = fac.tier_code.to_numpy(np.int64)
        self.slots = np.where(self.fac_tier == Tier.OUT_OF_COUNTY, UNLIMITED,
                              fac.outpatient_slots_per_day.to_numpy(np.int64))
        self.beds = np.where(self.fac_tier == Tier.OUT_OF_COUNTY, UNLIMITED,
                             fac.beds.to_numpy(np.int64))
        self.beds_occupied = np.zeros(len(fac), np.int64)
        self.visits_yesterday = np.zeros(len(fac), np.int64)
        self._slots_left = self.slots.copy()
        self._stays = np.zeros(0, STAY)  # inpatients now
        self._referred = self._stays  # today's discharges referred on (``_discharge``)
        self._totals = np.zeros((len(encounters.MEASURES), len(fac)))  # [measure, facility]
        self.facility_totals = dict(zip(encounters.MEASURES, self._totals, strict=True))
        for row, tier in enumerate(self.fac_tier):
            FACILITY_CLASSES[Tier(tier)](self, row)
        self.choice_set = choice_set(self.county).astype(np.int64)
        self.alternatives = np.ascontiguousarray(self.choice_set.T)  # [5, village]
        v = np.arange(len(self.county.villages))[:, None]
        self.travel = np.where(self.choice_set >= 0,
                               self.county.travel_min[v, np.maximum(self.choice_set, 0)], np.inf)
        own_township_minutes = self.travel[:, 1]
        remote_minutes = self.config.benefits.chronic.remote_minutes.value
        self.remote_village = own_township_minutes > remote_minutes
        self._fixed_utility = {inpatient: self._fixed_village_utility(inpatient)
                               for inpatient in (False, True)}
        in_county = self.fac_tier <= Tier.COUNTY
        self.reach_minutes = np.stack([  # [village, lowest certifying tier]
            self.county.travel_min[:, in_county & (self.fac_tier >= t)].min(axis=1)
            for t in (Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY)
        ], axis=1)

    def _catchment_by_scheme(self) -> np.ndarray:
        """[facility, scheme] residents a grassroots facility serves (0 for other tiers).

        A village clinic serves its village; a township centre its township's villages.
        """
        r, fac = self.residents, self.county.facilities
        n_v = len(self.county.villages)
        by_village = np.bincount(r.village * 2 + r.scheme, minlength=2 * n_v).reshape(n_v, 2)
        township = self.county.villages.township.to_numpy()
        by_township = np.zeros((township.max() + 1, 2))
        np.add.at(by_township, township, by_village)
        out = np.zeros((len(fac), 2))
        clinic = self.fac_tier == Tier.VILLAGE
        out[clinic] = by_village[fac.village.to_numpy()[clinic]]
        centre = self.fac_tier == Tier.TOWNSHIP
        out[centre] = by_township[fac.township.to_numpy()[centre]]
        return out

    def _pay_capitation(self) -> None:
        """Today's capitation payments: rate × catchment residents / 365 per capitated facility."""
        capitated = self.rules.capitation[self.fac_tier]
        pay = payment.capitation_budget(self.enrolled * capitated[:, None],
                                        rate_per_person_year=self.rules.capitation_rate, days=1)
        flat = (Service.OUTPATIENT * 4 + self.fac_tier[:, None]) * 2 + np.arange(2)
        self.today.money[4] += np.bincount(flat.ravel(), weights=pay.ravel(),
                                           minlength=self.today.money[4].size
                                           ).reshape(self.today.money[4].shape)
        for key in ("fund", "revenue"):
            self.facility_totals[key] += pay.sum(axis=1)
        self._capitation_budget += pay.sum(axis=1)

    def _settle_capitation(self, last_day: date) -> np.ndarray:
        """Capitation year-end settlement of every capitated facility; resets the year."""
        paid = self._capitation_budget > 0
        rows, adjustment = settle_capitation(
            self._capitation_budget[paid], self._capitation_cost[paid], self.fac_tier[paid],
            surplus_retained=self.config.payment.capitation_surplus_retained.value,
            year=last_day.year)
        self.capitation_settlements.extend(rows)
        self._capitation_budget[:] = 0
        self._capitation_cost[:] = 0
        return adjustment

    def _schedule_first_followups(self) -> None:
        r = self.residents
        managed = np.flatnonzero(r.chronic_managed)
        rng = self.streams.on("followup_phase")
        first = rng.integers(0, self.rules.prescription_days, managed.size)
        order = np.argsort(first, kind="stable")
        days, starts = np.unique(first[order], return_index=True)
        self._followups = dict(zip(days.tolist(), np.split(managed[order], starts[1:]),
                                   strict=True))

    # -- time ----------------------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Index of the simulated day in progress (or the next one between steps), from 0."""
        return int(self.time) - 1 if self._in_step else int(self.time)

    _in_step = False

    @property
    def date(self) -> date:
        """Calendar date of ``day``."""
        return self.start_date + timedelta(days=self.day)

    def _apply_rules(self) -> None:
        """Put the rules in force on ``self.date`` (scheduled at every change date)."""
        self.rules = rules_on(self.config, self.date)
        p_cert = np.exp(-self.reach_minutes[:, self.rules.lowest_certifying_tier]
                        / self.config.benefits.chronic.certification_decay_minutes.value)
        r = self.residents
        r.certified[:] = r.chronic_managed & (r.certification_draw < p_cert[r.village])

    def _schedule_year_end(self) -> None:
        next_year = date(self.date.year + 1, 1, 1)
        self.schedule_event(self._close_year, at=(next_year - self.start_date).days)

    def _close_year(self) -> None:
        """Record the insurance year's outcomes, settle the community budget, reset accumulators.

        The settlement's retained, reinvested surplus raises grassroots perceived quality.
        """
        self.years.append(self.year_outcomes())
        year = self.day_counts[self._year_start:]
        last_day = self.date - timedelta(days=1)
        fund_paid_by_tier = sum(d.money[4] for d in year).sum(axis=(0, 2)) if year else None
        if year and sum(d.dip_points.sum() for d in year) > 0:
            fund_paid_by_tier = fund_paid_by_tier + self._settle_dip(year, last_day)
        if self._capitation_budget.any():
            fund_paid_by_tier = fund_paid_by_tier + self._settle_capitation(last_day)
        if year and self.config.community.global_budget.on(last_day):
            row = self.community.close_year(
                year=last_day.year, days=len(year), members=self.members,
                fund_paid_by_tier=fund_paid_by_tier,
                fund_revenue=float(sum(d.fund_revenue.sum() for d in year)),
            )
            self.fp.quality[GRASSROOTS] = np.minimum(1.0, self.fp.quality[GRASSROOTS]
                                                     + row["quality_gain"])
        self._year_start = len(self.day_counts)
        self.residents.reset_year()
        self._schedule_year_end()

    def _settle_dip(self, year: list[DayCounts], last_day: date) -> np.ndarray:
        """DIP year-end settlement against budget = dip_budget_per_capita × residents × days/365."""
        budget = (self.config.payment.dip_budget_per_capita.on(last_day) * len(self.residents)
                  * len(year) / 365.0)
        row, adjustment = settle_dip(sum(d.dip_points for d in year),
                                     sum(d.dip_standard for d in year), budget=budget,
                                     year=last_day.year, days=len(year))
        self.dip_settlements.append(row)
        return adjustment

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
            "catastrophic_by_quintile": np.bincount(r.quintile[catastrophic], minlength=5),
            "residents_by_quintile": np.bincount(r.quintile, minlength=5),
            "oop": float(r.oop_year.sum(dtype=np.float64)),
        }

    # -- the day -------------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day (see the module docstring for the stages)."""
        self._in_step = True
        self.today = t = DayCounts()
        self._slots_left = self.slots.copy()  # outpatient places left today
        self._turned_away = np.zeros(len(self.slots), np.int64)  # by facility
        self._books = encounters.Books(
            self.residents.table, self.fac_tier, self.rules.capitation, t.money, t.visits,
            t.admissions, t.oop_by_quintile, t.referrals, self._turned_away, self._totals,
            self._capitation_cost)
        self.today.fund_revenue += self.rules.contribution * self.members / 365.0
        if self.rules.capitation.any():
            self._pay_capitation()
        self._discharge()
        self._minor_episodes()
        self._chronic_followups()
        self._admissions()
        self.today.turned_away += np.bincount(self.fac_tier, weights=self._turned_away,
                                              minlength=4).astype(np.int64)
        self.today.occupied_beds += np.bincount(
            self.fac_tier, weights=np.minimum(self.beds_occupied, UNLIMITED), minlength=4
        ).astype(np.int64)
        self.day_counts.append(self.today)
        self.visits_yesterday = self.visits_today()
        self._in_step = False

    def _discharge(self) -> None:
        """Free the beds of today's discharges; keep those referred on for ``_admissions``."""
        now = self._stays["discharge"] == self.day
        leaving = self._stays[now]
        self._stays = self._stays[~now]
        self.beds_occupied -= np.bincount(leaving["facility"], minlength=len(self.beds))
        r = self.residents
        r.inpatient_at[leaving["row"]] = -1
        r.discharge_day[leaving["row"]] = -1
        self._referred = leaving[leaving["then"] != Referral.NONE]

    def _minor_episodes(self) -> None:
        """Acute minor illness: choose a facility or no care; referral up if not capable."""
        ill, sev = self._new_episodes(self.ip.minor_episodes_per_year,
                                      self.ip.minor_severity_beta, "minor")
        if not len(ill):
            return
        n = len(ill)
        p = encounters.gather(self.residents.table, ill)
        self.today.minor_episodes += np.bincount(p["scheme"], minlength=2)
        fac = self._alternatives(p)
        weight = self._weights(p, fac, sev, Service.OUTPATIENT,
                               self.fp.outpatient_bill[CHOICE_TIERS],
                               without_care=self.cp.no_care_constant)
        uniform = self.streams.on("choice.outpatient", self.day).random(n)
        noise = self._bill_noise(2, n)
        no_care = len(fac)  # the extra alternative after the facilities
        pick, residual = self._allocate(weight, uniform, fac, self._slots_left)
        seen = (pick >= 0) & (pick != no_care)
        self.today.no_care += np.bincount(p["scheme"][~seen], minlength=2)
        rows = np.flatnonzero(seen)
        chosen = fac[pick[rows], rows]
        tier = self.fac_tier[chosen]
        self._outpatient_visit(ill[rows], chosen, Service.OUTPATIENT,
                               self.fp.outpatient_bill[tier] * noise[0, rows])
        # referral up when the facility cannot treat this severity: the patient chooses (by
        # the same utilities as at onset, with the residual draw) a higher tier that can, or
        # outside
        need = rows[sev[rows] > self.fp.outpatient_capability[tier]]
        if not len(need):
            return
        from_tier = self.fac_tier[fac[pick[need], need]]
        tiers = CHOICE_TIERS[:, None]
        allowed = (tiers > from_tier) & ((sev[need] <= self.fp.outpatient_capability[tiers])
                                         | (tiers == Tier.OUT_OF_COUNTY))
        to, _ = self._allocate(np.where(allowed, weight[:no_care, need], 0.0), residual[need],
                               fac[:, need], self._slots_left)
        ok = np.flatnonzero(to >= 0)
        chosen = fac[to[ok], need[ok]]
        np.add.at(self.today.referrals[0], (from_tier[ok], self.fac_tier[chosen]), 1)
        self._outpatient_visit(ill[need[ok]], chosen, Service.OUTPATIENT,
                               self.fp.outpatient_bill[self.fac_tier[chosen]] * noise[1, need[ok]])

    def _chronic_followups(self) -> None:
        """两病 follow-ups due today; chronic benefits where certified and the tier may claim."""
        r = self.residents
        due = self._followups.pop(self.day, np.zeros(0, np.int64))
        next_day = self.day + self.rules.prescription_days
        self._followups[next_day] = np.concatenate([self._followups.get(next_day, due[:0]), due])
        due = due[r.inpatient_at[due] < 0]  # in hospital on the day: this refill is skipped
        if not len(due):
            return
        n = len(due)
        p = encounters.gather(r.table, due)
        tiers = CHOICE_TIERS[:, None]
        fac = self._alternatives(p)
        village_ok = (self.remote_village[p["village"]] if self.rules.village_claims == "remote"
                      else np.full(n, self.rules.village_claims == "all"))
        claims_here = (tiers >= Tier.TOWNSHIP) | village_ok
        service = np.where(p["certified"] & claims_here, Service.CHRONIC, Service.OUTPATIENT)
        bill = (self.fp.chronic_visit_fee[CHOICE_TIERS]
                + self.fp.chronic_drug_cost_per_day[CHOICE_TIERS] * self.rules.prescription_days)
        weight = self._weights(p, fac, np.zeros(n), service, bill)  # severity 0
        uniform = self.streams.on("choice.chronic", self.day).random(n)
        pick, _ = self._allocate(weight, uniform, fac, self._slots_left)
        rows = np.flatnonzero(pick >= 0)
        col = pick[rows]
        self._outpatient_visit(due[rows], fac[col, rows], service[col, rows], bill[col])

    def _admissions(self) -> None:
        """Admit today's transfers up, rehab referrals down and new serious episodes.

        Free beds go to them in that order of priority; all are admitted as one batch.
        """
        due = self._referred
        free = self.beds - self.beds_occupied
        batches = []
        for choose in (self._transfers_up, self._rehab_referrals, self._serious_episodes):
            batch = choose(due, free)
            if batch is not None and len(batch["res"]):
                free = free - np.bincount(batch["fac"], minlength=len(free))
                batches.append(batch)
        if batches:
            self._admit({k: np.concatenate([b[k] for b in batches]) for k in batches[0]})

    def _transfers_up(self, due, free) -> dict | None:
        """上转: inpatients the facility cannot treat go to the county hospital, else outside.

        The county hospital takes them if it can treat the severity and has a free bed.
        """
        up = due[due["then"] == Referral.UP]
        if not len(up):
            return None
        res, from_tier, sev = up["row"], self.fac_tier[up["facility"]], up["severity"]
        n = len(res)
        rng = self.streams.on("referral.transfer", self.day)
        u_rehab, u_keep = rng.random(n), rng.random(n)
        alternatives = self.alternatives[:, self.residents.village[res]]
        county_cap = self.fp.inpatient_capability[Tier.COUNTY]
        # provider response: under a global budget the lead hospital keeps some patients it
        # would send out of the county, treating them within its capability
        keep = self.rules.global_budget & (u_keep < self.resp.budget_keeps_transfers)
        to_county = ((from_tier < Tier.COUNTY) & (sev <= county_cap)) | keep
        sev = np.where(keep, np.minimum(sev, county_cap), sev)
        wants = np.vstack([to_county, ~to_county]).astype(np.float64)
        pick, _ = self._allocate(wants, np.zeros(n), alternatives[3:5], free)
        pick[pick < 0] = 1  # the county hospital is full: outside
        fac = alternatives[3 + pick, np.arange(n)]
        to_tier = self.fac_tier[fac]
        moved = to_tier != from_tier
        np.add.at(self.today.referrals[0], (from_tier[moved], to_tier[moved]), 1)
        return dict(res=res, fac=fac, severity=sev, referral=np.full(n, Referral.UP),
                    prior_deductible=up["deductible_paid"], emergency=up["emergency"],
                    u_los=self.streams.on("length_of_stay.transfer", self.day).random(n),
                    u_rehab=u_rehab)

    def _rehab_referrals(self, due, free) -> dict | None:
        """下转: county inpatients referred to their own township centre for rehabilitation."""
        res = due["row"][due["then"] == Referral.DOWN]
        if not len(res):
            return None
        own_township = self.alternatives[1, self.residents.village[res]]
        pick, _ = self._allocate(np.ones((1, len(res))), np.zeros(len(res)),
                                 own_township[None, :], free)
        ok = pick == 0
        n = int(ok.sum())
        self.today.referrals[1, Tier.COUNTY, Tier.TOWNSHIP] += n
        return dict(res=res[ok], fac=own_township[ok], severity=np.zeros(n),
                    referral=np.full(n, Referral.DOWN), prior_deductible=np.zeros(n),
                    emergency=np.zeros(n, bool),
                    u_los=self.streams.on("length_of_stay.rehab", self.day).random(n),
                    u_rehab=np.ones(n))

    def _serious_episodes(self, due, free) -> dict | None:
        """Acute serious illness: choose a hospital among those with a free bed."""
        ill, sev = self._new_episodes(self.ip.serious_episodes_per_year,
                                      self.ip.serious_severity_beta, "serious")
        rng = self.streams.on("episode.serious", self.day)
        emergency = rng.random(len(ill)) < self.ip.emergency_share
        u_los, u_rehab, u_avoid = (rng.random(len(ill)) for _ in range(3))
        free_person = self.residents.inpatient_at[ill] < 0
        ill, sev, emergency, u_los, u_rehab, u_avoid = (
            a[free_person] for a in (ill, sev, emergency, u_los, u_rehab, u_avoid))
        n = len(ill)
        if not n:
            return None
        p = encounters.gather(self.residents.table, ill)
        scheme = p["scheme"]
        self.today.serious_episodes += np.bincount(scheme, minlength=2)
        forgo = len(INPATIENT_COLUMNS)  # the extra alternative after the hospitals
        hospitals = self._alternatives(p)[INPATIENT_COLUMNS]
        hospitals[self.beds[np.maximum(hospitals, 0)] == 0] = -1  # no beds: not an option
        weight = self._weights(p, hospitals, sev, Service.INPATIENT,
                               self.fp.admission_bill[CHOICE_TIERS[INPATIENT_COLUMNS]],
                               inpatient=True, emergency=emergency,
                               without_care=self.cp.no_admission_constant)
        uniform = self.streams.on("choice.inpatient", self.day).random(n)
        pick, _ = self._allocate(weight, uniform, hospitals, free)
        self.today.admissions_forgone += np.bincount(scheme[pick == forgo], minlength=2)
        rows = np.flatnonzero((pick >= 0) & (pick != forgo))
        chosen = hospitals[pick[rows], rows]
        # provider response: a case-paid hospital treats some low-severity patients as outpatients
        tier = self.fac_tier[chosen]
        avoid = ((self.rules.drg | self.rules.dip)[tier] & ~emergency[rows]
                 & (sev[rows] < self.resp.case_payment_outpatient_below)
                 & (u_avoid[rows] < self.resp.case_payment_avoided_admissions))
        if avoid.any():
            self.today.admissions_avoided += np.bincount(tier[avoid], minlength=4)
            self._outpatient_visit(ill[rows[avoid]], chosen[avoid], Service.OUTPATIENT,
                                   self.fp.outpatient_bill[tier[avoid]])
            rows, chosen = rows[~avoid], chosen[~avoid]
        return dict(res=ill[rows], fac=chosen, severity=sev[rows],
                    referral=np.full(len(rows), Referral.NONE),
                    prior_deductible=np.zeros(len(rows)), emergency=emergency[rows],
                    u_los=u_los[rows], u_rehab=u_rehab[rows])

    # -- shared mechanics ----------------------------------------------------------------------

    def _new_episodes(self, rates, severity_beta, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Residents falling ill today, in random order, and the severity of their episodes.

        Count ~ Poisson(Λ), Λ = Σ_b λ_b with λ_b = rate_b / 365 × residents_b; each episode is one
        U(0, 1) read against the cumulative intensity of the residents (sorted by age band): band
        b with probability λ_b / Λ, then a member uniformly. This is independent Poisson counts
        per band, served in random order. Severity ~ Beta(a, b) by ``beta_by_table``.
        """
        rng = self.streams.on(f"illness.{kind}", self.day)
        start, size = self.residents.band_start, self.residents.band_size
        per_day = np.asarray(rates, np.float64) / 365.0
        intensity = np.cumsum(per_day * size)
        rows = _resident_at(rng.random(rng.poisson(intensity[-1])), intensity, per_day, start)
        u = self.streams.on(f"severity.{kind}", self.day).random(len(rows))
        return rows, beta_by_table(*severity_beta, u)

    def _bill_noise(self, k: int, n: int) -> np.ndarray:
        """[k, n] mean-one lognormal multipliers of bills (``bill_noise_table``), float32."""
        u = self.streams.on("bill", self.day).random((k, n), np.float32)
        return self._noise_table[(u * len(self._noise_table)).astype(np.intp)]

    def visits_today(self) -> np.ndarray:
        """Outpatient visits at each facility so far today."""
        return self.slots - self._slots_left

    def _alternatives(self, p: np.ndarray) -> np.ndarray:
        """[5, n] facility rows of the choice sets of residents with records ``p``."""
        return self.alternatives.take(p["village"], axis=1)

    def _allocate(self, weight, uniform, fac, capacity_left) -> tuple[np.ndarray, np.ndarray]:
        """``choice.allocate``, counting the patients turned away; returns (pick, residual)."""
        pick, residual, away = allocate(weight, uniform, fac, capacity_left)
        self._turned_away += away
        return pick, residual

    def _village_utility(self, inpatient: bool) -> np.ndarray:
        """[alternative, village] utility shared by a village's residents today.

        tier constant − w_travel × hours − w_crowd × yesterday's load (visits / slots, or
        occupied / beds); −inf where the village has no such alternative. The outpatient table
        depends only on yesterday's visits: built once a day.
        """
        if inpatient:
            return self._village_table(True)
        if self._outpatient_table[0] != self.day:
            self._outpatient_table = (self.day, self._village_table(False))
        return self._outpatient_table[1]

    _outpatient_table = (None, None)  # (day, table)

    def _village_table(self, inpatient: bool) -> np.ndarray:
        used, capacity = ((self.beds_occupied, self.beds) if inpatient
                          else (self.visits_yesterday, self.slots))
        load = used / np.maximum(capacity, 1)
        fixed, fac = self._fixed_utility[inpatient]
        return fixed - self.cp.crowding * load[fac]

    def _fixed_village_utility(self, inpatient: bool) -> tuple[np.ndarray, np.ndarray]:
        """(tier constant − w_travel × hours, −inf where missing; facility, 0 where missing)."""
        tier_constant = (self.cp.inpatient_tier_constant if inpatient
                         else self.cp.outpatient_tier_constant)
        cols = INPATIENT_COLUMNS if inpatient else ALL_COLUMNS
        fac = self.alternatives[cols]
        fixed = (tier_constant[CHOICE_TIERS[cols]][:, None]
                 - self.cp.travel_per_hour * self.travel.T[cols] / 60)
        return np.where(fac >= 0, fixed, -np.inf), np.maximum(fac, 0)

    def _weights(self, p, fac, sev, service, bill, *, inpatient=False, emergency=None,
                 without_care=None) -> np.ndarray:
        """[k (+ 1), n] logit weights of facilities ``fac`` [k, n] (and of going without care).

        Utilities by ``encounters.utilities`` (DESIGN.md "One episode's life", step 2) for
        residents with records ``p`` choosing among the hospitals if ``inpatient``, else every
        choice-set column, with the village part of today (``_village_utility``) and the
        out-of-pocket expected under today's rules for this very patient; ``bill`` per
        alternative; ``service`` a scalar or [k, n]; ``emergency`` [n] (default none). Weights
        are exp(V − the patient's largest V) (numpy's vectorised exp). With ``without_care``
        (the constant of no care or of not being admitted; ``service`` is then a scalar), a last
        row weighs going without (``encounters.going_without``, with γ[service] per 100 yuan of
        expected out-of-pocket).
        """
        cols = INPATIENT_COLUMNS if inpatient else ALL_COLUMNS
        tiers = CHOICE_TIERS[cols]
        k, n = fac.shape
        weight = np.empty((k + (without_care is not None), n), np.float32)
        v, oop, top = weight[:k], np.empty((k, n), np.float32), np.empty(n)
        emergency = np.zeros(n, bool) if emergency is None else emergency
        encounters.utilities(
            self.rules.tables, p, fac, tiers, OWN_GRASSROOTS[cols],
            self._village_utility(inpatient), self.fp.quality[tiers] * self.cp.quality_x_severity,
            sev, _column(service, (k, n), np.int8), np.asarray(bill, np.float64), emergency,
            self.cp.cost_per_100_yuan / 100, float(self.cp.family_doctor), float(self.cp.habit),
            v, oop, top)
        np.exp(v, out=v)
        if without_care is not None:
            gamma = self.cp.care_seeking_cost_per_100_yuan[service] / 100
            encounters.going_without(weight, oop, top, p, float(without_care), float(gamma),
                                     emergency)
        return weight

    def _outpatient_visit(self, res, fac, service, bill) -> None:
        """Outpatient visits of residents ``res`` at facilities ``fac`` (``encounters.visits``)."""
        self._slots_left -= np.bincount(fac, minlength=len(self.slots))
        encounters.visits(self.rules.tables, self._books, res, fac, self.alternatives[:2],
                          _column(service, len(res), np.int64), np.asarray(bill, np.float64))

    def _admit(self, batch: dict[str, np.ndarray]) -> None:
        """Admit a batch: length of stay, bill, claim, bed, and any transfer or rehab to come.

        ``batch`` holds per-row res, fac, severity, referral, prior_deductible, emergency,
        u_los and u_rehab.

        Stay = mean LOS × (0.5 + U) × (0.5 + severity) rounded, ≥ 1 day (rehabilitation: rehab
        LOS × (0.5 + U)); both factors average 1, so severity moves cost without moving the mean.
        A facility that cannot treat the severity keeps the patient transfer_after_days and
        queues an upward transfer. Bill = admission bill × stay / mean LOS (rehab: bed-day bill
        × stay). The fund pays the provider by the tier's payment method
        (``policy.provider_payment``). County discharges are referred down for rehabilitation
        with probability down_for_rehab.
        """
        res, fac, sev, referral = batch["res"], batch["fac"], batch["severity"], batch["referral"]
        f = self.fp
        tier = self.fac_tier[fac]
        rehab = referral == Referral.DOWN
        mean_los = np.where(rehab, f.rehab_length_of_stay, f.length_of_stay[tier])
        severity_factor = np.where(rehab, 1.0, 0.5 + sev)
        # provider response: hospitals paid by case (DRG or DIP) shorten stays
        case_paid = (self.rules.drg | self.rules.dip)[tier]
        drg_factor = np.where(case_paid & ~rehab, self.resp.drg_stay_factor, 1.0)
        stay = np.maximum(1, np.rint(mean_los * (0.5 + batch["u_los"]) * severity_factor
                                     * drg_factor)).astype(np.int64)
        capable = rehab | (sev <= f.inpatient_capability[tier])
        stay = np.minimum(np.where(capable, stay, np.minimum(stay, f.transfer_after_days)),
                          MAX_STAY_DAYS)
        bill = np.where(rehab, f.rehab_bed_day_bill * stay,
                        f.admission_bill[tier] * stay / f.length_of_stay[tier])
        r = self.residents
        service = np.full(len(res), Service.INPATIENT)
        claim = Claim(bill, *encounters.claims(
            self.rules.tables, encounters.gather(r.table, res), fac, self.fac_tier,
            self.alternatives[:2], service, bill, referral.astype(np.int64),
            batch["prior_deductible"].astype(np.float64), batch["emergency"].astype(np.bool_)))
        paid = provider_payment(self.rules, claim, tier=tier, severity=sev, stay=stay,
                                rehab=rehab, n_groups=self.n_drg_groups)
        encounters.book(self._books, res, fac, service, bill, claim.deductible_paid, claim.fund,
                        claim.assistance, claim.patient, paid.fund, True)
        if self.rules.dip.any():
            self.today.dip_points += np.bincount(tier, weights=paid.dip_points, minlength=4)
            self.today.dip_standard += np.bincount(tier, weights=paid.dip_standard, minlength=4)
        self.beds_occupied += np.bincount(fac, minlength=len(self.beds))
        # provider response: under a global budget the lead hospital refers more down
        p_down = self.rules.down_for_rehab * (self.resp.budget_rehab_multiplier
                                              if self.rules.global_budget else 1.0)
        down = capable & ~rehab & (tier == Tier.COUNTY) & (batch["u_rehab"] < min(p_down, 1.0))
        stays = np.empty(len(res), STAY)
        stays["row"], stays["facility"], stays["discharge"] = res, fac, self.day + stay
        stays["then"] = np.where(capable, np.where(down, Referral.DOWN, Referral.NONE),
                                 Referral.UP)
        stays["severity"], stays["deductible_paid"] = sev, claim.deductible_paid
        stays["emergency"] = batch["emergency"] & ~capable  # carried over by a transfer only
        self._stays = np.concatenate([self._stays, stays])
        r.inpatient_at[res] = fac
        r.discharge_day[res] = stays["discharge"]

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

    def results(self):
        """The run so far as a ``Results`` object (tidy pandas tables)."""
        from flowsim.results import Results

        return Results.from_model(self)


def beta_by_table(a: float, b: float, uniform: np.ndarray) -> np.ndarray:
    """Beta(a, b) draws by inverse CDF from U(0, 1) draws ``uniform``.

    Q(u) interpolated linearly between the quantiles tabulated at u = 0, 1/G, …, 1
    (G = ``SEVERITY_GRID``): a third of the cost of two gamma draws.
    """
    return _interpolate(_beta_quantiles(float(a), float(b)), uniform)


@functools.cache
def _beta_quantiles(a: float, b: float) -> np.ndarray:
    """Beta(a, b) quantiles at 0, 1/G, …, 1 with G = ``SEVERITY_GRID``."""
    return scipy.special.betaincinv(a, b, np.linspace(0.0, 1.0, SEVERITY_GRID + 1))


@njit(cache=True)
def _resident_at(uniform, intensity, per_day, band_start):
    """Resident rows at U × Λ on the cumulative intensity of residents sorted by age band.

    ``intensity`` [band] = cumulative Σ per_day × residents up to each band's end (Λ the last);
    band b = the first whose cumulative intensity exceeds U × Λ, and within it the member
    ⌊(U × Λ − intensity before b) / per_day[b]⌋ (``band_start`` [band + 1] first rows).
    """
    rows = np.empty(uniform.size, np.int64)
    total = intensity[-1]
    for i in range(uniform.size):
        x = uniform[i] * total
        b = 0
        while b < intensity.size - 1 and x >= intensity[b]:
            b += 1
        below = intensity[b - 1] if b > 0 else 0.0
        rows[i] = min(band_start[b] + int((x - below) / per_day[b]), band_start[b + 1] - 1)
    return rows


@njit(cache=True)
def _interpolate(table, uniform):
    """Linear interpolation in ``table`` [G + 1] at positions ``uniform`` × G (one pass)."""
    grid = table.size - 1
    out = np.empty(uniform.size)
    for i in range(uniform.size):
        u = uniform[i] * grid
        cell = min(int(u), grid - 1)
        out[i] = table[cell] + (u - cell) * (table[cell + 1] - table[cell])
    return out


def bill_noise_table(sigma: float) -> np.ndarray:
    """``NOISE_GRID`` equally likely bill multipliers (float32) of log-sd ``sigma``.

    Lognormal exp(σ z) at the quantiles z = Φ⁻¹((i + ½) / G) of the standard normal, scaled to
    mean exactly one.

    A bill's multiplier is the entry at a uniform draw: this discretised lognormal is drawn
    three times faster than normal deviates; it lacks only the tails beyond ±3.7σ (p = 2e-4).
    """
    z = scipy.special.ndtri((np.arange(NOISE_GRID) + 0.5) / NOISE_GRID)
    multiplier = np.exp(sigma * z)
    return (multiplier / multiplier.mean()).astype(np.float32)


def _column(x, shape, dtype) -> np.ndarray:
    """``x`` as a contiguous array of ``shape`` and ``dtype`` (a scalar is repeated)."""
    if np.ndim(x) == 0:
        return np.full(shape, x, dtype)
    return np.ascontiguousarray(x, dtype)


def _build_county(scenario: Scenario, rng: np.random.Generator) -> County:
    c = scenario.county
    if c.synthetic is not None:
        return generate_county(c.name, c.synthetic, scenario.facilities.capacity_per_1000, rng)
    return load_county_csv(c.name, c.csv, scenario.file.parent if scenario.file else Path.cwd())
