"""The model registry: every alias, ``make_model`` and ``fit_member``."""

from __future__ import annotations

from analytics.forecasting.models.base import ForecastModel
from analytics.forecasting.models.combo import Combo
from analytics.forecasting.models.members import MEMBER_ALIASES, fit_member, make_member

__all__ = ["MODEL_ALIASES", "fit_member", "make_model"]

# every member (Zero last, as the fallback), with the combination of them before it
MODEL_ALIASES = (*(a for a in MEMBER_ALIASES if a != "Zero"), "Combo", "Zero")


def make_model(alias: str, season_length: int = 12) -> ForecastModel:
    """A new, unfitted model with default hyper-parameters from its alias."""
    if alias == "Combo":
        return Combo(season_length)
    try:
        return make_member(alias, season_length)
    except KeyError:
        raise ValueError(f"unknown model alias {alias!r}; known: {MODEL_ALIASES}") from None
