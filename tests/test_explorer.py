"""The policy explorer's model (flowsim.explorer), without a browser.

Levers land where they say in the scenario; a moved lever moves the county the way theory says
(same seed, so the difference is the policy); the DataCollector's months add up to the run; the
saved scenario holds only what changed and loads as the scenario the app ran.
"""

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from flowsim.config import load_scenario, value_on
from flowsim.domain import TIERS
from flowsim.errors import InputError
from flowsim.explorer import (
    LEVER,
    LEVERS,
    MEASURES,
    Lever,
    PolicyExplorer,
    app_baseline,
    changed,
    overrides,
    reporter,
    scenario_file,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "county.synthetic.population.value": 6000,
    "county.synthetic.villages.value": 12,
    "county.synthetic.townships.value": 2,
}


@pytest.fixture(scope="module")
def tiny(baseline):
    """The shipped baseline's rules on a 6,000-resident county."""
    return baseline.with_overrides(TINY)


def read(scenario, path: str) -> Any:
    """The value at dotted ``path`` in force on the scenario's start date."""
    node: Any = scenario
    for key in path.split("."):
        node = node[key] if isinstance(node, dict) and key in node else getattr(node, key)
    return value_on(node, scenario.start_date) if isinstance(node, dict) else node


def other_value(lever: Lever, now: Any) -> Any:
    """A legal value of ``lever`` that differs from ``now``."""
    if lever.kind == "percent":
        return lever.low / 100 if round(100 * now) != lever.low else lever.high / 100
    if lever.kind == "flag":
        return not now
    return next(c for c in lever.choices if c != now)


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lever: lever.name)
def test_every_path_of_a_lever_is_in_the_schema_and_takes_the_value(baseline, lever):
    now = lever.value(baseline)
    assert now == read(baseline, lever.paths[0])
    if lever.kind == "percent":
        assert lever.low <= round(100 * now) <= lever.high
    elif lever.kind == "choice":
        assert now in lever.choices
    new = other_value(lever, now)
    moved = baseline.with_overrides(overrides({lever.name: new}))
    for path in lever.paths:
        assert read(moved, path) == new, path
    param = lever.param(baseline)
    assert param.unit and param.source and param.description  # shown on hover
    hover = lever.hover(baseline, "en")
    assert param.unit in hover and param.source in hover


def test_a_lever_with_a_wrong_path_is_refused(baseline):
    typo = Lever("inpatient_rate_county", ("benefits.resident.inpatient.rate.value.countty",),
                 "percent")
    with pytest.raises(InputError, match="countty"):
        baseline.with_overrides({typo.paths[0]: 0.5})


def test_settings_equal_to_the_baseline_are_not_changes(baseline):
    same = {lever.name: lever.value(baseline) for lever in LEVERS}
    assert changed(baseline, same) == {}
    assert changed(baseline, {**same, "global_budget": True}) == {"global_budget": True}


def test_same_seed_and_no_lever_moved_gives_identical_counties(tiny):
    explorer = PolicyExplorer(tiny, {"inpatient_rate_county": LEVER[
        "inpatient_rate_county"].value(tiny)}, seed=3)
    for _ in range(2):
        explorer.step()
    table = explorer.datacollector.get_model_vars_dataframe()
    assert explorer.settings == {}
    assert len(table) == 2 and explorer.months == [date(2023, 1, 1), date(2023, 2, 1)]
    for column in table.columns:
        if column.startswith("policy."):
            base = column.replace("policy.", "baseline.", 1)
            assert table[column].tolist() == table[base].tolist(), column


def test_the_months_add_up_to_the_run(tiny):
    explorer = PolicyExplorer(tiny, seed=2, compare=False)
    for _ in range(3):
        explorer.step()
    assert list(explorer.counties) == ["policy"]
    table = explorer.datacollector.get_model_vars_dataframe()
    days = np.array([31, 28, 31])  # January to March 2023
    facilities = explorer.facilities("policy")
    for tier in TIERS:
        visits = (table[reporter("policy", f"visits_per_day_{tier}")] * days).sum()
        admissions = (table[reporter("policy", f"admissions_per_day_{tier}")] * days).sum()
        assert visits == pytest.approx(facilities.visits[facilities.tier == tier].sum())
        assert admissions == pytest.approx(
            facilities.admissions[facilities.tier == tier].sum())
    assert set(MEASURES) <= {c.split(".", 1)[1] for c in table.columns}


def township_share(explorer: PolicyExplorer, arm: str) -> float:
    table = explorer.datacollector.get_model_vars_dataframe()
    by_tier = {t: table[reporter(arm, f"admissions_per_day_{t}")].sum() for t in TIERS}
    return by_tier["township"] / sum(by_tier.values())


def test_a_wider_township_county_gap_moves_admissions_to_the_townships(tiny):
    """001 三(一): a larger gap in inpatient rates steers admissions down a tier."""
    explorer = PolicyExplorer(tiny, {"inpatient_rate_county": 0.5}, seed=4)
    for _ in range(3):
        explorer.step()
    assert township_share(explorer, "policy") > township_share(explorer, "baseline")
    assert explorer.latest("policy", "in_county_admission_rate") <= 1


def test_a_gatekeeping_cut_at_county_hospitals_lowers_their_outpatient_visits(tiny):
    """004 一(二): an unreferred visit to a county hospital is reimbursed at a lower rate."""
    explorer = PolicyExplorer(tiny, {"gatekeeping_county": 0.3}, seed=5)
    for _ in range(2):
        explorer.step()
    table = explorer.datacollector.get_model_vars_dataframe()
    mine = table[reporter("policy", "visits_per_day_county")].sum()
    base = table[reporter("baseline", "visits_per_day_county")].sum()
    assert mine < base


def test_the_saved_scenario_holds_what_changed_and_loads_as_the_app_ran_it(baseline, tmp_path):
    base_file = ROOT / "configs" / "baseline.yaml"
    settings = {"inpatient_rate_county": 0.55, "global_budget": True,
                "certifying_tier": "township", "deductible_waived": False,  # as the baseline
                "gatekeeping_county": 0.2}
    target = scenario_file(baseline, base_file, settings, tmp_path / "mine.yaml",
                           residents=50_000, today=date(2026, 1, 2))
    doc = yaml.safe_load(target.read_text("utf-8"))
    assert (target.parent / doc["extends"]).resolve() == base_file.resolve()
    assert set(doc) == {"extends", "name", "description", "benefits", "community"}
    assert set(doc["benefits"]) == {"resident", "chronic", "gatekeeping"}
    assert doc["benefits"]["resident"]["inpatient"]["rate"]["value"] == {"county": 0.55}
    assert "--population 50000" in target.read_text("utf-8")
    loaded = load_scenario(target)
    in_memory = baseline.with_overrides(overrides(changed(baseline, settings)))
    assert values(loaded) == values(in_memory)
    assert values(loaded) != values(baseline)


def test_a_scenario_saved_beside_its_base_extends_it_by_a_relative_path(tmp_path, baseline):
    base_file = tmp_path / "base.yaml"
    base_file.write_text(f"extends: {(ROOT / 'configs' / 'baseline.yaml').as_posix()}\n"
                         "name: copy\n", encoding="utf-8")
    base = load_scenario(base_file)
    (tmp_path / "sub").mkdir()
    target = scenario_file(base, base_file, {"assistance_dibao": 0.9}, tmp_path / "sub" / "x.yaml")
    assert yaml.safe_load(target.read_text("utf-8"))["extends"] == "../base.yaml"
    assert read(load_scenario(target), "assistance.share.value.dibao") == 0.9


def test_nothing_to_save_when_no_lever_moved(baseline, tmp_path):
    with pytest.raises(ValueError, match="no lever"):
        scenario_file(baseline, ROOT / "configs" / "baseline.yaml", {}, tmp_path / "x.yaml")
    assert not (tmp_path / "x.yaml").exists()


def test_the_app_county_has_50000_residents_unless_told(baseline):
    assert app_baseline(None, None).county.synthetic.population.value == 50_000
    assert app_baseline(None, 7000).county.synthetic.population.value == 7000


def values(scenario) -> dict:
    """The scenario's values: every field but names, descriptions, sources and units."""
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items()
                    if k not in ("source", "description", "unit", "name", "title", "extends")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(scenario.model_dump(mode="json"))
