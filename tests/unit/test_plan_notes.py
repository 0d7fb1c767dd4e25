"""The supply plan's notes read like a report: counts with thousands separators (audit: '1717 open order lines')."""

from __future__ import annotations

from datetime import date

from analytics import access, db
from analytics.planning import plan_inputs

AS_OF = date(2026, 3, 24)  # the tiny company's last event


def _notes_after(tiny_db, insert: str, rows: list[tuple]) -> list[str]:
    """The 3-month plan's notes once ``rows`` are added to the tiny company with ``insert``."""
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        con.executemany(insert, rows)
    con = db.open_reader(tiny_db)
    try:
        return plan_inputs(con, AS_OF, horizon=3).notes
    finally:
        con.close()


def test_stale_backlog_note_separates_thousands(tiny_db):
    # 1,200 open lines of 1 unit each, promised in June 2025: before the stale cut-off (plan starts April 2026,
    # 6 months back = October 2025), so left out and counted in the note: 1,200 lines, 1,200 units.
    rows = [
        (f"S{i}", 1, "C1", "A", date(2025, 6, 1), date(2025, 6, 10), date(2025, 6, 10), 1, 20.0) for i in range(1200)
    ]
    notes = _notes_after(
        tiny_db,
        "INSERT INTO orders (order_id, line_no, customer_id, sku, order_date, requested_date, "
        "promised_date, quantity, unit_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    assert "1,200 open order lines (1,200 units) due before 2025-10-01 (stale, left out)." in notes


def test_sku_counts_in_notes_separate_thousands(tiny_db):
    # Superstore read '1862 SKUs have no unit cost', '33516 sku-months'. 1,200 SKUs with no cost, price, work
    # center or stock (the tiny company's 3 have all four): each note counts 1,200 (the 1,200 x 3 plan months
    # = 3,600 sku-months have no forecast either).
    rows = [(f"N{i}", f"New {i}", "F9", None, None, None, None) for i in range(1200)]
    notes = " | ".join(
        _notes_after(
            tiny_db,
            "INSERT INTO products (sku, name, family, unit_cost, unit_price, work_center, hours_per_unit) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    )
    for text in (
        "1,200 SKUs have no unit cost",
        "1,200 SKUs have no list price",
        "1,200 SKUs have no work center",
        "1,200 SKUs have no inventory snapshot",
        "sku-months have no consensus or statistical forecast",
    ):
        assert text in notes, (text, notes)
    assert not __import__("re").search(r"\b\d{4,}\b(?! units)", notes.replace("2026-", "")), notes
