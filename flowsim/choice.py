"""Facility choice: multinomial logit by Gumbel-max, with capacity limits.

Choosing ``argmax(V + ε)`` with ε ~ Gumbel(0, 1) i.i.d. draws each alternative with probability
``exp(V_j) / Σ_k exp(V_k)`` (McFadden's multinomial logit). When a facility is full, the patients
beyond its capacity drop that alternative and choose again among the rest, keeping their draws
(so a reform changes choices, not the noise: common random numbers).
"""

from __future__ import annotations

import numpy as np

UNLIMITED = np.iinfo(np.int64).max


def allocate(
    utility: np.ndarray,
    gumbel: np.ndarray,
    facility: np.ndarray,
    capacity_left: np.ndarray,
    *,
    max_rounds: int = 6,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick an alternative per patient, respecting facility capacity.

    Arrays are laid out [alternative, patient] (k × n), so that per-patient and
    per-alternative terms broadcast along long contiguous rows.

    Every patient first takes the best alternative. Each round, the patients beyond a full
    facility's capacity (``_over_capacity``) lose that alternative and only they choose again;
    one of them may displace a later patient at the new facility, who then chooses again in
    the next round (the outcome is the same as re-choosing everyone each round).

    Args:
        utility: [k, n] systematic utility; -inf marks an unavailable alternative.
        gumbel: [k, n] standard Gumbel draws.
        facility: [k, n] facility row of each alternative; -1 for an unlimited option
            (e.g. no care).
        capacity_left: [n_facilities] places left today.
        max_rounds: re-choice rounds for patients turned away from full facilities.

    Returns:
        (pick, turned_away): pick[n] alternative chosen, -1 if nothing was available;
        turned_away[n_facilities] patients turned away by each facility.
    """
    u = utility + gumbel
    turned_away = np.zeros(len(capacity_left), np.int64)
    pick = np.empty(u.shape[1], np.int64)
    fac = np.empty(u.shape[1], np.int64)
    choosing = slice(None)  # patients choosing this round: everyone, then those turned away
    for _ in range(max_rounds):
        pick[choosing], fac[choosing] = _best(u[:, choosing], facility[:, choosing])
        over = _over_capacity(fac, capacity_left)
        if over.size == 0:
            return pick, turned_away
        turned_away += np.bincount(fac[over], minlength=len(capacity_left))
        u[pick[over], over] = -np.inf
        choosing = over
    pick[over] = -1  # rounds exhausted: still turned away, no care today
    return pick, turned_away


def _best(u: np.ndarray, facility: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's (column of u [k, n]) first alternative of highest utility and its facility.

    (-1, -1) where every alternative is -inf. One pass per alternative (k ≤ 6) along the
    contiguous rows: ``argmax(axis=0)`` would copy u transposed and loop per patient.
    """
    k, n = u.shape
    pick = np.zeros(n, np.int64)
    best = u[0].copy()
    for j in range(1, k):
        better = u[j] > best  # strictly: ties keep the first alternative, as argmax does
        pick[better] = j
        np.maximum(best, u[j], out=best)
    fac = facility.ravel().take(pick * n + np.arange(n))  # (pick, patient) of the raveled rows
    none = best == -np.inf
    pick[none] = -1
    fac[none] = -1
    return pick, fac


def _over_capacity(fac: np.ndarray, capacity_left: np.ndarray) -> np.ndarray:
    """Patients beyond each facility's capacity, first come (lowest index) first served.

    fac[n] is each patient's facility (-1: none or unlimited). Ranks within a facility come
    from a stable sort on small integer keys (numpy uses a radix sort for those).
    """
    counts = np.bincount(fac + 1, minlength=len(capacity_left) + 1)
    full = counts > np.concatenate(([UNLIMITED], capacity_left))  # indexed by fac + 1
    if not full.any():
        return np.zeros(0, np.int64)
    competing = np.flatnonzero(full[fac + 1])
    f = fac[competing]
    order = np.argsort(f.astype(np.int16) if len(capacity_left) < 2**15 else f, kind="stable")
    fs = f[order]
    rank = np.arange(len(fs)) - np.searchsorted(fs, fs, side="left")
    return competing[order[rank >= capacity_left[fs]]]
