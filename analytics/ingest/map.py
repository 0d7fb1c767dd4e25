"""Map: source columns to contract columns (suggestions, saved mappings per source system)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import access, db
from analytics.ingest.common import EXTRA_COLUMNS
from analytics.schema import (
    CONTRACT,
)

# =========================================================================== mapping


def _norm(name: str) -> str:
    """Normalised column name: lower case, without spaces, underscores, dashes, dots."""
    return re.sub(r"[^0-9a-z#]+", "", str(name).strip().lower())


# target column -> source names that mean it (any table that has the target column).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "item",
        "item_code",
        "item_id",
        "material",
        "material_no",
        "material_number",
        "product",
        "product_code",
        "product_id",
        "product_no",
        "article",
        "article_no",
        "part",
        "part_no",
        "part_number",
        "sku_code",
    ),
    "name": ("name1",),  # a product's or a customer's name: see TABLE_SYNONYMS
    "family": ("product_family", "product_group", "item_group", "material_group", "group", "category"),
    "unit_cost": ("cost", "standard_cost", "std_cost", "cost_price", "unit_standard_cost"),
    "unit_price": ("price", "list_price", "net_price", "selling_price", "sales_price", "price_per_unit"),
    "work_center": ("workcenter", "work_centre", "wc", "resource", "machine", "line_resource"),
    "hours_per_unit": ("hours", "hrs_per_unit", "run_hours", "hours_unit", "cycle_hours", "labour_hours"),
    "customer_id": (
        "customer",
        "customer_no",
        "customer_number",
        "customer_code",
        "cust",
        "cust_no",
        "cust_id",
        "cust_number",
        "sold_to",
        "sold_to_party",
        "client",
        "client_id",
        "account",
    ),
    "region": ("sales_region", "area", "territory", "country_region"),
    "segment": ("customer_segment", "channel", "customer_group", "market_segment"),
    "order_id": (
        "so",
        "so_no",
        "so_number",
        "order",
        "order_no",
        "order_number",
        "sales_order",
        "sales_order_no",
        "sales_order_number",
        "order_ref",
        "sales_document",
    ),
    "line_no": (
        "line",
        "line_number",
        "line_id",
        "item_no",
        "item_number",
        "pos",
        "position",
        "order_line",
        "line_item",
        "so_line",
    ),
    "order_date": (
        "ordered",
        "order_dt",
        "ordered_date",
        "order_created",
        "created_date",
        "document_date",
        "doc_date",
        "entry_date",
        "booking_date",
    ),
    "requested_date": (
        "req_date",
        "requested",
        "request_date",
        "requested_delivery_date",
        "customer_requested_date",
        "wish_date",
        "want_date",
        "required_date",
        "need_date",
    ),
    "promised_date": (
        "confirmed_date",
        "promise_date",
        "promised",
        "confirmed_delivery_date",
        "commit_date",
        "committed_date",
        "confirmation_date",
        "promised_delivery_date",
    ),
    "quantity": (
        "qty",
        "order_qty",
        "ordered_qty",
        "order_quantity",
        "ordered_quantity",
        "quantity_ordered",
        "qty_ordered",
        "units",
    ),
    "delivery_id": (
        "delivery",
        "delivery_no",
        "delivery_number",
        "shipment",
        "shipment_id",
        "shipment_no",
        "shipment_number",
        "dn",
        "delivery_note",
    ),
    "ship_date": (
        "shipped_date",
        "shipping_date",
        "shipped",
        "ship_dt",
        "goods_issue_date",
        "gi_date",
        "dispatch_date",
        "dispatched",
    ),
    "delivered_date": (
        "delivered",
        "received_date",
        "receipt_date",
        "pod_date",
        "arrival_date",
        "actual_delivery_date",
        "delivered_on",
    ),
    "delivered_quantity": (
        "delivered_qty",
        "shipped_qty",
        "shipped_quantity",
        "qty_delivered",
        "qty_shipped",
        "delivery_qty",
    ),
    "error_code": (
        "error",
        "errors",
        "reason_code",
        "defect",
        "defect_code",
        "complaint",
        "complaint_code",
        "issue",
        "issue_code",
    ),
    "snapshot_date": (
        "snapshot",
        "snapshot_dt",
        "as_of",
        "as_of_date",
        "forecast_date",
        "count_date",
        "stock_date",
        "created_on",
    ),
    "period": ("month", "forecast_month", "bucket", "period_start", "month_start", "budget_month"),
    "source": ("forecast_source", "forecast_type", "type", "version", "scenario"),
    "on_hand": (
        "stock",
        "onhand",
        "qty_on_hand",
        "on_hand_qty",
        "stock_qty",
        "inventory",
        "quantity_on_hand",
        "unrestricted_stock",
    ),
    "work_order_id": (
        "work_order",
        "work_order_no",
        "work_order_number",
        "wo",
        "wo_no",
        "wo_number",
        "production_order",
        "production_order_no",
        "prod_order",
        "mo",
        "manufacturing_order",
    ),
    "planned_start": ("plan_start", "scheduled_start", "start_planned", "planned_start_date", "sched_start"),
    "planned_end": (
        "plan_end",
        "scheduled_end",
        "scheduled_finish",
        "planned_finish",
        "planned_end_date",
        "sched_end",
        "due_date",
    ),
    "actual_start": ("start_actual", "actual_start_date", "started", "start_date"),
    "actual_end": ("end_actual", "actual_finish", "actual_end_date", "finished", "completed", "finish_date"),
    "planned_qty": ("plan_qty", "planned_quantity", "target_qty", "scheduled_qty"),
    "produced_qty": ("good_qty", "yield_qty", "produced_quantity", "output_qty", "actual_qty", "confirmed_qty"),
    "scrap_qty": ("scrap", "scrapped_qty", "scrap_quantity", "reject_qty", "rejected_qty"),
    "available_hours": ("hours", "capacity", "capacity_hours", "available", "avail_hours", "hours_available"),
    "survey_date": ("date", "response_date", "answered", "answered_date", "answer_date"),
    "score": ("nps", "nps_score", "rating", "recommend", "likelihood_to_recommend"),
    "units": ("budget_units", "budget_qty", "qty", "quantity", "volume"),
    "revenue": ("budget_revenue", "sales", "amount", "value", "turnover"),
}
# Table-specific additions (checked before SYNONYMS).
TABLE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    # a customer is never named by "Product Name" (an order-line export holds both)
    "products": {"name": ("product_name", "item_name", "material_description", "description", "desc",
                          "product_description", "item_description")},
    "customers": {"name": ("customer_name", "client_name", "account_name", "company_name", "sold_to_name", "name1")},
    "deliveries": {
        "quantity": ("delivered_qty", "delivered_quantity", "shipped_qty", "shipped_quantity", "delivery_qty"),
        "delivered_date": ("delivery_date",),
    },
    "production": {"work_order_id": ("order", "order_no", "order_number", "order_id")},
    "inventory": {"snapshot_date": ("date",)},
}


def target_columns(table: str) -> tuple[str, ...]:
    """Columns a file of ``table`` may be mapped to (contract columns plus derivation inputs)."""
    return CONTRACT[table].column_names + tuple(c.name for c in EXTRA_COLUMNS.get(table, ()))


def suggest_mapping(table: str, source_columns: Iterable[str]) -> dict[str, str]:
    """Suggest source column -> contract column for ``table``.

    Exact matches of the normalised name (case, spaces, underscores, dashes and dots do
    not matter) win, then table-specific and general synonyms (``qty`` -> quantity,
    ``material`` -> sku, ``cust_no`` -> customer_id, ...). Each source and each target is
    used at most once; unmatched columns are left out.
    """
    if table not in CONTRACT:
        raise KeyError(f"unknown table {table!r}")
    targets = target_columns(table)
    sources = [str(s) for s in source_columns]
    result: dict[str, str] = {}
    used: set[str] = set()
    by_norm: dict[str, list[str]] = {}
    for s in sources:
        by_norm.setdefault(_norm(s), []).append(s)

    def take(target: str, names: Iterable[str]) -> bool:
        for n in names:
            for s in by_norm.get(_norm(n), ()):
                if s not in result:
                    result[s] = target
                    used.add(target)
                    return True
        return False

    for target in targets:  # exact names first
        take(target, [target])
    specific = TABLE_SYNONYMS.get(table, {})
    for target in targets:
        if target in used:
            continue
        if not take(target, specific.get(target, ())):
            take(target, SYNONYMS.get(target, ()))
    return {s: result[s] for s in sources if s in result}


def apply_mapping(df: pd.DataFrame, mapping: Mapping[str, str | None]) -> pd.DataFrame:
    """Rename mapped columns (source -> contract). A column mapped to None or "" is dropped
    (ignored). Other columns stay as they are; ``attrs`` and the row index are kept."""
    cols = set(map(str, df.columns))
    drop = [s for s, t in mapping.items() if not t and s in cols]
    rename = {s: t for s, t in mapping.items() if t and s in cols and s != t}
    out = df.drop(columns=drop) if drop else df
    return out.rename(columns=rename) if rename else out.copy(deep=False)


def _check_mapping(table: str, mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    if table not in CONTRACT:
        raise ValueError(f"unknown table {table!r} (tables: {', '.join(CONTRACT)})")
    allowed = set(target_columns(table))
    out: dict[str, str | None] = {}
    for s, t in mapping.items():
        if t and t not in allowed:
            raise ValueError(
                f"{table}: cannot map {s!r} to {t!r}: not a column of {table} ({', '.join(sorted(allowed))})"
            )
        out[str(s)] = t or None
    targets = [t for t in out.values() if t]
    dups = sorted({t for t in targets if targets.count(t) > 1})
    if dups:
        raise ValueError(f"{table}: several columns are mapped to {', '.join(dups)}")
    return out


@access.requires("mapping")
def save_mapping(db_path: str | Path | None, source: str, table: str, mapping: Mapping[str, str | None]) -> None:
    """Save the column mapping of ``table`` for the source system ``source`` (one write)."""
    if not source or not str(source).strip():
        raise ValueError("a mapping needs the name of its source system")
    clean = _check_mapping(table, mapping)
    with db.writer(db_path) as con:
        con.execute(
            "INSERT OR REPLACE INTO column_mappings VALUES ($source, $table, $mapping, $now)",
            {
                "source": str(source).strip(),
                "table": table,
                "mapping": json.dumps(clean),
                "now": datetime.now(UTC).replace(tzinfo=None),
            },
        )


def load_mappings(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, str | None]]:
    """The saved mappings of ``source``: {table: {source column: contract column or None}}."""
    rows = con.execute(
        "SELECT table_name, mapping_json FROM column_mappings WHERE source = $s ORDER BY table_name",
        {"s": source},
    ).fetchall()
    return {t: json.loads(m) for t, m in rows}


def list_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the source systems with saved mappings (mapping files, or per-table column mappings)."""
    try:
        return [r[0] for r in con.execute(
            "SELECT source FROM source_mappings UNION SELECT source FROM column_mappings ORDER BY 1").fetchall()]
    except duckdb.CatalogException:  # a database written before mapping files existed
        return [r[0] for r in con.execute("SELECT DISTINCT source FROM column_mappings ORDER BY source").fetchall()]


def _effective_mapping(table: str, columns: list[str], saved: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Saved mapping entries for columns in the file, then suggestions for the rest."""
    mapping: dict[str, str | None] = {}
    if saved:
        mapping = {s: (t or None) for s, t in saved.items() if s in columns}
    taken = {t for t in mapping.values() if t}
    rest = [c for c in columns if c not in mapping]
    for s, t in suggest_mapping(table, rest).items():
        if t not in taken:
            mapping[s] = t
            taken.add(t)
    return mapping
