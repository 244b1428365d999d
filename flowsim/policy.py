"""The policy in force on a given day, and the claim a patient faces under it.

``Rules(scenario, day)`` holds the scenario's policy sections (``POLICY_SECTIONS``) resolved on
``day``: every parameter as its plain value, groups as numpy arrays in field order, exactly as
the scenario file names them (``rules.payment.inpatient_method``, ``rules.benefits.chronic
.prescription_days``). Nothing is declared a second time: a lever added to the schema is there
the next day, for the one rule function that reads it.

``Rules.tables`` are the cost-sharing sections (``COST_SHARING_SECTIONS``) as numbers only, for
the compiled ``claim_for``: the same names with the scheme and service levels of the file folded
into array axes (``t.benefits.rate[scheme, service, tier]``) and named options as their position
in the schema's list (``t.benefits.referral_continuity_upward``). They are built from the schema
by one function (``cost_sharing_tables``).

``claim_for(t, person, encounter)`` composes the cost-sharing rules of ``flowsim.benefits`` for
one encounter (an ``ENCOUNTER`` record) of one resident (a ``population.RESIDENT_RECORD``). The
out-of-pocket a patient expects when choosing and the claim they are then charged both come from
it (``flowsim.encounters``), so patients respond to exactly the rules they will be charged by.
"""

from __future__ import annotations

import typing
from collections import namedtuple
from datetime import date
from functools import cache, cached_property
from types import SimpleNamespace
from typing import Any, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import BaseModel

from flowsim import benefits, payment
from flowsim.config import Param, Scenario, resolve
from flowsim.domain import IS_GRASSROOTS, SCHEMES, SERVICES, Referral, Service
from flowsim.population import RESIDENT_RECORD

POLICY_SECTIONS = ("benefits", "assistance", "referral", "payment", "community", "fund")
"""Scenario sections whose values may be dated: ``Rules`` resolves them on each change date."""
COST_SHARING_SECTIONS = ("benefits", "assistance")
"""The sections ``claim_for`` reads, compiled into ``Rules.tables``."""
FOLDED_LEVELS = (SCHEMES, SERVICES)
"""Levels of the scenario file that ``Rules.tables`` fold into array axes: one field per scheme
(``benefits.resident``, ``benefits.employee``), one per service (``outpatient`` …)."""

ENCOUNTER = np.dtype([
    ("bill", np.float64),  # yuan
    ("service", np.int64),  # Service code
    ("tier", np.int64),  # Tier code of the facility
    ("referral", np.int64),  # Referral code
    ("prior_deductible_paid", np.float64),  # yuan paid at the stay a referral continues
    ("emergency", np.bool_),
    ("contracted_here", np.bool_),  # the resident's family doctor works at this facility
])
"""One encounter to be priced by ``claim_for``: what it is, where, and how the patient came."""



class Rules:
    """The policy sections of ``scenario`` in force on ``day`` (``POLICY_SECTIONS``).

    Each section is a namespace of its parameters' values on that day (``config.resolve``).
    """

    def __init__(self, scenario: Scenario, day: date) -> None:
        self.scenario = scenario
        self.day = day
        for section in POLICY_SECTIONS:
            setattr(self, section, resolve(getattr(scenario, section), day))

    benefits: SimpleNamespace
    assistance: SimpleNamespace
    referral: SimpleNamespace
    payment: SimpleNamespace
    community: SimpleNamespace
    fund: SimpleNamespace

    @cached_property
    def tables(self) -> tuple:
        """The cost-sharing sections as numbers for compiled code (``cost_sharing_tables``)."""
        return cost_sharing_tables(self.scenario, self.day)

    @cached_property
    def gatekept(self) -> bool:
        """Whether any gatekeeping penalty (基层首诊) is in force."""
        return bool(self.tables.benefits.gatekeeping_penalty.any())

    def paid_by(self, method: str) -> np.ndarray:
        """[tier] bool: admissions at the tier are paid by ``method`` (a schema option)."""
        return self.payment.inpatient_method == method

    @property
    def case_paid(self) -> np.ndarray:
        """[tier] bool: admissions paid by a case standard (DRG or DIP)."""
        return self.paid_by("drg") | self.paid_by("dip")


def rules_on(scenario: Scenario, day: date) -> Rules:
    """The scenario's policy in force on ``day``."""
    return Rules(scenario, day)


# -- tables for compiled code --------------------------------------------------------------------


def cost_sharing_tables(scenario: Scenario, day: date) -> tuple:
    """``COST_SHARING_SECTIONS`` on ``day`` as a named tuple of named tuples of numbers.

    Each parameter becomes one field, named by its path in the section without the folded scheme
    and service levels (``FOLDED_LEVELS``, ``_params``), joined by ``_``; the folded levels become
    leading array axes in their domain order. Values are float64 arrays or floats, bools, int64
    for whole numbers, and an option of a ``Literal`` list becomes its position in that list. The
    field types depend on the schema only, so the code is compiled once for every day and scenario.
    """
    sections = {name: _section_table(name, getattr(scenario, name), day)
                for name in COST_SHARING_SECTIONS}
    return _tuple_type("Tables", tuple(sections))(**sections)


def _section_table(name: str, section: BaseModel, day: date) -> tuple:
    fields: dict[str, dict[tuple, Any]] = {}
    for path, index, param in _params(section):
        fields.setdefault("_".join(path), {})[index] = _number(param.on(day), _options(param))
    values = {}
    for field, cells in fields.items():
        if list(cells) == [()]:
            values[field] = cells[()]
            continue
        shape = tuple(np.max(list(cells), axis=0) + 1)
        first = np.asarray(next(iter(cells.values())))
        table = np.zeros(shape + first.shape, first.dtype)
        for index, value in cells.items():
            table[index] = value
        values[field] = np.ascontiguousarray(table)
    return _tuple_type(name.capitalize(), tuple(values))(**values)


def _params(node: BaseModel, path: tuple[str, ...] = (), index: tuple[int, ...] = ()):
    """(path without folded levels, index of the folded levels, Param) of every parameter.

    A level is folded where a section holds one field per label of an axis of
    ``FOLDED_LEVELS`` (``benefits.resident`` and ``benefits.employee``; a scheme's
    ``outpatient``, ``chronic`` and ``inpatient``), all of one type.
    """
    names = type(node).model_fields
    folded = {label: labels.index(label) for labels in FOLDED_LEVELS
              if set(labels) <= set(names)
              and len({type(getattr(node, label)) for label in labels}) == 1
              for label in labels}
    for name in names:
        child = getattr(node, name)
        at = (*path, name) if name not in folded else path
        where = (*index, folded[name]) if name in folded else index
        if isinstance(child, Param):
            yield at, where, child
        elif isinstance(child, BaseModel):
            yield from _params(child, at, where)


def _number(value: Any, options: tuple | None) -> Any:
    """A resolved value as compiled code reads it (see ``cost_sharing_tables``)."""
    if options is not None:
        codes = np.vectorize(options.index, otypes=[np.int64])(value)
        return int(codes) if codes.ndim == 0 else codes
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value, np.bool_ if value.dtype == bool else np.float64)
    if isinstance(value, bool):
        return value
    return int(value) if isinstance(value, int) else float(value)


def _options(param: Param) -> tuple | None:
    """The choices of a ``Literal`` value type anywhere inside ``param``'s annotation, if any."""
    return _literal(type(param).model_fields["value"].annotation)


def _literal(annotation: Any) -> tuple | None:
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for field in annotation.model_fields.values():
            if (found := _literal(field.annotation)) is not None:
                return found
        return None
    for arg in typing.get_args(annotation):
        if (found := _literal(arg)) is not None:
            return found
    return None


@cache
def _tuple_type(name: str, fields: tuple[str, ...]) -> type:
    """One named-tuple class per structure, so compiled code sees the same type every day."""
    return namedtuple(name, fields)


# -- one claim -------------------------------------------------------------------------------------

_INPATIENT, _OUTPATIENT = int(Service.INPATIENT), int(Service.OUTPATIENT)
_NONE = int(Referral.NONE)
_GRASSROOTS = IS_GRASSROOTS.copy()


@njit(cache=True, inline="always")
def claim_for(t, person, encounter):
    """One encounter's claim under tables ``t`` (``Rules.tables``), composed from ``benefits``.

    rate = base rate [scheme, service, tier], cut by the gatekeeping penalty [scheme, service,
    tier] for non-emergency care without a referral (基层首诊; 004 一(二) for out-of-region
    admissions), floored for contracted residents at their grassroots facility (000 六);
    deductible due = per admission with referral continuity (001 三(一), 003, 004 二(二)) or what is
    left of the annual outpatient deductible (``person``'s deductible paid this year), waived at
    grassroots where the scenario says (000 五); fund cap = annual cap − fund paid this year;
    assistance by poverty group on covered services, up to its cap − assistance paid this year.

    Args:
        t: ``Rules.tables``.
        person: the resident's record (``population.RESIDENT_RECORD``): scheme, poverty group and
            this year's accumulators.
        encounter: an ``ENCOUNTER`` record.

    Returns:
        (policy_range, deductible_paid, fund, assistance, patient), yuan.
    """
    b, a = t.benefits, t.assistance
    s, tier, scheme = encounter.service, encounter.tier, np.int64(person.scheme)
    rate = b.rate[scheme, s, tier]
    penalty = b.gatekeeping_penalty[scheme, s, tier]
    if penalty > 0.0:
        unreferred = encounter.referral == _NONE and not encounter.emergency
        rate = benefits.penalised_rate(rate, unreferred, penalty,
                                       b.gatekeeping_mode == benefits.RELATIVE)
    if s == _INPATIENT:
        due = benefits.admission_deductible(
            b.deductible[scheme, s, tier], encounter.referral, encounter.prior_deductible_paid,
            b.referral_continuity_upward, b.referral_continuity_downward_waived)
    else:
        waived = (b.grassroots_outpatient_deductible_waived and s == _OUTPATIENT
                  and _GRASSROOTS[tier])
        due = benefits.annual_deductible_left(b.deductible[scheme, s, tier],
                                              person.deductible_paid_year[s], waived)
    rate = benefits.contract_floor(rate, b.family_doctor_min_rate[s], encounter.contracted_here)
    group = np.int64(person.poverty) - 1  # assistance groups follow Poverty.NONE
    assisted = group >= 0 and a.services[s]
    return benefits.split_bill(
        encounter.bill, b.catalogue_share[s, tier], due, rate,
        b.annual_cap[scheme, s] - person.fund_paid_year[s],
        a.share[group] if assisted else 0.0,
        a.annual_cap[group] - person.assistance_paid_year if assisted else 0.0)


@njit(cache=True)
def _claim_each(t, people, encounters, out):
    for i in range(encounters.size):
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = claim_for(
            t, people[i], encounters[i])


def price_claims(
    rules: Rules,
    *,
    bill: np.ndarray,
    scheme: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    poverty: np.ndarray,
    referral: np.ndarray | int = Referral.NONE,
    prior_deductible_paid: np.ndarray | float = 0.0,
    emergency: np.ndarray | bool = False,
    contracted_here: np.ndarray | bool = False,
    deductible_paid_year: np.ndarray | float = 0.0,
    fund_paid_year: np.ndarray | float = 0.0,
    assistance_paid_year: np.ndarray | float = 0.0,
) -> benefits.Claim:
    """``claim_for`` over a batch of encounters (all arguments broadcast together).

    ``deductible_paid_year`` and ``fund_paid_year`` are what the resident paid this year for the
    encounter's service.
    """
    given = dict(bill=bill, scheme=scheme, service=service, tier=tier, poverty=poverty,
                 referral=referral, prior_deductible_paid=prior_deductible_paid,
                 emergency=emergency, contracted_here=contracted_here,
                 deductible_paid_year=deductible_paid_year, fund_paid_year=fund_paid_year,
                 assistance_paid_year=assistance_paid_year)
    arrays = dict(zip(given, np.broadcast_arrays(*map(np.asarray, given.values())), strict=True))
    shape = arrays["bill"].shape
    flat = {k: np.ravel(v) for k, v in arrays.items()}
    n = flat["bill"].size
    encounters = np.zeros(n, ENCOUNTER)
    for name in ENCOUNTER.names:
        encounters[name] = flat[name]
    people = np.zeros(n, RESIDENT_RECORD)
    for name in ("scheme", "poverty", "assistance_paid_year"):
        people[name] = flat[name]
    rows = np.arange(n)
    people["deductible_paid_year"][rows, encounters["service"]] = flat["deductible_paid_year"]
    people["fund_paid_year"][rows, encounters["service"]] = flat["fund_paid_year"]
    out = np.empty((5, n))
    _claim_each(rules.tables, people, encounters, out)
    return benefits.Claim(flat["bill"].astype(np.float64).reshape(shape),
                          *(part.reshape(shape) for part in out))


# -- provider payment ------------------------------------------------------------------------------


class ProviderPayment(NamedTuple):
    """What the fund pays providers for a batch of admissions, and the DIP points earned."""

    fund: np.ndarray  # yuan paid by the fund to the provider
    dip_points: np.ndarray  # points earned (0 where not paid by DIP)
    dip_standard: np.ndarray  # yuan of DIP standard at the provisional point value


def provider_payment(
    rules: Rules,
    claim: benefits.Claim,
    *,
    tier: np.ndarray,
    severity: np.ndarray,
    stay: np.ndarray,
    rehab: np.ndarray,
) -> ProviderPayment:
    """What the fund pays the provider for each admission, yuan.

    Fee-for-service: the claim's fund share. Case payment: the standard minus what the patient
    and assistance paid (``payment.fund_payment_under_standard``), with group =
    ⌊severity × drg_groups⌋ and weight = 0.5 + the group's mid severity (mean ≈ 1):
    DRG standard = weight × the tier's base rate; DIP standard = points × provisional point
    value, points = weight × points per weight × the tier coefficient (区域点数法, 004 二(一)).
    The ``same_price_groups`` lowest groups are paid one standard at every tier (同病同价,
    000 一(三), 001 三(四), 004 二(一)): the same-price rate under DRG, coefficient 1 under DIP.
    Rehabilitation stays under bed-day payment: rate × days (001 二(三)).
    """
    p = rules.payment
    drg, dip_tier, bed_day = rules.paid_by("drg"), rules.paid_by("dip"), p.rehab_method == "bed_day"
    if not (drg.any() or dip_tier.any() or bed_day):  # all fee-for-service
        none = np.zeros_like(claim.fund)
        return ProviderPayment(payment.fee_for_service(claim.fund), none, none)
    n_groups = rules.scenario.payment.drg_groups.value
    group = np.minimum((severity * n_groups).astype(np.int64), n_groups - 1)
    weight = 0.5 + (group + 0.5) / n_groups
    same = group < p.same_price_groups
    drg_standard = payment.case_payment_standard(
        weight, base_rate=np.where(same, p.same_price_base_rate, p.drg_base_rate[tier]),
        tier_coefficient=1.0, same_price=same,
    )
    dip = dip_tier[tier] & ~rehab
    points = np.where(dip, payment.case_payment_standard(
        weight * p.dip_points_per_weight, base_rate=1.0,
        tier_coefficient=p.dip_tier_coefficient[tier], same_price=same), 0.0)
    dip_standard = payment.dip_payment(points, p.dip_provisional_point_value)
    standard = np.where(dip, dip_standard, drg_standard)
    by_standard = np.where(rehab, bed_day, drg[tier] | dip_tier[tier])
    if bed_day:
        standard = np.where(rehab, payment.bed_day_standard(
            stay, rate_per_day=p.rehab_bed_day_rate), standard)
    settled = payment.fund_payment_under_standard(
        standard, patient=claim.patient, assistance=claim.assistance, bill=claim.bill)
    fund = np.where(by_standard, settled.fund, payment.fee_for_service(claim.fund))
    return ProviderPayment(fund, points, dip_standard * dip)
