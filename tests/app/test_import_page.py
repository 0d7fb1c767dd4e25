"""The import page (AppTest) as a new user: a flat export in the Superstore's shape imported with nothing but a
mapping file, built in the page's editor (a draft from the header, or the committed example), saved as a source
system before the import; presets suggested from a header; rejected imports reach the import history."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import access, db, ingest

ROOT = Path(__file__).resolve().parents[2]

# Superstore-shaped (21 columns, Windows-1252, ISO order dates, day-first ship dates, a product with two names)
HEADER = (
    "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,State,"
    "Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit"
)
LINES = [
    "1,CA-1,2017-11-08,11/11/2017,Second Class,CG-1,Claire Gute,Consumer,United States,Henderson,Kentucky,42420,"
    "South,FUR-1,Furniture,Chairs,Caf\xe9 chair,261.96,2,0,41.91",
    "2,CA-1,2017-11-08,11/11/2017,Second Class,CG-1,Claire Gute,Consumer,United States,Henderson,Kentucky,42420,"
    "South,OFF-1,Office Supplies,Labels,Labels,14.62,2,0,6.87",
    "3,CA-2,2017-11-20,25/11/2017,Standard Class,DV-1,Darrin Van,Corporate,United States,Los Angeles,California,"
    "90036,West,FUR-1,Furniture,Chairs,Cafe chair v2,100,1,0,20",
    "4,CA-3,2017-12-01,13/12/2017,Standard Class,CG-1,Claire Gute,Consumer,United States,Seattle,Washington,98103,"
    "West,FUR-1,Furniture,Chairs,Caf\xe9 chair,300,3,0,30",
]


@pytest.fixture()
def page_env(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "superstore_orders.csv").write_bytes(
        ("\r\n".join([HEADER, *LINES]) + "\r\n,,,,,,,,,,,,,,,,,,,,\r\n").encode("cp1252")
    )
    path = tmp_path / "sop.duckdb"
    monkeypatch.setenv("SOP_DB", str(path))
    monkeypatch.setenv("SOP_IMPORT_DIR", str(inbox))
    return path, inbox


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/import_data.py"), default_timeout=60)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = access.LOCAL
    at.run()
    assert not at.exception, at.exception
    at.toggle(key="im_use_inbox").set_value(True).run()
    assert not at.exception, at.exception
    return at


def rows(path: Path, sql: str) -> list[tuple]:
    con = db.open_reader(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_superstore_with_the_committed_mapping_saved_before_the_import(page_env):
    path, _ = page_env
    at = page()
    # the editor starts from a draft built from the header: orders, products and customers from one file
    draft = at.text_area(key="im_toml").value
    assert "[orders]" in draft and "[products]" in draft and "[customers]" in draft
    assert 'unit_price = \'= "Sales" / "Quantity"\'' in draft
    example = (ROOT / "mappings" / "examples" / "superstore.toml").read_text(encoding="utf-8")
    at.text_area(key="im_toml").input(example).run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="im_save").click().run()
    assert not at.exception, at.exception
    con = db.open_reader(path)
    try:  # saved as a source system before anything was imported
        assert ingest.list_sources(con) == ["Superstore export"]
        assert rows(path, "SELECT count(*) FROM orders") == [(0,)]
    finally:
        con.close()
    at.button(key="im_import").click().run()
    assert not at.exception, at.exception
    assert any("Imported in" in s.value for s in at.success), [e.value for e in at.error]
    info = " ".join(i.value for i in at.info)
    assert "Row ID" in info and "Profit" in info  # the source columns no entry uses, listed on the page
    assert "products: keys whose rows disagreed" in info and "name 1" in info
    # FUR-1: "Café chair" twice, "Cafe chair v2" once -> the most frequent; unit_price = Sales / Quantity
    assert rows(path, "SELECT sku, name, family FROM products ORDER BY 1") == [
        ("FUR-1", "Café chair", "Chairs"),
        ("OFF-1", "Labels", "Labels"),
    ]
    assert rows(path, "SELECT order_id, line_no, region, unit_price FROM orders ORDER BY 1, 2") == [
        ("CA-1", 1, "South", 130.98),
        ("CA-1", 2, "South", 7.31),
        ("CA-2", 1, "West", 100.0),
        ("CA-3", 1, "West", 100.0),
    ]
    assert rows(path, "SELECT count(*), min(delivered_date) FROM deliveries")[0][0] == 4


def test_the_draft_alone_imports(page_env):
    path, _ = page_env
    at = page()
    at.button(key="im_import").click().run()
    assert not at.exception, at.exception
    assert any("Imported in" in s.value for s in at.success), [e.value for e in at.error]
    assert rows(path, "SELECT count(*) FROM orders") == [(4,)]
    assert rows(path, "SELECT count(*) FROM customers") == [(2,)]


def test_preset_suggested_from_a_header_and_a_rejected_import_in_the_history(page_env):
    path, inbox = page_env
    (inbox / "superstore_orders.csv").unlink()
    (inbox / "VBAK.csv").write_text("VBELN,AUDAT,KUNNR,VDATU\n4711,20240115,K1,20240201\n", encoding="utf-8")
    (inbox / "VBAP.csv").write_text("VBELN,POSNR,MATNR,KWMENG,NETWR\n4711,10,M1,four,10\n", encoding="utf-8")
    at = page()
    [preset] = [b for b in at.button if b.key and b.key.startswith("im_preset_")]
    assert "SAP" in preset.label
    preset.click().run()
    assert "FROM VBAP p JOIN VBAK k" in at.text_area(key="im_toml").value.replace('"', "")
    # a first import (so there is a database), then a rejected one: KWMENG 'four' is not a number
    (inbox / "VBAP.csv").write_text("VBELN,POSNR,MATNR,KWMENG,NETWR\n4711,10,M1,4,10\n", encoding="utf-8")
    at.button(key="im_import").click().run()
    assert any("Imported in" in s.value for s in at.success), [e.value for e in at.error]
    (inbox / "VBAP.csv").write_text("VBELN,POSNR,MATNR,KWMENG,NETWR\n4711,10,M1,four,10\n", encoding="utf-8")
    at = page()
    next(b for b in at.button if b.key and b.key.startswith("im_preset_")).click().run()
    at.button(key="im_import").click().run()
    assert not at.exception, at.exception
    assert any("The database was not changed" in e.value for e in at.error)
    problems = at.dataframe[-1].value
    assert problems["Problem"].tolist() == ["not a number: 'four'"] and problems["File"].tolist() == [
        "mapping [orders] sql"
    ]
    audit = AppTest.from_file(str(ROOT / "pages/data_audit.py"), default_timeout=60)
    audit.session_state["_entry_point_ran"] = True
    audit.session_state["_sop_user"] = access.LOCAL
    audit.run()
    assert not audit.exception, audit.exception
    assert any("rejected" in e.label for e in audit.expander), [e.label for e in audit.expander]
