"""Command line: a thin front end over ``flowsim.api`` (typer + rich)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from flowsim import experiments, indicators
from flowsim.api import run as run_scenario
from flowsim.config import load_scenario, whole_years
from flowsim.errors import InputError
from flowsim.formats import number
from flowsim.labels import text
from flowsim.report import write_report
from flowsim.results import Results

app = typer.Typer(
    help="flowsim: patient flow in a Chinese county under medical-insurance rules (分级诊疗).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """flowsim: patient flow in a Chinese county under medical-insurance rules (分级诊疗)."""


console = Console()
if not console.is_terminal:  # piped or captured output: keep each table row on one line
    console = Console(width=160)
err_console = Console(stderr=True)


ReportFlag = Annotated[
    bool, typer.Option("--report", help="Also write report.html (interactive, Chinese and "
                       "English) into the output folder (for run without --out: here).")
]


@app.command()
def run(
    config: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file; omit it to run the built-in default county."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(min=1, max=36500, help="Days to simulate (default: the scenario's 'days')."),
    ] = None,
    years: Annotated[
        int | None,
        typer.Option(min=1, max=100, help="Whole insurance years from the start date instead of "
                     "--days (leap years included; every year ending in the run is settled)."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for daily counters and the run summary (Parquet).")
    ] = None,
    report: ReportFlag = False,
) -> None:
    """Run one scenario, print its indicators, and optionally write the results."""
    if days is not None and years is not None:
        raise InputError(None, "--years", years, "either --days or --years, not both")
    scenario = load_scenario(config)
    n_days = whole_years(scenario.start_date, years) if years else days or scenario.days
    label = f"{scenario.name} ({scenario.file})"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"simulating {scenario.name}", total=n_days)
        results = run_scenario(
            scenario, days=n_days, seed=seed, on_day=lambda d: progress.update(task, completed=d)
        )
    console.print(indicator_table(results, title=f"{label}, seed {seed}, {n_days} days"))
    for table in settlement_tables(results):
        console.print(table)
    if (decided := decision_table(results)) is not None:
        console.print(decided)
    if results.settlements.empty and results.dip_settlements.empty and (
            results.capitation_settlements.empty):
        console.print("no year-end settlement in this run (no 医共体 budget, DIP or capitation, "
                      "or no insurance year closed)")
    if out is not None:
        written = results.save(out)
        console.print(
            f"wrote {len(written)} files to {out}/: " + ", ".join(p.name for p in written)
        )
    if report:
        console.print(f"wrote {write_report(results, (out or Path('.')) / 'report.html')}")


@app.command("report")
def report_command(
    results_dir: Annotated[
        Path, typer.Argument(help="Results folder of 'flowsim run --out', 'flowsim compare' or "
                             "'flowsim experiment'.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"),
    lang: Annotated[
        str, typer.Option(help="Language: both (a switch in the page, Chinese first), zh or en.")
    ] = "both",
) -> None:
    """Write an interactive, self-contained HTML report (Plotly) of a run or an experiment."""
    console.print(f"wrote {write_report(results_dir, output, lang=lang)}")


Workers = Annotated[
    int | None,
    typer.Option(min=1, max=1024, help="Worker processes (default: one per core; 1 = in this "
                 "process, one run after another)."),
]
DaskAddress = Annotated[
    str | None,
    typer.Option("--dask", help="Run on a Dask cluster: a scheduler address "
                 "(tcp://host:8786), or 'local' for a LocalCluster on this machine."),
]


@app.command()
def compare(
    configs: Annotated[
        list[Path], typer.Argument(help="Scenario files; the first is the baseline.")
    ],
    days: Annotated[
        int | None, typer.Option(min=1, max=36500, help="Days (default: each scenario's 'days').")
    ] = None,
    replications: Annotated[int, typer.Option(min=1, max=10000, help="Seeds per scenario.")] = 1,
    seed: Annotated[int, typer.Option(min=0, help="First seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the runs and summary tables.")] = Path(
        "out/compare"),
    workers: Workers = None,
    dask: DaskAddress = None,
    report: ReportFlag = False,
) -> None:
    """Run scenarios side by side under common random numbers; differences from the first."""
    plan = experiments.compare_plan(configs, days=days, replications=replications,
                                    first_seed=seed, out=out)
    _execute(plan, workers, dask, report)


@app.command()
def experiment(
    file: Annotated[Path, typer.Argument(help="Experiment file (YAML), e.g. experiments/*.yaml.")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: the file's 'out', or out/NAME).")
    ] = None,
    workers: Workers = None,
    dask: DaskAddress = None,
    report: ReportFlag = False,
) -> None:
    """Run an experiment file: scenarios × sweep × counties × replications, with 95 % intervals.

    Finished runs are kept in OUT/runs; running the same experiment again skips them.
    """
    _execute(experiments.load_experiment(file, out=out), workers, dask, report)


def _execute(plan: experiments.Plan, workers: int | None, dask: str | None,
             report: bool) -> None:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
    ) as progress:
        task = progress.add_task(f"{plan.name}", total=len(plan.runs))

        def started(done: int, todo: int) -> None:
            progress.update(task, completed=done)
            if done:
                progress.console.print(f"{done} of {len(plan.runs)} runs already done in "
                                       f"{plan.out}/runs: skipping them")

        with experiments.executor(workers, dask) as pool:
            results = experiments.execute(plan, pool, on_start=started,
                                          on_run=lambda _: progress.advance(task))
    for table in experiment_tables(results):
        console.print(table)
    console.print(f"wrote {plan.out}/: " + ", ".join(experiments.SUMMARIES)
                  + (", sensitivity" if results.sensitivity is not None else "")
                  + " (.parquet), experiment.json and runs/")
    if report:
        console.print(f"wrote {write_report(plan.out, plan.out / 'report.html')}")


def experiment_tables(results: experiments.ExperimentResults) -> list[Table]:
    """Tables of an experiment: mean [95 % interval] and paired Δ, and sensitivity indices."""
    meta = results.meta
    kept = [n for n in indicators.HEADLINE if n in meta["indicators"]] or meta["indicators"]
    county = experiments.PROVINCE if len(meta["counties"]) > 1 else meta["counties"][0]
    s = results.summary[(results.summary.county == county) & results.summary.indicator.isin(kept)]
    d = results.differences[results.differences.county == county]
    n = len(meta["seeds"])
    where = f"{county}, {n} replication{'s' if n > 1 else ''}, mean [95 % interval]"
    tables = []
    variants = [v["variant"] for v in meta["variants"]]
    title = f"{meta['name']}: {where}; Δ = paired difference from {meta['baseline']}"

    def cell(variant: str, name: str) -> str:
        unit = indicators.INDICATORS[name].unit
        mean = s[(s.variant == variant) & (s.indicator == name)]
        if mean.empty:
            return "n/a"
        r = mean.iloc[0]
        shown = number(r["mean"], unit, interval=(r.ci_low, r.ci_high))
        diff = d[(d.variant == variant) & (d.indicator == name)]
        if not diff.empty:
            r = diff.iloc[0]
            shown += "\nΔ " + number(r.diff_mean, unit, interval=(r.diff_ci_low, r.diff_ci_high),
                                     sign=True)
        return shown

    if len(variants) <= 6:  # indicators down, variants across
        table = Table(title=title, title_justify="left")
        table.add_column(text("word.indicator", "en"))
        table.add_column(text("word.indicator", "zh"))
        for v in variants:
            table.add_column(v, justify="right")
        for name in kept:
            ind = indicators.INDICATORS[name]
            table.add_row(ind.label_en, ind.label_zh, *(cell(v, name) for v in variants))
        tables.append(table)
    else:  # variants down, four indicators across per table (only the first four for designs)
        chunks = [kept[i:i + 4] for i in range(0, len(kept), 4)]
        for shown in chunks[:1] if meta.get("sensitivity") or meta.get("axes") else chunks:
            table = Table(title=title, title_justify="left")
            table.add_column("variant")
            for name in shown:
                ind = indicators.INDICATORS[name]
                table.add_column(f"{ind.label_en}\n{ind.label_zh}", justify="right")
            for v in variants:
                table.add_row(v, *(cell(v, name) for name in shown))
            tables.append(table)
    if results.sensitivity is not None and not results.sensitivity.empty:
        sens = results.sensitivity[(results.sensitivity.county == county)
                                   & results.sensitivity.indicator.isin(kept)]
        morris = sens.method.iloc[0] == "morris"
        main, conf = ("mu_star", "mu_star_conf") if morris else ("ST", "ST_conf")
        table = Table(title=f"sensitivity ({sens.method.iloc[0]}): {main} ± 95 % "
                      "half-width per parameter", title_justify="left")
        table.add_column(text("word.indicator", "en"))
        params = list(dict.fromkeys(sens.parameter))
        for p in params:
            table.add_column(p, justify="right")
        for name in kept:
            rows = sens[sens.indicator == name].set_index("parameter")
            if rows.empty:
                continue
            table.add_row(indicators.INDICATORS[name].label_en,
                          *(f"{rows.at[p, main]:.3g} ± {rows.at[p, conf]:.2g}" for p in params))
        tables.append(table)
    return tables


@app.command()
def calibrate(
    config: Annotated[Path, typer.Argument(help="Scenario YAML file whose parameters are fitted.")],
    targets: Annotated[
        Path, typer.Option(help="Targets file (YAML), e.g. configs/targets/national.yaml.")
    ],
    out: Annotated[
        Path, typer.Option(help="Calibrated scenario to write (extends CONFIG).")
    ] = Path("calibrated.yaml"),
) -> None:
    """Fit the targets file's free parameters to its target indicators (scipy least squares).

    Every evaluation runs the same seeds (common random numbers). Prints target vs achieved with
    95 % intervals across the seeds, and writes a scenario that extends CONFIG with the fitted
    values and their provenance.
    """
    from flowsim import calibrate as calibration  # scipy is only needed here

    scenario = load_scenario(config)
    spec = calibration.load_targets(targets)
    runs = spec.runs
    err_console.print(
        f"fitting {len(spec.parameters)} parameters of {config} to {len(spec.fitted)} targets "
        f"of {targets}: {len(runs.seeds)} seeds × {runs.days} days per evaluation")

    def progress(n: int, x, errors) -> None:
        shown = ", ".join(f"{v:.4g}" for v in x)
        err_console.print(f"  evaluation {n:>3}: x = [{shown}]  "
                          f"largest error {max(abs(errors)):.2f} tolerances", highlight=False)

    fit = calibration.calibrate(scenario, spec, on_evaluation=progress)
    console.print(calibration_tables(fit))
    status = "converged" if fit.converged else "[bold red]did not converge[/]"
    console.print(f"{status}: {fit.message}; {fit.iterations} iterations, {fit.evaluations} "
                  f"evaluations ({fit.simulations} runs), {fit.seconds:.0f} s")
    written = calibration.write_calibrated(fit, out)
    console.print(f"wrote {written}")
    if not fit.converged:
        raise typer.Exit(1)


def calibration_tables(fit) -> Table:
    """Fitted parameters and target vs achieved (95 % intervals across seeds) of a calibration."""
    params = Table(title="free parameters", title_justify="left")
    for col in ("parameter", "bounds", "start", "fitted"):
        params.add_column(col, justify="left" if col == "parameter" else "right")
    for p, a, b in zip(fit.spec.parameters, fit.x0, fit.x, strict=True):
        params.add_row(p.path + (" (× scale)" if p.scale else ""),
                       f"[{p.bounds[0]:g}, {p.bounds[1]:g}]", f"{a:.4g}", f"{b:.4g}")
    table = Table(title=f"target vs achieved ({fit.spec.file}, mean and 95 % interval over "
                  f"{len(fit.spec.runs.seeds)} seeds)", title_justify="left")
    labels = (text("word.indicator", "en"), text("word.indicator", "zh"))
    for col in (*labels, "target", "start", "achieved", "95 % interval", "error / tol.", "fit"):
        table.add_column(col, justify="left" if col in (*labels, "fit") else "right")
    for name, t in fit.spec.targets.items():
        ind = indicators.INDICATORS[name]
        achieved = fit.achieved[name]
        lo, hi = achieved.interval()
        table.add_row(
            ind.label_en, ind.label_zh,
            f"{number(t.value, ind.unit)} ± {number(t.band, ind.unit)}",
            number(fit.start_achieved[name].mean, ind.unit), number(achieved.mean, ind.unit),
            f"[{number(lo, ind.unit)}, {number(hi, ind.unit)}]",
            f"{fit.error(name):+.2f}",
            ("within" if fit.within(name) else "[bold red]outside[/]") if t.fit else "reported",
        )
    grid = Table.grid()
    grid.add_row(params)
    grid.add_row(table)
    return grid


def indicator_table(results: Results, *, title: str) -> Table:
    """The headline indicators as a rich table (Chinese and English labels, unit)."""
    table = Table(title=title, title_justify="left")
    for col, justify in (
        (text("word.indicator", "en"), "left"),
        (text("word.indicator", "zh"), "left"),
        ("value", "right"),
        ("unit", "left"),
    ):
        table.add_column(col, justify=justify)
    for name in indicators.HEADLINE:
        ind = indicators.INDICATORS[name]
        table.add_row(ind.label_en, ind.label_zh, number(results.indicator(name), ind.unit),
                      ind.unit)
    return table


SETTLEMENTS = {
    "settlements": ("医共体 year-end settlement (million yuan)",
                    ("year", "days", "budget", "spent", "surplus", "overrun", "fund_extra",
                     "community_kept", "community_bears", "reinvested", "score")),
    "dip_settlements": ("DIP year-end point value (区域点数法; points and yuan in millions, "
                        "point value in yuan)",
                        ("year", "days", "budget", "points", "paid_at_provisional",
                         "final_point_value", "adjustment")),
    "capitation_settlements": ("outpatient capitation year-end settlement (million yuan)",
                               ("year", "tier", "facilities", "budget", "cost_of_services",
                                "facility_kept", "returned_to_fund")),
}
_AS_IS = ("year", "days", "tier", "facilities", "final_point_value", "score")


def settlement_tables(results: Results) -> list[Table]:
    """The year-end settlements of the run as rich tables (money in million yuan)."""
    tables = []
    for name, (title, columns) in SETTLEMENTS.items():
        frame = getattr(results, name)
        if frame.empty:
            continue
        table = Table(title=title, title_justify="left")
        for col in columns:
            table.add_column(col, justify="right")
        for row in frame.itertuples(index=False):
            table.add_row(*(f"{getattr(row, c):.2f}" if c in ("final_point_value", "score")
                            else str(getattr(row, c)) if c in _AS_IS
                            else f"{getattr(row, c) / 1e6:,.2f}" for c in columns))
        tables.append(table)
    return tables


DECISIONS = ("position", "clawback", "stay_factor", "keep_share", "send_out_share", "avoid_share",
             "township_refer_up_above")


def decision_table(results: Results) -> Table | None:
    """The lead hospital's decisions by insurance year (means of its monthly decisions)."""
    d = results.decisions
    if d.empty or not (d.clawback > 0).any():
        return None
    when = pd.to_datetime(d.date)
    d = d[when < pd.Timestamp(results.start_date) + pd.Timedelta(days=results.days)]
    by_year = d.groupby(when.dt.year)[list(DECISIONS)].mean()
    table = Table(title="lead hospital's decisions by year (mean of the monthly decisions: "
                  "projected spending / budget, expected claw-back per fund yuan, stay factor, "
                  "shares kept / sent out / treated as outpatients, township refer-up threshold)",
                  title_justify="left")
    for col in ("year", *DECISIONS):
        table.add_column(col, justify="right")
    for year, row in by_year.iterrows():
        table.add_row(str(year), *(f"{row[c]:.3f}" for c in DECISIONS))
    return table


def main() -> None:
    """Entry point: bad input prints one line and exits with 2, never a traceback."""
    try:
        app()
    except InputError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
