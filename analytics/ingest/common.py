"""Shared by the stages: problems, results, the import report, small DuckDB helpers and constants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.schema import (
    DATE,
    NUMBER,
    Column,
)

Progress = Callable[[float, str], None]

FILE_EXTENSIONS = (".csv", ".xlsx", ".parquet")
MODES = ("replace", "upsert")
#: Listed examples per file, column and kind of problem (all are counted).
PROBLEM_CAP = 200

# Extra columns an orders file may carry to derive deliveries when there is no deliveries file.
ORDER_DELIVERY_COLUMNS: tuple[Column, ...] = (
    Column("ship_date", DATE, required=False, nullable=True, description="Date the line shipped"),
    Column("delivered_date", DATE, required=False, nullable=True, description="Date the line was delivered"),
    Column(
        "delivered_quantity",
        NUMBER,
        required=False,
        nullable=True,
        non_negative=True,
        description="Quantity delivered (default: the ordered quantity)",
    ),
)
EXTRA_COLUMNS: dict[str, tuple[Column, ...]] = {"orders": ORDER_DELIVERY_COLUMNS}


def _q(name: str) -> str:
    """Quote an identifier. Only used for constant names from the contract / this module."""
    return '"' + name.replace('"', '""') + '"'


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple:
    """The first row of a query, fetching the whole result (a half-fetched result blocks the connection)."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else None


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query result as an Arrow table (without the extra copy of the DB-API path)."""
    con.execute("SELECT 1").fetchall()  # completes a half-fetched result the caller may have left
    return con.sql(sql).to_arrow_table()


def _call(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, fraction)), message)


# =========================================================================== results


#: Longest problem text and column name kept: a hostile file (a 100,000-character cell or header)
#: cannot blow up the report; the middle of longer ones is cut.
PROBLEM_TEXT_LIMIT, PROBLEM_COLUMN_LIMIT = 600, 120


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = limit - 40
    return f"{text[: keep * 2 // 3]} ... [{len(text) - keep:,} characters cut] ... {text[-(keep - keep * 2 // 3) :]}"


@dataclass(frozen=True)
class Problem:
    """One problem: ``file``, data ``row`` as the user sees it (header = row 1; None for
    file-level problems), ``column`` (None when not about one column) and the ``problem``."""

    file: str
    row: int | None
    column: str | None
    problem: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "problem", _clip(str(self.problem), PROBLEM_TEXT_LIMIT))
        if self.column is not None:
            object.__setattr__(self, "column", _clip(str(self.column), PROBLEM_COLUMN_LIMIT))

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f"{',' if self.row is not None else ''} column {self.column}"
        return f"{where}: {self.problem}"


@dataclass
class Validation:
    """What :func:`validate` found.

    ``problems`` lists at most :data:`PROBLEM_CAP` examples per file, column and kind
    (plus an "... and N more" line); ``problem_count`` counts them all.
    ``clean`` holds the typed tables (contract column order, Arrow-backed dtypes) that
    would be written; ``notes`` says what was derived or assumed.
    """

    problems: list[Problem] = field(default_factory=list)
    clean: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    problem_count: int = 0
    tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)
    # What the data really holds, per table: the contract columns that came from the user's files, and the
    # columns filled from another one ("deliveries.delivered_date": "ship_date"). Stored in meta (db.SUPPLIED)
    # so KPIs know an empty error_code column from an absent one.
    supplied: dict[str, list[str]] = field(default_factory=dict)
    substituted: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


@dataclass
class ImportReport:
    """The outcome of an import: ``ok`` means the data was written."""

    ok: bool
    mode: str
    rows: dict[str, int]
    problems: list[Problem]
    notes: list[str]
    seconds: float
    problem_count: int = 0
    source: str | None = None
    totals: dict[str, int] = field(default_factory=dict)
    import_id: int | None = None
    db_path: str = ""
    #: source columns no mapping entry used, per file (mapping files only)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    #: per table and column: keys whose rows disagreed when collapsed to one row per key
    disagreements: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_text(self) -> str:
        """A readable report for the command line."""
        src = f", source {self.source}" if self.source else ""
        lines = []
        if self.ok:
            lines.append(
                f"Import into {self.db_path} ({self.mode}{src}): OK in {self.seconds:.1f} s"
                + (f", import #{self.import_id}." if self.import_id is not None else ".")
            )
            if self.rows:
                lines.append("Rows imported: " + ", ".join(f"{t} {n:,}" for t, n in self.rows.items()))
            if self.totals:
                lines.append("Rows stored now: " + ", ".join(f"{t} {n:,}" for t, n in self.totals.items()))
        else:
            n = self.problem_count or len(self.problems)
            lines.append(
                f"Import into {self.db_path} ({self.mode}{src}): NOT imported, {n:,} problem"
                f"{'s' if n != 1 else ''} found in {self.seconds:.1f} s. The database was not changed."
            )
            lines.append("Problems:")
            lines.extend(f"  {p}" for p in self.problems)
        if self.unmapped:
            lines.append("Source columns not used (no mapping entry names them):")
            lines.extend(f"  {f}: {', '.join(cols)}" for f, cols in self.unmapped.items())
        if any(self.disagreements.values()):
            lines.append("Keys whose rows disagreed (the most frequent value kept, ties to the first seen):")
            lines.extend(f"  {t}: " + ", ".join(f"{c} {n:,}" for c, n in d.items())
                         for t, d in self.disagreements.items() if d)
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)


class ReadError(ValueError):
    """A file that cannot be read at all (empty, not a spreadsheet, unsupported column types)."""
