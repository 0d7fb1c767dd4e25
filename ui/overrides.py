"""The override form: change future months of a SKU or family forecast (units or %), with a mandatory reason."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import demand
from ui import auth, common
from ui.common import escape
from ui.tables import show_table


def override_form(con, db_path, level: str, key: str, as_of: date, data_version: tuple) -> None:
    """``con`` and ``data_version``: the page run's reader and its data version (reads are cached on it).
    ``as_of``: the data's as-of date; the override is dated by it (the data day), never by the wall clock."""
    start_from = st.radio("Start from", ["newest", "consensus", "statistical"], horizontal=True, key="wb_ovr_base",
                          help="newest: the latest of the consensus and the statistical run (a new monthly run "
                               "restarts the consensus); consensus: carry last month's consensus forward.")
    base_source = None if start_from == "newest" else start_from
    base = common.cached_read(data_version, "analytics.demand:base_forecast", key, level, as_of,
                              start_from=base_source)
    if base.empty:
        st.info(f"There is no consensus or statistical forecast from {as_of:%b %Y} on (data as of {as_of}) to start "
                "from: run the statistical forecast first.")
        return
    by_period = base.groupby("period", as_index=False)["quantity"].sum()
    by_period["period"] = pd.to_datetime(by_period["period"]).dt.date
    st.caption(f"Starting from the {escape(base['source'].iloc[0])} snapshot of {pd.Timestamp(base['snapshot_date'].iloc[0]):%Y-%m-%d}. "
               "A family change is spread over its SKUs in proportion to their forecast.")
    if not base["quantity"].any():
        st.caption(f"{escape(key)} has no forecast in that snapshot (e.g. no orders in a complete month yet): "
                   "every month starts at 0; enter new units.")
    wide = pd.DataFrame([by_period["quantity"].tolist()], columns=[f"{d:%b %Y}" for d in by_period["period"]])
    show_table(wide, dict.fromkeys(wide.columns, "units"))  # one row: the current forecast of each month, units
    with st.form("wb_override_form"):
        c1, c2, c3 = st.columns([3, 1, 1])
        months = c1.multiselect("Months to change", by_period["period"].tolist(), format_func=lambda d: f"{d:%b %Y}",
                                key="wb_ovr_months")
        unit = c2.radio("As", ["percent", "units"], key="wb_ovr_unit",
                        format_func=lambda u: "% change" if u == "percent" else "new units / month")
        value = c3.number_input("Value", value=10.0, step=1.0, key="wb_ovr_value")
        reason = st.text_input("Reason (required)", key="wb_ovr_reason", max_chars=300,
                               placeholder="e.g. promotion with customer X in March")
        user = st.text_input("Your name", value=auth.display_name(), key="wb_ovr_user", max_chars=80)
        submitted = st.form_submit_button("Save as new consensus", type="primary", disabled=not auth.can("override"))
    if not auth.can("override"):
        auth.explain_refusal("override")
    if not submitted:
        return
    if not months:
        st.warning("Choose at least one month.")
        return
    edits = {m: float(value) for m in months}
    try:
        preview = demand.plan_override(con, level, key, edits, unit, as_of, start_from=base_source)
        changed = demand.save_override(db_path, level, key, edits, unit, reason, user or "planner",
                                       snapshot_date=as_of, start_from=base_source, user=auth.user())
    except ValueError as e:
        st.error(escape(e))
        return
    st.success(f"Saved: {changed} forecast cells changed in a new consensus snapshot.")
    for note in preview.attrs.get("notes", []):
        st.info(escape(note))
    show_table(preview, order=["sku", "period", "base_qty", "new_qty", "spread"])
    st.cache_data.clear()


def override_history(data_version: tuple, level: str, key: str | None) -> None:
    """One row per override a person made, with its total change; its SKUs and months one choice away."""
    sku, family = (key if level == "sku" else None), (key if level == "family" else None)
    events = common.cached_read(data_version, "analytics.demand:override_events", sku=sku, family=family)
    if events.empty:
        st.info("No override yet for this selection.")
        return
    show_table(events, {"event": "#", "created_at": "Saved (UTC)", "snapshot_date": "Data day"})
    labels = {int(e): f"#{e} {t} {c} ({pd.Timestamp(d):%Y-%m-%d})" for e, t, c, d in
              zip(events["event"], events["target"], events["change_text"], events["snapshot_date"])}
    event = st.selectbox("SKUs and months of", list(labels), format_func=labels.get, key="wb_hist_event")
    cells = common.cached_read(data_version, "analytics.demand:override_event_cells", event)
    show_table(cells, order=["sku", "family", "period", "base_qty", "new_qty", "change"])
    history = common.cached_read(data_version, "analytics.demand:override_history", sku=sku, family=family)
    common.downloads("override_history", history, key="wb_hist")  # every cell, machine names
