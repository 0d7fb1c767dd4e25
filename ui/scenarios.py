"""The scenario builder: tables of demand changes, promotions and capacity changes, plus lost customers,
service levels and costs; turns the widgets into an analytics Scenario."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.planning import scenarios as sc
from ui import common
from ui.common import escape


def _rows(df: pd.DataFrame) -> list[dict]:
    return [r for r in df.to_dict("records") if any(v not in (None, "") and v == v for v in r.values())]


def _month(v):
    return None if v in (None, "") or v != v else str(v)


def _MONTH(label: str):  # noqa: N802 - a column kind, like st.column_config's
    return st.column_config.TextColumn(label, help="YYYY-MM; empty = the whole horizon")


def scenario_form(options: dict[str, list[str]], disabled: bool = False) -> sc.Scenario | None:
    """Draw the builder; on submit return the Scenario (ValueError messages are shown, not raised)."""
    with st.form("sc_form"):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("Scenario name", max_chars=80)
        author = c2.text_input("Author", max_chars=80)
        strategy = c3.selectbox("Plan strategy", ["optimised", "chase", "level"])
        st.markdown("**Demand changes** (percent on the forecast; months as YYYY-MM, empty = whole horizon)")
        demand = st.data_editor(pd.DataFrame({"family": pd.Series(dtype=str), "from": pd.Series(dtype=str),
                                              "to": pd.Series(dtype=str), "percent": pd.Series(dtype=float)}),
                                num_rows="dynamic", width="stretch", key="sc_demand", column_config={
                                    "family": st.column_config.SelectboxColumn("Family", options=["(all)", *options["families"]]),
                                    "from": _MONTH("From"), "to": _MONTH("To"),
                                    "percent": st.column_config.NumberColumn("Change (%)", format="%+.1f%%", step=0.1)})
        st.markdown("**Promotions** (extra units on a SKU or family in a month)")
        promos = st.data_editor(pd.DataFrame({"sku or family": pd.Series(dtype=str), "month": pd.Series(dtype=str),
                                              "extra units": pd.Series(dtype=float)}),
                                num_rows="dynamic", width="stretch", key="sc_promos", column_config={
                                    "sku or family": st.column_config.TextColumn("SKU or family"), "month": _MONTH("Month"),
                                    "extra units": st.column_config.NumberColumn("Extra units", format="localized", step=1)})
        st.markdown("**Capacity changes** (hours per month, e.g. +160 = a shift added, −160 = a shift lost)")
        cap = st.data_editor(pd.DataFrame({"work center": pd.Series(dtype=str), "from": pd.Series(dtype=str),
                                           "to": pd.Series(dtype=str), "hours per month": pd.Series(dtype=float)}),
                             num_rows="dynamic", width="stretch", key="sc_cap", column_config={
                                 "work center": st.column_config.SelectboxColumn("Work center", options=options["work_centers"]),
                                 "from": _MONTH("From"), "to": _MONTH("To"),
                                 "hours per month": st.column_config.NumberColumn("Hours per month", format="%+.0f", step=1)})
        lost = st.multiselect("Lost customers (their backlog and share of the forecast go)", options["customers"])
        c1, c2, c3, c4 = st.columns(4)
        svc = {k: c.number_input(f"Service level class {k} (%)", 50.0, 99.9, d, 0.5)
               for c, k, d in ((c1, "A", 98.0), (c2, "B", 95.0), (c3, "C", 90.0))}
        holding = c4.number_input("Holding, % of cost per month", 0.0, 20.0, 2.0, 0.5)
        notes = st.text_area("Notes", max_chars=500)
        if not st.form_submit_button("Run and save scenario", type="primary", disabled=disabled):
            return None
    try:
        return sc.Scenario(
            name=name, author=author, strategy=strategy,
            demand_changes=tuple(sc.DemandChange(None if r["family"] in (None, "(all)") else r["family"],
                                                 _month(r["from"]), _month(r["to"]), r["percent"] or 0.0)
                                 for r in _rows(demand)),
            promotions=tuple(sc.Promotion(r["sku or family"], _month(r["month"]), r["extra units"]) for r in _rows(promos)),
            capacity_changes=tuple(sc.CapacityChange(r["work center"], _month(r["from"]), _month(r["to"]),
                                                     hours_per_month=r["hours per month"]) for r in _rows(cap)),
            lost_customers=tuple(lost),
            service_by_class=tuple((k, v / 100) for k, v in svc.items() if abs(v - {"A": 98, "B": 95, "C": 90}[k]) > 1e-9),
            settings=(("holding_rate", holding / 100),) if abs(holding - 2.0) > 1e-9 else (),
            notes=notes,
        )
    except (ValueError, TypeError) as e:
        st.error(escape(e))
        return None


# ---------------------------------------------------------------- cached comparisons (keyed on the data version)
# Saving or marking a scenario writes the database, which is a new data version: nothing here goes stale.


@st.cache_resource(ttl=3600, max_entries=8, show_spinner=False)
def baseline(data_version: tuple, as_of, horizon: int = 18, strategy: str = "optimised") -> sc.ScenarioResult:
    """The plan with no changes (``horizon`` months from ``as_of``, the strategy given), made once per data
    version and shared: read only."""
    return sc.run_scenario(common.con(), as_of, horizon, sc.Scenario(name="baseline", strategy=strategy))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def comparison(data_version: tuple, names: tuple[str, ...]) -> pd.DataFrame:
    """:func:`analytics.planning.scenarios.compare_scenarios` of saved scenarios, one row per KPI."""
    return sc.compare_scenarios(common.con(), list(names))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def staleness(data_version: tuple, names: tuple[str, ...]) -> dict[str, str | None]:
    """:func:`analytics.planning.scenarios.scenario_staleness` of saved scenarios: None = on the current data."""
    con = common.con()
    return sc.scenario_staleness(con, [sc.load_scenario(con, n) for n in names])


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def month_diff(data_version: tuple, as_of, name: str) -> pd.DataFrame:
    """Where a saved scenario differs from the plan with no changes made now from the current data with its
    as-of date, horizon and strategy (grain: family x month). Like with like only when the scenario is on the
    current data (:func:`staleness`); the page says so otherwise."""
    saved = sc.load_scenario(common.con(), name)
    return sc.scenario_month_diff(saved, baseline(data_version, saved.plan.as_of, len(saved.plan.months),
                                                  saved.scenario.strategy))
