"""A county from CSV files: the example loads; every bad file gives one clear error."""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowsim.config import CsvCounty
from flowsim.county import County
from flowsim.csv_county import load_county_csv
from flowsim.domain import UNLIMITED
from flowsim.errors import InputError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
EXAMPLE = CONFIGS / "counties" / "example"


def source(villages, facilities, **values) -> CsvCounty:
    """A validated ``county.csv`` section: 30 km/h, detour 1.3, 90 minutes to the outside."""
    values = {
        "villages": str(villages),
        "facilities": str(facilities),
        "road_kmh": 30,
        "detour_factor": 1.3,
        "out_of_county_minutes": 90,
    } | values
    return CsvCounty.model_validate(
        {k: {"value": v, "unit": "test", "description": "test", "source": "test"}
         for k, v in values.items()}
    )


def load(villages: Path, facilities: Path, **values) -> County:
    return load_county_csv("test", source(villages, facilities, **values), Path.cwd())


@pytest.fixture(scope="module")
def example() -> County:
    # paths relative to the folder given, as in a scenario file
    files = source("counties/example/villages.csv", "counties/example/facilities.csv")
    return load_county_csv("example", files, CONFIGS)


def test_example_csv_county_loads(example):
    assert example.name == "example"
    assert len(example.villages) == 20 and example.n_townships == 3
    assert example.population == 30_000
    fac = example.facilities
    assert fac["tier"].value_counts()[["county", "out_of_county"]].tolist() == [1, 1]
    assert fac["tier_code"].is_monotonic_increasing
    assert example.villages["township"].tolist() == [0] * 7 + [1] * 7 + [2] * 6
    assert fac.query("tier == 'out_of_county'")["beds"].iloc[0] == UNLIMITED
    assert np.isfinite(example.travel_min).all()


def test_csv_travel_time_is_detoured_straight_line_distance(example):
    v = example.villages.iloc[0]
    h = example.facilities.query("tier == 'county'").iloc[0]
    km = np.hypot(v["x_km"] - h["x_km"], v["y_km"] - h["y_km"])
    assert example.travel_min[0, h.name] == pytest.approx(km * 1.3 / 30 * 60, rel=1e-6)


def test_csv_out_of_county_is_out_of_county_minutes_beyond_the_nearest_county_hospital():
    c = load(EXAMPLE / "villages.csv", EXAMPLE / "facilities.csv", out_of_county_minutes=45)
    fac = c.facilities
    county = c.travel_min[:, (fac["tier"] == "county").to_numpy()].min(1)
    outside = c.travel_min[:, (fac["tier"] == "out_of_county").to_numpy()][:, 0]
    np.testing.assert_allclose(outside, county + 45, rtol=1e-6)


# ---------------------------------------------------------------- bad CSV files


def _rows(name: str) -> list[list[str]]:
    with open(EXAMPLE / name, newline="") as f:
        return list(csv.reader(f))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def _set(name: str, row: int, column: str, value: str):
    """Edit: set data row ``row`` (1-based), ``column`` of the example file ``name``."""

    def edit(rows):
        rows[row][rows[0].index(column)] = value
        return rows

    return name, edit


def _drop_column(name: str, column: str):
    def edit(rows):
        k = rows[0].index(column)
        return [r[:k] + r[k + 1 :] for r in rows]

    return name, edit


def _drop_tier(tier: str):
    return "facilities.csv", lambda rows: [r for r in rows if r[2] != tier]


def _replace(name: str, text: str):
    return name, text


BAD = {
    "missing column": (_drop_column("villages.csv", "population"), ["population", "village_id"]),
    "non-numeric population": (_set("villages.csv", 3, "population", "lots"), ["row 3", "lots"]),
    "negative population": (_set("villages.csv", 5, "population", "-40"), ["row 5", "-40"]),
    "fractional population": (_set("villages.csv", 2, "population", "12.5"), ["row 2", "12.5"]),
    "empty population": (_set("villages.csv", 4, "population", ""), ["row 4", "population"]),
    "bad coordinate": (_set("villages.csv", 6, "x_km", "east"), ["row 6", "x_km", "east"]),
    "negative capacity": (
        _set("facilities.csv", 20, "beds", "-3"),
        ["row 20", "beds", "-3"],
    ),
    "non-numeric capacity": (
        _set("facilities.csv", 2, "outpatient_slots_per_day", "many"),
        ["row 2", "outpatient_slots_per_day", "many"],
    ),
    "missing capacity inside county": (
        _set("facilities.csv", 23, "beds", ""),
        ["row 23", "beds"],
    ),
    "unknown tier": (
        _set("facilities.csv", 21, "tier", "hospital"),
        ["row 21", "tier", "hospital", "out_of_county"],
    ),
    "township without health centre": (
        _set("villages.csv", 9, "township_id", "T09"),
        ["row 9", "township_id", "T09", "T01"],
    ),
    "clinic with unknown village": (
        _set("facilities.csv", 4, "village_id", "V99"),
        ["row 4", "village_id", "V99"],
    ),
    "clinic without village": (_set("facilities.csv", 4, "village_id", ""), ["row 4"]),
    "two clinics in one village": (
        _set("facilities.csv", 4, "village_id", "V01"),
        ["row 4", "village_id", "V01", "row 1"],
    ),
    "duplicate village id": (
        _set("villages.csv", 7, "village_id", "V02"),
        ["row 7", "village_id", "V02", "row 2"],
    ),
    "duplicate facility id": (
        _set("facilities.csv", 22, "facility_id", "THC01"),
        ["row 22", "facility_id", "THC01"],
    ),
    "duplicate township centre": (
        _set("facilities.csv", 21, "township_id", "T01"),
        ["row 21", "township_id", "T01"],
    ),
    "township centre without township id": (
        _set("facilities.csv", 20, "township_id", ""),
        ["row 20", "township_id"],
    ),
    "no county hospital": (_drop_tier("county"), ["tier", "county"]),
    "empty file": (_replace("villages.csv", ""), ["header", "village_id"]),
    "header only": (
        _replace("facilities.csv", ",".join(_rows("facilities.csv")[0]) + "\n"),
        ["data row"],
    ),
    "ragged line": (
        _replace("villages.csv", "\n".join(",".join(r) for r in _rows("villages.csv")) + ",9\n"),
        ["file", "line 21"],
    ),
    "extra field on every data line": (
        _replace(
            "villages.csv",
            "\n".join(
                [",".join(_rows("villages.csv")[0])]
                + [",".join(r) + ",9" for r in _rows("villages.csv")[1:]]
            ),
        ),
        ["file"],
    ),
}


def _load_with(tmp_path: Path, name: str, edit) -> County:
    paths = {}
    for file in ("villages.csv", "facilities.csv"):
        path = tmp_path / file
        if file != name:
            _write(path, _rows(file))
        elif isinstance(edit, str):
            path.write_text(edit)
        else:
            _write(path, edit(_rows(file)))
        paths[file] = path
    return load(paths["villages.csv"], paths["facilities.csv"])


@pytest.mark.parametrize("case", list(BAD))
def test_bad_csv_raises_one_clear_input_error(tmp_path, case):
    (name, edit), fragments = BAD[case]
    with pytest.raises(InputError) as err:
        _load_with(tmp_path, name, edit)
    message = str(err.value)
    assert message.startswith(str(tmp_path / name))
    for fragment in fragments:
        assert fragment in message, (case, message)
    assert err.value.__cause__ is None  # no pandas traceback chained on


def test_row_numbers_count_blank_lines_so_they_match_the_file(tmp_path):
    rows = _rows("villages.csv")
    rows[4][rows[0].index("population")] = "x"
    text = (
        "\n".join(",".join(r) for r in rows[:3]) + "\n\n" + "\n".join(",".join(r) for r in rows[3:])
    )
    with pytest.raises(InputError, match="row 5"):
        _load_with(tmp_path, "villages.csv", text + "\n")


def test_gbk_encoded_files_with_chinese_names_load(tmp_path):
    for name in ("villages.csv", "facilities.csv"):
        rows = _rows(name)
        rows[1][1] = "城北村" if name == "villages.csv" else "城北村卫生室"
        text = "\n".join(",".join(r) for r in rows) + "\n"
        (tmp_path / name).write_bytes(text.encode("gbk"))
    c = load(tmp_path / "villages.csv", tmp_path / "facilities.csv")
    assert c.villages["name"].iloc[0] == "城北村"
    assert c.facilities["name"].iloc[0] == "城北村卫生室"


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(InputError, match="nowhere.csv.*not found"):
        load(tmp_path / "nowhere.csv", EXAMPLE / "facilities.csv")


def test_out_of_county_may_leave_capacity_empty_but_not_garbage(tmp_path):
    name, edit = _set("facilities.csv", 24, "beds", "lots")
    with pytest.raises(InputError, match="row 24"):
        _load_with(tmp_path, name, edit)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    file=st.sampled_from(["villages.csv", "facilities.csv"]),
    row=st.integers(1, 20),
    col=st.integers(0, 5),
    value=st.one_of(st.text(max_size=6), st.sampled_from(["", "-1", "nan", "inf", "1e3", " 7 "])),
)
def test_any_single_cell_edit_loads_or_raises_input_error(tmp_path, file, row, col, value):
    rows = _rows(file)
    rows[row][col] = value
    try:
        _load_with(tmp_path, file, lambda _: rows)
    except InputError:
        pass
