"""A real county from two CSV files: villages and facilities, validated row by row.

Every bad value raises one `InputError` naming the file, the row, the column and the value. The
numbers that come from the scenario (road speed, detour factor, minutes to the hospitals outside
the county) are validated by `flowsim.config` and not checked again here.

``villages.csv`` columns: ``village_id,name,township_id,population,x_km,y_km``.
``facilities.csv`` columns: ``facility_id,name,tier,township_id,village_id,x_km,y_km,
outpatient_slots_per_day,beds``; ``tier`` is one of village, township, county, out_of_county;
``township_id`` is required for township health centres (it names the township) and
``village_id`` for village clinics; both may be empty otherwise (a village clinic's township is
its village's). Out-of-county hospitals may leave the capacity columns empty (unlimited,
`flowsim.domain.UNLIMITED`). Extra columns are ignored; blank lines are skipped but counted in
row numbers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.config import MAX_COUNT, MAX_VILLAGES, CsvCounty
from flowsim.county import County, facility_table
from flowsim.domain import TIERS, UNLIMITED, Tier
from flowsim.errors import InputError

__all__ = ["load_county_csv"]

VILLAGE_COLUMNS = ("village_id", "name", "township_id", "population", "x_km", "y_km")
"""Required columns of the villages file."""
FACILITY_COLUMNS = (
    "facility_id",
    "name",
    "tier",
    "township_id",
    "village_id",
    "x_km",
    "y_km",
    "outpatient_slots_per_day",
    "beds",
)
"""Required columns of the facilities file."""
CAPACITY_FIELDS = ("outpatient_slots_per_day", "beds")


def load_county_csv(name: str, source: CsvCounty, folder: Path) -> County:
    """Load a real county from the files named in a scenario's ``county.csv`` section.

    Township numbers follow the township health centres' order in the facility table (sorted
    by facility_id); villages keep the file's order.

    Travel time = straight-line km × ``detour_factor`` / ``road_kmh`` × 60, except to the
    out-of-county hospitals: ``out_of_county_minutes`` beyond the village's nearest county
    hospital.

    Args:
        name: county name.
        source: the scenario's ``county.csv`` section (file paths, road speed, detour factor,
            minutes from the county hospital to the out-of-county hospitals).
        folder: the folder the file paths are relative to (the scenario file's).

    Returns:
        The county.

    Raises:
        InputError: a file is missing or unreadable, or a value is bad; the message names the
            file, the row (1-based, header excluded), the column and the value.

    """
    villages_csv = folder / source.villages.value
    facilities_csv = folder / source.facilities.value
    vraw = _read_csv(villages_csv, VILLAGE_COLUMNS)
    fraw = _read_csv(facilities_csv, FACILITY_COLUMNS)

    fac = _parse_facilities(fraw, facilities_csv)
    vil = _parse_villages(vraw, villages_csv, fac, facilities_csv)
    fac = _link_clinics(fac, fraw, vil, facilities_csv, villages_csv)

    km = np.hypot(
        vil["x_km"].to_numpy()[:, None] - fac["x_km"].to_numpy()[None, :],
        vil["y_km"].to_numpy()[:, None] - fac["y_km"].to_numpy()[None, :],
    )
    travel = km * source.detour_factor.value / source.road_kmh.value * 60.0
    tier = fac["tier_code"].to_numpy()
    outside = tier == Tier.OUT_OF_COUNTY
    if outside.any():
        nearest_county = travel[:, tier == Tier.COUNTY].min(axis=1)
        travel[:, outside] = (nearest_county + source.out_of_county_minutes.value)[:, None]
    return County(name=name, villages=vil, facilities=fac, travel_min=travel)


def _read_strings(path: Path, encoding: str) -> pd.DataFrame:
    """Read every cell as a string, keeping blank lines (so row numbers match the file)."""
    with warnings.catch_warnings():
        # More fields on every data line than in the header: pandas would silently drop them.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding=encoding,
            index_col=False,
        )


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV as strings (stripped; empty -> NA), check columns; index = 1-based data row."""
    if not path.is_file():
        raise InputError(path, "file", str(path), "an existing CSV file (not found)")
    try:
        try:
            df = _read_strings(path, "utf-8-sig")
        except UnicodeDecodeError:
            # Spreadsheets saved on Chinese-locale Windows write GBK, which GB18030 extends.
            df = _read_strings(path, "gb18030")
    except pd.errors.EmptyDataError:
        raise InputError(
            path,
            "header",
            "",
            "a header line with columns " + ",".join(required) + " and at least one data row",
        ) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError) as err:
        problem = str(err).strip().removeprefix("Error tokenizing data. C error: ")
        if isinstance(err, pd.errors.ParserWarning):
            problem = "more fields on the data lines than in the header"
        raise InputError(
            path,
            "file",
            problem,
            "a comma-separated UTF-8 (or GBK) file with as many fields on every line as in "
            "the header",
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    for column in required:
        if column not in df.columns:
            raise InputError(
                path,
                column,
                ",".join(df.columns),
                f"a header with column '{column}' (required: {','.join(required)})",
            )
    df = df[list(required)].apply(lambda s: s.astype(str).str.strip())
    df = df.replace("", pd.NA)
    df.index = np.arange(1, len(df) + 1)
    df = df[df.notna().any(axis=1)]
    if df.empty:
        raise InputError(path, "data rows", 0, "at least one data row below the header")
    return df


def _text(df: pd.DataFrame, column: str, path: Path, *, what: str) -> pd.Series:
    """Return a required text column; raise on its first empty cell."""
    missing = df[column].isna()
    if missing.any():
        raise InputError(path, column, "", f"a non-empty {what}", row=int(df.index[missing][0]))
    return df[column]


def _unique(values: pd.Series, column: str, path: Path, what: str = "") -> None:
    """Raise on the first repeated value (``what`` says what must be unique)."""
    dup = values.duplicated()
    if dup.any():
        row = int(values.index[dup][0])
        first = int(values.index[values == values[row]][0])
        allowed = what or f"a unique {column}"
        raise InputError(
            path, column, values[row], f"{allowed} (already used in row {first})", row=row
        )


def _numbers(
    df: pd.DataFrame,
    column: str,
    path: Path,
    *,
    integer: bool,
    minimum: float | None = 0,
    default: float | None = None,
    rows: pd.Series | None = None,
) -> np.ndarray:
    """Convert a column to numbers, raising on the first empty, non-numeric or bad cell.

    Cells outside ``rows`` (a boolean mask) are not checked and become ``default``.
    """
    raw = df[column]
    checked = pd.Series(True, index=df.index) if rows is None else rows
    values = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    kind = "a whole number" if integer else "a number"
    if minimum is not None:
        kind += f" >= {minimum:g}"
    if integer:
        kind += f" and <= {MAX_COUNT}"
    bad = checked & (values.isna() | ~np.isfinite(values.fillna(0)))
    if minimum is not None:
        bad |= checked & (values < minimum)
    if integer:
        bad |= checked & (values.notna() & ((values != np.round(values)) | (values > MAX_COUNT)))
    if bad.any():
        row = int(df.index[bad.to_numpy()][0])
        shown = "" if pd.isna(raw[row]) else raw[row]
        raise InputError(path, column, shown, kind, row=row)
    values = values.where(checked, default)
    return values.to_numpy(np.int64 if integer else np.float64)


def _parse_facilities(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Facility table with township numbers set for centres; clinics' village set later."""
    ids = _text(df, "facility_id", path, what="facility id")
    _unique(ids, "facility_id", path)
    names = df["name"].fillna(ids)
    tier = df["tier"].fillna("").str.lower()
    unknown = ~tier.isin(TIERS)
    if unknown.any():
        row = int(df.index[unknown][0])
        raise InputError(
            path,
            "tier",
            "" if pd.isna(df["tier"][row]) else df["tier"][row],
            "one of " + ", ".join(TIERS),
            row=row,
        )
    outside = (tier == "out_of_county").to_numpy()
    x = _numbers(df, "x_km", path, integer=False, minimum=None)
    y = _numbers(df, "y_km", path, integer=False, minimum=None)
    capacity = {
        field: _numbers(
            df,
            field,
            path,
            integer=True,
            rows=~(outside & df[field].isna()),
            default=UNLIMITED,
        )
        for field in CAPACITY_FIELDS
    }
    centre = (tier == "township").to_numpy()
    if centre.any():
        _text(df[centre], "township_id", path, what="township_id for a township health centre")
        _unique(
            df.loc[centre, "township_id"],
            "township_id",
            path,
            "one township health centre per township_id",
        )
    if not (tier == "county").any():
        raise InputError(
            path,
            "tier",
            ", ".join(sorted(set(tier), key=TIERS.index)),
            "at least one facility with tier 'county' (a county hospital)",
        )
    fac = pd.DataFrame(
        {
            "facility_id": ids.to_numpy(),
            "name": names.to_numpy(),
            "tier": tier.to_numpy(),
            "township": -1,
            "village": -1,
            "x_km": x,
            "y_km": y,
            **capacity,
            "_row": df.index.to_numpy(),
            "_township_id": df["township_id"].to_numpy(),
        }
    )
    fac = facility_table(fac).join(fac[["_row", "_township_id"]])
    fac = fac.sort_values(["tier_code", "facility_id"], kind="stable").reset_index(drop=True)
    centres = np.flatnonzero(fac["tier_code"] == Tier.TOWNSHIP)
    fac.loc[centres, "township"] = np.arange(len(centres))
    return fac


def _parse_villages(
    df: pd.DataFrame, path: Path, fac: pd.DataFrame, fac_path: Path
) -> pd.DataFrame:
    """Village table, townships numbered like their health centres in ``fac``."""
    ids = _text(df, "village_id", path, what="village id")
    _unique(ids, "village_id", path)
    centres = fac[fac["tier_code"] == Tier.TOWNSHIP]
    township_ids = centres["_township_id"].astype(str).tolist()
    number = {t: j for j, t in enumerate(township_ids)}
    town = df["township_id"].map(number)
    if town.isna().any():
        row = int(df.index[town.isna()][0])
        known = ", ".join(township_ids) if township_ids else "none"
        value = df["township_id"][row]
        raise InputError(
            path,
            "township_id",
            "" if pd.isna(value) else value,
            f"the township_id of a township health centre in {fac_path.name} (known: {known})",
            row=row,
        )
    vil = pd.DataFrame(
        {
            "village_id": ids.to_numpy(),
            "name": df["name"].fillna(ids).to_numpy(),
            "township": town.to_numpy(np.int64),
            "population": _numbers(df, "population", path, integer=True),
            "x_km": _numbers(df, "x_km", path, integer=False, minimum=None),
            "y_km": _numbers(df, "y_km", path, integer=False, minimum=None),
        }
    )
    if len(vil) > MAX_VILLAGES:
        raise InputError(path, "village_id", f"{len(vil):,} villages",
                         f"at most {MAX_VILLAGES:,} villages")
    if vil["population"].sum() < 1:
        raise InputError(path, "population", 0,
                         "at least one resident in the county (every population is 0)")
    return vil.astype({"village_id": str, "name": str})


def _link_clinics(
    fac: pd.DataFrame, raw: pd.DataFrame, vil: pd.DataFrame, path: Path, villages_path: Path
) -> pd.DataFrame:
    """Set each village clinic's village row and township; drop the helper columns."""
    clinic = np.flatnonzero(fac["tier_code"] == Tier.VILLAGE)
    rows = fac["_row"].to_numpy()[clinic]
    row_of = {v: i for i, v in enumerate(vil["village_id"])}
    seen: dict[int, int] = {}
    for k, row in zip(clinic, rows, strict=True):
        vid = raw.at[row, "village_id"]
        if pd.isna(vid) or vid not in row_of:
            known = ", ".join(list(row_of)[:5]) + (", ..." if len(row_of) > 5 else "")
            raise InputError(
                path,
                "village_id",
                "" if pd.isna(vid) else vid,
                f"the village_id of a village in {villages_path.name} ({known})",
                row=int(row),
            )
        i = row_of[vid]
        if i in seen:
            raise InputError(
                path,
                "village_id",
                vid,
                f"one village clinic per village (already used in row {seen[i]})",
                row=int(row),
            )
        seen[i] = int(row)
        fac.at[k, "village"] = i
        fac.at[k, "township"] = vil.at[i, "township"]
    return fac.drop(columns=["_row", "_township_id"])
