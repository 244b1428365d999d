"""Facility choice with capacity (``choice.allocate``): logit shares, first come first served,
and patients turned away choosing again with their own draws."""

import numpy as np
import pytest

from flowsim.choice import allocate

UNLIMITED = -1  # facility code of an option without capacity (e.g. no care)


def choose(utility, gumbel, facility, capacity):
    return allocate(np.ascontiguousarray(utility, np.float64),
                    np.ascontiguousarray(gumbel, np.float32),
                    np.ascontiguousarray(facility, np.int64), np.asarray(capacity, np.int64))


def test_unlimited_choices_follow_logit_shares():
    n = 200_000
    v = np.array([0.0, 1.0, -0.5])
    rng = np.random.default_rng(7)
    pick, away = choose(np.repeat(v[:, None], n, axis=1), rng.gumbel(size=(3, n)),
                        np.full((3, n), UNLIMITED), [])
    shares = np.bincount(pick, minlength=3) / n
    expected = np.exp(v) / np.exp(v).sum()
    # binomial sd of a share <= 0.0012 here: 5 sd
    np.testing.assert_allclose(shares, expected, atol=0.006)


def test_first_come_first_served_and_turned_away_choose_again():
    # five patients all prefer facility 0 (2 places); the last three go to facility 1
    utility = np.array([[2.0] * 5, [1.0] * 5])
    pick, away = choose(utility, np.zeros((2, 5)), [[0] * 5, [1] * 5], [2, 10])
    assert pick.tolist() == [0, 0, 1, 1, 1]
    assert away.tolist() == [3, 0]


def test_turned_away_patient_keeps_their_draws():
    # patient 1's draws rank facility 2 second: turned away by full facility 0, they go there
    utility = np.zeros((3, 2))
    gumbel = np.array([[5.0, 5.0], [0.0, 1.0], [1.0, 3.0]])
    pick, away = choose(utility, gumbel, [[0, 0], [1, 1], [2, 2]], [1, 5, 5])
    assert pick.tolist() == [0, 2]
    assert away.tolist() == [1, 0, 0]


def test_unavailable_alternatives_are_never_chosen():
    utility = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    pick, away = choose(utility, np.full((2, 2), 9.0), [[0, 0], [1, 1]], [5, 5])
    assert pick.tolist() == [1, -1]  # the second patient has nothing available
    assert away.sum() == 0


def test_capacity_argument_is_left_unchanged():
    capacity = np.array([1, 1], np.int64)
    choose(np.zeros((2, 3)), np.zeros((2, 3)), [[0] * 3, [1] * 3], capacity)
    assert capacity.tolist() == [1, 1]


@pytest.mark.parametrize("places", [0, 1, 3])
def test_everyone_beyond_capacity_is_turned_away_once(places):
    pick, away = choose(np.array([[1.0] * 4, [0.0] * 4]), np.zeros((2, 4)),
                        [[0] * 4, [UNLIMITED] * 4], [places])
    assert (pick == 0).sum() == places
    assert away.tolist() == [4 - places]
