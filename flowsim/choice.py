"""Facility choice: multinomial logit by inverse CDF, with capacity limits.

Patient i picks alternative j with probability ``w_j / Σ_k w_k`` (McFadden's multinomial logit,
``w_j = exp(V_j − c)`` for any c; ``flowsim.encounters.utilities``): the first j whose
cumulative weight exceeds ``U × Σ_k w_k`` for one uniform U per patient. Patients are served in
order; one who finds the chosen facility full drops that alternative and chooses again among the
rest. Each choice leaves a residual uniform, ``(U × Σ − W_<j) / w_j``: U's position within the
chosen alternative's slice, again U(0, 1) and independent of the choice, which drives the next
choice (a re-choice after a full facility, or a later referral). A patient's choices are thus a
function of their own draw and utilities: a reform changes choices, not the noise (common random
numbers).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def allocate(
    weight: np.ndarray,
    uniform: np.ndarray,
    facility: np.ndarray,
    capacity_left: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick an alternative per patient, first come (lowest index) first served.

    Args:
        weight: [k, n] logit weights ≥ 0; 0 marks an unavailable
            alternative.
        uniform: [n] U(0, 1) draws, one per patient.
        facility: [k', n] facility row of each of the first k' ≤ k alternatives; -1, or an
            alternative beyond the first k' (e.g. no care), has no capacity limit.
        capacity_left: [n_facilities] places left today (not modified).

    Returns:
        (pick, residual, turned_away): pick[n] alternative chosen, -1 if nothing was
        available; residual[n] the residual uniform of the patient's last choice;
        turned_away[n_facilities] patients turned away by each facility (one per full
        facility tried).
    """
    k, n = weight.shape
    left = capacity_left.copy()
    turned_away = np.zeros(len(capacity_left), np.int64)
    pick = np.full(n, -1, np.int64)
    residual = uniform.copy()
    w = np.empty(k)
    for i in range(n):
        total = 0.0
        for j in range(k):
            w[j] = weight[j, i]
            total += w[j]
        u = uniform[i]
        while total > 0.0:
            target = u * total
            below = 0.0
            chosen = -1
            for j in range(k):
                if w[j] > 0.0:
                    chosen = j  # the last available one, should rounding leave target ≥ total
                    if target < below + w[j]:
                        break
                    below += w[j]
            u = min(max((target - below) / w[chosen], 0.0), 1.0)
            f = facility[chosen, i] if chosen < facility.shape[0] else -1
            if f < 0 or left[f] > 0:
                if f >= 0:
                    left[f] -= 1
                pick[i] = chosen
                residual[i] = u
                break
            turned_away[f] += 1
            total -= w[chosen]
            w[chosen] = 0.0
    return pick, residual, turned_away
