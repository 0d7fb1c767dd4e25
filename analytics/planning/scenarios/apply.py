"""Applying a scenario to the plan inputs (the what-if): :func:`apply_scenario`. Adjustments and their order:
:mod:`analytics.planning.scenarios` (the package docstring)."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtri  # = scipy.stats.norm.ppf, without importing scipy.stats (~1 s)

from analytics.kpis import add_months
from analytics.planning.common import as_date
from analytics.planning.inputs import PlanInputs
from analytics.planning.policy import history_window
from analytics.planning.scenarios.definitions import Scenario


def _lost_customer_frames(con, customers: list[str], as_of: date, months: tuple[date, ...],
                          stale_backlog_months: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(their open backlog per sku x plan month: sku, period, backlog, lines;
    their share of each SKU's ordered quantity over the last 12 complete months: sku, share, qty, total)."""
    first, last = months[0], months[-1]
    stale_from = add_months(first, -stale_backlog_months) if stale_backlog_months is not None else None
    backlog = con.execute(
        """-- grain: one row per sku x plan month: the lost customers' open order quantity (plan_inputs' rule)
        WITH shipped AS (
            SELECT order_id, line_no, sum(quantity) AS qty
            FROM deliveries WHERE coalesce(ship_date, delivered_date) <= $as_of
            GROUP BY ALL
        ), open_lines AS (
            SELECT o.sku, coalesce(o.promised_date, o.requested_date, o.order_date) AS due,
                   o.quantity - coalesce(s.qty, 0) AS open_qty
            FROM orders o LEFT JOIN shipped s USING (order_id, line_no)
            WHERE o.order_date <= $as_of AND list_contains($customers, o.customer_id)
              AND o.quantity - coalesce(s.qty, 0) > 0
        )
        SELECT sku, greatest(date_trunc('month', due)::DATE, $first::DATE) AS period,
               sum(open_qty) AS backlog, count(*) AS lines
        FROM open_lines
        WHERE ($stale_from::DATE IS NULL OR due >= $stale_from::DATE) AND date_trunc('month', due) <= $last
        GROUP BY ALL""",
        {"as_of": as_of, "customers": customers, "first": first, "last": last, "stale_from": stale_from},
    ).df()
    start, end = history_window(as_of, 12)
    shares = con.execute(
        """-- grain: one row per SKU ordered in the window: the lost customers' share of its ordered quantity
        SELECT sku, sum(quantity) FILTER (WHERE list_contains($customers, customer_id)) AS qty,
               sum(quantity) AS total,
               coalesce(qty, 0) / nullif(total, 0) AS share
        FROM orders WHERE order_date BETWEEN $start AND $end
        GROUP BY sku""",
        {"customers": customers, "start": start, "end": end},
    ).df()
    return backlog, shares


def _validate(inputs: PlanInputs, scenario: Scenario, con) -> None:
    """Unknown family / SKU / work center / customer -> ValueError naming it and what exists."""
    products = inputs.products
    families = sorted({str(f) for f in products["family"].dropna()})
    skus = {str(s) for s in products["sku"]}
    wcs = sorted({str(w) for w in products["work_center"].dropna()}
                 | {str(w) for w in inputs.capacity.get("work_center", pd.Series(dtype=object)).dropna()})

    def known(kind: str, name: str, pool) -> None:
        if name not in pool:
            shown = ", ".join(sorted(pool)[:12]) + (", ..." if len(pool) > 12 else "")
            raise ValueError(f"Scenario {scenario.name!r}: unknown {kind} {name!r} (known: {shown or 'none'}).")

    for dc in scenario.demand_changes:
        if dc.family is not None:
            known("family", dc.family, families)
    for pr in scenario.promotions:
        if pr.level == "sku":
            known("SKU", pr.target, skus)
        elif pr.level == "family":
            known("family", pr.target, families)
        elif pr.target not in skus and pr.target not in families:
            raise ValueError(f"Scenario {scenario.name!r}: the promotion target {pr.target!r} is neither a SKU nor a "
                             "family of the plan.")
    for cc in scenario.capacity_changes:
        known("work center", cc.work_center, wcs)
    for fam, _ in scenario.service_by_family:
        known("family", fam, families)
    if scenario.lost_customers:
        if con is None:
            raise ValueError(f"Scenario {scenario.name!r}: lost customers need the database (pass con) to find "
                             "their backlog and order history.")
        rows = con.execute(
            "SELECT DISTINCT customer_id FROM customers WHERE list_contains($c, customer_id)",  # grain: customer
            {"c": list(scenario.lost_customers)},
        ).fetchall()
        found = {r[0] for r in rows}
        missing = [c for c in scenario.lost_customers if c not in found]
        if missing:
            raise ValueError(f"Scenario {scenario.name!r}: unknown customer(s) {', '.join(map(repr, missing))}.")
    if (scenario.service_by_class or scenario.service_by_family) and (
            inputs.policy is None or inputs.policy.empty
            or not {"sku", "sigma", "lead_time_months", "service_level"} <= set(inputs.policy.columns)):
        raise ValueError(f"Scenario {scenario.name!r}: service-level changes need the inputs' safety-stock frame "
                         "(sigma and lead time per SKU); build the inputs with plan_inputs.")


def _month_label(m: date | None, default: str) -> str:
    return f"{m:%Y-%m}" if m is not None else default


def _ensure_rows(demand: pd.DataFrame, skus: list[str], period: pd.Timestamp) -> pd.DataFrame:
    """Add zero demand rows for (sku, period) pairs the frame lacks (hand-made inputs may be sparse)."""
    have = set(demand.loc[demand["_period"] == period, "sku"])
    missing = [s for s in skus if s not in have]
    if not missing:
        return demand
    add = pd.DataFrame({"sku": missing, "period": period, "_period": period, "forecast": 0.0, "backlog": 0.0,
                        "demand_source": "none"})
    if "forecast_ordered" in demand.columns:
        add["forecast_ordered"] = 0.0
    return pd.concat([demand, add], ignore_index=True)


def _apply(inputs: PlanInputs, scenario: Scenario, con, stale_backlog_months: int | None) -> tuple[PlanInputs, list[str]]:
    _validate(inputs, scenario, con)
    months = tuple(as_date(m) for m in inputs.months)
    first, last = months[0], months[-1]
    products = inputs.products.copy()
    demand = inputs.demand.copy().reset_index(drop=True)
    capacity = inputs.capacity.copy().reset_index(drop=True)
    policy = inputs.policy.copy() if inputs.policy is not None else None
    demand["_period"] = pd.to_datetime(demand["period"])
    demand["forecast"] = pd.to_numeric(demand["forecast"], errors="coerce").fillna(0.0).astype(float)
    demand["backlog"] = pd.to_numeric(demand["backlog"], errors="coerce").fillna(0.0).astype(float)
    has_ordered = "forecast_ordered" in demand.columns
    family_of = products.set_index("sku")["family"]
    notes: list[str] = []

    def scale(mask: pd.Series, factor) -> None:
        demand.loc[mask, "forecast"] = demand.loc[mask, "forecast"] * factor
        if has_ordered:
            demand.loc[mask, "forecast_ordered"] = demand.loc[mask, "forecast_ordered"] * factor

    # 1. lost customers
    if scenario.lost_customers:
        ids = list(scenario.lost_customers)
        bl, shares = _lost_customer_frames(con, ids, as_date(inputs.as_of), months, stale_backlog_months)
        who = ", ".join(ids)
        removed = 0.0
        if len(bl):
            bl["_period"] = pd.to_datetime(bl["period"])
            merged = demand[["sku", "_period"]].reset_index().merge(bl, on=["sku", "_period"], how="inner")
            take = np.minimum(demand.loc[merged["index"], "backlog"].to_numpy(), merged["backlog"].to_numpy())
            demand.loc[merged["index"], "backlog"] = demand.loc[merged["index"], "backlog"].to_numpy() - take
            removed = float(take.sum())
            notes.append(f"lost customer(s) {who}: {removed:,.1f} units of their open backlog removed "
                         f"({int(bl['lines'].sum())} order lines, {bl['sku'].nunique()} SKUs).")
        else:
            notes.append(f"lost customer(s) {who}: no open backlog in the plan months.")
        shares = shares[shares["share"] > 0]
        if len(shares):
            share = demand["sku"].map(shares.set_index("sku")["share"]).fillna(0.0)
            before = float(demand["forecast"].sum())
            scale(share > 0, 1 - share[share > 0])
            cut = before - float(demand["forecast"].sum())
            start, end = history_window(as_date(inputs.as_of), 12)
            top = shares.sort_values("share", ascending=False).head(5)
            listed = ", ".join(f"{s} {v:.0%}" for s, v in zip(top["sku"], top["share"]))
            more = f" and {len(shares) - 5} more" if len(shares) > 5 else ""
            notes.append(f"lost customer(s) {who}: the forecast of {len(shares)} SKUs is cut by their share of the "
                         f"SKU's orders in {start:%Y-%m}..{end:%Y-%m} ({listed}{more}): {cut:,.1f} units less.")
        else:
            notes.append(f"lost customer(s) {who}: no orders in the last 12 months, so the forecast is unchanged.")

    # 2. demand changes
    fam = demand["sku"].map(family_of)
    for dc in scenario.demand_changes:
        mask = pd.Series(True, index=demand.index)
        if dc.family is not None:
            mask &= fam == dc.family
        if dc.from_month is not None:
            mask &= demand["_period"] >= pd.Timestamp(dc.from_month)
        if dc.to_month is not None:
            mask &= demand["_period"] <= pd.Timestamp(dc.to_month)
        what = f"demand {dc.percent:+g}% on the forecast of {dc.family or 'all families'} from " \
               f"{_month_label(dc.from_month, 'the start')} to {_month_label(dc.to_month, 'the end of the horizon')}"
        if not mask.any():
            notes.append(f"{what}: no plan month in that range, no effect.")
            continue
        before = float(demand.loc[mask, "forecast"].sum())
        scale(mask, 1 + dc.percent / 100)
        after = float(demand.loc[mask, "forecast"].sum())
        notes.append(f"{what}: {before:,.1f} -> {after:,.1f} units over {int(mask.sum())} SKU-months "
                     "(the backlog of firm orders is unchanged).")

    # 3. promotions
    for pr in scenario.promotions:
        level = pr.level if pr.level != "auto" else ("sku" if pr.target in set(products["sku"]) else "family")
        if not first <= pr.month <= last:
            notes.append(f"promotion +{pr.extra_units:,.1f} units of {pr.target} in {pr.month:%Y-%m}: outside the "
                         "plan months, no effect.")
            continue
        period = pd.Timestamp(pr.month)
        members = [pr.target] if level == "sku" else products.loc[products["family"] == pr.target, "sku"].tolist()
        demand = _ensure_rows(demand, members, period)
        rows = demand.index[(demand["_period"] == period) & demand["sku"].isin(members)]
        base = demand.loc[rows, "forecast"]
        weights = base / base.sum() if base.sum() > 0 else pd.Series(1.0 / len(rows), index=rows)
        extra = weights * pr.extra_units
        demand.loc[rows, "forecast"] = base + extra
        if has_ordered:
            demand.loc[rows, "forecast_ordered"] = demand.loc[rows, "forecast_ordered"].fillna(0.0) + extra
        if level == "sku":
            notes.append(f"promotion: +{pr.extra_units:,.1f} units of SKU {pr.target} due in {pr.month:%Y-%m}.")
        else:
            how = "by their forecast that month" if base.sum() > 0 else "equally (no forecast that month)"
            shares = sorted(zip(demand.loc[rows, "sku"], extra), key=lambda su: -su[1])
            parts = ", ".join(f"{s} {u:,.1f}" for s, u in shares[:5]) + (
                f" and {len(shares) - 5} more" if len(shares) > 5 else "")
            notes.append(f"promotion: +{pr.extra_units:,.1f} units of family {pr.target} due in {pr.month:%Y-%m}, "
                         f"spread over {len(rows)} SKUs {how} ({parts}).")

    # 4. capacity changes
    if len(capacity):
        capacity["available_hours"] = pd.to_numeric(capacity["available_hours"], errors="coerce").astype(float)
        cap_period = pd.to_datetime(capacity["period"])
    for cc in scenario.capacity_changes:
        change = (f"{cc.hours_per_month:+,.1f} hours/month" if cc.hours_per_month is not None
                  else f"{cc.percent:+g}%")
        what = (f"capacity of {cc.work_center} from {_month_label(cc.from_month, 'the start')} to "
                f"{_month_label(cc.to_month, 'the end of the horizon')} {change}")
        if not len(capacity):
            notes.append(f"{what}: {cc.work_center} has no capacity data (unconstrained), no effect.")
            continue
        mask = capacity["work_center"] == cc.work_center
        if cc.from_month is not None:
            mask &= cap_period >= pd.Timestamp(cc.from_month)
        if cc.to_month is not None:
            mask &= cap_period <= pd.Timestamp(cc.to_month)
        known = mask & capacity["available_hours"].notna()
        if not mask.any():
            notes.append(f"{what}: no plan month of {cc.work_center} in that range, no effect.")
            continue
        if not known.any():
            notes.append(f"{what}: {cc.work_center} has no capacity data (unconstrained), no effect.")
            continue
        before = capacity.loc[known, "available_hours"]
        raw = before + cc.hours_per_month if cc.hours_per_month is not None else before * (1 + cc.percent / 100)
        after = raw.clip(lower=0.0)
        capacity.loc[known, "available_hours"] = after
        if "capacity_source" in capacity.columns:
            capacity.loc[known, "capacity_source"] = capacity.loc[known, "capacity_source"].astype(str) + \
                f"; scenario {change}"
        floor = " (never below 0)" if (raw < 0).any() else ""
        notes.append(f"{what}: {before.sum():,.1f} -> {after.sum():,.1f} available hours over {int(known.sum())} "
                     f"months{floor}.")

    # 5. service levels -> safety stock
    if scenario.service_by_class or scenario.service_by_family:
        by_class, by_family = dict(scenario.service_by_class), dict(scenario.service_by_family)
        p = policy
        base_family = p.get("service_level_source", pd.Series("", index=p.index)).astype(str).str.startswith("family")
        fam_p = p["family"] if "family" in p.columns else p["sku"].map(family_of)
        abc = p["abc"] if "abc" in p.columns else pd.Series("", index=p.index)
        level = p["service_level"].astype(float).copy()
        source = p.get("service_level_source", pd.Series("", index=p.index)).astype(object).copy()
        use_cls = abc.isin(list(by_class)) & ~base_family
        level[use_cls] = abc[use_cls].map(by_class)
        source[use_cls] = "scenario class " + abc[use_cls].astype(str)
        use_fam = fam_p.isin(list(by_family))
        level[use_fam] = fam_p[use_fam].map(by_family)
        source[use_fam] = "scenario family " + fam_p[use_fam].astype(str)
        changed = use_cls | use_fam
        old_ss = p["safety_stock"].astype(float) if "safety_stock" in p.columns else pd.Series(0.0, index=p.index)
        z = pd.Series(ndtri(level.to_numpy()), index=p.index)
        new_ss = (z * p["sigma"].astype(float).fillna(0.0) * np.sqrt(p["lead_time_months"].astype(float))).clip(lower=0)
        new_ss = new_ss.where(changed, old_ss)
        p = p.copy()
        p["service_level"], p["service_level_source"], p["z"] = level, source, z.where(changed, p.get("z", z))
        p["safety_stock"] = new_ss
        if "mean_monthly_demand" in p.columns:
            p["reorder_point"] = p["mean_monthly_demand"] * p["lead_time_months"] + new_ss
        if "unit_cost" in p.columns:
            p["money_tied_up"] = new_ss * p["unit_cost"]
        policy = p
        ss_map = p.set_index("sku")["safety_stock"]
        old_total = float(products["safety_stock"].sum())
        hit = products["sku"].isin(p.loc[changed, "sku"])
        products.loc[hit, "safety_stock"] = products.loc[hit, "sku"].map(ss_map).astype(float)
        cost = products["unit_cost"].astype(float)
        levels = ", ".join([f"class {k} {v:.1%}" for k, v in by_class.items()]
                           + [f"family {k} {v:.1%}" for k, v in by_family.items()])
        delta_value = float(((products["safety_stock"] - inputs.products["safety_stock"].astype(float)) * cost).sum())
        notes.append(f"service level {levels}: safety stock of {int(hit.sum())} SKUs recomputed as z x sigma x "
                     f"sqrt(lead time): {old_total:,.1f} -> {float(products['safety_stock'].sum()):,.1f} units "
                     f"({delta_value:+,.2f} of stock value).")

    # 6. plan settings (applied by run_scenario)
    if scenario.settings:
        text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in scenario.settings)
        notes.append(f"plan settings: {text} (replace the base settings when the plan is made).")

    demand = demand.drop(columns="_period")
    changed_inputs = PlanInputs(
        as_of=inputs.as_of, months=inputs.months, products=products, demand=demand,
        receipts=inputs.receipts.copy(), capacity=capacity, policy=policy,
        notes=tuple(inputs.notes) + tuple(f"Scenario '{scenario.name}': {n}" for n in notes),
    )
    return changed_inputs, notes


def apply_scenario(inputs: PlanInputs, scenario: Scenario, con: duckdb.DuckDBPyConnection | None = None,
                   stale_backlog_months: int | None = 6) -> PlanInputs:
    """The plan inputs changed by ``scenario`` (new frames; ``inputs`` is untouched). Every adjustment is
    explained in the returned inputs' notes ("Scenario '<name>': ..."). Rules: the module docstring.

    ``con`` is needed only for lost customers (their backlog and order history); ``stale_backlog_months``
    must match what the inputs were built with (plan_inputs' default 6). Unknown family / SKU / customer /
    work center -> ValueError.
    """
    return _apply(inputs, scenario, con, stale_backlog_months)[0]

