"""Student-t intervals of a mean over replications (experiments, calibration, reports)."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def group_intervals(frame: pd.DataFrame, keys: list[str], column: str = "value",
                    level: float = 0.95) -> pd.DataFrame:
    """The keys, n, mean, ci_low and ci_high of ``column`` in each group of rows of ``frame``.

    Groups are ordered by their first key, then the next, each key's values in the order they
    first appear (variants as in the experiment file, each with its counties). Each group's
    numbers are those of ``mean_interval`` over its values, to the last bit: groups of one size
    are stacked into a [group, value] array and reduced along its rows.
    """
    codes = np.stack([pd.factorize(frame[k], use_na_sentinel=False)[0] for k in keys])
    order = np.lexsort(codes[::-1])  # stable: a group's values keep their order
    codes = codes[:, order]
    starts = np.flatnonzero(np.r_[True, (codes[:, 1:] != codes[:, :-1]).any(axis=0)])
    sizes = np.diff(np.r_[starts, len(order)])
    values = frame[column].to_numpy(float)[order]
    mean = np.empty(len(sizes))
    sd = np.zeros(len(sizes))
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        block = values[starts[which, None] + np.arange(size)]
        mean[which] = block.mean(axis=1)
        if size > 1:
            sd[which] = block.std(axis=1, ddof=1)
    half = half_width(sd, sizes, level)
    out = frame[keys].iloc[order[starts]].reset_index(drop=True)
    return out.assign(n=sizes, mean=mean, ci_low=mean - half, ci_high=mean + half)
