"""Rolling-origin backtests (time-series cross-validation).

``cross_validation`` follows the Nixtla shape: long input ``unique_id, ds, y`` and one output frame with
a ``cutoff`` column and one forecast column per model alias; it refits every model at every origin, and so
does ``backtest_series`` (its long-frame form for one series). The per-series pipeline in ``auto.py`` uses
``fixed_parameter_forecasts`` instead: parameters estimated once at the first origin, then only the states
are updated through the later origins (one fit per candidate instead of one per candidate and origin).

Origins: with ``n`` observations the last window ends at the last observation, and the windows step back
by ``step_size``: cutoff index (0-based position of the last training observation) of window i
(i = 0..n_windows-1, oldest first) is ``n - h - 1 - (n_windows - 1 - i) * step_size``. Windows whose
training part would be shorter than ``min_train`` are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from analytics.forecasting.models import Combo, ForecastModel, UpdateCache, fit_member, make_model

__all__ = [
    "backtest_series",
    "clone",
    "cross_validation",
    "fit_candidates",
    "fixed_parameter_forecasts",
    "rolling_cutoffs",
]


def clone(model: ForecastModel) -> ForecastModel:
    """Unfitted copy of a model with the same hyper-parameters."""
    return type(model)(**model.get_params())


def rolling_cutoffs(n: int, h: int, n_windows: int, step_size: int | None = None, min_train: int = 1) -> list[int]:
    """Cutoff indices (last training position, 0-based, ascending) of the backtest windows that fit."""
    step = h if step_size is None else int(step_size)
    if h < 1 or n_windows < 1 or step < 1:
        raise ValueError("h, n_windows and step_size must be positive")
    cutoffs = [n - h - 1 - (n_windows - 1 - i) * step for i in range(n_windows)]
    return [c for c in cutoffs if c + 1 >= max(min_train, 1)]


def fit_candidates(
    y: np.ndarray, aliases: Sequence[str], season_length: int = 12, combo_members: Sequence[str] | None = None
) -> dict[str, ForecastModel]:
    """Fit each alias to ``y``; a ``Combo`` reuses members that are fitted anyway (no double fitting).

    Returns ``{alias: fitted model}`` in the order of ``aliases``.
    """
    fitted: dict[str, ForecastModel] = {}
    members = tuple(combo_members) if combo_members is not None else Combo(season_length).members
    wanted = list(aliases)
    if "Combo" in wanted:
        for name in members:
            if name not in fitted:
                # a member that is not a candidate itself is only needed if it fits without falling back
                fitted[name] = (
                    make_model(name, season_length).fit(y) if name in wanted else fit_member(name, y, season_length)
                )
    for alias in wanted:
        if alias == "Combo":
            fitted["Combo"] = Combo.from_fitted([fitted[name] for name in members], season_length)
        elif alias not in fitted:
            fitted[alias] = make_model(alias, season_length).fit(y)
    return {alias: fitted[alias] for alias in wanted}


def fixed_parameter_forecasts(
    y: ArrayLike, aliases: Sequence[str], cutoffs: Sequence[int], h: int, season_length: int = 12
) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[int, str]]]]:
    """Rolling-origin mean forecasts with every candidate's parameters estimated once, at the first origin.

    Each alias is fitted (``fit_candidates``, Combo members shared) to ``y[: cutoffs[0] + 1]`` only; for
    each later cutoff ``c`` the fitted model runs its states through ``y[: c + 1]`` with those parameters
    fixed (``ForecastModel.forecast_from``) and forecasts ``h`` months. Strictly out-of-sample: no
    parameter has seen anything after the first cutoff, and no forecast anything after its own cutoff.
    It costs one fit per candidate plus cheap filtering, instead of one fit per candidate and origin; the
    parameters of the later origins come from a shorter history than a refit would use, which if anything
    handicaps the models with more parameters.

    Returns ``({alias: (len(cutoffs), h) array}, {alias: [(cutoff, note), ...]})``; notes are fallbacks at
    the fit (reported at the first cutoff, they hold for every origin) and updates that had to refit.
    """
    arr = np.asarray(y, dtype=float).ravel()
    cutoffs = [int(c) for c in cutoffs]
    forecasts = {alias: np.empty((len(cutoffs), h)) for alias in aliases}
    notes: dict[str, list[tuple[int, str]]] = {alias: [] for alias in aliases}
    if not cutoffs:
        return forecasts, notes
    fitted = fit_candidates(arr[: cutoffs[0] + 1], aliases, season_length)
    cache: UpdateCache = {}
    for alias, model in fitted.items():
        if model.fallback_note:
            notes[alias].append((cutoffs[0], model.fallback_note))
        for j, cutoff in enumerate(cutoffs):
            mean, note = model.forecast_from(arr[: cutoff + 1], h, cache)
            forecasts[alias][j] = mean
            if note:
                notes[alias].append((cutoff, note))
    return forecasts, notes


def backtest_series(
    y: ArrayLike,
    models: Sequence[ForecastModel] | Sequence[str],
    h: int,
    n_windows: int = 3,
    step_size: int | None = None,
    *,
    season_length: int = 12,
    min_train: int = 1,
) -> pd.DataFrame:
    """Rolling-origin forecasts of one series.

    ``models`` are model instances (used as templates, cloned per window) or aliases (fitted with
    ``fit_candidates``, which shares Combo members). Grain: one row per cutoff x step x model; columns
    ``cutoff`` (int, index of the last training observation), ``step`` (1..h), ``y`` (actual), ``model``
    (alias), ``forecast`` (mean), ``note`` (fallback note of that fit, '' if none).
    """
    arr = np.asarray(y, dtype=float).ravel()
    rows: list[pd.DataFrame] = []
    by_alias = bool(models) and isinstance(models[0], str)
    for cutoff in rolling_cutoffs(arr.size, h, n_windows, step_size, min_train):
        train, test = arr[: cutoff + 1], arr[cutoff + 1 : cutoff + 1 + h]
        if by_alias:
            fitted = fit_candidates(train, [str(m) for m in models], season_length)
        else:
            fitted = {}
            for template in models:
                assert isinstance(template, ForecastModel)
                fitted[template.alias] = clone(template).fit(train)
        for alias, model in fitted.items():
            mean, _ = model.forecast_arrays(h, ())
            rows.append(
                pd.DataFrame(
                    {
                        "cutoff": cutoff,
                        "step": np.arange(1, h + 1),
                        "y": test,
                        "model": alias,
                        "forecast": mean,
                        "note": model.fallback_note,
                    }
                )
            )
    if not rows:
        return pd.DataFrame(
            {
                "cutoff": pd.Series(dtype="int64"),
                "step": pd.Series(dtype="int64"),
                "y": pd.Series(dtype=float),
                "model": pd.Series(dtype=str),
                "forecast": pd.Series(dtype=float),
                "note": pd.Series(dtype=str),
            }
        )
    return pd.concat(rows, ignore_index=True)


def cross_validation(
    df: pd.DataFrame,
    models: Sequence[ForecastModel],
    h: int,
    n_windows: int = 1,
    step_size: int | None = None,
    *,
    min_train: int = 1,
) -> pd.DataFrame:
    """Rolling-origin cross-validation of every series in a long frame.

    ``df``: one row per unique_id x month with columns ``unique_id``, ``ds`` (month-start timestamps) and
    ``y``; months are taken in ``ds`` order. ``step_size`` defaults to ``h``.
    Returns one row per unique_id x cutoff x ds with columns ``unique_id``, ``ds`` (the forecast month),
    ``cutoff`` (``ds`` of the last training month), ``y`` (actual) and one column per model alias holding
    its mean forecast. Series too short for a window simply have fewer windows.
    """
    aliases = [m.alias for m in models]
    if len(set(aliases)) != len(aliases):
        raise ValueError(f"model aliases must be unique, got {aliases}")
    missing = {"unique_id", "ds", "y"} - set(df.columns)
    if missing:
        raise ValueError(f"df is missing columns {sorted(missing)}")
    out: list[pd.DataFrame] = []
    for uid, group in df.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True):
        ds = pd.to_datetime(group["ds"]).to_numpy()
        y = group["y"].to_numpy(dtype=float)
        long = backtest_series(y, list(models), h, n_windows, step_size, min_train=min_train)
        if long.empty:
            continue
        wide = long.pivot_table(index=["cutoff", "step"], columns="model", values="forecast", sort=True)
        wide = wide.reset_index()
        actual = long.drop_duplicates(["cutoff", "step"]).set_index(["cutoff", "step"])["y"]
        wide["y"] = actual.reindex(pd.MultiIndex.from_frame(wide[["cutoff", "step"]])).to_numpy()
        pos = wide["cutoff"].to_numpy() + wide["step"].to_numpy()
        frame = pd.DataFrame(
            {
                "unique_id": uid,
                "ds": ds[pos],
                "cutoff": ds[wide["cutoff"].to_numpy()],
                "y": wide["y"].to_numpy(),
            }
        )
        for alias in aliases:
            frame[alias] = wide[alias].to_numpy()
        out.append(frame)
    columns = ["unique_id", "ds", "cutoff", "y", *aliases]
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns]
