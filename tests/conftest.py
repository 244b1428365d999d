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
RULES_OFF = {f"providers.{name}_rule.value": False
             for name in ("length_of_stay", "transfer", "admission", "township_referral")}
"""Every provider decision rule off: the fixed responses of ``responses.*`` (docs/providers.md)."""


@pytest.fixture(scope="session")
def rules_off():
    """Overrides that switch every provider decision rule off (``RULES_OFF``)."""
    return dict(RULES_OFF)


@pytest.fixture(scope="session")
def baseline():
    """The shipped default county scenario."""
    return load_scenario(ROOT / "configs" / "baseline.yaml")


@pytest.fixture(scope="session")
def small(baseline):
    """Baseline rules and behaviour on a 20,000-resident county."""
    return baseline.with_overrides(SMALL)
