"""Mesa agents: facilities (a few hundred objects) and thin ``Patient`` handles into the arrays.

The daily step is vectorised over the arrays; facility agents keep their ledger (``Ledger``) and
decide once a month (``decide``, scheduled by ``flowsim.providers.Providers``) what the daily
stages read: each sets its row of the ``Decisions`` arrays by the rules of
``flowsim.providers``. Agents work with Mesa's AgentSet tools
(``model.agents_by_type[CountyHospital]``, ``.agg``, ``.groupby``).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa

from flowsim import providers as rule
from flowsim.domain import IS_IN_COUNTY, TIERS, Service, Tier
from flowsim.encounters import Total


@dataclass(frozen=True)
class Ledger:
    """A facility's money since the start of the run, yuan.

    Revenue by source: ``fund`` (what the fund paid, under the payment method; capitation
    included), ``patients`` (out-of-pocket), ``assistance`` (medical assistance) and
    ``settlements`` (year-end DIP, capitation and 医共体 settlements booked to it). ``cost``:
    the cost of the care given = cost-to-charge ratio × bills. ``capitation_used``: fee-for-service
    value (fund share) of capitated claims / capitation paid this year (0 without capitation).
    """

    fund: float
    patients: float
    assistance: float
    settlements: float
    cost: float
    capitation_used: float

    @property
    def revenue(self) -> float:
        """Fund + patients + assistance + settlements."""
        return self.fund + self.patients + self.assistance + self.settlements

    @property
    def margin(self) -> float:
        """Revenue − cost."""
        return self.revenue - self.cost


class Facility(mesa.Agent):
    """A health facility; ``row`` indexes the model's facility arrays and ``county.facilities``."""

    tier: Tier

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = row
        spec = model.county.facilities.iloc[row]
        self.facility_id: str = spec.facility_id
        self.name: str = spec["name"]
        self.township: int = int(spec.township)
        self.outpatient_slots_per_day: int = int(spec.outpatient_slots_per_day)
        self.beds: int = int(spec.beds)

    @property
    def visits(self) -> int:
        """Outpatient visits (ordinary and chronic) so far in the run."""
        return int(self.model.facilities.totals[Total.VISITS, self.row])

    @property
    def admissions(self) -> int:
        """Admissions so far in the run."""
        return int(self.model.facilities.totals[Total.ADMISSIONS, self.row])

    @property
    def fund_income(self) -> float:
        """Insurance-fund payments received so far in the run, yuan."""
        return float(self.model.facilities.totals[Total.FUND, self.row])

    @property
    def occupied_beds(self) -> int:
        """Beds occupied at the end of the last simulated day."""
        return int(self.model.facilities.beds_occupied[self.row])

    @property
    def ledger(self) -> Ledger:
        """The facility's revenue by source and cost of care so far (``Ledger``)."""
        m, r = self.model, self.row
        totals, s = m.facilities.totals[:, r], m.settlements
        cap = s.capitation_budget[r]
        return Ledger(
            fund=float(totals[Total.FUND]), patients=float(totals[Total.PATIENT]),
            assistance=float(totals[Total.ASSISTANCE]), settlements=float(s.settled[r]),
            cost=float(m.params.providers.cost_to_charge[self.tier] * totals[Total.BILL]),
            capitation_used=float(s.capitation_cost[r] / cap) if cap > 0 else 0.0)

    # -- the monthly decision (flowsim.providers) ------------------------------------------------

    @property
    def clawback(self) -> float:
        """Expected claw-back of a marginal fund yuan: the lead's, inside the 医共体; else 0."""
        return self.model.providers.outlook.clawback if IS_IN_COUNTY[self.tier] else 0.0

    def decide(self) -> None:
        """Set this facility's row of the decisions (``flowsim.providers``)."""
        self.decide_referrals()

    def decide_referrals(self) -> None:
        """Treat or refer up (outpatients): the capability, moved by the referral rule.

        threshold = capability + referral_sensitivity × Δ_treat (``providers.referral_delta``);
        with the rule off, the capability.
        """
        m, p = self.model, self.model.params.providers
        threshold = m.providers.capability(self.tier)
        if p.township_referral_rule and self.tier != Tier.OUT_OF_COUNTY:
            share = m.providers.fund_share[Service.OUTPATIENT]
            bill = m.params.facilities.outpatient_bill
            delta = rule.referral_delta(
                capitated=bool(m.rules.payment.outpatient_capitation[self.tier]),
                retained=m.rules.payment.capitation_surplus_retained,
                fund_share_here=share[self.tier],
                clawback=self.clawback, fund_share_up=share[Tier.COUNTY],
                up_bill_ratio=bill[Tier.COUNTY] / bill[self.tier])
            threshold = min(max(threshold + p.referral_sensitivity * delta, 0.0), 1.0)
        m.providers.decisions.refer_up_above[self.row] = threshold

    def decide_admissions(self) -> None:
        """Length of stay and whom to admit, for a facility with beds.

        Rule on: stay factor = exp(s × Δ_day) (``providers.day_margin`` of the tier's method
        minus fee-for-service without a budget), rehabilitation stays likewise under the rehab
        method; avoided share = clip(−s × Δ_admit). Rule off: the fixed responses (case-paid
        hospitals: ``responses.drg_stay_factor``, ``responses.case_payment_avoided_admissions``).
        """
        m, p, r = self.model, self.model.params.providers, self.model.params.responses
        d, row, tier = m.providers.decisions, self.row, self.tier
        method = m.rules.payment.inpatient_method[tier]
        case_paid = bool(m.rules.case_paid[tier])
        phi = m.providers.fund_share[Service.INPATIENT, tier]
        k = self.clawback
        c = p.cost_to_charge[tier]

        def margin(method: str, clawback: float, rate_to_bill: float = 1.0) -> float:
            return rule.day_margin(method, late_day=p.late_day_charge, cost_to_charge=c,
                                   clawback=clawback, fund_share=phi, rate_to_bill=rate_to_bill)

        reference = margin("fee_for_service", 0.0)
        if p.length_of_stay_rule:
            d.stay_factor[row] = rule.stay_factor(margin(method, k) - reference,
                                                  p.stay_sensitivity)
            f = m.params.facilities
            rehab = m.rules.payment.rehab_method
            d.rehab_stay_factor[row] = rule.stay_factor(
                margin(rehab, k, m.rules.payment.rehab_bed_day_rate / f.rehab_bed_day_bill)
                - reference, p.stay_sensitivity)
        else:
            d.stay_factor[row] = r.drg_stay_factor if case_paid else 1.0
            d.rehab_stay_factor[row] = 1.0
        if p.admission_rule:
            delta = rule.admission_delta(method, clawback=k, fund_share=phi, cost_to_charge=c,
                                         stay_factor=d.stay_factor[row])
            d.avoid_share[row] = rule.clip_share(-p.admission_sensitivity * delta)
        else:
            d.avoid_share[row] = r.case_payment_avoided_admissions if case_paid else 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, tier={TIERS[self.tier]})"


class VillageClinic(Facility):
    """村卫生室: minor illness, 两病 follow-ups; no beds. Decides whom to treat or refer up."""

    tier = Tier.VILLAGE


class TownshipHealthCenter(Facility):
    """乡镇卫生院: outpatient care, common admissions, rehabilitation after down-referral.

    Decides whom to treat or refer up, how long to keep inpatients and whom to admit.
    """

    tier = Tier.TOWNSHIP

    def decide(self) -> None:
        """Referrals, then stays and admissions."""
        self.decide_referrals()
        self.decide_admissions()


class CountyHospital(Facility):
    """县级医院: lead hospital of the county medical community (医共体).

    Decides how long to keep inpatients, whom to admit, whom to transfer out of the county and
    whom to refer down; under a global budget it holds the community's budget (``Outlook``).
    """

    tier = Tier.COUNTY

    @property
    def budget_used(self) -> tuple[float, float]:
        """(share of the 医共体 budget used, share of the year elapsed) at the last decision."""
        o = self.model.providers.outlook
        return (o.spent / o.budget if o.budget > 0 else 0.0, o.elapsed)

    def decide(self) -> None:
        """Referrals, stays and admissions, then transfers out and referrals down."""
        self.decide_referrals()
        self.decide_admissions()
        self.decide_transfers()

    def decide_transfers(self) -> None:
        """Whom to transfer out of the county, and the share referred down for rehabilitation.

        Rule on: shift = transfer_sensitivity × Δ_out (``providers.transfer_delta``): a negative
        shift keeps that share of the patients beyond capability, a positive one sends that
        share of costly patients out. Rule off: the fixed response (under a global budget keep
        ``responses.budget_keeps_transfers``, send none). Referral down: down_for_rehab × the
        fixed ``responses.budget_rehab_multiplier`` under a global budget (docs/providers.md).
        """
        m, p, r = self.model, self.model.params.providers, self.model.params.responses
        d, row = m.providers.decisions, self.row
        budget = bool(m.rules.community.global_budget)
        if p.transfer_rule:
            bill = m.params.facilities.admission_bill
            phi = m.providers.fund_share[Service.INPATIENT]
            shift = p.transfer_sensitivity * rule.transfer_delta(
                clawback=self.clawback, counted=bool(m.rules.community.count_out_of_county),
                fund_share_here=phi[Tier.COUNTY], fund_share_out=phi[Tier.OUT_OF_COUNTY],
                out_bill_ratio=bill[Tier.OUT_OF_COUNTY] / bill[Tier.COUNTY])
            d.keep_share[row] = rule.clip_share(-shift)
            d.send_out_share[row] = rule.clip_share(shift)
        else:
            d.keep_share[row] = r.budget_keeps_transfers if budget else 0.0
            d.send_out_share[row] = 0.0
        d.down_for_rehab[row] = m.rules.referral.down_for_rehab * (
            r.budget_rehab_multiplier if budget else 1.0)


class OutOfCountyHospital(Facility):
    """县域外医院: hospitals outside the county; capacity not limited.

    Decides how long to keep inpatients and whom to admit (outside any 医共体 budget).
    """

    tier = Tier.OUT_OF_COUNTY

    def decide(self) -> None:
        """Stays and admissions."""
        self.decide_admissions()


FACILITY_CLASSES: dict[Tier, type[Facility]] = {
    c.tier: c for c in (VillageClinic, TownshipHealthCenter, CountyHospital, OutOfCountyHospital)
}


class Patient(mesa.Agent):
    """A resident: holds its row in the model's resident arrays and reads its state from them."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = row

    def _get(self, name: str):
        return getattr(self.model.residents, name)[self.row]

    village = property(lambda self: int(self._get("village")), doc="village row")
    age = property(lambda self: int(self._get("age")), doc="age in years")
    scheme = property(lambda self: int(self._get("scheme")), doc="Scheme code")
    income = property(lambda self: float(self._get("income")), doc="income, yuan per year")
    poverty = property(lambda self: int(self._get("poverty")), doc="Poverty code")
    contracted = property(lambda self: bool(self._get("contracted")), doc="family-doctor contract")
    certified = property(lambda self: bool(self._get("certified")), doc="两病 certified")
    last_tier = property(lambda self: int(self._get("last_tier")), doc="tier of last encounter")
    oop_year = property(lambda self: float(self._get("oop_year")), doc="out-of-pocket this year")
    in_hospital = property(lambda self: self._get("inpatient_at") >= 0, doc="admitted now")
    discharge_day = property(lambda self: int(self._get("discharge_day")),
                             doc="day of discharge from the current stay, -1 if not admitted")
