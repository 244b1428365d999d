"""Provider-side payment (支付方式): pure, vectorised numpy functions, money in yuan.

How the insurance fund pays providers (docs/levers.md; how facilities respond: docs/providers.md).
Conventions:

* a provider's revenue for an encounter = fund payment + patient payment + assistance;
* patient and assistance payments are always computed on the real bill (``benefits.share_costs``),
  so patients' cost sharing does not depend on the payment method;
* fee-for-service (按项目): the fund pays its cost-sharing share of the bill (``fee_for_service``);
* case (DRG/DIP), bed-day (床日) or per-case standards: the provider receives the *payment standard*
  in total and the fund pays the standard minus what the patient and assistance paid
  (``fund_payment_under_standard``);
* outpatient capitation (按人头付费) with retained surplus (``capitation_budget``,
  ``capitation_settlement``);
* county medical community (医共体) global budget (总额付费): ``community_budget``,
  ``prepayment`` and ``year_end_settlement`` (结余留用、合理超支分担).

Every function takes numpy arrays or scalars that broadcast together. Amounts are trusted, as in
``benefits``; share arguments (fractions that must lie in [0, 1]) are checked and raise
``ValueError``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from flowsim.domain import DAYS_PER_YEAR

MONTHS_PER_YEAR = 12.0


class Settlement(NamedTuple):
    """Settlement of encounters paid by a standard; all fields share one shape, in yuan.

    ``provider_revenue == fund + patient + assistance`` and
    ``provider_margin == provider_revenue - bill`` (to float rounding).
    """

    fund: np.ndarray
    provider_revenue: np.ndarray
    provider_margin: np.ndarray


class Capitation(NamedTuple):
    """Year-end result of an outpatient capitation budget; all fields in yuan, one shape.

    ``fund_paid + returned_to_fund == budget`` and ``fund_paid == cost + facility_kept``.
    """

    fund_paid: np.ndarray
    facility_kept: np.ndarray
    returned_to_fund: np.ndarray


class YearEnd(NamedTuple):
    """Year-end reconciliation of a 医共体 global budget; all fields in yuan, one shape.

    ``fund total = spent + fund_extra`` and
    ``spent + fund_extra + community_bears - community_kept == spent``
    i.e. ``fund_extra == community_kept - community_bears`` (see ``year_end_settlement``).
    """

    budget: np.ndarray
    spent: np.ndarray
    surplus: np.ndarray
    overrun: np.ndarray
    fund_extra: np.ndarray
    community_kept: np.ndarray
    community_bears: np.ndarray


def _share(name: str, value: ArrayLike) -> np.ndarray:
    """Return ``value`` as a float array, or raise ValueError unless every element is in [0, 1]."""
    arr = np.asarray(value, dtype=float)
    if not np.all((arr >= 0.0) & (arr <= 1.0)):  # also rejects NaN
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
    return arr


def _broadcast(*parts: ArrayLike) -> tuple[np.ndarray, ...]:
    """Broadcast parts to one shape; parts already of that shape are returned unchanged."""
    arrays = [np.asarray(p, dtype=float) for p in parts]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    # parts of a smaller shape become read-only broadcast views, not copies
    return tuple(a if a.shape == shape else np.broadcast_to(a, shape) for a in arrays)


# --- per encounter -------------------------------------------------------------------------------


def fee_for_service(fund_share: ArrayLike) -> np.ndarray:
    """Fund payment under fee-for-service (按项目付费): the claim's fund share of the bill.

    ``fund = fund_share`` (e.g. ``benefits.share_costs(...).fund``). The provider's revenue is then
    the whole bill (fund + patient + assistance). Kept explicit so every method has a function.

    Args:
        fund_share: the fund's part of the real bill from cost sharing, yuan.

    Returns:
        Fund payment to the provider, yuan.

    """
    return np.asarray(fund_share, dtype=float)


def case_payment_standard(
    weight: ArrayLike,
    *,
    base_rate: ArrayLike,
    tier_coefficient: ArrayLike,
    same_price: ArrayLike,
) -> np.ndarray:
    """DRG/DIP payment standard of a group (病组/病种) at a tier.

    ``standard = weight * base_rate * (1 if same_price else tier_coefficient)``.

    ``tier_coefficient`` is the level coefficient (等级系数) of the treating facility's tier
    (``domain.Tier``), relative to the tier at which ``base_rate`` applies. Groups on the grassroots
    "same disease, same price" list (同病同价) are paid one standard at every tier: 衢州实施细则
    (seed 000) 一(三), 80 DRG groups 不区分医疗机构，实行同病组同一付费标准; 鲁医保发〔2024〕39号
    三(四), ≥80 DIP grassroots diseases and ≥20 DRG grassroots groups by end 2025 (同城同病同价);
    宁医保发〔2023〕103号 二(一), 基层病种同病同治同价 at first-, second- and third-level
    facilities.
    For DIP pass the group's score (分值) as ``weight`` and the point value (``dip_point_value``)
    as ``base_rate``.

    Args:
        weight: relative weight (DRG) or score (DIP) of the group, dimensionless.
        base_rate: yuan per unit weight (DRG base rate 费率) or per point (DIP point value).
        tier_coefficient: level coefficient of the treating tier, dimensionless (> 0).
        same_price: bool, True where the group is on the same-price grassroots list.

    Returns:
        Payment standard per case, yuan.

    """
    coefficient = np.where(same_price, 1.0, np.asarray(tier_coefficient, dtype=float))
    return np.asarray(weight, dtype=float) * base_rate * coefficient


def dip_point_value(budget: ArrayLike, total_points: ArrayLike) -> np.ndarray:
    """DIP point value under a regional global budget (区域点数法总额预算).

    ``point_value = budget / total_points`` yuan per point: the region's budget for the period is
    fixed in advance and divided over all points the region's providers produced, so the value of
    a point floats with volume (宁医保发〔2023〕103号 二(一); 鲁医保发〔2023〕13号 (seed 002) 四:
    区域总额预算代替单个医疗机构的总额预算). Example: 10,000,000 yuan over 2,000,000 points
    = 5 yuan/point.

    Args:
        budget: the region's DIP budget for the period, yuan.
        total_points: points produced by all providers in the region in the period, > 0.

    Returns:
        Yuan per point.

    Raises:
        ValueError: if any ``total_points`` is not positive (the point value is undefined).

    """
    total_points = np.asarray(total_points, dtype=float)
    if not np.all(total_points > 0.0):
        raise ValueError(f"total_points must be positive, got {total_points!r}")
    return np.asarray(budget, dtype=float) / total_points


def dip_payment(points: ArrayLike, point_value: ArrayLike) -> np.ndarray:
    """DIP payment standard of cases: ``points * point_value`` (宁医保发〔2023〕103号 二(一)).

    Args:
        points: points of the case(s) (分值, after any level coefficient), dimensionless.
        point_value: yuan per point (``dip_point_value``).

    Returns:
        Payment standard, yuan.

    """
    return np.asarray(points, dtype=float) * point_value


def bed_day_standard(days: ArrayLike, *, rate_per_day: ArrayLike) -> np.ndarray:
    """Bed-day payment standard (床日付费, 鲁医保发〔2024〕39号 二(三)): ``days * rate_per_day``.

    Used e.g. for long-stay rehabilitation and psychiatric care; settled like a case standard
    through ``fund_payment_under_standard``.

    Args:
        days: bed days of the stay.
        rate_per_day: standard per bed day, yuan/day.

    Returns:
        Payment standard for the stay, yuan.

    """
    return np.asarray(days, dtype=float) * rate_per_day


def fund_payment_under_standard(
    standard: ArrayLike, *, patient: ArrayLike, assistance: ArrayLike, bill: ArrayLike
) -> Settlement:
    """Fund payment for encounters paid by a standard (DRG/DIP case, bed day).

    The provider receives the standard in total; the patient and medical assistance have already
    paid their shares, computed on the real bill, so
    ``fund = max(standard - patient - assistance, 0)``.
    When the patient and assistance paid more than the standard the difference
    ``standard - patient - assistance`` is negative: the provider keeps what the patient paid and
    the fund pays nothing more (it does not claw back), hence the clip at 0. Then
    ``provider_revenue = fund + patient + assistance = max(standard, patient + assistance)`` and
    ``provider_margin = provider_revenue - bill`` (gain > 0 or loss < 0 against the bill valued
    fee-for-service).

    Example: bill 5,000, patient paid 30 % = 1,500, no assistance, standard 4,000 → fund 2,500,
    provider revenue 4,000, margin −1,000.

    Args:
        standard: payment standard (``case_payment_standard``, ``dip_payment``,
            ``bed_day_standard``), yuan.
        patient: what the patient paid on the real bill, yuan.
        assistance: what medical assistance paid on the real bill, yuan.
        bill: the real bill valued fee-for-service, yuan.

    Returns:
        ``Settlement(fund, provider_revenue, provider_margin)``, broadcast to one shape.

    """
    patient = np.asarray(patient, dtype=float)
    fund = np.maximum(np.asarray(standard, dtype=float) - patient - assistance, 0.0)
    revenue = fund + patient + assistance
    margin = revenue - np.asarray(bill, dtype=float)
    return Settlement(*_broadcast(fund, revenue, margin))


# --- outpatient capitation -----------------------------------------------------------------------


def capitation_budget(
    enrolled: ArrayLike, *, rate_per_person_year: ArrayLike, days: ArrayLike = DAYS_PER_YEAR
) -> np.ndarray:
    """Outpatient capitation budget (门诊按人头付费 / 门诊包干总额) for a period.

    ``budget = enrolled * rate_per_person_year * days / 365`` (宁医保发〔2023〕103号 二(三)).

    Args:
        enrolled: persons enrolled with (signed to) the facility.
        rate_per_person_year: capitation rate, yuan per person-year.
        days: length of the period, days (365 for a year).

    Returns:
        Budget for the period, yuan.

    """
    return np.asarray(enrolled, dtype=float) * rate_per_person_year * days / DAYS_PER_YEAR


def capitation_settlement(
    budget: ArrayLike, cost_of_services: ArrayLike, *, surplus_retained: ArrayLike
) -> Capitation:
    """Settle a capitation budget with retained surplus (门诊包干结余留用).

    The fund pays the budget; ``surplus = budget - cost_of_services`` (services valued at
    fee-for-service, fund share). If ``surplus >= 0`` the facility keeps
    ``surplus_retained * surplus`` and ``(1 - surplus_retained) * surplus`` returns to the fund;
    an overrun (``surplus < 0``) is borne wholly by the facility (the fund pays the budget only):

    ``returned_to_fund = (1 - surplus_retained) * max(surplus, 0)``;
    ``facility_kept = surplus_retained * max(surplus, 0) - max(-surplus, 0)`` (negative = loss);
    ``fund_paid = budget - returned_to_fund`` (net).

    Identities: ``fund_paid + returned_to_fund == budget``;
    ``fund_paid == cost_of_services + facility_kept``.
    Seeds: 宁医保发〔2023〕103号 二(三) (按人头付费 … 在考核的基础上按照规定实施门诊包干结余留用);
    the regional budget frame of 鲁医保发〔2023〕13号 (seed 002) 四.

    Args:
        budget: capitation budget for the period (``capitation_budget``), yuan.
        cost_of_services: fund share of the enrolled persons' outpatient care valued
            fee-for-service, yuan.
        surplus_retained: share of a surplus the facility keeps, fraction in [0, 1] (may depend
            on the performance assessment 考核).

    Returns:
        ``Capitation(fund_paid, facility_kept, returned_to_fund)``, broadcast to one shape.

    Raises:
        ValueError: if ``surplus_retained`` is outside [0, 1].

    """
    retained = _share("surplus_retained", surplus_retained)
    budget = np.asarray(budget, dtype=float)
    surplus = budget - cost_of_services
    positive = np.maximum(surplus, 0.0)
    returned = (1.0 - retained) * positive
    kept = retained * positive - np.maximum(-surplus, 0.0)
    return Capitation(*_broadcast(budget - returned, kept, returned))


# --- county medical community (医共体) global budget --------------------------------------------


def community_budget(
    per_capita_standard: ArrayLike,
    served_population: ArrayLike,
    *,
    previous_budget: ArrayLike | None = None,
    fund_revenue_growth: ArrayLike | None = None,
) -> np.ndarray:
    """Annual fund budget of a county medical community (医共体医保基金支出总额预算).

    鲁医保发〔2024〕39号 二(二): 合理测算各类人头预算标准，结合县域医共体服务人群 … 确定年度总额
    预算, for employee and resident insurance separately:
    ``raw = sum over the last axis (schemes) of per_capita_standard * served_population``
    (scalars: their product). With ``previous_budget``:

    * growth cap, 增幅不超过统筹区当年医保基金收入增幅:
      ``budget <= previous_budget * (1 + fund_revenue_growth)`` (when the growth is given);
    * no lowering, 对因合理控费和加强健康管理出现医保基金支出降低的县域医共体，不降低下年度总额
      付费预算指标: ``budget >= previous_budget``.

    ``budget = max(min(raw, previous_budget * (1 + fund_revenue_growth)), previous_budget)``.

    Reading: the clause protects communities whose *spending* fell; this function cannot tell
    why ``raw`` fell, so it applies the floor unconditionally (a standard re-estimated from
    lower spending never lowers the budget). Where the floor and the cap conflict (fund revenue
    fell, growth < 0) the floor wins: the budget stays at ``previous_budget``. A caller that
    wants a budget to fall for other reasons (population loss, rebasing) passes no
    ``previous_budget``, or a rebased one. Out-of-county fund spending of the county's residents
    counts against this budget (县域外发生的医保基金支出应纳入 … 总额预算); that is an input to
    ``year_end_settlement``, not to the budget.

    Args:
        per_capita_standard: per-capita standards (人头预算标准), yuan per person-year; last axis
            by scheme when an array.
        served_population: persons served, same layout as ``per_capita_standard``.
        previous_budget: last year's budget, yuan (None: no cap, no floor).
        fund_revenue_growth: growth of the pooling area's fund revenue this year, fraction
            (e.g. 0.05); needs ``previous_budget``.

    Returns:
        The year's budget, yuan (summed over schemes).

    Raises:
        ValueError: if ``fund_revenue_growth`` is given without ``previous_budget`` or is < -1.

    """
    product = np.multiply(per_capita_standard, served_population, dtype=float)
    raw = product.sum(axis=-1) if product.ndim else product
    if previous_budget is None:
        if fund_revenue_growth is not None:
            raise ValueError("fund_revenue_growth needs previous_budget")
        return raw
    previous = np.asarray(previous_budget, dtype=float)
    if fund_revenue_growth is not None:
        growth = np.asarray(fund_revenue_growth, dtype=float)
        if not np.all(growth >= -1.0):
            raise ValueError(f"fund_revenue_growth must be >= -1, got {fund_revenue_growth!r}")
        raw = np.minimum(raw, previous * (1.0 + growth))
    return np.maximum(raw, previous)


def prepayment(budget: ArrayLike, *, months: ArrayLike = 1.0) -> np.ndarray:
    """Advance to a medical community (预付): ``budget * months / 12``.

    鲁医保发〔2024〕39号 二(四): 可根据基金结余情况向县域医共体预付1个月左右的医保基金.

    Args:
        budget: annual budget, yuan.
        months: months of budget advanced, in [0, 12] (about 1).

    Returns:
        Prepayment, yuan.

    Raises:
        ValueError: if ``months`` is outside [0, 12].

    """
    months = np.asarray(months, dtype=float)
    if not np.all((months >= 0.0) & (months <= MONTHS_PER_YEAR)):
        raise ValueError(f"months must be in [0, 12], got {months!r}")
    return np.asarray(budget, dtype=float) * months / MONTHS_PER_YEAR


def year_end_settlement(
    budget: ArrayLike,
    spent: ArrayLike,
    *,
    surplus_retained_share: ArrayLike,
    overrun_fund_share: ArrayLike,
    reasonable_overrun_limit: ArrayLike,
) -> YearEnd:
    """Year-end reconciliation of a 医共体 global budget: 结余留用、合理超支分担.

    鲁医保发〔2024〕39号 二(三): during the year the fund settles monthly with the community by the
    underlying methods (DRG/DIP, bed day, capitation); ``spent`` is what that cost the fund for
    the community's members plus out-of-county care of the county's residents (二(二)). At year
    end ``spent`` is set against the budget and a surplus is retained or an overrun shared by the
    agreement (按协议约定留用或分担); retained surplus is the community's business income
    (业务收入). Reading of the shares:

    * ``spent <= budget``: ``surplus = budget - spent``; the fund pays the community
      ``community_kept = surplus_retained_share * surplus`` on top; the rest stays in the fund.
    * ``spent > budget``: ``overrun = spent - budget``; the reasonable part
      ``reasonable = min(overrun, reasonable_overrun_limit * budget)`` is shared, the fund bearing
      ``overrun_fund_share * reasonable`` (合理补偿 for objective causes) and the community the
      rest; the part beyond the limit, ``overrun - reasonable``, is borne wholly by the community:
      ``community_bears = (1 - overrun_fund_share) * reasonable + (overrun - reasonable)``,
      which the fund recovers (冲减应收医疗款).

    ``fund_extra = community_kept - community_bears`` is the net extra the fund pays at year end
    (negative when it recovers money), so the fund's total for the year is ``spent + fund_extra``.
    Identity (conservation): ``(spent + fund_extra) + community_bears - community_kept == spent``;
    equivalently ``spent + fund_extra == budget - (1 - surplus_retained_share) * surplus
    + overrun_fund_share * reasonable``. The fund total is non-decreasing in ``spent`` (slope
    ``1 - surplus_retained_share`` below the budget, ``overrun_fund_share`` up to the limit, 0
    beyond) and ``community_kept <= surplus``. The shares may be tied to the performance
    assessment (二(四) 考核结果与年终清算超支分担和结余留用机制挂钩); the caller passes them.

    Args:
        budget: the year's budget (``community_budget``), yuan.
        spent: fund spending settled monthly by the underlying methods, yuan.
        surplus_retained_share: share of a surplus the community keeps, fraction in [0, 1].
        overrun_fund_share: share of the reasonable overrun the fund bears, fraction in [0, 1].
        reasonable_overrun_limit: reasonable overrun as a fraction of the budget, >= 0 (e.g. 0.05).

    Returns:
        ``YearEnd(budget, spent, surplus, overrun, fund_extra, community_kept, community_bears)``,
        broadcast to one shape; ``surplus`` and ``overrun`` are >= 0 and at most one is > 0.

    Raises:
        ValueError: if a share is outside [0, 1] or ``reasonable_overrun_limit`` < 0.

    """
    retained = _share("surplus_retained_share", surplus_retained_share)
    fund_share = _share("overrun_fund_share", overrun_fund_share)
    limit = np.asarray(reasonable_overrun_limit, dtype=float)
    if not np.all(limit >= 0.0):
        raise ValueError(f"reasonable_overrun_limit must be >= 0, got {reasonable_overrun_limit!r}")
    budget = np.asarray(budget, dtype=float)
    spent = np.asarray(spent, dtype=float)
    surplus = np.maximum(budget - spent, 0.0)
    overrun = np.maximum(spent - budget, 0.0)
    reasonable = np.minimum(overrun, limit * budget)
    kept = retained * surplus
    bears = (1.0 - fund_share) * reasonable + (overrun - reasonable)
    return YearEnd(*_broadcast(budget, spent, surplus, overrun, kept - bears, kept, bears))
