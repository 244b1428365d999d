"""``CountyModel``: one county's health system as a Mesa 3 model; one step = one day.

Build: county geography → facility agents → resident arrays (+ ``Patient`` handles) → the rules
in force on the start date, with a scheduled event at every later date on which a policy value
changes and at every new insurance year. Daily step, in this fixed order:

1. ``_discharge``: beds freed by today's discharges;
2. ``_transfers``: upward transfers (上转) and downward rehabilitation referrals (下转) due today;
3. ``_minor_episodes``: acute minor illness → outpatient choice (or no care) → referral up if
   the facility cannot treat the severity;
4. ``_chronic_followups``: 两病 patients due for a refill → outpatient choice, chronic benefits
   where certified and the tier may claim them;
5. ``_serious_episodes``: acute serious illness → hospital choice → admission.

Every encounter is priced by ``flowsim.policy.price_claims`` and lands in ``DayCounts``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import mesa
import numpy as np

from flowsim.agents import FACILITY_CLASSES, Patient
from flowsim.choice import allocate
from flowsim.config import Scenario, load_scenario, resolve
from flowsim.counters import DayCounts
from flowsim.county import County, load_county_csv, synthetic_county
from flowsim.domain import Referral, Service, Tier
from flowsim.policy import price_claims, rules_on
from flowsim.population import build_residents
from flowsim.streams import Streams

PATIENT_AGENTS_UP_TO = 50_000
"""Populations up to this size get a ``Patient`` agent per resident at build; larger ones get
them on demand (``model.patient(row)``): 500,000 Mesa agents would cost ~3 s and ~460 B each."""
MAX_STAY_DAYS = 120
"""Length-of-stay ceiling (days); also the length of the discharge calendar."""
UNLIMITED = 10**9

CHOICE_TIERS = np.array(County.CHOICE_TIERS, dtype=np.int64)
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
        self.county = _build_county(self.config, self.streams.on("county"))
        self._build_facilities()
        self.income_median = self.config.population.income_median.value
        self.residents = build_residents(
            self.config.population,
            self.county.villages.population.to_numpy(),
            self.streams.on("population"),
        )
        n = len(self.residents)
        if patient_agents if patient_agents is not None else n <= PATIENT_AGENTS_UP_TO:
            Patient.create_agents(self, n, np.arange(n))
        self._patients: dict[int, Patient] = {}
        self.day_counts: list[DayCounts] = []
        self.years: list[dict] = []
        self._pending = _Pending()
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
        self._discharges = np.zeros((MAX_STAY_DAYS + 1, len(fac)), np.int64)
        self.facility_totals = {k: np.zeros(len(fac)) for k in ("visits", "admissions", "fund",
                                                                 "bill")}
        for row, tier in enumerate(self.fac_tier):
            FACILITY_CLASSES[Tier(tier)](self, row)
        self.choice_set = self.county.choice_set().astype(np.int64)
        v = np.arange(len(self.county.villages))[:, None]
        self.travel = np.where(self.choice_set >= 0,
                               self.county.travel_min[v, np.maximum(self.choice_set, 0)], np.inf)
        own_township_minutes = self.travel[:, 1]
        self.remote_village = own_township_minutes > self.config.benefits.chronic.remote_minutes.value
        in_county = self.fac_tier <= Tier.COUNTY
        self.reach_minutes = np.stack([  # [village, lowest certifying tier]
            self.county.travel_min[:, in_county & (self.fac_tier >= t)].min(axis=1)
            for t in (Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY)
        ], axis=1)

    def _schedule_first_followups(self) -> None:
        r = self.residents
        managed = np.flatnonzero(r.chronic_managed)
        rng = self.streams.on("population", 1)
        r.next_followup[managed] = rng.integers(0, self.rules.prescription_days, managed.size)
        self.managed = managed

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
        r.certified = r.chronic_managed & (r.certification_draw < p_cert[r.village])

    def _schedule_year_end(self) -> None:
        next_year = date(self.date.year + 1, 1, 1)
        self.schedule_event(self._close_year, at=(next_year - self.start_date).days)

    def _close_year(self) -> None:
        """Record the insurance year's per-resident outcomes, then reset annual accumulators."""
        self.years.append(self.year_outcomes())
        self.residents.reset_year()
        self._schedule_year_end()

    def year_outcomes(self) -> dict:
        """Catastrophic expenditure and out-of-pocket of the insurance year so far.

        Catastrophic: out-of-pocket ≥ 40 % of capacity to pay, where capacity to pay =
        income × (1 − subsistence_share) (WHO convention, per resident, individual income).
        """
        r = self.residents
        capacity = r.income * (1 - self.config.population.subsistence_share.value)
        catastrophic = r.oop_year >= 0.4 * capacity
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
        self.today = DayCounts()
        self._discharge()
        self._transfers()
        self._minor_episodes()
        self._chronic_followups()
        self._serious_episodes()
        self.today.occupied_beds += np.bincount(
            self.fac_tier, weights=np.minimum(self.beds_occupied, UNLIMITED), minlength=4
        ).astype(np.int64)
        self.day_counts.append(self.today)
        self.visits_yesterday = self.visits_today()
        self._in_step = False

    def _discharge(self) -> None:
        slot = self.day % len(self._discharges)
        self.beds_occupied -= self._discharges[slot]
        self._discharges[slot] = 0
        r = self.residents
        leaving = np.flatnonzero(r.discharge_day == self.day) if self.day_counts else []
        r.inpatient_at[leaving] = -1
        r.discharge_day[leaving] = -1

    def _transfers(self) -> None:
        """Admit today's upward transfers and downward rehabilitation referrals."""
        due = self._pending.pop(self.day)
        up = due["kind"] == _Pending.UP
        if up.any():
            self._transfer_up(due["res"][up], due["tier"][up], due["severity"][up],
                              due["deductible_paid"][up], due["emergency"][up])
        if (~up).any():
            res = due["res"][~up]
            own_township = self.choice_set[self.residents.village[res], 1]
            free = self.beds - self.beds_occupied
            pick = self._allocate(np.zeros((len(res), 1)), np.zeros((len(res), 1)),
                                  own_township[:, None], free)
            ok = pick == 0
            self.today.referrals[1, Tier.COUNTY, Tier.TOWNSHIP] += ok.sum()
            rng = self.streams.on("length_of_stay", self.day)
            mean = self.fp.rehab_length_of_stay
            stay = np.maximum(1, np.rint(mean * (0.5 + rng.random(ok.sum())))).astype(np.int64)
            self._admit(res[ok], own_township[ok], np.zeros(ok.sum()), stay=stay,
                        referral=Referral.DOWN, prior_deductible=0.0,
                        emergency=np.zeros(ok.sum(), bool), u_rehab=np.ones(ok.sum()))

    def _transfer_up(self, res, from_tier, severity, deductible_paid, emergency) -> None:
        """Refer inpatients up to the lowest capable tier: the county hospital, else outside."""
        cols = self.choice_set[self.residents.village[res]]
        capable_county = severity <= self.fp.inpatient_capability[Tier.COUNTY]
        to_county = (from_tier < Tier.COUNTY) & capable_county
        n = len(res)
        utility = np.where(to_county[:, None], [0.0, -1.0], [-np.inf, 0.0])
        pick = self._allocate(utility, np.zeros((n, 2)), cols[:, 3:5],
                              self.beds - self.beds_occupied)
        fac = cols[np.arange(n), 3 + pick]
        to_tier = self.fac_tier[fac]
        np.add.at(self.today.referrals[0], (from_tier, to_tier), 1)
        rng = self.streams.on("length_of_stay", self.day)
        self._admit(res, fac, severity, stay=None, u_los=rng.random(n),
                    referral=Referral.UP, prior_deductible=deductible_paid, emergency=emergency,
                    u_rehab=self.streams.on("referral", self.day).random(n))

    def _minor_episodes(self) -> None:
        """Acute minor illness: choose a facility or no care; referral up if not capable."""
        ill, sev = self._new_episodes(self.ip.minor_episodes_per_year,
                                      self.ip.minor_severity_beta, "minor")
        if not len(ill):
            return
        n = len(ill)
        tiers = np.broadcast_to(CHOICE_TIERS, (n, 5))
        fac = self.choice_set[self.residents.village[ill]]
        utility = self._utility(ill, sev, Service.OUTPATIENT,
                                self.fp.outpatient_bill[CHOICE_TIERS],
                                self.cp.outpatient_tier_constant)
        utility = np.c_[utility, np.full(n, self.cp.no_care_constant)]
        fac = np.c_[fac, np.full(n, -1)]
        gumbel = self._gumbel("choice.outpatient", (n, 6))
        noise = self._bill_noise(n, 2)
        pick = self._allocate(utility, gumbel, fac, self.slots - self.visits_today())
        no_care = (pick == 5) | (pick < 0)
        self.today.no_care += np.bincount(self.residents.scheme[ill[no_care]], minlength=2)
        seen = ~no_care
        res, chosen = ill[seen], fac[seen, pick[seen]]
        tier = self.fac_tier[chosen]
        self._outpatient_visit(res, chosen, Service.OUTPATIENT,
                               self.fp.outpatient_bill[tier] * noise[seen, 0])
        # referral up: the facility cannot treat this severity
        need = sev[seen] > self.fp.outpatient_capability[tier]
        if need.any():
            self._refer_outpatient(res[need], sev[seen][need], tier[need], noise[seen, 1][need])

    def _refer_outpatient(self, res, sev, from_tier, noise) -> None:
        n = len(res)
        fac = self.choice_set[self.residents.village[res]]
        tiers = np.broadcast_to(CHOICE_TIERS, (n, 5))
        capable = sev[:, None] <= self.fp.outpatient_capability[tiers]
        higher = tiers > from_tier[:, None]
        utility = self._utility(res, sev, Service.OUTPATIENT,
                                self.fp.outpatient_bill[CHOICE_TIERS],
                                self.cp.outpatient_tier_constant)
        utility[~(capable & higher) & (tiers != Tier.OUT_OF_COUNTY)] = -np.inf
        utility[~higher] = -np.inf
        gumbel = self._gumbel("referral", (n, 5))
        pick = self._allocate(utility, gumbel, fac, self.slots - self.visits_today())
        ok = pick >= 0
        chosen = fac[ok, pick[ok]]
        to_tier = self.fac_tier[chosen]
        np.add.at(self.today.referrals[0], (from_tier[ok], to_tier), 1)
        self._outpatient_visit(res[ok], chosen, Service.OUTPATIENT,
                               self.fp.outpatient_bill[to_tier] * noise[ok])

    def _chronic_followups(self) -> None:
        """两病 follow-ups due today; chronic benefits where certified and the tier may claim."""
        r = self.residents
        due = self.managed[r.next_followup[self.managed] == self.day]
        due = due[r.inpatient_at[due] < 0]
        r.next_followup[due] = self.day + self.rules.prescription_days
        if not len(due):
            return
        n = len(due)
        tiers = np.broadcast_to(CHOICE_TIERS, (n, 5))
        fac = self.choice_set[r.village[due]]
        village_ok = {"none": np.zeros(n, bool), "all": np.ones(n, bool),
                      "remote": self.remote_village[r.village[due]]}[self.rules.village_claims]
        claims_here = (tiers >= Tier.TOWNSHIP) | village_ok[:, None]
        service = np.where(r.certified[due, None] & claims_here, Service.CHRONIC, Service.OUTPATIENT)
        bill = (self.fp.chronic_visit_fee[tiers]
                + self.fp.chronic_drug_cost_per_day[tiers] * self.rules.prescription_days)
        utility = self._utility(due, np.zeros(n), service, bill,
                                self.cp.outpatient_tier_constant)
        gumbel = self._gumbel("choice.chronic", (n, 5))
        pick = self._allocate(utility, gumbel, fac, self.slots - self.visits_today())
        ok = pick >= 0
        rows = np.flatnonzero(ok)
        self._outpatient_visit(due[ok], fac[rows, pick[ok]], service[rows, pick[ok]],
                               bill[rows, pick[ok]])

    def _serious_episodes(self) -> None:
        """Acute serious illness: choose a hospital (beds permitting) and be admitted."""
        ill, sev = self._new_episodes(self.ip.serious_episodes_per_year,
                                      self.ip.serious_severity_beta, "serious")
        ill_rng = self.streams.on("illness", self.day + 100_000)
        emergency = ill_rng.random(len(ill)) < self.ip.emergency_share
        u_los = ill_rng.random(len(ill))
        u_rehab = self.streams.on("referral", self.day + 100_000).random(len(ill))
        free = self.residents.inpatient_at[ill] < 0
        ill, sev, emergency, u_los, u_rehab = (a[free] for a in (ill, sev, emergency, u_los,
                                                                 u_rehab))
        n = len(ill)
        if not n:
            return
        fac = self.choice_set[self.residents.village[ill]][:, INPATIENT_COLUMNS]
        tiers = np.broadcast_to(CHOICE_TIERS[INPATIENT_COLUMNS], (n, 4))
        utility = self._utility(ill, sev, Service.INPATIENT,
                                self.fp.admission_bill[CHOICE_TIERS[INPATIENT_COLUMNS]],
                                self.cp.inpatient_tier_constant,
                                inpatient=True, emergency=emergency)
        utility[(self.beds[np.maximum(fac, 0)] == 0)] = -np.inf
        gumbel = self._gumbel("choice.inpatient", (n, 4))
        pick = self._allocate(utility, gumbel, fac, self.beds - self.beds_occupied)
        ok = pick >= 0
        self._admit(ill[ok], fac[ok, pick[ok]], sev[ok], stay=None, u_los=u_los[ok],
                    referral=Referral.NONE, prior_deductible=0.0, emergency=emergency[ok],
                    u_rehab=u_rehab[ok])

    # -- shared mechanics ----------------------------------------------------------------------

    def _new_episodes(self, rates, severity_beta, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Residents falling ill today: Poisson count per age band, members drawn uniformly.

        Count_b ~ Poisson(rate_b / 365 × residents_b); returns (rows, severity ~ Beta(a, b)).
        """
        offset = 0 if kind == "minor" else 50_000
        rng = self.streams.on("illness", self.day + offset)
        start = self.residents.band_start
        size = np.diff(start)
        counts = rng.poisson(rates / 365.0 * size)
        rows = np.concatenate([s + rng.integers(0, max(m, 1), c)
                               for s, m, c in zip(start[:-1], size, counts, strict=True)])
        rows = rng.permutation(rows)
        a, b = severity_beta
        sev = self.streams.on("severity", self.day + offset).beta(a, b, len(rows))
        return rows.astype(np.int64), sev

    def _gumbel(self, process: str, shape: tuple[int, int]) -> np.ndarray:
        """Standard Gumbel draws −log(−log U) (float32) from ``process``'s stream today."""
        u = self.streams.on(process, self.day).random(shape, dtype=np.float32)
        return -np.log(-np.log(np.maximum(u, np.float32(1e-12))))

    def _bill_noise(self, n: int, k: int) -> np.ndarray:
        """Mean-one lognormal multipliers of bills: exp(σz − σ²/2)."""
        s = self.fp.bill_dispersion
        return np.exp(s * self.streams.on("bill", self.day).standard_normal((n, k)) - s * s / 2)

    def visits_today(self) -> np.ndarray:
        """Outpatient visits at each facility so far today."""
        return self._visits_today if self._visits_day == self.day else np.zeros_like(self.slots)

    _visits_day = -1

    def _allocate(self, utility, gumbel, fac, capacity_left) -> np.ndarray:
        pick, away = allocate(utility, gumbel, fac, capacity_left)
        self.today.turned_away += np.bincount(self.fac_tier, weights=away, minlength=4).astype(
            np.int64)
        return pick

    def _village_utility(self, tier_constant: np.ndarray, inpatient: bool) -> np.ndarray:
        """[village, alternative] utility shared by a village's residents today.

        tier constant − w_travel × hours − w_crowd × yesterday's load (visits / slots, or
        occupied / beds); −inf where the village has no such alternative.
        """
        cols = INPATIENT_COLUMNS if inpatient else ALL_COLUMNS
        fac = self.choice_set[:, cols]
        used, capacity = ((self.beds_occupied, self.beds) if inpatient
                          else (self.visits_yesterday, self.slots))
        load = used / np.maximum(capacity, 1)
        base = (tier_constant[CHOICE_TIERS[cols]]
                - self.cp.travel_per_hour * self.travel[:, cols] / 60
                - self.cp.crowding * load[np.maximum(fac, 0)])
        return np.where(fac >= 0, base, -np.inf)

    def _utility(self, res, sev, service, bill, tier_constant, *, inpatient=False,
                 emergency=False) -> np.ndarray:
        """Systematic utility of each alternative (DESIGN.md "One episode's life", step 2).

        V = village part (tier constant − travel − crowding, ``_village_utility``)
            + w_q × quality × severity − w_cost × OOP/100 × (median income / income)^η
            + w_contract [own grassroots facility] + w_habit [tier used last time].
        OOP is the expected out-of-pocket under today's rules for this very patient.
        """
        r = self.residents
        cols = INPATIENT_COLUMNS if inpatient else ALL_COLUMNS
        tiers = CHOICE_TIERS[cols][None, :]
        own = OWN_GRASSROOTS[cols][None, :]
        contracted = r.contracted[res]
        oop = price_claims(
            self.rules, bill=bill, scheme=r.scheme[res, None], service=service, tier=tiers,
            poverty=r.poverty[res, None],
            emergency=np.asarray(emergency)[..., None] if np.ndim(emergency) else emergency,
            contracted_here=contracted[:, None] & own,
            deductible_paid_year=_per_service(r.deductible_paid_year, service, res),
            fund_paid_year=_per_service(r.fund_paid_year, service, res),
            assistance_paid_year=r.assistance_paid_year[res, None],
        ).patient
        income_factor = np.clip(self.income_median / r.income[res],
                                0.2, 5.0) ** self.cp.income_elasticity
        quality = self.fp.quality[tiers]
        return (self._village_utility(tier_constant, inpatient)[r.village[res]]
                + (self.cp.quality_x_severity * sev)[:, None] * quality
                - (self.cp.cost_per_100_yuan / 100 * income_factor)[:, None] * oop
                + (self.cp.family_doctor * contracted)[:, None] * own
                + self.cp.habit * (r.last_tier[res, None] == tiers))

    def _outpatient_visit(self, res, fac, service, bill) -> None:
        if not len(res):
            return
        if self._visits_day != self.day:
            self._visits_today, self._visits_day = np.zeros_like(self.slots), self.day
        self._visits_today += np.bincount(fac, minlength=len(self.slots))
        tier = self.fac_tier[fac]
        self.today.add_visits(service, tier, self.residents.scheme[res])
        claim = self._claim(res, fac, service, bill)
        self._settle(res, fac, service, claim)

    def _claim(self, res, fac, service, bill, *, referral=Referral.NONE, prior_deductible=0.0,
               emergency=False):
        r = self.residents
        v = r.village[res]
        contracted_here = r.contracted[res] & ((self.choice_set[v, 0] == fac)
                                               | (self.choice_set[v, 1] == fac))
        return price_claims(
            self.rules, bill=bill, scheme=r.scheme[res], service=service, tier=self.fac_tier[fac],
            poverty=r.poverty[res], referral=referral, prior_deductible_paid=prior_deductible,
            emergency=emergency, contracted_here=contracted_here,
            deductible_paid_year=r.deductible_paid_year[service, res],
            fund_paid_year=r.fund_paid_year[service, res],
            assistance_paid_year=r.assistance_paid_year[res],
        )

    def _settle(self, res, fac, service, claim) -> None:
        """Book a batch of claims: resident accumulators, daily counters, facility totals."""
        r = self.residents
        tier = self.fac_tier[fac]
        at = service * len(r) + res  # flat index into the [service, resident] accumulators
        np.add.at(r.deductible_paid_year.reshape(-1), at, claim.deductible_paid.astype(np.float32))
        np.add.at(r.fund_paid_year.reshape(-1), at, claim.fund.astype(np.float32))
        np.add.at(r.assistance_paid_year, res, claim.assistance.astype(np.float32))
        np.add.at(r.oop_year, res, claim.patient.astype(np.float32))
        r.last_tier[res] = tier
        self.today.add_claims(claim, service, tier, r.scheme[res], r.quintile[res])
        n_fac = len(self.slots)
        self.facility_totals["fund"] += np.bincount(fac, weights=claim.fund, minlength=n_fac)
        self.facility_totals["bill"] += np.bincount(fac, weights=claim.bill, minlength=n_fac)
        key = "admissions" if np.ndim(service) == 0 and service == Service.INPATIENT else "visits"
        self.facility_totals[key] += np.bincount(fac, minlength=n_fac)

    def _admit(self, res, fac, sev, *, stay, referral, prior_deductible, emergency, u_rehab,
               u_los=None) -> None:
        """Admit a batch: length of stay, bill, claim, bed, and any transfer/rehab to come.

        Stay = mean LOS × (0.5 + U) rounded (≥ 1 day), or transfer_after_days if the facility
        cannot treat the severity (then an upward transfer is queued). Bill = admission bill ×
        stay / mean LOS (rehabilitation: bed-day bill × stay).
        """
        if not len(res):
            return
        tier = self.fac_tier[fac]
        mean_los = self.fp.length_of_stay[tier]
        rehab = stay is not None
        if rehab:
            bill = self.fp.rehab_bed_day_bill * stay
            capable = np.ones(len(res), bool)
        else:
            stay = np.maximum(1, np.rint(mean_los * (0.5 + u_los))).astype(np.int64)
            capable = sev <= self.fp.inpatient_capability[tier]
            stay = np.where(capable, stay, np.minimum(stay, self.fp.transfer_after_days))
            bill = self.fp.admission_bill[tier] * stay / mean_los
        stay = np.minimum(stay, MAX_STAY_DAYS)
        service = Service.INPATIENT
        claim = self._claim(res, fac, service, bill, referral=referral,
                            prior_deductible=prior_deductible, emergency=emergency)
        self._settle(res, fac, service, claim)
        r = self.residents
        self.today.add_admissions(tier, r.scheme[res])
        self.beds_occupied += np.bincount(fac, minlength=len(self.beds))
        out = self.day + stay
        np.add.at(self._discharges, (out % len(self._discharges), fac), 1)
        r.inpatient_at[res] = fac
        r.discharge_day[res] = out
        r.referral[res] = referral
        up = ~capable
        down = (capable & (tier == Tier.COUNTY) & (u_rehab < self.rules.down_for_rehab)
                & (referral != Referral.DOWN))
        self._pending.push(_Pending.UP, res[up], out[up], tier[up], sev[up],
                           claim.deductible_paid[up], np.broadcast_to(emergency, res.shape)[up])
        self._pending.push(_Pending.DOWN, res[down], out[down], tier[down], sev[down],
                           claim.deductible_paid[down], np.zeros(down.sum(), bool))

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


class _Pending:
    """Referrals waiting for a day: upward transfers and downward rehabilitation stays."""

    UP, DOWN = 1, 2
    COLUMNS = ("kind", "res", "day", "tier", "severity", "deductible_paid", "emergency")

    def __init__(self) -> None:
        self.table = {c: np.zeros(0) for c in self.COLUMNS}

    def push(self, kind, res, day, tier, severity, deductible_paid, emergency) -> None:
        """Queue rows to be handled on ``day``."""
        if len(res):
            new = (np.full(len(res), kind), res, day, tier, severity, deductible_paid, emergency)
            for c, v in zip(self.COLUMNS, new, strict=True):
                self.table[c] = np.concatenate([self.table[c], v])

    def pop(self, day: int) -> dict[str, np.ndarray]:
        """Remove and return the rows due on ``day`` (typed columns)."""
        now = self.table["day"] == day
        due = {c: v[now] for c, v in self.table.items()}
        self.table = {c: v[~now] for c, v in self.table.items()}
        for c in ("kind", "res", "tier"):
            due[c] = due[c].astype(np.int64)
        due["emergency"] = due["emergency"].astype(bool)
        return due


def _per_service(accumulator: np.ndarray, service: np.ndarray, res: np.ndarray) -> np.ndarray:
    """accumulator[service, res] as [n, 1] (scalar service) or [n, k] (per-alternative service)."""
    if np.ndim(service) == 0:
        return accumulator[service, res][:, None]
    return np.where(service == Service.CHRONIC, accumulator[Service.CHRONIC, res][:, None],
                    accumulator[Service.OUTPATIENT, res][:, None])


def _build_county(scenario: Scenario, rng: np.random.Generator) -> County:
    c = scenario.county
    capacity = {
        tier: {"outpatient_slots_per_day": getattr(scenario.facilities.capacity_per_1000
                                                   .outpatient_slots_per_day.value, tier),
               "beds": getattr(scenario.facilities.capacity_per_1000.beds.value, tier)}
        for tier in ("village", "township", "county", "out_of_county")
    }
    if c.synthetic is not None:
        s = c.synthetic
        return synthetic_county(
            name=c.name, population=s.population.value, n_townships=s.townships.value,
            n_villages=s.villages.value, radius_km=s.radius_km.value,
            village_road_kmh=s.village_road_kmh.value, trunk_road_kmh=s.trunk_road_kmh.value,
            out_of_county_minutes=s.out_of_county_minutes.value, capacity_per_1000=capacity,
            n_county_hospitals=s.county_hospitals.value, rng=rng,
        )
    base = scenario.file.parent if scenario.file else Path.cwd()
    return load_county_csv(
        base / c.csv.villages.value, base / c.csv.facilities.value, name=c.name,
        road_kmh=c.csv.road_kmh.value, detour_factor=c.csv.detour_factor.value,
        out_of_county_minutes=c.csv.out_of_county_minutes.value,
    )
