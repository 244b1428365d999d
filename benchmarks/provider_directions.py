"""Measure the directions the provider rules predict (docs/providers.md), in paired runs.

    python benchmarks/provider_directions.py [--population 20000] [--days 365] [--seeds 1 2 3 4 5]

Each line: a policy against fee-for-service without a budget (same county, same seeds), the
measure, and the mean paired difference with its 95 % interval across seeds.
"""

from __future__ import annotations

import argparse

import flowsim
from flowsim.intervals import mean_interval

BUDGET = {"community.global_budget.value": True}
CASES = {
    "DRG at every hospital tier": (
        {"payment.inpatient_method.value": {"township": "drg", "county": "drg",
                                            "out_of_county": "drg"}}, "county_stay_days"),
    "bed-day rehabilitation": ({"payment.rehab_method.value": "bed_day"}, "township_stay_days"),
    "budget, out-of-county counted": (BUDGET, "transfers_out_per_1000"),
    "budget, out-of-county not counted": (
        {**BUDGET, "community.count_out_of_county.value": False}, "transfers_out_per_1000"),
    "grassroots outpatient capitation": (
        {"payment.outpatient_capitation.value": {"village": True, "township": True}},
        "referrals_up_per_1000"),
}


def measure(res, name: str) -> float:
    """An indicator, or bed-days per stay at a tier (``<tier>_stay_days``)."""
    if not name.endswith("_stay_days"):
        return res.indicator(name)
    tier = name.removesuffix("_stay_days")
    d = res.daily[res.daily.tier == tier]
    return (d[d.counter == "occupied_beds"].value.sum()
            / d[d.counter == "admissions"].value.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    n = args.population
    county = flowsim.load_scenario().with_overrides({
        "county.synthetic.population.value": n,
        "county.synthetic.villages.value": max(n // 500, 4),
        "county.synthetic.townships.value": max(n // 5000, 1)})
    reference = {s: flowsim.run(county, days=args.days, seed=s) for s in args.seeds}
    for label, (overrides, name) in CASES.items():
        diffs = [measure(flowsim.run(county.with_overrides(overrides), days=args.days, seed=s),
                         name) - measure(reference[s], name) for s in args.seeds]
        mean, lo, hi = mean_interval(diffs)
        base = sum(measure(r, name) for r in reference.values()) / len(reference)
        print(f"{label:36s} {name:24s} FFS {base:8.3f}  Δ {mean:+.3f} [{lo:+.3f}, {hi:+.3f}]",
              flush=True)


if __name__ == "__main__":
    main()
