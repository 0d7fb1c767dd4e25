"""The fixture company (tests/conftest.py TINY_ROWS) written as an import folder, whole or with parts left out.

Each variant is what a real site may bring: a contract table left out, an optional column left out, a
column supplied with empty cells. tests/unit/test_partial_data.py runs every command and
tests/app/test_partial_pages.py every page on each variant (built once per test module).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from analytics import access, ingest
from analytics.schema import CONTRACT
from tests.conftest import TINY_ROWS

# The budget the summit compares against (not in TINY_ROWS, which the KPI tests work from).
BUDGET = [
    ("2026-03-01", "F1", 30, 500.0),
    ("2026-03-01", "F2", 10, 50.0),
    ("2026-04-01", "F1", 30, 500.0),
    ("2026-04-01", "F2", 10, 50.0),
]


@dataclass(frozen=True)
class Variant:
    name: str
    drop_tables: tuple[str, ...] = ()
    drop_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the column is not in the file
    blank_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # in the file, every cell empty
    ship_date_on_orders: bool = False  # no deliveries file: orders.csv has a ship_date (deliveries derived)


VARIANTS = {
    v.name: v
    for v in [
        Variant("full"),
        Variant("no_deliveries", drop_tables=("deliveries",)),
        Variant("no_forecasts", drop_tables=("forecasts",)),
        Variant("no_inventory", drop_tables=("inventory",)),
        Variant("no_production", drop_tables=("production",)),
        Variant("no_capacity", drop_tables=("capacity",)),
        Variant("no_surveys", drop_tables=("surveys",)),
        Variant("no_budget", drop_tables=("budget",)),
        Variant("no_error_code", drop_columns={"deliveries": ("error_code",)}),
        Variant("blank_error_code", blank_columns={"deliveries": ("error_code",)}),
        Variant("no_promised_date", drop_columns={"orders": ("promised_date",)}),
        Variant("blank_requested_date", blank_columns={"orders": ("requested_date",)}),
        Variant("deliveries_from_ship_date", drop_tables=("deliveries",), ship_date_on_orders=True),
        Variant("no_unit_cost", drop_columns={"products": ("unit_cost",)}),
        Variant("no_work_center_hours", drop_columns={"products": ("work_center", "hours_per_unit")}),
        Variant("no_unit_price", drop_columns={"products": ("unit_price",), "orders": ("unit_price",)}),
        Variant("no_requested_date", drop_columns={"orders": ("requested_date",)}),
        # no products or customers file: both derived from the orders' keys (name = key, family, region and
        # segment 'unassigned', no costs, prices, work centers or hours)
        Variant("derived_masters", drop_tables=("products", "customers", "budget")),
        Variant(
            "orders_only",
            drop_tables=("deliveries", "forecasts", "inventory", "production", "capacity", "surveys", "budget"),
        ),
    ]
}


def rows(table: str) -> list[tuple]:
    return BUDGET if table == "budget" else TINY_ROWS.get(table, [])


def write_company_folder(folder: Path, variant: Variant) -> Path:
    """Write the fixture company's contract files (minus what ``variant`` leaves out) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, table in CONTRACT.items():
        if t in variant.drop_tables or not rows(t):
            continue
        data = rows(t)
        names = list(table.column_names)[: len(data[0])]  # later optional columns (orders.region) are not in it
        if t == "orders" and variant.ship_date_on_orders:
            # the last ship date of each line's deliveries (O1/2: 03-13); lines never shipped stay empty
            shipped: dict[tuple, str] = {}
            for _, order, line, ship, *_ in TINY_ROWS["deliveries"]:
                shipped[(order, line)] = max(ship, shipped.get((order, line), ship))
            names = [*names, "ship_date"]
            data = [(*r, shipped.get((r[0], r[1]))) for r in data]
        keep = [i for i, c in enumerate(names) if c not in variant.drop_columns.get(t, ())]
        blank = {names.index(c) for c in variant.blank_columns.get(t, ())}
        with open(folder / f"{t}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([names[i] for i in keep])
            for r in data:
                w.writerow(["" if (r[i] is None or i in blank) else r[i] for i in keep])
    return folder


def import_variant(base: Path, variant: Variant) -> Path:
    """Import the variant's folder into ``base/<name>.duckdb`` as the command line would; the database path."""
    folder = write_company_folder(base / variant.name, variant)
    path = base / f"{variant.name}.duckdb"
    with access.default_user(access.SYSTEM):
        report = ingest.import_folder(path, folder)
    assert report.ok, report.as_text()
    return path
