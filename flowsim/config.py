"""Scenario files: YAML → merged (``extends:``) → validated by pydantic → typed ``Scenario``.

Every parameter is a ``Param``: ``value``, ``unit``, ``description``, ``source`` (a TARGETS.md row,
a seed document and clause, or ``assumed``). Policy parameters may be *dated*: a mapping
``{2023-07-01: 0.85}`` means the value takes effect on that simulated day. In a scenario that
``extends:`` another, a dated mapping written over a plain value keeps the parent's value until
the first date (so ``township: {2023-07-01: 0.85}`` reads "from 1 July 2023").

Bad input raises ``InputError`` naming the file, the field path, the value and what is allowed.
"""

from __future__ import annotations

import copy
import importlib.resources
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from flowsim.domain import PENALTY_MODES, UPWARD_CONTINUITY
from flowsim.errors import InputError

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# value types

Rate = Annotated[float, Field(ge=0, le=1)]
"""A fraction from 0 to 1."""
Yuan = Annotated[float, Field(ge=0)]
"""A non-negative amount of money in yuan."""
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]
Utility = float
"""A coefficient of the choice model's utility (unitless, 'utils'); may be negative."""

UNDATED = date.min
"""Key under which an undated value is stored: in force from the start of any run."""


def _as_dated(v: Any) -> Any:
    return v if isinstance(v, dict) else {UNDATED: v}


Dated = Annotated[dict[date, T], BeforeValidator(_as_dated)]
"""A value, or a mapping from the date each value takes effect to the value."""


def value_on(dated: dict[date, Any], day: date) -> Any:
    """The value of a dated mapping in force on ``day``: the latest entry dated on or before it."""
    in_force = [d for d in dated if d <= day]
    if not in_force:
        raise KeyError(day)
    return dated[max(in_force)]


class Strict(BaseModel):
    """Base of every config section: frozen, and an unknown key names the keys allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key",
                    {"key": str(unknown[0]), "allowed": ", ".join(cls.model_fields)},
                )
        return data


class Tiers(Strict, Generic[T]):
    """One value per tier of care."""

    village: T
    township: T
    county: T
    out_of_county: T


class Services(Strict, Generic[T]):
    """One value per benefit category."""

    outpatient: T
    chronic: T
    inpatient: T


class AgeBands(Strict, Generic[T]):
    """One value per age band (years): 0–14, 15–44, 45–64, 65 and over."""

    age_0_14: T
    age_15_44: T
    age_45_64: T
    age_65_plus: T


AGE_BAND_LIMITS = ((0, 14), (15, 44), (45, 64), (65, 95))
"""Inclusive age limits (years) of the bands in ``AgeBands``, in field order."""


class PovertyGroups(Strict, Generic[T]):
    """One value per medical-assistance group (医疗救助对象)."""

    extreme: T  # 特困人员
    dibao: T  # 低保对象
    near_dibao: T  # 低保边缘家庭
    monitored: T  # 防止返贫监测帮扶对象


class Schemes(Strict, Generic[T]):
    """One value per insurance scheme."""

    resident: T
    employee: T


class Param(Strict, Generic[T]):
    """A parameter with its provenance. ``value`` may be a scalar, a per-tier map, or dated."""

    value: T
    unit: str
    description: str
    source: str

    def on(self, day: date) -> Any:
        """Value in force on ``day``: a scalar, or a group as a numpy array in field order."""
        return _resolve(self.value, day)


def _resolve(v: Any, day: date) -> Any:
    if isinstance(v, BaseModel):
        return np.array([_resolve(getattr(v, f), day) for f in type(v).model_fields])
    if isinstance(v, dict):
        return value_on(v, day)
    return v


# ---------------------------------------------------------------------------------------------
# scenario sections


class SyntheticCounty(Strict):
    """A generated county: villages around township seats around the county seat."""

    population: Param[Count]
    townships: Param[Count]
    villages: Param[Count]
    radius_km: Param[Positive]
    village_road_kmh: Param[Positive]
    trunk_road_kmh: Param[Positive]
    out_of_county_minutes: Param[Positive]
    county_hospitals: Param[Count]

    @model_validator(mode="after")
    def _every_township_and_village_inhabited(self) -> Self:
        townships, villages = self.townships.value, self.villages.value
        if villages < townships:
            raise PydanticCustomError(
                "too_few",
                "at least one village per township (townships = {townships})",
                {"townships": townships, "field": "villages.value", "input": villages},
            )
        if self.population.value < villages:
            raise PydanticCustomError(
                "too_few",
                "at least one resident per village (villages = {villages})",
                {"villages": villages, "field": "population.value",
                 "input": self.population.value},
            )
        return self


class CsvCounty(Strict):
    """A real county from two CSV files (paths relative to the scenario file)."""

    villages: Param[str]
    facilities: Param[str]
    road_kmh: Param[Positive]
    detour_factor: Param[Positive]
    out_of_county_minutes: Param[Positive]


class CountySection(Strict):
    """Where the county comes from: exactly one of ``synthetic`` or ``csv``."""

    name: str = "county"
    synthetic: SyntheticCounty | None = None
    csv: CsvCounty | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.synthetic is None) == (self.csv is None):
            raise PydanticCustomError(
                "county_source", "give exactly one of county.synthetic or county.csv", {}
            )
        return self


class Capacity(Strict):
    """Facility capacity per 1,000 residents of the catchment."""

    outpatient_slots_per_day: Param[Tiers[NonNeg]]
    beds: Param[Tiers[NonNeg]]


class FacilitiesSection(Strict):
    """Prices, length of stay, capability and quality by tier."""

    capacity_per_1000: Capacity
    outpatient_bill: Param[Tiers[Yuan]]
    bill_dispersion: Param[NonNeg]
    chronic_visit_fee: Param[Tiers[Yuan]]
    chronic_drug_cost_per_day: Param[Tiers[Yuan]]
    admission_bill: Param[Tiers[Yuan]]
    length_of_stay: Param[Tiers[Positive]]
    rehab_bed_day_bill: Param[Yuan]
    rehab_length_of_stay: Param[Positive]
    outpatient_capability: Param[Tiers[Rate]]
    inpatient_capability: Param[Tiers[Rate]]
    quality: Param[Tiers[Rate]]
    transfer_after_days: Param[Count]


class PopulationSection(Strict):
    """Who lives in the county."""

    age_shares: Param[AgeBands[Rate]]
    employee_share_adults: Param[Rate]
    income_median: Param[Positive]
    income_sigma: Param[NonNeg]
    subsistence_share: Param[Rate]
    poverty_shares: Param[PovertyGroups[Rate]]
    hypertension_prevalence: Param[AgeBands[Rate]]
    diabetes_prevalence: Param[AgeBands[Rate]]
    chronic_managed_share: Param[Rate]
    family_doctor_contract_share: Param[Rate]

    @model_validator(mode="after")
    def _shares_sum(self) -> Self:
        total = sum(self.age_shares.on(UNDATED))
        if abs(total - 1) > 1e-6:
            raise PydanticCustomError(
                "shares_sum",
                "age shares must add up to 1 (they add up to {total})",
                {"total": round(total, 6), "field": "age_shares.value"},
            )
        if sum(self.poverty_shares.on(UNDATED)) > 1:
            raise PydanticCustomError(
                "shares_sum", "poverty shares must add up to at most 1", {"field": "poverty_shares"}
            )
        return self


class IllnessSection(Strict):
    """Episodes of illness by type and age."""

    minor_episodes_per_year: Param[AgeBands[NonNeg]]
    serious_episodes_per_year: Param[AgeBands[NonNeg]]
    minor_severity_beta: Param[tuple[Positive, Positive]]
    serious_severity_beta: Param[tuple[Positive, Positive]]
    emergency_share: Param[Rate]


class ChoiceSection(Strict):
    """Multinomial-logit facility choice: utility coefficients."""

    outpatient_tier_constant: Param[Tiers[Utility]]
    inpatient_tier_constant: Param[Tiers[Utility]]
    no_care_constant: Param[Utility]
    no_admission_constant: Param[Utility]
    cost_per_100_yuan: Param[Services[NonNeg]]
    care_seeking_cost_per_100_yuan: Param[Services[NonNeg]]
    income_elasticity: Param[NonNeg]
    travel_per_hour: Param[NonNeg]
    quality_x_severity: Param[NonNeg]
    crowding: Param[NonNeg]
    family_doctor: Param[NonNeg]
    habit: Param[NonNeg]


class ReferralSection(Strict):
    """Provider referral behaviour."""

    down_for_rehab: Param[Dated[Rate]]


class SchemeService(Strict):
    """Benefits of one scheme for one service."""

    deductible: Param[Tiers[Dated[Yuan]]]
    rate: Param[Tiers[Dated[Rate]]]
    annual_cap: Param[Dated[Yuan]]


class SchemeBenefits(Strict):
    """Benefits of one insurance scheme."""

    outpatient: SchemeService
    chronic: SchemeService
    inpatient: SchemeService


class Continuity(Strict):
    """Deductible on referral inside the county medical community."""

    upward: Param[Dated[Literal[UPWARD_CONTINUITY]]]
    downward_waived: Param[Dated[bool]]


class Gatekeeping(Strict):
    """基层首诊: a lower rate for care without a referral, by scheme × service × tier.

    Emergencies are exempt; a penalty of 1 read ``relative`` reimburses nothing.
    """

    penalty: Param[Schemes[Services[Tiers[Dated[Rate]]]]]
    mode: Param[Dated[Literal[PENALTY_MODES]]]


class Chronic(Strict):
    """两病 (hypertension/diabetes) certification and prescriptions."""

    lowest_certifying_tier: Param[Dated[Literal["village", "township", "county"]]]
    certification_decay_minutes: Param[Positive]
    village_claims: Param[Dated[Literal["none", "remote", "all"]]]
    remote_minutes: Param[Positive]
    prescription_days: Param[Dated[Annotated[int, Field(ge=1, le=180)]]]


class BenefitsSection(Strict):
    """Patient-side benefits (待遇)."""

    resident: SchemeBenefits
    employee: SchemeBenefits
    catalogue_share: Param[Services[Tiers[Rate]]]
    grassroots_outpatient_deductible_waived: Param[Dated[bool]]
    referral_continuity: Continuity
    gatekeeping: Gatekeeping
    chronic: Chronic
    family_doctor_min_rate: Param[Services[Dated[Rate]]]


class AssistanceSection(Strict):
    """Medical assistance (医疗救助) for poor groups after basic insurance."""

    share: Param[PovertyGroups[Dated[Rate]]]
    annual_cap: Param[PovertyGroups[Dated[Yuan]]]
    services: Param[Services[bool]]


class PaymentSection(Strict):
    """How the fund pays providers (支付方式). Patients' cost sharing never depends on it."""

    inpatient_method: Param[Tiers[Dated[Literal["fee_for_service", "drg", "dip"]]]]
    drg_base_rate: Param[Tiers[Dated[Yuan]]]
    drg_groups: Param[Count]
    same_price_groups: Param[Dated[Annotated[int, Field(ge=0)]]]
    same_price_base_rate: Param[Dated[Yuan]]
    dip_points_per_weight: Param[Positive]
    dip_tier_coefficient: Param[Tiers[Dated[NonNeg]]]
    dip_provisional_point_value: Param[Dated[Positive]]
    dip_budget_per_capita: Param[Dated[Yuan]]
    outpatient_capitation: Param[Tiers[Dated[bool]]]
    capitation_rate: Param[Dated[Yuan]]
    capitation_surplus_retained: Param[Rate]
    rehab_method: Param[Dated[Literal["fee_for_service", "bed_day"]]]
    rehab_bed_day_rate: Param[Dated[Yuan]]

    @model_validator(mode="after")
    def _capitation_grassroots_only(self) -> Self:
        for tier in ("county", "out_of_county"):
            if any(getattr(self.outpatient_capitation.value, tier).values()):
                raise PydanticCustomError(
                    "capitation_tier",
                    "outpatient capitation applies to village clinics and township centres only",
                    {"field": f"outpatient_capitation.value.{tier}", "input": True},
                )
        return self


class AssessmentItems(Strict, Generic[T]):
    """One value per indicator of the 医共体 performance assessment (001 二(四))."""

    medical_cost_growth: T
    effective_reimbursement_ratio: T
    grassroots_visit_share: T
    in_county_fund_share: T
    grassroots_fund_share: T


class Assessment(Strict):
    """The 医共体 performance assessment that sets the year-end shares (001 二(四)).

    Each indicator earns marks linearly from 0 at ``zero_at`` to 1 at ``full_at`` (either may be
    the larger: for cost growth lower is better); the score is the weighted mean of the marks.
    """

    scored: Param[Dated[bool]]
    weights: Param[AssessmentItems[NonNeg]]
    zero_at: Param[AssessmentItems[float]]
    full_at: Param[AssessmentItems[float]]

    @model_validator(mode="after")
    def _scale(self) -> Self:
        for name in AssessmentItems.model_fields:
            if getattr(self.zero_at.value, name) == getattr(self.full_at.value, name):
                raise PydanticCustomError(
                    "assessment_scale", "zero_at and full_at must differ",
                    {"field": f"full_at.value.{name}", "input": getattr(self.full_at.value, name)})
        if sum(self.weights.on(UNDATED)) <= 0:
            raise PydanticCustomError("assessment_weights", "at least one weight above 0",
                                      {"field": "weights.value"})
        return self


class CommunitySection(Strict):
    """County medical community (医共体) global budget, 鲁医保发〔2024〕39号 二(二)–(四)."""

    global_budget: Param[Dated[bool]]
    per_capita_standard: Param[Schemes[Dated[Yuan]]]
    count_out_of_county: Param[bool]
    prepayment_months: Param[Annotated[float, Field(ge=0, le=12)]]
    surplus_retained_share: Param[Rate]
    overrun_fund_share: Param[Rate]
    reasonable_overrun_limit: Param[NonNeg]
    reinvested_share: Param[Rate]
    quality_gain_per_yuan_per_resident: Param[NonNeg]
    capability_gain_per_yuan_per_resident: Param[NonNeg]
    assessment: Assessment


class ResponsesSection(Strict):
    """Fixed provider responses: used where a decision rule (``providers.*_rule``) is off.

    ``case_payment_outpatient_below`` is also the severity below which the admission rule may
    treat a serious episode as an outpatient.
    """

    budget_keeps_transfers: Param[Rate]
    budget_rehab_multiplier: Param[Positive]
    drg_stay_factor: Param[Positive]
    case_payment_avoided_admissions: Param[Rate]
    case_payment_outpatient_below: Param[Rate]


class ProvidersSection(Strict):
    """Facilities that decide (``flowsim.providers``): one rule per decision, each switchable.

    A rule that is off leaves its decision at the fixed response of ``responses``.
    """

    length_of_stay_rule: Param[bool]
    transfer_rule: Param[bool]
    admission_rule: Param[bool]
    township_referral_rule: Param[bool]
    cost_to_charge: Param[Tiers[Rate]]
    late_day_charge: Param[Rate]
    loss_aversion: Param[Annotated[float, Field(ge=1)]]
    projection_sd: Param[Positive]
    stay_sensitivity: Param[NonNeg]
    transfer_sensitivity: Param[NonNeg]
    admission_sensitivity: Param[NonNeg]
    referral_sensitivity: Param[NonNeg]
    costly_severity: Param[Rate]


class FundSection(Strict):
    """The basic medical insurance fund's revenue."""

    contribution: Param[Schemes[Dated[Yuan]]]


class Scenario(Strict):
    """A whole scenario: county, population, behaviour and policy."""

    name: str
    description: str = ""
    extends: str | None = None
    start_date: date
    days: Annotated[int, Field(ge=1, le=36500)] = 365
    county: CountySection
    population: PopulationSection
    illness: IllnessSection
    facilities: FacilitiesSection
    choice: ChoiceSection
    referral: ReferralSection
    benefits: BenefitsSection
    assistance: AssistanceSection
    payment: PaymentSection
    community: CommunitySection
    responses: ResponsesSection
    providers: ProvidersSection
    fund: FundSection

    @model_validator(mode="after")
    def _dated_values_cover_start(self) -> Self:
        for path, dated in iter_dated(self):
            if min(dated) > self.start_date:
                raise PydanticCustomError(
                    "dated_gap",
                    "no value in force on the start date {start}: add an entry dated on or before it",  # noqa: E501
                    {"start": self.start_date.isoformat(), "field": path, "input": dated},
                )
        return self

    # -- set after validation by load_scenario --
    _file: Path | None = None
    _raw: dict | None = None
    _provenance: dict | None = None

    @property
    def file(self) -> Path | None:
        """The scenario file this was loaded from (None if built in Python)."""
        return self._file

    def raw(self) -> dict:
        """The merged YAML document (after ``extends:``), as plain data."""
        return copy.deepcopy(self._raw or self.model_dump(mode="json"))

    def to_yaml(self) -> str:
        """The merged YAML document as text (what ran, with every unit and source)."""
        return yaml.safe_dump(self.raw(), allow_unicode=True, sort_keys=False)

    def change_dates(self) -> list[date]:
        """Dates after ``start_date`` on which some dated value changes, ascending."""
        dates = {d for _, dated in iter_dated(self) for d in dated}
        return sorted(d for d in dates if d > self.start_date)

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with dotted-path overrides.

        Example: ``{"benefits.resident.inpatient.rate.value.township": 0.9}``.

        Values are merged like ``extends:`` (a dated mapping over a plain value keeps the old value
        until its first date) and the result is validated again.
        """
        raw = self.raw()
        for dotted, value in overrides.items():
            node = raw
            *parents, leaf = dotted.split(".")
            for key in parents:
                if not isinstance(node.get(key), dict):
                    raise InputError(
                        self._file, dotted, value, "a field path that exists in the scenario"
                    )
                node = node[key]
            node[leaf] = _merge(node.get(leaf), value)
        return _validate(raw, self._file, self._provenance or {})

    def __reduce__(self):
        """Pickle as the merged YAML document (generic pydantic models do not pickle)."""
        return _validate, (self.raw(), self._file, self._provenance or {})

    def with_county(self, other: Scenario) -> Scenario:
        """A copy whose ``county`` section is ``other``'s (CSV paths made absolute)."""
        raw = self.raw()
        county = other.raw()["county"]
        csv = county.get("csv")
        if csv and other.file is not None:
            for key in ("villages", "facilities"):
                csv[key]["value"] = str((other.file.parent / csv[key]["value"]).resolve())
        raw["county"] = county
        return _validate(raw, self._file, self._provenance or {})


def whole_years(start: date, years: int) -> int:
    """Days in ``years`` whole insurance years from ``start``, leap days included.

    Example: from 2023-01-01, 2 years are 365 + 366 = 731 days, so the year end of 2024 falls
    inside the run and is settled. A 29 February start ends on 1 March of a common year.
    """
    try:
        end = start.replace(year=start.year + years)
    except ValueError:
        end = date(start.year + years, 3, 1)
    return (end - start).days


def resolve(section: BaseModel, day: date) -> SimpleNamespace:
    """Every parameter of a config section as its plain value on ``day`` (groups as arrays)."""
    return SimpleNamespace(
        **{
            name: (
                child.on(day)
                if isinstance(child, Param)
                else resolve(child, day)
                if isinstance(child, BaseModel)
                else child
            )
            for name in type(section).model_fields
            for child in [getattr(section, name)]
        }
    )


def iter_params(node: BaseModel, path: str = "") -> Iterator[tuple[str, Param]]:
    """Every ``Param`` below ``node`` with its dotted path."""
    if isinstance(node, Param):
        yield path, node
        return
    for name in type(node).model_fields:
        child = getattr(node, name)
        if isinstance(child, BaseModel):
            yield from iter_params(child, f"{path}.{name}" if path else name)


def iter_dated(node: BaseModel) -> Iterator[tuple[str, dict]]:
    """Every dated mapping below ``node`` with the dotted path of its value."""

    def walk(v: Any, path: str) -> Iterator[tuple[str, dict]]:
        if isinstance(v, dict) and v and all(isinstance(k, date) for k in v):
            yield path, v
        elif isinstance(v, BaseModel):
            for name in type(v).model_fields:
                yield from walk(getattr(v, name), f"{path}.{name}")

    for path, p in iter_params(node):
        yield from walk(p.value, f"{path}.value")


# ---------------------------------------------------------------------------------------------
# loading


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so that pydantic names a malformed one."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def default_scenario_path() -> Path:
    """The built-in default county (``configs/baseline.yaml``), installed or in a source tree."""
    packaged = importlib.resources.files("flowsim") / "configs" / "baseline.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load, merge (``extends:``) and validate a scenario file; None loads the default county."""
    path = Path(path) if path is not None else default_scenario_path()
    raw, provenance = _read_with_extends(path, chain=())
    return _validate(raw, path, provenance)


def load_model[M: BaseModel](path: str | Path, model: type[M], kind: str) -> M:
    """Read a YAML file and validate it as ``model`` (experiment and target files).

    ``kind`` names the file in errors ("experiment file"); errors are ``InputError``.
    """
    path = Path(path)
    doc = _read_yaml(path, kind)
    try:
        return model.model_validate(doc)
    except ValidationError as err:
        raise _to_input_error(err, path, {}) from None


def _read_yaml(path: Path, kind: str = "scenario file") -> dict:
    if not path.is_file():
        raise InputError(path, "file", str(path), f"an existing {kind} (.yaml)")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(err, "problem", None) or str(err)
        raise InputError(path, where, "(YAML syntax)", f"valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise InputError(path, "file", "(binary)", "a UTF-8 text file") from None
    if not isinstance(doc, dict):
        raise InputError(path, "(top level)", doc, f"a mapping (the sections of a {kind})")
    return doc


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    if path.resolve() in chain:
        raise InputError(path, "extends", str(path), "a scenario that does not extend itself")
    doc = _read_yaml(path)
    provenance = {p: path for p in _leaf_paths(doc)}
    parent = doc.get("extends")
    if parent is None:
        return doc, provenance
    if not isinstance(parent, str):
        raise InputError(path, "extends", parent, "a path to another scenario file")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.is_file():
        raise InputError(
            path, "extends", parent, f"an existing scenario file (looked for {parent_path})"
        )
    base, base_prov = _read_with_extends(parent_path, chain + (path.resolve(),))
    return _merge(base, doc), base_prov | provenance


def _leaf_paths(doc: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaf_paths(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix


def _is_date_key(k: Any) -> bool:
    if isinstance(k, date):
        return True
    return isinstance(k, str) and len(k) == 10 and k[4] == "-" and k[7] == "-"


def _merge(base: Any, over: Any) -> Any:
    """Deep merge; a dated mapping over a plain value keeps that value until its first date."""
    if isinstance(over, dict) and over and all(_is_date_key(k) for k in over):
        if isinstance(base, dict) and base and all(_is_date_key(k) for k in base):
            return {**base, **over}
        if base is not None and not isinstance(base, dict):
            return {"0001-01-01": base, **over}
        return over
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for k, v in over.items():
            merged[k] = _merge(base.get(k), v)
        return merged
    return over


def _validate(raw: dict, path: Path | None, provenance: dict) -> Scenario:
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        raise _to_input_error(err, path, provenance) from None
    scenario._file = path
    scenario._raw = raw
    scenario._provenance = provenance
    return scenario


_ALLOWED = {
    "missing": "a value (this field is required)",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "date_from_datetime_parsing": "a date written YYYY-MM-DD",
    "date_parsing": "a date written YYYY-MM-DD",
    "date_type": "a date written YYYY-MM-DD",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "tuple_type": "a list",
}


def _to_input_error(err: ValidationError, path: Path | None, provenance: dict) -> InputError:
    """Pydantic's first error as one InputError (file, field path, value, what is allowed)."""
    errors = err.errors()
    e = errors[0]
    ctx = e.get("ctx") or {}
    hidden = ("[key]", UNDATED.isoformat(), repr(UNDATED))  # the undated sentinel is no field
    loc = [str(p) for p in e["loc"] if str(p) not in hidden]
    value = e.get("input")
    kind = e["type"]
    if kind == "unknown_key":
        loc.append(ctx["key"])
        value = ctx["key"]
        allowed = f"unknown key; allowed here: {ctx['allowed']}"
    elif "field" in ctx:
        loc.append(str(ctx["field"]))
        value = ctx.get("input", value)
        allowed = e["msg"]
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        allowed = e["msg"].replace("Input should be", "must be")
    elif kind == "literal_error":
        allowed = "one of " + ctx.get("expected", "")
    elif kind == "missing":
        value = "(missing)"
        allowed = _ALLOWED[kind]
    else:
        allowed = _ALLOWED.get(kind, e["msg"])
    if isinstance(value, dict) and kind != "unknown_key":
        value = "{" + ", ".join(map(str, value)) + "}"
    field = ".".join(loc) or "(top level)"
    source = _file_for(field, provenance) or path
    more = len(errors) - 1
    if more:
        allowed += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InputError(source, field, value, allowed)


def _file_for(field: str, provenance: dict) -> Path | None:
    """The file that set ``field`` (or the nearest enclosing path), for error messages."""
    parts = field.split(".")
    while parts:
        key = ".".join(parts)
        hits = [f for p, f in provenance.items() if p == key or p.startswith(key + ".")]
        if hits:
            return hits[-1]
        parts.pop()
    return None
