"""Statistical demand forecasting: models, metrics, demand classification, backtests, the per-series pipeline.

Public API (statsmodels underneath, imported lazily so importing this package stays cheap):

- ``models`` (one file per family): ``Naive``, ``SeasonalNaive``, ``MovingAverage``, ``ETS``, ``DampedETS``,
  ``SES``, ``HoltWinters``, ``Theta`` (``ThetaQ`` = ``Theta(aggregate=3)``), ``ARIMA`` (automatic order search),
  ``Croston``, ``SBA``, ``TSB``, ``ADIDA``, ``IMAPA``, ``Combo``, ``Zero``;
  each ``fit(y) -> self`` and ``predict(h, level=(80, 95)) -> DataFrame[mean, lo-80, hi-80, lo-95, hi-95]``;
  ``make_model(alias)``.
- ``metrics``: ``wmape``, ``mase``, ``smape``, ``bias`` (pure functions).
- ``classify``: ``classify(y) -> 'smooth' | 'erratic' | 'intermittent' | 'lumpy' | 'new' | 'inactive'``.
- ``backtest``: ``cross_validation(df, models, h, n_windows, step_size)`` on long ``unique_id, ds, y`` frames.
- ``auto``: ``auto_forecast(y, h, model=None) -> SeriesForecast`` (what the batch runner calls per series;
  ``model`` is a planner's choice, ``batch.MODEL_CHOICES``).
"""

from __future__ import annotations

from analytics.forecasting.auto import SeriesForecast, auto_forecast
from analytics.forecasting.backtest import cross_validation
from analytics.forecasting.classify import classify
from analytics.forecasting.metrics import bias, mase, smape, wmape
from analytics.forecasting.models import MODEL_ALIASES, make_model

__all__ = [
    "MODEL_ALIASES",
    "SeriesForecast",
    "auto_forecast",
    "bias",
    "classify",
    "cross_validation",
    "make_model",
    "mase",
    "smape",
    "wmape",
]
