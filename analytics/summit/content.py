"""What each agenda step of the summit shows, computed from the database (and frozen by ``store``).

Windows, exactly (M = the summit month, the month under review; as-of = the data date, normally M's last day):

* scorecard: every KPI for M (``scorecard.scorecard``); its 13-month trend as a long frame.
* biggest misses: the tile KPIs off target (amber or red), largest gap first, measured in tolerance bands
  (gap / amber tolerance, so rates, days and points compare). For each of the top three, the member of
  family / region / customer / work center that drives the miss: per dimension ``kpis.kpi_breakdown``'s
  share_of_miss (line and rate KPIs: lines / units / error that missed); for KPIs it gives no share, each
  member's miss = denominator x its gap to target in the direction the KPI misses. The dimension whose top
  member carries the largest share (the most concentrated miss; at least two members) is the explanation.
* demand review: the ``REVIEW_MONTHS`` months ending with M at lag 1 against the consensus (the
  forecast_accuracy KPI's pairs, by family and month); bias by family over the same months; the consensus
  for the ``REVIEW_MONTHS`` months after the as-of month (latest consensus snapshot on or before as-of)
  against the previous cycle's (the latest consensus snapshot dated before that snapshot's month), with
  the override reasons saved in between; the FVA stairstep at lags 1 and 3 with its verdicts.
* supply review (from the summit's plan, its first ``REVIEW_MONTHS`` months): capacity load per work
  center; projected inventory vs safety stock per family; shortages = SKU-months whose projected
  inventory is below 0 (stockout) or below the safety stock.
* supply review, the overload story: the capacity load of the chase plan (produce what each month needs, the
  load demand puts on the work centers as it falls due) over the same months, made from the same inputs (for
  a recommended scenario: the current inputs with the scenario applied); :func:`overload_story` says which
  work centers it overloads and what the plan shown does about it, :func:`plan_statement` which plan is shown.
* gaps: demand vs supply (planned production + open work orders) per family and month, in units and at
  unit price; revenue vs budget per family and month when the budget table has rows: the REVIEW_MONTHS
  months ending with M use ordered revenue (by order month), the REVIEW_MONTHS months after the as-of
  month the consensus forecast x unit price.
* scenarios: ``compare_scenarios`` of the saved scenarios (the recommended one first, then the newest,
  up to 4: each against the baseline stored with it), with the list of those shown, the recommended flag and
  the basis of each (``scenario_staleness``: computed on the current data, or on which older data).

The summit's plan: the recommended scenario's saved plan, else an optimised plan made now (12 months, the
default settings; a chase plan when the optimiser cannot plan, noted).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics import demand, kpis
from analytics.kpis import Query
from analytics.planning import (
    Plan,
    PlanningError,
    apply_scenario,
    capacity_load,
    chase_plan,
    compare_scenarios,
    list_scenarios,
    load_scenario,
    optimised_plan,
    plan_inputs,
    plan_rollup,
    recommended_scenario,
    scenario_kpis,
)
from analytics.planning.common import has_table
from analytics.planning.scenarios import scenario_staleness
from analytics.scorecard import scorecard as kpi_scorecard

REVIEW_MONTHS = 6
TREND_MONTHS = 13
PLAN_HORIZON = 12
MAX_SCENARIOS = 4
MISS_DIMS = ("family", "region", "customer_id", "work_center")
KEY_FIGURES = ("revenue", "units_short", "fill_rate", "average_inventory_value", "capacity_utilisation",
               "overtime_hours", "production_units", "total_cost")

SCORECARD_COLUMNS = ["kpi", "label", "unit", "tile", "value", "numerator", "denominator", "reason", "target",
                     "tolerance", "light", "prev_value", "last_year", "delta_prev", "delta_year"]
TREND_COLUMNS = ["kpi", "month", "value"]
MISS_COLUMNS = ["rank", "kpi", "label", "unit", "value", "target", "light", "gap", "gap_in_tolerances",
                "dimension", "driver", "driver_value", "driver_share", "driver_miss", "explanation"]
BREAKDOWN_COLUMNS = ["kpi", "dimension", "member", "value", "numerator", "denominator", "miss", "share_of_miss"]
ACTUALS_COLUMNS = ["family", "month", "actual", "forecast", "error", "abs_error", "accuracy", "bias"]
BIAS_COLUMNS = ["family", "actual", "forecast", "error", "bias", "accuracy", "direction"]
CHANGE_COLUMNS = ["family", "period", "consensus", "previous_consensus", "change", "change_pct", "override_cells",
                  "override_change", "reasons", "consensus_snapshot", "previous_snapshot"]
INVENTORY_COLUMNS = ["family", "period", "demand", "supply", "projected_inventory", "safety_stock",
                     "below_safety_stock", "shortfall", "days_of_supply"]
SHORTAGE_COLUMNS = ["sku", "family", "work_center", "period", "kind", "demand", "projected_inventory",
                    "safety_stock", "units_below_safety_stock", "units_short", "unit_price", "value_short"]
GAP_COLUMNS = ["family", "period", "demand", "supply", "gap_units", "demand_value", "supply_value", "gap_value"]
BUDGET_COLUMNS = ["family", "month", "basis", "units", "revenue", "budget_units", "budget_revenue", "gap_units",
                  "gap_revenue", "gap_pct"]
SCENARIO_COLUMNS = ["position", "name", "recommended", "strategy", "author", "created_at", "as_of", "revenue",
                    "fill_rate", "total_cost", "notes", "basis"]
CURRENT_BASIS = "computed on the current data"


def month_window(month: date, n: int) -> tuple[date, date]:
    """(first day, last day) of the ``n`` months ending with ``month``."""
    first = kpis.add_months(month.replace(day=1), -(n - 1))
    return first, kpis.month_range(month)[1]


def future_months(as_of: date, n: int = REVIEW_MONTHS) -> tuple[date, date]:
    """(first, last) first-of-month of the ``n`` months after the as-of month."""
    first = kpis.add_months(as_of.replace(day=1), 1)
    return first, kpis.add_months(first, n - 1)


def _ts_months(first: date, n: int) -> list[pd.Timestamp]:
    return [pd.Timestamp(kpis.add_months(first, i)) for i in range(n)]


# ---------------------------------------------------------------------------- versions and the plan


def forecast_versions(con, as_of: date) -> dict:
    """The forecast versions the summit uses: latest statistical and consensus snapshot dates on or before
    as-of (ISO text or None) and the latest forecast run (id and snapshot date) dated on or before as-of."""
    rows = dict(con.execute(
        """-- grain: one row per source: its latest snapshot on or before the as-of date
        SELECT source, max(snapshot_date) FROM forecasts
        WHERE source IN ('statistical', 'consensus') AND snapshot_date <= $as_of GROUP BY source""",
        {"as_of": as_of}).fetchall())
    run = None
    if has_table(con, "forecast_runs"):
        got = con.execute(
            """-- grain: one row: the newest forecast run dated on or before the as-of date
            SELECT run_id, snapshot_date FROM forecast_runs WHERE snapshot_date <= $as_of
            ORDER BY snapshot_date DESC, run_id DESC LIMIT 1""", {"as_of": as_of}).fetchall()
        run = got[0] if got else None
    iso = lambda d: d.isoformat() if d is not None else None  # noqa: E731
    return {"statistical_snapshot": iso(rows.get("statistical")), "consensus_snapshot": iso(rows.get("consensus")),
            "forecast_run_id": int(run[0]) if run else None,
            "forecast_run_snapshot": iso(run[1]) if run else None}


def _figures(k: dict) -> dict:
    return {f: (None if k.get(f) is None else float(k[f])) for f in KEY_FIGURES}


def summit_plan(con, as_of: date) -> tuple[Plan | None, dict, list[str]]:
    """The plan the summit reviews: (plan or None, plan version dict, notes).

    The recommended scenario's saved plan when one is recommended (version: kind 'recommended scenario',
    name, scenario_id, plan_id, plan_as_of, key_figures = its stored KPIs); else an optimised 12-month plan
    made now from the current data (kind 'optimised plan made at the summit start', key_figures from
    ``scenario_kpis``). None (with a note) when no plan can be made (e.g. no products).
    """
    notes: list[str] = []
    name = recommended_scenario(con)
    if name:
        res = load_scenario(con, name)
        plan_id = con.execute("SELECT plan_id FROM plan_scenarios WHERE name = $n", {"n": name}).fetchall()[0][0]
        plan_version = con.execute("SELECT version FROM plan_versions WHERE plan_id = $id",
                                   {"id": int(plan_id)}).fetchall()
        version = {"kind": "recommended scenario", "name": name, "scenario_id": res.scenario_id,
                   "plan_id": int(plan_id), "plan_version": int(plan_version[0][0]) if plan_version else None,
                   "strategy": res.plan.strategy, "plan_as_of": res.plan.as_of.isoformat(),
                   "first_period": res.plan.months[0].isoformat(), "horizon": len(res.plan.months),
                   "key_figures": _figures(res.kpis)}
        if res.plan.as_of != as_of:
            notes.append(f"The recommended scenario {name!r} was planned as of {res.plan.as_of}, not {as_of}.")
        version["stale"] = scenario_staleness(con, [res]).get(name)  # None: planned on the summit's data
        return res.plan, version, notes
    try:
        inputs = plan_inputs(con, as_of, PLAN_HORIZON)
    except PlanningError as e:
        notes.append(f"No plan: {e}")
        return None, {"kind": "none", "name": None, "key_figures": {}}, notes
    try:
        plan = optimised_plan(inputs)
    except PlanningError as e:
        plan = chase_plan(inputs)
        notes.append(f"The optimiser could not plan ({e}); the summit uses a chase plan.")
    version = {"kind": f"{plan.strategy} plan made at the summit start", "name": None, "scenario_id": None,
               "plan_id": None, "strategy": plan.strategy, "plan_as_of": plan.as_of.isoformat(),
               "first_period": plan.months[0].isoformat(), "horizon": len(plan.months),
               "key_figures": _figures(scenario_kpis(plan, inputs))}
    return plan, version, notes


# ---------------------------------------------------------------------------- scorecard and misses


def scorecard_frames(con, month: date, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scorecard, trend) for the summit month.

    scorecard grain: one row per KPI; columns SCORECARD_COLUMNS (scorecard.scorecard without its trend
    list, plus ``tile``: shown as a tile). trend grain: KPI x month (13 months ending with the month):
    kpi, month, value.
    """
    start, end = kpis.month_range(month)
    sc = kpi_scorecard(con, start, end, as_of, n_trend=TREND_MONTHS)
    trend = pd.DataFrame([(k, m, v) for k, series in zip(sc["kpi"], sc["trend"]) for m, v in series],
                         columns=TREND_COLUMNS)
    trend["value"] = pd.to_numeric(trend["value"], errors="coerce").astype(float)
    sc["tile"] = sc["kpi"].map(lambda k: kpis.SPECS[k].tile)
    for c in ("value", "numerator", "denominator", "target", "tolerance", "prev_value", "last_year", "delta_prev",
              "delta_year"):
        sc[c] = pd.to_numeric(sc[c], errors="coerce").astype(float)
    return sc[SCORECARD_COLUMNS].reset_index(drop=True), trend


def kpi_gap(spec: kpis.KpiSpec, value: float, target: float) -> float:
    """Distance to target in the direction that is worse (KPI unit); bands: the absolute distance."""
    if spec.higher_is_better is True:
        return target - value
    if spec.higher_is_better is False:
        return value - target
    return abs(value - target)


_MISS_WORDS = {"lines_promised": "missed lines", "lines_requested": "missed lines",
               "lines_completed": "lines with an error", "work_orders_due": "units not produced",
               "forecast": "forecast error"}


def _member_miss(spec: kpis.KpiSpec, bd: pd.DataFrame, overall: float, target: float) -> pd.Series:
    """Each member's miss: kpi_breakdown's ``miss`` when it has one, else denominator x the member's gap to
    target in the direction the KPI misses overall (clipped at 0)."""
    given = pd.to_numeric(bd["miss"], errors="coerce")
    if given.notna().any() and spec.id != "forecast_bias":
        return given.clip(lower=0).fillna(0.0)
    v = bd["value"].astype(float)
    if spec.higher_is_better is True:
        gap = target - v
    elif spec.higher_is_better is False:
        gap = v - target
    else:
        gap = (v - target) if overall >= target else (target - v)
    return (bd["denominator"].astype(float).abs() * gap.clip(lower=0)).fillna(0.0)


def biggest_misses(con, sc: pd.DataFrame, month: date, as_of: date, n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` tile KPIs furthest off target and what drives each (rule: module docstring).

    misses grain: one row per explained KPI, worst first; columns MISS_COLUMNS. breakdowns grain: KPI x
    member of its chosen dimension (top 10 by miss); columns BREAKDOWN_COLUMNS.
    """
    start, end = kpis.month_range(month)
    q = Query(start, end, as_of)
    off = sc[sc["light"].isin(["amber", "red"]) & sc["tile"] & sc["value"].notna()].copy()
    if off.empty:
        return pd.DataFrame(columns=MISS_COLUMNS), pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    off["gap"] = [kpi_gap(kpis.SPECS[k], v, t) for k, v, t in zip(off["kpi"], off["value"], off["target"])]
    tol = off["tolerance"].where(off["tolerance"] > 0)
    off["gap_in_tolerances"] = off["gap"] / tol.fillna(off["target"].abs().where(off["target"] != 0, 1.0))
    off = off.sort_values(["gap_in_tolerances", "kpi"], ascending=[False, True]).head(n)
    avail = kpis.data_availability(con)
    rows, parts = [], []
    for rank, r in enumerate(off.to_dict("records"), start=1):
        spec = kpis.SPECS[r["kpi"]]
        best = None
        for dim in MISS_DIMS:
            if dim not in spec.dims or (spec.id == "capacity_utilisation" and dim != "work_center"):
                continue
            bd = kpis.kpi_breakdown(con, spec.id, q, dim, availability=avail)
            bd = bd[bd["value"].notna()].copy()
            if len(bd) < 2:
                continue
            bd["miss"] = _member_miss(spec, bd, r["value"], r["target"])
            total = bd["miss"].sum()
            if total <= 0:
                continue
            bd["share_of_miss"] = bd["miss"] / total
            bd = bd.sort_values(["miss", dim], ascending=[False, True]).reset_index(drop=True)
            if best is None or bd["share_of_miss"].iloc[0] > best[1]["share_of_miss"].iloc[0] + 1e-12:
                best = (dim, bd)
        row = {"rank": rank, "kpi": spec.id, "label": spec.label, "unit": spec.unit, "value": r["value"],
               "target": r["target"], "light": r["light"], "gap": r["gap"], "gap_in_tolerances": r["gap_in_tolerances"],
               "dimension": None, "driver": None, "driver_value": np.nan, "driver_share": np.nan,
               "driver_miss": np.nan}
        head = (f"{spec.label} {kpis.format_value(spec, r['value'])} against a target of "
                f"{kpis.format_value(spec, r['target'])}")
        if best is None:
            row["explanation"] = head + ": no family, region, customer or work center stands out."
        else:
            dim, bd = best
            top = bd.iloc[0]
            word = _MISS_WORDS.get(spec.source, "gap to target")
            row.update(dimension=dim, driver=str(top[dim]), driver_value=float(top["value"]),
                       driver_share=float(top["share_of_miss"]), driver_miss=float(top["miss"]))
            row["explanation"] = (
                f"{head}: {kpis.DIM_LABELS[dim].lower()} {top[dim]} accounts for {top['share_of_miss']:.0%} of the "
                f"{word} ({kpis.format_value(spec, top['value'])} there).")
            part = bd.head(10).rename(columns={dim: "member"})
            part["member"] = part["member"].astype(str)
            part["kpi"], part["dimension"] = spec.id, dim
            parts.append(part[BREAKDOWN_COLUMNS])
        rows.append(row)
    misses = pd.DataFrame(rows, columns=MISS_COLUMNS)
    breakdowns = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    for c in ("value", "numerator", "denominator", "miss", "share_of_miss"):
        breakdowns[c] = pd.to_numeric(breakdowns[c], errors="coerce").astype(float)
    return misses, breakdowns


# ---------------------------------------------------------------------------- demand review


def _rate_columns(g: pd.DataFrame) -> pd.DataFrame:
    act = g["actual"].where(g["actual"] > 0)
    g["error"] = g["forecast"] - g["actual"]
    g["accuracy"] = (1 - g["abs_error"] / act).clip(lower=0)
    g["bias"] = g["error"] / act
    return g


def demand_actuals(con, month: date, as_of: date, months: int = REVIEW_MONTHS, lag: int = 1) -> pd.DataFrame:
    """Actual orders against the consensus forecast made ``lag`` months earlier, by family.

    grain: one row per family x month (the ``months`` months ending with ``month``). Columns: family, month,
    actual, forecast, error (F - A), abs_error (sum over SKUs of |F - A|), accuracy, bias, the
    forecast_accuracy / forecast_bias KPIs' pairs and formulas.
    """
    start, end = month_window(month, months)
    pairs = kpis.forecast_pairs(con, Query(start, end, as_of, lag=lag, source="consensus"))
    if pairs.empty:
        return pd.DataFrame(columns=ACTUALS_COLUMNS)
    pairs["abs_error"] = (pairs["forecast"] - pairs["actual"]).abs()
    g = pairs.groupby(["family", "month"], as_index=False)[["actual", "forecast", "abs_error"]].sum()
    g = _rate_columns(g.astype({"actual": float, "forecast": float, "abs_error": float}))
    g["month"] = pd.to_datetime(g["month"]).dt.date
    return g.sort_values(["family", "month"])[ACTUALS_COLUMNS].reset_index(drop=True)


def bias_by_family(actuals: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Forecast bias per family over the months of :func:`demand_actuals`.

    grain: one row per family. Columns: family, actual, forecast, error, bias (sum(F - A) / sum A), accuracy,
    direction ('over-forecast' / 'under-forecast' beyond the forecast_bias tolerance, else 'within tolerance').
    """
    if actuals.empty:
        return pd.DataFrame(columns=BIAS_COLUMNS)
    g = actuals.groupby("family", as_index=False)[["actual", "forecast", "abs_error"]].sum()
    g = _rate_columns(g)
    g["direction"] = np.where(g["bias"] > tolerance, "over-forecast",
                              np.where(g["bias"] < -tolerance, "under-forecast", "within tolerance"))
    return g.sort_values("bias", key=lambda s: -s.abs())[BIAS_COLUMNS].reset_index(drop=True)


def consensus_changes(con, as_of: date, months: int = REVIEW_MONTHS) -> pd.DataFrame:
    """This cycle's consensus for the next ``months`` months against the previous cycle's, by family, with
    the override reasons that explain the change (rule: module docstring).

    grain: one row per family x period. Columns: family, period, consensus, previous_consensus, change,
    change_pct (change / previous), override_cells, override_change (sum of new - base of the overrides saved
    after the previous snapshot, up to this one), reasons ('; '-joined, distinct), consensus_snapshot,
    previous_snapshot.
    """
    first, last = future_months(as_of, months)
    overrides = ("""SELECT p.family, o.period, count(*) AS override_cells, sum(o.new_qty - o.base_qty) AS override_change,
                           string_agg(DISTINCT o.reason, '; ' ORDER BY o.reason) AS reasons
                    FROM forecast_overrides o JOIN products p USING (sku), snaps
                    WHERE o.snapshot_date <= snaps.cur AND (snaps.prev IS NULL OR o.snapshot_date > snaps.prev)
                      AND o.period BETWEEN $first AND $last
                    GROUP BY ALL""" if has_table(con, "forecast_overrides") else
                 "SELECT NULL::VARCHAR AS family, NULL::DATE AS period, 0 AS override_cells, "
                 "0.0 AS override_change, NULL::VARCHAR AS reasons WHERE false")
    df = con.execute(
        f"""-- grain: one row per family x period of the next months
        WITH cur AS (SELECT max(snapshot_date) AS d FROM forecasts WHERE source = 'consensus' AND snapshot_date <= $as_of),
        snaps AS (
            SELECT cur.d AS cur, (SELECT max(snapshot_date) FROM forecasts
                                  WHERE source = 'consensus' AND snapshot_date < date_trunc('month', cur.d)) AS prev
            FROM cur WHERE cur.d IS NOT NULL
        ), now_fc AS (  -- grain: family x period
            SELECT p.family, f.period, sum(f.quantity) AS consensus
            FROM forecasts f JOIN products p USING (sku), snaps
            WHERE f.source = 'consensus' AND f.snapshot_date = snaps.cur AND f.period BETWEEN $first AND $last
            GROUP BY ALL
        ), prev_fc AS (  -- grain: family x period
            SELECT p.family, f.period, sum(f.quantity) AS previous_consensus
            FROM forecasts f JOIN products p USING (sku), snaps
            WHERE f.source = 'consensus' AND f.snapshot_date = snaps.prev AND f.period BETWEEN $first AND $last
            GROUP BY ALL
        ), ovr AS ({overrides})
        SELECT family, period, coalesce(n.consensus, 0) AS consensus, pf.previous_consensus,
               coalesce(ovr.override_cells, 0) AS override_cells, coalesce(ovr.override_change, 0) AS override_change,
               ovr.reasons, (SELECT cur FROM snaps) AS consensus_snapshot, (SELECT prev FROM snaps) AS previous_snapshot
        FROM now_fc n FULL JOIN prev_fc pf USING (family, period) LEFT JOIN ovr USING (family, period)
        ORDER BY family, period""",
        {"as_of": as_of, "first": first, "last": last},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    for c in ("consensus", "previous_consensus", "override_change"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["override_cells"] = df["override_cells"].astype("int64")
    df["change"] = df["consensus"] - df["previous_consensus"]
    df["change_pct"] = df["change"] / df["previous_consensus"].where(df["previous_consensus"] > 0)
    df["period"] = pd.to_datetime(df["period"]).dt.date
    for c in ("consensus_snapshot", "previous_snapshot"):
        df[c] = df[c].map(lambda d: None if d is None or pd.isna(d) else pd.Timestamp(d).date()).astype(object)
    df["reasons"] = df["reasons"].astype(object).where(df["reasons"].notna(), None)
    return df[CHANGE_COLUMNS].reset_index(drop=True)


def fva_frames(con, month: date, as_of: date, months: int = REVIEW_MONTHS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stairstep, verdicts): ``demand.fva_stairstep`` at lags 1 and 3 over the ``months`` months ending with
    ``month``, and ``demand.fva_verdicts`` as a frame (one row per sentence: lag, step, verdict)."""
    start, end = month_window(month, months)
    fva = demand.fva_stairstep(con, Query(start, end, as_of), (1, 3))
    rows = []
    for rec in fva.to_dict("records"):
        said = demand.fva_verdicts(pd.DataFrame([rec]))
        if said:
            rows.append({"lag": int(rec["lag"]), "step": rec["step"], "verdict": said[0]})
    return fva.reset_index(drop=True), pd.DataFrame(rows, columns=["lag", "step", "verdict"])


# ---------------------------------------------------------------------------- supply review and gaps


def _first_months(frame: pd.DataFrame, plan: Plan, months: int) -> pd.DataFrame:
    keep = {pd.Timestamp(m) for m in plan.months[:months]}
    return frame[pd.to_datetime(frame["period"]).isin(keep)]


def supply_review(plan: Plan | None, months: int = REVIEW_MONTHS) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(capacity, inventory, shortages) over the plan's first ``months`` months.

    capacity: ``capacity_load(plan)`` rows (work center x month; LOAD_COLUMNS). inventory grain: family x
    month; columns INVENTORY_COLUMNS (supply = production + open receipts; below_safety_stock = projected
    inventory < safety stock). shortages grain: SKU x month with projected inventory < 0 ('stockout') or below
    the safety stock ('below safety stock'); units_short = max(0, -projected inventory); value_short =
    units_short x unit_price; worst value first.
    """
    if plan is None:
        return (pd.DataFrame(), pd.DataFrame(columns=INVENTORY_COLUMNS), pd.DataFrame(columns=SHORTAGE_COLUMNS))
    load = _first_months(capacity_load(plan), plan, months).reset_index(drop=True)
    roll = _first_months(plan_rollup(plan, "family"), plan, months).copy()
    roll["supply"] = roll["production"] + roll["open_receipts"]
    roll["below_safety_stock"] = roll["projected_inventory"] < roll["safety_stock"] - 1e-6
    inventory = roll[INVENTORY_COLUMNS].reset_index(drop=True)
    lines = _first_months(plan.lines, plan, months)
    price = plan.products.drop_duplicates("sku").set_index("sku")["unit_price"].astype(float)
    short = lines[(lines["projected_inventory"] < -1e-6) | (lines["shortfall"] > 1e-6)].copy()
    short["kind"] = np.where(short["projected_inventory"] < -1e-6, "stockout", "below safety stock")
    short["units_below_safety_stock"] = (short["safety_stock"] - short["projected_inventory"]).clip(lower=0)
    short["units_short"] = (-short["projected_inventory"]).clip(lower=0)
    short["unit_price"] = short["sku"].map(price).astype(float)
    short["value_short"] = short["units_short"] * short["unit_price"]
    short = short.sort_values(["value_short", "units_below_safety_stock", "sku", "period"],
                              ascending=[False, False, True, True])
    return load, inventory, short[SHORTAGE_COLUMNS].reset_index(drop=True)


UNCONSTRAINED_COLUMNS = ["work_center", "period", "available_hours", "demand_load_hours", "demand_utilisation",
                         "demand_overloaded", "plan_load_hours", "plan_utilisation", "plan_overloaded",
                         "planned_overtime_hours", "top_contributors"]


def unconstrained_load(con, plan: Plan | None, plan_version: dict | None = None) -> pd.DataFrame:
    """The load demand puts on the work centers as it falls due against the load of the plan shown, over the
    plan's whole horizon (the overload story). The demand load is ``capacity_load`` of the chase plan made
    from the inputs of ``plan`` (its as-of date and horizon; for a recommended scenario, with the scenario
    applied); a chase plan is its own. Empty without a plan (or when the inputs cannot be read).

    grain: one row per work center x plan month. Columns: UNCONSTRAINED_COLUMNS (demand_* = chase plan,
    plan_* = the plan shown; overloaded = load above the available hours; top_contributors: of the demand load).
    """
    if plan is None:
        return pd.DataFrame(columns=UNCONSTRAINED_COLUMNS)
    chase = plan
    if plan.strategy != "chase":
        try:
            inputs = plan_inputs(con, plan.as_of, len(plan.months))
            if (plan_version or {}).get("kind") == "recommended scenario":
                inputs = apply_scenario(inputs, load_scenario(con, plan_version["name"]).scenario, con)
            chase = chase_plan(inputs)
        except (PlanningError, ValueError):
            return pd.DataFrame(columns=UNCONSTRAINED_COLUMNS)
    demand, mine = capacity_load(chase), capacity_load(plan)
    out = demand.drop(columns=["planned_overtime_hours"]).rename(columns={"load_hours": "demand_load_hours", "utilisation": "demand_utilisation",
                                 "overloaded": "demand_overloaded"})
    out = out.merge(mine[["work_center", "period", "load_hours", "utilisation", "overloaded", "planned_overtime_hours"]]
                    .rename(columns={"load_hours": "plan_load_hours", "utilisation": "plan_utilisation",
                                     "overloaded": "plan_overloaded"}), on=["work_center", "period"], how="left")
    return out[UNCONSTRAINED_COLUMNS].reset_index(drop=True)


def _month_list(periods) -> str:
    return ", ".join(pd.Timestamp(p).strftime("%b %Y") for p in periods)


def plan_statement(plan_version: dict) -> str:
    """Which plan the supply step shows, in one sentence (strategy, version or name, as-of, months)."""
    v = plan_version or {}
    if v.get("kind") in (None, "none"):
        return "No plan could be made from this data."
    months = ""
    if v.get("first_period"):
        months = f", {v.get('horizon')} months from {pd.Timestamp(v['first_period']):%b %Y}"
    if v.get("kind") == "recommended scenario":
        ver = f" version {v['plan_version']}" if v.get("plan_version") else ""
        text = (f"Plan shown: the recommended scenario '{v.get('name')}' ({v.get('strategy')} strategy, saved plan "
                f"#{v.get('plan_id')}{ver}), planned on the data as of {v.get('plan_as_of')}{months}.")
        return text + (f" {v['stale']}" if v.get("stale") else "")
    return (f"Plan shown: the {v.get('strategy')} plan made when the summit started, on the data as of "
            f"{v.get('plan_as_of')}{months}, default settings.")


def overload_story(load: pd.DataFrame, strategy: str | None) -> list[str]:
    """What demand as it falls due does to the work centers, and what the plan shown does about it, from an
    :func:`unconstrained_load` frame.

    One sentence per work center the demand (chase) load overloads, naming its months and load %, then how the
    plan shown loads it: the month it starts building ahead (plan load above the demand load before the first
    overloaded month), its highest load % and overtime hours, or the months it is still above the available
    hours. One sentence when nothing is overloaded; empty when the frame is empty (e.g. an older summit)."""
    if load is None or load.empty or "demand_overloaded" not in load:
        return []
    n = load["period"].nunique()
    over = load[load["demand_overloaded"].astype(bool)]
    if over.empty:
        return [f"Producing demand as it falls due (chase plan), no work center needs more than its available "
                f"hours in the {n} plan months."]
    out = []
    for wc, g in over.groupby("work_center", sort=True):
        g = g.sort_values("period")
        months = ", ".join(f"{pd.Timestamp(p):%b %Y} {u:.0%}" for p, u in zip(g["period"], g["demand_utilisation"]))
        text = (f"Producing demand as it falls due (chase plan) would overload {wc} in {len(g)} of the {n} plan "
                f"months ({months} of available hours).")
        mine = load[load["work_center"] == wc].sort_values("period")
        if strategy and strategy != "chase" and mine["plan_load_hours"].notna().any():
            still = mine[mine["plan_overloaded"].fillna(False).astype(bool)]
            peak = float(mine["plan_utilisation"].max())
            ot = float(mine["planned_overtime_hours"].fillna(0).sum())
            ahead = mine[(mine["period"] < g["period"].min())
                         & (mine["plan_load_hours"] > mine["demand_load_hours"] + 1e-6)]
            built = f"building ahead from {pd.Timestamp(ahead['period'].min()):%b %Y}" if len(ahead) else ""
            extra = f"{ot:,.0f} overtime hours" if ot > 0.5 else ""
            how = ", ".join(x for x in (built, extra) if x)
            if still.empty:
                text += (f" The {strategy} plan shown smooths it" + (f" ({how})" if how else "")
                         + f": its highest load there is {peak:.0%}.")
            else:
                text += (f" The {strategy} plan shown still loads it above available hours in "
                         f"{_month_list(still['period'])} (highest {peak:.0%}" + (f"; {how}" if how else "") + ").")
        out.append(text)
    return out


def demand_supply_gap(plan: Plan | None, months: int = REVIEW_MONTHS) -> pd.DataFrame:
    """Demand against supply per family and month over the plan's first ``months`` months.

    grain: one row per family x month. Columns: family, period, demand (forecast + backlog), supply
    (planned production + open work orders), gap_units (supply - demand), demand_value / supply_value /
    gap_value (the same at each SKU's unit_price).
    """
    if plan is None:
        return pd.DataFrame(columns=GAP_COLUMNS)
    lines = _first_months(plan.lines, plan, months).copy()
    price = lines["sku"].map(plan.products.drop_duplicates("sku").set_index("sku")["unit_price"]).astype(float)
    lines["supply"] = lines["production"] + lines["open_receipts"]
    lines["demand_value"] = lines["demand"] * price
    lines["supply_value"] = lines["supply"] * price
    g = lines.groupby(["family", "period"], as_index=False)[["demand", "supply", "demand_value", "supply_value"]].sum()
    g["gap_units"] = g["supply"] - g["demand"]
    g["gap_value"] = g["supply_value"] - g["demand_value"]
    return g.sort_values(["family", "period"])[GAP_COLUMNS].reset_index(drop=True)


def revenue_vs_budget(con, month: date, as_of: date, months: int = REVIEW_MONTHS) -> pd.DataFrame:
    """Revenue against the budget per family and month (empty when the budget table has no rows).

    grain: one row per family x month: the ``months`` months ending with ``month`` (basis 'actual orders':
    ordered quantity and revenue by order month) and the ``months`` months after the as-of month (basis
    'consensus forecast': the latest consensus snapshot on or before as-of x unit_price). Columns:
    BUDGET_COLUMNS (gap = actual or forecast - budget; gap_pct = gap_revenue / budget_revenue).
    """
    if not has_table(con, "budget") or not con.execute("SELECT count(*) FROM budget").fetchall()[0][0]:
        return pd.DataFrame(columns=BUDGET_COLUMNS)
    past_first, past_last = month_window(month, months)
    fut_first, fut_last = future_months(as_of, months)
    df = con.execute(
        """-- grain: one row per family x month with actuals, forecast or budget
        WITH actual AS (  -- grain: family x month (order month)
            SELECT p.family, d.month, 'actual orders' AS basis, sum(d.qty) AS units, sum(d.revenue) AS revenue
            FROM fact_demand_monthly d JOIN products p USING (sku)
            WHERE d.month BETWEEN date_trunc('month', $past_first::DATE) AND $past_last
            GROUP BY ALL
        ), snap AS (SELECT max(snapshot_date) AS d FROM forecasts WHERE source = 'consensus' AND snapshot_date <= $as_of),
        fc AS (  -- grain: family x month (forecast period)
            SELECT p.family, f.period AS month, 'consensus forecast' AS basis, sum(f.quantity) AS units,
                   sum(f.quantity * p.unit_price) AS revenue
            FROM forecasts f JOIN snap ON f.snapshot_date = snap.d JOIN products p USING (sku)
            WHERE f.source = 'consensus' AND f.period BETWEEN $fut_first AND $fut_last
            GROUP BY ALL
        ), got AS (SELECT * FROM actual UNION ALL SELECT * FROM fc),
        bud AS (  -- grain: family x month
            SELECT family, period AS month, sum(units) AS budget_units, sum(revenue) AS budget_revenue
            FROM budget
            WHERE period BETWEEN date_trunc('month', $past_first::DATE) AND $past_last
               OR period BETWEEN $fut_first AND $fut_last
            GROUP BY ALL
        )
        SELECT family, month,
               coalesce(got.basis, CASE WHEN month <= $past_last THEN 'actual orders' ELSE 'consensus forecast' END) AS basis,
               coalesce(got.units, 0) AS units, coalesce(got.revenue, 0) AS revenue, bud.budget_units, bud.budget_revenue
        FROM got FULL JOIN bud USING (family, month)
        ORDER BY family, month""",
        {"past_first": past_first, "past_last": past_last, "fut_first": fut_first, "fut_last": fut_last,
         "as_of": as_of},
    ).df()
    for c in ("units", "revenue", "budget_units", "budget_revenue"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    df["gap_units"] = df["units"] - df["budget_units"]
    df["gap_revenue"] = df["revenue"] - df["budget_revenue"]
    df["gap_pct"] = df["gap_revenue"] / df["budget_revenue"].where(df["budget_revenue"] > 0)
    return df[BUDGET_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------- scenarios


def scenarios_side_by_side(con) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(scenarios shown, comparison, notes).

    scenarios grain: one row per saved scenario shown (the recommended one first, then the newest; up to 4):
    SCENARIO_COLUMNS. comparison: ``compare_scenarios`` of those names against the baseline (one row per
    scenario KPI). Both empty when no scenario is saved.
    """
    saved = list_scenarios(con)
    saved = saved[saved["name"] != "baseline"]
    if saved.empty:
        return pd.DataFrame(columns=SCENARIO_COLUMNS), pd.DataFrame(), []
    saved = saved.sort_values(["recommended", "created_at", "scenario_id"], ascending=[False, False, False])
    shown = saved.head(MAX_SCENARIOS).reset_index(drop=True)
    shown.insert(0, "position", range(1, len(shown) + 1))
    notes = []
    if len(saved) > MAX_SCENARIOS:
        notes.append(f"{len(saved)} scenarios are saved; the summit compares {MAX_SCENARIOS} "
                     "(the recommended one and the newest).")
    try:
        comparison = compare_scenarios(con, shown["name"].tolist())
        notes += comparison.attrs.get("notes", [])
        stale = comparison.attrs.get("stale", {})
    except (PlanningError, ValueError) as e:
        comparison, stale = pd.DataFrame(), {}
        notes.append(f"The scenarios could not be compared: {e}")
    shown["basis"] = shown["name"].map(lambda n: stale.get(n) or CURRENT_BASIS).astype(object)
    comparison.attrs = {}
    return shown[SCENARIO_COLUMNS], comparison.reset_index(drop=True), notes
