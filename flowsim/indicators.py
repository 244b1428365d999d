"""The indicators a user measures, each defined once with its formula (README, "Indicators").

Every indicator is a function of a ``Window``: the daily counters summed over a period, plus the
period's length, the population and the insurance-year outcomes. Labels in English and Chinese
are declared here and reused by tables and reports. Per-capita flows are annualised
(× 365 / days) so that runs of different lengths compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from flowsim.domain import (
    DAYS_PER_YEAR,
    GRASSROOTS,
    IN_COUNTY,
    N_QUINTILES,
    SCHEMES,
    TIERS,
    Direction,
    Payer,
    Route,
    Scheme,
    Service,
    Tier,
)
from flowsim.labels import TEXT


@dataclass(frozen=True)
class Window:
    """Counters summed over a period, and what the indicators need beside them.

    Every counter of ``flowsim.counters.COUNTERS`` is an attribute (``w.visits``: [service, tier,
    scheme] …; ``w.occupied_beds`` summed over days are bed-days).
    """

    days: int
    residents: int
    counts: dict[str, np.ndarray]  # counter name → array summed over the window's days
    beds: np.ndarray  # [tier] beds available
    residents_by_quintile: np.ndarray  # [quintile]
    catastrophic: np.ndarray  # [quintile] residents with catastrophic spending, summed over years
    resident_years: np.ndarray  # [quintile] residents × insurance years observed
    cost_by_year: tuple[tuple[int, int, float], ...]  # (year, days observed, total bill yuan)
    settlement_fund_extra: float  # yuan the fund paid (+) or recovered (−) at year-end settlements
    settlement_by_tier: np.ndarray  # [tier] of those yuan, by the tier paid (+) or recovering (−)
    care_cost_by_tier: np.ndarray  # [tier] cost of the care given: cost-to-charge × bills, yuan
    community_fund_extra: float  # yuan the fund paid (+) or recovered (−) at 医共体 settlements
    scores: float  # sum of the assessment scores of the 医共体 settlements in the window
    scored_years: float  # 医共体 settlements in the window

    def __getattr__(self, name: str) -> np.ndarray:
        if name != "counts" and name in self.counts:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def per_year(self) -> float:
        """Annualising factor 365 / days."""
        return float(DAYS_PER_YEAR) / self.days

    @property
    def bill(self) -> np.ndarray:
        """[service, tier, scheme] bills, yuan."""
        return self.money[Payer.BILL]

    @property
    def fund(self) -> np.ndarray:
        """[service, tier, scheme] what the fund paid providers, yuan (under the payment method)."""
        return self.money[Payer.FUND_PAID]

    @property
    def fund_share_of_claims(self) -> np.ndarray:
        """[service, tier, scheme] the fund's cost-sharing share of bills, yuan."""
        return self.money[Payer.FUND]

    @property
    def assistance(self) -> np.ndarray:
        """[service, tier, scheme] medical-assistance payments, yuan."""
        return self.money[Payer.ASSISTANCE]

    @property
    def out_of_pocket(self) -> np.ndarray:
        """[service, tier, scheme] patients' out-of-pocket payments, yuan."""
        return self.money[Payer.PATIENT]


BETTER = ("higher", "lower")
"""Which way an indicator is better, when it has one."""
CONCERNS = ("patients", "fund", "goal")
"""For whom the direction holds: patients, the insurance fund, or the 分级诊疗 goal the seed
documents set (grassroots and in-county shares)."""


@dataclass(frozen=True)
class Indicator:
    """One named indicator: labels, unit and the function computing it from a ``Window``.

    ``better`` ("higher" | "lower" | None) is the direction that is better for ``concerns``
    ("patients" | "fund" | "goal"); the report's decision summary reads both.
    """

    name: str
    label_en: str
    label_zh: str
    unit: str
    compute: Callable[[Window], float]
    better: str | None = None
    concerns: str | None = None

    def verdict(self, change: float) -> str | None:
        """"better" or "worse" for a change of ``change`` (None: no direction, or no change)."""
        if self.better is None or not change or change != change:
            return None
        return "better" if (change > 0) == (self.better == "higher") else "worse"

    @property
    def formula(self) -> str:
        """The defining formula (the compute function's docstring)."""
        return (self.compute.__doc__ or "").strip()

    def label(self, lang: str) -> str:
        """The label in ``lang``: "zh" (as in the seed documents) or "en"."""
        return self.label_zh if lang == "zh" else self.label_en


INDICATORS: dict[str, Indicator] = {}


def _indicator(name: str, label_en: str, label_zh: str, unit: str, *,
               better: str | None = None, concerns: str | None = None):
    if (better is None) != (concerns is None) or better not in (None, *BETTER) or (
            concerns not in (None, *CONCERNS)):
        raise ValueError(f"{name}: better in {BETTER} and concerns in {CONCERNS}, or neither")

    def register(fn: Callable[[Window], float]) -> Callable[[Window], float]:
        INDICATORS[name] = Indicator(name, label_en, label_zh, unit, fn, better, concerns)
        return fn

    return register


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


@_indicator("grassroots_visit_share", "grassroots visit share", "基层就诊率", "fraction",
            better="higher", concerns="goal")
def grassroots_visit_share(w: Window) -> float:
    """Outpatient visits at village clinics and township centres / all outpatient visits."""
    return _ratio(w.visits[:, GRASSROOTS].sum(), w.visits.sum())


@_indicator("first_contact_share", "first-contact rate at the grassroots", "基层首诊率", "fraction",
            better="higher", concerns="goal")
def first_contact_share(w: Window) -> float:
    """Episodes first seen at a village clinic or township centre / episodes that sought care.

    Episodes that sought care: minor episodes seen by a facility, serious episodes admitted; a
    grassroots referral visit is the first contact of the care it refers to.
    """
    return _ratio(w.first_contact[GRASSROOTS].sum(), w.first_contact.sum())


@_indicator("gatekeeping_referrals_per_1000", "grassroots referral visits per 1,000",
            "基层首诊转诊人次（每千人）", "per 1,000 person-years")
def gatekeeping_referrals_per_1000(w: Window) -> float:
    """Grassroots referral visits / residents × 1,000 × 365 / days.

    A referral visit is made to reach a tier that is penalised without a referral (基层首诊).
    """
    return _ratio(w.gatekeeping_referrals.sum() * 1000, w.residents) * w.per_year


@_indicator("bypass_share", "care at gatekept tiers without a referral", "未经转诊越级就诊比例",
            "fraction", better="lower", concerns="goal")
def bypass_share(w: Window) -> float:
    """Unreferred care at gatekept tiers / (that + grassroots referral visits).

    Unreferred care: non-emergency visits and admissions at a tier penalised without a referral,
    made without one. NaN without a gatekeeping penalty.
    """
    return _ratio(w.bypass.sum(), w.bypass.sum() + w.gatekeeping_referrals.sum())


@_indicator("in_county_visit_rate", "in-county visit rate", "县域内就诊率（门诊）", "fraction",
            better="higher", concerns="goal")
def in_county_visit_rate(w: Window) -> float:
    """Outpatient visits inside the county / all outpatient visits."""
    return _ratio(w.visits[:, IN_COUNTY].sum(), w.visits.sum())


@_indicator("in_county_admission_rate", "in-county admission rate", "县域内住院率", "fraction",
            better="higher", concerns="goal")
def in_county_admission_rate(w: Window) -> float:
    """Admissions inside the county / all admissions."""
    return _ratio(w.admissions[IN_COUNTY].sum(), w.admissions.sum())


@_indicator("grassroots_admission_share", "grassroots admission share", "基层住院占比", "fraction",
            better="higher", concerns="goal")
def grassroots_admission_share(w: Window) -> float:
    """Admissions at township centres (village clinics have no beds) / all admissions."""
    return _ratio(w.admissions[GRASSROOTS].sum(), w.admissions.sum())


@_indicator(
    "in_county_fund_share", "in-county share of fund spending", "县域内基金支出比例", "fraction",
    better="higher", concerns="goal")
def in_county_fund_share(w: Window) -> float:
    """Fund payments to in-county facilities / all fund payments (鲁医保发〔2024〕39号 二(四))."""
    return _ratio(w.fund[:, IN_COUNTY].sum(), w.fund.sum())


@_indicator(
    "grassroots_fund_share",
    "grassroots share of in-county fund spending",
    "县域内基层医疗卫生机构医保基金支出占比",
    "fraction", better="higher", concerns="goal")
def grassroots_fund_share(w: Window) -> float:
    """Fund payments to village clinics and township centres / fund payments inside the county."""
    return _ratio(w.fund[:, GRASSROOTS].sum(), w.fund[:, IN_COUNTY].sum())


@_indicator(
    "effective_reimbursement_ratio", "effective reimbursement ratio", "实际报销比例", "fraction",
    better="higher", concerns="patients")
def effective_reimbursement_ratio(w: Window) -> float:
    """Fund's cost-sharing share of bills / total bills (in- and out-of-catalogue).

    What patients see reimbursed, whatever the provider payment method.
    """
    return _ratio(w.fund_share_of_claims.sum(), w.bill.sum())


@_indicator(
    "medical_cost_per_capita", "medical cost per capita", "人均医疗费用", "yuan per person-year"
)
def medical_cost_per_capita(w: Window) -> float:
    """Total bills / residents × 365 / days."""
    return _ratio(w.bill.sum(), w.residents) * w.per_year


@_indicator("medical_cost_growth", "medical cost growth", "医疗费用增长率", "fraction per year")
def medical_cost_growth(w: Window) -> float:
    """Cost per day of the last insurance year / that of the year before − 1.

    Needs two consecutive years of at least 360 observed days each; otherwise NaN.
    """
    full = [(y, total / days) for y, days, total in w.cost_by_year if days >= 360]
    if len(full) < 2 or full[-1][0] != full[-2][0] + 1:
        return float("nan")
    return full[-1][1] / full[-2][1] - 1


@_indicator("fund_per_capita", "fund spending per capita", "人均基金支出", "yuan per person-year",
            better="lower", concerns="fund")
def fund_per_capita(w: Window) -> float:
    """Fund payments / residents × 365 / days."""
    return _ratio(w.fund.sum(), w.residents) * w.per_year


@_indicator("fund_revenue_per_capita", "fund revenue per capita", "人均基金收入",
            "yuan per person-year")
def fund_revenue_per_capita(w: Window) -> float:
    """Contributions accrued to the fund / residents × 365 / days."""
    return _ratio(w.fund_revenue.sum(), w.residents) * w.per_year


@_indicator("fund_balance_per_capita", "fund balance per capita", "人均基金结余",
            "yuan per person-year", better="higher", concerns="fund")
def fund_balance_per_capita(w: Window) -> float:
    """(Contributions − payments to providers − 医共体 settlements) / residents × 365 / days."""
    spending = w.fund.sum() + w.settlement_fund_extra
    return _ratio(w.fund_revenue.sum() - spending, w.residents) * w.per_year


@_indicator("provider_revenue_to_bill", "provider revenue / bills", "医疗机构收入与费用之比",
            "ratio")
def provider_revenue_to_bill(w: Window) -> float:
    """(Fund payments + 医共体 settlement + assistance + out-of-pocket) / bills; 1 under FFS."""
    revenue = w.fund.sum() + w.settlement_fund_extra + w.assistance.sum() + w.out_of_pocket.sum()
    return _ratio(revenue, w.bill.sum())


@_indicator("oop_per_capita", "out-of-pocket per capita", "人均自付费用", "yuan per person-year",
            better="lower", concerns="patients")
def oop_per_capita(w: Window) -> float:
    """Patients' out-of-pocket payments / residents × 365 / days."""
    return _ratio(w.out_of_pocket.sum(), w.residents) * w.per_year


@_indicator(
    "assistance_per_capita", "medical assistance per capita", "人均医疗救助", "yuan per person-year"
)
def assistance_per_capita(w: Window) -> float:
    """Medical-assistance payments / residents × 365 / days."""
    return _ratio(w.assistance.sum(), w.residents) * w.per_year


@_indicator(
    "catastrophic_incidence",
    "catastrophic health expenditure incidence",
    "灾难性卫生支出发生率",
    "fraction of residents per year", better="lower", concerns="patients")
def catastrophic_incidence(w: Window) -> float:
    """Residents whose out-of-pocket in an insurance year ≥ 40 % of capacity to pay / residents.

    Capacity to pay = income × (1 − subsistence_share). Averaged over the insurance years of the
    run; a year cut short by the end of the run counts spending up to that day (a lower bound).
    """
    return _ratio(w.catastrophic.sum(), w.resident_years.sum())


@_indicator(
    "visits_per_capita", "outpatient visits per capita", "人均门诊人次", "visits per person-year"
)
def visits_per_capita(w: Window) -> float:
    """Outpatient visits (ordinary and chronic) / residents × 365 / days."""
    return _ratio(w.visits.sum(), w.residents) * w.per_year


@_indicator(
    "admissions_per_capita", "admissions per capita", "人均住院人次", "admissions per person-year"
)
def admissions_per_capita(w: Window) -> float:
    """Inpatient stays begun (new, transfers, rehabilitation) / residents × 365 / days."""
    return _ratio(w.admissions.sum(), w.residents) * w.per_year


@_indicator("ordinary_visits_per_capita", "ordinary outpatient visits per capita",
            "人均普通门诊人次", "visits per person-year")
def ordinary_visits_per_capita(w: Window) -> float:
    """Ordinary (acute) outpatient visits / residents × 365 / days; 两病 follow-ups excluded."""
    return _ratio(w.visits[Service.OUTPATIENT].sum(), w.residents) * w.per_year


@_indicator("chronic_visits_per_capita", "两病 follow-up visits per capita", "人均两病随访人次",
            "visits per person-year")
def chronic_visits_per_capita(w: Window) -> float:
    """两病 (hypertension, diabetes) follow-up visits / residents × 365 / days.

    One visit per prescription: longer prescriptions (长处方) mean fewer visits for the same care.
    """
    return _ratio(w.visits[Service.CHRONIC].sum(), w.residents) * w.per_year


@_indicator("episodes_treated_per_capita", "illness episodes treated per capita",
            "人均就医病例数", "episodes per person-year")
def episodes_treated_per_capita(w: Window) -> float:
    """Acute episodes that got care / residents × 365 / days.

    (Minor episodes − those without care + serious episodes − those not admitted); unlike visits,
    it does not move with how many visits an episode or a prescription takes.
    """
    treated = (w.minor_episodes.sum() - w.no_care.sum() + w.serious_episodes.sum()
               - w.admissions_forgone.sum())
    return _ratio(treated, w.residents) * w.per_year


@_indicator("new_admissions_per_capita", "new admissions per capita", "人均新入院人次",
            "admissions per person-year")
def new_admissions_per_capita(w: Window) -> float:
    """New admissions (no transfers, no rehabilitation stays) / residents × 365 / days."""
    return _ratio(w.stays_by_route[Route.NEW].sum(), w.residents) * w.per_year


@_indicator("transfers_out_per_1000", "transfers out of the county per 1,000",
            "转往县域外住院（每千人）", "per 1,000 person-years")
def transfers_out_per_1000(w: Window) -> float:
    """Inpatient transfers (上转) admitted outside the county / residents × 1,000 × 365 / days."""
    return _ratio(w.stays_by_route[Route.TRANSFER, Tier.OUT_OF_COUNTY] * 1000,
                  w.residents) * w.per_year


@_indicator("assessment_score", "医共体 assessment score", "医共体考核得分", "score (0–1)")
def assessment_score(w: Window) -> float:
    """Mean score of the 医共体 performance assessments settled in the window (001 二(四)).

    Weighted mean of the marks of cost growth, reimbursement ratio, grassroots visit share,
    in-county fund share and grassroots fund share; NaN without a settlement.
    """
    return _ratio(w.scores, w.scored_years)


@_indicator("community_settlement_per_capita", "医共体 settlement payment per capita",
            "医共体年终清算（人均）", "yuan per person-year")
def community_settlement_per_capita(w: Window) -> float:
    """Fund's year-end 医共体 payment (surplus kept − overrun borne) / residents × 365 / days."""
    return _ratio(w.community_fund_extra, w.residents) * w.per_year


@_indicator("admissions_avoided_per_1000", "admissions avoided by case payment per 1,000",
            "按病种付费减少住院（每千人）", "per 1,000 person-years")
def admissions_avoided_per_1000(w: Window) -> float:
    """Serious episodes treated as outpatients by case-paid hospitals per 1,000 person-years.

    Count / residents × 1,000 × 365 / days (``responses.case_payment_avoided_admissions``).
    """
    return _ratio(w.admissions_avoided.sum() * 1000, w.residents) * w.per_year


@_indicator("no_care_share", "minor episodes without care", "未就诊比例", "fraction",
            better="lower", concerns="patients")
def no_care_share(w: Window) -> float:
    """Minor episodes for which no care was sought / all new minor episodes."""
    return _ratio(w.no_care.sum(), w.minor_episodes.sum())


@_indicator("forgone_admission_share", "serious episodes not admitted", "应住院未住院比例",
            "fraction", better="lower", concerns="patients")
def forgone_admission_share(w: Window) -> float:
    """Serious episodes whose patient chose not to be admitted / all new serious episodes."""
    return _ratio(w.admissions_forgone.sum(), w.serious_episodes.sum())


@_indicator(
    "referrals_up_per_1000",
    "upward referrals per 1,000 residents",
    "上转人次（每千人）",
    "per 1,000 person-years",
)
def referrals_up_per_1000(w: Window) -> float:
    """Upward referrals (outpatient and inpatient transfers) / residents × 1,000 × 365 / days."""
    return _ratio(w.referrals[Direction.UP].sum() * 1000, w.residents) * w.per_year


@_indicator(
    "referrals_down_per_1000",
    "downward referrals per 1,000 residents",
    "下转人次（每千人）",
    "per 1,000 person-years",
)
def referrals_down_per_1000(w: Window) -> float:
    """Downward referrals for rehabilitation / residents × 1,000 × 365 / days."""
    return _ratio(w.referrals[Direction.DOWN].sum() * 1000, w.residents) * w.per_year


@_indicator(
    "turned_away_per_1000",
    "patients turned away by full facilities per 1,000",
    "因满员转他处（每千人）",
    "per 1,000 person-years",
)
def turned_away_per_1000(w: Window) -> float:
    """Patients who found a facility full and chose again / residents × 1,000 × 365 / days."""
    return _ratio(w.turned_away.sum() * 1000, w.residents) * w.per_year


def _add_breakdowns() -> None:
    """Indicators by income quintile, tier and scheme (generated, one formula each)."""
    for q in range(N_QUINTILES):

        def oop_q(w: Window, q=q) -> float:
            """Out-of-pocket of the quintile / its residents × 365 / days (quintile 1 = poorest)."""
            return _ratio(w.oop_by_quintile[q], w.residents_by_quintile[q]) * w.per_year

        def cat_q(w: Window, q=q) -> float:
            """Catastrophic expenditure incidence within the income quintile."""
            return _ratio(w.catastrophic[q], w.resident_years[q])

        _indicator(
            f"oop_per_capita_q{q + 1}",
            f"out-of-pocket per capita, income quintile {q + 1}",
            f"人均自付费用（收入第{q + 1}五分位）",
            "yuan per person-year",
        )(oop_q)
        _indicator(
            f"catastrophic_incidence_q{q + 1}",
            f"catastrophic expenditure incidence, income quintile {q + 1}",
            f"灾难性卫生支出发生率（收入第{q + 1}五分位）",
            "fraction of residents per year",
        )(cat_q)
    for t in Tier:
        en, zh = TEXT[f"tier.{TIERS[t]}"]

        def fund_t(w: Window, t=t) -> float:
            """Fund payments to the tier's facilities × 365 / days."""
            return float(w.fund[:, t].sum()) * w.per_year

        def visit_share_t(w: Window, t=t) -> float:
            """Outpatient visits at the tier / all outpatient visits."""
            return _ratio(w.visits[:, t].sum(), w.visits.sum())

        def admission_share_t(w: Window, t=t) -> float:
            """Admissions at the tier / all admissions."""
            return _ratio(w.admissions[t].sum(), w.admissions.sum())

        _indicator(f"fund_{TIERS[t]}", f"fund spending: {en}", f"基金支出：{zh}", "yuan per year")(
            fund_t
        )

        def margin_t(w: Window, t=t) -> float:
            """(Revenue − cost of care) / revenue of the tier's facilities.

            Revenue = fund payments + assistance + out-of-pocket + year-end settlements to the
            tier; cost = cost-to-charge ratio × bills (``providers.cost_to_charge``).
            """
            revenue = (w.fund[:, t].sum() + w.assistance[:, t].sum()
                       + w.out_of_pocket[:, t].sum() + w.settlement_by_tier[t])
            return _ratio(revenue - w.care_cost_by_tier[t], revenue)

        _indicator(f"provider_margin_{TIERS[t]}", f"provider margin: {en}",
                   f"医疗机构收支结余率：{zh}", "fraction of revenue")(margin_t)
        _indicator(
            f"visit_share_{TIERS[t]}", f"visit share: {en}", f"门诊人次占比：{zh}", "fraction"
        )(visit_share_t)
        _indicator(
            f"admission_share_{TIERS[t]}",
            f"admission share: {en}",
            f"住院人次占比：{zh}",
            "fraction",
        )(admission_share_t)
        if t in (Tier.TOWNSHIP, Tier.COUNTY):

            def occupancy_t(w: Window, t=t) -> float:
                """Occupied bed-days / (beds × days)."""
                return _ratio(w.occupied_beds[t], w.beds[t] * w.days)

            _indicator(
                f"bed_occupancy_{TIERS[t]}", f"bed occupancy: {en}", f"病床使用率：{zh}", "fraction"
            )(occupancy_t)
    for k in Scheme:
        en, zh = TEXT[f"scheme.{SCHEMES[k]}"]

        def fund_k(w: Window, k=k) -> float:
            """Fund payments for the scheme's members × 365 / days."""
            return float(w.fund[..., k].sum()) * w.per_year

        _indicator(
            f"fund_{SCHEMES[k]}", f"fund spending: {en}", f"基金支出：{zh}", "yuan per year"
        )(fund_k)


_add_breakdowns()

HEADLINE = (
    "grassroots_visit_share",
    "first_contact_share",
    "in_county_visit_rate",
    "in_county_admission_rate",
    "grassroots_admission_share",
    "in_county_fund_share",
    "grassroots_fund_share",
    "effective_reimbursement_ratio",
    "medical_cost_per_capita",
    "medical_cost_growth",
    "oop_per_capita",
    "catastrophic_incidence",
    "no_care_share",
    "forgone_admission_share",
    "visits_per_capita",
    "admissions_per_capita",
    "new_admissions_per_capita",
    "referrals_up_per_1000",
    "transfers_out_per_1000",
    "referrals_down_per_1000",
    "bed_occupancy_township",
    "bed_occupancy_county",
    "provider_margin_township",
    "provider_margin_county",
    "assessment_score",
    "community_settlement_per_capita",
)
"""Indicators printed by ``flowsim run``; the rest are in the saved summary."""


CODEBOOK = "codebook.csv"
"""File name of the codebook written with every results folder."""


def codebook() -> list[dict[str, str]]:
    """Every indicator: name, labels, unit, which way is better and for whom, and its formula."""
    return [{"indicator": ind.name, "label_en": ind.label_en, "label_zh": ind.label_zh,
             "unit": ind.unit, "better": ind.better or "", "concerns": ind.concerns or "",
             "formula": " ".join(ind.formula.split())} for ind in INDICATORS.values()]


def compute(window: Window) -> dict[str, float]:
    """Every indicator of the window, by name."""
    return {name: ind.compute(window) for name, ind in INDICATORS.items()}
