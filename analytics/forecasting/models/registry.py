"""The model registry: every alias, ``make_model`` and ``fit_member``."""

from __future__ import annotations

from numpy.typing import ArrayLike

from analytics.forecasting.models.arima import ARIMA
from analytics.forecasting.models.base import ForecastModel, _as_history
from analytics.forecasting.models.combo import Combo
from analytics.forecasting.models.ets import ETS, SES, HoltWinters
from analytics.forecasting.models.intermittent import SBA, TSB, Croston
from analytics.forecasting.models.naive import MovingAverage, Naive, SeasonalNaive, Zero
from analytics.forecasting.models.theta import Theta

__all__ = ["MODEL_ALIASES", "fit_member", "make_model"]

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
