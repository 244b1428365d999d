"""The policy explorer in the browser: Mesa's ``SolaraViz`` page around a ``PolicyExplorer``.

``flowsim app`` serves ``Page`` (``solara run flowsim.app`` does too); the scenario, language and
save folder come from the environment it sets (``configuration``). The page is Mesa's: its
sidebar has Mesa's controls (Reset, ▶ play, Step, the play interval) and model parameters (seed,
compare), to which the policy-lever panel (``Levers``) is added. The figures are laid out by
``Dashboard``, full width in one or two columns, rather than in Mesa's draggable half-width grid.

Everything is computed when the model steps or a lever moves, not when the page draws: a step
records the month with Mesa's ``DataCollector``; the figures are made once per step and
language (``solara.use_memo``); a lever rebuilds the county under the new settings in a thread
(``solara.lab.use_task``), so the page stays responsive.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import solara
import solara.lab
import solara.server.settings
import solara.settings
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from plotly.subplots import make_subplots
from solara.toestand import KernelStoreFactory

from flowsim import figures, indicators
from flowsim.config import Scenario, default_scenario_path
from flowsim.domain import TIERS
from flowsim.explorer import (
    HEADLINE,
    LEVER,
    LEVERS,
    PolicyExplorer,
    app_baseline,
    changed,
    rebuilt,
    reporter,
    scenario_file,
)
from flowsim.formats import money_unit, number
from flowsim.labels import text

ENVIRONMENT = {"scenario": "FLOWSIM_APP_SCENARIO", "population": "FLOWSIM_APP_POPULATION",
               "lang": "FLOWSIM_APP_LANG", "out": "FLOWSIM_APP_OUT"}
"""What ``flowsim app`` hands the page: scenario file ("" = the built-in county), residents
("" = the app's default), language, and the folder "Save as scenario" writes to."""

solara.server.settings.telemetry.mixpanel_enable = False  # the page reports to no one
lang: solara.Reactive[str] = solara.Reactive(KernelStoreFactory(
    lambda: os.environ.get(ENVIRONMENT["lang"]) or "zh", key="flowsim.app.lang"))
"""The page's language ("zh" or "en"), one per browser session; a session starts in the one
``flowsim app --lang`` chose (read when the session starts, not when this module is imported)."""


def configuration() -> dict[str, Any]:
    """The page's baseline, its file and the save folder, from ``ENVIRONMENT``."""
    file = os.environ.get(ENVIRONMENT["scenario"]) or None
    population = os.environ.get(ENVIRONMENT["population"]) or None
    return {"baseline": app_baseline(file, int(population) if population else None),
            "base_file": Path(file) if file else default_scenario_path(),
            "out": Path(os.environ.get(ENVIRONMENT["out"]) or ".")}


def serve(scenario: Path | None, population: int | None, language: str, out: Path, *,
          host: str, port: int) -> None:
    """Serve ``Page`` at http://host:port until interrupted, with nothing from the internet.

    The page's settings go to the environment (``ENVIRONMENT``), as ``solara run flowsim.app``
    would read them. Solara's scripts, styles and fonts are served by this server from the
    ``solara-assets`` package (its ``/_solara/cdn`` proxy, set on here: solara turns it off in
    some editors) rather than fetched by the browser from a CDN; production mode loads no
    development tools and makes no version check. Solara's "runs on Solara" banner is off
    (the README credits Mesa and Solara).
    """
    import uvicorn

    os.environ.update({
        ENVIRONMENT["scenario"]: str(scenario.resolve()) if scenario else "",
        ENVIRONMENT["population"]: "" if population is None else str(population),
        ENVIRONMENT["lang"]: language,
        ENVIRONMENT["out"]: str(out.resolve()),
        "SOLARA_APP": __name__,
    })
    solara.settings.assets.proxy = True
    solara.server.settings.main.mode = "production"
    solara.server.settings.theme.show_banner = False  # it would cover the figures' corner
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")


@solara.component
def Page():
    """The page ``solara run flowsim.app`` serves."""
    config = solara.use_memo(configuration, [])
    Explorer(**config)


class Current(Mapping):
    """The lever settings as they are when read: Mesa's Reset reads its model parameters then."""

    def __init__(self, settings: solara.Reactive[dict]) -> None:
        self.settings = settings

    def __getitem__(self, name: str) -> Any:
        return self.settings.value[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.settings.value)

    def __len__(self) -> int:
        return len(self.settings.value)


@solara.component
def Explorer(baseline: Scenario, base_file: Path, out: Path, seed: int = 1):
    """Mesa's SolaraViz page for ``baseline``, with the lever panel and the dashboard."""
    settings = solara.use_reactive({})
    first = solara.use_memo(lambda: PolicyExplorer(baseline, seed=seed), [])
    model = solara.use_reactive(first)
    current = solara.use_memo(lambda: Current(settings), [])
    language = lang.value
    SolaraViz(model, components=[], name=text("app.title", language), model_params={
        "baseline": baseline,
        "settings": current,
        "seed": {"type": "SliderInt", "value": seed, "min": 0, "max": 99,
                 "label": text("page.seed", language)},
        "compare": {"type": "Checkbox", "value": True,
                    "label": text("app.compare", language)},
    })
    solara.Title(text("app.title", language))
    LeverSidebar(model, settings, base_file, out)
    Dashboard(model.value)


@solara.component
def LeverSidebar(model: solara.Reactive[PolicyExplorer], settings: solara.Reactive[dict],
                 base_file: Path, out: Path):
    """``Levers`` in the sidebar, below Mesa's controls.

    Solara orders the sidebar by how deep in the page each part is declared, and ``Levers`` is
    one component deeper than ``SolaraViz``'s controls.
    """
    Levers(model, settings, base_file, out)


@solara.component
def Levers(model: solara.Reactive[PolicyExplorer], settings: solara.Reactive[dict],
           base_file: Path, out: Path):
    """The policy levers (``explorer.LEVERS``), the language switch and "Save as scenario"."""
    language = lang.value
    explorer = model.value
    baseline = explorer.baseline
    values = {lever.name: settings.value.get(lever.name, lever.value(baseline))
              for lever in LEVERS}

    def rebuild() -> None:
        wanted = changed(baseline, settings.value)
        if wanted != model.value.settings:
            new = rebuilt(model.value, wanted)
            if changed(baseline, settings.value) == wanted:  # no newer setting meanwhile
                model.set(new)
                update_counter.value += 1

    task = solara.lab.use_task(rebuild, dependencies=[tuple(sorted(settings.value.items()))])

    def set_lever(name: str, value: Any) -> None:
        settings.set({**settings.value, name: value})

    with solara.Sidebar():
        with solara.Card(text("app.levers", language)):
            with solara.Row():
                with solara.ToggleButtonsSingle(value=lang, classes=["flowsim-language"]):
                    solara.Button("中文", value="zh", text=True)
                    solara.Button("English", value="en", text=True)
            solara.Div(children=[text("app.levers_how", language)],
                       style={"font-size": "0.85em"})
            for lever in LEVERS:
                with solara.Tooltip(lever.hover(baseline, language)):
                    with solara.Column(gap="0px", classes=[f"flowsim-lever-{lever.name}"]
                                       ).meta(lever=lever.name):
                        Control(lever.name, values[lever.name], set_lever)
                if lever.name == "inpatient_rate_county":
                    gap = values["inpatient_rate_township"] - values["inpatient_rate_county"]
                    solara.Text(text("app.gap", language, points=round(100 * gap)),
                                style={"font-size": "0.85em"})
            if task.pending:
                solara.ProgressLinear(True)
                solara.Text(text("app.working", language, month=len(explorer.months)))
            elif task.error:
                solara.Error(str(task.exception))
            solara.Button(text("app.reset_levers", language), text=True,
                          on_click=lambda: settings.set({}))
        SaveScenario(explorer, settings.value, base_file, out)


@solara.component
def Control(name: str, value: Any, on_change):
    """One lever's control: a slider in whole percent, a switch or a choice."""
    lever = LEVER[name]
    language = lang.value
    label = lever.label(language)
    if lever.kind == "percent":
        solara.Text(f"{label}: {round(100 * value)}", classes=["flowsim-value"])
        solara.SliderInt("", value=round(100 * value), min=lever.low, max=lever.high,
                         on_value=lambda v: on_change(name, v / 100), thumb_label=True)
    elif lever.kind == "flag":
        solara.Switch(label=label, value=bool(value), on_value=lambda v: on_change(name, v))
    else:
        shown = {lever.shown(c, language): c for c in lever.choices}
        solara.Select(label, values=list(shown), value=lever.shown(value, language),
                      on_value=lambda v: on_change(name, shown[v]))


SAFE_NAME = re.compile(r"^[\w\-. ]+\.ya?ml$")
"""A file name "Save as scenario" accepts: letters, digits, '-', '_', '.', ' ', ending .yaml."""


@solara.component
def SaveScenario(explorer: PolicyExplorer, settings: dict, base_file: Path, out: Path):
    """Write the settings as a scenario file that extends the baseline file."""
    language = lang.value
    name = solara.use_reactive("my_policy.yaml")
    message = solara.use_reactive(("", ""))

    def save() -> None:
        target = out / name.value
        if not changed(explorer.baseline, settings):
            message.set(("error", text("app.nothing_to_save", language)))
        elif not SAFE_NAME.match(name.value):
            message.set(("error", text("app.save_refused", language, path=name.value,
                                       why=text("app.bad_name", language))))
        elif target.exists():
            message.set(("error", text("app.save_refused", language, path=target,
                                       why=text("app.exists", language))))
        else:
            out.mkdir(parents=True, exist_ok=True)
            written = scenario_file(explorer.baseline, base_file, settings, target,
                                    residents=len(explorer.counties["policy"].residents))
            message.set(("ok", text("app.saved", language, path=written)))

    with solara.Card(text("app.save", language)):
        solara.InputText(text("app.file_name", language), value=name)
        solara.Button(text("app.save", language), on_click=save, color="primary",
                      classes=["flowsim-save"])
        kind, said = message.value
        if kind == "ok":
            solara.Success(said, classes=["flowsim-saved"])
        elif kind == "error":
            solara.Error(said, classes=["flowsim-saved"])


# -- the dashboard -------------------------------------------------------------------------------


@solara.component
def Dashboard(explorer: PolicyExplorer):
    """The headline comparison and the live figures, redrawn after each step."""
    update_counter.get()  # Mesa's step and play bump it: draw again
    language = lang.value
    months = len(explorer.months)
    width = solara.use_reactive(0)
    columns = 2 if width.value >= TWO_COLUMNS else 1
    figure_width = (width.value - GAP * (columns - 1)) // columns
    made = solara.use_memo(lambda: live_figures(explorer, language),
                           [explorer, months, language])
    with solara.Column(classes=["flowsim-dashboard"]):
        Width(width=width.value, on_width=width.set)
        if not months:
            solara.Info(text("app.not_started", language))
            return
        solara.HTML(unsafe_innerHTML=headline_table(explorer, language),
                    classes=["flowsim-headline"])
        if not figure_width:
            return
        # one row that wraps: a new width resizes the figures, never makes them anew (each
        # Plotly widget loads its 5 MB script in the browser when it is made)
        with solara.Row(gap=f"{GAP}px", style={"flex-wrap": "wrap"}):
            for kind, made_fig in made.items():
                fig = go.Figure(made_fig).update_layout(width=figure_width)
                with solara.Column(classes=[f"flowsim-figure-{kind}"]):
                    solara.FigurePlotly(fig, dependencies=[explorer, months, language,
                                                           figure_width])


TWO_COLUMNS = 1000
"""Width of the dashboard (CSS pixels) from which the figures stand two in a row."""
GAP = 16
"""Space between two figures in a row (CSS pixels)."""


@solara.component_vue("width.vue")
def Width(width: int, on_width: Callable[[int], None]):
    """The width of the space this is put in, as the browser lays it out (``width.vue``)."""


ARM_DASH = {"policy": "solid", "baseline": "dot"}


def arm_name(explorer: PolicyExplorer, arm: str, lang: str) -> str:
    """"your settings", or "baseline: <its title>"."""
    if arm == "policy":
        return text("app.policy", lang)
    return text("app.baseline", lang, name=explorer.baseline.title_in(lang))


def monthly_table(explorer: PolicyExplorer) -> pd.DataFrame:
    """The DataCollector's table with the month's first day ("2023-01-01") as its index."""
    table = explorer.datacollector.get_model_vars_dataframe()
    return table.set_axis([m.isoformat() for m in explorer.months], axis=0)


def live_figures(explorer: PolicyExplorer, lang: str) -> dict[str, go.Figure]:
    """The dashboard's figures after the last step: kind → Plotly figure."""
    if not explorer.months:
        return {}
    table = monthly_table(explorer)
    facilities = pd.concat([explorer.facilities(arm).assign(variant=arm_name(explorer, arm, lang))
                            for arm in explorer.counties], ignore_index=True)
    return {
        "tiers": tiers_figure(explorer, table, lang),
        "shares": shares_figure(explorer, table, lang),
        "fund": fund_figure(explorer, table, lang),
        "oop": oop_figure(explorer, table, lang),
        "map": figures.untitled(figures.facility_map(facilities, lang)).update_layout(
            title={"text": f"{text('app.map', lang)}<br><sup>{text('app.map_how', lang)}</sup>",
                   "x": 0, "xanchor": "left"}, margin={"t": 110}),
    }


def _lines(fig: go.Figure, explorer: PolicyExplorer, table: pd.DataFrame, series: dict[str, str],
           colours: dict[str, str], lang: str, hover: str, **where) -> None:
    """One line per county and series (name → its label), solid for the user's settings.

    The legend names each series once (the figure's subtitle says which line is which county);
    clicking it shows or hides the series in both counties.
    """
    for arm in explorer.counties:
        for name, label in series.items():
            fig.add_trace(go.Scatter(
                x=list(table.index), y=table[reporter(arm, name)].tolist(),
                mode="lines+markers", name=label, legendgroup=label,
                showlegend=arm == "policy",
                line={"color": colours[name], "dash": ARM_DASH[arm]},
                marker={"size": 5}, hovertemplate=f"%{{x|%Y-%m}}: %{{y:{hover}}}<extra>"
                f"{html.escape(label)}<br>{html.escape(arm_name(explorer, arm, lang))}</extra>"),
                **where)


def _finish(fig: go.Figure, title: str, lang: str, height: int = 420) -> go.Figure:
    """The dashboard's look: title and subtitle, legend below, a tick per month in a year."""
    fig.update_layout(template="plotly_white", height=height, margin={"t": 70, "b": 40},
                      title={"text": f"{title}<br><sup>{text('app.solid_dotted', lang)}</sup>",
                             "x": 0, "xanchor": "left"},
                      legend={"orientation": "h", "y": -0.15}, hovermode="closest",
                      font={"family": "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif"}
                      if lang == "zh" else {})
    months = len(fig.data[0].x) if fig.data else 0
    fig.update_xaxes(tickformat="%Y-%m", dtick="M1" if months <= 12 else None)
    return fig


def tiers_figure(explorer: PolicyExplorer, table: pd.DataFrame, lang: str) -> go.Figure:
    """Outpatient visits (top) and admissions (bottom) per day, by tier, month by month."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=(text("word.visits_per_day", lang),
                                        text("word.admissions_per_day", lang)))
    labels = {t: text(f"tier.{t}", lang) for t in TIERS}
    for row, measure in ((1, "visits_per_day"), (2, "admissions_per_day")):
        tiers = [t for t in TIERS if measure == "visits_per_day" or t != "village"]
        _lines(fig, explorer, table, {f"{measure}_{t}": labels[t] for t in tiers},
               {f"{measure}_{t}": figures.TIER_COLOURS[t] for t in tiers}, lang, ",.1f",
               row=row, col=1)
    for trace in fig.data:
        trace.showlegend = trace.showlegend and trace.xaxis == "x"  # one entry per tier
    return _finish(fig, text("app.tiers", lang), lang, height=560)


def shares_figure(explorer: PolicyExplorer, table: pd.DataFrame, lang: str) -> go.Figure:
    """Grassroots visit share and in-county fund share, month by month."""
    names = ("grassroots_visit_share", "in_county_fund_share")
    fig = go.Figure()
    _lines(fig, explorer, table, {n: figures.indicator_label(n, lang) for n in names},
           dict(zip(names, ("#2ca02c", "#1f77b4"), strict=True)), lang, ".1%")
    fig.update_yaxes(tickformat=".0%")
    return _finish(fig, text("app.shares", lang), lang)


def fund_figure(explorer: PolicyExplorer, table: pd.DataFrame, lang: str) -> go.Figure:
    """Fund spending by tier, in 万元 / 亿元 or thousand / million yuan per year."""
    columns = [reporter(arm, f"fund_{t}") for arm in explorer.counties for t in TIERS]
    divisor, unit = money_unit(float(table[columns].abs().max().max()), lang)
    scaled = table.copy()
    scaled[columns] = table[columns] / divisor
    series = {f"fund_{t}": text(f"tier.{t}", lang) for t in TIERS}
    fig = go.Figure()
    _lines(fig, explorer, scaled, series,
           {f"fund_{t}": figures.TIER_COLOURS[t] for t in TIERS}, lang, ",.1f")
    return _finish(fig, text("app.fund", lang, unit=unit), lang)


def oop_figure(explorer: PolicyExplorer, table: pd.DataFrame, lang: str) -> go.Figure:
    """Out-of-pocket per resident, month by month (annualised)."""
    fig = go.Figure()
    _lines(fig, explorer, table, {"oop_per_capita": figures.indicator_label("oop_per_capita",
                                                                            lang)},
           {"oop_per_capita": "#d62728"}, lang, ",.0f")
    return _finish(fig, text("app.oop", lang), lang)


def headline_table(explorer: PolicyExplorer, lang: str) -> str:
    """The headline indicators of the run so far, per county, and their difference (HTML)."""
    months = explorer.months
    last = explorer.counties["policy"].date
    rows = []
    compare = "baseline" in explorer.counties
    for name in HEADLINE:
        ind = indicators.INDICATORS[name]
        mine = explorer.latest("policy", name)
        cells = [html.escape(ind.label(lang)), number(mine, ind.unit, lang)]
        if compare:
            base = explorer.latest("baseline", name)
            diff = mine - base
            verdict = ind.verdict(diff)
            mark = {"better": "▲ ", "worse": "▼ "}.get(verdict, "")
            whom = text(f"whom.{ind.concerns}", lang) if verdict else ""
            said = text(f"verdict.{verdict}", lang, whom=whom) if verdict else ""
            cells += [number(base, ind.unit, lang),
                      f'<span class="flowsim-{verdict or "same"}">{mark}'
                      f'{number(diff, ind.unit, lang, sign=True)}</span>',
                      html.escape(said)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    heads = [text("word.indicator", lang), text("app.policy", lang)]
    if compare:
        heads += [arm_name(explorer, "baseline", lang), text("app.difference", lang), ""]
    n = len(explorer.counties["policy"].residents)
    caption = (text("app.month", lang, n=len(months), start=months[0].isoformat(),
                    end=(last - pd.Timedelta(days=1)).isoformat()) + " · "
               + text("app.same_seed", lang, seed=explorer.seed, n=f"{n:,}"))
    return (f'<style>{TABLE_CSS}</style><h3>{html.escape(text("app.headline", lang))}</h3>'
            f'<p class="flowsim-caption">{html.escape(caption)}</p>'
            '<div class="flowsim-scroll"><table class="flowsim-table"><thead><tr>'
            + "".join(f"<th>{html.escape(h)}</th>" for h in heads)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


TABLE_CSS = """
.flowsim-table { border-collapse: collapse; font-size: 0.9em; }
.flowsim-table td, .flowsim-table th { padding: 3px 10px; border-bottom: 1px solid #ddd; }
.flowsim-table td:nth-child(n+2) { text-align: right; white-space: nowrap; }
.flowsim-table td:last-child { text-align: left; color: #555; }
.flowsim-scroll { overflow-x: auto; }
.flowsim-better { color: #1a7f37; } .flowsim-worse { color: #b42318; }
.flowsim-caption { color: #555; font-size: 0.9em; }
"""
"""The headline table's style (the page has no stylesheet of its own)."""
