"""The command line as a user meets it: outputs on disk, progress, and clear failures."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from flowsim.results import Results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(
        f"extends: {(ROOT / 'configs' / 'baseline.yaml').as_posix()}\nname: small\n"
        "county:\n  synthetic:\n    population: {value: 5000}\n    villages: {value: 12}\n"
        "    townships: {value: 2}\n",
        encoding="utf-8",
    )
    return path


def flowsim(*args):
    return subprocess.run(
        [sys.executable, "-m", "flowsim", *map(str, args)], capture_output=True, text=True
    )


def test_run_prints_indicators_and_writes_parquet(tmp_path, small_file):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    proc = flowsim("run", small_file, "--days", 40, "--seed", 3, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "基层就诊率" in proc.stdout and "grassroots visit share" in proc.stdout
    assert "40/40" in proc.stderr  # the progress bar reached the end
    for name in ("daily", "indicators", "facilities", "years"):
        assert not pd.read_parquet(out / f"{name}.parquet").empty
    assert (out / "notes.txt").read_text() == "mine"  # nothing the user had is lost
    res = Results.load(out)
    assert res.days == 40 and res.seed == 3
    assert res.daily.date.nunique() == 40
    assert 0 < res.indicator("grassroots_visit_share") < 1


def test_out_must_be_a_folder(tmp_path, small_file):
    target = tmp_path / "file.txt"
    target.write_text("x")
    proc = flowsim("run", small_file, "--days", 2, "--out", target)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--out" in proc.stderr and "file.txt" in proc.stderr


@pytest.mark.parametrize("args", [["--days", "0"], ["--seed", "-1"], ["--days", "many"],
                                  ["--years", "0"], ["--days", "3", "--years", "1"]])
def test_bad_arguments_exit_2_without_traceback(small_file, args):
    proc = flowsim("run", small_file, *args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert args[0] in proc.stderr


def test_no_config_runs_the_default_county_scenario_name():
    proc = flowsim("run", "--help")
    assert proc.returncode == 0 and "default county" in proc.stdout
