"""What-if from the command line (--set, --population, experiment options), spreadsheets and
the codebook, and a terminal summary that leaves nothing out silently."""

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flowsim.experiments import REFERENCE, ExperimentResults
from flowsim.indicators import INDICATORS
from flowsim.results import Results

ROOT = Path(__file__).resolve().parents[1]
RATE = "benefits.resident.inpatient.rate.value.township"


def flowsim(*args):
    return subprocess.run([sys.executable, "-m", "flowsim", *map(str, args)],
                          capture_output=True, text=True)


def one_line_error(proc, *words):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def small(path: Path, parent: str = "baseline.yaml", name: str = "small") -> Path:
    path.write_text(
        f"extends: {(ROOT / 'configs' / parent).as_posix()}\nname: {name}\n"
        "county:\n  synthetic:\n    population: {value: 5000}\n    villages: {value: 12}\n"
        "    townships: {value: 2}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A comparison with a --set and --population, and its report."""
    folder = tmp_path_factory.mktemp("whatif")
    base, weihai = small(folder / "b.yaml"), small(folder / "w.yaml", "scenarios/weihai_2023.yaml",
                                                    "weihai")
    proc = flowsim("compare", base, weihai, "--days", 20, "--replications", 2, "--workers", 1,
                   "--set", f"{RATE}=0.9", "--population", 3000, "--out", folder / "cmp",
                   "--report")
    assert proc.returncode == 0, proc.stderr
    return folder / "cmp"


def test_set_and_population_apply_to_every_scenario_and_are_listed(compared):
    exp = ExperimentResults.load(compared)
    assert exp.meta["settings"] == {RATE: 0.9, "county.synthetic.population.value": 3000}
    for _, _, res in exp.examples():
        assert res.meta["residents"] == 3000
        assert "township: 0.9" in res.meta["scenario_yaml"]
    page = (compared / "report.html").read_text("utf-8")
    assert f"{RATE} = 0.9" in page and "--set" in page


@pytest.mark.parametrize(("args", "words"), [
    (["--set", "no-equals-sign"], ["--set", "PATH=VALUE"]),
    (["--set", f"{RATE}=1.5"], ["--set", RATE, "1.5", "less than or equal to 1"]),
    (["--set", "benefits.nothing.value=1"], ["--set", "benefits.nothing", "exists"]),
])
def test_bad_settings_fail_in_one_line_before_any_work(tmp_path, args, words):
    out = tmp_path / "never"
    proc = flowsim("compare", small(tmp_path / "s.yaml"), small(tmp_path / "t.yaml", name="t"),
                   *args, "--out", out)
    one_line_error(proc, *words)
    assert not out.exists()
    proc = flowsim("compare", tmp_path / "s.yaml", "--population", 0, "--out", out)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--population" in proc.stderr and not out.exists()


def test_population_needs_a_synthetic_county(tmp_path):
    proc = flowsim("run", ROOT / "configs" / "example_csv_county.yaml", "--population", 100,
                   "--days", 2, "--out", tmp_path / "o")
    one_line_error(proc, "--population", "synthetic")
    assert not (tmp_path / "o").exists()


def test_run_takes_settings_and_writes_the_codebook(tmp_path):
    proc = flowsim("run", small(tmp_path / "s.yaml"), "--days", 3, "--population", 2000,
                   "--set", "benefits.chronic.prescription_days.value=60", "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    res = Results.load(tmp_path / "o")
    assert res.meta["residents"] == 2000 and res.meta["settings"]["county.synthetic."
                                                                  "population.value"] == 2000
    book = pd.read_csv(tmp_path / "o" / "codebook.csv", encoding="utf-8-sig")
    assert list(book.indicator) == list(INDICATORS)
    row = book.set_index("indicator").loc["grassroots_visit_share"]
    assert row.label_zh == "基层就诊率" and row.unit == "fraction"
    assert row.formula.startswith("Outpatient visits at village clinics and township")
    assert row.better == "higher"


def test_experiment_options_replace_the_file_and_every_asked_indicator_is_printed(tmp_path):
    base = small(tmp_path / "s.yaml")
    asked = ["grassroots_visit_share", "oop_per_capita", "fund_per_capita",
             "fund_balance_per_capita", "catastrophic_incidence", "in_county_fund_share"]
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        f"name: many\nbase: {base.as_posix()}\nscenarios:\n  - name: small\nsweep:\n"
        "  gap:\n    values: [0, 5, 10, 15, 20, 25, 30]\n    set:\n"
        "      benefits.resident.inpatient.rate.value.county: '0.80 - gap / 100'\n"
        f"replications: 1\ndays: 30\nindicators: {json.dumps(asked)}\n", encoding="utf-8")
    proc = flowsim("experiment", spec, "--replications", 2, "--days", 4, "--workers", 1,
                   "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    exp = ExperimentResults.load(tmp_path / "o")
    assert set(exp.indicators.seed) == {0, 1}  # --replications 2, not the file's 1
    assert next(exp.examples())[2].days == 4  # --days 4, not the file's 30
    assert exp.meta["variants"][0]["point"] == REFERENCE  # the base without the lever first
    assert set(exp.differences.baseline) == {"small"}
    for name in asked:  # all six, though the sweep has eight variants
        assert INDICATORS[name].label_en in proc.stdout, name


def test_default_indicators_say_how_many_more_and_how_to_see_them(compared):
    from rich.console import Console

    from flowsim.cli import experiment_tables

    console = Console(width=200, record=True)
    for table in experiment_tables(ExperimentResults.load(compared)):
        console.print(table)
    shown = console.export_text()
    assert "more indicators are saved" in shown and "flowsim export" in shown


def test_export_opens_in_openpyxl_with_labels_units_and_changes(compared, tmp_path):
    xlsx, csv = tmp_path / "out.xlsx", tmp_path / "csv"
    proc = flowsim("export", compared, "--xlsx", xlsx, "--csv", csv)
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames == ["summary", "differences", "runs", "changes", "codebook", "about"]

    def rows(sheet):
        values = list(book[sheet].iter_rows(values_only=True))
        return [dict(zip(values[0], r, strict=True)) for r in values[1:]]

    summary = rows("summary")
    visits = [r for r in summary if r["indicator"] == "grassroots_visit_share"]
    assert {r["label_zh"] for r in visits} == {"基层就诊率"} and len(visits) == 2
    assert {r["unit"] for r in visits} == {"fraction"}
    runs = rows("runs")
    assert len(runs) == 2 * 2 * len(INDICATORS)  # 2 scenarios × 2 seeds × every indicator
    changes = rows("changes")
    inpatient = [r for r in changes if r["path"] == "benefits.resident.inpatient.rate"]
    assert inpatient and inpatient[0]["parameter_zh"] == "城乡居民医保住院报销比例"
    assert inpatient[0]["in_force_from"] == "2023-07-01" and "威海" in inpatient[0]["source"]
    assert len(rows("codebook")) == len(INDICATORS)
    differences = pd.read_csv(csv / "differences.csv", encoding="utf-8-sig")
    assert set(differences.baseline) == {"small"} and "label_en" in differences


@pytest.mark.parametrize(("args", "words"), [
    ([], ["--xlsx", "--csv"]),
    (["--xlsx", "out.csv"], ["--xlsx", ".xlsx"]),
])
def test_export_arguments_are_checked_first(compared, tmp_path, args, words):
    one_line_error(flowsim("export", compared, *args), *words)
    proc = flowsim("export", tmp_path / "missing", "--xlsx", tmp_path / "x.xlsx")
    one_line_error(proc, "RESULTS_DIR")
    assert not (tmp_path / "x.xlsx").exists()
