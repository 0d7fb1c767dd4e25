"""Running a scenario: plan the changed inputs with its strategy (:func:`run_scenario`) and measure the plan
(:func:`scenario_kpis`; formulas: :mod:`analytics.planning.scenarios`)."""

from __future__ import annotations

import hashlib
import time

import duckdb
import numpy as np
import pandas as pd

from analytics.planning.common import PlanningError
from analytics.planning.inputs import PlanInputs, plan_inputs
from analytics.planning.plans import Plan, PlanSettings, make_plan
from analytics.planning.scenarios.apply import _apply
from analytics.planning.scenarios.definitions import Scenario, ScenarioResult

# ---------------------------------------------------------------------------- KPIs


def _matrix(lines: pd.DataFrame, column: str) -> pd.DataFrame:
    return lines.pivot(index="sku", columns="period", values=column).sort_index().sort_index(axis=1).fillna(0.0)


def scenario_kpis(plan: Plan, inputs: PlanInputs | None = None) -> dict:
    """The KPIs of a plan (formulas: the module docstring), as a flat JSON-safe dict.

    Keys: revenue, demand_units, shipped_units, units_short, ending_backorder_units, fill_rate,
    average_inventory_value, capacity_utilisation, max_work_center, max_work_center_utilisation,
    overtime_hours, production_units, total_cost, production_cost, overtime_cost, holding_cost,
    backorder_cost, shortfall_cost, strategy, first_period, horizon. Prices and costs come from ``inputs``
    when given, else from the plan's products.
    """
    lines = plan.lines
    D = _matrix(lines, "demand")
    inv = _matrix(lines, "projected_inventory")
    back = (-inv).clip(lower=0.0)
    prev = back.shift(1, axis=1).fillna(0.0)
    shipped = (D + prev - back).clip(lower=0.0)
    short = np.minimum(D, back)
    prods = (inputs.products if inputs is not None else plan.products).drop_duplicates("sku").set_index("sku")
    price = prods["unit_price"].astype(float).reindex(D.index).fillna(0.0)
    cost = prods["unit_cost"].astype(float).reindex(D.index).fillna(0.0)
    demand_units = float(D.to_numpy().sum())
    units_short = float(short.to_numpy().sum())
    stock_value = inv.clip(lower=0.0).mul(cost, axis=0).sum(axis=0)

    cap = plan.capacity
    constrained = cap[cap["available_hours"].notna()]
    total_avail = float(constrained["available_hours"].sum())
    by_wc = constrained.groupby("work_center")[["load_hours", "available_hours"]].sum()
    by_wc = by_wc[by_wc["available_hours"] > 0]
    util_wc = (by_wc["load_hours"] / by_wc["available_hours"]).sort_values(ascending=False, kind="stable")
    return {
        "strategy": plan.strategy, "first_period": str(plan.months[0]), "horizon": len(plan.months),
        "revenue": float(shipped.mul(price, axis=0).to_numpy().sum()),
        "demand_units": demand_units,
        "shipped_units": float(shipped.to_numpy().sum()),
        "units_short": units_short,
        "ending_backorder_units": float(back.iloc[:, -1].sum()) if back.shape[1] else 0.0,
        "fill_rate": 1.0 - units_short / demand_units if demand_units > 0 else 1.0,
        "average_inventory_value": float(stock_value.mean()) if len(stock_value) else 0.0,
        "capacity_utilisation": float(constrained["load_hours"].sum()) / total_avail if total_avail > 0 else None,
        "max_work_center": str(util_wc.index[0]) if len(util_wc) else None,
        "max_work_center_utilisation": float(util_wc.iloc[0]) if len(util_wc) else None,
        "overtime_hours": float(cap["overtime_hours"].sum()),
        "production_units": float(lines["production"].sum()),
        "total_cost": float(plan.total_cost),
        "production_cost": float(plan.production_cost), "overtime_cost": float(plan.overtime_cost),
        "holding_cost": float(plan.holding_cost), "backorder_cost": float(plan.backorder_cost),
        "shortfall_cost": float(plan.shortfall_cost),
    }


# ---------------------------------------------------------------------------- running


def run_scenario(con: duckdb.DuckDBPyConnection | None, as_of=None, horizon: int = 18,
                 scenario: Scenario | None = None, *, inputs: PlanInputs | None = None,
                 settings: PlanSettings | None = None, stale_backlog_months: int | None = 6) -> ScenarioResult:
    """Plan ``scenario`` (None = the baseline, no changes) and compute its KPIs.

    The base inputs are ``plan_inputs(con, as_of, horizon)`` unless ``inputs`` is given (then as_of and
    horizon are taken from it: reuse one PlanInputs to compare several scenarios quickly). ``settings``:
    the base PlanSettings, which the scenario's setting overrides change. A plan that cannot be made raises
    PlanningError with the planner's message, prefixed by the scenario name.
    """
    started = time.perf_counter()
    scenario = scenario or Scenario(name="baseline")
    if inputs is None:
        if con is None or as_of is None:
            raise ValueError("run_scenario needs a connection and an as-of date, or ready inputs.")
        inputs = plan_inputs(con, as_of, horizon, stale_backlog_months=stale_backlog_months)
    base_settings = settings or PlanSettings()
    changed, notes = _apply(inputs, scenario, con, stale_backlog_months)
    try:
        plan = make_plan(changed, scenario.strategy, scenario.plan_settings(base_settings))
    except PlanningError as e:
        raise PlanningError(f"Scenario {scenario.name!r}: {e}") from e
    return ScenarioResult(scenario=scenario, plan=plan, kpis=scenario_kpis(plan, changed), adjustments=tuple(notes),
                          inputs=changed, base_inputs=inputs, base_settings=base_settings,
                          seconds=time.perf_counter() - started)



def inputs_fingerprint(inputs: PlanInputs) -> str:
    """A short hash of what a plan is made from (as-of, months, and per SKU / work center and month: forecast,
    backlog, on hand, safety stock, costs, open receipts, available hours, values rounded to 6 decimals). Equal
    fingerprints: the same inputs, so plans made from them compare like with like."""
    h = hashlib.sha256(f"{inputs.as_of}|{','.join(map(str, inputs.months))}".encode())
    parts = (
        (inputs.products, ["sku", "work_center", "unit_cost", "unit_price", "hours_per_unit", "on_hand",
                           "safety_stock"]),
        (inputs.demand, ["sku", "period", "forecast", "backlog"]),
        (inputs.receipts, ["sku", "period", "open_receipts"]),
        (inputs.capacity, ["work_center", "period", "available_hours"]),
    )
    for frame, cols in parts:
        part = frame[[c for c in cols if c in frame.columns]].sort_values(
            [c for c in cols[:2] if c in frame.columns]).reset_index(drop=True)
        for c in part.columns:
            if pd.api.types.is_float_dtype(part[c]):
                part[c] = part[c].round(6)
        h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def baseline_of(result: ScenarioResult) -> ScenarioResult:
    """The plan with no changes made from the same base inputs, base settings and strategy as ``result`` (the
    result itself when its scenario changes nothing). ValueError for a result without base inputs (a loaded
    one)."""
    if result.scenario.is_baseline:
        return result
    if result.base_inputs is None:
        raise ValueError(f"Scenario {result.scenario.name!r} carries no base inputs: run it again.")
    return run_scenario(None, scenario=Scenario(name="baseline", strategy=result.scenario.strategy),
                        inputs=result.base_inputs, settings=result.base_settings)
