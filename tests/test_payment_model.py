"""Provider payment inside the model: worked examples, patients unaffected, money conserved."""

import numpy as np
import pytest

import flowsim
from flowsim.benefits import Claim
from flowsim.domain import Tier
from flowsim.policy import provider_payment, rules_on

DAYS = 60


def claim(bill, patient, assistance=0.0):
    bill, patient, assistance = (np.asarray(x, float) for x in (bill, patient, assistance))
    fund = bill - patient - assistance
    return Claim(bill, bill, np.zeros_like(bill), fund, assistance, patient)


def test_same_price_groups_pay_one_standard_at_every_tier(baseline):
    s = baseline.with_overrides(
        {
            "payment.inpatient_method.value": {"township": "drg", "county": "drg"},
            "payment.same_price_groups.value": 20,
            "payment.same_price_base_rate.value": 4000,
        }
    )
    rules = rules_on(s, s.start_date)
    # severity 0.3 → group ⌊0.3 × 20⌋ = 6, weight 0.5 + 6.5/20 = 0.825, standard 0.825 × 4000 = 3300
    # patient paid 500 of a 3000 bill at the township and of a 7000 bill at the county:
    # the fund pays 3300 − 500 = 2800 at both tiers (同病同价)
    paid = provider_payment(
        rules,
        claim([3000, 7000], [500, 500]),
        tier=np.array([Tier.TOWNSHIP, Tier.COUNTY]),
        severity=np.array([0.3, 0.3]),
        stay=np.array([5, 8]),
        rehab=np.zeros(2, bool),
    )
    np.testing.assert_allclose(paid.fund, [2800, 2800])


def test_drg_standard_by_tier_and_fee_for_service_elsewhere(baseline):
    s = baseline.with_overrides({"payment.inpatient_method.value": {"county": "drg"}})
    rules = rules_on(s, s.start_date)
    # county DRG: severity 0.72 → group 14, weight 0.5 + 14.5/20 = 1.225, standard
    # 1.225 × 6822 = 8356.95; patient 2000 and assistance 300 → fund 6056.95.
    # township stays fee-for-service: the fund pays the claim's fund share, 1500.
    paid = provider_payment(
        rules,
        claim([9000, 2000], [2000, 500], [300, 0]),
        tier=np.array([Tier.COUNTY, Tier.TOWNSHIP]),
        severity=np.array([0.72, 0.72]),
        stay=np.array([9, 6]),
        rehab=np.zeros(2, bool),
    )
    np.testing.assert_allclose(paid.fund, [8356.95 - 2300, 1500])


def test_rehabilitation_bed_day_payment(baseline):
    s = baseline.with_overrides({"payment.rehab_method.value": "bed_day"})
    rules = rules_on(s, s.start_date)
    # 10 bed-days × 317.5 = 3175 standard; patient paid 400 → fund 2775 (001 二(三) 床日付费)
    paid = provider_payment(
        rules,
        claim([3175.0], [400.0]),
        tier=np.array([Tier.TOWNSHIP]),
        severity=np.zeros(1),
        stay=np.array([10]),
        rehab=np.ones(1, bool),
    )
    np.testing.assert_allclose(paid.fund, [2775.0])


@pytest.fixture(scope="module")
def ffs_and_drg(small, rules_off):
    drg = small.with_overrides(
        {
            "payment.inpatient_method.value": {
                "township": "drg",
                "county": "drg",
                "out_of_county": "drg",
            },
            "payment.drg_base_rate.value": {"county": 6822 * 0.8},
            "responses.drg_stay_factor.value": 1.0,  # no provider response: accounting only
            "responses.case_payment_avoided_admissions.value": 0.0,
            **rules_off,
        }
    )
    return flowsim.run(small, days=DAYS, seed=3), flowsim.run(drg, days=DAYS, seed=3)


def money(res, measure, **where):
    d = res.daily[(res.daily.counter == "money") & (res.daily.measure == measure)]
    for col, value in where.items():
        d = d[d[col] == value]
    return d.value.sum()


def test_patients_pay_the_same_whatever_the_provider_payment(ffs_and_drg):
    ffs, drg = ffs_and_drg
    assert money(drg, "patient") == pytest.approx(money(ffs, "patient"), rel=1e-12)
    assert money(drg, "assistance") == pytest.approx(money(ffs, "assistance"), rel=1e-12)
    assert money(ffs, "fund_paid") == pytest.approx(money(ffs, "fund"), rel=1e-12)
    # a county DRG rate 20 % below the mean bill pays the county hospital less than FFS
    assert money(drg, "fund_paid", tier="county") < 0.95 * money(ffs, "fund_paid", tier="county")
    assert drg.indicator("provider_revenue_to_bill") < ffs.indicator("provider_revenue_to_bill")
    assert ffs.indicator("provider_revenue_to_bill") == pytest.approx(1.0)


def test_provider_revenue_is_conserved_every_month(ffs_and_drg):
    _, drg = ffs_and_drg
    d = drg.daily[drg.daily.counter == "money"]
    monthly = d.pivot_table(
        index=d.date.dt.to_period("M"),
        columns="measure",
        values="value",
        aggfunc="sum",
        observed=True,
    )
    # patients: fund share + assistance + out-of-pocket = bill, every month
    np.testing.assert_allclose(
        monthly.fund + monthly.assistance + monthly.patient, monthly.bill, rtol=1e-9
    )
    # providers: what the fund paid + assistance + out-of-pocket = providers' revenue
    revenue = drg.facilities.revenue.sum()
    assert revenue == pytest.approx(
        monthly.fund_paid.sum() + monthly.assistance.sum() + monthly.patient.sum(), rel=1e-9
    )
    assert drg.facilities.fund.sum() == pytest.approx(monthly.fund_paid.sum(), rel=1e-9)


def test_fund_ledger(ffs_and_drg, small):
    ffs, _ = ffs_and_drg
    revenue = ffs.daily[ffs.daily.counter == "fund_revenue"].groupby("scheme", observed=True)
    revenue = revenue.value.sum()
    resident_members, employee_members = ffs.meta["members_by_scheme"]
    # accrued revenue = contribution (1020 / 4500 yuan per member-year) × members × days / 365
    assert revenue["resident"] == pytest.approx(1020 * resident_members * DAYS / 365)
    assert revenue["employee"] == pytest.approx(4500 * employee_members * DAYS / 365)
    residents = ffs.meta["residents"]
    assert resident_members + employee_members == residents
    assert ffs.indicator("fund_balance_per_capita") == pytest.approx(
        (revenue.sum() - money(ffs, "fund_paid")) / residents * 365 / DAYS
    )


def test_drg_stay_response_shortens_stays(small, rules_off):
    # the fixed response (rules off); the decided one: tests/test_providers.py
    drg = {"payment.inpatient_method.value": {"county": "drg"}, **rules_off}
    on = flowsim.run(small.with_overrides(drg), days=DAYS, seed=3)
    off = flowsim.run(
        small.with_overrides({**drg, "responses.drg_stay_factor.value": 1.0}), days=DAYS, seed=3
    )
    assert on.indicator("bed_occupancy_county") < 0.95 * off.indicator("bed_occupancy_county")


def test_dip_points_and_provisional_payment(baseline):
    s = baseline.with_overrides({"payment.inpatient_method.value": {"county": "dip"}})
    rules = rules_on(s, s.start_date)
    # severity 0.72 → weight 1.225; points = 1.225 × 100 × county coefficient 1.0 = 122.5;
    # provisional standard 122.5 × 68 = 8330; patient 2000, assistance 300 → fund 6030
    paid = provider_payment(
        rules,
        claim([9000], [2000], [300]),
        tier=np.array([Tier.COUNTY]),
        severity=np.array([0.72]),
        stay=np.array([9]),
        rehab=np.zeros(1, bool),
    )
    np.testing.assert_allclose(paid.dip_points, [122.5])
    np.testing.assert_allclose(paid.fund, [8330 - 2300])


def test_dip_point_value_floats_to_meet_the_regional_budget(small):
    dip = small.with_overrides(
        {
            "payment.inpatient_method.value": {
                "township": "dip",
                "county": "dip",
                "out_of_county": "dip",
            }
        }
    )
    m = flowsim.CountyModel(dip, seed=5)
    m.run_for(365)
    row = m.settlements.dip[0]
    budget = 1435 * len(m.residents)  # dip_budget_per_capita × residents, a full year
    assert row["budget"] == pytest.approx(budget)
    assert row["final_point_value"] == pytest.approx(budget / row["points"])
    # after the year-end adjustment, DIP standards add up to the budget exactly
    assert row["paid_at_provisional"] + row["adjustment"] == pytest.approx(budget)
    res = flowsim.Results.from_record(m.record())
    assert res.dip_settlements.iloc[0].points == pytest.approx(row["points"])


def test_outpatient_capitation_with_retained_surplus(small, rules_off):
    # the same claims as under fee-for-service: no decision responds to capitation (rules off)
    cap = {"payment.outpatient_capitation.value": {"village": True, "township": True},
           **rules_off}
    ffs = flowsim.run(small, days=365, seed=6)
    res = flowsim.run(small.with_overrides(cap), days=365, seed=6)
    rows = res.capitation_settlements.set_index("tier")
    residents = res.meta["residents"]
    # every resident is in one village clinic's and one township centre's catchment:
    # budget = 60 yuan × residents at each tier (004 二(三), 002 四)
    assert rows.loc["village", "budget"] == pytest.approx(60 * residents, rel=1e-9)
    assert rows.loc["township", "budget"] == pytest.approx(60 * residents, rel=1e-9)
    # kept + returned = budget − fee-for-service value of the claims, per facility and so per tier
    np.testing.assert_allclose(
        rows.facility_kept + rows.returned_to_fund, rows.budget - rows.cost_of_services, rtol=1e-9
    )
    # the cost of services is the fund's share of the same claims under fee-for-service
    assert rows.cost_of_services.sum() == pytest.approx(
        money(ffs, "fund", service="outpatient", tier="village")
        + money(ffs, "fund", service="outpatient", tier="township"),
        rel=1e-9,
    )
    # patients' cost sharing is unchanged
    assert money(res, "patient") == pytest.approx(money(ffs, "patient"), rel=1e-12)
    # the fund's balance counts the capitation budget and what the facilities returned
    revenue = res.daily[res.daily.counter == "fund_revenue"].value.sum()
    expected = revenue - money(res, "fund_paid") + rows.returned_to_fund.sum()
    assert res.indicator("fund_balance_per_capita") == pytest.approx(expected / residents)


def test_capitation_only_at_grassroots(small):
    from flowsim.errors import InputError

    with pytest.raises(InputError, match="outpatient_capitation.value.county.*village clinics"):
        small.with_overrides({"payment.outpatient_capitation.value": {"county": True}})


def test_case_payment_avoids_low_severity_admissions(small, rules_off):
    # the fixed response (rules off); under the admission rule case payment avoids none
    drg = {"payment.inpatient_method.value": {"township": "drg", "county": "drg"}, **rules_off}
    on = flowsim.run(small.with_overrides(drg), days=DAYS, seed=3)
    off = flowsim.run(small.with_overrides({
        **drg, "responses.case_payment_avoided_admissions.value": 0.0}), days=DAYS, seed=3)
    ffs = flowsim.run(small, days=DAYS, seed=3)
    assert on.indicator("admissions_avoided_per_1000") > 0
    assert off.indicator("admissions_avoided_per_1000") == 0
    assert ffs.indicator("admissions_avoided_per_1000") == 0
    assert on.indicator("admissions_per_capita") < off.indicator("admissions_per_capita")
    assert on.indicator("visits_per_capita") > off.indicator("visits_per_capita")
