"""The synthetic county: size, facilities, capacity, travel times over the roads, randomness."""

import numpy as np
import pandas as pd
import pytest

from flowsim.config import Capacity, SyntheticCounty
from flowsim.domain import TIERS, UNLIMITED, Tier
from flowsim.synthetic_county import generate_county


def param(value) -> dict:
    return {"value": value, "unit": "test", "description": "test", "source": "test"}


LAYOUT = {
    "population": 60_000,
    "townships": 6,
    "villages": 60,
    "radius_km": 25.0,
    "village_road_kmh": 25.0,
    "trunk_road_kmh": 50.0,
    "out_of_county_minutes": 120.0,
    "county_hospitals": 1,
}
CAPACITY = Capacity.model_validate(
    {
        "outpatient_slots_per_day": param(
            {"village": 3.0, "township": 2.0, "county": 3.0, "out_of_county": 0.0}
        ),
        "beds": param({"village": 0.0, "township": 1.2, "county": 2.5, "out_of_county": 0.0}),
    }
)


def make(seed=1, **values):
    layout = SyntheticCounty.model_validate({k: param(v) for k, v in (LAYOUT | values).items()})
    return generate_county("Test", layout, CAPACITY, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def county():
    return make()


def rows_of(county, tier: str) -> np.ndarray:
    return np.flatnonzero(county.facilities["tier"] == tier)


def own_centre(county) -> np.ndarray:
    """Facility row of each village's own township health centre."""
    centres = rows_of(county, "township")
    by_township = dict(zip(county.facilities["township"].to_numpy()[centres], centres, strict=True))
    return np.array([by_township[t] for t in county.villages["township"]])


# ---------------------------------------------------------------- shape


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
    assert not county.travel_min.flags.writeable


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


# ---------------------------------------------------------------- randomness


def test_same_seed_gives_identical_county_and_other_seed_differs():
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    pd.testing.assert_frame_equal(a.villages, b.villages)
    pd.testing.assert_frame_equal(a.facilities, b.facilities)
    np.testing.assert_array_equal(a.travel_min, b.travel_min)
    assert not a.villages[["x_km", "y_km"]].equals(c.villages[["x_km", "y_km"]])
    assert not np.array_equal(a.villages["population"], c.villages["population"])


def test_synthetic_county_does_not_use_global_numpy_random():
    np.random.seed(0)
    a = make(seed=5)
    np.random.seed(99)
    b = make(seed=5)
    np.testing.assert_array_equal(a.travel_min, b.travel_min)


# ---------------------------------------------------------------- travel times over the roads


def test_every_facility_is_reachable_and_only_a_village_own_clinic_is_zero_minutes(county):
    t = county.travel_min
    assert np.isfinite(t).all() and (t >= 0).all()
    zero_rows, zero_cols = np.nonzero(t == 0)
    fac = county.facilities
    assert (fac["tier"].to_numpy()[zero_cols] == "village").all()
    assert (fac["village"].to_numpy()[zero_cols] == zero_rows).all()


def test_roads_go_both_ways(county):
    # minutes from village i to village j's clinic = minutes from j to i's clinic
    clinics = rows_of(county, "village")
    clinic_of = clinics[np.argsort(county.facilities["village"].to_numpy()[clinics])]
    between = county.travel_min[:, clinic_of]
    np.testing.assert_allclose(between, between.T, rtol=1e-6)


def test_no_trip_beats_the_straight_line_at_trunk_road_speed(county):
    fac, vil = county.facilities, county.villages
    inside = fac["tier"].to_numpy() != "out_of_county"  # reached in minutes, not km
    km = np.hypot(
        vil["x_km"].to_numpy()[:, None] - fac["x_km"].to_numpy()[None, inside],
        vil["y_km"].to_numpy()[:, None] - fac["y_km"].to_numpy()[None, inside],
    )
    assert (county.travel_min[:, inside] >= km / 50.0 * 60 * (1 - 1e-6)).all()


def test_village_road_to_own_seat_and_trunk_road_on_to_the_county_seat(county):
    # each village has a road to its own seat (25 km/h), each seat a trunk road to the county
    # seat (50 km/h): the trips along them bound the shortest ones
    fac, vil = county.facilities, county.villages
    centre = own_centre(county)
    rows = np.arange(60)
    seat_x, seat_y = fac["x_km"].to_numpy()[centre], fac["y_km"].to_numpy()[centre]
    to_seat = np.hypot(vil["x_km"] - seat_x, vil["y_km"] - seat_y).to_numpy() / 25.0 * 60
    own = county.travel_min[rows, centre]
    assert (own <= to_seat * (1 + 1e-6)).all()
    hospital = county.travel_min[:, rows_of(county, "county")[0]]
    assert (hospital <= own + np.hypot(seat_x, seat_y) / 50.0 * 60 + 1e-3).all()


def test_own_township_centre_is_closer_than_county_hospital_for_most_villages(county):
    own = county.travel_min[np.arange(60), own_centre(county)]
    hospital = county.travel_min[:, rows_of(county, "county")[0]]
    assert (own <= hospital).all()  # township 0's centre is at the county seat: equal there
    outside_seat = county.villages["township"].to_numpy() != 0
    assert (own[outside_seat] < hospital[outside_seat]).mean() > 0.8


def test_out_of_county_is_out_of_county_minutes_beyond_the_county_seat(county):
    outside = county.travel_min[:, rows_of(county, "out_of_county")[0]]
    hospital = county.travel_min[:, rows_of(county, "county")[0]]
    np.testing.assert_allclose(outside, hospital + 120.0, atol=1e-3)
    inside = np.delete(county.travel_min, rows_of(county, "out_of_county"), axis=1)
    assert (outside > inside.max(1)).all()


def test_longer_trip_outside_and_slower_roads_increase_travel_time():
    base = make()
    far = make(out_of_county_minutes=240.0)
    slow = make(village_road_kmh=10.0, trunk_road_kmh=20.0)
    outside = base.facilities["tier"].to_numpy() == "out_of_county"
    extra = far.travel_min[:, outside] - base.travel_min[:, outside]
    np.testing.assert_allclose(extra, 120.0, atol=1e-3)
    inside = ~outside & (base.travel_min > 0)
    assert (slow.travel_min[inside] > base.travel_min[inside]).all()


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
    assert outside["beds"] == outside["outpatient_slots_per_day"] == UNLIMITED


def test_several_county_hospitals_share_the_county_catchment():
    fac = make(county_hospitals=2).facilities
    hospitals = fac[fac["tier"] == "county"]
    assert hospitals["beds"].tolist() == [75, 75]  # 60,000 / 2 × 2.5 / 1,000
    assert (hospitals["x_km"] == 0).all() and (hospitals["y_km"] == 0).all()


def test_doubling_population_doubles_county_capacity_and_every_facility_has_a_slot():
    small = make(population=20_000)
    big = make(population=40_000)
    beds = {c: c.facilities.query("tier == 'county'")["beds"].iloc[0] for c in (small, big)}
    assert beds[big] == 2 * beds[small]
    tiny = make(population=60, villages=60)
    assert (tiny.facilities["outpatient_slots_per_day"] >= 1).all()
