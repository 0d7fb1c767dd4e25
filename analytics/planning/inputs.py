"""What a production plan starts from: demand, backlog, stock, open work orders, capacity, safety stock.

Every frame is long and keyed by ``sku`` / ``work_center`` and ``period`` (first day of a plan month, as a
pandas Timestamp). The plan starts the month after the as-of date (use a month end, e.g.
``kpis.default_as_of``); orders still to come in the rest of the as-of month are not planned for.

Rules, exactly:

* forecast: per SKU, its latest ``consensus`` snapshot dated on or before the as-of date; a plan month
  that snapshot does not cover comes from the SKU's latest ``statistical`` snapshot; else 0.
  ``demand_source`` says which ('consensus', 'statistical', 'none') and ``snapshot_date`` which snapshot.
  The forecast is by order month. With ``phase_forecast`` (default) it is spread over the months the
  orders fall due, with the shares of ordered quantity by months from order month to due month (due =
  promised, else requested, else order date; 0, 1, 2, 3+ months) of the orders of the last 12 complete
  months: e.g. 50% due the same month, 50% the month after. Orders placed by the as-of date are in the
  backlog, so nothing is counted twice; the part of the last months' forecast due after the horizon is
  left out. Without ``phase_forecast`` each month's forecast is due in its own month. ``forecast_ordered``
  keeps the forecast by order month, ``forecast`` is the part due in the month.
* backlog: open order lines = ordered quantity - quantity shipped (deliveries with ship_date, else
  delivered_date, on or before the as-of date) of lines ordered on or before the as-of date, when > 0. A
  line is due on its promised_date, else its requested_date, else its order_date. Due before the first
  plan month: counted in the first plan month; due in a plan month: in that month; due after the horizon:
  left out (counted in ``notes``). Lines due more than ``stale_backlog_months`` months before the first
  plan month are left out as stale (short-shipped remainders nobody will ship; counted in ``notes``);
  ``None`` keeps them all. Without any deliveries data the backlog is unknown and left at 0 (noted).
* on hand: the SKU's latest inventory snapshot on or before the as-of date (none: 0, noted).
* open receipts: work orders without actual_end bring planned_qty - produced_qty (at least 0) in the month
  of planned_end; an overdue one (planned_end before the first plan month) in the first plan month; one due
  after the horizon is left out.
* capacity: available_hours per work center and plan month; a month without a row takes the latest earlier
  month of that work center (``capacity_source`` says so); a work center without any row is unconstrained
  (available_hours NaN).
* safety stock: :func:`analytics.planning.policy.safety_stock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from analytics.kpis import add_months
from analytics.planning.common import PlanningError, as_date, plan_months, ts
from analytics.planning.policy import PolicySettings, safety_stock

PRODUCT_COLUMNS = ["sku", "family", "work_center", "unit_cost", "unit_price", "hours_per_unit", "on_hand",
                   "safety_stock"]
DEMAND_COLUMNS = ["sku", "period", "forecast_ordered", "forecast", "backlog", "demand_source", "snapshot_date"]
MAX_DUE_MONTHS = 3
RECEIPT_COLUMNS = ["sku", "period", "open_receipts"]
CAPACITY_COLUMNS = ["work_center", "period", "available_hours", "capacity_source"]


@dataclass(eq=False)
class PlanInputs:
    """Everything a plan is computed from. Build it with :func:`plan_inputs`, or by hand (tests, benchmarks).

    products: one row per SKU: sku, family, work_center, unit_cost, unit_price, hours_per_unit, on_hand,
        safety_stock (extra columns are kept).
    demand: one row per sku x period (missing = 0): forecast (the forecast falling due in the month),
        backlog, demand_source, snapshot_date; optional forecast_ordered. demand = forecast + backlog.
    receipts: one row per sku x period: open_receipts (open work orders arriving in the month).
    capacity: one row per work_center x period: available_hours (NaN or no row for a work center =
        unconstrained), capacity_source.
    months: the plan months (first day of each month), in order. policy: the safety-stock frame, if any.
    notes: what the inputs left out or assumed, for the screen.
    """

    as_of: date
    months: tuple[date, ...]
    products: pd.DataFrame
    demand: pd.DataFrame
    receipts: pd.DataFrame
    capacity: pd.DataFrame
    policy: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # What the data cannot support, e.g. {"costs": "not available: needs unit costs ..."}: the screen shows the
    # sentence instead of the number (the plan itself still runs, with the documented defaults).
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return len(self.months)


def _forecast(con, as_of: date, first: date, last: date) -> pd.DataFrame:
    return con.execute(
        """-- grain: one row per sku x plan month with a forecast
        WITH snaps AS (  -- grain: sku x source: the SKU's latest snapshot of the source on or before as-of
            SELECT sku, source, max(snapshot_date) AS snapshot_date
            FROM forecasts
            WHERE source IN ('consensus', 'statistical') AND snapshot_date <= $as_of
            GROUP BY ALL
        )
        SELECT f.sku, f.period, f.quantity AS forecast, f.source AS demand_source, f.snapshot_date
        FROM forecasts f JOIN snaps s USING (sku, source, snapshot_date)
        WHERE f.period BETWEEN $first AND $last
        QUALIFY row_number() OVER (
            PARTITION BY f.sku, f.period ORDER BY (f.source = 'consensus') DESC) = 1""",
        {"as_of": as_of, "first": first, "last": last},
    ).df()


def due_month_shares(con, as_of: date, months: int = 12) -> np.ndarray:
    """Share of ordered quantity due 0, 1, 2, 3+ months after the order month (orders of the last
    ``months`` complete months; due = promised, else requested, else order date). [1, 0, 0, 0] without
    orders."""
    from analytics.planning.policy import history_window

    start, end = history_window(as_of, months)
    rows = con.execute(
        """-- grain: one row per whole months from order month to due month (0..3, 3 = 3 or more)
        SELECT least(greatest(datediff('month', date_trunc('month', order_date),
                     date_trunc('month', coalesce(promised_date, requested_date, order_date))), 0), $cap) AS k,
               sum(quantity) AS qty
        FROM orders WHERE order_date BETWEEN $start AND $end
        GROUP BY 1""",
        {"start": start, "end": end, "cap": MAX_DUE_MONTHS},
    ).fetchall()
    shares = np.zeros(MAX_DUE_MONTHS + 1)
    for k, qty in rows:
        shares[int(k)] += float(qty or 0)
    if shares.sum() <= 0:
        return np.array([1.0] + [0.0] * MAX_DUE_MONTHS)
    return shares / shares.sum()


def phase(forecast: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Spread a (SKU x month) forecast by order month over due months: out[:, t] = sum_k shares[k] x F[:, t-k]."""
    out = np.zeros_like(forecast, dtype=float)
    T = forecast.shape[1]
    for k, share in enumerate(shares):
        if share and k < T:
            out[:, k:] += share * forecast[:, : T - k]
    return out


def _backlog(con, as_of: date, first: date, last: date, stale_from: date | None) -> pd.DataFrame:
    """grain: one row per sku x bucket ('plan' rows carry the plan month; 'stale' and 'after' are left out)."""
    return con.execute(
        """-- grain: one row per sku x due bucket: open order quantity
        WITH shipped AS (  -- grain: order line: quantity shipped by the as-of date
            SELECT order_id, line_no, sum(quantity) AS qty
            FROM deliveries WHERE coalesce(ship_date, delivered_date) <= $as_of
            GROUP BY ALL
        ), open_lines AS (  -- grain: open order line
            SELECT o.sku, coalesce(o.promised_date, o.requested_date, o.order_date) AS due,
                   o.quantity - coalesce(s.qty, 0) AS open_qty
            FROM orders o LEFT JOIN shipped s USING (order_id, line_no)
            WHERE o.order_date <= $as_of AND o.quantity - coalesce(s.qty, 0) > 0
        ), bucketed AS (
            SELECT sku, open_qty,
                   CASE WHEN $stale_from::DATE IS NOT NULL AND due < $stale_from::DATE THEN 'stale'
                        WHEN date_trunc('month', due) > $last THEN 'after'
                        ELSE 'plan' END AS bucket,
                   greatest(date_trunc('month', due)::DATE, $first::DATE) AS period
            FROM open_lines
        )
        SELECT sku, bucket, CASE WHEN bucket = 'plan' THEN period END AS period,
               sum(open_qty) AS backlog, count(*) AS lines
        FROM bucketed GROUP BY ALL""",
        {"as_of": as_of, "first": first, "last": last, "stale_from": stale_from},
    ).df()


def _on_hand(con, as_of: date) -> pd.DataFrame:
    return con.execute(
        """-- grain: one row per SKU: its latest inventory snapshot on or before the as-of date
        SELECT sku, on_hand, snapshot_date AS inventory_date FROM inventory
        WHERE snapshot_date <= $as_of
        QUALIFY row_number() OVER (PARTITION BY sku ORDER BY snapshot_date DESC) = 1""",
        {"as_of": as_of},
    ).df()


def _receipts(con, first: date, last: date) -> pd.DataFrame:
    return con.execute(
        """-- grain: one row per sku x plan month: remaining quantity of open work orders by planned_end month
        SELECT sku, greatest(date_trunc('month', planned_end)::DATE, $first::DATE) AS period,
               sum(greatest(planned_qty - coalesce(produced_qty, 0), 0)) AS open_receipts,
               count(*) AS work_orders
        FROM production
        WHERE actual_end IS NULL AND date_trunc('month', planned_end) <= $last
        GROUP BY ALL""",
        {"first": first, "last": last},
    ).df()


def read_capacity(con, months: tuple[date, ...], work_centers: list[str]) -> pd.DataFrame:
    """Available hours per work center and plan month (rule: see the module docstring).

    grain: one row per work center x plan month. Columns: work_center, period, available_hours,
    capacity_source.
    """
    wcs = sorted({str(w) for w in work_centers if isinstance(w, str) and w})  # SKUs without a work center: none
    if not wcs or not months:
        return pd.DataFrame(columns=CAPACITY_COLUMNS)
    df = con.execute(
        """-- grain: one row per work center x plan month; the latest capacity row on or before the month
        WITH g AS (
            SELECT w.work_center, CAST(t.m AS DATE) AS period
            FROM (SELECT unnest($wcs) AS work_center) w
            CROSS JOIN generate_series($first::DATE, $last::DATE, INTERVAL 1 MONTH) t(m)
        )
        SELECT g.work_center, g.period, c.available_hours, c.period AS from_period
        FROM g ASOF LEFT JOIN capacity c ON c.work_center = g.work_center AND c.period <= g.period
        ORDER BY g.work_center, g.period""",
        {"wcs": wcs, "first": months[0], "last": months[-1]},
    ).df()
    same = df["from_period"] == df["period"]
    df["capacity_source"] = np.where(
        df["from_period"].isna(), "no capacity data: unconstrained",
        np.where(same, "capacity table", "carried forward from " + df["from_period"].dt.strftime("%Y-%m")),
    )
    return df[CAPACITY_COLUMNS]


def plan_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of,
    horizon: int = 12,
    policy: PolicySettings | None = None,
    stale_backlog_months: int | None = 6,
    safety_stocks: pd.DataFrame | None = None,
    phase_forecast: bool = True,
) -> PlanInputs:
    """Read the inputs of a ``horizon``-month plan starting the month after ``as_of`` (rules: module docstring).

    ``safety_stocks``: a :func:`safety_stock` frame to reuse (else it is computed with ``policy``).
    """
    as_of = as_date(as_of)
    months = plan_months(as_of, horizon)
    first, last = months[0], months[-1]
    notes: list[str] = []
    products = con.execute(
        "SELECT sku, family, work_center, unit_cost, unit_price, hours_per_unit FROM products ORDER BY sku"
    ).df()
    if products.empty:
        raise PlanningError("There are no products: import the products file (or build the demo) first.")
    products, unavailable = _fill_product_defaults(con, products, notes)

    fc = _forecast(con, as_of, first, last)
    grid = pd.DataFrame({
        "sku": np.repeat(products["sku"].to_numpy(), len(months)),
        "period": np.tile(np.array([ts(m) for m in months], dtype="datetime64[us]"), len(products)),
    })
    demand = grid.merge(fc, on=["sku", "period"], how="left")
    demand["forecast_ordered"] = demand["forecast"].fillna(0.0).astype(float)
    if phase_forecast:
        shares = due_month_shares(con, as_of)
        phased = phase(demand["forecast_ordered"].to_numpy().reshape(len(products), len(months)), shares)
        demand["forecast"] = phased.ravel()
        if shares[0] < 1:
            labels = ["the same month", "1 month later", "2 months later", "3 or more months later"]
            parts = ", ".join(f"{sh:.0%} {labels[k]}" for k, sh in enumerate(shares) if sh >= 0.005)
            notes.append(f"The forecast (by order month) is spread over the months orders fall due: {parts}.")
    else:
        demand["forecast"] = demand["forecast_ordered"]
    demand["demand_source"] = demand["demand_source"].astype(object).where(demand["demand_source"].notna(), "none")
    n_stat = int((demand["demand_source"] == "statistical").sum())
    n_none = int((demand["demand_source"] == "none").sum())
    if n_stat:
        notes.append(f"{n_stat:,} sku-months have no consensus forecast and use the latest statistical forecast.")
    if n_none:
        notes.append(f"{n_none:,} sku-months have no consensus or statistical forecast: forecast demand 0.")

    has_deliveries = con.execute("SELECT count(*) > 0 FROM (SELECT 1 FROM deliveries LIMIT 1)").fetchall()[0][0]
    if has_deliveries:
        stale_from = add_months(first, -stale_backlog_months) if stale_backlog_months is not None else None
        bl = _backlog(con, as_of, first, last, stale_from)
        for bucket, text in (("stale", f"due before {stale_from} (stale, left out)"),
                             ("after", "due after the horizon (left out)")):
            part = bl[bl["bucket"] == bucket]
            if len(part):
                notes.append(f"{int(part['lines'].sum()):,} open order lines ({part['backlog'].sum():,.0f} units) "
                             f"{text}.")
        bl = bl[bl["bucket"] == "plan"].groupby(["sku", "period"], as_index=False)["backlog"].sum()
        bl["period"] = bl["period"].astype("datetime64[us]")
        demand = demand.merge(bl, on=["sku", "period"], how="left")
    else:
        notes.append("No deliveries data: the open order backlog is unknown and left at 0.")
        demand["backlog"] = 0.0
    demand["backlog"] = demand["backlog"].fillna(0.0).astype(float)

    # A merge, not Series.map: with no inventory rows the empty lookup's dtypes cannot be cast (pandas 3).
    stock = _on_hand(con, as_of)
    products = products.merge(stock, on="sku", how="left")
    products["on_hand"] = pd.to_numeric(products["on_hand"], errors="coerce").astype(float)
    missing = int(products["on_hand"].isna().sum())
    if missing:
        notes.append(f"{missing:,} SKUs have no inventory snapshot on or before {as_of}: on hand 0.")
    products["on_hand"] = products["on_hand"].fillna(0.0)

    rc = _receipts(con, first, last)
    rc["period"] = rc["period"].astype("datetime64[us]")
    receipts = rc.groupby(["sku", "period"], as_index=False)["open_receipts"].sum()

    if safety_stocks is None:
        safety_stocks = safety_stock(con, as_of, policy)
    ss = safety_stocks.set_index("sku")["safety_stock"] if len(safety_stocks) else pd.Series(dtype=float)
    products["safety_stock"] = products["sku"].map(ss).fillna(0.0).astype(float)

    capacity = read_capacity(con, months, products["work_center"].tolist())
    free = sorted(capacity.loc[capacity["available_hours"].isna(), "work_center"].unique())
    if free:
        notes.append(f"No capacity data for {', '.join(free)}: planned as unconstrained.")
    return PlanInputs(as_of, months, products, demand[DEMAND_COLUMNS], receipts[RECEIPT_COLUMNS], capacity,
                      safety_stocks, tuple(notes), unavailable)


def _fill_product_defaults(con, products: pd.DataFrame, notes: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Products without unit cost, price, work center or hours per unit (optional in the contract) still plan:
    no cost counts as 0 and plan costs are "not available"; no price takes the SKU's average order price (else
    its cost, else 0); no work center or hours means no load (planned uncapacitated). Each default is noted."""
    products = products.copy()
    unavailable: dict[str, str] = {}
    n = len(products)
    for c in ("unit_cost", "unit_price", "hours_per_unit"):
        products[c] = pd.to_numeric(products[c], errors="coerce").astype(float)
    no_cost = int(products["unit_cost"].isna().sum())
    if no_cost:
        unavailable["costs"] = f"not available: needs unit costs ({no_cost:,} of {n:,} SKUs have none)"
        notes.append(f"{no_cost:,} SKUs have no unit cost: plan costs are not available (their cost counts as 0).")
        products["unit_cost"] = products["unit_cost"].fillna(0.0)
    if products["unit_price"].isna().any():
        paid = con.execute(
            """-- grain: one row per SKU: its quantity-weighted average order price
            SELECT sku, sum(quantity * unit_price) / nullif(sum(quantity), 0) AS price
            FROM orders WHERE unit_price IS NOT NULL GROUP BY sku"""
        ).df().set_index("sku")["price"]
        missing = products["unit_price"].isna()
        products.loc[missing, "unit_price"] = products.loc[missing, "sku"].map(paid).astype(float)
        products["unit_price"] = products["unit_price"].fillna(products["unit_cost"]).fillna(0.0)
        notes.append(f"{int(missing.sum()):,} SKUs have no list price: their average order price is used "
                     "(else the unit cost).")
    no_load = products["hours_per_unit"].isna() | products["work_center"].isna()
    if no_load.any():
        if no_load.all():
            unavailable["capacity"] = "not available: needs work centers and hours per unit"
        notes.append(f"{int(no_load.sum()):,} SKUs have no work center or hours per unit: they put no load on "
                     "capacity (planned uncapacitated).")
        products["hours_per_unit"] = products["hours_per_unit"].where(~no_load, 0.0)
    return products, unavailable
