"""Map, with a mapping file: which file (or SQL) feeds each contract table, and which source column (or SQL
expression) feeds each contract column. The same TOML on the import page and the command line:

```toml
name = "shop export"                 # the source system
[orders]                             # a contract table
from = "export.csv"                  # a file in FOLDER; "book.xlsx:Sheet name" picks a sheet
order_id = "Order ID"                # contract column = source column
unit_price = '= "Sales" / "Quantity"'  # or, after '=', a DuckDB SQL expression over the source columns
[products]
from = "export.csv"                  # several tables may come from one file
sku = "Product ID"
[customers]
sql = '''SELECT "Customer ID" AS customer_id, max("Segment") AS segment FROM export GROUP BY 1'''
```

* Every source column is text exactly as in the file; each file of the folder is a view named after its file
  name without extension (other characters than letters, digits and ``_`` become ``_``). A workbook's first
  sheet is the view ``<book>``, every sheet also ``<book>_<sheet>``.
* Expressions and ``sql`` run in an in-memory DuckDB connection that holds only those views, with external
  access disabled and the configuration locked (no files, no network, no extensions, no way to re-enable them).
  An expression that does arithmetic on text columns (``"Sales" / "Quantity"``) is retried with the columns it
  names read as numbers (``TRY_CAST(... AS DOUBLE)``, a decimal comma accepted in ``;`` files), and a note says so.
* Source columns that no entry names (and no expression or ``sql`` mentions) are listed in the report.
* ``products`` and ``customers`` read from a file that also feeds another table (an order-line export), or from
  ``sql``, get one row per key: for each column the most frequent non-empty value among the key's rows, ties to
  the first seen; the report counts, per column, the keys whose rows disagreed. A master file of their own keeps
  the usual rule: a repeated key is a problem.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics import access, db
from analytics.ingest.common import FILE_EXTENSIONS, Problem, Progress, ReadError, _call, _q
from analytics.ingest.map import suggest_mapping, target_columns
from analytics.ingest.read import Source, _to_text, read_notes, read_source, table_for_file, xlsx_sheets
from analytics.schema import CONTRACT, DERIVED_FROM_ORDERS, LOAD_ORDER

#: Tables collapsed to one row per key when fed from a file with repeated keys (an order-line export).
MASTER_KEYS = {"products": "sku", "customers": "customer_id"}
#: What the KPIs need of the orders (the rest is optional, see analytics/schema.py).
ORDERS_NEED = ("order_id", "customer_id", "sku", "order_date", "quantity")
#: Names of a line's net amount in exports: a draft mapping prices the line as amount / quantity.
LINE_AMOUNT_NAMES = {"sales", "amount", "netamount", "netvalue", "lineamount", "linetotal", "subtotal",
                     "pricesubtotal", "netwr", "revenue", "salesamount", "extendedamount"}


def _norm_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())


class MappingError(ValueError):
    """The mapping file itself is wrong (TOML syntax, an unknown table or column): one line per problem."""


@dataclass(frozen=True)
class TableMapping:
    """One ``[table]`` of a mapping file: ``source`` ("file.csv" or "book.xlsx:Sheet") with ``columns``
    ((contract column, source column or "= expression"), ...), or a whole ``sql`` SELECT."""

    table: str
    source: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    sql: str | None = None

    @property
    def file(self) -> str | None:
        return _split_source(self.source)[0] if self.source else None

    @property
    def sheet(self) -> str | None:
        return _split_source(self.source)[1] if self.source else None


@dataclass(frozen=True)
class MappingFile:
    """A parsed mapping file: the source system's ``name`` and one :class:`TableMapping` per contract table."""

    name: str
    tables: tuple[TableMapping, ...] = ()

    def table(self, name: str) -> TableMapping | None:
        return next((t for t in self.tables if t.table == name), None)

    def to_toml(self) -> str:
        """The mapping as TOML text (what :func:`parse_mapping` reads back)."""
        out = [f"name = {_toml_str(self.name)}"]
        for t in self.tables:
            out.append(f"\n[{t.table}]")
            if t.sql is not None:
                out.append(f"sql = {_toml_multiline(t.sql)}")
                continue
            out.append(f"from = {_toml_str(t.source or '')}")
            out.extend(f"{c} = {_toml_str(v)}" for c, v in t.columns)
        return "\n".join(out) + "\n"


def _toml_str(s: str) -> str:
    if "'" not in s and "\n" not in s and not any(ord(ch) < 32 for ch in s):
        return f"'{s}'" if '"' in s or "\\" in s else f'"{s}"'
    esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    esc = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", esc)
    return f'"{esc}"'


def _toml_multiline(s: str) -> str:
    if "'''" not in s and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", s):
        return "'''\n" + s + "'''"
    return _toml_str(s)


def _split_source(source: str) -> tuple[str, str | None]:
    """'book.xlsx:Sheet 1' -> ('book.xlsx', 'Sheet 1'); 'export.csv' -> ('export.csv', None)."""
    for ext in FILE_EXTENSIONS:
        i = source.lower().find(ext + ":")
        if i >= 0:
            return source[: i + len(ext)], source[i + len(ext) + 1 :]
    return source, None


def view_name(file_name: str) -> str:
    """The view a file is seen as in expressions and ``sql``: its name without extension, other characters
    than letters, digits and ``_`` replaced by ``_`` (``Sales Orders 2024.csv`` -> ``Sales_Orders_2024``)."""
    return re.sub(r"[^0-9A-Za-z_]", "_", Path(file_name).stem)


def parse_mapping(text: str, origin: str = "mapping.toml") -> MappingFile:
    """Parse and check a mapping file's text. Raises :class:`MappingError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{origin}: not valid TOML ({e})") from e
    problems: list[str] = []
    name = data.get("name", "")
    if not isinstance(name, str):
        problems.append(f"{origin}: name must be text (the source system)")
        name = ""
    tables = []
    for key, value in data.items():
        if key == "name":
            continue
        if key not in CONTRACT:
            close = difflib.get_close_matches(key, list(CONTRACT), n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            problems.append(f"{origin}: [{key}] is not a contract table ({', '.join(CONTRACT)}){hint}")
            continue
        if not isinstance(value, dict):
            problems.append(f"{origin}: {key} must be a table: [{key}] with from = ... or sql = ...")
            continue
        allowed = set(target_columns(key))
        entries = {k: v for k, v in value.items() if k not in ("from", "sql")}
        for k, v in value.items():
            if not isinstance(v, str):
                problems.append(f"{origin}: [{key}] {k} must be text, not {type(v).__name__}")
        if ("from" in value) == ("sql" in value):
            problems.append(f'{origin}: [{key}] needs either from = "file" or sql = "SELECT ..." (one of them)')
            continue
        if "sql" in value:
            if entries:
                problems.append(
                    f"{origin}: [{key}] has sql, so column entries ({', '.join(entries)}) have no "
                    "effect: name the columns in the SELECT instead"
                )
            tables.append(TableMapping(key, sql=str(value["sql"])))
            continue
        cols = []
        for c, v in entries.items():
            if c not in allowed:
                close = difflib.get_close_matches(c, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                problems.append(f"{origin}: [{key}] {c} is not a column of {key} ({', '.join(sorted(allowed))}){hint}")
            elif isinstance(v, str) and v.strip():
                cols.append((c, v))
            else:
                problems.append(f"{origin}: [{key}] {c} is empty (name a source column, or remove the line)")
        src = value.get("from")
        if isinstance(src, str) and not src.strip():
            problems.append(f"{origin}: [{key}] from is empty (name a file of the folder)")
        tables.append(TableMapping(key, source=str(src).strip(), columns=tuple(cols)))
    if problems:
        raise MappingError("\n".join(problems))
    order = {t: i for i, t in enumerate(LOAD_ORDER)}
    return MappingFile(name.strip(), tuple(sorted(tables, key=lambda t: order[t.table])))


def load_mapping(path: str | Path) -> MappingFile:
    """Read and parse a mapping file (UTF-8, a byte-order mark allowed)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise MappingError(f"{p}: cannot read the mapping file ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise MappingError(f"{p.name}: the mapping file is not UTF-8 text") from e
    m = parse_mapping(text, p.name)
    return m if m.name else MappingFile(p.stem, m.tables)


# =========================================================================== a first draft


def draft_mapping(columns_by_file: Mapping[str, Iterable[str]], name: str = "") -> MappingFile:
    """A first mapping for the files a user has ({file name: header}), for the page's editor to start from.

    A file named after a contract table feeds that table. Of the other files, the first whose columns cover
    what the orders need (matched by name and synonyms, see :func:`suggest_mapping`) feeds ``orders``, and
    ``products`` / ``customers`` too when it holds their keys and something more (a flat order-line export).
    Any other file feeds the table whose required columns it covers best.
    """
    tables: dict[str, TableMapping] = {}

    def entries(table: str, cols: list[str]) -> tuple[tuple[str, str], ...]:
        m = {t: src for src, t in suggest_mapping(table, cols).items()}
        return tuple((c, m[c]) for c in target_columns(table) if c in m)

    files = {f: [str(c) for c in cols] for f, cols in columns_by_file.items()}
    rest = []
    for f, cols in files.items():
        t = table_for_file(f)
        if t is not None and t not in tables:
            tables[t] = TableMapping(t, f, entries(t, cols))
        else:
            rest.append(f)
    for f in rest:
        cols = files[f]
        got = dict(entries("orders", cols))
        if "orders" not in tables and all(c in got for c in ORDERS_NEED):
            e = entries("orders", cols)
            amount = next((c for c in cols if _norm_name(c) in LINE_AMOUNT_NAMES and c not in got.values()), None)
            if "unit_price" not in got and amount is not None:  # a line amount: the price is amount / quantity
                e = (*e, ("unit_price", f'= "{amount}" / "{got["quantity"]}"'))
            tables["orders"] = TableMapping("orders", f, e)
            for master, key in MASTER_KEYS.items():
                e = entries(master, cols)
                if master not in tables and key in dict(e) and len(e) > 1:
                    tables[master] = TableMapping(master, f, e)
            continue
        best = None
        for t in LOAD_ORDER:
            if t in tables:
                continue
            e = dict(entries(t, cols))
            need = [c.name for c in CONTRACT[t].columns if c.required]
            if all(c in e for c in need) and len(e) >= 2 and (best is None or len(e) > len(best[1])):
                best = (t, e)
        if best is not None:
            tables[best[0]] = TableMapping(best[0], f, entries(best[0], cols))
    order = {t: i for i, t in enumerate(LOAD_ORDER)}
    return MappingFile(name, tuple(sorted(tables.values(), key=lambda t: order[t.table])))


# =========================================================================== running a mapping


@dataclass
class Mapped:
    """What running a mapping over a folder gave: text ``frames`` with contract column names (indexed by the
    source row), the ``file_names`` problems should name, ``problems`` found on the way (missing files, bad
    expressions), ``notes``, the ``unmapped`` source columns per file and the ``disagreements`` per table and
    column (keys whose rows disagreed when collapsed to one row per key)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    file_names: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    disagreements: dict[str, dict[str, int]] = field(default_factory=dict)


def _quoted_identifiers(sql: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, name) of each "double-quoted identifier" outside 'string literals' and comments."""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and (j + 1 >= n or sql[j + 1] != "'")):
                j += 2 if sql[j] == "'" else 1
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif ch == '"':
            j, buf = i + 1, []
            while j < n:
                if sql[j] == '"':
                    if j + 1 < n and sql[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(sql[j])
                j += 1
            yield i, j + 1, "".join(buf)
            i = j + 1
        else:
            i += 1


def _mentioned(sql: str, columns: Iterable[str]) -> set[str]:
    """Source columns an expression or query names: quoted, or as a bare word (case-insensitive)."""
    quoted = {name for _, _, name in _quoted_identifiers(sql)}
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    return {c for c in columns if c in quoted or c.lower() in words or c.lower() in {q.lower() for q in quoted}}


def _as_numbers(expr: str, columns: set[str], decimal_comma: bool) -> str:
    """The expression with each quoted source column read as a number."""
    out, last = [], 0
    for start, end, name in _quoted_identifiers(expr):
        if name in columns:
            col = _q(name)
            if decimal_comma:
                col = f"replace({col}, ',', '.')"
            out.append(expr[last:start] + f"TRY_CAST({col} AS DOUBLE)")
            last = end
    return "".join(out) + expr[last:]


def _sandbox() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})


def _lock(con: duckdb.DuckDBPyConnection) -> None:
    """No files, no network, no extensions from here on, and no way to turn them back on."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _folder_files(folder: Path) -> dict[str, Path]:
    return {
        f.name: f
        for f in sorted(folder.iterdir())
        if f.is_file() and not f.name.startswith((".", "~$")) and f.suffix.lower() in FILE_EXTENSIONS
    }


def run_mapping(
    folder: str | Path, mapping: MappingFile, progress: Progress | None = None, origin: str = "mapping"
) -> Mapped:
    """Read the files ``mapping`` names in ``folder`` and build one text frame per mapped contract table.

    Nothing is validated here beyond the mapping itself (missing files or columns, failing expressions):
    the frames go on to :func:`analytics.ingest.validate`.
    """
    out = Mapped()
    folder = Path(folder)
    if not folder.is_dir():
        out.problems.append(Problem(str(folder), None, None, "folder not found"))
        return out
    files = _folder_files(folder)
    by_view: dict[str, list[str]] = {}
    for name in files:
        by_view.setdefault(view_name(name).lower(), []).append(name)
    for v, names in by_view.items():
        if len(names) > 1:
            out.problems.append(
                Problem(names[0], None, None, f"{' and '.join(names)} would both be the view {v}: rename one")
            )

    # Which (file, sheet) sources to read: every `from`, and every file a `sql` mentions by its view name.
    wanted: dict[tuple[str, str | None], None] = {}
    for t in mapping.tables:
        if t.source is not None:
            if t.file not in files:
                close = difflib.get_close_matches(t.file or "", list(files), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                out.problems.append(
                    Problem(
                        origin,
                        None,
                        f"[{t.table}] from",
                        f"no file {t.file!r} in the folder ({', '.join(files) or 'empty'}){hint}",
                    )
                )
            else:
                wanted[(t.file, t.sheet)] = None
        elif t.sql is not None:
            words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", t.sql)}
            words |= {name.lower() for _, _, name in _quoted_identifiers(t.sql)}
            for name in files:
                v = view_name(name).lower()
                if v in words or any(w.startswith(v + "_") for w in words):
                    wanted[(name, None)] = None
    sources: dict[tuple[str, str | None], Source] = {}
    total = sum(files[f].stat().st_size for f, _ in wanted) or 1
    done = 0
    for file, sheet in list(wanted):
        _call(progress, 0.9 * done / total, f"reading {file}")
        done += files[file].stat().st_size
        try:
            if file.lower().endswith(".xlsx") and sheet is None and any(t.sql is not None for t in mapping.tables):
                for i, sh in enumerate(xlsx_sheets(files[file])):
                    src = read_source(files[file], sh)
                    sources[(file, sh)] = src
                    if i == 0:
                        sources[(file, None)] = src
            else:
                sources[(file, sheet)] = read_source(files[file], sheet)
        except ReadError as e:
            out.problems.append(
                Problem(file if sheet is None else f"{file}:{sheet}", None, None, str(e).removeprefix(f"{file}: "))
            )
    for (file, sheet), src in sources.items():
        if sheet is None or (file, None) not in sources or sources[(file, None)] is not src:
            out.notes.extend(read_notes(src, src.file))
            out.problems.extend(src.attrs.get("read_problems") or [])

    con = _sandbox()
    try:
        views: dict[tuple[str, str | None], str] = {}
        for (file, sheet), src in sources.items():
            v = view_name(file) if sheet is None else f"{view_name(file)}_{re.sub(r'[^0-9A-Za-z_]', '_', sheet)}"
            if (file, sheet) in views:
                continue
            con.register(v, src.table)
            views[(file, sheet)] = v
        _lock(con)
        for t in mapping.tables:
            _call(progress, 0.9, f"mapping {t.table}")
            if t.source is not None:
                src = sources.get((t.file, t.sheet))
                if src is None:
                    continue
                table = _from_table(con, t, src, views[(t.file, t.sheet)], origin, out)
                rows = src.rows
                out.file_names[t.table] = src.file
            else:
                table = _sql_table(con, t, origin, out)
                rows = np.arange(2, (table.num_rows if table is not None else 0) + 2, dtype=np.int64)
                out.file_names[t.table] = f"{origin} [{t.table}] sql"
            if table is None:
                continue
            shared = t.sql is not None or any(o.table != t.table and o.source is not None
                                              and (o.file, o.sheet) == (t.file, t.sheet) for o in mapping.tables)
            if t.table in MASTER_KEYS and shared:  # a master read from a file of another table (or a query)
                table, rows = _one_row_per_key(t.table, table, rows, out)
            df = table.to_pandas(types_mapper=pd.ArrowDtype)
            df.index = pd.Index(rows, name="row")
            df.attrs["file"] = out.file_names[t.table]
            out.frames[t.table] = df
    finally:
        con.close()
    _note_unmapped(mapping, sources, out)
    for master, key in DERIVED_FROM_ORDERS.items():
        if mapping.table(master) is None and mapping.table("orders") is not None:
            out.notes.append(f"{master}: not in the mapping: derived from the orders' {key} values")
    _call(progress, 1.0, "mapped")
    return out


def _from_table(con, t: TableMapping, src: Source, view: str, origin: str, out: Mapped) -> pa.Table | None:
    cols = set(src.columns)
    exprs: list[tuple[str, str]] = []
    ok = True
    for c, v in t.columns:
        if v.lstrip().startswith("="):
            exprs.append((c, v.lstrip()[1:].strip()))
        elif v in cols:
            exprs.append((c, _q(v)))
        else:
            close = difflib.get_close_matches(v, list(cols), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.problems.append(Problem(origin, None, f"[{t.table}] {c}", f"no column {v!r} in {src.file}{hint}"))
            ok = False
    if not ok:
        return None
    if not exprs:
        out.problems.append(
            Problem(origin, None, f"[{t.table}]", "no column entries (contract column = source column)")
        )
        return None
    decimal_comma = bool(src.attrs.get("decimal_comma"))

    def run(items: list[tuple[str, str]]) -> pa.Table:
        select = ", ".join(f"CAST(({e}) AS VARCHAR) AS {_q(c)}" for c, e in items)
        return con.sql(f"SELECT {select} FROM {_q(view)}").to_arrow_table()  # not constant: the mapping's own expressions, by design; run in the sandbox (no files, no network)

    try:
        return run(exprs)
    except duckdb.Error:
        pass
    fixed: list[tuple[str, str]] = []
    for c, e in exprs:  # find the entries that fail, and retry those reading text columns as numbers
        try:
            run([(c, e)])
            fixed.append((c, e))
            continue
        except duckdb.Error as err:
            first = err
        numeric = _as_numbers(e, cols, decimal_comma)
        try:
            if numeric == e:
                raise first
            run([(c, numeric)])
            fixed.append((c, numeric))
            out.notes.append(
                f"{t.table}.{c}: the expression does arithmetic on text columns: read them as numbers ({numeric})"
            )
        except duckdb.Error:
            msg = str(first).split("\n")[0]
            out.problems.append(Problem(origin, None, f"[{t.table}] {c}", f"the expression failed: {msg}"))
            ok = False
    return run(fixed) if ok else None


def _sql_table(con, t: TableMapping, origin: str, out: Mapped) -> pa.Table | None:
    try:  # one query, never several statements: the SELECT is wrapped as a subquery
        # not constant: the mapping's own SELECT, by design; run in the sandbox (no files, no network)
        result = con.sql(f"SELECT * FROM ({t.sql.strip().rstrip(';')}) AS __mapped").to_arrow_table()
    except duckdb.Error as e:
        msg = str(e).split("\n")[0]
        out.problems.append(Problem(origin, None, f"[{t.table}] sql", f"the query failed: {msg}"))
        return None
    try:
        cols = [_to_text(result.column(i), n, f"[{t.table}] sql") for i, n in enumerate(result.column_names)]
    except ReadError as e:
        out.problems.append(Problem(origin, None, f"[{t.table}] sql", str(e)))
        return None
    return pa.table(
        dict(
            zip(
                [n.lower() if n.lower() in target_columns(t.table) else n for n in result.column_names],
                cols,
                strict=False,
            )
        )
    )


def _one_row_per_key(table: str, data: pa.Table, rows: np.ndarray, out: Mapped) -> tuple[pa.Table, np.ndarray]:
    """One row per key: per column the most frequent non-empty value among the key's rows, ties to the first
    seen; the row number is the key's first row. Counts the keys whose rows disagreed, per column."""
    key = MASTER_KEYS[table]
    if key not in data.column_names or data.num_rows == 0:
        return data, rows
    con = duckdb.connect()
    try:
        con.register("t", data.append_column("__pos", pa.array(np.arange(data.num_rows, dtype=np.int64))))
        others = [c for c in data.column_names if c != key]
        k = f"NULLIF(trim({_q(key)}), '')"
        vs = [f"NULLIF(trim({_q(c)}), '') AS v{i}" for i, c in enumerate(others)]
        # First the distinct (key, values) combinations with their row counts: an order-line file repeats them
        # (a million lines, a few thousand combinations), so the rest works on a small table.
        con.execute(  # constant and contract names only
            f"CREATE TEMP TABLE g AS SELECT __k, {', '.join(f'v{i}' for i in range(len(others))) or '1 AS __none'}, "
            f"count(*) AS __cnt, min(__pos) AS __first FROM (SELECT {k} AS __k{''.join(', ' + v for v in vs)}, __pos "
            f"FROM t) WHERE __k IS NOT NULL GROUP BY ALL"
        )
        n_keys, n_rows = con.execute("SELECT count(DISTINCT __k), sum(__cnt) FROM g").fetchall()[0]
        if n_keys == n_rows:
            return data, rows
        # grain: one row per key, first seen first
        sql = ["WITH keys AS (SELECT __k, min(__first) AS __first FROM g GROUP BY 1)"]
        selects = ["keys.__k AS " + _q(key), "keys.__first"]
        joins = []
        for i, c in enumerate(others):
            sql.append(f""", c{i} AS (
                SELECT __k, __v, __n FROM (
                    SELECT __k, v{i} AS __v, sum(__cnt) AS __cnt, min(__first) AS __first,
                           count(*) OVER (PARTITION BY __k) AS __n
                    FROM g WHERE v{i} IS NOT NULL GROUP BY 1, 2)
                QUALIFY row_number() OVER (PARTITION BY __k ORDER BY __cnt DESC, __first) = 1)""")
            selects.append(f"c{i}.__v AS {_q(c)}")
            selects.append(f"c{i}.__n AS {_q('__n_' + str(i))}")
            joins.append(f"LEFT JOIN c{i} USING (__k)")
        query = "".join(sql) + f" SELECT {', '.join(selects)} FROM keys {' '.join(joins)} ORDER BY keys.__first"
        result = con.sql(query).to_arrow_table()
        disagree = {}
        for i, c in enumerate(others):
            n = result.column(f"__n_{i}").to_numpy(zero_copy_only=False)
            k_bad = int(np.nansum(np.where(pd.isna(n), 0, n) > 1))
            if k_bad:
                disagree[c] = k_bad
        first = result.column("__first").to_numpy()
        collapsed = result.select(data.column_names)
    finally:
        con.close()
    out.disagreements[table] = disagree
    out.notes.append(
        f"{table}: {n_rows:,} rows with a {key} -> {n_keys:,} {table} (one row per {key}; per column the most "
        "frequent non-empty value, ties to the first seen)"
    )
    return collapsed, np.asarray(rows)[first]


def _note_unmapped(mapping: MappingFile, sources: dict[tuple[str, str | None], Source], out: Mapped) -> None:
    sql_text = " ".join(t.sql for t in mapping.tables if t.sql)
    for (file, sheet), src in sources.items():
        if (
            sheet is None
            and (file, None) in sources
            and any(k[0] == file and k[1] is not None and sources[k] is src for k in sources)
        ):
            continue  # the first sheet twice (as the book and as its sheet): report it once
        users = [t for t in mapping.tables if t.source is not None and sources.get((t.file, t.sheet)) is src]
        used: set[str] = set()
        for t in users:
            for _c, v in t.columns:
                used |= _mentioned(v[1:], src.columns) if v.lstrip().startswith("=") else {v}
        if sql_text:
            used |= _mentioned(sql_text, src.columns)
        rest = [c for c in src.columns if c not in used]
        if rest:
            out.unmapped[src.file] = rest  # listed in the report (ImportReport.unmapped)


# =========================================================================== saved source systems


@access.requires("mapping")
def save_mapping_file(db_path: str | Path | None, mapping: MappingFile | str) -> MappingFile:
    """Save a mapping file as its source system (``name``) in the database; returns the parsed mapping.
    A saved source system is that TOML text: what is saved is what is downloaded and re-imported."""
    m = parse_mapping(mapping) if isinstance(mapping, str) else mapping
    if not m.name:
        raise MappingError('a saved mapping needs a name = "..." (the source system)')
    text = mapping if isinstance(mapping, str) else m.to_toml()
    with db.writer(db_path) as con:
        con.execute(
            "INSERT OR REPLACE INTO source_mappings VALUES ($source, $toml, $now)",
            {"source": m.name, "toml": text, "now": datetime.now(UTC).replace(tzinfo=None)},
        )
    return m


def saved_mapping_text(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """The TOML saved for ``source``, or None."""
    try:
        rows = con.execute("SELECT mapping_toml FROM source_mappings WHERE source = $s", {"s": source}).fetchall()
    except duckdb.CatalogException:  # a database written before mapping files existed
        return None
    return rows[0][0] if rows else None


def load_saved_mapping(con: duckdb.DuckDBPyConnection, source: str) -> MappingFile | None:
    """The mapping file saved for ``source``, parsed, or None."""
    text = saved_mapping_text(con, source)
    return parse_mapping(text, f"saved mapping {source!r}") if text else None
