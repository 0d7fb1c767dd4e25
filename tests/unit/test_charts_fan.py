"""The workbench's forecast fan chart (analytics.charts.forecast_fan_figure)."""

from __future__ import annotations

import pandas as pd

from analytics import charts


def test_fan_axis_never_shows_negative_units():
    # an inactive item: no demand and a zero forecast with a zero-width interval
    months = pd.period_range("2017-01", periods=6, freq="M").to_timestamp()
    history = pd.DataFrame({"month": months, "actual": [0.0] * 6})
    fan = pd.DataFrame({"period": pd.period_range("2017-07", periods=3, freq="M").to_timestamp(),
                        "mean": [0.0] * 3, "lo80": [0.0] * 3, "hi80": [0.0] * 3, "lo95": [0.0] * 3, "hi95": [0.0] * 3})
    fig = charts.forecast_fan_figure("SKU X", history, fan)
    assert fig.layout.yaxis.rangemode == "nonnegative"
    assert [t.name for t in fig.data if t.showlegend is not False][-1] == "actual orders"
