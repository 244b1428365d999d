"""The shipped baseline is calibrated, and its headline indicators are pinned.

Both tests run ``configs/baseline.yaml`` on the calibration county of
``configs/targets/national.yaml`` (its ``runs``: 100,000 residents, the default county's
geography and per-capita parameters, seeds 1–3, 365 days): a smaller county with the same
per-capita parameters, whose indicators match the 500,000-resident county within noise.

Pins (``tests/baseline_pins.json``): the mean of every headline indicator over those runs, with a
tolerance of four standard deviations of what re-drawn random numbers alone would move it (from
the seed-to-seed spread; floors 0.3 points / 1 %). A change that moves an indicator further
changes the model's behaviour. If that is intended, say why in the commit and refresh the pins:

    python benchmarks/refresh_baseline_pins.py
"""

import json
import math
from pathlib import Path

import pytest

from flowsim.calibrate import Achieved, fitting_scenario, load_targets, replicate
from flowsim.indicators import HEADLINE

ROOT = Path(__file__).resolve().parents[1]
PINS = Path(__file__).with_name("baseline_pins.json")


@pytest.fixture(scope="module")
def national():
    return load_targets(ROOT / "configs" / "targets" / "national.yaml")


@pytest.fixture(scope="module")
def achieved(baseline, national):
    """Every target and headline indicator of the baseline on the calibration county."""
    names = list(dict.fromkeys([*HEADLINE, *national.targets]))
    runs = national.runs
    table = replicate(fitting_scenario(national, baseline),
                      {n: national.targets.get(n) for n in names}, seeds=runs.seeds,
                      days=runs.days)
    return {n: Achieved(table[:, i]) for i, n in enumerate(names)}


def test_baseline_meets_national_targets(national, achieved):
    misses = []
    for name in national.fitted:
        t = national.targets[name]
        got = achieved[name].mean
        if abs(got - t.value) > t.band:
            misses.append(f"{name}: {got:.4g}, target {t.value:.4g} ± {t.band:.3g}")
    assert not misses, "baseline outside the national targets: " + "; ".join(misses)


def test_headline_indicators_match_pins(national, achieved):
    pins = json.loads(PINS.read_text(encoding="utf-8"))
    runs = national.runs
    assert pins["runs"] == {"overrides": runs.overrides, "seeds": runs.seeds, "days": runs.days}, (
        "the pins were made with other runs: python benchmarks/refresh_baseline_pins.py")
    assert set(HEADLINE) <= set(pins["indicators"])
    moved = []
    for name, pin in pins["indicators"].items():
        got = achieved[name].mean
        if pin["value"] is None:
            if not math.isnan(got):
                moved.append(f"{name}: {got:.4g}, pinned n/a")
        elif not abs(got - pin["value"]) <= pin["tolerance"]:
            moved.append(f"{name}: {got:.5g}, pinned {pin['value']:.5g} ± {pin['tolerance']:.3g}")
    assert not moved, (
        "baseline indicators moved (explain the change, then run "
        "python benchmarks/refresh_baseline_pins.py): " + "; ".join(moved))
