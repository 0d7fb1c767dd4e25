"""DataFrame -> plotly Figure, pure functions. Colour-blind-safe (Okabe-Ito) and readable on a big screen."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import kpis

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, GREY, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#666666", "#56B4E9"
LIGHT_COLOURS = {"green": GREEN, "amber": ORANGE, "red": VERMILLION, "none": GREY}
# Traffic lights carry a shape and a word as well as a colour, so they never rely on colour alone.
LIGHT_SYMBOLS = {"green": "● on target", "amber": "▲ watch", "red": "■ off target", "none": "○ no data"}


def _scale(spec: kpis.KpiSpec, values):
    return [None if v is None or pd.isna(v) else (v * 100 if spec.unit == kpis.RATE else v) for v in values]


def _layout(fig: go.Figure, title: str, yaxis: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 20}}, height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50},
        font={"size": 15}, yaxis_title=yaxis, legend={"orientation": "h", "y": -0.2}, hovermode="x unified",
        template="plotly_white",
    )
    return fig


def kpi_trend_figure(spec: kpis.KpiSpec, trend: pd.DataFrame, target: float | None, tolerance: float | None) -> go.Figure:
    """trend: columns month, value (one row per month)."""
    t = trend.dropna(subset=["month"]).sort_values("month")
    y_unit = kpis.unit_label(spec.unit)
    fig = go.Figure()
    if target is not None:
        tv = target * 100 if spec.unit == kpis.RATE else target
        fig.add_hline(y=tv, line={"color": GREEN, "dash": "dash", "width": 2},
                      annotation_text=f"target {kpis.format_value(spec, target)}", annotation_position="top left")
    fig.add_trace(go.Scatter(
        x=pd.to_datetime(t["month"]), y=_scale(spec, t["value"].tolist()), mode="lines+markers", name=spec.label,
        line={"color": BLUE, "width": 3}, marker={"size": 9},
    ))
    fig.update_xaxes(dtick="M1", tickformat="%b\n%Y")
    return _layout(fig, f"{spec.label}: last {len(t)} months", y_unit)


def breakdown_figure(
    spec: kpis.KpiSpec, df: pd.DataFrame, dim: str, target: float | None, tolerance: float | None, top: int = 15
) -> go.Figure:
    """df: one row per member of ``dim`` with value (and miss); the worst first."""
    d = df.dropna(subset=["value"]).head(top).iloc[::-1]
    colours = [LIGHT_COLOURS[kpis.traffic_light(spec, v, target, tolerance or 0)] if target is not None else BLUE
               for v in d["value"]]
    fig = go.Figure(go.Bar(
        x=_scale(spec, d["value"].tolist()), y=d[dim].astype(str), orientation="h", marker_color=colours,
        text=[kpis.format_value(spec, v) for v in d["value"]], textposition="auto",
    ))
    if target is not None:
        fig.add_vline(x=target * 100 if spec.unit == kpis.RATE else target, line={"color": GREEN, "dash": "dash"})
    return _layout(fig, f"{spec.label} by {kpis.DIM_LABELS[dim].lower()}", "", height=max(320, 34 * len(d) + 120))


def promise_gap_figure(dist: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=dist["gap_days"], y=dist["lines"], marker_color=SKY))
    fig = _layout(fig, "Promise gap: promised minus requested date", "order lines")
    fig.update_xaxes(title="days")
    return fig
