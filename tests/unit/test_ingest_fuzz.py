"""Hostile and broken input for the importer (issue 6): property-based tests with hypothesis.

The property, for every input: :func:`analytics.ingest.import_folder` either imports the file correctly
(the rows read back from the database hold the values as given; text is trimmed of surrounding
whitespace, as the contract says) or rejects it with problems naming the file, and the row and column
where one is meaningful. It never raises anything else, never hangs (every import runs under a time
limit, as an exception ``except Exception`` cannot swallow), and a rejected import leaves the database
file byte for byte as it was: same SHA-256, size and mtime, and no file left beside it.

Inputs: every encoding a site may send (UTF-8 with and without BOM, UTF-16 with and without BOM,
Windows-1252, Latin-1, invalid UTF-8), the three delimiters and line endings, huge and non-finite numbers,
mixed date formats in one column, 100k-character strings, formula-looking text (stored verbatim: exports
neutralise it, see test_exports.py), duplicate headers, empty files, random and corrupted bytes as CSV,
XLSX and Parquet, and a 200 MB file (valid: imported; with one bad row near the end: rejected).

Reproducible: with ``CI`` set, the profile ``ingest-fuzz-ci`` derandomizes the examples (the same examples
on every run, no example database); locally hypothesis explores and replays remembered failures.
``INGEST_FUZZ_SCALE=10`` runs ten times as many examples.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import itertools
import math
import os
import re
import shutil
import signal
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ingest_fixtures import CUSTOMERS, ORDERS, PRODUCTS, write_folder

from analytics import db, ingest

try:  # the write functions take the acting user (analytics.access); SYSTEM is the command line's admin
    from analytics import access

    AS_ADMIN = {"user": access.SYSTEM}
except ImportError:  # pragma: no cover - before access control existed
    AS_ADMIN = {}

# --------------------------------------------------------------------------- hypothesis profiles

_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
settings.register_profile(
    "ingest-fuzz",
    deadline=None,  # an import takes 0.1-0.5 s; the time limit below catches hangs
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.function_scoped_fixture],
)
settings.register_profile("ingest-fuzz-ci", parent=settings.get_profile("ingest-fuzz"), derandomize=True,
                          database=None)
_PROFILE = settings.get_profile("ingest-fuzz-ci" if _CI else "ingest-fuzz")


# A deeper run: INGEST_FUZZ_SCALE=10 tries ten times as many examples per test.
_SCALE = float(os.environ.get("INGEST_FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    """This module's profile with a modest example count (the whole file runs in well under 2 minutes)."""
    return settings(_PROFILE, max_examples=max(1, round(max_examples * _SCALE)))


IMPORT_SECONDS = 60  # one small import takes well under a second; anything near this is a hang
MESSAGE_LIMIT = 1_000  # a problem's text stays readable whatever the input holds

# --------------------------------------------------------------------------- the harness


class Hang(BaseException):  # noqa: N818 - BaseException: the importer's `except Exception` cannot catch it
    """The import did not finish within the time limit."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Hang(f"the import did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def fingerprint(path: Path) -> tuple[str, int, int]:
    st_ = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st_.st_size, st_.st_mtime_ns


@dataclass
class Env:
    root: Path
    template: Path  # a database holding the valid sample folder (products, customers, orders, deliveries)
    counter: itertools.count


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Env:
    root = tmp_path_factory.mktemp("fuzz")
    template = root / "template.duckdb"
    report = ingest.import_folder(template, write_folder(root / "valid"), **AS_ADMIN)
    assert report.ok, report.as_text()
    return Env(root, template, itertools.count())


@dataclass
class Outcome:
    report: ingest.ImportReport
    db: Path

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        con = db.open_reader(self.db)
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()


@contextlib.contextmanager
def imported(env: Env, files: dict[str, bytes | Path], mode: str = "upsert", *, seconds: float = IMPORT_SECONDS):
    """Import ``files`` (name -> bytes, or a file to move in) into a copy of the template database; check
    the invariants that hold for every input, yield the outcome, then remove the example's files."""
    case = env.root / f"case{next(env.counter)}"
    folder, dbdir = case / "in", case / "db"
    folder.mkdir(parents=True)
    dbdir.mkdir()
    try:
        for name, data in files.items():
            if isinstance(data, Path):
                os.replace(data, folder / name)
            else:
                (folder / name).write_bytes(data)
        path = dbdir / "sop.duckdb"
        shutil.copyfile(env.template, path)
        before, listing = fingerprint(path), sorted(os.listdir(dbdir))
        t0 = time.monotonic()
        with time_limit(seconds):
            report = ingest.import_folder(path, folder, mode=mode, **AS_ADMIN)  # nothing else may be raised
        assert time.monotonic() - t0 < seconds
        text = report.as_text()
        if report.ok:
            assert report.problem_count == 0 and not report.problems, text
        else:
            assert report.problems and report.problem_count >= 1, text
            assert "NOT imported" in text and "The database was not changed" in text
            assert fingerprint(path) == before, "a rejected import changed the database file"
            # the rejected-import log beside the database is the import history's record of the attempt
            leftovers = [n for n in sorted(os.listdir(dbdir)) if n not in listing and not n.endswith(".lock")
                         and not n.endswith(".rejected-imports.jsonl")]
            assert not leftovers, f"a rejected import left files: {leftovers}"
            for p in report.problems:
                assert isinstance(p.problem, str) and p.problem.strip(), p
                assert len(str(p)) <= MESSAGE_LIMIT, f"problem text of {len(str(p)):,} characters: {str(p)[:200]}"
        yield Outcome(report, path)
    finally:
        shutil.rmtree(case, ignore_errors=True)


def listing(report: ingest.ImportReport) -> str:
    return "\n".join(str(p)[:300] for p in report.problems[:40])


def named(report: ingest.ImportReport, file: str, row: int | None = ..., column: str | None = ...,
          text: str = "") -> ingest.Problem:
    """The first problem naming ``file`` (and ``row`` / ``column`` / ``text`` when given), else fail."""
    for p in report.problems:
        if (p.file == file and (row is ... or p.row == row) and (column is ... or p.column == column)
                and text in p.problem):
            return p
    raise AssertionError(f"no problem naming {file} row {row} column {column} {text!r}; got:\n{listing(report)}")


def rejected_naming(report: ingest.ImportReport, file: str) -> None:
    assert not report.ok, f"{file} was imported"
    assert any(p.file == file for p in report.problems), f"no problem names {file}:\n{listing(report)}"


def csv_bytes(header: list[str], rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",",
              newline: str = "\n", quote_all: bool = False) -> bytes:
    """A well-formed CSV file (RFC 4180 quoting; Python's csv module leaves a CR or LF that is not part of
    its line terminator unquoted, which no reader can parse back)."""

    def field(v: str) -> str:
        if quote_all or any(c in v for c in (delimiter, '"', "\r", "\n")):
            return '"' + v.replace('"', '""') + '"'
        return v

    text = "".join(delimiter.join(map(field, r)) + newline for r in [header, *rows])
    return encode(text, encoding)


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be+bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


# --------------------------------------------------------------------------- strategies

# UTF-16 with BOM (Python's "utf-16" writes one), and without (-le / -be): all must be read.
UNICODE_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be+bom", "utf-16-le", "utf-16-be")
LEGACY_ENCODINGS = ("cp1252", "latin-1")
FORMULAS = ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://x.example","y")', "\t=1+1",
            "\r=1+1", "=cmd|'/c calc'!A1", "+1", "-1", "@", "=", "\t+cmd", "\r\n-2+3", " @SUM(1)", "'=1+1")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t=", "\r=", "\t", "\r", "\n", " =", "'=")
SPECIAL_TEXT = ("NULL", "null", "None", "nan", "NaN", "N/A", "#N/A", "-", "0", "1e308", '"', '""', "a,b", "a;b",
                "a\tb", "two\nlines", "cr\rlf\r\n", "\ufeffbom", "x\u2028y", "x\x00y", "x\x0cy", "\x1c", "é", "€",
                "😀", "ﬁ", "A\u030a", "   padded   ")
LONG = 100_000


def alphabet(encoding: str) -> st.SearchStrategy[str]:
    codec = encoding if encoding in LEGACY_ENCODINGS else "utf-8"
    return st.characters(codec=codec)


def encodable(s: str, encoding: str) -> bool:
    try:
        s.encode("utf-8" if encoding not in LEGACY_ENCODINGS else encoding)
        return True
    except UnicodeEncodeError:
        return False


def cells(encoding: str) -> st.SearchStrategy[str]:
    chars = alphabet(encoding)
    plain = st.text(chars, max_size=20)
    fixed = [s for s in FORMULAS + SPECIAL_TEXT if encodable(s, encoding)]
    return st.one_of(
        plain,
        st.sampled_from(fixed),
        st.builds(lambda p, s: p + s, st.sampled_from(FORMULA_PREFIXES), plain),
        st.builds(lambda s: (s * (LONG // len(s) + 1))[:LONG], st.text(chars, min_size=1, max_size=4)),
    )


def file_codec(raw: bytes) -> str:
    """How the importer reads a file without BOM that is not UTF-16: UTF-8, else Windows-1252, else Latin-1."""
    for enc in ("utf-8", "cp1252", "latin-1"):
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes everything")


# =========================================================================== text, encodings, CSV dialects


@fuzz(15)
@given(data=st.data())
@example(data=None)  # the fixed worst case below
def test_text_cells_round_trip_in_any_encoding_delimiter_and_line_ending(env, data):
    header = ["customer_id", "name", "region", "segment"]
    if data is None:  # every formula, a 100k-character cell, UTF-16 without BOM, CR line ends, ';'
        encoding, delimiter, newline, quote_all = "utf-16-le", ";", "\r", False
        values = [[f, "x" * LONG, "é€😀"] for f in FORMULAS]
    else:
        encoding = data.draw(st.sampled_from(UNICODE_ENCODINGS + LEGACY_ENCODINGS), "encoding")
        values = data.draw(st.lists(st.lists(cells(encoding), min_size=3, max_size=3), min_size=1, max_size=5), "rows")
        delimiter = data.draw(st.sampled_from([",", ";", "\t"]), "delimiter")
        newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]), "newline")
        quote_all = data.draw(st.booleans(), "quote_all")
    rows = [[f"FZ{i:03d}", *v] for i, v in enumerate(values)]
    raw = csv_bytes(header, rows, encoding=encoding, delimiter=delimiter, newline=newline, quote_all=quote_all)
    if encoding in LEGACY_ENCODINGS:  # bytes that happen to be valid UTF-8 are read as UTF-8
        codec = file_codec(raw)
        expected = [[c.encode(encoding).decode(codec).strip() for c in r] for r in rows]
    else:
        expected = [[c.strip() for c in r] for r in rows]
    # an empty (or blank) cell takes the contract's default (issue 12): name = the customer_id, region and
    # segment 'unassigned'
    expected = [[r[0], r[1] or r[0], r[2] or "unassigned", r[3] or "unassigned"] for r in expected]
    with imported(env, {"customers.csv": raw}) as out:
        assert out.report.ok, listing(out.report)
        stored = out.rows("SELECT customer_id, name, region, segment FROM customers "
                          "WHERE customer_id LIKE 'FZ%' ORDER BY customer_id")
        assert [list(r) for r in stored] == expected  # formulas, NULs, 100k characters: verbatim


# =========================================================================== numbers

NUMBER_EDGE = ("1e308", "1.7976931348623157e308", "1.8e308", "1e309", "-1e309", "1e-400", "5e-324", str(10**30),
               str(10**400), "inf", "-inf", "+inf", "Infinity", "-Infinity", "NaN", "nan", "-nan", "NAN", "0x10",
               "1_000", "1,000", "1.000,5", "1e", "e5", ".", "-", "+", "--1", "1..2", " 7 ", "\t8\r", "٣", "１２", "0",
               "-0", "+0.0", "00012", "1d5", "1f", "12%", "$5", "5 000", "1e+308", "=1+1", "+1", "-1", "@1", "TRUE",
               "", " ", "12,5", "-12,5", ",5", "1 e5", "9" * 400)
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only


def number_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBER_EDGE),
        st.floats().map(repr),
        st.floats(allow_nan=False).map(lambda f: f"{f:.17e}"),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda f: format(f, "f")),
        st.integers(-(10**40), 10**40).map(str),
        st.text(st.sampled_from("0123456789+-.,eE_ xX"), max_size=12),
        st.text(max_size=8),
    )


REJECT, EITHER = "reject", "either"


EMPTY = "empty"  # an empty cell of an optional column: stored as NULL


def expected_number(text: str, decimal_comma: bool, *, integer: bool = False, non_negative: bool = True):
    """The float the importer must store, REJECT, or EITHER (an odd spelling: if stored, it must be the
    value Python reads)."""
    t = text.strip()
    if t == "":
        return REJECT
    if _DECIMAL.fullmatch(t):
        v = float(t)
    elif decimal_comma and re.fullmatch(r"[+-]?[0-9]*,[0-9]+", t):
        v = float(t.replace(",", "."))
    else:
        return EITHER
    if not math.isfinite(v) or (non_negative and v < 0):
        return REJECT
    if integer and not (v == round(v) and abs(v) < 9e15):
        return REJECT
    return v


def python_number(text: str, decimal_comma: bool) -> float | None:
    t = text.strip()
    if decimal_comma and re.fullmatch(r"[+-]?[0-9]*,[0-9]+", t):
        t = t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


@fuzz(20)
@given(values=st.lists(st.tuples(number_texts(), number_texts(), number_texts()), min_size=1, max_size=3),
       delimiter=st.sampled_from([",", ";"]))
@example(values=[("1e308", str(10**30), "0"), ("inf", "-inf", "NaN"), ("nan", "1e309", "-1")], delimiter=",")
@example(values=[("12,5", "1.5", ",5")], delimiter=";")
def test_number_cells(env, values, delimiter):
    header = ["sku", "name", "family", "unit_cost", "unit_price", "work_center", "hours_per_unit"]
    cols = ("unit_cost", "unit_price", "hours_per_unit")
    rows = [[f"FZ{i:03d}", "n", "f", a, b, "W", c] for i, (a, b, c) in enumerate(values)]
    dec = delimiter == ";"
    # these three columns became optional in issue 12: an empty cell is stored as empty (NULL), not rejected
    expect = {(i + 2, col): (EMPTY if not v[j].strip() else expected_number(v[j], dec))
              for i, v in enumerate(values) for j, col in enumerate(cols)}
    with imported(env, {"products.csv": csv_bytes(header, rows, delimiter=delimiter)}) as out:
        must_reject = [k for k, e in expect.items() if e == REJECT]
        for row, col in must_reject:
            named(out.report, "products.csv", row, col)
        if not out.report.ok:
            for p in out.report.problems:  # only the cells at fault are named
                assert p.file == "products.csv" and p.row is not None and p.column in cols, listing(out.report)
                assert expect[(p.row, p.column)] in (REJECT, EITHER), f"{p}: {values}"
            return
        assert not must_reject
        stored = out.rows("SELECT unit_cost, unit_price, hours_per_unit FROM products "
                          "WHERE sku LIKE 'FZ%' ORDER BY sku")
        for i, (got, given_) in enumerate(zip(stored, values, strict=True)):
            for j, col in enumerate(cols):
                e = expect[(i + 2, col)]
                if e == EMPTY:
                    assert got[j] is None, (given_[j], got[j])
                    continue
                want = python_number(given_[j], dec) if e == EITHER else e
                assert want is not None, f"accepted {given_[j]!r} as {got[j]!r}, which Python cannot read"
                assert got[j] == want and math.isfinite(got[j]) and got[j] >= 0, (given_[j], got[j])


@fuzz(10)
@given(values=st.lists(number_texts(), min_size=1, max_size=4))
@example(values=[str(10**30), "1e308", "9007199254740993", "8999999999999999", "1.5", "1e3", "-4", "inf", "nan"])
def test_whole_number_cells(env, values):
    """orders.line_no is an integer: huge, fractional and non-finite values are rejected, not rounded."""
    header = ["order_id", "line_no", "customer_id", "sku", "order_date", "requested_date", "quantity"]
    rows = [[f"FZ-{i:03d}", v, "C1", "A1", "2026-01-05", "", "1"] for i, v in enumerate(values)]
    expect = [expected_number(v, False, integer=True, non_negative=False) for v in values]
    with imported(env, {"orders.csv": csv_bytes(header, rows)}) as out:
        for i, e in enumerate(expect):
            if e == REJECT:
                named(out.report, "orders.csv", i + 2, "line_no")
        if not out.report.ok:
            for p in out.report.problems:  # only the cells at fault are named
                assert p.file == "orders.csv" and p.column == "line_no" and p.row is not None, listing(out.report)
                assert expect[p.row - 2] in (REJECT, EITHER), f"{p}: {values}"
            return
        got = dict(out.rows("SELECT order_id, line_no FROM orders WHERE order_id LIKE 'FZ-%'"))
        for i, (v, e) in enumerate(zip(values, expect, strict=True)):
            want = python_number(v, False) if e == EITHER else e
            assert want is not None and want == int(want) and got[f"FZ-{i:03d}"] == int(want), (v, got[f"FZ-{i:03d}"])


# =========================================================================== dates

DATE_FORMATS = {
    "iso": lambda d: d.strftime("%Y-%m-%d"),
    "iso_slash": lambda d: d.strftime("%Y/%m/%d"),
    "iso_unpadded": lambda d: f"{d.year}-{d.month}-{d.day}",
    "iso_time": lambda d: d.strftime("%Y-%m-%d 23:59:59"),
    "iso_T": lambda d: d.strftime("%Y-%m-%dT08:30"),
    "iso_zone": lambda d: d.strftime("%Y-%m-%dT08:30:00.250+02:00"),
    "iso_Z": lambda d: d.strftime("%Y-%m-%dT00:00:00Z"),
    "dot": lambda d: d.strftime("%d.%m.%Y"),
    "dot_unpadded": lambda d: f"{d.day}.{d.month}.{d.year}",
    "dmy": lambda d: d.strftime("%d/%m/%Y"),
    "mdy": lambda d: d.strftime("%m/%d/%Y"),
    "dmy_time": lambda d: d.strftime("%d/%m/%Y 10:30"),
    "mdy_time": lambda d: d.strftime("%m/%d/%Y 10:30:15"),
}
BAD_DATES = ("2026-02-30", "31.02.2026", "2026-13-01", "13/13/2026", "31/31/2026", "yesterday", "9999-12-31",
             "1899-12-31", "2200-01-01", "0000-00-00", "2026-1", "20260105", "05-01-2026", "2026.01.05", "1/1/26",
             "=TODAY()", "45000", "2026-01-05T", "٢٠٢٦-٠١-٠٥", "2026-01-05x", "x" * LONG, " ")
_SLASH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_TIME = re.compile(r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$")


def expected_dates(texts: list[str], intended: list[date | None]) -> list[date | str]:
    """The date the importer must store for each cell, or REJECT, by the contract's documented rules: a
    time part is ignored; slash dates are DD/MM when some slash value in the column has a first part of
    13-31, MM/DD when some has a second part of 13-31; when neither, a slash date whose parts differ is
    ambiguous, and when both, every slash date is rejected (mixed)."""
    parts = []
    for t in texts:
        t = t.strip()
        m = _SLASH.fullmatch(_TIME.sub("", t) if len(t) > 10 else t)
        parts.append((int(m[1]), int(m[2]), int(m[3])) if m else None)
    first = any(p and 13 <= p[0] <= 31 for p in parts)
    second = any(p and 13 <= p[1] <= 31 for p in parts)
    out: list[date | str] = []
    for d, p in zip(intended, parts, strict=True):
        if d is None:
            out.append(REJECT)
        elif p is None:
            out.append(d)
        elif first and not second:
            out.append(_date_or_reject(p[2], p[1], p[0]))
        elif second and not first:
            out.append(_date_or_reject(p[2], p[0], p[1]))
        elif not first and not second and p[0] == p[1]:
            out.append(date(p[2], p[0], p[0]))
        else:
            out.append(REJECT)
    return out


def _date_or_reject(y: int, m: int, d: int) -> date | str:
    try:
        return date(y, m, d)
    except ValueError:
        return REJECT


@fuzz(15)
@given(cells_=st.lists(st.one_of(
    st.tuples(st.dates(date(1900, 1, 1), date(2199, 12, 31)), st.sampled_from(sorted(DATE_FORMATS))),
    st.tuples(st.none(), st.sampled_from(BAD_DATES))), min_size=1, max_size=8))
@example(cells_=[(date(2026, 1, 25), "dmy"), (date(2026, 3, 4), "dmy"), (date(2026, 2, 1), "iso"),
                 (date(2026, 5, 6), "dot"), (date(2026, 7, 8), "iso_time")])
@example(cells_=[(date(2026, 1, 25), "dmy"), (date(2026, 1, 25), "mdy")])  # mixed: both rejected
@example(cells_=[(date(2026, 3, 4), "dmy"), (date(2026, 4, 4), "mdy")])  # ambiguous: the first rejected
def test_mixed_date_formats_in_one_column(env, cells_):
    texts, intended = [], []
    for d, fmt in cells_:
        texts.append(DATE_FORMATS[fmt](d) if d is not None else fmt)
        intended.append(d)
    expect = expected_dates(texts, intended)
    header = ["order_id", "line_no", "customer_id", "sku", "order_date", "requested_date", "quantity"]
    rows = [[f"FZ-{i:03d}", "1", "C1", "A1", t, "", "1"] for i, t in enumerate(texts)]
    with imported(env, {"orders.csv": csv_bytes(header, rows)}) as out:
        for i, e in enumerate(expect):
            if e == REJECT:
                named(out.report, "orders.csv", i + 2, "order_date")
        if REJECT in expect:
            assert all(p.file == "orders.csv" and p.column == "order_date" and expect[p.row - 2] == REJECT
                       for p in out.report.problems), listing(out.report)
            return
        assert out.report.ok, f"{texts}\n{listing(out.report)}"
        got = dict(out.rows("SELECT order_id, order_date FROM orders WHERE order_id LIKE 'FZ-%'"))
        assert [got[f"FZ-{i:03d}"] for i in range(len(texts))] == expect, texts


# =========================================================================== headers


def header_variant(name: str) -> st.SearchStrategy[str]:
    """The same column as a person might spell it: case, spaces, dashes, dots (the mapping reads them all)."""
    return st.sampled_from([name, name.upper(), name.title(), name.replace("_", " "), name.replace("_", "-"),
                            name.replace("_", ".").upper(), f" {name} ", name.title().replace("_", "")])


CUSTOMER_COLUMNS = ("customer_id", "name", "region", "segment")


@fuzz(15)
@given(data=st.data())
@example(data=["customer_id", "name", "name", "region", "segment"])  # the plain duplicate
@example(data=["Cust-\nomer ID", "na\u2028me", "re\x0cgion", "seg\r\nment"])  # wrapped (multi-line) header cells
def test_headers_duplicate_missing_unknown_or_reordered(env, data):
    if isinstance(data, list):
        header = data
    else:
        chosen = data.draw(st.lists(st.sampled_from(CUSTOMER_COLUMNS), unique=True, min_size=2, max_size=4)
                           .flatmap(lambda cs: st.permutations(cs)), "columns")
        header = [data.draw(header_variant(c)) for c in chosen]
        extras = data.draw(st.lists(st.one_of(st.sampled_from(CUSTOMER_COLUMNS), st.sampled_from(
            ["extra", "", "  ", "Customer ID", "NAME", "=1+1", "x" * 500, "\x00", "sku"]),
            st.text(max_size=8).filter(lambda s: _norm(s) not in _SYNONYMS)),
            max_size=2), "extras")
        for e in extras:
            header.insert(data.draw(st.integers(0, len(header)), "at"), e)
    rows = [[f"FZ{i:03d}" if _base(h) == "customer_id" else f"v{i}{j}" for j, h in enumerate(header)] for i in range(3)]
    with imported(env, {"customers.csv": csv_bytes(header, rows)}) as out:
        bases = [_base(h) for h in header]
        dups = {h for h in header if header.count(h) > 1 and h.strip()}
        for h in dups:  # (a long name is shown cut in the middle)
            named(out.report, "customers.csv", None, h if len(h) <= 100 else ..., "more than once")
        # only the key is required since issue 12; absent columns take the contract's defaults
        clean = (not dups and all(b in CUSTOMER_COLUMNS for b in bases) and "customer_id" in bases
                 and len(set(bases)) == len(bases))
        if not clean:
            rejected_naming(out.report, "customers.csv")
            return
        assert out.report.ok, f"{header}\n{listing(out.report)}"
        stored = out.rows("SELECT customer_id, name, region, segment FROM customers "
                          "WHERE customer_id LIKE 'FZ%' ORDER BY customer_id")
        default = {"name": None, "region": "unassigned", "segment": "unassigned"}
        want = [tuple(r[bases.index(c)] if c in bases else (default[c] or r[bases.index("customer_id")])
                      for c in CUSTOMER_COLUMNS) for r in rows]
        assert stored == want, header


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z#]+", "", name.strip().lower())


# other names the importer's mapping reads as customer columns (random extra headers must not be one)
_SYNONYMS = {_norm(x) for c in CUSTOMER_COLUMNS for x in ingest.SYNONYMS.get(c, ())}


def _base(header: str) -> str | None:
    """The contract column a header names, "" for a blank header (with values: a problem), else None."""
    if not header.strip():
        return ""
    return next((c for c in CUSTOMER_COLUMNS if c.replace("_", "") == _norm(header)), None)


# =========================================================================== empty files

_CAPACITY_HEADER = b"work_center,period,available_hours"
EMPTY_CONTENTS = {
    "zero bytes": b"", "one space": b" ", "newline": b"\n", "blank lines": b"\r\n\r\n\n", "whitespace": b" \t \n \n\t",
    "utf-8 BOM": codecs.BOM_UTF8, "utf-8 BOM + newline": codecs.BOM_UTF8 + b"\n", "utf-16 LE BOM": codecs.BOM_UTF16_LE,
    "utf-16 BE BOM": codecs.BOM_UTF16_BE, "utf-16 blank lines": "\n \n".encode("utf-16"),
}
HEADER_ONLY = {
    "header": _CAPACITY_HEADER, "header + newline": _CAPACITY_HEADER + b"\n",
    "header + CRLF + blank lines": _CAPACITY_HEADER + b"\r\n\r\n\r\n", "BOM + header": codecs.BOM_UTF8 + _CAPACITY_HEADER,
    "utf-16 header": (_CAPACITY_HEADER.decode() + "\n").encode("utf-16"),
    "utf-16-le header without BOM": (_CAPACITY_HEADER.decode() + "\n").encode("utf-16-le"),
}


@pytest.mark.parametrize("name", sorted(EMPTY_CONTENTS))
@pytest.mark.parametrize("table", ["customers", "capacity"])  # a required and an optional table
def test_empty_file_is_rejected_naming_it(env, name, table):
    with imported(env, {f"{table}.csv": EMPTY_CONTENTS[name]}) as out:
        named(out.report, f"{table}.csv", None, None, "empty")


@pytest.mark.parametrize("name", sorted(HEADER_ONLY))
def test_header_only_file_imports_no_rows(env, name):
    files = {"products.csv": PRODUCTS.encode(), "customers.csv": CUSTOMERS.encode(), "orders.csv": ORDERS.encode(),
             "capacity.csv": HEADER_ONLY[name]}
    with imported(env, files, "replace") as out:
        assert out.report.ok, listing(out.report)
        assert out.report.rows["capacity"] == 0
        assert out.rows("SELECT count(*) FROM capacity") == [(0,)]


def test_empty_workbook_and_parquet_files(env):
    wb = openpyxl.Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    with imported(env, {"customers.xlsx": buf.getvalue()}) as out:
        named(out.report, "customers.xlsx", None, None, "empty")
    no_columns = io.BytesIO()
    pq.write_table(pa.table({}), no_columns)
    with imported(env, {"customers.parquet": no_columns.getvalue()}) as out:
        named(out.report, "customers.parquet", None, "customer_id", "missing required column")
    no_rows = io.BytesIO()
    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in CUSTOMER_COLUMNS}), no_rows)
    with imported(env, {"customers.parquet": no_rows.getvalue()}) as out:
        assert out.report.ok and out.report.rows == {"customers": 0}, listing(out.report)


# =========================================================================== random and corrupted bytes

_CUSTOMER_HEADER = b"customer_id,name,region,segment\n"


def _xlsx(rows: list[list], *, strings: bool = True) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if strings:  # text that looks like a formula is stored as text, as a spreadsheet does for '=1+1
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


_GOOD_ROWS = [["FZ0", "Nordic", "North", "Retail"], ["FZ1", "=1+1", "South", "Key"]]
VALID_BYTES = {
    "csv": _CUSTOMER_HEADER + b"FZ0,Nordic,North,Retail\nFZ1,=1+1,South,Key\n",
    "xlsx": _xlsx([list(CUSTOMER_COLUMNS), *_GOOD_ROWS]),
    "parquet": _parquet(pa.table({c: [r[j] for r in _GOOD_ROWS] for j, c in enumerate(CUSTOMER_COLUMNS)})),
}


def _check_anything(out: Outcome, file: str) -> None:
    """The property for input nobody can predict: imported (and readable), or rejected naming the file."""
    if out.report.ok:
        n = out.report.rows.get("customers", 0)
        assert out.rows("SELECT count(*) FROM customers")[0][0] >= n
    else:
        rejected_naming(out.report, file)


@fuzz(30)
@given(ext=st.sampled_from(sorted(VALID_BYTES)),
       prefix=st.sampled_from([b"", _CUSTOMER_HEADER, codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
                               codecs.BOM_UTF32_LE, b"PK\x03\x04", b"PAR1", b'"', b"\x00" * 8]),
       body=st.binary(max_size=3000), suffix=st.sampled_from([b"", b"\n", b"PAR1", b"\xff\xfe"]))
@example(ext="csv", prefix=_CUSTOMER_HEADER, body=b"FZ0,\xff\xfe\xc3\x28,\x80\x81,\xe2\x82\n", suffix=b"")
@example(ext="csv", prefix=b"", body=bytes(range(256)) * 4, suffix=b"")
def test_random_bytes(env, ext, prefix, body, suffix):
    file = f"customers.{ext}"
    with imported(env, {file: prefix + body + suffix}) as out:
        _check_anything(out, file)


def _mutations() -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=8)),
        st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("member"), st.sampled_from(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                                      "xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml"]),
                  st.one_of(st.floats(0, 1), st.binary(max_size=200))),
    )


def _mutate(raw: bytes, mutation: tuple) -> bytes:
    kind = mutation[0]
    if kind == "truncate":
        return raw[: int(len(raw) * mutation[1])]
    if kind == "flip":
        b = bytearray(raw)
        for where, mask in mutation[1]:
            b[min(len(b) - 1, int(len(b) * where))] ^= mask
        return bytes(b)
    if kind == "insert":
        at = int(len(raw) * mutation[1])
        return raw[:at] + mutation[2] + raw[at:]
    # "member": rewrite one part inside the xlsx zip (cut short, or replaced by junk), keeping the zip valid
    _, member, how = mutation
    try:
        zin = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        return raw
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = data[: int(len(data) * how)] if isinstance(how, float) else how
            zout.writestr(item, data)
    return out.getvalue()


@fuzz(30)
@given(ext=st.sampled_from(sorted(VALID_BYTES)), mutation=_mutations())
@example(ext="xlsx", mutation=("member", "xl/worksheets/sheet1.xml", 0.5))  # half a sheet: unclosed XML
@example(ext="xlsx", mutation=("member", "xl/sharedStrings.xml", b"<sst"))
@example(ext="parquet", mutation=("truncate", 0.9))
@example(ext="csv", mutation=("insert", 0.5, b'"'))
def test_corrupted_files(env, ext, mutation):
    file = f"customers.{ext}"
    with imported(env, {file: _mutate(VALID_BYTES[ext], mutation)}) as out:
        _check_anything(out, file)


# =========================================================================== Excel and Parquet values

_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@fuzz(8)
@given(values=st.lists(st.lists(cells("utf-8").map(lambda s: _XML_UNSAFE.sub("", s).replace("\r", "")),
                                min_size=3, max_size=3), min_size=1, max_size=4),
       real_formula=st.booleans())
@example(values=[[f.replace("\r", ""), "x" * LONG, "ok"] for f in FORMULAS], real_formula=True)
def test_xlsx_text_round_trip_and_real_formulas(env, values, real_formula):
    """Text that looks like a formula comes back verbatim; a real formula cell has no value to import
    (the importer reads values, never formulas): it is an empty cell, which takes the contract's default
    (issue 12: name = the customer_id, region and segment 'unassigned') and is counted in the notes."""
    rows = [[f"FZ{i:03d}", *v] for i, v in enumerate(values)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(CUSTOMER_COLUMNS))
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"  # text, also when it starts with '='
    if real_formula:
        ws.cell(row=2, column=2).value = "=1+1"  # a real formula: openpyxl stores no cached value
        ws.cell(row=2, column=2).data_type = "f"
    buf = io.BytesIO()
    wb.save(buf)
    expected = [[c[:32_767].strip() for c in r] for r in rows]  # an Excel cell holds at most 32,767 characters
    with imported(env, {"customers.xlsx": buf.getvalue()}) as out:
        if real_formula:
            expected[0][1] = ""
        expected = [[r[0], r[1] or r[0], r[2] or "unassigned", r[3] or "unassigned"] for r in expected]
        assert out.report.ok, listing(out.report)
        if real_formula:
            assert any("customers.xlsx name: " in n and "set to the customer_id" in n for n in out.report.notes)
        stored = out.rows("SELECT customer_id, name, region, segment FROM customers "
                          "WHERE customer_id LIKE 'FZ%' ORDER BY customer_id")
        assert [list(r) for r in stored] == expected


@fuzz(8)
@given(values=st.lists(st.one_of(st.floats(), st.integers(-(10**20), 10**20),
                                 st.sampled_from([1e308, -0.0, 5e-324, 10**30, float("inf"), float("nan")])),
                       min_size=1, max_size=4))
@example(values=[1e308, 10**30, float("inf"), float("nan"), -1.5, 1.0150776300321958e16])
def test_xlsx_number_cells(env, values):
    header = ["sku", "name", "family", "unit_cost", "unit_price", "work_center", "hours_per_unit"]
    raw = _xlsx([header, *[[f"FZ{i:03d}", "n", "f", v, 1, "W", 0.5] for i, v in enumerate(values)]], strings=False)
    # the values as the file holds them: openpyxl writes floats with 16 significant digits, inf as nothing
    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
    values = [r[3] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
    wb.close()
    with imported(env, {"products.xlsx": raw}) as out:
        # an empty cell (inf is written as nothing) is an empty unit_cost: optional since issue 12, stored NULL
        bad = [i + 2 for i, v in enumerate(values) if v is not None and (not math.isfinite(v) or v < 0)]
        for row in bad:
            named(out.report, "products.xlsx", row, "unit_cost")
        if bad:
            return
        assert out.report.ok, listing(out.report)
        got = dict(out.rows("SELECT sku, unit_cost FROM products WHERE sku LIKE 'FZ%'"))
        assert [got[f"FZ{i:03d}"] for i in range(len(values))] == [None if v is None else float(v) for v in values]


def _arrow_numbers(kind: str, values: list) -> tuple[pa.Array, list]:
    """An Arrow column of ``kind`` and the float each value means."""
    if kind == "float64":
        return pa.array(values, pa.float64()), [float(v) for v in values]
    if kind == "float32":  # written as the shortest text that reads back as the same float32
        with np.errstate(over="ignore"):
            f32 = [np.float32(v) for v in values]
        return pa.array(f32, pa.float32()), [float(str(v)) for v in f32]
    if kind == "int64":
        ints = [int(max(-(2**63), min(2**63 - 1, v))) if math.isfinite(v) else 0 for v in values]
        return pa.array(ints, pa.int64()), [float(v) for v in ints]
    if kind == "decimal":
        decs = [Decimal(int(v) % 10**38) if math.isfinite(v) else Decimal(10**30) for v in values]
        return pa.array(decs, pa.decimal128(38, 0)), [float(d) for d in decs]
    strs = [repr(v) for v in values]
    return pa.array(strs, pa.string()), [float(s) for s in strs]


@fuzz(12)
@given(kind=st.sampled_from(["float64", "float32", "int64", "decimal", "string"]),
       values=st.lists(st.one_of(st.floats(), st.sampled_from([1e308, 10.0**30, -0.0, 5e-324, 0.1])),
                       min_size=1, max_size=4),
       text=st.lists(cells("utf-8"), min_size=1, max_size=1),
       text_type=st.sampled_from(["string", "large_string", "dictionary"]))
@example(kind="decimal", values=[1e30], text=["=1+1"], text_type="dictionary")
@example(kind="float64", values=[float("nan"), float("inf"), 1e308], text=["@SUM(A1)"], text_type="string")
def test_parquet_numbers_and_text(env, kind, values, text, text_type):
    costs, want = _arrow_numbers(kind, values)
    n = len(values)
    names = pa.array([text[0]] * n, pa.large_string() if text_type == "large_string" else pa.string())
    if text_type == "dictionary":
        names = names.dictionary_encode()
    table = pa.table({"sku": [f"FZ{i:03d}" for i in range(n)], "name": names, "family": ["f"] * n, "unit_cost": costs,
                      "unit_price": pa.array([1] * n, pa.int32()), "work_center": ["W"] * n,
                      "hours_per_unit": pa.array([0.5] * n, pa.float32())})
    with imported(env, {"products.parquet": _parquet(table)}) as out:
        bad = [i + 2 for i, v in enumerate(want) if not math.isfinite(v) or v < 0]
        for row in bad:
            named(out.report, "products.parquet", row, "unit_cost")
        if bad:
            return
        assert out.report.ok, listing(out.report)
        got = {sku: (name, cost) for sku, name, cost in
               out.rows("SELECT sku, name, unit_cost FROM products WHERE sku LIKE 'FZ%'")}
        # an empty name takes the default, the sku (issue 12)
        assert [got[f"FZ{i:03d}"] for i in range(n)] == [(text[0].strip() or f"FZ{i:03d}", w)
                                                         for i, w in enumerate(want)]


@fuzz(8)
@given(days=st.lists(st.one_of(st.dates(date(1900, 1, 1), date(2199, 12, 31)), st.dates()), min_size=1, max_size=4),
       as_timestamp=st.booleans())
def test_parquet_date_columns(env, days, as_timestamp):
    n = len(days)
    col = (pa.array([datetime.combine(d, datetime.min.time()) + timedelta(hours=13) for d in days], pa.timestamp("us"))
           if as_timestamp else pa.array(days, pa.date32()))
    table = pa.table({"order_id": [f"FZ-{i:03d}" for i in range(n)], "line_no": [1] * n, "customer_id": ["C1"] * n,
                      "sku": ["A1"] * n, "order_date": col, "requested_date": pa.nulls(n, pa.date32()),
                      "quantity": [1.0] * n})
    with imported(env, {"orders.parquet": _parquet(table)}) as out:
        implausible = [i + 2 for i, d in enumerate(days) if not 1900 <= d.year <= 2199]
        for row in implausible:
            named(out.report, "orders.parquet", row, "order_date", "implausible")
        if implausible:
            return
        assert out.report.ok, listing(out.report)
        got = dict(out.rows("SELECT order_id, order_date FROM orders WHERE order_id LIKE 'FZ-%'"))
        assert [got[f"FZ-{i:03d}"] for i in range(n)] == days


# pyarrow cannot decode the malformed row's text for the row handler while trying UTF-8 (it says so on stderr)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_invalid_utf8_late_in_the_file_and_in_a_malformed_row(env):
    """Bytes that are not UTF-8 after the first 64 KB (the part read to guess the encoding): the whole file
    is read as Windows-1252; in a row with the wrong number of fields: that row is named."""
    rows = [f"FZ{i:05d},Name {i},North,Retail" for i in range(3_000)]
    late = "customer_id,name,region,segment\n" + "\n".join(rows) + "\nFZ99999,Café Zoë,Nord,Détail\n"
    raw = late.encode("cp1252")
    assert len(raw) > 70_000 and raw.find(b"\xe9") > 65_536
    with imported(env, {"customers.csv": raw}) as out:
        assert out.report.ok, listing(out.report)
        assert any("Windows-1252" in n for n in out.report.notes), out.report.notes
        assert out.rows("SELECT name, region, segment FROM customers WHERE customer_id = 'FZ99999'") == [
            ("Café Zoë", "Nord", "Détail")]
    bad_row = late.replace("Détail\n", "Détail\nFZ1,Zoë,South\n").encode("cp1252")  # 3 fields, after 64 KB
    with imported(env, {"customers.csv": bad_row}) as out:
        assert out.report.problem_count == 1, listing(out.report)
        named(out.report, "customers.csv", len(rows) + 3, None, "3 field(s) where the header has 4")


def test_duplicate_headers_and_unsupported_columns_in_xlsx_and_parquet(env):
    raw = _xlsx([["customer_id", "name", "region", "segment", "region"], ["FZ0", "a", "b", "c", "d"]])
    with imported(env, {"customers.xlsx": raw}) as out:
        named(out.report, "customers.xlsx", None, "region", "more than once")
    ids = pa.array(["FZ0"])
    dup = pa.Table.from_arrays([ids, pa.array(["a"]), pa.array(["b"]), pa.array(["c"]), pa.array(["d"])],
                               names=["customer_id", "name", "region", "segment", "name"])
    with imported(env, {"customers.parquet": _parquet(dup)}) as out:
        named(out.report, "customers.parquet", None, "name", "more than once")
    nested = pa.table({"customer_id": ids, "name": ["a"], "region": ["b"], "segment": ["c"], "tags": [[1, 2]]})
    with imported(env, {"customers.parquet": _parquet(nested)}) as out:
        named(out.report, "customers.parquet", None, None, "tags")
    binary = pa.table({"customer_id": ids, "name": pa.array([b"\xff\xfe"], pa.binary()), "region": ["b"],
                       "segment": ["c"]})
    with imported(env, {"customers.parquet": _parquet(binary)}) as out:
        named(out.report, "customers.parquet", None, None, "not UTF-8")


# =========================================================================== 200 MB

BIG_BYTES = 200_000_000


@dataclass
class BigParts:
    head: Path  # header and rows 2 .. n_head + 1
    tail: Path  # the last rows
    n_head: int
    n_tail: int
    quantity_sum: float


def _orders_rows(start: int, n: int) -> pa.Table:
    i = np.arange(start, start + n)
    # wide, realistic ids keep the row count (and so time and memory) moderate for 200 MB
    order_id = np.char.add("SALES-ORDER-EU-NORTH-WAREHOUSE-", np.char.zfill((i // 3).astype(str), 10))
    days = (np.datetime64("2024-01-01") + (i % 700).astype("timedelta64[D]")).astype(str)
    return pa.table({
        "order_id": order_id, "line_no": i % 3 + 1, "customer_id": np.where(i % 2 == 0, "C1", "C2"),
        "sku": np.array(["A1", "B2", "C3"])[i % 3], "order_date": days, "requested_date": days,
        "promised_date": days, "quantity": (i % 97 + 1).astype(np.float64), "unit_price": np.full(n, 120.5),
    })


@pytest.fixture(scope="module")
def big_parts(tmp_path_factory) -> BigParts:
    """About 200 MB of order lines, written once as a head part (with header) and a 1,000-row tail part."""
    base = tmp_path_factory.mktemp("big")
    sample = io.BytesIO()
    pacsv.write_csv(_orders_rows(0, 10_000), sample, pacsv.WriteOptions(quoting_style="none", include_header=False))
    n = int(BIG_BYTES / (sample.tell() / 10_000)) + 1
    n_tail = 1_000
    n_head = n - n_tail
    head, tail = base / "head.csv", base / "tail.csv"
    with pacsv.CSVWriter(head, _orders_rows(0, 1).schema, write_options=pacsv.WriteOptions(quoting_style="none")) as w:
        for start in range(0, n_head, 500_000):
            w.write_table(_orders_rows(start, min(500_000, n_head - start)))
    pacsv.write_csv(_orders_rows(n_head, n_tail), tail, pacsv.WriteOptions(quoting_style="none", include_header=False))
    q = np.arange(n) % 97 + 1
    return BigParts(head, tail, n_head, n_tail, float(q.sum()))


def _big_orders(env: Env, parts: BigParts, middle: bytes) -> Path:
    """orders.csv of at least 200 MB: the head part, ``middle`` (one more line), the tail part."""
    dest = env.root / f"orders{next(env.counter)}.csv"
    with open(dest, "wb") as out:
        for part in (parts.head, None, parts.tail):
            if part is None:
                out.write(middle)
                continue
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 24)
    assert dest.stat().st_size >= BIG_BYTES
    return dest


def test_200_mb_file_imports_completely(env, big_parts):
    n = big_parts.n_head + big_parts.n_tail
    files = {"products.csv": PRODUCTS.encode(), "customers.csv": CUSTOMERS.encode(),
             "orders.csv": _big_orders(env, big_parts, b"")}
    t0 = time.monotonic()
    with imported(env, files, "replace", seconds=300) as out:
        seconds = time.monotonic() - t0
        assert out.report.ok, out.report.as_text()
        assert out.report.rows["orders"] == n
        assert out.rows("SELECT count(*), sum(quantity) FROM orders") == [(n, big_parts.quantity_sum)]
        for i in (0, n // 2, big_parts.n_head, n - 1):  # first, middle, first of the tail, last
            oid = f"SALES-ORDER-EU-NORTH-WAREHOUSE-{i // 3:010d}"
            day = date(2024, 1, 1) + timedelta(days=i % 700)
            assert out.rows(
                "SELECT order_id, line_no, customer_id, sku, order_date, requested_date, promised_date, quantity, "
                "unit_price FROM orders WHERE order_id = $o AND line_no = $l", {"o": oid, "l": i % 3 + 1}
            ) == [(oid, i % 3 + 1, "C1" if i % 2 == 0 else "C2", ["A1", "B2", "C3"][i % 3], day, day, day,
                   float(i % 97 + 1), 120.5)]
    print(f"200 MB, {n:,} order lines: imported in {seconds:.1f} s")


def test_200_mb_file_with_one_bad_row_near_the_end_is_rejected(env, big_parts):
    bad_row = big_parts.n_head + 2  # header = row 1; the tail's 1,000 rows follow it
    middle = b"SALES-ORDER-BAD,1,C1,A1,2026-01-05,2026-01-05,2026-01-05,1O,120.5\n"  # letter O, not zero
    files = {"products.csv": PRODUCTS.encode(), "customers.csv": CUSTOMERS.encode(),
             "orders.csv": _big_orders(env, big_parts, middle)}
    with imported(env, files, "replace", seconds=300) as out:  # checks the database is byte for byte unchanged
        assert out.report.problem_count == 1, listing(out.report)
        p = named(out.report, "orders.csv", bad_row, "quantity", "not a number: '1O'")
        assert str(p) == f"orders.csv row {bad_row}, column quantity: not a number: '1O'"
