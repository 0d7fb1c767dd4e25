"""Cached planning calls for the supply pages (keyed on the data version, the as-of date and the settings).

What a page view shows is built once per distinct question and shared by every session that asks it: the plan
(st.cache_data), and the drawn pieces of its tabs (st.cache_resource: plotly figures and Arrow tables are held,
not pickled, because unpickling a figure validates it again). Callers only read what they get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import charts, planning
from analytics.filters import Filters
from ui import common, tables

PLAN_COLUMNS = ["demand", "production", "open_receipts", "projected_inventory", "safety_stock", "shortfall", "load_hours"]
ALL = "(all selected)"


@st.cache_data(ttl=3600, max_entries=16, show_spinner="Reading plan inputs…")
def inputs(data_version: tuple, as_of: date, horizon: int, policy: planning.PolicySettings) -> planning.PlanInputs:
    return planning.plan_inputs(common.con(), as_of, horizon, policy)


@st.cache_data(ttl=3600, max_entries=32, show_spinner="Planning…")
def plan(data_version: tuple, as_of: date, horizon: int, policy: planning.PolicySettings, strategy: str,
         settings: planning.PlanSettings) -> planning.Plan:
    return planning.make_plan(inputs(data_version, as_of, horizon, policy), strategy, settings)


@st.cache_data(ttl=3600, max_entries=16, show_spinner="Computing safety stock…")
def safety(data_version: tuple, as_of: date, policy: planning.PolicySettings):
    return planning.safety_stock(common.con(), as_of, policy)


def filtered_lines(p: planning.Plan, filters):
    """The plan lines the sidebar filters select (family, SKU, work center)."""
    lines = p.lines
    if filters.families:
        lines = lines[lines["family"].isin(filters.families)]
    if filters.skus:
        lines = lines[lines["sku"].isin(filters.skus)]
    if filters.work_centers:
        lines = lines[lines["work_center"].isin(filters.work_centers)]
    return lines


@dataclass(frozen=True)
class PlanView:
    """The plan tab for one family or SKU (or all selected): lines (grain sku x month, for the downloads),
    table (the same lines in human form, ``ui.tables.prepare``) and the demand / supply / inventory figure."""

    lines: pd.DataFrame
    table: tables.Prepared
    figure: go.Figure


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def names(data_version: tuple, as_of: date, horizon: int, policy: planning.PolicySettings, strategy: str,
          settings: planning.PlanSettings, filters: Filters, level: str) -> list[str]:
    """The families or SKUs the plan tab offers (those the sidebar filters select)."""
    lines = filtered_lines(plan(data_version, as_of, horizon, policy, strategy, settings), filters)
    return sorted(lines[level].unique())


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def plan_view(data_version: tuple, as_of: date, horizon: int, policy: planning.PolicySettings, strategy: str,
              settings: planning.PlanSettings, filters: Filters, level: str, name: str) -> PlanView:
    lines = filtered_lines(plan(data_version, as_of, horizon, policy, strategy, settings), filters)
    part = lines if name == ALL else lines[lines[level] == name]
    monthly = part.groupby("period", as_index=False)[PLAN_COLUMNS].sum()
    # Cover as text: "no demand" where there is none (a number there would be stock / a few thousandths)
    return PlanView(part, tables.prepare(planning.with_cover_text(part), {"days_of_supply": planning.COVER}),
                    charts.supply_plan_figure(monthly, f"{strategy.capitalize()} plan: {name}"))


@dataclass(frozen=True)
class CapacityView:
    """The capacity tab: load (grain work center x month, capacity_load), its heatmap, the overloaded months
    and the fixes suggested for them (both in human form, ``ui.tables.prepare``)."""

    load: pd.DataFrame
    figure: go.Figure | None  # None: nothing to draw, ``unavailable`` says why
    overloaded: tables.Prepared
    fixes: tables.Prepared
    unavailable: str | None = None


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def capacity_view(data_version: tuple, as_of: date, horizon: int, policy: planning.PolicySettings, strategy: str,
                  settings: planning.PlanSettings, work_centers: tuple[str, ...]) -> CapacityView:
    p = plan(data_version, as_of, horizon, policy, strategy, settings)
    load = planning.capacity_load(p)
    if work_centers:
        load = load[load["work_center"].isin(work_centers)]
    over = load[load["overloaded"]]
    overloaded = tables.prepare(over, order=["work_center", "period", "load_hours", "available_hours", "utilisation",
                                             "top_contributors"])
    fixes = tables.prepare(planning.capacity_fixes(p, load) if len(over) else pd.DataFrame())
    why = planning.capacity_unavailable(load)
    return CapacityView(load, None if why else charts.capacity_heatmap(load), overloaded, fixes, why)
