"""Student-t intervals of a mean over replications (experiments, calibration, reports)."""

from __future__ import annotations

import numpy as np
from scipy import stats


def half_width(sd, n, level: float = 0.95):
    """Half-width of the interval of a mean: t_{(1 + level)/2, n − 1} × sd / √n; nan if n < 2.

    ``sd`` is the sample standard deviation (ddof = 1); scalars or arrays (broadcast).
    """
    n = np.asarray(n, float)
    half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * np.asarray(sd, float) / np.sqrt(n)
    return np.where(n > 1, half, np.nan)


def mean_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the interval of the mean of ``values``."""
    v = np.asarray(values, float)
    mean = float(v.mean())
    half = float(half_width(v.std(ddof=1) if len(v) > 1 else 0.0, len(v), level))
    return mean, mean - half, mean + half
