"""The compiled encounter loops price each encounter from the resident's own record exactly as
the broadcasting ``price_claims`` does from the same facts; per-day random streams."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from flowsim import encounters
from flowsim.config import load_scenario
from flowsim.domain import Referral, Service, Tier
from flowsim.illness import beta_by_table, bill_noise_table
from flowsim.model import CountyModel
from flowsim.policy import price_claims, rules_on
from flowsim.population import RESIDENT_RECORD
from flowsim.streams import DAYS_PER_BLOCK, Streams

SCENARIOS = Path(__file__).resolve().parents[1] / "configs" / "scenarios"


@pytest.fixture(scope="module")
def all_rules(baseline):
    """The rules of the baseline and of every shipped scenario after its last change."""
    out = [rules_on(baseline, baseline.start_date)]
    for path in sorted(SCENARIOS.glob("*.yaml")):
        s = load_scenario(path)
        out.append(rules_on(s, max([s.start_date, *s.change_dates()])))
    return out


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_model_claims_match_price_claims(all_rules, data):
    rules = data.draw(st.sampled_from(all_rules))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n, n_villages = 200, 3
    p = np.zeros(n, RESIDENT_RECORD)
    p["village"] = rng.integers(0, n_villages, n)
    p["scheme"] = rng.integers(0, 2, n)
    p["poverty"] = rng.integers(0, 5, n)
    p["contracted"] = rng.random(n) < 0.5
    p["deductible_paid_year"] = rng.choice([0.0, 50.0, 5000.0], (n, 3))
    p["fund_paid_year"] = rng.choice([0.0, 1000.0, 1e6], (n, 3))
    p["assistance_paid_year"] = rng.choice([0.0, 100.0, 1e6], n)
    fac_tier = np.array([0, 0, 0, 1, 1, 2, 3])  # 3 clinics, 2 centres, county, outside
    own = np.array([[0, 1, 2], [3, 3, 4]])  # each village's clinic and township centre
    fac = rng.integers(0, len(fac_tier), n)
    service = np.where(fac_tier[fac] == Tier.VILLAGE, rng.integers(0, 2, n),
                       rng.integers(0, 3, n))
    bill = rng.lognormal(6, 1.5, n)
    referral = np.where(service == Service.INPATIENT, rng.integers(0, 3, n), Referral.NONE)
    prior = rng.choice([0.0, 300.0], n)
    emergency = rng.random(n) < 0.3
    got = encounters.claims(rules.tables, p, fac, fac_tier, own, service, bill, referral, prior,
                            emergency)
    rows = np.arange(n)
    want = price_claims(
        rules, bill=bill, scheme=p["scheme"], service=service, tier=fac_tier[fac],
        poverty=p["poverty"], referral=referral, prior_deductible_paid=prior,
        emergency=emergency,
        contracted_here=p["contracted"] & ((own[0, p["village"]] == fac)
                                           | (own[1, p["village"]] == fac)),
        deductible_paid_year=p["deductible_paid_year"][rows, service],
        fund_paid_year=p["fund_paid_year"][rows, service],
        assistance_paid_year=p["assistance_paid_year"])
    np.testing.assert_allclose(got, np.array(want[1:]), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(want.fund + want.assistance + want.patient, bill, rtol=1e-12)


def test_streams_depend_only_on_seed_process_and_day():
    late_first = Streams(5)
    late = late_first.on("bill", DAYS_PER_BLOCK + 3).random(4)
    early = late_first.on("bill", 3).random(4)
    fresh = Streams(5)
    np.testing.assert_array_equal(fresh.on("bill", 3).random(4), early)
    np.testing.assert_array_equal(fresh.on("bill", DAYS_PER_BLOCK + 3).random(4), late)
    assert not np.array_equal(early, late)
    assert not np.array_equal(fresh.on("choice.chronic", 3).random(4), early)
    assert not np.array_equal(Streams(6).on("bill", 3).random(4), early)


@pytest.mark.parametrize("a, b", [(2.0, 6.0), (3.0, 3.0), (0.7, 1.5)])
def test_tabulated_severity_draws_are_beta(a, b):
    draws = beta_by_table(a, b, np.random.default_rng(1).random(200_000))
    assert stats.kstest(draws, stats.beta(a, b).cdf).pvalue > 0.001
    assert draws.mean() == pytest.approx(a / (a + b), abs=0.002)


@pytest.mark.parametrize("sigma", [0.3, 0.6, 1.0])
def test_bill_noise_is_mean_one_lognormal(sigma):
    table = bill_noise_table(sigma)
    assert table.astype(np.float64).mean() == pytest.approx(1.0, abs=1e-6)
    assert np.log(table).std() == pytest.approx(sigma, rel=0.01)
    drawn = table[(np.random.default_rng(2).random(200_000) * len(table)).astype(int)]
    assert drawn.mean() == pytest.approx(1.0, abs=0.01)


def test_new_episodes_follow_the_age_band_rates_in_random_order(small):
    model = CountyModel(small, seed=4)
    r = model.residents
    counts = np.zeros(len(r.band_size))
    days = 100
    for _ in range(days):
        rows, _ = model.illness.new_episodes("minor")  # those of the day about to be simulated
        band = np.searchsorted(r.band_start, rows, side="right") - 1
        counts += np.bincount(band, minlength=len(counts))
        model.run_for(1)
    rates = model.illness.rates["minor"]
    expected = rates / 365 * r.band_size * days
    np.testing.assert_allclose(counts, expected, rtol=5 * np.sqrt(expected).max() / expected.min())
    assert not np.all(np.diff(band) >= 0)  # served in random order, not by age band


def test_a_second_visit_on_the_same_day_sees_the_deductible_paid_at_the_first(baseline):
    rules = rules_on(baseline, baseline.start_date)
    table = np.zeros(1, RESIDENT_RECORD)  # one resident of the resident scheme, village 0
    fac_tier = np.array([Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY, Tier.OUT_OF_COUNTY])
    books = encounters.Books(
        table, fac_tier, np.zeros(4, bool), np.zeros((5, 3, 4, 2)), np.zeros((3, 4, 2), np.int64),
        np.zeros((4, 2), np.int64), np.zeros(5), np.zeros(4, np.int64),
        np.zeros((len(encounters.Total), 4)), np.zeros(4))
    b = rules.benefits.resident.outpatient
    deductible = b.deductible[Tier.COUNTY]
    assert deductible > 0
    share = rules.benefits.catalogue_share[Service.OUTPATIENT, Tier.COUNTY]
    bill = deductible / share  # all of the policy range is deductible
    none = np.full(2, Referral.NONE, np.int64)
    encounters.visits(rules.tables, books, np.array([0, 0]), np.array([2, 2]),
                      np.array([[0], [1]]), np.zeros(2, np.int64), np.full(2, bill), none)
    paid = table["deductible_paid_year"][0, Service.OUTPATIENT]
    assert paid == pytest.approx(deductible)  # charged once, not twice
    assert books.money[1].sum() > 0  # the fund paid part of the second visit
    np.testing.assert_allclose(books.money[0].sum(), books.money[1:4].sum())


def test_care_nest_gives_nested_logit_probabilities():
    # two facilities with V − top = (0, −1) and μ = 0.5: w = (1, e⁻²), S = 1 + e⁻²,
    # IV = top + μ log S with top = 1; going without has V₀ = 0.5: P(care) = 1 / (1 + e^(V₀ − IV))
    mu, top, constant = 0.5, 1.0, 0.5
    v = np.array([0.0, -1.0])
    weight = np.zeros((3, 3))
    weight[:2] = np.exp(v / mu)[:, None]
    weight[:2, 2] = 0.0  # patient 2 has no facility at all
    emergency = np.array([False, True, False])
    encounters.care_nest(weight, np.array([top, top, -np.inf]), constant, mu, emergency)
    s = 1 + np.exp(-2.0)
    p_care = 1 / (1 + np.exp(constant - top - mu * np.log(s)))
    np.testing.assert_allclose(weight[:, 0], [p_care / s, p_care * np.exp(-2) / s, 1 - p_care])
    np.testing.assert_allclose(weight[:, 1], [1.0, np.exp(-2.0), 0.0])  # emergency: no option
    np.testing.assert_allclose(weight[:, 2], [0.0, 0.0, 1.0])  # nowhere to go but without
