"""Calibration: fit named free parameters of a scenario to target indicators.

A *targets file* (``configs/targets/*.yaml``) names the indicators to reproduce (value, tolerance,
source), the free parameters (dotted paths as accepted by ``Scenario.with_overrides``,
with bounds), and how to simulate (days, seeds, an optional smaller county). ``calibrate`` fits
the parameters with ``scipy.optimize.least_squares`` (trust-region reflective, bounded) on the
errors (achieved − target) / tolerance, where *achieved* is the mean over the replications.
Every evaluation runs the same seeds (common random numbers), so the objective is a deterministic
function of the parameters, smooth enough for finite differences of a few percent.
``write_calibrated`` writes a scenario that ``extends:`` the input and overrides the fitted
parameters, each with its provenance (``calibrated to <targets file> (<targets>), <date>``).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
import yaml
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError
from scipy import optimize

from flowsim import elasticities, indicators
from flowsim.api import simulate
from flowsim.config import (
    MAX_SEED,
    Flag,
    Number,
    Scenario,
    Strict,
    Whole,
    load_model,
    load_scenario,
)
from flowsim.errors import InputError
from flowsim.files import output_folder, write_text_atomically
from flowsim.intervals import mean_interval
from flowsim.labels import text
from flowsim.results import whole_run_window

# ---------------------------------------------------------------------------------------------
# targets file


class Elasticity(Strict):
    """How a participation elasticity is measured: every tier's bills of ``service`` raised."""

    service: Literal["outpatient", "inpatient"]
    change: Annotated[float, Field(gt=0, le=1)] = 0.10
    """Relative rise of the bills (0.10 = 10 %), in a paired run with the same seed."""


class Target(Strict):
    """One target: an indicator (by its name) or a participation elasticity, with its source."""

    value: Number
    tolerance: Annotated[Number, Field(gt=0)]
    relative: Flag = False
    """True: ``tolerance`` is a fraction of ``value`` (0.1 = ±10 %); else in the indicator unit."""
    fit: Flag = True
    """False: report the target beside the fit but leave it out of the objective."""
    elasticity: Elasticity | None = None
    """Measure a participation elasticity (``flowsim.elasticities.participation``) instead of an
    indicator: each evaluation adds a paired run with the bills raised, per seed."""
    source: str
    note: str = ""

    def label(self, name: str, lang: str) -> str:
        """What is targeted, in ``lang``."""
        if self.elasticity is not None:
            return text(f"calibrate.elasticity.{self.elasticity.service}", lang)
        return indicators.INDICATORS[name].label(lang)

    def unit(self, name: str) -> str:
        """The unit of the targeted value."""
        return "elasticity" if self.elasticity is not None else indicators.INDICATORS[name].unit

    @property
    def band(self) -> float:
        """The tolerance in the indicator's unit."""
        return self.tolerance * abs(self.value) if self.relative else self.tolerance


class FreeParameter(Strict):
    """A parameter the optimiser may change."""

    path: str
    """Dotted path to a numeric value, e.g. ``choice.outpatient_tier_constant.value.county``."""
    bounds: tuple[Number, Number]
    start: Number | None = None
    """Starting value (default: the scenario's value; 1 for a scale factor)."""
    scale: Flag = False
    """If true, the free variable multiplies every number under ``path`` (e.g. all age bands)."""
    also: list[str] = []
    """Other dotted paths that take the same value (e.g. the chronic cost weight with the
    outpatient one)."""

    @model_validator(mode="after")
    def _bounds_order(self) -> Self:
        lo, hi = self.bounds
        if not lo < hi:
            raise PydanticCustomError(
                "bounds_order", "bounds [low, high] with low < high",
                {"field": "bounds", "input": list(self.bounds)},
            )
        if self.start is not None and not lo <= self.start <= hi:
            raise PydanticCustomError(
                "start_bounds", "a start within bounds [{lo}, {hi}]",
                {"field": "start", "input": self.start, "lo": lo, "hi": hi},
            )
        return self


class Runs(Strict):
    """How each evaluation simulates: the same seeds every time (common random numbers)."""

    days: Annotated[Whole, Field(ge=30, le=3650)] = 365
    seeds: Annotated[list[Annotated[Whole, Field(ge=0, le=MAX_SEED)]], Field(min_length=2)]
    overrides: dict[str, Any] = {}
    """Dotted-path overrides applied while fitting, e.g. a smaller county with the same
    per-capita parameters; they are not written to the calibrated scenario."""


class Optimiser(Strict):
    """Settings of ``scipy.optimize.least_squares``."""

    max_evaluations: Annotated[Whole, Field(ge=1, le=100_000)] = 80
    diff_step: Annotated[Number, Field(gt=0, le=0.5)] = 0.05
    """Finite-difference step, relative to max(1, |x|): large enough to see through the
    integer noise of a simulation."""
    xtol: Annotated[Number, Field(gt=0)] = 1e-3
    ftol: Annotated[Number, Field(gt=0)] = 1e-4
    stop_within: Annotated[Number, Field(ge=0, le=1)] = 0.2
    """Stop as soon as every fitted target is within this fraction of its tolerance."""


class TargetsFile(Strict):
    """A calibration: target indicators, free parameters, simulation and optimiser settings."""

    name: str
    description: str = ""
    targets: dict[str, Target]
    parameters: Annotated[list[FreeParameter], Field(min_length=1)]
    runs: Runs
    optimiser: Optimiser = Optimiser()

    @model_validator(mode="after")
    def _known_indicators(self) -> Self:
        for name, target in self.targets.items():
            if target.elasticity is None and name not in indicators.INDICATORS:
                raise PydanticCustomError(
                    "unknown_indicator",
                    "an indicator name: one of {known}",
                    {"field": f"targets.{name}", "input": name,
                     "known": ", ".join(indicators.INDICATORS)},
                )
        fitted = [n for n, t in self.targets.items() if t.fit]
        if not fitted:
            raise PydanticCustomError(
                "no_fitted_target", "at least one target with fit: true",
                {"field": "targets", "input": list(self.targets)},
            )
        paths = [p.path for p in self.parameters]
        for i, p in enumerate(paths):
            if p in paths[:i]:
                raise PydanticCustomError(
                    "duplicate_parameter", "each path once",
                    {"field": f"parameters.{i}.path", "input": p},
                )
        return self

    _file: Path | None = None

    @property
    def file(self) -> Path | None:
        """The targets file this was loaded from."""
        return self._file

    @property
    def fitted(self) -> list[str]:
        """Names of the targets in the objective."""
        return [n for n, t in self.targets.items() if t.fit]


def load_targets(path: str | Path) -> TargetsFile:
    """Load and validate a targets file; bad input raises ``InputError`` (file, field, value)."""
    path = Path(path)
    spec = load_model(path, TargetsFile, "targets file")
    spec._file = path
    return spec


# ---------------------------------------------------------------------------------------------
# free parameters on a scenario


def _param_node(raw: dict, dotted: str) -> tuple[list[str], Any]:
    """(keys, value) of ``dotted`` in a raw scenario; KeyError if absent."""
    node: Any = raw
    keys = dotted.split(".")
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(dotted)
        node = node[key]
    return keys, node


def _numbers_in(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_numbers_in(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_numbers_in(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return float(value) * factor


def check_parameters(spec: TargetsFile, scenario: Scenario) -> list[float]:
    """Validate the free parameters against ``scenario``; return the start point.

    Raises:
        InputError: naming the targets file, ``parameters.<i>.path`` and what is allowed.
    """
    raw = scenario.raw()
    x0 = []
    for i, p in enumerate(spec.parameters):
        start_value = _numeric_value(spec, scenario, raw, f"parameters.{i}.path", p.path,
                                     p.scale)
        for k, other in enumerate(p.also):
            _numeric_value(spec, scenario, raw, f"parameters.{i}.also.{k}", other, p.scale)
        start = p.start if p.start is not None else (1.0 if p.scale else float(start_value))
        lo, hi = p.bounds
        if not lo <= start <= hi:
            raise InputError(
                spec.file, f"parameters.{i}.bounds", list(p.bounds),
                f"bounds containing the start value {start}",
            )
        x0.append(start)
    return x0


def _numeric_value(spec, scenario, raw, field: str, path: str, scale: bool) -> Any:
    """The value at ``path`` of the raw scenario: one number, or numbers if ``scale``."""
    try:
        keys, value = _param_node(raw, path)
    except KeyError:
        raise InputError(
            spec.file, field, path,
            f"a dotted path to a parameter value of {scenario.file or scenario.name} "
            "(e.g. choice.outpatient_tier_constant.value.county)",
        ) from None
    if "value" not in keys or not _numbers_in(value) or (
            not scale and not isinstance(value, int | float)):
        what = "numbers (a plain value or group)" if scale else "one plain number"
        raise InputError(spec.file, field, path,
                         f"a path under a parameter's 'value' holding {what} (found {value!r})")
    return value


def overrides_for(spec: TargetsFile, scenario: Scenario, x: np.ndarray) -> dict[str, Any]:
    """The ``with_overrides`` mapping that sets the free parameters to ``x``."""
    raw = scenario.raw()
    out: dict[str, Any] = {}
    for p, v in zip(spec.parameters, x, strict=True):
        if p.scale:
            out[p.path] = _scaled(_param_node(raw, p.path)[1], float(v))
        else:
            out[p.path] = float(v)
        for other in p.also:
            out[other] = out[p.path]
    return out


# ---------------------------------------------------------------------------------------------
# fitting


@dataclass
class Achieved:
    """One indicator over the replications of one evaluation."""

    values: np.ndarray

    @property
    def mean(self) -> float:
        """Mean over replications."""
        return float(np.mean(self.values))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Student-t interval of the mean across replications."""
        _, low, high = mean_interval(self.values, level)
        return low, high


@dataclass
class Fit:
    """The outcome of a calibration."""

    spec: TargetsFile
    scenario: Scenario
    x0: np.ndarray
    x: np.ndarray
    achieved: dict[str, Achieved]
    start_achieved: dict[str, Achieved]
    converged: bool
    message: str
    iterations: int
    evaluations: int
    simulations: int
    seconds: float
    history: list[tuple[np.ndarray, float]] = field(default_factory=list)

    def error(self, name: str, achieved: dict[str, Achieved] | None = None) -> float:
        """(achieved − target) / tolerance of one target (at the fit unless ``achieved``)."""
        t = self.spec.targets[name]
        return ((achieved or self.achieved)[name].mean - t.value) / t.band

    def within(self, name: str) -> bool:
        """Whether the fitted mean is within the target's tolerance."""
        return abs(self.error(name)) <= 1

    @property
    def overrides(self) -> dict[str, Any]:
        """Overrides setting the fitted values on the input scenario."""
        return overrides_for(self.spec, self.scenario, self.x)


def fitting_scenario(spec: TargetsFile, scenario: Scenario) -> Scenario:
    """``scenario`` with the targets file's ``runs.overrides`` (e.g. a smaller county)."""
    if not spec.runs.overrides:
        return scenario
    try:
        return scenario.with_overrides(spec.runs.overrides)
    except InputError as err:
        raise InputError(spec.file, f"runs.overrides ({err.field})", err.value,
                         err.allowed) from None


def replicate(scenario: Scenario, targets: dict[str, Target | None], *, seeds: list[int],
              days: int) -> np.ndarray:
    """The targeted values of ``scenario`` run once per seed: an array [seed, target].

    A name whose target is None, or an indicator's target, is read from the run; a participation
    elasticity from the run and a paired run of the same seed with the bills raised
    (``flowsim.elasticities``).
    """
    measured = {name: t for name, t in targets.items() if t is not None and t.elasticity}
    rises = {t.elasticity.service: elasticities.raised(scenario, t.elasticity.service,
                                                       change=t.elasticity.change)
             for t in measured.values()}
    rows = []
    for seed in seeds:
        base = whole_run_window(simulate(scenario, days=days, seed=seed))
        values = indicators.compute(base)
        paired = {service: whole_run_window(simulate(rise, days=days, seed=seed))
                  for service, rise in rises.items()}
        rows.append([
            elasticities.participation(base, paired[measured[name].elasticity.service],
                                       measured[name].elasticity.service)
            if name in measured else values[name]
            for name in targets])
    return np.array(rows, float)


class _Converged(Exception):
    def __init__(self, x: np.ndarray) -> None:
        self.x = x


def calibrate(
    scenario: Scenario | str | Path,
    spec: TargetsFile | str | Path,
    *,
    on_evaluation: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> Fit:
    """Fit the free parameters of ``scenario`` to the targets of ``spec``.

    Args:
        scenario: the scenario (or its file) whose parameters are fitted.
        spec: the targets file (or its path).
        on_evaluation: called with (evaluation number, parameters, standardised errors of the
            fitted targets) after each new evaluation (progress output).

    Returns:
        The fit: fitted values, achieved indicators per replication at the start and at the fit,
        and the optimiser's iterations, evaluations and time.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(spec, TargetsFile):
        spec = load_targets(spec)
    x0 = np.array(check_parameters(spec, scenario))
    fitting = fitting_scenario(spec, scenario)
    names = list(spec.targets)
    fitted = spec.fitted
    bands = np.array([spec.targets[n].band for n in fitted])
    values = np.array([spec.targets[n].value for n in fitted])
    cache: dict[tuple[float, ...], np.ndarray] = {}  # x → [replication, target]
    history: list[tuple[np.ndarray, float]] = []
    started = time.perf_counter()

    def simulate(x: np.ndarray) -> np.ndarray:
        key = tuple(np.round(x, 9))
        if key not in cache:
            trial = fitting.with_overrides(overrides_for(spec, scenario, x))
            cache[key] = replicate(trial, spec.targets, seeds=spec.runs.seeds,
                                   days=spec.runs.days)
        return cache[key]

    def residuals(x: np.ndarray) -> np.ndarray:
        new = tuple(np.round(x, 9)) not in cache
        table = simulate(x)
        r = (table[:, [names.index(n) for n in fitted]].mean(axis=0) - values) / bands
        if new:
            history.append((x.copy(), float(np.max(np.abs(r)))))
            if on_evaluation is not None:
                on_evaluation(len(cache), x, r)
        if np.all(np.abs(r) <= spec.optimiser.stop_within):
            raise _Converged(x.copy())
        return r

    lo, hi = (np.array(b) for b in zip(*(p.bounds for p in spec.parameters), strict=True))
    opt = spec.optimiser
    try:
        result = optimize.least_squares(
            residuals, x0, bounds=(lo, hi), method="trf", diff_step=opt.diff_step,
            x_scale="jac", xtol=opt.xtol, ftol=opt.ftol, gtol=1e-6, max_nfev=opt.max_evaluations,
        )
        x, message = result.x, result.message
        iterations = int(result.njev or 0)
        converged = bool(result.success)
        # least_squares returns its best point; make sure it is the best evaluated one
        best = min(history, key=lambda h: h[1])
        if best[1] < float(np.max(np.abs(residuals(x)))):
            x = best[0]
    except _Converged as done:
        x = done.x
        converged = True
        message = (f"every fitted target within {opt.stop_within:g} of its tolerance")
        iterations = _iterations_so_far(history, len(x0))
    table = simulate(x)
    start_table = simulate(x0)
    return Fit(
        spec=spec, scenario=scenario, x0=x0, x=np.asarray(x, float),
        achieved={n: Achieved(table[:, i]) for i, n in enumerate(names)},
        start_achieved={n: Achieved(start_table[:, i]) for i, n in enumerate(names)},
        converged=converged, message=message, iterations=iterations,
        evaluations=len(cache), simulations=len(cache) * len(spec.runs.seeds),
        seconds=time.perf_counter() - started, history=history,
    )


def _iterations_so_far(history: list, n_params: int) -> int:
    """Trust-region iterations completed when stopped early (each costs ≈ n + 1 evaluations)."""
    return math.ceil((len(history) - 1) / (n_params + 1))


# ---------------------------------------------------------------------------------------------
# output


def calibrated_document(fit: Fit, out: Path, *, today: date | None = None) -> dict:
    """The calibrated scenario as YAML data: ``extends:`` the input, fitted Params overridden.

    Each overridden parameter keeps its unit and description; its source names the targets file,
    the fitted targets and the date.
    """
    scenario_file = fit.scenario.file
    if scenario_file is None:
        raise InputError(None, "scenario", fit.scenario.name,
                         "a scenario loaded from a file (the output extends it)")
    today = today or date.today()
    targets_file = fit.spec.file.as_posix() if fit.spec.file else fit.spec.name
    source = (f"calibrated to {targets_file} ({', '.join(fit.spec.fitted)}), "
              f"{today.isoformat()}")
    raw = fit.scenario.raw()
    doc: dict[str, Any] = {
        "extends": Path(os.path.relpath(scenario_file.resolve(), out.resolve().parent)).as_posix(),
        "name": f"{fit.scenario.name}-calibrated",
        "description": (f"{fit.scenario.name} with {len(fit.x)} parameters fitted to "
                        f"{targets_file} ({fit.spec.name})."),
    }
    for dotted, value in fit.overrides.items():
        keys = dotted.split(".")
        at = keys.index("value")
        param_keys, member = keys[:at], keys[at + 1:]
        node = doc
        for k in param_keys:
            node = node.setdefault(k, {})
        if "value" not in node:  # first fitted member of this Param: copy it whole
            original = _param_node(raw, ".".join(param_keys))[1]
            node.update(copy.deepcopy({k: original[k] for k in ("value", "unit", "description")}))
            node["source"] = f"{source}; was {_brief(original['value'])} ({original['source']})"
        if member:
            holder = node["value"]
            for k in member[:-1]:
                holder = holder[k]
            holder[member[-1]] = _rounded(value)
        else:
            node["value"] = _rounded(value)
    return doc


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return float(f"{value:.4g}")


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_brief(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_calibrated(fit: Fit, out: str | Path, *, today: date | None = None) -> Path:
    """Write the calibrated scenario (with the fit as a header comment) and check it loads."""
    out = Path(out)
    doc = calibrated_document(fit, out, today=today)
    lines = [f"# {line}" for line in fit_summary(fit)]
    text = "\n".join(lines) + "\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False,
                                                    width=100)
    write_text_atomically(output_folder(out.parent, "--out") / out.name, text)
    load_scenario(out)  # the file must load like any scenario
    return out


def fit_summary(fit: Fit) -> list[str]:
    """Plain-text lines: fitted parameters and target vs achieved (for file headers and logs)."""
    spec = fit.spec
    lines = [
        f"calibrated by `flowsim calibrate` against {spec.file or spec.name}: "
        f"{'converged' if fit.converged else 'NOT converged'} ({fit.message}); "
        f"{fit.iterations} iterations, {fit.evaluations} evaluations × {len(spec.runs.seeds)} "
        f"seeds, {spec.runs.days} days",
    ]
    for p, a, b in zip(spec.parameters, fit.x0, fit.x, strict=True):
        lines.append(f"  {p.path}{' (scale)' if p.scale else ''}: {a:.4g} -> {b:.4g}")
    for name, t in spec.targets.items():
        lo, hi = fit.achieved[name].interval()
        lines.append(
            f"  {name}: target {t.value:.4g} ± {t.band:.3g}, achieved {fit.achieved[name].mean:.4g}"
            f" [95 % {lo:.4g}, {hi:.4g}]{'' if t.fit else ' (reported, not fitted)'}")
    return lines
