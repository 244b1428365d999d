"""The choice of whether and where to seek care is random-utility consistent: tiers substitute,
own prices lower use, gatekeeping sends first contacts to the grassroots, and 两病 follow-ups
respond to quality. (A uniform price rise reproducing the participation elasticities is a
calibration target: tests/test_baseline.py checks it on the calibration county.)"""

import numpy as np
import pytest

import flowsim
from flowsim import elasticities, encounters
from flowsim.api import simulate
from flowsim.choice import CHOICE_TIERS, WITH_BEDS
from flowsim.domain import GRASSROOTS, TIERS, Service
from flowsim.model import CountyModel
from flowsim.results import whole_run_window

DAYS = 150
SEEDS = (1, 2)
AMPLE = {
    "facilities.capacity_per_1000.beds.value": {"township": 20.0, "county": 40.0},
    "facilities.capacity_per_1000.outpatient_slots_per_day.value":
        {"village": 100.0, "township": 100.0, "county": 100.0},
}
"""Capacity far above use: demand alone (full facilities would ration patients elsewhere)."""
CHANGE = 0.2


def window(scenario, days, seed):
    """The counters of a whole run (``results.whole_run_window``)."""
    return whole_run_window(simulate(scenario, days=days, seed=seed))


@pytest.fixture(scope="module")
def demand(small):
    """{service: [seed, raised tier, tier] arc elasticities of patients' choices}, and use."""
    base = small.with_overrides(AMPLE)
    out = {}
    windows = {seed: window(base, DAYS, seed) for seed in SEEDS}
    for service in elasticities.SERVICES:
        matrix = np.full((len(SEEDS), len(TIERS), len(TIERS)), np.nan)
        for s, seed in enumerate(SEEDS):
            for tier in TIERS[1:] if service == "inpatient" else TIERS:
                w = window(elasticities.raised(base, service, (tier,), CHANGE), DAYS, seed)
                matrix[s, TIERS.index(tier)] = elasticities.by_tier(windows[seed], w, service,
                                                                    CHANGE)
        use = np.mean([elasticities.use_by_tier(w, service) for w in windows.values()], axis=0)
        out[service] = matrix, use
    return out


@pytest.mark.parametrize("inpatient", [False, True])
def test_each_patient_substitutes_when_one_tier_is_dearer(small, inpatient):
    """The choice itself (no dynamics): for every patient of a day, raising one tier's bill
    lowers the probability of that tier and raises every other alternative's, going without
    included (random-utility substitution)."""
    m = CountyModel(small, seed=3)
    m.run_for(20)
    m.step()  # a day whose counters exist, so the chooser sees today's rules and load
    rows = np.arange(0, len(m.residents), 7)
    p = encounters.gather(m.residents.table, rows)
    fac = m.chooser.of(p)[WITH_BEDS] if inpatient else m.chooser.of(p)
    tiers = CHOICE_TIERS[WITH_BEDS] if inpatient else CHOICE_TIERS
    bills = m.params.facilities.admission_bill if inpatient else m.params.facilities.outpatient_bill
    severity = np.linspace(0.05, 0.95, len(rows))
    service = Service.INPATIENT if inpatient else Service.OUTPATIENT
    choice = m.params.choice
    without = choice.no_admission_constant if inpatient else choice.no_care_constant

    def probabilities(bill):
        w, _ = m.chooser.weights(p, fac, severity, service, bill, inpatient=inpatient,
                                 without_care=without)
        w = w.astype(np.float64)
        return w / w.sum(axis=0)

    before = probabilities(bills[tiers])
    for raised_tier in np.unique(tiers):
        after = probabilities(bills[tiers] * np.where(tiers == raised_tier, 1.2, 1.0))
        dearer = np.append(tiers == raised_tier, False)  # the last row: going without
        assert (after[dearer] <= before[dearer] + 1e-6).all(), raised_tier
        assert (after[~dearer] >= before[~dearer] - 1e-6).all(), raised_tier
        assert (after[dearer] < before[dearer] - 1e-4).any(), raised_tier  # it does respond


@pytest.mark.parametrize("service", elasticities.SERVICES)
def test_a_dearer_tier_never_lowers_the_use_of_another(demand, service):
    matrix, use = demand[service]
    for i, raised_tier in enumerate(TIERS):
        for j, tier in enumerate(TIERS):
            cross = matrix[:, i, j]
            if i == j or np.isnan(cross).all() or use[j] < 30:  # too few choices to measure
                continue
            # common random numbers share the illnesses, but over months a changed choice changes
            # habits, deductibles paid and crowding: allow two Poisson sd of the tier's count
            floor = -2 / np.sqrt(use[j]) / (CHANGE / (1 + CHANGE / 2))
            assert cross.mean() >= floor, (service, raised_tier, tier, cross)


@pytest.mark.parametrize("service", elasticities.SERVICES)
def test_own_price_lowers_use(demand, service):
    matrix, use = demand[service]
    for i, tier in enumerate(TIERS):
        if np.isnan(matrix[:, i, i]).all() or use[i] < 30:
            continue
        assert (matrix[:, i, i] < 0).all(), (service, tier, matrix[:, i, i])


def test_gatekeeping_sends_first_contacts_to_the_grassroots(small):
    """基层首诊: reimbursement at the county hospital and outside cut without a referral; patients
    who want them first visit their village clinic or township centre."""
    gate = small.with_overrides({"benefits.gatekeeping.penalty.value": {
        scheme: {service: {"county": 0.3, "out_of_county": 0.3}
                 for service in ("outpatient", "inpatient")}
        for scheme in ("resident", "employee")}})
    for seed in SEEDS:
        before = flowsim.run(small, days=DAYS, seed=seed)
        after = flowsim.run(gate, days=DAYS, seed=seed)
        assert np.isnan(before.indicator("bypass_share"))  # nothing gatekept in the baseline
        assert before.indicator("gatekeeping_referrals_per_1000") == 0
        assert after.indicator("gatekeeping_referrals_per_1000") > 0
        assert after.indicator("first_contact_share") > before.indicator("first_contact_share")
        assert after.indicator("grassroots_visit_share") > before.indicator(
            "grassroots_visit_share")
        assert 0 < after.indicator("bypass_share") < 1


def test_chronic_follow_ups_respond_to_grassroots_quality(small):
    """Every managed 两病 patient certified and claiming at every tier, so that the chronic row of
    the choices is exactly the follow-ups: better grassroots quality draws more of them there."""
    every_follow_up = small.with_overrides({
        "benefits.chronic.lowest_certifying_tier.value": "village",
        "benefits.chronic.certification_decay_minutes.value": 1e6,
        "benefits.chronic.village_claims.value": "all"})
    better = every_follow_up.with_overrides(
        {"facilities.quality.value": {"village": 0.5, "township": 0.7}})
    for seed in SEEDS:
        shares = []
        for s in (every_follow_up, better):
            chronic = window(s, 90, seed).choices[Service.CHRONIC]
            shares.append(chronic[GRASSROOTS].sum() / chronic.sum())
        assert shares[1] > shares[0], shares
