"""Issue 12, item 2: only what the KPIs need is required; masters derived from the orders; defaults with notes;
the line's ship-to region; blank rows and a byte-order mark; databases written by the older contract."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from analytics import db, ingest, kpis
from analytics.filters import Filters

# Only the five columns the KPIs need, plus the optional ship-to region on two of three lines. A BOM before
# the header, a blank line of delimiters and one of spaces at the end (as spreadsheet exports leave them).
ORDERS_ONLY = (
    "\ufefforder_id,customer_id,sku,order_date,quantity,region\n"
    "SO1,C1,A1,2026-01-05,10,North\n"
    "SO1,C1,B2,2026-01-05,5,\n"
    "SO2,C2,A1,2026-01-10,20,South\n"
    ",,,,,\n"
    " , ,,, ,\n"
)


def rows(path: Path, sql: str) -> list[tuple]:
    con = db.open_reader(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_orders_alone_import_with_derived_products_and_customers(tmp_path):
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, write(tmp_path / "in", {"orders.csv": ORDERS_ONLY}))
    assert report.ok, report.as_text()
    assert report.rows["orders"] == 3 and report.rows["products"] == 2 and report.rows["customers"] == 2
    # first seen first; name = the key, family/region/segment 'unassigned', the rest empty
    assert rows(path, "SELECT * FROM products ORDER BY sku") == [
        ("A1", "A1", "unassigned", None, None, None, None),
        ("B2", "B2", "unassigned", None, None, None, None),
    ]
    assert rows(path, "SELECT * FROM customers ORDER BY customer_id") == [
        ("C1", "C1", "unassigned", "unassigned"),
        ("C2", "C2", "unassigned", "unassigned"),
    ]
    assert rows(path, "SELECT order_id, line_no, requested_date, region FROM orders ORDER BY 1, 2") == [
        ("SO1", 1, None, "North"),
        ("SO1", 2, None, None),
        ("SO2", 1, None, "South"),
    ]
    text = report.as_text()
    assert "orders.csv: 2 blank rows skipped" in text
    assert "products: no file: derived 2 products from the sku values of orders.csv" in text
    assert "customers: no file: derived 2 customers from the customer_id values of orders.csv" in text
    assert "no requested_date column: left empty; OTIF to request" in text


def test_line_region_drives_facts_and_the_region_filter(tmp_path):
    path = tmp_path / "sop.duckdb"
    assert ingest.import_folder(path, write(tmp_path / "in", {"orders.csv": ORDERS_ONLY})).ok
    # the line's region when it has one, else the customer's ('unassigned' here)
    assert rows(path, "SELECT order_id, line_no, region FROM fact_order_lines ORDER BY 1, 2") == [
        ("SO1", 1, "North"),
        ("SO1", 2, "unassigned"),
        ("SO2", 1, "South"),
    ]
    # no deliveries: order cycle time has no population, but the filter still reaches the line's region:
    # the demand in January filtered to North is SO1/1's 10 units (fact_order_lines, by order_date)
    con = db.open_reader(path)
    try:
        q = kpis.Query(
            start=date(2026, 1, 1), end=date(2026, 1, 31), as_of=date(2026, 1, 31), filters=Filters(regions=("North",))
        )
        sql = (
            "SELECT sum(quantity) FROM fact_order_lines WHERE order_date BETWEEN $start AND $end "
            "AND region IN (SELECT unnest($regions))"
        )
        assert con.execute(sql, {"start": q.start, "end": q.end, "regions": list(q.filters.regions)}).fetchall() == [
            (10.0,)
        ]
    finally:
        con.close()


def test_empty_cells_take_the_documented_defaults(tmp_path):
    path = tmp_path / "sop.duckdb"
    files = {
        "orders.csv": ORDERS_ONLY,
        "customers.csv": "customer_id,name,region,segment\nC1,,North,\nC2,South Co,,Retail\n",
        "products.csv": "sku,family\nA1,Desks\nB2,\n",
    }
    report = ingest.import_folder(path, write(tmp_path / "in", files))
    assert report.ok, report.as_text()
    assert rows(path, "SELECT * FROM customers ORDER BY 1") == [
        ("C1", "C1", "North", "unassigned"),
        ("C2", "South Co", "unassigned", "Retail"),
    ]
    assert rows(path, "SELECT sku, name, family FROM products ORDER BY 1") == [
        ("A1", "A1", "Desks"),
        ("B2", "B2", "unassigned"),
    ]
    text = report.as_text()
    assert "customers.csv name: 1 empty value set to the customer_id" in text
    assert "customers.csv region: 1 empty value set to 'unassigned'" in text
    assert "products (products.csv): no name column: the sku for every row" in text
    assert "products (products.csv): no work_center column: left empty; no load on capacity" in text
    # the line region of SO1/2 is empty: it falls back to the customer's region (C1: North)
    assert rows(path, "SELECT region FROM fact_order_lines WHERE order_id = 'SO1' AND line_no = 2") == [("North",)]


def test_upsert_derives_only_new_keys_and_keeps_stored_masters(tmp_path):
    path = tmp_path / "sop.duckdb"
    first = {
        "orders.csv": ORDERS_ONLY,
        "customers.csv": "customer_id,name,region,segment\nC1,Nordic,North,Retail\nC2,Southern,South,Retail\n",
    }
    assert ingest.import_folder(path, write(tmp_path / "in1", first)).ok
    later = "order_id,customer_id,sku,order_date,quantity\nSO3,C1,A1,2026-02-01,1\nSO4,C9,Z9,2026-02-02,2\n"
    report = ingest.import_folder(path, write(tmp_path / "in2", {"orders.csv": later}), mode="upsert")
    assert report.ok, report.as_text()
    assert report.rows == {"products": 1, "customers": 1, "orders": 2}
    assert rows(path, "SELECT * FROM customers ORDER BY 1") == [
        ("C1", "Nordic", "North", "Retail"),
        ("C2", "Southern", "South", "Retail"),
        ("C9", "C9", "unassigned", "unassigned"),
    ]
    assert rows(path, "SELECT sku FROM products ORDER BY 1") == [("A1",), ("B2",), ("Z9",)]
    assert "derived 1 new customers" in report.as_text()


def test_orders_are_still_required_and_their_five_columns_too(tmp_path):
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, write(tmp_path / "in", {"customers.csv": "customer_id\nC1\n"}))
    assert not report.ok
    assert any(p.file == "orders" and "missing file: orders.csv" in p.problem for p in report.problems)
    assert not any("products" in p.problem or "customers" in p.problem for p in report.problems)
    bad = "order_id,customer_id,sku,order_date\nSO1,C1,A1,2026-01-05\n"
    report = ingest.import_folder(path, write(tmp_path / "in2", {"orders.csv": bad}))
    assert [str(p) for p in report.problems] == ["orders.csv column quantity: missing required column quantity"]
    assert not path.exists()


def test_a_database_of_the_older_contract_is_migrated_by_the_writer(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # the contract before issue 12: no orders.region, products columns NOT NULL
    con.execute(
        "CREATE TABLE products (sku VARCHAR NOT NULL, name VARCHAR NOT NULL, family VARCHAR NOT NULL, "
        "unit_cost DOUBLE NOT NULL, unit_price DOUBLE NOT NULL, work_center VARCHAR NOT NULL, "
        "hours_per_unit DOUBLE NOT NULL, PRIMARY KEY (sku))"
    )
    con.execute("INSERT INTO products VALUES ('A1', 'Desk', 'Desks', 1, 2, 'W', 0.5)")
    con.execute(
        "CREATE TABLE orders (order_id VARCHAR NOT NULL, line_no BIGINT, customer_id VARCHAR NOT NULL, "
        "sku VARCHAR NOT NULL, order_date DATE NOT NULL, requested_date DATE, promised_date DATE, "
        "quantity DOUBLE NOT NULL, unit_price DOUBLE, PRIMARY KEY (order_id, line_no))"
    )
    db.ensure_schema(con)
    cols = dict(
        con.execute("SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = 'products'").fetchall()
    )
    assert cols["work_center"] and cols["unit_cost"] and cols["hours_per_unit"] and not cols["sku"]
    assert "region" in [
        r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'orders'").fetchall()
    ]
    con.close()
    later = "order_id,customer_id,sku,order_date,quantity,region\nSO1,C1,B2,2026-01-05,1,West\n"
    report = ingest.import_folder(path, write(tmp_path / "in", {"orders.csv": later}), mode="upsert")
    assert report.ok, report.as_text()
    assert rows(path, "SELECT sku, unit_cost FROM products ORDER BY 1") == [("A1", 1.0), ("B2", None)]
    assert rows(path, "SELECT region FROM fact_order_lines") == [("West",)]
