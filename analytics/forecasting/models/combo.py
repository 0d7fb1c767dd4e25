"""Combinations of models: equal-weight mean or median of members' forecasts and bounds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache, _all_zero, _as_history, _short
from analytics.forecasting.models.members import fit_member

__all__ = ["COMBO_MEMBERS", "Combo"]

#: Members of the default combination (aliases for ``make_model``).
COMBO_MEMBERS: tuple[str, ...] = ("Theta", "ETS", "ThetaQ", "HoltWinters")


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
