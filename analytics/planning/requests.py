"""Requests from sales to production, and the promise answer they start from.

A salesperson checks an order line with :func:`promise_answer` (available-to-promise / capable-to-promise against
a plan) and, when the answer is not good enough, sends production a request (:func:`create_request`):
the SKU, the customer (optional), the quantity and date asked for, what the customer could live with
(part now and the rest by a date, a latest acceptable date, free text), the quoted price, the ATP answer
in short, who and when. A planner answers it once (:func:`answer_request`): accept, propose (another date
and/or quantity) or decline, with a note (required to propose or decline).

Table ``production_requests`` (db.PLANNING_TABLES_SQL), one row per request; status 'open' until answered,
then 'accepted', 'proposed' or 'declined'. Every write is one db.writer transaction. Text is stored as
given (the screen escapes it on display), at most 500 characters per field. Times are UTC.
"""

from __future__ import annotations

import difflib
import json
import math
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from analytics import access, db
from analytics.planning.common import PlanningError, as_date, has_table
from analytics.planning.promise import UNCHECKED, units_text

MAX_TEXT = 500
MAX_NAME = 100
DECISIONS = {"accept": "accepted", "propose": "proposed", "decline": "declined"}
STATUSES = ("open", "accepted", "proposed", "declined")
REQUEST_COLUMNS = [
    "request_id", "created_at", "requested_by", "sku", "customer_id", "quantity", "requested_date",
    "partial_qty_now", "rest_by_date", "latest_acceptable_date", "flexibility", "quoted_price", "atp_summary",
    "status", "decision", "answer_note", "answered_by", "answered_at", "proposed_date", "proposed_qty",
]


# ---------------------------------------------------------------------------- checks


def _text(value, what: str, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(f"{what} must be text, not {type(value).__name__}.")
    if required and not text:
        raise ValueError(f"{what} is required.")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; at most {limit} are allowed.")
    return text or None


def _qty(value, what: str, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}.") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'zero or ' if allow_zero else ''}positive, not {value!r}.")
    return v


def _day(value, what: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return as_date(value)
    except PlanningError:
        raise ValueError(f"{what} {value!r} is not a date (YYYY-MM-DD).") from None


def _now(at) -> datetime:
    if at is None:
        return datetime.now(UTC).replace(tzinfo=None)
    ts = pd.Timestamp(at)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def atp_summary_text(answer: dict) -> str:
    """A one-line summary of an :func:`analytics.planning.available_to_promise` answer (fits 500 chars)."""
    qty, sku = float(answer["qty"]), answer["sku"]
    parts = [f"{'available' if answer['available'] else 'not available'}: {units_text(answer['qty_on_requested_date'])} "
             f"of {units_text(qty)} x {sku} on {answer['requested_date']}"]
    if not answer["available"]:
        full = answer.get("earliest_full_date")
        parts.append(f"full quantity by {full}" if full else "full quantity not within the horizon")
        best = answer.get("ctp_best")
        cost = best and (best.get("cost_note") or f"{best['cost']:,.2f}")
        unchecked = f" ({UNCHECKED})" if best and best.get("capacity_checked") is False else ""
        parts.append(f"CTP by {best['option']}{unchecked} at {cost}" if best else "no CTP option")
    if answer.get("margin_unavailable"):
        parts.append(f"margin {answer['margin_unavailable']}")
    else:
        parts.append(f"margin {answer['margin_after_expediting']:,.2f} at price {answer['price']:,.2f}")
    if answer.get("as_of"):  # the data day the answer belongs to (its plan's as-of date), never the wall clock
        parts.append(f"plan as of {answer['as_of']}")
    return "; ".join(parts)[:MAX_TEXT]


# ---------------------------------------------------------------------------- writes


@access.requires("request")
def create_request(
    db_path,
    sku: str,
    quantity: float,
    requested_date,
    requested_by: str,
    customer_id: str | None = None,
    *,
    partial_qty_now: float | None = None,
    rest_by_date=None,
    latest_acceptable_date=None,
    flexibility: str | None = None,
    quoted_price: float | None = None,
    atp_summary: str | dict | None = None,
    at=None,
) -> int:
    """Record a request to production; returns its request_id. One db.writer transaction.

    ``partial_qty_now`` / ``rest_by_date``: the customer takes that much on the requested date and the rest
    by that date; ``latest_acceptable_date``: or all of it as late as that; ``flexibility``: anything else, in
    words. ``atp_summary``: text, or the available_to_promise answer (summarised). ``at``: when (default now).
    Unknown SKU or customer, a quantity <= 0, a partial quantity not below the quantity, dates before the
    requested date or text over 500 characters -> ValueError; nothing is written.
    """
    sku = _text(sku, "The SKU", MAX_NAME, required=True)
    customer_id = _text(customer_id, "The customer", MAX_NAME)
    requested_by = _text(requested_by, "Who asks (requested_by)", MAX_NAME, required=True)
    quantity = _qty(quantity, "The quantity")
    requested = _day(requested_date, "The requested date")
    if requested is None:
        raise ValueError("The requested date is required.")
    partial = None if partial_qty_now is None else _qty(partial_qty_now, "The partial quantity now", allow_zero=True)
    if partial is not None and partial >= quantity:
        raise ValueError(f"The partial quantity now ({partial:g}) must be below the quantity asked ({quantity:g}).")
    rest_by = _day(rest_by_date, "The date for the rest")
    if rest_by is not None and partial is None:
        raise ValueError("A date for the rest needs the partial quantity taken now.")
    latest = _day(latest_acceptable_date, "The latest acceptable date")
    for what, d in (("The date for the rest", rest_by), ("The latest acceptable date", latest)):
        if d is not None and d < requested:
            raise ValueError(f"{what} ({d}) is before the requested date ({requested}).")
    flexibility = _text(flexibility, "What the customer could live with")
    price = None if quoted_price is None else _qty(quoted_price, "The quoted price", allow_zero=True)
    if isinstance(atp_summary, dict):
        atp_summary = atp_summary_text(atp_summary)
    atp_summary = _text(atp_summary, "The ATP summary")
    created = _now(at)

    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        if not con.execute("SELECT count(*) FROM products WHERE sku = $s", {"s": sku}).fetchall()[0][0]:
            raise ValueError(f"Unknown SKU {sku!r}: nothing was saved.")
        if customer_id is not None and not con.execute(
                "SELECT count(*) FROM customers WHERE customer_id = $c", {"c": customer_id}).fetchall()[0][0]:
            raise ValueError(f"Unknown customer {customer_id!r}: nothing was saved.")
        request_id = int(con.execute(
            "SELECT coalesce(max(request_id), 0) + 1 FROM production_requests").fetchall()[0][0])
        access.note(target=f"request {request_id}", after={"sku": sku, "qty": float(quantity), "customer": customer_id})
        con.execute(
            "INSERT INTO production_requests (request_id, created_at, requested_by, sku, customer_id, quantity, "
            "requested_date, partial_qty_now, rest_by_date, latest_acceptable_date, flexibility, quoted_price, "
            "atp_summary, status) VALUES ($id, $at, $by, $sku, $cust, $qty, $req, $partial, $rest, $latest, $flex, "
            "$price, $atp, 'open')",
            {"id": request_id, "at": created, "by": requested_by, "sku": sku, "cust": customer_id, "qty": quantity,
             "req": requested, "partial": partial, "rest": rest_by, "latest": latest, "flex": flexibility,
             "price": price, "atp": atp_summary},
        )
    return request_id


@access.requires("request")
def answer_request(db_path, request_id: int, decision: str, note: str | None, planner: str,
                   proposed_date=None, proposed_qty: float | None = None, at=None) -> str:
    """A planner's answer to an open request; returns the new status. One db.writer transaction.

    ``decision``: 'accept', 'propose' (needs proposed_date and/or proposed_qty) or 'decline'; ``note`` is
    required to propose or decline. Only an open request can be answered (a second answer -> ValueError).
    """
    if decision not in DECISIONS:
        raise ValueError(f"The decision is one of {', '.join(DECISIONS)}, not {decision!r}.")
    note = _text(note, "The note", required=decision in ("propose", "decline"))
    planner = _text(planner, "The planner", MAX_NAME, required=True)
    pdate = _day(proposed_date, "The proposed date")
    pqty = None if proposed_qty is None else _qty(proposed_qty, "The proposed quantity")
    if decision == "propose" and pdate is None and pqty is None:
        raise ValueError("A proposal needs another date and/or quantity.")
    if decision != "propose" and (pdate is not None or pqty is not None):
        raise ValueError(f"Only a proposal carries a date or quantity; to {decision}, leave them empty.")
    try:
        rid = int(request_id)
    except (TypeError, ValueError):
        raise ValueError(f"{request_id!r} is not a request number.") from None
    answered = _now(at)
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        rows = con.execute(
            "SELECT status, answered_by, answered_at, created_at FROM production_requests WHERE request_id = $id",
            {"id": rid}).fetchall()
        if not rows:
            raise ValueError(f"No request {rid}.")
        status, by, when, created = rows[0]
        access.note(target=f"request {rid}", before={"status": status}, after={"decision": decision, "note": note})
        if status != "open":
            raise ValueError(f"Request {rid} was already answered ({status} by {by} at {when:%Y-%m-%d %H:%M}); "
                             "only open requests can be answered.")
        if answered < created:
            raise ValueError(f"The answer time {answered} is before the request was made ({created}).")
        con.execute(
            "UPDATE production_requests SET status = $status, decision = $decision, answer_note = $note, "
            "answered_by = $by, answered_at = $at, proposed_date = $pdate, proposed_qty = $pqty "
            "WHERE request_id = $id AND status = 'open'",
            {"status": DECISIONS[decision], "decision": decision, "note": note, "by": planner, "at": answered,
             "pdate": pdate, "pqty": pqty, "id": rid},
        )
    return DECISIONS[decision]


# ---------------------------------------------------------------------------- reads


def list_requests(con: duckdb.DuckDBPyConnection, status: str | None = None, sku: str | None = None) -> pd.DataFrame:
    """Requests, newest first; ``status``: 'open', 'answered' (any answer), 'accepted', 'proposed', 'declined'.

    grain: one row per request. Columns: REQUEST_COLUMNS + hours_to_answer (NaN while open).
    """
    if status is not None and status not in (*STATUSES, "answered"):
        raise ValueError(f"The status is one of {', '.join((*STATUSES, 'answered'))}, not {status!r}.")
    if not has_table(con, "production_requests"):
        return pd.DataFrame(columns=[*REQUEST_COLUMNS, "hours_to_answer"])
    df = con.execute(
        f"""-- grain: one row per request
        SELECT {', '.join(REQUEST_COLUMNS)},
               (epoch(answered_at) - epoch(created_at)) / 3600.0 AS hours_to_answer
        FROM production_requests
        WHERE ($status IS NULL OR status = $status OR ($status = 'answered' AND status <> 'open'))
          AND ($sku IS NULL OR sku = $sku)
        ORDER BY created_at DESC, request_id DESC""",  # the column list is this module's constant
        {"status": status, "sku": sku},
    ).df()
    return df


def request_stats(con: duckdb.DuckDBPyConnection, since=None) -> dict:
    """How requests were handled (requests made on or after ``since``, a date or datetime; None = all).

    Keys: requests, open, answered, accepted, proposed, declined, median_hours_to_answer,
    mean_hours_to_answer (None when nothing is answered).
    """
    out = {"requests": 0, "open": 0, "answered": 0, "accepted": 0, "proposed": 0, "declined": 0,
           "median_hours_to_answer": None, "mean_hours_to_answer": None}
    if not has_table(con, "production_requests"):
        return out
    start = None if since is None else _now(since)
    df = con.execute(
        """-- grain: one row per request made since the date: status and hours to answer
        SELECT status, (epoch(answered_at) - epoch(created_at)) / 3600.0 AS hours
        FROM production_requests WHERE $since::TIMESTAMP IS NULL OR created_at >= $since::TIMESTAMP""",
        {"since": start},
    ).df()
    out["requests"] = len(df)
    counts = df["status"].value_counts()
    for s in STATUSES:
        out[s] = int(counts.get(s, 0))
    out["answered"] = out["requests"] - out["open"]
    hours = df["hours"].dropna()
    if len(hours):
        out["median_hours_to_answer"] = float(hours.median())
        out["mean_hours_to_answer"] = float(hours.mean())
    return out


# ---------------------------------------------------------------------------- the promise answer (CLI)


def _verdict(answer: dict) -> str:
    if answer["available"]:
        return "available"
    best = answer["ctp_best"]
    if best is not None:
        if best.get("capacity_checked") is False:  # uncapacitated SKU: the date is not checked against capacity
            return f"capable to promise, but {UNCHECKED} ({best['capacity_note']})"
        return ("capable to promise, only if production absorbs the expediting cost"
                if answer["profitable_only_if_production_absorbs_expediting"] else "capable to promise")
    if answer["earliest_full_date"] is not None:
        return "later date"
    return "partial only" if answer["qty_on_requested_date"] > 0 else "not available"


def promise_answer(con: duckdb.DuckDBPyConnection, sku: str, qty: float, requested_date, price: float | None = None,
            strategy: str = "optimised", horizon: int = 18, as_of=None) -> dict:
    """The ATP / CTP answer for one order line against a fresh plan of the database (JSON-safe dict).

    The plan: plan_inputs(con, as_of (default: the latest date in the data), horizon) and the strategy's
    plan with default settings. Keys: those of available_to_promise (dates as ISO text, atp_by_month as a
    list of rows) + as_of, strategy, horizon, verdict ('available', 'capable to promise' [, only if production
    absorbs the expediting cost], 'later date', 'partial only', 'not available'), partial_now.
    Unknown SKU -> ValueError (with close matches).
    """
    from analytics import kpis
    from analytics.planning.inputs import plan_inputs
    from analytics.planning.plans import make_plan
    from analytics.planning.promise import available_to_promise

    skus = [r[0] for r in con.execute("SELECT sku FROM products ORDER BY sku").fetchall()]
    if sku not in skus:
        close = difflib.get_close_matches(sku, skus, n=3)
        raise ValueError(f"Unknown SKU {sku!r}" + (f" (did you mean {', '.join(close)}?)" if close else "") + ".")
    as_of = as_date(as_of) if as_of is not None else kpis.default_as_of(con)
    if as_of is None:
        raise ValueError("The database has no dated data: give an as-of date.")
    inputs = plan_inputs(con, as_of, horizon)
    plan = make_plan(inputs, strategy)
    answer = available_to_promise(con, plan, sku, qty, requested_date, price=price)
    table = answer.pop("atp_by_month")
    out = json.loads(json.dumps(answer, default=str))
    out["atp_by_month"] = [
        {"period": str(pd.Timestamp(r.period).date()), "supply": float(r.supply), "committed": float(r.committed),
         "cumulative_net": float(r.cumulative_net), "atp": float(r.atp),
         "limited_by": str(pd.Timestamp(r.limited_by).date())} for r in table.itertuples()]
    out.update({"as_of": str(as_of), "strategy": strategy, "horizon": int(horizon), "verdict": _verdict(answer),
                "partial_now": float(answer["qty_on_requested_date"])})
    if plan.unavailable.get("costs"):  # no unit costs: no margin (a cost of 0 would make every order look rich)
        out.update({"margin_before_expediting": None, "margin_after_expediting": None,
                    "margin_unavailable": plan.unavailable["costs"]})
    return out


def format_promise(answer: dict) -> str:
    """The promise_answer dict as readable lines."""
    a = answer
    best = a.get("ctp_best")
    lines = [
        f"Order:            {a['qty']:,.0f} x {a['sku']} on {a['requested_date']} at {a['price']:,.2f} "
        f"(plan: {a['strategy']}, as of {a['as_of']}, {a['horizon']} months)",
        f"On that date:     {units_text(a['qty_on_requested_date'])} available to promise "
        f"({units_text(a['atp_in_requested_month'])} in {a['requested_month'][:7]})",
        f"Earliest full:    {a['earliest_full_date'] or 'not within the plan horizon'}",
        f"Partial now:      {units_text(a['partial_now'])}",
        f"Why:              {a['atp_explanation']}" if a.get("atp_explanation") else "",
    ]
    lines = [x for x in lines if x]
    for o in a.get("ctp_options", []):
        cost = o.get("cost_note") or ("n/a" if a.get("margin_unavailable") else f"{o['cost']:,.2f}")
        lines.append(f"CTP {o['option']:<13} {'feasible' if o['feasible'] else 'not feasible'}, cost "
                     f"{cost}: {o['detail']}")
    lines += [
        f"Margin:           {a['margin_unavailable']}" if a.get("margin_unavailable") else
        f"Margin:           {a['margin_before_expediting']:,.2f} before expediting, "
        f"{a['expediting_cost']:,.2f} expediting" + (f" ({best['option']})" if best else "")
        + f", {a['margin_after_expediting']:,.2f} after",
        f"Verdict:          {a['verdict']}",
        "",
        a["message"],
    ]
    return "\n".join(lines)


def promise_cli(args) -> int:
    """`python -m analytics promise`: print the answer (text or --json). Unknown SKU: exit 2 (main prints it)."""
    con = db.open_reader(args.db)
    try:
        answer = promise_answer(con, args.sku, args.qty, args.date, price=args.price, strategy=args.strategy,
                         horizon=args.horizon, as_of=args.as_of)
    finally:
        con.close()
    print(json.dumps(answer, indent=2) if args.json else format_promise(answer))
    return 0
