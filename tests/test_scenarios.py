"""Seed-document scenarios (configs/scenarios): they load, run, cite and keep the seeds' numbers."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

import flowsim
from flowsim.config import iter_params
from flowsim.domain import Scheme, Service, Tier

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "configs" / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
SMALL = {
    "county.synthetic.population.value": 20000,
    "county.synthetic.villages.value": 40,
    "county.synthetic.townships.value": 4,
}
# Indicators that need more than 30 days: cost growth compares with a previous year.
UNDEFINED_IN_30_DAYS = {"medical_cost_growth"}
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


def scenario(stem: str) -> flowsim.Scenario:
    return flowsim.load_scenario(SCENARIOS / f"{stem}.yaml")


def rate(s: flowsim.Scenario, scheme: Scheme, service: Service, day: date) -> np.ndarray:
    """Rates by tier on ``day``."""
    b = getattr(s.benefits, scheme.name.lower())
    return getattr(b, service.name.lower()).rate.on(day)


@pytest.fixture(scope="module")
def baseline():
    return flowsim.load_scenario(ROOT / "configs" / "baseline.yaml")


def test_all_six_scenarios_are_there():
    assert {f.stem for f in FILES} == set(DOCUMENT)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario_extends_baseline_names_document_and_lists_pending(path):
    text = path.read_text("utf-8")
    raw = yaml.safe_load(text)
    assert raw["extends"] == "../baseline.yaml"
    assert raw["name"] == path.stem
    assert DOCUMENT[path.stem] in raw["description"]
    assert "pending: provider payment (issue 4)" in text
    assert set(raw) <= {"extends", "name", "description", "benefits", "assistance", "referral"}


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
    assert model.rules.rate[R, INP, T] == pytest.approx(0.80)
    model.run_for(7)
    assert model.rules.rate[R, INP, T] == pytest.approx(0.85)
    assert model.rules.upward_continuity == "first_only"


def test_ningxia_penalty_and_township_certification():
    # 宁医保发〔2023〕103号 一(一), 一(二), 二(二)
    s = scenario("ningxia_2023_103")
    d = s.start_date
    b = s.benefits
    assert b.out_of_county_penalty.size.on(d) == pytest.approx(0.2)
    assert b.out_of_county_penalty.mode.on(d) in ("points", "relative")
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
    assert b.out_of_county_penalty.size.on(d) == pytest.approx(0.2)  # 004 一(二)
    assert b.chronic.lowest_certifying_tier.on(d) == "village"  # 002 wins over 004 township
