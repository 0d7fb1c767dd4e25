"""Automatic ARIMA: CSS estimates worked by hand, the stepwise search on simulated processes, fixed-parameter updates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.forecasting.models import ARIMA, make_model
from analytics.forecasting.models.arima import fit_arima_css, ndiffs

Z80 = 1.2815515655446004


def ar1(phi: float, n: int = 200, mean: float = 10.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 100)
    y = np.zeros(n + 100)
    for t in range(1, n + 100):
        y[t] = phi * y[t - 1] + e[t]
    return y[100:] + mean


def test_random_walk_with_drift_by_hand():
    # x = 1, 3, 4, 7, 9: differences 2, 1, 3, 2, drift = their mean 2 (the least-squares constant);
    # residuals 0, -1, 1, 0 -> sum of squares 2 over 4 residuals - 1 parameter: sigma^2 = 2 / 3.
    # Forecast 9 + 2h; ARIMA(0,1,0) psi weights are all 1, so the h-step sd is sqrt(2 / 3 * h).
    fit = fit_arima_css(np.array([1.0, 3, 4, 7, 9]), (0, 1, 0), True)
    assert fit is not None
    assert fit.mu == pytest.approx(2.0)
    assert fit.sigma2 == pytest.approx(2 / 3)
    assert fit.forecast(np.array([1.0, 3, 4, 7, 9]), 3) == pytest.approx([11.0, 13.0, 15.0])
    assert fit.sigma_h(3) == pytest.approx(np.sqrt(2 / 3 * np.arange(1, 4)))


def test_ar1_forecast_by_hand():
    # AR(1) with mean: w_t - mu = phi (w_{t-1} - mu) + e_t, so the forecast decays to mu geometrically:
    # x_{n+h} = mu + phi^h (x_n - mu); psi_j = phi^j: sd_h = sigma sqrt(sum_{j<h} phi^{2j}).
    y = ar1(0.7)
    fit = fit_arima_css(y, (1, 0, 0), True)
    phi, mu = fit.ar[0], fit.mu
    assert phi == pytest.approx(0.7, abs=0.1)
    assert mu == pytest.approx(10.0, abs=0.5)
    assert fit.forecast(y, 3) == pytest.approx(mu + phi ** np.arange(1, 4) * (y[-1] - mu))
    assert fit.sigma_h(2)[1] == pytest.approx(math.sqrt(fit.sigma2 * (1 + phi**2)))


def test_stepwise_search_finds_an_ar1():
    model = ARIMA(log=False).fit(ar1(0.7))
    assert model.fallback_note == ""
    assert model.chosen_order == "ARIMA(1,0,0) with mean"
    assert model.result_.ar[0] == pytest.approx(0.7, abs=0.1)
    # a few orders tried, not the whole grid
    assert model.orders_tried_ < 16


def test_stepwise_search_finds_a_negative_ar1():
    model = ARIMA(log=False).fit(ar1(-0.5))
    assert model.chosen_order == "ARIMA(1,0,0) with mean"
    assert model.result_.ar[0] == pytest.approx(-0.5, abs=0.1)


def test_ndiffs_differences_a_random_walk_but_not_noise():
    rng = np.random.default_rng(3)
    assert ndiffs(rng.normal(size=150)) == 0
    assert ndiffs(np.cumsum(rng.normal(size=150)) + 0.3 * np.arange(150)) >= 1


def test_fixed_parameter_update_keeps_the_coefficients():
    y = ar1(0.6, n=160, seed=5)
    model = ARIMA(log=False).fit(y[:120])
    longer, _ = model.forecast_from(y, 6)
    assert longer == pytest.approx(model.result_.forecast(y, 6))


def test_interval_is_nested_and_widens():
    pred = make_model("ARIMA").fit(np.cumsum(np.random.default_rng(2).normal(1, 1, 80)) + 100).predict(12)
    assert (pred["lo-95"] <= pred["lo-80"]).all() and (pred["hi-80"] <= pred["hi-95"]).all()
    width = (pred["hi-80"] - pred["lo-80"]).to_numpy()
    assert width[-1] > width[0]
