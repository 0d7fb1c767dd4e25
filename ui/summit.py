"""Summit mode on a shared screen: large type, presentation mode, one renderer per agenda step.

Readability from across a room: numbers at least 40 px (metric values 3rem on a 1920x1080 screen), table text
22 px, chart text 18 px; traffic lights are a shape, a word and an Okabe-Ito colour, never colour alone.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics import charts, kpis, planning, presentation, summit
from analytics.summit import content, figures
from analytics.summit import pack as packs
from ui import auth
from ui.common import con, db_path, escape

BIG_TYPE = """
<style>
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label { font-size: 1.35rem; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] h2 { font-size: 2.3rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3rem !important; line-height: 1.2; }
[data-testid="stMetricLabel"] p { font-size: 1.35rem; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.375rem; padding: 0.45rem 0.7rem; }
</style>
"""
PRESENTATION = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; max-width: 100%; }
</style>
"""
LIGHT = charts.LIGHT_SYMBOLS


@st.cache_data(ttl=3600, max_entries=8, show_spinner="Preparing the summit pack…")
def pack(data_version: tuple, summit_id: int) -> tuple[str, bytes]:
    """The HTML and Excel pack of a summit (recomputed when decisions change the data version)."""
    return summit.export_html(con(), summit_id), summit.export_excel(con(), summit_id)


def submit(form: str, fields: dict[str, object], write: Callable[[], None], done: str) -> dict:
    """``st.form_submit_button`` arguments that save a form without losing what was typed.

    The write runs as the button's callback (before the page reruns): on success the form's widgets go back to
    their empty values (``fields``: widget key -> empty value) and ``done`` is said; on a ValueError every field
    keeps what the user typed and the reason is shown. :func:`flash` shows the message under the form.
    """

    def run() -> None:
        try:
            write()
        except ValueError as e:
            st.session_state[f"_flash_{form}"] = ("error", str(e))
            return
        for key, empty in fields.items():
            st.session_state[key] = empty
        st.session_state[f"_flash_{form}"] = ("success", done)

    return {"on_click": run}


def flash(form: str) -> None:
    """The message of the form's last submit (see :func:`submit`), shown once."""
    kind, text = st.session_state.pop(f"_flash_{form}", (None, None))
    if kind == "error":
        st.error(escape(text))
    elif kind == "success":
        st.success(text)  # a fixed sentence of this module


def decision_form(s) -> None:
    """Record a decision or an action at the summit (fields kept on a validation error)."""
    ss = st.session_state

    def write() -> None:
        summit.add_decision(db_path(), s.summit_id, ss["sm_dec_text"], ss["sm_dec_owner"] or None,
                            ss["sm_dec_due"], kind=ss["sm_dec_kind"], by=auth.display_name(), user=auth.user())

    with st.form("sm_decision"):
        st.text_area("Decision or action", max_chars=1000, key="sm_dec_text")
        c1, c2, c3 = st.columns(3)
        c1.radio("Kind", ["decision", "action"], horizontal=True, key="sm_dec_kind")
        c2.text_input("Owner (actions)", max_chars=80, key="sm_dec_owner")
        c3.date_input("Due (actions)", value=None, min_value=s.as_of, key="sm_dec_due")  # data days, like the summit
        st.form_submit_button("Record", type="primary", disabled=not auth.can("decision"), **submit(
            "sm_decision", {"sm_dec_text": "", "sm_dec_kind": "decision", "sm_dec_owner": "", "sm_dec_due": None},
            write, "Recorded."))
    flash("sm_decision")


def chart(fig) -> None:
    if fig is None:
        st.info("Nothing to show for this step in the frozen data.")
        return
    fig.update_layout(font={"size": 18}, legend={"font": {"size": 18}})
    fig.update_xaxes(tickfont={"size": 16})
    fig.update_yaxes(tickfont={"size": 16})
    fig.update_annotations(font={"size": 20})
    st.plotly_chart(fig, width="stretch")


def table(df: pd.DataFrame, cols: list[str] | None = None, limit: int = 15, columns: dict | None = None,
          formatted: bool = False, empty: str = "Nothing to show.") -> None:
    """A table for the shared screen: human headers and formats (``analytics.presentation``, the same as the
    pack's), every cell text in the large type (22 px), numbers right-aligned. ``formatted``: ``df`` is already
    text for people (e.g. the scenario comparison). ``empty``: what an empty table says, in the step's words."""
    if df is None or df.empty:
        st.info(empty)
        return
    head = df.head(limit)
    if formatted:
        shown, numeric = head.astype(str), list(head.columns[1:])
    else:
        specs = presentation.resolve(head[[c for c in cols if c in head.columns]] if cols else head, columns)
        shown = presentation.text_frame(head, columns, order=cols, drop_empty=True)
        numeric = [s.header for s in specs.values() if s.kind in presentation.NUMERIC_KINDS]
    # st.table renders every cell and header as Markdown: text (decisions, names, reasons) is escaped.
    shown = shown.reset_index(drop=True).map(lambda v: escape(v) if isinstance(v, str) else v)
    right = [escape(c) for c in shown.columns if c in numeric]
    shown.columns = [escape(c) if isinstance(c, str) else c for c in shown.columns]
    # numbers right-aligned (Streamlit aligns text cells left with an inline style, hence !important)
    styled = shown.style.set_properties(subset=right, **{"text-align": "right !important"}) if right else shown
    st.table(styled, hide_index=True)


def exception_bases(ex: pd.DataFrame, limit: int = 12) -> None:
    """How each exception's money figure is computed, one click away (an expander per exception)."""
    for r in ex.head(limit).to_dict("records"):
        money = presentation.format_value(r["money_impact"], presentation.MONEY)
        with st.expander(f"#{r['rank']} {escape(r['subject'])}: {money}, how is this computed?"):
            st.markdown(f"**{escape(r['kind'])}** · {escape(r['detail'])}")
            st.markdown(f"Money impact **{money}** = {escape(r.get('impact_basis') or 'no basis recorded')}")


def scorecard_tiles(sc: pd.DataFrame) -> None:
    rows = [r for r in sc.to_dict("records") if r.get("tile", True)]
    for i in range(0, len(rows), 5):
        for col, r in zip(st.columns(5), rows[i:i + 5]):
            spec = kpis.SPECS[r["kpi"]]
            has_value = r["value"] is not None and not pd.isna(r["value"])
            with col.container(border=True):
                # the frozen row's label names a substitute (e.g. "order to ship"), as on the scorecard page
                st.metric(r.get("label") or spec.label, kpis.format_value(spec, r["value"]) if has_value else "n/a",
                          help=r.get("definition") or spec.definition)
                if has_value:
                    st.markdown(f"**{LIGHT.get(r['light'], '')}** · target {kpis.format_value(spec, r['target'])}")
                else:  # say why, as the page's tile does, instead of a bare "no data"
                    st.markdown(f"**{LIGHT.get(r['light'], '')}** · {escape(str(r.get('reason') or 'no data'))}")


def supply_story(s) -> None:
    """Which plan the supply step shows, and the overload story: the load of demand as it falls due (chase plan)
    against the plan shown, with the overloaded work centers named."""
    from ui.tables import show_table

    plan = s.versions.get("plan") or {}
    st.markdown(f"**{escape(content.plan_statement(plan))}**")
    for sentence in content.overload_story(s.unconstrained_load, plan.get("strategy")):
        (st.warning if "would overload" in sentence else st.info)(escape(sentence))
    load = s.unconstrained_load
    if "demand_overloaded" in load and load["demand_overloaded"].astype(bool).any():
        with st.expander("Load of demand as it falls due (chase plan), every plan month"):
            chart(figures.capacity_figure(load.rename(columns={"demand_utilisation": "utilisation"})))
            over = load[load["demand_overloaded"].astype(bool)]
            show_table(over, order=["work_center", "period", "demand_load_hours", "available_hours",
                                    "demand_utilisation", "plan_load_hours", "plan_utilisation", "top_contributors"])


def step(s, name: str) -> None:
    """Render one agenda step of a frozen summit."""
    if name == "actions":
        table(s.carried_actions, packs.ACTION_COLUMNS, columns=packs.ACTION_LABELS,
              empty="No open action carried over from an earlier summit.")
        if not s.carried_actions.empty:
            ss = st.session_state

            def update() -> None:
                summit.update_action(db_path(), int(ss["sm_act_id"]), ss["sm_act_status"], ss["sm_act_note"] or None,
                                     by=auth.display_name(), user=auth.user())

            with st.form("sm_action_status"):
                c1, c2, c3 = st.columns([1, 1, 2])
                c1.selectbox("Action", s.carried_actions["action_id"].tolist(), key="sm_act_id")
                c2.selectbox("New status", list(summit.STATUSES), key="sm_act_status")
                c3.text_input("Note", max_chars=500, key="sm_act_note")
                st.form_submit_button("Update", disabled=not auth.can("action"),
                                      **submit("sm_action_status", {"sm_act_note": ""}, update, "Updated."))
            flash("sm_action_status")
    elif name == "scorecard":
        scorecard_tiles(s.scorecard)
    elif name == "misses":
        for r in s.misses.to_dict("records"):
            st.subheader(f"{r['rank']}. {r['label']}: {kpis.format_value(kpis.SPECS[r['kpi']], r['value'])} "
                         f"(target {kpis.format_value(kpis.SPECS[r['kpi']], r['target'])})")
            st.markdown(f"Driven by **{escape(r['dimension'])} {escape(r['driver'])}**: "
                        f"{r['driver_share'] * 100:.0f}% of the shortfall.")
            chart(figures.miss_breakdown_figure(s.miss_breakdowns, s.scorecard, r["kpi"]))
    elif name == "demand":
        chart(figures.demand_actuals_figure(s.demand_actuals))
        c1, c2 = st.columns(2)
        with c1:
            chart(figures.bias_figure(s.bias_by_family))
        with c2:
            chart(figures.fva_figure(s.fva))
        for v in s.fva_verdicts.get("verdict", pd.Series(dtype=str)):
            (st.error if "WORSE" in v else st.success)(escape(v))
        chart(figures.consensus_change_figure(s.consensus_changes))
        changed = s.consensus_changes[s.consensus_changes["reasons"].fillna("") != ""]
        table(changed, packs.CONSENSUS_COLUMNS, columns=packs.CONSENSUS_LABELS,
              empty="No consensus change with a reason since the previous cycle.")
    elif name == "supply":
        supply_story(s)
        chart(figures.capacity_figure(s.capacity_load))
        chart(figures.inventory_figure(s.inventory_vs_safety_stock))
        table(packs.inventory_below_safety_stock(s), packs.INVENTORY_COLUMNS,
              columns={"days_of_supply": planning.COVER},
              empty="No family is projected below its safety stock in the months reviewed.")
        table(s.shortages, packs.SHORTAGE_COLUMNS,
              empty="No SKU is projected out of stock or below its safety stock in the months reviewed.")
    elif name == "gaps":
        chart(figures.gap_figure(s.demand_supply_gap))
        chart(figures.budget_figure(s.revenue_vs_budget))
    elif name == "scenarios":
        for basis in s.scenarios.get("basis", pd.Series(dtype=object)).dropna():
            if basis != content.CURRENT_BASIS:
                st.warning(escape(basis))
        if s.scenarios is None or s.scenarios.empty:
            st.info("No scenario was saved when this summit was frozen: build and save one on the Scenarios page, "
                    "then start a new summit.")
        else:
            table(s.scenarios, packs.SCENARIO_COLUMNS, columns={"name": "Scenario"})
            table(packs.comparison_frame(s), limit=30, formatted=True)
    elif name == "exceptions":
        chart(figures.exceptions_figure(s.exceptions))
        table(s.exceptions, packs.EXCEPTION_COLUMNS, limit=12)
        exception_bases(s.exceptions)
        if not s.exceptions.empty:
            labels = dict(zip(s.exceptions["exception_key"], "#" + s.exceptions["rank"].astype(str) + " "
                              + s.exceptions["subject"].astype(str)))
            ss = st.session_state

            def create() -> None:
                key = ss["sm_exc_key"]
                summit.add_decision(db_path(), s.summit_id, ss["sm_exc_text"] or f"Resolve: {labels[key]}",
                                    ss["sm_exc_owner"] or None, ss["sm_exc_due"], kind="action", source_exception=key,
                                    by=auth.display_name(), user=auth.user())

            with st.form("sm_exception_action"):
                st.markdown("**Turn an exception into an action**")
                c1, c2, c3 = st.columns([2, 1, 1])
                c1.selectbox("Exception", list(labels), format_func=labels.get, key="sm_exc_key")
                c2.text_input("Owner", max_chars=80, key="sm_exc_owner")
                c3.date_input("Due", value=None, min_value=s.as_of, key="sm_exc_due")
                st.text_input("Action", max_chars=1000, key="sm_exc_text")
                st.form_submit_button("Create action", disabled=not auth.can("decision"), **submit(
                    "sm_exception_action", {"sm_exc_owner": "", "sm_exc_due": None, "sm_exc_text": ""}, create,
                    "Action created."))
            flash("sm_exception_action")
    elif name == "team":
        chart(figures.promise_figure(s.promise_gap_trend, s.promise_kept_rate))
        if s.request_stats.empty:  # a summit frozen before request counts were part of the snapshot
            from analytics.planning import requests as rq

            stats = rq.request_stats(con())
            st.subheader("Requests from sales to production (live: this summit's snapshot has none)")
        else:
            stats = {k: (None if pd.isna(v) else (float(v) if "hours" in k else int(v)))
                     for k, v in s.request_stats.iloc[0].to_dict().items()}
            st.subheader("Requests from sales to production (all made before the summit started)")
        cols = st.columns(5)
        for col, (label, key) in zip(cols, [("Requests", "requests"), ("Open", "open"), ("Accepted", "accepted"),
                                            ("Proposed", "proposed"), ("Declined", "declined")]):
            col.metric(label, stats[key])
        if stats["median_hours_to_answer"] is not None:
            st.markdown(f"Median time to answer: **{stats['median_hours_to_answer']:.1f} h**")
