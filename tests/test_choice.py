"""Facility choice: the choice set of each village (``choice.choice_set``), and the choice with
capacity (``choice.allocate``): logit shares, first come first served, re-choice after a full
facility, and the residual draw that drives a later choice."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from flowsim.choice import CHOICE_TIERS, allocate, choice_set
from flowsim.config import load_scenario
from flowsim.county import County, facility_table
from flowsim.csv_county import load_county_csv
from flowsim.synthetic_county import generate_county

ROOT = Path(__file__).resolve().parents[1]

UNLIMITED = -1  # facility code of an option without capacity (e.g. no care)


def choose(weight, uniform, facility, capacity):
    return allocate(np.ascontiguousarray(weight, np.float64),
                    np.ascontiguousarray(uniform, np.float64),
                    np.ascontiguousarray(facility, np.int64), np.asarray(capacity, np.int64))


def shares(pick, k):
    return np.bincount(pick, minlength=k) / len(pick)


def test_choices_follow_logit_shares():
    n = 200_000
    v = np.array([0.0, 1.0, -0.5])
    weight = np.repeat(np.exp(v)[:, None], n, axis=1)
    pick, residual, away = choose(weight, np.random.default_rng(7).random(n),
                                  np.full((3, n), UNLIMITED), [])
    # binomial sd of a share <= 0.0012 here: 5 sd
    np.testing.assert_allclose(shares(pick, 3), np.exp(v) / np.exp(v).sum(), atol=0.006)


def test_patients_turned_away_choose_among_the_rest_by_logit():
    # facility 2 has no place: those who pick it choose again among 0 and 1 (weights 1 : 2)
    n = 200_000
    weight = np.repeat(np.array([[1.0], [2.0], [3.0]]), n, axis=1)
    pick, residual, away = choose(weight, np.random.default_rng(3).random(n),
                                  np.repeat([[0], [1], [2]], n, axis=1), [n, n, 0])
    np.testing.assert_allclose(shares(pick, 3), [1 / 3, 2 / 3, 0], atol=0.006)
    assert away[:2].tolist() == [0, 0]
    assert away[2] == pytest.approx(n / 2, rel=0.02)  # half the patients tried facility 2


def test_residual_draw_is_uniform_whatever_was_chosen():
    n = 100_000
    weight = np.repeat(np.array([[1.0], [3.0]]), n, axis=1)
    pick, residual, _ = choose(weight, np.random.default_rng(5).random(n),
                               np.full((2, n), UNLIMITED), [])
    for j in (0, 1):
        assert stats.kstest(residual[pick == j], "uniform").pvalue > 0.001


def test_first_come_first_served():
    # five patients on the first alternative by their draw (U = 0); facility 0 has 2 places
    pick, _, away = choose(np.ones((2, 5)), np.zeros(5), [[0] * 5, [1] * 5], [2, 10])
    assert pick.tolist() == [0, 0, 1, 1, 1]
    assert away.tolist() == [3, 0]


def test_unavailable_alternatives_are_never_chosen():
    weight = np.array([[0.0, 0.0], [1.0, 0.0]])
    pick, _, away = choose(weight, np.full(2, 0.999), [[0, 0], [1, 1]], [5, 5])
    assert pick.tolist() == [1, -1]  # the second patient has nothing available
    assert away.sum() == 0


def test_capacity_argument_is_left_unchanged():
    capacity = np.array([1, 1], np.int64)
    choose(np.ones((2, 3)), np.zeros(3), [[0] * 3, [1] * 3], capacity)
    assert capacity.tolist() == [1, 1]


@pytest.mark.parametrize("places", [0, 1, 3])
def test_everyone_beyond_capacity_is_turned_away_once(places):
    pick, _, away = choose(np.ones((2, 4)), np.zeros(4), [[0] * 4, [UNLIMITED] * 4], [places])
    assert (pick == 0).sum() == places
    assert away.tolist() == [4 - places]


# ---------------------------------------------------------------- the choice set


def hand_county(tiers, township, village, village_township, travel) -> County:
    """A county written out by hand: one facility per entry of ``tiers``."""
    n = len(tiers)
    facilities = facility_table(pd.DataFrame({
        "facility_id": [f"F{k}" for k in range(n)], "name": [f"F{k}" for k in range(n)],
        "tier": tiers, "township": township, "village": village, "x_km": 0.0, "y_km": 0.0,
        "outpatient_slots_per_day": 1, "beds": 1,
    }))
    villages = pd.DataFrame({
        "village_id": [f"V{i}" for i in range(len(village_township))],
        "name": [f"V{i}" for i in range(len(village_township))],
        "township": village_township, "population": 100, "x_km": 0.0, "y_km": 0.0,
    })
    return County(name="hand", villages=villages, facilities=facilities, travel_min=travel)


def test_choice_set_worked_by_hand():
    # rows: clinics of villages 0 and 1 (village 2 has none), centres of townships 0, 1, 2,
    # two county hospitals, one out-of-county hospital
    county = hand_county(
        tiers=["village", "village", "township", "township", "township", "county", "county",
               "out_of_county"],
        township=[0, 0, 0, 1, 2, -1, -1, -1],
        village=[0, 1, -1, -1, -1, -1, -1, -1],
        village_township=[0, 0, 1],
        travel=[[0, 5, 10, 30, 20, 40, 40, 130],   # other centre: township 2; hospitals tie
                [5, 0, 12, 15, 25, 35, 30, 125],   # other centre: township 1; 2nd hospital
                [30, 25, 18, 8, 18, 45, 45, 135]],  # own centre nearest; others tie
    )
    expected = [[0, 2, 4, 5, 7],
                [1, 2, 3, 6, 7],
                [-1, 3, 2, 5, 7]]
    choices = choice_set(county)
    assert choices.dtype == np.int32
    np.testing.assert_array_equal(choices, expected)


def test_choice_set_marks_absent_options_with_minus_one():
    # one township (no other centre), no hospital outside the county
    county = hand_county(tiers=["village", "village", "township", "county"],
                         township=[0, 0, 0, -1], village=[0, 1, -1, -1], village_township=[0, 0],
                         travel=[[0, 4, 9, 30], [4, 0, 7, 25]])
    np.testing.assert_array_equal(choice_set(county), [[0, 2, -1, 3, -1], [1, 2, -1, 3, -1]])


def test_synthetic_choice_set_has_the_right_tiers_and_the_nearest_other_centre(small):
    county = generate_county(small.county.name, small.county.synthetic,
                             small.facilities.capacity_per_1000, np.random.default_rng(1))
    choices = choice_set(county)
    fac = county.facilities
    assert choices.shape == (len(county.villages), len(CHOICE_TIERS)) and (choices >= 0).all()
    for col, tier in enumerate(CHOICE_TIERS):
        assert (fac["tier_code"].to_numpy()[choices[:, col]] == tier).all()
    townships = county.villages["township"].to_numpy()
    assert (fac["village"].to_numpy()[choices[:, 0]] == np.arange(len(county.villages))).all()
    assert (fac["township"].to_numpy()[choices[:, 1]] == townships).all()
    centres = np.flatnonzero(fac["tier"] == "township")
    for i, own in enumerate(choices[:, 1]):
        others = centres[centres != own]
        assert county.travel_min[i, choices[i, 2]] == county.travel_min[i, others].min()


def test_csv_choice_set_leaves_a_village_without_clinic_out():
    scenario = load_scenario(ROOT / "configs" / "example_csv_county.yaml")
    county = load_county_csv(scenario.county.name, scenario.county.csv, scenario.file.parent)
    choices = choice_set(county)
    no_clinic = county.villages.index[county.villages["village_id"] == "V13"][0]
    assert choices[no_clinic, 0] == -1
    assert (np.delete(choices, no_clinic, axis=0) >= 0).all()
    tier = county.facilities["tier_code"].to_numpy()
    for col, code in enumerate(CHOICE_TIERS):
        present = choices[:, col] >= 0
        assert (tier[choices[present, col]] == code).all()
