"""Province scale: 20 counties of 500,000 residents for a year on the local process pool.

Runs ``experiments/province.yaml`` (one scenario by default, so 20 county-years) into a fresh
temporary folder and prints wall time, time per county-year and peak memory (this process and
the largest worker), with the province's headline indicators.

    python benchmarks/province.py [--workers N] [--scenarios 1|2] [--days 365]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil  # installed with the dask extra (distributed needs it)

ROOT = Path(__file__).resolve().parents[1]


class MemoryWatch(threading.Thread):
    """Samples the resident memory of this process and all its descendants every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.total_mb = self.largest_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.wait(0.1):
            rss = []
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss.append(p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            self.total_mb = max(self.total_mb, sum(rss))
            self.largest_mb = max(self.largest_mb, max(rss[1:], default=0.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--scenarios", type=int, default=1, choices=(1, 2),
                        help="1: the baseline only (20 runs); 2: baseline and combined (40 runs)")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()

    import yaml

    from flowsim import experiments
    from flowsim.experiments import ExperimentSpec, execute, executor, plan

    path = ROOT / "experiments" / "province.yaml"
    doc = yaml.safe_load(path.read_text("utf-8"))
    doc["scenarios"] = doc["scenarios"][: args.scenarios]
    doc["days"] = args.days
    spec = ExperimentSpec.model_validate(doc)
    with tempfile.TemporaryDirectory() as out:
        the_plan = plan(spec, path, out=out)
        n = len(the_plan.runs)
        watch = MemoryWatch()
        watch.start()
        start = time.perf_counter()
        with executor(args.workers) as pool:
            res = execute(the_plan, pool)
        wall = time.perf_counter() - start
        watch.stop.set()
        size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()) / 2**20
    residents = sum(r.config.county.synthetic.population.value for r in the_plan.runs
                    if r.scenario == the_plan.runs[0].scenario)
    print(f"{n} runs of {args.days} days ({len(the_plan.counties)} counties × {args.scenarios} "
          f"scenario(s), {residents:,} residents per scenario) on {args.workers} worker(s)")
    print(f"  wall time            {wall:8.1f} s   ({wall / n:.2f} s per run, "
          f"{wall * args.workers / n:.2f} s of a worker per run)")
    print(f"  peak memory          {watch.total_mb:8.0f} MB in all processes, "
          f"{watch.largest_mb:.0f} MB in the largest worker")
    print(f"  output on disk       {size:8.1f} MB")
    s = res.summary[res.summary.county == experiments.PROVINCE].set_index(["variant", "indicator"])
    for name in ("grassroots_visit_share", "in_county_admission_rate", "fund_per_capita"):
        for variant in s.index.get_level_values(0).unique():
            print(f"  province {name:28s} {variant:10s} {s.loc[(variant, name), 'mean']:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
