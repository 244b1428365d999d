"""Calibration: targets-file validation, recovery of a known parameter, and the CLI front end."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from flowsim.api import simulate
from flowsim.calibrate import (
    Target,
    calibrate,
    check_parameters,
    load_targets,
    overrides_for,
    replicate,
)
from flowsim.config import load_scenario
from flowsim.elasticities import participation, raised
from flowsim.errors import InputError
from flowsim.results import whole_run_window

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "configs" / "baseline.yaml").as_posix()
TINY = {  # 5,000 residents: the fixed per-day cost dominates, so a run takes a fraction of a second
    "county.synthetic.population.value": 5000,
    "county.synthetic.villages.value": 12,
    "county.synthetic.townships.value": 2,
}
DAYS, SEEDS = 120, [1, 2]


def targets_file(tmp_path, body: str, name: str = "targets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


VALID = """\
    name: t
    targets:
      grassroots_visit_share: {value: 0.53, tolerance: 0.02, source: TARGETS.md}
    parameters:
      - {path: choice.outpatient_tier_constant.value.county, bounds: [-1, 4]}
    runs: {days: 60, seeds: [1, 2]}
"""


def test_national_targets_file_is_valid(baseline):
    spec = load_targets(ROOT / "configs" / "targets" / "national.yaml")
    assert spec.fitted == ["grassroots_visit_share", "grassroots_admission_share",
                           "in_county_admission_rate", "visits_per_capita",
                           "admissions_per_capita", "no_care_share", "forgone_admission_share",
                           "outpatient_participation_elasticity",
                           "inpatient_participation_elasticity"]
    assert spec.targets["visits_per_capita"].band == pytest.approx(0.68)
    elasticity = spec.targets["outpatient_participation_elasticity"]
    assert (elasticity.value, elasticity.band) == (-0.52, 0.05)  # Health Policy 2011;103:255
    assert len(check_parameters(spec, baseline)) == len(spec.parameters)
    # the chronic cost weight moves with the outpatient one
    x = check_parameters(spec, baseline)
    x[0] = 2.5
    overrides = overrides_for(spec, baseline, np.array(x))
    assert overrides["choice.cost_per_100_yuan.value.chronic"] == 2.5


def test_an_elasticity_target_is_measured_in_paired_runs(small):
    """A participation-elasticity target runs the scenario and its price rise with each seed."""
    targets = {"visits_per_capita": Target(value=6.8, tolerance=0.1, relative=True, source="x"),
               "e": Target(value=-0.5, tolerance=0.05, source="y",
                           elasticity={"service": "outpatient", "change": 0.2})}
    table = replicate(small, targets, seeds=[3, 4], days=40)
    for row, seed in zip(table, (3, 4), strict=True):
        base = whole_run_window(simulate(small, days=40, seed=seed))
        rise = whole_run_window(simulate(raised(small, "outpatient", change=0.2), days=40,
                                         seed=seed))
        assert row[1] == pytest.approx(participation(base, rise, "outpatient"))
        assert row[1] < 0


@pytest.mark.parametrize(
    ("old", "new", "field", "allowed"),
    [
        ("grassroots_visit_share:", "grassroots_share:", "targets.grassroots_share",
         "an indicator name: one of grassroots_visit_share"),
        ("tolerance: 0.02", "tolerance: -0.02", "targets.grassroots_visit_share.tolerance",
         "greater than 0"),
        ("bounds: [-1, 4]", "bounds: [4, -1]", "parameters.0.bounds", "low < high"),
        ("seeds: [1, 2]", "seeds: [1]", "runs.seeds", "at least 2"),
        ("days: 60", "dayz: 60", "runs.dayz", "allowed here: days, seeds, overrides"),
        ("source: TARGETS.md}", "source: TARGETS.md, fit: false}", "targets",
         "at least one target with fit: true"),
    ],
)
def test_bad_targets_file_gives_one_line_error(tmp_path, old, new, field, allowed):
    assert old in VALID
    path = targets_file(tmp_path, VALID.replace(old, new))
    with pytest.raises(InputError) as err:
        load_targets(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert allowed in err.value.allowed
    assert "\n" not in str(err.value)


def test_parameter_path_must_exist_and_hold_a_number(tmp_path, baseline):
    spec = load_targets(targets_file(tmp_path, VALID.replace(".county,", ".hospital,")))
    with pytest.raises(InputError, match=r"parameters\.0\.path = .*a dotted path") as err:
        check_parameters(spec, baseline)
    assert err.value.file == str(spec.file)
    group = VALID.replace("value.county,", "value,")  # a group without scale: true
    spec = load_targets(targets_file(tmp_path, group, "group.yaml"))
    with pytest.raises(InputError, match="one plain number"):
        check_parameters(spec, baseline)
    outside = VALID.replace("bounds: [-1, 4]", "bounds: [10, 12]")  # the start is below 10
    spec = load_targets(targets_file(tmp_path, outside, "outside.yaml"))
    with pytest.raises(InputError, match=r"parameters\.0\.bounds"):
        check_parameters(spec, baseline)


def test_optimiser_recovers_known_parameters(tmp_path, baseline):
    """Targets made by a run with known values; the fit, started elsewhere, finds them again."""
    tiny = baseline.with_overrides(TINY)
    truth = {"choice.outpatient_tier_constant.value.county": 0.8, "serious_scale": 1.2}
    serious = baseline.illness.serious_episodes_per_year.value.model_dump()
    made = tiny.with_overrides({
        "choice.outpatient_tier_constant.value.county": truth[
            "choice.outpatient_tier_constant.value.county"],
        "illness.serious_episodes_per_year.value": {k: v * 1.2 for k, v in serious.items()},
    })
    names = dict.fromkeys(("grassroots_visit_share", "admissions_per_capita"))
    share, admissions = replicate(made, names, seeds=SEEDS, days=DAYS).mean(axis=0)
    path = targets_file(tmp_path, f"""\
        name: recovery
        targets:
          grassroots_visit_share: {{value: {share}, tolerance: 0.005, source: test}}
          admissions_per_capita: {{value: {admissions}, tolerance: 0.02, relative: true,
                                  source: test}}
        parameters:
          - {{path: choice.outpatient_tier_constant.value.county, bounds: [-1, 4], start: 2.0}}
          - {{path: illness.serious_episodes_per_year.value, scale: true, bounds: [0.5, 2],
             start: 0.8}}
        runs:
          days: {DAYS}
          seeds: {SEEDS}
          overrides: {yaml.safe_dump(TINY, default_flow_style=True).strip()}
        optimiser: {{max_evaluations: 40, stop_within: 0.2}}
    """)
    fit = calibrate(baseline, path)
    assert fit.converged, fit.message
    assert all(fit.within(n) for n in names)
    assert fit.x[0] == pytest.approx(0.8, abs=0.1)
    assert fit.x[1] == pytest.approx(1.2, abs=0.05)
    assert abs(fit.error("grassroots_visit_share", fit.start_achieved)) > 3  # it did move
    assert fit.evaluations <= 40


def test_cli_writes_a_scenario_that_loads(tmp_path):
    path = targets_file(tmp_path, f"""\
        name: cli
        targets:
          grassroots_visit_share: {{value: 0.50, tolerance: 0.01, source: "TARGETS.md row"}}
          in_county_visit_rate: {{value: 0.94, tolerance: 0.02, fit: false, source: "TARGETS.md"}}
        parameters:
          - {{path: choice.outpatient_tier_constant.value.county, bounds: [-1, 4]}}
        runs:
          days: 60
          seeds: [1, 2]
          overrides: {yaml.safe_dump(TINY, default_flow_style=True).strip()}
    """)
    out = tmp_path / "fitted" / "calibrated.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "flowsim", "calibrate", BASELINE, "--targets", path, "--out", out],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "target vs achieved" in proc.stdout and "95 % interval" in proc.stdout
    assert "基层就诊率" in proc.stdout and "reported" in proc.stdout
    assert "converged" in proc.stdout and "evaluation   1" in proc.stderr
    fitted = load_scenario(out)
    base = load_scenario(BASELINE)
    constant = fitted.choice.outpatient_tier_constant
    assert constant.value.county != base.choice.outpatient_tier_constant.value.county
    assert constant.value.township == base.choice.outpatient_tier_constant.value.township
    assert constant.unit == "utils"
    assert constant.source.startswith(f"calibrated to {path} (grassroots_visit_share), ")
    assert fitted.county.synthetic.population.value == 500000  # runs.overrides not written
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(doc) == {"extends", "name", "description", "choice"}
    header = out.read_text(encoding="utf-8").split("grassroots_visit_share: target 0.5 ± 0.01, ")
    achieved = float(header[1].split()[1])  # "achieved 0.5012 [95 % ...]"
    assert abs(achieved - 0.50) <= 0.01


def test_cli_bad_targets_exits_2(tmp_path):
    path = targets_file(tmp_path, VALID.replace("tolerance: 0.02", "tolerance: none"))
    proc = subprocess.run(
        [sys.executable, "-m", "flowsim", "calibrate", BASELINE, "--targets", path],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "targets.grassroots_visit_share.tolerance" in proc.stderr
    assert "Traceback" not in proc.stderr
