"""Shared pre-processing of the statsmodels-based models: the seasonality test, the classical seasonal
adjustment, the log scale and temporal aggregation (``_Prepared``, the base of ETS, Theta and ARIMA).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache, _all_zero

__all__ = [
    "NO_SEASONALITY",
    "SEASONAL_WINDOW",
    "SeasonalAdjustment",
    "seasonal_adjustment",
    "seasonality_test",
    "trend_strength",
]


def seasonality_test(y: np.ndarray, season_length: int = 12) -> bool:
    """90% autocorrelation test at lag ``season_length`` (M4 benchmark rule).

    Seasonal when |r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n). The M4 benchmarks require 3 seasons;
    here 2 are enough, since two years of history is common in demand planning.
    """
    m = season_length
    n = y.size
    if m < 2 or n < 2 * m:
        return False
    x = y - y.mean()
    denom = float(np.dot(x, x))
    if denom == 0.0:
        return False
    acf = np.array([np.dot(x[: n - k], x[k:]) / denom for k in range(m + 1)])
    limit = 1.645 * math.sqrt((1.0 + 2.0 * float(np.sum(acf[1:m] ** 2))) / n)
    return bool(abs(acf[m]) > limit)


@dataclass(frozen=True)
class SeasonalAdjustment:
    """Seasonal indices from a classical decomposition, aligned to the positions of the history.

    ``indices[i]`` is the index of every month whose position ``t`` has ``t % period == i``.
    ``method`` is ``'none'``, ``'multiplicative'`` (divide) or ``'additive'`` (subtract).
    """

    method: str
    period: int
    indices: np.ndarray

    def adjust(self, y: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return y
        s = self.indices[np.arange(y.size) % self.period]
        return y / s if self.method == "multiplicative" else y - s

    def future(self, n_obs: int, h: int) -> np.ndarray:
        """Indices of the h months after a history of ``n_obs`` months."""
        if self.method == "none":
            return np.full(h, 1.0)
        return self.indices[(n_obs + np.arange(h)) % self.period]

    def reseasonalise(self, values: np.ndarray, n_obs: int) -> np.ndarray:
        if self.method == "none":
            return values
        s = self.future(n_obs, values.size)
        return values * s if self.method == "multiplicative" else values + s


NO_SEASONALITY = SeasonalAdjustment("none", 1, np.ones(1))


#: The seasonal indices are estimated from the detrended values of the last this many seasons (years) only.
SEASONAL_WINDOW = 5


def seasonal_adjustment(
    y: np.ndarray, season_length: int = 12, window: int | None = SEASONAL_WINDOW
) -> SeasonalAdjustment:
    """Classical decomposition indices when ``seasonality_test`` says so, else no adjustment.

    Trend: centred 2 x m moving average; indices: mean detrended value per month position over the last
    ``window`` seasons of detrended values (``SEASONAL_WINDOW`` = 5 years; None: the whole history),
    normalised to average 1 (multiplicative, all values > 0) or 0 (additive, otherwise).

    Why a window (issue 13): a season pattern drifts over the years (a product's peak moves, a holiday
    grows), and indices averaged over a decade describe none of them. Chosen on the tuning sets only (every
    M1 / M3 monthly series x 3 rolling origins as in ``benchmarks/forecast_suite.py``, the default
    combination; MASE): whole history 1.0726 / 0.7951; last 3 years 1.0730 / 0.7991; 4: 1.0736 / 0.7949;
    **5: 1.0715 / 0.7909**; 6: 1.0722 / 0.7939; 8: 1.0724 / 0.7947. Not adopted: statsmodels' STL seasonal
    component (seasonal smoother 7 / 13 / 35: M1 1.088 / 1.081 / 1.080, M3 0.820 / 0.806 / 0.803) and
    per-year indices from a moving 5-year window (M1 1.0714, M3 0.7922; its ARIMA member was worse).
    """
    m = season_length
    if not seasonality_test(y, m):
        return NO_SEASONALITY
    multiplicative = bool(np.all(y > 0))
    if m % 2 == 0:
        weights = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        weights = np.ones(m) / m
    trend = np.convolve(y, weights, mode="valid")
    offset = (weights.size - 1) // 2
    t = np.arange(offset, offset + trend.size)
    detr = y[t] / trend if multiplicative else y[t] - trend
    if window is not None:
        keep = t > t[-1] - window * m
        t, detr = t[keep], detr[keep]
    idx = np.array([detr[(t % m) == i].mean() for i in range(m)])
    if multiplicative:
        idx = idx / idx.mean()
        if not np.all(np.isfinite(idx)) or np.any(idx <= 0):
            return NO_SEASONALITY
    else:
        idx = idx - idx.mean()
    return SeasonalAdjustment("multiplicative" if multiplicative else "additive", m, idx)


def trend_strength(y: np.ndarray, season_length: int = 12) -> float:
    """Share of the working series' variance that its trend explains: max(0, 1 - var(R) / var(x)).

    x = the working series of ``_Prepared`` (``seasonal_adjustment``, then the log when every adjusted value
    is > 0); trend = its centred moving average over ``season_length`` months (2 x 12 for monthly data);
    R = x - trend where the average is defined. 1 for a straight line, near 0 for noise around a flat level
    (Wang, Smith & Hyndman's trend strength, with the classical decomposition in place of STL). 0 when the
    history is shorter than ``season_length`` + 2 or constant.
    """
    y = np.asarray(y, dtype=float)
    m = season_length
    if y.size < m + 2:
        return 0.0
    x = seasonal_adjustment(y, m).adjust(y)
    if np.all(x > 0):
        x = np.log(x)
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, weights, mode="valid")
    offset = (weights.size - 1) // 2
    window = x[offset : offset + trend.size]
    total = float(np.var(window))
    if total <= 0.0:
        return 0.0
    return float(max(0.0, 1.0 - float(np.var(window - trend)) / total))


def _scale_bounds(bounds: Bounds, adj: SeasonalAdjustment, n_obs: int) -> Bounds:
    return {lv: (adj.reseasonalise(lo, n_obs), adj.reseasonalise(hi, n_obs)) for lv, (lo, hi) in bounds.items()}


class _Prepared(ForecastModel):
    """Base for models fitted on a working series derived from the history.

    Working series = history, seasonally adjusted (``seasonal_adjustment``), then on the log scale when
    ``log`` is True or 'auto' and every adjusted value is > 0, then averaged over non-overlapping blocks of
    ``aggregate`` months (aligned to the end of the history) when ``aggregate`` > 1. Subclasses fit and
    forecast the working series (``_fit_working``, ``_forecast_working`` returning mean and per-level
    bounds); this class maps them back: each block forecast is repeated for its months (block bounds are
    widened by sqrt(aggregate), the spread of single months around an i.i.d. block mean), exp() undoes the
    log (so the point forecast is the median and the bounds stay positive), and the seasonal indices are
    applied again.
    """

    min_obs = 4

    def __init__(self, season_length: int = 12, log: bool | str = "auto", aggregate: int = 1) -> None:
        super().__init__()
        if log not in (True, False, "auto"):
            raise ValueError("log must be True, False or 'auto'")
        if aggregate < 1:
            raise ValueError("aggregate must be >= 1")
        self.season_length = int(season_length)
        self.log = log
        self.aggregate = int(aggregate)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "log": self.log, "aggregate": self.aggregate}

    def _unsuitable(self, y: np.ndarray) -> str | None:
        need = self.min_obs * self.aggregate
        if y.size < need:
            return f"too short: {y.size} < {need} observations"
        return _all_zero(y)

    def _fit(self, y: np.ndarray) -> None:
        adj = seasonal_adjustment(y, self.season_length)
        use_log = bool(self.log) and bool(np.all(adj.adjust(y) > 0))
        if self.log is True and not use_log:
            raise ValueError("log scale needs positive values")
        self.adjustment_ = adj
        self.log_scale_ = use_log
        self.n_obs_ = y.size
        self._fit_working(self._working(y))

    def _working(self, y: np.ndarray) -> np.ndarray:
        """The working series of ``y`` with the fitted adjustment and log decision."""
        work = self.adjustment_.adjust(y)
        if self.log_scale_:
            if not np.all(work > 0):
                raise ValueError("log scale needs positive values")
            work = np.log(work)
        k = self.aggregate
        if k > 1:
            n_blocks = work.size // k
            work = work[work.size - n_blocks * k :].reshape(n_blocks, k).mean(axis=1)
        return work

    def _fit_working(self, x: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:  # pragma: no cover
        raise NotImplementedError

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:  # pragma: no cover - abstract
        """Fixed-parameter mean forecast of the working series after ``x`` (see ``forecast_from``)."""
        raise NotImplementedError

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        if y.size < self.n_obs_:
            raise ValueError("forecast_from needs the fitted history or a longer one")
        k = self.aggregate
        mean = self._update_working(self._working(y), math.ceil(h / k))
        return self._back(mean, {}, y.size, h)[0]

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean, bounds = self._forecast_working(math.ceil(h / self.aggregate), levels)
        return self._back(mean, bounds, self.n_obs_, h)

    def _back(self, mean: np.ndarray, bounds: Bounds, n_obs: int, h: int) -> tuple[np.ndarray, Bounds]:
        """Working-scale mean and bounds back to months of the original series (blocks, log, season)."""
        k = self.aggregate
        if k > 1:
            widen = math.sqrt(k)
            bounds = {
                lv: (np.repeat(mean + (lo - mean) * widen, k)[:h], np.repeat(mean + (hi - mean) * widen, k)[:h])
                for lv, (lo, hi) in bounds.items()
            }
            mean = np.repeat(mean, k)[:h]
        if self.log_scale_:
            mean = np.exp(mean)
            bounds = {lv: (np.exp(lo), np.exp(hi)) for lv, (lo, hi) in bounds.items()}
        adj = self.adjustment_
        return adj.reseasonalise(mean, n_obs), _scale_bounds(bounds, adj, n_obs)
