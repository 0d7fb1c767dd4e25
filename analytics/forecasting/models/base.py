"""The model base class and the helpers every family shares.

Every model has one shape: hyper-parameters in ``__init__``, ``fit(y) -> self``, ``predict(h, level) ->
DataFrame`` (one row per step 1..h, columns ``mean, lo-80, hi-80, lo-95, hi-95``), ``forecast_arrays`` (the
same as arrays) and ``forecast_from`` (the fixed-parameter forecast from a later origin the backtest uses).
A model that cannot fit falls back to a simpler one and says so in ``fallback_note``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri  # = scipy.stats.norm.ppf; scipy.stats and scipy.signal cost ~1 s to import

__all__ = ["Bounds", "ForecastModel", "Naive", "UpdateCache", "Zero"]

Bounds = dict[int, tuple[np.ndarray, np.ndarray]]
#: ``forecast_from`` results by (model id, history length, h), shared within one backtest.
UpdateCache = dict[tuple[int, int, int], tuple[np.ndarray, str]]


def _as_history(y: ArrayLike) -> np.ndarray:
    """1-D float copy of a demand history; missing values (NaN) count as no demand."""
    arr = np.asarray(y, dtype=float).ravel().copy()
    arr[~np.isfinite(arr)] = 0.0
    return arr


@lru_cache(maxsize=32)
def _z(level: int) -> float:
    return float(ndtri(0.5 + level / 200.0))


def _normal_bounds(mean: np.ndarray, sigma_h: np.ndarray, levels: Sequence[int]) -> Bounds:
    sigma_h = np.nan_to_num(np.asarray(sigma_h, dtype=float), nan=0.0, posinf=0.0)
    return {lv: (mean - _z(lv) * sigma_h, mean + _z(lv) * sigma_h) for lv in levels}


def _rms(residuals: np.ndarray) -> float:
    res = residuals[np.isfinite(residuals)]
    return float(np.sqrt(np.mean(res**2))) if res.size else 0.0


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:80]}" if text else type(exc).__name__


def _all_zero(y: np.ndarray) -> str | None:
    return "all-zero history" if y.size and not np.any(y) else None


def _empirical_bounds(mean: np.ndarray, errors: np.ndarray, levels: Sequence[int], zero_share: float = 0.0) -> Bounds:
    """Flat bounds mean + quantiles of the errors (normal with their RMS when fewer than 8 errors).

    ``zero_share``: the share of months without demand in the history. Demand cannot be negative, so when at
    least (100 - level) / 2 % of months are zeros, the level's lower bound is zero (which holds every zero
    month) and the upper one is mean + the error quantile at the level itself: the interval [0, hi] then
    holds level % of outcomes instead of level % plus the zeros below the equal-tailed lower bound (on
    the carparts tuning set, IMAPA's 80% interval held 87% of actuals with equal tails, 84% this way;
    95%: 95.4% and 94.7%).
    """
    errors = errors[np.isfinite(errors)]
    if errors.size < 8:
        return _normal_bounds(mean, np.full(mean.size, _rms(errors)), levels)
    out: Bounds = {}
    for lv in levels:
        if zero_share >= 0.5 - lv / 200.0:
            out[lv] = (np.minimum(mean, 0.0), mean + max(float(np.quantile(errors, lv / 100.0)), 0.0))
            continue
        q_lo, q_hi = np.quantile(errors, [0.5 - lv / 200.0, 0.5 + lv / 200.0])
        out[lv] = (mean + min(q_lo, 0.0), mean + max(q_hi, 0.0))
    return out


class ForecastModel:
    """Base class: validation, fallback and the predict frame.

    Subclasses set ``alias``, implement ``_fit(y)`` and ``_forecast(h, levels) -> (mean, bounds)`` and
    may override ``_unsuitable(y)`` (a reason string when the data cannot be fitted) and
    ``_fallback()`` (the simpler model to use instead).
    """

    alias: str = "Model"

    def __init__(self) -> None:
        self.fallback_note: str = ""
        self._delegate: ForecastModel | None = None
        self._y: np.ndarray | None = None

    # -- subclass hooks ----------------------------------------------------------------------------
    def _unsuitable(self, y: np.ndarray) -> str | None:
        return "empty history" if y.size == 0 else None

    def _fallback(self) -> ForecastModel:
        return Naive()  # defined below: the end of every fallback chain

    def _fit(self, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:  # pragma: no cover
        raise NotImplementedError

    # -- public API --------------------------------------------------------------------------------
    @property
    def used_alias(self) -> str:
        """Alias of the model that actually produces the forecast (differs after a fallback)."""
        return self._delegate.used_alias if self._delegate is not None else self.alias

    def fit(self, y: ArrayLike) -> ForecastModel:
        """Fit to a demand history (oldest first); never raises for bad data, falls back instead."""
        arr = _as_history(y)
        self._y = arr
        self.fallback_note = ""
        self._delegate = None
        reason = self._unsuitable(arr)
        if reason is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        self._fit(arr)
            except Exception as exc:  # noqa: BLE001 - any fit failure means: fall back
                reason = _short(exc)
        if reason is not None:
            self._use_fallback(reason)
        return self

    def _use_fallback(self, reason: str) -> None:
        assert self._y is not None
        fb = self._fallback()
        fb.fit(self._y)
        self._delegate = fb
        note = f"{self.alias} fell back to {fb.alias} ({reason})"
        self.fallback_note = f"{note}; {fb.fallback_note}" if fb.fallback_note else note

    def forecast_arrays(self, h: int, level: Sequence[int] = (80, 95)) -> tuple[np.ndarray, Bounds]:
        """Mean (length h) and ``{level: (lo, hi)}``; the array form of ``predict``."""
        if self._y is None:
            raise RuntimeError(f"{self.alias}: call fit() before predict()")
        h = int(h)
        if h < 1:
            raise ValueError("h must be a positive integer")
        levels = tuple(int(lv) for lv in level)
        if self._delegate is not None:
            return self._delegate.forecast_arrays(h, levels)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    mean, bounds = self._forecast(h, levels)
            ok = np.all(np.isfinite(mean)) and all(
                np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) for lo, hi in bounds.values()
            )
            if not ok:
                raise FloatingPointError("non-finite forecast or interval")
        except Exception as exc:  # noqa: BLE001
            self._use_fallback(_short(exc))
            assert self._delegate is not None
            return self._delegate.forecast_arrays(h, levels)
        mean = np.asarray(mean, dtype=float)
        # make the bands nested and contain the mean whatever the method produced
        out: Bounds = {}
        lo_prev, hi_prev = mean, mean
        for lv in sorted(levels):
            lo, hi = bounds[lv]
            lo_prev = np.minimum(np.asarray(lo, dtype=float), lo_prev)
            hi_prev = np.maximum(np.asarray(hi, dtype=float), hi_prev)
            out[lv] = (lo_prev, hi_prev)
        return mean, out

    def forecast_from(self, y: ArrayLike, h: int, cache: UpdateCache | None = None) -> tuple[np.ndarray, str]:
        """Mean forecast h steps after a longer history, with the parameters estimated by ``fit`` kept fixed.

        ``y`` must start with the history the model was fitted to (a later backtest origin). Only the
        states are run through the extra months: smoothing constants, ETS configuration and initial
        states, Theta drift, ARIMA coefficients, seasonal indices and the log-scale decision all stay as
        they were estimated, so nothing after the first origin informs them. Models without estimated
        parameters (naive, moving average, Croston family with fixed constants) simply recompute. When the
        update is impossible (e.g. a log-scale model meets a value <= 0) a fresh copy is fitted to ``y``
        instead, and the returned note says so. Returns ``(mean, note)``; ``cache`` shares updates between
        a ``Combo`` and candidates that are its members.
        """
        if self._y is None:
            raise RuntimeError(f"{self.alias}: call fit() before forecast_from()")
        arr = _as_history(y)
        h = int(h)
        key = (id(self), arr.size, h)
        if cache is not None and key in cache:
            return cache[key]
        if self._delegate is not None:
            out = self._delegate.forecast_from(arr, h, cache)
        else:
            reason: str | None = None
            mean: np.ndarray | None = None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        mean = self._forecast_from(arr, h, cache)
                if mean is not None and not np.all(np.isfinite(mean)):
                    mean, reason = None, "non-finite forecast"
            except Exception as exc:  # noqa: BLE001 - any failure: refit instead
                mean, reason = None, _short(exc)
            if mean is not None:
                out = (np.asarray(mean, dtype=float), "")
            else:
                refit = type(self)(**self.get_params()).fit(arr)  # type: ignore[arg-type]
                notes = [f"{self.alias}: fixed-parameter update failed ({reason}), refitted"] if reason else []
                if refit.fallback_note:
                    notes.append(refit.fallback_note)
                out = (refit.forecast_arrays(h, ())[0], "; ".join(notes))
        if cache is not None:
            cache[key] = out
        return out

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        """Fixed-parameter forecast after ``y``; None = nothing estimated, refit (the default)."""
        return None

    def predict(self, h: int, level: Sequence[int] = (80, 95)) -> pd.DataFrame:
        """One row per step 1..h: ``mean`` and ``lo-<level>``, ``hi-<level>`` for each level."""
        levels = tuple(int(lv) for lv in level)
        mean, bounds = self.forecast_arrays(h, levels)
        data: dict[str, np.ndarray] = {"mean": mean}
        for lv in levels:
            data[f"lo-{lv}"] = bounds[lv][0]
            data[f"hi-{lv}"] = bounds[lv][1]
        return pd.DataFrame(data, index=pd.RangeIndex(1, h + 1, name="step"))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, object]:
        """Hyper-parameters given to ``__init__``."""
        return {}


# ---------------------------------------------------------------------------------------------- the floor
# Every fallback chain ends on Naive, then Zero; they live here (re-exported by naive.py) so that base imports
# no family module.


class Zero(ForecastModel):
    """Forecast of zero with a zero-width interval: for inactive items (no demand expected)."""

    alias = "Zero"

    def _unsuitable(self, y: np.ndarray) -> str | None:
        return None

    def _fit(self, y: np.ndarray) -> None:
        pass

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        zero = np.zeros(h)
        return zero, {lv: (zero, zero) for lv in levels}


class Naive(ForecastModel):
    """Last observed value. Interval: sigma * sqrt(h), sigma = RMS of the in-sample y_t - y_{t-1}."""

    alias = "Naive"

    def _fallback(self) -> ForecastModel:
        return Zero()

    def _fit(self, y: np.ndarray) -> None:
        self.last_ = float(y[-1])
        self.sigma_ = _rms(np.diff(y))

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = np.full(h, self.last_)
        return mean, _normal_bounds(mean, self.sigma_ * np.sqrt(np.arange(1, h + 1)), levels)
