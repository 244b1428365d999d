"""Patient cost sharing (待遇): pure, vectorised numpy functions, money in yuan.

A claim is settled in this order (see ``share_costs``):

1. bill → in-catalogue part (政策范围内); the out-of-catalogue rest (目录外) is the patient's;
2. deductible (起付线): per admission for inpatient care (``inpatient_deductible_due``, with
   referral continuity), per year for outpatient pooling (``outpatient_deductible_due``, with the
   grassroots waiver);
3. reimbursement rate (报销比例) on the in-catalogue part above the deductible, after the
   non-referred out-of-region penalty (``effective_rate``) and the family-doctor contract floor
   (``contracted_rate``);
4. annual fund cap (封顶线);
5. medical assistance (医疗救助) on the remaining in-catalogue self-paid part, up to its own cap.

Every function takes numpy arrays or scalars that broadcast together. Inputs are trusted (they
are validated where scenarios are loaded); negative intermediate amounts are clipped to zero.
Float inputs keep their precision (float32 tables give float32 results, as for the choice
model's expected costs); other inputs are computed in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from flowsim.domain import Referral

PENALTY_MODES = ("points", "relative")
UPWARD_MODES = ("none", "first_only", "difference")


def _as_float(x: ArrayLike) -> np.ndarray:
    """``x`` as a float array: float32 stays float32 (the choice model's estimates).

    Integers and bools become float64.
    """
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(float)


class Claim(NamedTuple):
    """One settled claim per element; all fields share one shape, in yuan.

    ``fund + assistance + patient == bill`` (to float rounding).
    """

    bill: np.ndarray
    policy_range: np.ndarray
    deductible_paid: np.ndarray
    fund: np.ndarray
    assistance: np.ndarray
    patient: np.ndarray


def effective_rate(
    base_rate: ArrayLike, *, penalised: ArrayLike, penalty: ArrayLike, mode: str
) -> np.ndarray:
    """Reimbursement rate after the non-referred out-of-region penalty.

    Implements 宁医保发〔2023〕103号 一(二): non-emergency care outside the region without a
    referral is reimbursed at the home rate "降低20%". Both readings are offered:
    ``"points"``: ``max(base_rate - penalty, 0)`` (0.60 → 0.40 for penalty 0.20);
    ``"relative"``: ``max(base_rate * (1 - penalty), 0)`` (0.60 → 0.48).

    Args:
        base_rate: rate at a same-level home facility, fraction in [0, 1].
        penalised: bool, True where the claim is non-referred and non-emergency out of region.
        penalty: the cut, in rate points (fraction) or as a relative fraction, per ``mode``.
        mode: ``"points"`` or ``"relative"``.

    Returns:
        The rate (fraction) to apply: penalised where ``penalised``, else ``base_rate``.

    Raises:
        ValueError: if ``mode`` is not one of ``PENALTY_MODES``.

    """
    base_rate = _as_float(base_rate)
    if mode == "points":
        cut = base_rate - penalty
    elif mode == "relative":
        cut = base_rate * (1.0 - np.asarray(penalty, dtype=float))
    else:
        raise ValueError(f"penalty mode {mode!r}: expected one of {PENALTY_MODES}")
    return np.where(penalised, np.maximum(cut, 0.0), base_rate)


def contracted_rate(
    rate: ArrayLike, *, min_rate: ArrayLike, contracted_here: ArrayLike
) -> np.ndarray:
    """Family-doctor contract floor on the reimbursement rate.

    Implements 衢州实施细则 (seed 000) 二(六): at the contracted grassroots facility the
    policy-range inpatient rate is at least 80 % (chronic outpatient at least 65 %):
    ``max(rate, min_rate)`` where ``contracted_here``, else ``rate``.

    Args:
        rate: the scheme's rate for this tier and service, fraction.
        min_rate: the floor for contracted residents, fraction.
        contracted_here: bool, True where the patient's signed family doctor is at this facility.

    Returns:
        The rate (fraction) to apply.

    """
    rate = _as_float(rate)
    return np.where(contracted_here, np.maximum(rate, min_rate), rate)


def inpatient_deductible_due(
    deductible: ArrayLike,
    *,
    referral: ArrayLike,
    prior_deductible_paid: ArrayLike,
    upward: str,
    downward_waived: ArrayLike,
) -> np.ndarray:
    """Per-admission deductible (起付线) still due, given referral continuity.

    By ``referral`` code (``Referral``):
    NONE → ``deductible``;
    UP, ``upward="none"`` → ``deductible`` (no continuity);
    UP, ``upward="first_only"`` → 0 (Weihai, seed 003: 当次住院只计算首次起付线 — the first
    admission's deductible was already paid);
    UP, ``upward="difference"`` → ``max(deductible - prior_deductible_paid, 0)``
    (连续/累计计算起付线: 鲁医保发〔2024〕39号 三(一), 鲁医保发〔2023〕13号 一,
    宁医保发〔2023〕103号 二(二));
    DOWN → 0 where ``downward_waived`` else ``deductible`` (seed 003 取消转诊后起付线;
    宁医保发〔2023〕103号 二(二) 向下转诊不再重复计算起付线).

    Args:
        deductible: this facility's per-admission deductible, yuan.
        referral: ``Referral`` code (0 none, 1 up, 2 down).
        prior_deductible_paid: deductible paid at the referring admission, yuan.
        upward: upward-referral rule, one of ``UPWARD_MODES``.
        downward_waived: bool, True where a downward referral pays no new deductible.

    Returns:
        Deductible due for this admission, yuan, >= 0.

    Raises:
        ValueError: if ``upward`` is not one of ``UPWARD_MODES``.

    """
    full = np.maximum(_as_float(deductible), 0.0)
    if upward == "none":
        up = full
    elif upward == "first_only":
        up = np.zeros_like(full)
    elif upward == "difference":
        up = np.maximum(full - prior_deductible_paid, 0.0)
    else:
        raise ValueError(f"upward referral rule {upward!r}: expected one of {UPWARD_MODES}")
    down = np.where(downward_waived, 0.0, full)
    if np.ndim(referral) == 0:  # one referral kind for the whole batch
        return {Referral.UP: up, Referral.DOWN: down}.get(int(referral), full)
    referral = np.asarray(referral)
    return np.where(referral == Referral.UP, up, np.where(referral == Referral.DOWN, down, full))


def outpatient_deductible_due(
    annual_deductible: ArrayLike, *, paid_this_year: ArrayLike, waived: ArrayLike
) -> np.ndarray:
    """Annual outpatient-pooling deductible (门诊统筹起付线) still due.

    ``0`` where ``waived``, else ``max(annual_deductible - paid_this_year, 0)``. The waiver is the
    grassroots outpatient deductible abolition of 衢州实施细则 (seed 000) 二(五) and
    鲁医保发〔2023〕13号 二 (取消基层医疗卫生机构普通门诊统筹起付线).

    Args:
        annual_deductible: the year's outpatient deductible, yuan.
        paid_this_year: deductible already paid this year, yuan.
        waived: bool, True where the deductible is abolished (e.g. at grassroots facilities).

    Returns:
        Deductible due for this visit, yuan, >= 0.

    """
    remaining = np.maximum(_as_float(annual_deductible) - paid_this_year, 0.0)
    return np.where(waived, 0.0, remaining) if np.any(waived) else remaining


def share_costs(
    bill: ArrayLike,
    *,
    catalogue_share: ArrayLike,
    deductible_due: ArrayLike,
    rate: ArrayLike,
    fund_cap_left: ArrayLike,
    assistance_share: ArrayLike,
    assistance_cap_left: ArrayLike,
) -> Claim:
    """Split bills between the insurance fund, medical assistance and the patient.

    ``policy_range = bill * catalogue_share`` (the 目录外 rest is always the patient's);
    ``deductible_paid = min(policy_range, deductible_due)``;
    ``fund = min(rate * (policy_range - deductible_paid), fund_cap_left)`` (封顶线; may be inf);
    ``assistance = min(assistance_share * (policy_range - fund), assistance_cap_left)`` —
    鲁医保发〔2023〕13号 一: after basic insurance the policy-range self-paid part, including the
    part below the deductible and above the cap, is in the 医疗救助 scope;
    ``patient = bill - fund - assistance``.
    Rates: e.g. grassroots inpatient 85 % (济医保发〔2023〕5号 一, seed 003), 两病 70 %.

    Args:
        bill: total bill, yuan, >= 0.
        catalogue_share: in-catalogue fraction of the bill, in [0, 1].
        deductible_due: deductible still due for this claim, yuan.
        rate: reimbursement rate, fraction in [0, 1].
        fund_cap_left: remaining annual fund cap, yuan (``np.inf`` for none; <= 0 pays nothing).
        assistance_share: fraction of the remaining policy-range self-pay assistance covers.
        assistance_cap_left: remaining annual assistance cap, yuan (``np.inf`` for none).

    Returns:
        ``Claim`` with all fields >= 0, broadcast to one shape; fund + assistance + patient == bill.

    """
    bill = _as_float(bill)
    policy_range = bill * catalogue_share
    deductible_paid = np.minimum(np.maximum(deductible_due, 0.0), policy_range)
    fund = np.maximum(np.minimum(rate * (policy_range - deductible_paid), fund_cap_left), 0.0)
    if np.any(assistance_share):
        scope = np.maximum(policy_range - fund, 0.0)
        assistance = np.maximum(np.minimum(assistance_share * scope, assistance_cap_left), 0.0)
        patient = np.maximum(bill - fund - assistance, 0.0)
    else:  # no assistance in the whole batch: the formulas above give exactly 0 and bill − fund
        assistance = np.float64(0.0)
        patient = np.maximum(bill - fund, 0.0)
    parts = (bill, policy_range, deductible_paid, fund, assistance, patient)
    shape = patient.shape  # patient combines every input, so it has the full broadcast shape
    # fields of a smaller shape become read-only broadcast views, not copies
    return Claim(*(p if np.shape(p) == shape else np.broadcast_to(p, shape) for p in parts))
