"""One self-contained HTML report of a run, a comparison or an experiment.

``write_report(source, path, lang=...)`` reads a results folder (``flowsim run --out``, or the
folder of ``flowsim compare`` / ``flowsim experiment``), draws the figures of
``flowsim.figures`` that its data supports, adds a "how to read this" note to each and lists the
scenario files with the sources they cite. plotly.js is embedded once, so the file opens
offline. ``lang="both"`` (the default) writes Chinese and English into one page with a language
switch; ``"zh"`` or ``"en"`` writes one language. All user text is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.offline
import pyarrow as pa
import yaml

from flowsim import __version__, figures
from flowsim.errors import InputError
from flowsim.files import check_file, output_folder, read_unit, write_text_atomically
from flowsim.intervals import half_width
from flowsim.results import Results

LANGS = ("both", "zh", "en")
RUN_KINDS = ("tiers", "fund_flow", "referrals", "map", "settlement")
"""Figures drawn from the saved runs of an experiment (first replication of each variant)."""

SECTIONS = {
    "headline": (
        ("Headline indicators", "主要指标"),
        ("The seed documents' indicators over the whole run, with their units. For comparisons "
         "and experiments each column is a scenario: the mean over replications and its 95 % "
         "t-interval in brackets.",
         "整个模拟期的主要指标及单位。"
         "比较或实验中每列为一个方案：各次重复的均值，方括号内为 95% t 置信区间。"),
    ),
    "differences": (
        ("Scenario minus baseline", "方案与基线之差"),
        ("Each dot is a scenario's mean difference from the baseline, paired over seeds (both "
         "runs share every illness draw, so the difference is the policy, not noise). The bar "
         "is the 95 % interval; a bar that does not cross the dotted zero line is a clear "
         "effect. Shares are in percentage points. Hover for exact numbers.",
         "每个点为方案与基线之差的均值（同一随机种子配对，"
         "两次运行的疾病抽样相同，差值反映政策而非随机波动）。"
         "横线为 95% 置信区间；不跨越零线（虚线）表示效果明确。"
         "比例以百分点表示。鼠标悬停可见精确数值。"),
    ),
    "monthly": (
        ("Indicators by month", "指标逐月变化"),
        ("Choose an indicator in the menu. Each line is a scenario (the shaded band, when shown, "
         "is the 95 % interval over replications). Dashed vertical lines mark dated policy "
         "changes. An open circle marks a partial first or last month (hover for its number "
         "of days); monthly values are noisier than the whole-run values.",
         "在菜单中选择指标。每条线为一个方案（阴影为各次重复的 95% 置信区间）。"
         "竖直虚线标出政策生效日期。"
         "空心圆表示首末不完整月份（悬停可见天数）；月度数值的波动大于全期数值。"),
    ),
    "tiers": (
        ("Visits and admissions per day by tier", "各级机构日均门诊与住院人次"),
        ("Stacked bars: average outpatient visits (top) and admissions (bottom) per day in "
         "each month, at village clinics, township centres, county hospitals and outside the "
         "county. Daily averages keep a partial first or last month comparable with full "
         "months; hover for the month's total and, for a partial month, its number of days. "
         "A growing green and teal share means care moving to the grassroots (基层). Click a "
         "legend entry to hide a tier.",
         "堆积柱：各月内平均每天各级机构（村卫生室、乡镇卫生院、县级医院、县域外医院）的门诊人次（上）"
         "和住院人次（下）。按日平均，首末不完整月份可与完整月份直接比较；"
         "悬停可见当月合计人次，不完整月份另注明天数。"
         "绿色与青色部分扩大表示患者流向基层。点击图例可隐藏某一级机构。"),
    ),
    "fund_flow": (
        ("Who pays whom", "资金流向"),
        ("Left: who paid (the insurance fund's payments to providers under the payment method, "
         "patients' out-of-pocket, medical assistance); right: the tier that received it, in "
         "yuan over the whole run. Band width is proportional to money. Year-end settlements "
         "are not included.",
         "左侧为付费方（医保基金按支付方式向机构支付的金额、患者自付、医疗救助），"
         "右侧为收款的机构层级，"
         "单位为元（整个模拟期）。带宽与金额成正比。不含年终清算。"),
    ),
    "referrals": (
        ("Referrals", "转诊"),
        ("Referrals over the whole run from one tier (left) to another (right): upward in "
         "orange (outpatient referrals and inpatient transfers), downward for rehabilitation "
         "in green. Band width is proportional to the number of referrals.",
         "整个模拟期内从一级机构（左）转往另一级（右）的人次：橙色为上转（门诊转诊及住院转院），"
         "绿色为康复下转。带宽与转诊人次成正比。"),
    ),
    "map": (
        ("The county's facilities", "县域医疗机构分布"),
        ("Each circle is a facility at its place (km from the county seat); its area is "
         "proportional to outpatient visits over the run and its colour is the tier. Grey lines "
         "join village clinics to their township centre, centres and out-of-county hospitals "
         "to the county hospital. Hover for visits, admissions, beds and money.",
         "每个圆为一所医疗机构（坐标为距县城的公里数），面积与模拟期门诊人次成正比，颜色表示层级。"
         "灰线连接村卫生室与所属乡镇卫生院，"
         "以及乡镇卫生院、县域外医院与县级医院。悬停可见门诊、住院、床位与费用。"),
    ),
    "settlement": (
        ("医共体 year-end settlement", "医共体年终结算"),
        ("Per insurance year: the county medical community's global budget, what it spent, "
         "the surplus it kept (结余留用) or the overrun it bore (合理超支分担), and what the fund "
         "paid on top (+) or took back (−) at settlement, in yuan.",
         "每个医保年度：医共体总额预算、实际支出、结余留用或合理超支分担的金额，"
         "以及年终清算时基金补付（+）"
         "或收回（−）的金额，单位为元。"),
    ),
    "dose_response": (
        ("Dose–response", "剂量–反应曲线"),
        ("How an indicator (menu) changes along the swept parameter on the x axis; one line per "
         "value of any other swept parameter. Error bars are 95 % intervals over replications.",
         "指标（菜单选择）随横轴所扫描参数的变化；"
         "其他扫描参数每个取值一条线。误差线为各次重复的 95% 置信区间。"),
    ),
    "sensitivity": (
        ("Sensitivity", "敏感性分析"),
        ("Which parameters move an indicator (menu) most. Morris: μ* is the mean absolute "
         "elementary effect (importance), σ its spread (non-linearity or interactions). Sobol: "
         "S1 is the share of variance a parameter explains alone, ST including its "
         "interactions. Error bars are the 95 % confidence of the estimate.",
         "哪些参数对指标（菜单选择）影响最大。"
         "Morris 法：μ* 为基本效应绝对值的均值（重要性），σ 为其离散程度"
         "（非线性或交互作用）。Sobol 法：S1 为参数单独解释的方差比例，"
         "ST 含交互作用。误差线为估计的 95% 置信度。"),
    ),
    "equity": (
        ("Equity", "公平性"),
        ("Out-of-pocket spending per person-year (left) and the share of residents with "
         "catastrophic health expenditure in an insurance year (out-of-pocket ≥ 40 % of "
         "capacity to pay; right), by income quintile, quintile 1 the poorest. Error bars, "
         "when shown, are 95 % intervals over replications.",
         "按收入五分位（第 1 组最低）的人均自付费用（左，元/人·年）与灾难性卫生支出发生率（右，"
         "医保年度内自付 ≥ 支付能力的 40%）。误差线为各次重复的 95% 置信区间。"),
    ),
}
"""Report sections in order: kind → ((title en, zh), (how to read this en, zh))."""

_UI = {
    "how": ("How to read this", "如何阅读"),
    "sources": ("Scenario files and their sources", "方案文件及其依据"),
    "sources_note": ("Every parameter of a scenario cites a source: a seed document and "
                     "clause, a calibration target, or 'assumed'. Open a scenario's list to see "
                     "which parameters cite which source, and its full resolved file.",
                     "方案中的每个参数都注明依据：政策文件及条款、校准目标或“假设”（assumed）。"
                     "展开可查看各参数引用的依据及完整的方案文件。"),
    "cited": ("sources cited", "引用的依据"),
    "source": ("source", "依据"),
    "parameters": ("parameters", "参数"),
    "yaml": ("scenario file (YAML)", "方案文件（YAML）"),
    "scenario": ("scenario", "方案"),
    "run": ("single run", "单次运行"),
    "compare": ("comparison", "方案比较"),
    "experiment": ("experiment", "实验"),
    "seed": ("seed", "随机种子"),
    "seeds": ("seeds", "随机种子"),
    "days": ("days", "模拟天数"),
    "start": ("start date", "起始日期"),
    "residents": ("residents", "常住人口"),
    "baseline": ("baseline", "基线"),
    "variants": ("scenarios", "方案"),
    "counties": ("counties", "县"),
    "shown": ("figures for", "图示范围"),
    "kind": ("kind", "类型"),
    "made": ("Made with flowsim", "由 flowsim 生成"),
    "policy_changes": ("dated policy changes", "政策生效日期"),
}

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
    facts: list[tuple[str, str]]  # (_UI key, value) pairs describing the run(s)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    policy_changes: dict[str, list[str]] = field(default_factory=dict)
    axes: list[str] = field(default_factory=list)
    scenario_files: list[dict] = field(default_factory=list)  # variant, file, yaml


# -- reading ---------------------------------------------------------------------------------


def load(source: str | Path | Results) -> ReportData:
    """Read a single-run folder, a comparison or experiment folder, or a ``Results``."""
    if isinstance(source, Results):
        return _from_run(source)
    folder = Path(source)
    if (folder / "experiment.json").is_file():
        what = "an experiment folder written by 'flowsim experiment' or 'flowsim compare'"
        read_unit(folder, "experiment.json", what)  # whole, and every checksum right
        try:
            return _from_experiment(folder)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise InputError(folder, "files", f"{type(err).__name__}: {err}",
                             f"{what}; this one is damaged (run again)") from None
    if (folder / "run.json").is_file():
        return _from_run(Results.load(folder))
    allowed = ("a results folder written by 'flowsim run --out', 'flowsim compare' or "
               "'flowsim experiment' (with run.json or experiment.json)")
    raise InputError(None, "RESULTS_DIR", str(folder),
                     allowed if folder.is_dir() else "no such folder; expected " + allowed)


def _from_run(res: Results) -> ReportData:
    meta = res.meta
    tables = {kind: fn(res) for kind, fn in figures.RUN_TABLES.items()}
    return ReportData(
        title=res.scenario,
        kind="run",
        facts=[("scenario", res.scenario), ("seed", str(res.seed)),
               ("start", res.start_date.isoformat()), ("days", str(res.days)),
               ("residents", f"{meta.get('residents', 0):,}"),
               ("policy_changes", ", ".join(meta.get("policy_changes", [])) or "—")],
        tables=tables,
        policy_changes={res.scenario: list(meta.get("policy_changes", []))},
        scenario_files=[{"variant": res.scenario, "file": meta.get("scenario_file"),
                         "yaml": meta.get("scenario_yaml", "")}],
    )


def _from_experiment(folder: Path) -> ReportData:
    exp = json.loads((folder / "experiment.json").read_text("utf-8"))
    axes = list(exp.get("axes") or [])
    counties = list(exp.get("counties") or [])
    summary = _read(folder / "summary.parquet")
    area = ("province" if "province" in set(summary.county) else
            counties[0] if counties else summary.county.iloc[0]) if len(summary) else None
    tables: dict[str, pd.DataFrame] = {}
    if len(summary):
        sel = summary[summary.county == area]
        tables["headline"] = sel[["variant", "indicator", "mean", "ci_low", "ci_high"]]
        tables["equity"] = figures.equity_table(sel)
        if axes:
            tables["dose_response"] = sel
    diffs = _read(folder / "differences.parquet")
    if len(diffs):
        tables["differences"] = diffs[diffs.county == area]
    tables["monthly"] = _monthly_intervals(_read(folder / "monthly.parquet"), len(counties))
    tables.update(_run_tables(folder, len(counties)))
    tables["monthly"] = _with_month_days(tables["monthly"], tables.get("tiers"))
    sens = _read(folder / "sensitivity.parquet")
    if len(sens):
        sens = sens[sens.county == area] if "county" in sens else sens
        if "scenario" in sens and len(sens):
            sens = sens[sens.scenario == sens.scenario.iloc[0]]
        tables["sensitivity"] = sens
    kind = exp.get("kind", "experiment")
    variants = [v["variant"] for v in exp.get("variants", [])]
    return ReportData(
        title=str(exp.get("name", folder.name)),
        kind=kind if kind in ("compare", "experiment") else "experiment",
        facts=[("variants", ", ".join(variants)), ("baseline", str(exp.get("baseline", "—"))),
               ("seeds", ", ".join(str(s) for s in exp.get("seeds", []))),
               ("days", str(exp.get("days", "—"))), ("counties", ", ".join(counties) or "—"),
               ("shown", str(area or "—"))],
        tables=tables,
        policy_changes={k: list(v) for k, v in (exp.get("policy_changes") or {}).items()},
        axes=axes,
        scenario_files=list(exp.get("scenario_files") or []),
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


def _label(variant: str, county: str, n_counties: int) -> str:
    """Group label: the variant, with the county when the experiment has several."""
    return f"{variant} · {county}" if n_counties > 1 else variant


def _monthly_intervals(monthly: pd.DataFrame, n_counties: int) -> pd.DataFrame:
    """Mean and 95 % t-interval over replications, per variant (and county) and month."""
    if monthly.empty:
        return monthly
    monthly = monthly.assign(variant=[_label(v, c, n_counties)
                                      for v, c in zip(monthly.variant, monthly.county,
                                                      strict=True)])
    g = monthly.groupby(["variant", "month", "indicator"], sort=False).value
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    half = half_width(out.sd, out.n)
    return out.assign(ci_low=out["mean"] - half, ci_high=out["mean"] + half)


def _with_month_days(monthly: pd.DataFrame, tiers: pd.DataFrame | None) -> pd.DataFrame:
    """Monthly rows with the days simulated in their month, from the saved runs when known."""
    if monthly.empty or tiers is None or "days" not in tiers:
        return monthly
    days = tiers[["variant", "month", "days"]].drop_duplicates(["variant", "month"])
    days = days.assign(month=pd.to_datetime(days.month).astype("datetime64[ns]"))
    return monthly.assign(month=pd.to_datetime(monthly.month).astype("datetime64[ns]")).merge(
        days, on=["variant", "month"], how="left")


def _run_tables(folder: Path, n_counties: int) -> dict[str, pd.DataFrame]:
    """Per-run figure tables from the saved runs (first saved replication per variant, county)."""
    index = _read(folder / "indicators.parquet")
    if index.empty:
        return {}
    runs = index.drop_duplicates("run_id").sort_values(["replication", "run_id"])
    runs = runs.assign(path=[folder / "runs" / str(r) / "results" for r in runs.run_id])
    runs = runs[[(p / "run.json").is_file() for p in runs.path]]
    runs = runs.drop_duplicates(["variant", "county"])
    order = list(dict.fromkeys(index.variant))
    runs = runs.assign(order=[order.index(v) for v in runs.variant]).sort_values(
        ["order", "county"])
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in RUN_KINDS}
    for r in runs.itertuples(index=False):
        res = Results.load(r.path)
        for kind in RUN_KINDS:
            t = figures.RUN_TABLES[kind](res)
            frames[kind].append(t.assign(variant=_label(r.variant, r.county, n_counties)))
    return {k: pd.concat(v, ignore_index=True) for k, v in frames.items() if v}


# -- rendering -------------------------------------------------------------------------------


def _t(pair: tuple[str, str], langs: tuple[str, ...], tag: str = "span") -> str:
    """Escaped text in each language, each wrapped so the switch can show one."""
    en, zh = pair
    text = {"en": en, "zh": zh}
    if len(langs) == 1:
        return html.escape(text[langs[0]])
    return "".join(f'<{tag} class="l-{lang}" lang="{"zh-CN" if lang == "zh" else "en"}">'
                   f"{html.escape(text[lang])}</{tag}>" for lang in langs)


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
    parts = [f'<h2 id="sources">{_t(_UI["sources"], langs)}</h2>',
             f'<p class="note">{_t(_UI["sources_note"], langs)}</p>']
    for entry in data.scenario_files:
        text = str(entry.get("yaml") or "")
        name = html.escape(str(entry.get("variant", "")))
        file = entry.get("file")
        parts.append(f"<h3>{name}" + (f" — <code>{html.escape(str(file))}</code>" if file else "")
                     + "</h3>")
        cited = _cited(text)
        if cited:
            rows = "".join(f"<tr><td>{html.escape(src)}</td><td>{html.escape(', '.join(ps))}</td>"
                           f"</tr>" for src, ps in cited.items())
            parts.append(f"<details><summary>{_t(_UI['cited'], langs)} ({len(cited)})</summary>"
                         f'<table class="sources"><tr><th>{_t(_UI["source"], langs)}</th>'
                         f'<th>{_t(_UI["parameters"], langs)}</th></tr>{rows}</table></details>')
        parts.append(f"<details><summary>{_t(_UI['yaml'], langs)}</summary>"
                     f"<pre>{html.escape(text)}</pre></details>")
    return "\n".join(parts)


def _cited(text: str) -> dict[str, list[str]]:
    """Source → parameters citing it, from a resolved scenario YAML."""
    try:
        tree = yaml.safe_load(text)
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
    facts = "".join(f"<tr><td>{_t(_UI[key], langs)}</td><td>{html.escape(value)}</td></tr>"
                    for key, value in data.facts)
    body = []
    for kind, (title, note) in SECTIONS.items():
        if not _usable(data.tables.get(kind)):
            continue
        body.append(f'<section id="{kind}" class="figure"><h2>{_t(title, langs)}</h2>'
                    f'<p class="note"><b>{_t(_UI["how"], langs)}:</b> {_t(note, langs)}</p>')
        body += [f'<div class="l-{lg}">{_figure_html(kind, data, lg)}</div>' for lg in langs]
        body.append("</section>")
    switch = ('<div class="switch"><button data-lang="zh">中文</button>'
              '<button data-lang="en">English</button></div>' if len(langs) > 1 else "")
    html_lang = "zh-CN" if langs[0] == "zh" else "en"
    kind = _t(_UI[data.kind], langs)
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
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
<p><small>{_t(_UI["made"], langs)} {html.escape(__version__)}</small></p>
{f"<script>{_SWITCH_JS}</script>" if len(langs) > 1 else ""}
</body>
</html>
"""


def write_report(source: str | Path | Results, path: str | Path, *, lang: str = "both") -> Path:
    """Write the report of ``source`` (a results folder or a ``Results``) to ``path``.

    The file is written under a temporary name and renamed into place, so a failure never
    leaves a half-written report or removes an existing one.

    Args:
        source: a folder written by ``flowsim run --out``, ``flowsim compare`` or
            ``flowsim experiment``, or a ``Results`` object.
        path: the HTML file to write.
        lang: "both" (a language switch in the page, Chinese shown first), "zh" or "en".
    """
    if lang not in LANGS:
        raise InputError(None, "--lang", lang, "zh, en or both")
    target = check_file(path, "--output")  # before any work: a file name, somewhere writable
    page = render(load(source), lang)
    output_folder(target.parent, "--output")
    return write_text_atomically(target, page)

