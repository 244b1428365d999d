"""Scenario files: YAML → merged (``extends:``) → validated by pydantic → typed ``Scenario``.

Every parameter is a ``Param``: ``value``, ``unit``, ``description``, ``source`` (a study cited in
docs/sources.md, a seed document and clause, or ``assumed``). Policy parameters may be *dated*: a
mapping ``{2023-07-01: 0.85}`` means the value takes effect on that simulated day. In a scenario
that ``extends:`` another, a dated mapping written over a plain value keeps the parent's value
until the first date (so ``township: {2023-07-01: 0.85}`` reads "from 1 July 2023").

Bad input raises ``InputError`` naming the file, the field path, the value and what is allowed.
"""

from __future__ import annotations

import copy
import importlib.resources
import math
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
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
#
# Numbers are numbers: a bool (YAML's `yes`, `true`) or text ("0.5") is refused where a number is
# meant, even where Python would convert it, and so are inf and nan. Every schema (scenario,
# experiment and targets files) builds on these types.


_FLAG_NOT_NUMBER = ", not true or false (YAML reads yes, no, on and off as true or false)"


def _number(v: Any) -> float:
    if isinstance(v, bool | np.bool_):
        raise PydanticCustomError("number_type", "a number" + _FLAG_NOT_NUMBER)
    if not isinstance(v, int | float | np.integer | np.floating):
        raise PydanticCustomError("number_type", "a number")
    try:
        return float(v)
    except OverflowError:
        raise PydanticCustomError("finite_number", "a finite number") from None


def _whole(v: Any) -> int:
    if isinstance(v, bool | np.bool_):
        raise PydanticCustomError("whole_type", "a whole number" + _FLAG_NOT_NUMBER)
    if not isinstance(v, int | float | np.integer | np.floating):
        raise PydanticCustomError("whole_type", "a whole number")
    if isinstance(v, float | np.floating) and not (math.isfinite(v) and v == int(v)):
        raise PydanticCustomError("whole_type", "a whole number")
    return int(v)


def _day(v: Any) -> Any:
    if isinstance(v, str) or (isinstance(v, date) and not isinstance(v, datetime)):
        return v  # pydantic reads the text, and names a malformed date or a day that is none
    raise PydanticCustomError("date_type", "a date written YYYY-MM-DD")


def _flag(v: Any) -> bool:
    if not isinstance(v, bool | np.bool_):
        raise PydanticCustomError("flag_type", "true or false")
    return bool(v)


Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
"""A finite number (an int is taken as a float; a bool, text, inf or nan is refused)."""
Whole = Annotated[int, BeforeValidator(_whole)]
"""A whole number (``5e5`` is 500000; a bool, text or a fraction is refused)."""
Flag = Annotated[bool, BeforeValidator(_flag)]
"""true or false (a number or text such as "yes" in quotes is refused)."""
Day = Annotated[date, BeforeValidator(_day)]
"""A date written YYYY-MM-DD (a number is no date, though pydantic would read it as a time)."""

Rate = Annotated[Number, Field(ge=0, le=1)]
"""A fraction from 0 to 1."""
Yuan = Annotated[Number, Field(ge=0)]
"""A non-negative amount of money in yuan."""
NonNeg = Annotated[Number, Field(ge=0)]
Positive = Annotated[Number, Field(gt=0)]
MAX_COUNT = 2**31 - 1
"""Largest count a scenario may give (counts are stored as 32-bit integers)."""
Count = Annotated[Whole, Field(ge=1, le=MAX_COUNT)]
Utility = Number
"""A coefficient of the choice model's utility (unitless, 'utils'); may be negative."""
MAX_SEED = 2**63 - 1
"""Largest seed: seeds are stored as 64-bit integers in the results tables."""
MAX_DAYS = 36500
"""Longest run: a hundred years of days."""
MAX_COUNTY_HOSPITALS = 1000
MAX_VILLAGES = 32767
"""Most villages a county may have: residents store their village row as int16
(``population.ENCOUNTER_DTYPE``)."""

POPULATION = "county.synthetic.population.value"
"""Scenario path of a synthetic county's residents (``--population``)."""
UNDATED = date.min
"""Key under which an undated value is stored: in force from the start of any run."""


def _as_dated(v: Any) -> Any:
    return v if isinstance(v, dict) else {UNDATED: v}


Dated = Annotated[dict[Day, T], BeforeValidator(_as_dated)]
"""A value, or a mapping from the date each value takes effect to the value."""


def value_on(dated: dict[date, Any], day: date) -> Any:
    """The value of a dated mapping in force on ``day``: the latest entry dated on or before it."""
    in_force = [d for d in dated if d <= day]
    if not in_force:
        raise KeyError(day)
    return dated[max(in_force)]


def _field_error(field: str, value: Any, allowed: str) -> PydanticCustomError:
    """A validator's error about ``field`` (a dotted path below the model), for ``InputError``."""
    return PydanticCustomError("field", allowed, {"field": field, "input": value})


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
    county_hospitals: Param[Annotated[Count, Field(le=MAX_COUNTY_HOSPITALS)]]

    @model_validator(mode="after")
    def _sizes_fit(self) -> Self:
        townships, villages = self.townships.value, self.villages.value
        if villages > MAX_VILLAGES:
            raise _field_error("villages.value", villages, f"at most {MAX_VILLAGES:,} villages")
        if villages < townships:
            raise _field_error("villages.value", villages,
                               f"at least one village per township ({townships} townships)")
        if self.population.value < villages:
            raise _field_error("population.value", self.population.value,
                               f"at least one resident per village ({villages} villages)")
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
    chronic_severity_beta: Param[tuple[Positive, Positive]]
    emergency_share: Param[Rate]


class ChoiceSection(Strict):
    """Nested-logit choice of whether and where to seek care: utility coefficients."""

    outpatient_tier_constant: Param[Tiers[Utility]]
    inpatient_tier_constant: Param[Tiers[Utility]]
    no_care_constant: Param[Utility]
    no_admission_constant: Param[Utility]
    care_nest_dissimilarity: Param[Annotated[Number, Field(gt=0, le=1)]]
    cost_per_100_yuan: Param[Services[NonNeg]]
    income_elasticity: Param[NonNeg]
    travel_per_hour: Param[NonNeg]
    quality_x_severity: Param[NonNeg]
    referral_visit_hours: Param[NonNeg]
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
    downward_waived: Param[Dated[Flag]]


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
    prescription_days: Param[Dated[Annotated[Whole, Field(ge=1, le=180)]]]


class BenefitsSection(Strict):
    """Patient-side benefits (待遇)."""

    resident: SchemeBenefits
    employee: SchemeBenefits
    catalogue_share: Param[Services[Tiers[Rate]]]
    grassroots_outpatient_deductible_waived: Param[Dated[Flag]]
    referral_continuity: Continuity
    gatekeeping: Gatekeeping
    chronic: Chronic
    family_doctor_min_rate: Param[Services[Dated[Rate]]]


class AssistanceSection(Strict):
    """Medical assistance (医疗救助) for poor groups after basic insurance."""

    share: Param[PovertyGroups[Dated[Rate]]]
    annual_cap: Param[PovertyGroups[Dated[Yuan]]]
    services: Param[Services[Flag]]


class PaymentSection(Strict):
    """How the fund pays providers (支付方式). Patients' cost sharing never depends on it."""

    inpatient_method: Param[Tiers[Dated[Literal["fee_for_service", "drg", "dip"]]]]
    drg_base_rate: Param[Tiers[Dated[Yuan]]]
    drg_groups: Param[Count]
    same_price_groups: Param[Dated[Annotated[Whole, Field(ge=0, le=MAX_COUNT)]]]
    same_price_base_rate: Param[Dated[Yuan]]
    dip_points_per_weight: Param[Positive]
    dip_tier_coefficient: Param[Tiers[Dated[NonNeg]]]
    dip_provisional_point_value: Param[Dated[Positive]]
    dip_budget_per_capita: Param[Dated[Yuan]]
    outpatient_capitation: Param[Tiers[Dated[Flag]]]
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

    scored: Param[Dated[Flag]]
    weights: Param[AssessmentItems[NonNeg]]
    zero_at: Param[AssessmentItems[Number]]
    full_at: Param[AssessmentItems[Number]]

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

    global_budget: Param[Dated[Flag]]
    per_capita_standard: Param[Schemes[Dated[Yuan]]]
    count_out_of_county: Param[Flag]
    prepayment_months: Param[Annotated[Number, Field(ge=0, le=12)]]
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

    length_of_stay_rule: Param[Flag]
    transfer_rule: Param[Flag]
    admission_rule: Param[Flag]
    township_referral_rule: Param[Flag]
    cost_to_charge: Param[Tiers[Rate]]
    late_day_charge: Param[Rate]
    loss_aversion: Param[Annotated[Number, Field(ge=1)]]
    projection_sd: Param[Positive]
    stay_sensitivity: Param[NonNeg]
    transfer_sensitivity: Param[NonNeg]
    admission_sensitivity: Param[NonNeg]
    referral_sensitivity: Param[NonNeg]
    costly_severity: Param[Rate]


class FundSection(Strict):
    """The basic medical insurance fund's revenue."""

    contribution: Param[Schemes[Dated[Yuan]]]


class Title(Strict):
    """A scenario's title in both languages (the report shows it beside the scenario's name)."""

    en: str
    zh: str


class Scenario(Strict):
    """A whole scenario: county, population, behaviour and policy."""

    name: str
    title: Title | None = None
    description: str = ""
    extends: str | None = None
    start_date: Day
    days: Annotated[Whole, Field(ge=1, le=MAX_DAYS)] = 365
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

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` ("zh" or "en"), or the name when the scenario has no title."""
        return self.name if self.title is None else getattr(self.title, lang)

    def file_of(self, field: str) -> Path | None:
        """The file that set ``field`` (a dotted path), for error messages."""
        return _file_for(field, self._provenance or {}) or self._file

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


MAX_YAML_BYTES = 1_000_000
"""Largest YAML file read (the shipped baseline, which documents every parameter, is 32 kB)."""
MAX_YAML_VALUES = 100_000
"""Most values (mappings, lists and scalars) a YAML file may hold once its aliases are
expanded (the baseline holds 1,535): an alias bomb is refused before it is built."""
MAX_YAML_DEPTH = 32
"""Deepest nesting of mappings and lists (the baseline nests 7 levels)."""
PATH_FIELDS = ("county.csv.villages.value", "county.csv.facilities.value")
"""Scenario fields holding a file path, relative to the scenario file that wrote them."""


class YamlRefused(yaml.YAMLError):
    """A YAML file outside the limits, or with a key given twice: field, value, what is allowed."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.field, self.value, self.allowed = field, value, allowed


class _Loader(yaml.SafeLoader):
    """SafeLoader that checks the composed document before building it.

    Dates stay strings (so that pydantic names a malformed one), floats are read as in YAML 1.2
    (``1e6`` is a number, not text), nesting is limited while composing, and before any Python
    object is built the document is refused if its aliases expand to more than
    ``MAX_YAML_VALUES`` values or a mapping gives a key twice.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: type) -> None:
        """Scan ``[`` or ``{``, refusing flow nesting deeper than ``MAX_YAML_DEPTH`` at once."""
        if self.flow_level >= MAX_YAML_DEPTH:
            _too_deep(self.line + 1)
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Compose one node, refusing nesting deeper than ``MAX_YAML_DEPTH``."""
        if self._depth >= MAX_YAML_DEPTH:
            _too_deep(self.peek_event().start_mark.line + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: yaml.Node) -> Any:
        """Check the size after alias expansion and duplicate keys, then build the document."""
        _count_values(node, {}, set())
        _check_keys(node, "")
        return super().construct_document(node)


def _too_deep(line: int) -> None:
    raise YamlRefused(f"line {line}", f"more than {MAX_YAML_DEPTH} levels",
                      f"at most {MAX_YAML_DEPTH} levels of nested mappings and lists")


def _count_values(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """Values below ``node`` with every alias expanded (walking each shared node once)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise YamlRefused(f"line {node.start_mark.line + 1}", "(alias)",
                          "an alias that does not refer to the value containing it")
    open_.add(key)
    children = (node.value if isinstance(node, yaml.SequenceNode) else
                [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                else [])
    size = 1 + sum(_count_values(c, sizes, open_) for c in children)
    if size > MAX_YAML_VALUES:
        raise YamlRefused(f"line {node.start_mark.line + 1}",
                          f"more than {MAX_YAML_VALUES:,} values",
                          f"at most {MAX_YAML_VALUES:,} values once aliases are expanded")
    open_.discard(key)
    sizes[key] = size
    return size


def _check_keys(node: yaml.Node, path: str) -> None:
    """Refuse a key given twice in one mapping, naming its dotted path and both lines."""
    if isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _check_keys(child, f"{path}.{i}" if path else str(i))
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None or key.tag == "tag:yaml.org,2002:merge":
                continue
            line = key.start_mark.line + 1
            if name in seen:
                raise YamlRefused(f"{path}.{name}" if path else name, name,
                                  f"each key once per mapping (given on lines {seen[name]} "
                                  f"and {line})")
            seen[name] = line
            _check_keys(value, f"{path}.{name}" if path else name)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(  # YAML 1.2 exponents: 1e6, 2.5E-3 (1.1 wants a dot and a sign)
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


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
    _rebase_paths(raw, provenance, path)
    return _validate(raw, path, provenance)


def parse_setting(setting: str, option: str = "--set") -> tuple[str, Any]:
    """``PATH=VALUE`` as (dotted path, value).

    The value is read as YAML (``0.85``, ``true``, ``drg``, ``{2023-07-01: 0.85}``), dates left
    as text for the schema to check.

    Raises:
        InputError: no ``=``, an empty path, or a value that is not YAML.
    """
    path, sep, text = setting.partition("=")
    path = path.strip()
    if not sep or not path or " " in path:
        raise InputError(option, "PATH=VALUE", setting,
                         "a scenario path, '=' and a value, e.g. "
                         "benefits.resident.inpatient.rate.value.township=0.85")
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        raise InputError(option, path, text, "a value written as in a scenario file") from None
    if value is None:
        raise InputError(option, path, text, "a value after '='")
    return path, value


def scenario_from_yaml(text: str, file: str | Path | None = None) -> Scenario:
    """A scenario from its merged YAML (``Scenario.to_yaml``), as saved with results.

    ``file`` is the file it was loaded from, kept for its name (CSV paths, errors).
    """
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise InputError(file, "(YAML)", "(YAML syntax)", f"valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise InputError(file, "(top level)", raw, "a mapping (the sections of a scenario)")
    return _validate(raw, Path(file) if file else None, {})


def _rebase_paths(raw: dict, provenance: dict, path: Path) -> None:
    """Make inherited relative paths (``PATH_FIELDS``) relative to ``path``.

    They were relative to the parent scenario that wrote them; so a scenario in another folder
    can extend a CSV county.
    """
    for field in PATH_FIELDS:
        written_by = provenance.get(field)
        *parents, leaf = field.split(".")
        node = raw
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if written_by is None or not isinstance(node, dict) or not isinstance(node.get(leaf), str):
            continue
        value = Path(node[leaf])
        if value.is_absolute() or written_by.parent.resolve() == path.parent.resolve():
            continue
        target = written_by.parent / value
        try:
            node[leaf] = os.path.relpath(target, path.parent)
        except ValueError:  # another drive (Windows): no relative path
            node[leaf] = str(target.resolve())


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
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InputError(path, "file", f"{size:,} bytes",
                         f"a {kind} of at most {MAX_YAML_BYTES:,} bytes")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except YamlRefused as err:
        raise InputError(path, err.field, err.value, err.allowed) from None
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
    if "name" in doc and "title" not in doc:  # a scenario of its own: not the parent's title
        base.pop("title", None)
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
    "finite_number": "a finite number (not inf or nan)",
    "list_type": "a list",
}


_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    elif kind in ("too_short", "too_long"):
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        allowed = f"{'at least' if kind == 'too_short' else 'at most'} {n} entr" + (
            "y" if n == 1 else "ies")
    elif kind == "literal_error":
        allowed = "one of " + ctx.get("expected", "")
    elif kind == "missing":
        value = "(missing)"
        allowed = _ALLOWED[kind]
    elif kind.startswith("date") and isinstance(value, str) and _DATE_SHAPE.match(value):
        allowed = "no such day (a date written YYYY-MM-DD)"
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
