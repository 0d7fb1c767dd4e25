"""The per-series forecasting pipeline: classify, backtest the candidates, pick one, forecast.

Grain: one demand history (monthly, oldest first) in, one ``SeriesForecast`` out. The batch runner calls
``auto_forecast`` once per SKU (x location) and stores the pieces.

Pipeline:

1. ``classify`` the series (smooth / erratic / intermittent / lumpy / new / inactive) and take that class's
   candidate models (``classify.CANDIDATES_BY_CLASS``). Leading zeros (months before the first demand) are
   dropped before fitting.
2. Rolling-origin backtest of every candidate: ``n_windows`` origins, each forecasting ``backtest_h``
   months (default: ``h``, shortened so that every training window keeps at least ``MIN_TRAIN`` months),
   origins ``ceil(backtest_h / n_windows)`` months apart. Backtest forecasts are clipped at 0 like the
   delivered ones.
3. Rank the candidates by pooled WMAPE (sum |error| / sum actual over all origins and steps); ties and
   undefined WMAPE (no actual demand in the windows) fall back to MAE, then to the class order. Intermittent
   and lumpy series are ranked by RMSE instead: absolute-error metrics (WMAPE, MAE) are minimised by the
   median, which is 0 for most intermittent series, so they reward forecasting nothing.
   The best candidate replaces the class default (the first candidate: ``Combo`` for smooth and erratic
   demand) only when its backtest error is at least ``SWITCH_MARGIN`` (20%) lower. Why: three origins are
   a small sample, and picking the plain minimum chases noise. On the M1 and Tourism monthly series
   (the tuning sets) plain minimum selection was worse than always combining (M1 sMAPE
   15.54 vs 14.60), while a 20% margin kept the combination where it is better and still switched where
   the backtest showed a clear winner (Tourism sMAPE 18.75 vs 19.16 always combining, M1 14.84).
   On M3 monthly the same rule gives 13.64 (always combining 13.36, plain minimum 14.14): on these
   competition series the combination alone is the better bet, on Tourism the selection is.
4. Refit the chosen model on the whole history, forecast ``h`` months with 80/95% intervals, clip at 0.

Histories too short for one backtest window, ``inactive`` items and ``fast=True`` use the class default
(first candidate) and say so in ``reason``. ``fast=True`` is the documented setting the M3 benchmark
measures: no backtest, the class default (for smooth and erratic demand, the ``Combo`` combination).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from analytics.forecasting import metrics
from analytics.forecasting.backtest import fit_candidates, rolling_cutoffs
from analytics.forecasting.classify import candidate_aliases, classify, demand_stats

__all__ = ["MIN_TRAIN", "SWITCH_MARGIN", "SeriesForecast", "auto_forecast"]

#: Fewest training months a backtest window may have.
MIN_TRAIN = 12


@dataclass
class SeriesForecast:
    """Everything the pipeline decided for one series.

    - ``forecast``: one row per step 1..h; columns ``step, mean, lo80, hi80, lo95, hi95`` (one lo/hi pair per
      level), never negative.
    - ``leaderboard``: one row per candidate; ``model, wmape, mase, smape, bias, chosen, notes`` (metrics over
      the backtest, NaN when there was none; notes = fallback notes or '').
    - ``backtest``: one row per origin x step x candidate; ``cutoff`` (int, index of the last training
      observation in the series as given), ``step``, ``y``, ``model``, ``forecast``.
    - ``error_sigma_lag1``: sample standard deviation of the chosen model's lag-1 backtest errors
      (actual - forecast); NaN with fewer than 2 origins.
    """

    demand_class: str
    chosen: str
    reason: str
    forecast: pd.DataFrame
    leaderboard: pd.DataFrame
    backtest: pd.DataFrame
    error_sigma_lag1: float
    fallbacks: list[str] = field(default_factory=list)


def _forecast_frame(
    mean: np.ndarray, bounds: dict[int, tuple[np.ndarray, np.ndarray]], levels: Sequence[int]
) -> pd.DataFrame:
    h = mean.size
    data: dict[str, np.ndarray] = {"step": np.arange(1, h + 1), "mean": np.clip(mean, 0.0, None)}
    for lv in levels:
        lo, hi = bounds[lv]
        data[f"lo{lv}"] = np.clip(lo, 0.0, None)
        data[f"hi{lv}"] = np.clip(hi, 0.0, None)
    return pd.DataFrame(data)


def _empty_backtest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cutoff": pd.Series(dtype="int64"),
            "step": pd.Series(dtype="int64"),
            "y": pd.Series(dtype=float),
            "model": pd.Series(dtype=str),
            "forecast": pd.Series(dtype=float),
        }
    )


def _leaderboard_rows(
    aliases: Sequence[str], backtest: pd.DataFrame, history: np.ndarray, offset: int, season_length: int
) -> pd.DataFrame:
    rows = []
    groups = dict(tuple(backtest.groupby("model", sort=False))) if not backtest.empty else {}
    for alias in aliases:
        part = groups.get(alias, backtest.iloc[:0])
        if part.empty:
            rows.append(
                {
                    "model": alias,
                    "wmape": np.nan,
                    "mase": np.nan,
                    "smape": np.nan,
                    "bias": np.nan,
                    "mae": np.nan,
                    "rmse": np.nan,
                }
            )
            continue
        y, f = part["y"].to_numpy(), part["forecast"].to_numpy()
        mase_by_origin, smape_by_origin = [], []
        for cutoff, window in part.groupby("cutoff", sort=True):
            train = history[: int(cutoff) - offset + 1]
            mase_by_origin.append(metrics.mase(window["y"], window["forecast"], train, season_length))
            smape_by_origin.append(metrics.smape(window["y"], window["forecast"]))
        mase_vals = [v for v in mase_by_origin if np.isfinite(v)]
        rows.append(
            {
                "model": alias,
                "wmape": metrics.wmape(y, f),
                "mase": float(np.mean(mase_vals)) if mase_vals else np.nan,
                "smape": float(np.mean(smape_by_origin)),
                "bias": metrics.bias(y, f),
                "mae": metrics.mae(y, f),
                "rmse": float(np.sqrt(np.mean((y - f) ** 2))),
            }
        )
    return pd.DataFrame(rows)


#: Another candidate replaces the class default only when its backtest error is this much lower (see the
#: module docstring for the evidence).
SWITCH_MARGIN = 0.2

#: Demand classes ranked by RMSE rather than WMAPE (see the module docstring).
RMSE_CLASSES = frozenset({"intermittent", "lumpy"})


def _choose(board: pd.DataFrame, metric: str) -> str:
    """Lowest ``metric`` (wmape or rmse); undefined values rank by MAE; ties keep the class order."""
    ranked = board.assign(
        _w=board[metric].fillna(np.inf),
        _m=board["mae"].fillna(np.inf),
        _order=np.arange(len(board)),
    ).sort_values(["_w", "_m", "_order"], kind="stable")
    return str(ranked["model"].iloc[0])


def auto_forecast(
    y: ArrayLike,
    h: int,
    *,
    season_length: int = 12,
    n_windows: int = 3,
    backtest_h: int | None = None,
    levels: Sequence[int] = (80, 95),
    fast: bool = False,
) -> SeriesForecast:
    """Classify, backtest, choose and forecast one monthly demand series (see the module docstring).

    ``y``: demand history, oldest first (NaN = no demand). ``h``: months to forecast. ``fast``: skip the
    backtest and use the class default (documented benchmark setting).
    """
    if h < 1:
        raise ValueError("h must be a positive integer")
    levels = tuple(int(lv) for lv in levels)
    arr = np.asarray(y, dtype=float).ravel().copy()
    arr[~np.isfinite(arr)] = 0.0
    demand_class = classify(arr)
    stats = demand_stats(arr)
    candidates = list(candidate_aliases(demand_class))
    nonzero = np.flatnonzero(arr != 0.0)
    offset = int(nonzero[0]) if nonzero.size else 0
    history = arr[offset:]

    # --- backtest ---------------------------------------------------------------------------------
    bh = int(backtest_h) if backtest_h is not None else int(h)
    bh = max(1, min(bh, history.size - MIN_TRAIN))
    step = max(1, math.ceil(bh / max(n_windows, 1)))
    cutoffs: list[int] = []
    if not fast and demand_class != "inactive" and len(candidates) > 1 and history.size - MIN_TRAIN >= 1:
        cutoffs = rolling_cutoffs(history.size, bh, n_windows, step, min_train=MIN_TRAIN)

    pieces: list[pd.DataFrame] = []
    bt_notes: dict[str, list[str]] = {a: [] for a in candidates}
    for cutoff in cutoffs:
        train = history[: cutoff + 1]
        test = history[cutoff + 1 : cutoff + 1 + bh]
        fitted = fit_candidates(train, candidates, season_length)
        for alias, model in fitted.items():
            mean, _ = model.forecast_arrays(bh, ())
            if model.fallback_note:
                bt_notes[alias].append(f"origin {cutoff + offset}: {model.fallback_note}")
            pieces.append(
                pd.DataFrame(
                    {
                        "cutoff": cutoff + offset,
                        "step": np.arange(1, bh + 1),
                        "y": test,
                        "model": alias,
                        "forecast": np.clip(mean, 0.0, None),
                    }
                )
            )
    backtest = pd.concat(pieces, ignore_index=True) if pieces else _empty_backtest()

    # --- choose -----------------------------------------------------------------------------------
    board = _leaderboard_rows(candidates, backtest, history, offset, season_length)
    if cutoffs:
        metric = "rmse" if demand_class in RMSE_CLASSES else "wmape"
        default = candidates[0]
        best = _choose(board, metric)
        value = board.set_index("model")[metric]
        w_best, w_default = float(value[best]), float(value[default])
        label = {"rmse": "RMSE", "wmape": "WMAPE"}[metric]

        def fmt(v: float) -> str:
            return f"{v:.1%}" if metric == "wmape" else f"{v:.3g} units"

        switch = best != default and (
            not np.isfinite(w_default) or (np.isfinite(w_best) and w_best < (1.0 - SWITCH_MARGIN) * w_default)
        )
        chosen = best if switch else default
        where = f"of {len(candidates)} candidates over {len(cutoffs)} origins; demand class {demand_class}"
        if metric == "rmse":
            where += " (ranked by RMSE: WMAPE would favour a zero forecast)"
        if not np.isfinite(value[chosen]):
            reason = f"lowest backtest MAE (WMAPE undefined: no demand in the windows) {where}"
        elif chosen == best:
            reason = f"lowest backtest {label} ({fmt(w_best)}) {where}"
        else:
            reason = (
                f"class default {default} kept: backtest {label} {fmt(w_default)}, the best alternative {best} "
                f"({fmt(w_best)}) is not {SWITCH_MARGIN:.0%} better; {where}"
            )
    else:
        chosen = candidates[0]
        if demand_class == "inactive":
            reason = (
                f"demand class inactive: no demand in the last {stats.trailing_zero_months} months; forecast zero"
                if stats.demand_months
                else "demand class inactive: no demand in the history; forecast zero"
            )
        elif fast:
            reason = f"fast mode: class default {chosen} for demand class {demand_class}, no backtest"
        else:
            reason = (
                f"class default {chosen} for demand class {demand_class}: {history.size} months of history is too "
                f"short to backtest (needs more than {MIN_TRAIN})"
            )

    # --- final fit --------------------------------------------------------------------------------
    final = fit_candidates(history if history.size else arr, [chosen], season_length)[chosen]
    mean, bounds = final.forecast_arrays(int(h), levels)
    forecast = _forecast_frame(mean, bounds, levels)
    fallbacks = list(bt_notes.get(chosen, []))
    if final.fallback_note:
        fallbacks.append(f"final fit: {final.fallback_note}")
        if final.used_alias != chosen:
            reason += f"; final fit fell back to {final.used_alias}"

    notes = []
    for alias in candidates:
        parts = list(bt_notes.get(alias, []))
        if alias == chosen and final.fallback_note:
            parts.append(f"final fit: {final.fallback_note}")
        notes.append("; ".join(parts))
    board = board.assign(chosen=board["model"] == chosen, notes=notes)
    board = board[["model", "wmape", "mase", "smape", "bias", "chosen", "notes"]]

    lag1 = backtest[(backtest["model"] == chosen) & (backtest["step"] == 1)]
    errors = (lag1["y"] - lag1["forecast"]).to_numpy()
    sigma = float(np.std(errors, ddof=1)) if errors.size >= 2 else float("nan")

    return SeriesForecast(
        demand_class=demand_class,
        chosen=chosen,
        reason=reason,
        forecast=forecast,
        leaderboard=board.reset_index(drop=True),
        backtest=backtest,
        error_sigma_lag1=sigma,
        fallbacks=fallbacks,
    )
