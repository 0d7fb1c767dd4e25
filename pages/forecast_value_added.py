"""Forecast value added: does each step (statistical model, sales input, consensus overrides) improve on the one
before it? Plus the accuracy trend by lag and the SKUs whose forecast is persistently high or low."""

import streamlit as st

from analytics import demand, kpis
from analytics.presentation import UNITS, Column
from ui import common
from ui.tables import show_table

FVA = {"numerator": Column("Σ|F − A|", UNITS), "denominator": Column("ΣA", UNITS),  # units, as in the caption
       "previous_numerator": Column("Previous step's Σ|F − A|", UNITS)}

filters = common.page_setup("Forecast value added")
if filters is not None:
    v = common.version()
    as_of = common.as_of_default(v)
    end_month = kpis.last_complete_month(as_of)
    months = st.slider("Months to score (ending with the last complete month)", 3, 24, 12, key="fva_months")
    start = kpis.add_months(end_month, -(months - 1))
    q = kpis.Query(start, kpis.month_range(end_month)[1], as_of, filters)
    st.caption(f"Scored {start:%b %Y} to {end_month:%b %Y} · {common.escape(filters.describe())} · accuracy = 1 − Σ|F−A| / ΣA, "
               "bias = Σ(F−A) / ΣA, on the same sku-months for every step")

    overall = common.cached_read(v, "analytics.demand:fva_stairstep", q, lags=(1, 3))
    if overall.empty:
        st.info("No forecast snapshots cover this period yet.")
        common.offer_backfill("fva_backfill", always=True)
        st.stop()
    common.verdicts(demand.fva_verdicts(overall))
    title = "Forecast value added: naive → statistical → sales → consensus"
    st.plotly_chart(common.cached_read_figure(v, "fva_figure", "analytics.demand:fva_stairstep", q, lags=(1, 3),
                                              chart_args=(title,)), width="stretch")
    show_table(overall, FVA)
    common.downloads("fva_overall", overall, key="fva_all")

    by_family, by_reason, by_lag, bias = st.tabs(["By family", "By planner reason", "Accuracy by lag", "Bias exceptions"])
    with by_family:
        fam = common.cached_read(v, "analytics.demand:fva_stairstep", q, lags=(1, 3), by="family")
        common.verdicts(demand.fva_verdicts(fam), show_better=False)
        show_table(fam, FVA)
        common.downloads("fva_by_family", fam, key="fva_fam")
    with by_reason:
        lag = st.radio("Lag", [1, 3], horizontal=True, key="fva_reason_lag")
        reasons = common.cached_read(v, "analytics.demand:fva_by_reason", q, lag=lag)
        if reasons.empty:
            st.info("No override touched the scored months at this lag.")
        else:
            common.verdicts(demand.fva_verdicts(reasons))
            show_table(reasons, FVA | {"reason": "Reason"})
            common.downloads("fva_by_reason", reasons, key="fva_reason")
    with by_lag:
        source = st.selectbox("Source", common.forecast_sources(v), key="fva_lag_source")
        lags = common.cached_read(v, "analytics.demand:accuracy_by_lag", q, lags=(1, 2, 3, 4, 5, 6), source=source)
        if lags.empty:
            st.info("No snapshots of this source cover the period.")
        else:
            st.plotly_chart(common.cached_read_figure(v, "accuracy_by_lag_figure", "analytics.demand:accuracy_by_lag", q,
                                                      lags=(1, 2, 3, 4, 5, 6), source=source), width="stretch")
            common.downloads("accuracy_by_lag", lags, key="fva_lags")
    with bias:
        exc = common.cached_read(v, "analytics.demand:bias_exceptions", q, months=6, threshold=4.0)
        flagged = exc[exc["flag"]] if "flag" in exc else exc
        st.write(f"{len(flagged)} SKUs with |tracking signal| > 4 over the last 6 months "
                 "(tracking signal = Σ(A − F) / MAD; negative = forecast persistently too high).")
        show_table(flagged)
        common.downloads("bias_exceptions", flagged, key="fva_bias")
