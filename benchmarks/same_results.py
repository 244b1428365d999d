"""Check that a change leaves every result bit-identical: record, then compare.

    python benchmarks/same_results.py record REF_DIR     # before the change
    python benchmarks/same_results.py compare REF_DIR    # after it: exit 1 on any difference

Every shipped scenario (configs/*.yaml, configs/scenarios/*.yaml) is run for 60 days with seeds 1
and 2 (``--days``, ``--seeds`` and ``--population`` to change: e.g. 800 days of 30,000 residents
reach two year-end settlements; ``--set`` applies scenario overrides, e.g. every provider rule
off); the daily counters, the indicators, the facility totals and the settlements are compared
value by value (NaN equal to NaN), not file by file. Counters, indicators and columns a change
adds are not compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import flowsim

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("daily", "indicators", "facilities", "settlements", "dip_settlements",
          "capitation_settlements")


def scenarios() -> list[Path]:
    """Every shipped scenario file."""
    return sorted(ROOT.glob("configs/*.yaml")) + sorted(ROOT.glob("configs/scenarios/*.yaml"))


def runs(days: int, seeds: list[int], population: int | None, overrides: dict | None = None):
    """(name, table name, DataFrame) of every scenario × seed run."""
    for path in scenarios():
        scenario = flowsim.load_scenario(path)
        if population and scenario.county.synthetic is not None:
            scenario = scenario.with_overrides({"county.synthetic.population.value": population})
        if overrides:
            scenario = scenario.with_overrides(overrides)
        for seed in seeds:
            res = flowsim.run(scenario, days=days, seed=seed)
            for table in TABLES:
                frame = getattr(res, table)
                yield f"{path.stem}.{seed}.{table}", _comparable(table, frame)


def _comparable(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's values in a fixed column set and order (columns a change may add are kept)."""
    frame = frame.reset_index(drop=True).copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    if table == "daily":
        frame = frame.sort_values([c for c in frame.columns if c != "value"],
                                  kind="stable").reset_index(drop=True)
    if table == "indicators":
        frame = frame[["indicator", "value"]].sort_values("indicator").reset_index(drop=True)
    return frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("ref", type=Path)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--population", type=int, help="residents of synthetic counties")
    parser.add_argument("--set", nargs="+", default=[], metavar="PATH=VALUE",
                        help="scenario overrides, e.g. providers.transfer_rule.value=false")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    args.ref.mkdir(parents=True, exist_ok=True)
    differences = 0
    checked = 0
    for name, frame in runs(args.days, args.seeds, args.population, overrides):
        path = args.ref / f"{name}.pkl"
        if args.mode == "record":
            frame.to_pickle(path)
            continue
        old = pd.read_pickle(path)
        if table_of(name) == "daily":  # counters a change adds are not compared
            frame = frame[frame.counter.isin(old.counter.unique())].reset_index(drop=True)
        if "indicator" in old and "indicator" in frame:  # nor are indicators it adds
            frame = frame[frame.indicator.isin(old.indicator)].reset_index(drop=True)
        checked += 1
        problem = _difference(old, frame)
        if problem:
            differences += 1
            print(f"DIFFERENT {name}: {problem}")
    if args.mode == "compare":
        print(f"{checked} tables compared, {differences} different")
    return 1 if differences else 0


def table_of(name: str) -> str:
    """The table of a reference file name ``scenario.seed.table``."""
    return name.rsplit(".", 1)[1]


def _difference(old: pd.DataFrame, new: pd.DataFrame) -> str:
    """'' if ``new`` holds ``old``'s columns with identical values, else what differs."""
    missing = [c for c in old.columns if c not in new.columns]
    if missing:
        return f"columns missing: {missing}"
    if len(old) != len(new):
        return f"{len(old)} rows before, {len(new)} now"
    for col in old.columns:
        a, b = old[col].to_numpy(), new[col].to_numpy()
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            same = (a == b) | (pd.isna(a) & pd.isna(b))
        else:
            same = np.array([x == y or (pd.isna(x) and pd.isna(y))
                             for x, y in zip(a, b, strict=True)])
        if not np.all(same):
            i = int(np.flatnonzero(~same)[0])
            return (f"{col}: {int((~same).sum())} values differ, first at row {i}: "
                    f"{a[i]!r} → {b[i]!r}")
    return ""


if __name__ == "__main__":
    sys.exit(main())
