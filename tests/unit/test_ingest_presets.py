"""Issue 12, item 6: preset mapping files for SAP (VBAK/VBAP/MARA/KNA1), Odoo sale order lines and Dynamics 365
sales order lines, each imported from a small made-up file of that shape, and suggested from a file's header."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from analytics import db, ingest
from analytics.ingest import presets


def rows(path: Path, sql: str) -> list[tuple]:
    con = db.open_reader(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run(tmp_path: Path, files: dict[str, str], preset_file: str):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    headers = {name: text.splitlines()[0].split(",") for name, text in files.items()}
    [(preset, assignment)] = [s for s in presets.suggest_presets(headers) if s[0].file == preset_file]
    mapping = presets.apply_preset(preset.mapping(), assignment)
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, folder, mapping=mapping)
    assert report.ok, report.as_text()
    return path, report, assignment


SAP = {
    # raw-table dates (YYYYMMDD, 00000000 = none) and a GUI export's DD.MM.YYYY in the same column
    "vbak_2024.csv": "VBELN,AUDAT,KUNNR,VDATU,AUART\n0000004711,20240115,0000100001,20240201,TA\n"
    "0000004712,16.01.2024,0000100002,00000000,TA\n",
    "VBAP.csv": "VBELN,POSNR,MATNR,KWMENG,NETWR,WAERK\n0000004711,000010,MAT-1,4,100.00,EUR\n"
    "0000004711,000020,MAT-2,2,30,EUR\n0000004712,000010,MAT-1,1,25,EUR\n",
    "MARA.csv": "MATNR,MATKL,MTART\nMAT-1,CHAIRS,FERT\nMAT-2,DESKS,FERT\n",
    "KNA1.csv": "KUNNR,NAME1,LAND1,KTOKD,ORT01\n0000100001,Nordic AB,SE,KUNA,Malmo\n0000100002,Berlin GmbH,DE,KUNA,Berlin\n",
}


def test_sap_preset(tmp_path):
    path, report, assignment = run(tmp_path, SAP, "sap_sales.toml")
    assert assignment == {
        "VBAK.csv": "vbak_2024.csv",
        "VBAP.csv": "VBAP.csv",
        "MARA.csv": "MARA.csv",
        "KNA1.csv": "KNA1.csv",
    }
    # unit_price = NETWR / KWMENG: 100/4 = 25, 30/2 = 15, 25/1 = 25; leading zeros kept (keys are text)
    assert rows(
        path,
        "SELECT order_id, line_no, customer_id, sku, order_date, requested_date, quantity, unit_price "
        "FROM orders ORDER BY 1, 2",
    ) == [
        ("0000004711", 10, "0000100001", "MAT-1", date(2024, 1, 15), date(2024, 2, 1), 4.0, 25.0),
        ("0000004711", 20, "0000100001", "MAT-2", date(2024, 1, 15), date(2024, 2, 1), 2.0, 15.0),
        ("0000004712", 10, "0000100002", "MAT-1", date(2024, 1, 16), None, 1.0, 25.0),
    ]
    assert rows(path, "SELECT sku, family FROM products ORDER BY 1") == [("MAT-1", "CHAIRS"), ("MAT-2", "DESKS")]
    assert rows(path, "SELECT * FROM customers ORDER BY 1") == [
        ("0000100001", "Nordic AB", "SE", "KUNA"),
        ("0000100002", "Berlin GmbH", "DE", "KUNA"),
    ]
    assert report.unmapped == {
        "vbak_2024.csv": ["AUART"],
        "VBAP.csv": ["WAERK"],
        "MARA.csv": ["MTART"],
        "KNA1.csv": ["ORT01"],
    }


ODOO = {
    "sale.order.line.csv": (
        "Order Reference,Order Reference/Order Date,Customer,Product,Product/Product Category,Quantity,Unit Price,"
        "Delivered Quantity\n"
        "S00012,2024-03-01 10:15:00,Azure Interior,[FURN_0096] Customizable Desk,All / Saleable / Office,2.00,750.00,2\n"
        "S00012,2024-03-01 10:15:00,Azure Interior,[E-COM11] Cabinet with Doors,All / Saleable,1.00,140.00,0\n"
        "S00013,2024-03-02 09:00:00,Deco Addict,[FURN_0096] Customizable Desk,All / Saleable / Office,5.00,750.00,5\n"
    ),
}


def test_odoo_preset(tmp_path):
    path, report, _ = run(tmp_path, ODOO, "odoo_sale_order_line.toml")
    assert rows(
        path, "SELECT order_id, line_no, customer_id, sku, order_date, quantity, unit_price FROM orders ORDER BY 1, 2"
    ) == [
        ("S00012", 1, "Azure Interior", "[FURN_0096] Customizable Desk", date(2024, 3, 1), 2.0, 750.0),
        ("S00012", 2, "Azure Interior", "[E-COM11] Cabinet with Doors", date(2024, 3, 1), 1.0, 140.0),
        ("S00013", 1, "Deco Addict", "[FURN_0096] Customizable Desk", date(2024, 3, 2), 5.0, 750.0),
    ]
    assert rows(path, "SELECT sku, name, family FROM products ORDER BY 1") == [
        ("[E-COM11] Cabinet with Doors", "[E-COM11] Cabinet with Doors", "All / Saleable"),
        ("[FURN_0096] Customizable Desk", "[FURN_0096] Customizable Desk", "All / Saleable / Office"),
    ]
    assert rows(path, "SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("Azure Interior", "Azure Interior"),
        ("Deco Addict", "Deco Addict"),
    ]
    assert report.unmapped == {"sale.order.line.csv": ["Delivered Quantity"]}


D365 = {
    "SalesOrderLines.csv": (
        "SALESORDERNUMBER,LINENUMBER,ITEMNUMBER,ORDEREDSALESQUANTITY,SALESPRICE,LINEAMOUNT,REQUESTEDRECEIPTDATE,"
        "CONFIRMEDRECEIPTDATE\n"
        "SO-000101,1.0000,D0001,10,25.5,255,2024-05-10,1900-01-01\n"
        "SO-000101,2.0000,D0002,3,100,300,2024-05-12,2024-05-14\n"
        "SO-000102,1.0000,D0001,1,25.5,25.5,2024-05-20,2024-05-21\n"
    ),
    "SalesOrderHeaders.csv": (
        "SALESORDERNUMBER,ORDERINGCUSTOMERACCOUNTNUMBER,ORDERCREATIONDATETIME,CURRENCYCODE\n"
        "SO-000101,US-001,2024-05-01T08:30:00,USD\nSO-000102,US-002,2024-05-03T14:00:00,USD\n"
    ),
}


def test_dynamics365_preset(tmp_path):
    path, _, _ = run(tmp_path, D365, "dynamics365_sales_order_lines.toml")
    # 1900-01-01 is Dynamics' "no date": read as empty
    assert rows(
        path,
        "SELECT order_id, line_no, customer_id, sku, order_date, requested_date, promised_date, "
        "quantity, unit_price FROM orders ORDER BY 1, 2",
    ) == [
        ("SO-000101", 1, "US-001", "D0001", date(2024, 5, 1), date(2024, 5, 10), None, 10.0, 25.5),
        ("SO-000101", 2, "US-001", "D0002", date(2024, 5, 1), date(2024, 5, 12), date(2024, 5, 14), 3.0, 100.0),
        ("SO-000102", 1, "US-002", "D0001", date(2024, 5, 3), date(2024, 5, 20), date(2024, 5, 21), 1.0, 25.5),
    ]
    assert rows(path, "SELECT count(*) FROM products") == [(2,)] and rows(path, "SELECT count(*) FROM customers") == [
        (2,)
    ]


def test_no_preset_for_an_unrelated_header_and_each_preset_parses():
    assert presets.suggest_presets({"export.csv": ["Order ID", "Customer ID", "Product ID", "Quantity"]}) == []
    assert presets.suggest_presets({"VBAK.csv": ["VBELN", "AUDAT", "KUNNR", "VDATU"]}) == []  # no items file
    for p in presets.PRESETS:
        assert p.mapping().table("orders") is not None, p.file
