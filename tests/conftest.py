"""Shared fixtures: a small county with the baseline's per-capita parameters, for fast tests."""

from pathlib import Path

import pytest

from flowsim.config import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "county.synthetic.population.value": 20000,
    "county.synthetic.villages.value": 40,
    "county.synthetic.townships.value": 4,
}


@pytest.fixture(scope="session")
def baseline():
    """The shipped default county scenario."""
    return load_scenario(ROOT / "configs" / "baseline.yaml")


@pytest.fixture(scope="session")
def small(baseline):
    """Baseline rules and behaviour on a 20,000-resident county."""
    return baseline.with_overrides(SMALL)
