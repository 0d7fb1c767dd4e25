"""Available-to-promise (ATP) and capable-to-promise (CTP) for one order line against a plan.

Month buckets. For the SKU, per plan month t:

    supply[t]         = open_receipts[t] + production[t] (+ on hand in the first month)
    committed[t]      = demand[t] (forecast + backlog): the new order comes on top of the plan; or, with
                        ``consume_forecast=True``, backlog only: the order consumes forecast
    cumulative_net[t] = sum of supply - committed up to t  (= projected inventory when nothing is consumed)
    atp[t]            = max(0, min over k >= t of cumulative_net[k])   cumulative ATP with look-ahead:
                        what can be taken in month t without leaving any later month short
    limited_by[t]     = the month k >= t where that minimum is (:func:`binding_months`)

ATP is 0 next to a positive cumulative net when a later month's cumulative net is 0 or less: the plan makes
what the forecast and the orders need, so today's stock is spoken for by later demand; :func:`atp_explanation`
says so in words.

Safety stock counts as available (it is there for exactly this). A request dated before the first plan
month is checked in the first plan month; one after the horizon in the last month.

If atp[requested month] < qty: ``qty_on_requested_date`` = atp there, and the earliest month with
atp >= qty is reported (as its last day: supply of a month is sure only by its end). Capable-to-promise
then prices two ways of making the date for the missing quantity:

    extra production  make it in the requested month or earlier, using spare regular hours of the work
                      center first (no expediting cost), then allowed overtime; cost = overtime hours x
                      overtime rate + units made early x holding cost x months held.
    pull forward      move the SKU's open work orders, then planned production, from later months into the
                      requested month (or earlier), taking capacity there the same way; cost as above.
                      Only possible when later supply is not needed by later months (the look-ahead).

The margin at the quoted price (default: the product's unit_price) is qty x (price - unit_cost) before and
after the cheapest feasible option's cost; ``profitable_only_if_production_absorbs_expediting`` flags an
order whose margin is positive only when that cost is not charged to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.planning.common import PlanningError, as_date, month_end, month_start, ts
from analytics.planning.inputs import PlanInputs
from analytics.planning.plans import Plan
from analytics.presentation import MONEY, format_value
from analytics.rounding import half_up

ATP_COLUMNS = ["period", "supply", "committed", "cumulative_net", "atp", "limited_by"]


def cumulative_atp(supply: np.ndarray, committed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative net, cumulative ATP with look-ahead) for one SKU's month buckets."""
    net = np.cumsum(np.asarray(supply, dtype=float) - np.asarray(committed, dtype=float))
    look_ahead = np.minimum.accumulate(net[::-1])[::-1]
    return net, np.maximum(look_ahead, 0.0)


def binding_months(net: np.ndarray) -> np.ndarray:
    """For each month t, the month k >= t where the cumulative net is lowest (the earliest such month on a tie):
    the month that limits ATP in t. E.g. net [70, 30, 10] -> [2, 2, 2]; net [321, 221, 0] -> [2, 2, 2];
    net [0, 0, 5] -> [0, 1, 2]."""
    net = np.asarray(net, dtype=float)
    out = np.zeros(len(net), dtype=int)
    best = len(net) - 1
    for t in range(len(net) - 1, -1, -1):
        if net[t] <= net[best] + 1e-9:
            best = t
        out[t] = best
    return out


def units_text(x: float) -> str:
    """Units as a person reads them: whole (the product is discrete; the analytics keep the exact number),
    half up, with thousands separators: 16.333 -> '16', 2.0 -> '2', 1234.5 -> '1,235'."""
    return f"{half_up(float(x) + 1e-9):,d}"


NO_UNIT_COSTS = "not available: needs unit costs"
UNCHECKED = "capacity not checked"


def uncapacitated_reason(sku: str, work_center, hours_per_unit: float, spare: np.ndarray | None = None) -> str | None:
    """Why extra production of ``sku`` is not checked against capacity, in words; None when it is checked.
    No work center or no hours per unit: the SKU puts no load on any capacity. A work center with no capacity
    in the data (``spare`` all infinite): nothing to check it against."""
    wc = None if work_center is None or pd.isna(work_center) or str(work_center) in ("", "(none)") else str(work_center)
    if wc is None or not np.isfinite(hours_per_unit) or hours_per_unit <= 0:
        return (f"uncapacitated for {sku}: it has no work center or hours per unit, so the extra production is "
                "not checked against capacity")
    if spare is not None and np.isinf(spare).all():
        return (f"uncapacitated for {sku}: work center {wc} has no capacity in the data, so the extra production "
                "is not checked against capacity")
    return None


FORECAST_HINT = (" The plan makes what the forecast needs: an order on top of the forecast needs extra supply "
                 "(capable to promise, below). If this order is part of the forecast, check it as consuming the "
                 "forecast.")


def atp_explanation(answer: dict) -> str:
    """Why ATP in the requested month is what it is, in words, from an :func:`available_to_promise` answer.

    ATP = the lowest cumulative net (supply - committed, summed from the first plan month) from the requested
    month to the end of the horizon, never below 0. It is 0, or small, next to a large cumulative net when a
    later month needs that stock: the plan makes what the forecast and the orders need (plus safety stock), so
    stock in hand now is already spoken for by later demand. Then a new order on top of the forecast needs
    extra supply (capable-to-promise), unless the order is part of the forecast (``consume_forecast``)."""
    t = answer["atp_by_month"]
    months = [pd.Timestamp(p) for p in t["period"]]
    r = months.index(pd.Timestamp(answer["requested_month"]))
    nets = t["cumulative_net"].to_numpy(dtype=float)
    net, atp = float(nets[r]), float(t["atp"].iloc[r])
    k = int(binding_months(nets)[r])
    low = float(nets[k])
    if low >= net - 0.5:  # a later month lower by less than half a unit does not limit anything a person sees
        k, low = r, net

    def units(x: float) -> str:
        return "0" if abs(x) < 0.5 else units_text(x)

    what = "the orders on the books" if answer.get("consume_forecast") else "the forecast and the orders on the books"
    month, limit = f"{months[r]:%b %Y}", f"{months[k]:%b %Y}"
    hint = "" if answer.get("consume_forecast") else FORECAST_HINT
    head = (f"Available to promise in {month}: {units(atp)}. Supply up to {month} less what is committed to {what} "
            f"leaves {units(net)} (cumulative net)")
    if k == r and net < 0.5:
        if net <= -0.5:
            return head + ": the plan is short of what is committed, so nothing is left over to promise." + hint
        return head + ": the plan makes exactly what is committed, so nothing is left over to promise." + hint
    if k == r:
        return head + f", and no later month needs any of it: all {units(net)} can be promised."
    if low <= -0.5:
        tail = (f"; but by {limit} the cumulative net falls to {units(low)}: the plan is short by then, so nothing "
                "can be promised without taking it from a later month.")
    elif low < 0.5:
        tail = (f"; but by {limit} the cumulative net falls to 0: every unit is needed for later demand, so nothing "
                "can be promised without taking it from a later month.")
    else:
        tail = (f"; by {limit} it falls to {units(low)}, so only {units(low)} can be promised without taking stock "
                "from a later month.")
    return head + tail + hint


def _product(con_or_inputs, plan: Plan, sku: str) -> pd.Series:
    prod = plan.products.set_index("sku")
    if isinstance(con_or_inputs, PlanInputs) and sku in set(con_or_inputs.products["sku"]):
        row = con_or_inputs.products.set_index("sku").loc[sku]
        return prod.loc[sku].combine_first(row) if sku in prod.index else row
    if sku in prod.index:
        return prod.loc[sku]
    if con_or_inputs is not None and hasattr(con_or_inputs, "execute"):
        df = con_or_inputs.execute(
            "SELECT sku, family, work_center, unit_cost, unit_price, hours_per_unit FROM products WHERE sku = $s",
            {"s": sku}).df()
        if len(df):
            raise PlanningError(f"SKU {sku!r} is not in this plan: make a plan that includes it first.")
    raise PlanningError(f"Unknown SKU {sku!r}: it is not in the plan.")


def _headroom(plan: Plan, work_center: str) -> tuple[np.ndarray, np.ndarray]:
    """(spare regular hours, overtime headroom hours) per plan month for one work center; inf if unconstrained."""
    cap = plan.capacity[plan.capacity["work_center"] == work_center].set_index("period").reindex(
        [ts(m) for m in plan.months])
    avail = cap["available_hours"].to_numpy(dtype=float)
    load = plan.lines[plan.lines["work_center"] == work_center].groupby("period")["load_hours"].sum().reindex(
        [ts(m) for m in plan.months]).fillna(0.0).to_numpy()
    allowed = avail * plan.settings.overtime_share
    used_ot = np.maximum(load - np.nan_to_num(avail), 0.0)
    spare = np.where(np.isnan(avail), np.inf, np.maximum(avail - load, 0.0))
    ot = np.where(np.isnan(avail), np.inf, np.maximum(allowed - used_ot, 0.0))
    return spare, ot


def _make_by(units: float, r: int, h: float, spare: np.ndarray, ot: np.ndarray, ot_rate: float,
             hold: float) -> dict:
    """Make ``units`` in month r or earlier (latest first): spare hours, then overtime. Mutates spare / ot."""
    left = units
    ot_hours = spare_hours = holding = 0.0
    for k in range(r, -1, -1):
        if left <= 1e-9:
            break
        for pool, is_ot in ((spare, False), (ot, True)):
            if left <= 1e-9:
                break
            cap_units = pool[k] / h if h > 0 else np.inf
            u = min(left, cap_units)
            if u <= 1e-9:
                continue
            hours = u * h
            pool[k] -= hours
            left -= u
            holding += u * hold * (r - k)
            if is_ot:
                ot_hours += hours
            else:
                spare_hours += hours
    return {"units_made": units - max(left, 0.0), "missing_units": max(left, 0.0), "spare_hours": spare_hours,
            "overtime_hours": ot_hours, "overtime_cost": ot_hours * ot_rate, "holding_cost": holding}


def available_to_promise(
    con_or_inputs,
    plan: Plan,
    sku: str,
    qty: float,
    requested_date,
    price: float | None = None,
    consume_forecast: bool = False,
) -> dict:
    """Can ``qty`` of ``sku`` ship on ``requested_date`` under ``plan``? (rules: module docstring)

    ``con_or_inputs``: a database connection, the PlanInputs or None (the plan carries what is needed).
    Returns a dict: sku, qty, requested_date, requested_month, as_of (the plan's: the data day the answer belongs
    to), available (bool), atp_in_requested_month,
    qty_on_requested_date, shortfall_qty, earliest_full_month / earliest_full_date (None when the horizon
    never has it), atp_by_month (DataFrame: period, supply, committed, cumulative_net, atp), ctp_options
    (list of dicts: option, feasible, units, spare_hours, overtime_hours, overtime_cost, holding_cost, cost,
    detail), ctp_best (cheapest feasible option or None), price, unit_cost, revenue,
    margin_before_expediting, expediting_cost, margin_after_expediting,
    profitable_only_if_production_absorbs_expediting, message, atp_explanation (:func:`atp_explanation`).
    atp_by_month also has limited_by (the month whose cumulative net limits ATP).
    """
    try:
        qty = float(qty)
    except (TypeError, ValueError):
        raise PlanningError(f"The quantity must be a number, not {qty!r}.") from None
    if not np.isfinite(qty) or qty <= 0:
        raise PlanningError(f"The quantity must be positive, not {qty!r}.")
    requested = as_date(requested_date)
    prod = _product(con_or_inputs, plan, sku)
    price = float(prod["unit_price"]) if price is None else float(price)
    if not np.isfinite(price) or price < 0:
        raise PlanningError(f"The price must be zero or positive, not {price!r}.")
    unit_cost, h = float(prod["unit_cost"]), float(prod["hours_per_unit"])
    months = [ts(m) for m in plan.months]
    lines = plan.lines[plan.lines["sku"] == sku].set_index("period").reindex(months).fillna(
        {"demand": 0.0, "backlog": 0.0, "open_receipts": 0.0, "production": 0.0})
    on_hand = float(plan.products.set_index("sku").at[sku, "on_hand"])
    receipts = lines["open_receipts"].to_numpy(dtype=float)
    production = lines["production"].to_numpy(dtype=float)
    supply = receipts + production
    supply[0] += on_hand
    committed = (lines["backlog"] if consume_forecast else lines["demand"]).to_numpy(dtype=float)
    net, atp = cumulative_atp(supply, committed)
    T = len(months)
    rm = month_start(requested)
    notes = []
    if rm < plan.months[0]:
        r = 0
        notes.append(f"requested before the plan starts: checked in {plan.months[0]:%Y-%m}")
    elif rm > plan.months[-1]:
        r = T - 1
        notes.append(f"requested after the horizon: checked in {plan.months[-1]:%Y-%m}")
    else:
        r = plan.months.index(rm)
    available = bool(atp[r] >= qty - 1e-9)
    on_date = float(min(qty, atp[r]))
    later = [t for t in range(r, T) if atp[t] >= qty - 1e-9]
    earliest_month = plan.months[later[0]] if later else None
    earliest_date = (requested if later and later[0] == r else month_end(earliest_month) if later else None)
    table = pd.DataFrame({"period": months, "supply": supply, "committed": committed, "cumulative_net": net,
                          "atp": atp, "limited_by": [months[k] for k in binding_months(net)]})

    options, best = [], None
    short = max(qty - atp[r], 0.0)
    s = plan.settings
    ot_rate = s.overtime_rate(plan.products)
    hold = s.holding_rate * unit_cost
    no_cost = getattr(plan, "unavailable", {}).get("costs")  # no unit costs: no cost or margin to quote
    unchecked = None
    if short > 1e-9:
        wc = str(prod["work_center"])
        spare, ot = _headroom(plan, wc)
        unchecked = uncapacitated_reason(sku, prod["work_center"], h, spare)
        made = _make_by(short, r, h, spare.copy(), ot.copy(), ot_rate, hold)
        feasible = made["missing_units"] <= 1e-9
        options.append({
            "option": "extra production", "feasible": feasible, "units": made["units_made"],
            "spare_hours": made["spare_hours"], "overtime_hours": made["overtime_hours"],
            "overtime_cost": made["overtime_cost"], "holding_cost": made["holding_cost"],
            "cost": made["overtime_cost"] + made["holding_cost"],
            "detail": (f"make {units_text(made['units_made'])} extra by {plan.months[r]:%Y-%m}: {unchecked}"
                       if unchecked else
                       f"make {units_text(made['units_made'])} extra by {plan.months[r]:%Y-%m} at {wc}: "
                       f"{made['spare_hours']:,.1f} spare h, {made['overtime_hours']:,.1f} overtime h"
                       + ("" if feasible else f"; {units_text(made['missing_units'])} units lack capacity")),
        })
        # pull forward later supply (open work orders first, then planned production)
        net2 = net.copy()
        moved, sources = 0.0, []
        sp2, ot2 = spare.copy(), ot.copy()
        pulled = {"spare_hours": 0.0, "overtime_hours": 0.0, "overtime_cost": 0.0, "holding_cost": 0.0}
        for j in range(r + 1, T):
            for what, amount in (("open work orders", receipts[j]), ("planned production", production[j])):
                before, after = float(net2[r:j].min()), float(net2[j:].min())
                if min(before, after) >= qty - 1e-9:
                    break
                # moving u units from month j into month r lifts net[r:j] by u; net[j:] is unchanged
                useful = min(amount, qty - before, max(0.0, after - before))
                if useful <= 1e-9:
                    continue
                got = _make_by(useful, r, h, sp2, ot2, ot_rate, hold)
                u = got["units_made"]
                if u <= 1e-9:
                    continue
                net2[r:j] += u
                moved += u
                for k in ("spare_hours", "overtime_hours", "overtime_cost", "holding_cost"):
                    pulled[k] += got[k]
                sources.append(f"{units_text(u)} of {what} from {plan.months[j]:%Y-%m}")
        atp2 = max(0.0, float(net2[r:].min()))
        feasible = atp2 >= qty - 1e-9
        options.append({
            "option": "pull forward", "feasible": feasible, "units": moved,
            "spare_hours": pulled["spare_hours"], "overtime_hours": pulled["overtime_hours"],
            "overtime_cost": pulled["overtime_cost"], "holding_cost": pulled["holding_cost"],
            "cost": pulled["overtime_cost"] + pulled["holding_cost"],
            "detail": ("move " + ", ".join(sources) + f" into {plan.months[r]:%Y-%m}" if sources
                       else "no later supply can be moved forward")
                      + ("" if feasible else f"; ATP would reach only {units_text(atp2)}")
                      + (f"; {UNCHECKED} ({unchecked})" if unchecked and sources else ""),
        })
        for o in options:  # what a person reads in place of the numbers the data cannot support
            o["capacity_checked"] = unchecked is None
            o["capacity_note"] = unchecked
            o["cost_note"] = (NO_UNIT_COSTS if no_cost else  # unchecked: no overtime is known, only holding
                              f"{o['cost']:,.2f} (holding only; overtime not known: {UNCHECKED})" if unchecked else None)
            if unchecked:
                o["spare_hours"] = o["overtime_hours"] = None
        feasible_opts = [o for o in options if o["feasible"]]
        if feasible_opts:
            best = min(feasible_opts, key=lambda o: (o["cost"], o["option"] != "pull forward"))

    expediting = float(best["cost"]) if best else 0.0
    revenue = qty * price
    margin_before = qty * (price - unit_cost)
    margin_after = margin_before - expediting
    flag = bool(best is not None and margin_before > 0 and margin_after <= 0
                and not getattr(plan, "unavailable", {}).get("costs"))
    if available:
        msg = (f"{units_text(qty)} x {sku} can ship on {requested}: {units_text(atp[r])} available to promise in "
               f"{plan.months[r]:%Y-%m}.")
    else:
        msg = (f"Only {units_text(on_date)} of {units_text(qty)} x {sku} can ship on {requested}; "
               + (f"the full quantity is available by {earliest_date}." if earliest_date else
                  "the full quantity is not available within the plan horizon."))
        ctp = f"Capable to promise ({UNCHECKED})" if best and unchecked else "Capable to promise"
        if best and no_cost:
            msg += f" {ctp} on {requested} by {best['option']} ({best['detail']}); its cost: {no_cost}."
        elif best:
            # money as on the page's tiles (whole, thousands separated); a zero cost in words
            cost = best["cost_note"] or (f"a cost of {format_value(best['cost'], MONEY)}"
                                         if round(float(best["cost"])) else "no extra cost")
            msg += (f" {ctp} on {requested} by {best['option']} ({best['detail']}) at {cost};"
                    f" margin after it {format_value(margin_after, MONEY)}.")
        else:
            msg += " Neither extra production nor pulling work orders forward makes the date."
        if flag:
            msg += " The order is profitable only if production absorbs the expediting cost."
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    options = [{k: (bool(v) if isinstance(v, bool | np.bool_) else float(v) if isinstance(v, int | float | np.number)
                    else v) for k, v in o.items()} for o in options]
    best = next((o for o in options if best is not None and o["option"] == best["option"]), None)
    result = {
        "sku": sku, "qty": qty, "requested_date": requested, "requested_month": plan.months[r], "as_of": plan.as_of,
        "available": available, "atp_in_requested_month": float(atp[r]), "qty_on_requested_date": on_date,
        "shortfall_qty": float(short), "earliest_full_month": earliest_month, "earliest_full_date": earliest_date,
        "atp_by_month": table, "ctp_options": options, "ctp_best": best, "price": price, "unit_cost": unit_cost,
        "revenue": revenue, "margin_before_expediting": margin_before, "expediting_cost": expediting,
        "margin_after_expediting": margin_after, "profitable_only_if_production_absorbs_expediting": flag,
        "consume_forecast": bool(consume_forecast), "message": msg,
        "capacity_checked": unchecked is None, "capacity_note": unchecked, "cost_note": NO_UNIT_COSTS if no_cost else None,
    }
    result["atp_explanation"] = atp_explanation(result)
    return result


def ctp_table(options: list[dict]) -> pd.DataFrame:
    """The capable-to-promise options as a person reads them (one row per option): units whole, hours empty
    where capacity is not checked, and the cost as its words where the data cannot support a number
    ('not available: needs unit costs'); the exact numbers stay in the answer's ``ctp_options``."""
    cols = ["option", "feasible", "units", "spare_hours", "overtime_hours", "overtime_cost", "holding_cost", "cost",
            "detail"]
    df = pd.DataFrame(options, columns=[*cols, "cost_note"])
    if df.empty:
        return df[cols]
    df["units"] = [half_up(float(u) + 1e-9) for u in df["units"]]
    noted = df["cost_note"].notna()
    if noted.any():  # a column of words: the number parts are not known either
        df["cost"] = [n if isinstance(n, str) else f"{c:,.2f}" for n, c in zip(df["cost_note"], df["cost"])]
        df[["overtime_cost", "holding_cost"]] = None
    return df[cols]
