"""The county's geography and facilities: villages, the four tiers of care, roads, travel times.

A `County` is plain data (pandas tables, a numpy travel-time matrix and a networkx road graph);
the model turns its facility rows into Mesa agents. Two ways to get one:

- `synthetic_county`: a made-up county driven entirely by its keyword arguments and a numpy
  `Generator` (same generator state, same county).
- `load_county_csv`: a real county from two CSV files (villages and facilities), validated row
  by row; every bad value raises one `InputError` naming the file, the row, the column and the
  value.

Travel-time convention: ``travel_min[i, k]`` is the one-way travel time in minutes from village
row ``i`` to facility row ``k``. No fixed access time is added, so the clinic standing in a
village is 0 minutes away from it in a synthetic county.

Road graph convention (for display and for the synthetic travel times): nodes are tuples
``(kind, index)`` with kind one of ``"village"`` (index = village row), ``"township"`` (index =
township number), ``"county_seat"`` and ``"outside"``; every node has attributes ``kind``,
``x_km``, ``y_km``, ``label`` and ``township`` (township number, -1 if none). In a synthetic
county township 0's seat *is* the county seat, so it appears once, as ``("county_seat", 0)``
with ``township=0``. Edges carry ``minutes``, ``km`` and ``road`` (``"village"``, ``"trunk"`` or
``"outside"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import networkx as nx
import numpy as np
import pandas as pd

from flowsim.config import MAX_COUNT, MAX_VILLAGES
from flowsim.domain import TIERS, Tier
from flowsim.errors import InputError

__all__ = [
    "UNLIMITED_CAPACITY",
    "County",
    "load_county_csv",
    "synthetic_county",
]

UNLIMITED_CAPACITY = 10**9
"""Outpatient slots per day and beds of an out-of-county hospital: effectively unlimited.

The county's residents are a negligible share of the patients of the provincial and city
hospitals outside it, so those never turn a county patient away for lack of capacity.
"""

CAPACITY_FIELDS = ("outpatient_slots_per_day", "beds")
VILLAGE_COLUMNS = ("village_id", "name", "township_id", "population", "x_km", "y_km")
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

_VILLAGE_NEIGHBOURS = 2  # road links from each village to its nearest other villages
_TOWNSHIP_NEIGHBOURS = 2  # trunk links from each township seat to its nearest other seats
_SEAT_CANDIDATES = 24  # best-candidate sampling of township seats (Mitchell 1991)
_VILLAGE_SIZE_SIGMA = 0.6  # sd of log village size; rural village sizes are right-skewed


@dataclass(frozen=True, eq=False)
class County:
    """One county: villages, facilities, travel times and the road network.

    Attributes:
        name: the county's name.
        villages: one row per village, index 0..n-1; columns ``village_id`` (str), ``name``
            (str), ``township`` (int, township number 0..n_townships-1), ``population``
            (int64), ``x_km``, ``y_km`` (float).
        facilities: one row per facility, index 0..m-1, ordered by tier code then
            ``facility_id``; columns ``facility_id``, ``name``, ``tier`` (one of
            `flowsim.domain.TIERS`), ``tier_code`` (int8), ``township`` (township number for
            village clinics and township centres, -1 otherwise), ``village`` (village row for
            village clinics, -1 otherwise), ``x_km``, ``y_km``, ``outpatient_slots_per_day``
            and ``beds`` (int64; `UNLIMITED_CAPACITY` for out-of-county hospitals).
        travel_min: float32 ``[n_villages, n_facilities]``, minutes from each village to each
            facility (read-only).
        graph: the road network (see the module docstring for node and edge attributes).

    """

    name: str
    villages: pd.DataFrame
    facilities: pd.DataFrame
    travel_min: np.ndarray
    graph: nx.Graph

    CHOICE_TIERS: ClassVar[tuple[Tier, ...]] = (
        Tier.VILLAGE,
        Tier.TOWNSHIP,
        Tier.TOWNSHIP,
        Tier.COUNTY,
        Tier.OUT_OF_COUNTY,
    )
    """Tier of each column of `choice_set`."""

    def __post_init__(self) -> None:
        travel = np.array(self.travel_min, dtype=np.float32)
        expected = (len(self.villages), len(self.facilities))
        if travel.shape != expected:
            raise ValueError(f"travel_min has shape {travel.shape}, expected {expected}")
        travel.setflags(write=False)
        object.__setattr__(self, "travel_min", travel)

    @property
    def population(self) -> int:
        """Number of residents: the sum of the village populations."""
        return int(self.villages["population"].sum())

    @property
    def n_townships(self) -> int:
        """Number of townships (each has one township health centre)."""
        return int((self.facilities["tier_code"] == Tier.TOWNSHIP).sum())

    def choice_set(self) -> np.ndarray:
        """Facilities each village's residents choose among, as facility rows.

        Returns:
            int32 ``[n_villages, 5]``, columns in the order of `CHOICE_TIERS`: the village's own
            clinic, its own township health centre, the nearest *other* township centre by
            travel time, the nearest county hospital and the nearest out-of-county hospital;
            -1 where there is none (a village without a clinic, a county with one township,
            a county without out-of-county hospitals). Ties go to the lower facility row.

        """
        fac = self.facilities
        tier = fac["tier_code"].to_numpy()
        n_villages = len(self.villages)
        choices = np.full((n_villages, len(self.CHOICE_TIERS)), -1, dtype=np.int32)

        clinics = np.flatnonzero(tier == Tier.VILLAGE)
        choices[fac["village"].to_numpy()[clinics], 0] = clinics

        centres = np.flatnonzero(tier == Tier.TOWNSHIP)
        centre_of = np.full(max(self.n_townships, 1), -1, dtype=np.int64)
        centre_of[fac["township"].to_numpy()[centres]] = centres
        own = centre_of[self.villages["township"].to_numpy()]
        choices[:, 1] = own
        if len(centres) > 1:
            minutes = self.travel_min[:, centres].astype(np.float64)
            minutes[centres[None, :] == own[:, None]] = np.inf
            choices[:, 2] = centres[np.argmin(minutes, axis=1)]

        for col, code in ((3, Tier.COUNTY), (4, Tier.OUT_OF_COUNTY)):
            rows = np.flatnonzero(tier == code)
            if len(rows):
                choices[:, col] = rows[np.argmin(self.travel_min[:, rows], axis=1)]
        return choices


# --------------------------------------------------------------------------------------------
# Synthetic county
# --------------------------------------------------------------------------------------------

_SYLLABLES = (
    "an bai bei chang chen dong feng fu gao he hong hua huang jia jin kang le li lin liu long "
    "ma nan ping qing quan shan shi shui song tai tian wang xi xin yang yong yu zhang zhou"
).split()


def synthetic_county(
    *,
    name: str,
    population: int,
    n_townships: int,
    n_villages: int,
    radius_km: float,
    village_road_kmh: float,
    trunk_road_kmh: float,
    out_of_county_minutes: float,
    capacity_per_1000: Mapping[str, Mapping[str, float]],
    n_county_hospitals: int = 1,
    n_out_of_county: int = 1,
    rng: np.random.Generator | int,
) -> County:
    """Build a made-up county, driven entirely by the arguments and ``rng``.

    Geography: the county seat is at (0, 0) and is township 0's seat; the other township seats
    are spread over a disc of ``radius_km`` by best-candidate sampling; each township gets at
    least one village, the rest are shared out multinomially, and villages are scattered
    uniformly over a disc of radius ``radius_km / sqrt(n_townships)`` around their seat.
    Roads (straight lines): each village to its township seat and to its 2 nearest other
    villages at ``village_road_kmh``; each township seat to the county seat and to its 2 nearest
    other seats at ``trunk_road_kmh``; the outside to the county seat, ``out_of_county_minutes``.
    Travel time = shortest-path minutes (Dijkstra).

    Population: lognormal village weights (log-sd 0.6); each village gets 1 resident and the
    rest is shared in proportion to the weights by largest remainder, so the total is exactly
    ``population``.

    Facilities and capacity: one clinic per village, one health centre per township,
    ``n_county_hospitals`` at the county seat, ``n_out_of_county`` at the outside node.
    Capacity = rate per 1,000 catchment residents × catchment / 1,000, rounded, where the
    catchment is the village (clinic), the township (centre) or the whole county shared
    equally (county hospitals). Every facility gets at least 1 outpatient slot; township
    centres and county hospitals at least 1 bed unless their bed rate is 0. Out-of-county
    hospitals get `UNLIMITED_CAPACITY` (an ``out_of_county`` entry in ``capacity_per_1000``
    is ignored).

    Args:
        name: county name.
        population: total residents (>= n_villages).
        n_townships: number of townships (>= 1).
        n_villages: number of villages (>= n_townships).
        radius_km: radius of the county disc.
        village_road_kmh: speed on village roads.
        trunk_road_kmh: speed on trunk roads between township seats.
        out_of_county_minutes: travel time from the county seat to the outside hospitals.
        capacity_per_1000: tier name -> {"outpatient_slots_per_day": x, "beds": y} per 1,000
            catchment residents, for "village", "township" and "county".
        n_county_hospitals: county hospitals (>= 1), all at the county seat.
        n_out_of_county: out-of-county hospitals (>= 0), all at the outside node.
        rng: numpy Generator (or an int seed for one); the only source of randomness.

    Returns:
        The county.

    Raises:
        InputError: an argument is out of range.

    """
    _check_synthetic_args(
        population=population,
        n_townships=n_townships,
        n_villages=n_villages,
        radius_km=radius_km,
        village_road_kmh=village_road_kmh,
        trunk_road_kmh=trunk_road_kmh,
        out_of_county_minutes=out_of_county_minutes,
        n_county_hospitals=n_county_hospitals,
        n_out_of_county=n_out_of_county,
    )
    rates = _check_rates(capacity_per_1000)
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise InputError(None, "rng", repr(rng), "a numpy.random.Generator or an int seed")

    seats = _township_seats(n_townships, radius_km, rng)
    counts = 1 + rng.multinomial(n_villages - n_townships, np.full(n_townships, 1 / n_townships))
    township = np.repeat(np.arange(n_townships), counts)
    spread = radius_km / np.sqrt(n_townships)
    r = spread * np.sqrt(rng.random(n_villages))
    theta = rng.uniform(0, 2 * np.pi, n_villages)
    vx = seats[township, 0] + r * np.cos(theta)
    vy = seats[township, 1] + r * np.sin(theta)
    weights = rng.lognormal(0.0, _VILLAGE_SIZE_SIGMA, n_villages)
    people = _apportion(population, weights)

    town_names = ["Chengguan"] + _pinyin_names(n_townships - 1, rng)
    village_names = _pinyin_names(n_villages, rng)
    villages = pd.DataFrame(
        {
            "village_id": [f"V{i + 1:0{_width(n_villages)}d}" for i in range(n_villages)],
            "name": [f"{v} Cun" for v in village_names],
            "township": township.astype(np.int64),
            "population": people,
            "x_km": vx,
            "y_km": vy,
        }
    ).astype({"village_id": str, "name": str})

    graph = _synthetic_graph(
        villages, seats, town_names, name, village_road_kmh, trunk_road_kmh, out_of_county_minutes
    )
    facilities, nodes = _synthetic_facilities(
        villages, seats, town_names, name, rates, n_county_hospitals, n_out_of_county
    )
    facilities = facilities.sort_values(["tier_code", "facility_id"], kind="stable")
    order = facilities.index.to_numpy()
    facilities = facilities.reset_index(drop=True)
    nodes = [nodes[k] for k in order]
    travel = _graph_travel(graph, nodes, n_villages)
    return County(
        name=name, villages=villages, facilities=facilities, travel_min=travel, graph=graph
    )


def _check_synthetic_args(**args: float) -> None:
    """Raise InputError for the first out-of-range argument of `synthetic_county`."""
    rules = {
        "n_townships": (1, "an integer >= 1"),
        "n_county_hospitals": (1, "an integer >= 1"),
        "n_out_of_county": (0, "an integer >= 0"),
        "n_villages": (args["n_townships"], "an integer >= n_townships"),
        "population": (args["n_villages"], "an integer >= n_villages (every village has people)"),
    }
    for field in (
        "n_townships",
        "n_county_hospitals",
        "n_out_of_county",
        "n_villages",
        "population",
    ):
        value = args[field]
        low, allowed = rules[field]
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise InputError(None, field, value, allowed)
        if value < low:
            raise InputError(None, field, value, allowed)
    for field in ("radius_km", "village_road_kmh", "trunk_road_kmh"):
        if not _is_number(args[field]) or not args[field] > 0:
            raise InputError(None, field, args[field], "a number > 0")
    if not _is_number(args["out_of_county_minutes"]) or not args["out_of_county_minutes"] >= 0:
        raise InputError(
            None, "out_of_county_minutes", args["out_of_county_minutes"], "a number of minutes >= 0"
        )


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def _check_rates(capacity_per_1000: Mapping[str, Mapping[str, float]]) -> dict[str, dict]:
    """Validate capacity_per_1000 and return {tier: {field: float}} for the in-county tiers."""
    rates: dict[str, dict] = {}
    if not isinstance(capacity_per_1000, Mapping):
        raise InputError(
            None,
            "capacity_per_1000",
            capacity_per_1000,
            "a mapping tier -> {outpatient_slots_per_day, beds}",
        )
    for tier in TIERS[: Tier.OUT_OF_COUNTY]:
        entry = capacity_per_1000.get(tier)
        if not isinstance(entry, Mapping):
            raise InputError(
                None,
                f"capacity_per_1000.{tier}",
                entry,
                "a mapping {outpatient_slots_per_day: x, beds: y} per 1,000 residents",
            )
        rates[tier] = {}
        for field in CAPACITY_FIELDS:
            value = entry.get(field)
            if not _is_number(value) or value < 0:
                raise InputError(
                    None,
                    f"capacity_per_1000.{tier}.{field}",
                    value,
                    "a number >= 0 per 1,000 catchment residents",
                )
            rates[tier][field] = float(value)
    return rates


def _width(n: int) -> int:
    return len(str(max(n, 1)))


def _township_seats(n: int, radius_km: float, rng: np.random.Generator) -> np.ndarray:
    """Seat coordinates [n, 2]; seat 0 is the county seat at the centre, others spread out."""
    seats = np.zeros((n, 2))
    for j in range(1, n):
        r = radius_km * np.sqrt(rng.random(_SEAT_CANDIDATES))
        theta = rng.uniform(0, 2 * np.pi, _SEAT_CANDIDATES)
        cand = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        gap = np.min(np.hypot(*(cand[:, None, :] - seats[None, :j, :]).transpose(2, 0, 1)), 1)
        seats[j] = cand[np.argmax(gap)]
    return seats


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing exactly to ``total``, each >= 1, the rest shared by largest remainder."""
    share = weights / weights.sum() * (total - len(weights))
    base = np.floor(share).astype(np.int64)
    left = total - len(weights) - int(base.sum())
    base[np.argsort(-(share - base), kind="stable")[:left]] += 1
    return base + 1


def _pinyin_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct made-up two-syllable pinyin names (numbered once the pairs run out)."""
    k = len(_SYLLABLES)
    picks = rng.permutation(k * k)
    names = []
    for i in range(n):
        a, b = divmod(int(picks[i % (k * k)]), k)
        stem = (_SYLLABLES[a] + _SYLLABLES[b]).capitalize()
        names.append(stem if i < k * k else f"{stem} {i // (k * k) + 1}")
    return names


def _nearest(points: np.ndarray, k: int) -> np.ndarray:
    """Find each point's k nearest other points: indices [n, min(k, n-1)] (chunked, no scipy)."""
    n = len(points)
    k = min(k, n - 1)
    out = np.empty((n, max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    for start in range(0, n, 1024):
        block = points[start : start + 1024]
        d = np.hypot(*(block[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(d, 1)[:, :k]
        out[start : start + len(block)] = part
    return out


def _add_road(graph: nx.Graph, a: tuple, b: tuple, kmh: float, road: str) -> None:
    km = float(
        np.hypot(
            graph.nodes[a]["x_km"] - graph.nodes[b]["x_km"],
            graph.nodes[a]["y_km"] - graph.nodes[b]["y_km"],
        )
    )
    graph.add_edge(a, b, km=km, minutes=km / kmh * 60.0, road=road)


def _add_villages(graph: nx.Graph, villages: pd.DataFrame, seat_of, kmh: float) -> None:
    """Village nodes linked by village road (``kmh``) to their seat and nearest villages.

    ``seat_of(township)`` names the node of a village's township seat.
    """
    for i, row in enumerate(villages.itertuples(index=False)):
        graph.add_node(
            ("village", i),
            kind="village",
            x_km=float(row.x_km),
            y_km=float(row.y_km),
            label=row.name,
            township=int(row.township),
        )
        _add_road(graph, ("village", i), seat_of(int(row.township)), kmh, "village")
    points = villages[["x_km", "y_km"]].to_numpy()
    for i, near in enumerate(_nearest(points, _VILLAGE_NEIGHBOURS)):
        for other in near:
            _add_road(graph, ("village", i), ("village", int(other)), kmh, "village")


def _seat_node(j: int) -> tuple[str, int]:
    """Synthetic-county node of township j's seat (township 0's seat is the county seat)."""
    return ("county_seat", 0) if j == 0 else ("township", j)


def _outside_xy(seats: np.ndarray) -> tuple[float, float]:
    """Where the outside node is drawn: east of the county, 1.25 × its farthest seat."""
    reach = max(float(np.hypot(seats[:, 0], seats[:, 1]).max()), 1.0)
    return 1.25 * reach, 0.0


def _synthetic_graph(
    villages: pd.DataFrame,
    seats: np.ndarray,
    town_names: list[str],
    county_name: str,
    village_kmh: float,
    trunk_kmh: float,
    outside_minutes: float,
) -> nx.Graph:
    graph = nx.Graph(name=county_name)
    for j, (x, y) in enumerate(seats):
        label = f"{county_name} county seat" if j == 0 else f"{town_names[j]} Zhen"
        kind = _seat_node(j)[0]
        graph.add_node(
            _seat_node(j), kind=kind, x_km=float(x), y_km=float(y), label=label, township=j
        )
    # Drawn just beyond the county's edge; its distance is in minutes, not km (see below).
    outside_xy = _outside_xy(seats)
    graph.add_node(
        ("outside", 0),
        kind="outside",
        x_km=outside_xy[0],
        y_km=outside_xy[1],
        label="outside the county",
        township=-1,
    )
    _add_villages(graph, villages, _seat_node, village_kmh)
    for j, near in enumerate(_nearest(seats, _TOWNSHIP_NEIGHBOURS)):
        if j:
            _add_road(graph, _seat_node(j), _seat_node(0), trunk_kmh, "trunk")
        for other in near:
            _add_road(graph, _seat_node(j), _seat_node(int(other)), trunk_kmh, "trunk")
    # The outside is not on the map: its single link has a fixed length in minutes.
    graph.add_edge(
        ("outside", 0),
        _seat_node(0),
        km=float("nan"),
        minutes=float(outside_minutes),
        road="outside",
    )
    return graph


def _capacity(catchment: np.ndarray, rate: dict[str, float], min_beds: int) -> dict:
    slots = np.maximum(np.rint(catchment * rate["outpatient_slots_per_day"] / 1000), 1)
    beds = np.rint(catchment * rate["beds"] / 1000)
    if rate["beds"] > 0:
        beds = np.maximum(beds, min_beds)
    return {"outpatient_slots_per_day": slots.astype(np.int64), "beds": beds.astype(np.int64)}


def _synthetic_facilities(
    villages: pd.DataFrame,
    seats: np.ndarray,
    town_names: list[str],
    county_name: str,
    rates: dict[str, dict],
    n_county: int,
    n_outside: int,
) -> tuple[pd.DataFrame, list[tuple]]:
    """Facility table (unsorted) and the graph node each facility stands at."""
    n_v, n_t = len(villages), len(seats)
    pop = villages["population"].to_numpy()
    town_pop = np.bincount(villages["township"], weights=pop, minlength=n_t)
    tables = [
        pd.DataFrame(
            {
                "facility_id": "VC" + villages["village_id"].str[1:],
                "name": villages["name"] + " clinic",
                "tier": "village",
                "township": villages["township"].to_numpy(),
                "village": np.arange(n_v),
                "x_km": villages["x_km"].to_numpy(),
                "y_km": villages["y_km"].to_numpy(),
                **_capacity(pop, rates["village"], 0),
            }
        ),
        pd.DataFrame(
            {
                "facility_id": [f"THC{j + 1:0{_width(n_t)}d}" for j in range(n_t)],
                "name": [f"{t} Township Health Centre" for t in town_names],
                "tier": "township",
                "township": np.arange(n_t),
                "village": -1,
                "x_km": seats[:, 0],
                "y_km": seats[:, 1],
                **_capacity(town_pop, rates["township"], 1),
            }
        ),
        pd.DataFrame(
            {
                "facility_id": [f"CH{k + 1}" for k in range(n_county)],
                "name": [
                    f"{county_name} County Hospital {k + 1}"
                    if n_county > 1
                    else f"{county_name} County People's Hospital"
                    for k in range(n_county)
                ],
                "tier": "county",
                "township": -1,
                "village": -1,
                "x_km": seats[0, 0],
                "y_km": seats[0, 1],
                **_capacity(np.full(n_county, pop.sum() / n_county), rates["county"], 1),
            }
        ),
        pd.DataFrame(
            {
                "facility_id": [f"OOC{k + 1}" for k in range(n_outside)],
                "name": [f"Out-of-county hospital {k + 1}" for k in range(n_outside)],
                "tier": "out_of_county",
                "township": -1,
                "village": -1,
                "x_km": _outside_xy(seats)[0],
                "y_km": _outside_xy(seats)[1],
                "outpatient_slots_per_day": UNLIMITED_CAPACITY,
                "beds": UNLIMITED_CAPACITY,
            }
        ),
    ]
    nodes = (
        [("village", i) for i in range(n_v)]
        + [_seat_node(j) for j in range(n_t)]
        + [_seat_node(0)] * n_county
        + [("outside", 0)] * n_outside
    )
    return _facility_frame(pd.concat(tables, ignore_index=True)), nodes


def _facility_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of `County.facilities` in order, with their dtypes."""
    df = df.copy()
    df["tier_code"] = df["tier"].map({t: i for i, t in enumerate(TIERS)}).astype(np.int8)
    types = {
        "facility_id": str,
        "name": str,
        "tier": str,
        "tier_code": np.int8,
        "township": np.int64,
        "village": np.int64,
        "x_km": np.float64,
        "y_km": np.float64,
        "outpatient_slots_per_day": np.int64,
        "beds": np.int64,
    }
    return df[list(types)].astype(types)


def _graph_travel(graph: nx.Graph, nodes: list[tuple], n_villages: int) -> np.ndarray:
    """Shortest-path minutes [n_villages, len(nodes)] from each village node to each node."""
    travel = np.full((n_villages, len(nodes)), np.inf, dtype=np.float32)
    columns: dict[tuple, list[int]] = {}
    for k, node in enumerate(nodes):
        columns.setdefault(node, []).append(k)
    village_nodes = [("village", i) for i in range(n_villages)]
    for node, cols in columns.items():
        dist = nx.single_source_dijkstra_path_length(graph, node, weight="minutes")
        minutes = np.array([dist.get(v, np.inf) for v in village_nodes], dtype=np.float32)
        travel[:, cols] = minutes[:, None]
    return travel


# --------------------------------------------------------------------------------------------
# County from CSV
# --------------------------------------------------------------------------------------------


def load_county_csv(
    villages_csv: str | Path,
    facilities_csv: str | Path,
    *,
    name: str | None = None,
    road_kmh: float,
    detour_factor: float = 1.3,
    out_of_county_minutes: float | None = None,
) -> County:
    """Load a real county from a villages CSV and a facilities CSV.

    ``villages.csv`` columns: ``village_id,name,township_id,population,x_km,y_km``.
    ``facilities.csv`` columns: ``facility_id,name,tier,township_id,village_id,x_km,y_km,
    outpatient_slots_per_day,beds``; ``tier`` is one of village, township, county,
    out_of_county; ``township_id`` is required for township health centres (it names the
    township) and ``village_id`` for village clinics; both may be empty otherwise (a village
    clinic's township is its village's). Out-of-county hospitals may leave the capacity
    columns empty (unlimited, `UNLIMITED_CAPACITY`). Extra columns are ignored; blank lines are
    skipped but counted in row numbers.

    Township numbers follow the township health centres' order in the facility table (sorted
    by facility_id); villages keep the file's order.

    Travel time = straight-line km × ``detour_factor`` / ``road_kmh`` × 60. If
    ``out_of_county_minutes`` is given, out-of-county hospitals are instead that many minutes
    beyond the village's nearest county hospital.

    Args:
        villages_csv: path to the villages file.
        facilities_csv: path to the facilities file.
        name: county name (default: the villages file's folder name).
        road_kmh: average road speed.
        detour_factor: road km per straight-line km.
        out_of_county_minutes: minutes from the county hospital to the out-of-county hospitals.

    Returns:
        The county.

    Raises:
        InputError: a file is missing or unreadable, or a value is bad; the message names the
            file, the row (1-based, header excluded), the column and the value.

    """
    for field, value in (("road_kmh", road_kmh), ("detour_factor", detour_factor)):
        if not _is_number(value) or not value > 0:
            raise InputError(None, field, value, "a number > 0")
    if out_of_county_minutes is not None and (
        not _is_number(out_of_county_minutes) or out_of_county_minutes < 0
    ):
        raise InputError(
            None,
            "out_of_county_minutes",
            out_of_county_minutes,
            "a number of minutes >= 0, or None",
        )
    villages_csv, facilities_csv = Path(villages_csv), Path(facilities_csv)
    vraw = _read_csv(villages_csv, VILLAGE_COLUMNS)
    fraw = _read_csv(facilities_csv, FACILITY_COLUMNS)

    fac = _parse_facilities(fraw, facilities_csv)
    vil, township_ids = _parse_villages(vraw, villages_csv, fac, facilities_csv)
    fac = _link_clinics(fac, fraw, vil, facilities_csv, villages_csv)

    km = np.hypot(
        vil["x_km"].to_numpy()[:, None] - fac["x_km"].to_numpy()[None, :],
        vil["y_km"].to_numpy()[:, None] - fac["y_km"].to_numpy()[None, :],
    )
    travel = km * detour_factor / road_kmh * 60.0
    tier = fac["tier_code"].to_numpy()
    outside = tier == Tier.OUT_OF_COUNTY
    if out_of_county_minutes is not None and outside.any():
        nearest_county = travel[:, tier == Tier.COUNTY].min(axis=1)
        travel[:, outside] = (nearest_county + out_of_county_minutes)[:, None]

    county_name = name if name is not None else (villages_csv.resolve().parent.name or "county")
    graph = _csv_graph(
        vil, fac, township_ids, county_name, road_kmh, detour_factor, out_of_county_minutes
    )
    return County(name=county_name, villages=vil, facilities=fac, travel_min=travel, graph=graph)


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
            default=UNLIMITED_CAPACITY,
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
    fac = _facility_frame(fac).join(fac[["_row", "_township_id"]])
    fac = fac.sort_values(["tier_code", "facility_id"], kind="stable").reset_index(drop=True)
    centres = np.flatnonzero(fac["tier_code"] == Tier.TOWNSHIP)
    fac.loc[centres, "township"] = np.arange(len(centres))
    return fac


def _parse_villages(
    df: pd.DataFrame, path: Path, fac: pd.DataFrame, fac_path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Village table; returns it and the township ids in township-number order."""
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
    return vil.astype({"village_id": str, "name": str}), township_ids


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


def _csv_graph(
    vil: pd.DataFrame,
    fac: pd.DataFrame,
    township_ids: list[str],
    county_name: str,
    road_kmh: float,
    detour_factor: float,
    out_of_county_minutes: float | None,
) -> nx.Graph:
    """Road graph for display: same shape as a synthetic county's, straight-line roads."""
    kmh = road_kmh / detour_factor  # straight-line speed, so edge minutes match travel_min
    graph = nx.Graph(name=county_name)
    tier = fac["tier_code"].to_numpy()
    for kind, code in (
        ("township", Tier.TOWNSHIP),
        ("county_seat", Tier.COUNTY),
        ("outside", Tier.OUT_OF_COUNTY),
    ):
        for n, k in enumerate(np.flatnonzero(tier == code)):
            graph.add_node(
                (kind, n),
                kind=kind,
                x_km=float(fac.at[k, "x_km"]),
                y_km=float(fac.at[k, "y_km"]),
                label=fac.at[k, "name"],
                township=int(fac.at[k, "township"]),
            )
    _add_villages(graph, vil, lambda j: ("township", j), kmh)
    seats = [n for n in graph if n[0] == "county_seat"]
    seat_xy = np.array([[graph.nodes[s]["x_km"], graph.nodes[s]["y_km"]] for s in seats])

    def nearest_seat(node: tuple) -> tuple:
        d = np.hypot(*(seat_xy - [graph.nodes[node]["x_km"], graph.nodes[node]["y_km"]]).T)
        return seats[int(np.argmin(d))]

    towns = np.array(
        [
            [graph.nodes[("township", j)]["x_km"], graph.nodes[("township", j)]["y_km"]]
            for j in range(len(township_ids))
        ]
    ).reshape(-1, 2)
    for j, near in enumerate(_nearest(towns, _TOWNSHIP_NEIGHBOURS)):
        _add_road(graph, ("township", j), nearest_seat(("township", j)), kmh, "trunk")
        for other in near:
            _add_road(graph, ("township", j), ("township", int(other)), kmh, "trunk")
    for node in [n for n in graph if n[0] == "outside"]:
        seat = nearest_seat(node)
        _add_road(graph, node, seat, kmh, "outside")
        if out_of_county_minutes is not None:
            graph.edges[node, seat]["minutes"] = float(out_of_county_minutes)
    return graph
