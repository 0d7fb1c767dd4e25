"""The single-family models by alias (``make_member``) and ``fit_member``: what a combination is built from.

Below ``combo`` (which fits its members through here) and ``registry`` (which adds Combo itself), so that no
module of this package imports one that imports it back.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from analytics.forecasting.models.arima import ARIMA
from analytics.forecasting.models.base import ForecastModel, _as_history
from analytics.forecasting.models.ets import ETS, SES, DampedETS, HoltWinters
from analytics.forecasting.models.intermittent import ADIDA, IMAPA, SBA, TSB, Croston
from analytics.forecasting.models.naive import MovingAverage, Naive, SeasonalNaive, Zero
from analytics.forecasting.models.theta import Theta

__all__ = ["MEMBER_ALIASES", "fit_member", "make_member"]

MEMBER_ALIASES = (
    "Naive",
    "SeasonalNaive",
    "MovingAverage",
    "ETS",
    "DampedETS",
    "SES",
    "HoltWinters",
    "Theta",
    "ThetaQ",
    "ARIMA",
    "Croston",
    "SBA",
    "TSB",
    "ADIDA",
    "IMAPA",
    "Zero",
)


def make_member(alias: str, season_length: int = 12) -> ForecastModel:
    """A new, unfitted single-family model with default hyper-parameters from its alias (KeyError if unknown)."""
    factories = {
        "Naive": lambda: Naive(),
        "SeasonalNaive": lambda: SeasonalNaive(season_length),
        "MovingAverage": lambda: MovingAverage(3),
        "ETS": lambda: ETS(season_length),
        "DampedETS": lambda: DampedETS(season_length),
        "SES": lambda: SES(season_length),
        "HoltWinters": lambda: HoltWinters(season_length),
        "Theta": lambda: Theta(season_length),
        "ThetaQ": lambda: Theta(season_length, aggregate=3),
        "ARIMA": lambda: ARIMA(season_length),
        "Croston": lambda: Croston(),
        "SBA": lambda: SBA(),
        "TSB": lambda: TSB(),
        "ADIDA": lambda: ADIDA(),
        "IMAPA": lambda: IMAPA(),
        "Zero": lambda: Zero(),
    }
    return factories[alias]()


def fit_member(alias: str, y: ArrayLike, season_length: int = 12) -> ForecastModel:
    """Fit a combination member, but do not fit the fallback of one that is unsuitable for ``y``.

    A combination leaves out members that fall back, so fitting their fallback (HoltWinters -> ETS on a
    short history, say) would be wasted. Such a member keeps ``fallback_note`` '<alias> not fitted
    (<reason>)'; if it is ever asked for a forecast on its own, it fits its fallback then.
    """
    try:
        model = make_member(alias, season_length)
    except KeyError:
        raise ValueError(f"unknown combination member {alias!r}; known: {MEMBER_ALIASES}") from None
    arr = _as_history(y)
    reason = model._unsuitable(arr)
    if reason is None:
        return model.fit(arr)
    model._y = arr
    model.fallback_note = f"{model.alias} not fitted ({reason})"
    return model
