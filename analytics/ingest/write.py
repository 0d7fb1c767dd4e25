"""Write: one transaction through db.writer, the import log, the import history and the data audit."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics import access, db
from analytics.ingest.common import MODES, ImportReport, Problem, Progress, ReadError, Validation, _call, _one, _q
from analytics.ingest.map import _effective_mapping, apply_mapping, load_mappings
from analytics.ingest.mapfile import MappingError, MappingFile, load_mapping, load_saved_mapping, run_mapping
from analytics.ingest.read import find_files, read_notes, read_table_file
from analytics.ingest.validate import validate
from analytics.schema import (
    CONTRACT,
    DATE,
    LOAD_ORDER,
)

# =========================================================================== writing


class _Abort(Exception):
    """Raised inside the writer to roll back (with the problems that caused it)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


# Checks on the stored data after loading, inside the transaction: a last guard (e.g. against
# a concurrent writer changing parents between validation and writing). Constant SQL.
_INTEGRITY_SQL = {
    "orders referencing unknown SKUs": "SELECT count(*) FROM orders o ANTI JOIN products p USING (sku)",
    "orders referencing unknown customers": "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
    "deliveries of unknown order lines": "SELECT count(*) FROM deliveries d ANTI JOIN orders o USING (order_id, line_no)",
    "forecasts of unknown SKUs": "SELECT count(*) FROM forecasts f ANTI JOIN products p USING (sku)",
    "inventory of unknown SKUs": "SELECT count(*) FROM inventory i ANTI JOIN products p USING (sku)",
    "production of unknown SKUs": "SELECT count(*) FROM production w ANTI JOIN products p USING (sku)",
    "surveys of unknown customers": "SELECT count(*) FROM surveys s ANTI JOIN customers c USING (customer_id)",
}


@access.requires("import")
def import_frames(
    db_path: str | Path | None,
    frames: Mapping[str, pd.DataFrame],
    file_names: Mapping[str, str] | None = None,
    mode: str = "replace",
    source: str | None = None,
    progress: Progress | None = None,
    *,
    _problems: Iterable[Problem] = (),
    _notes: Iterable[str] = (),
) -> ImportReport:
    """Validate ``frames`` completely, then (only if there is no problem) write them in one
    transaction: ``replace`` = the frames become the data (other contract tables emptied),
    ``upsert`` = insert or replace by key (surveys: append, skipping stored duplicates).
    Rebuilds the fact tables and logs the import in the same transaction."""
    t0 = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    path = db.resolve_db_path(db_path)
    notes = list(_notes)

    def stage(a: float, b: float) -> Progress:
        return lambda f, m: _call(progress, a + (b - a) * f, m)

    existing = db.open_reader(path) if path.exists() else None
    try:
        val = validate(frames, file_names, mode, existing, progress=stage(0.3, 0.6), _problems=_problems)
    finally:
        if existing is not None:
            existing.close()
    notes += val.notes

    def report(ok: bool, problems: list[Problem], count: int, **kw) -> ImportReport:
        return ImportReport(
            ok=ok,
            mode=mode,
            rows=dict(val.rows),
            problems=problems,
            notes=notes,
            seconds=time.perf_counter() - t0,
            problem_count=count,
            source=source,
            db_path=str(path),
            **kw,
        )

    def rejected(problems: list[Problem], count: int) -> ImportReport:
        _call(progress, 1.0, "not imported: see the problems")
        out = report(False, problems, count)
        log_rejected(path, out, file_names)
        return out

    if not val.ok:
        return rejected(val.problems, val.problem_count)
    try:
        totals, import_id = _write(path, val, mode, source, notes, stage(0.6, 1.0))
    except _Abort as e:
        return rejected(e.problems, len(e.problems))
    except duckdb.ConstraintException as e:  # validation should make this impossible
        problem = Problem("database", None, None, f"the database rejected the data ({e}); nothing was written")
        return rejected([problem], 1)
    return report(True, [], 0, totals=totals, import_id=import_id)


#: Rejected imports kept in the log beside the database (newest last).
REJECTED_KEEP = 50


def rejected_log_path(db_path: str | Path) -> Path:
    """The rejected-import log beside the database: a rejected import never changes the database file itself,
    so the import history's rejected attempts live here (JSON lines)."""
    p = Path(db_path)
    return p.with_name(p.name + ".rejected-imports.jsonl")


def log_rejected(db_path: Path, report: ImportReport, file_names: Mapping[str, str] | None = None) -> None:
    """Record a rejected import for the import history (only for an existing database; never raises)."""
    if not db_path.exists():
        return
    log = rejected_log_path(db_path)
    entry = {
        "at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds"), "mode": report.mode,
        "source": report.source, "files": sorted(set((file_names or {}).values())),
        "problem_count": report.problem_count or len(report.problems),
        "problems": [str(p) for p in report.problems[:20]],
        "user": actor.user.name if (actor := access.current()) is not None else None,
    }
    with contextlib.suppress(OSError):
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        lines = [*lines, json.dumps(entry)][-REJECTED_KEEP:]
        tmp = log.with_name(log.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, log)


def rejected_imports(db_path: str | Path | None) -> list[dict]:
    """The rejected imports recorded beside the database, newest first."""
    if db_path is None:
        return []
    log = rejected_log_path(db.resolve_db_path(db_path))
    out = []
    with contextlib.suppress(OSError):
        for line in reversed(log.read_text(encoding="utf-8").splitlines() if log.exists() else []):
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out


def _write(
    path: Path, val: Validation, mode: str, source: str | None, notes: list[str], progress: Progress
) -> tuple[dict[str, int], int]:
    names = [t for t in LOAD_ORDER if t in val.tables]
    before = None
    if path.exists():
        with contextlib.suppress(db.DatabaseError, duckdb.Error):
            reader = db.open_reader(path)
            try:  # constant contract table names
                before = {t: _one(reader, f"SELECT count(*) FROM {t}")[0] for t in names}
            finally:
                reader.close()
    # before / after: the rows stored in each table the import touches (an upsert adds to the stored rows, so
    # "after" is never the rows imported); rows_imported: the rows of each file
    access.note(
        target=f"{mode} import" + (f" from {source}" if source else ""),
        before=before,
        rows_imported={t: int(val.rows[t]) for t in names},
    )
    with db.writer(path, fresh=(mode == "replace")) as con:
        for i, t in enumerate(names):
            progress(0.05 + 0.6 * i / max(1, len(names)), f"writing {t} ({val.rows[t]:,} rows)")
            cols = ", ".join(_q(c) for c in CONTRACT[t].column_names)  # constant contract names
            con.register("__src", val.tables[t])
            try:
                if mode == "upsert" and not CONTRACT[t].key:
                    before = _one(con, f"SELECT count(*) FROM {t}")[0]
                    # constant: t and cols are contract table and column names (schema.CONTRACT), never user text
                    con.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM __src EXCEPT ALL SELECT {cols} FROM {t}")  # constant
                    added = _one(con, f"SELECT count(*) FROM {t}")[0] - before
                    if added < val.rows[t]:
                        notes.append(f"{t}: {val.rows[t] - added:,} rows already stored were skipped")
                elif mode == "upsert":
                    con.execute(f"INSERT OR REPLACE INTO {t} ({cols}) SELECT {cols} FROM __src")  # constant
                else:
                    con.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM __src")  # constant
            finally:
                con.unregister("__src")
        if mode == "replace" and "forecasts" not in val.tables and path.exists():
            notes.extend(_keep_forecast_history(con, path))
        progress(0.7, "rebuilding fact tables")
        db.rebuild_facts(con)
        progress(0.85, "checking the stored data")
        bad = []
        for what, sql in _INTEGRITY_SQL.items():
            n = _one(con, sql)[0]
            if n:
                bad.append(Problem("database", None, None, f"{n:,} {what} after loading; nothing was written"))
        if bad:
            raise _Abort(bad)
        totals = {t: _one(con, f"SELECT count(*) FROM {t}")[0] for t in LOAD_ORDER}
        access.note(after={t: int(totals[t]) for t in names})
        db.record_supplied(con, val.supplied, val.substituted, replace=(mode == "replace"))
        import_id = _one(con, "SELECT coalesce(max(import_id), 0) + 1 FROM import_log")[0]
        con.execute(
            "INSERT INTO import_log VALUES ($id, $at, $mode, $source, $tables, $notes)",
            {
                "id": import_id,
                "at": datetime.now(UTC).replace(tzinfo=None),
                "mode": mode,
                "source": source,
                "tables": json.dumps(val.rows),
                "notes": json.dumps(notes),
            },
        )
        progress(0.9, "saving")
    progress(1.0, "imported")
    return totals, int(import_id)


def _keep_forecast_history(con: duckdb.DuckDBPyConnection, old_path: Path) -> list[str]:
    """Replace-all without a forecasts file keeps the stored forecast snapshots.

    Forecasts are history the dashboard itself writes (statistical runs, consensus overrides) and that an
    ERP export does not carry; a monthly refresh must not erase them. Snapshots of SKUs that are no longer
    in the new products file are dropped, and the note says how many.
    """
    previous = db.open_reader(old_path)  # a separate read-only handle: no cross-database work in this transaction
    try:
        old = previous.sql("SELECT * FROM forecasts").to_arrow_table()
    finally:
        previous.close()
    total = old.num_rows
    con.register("__previous_forecasts", old)
    try:
        con.execute(
            "INSERT INTO forecasts SELECT f.* FROM __previous_forecasts f WHERE f.sku IN (SELECT sku FROM products)"
        )
    finally:
        con.unregister("__previous_forecasts")
    kept = _one(con, "SELECT count(*) FROM forecasts")[0]
    if not total:
        return []
    note = f"forecasts: no file given, kept the {kept:,} stored forecast rows (the forecast history)"
    if total > kept:
        note += f"; dropped {total - kept:,} rows of SKUs no longer in products"
    return [note]


@access.requires("import")
def import_folder(
    db_path: str | Path | None,
    folder: str | Path,
    mode: str = "replace",
    source: str | None = None,
    mappings: Mapping[str, Mapping[str, str | None]] | None = None,
    progress: Progress | None = None,
    mapping: MappingFile | str | Path | None = None,
) -> ImportReport:
    """Read every contract file in ``folder``, map its columns, validate and import.

    With a mapping file (``mapping``: a :class:`MappingFile` or the path of its TOML, or the one saved for
    ``source``), the files are whatever the mapping names (:func:`import_mapped`). Otherwise files are named
    after the contract tables, and column mappings are ``mappings`` ({table: {source column: contract
    column}}) if given, else the per-table mappings saved for ``source`` (if any), completed by
    :func:`suggest_mapping` for columns they do not cover.
    """
    t0 = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    path = db.resolve_db_path(db_path)
    if mapping is None and source and mappings is None and path.exists():
        con = db.open_reader(path)
        try:
            mapping = load_saved_mapping(con, source)
        finally:
            con.close()
    if mapping is not None:
        return _import_mapped(path, folder, mapping, mode, progress, t0)
    files, problems, notes = find_files(folder)
    if not Path(folder).is_dir():
        return ImportReport(
            ok=False,
            mode=mode,
            rows={},
            problems=problems,
            notes=notes,
            seconds=time.perf_counter() - t0,
            problem_count=len(problems),
            source=source,
            db_path=str(path),
        )
    saved: dict[str, dict[str, str | None]] = {}
    if mappings is not None:
        saved = {t: dict(m) for t, m in mappings.items()}
    elif source and path.exists():
        con = db.open_reader(path)
        try:
            saved = load_mappings(con, source)
        finally:
            con.close()
        if not saved:
            notes.append(f"no saved column mapping for source {source!r}: used suggested mappings")
    frames: dict[str, pd.DataFrame] = {}
    # Tables with several files are already reported: name them so they are not reported missing too.
    file_names: dict[str, str] = {p.file: p.file for p in problems if p.file in CONTRACT}
    total_bytes = sum(f.stat().st_size for f in files.values()) or 1
    done = 0
    for t in LOAD_ORDER:
        f = files.get(t)
        if f is None:
            continue
        _call(progress, 0.3 * done / total_bytes, f"reading {f.name}")
        done += f.stat().st_size
        file_names[t] = f.name
        try:
            df = read_table_file(f)
        except ReadError as e:
            problems.append(Problem(f.name, None, None, str(e).removeprefix(f"{f.name}: ")))
            continue
        mapping = _effective_mapping(t, [str(c) for c in df.columns], saved.get(t))
        renamed = {s: m for s, m in mapping.items() if s != m}
        if renamed:
            notes.append(
                f"{f.name}: columns mapped: "
                + ", ".join(f"{s} -> {m}" if m else f"{s} ignored" for s, m in renamed.items())
            )
        notes.extend(read_notes(df, f.name))
        frames[t] = apply_mapping(df, mapping)
    report = import_frames(
        path, frames, file_names, mode=mode, source=source, progress=progress, _problems=problems, _notes=notes
    )
    report.seconds = time.perf_counter() - t0
    return report


# =========================================================================== audit


def import_history(
    con: duckdb.DuckDBPyConnection, limit: int | None = None, db_path: str | Path | None = None
) -> pd.DataFrame:
    """The import history, newest first: import_id, imported_at, mode, source, rows, tables, notes, status
    ("imported" or "rejected"), problem_count, problems. Rejected imports (from the log beside the database
    ``db_path``, when given) have no import_id and no rows."""
    sql = (
        "SELECT import_id, imported_at, mode, source, tables_json, notes_json FROM import_log "
        "ORDER BY import_id DESC"
    )
    rows = con.execute(sql + (" LIMIT $n" if limit else ""), {"n": limit} if limit else {}).fetchall()
    out = []
    for import_id, at, mode, source, tables_json, notes_json in rows:
        tables = json.loads(tables_json) if tables_json else {}
        out.append({
            "import_id": import_id, "imported_at": at, "mode": mode, "source": source,
            "rows": int(sum(v for v in tables.values() if isinstance(v, (int, float)))), "tables": tables,
            "notes": json.loads(notes_json) if notes_json else [], "status": "imported", "problem_count": 0,
            "problems": [],
        })
    for r in rejected_imports(db_path):
        with contextlib.suppress(KeyError, ValueError, TypeError):
            out.append({
                "import_id": None, "imported_at": datetime.fromisoformat(r["at"]), "mode": r["mode"],
                "source": r.get("source"), "rows": 0, "tables": {}, "notes": [], "status": "rejected",
                "problem_count": int(r["problem_count"]), "problems": list(r.get("problems") or []),
                "files": list(r.get("files") or []),
            })
    out.sort(key=lambda r: r["imported_at"], reverse=True)
    cols = ["import_id", "imported_at", "mode", "source", "rows", "tables", "notes", "status", "problem_count",
            "problems"]
    return pd.DataFrame(out[:limit] if limit else out, columns=cols)


# Referential checks on the stored data (constant SQL). "expect 0" checks must be 0.
_AUDIT_CHECKS: tuple[tuple[str, str, bool], ...] = (
    *((name, sql, True) for name, sql in _INTEGRITY_SQL.items()),
    (
        "over-delivered order lines",
        "SELECT count(*) FROM (SELECT order_id, line_no, sum(quantity) AS q FROM deliveries GROUP BY ALL) d "
        "JOIN orders o USING (order_id, line_no) WHERE d.q > o.quantity + 1e-9 * greatest(1, abs(o.quantity))",
        True,
    ),
    (
        "deliveries before the order date",
        "SELECT count(*) FROM deliveries d JOIN orders o USING (order_id, line_no) WHERE d.delivered_date < o.order_date",
        True,
    ),
    (
        "order lines in orders but not in fact_order_lines",
        "SELECT (SELECT count(*) FROM orders) - (SELECT count(*) FROM fact_order_lines)",
        True,
    ),
    (
        "open order lines past their promised date",
        "SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, line_no, sum(quantity) AS q FROM deliveries "
        "GROUP BY ALL) d USING (order_id, line_no) WHERE coalesce(d.q, 0) < o.quantity "
        "AND o.promised_date < (SELECT max(delivered_date) FROM deliveries)",
        False,
    ),
    (
        "order lines without any delivery past their requested date",
        "SELECT count(*) FROM orders o ANTI JOIN deliveries d USING (order_id, line_no) "
        "WHERE o.requested_date < (SELECT max(delivered_date) FROM deliveries)",
        False,
    ),
    ("order lines without promised_date", "SELECT count(*) FROM orders WHERE promised_date IS NULL", False),
)


def data_audit(con: duckdb.DuckDBPyConnection, db_path: str | Path | None = None) -> dict[str, Any]:
    """What is stored: {"tables": rows and date ranges per contract table (one row per date
    column), "checks": referential checks (``expect_zero`` ones must be 0), "imports": the
    last 10 imports, "data_version": int, "updated_at": str | None}."""
    tables = []
    for t in LOAD_ORDER:
        table = CONTRACT[t]
        dates = [c.name for c in table.columns if c.type == DATE]
        # Identifiers are constants from the contract.
        aggs = ", ".join(["count(*)"] + [f"min({_q(c)}), max({_q(c)})" for c in dates])
        row = _one(con, f"SELECT {aggs} FROM {t}")
        if not dates:
            tables.append({"table": t, "rows": row[0], "column": None, "min": None, "max": None})
        for i, c in enumerate(dates):
            tables.append({"table": t, "rows": row[0], "column": c, "min": row[1 + 2 * i], "max": row[2 + 2 * i]})
    checks = []
    for name, sql, expect_zero in _AUDIT_CHECKS:
        n = int(_one(con, sql)[0] or 0)
        checks.append({"check": name, "count": n, "expect_zero": expect_zero, "ok": (n == 0) if expect_zero else True})
    return {
        "tables": pd.DataFrame(tables, columns=["table", "rows", "column", "min", "max"]),
        "checks": pd.DataFrame(checks, columns=["check", "count", "expect_zero", "ok"]),
        "imports": import_history(con, limit=10, db_path=db_path),
        "data_version": db.data_version(con),
        "updated_at": db.get_meta(con, "updated_at"),
    }


@access.requires("import")
def import_mapped(
    db_path: str | Path | None,
    folder: str | Path,
    mapping: MappingFile | str | Path,
    mode: str = "replace",
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``folder`` through a mapping file (:mod:`analytics.ingest.mapfile`): run the mapping, validate
    everything, write in one transaction. The report lists the source columns no entry used."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    return _import_mapped(db.resolve_db_path(db_path), folder, mapping, mode, progress, time.perf_counter())


def _import_mapped(path: Path, folder, mapping, mode: str, progress: Progress | None, t0: float) -> ImportReport:
    origin = "mapping"
    try:
        if not isinstance(mapping, MappingFile):
            origin = Path(mapping).name
            mapping = load_mapping(mapping)
    except MappingError as e:
        problems = [Problem(origin, None, None, line.removeprefix(f"{origin}: ")) for line in str(e).splitlines()]
        report = ImportReport(ok=False, mode=mode, rows={}, problems=problems, notes=[],
                              seconds=time.perf_counter() - t0, problem_count=len(problems),
                              source=None, db_path=str(path))
        log_rejected(path, report, {"mapping": origin})
        return report
    mapped = run_mapping(folder, mapping, lambda f, m: _call(progress, 0.3 * f, m), origin=origin)
    report = import_frames(path, mapped.frames, mapped.file_names, mode=mode, source=mapping.name or None,
                           progress=progress, _problems=mapped.problems, _notes=mapped.notes)
    report.unmapped, report.disagreements = mapped.unmapped, mapped.disagreements
    report.seconds = time.perf_counter() - t0
    return report


def preview_mapped(db_path: str | Path | None, folder: str | Path, mapping: MappingFile, mode: str = "replace",
                   progress: Progress | None = None) -> ImportReport:
    """Run the mapping and validate everything, writing nothing: ``ok`` means the import would land."""
    t0 = time.perf_counter()
    path = db.resolve_db_path(db_path)
    mapped = run_mapping(folder, mapping, lambda f, m: _call(progress, 0.5 * f, m))
    existing = db.open_reader(path) if mode == "upsert" and path.exists() else None
    try:
        val = validate(mapped.frames, mapped.file_names, mode, existing,
                       progress=lambda f, m: _call(progress, 0.5 + 0.5 * f, m), _problems=mapped.problems)
    finally:
        if existing is not None:
            existing.close()
    return ImportReport(ok=val.ok, mode=mode, rows=dict(val.rows), problems=val.problems,
                        notes=mapped.notes + val.notes, seconds=time.perf_counter() - t0,
                        problem_count=val.problem_count, source=mapping.name or None, db_path=str(path),
                        unmapped=mapped.unmapped, disagreements=mapped.disagreements)
