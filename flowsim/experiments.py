"""Experiments: scenarios × sweep points × counties × replications → one tidy table with CIs.

An experiment file (YAML, validated like scenarios) names the scenarios (files, or overrides of a
base), the replications, an optional sweep (a grid of values, a Latin-hypercube sample of ranges,
or a Morris/Sobol design for sensitivity analysis), the counties (several add up to a province),
the days and the indicators to keep. ``plan`` expands it into runs; ``execute`` sends them to a
``concurrent.futures`` executor and writes each finished run to ``OUT/runs/<run_id>/`` the moment
it finishes, so an interrupted experiment loses nothing and a re-run skips what is done.

Every run's seed depends only on its replication and county, never on the scenario, so scenarios
share their illnesses (common random numbers) and paired differences show the policy, not noise.
A run's results depend only on its scenario and seed: any engine and worker count gives the same
tables.

Files in ``OUT``: ``experiment.json``, ``indicators.parquet`` (every run × indicator),
``monthly.parquet`` (headline indicators by month, every run), ``summary.parquet`` and
``monthly_summary.parquet`` (mean and 95 % t-interval over replications), ``differences.parquet``
(paired difference from the baseline, the first variant), ``sensitivity.parquet`` (SALib
indices) and ``runs/``. ``ExperimentResults`` reads them; this module alone knows the layout.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import operator
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from flowsim import indicators, preflight
from flowsim.api import run as run_scenario
from flowsim.config import (
    MAX_DAYS,
    MAX_SEED,
    POPULATION,
    Number,
    Scenario,
    Strict,
    Title,
    Whole,
    load_model,
    load_scenario,
    whole_years,
)
from flowsim.errors import InputError
from flowsim.files import (
    DIR_MODE,
    check_folder,
    output_folder,
    read_unit,
    remove_leftovers,
    temporary_prefix,
    write_unit,
)
from flowsim.intervals import group_intervals
from flowsim.preflight import check_run
from flowsim.results import Results, write_codebook

RUN_KEYS = ("run_id", "variant", "scenario", "point", "county", "replication", "seed")
"""Columns identifying a run in ``indicators.parquet`` and ``monthly.parquet``."""
PROVINCE = "province"
"""County name of the rows that add several counties up to a province."""
COUNTY_SEED_STRIDE = 100_000
"""Seed of county k, replication r: first_seed + r + k × stride (distinct counties, same CRN)."""
RUNS_FOLDER = "runs"
"""Folder of an experiment's output holding one folder per run, ``runs/<run_id>/``."""
FULL_RESULTS = "results"
"""Folder of a run's folder holding its full results (``Results.save``) when they are kept."""
REFERENCE = -1
"""``point`` of a sweep's or sample's reference variant: its first scenario without the levers."""
SUMMARIES = ("indicators", "monthly", "summary", "monthly_summary", "differences")
"""Tables ``collect`` always writes as ``<name>.parquet`` (plus ``sensitivity`` for designs)."""
MAX_REPLICATIONS = 10_000
MAX_POINTS = 100_000
"""Most points (sample size, trajectories, Sobol base samples) of a design."""

# ---------------------------------------------------------------------------------------------
# the experiment file


class ScenarioEntry(Strict):
    """One scenario: a file, or the base, with optional dotted-path overrides."""

    name: str | None = None
    file: str | None = None
    overrides: dict[str, Any] = {}


class Lever(Strict):
    """A named parameter of a sweep: its grid values or its range, and what it sets.

    ``set`` maps scenario paths to arithmetic in the lever names (``"0.9 - gap / 100"``); without
    it the lever's name is itself the scenario path it sets. ``label`` (``{en: …, zh: …}``) and
    ``unit`` (text, or ``{en: …, zh: …}``) name it on the report's axes.
    """

    label: Title | None = None
    unit: Title | str | None = None
    values: list[Number] | None = None
    range: tuple[Number, Number] | None = None
    set: dict[str, Number | str] | None = None


class Sample(Strict):
    """A Latin-hypercube sample of ``n`` points over the levers' ranges."""

    n: Annotated[Whole, Field(ge=1, le=MAX_POINTS)]
    seed: Annotated[Whole, Field(ge=0, le=MAX_SEED)] = 0
    levers: Annotated[dict[str, Lever], Field(min_length=1)]


class Sensitivity(Strict):
    """A SALib design: Morris elementary effects or Sobol indices over the levers' ranges."""

    method: Literal["morris", "sobol"]
    levers: Annotated[dict[str, Lever], Field(min_length=1)]
    trajectories: Annotated[Whole, Field(ge=2, le=MAX_POINTS)] = 10
    levels: Annotated[Whole, Field(ge=2, le=1000)] = 4
    samples: Annotated[Whole, Field(ge=2, le=MAX_POINTS)] = 32
    seed: Annotated[Whole, Field(ge=0, le=MAX_SEED)] = 0

    @model_validator(mode="after")
    def _salib_preconditions(self) -> Self:
        if self.method == "sobol" and len(self.levers) < 2:
            raise _error("levers", list(self.levers), "at least 2 levers for Sobol indices "
                         "(they share the output's variance out among the levers)")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise _error("samples", self.samples, "a power of 2 (Sobol' sequences are balanced "
                         "only then): 2, 4, 8, 16, 32, 64, …")
        if self.method == "morris" and self.levels % 2:
            raise _error("levels", self.levels, "an even number of levels (SALib's Morris "
                         "design is biased otherwise)")
        return self


class CountyEntry(Strict):
    """One county of a province: a scenario file whose county it takes, and/or overrides."""

    name: str
    file: str | None = None
    overrides: dict[str, Any] = {}


class ExperimentSpec(Strict):
    """An experiment file."""

    name: str
    description: str = ""
    base: str | None = None
    scenarios: Annotated[list[ScenarioEntry], Field(min_length=1)]
    replications: Annotated[Whole, Field(ge=1, le=MAX_REPLICATIONS)] = 1
    first_seed: Annotated[Whole, Field(ge=0, le=MAX_SEED)] = 0
    days: Annotated[Whole, Field(ge=1, le=MAX_DAYS)] | None = None
    years: Annotated[Whole, Field(ge=1, le=100)] | None = None
    indicators: list[str] | None = None
    out: str | None = None
    sweep: Annotated[dict[str, Lever], Field(min_length=1)] | None = None
    sample: Sample | None = None
    sensitivity: Sensitivity | None = None
    counties: list[CountyEntry] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.days is not None and self.years is not None:
            raise _error("years", self.years, "days or years, not both")
        designs = [k for k in ("sweep", "sample", "sensitivity") if getattr(self, k)]
        if len(designs) > 1:
            raise _error(designs[1], designs[1], "at most one of sweep, sample and sensitivity")
        for name in self.indicators or []:
            if name not in indicators.INDICATORS:
                raise _error("indicators", name, "indicator names: " + ", ".join(
                    indicators.INDICATORS))
        for name, lever in (self.sweep or {}).items():
            if not lever.values:
                raise _error(f"sweep.{name}.values", lever.values, "a list of values")
        ranged = {**(self.sample.levers if self.sample else {}),
                  **(self.sensitivity.levers if self.sensitivity else {})}
        for name, lever in ranged.items():
            if lever.range is None or not lever.range[0] < lever.range[1]:
                raise _error(f"levers.{name}.range", lever.range, "[low, high] with low < high")
        names = [c.name for c in self.counties or []]
        if len(set(names)) < len(names) or PROVINCE in names:
            raise _error("counties", names, f"distinct county names other than '{PROVINCE}'")
        last = self.first_seed + self.replications - 1 + COUNTY_SEED_STRIDE * max(len(names) - 1,
                                                                                  0)
        if last > MAX_SEED:
            raise _error("first_seed", self.first_seed, f"seeds up to {MAX_SEED} (the last run "
                         f"would get seed {last})")
        return self


def _error(field: str, value: Any, allowed: str) -> PydanticCustomError:
    return PydanticCustomError("experiment", allowed, {"field": field, "input": value})


# ---------------------------------------------------------------------------------------------
# planning: the file → runs


@dataclass(frozen=True)
class Run:
    """One simulation: a variant (scenario at a sweep point) in one county with one seed."""

    run_id: str
    variant: str
    scenario: str
    point: int
    params: dict[str, float]
    county: str
    replication: int
    seed: int
    days: int
    keep_results: bool  # the first replication in the first county keeps its full results
    config: Scenario = field(repr=False, compare=False)

    def keys(self) -> dict[str, Any]:
        """The run's identifying columns (``RUN_KEYS``) plus one column per lever."""
        return {k: getattr(self, k) for k in RUN_KEYS} | self.params


@dataclass
class Plan:
    """An experiment expanded into runs, with what the summary and the report need."""

    name: str
    kind: Literal["compare", "experiment"]
    runs: list[Run]
    variants: list[dict]
    levers: list[str]
    counties: list[str]
    seeds: list[int]
    days: int | None
    indicators: list[str]
    sensitivity: Sensitivity | None
    scenario_files: list[dict]
    policy_changes: dict[str, list[str]]
    out: Path
    lever_specs: dict[str, dict] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    largest_county: int = 0
    """Residents of the plan's largest county (what each worker process must hold)."""

    @property
    def baseline(self) -> str:
        """The variant every other is compared with: the first."""
        return self.variants[0]["variant"]

    def meta(self) -> dict:
        """``experiment.json``: what was run (the report's contract)."""
        s = self.sensitivity
        return {
            "name": self.name,
            "kind": self.kind,
            "days": self.days,
            "seeds": self.seeds,
            "baseline": self.baseline,
            "variants": self.variants,
            "axes": self.levers,
            "counties": self.counties,
            "indicators": self.indicators,
            "sensitivity": None if s is None else {
                "method": s.method,
                "parameters": {k: list(v.range) for k, v in s.levers.items()},
            },
            "scenario_files": self.scenario_files,
            "policy_changes": self.policy_changes,
            "levers": self.lever_specs,
            "settings": self.settings,
            "runs": len(self.runs),
        }


def load_experiment(path: str | Path, *, out: str | Path | None = None,
                    replications: int | None = None, days: int | None = None,
                    settings: dict[str, Any] | None = None) -> Plan:
    """Read and validate an experiment file and expand it into runs (no simulation yet).

    ``replications`` and ``days``, when given, replace the file's; ``settings`` as in ``plan``.
    """
    path = Path(path)
    spec = load_model(path, ExperimentSpec, "experiment file")
    update = {k: v for k, v in (("replications", replications), ("days", days)) if v is not None}
    if update:
        spec = spec.model_copy(update=update)
    return plan(spec, path, out=out, settings=settings)


def compare_plan(
    files: list[str | Path],
    *,
    days: int | None = None,
    replications: int = 1,
    first_seed: int = 0,
    out: str | Path = "out/compare",
    settings: dict[str, Any] | None = None,
) -> Plan:
    """The plan of ``flowsim compare``: the scenario files side by side, the first as baseline."""
    spec = ExperimentSpec(
        name="compare",
        scenarios=[ScenarioEntry(file=str(Path(f).resolve())) for f in files],
        replications=replications,
        first_seed=first_seed,
        days=days,
    )
    return plan(spec, None, out=out, kind="compare", settings=settings)


def plan(
    spec: ExperimentSpec,
    path: Path | None,
    *,
    out: str | Path | None = None,
    kind: Literal["compare", "experiment"] = "experiment",
    settings: dict[str, Any] | None = None,
) -> Plan:
    """Expand an experiment into runs, validating every scenario first (errors before any run).

    A sweep or a sample adds its first scenario as it is (``point`` = ``REFERENCE``), first, so
    that differences are taken from the scenario without the levers, not from a sweep point.
    ``settings`` (``--set PATH=VALUE`` and ``--population``: scenario path → value) apply to
    every scenario last.
    """
    settings = settings or {}
    here = path.parent if path is not None else Path.cwd()
    base = _load(here, spec.base, path, "base") if spec.base else None
    scenarios = []
    for i, entry in enumerate(spec.scenarios):
        where = f"scenarios.{i}"
        s = _load(here, entry.file, path, f"{where}.file") if entry.file else base or _load(
            here, None, path, "base")
        s = _override(s, entry.overrides, path, f"{where}.overrides")
        scenarios.append((entry.name or s.name, s))
    names = [n for n, _ in scenarios]
    if len(set(names)) < len(names):
        raise InputError(path, "scenarios", names, "distinct scenario names (set 'name:')")
    counties = [(c.name, c) for c in spec.counties] if spec.counties else [(None, None)]
    levers, points = _design(spec)
    variants = []  # (variant entry, scenario, sweep overrides)
    if spec.sweep or spec.sample:  # the first scenario as it is: the reference of differences
        name, scenario = scenarios[0]
        variants.append(({"variant": name, "scenario": name, "point": REFERENCE, "params": {}},
                         scenario, {}))
    for name, scenario in scenarios:
        for p, point in enumerate(points):
            variant = name if len(points) == 1 else f"{name} {_point_label(point, p, spec)}"
            variants.append(({"variant": variant, "scenario": name, "point": p, "params": point},
                             scenario, _point_overrides(spec, point, path)))
    runs, files, changes = [], [], {}
    for entry, scenario, overrides in variants:
        for k, (county_name, county) in enumerate(counties):
            config = _override(scenario, overrides, path, "sweep")
            if county is not None:
                if county.file:
                    other = _load(here, county.file, path, f"counties.{k}.file")
                    config = config.with_county(other)
                config = _override(config, county.overrides, path, f"counties.{k}.overrides")
            config = with_settings(config, settings)
            n_days = (whole_years(config.start_date, spec.years) if spec.years
                      else spec.days or config.days)
            name = entry["scenario"]
            if k == 0 and name not in changes:
                files.append({"variant": name, "file": str(config.file) if config.file
                              else None, "yaml": config.to_yaml()})
                changes[name] = [d.isoformat() for d in config.change_dates()]
            county_label = county_name or config.county.name
            for r in range(spec.replications):
                seed = spec.first_seed + r + k * COUNTY_SEED_STRIDE
                variant = entry["variant"]
                runs.append(Run(
                    run_id=_run_id(variant, county_label, seed, n_days, config),
                    variant=variant, scenario=name, point=entry["point"],
                    params=entry["params"], county=county_label, replication=r, seed=seed,
                    days=n_days, keep_results=r == 0 and k == 0, config=config,
                ))
    variants = [entry for entry, _, _ in variants]
    if len(variants) > len(scenarios):
        changes = {v["variant"]: changes[v["scenario"]] for v in variants}
    largest = _check_counties(runs)
    folder = Path(out) if out is not None else Path(spec.out or f"out/{_slug(spec.name)}")
    check_folder(folder, "--out" if out is not None or path is None else f"{path}: out")
    return Plan(
        name=spec.name,
        kind=kind,
        runs=runs,
        variants=variants,
        levers=levers,
        counties=list(dict.fromkeys(r.county for r in runs)),
        seeds=[spec.first_seed + r for r in range(spec.replications)],
        days=spec.days,
        indicators=spec.indicators or list(indicators.INDICATORS),
        sensitivity=spec.sensitivity,
        scenario_files=files,
        policy_changes=changes,
        out=folder,
        lever_specs={n: lever.model_dump(mode="json", exclude_none=True)
                     for n, lever in _levers(spec).items()},
        settings=dict(settings),
        largest_county=largest,
    )


def _check_counties(runs: list[Run]) -> int:
    """Read every distinct county of the runs (CSV files too), check that each fits in memory.

    Returns:
        The largest county's population.
    """
    seen: dict = {}
    for run in runs:
        c = run.config
        key = (c.file.parent if c.file else None, repr(c.raw()["county"]))
        if key not in seen:
            seen[key] = check_run(c)
    return max(seen.values(), default=0)


def _load(here: Path, file: str | None, path: Path | None, field_: str) -> Scenario:
    if file is None:
        return load_scenario(None)
    target = here / file
    if not target.is_file():
        raise InputError(path, field_, file, f"an existing scenario file (looked for {target})")
    return load_scenario(target)


def with_settings(s: Scenario, settings: dict[str, Any]) -> Scenario:
    """``s`` with the command line's settings (path → value); errors name the option."""
    if POPULATION in settings and s.county.synthetic is None:
        raise InputError("--population", "county", s.county.name,
                         "a scenario with a synthetic county (this one is read from CSV files)")
    try:
        return s.with_overrides(settings) if settings else s
    except InputError as err:
        option = "--population" if err.field == POPULATION else "--set"
        raise InputError(option, err.field, err.value, err.allowed) from None


def _override(s: Scenario, overrides: dict, path: Path | None, field_: str) -> Scenario:
    if not overrides:
        return s
    try:
        return s.with_overrides(overrides)
    except InputError as err:
        raise InputError(path, f"{field_}: {err.field}", err.value, err.allowed) from None


def _design(spec: ExperimentSpec) -> tuple[list[str], list[dict[str, float]]]:
    """Lever names and the points (lever → value) of the sweep, sample or sensitivity design."""
    if spec.sweep:
        names = list(spec.sweep)
        grid = itertools.product(*(spec.sweep[n].values for n in names))
        return names, [dict(zip(names, map(float, vals), strict=True)) for vals in grid]
    if spec.sample:
        from scipy.stats import qmc

        names = list(spec.sample.levers)
        unit = qmc.LatinHypercube(d=len(names), seed=spec.sample.seed).random(spec.sample.n)
        low, high = zip(*(spec.sample.levers[n].range for n in names), strict=True)
        return names, [dict(zip(names, map(float, row), strict=True))
                       for row in qmc.scale(unit, low, high)]
    if spec.sensitivity:
        names = list(spec.sensitivity.levers)
        return names, [dict(zip(names, map(float, row), strict=True))
                       for row in _salib_sample(spec.sensitivity)]
    return [], [{}]


def _problem(s: Sensitivity) -> dict:
    return {"num_vars": len(s.levers), "names": list(s.levers),
            "bounds": [list(v.range) for v in s.levers.values()]}


def _salib_sample(s: Sensitivity) -> np.ndarray:
    if s.method == "morris":
        from SALib.sample import morris

        return morris.sample(_problem(s), s.trajectories, num_levels=s.levels, seed=s.seed)
    from SALib.sample import sobol

    return sobol.sample(_problem(s), s.samples, calc_second_order=False, seed=s.seed)


def _point_label(point: dict[str, float], p: int, spec: ExperimentSpec) -> str:
    if spec.sweep:
        return " ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" for k, v in point.items())
    return f"#{p}"


def _levers(spec: ExperimentSpec) -> dict[str, Lever]:
    """The levers of the experiment's design (sweep, sample or sensitivity), by name."""
    return spec.sweep or (spec.sample.levers if spec.sample else None) or (
        spec.sensitivity.levers if spec.sensitivity else {})


def _point_overrides(spec: ExperimentSpec, point: dict[str, float], path: Path | None) -> dict:
    levers = _levers(spec)
    overrides = {}
    for name in point:
        sets = levers[name].set or {name: name}
        for target, expr in sets.items():
            try:
                overrides[target] = evaluate(expr, point)
            except ValueError as err:
                raise InputError(path, f"{name}.set.{target}", expr, str(err)) from None
    return overrides


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate(expr: float | str, names: dict[str, float]) -> float:
    """The value of ``expr``: a number, or arithmetic (+ − × /) on numbers and lever names."""
    if isinstance(expr, int | float):
        return float(expr)
    allowed = "arithmetic (+ - * / parentheses) on numbers and the lever names " + ", ".join(names)

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError(allowed)

    if expr in names:  # a lever named by its own dotted path
        return names[expr]
    try:
        return ev(ast.parse(expr, mode="eval").body)
    except (SyntaxError, ZeroDivisionError):
        raise ValueError(allowed) from None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "run"


def _run_id(variant: str, county: str, seed: int, days: int, config: Scenario) -> str:
    """Readable and unique: changes to the scenario's content give a new id (no stale reuse)."""
    digest = hashlib.sha1(
        json.dumps([config.model_dump(mode="json"), days, seed], sort_keys=True,
                   default=str).encode()
    ).hexdigest()[:10]
    return f"{_slug(variant)[:60]}-{_slug(county)[:30]}-s{seed}-{digest}"


# ---------------------------------------------------------------------------------------------
# one run (in a worker) and its files


@dataclass
class RunOutput:
    """What a worker sends back: indicators, monthly headline indicators, the counters' window."""

    indicators: pd.DataFrame
    monthly: pd.DataFrame
    window: dict
    results: Results | None


def simulate(run: Run, keep: list[str]) -> RunOutput:
    """Run one simulation (in any process) and return its tables; writes nothing."""
    res = run_scenario(run.config, days=run.days, seed=run.seed)
    table = res.indicators[res.indicators.indicator.isin(keep)][["indicator", "value"]]
    monthly = res.monthly(list(indicators.HEADLINE))
    return RunOutput(table.reset_index(drop=True), monthly, window_to_json(res.window()),
                     res if run.keep_results else None)


def window_to_json(w: indicators.Window) -> dict:
    """A counters window as plain JSON data."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v.tolist() if isinstance(v, np.ndarray) else v

    return {f.name: plain(getattr(w, f.name)) for f in fields(w)}


def window_from_json(data: dict) -> indicators.Window:
    """Inverse of ``window_to_json``."""
    plain = {"days", "residents", "settlement_fund_extra", "community_fund_extra", "scores",
             "scored_years"}
    return indicators.Window(**{
        k: v if k in plain else tuple(map(tuple, v)) if k == "cost_by_year"
        else {name: np.asarray(x) for name, x in v.items()} if k == "counts" else np.asarray(v)
        for k, v in data.items()
    })


def write_run(runs_dir: Path, run: Run, output: RunOutput) -> Path:
    """Write a finished run to ``runs_dir/<run_id>/`` atomically (a folder rename)."""
    final = runs_dir / run.run_id
    tmp = Path(tempfile.mkdtemp(prefix=temporary_prefix(run.run_id), dir=runs_dir))
    os.chmod(tmp, DIR_MODE)
    keys = run.keys()
    for name, table in (("indicators", output.indicators), ("monthly", output.monthly)):
        table.assign(**keys)[[*keys, *table.columns]].to_parquet(tmp / f"{name}.parquet",
                                                                  index=False)
    (tmp / "window.json").write_text(json.dumps(output.window), "utf-8")
    if output.results is not None:
        output.results.save(tmp / FULL_RESULTS)
    try:
        os.replace(tmp, final)
    except OSError:  # another process finished the same run first
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def is_done(runs_dir: Path, run: Run) -> bool:
    """Whether the run's folder exists (folders appear only complete, by rename)."""
    return (runs_dir / run.run_id / "window.json").is_file()


# ---------------------------------------------------------------------------------------------
# execution


def check_workers(plan: Plan, workers: int | None = None, dask: str | None = None) -> None:
    """Check, before any run, that the plan's worker processes on this machine fit in memory.

    Processes here = min(``workers`` (default: one per core), runs), each holding a county as
    large as the plan's largest; a remote Dask scheduler's workers run elsewhere (not checked).
    """
    if dask is not None and dask != "local":
        return
    processes = min(workers or os.cpu_count() or 1, max(len(plan.runs), 1))
    preflight.check_workers(processes, plan.largest_county,
                            workers if workers else "one per core")


@contextmanager
def executor(workers: int | None = None, dask: str | None = None) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor for the runs.

    ``dask``: a scheduler address, or ``"local"`` for a ``LocalCluster`` of ``workers``
    processes; then Dask's own executor is used. Otherwise ``workers`` processes (default: one per
    core); ``workers=1`` runs in this process, one run after another.
    """
    if dask is not None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(None, "--dask", dask,
                             "Dask installed: pip install 'flowsim[dask]'") from None
        cluster = None
        if dask == "local":
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        try:
            client = Client(cluster if cluster is not None else dask, timeout="20s")
        except OSError as err:
            if cluster is not None:
                cluster.close()
            raise InputError(None, "--dask", dask,
                             f"the address of a running Dask scheduler ({err})") from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            yield pool
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("forkserver")) as pool:
        yield pool


def execute(
    plan: Plan,
    pool: Executor,
    *,
    on_start: Callable[[int, int], None] | None = None,
    on_run: Callable[[Run], None] | None = None,
) -> ExperimentResults:
    """Run what is not done yet, write each run as it finishes, then write the summary files.

    Args:
        plan: the runs (``load_experiment`` or ``compare_plan``).
        pool: a ``concurrent.futures`` executor (see ``executor``).
        on_start: called with (runs already done, runs to do) before the first submission.
        on_run: called after each run is written (progress bars).
    """
    runs_dir = _prepare(plan.out)
    todo = [r for r in plan.runs if not is_done(runs_dir, r)]
    if on_start is not None:
        on_start(len(plan.runs) - len(todo), len(todo))
    pending: dict[Future, Run] = {pool.submit(simulate, r, plan.indicators): r for r in todo}
    failed: list[BaseException] = []
    try:
        for future in as_completed(pending):
            run = pending[future]
            if future.exception() is not None:  # keep going: the other runs are still worth it
                failed.append(future.exception())
                continue
            write_run(runs_dir, run, future.result())
            if on_run is not None:
                on_run(run)
    finally:
        for future in pending:
            future.cancel()
    if failed:
        raise failed[0]
    return collect(plan)


def _prepare(out: Path) -> Path:
    """The runs folder, without what killed runs of an earlier execution left half-written."""
    runs_dir = output_folder(output_folder(out) / RUNS_FOLDER)
    remove_leftovers(runs_dir)
    return runs_dir


# ---------------------------------------------------------------------------------------------
# summary: CIs, paired differences, province totals, sensitivity indices


def collect(plan: Plan) -> ExperimentResults:
    """Read every run of the plan, add provinces up, summarise and write the summary files."""
    runs_dir = plan.out / RUNS_FOLDER
    table = pd.concat([pd.read_parquet(runs_dir / r.run_id / "indicators.parquet")
                       for r in plan.runs], ignore_index=True)
    monthly = pd.concat([pd.read_parquet(runs_dir / r.run_id / "monthly.parquet")
                         for r in plan.runs], ignore_index=True)
    if len(plan.counties) > 1:
        table = pd.concat([table, _province(plan, runs_dir)], ignore_index=True)
    summary = summarise(table, plan.levers)
    monthly_summary = summarise(monthly, plan.levers, by=("month", "indicator"))
    differences = paired_differences(table, plan.baseline, plan.levers)
    sens = sensitivity_indices(plan, table)
    files = {"indicators": table, "monthly": monthly, "summary": summary,
             "monthly_summary": monthly_summary, "differences": differences}
    if sens is not None:
        files["sensitivity"] = sens
    write_unit(plan.out, {f"{name}.parquet": partial(frame.to_parquet, index=False)
                          for name, frame in files.items()}
               | {indicators.CODEBOOK: write_codebook}, "experiment.json", plan.meta())
    return ExperimentResults.load(plan.out)


def _province(plan: Plan, runs_dir: Path) -> pd.DataFrame:
    """Indicators of the counties added up (counters summed, then indicators computed)."""
    rows = []
    groups: dict[tuple[str, int], list[Run]] = {}
    for r in plan.runs:
        groups.setdefault((r.variant, r.replication), []).append(r)
    for (_, replication), members in groups.items():
        windows = [window_from_json(json.loads((runs_dir / r.run_id / "window.json")
                                               .read_text("utf-8"))) for r in members]
        values = indicators.compute(add_windows(windows))
        first = members[0]
        keys = first.keys() | {"run_id": f"{PROVINCE}-{first.run_id}", "county": PROVINCE,
                               "seed": plan.seeds[replication]}
        rows += [keys | {"indicator": k, "value": values[k]} for k in plan.indicators]
    return pd.DataFrame(rows)


def add_windows(windows: list[indicators.Window]) -> indicators.Window:
    """Counters of several counties over the same period, added up (a province)."""
    first = windows[0]
    years: dict[int, list] = {}
    for w in windows:
        for year, days, bill in w.cost_by_year:
            years.setdefault(year, [days, 0.0])[1] += bill
    summed = {f.name: sum(getattr(w, f.name) for w in windows) for f in fields(first)
              if f.name not in ("days", "cost_by_year", "counts")}
    return indicators.Window(
        days=first.days,
        counts={name: sum(w.counts[name] for w in windows) for name in first.counts},
        cost_by_year=tuple((y, d, b) for y, (d, b) in sorted(years.items())),
        **summed,
    )


def summarise(table: pd.DataFrame, levers: list[str], *,
              by: tuple[str, ...] = ("indicator",)) -> pd.DataFrame:
    """Mean and 95 % interval over replications per variant × county × ``by``, with labels.

    ``by`` is ``("indicator",)`` for the whole run, ``("month", "indicator")`` by month.
    """
    keys = ["variant", "scenario", "point", *levers, "county", *by]
    return _labelled(group_intervals(table, keys))


def paired_differences(table: pd.DataFrame, baseline: str, levers: list[str]) -> pd.DataFrame:
    """Variant − baseline per seed (common random numbers), mean and 95 % paired interval."""
    base = table[table.variant == baseline][["county", "seed", "indicator", "value"]]
    other = table[table.variant != baseline].merge(
        base, on=["county", "seed", "indicator"], suffixes=("", "_baseline"))
    other["diff"] = other.value - other.value_baseline
    keys = ["variant", "scenario", "point", *levers, "county", "indicator"]
    if other.empty:
        return pd.DataFrame(columns=[*keys, "baseline", "n_pairs", "diff_mean", "diff_ci_low",
                                     "diff_ci_high", "label_en", "label_zh", "unit"])
    out = group_intervals(other, keys, "diff").rename(columns={
        "n": "n_pairs", "mean": "diff_mean", "ci_low": "diff_ci_low", "ci_high": "diff_ci_high"})
    out.insert(len(keys), "baseline", baseline)
    return _labelled(out)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    ind = indicators.INDICATORS
    return frame.assign(
        label_en=frame.indicator.map(lambda n: ind[n].label_en),
        label_zh=frame.indicator.map(lambda n: ind[n].label_zh),
        unit=frame.indicator.map(lambda n: ind[n].unit),
    )


def sensitivity_indices(plan: Plan, table: pd.DataFrame) -> pd.DataFrame | None:
    """SALib indices per scenario × county × indicator from the mean over replications."""
    s = plan.sensitivity
    if s is None:
        return None
    problem = _problem(s)
    design = np.array([[v["params"][n] for n in problem["names"]]
                       for v in plan.variants if v["scenario"] == plan.variants[0]["scenario"]])
    rows = []
    means = table.groupby(["scenario", "county", "indicator", "point"]).value.mean()
    for (scenario, county, ind), y in means.groupby(level=[0, 1, 2]):
        y = y.droplevel([0, 1, 2]).sort_index().to_numpy(float)
        if not np.all(np.isfinite(y)):
            continue
        if s.method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, design, y, num_levels=s.levels, seed=s.seed)
            cols = ("mu", "mu_star", "mu_star_conf", "sigma")
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, seed=s.seed)
            cols = ("S1", "S1_conf", "ST", "ST_conf")
        for j, name in enumerate(problem["names"]):
            rows.append({"method": s.method, "scenario": scenario, "county": county,
                         "indicator": ind, "parameter": name}
                        | {c: float(res[c][j]) for c in cols})
    return _labelled(pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------
# reading an experiment folder


@dataclass
class ExperimentResults:
    """An experiment folder as DataFrames (see the module docstring for the files)."""

    path: Path
    meta: dict
    indicators: pd.DataFrame
    monthly: pd.DataFrame
    summary: pd.DataFrame
    monthly_summary: pd.DataFrame
    differences: pd.DataFrame
    sensitivity: pd.DataFrame | None = None

    @classmethod
    def load(cls, path: str | Path) -> ExperimentResults:
        """Read a folder written by ``execute``; a partial, mixed or damaged one is refused."""
        path = Path(path)
        what = "an experiment folder written by 'flowsim experiment' or 'flowsim compare'"
        meta = read_unit(path, "experiment.json", what)
        needed = [f"{n}.parquet" for n in SUMMARIES]
        missing = [n for n in needed if not (path / n).is_file()]
        if missing:
            raise InputError(path, "files", ", ".join(missing) + " missing", what)
        sens = path / "sensitivity.parquet"
        has_sens = "sensitivity.parquet" in meta.get("files", {}) or (
            "files" not in meta and sens.is_file())
        try:
            return cls(path, meta, *(pd.read_parquet(path / n) for n in needed),
                       pd.read_parquet(sens) if has_sens else None)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise InputError(path, "files", f"{type(err).__name__}: {err}",
                             f"{what}; this one is damaged (run again)") from None

    @property
    def variants(self) -> list[str]:
        """The variants in the order of the experiment file, the baseline first."""
        return [v["variant"] for v in self.meta["variants"]]

    def example(self, variant: str) -> Results:
        """Full results of ``variant``'s first replication in the first county (the one kept)."""
        if variant not in self.variants:
            raise KeyError(f"no run of variant {variant!r}; variants: "
                           + ", ".join(self.variants))
        return Results.load(self._kept(variant)[1])

    def examples(self) -> Iterator[tuple[str, str, Results]]:
        """(variant, county, full results) of each variant's kept run, in the variants' order."""
        for variant in self.variants:
            county, folder = self._kept(variant)
            yield variant, county, Results.load(folder)

    def _kept(self, variant: str) -> tuple[str, Path]:
        """County and folder of the variant's run with full results (``Run.keep_results``)."""
        runs = self.indicators[(self.indicators.variant == variant)
                               & (self.indicators.replication == 0)
                               & (self.indicators.county == self.meta["counties"][0])]
        run_id = runs.run_id.iloc[0]
        return self.meta["counties"][0], self.path / RUNS_FOLDER / run_id / FULL_RESULTS


def load_folder(folder: str | Path, field: str = "RESULTS_DIR") -> Results | ExperimentResults:
    """The results saved in ``folder``: an experiment or comparison, or a single run.

    Raises:
        InputError: ``folder`` holds neither (the error names ``field``, the argument it came
            from).
    """
    folder = Path(folder)
    if (folder / "experiment.json").is_file():
        return ExperimentResults.load(folder)
    if (folder / "run.json").is_file():
        return Results.load(folder)  # refuses a partial, mixed or damaged folder itself
    allowed = ("a results folder written by 'flowsim run --out', 'flowsim compare' or "
               "'flowsim experiment' (with run.json or experiment.json)")
    raise InputError(None, field, str(folder), allowed if folder.is_dir()
                     else "no such folder; expected " + allowed)


def compare(
    files: list[str | Path],
    *,
    days: int | None = None,
    replications: int = 1,
    first_seed: int = 0,
    out: str | Path = "out/compare",
    workers: int | None = None,
    dask: str | None = None,
) -> ExperimentResults:
    """Run scenario files side by side (the first is the baseline), as ``flowsim compare``."""
    the_plan = compare_plan(files, days=days, replications=replications, first_seed=first_seed,
                            out=out)
    check_workers(the_plan, workers, dask)
    with executor(workers, dask) as pool:
        return execute(the_plan, pool)


def run_experiment(scenario: Scenario | str | Path | None = None, *, days: int | None = None,
                   seed: int = 0, **params: float) -> dict[str, float]:
    """One run with parameters set by name; returns every indicator (for EMA Workbench).

    Parameter names are scenario paths with ``.`` or ``__`` between parts, e.g.
    ``benefits__resident__inpatient__rate__value__township=0.9``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if params:
        scenario = scenario.with_overrides({k.replace("__", "."): v for k, v in params.items()})
    res = run_scenario(scenario, days=days, seed=seed)
    return dict(zip(res.indicators.indicator, res.indicators.value.astype(float), strict=True))
