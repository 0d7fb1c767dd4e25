"""Queries behind the planner's demand workbench: history, the latest run's forecast fan, past snapshots,
backtests, the leaderboard, and bottom-up against direct family forecasts.

A "series" is a SKU (``level='sku'``), a family (``level='family'``) or everything (``level='total'``).
A forecast run reconciles SKU, family and total forecasts (``analytics/forecasting/reconcile.py``), so the
family and total forecasts are the sums of the SKU forecasts, and their intervals are the reconciled
intervals of that family or the total. The base forecasts (each series through the automatic pipeline on its
own, before reconciliation: for a family, its direct forecast) are shown beside them. Runs made before
reconciliation existed have no base table: their family view is the plain bottom-up sum.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.forecasting.batch import FAMILY_PREFIX, TOTAL_ID

LEVELS = ("sku", "family", "total")


def _sku_filter(level: str, key: str | None) -> tuple[str, dict]:
    """A constant SQL predicate on products alias p, with its parameters."""
    if level == "sku":
        return "p.sku = $key", {"key": key}
    if level == "family":
        return "p.family = $key", {"key": key}
    return "true", {}


def latest_run(con) -> dict | None:
    """The forecast run with the newest snapshot (run_id, snapshot_date, horizon, n_series, n_failed, seconds,
    executor): a backfill run made later for an earlier month-end does not replace it."""
    df = con.execute("SELECT * FROM forecast_runs ORDER BY snapshot_date DESC, run_id DESC LIMIT 1").df()
    return None if df.empty else df.iloc[0].to_dict()


def history(con, level: str, key: str | None, last_month: date) -> pd.DataFrame:
    """grain: one row per month from the series' first month with orders to ``last_month``: month, actual
    (ordered quantity, 0 in a month without orders: an intermittent SKU's chart shows its empty months, as the
    forecast models see them, see ``forecasting.batch.demand_history``)."""
    pred, params = _sku_filter(level, key)
    sql = f"""
        WITH demand AS (  -- grain: month with orders
            SELECT d.month, sum(d.qty) AS actual
            FROM fact_demand_monthly d JOIN products p USING (sku)
            WHERE {pred} AND d.month <= $last
            GROUP BY d.month
        ), months AS (  -- grain: month, every one from the first with orders to $last
            SELECT CAST(unnest(generate_series(min(month), $last::DATE, INTERVAL 1 MONTH)) AS DATE) AS month
            FROM demand HAVING count(*) > 0
        )
        SELECT m.month, coalesce(d.actual, 0) AS actual
        FROM months m LEFT JOIN demand d USING (month)
        ORDER BY m.month
    """
    return con.execute(sql, params | {"last": last_month}).df()


def _aggregate_id(level: str, key: str | None) -> str | None:
    return FAMILY_PREFIX + str(key) if level == "family" else (TOTAL_ID if level == "total" else None)


def is_reconciled(con, run_id: int) -> bool:
    """Did this run reconcile its forecasts (and keep the base forecasts)?"""
    row = con.execute("SELECT count(*) FROM forecast_base WHERE run_id = $run", {"run": run_id}).fetchone()
    return bool(row[0])


def forecast_fan(con, level: str, key: str | None, run_id: int) -> pd.DataFrame:
    """grain: one row per future month: period, mean, lo80, hi80, lo95, hi95 of the run, skus.

    The mean of a family or the total is the sum of its SKUs' (reconciled) means. Its bounds are the
    reconciled interval of that family or the total when the run stored one; otherwise (runs before
    reconciliation) the sums of the SKU bounds, which overstate the spread.
    """
    pred, params = _sku_filter(level, key)
    sql = f"""
        WITH skus AS (  -- grain: period: the SKU forecasts of the series, summed
            SELECT i.period, sum(i.mean) AS mean, sum(i.lo80) AS lo80, sum(i.hi80) AS hi80,
                   sum(i.lo95) AS lo95, sum(i.hi95) AS hi95, count(*) AS skus
            FROM forecast_intervals i JOIN products p ON p.sku = i.unique_id
            WHERE i.run_id = $run AND {pred}
            GROUP BY i.period
        ), agg AS (  -- grain: period: the reconciled interval of the family or total, if stored
            SELECT period, lo80, hi80, lo95, hi95 FROM forecast_intervals
            WHERE run_id = $run AND unique_id = $agg
              AND EXISTS (SELECT 1 FROM forecast_base WHERE run_id = $run)
        )
        SELECT s.period, s.mean, coalesce(a.lo80, s.lo80) AS lo80, coalesce(a.hi80, s.hi80) AS hi80,
               coalesce(a.lo95, s.lo95) AS lo95, coalesce(a.hi95, s.hi95) AS hi95, s.skus
        FROM skus s LEFT JOIN agg a USING (period)
        ORDER BY s.period
    """
    return con.execute(sql, params | {"run": run_id, "agg": _aggregate_id(level, key)}).df()


def base_forecast(con, level: str, key: str | None, run_id: int) -> pd.DataFrame:
    """grain: one row per future month of the series' own base forecast (before reconciliation): period,
    mean, lo80, hi80, lo95, hi95, model. For a family this is its direct forecast; runs before
    reconciliation stored it in forecast_intervals."""
    uid = key if level == "sku" else _aggregate_id(level, key)
    return con.execute(
        """-- grain: one row per period of one series
        SELECT period, mean, lo80, hi80, lo95, hi95, model FROM forecast_base
        WHERE run_id = $run AND unique_id = $uid
        UNION ALL
        SELECT period, mean, lo80, hi80, lo95, hi95, model FROM forecast_intervals
        WHERE run_id = $run AND unique_id = $uid AND NOT EXISTS (SELECT 1 FROM forecast_base WHERE run_id = $run)
        ORDER BY period""",
        {"run": run_id, "uid": uid},
    ).df()


def direct_family_forecast(con, family: str, run_id: int) -> pd.DataFrame:
    """grain: one row per future month of the family's own (direct, base) forecast."""
    return base_forecast(con, "family", family, run_id)


def past_snapshots(con, level: str, key: str | None, source: str, before: date, n: int = 6) -> pd.DataFrame:
    """grain: snapshot x period: the ``n`` latest snapshots of ``source`` dated before ``before``."""
    pred, params = _sku_filter(level, key)
    sql = f"""
        WITH snaps AS (
            SELECT DISTINCT snapshot_date FROM forecasts
            WHERE source = $source AND snapshot_date < $before
            ORDER BY snapshot_date DESC LIMIT $n
        )
        SELECT f.snapshot_date, f.period, sum(f.quantity) AS quantity
        FROM forecasts f JOIN snaps USING (snapshot_date) JOIN products p USING (sku)
        WHERE f.source = $source AND {pred}
        GROUP BY ALL ORDER BY f.snapshot_date, f.period
    """
    return con.execute(sql, params | {"source": source, "before": before, "n": n}).df()


def current_snapshot(con, level: str, key: str | None, source: str) -> pd.DataFrame:
    """grain: period: the latest snapshot of ``source`` (e.g. the consensus the planner last saved)."""
    pred, params = _sku_filter(level, key)
    sql = f"""
        WITH snap AS (SELECT max(snapshot_date) AS d FROM forecasts WHERE source = $source)
        SELECT f.period, sum(f.quantity) AS quantity, any_value(f.snapshot_date) AS snapshot_date
        FROM forecasts f JOIN snap ON f.snapshot_date = snap.d JOIN products p USING (sku)
        WHERE f.source = $source AND {pred}
        GROUP BY f.period ORDER BY f.period
    """
    return con.execute(sql, params | {"source": source}).df()


def leaderboard(con, unique_id: str, run_id: int) -> pd.DataFrame:
    """grain: one row per candidate model of one series in one run, best first."""
    return con.execute(
        "SELECT model, wmape, mase, smape, bias, chosen, notes, demand_class, reason, error_sigma_lag1 "
        "FROM forecast_leaderboard WHERE run_id = $run AND unique_id = $uid ORDER BY chosen DESC, wmape",
        {"run": run_id, "uid": unique_id},
    ).df()


def model_mix(con, run_id: int) -> pd.DataFrame:
    """grain: demand class x chosen model: how many SKUs, for the run summary."""
    return con.execute(
        "SELECT demand_class, model, count(*) AS skus FROM forecast_leaderboard "
        "WHERE run_id = $run AND chosen AND NOT starts_with(unique_id, $fam) AND unique_id <> $total "
        "GROUP BY ALL ORDER BY skus DESC",
        {"run": run_id, "fam": FAMILY_PREFIX, "total": TOTAL_ID},
    ).df()


def backtests(con, unique_id: str, run_id: int, model: str | None = None) -> pd.DataFrame:
    """grain: origin x period: backtest forecasts of one series against the actuals."""
    extra = " AND model = $model" if model else ""
    params = {"run": run_id, "uid": unique_id} | ({"model": model} if model else {})
    return con.execute(
        "SELECT cutoff_period, period, step, model, forecast, y AS actual FROM forecast_backtests "
        f"WHERE run_id = $run AND unique_id = $uid{extra} ORDER BY model, cutoff_period, period",
        params,
    ).df()


def series_options(con) -> dict[str, list[str]]:
    """SKUs (with name) and families that the workbench can show."""
    skus = con.execute("SELECT sku, name, family FROM products ORDER BY family, sku").df()
    return {"sku": skus["sku"].tolist(), "family": sorted(skus["family"].unique().tolist()),
            "sku_label": dict(zip(skus["sku"], skus["sku"] + " · " + skus["name"]))}
