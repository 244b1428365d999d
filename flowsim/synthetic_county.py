"""A made-up county: villages around township seats around the county seat, joined by roads.

`generate_county` is driven entirely by the scenario's ``county.synthetic`` and
``facilities.capacity_per_1000`` sections and a numpy ``Generator``: same sections and generator
state, same county. The sections are validated by `flowsim.config` (counts >= 1, speeds > 0,
population >= villages >= townships), so the generator does not check them again.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from flowsim.config import Capacity, SyntheticCounty
from flowsim.county import County, facility_table
from flowsim.domain import UNLIMITED

__all__ = ["generate_county"]

VILLAGE_NEIGHBOURS = 2
"""Road links from each village to its nearest other villages."""
TOWNSHIP_NEIGHBOURS = 2
"""Trunk-road links from each township seat to its nearest other seats."""
SEAT_CANDIDATES = 24
"""Candidates per township seat in best-candidate sampling (Mitchell 1991)."""
VILLAGE_SIZE_SIGMA = 0.6
"""Standard deviation of log village size (assumed: rural village sizes are right-skewed)."""

_SYLLABLES = (
    "an bai bei chang chen dong feng fu gao he hong hua huang jia jin kang le li lin liu long "
    "ma nan ping qing quan shan shi shui song tai tian wang xi xin yang yong yu zhang zhou"
).split()


def generate_county(
    name: str, layout: SyntheticCounty, capacity: Capacity, rng: np.random.Generator
) -> County:
    """Build a made-up county from validated scenario sections and ``rng``.

    Geography: the county seat is at (0, 0) and is township 0's seat; the other township seats
    are spread over a disc of ``radius_km`` by best-candidate sampling; each township gets at
    least one village, the rest are shared out multinomially, and villages are scattered
    uniformly over a disc of radius ``radius_km / sqrt(townships)`` around their seat.
    Roads (straight lines): each village to its township seat and to its 2 nearest other
    villages at ``village_road_kmh``; each township seat to the county seat and to its 2 nearest
    other seats at ``trunk_road_kmh``; the outside to the county seat, ``out_of_county_minutes``.
    Travel time = shortest-path minutes over these roads (Dijkstra).

    Population: lognormal village weights (log-sd 0.6); each village gets 1 resident and the
    rest is shared in proportion to the weights by largest remainder, so the total is exactly
    ``population``.

    Facilities and capacity: one clinic per village, one health centre per township,
    ``county_hospitals`` at the county seat and one out-of-county hospital beyond it. Capacity
    = rate per 1,000 catchment residents × catchment / 1,000, rounded, where the catchment is
    the village (clinic), the township (centre) or the whole county shared equally (county
    hospitals). Every facility gets at least 1 outpatient slot; township centres and county
    hospitals at least 1 bed unless their bed rate is 0. The out-of-county hospital gets
    `flowsim.domain.UNLIMITED` (the ``out_of_county`` rates are not used).

    Args:
        name: county name.
        layout: the scenario's ``county.synthetic`` section (sizes, radius, road speeds).
        capacity: the scenario's ``facilities.capacity_per_1000`` section.
        rng: the only source of randomness.

    Returns:
        The county.

    """
    n_townships = layout.townships.value
    n_villages = layout.villages.value
    radius_km = layout.radius_km.value

    seats = _township_seats(n_townships, radius_km, rng)
    counts = 1 + rng.multinomial(n_villages - n_townships, np.full(n_townships, 1 / n_townships))
    township = np.repeat(np.arange(n_townships), counts)
    spread = radius_km / np.sqrt(n_townships)
    r = spread * np.sqrt(rng.random(n_villages))
    theta = rng.uniform(0, 2 * np.pi, n_villages)
    vx = seats[township, 0] + r * np.cos(theta)
    vy = seats[township, 1] + r * np.sin(theta)
    weights = rng.lognormal(0.0, VILLAGE_SIZE_SIGMA, n_villages)
    people = _apportion(layout.population.value, weights)

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

    roads = _road_graph(villages, seats, layout)
    facilities, nodes = _facilities(
        villages, seats, town_names, name, capacity, layout.county_hospitals.value
    )
    facilities = facilities.sort_values(["tier_code", "facility_id"], kind="stable")
    nodes = [nodes[k] for k in facilities.index]
    facilities = facilities.reset_index(drop=True)
    travel = _travel_minutes(roads, nodes, n_villages)
    return County(name=name, villages=villages, facilities=facilities, travel_min=travel)


# ---------------------------------------------------------------------------------- geography


def _width(n: int) -> int:
    return len(str(max(n, 1)))


def _township_seats(n: int, radius_km: float, rng: np.random.Generator) -> np.ndarray:
    """Seat coordinates [n, 2]; seat 0 is the county seat at the centre, others spread out."""
    seats = np.zeros((n, 2))
    for j in range(1, n):
        r = radius_km * np.sqrt(rng.random(SEAT_CANDIDATES))
        theta = rng.uniform(0, 2 * np.pi, SEAT_CANDIDATES)
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


def _outside_xy(seats: np.ndarray) -> tuple[float, float]:
    """Where the out-of-county hospital is drawn: east of the county, 1.25 × its farthest seat."""
    reach = max(float(np.hypot(seats[:, 0], seats[:, 1]).max()), 1.0)
    return 1.25 * reach, 0.0


# ---------------------------------------------------------------------------------- roads


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


def _road_graph(villages: pd.DataFrame, seats: np.ndarray, layout: SyntheticCounty) -> nx.Graph:
    """Road network weighted by ``minutes``: nodes ``("village", i)``, ``("seat", j)``, "outside".

    Township 0's seat is the county seat; the outside hangs off it by a single link of
    ``out_of_county_minutes`` (it is not on the map).
    """
    graph = nx.Graph()
    xy = {("seat", j): (float(x), float(y)) for j, (x, y) in enumerate(seats)}
    graph.add_nodes_from([*xy, "outside"])
    village_xy = villages[["x_km", "y_km"]].to_numpy()
    xy |= {("village", i): (float(x), float(y)) for i, (x, y) in enumerate(village_xy)}

    def road(a: tuple, b: tuple, kmh: float) -> None:
        km = float(np.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1]))
        graph.add_edge(a, b, minutes=km / kmh * 60.0)

    village_kmh = layout.village_road_kmh.value
    trunk_kmh = layout.trunk_road_kmh.value
    for i, j in enumerate(villages["township"]):
        graph.add_node(("village", i))
        road(("village", i), ("seat", int(j)), village_kmh)
    for i, near in enumerate(_nearest(village_xy, VILLAGE_NEIGHBOURS)):
        for other in near:
            road(("village", i), ("village", int(other)), village_kmh)
    for j, near in enumerate(_nearest(seats, TOWNSHIP_NEIGHBOURS)):
        if j:
            road(("seat", j), ("seat", 0), trunk_kmh)
        for other in near:
            road(("seat", j), ("seat", int(other)), trunk_kmh)
    graph.add_edge("outside", ("seat", 0), minutes=float(layout.out_of_county_minutes.value))
    return graph


def _travel_minutes(graph: nx.Graph, nodes: list, n_villages: int) -> np.ndarray:
    """Shortest-path minutes [n_villages, len(nodes)] from each village node to each node."""
    travel = np.full((n_villages, len(nodes)), np.inf, dtype=np.float32)
    columns: dict[object, list[int]] = {}
    for k, node in enumerate(nodes):
        columns.setdefault(node, []).append(k)
    village_nodes = [("village", i) for i in range(n_villages)]
    for node, cols in columns.items():
        dist = nx.single_source_dijkstra_path_length(graph, node, weight="minutes")
        minutes = np.array([dist.get(v, np.inf) for v in village_nodes], dtype=np.float32)
        travel[:, cols] = minutes[:, None]
    return travel


# ---------------------------------------------------------------------------------- facilities


def _capacity(catchment: np.ndarray, capacity: Capacity, tier: str, min_beds: int) -> dict:
    """Outpatient slots (>= 1) and beds (>= ``min_beds`` unless the rate is 0) per facility."""
    slot_rate = getattr(capacity.outpatient_slots_per_day.value, tier)
    bed_rate = getattr(capacity.beds.value, tier)
    slots = np.maximum(np.rint(catchment * slot_rate / 1000), 1)
    beds = np.rint(catchment * bed_rate / 1000)
    if bed_rate > 0:
        beds = np.maximum(beds, min_beds)
    return {"outpatient_slots_per_day": slots.astype(np.int64), "beds": beds.astype(np.int64)}


def _facilities(
    villages: pd.DataFrame,
    seats: np.ndarray,
    town_names: list[str],
    county_name: str,
    capacity: Capacity,
    n_county: int,
) -> tuple[pd.DataFrame, list]:
    """Facility table (unsorted) and the road node each facility stands at."""
    n_v, n_t = len(villages), len(seats)
    pop = villages["population"].to_numpy()
    town_pop = np.bincount(villages["township"], weights=pop, minlength=n_t)
    outside_x, outside_y = _outside_xy(seats)
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
                **_capacity(pop, capacity, "village", 0),
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
                **_capacity(town_pop, capacity, "township", 1),
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
                **_capacity(np.full(n_county, pop.sum() / n_county), capacity, "county", 1),
            }
        ),
        pd.DataFrame(
            {
                "facility_id": ["OOC1"],
                "name": ["Out-of-county hospital 1"],
                "tier": "out_of_county",
                "township": -1,
                "village": -1,
                "x_km": outside_x,
                "y_km": outside_y,
                "outpatient_slots_per_day": UNLIMITED,
                "beds": UNLIMITED,
            }
        ),
    ]
    nodes = (
        [("village", i) for i in range(n_v)]
        + [("seat", j) for j in range(n_t)]
        + [("seat", 0)] * n_county
        + ["outside"]
    )
    return facility_table(pd.concat(tables, ignore_index=True)), nodes
