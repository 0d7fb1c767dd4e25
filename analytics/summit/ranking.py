"""The summit's exceptions list, ranked by money impact.

Each exception says how its money impact is computed (column ``impact_basis``):

* KPI off target (a tile KPI whose light is amber or red in the month):
    - order-line KPIs (OTIF to promise / request, perfect order rate, order accuracy): missed lines
      (denominator - numerator) x the average line value (quantity x unit price) of the KPI's population;
    - plan adherence: units not produced on the work orders due in the month x unit cost;
    - forecast accuracy: sum over SKUs of |F - A| x unit cost (lag 1, consensus, as the KPI);
    - forecast bias: |sum over SKUs of (F - A) x unit cost|;
    - inventory turns / days of inventory: the average inventory value above what the target allows
      (turns: average inventory - COGS x 365 / (days x target); days: average inventory - target x COGS / days);
    - the others (cycle times, capacity utilisation, NPS, promise gap) have no money measure: impact NaN,
      ranked after every priced exception.
* persistent bias: SKUs with |tracking signal| > 4 over the 6 months ending with the month
  (``demand.bias_exceptions``): |sum of errors| x unit price.
* projected stockout: per SKU over the plan's first 6 months, units short = sum over months of
  min(demand, backorder) (demand not shipped in its month, each unit once) x unit price.
* overloaded work center: per work center over the plan's first 6 months, hours above the available hours
  x the plan's overtime cost per hour.
* late deliveries: customers with at least 3 lines promised in the last 3 months (ending with the month, on
  or before the as-of date) that were not delivered in full by the promised date: value of those lines.

Rank: money impact, largest first (NaN last), then the kind (in the order above), then the subject.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics import demand, kpis
from analytics.kpis import Query
from analytics.planning import Plan, capacity_load
from analytics.summit.content import REVIEW_MONTHS, _first_months, scorecard_frames

EXCEPTION_COLUMNS = ["kind", "subject", "detail", "money_impact", "impact_basis", "rank", "exception_key"]
KINDS = ("KPI off target", "persistent bias", "projected stockout", "overloaded work center", "late deliveries")
LINE_KPIS = ("otif_to_promise", "otif_to_request", "perfect_order_rate", "order_accuracy")
BIAS_THRESHOLD = 4.0
LATE_MONTHS = 3
MIN_LATE_LINES = 3


def _row(kind, subject, detail, money, basis, key) -> dict:
    return {"kind": kind, "subject": subject, "detail": detail,
            "money_impact": float(money) if money is not None and pd.notna(money) else np.nan,
            "impact_basis": basis, "exception_key": key}


def _line_population(con, source: str, q: Query) -> tuple[int, float]:
    """(lines, value) of an order-line KPI's population: value = sum quantity x unit price."""
    where = kpis.SIMPLE_SOURCES[source]["where"]  # a constant of kpis, with $start / $end / $as_of
    row = con.execute(
        f"""-- grain: one row: the KPI population's lines and their value
        SELECT count(*), coalesce(sum(f.quantity * coalesce(f.unit_price, p.unit_price)), 0)
        FROM fact_order_lines f LEFT JOIN products p USING (sku) WHERE {where}""",
        {"start": q.start, "end": q.end, "as_of": q.as_of}).fetchall()[0]
    return int(row[0]), float(row[1])


def _kpi_impact(con, spec: kpis.KpiSpec, r: dict, q: Query) -> tuple[float | None, str]:
    fmt = lambda v: f"{v:,.2f}"  # noqa: E731
    if spec.id in LINE_KPIS:
        lines, value = _line_population(con, spec.source, q)
        missed = float(r["denominator"] - r["numerator"])
        avg = value / lines if lines else 0.0
        return missed * avg, (f"missed lines {missed:,.0f} x average line value {fmt(avg)} "
                              f"({lines:,} lines, value {fmt(value)})")
    if spec.id == "plan_adherence":
        row = con.execute(
            """-- grain: one row: units not produced on work orders due in the range, at unit cost
            SELECT coalesce(sum((w.planned_qty - least(coalesce(w.produced_qty, 0), w.planned_qty)) * p.unit_cost), 0),
                   coalesce(sum(w.planned_qty - least(coalesce(w.produced_qty, 0), w.planned_qty)), 0)
            FROM production w JOIN products p USING (sku)
            WHERE w.planned_end BETWEEN $start AND $end AND w.planned_end <= $as_of""",
            {"start": q.start, "end": q.end, "as_of": q.as_of}).fetchall()[0]
        return float(row[0]), f"units not produced on work orders due {row[1]:,.0f} x unit cost"
    if spec.id in ("forecast_accuracy", "forecast_bias"):
        pairs = kpis.forecast_pairs(con, q)
        if pairs.empty:
            return 0.0, "no forecast pairs"
        cost = con.execute("SELECT sku, unit_cost FROM products").df().set_index("sku")["unit_cost"]
        err = (pairs["forecast"] - pairs["actual"]) * pairs["sku"].map(cost).astype(float)
        if spec.id == "forecast_accuracy":
            units = (pairs["forecast"] - pairs["actual"]).abs().sum()
            return float(err.abs().sum()), f"mis-forecast units sum|F - A| {units:,.0f} at unit cost"
        units = (pairs["forecast"] - pairs["actual"]).sum()
        return abs(float(err.sum())), f"net forecast error sum(F - A) {units:,.0f} units at unit cost, absolute"
    if spec.id in ("inventory_turns", "days_of_inventory"):
        days = (q.end - q.start).days + 1
        num, den, target = float(r["numerator"]), float(r["denominator"]), float(r["target"])
        if spec.id == "inventory_turns":
            avg_inv, allowed = den, (num * 365.0 / (days * target) if target > 0 else np.nan)
        else:
            avg_inv, allowed = num / days, target * den / days
        excess = max(0.0, avg_inv - allowed) if pd.notna(allowed) else np.nan
        return excess, (f"average inventory value {fmt(avg_inv)} above the {fmt(allowed)} the target allows "
                        "(excess capital tied up)")
    return None, (f"no money measure for this KPI: {kpis.format_value(spec, r['value'])} against "
                  f"{kpis.format_value(spec, r['target'])}")


def kpi_exceptions(con, sc: pd.DataFrame, month: date, as_of: date) -> list[dict]:
    """One exception per tile KPI whose light is amber or red in the month (impact: module docstring)."""
    start, end = kpis.month_range(month)
    q = Query(start, end, as_of)
    out = []
    for r in sc.to_dict("records"):
        spec = kpis.SPECS[r["kpi"]]
        if not spec.tile or r["light"] not in ("amber", "red"):
            continue
        money, basis = _kpi_impact(con, spec, r, q)
        detail = (f"{kpis.format_value(spec, r['value'])} against a target of {kpis.format_value(spec, r['target'])} "
                  f"({r['light']})")
        out.append(_row(KINDS[0], spec.label, detail, money, basis, f"kpi:{spec.id}"))
    return out


def bias_exceptions(con, month: date, as_of: date) -> list[dict]:
    start, end = kpis.month_range(month)
    b = demand.bias_exceptions(con, Query(start, end, as_of), months=REVIEW_MONTHS, threshold=BIAS_THRESHOLD)
    return [_row(KINDS[1], r["sku"],
                 f"{r['direction']} ({r['family']}): tracking signal {r['tracking_signal']:+.1f} over {int(r['months'])} "
                 f"months, sum of errors (A - F) {r['sum_error']:+,.0f} units",
                 r["money_impact"], f"|sum of errors| {abs(r['sum_error']):,.0f} units x unit price {r['unit_price']:,.2f}",
                 f"bias:{r['sku']}")
            for r in b.to_dict("records")]


def stockout_exceptions(plan: Plan | None, months: int = REVIEW_MONTHS) -> list[dict]:
    if plan is None:
        return []
    lines = _first_months(plan.lines, plan, months).sort_values(["sku", "period"])
    price = plan.products.drop_duplicates("sku").set_index("sku")["unit_price"].astype(float)
    out = []
    for sku, g in lines.groupby("sku", sort=True):
        back = (-g["projected_inventory"]).clip(lower=0)
        short = np.minimum(g["demand"].clip(lower=0), back)
        units = float(short.sum())
        if units <= 1e-6:
            continue
        first = pd.Timestamp(g.loc[back > 1e-6, "period"].iloc[0])
        low = g.loc[g["projected_inventory"].idxmin()]
        p = float(price.get(sku, np.nan))
        out.append(_row(
            KINDS[2], sku,
            f"{g['family'].iloc[0]}: projected inventory below 0 from {first:%Y-%m} (lowest "
            f"{low['projected_inventory']:,.0f} in {pd.Timestamp(low['period']):%Y-%m}); {units:,.0f} units short",
            units * p, f"units short {units:,.0f} (demand not shipped in its month, from the plan) x unit price {p:,.2f}",
            f"stockout:{sku}"))
    return out


def overload_exceptions(plan: Plan | None, months: int = REVIEW_MONTHS) -> list[dict]:
    if plan is None:
        return []
    load = _first_months(capacity_load(plan), plan, months)
    load = load[load["overloaded"]]
    rate = plan.settings.overtime_rate(plan.products)
    out = []
    for wc, g in load.groupby("work_center", sort=True):
        hours = float(g["overtime_needed_hours"].sum())
        where = ", ".join(f"{pd.Timestamp(p):%Y-%m} {u:.0%}" for p, u in zip(g["period"], g["utilisation"]))
        out.append(_row(KINDS[3], wc, f"load above the available hours in {len(g)} month(s): {where}",
                        hours * rate, f"excess hours {hours:,.1f} x overtime cost per hour {rate:,.2f}",
                        f"overload:{wc}"))
    return out


def late_customer_exceptions(con, month: date, as_of: date, months: int = LATE_MONTHS,
                             min_lines: int = MIN_LATE_LINES) -> list[dict]:
    first = kpis.add_months(month.replace(day=1), -(months - 1))
    _, end = kpis.month_range(month)
    df = con.execute(
        """-- grain: one row per customer with at least $min late lines promised in the window
        SELECT f.customer_id, any_value(c.name) AS name, count(*) AS lines,
               count(*) FILTER (WHERE f.qty_by_promised < f.quantity) AS late_lines,
               coalesce(sum(f.quantity * coalesce(f.unit_price, p.unit_price))
                        FILTER (WHERE f.qty_by_promised < f.quantity), 0) AS late_value
        FROM fact_order_lines f LEFT JOIN customers c USING (customer_id) LEFT JOIN products p ON p.sku = f.sku
        WHERE f.promised_date BETWEEN $start AND $end AND f.promised_date <= $as_of
        GROUP BY f.customer_id
        HAVING count(*) FILTER (WHERE f.qty_by_promised < f.quantity) >= $min
        ORDER BY f.customer_id""",
        {"start": first, "end": end, "as_of": as_of, "min": int(min_lines)}).df()
    return [_row(KINDS[4], f"{r['customer_id']} {r['name']}" if isinstance(r["name"], str) else r["customer_id"],
                 f"{r['late_lines']} of {r['lines']} lines promised {first:%Y-%m}..{end:%Y-%m} not delivered in full "
                 "by the promised date",
                 r["late_value"], f"value of the {r['late_lines']} late lines (quantity x unit price)",
                 f"late:{r['customer_id']}")
            for r in df.to_dict("records")]


def rank_exceptions(rows: list[dict]) -> pd.DataFrame:
    """Rows -> the ranked frame (columns EXCEPTION_COLUMNS; rank 1 = largest money impact)."""
    df = pd.DataFrame(rows, columns=[c for c in EXCEPTION_COLUMNS if c != "rank"])
    df["money_impact"] = df["money_impact"].astype(float)
    order = {k: i for i, k in enumerate(KINDS)}
    df["_kind"] = df["kind"].map(order)
    df["_missing"] = df["money_impact"].isna()
    df = df.sort_values(["_missing", "money_impact", "_kind", "subject"], ascending=[True, False, True, True],
                        kind="stable")
    df["rank"] = np.arange(1, len(df) + 1, dtype="int64")
    return df[EXCEPTION_COLUMNS].reset_index(drop=True)


def exceptions(con, month: date, as_of: date, plan: Plan | None = None, *,
               scorecard_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Everything that needs the meeting's attention, ranked by money impact (rules: module docstring).

    grain: one row per exception. Columns: kind, subject, detail, money_impact, impact_basis (how the impact
    is computed, with its figures), rank, exception_key (e.g. 'stockout:DESK-006'; pass it to
    ``add_decision(source_exception=...)`` to turn the exception into an action). ``plan``: the plan whose
    stockouts and overloads count (None: the summit plan, see ``content.summit_plan``). ``scorecard_rows``:
    the month's scorecard (``content.scorecard_frames``), to reuse.
    """
    month = month.replace(day=1)
    if plan is None:
        from analytics.summit.content import summit_plan

        plan = summit_plan(con, as_of)[0]
    sc = scorecard_rows if scorecard_rows is not None else scorecard_frames(con, month, as_of)[0]
    rows = (kpi_exceptions(con, sc, month, as_of) + bias_exceptions(con, month, as_of) + stockout_exceptions(plan)
            + overload_exceptions(plan) + late_customer_exceptions(con, month, as_of))
    return rank_exceptions(rows)
