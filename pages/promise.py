"""Can we promise it? Available-to-promise and capable-to-promise for an order line, a request to production
built from the answer, and the planners' queue of requests."""

from datetime import timedelta

import streamlit as st

from analytics import charts, planning
from analytics.planning import requests as rq
from analytics.planning.promise import ctp_table
from ui import auth, common, supply
from ui.tables import show_table

filters = common.page_setup("Can we promise it?")
if filters is not None:
    v, con = common.version(), common.con()
    as_of = common.as_of_default(v)
    skus = common.dimension_values(v)["skus"]
    with st.form("pr_form"):
        c1, c2, c3, c4 = st.columns(4)
        sku = c1.selectbox("SKU", skus, key="pr_sku")
        qty = c2.number_input("Quantity", min_value=1.0, value=100.0, step=10.0, key="pr_qty")
        when = c3.date_input("Requested date", value=as_of + timedelta(days=30), min_value=as_of, key="pr_date")
        price = c4.number_input("Quoted unit price (0 = list price)", min_value=0.0, value=0.0, key="pr_price")
        consume = st.checkbox("This order is part of the forecast (it consumes the forecast: only orders on the "
                              "books are committed)", key="pr_consume")
        asked = st.form_submit_button("Check", type="primary")
    if asked:
        plan = supply.plan(v, as_of, 18, planning.PolicySettings(), "optimised", planning.PlanSettings())
        try:
            st.session_state["pr_answer"] = planning.available_to_promise(con, plan, sku, qty, when, price=price or None,
                                                                            consume_forecast=consume)
            st.session_state["pr_answer"]["margin_unavailable"] = plan.unavailable.get("costs")
        except planning.PlanningError as e:
            st.error(common.escape(e))
    answer = st.session_state.get("pr_answer")
    if answer:
        (st.success if answer["available"] else st.warning)(common.escape(answer["message"]))
        m = st.columns(4)
        m[0].metric("Available on the requested date", f"{answer['qty_on_requested_date']:,.0f}")
        m[1].metric("Earliest date for all of it", str(answer["earliest_full_date"] or "beyond the horizon"))
        no_cost = answer.get("margin_unavailable")  # no unit costs: no margin to show
        m[2].metric("Margin before expediting", "n/a" if no_cost else f"{answer['margin_before_expediting']:,.0f}",
                    help=no_cost)
        m[3].metric("Margin after expediting", "n/a" if no_cost else f"{answer['margin_after_expediting']:,.0f}",
                    help=no_cost)
        if answer["profitable_only_if_production_absorbs_expediting"]:
            st.error("This order looks profitable only because production absorbs the expediting cost.")
        st.info(common.escape(answer["atp_explanation"]))
        st.plotly_chart(charts.atp_figure(answer["atp_by_month"], answer["requested_month"], answer["sku"]),
                        width="stretch")
        show_table(answer["atp_by_month"])
        if answer["ctp_options"] and answer.get("capacity_note"):  # uncapacitated SKU: say the date is unchecked
            st.warning(common.escape(f"Capacity not checked: {answer['capacity_note']}."))
        show_table(ctp_table(answer["ctp_options"]), {"units": "Units", "cost": "Cost"})
        with st.form("pr_request"):
            st.markdown("**Send a request to production**: what the customer asked for and what they could live with")
            c1, c2, c3 = st.columns(3)
            customer = c1.selectbox("Customer", [None, *common.dimension_values(v)["customers"]], key="pr_customer")
            partial = c2.number_input("Could take now (units, 0 = no partial)", 0.0, float(answer["qty"]), 0.0, key="pr_partial")
            rest_by = c3.date_input("…and the rest by", value=None, key="pr_rest")
            latest = c1.date_input("Or all of it as late as", value=None, key="pr_latest")
            who = c2.text_input("Your name", value=auth.display_name(), max_chars=80, key="pr_who")
            note = c3.text_input("Anything else", max_chars=500, key="pr_note")
            if st.form_submit_button("Send to production", disabled=not auth.can("request")):
                try:
                    rid = rq.create_request(common.db_path(), answer["sku"], answer["qty"], answer["requested_date"],
                                            who, customer, partial_qty_now=partial or None, rest_by_date=rest_by,
                                            latest_acceptable_date=latest, flexibility=note or None,
                                            quoted_price=answer["price"], atp_summary=answer, user=auth.user())
                    st.success(f"Request #{rid} sent to production.")
                except ValueError as e:
                    st.error(common.escape(e))

    st.header("Requests to production")
    stats = rq.request_stats(common.con())
    s = st.columns(5)
    for col, (label, key) in zip(s, [("Requests", "requests"), ("Open", "open"), ("Accepted", "accepted"),
                                     ("Proposed", "proposed"), ("Declined", "declined")]):
        col.metric(label, stats[key])
    if stats["median_hours_to_answer"] is not None:
        st.caption(f"Median time to answer: {stats['median_hours_to_answer']:.1f} h "
                   f"(mean {stats['mean_hours_to_answer']:.1f} h)")
    requests = rq.list_requests(common.con())
    show_table(requests, {"quantity": "Units asked", "status": "Status"},
               empty="No request to production yet: check an order above, then send it to production.")
    open_ids = requests.loc[requests["status"] == "open", "request_id"].tolist()
    if open_ids:
        with st.form("pr_answer"):
            st.markdown("**Answer a request** (planners)")
            c1, c2, c3, c4 = st.columns(4)
            rid = c1.selectbox("Request", open_ids)
            decision = c2.radio("Decision", ["accept", "propose", "decline"], horizontal=True)
            proposed_date = c3.date_input("Proposed date", value=None)
            proposed_qty = c4.number_input("Proposed quantity (0 = as asked)", min_value=0.0, value=0.0)
            note = st.text_input("Note (required to propose or decline)", max_chars=500)
            planner = st.text_input("Planner", value=auth.display_name(), max_chars=80)
            if st.form_submit_button("Send answer", disabled=not auth.can("request")):
                try:
                    rq.answer_request(common.db_path(), int(rid), decision, note, planner,
                                      proposed_date=proposed_date, proposed_qty=proposed_qty or None, user=auth.user())
                    st.success(f"Request #{rid} answered: {decision}.")
                except ValueError as e:
                    st.error(common.escape(e))
