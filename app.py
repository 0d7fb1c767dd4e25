"""Entry point: page config and navigation. Each page draws the shared sidebar itself (ui.common.page_setup)."""

import streamlit as st

st.set_page_config(page_title="S&OP dashboard", page_icon=":material/insights:", layout="wide")
st.session_state["_entry_point_ran"] = True  # see ui.common.entry_guard

from ui import auth  # noqa: E402  (after set_page_config)

user = auth.gate()  # local mode, or signed in; refuses to serve on a network without an access file

pages = {
    "Managers": [
        st.Page("pages/scorecard.py", title="KPI scorecard", icon=":material/speed:", default=True),
        st.Page("pages/summit.py", title="S&OP summit", icon=":material/co_present:"),
        st.Page("pages/targets.py", title="Targets & definitions", icon=":material/flag:"),
    ],
    "Planners": [
        st.Page("pages/demand_workbench.py", title="Demand workbench", icon=":material/query_stats:"),
        st.Page("pages/forecast_value_added.py", title="Forecast value added", icon=":material/stairs:"),
    ],
    "Supply": [
        st.Page("pages/supply_review.py", title="Supply review", icon=":material/factory:"),
        st.Page("pages/scenarios.py", title="Scenarios", icon=":material/alt_route:"),
        st.Page("pages/promise.py", title="Can we promise it?", icon=":material/handshake:"),
    ],
    "Data": [
        st.Page("pages/import_data.py", title="Import data", icon=":material/upload_file:"),
        st.Page("pages/data_audit.py", title="Data audit", icon=":material/fact_check:"),
    ],
}
if user.role == "admin":
    pages["Data"].append(st.Page("pages/admin.py", title="Audit log & backups", icon=":material/admin_panel_settings:"))
current = st.navigation(pages)
wanted = st.session_state.pop("_wanted_page", None)  # a deep link that arrived before navigation existed
for page in (p for group in pages.values() for p in group):
    if wanted and page.url_path == wanted and page.url_path != current.url_path:
        st.switch_page(page)
current.run()
