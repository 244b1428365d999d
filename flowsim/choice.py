"""Facility choice: multinomial logit by Gumbel-max, with capacity limits.

Choosing ``argmax(V + ε)`` with ε ~ Gumbel(0, 1) i.i.d. draws each alternative with probability
``exp(V_j) / Σ_k exp(V_k)`` (McFadden's multinomial logit). Patients are served in order; one
who finds the chosen facility full drops that alternative and chooses again among the rest,
keeping their draws (so a reform changes choices, not the noise: common random numbers).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def allocate(
    utility: np.ndarray,
    gumbel: np.ndarray,
    facility: np.ndarray,
    capacity_left: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick an alternative per patient, first come (lowest index) first served.

    Each patient in turn takes the alternative of highest ``utility + gumbel`` (the first one
    on ties) whose facility has a place left; every full facility tried on the way counts
    one patient turned away.

    Args:
        utility: [k, n] systematic utility; -inf marks an unavailable alternative.
        gumbel: [k, n] standard Gumbel draws.
        facility: [k, n] facility row of each alternative; -1 for an unlimited option
            (e.g. no care).
        capacity_left: [n_facilities] places left today (not modified).

    Returns:
        (pick, turned_away): pick[n] alternative chosen, -1 if nothing was available;
        turned_away[n_facilities] patients turned away by each facility.
    """
    k, n = utility.shape
    left = capacity_left.copy()
    turned_away = np.zeros(len(capacity_left), np.int64)
    pick = np.full(n, -1, np.int64)
    for i in range(n):
        tried = 0  # bit j set: alternative j was full
        while True:
            best, best_u = -1, -np.inf
            for j in range(k):
                if not tried & (1 << j):
                    u = utility[j, i] + gumbel[j, i]
                    if u > best_u:
                        best, best_u = j, u
            if best < 0:
                break
            f = facility[best, i]
            if f < 0:
                pick[i] = best
                break
            if left[f] > 0:
                left[f] -= 1
                pick[i] = best
                break
            turned_away[f] += 1
            tried |= 1 << best
    return pick, turned_away
