"""Command line: a thin front end over ``flowsim.api`` (typer + rich)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flowsim import indicators
from flowsim.api import run as run_scenario
from flowsim.config import load_scenario
from flowsim.errors import InputError
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
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for daily counters and the run summary (Parquet).")
    ] = None,
) -> None:
    """Run one scenario, print its indicators, and optionally write the results."""
    scenario = load_scenario(config)
    n_days = days or scenario.days
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
    if results.settlements.empty and results.dip_settlements.empty and (
            results.capitation_settlements.empty):
        console.print("no year-end settlement in this run (no 医共体 budget, DIP or capitation, "
                      "or no insurance year closed)")
    if out is not None:
        written = results.save(out)
        console.print(
            f"wrote {len(written)} files to {out}/: " + ", ".join(p.name for p in written)
        )


def indicator_table(results: Results, *, title: str) -> Table:
    """The headline indicators as a rich table (Chinese and English labels, unit)."""
    table = Table(title=title, title_justify="left")
    for col, justify in (
        ("indicator", "left"),
        ("指标", "left"),
        ("value", "right"),
        ("unit", "left"),
    ):
        table.add_column(col, justify=justify)
    for name in indicators.HEADLINE:
        ind = indicators.INDICATORS[name]
        table.add_row(ind.label_en, ind.label_zh, _fmt(results.indicator(name), ind.unit), ind.unit)
    return table


SETTLEMENTS = {
    "settlements": ("医共体 year-end settlement (million yuan)",
                    ("year", "days", "budget", "spent", "surplus", "overrun", "fund_extra",
                     "community_kept", "community_bears", "reinvested")),
    "dip_settlements": ("DIP year-end point value (区域点数法; points and yuan in millions, "
                        "point value in yuan)",
                        ("year", "days", "budget", "points", "paid_at_provisional",
                         "final_point_value", "adjustment")),
    "capitation_settlements": ("outpatient capitation year-end settlement (million yuan)",
                               ("year", "tier", "facilities", "budget", "cost_of_services",
                                "facility_kept", "returned_to_fund")),
}
_AS_IS = ("year", "days", "tier", "facilities", "final_point_value")


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
            table.add_row(*(f"{getattr(row, c):.2f}" if c == "final_point_value"
                            else str(getattr(row, c)) if c in _AS_IS
                            else f"{getattr(row, c) / 1e6:,.2f}" for c in columns))
        tables.append(table)
    return tables


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "fraction" or unit.startswith("fraction"):
        return f"{100 * value:.1f} %"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


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
