"""Server settings the load figures in the README depend on (benchmarks/load.py measured them)."""

import tomllib
from pathlib import Path

import pandas as pd
import plotly.io as pio

from analytics import charts, kpis

ROOT = Path(__file__).resolve().parents[2]


def test_no_full_garbage_collection_after_every_script_run():
    # Streamlit's default gc.collect(2) after each run took about half of the server's CPU per page view.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_figures_carry_the_white_template_without_validating_it_each_time():
    spec = kpis.SPECS["forecast_accuracy"]
    trend = pd.DataFrame({"month": pd.date_range("2026-01-01", periods=6, freq="MS"), "value": [0.8] * 6})
    fig = charts.kpi_trend_figure(spec, trend, 0.85, 0.05)
    assert pio.templates.default == "plotly_white"
    assert fig.layout.template == pio.templates["plotly_white"]
