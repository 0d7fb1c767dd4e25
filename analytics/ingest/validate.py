"""Validate: every rule of the contract, vectorised in an in-memory DuckDB; nothing is written."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.ingest.common import (
    EXTRA_COLUMNS,
    MODES,
    ORDER_DELIVERY_COLUMNS,
    PROBLEM_CAP,
    Problem,
    Progress,
    Validation,
    _arrow,
    _call,
    _one,
    _q,
)
from analytics.ingest.read import _series_to_text
from analytics.schema import (
    CONTRACT,
    DATE,
    DERIVED_FROM_ORDERS,
    DUCKDB_TYPE,
    INT,
    LOAD_ORDER,
    NUMBER,
    REQUIRED_TABLES,
    Column,
)

# Columns holding a month: must be the first day of the month.
FIRST_OF_MONTH = {("forecasts", "period"), ("capacity", "period"), ("budget", "period")}
# Columns with a closed range (besides non_negative).
VALUE_RANGE = {("surveys", "score"): (0.0, 10.0)}

# (child table, child columns, parent table, parent columns): references that must exist.
REFERENCES: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ("orders", ("sku",), "products", ("sku",)),
    ("orders", ("customer_id",), "customers", ("customer_id",)),
    ("deliveries", ("order_id", "line_no"), "orders", ("order_id", "line_no")),
    ("forecasts", ("sku",), "products", ("sku",)),
    ("inventory", ("sku",), "products", ("sku",)),
    ("production", ("sku",), "products", ("sku",)),
    ("surveys", ("customer_id",), "customers", ("customer_id",)),
)
# Columns of the parent/state tables the cross-table checks need (also from the stored data in upsert mode).
STATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("sku",),
    "customers": ("customer_id",),
    "orders": ("order_id", "line_no", "order_date", "quantity"),
    "deliveries": ("delivery_id", "order_id", "line_no", "delivered_date", "quantity"),
}

# Error codes of the per-value checks (stored as TINYINT while validating).
EMPTY, NOT_NUMBER, NOT_INTEGER, NOT_FINITE, NEGATIVE = 1, 2, 3, 4, 5
BAD_DATE, AMBIGUOUS_DATE, MIXED_DATE, IMPLAUSIBLE_DATE, NOT_FIRST_OF_MONTH = 6, 7, 8, 9, 10
OUT_OF_RANGE, QTY_WITHOUT_DATE = 11, 12

_TIME_SUFFIX_RE = r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$"
_ISO_RE = r"[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}"
_DOT_RE = r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}"
_SLASH_RE = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"


# =========================================================================== validation


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.10g}"
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return str(v)


def _value_message(code: int, column: str, raw: Any) -> str:
    r = repr(raw) if raw is not None else "''"
    if code == EMPTY:
        return f"empty {column} (a value is required)"
    if code == NOT_NUMBER:
        hint = " (use a decimal point and no thousands separator)" if raw and "," in str(raw) else ""
        return f"not a number: {r}{hint}"
    if code == NOT_INTEGER:
        return f"not a whole number: {r}"
    if code == NOT_FINITE:
        return f"not a finite number: {r}"
    if code == NEGATIVE:
        return f"negative {column} {str(raw).strip()}"
    if code == BAD_DATE:
        return f"not a date: {r} (use YYYY-MM-DD; also read: YYYY/MM/DD, DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY)"
    if code == AMBIGUOUS_DATE:
        return (
            f"ambiguous date {r}: DD/MM/YYYY or MM/DD/YYYY? No value in this column tells "
            f"(none has a part above 12); write dates as YYYY-MM-DD"
        )
    if code == MIXED_DATE:
        return f"date {r}: this column mixes DD/MM/YYYY and MM/DD/YYYY dates; write dates as YYYY-MM-DD"
    if code == IMPLAUSIBLE_DATE:
        return f"implausible date {r} (year outside 1900-2199; leave the cell empty if there is no date)"
    if code == NOT_FIRST_OF_MONTH:
        return f"{column} {r} is not the first day of a month"
    if code == OUT_OF_RANGE:
        return f"{column} {str(raw).strip()} outside 0-10"
    if code == QTY_WITHOUT_DATE:
        return f"delivered_quantity {str(raw).strip()} but no delivered_date or ship_date"
    return f"invalid value {r}"


_KIND_LABEL = {
    EMPTY: "empty values",
    NOT_NUMBER: "not a number",
    NOT_INTEGER: "not a whole number",
    NOT_FINITE: "not finite",
    NEGATIVE: "negative values",
    BAD_DATE: "not a date",
    AMBIGUOUS_DATE: "ambiguous dates",
    MIXED_DATE: "mixed date formats",
    IMPLAUSIBLE_DATE: "implausible dates",
    NOT_FIRST_OF_MONTH: "not first of month",
    OUT_OF_RANGE: "out of range",
    QTY_WITHOUT_DATE: "delivered quantity without date",
}


def _default_sql(col: Column, present: Mapping[str, Column]) -> str | None:
    """SQL filling an empty value of ``col`` (a constant from the contract, or another present column)."""
    if col.default is not None:
        return "'" + col.default.replace("'", "''") + "'"  # a constant from the contract
    if col.default_from and col.default_from in present:
        return _q(col.default_from)
    return None


def _default_text(col: Column) -> str:
    return f"the {col.default_from}" if col.default_from else repr(col.default)


@dataclass
class _Spec:
    """One table being validated."""

    name: str
    file: str
    columns: dict[str, Column]  # present contract + extra columns (typed)
    missing: list[str]  # contract columns filled with NULL
    n: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # column -> name in the user's file
    derived: bool = False  # deliveries derived from the orders file
    decimal_comma: bool = False  # ';'-separated CSV: "12,5" means 12.5


def validate(
    frames: Mapping[str, pd.DataFrame],
    file_names: Mapping[str, str] | None,
    mode: str,
    existing_con: duckdb.DuckDBPyConnection | None = None,
    *,
    progress: Progress | None = None,
    _problems: Iterable[Problem] = (),
) -> Validation:
    """Validate ``frames`` ({table: text DataFrame with contract column names}) completely.

    ``file_names`` maps table -> file name used in problems (default ``<table>``).
    ``mode`` is ``replace`` (the frames are the complete new data) or ``upsert`` (the
    frames are merged into the stored data; ``existing_con`` - e.g. from
    ``db.open_reader`` - gives the stored rows that references may point to).
    Row numbers come from the index when it is named ``row`` (as
    :func:`read_table_file` returns it), else the first row is row 2.
    Nothing is written anywhere.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    unknown = sorted(set(frames) - set(CONTRACT))
    if unknown:
        raise ValueError(f"not contract tables: {', '.join(unknown)}")
    return _Validator(frames, dict(file_names or {}), mode, existing_con, progress, list(_problems)).run()


class _Validator:
    def __init__(self, frames, file_names, mode, existing_con, progress, problems):
        self.frames = frames
        self.file_names = file_names
        self.mode = mode
        self.existing = existing_con if mode == "upsert" else None
        self.progress = progress
        self.result = Validation(problems=list(problems), problem_count=len(problems))
        self.specs: dict[str, _Spec] = {}
        self.con = duckdb.connect()

    # ------------------------------------------------------------------ problems
    def add(self, file: str, row: int | None, column: str | None, text: str) -> None:
        self.result.problems.append(Problem(file, row, column, text))
        self.result.problem_count += 1

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def add_group(
        self, file: str, column: str | None, label: str, total: int, examples: list[tuple[int | None, str]]
    ) -> None:
        for row, text in examples[:PROBLEM_CAP]:
            self.result.problems.append(Problem(file, row, column, text))
        self.result.problem_count += total
        if total > PROBLEM_CAP:
            self.result.problems.append(
                Problem(file, None, column, f"... and {total - PROBLEM_CAP:,} more rows with this problem ({label})")
            )

    def fetch_grouped(self, sql: str, params: dict | None = None) -> dict[Any, tuple[int, list[dict]]]:
        """Run ``sql`` (columns __g, __row, ...): {group: (total, first PROBLEM_CAP rows by __row)}."""
        rel = self.con.execute(
            f"SELECT *, count(*) OVER (PARTITION BY __g) AS __n FROM ({sql}) q "
            f"QUALIFY row_number() OVER (PARTITION BY __g ORDER BY __row NULLS FIRST) <= {PROBLEM_CAP} "
            f"ORDER BY __g, __row NULLS FIRST",
            params or {},
        )
        names = [d[0] for d in rel.description]
        out: dict[Any, tuple[int, list[dict]]] = {}
        for rec in rel.fetchall():
            r = dict(zip(names, rec, strict=False))
            total, rows = out.get(r["__g"], (r["__n"], []))
            rows.append(r)
            out[r["__g"]] = (total, rows)
        return out

    def sort_problems(self) -> None:
        """Per file (in order of first appearance): file-level problems, rows in order, then summaries."""
        rank: dict[str, int] = {}
        for p in self.result.problems:
            rank.setdefault(p.file, len(rank))

        def key(p: Problem) -> tuple:
            summary = p.row is None and p.problem.startswith("... and")
            return (rank[p.file], 2 if summary else (0 if p.row is None else 1), p.row or 0)

        self.result.problems.sort(key=key)

    def step(self, fraction: float, message: str) -> None:
        _call(self.progress, fraction, message)

    # ------------------------------------------------------------------ run
    def run(self) -> Validation:
        try:
            self.step(0.0, "checking columns")
            self.check_headers()
            self.check_tables()
            names = [t for t in LOAD_ORDER if t in self.specs]
            for i, t in enumerate(names):
                self.step(0.05 + 0.6 * i / max(1, len(names)), f"checking values in {self.specs[t].file}")
                self.type_table(self.specs[t])
            self.derive()
            self.step(0.7, "checking keys and references")
            self.build_state()
            self.check_keys()
            self.check_references()
            self.check_deliveries()
            self.step(0.95, "preparing clean tables")
            self.collect_clean()
            self.sort_problems()
            self.step(1.0, "validated")
            return self.result
        finally:
            self.con.close()

    # ------------------------------------------------------------------ headers
    def check_headers(self) -> None:
        for name in LOAD_ORDER:
            if name not in self.frames:
                continue
            df = self.frames[name]
            table = CONTRACT[name]
            file = self.file_names.get(name) or df.attrs.get("file") or name
            for p in df.attrs.get("read_problems", []) or []:
                self.result.problems.append(p)
                self.result.problem_count += 1
            cols = [str(c) for c in df.columns]
            extras = {c.name: c for c in EXTRA_COLUMNS.get(name, ())}
            contract = {c.name: c for c in table.columns}
            seen: dict[str, int] = {}
            for c in cols:
                seen[c] = seen.get(c, 0) + 1
            for c, k in seen.items():
                if k > 1:
                    self.add(file, None, c, f"column {c!r} appears {k} times (after mapping)")
            for c in seen:
                if c not in contract and c not in extras:
                    close = difflib.get_close_matches(c.lower(), list(contract) + list(extras), n=1, cutoff=0.75)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    self.add(file, None, c, f"unknown column {c!r} (map it or remove it{hint})")
            present = {c: contract[c] for c in table.column_names if c in seen}
            missing = [c for c in table.column_names if c not in seen]
            for c in missing:
                if contract[c].required:
                    self.add(file, None, c, f"missing required column {c}")
            if name == "orders" and "deliveries" in self.frames:
                used = [c for c in extras if c in seen]
                if used:
                    self.note(f"{file}: columns {', '.join(used)} ignored (a deliveries file is imported)")
                extras = {}
            present.update({c: col for c, col in extras.items() if c in seen})
            spec = _Spec(name, file, present, missing, n=len(df), labels={c: c for c in contract})
            self.specs[name] = spec
            self.register_raw(spec, df)

    def register_raw(self, spec: _Spec, df: pd.DataFrame) -> None:
        """Register the text columns (contract names only), with __row and __pos, in DuckDB."""
        positions: dict[str, int] = {}
        for i, c in enumerate(map(str, df.columns)):
            if c in spec.columns and c not in positions:
                positions[c] = i
        arrays: dict[str, Any] = {}
        for c, i in positions.items():
            arrays[c] = pc.utf8_trim_whitespace(_series_to_text(df.iloc[:, i]))
        n = len(df)
        if df.index.name == "row" and pd.api.types.is_integer_dtype(df.index.dtype):
            rows = pa.array(np.asarray(df.index, dtype=np.int64))
        else:
            rows = pa.array(np.arange(2, n + 2, dtype=np.int64))
        arrays["__row"] = rows
        arrays["__pos"] = pa.array(np.arange(n, dtype=np.int64))
        self.con.register(f"raw_{spec.name}", pa.table(arrays))
        spec.decimal_comma = bool(df.attrs.get("decimal_comma", False))

    def check_tables(self) -> None:
        if self.mode == "replace":
            for t in REQUIRED_TABLES:
                if t in DERIVED_FROM_ORDERS:
                    continue  # derived from the orders' keys (see derive_masters); a missing orders file is reported
                # A file named in file_names but absent from frames could not be read (already reported).
                if t not in self.frames and t not in self.file_names:
                    self.add(t, None, None, f"missing file: {t}.csv (or .xlsx/.parquet) is required in replace mode")
            empty = []
            for t in LOAD_ORDER:
                if t not in self.frames and CONTRACT[t].optional:
                    derived = (
                        t == "deliveries"
                        and "orders" in self.specs
                        and any(c.name in self.specs["orders"].columns for c in ORDER_DELIVERY_COLUMNS[:2])
                    )
                    if not derived:
                        empty.append(t)
            if empty:
                self.note(
                    f"no file for {', '.join(empty)}: {'these tables' if len(empty) > 1 else 'the table'} "
                    "will be empty (replace mode)"
                )
        else:
            absent = [t for t in LOAD_ORDER if t not in self.frames]
            if absent:
                self.note(f"upsert: tables without a file stay as they are: {', '.join(absent)}")

    # ------------------------------------------------------------------ values
    def slash_formats(self, spec: _Spec) -> dict[str, str]:
        """Per date column with slash dates: 'dmy', 'mdy', 'ambiguous' or 'mixed'."""
        dcols = [c for c, col in spec.columns.items() if col.type == DATE]
        if not dcols or spec.n == 0:
            return {}
        stats = []
        for c in dcols:
            # LIKE filters cheaply first; the regex only runs on values with two slashes.
            x = f"(CASE WHEN length({_q(c)}) > 10 THEN regexp_replace({_q(c)}, '{_TIME_SUFFIX_RE}', '') ELSE {_q(c)} END)"
            p1 = "TRY_CAST(split_part(x, '/', 1) AS INTEGER)"
            p2 = "TRY_CAST(split_part(x, '/', 2) AS INTEGER)"
            stats.append(
                _one(
                    self.con,
                    f"SELECT count(*), count(*) FILTER (WHERE {p1} BETWEEN 13 AND 31), "
                    f"count(*) FILTER (WHERE {p2} BETWEEN 13 AND 31) "
                    f"FROM (SELECT {x} AS x FROM raw_{spec.name} WHERE {_q(c)} LIKE '%/%/%') "
                    f"WHERE regexp_full_match(x, '{_SLASH_RE}')",
                )
            )
        row = [v for st in stats for v in st]
        out = {}
        for i, c in enumerate(dcols):
            n, first_gt12, second_gt12 = row[3 * i : 3 * i + 3]
            if not n:
                continue
            if first_gt12 and not second_gt12:
                out[c] = "dmy"
                self.note(f"{spec.file} {c}: slash dates read as DD/MM/YYYY ({first_gt12:,} have a day above 12 first)")
            elif second_gt12 and not first_gt12:
                out[c] = "mdy"
                self.note(
                    f"{spec.file} {c}: slash dates read as MM/DD/YYYY ({second_gt12:,} have a day above 12 second)"
                )
            elif first_gt12 and second_gt12:
                out[c] = "mixed"
            else:
                out[c] = "ambiguous"
        return out

    def type_table(self, spec: _Spec) -> None:
        """Create typed_<table>: typed contract (and extra) columns plus __e_<col> error codes."""
        t = spec.name
        slash = self.slash_formats(spec)
        dec = spec.decimal_comma
        s1 = [f"NULLIF({_q(c)}, '') AS {_q(c)}" for c in spec.columns]  # trimmed in register_raw
        s2, s3, final, errs = [], [], [], []
        for c, col in spec.columns.items():
            qc = _q(c)
            n, d, p = _q("__n_" + c), _q("__d_" + c), _q("__p_" + c)
            empty = "NULL" if col.nullable else str(EMPTY)
            if col.type in (NUMBER, INT):
                if dec and col.type == NUMBER:
                    s2.append(
                        f"CASE WHEN regexp_full_match({qc}, '[+-]?[0-9]*,[0-9]+') "
                        f"THEN TRY_CAST(replace({qc}, ',', '.') AS DOUBLE) ELSE TRY_CAST({qc} AS DOUBLE) END AS {n}"
                    )
                else:
                    s2.append(f"TRY_CAST({qc} AS DOUBLE) AS {n}")
                if col.type == NUMBER:
                    final.append(f"CASE WHEN isfinite({n}) THEN {n} END AS {qc}")
                    bad_kind = f"WHEN {n} IS NULL THEN {NOT_NUMBER} WHEN NOT isfinite({n}) THEN {NOT_FINITE}"
                else:
                    ok = f"isfinite({n}) AND {n} = round({n}) AND abs({n}) < 9e15"
                    final.append(f"CASE WHEN {ok} THEN CAST({n} AS BIGINT) END AS {qc}")
                    bad_kind = f"WHEN NOT coalesce({ok}, false) THEN {NOT_INTEGER}"
                rng = VALUE_RANGE.get((t, c))
                range_sql = (
                    f"WHEN {n} < {rng[0]} OR {n} > {rng[1]} THEN {OUT_OF_RANGE}"
                    if rng
                    else (f"WHEN {n} < 0 THEN {NEGATIVE}" if col.non_negative else "")
                )
                extra = ""
                if t == "orders" and c == "delivered_quantity":
                    dates = [x for x in ("ship_date", "delivered_date") if x in spec.columns]
                    nodate = " AND ".join(f"{_q(x)} IS NULL" for x in dates) or "true"
                    extra = f"WHEN {n} > 0 AND {nodate} THEN {QTY_WITHOUT_DATE}"
                errs.append(
                    f"CAST(CASE WHEN {qc} IS NULL THEN {empty} {bad_kind} {range_sql} {extra} END AS TINYINT)"
                    f" AS {_q('__e_' + c)}"
                )
            elif col.type == DATE:
                s2.append(
                    f"CASE WHEN length({qc}) > 10 THEN regexp_replace({qc}, '{_TIME_SUFFIX_RE}', '') "
                    f"ELSE {qc} END AS {d}"
                )
                fmt = slash.get(c, "dmy")
                if fmt in ("dmy", "mdy"):
                    sl = f"CAST(try_strptime({d}, '{'%d/%m/%Y' if fmt == 'dmy' else '%m/%d/%Y'}') AS DATE)"
                    slash_err = ""
                elif fmt == "ambiguous":
                    same = (
                        f"TRY_CAST(split_part({d}, '/', 1) AS INTEGER) = TRY_CAST(split_part({d}, '/', 2) AS INTEGER)"
                    )
                    sl = f"CASE WHEN {same} THEN CAST(try_strptime({d}, '%d/%m/%Y') AS DATE) END"
                    slash_err = (
                        f"WHEN {p} IS NULL AND regexp_full_match({d}, '{_SLASH_RE}') AND NOT coalesce({same}, false) "
                        f"THEN {AMBIGUOUS_DATE}"
                    )
                else:  # mixed
                    sl = "CAST(NULL AS DATE)"
                    slash_err = f"WHEN regexp_full_match({d}, '{_SLASH_RE}') THEN {MIXED_DATE}"
                s3.append(
                    f"CASE WHEN regexp_full_match({d}, '{_ISO_RE}') THEN TRY_CAST(replace({d}, '/', '-') AS DATE) "
                    f"WHEN regexp_full_match({d}, '{_DOT_RE}') THEN CAST(try_strptime({d}, '%d.%m.%Y') AS DATE) "
                    f"WHEN regexp_full_match({d}, '{_SLASH_RE}') THEN {sl} END AS {p}"
                )
                plausible = f"year({p}) BETWEEN 1900 AND 2199"
                final.append(f"CASE WHEN {plausible} THEN {p} END AS {qc}")
                fom = f"WHEN day({p}) <> 1 THEN {NOT_FIRST_OF_MONTH}" if (t, c) in FIRST_OF_MONTH else ""
                errs.append(
                    f"CAST(CASE WHEN {qc} IS NULL THEN {empty} {slash_err} WHEN {p} IS NULL THEN {BAD_DATE} "
                    f"WHEN NOT ({plausible}) THEN {IMPLAUSIBLE_DATE} {fom} END AS TINYINT) AS {_q('__e_' + c)}"
                )
            else:  # TEXT
                fill = _default_sql(col, spec.columns)
                final.append(f"coalesce({qc}, {fill}) AS {qc}" if fill else f"{qc}")
                errs.append(f"CAST(CASE WHEN {qc} IS NULL THEN {empty} END AS TINYINT) AS {_q('__e_' + c)}")
        for c in spec.missing:
            col = CONTRACT[t].column(c)
            final.append(f"CAST({_default_sql(col, spec.columns) or 'NULL'} AS {DUCKDB_TYPE[col.type]}) AS {_q(c)}")
        self.note_defaults(spec)
        inner = f"SELECT __row, __pos{''.join(', ' + x for x in s1)} FROM raw_{t}"
        if s2:
            inner = f"SELECT *, {', '.join(s2)} FROM ({inner})"
        if s3:
            inner = f"SELECT *, {', '.join(s3)} FROM ({inner})"
        select = ", ".join(["__row", "__pos"] + final + errs)
        # Table and column names are constants from the contract.
        self.con.execute(
            f"CREATE TEMP TABLE typed_{t} AS SELECT {select} FROM ({inner})"
        )  # constant contract identifiers
        self.report_value_errors(spec)

    def note_defaults(self, spec: _Spec) -> None:
        """Notes on defaulted values: absent columns, and empty cells of present columns that have a default."""
        table = CONTRACT[spec.name]
        filled = [c for c, col in spec.columns.items() if _default_sql(col, spec.columns)]
        if filled and spec.n:
            counts = _one(self.con, "SELECT " + ", ".join(f"count(*) FILTER (WHERE NULLIF({_q(c)}, '') IS NULL)"
                                                           for c in filled) + f" FROM raw_{spec.name}")
            for c, k in zip(filled, counts, strict=False):
                if k:
                    self.note(f"{spec.file} {c}: {k:,} empty value{'s' if k != 1 else ''} set to "
                              f"{_default_text(table.column(c))}")
        for c in spec.missing:
            col = table.column(c)
            if c == "line_no" or c in ("promised_date", "unit_price") and spec.name == "orders":
                continue  # noted by derive()
            if col.default is not None or col.default_from:
                also = ""
                if (spec.name, c) == ("customers", "region") and "region" in self.frames.get("orders", {}):
                    also = " (region filters and drill-downs use the orders' region where a line has one)"
                self.note(f"{spec.name} ({spec.file}): no {c} column: {_default_text(col)} for every row{also}")
            elif col.if_missing:
                self.note(f"{spec.name} ({spec.file}): no {c} column: left empty; {col.if_missing}")

    def report_value_errors(self, spec: _Spec) -> None:
        cols = list(spec.columns)
        if not cols or spec.n == 0:
            return
        counts = _one(
            self.con, "SELECT " + ", ".join(f"count({_q('__e_' + c)})" for c in cols) + f" FROM typed_{spec.name}"
        )
        for c, k in zip(cols, counts, strict=False):
            if not k:
                continue
            e = _q("__e_" + c)
            groups = self.fetch_grouped(
                f"SELECT t.{e} AS __g, t.__row, r.{_q(c)} AS raw FROM typed_{spec.name} t "
                f"JOIN raw_{spec.name} r USING (__pos) WHERE t.{e} IS NOT NULL"
            )
            for code, (total, rows) in groups.items():
                self.add_group(
                    spec.file,
                    c,
                    _KIND_LABEL.get(code, "invalid"),
                    total,
                    [(r["__row"], _value_message(code, c, r["raw"])) for r in rows],
                )

    # ------------------------------------------------------------------ derivations
    def derive(self) -> None:
        orders = self.specs.get("orders")
        if orders is not None:
            self.derive_masters(orders)
            f = orders.file
            if "line_no" in orders.missing:
                self.con.execute(
                    "CREATE OR REPLACE TEMP TABLE typed_orders AS SELECT * REPLACE ("
                    "row_number() OVER (PARTITION BY order_id ORDER BY __pos) AS line_no) "
                    "FROM typed_orders ORDER BY __pos"
                )
                self.note(
                    f"orders ({f}): no line_no column: numbered lines 1..n within each order_id "
                    f"in file order ({orders.n:,} rows)"
                )
            if "promised_date" in orders.missing:
                self.note(
                    f"orders ({f}): no promised_date column: left empty; OTIF to promise will show "
                    "'not available: needs promised_date'"
                )
            if "unit_price" in orders.missing:
                self.note(f"orders ({f}): no unit_price column: left empty; revenue uses products.unit_price")
            if "deliveries" not in self.frames:
                has = [c for c in ("ship_date", "delivered_date") if c in orders.columns]
                if has:
                    self.derive_deliveries(orders, has)
        deliveries = self.specs.get("deliveries")
        if deliveries is not None and not deliveries.derived and "error_code" in deliveries.missing:
            self.note(f"deliveries ({deliveries.file}): no error_code column: left empty (no delivery errors recorded)")
        production = self.specs.get("production")
        if production is not None and "scrap_qty" in production.missing:
            self.note(f"production ({production.file}): no scrap_qty column: left empty")

    def derive_masters(self, orders: _Spec) -> None:
        """products / customers without a file: one row per distinct key of the orders (first seen first), the
        other columns defaulted (name = the key; family, region, segment 'unassigned'; the rest empty). In upsert
        mode only keys that are not stored yet are added: stored rows are never overwritten by defaults."""
        for master, key in DERIVED_FROM_ORDERS.items():
            if master in self.specs or master in self.file_names or key not in orders.columns:
                continue
            table = CONTRACT[master]
            stored = ""
            if self.existing is not None:
                self.con.register(f"stored_keys_{master}", _arrow(self.existing, f"SELECT {_q(key)} FROM {master}"))
                stored = f" AND {_q(key)} NOT IN (SELECT {_q(key)} FROM stored_keys_{master})"
            cols = []
            for c in table.columns:
                fill = "k" if c.name == key or c.default_from == key else _default_sql(c, {})
                cols.append(f"CAST({fill or 'NULL'} AS {DUCKDB_TYPE[c.type]}) AS {_q(c.name)}")
            self.con.execute(  # constant contract identifiers
                f"""CREATE TEMP TABLE typed_{master} AS
                SELECT {", ".join(cols)}, __row, row_number() OVER (ORDER BY __pos) - 1 AS __pos FROM (
                    SELECT {_q(key)} AS k, min(__row) AS __row, min(__pos) AS __pos FROM typed_orders
                    WHERE {_q(key)} IS NOT NULL{stored} GROUP BY {_q(key)})
                ORDER BY __pos"""
            )
            n = _one(self.con, f"SELECT count(*) FROM typed_{master}")[0]
            if self.existing is not None and n == 0:
                self.con.execute(f"DROP TABLE typed_{master}")  # constant: master is from schema.MASTERS
                continue
            labels = {c: c for c in table.column_names}
            self.specs[master] = _Spec(master, orders.file, {}, [], n=n, labels=labels, derived=True)
            defaults = ", ".join(
                f"{c.name} = {_default_text(c)}" for c in table.columns if c.default is not None or c.default_from
            )
            empty = ", ".join(c.name for c in table.columns if not c.key and c.default is None and not c.default_from)
            new = " new" if self.existing is not None else ""
            self.note(
                f"{master}: no file: derived {n:,}{new} {master} from the {key} values of {orders.file} "
                f"({defaults}; {empty or 'nothing'} left empty)"
            )

    def derive_deliveries(self, orders: _Spec, date_cols: list[str]) -> None:
        cols = orders.columns
        ship = "ship_date" if "ship_date" in cols else "CAST(NULL AS DATE)"
        delivered = "coalesce(delivered_date, ship_date)" if len(date_cols) == 2 else date_cols[0]
        qty = "coalesce(delivered_quantity, quantity)" if "delivered_quantity" in cols else "quantity"
        self.con.execute(
            f"""CREATE TEMP TABLE typed_deliveries AS
            SELECT order_id || '-' || CAST(line_no AS VARCHAR) AS delivery_id, order_id, line_no,
                   {ship} AS ship_date, {delivered} AS delivered_date, {qty} AS quantity,
                   CAST(NULL AS VARCHAR) AS error_code, __row, __pos
            FROM typed_orders
            WHERE {delivered} IS NOT NULL AND order_id IS NOT NULL AND line_no IS NOT NULL
              AND coalesce({qty}, 1) <> 0
            ORDER BY __pos"""
        )
        n = _one(self.con, "SELECT count(*) FROM typed_deliveries")[0]
        labels = {c: c for c in CONTRACT["deliveries"].column_names}
        labels["delivered_date"] = "delivered_date" if "delivered_date" in cols else "ship_date"
        labels["quantity"] = "delivered_quantity" if "delivered_quantity" in cols else "quantity"
        labels["delivery_id"] = "order_id"
        self.specs["deliveries"] = _Spec("deliveries", orders.file, {}, [], n=n, labels=labels, derived=True)
        how = " or ".join(date_cols[::-1]) if len(date_cols) == 2 else date_cols[0]
        qty_how = (
            "delivered_quantity, else the ordered quantity" if "delivered_quantity" in cols else "the ordered quantity"
        )
        self.note(
            f"deliveries: no deliveries file: derived {n:,} deliveries from {orders.file} (one per line with a "
            f"{how}; delivery_id = order_id-line_no, quantity = {qty_how}); "
            f"{orders.n - n:,} lines without a date are not delivered"
        )

    # ------------------------------------------------------------------ state for cross-table checks
    def build_state(self) -> None:
        for t in LOAD_ORDER:  # absent tables: empty typed tables, so every query has its inputs
            if t not in self.specs:
                cols = ", ".join(f"CAST(NULL AS {DUCKDB_TYPE[c.type]}) AS {_q(c.name)}" for c in CONTRACT[t].columns)
                self.con.execute(
                    f"CREATE TEMP TABLE typed_{t} AS SELECT {cols}, "
                    f"CAST(NULL AS BIGINT) AS __row, CAST(NULL AS BIGINT) AS __pos WHERE false"
                )
        files = set(self.specs)
        need: set[str] = set()
        if self.existing is not None:
            if files & {"orders", "forecasts", "inventory", "production"}:
                need.add("products")
            if files & {"orders", "surveys"}:
                need.add("customers")
            if files & {"orders", "deliveries"}:
                need |= {"orders", "deliveries"}
        for t, cols in STATE_COLUMNS.items():
            sel = ", ".join(_q(c) for c in cols)
            if t in need:
                old = _arrow(self.existing, f"SELECT {sel} FROM {t}")
                self.con.register(f"old_{t}", old)
                key = CONTRACT[t].key
                match = " AND ".join(f"f.{_q(k)} = o.{_q(k)}" for k in key)
                self.con.execute(
                    f"CREATE TEMP TABLE cur_{t} AS SELECT {sel}, __row FROM typed_{t} "
                    f"UNION ALL SELECT {', '.join('o.' + _q(c) for c in cols)}, CAST(NULL AS BIGINT) FROM old_{t} o "
                    f"WHERE NOT EXISTS (SELECT 1 FROM typed_{t} f WHERE {match})"
                )
            else:
                self.con.execute(f"CREATE TEMP VIEW cur_{t} AS SELECT {sel}, __row FROM typed_{t}")  # constant: contract names

    def check_keys(self) -> None:
        for t, spec in self.specs.items():
            key = CONTRACT[t].key
            if not key or spec.n == 0:
                continue
            if any(k in spec.missing and not (t == "orders" and k == "line_no") for k in key):
                continue
            keys = ", ".join(_q(k) for k in key)
            notnull = " AND ".join(f"{_q(k)} IS NOT NULL" for k in key)
            groups = self.fetch_grouped(
                f"SELECT * FROM (SELECT 1 AS __g, __row, {keys}, min(__row) OVER (PARTITION BY {keys}) AS __first "
                f"FROM typed_{t} WHERE {notnull}) WHERE __row <> __first"
            )
            for _g, (total, rows) in groups.items():
                examples = []
                for r in rows:
                    desc = ", ".join(f"{k} {r[k]!r}" if isinstance(r[k], str) else f"{k} {_fmt(r[k])}" for k in key)
                    examples.append((r["__row"], f"duplicate key {desc} (first on row {r['__first']})"))
                self.add_group(spec.file, ", ".join(key), "duplicate keys", total, examples)

    def check_references(self) -> None:
        for child, ccols, parent, pcols in REFERENCES:
            spec = self.specs.get(child)
            if spec is None or spec.derived or spec.n == 0:
                continue
            if self.mode == "replace" and parent in REQUIRED_TABLES and parent not in self.frames:
                continue  # already reported: the parent file is missing
            if any(c in spec.missing for c in ccols if not (child == "orders" and c == "line_no")):
                continue
            notnull = " AND ".join(f"f.{_q(c)} IS NOT NULL" for c in ccols)
            match = " AND ".join(f"p.{_q(pc_)} = f.{_q(cc)}" for cc, pc_ in zip(ccols, pcols, strict=False))
            sel = ", ".join(f"f.{_q(c)}" for c in ccols)
            groups = self.fetch_grouped(
                f"SELECT 1 AS __g, f.__row, {sel} FROM typed_{child} f WHERE {notnull} "
                f"AND NOT EXISTS (SELECT 1 FROM cur_{parent} p WHERE {match})"
            )
            where = parent if self.mode == "replace" else f"{parent}: neither in the file nor in the database"
            for _g, (total, rows) in groups.items():
                if parent == "orders":
                    ex = [
                        (r["__row"], f"unknown order line {r['order_id']!r} line {r['line_no']} (not in {where})")
                        for r in rows
                    ]
                    column = spec.labels.get("order_id", "order_id")
                else:
                    c = ccols[0]
                    ex = [(r["__row"], f"unknown {c} {r[c]!r} (not in {where})") for r in rows]
                    column = c
                self.add_group(spec.file, column, f"unknown {ccols[0]}", total, ex)

    def check_deliveries(self) -> None:
        if "deliveries" not in self.specs and "orders" not in self.specs:
            return
        dspec = self.specs.get("deliveries")
        ospec = self.specs.get("orders")
        dfile = dspec.file if dspec else "deliveries"
        ofile = ospec.file if ospec else "orders"
        dl = dspec.labels if dspec else {}
        # delivered before ordered
        groups = self.fetch_grouped(
            """SELECT d.__row IS NULL AS __g, coalesce(d.__row, o.__row) AS __row,
                      d.delivery_id, d.order_id, d.line_no, d.delivered_date, o.order_date
               FROM cur_deliveries d JOIN cur_orders o ON o.order_id = d.order_id AND o.line_no = d.line_no
               WHERE d.delivered_date < o.order_date AND (d.__row IS NOT NULL OR o.__row IS NOT NULL)"""
        )
        for on_orders, (total, rows) in groups.items():
            if not on_orders:
                ex = [
                    (
                        r["__row"],
                        f"delivered {r['delivered_date']} before the order date {r['order_date']} "
                        f"(order {r['order_id']} line {r['line_no']})",
                    )
                    for r in rows
                ]
                self.add_group(dfile, dl.get("delivered_date", "delivered_date"), "delivered before ordered", total, ex)
            else:
                ex = [
                    (
                        r["__row"],
                        f"order date {r['order_date']} is after the stored delivery "
                        f"{r['delivery_id']} delivered {r['delivered_date']}",
                    )
                    for r in rows
                ]
                self.add_group(ofile, "order_date", "order date after delivery", total, ex)
        # over-delivery
        groups = self.fetch_grouped(
            """WITH a AS (
                   SELECT order_id, line_no, sum(quantity) AS delivered, max(__row) AS d_row
                   FROM cur_deliveries WHERE order_id IS NOT NULL AND line_no IS NOT NULL
                   GROUP BY order_id, line_no)
               SELECT a.d_row IS NULL AS __g, coalesce(a.d_row, o.__row) AS __row,
                      a.order_id, a.line_no, a.delivered, o.quantity
               FROM a JOIN cur_orders o ON o.order_id = a.order_id AND o.line_no = a.line_no
               WHERE a.delivered > o.quantity + 1e-9 * greatest(1, abs(o.quantity))
                 AND (a.d_row IS NOT NULL OR o.__row IS NOT NULL)"""
        )
        for on_orders, (total, rows) in groups.items():
            if not on_orders:
                ex = [
                    (
                        r["__row"],
                        f"over-delivery: deliveries of order {r['order_id']} line {r['line_no']} "
                        f"total {_fmt(r['delivered'])} but {_fmt(r['quantity'])} were ordered",
                    )
                    for r in rows
                ]
                self.add_group(dfile, dl.get("quantity", "quantity"), "over-delivery", total, ex)
            else:
                ex = [
                    (
                        r["__row"],
                        f"ordered quantity {_fmt(r['quantity'])} is less than the "
                        f"{_fmt(r['delivered'])} already delivered",
                    )
                    for r in rows
                ]
                self.add_group(ofile, "quantity", "ordered below delivered", total, ex)

    # ------------------------------------------------------------------ output
    def collect_clean(self) -> None:
        for t in LOAD_ORDER:
            spec = self.specs.get(t)
            if spec is None:
                continue
            cols = ", ".join(_q(c) for c in CONTRACT[t].column_names)
            tbl = _arrow(self.con, f"SELECT {cols} FROM typed_{t} ORDER BY __pos")
            self.result.tables[t] = tbl
            self.result.clean[t] = tbl.to_pandas(types_mapper=pd.ArrowDtype)
            self.result.rows[t] = tbl.num_rows
            if spec.derived:  # deliveries derived from orders: no error information
                self.result.supplied[t] = [c for c in CONTRACT[t].column_names if c != "error_code"]
                if spec.labels.get("delivered_date") == "ship_date":
                    self.result.substituted["deliveries.delivered_date"] = "ship_date"
            else:
                self.result.supplied[t] = [c for c in CONTRACT[t].column_names if c not in spec.missing]
