"""Experiments: plans, engines, resuming, paired differences, provinces, sweeps, sensitivity."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from flowsim import experiments, report
from flowsim.cli import app
from flowsim.errors import InputError
from flowsim.experiments import (
    REFERENCE,
    ExperimentResults,
    evaluate,
    execute,
    executor,
    load_experiment,
)

ROOT = Path(__file__).resolve().parents[1]
WAIVER = {"benefits.resident.outpatient.deductible.value.village": 0,
          "benefits.resident.outpatient.deductible.value.township": 0}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with a small county (baseline rules, 12,000 residents) to extend."""
    d = tmp_path_factory.mktemp("exp")
    (d / "small.yaml").write_text(yaml.safe_dump({
        "name": "small",
        "extends": str(ROOT / "configs" / "baseline.yaml"),
        "county": {"synthetic": {"population": {"value": 12000}, "villages": {"value": 24},
                                 "townships": {"value": 3}}},
    }))
    return d


def write(folder: Path, name: str, doc: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({"base": "small.yaml", **doc}, allow_unicode=True))
    return path


def run_file(path: Path, out: Path, workers: int = 1, dask: str | None = None):
    plan = load_experiment(path, out=out)
    with executor(workers, dask) as pool:
        return execute(plan, pool)


def sorted_table(res: ExperimentResults) -> pd.DataFrame:
    return res.indicators.sort_values(["run_id", "indicator"]).reset_index(drop=True)


# -- the file ---------------------------------------------------------------------------------


def test_evaluate_arithmetic_on_lever_names():
    assert evaluate("0.8 - gap / 100", {"gap": 20}) == pytest.approx(0.6)
    assert evaluate(0.7, {}) == 0.7
    assert evaluate("a.b", {"a.b": 3.0}) == 3.0
    for bad in ("__import__('os')", "gap ** 2", "other + 1", "1 / 0"):
        with pytest.raises(ValueError, match="arithmetic"):
            evaluate(bad, {"gap": 1.0})


@pytest.mark.parametrize(
    ("doc", "field", "allowed"),
    [
        ({"scenarios": [{"name": "a"}], "replicates": 3}, "replicates", "unknown key"),
        ({"scenarios": [{"name": "a"}], "indicators": ["nope"]}, "indicators", "indicator names"),
        ({"scenarios": []}, "scenarios", "at least 1"),
        ({"scenarios": [{"name": "a"}], "replications": 0}, "replications",
         "greater than or equal to 1"),
        ({"scenarios": [{"file": "missing.yaml"}]}, "scenarios.0.file", "existing scenario"),
        ({"scenarios": [{"name": "a", "overrides": {"benefits.nope.x": 1}}]},
         "scenarios.0.overrides: benefits.nope.x", "field path"),
        ({"scenarios": [{"name": "a"}, {"name": "a"}]}, "scenarios", "distinct"),
        ({"scenarios": [{"name": "a"}], "days": 10, "years": 1}, "years", "days or years"),
        ({"scenarios": [{"name": "a"}],
          "sweep": {"g": {"values": [1], "set": {"x": "g ** 2"}}}}, "g.set.x", "arithmetic"),
        ({"scenarios": [{"name": "a"}], "sample": {"n": 2, "levers": {"x": {"range": [2, 1]}}}},
         "levers.x.range", "low < high"),
    ],
)
def test_bad_experiment_files_name_file_field_and_what_is_allowed(folder, doc, field, allowed):
    path = write(folder, "bad.yaml", {"name": "bad", **doc})
    with pytest.raises(InputError) as err:
        load_experiment(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert allowed in err.value.allowed


def test_cli_bad_experiment_exits_2_with_one_line(folder):
    path = write(folder, "bad_cli.yaml", {"name": "bad", "scenarios": [{"name": "a"}],
                                           "days": "many"})
    proc = subprocess.run([sys.executable, "-m", "flowsim", "experiment", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad_cli.yaml: days = 'many'" in proc.stderr


def test_plan_shares_seeds_across_scenarios_and_separates_counties(folder):
    path = write(folder, "plan.yaml", {
        "name": "plan", "scenarios": [{"name": "a"}, {"name": "b", "overrides": WAIVER}],
        "counties": [{"name": "east"}, {"name": "west"}], "replications": 3, "days": 10})
    plan = load_experiment(path, out=folder / "plan_out")
    assert len(plan.runs) == 2 * 2 * 3
    seeds = {(r.scenario, r.county): [x.seed for x in plan.runs
                                      if (x.scenario, x.county) == (r.scenario, r.county)]
             for r in plan.runs}
    assert seeds["a", "east"] == seeds["b", "east"] == [0, 1, 2]  # common random numbers
    assert not set(seeds["a", "east"]) & set(seeds["a", "west"])
    assert len({r.run_id for r in plan.runs}) == len(plan.runs)


def test_years_run_whole_insurance_years(folder):
    path = write(folder, "years.yaml", {"name": "years", "scenarios": [{"name": "a"}],
                                        "years": 2})
    plan = load_experiment(path, out=folder / "years_out")
    assert {r.days for r in plan.runs} == {365 + 366}  # from 2023-01-01; 2024 is a leap year


# -- running ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compared(folder):
    path = write(folder, "cmp.yaml", {
        "name": "cmp", "days": 45, "replications": 3,
        "scenarios": [{"name": "status quo"}, {"name": "waiver", "overrides": WAIVER},
                      {"name": "same"}]})
    return path, run_file(path, folder / "cmp_seq", workers=1)


def test_compare_summary_and_paired_differences(compared):
    _, res = compared
    s = res.summary.set_index(["variant", "indicator"])
    row = s.loc[("waiver", "grassroots_fund_share")]
    assert row.n == 3 and row.ci_low <= row["mean"] <= row.ci_high
    assert row.label_zh == "县域内基层医疗卫生机构医保基金支出占比"
    d = res.differences.set_index(["variant", "indicator"])
    assert "status quo" not in res.differences.variant.values
    waived = d.loc[("waiver", "grassroots_fund_share")]
    assert waived.n_pairs == 3 and waived.diff_ci_low > 0  # the waiver pays grassroots visits
    # A scenario identical to the baseline differs by exactly zero: same seeds, same illnesses.
    same = d.loc["same"]
    assert (same.diff_mean.abs().max() == 0) and (same.diff_ci_high.fillna(0).abs().max() == 0)
    # Paired intervals are narrower than the spread of either scenario alone.
    oop = s.loc[("waiver", "oop_per_capita")]
    assert waived.diff_ci_high - waived.diff_ci_low < oop.ci_high - oop.ci_low


def test_engines_give_identical_results(compared, folder):
    path, sequential = compared
    pooled = run_file(path, folder / "cmp_pool", workers=2)
    pd.testing.assert_frame_equal(sorted_table(sequential), sorted_table(pooled))


def test_dask_local_cluster_gives_identical_results(compared, folder):
    pytest.importorskip("distributed")
    path, sequential = compared
    res = run_file(path, folder / "cmp_dask", workers=2, dask="local")
    pd.testing.assert_frame_equal(sorted_table(sequential), sorted_table(res))


def test_report_figure_of_an_experiment(compared):
    _, res = compared
    fig = report.figure(res, "differences", lang="zh")
    assert fig.data and "基层" in json.dumps(fig.to_plotly_json(), ensure_ascii=False, default=str)
    assert report.figure(res.path, "monthly").data  # the folder works as well as the results
    with pytest.raises(ValueError, match="dose_response"):
        report.figure(res, "dose_response")


def test_every_run_is_kept_with_full_results_for_the_first_replication(compared):
    _, res = compared
    runs = res.path / "runs"
    assert len([p for p in runs.iterdir() if not p.name.startswith(".")]) == 9
    example = res.example("waiver")
    assert example.seed == 0 and example.days == 45
    months = res.monthly[res.monthly.variant == "waiver"].month.nunique()
    assert months == 2  # 45 days from 1 January: January and February
    examples = {variant: (county, r) for variant, county, r in res.examples()}
    assert list(examples) == ["status quo", "waiver", "same"]  # one each, in the file's order
    assert {county for county, _ in examples.values()} == set(res.meta["counties"])
    assert all(r.seed == 0 for _, r in examples.values())
    pd.testing.assert_frame_equal(examples["waiver"][1].indicators, example.indicators)
    with pytest.raises(KeyError, match="variants: status quo, waiver, same"):
        res.example("nothing")


def test_monthly_summary_is_the_mean_and_t_interval_over_replications(compared):
    _, res = compared
    rows = res.monthly[(res.monthly.variant == "waiver")
                       & (res.monthly.indicator == "grassroots_visit_share")]
    feb = rows[rows.month.dt.month == 2].value.to_numpy()
    assert len(feb) == 3  # one value per replication
    s = res.monthly_summary.set_index(["variant", "month", "indicator"])
    row = s.loc[("waiver", rows.month.max(), "grassroots_visit_share")]
    half = stats.t.ppf(0.975, 2) * np.std(feb, ddof=1) / np.sqrt(3)
    assert row.n == 3 and row["mean"] == pytest.approx(feb.mean())
    assert (row.ci_low, row.ci_high) == pytest.approx((feb.mean() - half, feb.mean() + half))
    assert row.label_zh == "基层就诊率" and row.unit == "fraction"


def test_killed_experiment_resumes_without_redoing_finished_runs(folder, compared):
    path, reference = compared
    out = folder / "killed"
    cmd = [sys.executable, "-m", "flowsim", "experiment", str(path), "--out", str(out),
           "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    runs = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(runs.glob("[!.]*"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: (p / "window.json").stat().st_mtime for p in runs.glob("[!.]*")}
    assert 2 <= len(finished) < 9, "the run was not interrupted mid-way"
    result = CliRunner().invoke(app, ["experiment", str(path), "--out", str(out),
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"{len(finished)} of 9 runs already done" in result.output
    for name, mtime in finished.items():  # finished runs were kept, not redone
        assert (runs / name / "window.json").stat().st_mtime == mtime
    pd.testing.assert_frame_equal(sorted_table(ExperimentResults.load(out)),
                                  sorted_table(reference))


def test_failed_run_keeps_the_others(folder, monkeypatch):
    path = write(folder, "fail.yaml", {"name": "fail", "days": 5, "replications": 3,
                                       "scenarios": [{"name": "a"}]})
    plan = load_experiment(path, out=folder / "fail_out")
    real = experiments.simulate

    def flaky(run, keep):
        if run.replication == 1:
            raise RuntimeError("worker died")
        return real(run, keep)

    monkeypatch.setattr(experiments, "simulate", flaky)
    with executor(1) as pool, pytest.raises(RuntimeError, match="worker died"):
        execute(plan, pool)
    kept = [p.name for p in (folder / "fail_out" / "runs").glob("[!.]*")]
    assert len(kept) == 2


# -- sweeps, provinces, sensitivity -----------------------------------------------------------


def test_gap_sweep_is_a_dose_response(folder):
    path = write(folder, "gap.yaml", {
        "name": "gap", "days": 150, "replications": 3, "scenarios": [{"name": "b"}],
        "sweep": {"gap": {"values": [0, 30], "set": {
            "benefits.resident.inpatient.rate.value.township": 0.8,
            "benefits.resident.inpatient.rate.value.county": "0.8 - gap / 100"}}},
        "indicators": ["grassroots_admission_share", "forgone_admission_share"]})
    plan = load_experiment(path, out=folder / "gap_out")
    def county_rate(run):
        return run.config.raw()["benefits"]["resident"]["inpatient"]["rate"]["value"]["county"]

    rates = {r.params["gap"]: county_rate(r) for r in plan.runs if r.point != REFERENCE}
    assert rates == {0.0: pytest.approx(0.8), 30.0: pytest.approx(0.5)}
    (reference,) = {county_rate(r) for r in plan.runs if r.point == REFERENCE}
    assert reference == pytest.approx(0.7)  # the baseline's own rate: differences start there
    with executor(1) as pool:
        res = execute(plan, pool)
    s = res.summary.set_index(["gap", "indicator"])["mean"]
    assert s[30.0, "grassroots_admission_share"] > s[0.0, "grassroots_admission_share"]
    # a dearer county hospital: more patients forgo admission, in every pair of runs
    t = res.indicators[res.indicators.indicator == "forgone_admission_share"]
    by_seed = t.pivot(index="seed", columns="gap", values="value")
    assert (by_seed[30.0] > by_seed[0.0] + 0.05).all()


def test_province_adds_counties_up(folder):
    path = write(folder, "prov.yaml", {
        "name": "prov", "days": 20, "replications": 2, "scenarios": [{"name": "a"}],
        "counties": [{"name": "big"},
                     {"name": "little", "overrides": {"county.synthetic.population.value": 6000}},
                     {"name": "csv", "file": str(ROOT / "configs" / "example_csv_county.yaml")}],
        "indicators": ["visits_per_capita", "grassroots_visit_share"]})
    with executor(1) as pool:
        res = execute(load_experiment(path, out=folder / "prov_out"), pool)
    t = res.indicators[res.indicators.indicator == "visits_per_capita"]
    assert set(t.county) == {"big", "little", "csv", "province"}
    runs = t[t.county != "province"].drop_duplicates("county").set_index("county").run_id
    residents = {c: json.loads((res.path / "runs" / runs[c] / "window.json").read_text())
                 ["residents"] for c in ("big", "little", "csv")}
    assert residents["little"] == 6000
    assert res.example("a").meta["residents"] == residents["big"]  # full results: first county
    for _, g in t.groupby("replication"):
        v = g.set_index("county").value
        weighted = sum(v[c] * n for c, n in residents.items()) / sum(residents.values())
        assert v["province"] == pytest.approx(weighted, rel=1e-9)


def test_morris_sensitivity_finds_the_lever_that_matters(folder):
    path = write(folder, "sens.yaml", {
        "name": "sens", "days": 20, "scenarios": [{"name": "a"}],
        "sensitivity": {"method": "morris", "trajectories": 3, "levers": {
            "choice.travel_per_hour.value": {"range": [0.4, 1.6]},
            "inpatient_rate": {"range": [0.7, 0.95], "set": {
                "benefits.resident.inpatient.rate.value.township": "inpatient_rate"}}}},
        "indicators": ["grassroots_visit_share"]})
    plan = load_experiment(path, out=folder / "sens_out")
    assert len(plan.runs) == 3 * (2 + 1)
    with executor(2) as pool:
        res = execute(plan, pool)
    mu = res.sensitivity.set_index("parameter").mu_star
    assert mu["choice.travel_per_hour.value"] > 0.01
    # the inpatient rate reaches outpatient choices only through rare side paths (habit after
    # an admission elsewhere, follow-ups skipped in hospital)
    assert mu["inpatient_rate"] < 0.01 * mu["choice.travel_per_hour.value"]


def test_sobol_design_gives_first_and_total_indices(folder):
    path = write(folder, "sobol.yaml", {
        "name": "sobol", "days": 5, "scenarios": [{"name": "a"}],
        "sensitivity": {"method": "sobol", "samples": 4, "levers": {
            "choice.travel_per_hour.value": {"range": [0.4, 1.6]},
            "choice.no_care_constant.value": {"range": [-2, 0]}}},
        "indicators": ["no_care_share"]})
    plan = load_experiment(path, out=folder / "sobol_out")
    assert len(plan.runs) == 4 * (2 + 2)
    with executor(2) as pool:
        res = execute(plan, pool)
    assert set(res.sensitivity.columns) >= {"S1", "S1_conf", "ST", "ST_conf"}
    st = res.sensitivity.set_index("parameter").ST
    assert st["choice.no_care_constant.value"] > st["choice.travel_per_hour.value"]


def test_run_experiment_for_ema_workbench(folder):
    small = folder / "small.yaml"
    base = experiments.run_experiment(small, days=10, seed=3)
    waived = experiments.run_experiment(small, days=10, seed=3, **{
        k.replace(".", "__"): v for k, v in WAIVER.items()})
    assert set(base) == set(experiments.indicators.INDICATORS)
    assert waived["oop_per_capita"] < base["oop_per_capita"]
    assert np.isfinite(base["grassroots_visit_share"])


def test_cli_compare_prints_intervals_and_differences(folder):
    small = folder / "small.yaml"
    waiver = folder / "waiver.yaml"
    waiver.write_text(yaml.safe_dump({"name": "waiver", "extends": "small.yaml",
                                      "benefits": {"resident": {"outpatient": {"deductible": {
                                          "value": {"village": 0, "township": 0}}}}}}))
    result = CliRunner().invoke(app, ["compare", str(small), str(waiver), "--days", "10",
                                      "--replications", "2", "--out", str(folder / "cli_cmp"),
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Δ = paired difference from small" in result.output
    assert "基层就诊率" in result.output and "Δ " in result.output
    assert (folder / "cli_cmp" / "summary.parquet").is_file()
