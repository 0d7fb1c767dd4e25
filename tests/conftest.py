"""Shared fixtures: a tiny hand-made company whose KPI values are worked out by hand in test_kpis.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import access, db
from analytics.schema import CONTRACT

# The tiny company (as of 2026-03-31). Every KPI test in tests/unit/test_kpis.py works from these rows.
TINY_ROWS = {
    "products": [
        ("A", "Alpha", "F1", 10.0, 20.0, "W1", 0.5),
        ("B", "Beta", "F1", 5.0, 8.0, "W1", 1.0),
        ("C", "Gamma", "F2", 2.0, 5.0, "W2", 0.25),
    ],
    "customers": [
        ("C1", "North Co", "North", "Retail"),
        ("C2", "South Co", "South", "Key Account"),
    ],
    # order_id, line_no, customer, sku, order_date, requested, promised, qty, unit_price
    "orders": [
        ("O1", 1, "C1", "A", "2026-03-01", "2026-03-10", "2026-03-10", 10, 20.0),  # on time, one delivery
        ("O1", 2, "C1", "B", "2026-03-01", "2026-03-10", "2026-03-12", 10, 8.0),   # partial: 6 by 03-11, 4 on 03-14
        ("O2", 1, "C2", "A", "2026-03-05", "2026-03-15", "2026-03-15", 5, 20.0),   # on time but damaged
        ("O2", 2, "C2", "C", "2026-03-05", "2026-03-20", "2026-03-25", 8, 5.0),    # on time to promise, late to request
        ("O3", 1, "C2", "C", "2026-02-20", "2026-03-28", "2026-03-30", 4, 5.0),    # never delivered
        ("O4", 1, "C1", "A", "2026-03-20", "2026-04-05", "2026-04-05", 3, 20.0),   # open backlog, promised in April
        ("O0", 1, "C1", "B", "2026-02-01", "2026-02-10", "2026-02-10", 2, 8.0),    # February
    ],
    # delivery_id, order_id, line_no, ship_date, delivered_date, qty, error_code
    "deliveries": [
        ("D1", "O1", 1, "2026-03-08", "2026-03-09", 10, None),
        ("D2", "O1", 2, "2026-03-10", "2026-03-11", 6, None),
        ("D3", "O1", 2, "2026-03-13", "2026-03-14", 4, None),
        ("D4", "O2", 1, "2026-03-14", "2026-03-15", 5, "damaged"),
        ("D5", "O2", 2, "2026-03-22", "2026-03-24", 8, ""),
        ("D6", "O0", 1, "2026-02-08", "2026-02-09", 2, None),
    ],
    # snapshot_date, sku, period, source, qty
    "forecasts": [
        ("2026-01-31", "A", "2026-03-01", "consensus", 15),
        ("2026-01-31", "B", "2026-03-01", "consensus", 10),
        ("2026-01-31", "C", "2026-03-01", "consensus", 8),
        ("2026-02-10", "A", "2026-03-01", "consensus", 100),  # superseded by the 02-25 snapshot
        ("2026-02-25", "A", "2026-03-01", "consensus", 20),
        ("2026-02-25", "B", "2026-03-01", "consensus", 6),
        ("2026-02-25", "A", "2026-03-01", "sales", 50),
        ("2026-02-25", "A", "2026-04-01", "consensus", 9),
    ],
    "inventory": [
        ("2026-02-15", "A", 99), ("2026-02-15", "B", 99), ("2026-02-15", "C", 99),
        ("2026-03-01", "A", 20), ("2026-03-01", "B", 10), ("2026-03-01", "C", 50),
        ("2026-03-15", "A", 10), ("2026-03-15", "B", 0), ("2026-03-15", "C", 40),
    ],
    # wo, sku, wc, planned_start, planned_end, actual_start, actual_end, planned, produced, scrap
    "production": [
        ("W1", "A", "W1", "2026-03-01", "2026-03-05", "2026-03-02", "2026-03-06", 100, 90, 2),
        ("W2", "B", "W1", "2026-03-10", "2026-03-20", "2026-03-10", "2026-03-22", 50, 50, 0),
        ("W3", "C", "W2", "2026-03-25", "2026-03-31", "2026-03-26", None, 40, None, None),
        ("W4", "C", "W2", "2026-02-20", "2026-02-28", "2026-02-20", "2026-03-02", 80, 80, 0),
    ],
    "capacity": [
        ("W1", "2026-02-01", 100), ("W1", "2026-03-01", 100),
        ("W2", "2026-02-01", 40), ("W2", "2026-03-01", 40),
    ],
    "surveys": [
        ("2026-03-02", "C1", 10), ("2026-03-03", "C1", 9), ("2026-03-04", "C2", 3),
        ("2026-03-05", "C2", 7), ("2026-03-06", "C1", 6), ("2026-03-07", "C2", 10),
        ("2026-02-07", "C2", 0),
    ],
}


@pytest.fixture(autouse=True, scope="session")
def _cli_user():
    """Write functions called by tests act as the command line's user (admin), as `python -m analytics` does.
    The app's pages never get this default: tests/unit/test_access.py checks each write path's refusal."""
    with access.default_user(access.SYSTEM):
        yield


def write_rows(path: Path, rows: dict[str, list[tuple]], fresh: bool = True) -> None:
    """Write contract rows through the real writer path, then rebuild the fact tables."""
    with access.acting_as(access.SYSTEM, "import"), db.writer(path, fresh=fresh) as con:
        for table, data in rows.items():
            if not data:
                continue
            marks = ", ".join(f"${i + 1}" for i in range(len(data[0])))
            if table in CONTRACT:  # contract rows fill its first columns; later optional ones stay empty
                cols = ", ".join(CONTRACT[table].column_names[: len(data[0])])
                con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data)  # constant fixture names
            else:
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", data)  # table: constant fixture name
        db.rebuild_facts(con)


@pytest.fixture()
def tiny_db(tmp_path) -> Path:
    path = tmp_path / "tiny.duckdb"
    write_rows(path, TINY_ROWS)
    return path


@pytest.fixture()
def tiny_con(tiny_db):
    con = db.open_reader(tiny_db)
    yield con
    con.close()


@pytest.fixture(scope="session")
def partial_variant_dbs(tmp_path_factory) -> dict[str, Path]:
    """The fixture company imported once per variant of tests/partial_data.py (shared by the command and page
    matrices; tests may add to them, e.g. a summit, but never remove data)."""
    from tests.partial_data import VARIANTS, import_variant

    base = tmp_path_factory.mktemp("partial")
    return {name: import_variant(base, v) for name, v in VARIANTS.items()}
