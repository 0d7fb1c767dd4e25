"""Read: every file as text (CSV with encoding and delimiter detection, XLSX, Parquet), and find a folder's files."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analytics.ingest.common import FILE_EXTENSIONS, Problem, ReadError
from analytics.schema import (
    CONTRACT,
)

_SNIFF_BYTES = 1 << 16


# =========================================================================== reading


def table_for_file(path: str | Path) -> str | None:
    """The contract table a file is named after (``Orders.CSV`` -> ``orders``), else None."""
    p = Path(path)
    if p.suffix.lower() not in FILE_EXTENSIONS:
        return None
    stem = p.stem.lower()
    return stem if stem in CONTRACT else None


@dataclass
class Source:
    """One file (or sheet) read as text: ``table`` has the file's header names (duplicates and blank headers
    removed), ``rows`` the row number of each record as the user sees it (header = row 1), ``attrs`` what
    reading found: ``read_problems``, ``blank_rows``, and for CSV ``encoding``, ``delimiter``, ``decimal_comma``."""

    file: str
    table: pa.Table
    rows: np.ndarray
    attrs: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def frame(self) -> pd.DataFrame:
        """The text as a DataFrame indexed by row number (``attrs`` copied, with ``file``)."""
        df = self.table.to_pandas()
        df.index = pd.Index(self.rows, name="row")
        df.attrs.update(self.attrs)
        df.attrs["file"] = self.file
        return df


def read_source(path: str | Path, sheet: str | None = None) -> Source:
    """Read one CSV/XLSX/Parquet file (``sheet``: an XLSX sheet by name, default the first) as text.
    Raises :class:`ReadError` for unreadable files."""
    p = Path(path)
    ext = p.suffix.lower()
    if sheet is not None and ext != ".xlsx":
        raise ReadError(f"{p.name}: only Excel workbooks have sheets (asked for {sheet!r})")
    if ext == ".csv":
        src = _read_csv(p)
    elif ext == ".xlsx":
        src = _read_xlsx(p, sheet)
    elif ext == ".parquet":
        src = _read_parquet(p)
    else:
        raise ReadError(f"{p.name}: unsupported file type {ext or '(none)'} (use .csv, .xlsx or .parquet)")
    if sheet is not None:
        src.file = f"{p.name}:{sheet}"
    return src


def xlsx_sheets(path: str | Path) -> list[str]:
    """The sheet names of a workbook, in order."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as e:  # zip/xml errors of all kinds
        raise ReadError(f"{Path(path).name}: not a readable Excel .xlsx file ({e})") from e
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_table_file(path: str | Path) -> pd.DataFrame:
    """Read one CSV/XLSX/Parquet file with every column as text (missing values are NA).

    Header names are kept as they are. The index, named ``row``, is the row number as
    the user sees it (header = row 1). ``df.attrs`` holds ``file``, ``read_problems``
    (rows that could not be read, duplicate headers), ``blank_rows`` (skipped), and for CSV
    ``encoding``, ``delimiter`` and ``decimal_comma``. Raises :class:`ReadError` for unreadable files.
    """
    return read_source(path).frame()


def read_notes(df: pd.DataFrame | Source, name: str) -> list[str]:
    """What reading found worth saying: the encoding when not UTF-8, a decimal comma, blank rows skipped."""
    notes = []
    enc = df.attrs.get("encoding")  # a DataFrame's attrs or a Source's
    if enc in ("cp1252", "latin-1"):
        notes.append(f"{name}: not UTF-8; read as {'Windows-1252' if enc == 'cp1252' else 'Latin-1'}")
    if df.attrs.get("decimal_comma"):
        notes.append(f"{name}: ';'-separated: numbers may use a decimal comma")
    blank = df.attrs.get("blank_rows", 0)
    if blank:
        notes.append(f"{name}: {blank:,} blank row{'s' if blank != 1 else ''} skipped")
    return notes


def _unique_names(names: list[str], file: str) -> tuple[list[str], list[Problem], list[str]]:
    """Internal column names for a header: duplicates and blanks get placeholders to drop later."""
    seen: dict[str, int] = {}
    internal, problems, drop = [], [], []
    names = list(names)
    if names:  # a byte-order mark before the first header (also when the file was decoded as Windows-1252)
        names[0] = names[0].removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
    for i, name in enumerate(names):
        if name.strip() == "":
            internal.append(f"__blank_{i}")
            drop.append(internal[-1])
        elif name in seen:
            problems.append(
                Problem(
                    file, None, name, f"column {name!r} appears more than once (columns {seen[name] + 1} and {i + 1})"
                )
            )
            internal.append(f"__dup_{i}")
            drop.append(internal[-1])
        else:
            seen[name] = i
            internal.append(name)
    return internal, problems, drop


def _finish(
    table: pa.Table, rows: np.ndarray | None, drop: list[str], file: str, problems: list[Problem]
) -> pd.DataFrame:
    """DataFrame of str columns indexed by row number; columns without header are dropped."""
    for name in drop:
        if name.startswith("__blank_") and name in table.column_names:
            col = table.column(name)
            if col.null_count < len(col):
                nonnull = pc.drop_null(col)
                if len(pc.filter(nonnull, pc.not_equal(pc.utf8_trim_whitespace(nonnull), ""))) > 0:
                    idx = int(name.rsplit("_", 1)[1])
                    problems.append(
                        Problem(file, None, None, f"column {idx + 1} has values but no header (name it or remove it)")
                    )
    blank = 0
    if table.num_columns and table.num_rows:
        filled = None
        for col in table.columns:  # a row is blank when no cell holds more than whitespace
            has = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(col), ""), False)
            filled = has if filled is None else pc.or_(filled, has)
        blank = table.num_rows - pc.sum(filled).as_py() if filled is not None else 0
        if blank:
            if rows is None:
                rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
            mask = filled.to_numpy() if isinstance(filled, pa.Array) else filled.combine_chunks().to_numpy(False)
            rows = np.asarray(rows)[mask]
            table = table.filter(filled)
    keep = [n for n in table.column_names if n not in drop]
    table = table.select(keep)
    n = table.num_rows
    rows = np.asarray(rows, dtype=np.int64) if rows is not None else np.arange(2, n + 2, dtype=np.int64)
    return Source(file, table, rows, {"read_problems": problems, "blank_rows": int(blank)})


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


def _read_csv(path: Path) -> Source:
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
                problems.append(
                    Problem(
                        path.name,
                        number,
                        None,
                        f"{actual} field(s) where the header has {expected} (check delimiters and quotes in this row)",
                    )
                )
        src = _finish(table, rows, drop, path.name, problems)
        src.attrs.update(encoding=py_enc, delimiter=delimiter, decimal_comma=(delimiter == ";"))
        return src
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
        read_options=pacsv.ReadOptions(
            column_names=names, skip_rows=skip, encoding=encoding, use_threads=threads, block_size=1 << 23
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
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


def _read_xlsx(path: Path, sheet: str | None = None) -> Source:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zip/xml errors of all kinds
        raise ReadError(f"{path.name}: not a readable Excel .xlsx file ({e})") from e
    try:
        if not wb.worksheets:
            raise ReadError(f"{path.name}: the workbook has no sheet")
        if sheet is not None and sheet not in wb.sheetnames:
            raise ReadError(f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header, header_row = None, 0
        for i, row in enumerate(it, start=1):
            if any(_cell_text(v) is not None for v in row):
                header, header_row = row, i
                break
        if header is None:
            which = f"sheet {sheet!r}" if sheet is not None else "first sheet"
            raise ReadError(f"{path.name}: the {which} is empty (no header row)")
        while header and _cell_text(header[-1]) is None:
            header = header[:-1]
        names = ["" if v is None else str(v) for v in header]
        ncol = len(names)
        cols: list[list[str | None]] = [[] for _ in range(ncol)]
        rownums: list[int] = []
        problems: list[Problem] = []
        blank = 0
        for i, row in enumerate(it, start=header_row + 1):
            vals = [_cell_text(v) for v in row]
            if not any(v is not None for v in vals):
                blank += 1
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
    table = (
        pa.table({n: pa.array(c, pa.string()) for n, c in zip(internal, cols, strict=False)}) if ncol else pa.table({})
    )
    src = _finish(table, np.asarray(rownums, dtype=np.int64), drop, path.name, dup_problems + problems)
    src.attrs["blank_rows"] += blank
    return src


def _to_text(col: pa.ChunkedArray, name: str, file: str) -> pa.ChunkedArray:
    """Any Arrow column as text: dates as YYYY-MM-DD, numbers as written by Arrow."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col
    if pa.types.is_dictionary(t):
        return _to_text(col.cast(t.value_type), name, file)
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_temporal(t)
        or pa.types.is_null(t)
    ):
        return col.cast(pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        try:
            return col.cast(pa.string())
        except pa.ArrowInvalid as e:
            raise ReadError(f"{file}: column {name!r} holds binary data that is not UTF-8 text") from e
    raise ReadError(f"{file}: column {name!r} has type {t}, which cannot be imported (use text, number or date)")


def _read_parquet(path: Path) -> Source:
    try:
        with pq.ParquetFile(path) as pf:  # not pq.read_table: it refuses repeated column names
            table = pf.read()
    except Exception as e:  # not parquet, truncated, ...
        raise ReadError(f"{path.name}: not a readable Parquet file ({e})") from e
    names = list(table.column_names)
    internal, problems, drop = _unique_names(names, path.name)
    cols = [_to_text(table.column(i), names[i], path.name) for i in range(table.num_columns)]
    text = pa.table(dict(zip(internal, cols, strict=False))) if cols else pa.table({})
    return _finish(text, None, drop, path.name, problems)


def _series_to_text(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text (missing values null), whatever its pandas dtype."""
    frame = s.to_frame(name="v")
    frame.attrs = {}  # attrs hold Problem objects, which Arrow's pandas metadata cannot serialise
    try:
        arr = pa.Table.from_pandas(frame, preserve_index=False).column(0)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        vals = [
            None
            if (v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT)
            else (_cell_text(v) if not isinstance(v, str) else v)
            for v in s.tolist()
        ]
        return pa.array(vals, pa.string())
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_floating(arr.type):  # NaN from pandas means missing
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)
    try:
        return _to_text(arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr]), str(s.name), "")
    except ReadError:
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


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
        for t, fs in found.items()
        if len(fs) > 1
    ]
    notes = [f"ignored files (not named after a contract table): {', '.join(ignored)}"] if ignored else []
    return {t: fs[0] for t, fs in found.items() if len(fs) == 1}, problems, notes
