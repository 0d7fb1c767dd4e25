"""Sales and production, one team: how late production lets sales promise, and whether the promises hold.

Both trends use the population of the scorecard's promise KPIs: order lines whose promised_date falls in the
month and on or before the as-of date, by the product's family. Over all families a month's values equal the
``promise_gap_mean_days`` and ``otif_to_promise`` KPIs of that month.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics import kpis

GAP_COLUMNS = ["month", "family", "lines", "gap_days_sum", "mean_gap_days", "lines_promised_late",
               "share_promised_late"]
KEPT_COLUMNS = ["month", "family", "lines", "lines_kept", "kept_rate"]


def _window(con, months: int, as_of: date | None) -> tuple[date, date]:
    as_of = as_of or kpis.default_as_of(con)
    if as_of is None:
        raise ValueError("The database holds no data: import a folder or build the demo first.")
    if int(months) < 1:
        raise ValueError("months must be at least 1")
    return kpis.add_months(as_of.replace(day=1), -(int(months) - 1)), as_of


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df


def promise_gap_trend(con, months: int = 13, as_of: date | None = None) -> pd.DataFrame:
    """How much later than the customer asked production lets sales promise, per month and family.

    grain: one row per month x family (the ``months`` months ending with the as-of month; as_of None = the
    data's latest date). Lines: promised_date in the month, on or before as-of, with a requested_date.
    Columns: month, family, lines, gap_days_sum (sum of promised - requested days), mean_gap_days,
    lines_promised_late (promised after requested), share_promised_late.
    """
    start, as_of = _window(con, months, as_of)
    df = con.execute(
        """-- grain: one row per promised month x family
        SELECT date_trunc('month', f.promised_date)::DATE AS month, f.family, count(*) AS lines,
               sum(f.promised_date - f.requested_date)::DOUBLE AS gap_days_sum,
               avg(f.promised_date - f.requested_date)::DOUBLE AS mean_gap_days,
               count(*) FILTER (WHERE f.promised_date > f.requested_date) AS lines_promised_late,
               count(*) FILTER (WHERE f.promised_date > f.requested_date) / count(*) AS share_promised_late
        FROM fact_order_lines f
        WHERE f.promised_date BETWEEN $start AND $as_of AND f.requested_date IS NOT NULL
        GROUP BY ALL ORDER BY month, family""",
        {"start": start, "as_of": as_of}).df()
    return _dates(df)[GAP_COLUMNS]


def promise_kept_rate(con, months: int = 13, as_of: date | None = None) -> pd.DataFrame:
    """Production meeting sales' promises: the share of promised lines delivered in full by the promised date.

    grain: one row per month x family (window as :func:`promise_gap_trend`). Lines: promised_date in the
    month and on or before as-of. Columns: month, family, lines, lines_kept (quantity delivered by the
    promised date >= ordered quantity), kept_rate (= the otif_to_promise KPI by month and family).
    """
    start, as_of = _window(con, months, as_of)
    df = con.execute(
        """-- grain: one row per promised month x family
        SELECT date_trunc('month', f.promised_date)::DATE AS month, f.family, count(*) AS lines,
               count(*) FILTER (WHERE f.qty_by_promised >= f.quantity) AS lines_kept,
               count(*) FILTER (WHERE f.qty_by_promised >= f.quantity) / count(*) AS kept_rate
        FROM fact_order_lines f
        WHERE f.promised_date BETWEEN $start AND $as_of
        GROUP BY ALL ORDER BY month, family""",
        {"start": start, "as_of": as_of}).df()
    return _dates(df)[KEPT_COLUMNS]
