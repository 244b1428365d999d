"""Patient cost sharing (待遇): pure functions compiled with numba, money in yuan.

A claim is settled in this order (``flowsim.policy.claim_for`` composes the steps):

1. bill → in-catalogue part (政策范围内); the out-of-catalogue rest (目录外) is the patient's;
2. deductible (起付线): per admission for inpatient care (``admission_deductible``, with referral
   continuity), per year for outpatient pooling (``annual_deductible_left``, with the
   grassroots waiver);
3. reimbursement rate (报销比例) on the in-catalogue part above the deductible, after the
   penalty for care without a referral (``penalised_rate``) and the family-doctor contract floor
   (``contract_floor``);
4. annual fund cap (封顶线);
5. medical assistance (医疗救助) on the remaining in-catalogue self-paid part, up to its own cap
   (``split_bill``).

Each rule is written once, for one claim: as a numba ufunc (``penalised_rate``, ...), which
broadcasts over numpy arrays and is called per element by the model's compiled loops, or, for
the five-part split, as a jitted scalar function (``split_bill``) with a broadcasting wrapper
(``share_costs``). The keyword functions (``effective_rate``, ...) take the rule names as strings.
Inputs are trusted (they are validated where scenarios are loaded); negative intermediate
amounts are clipped to zero. Results are float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, vectorize
from numpy.typing import ArrayLike

from flowsim.domain import PENALTY_MODES, UPWARD_CONTINUITY, Referral

UPWARD_NONE, UPWARD_FIRST_ONLY, UPWARD_DIFFERENCE = map(UPWARD_CONTINUITY.index,
                                                        ("none", "first_only", "difference"))
"""Codes of ``domain.UPWARD_CONTINUITY`` (its position in that list)."""
RELATIVE = PENALTY_MODES.index("relative")
"""Code of the relative penalty mode (``domain.PENALTY_MODES``)."""
_UP, _DOWN = int(Referral.UP), int(Referral.DOWN)


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


# -- one claim: compiled rules -------------------------------------------------------------------


@vectorize(["float64(float64, boolean, float64, boolean)"], cache=True)
def penalised_rate(base_rate, penalised, penalty, relative):
    """Reimbursement rate after a penalty for care without a referral (fraction).

    基层首诊 (gatekeeping): e.g. 宁医保发〔2023〕103号 一(二), non-emergency care outside the
    region without a referral is reimbursed at the home rate "降低20%"; where ``penalised``:
    ``max(base_rate − penalty, 0)`` in rate points, or ``max(base_rate × (1 − penalty), 0)`` if
    ``relative``; else ``base_rate``.
    """
    if not penalised:
        return base_rate
    return max(base_rate * (1.0 - penalty) if relative else base_rate - penalty, 0.0)


@vectorize(["float64(float64, float64, boolean)"], cache=True)
def contract_floor(rate, min_rate, contracted_here):
    """Family-doctor contract floor (衢州实施细则, seed 000, 二(六)), fraction.

    ``max(rate, min_rate)`` where the patient's signed family doctor is at this facility.
    """
    return max(rate, min_rate) if contracted_here else rate


@vectorize(["float64(float64, int64, float64, int64, boolean)"], cache=True)
def admission_deductible(deductible, referral, prior_deductible_paid, upward, downward_waived):
    """Per-admission deductible (起付线) still due given referral continuity, yuan ≥ 0.

    By ``referral`` (``Referral`` code): NONE → deductible; UP with ``upward`` =
    UPWARD_NONE → deductible (no continuity), UPWARD_FIRST_ONLY → 0 (Weihai, seed 003: 当次住院
    只计算首次起付线), UPWARD_DIFFERENCE → max(deductible − prior paid, 0) (累计计算起付线:
    鲁医保发〔2024〕39号 三(一), 鲁医保发〔2023〕13号 一, 宁医保发〔2023〕103号 二(二));
    DOWN → 0 if ``downward_waived`` (seed 003; 宁医保发〔2023〕103号 二(二)) else deductible.
    """
    full = max(deductible, 0.0)
    if referral == _UP:
        if upward == UPWARD_FIRST_ONLY:
            return 0.0
        if upward == UPWARD_DIFFERENCE:
            return max(full - prior_deductible_paid, 0.0)
        return full
    if referral == _DOWN and downward_waived:
        return 0.0
    return full


@vectorize(["float64(float64, float64, boolean)"], cache=True)
def annual_deductible_left(annual_deductible, paid_this_year, waived):
    """Annual outpatient-pooling deductible (门诊统筹起付线) still due, yuan ≥ 0.

    0 where ``waived`` (grassroots waiver: 衢州实施细则, seed 000, 二(五); 鲁医保发〔2023〕13号
    二 取消基层医疗卫生机构普通门诊统筹起付线), else max(annual − paid this year, 0).
    """
    return 0.0 if waived else max(annual_deductible - paid_this_year, 0.0)


@njit(cache=True)
def split_bill(bill, catalogue_share, deductible_due, rate, fund_cap_left, assistance_share,
               assistance_cap_left):
    """Split one bill: (policy_range, deductible_paid, fund, assistance, patient), yuan.

    ``policy_range = bill × catalogue_share`` (the 目录外 rest is always the patient's);
    ``deductible_paid = min(policy_range, deductible_due)``;
    ``fund = min(rate × (policy_range − deductible_paid), fund_cap_left)`` (封顶线; may be inf);
    ``assistance = min(assistance_share × (policy_range − fund), assistance_cap_left)`` —
    鲁医保发〔2023〕13号 一: the policy-range self-paid part, including the part below the
    deductible and above the cap, is in the 医疗救助 scope;
    ``patient = bill − fund − assistance``; every part ≥ 0.
    """
    policy_range = bill * catalogue_share
    deductible_paid = min(max(deductible_due, 0.0), policy_range)
    fund = max(min(rate * (policy_range - deductible_paid), fund_cap_left), 0.0)
    assistance = 0.0
    if assistance_share > 0.0:
        scope = max(policy_range - fund, 0.0)
        assistance = max(min(assistance_share * scope, assistance_cap_left), 0.0)
    patient = max(bill - fund - assistance, 0.0)
    return policy_range, deductible_paid, fund, assistance, patient


@njit(cache=True)
def _split_each(bill, catalogue_share, deductible_due, rate, fund_cap_left, assistance_share,
                assistance_cap_left, out):
    for i in range(bill.size):
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = split_bill(
            bill[i], catalogue_share[i], deductible_due[i], rate[i], fund_cap_left[i],
            assistance_share[i], assistance_cap_left[i])


# -- batches: keyword forms of the rules, broadcasting over arrays --------------------------------


def effective_rate(
    base_rate: ArrayLike, *, penalised: ArrayLike, penalty: ArrayLike, mode: str
) -> np.ndarray:
    """``penalised_rate`` with the penalty read as ``mode``.

    ``"points"``: 0.60 → 0.40 for a 0.20 penalty; ``"relative"``: 0.60 → 0.48.

    Raises:
        ValueError: if ``mode`` is not one of ``PENALTY_MODES``.
    """
    if mode not in PENALTY_MODES:
        raise ValueError(f"penalty mode {mode!r}: expected one of {PENALTY_MODES}")
    return penalised_rate(base_rate, penalised, penalty, mode == "relative")


def contracted_rate(
    rate: ArrayLike, *, min_rate: ArrayLike, contracted_here: ArrayLike
) -> np.ndarray:
    """``contract_floor``: the rate, floored at ``min_rate`` where ``contracted_here``."""
    return contract_floor(rate, min_rate, contracted_here)


def inpatient_deductible_due(
    deductible: ArrayLike,
    *,
    referral: ArrayLike,
    prior_deductible_paid: ArrayLike,
    upward: str,
    downward_waived: ArrayLike,
) -> np.ndarray:
    """``admission_deductible`` with the upward rule named: one of ``domain.UPWARD_CONTINUITY``.

    Raises:
        ValueError: if ``upward`` is not one of ``domain.UPWARD_CONTINUITY``.
    """
    if upward not in UPWARD_CONTINUITY:
        raise ValueError(f"upward referral rule {upward!r}: expected one of {UPWARD_CONTINUITY}")
    return admission_deductible(deductible, np.asarray(referral, np.int64),
                                prior_deductible_paid, UPWARD_CONTINUITY.index(upward),
                                downward_waived)


def outpatient_deductible_due(
    annual_deductible: ArrayLike, *, paid_this_year: ArrayLike, waived: ArrayLike
) -> np.ndarray:
    """``annual_deductible_left``: what is left of the annual deductible, 0 where waived."""
    return annual_deductible_left(annual_deductible, paid_this_year, waived)


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
    """``split_bill`` over arrays that broadcast together.

    Rates: e.g. grassroots inpatient 85 % (济医保发〔2023〕5号 一, seed 003), 两病 70 %.

    Returns:
        ``Claim`` with all fields >= 0 and of the broadcast shape;
        fund + assistance + patient == bill.
    """
    bill, *rest = np.broadcast_arrays(*(
        np.asarray(x, np.float64) for x in (bill, catalogue_share, deductible_due, rate,
                                             fund_cap_left, assistance_share,
                                             assistance_cap_left)))
    flat = [np.ascontiguousarray(x).ravel() for x in (bill, *rest)]
    out = np.empty((5, bill.size))
    _split_each(*flat, out)
    return Claim(bill.copy(), *(part.reshape(bill.shape) for part in out))
