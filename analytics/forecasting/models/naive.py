"""Baselines: the zero forecast, naive, seasonal naive and the moving average."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analytics.forecasting.models.base import Bounds, ForecastModel, Naive, Zero, _normal_bounds, _rms

# Naive and Zero live in base: they end every fallback chain, and base must not import a family module.

__all__ = ["MovingAverage", "Naive", "SeasonalNaive", "Zero"]


class SeasonalNaive(ForecastModel):
    """Value of the same month one season ago.

    Interval: sigma * sqrt(k + 1) with k = floor((h - 1) / m) full seasons ahead (fpp3 5.5) and
    sigma = RMS of the in-sample seasonal differences y_t - y_{t-m}. Needs one full season, else Naive.
    """

    alias = "SeasonalNaive"

    def __init__(self, season_length: int = 12) -> None:
        super().__init__()
        self.season_length = int(season_length)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length}

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size < self.season_length:
            return f"too short: {y.size} < {self.season_length} observations"
        return None

    def _fit(self, y: np.ndarray) -> None:
        m = self.season_length
        self.last_season_ = y[-m:].copy()
        self.sigma_ = _rms(y[m:] - y[:-m]) if y.size > m else 0.0

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        m = self.season_length
        steps = np.arange(h)
        mean = self.last_season_[steps % m]
        sigma_h = self.sigma_ * np.sqrt(steps // m + 1)
        return mean, _normal_bounds(mean, sigma_h, levels)


class MovingAverage(ForecastModel):
    """Mean of the last ``window`` observations (all of them if fewer).

    Interval: flat, +- z * sigma where sigma = RMS of the in-sample one-step errors
    y_t - mean(y_{t-window}..y_{t-1}); a level without drift does not widen with the horizon.
    """

    alias = "MovingAverage"

    def __init__(self, window: int = 3) -> None:
        super().__init__()
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = int(window)

    def get_params(self) -> dict[str, object]:
        return {"window": self.window}

    def _fit(self, y: np.ndarray) -> None:
        w = min(self.window, y.size)
        self.level_ = float(np.mean(y[-w:]))
        if y.size > w:
            csum = np.r_[0.0, np.cumsum(y)]
            trailing = (csum[w:-1] - csum[: -w - 1]) / w  # mean of y[t-w:t] for t = w..n-1
            self.sigma_ = _rms(y[w:] - trailing)
        else:
            self.sigma_ = float(np.std(y))

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _normal_bounds(mean, np.full(h, self.sigma_), levels)
