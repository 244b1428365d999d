"""Inpatient care: who is admitted where today, how long they stay, and what follows.

``Admissions`` is the day's stage: upward transfers (上转) and downward rehabilitation referrals
(下转) due today first, then new acute serious episodes choosing among hospitals with a free bed
or forgoing admission (应住院未住院; never in an emergency); free beds go to them in that order
and all are admitted as one batch. ``Stays`` holds the stays in progress: it admits a batch
(length of stay, bill, claim, provider payment, bed) and frees the beds of the day's discharges.
"""

from __future__ import annotations

import numpy as np

from flowsim import encounters
from flowsim.benefits import Claim
from flowsim.choice import CHOICE_TIERS, WITH_BEDS, Column
from flowsim.domain import IS_GRASSROOTS, N_SCHEMES, Direction, Referral, Route, Service, Tier
from flowsim.outpatient import book_visits, take_paths
from flowsim.policy import provider_payment

MAX_STAY_DAYS = 120
"""Length-of-stay ceiling (days)."""
STAY = np.dtype([("row", np.int64), ("facility", np.int64), ("discharge", np.int64),
                 ("then", np.int8), ("severity", np.float64), ("deductible_paid", np.float64),
                 ("emergency", np.bool_)])
"""An inpatient stay in progress: resident row, facility, day of discharge, and what follows
it (``then``, a ``Referral`` code: UP a transfer to a higher tier, DOWN rehabilitation at the
resident's township centre, NONE home), with what a transfer carries over (severity, deductible
paid, emergency)."""
BATCH_FIELDS = ("res", "fac", "severity", "referral", "prior_deductible", "emergency", "u_los",
                "u_rehab")
"""Per-patient arrays of a batch of admissions (``Stays.admit``)."""


class Stays:
    """Inpatient stays in progress.

    State:
        stays: ``STAY`` records of the residents in hospital now.
        referred: today's discharges that continue as a transfer up or a rehabilitation stay.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.params = model.params.facilities
        self.stays = np.zeros(0, STAY)
        self.referred = self.stays

    def discharge(self) -> None:
        """Free the beds of today's discharges; keep those referred on (``referred``)."""
        m = self.model
        now = self.stays["discharge"] == m.day
        leaving = self.stays[now]
        self.stays = self.stays[~now]
        m.facilities.beds_occupied -= np.bincount(leaving["facility"], minlength=len(m.facilities))
        r = m.residents
        r.inpatient_at[leaving["row"]] = -1
        r.discharge_day[leaving["row"]] = -1
        self.referred = leaving[leaving["then"] != Referral.NONE]

    def admit(self, batch: dict[str, np.ndarray]) -> None:
        """Admit a batch (``BATCH_FIELDS``): stay, bill, claim, provider payment, bed, what follows.

        The fund pays the provider by the tier's payment method (``policy.provider_payment``).
        """
        m = self.model
        res, fac = batch["res"], batch["fac"]
        tier = m.facilities.tier[fac]
        rehab = batch["referral"] == Referral.DOWN
        stay, capable = self._length_of_stay(batch, tier, rehab)
        f = self.params
        bill = np.where(rehab, f.rehab_bed_day_bill * stay,
                        f.admission_bill[tier] * stay / f.length_of_stay[tier])
        service = np.full(len(res), Service.INPATIENT)
        claim = Claim(bill, *encounters.claims(
            m.rules.tables, encounters.gather(m.residents.table, res), fac, m.facilities.tier,
            m.chooser.own_facilities, service, bill, batch["referral"].astype(np.int64),
            batch["prior_deductible"].astype(np.float64), batch["emergency"].astype(np.bool_)))
        paid = provider_payment(m.rules, claim, tier=tier, severity=batch["severity"], stay=stay,
                                rehab=rehab)
        encounters.book(m.books, res, fac, service, bill, claim.deductible_paid, claim.fund,
                        claim.assistance, claim.patient, paid.fund, True)
        if m.rules.paid_by("dip").any():
            m.today.dip_points += np.bincount(tier, weights=paid.dip_points, minlength=len(Tier))
            m.today.dip_standard += np.bincount(tier, weights=paid.dip_standard,
                                                minlength=len(Tier))
        m.facilities.beds_occupied += np.bincount(fac, minlength=len(m.facilities))
        route = np.select([batch["referral"] == Referral.UP, rehab], [Route.TRANSFER, Route.REHAB],
                          Route.NEW)
        np.add.at(m.today.stays_by_route, (route, tier), 1)
        self._record(batch, stay, self._what_follows(batch, tier, rehab, capable), capable,
                     claim.deductible_paid)

    def _length_of_stay(self, batch, tier, rehab) -> tuple[np.ndarray, np.ndarray]:
        """(stay in days, whether the facility treats the patient to the end of the stay).

        Stay = mean LOS × (0.5 + U) × (0.5 + severity) rounded, ≥ 1 day (rehabilitation: rehab
        LOS × (0.5 + U)); both factors average 1, so severity moves cost without moving the mean.
        Each stay is multiplied by its facility's decided stay factor (``Decisions``: acute or
        rehabilitation). A facility that cannot treat the severity (above its decided
        capability), or that sends a costly patient out of the county (severity ≥
        ``providers.costly_severity``, with its decided ``send_out_share``), keeps the patient
        ``transfer_after_days``.
        """
        m, f = self.model, self.params
        d, fac = m.providers.decisions, batch["fac"]
        mean_los = np.where(rehab, f.rehab_length_of_stay, f.length_of_stay[tier])
        severity_factor = np.where(rehab, 1.0, 0.5 + batch["severity"])
        # provider decision: how long to keep inpatients
        factor = np.where(rehab, d.rehab_stay_factor[fac], d.stay_factor[fac])
        stay = np.maximum(1, np.rint(mean_los * (0.5 + batch["u_los"]) * severity_factor
                                     * factor)).astype(np.int64)
        capable = rehab | (batch["severity"] <= d.inpatient_capability[fac])
        if d.send_out_share[fac].any():  # provider decision: costly patients sent out
            u_send = m.streams.on("transfer.send_out", m.day).random(len(fac))
            capable &= ~((batch["severity"] >= m.params.providers.costly_severity) & ~rehab
                         & (batch["referral"] != Referral.UP)
                         & (u_send < d.send_out_share[fac]))
        stay = np.minimum(np.where(capable, stay, np.minimum(stay, f.transfer_after_days)),
                          MAX_STAY_DAYS)
        return stay, capable

    def _what_follows(self, batch, tier, rehab, capable) -> np.ndarray:
        """``Referral`` code after discharge: UP if not treated here, DOWN for rehabilitation.

        County discharges are referred down for rehabilitation with the hospital's decided
        probability (``Decisions.down_for_rehab``).
        """
        p_down = self.model.providers.decisions.down_for_rehab[batch["fac"]]
        down = (capable & ~rehab & (tier == Tier.COUNTY)
                & (batch["u_rehab"] < np.minimum(p_down, 1.0)))
        return np.where(capable, np.where(down, Referral.DOWN, Referral.NONE), Referral.UP)

    def _record(self, batch, stay, then, capable, deductible_paid) -> None:
        """Add the batch's stays; mark the residents as in hospital until discharge."""
        m = self.model
        res = batch["res"]
        stays = np.empty(len(res), STAY)
        stays["row"], stays["facility"], stays["discharge"] = res, batch["fac"], m.day + stay
        stays["then"] = then
        stays["severity"], stays["deductible_paid"] = batch["severity"], deductible_paid
        stays["emergency"] = batch["emergency"] & ~capable  # carried over by a transfer only
        self.stays = np.concatenate([self.stays, stays])
        m.residents.inpatient_at[res] = batch["fac"]
        m.residents.discharge_day[res] = stays["discharge"]


class Admissions:
    """The day's admissions: transfers up, rehabilitation referrals down, new serious episodes."""

    def __init__(self, model) -> None:
        self.model = model

    def step(self) -> None:
        """Admit today's transfers up, rehab referrals down and new serious episodes.

        Free beds go to them in that order of priority; all are admitted as one batch.
        """
        m = self.model
        due = m.stays.referred
        free = m.facilities.beds - m.facilities.beds_occupied
        batches = []
        for choose in (self._transfers_up, self._rehab_referrals, self._serious_episodes):
            batch = choose(due, free)
            if batch is not None and len(batch["res"]):
                free = free - np.bincount(batch["fac"], minlength=len(free))
                batches.append(batch)
        if batches:
            m.stays.admit({k: np.concatenate([b[k] for b in batches]) for k in BATCH_FIELDS})

    def _transfers_up(self, due, free) -> dict | None:
        """上转: inpatients the facility cannot treat go to the county hospital, else outside.

        The county hospital takes them if it can treat the severity and has a free bed. The
        lead hospital (the village's county hospital) keeps its decided share of the patients it
        would send out of the county (``Decisions.keep_share``), treating them within its
        capability.
        """
        m = self.model
        up = due[due["then"] == Referral.UP]
        if not len(up):
            return None
        res, from_tier, sev = up["row"], m.facilities.tier[up["facility"]], up["severity"]
        n = len(res)
        rng = m.streams.on("referral.transfer", m.day)
        u_rehab, u_keep = rng.random(n), rng.random(n)
        hospitals = m.chooser.alternatives[[Column.COUNTY, Column.OUT_OF_COUNTY]][
            :, m.residents.village[res]]
        county_cap = m.params.facilities.inpatient_capability[Tier.COUNTY]
        lead = hospitals[0]
        keep = u_keep < np.where(lead >= 0, m.providers.decisions.keep_share[lead], 0.0)
        to_county = (IS_GRASSROOTS[from_tier] & (sev <= county_cap)) | keep
        sev = np.where(keep, np.minimum(sev, county_cap), sev)
        wants = np.vstack([to_county, ~to_county]).astype(np.float64)
        pick, _ = m.facilities.allocate(wants, np.zeros(n), hospitals, free)
        pick[pick < 0] = 1  # the county hospital is full: outside
        fac = hospitals[pick, np.arange(n)]
        to_tier = m.facilities.tier[fac]
        moved = to_tier != from_tier
        np.add.at(m.today.referrals[Direction.UP], (from_tier[moved], to_tier[moved]), 1)
        return dict(res=res, fac=fac, severity=sev, referral=np.full(n, Referral.UP),
                    prior_deductible=up["deductible_paid"], emergency=up["emergency"],
                    u_los=m.streams.on("length_of_stay.transfer", m.day).random(n),
                    u_rehab=u_rehab)

    def _rehab_referrals(self, due, free) -> dict | None:
        """下转: county inpatients referred to their own township centre for rehabilitation."""
        m = self.model
        res = due["row"][due["then"] == Referral.DOWN]
        if not len(res):
            return None
        own_township = m.chooser.alternatives[Column.OWN_TOWNSHIP, m.residents.village[res]]
        pick, _ = m.facilities.allocate(np.ones((1, len(res))), np.zeros(len(res)),
                                        own_township[None, :], free)
        ok = pick == 0
        n = int(ok.sum())
        m.today.referrals[Direction.DOWN, Tier.COUNTY, Tier.TOWNSHIP] += n
        return dict(res=res[ok], fac=own_township[ok], severity=np.zeros(n),
                    referral=np.full(n, Referral.DOWN), prior_deductible=np.zeros(n),
                    emergency=np.zeros(n, bool),
                    u_los=m.streams.on("length_of_stay.rehab", m.day).random(n),
                    u_rehab=np.ones(n))

    def _serious_episodes(self, due, free) -> dict | None:
        """Acute serious illness: choose a hospital with a free bed, or forgo admission."""
        m = self.model
        ill, sev = m.illness.new_episodes("serious")
        rng = m.streams.on("episode.serious", m.day)
        emergency = rng.random(len(ill)) < m.params.illness.emergency_share
        u_los, u_rehab, u_avoid = (rng.random(len(ill)) for _ in range(3))
        free_person = m.residents.inpatient_at[ill] < 0
        ill, sev, emergency, u_los, u_rehab, u_avoid = (
            a[free_person] for a in (ill, sev, emergency, u_los, u_rehab, u_avoid))
        n = len(ill)
        if not n:
            return None
        p = encounters.gather(m.residents.table, ill)
        scheme = p["scheme"]
        m.today.serious_episodes += np.bincount(scheme, minlength=N_SCHEMES)
        forgo = len(WITH_BEDS)  # the extra alternative after the hospitals
        hospitals = m.chooser.of(p)[WITH_BEDS]
        hospitals[m.facilities.beds[np.maximum(hospitals, 0)] == 0] = -1  # no beds: no option
        weight, referred = m.chooser.weights(
            p, hospitals, sev, Service.INPATIENT,
            m.params.facilities.admission_bill[CHOICE_TIERS[WITH_BEDS]], inpatient=True,
            emergency=emergency, without_care=m.params.choice.no_admission_constant)
        uniform = m.streams.on("choice.inpatient", m.day).random(n)
        pick, _ = m.facilities.allocate(weight, uniform, hospitals, free)
        m.today.admissions_forgone += np.bincount(scheme[pick == forgo], minlength=N_SCHEMES)
        rows = np.flatnonzero((pick >= 0) & (pick != forgo))
        chosen = hospitals[pick[rows], rows]
        via = referred[pick[rows], rows]
        tier = m.facilities.tier[chosen]
        m.today.choices[Service.INPATIENT] += np.bincount(tier, minlength=len(Tier))
        first = take_paths(m, ill[rows], p[rows], Service.INPATIENT, tier, via,
                           emergency=emergency[rows])
        m.today.first_contact += np.bincount(first, minlength=len(Tier))
        referral = np.where(via, Referral.GRASSROOTS, Referral.NONE)
        rows, chosen, referral = self._treat_as_outpatients(ill, sev, emergency, u_avoid, rows,
                                                            chosen, referral)
        return dict(res=ill[rows], fac=chosen, severity=sev[rows], referral=referral,
                    prior_deductible=np.zeros(len(rows)), emergency=emergency[rows],
                    u_los=u_los[rows], u_rehab=u_rehab[rows])

    def _treat_as_outpatients(self, ill, sev, emergency, u_avoid, rows, chosen, referral):
        """A case-paid hospital treats some low-severity patients as outpatients instead.

        Provider response (``responses.case_payment_*``); returns the rows still admitted, their
        hospitals and referral codes.
        """
        m = self.model
        tier = m.facilities.tier[chosen]
        avoid = (m.rules.case_paid[tier] & ~emergency[rows]
                 & (sev[rows] < m.params.responses.case_payment_outpatient_below)
                 & (u_avoid[rows] < m.params.responses.case_payment_avoided_admissions))
        if not avoid.any():
            return rows, chosen, referral
        m.today.admissions_avoided += np.bincount(tier[avoid], minlength=len(Tier))
        book_visits(m, ill[rows[avoid]], chosen[avoid], Service.OUTPATIENT,
                    m.params.facilities.outpatient_bill[tier[avoid]], referral[avoid])
        return rows[~avoid], chosen[~avoid], referral[~avoid]
