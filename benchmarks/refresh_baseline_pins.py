"""Rewrite tests/baseline_pins.json: the baseline's headline indicators and their tolerances.

Runs the baseline on the calibration county of ``configs/targets/national.yaml`` (its
``runs``: 100,000 residents with the default county's geography, seeds 1–3, 365 days), exactly
as ``tests/test_baseline.py`` does, and pins the mean of every headline indicator
(``flowsim.indicators.HEADLINE``) and every target indicator.

Tolerance of a pin = max(4 × sd × √(2 / n), floor): sd is the seed-to-seed standard deviation
(estimated from the pinned seeds plus ``--extra-seeds`` more), √(2 / n) turns it into the
standard deviation of the difference between two means of n seeds (what a change of the random
draws alone would produce), and 4 of those make a false alarm very unlikely. Floors: 0.3 points
for fractions, 1 % of the value otherwise. A change that moves an indicator by more is a change
of behaviour: explain it, then run this script and commit the new pins with the change.

    python benchmarks/refresh_baseline_pins.py [--extra-seeds 8]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import date
from pathlib import Path

import numpy as np

from flowsim.calibrate import fitting_scenario, load_targets, replicate
from flowsim.config import load_scenario
from flowsim.indicators import HEADLINE, INDICATORS

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "baseline_pins.json"
TARGETS = ROOT / "configs" / "targets" / "national.yaml"
SIGMAS = 4.0
FRACTION_FLOOR = 0.003
RELATIVE_FLOOR = 0.01


def pinned_names(spec) -> list[str]:
    """Headline indicators, then the targets' indicators not among them (no elasticities)."""
    return [n for n in dict.fromkeys([*HEADLINE, *spec.targets]) if n in INDICATORS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-seeds", type=int, default=8,
                        help="further seeds used only to estimate the seed-to-seed spread")
    args = parser.parse_args()
    started = time.perf_counter()
    spec = load_targets(TARGETS)
    scenario = fitting_scenario(spec, load_scenario(ROOT / "configs" / "baseline.yaml"))
    names = pinned_names(spec)
    seeds = list(spec.runs.seeds)
    extra = [max(seeds) + 1 + i for i in range(args.extra_seeds)]
    table = replicate(scenario, dict.fromkeys(names), seeds=seeds + extra, days=spec.runs.days)
    pinned, spread = table[: len(seeds)], table
    old = json.loads(PINS.read_text(encoding="utf-8"))["indicators"] if PINS.exists() else {}
    pins = {}
    print(f"{'indicator':32} {'old':>12} {'new':>12} {'tolerance':>10}")
    for i, name in enumerate(names):
        value = float(np.mean(pinned[:, i]))
        if math.isnan(value):
            pins[name] = {"value": None, "tolerance": None}
        else:
            sd = float(np.std(spread[:, i], ddof=1))
            fraction = INDICATORS[name].unit.startswith("fraction")
            floor = FRACTION_FLOOR if fraction else RELATIVE_FLOOR * abs(value)
            tol = max(SIGMAS * sd * math.sqrt(2 / len(seeds)), floor)
            pins[name] = {"value": round(value, 6), "tolerance": float(f"{tol:.3g}"),
                          "seed_sd": float(f"{sd:.3g}")}
        was = old.get(name, {}).get("value")
        print(f"{name:32} {was if was is not None else 'n/a':>12} "
              f"{pins[name]['value'] if pins[name]['value'] is not None else 'n/a':>12} "
              f"{pins[name]['tolerance'] or '':>10}")
    doc = {
        "about": "baseline headline indicators on the calibration county; refresh with "
                 "python benchmarks/refresh_baseline_pins.py (see tests/test_baseline.py)",
        "refreshed": date.today().isoformat(),
        "scenario": "configs/baseline.yaml",
        "runs": {"overrides": spec.runs.overrides, "seeds": seeds, "days": spec.runs.days},
        "spread_seeds": seeds + extra,
        "indicators": pins,
    }
    PINS.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {PINS.relative_to(ROOT)} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
