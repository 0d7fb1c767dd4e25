"""Small shared pieces of the planning package: the error type, month and date helpers."""

from __future__ import annotations

import calendar
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from analytics.dates import as_date as _as_date
from analytics.kpis import add_months

DAYS_PER_MONTH = 365.25 / 12  # 30.4375: converts day durations (lead times) to months
MAX_HORIZON = 36
#: What a supply plan can be cut by: it is made per product (SKU, its family and work center), never per customer,
#: so the region, segment and customer filters cannot apply to it.
PLAN_DIMS = ("family", "sku", "work_center")


class PlanningError(ValueError):
    """A planning setting or input that cannot give a plan, with a message that says what to change."""


def as_date(value) -> date:
    """date, datetime, pandas Timestamp or ISO text -> date (PlanningError otherwise)."""
    return _as_date(value, error=PlanningError)


def month_start(value) -> date:
    return as_date(value).replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def days_in_month(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def plan_months(as_of: date, horizon: int) -> tuple[date, ...]:
    """The plan's months: ``horizon`` first-of-month dates starting the month after the as-of date."""
    if not isinstance(horizon, int | np.integer) or not 1 <= int(horizon) <= MAX_HORIZON:
        raise PlanningError(f"The horizon must be a whole number of months from 1 to {MAX_HORIZON}, not {horizon!r}.")
    first = add_months(as_date(as_of).replace(day=1), 1)
    return tuple(add_months(first, i) for i in range(int(horizon)))


def ts(d) -> pd.Timestamp:
    return pd.Timestamp(as_date(d))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(  # grain: one row (does the table exist in the current database)
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = $t",
        {"t": name},
    ).fetchall()
    return bool(rows[0][0])


def check_non_negative(name: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PlanningError(f"{name} must be a number, not {value!r}.") from None
    if not np.isfinite(v) or v < 0:
        raise PlanningError(f"{name} must be zero or positive (got {value!r}); costs and limits cannot be negative.")
