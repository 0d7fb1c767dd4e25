"""Targets and thresholds (stored in the database) and the written definition of every KPI."""

import pandas as pd
import streamlit as st

from analytics import kpis
from analytics.scorecard import definition_markdown
from ui import auth, common
from ui.tables import edit_table

filters = common.page_setup("Targets & definitions")
if filters is not None:
    current = kpis.targets(common.con())
    rate = {k for k, s in kpis.SPECS.items() if s.unit == kpis.RATE}
    # Rates are edited in percent, everything else in its own unit.
    table = pd.DataFrame([  # one row per KPI, indexed by its id (hidden: the KPI's name is the label)
        {
            "kpi": k, "label": s.label, "unit": "%" if k in rate else kpis.unit_label(s.unit),
            "direction": {True: "higher is better", False: "lower is better", None: "close to target"}[s.higher_is_better],
            "target": current[k][0] * (100 if k in rate else 1),
            "tolerance": current[k][1] * (100 if k in rate else 1),
        }
        for k, s in kpis.SPECS.items()
    ]).set_index("kpi")
    st.write("Green when on target; amber when off by no more than the amber band; red beyond it. "
             "For 'close to target' KPIs green is within ± the band and amber within ± twice the band. "
             "A target of 0 on a higher-is-better KPI means no target (the tile says so instead of green).")
    with st.form("targets_form"):
        number = st.column_config.NumberColumn
        edited = edit_table(
            table, {"label": "KPI"}, key="tg_editor",
            disabled=["label", "unit", "direction"] if auth.can("targets") else True,
            column_config={"target": number(format="localized", step=0.01, required=True),
                           "tolerance": number(min_value=0.0, format="localized", step=0.01, required=True)},
        )
        saved = st.form_submit_button("Save targets", type="primary", disabled=not auth.can("targets"))
    if not auth.can("targets"):
        auth.explain_refusal("targets")
    if saved:
        rows = {
            k: (r["target"] / (100 if k in rate else 1), r["tolerance"] / (100 if k in rate else 1))
            for k, r in edited.to_dict("index").items()
        }
        try:
            kpis.save_targets(common.db_path(), rows, user=auth.user())
            st.success("Targets saved. The scorecard uses them from now on.")
        except ValueError as e:
            st.error(str(e))

    st.header("KPI definitions")
    st.caption("The same text the scorecard's 'How is this computed' panel, the README and `python -m analytics kpis` use.")
    for spec in kpis.SPECS.values():
        with st.expander(spec.label):
            st.markdown(definition_markdown(spec))
