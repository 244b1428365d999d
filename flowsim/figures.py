"""Plotly figures of flowsim results, one function per figure, in Chinese or English.

Each figure function takes tidy data (a DataFrame with a ``variant`` column naming the scenario
or run it belongs to) and ``lang`` ("zh" or "en") and returns a ``plotly.graph_objects.Figure``.
Labels come from ``flowsim.labels`` and the indicators' own labels (``flowsim.indicators``);
numbers follow ``flowsim.formats``, and hover text gives them with their units. Figures with
one panel per variant (Sankeys, map, tiers) get a drop-down to switch variants. Every name that
comes from the user (variants, facilities, parameters) is HTML-escaped, because Plotly renders
a subset of HTML in labels.

``RUN_TABLES`` gives each figure's tidy data from one run; ``draw(kind, data, lang)`` draws it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from flowsim.domain import TIERS
from flowsim.formats import d3, is_fraction, money, money_unit, number
from flowsim.indicators import HEADLINE, INDICATORS
from flowsim.labels import text

if TYPE_CHECKING:
    from flowsim.results import Results

TIER_COLOURS = {"village": "#2ca02c", "township": "#17becf", "county": "#1f77b4",
                "out_of_county": "#d62728"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
PAYERS = ("fund_paid", "patient", "assistance")
"""Who pays, in the fund-flow figure: the fund (under the payment method), patients, assistance."""
SETTLEMENT_BARS = ("budget", "spent", "community_kept", "community_bears", "fund_extra")
"""Columns of the settlement table drawn as bars, in order."""


# -- labels ------------------------------------------------------------------------------------


def indicator_label(name: str, lang: str) -> str:
    """The indicator's label (Chinese as in the seed documents, or English)."""
    ind = INDICATORS.get(name)
    return html.escape(name) if ind is None else ind.label(lang)


def _unit(name: str) -> str:
    ind = INDICATORS.get(name)
    return ind.unit if ind else ""


def _unit_label(name: str, lang: str) -> str:
    """The unit of indicator ``name`` in the language ("" for an unknown indicator)."""
    unit = _unit(name)
    return text(f"unit.{unit}", lang) if unit else ""


def _size(values: pd.Series) -> float:
    """The largest absolute value (0 when there is none): the magnitude numbers are shown for."""
    shown = np.abs(values.to_numpy(float))
    shown = shown[np.isfinite(shown)]
    return float(shown.max()) if len(shown) else 0.0


def esc(label: object) -> str:
    """User text made safe for Plotly labels (shown literally, never as markup)."""
    return html.escape(str(label))


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


TITLE_LINE = 36
"""Pixels of the title's line, which ``untitled`` gives back to the plot."""
TOOLBAR = 40
"""Pixels from the top of a figure below which panel titles stay clear of Plotly's toolbar."""


def untitled(fig: go.Figure) -> go.Figure:
    """``fig`` without its title (the report writes it in HTML, where it wraps).

    The drop-down and the plot move up by the title's line, the figure is as much shorter, but
    panel titles keep room below the Plotly toolbar (``TOOLBAR`` pixels at the top right).
    """
    top = fig.layout.margin.t or 80
    bottom = 80 if fig.layout.margin.b is None else fig.layout.margin.b
    panel_lines = max([a.text.count("<br>") + 1 for a in fig.layout.annotations
                       if a.yref == "paper" and a.yanchor == "bottom" and a.text] or [0])
    new_top = max(top - TITLE_LINE, 24, TOOLBAR + 20 * panel_lines if panel_lines else 0)
    height = (fig.layout.height or 450) - top + new_top
    fig.update_layout(title_text="", height=height, margin={"t": new_top})
    plot = max(height - new_top - bottom, 1)
    for menu in fig.layout.updatemenus:
        menu.update(y=1 + (new_top - (MENU_TOP - TITLE_LINE)) / plot)
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
                  "hovertemplate": f"%{{label}}: %{{value:{kw.get('valueformat', ',.0f')}}} {unit}"
                             "<extra></extra>"},
            link={"value": d.value.to_numpy(float), **links(d)}, **kw))
        groups.append((esc(v), [len(fig.data) - 1]))
    _variant_menu(fig, groups, len(fig.data))
    return fig


# -- figures -----------------------------------------------------------------------------------


def _text_px(label: str, size: float = 13) -> float:
    """Rough width of one line of text in pixels (CJK characters are about one em wide)."""
    label = html.unescape(label)
    return sum(size if ord(c) >= 0x2E80 else 0.6 * size for c in label)


def _lines(label: str) -> list[str]:
    return label.split("<br>")


_ZH_WORD_ENDS = ("机构", "县域内", "人次", "比例", "费用")
"""Chinese word endings where a label breaks best (the text has no spaces)."""


def _wrap(label: str, lang: str, width: float, size: float = 13) -> str:
    """``label`` broken with <br> into lines of at most ``width`` pixels where possible.

    Chinese breaks between characters (after punctuation such as "：" or "（" by preference),
    other text at spaces. Plotly does not wrap Chinese in table cells or titles by itself.
    """
    if _text_px(label, size) <= width:
        return label
    total = _text_px(html.unescape(label), size)
    n = math.ceil(total / width)
    balanced = _break(label, lang, min(width, total / n + 2 * size), size)  # similar lengths
    return balanced if balanced.count("<br>") < n else _break(label, lang, width, size)


def _break(label: str, lang: str, width: float, size: float) -> str:
    raw = html.unescape(label)
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


def differences(table: pd.DataFrame, lang: str) -> go.Figure:
    """Each variant minus the baseline, paired over seeds, with 95 % intervals (one panel each).

    Two panels a row, the variants named once at the left of each row, so that the figure reads
    at 800 pixels as at 1,400.

    Args:
        table: variant, baseline, indicator, n_pairs, diff_mean, diff_ci_low, diff_ci_high.
        lang: "zh" or "en".
    """
    drawn = table[table.diff_mean.notna()]
    names = [n for n in HEADLINE if n in set(drawn.indicator)]  # none for an undefined one
    cols = 2
    rows = max(1, math.ceil(len(names) / cols))
    titles = [_wrap(indicator_label(n, lang), lang, 250, 13) for n in names]
    n_variants = table.variant.nunique()
    panel = 60 + 26 * n_variants
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        horizontal_spacing=0.08, vertical_spacing=min(0.6 / rows, 90 / (
                            rows * panel + 90)))
    for k, name in enumerate(names):
        unit = _unit(name)
        scale = 100.0 if is_fraction(unit) else 1.0
        shown = text("word.percentage_points" if is_fraction(unit) else f"unit.{unit}", lang)
        d = table[table.indicator == name]
        between = f"<br>{text('word.interval', lang)}: "
        words = "" if is_fraction(unit) else f" {shown}"
        hover = [
            f"{esc(v)} − {esc(b)}: "
            f"{number(m, unit, lang, interval=(a, c), sign=True, sep=between)}{words}"
            f"<br>n = {int(n)} {text('word.pairs', lang)}"
            for v, b, m, a, c, n in zip(d.variant, d.baseline, d.diff_mean, d.diff_ci_low,
                                        d.diff_ci_high, d.n_pairs, strict=True)
        ]
        mean, lo, hi = (d[c].to_numpy(float) * scale
                        for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
        row, col = k // cols + 1, k % cols + 1
        fig.add_trace(go.Scatter(
            x=mean, y=[esc(v) for v in d.variant], mode="markers",
            error_x={"type": "data", "symmetric": False, "array": np.nan_to_num(hi - mean),
                     "arrayminus": np.nan_to_num(mean - lo)},
            marker={"size": 9, "color": "#1f77b4"}, hovertext=hover, hoverinfo="text",
            showlegend=False), row=row, col=col)
        fig.add_vline(x=0, line={"color": "grey", "dash": "dot"}, row=row, col=col)
        fig.update_xaxes(title_text=shown, title_font={"size": 10}, nticks=5, row=row, col=col)
    fig.update_yaxes(automargin=True, autorange="reversed")
    base = esc(table.baseline.iloc[0]) if len(table) else ""
    title = text("figure.differences", lang, baseline=base)
    return _layout(fig, title, lang, height=100 + (panel + 90) * rows,
                   margin={"l": 10, "r": 20, "t": 80, "b": 40})


MONTH_LABELS = 9
"""Most month labels on a time axis (one every k months beyond), so they never crowd."""


def month_ticks(months: pd.Series) -> str:
    """The ``dtick`` of a monthly axis: every month, or every k months for long runs."""
    n = pd.to_datetime(months).dt.to_period("M").nunique() if len(months) else 1
    return f"M{max(1, math.ceil(n / MONTH_LABELS))}"


MAX_BANDS = 4
"""Most variants whose interval bands the monthly figure shades (more merge into one mass)."""


def variant_colours(n: int) -> list[str]:
    """``n`` distinct colours: the palette for a few variants, Viridis in order for more.

    Sweep points then read in order, dark to light.
    """
    if n <= 6:
        return list(_PALETTE[:n])
    return sample_colorscale("Viridis", [k / (n - 1) * 0.9 for k in range(n)])


def monthly(table: pd.DataFrame, policy_changes: dict[str, list[str]], lang: str) -> go.Figure:
    """Indicators by month, one line per variant, a drop-down per indicator, policy-change lines.

    Args:
        table: variant, month, indicator, mean, ci_low, ci_high (ci NaN for single runs).
        policy_changes: dates ("YYYY-MM-DD") of policy changes by variant.
        lang: "zh" or "en".
    """
    names = [n for n in HEADLINE if n in set(table.indicator)]
    variants = list(dict.fromkeys(table.variant))
    colours = variant_colours(len(variants))
    fig = go.Figure()
    groups, extra = [], []
    for name in names:
        unit = _unit(name)
        f = d3(unit, _size(table[table.indicator == name]["mean"]))
        idx = []
        for k, v in enumerate(variants):
            d = table[(table.indicator == name) & (table.variant == v)].sort_values("month")
            colour = colours[k]
            if d.ci_low.notna().any() and len(variants) <= MAX_BANDS:
                idx.append(len(fig.data))
                fig.add_trace(go.Scatter(
                    x=[*d.month, *d.month[::-1]], y=[*d.ci_high, *d.ci_low[::-1]],
                    fill="toself", fillcolor=colour, opacity=0.15, line={"width": 0},
                    hoverinfo="skip", showlegend=False, legendgroup=str(k)))
            full = pd.to_datetime(d.month).dt.days_in_month.to_numpy(int)
            days = (d["days"].fillna(pd.Series(full, index=d.index)).to_numpy(int)
                    if "days" in d else full)
            partial = days < full
            notes = ["<br>" + text("word.partial_month", lang, days=n) if p else ""
                     for n, p in zip(days, partial, strict=True)]
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=d.month, y=d["mean"], name=esc(v), mode="lines+markers", legendgroup=str(k),
                line={"color": colour},
                marker={"symbol": ["circle-open" if p else "circle" for p in partial],
                        "size": [9 if p else 6 for p in partial]},
                customdata=[[a, b, n] for a, b, n in zip(d.ci_low, d.ci_high, notes,
                                                          strict=True)] or None,
                hovertemplate=(f"{esc(v)}<br>%{{x|%Y-%m}}: %{{y:{f}}} "
                               f"({_unit_label(name, lang)})"
                               + (f"<br>{text('word.interval', lang)}: [%{{customdata[0]:{f}}},"
                                  f" %{{customdata[1]:{f}}}]"
                                  if d.ci_low.notna().any() else "")
                               + "%{customdata[2]}<extra></extra>")))
        label = indicator_label(name, lang)
        groups.append((label, idx))
        extra.append({"yaxis.title.text": f"{label} ({_unit_label(name, lang)})",
                      "yaxis.tickformat": ".1%" if is_fraction(unit) else ",.4~g"})
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
        note = f"{text('word.policy_change', lang)} {d}"
        if len(variants) > 1:
            note += " (" + ", ".join(esc(v) for v in who) + ")"
        fig.add_vline(x=pd.Timestamp(d).timestamp() * 1000, line={"color": "grey", "dash": "dash"},
                      annotation={"text": note, "textangle": -90, "font": {"size": 10}},
                      annotation_position="top left")
    fig.update_yaxes(ticklabelstandoff=6)
    return _layout(fig, text("figure.monthly", lang), lang, height=480,
                   xaxis={"tickformat": "%Y-%m", "dtick": month_ticks(table.month)},
                   yaxis={"title": extra[0]["yaxis.title.text"] if extra else "",
                          "tickformat": ".1%" if is_fraction(first_unit) else ",.4~g"},
                   legend={"orientation": "h", "y": -0.18, "yanchor": "top"})


def tiers(table: pd.DataFrame, lang: str) -> go.Figure:
    """Outpatient visits and admissions per day by tier and month, stacked; a menu per variant.

    Each bar is the month's count divided by the days simulated in that month, so a partial
    first or last month (and months of different lengths) compare fairly with full ones.

    Args:
        table: variant, month, measure ("visits" | "admissions"), tier, value (the month's
            count) and optionally days (days simulated in the month; default: the whole month).
        lang: "zh" or "en".
    """
    per_day = {m: text(f"word.{m}_per_day", lang) for m in ("visits", "admissions")}
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
                label = text(f"tier.{tier}", lang)
                notes = [
                    text("word.month_total", lang, total=f"{t:,.0f}",
                         what=text(f"word.{measure}", lang))
                    + ("" if n >= f else "<br>" + text("word.partial_month", lang, days=n))
                    for t, n, f in zip(d.value, d.days, d.full, strict=True)]
                fig.add_trace(go.Bar(
                    x=d.month, y=d.value / d.days.clip(lower=1), name=label, legendgroup=tier,
                    showlegend=row == 1, marker_color=TIER_COLOURS[tier], customdata=notes,
                    hovertemplate=f"{esc(v)}<br>{label}<br>%{{x|%Y-%m}}: %{{y:,.1f}} "
                                  f"{per_day[measure]}<br>%{{customdata}}<extra></extra>"),
                    row=row, col=1)
        groups.append((esc(v), idx))
    _variant_menu(fig, groups, len(fig.data), top=120)
    fig.update_yaxes(title_text=text("word.per_day", lang), tickformat=",.4~g",
                     ticklabelstandoff=6)
    fig.update_xaxes(tickformat="%Y-%m", dtick=month_ticks(table.month))
    return _layout(fig, text("figure.tiers", lang), lang, barmode="stack", height=620)


def fund_flow(table: pd.DataFrame, lang: str) -> go.Figure:
    """Sankey of money from the fund, patients and medical assistance to each tier.

    Args:
        table: variant, payer ("fund_paid" | "patient" | "assistance"), tier, value (yuan).
        lang: "zh" or "en".
    """
    payers = list(PAYERS)
    labels = [text(f"payer.{p}", lang) for p in payers] + [text(f"tier.{t}", lang)
                                                          for t in TIERS]
    colours = ["#9467bd", "#ff7f0e", "#8c564b"] + [TIER_COLOURS[t] for t in TIERS]
    link_colours = ["rgba(148,103,189,0.4)", "rgba(255,127,14,0.4)", "rgba(140,86,75,0.4)"]
    divisor, yuan = money_unit(_size(table.groupby("variant").value.sum()), lang)
    table = table.assign(value=table.value / divisor)

    def links(d: pd.DataFrame) -> dict:
        return {"source": [payers.index(p) for p in d.payer],
                "target": [len(payers) + TIERS.index(t) for t in d.tier],
                "color": [link_colours[payers.index(p)] for p in d.payer],
                "hovertemplate": f"%{{source.label}} → %{{target.label}}: %{{value:,.1f}} "
                                 f"{yuan}<extra></extra>"}

    fig = _sankey_per_variant(table, labels, colours, links, yuan,
                              valueformat=",.1f", valuesuffix=f" {yuan}")
    return _layout(fig, text("figure.fund_flow", lang, unit=yuan), lang, height=480)


def referrals(table: pd.DataFrame, lang: str) -> go.Figure:
    """Sankey of referrals between tiers, upward and downward; a drop-down per variant.

    Args:
        table: variant, kind ("up" | "down"), tier (from), to_tier, value (referrals).
        lang: "zh" or "en".
    """
    labels = [f"{text(f'word.{end}', lang)}: {text(f'tier.{t}', lang)}"
              for end in ("from", "to") for t in TIERS]
    colours = [TIER_COLOURS[t] for t in TIERS] * 2
    link_colour = {"up": "rgba(255,127,14,0.5)", "down": "rgba(44,160,44,0.5)"}
    n = text("word.referrals", lang)

    def links(d: pd.DataFrame) -> dict:
        return {"source": [TIERS.index(t) for t in d.tier],
                "target": [len(TIERS) + TIERS.index(t) for t in d.to_tier],
                "color": [link_colour[k] for k in d.kind],
                "customdata": [text(f"word.{k}", lang) for k in d.kind],
                "hovertemplate": f"%{{customdata}}<br>%{{source.label}} → %{{target.label}}: "
                                 f"%{{value:,.0f}} {n}<extra></extra>"}

    fig = _sankey_per_variant(table, labels, colours, links, n)
    return _layout(fig, text("figure.referrals", lang), lang, height=460)


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
                f"<b>{esc(r.name)}</b><br>{text(f'tier.{tier}', lang)}<br>"
                f"{text('word.visits', lang)}: {r.visits:,.0f}<br>"
                f"{text('word.admissions', lang)}: {r.admissions:,.0f}<br>"
                f"{text('word.beds', lang)}: {'—' if r.beds >= 1e8 else f'{r.beds:,.0f}'}<br>"
                f"{text('word.bill', lang)}: {money(r.bill, lang)}<br>"
                f"{text('word.fund', lang)}: {money(r.fund, lang)}<br>"
                f"({r.x_km:.1f}, {r.y_km:.1f}) km"
                for r in f.itertuples(index=False)
            ]
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=f.x_km, y=f.y_km, mode="markers", name=text(f"tier.{tier}", lang),
                marker={"size": np.maximum(f.visits.to_numpy(float), 1.0), "sizemode": "area",
                        "sizeref": 2.0 * peak / 45.0**2, "sizemin": 3,
                        "color": TIER_COLOURS[tier], "line": {"width": 0.5, "color": "white"}},
                hovertext=hover, hoverinfo="text"))
        groups.append((esc(v), idx))
    _variant_menu(fig, groups, len(fig.data))
    return _layout(fig, text("figure.map", lang), lang, height=620,
                   legend={"traceorder": "reversed"},
                   xaxis={"title": text("word.x_km", lang), "zeroline": False},
                   yaxis={"title": text("word.y_km", lang), "scaleanchor": "x",
                          "zeroline": False})


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
    """The 医共体 year-end settlement by year in 万元 (zh) or million yuan (en); a menu per variant.

    Top: budget and spending. Bottom: how the balance was settled: the surplus the 医共体 kept
    (+), the overrun it bore (−), and what the fund paid it at settlement (+) or took back (−).

    Args:
        table: variant, year, days, budget, spent, community_kept, community_bears, fund_extra.
        lang: "zh" or "en".
    """
    divisor, unit = money_unit(_size(table[list(SETTLEMENT_BARS)].stack()), lang)
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.16, subplot_titles=(
        text("figure.settlement_spending", lang, unit=unit),
        text("figure.settlement_shared", lang, unit=unit)))
    groups = []
    for v in dict.fromkeys(table.variant):
        d = table[table.variant == v].sort_values("year")
        idx = []
        for k, col in enumerate(SETTLEMENT_BARS):
            label = text(f"settlement.{col}", lang)
            sign = -1.0 if col == "community_bears" else 1.0
            idx.append(len(fig.data))
            fig.add_trace(go.Bar(
                x=[str(y) for y in d.year], y=sign * d[col] / divisor, name=label,
                customdata=d.days, marker_color=_PALETTE[k], legendgroup=col,
                hovertemplate=f"{label}: %{{y:,.1f}} {unit}<br>%{{x}} (%{{customdata}} "
                              f"{text('word.days', lang)})<extra></extra>"),
                row=1 if col in ("budget", "spent") else 2, col=1)
        groups.append((esc(v), idx))
    _variant_menu(fig, groups, len(fig.data))
    fig.update_yaxes(title_text=unit, tickformat=",.4~g", automargin=True)
    fig.add_hline(y=0, line={"color": "grey", "width": 1}, row=2, col=1)
    return _layout(fig, text("figure.settlement", lang), lang, barmode="group", height=620,
                   legend={"orientation": "h", "y": -0.08, "yanchor": "top"},
                   margin={"b": 110})


def equity(table: pd.DataFrame, lang: str) -> go.Figure:
    """Out-of-pocket per capita and catastrophic expenditure by income quintile, per variant.

    Args:
        table: variant, quintile (1–5), measure ("oop" | "catastrophic"), mean, ci_low, ci_high.
        lang: "zh" or "en".
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, subplot_titles=[
        _wrap(text("word.oop", lang), lang, 240, 14),
        _wrap(text("word.catastrophic", lang), lang, 240, 14)])
    units = {"oop": "yuan per person-year", "catastrophic": "fraction of residents per year"}
    variants = list(dict.fromkeys(table.variant))
    colours = variant_colours(len(variants))
    for k, v in enumerate(variants):
        for col, (measure, unit) in enumerate(units.items(), start=1):
            d = table[(table.variant == v) & (table.measure == measure)].sort_values("quintile")
            f = d3(unit, _size(table[table.measure == measure]["mean"]))
            has_ci = d.ci_low.notna().any()
            fig.add_trace(go.Bar(
                x=[f"Q{q}" for q in d.quintile], y=d["mean"], name=esc(v), legendgroup=str(k),
                showlegend=col == 1, marker_color=colours[k],
                error_y={"type": "data", "symmetric": False,
                         "array": (d.ci_high - d["mean"]).to_numpy(float),
                         "arrayminus": (d["mean"] - d.ci_low).to_numpy(float)} if has_ci else None,
                customdata=np.stack([d.ci_low, d.ci_high], axis=1),
                hovertemplate=f"{esc(v)}<br>%{{x}}: %{{y:{f}}}"
                              + ("" if is_fraction(unit) else f" {text(f'unit.{unit}', lang)}")
                              + (f"<br>{text('word.interval', lang)}: [%{{customdata[0]:{f}}}, "
                                 f"%{{customdata[1]:{f}}}]" if has_ci else "")
                              + "<extra></extra>"), row=1, col=col)
    fig.update_yaxes(tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    fig.update_xaxes(title_text=text("word.quintile", lang))
    return _layout(fig, text("figure.equity", lang), lang, barmode="group", height=440)


def lever_label(name: str, levers: dict[str, dict], lang: str) -> str:
    """A sweep lever in words: its ``label`` in ``lang`` with its unit, else its name."""
    spec = levers.get(name) or {}
    label = (spec.get("label") or {}).get(lang) or name
    unit = spec.get("unit")
    unit = unit.get(lang) if isinstance(unit, dict) else unit
    return esc(f"{label} ({unit})" if unit else label)


def _tick_format(values: np.ndarray) -> str:
    """A d3 format whose ticks over ``values`` differ: enough decimals for a fifth of the span."""
    finite = values[np.isfinite(values)]
    span = float(finite.max() - finite.min()) if len(finite) else 0.0
    places = 0 if span <= 0 else int(min(max(-math.floor(math.log10(span / 5)), 0), 4))
    return f",.{places}f"


def dose_response(table: pd.DataFrame, axes: list[str], lang: str, *,
                  levers: dict[str, dict] | None = None) -> go.Figure:
    """Paired difference from the baseline against the first sweep axis; a menu per indicator.

    One line per value of any other lever. The baseline (the scenario without the levers) is
    the zero line; error bars are the 95 % intervals of the differences, paired over seeds.
    Fractions are in percentage points.

    Args:
        table: paired differences: variant, <axis columns>, indicator, diff_mean, diff_ci_low,
            diff_ci_high, n_pairs, baseline.
        axes: sweep axis names, the first on the x axis.
        lang: "zh" or "en".
        levers: lever name → {label: {en, zh}, unit} (the experiment file's levers).
    """
    levers = levers or {}
    x_axis, others = axes[0], axes[1:]
    names = [n for n in HEADLINE if n in set(table.indicator)]
    x_label = lever_label(x_axis, levers, lang)
    fig = go.Figure()
    groups, extra = [], []
    for name in names:
        unit = _unit(name)
        scale = 100.0 if is_fraction(unit) else 1.0
        shown = text("word.percentage_points" if is_fraction(unit) else f"unit.{unit}", lang)
        d = table[table.indicator == name]
        values = d[["diff_mean", "diff_ci_low", "diff_ci_high"]].to_numpy(float) * scale
        f = _tick_format(values.ravel())
        idx = []
        lines = d.groupby(others, sort=True) if others else [((), d)]
        for k, (key, g) in enumerate(lines):
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{lever_label(a, levers, lang)} = {b:g}"
                              for a, b in zip(others, key, strict=True))
            g = g.sort_values(x_axis)
            mean, lo, hi = (g[c].to_numpy(float) * scale
                            for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
            idx.append(len(fig.data))
            fig.add_trace(go.Scatter(
                x=g[x_axis], y=mean, mode="lines+markers", name=label or x_label,
                showlegend=bool(others), line={"color": _PALETTE[k % len(_PALETTE)]},
                error_y={"type": "data", "symmetric": False, "array": np.nan_to_num(hi - mean),
                         "arrayminus": np.nan_to_num(mean - lo)},
                customdata=np.stack([lo, hi, g.n_pairs], axis=1),
                hovertemplate=f"{x_label} = %{{x:g}}" + (f"<br>{label}" if label else "")
                              + f"<br>Δ {indicator_label(name, lang)}: %{{y:+{f[1:]}}} {shown}"
                              f"<br>{text('word.interval', lang)}: [%{{customdata[0]:{f}}}, "
                              f"%{{customdata[1]:{f}}}], n = %{{customdata[2]}} "
                              f"{text('word.pairs', lang)}<extra></extra>"))
        label = indicator_label(name, lang)
        groups.append((label, idx))
        extra.append({"yaxis.title.text": _wrap(f"Δ {label} ({shown})", lang, 300, 12),
                      "yaxis.tickformat": f})
    _variant_menu(fig, groups, len(fig.data), extra)
    base = esc(table.baseline.iloc[0]) if len(table) else ""
    fig.add_hline(y=0, line={"color": "grey", "dash": "dot"},
                  annotation={"text": text("word.baseline_line", lang, baseline=base),
                              "font": {"size": 11}}, annotation_position="bottom right")
    values = sorted(table[x_axis].dropna().unique()) if len(table) else []
    return _layout(fig, text("figure.dose_response", lang, baseline=base), lang, height=480,
                   xaxis={"title": x_label, "tickvals": values if len(values) <= 12 else None,
                          "tickformat": _tick_format(np.asarray(values, float))},
                   yaxis={"title": extra[0]["yaxis.title.text"] if extra else "",
                          "tickformat": extra[0]["yaxis.tickformat"] if extra else None,
                          "automargin": True},
                   legend={"orientation": "h", "y": -0.15, "yanchor": "top"})


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
    title = text("figure.sensitivity", lang, method=method,
                 indicator=groups[0][0] if groups else "")
    return _layout(fig, title, lang, barmode="group", height=460,
                   xaxis_title=text("word.parameter", lang))


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
                  & res.daily.measure.isin(PAYERS)]
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
    "headline": run_headline,  # the report's HTML table of levels
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
         axes: list[str] | None = None, levers: dict[str, dict] | None = None) -> go.Figure:
    """The figure of ``kind`` from its tidy data (``levers``: the sweep's, for its axis)."""
    if kind == "monthly":
        return monthly(data, policy_changes or {}, lang)
    if kind == "dose_response":
        return dose_response(data, axes or [], lang, levers=levers)
    return FIGURES[kind](data, lang)


FIGURES: dict[str, Callable[[pd.DataFrame, str], go.Figure]] = {
    "differences": differences,
    "tiers": tiers,
    "fund_flow": fund_flow,
    "referrals": referrals,
    "map": facility_map,
    "settlement": settlement,
    "equity": equity,
    "sensitivity": sensitivity,
}

