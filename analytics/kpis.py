"""KPI specs and their SQL.

Each KPI is declared once in ``SPECS`` (label, unit, direction, the written
definition, population, numerator, denominator, exclusions). The README's KPI
section, the scorecard's "how is this computed" panel and the CLI all read these
specs, so the three always say the same thing.

Every KPI is computed in DuckDB SQL at its lowest grain (order line, delivery,
work order, sku x month, survey answer), then numerators and denominators are
summed for the requested grouping; percentages are never averaged.

Output frames are long: one row per KPI (x grouping) with columns
``kpi, <group columns>, value, numerator, denominator, unit, reason``.
``value`` is None when the KPI cannot be computed, and ``reason`` says why
("not available: needs promised_date", "no order lines promised in the range").
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb
import pandas as pd

from analytics import access
from analytics.filters import Filters

# ---------------------------------------------------------------------------- specs

RATE, DAYS, TURNS, POINTS = "rate", "days", "turns", "points"


@dataclass(frozen=True)
class KpiSpec:
    id: str
    label: str
    unit: str
    higher_is_better: bool | None  # None: closer to target is better
    definition: str  # the formula in words
    population: str
    numerator: str
    denominator: str
    exclusions: str
    needs: tuple[tuple[str, str | None], ...]  # (table, column) that must hold data
    dims: tuple[str, ...]  # dimensions this KPI can be filtered / drilled by
    default_target: float
    default_tolerance: float  # amber band width (same unit as the value)
    source: str  # which query computes it
    tile: bool = True  # shown as a tile on the scorecard
    # When the import filled a column this KPI reads from another one: ("table.column", "filled from",
    # label to show instead, sentence added to the definition). See :func:`effective_spec`.
    substitute: tuple[str, str, str, str] | None = None

    def relabel(self, label: str, definition: str) -> KpiSpec:
        return replace(self, label=label, definition=definition)


# The import's record of supplied columns (db.SUPPLIED) decides these needs, not the cells: an error_code
# column supplied with empty cells means "no errors"; no error_code column means "we do not know".
SUPPLIED_NEEDS = {("deliveries", "error_code"): "the data has no error information (no error_code column)"}
# How a missing (table, column) need reads in "not available: needs ..." (default: the column name).
NEED_WORDS = {("products", "unit_cost"): "unit costs", ("products", "work_center"): "work centers",
              ("products", "hours_per_unit"): "hours per unit"}

_ORDER_TO_SHIP = (
    "The data has no delivered date: the import filled it with the ship date, so this measures order to ship, "
    "not order to delivery."
)


ORDER_DIMS = ("family", "sku", "region", "segment", "customer_id", "work_center")
PRODUCT_DIMS = ("family", "sku", "work_center")
CUSTOMER_DIMS = ("region", "segment", "customer_id")

SPECS: dict[str, KpiSpec] = {
    s.id: s
    for s in [
        KpiSpec(
            "otif_to_promise", "OTIF to promise", RATE, True,
            "Share of order lines delivered on time and in full against the promised date: a line counts when "
            "the quantity delivered (by delivered_date) on or before its promised_date is at least the ordered quantity.",
            "Order lines whose promised_date is in the range and on or before the as-of date.",
            "Lines with delivered quantity up to promised_date >= ordered quantity.",
            "Lines in the population.",
            "Lines without a promised_date.",
            (("orders", "promised_date"), ("deliveries", None)), ORDER_DIMS, 0.95, 0.03, "lines_promised",
        ),
        KpiSpec(
            "otif_to_request", "OTIF to request", RATE, True,
            "As OTIF to promise, against the date the customer asked for: a line counts when the quantity delivered "
            "on or before its requested_date is at least the ordered quantity.",
            "Order lines whose requested_date is in the range and on or before the as-of date.",
            "Lines with delivered quantity up to requested_date >= ordered quantity.",
            "Lines in the population.",
            "Lines without a requested_date.",
            (("orders", "requested_date"), ("deliveries", None)), ORDER_DIMS, 0.90, 0.05, "lines_requested",
        ),
        KpiSpec(
            "order_accuracy", "Order accuracy", RATE, True,
            "Share of completed order lines none of whose deliveries carries an error_code. Completion = the "
            "delivered_date of the delivery that brings the delivered total to the ordered quantity.",
            "Order lines completed in the range (and on or before the as-of date).",
            "Completed lines with no delivery carrying an error_code.",
            "Completed lines.",
            "Lines not yet delivered in full. Not available when the imported data had no error_code column (a "
            "column with empty cells means no errors; deliveries derived from the orders carry no error information).",
            (("deliveries", None), ("deliveries", "error_code")), ORDER_DIMS, 0.99, 0.01, "lines_completed",
        ),
        KpiSpec(
            "perfect_order_rate", "Perfect order rate", RATE, True,
            "Share of order lines that are on time and in full to promise and have no delivery with an error_code.",
            "The OTIF-to-promise population: lines with promised_date in the range, on or before the as-of date.",
            "Lines that are OTIF to promise and have no delivery carrying an error_code.",
            "Lines in the population.",
            "Lines without a promised_date. Not available without error information (as order accuracy).",
            (("orders", "promised_date"), ("deliveries", None), ("deliveries", "error_code")), ORDER_DIMS, 0.93,
            0.03, "lines_promised",
        ),
        KpiSpec(
            "order_cycle_time_mean_days", "Order cycle time (mean)", DAYS, False,
            "Mean of completion date minus order_date, in days, over completed order lines.",
            "Order lines completed in the range (completion = delivered_date of the delivery that brings the "
            "delivered total to the ordered quantity).",
            "Sum of (completion date - order_date) in days.",
            "Number of completed lines.",
            "Lines not yet delivered in full.",
            (("deliveries", None),), ORDER_DIMS, 14.0, 3.0, "lines_completed",
            substitute=("deliveries.delivered_date", "ship_date", "Order cycle time, order to ship (mean)",
                        _ORDER_TO_SHIP),
        ),
        KpiSpec(
            "order_cycle_time_median_days", "Order cycle time (median)", DAYS, False,
            "Median of completion date minus order_date, in days, over completed order lines (linear interpolation).",
            "Order lines completed in the range.",
            "-", "Number of completed lines.",
            "Lines not yet delivered in full.",
            (("deliveries", None),), ORDER_DIMS, 12.0, 3.0, "lines_completed", tile=False,
            substitute=("deliveries.delivered_date", "ship_date", "Order cycle time, order to ship (median)",
                        _ORDER_TO_SHIP),
        ),
        KpiSpec(
            "order_cycle_time_p90_days", "Order cycle time (90th percentile)", DAYS, False,
            "90th percentile of completion date minus order_date, in days, over completed order lines "
            "(linear interpolation between order statistics).",
            "Order lines completed in the range.",
            "-", "Number of completed lines.",
            "Lines not yet delivered in full.",
            (("deliveries", None),), ORDER_DIMS, 25.0, 5.0, "lines_completed", tile=False,
            substitute=("deliveries.delivered_date", "ship_date",
                        "Order cycle time, order to ship (90th percentile)", _ORDER_TO_SHIP),
        ),
        KpiSpec(
            "production_cycle_time_mean_days", "Production cycle time (mean)", DAYS, False,
            "Mean of actual_end minus actual_start, in days, over finished work orders.",
            "Work orders with actual_end in the range.",
            "Sum of (actual_end - actual_start) in days.",
            "Number of finished work orders.",
            "Open work orders (no actual_end) and work orders without actual_start.",
            (("production", "actual_end"),), PRODUCT_DIMS, 5.0, 1.5, "work_orders_finished",
        ),
        KpiSpec(
            "production_cycle_time_median_days", "Production cycle time (median)", DAYS, False,
            "Median of actual_end minus actual_start, in days, over finished work orders.",
            "Work orders with actual_end in the range.",
            "-", "Number of finished work orders.",
            "Open work orders and work orders without actual_start.",
            (("production", "actual_end"),), PRODUCT_DIMS, 4.0, 1.5, "work_orders_finished", tile=False,
        ),
        KpiSpec(
            "production_cycle_time_p90_days", "Production cycle time (90th percentile)", DAYS, False,
            "90th percentile of actual_end minus actual_start, in days, over finished work orders "
            "(linear interpolation between order statistics).",
            "Work orders with actual_end in the range.",
            "-", "Number of finished work orders.",
            "Open work orders and work orders without actual_start.",
            (("production", "actual_end"),), PRODUCT_DIMS, 8.0, 2.0, "work_orders_finished", tile=False,
        ),
        KpiSpec(
            "inventory_turns", "Inventory turnover", TURNS, True,
            "COGS / average inventory value x 365 / days in range. COGS = delivered quantity x unit_cost for "
            "deliveries with ship_date in the range; average inventory value = mean over the inventory snapshot "
            "dates in the range of sum(on_hand x unit_cost).",
            "Deliveries shipped in the range; inventory snapshots dated in the range.",
            "COGS (cost of goods shipped).",
            "Average inventory value (the value is then annualised by 365 / days in range).",
            "Deliveries without a ship_date. Not available by region, segment or customer: stock is not held per customer.",
            (("deliveries", "ship_date"), ("inventory", None), ("products", "unit_cost")), PRODUCT_DIMS, 8.0, 1.5,
            "inventory",
        ),
        KpiSpec(
            "days_of_inventory", "Days of inventory", DAYS, False,
            "365 / inventory turns = average inventory value / COGS x days in range.",
            "As inventory turnover.",
            "Average inventory value x days in range.",
            "COGS.",
            "As inventory turnover.",
            (("deliveries", "ship_date"), ("inventory", None), ("products", "unit_cost")), PRODUCT_DIMS, 45.0,
            10.0, "inventory",
        ),
        KpiSpec(
            "forecast_accuracy", "Forecast accuracy", RATE, True,
            "max(0, 1 - sum|F - A| / sum A) over sku-months. A = ordered quantity with order_date in the month; "
            "F = the forecast for that sku and month from the chosen source's latest snapshot dated in the "
            "calendar month L months earlier (lag L). At family level (scorecard option, `kpis --level family`) F and "
            "A are first summed per family and month, so errors of SKUs in one family may cancel; the level is "
            "stated next to the value. When the error is at least the demand the value floors at 0 and the "
            "WMAPE (sum|F - A| / sum A) and the absolute error are shown beside it.",
            "Every sku-month in the range (complete months up to the as-of date) with a forecast or an actual; "
            "a missing forecast or actual counts as 0.",
            "sum |F - A| (absolute error).",
            "sum A (actual demand).",
            "Months for which the source has no snapshot dated L months earlier. Not available by region, segment "
            "or customer: forecasts are made per SKU.",
            (("forecasts", None), ("orders", None)), PRODUCT_DIMS, 0.75, 0.05, "forecast",
        ),
        KpiSpec(
            "forecast_bias", "Forecast bias", RATE, None,
            "sum(F - A) / sum A over the same sku-month pairs as forecast accuracy: positive = over-forecast.",
            "As forecast accuracy.",
            "sum (F - A).",
            "sum A (actual demand).",
            "As forecast accuracy.",
            (("forecasts", None), ("orders", None)), PRODUCT_DIMS, 0.0, 0.05, "forecast",
        ),
        KpiSpec(
            "capacity_utilisation", "Capacity utilisation", RATE, None,
            "Per work center and month: sum(produced_qty x hours_per_unit) for work orders with actual_end in the "
            "month / available_hours. Over a range or several work centers: summed hours / summed available hours.",
            "Work orders with actual_end in the range; capacity rows for the months of the range.",
            "Hours produced (produced_qty x the product's hours_per_unit).",
            "Available hours of the work centers in the months of the range.",
            "Open work orders. Filtered by family or SKU, the numerator counts only those products while the "
            "denominator stays the whole work center (the share of capacity they use).",
            (("production", "actual_end"), ("capacity", None), ("products", "work_center"),
             ("products", "hours_per_unit")), PRODUCT_DIMS, 0.85, 0.10, "capacity",
        ),
        KpiSpec(
            "plan_adherence", "Plan adherence", RATE, True,
            "sum(min(produced_qty, planned_qty)) / sum(planned_qty) over work orders due in the range.",
            "Work orders with planned_end in the range and on or before the as-of date.",
            "sum of min(produced, planned); an open work order counts as 0 produced.",
            "sum of planned_qty.",
            "Work orders due after the as-of date.",
            (("production", None),), PRODUCT_DIMS, 0.95, 0.03, "work_orders_due",
        ),
        KpiSpec(
            "nps", "Net promoter score", POINTS, True,
            "% of answers scoring 9-10 minus % scoring 0-6, in points from -100 to 100.",
            "Survey answers dated in the range.",
            "Promoters (9-10) minus detractors (0-6).",
            "Number of answers.",
            "Not available by family, SKU or work center: surveys are per customer.",
            (("surveys", None),), CUSTOMER_DIMS, 40.0, 10.0, "surveys",
        ),
        KpiSpec(
            "promise_gap_mean_days", "Promise gap (mean)", DAYS, False,
            "Mean of promised_date minus requested_date, in days: how much later than asked production lets sales promise.",
            "Order lines with promised_date in the range, on or before the as-of date, and a requested_date.",
            "Sum of (promised_date - requested_date) in days.",
            "Number of lines.",
            "Lines without promised_date or requested_date.",
            (("orders", "promised_date"),), ORDER_DIMS, 2.0, 2.0, "lines_promised",
        ),
    ]
}

KPI_IDS = tuple(SPECS)
DIM_LABELS = {
    "family": "Family", "sku": "SKU", "region": "Region", "segment": "Segment",
    "customer_id": "Customer", "work_center": "Work center", "month": "Month",
}


def effective_spec(spec: KpiSpec, substituted: dict[str, str] | None) -> KpiSpec:
    """``spec`` as this data supports it: when the import filled the column the KPI reads from another one
    (``substituted`` = db.supplied_columns(con)["substituted"]), the label and definition say so."""
    sub = spec.substitute
    if sub is None or not substituted or substituted.get(sub[0]) != sub[1]:
        return spec
    return replace(spec, label=sub[2], definition=f"{spec.definition} {sub[3]}")


def effective_specs(con) -> dict[str, KpiSpec]:
    """Every spec as this database's data supports it (see :func:`effective_spec`)."""
    from analytics import db

    subs = (db.supplied_columns(con) or {}).get("substituted") or {}
    return {k: effective_spec(s, subs) for k, s in SPECS.items()}


def unit_label(unit: str) -> str:
    return {RATE: "%", DAYS: "days", TURNS: "turns/yr", POINTS: "points"}[unit]


def format_value(spec: KpiSpec, value: float | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if spec.unit == RATE:
        return f"{value * 100:.1f}%"
    if spec.unit == POINTS:
        r = round(value) + 0
        return f"{r:+d}" if r else "0"  # no sign on zero: '+0' reads as a gain
    if spec.unit == DAYS:
        return f"{value:.1f} days"
    return f"{value:.1f} turns"


# ---------------------------------------------------------------------------- query building


@dataclass(frozen=True)
class Query:
    """Parameters shared by every KPI query."""

    start: date
    end: date
    as_of: date
    filters: Filters = field(default_factory=Filters)
    lag: int = 1
    source: str = "consensus"
    level: str = "sku"  # forecast accuracy and bias over sku-months, or over family-months (FORECAST_LEVELS)


# The grain forecast accuracy and bias are measured at: every SKU's error counts ("sku"), or the SKUs of a family
# are summed per month first so their errors may cancel ("family", a common S&OP choice). Stated next to the value.
FORECAST_LEVELS = {"sku": "SKU level", "family": "family level"}
FORECAST_KPIS = ("forecast_accuracy", "forecast_bias")


def forecast_level_label(level: str) -> str:
    return FORECAST_LEVELS[level]


def _params(q: Query) -> dict:
    return {"start": q.start, "end": q.end, "as_of": q.as_of}


_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _run(con, sql: str, params: dict) -> pd.DataFrame:
    """Execute with only the parameters the statement uses (DuckDB rejects extra ones)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used}).df()


def _filter_sql(filters: Filters, dims: tuple[str, ...], alias: str, params: dict) -> str:
    """AND-clauses for the active filters; identifiers are constants, values are parameters."""
    clauses = []
    for dim, values in filters.active().items():
        if dim not in dims:
            continue
        name = f"f_{dim}"
        params[name] = list(values)
        clauses.append(f"list_contains(${name}, {alias}.{dim})")  # dim is a constant from DIMENSIONS
    return "".join(f" AND {c}" for c in clauses)


def _group_sql(by: tuple[str, ...], alias: str, event_date: str) -> tuple[str, str]:
    """(select list, group by list) for the requested grouping; dims are constants from DIM_LABELS."""
    select = [
        f"date_trunc('month', {event_date})::DATE AS month" if dim == "month" else f"{alias}.{dim} AS {dim}"
        for dim in by
    ]
    if not select:
        return "", ""
    return ", ".join(select) + ", ", "GROUP BY " + ", ".join(str(i + 1) for i in range(len(by)))


# Simple sources: one table, one event date, aggregates per KPI as (numerator, denominator, value) SQL.
# grain of every source table: noted per entry.
SIMPLE_SOURCES: dict[str, dict] = {
    # grain: one row per order line (fact_order_lines), event = promised_date
    "lines_promised": {
        "table": "fact_order_lines",
        "event": "f.promised_date",
        "where": "f.promised_date BETWEEN $start AND $end AND f.promised_date <= $as_of",
        "dims": ORDER_DIMS,
        "aggs": {
            "otif_to_promise": ("count(*) FILTER (WHERE f.qty_by_promised >= f.quantity)", "count(*)", None),
            "perfect_order_rate": (
                "count(*) FILTER (WHERE f.qty_by_promised >= f.quantity AND NOT f.has_error)", "count(*)", None),
            "promise_gap_mean_days": (
                "sum(f.promised_date - f.requested_date)", "count(f.requested_date)", None),
        },
    },
    # grain: one row per order line, event = requested_date
    "lines_requested": {
        "table": "fact_order_lines",
        "event": "f.requested_date",
        "where": "f.requested_date BETWEEN $start AND $end AND f.requested_date <= $as_of",
        "dims": ORDER_DIMS,
        "aggs": {
            "otif_to_request": ("count(*) FILTER (WHERE f.qty_by_requested >= f.quantity)", "count(*)", None),
        },
    },
    # grain: one row per order line, event = completion_date
    "lines_completed": {
        "table": "fact_order_lines",
        "event": "f.completion_date",
        "where": "f.completion_date BETWEEN $start AND $end AND f.completion_date <= $as_of",
        "dims": ORDER_DIMS,
        "aggs": {
            "order_accuracy": ("count(*) FILTER (WHERE NOT f.has_error)", "count(*)", None),
            "order_cycle_time_mean_days": ("sum(f.completion_date - f.order_date)", "count(*)", None),
            "order_cycle_time_median_days": (
                "NULL", "count(*)", "quantile_cont(f.completion_date - f.order_date, 0.5)"),
            "order_cycle_time_p90_days": (
                "NULL", "count(*)", "quantile_cont(f.completion_date - f.order_date, 0.9)"),
        },
    },
    # grain: one row per work order, event = actual_end
    "work_orders_finished": {
        "table": "(SELECT w.*, p.family FROM production w LEFT JOIN products p USING (sku))",
        "event": "f.actual_end",
        "where": "f.actual_end BETWEEN $start AND $end AND f.actual_end <= $as_of AND f.actual_start IS NOT NULL",
        "dims": PRODUCT_DIMS,
        "aggs": {
            "production_cycle_time_mean_days": ("sum(f.actual_end - f.actual_start)", "count(*)", None),
            "production_cycle_time_median_days": (
                "NULL", "count(*)", "quantile_cont(f.actual_end - f.actual_start, 0.5)"),
            "production_cycle_time_p90_days": (
                "NULL", "count(*)", "quantile_cont(f.actual_end - f.actual_start, 0.9)"),
        },
    },
    # grain: one row per work order, event = planned_end
    "work_orders_due": {
        "table": "(SELECT w.*, p.family FROM production w LEFT JOIN products p USING (sku))",
        "event": "f.planned_end",
        "where": "f.planned_end BETWEEN $start AND $end AND f.planned_end <= $as_of",
        "dims": PRODUCT_DIMS,
        "aggs": {
            "plan_adherence": (
                "sum(least(coalesce(f.produced_qty, 0), f.planned_qty))", "sum(f.planned_qty)", None),
        },
    },
    # grain: one row per survey answer, event = survey_date
    "surveys": {
        "table": "(SELECT s.*, c.region, c.segment FROM surveys s LEFT JOIN customers c USING (customer_id))",
        "event": "f.survey_date",
        "where": "f.survey_date BETWEEN $start AND $end",
        "dims": CUSTOMER_DIMS,
        "aggs": {
            "nps": ("count(*) FILTER (WHERE f.score >= 9) - count(*) FILTER (WHERE f.score <= 6)",
                    "count(*)", "100.0 * ({num}) / nullif({den}, 0)"),
        },
    },
}

EMPTY_REASON = {
    "lines_promised": "no order lines promised in the range",
    "lines_requested": "no order lines requested in the range",
    "lines_completed": "no order lines completed in the range",
    "work_orders_finished": "no work orders finished in the range",
    "work_orders_due": "no work orders due in the range",
    "surveys": "no survey answers in the range",
    "inventory": "no shipments or no inventory snapshots in the range",
    "forecast": "no actual demand in the range, or no forecast snapshot dated lag months earlier",
    "capacity": "no capacity or no finished work orders in the range",
}


def _simple_source(con, name: str, q: Query, by: tuple[str, ...], kpi_ids: list[str]) -> pd.DataFrame:
    src = SIMPLE_SOURCES[name]
    params = _params(q)
    gsel, gby = _group_sql(by, "f", src["event"])
    parts = []
    for k in kpi_ids:
        num, den, val = src["aggs"][k]
        parts.append(f"{num} AS \"{k}__num\", {den} AS \"{k}__den\"")
        if val is None:
            val = "({num}) / nullif({den}, 0)"
        parts.append(f"{val.format(num=num, den=den)} AS \"{k}__value\"")
    # Identifiers and expressions below are constants of this module; user values are $parameters.
    sql = (
        f"SELECT {gsel}{', '.join(parts)} FROM {src['table']} f "
        f"WHERE {src['where']}{_filter_sql(q.filters, src['dims'], 'f', params)} {gby}"
    )
    return _run(con, sql, params)


def _inventory_source(con, q: Query, by: tuple[str, ...], kpi_ids: list[str]) -> pd.DataFrame:
    """Turns and days of inventory.

    grain: cogs from fact_deliveries (one row per delivery), inventory value from inventory x products
    (one row per snapshot x sku); both summed per group and time bucket, where a bucket is the whole
    range or, grouped by month, the part of each month inside the range.
    """
    params = _params(q)
    dims = [d for d in by if d != "month"]
    by_month = "month" in by
    bucket = "date_trunc('month', {d})::DATE" if by_month else "$start::DATE"
    gcols = ", ".join(["bucket"] + dims)
    dsel = "".join(f", f.{d} AS {d}" for d in dims)
    psel = "".join(f", p.{d} AS {d}" for d in dims)
    f_filters = _filter_sql(q.filters, PRODUCT_DIMS, "f", params)
    p_filters = _filter_sql(q.filters, PRODUCT_DIMS, "p", params)
    sql = f"""
        WITH cogs AS (  -- grain: group x bucket
            SELECT {bucket.format(d='f.ship_date')} AS bucket{dsel}, sum(f.quantity * f.unit_cost) AS cogs
            FROM fact_deliveries f
            WHERE f.ship_date BETWEEN $start AND $end {f_filters}
            GROUP BY ALL
        ), snaps AS (  -- grain: bucket; number of snapshot dates (all SKUs) in the bucket
            SELECT {bucket.format(d='snapshot_date')} AS bucket, count(DISTINCT snapshot_date) AS n_snapshots
            FROM inventory WHERE snapshot_date BETWEEN $start AND $end GROUP BY ALL
        ), inv AS (  -- grain: group x bucket
            SELECT {bucket.format(d='i.snapshot_date')} AS bucket{psel}, sum(i.on_hand * p.unit_cost) AS inv_value
            FROM inventory i JOIN products p USING (sku)
            WHERE i.snapshot_date BETWEEN $start AND $end {p_filters}
            GROUP BY ALL
        ), joined AS (
            SELECT {gcols}, coalesce(cogs.cogs, 0) AS cogs,
                   inv.inv_value / snaps.n_snapshots AS avg_inv,
                   CAST(least(CAST(bucket + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), $end::DATE)
                        - greatest(bucket, $start::DATE) + 1 AS DOUBLE) AS days_month,
                   CAST($end::DATE - $start::DATE + 1 AS DOUBLE) AS days_range
            FROM inv JOIN snaps USING (bucket) FULL JOIN cogs USING ({gcols})
        )
        SELECT {gcols}, sum(cogs) AS cogs, sum(avg_inv) AS avg_inv,
               max({'days_month' if by_month else 'days_range'}) AS days
        FROM joined GROUP BY ALL
    """
    df = _run(con, sql, params)
    if by_month:
        df = df.rename(columns={"bucket": "month"})
    else:
        df = df.drop(columns=["bucket"])
    out = df[[c for c in df.columns if c in by]].copy()
    cogs, avg_inv, days = df["cogs"], df["avg_inv"], df["days"]
    valid = (avg_inv > 0) & (cogs > 0)
    if "inventory_turns" in kpi_ids:
        out["inventory_turns__num"] = cogs
        out["inventory_turns__den"] = avg_inv
        out["inventory_turns__value"] = (cogs / avg_inv * 365.0 / days).where(valid)
    if "days_of_inventory" in kpi_ids:
        out["days_of_inventory__num"] = avg_inv * days
        out["days_of_inventory__den"] = cogs
        out["days_of_inventory__value"] = (avg_inv * days / cogs).where(valid)
    return out


FORECAST_PAIRS_SQL = """
    WITH months AS (  -- grain: month; complete months of the range up to the as-of date
        SELECT CAST(m AS DATE) AS month
        FROM generate_series(date_trunc('month', $start::DATE), date_trunc('month', $end::DATE), INTERVAL 1 MONTH) t(m)
        WHERE CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) <= $as_of
    ), snap AS (  -- grain: month; the latest snapshot of the source dated in the month lag months earlier
        SELECT m.month, max(s.snapshot_date) AS snapshot_date
        FROM months m JOIN (SELECT DISTINCT snapshot_date FROM forecasts WHERE source = $source) s
          ON date_trunc('month', s.snapshot_date) = m.month - to_months($lag)
        GROUP BY m.month
    ), fc AS (  -- grain: sku x month
        SELECT f.sku, f.period AS month, f.quantity AS forecast
        FROM forecasts f JOIN snap ON f.snapshot_date = snap.snapshot_date AND f.period = snap.month
        WHERE f.source = $source
    ), act AS (  -- grain: sku x month
        SELECT a.sku, a.month, a.qty AS actual
        FROM fact_demand_monthly a JOIN snap USING (month)
    )
    SELECT coalesce(fc.sku, act.sku) AS sku, coalesce(fc.month, act.month) AS month,
           coalesce(fc.forecast, 0) AS forecast, coalesce(act.actual, 0) AS actual
    FROM fc FULL JOIN act ON fc.sku = act.sku AND fc.month = act.month
"""


def forecast_pairs(con, q: Query) -> pd.DataFrame:
    """grain: one row per sku x month: forecast (lag q.lag, source q.source) and actual, with product dims."""
    params = _params(q) | {"lag": int(q.lag), "source": q.source}
    filt = _filter_sql(q.filters, PRODUCT_DIMS, "p", params)
    sql = f"""
        SELECT x.sku, p.family, p.work_center, x.month, x.forecast, x.actual
        FROM ({FORECAST_PAIRS_SQL}) x JOIN products p USING (sku)
        WHERE true {filt}
        ORDER BY x.month, x.sku
    """
    return _run(con, sql, params)


def _forecast_source(con, q: Query, by: tuple[str, ...], kpi_ids: list[str]) -> pd.DataFrame:
    params = _params(q) | {"lag": int(q.lag), "source": q.source}
    filt = _filter_sql(q.filters, PRODUCT_DIMS, "p", params)
    gby = ("GROUP BY " + ", ".join(str(i + 1) for i in range(len(by)))) if by else ""
    if q.level == "family":  # by is only month and/or family here (not_applicable_reason)
        gsel = "".join(f"x.{d} AS {d}, " for d in by)
        pairs = f"""(  -- grain: family x month: the family's SKUs summed before the error is taken
            SELECT p.family, x.month, sum(x.forecast) AS forecast, sum(x.actual) AS actual
            FROM ({FORECAST_PAIRS_SQL}) x JOIN products p USING (sku)
            WHERE true {filt} GROUP BY ALL) x"""
    else:
        gsel = "".join(f"x.{d} AS {d}, " if d == "month" else f"p.{d} AS {d}, " for d in by)
        pairs = f"({FORECAST_PAIRS_SQL}) x JOIN products p USING (sku) WHERE true {filt}"
    sql = f"""
        SELECT {gsel}
               sum(abs(x.forecast - x.actual)) AS abs_err, sum(x.forecast - x.actual) AS err,
               sum(x.actual) AS actual
        FROM {pairs} {gby}
    """
    df = _run(con, sql, params)
    out = df[list(by)].copy()
    actual = df["actual"].astype(float)
    ok = actual > 0
    if "forecast_accuracy" in kpi_ids:
        out["forecast_accuracy__num"] = df["abs_err"]
        out["forecast_accuracy__den"] = actual
        out["forecast_accuracy__value"] = (1 - df["abs_err"] / actual).clip(lower=0).where(ok)
    if "forecast_bias" in kpi_ids:
        out["forecast_bias__num"] = df["err"]
        out["forecast_bias__den"] = actual
        out["forecast_bias__value"] = (df["err"] / actual).where(ok)
    return out


def _capacity_source(con, q: Query, by: tuple[str, ...], kpi_ids: list[str]) -> pd.DataFrame:
    """grain: work center x month (load hours and available hours), then summed per group."""
    params = _params(q)
    wc_filter = _filter_sql(Filters(work_centers=q.filters.work_centers), ("work_center",), "c", params)
    load_filter = _filter_sql(q.filters, PRODUCT_DIMS, "w", params)
    keep = [d for d in by if d in ("month", "work_center")]
    gcols = ", ".join(["work_center", "month"])
    sql = f"""
        WITH cap AS (  -- grain: work center x month in the range
            SELECT c.work_center, c.period AS month, sum(c.available_hours) AS available_hours
            FROM capacity c
            WHERE c.period BETWEEN date_trunc('month', $start::DATE) AND $end {wc_filter}
            GROUP BY ALL
        ), load AS (  -- grain: work center x month
            SELECT w.work_center, date_trunc('month', w.actual_end)::DATE AS month,
                   sum(w.produced_qty * w.hours_per_unit) AS load_hours
            FROM (SELECT pr.*, p.family, p.hours_per_unit FROM production pr JOIN products p USING (sku)) w
            WHERE w.actual_end BETWEEN $start AND $end AND w.actual_end <= $as_of {load_filter}
            GROUP BY ALL
        )
        SELECT {gcols}, coalesce(load.load_hours, 0) AS load_hours, cap.available_hours
        FROM cap LEFT JOIN load USING ({gcols})
    """
    df = _run(con, sql, params)
    if df.empty:
        df = pd.DataFrame(columns=["work_center", "month", "load_hours", "available_hours"])
    if keep:
        g = df.groupby(keep, as_index=False, dropna=False)[["load_hours", "available_hours"]].sum()
    else:
        g = df[["load_hours", "available_hours"]].sum().to_frame().T
    out = g[keep].copy()
    out["capacity_utilisation__num"] = g["load_hours"].astype(float)
    out["capacity_utilisation__den"] = g["available_hours"].astype(float)
    den = out["capacity_utilisation__den"]
    value = out["capacity_utilisation__num"] / den.where(den > 0)
    if not (len(df) and df["load_hours"].sum() > 0):
        value = value * float("nan")  # no finished work orders at all in the range: not a 0% utilisation
    out["capacity_utilisation__value"] = value
    return out


# ---------------------------------------------------------------------------- availability


def data_availability(con) -> dict[tuple[str, str | None], bool]:
    """Which (table, column) pairs the KPIs need actually hold data (non-empty, not all NULL)."""
    from analytics import db

    needed = {n for s in SPECS.values() for n in s.needs}
    needed |= {(t, None) for t, _ in needed}  # an empty table reads as the file it needs (missing_data_reason)
    out = {}
    for table, column in needed:  # table and column are constants from SPECS
        if (table, column) in SUPPLIED_NEEDS:
            rows = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0]  # constants
            out[(table, column)] = bool(rows[0]) and db.column_supplied(con, table, column)
            continue
        if column is None:
            row = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0]  # constants
        else:
            row = con.execute(  # constant identifiers from SPECS
                f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} WHERE {column} IS NOT NULL LIMIT 1)").fetchall()[0]
        out[(table, column)] = bool(row[0])
    return out


def missing_data_reason(spec: KpiSpec, availability: dict) -> str | None:
    missing = [(t, c) for (t, c) in spec.needs if not availability.get((t, c), False)]
    if not missing:
        return None
    # a column of a table that holds no rows at all reads as the file it needs ("a production file")
    missing = [(t, None) if c and availability.get((t, None)) is False else (t, c) for t, c in missing]
    missing = list(dict.fromkeys(missing))
    names = [NEED_WORDS.get((t, c), c) if c else f"{'an' if t[0] in 'aeiou' else 'a'} {t} file"
             for t, c in missing if (t, c) not in SUPPLIED_NEEDS]
    told = [SUPPLIED_NEEDS[m] for m in missing if m in SUPPLIED_NEEDS]
    return "not available: " + "; ".join((["needs " + and_list(names)] if names else []) + told)


def and_list(names: list[str]) -> str:
    """Plain-words list: 'a', 'a and b', 'a, b and c'."""
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def not_applicable_reason(spec: KpiSpec, filters: Filters, by: tuple[str, ...], level: str = "sku") -> str | None:
    bad = [d for d in list(filters.active()) + [b for b in by if b != "month"] if d not in spec.dims]
    if spec.id == "capacity_utilisation":
        bad += [b for b in by if b not in ("month", "work_center")]
    at_family = spec.id in FORECAST_KPIS and level == "family"
    if at_family:
        bad += [b for b in by if b not in ("month", "family")]
    if not bad:
        return None
    labels = ", ".join(sorted({DIM_LABELS[b].lower() for b in bad}))
    return f"not available by {labels}" + (" at family level" if at_family else "")


def default_as_of(con) -> date | None:
    """The latest date on which something happened in the data: the data's as-of date.

    The one date business records are dated by (house rule): forecast runs, consensus overrides, plans,
    scenarios, promise answers and summits take it, never the wall clock (audit timestamps excepted)."""
    row = con.execute(
        """SELECT greatest(
            (SELECT max(order_date) FROM orders), (SELECT max(delivered_date) FROM deliveries),
            (SELECT max(ship_date) FROM deliveries), (SELECT max(snapshot_date) FROM inventory),
            (SELECT max(actual_end) FROM production), (SELECT max(survey_date) FROM surveys))"""
    ).fetchall()
    return row[0][0] if row else None


# ---------------------------------------------------------------------------- public API

_SOURCE_FUNCS = {"inventory": _inventory_source, "forecast": _forecast_source, "capacity": _capacity_source}


def kpi_values(
    con: duckdb.DuckDBPyConnection,
    q: Query,
    kpi_ids: tuple[str, ...] | list[str] = KPI_IDS,
    by: tuple[str, ...] = (),
    availability: dict | None = None,
) -> pd.DataFrame:
    """grain: one row per KPI x group. Columns: kpi, *by, value, numerator, denominator, unit, reason."""
    by = (by,) if isinstance(by, str) else tuple(by)
    if q.level not in FORECAST_LEVELS:
        raise ValueError(f"Unknown forecast accuracy level {q.level!r} (one of {', '.join(FORECAST_LEVELS)}).")
    unknown = [b for b in by if b not in DIM_LABELS] + [k for k in kpi_ids if k not in SPECS]
    if unknown:  # before any SQL: group-by columns and KPI ids are identifiers from these constants
        raise ValueError(f"Unknown KPI or breakdown dimension {unknown[0]!r}.")
    availability = availability if availability is not None else data_availability(con)
    frames, unavailable = [], []
    by_source: dict[str, list[str]] = {}
    for k in kpi_ids:
        spec = SPECS[k]
        reason = missing_data_reason(spec, availability) or not_applicable_reason(spec, q.filters, by, q.level)
        if reason:
            unavailable.append({"kpi": k, "reason": reason})
        else:
            by_source.setdefault(spec.source, []).append(k)
    for source, ids in by_source.items():
        if source in SIMPLE_SOURCES:
            wide = _simple_source(con, source, q, by, ids)
        else:
            wide = _SOURCE_FUNCS[source](con, q, by, ids)
        for k in ids:
            part = wide[list(by)].copy()
            part["kpi"] = k
            part["value"] = pd.to_numeric(wide[f"{k}__value"], errors="coerce").astype(float)
            part["numerator"] = pd.to_numeric(wide[f"{k}__num"], errors="coerce").astype(float)
            part["denominator"] = pd.to_numeric(wide[f"{k}__den"], errors="coerce").astype(float)
            part["reason"] = None
            if part.empty:
                part = pd.DataFrame([{"kpi": k, "value": None, "numerator": None, "denominator": None}])
                for b in by:
                    part[b] = None
            part.loc[part["value"].isna(), "reason"] = EMPTY_REASON[source]
            frames.append(part)
    for u in unavailable:
        row = {"kpi": u["kpi"], "value": None, "numerator": None, "denominator": None, "reason": u["reason"]}
        row.update({b: None for b in by})
        frames.append(pd.DataFrame([row]))
    if not frames:
        return pd.DataFrame(columns=["kpi", *by, "value", "numerator", "denominator", "unit", "reason"])
    df = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    df["unit"] = df["kpi"].map(lambda k: SPECS[k].unit)
    order = {k: i for i, k in enumerate(KPI_IDS)}
    df = df.sort_values(["kpi"], key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    df["value"] = df["value"].astype(float)
    return df[["kpi", *by, "value", "numerator", "denominator", "unit", "reason"]]


def floored_note(kpi_id: str, value, numerator, denominator) -> str | None:
    """What moved when forecast accuracy floors at 0 (the absolute error is at least the demand): the WMAPE
    and the absolute error, so a change is still visible. None otherwise."""
    if kpi_id != "forecast_accuracy" or value is None or pd.isna(value) or value > 0:
        return None
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator) or denominator <= 0:
        return None
    return (f"floored at 0: WMAPE {numerator / denominator:.0%} (absolute error {numerator:,.0f} "
            f"on demand {denominator:,.0f})")


SOURCE_PREFERENCE = ("consensus", "statistical", "sales")


def default_source(con) -> tuple[str | None, str]:
    """The forecast source accuracy is measured on when none is named: consensus if it has a snapshot, else the
    first of statistical, sales, then any other source in the data. (source or None, a sentence saying which)."""
    found = [r[0] for r in con.execute("SELECT DISTINCT source FROM forecasts ORDER BY 1").fetchall()]
    ordered = [s for s in SOURCE_PREFERENCE if s in found] + [s for s in found if s not in SOURCE_PREFERENCE]
    if not ordered:
        return None, "no forecast snapshot in the data (run `python -m analytics forecast --db DB --backfill 6`)"
    if ordered[0] == "consensus":
        return "consensus", "forecast source: consensus"
    return ordered[0], f"forecast source: {ordered[0]} (no consensus snapshot in the data)"


def month_range(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def last_complete_month(as_of: date) -> date:
    """First day of the last calendar month that ended on or before as_of."""
    _, last = month_range(as_of)
    return as_of.replace(day=1) if as_of == last else add_months(as_of.replace(day=1), -1)


def kpi_trend(con, month: date, q_base: Query, kpi_ids=KPI_IDS, n_months: int = 13, availability=None) -> pd.DataFrame:
    """grain: one row per KPI x month for the n_months ending with ``month``."""
    start = add_months(month.replace(day=1), -(n_months - 1))
    _, end = month_range(month)
    q = Query(start, end, q_base.as_of, q_base.filters, q_base.lag, q_base.source, q_base.level)
    return kpi_values(con, q, kpi_ids, by=("month",), availability=availability)


def kpi_breakdown(con, kpi_id: str, q: Query, by: str, availability=None) -> pd.DataFrame:
    """grain: one row per member of ``by`` for one KPI, with the gap each member causes.

    ``miss`` = numerator the member lacks to hit 100% (rates where higher is better: denominator -
    numerator; for other KPIs None). ``share_of_miss`` = miss / total miss: who drives the shortfall.
    """
    df = kpi_values(con, q, (kpi_id,), by=(by,), availability=availability)
    spec = SPECS[kpi_id]
    if spec.unit == RATE and spec.higher_is_better and kpi_id not in ("forecast_accuracy",):
        df["miss"] = df["denominator"] - df["numerator"]
    elif kpi_id == "forecast_accuracy":
        df["miss"] = df["numerator"]  # absolute error units
    else:
        df["miss"] = None
    total = pd.to_numeric(df["miss"], errors="coerce").sum()
    df["share_of_miss"] = pd.to_numeric(df["miss"], errors="coerce") / total if total else None
    sort = "miss" if df["miss"].notna().any() else "denominator"
    return df.sort_values(sort, ascending=False, na_position="last").reset_index(drop=True)


def tracking_signals(con, q: Query, months: int = 6, threshold: float = 4.0) -> pd.DataFrame:
    """grain: one row per SKU. Tracking signal over the ``months`` complete months ending at q.end.

    TS = sum(A - F) / MAD with MAD = mean |A - F| over those months; flagged when |TS| > threshold.
    """
    end_month = q.end.replace(day=1)
    start = add_months(end_month, -(months - 1))
    qq = Query(start, q.end, q.as_of, q.filters, q.lag, q.source)
    pairs = forecast_pairs(con, qq)
    if pairs.empty:
        return pd.DataFrame(columns=["sku", "family", "months", "sum_error", "mad", "tracking_signal", "flag"])
    pairs["err"] = pairs["actual"] - pairs["forecast"]
    pairs["abs_err"] = pairs["err"].abs()
    n_months = pairs["month"].nunique()
    g = pairs.groupby(["sku", "family"], as_index=False).agg(sum_error=("err", "sum"), sum_abs=("abs_err", "sum"))
    g["months"] = n_months  # missing sku-months are (0, 0) pairs and count in the mean
    g["mad"] = g["sum_abs"] / n_months
    g["tracking_signal"] = g["sum_error"] / g["mad"].where(g["mad"] > 0)
    g["flag"] = g["tracking_signal"].abs() > threshold
    return g.drop(columns="sum_abs").sort_values("tracking_signal", key=lambda s: -s.abs()).reset_index(drop=True)


def promise_gap_distribution(con, q: Query) -> pd.DataFrame:
    """grain: one row per gap in days (promised - requested) with the number of lines."""
    params = _params(q)
    filt = _filter_sql(q.filters, ORDER_DIMS, "f", params)
    sql = f"""
        SELECT f.promised_date - f.requested_date AS gap_days, count(*) AS lines
        FROM fact_order_lines f
        WHERE f.promised_date BETWEEN $start AND $end AND f.promised_date <= $as_of
          AND f.requested_date IS NOT NULL {filt}
        GROUP BY 1 ORDER BY 1
    """
    return _run(con, sql, params)


# ---------------------------------------------------------------------------- targets


def targets(con) -> dict[str, tuple[float, float]]:
    """KPI id -> (target, amber tolerance): stored values, else the spec defaults."""
    out = {k: (s.default_target, s.default_tolerance) for k, s in SPECS.items()}
    for kpi, target, tol in con.execute("SELECT kpi, target, amber_tolerance FROM kpi_targets").fetchall():
        if kpi in out:
            out[kpi] = (target, tol)
    return out


def set_targets(writer_con, rows: dict[str, tuple[float, float]], user: str = "local") -> None:
    """Store targets (call inside db.writer)."""
    for kpi, (target, tol) in rows.items():
        if kpi not in SPECS:
            raise ValueError(f"unknown KPI {kpi!r}")
        try:
            target, tol = float(target), float(tol)
        except (TypeError, ValueError):
            raise ValueError(f"{kpi}: the target and the amber tolerance must be numbers") from None
        if not (math.isfinite(target) and math.isfinite(tol)):
            raise ValueError(f"{kpi}: the target and the amber tolerance must be finite numbers")
        if tol < 0:
            raise ValueError(f"{kpi}: the amber tolerance must be zero or positive")
        writer_con.execute(
            "INSERT OR REPLACE INTO kpi_targets VALUES ($k, $t, $a, $u, now())",
            {"k": kpi, "t": float(target), "a": float(tol), "u": user},
        )


@access.requires("targets")
def save_targets(db_path, rows: dict[str, tuple[float, float]]) -> None:
    """Store targets in one write; the audit row keeps the old and new (target, tolerance) of changed KPIs."""
    from analytics import db

    with db.writer(db_path) as con:
        old = targets(con)
        set_targets(con, rows, user=access.current().user.name)
        changed = {k: v for k, v in rows.items() if tuple(old.get(k, (None, None))) != tuple(v)}
        access.note(target=", ".join(sorted(changed)) or "(no change)",
                    before={k: old.get(k) for k in changed}, after=changed)


def traffic_light(spec: KpiSpec, value: float | None, target: float, tolerance: float) -> str:
    """'green' on target, 'amber' within the tolerance band, 'red' beyond it, 'none' without a value,
    'unset' when a higher-is-better KPI has a target of 0 or less (nothing to meet: not green)."""
    if value is None or pd.isna(value) or target is None or pd.isna(target):
        return "none"
    if spec.higher_is_better is True and target <= 0:
        return "unset"
    if spec.higher_is_better is True:
        gap = target - value
    elif spec.higher_is_better is False:
        gap = value - target
    else:
        gap = abs(value - target) - tolerance  # band: green within +-tolerance, amber to +-2x
    if gap <= 1e-12:
        return "green"
    return "amber" if gap <= tolerance + 1e-12 else "red"


# ---------------------------------------------------------------------------- command line


def cli(args) -> int:
    from analytics import db

    con = db.open_reader(args.db)
    as_of = args.as_of or default_as_of(con)
    if as_of is None:
        print("error: the database holds no data; import a folder or build the demo first", file=sys.stderr)
        return 2
    if args.end < args.start:
        print("error: --end is before --start", file=sys.stderr)
        return 2
    filters = Filters.from_lists(
        families=args.family, skus=args.sku, regions=args.region, segments=args.segment,
        customers=args.customer, work_centers=args.work_center,
    )
    source, source_note = (args.source, f"forecast source: {args.source}") if args.source else default_source(con)
    level = getattr(args, "level", "sku") or "sku"
    q = Query(args.start, args.end, as_of, filters, args.lag, source or "consensus", level)
    specs = effective_specs(con)
    avail = data_availability(con)
    df = kpi_values(con, q, availability=avail)
    rows = []
    for rec in df.to_dict("records"):
        if rec["kpi"] == "capacity_utilisation" and rec["value"] is not None and not pd.isna(rec["value"]):
            continue  # replaced by one object per work center below
        rows.append(_json_row(rec))
        if rec["kpi"] in FORECAST_KPIS:
            rows[-1] |= {"source": q.source, "level": level}
            note = floored_note(rec["kpi"], rec["value"], rec["numerator"], rec["denominator"])
            if note:
                rows[-1]["note"] = note
    per_wc = kpi_values(con, q, ("capacity_utilisation",), by=("work_center",), availability=avail)
    if per_wc["value"].notna().any():
        for rec in per_wc.to_dict("records"):
            rows.append(_json_row(rec) | {"work_center": rec["work_center"]})
    if args.json:
        print(source_note, file=sys.stderr)
        print(json.dumps(rows, indent=2, default=str))
    else:
        print(f"KPIs {args.start} .. {args.end} (as of {as_of}; {filters.describe()}; {source_note}; "
              f"forecast accuracy at {forecast_level_label(level)})")
        for r in rows:
            spec = specs[r["kpi"]]
            label = spec.label + (f" [{r['work_center']}]" if r.get("work_center") else "")
            label += f" ({forecast_level_label(level)})" if r["kpi"] in FORECAST_KPIS else ""
            if r["value"] is None:
                print(f"{label:<50} {r['reason']}")
                continue
            num = "" if r["numerator"] is None else f"{r['numerator']:,.2f}"
            den = "" if r["denominator"] is None else f"{r['denominator']:,.2f}"
            print(f"{label:<50} {format_value(spec, r['value']):>12}   {num:>16} / {den:<16}"
                  + (f"  {r['note']}" if r.get("note") else ""))
    return 0


def _json_row(rec: dict) -> dict:
    def clean(v):
        return None if v is None or (isinstance(v, float) and pd.isna(v)) else float(v)

    out = {
        "kpi": rec["kpi"], "value": clean(rec["value"]), "numerator": clean(rec["numerator"]),
        "denominator": clean(rec["denominator"]), "unit": rec["unit"],
    }
    if out["value"] is None:
        out["reason"] = rec.get("reason") or "no data"
    return out
