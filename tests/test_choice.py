"""Facility choice with capacity (``choice.allocate``): logit shares, first come first served,
re-choice after a full facility, and the residual draw that drives a later choice."""

import numpy as np
import pytest
from scipy import stats

from flowsim.choice import allocate

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
