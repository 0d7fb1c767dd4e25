"""The importer: reading, mapping, every validation rule, derivations, upsert, and kill -9 safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from ingest_fixtures import (  # noqa: E402
    CUSTOMERS,
    DELIVERIES,
    ORDERS,
    PRODUCTS,
    file_hash,
    write_big_folder,
    write_folder,
)

from analytics import db, ingest  # noqa: E402

# --------------------------------------------------------------------------- helpers


def counts(path: Path) -> dict[str, int]:
    con = db.open_reader(path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("products", "customers", "orders", "deliveries", "surveys", "forecasts")}
    finally:
        con.close()


def query(path: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = db.open_reader(path)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def version(path: Path) -> int:
    con = db.open_reader(path)
    try:
        return db.data_version(con)
    finally:
        con.close()


def find(report, file: str, row: int | None, column: str | None, text: str) -> ingest.Problem:
    """The problem with this file, row and column whose text contains ``text`` (else fail with the list)."""
    for p in report.problems:
        if p.file == file and p.row == row and p.column == column and text in p.problem:
            return p
    listing = "\n".join(map(str, report.problems))
    raise AssertionError(f"no problem {file} row {row} column {column} containing {text!r}; got:\n{listing}")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """A database holding the valid sample folder (copied per test: imports are not free)."""
    base = tmp_path_factory.mktemp("template")
    path = base / "sop.duckdb"
    report = ingest.import_folder(path, write_folder(base / "valid"))
    assert report.ok, report.as_text()
    return path


@pytest.fixture
def sop_db(template_db, tmp_path) -> Path:
    path = tmp_path / "sop.duckdb"
    shutil.copyfile(template_db, path)
    return path


# --------------------------------------------------------------------------- good import


def test_good_import_counts_facts_log_and_audit(tmp_path):
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, write_folder(tmp_path / "in"), source="erp1")
    assert report.ok, report.as_text()
    assert report.rows == {"customers": 2, "products": 3, "orders": 4, "deliveries": 3}
    assert counts(path) == {"products": 3, "customers": 2, "orders": 4, "deliveries": 3, "surveys": 0, "forecasts": 0}
    assert version(path) == 1
    assert "OK" in report.as_text()
    # typed values: unit_price may be empty, promised_date may be empty
    rows = query(path, "SELECT order_id, line_no, order_date, promised_date, quantity, unit_price FROM orders "
                       "ORDER BY order_id, line_no")
    assert rows[0] == ("SO1", 1, date(2026, 1, 5), date(2026, 1, 22), 10.0, 140.0)
    assert rows[2][5] is None and rows[3][3] is None
    # the fact table sees the partial delivery
    fact = query(path, "SELECT delivered_qty, has_error FROM fact_order_lines WHERE order_id = 'SO1' AND line_no = 2")
    assert fact == [(3.0, False)]
    con = db.open_reader(path)
    try:
        audit = ingest.data_audit(con)
        hist = ingest.import_history(con)
    finally:
        con.close()
    checks = audit["checks"]
    assert checks.loc[checks["expect_zero"], "count"].eq(0).all()
    tables = audit["tables"].set_index(["table", "column"])
    assert tables.loc[("orders", "order_date"), "rows"] == 4
    assert tables.loc[("orders", "order_date"), "min"] == date(2026, 1, 5)
    assert audit["data_version"] == 1
    assert len(hist) == 1 and hist.loc[0, "mode"] == "replace" and hist.loc[0, "source"] == "erp1"
    assert hist.loc[0, "tables"] == {"customers": 2, "products": 3, "orders": 4, "deliveries": 3}
    assert hist.loc[0, "rows"] == 12


def test_second_replace_keeps_log_and_empties_tables_without_file(sop_db, tmp_path):
    folder = write_folder(tmp_path / "in", deliveries_csv=None)
    report = ingest.import_folder(sop_db, folder)
    assert report.ok, report.as_text()
    assert counts(sop_db)["deliveries"] == 0
    assert any("deliveries" in n and "empty" in n for n in report.notes)
    assert [r[0] for r in query(sop_db, "SELECT import_id FROM import_log ORDER BY 1")] == [1, 2]
    assert version(sop_db) == 2


# --------------------------------------------------------------------------- every kind of bad file

BAD_CASES = {
    # name: (file overrides, (file, row, column, text in problem))
    # (products.unit_cost became optional in issue 12: orders.quantity is still required)
    "missing column": (
        {"orders_csv": ORDERS.replace(",quantity,", ",").replace(",10,140", ",140").replace(",5,40", ",40")
         .replace(",20,\n", ",\n").replace(",4,150", ",150")},
        ("orders.csv", None, "quantity", "missing required column quantity")),
    "wrong type number": (
        {"orders_csv": ORDERS.replace("SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,5,",
                                      "SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,five,")},
        ("orders.csv", 3, "quantity", "not a number: 'five'")),
    "wrong type integer": (
        {"orders_csv": ORDERS.replace("SO3,1,", "SO3,1.5,")},
        ("orders.csv", 5, "line_no", "not a whole number: '1.5'")),
    "bad date": (
        {"orders_csv": ORDERS.replace("SO2,1,C2,C3,2026-01-10", "SO2,1,C2,C3,2026-13-45")},
        ("orders.csv", 4, "order_date", "not a date: '2026-13-45'")),
    "bad date text": (
        {"deliveries_csv": DELIVERIES.replace("D3,SO2,1,2026-01-24", "D3,SO2,1,next week")},
        ("deliveries.csv", 4, "ship_date", "not a date: 'next week'")),
    "implausible date": (
        {"orders_csv": ORDERS.replace("2026-02-15,,4", "2026-02-15,9999-12-31,4")},
        ("orders.csv", 5, "promised_date", "implausible date '9999-12-31'")),
    "negative quantity": (
        {"orders_csv": ORDERS.replace("SO3,1,C2,A1,2026-02-01,2026-02-15,,4,", "SO3,1,C2,A1,2026-02-01,2026-02-15,,-3,")},
        ("orders.csv", 5, "quantity", "negative quantity -3")),
    "not finite": (
        {"products_csv": PRODUCTS.replace("Chair,Chairs,20,", "Chair,Chairs,inf,")},
        ("products.csv", 3, "unit_cost", "not a finite number: 'inf'")),
    "nan": (
        {"orders_csv": ORDERS.replace("2026-01-25,20,", "2026-01-25,NaN,")},
        ("orders.csv", 4, "quantity", "not a finite number: 'NaN'")),
    "duplicate key": (
        {"products_csv": PRODUCTS + "A1,Desk again,Desks,1,2,WC-PAINT,0.1\n"},
        ("products.csv", 5, "sku", "duplicate key sku 'A1' (first on row 2)")),
    "duplicate composite key": (
        {"orders_csv": ORDERS + "SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,1,40\n"},
        ("orders.csv", 6, "order_id, line_no", "duplicate key order_id 'SO1', line_no 2 (first on row 3)")),
    "unknown sku": (
        {"orders_csv": ORDERS.replace("SO3,1,C2,A1,", "SO3,1,C2,ZZ9,")},
        ("orders.csv", 5, "sku", "unknown sku 'ZZ9' (not in products)")),
    "unknown customer": (
        {"orders_csv": ORDERS.replace("SO2,1,C2,", "SO2,1,C9,")},
        ("orders.csv", 4, "customer_id", "unknown customer_id 'C9' (not in customers)")),
    "unknown order line": (
        {"deliveries_csv": DELIVERIES.replace("D2,SO1,2,", "D2,SO1,7,")},
        ("deliveries.csv", 3, "order_id", "unknown order line 'SO1' line 7")),
    "delivered before ordered": (
        {"deliveries_csv": DELIVERIES.replace("D1,SO1,1,2026-01-19,2026-01-21", "D1,SO1,1,2026-01-02,2026-01-03")},
        ("deliveries.csv", 2, "delivered_date", "delivered 2026-01-03 before the order date 2026-01-05")),
    "over-delivery": (
        {"deliveries_csv": DELIVERIES + "D4,SO1,2,2026-01-25,2026-01-27,3,\n"},
        ("deliveries.csv", 5, "quantity", "over-delivery: deliveries of order SO1 line 2 total 6 but 5 were ordered")),
    "unknown column": (
        {"customers_csv": CUSTOMERS.replace("segment\n", "segment,colour\n").replace("Retail\n", "Retail,red\n")
         .replace("Wholesale\n", "Wholesale,blue\n")},
        ("customers.csv", None, "colour", "unknown column 'colour' (map it or remove it")),
    # (an empty region became 'unassigned' in issue 12: an empty key is still a problem)
    "empty required value": (
        {"customers_csv": CUSTOMERS.replace("C2,Southern Supply,South,", "  ,Southern Supply,South,")},
        ("customers.csv", 3, "customer_id", "empty customer_id")),
    # (products and customers are derived from the orders when absent since issue 12; orders are required)
    "missing required file": (
        {"orders_csv": None, "deliveries_csv": None},
        ("orders", None, None, "missing file: orders.csv")),
    "score outside 0-10": (
        {"surveys_csv": "survey_date,customer_id,score\n2026-01-30,C1,9\n2026-01-31,C2,11\n"},
        ("surveys.csv", 3, "score", "score 11 outside 0-10")),
    "forecast period not first of month": (
        {"forecasts_csv": "snapshot_date,sku,period,source,quantity\n2026-01-31,A1,2026-02-01,consensus,5\n"
                          "2026-01-31,A1,2026-03-15,consensus,5\n"},
        ("forecasts.csv", 3, "period", "period '2026-03-15' is not the first day of a month")),
    "ambiguous slash date": (
        {"orders_csv": ORDERS.replace("2026-01-05,2026-01-20", "03/04/2026,2026-01-20")},
        ("orders.csv", 2, "order_date", "ambiguous date '03/04/2026'")),
    "wrong number of fields": (
        {"customers_csv": CUSTOMERS + "C3,Extra,East,Retail,oops\n"},
        ("customers.csv", 4, None, "5 field(s) where the header has 4")),
    "decimal comma in a comma file": (
        {"products_csv": PRODUCTS.replace("Chair,Chairs,20,45.5", 'Chair,Chairs,20,"45,5"')},
        ("products.csv", 3, "unit_price", "not a number: '45,5' (use a decimal point")),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_file_is_reported_and_nothing_is_written(case, sop_db, tmp_path):
    overrides, (file, row, column, text) = BAD_CASES[case]
    folder = write_folder(tmp_path / "in", **overrides)
    before, v_before = file_hash(sop_db), version(sop_db)
    report = ingest.import_folder(sop_db, folder)
    assert not report.ok
    find(report, file, row, column, text)
    assert report.problem_count >= 1
    assert file_hash(sop_db) == before  # byte for byte
    assert version(sop_db) == v_before
    assert "NOT imported" in report.as_text()
    expected = f"{file}" + (f" row {row}" if row is not None else "")
    assert expected in report.as_text()
    assert not list(sop_db.parent.glob("*.writing"))


def test_bad_import_into_a_missing_database_creates_nothing(tmp_path):
    path = tmp_path / "new.duckdb"
    folder = write_folder(tmp_path / "in", orders_csv=ORDERS.replace("SO3,1,C2,A1,", "SO3,1,C2,ZZ9,"))
    report = ingest.import_folder(path, folder)
    assert not report.ok and not path.exists()


def test_all_problems_counted_and_listing_capped(tmp_path):
    lines = ["order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,quantity,unit_price"]
    lines += [f"SO{i},1,C1,A1,2026-01-05,,,-{i + 1},1" for i in range(450)]
    lines += [f"SX{i},1,C1,A1,not-a-date,,,1,1" for i in range(3)]
    folder = write_folder(tmp_path / "in", orders_csv="\n".join(lines) + "\n", deliveries_csv=None)
    report = ingest.import_folder(tmp_path / "x.duckdb", folder)
    assert report.problem_count == 453
    negative = [p for p in report.problems if p.column == "quantity" and p.row is not None]
    assert len(negative) == ingest.PROBLEM_CAP
    assert negative[0] == ingest.Problem("orders.csv", 2, "quantity", "negative quantity -1")
    find(report, "orders.csv", None, "quantity", "... and 250 more rows")
    find(report, "orders.csv", 452, "order_date", "not a date: 'not-a-date'")
    assert str(negative[0]) == "orders.csv row 2, column quantity: negative quantity -1"


def test_unknown_sku_in_each_child_table(tmp_path):
    folder = write_folder(
        tmp_path / "in",
        forecasts_csv="snapshot_date,sku,period,source,quantity\n2026-01-31,NOPE,2026-02-01,consensus,5\n",
        inventory_csv="snapshot_date,sku,on_hand\n2026-01-31,A1,3\n2026-01-31,GONE,4\n",
        production_csv="work_order_id,sku,work_center,planned_start,planned_end,actual_start,actual_end,planned_qty,"
                       "produced_qty,scrap_qty\nWO1,X1,WC-PAINT,2026-01-02,2026-01-05,,,10,,\n",
        surveys_csv="survey_date,customer_id,score\n2026-01-30,C7,9\n",
    )
    report = ingest.import_folder(tmp_path / "x.duckdb", folder)
    find(report, "forecasts.csv", 2, "sku", "unknown sku 'NOPE'")
    find(report, "inventory.csv", 3, "sku", "unknown sku 'GONE'")
    find(report, "production.csv", 2, "sku", "unknown sku 'X1'")
    find(report, "surveys.csv", 2, "customer_id", "unknown customer_id 'C7'")
    assert report.problem_count == 4


# --------------------------------------------------------------------------- upsert


def test_upsert_updates_one_row_and_adds_one(sop_db, tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,quantity,unit_price\n"
        "SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,12,140\n"   # update (10 -> 12)
        "SO4,1,C1,C3,2026-02-03,2026-02-20,2026-02-21,7,15\n"     # new, refers to stored products/customers
    )
    (folder / "surveys.csv").write_text("survey_date,customer_id,score\n2026-01-30,C1,9\n")
    report = ingest.import_folder(sop_db, folder, mode="upsert")
    assert report.ok, report.as_text()
    assert counts(sop_db)["orders"] == 5 and counts(sop_db)["deliveries"] == 3
    assert query(sop_db, "SELECT quantity FROM orders WHERE order_id = 'SO1' AND line_no = 1") == [(12.0,)]
    assert query(sop_db, "SELECT count(*) FROM fact_order_lines") == [(5,)]
    assert version(sop_db) == 2
    # surveys have no key: appended, and the same file again skips the stored duplicate
    report = ingest.import_folder(sop_db, folder, mode="upsert")
    assert report.ok, report.as_text()
    assert counts(sop_db)["surveys"] == 1 and counts(sop_db)["orders"] == 5
    assert any("surveys: 1 rows already stored were skipped" in n for n in report.notes)
    hist = query(sop_db, "SELECT mode FROM import_log ORDER BY import_id")
    assert hist == [("replace",), ("upsert",), ("upsert",)]


def test_upsert_validates_against_stored_data(sop_db, tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    before = file_hash(sop_db)
    # an order line whose quantity drops below what is already delivered (10 delivered by D1)
    (folder / "orders.csv").write_text(
        "order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,quantity,unit_price\n"
        "SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,8,140\n"
        "SO5,1,C1,NEW,2026-02-03,2026-02-20,2026-02-21,7,15\n"
    )
    # a delivery for a stored order line that is not in the file, and one for an unknown line
    (folder / "deliveries.csv").write_text(
        "delivery_id,order_id,line_no,ship_date,delivered_date,quantity,error_code\n"
        "D9,SO3,1,2026-02-10,2026-02-12,4,\n"
        "D10,SO3,2,2026-02-10,2026-02-12,1,\n"
        "D11,SO1,2,2026-02-10,2026-02-12,3,\n"   # 3 stored + 3 = 6 > 5 ordered
    )
    report = ingest.import_folder(sop_db, folder, mode="upsert")
    assert not report.ok
    find(report, "orders.csv", 2, "quantity", "ordered quantity 8 is less than the 10 already delivered")
    # without a products file, a SKU neither in the file nor stored is derived from the orders (issue 12)
    assert any("derived 1 new products" in n for n in report.notes)
    find(report, "deliveries.csv", 3, "order_id", "unknown order line 'SO3' line 2")
    find(report, "deliveries.csv", 4, "quantity", "over-delivery: deliveries of order SO1 line 2 total 6")
    assert report.problem_count == 3  # D9 is fine: SO3/1 is stored
    assert file_hash(sop_db) == before


def test_upsert_duplicate_in_file_is_a_problem(sop_db, tmp_path):
    folder = write_folder(tmp_path / "up", {"products.csv": PRODUCTS + "B2,Chair 2,Chairs,20,45,WC-PAINT,0.2\n"})
    report = ingest.import_folder(sop_db, folder, mode="upsert")
    find(report, "products.csv", 5, "sku", "duplicate key sku 'B2' (first on row 3)")


# --------------------------------------------------------------------------- derivations


def test_orders_without_line_no_are_numbered(tmp_path):
    orders = ("order_id,customer_id,sku,order_date,requested_date,promised_date,quantity,unit_price\n"
              "SO1,C1,A1,2026-01-05,2026-01-20,2026-01-22,10,140\n"
              "SO2,C2,C3,2026-01-10,,2026-01-25,20,\n"
              "SO1,C1,B2,2026-01-05,2026-01-20,2026-01-22,5,40\n"
              "SO3,C2,A1,2026-02-01,2026-02-15,,4,150\n")
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, write_folder(tmp_path / "in", orders_csv=orders))
    assert report.ok, report.as_text()
    assert query(path, "SELECT order_id, line_no, sku FROM orders ORDER BY order_id, line_no") == [
        ("SO1", 1, "A1"), ("SO1", 2, "B2"), ("SO2", 1, "C3"), ("SO3", 1, "A1")]
    assert any("no line_no column: numbered lines 1..n within each order_id in file order (4 rows)" in n
               for n in report.notes)


def test_orders_without_promised_date_and_unit_price(tmp_path):
    orders = ("order_id,line_no,customer_id,sku,order_date,requested_date,quantity\n"
              "SO1,1,C1,A1,2026-01-05,2026-01-20,10\n")
    folder = write_folder(tmp_path / "in", orders_csv=orders, deliveries_csv=None)
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert query(path, "SELECT promised_date, unit_price FROM orders") == [(None, None)]
    assert any("OTIF to promise will show 'not available: needs promised_date'" in n for n in report.notes)
    assert any("no unit_price column" in n for n in report.notes)


def test_deliveries_derived_from_ship_date_on_orders(tmp_path):
    orders = ("order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,quantity,"
              "ship_date,delivered_date,delivered_quantity\n"
              "SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,10,2026-01-19,2026-01-21,\n"
              "SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,5,2026-01-19,,3\n"
              "SO2,1,C2,C3,2026-01-10,,2026-01-25,20,,,\n")
    folder = write_folder(tmp_path / "in", orders_csv=orders, deliveries_csv=None)
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert query(path, "SELECT delivery_id, order_id, line_no, ship_date, delivered_date, quantity, error_code "
                       "FROM deliveries ORDER BY 1") == [
        ("SO1-1", "SO1", 1, date(2026, 1, 19), date(2026, 1, 21), 10.0, None),
        ("SO1-2", "SO1", 2, date(2026, 1, 19), date(2026, 1, 19), 3.0, None)]
    assert report.rows["deliveries"] == 2
    assert any("derived 2 deliveries from orders.csv" in n and "1 lines without a date" in n for n in report.notes)
    # a derived over-delivery and a delivery before the order are reported on the orders file
    bad = orders.replace("2026-01-19,,3", "2026-01-19,,7").replace(
        "SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,10,2026-01-19,2026-01-21,",
        "SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,10,2026-01-01,2026-01-02,")
    report = ingest.import_folder(path, write_folder(tmp_path / "bad", orders_csv=bad, deliveries_csv=None))
    find(report, "orders.csv", 3, "delivered_quantity", "over-delivery")
    find(report, "orders.csv", 2, "delivered_date", "delivered 2026-01-02 before the order date 2026-01-05")


def test_delivery_columns_on_orders_ignored_when_deliveries_file_exists(tmp_path):
    orders = "".join(line + (",ship_date\n" if i == 0 else ",garbage\n")
                     for i, line in enumerate(ORDERS.splitlines()))
    report = ingest.import_folder(tmp_path / "x.duckdb", write_folder(tmp_path / "in", orders_csv=orders))
    assert report.ok, report.as_text()
    assert any("ship_date ignored" in n for n in report.notes)


def test_production_without_scrap_and_deliveries_without_error_code(tmp_path):
    deliveries = "\n".join(",".join(line.split(",")[:6]) for line in DELIVERIES.strip().splitlines()) + "\n"
    production = ("work_order_id,sku,work_center,planned_start,planned_end,actual_start,actual_end,planned_qty,"
                  "produced_qty\nWO1,A1,WC-ASSEMBLY,2026-01-02,2026-01-05,2026-01-02,,10,\n")
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, write_folder(tmp_path / "in", deliveries_csv=deliveries,
                                                     production_csv=production))
    assert report.ok, report.as_text()
    assert any("no error_code column" in n for n in report.notes)
    assert any("no scrap_qty column" in n for n in report.notes)
    assert query(path, "SELECT scrap_qty, produced_qty, actual_end FROM production") == [(None, None, None)]


# --------------------------------------------------------------------------- mapping


def test_suggest_mapping():
    m = ingest.suggest_mapping("orders", ["Order No", "pos", "Cust_No", "Item", "Order Date", "Req Date",
                                          "Confirmed Date", "Qty", "Price", "Comment"])
    assert m == {"Order No": "order_id", "pos": "line_no", "Cust_No": "customer_id", "Item": "sku",
                 "Order Date": "order_date", "Req Date": "requested_date", "Confirmed Date": "promised_date",
                 "Qty": "quantity", "Price": "unit_price"}
    assert ingest.suggest_mapping("orders", ["SO", "item_no", "material", "order_qty", "customer",
                                             "requested_delivery_date", "promise_date"]) == {
        "SO": "order_id", "item_no": "line_no", "material": "sku", "order_qty": "quantity",
        "customer": "customer_id", "requested_delivery_date": "requested_date", "promise_date": "promised_date"}
    # exact names win over synonyms; each target used once
    assert ingest.suggest_mapping("products", ["SKU", "product_code", "Unit-Cost"]) == {
        "SKU": "sku", "Unit-Cost": "unit_cost"}
    assert ingest.suggest_mapping("deliveries", ["Delivery Date", "Delivered Qty"]) == {
        "Delivery Date": "delivered_date", "Delivered Qty": "quantity"}
    df = pd.DataFrame({"Item": ["A"], "Junk": ["x"], "Qty": ["1"]})
    out = ingest.apply_mapping(df, {"Item": "sku", "Qty": "quantity", "Junk": None})
    assert list(out.columns) == ["sku", "quantity"]


def test_saved_mapping_round_trip_and_import_with_source(sop_db, tmp_path):
    ingest.save_mapping(sop_db, "sap", "customers", {"Kunde": "customer_id", "Name1": "name", "Gebiet": "region",
                                                     "Segment": "segment", "Notiz": None})
    ingest.save_mapping(sop_db, "sap", "products", {"Artikel": "sku"})
    ingest.save_mapping(sop_db, "navision", "products", {"No_": "sku"})
    con = db.open_reader(sop_db)
    try:
        assert ingest.list_sources(con) == ["navision", "sap"]
        assert ingest.load_mappings(con, "sap") == {
            "customers": {"Kunde": "customer_id", "Name1": "name", "Gebiet": "region", "Segment": "segment",
                          "Notiz": None},
            "products": {"Artikel": "sku"}}
    finally:
        con.close()
    with pytest.raises(ValueError):
        ingest.save_mapping(sop_db, "sap", "products", {"x": "not_a_column"})
    customers = "Kunde,Name1,Gebiet,Segment,Notiz\nC1,Nordic,North,Retail,hi\nC2,South AB,South,Wholesale,\n"
    products = PRODUCTS.replace("sku,", "Artikel,", 1)
    folder = write_folder(tmp_path / "in", customers_csv=customers, products_csv=products)
    report = ingest.import_folder(sop_db, folder, source="sap")
    assert report.ok, report.as_text()
    assert query(sop_db, "SELECT customer_id, name FROM customers ORDER BY 1") == [("C1", "Nordic"), ("C2", "South AB")]
    assert query(sop_db, "SELECT source FROM import_log ORDER BY import_id DESC LIMIT 1") == [("sap",)]
    # without the saved mapping the unknown columns are problems
    report = ingest.import_folder(sop_db, folder)
    find(report, "customers.csv", None, "Notiz", "unknown column 'Notiz'")


def test_explicit_mappings_argument(tmp_path):
    products = PRODUCTS.replace("sku,name", "Code,Bezeichnung", 1)
    folder = write_folder(tmp_path / "in", products_csv=products)
    report = ingest.import_folder(tmp_path / "x.duckdb", folder,
                                  mappings={"products": {"Code": "sku", "Bezeichnung": "name"}})
    assert report.ok, report.as_text()


# --------------------------------------------------------------------------- file formats


def test_semicolon_csv_with_bom_and_european_dates(tmp_path):
    orders = ("order_id;line_no;customer_id;sku;order_date;requested_date;promised_date;quantity;unit_price\r\n"
              "SO1;1;C1;A1;05.01.2026;20.01.2026;22.01.2026;10;140,50\r\n"
              "SO1;2;C1;B2;5.1.2026;20.01.2026;;2,5;40\r\n"
              "SO2;1;C2;Lampe é;10.01.2026;;25.01.2026;20;\r\n")
    products = PRODUCTS + "Lampe é,Lampe,Lights,5,15,WC-PAINT,0.1\n"
    folder = write_folder(tmp_path / "in", products_csv=products, deliveries_csv=None)
    (folder / "orders.csv").write_bytes("\ufeff".encode() + orders.encode("utf-8"))
    df = ingest.read_table_file(folder / "orders.csv")
    assert list(df.columns)[0] == "order_id" and df.attrs["delimiter"] == ";"
    assert list(df.index) == [2, 3, 4]
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert query(path, "SELECT order_id, line_no, sku, order_date, promised_date, quantity, unit_price FROM orders "
                       "ORDER BY 1, 2") == [
        ("SO1", 1, "A1", date(2026, 1, 5), date(2026, 1, 22), 10.0, 140.5),
        ("SO1", 2, "B2", date(2026, 1, 5), None, 2.5, 40.0),
        ("SO2", 1, "Lampe é", date(2026, 1, 10), date(2026, 1, 25), 20.0, None)]


def test_cp1252_csv_and_tab_delimiter(tmp_path):
    customers = "customer_id\tname\tregion\tsegment\nC1\tCafé Ørsted – “Nord”\tNorth\tRetail\nC2\tS\tSouth\tRetail\n"
    folder = write_folder(tmp_path / "in")
    (folder / "customers.csv").write_bytes(customers.encode("cp1252"))
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert query(path, "SELECT name FROM customers WHERE customer_id = 'C1'") == [("Café Ørsted – “Nord”",)]
    assert any("read as Windows-1252" in n for n in report.notes)


def test_slash_dates_resolved_per_column(tmp_path):
    orders = ORDERS.replace("2026-01-05,2026-01-20,2026-01-22,10", "05/01/2026,01/20/2026,2026-01-22,10").replace(
        "2026-01-10,,2026-01-25", "13/01/2026,,2026-01-25")
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, write_folder(tmp_path / "in", orders_csv=orders))
    assert report.ok, report.as_text()
    assert query(path, "SELECT order_date, requested_date FROM orders WHERE order_id = 'SO1' AND line_no = 1") == [
        (date(2026, 1, 5), date(2026, 1, 20))]
    assert any("order_date: slash dates read as DD/MM/YYYY" in n for n in report.notes)
    assert any("requested_date: slash dates read as MM/DD/YYYY" in n for n in report.notes)


def test_xlsx_reading_and_import(tmp_path):
    folder = write_folder(tmp_path / "in", orders_csv=None)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Order No", "Line", "Customer", "Material", "Order Date", "Requested Date", "Promised Date", "Qty",
               "Unit Price"])
    ws.append(["SO1", 1, "C1", "A1", datetime(2026, 1, 5), datetime(2026, 1, 20), date(2026, 1, 22), 10, 140.0])
    ws.append(["SO1", 2, "C1", "B2", datetime(2026, 1, 5, 14, 30), "2026-01-20", None, 5.0, 39.9])
    ws.append([None] * 9)  # an empty row: skipped, but the numbering keeps the sheet rows
    ws.append(["SO2", 1, "C2", "C3", datetime(2026, 1, 10), None, datetime(2026, 1, 25), 20, None])
    ws.append(["SO3", 1, "C2", "A1", datetime(2026, 2, 1), datetime(2026, 2, 15), None, 4, 150])
    wb.save(folder / "Orders.xlsx")
    df = ingest.read_table_file(folder / "Orders.xlsx")
    assert list(df.index) == [2, 3, 5, 6]
    assert df.loc[2, "Order Date"] == "2026-01-05" and df.loc[3, "Order Date"] == "2026-01-05 14:30:00"
    assert df.loc[3, "Qty"] == "5" and df.loc[3, "Unit Price"] == "39.9" and pd.isna(df.loc[3, "Promised Date"])
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert counts(path)["orders"] == 4
    assert query(path, "SELECT order_date, quantity, unit_price FROM orders WHERE line_no = 2") == [
        (date(2026, 1, 5), 5.0, 39.9)]
    # a problem in the sheet names the sheet row
    ws.cell(row=6, column=8, value=-4)
    wb.save(folder / "Orders.xlsx")
    report = ingest.import_folder(path, folder)
    find(report, "Orders.xlsx", 6, "quantity", "negative quantity -4")


def test_parquet_reading_and_import(tmp_path):
    folder = write_folder(tmp_path / "in", deliveries_csv=None)
    pq.write_table(pa.table({
        "delivery_id": ["D1", "D2"], "order_id": ["SO1", "SO1"], "line_no": pa.array([1, 2], pa.int64()),
        "ship_date": pa.array([date(2026, 1, 19), None], pa.date32()),
        "delivered_date": pa.array([datetime(2026, 1, 21), datetime(2026, 1, 22, 8)], pa.timestamp("us")),
        "quantity": pa.array([10.0, 2.5]), "error_code": pa.array([None, "damaged"], pa.dictionary(pa.int8(), pa.string())),
    }), folder / "deliveries.parquet")
    df = ingest.read_table_file(folder / "deliveries.parquet")
    assert df.loc[2, "quantity"] == "10" and df.loc[3, "quantity"] == "2.5"
    assert df.loc[2, "delivered_date"] == "2026-01-21 00:00:00.000000" and pd.isna(df.loc[3, "ship_date"])
    path = tmp_path / "x.duckdb"
    report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    assert query(path, "SELECT delivery_id, ship_date, delivered_date, quantity, error_code FROM deliveries ORDER BY 1") == [
        ("D1", date(2026, 1, 19), date(2026, 1, 21), 10.0, None), ("D2", None, date(2026, 1, 22), 2.5, "damaged")]


def test_folder_problems(tmp_path):
    report = ingest.import_folder(tmp_path / "x.duckdb", tmp_path / "nope")
    find(report, str(tmp_path / "nope"), None, None, "folder not found")
    folder = write_folder(tmp_path / "in")
    (folder / "products.xlsx").write_bytes(b"not a zip")
    (folder / "readme.txt").write_text("hello")
    report = ingest.import_folder(tmp_path / "x.duckdb", folder)
    find(report, "products", None, None, "several files for table products")
    (folder / "products.csv").unlink()
    report = ingest.import_folder(tmp_path / "x.duckdb", folder)
    find(report, "products.xlsx", None, None, "not a readable Excel .xlsx file")
    assert not any("missing file: products" in p.problem for p in report.problems)
    assert any("readme.txt" in n for n in report.notes)


def test_validate_api_with_user_frames():
    frames = {
        "products": pd.DataFrame({"sku": ["A1"], "name": ["Desk"], "family": ["D"], "unit_cost": [1.5],
                                  "unit_price": [2], "work_center": ["W"], "hours_per_unit": [0.1]}),
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["N"], "region": ["R"], "segment": ["S"]}),
        "orders": pd.DataFrame({"order_id": ["SO1", "SO2"], "customer_id": ["C1", "C1"], "sku": ["A1", "A1"],
                                "order_date": pd.to_datetime(["2026-01-05", "2026-01-06"]),
                                "requested_date": [None, "2026-01-20"], "quantity": [1, -2]}),
    }
    val = ingest.validate(frames, {}, "replace")
    assert val.problem_count == 1
    assert val.problems == [ingest.Problem("orders", 3, "quantity", "negative quantity -2")]
    assert list(val.clean["orders"].columns) == list(ingest.CONTRACT["orders"].column_names)
    assert val.clean["orders"]["order_date"].tolist() == [date(2026, 1, 5), date(2026, 1, 6)]
    with pytest.raises(ValueError):
        ingest.validate(frames, {}, "merge")


# --------------------------------------------------------------------------- kill -9 during an import


def _stderr_reader(proc: subprocess.Popen, buf: list[bytes]) -> threading.Thread:
    def run():
        while True:
            chunk = proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(1)
            if not chunk:
                return
            buf.append(chunk)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _state(path: Path) -> tuple[int, int, int]:
    """(data_version, orders, deliveries) of a database that must open cleanly."""
    con = db.open_reader(path)
    try:
        return (db.data_version(con), con.execute("SELECT count(*) FROM orders").fetchone()[0],
                con.execute("SELECT count(*) FROM deliveries").fetchone()[0])
    finally:
        con.close()


def test_killed_import_leaves_old_or_new_database(tmp_path):
    n_lines = 300_000
    big = write_big_folder(tmp_path / "big", n_lines)
    n_deliveries = sum(1 for _ in open(big / "deliveries.csv")) - 1
    path = tmp_path / "sop.duckdb"
    assert ingest.import_folder(path, write_folder(tmp_path / "small")).ok
    old = (_state(path), file_hash(path))
    assert old[0] == (1, 4, 3)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "analytics", "import", "--db", str(path), str(big)]
    outcomes = []
    # kill after fixed delays, and when the writer is in the middle of its work
    moments = [0.3, 1.0, 2.0, "writing orders", "rebuilding fact tables", "saving"]
    for moment in moments:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        buf: list[bytes] = []
        reader = _stderr_reader(proc, buf)
        start = time.monotonic()
        if isinstance(moment, float):
            time.sleep(moment)
        else:
            while proc.poll() is None and moment.encode() not in b"".join(buf) and time.monotonic() - start < 30:
                time.sleep(0.005)
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=5)
        state = _state(path)  # opens: never a broken file
        if file_hash(path) == old[1]:
            outcomes.append((moment, "old", finished))
        else:
            assert state == (old[0][0] + 1, n_lines, n_deliveries), f"partial import after kill at {moment}: {state}"
            outcomes.append((moment, "new", finished))
            old = (state, file_hash(path))
    print("kill outcomes:", outcomes)
    assert any(o[1] == "old" for o in outcomes), outcomes
    # leftovers of killed writers do not break the next import
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    final = _state(path)
    assert final == (old[0][0] + 1, n_lines, n_deliveries)
    audit_con = db.open_reader(path)
    try:
        log = ingest.import_history(audit_con)
    finally:
        audit_con.close()
    assert log["import_id"].tolist() == list(range(len(log), 0, -1))  # no gaps, no half-logged import
    assert json.loads(json.dumps(log.loc[0, "tables"]))["orders"] == n_lines


def test_replace_without_forecasts_file_keeps_forecast_history(tmp_path):
    """A monthly ERP refresh (replace, no forecasts file) must not erase the forecasts the app made."""
    from analytics import db, ingest

    path = tmp_path / "sop.duckdb"
    folder = write_folder(tmp_path / "m1")
    (folder / "forecasts.csv").write_text(
        "snapshot_date,sku,period,source,quantity\n2026-01-31,A1,2026-02-01,consensus,12\n"
        "2026-01-31,C3,2026-02-01,consensus,7\n", encoding="utf-8")
    assert ingest.import_folder(path, folder, mode="replace").ok
    # Next month's export: no forecasts file, and C3 was discontinued (no longer in products).
    nxt = write_folder(tmp_path / "m2")
    (nxt / "products.csv").write_text("\n".join(PRODUCTS.splitlines()[:3]) + "\n", encoding="utf-8")
    (nxt / "orders.csv").write_text("\n".join(ORDERS.splitlines()[:3]) + "\n", encoding="utf-8")
    (nxt / "deliveries.csv").write_text("\n".join(DELIVERIES.splitlines()[:3]) + "\n", encoding="utf-8")
    report = ingest.import_folder(path, nxt, mode="replace")
    assert report.ok, report.as_text()
    con = db.open_reader(path)
    assert con.execute("SELECT sku, quantity FROM forecasts").fetchall() == [("A1", 12.0)]
    assert any("kept the 1 stored forecast rows" in n and "dropped 1" in n for n in report.notes)
