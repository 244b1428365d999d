"""One self-contained HTML report of a run, a comparison or an experiment.

``write_report(source, path, lang=...)`` reads a ``Results``, an ``ExperimentResults`` or a
results folder (``flowsim run --out``, or the folder of ``flowsim compare`` / ``flowsim
experiment``). A comparison or an experiment opens on a decision summary: what each scenario
changes from the baseline (computed from the merged scenarios by ``flowsim.changes``), then the
key outcomes as paired differences with 95 % intervals, each marked better or worse for patients,
the fund or the 分级诊疗 goal (``Indicator.better``), with notes where a reform is in force for
part of the run or changes what an indicator counts. Then a table of every headline indicator,
the figures of ``flowsim.figures`` the data support (a sweep leads with its dose–response
figure), each with a "how to read this" note, and the scenario files with their sources.

plotly.js is embedded once, so the file opens offline. ``lang="both"`` (the default) writes
Chinese and English into one page with a language switch; ``"zh"`` or ``"en"`` writes one
language. All user text is HTML-escaped. ``figure(source, kind, lang)`` gives one of the report's
figures as a Plotly object, for notebooks.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import yaml

from flowsim import figures
from flowsim.changes import Change, changes, describe, parameter_text
from flowsim.config import Scenario, iter_params, scenario_from_yaml
from flowsim.errors import InputError
from flowsim.experiments import PROVINCE, REFERENCE, ExperimentResults, load_folder
from flowsim.files import check_file, output_folder, write_text_atomically
from flowsim.formats import number
from flowsim.indicators import HEADLINE, INDICATORS
from flowsim.labels import LANGS as FIGURE_LANGS
from flowsim.labels import TEXT, text
from flowsim.results import Results
from flowsim.version import VERSION

LANGS = ("both", "zh", "en")
"""Languages of a report page: both (with a switch, Chinese first), Chinese or English."""
SECTIONS = ("differences", "monthly", "tiers", "fund_flow", "referrals", "map", "settlement",
            "dose_response", "sensitivity", "equity")
"""Figure sections in order, one figure kind each; title and note are the labels
``section.<kind>`` and ``how.<kind>`` of ``flowsim.labels``. A sweep's dose–response figure
leads its report instead."""
RUN_KINDS = ("tiers", "fund_flow", "referrals", "map", "settlement")
"""Figures drawn from the saved runs of an experiment (first replication of each variant)."""
KEY_OUTCOMES = ("fund_per_capita", "fund_balance_per_capita", "oop_per_capita",
                "catastrophic_incidence", "grassroots_visit_share", "in_county_fund_share",
                "forgone_admission_share", "first_contact_share")
"""The decision summary's outcomes, in order; one the results do not hold is left out."""
TABLE_INDICATORS = (*HEADLINE, "fund_per_capita", "fund_balance_per_capita",
                    "ordinary_visits_per_capita", "chronic_visits_per_capita",
                    "episodes_treated_per_capita")
"""Rows of the report's table of levels (those the results hold)."""
MEANING = {"benefits.chronic.prescription_days": (
    "visits_per_capita", "chronic_visits_per_capita", "ordinary_visits_per_capita",
    "episodes_treated_per_capita")}
"""Parameters that change what an indicator counts → the indicators the note shows together
(longer 两病 prescriptions cut counted follow-up visits, not care)."""
COLUMNS = 3
"""Most scenarios side by side in one summary table (more go into the next table)."""

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",system-ui,sans-serif;
margin:0 auto;max-width:1150px;padding:0 1.2em 3em;color:#222;line-height:1.5}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6em 0;z-index:9}
h1{font-size:1.45em;margin:.2em 0}h2{margin-top:1.8em;border-bottom:2px solid #1f77b4}
h3{margin:1.2em 0 .3em}h4{margin:.8em 0 .2em;font-size:1em}
.note{background:#f4f7fb;border-left:4px solid #1f77b4;padding:.5em .9em;margin:.6em 0}
.warn{background:#fff8e6;border-left:4px solid #e6a100;padding:.5em .9em;margin:.6em 0}
table.data{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em;max-width:100%}
table.data th,table.data td{padding:.3em .6em;border-bottom:1px solid #e3e3e3;text-align:left;
vertical-align:top;overflow-wrap:anywhere}
table.data th{background:#e8eef7}table.data td:first-child{min-width:8em}
table.data td.num{text-align:right;white-space:nowrap}
table.changes td:first-child{min-width:9em}table.changes td:nth-child(4){white-space:nowrap}
table.changes td:nth-child(2),table.changes td:nth-child(3){min-width:4.5em}
table.data td.num small{white-space:normal}
table.meta td{padding:.1em .8em .1em 0;vertical-align:top;overflow-wrap:anywhere}
.better{color:#1a7f37}.worse{color:#b42318}.unclear{color:#666}
small{color:#555}
pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:30em;font-size:.85em}
.switch button{margin-right:.4em;padding:.2em .8em;border:1px solid #1f77b4;background:#fff;
border-radius:4px;cursor:pointer}.switch button.on{background:#1f77b4;color:#fff}
body.show-zh .l-en,body.show-en .l-zh{display:none}
"""

_SWITCH_JS = """
function flowsimLang(l){document.body.className='show-'+l;
document.documentElement.lang=l==='zh'?'zh-CN':'en';
document.querySelectorAll('.switch button').forEach(function(b){
b.classList.toggle('on',b.dataset.lang===l);});
window.dispatchEvent(new Event('resize'));}
document.querySelectorAll('.switch button').forEach(function(b){
b.addEventListener('click',function(){flowsimLang(b.dataset.lang);});});
flowsimLang(location.hash==='#en'?'en':'zh');
"""


@dataclass
class ScenarioInfo:
    """One scenario of the report: its names, merged file, and what it changes from the baseline."""

    name: str
    titles: dict[str, str]  # lang → title (the name when the scenario has none)
    file: str | None
    yaml: str
    scenario: Scenario | None  # None when the saved YAML no longer validates
    changes: list[Change] = field(default_factory=list)


@dataclass
class ReportData:
    """What a report shows: tidy tables per figure kind plus descriptions and sources."""

    title: str
    kind: str  # "run" | "compare" | "experiment"
    facts: list[tuple[str, dict[str, str]]]  # (label key, value by language)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    policy_changes: dict[str, list[str]] = field(default_factory=dict)
    axes: list[str] = field(default_factory=list)
    levers: dict[str, dict] = field(default_factory=dict)
    scenarios: list[ScenarioInfo] = field(default_factory=list)  # the baseline first
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # lang → variant → label
    start: date | None = None
    days: int | None = None
    n_seeds: int = 1

    def label(self, variant: str, lang: str) -> str:
        """A variant as the page names it in ``lang`` (its scenario's title)."""
        return self.names.get(lang, {}).get(variant, variant)


Source = str | Path | Results | ExperimentResults
"""What a report is made of: one run's or an experiment's results, or the folder holding them."""


# -- reading ---------------------------------------------------------------------------------


def load(source: Source) -> ReportData:
    """The report's data from a ``Results``, an ``ExperimentResults`` or a results folder."""
    if isinstance(source, Results):
        return _from_run(source)
    if isinstance(source, ExperimentResults):
        return _from_experiment(source)
    return load(load_folder(source))


def _scenario_info(entry: dict) -> ScenarioInfo:
    """A ``scenario_files`` entry (name, file, merged YAML) read back into a scenario."""
    name = str(entry.get("variant", ""))
    try:
        scenario = scenario_from_yaml(str(entry.get("yaml") or ""), entry.get("file"))
    except InputError:
        scenario = None
    titles = {lang: scenario.title_in(lang) if scenario else name for lang in FIGURE_LANGS}
    return ScenarioInfo(name, titles, entry.get("file"), str(entry.get("yaml") or ""), scenario)


def _with_changes(infos: list[ScenarioInfo]) -> list[ScenarioInfo]:
    """The scenarios with what each changes from the first (the baseline)."""
    base = infos[0].scenario if infos else None
    for info in infos[1:]:
        if base is not None and info.scenario is not None:
            info.changes = changes(base, info.scenario)
    return infos


def _facts_county(name: str, residents: int | None) -> dict[str, str]:
    out = {}
    for lang in FIGURE_LANGS:
        shown = text(f"county.{name}", lang) if f"county.{name}" in TEXT else name
        out[lang] = shown + (text("page.residents_of", lang, n=f"{residents:,}")
                             if residents else "")
    return out


def _period(start: date, days: int) -> dict[str, str]:
    end = start + timedelta(days=days - 1)
    return {lang: text("page.period_value", lang, start=start.isoformat(), end=end.isoformat(),
                       days=f"{days:,}") for lang in FIGURE_LANGS}


def _same(value: str) -> dict[str, str]:
    return dict.fromkeys(FIGURE_LANGS, value)


def _from_run(res: Results, kinds: tuple[str, ...] = tuple(figures.RUN_TABLES)) -> ReportData:
    meta = res.meta
    info = _scenario_info({"variant": res.scenario, "file": meta.get("scenario_file"),
                           "yaml": meta.get("scenario_yaml", "")})
    changes_in_run = ", ".join(meta.get("policy_changes", [])) or "—"
    return ReportData(
        title=res.scenario,
        kind="run",
        facts=[("page.scenario", {lg: infos_title(info, lg) for lg in FIGURE_LANGS}),
               ("page.county", _facts_county(info.scenario.county.name if info.scenario else "",
                                             meta.get("residents"))),
               ("page.period", _period(res.start_date, res.days)),
               ("page.seed", _same(str(res.seed))),
               ("page.policy_changes", _same(changes_in_run))]
        + ([("page.settings", _same("; ".join(f"{k} = {v}" for k, v in
                                              meta["settings"].items())))]
           if meta.get("settings") else []),
        tables={kind: figures.RUN_TABLES[kind](res) for kind in kinds},
        policy_changes={res.scenario: list(meta.get("policy_changes", []))},
        scenarios=[info],
        names={lg: {res.scenario: info.titles[lg]} for lg in FIGURE_LANGS},
        start=res.start_date,
        days=res.days,
    )


def _from_experiment(exp: ExperimentResults) -> ReportData:
    meta = exp.meta
    axes = list(meta.get("axes") or [])
    levers = dict(meta.get("levers") or {})
    counties = list(meta.get("counties") or [])
    summary, diffs = exp.summary, exp.differences
    area = ((PROVINCE if PROVINCE in set(summary.county) else counties[0]) if len(summary)
            else None)
    infos = _with_changes([_scenario_info(e) for e in meta.get("scenario_files") or []])
    by_name = {i.name: i for i in infos}
    names = {lg: {} for lg in FIGURE_LANGS}
    for v in meta["variants"]:
        info = by_name.get(v["scenario"])
        for lg in FIGURE_LANGS:
            title = info.titles[lg] if info else v["scenario"]
            point = ", ".join(f"{figures.lever_label(k, levers, lg)} = {x:g}"
                              for k, x in (v.get("params") or {}).items())
            several = len({w["scenario"] for w in meta["variants"]}) > 1
            names[lg][v["variant"]] = (f"{title} · {point}" if several else point) if point \
                else title
    tables: dict[str, pd.DataFrame] = {}
    if len(summary):
        shown = summary[summary.county == area]
        tables["headline"] = shown[["variant", "indicator", "mean", "ci_low", "ci_high"]]
        tables["equity"] = figures.equity_table(shown)
    if len(diffs):
        shown = diffs[diffs.county == area]
        tables["key"] = shown
        if axes:
            tables["dose_response"] = shown[shown.point != REFERENCE]
        else:
            tables["differences"] = shown
    tables.update(_example_tables(exp, len(counties)))
    tables["monthly"] = _monthly(exp.monthly_summary, tables.get("tiers"), len(counties))
    sens = exp.sensitivity
    if sens is not None and len(sens):
        sens = sens[sens.county == area]
        if len(sens):
            sens = sens[sens.scenario == sens.scenario.iloc[0]]
        tables["sensitivity"] = sens
    first = next(exp.examples(), None)
    res = first[2] if first else None
    start = res.start_date if res else None
    days = res.days if res else meta.get("days")
    seeds = meta.get("seeds", [])
    facts = [
        ("page.variants", {lg: ", ".join(infos_title(i, lg) for i in infos) for lg in
                           FIGURE_LANGS}),
        ("page.baseline", {lg: names[lg].get(meta.get("baseline"), str(meta.get("baseline")))
                           for lg in FIGURE_LANGS}),
        ("page.county", _facts_county(counties[0] if counties else "",
                                      res.meta.get("residents") if res else None)),
    ]
    if start and days:
        facts.append(("page.period", _period(start, days)))
    facts.append(("page.replications", {lg: text("page.replications_value", lg, n=len(seeds),
                                                 seeds=", ".join(map(str, seeds)))
                                        for lg in FIGURE_LANGS}))
    if meta.get("settings"):
        facts.append(("page.settings", _same("; ".join(
            f"{k} = {v}" for k, v in meta["settings"].items()))))
    if len(counties) > 1:
        facts.append(("page.shown", _same(str(area))))
    return ReportData(
        title=str(meta.get("name", exp.path.name)),
        kind=meta.get("kind") if meta.get("kind") in ("compare", "experiment") else "experiment",
        facts=facts,
        tables=tables,
        policy_changes={k: list(v) for k, v in (meta.get("policy_changes") or {}).items()},
        axes=axes,
        levers=levers,
        scenarios=infos,
        names=names,
        start=start,
        days=days,
        n_seeds=len(seeds),
    )


def infos_title(info: ScenarioInfo, lang: str) -> str:
    """A scenario as the facts name it: its title and, when different, its name."""
    title = info.titles[lang]
    return title if title == info.name else f"{title} ({info.name})"


def _label(variant: str, county: str, n_counties: int) -> str:
    """Group label: the variant, with the county when the experiment has several."""
    return f"{variant} · {county}" if n_counties > 1 else variant


def _monthly(summary: pd.DataFrame, tiers: pd.DataFrame | None,
             n_counties: int) -> pd.DataFrame:
    """The monthly figure's rows: mean and interval per group and month, with the month's days.

    The days simulated in each month come from the example runs' tiers table, when there is one.
    """
    monthly = summary.assign(variant=[_label(v, c, n_counties) for v, c in
                                      zip(summary.variant, summary.county, strict=True)])
    monthly = monthly[["variant", "month", "indicator", "mean", "ci_low", "ci_high"]]
    if monthly.empty or tiers is None or "days" not in tiers:
        return monthly
    days = tiers[["variant", "month", "days"]].drop_duplicates(["variant", "month"])
    days = days.assign(month=pd.to_datetime(days.month).astype("datetime64[ns]"))
    return monthly.assign(month=pd.to_datetime(monthly.month).astype("datetime64[ns]")).merge(
        days, on=["variant", "month"], how="left")


def _example_tables(exp: ExperimentResults, n_counties: int) -> dict[str, pd.DataFrame]:
    """The per-run figures' tables from each variant's example run (its full saved results)."""
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in RUN_KINDS}
    for variant, county, res in exp.examples():
        for kind in RUN_KINDS:
            table = figures.RUN_TABLES[kind](res)
            frames[kind].append(table.assign(variant=_label(variant, county, n_counties)))
    return {k: pd.concat(v, ignore_index=True) for k, v in frames.items() if v}


def figure(source: Source, kind: str = "monthly", lang: str = "en") -> go.Figure:
    """One figure of the report of ``source``, as a Plotly object (for notebooks).

    Args:
        source: a ``Results``, an ``ExperimentResults`` or a results folder.
        kind: a report section: "monthly", "tiers", "fund_flow", "referrals", "map",
            "settlement", "equity"; for comparisons and experiments also "differences",
            "dose_response" (sweeps) and "sensitivity" — where the data exist.
        lang: "en" or "zh".

    Raises:
        ValueError: an unknown kind or language, or a kind without data in ``source``.
    """
    if kind not in SECTIONS:
        raise ValueError(f"unknown figure kind {kind!r}; known: {', '.join(SECTIONS)}")
    if lang not in FIGURE_LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(FIGURE_LANGS)}")
    if isinstance(source, Results) and kind in figures.RUN_TABLES:
        data = _from_run(source, (kind,))  # only the table this figure needs
    else:
        data = load(source)
    if not _usable(data.tables.get(kind)):
        raise ValueError(f"no {kind!r} figure for these results; available: "
                         + ", ".join(k for k in SECTIONS if _usable(data.tables.get(k))))
    return _draw(kind, data, lang)


def _draw(kind: str, data: ReportData, lang: str) -> go.Figure:
    """The figure of ``kind``, its variants named by their titles in ``lang``."""
    table = data.tables[kind]
    rename = data.names.get(lang, {})
    if "variant" in table and rename:
        table = table.assign(variant=[_renamed(v, rename) for v in table.variant])
        if "baseline" in table:
            table = table.assign(baseline=[rename.get(v, v) for v in table.baseline])
    changes_by = {_renamed(v, rename): d for v, d in data.policy_changes.items()}
    return figures.draw(kind, table, lang, policy_changes=changes_by, axes=data.axes,
                        levers=data.levers)


def _renamed(variant: str, rename: dict[str, str]) -> str:
    """A figure's group label renamed: the variant's title, with its county when one is given."""
    if variant in rename:
        return rename[variant]
    head, sep, county = variant.rpartition(" · ")
    return f"{rename.get(head, head)} · {county}" if sep and head in rename else variant


# -- rendering -------------------------------------------------------------------------------


def _html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute of a language."""
    return "zh-CN" if lang == "zh" else "en"


def _t(key: str, langs: tuple[str, ...]) -> str:
    """The label ``key`` escaped in each language, each wrapped so the switch can show one."""
    if len(langs) == 1:
        return html.escape(text(key, langs[0]))
    return "".join(f'<span class="l-{lang}" lang="{_html_lang(lang)}">'
                   f"{html.escape(text(key, lang))}</span>" for lang in langs)


def _per_lang(langs: tuple[str, ...], render_one, tag: str = "div") -> str:
    """``render_one(lang)`` for each language, in elements the switch shows or hides.

    ``tag="span"`` inside a line of text.
    """
    if len(langs) == 1:
        return render_one(langs[0])
    return "".join(f'<{tag} class="l-{lg}" lang="{_html_lang(lg)}">{render_one(lg)}</{tag}>'
                   for lg in langs)


def _usable(data: pd.DataFrame | None) -> bool:
    if data is None or data.empty:
        return False
    for col in ("mean", "diff_mean"):
        if col in data:
            return bool(data[col].notna().any())
    return "value" not in data or bool((data.value.fillna(0) != 0).any())


def _figure_html(kind: str, data: ReportData, lang: str) -> str:
    """A figure with its title in HTML above it (the title's text is escaped by ``figures``)."""
    fig = _draw(kind, data, lang)
    title = fig.layout.title.text or ""
    fig = figures.untitled(fig)
    caption = f"<h4>{title}</h4>" if title else ""
    return caption + fig.to_html(full_html=False, include_plotlyjs=False,
                                 div_id=f"fig-{kind}-{lang}",
                                 config={"responsive": True, "displaylogo": False})


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset(),
           cls: str = "data") -> str:
    """An HTML table of cells that are HTML already (user text escaped); ``numeric`` align right."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _indicator_cell(name: str, lang: str) -> str:
    ind = INDICATORS[name]
    unit = text(f"unit.{ind.unit}", lang)
    return f"{_e(ind.label(lang))}<br><small>{_e(unit)}</small>"


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _levels_html(data: ReportData, lang: str) -> str:
    """Every headline indicator's level per variant: mean [95 % interval]."""
    table = data.tables["headline"]
    present = set(table.indicator)
    names = [n for n in dict.fromkeys(TABLE_INDICATORS) if n in present]
    variants = list(dict.fromkeys(table.variant))
    by = table.set_index(["variant", "indicator"])
    parts, missing = [], False
    for group in _chunks(variants, COLUMNS + 1):
        rows = []
        for n in names:
            cells = []
            for v in group:
                if (v, n) not in by.index:
                    cells.append("")
                    continue
                r = by.loc[(v, n)]
                shown = number(r["mean"], INDICATORS[n].unit, lang,
                               interval=(r.ci_low, r.ci_high), sep="<br><small>")
                missing |= shown == "n/a"
                cells.append(shown + ("</small>" if "<small>" in shown else ""))
            rows.append([_indicator_cell(n, lang), *cells])
        header = [_e(text("word.indicator", lang)), *(_e(data.label(v, lang)) for v in group)]
        parts.append(_table(header, rows, numeric=set(range(1, len(group) + 1))))
    if missing:
        parts.append(f'<p class="note">{_e(text("page.na_note", lang))}</p>')
    return "".join(parts)


# -- the decision summary ------------------------------------------------------------------------


def _key_names(data: ReportData) -> list[str]:
    present = set(data.tables["key"].indicator)
    return [n for n in KEY_OUTCOMES if n in present and n in INDICATORS]


def _verdict(name: str, row: pd.Series | None, lang: str) -> str:
    """Better or worse for whom, when the interval excludes zero; else "no clear change"."""
    ind = INDICATORS[name]
    if row is None or ind.better is None:
        return ""
    lo, hi, mean = row.diff_ci_low, row.diff_ci_high, row.diff_mean
    if not (math.isfinite(lo) and math.isfinite(hi)):
        verdict = ind.verdict(mean)
        if verdict is None:
            return ""
        words = text(f"verdict.{verdict}_point", lang, whom=text(f"whom.{ind.concerns}", lang))
        return f'<br><small class="{verdict}">{_e(words)}</small>'
    if lo <= 0 <= hi:
        return f'<br><small class="unclear">{_e(text("verdict.unclear", lang))}</small>'
    verdict = ind.verdict(mean)
    words = text(f"verdict.{verdict}", lang, whom=text(f"whom.{ind.concerns}", lang))
    mark = "▲" if verdict == "better" else "▼"
    return f'<br><small class="{verdict}">{mark} {_e(words)}</small>'


def _diff_cell(row: pd.Series | None, name: str, lang: str) -> str:
    if row is None:
        return ""
    unit = INDICATORS[name].unit
    shown = number(row.diff_mean, unit, lang, interval=(row.diff_ci_low, row.diff_ci_high),
                   sign=True, sep="<br><small>")
    return shown + ("</small>" if "<small>" in shown else "") + _verdict(name, row, lang)


def _outcomes_html(data: ReportData, lang: str) -> str:
    """The key outcomes: baseline level, then each variant's paired difference and verdict."""
    key = data.tables["key"]
    names = _key_names(data)
    levels = data.tables.get("headline")
    base = data.scenarios[0].name if data.scenarios else None
    variants = [v for v in dict.fromkeys(key.variant)]
    rows_by = {(r.variant, r.indicator): r for r in key.itertuples(index=False)}
    level_by = ({(r.variant, r.indicator): r for r in levels.itertuples(index=False)}
                if levels is not None else {})
    baseline_variant = str(key.baseline.iloc[0]) if len(key) else base
    parts = []
    for group in _chunks(variants, COLUMNS):
        rows = []
        for n in names:
            level = level_by.get((baseline_variant, n))
            cells = [number(level.mean, INDICATORS[n].unit, lang) if level is not None else ""]
            cells += [_diff_cell(rows_by.get((v, n)), n, lang) for v in group]
            rows.append([_indicator_cell(n, lang), *cells])
        header = [_e(text("word.indicator", lang)),
                  _e(text("summary.baseline_level", lang,
                          baseline=data.label(baseline_variant, lang))),
                  *(_e(text("summary.change_in", lang, variant=data.label(v, lang)))
                    for v in group)]
        parts.append(_table(header, rows, numeric=set(range(1, len(group) + 2))))
    note = "summary.how_one" if data.n_seeds < 2 else "summary.how"
    return (f"<h3>{_e(text('summary.outcomes', lang))}</h3>"
            f'<p class="note">{_e(text(note, lang, n=data.n_seeds))}</p>' + "".join(parts))


def _changes_html(info: ScenarioInfo, data: ReportData, lang: str) -> str:
    """What one scenario changes from the baseline, as a table, with timing notes."""
    title = f"{_e(info.titles[lang])}" + (f" <small>({_e(info.name)})</small>"
                                          if info.titles[lang] != info.name else "")
    out = [f"<h3>{title}</h3>"]
    if info.scenario is None:
        return "".join(out)
    if not info.changes:
        out.append(f"<p>{_e(text('summary.no_changes', lang))}</p>")
        return "".join(out)
    rows = []
    for c in info.changes:
        words = describe(c, lang)
        what = _e(words["parameter"]) + (f"<br><small>{_e(words['members'])}</small>"
                                          if words["members"] else "")
        rows.append([what, _e(words["from"]), _e(words["to"]), _e(words["when"]),
                     f"<small>{_e(words['source'])}</small>"])
    header = [_e(text(f"summary.col_{k}", lang)) for k in ("parameter", "from", "to", "when",
                                                            "source")]
    out.append(f"<h4>{_e(text('summary.changes', lang))}</h4>"
               + _table(header, rows, cls="data changes"))
    out += _timing_notes(info, data, lang)
    return "".join(out)


def _timing_notes(info: ScenarioInfo, data: ReportData, lang: str) -> list[str]:
    """Notes on changes in force for only part of the run, or after it."""
    if data.start is None or not data.days:
        return []
    end = data.start + timedelta(days=data.days)
    dates = sorted({d for c in info.changes for d in c.dates})
    notes = []
    for d in dates:
        if d <= data.start:
            continue
        if d >= end:
            notes.append(text("summary.after_run", lang, date=d.isoformat(),
                              end=(end - timedelta(days=1)).isoformat()))
        else:
            inside = (end - d).days
            notes.append(text("summary.part_of_run", lang, date=d.isoformat(), days=inside,
                              total=data.days, share=f"{100 * inside / data.days:.0f}"))
    return [f'<p class="warn">{_e(n)}</p>' for n in notes]


def _meaning_notes(data: ReportData, lang: str) -> list[str]:
    """Notes where a scenario changes what an indicator counts, with the indicators beside it."""
    key = data.tables.get("key")
    notes = []
    for info in data.scenarios[1:]:
        for c in info.changes:
            shown = MEANING.get(c.path)
            if shown is None or key is None:
                continue
            rows = key[key.scenario == info.name] if "scenario" in key else key
            values = []
            for n in shown:
                r = rows[rows.indicator == n]
                if r.empty:
                    continue
                r = r.iloc[0]
                values.append(f"{INDICATORS[n].label(lang)} "
                              + number(r.diff_mean, INDICATORS[n].unit, lang,
                                       interval=(r.diff_ci_low, r.diff_ci_high), sign=True))
            notes.append(text(f"meaning.{c.path}", lang, scenario=info.titles[lang],
                              parameter=parameter_text(c, lang),
                              values="; ".join(values) or "—"))
    return [f'<p class="warn">{_e(n)}</p>' for n in notes]


def _lever_html(data: ReportData, lang: str) -> str:
    """A sweep's levers in words: the label, the values, and the parameters each sets."""
    base = data.scenarios[0].scenario if data.scenarios else None
    params = dict(iter_params(base)) if base is not None else {}
    rows = []
    for name, spec in data.levers.items():
        values = spec.get("values") or spec.get("range") or []
        sets = spec.get("set") or {name: name}
        targets = []
        for path, expr in sets.items():
            head, _, member = path.partition(".value")
            words = path
            if head in params:
                change = Change(head, (), (), (), params[head].unit, params[head].description,
                                params[head].source, date.min)
                words = parameter_text(change, lang) + (
                    f" · {text(f'tier.{member.strip(chr(46))}', lang)}"
                    if f"tier.{member.strip(chr(46))}" in TEXT else member)
            targets.append(f"{_e(words)} = <code>{_e(expr)}</code>")
        rows.append([figures.lever_label(name, data.levers, lang),
                     _e(", ".join(f"{v:g}" for v in values)), "<br>".join(targets)])
    header = [_e(text(f"summary.lever_{k}", lang)) for k in ("name", "values", "sets")]
    return f"<h4>{_e(text('summary.levers', lang))}</h4>" + _table(header, rows)


def _summary_html(data: ReportData, lang: str) -> str:
    """The decision summary of a comparison or an experiment."""
    out = []
    if data.axes and _usable(data.tables.get("dose_response")):
        out.append(_lever_html(data, lang))
        out.append(f'<p class="note">{_e(text("how.dose_response", lang))}</p>')
        out.append(_figure_html("dose_response", data, lang))
    if len(data.scenarios) > 1 or not data.axes:
        for info in data.scenarios[1:]:
            out.append(_changes_html(info, data, lang))
    elif data.scenarios:
        out += _timing_notes(data.scenarios[0], data, lang)
    if _usable(data.tables.get("key")):
        out.append(_outcomes_html(data, lang))
        out += _meaning_notes(data, lang)
    return "".join(out)


# -- the page ----------------------------------------------------------------------------------


def _sources(data: ReportData, langs: tuple[str, ...]) -> str:
    parts = [f'<h2 id="sources">{_t("page.sources", langs)}</h2>',
             f'<p class="note">{_t("page.sources_note", langs)}</p>']
    for info in data.scenarios:
        file = info.file
        heading = _per_lang(langs, lambda lg, i=info: _e(infos_title(i, lg)), "span")
        parts.append(f"<h3>{heading}" + (f" — <code>{_e(file)}</code>" if file else "")
                     + "</h3>")
        cited = _cited(info.yaml)
        if cited:
            rows = [[_e(src), _e(", ".join(ps))] for src, ps in cited.items()]
            parts.append(f"<details><summary>{_t('page.cited', langs)} ({len(cited)})</summary>"
                         + _table([_t("page.source", langs), _t("page.parameters", langs)],
                                  rows) + "</details>")
        parts.append(f"<details><summary>{_t('page.yaml', langs)}</summary>"
                     f"<pre>{_e(info.yaml)}</pre></details>")
    return "\n".join(parts)


def _cited(resolved: str) -> dict[str, list[str]]:
    """Source → parameters citing it, from a resolved scenario YAML."""
    try:
        tree = yaml.safe_load(resolved)
    except yaml.YAMLError:
        return {}
    out: dict[str, list[str]] = {}

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if "source" in node and not isinstance(node["source"], dict | list):
                out.setdefault(str(node["source"]), []).append(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

    walk(tree, "")
    return dict(sorted(out.items()))


def _section(kind: str, langs: tuple[str, ...], body: str, title_key: str | None = None,
             how: bool = True) -> str:
    note = (f'<p class="note"><b>{_t("page.how", langs)}:</b> {_t(f"how.{kind}", langs)}</p>'
            if how else "")
    return (f'<section id="{kind}" class="figure"><h2>{_t(title_key or f"section.{kind}", langs)}'
            f"</h2>{note}{body}</section>")


def render(data: ReportData, lang: str = "both") -> str:
    """The report as one HTML string (plotly.js embedded; no network needed to open it)."""
    if lang not in LANGS:
        raise InputError(None, "--lang", lang, "zh, en or both")
    langs = ("zh", "en") if lang == "both" else (lang,)
    facts = "".join(f"<tr><td>{_t(key, langs)}</td><td>"
                    f"{_per_lang(langs, lambda lg, v=value: _e(v[lg]), 'span')}</td></tr>"
                    for key, value in data.facts)
    body = []
    if data.kind != "run" and (_usable(data.tables.get("key")) or len(data.scenarios) > 1):
        body.append(_section("summary", langs, _per_lang(langs, lambda lg: _summary_html(data,
                                                                                         lg)),
                             how=False))
    if _usable(data.tables.get("headline")):
        body.append(_section("headline", langs,
                             _per_lang(langs, lambda lg: _levels_html(data, lg))))
    for kind in SECTIONS:
        if not _usable(data.tables.get(kind)) or (kind == "dose_response" and data.kind != "run"):
            continue
        body.append(_section(kind, langs, _per_lang(
            langs, lambda lg, k=kind: _figure_html(k, data, lg))))
    switch = ('<div class="switch"><button data-lang="zh">中文</button>'
              '<button data-lang="en">English</button></div>' if len(langs) > 1 else "")
    kind = _t(f"page.{data.kind}", langs)
    heading = _per_lang(langs, lambda lg: _e(_page_title(data, lg)), "span")
    return f"""<!DOCTYPE html>
<html lang="{_html_lang(langs[0])}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowsim: {_e(data.title)}</title>
<style>{_CSS}</style>
<script>{plotly.offline.get_plotlyjs()}</script>
</head>
<body class="show-{langs[0]}">
<header><h1>flowsim — {heading} <small>({kind})</small></h1>{switch}</header>
<table class="meta">{facts}</table>
{''.join(body)}
{_sources(data, langs)}
<p><small>{_t("page.made", langs)} {_e(VERSION)}</small></p>
{f"<script>{_SWITCH_JS}</script>" if len(langs) > 1 else ""}
</body>
</html>
"""


def _page_title(data: ReportData, lang: str) -> str:
    """The page's heading: the run's scenario title, or the experiment's name."""
    if data.kind == "run" and data.scenarios:
        return data.scenarios[0].titles[lang]
    if data.kind == "compare":
        return " · ".join(i.titles[lang] for i in data.scenarios) or data.title
    return data.title


def write_report(source: Source, path: str | Path, *, lang: str = "both") -> Path:
    """Write the report of ``source`` to ``path``.

    The file is written under a temporary name and renamed into place, so a failure never
    leaves a half-written report or removes an existing one.

    Args:
        source: a ``Results``, an ``ExperimentResults``, or a folder written by
            ``flowsim run --out``, ``flowsim compare`` or ``flowsim experiment``.
        path: the HTML file to write.
        lang: "both" (a language switch in the page, Chinese shown first), "zh" or "en".
    """
    if lang not in LANGS:
        raise InputError(None, "--lang", lang, "zh, en or both")
    target = check_file(path, "--output")  # before any work: a file name, somewhere writable
    page = render(load(source), lang)
    output_folder(target.parent, "--output")
    return write_text_atomically(target, page)
