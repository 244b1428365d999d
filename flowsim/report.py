"""One self-contained HTML report of a run, a comparison or an experiment.

``write_report(source, path, lang=...)`` reads a ``Results``, an ``ExperimentResults`` or a
results folder (``flowsim run --out``, or the folder of ``flowsim compare`` / ``flowsim
experiment``), draws the figures of ``flowsim.figures`` that its data supports, adds a "how to
read this" note to each and lists the scenario files with the sources they cite. plotly.js is
embedded once, so the file opens offline. ``lang="both"`` (the default) writes Chinese and
English into one page with a language switch; ``"zh"`` or ``"en"`` writes one language. All user
text is HTML-escaped. ``figure(source, kind, lang)`` gives one of the report's figures as a
Plotly object, for notebooks.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import yaml

from flowsim import figures
from flowsim.errors import InputError
from flowsim.experiments import PROVINCE, ExperimentResults, load_folder
from flowsim.files import check_file, output_folder, write_text_atomically
from flowsim.labels import LANGS as FIGURE_LANGS
from flowsim.labels import text
from flowsim.results import Results
from flowsim.version import VERSION

LANGS = ("both", "zh", "en")
"""Languages of a report page: both (with a switch, Chinese first), Chinese or English."""
SECTIONS = ("headline", "differences", "monthly", "tiers", "fund_flow", "referrals", "map",
            "settlement", "dose_response", "sensitivity", "equity")
"""Report sections in order, one figure kind each; title and note are the labels
``section.<kind>`` and ``how.<kind>`` of ``flowsim.labels``."""
RUN_KINDS = ("tiers", "fund_flow", "referrals", "map", "settlement")
"""Figures drawn from the saved runs of an experiment (first replication of each variant)."""

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",system-ui,sans-serif;
margin:0 auto;max-width:1150px;padding:0 1.2em 3em;color:#222;line-height:1.5}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6em 0;z-index:9}
h1{font-size:1.5em;margin:.2em 0}h2{margin-top:1.8em;border-bottom:2px solid #1f77b4}
.note{background:#f4f7fb;border-left:4px solid #1f77b4;padding:.5em .9em;margin:.6em 0}
.meta td,.sources td,.sources th{padding:.15em .8em .15em 0;vertical-align:top;text-align:left}
.sources{border-collapse:collapse;font-size:.9em}.sources tr{border-bottom:1px solid #eee}
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
class ReportData:
    """What a report shows: tidy tables per figure kind plus descriptions and sources."""

    title: str
    kind: str  # "run" | "compare" | "experiment"
    facts: list[tuple[str, str]]  # (label key, value) pairs describing the run(s)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    policy_changes: dict[str, list[str]] = field(default_factory=dict)
    axes: list[str] = field(default_factory=list)
    scenario_files: list[dict] = field(default_factory=list)  # variant, file, yaml


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


def _from_run(res: Results, kinds: tuple[str, ...] = tuple(figures.RUN_TABLES)) -> ReportData:
    meta = res.meta
    return ReportData(
        title=res.scenario,
        kind="run",
        facts=[("page.scenario", res.scenario), ("page.seed", str(res.seed)),
               ("page.start", res.start_date.isoformat()), ("page.days", str(res.days)),
               ("page.residents", f"{meta.get('residents', 0):,}"),
               ("page.policy_changes", ", ".join(meta.get("policy_changes", [])) or "—")],
        tables={kind: figures.RUN_TABLES[kind](res) for kind in kinds},
        policy_changes={res.scenario: list(meta.get("policy_changes", []))},
        scenario_files=[{"variant": res.scenario, "file": meta.get("scenario_file"),
                         "yaml": meta.get("scenario_yaml", "")}],
    )


def _from_experiment(exp: ExperimentResults) -> ReportData:
    meta = exp.meta
    axes = list(meta.get("axes") or [])
    counties = list(meta.get("counties") or [])
    summary = exp.summary
    area = ((PROVINCE if PROVINCE in set(summary.county) else counties[0]) if len(summary)
            else None)
    tables: dict[str, pd.DataFrame] = {}
    if len(summary):
        shown = summary[summary.county == area]
        tables["headline"] = shown[["variant", "indicator", "mean", "ci_low", "ci_high"]]
        tables["equity"] = figures.equity_table(shown)
        if axes:
            tables["dose_response"] = shown
    if len(exp.differences):
        tables["differences"] = exp.differences[exp.differences.county == area]
    tables.update(_example_tables(exp, len(counties)))
    tables["monthly"] = _monthly(exp.monthly_summary, tables.get("tiers"), len(counties))
    sens = exp.sensitivity
    if sens is not None and len(sens):
        sens = sens[sens.county == area]
        if len(sens):
            sens = sens[sens.scenario == sens.scenario.iloc[0]]
        tables["sensitivity"] = sens
    return ReportData(
        title=str(meta.get("name", exp.path.name)),
        kind=meta.get("kind") if meta.get("kind") in ("compare", "experiment") else "experiment",
        facts=[("page.variants", ", ".join(exp.variants)),
               ("page.baseline", str(meta.get("baseline", "—"))),
               ("page.seeds", ", ".join(str(s) for s in meta.get("seeds", []))),
               ("page.days", str(meta.get("days", "—"))),
               ("page.counties", ", ".join(counties) or "—"), ("page.shown", str(area or "—"))],
        tables=tables,
        policy_changes={k: list(v) for k, v in (meta.get("policy_changes") or {}).items()},
        axes=axes,
        scenario_files=list(meta.get("scenario_files") or []),
    )


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


def figure(source: Source, kind: str = "headline", lang: str = "en") -> go.Figure:
    """One figure of the report of ``source``, as a Plotly object (for notebooks).

    Args:
        source: a ``Results``, an ``ExperimentResults`` or a results folder.
        kind: a report section: "headline", "monthly", "tiers", "fund_flow", "referrals",
            "map", "settlement", "equity"; for comparisons and experiments also
            "differences", "dose_response" (sweeps) and "sensitivity" — where the data exist.
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
    return figures.draw(kind, data.tables[kind], lang, policy_changes=data.policy_changes,
                        axes=data.axes)


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


def _usable(data: pd.DataFrame | None) -> bool:
    if data is None or data.empty:
        return False
    if "mean" in data:
        return bool(data["mean"].notna().any())
    return "value" not in data or bool((data.value.fillna(0) != 0).any())


def _figure_html(kind: str, data: ReportData, lang: str) -> str:
    fig = figures.draw(kind, data.tables[kind], lang, policy_changes=data.policy_changes,
                       axes=data.axes)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{kind}-{lang}",
                       config={"responsive": True, "displaylogo": False})


def _sources(data: ReportData, langs: tuple[str, ...]) -> str:
    parts = [f'<h2 id="sources">{_t("page.sources", langs)}</h2>',
             f'<p class="note">{_t("page.sources_note", langs)}</p>']
    for entry in data.scenario_files:
        resolved = str(entry.get("yaml") or "")
        name = html.escape(str(entry.get("variant", "")))
        file = entry.get("file")
        parts.append(f"<h3>{name}" + (f" — <code>{html.escape(str(file))}</code>" if file else "")
                     + "</h3>")
        cited = _cited(resolved)
        if cited:
            rows = "".join(f"<tr><td>{html.escape(src)}</td><td>{html.escape(', '.join(ps))}</td>"
                           f"</tr>" for src, ps in cited.items())
            parts.append(f"<details><summary>{_t('page.cited', langs)} ({len(cited)})</summary>"
                         f'<table class="sources"><tr><th>{_t("page.source", langs)}</th>'
                         f'<th>{_t("page.parameters", langs)}</th></tr>{rows}</table></details>')
        parts.append(f"<details><summary>{_t('page.yaml', langs)}</summary>"
                     f"<pre>{html.escape(resolved)}</pre></details>")
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


def render(data: ReportData, lang: str = "both") -> str:
    """The report as one HTML string (plotly.js embedded; no network needed to open it)."""
    if lang not in LANGS:
        raise InputError(None, "--lang", lang, "zh, en or both")
    langs = ("zh", "en") if lang == "both" else (lang,)
    facts = "".join(f"<tr><td>{_t(key, langs)}</td><td>{html.escape(value)}</td></tr>"
                    for key, value in data.facts)
    body = []
    for kind in SECTIONS:
        if not _usable(data.tables.get(kind)):
            continue
        body.append(f'<section id="{kind}" class="figure"><h2>{_t(f"section.{kind}", langs)}</h2>'
                    f'<p class="note"><b>{_t("page.how", langs)}:</b> '
                    f'{_t(f"how.{kind}", langs)}</p>')
        body += [f'<div class="l-{lg}">{_figure_html(kind, data, lg)}</div>' for lg in langs]
        body.append("</section>")
    switch = ('<div class="switch"><button data-lang="zh">中文</button>'
              '<button data-lang="en">English</button></div>' if len(langs) > 1 else "")
    kind = _t(f"page.{data.kind}", langs)
    return f"""<!DOCTYPE html>
<html lang="{_html_lang(langs[0])}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowsim: {html.escape(data.title)}</title>
<style>{_CSS}</style>
<script>{plotly.offline.get_plotlyjs()}</script>
</head>
<body class="show-{langs[0]}">
<header><h1>flowsim — {html.escape(data.title)} ({kind})</h1>{switch}</header>
<table class="meta">{facts}</table>
{''.join(body)}
{_sources(data, langs)}
<p><small>{_t("page.made", langs)} {html.escape(VERSION)}</small></p>
{f"<script>{_SWITCH_JS}</script>" if len(langs) > 1 else ""}
</body>
</html>
"""


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

