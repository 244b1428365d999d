"""Cost sharing: hand-computed worked examples from the seeds, and hypothesis properties.

Bill amounts, in-catalogue shares and deductibles below are assumed round numbers (the seeds
give rates, not bills or deductibles); the rates are the seeds' own.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flowsim.benefits import (
    Claim,
    contracted_rate,
    effective_rate,
    inpatient_deductible_due,
    outpatient_deductible_due,
    share_costs,
)
from flowsim.domain import Referral

INF = np.inf


def settle(bill, share, deductible, rate, *, cap=INF, assist=0.0, assist_cap=INF) -> Claim:
    return share_costs(
        bill,
        catalogue_share=share,
        deductible_due=deductible,
        rate=rate,
        fund_cap_left=cap,
        assistance_share=assist,
        assistance_cap_left=assist_cap,
    )


def check(claim: Claim, *, policy_range, deductible_paid, fund, assistance, patient) -> None:
    assert claim.policy_range == pytest.approx(policy_range)
    assert claim.deductible_paid == pytest.approx(deductible_paid)
    assert claim.fund == pytest.approx(fund)
    assert claim.assistance == pytest.approx(assistance)
    assert claim.patient == pytest.approx(patient)
    assert claim.fund + claim.assistance + claim.patient == pytest.approx(claim.bill)


# --- worked examples -------------------------------------------------------------------------


def test_township_admission_at_grassroots_85_percent():
    # 济医保发〔2023〕5号 一 / Weihai 003 (from 2023-07-01): grassroots inpatient rate 85 %.
    # Assumed: bill 5000, 90 % in catalogue, township deductible 200.
    # policy range 5000*0.9 = 4500; above deductible 4500-200 = 4300; fund 4300*0.85 = 3655;
    # patient 5000-3655 = 1345 (= 500 目录外 + 200 deductible + 645 co-pay).
    claim = settle(5000.0, 0.9, 200.0, 0.85)
    check(claim, policy_range=4500, deductible_paid=200, fund=3655, assistance=0, patient=1345)


def test_county_admission_ten_points_lower():
    # 鲁医保发〔2024〕39号 三(一): township vs county resident inpatient rate gap >= 10 pp,
    # so county 0.85 - 0.10 = 0.75. Assumed: bill 10000, 85 % in catalogue, deductible 500.
    # policy range 8500; (8500-500)*0.75 = 6000 fund; patient 10000-6000 = 4000.
    claim = settle(10000.0, 0.85, 500.0, 0.85 - 0.10)
    check(claim, policy_range=8500, deductible_paid=500, fund=6000, assistance=0, patient=4000)


def test_two_diseases_outpatient_at_70_percent():
    # 两病 (hypertension/diabetes) outpatient at 70 % (济医保发〔2023〕5号 一, Weihai 003).
    # Assumed: bill 300, 95 % in catalogue, no deductible.
    # policy range 285; fund 285*0.7 = 199.5; patient 300-199.5 = 100.5.
    claim = settle(300.0, 0.95, 0.0, 0.70)
    check(claim, policy_range=285, deductible_paid=0, fund=199.5, assistance=0, patient=100.5)


def test_grassroots_outpatient_60_percent_deductible_waived():
    # 鲁医保发〔2023〕13号 二: grassroots ordinary outpatient ~60 %; 000 二(五) and 13号 二
    # abolish the grassroots outpatient deductible.
    # Assumed: annual deductible 100, bill 80, all in catalogue.
    due = outpatient_deductible_due(100.0, paid_this_year=0.0, waived=True)
    assert due == 0.0
    # waived: fund 80*0.6 = 48, patient 32.
    check(
        settle(80.0, 1.0, due, 0.60),
        policy_range=80,
        deductible_paid=0,
        fund=48,
        assistance=0,
        patient=32,
    )
    # not waived: 100 due > 80 bill, so the whole bill is deductible: fund 0, patient 80.
    due = outpatient_deductible_due(100.0, paid_this_year=0.0, waived=False)
    assert due == 100.0
    check(
        settle(80.0, 1.0, due, 0.60),
        policy_range=80,
        deductible_paid=80,
        fund=0,
        assistance=0,
        patient=80,
    )
    # next visit after 80 paid: 100-80 = 20 due; bill 80 -> (80-20)*0.6 = 36 fund, patient 44.
    due = outpatient_deductible_due(100.0, paid_this_year=80.0, waived=False)
    assert due == 20.0
    check(
        settle(80.0, 1.0, due, 0.60),
        policy_range=80,
        deductible_paid=20,
        fund=36,
        assistance=0,
        patient=44,
    )
    # deductible already exceeded: nothing due.
    assert outpatient_deductible_due(100.0, paid_this_year=150.0, waived=False) == 0.0


def test_upward_referral_first_only_vs_difference():
    # Township admission paid its deductible 200 (assumed); referred up to the county (deductible
    # 500 assumed, rate 0.75, bill 10000, 85 % in catalogue -> policy range 8500).
    kw = dict(referral=Referral.UP, prior_deductible_paid=200.0, downward_waived=True)
    # Weihai 003 当次住院只计算首次起付线: nothing more due.
    first_only = inpatient_deductible_due(500.0, upward="first_only", **kw)
    # 001 三(一) / 004 二(二) 连续/累计计算起付线: 500-200 = 300 due.
    difference = inpatient_deductible_due(500.0, upward="difference", **kw)
    # no continuity: the full 500.
    none = inpatient_deductible_due(500.0, upward="none", **kw)
    assert (first_only, difference, none) == (0.0, 300.0, 500.0)
    # first_only: 8500*0.75 = 6375 fund, patient 10000-6375 = 3625.
    check(
        settle(10000.0, 0.85, first_only, 0.75),
        policy_range=8500,
        deductible_paid=0,
        fund=6375,
        assistance=0,
        patient=3625,
    )
    # difference: (8500-300)*0.75 = 6150 fund, patient 3850.
    check(
        settle(10000.0, 0.85, difference, 0.75),
        policy_range=8500,
        deductible_paid=300,
        fund=6150,
        assistance=0,
        patient=3850,
    )
    # prior deductible larger than this one: nothing due, never negative.
    assert (
        inpatient_deductible_due(
            150.0,
            referral=Referral.UP,
            prior_deductible_paid=200.0,
            upward="difference",
            downward_waived=False,
        )
        == 0.0
    )


def test_downward_referral_no_new_deductible():
    # Weihai 003 / 004 二(二): county -> township for rehabilitation pays no new deductible.
    kw = dict(referral=Referral.DOWN, prior_deductible_paid=500.0, upward="none")
    assert inpatient_deductible_due(200.0, downward_waived=True, **kw) == 0.0
    assert inpatient_deductible_due(200.0, downward_waived=False, **kw) == 200.0
    # Township bill 3000 (assumed), all in catalogue, 85 %: 3000*0.85 = 2550 fund, patient 450.
    check(
        settle(3000.0, 1.0, 0.0, 0.85),
        policy_range=3000,
        deductible_paid=0,
        fund=2550,
        assistance=0,
        patient=450,
    )


def test_deductible_vectorised_over_referral_codes():
    # One call, four admissions: none, up (difference 500-200 = 300), down waived, down not.
    due = inpatient_deductible_due(
        np.array([500.0, 500.0, 200.0, 200.0]),
        referral=np.array([Referral.NONE, Referral.UP, Referral.DOWN, Referral.DOWN]),
        prior_deductible_paid=np.array([0.0, 200.0, 500.0, 500.0]),
        upward="difference",
        downward_waived=np.array([True, True, True, False]),
    )
    np.testing.assert_allclose(due, [500.0, 300.0, 0.0, 200.0])


def test_non_referred_out_of_county_penalty_both_readings_and_emergency():
    # 宁医保发〔2023〕103号 一(二): non-emergency, non-referred 区外 admission "降低20%".
    # Base 0.60: points 0.60-0.20 = 0.40; relative 0.60*(1-0.20) = 0.48.
    points = effective_rate(0.60, penalised=True, penalty=0.20, mode="points")
    relative = effective_rate(0.60, penalised=True, penalty=0.20, mode="relative")
    emergency = effective_rate(0.60, penalised=False, penalty=0.20, mode="points")
    assert points == pytest.approx(0.40)
    assert relative == pytest.approx(0.48)
    assert emergency == pytest.approx(0.60)  # emergency / referred: not lowered
    # Assumed bill 20000, 80 % in catalogue (16000), deductible 1000 -> 15000 reimbursable.
    # points: 15000*0.40 = 6000, patient 14000; relative: 15000*0.48 = 7200, patient 12800;
    # emergency: 15000*0.60 = 9000, patient 11000.
    for rate, fund in ((points, 6000), (relative, 7200), (emergency, 9000)):
        check(
            settle(20000.0, 0.8, 1000.0, rate),
            policy_range=16000,
            deductible_paid=1000,
            fund=fund,
            assistance=0,
            patient=20000 - fund,
        )
    # vectorised, and a penalty larger than the rate floors at 0 in "points" mode.
    got = effective_rate(
        np.array([0.60, 0.60, 0.10]),
        penalised=np.array([True, False, True]),
        penalty=0.20,
        mode="points",
    )
    np.testing.assert_allclose(got, [0.40, 0.60, 0.0])


def test_family_doctor_contract_floor():
    # 000 二(六): policy-range inpatient rate >= 80 % at the contracted grassroots facility.
    # Assumed township rate 0.75: contracted -> 0.80; not contracted -> 0.75; 0.85 stays 0.85.
    got = contracted_rate(
        np.array([0.75, 0.75, 0.85]), min_rate=0.80, contracted_here=np.array([True, False, True])
    )
    np.testing.assert_allclose(got, [0.80, 0.75, 0.85])
    # Assumed bill 4000, all in catalogue, deductible 200: (4000-200)*0.80 = 3040, patient 960.
    check(
        settle(4000.0, 1.0, 200.0, got[0]),
        policy_range=4000,
        deductible_paid=200,
        fund=3040,
        assistance=0,
        patient=960,
    )


def test_dibao_assistance_on_remaining_policy_range():
    # 鲁医保发〔2023〕13号 一: 低保 patient, assistance 70 % (assumed share) of the policy-range
    # self-pay. Township admission as above: bill 5000, policy range 4500, deductible 200,
    # fund 3655. Scope 4500-3655 = 845 (200 deductible + 645 co-pay); 845*0.7 = 591.5;
    # patient 5000-3655-591.5 = 753.5 (= 500 目录外 + 845*0.3 = 253.5).
    claim = settle(5000.0, 0.9, 200.0, 0.85, assist=0.70)
    check(claim, policy_range=4500, deductible_paid=200, fund=3655, assistance=591.5, patient=753.5)
    # assistance cap left 300 (assumed): assistance 300, patient 5000-3655-300 = 1045.
    claim = settle(5000.0, 0.9, 200.0, 0.85, assist=0.70, assist_cap=300.0)
    check(claim, policy_range=4500, deductible_paid=200, fund=3655, assistance=300, patient=1045)


def test_annual_cap():
    # Assumed: bill 200000, 80 % in catalogue (160000), deductible 1000, rate 0.60, cap left 80000.
    # uncapped fund (160000-1000)*0.6 = 95400 > 80000 -> fund 80000; patient 120000.
    check(
        settle(200000.0, 0.8, 1000.0, 0.60, cap=80000.0),
        policy_range=160000,
        deductible_paid=1000,
        fund=80000,
        assistance=0,
        patient=120000,
    )
    # 低保 at 70 %: scope includes the above-cap part: 160000-80000 = 80000 -> 56000 assistance;
    # patient 200000-80000-56000 = 64000.
    check(
        settle(200000.0, 0.8, 1000.0, 0.60, cap=80000.0, assist=0.70),
        policy_range=160000,
        deductible_paid=1000,
        fund=80000,
        assistance=56000,
        patient=64000,
    )
    # cap exhausted (0) or overdrawn (-50): fund pays nothing.
    for cap in (0.0, -50.0):
        check(
            settle(1000.0, 1.0, 0.0, 0.60, cap=cap),
            policy_range=1000,
            deductible_paid=0,
            fund=0,
            assistance=0,
            patient=1000,
        )


def test_bill_below_deductible():
    # Assumed deductible 200, bill 150 all in catalogue: the whole bill is deductible, fund 0.
    check(
        settle(150.0, 1.0, 200.0, 0.85),
        policy_range=150,
        deductible_paid=150,
        fund=0,
        assistance=0,
        patient=150,
    )
    # with 低保 assistance 70 %: below-deductible costs are in scope: 150*0.7 = 105, patient 45.
    check(
        settle(150.0, 1.0, 200.0, 0.85, assist=0.70),
        policy_range=150,
        deductible_paid=150,
        fund=0,
        assistance=105,
        patient=45,
    )


def test_claim_fields_share_one_shape():
    claim = settle(np.array([100.0, 200.0, 300.0]), 1.0, 0.0, np.array([[0.5], [0.6]]))
    assert all(isinstance(f, np.ndarray) and f.shape == (2, 3) for f in claim)


# --- bad strings -----------------------------------------------------------------------------


def test_bad_penalty_mode():
    with pytest.raises(ValueError, match="mode"):
        effective_rate(0.6, penalised=True, penalty=0.2, mode="percent")


def test_bad_upward_rule():
    with pytest.raises(ValueError, match="upward"):
        inpatient_deductible_due(
            500.0,
            referral=Referral.UP,
            prior_deductible_paid=0.0,
            upward="first",
            downward_waived=True,
        )


# --- properties ------------------------------------------------------------------------------

SETTINGS = settings(max_examples=60, deadline=None)
money = st.floats(0.0, 1e7, allow_nan=False)
fraction = st.floats(0.0, 1.0, allow_nan=False)
cap = st.one_of(money, st.just(INF))


@st.composite
def claims(draw):
    n = draw(st.integers(1, 16))

    def arr(elements):
        return draw(arrays(np.float64, n, elements=elements))

    return dict(
        bill=arr(money),
        catalogue_share=arr(fraction),
        deductible_due=arr(st.floats(0.0, 1e5, allow_nan=False)),
        rate=arr(fraction),
        fund_cap_left=arr(cap),
        assistance_share=arr(fraction),
        assistance_cap_left=arr(cap),
    )


def _settle(kw):
    kw = dict(kw)
    return share_costs(kw.pop("bill"), **kw)


@SETTINGS
@given(claims())
def test_parts_sum_to_bill_and_are_non_negative(kw):
    c = _settle(kw)
    np.testing.assert_allclose(c.fund + c.assistance + c.patient, c.bill, rtol=1e-12, atol=1e-6)
    for part in c:
        assert np.all(part >= 0)
    assert np.all(c.deductible_paid <= c.policy_range)
    assert np.all(c.fund <= c.policy_range)
    assert np.all(c.fund <= np.maximum(kw["fund_cap_left"], 0))
    assert np.all(c.assistance <= kw["assistance_cap_left"])
    assert np.all(c.patient >= c.bill - c.policy_range - 1e-6)  # 目录外 is always the patient's


@SETTINGS
@given(claims(), st.data())
def test_higher_rate_never_raises_patient_share(kw, data):
    other = data.draw(arrays(np.float64, kw["rate"].shape, elements=fraction))
    low = _settle({**kw, "rate": np.minimum(kw["rate"], other)})
    high = _settle({**kw, "rate": np.maximum(kw["rate"], other)})
    assert np.all(high.patient <= low.patient + 1e-6)


@SETTINGS
@given(claims())
def test_waiving_deductible_never_raises_patient_share(kw):
    waived = _settle({**kw, "deductible_due": np.zeros_like(kw["deductible_due"])})
    assert np.all(waived.patient <= _settle(kw).patient + 1e-6)


@SETTINGS
@given(
    arrays(np.float64, 8, elements=st.floats(0.0, 1e5, allow_nan=False)),
    arrays(np.int64, 8, elements=st.sampled_from([int(r) for r in Referral])),
    arrays(np.float64, 8, elements=st.floats(0.0, 1e5, allow_nan=False)),
    arrays(np.bool_, 8),
    st.sampled_from(["none", "first_only", "difference"]),
)
def test_deductible_due_between_zero_and_full(deductible, referral, prior, waived, upward):
    due = inpatient_deductible_due(
        deductible,
        referral=referral,
        prior_deductible_paid=prior,
        upward=upward,
        downward_waived=waived,
    )
    assert np.all((due >= 0) & (due <= deductible))
    np.testing.assert_array_equal(
        due[referral == Referral.NONE], deductible[referral == Referral.NONE]
    )


@SETTINGS
@given(
    arrays(np.float64, 8, elements=fraction),
    arrays(np.bool_, 8),
    fraction,
    st.sampled_from(["points", "relative"]),
)
def test_penalty_only_lowers_penalised_rates(base, penalised, penalty, mode):
    rate = effective_rate(base, penalised=penalised, penalty=penalty, mode=mode)
    assert np.all((rate >= 0) & (rate <= base))
    np.testing.assert_array_equal(rate[~penalised], base[~penalised])
