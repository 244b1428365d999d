"""A day's encounters, compiled: utilities, choices, claims and their booking.

The daily stages hand each batch of patients to these numba loops: ``utilities`` (with the
out-of-pocket each alternative would cost the patient) and ``going_without`` give the logit
weights, from which ``flowsim.choice.allocate`` picks; then ``visits`` charges each outpatient
visit (``flowsim.policy.claim_for``) and books it (``book_claim``) on the resident's record,
today's counters and the facility totals, in order. The out-of-pocket a patient expects when
choosing and the claim they are then charged come from the same rules. Admissions, paid by the
provider-payment rules of ``flowsim.policy`` in between, use the batch loops ``claims`` and
``book``.

Records (``Residents.table`` rows, ``population.RESIDENT_RECORD``) are read where they are, after
a first short pass has brought the day's scattered rows into cache together, or ``gather``-ed
into a contiguous copy. Arrays are laid out [alternative, patient] (k × n) or [patient]; money in
yuan.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from flowsim.domain import Payer, Referral, Service
from flowsim.policy import ENCOUNTER, claim_for

_OUTPATIENT = int(Service.OUTPATIENT)
_NONE, _GRASSROOTS = int(Referral.NONE), int(Referral.GRASSROOTS)
_BILL, _FUND, _ASSISTANCE, _PATIENT, _FUND_PAID = (int(p) for p in Payer)


class Total(IntEnum):
    """Rows of the facility totals ``book_claim`` adds to: encounters, then yuan."""

    VISITS = 0  # outpatient visits
    ADMISSIONS = 1
    FUND = 2  # what the fund paid the facility
    BILL = 3
    REVENUE = 4  # fund paid + assistance + patient
    PATIENT = 5  # out-of-pocket
    ASSISTANCE = 6  # medical assistance


MEASURES = tuple(t.name.lower() for t in Total)
_VISITS, _ADMISSIONS, _T_FUND, _T_BILL, _REVENUE, _T_PATIENT, _T_ASSISTANCE = (
    int(t) for t in Total)


class Taste(NamedTuple):
    """Utility weights that do not depend on the alternative's village (``utilities``)."""

    cost_per_yuan: np.ndarray  # [service] utils per yuan of out-of-pocket (× cost sensitivity)
    family_doctor: float  # utils at the contracted resident's own grassroots facility
    habit: float  # utils at the tier of the resident's last encounter


class ReferralPath(NamedTuple):
    """Where each village's residents get a referral (基层首诊), for ``utilities``."""

    facility: np.ndarray  # [village] row of the grassroots facility that refers (-1: none)
    tier: np.ndarray  # [village] its tier (-1: none)
    bill: np.ndarray  # [village] yuan: the bill of an ordinary outpatient visit there
    burden: np.ndarray  # [village] utils: travel there and the visit's time


class Books(NamedTuple):
    """Where a day's encounters are booked: the residents' records and today's counters."""

    table: np.ndarray  # Residents.table (population.RESIDENT_RECORD)
    fac_tier: np.ndarray  # [facility] tier code
    capitated: np.ndarray  # [tier] bool: ordinary outpatient care paid by capitation
    money: np.ndarray  # [Payer, service, tier, scheme] yuan
    visits: np.ndarray  # [service, tier, scheme]
    admissions: np.ndarray  # [tier, scheme]
    oop_by_quintile: np.ndarray  # [quintile] yuan
    turned_away: np.ndarray  # [facility] patients who found it full
    totals: np.ndarray  # [Total, facility]
    capitation_cost: np.ndarray  # [facility] fund share of capitated claims, yuan


@njit(cache=True)
def gather(records, rows):
    """``records[rows]``, copied by a compiled loop.

    Twice as fast as numpy's fancy indexing of structured records (measured on 9,100 of
    500,000 residents, cold cache).
    """
    out = np.empty(rows.size, records.dtype)
    for i in range(rows.size):
        out[i] = records[rows[i]]
    return out


@njit(cache=True)
def utilities(t, records, fac, tiers, own, village_part, quality_term, severity, service, bill,
              emergency, taste, referrer, gatekept, v, top, referred):
    """Utilities relative to the best alternative, and which alternatives go through a referral.

    ``v`` [k, n] = V − ``top`` [n] (top = the patient's largest V).

    V_direct = village part [alternative, village] (tier constant − travel − crowding)
        + quality_term [k] × severity [n] − taste.cost_per_yuan[service] × cost sensitivity × OOP
        + taste.family_doctor [own grassroots facility, contracted]
        + taste.habit [tier used last time];
    OOP = ``claim_for``'s patient part of ``bill`` [k] under tables ``t`` for resident
    ``records[i]`` at the alternative's tier ``tiers`` [k], today's accumulators, no referral.

    Where the tier's gatekeeping penalty applies (基层首诊: scheme, service and tier penalised, not
    an emergency) and the patient's village has a grassroots ``referrer`` at a lower level, the
    alternative can also be reached through a referral: first a visit there (``referrer``:
    ``ReferralPath``), then the alternative as ``Referral.GRASSROOTS``, unpenalised:
    V_referred = V_direct with the referred claim's OOP − taste.cost_per_yuan[outpatient] ×
    cost sensitivity × OOP of the referral visit − the referrer's burden (travel and visit time).
    V = max(V_direct, V_referred): the patient takes the better path (``referred`` [k, n], False
    on entry). ``gatekept``: whether any gatekeeping penalty is in force (else no path is tried).
    ``fac`` [k, n] < 0 marks an alternative the patient lacks (V = −inf; top = −inf if every one
    is); ``service`` [k, n] is each alternative's benefit category, ``emergency`` [n] bool.
    """
    k, n = fac.shape
    scratch = np.zeros(2, ENCOUNTER)
    encounter, visit = scratch[0], scratch[1]
    for i in range(n):
        rec = records[i]
        # wide indices: numba indexes slowly with the record's int16 and int8 fields
        village, scheme = np.int64(rec.village), np.int64(rec.scheme)
        encounter.emergency = emergency[i]
        encounter.referral = _NONE
        patient = 0.0
        best = -np.inf
        via = -1.0  # utils lost to a referral visit (inf: no referrer), computed when needed
        for j in range(k):
            if fac[j, i] < 0:
                v[j, i] = -np.inf
                continue
            s = np.int64(service[j, i])
            contracted_here = own[j] and rec.contracted
            same_as_previous = (j > 0 and fac[j - 1, i] >= 0 and tiers[j] == tiers[j - 1]
                                and bill[j] == bill[j - 1] and s == service[j - 1, i]
                                and contracted_here == (own[j - 1] and rec.contracted))
            # e.g. the own and the nearest other township centre of a resident without contract
            if not same_as_previous:  # (then the encounter is the previous one's, too)
                encounter.bill = bill[j]
                encounter.service = s
                encounter.tier = tiers[j]
                encounter.contracted_here = contracted_here
                _, _, _, _, patient = claim_for(t, rec, encounter)
            weight = taste.cost_per_yuan[s] * rec.cost_sensitivity
            u = (village_part[j, village] + quality_term[j] * severity[i] - weight * patient)
            if contracted_here:
                u += taste.family_doctor
            if rec.last_tier == tiers[j]:
                u += taste.habit
            if (gatekept and t.benefits.gatekeeping_penalty[scheme, s, tiers[j]] > 0.0
                    and not emergency[i] and tiers[j] > referrer.tier[village]):
                if via < 0.0:
                    via = _referral_visit_cost(t, rec, taste, referrer, visit)
                encounter.referral = _GRASSROOTS
                _, _, _, _, referred_oop = claim_for(t, rec, encounter)
                encounter.referral = _NONE
                through = u + weight * (patient - referred_oop) - via
                if through > u:
                    u = through
                    referred[j, i] = True
            v[j, i] = u
            best = max(best, u)
        top[i] = best
        if best > -np.inf:
            for j in range(k):
                v[j, i] -= best


@njit(cache=True)
def _referral_visit_cost(t, rec, taste, referrer, visit):
    """Utils lost to a referral visit at the village's grassroots referrer (inf: none there).

    OOP of an ordinary outpatient visit there (its bill ``referrer.bill``; ``visit`` a scratch
    ``ENCOUNTER`` record) × the outpatient cost weight × cost sensitivity + ``referrer.burden``
    (travel and the visit's time).
    """
    village = np.int64(rec.village)
    if referrer.tier[village] < 0:
        return np.inf
    visit.bill = referrer.bill[village]
    visit.service = _OUTPATIENT
    visit.tier = referrer.tier[village]
    visit.contracted_here = rec.contracted
    _, _, _, _, patient = claim_for(t, rec, visit)
    return taste.cost_per_yuan[_OUTPATIENT] * rec.cost_sensitivity * patient + referrer.burden[
        village]


@njit(cache=True)
def care_nest(weight, top, constant, dissimilarity, emergency):
    """Nested logit of seeking care, in place on ``weight`` [k + 1, n].

    Rows < k are the facilities', the last row going without care (no care, or not being
    admitted). On entry rows < k hold w_j = exp((V_j − top) / μ), μ = ``dissimilarity`` in
    (0, 1]. With S = Σ_j w_j, the care nest's inclusive value is IV = top + μ log S and
    P(care) = 1 / (1 + exp(V₀ − IV)), V₀ = ``constant`` (a utility that depends on no price).
    On exit the rows are P(care) × w_j / S and 1 − P(care): each patient's choice probabilities.
    In an ``emergency`` [n] going without is not an option; with no facility it is the only one.
    """
    k = weight.shape[0] - 1
    n = weight.shape[1]
    for i in range(n):
        total = 0.0
        for j in range(k):
            total += weight[j, i]
        if emergency[i]:
            weight[k, i] = 0.0
            continue
        if total <= 0.0:
            weight[k, i] = 1.0
            continue
        x = constant - top[i] - dissimilarity * np.log(total)  # V₀ − IV
        if x > 0.0:
            without = 1.0 / (1.0 + np.exp(-x))
        else:
            e = np.exp(x)
            without = e / (1.0 + e)
        scale = (1.0 - without) / total
        for j in range(k):
            weight[j, i] *= scale
        weight[k, i] = without


@njit(cache=True)
def _family_doctor_at(rec, f, own_facilities):
    """Whether resident ``rec``'s family doctor works at facility ``f``.

    True if they have a contract and ``f`` is their village's clinic or township centre
    (``own_facilities`` [2, village]).
    """
    village = np.int64(rec.village)  # a wide index: numba indexes slowly with an int16
    return rec.contracted and (own_facilities[0, village] == f or own_facilities[1, village] == f)


@njit(cache=True)
def claims(t, records, fac, fac_tier, own_facilities, service, bill, referral,
           prior_deductible_paid, emergency):
    """[5, n] claims of encounters of residents with ``records`` at facilities ``fac``.

    ``own_facilities`` [2, village]: each village's clinic and township centre, where a
    contracted resident's family doctor works; the other arguments are [n]. Rows as returned
    by ``benefits.split_bill``: policy range, deductible paid, fund, assistance, patient.
    """
    n = records.size
    out = np.empty((5, n))
    encounter = np.zeros(1, ENCOUNTER)[0]
    for i in range(n):
        rec = records[i]
        f = fac[i]
        encounter.bill = bill[i]
        encounter.service = service[i]
        encounter.tier = fac_tier[f]
        encounter.referral = referral[i]
        encounter.prior_deductible_paid = prior_deductible_paid[i]
        encounter.emergency = emergency[i]
        encounter.contracted_here = _family_doctor_at(rec, f, own_facilities)
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = claim_for(t, rec, encounter)
    return out


@njit(cache=True)
def book_claim(b, rec, f, s, bill, deductible_paid, fund, assistance, patient, fund_paid,
               admission):
    """Book one claim of resident ``rec`` at facility ``f`` (service ``s``) in ``b``.

    Resident accumulators (deductible and fund paid this year by service, assistance,
    out-of-pocket, last tier used); today's money, visits (or, if ``admission``, admissions) and
    out-of-pocket by quintile; the facility totals. What the fund pays the provider is
    ``fund_paid``, except for ordinary outpatient care at a tier paid by capitation: 0, its fund
    share added to the facility's capitation cost instead. Revenue = fund paid + assistance +
    patient.
    """
    tier = b.fac_tier[f]
    scheme = np.int64(rec.scheme)
    if b.capitated[tier] and s == _OUTPATIENT:
        b.capitation_cost[f] += fund
        fund_paid = 0.0
    rec.deductible_paid_year[s] += deductible_paid
    rec.fund_paid_year[s] += fund
    rec.assistance_paid_year += assistance
    rec.oop_year += patient
    rec.last_tier = tier
    b.money[_BILL, s, tier, scheme] += bill
    b.money[_FUND, s, tier, scheme] += fund
    b.money[_ASSISTANCE, s, tier, scheme] += assistance
    b.money[_PATIENT, s, tier, scheme] += patient
    b.money[_FUND_PAID, s, tier, scheme] += fund_paid
    b.oop_by_quintile[np.int64(rec.quintile)] += patient
    if admission:
        b.admissions[tier, scheme] += 1
        b.totals[_ADMISSIONS, f] += 1
    else:
        b.visits[s, tier, scheme] += 1
        b.totals[_VISITS, f] += 1
    b.totals[_T_FUND, f] += fund_paid
    b.totals[_T_BILL, f] += bill
    b.totals[_REVENUE, f] += fund_paid + assistance + patient
    b.totals[_T_PATIENT, f] += patient
    b.totals[_T_ASSISTANCE, f] += assistance


@njit(cache=True)
def _prefetch(table, rows):
    """Read records ``rows`` in a short loop, so that they arrive in cache together.

    The loops that follow would each wait for their record otherwise. Returns the sum of the
    villages (≥ 0), which callers check, so that the reads are not optimised away.
    """
    total = 0
    for i in range(rows.size):
        total += table[rows[i]].village
    return total


@njit(cache=True)
def visits(t, b, rows, fac, own_facilities, service, bill, referral):
    """Outpatient visits of residents ``rows`` at facilities ``fac`` (arguments [n]), in order.

    Each visit is priced from the resident's record as booked so far (a second visit on the same
    day sees the deductible paid at the first) and booked. ``own_facilities`` [2, village]: each
    village's clinic and township centre, where a contracted resident's family doctor works;
    ``referral`` [n] the visit's ``Referral`` code.
    """
    if _prefetch(b.table, rows) < 0:
        raise ValueError("negative village row")
    encounter = np.zeros(1, ENCOUNTER)[0]
    for i in range(rows.size):
        rec = b.table[rows[i]]
        f = fac[i]
        encounter.bill = bill[i]
        encounter.service = service[i]
        encounter.tier = b.fac_tier[f]
        encounter.referral = referral[i]
        encounter.contracted_here = _family_doctor_at(rec, f, own_facilities)
        _, deductible_paid, fund, assistance, patient = claim_for(t, rec, encounter)
        book_claim(b, rec, f, service[i], bill[i], deductible_paid, fund, assistance, patient,
                   fund, False)


@njit(cache=True)
def book(b, rows, fac, service, bill, deductible_paid, fund, assistance, patient, fund_paid,
         admission):
    """``book_claim`` for claims of residents ``rows`` (arguments [n] but ``b``, ``admission``)."""
    if _prefetch(b.table, rows) < 0:
        raise ValueError("negative village row")
    for i in range(rows.size):
        book_claim(b, b.table[rows[i]], fac[i], service[i], bill[i], deductible_paid[i], fund[i],
                   assistance[i], patient[i], fund_paid[i], admission)
