"""Facility choice: which facilities a village chooses among, and the logit draw among them.

A village's choice set (`choice_set`) is one facility per alternative, of the tiers
`CHOICE_TIERS`: own clinic, own township centre, nearest other township centre, nearest county
hospital, nearest out-of-county hospital.

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

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from flowsim.domain import Tier

if TYPE_CHECKING:
    from flowsim.county import County

CHOICE_TIERS = np.array(
    [Tier.VILLAGE, Tier.TOWNSHIP, Tier.TOWNSHIP, Tier.COUNTY, Tier.OUT_OF_COUNTY], dtype=np.int64
)
"""Tier of each column of `choice_set` (read-only int64 tier codes)."""
CHOICE_TIERS.setflags(write=False)


def choice_set(county: County) -> np.ndarray:
    """Facilities each village's residents choose among, as facility rows.

    Returns:
        int32 ``[n_villages, 5]``, columns in the order of `CHOICE_TIERS`: the village's own
        clinic, its own township health centre, the nearest *other* township centre by
        travel time, the nearest county hospital and the nearest out-of-county hospital;
        -1 where there is none (a village without a clinic, a county with one township,
        a county without out-of-county hospitals). Ties go to the lower facility row.

    """
    fac = county.facilities
    tier = fac["tier_code"].to_numpy()
    travel = county.travel_min
    choices = np.full((len(county.villages), len(CHOICE_TIERS)), -1, dtype=np.int32)

    clinics = np.flatnonzero(tier == Tier.VILLAGE)
    choices[fac["village"].to_numpy()[clinics], 0] = clinics

    centres = np.flatnonzero(tier == Tier.TOWNSHIP)
    centre_of = np.full(max(county.n_townships, 1), -1, dtype=np.int64)
    centre_of[fac["township"].to_numpy()[centres]] = centres
    own = centre_of[county.villages["township"].to_numpy()]
    choices[:, 1] = own
    if len(centres) > 1:
        minutes = travel[:, centres].astype(np.float64)
        minutes[centres[None, :] == own[:, None]] = np.inf
        choices[:, 2] = centres[np.argmin(minutes, axis=1)]

    for col, code in ((3, Tier.COUNTY), (4, Tier.OUT_OF_COUNTY)):
        rows = np.flatnonzero(tier == code)
        if len(rows):
            choices[:, col] = rows[np.argmin(travel[:, rows], axis=1)]
    return choices


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
