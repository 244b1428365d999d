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
    "severity.chronic",
    "transfer.send_out",
)
"""Every random use in the model; each gets its own stream per day.

See docs/design.md, "Random streams and common random numbers".

A stream is never shared by two uses on the same day, so draws are independent across uses.
"""


DAYS_PER_BLOCK = 512
"""Days whose stream seeds are derived together (one ``SeedSequence`` per process and block)."""


class Streams:
    """Per-process, per-day random generators derived from one seed.

    The 256-bit PCG64 state of (process, day) is four words of
    ``SeedSequence(seed, spawn_key=(process, day // DAYS_PER_BLOCK))``'s output, at row
    ``day % DAYS_PER_BLOCK``: hashing once per block costs ~20 µs, where a ``SeedSequence`` per
    stream and day would cost that every day for each process.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._words: dict[tuple[int, int], np.ndarray] = {}
        self._generators: dict[int, np.random.Generator] = {}

    def on(self, process: str, day: int = 0) -> np.random.Generator:
        """Generator for ``process`` on simulated day ``day`` (0 = first day; build uses 0).

        One generator object per process, re-seeded at each call: use it before asking for the
        same process again.
        """
        key = PROCESSES.index(process)
        block, row = divmod(int(day), DAYS_PER_BLOCK)
        words = self._words.get((key, block))
        if words is None:
            words = np.random.SeedSequence(self.seed, spawn_key=(key, block)).generate_state(
                4 * DAYS_PER_BLOCK, np.uint64).reshape(DAYS_PER_BLOCK, 4).tolist()
            self._words[key, block] = words
        state, increment = words[row][0] << 64 | words[row][1], words[row][2] << 64 | words[row][3]
        generator = self._generators.get(key)
        if generator is None:
            generator = self._generators[key] = np.random.Generator(np.random.PCG64(0))
        generator.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": state, "inc": increment | 1},
            "has_uint32": 0, "uinteger": 0}
        return generator
