"""Facility choice: multinomial logit by Gumbel-max, with capacity limits.

Choosing ``argmax(V + ε)`` with ε ~ Gumbel(0, 1) i.i.d. draws each alternative with probability
``exp(V_j) / Σ_k exp(V_k)`` (McFadden's multinomial logit). When a facility is full, the patients
beyond its capacity drop that alternative and choose again among the rest, keeping their draws
(so a reform changes choices, not the noise: common random numbers).
"""

from __future__ import annotations

import numpy as np


def allocate(
    utility: np.ndarray,
    gumbel: np.ndarray,
    facility: np.ndarray,
    capacity_left: np.ndarray,
    *,
    max_rounds: int = 6,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick an alternative per row, respecting facility capacity.

    Args:
        utility: [n, k] systematic utility; -inf marks an unavailable alternative.
        gumbel: [n, k] standard Gumbel draws.
        facility: [n, k] facility row of each alternative; -1 for an unlimited option
            (e.g. no care).
        capacity_left: [n_facilities] places left today.
        max_rounds: re-choice rounds for patients turned away from full facilities.

    Returns:
        (pick, turned_away): pick[n] column chosen, -1 if nothing was available;
        turned_away[n_facilities] patients turned away by each facility.
    """
    u = utility + gumbel
    rows = np.arange(len(u))
    turned_away = np.zeros(len(capacity_left), np.int64)
    for _ in range(max_rounds):
        pick = u.argmax(axis=1)
        ok = np.isfinite(u[rows, pick])
        fac = np.where(ok, facility[rows, pick], -1)
        over = _over_capacity(fac, capacity_left)
        if over.size == 0:
            return np.where(ok, pick, -1), turned_away
        turned_away += np.bincount(fac[over], minlength=len(capacity_left))
        u[over, pick[over]] = -np.inf
    pick = np.where(ok, pick, -1)
    pick[over] = -1  # rounds exhausted: still turned away, no care today
    return pick, turned_away


def _over_capacity(fac: np.ndarray, capacity_left: np.ndarray) -> np.ndarray:
    """Rows beyond each facility's capacity, first come (lowest row) first served."""
    counts = np.bincount(fac[fac >= 0], minlength=len(capacity_left))
    full = counts > capacity_left
    if not full.any():
        return np.zeros(0, np.int64)
    competing = np.flatnonzero((fac >= 0) & full[np.maximum(fac, 0)])
    f = fac[competing]
    order = np.argsort(f, kind="stable")
    fs = f[order]
    rank = np.arange(len(fs)) - np.searchsorted(fs, fs, side="left")
    return competing[order[rank >= capacity_left[fs]]]
