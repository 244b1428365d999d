"""The Python API: load a scenario, run it with a seed, get results as DataFrames.

import flowsim
res = flowsim.run("configs/baseline.yaml", days=365, seed=1)
res.indicators          # one row per indicator
res.daily               # tidy daily counters
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flowsim.config import Scenario, load_scenario, whole_years
from flowsim.model import CountyModel, RunRecord
from flowsim.results import Results


def run(
    scenario: Scenario | str | Path | None = None,
    *,
    days: int | None = None,
    years: int | None = None,
    seed: int = 0,
    on_day: Callable[[int], None] | None = None,
) -> Results:
    """Build the county of ``scenario`` (path, Scenario, or None for the default) and run it.

    Args:
        scenario: the scenario to run; None runs the built-in default county.
        days: simulated days (default: the scenario's ``days``).
        years: whole insurance years from the start date instead of ``days`` (leap years
            included; every year that ends inside the run is settled).
        seed: random seed; the same seed and scenario give identical results.
        on_day: called with the number of days done after each simulated day (progress bars).
    """
    return Results.from_record(simulate(scenario, days=days, years=years, seed=seed,
                                        on_day=on_day))


def simulate(
    scenario: Scenario | str | Path | None = None,
    *,
    days: int | None = None,
    years: int | None = None,
    seed: int = 0,
    on_day: Callable[[int], None] | None = None,
) -> RunRecord:
    """``run`` without the tables: the model's ``RunRecord`` (for many runs of a fit).

    ``results.whole_run_window(record)`` gives its indicators' window without the daily table.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if years is not None:
        if days is not None:
            raise ValueError("give days or years, not both")
        if years < 1:
            raise ValueError(f"years must be at least 1, got {years}")
        days = whole_years(scenario.start_date, years)
    days = scenario.days if days is None else days
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    model = CountyModel(scenario, seed=seed)
    for done in range(1, days + 1):
        model.run_for(1)
        if on_day is not None:
            on_day(done)
    return model.record()
