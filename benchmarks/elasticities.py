"""The model's implied own-price elasticities, beside the rural elasticities of TARGETS.md.

TARGETS.md Behaviour (Health Policy 2011;103:255): rural own-price elasticities −0.52 for the
first outpatient visit and −0.37 for the first admission.

Method: raise the bills of a service by ``--change`` (10 % by default) under common random
numbers (same seeds, same illnesses), so that patients' out-of-pocket prices rise through the
real cost-sharing rules, and measure

    arc elasticity = (ΔQ / mean Q) / (ΔP / mean P)

where Q is the volume (ordinary outpatient visits, or admissions) and P the mean out-of-pocket
per unit of that volume, each from the runs themselves. Market elasticities raise the bills at
every tier; own-price elasticities raise one tier's bills and measure that tier's volume
(patients may switch tiers). Each seed gives one elasticity; the script prints their mean and a
95 % Student-t interval.

    python benchmarks/elasticities.py [--scenario configs/baseline.yaml] [--population 100000]
                                      [--seeds 1 2 3] [--days 365] [--change 0.10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import flowsim
from flowsim import indicators
from flowsim.config import load_scenario
from flowsim.domain import TIERS, Payer, Service, Tier
from flowsim.intervals import mean_interval

ROOT = Path(__file__).resolve().parents[1]
PATIENT = Payer.PATIENT
OUT, INP = Service.OUTPATIENT, Service.INPATIENT

# name: (bill parameter, tiers whose bills rise, volume and out-of-pocket of the measured cell,
#        TARGETS.md value or None, what it compares with)
CASES = {
    "outpatient visits, all tiers": (
        "outpatient_bill", TIERS,
        lambda w: (w.visits[OUT].sum(), w.money[PATIENT, OUT].sum()),
        -0.52, "rural first outpatient visit −0.52 (market: no care is the outside option)"),
    "admissions, all tiers": (
        "admission_bill", TIERS,
        lambda w: (w.admissions.sum(), w.money[PATIENT, INP].sum()),
        -0.37, "rural first admission −0.37 (market)"),
    "county-hospital outpatient visits (own price)": (
        "outpatient_bill", ("county",),
        lambda w: (w.visits[OUT, Tier.COUNTY].sum(), w.money[PATIENT, OUT, Tier.COUNTY].sum()),
        None, "no TARGETS.md figure"),
    "county-hospital admissions (own price)": (
        "admission_bill", ("county",),
        lambda w: (w.admissions[Tier.COUNTY].sum(), w.money[PATIENT, INP, Tier.COUNTY].sum()),
        -0.37, "the −0.37 the inpatient cost weight was derived from (county own price)"),
}


def arc(q0: float, q1: float, p0: float, p1: float) -> float:
    """Arc (midpoint) elasticity of Q with respect to P."""
    return ((q1 - q0) / ((q1 + q0) / 2)) / ((p1 - p0) / ((p1 + p0) / 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "configs" / "baseline.yaml"))
    parser.add_argument("--population", type=int, default=100_000,
                        help="residents (default county geography, fewer people; 0 = as is)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--change", type=float, default=0.10, help="relative rise of the bills")
    args = parser.parse_args()

    started = time.perf_counter()
    base = load_scenario(args.scenario)
    if args.population:
        base = base.with_overrides({"county.synthetic.population.value": args.population})
    cost = base.choice.cost_per_100_yuan.value
    seek = base.choice.care_seeking_cost_per_100_yuan.value
    print(f"scenario {args.scenario}, {args.population or 'all'} residents, seeds {args.seeds}, "
          f"{args.days} days; bills +{100 * args.change:g} % under common random numbers")
    print(f"cost weights (utils per 100 yuan): which facility: outpatient {cost.outpatient}, "
          f"inpatient {cost.inpatient}; whether to seek care: outpatient {seek.outpatient}, "
          f"inpatient {seek.inpatient}")

    windows = {}
    for seed in args.seeds:
        windows["base", seed] = flowsim.run(base, days=args.days, seed=seed).window()
    no_care = statistics.mean(
        indicators.INDICATORS["no_care_share"].compute(w)
        for (k, _), w in windows.items() if k == "base")
    rows = []
    for name, (bill, tiers, measure, target, note) in CASES.items():
        old = getattr(base.facilities, bill).value
        reform = base.with_overrides({
            f"facilities.{bill}.value.{t}": getattr(old, t) * (1 + args.change) for t in tiers})
        per_seed, dq, dp = [], [], []
        for seed in args.seeds:
            q0, oop0 = measure(windows["base", seed])
            q1, oop1 = measure(flowsim.run(reform, days=args.days, seed=seed).window())
            p0, p1 = oop0 / q0, oop1 / q1
            per_seed.append(arc(q0, q1, p0, p1))
            dq.append(q1 / q0 - 1)
            dp.append(p1 / p0 - 1)
        mean, low, _ = mean_interval(per_seed)
        half = mean - low
        rows.append((name, 100 * np.mean(dp), 100 * np.mean(dq), mean, half, target, note, p0))

    print()
    header = (f"{'elasticity':46} {'ΔP %':>7} {'ΔQ %':>8} {'model':>8} {'95 % interval':>19}"
              f" {'TARGETS':>8}  mean OOP  compares with")
    print(header)
    print("-" * len(header))
    for name, dp, dq, mean, half, target, note, p0 in rows:
        shown = f"{target:+.2f}" if target is not None else "—"
        interval = f"[{mean - half:+.3f}, {mean + half:+.3f}]"
        print(f"{name:46} {dp:+7.2f} {dq:+8.3f} {mean:+8.3f} {interval:>19}"
              f" {shown:>8}  {p0:7.0f}  {note}")
    print()
    print(f"minor episodes without care (the outside option): {100 * no_care:.1f} %")
    for row, service in ((rows[0], "outpatient"), (rows[1], "inpatient")):
        beta, gamma = getattr(cost, service), getattr(seek, service)
        if row[3] < 0:  # the response scales about linearly with beta + gamma
            fit = (beta + gamma) * row[5] / row[3] - beta
            print(f"{service} care-seeking weight that would give {row[5]:+.2f}, scaling the "
                  f"measured response linearly: ≈{fit:.3g} utils per 100 yuan (now {gamma})")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
