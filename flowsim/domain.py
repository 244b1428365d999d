"""The fixed vocabulary of the model: tiers, services, schemes, referral and poverty codes.

Every array axis in flowsim is indexed by these codes. Their labels in English and Chinese are
in ``flowsim.labels`` (``tier.village`` …).
"""

from enum import IntEnum

import numpy as np


class Tier(IntEnum):
    """Level of care (README, "How the model works"); village and township are grassroots (基层)."""

    VILLAGE = 0
    TOWNSHIP = 1
    COUNTY = 2
    OUT_OF_COUNTY = 3


class Service(IntEnum):
    """Benefit category: ordinary outpatient, chronic (两病/门诊慢特病) outpatient, inpatient."""

    OUTPATIENT = 0
    CHRONIC = 1
    INPATIENT = 2


class Scheme(IntEnum):
    """Basic medical insurance scheme: 城乡居民医保 (resident) or 职工医保 (employee)."""

    RESIDENT = 0
    EMPLOYEE = 1


class Referral(IntEnum):
    """How the patient came: no referral, a transfer, or a grassroots referral.

    A transfer up (上转) or down (下转) moves an inpatient; GRASSROOTS is a referral written by a
    grassroots facility after an outpatient visit there (基层首诊 转诊). Any referral exempts the
    claim from the gatekeeping penalty; deductible continuity applies to transfers only.
    """

    NONE = 0
    UP = 1
    DOWN = 2
    GRASSROOTS = 3


class Poverty(IntEnum):
    """Medical-assistance group (医疗救助对象); NONE gets no assistance."""

    NONE = 0
    EXTREME = 1  # 特困人员
    DIBAO = 2  # 低保对象
    NEAR_DIBAO = 3  # 低保边缘家庭
    MONITORED = 4  # 防止返贫监测帮扶对象


class Payer(IntEnum):
    """Who paid a bill: the money axis of the daily counters (fund + assistance + patient = bill).

    ``FUND`` is the fund's cost-sharing share of the bill; ``FUND_PAID`` is what the fund paid the
    provider under the payment method (equal to ``FUND`` under fee-for-service). A provider's
    revenue = FUND_PAID + ASSISTANCE + PATIENT.
    """

    BILL = 0
    FUND = 1
    ASSISTANCE = 2
    PATIENT = 3
    FUND_PAID = 4


class Route(IntEnum):
    """How an inpatient stay began: a new admission, a transfer (上转), or rehabilitation (下转)."""

    NEW = 0
    TRANSFER = 1
    REHAB = 2


class Direction(IntEnum):
    """Direction of a referral between tiers: the first axis of the referral counters."""

    UP = 0  # 上转: to a higher level of care
    DOWN = 1  # 下转: to a lower level (rehabilitation)


UPWARD_CONTINUITY = ("none", "first_only", "difference")
"""Deductible of an upward referral inside the 医共体: a full new one, none after the first
(Weihai, seed 003), or the difference to what was paid (001 三(一), 004 二(二))."""
PENALTY_MODES = ("points", "relative")
"""How a reimbursement penalty of size p applies to a rate r: r − p, or r × (1 − p)."""

TIERS = tuple(t.name.lower() for t in Tier)
SERVICES = tuple(s.name.lower() for s in Service)
SCHEMES = tuple(s.name.lower() for s in Scheme)
GRASSROOTS = [Tier.VILLAGE, Tier.TOWNSHIP]
"""Grassroots (基层) tiers; a list, so that it selects cells when used as a numpy index."""
IN_COUNTY = [Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY]
"""In-county (县域内) tiers."""
IS_GRASSROOTS = np.isin(np.arange(len(Tier)), GRASSROOTS)
"""[tier] bool: the tier is grassroots."""
IS_IN_COUNTY = np.isin(np.arange(len(Tier)), IN_COUNTY)
"""[tier] bool: the tier is inside the county."""
PAYERS = tuple(p.name.lower() for p in Payer)
DIRECTIONS = tuple(d.name.lower() for d in Direction)
ROUTES = tuple(r.name.lower() for r in Route)
N_SCHEMES = len(Scheme)
N_QUINTILES = 5
"""Income quintiles (0 = poorest)."""
DAYS_PER_YEAR = 365
"""Days of a year for annual rates (contributions, capitation, budgets, per-capita indicators)."""
UNLIMITED = 10**9
"""Capacity of an out-of-county hospital (outpatient slots per day, beds): effectively unlimited.

The county's residents are a negligible share of the patients of the provincial and city
hospitals outside it, so those never turn a county patient away for lack of capacity.
"""


def higher_level(tier, than):
    """Whether ``tier`` is a higher level of care than ``than`` (arrays broadcast).

    Tier codes are ordered by level of care: village < township < county < out of county.
    """
    return np.asarray(tier) > np.asarray(than)
CATASTROPHIC_SHARE = 0.4
"""Out-of-pocket ≥ this share of capacity to pay (income net of subsistence) in an insurance
year is catastrophic health expenditure (WHO convention)."""
