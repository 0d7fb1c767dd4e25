"""The per-series pipeline ``auto_forecast``: classification, backtest selection, the SeriesForecast shape."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.forecasting.auto import SeriesForecast, auto_forecast, calibrate_bounds
from analytics.forecasting.models import Combo, make_model

FORECAST_COLUMNS = ["step", "mean", "lo80", "hi80", "lo95", "hi95"]
LEADERBOARD_COLUMNS = ["model", "wmape", "mase", "smape", "bias", "chosen", "notes"]
BACKTEST_COLUMNS = ["cutoff", "step", "y", "model", "forecast"]


def seasonal_demand(n: int = 60, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 500 + 2 * t + 150 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 10, n)


def intermittent_demand(n: int = 48) -> np.ndarray:
    # a order of 5-7 units every third month: ADI 3, CV^2 small -> intermittent
    sizes = np.array([6.0, 5.0, 7.0, 6.0])
    y = np.zeros(n)
    y[::3] = np.resize(sizes, len(y[::3]))
    return y


def check_shape(result: SeriesForecast, h: int) -> None:
    assert list(result.forecast.columns) == FORECAST_COLUMNS
    assert result.forecast["step"].tolist() == list(range(1, h + 1))
    assert (result.forecast.drop(columns="step").to_numpy() >= 0).all()
    f = result.forecast
    assert (f["lo95"] <= f["lo80"] + 1e-9).all() and (f["lo80"] <= f["mean"] + 1e-9).all()
    assert (f["mean"] <= f["hi80"] + 1e-9).all() and (f["hi80"] <= f["hi95"] + 1e-9).all()
    assert list(result.leaderboard.columns) == LEADERBOARD_COLUMNS
    assert result.leaderboard["chosen"].sum() == 1
    assert result.leaderboard.loc[result.leaderboard["chosen"], "model"].item() == result.chosen
    # sMAPE is a fraction (0 to 2) like WMAPE, so screens format it once as a % (it was stored x 100)
    assert (result.leaderboard["smape"].dropna() <= 2.0).all()
    assert list(result.backtest.columns) == BACKTEST_COLUMNS
    assert isinstance(result.fallbacks, list)
    assert isinstance(result.reason, str) and result.reason


def test_seasonal_series_gets_the_combination_ranked_by_backtest():
    y = seasonal_demand()
    result = auto_forecast(y, 12)
    check_shape(result, 12)
    assert result.demand_class == "smooth"
    candidates = ["Combo", "ETS", "Theta", "ARIMA", "SeasonalNaive", "Naive"]
    assert result.leaderboard["model"].tolist() == candidates
    # the class default, always (no per-series switching); the reason says where its backtest ranks
    assert result.chosen == "Combo"
    wmape = result.leaderboard.set_index("model")["wmape"]
    rank = int((wmape < wmape["Combo"]).sum()) + 1
    assert f"backtest WMAPE {wmape['Combo']:.1%}, rank {rank} of 6 over 3 origins" in result.reason
    assert "demand class smooth" in result.reason
    # the forecast follows the seasonal swing of +-150 around the level
    assert result.forecast["mean"].max() - result.forecast["mean"].min() > 150
    # backtest: 3 origins x 12 steps x the leaderboard's rows, cutoffs are integer positions
    assert len(result.backtest) == 3 * 12 * len(result.leaderboard)
    assert result.backtest["cutoff"].dtype.kind == "i"
    assert sorted(result.backtest["cutoff"].unique().tolist()) == [39, 43, 47]  # 60 - 12 - 1 - 2*4 ...
    assert math.isfinite(result.error_sigma_lag1) and result.error_sigma_lag1 > 0
    lag1 = result.backtest[(result.backtest["model"] == result.chosen) & (result.backtest["step"] == 1)]
    assert result.error_sigma_lag1 == pytest.approx(np.std(lag1["y"] - lag1["forecast"], ddof=1))


def test_intermittent_series_gets_temporal_aggregation():
    y = intermittent_demand()
    result = auto_forecast(y, 6)
    check_shape(result, 6)
    assert result.demand_class == "intermittent"
    assert result.chosen == "IMAPA"
    assert "RMSE" in result.reason
    assert set(result.leaderboard["model"]) == {"IMAPA", "ADIDA", "SBA", "Croston", "TSB", "MovingAverage", "Naive"}
    # 6, 5, 7, 6 units every third month: at the 3-month level the sums are about 6, so about 2 a month
    assert result.forecast["mean"].iloc[0] == pytest.approx(2.0, abs=0.3)


def test_short_history_uses_class_rules_and_says_so():
    result = auto_forecast([0, 0, 0, 4, 5, 6, 5, 7], 3)
    check_shape(result, 3)
    assert result.demand_class == "new"
    assert result.chosen == "SES"
    assert "too short to backtest" in result.reason
    assert result.backtest.empty
    assert result.leaderboard[["wmape", "mase", "smape", "bias"]].isna().all().all()
    assert math.isnan(result.error_sigma_lag1)


def test_inactive_series_forecasts_zero():
    result = auto_forecast([5.0] * 20 + [0.0] * 8, 4)
    check_shape(result, 4)
    assert result.demand_class == "inactive"
    assert result.chosen == "Zero"
    assert "no demand in the last 8 months" in result.reason
    assert (result.forecast.drop(columns="step").to_numpy() == 0).all()


def test_fast_mode_skips_the_backtest():
    result = auto_forecast(seasonal_demand(), 18, fast=True)
    check_shape(result, 18)
    assert result.chosen == "Combo"
    assert result.reason.startswith("fast mode")
    assert result.backtest.empty


def test_degenerate_inputs_never_crash():
    for y in ([], [0.0, 0.0, 0.0], [np.nan, 3.0, np.nan, 4.0], [7.0]):
        result = auto_forecast(np.asarray(y, dtype=float), 2)
        check_shape(result, 2)


def test_negative_values_are_clipped_and_fallbacks_recorded():
    y = np.r_[seasonal_demand(36) - 480.0]  # swings below zero: no log scale, no multiplicative seasonality
    result = auto_forecast(y, 6)
    check_shape(result, 6)
    assert isinstance(result.leaderboard.loc[0, "notes"], str)
    combo_notes = result.leaderboard.set_index("model").loc["Combo", "notes"]
    assert "HoltWinters" in combo_notes  # needs positive values: left out of the combination


def test_backtest_h_and_windows_are_respected():
    result = auto_forecast(seasonal_demand(48), 12, n_windows=2, backtest_h=6)
    assert result.backtest["step"].max() == 6
    assert result.backtest["cutoff"].nunique() == 2
    assert "over 2 origins" in result.reason
    assert isinstance(result.forecast, pd.DataFrame) and len(result.forecast) == 12


def test_a_clearly_better_candidate_is_averaged_with_the_class_default():
    # the same 12 months repeat exactly: seasonal naive is perfect in every backtest window (WMAPE 0),
    # far more than 20% better than the combination, so the forecast is the mean of the two
    y = np.tile([10.0, 50, 30, 80, 20, 60, 40, 90, 15, 55, 35, 85], 5)
    result = auto_forecast(y, 12, select=True)  # the old per-series rule, kept as an option
    check_shape(result, 12)
    assert result.chosen == "Combo+SeasonalNaive"
    assert result.reason.startswith("backtest WMAPE of SeasonalNaive (0.0%) is more than 20% below the class default")
    combo = Combo().fit(y).predict(12)
    expected = (np.clip(combo["mean"].to_numpy(), 0, None) + y[:12]) / 2
    assert result.forecast["mean"].to_numpy() == pytest.approx(expected)
    # intervals: the mean of the two models' bounds (seasonal naive's are zero-width here)
    assert result.forecast["hi95"].to_numpy() == pytest.approx((np.clip(combo["hi-95"], 0, None) + y[:12]) / 2)
    board = result.leaderboard.set_index("model")
    assert board.loc["Combo+SeasonalNaive", "chosen"] and board["chosen"].sum() == 1
    assert "not an independent check" in board.loc["Combo+SeasonalNaive", "notes"]
    bt = result.backtest.pivot_table(index=["cutoff", "step"], columns="model", values="forecast")
    assert bt["Combo+SeasonalNaive"].to_numpy() == pytest.approx((bt["Combo"] + bt["SeasonalNaive"]).to_numpy() / 2)


def test_the_class_default_is_kept_without_a_clear_margin(monkeypatch):
    import analytics.forecasting.auto as auto

    monkeypatch.setattr(auto, "SWITCH_MARGIN", 0.999)  # nothing can be 99.9% better than IMAPA here
    result = auto.auto_forecast(intermittent_demand(), 6, select=True)
    assert result.chosen == "IMAPA"
    assert result.reason.startswith(("class default IMAPA kept", "lowest backtest RMSE"))


def test_a_planner_can_pick_arima():
    # the planner's model is the forecast for every active series; the class candidates stay on the leaderboard
    y = seasonal_demand()
    result = auto_forecast(y, 12, model="ARIMA")
    check_shape(result, 12)
    assert result.chosen == "ARIMA"
    assert result.leaderboard["model"].tolist() == ["ARIMA", "Combo", "ETS", "Theta", "SeasonalNaive", "Naive"]
    assert result.reason.startswith("ARIMA chosen by the planner; its backtest WMAPE")
    expected = make_model("ARIMA").fit(y).predict(12)["mean"].to_numpy()
    assert result.forecast["mean"].to_numpy() == pytest.approx(np.clip(expected, 0, None))
    # inactive items still get zero; 'auto' is the automatic choice; an unknown name is refused
    assert auto_forecast([5.0] * 20 + [0.0] * 8, 4, model="ARIMA").chosen == "Zero"
    assert auto_forecast(y, 12, model="auto").chosen == "Combo"
    with pytest.raises(ValueError, match="unknown model"):
        auto_forecast(y, 12, model="Prophet")


def test_detail_false_gives_the_same_forecast_without_the_frames():
    y = seasonal_demand()
    full, lean = auto_forecast(y, 6), auto_forecast(y, 6, detail=False)
    pd.testing.assert_frame_equal(lean.forecast, full.forecast, check_exact=True)
    assert (lean.chosen, lean.reason, lean.demand_class) == (full.chosen, full.reason, full.demand_class)
    assert lean.error_sigma_lag1 == full.error_sigma_lag1
    assert lean.leaderboard is None and lean.backtest is None
    assert list(full.leaderboard.columns) == LEADERBOARD_COLUMNS


def test_a_year_of_recorded_zeros_is_history_not_absence():
    from analytics.forecasting.classify import classify, demand_stats, leading_zeros_are_history

    # 30 recorded zero months, then demand in 3 of the last 6 months (first demand 6 months ago)
    y = np.r_[np.zeros(30), [4.0, 0, 0, 6, 0, 5]]
    assert classify(y) == "new"  # 6 months since the first demand
    assert leading_zeros_are_history(y) and not leading_zeros_are_history(np.r_[np.zeros(11), [4.0, 0, 5]])
    stats = demand_stats(y, leading_zeros=True)
    assert (stats.history_months, stats.demand_months, stats.adi) == (36, 3, 12.0)  # 36 months / 3 demands
    # sizes 4, 6, 5: mean 5, population variance 2/3, CV2 = (2/3) / 25 = 0.0267 < 0.49 -> intermittent
    assert classify(y, leading_zeros=True) == "intermittent"
    result = auto_forecast(y, 6)
    assert result.demand_class == "intermittent" and result.chosen == "IMAPA"
    # IMAPA over all 36 given months, not over the 6 since the first demand
    expected = make_model("IMAPA").fit(y).predict(6)["mean"].to_numpy()
    assert result.forecast["mean"].to_numpy() == pytest.approx(expected)
    assert result.forecast["mean"].iloc[0] != pytest.approx(make_model("IMAPA").fit(y[30:]).predict(1)["mean"].iloc[0])


def test_intermittent_methods_count_leading_zeros_other_classes_drop_them():
    lead = np.zeros(5)
    y = np.r_[lead, intermittent_demand()]
    result = auto_forecast(y, 6)
    assert result.demand_class in ("intermittent", "lumpy")
    expected = make_model("IMAPA").fit(y).predict(6)["mean"].to_numpy()
    assert result.forecast["mean"].to_numpy() == pytest.approx(expected)
    # a smooth series after 5 leading zeros: the combination is fitted from the first demand on
    s = seasonal_demand(48)
    smooth = auto_forecast(np.r_[lead, s], 6, fast=True)
    assert smooth.forecast["mean"].to_numpy() == pytest.approx(
        auto_forecast(s, 6, fast=True).forecast["mean"].to_numpy()
    )


def test_calibration_scales_each_bound_by_the_backtest_errors_quantile():
    # Worked by hand: a flat forecast of 100 with an 80% interval of +-10; six backtest errors of +-5, +-2, +-4
    # against backtest forecasts of 100 (the mean's level, so half-widths stay 10): z = 0.5, 0.5, 0.2, 0.2,
    # 0.4, 0.4. The 80% quantile (numpy's linear rule: position 0.8 x 5 = 4 of the sorted values) is 0.5, so
    # the interval was twice as wide as the backtest needed; factor 0.5 ** 0.3 = 0.81225.
    mean = np.array([100.0, 100.0])
    bounds = {80: (np.array([90.0, 90.0]), np.array([110.0, 110.0]))}
    actual = np.array([[105.0, 95.0], [102.0, 98.0], [104.0, 96.0]])
    backtest = np.full((3, 2), 100.0)
    out, factors = calibrate_bounds(mean, bounds, actual, backtest)
    assert factors[80] == pytest.approx(0.5**0.3) == pytest.approx(0.81225, abs=1e-5)
    np.testing.assert_allclose(out[80][0], [91.8775, 91.8775], atol=1e-4)
    np.testing.assert_allclose(out[80][1], [108.1225, 108.1225], atol=1e-4)


def test_calibration_measures_errors_relative_to_the_backtest_level_and_clips_the_factor():
    mean = np.array([100.0, 100.0])
    bounds = {
        80: (np.array([90.0, 90.0]), np.array([110.0, 110.0])),
        95: (np.array([80.0, 80.0]), np.array([120.0, 120.0])),
    }
    # backtest forecasts at half the mean's level: the half-width there is 5, so errors of +-5 are z = 1 at 80%
    actual = np.array([[55.0, 45.0], [55.0, 45.0], [55.0, 45.0]])
    out, factors = calibrate_bounds(mean, bounds, actual, np.full((3, 2), 50.0))
    assert factors[80] == pytest.approx(1.0)
    np.testing.assert_allclose(out[80][1], [110.0, 110.0])
    # the same errors are z = 0.5 of the 95% half-width of 10 there: factor 0.5 ** 0.3
    assert factors[95] == pytest.approx(0.5**0.3)
    # errors 10 times the half-width: the factor is clipped at 2 before the exponent
    huge = np.array([[150.0, -50.0], [150.0, -50.0], [150.0, -50.0]])
    _, factors = calibrate_bounds(mean, bounds, huge, np.full((3, 2), 100.0))
    assert factors[80] == pytest.approx(2.0**0.3)


def test_calibration_needs_six_errors():
    mean = np.array([100.0] * 5)
    bounds = {80: (np.full(5, 90.0), np.full(5, 110.0))}
    out, factors = calibrate_bounds(mean, bounds, np.full((1, 5), 130.0), np.full((1, 5), 100.0))
    assert factors == {} and out[80][1][0] == 110.0  # 5 errors: too few, unchanged


def test_calibration_keeps_a_wider_level_around_a_narrower_one():
    # Worked by hand. Step 1: 80% +-10, 95% +-20; step 2: 80% +-10, 95% +-11; three origins with errors 15 at
    # step 1 and 1 at step 2. z80 = 1.5 x 3, 0.1 x 3 -> 80% quantile (position 4 of 0..5) 1.5 -> x1.5 ** 0.3 =
    # 1.1294; z95 = 0.75 x 3, 0.0909 x 3 -> 95% quantile (position 4.75) 0.75 -> x0.75 ** 0.3 = 0.9173. At step
    # 2 the 80% half-width becomes 11.294 and the 95% one 10.09: the 95% interval is widened to hold the 80% one.
    mean = np.array([100.0, 100.0])
    bounds = {
        80: (np.array([90.0, 90.0]), np.array([110.0, 110.0])),
        95: (np.array([80.0, 89.0]), np.array([120.0, 111.0])),
    }
    actual = np.array([[115.0, 101.0], [115.0, 101.0], [115.0, 101.0]])
    out, factors = calibrate_bounds(mean, bounds, actual, np.full((3, 2), 100.0))
    assert factors[80] == pytest.approx(1.5**0.3) and factors[95] == pytest.approx(0.75**0.3)
    np.testing.assert_allclose(out[80][1], 100 + 10 * 1.5**0.3)
    assert out[95][1][0] == pytest.approx(100 + 20 * 0.75**0.3)  # step 1: its own factor
    assert out[95][1][1] == pytest.approx(100 + 10 * 1.5**0.3)  # step 2: the 80% bound, not 100 + 11 x 0.917
    assert out[95][0][1] == pytest.approx(100 - 10 * 1.5**0.3)


def test_calibration_leaves_a_lower_bound_at_zero_at_zero():
    # An erratic item: mean 10, 80% interval clipped to [0, 20]; small backtest errors narrow it (factor < 1),
    # but the lower bound reached below 0 before the clip, so it stays at 0 (zero-demand months stay inside).
    mean = np.array([10.0, 10.0])
    bounds = {80: (np.array([0.0, 0.0]), np.array([20.0, 20.0]))}
    actual = np.array([[11.0, 9.0], [11.0, 9.0], [11.0, 9.0]])
    out, factors = calibrate_bounds(mean, bounds, actual, np.full((3, 2), 10.0))
    assert factors[80] < 1.0
    assert (out[80][0] == 0.0).all() and (out[80][1] < 20.0).all()


def test_a_backtest_miss_with_a_zero_forecast_counts_as_a_large_miss():
    # Two origins forecast 100 and miss by 1 (z = 0.1 of the +-10 half-width); the third forecast 0 (no width at
    # that level) and demand came: z is unbounded. 9 errors, sorted 0.1 x 6 then 3 unbounded: the 80% quantile
    # (position 6.4) is unbounded, so the factor is the clip, 2 ** 0.3 (dropping them would narrow: 0.5 ** 0.3).
    mean = np.array([100.0] * 3)
    bounds = {80: (np.full(3, 90.0), np.full(3, 110.0))}
    actual = np.array([[101.0, 99.0, 101.0], [99.0, 101.0, 99.0], [20.0, 25.0, 30.0]])
    backtest = np.array([[100.0] * 3, [100.0] * 3, [0.0] * 3])
    _, factors = calibrate_bounds(mean, bounds, actual, backtest)
    assert factors[80] == pytest.approx(2.0**0.3)


def test_smooth_series_intervals_are_calibrated_and_the_reason_says_so():
    result = auto_forecast(seasonal_demand(), 12)
    assert "intervals scaled by the backtest errors: 80% x" in result.reason
    check_shape(result, 12)
    assert "intervals scaled" not in auto_forecast(intermittent_demand(), 6).reason
