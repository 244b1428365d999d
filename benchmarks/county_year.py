"""Speed and memory of one county-year on the default 500,000-resident county.

Prints build time, simulation time, whole-process time and peak memory, against the targets:
simulation ≤ 2 s, whole process ≤ 10 s, ≤ 400 bytes per resident.

Memory per resident = (peak RSS − RSS after importing flowsim and its libraries) / residents:
the interpreter, numpy, pandas and Mesa take ~140 MB before any county exists, whatever its size.
Whole process = start to the first run's results (imports, loading compiled kernels, build,
simulation, results tables). Simulation time is the median of ``--repeat`` fresh models (seeds
seed, seed + 1, …); the best run is printed too, since the shared machine's speed varies.

    python benchmarks/county_year.py [--days 365] [--seed 1] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time

PROCESS_START = time.perf_counter()


def rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="simulate this many fresh models and report the median",
    )
    args = parser.parse_args()

    import flowsim  # (imports counted in the whole-process time)
    from flowsim.config import load_scenario
    from flowsim.model import CountyModel

    baseline_rss = current_rss_mb()
    scenario = load_scenario()
    builds, sims = [], []
    for i in range(args.repeat):
        t = time.perf_counter()
        model = CountyModel(scenario, seed=args.seed + i)
        builds.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.run_for(args.days)
        sims.append(time.perf_counter() - t)
        if i == 0:
            results = flowsim.Results.from_record(model.record())
            whole = time.perf_counter() - PROCESS_START
            residents = len(model.residents)
            peak = rss_mb()  # of one model; later repeats only time the simulation
            per_resident = (peak - baseline_rss) * 2**20 / residents
        del model
        gc.collect()  # the model holds reference cycles (agents ↔ model): free it now
    build, sim = statistics.median(builds), statistics.median(sims)
    rows = [
        ("residents", f"{residents:,}", ""),
        ("days simulated", f"{args.days}", ""),
        ("build time", f"{build:.2f} s", ""),
        ("simulation time", f"{sim:.2f} s", f"target ≤ 2 s ({'met' if sim <= 2 else 'MISSED'})"),
        (
            "whole process",
            f"{whole:.2f} s",
            f"target ≤ 10 s ({'met' if whole <= 10 else 'MISSED'})",
        ),
        ("peak RSS", f"{peak:.0f} MB", f"of which {baseline_rss:.0f} MB after imports"),
        (
            "memory per resident",
            f"{per_resident:.0f} B",
            f"target ≤ 400 B ({'met' if per_resident <= 400 else 'MISSED'})",
        ),
        ("grassroots visit share", f"{results.indicator('grassroots_visit_share'):.3f}", "sanity"),
    ]
    for name, value, note in rows:
        print(f"{name:24s} {value:>12s}  {note}")
    if args.repeat > 1:
        print(f"simulation times (best {min(sims):.2f} s):", ", ".join(f"{s:.2f}" for s in sims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
