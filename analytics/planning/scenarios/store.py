"""Saved scenarios (table ``plan_scenarios``): save, list, load, the one recommended scenario. The plan of a
saved scenario is a plan version named "Scenario: <name>" in the plan tables of ``planning.store``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from analytics import access, db
from analytics.planning.common import has_table
from analytics.planning.plans import CAPACITY_COLUMNS, LINE_COLUMNS, PRODUCT_COLUMNS
from analytics.planning.scenarios.definitions import (
    MAX_NAME,
    PLAN_NAME_PREFIX,
    SCENARIO_LIST_COLUMNS,
    Scenario,
    ScenarioResult,
    _text,
)
from analytics.planning.scenarios.diff import scenario_month_diff
from analytics.planning.scenarios.run import baseline_of, inputs_fingerprint
from analytics.planning.store import _insert, load_plan

# ---------------------------------------------------------------------------- saved scenarios


@access.requires("scenario")
def save_scenario(db_path, scenario: Scenario, result: ScenarioResult, replace: bool = False,
                  baseline: ScenarioResult | None = None) -> int:
    """Store the scenario, its KPIs, adjustment notes and plan; returns its scenario_id. One db.writer
    transaction. The plan goes to the plan tables as the next version of "Scenario: <name>". A name that
    is already saved raises ValueError unless ``replace`` (the old row goes, and with it its recommended
    flag: a changed scenario must be recommended again).

    Its baseline is stored with it (like with like): the KPIs of the plan with no changes made from the same
    base inputs, settings and strategy (``run.baseline_of``; ``baseline``: such a result already made, used
    when its inputs' fingerprint, settings and strategy match), and its basis: as_of, horizon, the inputs'
    fingerprint and the number of months that differ from that baseline. Both go in ``kpis_json`` under
    the keys "baseline" and "basis"."""
    if not isinstance(scenario, Scenario):
        raise ValueError("save_scenario needs a Scenario.")
    if result.scenario != scenario:
        raise ValueError(f"The result was computed for scenario {result.scenario.name!r}, not for {scenario.name!r} "
                         "as given: run the scenario again.")
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    plan = result.plan
    stored_kpis = dict(result.kpis)
    if result.base_inputs is not None:
        fingerprint = inputs_fingerprint(result.base_inputs)
        same = (baseline is not None and baseline.base_inputs is not None
                and baseline.scenario.strategy == scenario.strategy and baseline.base_settings == result.base_settings
                and baseline.scenario.is_baseline and inputs_fingerprint(baseline.base_inputs) == fingerprint)
        base = baseline if same else baseline_of(result)
        stored_kpis["baseline"] = dict(base.kpis)
        stored_kpis["basis"] = {
            "as_of": plan.as_of.isoformat(), "horizon": len(plan.months), "inputs_fingerprint": fingerprint,
            "months_differing": int(scenario_month_diff(result.plan, base.plan)["period"].nunique()),
        }
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.writer(path) as con:
        old = con.execute("SELECT scenario_id FROM plan_scenarios WHERE name = $n", {"n": scenario.name}).fetchall()
        access.note(target=f"scenario {scenario.name}", replaced=bool(old))
        if old and not replace:
            raise ValueError(f"A scenario named {scenario.name!r} is already saved: choose another name or replace it.")
        con.execute("DELETE FROM plan_scenarios WHERE name = $n", {"n": scenario.name})
        plan_name = PLAN_NAME_PREFIX + scenario.name
        plan_id = int(con.execute("SELECT coalesce(max(plan_id), 0) + 1 FROM plan_versions").fetchall()[0][0])
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM plan_versions WHERE name = $n",
                                  {"n": plan_name}).fetchall()[0][0])
        con.execute(  # the same row store.save_plan writes, so store.load_plan reads it back
            "INSERT INTO plan_versions VALUES ($id, $name, $version, $strategy, $author, $at, $as_of, $first, "
            "$horizon, $settings, $totals, $notes)",
            {"id": plan_id, "name": plan_name, "version": version, "strategy": plan.strategy,
             "author": scenario.author or "scenario", "at": now, "as_of": plan.as_of, "first": plan.months[0],
             "horizon": len(plan.months), "settings": plan.settings.to_json(), "totals": json.dumps(plan.totals()),
             "notes": json.dumps(list(plan.notes))},
        )
        _insert(con, "plan_lines", plan.lines, plan_id, LINE_COLUMNS)
        _insert(con, "plan_products", plan.products, plan_id, PRODUCT_COLUMNS)
        _insert(con, "plan_capacity", plan.capacity, plan_id, CAPACITY_COLUMNS)
        scenario_id = int(con.execute("SELECT coalesce(max(scenario_id), 0) + 1 FROM plan_scenarios").fetchall()[0][0])
        con.execute(
            "INSERT INTO plan_scenarios VALUES ($id, $name, $author, $at, $strategy, $as_of, $horizon, $scenario, "
            "$kpis, $notes, $plan_id, false, NULL, NULL)",
            {"id": scenario_id, "name": scenario.name, "author": scenario.author, "at": now,
             "strategy": scenario.strategy, "as_of": plan.as_of, "horizon": len(plan.months),
             "scenario": scenario.to_json(), "kpis": json.dumps(stored_kpis),
             "notes": json.dumps(list(result.adjustments)), "plan_id": plan_id},
        )
    return scenario_id


def list_scenarios(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved scenarios, newest first.

    grain: one row per saved scenario. Columns: scenario_id, name, author, created_at, strategy, as_of,
    horizon, recommended, plan_id, revenue, units_short, fill_rate, average_inventory_value,
    capacity_utilisation, total_cost, notes (the scenario's own notes).
    """
    if not has_table(con, "plan_scenarios"):
        return pd.DataFrame(columns=SCENARIO_LIST_COLUMNS)
    df = con.execute(
        "SELECT scenario_id, name, author, created_at, strategy, as_of, horizon, recommended, plan_id, kpis_json, "
        "scenario_json FROM plan_scenarios ORDER BY created_at DESC, scenario_id DESC"
    ).df()
    kpis = df.pop("kpis_json").map(lambda t: json.loads(t) if t else {})
    for k in ("revenue", "units_short", "fill_rate", "average_inventory_value", "capacity_utilisation", "total_cost"):
        df[k] = kpis.map(lambda d, k=k: d.get(k)).astype(float)
    df["notes"] = df.pop("scenario_json").map(lambda t: json.loads(t).get("notes", "") if t else "")
    df["recommended"] = df["recommended"].fillna(False).astype(bool)
    return df[SCENARIO_LIST_COLUMNS]


def load_scenario(con: duckdb.DuckDBPyConnection, name: str) -> ScenarioResult:
    """A saved scenario by name: the Scenario, its stored KPIs, adjustment notes and plan (inputs None)."""
    if not has_table(con, "plan_scenarios"):
        raise ValueError("No scenarios have been saved in this database yet.")
    rows = con.execute("SELECT * FROM plan_scenarios WHERE name = $n", {"n": str(name)}).df()
    if rows.empty:
        raise ValueError(f"No saved scenario {name!r}.")
    r = rows.iloc[0]
    kpis = json.loads(r["kpis_json"] or "{}")
    baseline, basis = kpis.pop("baseline", None), kpis.pop("basis", None)
    return ScenarioResult(
        scenario=Scenario.from_json(r["scenario_json"]), plan=load_plan(con, int(r["plan_id"])),
        kpis=kpis, adjustments=tuple(json.loads(r["notes_json"] or "[]")),
        scenario_id=int(r["scenario_id"]), recommended=bool(r["recommended"]) if pd.notna(r["recommended"]) else False,
        baseline_kpis=baseline, basis=basis,
    )


@access.requires("scenario")
def mark_recommended(db_path, name: str, by: str | None = None) -> None:
    """Make ``name`` the one recommended scenario (every other loses the flag). One db.writer transaction."""
    by = _text(by, "Who recommends", MAX_NAME)
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        found = con.execute("SELECT count(*) FROM plan_scenarios WHERE name = $n", {"n": name}).fetchall()[0][0]
        access.note(target=f"scenario {name}", after={"recommended": True})
        if not found:
            raise ValueError(f"No saved scenario {name!r} to recommend.")
        con.execute(
            "UPDATE plan_scenarios SET recommended = (name = $n), "
            "recommended_by = CASE WHEN name = $n THEN $by END, recommended_at = CASE WHEN name = $n THEN $at END",
            {"n": name, "by": by or None, "at": datetime.now(UTC).replace(tzinfo=None)},
        )


def recommended_scenario(con: duckdb.DuckDBPyConnection) -> str | None:
    """The name of the recommended scenario, or None."""
    if not has_table(con, "plan_scenarios"):
        return None
    rows = con.execute("SELECT name FROM plan_scenarios WHERE recommended").fetchall()
    return rows[0][0] if rows else None



def rerun_scenario(con: duckdb.DuckDBPyConnection, db_path, name: str, as_of, *, user=None) -> ScenarioResult:
    """Run a saved scenario again on the current data (``as_of``, its horizon) and save it over the old one with
    its new baseline and basis; a recommended scenario stays recommended. ``user``: who does it (the writes are
    :func:`save_scenario` and :func:`mark_recommended`, each checked). Returns the new result."""
    from analytics.planning.scenarios.run import run_scenario

    old = load_scenario(con, name)
    result = run_scenario(con, as_of, len(old.plan.months), old.scenario)
    save_scenario(db_path, old.scenario, result, replace=True, user=user)
    if old.recommended:
        mark_recommended(db_path, name, by=old.scenario.author or None, user=user)
    return result
