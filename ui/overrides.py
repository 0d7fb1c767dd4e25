"""The override form: edit future months of a SKU or family forecast (units or %), with a mandatory reason."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import demand


def override_form(con, db_path, level: str, key: str, as_of: date) -> None:
    base = demand.base_forecast(con, key, level, as_of)
    if base.empty:
        st.info("There is no consensus or statistical forecast to start from: run the statistical forecast first.")
        return
    by_period = base.groupby("period", as_index=False)["quantity"].sum()
    src = f"{base['source'].iloc[0]} snapshot of {base['snapshot_date'].iloc[0]}"
    st.caption(f"Starting from the {src}. A family change is spread over its SKUs in proportion to their forecast.")
    unit = st.radio("Enter", ["units", "percent"], horizontal=True, key="wb_ovr_unit",
                    format_func=lambda u: "new quantity (units)" if u == "units" else "change in %")
    editor = pd.DataFrame({"period": by_period["period"], "current": by_period["quantity"].round(1),
                           "new value": [None] * len(by_period)})
    with st.form("wb_override_form"):
        edited = st.data_editor(
            editor, hide_index=True, width="stretch", key=f"wb_ovr_editor_{level}_{key}_{unit}",
            disabled=["period", "current"],
            column_config={"new value": st.column_config.NumberColumn(
                help="units, or % change (e.g. 10 = +10%)" if unit == "percent" else "units",
                min_value=-100.0 if unit == "percent" else 0.0)},
        )
        reason = st.text_input("Reason (required)", key="wb_ovr_reason", max_chars=300,
                               placeholder="e.g. promotion with customer X in March")
        user = st.text_input("Your name", key="wb_ovr_user", max_chars=80)
        submitted = st.form_submit_button("Save as new consensus", type="primary")
    if submitted:
        edits = {pd.Timestamp(p).date(): float(v) for p, v in zip(edited["period"], edited["new value"]) if pd.notna(v)}
        if not edits:
            st.warning("Enter a new value for at least one month.")
            return
        try:
            preview = demand.plan_override(con, level, key, edits, unit, as_of)
            changed = demand.save_override(db_path, level, key, edits, unit, reason, user or "planner")
        except ValueError as e:
            st.error(str(e))
            return
        st.success(f"Saved: {changed} forecast cells changed in a new consensus snapshot.")
        st.dataframe(preview, hide_index=True, width="stretch")
        st.cache_data.clear()
