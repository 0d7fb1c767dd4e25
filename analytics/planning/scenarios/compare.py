"""Comparing scenarios like with like: the KPIs side by side against each scenario's own baseline
(:func:`compare_scenarios`) and whether a saved scenario was computed on the current data
(:func:`scenario_staleness`)."""

from __future__ import annotations

import pandas as pd

from analytics import kpis as kpi_module
from analytics.planning.common import PlanningError
from analytics.planning.inputs import plan_inputs
from analytics.planning.scenarios.definitions import KPI_SPECS, Scenario, ScenarioResult
from analytics.planning.scenarios.diff import scenario_month_diff
from analytics.planning.scenarios.run import inputs_fingerprint, run_scenario
from analytics.planning.scenarios.store import list_scenarios, load_scenario

# ---------------------------------------------------------------------------- is it on the current data?


def scenario_staleness(con, results: list[ScenarioResult]) -> dict[str, str | None]:
    """For each saved scenario: None when it was computed on the data as it is now (same as-of date and the
    same plan inputs, by fingerprint), else one sentence saying what it was computed on.

    The current inputs are ``plan_inputs(con, as_of, horizon)`` of each scenario's as-of date and horizon (read
    once per pair). A scenario saved before its basis was kept is reported as such."""
    now = kpi_module.default_as_of(con)
    fingerprints: dict[tuple, str | None] = {}
    out: dict[str, str | None] = {}
    for r in results:
        name, plan = r.scenario.name, r.plan
        if plan.as_of != now:
            out[name] = (f"'{name}' was computed on the data as of {plan.as_of}; the data is now as of {now}. "
                         "Run it again to compare like with like.")
            continue
        if not r.basis:
            out[name] = (f"'{name}' was saved before scenarios kept their baseline: it is compared with a baseline "
                         "made now, which may not be the data it was computed on. Run it again to compare like "
                         "with like.")
            continue
        key = (plan.as_of, len(plan.months))
        if key not in fingerprints:
            try:
                fingerprints[key] = inputs_fingerprint(plan_inputs(con, plan.as_of, len(plan.months)))
            except PlanningError:
                fingerprints[key] = None
        if fingerprints[key] != r.basis.get("inputs_fingerprint"):
            out[name] = (f"'{name}' was computed on older data (as of {plan.as_of}): the forecast, orders, stock or "
                         "capacity have changed since it was saved. Run it again to compare like with like.")
        else:
            out[name] = None
    return out


# ---------------------------------------------------------------------------- side by side


def _gather(con_or_results, names: list[str], baseline: str) -> tuple[dict[str, ScenarioResult], ScenarioResult | None]:
    """(the scenarios wanted by name, the explicit baseline: a saved / given scenario named ``baseline`` or None)."""
    wanted = [n for n in dict.fromkeys(names) if n != baseline]
    if not wanted:
        raise ValueError("Choose at least one scenario to compare with the baseline.")
    if len(names) > 4:
        raise ValueError(f"Compare at most 4 scenarios side by side (got {len(names)}).")
    if hasattr(con_or_results, "execute"):
        con = con_or_results
        out = {n: load_scenario(con, n) for n in wanted}
        base = load_scenario(con, baseline) if baseline in set(list_scenarios(con)["name"]) else None
        return out, base
    results = list(con_or_results.values()) if isinstance(con_or_results, dict) else list(con_or_results)
    by_name = {r.scenario.name: r for r in results}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ValueError(f"No result for scenario(s) {', '.join(map(repr, missing))}.")
    return {n: by_name[n] for n in wanted}, by_name.get(baseline)


def compare_scenarios(con_or_results, names: list[str] | tuple[str, ...], baseline: str = "baseline",
                      rel_tol: float = 0.05, min_units: float = 1.0) -> pd.DataFrame:
    """Scenarios side by side, each against its own baseline (like with like).

    ``con_or_results``: a reader connection (saved scenarios by name) or ScenarioResults (list or dict).
    ``names``: up to 4. Each scenario's baseline, in this order: the scenario named ``baseline`` when it is
    saved / given; else the baseline stored with the scenario (the plan with no changes made from the same
    inputs, settings and strategy when it was saved); else the plan with no changes made now from its base
    inputs (results) or from the current data with its as-of date, horizon and strategy (an old saved scenario;
    noted). A scenario that changes nothing therefore differs by 0.

    grain: one row per KPI (KPI_SPECS). Columns: kpi, label, unit, higher_is_better, <baseline> (the first
    scenario's baseline), then per scenario <name> and "<name> delta" (scenario - its own baseline).
    months_differing counts the months in :func:`scenario_month_diff` against that baseline. ``df.attrs``:
    ``notes`` (sentences: baselines made now, baselines that differ from the baseline column) and, with a
    connection, ``stale`` ({name: sentence or None}, :func:`scenario_staleness`).
    """
    results, explicit = _gather(con_or_results, list(names), baseline)
    con = con_or_results if hasattr(con_or_results, "execute") else None
    notes: list[str] = []
    made_now: dict[tuple, ScenarioResult] = {}

    def baseline_now(r: ScenarioResult) -> ScenarioResult:
        scen = Scenario(name=baseline, strategy=r.scenario.strategy)
        if r.base_inputs is not None:
            return run_scenario(None, scenario=scen, inputs=r.base_inputs, settings=r.base_settings)
        if con is None:
            raise ValueError(f"No {baseline!r} result and {r.scenario.name!r} carries no base inputs to plan it from.")
        key = (r.plan.as_of, len(r.plan.months), r.scenario.strategy)
        if key not in made_now:
            made_now[key] = run_scenario(con, r.plan.as_of, len(r.plan.months), scen)
        notes.append(f"'{r.scenario.name}' has no stored baseline: it is compared with the plan with no changes "
                     "made now on the current data.")
        return made_now[key]

    own: dict[str, tuple[dict, int]] = {}
    for n, r in results.items():
        if explicit is not None:
            own[n] = (explicit.kpis, scenario_month_diff(r.plan, explicit.plan, rel_tol, min_units)["period"].nunique())
        elif r.scenario.is_baseline:
            own[n] = (r.kpis, 0)
        elif r.baseline_kpis is not None and r.basis:
            own[n] = (r.baseline_kpis, int(r.basis.get("months_differing") or 0))
        else:
            b = baseline_now(r)
            own[n] = (b.kpis, scenario_month_diff(r.plan, b.plan, rel_tol, min_units)["period"].nunique())
    first = next(iter(results))
    base_kpis = own[first][0]
    table = pd.DataFrame([{"kpi": k, "label": label, "unit": unit, "higher_is_better": better}
                          for k, label, unit, better in KPI_SPECS])

    def values(k: dict, months: int) -> pd.Series:
        return table["kpi"].map(lambda key: months if key == "months_differing" else k.get(key)).astype(float)

    table[baseline] = values(base_kpis, 0)
    for n, r in results.items():
        mine, base_n = values(r.kpis, own[n][1]), values(own[n][0], 0)
        table[n] = mine
        table[f"{n} delta"] = mine - base_n
        if n != first and not base_n.fillna(0).sub(table[baseline].fillna(0)).abs().le(1e-6).all():
            notes.append(f"'{n}' is compared with its own baseline (made with it, from other data), which differs "
                         f"from the {baseline} column.")
    table.attrs["notes"] = list(dict.fromkeys(notes))
    if con is not None:
        table.attrs["stale"] = scenario_staleness(con, list(results.values()))
    return table
