"""Checks made before a run starts: its county can be read, and it fits in memory.

A scenario that validates can still be impossible to run: its CSV county may be unreadable or
empty, or it may ask for more residents than the machine can hold (numpy would then fail in the
middle of building them, or the system would end the process). ``check_run`` finds both before
any work, as one ``InputError`` line; ``check_workers`` does the same for an experiment's
worker processes, each of which holds a county.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowsim.config import Scenario
from flowsim.csv_county import load_county_csv
from flowsim.errors import InputError

BYTES_PER_RESIDENT = 128
"""Peak memory per resident of one run, bytes. Measured with ``ru_maxrss`` after 5 days of the
default county at 1, 2, 4 and 8 million residents: 100–118 bytes per resident between successive
sizes, rounded up. Measure again when the residents' arrays change."""
BYTES_PER_PROCESS = 500 * 2**20
"""Memory of a process before its first resident: Python, numpy, numba, pandas, Mesa and the
compiled kernels (measured 420 MiB, rounded up)."""


def check_run(scenario: Scenario) -> int:
    """Check that ``scenario``'s county can be built and a run of it fits in memory.

    Returns:
        The county's population.

    Raises:
        InputError: a CSV file is missing or bad, the county has no residents, or a run needs
            more memory than the machine has.
    """
    c = scenario.county
    if c.synthetic is not None:
        where = "county.synthetic.population.value"
        population, source = c.synthetic.population.value, scenario.file_of(where)
    else:
        base = scenario.file.parent if scenario.file else Path.cwd()
        county = load_county_csv(c.name, c.csv, base)
        population, where = county.population, "population (sum)"
        source = base / c.csv.villages.value
    need, have = run_bytes(population), memory_bytes()
    if need > have:
        raise InputError(source, where, population,
                         f"a county that fits in memory: {population:,} residents need about "
                         f"{need / 2**30:,.1f} GiB, this machine has {have / 2**30:,.1f} GiB")
    return population


def check_workers(processes: int, population: int, asked: object) -> None:
    """Check that ``processes`` runs at once, each of a county of ``population``, fit in memory.

    need = processes × (``BYTES_PER_PROCESS`` + population × ``BYTES_PER_RESIDENT``).

    Raises:
        InputError: naming ``--workers`` (``asked``: as the user gave it) and how many fit.
    """
    need, have = processes * run_bytes(population), memory_bytes()
    if processes > 1 and need > have:
        fits = max(1, have // run_bytes(population))
        raise InputError(None, "--workers", asked,
                         f"at most {fits} for this machine: {processes} runs of {population:,} "
                         f"residents at once need about {need / 2**30:,.1f} GiB, it has "
                         f"{have / 2**30:,.1f} GiB")


def run_bytes(population: int) -> int:
    """Peak memory of one process running a county of ``population`` residents, bytes."""
    return BYTES_PER_PROCESS + population * BYTES_PER_RESIDENT


def memory_bytes() -> int:
    """Memory this process may use: physical memory, or a smaller cgroup limit (containers)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: do not refuse on a guess
        return 2**62
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total
