"""Command line: a thin front end over ``flowsim.api`` (typer + rich)."""

from __future__ import annotations

import socket
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
from rich.text import Text

from flowsim import experiments, indicators
from flowsim.api import run as run_scenario
from flowsim.config import (
    MAX_COUNT,
    MAX_DAYS,
    MAX_SEED,
    POPULATION,
    load_scenario,
    parse_setting,
    whole_years,
)
from flowsim.errors import InputError
from flowsim.export import check_targets, export
from flowsim.files import check_file, check_folder
from flowsim.formats import number
from flowsim.labels import text
from flowsim.preflight import check_run
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


# Markup is off: user text (scenario names, paths, error values) is printed as written.
console = Console(markup=False)
if not console.is_terminal:  # piped or captured output: keep each table row on one line
    console = Console(width=160, markup=False)
err_console = Console(stderr=True, markup=False)


def _whole(option: str, low: int, high: int, help: str) -> typer.models.OptionInfo:
    """An integer option that reads a whole number from ``low`` to ``high``.

    Anything else is one ``InputError`` line: ``--days = 'abc': a whole number from 1 to 36500``.
    """

    def parse(value: str | int) -> int:
        try:
            number = value if isinstance(value, int) else int(str(value).strip(), 10)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise InputError(None, option, value, f"a whole number from {low} to {high}")
        return number

    return typer.Option(option, parser=parse, metavar="INTEGER", help=help)


def _option_name(param: typer.CallbackParam) -> str:
    long = [o for o in param.opts if o.startswith("--")]
    return long[0] if long else (param.name or "argument").upper()


ReportFlag = Annotated[
    bool, typer.Option("--report", help="Also write report.html (interactive, Chinese and "
                       "English) into the output folder (for run without --out: here).")
]


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="PATH=VALUE", help=(
        "Set one scenario parameter, as in a scenario file (repeatable): e.g. --set "
        "benefits.resident.inpatient.rate.value.township=0.85 or --set "
        "'benefits.chronic.prescription_days.value={2023-07-01: 60}'. Checked like a file; "
        "applied to every scenario.")),
]
Population = Annotated[
    int | None,
    _whole("--population", 1, MAX_COUNT, "Residents of the synthetic county (sets "
           "county.synthetic.population.value in every scenario)."),
]


def settings_of(settings: list[str] | None, population: int | None) -> dict:
    """The command line's settings as scenario path → value (``--set``, then ``--population``)."""
    out = dict(parse_setting(s) for s in settings or [])
    if population is not None:
        out[POPULATION] = population
    return out


@app.command()
def run(
    config: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file; omit it to run the built-in default county."),
    ] = None,
    days: Annotated[
        int | None,
        _whole("--days", 1, MAX_DAYS, "Days to simulate (default: the scenario's 'days')."),
    ] = None,
    years: Annotated[
        int | None,
        _whole("--years", 1, 100, "Whole insurance years from the start date instead of --days "
               "(leap years included; every year ending in the run is settled)."),
    ] = None,
    seed: Annotated[int, _whole("--seed", 0, MAX_SEED, "Random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for daily counters and the run summary (Parquet).")
    ] = None,
    report: ReportFlag = False,
    settings: SetOption = None,
    population: Population = None,
) -> None:
    """Run one scenario, print its indicators, and optionally write the results."""
    if days is not None and years is not None:
        raise InputError(None, "--years", years, "either --days or --years, not both")
    if out is not None:
        check_folder(out, "--out")
    if report:
        check_file((out or Path(".")) / "report.html", "--report")
    changes = settings_of(settings, population)
    scenario = experiments.with_settings(load_scenario(config), changes)
    check_run(scenario)  # the county can be read and fits in memory
    n_days = whole_years(scenario.start_date, years) if years else days or scenario.days
    label = f"{scenario.name} ({scenario.file})"
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),
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
    results.meta["settings"] = changes
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


@app.command("export")
def export_command(
    results_dir: Annotated[
        Path, typer.Argument(help="Results folder of 'flowsim compare', 'flowsim experiment' or "
                             "'flowsim run --out'.")
    ],
    xlsx: Annotated[Path | None, typer.Option(help="Excel workbook to write (.xlsx).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Folder for one CSV file per sheet.")] = None,
) -> None:
    """Write spreadsheets of a results folder (Excel and/or CSV).

    Sheets: summary, paired differences, every run's indicators with zh/en labels and units,
    what each scenario changes from the baseline, the codebook, and what was run.
    """
    check_targets(xlsx, csv)
    written = export(results_dir, xlsx=xlsx, csv=csv)
    console.print("wrote " + ", ".join(str(p) for p in written))


Workers = Annotated[
    int | None,
    _whole("--workers", 1, 1024, "Worker processes (default: one per core; 1 = in this "
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
        int | None, _whole("--days", 1, MAX_DAYS, "Days (default: each scenario's 'days').")
    ] = None,
    replications: Annotated[int, _whole(
        "--replications", 1, experiments.MAX_REPLICATIONS,
        "Seeds per scenario (3 or more give 95 % intervals).")] = 3,
    seed: Annotated[int, _whole("--seed", 0, MAX_SEED, "First seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the runs and summary tables.")] = Path(
        "out/compare"),
    workers: Workers = None,
    dask: DaskAddress = None,
    report: ReportFlag = False,
    settings: SetOption = None,
    population: Population = None,
) -> None:
    """Run scenarios side by side under common random numbers; differences from the first."""
    plan = experiments.compare_plan(configs, days=days, replications=replications,
                                    first_seed=seed, out=out,
                                    settings=settings_of(settings, population))
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
    replications: Annotated[int | None, _whole(
        "--replications", 1, experiments.MAX_REPLICATIONS,
        "Seeds per variant (default: the file's 'replications').")] = None,
    days: Annotated[int | None, _whole(
        "--days", 1, MAX_DAYS, "Days (default: the file's 'days', else each scenario's).")] = None,
    settings: SetOption = None,
    population: Population = None,
) -> None:
    """Run an experiment file: scenarios × sweep × counties × replications, with 95 % intervals.

    Finished runs are kept in OUT/runs; running the same experiment again skips them.
    """
    plan = experiments.load_experiment(file, out=out, replications=replications, days=days,
                                       settings=settings_of(settings, population))
    _execute(plan, workers, dask, report)


def _execute(plan: experiments.Plan, workers: int | None, dask: str | None,
             report: bool) -> None:
    if report:
        check_file(plan.out / "report.html", "--report")
    experiments.check_workers(plan, workers, dask)
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),
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
                  + " (.parquet), experiment.json, codebook.csv and runs/")
    if report:
        console.print(f"wrote {write_report(plan.out, plan.out / 'report.html')}")


MAX_SHOWN_VARIANTS = 12
"""Most variants printed for a design (a sensitivity design has many; its indices are printed)."""


def experiment_tables(results: experiments.ExperimentResults) -> list[Table | Text]:
    """Tables of an experiment: mean [95 % interval] and paired Δ, and sensitivity indices.

    Every indicator the experiment file asks for is printed; without such a list, the headline
    indicators, and a last line says how many more are saved and how to see them.
    """
    meta = results.meta
    asked = list(meta["indicators"])
    default = set(asked) == set(indicators.INDICATORS)
    kept = [n for n in indicators.HEADLINE if n in asked] if default else asked
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
    else:  # variants down, four indicators across per table
        shown_variants = variants[:MAX_SHOWN_VARIANTS]
        for i in range(0, len(kept), 4):
            table = Table(title=title, title_justify="left")
            table.add_column("variant")
            for name in kept[i:i + 4]:
                ind = indicators.INDICATORS[name]
                table.add_column(f"{ind.label_en}\n{ind.label_zh}", justify="right")
            for v in shown_variants:
                table.add_row(v, *(cell(v, name) for name in kept[i:i + 4]))
            tables.append(table)
        if len(variants) > len(shown_variants):
            tables.append(Text(f"{len(variants) - len(shown_variants)} more variants are not "
                               f"printed: see {results.path}/summary.parquet, or flowsim "
                               f"export {results.path} --xlsx FILE"))
    if default:
        more = len(asked) - len(kept)
        tables.append(Text(f"{more} more indicators are saved, not printed: see them with "
                           f"flowsim export {results.path} --xlsx FILE, or in the report; "
                           "name them under 'indicators:' in an experiment file to print them"))
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

    check_file(out, "--out")
    scenario = load_scenario(config)
    spec = calibration.load_targets(targets)
    check_run(calibration.fitting_scenario(spec, scenario))
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
    status = Text("converged") if fit.converged else Text("did not converge", style="bold red")
    console.print(status + Text(f": {fit.message}; {fit.iterations} iterations, "
                                f"{fit.evaluations} evaluations ({fit.simulations} runs), "
                                f"{fit.seconds:.0f} s"))
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
        unit = t.unit(name)
        achieved = fit.achieved[name]
        lo, hi = achieved.interval()
        table.add_row(
            t.label(name, "en"), t.label(name, "zh"),
            f"{number(t.value, unit)} ± {number(t.band, unit)}",
            number(fit.start_achieved[name].mean, unit), number(achieved.mean, unit),
            f"[{number(lo, unit)}, {number(hi, unit)}]",
            f"{fit.error(name):+.2f}",
            (Text("within") if fit.within(name) else Text("outside", style="bold red"))
            if t.fit else Text("reported"),
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


@app.command("app")
def app_command(
    config: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file for the baseline; omit it for the built-in "
                       "default county."),
    ] = None,
    population: Annotated[
        int | None,
        _whole("--population", 1, MAX_COUNT, "Residents of the synthetic county (default "
               "50,000)."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language the page opens in: zh or en (a switch "
                                      "in the page changes it).")] = "zh",
    port: Annotated[int, _whole("--port", 1, 65535, "Port to serve the page on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this computer "
                                      "only; 0.0.0.0: every network it is on).")] = "127.0.0.1",
    out: Annotated[Path, typer.Option(help="Folder that 'Save as scenario' writes to.")] = Path(
        "."),
) -> None:
    """Open the live policy explorer: move the levers, watch the county month by month.

    Serves a page (Mesa's SolaraViz) until Ctrl+C; it needs no internet connection.
    """
    if lang not in ("zh", "en"):
        raise InputError(None, "--lang", lang, "zh or en")
    check_folder(out, "--out")
    check_port(host, port)
    from flowsim.explorer import app_baseline

    baseline = app_baseline(config, population)
    residents = check_run(baseline)
    from flowsim.app import serve

    address = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
    console.print(f"flowsim app: {baseline.name}, {residents:,} residents, at {address} "
                  "(Ctrl+C stops it)")
    serve(config, population, lang, out, host=host, port=port)


def check_port(host: str, port: int) -> None:
    """Raise an InputError unless this process may listen on ``host``:``port`` now."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError):
        raise InputError(None, "--host", host, "an address of this computer, e.g. "
                         "127.0.0.1 or 0.0.0.0") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise InputError(None, "--port", port, f"a port free on {host} ({err.strerror})"
                             ) from None


def main(args: list[str] | None = None) -> None:
    """Entry point: bad input prints one line and exits with 2, never a traceback.

    Args:
        args: the command line without the program name (default: ``sys.argv[1:]``).
    """
    try:
        code = app(args=args, prog_name="flowsim", standalone_mode=False)
    except InputError as err:
        _fail(str(err))
    except _UsageError as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # bare 'flowsim': the help, as usual
            err.show()
            sys.exit(err.exit_code)
        _fail(_usage_line(err))
    except (KeyboardInterrupt, typer.Abort):
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> None:
    """Print ``error: message`` as one line, exactly as written, and exit with status 2."""
    err_console.print(Text("error:", style="bold red") + Text(" " + message), highlight=False,
                      soft_wrap=True)
    sys.exit(2)


_UsageError = typer.BadParameter.__bases__[0]
"""Click's UsageError (typer vendors click; ``typer.BadParameter`` is its public subclass)."""


def _usage_line(err: Exception) -> str:
    """Click's usage errors (unknown option, missing argument) as one error line."""
    ctx = getattr(err, "ctx", None)
    command = ctx.command_path if ctx else "flowsim"
    if hasattr(err, "option_name"):  # no such option
        guess = f" (did you mean {', '.join(err.possibilities)}?)" if err.possibilities else ""
        return (f"{command}: {err.option_name} = (unknown option): an option of '{command}'"
                f"{guess}; see '{command} --help'")
    if type(err).__name__ == "MissingParameter" and err.param is not None:
        return (f"{command}: {_option_name(err.param)} = (missing): a value (required); see "
                f"'{command} --help'")
    message = " ".join(err.format_message().split()).rstrip(".")
    return f"{command}: {message}; see '{command} --help'"
