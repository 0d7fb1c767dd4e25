"""Demand workbench: history, the statistical forecast and its fan, models and backtests, overrides."""

import pandas as pd
import streamlit as st

from analytics import kpis
from analytics.forecasting.batch import FAMILY_PREFIX, TOTAL_ID
from ui import auth, common
from ui.overrides import override_form, override_history
from ui.tables import show_table

filters = common.page_setup("Demand workbench")
if filters is not None:
    v, con = common.version(), common.con()
    as_of = common.as_of_default(v)
    last_month = kpis.last_complete_month(as_of)
    wb = "analytics.workbench:"  # every read is cached per data version (an override or a run is a new version)
    run = common.cached_read(v, wb + "latest_run")
    opts = common.cached_read(v, wb + "series_options")
    c1, c2, c3 = st.columns([1, 2, 2])
    level = c1.radio("Level", ["sku", "family", "total"], horizontal=True, key="wb_level",
                     format_func={"sku": "SKU", "family": "Family", "total": "Total"}.get)
    key = None
    if level == "sku":
        skus = [s for s in opts["sku"] if not filters.skus or s in filters.skus]
        key = c2.selectbox("SKU", skus, format_func=opts["sku_label"].get, key="wb_sku")
    elif level == "family":
        fams = [f for f in opts["family"] if not filters.families or f in filters.families]
        key = c2.selectbox("Family", fams, key="wb_family")
    with c3:
        if run is None:
            st.info("No statistical forecast has been run on this data yet.")
        else:
            st.caption(f"Statistical run #{run['run_id']} · snapshot {run['snapshot_date']:%Y-%m-%d} · "
                       f"{run['n_series']:,} series in {run['seconds']:.0f} s · {run['n_failed']} failed")
        common.run_forecast_button("wb_run")
    if run is None:
        if auth.can("forecast"):  # forecast history for accuracy and value added, as on the import and FVA pages
            common.offer_backfill("wb_backfill", always=True)
        st.stop()

    run_id = int(run["run_id"])
    hist = common.cached_read(v, wb + "history", level, key, last_month)
    fan = common.cached_read(v, wb + "forecast_fan", level, key, run_id)
    snaps = common.cached_read(v, wb + "past_snapshots", level, key, "statistical", run["snapshot_date"])
    cons = common.cached_read(v, wb + "current_snapshot", level, key, "consensus")
    direct = common.cached_read(v, wb + "base_forecast", level, key, run_id)  # the series' own, before reconciling
    uid = key if level == "sku" else (FAMILY_PREFIX + key if level == "family" else TOTAL_ID)
    board = common.cached_read(v, wb + "leaderboard", uid, run_id) if uid else pd.DataFrame()
    chosen = board[board["chosen"]].iloc[0] if len(board) and board["chosen"].any() else None

    tab_fc, tab_models, tab_override, tab_history = st.tabs(
        ["Forecast", "Models & backtests", "Override", "Override history"])
    with tab_fc:
        if chosen is not None:
            st.markdown(f"**Demand class:** {chosen['demand_class']} · **chosen model:** {chosen['model']} · "
                        f"{common.escape(chosen['reason'])}")
        title = {"sku": f"SKU {key}", "family": f"Family {key} (reconciled: the sum of its SKUs)",
                 "total": "All SKUs (reconciled)"}[level]
        label = {"sku": "before reconciliation", "family": "direct family forecast", "total": "direct total forecast"}
        st.plotly_chart(common.cached_chart((v, level, key, run_id, last_month), "forecast_fan_figure",
                                            (title, hist.tail(36), fan, snaps, cons, direct), {"direct_label": label[level]}),
                        width="stretch")
        st.caption("SKU, family and total forecasts are reconciled so that they add up (MinT); the dotted line is "
                   "this series' own forecast before reconciliation, for comparison.")
        table = fan.merge(cons.rename(columns={"quantity": "consensus"})[["period", "consensus"]], how="left", on="period")
        show_table(table, {"mean": "Statistical forecast (units)", "consensus": "Consensus (units)"})
        common.downloads(f"forecast_{level}_{key or 'total'}", table, key="wb_fc")
    with tab_models:
        if uid is None:
            st.info("Models are chosen per SKU and per family: pick one to see its leaderboard.")
        elif board.empty:
            st.info("This series was not forecast in the latest run (no order history).")
        else:
            show_table(board, {"reason": "Why"})
            common.downloads(f"leaderboard_{uid}", board, key="wb_board")
            model = st.selectbox("Backtest of", board["model"].tolist(), key="wb_bt_model")
            bt = common.cached_read(v, wb + "backtests", uid, run_id, model)
            if len(bt):
                st.plotly_chart(common.cached_chart((v, level, key, run_id, last_month, model), "backtest_figure",
                                                    (bt, hist.tail(36), model)), width="stretch")
        st.subheader("Models chosen in this run")
        show_table(common.cached_read(v, wb + "model_mix", run_id))
    with tab_override:
        if level == "total":
            st.info("Override a SKU or a family (a family change is spread over its SKUs).")
        else:
            override_form(con, common.db_path(), level, key, as_of, v)  # dated by the data's as-of date
    with tab_history:
        override_history(v, level, key)
