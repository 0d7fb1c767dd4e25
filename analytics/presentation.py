"""The one presentation layer for tables: each machine column's human label, unit and format kind.

Like dbt's column ``meta`` or a semantic layer: analytics frames keep machine names (``money_impact``,
``fill_rate``) and full precision; every table a person sees (the pages through ``ui.tables.show_table``, the
summit screen, the HTML and Excel packs) reads its header and number format from here, so the same column reads
the same everywhere. CSV downloads keep the machine names.

Format kinds (the value as stored -> as shown; the same rules as the KPI tiles, ``kpis.format_value``):

- ``percent``: a fraction 0-1 -> ``72.9%`` (one decimal, like the tiles)
- ``pts``: a change of a fraction -> ``+2.5 pts``
- ``money``: currency amounts -> ``3,056,167``, negatives in brackets ``(50,076)`` (accounting style)
- ``units``: product units, whole -> ``1,234`` (units of a discrete product are whole)
- ``count``: a count of things (orders, rows, requests) -> ``1,234``
- ``days`` / ``hours`` / ``decimal``: ``12.3`` (one decimal unless the column says otherwise), the unit in the header
- ``score``: a signed whole score such as NPS -> ``+12``, ``0``, ``-5`` (no sign on zero)
- ``date`` ``2026-10-31``, ``month`` ``Oct 2026``, ``datetime`` ``2026-10-31 14:05``, ``bool`` yes/no, ``text``

No streamlit here (analytics never imports it): ``ui.tables`` turns a kind into a ``st.column_config``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

PERCENT, PTS, MONEY, UNITS, COUNT = "percent", "pts", "money", "units", "count"
DAYS, HOURS, DECIMAL, SCORE = "days", "hours", "decimal", "score"
DATE, MONTH, DATETIME, BOOL, TEXT = "date", "month", "datetime", "bool", "text"
KINDS = (PERCENT, PTS, MONEY, UNITS, COUNT, DAYS, HOURS, DECIMAL, SCORE, DATE, MONTH, DATETIME, BOOL, TEXT)
NUMERIC_KINDS = frozenset({PERCENT, PTS, MONEY, UNITS, COUNT, DAYS, HOURS, DECIMAL, SCORE})
DATE_KINDS = frozenset({"date", "month", "datetime"})
WHOLE_KINDS = frozenset({MONEY, UNITS, COUNT, SCORE})
UNIT_WORDS = {DAYS: "days", HOURS: "h"}  # shown in the header; the other kinds show their unit in the cell

MISSING = "–"


@dataclass(frozen=True)
class Column:
    """How one machine column is shown: ``label`` (without the unit), ``kind`` (see the module docstring),
    ``unit`` (a word added to the header, e.g. 'h', 'days'; default from the kind), ``decimals`` (for
    days, hours and decimal columns; default 1) and ``help`` (a tooltip on screen)."""

    label: str
    kind: str = TEXT
    unit: str | None = None
    decimals: int | None = None
    help: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown format kind {self.kind!r}; one of {KINDS}")

    @property
    def header(self) -> str:
        """The label with its unit, e.g. 'Load (h)'; the label alone when the cell shows the unit."""
        unit = self.unit if self.unit is not None else UNIT_WORDS.get(self.kind)
        return f"{self.label} ({unit})" if unit else self.label

    @property
    def places(self) -> int:
        """Decimal places shown (percent: of the percentage)."""
        if self.kind == MONEY and self.decimals:
            return self.decimals  # e.g. unit prices
        if self.kind in WHOLE_KINDS:
            return 0
        return 1 if self.decimals is None else self.decimals


def C(label: str, kind: str = TEXT, **kw) -> Column:  # noqa: N802 - short constructor for the registry below
    return Column(label, kind, **kw)


# Every machine column a person may see, by name. A page that shows the same name with another meaning
# (e.g. 'value' of a KPI breakdown) passes an override (``columns={...}`` / ``kinds={...}``).
COLUMNS: dict[str, Column] = {
    # keys and dimensions
    "sku": C("SKU"),
    "family": C("Family"),
    "region": C("Region"),
    "segment": C("Segment"),
    "customer_id": C("Customer"),
    "customer": C("Customer"),
    "work_center": C("Work center"),
    "order_id": C("Order"),
    "line_id": C("Line"),
    "unique_id": C("Series"),
    "product_name": C("Product"),
    "name": C("Name"),
    "description": C("Description"),
    "title": C("Title"),
    "label": C("Label"),
    "kpi": C("KPI"),
    "dimension": C("Dimension"),
    "member": C("Member"),
    "driver": C("Driver"),
    "level": C("Level"),
    "key": C("Key"),
    "source": C("Source"),
    "kind": C("Kind"),
    "status": C("Status"),
    "side": C("Side"),
    "strategy": C("Strategy"),
    "author": C("Author"),
    "owner": C("Owner"),
    "user": C("User"),
    "created_by": C("Created by"),
    "by": C("By"),
    "reason": C("Note"), "base_sources": C("Based on"),
    "reasons": C("Reasons"),
    "note": C("Note"),
    "notes": C("Notes"),
    "last_note": C("Last note"),
    "text": C("Text"),
    "detail": C("Detail"),
    "subject": C("Subject"),
    "direction": C("Direction"),
    "impact_basis": C("How the money impact is computed"),
    "top_contributors": C("Top SKUs"),
    "source_detail": C("From exception"),
    "model": C("Model"),
    "demand_class": C("Demand class"),
    "verdict": C("Verdict"),
    "step": C("Step"),
    "check": C("Check"),
    "table": C("Table"),
    "file": C("File"),
    "column": C("Column"),
    "problem": C("Problem"),
    "message": C("Message"),
    "action": C("Action"),
    "role": C("Role"),
    "unit": C("Unit"),
    "light": C("Light"),
    "plan": C("Plan"),
    "scenario": C("Scenario"),
    "exception_key": C("Exception"),
    "event": C("Event"),
    "what": C("What"),
    "mode": C("Mode"),
    "base_source": C("Started from"),
    "start_from": C("Started from"),
    # ids and ranks (whole numbers)
    "rank": C("#", COUNT),
    "position": C("#", COUNT),
    "action_id": C("Action #", COUNT),
    "decision_id": C("Decision #", COUNT),
    "summit_id": C("Summit #", COUNT),
    "run_id": C("Run #", COUNT),
    "plan_id": C("Plan #", COUNT),
    "scenario_id": C("Scenario #", COUNT),
    "request_id": C("Request #", COUNT),
    "override_id": C("Override #", COUNT),
    "row": C("Row", COUNT),
    "rows": C("Rows", COUNT),
    "count": C("Count", COUNT),
    "n": C("Count", COUNT),
    "lag": C("Lag (months)", COUNT),
    "horizon": C("Horizon (months)", COUNT),
    "n_series": C("Series", COUNT),
    "n_failed": C("Failed", COUNT),
    "series": C("Series", COUNT),
    "cells": C("Cells changed", COUNT),
    "override_cells": C("Overrides", COUNT),
    "requests": C("Requests", COUNT),
    "open": C("Open", COUNT),
    "accepted": C("Accepted", COUNT),
    "proposed": C("Proposed", COUNT),
    "declined": C("Declined", COUNT),
    "responses": C("Answers", COUNT),
    "orders": C("Orders", COUNT),
    "lines": C("Lines", COUNT),
    "skus": C("SKUs", COUNT),
    "months": C("Months", COUNT),
    "n_months": C("Months", COUNT),
    "origins": C("Backtest origins", COUNT),
    "windows": C("Backtest windows", COUNT),
    "score": C("Score", SCORE),
    "nps": C("NPS", SCORE),
    # dates
    "date": C("Date", DATE),
    "due": C("Due", DATE),
    "as_of": C("Data as of", DATE),
    "snapshot_date": C("Snapshot", DATE),
    "order_date": C("Order date", DATE),
    "promised_date": C("Promised", DATE),
    "requested_date": C("Requested", DATE),
    "delivery_date": C("Delivered", DATE),
    "earliest_date": C("Earliest date", DATE),
    "answer_date": C("Answer date", DATE),
    "first_period": C("First month", MONTH),
    "period": C("Month", MONTH),
    "month": C("Month", MONTH),
    "summit_month": C("From the summit of", MONTH),
    "cutoff": C("Backtest cut-off", MONTH),
    "ds": C("Month", MONTH),
    "created_at": C("Created (UTC)", DATETIME),
    "updated_at": C("Updated (UTC)", DATETIME),
    "saved_at": C("Saved (UTC)", DATETIME),
    "at": C("When (UTC)", DATETIME),
    "ts": C("When (UTC)", DATETIME),
    # yes / no
    "overdue": C("Overdue", BOOL),
    "recommended": C("Recommended", BOOL),
    "chosen": C("Chosen", BOOL),
    "overloaded": C("Overloaded", BOOL),
    "flag": C("Flagged", BOOL),
    "tile": C("On a tile", BOOL),
    "below_safety_stock": C("Below safety stock", BOOL),
    "active": C("Active", BOOL),
    "feasible": C("Feasible", BOOL),
    # shares (fractions 0-1 shown as %)
    "fill_rate": C("Fill rate", PERCENT),
    "accuracy": C("Accuracy", PERCENT),
    "bias": C("Bias", PERCENT),
    "fva": C("Value added", PTS, help="Accuracy minus the step before's, in percentage points"),
    "wmape": C("WMAPE", PERCENT, help="Weighted mean absolute percentage error"),
    "smape": C("sMAPE", PERCENT, help="Symmetric mean absolute percentage error"),
    "mape": C("MAPE", PERCENT),
    "change_pct": C("Change", PERCENT),
    "utilisation": C("Load", PERCENT),
    "capacity_utilisation": C("Capacity utilisation", PERCENT),
    "share": C("Share", PERCENT),
    "share_of_miss": C("Share of the miss", PERCENT),
    "driver_share": C("Share of the shortfall", PERCENT),
    "kept_rate": C("Promises kept", PERCENT),
    "otif": C("OTIF", PERCENT),
    "service_level": C("Service level", PERCENT),
    "coverage_80": C("80% interval coverage", PERCENT),
    "coverage_95": C("95% interval coverage", PERCENT),
    "weight": C("Weight", PERCENT),
    "pct": C("Change", PERCENT),
    "margin_pct": C("Margin", PERCENT),
    # money
    "money_impact": C("Money impact", MONEY), "average_inventory_value": C("Average inventory value", MONEY),
    "max_work_center_utilisation": C("Highest work-center load", PERCENT), "measure": C("Measure"),
    "months_differing": C("Months that differ", COUNT),
    "revenue": C("Revenue", MONEY),
    "budget": C("Budget", MONEY),
    "total_cost": C("Total cost", MONEY),
    "cost": C("Cost", MONEY),
    "value_short": C("Value short", MONEY),
    "gap_value": C("Supply - demand (money)", MONEY),
    "gap_revenue": C("Revenue - budget", MONEY),
    "margin": C("Margin", MONEY),
    "inventory_value": C("Inventory value", MONEY),
    "price": C("Price", MONEY),
    "unit_price": C("Unit price", MONEY, decimals=2),
    "unit_cost": C("Unit cost", MONEY, decimals=2),
    "holding_cost": C("Holding cost", MONEY),
    "overtime_cost": C("Overtime cost", MONEY),
    "lost_sales_value": C("Lost sales (money)", MONEY),
    "revenue_at_risk": C("Revenue at risk", MONEY),
    # product units (whole)
    "quantity": C("Units", UNITS),
    "actual": C("Actual units", UNITS),
    "forecast": C("Forecast units", UNITS),
    "consensus": C("Consensus units", UNITS),
    "statistical": C("Statistical units", UNITS),
    "previous_consensus": C("Previous consensus", UNITS),
    "change": C("Change (units)", UNITS),
    "mean": C("Forecast units", UNITS),
    "lo_80": C("Low 80%", UNITS),
    "hi_80": C("High 80%", UNITS),
    "lo_95": C("Low 95%", UNITS),
    "hi_95": C("High 95%", UNITS),
    "demand": C("Demand units", UNITS),
    "production": C("Production units", UNITS),
    "production_units": C("Production units", UNITS),
    "projected_inventory": C("Projected inventory", UNITS),
    "inventory": C("Inventory units", UNITS),
    "safety_stock": C("Safety stock", UNITS),
    "safety_stock_units": C("Safety stock", UNITS),
    "units_short": C("Units short", UNITS),
    "gap_units": C("Supply - demand (units)", UNITS),
    "before": C("Before (units)", UNITS),
    "after": C("After (units)", UNITS),
    "new": C("New (units)", UNITS),
    "old": C("Old (units)", UNITS),
    "atp": C(
        "Available to promise", UNITS, help="What can still be promised in this month without breaking a later "
        "commitment: the lowest cumulative net from this month on, never below 0 (0 when a later month needs "
        "this month's stock)"),
    "cumulative_atp": C("Cumulative ATP", UNITS),
    "on_hand": C("On hand", UNITS),
    "ordered": C("Ordered units", UNITS),
    "delivered": C("Delivered units", UNITS),
    "shipped": C("Shipped units", UNITS),
    "backlog": C("Backlog units", UNITS),
    "lost_sales": C("Lost sales (units)", UNITS),
    "total_change": C("Total change (units)", UNITS),
    "units": C("Units", UNITS),
    # errors measured in units (one decimal: averages of units)
    "mad": C("MAD (units)", DECIMAL, help="Mean absolute deviation of the forecast, in units"),
    "mae": C("MAE (units)", DECIMAL),
    "rmse": C("RMSE (units)", DECIMAL),
    "mase": C("MASE", DECIMAL, decimals=2),
    "tracking_signal": C("Tracking signal", DECIMAL),
    "cum_error": C("Sum of errors (units)", DECIMAL, decimals=0),
    "sum_error": C("Sum of errors (units)", DECIMAL, decimals=0),
    # time
    "load_hours": C("Load", HOURS),
    "available_hours": C("Available", HOURS),
    "hours": C("Hours", HOURS),
    "overtime_hours": C("Overtime", HOURS),
    "capacity_hours": C("Capacity", HOURS),
    "median_hours_to_answer": C("Median time to answer", HOURS),
    "seconds": C("Run time", DECIMAL, unit="s"),
    "mean_gap_days": C("Mean promise gap", DAYS),
    "gap_days": C("Promise gap", DAYS),
    "lead_time_days": C("Lead time", DAYS),
    "days": C("Days", DAYS),
    "cycle_time_days": C("Cycle time", DAYS),
    "average_score": C("Average score", DECIMAL),
    # KPI values without a fixed kind (the caller says which KPI: ``kpi_column``)
    "numerator": C("Numerator", DECIMAL),
    "previous_numerator": C("Previous step's absolute error (units)", UNITS),  # FVA: Σ|F − A| of the step before
    "denominator": C("Denominator", DECIMAL),
    "miss": C("Miss", DECIMAL),
    "value": C("Value", DECIMAL),
    "target": C("Target", DECIMAL),
    "tolerance": C("Amber band", DECIMAL),
    "prev_value": C("Month before", DECIMAL),
    "last_year": C("Last year", DECIMAL),
    "delta_prev": C("Change", DECIMAL),
    "delta_year": C("vs last year", DECIMAL),
    # forecasting
    "lo80": C("Low 80%", UNITS), "hi80": C("High 80%", UNITS), "lo95": C("Low 95%", UNITS),
    "hi95": C("High 95%", UNITS), "error_sigma_lag1": C("Error σ, 1 month ahead (units)", DECIMAL),
    "error": C("Error (units)", UNITS), "abs_error": C("Absolute error (units)", UNITS),
    "previous_step": C("Compared with"), "sku_months": C("SKU-months", COUNT), "cutoff_period": C("Backtest from", MONTH),
    "base_qty": C("Before (units)", UNITS), "new_qty": C("After (units)", UNITS),
    "target_base_qty": C("Before, whole target (units)", UNITS), "input_value": C("Entered", DECIMAL, decimals=1),
    "spread": C("Spread"), "base_snapshot_date": C("Base snapshot", DATE),
    "override_change": C("Override change (units)", UNITS), "consensus_snapshot": C("Consensus of", DATE),
    "previous_snapshot": C("Previous consensus of", DATE), "first_month": C("First month", MONTH),
    "last_month": C("Last month", MONTH), "change_text": C("Change"),
    # supply
    "supply": C("Supply units", UNITS), "shortfall": C("Shortfall (units)", UNITS), "days_of_supply": C("Cover", DAYS),
    "overtime_allowed_hours": C("Overtime allowed", HOURS), "overtime_needed_hours": C("Overtime needed", HOURS),
    "planned_overtime_hours": C("Planned overtime", HOURS), "beyond_overtime": C("Beyond overtime", BOOL),
    # the summit's overload story: demand as it falls due (chase plan) against the plan shown
    "demand_load_hours": C("Load of demand as it falls due", HOURS), "demand_utilisation": C("Demand load", PERCENT),
    "demand_overloaded": C("Demand overloads", BOOL), "plan_load_hours": C("Plan load", HOURS),
    "plan_utilisation": C("Plan load", PERCENT), "plan_overloaded": C("Plan overloads", BOOL),
    "capacity_source": C("Capacity from"), "units_below_safety_stock": C("Units below safety stock", UNITS),
    "demand_value": C("Demand (money)", MONEY), "supply_value": C("Supply (money)", MONEY), "basis": C("Basis"),
    "budget_units": C("Budget units", UNITS), "budget_revenue": C("Budget revenue", MONEY),
    "gap_pct": C("Gap", PERCENT), "demand_source": C("Demand from"), "open_receipts": C("Open receipts", UNITS),
    "excess_hours": C("Excess", HOURS), "fix": C("Fix"), "covers_hours": C("Covers", HOURS),
    "remaining_hours": C("Still over", HOURS), "load": C("Load", HOURS),
    # promise and requests
    "lines_kept": C("Lines kept", COUNT), "lines_promised_late": C("Lines promised late", COUNT),
    "share_promised_late": C("Promised late", PERCENT), "gap_days_sum": C("Sum of promise gaps", DAYS),
    "answered": C("Answered", COUNT), "mean_hours_to_answer": C("Mean time to answer", HOURS),
    "requested_by": C("Requested by"), "partial_qty_now": C("Available now (units)", UNITS),
    "rest_by_date": C("Rest by", DATE), "latest_acceptable_date": C("Latest acceptable", DATE),
    "quoted_price": C("Quoted price", MONEY, decimals=2), "atp_summary": C("Availability"),
    "answer_note": C("Answer"), "answered_by": C("Answered by"), "answered_at": C("Answered (UTC)", DATETIME),
    "proposed_date": C("Proposed date", DATE), "proposed_qty": C("Proposed units", UNITS),
    "hours_to_answer": C("Time to answer", HOURS), "available": C("Available (units)", UNITS),
    "committed": C("Committed (units)", UNITS, help="Demand this month's supply is committed to: the forecast "
                   "and the orders on the books (only the orders when the order consumes the forecast)"),
    "cumulative_net": C("Cumulative net (units)", UNITS,
                        help="Supply minus commitments, added up month by month from now"),
    "limited_by": C("Limited by", MONTH, help="The month whose cumulative net is the lowest from this month on: "
                    "it sets the available to promise"),
    "option": C("Option"), "spare_hours": C("Spare", HOURS), "flexibility": C("Flexibility"),
    "cumulative": C("Cumulative (units)", UNITS), "net": C("Net (units)", UNITS),
    # summit
    "summit_title": C("Summit"), "source_exception": C("From exception"), "updated_by": C("Updated by"),
    "gap": C("Gap", DECIMAL), "gap_in_tolerances": C("Gap (amber bands)", DECIMAL), "driver_value": C("Driver's value", DECIMAL),
    "driver_miss": C("Driver's miss", DECIMAL, decimals=0), "explanation": C("Explanation"),
    # inventory policy and plans
    "abc": C("ABC"), "xyz": C("XYZ"), "service_level_source": C("Service level from"), "z": C("z", DECIMAL, decimals=2),
    "sigma": C("σ of the forecast error (units)", DECIMAL), "sigma_source": C("σ from"),
    "sigma_months": C("σ over (months)", COUNT), "lead_time_months": C("Lead time (months)", DECIMAL, decimals=2),
    "lead_time_source": C("Lead time from"), "mean_monthly_demand": C("Mean monthly demand (units)", DECIMAL),
    "reorder_point": C("Reorder point", UNITS), "money_tied_up": C("Money tied up", MONEY), "formula": C("Formula"),
    "version": C("Version", COUNT), "production_cost": C("Production cost", MONEY),
    "backorder_cost": C("Backorder cost", MONEY), "shortfall_cost": C("Shortfall cost", MONEY),
    # admin and data audit
    "audit_id": C("#", COUNT), "logged_at": C("When (UTC)", DATETIME), "user_name": C("User"),
    "before_json": C("Before"), "after_json": C("After"), "details_json": C("Details"), "status_text": C("Status"),
}

_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def is_machine_name(header) -> bool:
    """True for a header that reads like a machine name: snake_case (``money_impact``) or a bare lower-case
    identifier that the registry knows (``mad``, ``fva``)."""
    text = str(header)
    return bool(_SNAKE.match(text)) or (text in COLUMNS and COLUMNS[text].header != text)


def humanize(name: str) -> str:
    """A label for a column the registry does not know: 'days_late' -> 'Days late'."""
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else str(name)


def infer_kind(series: pd.Series) -> str:
    """The kind of a column the registry does not know, from its type (floats get one decimal)."""
    if pd.api.types.is_bool_dtype(series):
        return BOOL
    if pd.api.types.is_integer_dtype(series):
        return COUNT
    if pd.api.types.is_float_dtype(series):
        return DECIMAL
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATE
    sample = series.dropna()
    if len(sample):
        first = sample.iloc[0]
        if isinstance(first, datetime):
            return DATETIME
        if isinstance(first, date):
            return DATE
    return TEXT


def column(name: str, series: pd.Series | None = None) -> Column:
    """The registry's entry for ``name``, or one made up from the name and the data's type."""
    if name in COLUMNS:
        return COLUMNS[name]
    return Column(humanize(name), infer_kind(series) if series is not None else TEXT)


def label(name: str) -> str:
    """The human header of a machine column (with its unit)."""
    return column(name).header


KPI_UNIT_KINDS = {"rate": PERCENT, "days": DAYS, "turns": DECIMAL, "points": SCORE}


def kpi_kind(spec) -> str:
    """The format kind of a KPI's values (``kpis.KpiSpec.unit``): rates as %, days, turns, NPS points."""
    return KPI_UNIT_KINDS.get(spec.unit, DECIMAL)


def kpi_columns(spec) -> dict[str, Column]:
    """Overrides for a frame of one KPI's values (a drill-down, a trend): 'value' is labelled with the KPI
    ('OTIF to promise') and, with target, prev_value and last_year, reads in the KPI's own unit; numerator,
    denominator and miss are whole, with the KPI's own words as their tooltip."""
    kind = kpi_kind(spec)
    unit = "turns/yr" if spec.unit == "turns" else None
    out = {n: replace(COLUMNS[n], kind=kind, unit=unit) for n in ("target", "prev_value", "last_year")}
    out["value"] = Column(spec.label, kind, unit=unit)
    out["numerator"] = Column("Numerator", DECIMAL, decimals=0, help=spec.numerator)
    out["denominator"] = Column("Denominator", DECIMAL, decimals=0, help=spec.denominator)
    out["miss"] = Column("Miss", DECIMAL, decimals=0, help="What the member lacks to be perfect, in the numerator's unit")
    return out


KPI_VALUE_COLUMNS = ("value", "target", "tolerance", "prev_value", "last_year", "driver_value", "gap")
KPI_DELTA_COLUMNS = ("delta_prev", "delta_year")


def row_kinds(df: pd.DataFrame) -> dict[str, list[str]]:
    """For a frame with one KPI per row (a ``kpi`` column: the scorecard, the misses): the kind of each cell of
    its value columns, which follows the row's KPI (a % next to days). Empty for other frames."""
    if "kpi" not in df.columns:
        return {}
    from analytics import kpis

    specs = [kpis.SPECS.get(k) for k in df["kpi"]]
    if not any(specs):
        return {}
    out = {}
    for col in KPI_VALUE_COLUMNS + KPI_DELTA_COLUMNS:
        if col in df.columns and _numeric(df[col]):
            delta = col in KPI_DELTA_COLUMNS
            out[col] = [(PTS if delta and sp.unit == "rate" else kpi_kind(sp)) if sp else DECIMAL for sp in specs]
    return out


COMPARISON_KINDS = {"money": MONEY, "units": UNITS, "share": PERCENT, "hours": HOURS, "months": COUNT}


def comparison_text(comp: pd.DataFrame, recommended=()) -> pd.DataFrame:
    """Scenarios side by side (``planning.scenarios.compare_scenarios``: one row per KPI, a column per scenario
    and '<name> delta' columns) as people read it: 'KPI' then one text column per scenario, each value formatted
    in its row's unit (rows mix money, units and shares), deltas signed ('+2.5 pts' for shares), the
    recommended scenario marked ★."""
    if comp is None or comp.empty:
        return pd.DataFrame()
    value_cols = [c for c in comp.columns if c not in ("kpi", "label", "unit", "higher_is_better")]
    rows = []
    for rec in comp.to_dict("records"):
        kind = COMPARISON_KINDS.get(rec["unit"], DECIMAL)
        row = {"KPI": rec["label"] + (" (h)" if kind == HOURS else "")}
        for c in value_cols:
            name = str(c)
            if name.endswith(" delta"):  # signed: +4,136 / -11,490 / +2.5 pts; no sign on 0
                scenario = name[: -len(" delta")]
                v = rec[c]
                if kind == PERCENT or _missing(v):
                    text = format_value(v, PTS if kind == PERCENT else kind)
                else:
                    places = 1 if kind == HOURS else 0
                    r = round(float(v), places) + 0.0
                    text = f"{r:+,.{places}f}" if r else f"{0:.{places}f}"
                row[f"{scenario}: change"] = text
            else:
                header = "Baseline" if name == "baseline" else name
                row[header + (" ★ recommended" if name in set(recommended) else "")] = format_value(rec[c], kind)
        rows.append(row)
    return pd.DataFrame(rows)


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(v, kind: str = TEXT, decimals: int | None = None) -> str:
    """A value as a person reads it (``MISSING`` when there is none); same rules as the KPI tiles."""
    if _missing(v):
        return MISSING
    places = decimals if decimals is not None else (0 if kind in WHOLE_KINDS else 1)
    if kind in NUMERIC_KINDS:
        try:
            x = float(v)
        except (TypeError, ValueError):
            return str(v)
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if kind == PERCENT:
            return f"{x * 100:,.{places}f}%"
        if kind == PTS:  # no sign on a change that rounds to zero ('+0.0' reads as a gain), as on the tiles
            r = round(x * 100, places) + 0.0
            return f"{r:+.{places}f} pts" if r else f"{0:.{places}f} pts"
        if kind == MONEY:
            text = f"{abs(x):,.{places}f}"
            return f"({text})" if round(x, places) < 0 else text
        if kind == SCORE:
            r = round(x) + 0
            return f"{r:+d}" if r else "0"
        if kind in (UNITS, COUNT):
            return f"{round(x) + 0:,d}"
        return f"{round(x, places) + 0.0:,.{places}f}"
    if kind in (DATE, MONTH, DATETIME):
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            return str(v)
        return f"{ts:%b %Y}" if kind == MONTH else (f"{ts:%Y-%m-%d %H:%M}" if kind == DATETIME else f"{ts:%Y-%m-%d}")
    if kind == BOOL:
        return "yes" if bool(v) else "no"
    return str(v)


def _numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    values = series.dropna()
    return bool(len(values)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def resolve(df: pd.DataFrame, columns: dict[str, Column | str] | None = None) -> dict[str, Column]:
    """The Column of each of ``df``'s columns: ``columns`` overrides (a Column, or just a kind or a label: a
    kind name changes the kind, any other text the label), then the registry, then the name and type."""
    out = {}
    for name in df.columns:
        base = column(name, df[name])
        over = (columns or {}).get(name)
        if isinstance(over, Column):
            base = over
        elif isinstance(over, str):
            base = replace(base, kind=over) if over in KINDS else replace(base, label=over, unit=base.unit)
        if base.kind in NUMERIC_KINDS and df[name].notna().any() and not _numeric(df[name]):
            base = replace(base, kind=TEXT, unit=None)  # already text (e.g. formatted per row in its own unit)
        out[name] = base
    return out


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def human_frame(
    df: pd.DataFrame,
    columns: dict[str, Column | str] | None = None,
    order: list[str] | None = None,
    drop_empty: bool = False,
) -> tuple[pd.DataFrame, dict[str, Column]]:
    """``df`` ready for people, values unchanged: only ``order`` columns (if given, in that order), optional
    all-empty columns dropped, headers renamed to their human header. Returns the frame and the Column of
    each new header. Whole-number kinds (units, money, counts) are rounded so no raw float reaches a cell;
    date kinds become dates."""
    if order is not None:
        df = df[[c for c in order if c in df.columns]]
    if drop_empty:
        df = df[[c for c in df.columns if not df[c].isna().all()]]
    specs = resolve(df, columns)
    out = df.copy()
    out.attrs = {}
    for name, spec in specs.items():
        s = out[name]
        if spec.kind in NUMERIC_KINDS and not pd.api.types.is_numeric_dtype(s):
            s = out[name] = pd.to_numeric(s, errors="coerce")  # numbers held as objects (None among them)
        if spec.kind in (UNITS, COUNT, SCORE) and pd.api.types.is_float_dtype(s):
            out[name] = s.round(0).astype("Int64") if s.notna().any() else s
        elif spec.kind in (DATE, MONTH) and not pd.api.types.is_datetime64_any_dtype(s):
            try:
                out[name] = pd.to_datetime(s)
            except (TypeError, ValueError):
                pass
        elif spec.kind == TEXT and s.dtype == object:
            out[name] = s.map(lambda v: "" if _missing(v) else v)
    headers = _unique([specs[n].header for n in out.columns])
    mapping = dict(zip(out.columns, headers))
    out.columns = headers
    return out, {mapping[n]: specs[n] for n in specs}


def text_frame(
    df: pd.DataFrame,
    columns: dict[str, Column | str] | None = None,
    order: list[str] | None = None,
    drop_empty: bool = False,
) -> pd.DataFrame:
    """``human_frame`` with every cell formatted as text (``format_value``): for st.table and HTML."""
    out, specs = human_frame(df, columns, order, drop_empty)
    for h, spec in specs.items():
        out[h] = [format_value(v, spec.kind, spec.places if spec.kind not in WHOLE_KINDS else None) for v in out[h]]
    return out.astype(object)


# Excel number formats per kind (the workbook keeps the numbers; only their look is set).
EXCEL_FORMATS = {
    PERCENT: "0.0%",
    PTS: "+0.0%;-0.0%;0.0%",
    MONEY: "#,##0;(#,##0)",
    UNITS: "#,##0",
    COUNT: "#,##0",
    SCORE: "+0;-0;0",
    DAYS: "#,##0.0",
    HOURS: "#,##0.0",
    DECIMAL: "#,##0.0",
    DATE: "yyyy-mm-dd",
    MONTH: "mmm yyyy",
    DATETIME: "yyyy-mm-dd hh:mm",
}


def excel_format(spec: Column) -> str | None:
    """The Excel number format of a Column (decimals honoured), None for text and yes/no."""
    fmt = EXCEL_FORMATS.get(spec.kind)
    if fmt and spec.kind in (DAYS, HOURS, DECIMAL) and spec.places != 1:
        fmt = "#,##0" + ("." + "0" * spec.places if spec.places else "")
    if spec.kind == MONEY and spec.places:
        body = "#,##0." + "0" * spec.places
        fmt = f"{body};({body})"
    return fmt
