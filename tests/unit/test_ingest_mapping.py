"""Issue 12, item 1: mapping files. A flat order-line export feeds orders, products and customers; a header +
lines export is joined in SQL; expressions; one row per key with the disagreements counted; unused source
columns reported; the sandbox; mapping problems; saved source systems; the command line."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from analytics import db, ingest
from analytics.__main__ import main
from analytics.ingest import mapfile

ROOT = Path(__file__).resolve().parents[2]

# A flat export in the Superstore's shape. Hand-worked expectations:
# - P1's names: "Chair" (rows 2, 7) and "Chair v2" (rows 4, 5): a tie of 2 and 2 -> the first seen, "Chair";
#   P2: "Desk" twice -> agree. products: 1 key disagreed on name.
# - C1's names: "Ann" (rows 2, 3) and "Ann B" (rows 4, 7): tie -> "Ann"; C2: "Bob" and an empty cell -> "Bob"
#   (empty cells do not count), agree. customers: 1 key disagreed on name; segments agree.
# - unit_price = Sales / Quantity: 30/3 = 10, 100/1 = 100, 20/2 = 10, 10/1 = 10, 90/1 = 90, 10/1 = 10.
FLAT = """Row ID,Order ID,Order Date,Customer ID,Customer Name,Segment,Region,Product ID,Product Name,Sub-Category,Sales,Quantity
1,O1,2026-01-05,C1,Ann,Consumer,West,P1,Chair,Chairs,30,3
2,O1,2026-01-05,C1,Ann,Consumer,West,P2,Desk,Tables,100,1
3,O2,2026-01-06,C1,Ann B,Consumer,East,P1,Chair v2,Chairs,20,2
4,O3,2026-01-07,C2,Bob,Corporate,East,P1,Chair v2,Chairs,10,1
5,O3,2026-01-07,C2,,Corporate,East,P2,Desk,Tables,90,1
6,O4,2026-01-08,C1,Ann B,Consumer,West,P1,Chair,Chairs,10,1
"""

FLAT_MAPPING = """name = "shop export"
[orders]
from = "export.csv"
order_id = "Order ID"
customer_id = "Customer ID"
sku = "Product ID"
order_date = "Order Date"
quantity = "Quantity"
unit_price = '= "Sales" / "Quantity"'
region = "Region"
[products]
from = "export.csv"
sku = "Product ID"
name = "Product Name"
family = "Sub-Category"
[customers]
from = "export.csv"
customer_id = "Customer ID"
name = "Customer Name"
segment = "Segment"
"""


def rows(path: Path, sql: str) -> list[tuple]:
    con = db.open_reader(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_flat_export_feeds_three_tables(tmp_path):
    path = tmp_path / "sop.duckdb"
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    report = ingest.import_folder(path, folder, mapping=mapfile.parse_mapping(FLAT_MAPPING))
    assert report.ok, report.as_text()
    assert report.source == "shop export"
    assert report.rows == {"customers": 2, "products": 2, "orders": 6}
    assert rows(path, "SELECT sku, name, family FROM products ORDER BY 1") == [
        ("P1", "Chair", "Chairs"),
        ("P2", "Desk", "Tables"),
    ]
    assert rows(path, "SELECT * FROM customers ORDER BY 1") == [
        ("C1", "Ann", "unassigned", "Consumer"),
        ("C2", "Bob", "unassigned", "Corporate"),
    ]
    assert rows(path, "SELECT order_id, line_no, unit_price, region FROM orders ORDER BY 1, 2") == [
        ("O1", 1, 10.0, "West"),
        ("O1", 2, 100.0, "West"),
        ("O2", 1, 10.0, "East"),
        ("O3", 1, 10.0, "East"),
        ("O3", 2, 90.0, "East"),
        ("O4", 1, 10.0, "West"),
    ]
    assert report.unmapped == {"export.csv": ["Row ID"]}
    assert report.disagreements == {"customers": {"name": 1}, "products": {"name": 1}}
    text = report.as_text()
    assert "export.csv: Row ID" in text and "products: name 1" in text
    assert "orders.unit_price: the expression does arithmetic on text columns" in text


def test_header_and_lines_joined_in_sql_and_a_sheet_of_a_workbook(tmp_path):
    folder = folder_with(
        tmp_path,
        {
            "SO header.csv": "order_no,customer,date\nS1,K1,2026-02-01\nS2,K2,2026-02-03\n",
            "so-lines.csv": "order_no,pos,item,qty,price\nS1,10,M1,4,2.5\nS1,20,M2,1,8\nS2,10,M1,2,2.5\n",
        },
    )
    wb = openpyxl.Workbook()
    wb.active.title = "Info"
    wb.active.append(["nothing here"])
    ws = wb.create_sheet("Customer master")
    ws.append(["Kunde", "Name1", "Land"])
    ws.append(["K1", "Nordic AB", "SE"])
    ws.append(["K2", "Berlin GmbH", "DE"])
    wb.save(folder / "masters.xlsx")
    mapping = "\n".join(
        [
            'name = "erp"',
            "[orders]",
            "sql = '''SELECT h.order_no AS order_id, l.pos AS line_no, h.customer AS customer_id, l.item AS sku,",
            "                h.date AS order_date, l.qty AS quantity, l.price AS unit_price",
            "         FROM so_lines l JOIN SO_header h USING (order_no)'''",
            "[customers]",
            'from = "masters.xlsx:Customer master"',
            'customer_id = "Kunde"',
            'name = "Name1"',
            """region = "= CASE \\"Land\\" WHEN 'SE' THEN 'North' ELSE 'Central' END\"""",
        ]
    )
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, folder, mapping=mapfile.parse_mapping(mapping))
    assert report.ok, report.as_text()
    assert rows(path, "SELECT order_id, line_no, customer_id, sku, quantity, unit_price FROM orders ORDER BY 1, 2") == [
        ("S1", 10, "K1", "M1", 4.0, 2.5),
        ("S1", 20, "K1", "M2", 1.0, 8.0),
        ("S2", 10, "K2", "M1", 2.0, 2.5),
    ]
    assert rows(path, "SELECT customer_id, name, region FROM customers ORDER BY 1") == [
        ("K1", "Nordic AB", "North"),
        ("K2", "Berlin GmbH", "Central"),
    ]
    assert rows(path, "SELECT sku, name, family FROM products ORDER BY 1") == [
        ("M1", "M1", "unassigned"),
        ("M2", "M2", "unassigned"),
    ]
    assert "products: not in the mapping: derived from the orders' sku values" in report.notes


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT content AS customer_id FROM read_text('/etc/hostname')",
        "SELECT 1 AS customer_id; COPY (SELECT 1) TO '/tmp/x.csv'",
    ],
)
def test_sql_runs_sandboxed(tmp_path, sql):
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    mapping = FLAT_MAPPING.split("[customers]")[0] + "[customers]\nsql = '''" + sql + "'''\n"
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, folder, mapping=mapfile.parse_mapping(mapping))
    assert not report.ok and not path.exists()
    assert any(p.column == "[customers] sql" and "the query failed" in p.problem for p in report.problems)


def test_the_sandbox_cannot_turn_external_access_back_on():
    con = mapfile._sandbox()
    mapfile._lock(con)
    with pytest.raises(Exception, match="locked"):
        con.execute("SET enable_external_access = true")
    for sql in ("SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM sniff_csv('/etc/passwd')",
                "SELECT * FROM glob('/etc/*')", "SELECT * FROM read_blob('/etc/hostname')",
                "ATTACH '/tmp/never.duckdb' AS x", "LOAD httpfs"):
        with pytest.raises(Exception, match="disabled|Permission"):
            con.sql(sql).fetchall()
    con.close()


def test_mapping_problems_name_the_entry_and_change_nothing(tmp_path):
    path = tmp_path / "sop.duckdb"
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    bad = FLAT_MAPPING.replace('"Order Date"', '"Order Dat"').replace(
        'from = "export.csv"\nsku', 'from = "exprt.csv"\nsku', 1
    )
    report = ingest.import_folder(path, folder, mapping=mapfile.parse_mapping(bad))
    assert not report.ok and not path.exists()
    got = {(p.column, p.problem) for p in report.problems}
    assert ("[orders] order_date", "no column 'Order Dat' in export.csv; did you mean 'Order Date'?") in got
    assert ("[products] from", "no file 'exprt.csv' in the folder (export.csv); did you mean 'export.csv'?") in got
    with pytest.raises(mapfile.MappingError) as e:
        mapfile.parse_mapping('name = "x"\n[order]\nfrom = "a.csv"\n[orders]\nfrom = "a.csv"\nqty = "Q"\n')
    assert "[order] is not a contract table" in str(e.value) and "did you mean [orders]?" in str(e.value)
    assert "[orders] qty is not a column of orders" in str(e.value)
    with pytest.raises(mapfile.MappingError, match="either from"):
        mapfile.parse_mapping('[orders]\norder_id = "A"\n')
    report = ingest.import_folder(path, folder, mapping=folder / "missing.toml")
    assert not report.ok and "cannot read the mapping file" in report.as_text()


def test_failing_expression_is_reported_with_its_entry(tmp_path):
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    bad = FLAT_MAPPING.replace("""'= "Sales" / "Quantity"'""", """'= no_such_function("Sales")'""")
    report = ingest.import_folder(tmp_path / "sop.duckdb", folder, mapping=mapfile.parse_mapping(bad))
    assert not report.ok
    [p] = [p for p in report.problems if p.column == "[orders] unit_price"]
    assert p.problem.startswith("the expression failed:")


def test_validation_problems_name_the_source_file_and_row(tmp_path):
    folder = folder_with(
        tmp_path,
        {
            "export.csv": FLAT.replace(
                "O3,2026-01-07,C2,,Corporate,East,P2,Desk,Tables,90,1",
                "O3,2026-01-07,C2,,Corporate,East,P2,Desk,Tables,90,x",
            )
        },
    )
    report = ingest.import_folder(tmp_path / "sop.duckdb", folder, mapping=mapfile.parse_mapping(FLAT_MAPPING))
    assert not report.ok
    assert "export.csv row 6, column quantity: not a number: 'x'" in [str(p) for p in report.problems]


def test_toml_round_trip():
    m = mapfile.parse_mapping(FLAT_MAPPING)
    assert mapfile.parse_mapping(m.to_toml()) == m
    tricky = mapfile.MappingFile(
        'it\'s "x"',
        (
            mapfile.TableMapping("customers", sql="SELECT 'a' AS customer_id\n"),
            mapfile.TableMapping("orders", "b.xlsx:Sheet 1", (("order_id", "N°'\""),)),
        ),
    )
    assert mapfile.parse_mapping(tricky.to_toml()) == tricky
    assert mapfile.view_name("SO header 2024.csv") == "SO_header_2024"


def test_saved_source_system_is_the_toml(tmp_path):
    path = tmp_path / "sop.duckdb"
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    mapfile.save_mapping_file(path, FLAT_MAPPING)  # saved before any import
    con = db.open_reader(path)
    try:
        assert ingest.list_sources(con) == ["shop export"]
        assert mapfile.saved_mapping_text(con, "shop export") == FLAT_MAPPING
    finally:
        con.close()
    report = ingest.import_folder(path, folder, source="shop export")
    assert report.ok, report.as_text()
    assert report.rows["products"] == 2 and report.unmapped == {"export.csv": ["Row ID"]}


def test_command_line_with_a_mapping_file(tmp_path, capsys):
    folder = folder_with(tmp_path, {"export.csv": FLAT})
    (tmp_path / "m.toml").write_text(FLAT_MAPPING, encoding="utf-8")
    path = tmp_path / "sop.duckdb"
    assert main(["import", "--db", str(path), str(folder), "--mapping", str(tmp_path / "m.toml")]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "Source columns not used" in out and "export.csv: Row ID" in out
    assert rows(path, "SELECT count(*) FROM orders") == [(6,)]


def test_superstore_example_mapping_parses():
    m = mapfile.load_mapping(ROOT / "mappings" / "examples" / "superstore.toml")
    assert m.name == "Superstore export"
    assert [t.table for t in m.tables] == ["customers", "products", "orders"]


def _readme_toml_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]


def test_readme_flat_example_is_the_committed_superstore_mapping():
    flat = next(b for b in _readme_toml_blocks() if 'name = "Superstore export"' in b)
    assert mapfile.parse_mapping(flat) == mapfile.load_mapping(ROOT / "mappings" / "examples" / "superstore.toml")


def test_readme_header_lines_example_imports(tmp_path):
    sql_example = next(b for b in _readme_toml_blocks() if 'name = "ERP order book"' in b)
    folder = folder_with(
        tmp_path,
        {
            "SO_HEADER.csv": "order_no,sold_to,created\n4711,K1,2026-03-02\n4712,K2,2026-03-04\n",
            "SO_LINES.csv": "order_no,line,material,wish_date,qty,net_value\n4711,10,M1,2026-03-20,4,10\n"
            "4711,20,M2,,2,9\n4712,10,M1,2026-03-25,1,2.5\n",
            "regions.csv": "country,region\nSE,North\nDE,Central\n",
        },
    )
    wb = openpyxl.Workbook()
    wb.active.title = "Master"
    for r in (
        ["number", "name", "country", "channel"],
        ["K1", "Nordic AB", "SE", "Retail"],
        ["K2", "Berlin GmbH", "DE", "Wholesale"],
    ):
        wb.active.append(r)
    wb.save(folder / "customers.xlsx")
    path = tmp_path / "sop.duckdb"
    report = ingest.import_folder(path, folder, mapping=mapfile.parse_mapping(sql_example))
    assert report.ok, report.as_text()
    # unit_price = net_value / qty: 10/4 = 2.5, 9/2 = 4.5, 2.5/1 = 2.5
    assert rows(
        path, "SELECT order_id, line_no, sku, requested_date IS NULL, unit_price FROM orders ORDER BY 1, 2"
    ) == [("4711", 10, "M1", False, 2.5), ("4711", 20, "M2", True, 4.5), ("4712", 10, "M1", False, 2.5)]
    assert rows(path, "SELECT * FROM customers ORDER BY 1") == [
        ("K1", "Nordic AB", "North", "Retail"),
        ("K2", "Berlin GmbH", "Central", "Wholesale"),
    ]


SUPERSTORE_HEADER = (
    "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,State,"
    "Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit"
).split(",")


def test_customers_name_is_never_suggested_from_the_product_name():
    assert ingest.suggest_mapping("customers", SUPERSTORE_HEADER)["Customer Name"] == "name"
    assert "Product Name" not in ingest.suggest_mapping("customers", SUPERSTORE_HEADER)
    assert ingest.suggest_mapping("products", SUPERSTORE_HEADER)["Product Name"] == "name"
    assert "Customer Name" not in ingest.suggest_mapping("products", SUPERSTORE_HEADER)


def test_draft_mapping_of_a_flat_export_and_of_files_named_after_tables():
    m = mapfile.draft_mapping({"export.csv": SUPERSTORE_HEADER}, "shop")
    assert [t.table for t in m.tables] == ["customers", "products", "orders"]
    orders = dict(m.table("orders").columns)
    assert orders["order_id"] == "Order ID" and orders["sku"] == "Product ID" and orders["region"] == "Region"
    assert orders["unit_price"] == '= "Sales" / "Quantity"'  # a line amount priced per unit
    assert dict(m.table("customers").columns) == {
        "customer_id": "Customer ID",
        "name": "Customer Name",
        "region": "Region",
        "segment": "Segment",
    }
    m = mapfile.draft_mapping(
        {"Orders.csv": ["order_id", "customer_id", "sku", "order_date", "quantity"], "notes.csv": ["text"]}
    )
    assert [(t.table, t.source) for t in m.tables] == [("orders", "Orders.csv")]
