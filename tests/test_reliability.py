"""Bad input is refused in one line before any work; a results folder is never half-written.

The command line runs in this process (``flowsim.cli.main``) to keep the many cases fast.
"""

import contextlib
import io
import math
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path

import annotated_types
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

import flowsim
from flowsim.cli import main
from flowsim.config import Scenario, load_scenario
from flowsim.errors import InputError
from flowsim.files import COMMITTED
from flowsim.preflight import check_run
from flowsim.results import Results

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "bad_inputs"
SMALL = BAD / "small.yaml"


def cli(args: list) -> tuple[int, str, str]:
    """Run ``flowsim ARGS`` here; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def files_below(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


# ---------------------------------------------------------------------------------------------
# the corpus: every malformed input exits 2 with one line, before anything is written


def _cases() -> list:
    cases = [pytest.param("run", p, id=f"scenarios/{p.name}")
             for p in sorted((BAD / "scenarios").glob("*.yaml"))]
    cases += [pytest.param("run", p, id=f"csv/{p.parent.name}")
              for p in sorted((BAD / "csv").glob("*/scenario.yaml"))]
    cases += [pytest.param("experiment", p, id=f"experiments/{p.name}")
              for p in sorted((BAD / "experiments").glob("*.yaml"))]
    cases += [pytest.param("calibrate", p, id=f"targets/{p.name}")
              for p in sorted((BAD / "targets").glob("*.yaml"))]
    cases += [pytest.param("args", p, id=f"arguments/{p.name}")
              for p in sorted((BAD / "arguments").glob("*.args"))]
    return cases


def _filled(text: str, fill: dict[str, str]) -> str:
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return text


def test_the_corpus_covers_every_category():
    assert len(_cases()) >= 40
    for folder in ("scenarios", "csv", "experiments", "targets", "arguments"):
        assert any((BAD / folder).iterdir()), folder


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_malformed_input_exits_2_with_one_line_and_writes_nothing(kind, case, tmp_path,
                                                                  monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # anything written to the current folder would show
    fill = {"small": str(SMALL), "tmp": str(work), "dir": str(BAD / "arguments"),
            "root": str(ROOT)}
    header = [line[1:].strip() for line in case.read_bytes().decode("utf-8", "replace")
              .splitlines() if line.startswith("#")]
    expected = [_filled(h.removeprefix("expect:").strip(), fill) for h in header
                if h.startswith("expect:")]
    named = [h.removeprefix("names:").strip() for h in header if h.startswith("names:")]
    assert expected, f"{case} needs an '# expect:' line"
    if kind == "run":
        args = ["run", case, "--days", 2, "--out", work / "out"]
    elif kind == "experiment":
        args = ["experiment", case, "--out", work / "out"]
    elif kind == "calibrate":
        args = ["calibrate", SMALL, "--targets", case, "--out", work / "cal.yaml"]
    else:
        line = [ln for ln in case.read_text("utf-8").splitlines() if not ln.startswith("#")][0]
        args = _filled(line, fill).split()
        named = []
    corpus_before = files_below(BAD)
    code, out, err = cli(args)
    assert code == 2, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    if kind != "args":
        for name in named or [case.name]:
            assert name in lines[0], lines[0]
    assert out == ""
    assert files_below(work) == set()  # nothing written, no output folder made
    assert files_below(BAD) == corpus_before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_a_read_only_out_folder_is_refused_before_the_run(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, out, err = cli(["run", SMALL, "--days", 2, "--out", locked])
        assert code == 2 and err.startswith("error: --out") and len(err.splitlines()) == 1
        assert out == "" and list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# ---------------------------------------------------------------------------------------------
# mutated scenarios: whatever is wrong, exit 2 and one line


def _scenario_doc() -> dict:
    raw = load_scenario(SMALL).raw()
    raw.pop("extends")
    return raw


DOC = _scenario_doc()


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def _mappings(node, path=()):
    if isinstance(node, dict):
        yield path
        for k, v in node.items():
            yield from _mappings(v, (*path, k))


LEAVES = [(p, v) for p, v in _leaves(DOC) if v is not None]
MAPPINGS = list(_mappings(DOC))


def _limits(path: tuple) -> tuple[list, type]:
    """The numeric constraints (annotated_types) and base type of the schema at ``path``."""
    tp, meta = Scenario, []
    for key in path:
        tp, meta = _unwrap(tp, meta)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields[key]
            tp, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(tp) is dict:
            tp, meta = typing.get_args(tp)[1], []
        elif typing.get_origin(tp) is tuple:
            tp, meta = typing.get_args(tp)[key], []
    tp, meta = _unwrap(tp, meta)
    if typing.get_origin(tp) is dict:  # a dated value written as a plain value
        tp, meta = _unwrap(typing.get_args(tp)[1], [])
    return meta, tp


def _unwrap(tp, meta):
    while typing.get_origin(tp) is typing.Annotated:
        base, *extra = typing.get_args(tp)
        for e in extra:
            meta = meta + (list(e.metadata) if isinstance(e, FieldInfo) else [e])
        tp = base
    return tp, meta


def _out_of_range(path: tuple) -> object | None:
    """A value just outside the field's range, or None if the field takes any number."""
    meta, tp = _limits(path)
    step = 1 if tp is int else 0.5
    for m in meta:
        if isinstance(m, annotated_types.Ge):
            return m.ge - step
        if isinstance(m, annotated_types.Gt):
            return m.gt
        if isinstance(m, annotated_types.Le):
            return m.le + step
        if isinstance(m, annotated_types.Lt):
            return m.lt
    return None


def _set(doc: dict, path: tuple, value) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def broken_scenarios(draw) -> str:
    """YAML text of the small scenario with one thing made wrong."""
    doc = pickle.loads(pickle.dumps(DOC))
    kind = draw(st.sampled_from(["type", "range", "non_finite", "unknown_key", "duplicate"]))
    if kind == "unknown_key":
        where = draw(st.sampled_from(MAPPINGS))
        key = "x_" + draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
        node = doc
        for k in where:
            node = node[k]
        node[key] = draw(st.one_of(st.integers(), st.text(max_size=5)))
    elif kind == "duplicate":
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10**9)
        lines = text.splitlines()
        keyed = [i for i, ln in enumerate(lines) if re.match(r"^\s*[^\s#-][^:]*:( |$)", ln)]
        i = draw(st.sampled_from(keyed))
        return "\n".join([*lines[:i + 1], lines[i], *lines[i + 1:]]) + "\n"
    else:
        numeric = [(p, v) for p, v in LEAVES
                   if isinstance(v, int | float) and not isinstance(v, bool)]
        if kind == "range":
            candidates = [(p, bad) for p, _ in numeric if (bad := _out_of_range(p)) is not None]
            path, value = draw(st.sampled_from(candidates))
        elif kind == "non_finite":
            path = draw(st.sampled_from([p for p, _ in numeric]))
            value = draw(st.sampled_from([math.inf, -math.inf, math.nan]))
        else:
            path, old = draw(st.sampled_from(LEAVES))
            if isinstance(old, bool):
                value = draw(st.sampled_from([1, 0, "yes", "true", 0.5]))
            elif isinstance(old, int | float):
                value = draw(st.sampled_from([True, False, "12", "abc", [1, 2], {"x": 1}]))
            else:  # text: a name, unit, source, date or choice
                value = draw(st.sampled_from([12, 3.5, True, [1], {"x_": 1}]))
        _set(doc, path, value)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10**9)


def test_the_unmutated_scenario_is_valid():
    assert load_scenario(SMALL).county.synthetic.population.value == 2000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=broken_scenarios())
def test_any_broken_scenario_exits_2_with_one_line(text):
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"flowsim-broken-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        path = folder / "broken.yaml"
        path.write_text(text, "utf-8")
        code, out, err = cli(["run", path, "--days", 1, "--out", folder / "out"])
        assert code == 2, (code, out, err, text)
        assert len(err.splitlines()) == 1 and err.startswith("error: broken.yaml") or (
            err.startswith(f"error: {path}")), err
        assert not (folder / "out").exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# valid input that used to be refused, and the limits of the YAML reader


def test_a_scenario_in_another_folder_extends_a_csv_county(tmp_path):
    child = tmp_path / "elsewhere" / "child.yaml"
    child.parent.mkdir()
    child.write_text(f"extends: {ROOT / 'configs' / 'example_csv_county.yaml'}\nname: child\n")
    scenario = load_scenario(child)
    villages = child.parent / scenario.county.csv.villages.value
    assert villages.resolve() == (ROOT / "configs/counties/example/villages.csv").resolve()
    assert check_run(scenario) == 30_000  # the example county's residents, read from the CSV
    res = flowsim.run(scenario, days=2, seed=1)
    assert res.meta["residents"] == 30_000


def test_more_workers_than_memory_holds_are_refused_before_any_run(tmp_path, monkeypatch):
    # Each worker process holds a county: on a machine with room for two runs of the small
    # county, four workers are refused (naming how many fit) and two are accepted.
    from flowsim import preflight

    one_run = preflight.BYTES_PER_PROCESS + 2000 * preflight.BYTES_PER_RESIDENT
    monkeypatch.setattr(preflight, "memory_bytes", lambda: 2 * one_run + 1)
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {SMALL}\nname: other\n")
    out = tmp_path / "out"
    args = ["compare", SMALL, other, "--replications", 2, "--days", 2, "--out", out]
    code, stdout, err = cli([*args, "--workers", 4])
    assert code == 2, err
    assert err.splitlines() == [err.strip()] and err.startswith("error: --workers = 4: at most 2")
    assert not out.exists()
    code, _, err = cli([*args, "--workers", 2])
    assert code == 0, err
    assert (out / "experiment.json").is_file()


def test_an_alias_bomb_is_refused_in_milliseconds():
    start = time.perf_counter()
    with pytest.raises(InputError, match="aliases are expanded"):
        load_scenario(BAD / "scenarios" / "alias_bomb.yaml")
    assert time.perf_counter() - start < 1.0


def test_numbers_written_with_an_exponent_are_numbers(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(f"extends: {SMALL}\npopulation:\n  income_median: {{value: 2.5e4}}\n"
                    "county:\n  synthetic:\n    population: {value: 3e3}\n")
    s = load_scenario(path)
    assert s.population.income_median.value == 25_000.0
    assert s.county.synthetic.population.value == 3000


# ---------------------------------------------------------------------------------------------
# results folders: written as one unit, refused when partial, mixed or damaged


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    scenario = load_scenario(SMALL)
    folder = tmp_path_factory.mktemp("runs")
    runs = {}
    for name, seed in (("a", 1), ("b", 2)):
        res = flowsim.run(scenario, days=5, seed=seed)
        res.save(folder / name)
        runs[name] = Results.load(folder / name)
    return folder, runs


def same(loaded: Results, expected: Results) -> bool:
    if loaded.seed != expected.seed:
        return False
    for name in ("daily", "indicators", "facilities", "years"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(expected, name))
    return True


def test_a_mixed_folder_is_refused_in_one_line(two_runs, tmp_path):
    folder, runs = two_runs
    mixed = tmp_path / "mixed"
    shutil.copytree(folder / "a", mixed)
    shutil.copy(folder / "b" / "daily.parquet", mixed / "daily.parquet")
    with pytest.raises(InputError, match="checksum") as err:
        Results.load(mixed)
    assert "daily.parquet" in str(err.value)
    code, out, err_text = cli(["report", mixed, "--output", tmp_path / "r.html"])
    assert code == 2 and len(err_text.splitlines()) == 1 and "daily.parquet" in err_text
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("damage", ["truncated parquet", "corrupt run.json", "missing table"])
def test_report_refuses_a_damaged_folder_in_one_line(two_runs, tmp_path, damage):
    folder, _ = two_runs
    broken = tmp_path / "broken"
    shutil.copytree(folder / "a", broken)
    if damage == "truncated parquet":
        with open(broken / "years.parquet", "r+b") as f:
            f.truncate(100)
    elif damage == "corrupt run.json":
        (broken / "run.json").write_text('{"scenario": ')
    else:
        (broken / "facilities.parquet").unlink()
    code, out, err = cli(["report", broken, "--output", tmp_path / "r.html"])
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_save_killed_after_its_commit_is_completed_by_the_next_reader(two_runs, tmp_path):
    folder, runs = two_runs
    target = tmp_path / "out"
    shutil.copytree(folder / "a", target)
    # as a save of b killed while it moved its files into place
    committed = target / COMMITTED.format(manifest="run.json")
    shutil.copytree(folder / "b", committed)
    os.replace(committed / "daily.parquet", target / "daily.parquet")
    assert same(Results.load(target), runs["b"])
    assert not committed.exists()


def test_the_next_save_removes_what_killed_saves_left(two_runs, tmp_path):
    folder, runs = two_runs
    target = tmp_path / "out"
    shutil.copytree(folder / "a", target)
    (target / "notes.txt").write_text("mine")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    host = re.sub(r"[^A-Za-z0-9_-]", "_", os.uname().nodename)
    dead = target / f".flowsim-staging~{host}.{gone}~abc123"
    dead.mkdir()
    (dead / "daily.parquet").write_text("half")
    legacy = target / ".daily.parquet.k3j2h1g0.tmp"  # left by flowsim 0.1's file-by-file save
    legacy.write_text("half")
    live = target / f".flowsim-staging~{host}.{os.getpid()}~def456"  # a save still running
    live.mkdir()
    runs["b"].save(target)
    assert not dead.exists() and not legacy.exists() and live.exists()
    assert (target / "notes.txt").read_text() == "mine"
    assert same(Results.load(target), runs["b"])


_SAVER = """
import os, pickle, sys, time
sources = {name: pickle.load(open(path, "rb")) for name, path in
           (("a", sys.argv[1]), ("b", sys.argv[2]))}
print("ready", flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        sources[line.strip()].save(sys.argv[3])
        os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    outcome = "killed" if os.WIFSIGNALED(status) else "finished" if status == 0 else "failed"
    print(outcome, time.perf_counter() - start, flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_save_killed_at_any_moment_leaves_the_old_or_the_new_result(two_runs, tmp_path):
    folder, runs = two_runs
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    runs["a"].save(target)
    pickles = []
    for name in "ab":
        pickles.append(tmp_path / f"{name}.pickle")
        pickles[-1].write_bytes(pickle.dumps(runs[name]))
    # The saving process forks a child per save, so that each try kills a process that is
    # already past its imports: the kill lands inside the save.
    saver = subprocess.Popen([sys.executable, "-c", _SAVER, *map(str, pickles), str(target)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert saver.stdout.readline().strip() == "ready"

        def save(name: str, delay: float | None) -> tuple[str, float]:
            saver.stdin.write(name + "\n")
            saver.stdin.flush()
            pid = int(saver.stdout.readline())
            if delay is not None:
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            outcome, seconds = saver.stdout.readline().split()
            return outcome, float(seconds)

        durations = [save(name, None)[1] for name in "ba"]  # whole saves, to time them
        state = "a"
        rng = random.Random(16)
        seen = {"old": 0, "new": 0, "killed": 0, "finished": 0}
        tries = 0
        # Kill at a random moment within the time a save takes, at least 24 times, until the
        # kills have hit before and after the commit (the machine's load varies the timing).
        while tries < 24 or (tries < 100 and min(seen.values()) == 0):
            tries += 1
            new = "a" if state == "b" else "b"
            outcome, seconds = save(new, rng.uniform(0, 1.2 * sorted(durations)[0]))
            assert outcome in ("killed", "finished"), outcome
            seen[outcome] += 1
            if outcome == "finished":
                durations.append(seconds)
            loaded = Results.load(target)  # refuses a partial or mixed folder
            now = new if loaded.seed == runs[new].seed else state
            assert same(loaded, runs[now])
            seen["new" if now == new else "old"] += 1
            state = now
        assert seen["killed"] >= 5 and seen["old"] >= 1 and seen["new"] >= 1, (seen, durations)
        assert save("a" if state == "b" else "b", None)[0] == "finished"
        leftovers = [p.name for p in target.iterdir() if p.name.startswith(".")]
        assert leftovers == []
        assert (target / "notes.txt").read_text() == "mine"
    finally:
        saver.stdin.close()
        saver.wait(timeout=60)
