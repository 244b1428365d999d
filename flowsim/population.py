"""Residents as a struct of numpy arrays (one row per resident), built from the scenario.

Rows are sorted by age band, so the residents of band b are the contiguous range
``band_start[b]:band_start[b + 1]`` and a day's new episodes are drawn as integer offsets
into that range: no per-resident work in the daily step.

What pricing and choosing an encounter reads and writes (scheme, poverty, contract, income,
annual accumulators, ...) is stored once per resident in one record, ``Residents.table``
(``RESIDENT_RECORD``, 44 bytes); the named arrays of those fields are views into it. A day's
encounters are a few thousand scattered rows of 500,000: gathering one record per encounter
(``table[rows]``) touches one or two cache lines instead of one per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flowsim.config import AGE_BAND_LIMITS, UNDATED, PopulationSection
from flowsim.domain import N_QUINTILES, Poverty, Scheme, Service

N_SERVICES = len(Service)

RESIDENT_RECORD = np.dtype([
    ("cost_sensitivity", np.float32),  # set by the model: (median income / income) ^ η
    ("deductible_paid_year", np.float32, (N_SERVICES,)),
    ("fund_paid_year", np.float32, (N_SERVICES,)),
    ("assistance_paid_year", np.float32),
    ("oop_year", np.float32),
    ("village", np.int16),
    ("scheme", np.int8),
    ("poverty", np.int8),
    ("quintile", np.int8),
    ("contracted", np.bool_),
    ("certified", np.bool_),
    ("last_tier", np.int8),
])
"""One resident's record in ``Residents.table``: the fields an encounter reads or writes.
Per-service accumulators are [resident, service] here (the named arrays are [service, n])."""


@dataclass
class Residents:
    """Per-resident state. Static attributes first, then state that changes during a run."""

    village: np.ndarray  # int16 village row
    age: np.ndarray  # uint8 years
    band_start: np.ndarray  # int64 [n_bands + 1] first row of each age band
    scheme: np.ndarray  # int8 Scheme code
    income: np.ndarray  # float32 yuan per year
    quintile: np.ndarray  # int8 income quintile 0 (poorest) .. 4
    poverty: np.ndarray  # int8 Poverty code
    chronic_managed: np.ndarray  # bool: hypertension/diabetes under standardised management
    certification_draw: np.ndarray  # float32 U(0,1): certified if below the reach probability
    contracted: np.ndarray  # bool: family-doctor contract at own village clinic / township centre
    band_size: np.ndarray = field(init=False)  # int64 [n_bands] residents per age band
    # -- dynamic state --
    certified: np.ndarray = field(init=False)  # bool: certified for 两病 chronic benefits
    last_tier: np.ndarray = field(init=False)  # int8 tier of the last encounter, -1 none
    inpatient_at: np.ndarray = field(init=False)  # int32 facility row while admitted, -1 none
    discharge_day: np.ndarray = field(init=False)  # int32 day of discharge, -1 none
    deductible_paid_year: np.ndarray = field(init=False)  # float32 [service, n] yuan
    fund_paid_year: np.ndarray = field(init=False)  # float32 [service, n] yuan
    assistance_paid_year: np.ndarray = field(init=False)  # float32 yuan
    oop_year: np.ndarray = field(init=False)  # float32 yuan out of pocket this insurance year

    table: np.ndarray = field(init=False)  # RESIDENT_RECORD [n]: the fields above it views

    def __post_init__(self) -> None:
        n = len(self.village)
        self.band_size = np.diff(self.band_start)
        self.table = np.zeros(n, RESIDENT_RECORD)
        for name in ("village", "scheme", "quintile", "poverty", "contracted"):
            self.table[name] = getattr(self, name)
            setattr(self, name, self.table[name])
        self.certified = self.table["certified"]
        self.last_tier = self.table["last_tier"]
        self.last_tier.fill(-1)
        self.deductible_paid_year = self.table["deductible_paid_year"].T
        self.fund_paid_year = self.table["fund_paid_year"].T
        self.assistance_paid_year = self.table["assistance_paid_year"]
        self.oop_year = self.table["oop_year"]
        self.inpatient_at = np.full(n, -1, np.int32)
        self.discharge_day = np.full(n, -1, np.int32)

    def __len__(self) -> int:
        return len(self.village)

    def reset_year(self) -> None:
        """Start a new insurance year: annual deductibles, caps and out-of-pocket restart at 0."""
        for name in ("deductible_paid_year", "fund_paid_year", "assistance_paid_year",
                     "oop_year"):
            self.table[name] = 0


def build_residents(
    pop: PopulationSection, village_population: np.ndarray, rng: np.random.Generator
) -> Residents:
    """Draw residents village by village.

    Age band ~ age_shares, age uniform in its band; adults (15+) are employees with probability
    employee_share_adults; income ~ lognormal(log median, sigma); the poorest residents form the
    assistance groups in order 特困, 低保, 低保边缘, 监测 (poverty_shares); hypertension and
    diabetes by band prevalence; managed with chronic_managed_share; contracts at random.
    """
    d = UNDATED
    village = np.repeat(np.arange(len(village_population), dtype=np.int16), village_population)
    n = len(village)
    band = rng.choice(len(AGE_BAND_LIMITS), size=n, p=pop.age_shares.on(d))
    order = np.argsort(band, kind="stable")
    village, band = village[order], band[order]
    lo = np.array([a for a, _ in AGE_BAND_LIMITS])[band]
    hi = np.array([b for _, b in AGE_BAND_LIMITS])[band]
    age = (lo + rng.integers(0, hi - lo + 1)).astype(np.uint8)
    band_start = np.searchsorted(band, np.arange(len(AGE_BAND_LIMITS) + 1))

    adult = age >= 15
    scheme = np.where(adult & (rng.random(n) < pop.employee_share_adults.value),
                      Scheme.EMPLOYEE, Scheme.RESIDENT).astype(np.int8)
    income = (pop.income_median.value
              * np.exp(pop.income_sigma.value * rng.standard_normal(n))).astype(np.float32)
    rank = np.argsort(np.argsort(income, kind="stable"), kind="stable")
    quintile = (rank * N_QUINTILES // n).astype(np.int8)
    poverty = np.zeros(n, np.int8)
    edges = np.cumsum(pop.poverty_shares.on(d)) * n
    for group, (a, b) in enumerate(zip(np.r_[0, edges[:-1]], edges, strict=True), start=1):
        poverty[(rank >= a) & (rank < b)] = Poverty(group)

    hypertension = rng.random(n) < pop.hypertension_prevalence.on(d)[band]
    diabetes = rng.random(n) < pop.diabetes_prevalence.on(d)[band]
    managed = (hypertension | diabetes) & (rng.random(n) < pop.chronic_managed_share.value)
    return Residents(
        village=village,
        age=age,
        band_start=band_start,
        scheme=scheme,
        income=income,
        quintile=quintile,
        poverty=poverty,
        chronic_managed=managed,
        certification_draw=rng.random(n, dtype=np.float32),
        contracted=rng.random(n) < pop.family_doctor_contract_share.value,
    )
