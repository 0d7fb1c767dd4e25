"""Temporal aggregation for intermittent demand (ADIDA, IMAPA) and the damped-trend ETS, on hand-worked series."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.forecasting.models import ADIDA, IMAPA, DampedETS, make_model
from analytics.forecasting.models.intermittent import aggregation_level

Y = np.array([0, 3, 0, 0, 2, 0, 0, 4], dtype=float)


def test_aggregation_level_is_the_rounded_mean_interval():
    # demands at months 2, 5, 8 (1-based): intervals 2, 3, 3 -> mean 2.67 -> 3
    assert aggregation_level(Y) == 3
    assert aggregation_level(np.array([1.0, 2, 3])) == 1
    # intervals 2, 2, 3, 3 -> 2.5 rounds half to even: 2 (Python's round, as statsforecast)
    assert aggregation_level(np.array([0, 1, 0, 1, 0, 0, 1, 0, 0, 1.0])) == 2


def test_adida_by_hand():
    # k = 3; the oldest 8 mod 3 = 2 months are left out; bucket sums [0+0+2, 0+0+4] = [2, 4];
    # SES with alpha 0.2 from l = 2: 2 + 0.2 (4 - 2) = 2.4; per month 2.4 / 3 = 0.8
    model = ADIDA(alpha=0.2).fit(Y)
    assert model.k_ == 3
    assert model.predict(4)["mean"].tolist() == pytest.approx([0.8] * 4)


def test_imapa_by_hand():
    # k = 1: SES on Y from l = 0: 0.6, 0.48, 0.384, 0.7072, 0.56576, 0.452608, 1.1620864
    # k = 2: sums [3, 0, 2, 4]: l = 3, 2.4, 2.32, 2.656 -> 1.328 a month; k = 3: 0.8 (ADIDA above)
    # IMAPA = (1.1620864 + 1.328 + 0.8) / 3
    model = IMAPA(alpha=0.2).fit(Y)
    assert model.predict(2)["mean"].tolist() == pytest.approx([(1.1620864 + 1.328 + 0.8) / 3] * 2)


def test_estimated_alpha_stays_in_its_range():
    rng = np.random.default_rng(0)
    y = rng.poisson(0.4, 60).astype(float) * rng.integers(1, 9, 60)
    model = IMAPA().fit(y)
    assert all(0.1 - 1e-9 <= a <= 0.3 + 1e-9 for a in model.alphas_)
    assert model.predict(3)["mean"].iloc[0] > 0


def test_fixed_parameter_update_keeps_bucket_size_and_alpha():
    # after 3 more months (0, 0, 6) the bucket sums are [2, 4, 6]: 2.4 + 0.2 (6 - 2.4) = 3.12 -> 1.04 a month
    model = ADIDA(alpha=0.2).fit(Y)
    mean, note = model.forecast_from(np.r_[Y, 0, 0, 6], 2)
    assert note == ""
    assert mean.tolist() == pytest.approx([1.04, 1.04])


@pytest.mark.parametrize("alias", ["ADIDA", "IMAPA"])
def test_no_demand_falls_back_to_zero(alias):
    model = make_model(alias).fit(np.zeros(12))
    assert "no positive demand" in model.fallback_note
    assert (model.predict(3)["mean"] == 0).all()


def test_intervals_contain_the_mean():
    pred = IMAPA().fit(np.tile(Y, 4)).predict(3)
    assert (pred["lo-95"] <= pred["mean"]).all() and (pred["mean"] <= pred["hi-95"]).all()


def test_damped_ets_keeps_a_damped_trend():
    # a steady trend: the damped variant always fits AAdN, and its forecast keeps rising, more slowly each month
    y = 100 + 2.0 * np.arange(40) + np.random.default_rng(1).normal(0, 1, 40)
    model = DampedETS().fit(y)
    assert model.chosen_config == "AAdN"
    mean = model.predict(12)["mean"].to_numpy()
    steps = np.diff(mean)
    assert (steps > 0).all()
    assert steps[-1] < steps[0]


def test_interval_floor_at_zero_when_zeros_are_common():
    # 2 of every 3 months have no demand (zero share 67% >= 10%): the 80% interval is [0, mean + the errors'
    # 80% quantile], not the equal-tailed [mean + q10, mean + q90], which would also hold every zero month
    y = np.tile([0.0, 0.0, 6.0], 8)
    model = IMAPA(alpha=0.2).fit(y)
    pred = model.predict(2)
    errors = model.errors_[np.isfinite(model.errors_)]
    assert pred["lo-80"].tolist() == [0.0, 0.0]
    assert pred["hi-80"].iloc[0] == pytest.approx(pred["mean"].iloc[0] + np.quantile(errors, 0.80))
    assert pred["hi-95"].iloc[0] == pytest.approx(pred["mean"].iloc[0] + np.quantile(errors, 0.95))
