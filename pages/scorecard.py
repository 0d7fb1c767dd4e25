"""KPI scorecard: every KPI for a month (or a date range) against target, with trend, drill-down and its definition."""

import pandas as pd
import streamlit as st

from analytics import charts, kpis, presentation
from analytics.scorecard import definition_markdown, scorecard_table
from ui import common
from ui.tables import show_table
from ui.tiles import kpi_tile

filters = common.page_setup("KPI scorecard")
if filters is not None:
    v = common.version()
    as_of = common.as_of_default(v)
    months = [m for m in common.data_months(v) if kpis.month_range(m)[0] <= as_of][::-1]
    default_month = kpis.last_complete_month(as_of)
    c0, c1, c2, c3, c4 = st.columns([1, 2, 1, 1, 1])
    kind = c0.radio("Period", ["Month", "Date range"], key="sc_period", horizontal=True)
    if kind == "Month":
        month = c1.selectbox(
            "Month", months, index=months.index(default_month) if default_month in months else 0,
            format_func=lambda m: m.strftime("%B %Y") + (" (incomplete)" if kpis.month_range(m)[1] > as_of else ""),
            key="sc_month",
        )
        start, end = kpis.month_range(month)
        label, before = f"{month:%B %Y}", "last month"
    else:
        picked = c1.date_input("From - to", value=(kpis.add_months(default_month, -2), kpis.month_range(default_month)[1]),
                               max_value=as_of, key="sc_range")
        start, end = (picked[0], picked[-1]) if picked else kpis.month_range(default_month)
        label, before = f"{start} to {end}", "the period before"
    lag = c2.selectbox("Forecast lag (months)", [1, 2, 3], key="sc_lag")
    source = c3.selectbox("Forecast source", common.forecast_sources(v), key="sc_source")
    level = c4.selectbox("Forecast accuracy at", list(kpis.FORECAST_LEVELS), format_func=kpis.FORECAST_LEVELS.get,
                         key="sc_level", help="SKU level: every SKU's error counts. Family level: a family's SKUs "
                         "are summed per month first (their errors may cancel).")
    card = common.cached_scorecard(v, start, end, as_of, filters, lag, source, level)
    st.caption(f"{label} · {common.escape(filters.describe())} · as of {as_of} · change vs {before} and the same period last year")

    tiles = [r for r in card.to_dict("records") if kpis.SPECS[r["kpi"]].tile]
    for i in range(0, len(tiles), 4):
        for col, row in zip(st.columns(4), tiles[i:i + 4]):
            with col:
                kpi_tile(row, before)

    st.divider()
    labels = {k: s.label for k, s in kpis.SPECS.items()}
    kpi_id = st.selectbox("Look closer at", list(labels), format_func=labels.get, key="sc_kpi")
    row = card.set_index("kpi").loc[kpi_id]
    spec = kpis.SPECS[kpi_id].relabel(row["label"], row["definition"])  # as this data supports it
    # Only the open tab is computed and drawn (switching tabs reruns the page): the first view of the scorecard
    # builds one chart instead of two charts and three tables, most of what the browser and the server spend on it.
    trend_tab, drill_tab, how_tab, table_tab = st.tabs(
        ["Trend", "Drill-down", "How is this computed", "All KPIs"], key="sc_tab", on_change="rerun")

    with trend_tab:
        if trend_tab.open:
            trend = pd.DataFrame(row["trend"], columns=["month", "value"])
            if trend["value"].notna().any():
                st.plotly_chart(charts.kpi_trend_figure(spec, trend, row["target"], row["tolerance"]), width="stretch")
            else:  # words, not an empty chart
                st.info(f"No trend to draw for {spec.label}: {row['reason'] or 'no value in the last 13 months'}.")
            if kpi_id == "promise_gap_mean_days":
                q = kpis.Query(start, end, as_of, filters, lag, source)
                st.plotly_chart(charts.promise_gap_figure(common.cached_promise_gap(v, q)), width="stretch")

    with drill_tab:
        if drill_tab.open:
            dims = [d for d in ("family", "region", "segment", "customer_id", "sku", "work_center") if d in spec.dims]
            if kpi_id == "capacity_utilisation":
                dims = ["work_center"]
            if kpi_id in kpis.FORECAST_KPIS and level == "family":
                dims = ["family"]
            dim = st.radio("Break down by", dims, format_func=kpis.DIM_LABELS.get, horizontal=True, key="sc_dim")
            q = kpis.Query(start, end, as_of, filters, lag, source, level)
            bd = common.cached_breakdown(v, kpi_id, q, dim)
            if bd["value"].notna().any():
                st.plotly_chart(charts.breakdown_figure(spec, bd, dim, row["target"], row["tolerance"]), width="stretch")
                st.caption("Sorted by who drives the miss: 'Miss' is what the member lacks to be perfect; "
                           "'Share of the miss' its part of the total shortfall.")
            else:
                st.info(bd["reason"].dropna().iloc[0] if bd["reason"].notna().any() else "No data for this selection.")
            table = bd.drop(columns=["kpi", "unit"])
            show_table(table, presentation.kpi_columns(spec) | {dim: kpis.DIM_LABELS.get(dim, dim)})
            common.downloads(f"{kpi_id}_by_{dim}_{start}_{end}", table, key="sc_bd")
            if kpi_id in ("forecast_accuracy", "forecast_bias"):
                st.subheader("Persistent bias: tracking signal over the last 6 months")
                ts = common.cached_tracking_signals(v, q)
                show_table(ts[ts["flag"]] if ts["flag"].any() else ts.head(20))
                st.caption("Tracking signal = sum(A − F) / MAD; flagged when |TS| > 4. Negative = over-forecast.")

    with how_tab:
        if how_tab.open:
            st.markdown(definition_markdown(spec))
            st.markdown(
                f"**This selection ({label}):** value {kpis.format_value(spec, row['value'])}"
                f" · numerator {presentation.format_value(row['numerator'], 'decimal', 0)}"
                f" · denominator {presentation.format_value(row['denominator'], 'decimal', 0)}"
                if row["value"] == row["value"] and row["value"] is not None
                else f"**This selection:** {row['reason']}"
            )

    with table_tab:
        if table_tab.open:
            flat = card.drop(columns=["trend", "definition", "note"]).assign(
                shown=[kpis.format_value(kpis.SPECS[k], x) for k, x in zip(card["kpi"], card["value"])]
            )
            show_table(scorecard_table(card), {"label": "KPI", "light": "Status", "value": "Value"})
            common.downloads(f"scorecard_{start}_{end}", flat, key="sc_all")
