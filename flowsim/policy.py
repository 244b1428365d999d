"""The benefit rules in force on a given day, as arrays, and the claim a patient faces under them.

``rules_on(scenario, day)`` turns the scenario's (possibly dated) policy values into ``Rules``;
``claim_for`` composes the cost-sharing rules of ``flowsim.benefits`` into one encounter's claim
(compiled with numba; ``price_claims`` applies it to arrays). Both the expected out-of-pocket
used in facility choice and the real claims go through ``claim_for`` (``flowsim.encounters``),
so patients respond to exactly the rules they will be charged by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numba import njit

from flowsim import benefits, payment
from flowsim.config import Scenario
from flowsim.domain import TIERS, Poverty, Referral, Scheme, Service, Tier


@dataclass(frozen=True)
class Rules:
    """Benefit rules on one day. Arrays are indexed [scheme, service, tier] unless noted."""

    day: date
    deductible: np.ndarray  # yuan (per year for outpatient services, per admission for inpatient)
    rate: np.ndarray  # fraction of the policy-range bill above the deductible
    annual_cap: np.ndarray  # [scheme, service] yuan of fund payments per person-year
    catalogue_share: np.ndarray  # [service, tier] in-catalogue fraction of a bill
    grassroots_outpatient_deductible_waived: bool
    upward_continuity: str  # none | first_only | difference
    downward_waived: bool
    penalty_size: float
    penalty_mode: str  # points | relative
    lowest_certifying_tier: int  # Tier code
    village_claims: str  # none | remote | all
    prescription_days: int
    family_doctor_min_rate: np.ndarray  # [service]
    assistance_share: np.ndarray  # [Poverty] (0 for NONE)
    assistance_cap: np.ndarray  # [Poverty] yuan per person-year
    assistance_services: np.ndarray  # [service] bool
    down_for_rehab: float  # fraction of county discharges referred down
    drg: np.ndarray  # [tier] bool: admissions paid by DRG standard (else fee-for-service)
    drg_base_rate: np.ndarray  # [tier] yuan per unit of group weight
    same_price_groups: int  # lowest-weight groups paid same_price_base_rate at every tier
    same_price_base_rate: float  # yuan per unit of group weight
    dip: np.ndarray  # [tier] bool: admissions paid by DIP points
    dip_points_per_weight: float
    dip_tier_coefficient: np.ndarray  # [tier]
    dip_point_value: float  # provisional yuan per point (monthly settlement)
    dip_budget_per_capita: float  # yuan per resident-year: regional DIP budget
    capitation: np.ndarray  # [tier] bool: ordinary outpatient care paid by capitation
    capitation_rate: float  # yuan per catchment resident per year
    rehab_bed_day: bool  # rehabilitation stays paid per bed-day (else fee-for-service)
    rehab_bed_day_rate: float  # yuan per bed-day
    contribution: np.ndarray  # [scheme] yuan per member per year into the fund
    global_budget: bool  # the county medical community is under a global budget

    @cached_property
    def tables(self) -> RuleTables:
        """The cost-sharing tables for compiled code (``claim_for``)."""
        return rule_tables(self)


def rules_on(scenario: Scenario, day: date) -> Rules:
    """Compile the scenario's policy values in force on ``day``."""
    b, a = scenario.benefits, scenario.assistance
    schemes = [b.resident, b.employee]
    services = lambda s: [s.outpatient, s.chronic, s.inpatient]  # noqa: E731
    ch = b.chronic
    return Rules(
        day=day,
        deductible=np.array([[sv.deductible.on(day) for sv in services(s)] for s in schemes]),
        rate=np.array([[sv.rate.on(day) for sv in services(s)] for s in schemes]),
        annual_cap=np.array([[sv.annual_cap.on(day) for sv in services(s)] for s in schemes]),
        catalogue_share=b.catalogue_share.on(day),
        grassroots_outpatient_deductible_waived=bool(
            b.grassroots_outpatient_deductible_waived.on(day)
        ),
        upward_continuity=b.referral_continuity.upward.on(day),
        downward_waived=bool(b.referral_continuity.downward_waived.on(day)),
        penalty_size=float(b.out_of_county_penalty.size.on(day)),
        penalty_mode=b.out_of_county_penalty.mode.on(day),
        lowest_certifying_tier=TIERS.index(ch.lowest_certifying_tier.on(day)),
        village_claims=ch.village_claims.on(day),
        prescription_days=int(ch.prescription_days.on(day)),
        family_doctor_min_rate=b.family_doctor_min_rate.on(day).astype(float),
        assistance_share=np.concatenate([[0.0], a.share.on(day)]),
        assistance_cap=np.concatenate([[0.0], a.annual_cap.on(day)]),
        assistance_services=a.services.on(day).astype(bool),
        down_for_rehab=float(scenario.referral.down_for_rehab.on(day)),
        drg=scenario.payment.inpatient_method.on(day) == "drg",
        dip=scenario.payment.inpatient_method.on(day) == "dip",
        dip_points_per_weight=float(scenario.payment.dip_points_per_weight.value),
        dip_tier_coefficient=scenario.payment.dip_tier_coefficient.on(day).astype(float),
        dip_point_value=float(scenario.payment.dip_provisional_point_value.on(day)),
        dip_budget_per_capita=float(scenario.payment.dip_budget_per_capita.on(day)),
        drg_base_rate=scenario.payment.drg_base_rate.on(day).astype(float),
        same_price_groups=int(scenario.payment.same_price_groups.on(day)),
        same_price_base_rate=float(scenario.payment.same_price_base_rate.on(day)),
        capitation=scenario.payment.outpatient_capitation.on(day).astype(bool),
        capitation_rate=float(scenario.payment.capitation_rate.on(day)),
        rehab_bed_day=scenario.payment.rehab_method.on(day) == "bed_day",
        rehab_bed_day_rate=float(scenario.payment.rehab_bed_day_rate.on(day)),
        contribution=scenario.fund.contribution.on(day).astype(float),
        global_budget=bool(scenario.community.global_budget.on(day)),
    )


class RuleTables(NamedTuple):
    """The cost-sharing part of ``Rules`` as numbers only, for compiled code (``claim_for``).

    Arrays are float64 (flags bool) and C-ordered, so that every day's tables have one numba
    type; modes are codes: ``upward`` indexes ``benefits.UPWARD_MODES``.
    """

    rate: np.ndarray  # [scheme, service, tier]
    deductible: np.ndarray  # [scheme, service, tier]
    annual_cap: np.ndarray  # [scheme, service]
    catalogue_share: np.ndarray  # [service, tier]
    grassroots_outpatient_deductible_waived: bool
    upward: int
    downward_waived: bool
    penalty_size: float
    penalty_relative: bool
    family_doctor_min_rate: np.ndarray  # [service]
    assistance_share: np.ndarray  # [Poverty]
    assistance_cap: np.ndarray  # [Poverty]
    assistance_services: np.ndarray  # [service] bool


def rule_tables(rules: Rules) -> RuleTables:
    """``rules``' cost-sharing tables in the fixed types of ``RuleTables``."""
    f64 = lambda x: np.ascontiguousarray(x, np.float64)  # noqa: E731
    return RuleTables(
        rate=f64(rules.rate), deductible=f64(rules.deductible), annual_cap=f64(rules.annual_cap),
        catalogue_share=f64(rules.catalogue_share),
        grassroots_outpatient_deductible_waived=bool(
            rules.grassroots_outpatient_deductible_waived),
        upward=benefits.UPWARD_MODES.index(rules.upward_continuity),
        downward_waived=bool(rules.downward_waived),
        penalty_size=float(rules.penalty_size),
        penalty_relative=rules.penalty_mode == "relative",
        family_doctor_min_rate=f64(rules.family_doctor_min_rate),
        assistance_share=f64(rules.assistance_share),
        assistance_cap=f64(rules.assistance_cap),
        assistance_services=np.ascontiguousarray(rules.assistance_services, np.bool_),
    )


_OUTPATIENT, _INPATIENT = int(Service.OUTPATIENT), int(Service.INPATIENT)
_TOWNSHIP, _OUT_OF_COUNTY = int(Tier.TOWNSHIP), int(Tier.OUT_OF_COUNTY)
_UP = int(Referral.UP)


@njit(cache=True)
def claim_for(t, bill, scheme, service, tier, poverty, referral, prior_deductible_paid, emergency,
              contracted_here, deductible_paid_year, fund_paid_year, assistance_paid_year):
    """One encounter's claim under tables ``t`` (``RuleTables``), composed from ``benefits``.

    rate = base rate [scheme, service, tier], cut for non-referred non-emergency out-of-county
    admissions (004 一(二)), floored for contracted residents at their grassroots facility (000 六);
    deductible due = per admission with referral continuity (001 三(一), 003, 004 二(二)) or what is
    left of the annual outpatient deductible (``deductible_paid_year`` already paid), waived at
    grassroots where the scenario says (000 五); fund cap = annual cap − ``fund_paid_year``;
    assistance by poverty group on covered services, up to its cap − ``assistance_paid_year``.

    Returns:
        (policy_range, deductible_paid, fund, assistance, patient), yuan.
    """
    deductible = t.deductible[scheme, service, tier]
    rate = t.rate[scheme, service, tier]
    if service == _INPATIENT:
        penalised = tier == _OUT_OF_COUNTY and referral != _UP and not emergency
        rate = benefits.penalised_rate(rate, penalised, t.penalty_size, t.penalty_relative)
        due = benefits.admission_deductible(deductible, referral, prior_deductible_paid,
                                            t.upward, t.downward_waived)
    else:
        waived = (t.grassroots_outpatient_deductible_waived and service == _OUTPATIENT
                  and tier <= _TOWNSHIP)
        due = benefits.annual_deductible_left(deductible, deductible_paid_year, waived)
    rate = benefits.contract_floor(rate, t.family_doctor_min_rate[service], contracted_here)
    assistance_share = t.assistance_share[poverty] if t.assistance_services[service] else 0.0
    return benefits.split_bill(bill, t.catalogue_share[service, tier], due, rate,
                               t.annual_cap[scheme, service] - fund_paid_year, assistance_share,
                               t.assistance_cap[poverty] - assistance_paid_year)


@njit(cache=True)
def _claim_each(t, bill, scheme, service, tier, poverty, referral, prior_deductible_paid,
                emergency, contracted_here, deductible_paid_year, fund_paid_year,
                assistance_paid_year, out):
    for i in range(bill.size):
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = claim_for(
            t, bill[i], scheme[i], service[i], tier[i], poverty[i], referral[i],
            prior_deductible_paid[i], emergency[i], contracted_here[i], deductible_paid_year[i],
            fund_paid_year[i], assistance_paid_year[i])


def price_claims(
    rules: Rules,
    *,
    bill: np.ndarray,
    scheme: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    poverty: np.ndarray,
    referral: np.ndarray | int = Referral.NONE,
    prior_deductible_paid: np.ndarray | float = 0.0,
    emergency: np.ndarray | bool = False,
    contracted_here: np.ndarray | bool = False,
    deductible_paid_year: np.ndarray | float = 0.0,
    fund_paid_year: np.ndarray | float = 0.0,
    assistance_paid_year: np.ndarray | float = 0.0,
) -> benefits.Claim:
    """``claim_for`` over a batch of encounters (all arguments broadcast together)."""
    i64, f64 = np.int64, np.float64
    typed = [(bill, f64), (scheme, i64), (service, i64), (tier, i64), (poverty, i64),
             (referral, i64), (prior_deductible_paid, f64), (emergency, np.bool_),
             (contracted_here, np.bool_), (deductible_paid_year, f64), (fund_paid_year, f64),
             (assistance_paid_year, f64)]
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype) for x, dtype in typed))
    shape = arrays[0].shape
    out = np.empty((5, arrays[0].size))
    _claim_each(rules.tables, *(np.ascontiguousarray(a).ravel() for a in arrays), out)
    return benefits.Claim(arrays[0].copy(), *(part.reshape(shape) for part in out))


class ProviderPayment(NamedTuple):
    """What the fund pays providers for a batch of admissions, and the DIP points earned."""

    fund: np.ndarray  # yuan paid by the fund to the provider
    dip_points: np.ndarray  # points earned (0 where not paid by DIP)
    dip_standard: np.ndarray  # yuan of DIP standard at the provisional point value


def provider_payment(
    rules: Rules,
    claim: benefits.Claim,
    *,
    tier: np.ndarray,
    severity: np.ndarray,
    stay: np.ndarray,
    rehab: np.ndarray,
    n_groups: int,
) -> ProviderPayment:
    """What the fund pays the provider for each admission, yuan.

    Fee-for-service: the claim's fund share. Case payment: the standard minus what the patient
    and assistance paid (``payment.fund_payment_under_standard``), with group =
    ⌊severity × n_groups⌋ and weight = 0.5 + the group's mid severity (mean ≈ 1):
    DRG standard = weight × the tier's base rate; DIP standard = points × provisional point
    value, points = weight × points per weight × the tier coefficient (区域点数法, 004 二(一)).
    The ``same_price_groups`` lowest groups are paid one standard at every tier (同病同价,
    000 一(三), 001 三(四), 004 二(一)): the same-price rate under DRG, coefficient 1 under DIP.
    Rehabilitation stays under bed-day payment: rate × days (001 二(三)).
    """
    if not (rules.drg.any() or rules.dip.any() or rules.rehab_bed_day):  # all fee-for-service
        none = np.zeros_like(claim.fund)
        return ProviderPayment(payment.fee_for_service(claim.fund), none, none)
    group = np.minimum((severity * n_groups).astype(np.int64), n_groups - 1)
    weight = 0.5 + (group + 0.5) / n_groups
    same = group < rules.same_price_groups
    drg_standard = payment.case_payment_standard(
        weight, base_rate=np.where(same, rules.same_price_base_rate, rules.drg_base_rate[tier]),
        tier_coefficient=1.0, same_price=same,
    )
    dip = rules.dip[tier] & ~rehab
    points = np.where(dip, payment.case_payment_standard(
        weight * rules.dip_points_per_weight, base_rate=1.0,
        tier_coefficient=rules.dip_tier_coefficient[tier], same_price=same), 0.0)
    dip_standard = payment.dip_payment(points, rules.dip_point_value)
    standard = np.where(dip, dip_standard, drg_standard)
    by_standard = np.where(rehab, rules.rehab_bed_day, rules.drg[tier] | rules.dip[tier])
    if rules.rehab_bed_day:
        standard = np.where(rehab, payment.bed_day_standard(
            stay, rate_per_day=rules.rehab_bed_day_rate), standard)
    settled = payment.fund_payment_under_standard(
        standard, patient=claim.patient, assistance=claim.assistance, bill=claim.bill)
    fund = np.where(by_standard, settled.fund, payment.fee_for_service(claim.fund))
    return ProviderPayment(fund, points, dip_standard * dip)


__all__ = ["Rules", "RuleTables", "rules_on", "claim_for", "price_claims", "provider_payment",
           "Scheme", "Poverty"]
