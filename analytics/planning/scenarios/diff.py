"""Where a scenario's plan differs from the baseline's, by family and month (:func:`scenario_month_diff`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.planning.plans import Plan
from analytics.planning.scenarios.definitions import DIFF_COLUMNS, ScenarioResult


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
