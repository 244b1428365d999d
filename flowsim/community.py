"""Year-end settlements: 医共体 global budget, DIP point value, outpatient capitation.

The county medical community's (医共体) global budget, the DIP point value (区域点数法) and
outpatient capitation (按人头付费) are each settled once a year.

鲁医保发〔2024〕39号 二(二)–(四): the fund pays the community's members monthly by the underlying
methods (fee-for-service, DRG, bed-day: ``policy.provider_payment``); at year end the total is
reconciled with the budget (``payment.year_end_settlement``): surplus retained (结余留用),
reasonable overrun shared (合理超支分担). The budget is Σ per-capita standard × served
population, its growth capped by the growth of fund revenue and never lowered because
spending fell (``payment.community_budget``). Out-of-county spending of the county's residents
counts against it. About one month is prepaid at the start of the year and recovered at the
end. Part of the retained surplus is reinvested in grassroots capability: it raises the
perceived quality of village clinics and township centres in later years (004 二(二)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import numpy as np

from flowsim import payment
from flowsim.config import resolve
from flowsim.domain import (
    DAYS_PER_YEAR,
    GRASSROOTS,
    IN_COUNTY,
    N_SCHEMES,
    TIERS,
    Payer,
    Service,
    Tier,
)
from flowsim.encounters import Total

DIP_COLUMNS = ("year", "days", "budget", "points", "paid_at_provisional", "final_point_value",
               "adjustment", *(f"adjustment_{t}" for t in TIERS))
CAPITATION_COLUMNS = ("year", "tier", "facilities", "budget", "cost_of_services",
                      "facility_kept", "returned_to_fund")
SETTLEMENT_COLUMNS = (
    "year", "days", "budget", "spent", "surplus", "overrun", "fund_extra", "community_kept",
    "community_bears", "prepayment", "reinvested", "quality_gain", "score", "capability_gain",
)
"""Columns of the settlement table, yuan unless named otherwise (quality_gain: quality points;
score: the assessment score, 0–1; capability_gain: severity points)."""


ASSESSED = ("medical_cost_growth", "effective_reimbursement_ratio", "grassroots_visit_share",
            "in_county_fund_share", "grassroots_fund_share")
"""Indicators of the 医共体 performance assessment (鲁医保发〔2024〕39号 二(四)), in
``config.AssessmentItems`` order; defined as the indicators of the same names."""


def assessment_values(money: np.ndarray, visits: np.ndarray, cost_per_day: float,
                      previous_cost_per_day: float | None) -> np.ndarray:
    """The ``ASSESSED`` indicators of a period from its summed counters (NaN where undefined).

    ``money`` [payer, service, tier, scheme] and ``visits`` [service, tier, scheme] summed over
    the period; cost growth = bills per day / last year's − 1; reimbursement ratio = the fund's
    cost-sharing share of bills; grassroots visit share = visits at village clinics and township
    centres / all; in-county fund share = fund payments inside the county / all; grassroots fund
    share = fund payments to grassroots / inside the county (as in ``flowsim.indicators``).
    """
    fund = money[Payer.FUND_PAID].sum(axis=(0, 2))  # [tier]
    bill = money[Payer.BILL].sum()
    by_tier = visits.sum(axis=(0, 2))

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")

    growth = (float("nan") if not previous_cost_per_day
              else cost_per_day / previous_cost_per_day - 1.0)
    return np.array([
        growth,
        ratio(money[Payer.FUND].sum(), bill),
        ratio(by_tier[GRASSROOTS].sum(), by_tier.sum()),
        ratio(fund[IN_COUNTY].sum(), fund.sum()),
        ratio(fund[GRASSROOTS].sum(), fund[IN_COUNTY].sum()),
    ])


def assessment_score(values: np.ndarray, *, weights: np.ndarray, zero_at: np.ndarray,
                     full_at: np.ndarray) -> float:
    """Weighted mean of the marks, each clip((value − zero_at) / (full_at − zero_at), 0, 1).

    Indicators that are undefined (NaN, e.g. cost growth in the first year) are left out and
    the weights of the others renormalised; 1 if none is defined.
    """
    marks = np.clip((values - zero_at) / (full_at - zero_at), 0.0, 1.0)
    known = ~np.isnan(marks) & (weights > 0)
    if not known.any():
        return 1.0
    return float(np.sum(marks[known] * weights[known]) / np.sum(weights[known]))


@dataclass
class CommunityBudget:
    """The budget carried from year to year and the settlements made so far."""

    previous_budget: float | None = None  # last full-year budget, yuan
    previous_revenue: float | None = None  # last year's fund revenue per day, yuan
    settlements: list[dict] = field(default_factory=list)

    def full_year_budget(self, standard: np.ndarray, members: np.ndarray,
                         revenue_per_day: float) -> float:
        """This year's budget, yuan: ``payment.community_budget`` of standard × members.

        Capped by the growth of fund revenue per day, floored at last year's budget.
        """
        growth = (None if self.previous_revenue in (None, 0)
                  else revenue_per_day / self.previous_revenue - 1)
        return float(payment.community_budget(
            standard, members, previous_budget=self.previous_budget,
            fund_revenue_growth=growth if self.previous_budget is not None else None))

    def close_year(
        self,
        p: SimpleNamespace,
        *,
        year: int,
        days: int,
        members: np.ndarray,
        fund_paid_by_tier: np.ndarray,
        fund_revenue: float,
        score: float = 1.0,
    ) -> dict:
        """Settle one insurance year of ``days`` observed days and return its row.

        ``p``: the ``community`` section in force on the year's last day. budget =
        ``full_year_budget`` × days / 365; spent = fund payments to in-county facilities
        (+ out-of-county if counted), yuan. The assessment ``score`` (0–1) scales the share of
        a surplus retained and the fund's share of a reasonable overrun (考核结果与年终清算挂钩,
        001 二(四)). Reinvested surplus raises grassroots quality and capability per yuan
        reinvested per resident served (``members``).
        """
        revenue_per_day = fund_revenue / days
        full_year = self.full_year_budget(p.per_capita_standard, members, revenue_per_day)
        budget = full_year * days / float(DAYS_PER_YEAR)
        in_county = fund_paid_by_tier[IN_COUNTY].sum()
        spent = float(in_county + (fund_paid_by_tier[Tier.OUT_OF_COUNTY]
                                   if p.count_out_of_county else 0.0))
        end = payment.year_end_settlement(
            budget, spent, surplus_retained_share=p.surplus_retained_share * score,
            overrun_fund_share=p.overrun_fund_share * score,
            reasonable_overrun_limit=p.reasonable_overrun_limit,
        )
        reinvested = max(float(end.community_kept), 0.0) * p.reinvested_share
        per_resident = reinvested / float(np.sum(members))
        row = {
            "year": year, "days": days, "budget": budget, "spent": spent,
            "surplus": float(end.surplus), "overrun": float(end.overrun),
            "fund_extra": float(end.fund_extra), "community_kept": float(end.community_kept),
            "community_bears": float(end.community_bears),
            "prepayment": float(payment.prepayment(budget, months=p.prepayment_months)),
            "reinvested": reinvested,
            "quality_gain": p.quality_gain_per_yuan_per_resident * per_resident,
            "score": score,
            "capability_gain": p.capability_gain_per_yuan_per_resident * per_resident,
        }
        self.previous_budget, self.previous_revenue = full_year, revenue_per_day
        self.settlements.append(row)
        return row


def settle_dip(
    points: np.ndarray, paid: np.ndarray, *, budget: float, year: int, days: int
) -> tuple[dict, np.ndarray]:
    """Year-end DIP settlement (区域点数法, 004 二(一)): the point value floats to meet the budget.

    final point value = budget / points of the year; the fund's adjustment by tier = final
    value × points − standards already paid at the provisional value. Returns (row, adjustment).
    """
    final = float(payment.dip_point_value(budget, points.sum()))
    adjustment = final * points - paid
    row = {"year": year, "days": days, "budget": budget, "points": float(points.sum()),
           "paid_at_provisional": float(paid.sum()), "final_point_value": final,
           "adjustment": float(adjustment.sum()),
           **{f"adjustment_{TIERS[t]}": float(adjustment[t]) for t in Tier}}
    return row, adjustment


def settle_capitation(
    budget: np.ndarray, cost: np.ndarray, tier: np.ndarray, *, surplus_retained: float, year: int
) -> tuple[list[dict], np.ndarray]:
    """Year-end outpatient capitation settlement, facility by facility (004 二(三), 002 四).

    Each facility keeps ``surplus_retained`` × (budget − fee-for-service value of its claims),
    returns the rest to the fund, and bears an overrun (``payment.capitation_settlement``).
    Returns (one row per tier, [facility] yuan returned to the fund).
    """
    end = payment.capitation_settlement(budget, cost, surplus_retained=surplus_retained)
    rows = [
        {"year": year, "tier": TIERS[t], "facilities": int(here.sum()),
         "budget": float(budget[here].sum()), "cost_of_services": float(cost[here].sum()),
         "facility_kept": float(end.facility_kept[here].sum()),
         "returned_to_fund": float(end.returned_to_fund[here].sum())}
        for t in np.unique(tier) for here in [tier == t]
    ]
    return rows, np.asarray(end.returned_to_fund, float)


class Settlements:
    """The fund's payments settled by period: daily capitation, and every year-end settlement.

    State:
        year_start: index into the model's day counts of the insurance year's first day.
        capitation_budget: [facility] capitation paid this year, yuan.
        capitation_cost: [facility] fee-for-service value (fund share) of capitated claims, yuan.
        settled: [facility] year-end settlement money booked to each facility so far, yuan
            (DIP adjustments, capitation returned, the 医共体 settlement to the lead hospital).
        previous_cost_per_day: last closed year's bills per day, yuan (cost growth).
        community: the 医共体 budget carried from year to year, and its settlements.
        dip, capitation: rows of the year-end DIP and capitation settlements so far.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.year_start = 0
        n = len(model.facilities)
        self.capitation_budget = np.zeros(n)
        self.capitation_cost = np.zeros(n)
        self.settled = np.zeros(n)
        self.previous_cost_per_day: float | None = None
        self.community = CommunityBudget()
        self.dip: list[dict] = []
        self.capitation: list[dict] = []

    def pay_capitation(self) -> None:
        """Today's capitation: rate × catchment residents / 365 per capitated facility."""
        m = self.model
        f = m.facilities
        capitated = m.rules.payment.outpatient_capitation[f.tier]
        pay = payment.capitation_budget(f.catchment * capitated[:, None],
                                        rate_per_person_year=m.rules.payment.capitation_rate,
                                        days=1)
        fund_paid = m.today.money[Payer.FUND_PAID]  # [service, tier, scheme]
        cell = (Service.OUTPATIENT * len(Tier) + f.tier[:, None]) * N_SCHEMES + np.arange(N_SCHEMES)
        fund_paid += np.bincount(cell.ravel(), weights=pay.ravel(),
                                 minlength=fund_paid.size).reshape(fund_paid.shape)
        for total in (Total.FUND, Total.REVENUE):
            f.totals[total] += pay.sum(axis=1)
        self.capitation_budget += pay.sum(axis=1)

    def assessment(self, year: list, p: SimpleNamespace) -> float:
        """The assessment score of the days ``year`` (``DayCounts``) under ``p`` (community)."""
        a = p.assessment
        if not a.scored or not year:
            return 1.0
        money = sum(d.money for d in year)
        visits = sum(d.visits for d in year)
        values = assessment_values(money, visits, money[Payer.BILL].sum() / len(year),
                                   self.previous_cost_per_day)
        return assessment_score(values, weights=a.weights, zero_at=a.zero_at, full_at=a.full_at)

    def close_year(self, year: list, last_day: date) -> dict | None:
        """Settle the insurance year that ended on ``last_day`` (``year``: its ``DayCounts``).

        DIP point value, capitation per facility, then the 医共体 budget against the fund's
        payments including those adjustments, its shares set by the assessment score. Returns
        the 医共体 settlement row (None without a global budget).
        """
        m = self.model
        fund_paid_by_tier = (sum(d.money[Payer.FUND_PAID] for d in year).sum(axis=(0, 2))
                             if year else None)
        if year and sum(d.dip_points.sum() for d in year) > 0:
            fund_paid_by_tier = fund_paid_by_tier + self._settle_dip(year, last_day)
        if self.capitation_budget.any():
            fund_paid_by_tier = fund_paid_by_tier + self._settle_capitation(last_day)
        row = None
        if year and m.config.community.global_budget.on(last_day):
            p = resolve(m.config.community, last_day)
            row = self.community.close_year(
                p, year=last_day.year, days=len(year), members=m.members,
                fund_paid_by_tier=fund_paid_by_tier,
                fund_revenue=float(sum(d.fund_revenue.sum() for d in year)),
                score=self.assessment(year, p),
            )
            self._book(row["fund_extra"], m.facilities.tier == Tier.COUNTY)
        if year and len(year) >= 360:
            self.previous_cost_per_day = float(sum(d.money[Payer.BILL].sum() for d in year)
                                               / len(year))
        return row

    def _book(self, amount: float | np.ndarray, facilities: np.ndarray) -> None:
        """Book settlement money to ``facilities`` (bool [facility]) by their fund income so far.

        ``amount`` is a total, or [tier] totals each shared among that tier's facilities.
        """
        f = self.model.facilities
        weight = np.where(facilities, f.totals[Total.FUND], 0.0)
        tier_total = np.bincount(f.tier, weights=weight, minlength=len(Tier))
        if np.ndim(amount) == 0:
            share = weight / weight.sum() if weight.sum() > 0 else facilities / facilities.sum()
            self.settled += amount * share
            return
        share = np.divide(weight, tier_total[f.tier], out=np.zeros(len(f)),
                          where=tier_total[f.tier] > 0)
        self.settled += np.asarray(amount)[f.tier] * share

    def _settle_dip(self, year: list, last_day: date) -> np.ndarray:
        """DIP year-end settlement against budget = dip_budget_per_capita × residents × days/365."""
        m = self.model
        budget = (m.config.payment.dip_budget_per_capita.on(last_day) * len(m.residents)
                  * len(year) / float(DAYS_PER_YEAR))
        row, adjustment = settle_dip(sum(d.dip_points for d in year),
                                     sum(d.dip_standard for d in year), budget=budget,
                                     year=last_day.year, days=len(year))
        self.dip.append(row)
        self._book(adjustment, np.ones(len(m.facilities), bool))
        return adjustment

    def _settle_capitation(self, last_day: date) -> np.ndarray:
        """Capitation year-end settlement of every capitated facility; resets the year."""
        m = self.model
        paid = self.capitation_budget > 0
        rows, returned = settle_capitation(
            self.capitation_budget[paid], self.capitation_cost[paid], m.facilities.tier[paid],
            surplus_retained=m.config.payment.capitation_surplus_retained.value,
            year=last_day.year)
        self.capitation.extend(rows)
        self.settled[paid] -= returned
        self.capitation_budget[:] = 0
        self.capitation_cost[:] = 0
        return -np.bincount(m.facilities.tier[paid], weights=returned, minlength=len(TIERS))
