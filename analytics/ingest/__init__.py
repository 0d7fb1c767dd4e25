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

* an orders file in replace mode (products and customers without a file are derived from the orders' keys,
  see :mod:`analytics.schema` for every column's default);
* required columns present; in files named after the tables, columns not in the contract are problems
  ("unknown column X (map it or remove it)") unless the mapping maps them away (map a column to ``None`` to
  ignore it); with a mapping file, source columns no entry names are not used, and listed in the report; the
  same column twice is a problem;
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

The package does one job per module: :mod:`.read` (files -> text frames), :mod:`.map`
(source columns -> contract columns: suggestions, saved per-table mappings), :mod:`.mapfile` (mapping
files: which file or SQL feeds each table and column, run in a sandboxed DuckDB), :mod:`.validate`
(every rule, nothing written) and :mod:`.write` (one transaction, the import log, the audit).

No Streamlit in here: the import page and the CLI both call this package.
"""
from __future__ import annotations

from analytics.ingest.common import (
    EXTRA_COLUMNS,
    FILE_EXTENSIONS,
    MODES,
    ORDER_DELIVERY_COLUMNS,
    PROBLEM_CAP,
    ImportReport,
    Problem,
    Progress,
    ReadError,
    Validation,
)
from analytics.ingest.map import (
    SYNONYMS,
    TABLE_SYNONYMS,
    apply_mapping,
    list_sources,
    load_mappings,
    save_mapping,
    suggest_mapping,
    target_columns,
)
from analytics.ingest.mapfile import (
    MappingError,
    MappingFile,
    TableMapping,
    draft_mapping,
    load_mapping,
    load_saved_mapping,
    parse_mapping,
    run_mapping,
    save_mapping_file,
    saved_mapping_text,
    view_name,
)
from analytics.ingest.read import Source, find_files, read_source, read_table_file, table_for_file
from analytics.ingest.validate import validate
from analytics.ingest.write import (
    data_audit,
    import_folder,
    import_frames,
    import_history,
    import_mapped,
    preview_mapped,
    rejected_imports,
    rejected_log_path,
)
from analytics.schema import CONTRACT

__all__ = [
    "CONTRACT", "EXTRA_COLUMNS", "FILE_EXTENSIONS", "MODES", "ORDER_DELIVERY_COLUMNS", "PROBLEM_CAP", "SYNONYMS",
    "TABLE_SYNONYMS", "ImportReport", "MappingError", "MappingFile", "Problem", "Progress", "ReadError", "Source",
    "TableMapping", "Validation", "apply_mapping", "data_audit", "draft_mapping", "find_files", "import_folder", "import_frames",
    "import_history", "import_mapped", "list_sources", "load_mapping", "load_mappings", "load_saved_mapping",
    "parse_mapping", "preview_mapped", "read_source", "rejected_imports", "rejected_log_path", "read_table_file", "run_mapping", "save_mapping", "save_mapping_file",
    "saved_mapping_text", "suggest_mapping", "table_for_file", "target_columns", "validate", "view_name",
]
