"""Outpatient stages of the day: acute minor episodes (with referral up) and 两病 follow-ups.

Both choose by the county's logit (``flowsim.choice.Chooser``) among the resident's choice set,
take outpatient places first come first served (``Facilities.allocate``), and price and book
each visit in order on the resident's record (``book_visits``).
"""

from __future__ import annotations

import numpy as np

from flowsim import encounters
from flowsim.choice import CHOICE_TIERS, Column
from flowsim.domain import (
    IS_IN_COUNTY,
    N_SCHEMES,
    TIERS,
    Direction,
    Referral,
    Service,
    Tier,
    higher_level,
)


def book_visits(model, rows, fac, service, bill, referral=Referral.NONE) -> None:
    """Outpatient visits of residents ``rows`` at facilities ``fac``: places taken, priced, booked.

    ``service`` and ``referral`` are scalars or [n]; ``bill`` [n] yuan (``encounters.visits``).
    """
    n = len(rows)
    model.facilities.book_outpatient_places(fac)
    encounters.visits(model.rules.tables, model.books, rows, fac, model.chooser.own_facilities,
                      _repeat(service, n), np.asarray(bill, np.float64), _repeat(referral, n))


def _repeat(x, n: int) -> np.ndarray:
    """``x`` as an int64 array of ``n`` (a scalar is repeated)."""
    return np.full(n, x, np.int64) if np.ndim(x) == 0 else np.ascontiguousarray(x, np.int64)


def take_paths(model, rows, records, service, tier, referred, emergency=None):
    """Book the grassroots referral visits of the patients who chose a referral path (基层首诊).

    Patients ``rows`` (residents, with ``records``) go on to ``service`` [n] at ``tier`` [n];
    ``referred`` [n] marks those who first visit their village's referrer
    (``Chooser.referrer``): an ordinary outpatient visit there at its mean bill, booked before
    the care it refers to. Counts the referral visits and the bypass: care at a tier
    penalised without a referral, without one and not in an ``emergency``.

    Returns:
        [n] the tier of each patient's first contact (the referrer's, or ``tier``).
    """
    m = model
    if not m.rules.gatekept:
        return tier
    n = len(rows)
    service = _repeat(service, n)
    referrer = m.chooser.referrer
    village = records["village"]
    if referred.any():
        at = village[referred]
        book_visits(m, rows[referred], referrer.facility[at], Service.OUTPATIENT,
                    referrer.bill[at])
        np.add.at(m.today.gatekeeping_referrals, (service[referred], tier[referred]), 1)
    penalised = m.rules.tables.benefits.gatekeeping_penalty[records["scheme"], service, tier] > 0
    urgent = np.zeros(n, bool) if emergency is None else emergency
    bypass = penalised & ~referred & ~urgent
    np.add.at(m.today.bypass, (service[bypass], tier[bypass]), 1)
    return np.where(referred, referrer.tier[village], tier)


class MinorEpisodes:
    """Acute minor illness: an outpatient visit or no care, and a referral up if needed.

    A patient chooses among their choice set and no care (``Chooser.weights`` with the no-care
    constant), through a grassroots referral where that pays (``take_paths``). A facility refers
    up the patients above its decided threshold (its capability, ``Decisions.refer_up_above``,
    set monthly by the facility agent): they choose, by the same utilities and their residual
    draw, a higher tier that can (or outside).
    """

    def __init__(self, model) -> None:
        self.model = model
        self.bill = model.params.facilities.outpatient_bill  # [tier] yuan per visit
        self.capability = model.params.facilities.outpatient_capability  # [tier] severity 0–1

    def step(self) -> None:
        """Today's new minor episodes, their visits and referrals."""
        m = self.model
        ill, severity = m.illness.new_episodes("minor")
        if not len(ill):
            return
        n = len(ill)
        p = encounters.gather(m.residents.table, ill)
        m.today.minor_episodes += np.bincount(p["scheme"], minlength=N_SCHEMES)
        fac = m.chooser.of(p)
        weight, referred = m.chooser.weights(p, fac, severity, Service.OUTPATIENT,
                                             self.bill[CHOICE_TIERS],
                                             without_care=m.params.choice.no_care_constant)
        uniform = m.streams.on("choice.outpatient", m.day).random(n)
        noise = m.illness.bill_noise(2, n)
        no_care = len(fac)  # the extra alternative after the facilities
        pick, residual = m.facilities.allocate(weight, uniform, fac, m.facilities.slots_left)
        seen = (pick >= 0) & (pick != no_care)
        m.today.no_care += np.bincount(p["scheme"][~seen], minlength=N_SCHEMES)
        rows = np.flatnonzero(seen)
        chosen = fac[pick[rows], rows]
        tier = m.facilities.tier[chosen]
        via = referred[pick[rows], rows]
        m.today.choices[Service.OUTPATIENT] += np.bincount(tier, minlength=len(Tier))
        first = take_paths(m, ill[rows], p[rows], Service.OUTPATIENT, tier, via)
        m.today.first_contact += np.bincount(first, minlength=len(Tier))
        book_visits(m, ill[rows], chosen, Service.OUTPATIENT, self.bill[tier] * noise[0, rows],
                    np.where(via, Referral.GRASSROOTS, Referral.NONE))
        need = rows[severity[rows] > m.providers.decisions.refer_up_above[chosen]]
        if len(need):
            self._refer_up(ill[need], fac[:, need], pick[need], severity[need],
                           weight[:no_care, need], residual[need], noise[1, need])

    def _refer_up(self, ill, fac, pick, severity, weight, residual, noise) -> None:
        """Referral up of patients whose first facility cannot treat their severity.

        The patient chooses among the higher tiers that can treat the severity, or outside the
        county, by their first choice's weights and residual draw (common random numbers).
        """
        m = self.model
        tier_of = m.facilities.tier
        n = len(ill)
        from_tier = tier_of[fac[pick, np.arange(n)]]
        tiers = CHOICE_TIERS[:, None]
        allowed = higher_level(tiers, from_tier) & (
            (severity <= self.capability[tiers]) | (tiers == Tier.OUT_OF_COUNTY))
        to, _ = m.facilities.allocate(np.where(allowed, weight, 0.0), residual, fac,
                                      m.facilities.slots_left)
        ok = np.flatnonzero(to >= 0)
        chosen = fac[to[ok], ok]
        np.add.at(m.today.referrals[Direction.UP], (from_tier[ok], tier_of[chosen]), 1)
        book_visits(m, ill[ok], chosen, Service.OUTPATIENT,
                    self.bill[tier_of[chosen]] * noise[ok], Referral.UP)


class ChronicFollowups:
    """两病 (hypertension, diabetes) patients under management, seen on their prescription cycle.

    State:
        due: {day: rows} residents whose next follow-up falls on that day.
        reach_minutes: [village, tier] minutes to the nearest in-county facility of that tier or
            higher (who can reach a certifying facility).
        remote_village: [village] own township centre further than ``remote_minutes``.

    A follow-up is a visit with chronic (门诊慢特病) benefits where the patient is certified and
    the tier may claim them; village clinics claim only where the scenario says (004 village
    pilot). In hospital on the day, the refill is skipped. Patients weigh quality by how they
    are doing that day (``illness.chronic_severity_beta``).
    """

    def __init__(self, model) -> None:
        self.model = model
        f = model.facilities
        travel = model.county.travel_min
        in_county = IS_IN_COUNTY[f.tier]
        self.reach_minutes = np.stack([
            travel[:, in_county & ~higher_level(t, f.tier)].min(axis=1)
            for t in (Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY)
        ], axis=1)
        chronic = model.config.benefits.chronic
        own_township = model.chooser.travel_min[:, Column.OWN_TOWNSHIP]
        self.remote_village = own_township > chronic.remote_minutes.value
        p = model.params.facilities
        self.visit_fee, self.drug_cost_per_day = p.chronic_visit_fee, p.chronic_drug_cost_per_day
        managed = np.flatnonzero(model.residents.chronic_managed)
        rng = model.streams.on("followup_phase")
        first = rng.integers(0, model.rules.benefits.chronic.prescription_days, managed.size)
        order = np.argsort(first, kind="stable")
        days, starts = np.unique(first[order], return_index=True)
        self.due = dict(zip(days.tolist(), np.split(managed[order], starts[1:]), strict=True))

    def certify(self) -> None:
        """Who is certified under the rules in force: P = exp(−minutes to a certifying tier / d)."""
        m = self.model
        chronic = m.rules.benefits.chronic
        lowest = TIERS.index(chronic.lowest_certifying_tier)
        p_cert = np.exp(-self.reach_minutes[:, lowest] / chronic.certification_decay_minutes)
        r = m.residents
        r.certified[:] = r.chronic_managed & (r.certification_draw < p_cert[r.village])

    def step(self) -> None:
        """Today's follow-ups; each patient's next one is due a prescription later."""
        m = self.model
        r = m.residents
        days = m.rules.benefits.chronic.prescription_days
        due = self.due.pop(m.day, np.zeros(0, np.int64))
        later = m.day + days
        self.due[later] = np.concatenate([self.due.get(later, due[:0]), due])
        due = due[r.inpatient_at[due] < 0]  # in hospital on the day: this refill is skipped
        if not len(due):
            return
        n = len(due)
        p = encounters.gather(r.table, due)
        fac = m.chooser.of(p)
        village_claims = m.rules.benefits.chronic.village_claims
        village_ok = (self.remote_village[p["village"]] if village_claims == "remote"
                      else np.full(n, village_claims == "all"))
        claims_here = (CHOICE_TIERS[:, None] != Tier.VILLAGE) | village_ok
        service = np.where(p["certified"] & claims_here, Service.CHRONIC, Service.OUTPATIENT)
        bill = self.visit_fee[CHOICE_TIERS] + self.drug_cost_per_day[CHOICE_TIERS] * days
        weight, referred = m.chooser.weights(p, fac, m.illness.severity("chronic", n), service,
                                             bill)
        uniform = m.streams.on("choice.chronic", m.day).random(n)
        pick, _ = m.facilities.allocate(weight, uniform, fac, m.facilities.slots_left)
        rows = np.flatnonzero(pick >= 0)
        col = pick[rows]
        chosen = fac[col, rows]
        via = referred[col, rows]
        tier = m.facilities.tier[chosen]
        claimed = service[col, rows]
        m.today.choices += np.bincount(claimed * len(Tier) + tier, minlength=m.today.choices.size
                                       ).reshape(m.today.choices.shape)
        take_paths(m, due[rows], p[rows], claimed, tier, via)
        book_visits(m, due[rows], chosen, claimed, bill[col],
                    np.where(via, Referral.GRASSROOTS, Referral.NONE))
