"""Facilities that decide (docs/providers.md): the rules, their fixed-response special case, and
the directions they predict, measured in paired runs (same seeds, small counties)."""

import math
from datetime import date

import numpy as np
import pytest

import flowsim
from flowsim import providers as rule
from flowsim.community import assessment_score
from flowsim.config import whole_years
from flowsim.domain import Payer, Tier
from flowsim.model import CountyModel

BUDGET = {"community.global_budget.value": True}
DRG = {"payment.inpatient_method.value": {"township": "drg", "county": "drg",
                                          "out_of_county": "drg"}}
SEEDS = (1, 2)


def indicator(res, name):
    return res.indicator(name)


def lead(model, field):
    """The county hospital's decision ``field`` (one county hospital in the synthetic county)."""
    return float(getattr(model.providers.decisions, field)[model.facilities.tier == Tier.COUNTY][0])


# -- the rules, worked by hand -------------------------------------------------------------------


def test_clawback_below_within_and_beyond_the_reasonable_overrun():
    common = dict(sd=0.05, retained=0.6, overrun_fund_share=0.5, limit=0.05, loss_aversion=2.0)
    # year over (no uncertainty left: sd floor 0.005): far below, within, far beyond
    assert rule.expected_clawback(0.8, 1.0, **common) == pytest.approx(0.6)
    assert rule.expected_clawback(1.025, 1.0, **common) == pytest.approx(2.0 * 0.5)
    assert rule.expected_clawback(1.2, 1.0, **common) == pytest.approx(2.0)
    # at the start of the year, on the budget: half below (0.6), half above, mostly reasonable
    k = rule.expected_clawback(1.0, 0.0, **common)
    assert 0.5 * 0.6 + 0.5 * 1.0 < k < 0.5 * 0.6 + 0.5 * 2.0


def test_projection_blends_this_years_pace_with_last_years_position():
    # a quarter gone, 30 of a 100 budget spent: pace 1.2; last year ended at 0.9
    assert rule.projected_position(30, 100, 0.25, 0.9) == pytest.approx(0.25 * 1.2 + 0.75 * 0.9)


def test_day_margins_by_method():
    kw = dict(late_day=0.6, cost_to_charge=0.85, fund_share=0.5)
    ffs = rule.day_margin("fee_for_service", clawback=0.0, **kw)
    assert ffs == pytest.approx(0.6 * 0.15)
    assert rule.day_margin("dip", clawback=1.0, **kw) - ffs == pytest.approx(-0.6)
    assert rule.day_margin("bed_day", clawback=0.0, **kw) - ffs == pytest.approx(1 - 0.6)
    assert rule.day_margin("fee_for_service", clawback=1.0, **kw) - ffs == pytest.approx(-0.3)
    # case payment shortens stays by about 10 % (the derivation of stay_sensitivity)
    assert rule.stay_factor(-0.6, 0.176) == pytest.approx(math.exp(-0.1056))


def test_transfer_delta_signs():
    kw = dict(clawback=1.0, fund_share_here=0.55, fund_share_out=0.45, out_bill_ratio=2.05)
    assert rule.transfer_delta(counted=True, **kw) == pytest.approx(0.55 - 0.45 * 2.05)
    assert rule.transfer_delta(counted=False, **kw) == pytest.approx(0.55)
    assert rule.transfer_delta(counted=True, **{**kw, "clawback": 0.0}) == 0


def test_assessment_score_by_hand():
    # growth 5 % (zero at 10 %, full at 0): 0.5; ratio 0.5 (0.4 → 0.6): 0.5; visits 0.7: 1;
    # in-county 0.6 (0.6 → 0.85): 0; grassroots fund undefined: left out
    values = np.array([0.05, 0.5, 0.7, 0.6, np.nan])
    score = assessment_score(values, weights=np.array([1, 1, 2, 1, 1.0]),
                             zero_at=np.array([0.1, 0.4, 0.5, 0.6, 0.1]),
                             full_at=np.array([0.0, 0.6, 0.7, 0.85, 0.3]))
    assert score == pytest.approx((0.5 + 0.5 + 2 * 1 + 0) / 5)


def test_whole_years_count_leap_days():
    assert whole_years(date(2023, 1, 1), 2) == 365 + 366
    assert whole_years(date(2024, 3, 1), 1) == 365
    assert whole_years(date(2024, 2, 29), 1) == 366  # to 1 March 2025


# -- the fixed responses are a special case ------------------------------------------------------


def test_rules_off_give_the_fixed_responses(small, rules_off):
    budget_drg = CountyModel(small.with_overrides({**rules_off, **BUDGET, **DRG}), seed=1)
    assert lead(budget_drg, "keep_share") == 0.3  # responses.budget_keeps_transfers
    assert lead(budget_drg, "stay_factor") == 0.9  # responses.drg_stay_factor
    assert lead(budget_drg, "avoid_share") == 0.2  # responses.case_payment_avoided_admissions
    assert lead(budget_drg, "down_for_rehab") == 0.05 * 2.0  # × budget_rehab_multiplier
    ffs = CountyModel(small.with_overrides(rules_off), seed=1)
    assert (lead(ffs, "keep_share"), lead(ffs, "stay_factor"), lead(ffs, "avoid_share")) == (
        0.0, 1.0, 0.0)


def test_rules_on_keep_fee_for_service_without_a_budget_at_the_reference(small):
    m = CountyModel(small, seed=1)
    m.run_for(40)
    d = m.providers.decisions
    assert np.all(d.stay_factor == 1.0) and np.all(d.avoid_share == 0.0)
    assert np.all(d.keep_share == 0.0) and np.all(d.send_out_share == 0.0)
    capability = small.facilities.outpatient_capability.on(small.start_date)
    assert np.array_equal(d.refer_up_above, capability[m.facilities.tier])


def test_capability_gains_raise_what_township_centres_treat(small):
    m = CountyModel(small, seed=1)
    township = m.facilities.tier == Tier.TOWNSHIP
    before = m.providers.decisions.inpatient_capability[township].copy()
    refer_before = m.providers.decisions.refer_up_above[township].copy()
    m.providers.settled({"spent": 90.0, "budget": 100.0, "score": 1.0, "capability_gain": 0.05})
    m.providers.decide()
    assert np.allclose(m.providers.decisions.inpatient_capability[township], before + 0.05)
    assert np.allclose(m.providers.decisions.refer_up_above[township], refer_before + 0.05)
    assert m.providers.prior_position == pytest.approx(0.9)


def test_lead_hospital_sees_its_budget_used(small):
    m = CountyModel(small.with_overrides(BUDGET), seed=1)
    m.run_for(59)  # the decision of 1 March sees January and February
    hospital = m.agents_by_type[type(m.facilities.agents[
        int(np.flatnonzero(m.facilities.tier == Tier.COUNTY)[0])])][0]
    used, elapsed = hospital.budget_used
    assert elapsed == pytest.approx(59 / 365)
    assert 0.5 * elapsed < used < 1.5 * elapsed
    ledger = hospital.ledger
    assert ledger.revenue == pytest.approx(ledger.fund + ledger.patients + ledger.assistance)
    assert ledger.cost == pytest.approx(0.85 * m.facilities.totals[3, hospital.row])


# -- directions, in paired runs -------------------------------------------------------------------


def _paired(scenario, overrides_a, overrides_b, days, measure):
    """measure(results) of arm b minus arm a, for each seed."""
    return [measure(flowsim.run(scenario.with_overrides(overrides_b), days=days, seed=s))
            - measure(flowsim.run(scenario.with_overrides(overrides_a), days=days, seed=s))
            for s in SEEDS]


def _bed_days_per_stay(res, tier):
    d = res.daily
    beds = d[(d.counter == "occupied_beds") & (d.tier == tier)].value.sum()
    stays = d[(d.counter == "admissions") & (d.tier == tier)].value.sum()
    return beds / stays


def test_case_payment_shortens_and_bed_day_lengthens_stays(small):
    shorter = _paired(small, {}, DRG, 90, lambda r: _bed_days_per_stay(r, "county"))
    assert all(d < 0 for d in shorter), shorter
    bed_day = {"payment.rehab_method.value": "bed_day"}
    longer = _paired(small, {}, bed_day, 120, lambda r: _bed_days_per_stay(r, "township"))
    assert all(d > 0 for d in longer), longer


def test_budget_counting_out_of_county_lowers_transfers_out(small):
    diffs = _paired(small, {}, BUDGET, 120, lambda r: indicator(r, "transfers_out_per_1000"))
    assert all(d < 0 for d in diffs), diffs


def test_budget_not_counting_out_of_county_raises_transfers_out(small):
    not_counted = {**BUDGET, "community.count_out_of_county.value": False}
    diffs = _paired(small, {}, not_counted, 120, lambda r: indicator(r, "transfers_out_per_1000"))
    assert all(d > 0 for d in diffs), diffs


def test_capitation_raises_referrals_up(small):
    capitation = {"payment.outpatient_capitation.value": {"village": True, "township": True}}
    diffs = _paired(small, {}, capitation, 60, lambda r: indicator(r, "referrals_up_per_1000"))
    assert all(d > 0 for d in diffs), diffs


def _lead_in(model, start, end, field):
    rows = [r[field] for r in model.providers.log if start <= r["date"] < end]
    return float(np.mean(rows))


def _county_bed_days_per_new_stay(model, start_day, end_day):
    days = model.day_counts[start_day:end_day]
    beds = sum(int(d.occupied_beds[Tier.COUNTY]) for d in days)
    new = sum(int(d.stays_by_route[0, Tier.COUNTY]) for d in days)
    return beds / new


@pytest.mark.slow
def test_tight_budget_by_mid_year_tightens_the_rest_of_the_year(small):
    # the same county and care; only the budget standard differs: spending runs over a low
    # budget by mid-year, well under a high one
    standards = {"tight": {"resident": 800, "employee": 1160},
                 "room": {"resident": 1300, "employee": 1900}}
    for seed in SEEDS:
        runs = {}
        for name, standard in standards.items():
            m = CountyModel(small.with_overrides(
                {**BUDGET, "community.per_capita_standard.value": standard}), seed=seed)
            m.run_for(365)
            runs[name] = m
        h2 = (date(2023, 7, 1), date(2024, 1, 1))
        tight, room = runs["tight"], runs["room"]
        assert _lead_in(tight, *h2, "position") > 1.0 > _lead_in(room, *h2, "position")
        assert _lead_in(tight, *h2, "clawback") > _lead_in(room, *h2, "clawback")
        assert _lead_in(tight, *h2, "stay_factor") < _lead_in(room, *h2, "stay_factor")
        assert _lead_in(tight, *h2, "avoid_share") > _lead_in(room, *h2, "avoid_share")
        # what patients get: shorter county stays in the second half of the year
        assert (_county_bed_days_per_new_stay(tight, 181, 365)
                < _county_bed_days_per_new_stay(room, 181, 365))


@pytest.mark.slow
def test_retained_surplus_loosens_next_year(small):
    # 2023: a generous budget (surplus retained) or a tight one (overrun); 2024: the same
    # standard. The budget is never lowered after a thrifty year (001 二(二)) and the lead
    # expects 2024 to end near where 2023 did.
    for seed in SEEDS:
        runs = {}
        for name, first in (("surplus", 1300), ("overrun", 900)):
            standard = {"resident": {"2023-01-01": first, "2024-01-01": 1050},
                        "employee": {"2023-01-01": first * 1.45, "2024-01-01": 1520}}
            m = CountyModel(small.with_overrides(
                {**BUDGET, "community.per_capita_standard.value": standard}), seed=seed)
            m.run_for(whole_years(m.start_date, 2))
            runs[name] = m
        surplus, overrun = runs["surplus"], runs["overrun"]
        assert surplus.settlements.community.settlements[0]["community_kept"] > 0
        assert overrun.settlements.community.settlements[0]["community_bears"] > 0
        year2 = (date(2024, 1, 1), date(2025, 1, 1))
        assert _lead_in(surplus, *year2, "clawback") < _lead_in(overrun, *year2, "clawback")
        assert _lead_in(surplus, *year2, "stay_factor") > _lead_in(overrun, *year2, "stay_factor")
        assert (_county_bed_days_per_new_stay(surplus, 365, 731)
                > _county_bed_days_per_new_stay(overrun, 365, 731))


# -- integration per resident, whole years, money ------------------------------------------------


@pytest.mark.slow
def test_quality_gain_is_per_resident(baseline):
    # the same policy in a 20,000- and a 100,000-resident county (the default per-capita
    # geography: villages and townships in proportion) buys the same quality gain per resident
    gains = {}
    for population, villages, townships in ((20000, 12, 1), (100000, 60, 4)):
        county = baseline.with_overrides({
            **BUDGET, "county.synthetic.population.value": population,
            "county.synthetic.villages.value": villages,
            "county.synthetic.townships.value": townships})
        gains[population] = flowsim.run(county, days=365, seed=1).settlements.quality_gain[0]
    assert gains[20000] > 0
    assert gains[100000] == pytest.approx(gains[20000], rel=0.25)


def test_two_whole_years_from_2023_settle_2023_and_2024(small):
    tiny = small.with_overrides({"county.synthetic.population.value": 3000,
                                 "county.synthetic.villages.value": 6,
                                 "county.synthetic.townships.value": 1, **BUDGET})
    res = flowsim.run(tiny, years=2, seed=1)
    assert res.days == 731
    assert list(res.settlements.year) == [2023, 2024]


@pytest.mark.slow
def test_money_conserved_every_month(small):
    # budget, capitation and DIP together: every month, what facilities record as revenue is
    # what the fund, patients and assistance paid, settlements included
    scenario = small.with_overrides({
        **BUDGET, "payment.outpatient_capitation.value": {"village": True, "township": True},
        "payment.inpatient_method.value": {"township": "dip", "county": "dip",
                                           "out_of_county": "dip"}})
    m = CountyModel(scenario, seed=3)
    month_starts = [(date(2023 + i // 12, i % 12 + 1, 1) - m.start_date).days
                    for i in range(1, 25)]  # the last: 2025-01-01, day 731
    for end in month_starts:
        m.run_for(end - m.day)
        ledgers = [a.ledger for a in m.facilities.agents]
        money = sum(d.money for d in m.day_counts)
        settled = (sum(r["fund_extra"] for r in m.settlements.community.settlements)
                   + sum(r["adjustment"] for r in m.settlements.dip)
                   - sum(r["returned_to_fund"] for r in m.settlements.capitation))
        fund = money[Payer.FUND_PAID].sum() + settled
        assert sum(x.fund + x.settlements for x in ledgers) == pytest.approx(fund, rel=1e-9)
        assert sum(x.patients for x in ledgers) == pytest.approx(money[Payer.PATIENT].sum())
        assert sum(x.assistance for x in ledgers) == pytest.approx(money[Payer.ASSISTANCE].sum())
        # every claim: fund share + assistance + patient = bill
        assert (money[Payer.FUND] + money[Payer.ASSISTANCE] + money[Payer.PATIENT]).sum() == (
            pytest.approx(money[Payer.BILL].sum()))
    assert [r["year"] for r in m.settlements.community.settlements] == [2023, 2024]
