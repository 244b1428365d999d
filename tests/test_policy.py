"""``claim_for`` composes the cost-sharing rules in the seeds' order: hand-worked claims, and rule
tables that follow the scenario file without a second declaration."""

import numpy as np
import pytest

from flowsim.domain import Poverty, Referral, Scheme, Service, Tier
from flowsim.policy import Rules, price_claims

RULES = {
    "benefits.resident.inpatient.deductible.value": {"county": 600, "out_of_county": 1500},
    "benefits.resident.inpatient.rate.value": {"county": 0.70, "out_of_county": 0.55},
    "benefits.resident.outpatient.deductible.value": {"village": 100, "county": 300},
    "benefits.resident.outpatient.rate.value": {"village": 0.55, "county": 0.50},
    "benefits.resident.outpatient.annual_cap.value": 600,
    "benefits.catalogue_share.value": {"inpatient": {"county": 0.88, "out_of_county": 0.82},
                                       "outpatient": {"village": 0.95, "county": 0.85}},
    "benefits.gatekeeping.penalty.value": {"resident": {"inpatient": {"out_of_county": 0.2}}},
    "benefits.gatekeeping.mode.value": "points",
    "benefits.referral_continuity.upward.value": "difference",
    "benefits.grassroots_outpatient_deductible_waived.value": True,
    "benefits.family_doctor_min_rate.value": {"outpatient": 0.7},
    "assistance.share.value": {"dibao": 0.7},
    "assistance.annual_cap.value": {"dibao": 30000},
    "assistance.services.value": {"inpatient": True},
}


@pytest.fixture(scope="module")
def rules(baseline):
    s = baseline.with_overrides(RULES)
    return Rules(s, s.start_date)


def claim(rules, bill, service, tier, **facts):
    c = price_claims(rules, bill=bill, scheme=Scheme.RESIDENT, service=service, tier=tier,
                     poverty=facts.pop("poverty", Poverty.NONE), **facts)
    return {k: float(getattr(c, k)) for k in ("policy_range", "deductible_paid", "fund",
                                              "assistance", "patient")}


def test_county_admission(rules):
    # policy range 10,000 × 0.88 = 8,800; deductible 600; fund 0.70 × 8,200 = 5,740
    got = claim(rules, 10_000, Service.INPATIENT, Tier.COUNTY)
    assert got == pytest.approx(dict(policy_range=8800, deductible_paid=600, fund=5740,
                                     assistance=0, patient=4260))


def test_out_of_county_admission_without_referral_is_penalised_unless_emergency(rules):
    # 004 一(二): 20 points off 0.55 → 0.35; policy range 20,000 × 0.82 = 16,400; deductible 1,500;
    # fund 0.35 × 14,900 = 5,215
    got = claim(rules, 20_000, Service.INPATIENT, Tier.OUT_OF_COUNTY)
    assert got["fund"] == pytest.approx(5215) and got["patient"] == pytest.approx(14_785)
    # emergency: no penalty, 0.55 × 14,900 = 8,195
    got = claim(rules, 20_000, Service.INPATIENT, Tier.OUT_OF_COUNTY, emergency=True)
    assert got["fund"] == pytest.approx(8195)


def test_upward_referral_pays_the_deductible_difference(rules):
    # 001 三(一) 累计计算起付线: 600 paid at the county → 900 due; 0.55 × (16,400 − 900) = 8,525
    got = claim(rules, 20_000, Service.INPATIENT, Tier.OUT_OF_COUNTY, referral=Referral.UP,
                prior_deductible_paid=600.0)
    assert got["deductible_paid"] == pytest.approx(900)
    assert got["fund"] == pytest.approx(8525)


def test_grassroots_outpatient_waiver_and_family_doctor_floor(rules):
    # 000 五: no deductible at the village clinic; 95 in catalogue × 0.55 = 52.25
    got = claim(rules, 100, Service.OUTPATIENT, Tier.VILLAGE)
    assert got["deductible_paid"] == 0 and got["fund"] == pytest.approx(52.25)
    # 000 六: the contracted resident's own clinic pays at least 0.7: 66.5
    got = claim(rules, 100, Service.OUTPATIENT, Tier.VILLAGE, contracted_here=True)
    assert got["fund"] == pytest.approx(66.5) and got["patient"] == pytest.approx(33.5)


def test_annual_outpatient_deductible_and_cap_carry_over_the_year(rules):
    # 100 of the county's 300 paid already → 200 due; policy range 340; 0.5 × 140 = 70, but only
    # 600 − 580 = 20 of the annual cap is left
    got = claim(rules, 400, Service.OUTPATIENT, Tier.COUNTY, deductible_paid_year=100.0,
                fund_paid_year=580.0)
    assert got["deductible_paid"] == pytest.approx(200)
    assert got["fund"] == pytest.approx(20) and got["patient"] == pytest.approx(380)


def test_medical_assistance_after_insurance_up_to_its_cap(rules):
    # 低保: 0.7 of the policy-range self-pay 8,800 − 5,740 = 3,060 → 2,142
    got = claim(rules, 10_000, Service.INPATIENT, Tier.COUNTY, poverty=Poverty.DIBAO)
    assert got["assistance"] == pytest.approx(2142) and got["patient"] == pytest.approx(2118)
    # 29,000 of the 30,000 cap used this year: 1,000 left
    got = claim(rules, 10_000, Service.INPATIENT, Tier.COUNTY, poverty=Poverty.DIBAO,
                assistance_paid_year=29_000.0)
    assert got["assistance"] == pytest.approx(1000) and got["patient"] == pytest.approx(3260)


def test_rule_tables_follow_the_scenario_file(rules):
    """The compiled tables read every cost-sharing parameter by the name the file gives it."""
    t = rules.tables
    assert t.benefits.rate[Scheme.RESIDENT, Service.INPATIENT, Tier.COUNTY] == pytest.approx(0.70)
    assert t.benefits.annual_cap[Scheme.RESIDENT, Service.OUTPATIENT] == 600
    assert t.benefits.catalogue_share.shape == (len(Service), len(Tier))
    assert t.benefits.gatekeeping_penalty.shape == (len(Scheme), len(Service), len(Tier))
    assert t.benefits.gatekeeping_penalty[Scheme.RESIDENT, Service.INPATIENT, -1] == 0.2
    assert t.benefits.referral_continuity_upward == 2  # "difference": its place in the schema
    assert t.assistance.share[Poverty.DIBAO - 1] == pytest.approx(0.7)
    assert t.benefits.chronic_prescription_days == rules.benefits.chronic.prescription_days
    assert np.asarray(t.assistance.services).dtype == bool
