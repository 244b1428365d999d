"""Numbers as users read them: one rule for report tables, hover texts and the command line.

A value gets about three significant digits (``decimals``) and thousands separators. Fractions
are shown as percentages, and differences of fractions in percentage points; other units as the
number itself, since tables, axes and hovers name the unit. ``d3`` turns the same rule into a
d3-format string for the numbers Plotly formats in the browser.
"""

from __future__ import annotations

import math

from flowsim.labels import text


def is_fraction(unit: str) -> bool:
    """Whether values in ``unit`` are fractions (``fraction``, ``fraction per year`` …)."""
    return unit.startswith("fraction")


def decimals(size: float, unit: str = "") -> int:
    """Decimals that show numbers up to ``size`` in ``unit`` with about three significant digits.

    The size as shown (× 100 for fractions) gets 0 decimals from 100 up, 1 from 10, 2 from 1 and
    3 below 1. Ratios (near 1, where the third decimal matters) always get 3.
    """
    if unit == "ratio":
        return 3
    shown = abs(size) * (100 if is_fraction(unit) else 1)
    return 0 if shown >= 100 else 1 if shown >= 10 else 2 if shown >= 1 else 3


def number(value: float, unit: str = "", lang: str = "en", *,
           interval: tuple[float, float] | None = None, sign: bool = False,
           sep: str = " ") -> str:
    """``value`` in ``unit`` as text, with its interval in brackets when one is given.

    ``number(0.4567, "fraction")`` is "45.7 %", ``number(1234.56, "yuan per year")`` "1,235" and
    ``number(0.012, "fraction", interval=(0.004, 0.02), sign=True)`` "+1.20 pp [0.40, 2.00]": the
    interval is in the value's unit, written once after the value.

    Args:
        value: the number in ``unit``; NaN or None gives "n/a".
        unit: the indicator's unit (fractions are shown × 100, followed by " %").
        lang: "en" or "zh" (the words for percentage points: "pp", "个百分点").
        interval: (low, high), written after ``sep`` as "[low, high]" with the decimals of the
            largest of the three numbers; left out when either end is NaN.
        sign: a difference: "+" before a positive value, fractions in percentage points.
        sep: what separates the value from its interval (" ", or "<br>" in a table cell).
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    ends = [v for v in interval or () if v is not None and math.isfinite(v)]
    if len(ends) < 2:
        ends = []
    places = decimals(max(abs(v) for v in (value, *ends)), unit)
    if is_fraction(unit):
        scale, suffix = 100.0, (" " + text("word.points", lang)) if sign else " %"
    else:
        scale, suffix = 1.0, ""

    def shown(v: float, signed: bool = False) -> str:
        v = scale * v
        if round(v, places) == 0:  # no "-0.000" from rounding noise
            v = 0.0
        return f"{v:{'+' if signed and v else ''},.{places}f}"

    out = shown(value, sign) + suffix
    if ends:
        out += f"{sep}[{shown(ends[0])}, {shown(ends[1])}]"
    return out


MONEY_SCALES = {"zh": (("money.large", 1e8, 1e9), ("money.medium", 1e4, 1e5)),
                "en": (("money.large", 1e6, 1e7), ("money.medium", 1e3, 1e4))}
"""Per language: (label key, divisor, smallest size shown so) of large amounts of money: 亿元 and
万元 on the Chinese page, million and thousand yuan on the English."""


def money_unit(size: float, lang: str) -> tuple[float, str]:
    """(divisor, unit words) for amounts up to ``size`` yuan: 万元/亿元 or thousand/million yuan."""
    for key, divisor, smallest in MONEY_SCALES[lang]:
        if abs(size) >= smallest:
            return divisor, text(key, lang)
    return 1.0, text("word.yuan", lang)


def money(value: float, lang: str, *, size: float | None = None, sign: bool = False) -> str:
    """``value`` yuan in the unit ``money_unit`` picks for ``size`` (default: the value itself).

    ``money(3.2e8, "zh")`` is "32,000 万元" and ``money(3.2e8, "en")`` "320 million yuan".
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    divisor, unit = money_unit(value if size is None else size, lang)
    shown = value / divisor
    return f"{shown:{'+' if sign else ''},.{decimals(shown)}f} {unit}"


def d3(unit: str, size: float) -> str:
    """The d3-format of ``number`` for values up to ``size`` (Plotly hover templates, axes)."""
    places = decimals(size, unit)
    return f".{places}%" if is_fraction(unit) else f",.{places}f"
