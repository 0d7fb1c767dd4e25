"""Intermittent demand: Croston, SBA, TSB (statsmodels has none)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analytics.forecasting.models.base import Bounds, ForecastModel, _empirical_bounds
from analytics.forecasting.models.naive import Zero

__all__ = ["SBA", "TSB", "Croston"]


class Croston(ForecastModel):
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

    def _fallback(self) -> ForecastModel:
        return Zero()

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size == 0:
            return "empty history"
        if not np.any(y > 0):
            return "no positive demand"
        return None

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

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _empirical_bounds(mean, self.errors_, levels)


class SBA(Croston):
    """Syntetos-Boylan approximation: Croston's forecast times (1 - alpha / 2) (removes Croston's bias).

    Interval: as Croston (empirical quantiles of SBA's own one-step errors).
    """

    alias = "SBA"

    def _factor(self) -> float:
        return 1.0 - self.alpha / 2.0


class TSB(ForecastModel):
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

    def _fallback(self) -> ForecastModel:
        return Zero()

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size == 0:
            return "empty history"
        if not np.any(y > 0):
            return "no positive demand"
        return None

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

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.level_)
        return mean, _empirical_bounds(mean, self.errors_, levels)
