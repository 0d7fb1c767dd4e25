"""Supply review: the production plan (chase, level or optimised), projected inventory against safety stock,
rough-cut capacity with fixes, the inventory policy, and saved plan versions."""

import streamlit as st

from analytics import planning
from analytics.planning.common import PLAN_DIMS
from ui import auth, common, supply
from ui.tables import show_prepared, show_table

filters = common.page_setup("Supply review")
if filters is not None:
    common.filters_not_applied(filters, PLAN_DIMS, "the supply plan is made per product and work center, not per "
                               "customer; the family, SKU and work-center filters apply.")
    v = common.version()
    as_of = common.as_of_default(v)
    c1, c2, c3 = st.columns([2, 1, 1])
    strategy = c1.radio("Strategy", ["chase", "level", "optimised"], index=2, horizontal=True, key="sr_strategy",
                        captions=["produce what each month needs", "a constant rate per family",
                                  "least cost within capacity (linear programme)"])
    horizon = c2.selectbox("Horizon (months)", [12, 15, 18], index=2, key="sr_horizon")
    with c3.popover("Costs and limits"):
        s = planning.PlanSettings()
        settings = planning.PlanSettings(
            holding_rate=st.number_input("Holding, % of unit cost per month", 0.0, 20.0, s.holding_rate * 100, 0.5,
                                         key="sr_hold") / 100,
            backorder_rate=st.number_input("Backorder, % of price per unit-month", 0.0, 200.0, s.backorder_rate * 100,
                                           5.0, key="sr_bo") / 100,
            overtime_share=st.number_input("Allowed overtime, % of available hours", 0.0, 100.0,
                                           s.overtime_share * 100, 5.0, key="sr_ot") / 100,
            overtime_cost_per_hour=st.number_input(
                "Overtime cost per hour (blank = 25% of the median standard cost of an hour's output)",
                min_value=0.0, value=None, step=5.0, key="sr_ot_cost") or None,
            allow_backorders=st.checkbox("Allow backorders", s.allow_backorders, key="sr_allow_bo"),
        )
    policy = planning.PolicySettings()
    try:
        plan = supply.plan(v, as_of, horizon, policy, strategy, settings)
    except planning.PlanningError as e:
        st.error(common.escape(e))
        st.stop()
    m = st.columns(5)
    no_cost = plan.unavailable.get("costs")  # no unit costs: a sentence, not a cost of 0

    def money(x: float) -> str:
        return "n/a" if no_cost else f"{x:,.0f}"

    m[0].metric("Total cost", money(plan.production_cost + plan.overtime_cost + plan.holding_cost
                                    + plan.backorder_cost), help=no_cost)
    m[1].metric("Overtime cost", money(plan.overtime_cost), help=no_cost)
    m[2].metric("Holding cost", money(plan.holding_cost), help=no_cost)
    m[3].metric("Backorder cost", money(plan.backorder_cost), help=no_cost)
    m[4].metric("SKU-months below safety stock", f"{int((plan.lines['shortfall'] > 0).sum()):,}")
    for note in plan.notes:
        st.caption(common.escape(note))

    key = (v, as_of, horizon, policy, strategy, settings)  # what the plan and every view of it depend on
    plan_tab, cap_tab, policy_tab, versions_tab = st.tabs(["Plan", "Capacity", "Inventory policy", "Versions & export"],
                                                          key="sr_tab", on_change="rerun")
    with plan_tab:
        if plan_tab.open:  # only the open tab is computed and sent
            levels = ["family", "sku"]
            label = {"family": "Family", "sku": "SKU"}
            level = st.radio("Show", levels, horizontal=True, format_func=label.get,
                             **common.kept("sr_level", levels))
            options = [supply.ALL, *supply.names(*key, filters, level)]
            name = st.selectbox(label[level], options, **common.kept(f"sr_pick_{level}", options))
            view = supply.plan_view(*key, filters, level, name)
            st.plotly_chart(view.figure, width="stretch")
            show_prepared(view.table)
            common.downloads(f"plan_{strategy}", view.lines, key="sr_lines")
    with cap_tab:
        if cap_tab.open:
            cap = supply.capacity_view(*key, filters.work_centers)
            n_over = len(cap.overloaded)
            if cap.unavailable:  # words, not an empty chart
                st.info(cap.unavailable[:1].upper() + cap.unavailable[1:] + ".")
            else:
                st.plotly_chart(cap.figure, width="stretch")
                st.write(f"{n_over} overloaded work-center months." if n_over else "No work center is overloaded.")
            if n_over:
                show_prepared(cap.overloaded)
                st.subheader("Suggested fixes")
                show_prepared(cap.fixes)
    with policy_tab:
        if policy_tab.open:
            ss = supply.safety(v, as_of, policy)
            st.markdown("**Safety stock** = z(service level) × σ(lag-1 forecast error) × √(lead time in months); "
                        "**reorder point** = mean monthly demand × lead time + safety stock. Service level by ABC "
                        "class (A 98%, B 95%, C 90%): ABC by revenue of the last 12 months, XYZ by demand variability.")
            if filters.families:
                ss = ss[ss["family"].isin(filters.families)]
            show_table(ss)
            common.downloads("safety_stock", ss, key="sr_ss")
    with versions_tab:
        if versions_tab.open:
            with st.form("sr_save"):
                plan_name = st.text_input("Save this plan as", value=f"{strategy} {as_of:%Y-%m}", max_chars=80)
                author = st.text_input("Author", value=auth.display_name(), max_chars=80)
                if not auth.can("plan"):
                    auth.explain_refusal("plan")
                if st.form_submit_button("Save plan version", disabled=not auth.can("plan")):
                    try:
                        planning.save_plan(common.db_path(), plan, plan_name, author or "planner", user=auth.user())
                        st.success(f"Saved '{common.escape(plan_name)}'.")
                    except (planning.PlanningError, ValueError) as e:
                        st.error(common.escape(e))
            # common.version() again: a plan saved just above is a new data version, listed at once
            show_table(common.cached_read(common.version(), "analytics.planning:list_plans"), {"name": "Plan"})
            c1, c2, _ = st.columns([1, 1, 4])
            c1.download_button("⬇ Plan (Excel)", lambda: planning.export_plan_excel(plan), f"plan_{strategy}_{as_of}.xlsx",
                               common.XLSX_MIME, key="sr_xlsx", on_click="ignore")
            c2.download_button("⬇ Plan (CSV)", lambda: planning.export_plan_csv(plan), f"plan_{strategy}_{as_of}.csv",
                               "text/csv", key="sr_csv", on_click="ignore")
