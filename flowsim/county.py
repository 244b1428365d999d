"""The county as plain data: villages, facilities of the four tiers, travel times.

The model turns the facility rows into Mesa agents. Two builders make a `County`:
`flowsim.synthetic_county` generates a made-up one, `flowsim.csv_county` reads a real one from
two CSV files.

Travel-time convention: ``travel_min[i, k]`` is the one-way travel time in minutes from village
row ``i`` to facility row ``k``. No fixed access time is added, so the clinic standing in a
village is 0 minutes away from it in a synthetic county.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowsim.domain import TIERS, Tier

__all__ = ["County", "facility_table"]

FACILITY_TYPES = {
    "facility_id": str,
    "name": str,
    "tier": str,
    "tier_code": np.int8,
    "township": np.int64,
    "village": np.int64,
    "x_km": np.float64,
    "y_km": np.float64,
    "outpatient_slots_per_day": np.int64,
    "beds": np.int64,
}
"""Columns of `County.facilities`, in order, with their dtypes."""


@dataclass(frozen=True, eq=False)
class County:
    """One county: villages, facilities and travel times.

    Attributes:
        name: the county's name.
        villages: one row per village, index 0..n-1; columns ``village_id`` (str), ``name``
            (str), ``township`` (int, township number 0..n_townships-1), ``population``
            (int64), ``x_km``, ``y_km`` (float).
        facilities: one row per facility, index 0..m-1, ordered by tier code then
            ``facility_id``; columns `FACILITY_TYPES`: ``facility_id``, ``name``, ``tier``
            (one of `flowsim.domain.TIERS`), ``tier_code`` (int8), ``township`` (township
            number for village clinics and township centres, -1 otherwise), ``village``
            (village row for village clinics, -1 otherwise), ``x_km``, ``y_km``,
            ``outpatient_slots_per_day`` and ``beds`` (int64; `flowsim.domain.UNLIMITED` for
            out-of-county hospitals).
        travel_min: float32 ``[n_villages, n_facilities]``, minutes from each village to each
            facility (read-only).

    """

    name: str
    villages: pd.DataFrame
    facilities: pd.DataFrame
    travel_min: np.ndarray

    def __post_init__(self) -> None:
        travel = np.array(self.travel_min, dtype=np.float32)
        expected = (len(self.villages), len(self.facilities))
        if travel.shape != expected:
            raise ValueError(f"travel_min has shape {travel.shape}, expected {expected}")
        travel.setflags(write=False)
        object.__setattr__(self, "travel_min", travel)

    @property
    def population(self) -> int:
        """Number of residents: the sum of the village populations."""
        return int(self.villages["population"].sum())

    @property
    def n_townships(self) -> int:
        """Number of townships (each has one township health centre)."""
        return int((self.facilities["tier_code"] == Tier.TOWNSHIP).sum())


def facility_table(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``tier_code`` derived from ``tier`` and the columns of `FACILITY_TYPES`.

    Args:
        df: facility rows with every column of `FACILITY_TYPES` but ``tier_code`` (extra
            columns are dropped).

    Returns:
        A new frame: the columns of `FACILITY_TYPES` in order, with their dtypes.

    """
    df = df.copy()
    df["tier_code"] = df["tier"].map({t: i for i, t in enumerate(TIERS)}).astype(np.int8)
    return df[list(FACILITY_TYPES)].astype(FACILITY_TYPES)
