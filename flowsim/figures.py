"""Plotly figures of flowsim results, one function per figure, in Chinese or English.

Each figure function takes tidy data (a DataFrame with a ``variant`` column naming the scenario
or run it belongs to) and ``lang`` ("zh" or "en") and returns a ``plotly.graph_objects.Figure``.
Labels come from the label tables of ``flowsim.indicators`` and ``flowsim.domain``; hover text
gives exact numbers with their units. Figures with one panel per variant (Sankeys, map, tiers)
get a drop-down to switch variants. Every name that comes from the user (variants, facilities,
parameters) is HTML-escaped, because Plotly renders a subset of HTML in labels.

``for_results(results, kind, lang)`` builds a figure from one run (``Results.plot``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from flowsim.domain import TIER_LABELS, TIERS
from flowsim.indicators import HEADLINE, INDICATORS

if TYPE_CHECKING:
    from flowsim.results import Results

LANGS = ("zh", "en")
TIER_COLOURS = {"village": "#2ca02c", "township": "#17becf", "county": "#1f77b4",
                "out_of_county": "#d62728"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
PAYER_LABELS = {
    "fund_paid": ("insurance fund", "医保基金"),
    "patient": ("patients (out of pocket)", "患者自付"),
    "assistance": ("medical assistance", "医疗救助"),
}
UNIT_ZH = {
    "fraction": "比例",
    "fraction of residents per year": "每年居民比例",
    "fraction per year": "每年比例",
    "ratio": "比值",
    "yuan per person-year": "元/人·年",
    "yuan per year": "元/年",
    "visits per person-year": "人次/人·年",
    "admissions per person-year": "人次/人·年",
    "per 1,000 person-years": "每千人·年",
}
SETTLEMENT_BARS = {
    "budget": ("budget", "预算"),
    "spent": ("spent", "实际支出"),
    "community_kept": ("surplus kept by the 医共体", "结余留用"),
    "community_bears": ("overrun borne by the 医共体", "医共体承担超支"),
    "fund_extra": ("fund pays (+) or recovers (−)", "基金补付(+)/收回(−)"),
}
_WORDS = {
    "month": ("month", "月份"),
    "visits": ("outpatient visits", "门诊人次"),
    "admissions": ("admissions", "住院人次"),
    "yuan": ("yuan", "元"),
    "referrals": ("referrals", "转诊人次"),
    "up": ("upward referral", "上转"),
    "down": ("downward referral", "下转"),
    "from": ("from", "转出"),
    "to": ("to", "转入"),
    "policy change": ("policy change", "政策变化"),
    "variant": ("scenario", "方案"),
    "indicator": ("indicator", "指标"),
    "unit": ("unit", "单位"),
    "difference": ("difference from baseline", "与基线之差"),
    "pp": ("percentage points", "百分点"),
    "beds": ("beds", "床位"),
    "bill": ("bills", "医疗费用"),
    "fund": ("fund income", "基金支付"),
    "quintile": ("income quintile (1 = poorest)", "收入五分位（1 = 最低）"),
    "oop": ("out-of-pocket per capita (yuan per person-year)", "人均自付费用（元/人·年）"),
    "catastrophic": ("catastrophic expenditure incidence", "灾难性卫生支出发生率"),
    "year": ("year", "年度"),
    "interval": ("95 % interval", "95% 置信区间"),
    "runs": ("runs", "次运行"),
    "pairs": ("seed pairs", "对种子"),
    "x_km": ("east (km)", "东西向（公里）"),
    "y_km": ("north (km)", "南北向（公里）"),
    "value": ("value", "数值"),
    "parameter": ("parameter", "参数"),
    "all": ("all", "全部"),
}


# -- labels and formats ----------------------------------------------------------------------


def word(key: str, lang: str) -> str:
    """A fixed word of the figures in the language."""
    en, zh = _WORDS[key]
    return zh if lang == "zh" else en


def indicator_label(name: str, lang: str) -> str:
    """The indicator's label (Chinese as in the seed documents, or English)."""
    ind = INDICATORS.get(name)
    if ind is None:
        return html.escape(name)
    return ind.label_zh if lang == "zh" else ind.label_en


def unit_label(unit: str, lang: str) -> str:
    """An indicator unit in the language."""
    return UNIT_ZH.get(unit, unit) if lang == "zh" else unit


def tier_label(tier: str, lang: str) -> str:
    """A tier's label (村卫生室 … or village clinic …)."""
    en, zh = TIER_LABELS[tier]
    return zh if lang == "zh" else en


def _unit(name: str) -> str:
    ind = INDICATORS.get(name)
    return ind.unit if ind else ""


def _is_fraction(unit: str) -> bool:
    return unit.startswith("fraction")


def fmt(value: float, unit: str) -> str:
    """A value as text with its unit's precision (fractions as percentages)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if _is_fraction(unit):
        return f"{100 * value:.2f} %"
    if unit == "ratio":
        return f"{value:.4f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def _d3(unit: str) -> str:
    """d3 number format for hover templates."""
    return ".2%" if _is_fraction(unit) else ".4f" if unit == "ratio" else ",.2f"


def esc(text: object) -> str:
    """User text made safe for Plotly labels (shown literally, never as markup)."""
    return html.escape(str(text))


MENU_TOP = 44
"""Pixels from the top of a figure to its drop-down menu (on its own line, below the title)."""
MENU_HEIGHT = 30
TITLE_TOP = 12
"""Pixels from the top of a figure to its title."""


def _layout(fig: go.Figure, title: str, lang: str, **kw) -> go.Figure:
    """Common layout: title on the first line, the drop-down (if any) on the next, then the plot.

    Positions are set in pixels (from the figure's height and margins), so the menu never
    covers the title or the plot, whatever the figure's width.
    """
    font = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" if lang == "zh" else None
    fig.update_layout(template="plotly_white", font={"family": font} if font else {}, **kw)
    if not fig.layout.margin.t:
        fig.update_layout(margin={"t": 80})
    height = fig.layout.height or 450
    fig.update_layout(title={"text": title, "yref": "container", "y": 1 - TITLE_TOP / height,
                             "yanchor": "top", "x": 0, "xref": "paper", "xanchor": "left",
                             "automargin": False})
    if fig.layout.updatemenus:
        top = fig.layout.margin.t
        bottom = 80 if fig.layout.margin.b is None else fig.layout.margin.b
        plot = max(height - top - bottom, 1)
        for menu in fig.layout.updatemenus:
            menu.update(y=1 + (top - MENU_TOP) / plot, yanchor="top", x=0, xanchor="left",
                        pad={"t": 0, "b": 0, "l": 0, "r": 0})
    return fig


def _variant_menu(fig: go.Figure, groups: list[tuple[str, list[int]]], n_traces: int,
                  extra: Sequence[dict] | None = None, *, top: int = 100) -> None:
    """A drop-down showing one group of traces at a time (the first group is shown).

    ``top`` is the top margin in pixels when there is a menu: room for the title line and the
    menu line above the plot (``_layout`` places both).
    """
    for i in range(n_traces):
        fig.data[i].visible = i in groups[0][1]
    if len(groups) < 2:
        return
    buttons = []
    for k, (label, idx) in enumerate(groups):
        visible = [i in idx for i in range(n_traces)]
        buttons.append({"label": label, "method": "update",
                        "args": [{"visible": visible}, extra[k] if extra else {}]})
    fig.update_layout(updatemenus=[{"buttons": buttons, "showactive": True}],
                      margin={"t": max(top, MENU_TOP + MENU_HEIGHT + 16)})


def _sankey_per_variant(table: pd.DataFrame, labels: list[str], colours: list[str],
                        links: Callable[[pd.DataFrame], dict], unit: str, **kw) -> go.Figure:
    """One Sankey per variant of ``table`` (positive ``value`` rows), chosen by a drop-down.

    ``links(rows)`` gives the link source, target, colour and hover of one variant's rows.
    """
    fig = go.Figure()
    groups = []
    for v in dict.fromkeys(table.variant):
        d = table[(table.variant == v) & (table.value > 0)]
        fig.add_trace(go.Sankey(
            node={"label": labels, "color": colours, "pad": 18,
                  "hovertemplate": f"%{{label}}: %{{value:,.0f}} {unit}<extra></extra>"},
            link={"value": d.value.to_numpy(float), **links(d)}, **kw))
        groups.append((esc(v), [len(fig.data) - 1]))
    _variant_menu(fig, groups, len(fig.data))
    return fig


# -- figures -----------------------------------------------------------------------------------


def _text_px(text: str, size: float = 13) -> float:
    """Rough width of one line of text in pixels (CJK characters are about one em wide)."""
    text = html.unescape(text)
    return sum(size if ord(c) >= 0x2E80 else 0.6 * size for c in text)


def _lines(text: str) -> list[str]:
    return text.split("<br>")


_ZH_WORD_ENDS = ("机构", "县域内", "人次", "比例", "费用")
"""Chinese word endings where a label breaks best (the text has no spaces)."""


def _wrap(text: str, lang: str, width: float, size: float = 13) -> str:
    """``text`` broken with <br> into lines of at most ``width`` pixels where possible.

    Chinese breaks between characters (after punctuation such as "：" or "（" by preference),
    other text at spaces. Plotly does not wrap Chinese in table cells or titles by itself.
    """
    if _text_px(text, size) <= width:
        return text
    total = _text_px(html.unescape(text), size)
    n = math.ceil(total / width)
    balanced = _break(text, lang, min(width, total / n + 2 * size), size)  # similar lengths
    return balanced if balanced.count("<br>") < n else _break(text, lang, width, size)


def _break(text: str, lang: str, width: float, size: float) -> str:
    raw = html.unescape(text)
    lines: list[str] = []
    while _text_px(raw, size) > width:
        cut = soft = 0  # last possible break; last break at punctuation
        used = 0.0
        for i, c in enumerate(raw):
            used += size if ord(c) >= 0x2E80 else 0.6 * size
            if used > width:
                break
            if c == " " or (lang == "zh" and ord(c) >= 0x2E80):
                cut = i + 1
            if c in "（(" and i > 0:
                soft = i
            elif c in "：，、" or raw[max(i - 1, 0):i + 1] in _ZH_WORD_ENDS:
                soft = i + 1
        cut = soft if soft >= cut / 2 else cut
        if cut <= 0:
            break
        lines.append(raw[:cut].rstrip())
        raw = raw[cut:].lstrip()
    lines.append(raw)
    return "<br>".join(html.escape(line, quote=False) for line in lines if line)


TABLE_WIDTH = 1100
"""Width in pixels the headline table is laid out for (the report's figures are ≤ 1150 wide)."""


def headline(table: pd.DataFrame, lang: str) -> go.Figure:
    """Headline indicators as a table: one column per variant, mean [95 % interval] when known.

    Column widths follow their longest text; when the columns do not fit, long indicator names
    and units wrap onto a second line (names are never shortened).

    Args:
        table: variant, indicator, mean, ci_low, ci_high (ci NaN for a single run).
        lang: "zh" or "en".
    """
    variants = list(dict.fromkeys(table.variant))
    names = [n for n in HEADLINE if n in set(table.indicator)]
    labels = [indicator_label(n, lang) for n in names]
    units = [unit_label(_unit(n), lang) for n in names]
    by = table.set_index(["variant", "indicator"])
    values = []
    for v in variants:
        col = []
        for n in names:
            if (v, n) not in by.index:
                col.append("")
                continue
            row = by.loc[(v, n)]
            text = fmt(row["mean"], _unit(n))
            if not (math.isnan(row.ci_low) or math.isnan(row.ci_high)):
                text += f"<br>[{fmt(row.ci_low, _unit(n))}, {fmt(row.ci_high, _unit(n))}]"
            col.append(text)
        values.append(col)
    header = [word("indicator", lang), word("unit", lang), *(esc(v) for v in variants)]

    def need(texts: list[str], size: float = 13) -> float:
        return max([_text_px(line, size) for t in texts for line in _lines(t)] or [0]) + 18

    value_px = [max(need(col), min(need([h], 12), 220)) for col, h in
                zip(values, header[2:], strict=True)]
    label_px, unit_px = need(labels + [header[0]]), need(units + [header[1]])
    spare = TABLE_WIDTH - sum(value_px)
    if label_px + unit_px > spare:  # wrap names and units onto two lines, as wide as needed
        label_px = max(need([header[0]]), min(label_px, max(spare - unit_px, 0.55 * label_px)))
        labels = [_wrap(t, lang, label_px - 18) for t in labels]
        label_px = need(labels)
        unit_px = max(need([header[1]]), min(unit_px, max(spare - label_px, 0.55 * unit_px)))
        units = [_wrap(t, lang, unit_px - 18) for t in units]
        unit_px = need(units)
    lines = [max(len(_lines(col[i])) for col in (labels, units, *values))
             for i in range(len(names))]
    fig = go.Figure(go.Table(header={"values": header, "align": "left", "height": 40,
                                     "fill": {"color": "#e8eef7"}},
                             cells={"values": [labels, units, *values], "align": "left",
                                    "height": 28, "font": {"size": 13}},
                             columnwidth=[label_px, unit_px, *value_px]))
    title = "主要指标" if lang == "zh" else "Headline indicators"
    rows = sum(12 + 16 * n + 4 for n in lines)  # a cell grows by a line per <br>
    return _layout(fig, title, lang, height=150 + rows,
                   margin={"l": 20, "r": 20, "t": 70, "b": 20})


def differences(table: pd.DataFrame, lang: str) -> go.Figure:
    """Each variant minus the baseline, paired over seeds, with 95 % intervals (one panel each).

    Args:
        table: variant, baseline, indicator, n_pairs, diff_mean, diff_ci_low, diff_ci_high.
        lang: "zh" or "en".
    """
    names = [n for n in HEADLINE if n in set(table.indicator)]
    cols = 3
    rows = max(1, math.ceil(len(names) / cols))
    titles = [_wrap(indicator_label(n, lang), lang, 230, 14) for n in names]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.12, vertical_spacing=0.6 / rows)
    for k, name in enumerate(names):
        unit = _unit(name)
        scale = 100.0 if _is_fraction(unit) else 1.0
        shown = word("pp", lang) if _is_fraction(unit) else unit_label(unit, lang)
        d = table[table.indicator == name]
        mean, lo, hi = (d[c].to_numpy(float) * scale
                        for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
        hover = [
            f"{esc(v)} − {esc(b)}: {m:,.3f} {shown}<br>{word('interval', lang)}: "
            f"[{a:,.3f}, {c:,.3f}]<br>n = {int(n)} {word('pairs', lang)}"
            for v, b, m, a, c, n in zip(d.variant, d.baseline, mean, lo, hi, d.n_pairs,
                                        strict=True)
        ]
        fig.add_trace(go.Scatter(
            x=mean, y=[esc(v) for v in d.variant], mode="markers",
            error_x={"type": "data", "symmetric": False, "array": np.nan_to_num(hi - mean),
                     "arrayminus": np.nan_to_num(mean - lo)},
            marker={"size": 9, "color": "#1f77b4"}, hovertext=hover, hoverinfo="text",
            showlegend=False), row=k // cols + 1, col=k % cols + 1)
        fig.add_vline(x=0, line={"color": "grey", "dash": "dot"}, row=k // cols + 1,
                      col=k % cols + 1)
        fig.update_xaxes(title_text=shown, title_font={"size": 10}, row=k // cols + 1,
                         col=k % cols + 1)
    base = esc(table.baseline.iloc[0]) if len(table) else ""
    title = (f"与基线（{base}）之差，95% 置信区间（同种子配对）" if lang == "zh"
             else f"Difference from the baseline ({base}), 95 % intervals paired over seeds")
    return _layout(fig, title, lang, height=120 + 230 * rows)


def monthly(table: pd.DataFrame, policy_changes: dict[str, list[str]], lang: str) -> go.Figure:
    """Indicators by month, one line per variant, a drop-down per indicator, policy-change lines.

    Args:
        table: variant, month, indicator, mean, ci_low, ci_high (ci NaN for single runs).
        policy_changes: dates ("YYYY-MM-DD") of policy changes by variant.
        lang: "zh" or "en".
    """
    names = [n for n in HEADLINE if n in set(table.indicator)]
    variants = list(dict.fromkeys(table.variant))
    fig = go.Figure()
    groups, extra = [], []
    for name in names:
        unit = _unit(name)
        idx = []
        for k, v in enumerate(variants):
            d = table[(table.indicator == name) & (table.variant == v)].sort_values("month")
            colour = _PALETTE[k % len(_PALETTE)]
            if d.ci_low.notna().any():
                idx.append(len(fig.data))
                fig.add_trace(go.Scatter(
                    x=[*d.month, *d.month[::-1]], y=[*d.ci_high, *d.ci_low[::-1]],
                    fill="toself", fillcolor=colour, opacity=0.15, line={"width": 0},
                    hoverinfo="skip", showlegend=False, legendgroup=str(k)))
            full = pd.to_datetime(d.month).dt.days_in_month.to_numpy(int)
            days = (d["days"].fillna(pd.Series(full, index=d.index)).to_numpy(int)
                    if "days" in d else full)
            partial = days < full
            notes = [(f"<br>不完整月份：{n} 天" if lang == "zh" else f"<br>partial month: {n} days")
                     if p else "" for n, p in zip(days, partial, strict=True)]
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=d.month, y=d["mean"], name=esc(v), mode="lines+markers", legendgroup=str(k),
                line={"color": colour},
                marker={"symbol": ["circle-open" if p else "circle" for p in partial],
                        "size": [9 if p else 6 for p in partial]},
                customdata=[[a, b, n] for a, b, n in zip(d.ci_low, d.ci_high, notes,
                                                          strict=True)] or None,
                hovertemplate=(f"{esc(v)}<br>%{{x|%Y-%m}}: %{{y:{_d3(unit)}}} "
                               f"({unit_label(unit, lang)})"
                               + (f"<br>{word('interval', lang)}: [%{{customdata[0]:{_d3(unit)}}},"
                                  f" %{{customdata[1]:{_d3(unit)}}}]"
                                  if d.ci_low.notna().any() else "")
                               + "%{customdata[2]}<extra></extra>")))
        label = indicator_label(name, lang)
        groups.append((label, idx))
        extra.append({"yaxis.title.text": f"{label} ({unit_label(unit, lang)})",
                      "yaxis.tickformat": ".1%" if _is_fraction(unit) else ",.4~g"})
    _variant_menu(fig, groups, len(fig.data), extra)
    first_unit = _unit(names[0]) if names else ""
    dates: dict[str, list[str]] = {}
    for v, ds in policy_changes.items():
        for d in ds:
            dates.setdefault(d, []).append(v)
    months = pd.to_datetime(table.month)
    for d, who in sorted(dates.items()):
        end = months.max() + pd.offsets.MonthEnd() if len(months) else None
        if end is not None and not months.min() <= pd.Timestamp(d) <= end:
            continue
        text = f"{word('policy change', lang)} {d}"
        if len(variants) > 1:
            text += " (" + ", ".join(esc(v) for v in who) + ")"
        fig.add_vline(x=pd.Timestamp(d).timestamp() * 1000, line={"color": "grey", "dash": "dash"},
                      annotation={"text": text, "textangle": -90, "font": {"size": 10}},
                      annotation_position="top left")
    title = "指标逐月变化" if lang == "zh" else "Indicators by month"
    return _layout(fig, title, lang, height=480, xaxis_title=word("month", lang),
                   yaxis={"title": extra[0]["yaxis.title.text"] if extra else "",
                          "tickformat": ".1%" if _is_fraction(first_unit) else ",.4~g"},
                   legend={"orientation": "h", "y": -0.2})


def tiers(table: pd.DataFrame, lang: str) -> go.Figure:
    """Outpatient visits and admissions per day by tier and month, stacked; a menu per variant.

    Each bar is the month's count divided by the days simulated in that month, so a partial
    first or last month (and months of different lengths) compare fairly with full ones.

    Args:
        table: variant, month, measure ("visits" | "admissions"), tier, value (the month's
            count) and optionally days (days simulated in the month; default: the whole month).
        lang: "zh" or "en".
    """
    zh = lang == "zh"
    per_day = {"visits": ("日均门诊人次" if zh else "outpatient visits per day"),
               "admissions": ("日均住院人次" if zh else "admissions per day")}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=[per_day["visits"], per_day["admissions"]])
    table = table.assign(month=pd.to_datetime(table.month))
    full = table.month.dt.days_in_month
    days = table["days"].fillna(full) if "days" in table else full
    table = table.assign(days=days.astype(int), full=full.astype(int))
    groups = []
    for v in dict.fromkeys(table.variant):
        idx = []
        for row, measure in enumerate(("visits", "admissions"), start=1):
            for tier in TIERS:
                d = table[(table.variant == v) & (table.measure == measure) & (table.tier == tier)]
                d = d.sort_values("month")
                idx.append(len(fig.data))
                label = tier_label(tier, lang)
                notes = [
                    (f"本月合计 {t:,.0f} {word(measure, lang)}" if zh
                     else f"month's total: {t:,.0f} {word(measure, lang)}")
                    + ("" if n >= f else
                       f"<br>不完整月份：{n} 天" if zh else f"<br>partial month: {n} days")
                    for t, n, f in zip(d.value, d.days, d.full, strict=True)]
                fig.add_trace(go.Bar(
                    x=d.month, y=d.value / d.days.clip(lower=1), name=label, legendgroup=tier,
                    showlegend=row == 1, marker_color=TIER_COLOURS[tier], customdata=notes,
                    hovertemplate=f"{esc(v)}<br>{label}<br>%{{x|%Y-%m}}: %{{y:,.1f}} "
                                  f"{per_day[measure]}<br>%{{customdata}}<extra></extra>"),
                    row=row, col=1)
        groups.append((esc(v), idx))
    _variant_menu(fig, groups, len(fig.data), top=120)
    fig.update_yaxes(title_text="人次/日" if zh else "per day", tickformat=",.4~g")
    title = ("各级机构日均门诊与住院人次（按月平均）" if zh
             else "Outpatient visits and admissions per day, by tier (monthly averages)")
    return _layout(fig, title, lang, barmode="stack", height=620)


def fund_flow(table: pd.DataFrame, lang: str) -> go.Figure:
    """Sankey of money from the fund, patients and medical assistance to each tier.

    Args:
        table: variant, payer ("fund_paid" | "patient" | "assistance"), tier, value (yuan).
        lang: "zh" or "en".
    """
    payers = list(PAYER_LABELS)
    labels = [PAYER_LABELS[p][lang == "zh"] for p in payers] + [tier_label(t, lang)
                                                               for t in TIERS]
    colours = ["#9467bd", "#ff7f0e", "#8c564b"] + [TIER_COLOURS[t] for t in TIERS]
    link_colours = ["rgba(148,103,189,0.4)", "rgba(255,127,14,0.4)", "rgba(140,86,75,0.4)"]
    yuan = word("yuan", lang)

    def links(d: pd.DataFrame) -> dict:
        return {"source": [payers.index(p) for p in d.payer],
                "target": [len(payers) + TIERS.index(t) for t in d.tier],
                "color": [link_colours[payers.index(p)] for p in d.payer],
                "hovertemplate": f"%{{source.label}} → %{{target.label}}: %{{value:,.0f}} "
                                 f"{yuan}<extra></extra>"}

    fig = _sankey_per_variant(table, labels, colours, links, yuan,
                              valueformat=",.0f", valuesuffix=f" {yuan}")
    title = ("资金流向：医保基金、患者自付、医疗救助 → 各级机构（元）" if lang == "zh"
             else "Who pays whom: fund, patients and medical assistance → tiers (yuan)")
    return _layout(fig, title, lang, height=480)


def referrals(table: pd.DataFrame, lang: str) -> go.Figure:
    """Sankey of referrals between tiers, upward and downward; a drop-down per variant.

    Args:
        table: variant, kind ("up" | "down"), tier (from), to_tier, value (referrals).
        lang: "zh" or "en".
    """
    labels = ([f"{word('from', lang)}: {tier_label(t, lang)}" for t in TIERS]
              + [f"{word('to', lang)}: {tier_label(t, lang)}" for t in TIERS])
    colours = [TIER_COLOURS[t] for t in TIERS] * 2
    link_colour = {"up": "rgba(255,127,14,0.5)", "down": "rgba(44,160,44,0.5)"}
    n = word("referrals", lang)

    def links(d: pd.DataFrame) -> dict:
        return {"source": [TIERS.index(t) for t in d.tier],
                "target": [len(TIERS) + TIERS.index(t) for t in d.to_tier],
                "color": [link_colour[k] for k in d.kind],
                "customdata": [word(k, lang) for k in d.kind],
                "hovertemplate": f"%{{customdata}}<br>%{{source.label}} → %{{target.label}}: "
                                 f"%{{value:,.0f}} {n}<extra></extra>"}

    fig = _sankey_per_variant(table, labels, colours, links, n)
    title = ("转诊流向（橙色：上转；绿色：下转）" if lang == "zh"
             else "Referrals between tiers (orange: upward; green: downward)")
    return _layout(fig, title, lang, height=460)


def facility_map(table: pd.DataFrame, lang: str) -> go.Figure:
    """The county network: facilities at their place, sized by visits, coloured by tier.

    Lines join each village clinic to its township centre, each centre to the county hospital
    and the county hospital to the hospitals outside the county.

    Args:
        table: variant, name, tier, township, x_km, y_km, visits, admissions, beds, bill, fund.
        lang: "zh" or "en".
    """
    fig = go.Figure()
    groups = []
    peak = max(float(table.visits.max()) if len(table) else 1.0, 1.0)
    for v in dict.fromkeys(table.variant):
        d = table[table.variant == v]
        idx = [len(fig.data)]
        fig.add_trace(go.Scatter(x=_links(d, "x_km"), y=_links(d, "y_km"), mode="lines",
                                 line={"color": "#cccccc", "width": 1}, hoverinfo="skip",
                                 showlegend=False))
        for tier in reversed(TIERS):  # big hospitals first, so small clinics stay on top
            f = d[d.tier == tier]
            if f.empty:
                continue
            hover = [
                f"<b>{esc(r.name)}</b><br>{tier_label(tier, lang)}<br>"
                f"{word('visits', lang)}: {r.visits:,.0f}<br>{word('admissions', lang)}: "
                f"{r.admissions:,.0f}<br>{word('beds', lang)}: "
                f"{'—' if r.beds >= 1e8 else f'{r.beds:,.0f}'}<br>{word('bill', lang)}: "
                f"{r.bill:,.0f} {word('yuan', lang)}<br>{word('fund', lang)}: {r.fund:,.0f} "
                f"{word('yuan', lang)}<br>({r.x_km:.1f}, {r.y_km:.1f}) km"
                for r in f.itertuples(index=False)
            ]
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=f.x_km, y=f.y_km, mode="markers", name=tier_label(tier, lang),
                marker={"size": np.maximum(f.visits.to_numpy(float), 1.0), "sizemode": "area",
                        "sizeref": 2.0 * peak / 45.0**2, "sizemin": 3,
                        "color": TIER_COLOURS[tier], "line": {"width": 0.5, "color": "white"}},
                hovertext=hover, hoverinfo="text"))
        groups.append((esc(v), idx))
    _variant_menu(fig, groups, len(fig.data))
    title = ("县域医疗机构网络（圆面积 = 门诊人次）" if lang == "zh"
             else "The county's facilities (area = outpatient visits)")
    return _layout(fig, title, lang, height=620, legend={"traceorder": "reversed"},
                   xaxis={"title": word("x_km", lang), "zeroline": False},
                   yaxis={"title": word("y_km", lang), "scaleanchor": "x", "zeroline": False})


def _links(d: pd.DataFrame, col: str) -> list[float | None]:
    """Coordinates of the network's lines, segments separated by None."""
    centre = d[d.tier == "township"].set_index("township")[col]
    county = d.loc[d.tier == "county", col]
    hub = float(county.iloc[0]) if len(county) else None
    out: list[float | None] = []
    for r in d.itertuples(index=False):
        if r.tier == "village" and r.township in centre.index:
            out += [getattr(r, col), float(centre.loc[r.township]), None]
        elif r.tier in ("township", "out_of_county") and hub is not None:
            out += [getattr(r, col), hub, None]
    return out


def settlement(table: pd.DataFrame, lang: str) -> go.Figure:
    """The 医共体 year-end settlement by year: budget and spending; how the balance was shared.

    Left: budget and spending. Right: surplus kept, overrun borne and the fund's payment.

    Args:
        table: variant, year, days, budget, spent, community_kept, community_bears, fund_extra.
        lang: "zh" or "en".
    """
    several = table.variant.nunique() > 1
    x = ([[esc(v) for v in table.variant], [str(y) for y in table.year]] if several
         else [str(y) for y in table.year])
    yuan = word("yuan", lang)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        ("预算与支出", "结余与超支的分担") if lang == "zh"
        else ("budget and spending", "how the surplus or overrun was shared")))
    for k, (col, (en, zh)) in enumerate(SETTLEMENT_BARS.items()):
        label = zh if lang == "zh" else en
        fig.add_trace(go.Bar(
            x=x, y=table[col], name=label, customdata=table.days, marker_color=_PALETTE[k],
            hovertemplate=f"{label}: %{{y:,.0f}} {yuan}<br>%{{x}} (%{{customdata}} "
                          f"{'天' if lang == 'zh' else 'days'})<extra></extra>"),
            row=1, col=1 if col in ("budget", "spent") else 2)
    fig.update_yaxes(title_text=yuan, tickformat=",.0f")
    title = ("医共体年终结算（总额付费：结余留用、合理超支分担）" if lang == "zh"
             else "医共体 year-end settlement (global budget: surplus kept, overrun shared)")
    return _layout(fig, title, lang, barmode="group", height=460)


def equity(table: pd.DataFrame, lang: str) -> go.Figure:
    """Out-of-pocket per capita and catastrophic expenditure by income quintile, per variant.

    Args:
        table: variant, quintile (1–5), measure ("oop" | "catastrophic"), mean, ci_low, ci_high.
        lang: "zh" or "en".
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=[word("oop", lang), word("catastrophic", lang)])
    for k, v in enumerate(dict.fromkeys(table.variant)):
        for col, measure in enumerate(("oop", "catastrophic"), start=1):
            d = table[(table.variant == v) & (table.measure == measure)].sort_values("quintile")
            fraction = measure == "catastrophic"
            f = ".2%" if fraction else ",.0f"
            has_ci = d.ci_low.notna().any()
            fig.add_trace(go.Bar(
                x=[f"Q{q}" for q in d.quintile], y=d["mean"], name=esc(v), legendgroup=str(k),
                showlegend=col == 1, marker_color=_PALETTE[k % len(_PALETTE)],
                error_y={"type": "data", "symmetric": False,
                         "array": (d.ci_high - d["mean"]).to_numpy(float),
                         "arrayminus": (d["mean"] - d.ci_low).to_numpy(float)} if has_ci else None,
                customdata=np.stack([d.ci_low, d.ci_high], axis=1),
                hovertemplate=f"{esc(v)}<br>%{{x}}: %{{y:{f}}}"
                              + (f" {word('yuan', lang)}" if not fraction else "")
                              + (f"<br>{word('interval', lang)}: [%{{customdata[0]:{f}}}, "
                                 f"%{{customdata[1]:{f}}}]" if has_ci else "")
                              + "<extra></extra>"), row=1, col=col)
    fig.update_yaxes(tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    fig.update_xaxes(title_text=word("quintile", lang))
    title = "公平性：按收入五分位" if lang == "zh" else "Equity by income quintile"
    return _layout(fig, title, lang, barmode="group", height=440)



def dose_response(table: pd.DataFrame, axes: list[str], lang: str) -> go.Figure:
    """Indicator against the first sweep axis, one line per value of the others; a drop-down.

    Args:
        table: summary rows: variant, <axis columns>, indicator, mean, ci_low, ci_high, n.
        axes: sweep axis names (dotted scenario paths), the first on the x axis.
        lang: "zh" or "en".
    """
    x_axis, others = axes[0], axes[1:]
    names = [n for n in HEADLINE if n in set(table.indicator)]
    fig = go.Figure()
    groups, extra = [], []
    for name in names:
        unit = _unit(name)
        f = _d3(unit)
        d = table[table.indicator == name]
        idx = []
        lines = d.groupby(others, sort=True) if others else [((), d)]
        for k, (key, g) in enumerate(lines):
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{esc(a)} = {b:g}" for a, b in zip(others, key, strict=True))
            g = g.sort_values(x_axis)
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=g[x_axis], y=g["mean"], mode="lines+markers", name=label or esc(x_axis),
                line={"color": _PALETTE[k % len(_PALETTE)]},
                error_y={"type": "data", "symmetric": False,
                         "array": (g.ci_high - g["mean"]).to_numpy(float),
                         "arrayminus": (g["mean"] - g.ci_low).to_numpy(float)},
                customdata=np.stack([g.ci_low, g.ci_high, g.n], axis=1),
                hovertemplate=f"{esc(x_axis)} = %{{x}}" + (f"<br>{label}" if label else "")
                              + f"<br>{indicator_label(name, lang)}: %{{y:{f}}} "
                                f"({unit_label(unit, lang)})<br>{word('interval', lang)}: "
                                f"[%{{customdata[0]:{f}}}, %{{customdata[1]:{f}}}], "
                                f"n = %{{customdata[2]}} {word('runs', lang)}<extra></extra>"))
        label = indicator_label(name, lang)
        groups.append((label, idx))
        extra.append({"yaxis.title.text": f"{label} ({unit_label(unit, lang)})",
                      "yaxis.tickformat": ".0%" if _is_fraction(unit) else ",.4~g"})
    _variant_menu(fig, groups, len(fig.data), extra)
    title = "剂量–反应曲线（参数扫描）" if lang == "zh" else "Dose–response (parameter sweep)"
    return _layout(fig, title, lang, height=480, xaxis_title=esc(x_axis),
                   yaxis={"title": extra[0]["yaxis.title.text"] if extra else "",
                          "tickformat": extra[0]["yaxis.tickformat"] if extra else None})


def sensitivity(table: pd.DataFrame, lang: str) -> go.Figure:
    """Sensitivity indices per parameter (Morris μ*, σ or Sobol S1, ST); a drop-down per indicator.

    Args:
        table: method, indicator, parameter and the SALib columns (morris: mu_star,
            mu_star_conf, sigma; sobol: S1, S1_conf, ST, ST_conf).
        lang: "zh" or "en".
    """
    method = str(table.method.iloc[0]) if len(table) else "morris"
    bars = ([("mu_star", "mu_star_conf", "μ*"), ("sigma", None, "σ")] if method == "morris"
            else [("S1", "S1_conf", "S1"), ("ST", "ST_conf", "ST")])
    names = [n for n in dict.fromkeys(table.indicator)]
    fig = go.Figure()
    groups = []
    for name in names:
        d = table[table.indicator == name]
        idx = []
        for k, (col, conf, label) in enumerate(bars):
            idx.append(len(fig.data))
            fig.add_trace(go.Bar(
                x=[esc(p) for p in d.parameter], y=d[col], name=label,
                marker_color=_PALETTE[k],
                error_y={"type": "data", "array": d[conf].to_numpy(float)} if conf else None,
                customdata=d[conf] if conf else None,
                hovertemplate=f"%{{x}}<br>{label} = %{{y:.4g}}"
                              + (" ± %{customdata:.4g}" if conf else "") + "<extra></extra>"))
        groups.append((indicator_label(name, lang), idx))
    _variant_menu(fig, groups, len(fig.data))
    title = (f"敏感性分析（{method}）：{groups[0][0] if groups else ''}" if lang == "zh"
             else f"Sensitivity indices ({method})")
    return _layout(fig, title, lang, barmode="group", height=460,
                   xaxis_title=word("parameter", lang))


# -- tidy data from one run ----------------------------------------------------------------------


def run_headline(res: Results) -> pd.DataFrame:
    """Headline table of one run (no intervals)."""
    t = res.indicators[["indicator", "value"]].rename(columns={"value": "mean"})
    return t.assign(variant=res.scenario, ci_low=np.nan, ci_high=np.nan)


def run_monthly(res: Results) -> pd.DataFrame:
    """Monthly headline indicators of one run."""
    t = res.monthly()
    t = t[t.indicator.isin(HEADLINE)].rename(columns={"value": "mean"})
    t = _with_days(t, month_days(res))
    return t.assign(variant=res.scenario, ci_low=np.nan, ci_high=np.nan)


def month_days(res: Results) -> pd.DataFrame:
    """Days simulated in each calendar month of one run: month, days."""
    dates = pd.date_range(pd.Timestamp(res.start_date), periods=res.days, freq="D")
    counts = dates.to_period("M").value_counts().sort_index()
    return pd.DataFrame({"month": counts.index.to_timestamp(), "days": counts.to_numpy(int)})


def run_tiers(res: Results) -> pd.DataFrame:
    """Visits and admissions by month and tier of one run, with the days simulated per month."""
    d = res.daily[res.daily.counter.isin(["visits", "admissions"])]
    month = d.date.dt.to_period("M").dt.to_timestamp()
    t = d.groupby([month.rename("month"), d.counter.rename("measure"), d.tier.astype(str)],
                  observed=True).value.sum().reset_index()
    t = _with_days(t, month_days(res))
    return t.assign(variant=res.scenario)


def _with_days(t: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """``t`` with a days column (days simulated in its month), matched on the month."""
    by_month = dict(zip(pd.to_datetime(days.month), days.days, strict=True))
    return t.assign(days=[by_month.get(m) for m in pd.to_datetime(t.month)])


def run_fund_flow(res: Results) -> pd.DataFrame:
    """Money by payer (fund's payment to providers, patients, assistance) and tier of one run."""
    d = res.daily[(res.daily.counter == "money")
                  & res.daily.measure.isin(["fund_paid", "patient", "assistance"])]
    t = d.groupby([d.measure.astype(str).rename("payer"), d.tier.astype(str)],
                  observed=True).value.sum().reset_index()
    return t.assign(variant=res.scenario)


def run_referrals(res: Results) -> pd.DataFrame:
    """Referrals by kind, from tier and to tier of one run."""
    d = res.daily[res.daily.counter == "referrals"]
    t = d.groupby([d.measure.astype(str).str.removeprefix("referrals_").rename("kind"),
                   d.tier.astype(str), d.to_tier.astype(str)], observed=True).value.sum()
    return t.reset_index().assign(variant=res.scenario)


def run_map(res: Results) -> pd.DataFrame:
    """Facilities of one run with their totals."""
    return res.facilities.assign(variant=res.scenario)


def run_settlement(res: Results) -> pd.DataFrame:
    """The 医共体 year-end settlements of one run."""
    return res.settlements.assign(variant=res.scenario)


def run_equity(res: Results) -> pd.DataFrame:
    """Out-of-pocket per capita and catastrophic incidence by quintile of one run."""
    return equity_table(res.indicators.rename(columns={"value": "mean"}).assign(
        variant=res.scenario, ci_low=np.nan, ci_high=np.nan))


def equity_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Quintile rows of an indicator summary (variant, indicator, mean, ci_low, ci_high)."""
    rows = []
    for measure, prefix in (("oop", "oop_per_capita_q"), ("catastrophic",
                                                           "catastrophic_incidence_q")):
        d = summary[summary.indicator.str.startswith(prefix)]
        rows.append(d.assign(measure=measure,
                             quintile=d.indicator.str.removeprefix(prefix).astype(int)))
    out = pd.concat(rows, ignore_index=True)
    return out[["variant", "quintile", "measure", "mean", "ci_low", "ci_high"]]


RUN_TABLES: dict[str, Callable[[Results], pd.DataFrame]] = {
    "headline": run_headline,
    "monthly": run_monthly,
    "tiers": run_tiers,
    "fund_flow": run_fund_flow,
    "referrals": run_referrals,
    "map": run_map,
    "settlement": run_settlement,
    "equity": run_equity,
}
"""The tidy input of each figure kind, from one run."""


def draw(kind: str, data: pd.DataFrame, lang: str, *,
         policy_changes: dict[str, list[str]] | None = None,
         axes: list[str] | None = None) -> go.Figure:
    """The figure of ``kind`` from its tidy data."""
    if kind == "monthly":
        return monthly(data, policy_changes or {}, lang)
    if kind == "dose_response":
        return dose_response(data, axes or [], lang)
    return FIGURES[kind](data, lang)


FIGURES: dict[str, Callable[[pd.DataFrame, str], go.Figure]] = {
    "headline": headline,
    "differences": differences,
    "tiers": tiers,
    "fund_flow": fund_flow,
    "referrals": referrals,
    "map": facility_map,
    "settlement": settlement,
    "equity": equity,
    "sensitivity": sensitivity,
}


def for_results(res: Results, kind: str, lang: str = "en") -> go.Figure:
    """One figure of a single run (``Results.plot``)."""
    if kind not in RUN_TABLES:
        raise ValueError(f"unknown figure kind {kind!r}; known: {', '.join(RUN_TABLES)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    return draw(kind, RUN_TABLES[kind](res), lang,
                policy_changes={res.scenario: list(res.meta.get("policy_changes", []))})
