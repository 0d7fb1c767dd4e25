"""Comparing scenarios: the family-months that differ from the baseline (:func:`scenario_month_diff`) and the
KPIs side by side (:func:`compare_scenarios`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.planning.plans import Plan
from analytics.planning.scenarios.definitions import DIFF_COLUMNS, KPI_SPECS, Scenario, ScenarioResult
from analytics.planning.scenarios.run import run_scenario
from analytics.planning.scenarios.store import list_scenarios, load_scenario

# ---------------------------------------------------------------------------- comparing


def _plan_of(x) -> Plan:
    return x.plan if isinstance(x, ScenarioResult) else x


def _family_month(plan: Plan) -> pd.DataFrame:
    lines = plan.lines.assign(
        inventory=plan.lines["projected_inventory"].clip(lower=0.0),
        shortage=(-plan.lines["projected_inventory"]).clip(lower=0.0),
    )
    return lines.groupby(["family", "period"], as_index=False)[["production", "inventory", "shortage"]].sum()


def scenario_month_diff(scenario, baseline, rel_tol: float = 0.05, min_units: float = 1.0) -> pd.DataFrame:
    """The family-months where a scenario's plan differs materially from the baseline's.

    ``scenario`` / ``baseline``: Plans or ScenarioResults. grain: one row per family x month x measure that
    differs. Measures: production, inventory (sum of positive month-end stock), shortage (sum of backorders).
    Material: |delta| > max(min_units, rel_tol x the larger of the two values). Columns: family, period,
    measure, baseline, scenario, delta.
    """
    a, b = _family_month(_plan_of(scenario)), _family_month(_plan_of(baseline))
    m = b.merge(a, on=["family", "period"], how="outer", suffixes=("_b", "_s")).fillna(0.0)
    parts = []
    for measure in ("production", "inventory", "shortage"):
        base, scen = m[f"{measure}_b"], m[f"{measure}_s"]
        delta = scen - base
        limit = np.maximum(min_units, rel_tol * np.maximum(base.abs(), scen.abs()))
        hit = delta.abs() > limit
        parts.append(pd.DataFrame({"family": m.loc[hit, "family"], "period": m.loc[hit, "period"],
                                   "measure": measure, "baseline": base[hit], "scenario": scen[hit],
                                   "delta": delta[hit]}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DIFF_COLUMNS)
    order = {"production": 0, "inventory": 1, "shortage": 2}
    out = out.sort_values(["period", "family", "measure"], key=lambda s: s.map(order) if s.name == "measure" else s)
    return out[DIFF_COLUMNS].reset_index(drop=True)


def _gather(con_or_results, names: list[str], baseline: str) -> dict[str, ScenarioResult]:
    wanted = [n for n in dict.fromkeys(names) if n != baseline]
    if not wanted:
        raise ValueError("Choose at least one scenario to compare with the baseline.")
    if len(names) > 4:
        raise ValueError(f"Compare at most 4 scenarios side by side (got {len(names)}).")
    out: dict[str, ScenarioResult] = {}
    if hasattr(con_or_results, "execute"):
        con = con_or_results
        for n in wanted:
            out[n] = load_scenario(con, n)
        saved = list_scenarios(con)
        if baseline in set(saved["name"]):
            out[baseline] = load_scenario(con, baseline)
        else:  # the plan with no changes, on the current data, as of the first scenario's date
            first = out[wanted[0]]
            out[baseline] = run_scenario(con, first.plan.as_of, len(first.plan.months),
                                         Scenario(name=baseline, strategy=first.scenario.strategy))
        return {baseline: out.pop(baseline), **out}
    results = list(con_or_results.values()) if isinstance(con_or_results, dict) else list(con_or_results)
    by_name = {r.scenario.name: r for r in results}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ValueError(f"No result for scenario(s) {', '.join(map(repr, missing))}.")
    if baseline in by_name:
        base = by_name[baseline]
    else:
        first = by_name[wanted[0]]
        if first.base_inputs is None:
            raise ValueError(f"No {baseline!r} result and the results carry no base inputs to plan it from.")
        base = run_scenario(None, scenario=Scenario(name=baseline, strategy=first.scenario.strategy),
                            inputs=first.base_inputs, settings=first.base_settings)
    return {baseline: base, **{n: by_name[n] for n in wanted}}


def compare_scenarios(con_or_results, names: list[str] | tuple[str, ...], baseline: str = "baseline",
                      rel_tol: float = 0.05, min_units: float = 1.0) -> pd.DataFrame:
    """Scenarios side by side against the baseline.

    ``con_or_results``: a reader connection (saved scenarios by name; the baseline is the saved scenario
    named ``baseline``, else the plan with no changes made now, on the current data, with the first
    scenario's as-of date, horizon and strategy and default settings) or ScenarioResults (list or dict; the
    baseline is planned from the first one's base inputs if it is not among them). ``names``: up to 4.

    grain: one row per KPI (KPI_SPECS). Columns: kpi, label, unit, higher_is_better, <baseline>, then per
    scenario <name> and "<name> delta" (scenario - baseline). months_differing counts the months in
    :func:`scenario_month_diff`.
    """
    results = _gather(con_or_results, list(names), baseline)
    base_plan = results[baseline].plan
    table = pd.DataFrame([{"kpi": k, "label": label, "unit": unit, "higher_is_better": better}
                          for k, label, unit, better in KPI_SPECS])
    for name, res in results.items():
        kpis = dict(res.kpis)
        kpis["months_differing"] = (0 if name == baseline else
                                    scenario_month_diff(res.plan, base_plan, rel_tol, min_units)["period"].nunique())
        values = table["kpi"].map(lambda k, d=kpis: d.get(k)).astype(float)
        table[name] = values
        if name != baseline:
            table[f"{name} delta"] = values - table[baseline]
    return table
