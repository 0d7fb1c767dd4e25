"""Combinations of models: equal-weight trimmed mean, mean or median of members' forecasts and bounds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache, _all_zero, _as_history, _short
from analytics.forecasting.models.members import fit_member
from analytics.forecasting.models.prepared import trend_strength

__all__ = [
    "COMBO_MEMBERS",
    "INTERVAL_SCALE",
    "TREND_MEMBERS",
    "TREND_THRESHOLD",
    "TRIM_MIN_MEMBERS",
    "Combo",
    "combine",
]

#: Members of the default combination (aliases for ``make_model``).
COMBO_MEMBERS: tuple[str, ...] = ("Theta", "ETS", "ThetaQ", "HoltWinters", "ARIMA", "SeasonalNaive")

#: A history whose ``trend_strength`` is at least this is forecast by the plain mean of ``TREND_MEMBERS``.
TREND_THRESHOLD = 0.9

#: The members that extrapolate a trend (``SeasonalNaive`` has none, ``ThetaQ`` repeats Theta's half-slope).
TREND_MEMBERS: tuple[str, ...] = ("ETS", "ARIMA", "Theta", "HoltWinters")

#: Each bound's distance from the combined mean is multiplied by this, per level (levels not named: 1).
#: Forecast errors have heavier tails than the members' normal intervals assume: on the tuning sets the 95%
#: interval held 95.7% (M3) and 91.5% (M1) of the actuals but the 80% one 84.5% and 79.9%, so the 80% interval
#: is narrowed by the factor that brings the two sets' pooled coverage to 80% (M3 4,284 + M1 1,851 pairs:
#: 0.90 -> 79.1%, 0.95 -> 81.2%; 0.93 -> M3 about 81.8%, M1 77.4%).
INTERVAL_SCALE: dict[int, float] = {80: 0.93}

#: The trimmed mean drops the lowest and the highest member per month only when at least this many are kept.
TRIM_MIN_MEMBERS = 5


def combine(values: np.ndarray, how: str) -> np.ndarray:
    """Members x steps -> steps: ``mean``, ``median`` or ``trimmed`` (the mean after dropping the lowest and
    the highest value of each step, with at least ``TRIM_MIN_MEMBERS`` members; the plain mean with fewer)."""
    if how == "median":
        return np.median(values, axis=0)
    if how == "trimmed" and values.shape[0] >= TRIM_MIN_MEMBERS:
        return np.sort(values, axis=0)[1:-1].mean(axis=0)
    return values.mean(axis=0)


class Combo(ForecastModel):
    """Equal-weight combination of member models: ``how='trimmed'`` (default), ``'mean'`` or ``'median'``.

    Default members (``COMBO_MEMBERS``), one per family and view of the data: ``Theta`` and ``ETS`` (both on
    the log of the seasonally adjusted series), ``ThetaQ`` (Theta on quarterly means of it), ``HoltWinters``
    (ETS(M,Ad,M) with its own seasonal pattern), ``ARIMA`` (the automatic ARIMA, same working series) and
    ``SeasonalNaive``. Trimmed mean: for each month the lowest and the highest member forecast are dropped
    and the rest averaged (``combine``), so one member that goes astray (an ARIMA that extrapolates a
    spurious trend, a seasonal naive that repeats an outlier) cannot pull the forecast.
    Why this recipe (issue 13), on the tuning sets only (M1 monthly 617 series, M3 monthly every other series,
    714; competition holdout, h 18; sMAPE / MASE):

    ===============================================================  ===============  ===============
    combination                                                      M1               M3
    ===============================================================  ===============  ===============
    mean of Theta, ETS, ThetaQ, HoltWinters (the previous recipe)    14.23 / 1.048    12.92 / 0.821
    the same + ARIMA, mean                                           14.31 / 1.054    13.05 / 0.826
    the same + ARIMA, trimmed mean                                   14.41 / 1.061    12.92 / 0.819
    + ARIMA + DampedETS, mean                                        14.44 / 1.062    13.06 / 0.827
    + ARIMA + SeasonalNaive, mean                                    14.08 / 1.042    13.00 / 0.831
    **+ ARIMA + SeasonalNaive, trimmed mean**                        14.15 / 1.044    12.83 / 0.816
    + ARIMA + SeasonalNaive, median                                  14.20 / 1.049    12.87 / 0.821
    ===============================================================  ===============  ===============

    **Trending histories** (issue 13: "on trending series the Theta-heavy combination is 36% worse than
    AutoARIMA"). The trimmed mean leans towards the members that flatten a trend: SeasonalNaive has none,
    Theta and ThetaQ extrapolate half the slope, and the highest member (often the ARIMA with drift) is
    the one trimmed. So when the history's ``trend_strength`` (the share of the seasonally adjusted
    series' variance its 2x12 moving average explains; 1 = a straight line) is at least
    ``TREND_THRESHOLD`` = 0.9, the forecast is the plain mean of ``TREND_MEMBERS`` (ETS, ARIMA, Theta,
    HoltWinters) instead; ``recipe_`` says which rule applied. Chosen on the tuning sets only (full sets,
    3 rolling origins 6 months apart as in ``benchmarks/forecast_suite.py``; MASE / sMAPE):

    =====================================================================  ===============  ===============
    rule                                                                   M1 (1,851 pairs) M3 (4,284 pairs)
    =====================================================================  ===============  ===============
    trimmed mean of the six members always (the previous recipe)           1.0758 / 14.36   0.8047 / 13.04
    **trend strength >= 0.9: mean of ETS, ARIMA, Theta, HoltWinters**      1.0726 / 14.35   0.7951 / 12.97
    trend strength >= 0.9: mean of ETS, ARIMA, Theta                       1.0760            0.7943
    trend strength >= 0.9: trimmed mean without SeasonalNaive              1.0745            0.7970
    trend strength >= 0.8 / 0.95: mean of ETS, ARIMA, Theta, HoltWinters   1.0798 / 1.0742   0.7980 / 0.7940
    =====================================================================  ===============  ===============

    (These figures, and the trend strengths, were measured with seasonal indices averaged over the whole
    history, before ``prepared.SEASONAL_WINDOW``; with the 5-year window the recipe scores M1 1.0715, M3 0.7909.)
    On the M3 pairs with trend strength >= 0.95 (26% of them) the mean of ETS, ARIMA and Theta was 6% more
    accurate than the trimmed mean (MASE 0.655 against 0.699); on the others the trimmed mean was better
    (0.843 against 0.874), hence a rule and not one recipe for all. The same always-on alternatives were
    worse on the whole sets (mean of ETS, ARIMA, Theta: M1 1.141, M3 0.816). Not adopted, also measured on
    the tuning sets: fitting every model to the last 72 or 96 months only (M3 0.826 / 0.807), an ETS chosen by
    AICc among 11 configurations on the raw series as a seventh member (M1 1.081, M3 0.803, at 24 ms a fit)
    and a seasonal ARIMA on the raw series as a seventh member (M1 1.074, M3 0.799, 9-35 ms a fit).

    Members that fall back are left out (and named in ``fallback_note``) unless all do, in which case the
    combination falls back to Naive; with fewer than ``TRIM_MIN_MEMBERS`` left the trimmed mean is the mean.
    Interval: each bound is the same trimmed mean (mean, median) of the members' bounds at that level
    (quantile averaging), its distance from the mean then scaled by ``INTERVAL_SCALE`` (80%: 0.93); with the
    trend rule, before that scaling, the 80% / 95% intervals held 79.9% / 91.5% (M1) and 84.5% / 95.7% (M3) of
    the actuals.
    """

    alias = "Combo"

    def __init__(
        self,
        season_length: int = 12,
        members: Sequence[str] | None = None,
        how: str = "trimmed",
        trend_threshold: float | None = TREND_THRESHOLD,
    ):
        super().__init__()
        if how not in ("trimmed", "mean", "median"):
            raise ValueError("how must be 'trimmed', 'mean' or 'median'")
        self.season_length = int(season_length)
        self.members = tuple(members) if members is not None else COMBO_MEMBERS
        self.how = how
        self.trend_threshold = trend_threshold  # None: never switch to the trend members

    def get_params(self) -> dict[str, object]:
        return {
            "season_length": self.season_length,
            "members": self.members,
            "how": self.how,
            "trend_threshold": self.trend_threshold,
        }

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size < 4:
            return f"too short: {y.size} < 4 observations"
        return _all_zero(y)

    def _fit(self, y: np.ndarray) -> None:
        fitted = [fit_member(name, y, self.season_length) for name in self.members]
        self._set_members(fitted, y)

    def _set_members(self, fitted: Sequence[ForecastModel], y: np.ndarray) -> None:
        ok = [m for m in fitted if not m.fallback_note]
        failed = [m for m in fitted if m.fallback_note]
        if not ok:
            raise RuntimeError("every member fell back: " + "; ".join(m.fallback_note for m in failed))
        self.fitted_members_ = ok
        self.member_notes_ = [m.fallback_note for m in failed]
        self.trend_strength_ = trend_strength(y, self.season_length)
        trending = [m for m in ok if m.alias in TREND_MEMBERS]
        names = ", ".join(m.alias for m in ok)
        if self.trend_threshold is not None and trending and self.trend_strength_ >= self.trend_threshold:
            self.active_members_, self.active_how_ = trending, "mean"
            self.recipe_ = (
                f"trend strength {self.trend_strength_:.2f} >= {self.trend_threshold:.2f}: mean of "
                + ", ".join(m.alias for m in trending)
            )
        else:
            self.active_members_, self.active_how_ = ok, self.how
            label = {"trimmed": "trimmed mean", "mean": "mean", "median": "median"}[self.how]
            self.recipe_ = f"{label} of {names}"
            if self.trend_threshold is not None:
                self.recipe_ += f" (trend strength {self.trend_strength_:.2f} < {self.trend_threshold:.2f})"

    @classmethod
    def from_fitted(
        cls,
        fitted: Sequence[ForecastModel],
        season_length: int = 12,
        how: str = "trimmed",
        trend_threshold: float | None = TREND_THRESHOLD,
    ) -> Combo:
        """Combination of models already fitted to the same history (saves refitting them)."""
        combo = cls(
            season_length=season_length, members=[m.alias for m in fitted], how=how, trend_threshold=trend_threshold
        )
        y = fitted[0]._y if fitted else None
        combo._y = y if y is not None else np.zeros(0)
        reason = combo._unsuitable(combo._y)
        if reason is None:
            try:
                combo._set_members(fitted, combo._y)
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
        means, notes = [], []
        for member in self.active_members_:
            mean, note = member.forecast_from(arr, h, cache)
            means.append(mean)
            if note:
                notes.append(note)
        return combine(np.stack(means), self.active_how_), "; ".join(notes)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        parts = []
        for member in self.active_members_:
            part = member.forecast_arrays(h, levels)
            if not member.fallback_note:
                parts.append(part)
            elif member.fallback_note not in self.member_notes_:  # failed only now, at forecast time
                self.member_notes_.append(member.fallback_note)
                self.fallback_note = "members left out: " + "; ".join(self.member_notes_)
        if not parts:
            raise RuntimeError("every member fell back")
        how = self.active_how_
        mean = combine(np.stack([p[0] for p in parts]), how)
        bounds: Bounds = {}
        for lv in levels:
            scale = INTERVAL_SCALE.get(int(lv), 1.0)
            lo = mean - scale * (mean - combine(np.stack([p[1][lv][0] for p in parts]), how))
            hi = mean + scale * (combine(np.stack([p[1][lv][1] for p in parts]), how) - mean)
            bounds[lv] = (lo, hi)
        return mean, bounds
