"""Forecast accuracy metrics: pure functions of actuals and forecasts.

Grain: each function takes aligned 1-D arrays (one value per forecast step, or any pooled set of
steps) and returns one float. Nothing here knows about models, SKUs or dates.

Conventions (shared with the leaderboard in ``auto.py`` and the M3 benchmark):

- ``wmape``  sum|y - f| / sum|y|; 0 when both sums are 0, NaN when only the denominator is 0.
- ``mase``   mean|y - f| scaled by the in-sample mean absolute seasonal-naive error (lag ``m``), falling
  back to lag 1 when the history is shorter than ``m + 1``; NaN when that scale is 0.
- ``smape``  M3 definition as a fraction (like wmape and bias): mean over the horizon of 2|y - f| / (|y| + |f|),
  a step with 0/0 counts as 0; the M3 tables print it x 100 (benchmarks/m3_monthly.py).
- ``bias``   sum(f - y) / sum(y): positive means over-forecasting; NaN when sum(y) is 0.
- ``msis``   mean scaled interval score of a level-% interval (M4): width plus 2 / alpha times each miss, over
  the ``mase`` scale; lower is better, and it rewards a narrow interval only while it still holds the actuals.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["bias", "mae", "mase", "msis", "smape", "wmape"]


def _pair(y: ArrayLike, f: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float).ravel()
    f_arr = np.asarray(f, dtype=float).ravel()
    if y_arr.shape != f_arr.shape:
        raise ValueError(f"actuals and forecasts differ in length: {y_arr.size} vs {f_arr.size}")
    return y_arr, f_arr


def mae(y: ArrayLike, f: ArrayLike) -> float:
    """Mean absolute error; NaN for empty input."""
    y_arr, f_arr = _pair(y, f)
    if y_arr.size == 0:
        return float("nan")
    return float(np.mean(np.abs(y_arr - f_arr)))


def wmape(y: ArrayLike, f: ArrayLike) -> float:
    """Weighted MAPE as a fraction: sum|y - f| / sum|y|.

    Example: y = [10, 20], f = [12, 15] -> (2 + 5) / 30 = 0.2333.
    Returns 0.0 when both sums are 0 (a perfect zero forecast of zero demand) and NaN when only
    sum|y| is 0 (undefined: any error on no demand).
    """
    y_arr, f_arr = _pair(y, f)
    num = float(np.sum(np.abs(y_arr - f_arr)))
    den = float(np.sum(np.abs(y_arr)))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("nan")
    return num / den


def smape(y: ArrayLike, f: ArrayLike) -> float:
    """Symmetric MAPE as a fraction (0 to 2), M3 competition definition (which prints it in percent).

    mean over steps of 2 * |y - f| / (|y| + |f|); a step where y = f = 0 counts as 0.
    Example: y = [100, 0], f = [110, 0] -> (2 * 10 / 210 + 0) / 2 = 0.047619 (4.76% on screen).
    Stored as a fraction like wmape, so every screen formats it once as a % (it was stored in percent and shown
    x 100 again: 10,963.2%).
    """
    y_arr, f_arr = _pair(y, f)
    if y_arr.size == 0:
        return float("nan")
    den = np.abs(y_arr) + np.abs(f_arr)
    safe = np.where(den == 0.0, 1.0, den)
    terms = np.where(den == 0.0, 0.0, 2.0 * np.abs(y_arr - f_arr) / safe)
    return float(np.mean(terms))


def mase_scale(y_train: ArrayLike, m: int = 12) -> float:
    """In-sample mean absolute error of the seasonal-naive forecast at lag ``m`` (lag 1 if too short)."""
    hist = np.asarray(y_train, dtype=float).ravel()
    lag = m if hist.size >= m + 1 else 1
    if hist.size < lag + 1:
        return float("nan")
    return float(np.mean(np.abs(hist[lag:] - hist[:-lag])))


def mase(y: ArrayLike, f: ArrayLike, y_train: ArrayLike, m: int = 12) -> float:
    """Mean absolute scaled error.

    MAE of the forecast divided by the in-sample MAE of the seasonal-naive method with lag ``m``
    (``y_t - y_{t-m}``); when the history is shorter than ``m + 1`` the lag-1 naive scale is used.
    Example: y_train = [1, 2, 4] (shorter than 13, so lag 1: scale = (1 + 2) / 2 = 1.5),
    y = [5], f = [4] -> 1 / 1.5 = 0.6667. NaN when the scale is 0 or undefined.
    """
    y_arr, f_arr = _pair(y, f)
    scale = mase_scale(y_train, m)
    if not np.isfinite(scale) or scale == 0.0 or y_arr.size == 0:
        return float("nan")
    return float(np.mean(np.abs(y_arr - f_arr)) / scale)


def msis(y: ArrayLike, lo: ArrayLike, hi: ArrayLike, y_train: ArrayLike, level: float, m: int = 12) -> float:
    """Mean scaled interval score of the interval [lo, hi] at ``level`` % (the M4 competition's MSIS).

    mean over steps of (hi - lo) + 2 / a (lo - y) [y < lo] + 2 / a (y - hi) [y > hi], a = 1 - level / 100,
    divided by ``mase_scale(y_train, m)``. Example: y_train = [1, 2, 4] (scale 1.5), level 80 (2 / a = 10),
    y = [5, 9], lo = [4, 4], hi = [6, 8] -> steps 2 and 4 + 10 x 1 = 14, mean 8, MSIS 8 / 1.5 = 5.3333.
    NaN when the scale is 0 or undefined.
    """
    y_arr, lo_arr = _pair(y, lo)
    _, hi_arr = _pair(y, hi)
    scale = mase_scale(y_train, m)
    if not np.isfinite(scale) or scale == 0.0 or y_arr.size == 0:
        return float("nan")
    a = 1.0 - float(level) / 100.0
    score = (hi_arr - lo_arr) + 2.0 / a * (np.clip(lo_arr - y_arr, 0.0, None) + np.clip(y_arr - hi_arr, 0.0, None))
    return float(np.mean(score) / scale)


def bias(y: ArrayLike, f: ArrayLike) -> float:
    """Forecast bias as a fraction of actual demand: sum(f - y) / sum(y).

    Positive = over-forecast. Example: y = [10, 20], f = [12, 15] -> (2 - 5) / 30 = -0.1.
    NaN when sum(y) is 0.
    """
    y_arr, f_arr = _pair(y, f)
    den = float(np.sum(y_arr))
    if den == 0.0:
        return float("nan")
    return float(np.sum(f_arr - y_arr)) / den
