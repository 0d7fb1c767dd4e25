"""Issue 11's import items: a rejected import is in the import history (the database file unchanged), and an
upsert's audit row reads as the stored rows before and after, with the rows imported beside them."""

from __future__ import annotations

import json

from ingest_fixtures import ORDERS, file_hash, write_folder

from analytics import access, db, ingest


def test_rejected_import_is_in_the_history_and_the_database_is_unchanged(tmp_path):
    path = tmp_path / "sop.duckdb"
    assert ingest.import_folder(path, write_folder(tmp_path / "ok")).ok
    before = file_hash(path)
    bad = write_folder(
        tmp_path / "bad", orders_csv=ORDERS.replace("SO3,1,C2,A1,", "SO3,1,C2,ZZ9,"), products_csv="sku\nA1\nB2\nC3\n"
    )
    report = ingest.import_folder(path, bad, mode="upsert", source="erp")
    assert not report.ok
    assert file_hash(path) == before  # the attempt is logged beside the database, never in it
    con = db.open_reader(path)
    try:
        hist = ingest.import_history(con, db_path=path)
        assert list(hist["status"]) == ["rejected", "imported"]
        rejected = hist.iloc[0]
        assert rejected["mode"] == "upsert" and rejected["source"] == "erp" and rejected["problem_count"] == 1
        assert rejected["problems"] == [
            "orders.csv row 5, column sku: unknown sku 'ZZ9' (not in products: neither in the file nor in the database)"
        ]
        assert ingest.data_audit(con, path)["imports"]["status"].tolist() == ["rejected", "imported"]
        assert list(ingest.import_history(con)["status"]) == ["imported"]  # without the path: the database only
    finally:
        con.close()


def test_upsert_audit_row_counts_stored_rows_before_and_after(tmp_path):
    path = tmp_path / "sop.duckdb"
    assert ingest.import_folder(path, write_folder(tmp_path / "ok")).ok  # 4 order lines stored
    one_more = "order_id,line_no,customer_id,sku,order_date,quantity\nSO9,1,C1,A1,2026-02-02,3\n"
    up = tmp_path / "up"
    up.mkdir()
    (up / "orders.csv").write_text(one_more, encoding="utf-8")
    assert ingest.import_folder(path, up, mode="upsert").ok
    con = db.open_reader(path)
    try:
        row = access.audit_frame(con).iloc[0]
    finally:
        con.close()
    assert row["target"] == "upsert import"
    # 4 stored + 1 new line = 5; no product or customer was new, so none was derived
    assert json.loads(row["before_json"]) == {"orders": 4}
    assert json.loads(row["after_json"]) == {"orders": 5}
    assert json.loads(row["details_json"])["rows_imported"] == {"orders": 1}
