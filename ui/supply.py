"""Cached planning calls for the supply pages (keyed on the data version, the as-of date and the settings)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import planning
from ui import common


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
