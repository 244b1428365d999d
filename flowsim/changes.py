"""What a scenario changes from another: each parameter that differs, in words, from → to, when.

``changes(base, scenario)`` walks every ``Param`` of both (``config.iter_params``) down to its
single values (a tier, a scheme × service × tier, a dated mapping) and keeps the ones that
differ. Members of one parameter that change alike are one ``Change`` (village clinics and
township centres: 80 % → 85 % from 2023-07-01). A scenario made with ``--set`` or an experiment's
overrides is compared the same way, since it is a merged scenario like any other.

``describe(change, lang)`` gives the words a reader sees: the parameter (its description, or a
Chinese label where ``flowsim.labels`` has one), the members, from → to with units, the date it
takes effect and the source it cites.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from flowsim.config import UNDATED, Scenario, iter_params, value_on
from flowsim.labels import TEXT, text


@dataclass(frozen=True)
class Change:
    """One parameter's values that differ between a base and a scenario.

    ``before`` and ``after`` are schedules: ((date, value), …) ascending, the first entry in force
    from the run start (its date is ``config.UNDATED`` or a date on or before the start).
    """

    path: str
    members: tuple[tuple[str, ...], ...]  # the group members changed alike; ((),) for a scalar
    before: tuple[tuple[date, Any], ...]
    after: tuple[tuple[date, Any], ...]
    unit: str
    description: str
    source: str  # "" when the value was set without a source of its own (--set, overrides)
    start: date  # the scenario's start date

    @property
    def dates(self) -> list[date]:
        """Dates after the start on which the scenario's value changes (empty: from the start)."""
        return [d for d, _ in self.after if d > self.start]

    def as_row(self) -> dict:
        """The change as plain data (spreadsheets, JSON): path, members, from, to, dates, source."""
        return {
            "parameter": self.path,
            "members": ", ".join(".".join(m) for m in self.members if m),
            "description": self.description,
            "unit": self.unit,
            "from": schedule(self.before, self.unit, "en", self.start),
            "to": schedule(self.after, self.unit, "en", self.start),
            "in_force_from": ", ".join(d.isoformat() for d in self.dates) or "run start",
            "source": self.source,
        }


def changes(base: Scenario, scenario: Scenario) -> list[Change]:
    """Every parameter of ``scenario`` whose value differs from ``base``'s, in schema order."""
    before = dict(iter_params(base))
    out = []
    if base.start_date != scenario.start_date:
        out.append(Change("start_date", ((),), ((UNDATED, base.start_date),),
                          ((UNDATED, scenario.start_date),), "date", "start date of the run",
                          "", scenario.start_date))
    for path, param in iter_params(scenario):
        old = before.get(path)
        if old is None:
            continue
        old_leaves = dict(_leaves(old.value, ()))
        groups: dict[tuple, list[tuple[str, ...]]] = {}
        for member, new in _leaves(param.value, ()):
            was = old_leaves.get(member)
            after = _schedule(new, scenario.start_date)
            prior = _schedule(was, base.start_date) if was is not None else ()
            if after != prior:
                groups.setdefault((prior, after), []).append(member)
        source = param.source if param.source != old.source else ""  # set without a source
        for (prior, after), members in groups.items():
            out.append(Change(path, tuple(members), prior, after, param.unit,
                              param.description, source, scenario.start_date))
    return out


def _leaves(value: Any, member: tuple[str, ...]):
    """(member, single value or dated mapping) of a parameter's value, in field order."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _leaves(getattr(value, name), (*member, name))
    else:
        yield member, value


def _schedule(value: Any, start: date) -> tuple[tuple[date, Any], ...]:
    """A value as a schedule from ``start``: the value in force then, and each later change."""
    if not (isinstance(value, dict) and value and all(isinstance(k, date) for k in value)):
        return ((UNDATED, _plain(value)),)
    first = value_on(value, start) if min(value) <= start else value[min(value)]
    later = sorted((d, v) for d, v in value.items() if d > start)
    steps = [(UNDATED, _plain(first))]
    for d, v in later:
        if _plain(v) != steps[-1][1]:
            steps.append((d, _plain(v)))
    return tuple(steps)


def _plain(v: Any) -> Any:
    return tuple(v) if isinstance(v, list | tuple) else v


# -- words -------------------------------------------------------------------------------------


def value_text(value: Any, unit: str, lang: str) -> str:
    """One value as a reader sees it: fractions in %, flags yes/no, codes in words, with units."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return text("word.yes" if value else "word.no", lang)
    if isinstance(value, str):
        for key in (f"value.{value}", f"tier.{value}"):
            if key in TEXT:
                return text(key, lang)
        return value
    if isinstance(value, tuple):
        return "(" + ", ".join(value_text(v, unit, lang) for v in value) + ")"
    if isinstance(value, int | float):
        if unit.startswith("fraction"):
            return f"{100 * value:.4g}\u00a0%"
        shown = f"{value:,.6g}"
        key = f"unit.{unit}"
        return f"{shown} {text(key, lang) if key in TEXT else unit}"
    return str(value)


def schedule(steps: tuple[tuple[date, Any], ...], unit: str, lang: str, start: date) -> str:
    """A schedule in words: "80 %", or "80 %; 85 % from 2023-07-01"."""
    if not steps:
        return "—"
    parts = [value_text(steps[0][1], unit, lang)]
    for d, v in steps[1:]:
        parts.append(text("change.from_date", lang, value=value_text(v, unit, lang),
                          date=d.isoformat()))
    return "; ".join(parts)


def parameter_text(change: Change, lang: str) -> str:
    """The parameter in words: a label where ``flowsim.labels`` has one, else its description.

    ``benefits.<scheme>.<service>.<field>`` is named from its parts in both languages.
    """
    parts = change.path.split(".")
    if len(parts) == 4 and parts[0] == "benefits" and f"scheme.{parts[1]}" in TEXT and (
            f"param.benefits.{parts[3]}" in TEXT):
        scheme, service, field = (text(k, lang) for k in (
            f"scheme.{parts[1]}", f"service.{parts[2]}", f"param.benefits.{parts[3]}"))
        return f"{scheme}{service}{field}" if lang == "zh" else f"{scheme}, {service}: {field}"
    key = f"param.{change.path}"
    if key in TEXT:
        return text(key, lang)
    return change.description


def members_text(change: Change, lang: str) -> str:
    """The members changed, in words ("village clinic, township health centre"); "" for a scalar."""
    def word(part: str) -> str:
        for prefix in ("tier", "scheme", "service"):
            if f"{prefix}.{part}" in TEXT:
                return text(f"{prefix}.{part}", lang)
        return part

    return ("、" if lang == "zh" else ", ").join(
        " · ".join(word(p) for p in m) for m in change.members if m)


def describe(change: Change, lang: str) -> dict[str, str]:
    """The words of one change: parameter, members, from, to, in force from, source.

    "to" leaves out the value kept until the first date, which "when" gives.
    """
    after = change.after
    if len(after) > 1 and change.before[:1] and after[0][1] == change.before[0][1]:
        after = ((UNDATED, after[1][1]), *after[2:])  # the date is in "when"
    return {
        "parameter": parameter_text(change, lang),
        "members": members_text(change, lang),
        "from": schedule(change.before, change.unit, lang, change.start),
        "to": schedule(after, change.unit, lang, change.start),
        "when": ", ".join(d.isoformat() for d in change.dates)
        or text("change.run_start", lang),
        "source": change.source or text("change.no_source", lang),
    }
