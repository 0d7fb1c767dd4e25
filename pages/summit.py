"""Summit mode: the monthly S&OP meeting on a shared screen, from a frozen snapshot of the data."""

import streamlit as st

from analytics import kpis, summit
from analytics.summit import figures
from analytics.summit import pack as packs
from ui import auth, common
from ui import summit as view

common.entry_guard()
st.html(view.BIG_TYPE)
present = st.session_state.get("sm_present", False)
if present:
    st.html(view.PRESENTATION)
st.title("S&OP summit")
if common.require_data():
    v, con = common.version(), common.con()
    past = common.cached_read(v, "analytics.summit:list_summits")  # cached per data version, like every read here
    c1, c2, c3 = st.columns([3, 1, 1])
    labels = {int(r["summit_id"]): f"{r['title']} ({r['month']:%B %Y}, as of {r['as_of']})" for r in past.to_dict("records")}
    if "_sm_new_id" in st.session_state:  # a summit just started: select it and close the popover (before they exist)
        st.session_state["sm_id"] = st.session_state.pop("_sm_new_id")
        st.session_state["sm_new_pop"] = False
    chosen = c1.selectbox("Summit", list(labels), format_func=labels.get, key="sm_id",  # newest first, chosen
                          placeholder="Start one below", index=0 if labels else None)
    c2.toggle("Presentation mode", key="sm_present", help="Hides the sidebar and toolbar for the shared screen.")
    with c3.popover("Start a new summit", key="sm_new_pop", on_change="rerun"):  # keyed: closed once started
        with st.form("sm_new"):
            as_of = common.as_of_default(v)
            month = st.date_input("Month reviewed", value=kpis.last_complete_month(as_of))
            title = st.text_input("Title", value=f"{kpis.last_complete_month(as_of):%B %Y} S&OP", max_chars=120)
            facilitator = st.text_input("Facilitator", value=auth.display_name(), max_chars=80)
            if not auth.can("summit"):
                auth.explain_refusal("summit")
            if st.form_submit_button("Freeze the data and start", type="primary", disabled=not auth.can("summit")):
                with st.spinner("Freezing the agenda's data…"):
                    sid = summit.start_summit(common.db_path(), month.replace(day=1), title, facilitator or None,
                                             user=auth.user())
                st.session_state["_sm_new_id"], st.session_state["sm_step"] = sid, 0
                st.rerun()
    if chosen is None:
        st.info("No summit yet: start one. It freezes the data so the meeting can be reopened as it was.")
        st.stop()
    s = common.cached_read(v, "analytics.summit:load_summit", int(chosen))  # frozen: only a new version reloads
    snap = {k: s.versions.get(k) or "none" for k in ("statistical_snapshot", "consensus_snapshot")}  # not 'None'
    st.caption(f"Frozen {s.created_at:%Y-%m-%d %H:%M} · data as of {s.as_of} · statistical forecast "
               f"{snap['statistical_snapshot']} · consensus {snap['consensus_snapshot']} · "
               f"plan: {common.escape(s.versions['plan'].get('name') or s.versions['plan'].get('kind'))}")
    steps = [(a.key, a.title) for a in summit.AGENDA] + [("decisions", "10. Decisions and actions")]
    i = min(st.session_state.get("sm_step", 0), len(steps) - 1)
    prev_col, title_col, next_col = st.columns([1, 6, 1])
    if prev_col.button("◀ Previous", disabled=i == 0, key="sm_prev", width="stretch"):
        st.session_state["sm_step"] = i = i - 1
    if next_col.button("Next ▶", disabled=i == len(steps) - 1, key="sm_next", width="stretch"):
        st.session_state["sm_step"] = i = i + 1
    title_col.header(steps[i][1])
    if steps[i][0] == "decisions":
        view.decision_form(s)
        view.table(summit.actions(common.con(), s.summit_id), packs.DECISION_COLUMNS, limit=50)
        with st.form("sm_pulse", clear_on_submit=True):
            st.markdown("**Collaboration pulse**: how well did sales and production work together this month?")
            c1, c2, c3 = st.columns(3)
            side = c1.radio("Side", ["sales", "production"], horizontal=True)
            score = c2.slider("Score", 0, 10, 7)
            note = c3.text_input("Note (optional)", max_chars=300)
            if st.form_submit_button("Add", disabled=not auth.can("pulse")):
                summit.record_pulse(common.db_path(), s.summit_id, side, score, note or None, by=auth.display_name(),
                                    user=auth.user())
                st.success("Thank you.")
        view.chart(figures.pulse_figure(summit.pulse_trend(common.con())))
    else:
        st.caption(next(a.purpose for a in summit.AGENDA if a.key == steps[i][0]))
        view.step(s, steps[i][0])
    st.divider()
    c1, c2, _ = st.columns([1, 1, 3])
    sid = s.summit_id  # the packs are built on click (then cached per data version), not on every step
    c1.download_button("⬇ Summit pack (HTML)", lambda: view.pack(v, sid)[0], summit.pack_filename(s, "html"),
                       "text/html", key="sm_html", on_click="ignore")
    c2.download_button("⬇ Summit pack (Excel)", lambda: view.pack(v, sid)[1], summit.pack_filename(s, "xlsx"),
                       common.XLSX_MIME, key="sm_xlsx", on_click="ignore")
