"""Fixed texts in both languages, and the one way numbers are written."""

import math

import pytest

from flowsim import domain, figures, report
from flowsim.formats import d3, number
from flowsim.indicators import INDICATORS
from flowsim.labels import TEXT, text


def test_every_code_unit_and_section_has_both_labels():
    keys = [*(f"tier.{t}" for t in domain.TIERS), *(f"service.{s}" for s in domain.SERVICES),
            *(f"scheme.{s}" for s in domain.SCHEMES), *(f"payer.{p}" for p in figures.PAYERS),
            *(f"settlement.{c}" for c in figures.SETTLEMENT_BARS),
            *(f"unit.{ind.unit}" for ind in INDICATORS.values()),
            *(f"{part}.{kind}" for kind in report.SECTIONS for part in ("section", "how"))]
    missing = [k for k in keys if k not in TEXT]
    assert not missing
    for key, (en, zh) in TEXT.items():
        assert en.strip() and zh.strip(), key
        assert any("\u4e00" <= c <= "\u9fff" for c in zh), key  # the Chinese is Chinese


def test_text_picks_the_language_and_fills_in_fields():
    assert text("tier.village", "zh") == "村卫生室"
    assert text("tier.village", "en") == "village clinic"
    assert text("word.partial_month", "en", days=5) == "partial month: 5 days"
    assert text("word.partial_month", "zh", days=5) == "不完整月份：5 天"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        text("tier.village", "fr")
    with pytest.raises(KeyError):
        text("tier.hospital", "en")


@pytest.mark.parametrize(("args", "kwargs", "shown"), [
    ((0.4567, "fraction"), {}, "45.7 %"),  # fractions in per cent, three significant digits
    ((0.012345, "fraction of residents per year"), {}, "1.23 %"),
    ((0.004567, "fraction"), {}, "0.457 %"),
    ((1234.56, "yuan per person-year"), {}, "1,235"),  # from 100 up: whole numbers
    ((12.345, "per 1,000 person-years"), {}, "12.3"),
    ((4.567, "visits per person-year"), {}, "4.57"),
    ((0.12345, "admissions per person-year"), {}, "0.123"),
    ((1.0523, "ratio"), {}, "1.052"),  # ratios near 1: three decimals
    ((0.5, "fraction"), {"interval": (0.49, 0.51)}, "50.0 % [49.0, 51.0]"),
    ((523.4, "yuan per year"), {"interval": (98.7, 1010.2)}, "523 [99, 1,010]"),  # same decimals
    ((0.012, "fraction"), {"interval": (0.004, 0.02), "sign": True},
     "+1.20 pp [0.40, 2.00]"),  # a difference of shares, in percentage points
    ((0.012, "fraction", "zh"), {"sign": True}, "+1.20 个百分点"),
    ((-3.5, "yuan per person-year"), {"sign": True}, "-3.50"),
    ((0.3, "fraction"), {"interval": (math.nan, math.nan)}, "30.0 %"),  # one run: no interval
    ((0.3, "fraction"), {"interval": (0.2, 0.4), "sep": "<br>"}, "30.0 %<br>[20.0, 40.0]"),
    ((math.nan, "fraction"), {}, "n/a"),
    ((None, "ratio"), {}, "n/a"),
])
def test_numbers_are_written_one_way(args, kwargs, shown):
    assert number(*args, **kwargs) == shown


def test_plotly_formats_follow_the_same_rule():
    assert d3("fraction", 0.4567) == ".1%"  # 45.7%
    assert d3("fraction", 0.004567) == ".3%"  # 0.457%
    assert d3("yuan per year", 1234.5) == ",.0f"
    assert d3("visits per person-year", 4.567) == ",.2f"
    assert d3("ratio", 1.05) == ",.3f"
