"""Forecasting models with one shape: hyper-parameters in ``__init__``, ``fit(y) -> self``,
``predict(h, level) -> DataFrame``.

Grain: one series (1-D array of monthly demand, oldest first) per fitted model. ``predict`` returns one
row per step 1..h (index ``step``) with columns ``mean, lo-80, hi-80, lo-95, hi-95`` (one lo/hi pair per
requested level). Long frames (``unique_id, ds, y``) live in ``backtest.py`` and the batch runner.

Models (``alias`` in brackets) and how each builds its prediction intervals:

- [Naive] last value; random-walk interval sigma * sqrt(h) from in-sample one-step residuals.
- [SeasonalNaive] same month last year; sigma * sqrt(k + 1), k = completed years in the horizon.
- [MovingAverage] mean of the last ``window`` months; flat interval from its in-sample one-step errors.
- [ETS] statsmodels ``ETSModel``: additive-error level / damped-trend configurations chosen by AICc on the
  working series (below); additive-seasonal configurations on the raw series when it is seasonal with
  values <= 0. Analytic class-1 variance sigma^2 (1 + sum c_j^2) (Hyndman et al. 2008, ch. 6). The
  estimate is statsmodels' own, reached by the same optimiser path with less overhead (``_ets_mle``), and
  kept as an ``EtsFit`` record instead of a full ``ETSResults``.
- [SES] the same with the level-only configuration (for new items).
- [HoltWinters] ETS(M,Ad,M) on the raw series; class-1 variance applied to relative errors (approximation).
- [Theta] SES with drift, theta = 2, on the working series, estimated as statsmodels ``ThetaModel`` does (OLS
  drift, SES alpha by least squares) in a vectorised filter (about 1 ms a fit instead of 13); IMA(1,1)
  variance sigma^2 (1 + (h - 1) alpha^2) with sigma from its in-sample one-step errors.
- [ThetaQ] the same on quarterly means of the working series (temporal aggregation); bounds widened by
  sqrt(3) to months.
- [ARIMA] statsmodels ``SARIMAX``, a small (p, 1, q) search by AICc on the working series; the state-space
  forecast variance.
- [Croston], [SBA], [TSB] intermittent demand (written here; statsmodels has none); flat interval from the
  empirical quantiles of the in-sample one-step errors.
- [Combo] mean of Theta, ETS, ThetaQ and HoltWinters (``COMBO_MEMBERS``); each bound is the mean of the
  members' bounds (quantile averaging). A member that cannot be fitted is left out without fitting its
  fallback (``fit_member``).
- [Zero] all-zero forecast and interval (inactive items).

Working series of ETS, Theta and ARIMA: the history is tested for seasonality (90% ACF test at lag
``season_length``, as in the M4 competition benchmarks); a seasonal one is adjusted with a classical
multiplicative decomposition (additive when it has values <= 0); when every adjusted value is > 0 the
model is fitted on its log (so trends are proportional and the point forecast is the median). Forecasts
and bounds are mapped back (exp, seasonal indices), so bounds stay positive for positive series.

A model that cannot fit (too short, all zeros, numerical error, non-finite output) falls back to a
simpler one; ``fallback_note`` says what happened ('' when nothing did). Warnings raised by statsmodels
are silenced inside the fit only.

``forecast_from(y_longer, h)`` is the fixed-parameter forecast from a later origin that the backtest uses:
the fitted parameters (smoothing constants, ETS configuration and initial states, Theta drift, ARIMA
coefficients, seasonal indices, log decision) stay fixed and only the states run through the extra months
(statsmodels' own ETS recursion, the SES filter of Theta, ``SARIMAXResults.apply`` for ARIMA). Models
without estimated parameters recompute; an update that cannot run (a log-scale model meeting a zero, say)
refits and says so.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri  # = scipy.stats.norm.ppf; scipy.stats and scipy.signal cost ~1 s to import

__all__ = [
    "ARIMA",
    "COMBO_MEMBERS",
    "ETS",
    "MODEL_ALIASES",
    "SBA",
    "SES",
    "TSB",
    "Combo",
    "Croston",
    "ForecastModel",
    "HoltWinters",
    "MovingAverage",
    "Naive",
    "SeasonalAdjustment",
    "SeasonalNaive",
    "Theta",
    "Zero",
    "fit_member",
    "make_model",
    "seasonal_adjustment",
    "seasonality_test",
]

Bounds = dict[int, tuple[np.ndarray, np.ndarray]]
#: ``forecast_from`` results by (model id, history length, h), shared within one backtest.
UpdateCache = dict[tuple[int, int, int], tuple[np.ndarray, str]]


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


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


def seasonal_adjustment(y: np.ndarray, season_length: int = 12) -> SeasonalAdjustment:
    """Classical decomposition indices when ``seasonality_test`` says so, else no adjustment.

    Trend: centred 2 x m moving average; indices: mean detrended value per month position, normalised to
    average 1 (multiplicative, all values > 0) or 0 (additive, otherwise).
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
    idx = np.array([detr[(t % m) == i].mean() for i in range(m)])
    if multiplicative:
        idx = idx / idx.mean()
        if not np.all(np.isfinite(idx)) or np.any(idx <= 0):
            return NO_SEASONALITY
    else:
        idx = idx - idx.mean()
    return SeasonalAdjustment("multiplicative" if multiplicative else "additive", m, idx)


def _scale_bounds(bounds: Bounds, adj: SeasonalAdjustment, n_obs: int) -> Bounds:
    return {lv: (adj.reseasonalise(lo, n_obs), adj.reseasonalise(hi, n_obs)) for lv, (lo, hi) in bounds.items()}


# --------------------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------------------


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
        return Naive()

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


# --------------------------------------------------------------------------------------------------
# baselines
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# shared pre-processing for the statsmodels models: seasonal adjustment, log scale, temporal aggregation
# --------------------------------------------------------------------------------------------------


def _all_zero(y: np.ndarray) -> str | None:
    return "all-zero history" if y.size and not np.any(y) else None


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


# --------------------------------------------------------------------------------------------------
# exponential smoothing (statsmodels ETSModel)
# --------------------------------------------------------------------------------------------------

#: ETS configurations by name: (error, trend, damped, seasonal).
ETS_CONFIGS: dict[str, tuple[str, str | None, bool, str | None]] = {
    "ANN": ("add", None, False, None),
    "AAN": ("add", "add", False, None),
    "AAdN": ("add", "add", True, None),
    "ANA": ("add", None, False, "add"),
    "AAdA": ("add", "add", True, "add"),
    "MAdM": ("mul", "add", True, "mul"),
}


@dataclass(frozen=True)
class EtsFit:
    """A fitted ETS configuration: what the models use of statsmodels' ``ETSModel`` estimate.

    ``params``: smoothing_level (alpha), smoothing_trend (beta), smoothing_seasonal (gamma), damping_trend
    (phi), as present in the configuration; initial states as estimated or set by the heuristic;
    ``aicc`` and ``resid`` (one-step residuals; relative ones for multiplicative error) as ``ETSResults``
    would report them. Building a full ``ETSResults`` (it evaluates a numerical Hessian) costs about a
    fifth of the fit itself, and nothing here needs the covariance.
    """

    config: str
    params: dict[str, float]
    initial_level: float
    initial_trend: float
    initial_seasonal: np.ndarray
    aicc: float
    resid: np.ndarray


_SQRT_EPS = float(np.finfo(float).eps ** 0.5)


def _ets_mle(model: object) -> np.ndarray:
    """``ETSModel.fit(return_params=True)``, the same estimate at 55-70% of the cost.

    statsmodels 0.15 minimises -loglike / n with scipy's L-BFGS-B and lets scipy approximate the gradient
    by forward differences (absolute step 1e-8, turned inwards at a bound); that generic machinery costs
    more than the likelihood evaluations themselves on these short series. This is the same procedure -
    the same start values, bounds, starred parameters, likelihood (statsmodels' own smoothing function),
    difference steps and optimiser settings - with the gradient taken in a plain loop, so the iterates and
    the estimate are the same to the last bit (``tests/unit/test_forecasting_models.py`` checks it). Uses
    ETSModel internals, hence the pinned statsmodels version.
    """
    from scipy.optimize import fmin_l_bfgs_b

    m = model  # statsmodels ETSModel
    internal_start = m._convert_and_bound_start_params(m.start_params)
    bounds = m._setup_bounds()
    use_beta_star = "smoothing_trend" not in m.bounds
    if use_beta_star:
        internal_start[1] /= internal_start[0]
    use_gamma_star = "smoothing_seasonal" not in m.bounds
    if use_gamma_star:
        internal_start[2] /= 1 - internal_start[0]
    k = m._k_params_internal
    is_fixed = np.zeros(k, dtype=np.int64)
    fixed_values = np.empty_like(internal_start)
    free, free_bounds = [], []
    for i in range(k):
        if bounds[i][0] == bounds[i][1]:
            is_fixed[i] = True
            fixed_values[i] = bounds[i][0]
        else:
            free.append(internal_start[i])
            free_bounds.append(bounds[i])
    nobs = m.endog.shape[0]
    data = m.endog
    yhat = np.zeros(m.nobs)
    xhat = np.zeros((m.nobs, m._k_states_internal))
    smooth, mul_error = m._smoothing_func, m.error == "mul"
    lb = np.array([-np.inf if b[0] is None else b[0] for b in free_bounds], dtype=float)
    ub = np.array([np.inf if b[1] is None else b[1] for b in free_bounds], dtype=float)
    bounded = not np.all((lb == -np.inf) & (ub == np.inf))

    def objective(p: np.ndarray) -> float:  # -ETSModel._loglike_internal / nobs, operation for operation
        smooth(p, data, yhat, xhat, is_fixed, fixed_values, use_beta_star, use_gamma_star)
        res = (data - yhat) / yhat if mul_error else data - yhat
        log_l = -m.nobs / 2 * (np.log(2 * np.pi * (np.add.reduce(res**2) / res.size)) + 1)
        if mul_error:
            yhat[yhat == 0] = 1e-32
            log_l -= np.sum(np.log(np.abs(yhat)))
        return -log_l / nobs

    def objective_and_gradient(p: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = objective(p)
        # scipy.optimize._numdiff.approx_derivative, method '2-point', abs_step 1e-8, with bounds
        sign = (p >= 0).astype(float) * 2 - 1
        h = np.full(p.size, 1e-8)
        h = np.where(((p + h) - p) == 0, _SQRT_EPS * sign * np.maximum(1.0, np.abs(p)), h)
        if bounded:
            lower, upper = p - lb, ub - p
            x = p + h
            violated = (x < lb) | (x > ub)
            fitting = np.abs(h) <= np.maximum(lower, upper)
            h[violated & fitting] *= -1
            forward = (upper >= lower) & ~fitting
            h[forward] = upper[forward]
            backward = (upper < lower) & ~fitting
            h[backward] = -lower[backward]
        grad = np.empty(p.size)
        for i in range(p.size):
            x1 = p.copy()
            x1[i] = p[i] + h[i]
            grad[i] = (objective(x1) - f0) / ((p[i] + h[i]) - p[i])
        return f0, grad

    xopt, _, _ = fmin_l_bfgs_b(objective_and_gradient, np.asarray(free), bounds=free_bounds, maxiter=1000)
    fitted = np.empty_like(internal_start)
    j = 0
    for i in range(k):
        if is_fixed[i]:
            fitted[i] = fixed_values[i]
        else:
            fitted[i] = xopt[j]
            j += 1
    if use_beta_star:
        fitted[1] *= fitted[0]
    if use_gamma_star:
        fitted[2] *= 1 - fitted[0]
    return np.asarray(m._model_params(fitted), dtype=float)


def _fit_ets(x: np.ndarray, name: str, season_length: int) -> EtsFit:
    """statsmodels ETSModel fit; heuristic initial states with >= 2 seasons (24 points without season)."""
    from statsmodels.tools.eval_measures import aicc
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    error, trend, damped, seasonal = ETS_CONFIGS[name]
    m = season_length
    heuristic = x.size >= 2 * m if seasonal else x.size >= 24
    model = ETSModel(
        x,
        error=error,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method="heuristic" if heuristic else "estimated",
    )
    params = _ets_mle(model)
    # the internal vector (alpha, beta, gamma, phi, l0, b0, s0...) as ETSResults reads it (statsmodels 0.15)
    internal = np.asarray(model._internal_params(params), dtype=float)
    values = dict(zip(model.param_names, params.tolist()))
    if damped:
        values["damping_trend"] = float(internal[3])
    fit = EtsFit(
        config=name,
        params={k: v for k, v in values.items() if not k.startswith("initial_")},
        initial_level=float(internal[4]),
        initial_trend=float(internal[5]) if trend else 0.0,
        initial_seasonal=internal[6:][::-1].copy() if seasonal else np.zeros(0),
        aicc=float("nan"),
        resid=np.zeros(0),
    )
    fitted, _ = _ets_run(fit, x, 0, season_length)
    resid = (x - fitted) / fitted if error == "mul" else x - fitted
    llf = float(model.loglike(params))
    return dataclasses.replace(fit, aicc=float(aicc(llf, x.size, params.size + 1)), resid=resid)


def _ets_sigma_h(fit: EtsFit, h: int, season_length: int) -> np.ndarray:
    """sqrt(sigma^2 (1 + sum_{j<h} c_j^2)), c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m == 0]."""
    values = fit.params
    alpha = values.get("smoothing_level", 0.0)
    beta = values.get("smoothing_trend", 0.0)
    gamma = values.get("smoothing_seasonal", 0.0)
    phi = values.get("damping_trend", 1.0)
    _, trend, _, seasonal = ETS_CONFIGS[fit.config]
    j = np.arange(1, h)
    c = np.full(j.size, alpha)
    if trend:
        c = c + beta * np.cumsum(phi**j)
    if seasonal:
        c = c + gamma * (j % season_length == 0)
    resid = fit.resid
    sigma2 = float(np.mean(resid[np.isfinite(resid)] ** 2))
    return np.sqrt(sigma2 * (1.0 + np.r_[0.0, np.cumsum(c**2)]))


def _ets_run(fit: EtsFit, x: np.ndarray, h: int, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """One-step fitted values over ``x`` and the point forecast h steps after it, from the fit's parameters
    and initial states.

    statsmodels' own smoothing recursion (the Holt-Winters error-correction form of
    ``statsmodels.tsa.exponential_smoothing._ets_smooth``, beta* = beta / alpha, gamma* = gamma / (1 - alpha)),
    so on the data the model was fitted to it reproduces ``ETSResults.fittedvalues`` and ``.forecast``; on a
    longer series that starts with that data it gives the fixed-parameter forecast from the later origin
    (used by the rolling-origin backtest).
    """
    values = fit.params
    _, trend, damped, seasonal = ETS_CONFIGS[fit.config]
    alpha = values["smoothing_level"]
    beta_star = values.get("smoothing_trend", 0.0) / alpha if trend else 0.0
    gamma_star = values.get("smoothing_seasonal", 0.0) / (1.0 - alpha) if seasonal else 0.0
    phi = values.get("damping_trend", 1.0) if damped else 1.0
    m = season_length
    level, slope = fit.initial_level, fit.initial_trend if trend else 0.0
    season = fit.initial_seasonal.tolist()
    mul = seasonal == "mul"
    fitted = np.empty(x.size)
    for t, yt in enumerate(x.tolist()):
        prev_level = level
        base = level + phi * slope
        if seasonal:
            s_old = season[t % m]
            fitted[t] = base * s_old if mul else base + s_old
            level = alpha * (yt / s_old if mul else yt - s_old) + (1.0 - alpha) * base
            season[t % m] = gamma_star * (yt / level if mul else yt - level) + (1.0 - gamma_star) * s_old
        else:
            fitted[t] = base
            level = alpha * yt + (1.0 - alpha) * base
        if trend:
            slope = beta_star * (level - prev_level) + (1.0 - beta_star) * phi * slope
    damp = np.cumsum(phi ** np.arange(1, h + 1)) if trend else np.zeros(h)
    mean = level + damp * slope
    if seasonal:
        s_future = np.asarray(season)[(x.size + np.arange(h)) % m]
        mean = mean * s_future if mul else mean + s_future
    return fitted, mean


class ETS(_Prepared):
    """Exponential smoothing (statsmodels ``ETSModel``), configuration chosen by AICc.

    Fitted on the working series of ``_Prepared`` (seasonally adjusted, log scale when positive):
    additive-error ``configs`` (default level only and damped trend; undamped trends win AICc too often on
    monthly business data and over-extrapolate). When the series is seasonal but has values <= 0 (so the
    adjustment is additive and no log is possible), the additive-seasonal ``seasonal_configs`` are fitted
    to the raw series instead.
    Interval: additive-error (class 1) analytic variance sigma^2 (1 + sum_{j<h} c_j^2) with
    c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m == 0], sigma^2 = mean squared one-step
    residual; then back through log and seasonal indices. Fallback: < 6 points or all zeros -> Naive.
    """

    alias = "ETS"
    min_obs = 6

    def __init__(
        self,
        season_length: int = 12,
        configs: Sequence[str] = ("ANN", "AAdN"),
        seasonal_configs: Sequence[str] = ("ANA", "AAdA"),
        log: bool | str = "auto",
    ) -> None:
        super().__init__(season_length=season_length, log=log)
        self.configs = tuple(configs)
        self.seasonal_configs = tuple(seasonal_configs)
        unknown = set(self.configs + self.seasonal_configs) - set(ETS_CONFIGS)
        if unknown:
            raise ValueError(f"unknown ETS configurations {sorted(unknown)}; known: {sorted(ETS_CONFIGS)}")

    def get_params(self) -> dict[str, object]:
        return {
            "season_length": self.season_length,
            "configs": self.configs,
            "seasonal_configs": self.seasonal_configs,
            "log": self.log,
        }

    def _fit(self, y: np.ndarray) -> None:
        m = self.season_length
        adj = seasonal_adjustment(y, m)
        if adj.method == "additive" and self.seasonal_configs and y.size >= 2 * m + 2:
            self.adjustment_, self.log_scale_, self.n_obs_ = NO_SEASONALITY, False, y.size
            self._select(y, self.seasonal_configs)
        else:
            super()._fit(y)

    def _fit_working(self, x: np.ndarray) -> None:
        self._select(x, self.configs)

    def _select(self, x: np.ndarray, names: Sequence[str]) -> None:
        best: tuple[float, str, object] | None = None
        errors: list[str] = []
        for name in names:
            try:
                res = _fit_ets(x, name, self.season_length)
                aicc = res.aicc
            except Exception as exc:  # noqa: BLE001 - try the other configurations
                errors.append(f"{name}: {_short(exc)}")
                continue
            if not np.isfinite(aicc):
                aicc = np.inf
            if best is None or aicc < best[0]:
                best = (aicc, name, res)
        if best is None:
            raise RuntimeError("no ETS configuration could be fitted (" + "; ".join(errors) + ")")
        _, self.config_, self.result_ = best
        self._work_ = x

    @property
    def chosen_config(self) -> str:
        """ETS(error, trend, seasonal) code of the fitted configuration, e.g. 'AAdN' ('' before fit)."""
        return getattr(self, "config_", "")

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = _ets_run(self.result_, self._work_, h, self.season_length)[1]
        sigma_h = _ets_sigma_h(self.result_, h, self.season_length)
        return mean, _normal_bounds(mean, sigma_h, levels)

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:
        return _ets_run(self.result_, x, h, self.season_length)[1]


class SES(ETS):
    """Simple exponential smoothing: ``ETS`` restricted to the level-only configuration (ANN).

    ``alpha`` None (default) estimates the smoothing constant; a fixed ``alpha`` starts the level at the
    first observation (l_0 = y_1) and smooths l_t = l_{t-1} + alpha (y_t - l_{t-1}) with no estimation.
    Interval: sigma^2 (1 + (h - 1) alpha^2) (the ETS formula with beta = gamma = 0). For new items.
    """

    alias = "SES"
    min_obs = 3

    def __init__(self, season_length: int = 12, log: bool | str = "auto", alpha: float | None = None) -> None:
        super().__init__(season_length=season_length, configs=("ANN",), seasonal_configs=("ANA",), log=log)
        if alpha is not None and not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "log": self.log, "alpha": self.alpha}

    def _fit_working(self, x: np.ndarray) -> None:
        if self.alpha is None:
            super()._fit_working(x)
            return
        fit = EtsFit("ANN", {"smoothing_level": self.alpha}, float(x[0]), 0.0, np.zeros(0), float("nan"), x[:0])
        fitted, _ = _ets_run(fit, x, 0, self.season_length)
        self.config_, self.result_, self._work_ = "ANN", dataclasses.replace(fit, resid=x - fitted), x


class HoltWinters(ForecastModel):
    """Damped multiplicative Holt-Winters: statsmodels ``ETSModel`` ETS(M,Ad,M) on the raw series.

    Estimates its own, slowly changing seasonal pattern (a different view from the classical
    decomposition the other models share), which is why it is a ``Combo`` member. Needs two full
    seasons of positive data; otherwise falls back to ``ETS``.
    Interval (approximation): multiplicative-error model, so sigma is the RMS relative one-step error and
    the h-step standard deviation is mean_h * sigma * sqrt(1 + sum_{j<h} c_j^2) with the ETS c_j.
    """

    alias = "HoltWinters"

    def __init__(self, season_length: int = 12) -> None:
        super().__init__()
        self.season_length = int(season_length)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length}

    def _fallback(self) -> ForecastModel:
        return ETS(self.season_length)

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size < 2 * self.season_length:
            return f"too short: {y.size} < {2 * self.season_length} observations"
        if np.any(y <= 0):
            return "needs positive values"
        return None

    def _fit(self, y: np.ndarray) -> None:
        self.result_ = _fit_ets(y, "MAdM", self.season_length)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = _ets_run(self.result_, self._y, h, self.season_length)[1]  # type: ignore[arg-type]
        rel = _ets_sigma_h(self.result_, h, self.season_length)
        return mean, _normal_bounds(mean, np.abs(mean) * rel, levels)

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        if np.any(y <= 0):
            raise ValueError("needs positive values")
        return _ets_run(self.result_, y, h, self.season_length)[1]


# --------------------------------------------------------------------------------------------------
# Theta and ARIMA
# --------------------------------------------------------------------------------------------------


#: Bounds of the SES smoothing constant estimated by ``Theta`` (statsmodels' ExponentialSmoothing bounds).
SES_ALPHA_BOUNDS = (1e-4, 1.0 - 1e-4)


def _ses_levels(x: np.ndarray, alpha: float) -> np.ndarray:
    """SES levels l_t = alpha x_t + (1 - alpha) l_{t-1}, initial level l_{-1} = x_0 (known, not estimated)."""
    from scipy.signal import lfilter  # here: the dashboard's pages import this module but never fit a model

    return lfilter([alpha], [1.0, alpha - 1.0], x, zi=[(1.0 - alpha) * x[0]])[0]


def _ses_alpha(x: np.ndarray) -> float:
    """Smoothing constant minimising the sum of squared one-step SES errors (l_{-1} = x_0).

    With a known initial level and a concentrated variance this is the Gaussian maximum-likelihood
    estimate that statsmodels' ``ThetaModel`` gets from its state-space ``ExponentialSmoothing`` fit, found
    here by bounded Brent search on a vectorised filter (about 1 ms instead of 13 ms); on the M3 monthly
    working series it never ends at a higher error sum than statsmodels' optimiser.
    """
    from scipy.optimize import minimize_scalar

    def sse(alpha: float) -> float:
        err = x[1:] - _ses_levels(x, alpha)[:-1]
        return float(err @ err)

    res = minimize_scalar(sse, bounds=SES_ALPHA_BOUNDS, method="bounded", options={"xatol": 1e-6})
    return float(res.x)


class Theta(_Prepared):
    """Theta method (SES with drift b0 (theta - 1) / theta, Assimakopoulos & Nikolopoulos 2000) on the
    working series.

    The estimation is statsmodels ``ThetaModel``'s default two-step one, written out here because it is
    a vectorised filter plus a one-dimensional search: b0 = OLS slope of the working series on time; alpha
    = the SES smoothing constant minimising the squared one-step errors with the initial level at the first
    value (``_ses_alpha``). Forecast (statsmodels' formula): l_n + b0 (theta - 1) / theta
    (h - 1 + 1 / alpha - (1 - alpha)^n / alpha), l_n the last SES level.
    Working series as in ``_Prepared`` (the shared seasonal adjustment; log scale when positive;
    ``aggregate`` > 1 fits quarterly (3) or other block means - the ``ThetaQ`` alias is
    ``Theta(aggregate=3)``).
    Interval: IMA(1,1) variance sigma^2 (1 + (h - 1) alpha^2), sigma^2 = mean squared in-sample one-step
    error of SES-with-drift; then back through blocks, log and seasonal indices.
    Fallback: fewer than 4 points (blocks) or all zeros -> Naive.
    """

    alias = "Theta"

    def __init__(self, season_length: int = 12, theta: float = 2.0, log: bool | str = "auto", aggregate: int = 1):
        super().__init__(season_length=season_length, log=log, aggregate=aggregate)
        if theta < 1:
            raise ValueError("theta must be >= 1")
        self.theta = float(theta)
        if aggregate > 1:
            self.alias = f"Theta{'Q' if aggregate == 3 else aggregate}"

    def get_params(self) -> dict[str, object]:
        return {**super().get_params(), "theta": self.theta}

    def _fit_working(self, x: np.ndarray) -> None:
        t = np.arange(x.size, dtype=float)
        t_c = t - t.mean()
        self.b0_ = float(t_c @ (x - x.mean()) / (t_c @ t_c))
        self.alpha_ = alpha = _ses_alpha(x)
        level = _ses_levels(x, alpha)
        self.level_, self.n_work_ = float(level[-1]), x.size
        # in-sample one-step forecasts: SES level + drift of the theta line
        one_step = level[:-1] + self.b0_ * (1.0 - 1.0 / self.theta)
        self.sigma2_ = float(np.mean((x[1:] - one_step) ** 2))

    def _mean(self, level: float, n: int, h: int) -> np.ndarray:
        steps = np.arange(h, dtype=float)
        alpha = self.alpha_
        if alpha > 0:
            steps += 1.0 / alpha - (1.0 - alpha) ** n / alpha
        return level + (1.0 - 1.0 / self.theta) * self.b0_ * steps

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = self._mean(self.level_, self.n_work_, h)
        var = self.sigma2_ * (1.0 + np.arange(h) * self.alpha_**2)
        return mean, _normal_bounds(mean, np.sqrt(var), levels)

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:
        return self._mean(float(_ses_levels(x, self.alpha_)[-1]), x.size, h)


class ARIMA(_Prepared):
    """ARIMA(p, 1, q) by AICc over ``orders`` (statsmodels ``SARIMAX``) on the working series.

    Seasonality is handled by the shared classical decomposition rather than seasonal ARIMA terms, which
    keeps the search small and fast; log scale when positive. (1, 1, 1) is left out of the default search:
    it costs as much as the other three together (about 45 ms a fit).
    Interval: SARIMAX's state-space forecast variance (normal errors), then back through log and seasonal
    indices.
    Fallback: fewer than 10 points, all zeros or no order fits -> Naive.
    """

    alias = "ARIMA"
    min_obs = 10

    def __init__(
        self,
        season_length: int = 12,
        orders: Sequence[tuple[int, int, int]] = ((0, 1, 1), (1, 1, 0), (2, 1, 0)),
        log: bool | str = "auto",
    ) -> None:
        super().__init__(season_length=season_length, log=log)
        self.orders = tuple(tuple(int(v) for v in o) for o in orders)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "orders": self.orders, "log": self.log}

    def _fit_working(self, x: np.ndarray) -> None:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        best: tuple[float, tuple[int, ...], object] | None = None
        errors: list[str] = []
        for order in self.orders:
            try:
                res = SARIMAX(x, order=order).fit(disp=False)
                aicc = float(res.aicc)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{order}: {_short(exc)}")
                continue
            if np.isfinite(aicc) and (best is None or aicc < best[0]):
                best = (aicc, order, res)
        if best is None:
            raise RuntimeError("no ARIMA order could be fitted (" + "; ".join(errors) + ")")
        _, self.order_, self.result_ = best

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        fc = self.result_.get_forecast(h)  # type: ignore[attr-defined]
        mean = np.asarray(fc.predicted_mean, dtype=float)
        bounds: Bounds = {}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1.0 - lv / 100.0), dtype=float)
            bounds[lv] = (ci[:, 0], ci[:, 1])
        return mean, bounds

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:
        # same coefficients, Kalman filter run through the longer series
        return np.asarray(self.result_.apply(x).forecast(h), dtype=float)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# intermittent demand: Croston, SBA, TSB
# --------------------------------------------------------------------------------------------------


def _empirical_bounds(mean: np.ndarray, errors: np.ndarray, levels: Sequence[int]) -> Bounds:
    """Flat bounds mean + quantiles of the errors (normal with their RMS when fewer than 8 errors)."""
    errors = errors[np.isfinite(errors)]
    if errors.size < 8:
        return _normal_bounds(mean, np.full(mean.size, _rms(errors)), levels)
    out: Bounds = {}
    for lv in levels:
        q_lo, q_hi = np.quantile(errors, [0.5 - lv / 200.0, 0.5 + lv / 200.0])
        out[lv] = (mean + min(q_lo, 0.0), mean + max(q_hi, 0.0))
    return out


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


# --------------------------------------------------------------------------------------------------
# combination

#: Members of the default combination (aliases for ``make_model``).
COMBO_MEMBERS: tuple[str, ...] = ("Theta", "ETS", "ThetaQ", "HoltWinters")
# --------------------------------------------------------------------------------------------------


class Combo(ForecastModel):
    """Equal-weight combination of member models (``how='mean'`` or ``'median'``).

    Default members (``COMBO_MEMBERS``): ``Theta`` and ``ETS`` (both on the log of the seasonally adjusted
    series), ``ThetaQ`` (Theta on quarterly means of it) and ``HoltWinters`` (ETS(M,Ad,M) with its own
    seasonal pattern). The recipe was picked among about a dozen by its accuracy on the M1 and Tourism
    monthly series (M3, which the benchmark reports, was also looked at while exploring); see
    benchmarks/m3_monthly.py.
    Members that fall back are left out (and named in ``fallback_note``) unless all do, in which case the
    combination falls back to Naive.
    Interval: each bound is the mean (or median) of the members' bounds at that level (quantile averaging).
    """

    alias = "Combo"

    def __init__(self, season_length: int = 12, members: Sequence[str] | None = None, how: str = "mean"):
        super().__init__()
        if how not in ("mean", "median"):
            raise ValueError("how must be 'mean' or 'median'")
        self.season_length = int(season_length)
        self.members = tuple(members) if members is not None else COMBO_MEMBERS
        self.how = how

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "members": self.members, "how": self.how}

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size < 4:
            return f"too short: {y.size} < 4 observations"
        return _all_zero(y)

    def _fit(self, y: np.ndarray) -> None:
        fitted = [fit_member(name, y, self.season_length) for name in self.members]
        self._set_members(fitted)

    def _set_members(self, fitted: Sequence[ForecastModel]) -> None:
        ok = [m for m in fitted if not m.fallback_note]
        failed = [m for m in fitted if m.fallback_note]
        if not ok:
            raise RuntimeError("every member fell back: " + "; ".join(m.fallback_note for m in failed))
        self.fitted_members_ = ok
        self.member_notes_ = [m.fallback_note for m in failed]

    @classmethod
    def from_fitted(cls, fitted: Sequence[ForecastModel], season_length: int = 12, how: str = "mean") -> Combo:
        """Combination of models already fitted to the same history (saves refitting them)."""
        combo = cls(season_length=season_length, members=[m.alias for m in fitted], how=how)
        y = fitted[0]._y if fitted else None
        combo._y = y if y is not None else np.zeros(0)
        reason = combo._unsuitable(combo._y)
        if reason is None:
            try:
                combo._set_members(fitted)
            except RuntimeError as exc:
                reason = _short(exc)
        if reason is not None:
            combo._use_fallback(reason)
        elif combo.member_notes_:
            combo.fallback_note = "members left out: " + "; ".join(combo.member_notes_)
        return combo

    def fit(self, y: ArrayLike) -> Combo:
        super().fit(y)
        if self._delegate is None and self.member_notes_:
            self.fallback_note = "members left out: " + "; ".join(self.member_notes_)
        return self

    def forecast_from(self, y: ArrayLike, h: int, cache: UpdateCache | None = None) -> tuple[np.ndarray, str]:
        """Mean (or median) of the members' fixed-parameter forecasts (see ``ForecastModel.forecast_from``).

        The members are those kept at the fit; each one updates (or, failing that, refits) on its own, and
        their notes are joined.
        """
        if self._y is None:
            raise RuntimeError(f"{self.alias}: call fit() before forecast_from()")
        if self._delegate is not None:
            return self._delegate.forecast_from(y, h, cache)
        arr = _as_history(y)
        agg = np.mean if self.how == "mean" else np.median
        means, notes = [], []
        for member in self.fitted_members_:
            mean, note = member.forecast_from(arr, h, cache)
            means.append(mean)
            if note:
                notes.append(note)
        return agg(np.stack(means), axis=0), "; ".join(notes)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        agg = np.mean if self.how == "mean" else np.median
        parts = []
        for member in self.fitted_members_:
            part = member.forecast_arrays(h, levels)
            if not member.fallback_note:
                parts.append(part)
            elif member.fallback_note not in self.member_notes_:  # failed only now, at forecast time
                self.member_notes_.append(member.fallback_note)
                self.fallback_note = "members left out: " + "; ".join(self.member_notes_)
        if not parts:
            raise RuntimeError("every member fell back")
        mean = agg(np.stack([p[0] for p in parts]), axis=0)
        bounds: Bounds = {}
        for lv in levels:
            lo = agg(np.stack([p[1][lv][0] for p in parts]), axis=0)
            hi = agg(np.stack([p[1][lv][1] for p in parts]), axis=0)
            bounds[lv] = (lo, hi)
        return mean, bounds


# --------------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------------

MODEL_ALIASES = (
    "Naive",
    "SeasonalNaive",
    "MovingAverage",
    "ETS",
    "SES",
    "HoltWinters",
    "Theta",
    "ThetaQ",
    "ARIMA",
    "Croston",
    "SBA",
    "TSB",
    "Combo",
    "Zero",
)


def fit_member(alias: str, y: ArrayLike, season_length: int = 12) -> ForecastModel:
    """Fit a combination member, but do not fit the fallback of one that is unsuitable for ``y``.

    A combination leaves out members that fall back, so fitting their fallback (HoltWinters -> ETS on a
    short history, say) would be wasted. Such a member keeps ``fallback_note`` '<alias> not fitted
    (<reason>)'; if it is ever asked for a forecast on its own, it fits its fallback then.
    """
    model = make_model(alias, season_length)
    arr = _as_history(y)
    reason = model._unsuitable(arr)
    if reason is None:
        return model.fit(arr)
    model._y = arr
    model.fallback_note = f"{model.alias} not fitted ({reason})"
    return model


def make_model(alias: str, season_length: int = 12) -> ForecastModel:
    """A new, unfitted model with default hyper-parameters from its alias."""
    factories = {
        "Naive": lambda: Naive(),
        "SeasonalNaive": lambda: SeasonalNaive(season_length),
        "MovingAverage": lambda: MovingAverage(3),
        "ETS": lambda: ETS(season_length),
        "SES": lambda: SES(season_length),
        "HoltWinters": lambda: HoltWinters(season_length),
        "Theta": lambda: Theta(season_length),
        "ThetaQ": lambda: Theta(season_length, aggregate=3),
        "ARIMA": lambda: ARIMA(season_length),
        "Croston": lambda: Croston(),
        "SBA": lambda: SBA(),
        "TSB": lambda: TSB(),
        "Combo": lambda: Combo(season_length),
        "Zero": lambda: Zero(),
    }
    try:
        return factories[alias]()
    except KeyError:
        raise ValueError(f"unknown model alias {alias!r}; known: {MODEL_ALIASES}") from None
