"""The importer: read a folder of site files, validate everything, then write it in one go.

The importer never corrupts data. It works in three strictly separate stages:

1. **Read** every file as text (``read_table_file``): CSV (delimiter ``,`` ``;``
   or tab detected from the header, UTF-8 with or without BOM, UTF-16 with or
   without BOM, falling back to Windows-1252 and Latin-1; a quoted header cell may
   span lines), XLSX (first sheet, via openpyxl) or Parquet (any
   column type, cast to text). Files are named after the contract tables:
   ``products.csv``, ``Orders.xlsx``, ``deliveries.parquet`` ... (the stem is
   case-insensitive). Column headers are mapped to contract columns with saved
   mappings (per source system) or with :func:`suggest_mapping`.
2. **Validate** (:func:`validate`) the whole set of tables against the data
   contract in :mod:`analytics.schema` and against each other, vectorised in an
   in-memory DuckDB. Every problem is reported with its file, row (as the user
   sees it: the header is row 1, the first data row is row 2), column and a
   reason. Problems are counted in full; at most :data:`PROBLEM_CAP` examples
   per file, column and kind of problem are listed, followed by an
   "... and N more" line.
3. **Write**, only if there is not a single problem, in one
   ``db.writer`` transaction (copy, change, atomic rename): ``replace`` makes
   the files the complete data set (tables without a file are emptied),
   ``upsert`` inserts rows or replaces the row with the same key (``surveys``
   has no key: rows are appended and exact duplicates of stored rows skipped).
   The fact tables are rebuilt and an ``import_log`` row is written in the same
   transaction. A crash or ``kill -9`` leaves either the old or the new file.

Rules (the checks, each reported with file, row, column and reason):

* a file for every required table (products, customers, orders) in replace mode;
* required columns present; columns not in the contract are problems
  ("unknown column X (map it or remove it)") unless the mapping maps them away
  (map a column to ``None`` to ignore it); the same column twice is a problem;
* required values not empty; numbers are numbers (a decimal comma is accepted
  in ``;``-separated CSV files; thousands separators never), finite (no NaN or
  inf), integers are whole numbers, ``non_negative`` columns are >= 0,
  ``surveys.score`` is within 0-10;
* dates are ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``DD.MM.YYYY``, ``DD/MM/YYYY`` or
  ``MM/DD/YYYY`` (a time part is ignored; Excel and Parquet date values are
  read as dates). Slash dates are read per column: ``DD/MM`` when some value
  has a first part above 12, ``MM/DD`` when some value has a second part above
  12; when neither (or both) occurs, every slash date whose parts differ is
  reported as ambiguous. Years outside 1900-2199 are reported (placeholders
  such as 9999-12-31 should be empty cells). ``period`` columns must be the
  first day of a month;
* keys unique within a file (also in upsert mode);
* references exist in the new state of the database (the file being imported,
  plus in upsert mode the stored rows it does not replace): orders.sku and
  forecasts/inventory/production.sku in products, orders.customer_id and
  surveys.customer_id in customers, deliveries (order_id, line_no) in orders;
* nothing delivered before it was ordered (delivered_date >= order_date);
* no over-delivery: the deliveries of an order line add up to at most the
  ordered quantity.

Derivations when optional columns are missing (each is stated in the notes):
orders without ``line_no`` are numbered 1..n within each order_id in file
order; orders without ``promised_date`` / ``unit_price`` leave them empty;
an orders file with ``ship_date`` and/or ``delivered_date`` (and optionally
``delivered_quantity``) columns and no deliveries file yields one delivery per
delivered line (delivery_id = order_id-line_no, delivered_date =
delivered_date or ship_date, quantity = delivered_quantity or the ordered
quantity; lines without dates, or with delivered_quantity 0, are not
delivered); deliveries without ``error_code`` and production without
``scrap_qty`` leave them empty.

Row numbers: CSV rows are counted as records (a quoted value may span lines;
blank lines are skipped and not counted), XLSX rows are the sheet's row
numbers, Parquet rows are numbered as if there were a header row.

No Streamlit in here: the import page and the CLI both call this module.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analytics import access, db
from analytics.schema import (
    CONTRACT,
    DATE,
    DUCKDB_TYPE,
    INT,
    LOAD_ORDER,
    NUMBER,
    REQUIRED_TABLES,
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
    Column("delivered_quantity", NUMBER, required=False, nullable=True, non_negative=True,
           description="Quantity delivered (default: the ordered quantity)"),
)
EXTRA_COLUMNS: dict[str, tuple[Column, ...]] = {"orders": ORDER_DELIVERY_COLUMNS}

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
_SNIFF_BYTES = 1 << 16


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
    return f"{text[: keep * 2 // 3]} ... [{len(text) - keep:,} characters cut] ... {text[-(keep - keep * 2 // 3):]}"


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
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)


class ReadError(ValueError):
    """A file that cannot be read at all (empty, not a spreadsheet, unsupported column types)."""


# =========================================================================== reading


def table_for_file(path: str | Path) -> str | None:
    """The contract table a file is named after (``Orders.CSV`` -> ``orders``), else None."""
    p = Path(path)
    if p.suffix.lower() not in FILE_EXTENSIONS:
        return None
    stem = p.stem.lower()
    return stem if stem in CONTRACT else None


def read_table_file(path: str | Path) -> pd.DataFrame:
    """Read one CSV/XLSX/Parquet file with every column as text (missing values are NA).

    Header names are kept as they are. The index, named ``row``, is the row number as
    the user sees it (header = row 1). ``df.attrs`` holds ``file``, ``read_problems``
    (rows that could not be read, duplicate headers), and for CSV ``encoding``,
    ``delimiter`` and ``decimal_comma``. Raises :class:`ReadError` for unreadable files.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".csv":
        df = _read_csv(p)
    elif ext == ".xlsx":
        df = _read_xlsx(p)
    elif ext == ".parquet":
        df = _read_parquet(p)
    else:
        raise ReadError(f"{p.name}: unsupported file type {ext or '(none)'} (use .csv, .xlsx or .parquet)")
    df.attrs["file"] = p.name
    return df


def _unique_names(names: list[str], file: str) -> tuple[list[str], list[Problem], list[str]]:
    """Internal column names for a header: duplicates and blanks get placeholders to drop later."""
    seen: dict[str, int] = {}
    internal, problems, drop = [], [], []
    for i, name in enumerate(names):
        if name.strip() == "":
            internal.append(f"__blank_{i}")
            drop.append(internal[-1])
        elif name in seen:
            problems.append(Problem(file, None, name, f"column {name!r} appears more than once "
                                    f"(columns {seen[name] + 1} and {i + 1})"))
            internal.append(f"__dup_{i}")
            drop.append(internal[-1])
        else:
            seen[name] = i
            internal.append(name)
    return internal, problems, drop


def _frame_from_arrow(table: pa.Table, rows: np.ndarray | None, drop: list[str], file: str,
                      problems: list[Problem]) -> pd.DataFrame:
    """DataFrame of str columns indexed by row number; columns without header are dropped."""
    for name in drop:
        if name.startswith("__blank_") and name in table.column_names:
            col = table.column(name)
            if col.null_count < len(col):
                nonnull = pc.drop_null(col)
                if len(pc.filter(nonnull, pc.not_equal(pc.utf8_trim_whitespace(nonnull), ""))) > 0:
                    idx = int(name.rsplit("_", 1)[1])
                    problems.append(Problem(file, None, None,
                                            f"column {idx + 1} has values but no header (name it or remove it)"))
    keep = [n for n in table.column_names if n not in drop]
    table = table.select(keep)
    df = table.to_pandas()
    n = len(df)
    df.index = pd.Index(rows, name="row") if rows is not None else pd.RangeIndex(2, n + 2, name="row")
    df.attrs["read_problems"] = problems
    return df


def _sniff_delimiter(text: str, truncated: bool) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if truncated and len(lines) > 1:
        lines = lines[:-1]
    lines = lines[:50]
    if not lines:
        return ","
    best, best_score = ",", None
    for d in (",", ";", "\t"):
        try:
            rows = list(csv.reader(lines, delimiter=d))
        except csv.Error:
            continue
        n = len(rows[0]) if rows else 0
        consistent = sum(1 for r in rows[1:] if len(r) == n)
        score = (n > 1, consistent, n)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def _read_csv(path: Path) -> pd.DataFrame:
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    truncated = len(head) == _SNIFF_BYTES
    if head.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "utf8")]
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        candidates = [("utf-16", "utf-16")]
    else:
        candidates = [("utf-8", "utf8"), ("cp1252", "cp1252"), ("latin-1", "latin-1")]
        utf16 = _utf16_without_bom(head)
        if utf16:  # its ASCII characters' NUL bytes are valid UTF-8: try UTF-16 first
            candidates.insert(0, (utf16, utf16))
    last_error: Exception | None = None
    for py_enc, arrow_enc in candidates:
        try:
            text = codecs.getincrementaldecoder(py_enc)().decode(head, final=not truncated)
        except UnicodeDecodeError as e:
            last_error = e
            continue
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise ReadError(f"{path.name}: the file is empty (no header row)")
        delimiter = _sniff_delimiter(text, truncated)
        # The header is the first record: a quoted cell may span lines (a wrapped header cell), and only
        # CR/LF end a line (as for Arrow; str.splitlines also splits at form feeds and U+2028).
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        names = next(reader, [])
        header_lines = max(1, reader.line_num)
        internal, problems, drop = _unique_names(names, path.name)
        try:
            table, bad = _arrow_csv(path, arrow_enc, delimiter, internal, threads=True, skip=header_lines)
            if bad and any(b[0] is None for b in bad):
                table, bad = _arrow_csv(path, arrow_enc, delimiter, internal, threads=False, skip=header_lines)
        except (UnicodeDecodeError, UnicodeError) as e:
            last_error = e
            continue
        except pa.ArrowInvalid as e:
            if "could not skip initial" in str(e).lower() and not truncated:
                table, bad = pa.table({n: pa.array([], pa.string()) for n in internal}), []  # header only
            elif "utf8" in str(e).lower() or "utf-8" in str(e).lower() or "decode" in str(e).lower():
                last_error = e
                continue
            elif arrow_enc == "utf8" and not _valid_utf8(path):  # e.g. a bad row holding Windows-1252 bytes
                last_error = e
                continue
            else:
                raise ReadError(f"{path.name}: cannot read the CSV file ({e})") from e
        rows = None
        if bad:
            bad_numbers = sorted(b[0] for b in bad if b[0] is not None)
            allnums = np.arange(2, table.num_rows + len(bad_numbers) + 2)
            rows = allnums[~np.isin(allnums, np.asarray(bad_numbers, dtype=np.int64))][: table.num_rows]
            for number, expected, actual, _text in bad:
                problems.append(Problem(path.name, number, None,
                                        f"{actual} field(s) where the header has {expected} "
                                        f"(check delimiters and quotes in this row)"))
        df = _frame_from_arrow(table, rows, drop, path.name, problems)
        df.attrs.update(encoding=py_enc, delimiter=delimiter, decimal_comma=(delimiter == ";"))
        return df
    raise ReadError(f"{path.name}: cannot decode the file as UTF-8, Windows-1252 or Latin-1 ({last_error})")


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the file starts like UTF-16 text without a BOM: in the first 32
    characters (the header: mostly ASCII) at least every other high byte is NUL and no low byte is."""
    units = head[: min(64, len(head) // 2 * 2)]
    if len(units) < 4:
        return None
    for name, high, low in (("utf-16-le", units[1::2], units[0::2]), ("utf-16-be", units[0::2], units[1::2])):
        if high.count(0) * 2 >= len(high) and low.count(0) == 0:
            return name
    return None


def _valid_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _arrow_csv(path: Path, encoding: str, delimiter: str, names: list[str], *, threads: bool, skip: int = 1):
    bad: list[tuple[int | None, int, int, str]] = []

    def on_bad(row) -> str:
        # Arrow counts records, but each skipped header line as one: the header is record 1
        number = row.number - (skip - 1) if row.number is not None else None
        bad.append((number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip, encoding=encoding,
                                       use_threads=threads, block_size=1 << 23),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=True, null_values=[""],
                                             quoted_strings_can_be_null=True),
    )
    return table, bad


def _cell_text(v: Any) -> str | None:
    """An Excel cell value as the text the validator parses."""
    if v is None:
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == dtime(0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _read_xlsx(path: Path) -> pd.DataFrame:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zip/xml errors of all kinds
        raise ReadError(f"{path.name}: not a readable Excel .xlsx file ({e})") from e
    try:
        if not wb.worksheets:
            raise ReadError(f"{path.name}: the workbook has no sheet")
        it = wb.worksheets[0].iter_rows(values_only=True)
        header, header_row = None, 0
        for i, row in enumerate(it, start=1):
            if any(_cell_text(v) is not None for v in row):
                header, header_row = row, i
                break
        if header is None:
            raise ReadError(f"{path.name}: the first sheet is empty (no header row)")
        while header and _cell_text(header[-1]) is None:
            header = header[:-1]
        names = ["" if v is None else str(v) for v in header]
        ncol = len(names)
        cols: list[list[str | None]] = [[] for _ in range(ncol)]
        rownums: list[int] = []
        problems: list[Problem] = []
        for i, row in enumerate(it, start=header_row + 1):
            vals = [_cell_text(v) for v in row]
            if not any(v is not None for v in vals):
                continue
            rownums.append(i)
            for j in range(ncol):
                cols[j].append(vals[j] if j < len(vals) else None)
            if any(v is not None for v in vals[ncol:]):
                problems.append(Problem(path.name, i, None, "values to the right of the last column with a header"))
    except ReadError:
        raise
    except Exception as e:  # read-only mode parses the sheet while iterating: broken XML, zip or values
        raise ReadError(f"{path.name}: not a readable Excel .xlsx file ({e})") from e
    finally:
        wb.close()
    internal, dup_problems, drop = _unique_names(names, path.name)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(internal, cols, strict=False)}) if ncol else pa.table({})
    return _frame_from_arrow(table, np.asarray(rownums, dtype=np.int64), drop, path.name, dup_problems + problems)


def _to_text(col: pa.ChunkedArray, name: str, file: str) -> pa.ChunkedArray:
    """Any Arrow column as text: dates as YYYY-MM-DD, numbers as written by Arrow."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col
    if pa.types.is_dictionary(t):
        return _to_text(col.cast(t.value_type), name, file)
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t)
            or pa.types.is_temporal(t) or pa.types.is_null(t)):
        return col.cast(pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        try:
            return col.cast(pa.string())
        except pa.ArrowInvalid as e:
            raise ReadError(f"{file}: column {name!r} holds binary data that is not UTF-8 text") from e
    raise ReadError(f"{file}: column {name!r} has type {t}, which cannot be imported (use text, number or date)")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        with pq.ParquetFile(path) as pf:  # not pq.read_table: it refuses repeated column names
            table = pf.read()
    except Exception as e:  # not parquet, truncated, ...
        raise ReadError(f"{path.name}: not a readable Parquet file ({e})") from e
    names = list(table.column_names)
    internal, problems, drop = _unique_names(names, path.name)
    cols = [_to_text(table.column(i), names[i], path.name) for i in range(table.num_columns)]
    text = pa.table(dict(zip(internal, cols, strict=False))) if cols else pa.table({})
    return _frame_from_arrow(text, None, drop, path.name, problems)


# =========================================================================== mapping


def _norm(name: str) -> str:
    """Normalised column name: lower case, without spaces, underscores, dashes, dots."""
    return re.sub(r"[^0-9a-z#]+", "", str(name).strip().lower())


# target column -> source names that mean it (any table that has the target column).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": ("item", "item_code", "item_id", "material", "material_no", "material_number", "product",
            "product_code", "product_id", "product_no", "article", "article_no", "part", "part_no",
            "part_number", "sku_code"),
    "name": ("description", "desc", "item_name", "product_name", "customer_name", "name1"),
    "family": ("product_family", "product_group", "item_group", "material_group", "group", "category"),
    "unit_cost": ("cost", "standard_cost", "std_cost", "cost_price", "unit_standard_cost"),
    "unit_price": ("price", "list_price", "net_price", "selling_price", "sales_price", "price_per_unit"),
    "work_center": ("workcenter", "work_centre", "wc", "resource", "machine", "line_resource"),
    "hours_per_unit": ("hours", "hrs_per_unit", "run_hours", "hours_unit", "cycle_hours", "labour_hours"),
    "customer_id": ("customer", "customer_no", "customer_number", "customer_code", "cust", "cust_no",
                    "cust_id", "cust_number", "sold_to", "sold_to_party", "client", "client_id", "account"),
    "region": ("sales_region", "area", "territory", "country_region"),
    "segment": ("customer_segment", "channel", "customer_group", "market_segment"),
    "order_id": ("so", "so_no", "so_number", "order", "order_no", "order_number", "sales_order",
                 "sales_order_no", "sales_order_number", "order_ref", "sales_document"),
    "line_no": ("line", "line_number", "line_id", "item_no", "item_number", "pos", "position", "order_line",
                "line_item", "so_line"),
    "order_date": ("ordered", "order_dt", "ordered_date", "order_created", "created_date", "document_date",
                   "doc_date", "entry_date", "booking_date"),
    "requested_date": ("req_date", "requested", "request_date", "requested_delivery_date", "customer_requested_date",
                       "wish_date", "want_date", "required_date", "need_date"),
    "promised_date": ("confirmed_date", "promise_date", "promised", "confirmed_delivery_date", "commit_date",
                      "committed_date", "confirmation_date", "promised_delivery_date"),
    "quantity": ("qty", "order_qty", "ordered_qty", "order_quantity", "ordered_quantity", "quantity_ordered",
                 "qty_ordered", "units"),
    "delivery_id": ("delivery", "delivery_no", "delivery_number", "shipment", "shipment_id", "shipment_no",
                    "shipment_number", "dn", "delivery_note"),
    "ship_date": ("shipped_date", "shipping_date", "shipped", "ship_dt", "goods_issue_date", "gi_date",
                  "dispatch_date", "dispatched"),
    "delivered_date": ("delivered", "received_date", "receipt_date", "pod_date", "arrival_date",
                       "actual_delivery_date", "delivered_on"),
    "delivered_quantity": ("delivered_qty", "shipped_qty", "shipped_quantity", "qty_delivered",
                           "qty_shipped", "delivery_qty"),
    "error_code": ("error", "errors", "reason_code", "defect", "defect_code", "complaint", "complaint_code",
                   "issue", "issue_code"),
    "snapshot_date": ("snapshot", "snapshot_dt", "as_of", "as_of_date", "forecast_date", "count_date",
                      "stock_date", "created_on"),
    "period": ("month", "forecast_month", "bucket", "period_start", "month_start", "budget_month"),
    "source": ("forecast_source", "forecast_type", "type", "version", "scenario"),
    "on_hand": ("stock", "onhand", "qty_on_hand", "on_hand_qty", "stock_qty", "inventory", "quantity_on_hand",
                "unrestricted_stock"),
    "work_order_id": ("work_order", "work_order_no", "work_order_number", "wo", "wo_no", "wo_number",
                      "production_order", "production_order_no", "prod_order", "mo", "manufacturing_order"),
    "planned_start": ("plan_start", "scheduled_start", "start_planned", "planned_start_date", "sched_start"),
    "planned_end": ("plan_end", "scheduled_end", "scheduled_finish", "planned_finish", "planned_end_date",
                    "sched_end", "due_date"),
    "actual_start": ("start_actual", "actual_start_date", "started", "start_date"),
    "actual_end": ("end_actual", "actual_finish", "actual_end_date", "finished", "completed", "finish_date"),
    "planned_qty": ("plan_qty", "planned_quantity", "target_qty", "scheduled_qty"),
    "produced_qty": ("good_qty", "yield_qty", "produced_quantity", "output_qty", "actual_qty", "confirmed_qty"),
    "scrap_qty": ("scrap", "scrapped_qty", "scrap_quantity", "reject_qty", "rejected_qty"),
    "available_hours": ("hours", "capacity", "capacity_hours", "available", "avail_hours", "hours_available"),
    "survey_date": ("date", "response_date", "answered", "answered_date", "answer_date"),
    "score": ("nps", "nps_score", "rating", "recommend", "likelihood_to_recommend"),
    "units": ("budget_units", "budget_qty", "qty", "quantity", "volume"),
    "revenue": ("budget_revenue", "sales", "amount", "value", "turnover"),
}
# Table-specific additions (checked before SYNONYMS).
TABLE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "deliveries": {
        "quantity": ("delivered_qty", "delivered_quantity", "shipped_qty", "shipped_quantity", "delivery_qty"),
        "delivered_date": ("delivery_date",),
    },
    "production": {"work_order_id": ("order", "order_no", "order_number", "order_id")},
    "inventory": {"snapshot_date": ("date",)},
}


def target_columns(table: str) -> tuple[str, ...]:
    """Columns a file of ``table`` may be mapped to (contract columns plus derivation inputs)."""
    return CONTRACT[table].column_names + tuple(c.name for c in EXTRA_COLUMNS.get(table, ()))


def suggest_mapping(table: str, source_columns: Iterable[str]) -> dict[str, str]:
    """Suggest source column -> contract column for ``table``.

    Exact matches of the normalised name (case, spaces, underscores, dashes and dots do
    not matter) win, then table-specific and general synonyms (``qty`` -> quantity,
    ``material`` -> sku, ``cust_no`` -> customer_id, ...). Each source and each target is
    used at most once; unmatched columns are left out.
    """
    if table not in CONTRACT:
        raise KeyError(f"unknown table {table!r}")
    targets = target_columns(table)
    sources = [str(s) for s in source_columns]
    result: dict[str, str] = {}
    used: set[str] = set()
    by_norm: dict[str, list[str]] = {}
    for s in sources:
        by_norm.setdefault(_norm(s), []).append(s)

    def take(target: str, names: Iterable[str]) -> bool:
        for n in names:
            for s in by_norm.get(_norm(n), ()):
                if s not in result:
                    result[s] = target
                    used.add(target)
                    return True
        return False

    for target in targets:  # exact names first
        take(target, [target])
    specific = TABLE_SYNONYMS.get(table, {})
    for target in targets:
        if target in used:
            continue
        if not take(target, specific.get(target, ())):
            take(target, SYNONYMS.get(target, ()))
    return {s: result[s] for s in sources if s in result}


def apply_mapping(df: pd.DataFrame, mapping: Mapping[str, str | None]) -> pd.DataFrame:
    """Rename mapped columns (source -> contract). A column mapped to None or "" is dropped
    (ignored). Other columns stay as they are; ``attrs`` and the row index are kept."""
    cols = set(map(str, df.columns))
    drop = [s for s, t in mapping.items() if not t and s in cols]
    rename = {s: t for s, t in mapping.items() if t and s in cols and s != t}
    out = df.drop(columns=drop) if drop else df
    return out.rename(columns=rename) if rename else out.copy(deep=False)


def _check_mapping(table: str, mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    if table not in CONTRACT:
        raise ValueError(f"unknown table {table!r} (tables: {', '.join(CONTRACT)})")
    allowed = set(target_columns(table))
    out: dict[str, str | None] = {}
    for s, t in mapping.items():
        if t and t not in allowed:
            raise ValueError(f"{table}: cannot map {s!r} to {t!r}: not a column of {table} "
                             f"({', '.join(sorted(allowed))})")
        out[str(s)] = t or None
    targets = [t for t in out.values() if t]
    dups = sorted({t for t in targets if targets.count(t) > 1})
    if dups:
        raise ValueError(f"{table}: several columns are mapped to {', '.join(dups)}")
    return out


@access.requires("mapping")
def save_mapping(db_path: str | Path | None, source: str, table: str, mapping: Mapping[str, str | None]) -> None:
    """Save the column mapping of ``table`` for the source system ``source`` (one write)."""
    if not source or not str(source).strip():
        raise ValueError("a mapping needs the name of its source system")
    clean = _check_mapping(table, mapping)
    with db.writer(db_path) as con:
        con.execute(
            "INSERT OR REPLACE INTO column_mappings VALUES ($source, $table, $mapping, $now)",
            {"source": str(source).strip(), "table": table, "mapping": json.dumps(clean),
             "now": datetime.now(UTC).replace(tzinfo=None)},
        )


def load_mappings(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, str | None]]:
    """The saved mappings of ``source``: {table: {source column: contract column or None}}."""
    rows = con.execute(
        "SELECT table_name, mapping_json FROM column_mappings WHERE source = $s ORDER BY table_name",
        {"s": source},
    ).fetchall()
    return {t: json.loads(m) for t, m in rows}


def list_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the source systems with saved mappings."""
    return [r[0] for r in con.execute("SELECT DISTINCT source FROM column_mappings ORDER BY source").fetchall()]


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
        return (f"ambiguous date {r}: DD/MM/YYYY or MM/DD/YYYY? No value in this column tells "
                f"(none has a part above 12); write dates as YYYY-MM-DD")
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
    EMPTY: "empty values", NOT_NUMBER: "not a number", NOT_INTEGER: "not a whole number",
    NOT_FINITE: "not finite", NEGATIVE: "negative values", BAD_DATE: "not a date",
    AMBIGUOUS_DATE: "ambiguous dates", MIXED_DATE: "mixed date formats", IMPLAUSIBLE_DATE: "implausible dates",
    NOT_FIRST_OF_MONTH: "not first of month", OUT_OF_RANGE: "out of range",
    QTY_WITHOUT_DATE: "delivered quantity without date",
}


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

    def add_group(self, file: str, column: str | None, label: str, total: int,
                  examples: list[tuple[int | None, str]]) -> None:
        for row, text in examples[:PROBLEM_CAP]:
            self.result.problems.append(Problem(file, row, column, text))
        self.result.problem_count += total
        if total > PROBLEM_CAP:
            self.result.problems.append(Problem(
                file, None, column, f"... and {total - PROBLEM_CAP:,} more rows with this problem ({label})"))

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
                # A file named in file_names but absent from frames could not be read (already reported).
                if t not in self.frames and t not in self.file_names:
                    self.add(t, None, None,
                             f"missing file: {t}.csv (or .xlsx/.parquet) is required in replace mode")
            empty = []
            for t in LOAD_ORDER:
                if t not in self.frames and CONTRACT[t].optional:
                    derived = (t == "deliveries" and "orders" in self.specs
                               and any(c.name in self.specs["orders"].columns for c in ORDER_DELIVERY_COLUMNS[:2]))
                    if not derived:
                        empty.append(t)
            if empty:
                self.note(f"no file for {', '.join(empty)}: {'these tables' if len(empty) > 1 else 'the table'} "
                          "will be empty (replace mode)")
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
            stats.append(_one(
                self.con,
                f"SELECT count(*), count(*) FILTER (WHERE {p1} BETWEEN 13 AND 31), "
                f"count(*) FILTER (WHERE {p2} BETWEEN 13 AND 31) "
                f"FROM (SELECT {x} AS x FROM raw_{spec.name} WHERE {_q(c)} LIKE '%/%/%') "
                f"WHERE regexp_full_match(x, '{_SLASH_RE}')"
            ))
        row = [v for st in stats for v in st]
        out = {}
        for i, c in enumerate(dcols):
            n, first_gt12, second_gt12 = row[3 * i: 3 * i + 3]
            if not n:
                continue
            if first_gt12 and not second_gt12:
                out[c] = "dmy"
                self.note(f"{spec.file} {c}: slash dates read as DD/MM/YYYY ({first_gt12:,} have a day above 12 first)")
            elif second_gt12 and not first_gt12:
                out[c] = "mdy"
                self.note(f"{spec.file} {c}: slash dates read as MM/DD/YYYY ({second_gt12:,} have a day above 12 second)")
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
                    s2.append(f"CASE WHEN regexp_full_match({qc}, '[+-]?[0-9]*,[0-9]+') "
                              f"THEN TRY_CAST(replace({qc}, ',', '.') AS DOUBLE) ELSE TRY_CAST({qc} AS DOUBLE) END AS {n}")
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
                range_sql = (f"WHEN {n} < {rng[0]} OR {n} > {rng[1]} THEN {OUT_OF_RANGE}" if rng
                             else (f"WHEN {n} < 0 THEN {NEGATIVE}" if col.non_negative else ""))
                extra = ""
                if t == "orders" and c == "delivered_quantity":
                    dates = [x for x in ("ship_date", "delivered_date") if x in spec.columns]
                    nodate = " AND ".join(f"{_q(x)} IS NULL" for x in dates) or "true"
                    extra = f"WHEN {n} > 0 AND {nodate} THEN {QTY_WITHOUT_DATE}"
                errs.append(f"CAST(CASE WHEN {qc} IS NULL THEN {empty} {bad_kind} {range_sql} {extra} END AS TINYINT)"
                            f" AS {_q('__e_' + c)}")
            elif col.type == DATE:
                s2.append(f"CASE WHEN length({qc}) > 10 THEN regexp_replace({qc}, '{_TIME_SUFFIX_RE}', '') "
                          f"ELSE {qc} END AS {d}")
                fmt = slash.get(c, "dmy")
                if fmt in ("dmy", "mdy"):
                    sl = f"CAST(try_strptime({d}, '{'%d/%m/%Y' if fmt == 'dmy' else '%m/%d/%Y'}') AS DATE)"
                    slash_err = ""
                elif fmt == "ambiguous":
                    same = f"TRY_CAST(split_part({d}, '/', 1) AS INTEGER) = TRY_CAST(split_part({d}, '/', 2) AS INTEGER)"
                    sl = f"CASE WHEN {same} THEN CAST(try_strptime({d}, '%d/%m/%Y') AS DATE) END"
                    slash_err = (f"WHEN {p} IS NULL AND regexp_full_match({d}, '{_SLASH_RE}') AND NOT coalesce({same}, false) "
                                 f"THEN {AMBIGUOUS_DATE}")
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
                errs.append(f"CAST(CASE WHEN {qc} IS NULL THEN {empty} {slash_err} WHEN {p} IS NULL THEN {BAD_DATE} "
                            f"WHEN NOT ({plausible}) THEN {IMPLAUSIBLE_DATE} {fom} END AS TINYINT) AS {_q('__e_' + c)}")
            else:  # TEXT
                final.append(f"{qc}")
                errs.append(f"CAST(CASE WHEN {qc} IS NULL THEN {empty} END AS TINYINT) AS {_q('__e_' + c)}")
        for c in spec.missing:
            final.append(f"CAST(NULL AS {DUCKDB_TYPE[CONTRACT[t].column(c).type]}) AS {_q(c)}")
        inner = f"SELECT __row, __pos{''.join(', ' + x for x in s1)} FROM raw_{t}"
        if s2:
            inner = f"SELECT *, {', '.join(s2)} FROM ({inner})"
        if s3:
            inner = f"SELECT *, {', '.join(s3)} FROM ({inner})"
        select = ", ".join(["__row", "__pos"] + final + errs)
        # Table and column names are constants from the contract.
        self.con.execute(f"CREATE TEMP TABLE typed_{t} AS SELECT {select} FROM ({inner})")  # constant contract identifiers
        self.report_value_errors(spec)

    def report_value_errors(self, spec: _Spec) -> None:
        cols = list(spec.columns)
        if not cols or spec.n == 0:
            return
        counts = _one(
                self.con,
            "SELECT " + ", ".join(f"count({_q('__e_' + c)})" for c in cols) + f" FROM typed_{spec.name}"
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
                self.add_group(spec.file, c, _KIND_LABEL.get(code, "invalid"), total,
                               [(r["__row"], _value_message(code, c, r["raw"])) for r in rows])

    # ------------------------------------------------------------------ derivations
    def derive(self) -> None:
        orders = self.specs.get("orders")
        if orders is not None:
            f = orders.file
            if "line_no" in orders.missing:
                self.con.execute(
                    "CREATE OR REPLACE TEMP TABLE typed_orders AS SELECT * REPLACE ("
                    "row_number() OVER (PARTITION BY order_id ORDER BY __pos) AS line_no) "
                    "FROM typed_orders ORDER BY __pos"
                )
                self.note(f"orders ({f}): no line_no column: numbered lines 1..n within each order_id "
                          f"in file order ({orders.n:,} rows)")
            if "promised_date" in orders.missing:
                self.note(f"orders ({f}): no promised_date column: left empty; OTIF to promise will show "
                          "'not available: needs promised_date'")
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

    def derive_deliveries(self, orders: _Spec, date_cols: list[str]) -> None:
        cols = orders.columns
        ship = "ship_date" if "ship_date" in cols else "CAST(NULL AS DATE)"
        delivered = ("coalesce(delivered_date, ship_date)" if len(date_cols) == 2 else date_cols[0])
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
        qty_how = "delivered_quantity, else the ordered quantity" if "delivered_quantity" in cols else "the ordered quantity"
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
                self.con.execute(f"CREATE TEMP TABLE typed_{t} AS SELECT {cols}, "
                                 f"CAST(NULL AS BIGINT) AS __row, CAST(NULL AS BIGINT) AS __pos WHERE false")
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
                self.con.execute(f"CREATE TEMP VIEW cur_{t} AS SELECT {sel}, __row FROM typed_{t}")

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
                    ex = [(r["__row"], f"unknown order line {r['order_id']!r} line {r['line_no']} (not in {where})")
                          for r in rows]
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
                ex = [(r["__row"], f"delivered {r['delivered_date']} before the order date {r['order_date']} "
                                   f"(order {r['order_id']} line {r['line_no']})") for r in rows]
                self.add_group(dfile, dl.get("delivered_date", "delivered_date"), "delivered before ordered", total, ex)
            else:
                ex = [(r["__row"], f"order date {r['order_date']} is after the stored delivery "
                                   f"{r['delivery_id']} delivered {r['delivered_date']}") for r in rows]
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
                ex = [(r["__row"], f"over-delivery: deliveries of order {r['order_id']} line {r['line_no']} "
                                   f"total {_fmt(r['delivered'])} but {_fmt(r['quantity'])} were ordered")
                      for r in rows]
                self.add_group(dfile, dl.get("quantity", "quantity"), "over-delivery", total, ex)
            else:
                ex = [(r["__row"], f"ordered quantity {_fmt(r['quantity'])} is less than the "
                                   f"{_fmt(r['delivered'])} already delivered") for r in rows]
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


def _series_to_text(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text (missing values null), whatever its pandas dtype."""
    frame = s.to_frame(name="v")
    frame.attrs = {}  # attrs hold Problem objects, which Arrow's pandas metadata cannot serialise
    try:
        arr = pa.Table.from_pandas(frame, preserve_index=False).column(0)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        vals = [None if (v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT) else
                (_cell_text(v) if not isinstance(v, str) else v) for v in s.tolist()]
        return pa.array(vals, pa.string())
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_floating(arr.type):  # NaN from pandas means missing
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    try:
        return _to_text(arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr]), str(s.name), "")
    except ReadError:
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


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
        return ImportReport(ok=ok, mode=mode, rows=dict(val.rows), problems=problems, notes=notes,
                            seconds=time.perf_counter() - t0, problem_count=count, source=source,
                            db_path=str(path), **kw)

    if not val.ok:
        _call(progress, 1.0, "not imported: see the problems")
        return report(False, val.problems, val.problem_count)
    try:
        totals, import_id = _write(path, val, mode, source, notes, stage(0.6, 1.0))
    except _Abort as e:
        _call(progress, 1.0, "not imported: see the problems")
        return report(False, e.problems, len(e.problems))
    except duckdb.ConstraintException as e:  # validation should make this impossible
        _call(progress, 1.0, "not imported: see the problems")
        problem = Problem("database", None, None, f"the database rejected the data ({e}); nothing was written")
        return report(False, [problem], 1)
    return report(True, [], 0, totals=totals, import_id=import_id)


def _write(path: Path, val: Validation, mode: str, source: str | None, notes: list[str],
           progress: Progress) -> tuple[dict[str, int], int]:
    names = [t for t in LOAD_ORDER if t in val.tables]
    before = None
    if path.exists():
        with contextlib.suppress(db.DatabaseError, duckdb.Error):
            reader = db.open_reader(path)
            try:  # constant contract table names
                before = {t: _one(reader, f"SELECT count(*) FROM {t}")[0] for t in names}
            finally:
                reader.close()
    access.note(target=f"{mode} import" + (f" from {source}" if source else ""), before=before,
                after={t: int(val.rows[t]) for t in names})
    with db.writer(path, fresh=(mode == "replace")) as con:
        for i, t in enumerate(names):
            progress(0.05 + 0.6 * i / max(1, len(names)), f"writing {t} ({val.rows[t]:,} rows)")
            cols = ", ".join(_q(c) for c in CONTRACT[t].column_names)  # constant contract names
            con.register("__src", val.tables[t])
            try:
                if mode == "upsert" and not CONTRACT[t].key:
                    before = _one(con, f"SELECT count(*) FROM {t}")[0]
                    con.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM __src "
                                f"EXCEPT ALL SELECT {cols} FROM {t}")
                    added = _one(con, f"SELECT count(*) FROM {t}")[0] - before
                    if added < val.rows[t]:
                        notes.append(f"{t}: {val.rows[t] - added:,} rows already stored were skipped")
                elif mode == "upsert":
                    con.execute(f"INSERT OR REPLACE INTO {t} ({cols}) SELECT {cols} FROM __src")
                else:
                    con.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM __src")
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
        import_id = _one(con, "SELECT coalesce(max(import_id), 0) + 1 FROM import_log")[0]
        con.execute(
            "INSERT INTO import_log VALUES ($id, $at, $mode, $source, $tables, $notes)",
            {"id": import_id, "at": datetime.now(UTC).replace(tzinfo=None), "mode": mode,
             "source": source, "tables": json.dumps(val.rows), "notes": json.dumps(notes)},
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
        con.execute("INSERT INTO forecasts SELECT f.* FROM __previous_forecasts f "
                    "WHERE f.sku IN (SELECT sku FROM products)")
    finally:
        con.unregister("__previous_forecasts")
    kept = _one(con, "SELECT count(*) FROM forecasts")[0]
    if not total:
        return []
    note = f"forecasts: no file given, kept the {kept:,} stored forecast rows (the forecast history)"
    if total > kept:
        note += f"; dropped {total - kept:,} rows of SKUs no longer in products"
    return [note]


def find_files(folder: str | Path) -> tuple[dict[str, Path], list[Problem], list[str]]:
    """The contract files in ``folder``: ({table: path}, problems, notes about ignored files)."""
    p = Path(folder)
    if not p.is_dir():
        return {}, [Problem(str(folder), None, None, "folder not found")], []
    found: dict[str, list[Path]] = {}
    ignored = []
    for f in sorted(p.iterdir()):
        if not f.is_file() or f.name.startswith((".", "~$")):
            continue
        t = table_for_file(f)
        if t is None:
            ignored.append(f.name)
        else:
            found.setdefault(t, []).append(f)
    problems = [
        Problem(t, None, None, f"several files for table {t}: {', '.join(x.name for x in fs)} (keep one)")
        for t, fs in found.items() if len(fs) > 1
    ]
    notes = [f"ignored files (not named after a contract table): {', '.join(ignored)}"] if ignored else []
    return {t: fs[0] for t, fs in found.items() if len(fs) == 1}, problems, notes


@access.requires("import")
def import_folder(
    db_path: str | Path | None,
    folder: str | Path,
    mode: str = "replace",
    source: str | None = None,
    mappings: Mapping[str, Mapping[str, str | None]] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read every contract file in ``folder``, map its columns, validate and import.

    Column mappings: ``mappings`` ({table: {source column: contract column}}) if given,
    else the mappings saved for ``source`` (if any), completed by :func:`suggest_mapping`
    for columns they do not cover.
    """
    t0 = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    path = db.resolve_db_path(db_path)
    files, problems, notes = find_files(folder)
    if not Path(folder).is_dir():
        return ImportReport(ok=False, mode=mode, rows={}, problems=problems, notes=notes,
                            seconds=time.perf_counter() - t0, problem_count=len(problems), source=source,
                            db_path=str(path))
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
            notes.append(f"{f.name}: columns mapped: " + ", ".join(
                f"{s} -> {m}" if m else f"{s} ignored" for s, m in renamed.items()))
        enc = df.attrs.get("encoding")
        if enc in ("cp1252", "latin-1"):
            notes.append(f"{f.name}: not UTF-8; read as {'Windows-1252' if enc == 'cp1252' else 'Latin-1'}")
        if df.attrs.get("decimal_comma"):
            notes.append(f"{f.name}: ';'-separated: numbers may use a decimal comma")
        frames[t] = apply_mapping(df, mapping)
    report = import_frames(path, frames, file_names, mode=mode, source=source, progress=progress,
                           _problems=problems, _notes=notes)
    report.seconds = time.perf_counter() - t0
    return report


def _effective_mapping(table: str, columns: list[str], saved: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Saved mapping entries for columns in the file, then suggestions for the rest."""
    mapping: dict[str, str | None] = {}
    if saved:
        mapping = {s: (t or None) for s, t in saved.items() if s in columns}
    taken = {t for t in mapping.values() if t}
    rest = [c for c in columns if c not in mapping]
    for s, t in suggest_mapping(table, rest).items():
        if t not in taken:
            mapping[s] = t
            taken.add(t)
    return mapping


# =========================================================================== audit


def import_history(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> pd.DataFrame:
    """The import log, newest first: import_id, imported_at, mode, source, rows, tables, notes."""
    sql = ("SELECT import_id, imported_at, mode, source, tables_json, notes_json FROM import_log "
           "ORDER BY import_id DESC")
    rows = con.execute(sql + (" LIMIT $n" if limit else ""), {"n": limit} if limit else {}).fetchall()
    out = []
    for import_id, at, mode, source, tables_json, notes_json in rows:
        tables = json.loads(tables_json) if tables_json else {}
        out.append({"import_id": import_id, "imported_at": at, "mode": mode, "source": source,
                    "rows": int(sum(v for v in tables.values() if isinstance(v, (int, float)))),
                    "tables": tables, "notes": json.loads(notes_json) if notes_json else []})
    return pd.DataFrame(out, columns=["import_id", "imported_at", "mode", "source", "rows", "tables", "notes"])


# Referential checks on the stored data (constant SQL). "expect 0" checks must be 0.
_AUDIT_CHECKS: tuple[tuple[str, str, bool], ...] = (
    *((name, sql, True) for name, sql in _INTEGRITY_SQL.items()),
    ("over-delivered order lines",
     "SELECT count(*) FROM (SELECT order_id, line_no, sum(quantity) AS q FROM deliveries GROUP BY ALL) d "
     "JOIN orders o USING (order_id, line_no) WHERE d.q > o.quantity + 1e-9 * greatest(1, abs(o.quantity))", True),
    ("deliveries before the order date",
     "SELECT count(*) FROM deliveries d JOIN orders o USING (order_id, line_no) WHERE d.delivered_date < o.order_date",
     True),
    ("order lines in orders but not in fact_order_lines",
     "SELECT (SELECT count(*) FROM orders) - (SELECT count(*) FROM fact_order_lines)", True),
    ("open order lines past their promised date",
     "SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, line_no, sum(quantity) AS q FROM deliveries "
     "GROUP BY ALL) d USING (order_id, line_no) WHERE coalesce(d.q, 0) < o.quantity "
     "AND o.promised_date < (SELECT max(delivered_date) FROM deliveries)", False),
    ("order lines without any delivery past their requested date",
     "SELECT count(*) FROM orders o ANTI JOIN deliveries d USING (order_id, line_no) "
     "WHERE o.requested_date < (SELECT max(delivered_date) FROM deliveries)", False),
    ("order lines without promised_date",
     "SELECT count(*) FROM orders WHERE promised_date IS NULL", False),
)


def data_audit(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
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
        "imports": import_history(con, limit=10),
        "data_version": db.data_version(con),
        "updated_at": db.get_meta(con, "updated_at"),
    }
