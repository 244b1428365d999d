"""Who falls ill today, how badly, and how much their care costs: the model's draws.

Each kind of episode has its own random streams per day (``flowsim.streams``), so a reform never
changes who falls ill or how badly (common random numbers).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.special
from numba import njit

from flowsim.domain import DAYS_PER_YEAR

SEVERITY_GRID = 4096
"""Steps of the tabulated severity quantile function (``beta_by_table``)."""
NOISE_GRID = 4096
"""Equally likely values of the bill noise (``bill_noise_table``)."""
KINDS = ("minor", "serious")
"""Kinds of acute episodes: minor (outpatient care or none) and serious (needs admission)."""


class Illness:
    """The day's new acute episodes and bill noise of a county's residents.

    State:
        rates: {kind: [age band] episodes per person-year}.
        severity_beta: {kind: (a, b)} of the Beta distribution of severity (0–1), for the acute
            kinds and for 两病 follow-ups ("chronic": how the patient is doing that day).
        noise_table: [NOISE_GRID] mean-one bill multipliers (``bill_noise_table``).
    """

    def __init__(self, model) -> None:
        self.model = model
        p = model.params.illness
        self.rates = {"minor": p.minor_episodes_per_year, "serious": p.serious_episodes_per_year}
        self.severity_beta = {"minor": p.minor_severity_beta, "serious": p.serious_severity_beta,
                              "chronic": p.chronic_severity_beta}
        self.noise_table = bill_noise_table(model.params.facilities.bill_dispersion)

    def new_episodes(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Residents falling ill today with an episode of ``kind``, in random order, and severity.

        Count ~ Poisson(Λ), Λ = Σ_b λ_b with λ_b = rate_b / 365 × residents_b; each episode is one
        U(0, 1) read against the cumulative intensity of the residents (sorted by age band): band
        b with probability λ_b / Λ, then a member uniformly. This is independent Poisson counts
        per band, served in random order. Severity ~ Beta(a, b) by ``beta_by_table``.
        """
        m = self.model
        rng = m.streams.on(f"illness.{kind}", m.day)
        start, size = m.residents.band_start, m.residents.band_size
        per_day = np.asarray(self.rates[kind], np.float64) / float(DAYS_PER_YEAR)
        intensity = np.cumsum(per_day * size)
        rows = _resident_at(rng.random(rng.poisson(intensity[-1])), intensity, per_day, start)
        return rows, self.severity(kind, len(rows))

    def severity(self, kind: str, n: int) -> np.ndarray:
        """Severity (0–1) of ``n`` of today's episodes of ``kind``: Beta by ``beta_by_table``."""
        m = self.model
        u = m.streams.on(f"severity.{kind}", m.day).random(n)
        return beta_by_table(*self.severity_beta[kind], u)

    def bill_noise(self, k: int, n: int) -> np.ndarray:
        """[k, n] mean-one lognormal multipliers of bills (``bill_noise_table``), float32."""
        u = self.model.streams.on("bill", self.model.day).random((k, n), np.float32)
        return self.noise_table[(u * len(self.noise_table)).astype(np.intp)]


def beta_by_table(a: float, b: float, uniform: np.ndarray) -> np.ndarray:
    """Beta(a, b) draws by inverse CDF from U(0, 1) draws ``uniform``.

    Q(u) interpolated linearly between the quantiles tabulated at u = 0, 1/G, …, 1
    (G = ``SEVERITY_GRID``): a third of the cost of two gamma draws.
    """
    return _interpolate(_beta_quantiles(float(a), float(b)), uniform)


@functools.cache
def _beta_quantiles(a: float, b: float) -> np.ndarray:
    """Beta(a, b) quantiles at 0, 1/G, …, 1 with G = ``SEVERITY_GRID``."""
    return scipy.special.betaincinv(a, b, np.linspace(0.0, 1.0, SEVERITY_GRID + 1))


@njit(cache=True)
def _resident_at(uniform, intensity, per_day, band_start):
    """Resident rows at U × Λ on the cumulative intensity of residents sorted by age band.

    ``intensity`` [band] = cumulative Σ per_day × residents up to each band's end (Λ the last);
    band b = the first whose cumulative intensity exceeds U × Λ, and within it the member
    ⌊(U × Λ − intensity before b) / per_day[b]⌋ (``band_start`` [band + 1] first rows).
    """
    rows = np.empty(uniform.size, np.int64)
    total = intensity[-1]
    for i in range(uniform.size):
        x = uniform[i] * total
        b = 0
        while b < intensity.size - 1 and x >= intensity[b]:
            b += 1
        below = intensity[b - 1] if b > 0 else 0.0
        rows[i] = min(band_start[b] + int((x - below) / per_day[b]), band_start[b + 1] - 1)
    return rows


@njit(cache=True)
def _interpolate(table, uniform):
    """Linear interpolation in ``table`` [G + 1] at positions ``uniform`` × G (one pass)."""
    grid = table.size - 1
    out = np.empty(uniform.size)
    for i in range(uniform.size):
        u = uniform[i] * grid
        cell = min(int(u), grid - 1)
        out[i] = table[cell] + (u - cell) * (table[cell + 1] - table[cell])
    return out


def bill_noise_table(sigma: float) -> np.ndarray:
    """``NOISE_GRID`` equally likely bill multipliers (float32) of log-sd ``sigma``.

    Lognormal exp(σ z) at the quantiles z = Φ⁻¹((i + ½) / G) of the standard normal, scaled to
    mean exactly one.

    A bill's multiplier is the entry at a uniform draw: this discretised lognormal is drawn
    three times faster than normal deviates; it lacks only the tails beyond ±3.7σ (p = 2e-4).
    """
    z = scipy.special.ndtri((np.arange(NOISE_GRID) + 0.5) / NOISE_GRID)
    multiplier = np.exp(sigma * z)
    return (multiplier / multiplier.mean()).astype(np.float32)
