"""Seed-document scenarios (configs/scenarios): they load, run, cite and keep the seeds' numbers.

Patient side (benefits, assistance, referral) and provider side (payment, community); the provider
responses (responses.*) are assumptions and stay at the baseline in every file.
"""

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

import flowsim
from flowsim.config import iter_params
from flowsim.domain import Scheme, Service, Tier
from flowsim.policy import rules_on

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "configs" / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
LEVER_SCENARIOS = {"gatekeeping"}
"""Scenarios of one lever, with assumed values: not seed documents."""
SEED_FILES = [f for f in FILES if f.stem not in LEVER_SCENARIOS]
SMALL = {
    "county.synthetic.population.value": 20000,
    "county.synthetic.villages.value": 40,
    "county.synthetic.townships.value": 4,
}
# Indicators that need more than 30 days (cost growth compares with a previous year, the
# assessment scores a settled year), or a lever the scenario may not use (the share of gatekept
# care without a referral).
UNDEFINED_IN_30_DAYS = {"medical_cost_growth", "bypass_share", "assessment_score"}
# Each file's name must appear in its description (the document number, or the seed's name).
DOCUMENT = {
    "quzhou_2024_draft": "衢州",
    "shandong_2024_39": "鲁医保发〔2024〕39号",
    "jining_2023_5": "济医保发〔2023〕5号",
    "weihai_2023": "2023-06-07",
    "ningxia_2023_103": "宁医保发〔2023〕103号",
    "combined": "宁医保发〔2023〕103号",
}

R, E = Scheme.RESIDENT, Scheme.EMPLOYEE
OUT, CHRONIC, INP = Service.OUTPATIENT, Service.CHRONIC, Service.INPATIENT
V, T, C, X = Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY, Tier.OUT_OF_COUNTY
HOSPITAL_TIERS = [T, C, X]  # tiers with beds (village clinics have none)
SAME_PRICE_GROUPS = 4  # reading taken for every document's same-price list: 4 of the 20 groups


def scenario(stem: str) -> flowsim.Scenario:
    return flowsim.load_scenario(SCENARIOS / f"{stem}.yaml")


def methods(s: flowsim.Scenario, day: date) -> list[str]:
    """Inpatient payment method by tier on ``day``."""
    return list(s.payment.inpatient_method.on(day))


def rate(s: flowsim.Scenario, scheme: Scheme, service: Service, day: date) -> np.ndarray:
    """Rates by tier on ``day``."""
    b = getattr(s.benefits, scheme.name.lower())
    return getattr(b, service.name.lower()).rate.on(day)


@pytest.fixture(scope="module")
def baseline():
    return flowsim.load_scenario(ROOT / "configs" / "baseline.yaml")


def test_all_six_scenarios_are_there():
    assert {f.stem for f in SEED_FILES} == set(DOCUMENT)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_scenario_extends_baseline_names_document_and_lists_pending(path):
    text = path.read_text("utf-8")
    raw = yaml.safe_load(text)
    assert raw["extends"] == "../baseline.yaml"
    assert raw["name"] == path.stem
    assert DOCUMENT[path.stem] in raw["description"]
    assert "pending: provider payment (issue 4)" in text
    allowed = {
        "extends",
        "name",
        "title",
        "description",
        "start_date",
        "benefits",
        "assistance",
        "referral",
        "payment",
        "community",
    }
    assert set(raw) <= allowed


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_changed_value_cites_its_own_source(path, baseline):
    """A value that differs from the baseline carries its own source (a clause, or assumed)."""
    base = dict(iter_params(baseline))
    changed = [
        (name, p)
        for name, p in iter_params(flowsim.load_scenario(path))
        if p.value != base[name].value
    ]
    assert changed
    for name, p in changed:
        assert p.source != base[name].source, name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario_runs_30_days_with_finite_indicators(path):
    s = flowsim.load_scenario(path)
    res = flowsim.run(s.with_overrides(SMALL), days=30, seed=1)
    values = res.indicators.set_index("indicator")["value"]
    assert len(values) > 20
    bad = [k for k, v in values.items() if not np.isfinite(v) and k not in UNDEFINED_IN_30_DAYS]
    assert not bad, bad


def test_quzhou_waives_grassroots_outpatient_deductible_and_floors_contracted_rates():
    # 衢州实施细则（征求意见稿）二(五), 二(六)
    s = scenario("quzhou_2024_draft")
    d = s.start_date
    assert s.benefits.grassroots_outpatient_deductible_waived.on(d) is True
    floor = s.benefits.family_doctor_min_rate.on(d)
    assert floor[CHRONIC] == pytest.approx(0.65) and floor[INP] == pytest.approx(0.80)


def test_shandong_39_township_county_gap_and_continuous_deductible():
    # 鲁医保发〔2024〕39号 三(一)
    s = scenario("shandong_2024_39")
    r = rate(s, R, INP, s.start_date)
    assert r[T] - r[C] >= 0.10 - 1e-12
    assert s.benefits.referral_continuity.upward.on(s.start_date) == "difference"


def test_jining_grassroots_inpatient_85_and_liangbing_70():
    # 济医保发〔2023〕5号 一
    s = scenario("jining_2023_5")
    d = s.start_date
    assert rate(s, R, INP, d)[[V, T]] == pytest.approx([0.85, 0.85])
    assert rate(s, R, CHRONIC, d)[[V, T]] == pytest.approx([0.70, 0.70])
    assert s.benefits.chronic.village_claims.on(d) == "all"
    # 鲁医保发〔2023〕13号 二: grassroots ordinary outpatient ~60 % by 2025
    assert rate(s, R, OUT, date(2024, 12, 31))[T] < 0.60
    assert rate(s, R, OUT, date(2025, 1, 1))[[V, T]] == pytest.approx([0.60, 0.60])


def test_weihai_85_percent_from_2023_07_01():
    # Weihai 2023 notice: 自2023年7月1日起 … 住院费用报销比例提高到85%
    s = scenario("weihai_2023")
    assert rate(s, R, INP, date(2023, 6, 30))[T] == pytest.approx(0.80)
    assert rate(s, R, INP, date(2023, 7, 1))[T] == pytest.approx(0.85)
    assert rate(s, R, CHRONIC, date(2023, 7, 1))[T] == pytest.approx(0.70)
    cont = s.benefits.referral_continuity
    assert cont.upward.on(date(2023, 6, 30)) == "none"
    assert cont.upward.on(date(2023, 7, 1)) == "first_only"
    assert cont.downward_waived.on(date(2023, 7, 1)) is True
    assert date(2023, 7, 1) in s.change_dates()


def test_weihai_rules_change_inside_a_run():
    s = scenario("weihai_2023").with_overrides(SMALL | {"start_date": "2023-06-25"})
    model = flowsim.CountyModel(s, seed=1)
    model.run_for(3)
    assert model.rules.benefits.resident.inpatient.rate[T] == pytest.approx(0.80)
    model.run_for(7)
    assert model.rules.benefits.resident.inpatient.rate[T] == pytest.approx(0.85)
    assert model.rules.benefits.referral_continuity.upward == "first_only"


def test_ningxia_penalty_and_township_certification():
    # 宁医保发〔2023〕103号 一(一), 一(二), 二(二)
    s = scenario("ningxia_2023_103")
    d = s.start_date
    b = s.benefits
    penalty = b.gatekeeping.penalty.on(d)  # [scheme, service, tier]
    assert penalty[:, INP, Tier.OUT_OF_COUNTY] == pytest.approx([0.2, 0.2])
    assert penalty.sum() == pytest.approx(0.4)  # nothing else is penalised
    assert b.gatekeeping.mode.on(d) == "points"  # the reading the file documents
    assert b.chronic.lowest_certifying_tier.on(d) == "township"
    assert b.chronic.village_claims.on(d) == "remote"
    assert b.referral_continuity.upward.on(d) == "difference"
    assert b.referral_continuity.downward_waived.on(d) is True


def test_combined_keeps_every_document_number():
    s = scenario("combined")
    d = s.start_date
    b = s.benefits
    r = rate(s, R, INP, d)
    assert r[T] == pytest.approx(0.85) and r[T] - r[C] >= 0.10 - 1e-12  # 002 一, 001 三(一)
    assert rate(s, R, CHRONIC, d)[T] == pytest.approx(0.70)  # 002 一, 003
    assert rate(s, R, OUT, date(2025, 1, 1))[T] == pytest.approx(0.60)  # 002 鲁二, 003
    assert b.grassroots_outpatient_deductible_waived.on(d) is True  # 000 二(五)
    assert b.family_doctor_min_rate.on(d)[INP] == pytest.approx(0.80)  # 000 二(六)
    assert b.referral_continuity.upward.on(d) == "first_only"  # 003 wins over difference
    assert b.referral_continuity.downward_waived.on(d) is True  # 003, 004 二(二)
    assert b.gatekeeping.penalty.on(d)[R, INP, Tier.OUT_OF_COUNTY] == pytest.approx(0.2)  # 004
    assert b.chronic.lowest_certifying_tier.on(d) == "village"  # 002 wins over 004 township


# --- provider side -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_provider_responses_and_budget_parameters_stay_at_the_baseline(path, baseline):
    s = flowsim.load_scenario(path)
    for section in ("responses", "community", "providers"):
        base = dict(iter_params(getattr(baseline, section)))
        for name, p in iter_params(getattr(s, section)):
            # 001 二(四) names the assessment
            if name not in ("global_budget", "assessment.scored"):
                assert p.value == base[name].value, f"{section}.{name}"
    for name in (
        "dip_points_per_weight",
        "dip_tier_coefficient",
        "dip_provisional_point_value",
        "dip_budget_per_capita",
        "same_price_base_rate",
        "drg_base_rate",
    ):
        assert getattr(s.payment, name).value == getattr(baseline.payment, name).value, name


def test_quzhou_80_drg_same_price_groups():
    # 衢州实施细则（征求意见稿）一(三): 落实80个DRGs同病同价支付, 不区分医疗机构
    s = scenario("quzhou_2024_draft")
    d = s.start_date
    assert methods(s, d) == ["fee_for_service", "drg", "drg", "drg"]
    assert s.payment.same_price_groups.on(d) == SAME_PRICE_GROUPS
    assert s.community.global_budget.on(d) is False  # only an outpatient budget in the draft
    assert s.payment.rehab_method.on(d) == "fee_for_service"


def test_shandong_39_global_budget_dip_and_bed_day_from_2025():
    # 鲁医保发〔2024〕39号 二(一)–(四), 三(四); rules due 2024年12月底前 (四(一)) -> 2025-01-01
    s = scenario("shandong_2024_39")
    before, on = date(2024, 12, 31), date(2025, 1, 1)
    assert s.community.global_budget.on(before) is False
    assert s.community.global_budget.on(on) is True
    assert methods(s, before) == ["fee_for_service"] * 4
    assert methods(s, on) == ["fee_for_service", "dip", "dip", "dip"]
    assert s.payment.rehab_method.on(before) == "fee_for_service"
    assert s.payment.rehab_method.on(on) == "bed_day"
    # ≥80 DIP / ≥20 DRG grassroots groups "2025年年底前"
    assert s.payment.same_price_groups.on(date(2025, 12, 31)) == 0
    assert s.payment.same_price_groups.on(date(2026, 1, 1)) == SAME_PRICE_GROUPS
    assert s.start_date == on  # the scenario runs the document's first budget years
    assert date(2026, 1, 1) in s.change_dates()
    c = s.community
    assert c.count_out_of_county.value is True  # 二(二)
    assert c.prepayment_months.value == pytest.approx(1)  # 二(四)


def test_shandong_39_settles_its_first_budget_year():
    s = scenario("shandong_2024_39").with_overrides(SMALL | {"start_date": "2025-01-01"})
    res = flowsim.run(s, days=366, seed=1)
    row = res.settlements.set_index("year").loc[2025]
    assert row.days == 365
    assert row.budget > 0 and row.spent > 0
    assert row.prepayment == pytest.approx(row.budget / 12)  # 二(四): about one month
    assert row.fund_extra == pytest.approx(row.community_kept - row.community_bears)
    assert res.dip_settlements.year.tolist() == [2025]  # DIP under the regional budget


def test_jining_dip_same_price_list_and_community_budget():
    # 济医保发〔2023〕5号 三 (DIP, 同城同病同价), 鲁医保发〔2023〕13号 四 (医共体总额付费)
    s = scenario("jining_2023_5")
    d = s.start_date
    assert methods(s, d) == ["fee_for_service", "dip", "dip", "dip"]
    assert s.payment.same_price_groups.on(d) == SAME_PRICE_GROUPS
    assert s.community.global_budget.on(d) is True


def test_weihai_drg_same_price_and_budget_from_2023_07_01():
    # 威海 2023 通知 深化医保支付方式改革 ¶1 (DRG, 同城同价病组), ¶2 (医共体总额付费)
    s = scenario("weihai_2023")
    before, on = date(2023, 6, 30), date(2023, 7, 1)
    assert methods(s, before) == ["fee_for_service"] * 4
    assert methods(s, on)[T] == "drg"
    assert methods(s, on) == ["fee_for_service", "drg", "drg", "drg"]
    assert s.payment.same_price_groups.on(before) == 0
    assert s.payment.same_price_groups.on(on) == SAME_PRICE_GROUPS
    assert s.community.global_budget.on(before) is False
    assert s.community.global_budget.on(on) is True


def test_weihai_township_drg_switches_on_inside_a_run():
    s = scenario("weihai_2023").with_overrides(SMALL | {"start_date": "2023-06-25"})
    model = flowsim.CountyModel(s, seed=1)
    model.run_for(3)
    drg = model.rules.paid_by("drg")
    assert not drg[T] and not model.rules.community.global_budget
    model.run_for(7)
    drg = model.rules.paid_by("drg")
    assert drg[T] and drg[C] and model.rules.community.global_budget
    assert model.rules.payment.same_price_groups == SAME_PRICE_GROUPS


def test_ningxia_dip_same_disease_same_price_and_package_payment():
    # 宁医保发〔2023〕103号 二(一) (区域点数法 DIP, 一、二、三级 同病同治同价), 二(二) (打包付费)
    s = scenario("ningxia_2023_103")
    d = s.start_date
    assert methods(s, d) == ["fee_for_service", "dip", "dip", "dip"]
    assert s.payment.same_price_groups.on(d) == SAME_PRICE_GROUPS
    assert s.community.global_budget.on(d) is True
    rules = rules_on(s, d)
    assert rules.paid_by("dip")[HOSPITAL_TIERS].all() and not rules.paid_by("drg").any()


def test_combined_provider_side_is_the_union():
    s = scenario("combined")
    d = s.start_date
    # one method per tier: DIP (001, 002, 004) over DRG (000, 003), from the run start (002, 004)
    assert methods(s, d) == ["fee_for_service", "dip", "dip", "dip"]
    assert s.payment.same_price_groups.on(d) == SAME_PRICE_GROUPS  # 000, 001, 002, 003, 004
    assert s.community.global_budget.on(d) is True  # 002 鲁四, 004 二(二) from the run start
    assert s.payment.rehab_method.on(date(2024, 12, 31)) == "fee_for_service"
    assert s.payment.rehab_method.on(date(2025, 1, 1)) == "bed_day"  # 001 二(三)
