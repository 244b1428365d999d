"""What a scenario changes from another, in words; titles; settings; which way is better."""

from datetime import date

import pytest

from flowsim.changes import changes, describe
from flowsim.config import load_scenario, parse_setting, scenario_from_yaml
from flowsim.errors import InputError
from flowsim.indicators import INDICATORS
from flowsim.report import KEY_OUTCOMES


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(None)


def test_the_same_scenario_changes_nothing(baseline):
    assert changes(baseline, baseline) == []
    assert changes(baseline, scenario_from_yaml(baseline.to_yaml())) == []


def test_a_dated_rate_in_words_in_both_languages(baseline):
    # the baseline's resident inpatient rate at township centres is 0.80
    reform = baseline.with_overrides(
        {"benefits.resident.inpatient.rate.value.township": {"2023-07-01": 0.9}})
    (change,) = changes(baseline, reform)
    assert change.path == "benefits.resident.inpatient.rate"
    assert change.members == (("township",),)
    assert change.dates == [date(2023, 7, 1)]
    en, zh = describe(change, "en"), describe(change, "zh")
    assert en["parameter"] == "urban-rural resident insurance, inpatient: reimbursement rate"
    assert zh["parameter"] == "城乡居民医保住院报销比例"
    assert (en["members"], zh["members"]) == ("township health centre", "乡镇卫生院")
    assert (en["from"], en["to"], en["when"]) == ("80\u00a0%", "90\u00a0%", "2023-07-01")
    assert change.source == ""  # an override cites nothing of its own, and says so
    assert "--set" in en["source"] and "--set" in zh["source"]
    weihai = load_scenario("configs/scenarios/weihai_2023.yaml")
    cited = {c.path: c.source for c in changes(baseline, weihai)}
    assert "威海" in cited["benefits.resident.inpatient.rate"]  # a file's own clause


def test_members_changed_alike_are_one_change_and_codes_are_words(baseline):
    reform = baseline.with_overrides({
        "benefits.resident.chronic.rate.value.village": 0.7,
        "benefits.resident.chronic.rate.value.township": 0.7,
        "community.global_budget.value": True,
        "payment.inpatient_method.value.county": "drg",
    })
    found = {c.path: c for c in changes(baseline, reform)}
    assert set(found) == {"benefits.resident.chronic.rate", "community.global_budget",
                          "payment.inpatient_method"}
    assert found["benefits.resident.chronic.rate"].members == (("village",), ("township",))
    budget = describe(found["community.global_budget"], "zh")
    assert (budget["from"], budget["to"], budget["when"]) == ("否", "是", "模拟开始")
    method = describe(found["payment.inpatient_method"], "en")
    assert (method["from"], method["to"]) == ("fee-for-service", "DRG")


def test_a_later_start_is_a_change(baseline):
    later = baseline.with_overrides({"start_date": "2025-01-01"})
    (change,) = changes(baseline, later)
    assert describe(change, "en")["to"] == "2025-01-01"


def test_titles_in_both_languages_and_not_inherited_by_a_new_name(tmp_path):
    weihai = load_scenario("configs/scenarios/weihai_2023.yaml")
    assert weihai.title_in("zh") == "威海 2023 年基层医保通知"
    assert weihai.title_in("en") == "Weihai 2023 notice"
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"extends: {weihai.file.resolve().as_posix()}\nname: mine\n", "utf-8")
    assert load_scenario(mine).title is None and load_scenario(mine).title_in("zh") == "mine"
    same = tmp_path / "same.yaml"
    same.write_text(f"extends: {weihai.file.resolve().as_posix()}\ndays: 30\n", "utf-8")
    assert load_scenario(same).title_in("en") == "Weihai 2023 notice"


def test_settings_read_like_a_scenario_file():
    assert parse_setting("a.b.value=0.85") == ("a.b.value", 0.85)
    assert parse_setting("x.value={2023-07-01: 60}") == ("x.value", {"2023-07-01": 60})
    assert parse_setting("flag.value=true") == ("flag.value", True)
    for bad in ("no-equals", "=3", "a.b="):
        with pytest.raises(InputError, match="--set"):
            parse_setting(bad)


def test_each_key_outcome_says_which_way_is_better_for_whom():
    for name in KEY_OUTCOMES:
        if name in INDICATORS:
            assert INDICATORS[name].better in ("higher", "lower"), name
            assert INDICATORS[name].concerns in ("patients", "fund", "goal"), name
    assert INDICATORS["fund_per_capita"].verdict(10.0) == "worse"
    assert INDICATORS["fund_balance_per_capita"].verdict(10.0) == "better"
    assert INDICATORS["oop_per_capita"].verdict(-5.0) == "better"
    assert INDICATORS["grassroots_visit_share"].verdict(0.01) == "better"
    assert INDICATORS["medical_cost_per_capita"].verdict(1.0) is None  # no declared direction
    assert INDICATORS["oop_per_capita"].verdict(0.0) is None
