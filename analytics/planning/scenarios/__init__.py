"""What-if scenarios on the production plan: demand, promotions, lost customers, capacity, service, costs.

A :class:`Scenario` is a frozen, JSON-serialisable description of changes. :func:`apply_scenario` returns
changed copies of the plan inputs (the original is never touched) and explains every adjustment in the
notes; :func:`run_scenario` plans the changed inputs with the scenario's strategy and computes its KPIs.

Adjustments, in this order (each explained in a note "Scenario '<name>': ..."):

1. lost customers: their open backlog is taken off the backlog (the same rule as ``plan_inputs``: open
   order lines due in a plan month, overdue ones in the first plan month; lines left out there as stale or
   due after the horizon are not taken off), never below 0. The forecast of each SKU is multiplied by
   (1 - their share of that SKU's ordered quantity over the last 12 complete months before the as-of date).
2. demand changes: the forecast (not the backlog: orders on the books are firm) of a family, or of every
   SKU, in the months from..to (to None = the end of the horizon) x (1 + percent / 100). Overlapping
   changes compound.
3. promotions: extra units added to the forecast due in the month; for a family they are spread over its
   SKUs in proportion to their forecast that month (equally when the family has none that month).
4. capacity changes: the work center's available hours from..to + hours_per_month (e.g. +160 for a
   shift added, -160 for one lost), or x (1 + percent / 100); never below 0. A work center without capacity
   data stays unconstrained (noted).
5. service levels, per ABC class or family: safety stock = z(level) x sigma x sqrt(lead time) with the sigma
   and lead time of the inputs' safety-stock frame (``inputs.policy``). Precedence: the scenario's family
   level, then a family level of the base policy, then the scenario's class level, then the base level.
6. plan settings (``PlanSettings`` fields, e.g. overtime_cost_per_hour, holding_rate): replace the base
   settings when the plan is made (``run_scenario``).

KPIs of a plan (:func:`scenario_kpis`), per SKU and month with demand D, month-end projected inventory I
(negative = backorder) and backorders B = max(0, -I):

    shipped[t]     = D[t] + B[t-1] - B[t]  (= min(demand incl. carried backorders, supply available))
    revenue        = sum shipped x unit_price over the horizon
    units short    = sum min(D[t], B[t]): demand of the month not shipped in its month (each unit once)
    fill rate      = 1 - units short / sum D (service level; 1 without demand)
    avg inventory  = mean over months of sum max(0, I) x unit_cost
    utilisation    = load hours / available hours of the work centers with capacity data (overall), and
                     the highest work center (its hours over the horizon)
    total cost     = the plan's production + overtime + holding + backorder cost

Saved scenarios (``plan_scenarios`` table) keep the scenario JSON, its KPIs and adjustment notes; the
plan itself is stored as a plan version named "Scenario: <name>" in the plan tables of ``store``, in the
same db.writer transaction. Exactly one saved scenario can be the recommended one (for the S&OP summit).

Modules, one job each: ``definitions`` (Scenario and its changes, ScenarioResult), ``apply`` (the what-if on
the plan inputs), ``run`` (plan and KPIs, the baseline of a result, the inputs' fingerprint), ``store`` (save,
list, load, recommend), ``diff`` (family-months that differ), ``compare`` (against each scenario's own
baseline; is a saved scenario on the current data).

Like with like: a saved scenario keeps its baseline (the KPIs of the plan with no changes made from the same
inputs, settings and strategy) and its basis (as-of date, horizon, a fingerprint of the plan inputs), so a
comparison never sets a result against a baseline made from other data, a scenario that changes nothing
differs by 0, and a scenario computed on older data than the current says so (``scenario_staleness``). Every public name is importable from this package, as before the split.
"""

from __future__ import annotations

from analytics.planning.scenarios.apply import apply_scenario
from analytics.planning.scenarios.compare import compare_scenarios, scenario_staleness
from analytics.planning.scenarios.definitions import (
    DIFF_COLUMNS,
    KPI_SPECS,
    MAX_NAME,
    MAX_TEXT,
    PLAN_NAME_PREFIX,
    SCENARIO_LIST_COLUMNS,
    SCENARIO_STRATEGIES,
    SETTINGS_FIELDS,
    CapacityChange,
    DemandChange,
    Promotion,
    Scenario,
    ScenarioResult,
)
from analytics.planning.scenarios.diff import scenario_month_diff
from analytics.planning.scenarios.run import baseline_of, inputs_fingerprint, run_scenario, scenario_kpis
from analytics.planning.scenarios.store import (
    list_scenarios,
    load_scenario,
    mark_recommended,
    recommended_scenario,
    rerun_scenario,
    save_scenario,
)

__all__ = [
    "DIFF_COLUMNS", "KPI_SPECS", "MAX_NAME", "MAX_TEXT", "PLAN_NAME_PREFIX", "SCENARIO_LIST_COLUMNS",
    "SCENARIO_STRATEGIES", "SETTINGS_FIELDS", "CapacityChange", "DemandChange", "Promotion", "Scenario",
    "ScenarioResult", "apply_scenario", "compare_scenarios", "list_scenarios", "load_scenario", "mark_recommended",
    "recommended_scenario", "run_scenario", "save_scenario", "scenario_kpis", "scenario_month_diff",
    "baseline_of", "inputs_fingerprint", "rerun_scenario", "scenario_staleness",
]
