"""The fixed vocabulary of the model: tiers, services, schemes, referral and poverty codes.

Every array axis in flowsim is indexed by these codes. Their labels in English and Chinese are
in ``flowsim.labels`` (``tier.village`` …).
"""

from enum import IntEnum


class Tier(IntEnum):
    """Level of care (POLICY.md "Places"). Village and township together are grassroots (基层)."""

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
    """Referral status of a claim: none, upward (上转), downward (下转)."""

    NONE = 0
    UP = 1
    DOWN = 2


class Poverty(IntEnum):
    """Medical-assistance group (医疗救助对象); NONE gets no assistance."""

    NONE = 0
    EXTREME = 1  # 特困人员
    DIBAO = 2  # 低保对象
    NEAR_DIBAO = 3  # 低保边缘家庭
    MONITORED = 4  # 防止返贫监测帮扶对象


TIERS = tuple(t.name.lower() for t in Tier)
SERVICES = tuple(s.name.lower() for s in Service)
SCHEMES = tuple(s.name.lower() for s in Scheme)
GRASSROOTS = [Tier.VILLAGE, Tier.TOWNSHIP]
"""Grassroots (基层) tiers; a list, so that it selects cells when used as a numpy index."""
IN_COUNTY = [Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY]
"""In-county (县域内) tiers."""
CATASTROPHIC_SHARE = 0.4
"""Out-of-pocket ≥ this share of capacity to pay (income net of subsistence) in an insurance
year is catastrophic health expenditure (WHO convention)."""
