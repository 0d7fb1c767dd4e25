"""DataFrame -> plotly Figure, pure functions. Colour-blind-safe (Okabe-Ito) and readable on a big screen."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analytics import kpis

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, GREY, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#666666", "#56B4E9"
LIGHT_COLOURS = {"green": GREEN, "amber": ORANGE, "red": VERMILLION, "none": GREY, "unset": GREY}
# Traffic lights carry a shape and a word as well as a colour, so they never rely on colour alone.
LIGHT_SYMBOLS = {"green": "● on target", "amber": "▲ watch", "red": "■ off target", "none": "○ no data",
                 "unset": "○ no target"}

# Every figure starts from plotly_white, set once as the default template: a Figure attaches the default without
# validating it, while update_layout(template=...) validated and copied the whole template for every figure (12%
# of the server's CPU per page view under py-spy in benchmarks/load.py).
pio.templates.default = "plotly_white"


def plain(text) -> str:
    """Text from the data or typed by a person, shown literally in a plotly title, label or hover: plotly renders
    a subset of HTML there (<b>, <a href>, <br>, entities), so < > & are escaped (plotly turns them back)."""
    return html.escape(str(text), quote=False)


def _scale(spec: kpis.KpiSpec, values):
    return [None if v is None or pd.isna(v) else (v * 100 if spec.unit == kpis.RATE else v) for v in values]


def _layout(fig: go.Figure, title: str, yaxis: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": plain(title), "font": {"size": 20}}, height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50},
        font={"size": 15}, yaxis_title=yaxis, legend={"orientation": "h", "y": -0.2}, hovermode="x unified",
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
        x=_scale(spec, d["value"].tolist()), y=[plain(m) for m in d[dim]], orientation="h", marker_color=colours,
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


def forecast_fan_figure(
    title: str, history: pd.DataFrame, fan: pd.DataFrame, snapshots: pd.DataFrame | None = None,
    consensus: pd.DataFrame | None = None, direct: pd.DataFrame | None = None,
    direct_label: str = "direct family forecast",
) -> go.Figure:
    """Actuals, the statistical forecast with its 80/95% fan, past snapshots as faint lines, the consensus
    and the series' own forecast before reconciliation (for a family, its direct forecast), named
    ``direct_label``."""
    fig = go.Figure()
    if fan is not None and len(fan):
        x = pd.to_datetime(fan["period"])
        for lo, hi, name, alpha in (("lo95", "hi95", "95% interval", 0.15), ("lo80", "hi80", "80% interval", 0.3)):
            fig.add_trace(go.Scatter(x=x, y=fan[hi], mode="lines", line={"width": 0}, showlegend=False,
                                     hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=x, y=fan[lo], mode="lines", fill="tonexty",
                                     fillcolor=f"rgba(0,114,178,{alpha})", line={"width": 0}, name=name))
        fig.add_trace(go.Scatter(x=x, y=fan["mean"], name="statistical forecast", mode="lines",
                                 line={"color": BLUE, "width": 3}))
    if snapshots is not None and len(snapshots):
        for i, (snap, g) in enumerate(snapshots.groupby("snapshot_date")):
            fig.add_trace(go.Scatter(x=pd.to_datetime(g["period"]), y=g["quantity"], name="past snapshots", mode="lines",
                                     legendgroup="past", showlegend=i == 0, opacity=0.35,
                                     line={"color": GREY, "width": 1}, hovertemplate=f"snapshot {snap}: %{{y:,.0f}}"))
    if consensus is not None and len(consensus):
        fig.add_trace(go.Scatter(x=pd.to_datetime(consensus["period"]), y=consensus["quantity"], name="consensus",
                                 mode="lines",
                                 line={"color": ORANGE, "width": 3, "dash": "dash"}))
    if direct is not None and len(direct):
        fig.add_trace(go.Scatter(x=pd.to_datetime(direct["period"]), y=direct["mean"], name=direct_label,
                                 mode="lines",
                                 line={"color": GREEN, "width": 2, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=pd.to_datetime(history["month"]), y=history["actual"], name="actual orders",
                             line={"color": "#000000", "width": 2}, mode="lines+markers", marker={"size": 5}))
    fig = _layout(fig, title, "units", height=460)
    fig.update_yaxes(rangemode="nonnegative")  # demand is never negative: an all-zero series gets 0..1, not -1..1
    return fig


def backtest_figure(bt: pd.DataFrame, history: pd.DataFrame, model: str) -> go.Figure:
    """Backtest forecasts of one model from each origin against the actuals."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=pd.to_datetime(history["month"]), y=history["actual"], name="actual orders",
                             line={"color": "#000000", "width": 2}))
    palette = [BLUE, ORANGE, GREEN, VERMILLION, SKY, GREY]
    for i, (cut, g) in enumerate(bt.groupby("cutoff_period")):
        fig.add_trace(go.Scatter(x=pd.to_datetime(g["period"]), y=g["forecast"], name=f"from {cut:%b %Y}",
                                 line={"color": palette[i % len(palette)], "width": 2, "dash": "dash"}))
    return _layout(fig, f"Backtest of {model}: forecasts made at earlier origins", "units", height=380)


def fva_figure(df: pd.DataFrame, title: str) -> go.Figure:
    """The FVA stairstep: accuracy per step (naive -> statistical -> sales -> consensus), one group per lag."""
    fig = go.Figure()
    colours = {"naive": GREY, "statistical": BLUE, "sales": ORANGE, "consensus": GREEN}
    for step, g in df.groupby("step", sort=False):
        fig.add_trace(go.Bar(x=[f"lag {lag}" for lag in g["lag"]], y=g["accuracy"] * 100, name=step,
                             marker_color=colours.get(step, SKY),
                             text=[f"{a * 100:.1f}%" for a in g["accuracy"]], textposition="outside"))
    fig.update_layout(barmode="group")
    return _layout(fig, title, "forecast accuracy %", height=400)


def accuracy_by_lag_figure(df: pd.DataFrame) -> go.Figure:
    """Accuracy trend by month, one line per lag."""
    fig = go.Figure()
    palette = [BLUE, ORANGE, GREEN, VERMILLION, SKY, GREY]
    for i, (lag, g) in enumerate(df.groupby("lag")):
        fig.add_trace(go.Scatter(x=pd.to_datetime(g["month"]), y=g["accuracy"] * 100, name=f"lag {lag}",
                                 mode="lines+markers", line={"color": palette[i % len(palette)], "width": 2}))
    return _layout(fig, "Forecast accuracy by lag", "accuracy %", height=380)


def supply_plan_figure(df: pd.DataFrame, title: str) -> go.Figure:
    """Demand against supply (planned production + open work orders) as bars, projected inventory as a line,
    and the safety-stock level as a shaded band from 0 to the target. df: one row per month (summed)."""
    x = pd.to_datetime(df["period"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=df["safety_stock"], fill="tozeroy", fillcolor="rgba(0,158,115,0.15)",
                             line={"color": GREEN, "width": 1, "dash": "dot"}, name="safety stock (band below)"))
    fig.add_trace(go.Bar(x=x, y=df["demand"], name="demand", marker_color=GREY, opacity=0.7))
    fig.add_trace(go.Bar(x=x, y=df["production"] + df["open_receipts"], name="supply (planned + open WOs)",
                         marker_color=BLUE))
    fig.add_trace(go.Scatter(x=x, y=df["projected_inventory"], name="projected inventory", mode="lines+markers",
                             line={"color": ORANGE, "width": 3}))
    fig.update_layout(barmode="group")
    return _layout(fig, title, "units", height=440)


def capacity_heatmap(load: pd.DataFrame) -> go.Figure:
    """Utilisation per work center and month; overloaded cells carry a ▲ and the percentage (colour is not
    the only cue). Blue = spare, white = 100%, vermillion = overloaded."""
    pivot = load.pivot_table(index="work_center", columns="period", values="utilisation", aggfunc="first")
    z = pivot.to_numpy() * 100
    text = [[("▲ " if v > 100 else "") + (f"{v:.0f}%" if v == v else "n/a") for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[pd.Timestamp(c).strftime("%b %y") for c in pivot.columns], y=[plain(w) for w in pivot.index], text=text,
        texttemplate="%{text}", textfont={"size": 14}, zmin=0, zmax=200, zmid=100,
        colorscale=[[0, BLUE], [0.5, "#FFFFFF"], [1, VERMILLION]], colorbar={"title": "load %"},
        hovertemplate="%{y} %{x}: %{z:.0f}%<extra></extra>",
    ))
    return _layout(fig, "Rough-cut capacity: load / available hours", "", height=120 + 60 * len(pivot))


def atp_figure(atp_by_month: pd.DataFrame, requested_month, sku: str) -> go.Figure:
    """Available to promise, explained: supply and committed demand per month (bars), the cumulative net (line)
    and ATP (the lowest cumulative net from the month on, never below 0; thick line). Where ATP is 0 beside a
    positive net, a later month's net reaches 0. The requested month is marked. atp_by_month: columns period,
    supply, committed, cumulative_net, atp (``planning.available_to_promise``)."""
    t = atp_by_month.sort_values("period")
    x = pd.to_datetime(t["period"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=t["supply"], name="supply (stock + production + open work orders)",
                         marker_color=BLUE, opacity=0.6))
    fig.add_trace(go.Bar(x=x, y=t["committed"], name="committed (demand)", marker_color=GREY, opacity=0.6))
    fig.add_trace(go.Scatter(x=x, y=t["cumulative_net"], name="cumulative net (supply - committed so far)",
                             mode="lines+markers", line={"color": ORANGE, "width": 2, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=x, y=t["atp"], name="available to promise", mode="lines+markers",
                             line={"color": GREEN, "width": 4, "shape": "hv"}))
    fig.add_vline(x=pd.Timestamp(requested_month), line={"color": VERMILLION, "width": 2, "dash": "dash"})
    fig.update_layout(barmode="group")
    return _layout(fig, f"Available to promise: {sku}", "units")
