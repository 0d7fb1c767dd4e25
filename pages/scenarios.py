"""What-if scenarios: build one (demand, promotions, lost customers, capacity, service, cost), save it, and
compare two to four side by side against the baseline plan; mark one as recommended for the summit."""

import streamlit as st

from analytics import planning, presentation
from analytics.planning import scenarios as sc
from analytics.presentation import UNITS, Column
from ui import auth, common
from ui import scenarios as views
from ui.scenarios import scenario_form
from ui.tables import show_table

filters = common.page_setup("Scenarios")
if filters is not None:
    v, con = common.version(), common.con()
    as_of = common.as_of_default(v)
    opts = common.dimension_values(v)
    with st.expander("Build a new scenario", expanded=False):
        if not auth.can("scenario"):
            auth.explain_refusal("scenario")
        scenario = scenario_form(opts, disabled=not auth.can("scenario"))
        if scenario is not None:
            try:
                with st.spinner("Planning the scenario…"):
                    result = sc.run_scenario(con, as_of, 18, scenario)
                    base = views.baseline(v, as_of, 18, scenario.strategy)  # stored with it: like with like
                    sc.save_scenario(common.db_path(), scenario, result, baseline=base, user=auth.user())
                st.success(f"Saved scenario '{common.escape(scenario.name)}' ({result.seconds:.1f} s).")
                for note in result.adjustments:
                    st.caption(common.escape(note))
                st.cache_data.clear()
            except (planning.PlanningError, ValueError) as e:
                st.error(common.escape(e))

    v = common.version()  # again: a scenario saved above is a new data version
    saved = common.cached_read(v, "analytics.planning.scenarios:list_scenarios")
    if saved.empty:
        st.info("No scenario saved yet: build one above. The comparison always includes the baseline plan.")
        st.stop()
    recommended = common.cached_read(v, "analytics.planning.scenarios:recommended_scenario")
    show_table(saved, {"name": "Scenario", "units_short": "Units short"})
    names = saved["name"].tolist()
    stale = views.staleness(v, tuple(names))
    for name, sentence in stale.items():
        if sentence:
            st.warning(common.escape(sentence))
            if st.button(f"Run '{common.escape(name)}' again on the current data", key=f"sc_rerun_{name}",
                         disabled=not auth.can("scenario")):
                with st.spinner("Planning the scenario…"):
                    sc.rerun_scenario(con, common.db_path(), name, as_of, user=auth.user())
                st.rerun()
    chosen = st.multiselect("Compare (up to 4) against the baseline", names, default=names[:2],
                            max_selections=4, key="sc_compare")
    if chosen:
        with st.spinner("Comparing…"):
            table = views.comparison(v, tuple(chosen))
        show_table(presentation.comparison_text(table, [recommended] if recommended else []))
        for note in table.attrs.get("notes", []):
            st.caption(common.escape(note))
        common.downloads("scenario_comparison", table, key="sc_cmp")
        for name in chosen:
            diff = views.month_diff(v, as_of, name)
            against = " made now (not like with like: run it again)" if stale.get(name) else ""
            with st.expander(f"Where '{common.escape(name)}' differs from the baseline{against} ({len(diff)} "
                             "family-months)"):
                show_table(diff, {"baseline": Column("Baseline", UNITS), "scenario": Column(name, UNITS),
                                  "delta": Column("Change", UNITS), "measure": "Measure"})
    c1, c2 = st.columns([2, 1])
    pick = c1.selectbox("Recommended for the summit", names, index=names.index(recommended) if recommended in names else 0,
                        key="sc_recommend")
    if c2.button("Mark as recommended", key="sc_mark", disabled=not auth.can("scenario")):
        sc.mark_recommended(common.db_path(), pick, by=auth.display_name(), user=auth.user())
        st.success(f"'{common.escape(pick)}' is the recommended scenario.")
    if recommended:
        st.caption(f"Currently recommended: **{common.escape(recommended)}**")
