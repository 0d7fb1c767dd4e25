"""Connect, schema, and the one writer path.

Readers and writers never share a file handle:

* Readers (the dashboard, ``kpis`` on the command line) open an in-memory DuckDB
  and ``ATTACH`` the database file read-only. Many processes can do this at once.
* Writers (import, demo, targets, mappings) go through :func:`writer`: under an
  exclusive lock file they copy the database to a temporary file, change the
  copy in one transaction, checkpoint it, and atomically rename it over the
  original. A reader that is mid-query keeps reading the old file; the next
  reader sees the new one. A crash or a ``kill -9`` at any point leaves either
  the old file or the new one, never a mix: the rename is the commit point.

Every write bumps ``meta.data_version``; the app keys its caches on
:func:`version_key` (inode + mtime of the file), so a new import shows on the
next rerun without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.schema import CONTRACT, DUCKDB_TYPE, LOAD_ORDER, create_table_sql

DEFAULT_DB = "data/sop.duckdb"
SCHEMA_VERSION = 1
ALIAS = "sop"


class DatabaseError(RuntimeError):
    """A problem with the database file, with a message that says what to do next."""


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """--db argument, else the SOP_DB environment variable, else data/sop.duckdb."""
    return Path(path or os.environ.get("SOP_DB") or DEFAULT_DB)


def version_key(path: str | os.PathLike) -> tuple[int, int, int]:
    """Changes whenever a writer lands a new file: (inode, mtime_ns, size). Keys caches."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------- schema

APP_TABLES_SQL = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    # One row per KPI: the target and the amber band (see kpis.traffic_light).
    """CREATE TABLE IF NOT EXISTS kpi_targets (
        kpi VARCHAR PRIMARY KEY, target DOUBLE, amber_tolerance DOUBLE,
        updated_by VARCHAR, updated_at TIMESTAMP)""",
    # Saved column mappings: per source system and table, source column -> contract column.
    """CREATE TABLE IF NOT EXISTS column_mappings (
        source VARCHAR, table_name VARCHAR, mapping_json VARCHAR, updated_at TIMESTAMP,
        PRIMARY KEY (source, table_name))""",
    # Saved mapping files (analytics/ingest/map.py): one TOML text per source system.
    """CREATE TABLE IF NOT EXISTS source_mappings (
        source VARCHAR PRIMARY KEY, mapping_toml VARCHAR, updated_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS import_log (
        import_id BIGINT, imported_at TIMESTAMP, mode VARCHAR, source VARCHAR,
        tables_json VARCHAR, notes_json VARCHAR)""",
    # One row per forecast cell a planner changed (analytics/demand.py): who, when, why, from what to what.
    # snapshot_date = the consensus snapshot the save wrote; base_* = the snapshot it was copied from.
    """CREATE TABLE IF NOT EXISTS forecast_overrides (
        override_id BIGINT PRIMARY KEY, created_at TIMESTAMP, created_by VARCHAR, snapshot_date DATE,
        level VARCHAR, target VARCHAR, sku VARCHAR, period DATE, base_qty DOUBLE, new_qty DOUBLE,
        unit VARCHAR, input_value DOUBLE, reason VARCHAR, base_source VARCHAR, base_snapshot_date DATE)""",
]


# Written by forecast runs (analytics/forecasting/batch.py); unique_id = sku, or 'family:<name>'.
FORECAST_TABLES_SQL = [
    """CREATE TABLE IF NOT EXISTS forecast_runs (
        run_id BIGINT PRIMARY KEY, started_at TIMESTAMP, snapshot_date DATE, horizon INTEGER, n_series INTEGER,
        n_failed INTEGER, seconds DOUBLE, executor VARCHAR, notes_json VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS forecast_leaderboard (
        run_id BIGINT, unique_id VARCHAR, model VARCHAR, wmape DOUBLE, mase DOUBLE, smape DOUBLE, bias DOUBLE,
        chosen BOOLEAN, notes VARCHAR, demand_class VARCHAR, reason VARCHAR, error_sigma_lag1 DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS forecast_intervals (
        run_id BIGINT, snapshot_date DATE, unique_id VARCHAR, period DATE, model VARCHAR,
        mean DOUBLE, lo80 DOUBLE, hi80 DOUBLE, lo95 DOUBLE, hi95 DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS forecast_backtests (
        run_id BIGINT, unique_id VARCHAR, cutoff_period DATE, period DATE, step INTEGER, model VARCHAR,
        forecast DOUBLE, y DOUBLE)""",
    # forecast_intervals holds the reconciled (coherent) forecasts; the engine's own per-series forecasts
    # before reconciliation are kept here, and how the run reconciled in forecast_reconciliation.
    """CREATE TABLE IF NOT EXISTS forecast_base (
        run_id BIGINT, snapshot_date DATE, unique_id VARCHAR, period DATE, model VARCHAR,
        mean DOUBLE, lo80 DOUBLE, hi80 DOUBLE, lo95 DOUBLE, hi95 DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS forecast_reconciliation (
        run_id BIGINT, method VARCHAR, shrinkage DOUBLE, residual_samples INTEGER, notes VARCHAR)""",
]


# Saved production plans (analytics/planning): one row per named version, its sku x month lines, the
# sku-level inputs it was built from and the work-center x month capacity it was checked against.
PLANNING_TABLES_SQL = [
    """CREATE TABLE IF NOT EXISTS plan_versions (
        plan_id BIGINT PRIMARY KEY, name VARCHAR, version INTEGER, strategy VARCHAR, author VARCHAR,
        created_at TIMESTAMP, as_of DATE, first_period DATE, horizon INTEGER, settings_json VARCHAR,
        totals_json VARCHAR, notes_json VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS plan_lines (
        plan_id BIGINT, sku VARCHAR, family VARCHAR, work_center VARCHAR, period DATE, forecast DOUBLE,
        backlog DOUBLE, demand DOUBLE, demand_source VARCHAR, open_receipts DOUBLE, production DOUBLE,
        projected_inventory DOUBLE, safety_stock DOUBLE, shortfall DOUBLE, days_of_supply DOUBLE,
        load_hours DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS plan_products (
        plan_id BIGINT, sku VARCHAR, family VARCHAR, work_center VARCHAR, unit_cost DOUBLE, unit_price DOUBLE,
        hours_per_unit DOUBLE, on_hand DOUBLE, safety_stock DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS plan_capacity (
        plan_id BIGINT, work_center VARCHAR, period DATE, available_hours DOUBLE, overtime_allowed_hours DOUBLE,
        overtime_hours DOUBLE, load_hours DOUBLE, capacity_source VARCHAR)""",
    # What-if scenarios (analytics/planning/scenarios/): the scenario JSON, its KPIs and adjustment notes;
    # its plan is a plan version ("Scenario: <name>"). At most one row is recommended.
    """CREATE TABLE IF NOT EXISTS plan_scenarios (
        scenario_id BIGINT PRIMARY KEY, name VARCHAR UNIQUE, author VARCHAR, created_at TIMESTAMP,
        strategy VARCHAR, as_of DATE, horizon INTEGER, scenario_json VARCHAR, kpis_json VARCHAR,
        notes_json VARCHAR, plan_id BIGINT, recommended BOOLEAN, recommended_by VARCHAR,
        recommended_at TIMESTAMP)""",
    # Requests from sales to production (analytics/planning/requests.py): the ask and the planner's answer.
    """CREATE TABLE IF NOT EXISTS production_requests (
        request_id BIGINT PRIMARY KEY, created_at TIMESTAMP, requested_by VARCHAR, sku VARCHAR,
        customer_id VARCHAR, quantity DOUBLE, requested_date DATE, partial_qty_now DOUBLE, rest_by_date DATE,
        latest_acceptable_date DATE, flexibility VARCHAR, quoted_price DOUBLE, atp_summary VARCHAR,
        status VARCHAR, decision VARCHAR, answer_note VARCHAR, answered_by VARCHAR, answered_at TIMESTAMP,
        proposed_date DATE, proposed_qty DOUBLE)""",
]


# The monthly S&OP summit (analytics/summit): each summit with the content it froze at its start (one row
# per frozen frame, as JSON), its decisions and actions (with their status history) and the pulse answers.
SUMMIT_TABLES_SQL = [
    """CREATE TABLE IF NOT EXISTS summits (
        summit_id BIGINT PRIMARY KEY, month DATE, title VARCHAR, facilitator VARCHAR, created_at TIMESTAMP,
        as_of DATE, data_version BIGINT, versions_json VARCHAR, notes_json VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS summit_frames (
        summit_id BIGINT, name VARCHAR, position INTEGER, frame_json VARCHAR, PRIMARY KEY (summit_id, name))""",
    """CREATE TABLE IF NOT EXISTS summit_actions (
        action_id BIGINT PRIMARY KEY, summit_id BIGINT, kind VARCHAR, text VARCHAR, owner VARCHAR, due DATE,
        status VARCHAR, source_exception VARCHAR, source_detail VARCHAR, created_at TIMESTAMP, created_by VARCHAR,
        updated_at TIMESTAMP, updated_by VARCHAR, last_note VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS summit_action_log (
        log_id BIGINT PRIMARY KEY, action_id BIGINT, logged_at TIMESTAMP, status VARCHAR, note VARCHAR,
        by_user VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS summit_pulse (
        pulse_id BIGINT PRIMARY KEY, summit_id BIGINT, side VARCHAR, score INTEGER, note VARCHAR, by_user VARCHAR,
        created_at TIMESTAMP)""",
]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create contract, app and fact tables that do not exist yet (idempotent)."""
    for name in LOAD_ORDER:
        con.execute(create_table_sql(CONTRACT[name]))
    _migrate_contract(con)
    from analytics.access import AUDIT_SQL

    for sql in APP_TABLES_SQL + FORECAST_TABLES_SQL + PLANNING_TABLES_SQL + SUMMIT_TABLES_SQL + [AUDIT_SQL]:
        con.execute(sql)
    row = _first_row(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    if row is None:
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', $v), ('data_version', '0')",
            {"v": str(SCHEMA_VERSION)},
        )
    elif int(row[0]) > SCHEMA_VERSION:
        raise DatabaseError(
            f"The database was written by a newer version of this tool (schema {row[0]}, "
            f"this version knows {SCHEMA_VERSION}). Upgrade the dashboard or point SOP_DB at another file."
        )
    if _first_row(con, "SELECT value FROM meta WHERE key = 'smape_unit'") is None:
        # Leaderboards written before sMAPE became a fraction (like wmape) hold it in percent: convert them once.
        con.execute("UPDATE forecast_leaderboard SET smape = smape / 100 WHERE smape IS NOT NULL")
        con.execute("INSERT INTO meta VALUES ('smape_unit', 'fraction')")
    rebuild_facts(con, only_missing=True)


def _migrate_contract(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a database written by an older contract up to date: add new optional columns (orders.region)
    and drop NOT NULL from columns that became optional (products.unit_cost, work_center, ...)."""
    rows = con.execute(
        "SELECT table_name, column_name, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    stored = {(t, c): nullable for t, c, nullable in rows}
    for name in LOAD_ORDER:
        table = CONTRACT[name]
        for c in table.columns:
            if (name, c.name) not in stored:  # identifiers are constants from the contract
                con.execute(f"ALTER TABLE {name} ADD COLUMN {c.name} {DUCKDB_TYPE[c.type]}")  # constant
            elif not stored[(name, c.name)] and (c.nullable or not c.required) and not c.key:
                con.execute(f"ALTER TABLE {name} ALTER COLUMN {c.name} DROP NOT NULL")  # constant


# Derived, denormalised tables rebuilt in the same transaction as every import.
# They make KPI queries single-table scans (see kpis.py).
FACT_SQL = {
    # grain: one row per order line, with its delivery outcome. region = the line's ship-to region when the
    # orders carry one, else the customer's.
    "fact_order_lines": """
        CREATE OR REPLACE TABLE fact_order_lines AS
        WITH d AS (
            SELECT d.order_id, d.line_no, d.delivered_date, d.quantity,
                   coalesce(trim(d.error_code), '') <> '' AS is_error,
                   sum(d.quantity) OVER (
                       PARTITION BY d.order_id, d.line_no
                       ORDER BY d.delivered_date, d.delivery_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum_qty
            FROM deliveries d
        ), agg AS (
            SELECT d.order_id, d.line_no,
                   sum(d.quantity) AS delivered_qty,
                   count(*) AS n_deliveries,
                   bool_or(d.is_error) AS has_error,
                   min(CASE WHEN d.cum_qty >= o.quantity THEN d.delivered_date END) AS completion_date,
                   sum(CASE WHEN d.delivered_date <= o.promised_date THEN d.quantity ELSE 0 END) AS qty_by_promised,
                   sum(CASE WHEN d.delivered_date <= o.requested_date THEN d.quantity ELSE 0 END) AS qty_by_requested
            FROM d JOIN orders o USING (order_id, line_no)
            GROUP BY d.order_id, d.line_no
        )
        SELECT o.order_id, o.line_no, o.customer_id, o.sku,
               p.family, p.work_center, coalesce(o.region, c.region) AS region, c.segment,
               o.order_date, o.requested_date, o.promised_date,
               o.quantity, o.unit_price, p.unit_cost,
               coalesce(a.delivered_qty, 0) AS delivered_qty,
               coalesce(a.n_deliveries, 0) AS n_deliveries,
               coalesce(a.has_error, false) AS has_error,
               a.completion_date,
               coalesce(a.qty_by_promised, 0) AS qty_by_promised,
               coalesce(a.qty_by_requested, 0) AS qty_by_requested
        FROM orders o
        LEFT JOIN products p USING (sku)
        LEFT JOIN customers c USING (customer_id)
        LEFT JOIN agg a USING (order_id, line_no)
        ORDER BY o.order_date
    """,
    # grain: one row per delivery, with the attributes KPIs filter on.
    "fact_deliveries": """
        CREATE OR REPLACE TABLE fact_deliveries AS
        SELECT d.delivery_id, d.order_id, d.line_no, d.ship_date, d.delivered_date, d.quantity,
               coalesce(trim(d.error_code), '') <> '' AS is_error,
               o.customer_id, o.sku, p.family, p.work_center, coalesce(o.region, c.region) AS region, c.segment,
               p.unit_cost
        FROM deliveries d
        JOIN orders o USING (order_id, line_no)
        LEFT JOIN products p ON p.sku = o.sku
        LEFT JOIN customers c ON c.customer_id = o.customer_id
        ORDER BY d.ship_date
    """,
    # grain: one row per sku x month with orders (actual demand = ordered quantity by order_date).
    "fact_demand_monthly": """
        CREATE OR REPLACE TABLE fact_demand_monthly AS
        SELECT o.sku, date_trunc('month', o.order_date)::DATE AS month,
               sum(o.quantity) AS qty, sum(o.quantity * coalesce(o.unit_price, p.unit_price)) AS revenue
        FROM orders o LEFT JOIN products p USING (sku)
        GROUP BY ALL
        ORDER BY month, sku
    """,
}


def rebuild_facts(con: duckdb.DuckDBPyConnection, only_missing: bool = False) -> None:
    """Recompute the derived fact tables from the contract tables."""
    existing = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    for name, sql in FACT_SQL.items():
        if only_missing and name in existing:
            continue
        con.execute(sql)


# --------------------------------------------------------------------------- readers


def open_reader(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the database file (safe beside other readers and writers).

    Use :func:`cursor` to get a per-thread cursor from it.
    """
    p = resolve_db_path(path)
    if not p.exists():
        raise DatabaseError(
            f"No database at {p}. Build the demo company with `python -m analytics demo --db {p}` "
            f"or import your data with `python -m analytics import --db {p} FOLDER`."
        )
    con = duckdb.connect()
    try:
        con.execute("ATTACH $p AS sop (READ_ONLY)", {"p": str(p)})
        con.execute("USE sop")
        _check_version(con)
    except duckdb.Error as e:
        con.close()
        raise DatabaseError(_explain(p, e)) from e
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor for one thread, pointed at the attached database."""
    cur = con.cursor()
    cur.execute("USE sop")
    return cur


def _check_version(con: duckdb.DuckDBPyConnection) -> None:
    try:
        row = _first_row(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    except duckdb.CatalogException as e:
        raise DatabaseError("The file is a DuckDB database but not an S&OP dashboard database (no meta table).") from e
    if row and int(row[0]) > SCHEMA_VERSION:
        raise DatabaseError(
            f"The database was written by a newer version of this tool (schema {row[0]}, this version "
            f"knows {SCHEMA_VERSION}). Upgrade the dashboard or point SOP_DB at another file."
        )


def _explain(path: Path, err: Exception) -> str:
    msg = str(err)
    if "lock" in msg.lower():
        return f"The database {path} is locked by another program ({msg}). Close it and retry."
    if "not a valid duckdb" in msg.lower() or "corrupt" in msg.lower() or "magic" in msg.lower():
        return (
            f"The file {path} is not a readable DuckDB database ({msg}). Restore a backup or rebuild it "
            f"with `python -m analytics demo --db {path}` / `import`."
        )
    if "version" in msg.lower():
        return f"The database {path} was written by a different DuckDB version ({msg})."
    return f"Cannot open the database {path}: {msg}"


def _first_row(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None):
    """The first row or None, reading the result to the end: DuckDB 2.0 keeps a half-read result open on
    the connection (fetchone) and refuses further .sql() work on it."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else None


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    row = _first_row(con, "SELECT value FROM meta WHERE key = 'data_version'")
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- the writer path


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def writer(
    path: str | os.PathLike | None = None, *, fresh: bool = False, keep_settings: bool = True,
    start_from: str | os.PathLike | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one way to change the database: copy, change in one transaction, atomic rename.

    ``fresh=True`` starts from an empty database instead of a copy (replace-all imports and the demo
    builder); it still carries the data version and, with ``keep_settings``, the site's targets, mappings,
    import log and forecast history. If the body raises, nothing changes. ``start_from`` copies another
    database file instead (restoring a backup).

    Only a write checked by :func:`analytics.access.requires` (or ``access.acting_as``) may open a writer: the
    actor's audit row is written in the same transaction. Imports, forecast runs and restores first keep a
    copy of the current file (:mod:`analytics.backup_files`).
    """
    from analytics import access, backup_files

    actor = access.current()
    if actor is None:
        raise access.PermissionDenied(
            "Refused: a database write outside a checked write function (analytics.access.requires)."
        )
    p = resolve_db_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(p):
        # Under the lock no other writer is active: files left by a killed writer can go.
        for stale in p.parent.glob(p.name + ".*.writing*"):
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=p.name + ".", suffix=".writing", dir=p.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            if start_from is not None:
                shutil.copyfile(start_from, tmp)
            elif p.exists() and not fresh:
                shutil.copyfile(p, tmp)
            if actor.action in backup_files.BEFORE_ACTIONS and p.exists():
                backup_files.take(p, actor.action)  # p cannot change under the lock: the link is the old data
            con = duckdb.connect(str(tmp))
            try:
                ensure_schema(con)
                if fresh and p.exists():
                    _carry_settings(con, p, keep_settings)
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                    access.write_audit_row(con, actor)
                    con.execute(
                        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'"
                    )
                    con.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('updated_at', $t)",
                        {"t": datetime.now(UTC).isoformat(timespec="seconds")},
                    )
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("CHECKPOINT")
            finally:
                con.close()
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, p)  # the commit point
            dir_fd = os.open(p.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                if leftover.exists():
                    leftover.unlink()


def _carry_settings(con: duckdb.DuckDBPyConnection, old: Path, keep_settings: bool = True) -> None:
    """A fresh (replace-all) database keeps the site's targets, mappings and import log."""
    con.execute("ATTACH $p AS old_db (READ_ONLY)", {"p": str(old)})
    try:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old_db'"
            ).fetchall()
        }
        kept = ("kpi_targets", "column_mappings", "source_mappings", "import_log", "forecast_runs",
                "forecast_leaderboard", "forecast_intervals", "forecast_backtests", "forecast_base",
                "forecast_reconciliation", "forecast_overrides",
                "plan_versions", "plan_lines", "plan_products", "plan_capacity",
                "plan_scenarios", "production_requests",
                "summits", "summit_frames", "summit_actions", "summit_action_log", "summit_pulse")
        new_tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
        # constant names: settings and app history survive; the audit log always does (a new demo company
        # must not wipe the record of who changed what)
        for t in (kept if keep_settings else ()) + ("audit_log",):
            if t in tables and t in new_tables:
                con.execute(f"INSERT INTO {t} SELECT * FROM old_db.{t}")  # constant: t from the schema
        if keep_settings and "forecast_leaderboard" in tables and (
                "meta" not in tables
                or not con.execute("SELECT 1 FROM old_db.meta WHERE key = 'smape_unit'").fetchall()):
            # carried from a file written before sMAPE became a fraction (see ensure_schema)
            con.execute("UPDATE forecast_leaderboard SET smape = smape / 100 WHERE smape IS NOT NULL")
        if "meta" in tables:  # the data version keeps counting across replace-all writes
            con.execute(
                "UPDATE meta SET value = (SELECT value FROM old_db.meta WHERE key = 'data_version') "
                "WHERE key = 'data_version' AND EXISTS (SELECT 1 FROM old_db.meta WHERE key = 'data_version')"
            )
    finally:
        con.execute("DETACH old_db")


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value) -> None:
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($k, $v)",
        {"k": key, "v": value if isinstance(value, str) else json.dumps(value)},
    )


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default=None):
    row = _first_row(con, "SELECT value FROM meta WHERE key = $k", {"k": key})
    return row[0] if row else default


# meta key: {"supplied": {table: [contract columns the imported files held]},
#            "substituted": {"table.column": "the column it was filled from"}}. Absent (the demo, databases
# written before it existed): every column counts as supplied.
SUPPLIED = "columns_supplied"


def record_supplied(con: duckdb.DuckDBPyConnection, supplied: dict[str, list[str]], substituted: dict[str, str],
                    replace: bool) -> None:
    """Store which contract columns an import brought (call inside :func:`writer`).

    Replace: the record is exactly this import's. Upsert: tables in the import are merged with what earlier
    imports brought (rows from those imports are still there), other tables keep their record."""
    old = {} if replace else supplied_columns(con) or {}
    merged = {t: list(cols) for t, cols in (old.get("supplied") or {}).items()}
    for t, cols in supplied.items():
        merged[t] = sorted(set(merged.get(t, [])) | set(cols)) if not replace else list(cols)
    subs = {} if replace else dict(old.get("substituted") or {})
    for t in supplied:  # a table imported again with the real column drops its substitution
        for k in [k for k in subs if k.startswith(f"{t}.") and k.split(".", 1)[1] in supplied[t]]:
            subs.pop(k)
    subs.update(substituted)
    set_meta(con, SUPPLIED, {"supplied": merged, "substituted": subs})


def supplied_columns(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The record of :func:`record_supplied`, or None when no import wrote one (every column counts as supplied)."""
    raw = get_meta(con, SUPPLIED)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def column_supplied(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Did the imported data hold ``table.column`` (filled from another column counts as not supplied)?"""
    rec = supplied_columns(con)
    if rec is None:
        return True
    if f"{table}.{column}" in (rec.get("substituted") or {}):
        return False
    cols = (rec.get("supplied") or {}).get(table)
    return True if cols is None else column in cols


def substituted_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str | None:
    """The column ``table.column`` was filled from at import (e.g. delivered_date from ship_date), or None."""
    rec = supplied_columns(con)
    return None if rec is None else (rec.get("substituted") or {}).get(f"{table}.{column}")
