"""Intermittent demand: Croston, SBA, TSB and the temporal-aggregation methods ADIDA and IMAPA (statsmodels has none)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache, Zero, _empirical_bounds
from analytics.forecasting.models.theta import _ses_alpha, _ses_levels

__all__ = ["ADIDA", "IMAPA", "SBA", "TSB", "Croston", "aggregation_level"]


def _zero_share(y: np.ndarray) -> float:
    """Share of months without demand from the first demand on (for the intervals' zero floor)."""
    nz = np.flatnonzero(y > 0)
    return float(np.mean(y[nz[0] :] <= 0)) if nz.size else 1.0


class _IntermittentModel(ForecastModel):
    """What every intermittent method shares: it needs some positive demand, and falls back to Zero."""

    def _fallback(self) -> ForecastModel:
        return Zero()

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size == 0:
            return "empty history"
        if not np.any(y > 0):
            return "no positive demand"
        return None


class Croston(_IntermittentModel):
    """Croston's method with a fixed smoothing constant ``alpha`` (default 0.1).

    Demand sizes z_k (the non-zero values) and the intervals p_k between them (the first interval counts
    from the start of the history, 1-based) are smoothed separately with SES, each starting at its first
    value: z^_1 = z_1, z^_k = z^_{k-1} + alpha (z_k - z^_{k-1}) (same for p^). Forecast (flat): z^ / p^.
    Interval: flat, mean + empirical quantiles of the in-sample one-step errors y_t - f_{t-1} after the first
    demand (normal with their RMS when fewer than 8). Fallback: no demand at all -> Zero.
    """

    alias = "Croston"

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__()
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = float(alpha)

    def get_params(self) -> dict[str, object]:
        return {"alpha": self.alpha}

    def _factor(self) -> float:
        return 1.0

    def _fit(self, y: np.ndarray) -> None:
        a = self.alpha
        z_hat = p_hat = float("nan")
        since = 0
        path = np.full(y.size, np.nan)  # forecast made at the end of each period
        for t, value in enumerate(y):
            since += 1
            if value > 0:
                if np.isnan(z_hat):
                    z_hat, p_hat = float(value), float(since)
                else:
                    z_hat += a * (value - z_hat)
                    p_hat += a * (since - p_hat)
                since = 0
            if not np.isnan(z_hat):
                path[t] = self._factor() * z_hat / p_hat
        self.z_hat_, self.p_hat_ = z_hat, p_hat
        self.level_ = float(path[-1])
        self.errors_ = y[1:] - path[:-1]
        self.zero_share_ = _zero_share(y)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _empirical_bounds(mean, self.errors_, levels, self.zero_share_)


class SBA(Croston):
    """Syntetos-Boylan approximation: Croston's forecast times (1 - alpha / 2) (removes Croston's bias).

    Interval: as Croston (empirical quantiles of SBA's own one-step errors).
    """

    alias = "SBA"

    def _factor(self) -> float:
        return 1.0 - self.alpha / 2.0


class TSB(_IntermittentModel):
    """Teunter-Syntetos-Babai: smooths the demand probability every month, so it decays during no-demand runs.

    Starts at the first demand: z^ = z_1 and d^ = 1 / p_1 (p_1 = months up to and including the first
    demand). Each later month: d^ += beta (1[y_t > 0] - d^); in a demand month also z^ += alpha (y_t - z^).
    Forecast (flat): d^ * z^. Interval: as Croston. Fallback: no demand at all -> Zero.
    """

    alias = "TSB"

    def __init__(self, alpha: float = 0.1, beta: float = 0.1) -> None:
        super().__init__()
        if not (0.0 < alpha <= 1.0 and 0.0 < beta <= 1.0):
            raise ValueError("alpha and beta must be in (0, 1]")
        self.alpha = float(alpha)
        self.beta = float(beta)

    def get_params(self) -> dict[str, object]:
        return {"alpha": self.alpha, "beta": self.beta}

    def _fit(self, y: np.ndarray) -> None:
        first = int(np.flatnonzero(y > 0)[0])
        z_hat = float(y[first])
        d_hat = 1.0 / (first + 1)
        path = np.full(y.size, np.nan)
        path[first] = d_hat * z_hat
        for t in range(first + 1, y.size):
            occurred = y[t] > 0
            d_hat += self.beta * (float(occurred) - d_hat)
            if occurred:
                z_hat += self.alpha * (y[t] - z_hat)
            path[t] = d_hat * z_hat
        self.z_hat_, self.d_hat_ = z_hat, d_hat
        self.level_ = float(path[-1])
        self.errors_ = y[1:] - path[:-1]
        self.zero_share_ = _zero_share(y)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _empirical_bounds(mean, self.errors_, levels, self.zero_share_)


# --------------------------------------------------------------------------------------------------
# temporal aggregation: ADIDA and IMAPA
# --------------------------------------------------------------------------------------------------

#: Range of the SES smoothing constant ADIDA and IMAPA estimate (statsforecast's, after Kourentzes' MAPA).
AGG_ALPHA_BOUNDS = (0.1, 0.3)


def aggregation_level(y: np.ndarray) -> int:
    """Mean interval between demands, rounded (Python's round, half to even): ADIDA's bucket size.

    Intervals count months from one demand to the next; the first counts from the start of the history
    (1-based), so a history starting with a demand has a first interval of 1.
    """
    idx = np.flatnonzero(y != 0)
    if idx.size == 0:
        return 1
    intervals = np.diff(idx + 1, prepend=0)
    return max(1, round(float(np.mean(intervals))))


def _bucket_path(y: np.ndarray, k: int, alpha: float | None) -> tuple[float, float, np.ndarray]:
    """SES on sums of non-overlapping k-month buckets (the oldest n mod k months left out).

    Returns (alpha, per-month forecast = last SES level / k, per-month in-sample path: the forecast made
    before each bucket, NaN for the first bucket and the months left out).
    """
    cut = y.size % k
    sums = y[cut:].reshape(-1, k).sum(axis=1)
    a = _ses_alpha(sums, AGG_ALPHA_BOUNDS) if alpha is None else float(alpha)
    levels = _ses_levels(sums, a)
    path = np.full(y.size, np.nan)
    if sums.size > 1:
        path[cut + k :] = np.repeat(levels[:-1] / k, k)
    return a, float(levels[-1] / k), path


class ADIDA(_IntermittentModel):
    """Aggregate-disaggregate intermittent demand approach (Nikolopoulos et al. 2011).

    The history (leading zeros kept as given) is cut into non-overlapping buckets of ``k`` months, k =
    ``aggregation_level`` (the mean demand interval, rounded), aligned to its end (the oldest n mod k
    months are left out); the bucket sums are forecast with SES (l_0 = first sum; alpha estimated in
    [0.1, 0.3] by least squares, or ``alpha`` when given); the forecast per month is the last level / k.
    Worked example (``tests/unit/test_forecasting_models.py``): y = 0,3,0,0,2,0,0,4 -> demands at months
    2, 5, 8, intervals 2, 3, 3, k = round(2.67) = 3; the oldest 8 mod 3 = 2 months go, bucket sums
    [2, 4] (months 3-5 and 6-8); with alpha = 0.2: l = 2, then 2 + 0.2 (4 - 2) = 2.4; forecast 2.4 / 3 = 0.8.
    Interval: flat, mean + empirical quantiles of the in-sample errors (each bucket's months against the
    previous level / k; normal with their RMS when fewer than 8). Fallback: no demand at all -> Zero.
    """

    alias = "ADIDA"

    def __init__(self, alpha: float | None = None) -> None:
        super().__init__()
        if alpha is not None and not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha

    def get_params(self) -> dict[str, object]:
        return {"alpha": self.alpha}

    def _fit(self, y: np.ndarray) -> None:
        self.k_ = aggregation_level(y)
        self.alpha_, self.level_, path = _bucket_path(y, self.k_, self.alpha)
        self.errors_ = y - path
        self.zero_share_ = _zero_share(y)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _empirical_bounds(mean, self.errors_, levels, self.zero_share_)

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        return np.full(h, _bucket_path(y, self.k_, self.alpha_)[1])  # bucket size and alpha kept


class IMAPA(ADIDA):
    """Intermittent multiple aggregation prediction algorithm (Petropoulos & Kourentzes 2015).

    ADIDA at every bucket size k = 1 .. ``aggregation_level`` (each with its own SES alpha in [0.1, 0.3],
    or ``alpha``), and the forecast per month is the mean of their per-month forecasts. Worked example: for
    the ADIDA series above and alpha = 0.2, k = 1 gives SES on 0,3,0,0,2,0,0,4 (l = 0, 0.6, 0.48, 0.384,
    0.7072, 0.56576, 0.452608, 1.1620864), k = 2 gives sums [3, 0, 2, 4] -> l = 3, 2.4, 2.32, 2.656 -> 1.328 a
    month, k = 3 gives 0.8 (ADIDA): forecast (1.1620864 + 1.328 + 0.8) / 3 = 1.0966955.
    Interval: as ADIDA, on the mean in-sample path of the levels.
    """

    alias = "IMAPA"

    def _fit(self, y: np.ndarray) -> None:
        self.k_ = aggregation_level(y)
        parts = [_bucket_path(y, k, self.alpha) for k in range(1, self.k_ + 1)]
        self.alphas_ = [a for a, _, _ in parts]
        self.level_ = float(np.mean([f for _, f, _ in parts]))
        paths = np.stack([p for _, _, p in parts])
        with np.errstate(all="ignore"):
            counts = np.sum(np.isfinite(paths), axis=0)
            path = np.where(counts > 0, np.nansum(paths, axis=0) / np.maximum(counts, 1), np.nan)
        self.errors_ = y - path
        self.zero_share_ = _zero_share(y)

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        means = [_bucket_path(y, k, a)[1] for k, a in zip(range(1, self.k_ + 1), self.alphas_)]
        return np.full(h, float(np.mean(means)))
