"""County medical community (医共体) global budget: the yearly budget and its settlement.

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
from types import SimpleNamespace

import numpy as np

from flowsim import payment
from flowsim.domain import Tier

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
        budget = full_year * days / 365.0
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
