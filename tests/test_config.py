"""Scenario files: loading, extends, dated values, one clear error per kind of bad input."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from flowsim.config import load_scenario, value_on
from flowsim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def child(tmp_path: Path, body: str) -> Path:
    """A scenario extending the shipped baseline with ``body`` (YAML)."""
    base = (ROOT / "configs" / "baseline.yaml").as_posix()
    return write(tmp_path, f"extends: {base}\nname: test\n{body}")


def test_baseline_loads_with_provenance(baseline):
    assert baseline.name == "baseline"
    assert baseline.start_date == date(2023, 1, 1)
    rate = baseline.benefits.resident.inpatient.rate
    assert rate.unit and rate.description and rate.source
    # 鲁医保发〔2024〕39号 三(一): township–county resident inpatient gap of at least 10 points
    township, county = rate.on(baseline.start_date)[[1, 2]]
    assert township - county >= 0.10 - 1e-12


def test_every_parameter_has_unit_description_and_source(baseline):
    from flowsim.config import iter_params

    params = list(iter_params(baseline))
    assert len(params) > 60
    for path, p in params:
        assert p.unit.strip() and p.description.strip() and p.source.strip(), path


def test_extends_overrides_only_what_changes(tmp_path, baseline):
    s = load_scenario(
        child(
            tmp_path,
            "benefits:\n  resident:\n    inpatient:\n      rate:\n"
            "        value: {township: 0.85}\n",
        )
    )
    d = s.start_date
    assert s.benefits.resident.inpatient.rate.on(d)[1] == 0.85
    assert (
        s.benefits.resident.inpatient.rate.on(d)[2]
        == baseline.benefits.resident.inpatient.rate.on(d)[2]
    )
    assert (
        s.benefits.resident.inpatient.rate.source
        == baseline.benefits.resident.inpatient.rate.source
    )
    assert s.population == baseline.population


def test_dated_value_over_plain_value_keeps_the_old_value_until_its_date(tmp_path):
    # Weihai (003): grassroots inpatient 85 % from 2023-07-01
    s = load_scenario(
        child(
            tmp_path,
            "benefits:\n  resident:\n    inpatient:\n      rate:\n"
            "        value: {township: {2023-07-01: 0.85}}\n",
        )
    )
    rate = s.benefits.resident.inpatient.rate
    assert rate.on(date(2023, 6, 30))[1] == 0.80
    assert rate.on(date(2023, 7, 1))[1] == 0.85
    assert s.change_dates() == [date(2023, 7, 1)]


def test_value_on_picks_latest_entry_in_force():
    dated = {date(2023, 1, 1): 1, date(2024, 1, 1): 2}
    assert value_on(dated, date(2023, 12, 31)) == 1
    assert value_on(dated, date(2024, 1, 1)) == 2


BAD = {
    "unknown key": (
        "benefits:\n  resident:\n    inpatient:\n      rat: {value: 1}\n",
        "benefits.resident.inpatient.rat",
        "allowed here: deductible, rate, annual_cap",
    ),
    "wrong type": (
        "population:\n  income_median:\n    value: lots\n",
        "population.income_median.value",
        "a number",
    ),
    "rate above 1": (
        "benefits:\n  resident:\n    inpatient:\n      rate:\n        value: {township: 1.5}\n",
        "benefits.resident.inpatient.rate.value.township = 1.5",
        "less than or equal to 1",
    ),
    "negative deductible": (
        "benefits:\n  resident:\n    inpatient:\n      deductible:\n"
        "        value: {county: -100}\n",
        "benefits.resident.inpatient.deductible.value.county = -100",
        "greater than or equal to 0",
    ),
    "unknown tier": (
        "benefits:\n  resident:\n    inpatient:\n      rate:\n        value: {hospital: 0.5}\n",
        "benefits.resident.inpatient.rate.value.hospital",
        "village, township, county, out_of_county",
    ),
    "malformed date": (
        "benefits:\n  resident:\n    inpatient:\n      rate:\n"
        "        value: {township: {2023-13-01: 0.85}}\n",
        "2023-13-01",
        "a date written YYYY-MM-DD",
    ),
    "fewer villages than townships": (
        "county:\n  synthetic:\n    villages: {value: 10}\n",
        "county.synthetic.villages.value = 10",
        "at least one village per township (18 townships)",
    ),
    "fewer residents than villages": (
        "county:\n  synthetic:\n    population: {value: 250}\n",
        "county.synthetic.population.value = 250",
        "at least one resident per village (300 villages)",
    ),
    "bad literal": (
        "benefits:\n  gatekeeping:\n    mode: {value: percent}\n",
        "benefits.gatekeeping.mode.value",
        "'points' or 'relative'",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_scenario_gives_one_clear_error(tmp_path, case):
    body, field, allowed = BAD[case]
    path = child(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    assert field in message
    assert allowed in message


def test_dated_value_must_cover_the_start_date(tmp_path):
    doc = yaml.safe_load((ROOT / "configs" / "baseline.yaml").read_text("utf-8"))
    doc["benefits"]["resident"]["inpatient"]["rate"]["value"]["township"] = {"2023-07-01": 0.85}
    path = write(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(
        InputError, match="rate.value.township.*no value in force on the start date"
    ):
        load_scenario(path)


def test_missing_file_and_yaml_syntax_error(tmp_path):
    with pytest.raises(InputError, match="no_such.yaml.*an existing scenario file"):
        load_scenario(tmp_path / "no_such.yaml")
    bad = write(tmp_path, "name: x\nbenefits: [unclosed\n")
    with pytest.raises(InputError, match=r"line \d+, column \d+.*valid YAML"):
        load_scenario(bad)


def test_missing_parent_is_named(tmp_path):
    path = write(tmp_path, "extends: nowhere.yaml\nname: x\n")
    with pytest.raises(InputError, match="extends = 'nowhere.yaml'"):
        load_scenario(path)


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(InputError, match="does not extend itself"):
        load_scenario(tmp_path / "a.yaml")


def test_error_names_the_file_that_set_the_bad_value(tmp_path):
    bad_parent = yaml.safe_load((ROOT / "configs" / "baseline.yaml").read_text("utf-8"))
    bad_parent["illness"]["emergency_share"]["value"] = 2
    write(tmp_path, yaml.safe_dump(bad_parent, allow_unicode=True), "parent.yaml")
    kid = write(tmp_path, "extends: parent.yaml\nname: kid\n", "kid.yaml")
    with pytest.raises(InputError) as err:
        load_scenario(kid)
    assert "parent.yaml" in str(err.value)
    assert "illness.emergency_share.value = 2" in str(err.value)


@pytest.mark.parametrize("case", ["unknown key", "rate above 1", "malformed date"])
def test_cli_bad_config_exits_2_with_one_line_and_no_traceback(tmp_path, case):
    path = child(tmp_path, BAD[case][0])
    proc = subprocess.run(
        [sys.executable, "-m", "flowsim", "run", str(path), "--days", "1"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and str(path.name) in lines[0]
