"""Price elasticities of the model: own- and cross-price by tier, and of seeking care at all.

    python benchmarks/elasticities.py [--scenario configs/baseline.yaml] [--population 100000]
                                      [--seeds 1 2 3] [--days 365] [--change 0.10]
                                      [--ample-capacity]

For each service (minor episodes' outpatient visits, serious episodes' admissions) the bills of
one tier at a time are raised by ``--change`` (then of every tier at once), in paired runs with
the same seeds (common random numbers). Printed:

- the matrix of arc elasticities of patients choosing tier i (their own choices, before any
  referral or transfer: ``counters`` ``choices``) with respect to the bill of tier j, mean and
  95 % interval across seeds; own-price on the diagonal (should be < 0), cross-price off it
  (should be ≥ 0: tiers are substitutes);
- the participation elasticity: care-seeking episodes with respect to the mean out-of-pocket
  per visit or admission under the uniform rise (TARGETS: rural −0.52 first outpatient visit,
  −0.37 first admission; Health Policy 2011;103:255).

``--ample-capacity`` gives every facility far more places and beds than it uses, so that the
matrix shows demand alone: with full facilities, patients turned away go elsewhere, and a
dearer tier that frees places lowers that overflow (rationing, not preference).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from flowsim import elasticities
from flowsim.api import simulate
from flowsim.config import load_scenario
from flowsim.domain import TIERS
from flowsim.intervals import mean_interval
from flowsim.results import whole_run_window

ROOT = Path(__file__).resolve().parents[1]
TARGET = {"outpatient": -0.52, "inpatient": -0.37}
AMPLE = {
    "facilities.capacity_per_1000.beds.value": {"township": 20.0, "county": 40.0},
    "facilities.capacity_per_1000.outpatient_slots_per_day.value":
        {"village": 100.0, "township": 100.0, "county": 100.0},
}
"""Capacity far above use (per 1,000 residents): no patient is ever turned away."""


def measure(base, seeds, days, change):
    """{service: (matrix [seed, raised tier, tier], participation [seed])}."""
    windows = {seed: whole_run_window(simulate(base, days=days, seed=seed)) for seed in seeds}
    out = {}
    for service in elasticities.SERVICES:
        tiers = TIERS[1:] if service == "inpatient" else TIERS  # village clinics have no beds
        matrix = np.full((len(seeds), len(TIERS), len(TIERS)), np.nan)
        part = []
        for s, seed in enumerate(seeds):
            for tier in tiers:
                rise = elasticities.raised(base, service, (tier,), change)
                w = whole_run_window(simulate(rise, days=days, seed=seed))
                matrix[s, TIERS.index(tier)] = elasticities.by_tier(windows[seed], w, service,
                                                                    change)
            rise = elasticities.raised(base, service, TIERS, change)
            w = whole_run_window(simulate(rise, days=days, seed=seed))
            part.append(elasticities.participation(windows[seed], w, service))
        out[service] = (matrix, np.array(part))
    return out


def cell(values):
    """'mean [low, high]' across seeds."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return "—"
    mean, low, high = mean_interval(values)
    return f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "configs" / "baseline.yaml"))
    parser.add_argument("--population", type=int, default=100_000,
                        help="residents (default county geography, fewer people; 0 = as is)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--change", type=float, default=0.10, help="relative rise of the bills")
    parser.add_argument("--ample-capacity", action="store_true",
                        help="capacity far above use: the matrix shows demand alone")
    args = parser.parse_args()
    started = time.perf_counter()
    base = load_scenario(args.scenario)
    if args.population:
        base = base.with_overrides({"county.synthetic.population.value": args.population})
    if args.ample_capacity:
        base = base.with_overrides(AMPLE)
    print(f"{args.scenario}, {args.population or 'all'} residents, seeds {args.seeds}, "
          f"{args.days} days, one tier's bills +{100 * args.change:g} % at a time"
          + (", ample capacity" if args.ample_capacity else ""))
    for service, (matrix, part) in measure(base, args.seeds, args.days, args.change).items():
        what = "minor episodes' visits" if service == "outpatient" else "admissions"
        print(f"\n{service}: elasticity of patients choosing each tier ({what}; rows: the tier "
              "whose bill rises), mean [95 % interval across seeds]")
        print(f"{'bill raised at':16}" + "".join(f"{t:>24}" for t in TIERS))
        for i, tier in enumerate(TIERS):
            if np.isnan(matrix[:, i]).all():
                continue
            print(f"{tier:16}" + "".join(f"{cell(matrix[:, i, j]):>24}" for j in range(len(TIERS))))
        print(f"participation (every tier +{100 * args.change:g} %, w.r.t. mean out-of-pocket): "
              f"{cell(part)}   target {TARGET[service]:+.2f}")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
