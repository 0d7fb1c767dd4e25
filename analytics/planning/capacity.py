"""Rough-cut capacity: the load a plan puts on each work center per month, and what fixes an overload.

load_hours = sum over the work center's SKUs of production x hours_per_unit. A month is overloaded when
the load exceeds the available (regular) hours; ``beyond_overtime`` when it exceeds them by more than the
allowed overtime (overtime_share x available hours).

Fixes offered for each overloaded month (alternatives, each with its cost):
    pull forward     move production of the month's SKUs into earlier plan months with spare regular hours,
                     latest month first and SKUs with the lowest holding cost per hour first; cost = units
                     x holding cost per unit-month x months earlier. Spare hours used for one overloaded month
                     are not offered again for a later one (months are treated in order).
    overtime         min(excess, allowed overtime) hours x the overtime cost per hour.
    capacity change  the whole excess as added hours (an extra shift) x the capacity-change cost per hour.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.planning.common import month_start
from analytics.planning.inputs import read_capacity
from analytics.planning.plans import Plan

LOAD_COLUMNS = ["work_center", "period", "load_hours", "available_hours", "utilisation", "overloaded",
                "overtime_allowed_hours", "overtime_needed_hours", "planned_overtime_hours", "beyond_overtime",
                "top_contributors", "capacity_source"]
FIX_COLUMNS = ["work_center", "period", "excess_hours", "fix", "hours", "units", "cost", "covers_hours",
               "remaining_hours", "detail"]


def capacity_unavailable(load: pd.DataFrame) -> str | None:
    """Why a rough-cut capacity view of ``load`` (:func:`capacity_load`) would be empty, in words; None when it
    has something to show: no work center with hours per unit (no load), or no capacity data (nothing to load
    against)."""
    if load.empty or not (load["load_hours"] > 0).any():
        return ("not available: needs work centers and hours per unit (the products carry none, so the plan has "
                "no load; it runs uncapacitated)")
    if load["available_hours"].isna().all():
        return ("not available: needs a capacity file (available hours per work center and month); the plan runs "
                "uncapacitated")
    return None


def capacity_load(plan: Plan, con=None, top_n: int = 3) -> pd.DataFrame:
    """Rough-cut capacity of a plan.

    grain: one row per work center x plan month. Columns: work_center, period, load_hours, available_hours
    (NaN = no capacity data, unconstrained), utilisation (load / available), overloaded (load > available),
    overtime_allowed_hours, overtime_needed_hours (max(0, load - available)), planned_overtime_hours
    (what the plan budgets), beyond_overtime (needed > allowed), top_contributors ('SKU 120.0 h (45%), ...',
    the ``top_n`` SKUs with the most load), capacity_source. With ``con``, available hours are read again
    from the database (e.g. for a saved plan after new capacity data); else the plan's own are used.
    """
    cap = plan.capacity.copy()
    if con is not None:
        fresh = read_capacity(con, plan.months, cap["work_center"].unique().tolist())
        cap = cap.drop(columns=["available_hours", "capacity_source"]).merge(
            fresh, on=["work_center", "period"], how="left")
        cap["overtime_allowed_hours"] = cap["available_hours"] * plan.settings.overtime_share
    load = plan.lines.groupby(["work_center", "period"], as_index=False)["load_hours"].sum()
    out = cap.drop(columns=["load_hours"]).merge(load, on=["work_center", "period"], how="left")
    out["load_hours"] = out["load_hours"].fillna(0.0)
    avail = out["available_hours"]
    out["utilisation"] = out["load_hours"] / avail.where(avail > 0)
    out.loc[(avail == 0) & (out["load_hours"] > 0), "utilisation"] = np.inf
    out["overloaded"] = avail.notna() & (out["load_hours"] > avail + 1e-6)
    out["overtime_needed_hours"] = (out["load_hours"] - avail).clip(lower=0).fillna(0.0)
    out["planned_overtime_hours"] = out["overtime_hours"].fillna(0.0)
    out["beyond_overtime"] = avail.notna() & (
        out["overtime_needed_hours"] > out["overtime_allowed_hours"].fillna(0.0) + 1e-6)

    lines = plan.lines[plan.lines["load_hours"] > 0]
    top = lines.sort_values("load_hours", ascending=False).groupby(["work_center", "period"]).head(top_n)
    top = top.merge(load.rename(columns={"load_hours": "total"}), on=["work_center", "period"])
    top["text"] = [f"{s} {h:,.1f} h ({h / t:.0%})" for s, h, t in zip(top["sku"], top["load_hours"], top["total"])]
    text = top.groupby(["work_center", "period"])["text"].agg(", ".join).rename("top_contributors")
    out = out.merge(text.reset_index(), on=["work_center", "period"], how="left")
    out["top_contributors"] = out["top_contributors"].astype(object).fillna("")  # all-NaN (no load): float
    return out[LOAD_COLUMNS].sort_values(["work_center", "period"]).reset_index(drop=True)


def capacity_fixes(plan: Plan, load: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ways to fix each overloaded work-center month, each with its cost (rules: module docstring).

    grain: one row per overloaded work center x month x fix ('pull forward', 'overtime', 'capacity change').
    Columns: work_center, period, excess_hours (load - available), fix, hours (hours the fix provides),
    units (whole units pulled forward: enough to cover the excess, so the hours may exceed it a little), cost, covers_hours (of the excess), remaining_hours (excess left),
    detail (what to do, in words). Empty when nothing is overloaded.
    """
    load = capacity_load(plan) if load is None else load
    s = plan.settings
    ot_rate = s.overtime_rate(plan.products)
    change_rate = s.capacity_change_rate(plan.products)
    prod = plan.products.set_index("sku")
    hold_per_unit = s.holding_rate * prod["unit_cost"]
    lines = plan.lines
    rows = []
    for wc, part in load.groupby("work_center", sort=True):
        part = part.sort_values("period").reset_index(drop=True)
        spare = (part["available_hours"] - part["load_hours"]).clip(lower=0).fillna(0.0).to_numpy(dtype=float, copy=True)
        periods = list(part["period"])
        wl = lines[(lines["work_center"] == wc) & (lines["production"] > 0)]
        for t, r in part.iterrows():
            if not r["overloaded"]:
                continue
            excess = float(r["load_hours"] - r["available_hours"])
            label = f"{wc} {month_start(r['period']):%Y-%m}"
            # pull forward: cheapest holding per hour first, latest earlier month first
            cand = wl[wl["period"] == r["period"]].copy()
            cand["h"] = cand["sku"].map(prod["hours_per_unit"])
            cand = cand[cand["h"] > 0]
            cand["hold_per_hour"] = cand["sku"].map(hold_per_unit) / cand["h"]
            cand = cand.sort_values(["hold_per_hour", "sku"])
            left, cost, units, provided, moves = excess, 0.0, 0, 0.0, []
            for _, c in cand.iterrows():
                movable = math.floor(float(c["production"]) + 1e-9)  # whole units: nobody moves 0.15 of a chair
                for k in range(t - 1, -1, -1):
                    if left <= 1e-9 or movable < 1:
                        break
                    # enough whole units to cover what is left, as many as fit in month k's spare hours
                    u = min(math.ceil(left / c["h"] - 1e-9), math.floor(spare[k] / c["h"] + 1e-9), movable)
                    if u < 1:
                        continue
                    hrs = u * c["h"]
                    months_early = t - k
                    cost += u * hold_per_unit[c["sku"]] * months_early
                    spare[k] -= hrs
                    left -= hrs
                    movable -= u
                    units += u
                    provided += hrs
                    moves.append(f"{u:,d} {c['sku']} to {month_start(periods[k]):%Y-%m}")
                if left <= 1e-9:
                    break
            if provided > 1e-9:
                rows.append((wc, r["period"], excess, "pull forward", provided, float(units), cost,
                             min(provided, excess), max(left, 0.0),
                             f"{label}: make {', '.join(moves)} (extra holding {cost:,.2f})"))
            allowed = float(r["overtime_allowed_hours"]) if pd.notna(r["overtime_allowed_hours"]) else 0.0
            ot = min(excess, allowed)
            if ot > 1e-9:
                rows.append((wc, r["period"], excess, "overtime", ot, 0.0, ot * ot_rate, ot, excess - ot,
                             f"{label}: {ot:,.1f} overtime hours at {ot_rate:,.2f}/h"
                             + (f"; {excess - ot:,.1f} h still over the {allowed:,.1f} h allowed" if excess - ot > 1e-9 else "")))
            rows.append((wc, r["period"], excess, "capacity change", excess, 0.0, excess * change_rate, excess, 0.0,
                         f"{label}: add {excess:,.1f} hours of capacity (e.g. a temporary shift) at {change_rate:,.2f}/h"))
    return pd.DataFrame(rows, columns=FIX_COLUMNS)
