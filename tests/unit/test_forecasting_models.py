"""Forecasting models, metrics, classification and backtests on small hand-checkable series."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.forecasting import metrics
from analytics.forecasting.backtest import (
    backtest_series,
    cross_validation,
    fixed_parameter_forecasts,
    rolling_cutoffs,
)
from analytics.forecasting.classify import CANDIDATES_BY_CLASS, classify, demand_stats
from analytics.forecasting.models import (
    ARIMA,
    ETS,
    ETS_CONFIGS,
    MODEL_ALIASES,
    SBA,
    SES,
    TSB,
    Combo,
    Croston,
    HoltWinters,
    MovingAverage,
    Naive,
    SeasonalNaive,
    Theta,
    Zero,
    _ets_mle,
    _ets_run,
    _fit_ets,
    fit_member,
    make_model,
    seasonal_adjustment,
    seasonality_test,
)

Z80 = 1.2815515655446004  # standard normal 90% quantile
Z95 = 1.959963984540054  # standard normal 97.5% quantile

INTERMITTENT = np.array([0, 3, 0, 0, 5, 0, 4], dtype=float)


def seasonal_series(n: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 200 + 1.0 * t + 50 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 5, n)


# --------------------------------------------------------------------------------------------------
# baselines
# --------------------------------------------------------------------------------------------------


def test_naive_by_hand():
    # y = 10, 12, 11, 13: forecast 13; one-step residuals 2, -1, 2 -> sigma = sqrt((4 + 1 + 4) / 3) = sqrt(3)
    # step h: 13 +- z * sqrt(3) * sqrt(h)
    pred = Naive().fit([10, 12, 11, 13]).predict(2)
    assert list(pred.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert list(pred.index) == [1, 2]
    assert pred["mean"].tolist() == [13.0, 13.0]
    assert pred.loc[1, "hi-80"] == pytest.approx(13 + Z80 * math.sqrt(3))
    assert pred.loc[2, "lo-95"] == pytest.approx(13 - Z95 * math.sqrt(3) * math.sqrt(2))


def test_seasonal_naive_by_hand():
    # season 4: last season 1, 2, 3, 4 repeats; seasonal differences of y are all 1 -> sigma 1
    y = [0, 1, 2, 3, 1, 2, 3, 4]
    pred = SeasonalNaive(season_length=4).fit(y).predict(6)
    assert pred["mean"].tolist() == [1, 2, 3, 4, 1, 2]
    # steps 1-4 are one season ahead (k = 0), steps 5-6 two (k = 1): width sqrt(k + 1)
    assert pred.loc[4, "hi-80"] - pred.loc[4, "mean"] == pytest.approx(Z80)
    assert pred.loc[5, "hi-80"] - pred.loc[5, "mean"] == pytest.approx(Z80 * math.sqrt(2))


def test_moving_average_by_hand():
    # window 3 over 4, 6, 8, 10, 12: forecast (8 + 10 + 12) / 3 = 10
    # one-step errors: 10 - mean(4, 6, 8) = 4, 12 - mean(6, 8, 10) = 4 -> sigma 4, flat interval
    pred = MovingAverage(window=3).fit([4, 6, 8, 10, 12]).predict(3)
    assert pred["mean"].tolist() == [10.0, 10.0, 10.0]
    assert pred["hi-95"].tolist() == pytest.approx([10 + Z95 * 4] * 3)


def test_ses_with_fixed_alpha_by_hand():
    # alpha 0.5, level starts at y1 = 10: l = 10, 11, 11, 12 -> forecast 12
    # one-step errors 0, 2, 0, 2 -> sigma^2 = 2; var_h = 2 (1 + (h - 1) 0.25)
    pred = SES(alpha=0.5, log=False).fit([10, 12, 11, 13]).predict(2)
    assert pred["mean"].tolist() == pytest.approx([12.0, 12.0])
    assert pred.loc[1, "hi-80"] == pytest.approx(12 + Z80 * math.sqrt(2))
    assert pred.loc[2, "lo-95"] == pytest.approx(12 - Z95 * math.sqrt(2 * 1.25))


# --------------------------------------------------------------------------------------------------
# intermittent demand
# --------------------------------------------------------------------------------------------------


def test_croston_by_hand():
    # y = 0, 3, 0, 0, 5, 0, 4 ; alpha = 0.1
    # demands (size, interval): (3, 2) (5, 3) (4, 2)   [first interval counted from the start]
    # size:     3 -> 3 + 0.1 (5 - 3) = 3.2 -> 3.2 + 0.1 (4 - 3.2) = 3.28
    # interval: 2 -> 2 + 0.1 (3 - 2) = 2.1 -> 2.1 + 0.1 (2 - 2.1) = 2.09
    # forecast 3.28 / 2.09 = 1.569378
    model = Croston(alpha=0.1).fit(INTERMITTENT)
    assert model.z_hat_ == pytest.approx(3.28)
    assert model.p_hat_ == pytest.approx(2.09)
    assert model.predict(3)["mean"].tolist() == pytest.approx([3.28 / 2.09] * 3)


def test_sba_is_croston_times_one_minus_half_alpha():
    # SBA = 1.569378 * (1 - 0.1 / 2) = 1.490909
    croston = Croston(alpha=0.1).fit(INTERMITTENT).predict(1)["mean"].iloc[0]
    sba = SBA(alpha=0.1).fit(INTERMITTENT).predict(1)["mean"].iloc[0]
    assert sba == pytest.approx(croston * 0.95)
    assert sba == pytest.approx(1.4909091, rel=1e-6)


def test_tsb_by_hand():
    # first demand at month 2 (p1 = 2): z = 3, d = 1/2
    # month 3 (0): d = 0.5 + 0.1 (0 - 0.5) = 0.45 ; month 4 (0): d = 0.405
    # month 5 (5): d = 0.405 + 0.1 (1 - 0.405) = 0.4645, z = 3 + 0.1 (5 - 3) = 3.2
    # month 6 (0): d = 0.41805 ; month 7 (4): d = 0.41805 + 0.1 (1 - 0.41805) = 0.476245, z = 3.28
    # forecast 0.476245 * 3.28 = 1.5620836
    model = TSB(alpha=0.1, beta=0.1).fit(INTERMITTENT)
    assert model.d_hat_ == pytest.approx(0.476245)
    assert model.z_hat_ == pytest.approx(3.28)
    assert model.predict(2)["mean"].tolist() == pytest.approx([1.5620836] * 2)


def test_croston_family_intervals_are_flat_and_ordered():
    y = np.tile([0, 0, 6, 0, 5, 0, 0, 7], 4).astype(float)
    for model in (Croston(), SBA(), TSB()):
        pred = model.fit(y).predict(4)
        assert (pred.nunique() == 1).all(), model.alias  # flat over the horizon
        assert (pred["lo-95"] <= pred["lo-80"]).all() and (pred["lo-80"] <= pred["mean"]).all()
        assert (pred["mean"] <= pred["hi-80"]).all() and (pred["hi-80"] <= pred["hi-95"]).all()


# --------------------------------------------------------------------------------------------------
# statsmodels models, combination, intervals
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", [a for a in MODEL_ALIASES])
def test_every_model_has_ordered_intervals(alias):
    y = seasonal_series()
    model = make_model(alias)
    pred = model.fit(y).predict(14)
    assert model.alias == alias
    assert len(pred) == 14
    assert np.isfinite(pred.to_numpy()).all()
    assert (pred["lo-95"] <= pred["lo-80"] + 1e-9).all()
    assert (pred["lo-80"] <= pred["mean"] + 1e-9).all()
    assert (pred["mean"] <= pred["hi-80"] + 1e-9).all()
    assert (pred["hi-80"] <= pred["hi-95"] + 1e-9).all()


def test_statsmodels_models_follow_a_seasonal_pattern():
    y = seasonal_series(72)
    assert seasonality_test(y, 12)
    actual_next = 200 + np.arange(72, 84) + 50 * np.sin(2 * np.pi * np.arange(72, 84) / 12)
    for model in (ETS(), Theta(), ARIMA(), HoltWinters(), Combo()):
        mean = model.fit(y).predict(12)["mean"].to_numpy()
        assert model.fallback_note == "", model.fallback_note
        assert metrics.wmape(actual_next, mean) < 0.08, model.alias


def test_seasonal_adjustment_indices_average_one():
    y = seasonal_series(48)
    adj = seasonal_adjustment(y, 12)
    assert adj.method == "multiplicative"
    assert adj.indices.mean() == pytest.approx(1.0)
    assert adj.reseasonalise(adj.adjust(y)[-12:], 36) == pytest.approx(y[-12:] * 0 + adj.adjust(y)[-12:] * adj.indices)


def test_seasonal_indices_come_from_the_last_five_years():
    # two years with the peak in January, then six with it in July, at a flat level of 100: the last five years'
    # detrended values (months 30-89, the centred 2x12 average is defined up to month 89) all see the July
    # pattern only, so the indices are exactly it; over the whole history January would keep a share
    old = np.ones(12)
    old[0], old[6] = 1.5, 0.5
    new = np.ones(12)
    new[0], new[6] = 0.5, 1.5
    y = 100 * np.r_[np.tile(old, 2), np.tile(new, 6)]
    adj = seasonal_adjustment(y, 12)
    assert adj.method == "multiplicative"
    np.testing.assert_allclose(adj.indices, new)
    np.testing.assert_allclose(adj.future(96, 12), new)  # month 96 is a January
    whole = seasonal_adjustment(y, 12, window=None)
    assert whole.indices[0] > 0.55 and whole.indices[6] < 1.45  # the old pattern still pulls the average


def test_combo_is_the_mean_of_its_members():
    y = seasonal_series()
    members = [make_model(a).fit(y) for a in ("Theta", "ETS")]
    combo = Combo.from_fitted(members)
    pred = combo.predict(6)
    expected = np.mean([m.predict(6)["mean"].to_numpy() for m in members], axis=0)
    assert pred["mean"].to_numpy() == pytest.approx(expected)
    expected_hi = np.mean([m.predict(6)["hi-95"].to_numpy() for m in members], axis=0)
    assert pred["hi-95"].to_numpy() == pytest.approx(expected_hi)
    fitted = Combo(members=("Theta", "ETS")).fit(y).predict(6)
    assert fitted["mean"].to_numpy() == pytest.approx(expected)


def test_models_keep_warnings_inside_the_fit(recwarn):
    Theta().fit(seasonal_series())
    ARIMA().fit([1.0, 5, 2, 8, 3, 9, 4, 11, 5, 12, 6])
    assert not [w for w in recwarn if "statsmodels" in str(w.filename)]


# --------------------------------------------------------------------------------------------------
# fallbacks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["ETS", "Theta", "ThetaQ", "ARIMA", "HoltWinters", "Combo", "SeasonalNaive"])
def test_three_points_fall_back_and_say_so(alias):
    model = make_model(alias).fit([5.0, 7.0, 6.0])
    assert model.fallback_note.startswith(f"{alias} fell back to ")
    assert "too short" in model.fallback_note
    pred = model.predict(3)
    assert np.isfinite(pred.to_numpy()).all()
    assert model.used_alias != alias


@pytest.mark.parametrize("alias", ["ETS", "SES", "Theta", "ARIMA", "Combo", "Croston", "SBA", "TSB"])
def test_all_zero_history_falls_back_to_a_zero_forecast(alias):
    model = make_model(alias).fit(np.zeros(30))
    assert model.fallback_note != ""
    assert ("all-zero" in model.fallback_note) or ("no positive demand" in model.fallback_note)
    assert (model.predict(4)["mean"] == 0).all()


def test_numerical_failure_falls_back():
    # log scale demanded on a series with zeros is impossible: the fit raises, the model falls back
    model = Theta(log=True).fit([3.0, 0.0, 4.0, 5.0, 2.0, 6.0])
    assert "Theta fell back to Naive" in model.fallback_note
    assert model.predict(2)["mean"].tolist() == [6.0, 6.0]


def test_empty_history_gives_zero():
    model = Naive().fit([])
    assert model.used_alias == "Zero"
    assert (model.predict(2).to_numpy() == 0).all()
    assert (Zero().fit([1, 2]).predict(2).to_numpy() == 0).all()


# --------------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------------


def test_metrics_by_hand():
    y, f = [10, 20], [12, 15]
    assert metrics.wmape(y, f) == pytest.approx(7 / 30)  # (2 + 5) / 30
    assert metrics.bias(y, f) == pytest.approx(-0.1)  # (2 - 5) / 30
    # sMAPE: 2 * 2 / 22 = 0.181818 and 2 * 5 / 35 = 0.285714 -> mean 0.233766 (23.4%)
    # a fraction, like wmape: 2|y - f| / (|y| + |f|) per step, averaged (the M3 tables print it x 100)
    assert metrics.smape(y, f) == pytest.approx((4 / 22 + 10 / 35) / 2)
    assert metrics.smape([100, 0], [110, 0]) == pytest.approx(2 * 10 / 210 / 2)  # 0/0 counts as 0
    assert metrics.wmape([0, 0], [0, 0]) == 0.0
    assert math.isnan(metrics.wmape([0, 0], [1, 0]))
    assert math.isnan(metrics.bias([0, 0], [1, 0]))


def test_mase_by_hand():
    # short history (< m + 1): lag-1 scale = (|2 - 1| + |4 - 2|) / 2 = 1.5 -> |5 - 4| / 1.5
    assert metrics.mase([5], [4], [1, 2, 4], m=12) == pytest.approx(1 / 1.5)
    # seasonal scale m = 2: history 1, 3, 2, 5 -> |2 - 1|, |5 - 3| -> 1.5 ; errors 1 and 2 -> MAE 1.5 -> 1.0
    assert metrics.mase([4, 6], [3, 4], [1, 3, 2, 5], m=2) == pytest.approx(1.0)
    assert math.isnan(metrics.mase([1], [1], [3, 3, 3], m=1))


def test_msis_by_hand():
    # scale 1.5 (lag 1, as above); level 80 -> 2 / 0.2 = 10 per unit missed. Step 1: y 5 inside [4, 6]: width 2.
    # Step 2: y 9 above [4, 8]: width 4 + 10 x 1 = 14. Mean 8 -> 8 / 1.5.
    assert metrics.msis([5, 9], [4, 4], [6, 8], [1, 2, 4], 80) == pytest.approx(8 / 1.5)
    # a miss below at 95%: 2 / 0.05 = 40 per unit; width 2 + 40 x 0.5 = 22, scale 1.5
    assert metrics.msis([3.5], [4], [6], [1, 2, 4], 95) == pytest.approx(22 / 1.5)
    assert math.isnan(metrics.msis([1], [0], [2], [3, 3, 3], 80, m=1))


# --------------------------------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([10, 12, 11, 9, 10, 11, 12, 10, 9, 11, 10, 12], "smooth"),
        ([1, 20, 2, 30, 1, 25, 3, 40, 2, 1, 30, 5], "erratic"),
        ([5, 0, 0, 6, 0, 0, 5, 0, 0, 6, 0, 5], "intermittent"),
        ([1, 0, 0, 30, 0, 0, 2, 0, 0, 40, 0, 5], "lumpy"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6, 7], "new"),
        ([5] * 12 + [0] * 6, "inactive"),
        ([0] * 20, "inactive"),
        ([], "inactive"),
    ],
)
def test_classify_hand_made_series(series, expected):
    assert classify(series) == expected
    assert CANDIDATES_BY_CLASS[expected]


def test_demand_stats_by_hand():
    # history after leading zeros: 5 0 0 6 0 0 5 0 0 6 0 5 -> 12 months, 5 demands: ADI 2.4
    # sizes 5 6 5 6 5: mean 5.4, population variance 0.24 -> CV^2 = 0.24 / 29.16 = 0.00823
    stats = demand_stats([0, 0, 5, 0, 0, 6, 0, 0, 5, 0, 0, 6, 0, 5])
    assert stats.history_months == 12
    assert stats.adi == pytest.approx(2.4)
    assert stats.cv2 == pytest.approx(0.24 / 5.4**2)
    assert stats.trailing_zero_months == 0
    # sizes 1 9 2: mean 4, variance (9 + 25 + 4) / 3 = 12.67 -> CV^2 0.79; ADI 7 / 3 = 2.33 -> lumpy
    assert classify([1, 0, 0, 9, 0, 0, 2], min_history=3) == "lumpy"


# --------------------------------------------------------------------------------------------------
# backtests
# --------------------------------------------------------------------------------------------------


def test_rolling_cutoffs():
    # n 30, h 3, step 3, 3 windows: 30 - 3 - 1 - 6 = 20, 23, 26
    assert rolling_cutoffs(30, 3, 3, 3) == [20, 23, 26]
    assert rolling_cutoffs(10, 3, 3, 3, min_train=6) == [6]


def test_cross_validation_shape_and_cutoffs():
    ds_a = pd.date_range("2022-01-01", periods=30, freq="MS")
    ds_b = pd.date_range("2023-01-01", periods=24, freq="MS")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "A", "ds": ds_a, "y": np.arange(30, dtype=float)}),
            pd.DataFrame({"unique_id": "B", "ds": ds_b, "y": np.arange(24, dtype=float) * 2}),
        ]
    )
    cv = cross_validation(df, [Naive(), SeasonalNaive(12)], h=3, n_windows=2, step_size=3)
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "Naive", "SeasonalNaive"]
    assert len(cv) == 2 * 2 * 3  # series x windows x steps
    a = cv[cv["unique_id"] == "A"]
    # A: n 30 -> cutoffs at positions 23 and 26
    assert sorted(a["cutoff"].unique()) == [ds_a[23], ds_a[26]]
    first = a[a["cutoff"] == ds_a[23]]
    assert first["ds"].tolist() == list(ds_a[24:27])
    assert first["y"].tolist() == [24.0, 25.0, 26.0]
    assert first["Naive"].tolist() == [23.0, 23.0, 23.0]  # last training value
    assert first["SeasonalNaive"].tolist() == [12.0, 13.0, 14.0]  # same months a year before
    assert (cv["cutoff"] < cv["ds"]).all()


def test_backtest_series_long_frame():
    y = seasonal_series(40)
    bt = backtest_series(y, ["Naive", "Combo"], h=4, n_windows=2, step_size=2, min_train=12)
    assert set(bt.columns) >= {"cutoff", "step", "y", "model", "forecast"}
    assert sorted(bt["cutoff"].unique().tolist()) == [33, 35]
    assert len(bt) == 2 * 2 * 4
    assert bt.loc[(bt["model"] == "Naive") & (bt["cutoff"] == 33), "forecast"].tolist() == [y[33]] * 4


def test_fixed_parameter_backtest_is_ses_with_the_first_origin_alpha_by_hand():
    # a short positive, non-seasonal series: SES works on its log (log='auto'), estimating alpha and the
    # initial level at the first origin only; later origins run l_t = l_{t-1} + alpha (x_t - l_{t-1}) onward
    y = np.array([20.0, 24, 19, 23, 27, 22, 26, 30, 25, 28, 33, 29, 31, 35, 30, 34])
    cutoffs, h = [9, 11, 13], 2
    forecasts, notes = fixed_parameter_forecasts(y, ["SES"], cutoffs, h)
    assert notes == {"SES": []}
    first = SES().fit(y[:10])
    assert first.log_scale_ and first.chosen_config == "ANN"
    alpha, level = first.result_.params["smoothing_level"], first.result_.initial_level
    x = np.log(y)
    for t in range(cutoffs[-1] + 1):
        level += alpha * (x[t] - level)
        if t in cutoffs:
            assert forecasts["SES"][cutoffs.index(t)] == pytest.approx([math.exp(level)] * h, rel=1e-12)
    # the first origin is the ordinary forecast; a refit at a later origin would estimate another alpha
    assert forecasts["SES"][0] == pytest.approx(first.predict(h)["mean"].to_numpy())
    refit = SES().fit(y[:14])
    assert refit.result_.params["smoothing_level"] != pytest.approx(alpha)


@pytest.mark.parametrize("alias", [a for a in MODEL_ALIASES])
def test_forecast_from_the_fitted_history_is_the_forecast(alias):
    # the fixed-parameter update reproduces each model's own forecast when given no extra data
    for y in (seasonal_series(60), seasonal_series(30, seed=3), INTERMITTENT):
        model = make_model(alias).fit(y)
        mean, note = model.forecast_from(y, 7)
        assert note == ""
        assert mean == pytest.approx(model.predict(7)["mean"].to_numpy(), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("config", sorted(ETS_CONFIGS))
def test_ets_fit_record_matches_statsmodels_results(config):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = seasonal_series(48)
    for x in (y, y[:20]) if ETS_CONFIGS[config][3] is None else (y,):
        error, trend, damped, seasonal = ETS_CONFIGS[config]
        full = ETSModel(
            x,
            error=error,
            trend=trend,
            damped_trend=damped,
            seasonal=seasonal,
            seasonal_periods=12 if seasonal else None,
            initialization_method="heuristic" if x.size >= 24 else "estimated",
        ).fit(disp=False)
        fit = _fit_ets(x, config, 12)
        # the same optimiser path as ETSModel.fit: the very same estimate, not just a close one
        assert np.array_equal(_ets_mle(full.model), full.model.fit(disp=False, return_params=True))
        assert fit.aicc == pytest.approx(full.aicc, rel=1e-12)
        assert fit.resid == pytest.approx(np.asarray(full.resid), rel=1e-9, abs=1e-9)
        assert _ets_run(fit, x, 7, 12)[1] == pytest.approx(np.asarray(full.forecast(7)), rel=1e-9)


@pytest.mark.parametrize("config", sorted(ETS_CONFIGS))
def test_ets_update_runs_the_statsmodels_recursion_through_new_data(config):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = seasonal_series(72)
    result = _fit_ets(y[:48], config, 12)
    error, trend, damped, seasonal = ETS_CONFIGS[config]
    # statsmodels itself, smoothing the longer series from the same parameters and initial states
    known = ETSModel(
        y[:60],
        error=error,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=12 if seasonal else None,
        initialization_method="known",
        initial_level=result.initial_level,
        initial_trend=result.initial_trend if trend else None,
        initial_seasonal=result.initial_seasonal if seasonal else None,
    ).smooth(list(result.params.values()))
    fitted, mean = _ets_run(result, y[:60], 5, 12)
    assert mean == pytest.approx(np.asarray(known.forecast(5)), rel=1e-9)
    assert fitted == pytest.approx(np.asarray(known.fittedvalues), rel=1e-9)


def test_theta_matches_statsmodels_theta_model():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    for seed in range(4):
        y = seasonal_series(60, seed=seed)
        model = Theta().fit(y)
        x = model._working(y)
        expected = ThetaModel(x, period=12, deseasonalize=False).fit()
        assert model.alpha_ == pytest.approx(float(expected.params["alpha"]), abs=1e-4)
        working = model._forecast_working(9, ())[0]
        assert working == pytest.approx(np.asarray(expected.forecast(9)), rel=1e-6)


def test_an_impossible_update_refits_and_says_so():
    y = seasonal_series(40)
    model = Theta().fit(y)  # positive: log scale
    assert model.log_scale_
    longer = np.r_[y, 0.0, 210.0]  # a zero cannot go through the log
    mean, note = model.forecast_from(longer, 4)
    assert "Theta: fixed-parameter update failed" in note and "refitted" in note
    assert mean == pytest.approx(Theta().fit(longer).predict(4)["mean"].to_numpy())


def test_combination_members_that_cannot_fit_are_not_replaced_by_their_fallback():
    y = seasonal_series(18)  # too short for HoltWinters (two seasons)
    member = fit_member("HoltWinters", y)
    assert member.fallback_note == "HoltWinters not fitted (too short: 18 < 24 observations)"
    assert member._delegate is None
    combo = Combo().fit(y)
    assert "members left out: HoltWinters not fitted" in combo.fallback_note
    assert [m.alias for m in combo.fitted_members_] == ["Theta", "ETS", "ThetaQ", "ARIMA", "SeasonalNaive"]
    # asked on its own, the unfitted member fits its fallback then
    assert np.isfinite(member.predict(3)["mean"]).all() and member.used_alias == "ETS"


def test_trimmed_mean_drops_the_extremes_with_five_or_more_members():
    from analytics.forecasting.models.combo import combine

    # per step: [1, 2, 3, 4, 100] -> drop 1 and 100 -> (2 + 3 + 4) / 3 = 3; [5, 5, 6, 7, 0] -> (5 + 5 + 6) / 3
    values = np.array([[1.0, 5], [2, 5], [3, 6], [4, 7], [100, 0]])
    assert combine(values, "trimmed").tolist() == pytest.approx([3.0, 16 / 3])
    # with four members the trimmed mean is the plain mean: (1 + 2 + 3 + 4) / 4
    assert combine(values[:4, :1], "trimmed").tolist() == pytest.approx([2.5])
    assert combine(values, "median").tolist() == pytest.approx([3.0, 5.0])


def test_trend_strength_by_hand():
    from analytics.forecasting.models.prepared import trend_strength

    # y = 0 2 1 3 2 4 3 5, m = 4 (not seasonal by the ACF test; a zero, so no log). 2x4 moving average,
    # weights (.5 1 1 1 .5) / 4, defined at positions 2..5: (0 + 2 + 1 + 3 + 1) / 4 = 1.75, then 2.25, 2.75,
    # 3.25. Window 1 3 2 4 (mean 2.5, variance 5 / 4 = 1.25); remainder -.75 .75 -.75 .75 (variance .5625).
    # Strength 1 - .5625 / 1.25 = 0.55.
    assert trend_strength(np.array([0, 2, 1, 3, 2, 4, 3, 5.0]), 4) == pytest.approx(0.55)
    assert trend_strength(np.full(30, 7.0)) == 0.0  # constant: no variance to explain
    assert trend_strength(np.arange(10.0)) == 0.0  # shorter than a season + 2


def test_combo_on_a_trending_history_is_the_mean_of_the_trend_members():
    from analytics.forecasting.models.combo import TREND_MEMBERS, TREND_THRESHOLD

    y = seasonal_series(72)  # 200 + t + a 12-month wave + noise(5): trend strength 0.94
    combo = Combo().fit(y)
    assert combo.trend_strength_ == pytest.approx(0.9386, abs=1e-4) and combo.trend_strength_ >= TREND_THRESHOLD
    assert sorted(m.alias for m in combo.active_members_) == sorted(TREND_MEMBERS)
    means = np.stack([m.predict(6)["mean"].to_numpy() for m in combo.active_members_])
    assert combo.predict(6)["mean"].to_numpy() == pytest.approx(means.mean(axis=0))
    his = np.stack([m.predict(6)["hi-80"].to_numpy() for m in combo.active_members_])
    # 80% bound: the members' mean bound, its distance from the mean narrowed to 0.93 (INTERVAL_SCALE)
    mean = means.mean(axis=0)
    assert combo.predict(6)["hi-80"].to_numpy() == pytest.approx(mean + 0.93 * (his.mean(axis=0) - mean))
    his95 = np.stack([m.predict(6)["hi-95"].to_numpy() for m in combo.active_members_])
    assert combo.predict(6)["hi-95"].to_numpy() == pytest.approx(his95.mean(axis=0))
    assert combo.recipe_ == "trend strength 0.94 >= 0.90: mean of Theta, ETS, HoltWinters, ARIMA"
    # the backtest's fixed-parameter update uses the same members
    longer = seasonal_series(78)
    upd, _ = combo.forecast_from(longer, 3)
    expected = np.mean([m.forecast_from(longer, 3)[0] for m in combo.active_members_], axis=0)
    assert upd == pytest.approx(expected)
    # without the rule it is the trimmed mean of all six
    plain = Combo(trend_threshold=None).fit(y)
    six = np.stack([m.predict(6)["mean"].to_numpy() for m in plain.fitted_members_])
    assert plain.predict(6)["mean"].to_numpy() == pytest.approx(np.sort(six, axis=0)[1:-1].mean(axis=0))


def test_default_combo_is_the_trimmed_mean_of_its_six_members():
    rng = np.random.default_rng(3)
    t = np.arange(72)
    y = 200 + 50 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 8, 72)  # no trend: strength well below 0.9
    combo = Combo().fit(y)
    assert combo.trend_strength_ < 0.9 and combo.recipe_.startswith("trimmed mean of Theta, ETS")
    assert [m.alias for m in combo.fitted_members_] == [
        "Theta",
        "ETS",
        "ThetaQ",
        "HoltWinters",
        "ARIMA",
        "SeasonalNaive",
    ]
    means = np.stack([m.predict(6)["mean"].to_numpy() for m in combo.fitted_members_])
    expected = np.sort(means, axis=0)[1:-1].mean(axis=0)
    assert combo.predict(6)["mean"].to_numpy() == pytest.approx(expected)
