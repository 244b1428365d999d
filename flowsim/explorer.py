"""The policy explorer's model: one county under the baseline and under the user's levers.

``PolicyExplorer`` is a Mesa model that owns two ``CountyModel``s built from the same seed
(common random numbers: both see the same illnesses): ``baseline`` runs the scenario as written,
``policy`` the scenario with the user's lever settings. One ``step`` is one calendar month; both
counties simulate its days, then Mesa's ``DataCollector`` records the month (``MEASURES``, per
county) and the indicators of the run so far (``HEADLINE``, per county).

``LEVERS`` declares the controls once: each lever names the scenario paths it sets, all to one
value; its label comes from ``flowsim.labels`` (``lever.<name>``), its unit, description and
source from the scenario's ``Param``. ``scenario_file`` writes the user's settings as a scenario
that ``extends:`` the baseline file and holds only what changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import mesa
import yaml

from flowsim import indicators
from flowsim.config import POPULATION, Param, Scenario, load_scenario, value_on
from flowsim.domain import TIERS, Tier
from flowsim.experiments import with_settings
from flowsim.labels import text
from flowsim.model import CountyModel
from flowsim.results import flows_window, whole_run_window

# -- levers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """A control of the explorer: scenario ``paths`` that it sets, all to one value.

    ``kind`` is "percent" (a fraction in the scenario, whole percent on the slider, from ``low``
    to ``high``), "flag" (true or false) or "choice" (one of ``choices``).
    """

    name: str
    paths: tuple[str, ...]
    kind: str
    low: int = 0
    high: int = 100
    choices: tuple[str, ...] = ()

    def param(self, scenario: Scenario) -> Param:
        """The ``Param`` that the first path sets (its unit, description and source)."""
        node: Any = scenario
        for key in self.paths[0].split(".value")[0].split("."):
            node = getattr(node, key)
        return node

    def value(self, scenario: Scenario) -> Any:
        """The value of the first path in force on the scenario's start date."""
        param = self.param(scenario)
        node: Any = param.value
        member = self.paths[0].split(".value")[1].strip(".")
        for key in filter(None, member.split(".")):
            node = getattr(node, key)
        return value_on(node, scenario.start_date) if isinstance(node, dict) else node

    def label(self, lang: str) -> str:
        """The lever's name in ``lang`` (``lever.<name>`` in ``flowsim.labels``)."""
        return text(f"lever.{self.name}", lang)

    def shown(self, value: Any, lang: str) -> str:
        """A value as the control shows it: "85 %", "yes", "DRG", "township health centre"."""
        if self.kind == "percent":
            return f"{round(100 * value)} %"
        if self.kind == "flag":
            return text("word.yes" if value else "word.no", lang)
        key = f"tier.{value}" if value in TIERS else f"value.{value}"
        return text(key, lang)

    def hover(self, scenario: Scenario, lang: str) -> str:
        """What the control's hover text says: description, unit, source and paths."""
        p = self.param(scenario)
        return text("app.hover", lang, description=p.description, unit=p.unit, source=p.source,
                    paths=", ".join(self.paths))


_PENALTY = "benefits.gatekeeping.penalty.value"
LEVERS: tuple[Lever, ...] = (
    Lever("inpatient_rate_township", ("benefits.resident.inpatient.rate.value.township",),
          "percent", 40, 100),
    Lever("inpatient_rate_county", ("benefits.resident.inpatient.rate.value.county",),
          "percent", 40, 100),
    Lever("deductible_waived", ("benefits.grassroots_outpatient_deductible_waived.value",),
          "flag"),
    Lever("gatekeeping_county", tuple(f"{_PENALTY}.{scheme}.{service}.county"
                                      for scheme in ("resident", "employee")
                                      for service in ("outpatient", "chronic")), "percent", 0, 50),
    Lever("out_of_county_penalty", tuple(f"{_PENALTY}.{scheme}.inpatient.out_of_county"
                                         for scheme in ("resident", "employee")), "percent", 0, 50),
    Lever("chronic_rate", ("benefits.resident.chronic.rate.value.village",
                           "benefits.resident.chronic.rate.value.township"), "percent", 30, 100),
    Lever("certifying_tier", ("benefits.chronic.lowest_certifying_tier.value",), "choice",
          choices=("village", "township", "county")),
    Lever("global_budget", ("community.global_budget.value",), "flag"),
    Lever("inpatient_method", tuple(f"payment.inpatient_method.value.{tier}"
                                    for tier in ("township", "county", "out_of_county")),
          "choice", choices=("fee_for_service", "drg", "dip")),
    Lever("assistance_dibao", ("assistance.share.value.dibao",), "percent", 0, 100),
)
"""The controls, in the order shown. Rates are the resident scheme's (城乡居民医保, most of a
rural county); the gatekeeping cuts apply to both schemes and are read as the scenario's
``benefits.gatekeeping.mode`` says (rate points in the shipped scenarios)."""
LEVER = {lever.name: lever for lever in LEVERS}


def overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Lever settings (lever name → value) as scenario overrides (path → value)."""
    return {path: value for name, value in settings.items() for path in LEVER[name].paths}


def changed(baseline: Scenario, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that differ from the baseline's values on its start date."""
    return {name: value for name, value in settings.items()
            if value != LEVER[name].value(baseline)}


APP_POPULATION = 50_000
"""Residents of the explorer's county when the scenario's is synthetic and no size is given:
a month of two such counties takes a fraction of a second."""


def app_baseline(file: str | Path | None, population: int | None) -> Scenario:
    """The explorer's baseline: scenario ``file`` (None: the built-in county), sized.

    ``population`` residents; default ``APP_POPULATION`` for a synthetic county.

    Raises:
        InputError: a scenario that does not load, or a size for a county read from CSV files.
    """
    scenario = load_scenario(file)
    if population is None and scenario.county.synthetic is not None:
        population = APP_POPULATION
    return with_settings(scenario, {} if population is None else {POPULATION: population})


# -- the model -----------------------------------------------------------------------------------

ARMS = ("policy", "baseline")
"""The counties of the explorer: the user's settings, and the scenario as written."""
MEASURES = (
    *(f"visits_per_day_{t}" for t in TIERS),
    *(f"admissions_per_day_{t}" for t in TIERS),
    "grassroots_visit_share",
    "in_county_fund_share",
    *(f"fund_{t}" for t in TIERS),
    "oop_per_capita",
)
"""What the DataCollector records of each month, per county: outpatient visits and admissions
per day by tier, and the indicators of the same names (``flowsim.indicators``: shares, fund
spending by tier in yuan per year and out-of-pocket in yuan per person-year, annualised from the
month; year-end settlements are not in monthly flows)."""
HEADLINE = (
    "grassroots_visit_share",
    "first_contact_share",
    "in_county_admission_rate",
    "in_county_fund_share",
    "grassroots_fund_share",
    "effective_reimbursement_ratio",
    "oop_per_capita",
    "catastrophic_incidence",
    "no_care_share",
    "forgone_admission_share",
    "admissions_per_capita",
    "fund_per_capita",
    "fund_balance_per_capita",
)
"""Indicators of the run so far that the explorer compares, per county."""
MAX_MONTHS = 120
"""The explorer stops after ten years (``running`` turns false, as Mesa's play button expects)."""


def reporter(arm: str, name: str) -> str:
    """The DataCollector's name of ``name`` for county ``arm``: "policy.fund_county"."""
    return f"{arm}.{name}"


class PolicyExplorer(mesa.Model):
    """A county under the baseline and under the user's settings, a month per step.

    Args:
        baseline: the scenario as written (a loaded ``Scenario``).
        settings: lever name → value (``LEVERS``); the policy county runs the baseline with them.
        seed: the random seed of both counties (common random numbers).
        compare: also run the baseline county (off: only the policy county, twice as fast).

    State:
        counties: arm → ``CountyModel`` ("policy", and "baseline" when comparing).
        datacollector: Mesa's ``DataCollector``; a row per month, a column per county and
            measure (``reporter(arm, name)`` of ``MEASURES`` and ``HEADLINE``).
        months: the first day of each month simulated.
    """

    def __init__(self, baseline: Scenario, settings: dict[str, Any] | None = None, *,
                 seed: int = 1, compare: bool = True, rng: Any = None) -> None:
        super().__init__(rng=seed if rng is None else rng)
        self.baseline = baseline
        self.settings = changed(baseline, dict(settings or {}))
        self.policy = baseline.with_overrides(overrides(self.settings))
        self.seed = int(seed)
        arms = {"policy": self.policy, "baseline": baseline} if compare else {
            "policy": self.policy}
        self.counties = {arm: CountyModel(s, seed=self.seed) for arm, s in arms.items()}
        self.months: list[date] = []
        self._latest: dict[str, dict[str, float]] = {}
        self.datacollector = mesa.DataCollector(model_reporters={
            reporter(arm, name): _reads(arm, name) for arm in self.counties
            for name in (*MEASURES, *HEADLINE)})

    @property
    def date(self) -> date:
        """The first day not yet simulated."""
        return self.counties["policy"].date

    def step(self) -> None:
        """Simulate the calendar month from ``date`` in every county, then record it."""
        start = self.date
        days = (date(start.year + start.month // 12, start.month % 12 + 1, 1) - start).days
        for arm, county in self.counties.items():
            first = county.day
            county.run_for(days)
            record = county.record()
            self._latest[arm] = {**month_measures(flows_window(record, first)),
                                 **{name: value for name, value in indicators.compute(
                                     whole_run_window(record)).items() if name in HEADLINE}}
        self.months.append(start)
        self.datacollector.collect(self)
        if len(self.months) >= MAX_MONTHS:
            self.running = False

    def facilities(self, arm: str):
        """Each facility of county ``arm`` with its totals so far (``CountyModel.record``)."""
        return self.counties[arm].record().facilities

    def latest(self, arm: str, name: str) -> float:
        """The value of ``name`` (a measure or a headline indicator) after the last step."""
        return self._latest[arm][name]


def _reads(arm: str, name: str):
    return lambda model: model.latest(arm, name)


def rebuilt(explorer: PolicyExplorer, settings: dict[str, Any]) -> PolicyExplorer:
    """A new explorer with ``settings``, run to the month ``explorer`` has reached.

    The same seed and baseline, so only the settings differ; it takes about 0.1 s per county
    and month for 50,000 residents.
    """
    new = PolicyExplorer(explorer.baseline, settings, seed=explorer.seed,
                         compare="baseline" in explorer.counties)
    for _ in explorer.months:
        new.step()
    return new


def month_measures(window: indicators.Window) -> dict[str, float]:
    """``MEASURES`` of a month's ``window`` of flows (``results.flows_window``)."""
    out = {}
    for t in Tier:
        out[f"visits_per_day_{TIERS[t]}"] = float(window.visits[:, t].sum()) / window.days
        out[f"admissions_per_day_{TIERS[t]}"] = float(window.admissions[t].sum()) / window.days
    for name in MEASURES:
        if name in indicators.INDICATORS:
            out[name] = indicators.INDICATORS[name].compute(window)
    return out


# -- saving the settings as a scenario -------------------------------------------------------------


def scenario_file(baseline: Scenario, base_file: Path, settings: dict[str, Any], target: Path,
                  *, residents: int | None = None, today: date | None = None) -> Path:
    """Write ``settings`` as a scenario that ``extends:`` ``base_file`` and holds what changed.

    Each changed ``Param`` is written with its unit and description and a source saying that it
    was set in the app (and what the baseline had). ``residents``: the app's county size, noted
    in a comment (the file keeps the baseline's, so that it compares with it).

    Raises:
        ValueError: no setting differs from the baseline.
    """
    settings = changed(baseline, settings)
    if not settings:
        raise ValueError("no lever differs from the baseline")
    today = today or date.today()
    doc: dict[str, Any] = {
        "extends": _relative(base_file, target.parent),
        "name": target.stem,
        "description": (f"Set in the flowsim app (policy explorer) on {today.isoformat()} from "
                        f"{baseline.name}: " + "; ".join(
                            f"{LEVER[n].label('en')} {LEVER[n].shown(v, 'en')}"
                            for n, v in settings.items())),
    }
    for name, value in settings.items():
        lever = LEVER[name]
        param = lever.param(baseline)
        was = lever.shown(lever.value(baseline), "en")
        for path in lever.paths:
            param_path, member = path.split(".value")
            node = doc
            for key in param_path.split("."):
                node = node.setdefault(key, {})
            node.update(unit=param.unit, description=param.description,
                        source=f"set in the flowsim app on {today.isoformat()}: "
                               f"{lever.label('en')} {lever.shown(value, 'en')} "
                               f"({baseline.name}: {was})")
            keys = list(filter(None, member.split(".")))
            if not keys:
                node["value"] = value
                continue
            node = node.setdefault("value", {})
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = value
    note = ("# Written by the flowsim app. Only the levers that differ from the baseline are set.\n"
            + (f"# The app's county had {residents:,} residents: run it the same way with "
               f"--population {residents}.\n" if residents is not None else ""))
    target.write_text(note + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return target


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` where it can be, else absolute (POSIX separators)."""
    try:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.resolve().as_posix()

