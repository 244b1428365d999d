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
from flowsim.domain import DAYS_PER_YEAR, N_SCHEMES, TIERS, Payer, Service, Tier
from flowsim.encounters import Total

DIP_COLUMNS = ("year", "days", "budget", "points", "paid_at_provisional", "final_point_value",
               "adjustment")
CAPITATION_COLUMNS = ("year", "tier", "facilities", "budget", "cost_of_services",
                      "facility_kept", "returned_to_fund")
SETTLEMENT_COLUMNS = (
    "year", "days", "budget", "spent", "surplus", "overrun", "fund_extra", "community_kept",
    "community_bears", "prepayment", "reinvested", "quality_gain",
)
"""Columns of the settlement table, yuan unless named otherwise (quality_gain: quality points)."""


@dataclass
class CommunityBudget:
    """The budget carried from year to year and the settlements made so far."""

    params: SimpleNamespace  # the scenario's resolved ``community`` section
    previous_budget: float | None = None  # last full-year budget, yuan
    previous_revenue: float | None = None  # last year's fund revenue per day, yuan
    settlements: list[dict] = field(default_factory=list)

    def close_year(
        self,
        *,
        year: int,
        days: int,
        members: np.ndarray,
        fund_paid_by_tier: np.ndarray,
        fund_revenue: float,
    ) -> dict:
        """Settle one insurance year of ``days`` observed days and return its row.

        budget = community_budget(standard × members; previous, revenue growth) × days / 365;
        spent = fund payments to in-county facilities (+ out-of-county if counted), yuan.
        """
        p = self.params
        revenue_per_day = fund_revenue / days
        growth = (None if self.previous_revenue in (None, 0)
                  else revenue_per_day / self.previous_revenue - 1)
        full_year = float(payment.community_budget(
            p.per_capita_standard, members,
            previous_budget=self.previous_budget,
            fund_revenue_growth=growth if self.previous_budget is not None else None,
        ))
        budget = full_year * days / float(DAYS_PER_YEAR)
        in_county = fund_paid_by_tier[: Tier.OUT_OF_COUNTY].sum()
        spent = float(in_county + (fund_paid_by_tier[Tier.OUT_OF_COUNTY]
                                   if p.count_out_of_county else 0.0))
        end = payment.year_end_settlement(
            budget, spent, surplus_retained_share=p.surplus_retained_share,
            overrun_fund_share=p.overrun_fund_share,
            reasonable_overrun_limit=p.reasonable_overrun_limit,
        )
        reinvested = max(float(end.community_kept), 0.0) * p.reinvested_share
        row = {
            "year": year, "days": days, "budget": budget, "spent": spent,
            "surplus": float(end.surplus), "overrun": float(end.overrun),
            "fund_extra": float(end.fund_extra), "community_kept": float(end.community_kept),
            "community_bears": float(end.community_bears),
            "prepayment": float(payment.prepayment(budget, months=p.prepayment_months)),
            "reinvested": reinvested,
            "quality_gain": p.quality_gain_per_10m_yuan * reinvested / 1e7,
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
           "adjustment": float(adjustment.sum())}
    return row, adjustment


def settle_capitation(
    budget: np.ndarray, cost: np.ndarray, tier: np.ndarray, *, surplus_retained: float, year: int
) -> tuple[list[dict], np.ndarray]:
    """Year-end outpatient capitation settlement, facility by facility (004 二(三), 002 四).

    Each facility keeps ``surplus_retained`` × (budget − fee-for-service value of its claims),
    returns the rest to the fund, and bears an overrun (``payment.capitation_settlement``).
    Returns (one row per tier, the fund's adjustment by tier = −returned).
    """
    end = payment.capitation_settlement(budget, cost, surplus_retained=surplus_retained)
    rows = [
        {"year": year, "tier": TIERS[t], "facilities": int(here.sum()),
         "budget": float(budget[here].sum()), "cost_of_services": float(cost[here].sum()),
         "facility_kept": float(end.facility_kept[here].sum()),
         "returned_to_fund": float(end.returned_to_fund[here].sum())}
        for t in np.unique(tier) for here in [tier == t]
    ]
    return rows, -np.bincount(tier, weights=end.returned_to_fund, minlength=len(TIERS))


class Settlements:
    """The fund's payments settled by period: daily capitation, and every year-end settlement.

    State:
        year_start: index into the model's day counts of the insurance year's first day.
        capitation_budget: [facility] capitation paid this year, yuan.
        capitation_cost: [facility] fee-for-service value (fund share) of capitated claims, yuan.
        community: the 医共体 budget carried from year to year, and its settlements.
        dip, capitation: rows of the year-end DIP and capitation settlements so far.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.year_start = 0
        self.capitation_budget = np.zeros(len(model.facilities))
        self.capitation_cost = np.zeros(len(model.facilities))
        self.community = CommunityBudget(model.params.community)
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

    def close_year(self, year: list, last_day: date) -> float:
        """Settle the insurance year that ended on ``last_day`` (``year``: its ``DayCounts``).

        DIP point value, capitation per facility, then the 医共体 budget against the fund's
        payments including those adjustments. Returns the grassroots quality gain bought with
        the community's reinvested surplus (0 without a global budget).
        """
        m = self.model
        fund_paid_by_tier = (sum(d.money[Payer.FUND_PAID] for d in year).sum(axis=(0, 2))
                             if year else None)
        if year and sum(d.dip_points.sum() for d in year) > 0:
            fund_paid_by_tier = fund_paid_by_tier + self._settle_dip(year, last_day)
        if self.capitation_budget.any():
            fund_paid_by_tier = fund_paid_by_tier + self._settle_capitation(last_day)
        gain = 0.0
        if year and m.config.community.global_budget.on(last_day):
            row = self.community.close_year(
                year=last_day.year, days=len(year), members=m.members,
                fund_paid_by_tier=fund_paid_by_tier,
                fund_revenue=float(sum(d.fund_revenue.sum() for d in year)),
            )
            gain = row["quality_gain"]
        return gain

    def _settle_dip(self, year: list, last_day: date) -> np.ndarray:
        """DIP year-end settlement against budget = dip_budget_per_capita × residents × days/365."""
        m = self.model
        budget = (m.config.payment.dip_budget_per_capita.on(last_day) * len(m.residents)
                  * len(year) / float(DAYS_PER_YEAR))
        row, adjustment = settle_dip(sum(d.dip_points for d in year),
                                     sum(d.dip_standard for d in year), budget=budget,
                                     year=last_day.year, days=len(year))
        self.dip.append(row)
        return adjustment

    def _settle_capitation(self, last_day: date) -> np.ndarray:
        """Capitation year-end settlement of every capitated facility; resets the year."""
        m = self.model
        paid = self.capitation_budget > 0
        rows, adjustment = settle_capitation(
            self.capitation_budget[paid], self.capitation_cost[paid], m.facilities.tier[paid],
            surplus_retained=m.config.payment.capitation_surplus_retained.value,
            year=last_day.year)
        self.capitation.extend(rows)
        self.capitation_budget[:] = 0
        self.capitation_cost[:] = 0
        return adjustment
