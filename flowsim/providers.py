"""Facilities that decide: the rules by which providers respond to how they are paid.

Each facility agent (``flowsim.agents``) decides once a month, at the start of the month, five
things that the daily stages read from per-facility arrays (``Decisions``): how long to keep
inpatients (a stay factor), whom to admit (the share of low-severity serious episodes treated as
outpatients instead), whom to transfer out of the county (the lead hospital keeps some patients
beyond its capability, or sends out costly patients it could treat), whom to refer down for
rehabilitation, and, for grassroots facilities, whom to treat and whom to refer up (a severity
threshold).

Every rule has the same form (docs/providers.md): a decision starts from its professional norm,
the choice made for the patient's benefit when a case earns the facility its fee-for-service
margin and nothing else, and moves away from it in proportion to Δ, the facility's marginal net
revenue of the action relative to that reference, in units of the mean bill:

    stay factor = exp(stay_sensitivity × Δ_day)
    share       = clip(norm + sensitivity × Δ, 0, 1)
    threshold   = capability + referral_sensitivity × Δ_treat

so under fee-for-service without a budget Δ = 0 and today's behaviour is the reference. Net
revenue counts the cost of care (cost-to-charge ratio × bill) and, inside a 医共体 global budget,
the expected claw-back ``k`` of each marginal yuan the fund pays (``expected_clawback``): the
share of it that the year-end settlement takes back from the community, weighted by loss
aversion where it deepens an overrun. The rule functions are pure (numbers in, numbers out);
``Providers`` runs them once a month through the facility agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
from mesa.time import Priority, Schedule

from flowsim.domain import DAYS_PER_YEAR, IS_GRASSROOTS, SERVICES, Payer, Service, Tier


@dataclass
class Decisions:
    """What each facility has decided, read by the daily stages; one value per facility row.

    stay_factor: multiplier on acute lengths of stay; rehab_stay_factor: on rehabilitation stays.
    keep_share: share of would-be out-of-county transfers the (county) hospital keeps.
    send_out_share: share of its costly patients (severity ≥ ``costly_severity``) that a hospital
        able to treat them transfers out of the county.
    avoid_share: share of non-emergency serious episodes below ``case_payment_outpatient_below``
        severity treated as outpatients instead of admitted.
    down_for_rehab: probability that a (county) discharge is referred down for rehabilitation.
    refer_up_above: outpatient severity above which the facility refers the patient up.
    inpatient_capability: highest inpatient severity the facility treats (transfers up above).
    """

    stay_factor: np.ndarray
    rehab_stay_factor: np.ndarray
    keep_share: np.ndarray
    send_out_share: np.ndarray
    avoid_share: np.ndarray
    down_for_rehab: np.ndarray
    refer_up_above: np.ndarray
    inpatient_capability: np.ndarray

    @classmethod
    def start(cls, tier: np.ndarray, outpatient_capability: np.ndarray,
              inpatient_capability: np.ndarray) -> Decisions:
        """Every facility at its tier's capability, every response at its reference."""
        n = len(tier)
        return cls(np.ones(n), np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n),
                   outpatient_capability[tier].astype(float),
                   inpatient_capability[tier].astype(float))


@dataclass(frozen=True)
class Outlook:
    """The lead hospital's view of the 医共体 budget year, formed at a monthly decision.

    budget: full-year budget expected, yuan; spent: fund spending counted against it so far;
    elapsed: fraction of the year gone; position: projected year-end spending / budget;
    score: expected assessment score (0–1; 1 without an assessment); clawback: ``k``.
    """

    budget: float
    spent: float
    elapsed: float
    position: float
    score: float
    clawback: float

    @classmethod
    def none(cls) -> Outlook:
        """No global budget: nothing is clawed back."""
        return cls(0.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def projected_position(spent: float, budget: float, elapsed: float, prior: float) -> float:
    """Projected year-end spending / budget.

    position = elapsed × (spent / elapsed) / budget + (1 − elapsed) × prior: this year's pace,
    weighted by the share of the year observed, and last year's final position (``prior``; 1
    without one) for the rest.
    """
    if budget <= 0:
        return prior
    pace = spent / (elapsed * budget) if elapsed > 0 else prior
    return elapsed * pace + (1.0 - elapsed) * prior


def expected_clawback(
    position: float,
    elapsed: float,
    *,
    sd: float,
    retained: float,
    overrun_fund_share: float,
    limit: float,
    loss_aversion: float,
) -> float:
    """Expected share of a marginal fund yuan the year-end settlement takes from the community.

    The year-end position is Normal(position, (sd × √(1 − elapsed))²), sd ≥ 0.005. Below the
    budget a yuan spent is a yuan less of surplus, of which the community keeps ``retained``;
    within the reasonable overrun (up to 1 + ``limit``) it bears 1 − ``overrun_fund_share``;
    beyond, all of it; losses weigh ``loss_aversion`` times as much as forgone surplus
    (Tversky & Kahneman 1992):

    k = P(below) × retained + P(reasonable) × λ × (1 − overrun_fund_share) + P(beyond) × λ.
    """
    spread = max(sd * math.sqrt(max(1.0 - elapsed, 0.0)), 0.005)
    below = _normal_cdf((1.0 - position) / spread)
    beyond = 1.0 - _normal_cdf((1.0 + limit - position) / spread)
    reasonable = max(1.0 - below - beyond, 0.0)
    return (below * retained + reasonable * loss_aversion * (1.0 - overrun_fund_share)
            + beyond * loss_aversion)


def day_margin(method: str, *, late_day: float, cost_to_charge: float, clawback: float,
               fund_share: float, rate_to_bill: float = 1.0) -> float:
    """Net revenue of one more bed day, in units of the stay's mean daily bill.

    A late day charges ``late_day`` (λ) of the mean day and costs ``cost_to_charge`` (c) of
    what it charges. Fee-for-service: λ(1 − c) − k × φ × λ (φ: the fund's share of the bill);
    case payment (DRG/DIP): −cλ (the standard does not grow with the stay); bed-day: the rate
    per day (``rate_to_bill`` of the mean day) − cλ − k × φ × rate.
    """
    cost = cost_to_charge * late_day
    if method in ("drg", "dip"):
        return -cost
    if method == "bed_day":
        return rate_to_bill - cost - clawback * fund_share * rate_to_bill
    return late_day - cost - clawback * fund_share * late_day


def stay_factor(delta_day: float, sensitivity: float) -> float:
    """exp(sensitivity × Δ_day), within [0.5, 2]: stays shorten when a day loses money."""
    return float(np.clip(math.exp(sensitivity * delta_day), 0.5, 2.0))


def transfer_delta(*, clawback: float, counted: bool, fund_share_here: float,
                   fund_share_out: float, out_bill_ratio: float) -> float:
    """Net revenue of sending a patient out rather than treating them, minus the reference.

    Per unit of the patient's bill here; the reference is fee-for-service without a budget.
    Treating earns the margin less k × φ_here; sending out costs the community k × φ_out × the
    out-of-county bill (``out_bill_ratio`` × this one) if out-of-county spending counts against
    the budget. Δ = k × φ_here − k_out × φ_out × ratio, k_out = k if counted else 0.
    """
    return clawback * fund_share_here - (clawback if counted else 0.0) * fund_share_out * (
        out_bill_ratio)


def admission_delta(method: str, *, clawback: float, fund_share: float, cost_to_charge: float,
                    stay_factor: float) -> float:
    """Net revenue of admitting a low-severity patient minus the reference, per unit of bill.

    Fee-for-service: −k × φ (the margin 1 − c is the reference); case payment: the standard
    (≈ the bill at the reference stay) less the cost of the stay actually given,
    c × (1 − stay factor).
    """
    if method in ("drg", "dip"):
        return cost_to_charge * (1.0 - stay_factor)
    return -clawback * fund_share


def referral_delta(*, capitated: bool, retained: float, fund_share_here: float,
                   clawback: float, fund_share_up: float, up_bill_ratio: float) -> float:
    """Net revenue of treating an outpatient rather than referring up, minus the reference.

    Under capitation the fund's share of a treated visit counts against the capitation budget,
    of which the facility keeps ``retained`` of a surplus: −r × φ_here. Inside a 医共体 budget the
    referral costs the community k × φ_up × the higher tier's bill (``up_bill_ratio`` × this one).
    """
    return (-retained * fund_share_here if capitated else 0.0) + (
        clawback * fund_share_up * up_bill_ratio)


def clip_share(value: float) -> float:
    """A share within [0, 1]."""
    return float(min(max(value, 0.0), 1.0))



# -- the monthly decision ------------------------------------------------------------------------


class Providers:
    """The facilities' decisions: what they decided, and the month's shared view they decide on.

    Once a month (``schedule``, Mesa's recurring events), the lead hospital forms its view of the
    budget year (``Outlook``), then every facility agent runs ``decide()``: county hospitals
    first (the 医共体 lead), then township centres, village clinics and out-of-county hospitals.
    Rules that are switched off (``providers.*_rule``) give the fixed responses of ``responses``.

    State:
        decisions: ``Decisions`` of every facility.
        outlook: the lead hospital's ``Outlook`` this month.
        fund_share: [service, tier] the fund's share of bills this insurance year (φ).
        capability_gain: severity points grassroots capability has gained from reinvestment.
        prior_position: last settled year's spending / budget (1 before any).
        prior_score: last settled year's assessment score (1 before any).
        log: the lead hospital's decisions, one row per month.
    """

    def __init__(self, model) -> None:
        self.model = model
        f = model.params.facilities
        self.decisions = Decisions.start(model.facilities.tier, f.outpatient_capability,
                                         f.inpatient_capability)
        self.outlook = Outlook.none()
        self.fund_share = np.zeros((len(Service), len(Tier)))
        self.capability_gain = 0.0
        self.prior_position = 1.0
        self.prior_score = 1.0
        self.log: list[dict] = []

    def schedule(self) -> None:
        """Decide now, at every month start, and on every other date new rules take effect.

        Decisions come after the rules and any year-end settlement of the same day.
        """
        m = self.model
        self.decide()
        m.schedule_recurring(self.decide, Schedule(interval=_days_to_next_month,
                                                   start=m.time + _days_to_next_month(m)),
                             priority=Priority.LOW)
        for day in m.config.change_dates():
            if day.day != 1:
                m.schedule_event(self.decide, at=(day - m.start_date).days, priority=Priority.LOW)

    def decide(self) -> None:
        """The month's decisions of every facility agent, the lead hospital first."""
        m = self.model
        year = m.day_counts[m.settlements.year_start:]
        money = sum(d.money for d in year) if year else None
        if money is not None or not self.fund_share.any():  # a new year keeps last month's
            self.fund_share = _fund_shares(money, m.rules)
        self.outlook = self._outlook(year, money)
        for agent in m.facilities.agents_in_decision_order():
            agent.decide()
        lead = m.facilities.tier == Tier.COUNTY
        d, o = self.decisions, self.outlook
        self.log.append({
            "date": m.date, "budget": o.budget, "spent": o.spent, "elapsed": o.elapsed,
            "position": o.position, "expected_score": o.score, "clawback": o.clawback,
            "stay_factor": float(d.stay_factor[lead].mean()),
            "keep_share": float(d.keep_share[lead].mean()),
            "send_out_share": float(d.send_out_share[lead].mean()),
            "avoid_share": float(d.avoid_share[lead].mean()),
            "down_for_rehab": float(d.down_for_rehab[lead].mean()),
            "township_refer_up_above": float(
                d.refer_up_above[m.facilities.tier == Tier.TOWNSHIP].mean()),
        })

    def _outlook(self, year: list, money: np.ndarray | None) -> Outlook:
        m = self.model
        c = m.rules.community
        if not c.global_budget:
            return Outlook.none()
        p = m.params.providers
        first = date(m.date.year, 1, 1)
        elapsed = len(year) / (date(first.year + 1, 1, 1) - first).days
        if money is not None:
            fund = money[Payer.FUND_PAID].sum(axis=(0, 2))
            spent = float(fund[: Tier.OUT_OF_COUNTY].sum()
                          + (fund[Tier.OUT_OF_COUNTY] if c.count_out_of_county else 0.0))
            revenue = float(sum(d.fund_revenue.sum() for d in year)) / len(year)
        else:
            spent, revenue = 0.0, float((m.rules.fund.contribution * m.members).sum()
                                        / DAYS_PER_YEAR)
        budget = m.settlements.community.full_year_budget(c.per_capita_standard, m.members,
                                                          revenue)
        position = projected_position(spent, budget, elapsed, self.prior_position)
        score = m.settlements.assessment(year, c) if year else self.prior_score
        clawback = expected_clawback(
            position, elapsed, sd=p.projection_sd, retained=c.surplus_retained_share * score,
            overrun_fund_share=c.overrun_fund_share * score, limit=c.reasonable_overrun_limit,
            loss_aversion=p.loss_aversion)
        return Outlook(budget, spent, elapsed, position, score, clawback)

    def settled(self, row: dict) -> None:
        """After a 医共体 settlement: its position and score; reinvestment raises capability.

        Grassroots inpatient capability and the outpatient threshold rise by the row's
        ``capability_gain`` (severity points, at most 1).
        """
        self.prior_position = row["spent"] / row["budget"] if row["budget"] > 0 else 1.0
        self.prior_score = row["score"]
        gain = row["capability_gain"]
        if gain > 0:
            self.capability_gain += gain
            d, township = self.decisions, self.model.facilities.tier == Tier.TOWNSHIP
            d.inpatient_capability[township] = np.minimum(
                1.0, d.inpatient_capability[township] + gain)

    def capability(self, tier: Tier) -> float:
        """Outpatient capability of a facility of ``tier``: the tier's, plus reinvested gains."""
        base = float(self.model.params.facilities.outpatient_capability[tier])
        return min(1.0, base + (self.capability_gain if IS_GRASSROOTS[tier] else 0.0))


def _days_to_next_month(model) -> int:
    """Days from the model's date to the first day of the next calendar month."""
    today = model.date
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return (first - today).days


def _fund_shares(money: np.ndarray | None, rules) -> np.ndarray:
    """[service, tier] the fund's cost-sharing share of bills so far this year (φ).

    Before any bill of a service at a tier: the resident scheme's rate there.
    """
    rate = np.array([getattr(rules.benefits.resident, s).rate for s in SERVICES], float)
    if money is None:
        return rate
    bill = money[Payer.BILL].sum(axis=2)
    return np.divide(money[Payer.FUND].sum(axis=2), bill, out=rate, where=bill > 0)
