"""Common random numbers: one independent stream per process and simulated day.

``Streams(seed).on(process, day)`` returns a fresh ``numpy.random.Generator`` whose state depends
only on (seed, process, day). A baseline and a reform run with the same seed therefore draw the
same illnesses, severities and bill noise on every day, however differently patients choose.
"""

from __future__ import annotations

import numpy as np

PROCESSES = (
    "county",
    "population",
    "followup_phase",
    "illness.minor",
    "illness.serious",
    "severity.minor",
    "severity.serious",
    "episode.serious",
    "choice.outpatient",
    "choice.chronic",
    "choice.inpatient",
    "length_of_stay.transfer",
    "length_of_stay.rehab",
    "referral.transfer",
    "bill",
)
"""Every random use in the model; each gets its own stream per day (DESIGN.md "Randomness").

A stream is never shared by two uses on the same day, so draws are independent across uses.
"""


class Streams:
    """Per-process, per-day random generators spawned from one seed with ``SeedSequence``."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on(self, process: str, day: int = 0) -> np.random.Generator:
        """Generator for ``process`` on simulated day ``day`` (0 = first day; build uses 0)."""
        key = (PROCESSES.index(process), int(day))
        seed_sequence = np.random.SeedSequence(self.seed, spawn_key=key)
        return np.random.Generator(np.random.PCG64(seed_sequence))
