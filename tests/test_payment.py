"""Provider payment: hand-computed worked examples from the seeds, and hypothesis properties.

Weights, base rates, tier coefficients, bills, budgets and shares below are assumed round numbers
(the seeds name the methods and mechanisms, not the amounts).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flowsim.domain import Tier
from flowsim.payment import (
    Capitation,
    Settlement,
    YearEnd,
    bed_day_standard,
    capitation_budget,
    capitation_settlement,
    case_payment_standard,
    community_budget,
    dip_payment,
    dip_point_value,
    fee_for_service,
    fund_payment_under_standard,
    prepayment,
    year_end_settlement,
)

M = 1e6  # yuan per million


def year_end(budget, spent, *, keep=1.0, fund_share=0.5, limit=0.05) -> YearEnd:
    return year_end_settlement(
        budget,
        spent,
        surplus_retained_share=keep,
        overrun_fund_share=fund_share,
        reasonable_overrun_limit=limit,
    )


# --- worked examples -------------------------------------------------------------------------


def test_fee_for_service_pays_the_fund_share():
    # The fund's cost-sharing share of the bill is what the provider gets from the fund.
    assert fee_for_service(3655.0) == pytest.approx(3655.0)
    np.testing.assert_allclose(fee_for_service([1.0, 2.5]), [1.0, 2.5])


def test_drg_standard_township_vs_county_with_and_without_same_price():
    # Assumed: group weight 1.2, base rate 10,000 yuan per weight, level coefficients township 0.7,
    # county 1.0 (seed 000 一(三): listed groups 不区分医疗机构，同一付费标准).
    # Not listed: township 1.2*10000*0.7 = 8,400; county 1.2*10000*1.0 = 12,000.
    # Listed (same price): both tiers 1.2*10000 = 12,000.
    coefficient = np.array([0.7, 1.0])  # indexed by tier - Tier.TOWNSHIP
    tiers = np.array([Tier.TOWNSHIP, Tier.COUNTY]) - Tier.TOWNSHIP
    plain = case_payment_standard(
        1.2, base_rate=10_000.0, tier_coefficient=coefficient[tiers], same_price=False
    )
    listed = case_payment_standard(
        1.2, base_rate=10_000.0, tier_coefficient=coefficient[tiers], same_price=True
    )
    np.testing.assert_allclose(plain, [8_400.0, 12_000.0])
    np.testing.assert_allclose(listed, [12_000.0, 12_000.0])
    mixed = case_payment_standard(
        [1.2, 1.2],
        base_rate=10_000.0,
        tier_coefficient=0.7,
        same_price=np.array([True, False]),
    )
    np.testing.assert_allclose(mixed, [12_000.0, 8_400.0])


def test_dip_point_value_and_payment():
    # 宁医保发〔2023〕103号 二(一), 区域点数法: budget 10,000,000 yuan over 2,000,000 points
    # = 5 yuan/point; a case of 800 points is paid 800*5 = 4,000 yuan.
    value = dip_point_value(10_000_000.0, 2_000_000.0)
    assert value == pytest.approx(5.0)
    assert dip_payment(800.0, value) == pytest.approx(4_000.0)
    # More points for the same budget: each point is worth less (2,500,000 points → 4 yuan).
    assert dip_point_value(10_000_000.0, 2_500_000.0) == pytest.approx(4.0)
    # DIP through the case standard: score 800 at point value 5, same price → 4,000.
    assert case_payment_standard(
        800.0, base_rate=value, tier_coefficient=0.9, same_price=True
    ) == pytest.approx(4_000.0)
    with pytest.raises(ValueError):
        dip_point_value(1.0, [1.0, 0.0])


def test_fund_payment_under_standard_loss_case():
    # Assumed: bill 5,000, patient paid 30 % = 1,500, no assistance, standard 4,000.
    # fund 4000-1500-0 = 2,500; revenue 2500+1500 = 4,000; margin 4000-5000 = -1,000.
    s = fund_payment_under_standard(4_000.0, patient=1_500.0, assistance=0.0, bill=5_000.0)
    assert isinstance(s, Settlement)
    assert (s.fund, s.provider_revenue, s.provider_margin) == pytest.approx(
        (2_500.0, 4_000.0, -1_000.0)
    )


def test_fund_payment_under_standard_patient_paid_more_than_standard():
    # Assumed: bill 3,000, patient 1,200 + assistance 300 = 1,500 > standard 1,000.
    # 1000-1500 = -500 → fund pays 0; provider keeps 1,500; margin 1500-3000 = -1,500.
    s = fund_payment_under_standard(1_000.0, patient=1_200.0, assistance=300.0, bill=3_000.0)
    assert (s.fund, s.provider_revenue, s.provider_margin) == pytest.approx(
        (0.0, 1_500.0, -1_500.0)
    )


def test_bed_day_standard():
    # Assumed: 20 rehabilitation bed days at 300 yuan/day = 6,000; bill 5,000 of which patient
    # 1,000 → fund 5,000, margin +1,000.
    standard = bed_day_standard(20.0, rate_per_day=300.0)
    assert standard == pytest.approx(6_000.0)
    s = fund_payment_under_standard(standard, patient=1_000.0, assistance=0.0, bill=5_000.0)
    assert (s.fund, s.provider_margin) == pytest.approx((5_000.0, 1_000.0))


def test_capitation_surplus_retained_60_percent():
    # 宁医保发〔2023〕103号 二(三). Assumed: 1,000 enrolled at 100 yuan/person-year → budget
    # 100,000 for a year (50,000 for half a year, 182.5 days).
    # Services cost 80,000: surplus 20,000; facility keeps 0.6*20000 = 12,000;
    # 8,000 returns to the fund; the fund's net payment 100000-8000 = 92,000 = 80000+12000.
    budget = capitation_budget(1_000, rate_per_person_year=100.0, days=365)
    assert budget == pytest.approx(100_000.0)
    assert capitation_budget(1_000, rate_per_person_year=100.0, days=182.5) == pytest.approx(
        50_000.0
    )
    c = capitation_settlement(budget, 80_000.0, surplus_retained=0.6)
    assert isinstance(c, Capitation)
    assert (c.fund_paid, c.facility_kept, c.returned_to_fund) == pytest.approx(
        (92_000.0, 12_000.0, 8_000.0)
    )
    # Overrun: services cost 110,000; fund pays the budget 100,000; facility bears 10,000.
    c = capitation_settlement(budget, 110_000.0, surplus_retained=0.6)
    assert (c.fund_paid, c.facility_kept, c.returned_to_fund) == pytest.approx(
        (100_000.0, -10_000.0, 0.0)
    )


def test_year_end_surplus_retained_in_full():
    # 鲁医保发〔2024〕39号 二(三). Assumed: budget 100 m, spent 92 m, retain 100 %.
    # surplus 8 m; community keeps 8 m; fund extra +8 m; fund total 92+8 = 100 m = budget.
    y = year_end(100 * M, 92 * M, keep=1.0)
    assert (y.surplus, y.overrun) == pytest.approx((8 * M, 0.0))
    assert (y.fund_extra, y.community_kept, y.community_bears) == pytest.approx((8 * M, 8 * M, 0.0))
    assert y.spent + y.fund_extra == pytest.approx(100 * M)
    # Retain 60 %: community keeps 4.8 m, 3.2 m stays in the fund; fund total 96.8 m.
    y = year_end(100 * M, 92 * M, keep=0.6)
    assert (y.fund_extra, y.community_kept) == pytest.approx((4.8 * M, 4.8 * M))


def test_year_end_overrun_shared_then_borne():
    # Assumed: budget 100 m, spent 106 m, reasonable limit 5 % of budget, fund share 50 %.
    # overrun 6 m; reasonable min(6, 0.05*100) = 5 m: fund bears 2.5 m, community 2.5 m;
    # beyond the limit 6-5 = 1 m, community. community bears 2.5+1 = 3.5 m, recovered by the
    # fund: fund extra -3.5 m; fund total 106-3.5 = 102.5 m = budget + 2.5 m.
    y = year_end(100 * M, 106 * M, fund_share=0.5, limit=0.05)
    assert (y.surplus, y.overrun) == pytest.approx((0.0, 6 * M))
    assert (y.fund_extra, y.community_kept, y.community_bears) == pytest.approx(
        (-3.5 * M, 0.0, 3.5 * M)
    )
    assert y.spent + y.fund_extra == pytest.approx(102.5 * M)
    # Within the limit (spent 103 m): overrun 3 m all reasonable, halves of 1.5 m.
    y = year_end(100 * M, 103 * M, fund_share=0.5, limit=0.05)
    assert (y.fund_extra, y.community_bears) == pytest.approx((-1.5 * M, 1.5 * M))


def test_community_budget_growth_cap_and_no_lowering_over_three_years():
    # 鲁医保发〔2024〕39号 二(二). Assumed: resident standard 800 yuan/person for 100,000 persons,
    # employee standard 2,000 yuan/person for 10,000 persons.
    # Year 1: 800*100000 + 2000*10000 = 80 m + 20 m = 100 m (no history).
    standard = np.array([800.0, 2_000.0])
    population = np.array([100_000.0, 10_000.0])
    y1 = community_budget(standard, population)
    assert y1 == pytest.approx(100 * M)
    # Year 2: standards +10 % → raw 110 m; fund revenue grew 5 % → capped at 100*1.05 = 105 m.
    y2 = community_budget(standard * 1.1, population, previous_budget=y1, fund_revenue_growth=0.05)
    assert y2 == pytest.approx(105 * M)
    # Year 3: spending fell, standards re-estimated lower at 700 / 1,800 → raw 70+18 = 88 m
    # < 105 m → not lowered (不降低下年度总额付费预算指标): 105 m.
    y3 = community_budget(
        np.array([700.0, 1_800.0]), population, previous_budget=y2, fund_revenue_growth=0.05
    )
    assert y3 == pytest.approx(105 * M)
    # A raw budget between last year's and the cap passes unchanged: 800/2,150 → 80+21.5 = 101.5 m
    # against previous 100 m, cap 105 m.
    y = community_budget(
        np.array([800.0, 2_150.0]), population, previous_budget=100 * M, fund_revenue_growth=0.05
    )
    assert y == pytest.approx(101.5 * M)
    # Fund revenue fell 3 %: the cap 97 m is below last year; the no-lowering floor wins: 100 m.
    y = community_budget(standard, population, previous_budget=100 * M, fund_revenue_growth=-0.03)
    assert y == pytest.approx(100 * M)
    # Several counties at once: rows are counties, the last axis is the scheme.
    many = community_budget(np.array([[800.0, 2_000.0], [600.0, 1_500.0]]), population)
    np.testing.assert_allclose(many, [100 * M, 75 * M])
    with pytest.raises(ValueError):
        community_budget(standard, population, fund_revenue_growth=0.05)
    with pytest.raises(ValueError):
        community_budget(standard, population, previous_budget=y1, fund_revenue_growth=-1.5)


def test_prepayment_about_one_month():
    # 鲁医保发〔2024〕39号 二(四): 120 m budget, one month = 10 m; 1.5 months = 15 m.
    assert prepayment(120 * M) == pytest.approx(10 * M)
    assert prepayment(120 * M, months=1.5) == pytest.approx(15 * M)
    with pytest.raises(ValueError):
        prepayment(120 * M, months=13)


# --- properties ------------------------------------------------------------------------------

money = st.floats(0.0, 1e9, allow_nan=False)
fraction = st.floats(0.0, 1.0, allow_nan=False)
bad_share = st.one_of(
    st.floats(max_value=-1e-9, allow_nan=False),
    st.floats(min_value=1.0 + 1e-9, allow_nan=False),
    st.just(float("nan")),
)
N = 8


def vec(elements):
    return arrays(np.float64, N, elements=elements)


def close(a, b, scale):
    """Equal to float rounding relative to the amounts involved."""
    assert np.all(np.abs(np.asarray(a) - b) <= 1e-9 * (1.0 + np.abs(scale)))


@given(vec(money), vec(money), vec(money), vec(money))
def test_settlement_conservation(standard, patient, assistance, bill):
    s = fund_payment_under_standard(standard, patient=patient, assistance=assistance, bill=bill)
    scale = standard + patient + assistance + bill
    assert np.all(s.fund >= 0.0)
    close(s.provider_revenue, s.fund + patient + assistance, scale)
    close(s.provider_margin, s.provider_revenue - bill, scale)
    close(s.provider_revenue, np.maximum(standard, patient + assistance), scale)


@given(vec(money), vec(money), vec(fraction))
def test_capitation_conservation(budget, cost, retained):
    c = capitation_settlement(budget, cost, surplus_retained=retained)
    scale = budget + cost
    close(c.fund_paid + c.returned_to_fund, budget, scale)
    close(c.fund_paid, cost + c.facility_kept, scale)
    assert np.all(c.returned_to_fund >= 0.0)
    assert np.all(c.facility_kept <= np.maximum(budget - cost, 0.0) + 1e-9 * scale)


@given(vec(money), vec(money), vec(fraction), vec(fraction), vec(st.floats(0.0, 2.0)))
def test_year_end_conservation(budget, spent, keep, fund_share, limit):
    y = year_end(budget, spent, keep=keep, fund_share=fund_share, limit=limit)
    scale = budget + spent
    fund_total = y.spent + y.fund_extra
    close(fund_total + y.community_bears - y.community_kept, spent, scale)
    reasonable = np.minimum(y.overrun, limit * budget)
    close(fund_total, budget - (1 - keep) * y.surplus + fund_share * reasonable, scale)
    close(y.surplus - y.overrun, budget - spent, scale)
    assert np.all((y.surplus == 0.0) | (y.overrun == 0.0))
    assert np.all(y.community_kept >= 0.0) and np.all(y.community_bears >= 0.0)
    assert np.all(y.community_kept <= y.surplus)  # never keeps more than the surplus
    assert np.all(y.community_bears <= y.overrun + 1e-9 * scale)


@given(money, fraction, fraction, st.floats(0.0, 2.0), vec(money))
def test_year_end_fund_total_monotone_in_spent(budget, keep, fund_share, limit, spent):
    spent = np.sort(spent)
    y = year_end(budget, spent, keep=keep, fund_share=fund_share, limit=limit)
    total = y.spent + y.fund_extra
    assert np.all(np.diff(total) >= -1e-9 * (1.0 + budget + spent[-1]))


@given(bad_share)
def test_shares_outside_unit_interval_raise(bad):
    with pytest.raises(ValueError):
        year_end(1.0, 1.0, keep=bad)
    with pytest.raises(ValueError):
        year_end(1.0, 1.0, fund_share=bad)
    with pytest.raises(ValueError):
        capitation_settlement(1.0, 1.0, surplus_retained=bad)
    with pytest.raises(ValueError):  # one bad element in an array is enough
        year_end(1.0, 1.0, keep=np.array([0.5, bad]))


def test_negative_reasonable_limit_raises():
    with pytest.raises(ValueError):
        year_end(1.0, 2.0, limit=-0.01)
