"""The planner's demand workbench: forecast overrides and forecast value added (FVA).

Overrides
    A planner changes future months of the forecast for one SKU or one family, in units or
    in percent, with a mandatory reason. The save writes a new ``consensus`` snapshot that is
    a full copy of the *base* (the latest consensus snapshot on or before the save date, else
    the latest statistical one) with the edited cells changed, and one ``forecast_overrides``
    row per changed cell (who, when, why, from what to what), in one :func:`db.writer`
    transaction. A family edit is spread over the family's SKUs in proportion to their base
    forecast for that month; when the family's base is 0 that month it is spread equally.

Forecast value added
    The stairstep naive -> statistical -> sales -> consensus, scored with the same accuracy
    and bias as the ``forecast_accuracy`` KPI (``kpis.FORECAST_PAIRS_SQL``). FVA of a step =
    its accuracy minus the accuracy of the step before it (a positive FVA: the step helped).

Everything that aggregates runs in DuckDB SQL; user values are ``$named`` parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import duckdb
import pandas as pd

from analytics import access, db, kpis, rounding
from analytics.dates import as_date
from analytics.kpis import PRODUCT_DIMS, Query

LEVELS = ("sku", "family")
UNITS = ("units", "percent")
BASE_SOURCES = ("consensus", "statistical")  # the base of an override, in order of preference
STEPS = ("naive", "statistical", "sales", "consensus")  # the FVA stairstep, in order
STORED_STEPS = STEPS[1:]  # the naive forecast is computed, never stored
BEFORE_OVERRIDE = "before override"

BASE_COLUMNS = ["period", "sku", "quantity", "source", "snapshot_date"]
PLAN_COLUMNS = ["sku", "period", "base_qty", "new_qty", "spread", "input_value", "target_base_qty"]
HISTORY_COLUMNS = [
    "override_id", "created_at", "created_by", "snapshot_date", "level", "target", "sku", "family", "period",
    "base_qty", "new_qty", "change", "unit", "input_value", "reason", "base_source", "base_snapshot_date",
]
FVA_COLUMNS = ["lag", "step", "accuracy", "bias", "fva", "previous_step", "numerator", "denominator",
               "sku_months", "months", "previous_numerator"]
REASON_COLUMNS = ["reason", "lag", "step", "accuracy", "bias", "fva", "previous_step", "numerator",
                  "denominator", "sku_months", "base_sources", "previous_numerator"]
LAG_COLUMNS = ["month", "lag", "accuracy", "bias", "numerator", "denominator"]
EXCEPTION_COLUMNS = ["sku", "family", "direction", "months", "sum_error", "mad", "tracking_signal",
                     "unit_price", "money_impact"]


class _NothingToSave(Exception):
    """The edits leave every cell as it was: the save writes nothing."""


# ---------------------------------------------------------------------------- small helpers


def _as_date(value) -> date:
    """date, datetime, pandas Timestamp or ISO text -> date (ValueError otherwise)."""
    return as_date(value)


def _data_day(con: duckdb.DuckDBPyConnection) -> date:
    """The data day business records are dated by: the data's as-of date (ValueError without data)."""
    day = kpis.default_as_of(con)
    if day is None:
        raise ValueError("The database holds no dated data yet: import data or build the demo first.")
    return day


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(  # grain: one row (does the table exist in the current database)
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = $t",
        {"t": name},
    ).fetchone()
    return bool(row[0])


def _month_label(d: date) -> str:
    return d.strftime("%Y-%m")


# ---------------------------------------------------------------------------- overrides: reading


def base_snapshot(
    con: duckdb.DuckDBPyConnection, as_of: date, start_from: str | None = None
) -> tuple[str, date] | None:
    """(source, snapshot_date) a planner edits on ``as_of``: by default the newest of the latest consensus
    and the latest statistical snapshot on or before it (consensus wins a tie), so the month's new
    statistical run becomes the starting point of the next consensus and overrides saved after it build on
    each other. ``start_from='consensus'`` or ``'statistical'`` picks that source's latest snapshot instead
    (e.g. to carry last month's consensus over a new run). None when there is none."""
    if start_from is not None and start_from not in BASE_SOURCES:
        raise ValueError(f"start_from must be one of {BASE_SOURCES} or None, not {start_from!r}")
    rows = con.execute(
        """-- grain: one row per base source: its latest snapshot on or before the as-of date
        SELECT source, max(snapshot_date) AS snapshot_date
        FROM forecasts
        WHERE list_contains($sources, source) AND snapshot_date <= $as_of
        GROUP BY source""",
        {"sources": list(BASE_SOURCES), "as_of": _as_date(as_of)},
    ).fetchall()
    if start_from is not None:
        rows = [r for r in rows if r[0] == start_from]
    if not rows:
        return None
    rank = {s: i for i, s in enumerate(BASE_SOURCES)}  # consensus first
    source, snap = max(rows, key=lambda r: (r[1], -rank.get(r[0], 99)))
    return source, snap


def _target_skus(con: duckdb.DuckDBPyConnection, level: str, target: str) -> list[str]:
    """The SKUs an override of ``target`` at ``level`` changes; ValueError when unknown."""
    if level not in LEVELS:
        raise ValueError(f"level must be 'sku' or 'family', not {level!r}")
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"Choose the {level} to override.")
    rows = con.execute(
        """-- grain: one row per SKU of the target (the SKU itself, or the family's SKUs)
        SELECT sku FROM products
        WHERE (CASE WHEN $level = 'sku' THEN sku ELSE family END) = $target
        ORDER BY sku""",
        {"level": level, "target": target},
    ).fetchall()
    if not rows:
        what = "SKU" if level == "sku" else "family"
        raise ValueError(f"Unknown {what} {target!r}: it is not in the products table.")
    return [r[0] for r in rows]


def base_forecast(
    con: duckdb.DuckDBPyConnection, sku_or_family: str, level: str, as_of: date, future_only: bool = True,
    start_from: str | None = None,
) -> pd.DataFrame:
    """The forecast a planner edits on ``as_of`` for one SKU or one family.

    grain: one row per SKU of the target x period of the base snapshot (see :func:`base_snapshot`); with
    ``future_only`` only the periods that may be overridden (from the month of ``as_of`` on). A SKU the
    snapshot does not forecast (e.g. no order history in a complete month) gets quantity 0 in each of the
    snapshot's periods, as :func:`plan_override` takes it. Columns: period, sku, quantity, source,
    snapshot_date. Empty when no snapshot exists yet.
    """
    as_of = _as_date(as_of)
    skus = _target_skus(con, level, sku_or_family)
    base = base_snapshot(con, as_of, start_from)
    if base is None:
        return pd.DataFrame(columns=BASE_COLUMNS)
    return con.execute(
        """-- grain: one row per target sku x period of the base snapshot (0 where the snapshot lacks the sku)
        WITH periods AS (  -- grain: period of the base snapshot
            SELECT DISTINCT period FROM forecasts
            WHERE source = $source AND snapshot_date = $snapshot_date
              AND (NOT $future_only OR period >= date_trunc('month', $as_of::DATE))
        )
        SELECT p.period, s.sku, coalesce(f.quantity, 0.0) AS quantity, $source AS source,
               $snapshot_date::DATE AS snapshot_date
        FROM periods p CROSS JOIN (SELECT unnest($skus::VARCHAR[]) AS sku) s
        LEFT JOIN forecasts f ON f.sku = s.sku AND f.period = p.period AND f.source = $source
             AND f.snapshot_date = $snapshot_date
        ORDER BY p.period, s.sku""",
        {"source": base[0], "snapshot_date": base[1], "skus": skus, "future_only": bool(future_only),
         "as_of": as_of},
    ).df()


def _check_edits(edits: Mapping, unit: str, as_of: date) -> list[tuple[date, float]]:
    """Validate the planner's edits; returns (period, value) sorted by period."""
    if unit not in UNITS:
        raise ValueError(f"unit must be 'units' or 'percent', not {unit!r}")
    if not edits:
        raise ValueError("No months to change: the edits are empty.")
    first_open = as_of.replace(day=1)
    out: dict[date, float] = {}
    for key, raw in edits.items():
        period = _as_date(key)
        if period.day != 1:
            raise ValueError(
                f"{period} is not the first day of a month: forecast periods are months "
                f"(use {period.replace(day=1)})."
            )
        if period < first_open:
            raise ValueError(
                f"{_month_label(period)} is in the past: only months from {_month_label(first_open)} "
                f"(the month of the save) on can be overridden."
            )
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{_month_label(period)}: {raw!r} is not a number.") from None
        if not math.isfinite(value):
            raise ValueError(f"{_month_label(period)}: {raw!r} is not a number.")
        if unit == "units" and value < 0:
            raise ValueError(f"{_month_label(period)}: new quantities must be zero or more (got {value:g} units).")
        if unit == "percent" and value < -100:
            raise ValueError(
                f"{_month_label(period)}: a change of {value:g}% would make the forecast negative "
                f"(the lowest is -100%)."
            )
        if period in out:
            raise ValueError(f"{_month_label(period)} is edited twice.")
        out[period] = value
    return sorted(out.items())


PLAN_SQL = """
    WITH edits AS (  -- grain: one row per edited period
        SELECT unnest($periods::DATE[]) AS period, unnest($values::DOUBLE[]) AS input_value
    ), cells AS (  -- grain: sku x edited period, for every SKU of the target (base 0 when the snapshot lacks it)
        SELECT s.sku, e.period, e.input_value, coalesce(f.quantity, 0) AS base_qty
        FROM (SELECT unnest($skus::VARCHAR[]) AS sku) s
        CROSS JOIN edits e
        LEFT JOIN forecasts f
          ON f.sku = s.sku AND f.period = e.period
         AND f.source = $base_source::VARCHAR AND f.snapshot_date = $base_date::DATE
    ), totals AS (  -- grain: sku x period, with the target's total base and number of SKUs in that period
        SELECT c.*, sum(c.base_qty) OVER (PARTITION BY c.period) AS target_base_qty,
               count(*) OVER (PARTITION BY c.period) AS n_skus
        FROM cells c
    )
    SELECT sku, period, base_qty,
           round(CASE
               WHEN $unit = 'percent' THEN base_qty * (1 + input_value / 100)
               WHEN $level = 'sku' THEN input_value
               WHEN target_base_qty > 0 THEN input_value * base_qty / target_base_qty
               ELSE input_value / n_skus
           END, 6) AS new_qty,
           CASE WHEN $level = 'sku' THEN 'sku'
                WHEN $unit = 'percent' OR target_base_qty > 0 THEN 'proportional'
                ELSE 'equal' END AS spread,
           input_value, target_base_qty
    FROM totals
    ORDER BY period, sku
"""


def plan_override(
    con: duckdb.DuckDBPyConnection,
    level: str,
    target: str,
    edits: Mapping,
    unit: str,
    as_of: date | None = None,
    start_from: str | None = None,
) -> pd.DataFrame:
    """Preview an override without saving it (a pure read). ``start_from``: see :func:`base_snapshot`.
    ``as_of``: the data day of the save (default: the data's as-of date, ``kpis.default_as_of``).

    ``edits`` maps a period (first of a month, from the month of ``as_of`` on) to a value:
    with ``unit='units'`` the new total for the target in that month, with ``unit='percent'``
    the change in percent (10 = +10 %). A family total is spread over the family's SKUs in
    proportion to their base forecast that month; if the family's base is 0 that month the
    units are spread equally over its SKUs (``spread = 'equal'``, and a sentence in
    ``df.attrs['notes']``). A percent change of a zero base is refused (enter units).

    grain: one row per SKU x edited period. Columns: sku, period, base_qty, new_qty, spread
    ('sku' | 'proportional' | 'equal'), input_value, target_base_qty. ``df.attrs`` holds
    ``base`` ((source, snapshot_date) or None) and ``notes`` (list of sentences).
    """
    as_of = _as_date(as_of or _data_day(con))
    checked = _check_edits(edits, unit, as_of)
    skus = _target_skus(con, level, target)
    base = base_snapshot(con, as_of, start_from)
    df = con.execute(
        PLAN_SQL,
        {
            "periods": [p for p, _ in checked], "values": [v for _, v in checked], "skus": skus,
            "base_source": base[0] if base else None, "base_date": base[1] if base else None,
            "unit": unit, "level": level,
        },
    ).df()
    df["period"] = pd.to_datetime(df["period"]).dt.date
    df["new_qty"] = _whole_units(df, unit)
    notes = []
    per_period = df.groupby("period", sort=True).agg(
        target_base_qty=("target_base_qty", "first"), input_value=("input_value", "first"),
        n=("sku", "size"), spread=("spread", "first"),
    )
    what = "SKU" if level == "sku" else "family"
    for period, row in per_period.iterrows():
        if unit == "percent" and row["target_base_qty"] == 0 and row["input_value"] != 0:
            raise ValueError(
                f"The base forecast for {what} {target} in {_month_label(period)} is 0: a percent change "
                f"cannot move it. Enter the new quantity in units instead."
            )
        if row["spread"] == "equal" and row["n"] > 0:
            total = rounding.half_up(row["input_value"])
            low = total // row["n"]
            each = f"{low} each" if total % row["n"] == 0 else f"{low} or {low + 1} each, in whole units"
            notes.append(
                f"Family {target} has a base forecast of 0 in {_month_label(period)}, so the "
                f"{total:g} units were spread equally over its {row['n']} SKUs ({each})."
            )
    df.attrs["base"] = base
    df.attrs["notes"] = notes
    return df[PLAN_COLUMNS]


def _whole_units(df: pd.DataFrame, unit: str) -> pd.Series:
    """The edited cells in whole units (chairs are whole): a SKU's new quantity rounded half up; a family's new
    total for the month rounded, then spread over its SKUs by largest remainder (``rounding.largest_remainder``,
    in proportion to their base, or equally when the family's base is 0), so the SKUs add up to it exactly.
    Example: +10% on a family of 3 SKUs with base 10.2, 20.3, 30.4 (60.9) -> total round(66.99) = 67 -> shares
    11.19, 22.40, 33.41 -> 11, 22, 33 (66) + 1 to the largest remainder (0.41) -> 11, 22, 34."""
    out = pd.Series(0.0, index=df.index)
    for _, cells in df.groupby("period", sort=False):
        first = cells.iloc[0]
        if unit == "percent":
            total = rounding.half_up(float(first["target_base_qty"]) * (1 + float(first["input_value"]) / 100))
        else:
            total = rounding.half_up(float(first["input_value"]))
        # weights all 0 (a family without base that month): an equal split
        out[cells.index] = rounding.largest_remainder(total, cells["base_qty"].to_numpy(dtype=float)).astype(float)
    return out


# ---------------------------------------------------------------------------- overrides: saving


@access.requires("override")
def save_override(
    db_path,
    level: str,
    target: str,
    edits: Mapping,
    unit: str,
    reason: str,
    author: str,
    snapshot_date: date | None = None,
    start_from: str | None = None,
) -> int:
    """Save an override as a new consensus snapshot dated ``snapshot_date``: the data day it belongs to,
    by default the data's as-of date (``kpis.default_as_of``), never the wall clock, so that planning, the
    promise check and the summit (which read snapshots dated on or before the as-of date) see it.
    ``start_from`` chooses the base snapshot (see :func:`base_snapshot`; default: the newest).

    The snapshot is a full copy of the base (:func:`base_snapshot` on that date: every SKU and
    period of it) with the edited cells changed. One consensus snapshot per data day: a consensus
    snapshot already dated that day (imported, or an earlier save the same data day) is replaced as a
    whole. It is then the base (consensus wins a tie with a statistical run of the same day), so its
    earlier edits are kept and the later save supersedes it; the key (snapshot_date, sku, period,
    source) never collides. Each save keeps its own ``forecast_overrides`` rows (override_id and the
    created_at audit time order saves of the same day). One row per changed cell goes to
    ``forecast_overrides``. Snapshot and history are written in one :func:`db.writer` transaction:
    any error leaves the database file untouched.

    Returns the number of cells changed (0: the edits change nothing and nothing is written).
    Raises ValueError for a blank reason or user, an unknown SKU or family, periods that are
    not the first of a month or lie before the month of the save, or negative quantities.
    """
    reason_text = reason.strip() if isinstance(reason, str) else ""
    if not reason_text:
        raise ValueError(
            "A reason is required to override the forecast (for example 'promotion planned' or "
            "'customer lost'). Nothing was saved."
        )
    user_text = author.strip() if isinstance(author, str) else ""
    if not user_text:
        raise ValueError("Say who makes the override (the name is empty). Nothing was saved.")
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    if snapshot_date is None:
        reader = db.open_reader(path)
        try:
            snapshot_date = _data_day(reader)
        finally:
            reader.close()
    save_date = _as_date(snapshot_date)
    _check_edits(edits, unit, save_date)  # fail fast, before copying the database
    try:
        with db.writer(path) as con:
            return _write_override(con, level, target, edits, unit, reason_text, user_text, save_date, start_from)
    except _NothingToSave:
        return 0


def _write_override(con, level, target, edits, unit, reason, user, save_date, start_from=None) -> int:
    """Inside the writer transaction: the new consensus snapshot, then the history rows."""
    plan = plan_override(con, level, target, edits, unit, as_of=save_date, start_from=start_from)
    changed = plan[(plan["new_qty"] - plan["base_qty"]).abs() > 1e-9]
    if changed.empty:
        raise _NothingToSave
    base = plan.attrs["base"]
    by_month = changed.groupby("period")[["base_qty", "new_qty"]].sum()
    access.note(target=f"{level} {target}", reason=reason, unit=unit, cells=len(changed),
                before={str(k): round(float(v), 3) for k, v in by_month["base_qty"].items()},
                after={str(k): round(float(v), 3) for k, v in by_month["new_qty"].items()})
    params = {
        "skus": changed["sku"].tolist(),
        "periods": changed["period"].tolist(),
        "new_qty": changed["new_qty"].astype(float).tolist(),
        "base_source": base[0] if base else None,
        "base_date": base[1] if base else None,
    }
    con.execute(
        """-- grain: sku x period of the new consensus snapshot: the base snapshot with the edited cells replaced
        CREATE OR REPLACE TEMP TABLE demand_new_consensus AS
        WITH edits AS (
            SELECT unnest($skus::VARCHAR[]) AS sku, unnest($periods::DATE[]) AS period,
                   unnest($new_qty::DOUBLE[]) AS quantity
        ), base AS (
            SELECT sku, period, quantity FROM forecasts
            WHERE source = $base_source::VARCHAR AND snapshot_date = $base_date::DATE
        )
        SELECT coalesce(e.sku, b.sku) AS sku, coalesce(e.period, b.period) AS period,
               coalesce(e.quantity, b.quantity) AS quantity
        FROM base b FULL JOIN edits e ON b.sku = e.sku AND b.period = e.period""",
        params,
    )
    con.execute(  # grain: sku x period of the consensus snapshot dated on the save date (replaced as a whole)
        "DELETE FROM forecasts WHERE source = 'consensus' AND snapshot_date = $d", {"d": save_date}
    )
    con.execute(
        """-- grain: one row per sku x period of the new snapshot
        INSERT INTO forecasts (snapshot_date, sku, period, source, quantity)
        SELECT $d, sku, period, 'consensus', quantity FROM demand_new_consensus""",
        {"d": save_date},
    )
    con.execute("DROP TABLE demand_new_consensus")
    con.execute(
        """-- grain: one row per changed cell (sku x period)
        INSERT INTO forecast_overrides (override_id, created_at, created_by, snapshot_date, level, target, sku,
            period, base_qty, new_qty, unit, input_value, reason, base_source, base_snapshot_date)
        WITH cells AS (
            SELECT unnest($skus::VARCHAR[]) AS sku, unnest($periods::DATE[]) AS period,
                   unnest($base_qty::DOUBLE[]) AS base_qty, unnest($new_qty::DOUBLE[]) AS new_qty,
                   unnest($input_value::DOUBLE[]) AS input_value
        )
        SELECT (SELECT coalesce(max(override_id), 0) FROM forecast_overrides)
                   + row_number() OVER (ORDER BY period, sku),
               $created_at, $user, $d, $level, $target, sku, period, base_qty, new_qty, $unit, input_value,
               $reason, $base_source::VARCHAR, $base_date::DATE
        FROM cells""",
        params | {
            "base_qty": changed["base_qty"].astype(float).tolist(),
            "input_value": changed["input_value"].astype(float).tolist(),
            "created_at": datetime.now().replace(microsecond=0), "user": user, "d": save_date,
            "level": level, "target": target, "unit": unit, "reason": reason,
        },
    )
    return len(changed)


def override_history(con: duckdb.DuckDBPyConnection, sku: str | None = None, family: str | None = None) -> pd.DataFrame:
    """Who changed which forecast cell, when and why; newest first.

    grain: one row per overridden cell (sku x period x save). Filter by ``sku`` and/or
    ``family`` (the SKU's family). Columns: see ``HISTORY_COLUMNS`` (change = new - base).
    """
    if not _has_table(con, "forecast_overrides"):  # a database no save has touched yet
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return con.execute(
        """-- grain: one row per overridden cell, newest first
        SELECT o.override_id, o.created_at, o.created_by, o.snapshot_date, o.level, o.target, o.sku, p.family,
               o.period, o.base_qty, o.new_qty, o.new_qty - o.base_qty AS change, o.unit, o.input_value,
               o.reason, o.base_source, o.base_snapshot_date
        FROM forecast_overrides o LEFT JOIN products p USING (sku)
        WHERE ($sku::VARCHAR IS NULL OR o.sku = $sku) AND ($family::VARCHAR IS NULL OR p.family = $family)
        ORDER BY o.override_id DESC""",
        {"sku": sku, "family": family},
    ).df()


EVENT_COLUMNS = ["event", "created_at", "created_by", "snapshot_date", "level", "target", "change_text",
                 "first_month", "last_month", "skus", "base_qty", "new_qty", "change", "change_pct", "reason"]


def override_events(con: duckdb.DuckDBPyConnection, sku: str | None = None, family: str | None = None) -> pd.DataFrame:
    """One row per override a person made (a save), newest first, with its total change.

    grain: one row per save (forecast_overrides rows sharing created_at, created_by, level and target); with a
    ``sku`` or ``family`` filter only its cells count. Columns: ``EVENT_COLUMNS``: event (the first
    override_id of the save, the key to its cells in :func:`override_history`), change_text ('+10%' or 'new
    total per month'), first_month, last_month, skus, base_qty, new_qty, change (= new - base, units),
    change_pct (change / base). A family change of 3 months over 22 SKUs is one row, not 66.
    """
    cells = override_history(con, sku=sku, family=family)
    if cells.empty:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    keys = ["created_at", "created_by", "snapshot_date", "level", "target", "unit", "reason"]
    g = cells.groupby(keys, dropna=False, sort=False)
    out = g.agg(event=("override_id", "min"), first_month=("period", "min"), last_month=("period", "max"),
                skus=("sku", "nunique"), base_qty=("base_qty", "sum"), new_qty=("new_qty", "sum"),
                change=("change", "sum"), inputs=("input_value", lambda v: sorted(set(v)))).reset_index()
    out["change_pct"] = out["change"] / out["base_qty"].where(out["base_qty"] != 0)
    out["change_text"] = [
        (f"{v[0]:+g}%" if len(v) == 1 else "% per month") if unit == "percent"
        else ("new total per month" if level != "sku" or len(v) != 1 else f"set to {v[0]:g} units")
        for unit, level, v in zip(out["unit"], out["level"], out["inputs"])]
    return out.sort_values("event", ascending=False)[EVENT_COLUMNS].reset_index(drop=True)


def override_event_cells(con: duckdb.DuckDBPyConnection, event: int) -> pd.DataFrame:
    """The cells (SKU x month) of one override event (:func:`override_events`' ``event``), by SKU and month."""
    cells = override_history(con)
    first = cells[cells["override_id"] == event]
    if first.empty:
        return cells.iloc[0:0]
    key = first.iloc[0]
    same = ((cells["created_at"] == key["created_at"]) & (cells["created_by"] == key["created_by"])
            & (cells["level"] == key["level"]) & (cells["target"] == key["target"]))
    return cells[same].sort_values(["sku", "period"]).reset_index(drop=True)


# ---------------------------------------------------------------------------- forecast value added

# The naive forecast at lag L for month M: the actual of the month before the snapshot month,
# i.e. of month M - L - 1 (the last complete month a forecaster making the lag-L forecast in
# month M - L could know). Scored on the same pairs as kpis.FORECAST_PAIRS_SQL; a month is only
# scored when the demand history reaches back to M - L - 1 (else the naive step has no forecast).
NAIVE_PAIRS_SQL = """
    WITH months AS (  -- grain: month; complete months of the range up to the as-of date
        SELECT CAST(m AS DATE) AS month
        FROM generate_series(date_trunc('month', $start::DATE), date_trunc('month', $end::DATE), INTERVAL 1 MONTH) t(m)
        WHERE CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) <= $as_of
    ), naive_month AS (  -- grain: month; the month whose actual is the naive forecast, inside the demand history
        SELECT m.month, CAST(m.month - to_months(CAST($lag AS INTEGER) + 1) AS DATE) AS known_month
        FROM months m
        WHERE CAST(m.month - to_months(CAST($lag AS INTEGER) + 1) AS DATE)
              >= (SELECT min(month) FROM fact_demand_monthly)
    ), fc AS (  -- grain: sku x month
        SELECT a.sku, n.month, a.qty AS forecast
        FROM naive_month n JOIN fact_demand_monthly a ON a.month = n.known_month
    ), act AS (  -- grain: sku x month
        SELECT a.sku, a.month, a.qty AS actual
        FROM fact_demand_monthly a JOIN naive_month USING (month)
    )
    SELECT coalesce(fc.sku, act.sku) AS sku, coalesce(fc.month, act.month) AS month,
           coalesce(fc.forecast, 0) AS forecast, coalesce(act.actual, 0) AS actual
    FROM fc FULL JOIN act ON fc.sku = act.sku AND fc.month = act.month
"""


def _renamed(sql: str, k: int) -> str:
    """A pairs query with its $lag / $source parameters renamed $lag_k / $source_k (for a UNION)."""
    return sql.replace("$source", f"$source_{k}").replace("$lag", f"$lag_{k}")


def _check_by(by: str | None) -> str | None:
    if by is not None and by not in PRODUCT_DIMS:
        raise ValueError(f"by must be one of {', '.join(PRODUCT_DIMS)} (or None), not {by!r}")
    return by


def _range_params(q: Query) -> dict:
    return {"start": q.start, "end": q.end, "as_of": q.as_of}


def fva_stairstep(
    con: duckdb.DuckDBPyConnection, q: Query, lags: Iterable[int] = (1, 3), by: str | None = None
) -> pd.DataFrame:
    """Forecast value added along naive -> statistical -> sales -> consensus.

    Accuracy and bias are the ``forecast_accuracy`` / ``forecast_bias`` KPIs: at lag L the
    forecast for month M is the source's latest snapshot dated in month M - L; pairs are every
    sku-month with a forecast or an actual (missing = 0); accuracy = max(0, 1 - sum|F - A| /
    sum A), bias = sum(F - A) / sum A. The naive forecast (not stored) at lag L for month M is
    the actual of the month before the snapshot month, i.e. of month M - L - 1, for the same SKU.

    All steps of one lag are scored on the same months: the complete months of q's range that
    every step present at that lag can score (a source without a snapshot in the range is left
    out; the naive step needs demand history back to M - L - 1). ``fva`` = accuracy minus the
    accuracy of the previous step present (NaN for the first step, normally naive).
    ``q.lag`` and ``q.source`` are ignored; ``q.filters`` apply (product dimensions).

    grain: one row per [by] x lag x step. Columns: [by], lag, step, accuracy, bias, fva,
    previous_step, numerator (sum |F - A|), denominator (sum A), sku_months, months, previous_numerator (the
    previous step's sum |F - A| on the same sku-months: what moved when both accuracies floor at 0).
    """
    by = _check_by(by)
    lags = [int(x) for x in lags]
    cols = ([by] if by else []) + FVA_COLUMNS
    if not lags:
        return pd.DataFrame(columns=cols)
    params = _range_params(q)
    parts, k = [], 0
    for lag in lags:
        for order, step in enumerate(STEPS):
            params[f"lag_{k}"] = lag
            if step == "naive":
                sql = _renamed(NAIVE_PAIRS_SQL, k)
            else:
                sql = _renamed(kpis.FORECAST_PAIRS_SQL, k)
                params[f"source_{k}"] = step
            # step and order are constants of this module; lag and source are parameters
            parts.append(f"SELECT {order} AS step_order, '{step}' AS step, $lag_{k} AS lag, x.* FROM ({sql}) x")
            k += 1
    filt = kpis._filter_sql(q.filters, PRODUCT_DIMS, "p", params)
    gsel = f"p.{by} AS {by}, " if by else ""  # by: a constant from PRODUCT_DIMS
    part_by = f"{by}, " if by else ""
    sql = f"""
        WITH pairs AS (  -- grain: lag x step x sku x month
            {" UNION ALL ".join(parts)}
        ), step_months AS (  -- grain: lag x step x month: the months each step can be scored on
            SELECT DISTINCT lag, step, month FROM pairs
        ), n_steps AS (  -- grain: lag: number of steps present
            SELECT lag, count(DISTINCT step) AS n FROM step_months GROUP BY lag
        ), common AS (  -- grain: lag x month: the months every step present at that lag can be scored on
            SELECT sm.lag, sm.month
            FROM step_months sm JOIN n_steps USING (lag)
            GROUP BY sm.lag, sm.month, n_steps.n
            HAVING count(*) = n_steps.n
        ), scored AS (  -- grain: [by] x lag x step
            SELECT {gsel}x.lag, x.step, x.step_order,
                   sum(abs(x.forecast - x.actual)) AS numerator, sum(x.forecast - x.actual) AS error,
                   sum(x.actual) AS denominator, count(*) AS sku_months, count(DISTINCT x.month) AS months
            FROM pairs x JOIN common USING (lag, month) JOIN products p USING (sku)
            WHERE true {filt}
            GROUP BY ALL
        ), rated AS (  -- grain: [by] x lag x step
            SELECT *, greatest(0, 1 - numerator / nullif(denominator, 0)) AS accuracy,
                   error / nullif(denominator, 0) AS bias
            FROM scored
        )
        SELECT {part_by}lag, step,
               accuracy, bias,
               accuracy - lag(accuracy) OVER w AS fva,
               lag(step) OVER w AS previous_step,
               numerator, denominator, sku_months, months,
               lag(numerator) OVER w AS previous_numerator
        FROM rated
        WINDOW w AS (PARTITION BY {part_by}lag ORDER BY step_order)
        ORDER BY {part_by}lag, step_order
    """
    df = kpis._run(con, sql, params)
    return df[cols] if not df.empty else pd.DataFrame(columns=cols)


FVA_BY_REASON_SQL = """
    WITH months AS (  -- grain: month; complete months of the range up to the as-of date
        SELECT CAST(m AS DATE) AS month
        FROM generate_series(date_trunc('month', $start::DATE), date_trunc('month', $end::DATE), INTERVAL 1 MONTH) t(m)
        WHERE CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) <= $as_of
    ), snap AS (  -- grain: month; the consensus snapshot lag-L accuracy scores (as kpis.FORECAST_PAIRS_SQL picks it)
        SELECT m.month, max(s.snapshot_date) AS snapshot_date
        FROM months m JOIN (SELECT DISTINCT snapshot_date FROM forecasts WHERE source = 'consensus') s
          ON date_trunc('month', s.snapshot_date) = m.month - to_months($lag)
        GROUP BY m.month
    ), in_force AS (  -- grain: sku x month; the last override of the cell saved in the snapshot month, up to that snapshot
        SELECT o.sku, o.reason, o.base_qty, o.new_qty, o.base_source, snap.month, snap.snapshot_date AS scored_snapshot
        FROM forecast_overrides o
        JOIN snap ON o.period = snap.month
                 AND date_trunc('month', o.snapshot_date) = date_trunc('month', snap.snapshot_date)
                 AND o.snapshot_date <= snap.snapshot_date
        QUALIFY row_number() OVER (PARTITION BY o.sku, snap.month ORDER BY o.snapshot_date DESC, o.override_id DESC) = 1
    ), cells AS (  -- grain: sku x month; the override's value must still be the scored consensus value
        SELECT i.reason, i.sku, i.month, i.base_qty, f.quantity AS consensus_qty, i.base_source,
               coalesce(a.qty, 0) AS actual
        FROM in_force i
        JOIN forecasts f ON f.source = 'consensus' AND f.snapshot_date = i.scored_snapshot
                        AND f.sku = i.sku AND f.period = i.month
        LEFT JOIN fact_demand_monthly a ON a.sku = i.sku AND a.month = i.month
        JOIN products p ON p.sku = i.sku
        WHERE abs(f.quantity - i.new_qty) < 1e-6 {filt}
    ), steps AS (  -- grain: reason x step x sku x month
        SELECT reason, 0 AS step_order, $before AS step, base_qty AS forecast, actual, base_source FROM cells
        UNION ALL
        SELECT reason, 1 AS step_order, 'consensus' AS step, consensus_qty AS forecast, actual, base_source FROM cells
    ), scored AS (  -- grain: reason x step
        SELECT reason, step_order, step,
               sum(abs(forecast - actual)) AS numerator, sum(forecast - actual) AS error,
               sum(actual) AS denominator, count(*) AS sku_months,
               string_agg(DISTINCT base_source, ', ' ORDER BY base_source) AS base_sources
        FROM steps GROUP BY ALL
    ), rated AS (  -- grain: reason x step
        SELECT *, greatest(0, 1 - numerator / nullif(denominator, 0)) AS accuracy,
               error / nullif(denominator, 0) AS bias
        FROM scored
    )
    SELECT reason, $lag AS lag, step, accuracy, bias,
           accuracy - lag(accuracy) OVER w AS fva, lag(step) OVER w AS previous_step,
           numerator, denominator, sku_months, base_sources,
           lag(numerator) OVER w AS previous_numerator
    FROM rated
    WINDOW w AS (PARTITION BY reason ORDER BY step_order)
    ORDER BY reason, step_order
"""


def fva_by_reason(con: duckdb.DuckDBPyConnection, q: Query, lag: int = 1) -> pd.DataFrame:
    """Did the planners' overrides help, per reason given?

    At lag L, month M is scored with the latest consensus snapshot dated in month M - L (as the
    accuracy KPI). A sku-month counts for reason R when the override in force on it is one saved
    in that same month, on or before that snapshot (the last such override of the cell), with
    reason R, and the scored consensus value is still the override's value. Two steps are
    compared on those sku-months only: ``before override`` (base_qty: the statistical or previous
    consensus snapshot the override was based on) and ``consensus``; fva = consensus accuracy -
    accuracy before the override. ``q.filters`` apply; ``q.lag`` / ``q.source`` are ignored.

    grain: one row per reason x step. Columns: reason, lag, step, accuracy, bias, fva,
    previous_step, numerator, denominator, sku_months, base_sources.
    """
    if not _has_table(con, "forecast_overrides"):
        return pd.DataFrame(columns=REASON_COLUMNS)
    params = _range_params(q) | {"lag": int(lag), "before": BEFORE_OVERRIDE}
    filt = kpis._filter_sql(q.filters, PRODUCT_DIMS, "p", params)
    df = kpis._run(con, FVA_BY_REASON_SQL.format(filt=filt), params)
    return df[REASON_COLUMNS] if not df.empty else pd.DataFrame(columns=REASON_COLUMNS)


_SUBJECT = {
    "naive": "The naive forecast",
    "statistical": "The statistical model",
    "sales": "Sales input",
    "consensus": "Consensus overrides",
}
_DIM_WORD = {"family": "family", "sku": "SKU", "work_center": "work center"}


def fva_verdicts(df: pd.DataFrame) -> list[str]:
    """Plain sentences from :func:`fva_stairstep` or :func:`fva_by_reason`, one per scored step.

    e.g. "Consensus overrides made the forecast WORSE for family Outdoor at lag 1: accuracy
    61.2% vs 68.0% statistical (-6.8 pts)." Steps without an fva (the first step, or no demand)
    give no sentence; a change that rounds to 0.0 pts says the step did not change accuracy, unless both
    accuracies are floored at 0 (the error exceeds demand) and the absolute error moved: then the verdict
    compares the absolute errors (same sku-months, so the same demand), e.g. "... BETTER ...: absolute error
    12,388 vs 13,053 statistical (-5.1%); accuracy 0.0% for both (floored at 0: the error is larger than the
    demand)."
    """
    if df is None or df.empty or "fva" not in df.columns:
        return []
    dim = next((d for d in _DIM_WORD if d in df.columns), None)
    out = []
    for rec in df.to_dict("records"):
        fva, acc = rec.get("fva"), rec.get("accuracy")
        if fva is None or acc is None or pd.isna(fva) or pd.isna(acc):
            continue
        prev = acc - fva
        if "reason" in df.columns:
            subject = f"Overrides with reason '{rec['reason']}'"
            scope = ""
            prev_label = "before the override"
            n = int(rec["sku_months"])
            tail = f", {n} sku-month{'s' if n != 1 else ''}"
        else:
            subject = _SUBJECT.get(rec["step"], f"The {rec['step']} forecast")
            scope = f" for {_DIM_WORD[dim]} {rec[dim]}" if dim else " overall"
            prev_label = str(rec.get("previous_step") or "the previous step")
            tail = ""
        pts = round(fva * 100, 1)
        lag = int(rec["lag"])
        num, prev_num = rec.get("numerator"), rec.get("previous_numerator")
        floored = acc == 0 and prev == 0 and num is not None and prev_num is not None and not pd.isna(prev_num)
        if pts == 0 and floored and abs(num - prev_num) > 5e-4 * max(abs(prev_num), 1.0):
            word = "BETTER" if num < prev_num else "WORSE"
            change = f" ({(num - prev_num) / prev_num:+.1%}{tail})" if prev_num else (f" ({tail[2:]})" if tail else "")
            out.append(
                f"{subject} made the forecast {word}{scope} at lag {lag}: absolute error {num:,.0f} vs "
                f"{prev_num:,.0f} {prev_label}{change}; accuracy {acc:.1%} for both (floored at 0: the error is "
                "larger than the demand)."
            )
            continue
        if pts == 0:
            out.append(
                f"{subject} did not change accuracy{scope} at lag {lag}: {acc:.1%} vs {prev:.1%} {prev_label}."
            )
            continue
        word = "BETTER" if pts > 0 else "WORSE"
        out.append(
            f"{subject} made the forecast {word}{scope} at lag {lag}: accuracy {acc:.1%} vs {prev:.1%} "
            f"{prev_label} ({pts:+.1f} pts{tail})."
        )
    return out


# ---------------------------------------------------------------------------- accuracy by lag, bias


def accuracy_by_lag(
    con: duckdb.DuckDBPyConnection,
    q: Query,
    lags: Iterable[int] = range(1, 7),
    source: str = "consensus",
    by_month: bool = True,
) -> pd.DataFrame:
    """How accuracy decays with the forecast horizon: the forecast_accuracy / forecast_bias KPIs
    of ``source`` at each lag, computed by the KPI engine (``kpis.kpi_values``).

    grain: one row per month x lag (``by_month``) or per lag over q's whole range; lags or months
    without a snapshot (or without demand) are left out. Columns: month (only with ``by_month``),
    lag, accuracy, bias, numerator (sum |F - A|), denominator (sum A).
    """
    cols = LAG_COLUMNS if by_month else LAG_COLUMNS[1:]
    availability = kpis.data_availability(con)
    frames = []
    for lag in lags:
        qq = Query(q.start, q.end, q.as_of, q.filters, int(lag), source)
        by = ("month",) if by_month else ()
        v = kpis.kpi_values(con, qq, ("forecast_accuracy", "forecast_bias"), by=by, availability=availability)
        keys = list(by)
        acc = v.loc[v["kpi"] == "forecast_accuracy", keys + ["value", "numerator", "denominator"]]
        bias = v.loc[v["kpi"] == "forecast_bias", keys + ["value"]].rename(columns={"value": "bias"})
        acc = acc.rename(columns={"value": "accuracy"})
        if keys:
            part = acc.merge(bias, on=keys, how="left")
        else:
            part = acc.assign(bias=bias["bias"].to_numpy())
        part = part[part["accuracy"].notna()]
        if part.empty:
            continue
        part.insert(len(keys), "lag", int(lag))
        frames.append(part)
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)[cols]
    if by_month:
        df["month"] = pd.to_datetime(df["month"]).dt.date
        df = df.sort_values(["month", "lag"], kind="stable")
    return df.reset_index(drop=True)


def bias_exceptions(
    con: duckdb.DuckDBPyConnection, q: Query, months: int = 6, threshold: float = 4.0
) -> pd.DataFrame:
    """SKUs whose forecast is persistently too high or too low, with what it costs.

    The tracking signal comes from ``kpis.tracking_signals`` (q.lag, q.source, the ``months``
    complete months ending at q.end): TS = sum(A - F) / MAD, flagged when |TS| > threshold.
    TS < 0: over-forecast; TS > 0: under-forecast. ``sum_error`` keeps that sign (A - F, units);
    money_impact = |sum_error| x the product's unit_price.

    grain: one row per flagged SKU, largest money impact first. Columns: sku, family, direction,
    months, sum_error, mad, tracking_signal, unit_price, money_impact.
    """
    ts = kpis.tracking_signals(con, q, months=months, threshold=threshold)
    flagged = ts[ts["flag"].fillna(False).astype(bool)] if not ts.empty else ts
    if flagged.empty:
        return pd.DataFrame(columns=EXCEPTION_COLUMNS)
    prices = con.execute(  # grain: one row per flagged sku
        "SELECT sku, unit_price FROM products WHERE list_contains($skus, sku)",
        {"skus": flagged["sku"].tolist()},
    ).df()
    out = flagged.merge(prices, on="sku", how="left")
    out["direction"] = out["tracking_signal"].map(lambda t: "under-forecast" if t > 0 else "over-forecast")
    out["money_impact"] = out["sum_error"].abs() * out["unit_price"]
    out = out.sort_values(["money_impact", "sku"], ascending=[False, True], na_position="last")
    return out[EXCEPTION_COLUMNS].reset_index(drop=True)
