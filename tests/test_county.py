import csv
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowsim.county import UNLIMITED_CAPACITY, County, load_county_csv, synthetic_county
from flowsim.domain import TIERS, Tier
from flowsim.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "configs" / "counties" / "example"
CAPACITY = {
    "village": {"outpatient_slots_per_day": 3.0, "beds": 0.0},
    "township": {"outpatient_slots_per_day": 2.0, "beds": 1.2},
    "county": {"outpatient_slots_per_day": 3.0, "beds": 2.5},
}


def make(seed=1, **overrides) -> County:
    args = dict(
        name="Test",
        population=60_000,
        n_townships=6,
        n_villages=60,
        radius_km=25.0,
        village_road_kmh=25.0,
        trunk_road_kmh=50.0,
        out_of_county_minutes=120.0,
        capacity_per_1000=CAPACITY,
        rng=np.random.default_rng(seed),
    )
    args.update(overrides)
    return synthetic_county(**args)


@pytest.fixture(scope="module")
def county() -> County:
    return make()


# ---------------------------------------------------------------- synthetic county: shape


def test_synthetic_county_has_requested_size_and_exact_population(county):
    assert len(county.villages) == 60
    assert county.n_townships == 6
    assert county.population == 60_000
    assert county.villages["population"].min() >= 1
    assert sorted(county.villages["township"].unique()) == list(range(6))
    per_tier = county.facilities["tier"].value_counts()
    assert per_tier.to_dict() == {"village": 60, "township": 6, "county": 1, "out_of_county": 1}
    assert county.travel_min.shape == (60, len(county.facilities))
    assert county.travel_min.dtype == np.float32


def test_facilities_are_ordered_by_tier_and_linked_to_villages_and_townships(county):
    fac = county.facilities
    assert list(fac.index) == list(range(len(fac)))
    assert fac["tier_code"].is_monotonic_increasing
    assert set(fac["tier"]) <= set(TIERS)
    assert (fac["tier_code"] == fac["tier"].map(TIERS.index)).all()
    clinics = fac[fac["tier"] == "village"]
    assert sorted(clinics["village"]) == list(range(60))
    villages = county.villages.loc[clinics["village"]]
    assert (clinics["township"].to_numpy() == villages["township"].to_numpy()).all()
    centres = fac[fac["tier"] == "township"]
    assert sorted(centres["township"]) == list(range(6))
    others = fac[fac["tier_code"] >= Tier.COUNTY]
    assert (others["township"] == -1).all() and (others["village"] == -1).all()


def test_county_seat_is_township_zero_and_hosts_county_hospital(county):
    fac = county.facilities
    centre0 = fac[(fac["tier"] == "township") & (fac["township"] == 0)].iloc[0]
    hospital = fac[fac["tier"] == "county"].iloc[0]
    assert (centre0["x_km"], centre0["y_km"]) == (hospital["x_km"], hospital["y_km"]) == (0, 0)


def test_road_graph_is_connected_with_the_documented_attributes(county):
    g = county.graph
    assert nx.is_connected(g)
    kinds = nx.get_node_attributes(g, "kind")
    assert sum(k == "village" for k in kinds.values()) == 60
    assert sum(k == "outside" for k in kinds.values()) == 1
    assert sum(k in ("township", "county_seat") for k in kinds.values()) == 6
    for _, data in g.nodes(data=True):
        assert {"kind", "x_km", "y_km", "label", "township"} <= set(data)
    assert all(m > 0 or np.isclose(m, 0) for *_, m in g.edges(data="minutes"))
    assert g.edges[("outside", 0), ("county_seat", 0)]["minutes"] == 120.0


# ---------------------------------------------------------------- randomness


def test_same_seed_gives_identical_county_and_other_seed_differs():
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    pd.testing.assert_frame_equal(a.villages, b.villages)
    pd.testing.assert_frame_equal(a.facilities, b.facilities)
    np.testing.assert_array_equal(a.travel_min, b.travel_min)
    assert sorted(a.graph.edges(data="minutes")) == sorted(b.graph.edges(data="minutes"))
    assert not a.villages[["x_km", "y_km"]].equals(c.villages[["x_km", "y_km"]])
    assert not np.array_equal(a.villages["population"], c.villages["population"])


def test_int_seed_is_the_same_as_a_generator_with_that_seed():
    pd.testing.assert_frame_equal(make(seed=3).villages, make(rng=3).villages)


def test_synthetic_county_does_not_use_global_numpy_random():
    np.random.seed(0)
    a = make(seed=5)
    np.random.seed(99)
    b = make(seed=5)
    np.testing.assert_array_equal(a.travel_min, b.travel_min)


# ---------------------------------------------------------------- travel times


def test_travel_times_are_finite_and_positive_except_a_village_to_its_own_clinic(county):
    t = county.travel_min
    assert np.isfinite(t).all() and (t >= 0).all()
    zero_rows, zero_cols = np.nonzero(t == 0)
    fac = county.facilities
    assert (fac["tier"].to_numpy()[zero_cols] == "village").all()
    assert (fac["village"].to_numpy()[zero_cols] == zero_rows).all()


def test_own_township_centre_is_closer_than_county_hospital_for_most_villages(county):
    choice = county.choice_set()
    rows = np.arange(len(county.villages))
    own = county.travel_min[rows, choice[:, 1]]
    hospital = county.travel_min[rows, choice[:, 3]]
    assert (own <= hospital).all()  # township 0's centre is at the county seat: equal there
    outside_seat = county.villages["township"].to_numpy() != 0
    assert (own[outside_seat] < hospital[outside_seat]).mean() > 0.8


def test_out_of_county_is_the_farthest_facility_for_every_village(county):
    fac = county.facilities
    outside = fac["tier"].to_numpy() == "out_of_county"
    assert (county.travel_min[:, outside].min(1) > county.travel_min[:, ~outside].max(1)).all()


def test_longer_trip_outside_and_slower_roads_increase_travel_time():
    base = make()
    far = make(out_of_county_minutes=240.0)
    slow = make(village_road_kmh=10.0, trunk_road_kmh=20.0)
    outside = base.facilities["tier"].to_numpy() == "out_of_county"
    extra = far.travel_min[:, outside] - base.travel_min[:, outside]
    np.testing.assert_allclose(extra, 120.0, atol=1e-3)
    inside = ~outside & (base.travel_min > 0)
    assert (slow.travel_min[inside] > base.travel_min[inside]).all()


# ---------------------------------------------------------------- choice set


def test_choice_set_points_to_facilities_of_the_right_tiers(county):
    choice = county.choice_set()
    fac = county.facilities
    assert choice.dtype == np.int32 and choice.shape == (60, 5)
    assert (choice >= 0).all()
    for col, tier in enumerate(County.CHOICE_TIERS):
        assert (fac["tier_code"].to_numpy()[choice[:, col]] == tier).all()
    townships = county.villages["township"].to_numpy()
    assert (fac["village"].to_numpy()[choice[:, 0]] == np.arange(60)).all()
    assert (fac["township"].to_numpy()[choice[:, 1]] == townships).all()
    assert (fac["township"].to_numpy()[choice[:, 2]] != townships).all()


def test_other_township_centre_is_the_nearest_one_by_travel_time(county):
    choice = county.choice_set()
    fac = county.facilities
    centres = np.flatnonzero(fac["tier"] == "township")
    for i in range(0, 60, 7):
        others = [k for k in centres if k != choice[i, 1]]
        assert county.travel_min[i, choice[i, 2]] == county.travel_min[i, others].min()


def test_choice_set_marks_absent_options_with_minus_one():
    one = make(n_townships=1, n_villages=5, population=2_000, n_out_of_county=0)
    choice = one.choice_set()
    assert (choice[:, 2] == -1).all() and (choice[:, 4] == -1).all()
    assert (choice[:, [0, 1, 3]] >= 0).all()


def test_several_county_and_outside_hospitals_share_the_county_catchment():
    c = make(n_county_hospitals=2, n_out_of_county=3)
    fac = c.facilities
    hospitals = fac[fac["tier"] == "county"]
    assert len(hospitals) == 2 and (fac["tier"] == "out_of_county").sum() == 3
    assert hospitals["beds"].tolist() == [75, 75]  # 60,000 / 2 × 2.5 / 1,000
    assert (c.choice_set()[:, 3] == hospitals.index[0]).all()  # tie: lower row


# ---------------------------------------------------------------- capacity


def test_capacity_scales_with_catchment(county):
    fac = county.facilities
    pop = county.villages["population"].to_numpy()
    clinics = fac[fac["tier"] == "village"]
    expected = np.maximum(np.rint(pop[clinics["village"]] * 3.0 / 1000), 1)
    np.testing.assert_array_equal(clinics["outpatient_slots_per_day"], expected)
    assert (clinics["beds"] == 0).all()
    centres = fac[fac["tier"] == "township"].sort_values("township")
    town_pop = county.villages.groupby("township")["population"].sum().to_numpy()
    np.testing.assert_array_equal(centres["beds"], np.maximum(np.rint(town_pop * 1.2 / 1000), 1))
    order = np.argsort(town_pop)
    assert np.all(np.diff(centres["outpatient_slots_per_day"].to_numpy()[order]) >= 0)
    hospital = fac[fac["tier"] == "county"].iloc[0]
    assert (hospital["outpatient_slots_per_day"], hospital["beds"]) == (180, 150)
    outside = fac[fac["tier"] == "out_of_county"].iloc[0]
    assert outside["beds"] == outside["outpatient_slots_per_day"] == UNLIMITED_CAPACITY


def test_doubling_population_doubles_county_capacity_and_every_facility_has_a_slot():
    small = make(population=20_000)
    big = make(population=40_000)
    beds = {c: c.facilities.query("tier == 'county'")["beds"].iloc[0] for c in (small, big)}
    assert beds[big] == 2 * beds[small]
    tiny = make(population=60, n_villages=60)
    assert (tiny.facilities["outpatient_slots_per_day"] >= 1).all()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"n_villages": 3}, "n_villages"),
        ({"n_townships": 0}, "n_townships"),
        ({"population": 10}, "population"),
        ({"radius_km": -1.0}, "radius_km"),
        ({"trunk_road_kmh": 0}, "trunk_road_kmh"),
        ({"n_county_hospitals": 0}, "n_county_hospitals"),
        ({"capacity_per_1000": {"village": CAPACITY["village"]}}, "capacity_per_1000.township"),
        (
            {"capacity_per_1000": {**CAPACITY, "county": {"outpatient_slots_per_day": 1}}},
            "capacity_per_1000.county.beds",
        ),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_bad_synthetic_arguments_raise_input_error(overrides, field):
    with pytest.raises(InputError) as err:
        make(**overrides)
    assert err.value.field == field
    assert field in str(err.value)


# ---------------------------------------------------------------- CSV county


@pytest.fixture(scope="module")
def example() -> County:
    return load_county_csv(EXAMPLE / "villages.csv", EXAMPLE / "facilities.csv", road_kmh=30)


def test_example_csv_county_loads(example):
    assert example.name == "example"
    assert len(example.villages) == 20 and example.n_townships == 3
    assert example.population == 30_000
    fac = example.facilities
    assert fac["tier"].value_counts()[["county", "out_of_county"]].tolist() == [1, 1]
    assert fac["tier_code"].is_monotonic_increasing
    assert example.villages["township"].tolist() == [0] * 7 + [1] * 7 + [2] * 6
    assert fac.query("tier == 'out_of_county'")["beds"].iloc[0] == UNLIMITED_CAPACITY
    assert nx.is_connected(example.graph)


def test_example_choice_set_has_right_tiers_and_missing_clinic(example):
    choice = example.choice_set()
    fac = example.facilities
    no_clinic = example.villages.index[example.villages["village_id"] == "V13"][0]
    assert choice[no_clinic, 0] == -1
    ok = choice >= 0
    for col, tier in enumerate(County.CHOICE_TIERS):
        assert (fac["tier_code"].to_numpy()[choice[ok[:, col], col]] == tier).all()


def test_csv_travel_time_is_detoured_straight_line_distance(example):
    v = example.villages.iloc[0]
    h = example.facilities.query("tier == 'county'").iloc[0]
    km = np.hypot(v["x_km"] - h["x_km"], v["y_km"] - h["y_km"])
    assert example.travel_min[0, h.name] == pytest.approx(km * 1.3 / 30 * 60, rel=1e-6)


def test_csv_out_of_county_minutes_is_added_to_nearest_county_hospital():
    c = load_county_csv(
        EXAMPLE / "villages.csv",
        EXAMPLE / "facilities.csv",
        name="X",
        road_kmh=30,
        out_of_county_minutes=90,
    )
    assert c.name == "X"
    fac = c.facilities
    county = c.travel_min[:, (fac["tier"] == "county").to_numpy()].min(1)
    outside = c.travel_min[:, (fac["tier"] == "out_of_county").to_numpy()][:, 0]
    np.testing.assert_allclose(outside, county + 90, rtol=1e-6)


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
    return load_county_csv(paths["villages.csv"], paths["facilities.csv"], road_kmh=30)


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
    c = load_county_csv(tmp_path / "villages.csv", tmp_path / "facilities.csv", road_kmh=30)
    assert c.villages["name"].iloc[0] == "城北村"
    assert c.facilities["name"].iloc[0] == "城北村卫生室"


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(InputError, match="nowhere.csv.*not found"):
        load_county_csv(tmp_path / "nowhere.csv", EXAMPLE / "facilities.csv", road_kmh=30)


def test_out_of_county_may_leave_capacity_empty_but_not_garbage(tmp_path):
    name, edit = _set("facilities.csv", 24, "beds", "lots")
    with pytest.raises(InputError, match="row 24"):
        _load_with(tmp_path, name, edit)


def test_bad_speed_raises_input_error():
    with pytest.raises(InputError, match="road_kmh"):
        load_county_csv(EXAMPLE / "villages.csv", EXAMPLE / "facilities.csv", road_kmh=0)


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
