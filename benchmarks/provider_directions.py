"""Measure the directions the provider rules predict (docs/providers.md), in paired runs.

    python benchmarks/provider_directions.py [--population 20000] [--days 365] [--seeds 1 2 3 4 5]

Each line: a policy against fee-for-service without a budget (same county, same seeds), the
measure, and the mean paired difference with its 95 % interval across seeds. Then the budget's
timing: a lead hospital over its budget by mid-year against one with room (second half of the
year), one that retained a surplus in 2023 against one that overran (2024, the same standard),
and the quality gain per resident bought by the same policy in a county five times as large.
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np

import flowsim
from flowsim.config import whole_years
from flowsim.domain import Route, Tier
from flowsim.intervals import mean_interval
from flowsim.model import CountyModel

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


def lead(model: CountyModel, start: date, end: date, field: str) -> float:
    """Mean of the lead hospital's monthly ``field`` decided in [start, end)."""
    return float(np.mean([r[field] for r in model.providers.log if start <= r["date"] < end]))


def county_stay_days(model: CountyModel, first: int, last: int) -> float:
    """County bed-days per new admission on days [first, last)."""
    days = model.day_counts[first:last]
    return (sum(int(d.occupied_beds[Tier.COUNTY]) for d in days)
            / sum(int(d.stays_by_route[Route.NEW, Tier.COUNTY]) for d in days))


def timing(county, seeds: list[int]) -> None:
    """The budget position's effect on the lead's decisions, in paired runs."""
    budget = {"community.global_budget.value": True}

    def run(standard: dict, days: int, seed: int) -> CountyModel:
        m = CountyModel(county.with_overrides(
            {**budget, "community.per_capita_standard.value": standard}), seed=seed)
        m.run_for(days)
        return m

    h2 = (date(2023, 7, 1), date(2024, 1, 1))
    rows = {"clawback": [], "stay_factor": [], "avoid_share": [], "county_stay_days": []}
    for s in seeds:
        tight = run({"resident": 800, "employee": 1160}, 365, s)
        room = run({"resident": 1300, "employee": 1900}, 365, s)
        for field in ("clawback", "stay_factor", "avoid_share"):
            rows[field].append(lead(tight, *h2, field) - lead(room, *h2, field))
        rows["county_stay_days"].append(county_stay_days(tight, 181, 365)
                                        - county_stay_days(room, 181, 365))
    for field, diffs in rows.items():
        mean, lo, hi = mean_interval(diffs)
        print(f"{'over budget by mid-year vs room, H2':36s} {field:24s}"
              f"               Δ {mean:+.3f} [{lo:+.3f}, {hi:+.3f}]", flush=True)
    year2 = (date(2024, 1, 1), date(2025, 1, 1))
    rows = {"clawback": [], "stay_factor": [], "county_stay_days": []}
    for s in seeds:
        arms = []
        for first in (1300, 900):
            arms.append(run({"resident": {"2023-01-01": first, "2024-01-01": 1050},
                             "employee": {"2023-01-01": first * 1.45, "2024-01-01": 1520}},
                            whole_years(date(2023, 1, 1), 2), s))
        surplus, overrun = arms
        for field in ("clawback", "stay_factor"):
            rows[field].append(lead(surplus, *year2, field) - lead(overrun, *year2, field))
        rows["county_stay_days"].append(county_stay_days(surplus, 365, 731)
                                        - county_stay_days(overrun, 365, 731))
    for field, diffs in rows.items():
        mean, lo, hi = mean_interval(diffs)
        print(f"{'2023 surplus vs overrun, in 2024':36s} {field:24s}"
              f"               Δ {mean:+.3f} [{lo:+.3f}, {hi:+.3f}]", flush=True)


def per_resident(seeds: list[int]) -> None:
    """Quality gain of the same policy at 20,000 and 100,000 residents."""
    base = flowsim.load_scenario()
    gains = {}
    for n, villages, townships in ((20000, 12, 1), (100000, 60, 4)):
        county = base.with_overrides({
            "community.global_budget.value": True, "county.synthetic.population.value": n,
            "county.synthetic.villages.value": villages,
            "county.synthetic.townships.value": townships})
        gains[n] = [flowsim.run(county, days=365, seed=s).settlements.quality_gain[0]
                    for s in seeds]
    for n, values in gains.items():
        mean, lo, hi = mean_interval(values)
        print(f"{'quality gain, ' + format(n, ',') + ' residents':36s} {'points':24s}"
              f"               {mean:.4f} [{lo:.4f}, {hi:.4f}]", flush=True)


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
    timing(county, args.seeds)
    per_resident(args.seeds)


if __name__ == "__main__":
    main()
