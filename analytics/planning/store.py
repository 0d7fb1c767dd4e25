"""Named plan versions in the database, and plan downloads (Excel, CSV).

Tables (db.PLANNING_TABLES_SQL): plan_versions (one row per saved version: name, version number within
the name, strategy, author, when, as-of, first month, horizon, settings and totals as JSON), plan_lines
(sku x month), plan_products (sku inputs) and plan_capacity (work center x month). A save is one
db.writer transaction: all four or nothing. Saving under an existing name adds the next version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from analytics import access, db, exports
from analytics.planning.capacity import capacity_load
from analytics.planning.common import PlanningError, as_date, has_table
from analytics.planning.plans import (
    CAPACITY_COLUMNS,
    COST_NAMES,
    LINE_COLUMNS,
    PRODUCT_COLUMNS,
    Plan,
    PlanSettings,
    plan_rollup,
)

VERSION_COLUMNS = ["plan_id", "name", "version", "strategy", "author", "created_at", "as_of", "first_period",
                   "horizon", "total_cost", "production_cost", "overtime_cost", "holding_cost", "backorder_cost",
                   "shortfall_cost"]


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, plan_id: int, columns: list[str]) -> None:
    data = frame[columns].copy()
    data.insert(0, "plan_id", plan_id)
    for c in data.columns:
        if data[c].dtype == object or pd.api.types.is_string_dtype(data[c]):
            data[c] = data[c].astype(object)
    con.register("plan_rows", data)
    try:
        cols = ", ".join(["plan_id", *columns])  # constant column names of this module
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM plan_rows")  # constant identifiers
    finally:
        con.unregister("plan_rows")


@access.requires("plan")
def save_plan(db_path, plan: Plan, name: str, author: str) -> int:
    """Store ``plan`` as the next version of ``name``; returns its plan_id. One db.writer transaction."""
    name = name.strip() if isinstance(name, str) else ""
    author = author.strip() if isinstance(author, str) else ""
    if not name:
        raise PlanningError("Give the plan a name (e.g. 'Budget 2027 - optimised'). Nothing was saved.")
    if not author:
        raise PlanningError("Say who saves the plan (author is empty). Nothing was saved.")
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        plan_id = int(con.execute("SELECT coalesce(max(plan_id), 0) + 1 FROM plan_versions").fetchall()[0][0])
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM plan_versions WHERE name = $n",
                                  {"n": name}).fetchall()[0][0])
        access.note(target=f"plan {name} v{version}", after={"strategy": plan.strategy, "author": author})
        totals = plan.totals()
        con.execute(
            "INSERT INTO plan_versions VALUES ($id, $name, $version, $strategy, $author, $at, $as_of, $first, "
            "$horizon, $settings, $totals, $notes)",
            {"id": plan_id, "name": name, "version": version, "strategy": plan.strategy, "author": author,
             "at": datetime.now(UTC).replace(tzinfo=None), "as_of": plan.as_of, "first": plan.months[0],
             "horizon": len(plan.months), "settings": plan.settings.to_json(), "totals": json.dumps(totals),
             "notes": json.dumps(list(plan.notes))},
        )
        _insert(con, "plan_lines", plan.lines, plan_id, LINE_COLUMNS)
        _insert(con, "plan_products", plan.products, plan_id, PRODUCT_COLUMNS)
        _insert(con, "plan_capacity", plan.capacity, plan_id, CAPACITY_COLUMNS)
    return plan_id


def list_plans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved plan versions, newest first.

    grain: one row per saved version. Columns: plan_id, name, version, strategy, author, created_at, as_of,
    first_period, horizon, total_cost, production_cost, overtime_cost, holding_cost, backorder_cost,
    shortfall_cost.
    """
    if not has_table(con, "plan_versions"):
        return pd.DataFrame(columns=VERSION_COLUMNS)
    df = con.execute(
        "SELECT plan_id, name, version, strategy, author, created_at, as_of, first_period, horizon, totals_json "
        "FROM plan_versions ORDER BY created_at DESC, plan_id DESC"
    ).df()
    totals = df.pop("totals_json").map(lambda t: json.loads(t) if t else {})
    for k in ("total_cost", *COST_NAMES):
        df[k] = totals.map(lambda d, k=k: d.get(k)).astype(float)
    return df[VERSION_COLUMNS]


def load_plan(con: duckdb.DuckDBPyConnection, name_or_id) -> Plan:
    """A saved plan by plan_id (int) or by name (its latest version)."""
    if not has_table(con, "plan_versions"):
        raise PlanningError("No plans have been saved in this database yet.")
    if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
        rows = con.execute("SELECT * FROM plan_versions WHERE plan_id = $v", {"v": name_or_id}).df()
    else:
        rows = con.execute(
            "SELECT * FROM plan_versions WHERE name = $v ORDER BY version DESC LIMIT 1", {"v": str(name_or_id)}
        ).df()
    if rows.empty:
        raise PlanningError(f"No saved plan {name_or_id!r}.")
    v = rows.iloc[0]
    pid = int(v["plan_id"])

    def read(table: str, order: str) -> pd.DataFrame:  # constant table names of this module
        return con.execute(f"SELECT * EXCLUDE (plan_id) FROM {table} WHERE plan_id = $p ORDER BY {order}",  # constants
                           {"p": pid}).df()

    lines = read("plan_lines", "sku, period")
    capacity = read("plan_capacity", "work_center, period")
    products = read("plan_products", "sku")
    totals = json.loads(v["totals_json"]) if v["totals_json"] else {}
    months = tuple(pd.Timestamp(m).date() for m in sorted(lines["period"].unique()))
    return Plan(
        strategy=v["strategy"], lines=lines[LINE_COLUMNS], capacity=capacity[CAPACITY_COLUMNS],
        products=products[PRODUCT_COLUMNS], settings=PlanSettings.from_json(v["settings_json"]),
        as_of=as_date(v["as_of"]), months=months, **{k: float(totals.get(k, 0.0)) for k in COST_NAMES},
        overtime_cost_per_hour=float(totals.get("overtime_cost_per_hour", 0.0)),
        lp_variables=totals.get("lp_variables"), lp_constraints=totals.get("lp_constraints"),
        lp_nonzeros=totals.get("lp_nonzeros"), solve_seconds=float(totals.get("solve_seconds", 0.0)),
        seconds=float(totals.get("seconds", 0.0)), notes=tuple(json.loads(v["notes_json"] or "[]")),
    )


# ---------------------------------------------------------------------------- downloads


def _summary(plan: Plan) -> pd.DataFrame:
    rows = [(k, v) for k, v in plan.totals().items()]
    rows += [(f"setting: {k}", v) for k, v in json.loads(plan.settings.to_json()).items()]
    rows += [("note", n) for n in plan.notes]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": str})


def export_plan_excel(plan: Plan) -> bytes:
    """The plan as an .xlsx workbook: Summary, Plan (sku x month), By family, By work center, Capacity.
    Text cells that a spreadsheet would run as formulas are neutralised (analytics.exports)."""
    return exports.to_excel_bytes({
        "Summary": _summary(plan),
        "Plan": plan.lines,
        "By family": plan_rollup(plan, "family"),
        "By work center": plan_rollup(plan, "work_center"),
        "Capacity": capacity_load(plan),
    })


def export_plan_csv(plan: Plan) -> bytes:
    """The plan's sku x month lines as CSV (UTF-8 with BOM, formula cells neutralised)."""
    return exports.to_csv_bytes(plan.lines)
