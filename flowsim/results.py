"""Results of one run as tidy pandas tables, saved as Parquet.

- ``daily``: long table, one row per (date, measure, service, tier, to_tier, scheme, quintile).
- ``indicators``: the run summary, one row per indicator with labels, unit and formula.
- ``facilities``: each facility with its totals over the run.
- ``years``: insurance-year outcomes (catastrophic expenditure, out-of-pocket).
- ``settlements``: the county medical community's year-end budget settlements (医共体).
- ``dip_settlements``: the year-end DIP point-value settlements (区域点数法).
- ``capitation_settlements``: year-end outpatient capitation settlements by tier (按人头付费).
- ``decisions``: the lead hospital's monthly decisions and its view of the budget year
  (``flowsim.providers``).

Indicators for any period (a month, a year) are computed from the daily table with
``Results.indicators_for(start, end)``, so the summary and time series share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from flowsim import indicators
from flowsim.community import CAPITATION_COLUMNS, DIP_COLUMNS, SETTLEMENT_COLUMNS
from flowsim.counters import AXES, COUNTERS
from flowsim.domain import N_QUINTILES, TIERS, Payer, Tier
from flowsim.errors import InputError
from flowsim.files import read_unit, write_unit
from flowsim.model import RunRecord

FILES = ("daily", "indicators", "facilities", "years", "settlements", "dip_settlements",
         "capitation_settlements", "decisions")
"""Tables written by ``Results.save`` as ``<name>.parquet``."""
OPTIONAL = ("decisions",)
"""Tables a results folder written before they existed may lack (read as empty)."""
_COLUMN = {"payer": "measure", "direction": "measure", "route": "measure"}
"""Axes shown in the ``measure`` column of the daily table (the other axes keep their name)."""
_PREFIX = {axis: {"direction": "referrals_", "route": "stays_"}.get(axis, "") for axis in AXES}
"""Prefix of an axis's labels in the ``measure`` column (``referrals_up``, ``stays_new``)."""
_LAYOUT = {
    name: [(_COLUMN.get(axis, axis), _PREFIX[axis] and tuple(
        f"{_PREFIX[axis]}{label}" for label in AXES[axis]) or AXES[axis]) for axis in axes]
    for name, (axes, _, _) in COUNTERS.items()
}
"""Counter → [(column, labels) per axis after the day axis] of the tidy daily table."""
_MEASURE = {"oop_by_quintile": "oop", "money": None, "referrals": None, "stays_by_route": None}
DIMENSIONS = ("service", "tier", "to_tier", "scheme", "quintile")


@dataclass
class Results:
    """One run: tidy tables plus what is needed to recompute indicators for any period."""

    scenario: str
    seed: int
    start_date: date
    days: int
    daily: pd.DataFrame
    indicators: pd.DataFrame
    facilities: pd.DataFrame
    years: pd.DataFrame
    settlements: pd.DataFrame
    dip_settlements: pd.DataFrame
    capitation_settlements: pd.DataFrame
    decisions: pd.DataFrame
    meta: dict

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def from_record(cls, record: RunRecord, *, daily: bool = True) -> Results:
        """Collect a run's record (``CountyModel.record()``) into tables.

        ``daily=False`` leaves out the daily table and the indicators (``whole_run_window``).
        """
        days = record.days
        dates = pd.date_range(record.start_date, periods=days, freq="D")
        table = pd.DataFrame()
        if daily:
            table = pd.concat([_tidy(name, record.counts[name], dates) for name in _LAYOUT],
                              ignore_index=True)
            for col in ("measure", *DIMENSIONS):
                table[col] = table[col].astype("category")
        years = pd.DataFrame(record.years)
        years["partial"] = years.get("partial", False).fillna(False).astype(bool)
        for q in range(N_QUINTILES):
            years[f"catastrophic_q{q + 1}"] = years.catastrophic_by_quintile.map(
                lambda a, q=q: a[q]
            )
            years[f"residents_q{q + 1}"] = years.residents_by_quintile.map(lambda a, q=q: a[q])
        years = years.drop(columns=["catastrophic_by_quintile", "residents_by_quintile"])
        years = years[years.days > 0].reset_index(drop=True)
        scenario = record.scenario
        meta = {
            "scenario": scenario.name,
            "scenario_file": str(scenario.file) if scenario.file else None,
            "seed": record.seed,
            "start_date": record.start_date.isoformat(),
            "days": days,
            "residents": record.residents,
            "residents_by_quintile": record.residents_by_quintile,
            "members_by_scheme": record.members_by_scheme,
            "beds_by_tier": record.beds_by_tier,
            "cost_to_charge": scenario.providers.cost_to_charge.on(record.start_date).tolist(),
            "policy_changes": [
                d.isoformat()
                for d in scenario.change_dates()
                if d < record.start_date + pd.Timedelta(days=days)
            ],
            "scenario_yaml": scenario.to_yaml(),
        }
        settlements = pd.DataFrame(record.settlements, columns=list(SETTLEMENT_COLUMNS))
        settlements = settlements.astype(float).astype({"year": int, "days": int})
        res = cls(
            scenario.name,
            record.seed,
            record.start_date,
            days,
            table,
            pd.DataFrame(),
            record.facilities,
            years,
            settlements,
            pd.DataFrame(record.dip_settlements, columns=list(DIP_COLUMNS)).astype(
                {"year": int, "days": int}),
            pd.DataFrame(record.capitation_settlements, columns=list(CAPITATION_COLUMNS)).astype(
                {"year": int, "facilities": int}),
            pd.DataFrame(record.decisions),
            meta,
        )
        if daily:
            res.indicators = res.indicators_for()
        return res

    # -- indicators ------------------------------------------------------------------------------

    def window(self, start: date | None = None, end: date | None = None) -> indicators.Window:
        """Counters summed over [start, end) (default: the whole run)."""
        d = self.daily
        when = d.date
        mask = np.ones(len(d), bool)
        if start is not None:
            mask &= when >= pd.Timestamp(start)
        if end is not None:
            mask &= when < pd.Timestamp(end)
        d = d[mask]
        n_days = d.date.nunique()
        if n_days == 0:
            raise ValueError(f"no simulated day between {start} and {end}")
        bills = d[d.measure == "bill"]
        by_year = bills.groupby(bills.date.dt.year, observed=True).value.sum()
        day_counts = d.groupby(d.date.dt.year).date.nunique()
        by_tier = bills.groupby("tier", observed=True).value.sum()
        return self._window(
            counts={name: self._sum(d, name) for name in _LAYOUT},
            cost_by_year=tuple((int(yr), int(day_counts[yr]), float(by_year.get(yr, 0.0)))
                               for yr in day_counts.index),
            bill_by_tier=np.array([float(by_tier.get(t, 0.0)) for t in TIERS]))

    def _window(self, *, counts: dict, cost_by_year: tuple,
                bill_by_tier: np.ndarray) -> indicators.Window:
        """The window of ``counts`` summed over days, with what the years and settlements add.

        ``cost_by_year``: (year, days observed, bills yuan) of the window's insurance years, whose
        outcomes and settlements count.
        """
        first, last = cost_by_year[0][0], cost_by_year[-1][0]
        y = self.years  # insurance years overlapping the window
        y = y[(y.year >= first) & (y.year <= last)]

        def settled(table: pd.DataFrame, column: str) -> float:
            return float(table.loc[table.year.between(first, last), column].sum())

        return indicators.Window(
            days=sum(days for _, days, _ in cost_by_year),
            residents=self.meta["residents"],
            counts=counts,
            beds=np.asarray(self.meta["beds_by_tier"], float),
            residents_by_quintile=np.asarray(self.meta["residents_by_quintile"], float),
            catastrophic=y[[f"catastrophic_q{q}" for q in range(1, 6)]].sum().to_numpy(float),
            resident_years=y[[f"residents_q{q}" for q in range(1, 6)]].sum().to_numpy(float),
            settlement_fund_extra=settled(self.settlements, "fund_extra")
            + settled(self.dip_settlements, "adjustment")
            - settled(self.capitation_settlements, "returned_to_fund"),
            settlement_by_tier=self._settled_by_tier(first, last),
            care_cost_by_tier=bill_by_tier * np.asarray(
                self.meta.get("cost_to_charge", [np.nan] * len(TIERS)), float),
            community_fund_extra=settled(self.settlements, "fund_extra"),
            scores=settled(self.settlements, "score"),
            scored_years=float(self.settlements.year.between(first, last).sum()),
            cost_by_year=cost_by_year,
        )

    def indicators_for(self, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Indicator table (name, labels, unit, value, formula) for [start, end)."""
        values = indicators.compute(self.window(start, end))
        rows = [
            {
                "scenario": self.scenario,
                "seed": self.seed,
                "indicator": name,
                "label_en": ind.label_en,
                "label_zh": ind.label_zh,
                "unit": ind.unit,
                "value": values[name],
                "formula": ind.formula,
            }
            for name, ind in indicators.INDICATORS.items()
        ]
        return pd.DataFrame(rows)

    def monthly(self, names: list[str] | None = None) -> pd.DataFrame:
        """Indicators (default: all) by calendar month: columns month, indicator, value (tidy)."""
        months = pd.period_range(self.start_date, periods=self.days, freq="D").to_timestamp()
        frames = []
        for m in sorted({d.to_period("M") for d in months}):
            table = self.indicators_for(m.start_time.date(), (m + 1).start_time.date())
            table.insert(0, "month", m.start_time)
            if names is not None:
                table = table[table.indicator.isin(names)]
            frames.append(table[["month", "indicator", "value"]])
        return pd.concat(frames, ignore_index=True)

    def indicator(self, name: str) -> float:
        """Value of one indicator over the whole run."""
        hit = self.indicators.loc[self.indicators.indicator == name, "value"]
        if hit.empty:
            raise KeyError(f"unknown indicator {name!r}; known: {', '.join(indicators.INDICATORS)}")
        return float(hit.iloc[0])

    def _settled_by_tier(self, first: int, last: int) -> np.ndarray:
        """[tier] year-end settlement money paid (+) to or recovered (−) from each tier, yuan.

        Settlements of the insurance years ``first`` to ``last``: the 医共体 settlement goes to
        the county tier (the lead hospital), DIP adjustments to the tiers that earned the points,
        capitation returned to the fund from its tier.
        """
        out = np.zeros(len(TIERS))
        community = self.settlements[self.settlements.year.between(first, last)]
        out[Tier.COUNTY] += community.fund_extra.sum()
        dip = self.dip_settlements[self.dip_settlements.year.between(first, last)]
        for t, name in enumerate(TIERS):
            if f"adjustment_{name}" in dip:
                out[t] += dip[f"adjustment_{name}"].sum()
        cap = self.capitation_settlements
        for name, amount in cap[cap.year.between(first, last)].groupby(
                "tier").returned_to_fund.sum().items():
            out[TIERS.index(name)] -= amount
        return out

    @staticmethod
    def _sum(d: pd.DataFrame, name: str) -> np.ndarray:
        layout = _LAYOUT[name]
        shape = tuple(len(labels) for _, labels in layout)
        out = np.zeros(shape)
        rows = d[d.counter == name]
        sums = rows.groupby([c for c, _ in layout], observed=True).value.sum()
        for key, value in sums.items():
            key = key if isinstance(key, tuple) else (key,)
            out[tuple(labels.index(k) for (_, labels), k in zip(layout, key, strict=True))] = value
        return out

    # -- files -----------------------------------------------------------------------------------

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write the tables as Parquet plus ``scenario.yaml`` and ``run.json`` into ``out_dir``.

        The files are written as one unit (``flowsim.files.write_unit``): a killed save leaves
        the folder's previous results or the new ones, never a mix, and ``run.json`` records
        each file's checksum. Nothing else in the folder is touched.
        """
        meta = {k: v for k, v in self.meta.items() if k != "scenario_yaml"}
        files = {f"{name}.parquet": partial(getattr(self, name).to_parquet, index=False)
                 for name in FILES}
        files["scenario.yaml"] = lambda p: p.write_text(self.meta["scenario_yaml"], "utf-8")
        files[indicators.CODEBOOK] = write_codebook
        return write_unit(out_dir, files, "run.json", meta)

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """Read a folder written by ``save``; a partial, mixed or damaged one is refused."""
        out = Path(out_dir)
        what = "a results folder written by 'flowsim run --out'"
        meta = read_unit(out, "run.json", what)
        names = [f"{n}.parquet" for n in FILES if n not in OPTIONAL]
        missing = [n for n in (*names, "scenario.yaml") if not (out / n).is_file()]
        if missing:
            raise InputError(out, "files", ", ".join(missing) + " missing", what)
        try:
            meta["scenario_yaml"] = (out / "scenario.yaml").read_text("utf-8")
            tables = {n: pd.read_parquet(out / f"{n}.parquet")
                      if (out / f"{n}.parquet").is_file() else pd.DataFrame() for n in FILES}
            return cls(meta["scenario"], meta["seed"], date.fromisoformat(meta["start_date"]),
                       meta["days"], meta=meta, **tables)
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as err:
            raise InputError(out, "files", f"{type(err).__name__}: {err}",
                             f"{what}; this one is damaged (run again)") from None


def write_codebook(path: str | Path) -> None:
    """Write the codebook (every indicator's labels, unit, direction and formula) to ``path``.

    CSV in UTF-8 with a byte-order mark, so that spreadsheet programs show the Chinese labels;
    results folders hold it as ``indicators.CODEBOOK``.
    """
    pd.DataFrame(indicators.codebook()).to_csv(path, index=False, encoding="utf-8-sig")


def _tidy(name: str, array: np.ndarray, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Flatten a [day, *dims] counter into long rows with one column per dimension."""
    layout = _LAYOUT[name]
    grids = np.meshgrid(
        np.arange(len(dates)), *[np.arange(len(lab)) for _, lab in layout], indexing="ij"
    )
    frame = {"date": dates[grids[0].ravel()], "counter": name}
    for (col, labels), grid in zip(layout, grids[1:], strict=True):
        frame[col] = np.asarray(labels, dtype=object)[grid.ravel()]
    if "measure" not in frame:
        frame["measure"] = _MEASURE.get(name) or name
    frame["value"] = array.ravel().astype(float)
    df = pd.DataFrame(frame)
    if name == "visits":
        df = df[df.service != "inpatient"]
    if name == "admissions":
        df["service"] = "inpatient"
    for col in DIMENSIONS:
        if col not in df:
            df[col] = None
    return df[["date", "counter", "measure", *DIMENSIONS, "value"]]



def flows_window(record: RunRecord, first_day: int = 0) -> indicators.Window:
    """The counters of days ``first_day`` onwards, as flows only (e.g. one month).

    No beds, per-year outcomes or year-end settlements: indicators of flows (visits, shares,
    fund spending by tier, out-of-pocket) are exact, those of stocks and years read zero.
    """
    counts = {name: values[first_day:].sum(axis=0) for name, values in record.counts.items()}
    tiers, quintiles = np.zeros(len(TIERS)), np.zeros(N_QUINTILES)
    return indicators.Window(
        days=record.days - first_day, residents=record.residents, counts=counts, beds=tiers,
        residents_by_quintile=quintiles, catastrophic=quintiles, resident_years=quintiles,
        cost_by_year=(), settlement_fund_extra=0.0, settlement_by_tier=tiers,
        care_cost_by_tier=tiers, community_fund_extra=0.0, scores=0.0, scored_years=0.0)


def whole_run_window(record: RunRecord) -> indicators.Window:
    """The counters of a whole run summed straight from its record (no daily table).

    The same window as ``Results.from_record(record).window()``, at a fraction of the cost.
    """
    dates = pd.date_range(record.start_date, periods=record.days, freq="D")
    money = record.counts["money"][:, Payer.BILL]  # [day, service, tier, scheme]
    bills = pd.DataFrame({"year": dates.year, "bill": money.sum(axis=(1, 2, 3))})
    by_year = bills.groupby("year").bill.agg(["size", "sum"])
    return Results.from_record(record, daily=False)._window(
        counts={name: values.sum(axis=0) for name, values in record.counts.items()},
        cost_by_year=tuple((int(y), int(row["size"]), float(row["sum"]))
                           for y, row in by_year.iterrows()),
        bill_by_tier=money.sum(axis=(0, 1, 3)))
