"""Inventory policy per SKU: ABC/XYZ classes, safety stock, reorder point and the money it ties up.

safety stock  = z(service level) x sigma x sqrt(lead time in months)
reorder point = mean monthly demand x lead time + safety stock
money tied up = safety stock x unit_cost

* ``sigma`` is the standard deviation (sample, n - 1) of the lag-1 forecast error A - F per SKU over the
  last ``history_months`` complete months, with A = ordered quantity by order month (fact_demand_monthly)
  and F the lag-1 forecast exactly as the forecast-accuracy KPI defines it (``kpis.forecast_pairs``).
  A month with a lag-1 snapshot in which the SKU has neither forecast nor orders counts as error 0.
  The consensus is used when the SKU had a positive consensus forecast in at least ``min_forecast_months``
  of those months, else the statistical forecast on the same rule, else the latest forecast run's backtest
  (``forecast_leaderboard.error_sigma_lag1`` of the chosen model), else the standard deviation of monthly
  demand. ``sigma_source`` says which, per SKU.
* ``service level``: per ABC class (defaults A 98%, B 95%, C 90%), overridden per family.
* ``lead time``: a setting per SKU, else a global setting, else the median production lead time
  (actual_end - actual_start of finished work orders, in months of 30.4375 days) of the SKU, else of its
  work center, else of all work orders; never below ``min_lead_time_months`` (0.25).
* ABC by revenue over the same months: sorted by revenue, a SKU is A while the cumulative revenue share up
  to and including it is within 80%, B within 95%, C beyond (the top SKU is always A; no revenue: C).
  XYZ by the coefficient of variation (sample std / mean) of monthly demand, missing months = 0:
  X below 0.5, Y below 1.0, Z otherwise (also Z without demand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtri  # = scipy.stats.norm.ppf, without importing scipy.stats (~1 s)

from analytics import kpis
from analytics.kpis import Query, add_months, last_complete_month, month_range
from analytics.planning.common import DAYS_PER_MONTH, PlanningError, as_date, has_table

ABC_LIMITS = (0.80, 0.95)
XYZ_LIMITS = (0.5, 1.0)

ABC_XYZ_COLUMNS = ["sku", "family", "work_center", "revenue", "revenue_share", "cumulative_share", "abc",
                   "mean_monthly_demand", "std_monthly_demand", "cv", "xyz", "abc_xyz", "months"]
SAFETY_STOCK_COLUMNS = [
    "sku", "family", "work_center", "abc", "xyz", "service_level", "service_level_source", "z",
    "sigma", "sigma_source", "sigma_months", "lead_time_months", "lead_time_source", "mean_monthly_demand",
    "safety_stock", "reorder_point", "unit_cost", "money_tied_up", "formula",
]


@dataclass(frozen=True)
class PolicySettings:
    """Inventory-policy settings (frozen: hashable, keys caches). Pairs are (key, value) tuples.

    service_by_class: service level per ABC class. service_by_family: overrides per family.
    lead_time_months: one lead time for every SKU (None: from production history).
    lead_time_by_sku: overrides per SKU. history_months: months of history for sigma, ABC and XYZ.
    min_forecast_months: months with a positive forecast a source needs before its error is trusted.
    """

    service_by_class: tuple[tuple[str, float], ...] = (("A", 0.98), ("B", 0.95), ("C", 0.90))
    service_by_family: tuple[tuple[str, float], ...] = ()
    lead_time_months: float | None = None
    lead_time_by_sku: tuple[tuple[str, float], ...] = ()
    history_months: int = 12
    min_forecast_months: int = 3
    min_lead_time_months: float = 0.25
    sigma_sources: tuple[str, ...] = ("consensus", "statistical")

    def __post_init__(self):
        for what, pairs in (("class", self.service_by_class), ("family", self.service_by_family)):
            for key, level in pairs:
                if not isinstance(level, int | float) or not 0 < float(level) < 1:
                    raise PlanningError(
                        f"The service level for {what} {key!r} must be between 0 and 1 (e.g. 0.95 for 95%), "
                        f"not {level!r}."
                    )
        missing = {"A", "B", "C"} - {k for k, _ in self.service_by_class}
        if missing:
            raise PlanningError(f"Set a service level for every ABC class (missing: {', '.join(sorted(missing))}).")
        for key, lt in ((None, self.lead_time_months), *self.lead_time_by_sku):
            if lt is not None and (not isinstance(lt, int | float) or not math.isfinite(lt) or lt <= 0):
                where = f"SKU {key!r}" if key else "every SKU"
                raise PlanningError(f"The lead time for {where} must be a positive number of months, not {lt!r}.")
        if not isinstance(self.history_months, int) or self.history_months < 2:
            raise PlanningError("history_months must be a whole number of at least 2.")
        if self.min_lead_time_months < 0:
            raise PlanningError("min_lead_time_months cannot be negative.")


def z_value(service_level: float) -> float:
    """The standard normal quantile for a cycle service level: z(0.95) = 1.6449."""
    if not 0 < service_level < 1:
        raise PlanningError(f"A service level must be between 0 and 1, not {service_level!r}.")
    return float(ndtri(service_level))


def safety_stock_units(sigma: float, service_level: float, lead_time_months: float) -> float:
    """z(service level) x sigma x sqrt(lead time in months); never below 0.

    Example: sigma 10, 95% (z 1.6449), lead time 1 month -> 16.45 units.
    """
    if sigma < 0 or lead_time_months < 0:
        raise PlanningError("sigma and the lead time cannot be negative.")
    return max(0.0, z_value(service_level) * sigma * math.sqrt(lead_time_months))


def abc_class(revenue: pd.Series, limits: tuple[float, float] = ABC_LIMITS) -> pd.Series:
    """ABC class per item (same index): A while the cumulative revenue share (sorted descending, including
    the item) is within limits[0], B within limits[1], else C. The top item is always A; no revenue: C."""
    rev = revenue.astype(float).clip(lower=0)
    order = rev.sort_values(ascending=False, kind="stable").index
    total = rev.sum()
    out = pd.Series("C", index=rev.index, dtype=object)
    if total <= 0:
        return out
    cum = rev.loc[order].cumsum() / total
    cls = np.where(cum <= limits[0] + 1e-12, "A", np.where(cum <= limits[1] + 1e-12, "B", "C"))
    cls[0] = "A"
    out.loc[order] = cls
    out[rev <= 0] = "C"
    return out


def xyz_class(cv: pd.Series, limits: tuple[float, float] = XYZ_LIMITS) -> pd.Series:
    """X when the coefficient of variation is below limits[0], Y below limits[1], else Z (NaN/inf: Z)."""
    c = cv.astype(float)
    return pd.Series(np.where(c < limits[0], "X", np.where(c < limits[1], "Y", "Z")), index=cv.index, dtype=object)


def history_window(as_of, months: int = 12) -> tuple:
    """(first month, last day) of the ``months`` complete months ending with the last complete month."""
    last = last_complete_month(as_date(as_of))
    return add_months(last, -(months - 1)), month_range(last)[1]


def abc_xyz(con: duckdb.DuckDBPyConnection, as_of, months: int = 12) -> pd.DataFrame:
    """ABC (revenue) and XYZ (demand variability) class per SKU over the last ``months`` complete months.

    grain: one row per product. Columns: sku, family, work_center, revenue, revenue_share, cumulative_share
    (share of the SKUs ranked above it plus its own), abc, mean_monthly_demand, std_monthly_demand (sample),
    cv, xyz, abc_xyz (e.g. 'AX'), months.
    """
    start, end = history_window(as_of, months)
    df = con.execute(
        """-- grain: one row per product x month of the window; missing months = 0
        WITH months AS (
            SELECT CAST(m AS DATE) AS month
            FROM generate_series($start::DATE, $end::DATE, INTERVAL 1 MONTH) t(m)
        )
        SELECT p.sku, p.family, p.work_center, m.month,
               coalesce(d.qty, 0) AS qty, coalesce(d.revenue, 0) AS revenue
        FROM products p CROSS JOIN months m
        LEFT JOIN fact_demand_monthly d ON d.sku = p.sku AND d.month = m.month
        ORDER BY p.sku, m.month""",
        {"start": start, "end": end},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=ABC_XYZ_COLUMNS)
    g = df.groupby("sku", sort=True).agg(
        family=("family", "first"), work_center=("work_center", "first"), revenue=("revenue", "sum"),
        mean_monthly_demand=("qty", "mean"), std_monthly_demand=("qty", "std"), months=("qty", "size"),
    )
    total = g["revenue"].sum()
    g["revenue_share"] = g["revenue"] / total if total > 0 else 0.0
    ranked = g["revenue"].sort_values(ascending=False, kind="stable")
    g["cumulative_share"] = (ranked.cumsum() / total).reindex(g.index) if total > 0 else 0.0
    g["abc"] = abc_class(g["revenue"])
    mean = g["mean_monthly_demand"]
    g["cv"] = np.where(mean > 0, g["std_monthly_demand"] / mean.where(mean > 0), np.inf)
    g["xyz"] = xyz_class(g["cv"])
    g["abc_xyz"] = g["abc"] + g["xyz"]
    return g.reset_index()[ABC_XYZ_COLUMNS]


# ---------------------------------------------------------------------------- sigma


def forecast_error_sigma(con, as_of, source: str, months: int = 12, min_forecast_months: int = 3) -> pd.DataFrame:
    """Lag-1 forecast error per SKU of one forecast source over the last ``months`` complete months.

    grain: one row per SKU that had a positive forecast of the source in >= ``min_forecast_months`` months.
    Columns: sku, sigma (sample std of A - F over the months with a lag-1 snapshot; a month in which the
    SKU has no row counts as error 0), months (those months), forecast_months, mean_error.
    Pairs come from ``kpis.forecast_pairs`` (the forecast-accuracy KPI's definition).
    """
    start, end = history_window(as_of, months)
    pairs = kpis.forecast_pairs(con, Query(start, end, as_date(as_of), lag=1, source=source))
    cols = ["sku", "sigma", "months", "forecast_months", "mean_error"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    pairs["err"] = pairs["actual"].astype(float) - pairs["forecast"].astype(float)
    all_months = sorted(pairs["month"].unique())
    err = pairs.pivot_table(index="sku", columns="month", values="err", aggfunc="sum").reindex(columns=all_months)
    err = err.fillna(0.0)
    n = len(all_months)
    fc_months = pairs[pairs["forecast"] > 0].groupby("sku")["month"].nunique()
    out = pd.DataFrame({
        "sku": err.index,
        "sigma": err.std(axis=1, ddof=1).to_numpy() if n >= 2 else np.nan,
        "months": n,
        "forecast_months": fc_months.reindex(err.index).fillna(0).astype(int).to_numpy(),
        "mean_error": err.mean(axis=1).to_numpy(),
    })
    keep = (out["forecast_months"] >= min_forecast_months) & out["sigma"].notna() & (n >= 2)
    return out[keep].reset_index(drop=True)


def backtest_sigma(con, as_of) -> tuple[int | None, pd.DataFrame]:
    """(run_id, frame) of the latest forecast run on or before ``as_of``: the chosen model's lag-1 error sigma.

    grain: one row per SKU of the run. Columns: sku, model, sigma. (None, empty) without forecast runs.
    """
    empty = pd.DataFrame(columns=["sku", "model", "sigma"])
    if not has_table(con, "forecast_leaderboard"):
        return None, empty
    run = None
    if has_table(con, "forecast_runs"):
        rows = con.execute(  # grain: one row: the latest run made on or before the as-of date
            "SELECT max(run_id) FROM forecast_runs WHERE snapshot_date <= $as_of", {"as_of": as_date(as_of)}
        ).fetchall()
        run = rows[0][0]
    if run is None:
        rows = con.execute("SELECT max(run_id) FROM forecast_leaderboard").fetchall()
        run = rows[0][0]
    if run is None:
        return None, empty
    df = con.execute(
        """-- grain: one row per SKU: the chosen model's lag-1 backtest error sigma in the run
        SELECT unique_id AS sku, any_value(model) AS model, max(error_sigma_lag1) AS sigma
        FROM forecast_leaderboard
        WHERE run_id = $run AND chosen AND error_sigma_lag1 IS NOT NULL AND isfinite(error_sigma_lag1)
        GROUP BY unique_id""",
        {"run": int(run)},
    ).df()
    return int(run), df


# ---------------------------------------------------------------------------- lead time


def production_lead_times(con, as_of) -> tuple[pd.DataFrame, pd.Series, float | None]:
    """Median production lead time in days (actual_end - actual_start) of work orders finished by ``as_of``.

    Returns (per SKU: frame with sku, days, work_orders; per work center: Series of days; all work orders:
    days or None).
    """
    df = con.execute(
        """-- grain: one row per SKU, per work center, and one for all finished work orders (medians in days)
        SELECT sku, work_center, median(CAST(actual_end - actual_start AS DOUBLE)) AS days, count(*) AS work_orders,
               GROUPING(sku) AS g_sku, GROUPING(work_center) AS g_wc
        FROM production
        WHERE actual_end IS NOT NULL AND actual_start IS NOT NULL AND actual_end <= $as_of
          AND actual_end >= actual_start
        GROUP BY GROUPING SETS ((sku), (work_center), ())""",
        {"as_of": as_date(as_of)},
    ).df()
    per_sku = df[df["g_sku"] == 0][["sku", "days", "work_orders"]].reset_index(drop=True)
    per_wc = df[(df["g_sku"] == 1) & (df["g_wc"] == 0)].set_index("work_center")["days"]
    overall = df[(df["g_sku"] == 1) & (df["g_wc"] == 1) & (df["work_orders"] > 0)]["days"]
    return per_sku, per_wc, (float(overall.iloc[0]) if len(overall) and pd.notna(overall.iloc[0]) else None)


def _lead_times(con, as_of, products: pd.DataFrame, settings: PolicySettings) -> pd.DataFrame:
    """grain: one row per product (same index): lead_time_months, lead_time_source."""
    hist, wc, all_days = production_lead_times(con, as_of)
    hist = hist.set_index("sku")
    per_sku = dict(settings.lead_time_by_sku)
    out = []
    floor = settings.min_lead_time_months
    for sku, work_center in zip(products["sku"], products["work_center"]):
        if sku in per_sku:
            lt, src = float(per_sku[sku]), "setting (SKU)"
        elif settings.lead_time_months is not None:
            lt, src = float(settings.lead_time_months), "setting"
        else:
            if sku in hist.index and pd.notna(hist.at[sku, "days"]):
                days = float(hist.at[sku, "days"])
                src = f"production history (median of {int(hist.at[sku, 'work_orders'])} work orders)"
            elif work_center in wc.index and pd.notna(wc[work_center]):
                days, src = float(wc[work_center]), "production history (work center median)"
            elif all_days is not None:
                days, src = all_days, "production history (all work orders)"
            else:
                days, src = 0.0, "no production history"
            lt = days / DAYS_PER_MONTH
            if lt < floor:
                lt, src = floor, src + f", raised to the {floor:g}-month minimum"
        out.append((lt, src))
    return pd.DataFrame(out, columns=["lead_time_months", "lead_time_source"], index=products.index)


# ---------------------------------------------------------------------------- safety stock


def safety_stock(con: duckdb.DuckDBPyConnection, as_of, settings: PolicySettings | None = None) -> pd.DataFrame:
    """Safety stock, reorder point and money tied up per SKU, with every input and the formula.

    grain: one row per product. Columns: sku, family, work_center, abc, xyz, service_level,
    service_level_source, z, sigma, sigma_source, sigma_months, lead_time_months, lead_time_source,
    mean_monthly_demand, safety_stock, reorder_point, unit_cost, money_tied_up (= safety_stock x unit_cost),
    formula (the calculation written out with this row's numbers).
    """
    settings = settings or PolicySettings()
    as_of = as_date(as_of)
    classes = abc_xyz(con, as_of, settings.history_months)
    if classes.empty:
        return pd.DataFrame(columns=SAFETY_STOCK_COLUMNS)
    products = con.execute("SELECT sku, unit_cost FROM products").df().set_index("sku")
    df = classes.copy()
    df["unit_cost"] = df["sku"].map(products["unit_cost"]).astype(float)

    # service level: family override, else ABC class default
    by_class, by_family = dict(settings.service_by_class), dict(settings.service_by_family)
    fam_hit = df["family"].isin(list(by_family))
    df["service_level"] = np.where(fam_hit, df["family"].map(by_family), df["abc"].map(by_class)).astype(float)
    df["service_level_source"] = np.where(fam_hit, "family " + df["family"].astype(str), "class " + df["abc"])
    df["z"] = ndtri(df["service_level"].to_numpy())

    # sigma: consensus error, else statistical error, else backtest, else demand variability
    sigma = pd.Series(np.nan, index=df.index, dtype=float)
    source_text = pd.Series("", index=df.index, dtype=object)
    n_months = pd.Series(0, index=df.index, dtype=int)

    def take(candidate: pd.Series, text: pd.Series, months: pd.Series) -> None:
        nonlocal sigma, source_text, n_months
        use = sigma.isna() & candidate.notna()
        sigma = sigma.where(~use, candidate)
        source_text = source_text.where(~use, text)
        n_months = n_months.where(~use, months)

    for source in settings.sigma_sources:
        s = forecast_error_sigma(con, as_of, source, settings.history_months, settings.min_forecast_months)
        s = s.set_index("sku")
        m = df["sku"].map(s["months"]).fillna(0).astype(int)
        take(df["sku"].map(s["sigma"]).astype(float),
             m.map(lambda k, src=source: f"{src} lag-1 error ({k} months)").astype(object), m)
    run, bt = backtest_sigma(con, as_of)
    if run is not None and not bt.empty:
        bt = bt.set_index("sku")
        model = df["sku"].map(bt["model"]).astype(object)
        take(df["sku"].map(bt["sigma"]).astype(float),
             model.map(lambda mdl: f"backtest of forecast run {run} ({mdl})").astype(object),
             pd.Series(0, index=df.index, dtype=int))
    take(df["std_monthly_demand"].astype(float).fillna(0.0),
         pd.Series("monthly demand std (no forecast history or backtest)", index=df.index, dtype=object),
         df["months"].astype(int))
    df["sigma"], df["sigma_source"], df["sigma_months"] = sigma, source_text, n_months

    lt = _lead_times(con, as_of, df, settings)
    df["lead_time_months"] = lt["lead_time_months"].astype(float)
    df["lead_time_source"] = lt["lead_time_source"]

    df["safety_stock"] = (df["z"] * df["sigma"] * np.sqrt(df["lead_time_months"])).clip(lower=0)
    df["reorder_point"] = df["mean_monthly_demand"] * df["lead_time_months"] + df["safety_stock"]
    df["money_tied_up"] = df["safety_stock"] * df["unit_cost"]
    df["formula"] = [
        f"SS = z({sl:.1%}) {z:.3f} x sigma {sg:.2f} x sqrt(LT {t:.2f} months) = {ss:.2f}; "
        f"ROP = {m:.2f}/month x {t:.2f} + {ss:.2f} = {rop:.2f}; money tied up = {ss:.2f} x {c:.2f} = {mt:,.2f}"
        for sl, z, sg, t, ss, m, rop, c, mt in zip(
            df["service_level"], df["z"], df["sigma"], df["lead_time_months"], df["safety_stock"],
            df["mean_monthly_demand"], df["reorder_point"], df["unit_cost"], df["money_tied_up"])
    ]
    return df[SAFETY_STOCK_COLUMNS].reset_index(drop=True)
