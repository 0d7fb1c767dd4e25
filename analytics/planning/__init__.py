"""From forecast to production plan: safety stock, production plans, rough-cut capacity, promise checks.

    policy     abc_xyz, safety_stock (+ PolicySettings, safety_stock_units, z_value)
    inputs     plan_inputs -> PlanInputs (demand, backlog, on hand, open work orders, capacity, safety stock)
    plans      chase_plan, level_plan, optimised_plan (linear programme), evaluate_plan -> Plan; plan_rollup
    capacity   capacity_load, capacity_fixes (rough-cut capacity)
    promise    available_to_promise (ATP with look-ahead, capable-to-promise, margin check)
    store      save_plan, list_plans, load_plan, export_plan_excel, export_plan_csv

Typical use::

    con = db.open_reader(path)
    inputs = plan_inputs(con, as_of, horizon=18)
    plan = optimised_plan(inputs, PlanSettings())
    load = capacity_load(plan); fixes = capacity_fixes(plan, load)
    answer = available_to_promise(con, plan, "DESK-001", 120, date(2027, 1, 15), price=149.0)
    save_plan(path, plan, "Base plan", "anna")

Every rule (which forecast, how backlog is timed, the LP, the cost terms) is written in the docstring of
the module that applies it. Nothing here imports streamlit.
"""

from __future__ import annotations

from analytics.planning.capacity import capacity_fixes, capacity_load, capacity_unavailable
from analytics.planning.common import PlanningError
from analytics.planning.inputs import PlanInputs, plan_inputs
from analytics.planning.plans import (
    COVER,
    Plan,
    PlanSettings,
    chase_plan,
    days_of_supply_text,
    evaluate_plan,
    level_plan,
    make_plan,
    optimised_plan,
    plan_rollup,
    project,
    with_cover_text,
)
from analytics.planning.policy import PolicySettings, abc_xyz, safety_stock, safety_stock_units, z_value
from analytics.planning.promise import atp_explanation, available_to_promise, cumulative_atp
from analytics.planning.store import export_plan_csv, export_plan_excel, list_plans, load_plan, save_plan

__all__ = [
    "COVER", "Plan", "PlanInputs", "PlanSettings", "PlanningError", "PolicySettings", "abc_xyz", "available_to_promise",
    "atp_explanation", "capacity_fixes", "capacity_load", "capacity_unavailable", "chase_plan", "cumulative_atp",
    "days_of_supply_text", "evaluate_plan", "export_plan_csv", "export_plan_excel", "level_plan", "list_plans", "load_plan", "make_plan", "optimised_plan",
    "plan_inputs", "plan_rollup", "project", "safety_stock", "safety_stock_units", "save_plan", "with_cover_text",
    "z_value",
]
from analytics.planning.requests import (  # noqa: E402  (sales -> production requests, the promise answer)
    answer_request,
    create_request,
    list_requests,
    promise_answer,
    request_stats,
)
from analytics.planning.scenarios import (  # noqa: E402  (what-if scenarios)
    CapacityChange,
    DemandChange,
    Promotion,
    Scenario,
    ScenarioResult,
    apply_scenario,
    compare_scenarios,
    list_scenarios,
    load_scenario,
    mark_recommended,
    recommended_scenario,
    run_scenario,
    save_scenario,
    scenario_kpis,
    scenario_month_diff,
)

__all__ += [
    "CapacityChange", "DemandChange", "Promotion", "Scenario", "ScenarioResult", "answer_request",
    "apply_scenario", "compare_scenarios", "create_request", "list_requests", "list_scenarios", "load_scenario",
    "mark_recommended", "promise_answer", "recommended_scenario", "request_stats", "run_scenario", "save_scenario",
    "scenario_kpis", "scenario_month_diff",
]
