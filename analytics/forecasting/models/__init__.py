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
- [DampedETS] the same restricted to the damped-trend configurations (AAdN; AAdA on the raw series).
- [SES] the same with the level-only configuration (for new items).
- [HoltWinters] ETS(M,Ad,M) on the raw series; class-1 variance applied to relative errors (approximation).
- [Theta] SES with drift, theta = 2, on the working series, estimated as statsmodels ``ThetaModel`` does (OLS
  drift, SES alpha by least squares) in a vectorised filter (about 1 ms a fit instead of 13); IMA(1,1)
  variance sigma^2 (1 + (h - 1) alpha^2) with sigma from its in-sample one-step errors.
- [ThetaQ] the same on quarterly means of the working series (temporal aggregation); bounds widened by
  sqrt(3) to months.
- [ARIMA] automatic ARIMA(p, d, q) on the working series: d by KPSS tests, a stepwise order search by AICc
  as R's ``auto.arima`` (CSS estimates; see ``arima.py`` for why not SARIMAX: 15 ms a fit); psi-weight variance.
- [Croston], [SBA], [TSB] intermittent demand (written here; statsmodels has none); flat interval from the
  empirical quantiles of the in-sample one-step errors (floored at zero when zero months are common).
- [ADIDA], [IMAPA] temporal aggregation for intermittent demand: SES on k-month bucket sums, k the mean demand
  interval (ADIDA) or every k up to it, averaged (IMAPA); intervals as Croston's.
- [Combo] trimmed mean (lowest and highest dropped per month) of Theta, ETS, ThetaQ, HoltWinters, ARIMA and
  SeasonalNaive (``COMBO_MEMBERS``); each bound is the same trimmed mean of the members' bounds (quantile
  averaging). A member that cannot be fitted is left out without fitting its fallback (``fit_member``).
  On a strongly trending history (``trend_strength`` >= ``TREND_THRESHOLD`` = 0.9) the plain mean of the
  members that extrapolate a trend, ETS, ARIMA, Theta and HoltWinters (``TREND_MEMBERS``), instead.
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
(statsmodels' own ETS recursion, the SES filter of Theta, ARIMA's error filter and recursion). Models
without estimated parameters recompute; an update that cannot run (a log-scale model meeting a zero, say)

One file per family: ``base`` (the base class and shared helpers), ``prepared`` (seasonal adjustment, log
scale, temporal aggregation), ``naive``, ``ets``, ``theta``, ``arima``, ``intermittent``, ``members`` (the single-family models by alias and
``fit_member``), ``combo`` and ``registry`` (``MODEL_ALIASES``, ``make_model``). Every public name is importable from here.
"""

from __future__ import annotations

from analytics.forecasting.models.arima import ARIMA
from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache
from analytics.forecasting.models.combo import COMBO_MEMBERS, Combo
from analytics.forecasting.models.ets import (
    ETS,
    ETS_CONFIGS,
    SES,
    DampedETS,
    EtsFit,
    HoltWinters,
    _ets_mle,
    _ets_run,
    _fit_ets,
)
from analytics.forecasting.models.intermittent import ADIDA, IMAPA, SBA, TSB, Croston
from analytics.forecasting.models.naive import MovingAverage, Naive, SeasonalNaive, Zero
from analytics.forecasting.models.prepared import (
    NO_SEASONALITY,
    SeasonalAdjustment,
    seasonal_adjustment,
    seasonality_test,
)
from analytics.forecasting.models.registry import MODEL_ALIASES, fit_member, make_model
from analytics.forecasting.models.theta import SES_ALPHA_BOUNDS, Theta

__all__ = [
    "ADIDA",
    "ARIMA",
    "COMBO_MEMBERS",
    "ETS",
    "ETS_CONFIGS",
    "IMAPA",
    "MODEL_ALIASES",
    "NO_SEASONALITY",
    "SBA",
    "SES",
    "SES_ALPHA_BOUNDS",
    "TSB",
    "Bounds",
    "Combo",
    "Croston",
    "DampedETS",
    "EtsFit",
    "ForecastModel",
    "HoltWinters",
    "MovingAverage",
    "Naive",
    "SeasonalAdjustment",
    "SeasonalNaive",
    "Theta",
    "UpdateCache",
    "Zero",
    "_ets_mle",
    "_ets_run",
    "_fit_ets",
    "fit_member",
    "make_model",
    "seasonal_adjustment",
    "seasonality_test",
]
