"""Workbench queries on small hand-made companies."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics import db, workbench
from tests.conftest import TINY_ROWS, write_rows


def test_history_keeps_the_months_without_orders(tmp_path):
    # SKU C is intermittent: 4 units ordered in November 2025, nothing in December or January, 8 in March 2026
    # (plus the tiny company's 4 in February). Its history runs from November to March with the empty months at 0:
    # Nov 4, Dec 0, Jan 0, Feb 4, Mar 8.
    rows = {k: list(v) for k, v in TINY_ROWS.items()}
    rows["orders"] = rows["orders"] + [("O9", 1, "C2", "C", "2025-11-12", "2025-11-30", "2025-11-30", 4, 5.0)]
    path = tmp_path / "gaps.duckdb"
    write_rows(path, rows)
    con = db.open_reader(path)
    try:
        h = workbench.history(con, "sku", "C", date(2026, 3, 1))
        fam = workbench.history(con, "family", "F2", date(2026, 3, 1))
        none = workbench.history(con, "sku", "NO-SUCH-SKU", date(2026, 3, 1))
    finally:
        con.close()
    months = [pd.Timestamp(m).date() for m in h["month"]]
    assert months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert h["actual"].tolist() == [4, 0, 0, 4, 8]
    assert fam["actual"].tolist() == [4, 0, 0, 4, 8]  # family F2 is only SKU C
    assert none.empty and list(none.columns) == ["month", "actual"]
