"""Spreadsheets of a results folder: an Excel workbook and/or one CSV file per sheet.

``export(folder, xlsx=..., csv=...)`` reads what ``flowsim compare``, ``flowsim experiment`` or
``flowsim run --out`` wrote and writes these sheets, every indicator with its Chinese and English
labels and unit:

- ``summary``: mean and 95 % interval per variant, county and indicator (a run: its values);
- ``differences``: paired difference from the baseline with its 95 % interval;
- ``runs``: every run's indicators (experiments and comparisons);
- ``changes``: what each scenario changes from the baseline (``flowsim.changes``), in both
  languages, with the date it takes effect and the source it cites;
- ``codebook``: every indicator's labels, unit, better direction and formula;
- ``about``: what was run (kind, baseline, seeds, days, settings from the command line).

CSV files are UTF-8 with a byte-order mark, so that spreadsheet programs show the Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flowsim.changes import changes, describe
from flowsim.config import scenario_from_yaml
from flowsim.errors import InputError
from flowsim.experiments import ExperimentResults, load_folder
from flowsim.files import check_file, check_folder, output_folder, write_atomically
from flowsim.indicators import INDICATORS, codebook
from flowsim.results import Results

SHEETS = ("summary", "differences", "runs", "changes", "codebook", "about")
"""Sheets of the workbook (and CSV files), in order; a sheet without rows is left out."""
_LABELS = ("label_en", "label_zh", "unit")


def check_targets(xlsx: str | Path | None, csv: str | Path | None) -> None:
    """Check the export's targets before any work: one-line errors naming the option."""
    if xlsx is None and csv is None:
        raise InputError(None, "--xlsx / --csv", "(neither)",
                         "give --xlsx FILE, --csv FOLDER or both")
    if xlsx is not None:
        if Path(xlsx).suffix.lower() != ".xlsx":
            raise InputError(None, "--xlsx", str(xlsx), "a file name ending in .xlsx")
        check_file(xlsx, "--xlsx")
    if csv is not None:
        check_folder(csv, "--csv")


def sheets(source: str | Path | Results | ExperimentResults) -> dict[str, pd.DataFrame]:
    """The export's tables of a results folder (or loaded results), by sheet name."""
    res = load_folder(source) if isinstance(source, str | Path) else source
    if isinstance(res, Results):
        out = {"summary": _labelled(res.indicators[["indicator", "value"]]).assign(
            scenario=res.scenario, seed=res.seed)}
        about = {"kind": "run", "scenario": res.scenario, "seed": res.seed,
                 "start_date": res.start_date.isoformat(), "days": res.days,
                 "residents": res.meta.get("residents")}
    else:
        meta = res.meta
        out = {"summary": res.summary, "differences": res.differences,
               "runs": _labelled(res.indicators), "changes": _changes(meta)}
        about = {k: meta.get(k) for k in ("name", "kind", "baseline", "days", "seeds",
                                          "counties", "settings")}
    out["codebook"] = pd.DataFrame(codebook())
    out["about"] = pd.DataFrame([{"item": k, "value": v if isinstance(v, str | int | None)
                                  else json.dumps(v, ensure_ascii=False)}
                                 for k, v in about.items()])
    return {name: out[name] for name in SHEETS if name in out and len(out[name])}


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each indicator's labels and unit (when it has not got them yet)."""
    if set(_LABELS) <= set(table.columns):
        return table
    table = table.drop(columns=[c for c in _LABELS if c in table.columns])
    return table.assign(**{c: table.indicator.map(lambda n, c=c: getattr(INDICATORS[n], c)
                                                  if n in INDICATORS else "")
                           for c in _LABELS})


def _changes(meta: dict) -> pd.DataFrame:
    """What each scenario changes from the first, in both languages (one row a change)."""
    files = meta.get("scenario_files") or []
    scenarios = []
    for entry in files:
        try:
            scenarios.append((entry.get("variant"), scenario_from_yaml(entry.get("yaml") or "")))
        except InputError:
            continue
    if len(scenarios) < 2:
        return pd.DataFrame()
    (_, base), rows = scenarios[0], []
    for name, scenario in scenarios[1:]:
        for change in changes(base, scenario):
            en, zh = describe(change, "en"), describe(change, "zh")
            rows.append({"scenario": name, "title_en": scenario.title_in("en"),
                         "title_zh": scenario.title_in("zh"), "path": change.path,
                         "parameter_en": en["parameter"], "parameter_zh": zh["parameter"],
                         "members_en": en["members"], "members_zh": zh["members"],
                         "unit": change.unit, "baseline_en": en["from"],
                         "baseline_zh": zh["from"], "scenario_en": en["to"],
                         "scenario_zh": zh["to"], "in_force_from": en["when"],
                         "source": change.source})
    return pd.DataFrame(rows).replace("\u00a0", " ", regex=True)


def export(source: str | Path, *, xlsx: str | Path | None = None,
           csv: str | Path | None = None) -> list[Path]:
    """Write the sheets of ``source`` to an .xlsx workbook and/or CSV files; the paths written.

    Each file is written under a temporary name and renamed into place.
    """
    check_targets(xlsx, csv)
    tables = sheets(source)
    written = []
    if xlsx is not None:
        target = Path(xlsx)
        output_folder(target.parent, "--xlsx")
        written.append(write_atomically(target, lambda p: _workbook(p, tables)))
    if csv is not None:
        folder = output_folder(csv, "--csv")
        for name, table in tables.items():
            written.append(write_atomically(
                folder / f"{name}.csv",
                lambda p, t=table: t.to_csv(p, index=False, encoding="utf-8-sig")))
    return written


def _workbook(path: str, tables: dict[str, pd.DataFrame]) -> None:
    """An Excel workbook with one sheet a table, columns as wide as their text (up to 60)."""
    with open(path, "wb") as file, pd.ExcelWriter(file, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for k, col in enumerate(table.columns):
                longest = max([len(str(col)), *(len(str(v)) for v in table[col].head(200))])
                sheet.column_dimensions[sheet.cell(1, k + 1).column_letter].width = min(
                    longest + 2, 60)
