"""Summit frames -> plotly figures, pure functions (Okabe-Ito colours, large type for a shared screen).

Each builder takes the frozen frame of a :class:`~analytics.summit.store.Summit` (or a live frame of the same
shape) and returns a Figure, or None when there is nothing to draw. Colour is never the only cue: lines
carry markers and dash styles, bars carry their values.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics import charts, kpis

PALETTE = [charts.BLUE, charts.ORANGE, charts.GREEN, charts.VERMILLION, charts.SKY, charts.GREY, "#CC79A7",
           "#F0E442"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star"]


def _style(fig: go.Figure, title: str, yaxis: str = "", height: int = 460) -> go.Figure:
    fig.update_layout(
        title={"text": charts.plain(title), "font": {"size": 24}}, height=height, margin={"l": 70, "r": 30, "t": 80, "b": 60},
        font={"size": 17}, yaxis_title=yaxis, legend={"orientation": "h", "y": -0.18},
    )
    return fig


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return -(-n // cols), cols


def scorecard_trend_figure(trend: pd.DataFrame, scorecard: pd.DataFrame, kpi: str) -> go.Figure | None:
    """One KPI's 13-month trend with its target (``charts.kpi_trend_figure``)."""
    t = trend[trend["kpi"] == kpi]
    row = scorecard[scorecard["kpi"] == kpi]
    if t.empty or row.empty:
        return None
    r = row.iloc[0]
    return charts.kpi_trend_figure(kpis.SPECS[kpi], t[["month", "value"]], r["target"], r["tolerance"])


def miss_breakdown_figure(breakdowns: pd.DataFrame, scorecard: pd.DataFrame, kpi: str) -> go.Figure | None:
    """The members of the dimension that drives a miss, worst first (``charts.breakdown_figure``)."""
    part = breakdowns[breakdowns["kpi"] == kpi]
    row = scorecard[scorecard["kpi"] == kpi]
    if part.empty or row.empty:
        return None
    dim = part["dimension"].iloc[0]
    r = row.iloc[0]
    return charts.breakdown_figure(kpis.SPECS[kpi], part.rename(columns={"member": dim}), dim, r["target"],
                                   r["tolerance"], top=10)


def demand_actuals_figure(actuals: pd.DataFrame) -> go.Figure | None:
    """Actual orders (bars) against the lag-1 consensus (dashed line), one panel per family."""
    if actuals.empty:
        return None
    fams = sorted(actuals["family"].dropna().unique())
    rows, cols = _grid(len(fams))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[charts.plain(f) for f in fams], vertical_spacing=0.12)
    for i, fam in enumerate(fams):
        g = actuals[actuals["family"] == fam].sort_values("month")
        x = pd.to_datetime(g["month"])
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Bar(x=x, y=g["actual"], name="actual orders", marker_color=charts.GREY,
                             legendgroup="a", showlegend=i == 0), row=r, col=c)
        fig.add_trace(go.Scatter(x=x, y=g["forecast"], name="consensus (lag 1)", mode="lines+markers",
                                 line={"color": charts.ORANGE, "width": 3, "dash": "dash"}, marker={"size": 8},
                                 legendgroup="f", showlegend=i == 0), row=r, col=c)
    return _style(fig, "Actual orders against the consensus made a month earlier", height=300 * rows + 120)


def bias_figure(bias: pd.DataFrame) -> go.Figure | None:
    """Bias per family: over-forecast to the right, under-forecast to the left."""
    if bias.empty:
        return None
    d = bias.sort_values("bias")
    colours = [charts.VERMILLION if v > 0 else charts.BLUE for v in d["bias"]]
    fig = go.Figure(go.Bar(x=d["bias"] * 100, y=[charts.plain(f) for f in d["family"]], orientation="h", marker_color=colours,
                           text=[f"{v:+.1%}" for v in d["bias"]], textposition="auto"))
    fig.add_vline(x=0, line={"color": charts.GREY})
    fig = _style(fig, "Forecast bias by family (positive = over-forecast)", height=max(320, 60 * len(d) + 140))
    fig.update_xaxes(title="bias %")
    return fig


def consensus_change_figure(changes: pd.DataFrame) -> go.Figure | None:
    """This cycle's consensus against the previous cycle's, per family, summed over the next months."""
    if changes.empty:
        return None
    g = changes.groupby("family", as_index=False)[["previous_consensus", "consensus"]].sum(min_count=1)
    fig = go.Figure([
        go.Bar(x=[charts.plain(f) for f in g["family"]], y=g["previous_consensus"], name="previous consensus", marker_color=charts.GREY),
        go.Bar(x=[charts.plain(f) for f in g["family"]], y=g["consensus"], name="this consensus", marker_color=charts.BLUE,
               text=[f"{v:,.0f}" for v in g["consensus"]], textposition="outside"),
    ])
    fig.update_layout(barmode="group")
    return _style(fig, "Consensus for the next months: this cycle against the previous one", "units")


def fva_figure(fva: pd.DataFrame) -> go.Figure | None:
    return None if fva.empty else charts.fva_figure(fva, "Forecast value added: lag 1 and lag 3")


def capacity_figure(load: pd.DataFrame) -> go.Figure | None:
    return None if load.empty else charts.capacity_heatmap(load)


def inventory_figure(inv: pd.DataFrame) -> go.Figure | None:
    """Projected inventory (line) against safety stock (dotted), one panel per family."""
    if inv.empty:
        return None
    fams = sorted(inv["family"].dropna().unique())
    rows, cols = _grid(len(fams))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[charts.plain(f) for f in fams], vertical_spacing=0.12)
    for i, fam in enumerate(fams):
        g = inv[inv["family"] == fam].sort_values("period")
        x = pd.to_datetime(g["period"])
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Scatter(x=x, y=g["safety_stock"], name="safety stock", mode="lines",
                                 line={"color": charts.GREEN, "dash": "dot", "width": 2}, legendgroup="s",
                                 showlegend=i == 0), row=r, col=c)
        fig.add_trace(go.Scatter(x=x, y=g["projected_inventory"], name="projected inventory", mode="lines+markers",
                                 line={"color": charts.ORANGE, "width": 3}, marker={"size": 8}, legendgroup="p",
                                 showlegend=i == 0), row=r, col=c)
    return _style(fig, "Projected inventory against safety stock", height=300 * rows + 120)


def gap_figure(gap: pd.DataFrame) -> go.Figure | None:
    """Supply minus demand at unit price per family and month (below 0: demand not covered)."""
    if gap.empty:
        return None
    fig = go.Figure()
    for i, (fam, g) in enumerate(gap.groupby("family", sort=True)):
        fig.add_trace(go.Bar(x=pd.to_datetime(g["period"]), y=g["gap_value"], name=charts.plain(fam),
                             marker_color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(barmode="group")
    return _style(fig, "Supply minus demand, at unit price", "money")


def budget_figure(budget: pd.DataFrame) -> go.Figure | None:
    """Revenue (actual orders, then the consensus forecast) against the budget, all families."""
    if budget.empty:
        return None
    g = budget.groupby(["month", "basis"], as_index=False)[["revenue", "budget_revenue"]].sum(min_count=1)
    fig = go.Figure()
    for basis, colour in (("actual orders", charts.BLUE), ("consensus forecast", charts.SKY)):
        part = g[g["basis"] == basis]
        if len(part):
            fig.add_trace(go.Bar(x=pd.to_datetime(part["month"]), y=part["revenue"], name=basis, marker_color=colour))
    tot = g.groupby("month", as_index=False)["budget_revenue"].sum(min_count=1)
    fig.add_trace(go.Scatter(x=pd.to_datetime(tot["month"]), y=tot["budget_revenue"], name="budget",
                             mode="lines+markers", line={"color": "#000000", "width": 3, "dash": "dash"},
                             marker={"size": 9, "symbol": "diamond"}))
    return _style(fig, "Revenue against budget", "money")


def exceptions_figure(exc: pd.DataFrame, top: int = 10) -> go.Figure | None:
    """The largest money impacts, largest on top."""
    d = exc.dropna(subset=["money_impact"]).head(top).iloc[::-1]
    if d.empty:
        return None
    labels = [charts.plain(f"#{r} {s}") for r, s in zip(d["rank"], d["subject"])]
    fig = go.Figure(go.Bar(x=d["money_impact"], y=labels, orientation="h", marker_color=charts.VERMILLION,
                           text=[f"{v:,.0f}" for v in d["money_impact"]], textposition="auto",
                           hovertext=[charts.plain(k) for k in d["kind"]]))
    fig = _style(fig, f"Top {len(d)} exceptions by money impact", height=max(340, 46 * len(d) + 140))
    fig.update_xaxes(title="money impact")
    return fig


def promise_figure(gap: pd.DataFrame, kept: pd.DataFrame) -> go.Figure | None:
    """Mean promise gap (days) and the share of promises kept, per family and month."""
    if gap.empty and kept.empty:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Promised minus requested (mean days)",
                                                        "Promises kept (delivered in full by the promised date)"])
    fams = sorted(set(gap["family"].dropna()) | set(kept["family"].dropna()))
    for i, fam in enumerate(fams):
        style = {"color": PALETTE[i % len(PALETTE)], "dash": DASHES[i % len(DASHES)], "width": 2}
        marker = {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 8}
        g = gap[gap["family"] == fam]
        fig.add_trace(go.Scatter(x=pd.to_datetime(g["month"]), y=g["mean_gap_days"], name=charts.plain(fam), mode="lines+markers",
                                 line=style, marker=marker, legendgroup=str(fam)), row=1, col=1)
        k = kept[kept["family"] == fam]
        fig.add_trace(go.Scatter(x=pd.to_datetime(k["month"]), y=k["kept_rate"] * 100, name=charts.plain(fam),
                                 mode="lines+markers", line=style, marker=marker, legendgroup=str(fam),
                                 showlegend=False), row=1, col=2)
    fig.update_yaxes(title="days", row=1, col=1)
    fig.update_yaxes(title="% kept", row=1, col=2)
    return _style(fig, "Sales and production: promises made and kept", height=480)


def pulse_figure(pulse: pd.DataFrame) -> go.Figure | None:
    """The collaboration pulse (average 0-10 score) per side over summits."""
    if pulse.empty:
        return None
    fig = go.Figure()
    for i, (side, g) in enumerate(pulse.groupby("side", sort=True)):
        fig.add_trace(go.Scatter(x=[f"{pd.Timestamp(m):%Y-%m} #{s}" for m, s in zip(g["month"], g["summit_id"])],
                                 y=g["average_score"], name=charts.plain(side), mode="lines+markers",
                                 line={"color": PALETTE[i], "dash": DASHES[i], "width": 3},
                                 marker={"symbol": SYMBOLS[i], "size": 11}, offsetgroup=str(side)))
    # Side by side within each summit (not on top of each other): equal scores still show both markers.
    fig.update_layout(scattermode="group", scattergap=0.75)
    fig.update_yaxes(range=[0, 10.5])
    return _style(fig, "Collaboration pulse: how well sales and production work together", "score 0-10", height=400)
