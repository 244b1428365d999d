"""Model behaviour a user relies on: reproducibility, common random numbers, conservation of
money, dated policy changes, agents, and the direction of policy effects in paired runs."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

import flowsim
from flowsim.agents import (
    CountyHospital,
    OutOfCountyHospital,
    Patient,
    TownshipHealthCenter,
    VillageClinic,
)
from flowsim.domain import IS_IN_COUNTY, Tier
from flowsim.model import CountyModel

DAYS = 60


def run(scenario, seed=1, days=DAYS):
    return flowsim.run(scenario, days=days, seed=seed)


@pytest.fixture(scope="module")
def base_run(small):
    return run(small)


def test_same_seed_same_results(small, base_run):
    again = run(small)
    pd.testing.assert_frame_equal(base_run.daily, again.daily)
    pd.testing.assert_frame_equal(base_run.indicators, again.indicators)


def test_different_seed_different_results(small, base_run):
    other = run(small, seed=2)
    assert not base_run.daily.value.equals(other.daily.value)


def test_money_is_conserved_for_every_tier_service_and_scheme(base_run):
    money = base_run.daily[base_run.daily.counter == "money"]
    wide = money.pivot_table(
        index=["date", "service", "tier", "scheme"],
        columns="measure",
        values="value",
        observed=True,
    )
    np.testing.assert_allclose(
        wide.fund + wide.assistance + wide.patient, wide.bill, rtol=1e-9, atol=1e-6
    )
    assert wide.bill.sum() > 0 and wide.assistance.sum() > 0


def test_reform_and_baseline_share_the_same_illnesses(small):
    """Common random numbers: a reform changes choices, not who falls ill or how badly."""
    reform = small.with_overrides(
        {"benefits.resident.outpatient.rate.value": {"village": 0.9, "township": 0.9}}
    )
    a, b = CountyModel(small, seed=5), CountyModel(reform, seed=5)
    a.run_for(30)
    b.run_for(30)
    for kind in ("minor", "serious"):  # the episodes of day 30 in both
        rows_a, sev_a = a.illness.new_episodes(kind)
        rows_b, sev_b = b.illness.new_episodes(kind)
        np.testing.assert_array_equal(rows_a, rows_b)
        np.testing.assert_array_equal(sev_a, sev_b)
    # and the reform did change behaviour
    assert not np.array_equal(a.residents.last_tier, b.residents.last_tier)


def paired_difference(scenario, reform_overrides, indicator, seeds=(1, 2, 3), days=DAYS):
    reform = scenario.with_overrides(reform_overrides)
    return [
        run(reform, seed, days).indicator(indicator)
        - run(scenario, seed, days).indicator(indicator)
        for seed in seeds
    ]


def test_higher_grassroots_outpatient_rate_raises_grassroots_visit_share(small):
    diffs = paired_difference(
        small,
        {
            "benefits.resident.outpatient.rate.value": {"village": 0.85, "township": 0.85},
            "benefits.employee.outpatient.rate.value": {"village": 0.85, "township": 0.85},
        },
        "grassroots_visit_share",
    )
    assert all(d > 0 for d in diffs), diffs


def test_waiving_grassroots_outpatient_deductible_raises_grassroots_visit_share(small):
    diffs = paired_difference(
        small,
        {"benefits.grassroots_outpatient_deductible_waived.value": True},
        "grassroots_visit_share",
    )
    assert all(d > 0 for d in diffs), diffs


def test_higher_prices_leave_more_minor_episodes_without_care(small):
    # the participation margin (rural first-visit elasticity −0.52): dearer care, fewer
    # visits, and only through the cost weight (going without has no price)
    dearer = {"facilities.outpatient_bill.value": {"village": 60, "township": 120, "county": 300,
                                                   "out_of_county": 500}}
    assert all(d > 0 for d in paired_difference(small, dearer, "no_care_share"))
    blind = small.with_overrides({"choice.cost_per_100_yuan.value.outpatient": 0.0})
    assert all(d == 0 for d in paired_difference(blind, dearer, "no_care_share"))


def test_dearer_admission_is_forgone_more_but_emergencies_always_admitted(small):
    dearer = {"benefits.resident.inpatient.rate.value": {"township": 0.5, "county": 0.4,
                                                         "out_of_county": 0.3}}
    assert all(d > 0 for d in paired_difference(small, dearer, "forgone_admission_share"))
    refuse = run(small.with_overrides({"choice.no_admission_constant.value": 50.0}))
    emergency = small.illness.emergency_share.value
    forgone = refuse.indicator("forgone_admission_share")
    assert forgone == pytest.approx(1 - emergency, abs=0.05)  # only emergencies are admitted
    assert refuse.indicator("admissions_per_capita") > 0


def test_non_referral_penalty_lowers_out_of_county_admissions(small):
    # 宁医保发〔2023〕103号 一(二): non-referred non-emergency out-of-region admissions 20 % lower
    diffs = paired_difference(
        small, {"benefits.gatekeeping.penalty.value": {
            scheme: {"inpatient": {"out_of_county": 0.2}} for scheme in ("resident", "employee")}},
        "admission_share_out_of_county"
    )
    assert all(d < 0 for d in diffs), diffs


def test_dated_policy_change_takes_effect_on_its_day(small):
    s = small.with_overrides(
        {"benefits.resident.inpatient.rate.value": {"township": {"2023-01-11": 0.9}}}
    )
    m = CountyModel(s, seed=1)
    m.run_for(10)
    assert m.date == date(2023, 1, 11)
    assert m.rules.benefits.resident.inpatient.rate[Tier.TOWNSHIP] == pytest.approx(0.9)
    m2 = CountyModel(s, seed=1)
    m2.run_for(9)
    assert m2.rules.benefits.resident.inpatient.rate[Tier.TOWNSHIP] == pytest.approx(0.8)


def test_facilities_are_mesa_agents_and_small_populations_get_patient_agents(small):
    m = CountyModel(small, seed=1)
    by_type = m.agents_by_type
    assert len(by_type[VillageClinic]) == 40
    assert len(by_type[TownshipHealthCenter]) == 4
    assert len(by_type[CountyHospital]) == 1 and len(by_type[OutOfCountyHospital]) >= 1
    assert len(by_type[Patient]) == 20000
    m.run_for(20)
    visits = by_type[TownshipHealthCenter].agg("visits", sum)
    assert visits > 0
    p = m.patient(123)
    assert p.row == 123 and p.age == int(m.residents.age[123])


def test_patient_agents_on_demand_at_scale(small):
    m = CountyModel(small, seed=1, patient_agents=False)
    assert Patient not in m.agents_by_type
    p = m.patient(7)
    assert isinstance(p, Patient) and m.patient(7) is p


def test_csv_county_scenario_runs(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    res = flowsim.run(root / "configs" / "example_csv_county.yaml", days=10, seed=1)
    assert res.meta["residents"] == 30000
    assert res.indicator("visits_per_capita") > 0


def test_every_claim_is_on_its_residents_record(small):
    """What the counters say patients, the fund and assistance paid this insurance year is what
    the residents' own annual accumulators add up to (the booking reaches the right rows)."""
    model = CountyModel(small, seed=3)
    model.run_for(DAYS)  # within the first insurance year
    paid = sum(d.money for d in model.day_counts)  # [payer, service, tier, scheme]
    r = model.residents
    np.testing.assert_allclose(r.oop_year.sum(dtype=np.float64), paid[3].sum(), rtol=1e-5)
    np.testing.assert_allclose(r.assistance_paid_year.sum(dtype=np.float64), paid[2].sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(r.fund_paid_year.sum(axis=1, dtype=np.float64),
                               paid[1].sum(axis=(1, 2)), rtol=1e-5)
    paid = r.oop_year > 0
    assert paid.any()
    assert (r.last_tier[paid] >= 0).all()  # whoever paid has the encounter's tier on record


def test_beds_follow_admissions_discharges_and_referrals(small):
    """Occupied beds are the residents in hospital, never above capacity in the county; patients
    a facility cannot treat move up a tier, county discharges go down to their township."""
    m = CountyModel(small, seed=3)
    f = m.facilities
    in_county = IS_IN_COUNTY[f.tier]
    for _ in range(90):
        m.run_for(1)
        r = m.residents
        here = r.inpatient_at >= 0
        np.testing.assert_array_equal(
            f.beds_occupied[in_county],
            np.bincount(r.inpatient_at[here], minlength=len(f.beds))[in_county])
        assert (f.beds_occupied[in_county] <= f.beds[in_county]).all()
        assert (r.discharge_day[here] >= m.day).all()  # m.day: the next day to simulate
    referrals = sum(d.referrals for d in m.day_counts)  # [kind, from tier, to tier]
    up, down = referrals
    assert up.sum() > 0 and np.tril(up).sum() == 0  # only to a higher tier
    assert down.sum() == down[Tier.COUNTY, Tier.TOWNSHIP] > 0
