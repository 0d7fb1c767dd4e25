"""Entry point: page config and navigation. Each page draws the shared sidebar itself (ui.common.page_setup)."""

import streamlit as st

st.set_page_config(page_icon=":material/insights:", layout="wide")
st.session_state["_entry_point_ran"] = True  # see ui.common.entry_guard

from ui import auth  # noqa: E402  (after set_page_config)

APP_TITLE = "S&OP dashboard"
user = auth.known_user()  # None until someone signs in; nothing is drawn yet

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
if user is None or user.role == "admin":  # before sign-in the admin page is known too, so /admin can be asked for
    pages["Data"].append(st.Page("pages/admin.py", title="Audit log & backups", icon=":material/admin_panel_settings:"))
# The navigation runs before the sign-in gate: the page a deep link asks for is the page shown after sign-in,
# and a session not signed in (or a server that refuses to serve) lists no pages.
current = st.navigation(pages, position="sidebar" if user else "hidden")
st.set_page_config(page_title=f"{current.title} · {APP_TITLE}" if user else f"Sign in · {APP_TITLE}")
if user is None:
    user = auth.gate()  # the sign-in form or the refusal; stops the script until someone is signed in
wanted = st.session_state.pop("_wanted_page", None)  # a deep link that arrived before navigation existed
for page in (p for group in pages.values() for p in group):
    if wanted and page.url_path == wanted and page.url_path != current.url_path:
        st.switch_page(page)
current.run()
