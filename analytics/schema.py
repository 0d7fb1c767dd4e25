"""The data contract: the tables a site imports, their columns, keys and types.

This module is the single source of truth for the contract. The README's
"Data contract" section, the importer's validation, the database schema and
the import page's mapping step are all generated from ``CONTRACT``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Logical column types. Each maps to a DuckDB type and to a parser in ingest.py.
TEXT = "text"
INT = "int"
NUMBER = "number"
DATE = "date"

DUCKDB_TYPE = {TEXT: "VARCHAR", INT: "BIGINT", NUMBER: "DOUBLE", DATE: "DATE"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    key: bool = False
    required: bool = True  # must be present in the file (unless derivable)
    nullable: bool = False  # may be empty in a row
    non_negative: bool = False
    description: str = ""
    example: str = ""
    # An empty or absent value is filled in at import: a constant, or (default_from) another column's value.
    default: str | None = None
    default_from: str | None = None
    if_missing: str = ""  # what a missing column means for the KPIs (documented in the contract)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    optional: bool = False  # the whole file may be absent
    order: int = 0  # load / validation order (parents first)

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name, type_, example, description="", **kw) -> Column:
    return Column(name=name, type=type_, example=example, description=description, **kw)


_OPTIONAL = {"required": False, "nullable": True}
_UNASSIGNED = {"required": False, "nullable": True, "default": "unassigned",
               "if_missing": "'unassigned' (filters and drill-downs show one 'unassigned' group)"}


def _DEFAULT_NAME(key: str) -> dict:  # noqa: N802 - reads like the constants beside it
    return {"required": False, "nullable": True, "default_from": key, "if_missing": f"the {key}"}


CONTRACT: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "products",
            "One row per SKU: the item master.",
            (
                _c("sku", TEXT, "FAM1-001", "Stock-keeping unit code", key=True),
                _c("name", TEXT, "Oak desk 120", "Item description", **_DEFAULT_NAME("sku")),
                _c("family", TEXT, "Desks", "Product family (planning level)", **_UNASSIGNED),
                _c("unit_cost", NUMBER, "82.50", "Standard cost per unit", non_negative=True, **_OPTIONAL,
                   if_missing="inventory turns and days of inventory, plan costs and promise margins say 'not "
                              "available: needs unit costs'; the plan still runs"),
                _c("unit_price", NUMBER, "149.00", "List price per unit", non_negative=True, **_OPTIONAL,
                   if_missing="revenue uses the order lines' unit_price; planning uses the SKU's average order "
                              "price (else its cost)"),
                _c("work_center", TEXT, "WC-ASSEMBLY", "Work center that makes it", **_OPTIONAL,
                   if_missing="no load on capacity (planned uncapacitated, and said so); with none at all, capacity "
                              "says 'not available: needs work centers and hours per unit'"),
                _c("hours_per_unit", NUMBER, "0.35", "Work-center hours per unit", non_negative=True, **_OPTIONAL,
                   if_missing="as work_center"),
            ),
            order=1,
        ),
        Table(
            "customers",
            "One row per customer.",
            (
                _c("customer_id", TEXT, "C0001", "Customer code", key=True),
                _c("name", TEXT, "Nordic Office AB", "Customer name", **_DEFAULT_NAME("customer_id")),
                _c("region", TEXT, "North", "Sales region", **_UNASSIGNED),
                _c("segment", TEXT, "Retail", "Customer segment", **_UNASSIGNED),
            ),
            order=1,
        ),
        Table(
            "orders",
            "One row per order line.",
            (
                _c("order_id", TEXT, "SO-100001", "Sales order number", key=True),
                _c("line_no", INT, "1", "Line number within the order", key=True, required=False,
                   if_missing="numbered 1..n within each order in file order"),
                _c("customer_id", TEXT, "C0001", "Customer code (must exist in customers)"),
                _c("sku", TEXT, "FAM1-001", "SKU (must exist in products)"),
                _c("order_date", DATE, "2026-09-03", "Date the order was received"),
                _c("requested_date", DATE, "2026-09-20", "Delivery date the customer asked for", **_OPTIONAL,
                   if_missing="OTIF to request and the promise gap say 'not available: needs requested_date'"),
                _c("promised_date", DATE, "2026-09-24", "Delivery date confirmed to the customer", **_OPTIONAL,
                   if_missing="OTIF to promise, perfect order rate and the promise gap say 'not available: needs "
                              "promised_date'"),
                _c("quantity", NUMBER, "10", "Ordered quantity", non_negative=True),
                _c("unit_price", NUMBER, "145.00", "Net selling price per unit", required=False, nullable=True, non_negative=True),
                _c("region", TEXT, "North", "Ship-to region of the line: region filters and drill-downs use it",
                   **_OPTIONAL, if_missing="the customer's region"),
            ),
            order=2,
        ),
        Table(
            "deliveries",
            "One row per delivery (shipment) of an order line; a line may be delivered in several parts.",
            (
                _c("delivery_id", TEXT, "D-200001", "Delivery number", key=True),
                _c("order_id", TEXT, "SO-100001", "Order line delivered (with line_no)"),
                _c("line_no", INT, "1", "Order line delivered (with order_id)"),
                _c("ship_date", DATE, "2026-09-21", "Date it left the plant", nullable=True),
                _c("delivered_date", DATE, "2026-09-23", "Date the customer received it"),
                _c("quantity", NUMBER, "10", "Quantity in this delivery", non_negative=True),
                _c("error_code", TEXT, "", "Empty = no error; else e.g. wrong_item, wrong_quantity, damaged, documentation", required=False, nullable=True),
            ),
            optional=True,
            order=3,
        ),
        Table(
            "forecasts",
            "Every forecast ever made is kept: one row per snapshot, SKU, month and source.",
            (
                _c("snapshot_date", DATE, "2026-08-31", "Date the forecast was made", key=True),
                _c("sku", TEXT, "FAM1-001", "SKU", key=True),
                _c("period", DATE, "2026-09-01", "First day of the month forecast", key=True),
                _c("source", TEXT, "consensus", "statistical, sales, consensus, ...", key=True),
                _c("quantity", NUMBER, "12", "Forecast units", non_negative=True),
            ),
            optional=True,
            order=2,
        ),
        Table(
            "inventory",
            "On-hand stock per SKU at each snapshot date.",
            (
                _c("snapshot_date", DATE, "2026-09-28", "Stock count date", key=True),
                _c("sku", TEXT, "FAM1-001", "SKU", key=True),
                _c("on_hand", NUMBER, "140", "Units on hand", non_negative=True),
            ),
            optional=True,
            order=2,
        ),
        Table(
            "production",
            "Work orders; actuals are empty while the work order is open.",
            (
                _c("work_order_id", TEXT, "WO-300001", "Work order number", key=True),
                _c("sku", TEXT, "FAM1-001", "SKU produced"),
                _c("work_center", TEXT, "WC-ASSEMBLY", "Work center"),
                _c("planned_start", DATE, "2026-09-01", "Planned start"),
                _c("planned_end", DATE, "2026-09-05", "Planned finish"),
                _c("actual_start", DATE, "2026-09-02", "Actual start", nullable=True),
                _c("actual_end", DATE, "2026-09-06", "Actual finish", nullable=True),
                _c("planned_qty", NUMBER, "200", "Planned quantity", non_negative=True),
                _c("produced_qty", NUMBER, "195", "Good quantity produced", nullable=True, non_negative=True),
                _c("scrap_qty", NUMBER, "5", "Scrapped quantity", required=False, nullable=True, non_negative=True),
            ),
            optional=True,
            order=2,
        ),
        Table(
            "capacity",
            "Available hours per work center and month.",
            (
                _c("work_center", TEXT, "WC-ASSEMBLY", "Work center", key=True),
                _c("period", DATE, "2026-09-01", "First day of the month", key=True),
                _c("available_hours", NUMBER, "1360", "Hours available in the month", non_negative=True),
            ),
            optional=True,
            order=1,
        ),
        Table(
            "surveys",
            "Customer satisfaction survey answers (optional).",
            (
                _c("survey_date", DATE, "2026-09-15", "Date answered"),
                _c("customer_id", TEXT, "C0001", "Customer code"),
                _c("score", NUMBER, "9", "Likelihood to recommend, 0-10", non_negative=True),
            ),
            optional=True,
            order=2,
        ),
        Table(
            "budget",
            "The annual plan the summit compares against (optional).",
            (
                _c("period", DATE, "2026-09-01", "First day of the month", key=True),
                _c("family", TEXT, "Desks", "Product family", key=True),
                _c("units", NUMBER, "1200", "Budgeted units", non_negative=True),
                _c("revenue", NUMBER, "174000", "Budgeted revenue", non_negative=True),
            ),
            optional=True,
            order=2,
        ),
    ]
}

# Tables every site must bring (the rest are optional).
REQUIRED_TABLES = tuple(n for n, t in CONTRACT.items() if not t.optional)
# Master tables derived from the orders' keys when there is no file (or mapping) for them: {table: orders column}.
DERIVED_FROM_ORDERS = {"products": "sku", "customers": "customer_id"}
LOAD_ORDER = tuple(sorted(CONTRACT, key=lambda n: (CONTRACT[n].order, n)))


def create_table_sql(table: Table) -> str:
    """DDL for one contract table (identifiers come from the constant contract)."""
    cols = []
    for c in table.columns:
        null = "" if (c.nullable or not c.required) else " NOT NULL"
        cols.append(f"{c.name} {DUCKDB_TYPE[c.type]}{null}")
    if table.key:
        cols.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)})"


def contract_markdown() -> str:
    """The contract as Markdown (column table + one example row per table), for the README and the import page."""
    out = []
    for t in CONTRACT.values():
        if t.optional:
            opt = " (optional file)"
        elif t.name in DERIVED_FROM_ORDERS:
            opt = f" (derived from the orders' {DERIVED_FROM_ORDERS[t.name]} values when there is no file)"
        else:
            opt = " (required file)"
        out.append(f"#### `{t.name}`{opt}\n{t.description}\n")
        out.append("| column | type | key | required | meaning | when missing or empty |")
        out.append("|---|---|---|---|---|---|")
        for c in t.columns:
            req = "yes" if c.required else "no"
            if c.nullable and c.required:
                req = "yes (may be empty)"
            out.append(f"| {c.name} | {c.type} | {'*' if c.key else ''} | {req} | {c.description} | "
                       f"{c.if_missing or ('-' if not c.nullable else 'left empty')} |")
        out.append("\nExample row:\n```csv")
        out.append(",".join(t.column_names))
        out.append(",".join(c.example for c in t.columns))
        out.append("```\n")
    return "\n".join(out)
