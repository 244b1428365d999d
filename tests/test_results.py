"""Results tables: indicators agree with the tidy daily counters, by month and on disk."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flowsim
from flowsim import indicators
from flowsim.api import simulate
from flowsim.config import load_scenario
from flowsim.indicators import INDICATORS
from flowsim.results import Results, whole_run_window


@pytest.fixture(scope="module")
def res(small):
    return flowsim.run(small, days=70, seed=4)


@pytest.fixture(scope="module")
def case_paid(small):
    """Admissions paid by DRG: what the fund pays providers differs from its share of the bills."""
    drg = {"township": "drg", "county": "drg", "out_of_county": "drg"}
    return flowsim.run(small.with_overrides({"payment.inpatient_method.value": drg}),
                       days=70, seed=4)


def rows(res, counter, **where):
    d = res.daily[res.daily.counter == counter]
    for col, values in where.items():
        d = d[d[col].isin(values if isinstance(values, list | tuple) else [values])]
    return d.value.sum()


def test_indicators_match_the_daily_table_computed_independently(res):
    visits = rows(res, "visits")
    assert res.indicator("grassroots_visit_share") == pytest.approx(
        rows(res, "visits", tier=["village", "township"]) / visits
    )
    assert res.indicator("in_county_admission_rate") == pytest.approx(
        rows(res, "admissions", tier=["village", "township", "county"]) / rows(res, "admissions")
    )
    residents = res.meta["residents"]
    assert res.indicator("visits_per_capita") == pytest.approx(visits / residents * 365 / 70)
    assert res.indicator("oop_per_capita") == pytest.approx(
        rows(res, "money", measure="patient") / residents * 365 / 70
    )
    occupied = rows(res, "occupied_beds", tier="county")
    assert res.indicator("bed_occupancy_county") == pytest.approx(
        occupied / (res.meta["beds_by_tier"][2] * 70)
    )


def test_the_whole_run_window_needs_no_daily_table():
    """``whole_run_window`` (fits) equals the window of the daily table, over two year ends."""
    s = load_scenario(Path(__file__).resolve().parents[1] / "configs" / "scenarios"
                      / "shandong_2024_39.yaml")
    record = simulate(s.with_overrides({"county.synthetic.population.value": 20000}), days=400,
                      seed=2)
    from_table = indicators.compute(Results.from_record(record).window())
    direct = indicators.compute(whole_run_window(record))
    assert from_table.keys() == direct.keys()
    for name, value in from_table.items():
        assert direct[name] == pytest.approx(value, rel=1e-9, nan_ok=True), name


def test_fund_indicators_read_what_the_fund_paid_providers(case_paid):
    """Fund spending shares count what the fund paid providers (``fund_paid``, the DRG standard
    less what patients paid); the reimbursement ratio counts the fund's share of the bills."""
    res = case_paid
    paid, share = (rows(res, "money", measure=m) for m in ("fund_paid", "fund"))
    assert abs(paid - share) > 0.01 * share  # the two differ under DRG: a swap would show
    in_county = ["village", "township", "county"]
    paid_in_county = rows(res, "money", measure="fund_paid", tier=in_county)
    assert res.indicator("in_county_fund_share") == pytest.approx(paid_in_county / paid)
    assert res.indicator("grassroots_fund_share") == pytest.approx(
        rows(res, "money", measure="fund_paid", tier=["village", "township"]) / paid_in_county)
    assert res.indicator("fund_per_capita") == pytest.approx(
        paid / res.meta["residents"] * 365 / 70)
    assert res.indicator("effective_reimbursement_ratio") == pytest.approx(
        share / rows(res, "money", measure="bill"))


def test_every_indicator_is_documented_and_finite_where_defined(res):
    table = res.indicators.set_index("indicator")
    for name, ind in INDICATORS.items():
        assert ind.formula and ind.label_zh and ind.unit, name
        if name not in ("medical_cost_growth", "bypass_share", "assessment_score"):  # full
            # years (cost growth, the assessment) or a gatekeeping penalty
            assert np.isfinite(table.loc[name, "value"]), name
    assert np.isnan(table.loc["medical_cost_growth", "value"])


def test_monthly_indicators_add_up_to_the_run(res):
    monthly = res.monthly()
    assert set(monthly.month.dt.month) == {1, 2, 3}
    shares = monthly[monthly.indicator == "grassroots_visit_share"].set_index("month").value
    per_capita = monthly[monthly.indicator == "visits_per_capita"].set_index("month").value
    days = pd.Series({m: d for m, d in zip(shares.index, (31, 28, 11), strict=True)})
    visits = per_capita * days / 365  # visits per resident in each month
    weighted = (shares * visits).sum() / visits.sum()
    assert weighted == pytest.approx(res.indicator("grassroots_visit_share"))


def test_catastrophic_incidence_follows_the_years_table(res):
    y = res.years
    expected = y[[f"catastrophic_q{q}" for q in range(1, 6)]].to_numpy().sum() / (
        y[[f"residents_q{q}" for q in range(1, 6)]].to_numpy().sum()
    )
    assert res.indicator("catastrophic_incidence") == pytest.approx(expected)
    # the poorest quintile is hit hardest
    assert res.indicator("catastrophic_incidence_q1") > res.indicator("catastrophic_incidence_q5")


def test_save_and_load_round_trip(res, tmp_path):
    res.save(tmp_path)
    back = Results.load(tmp_path)
    pd.testing.assert_frame_equal(back.indicators, res.indicators)
    pd.testing.assert_frame_equal(back.facilities, res.facilities)
    assert back.indicator("grassroots_visit_share") == res.indicator("grassroots_visit_share")
    assert "benefits:" in back.meta["scenario_yaml"]
