"""Decisions, actions and the collaboration pulse of a summit.

A decision records what the meeting decided; an action is work someone owns with a due date, followed up
at the next summits until it is done or dropped (status 'open' -> 'in progress' -> 'done' / 'dropped'; every
change is kept in ``summit_action_log``). An action or decision can come from an exception of the summit's
frozen exceptions list (``source_exception`` = its exception_key).

The pulse: at each summit the sales side and the production side each score how well they work together
(0-10) with an optional note; the trend over summits shows whether "one team" is getting truer.

Every write goes through ``db.writer`` (one transaction); text is length-limited and never interpreted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from analytics import access, db, kpis
from analytics.dates import as_date
from analytics.planning.common import has_table
from analytics.summit.codec import frame_from_json

KINDS = ("decision", "action")
STATUSES = ("open", "in progress", "done", "dropped")
OPEN_STATUSES = ("open", "in progress")
SIDES = ("sales", "production")
MAX_TEXT = 1000
MAX_NAME = 100
MAX_KEY = 200

ACTION_COLUMNS = ["action_id", "summit_id", "summit_month", "summit_title", "kind", "text", "owner", "due", "status",
                  "overdue", "source_exception", "source_detail", "created_at", "created_by", "updated_at",
                  "updated_by", "last_note"]
PULSE_COLUMNS = ["summit_id", "month", "title", "side", "average_score", "responses"]


# ---------------------------------------------------------------------------- validation


def clean_text(value, what: str, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    """Stripped text of at most ``limit`` characters; None when empty and not required (else ValueError)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        value = ""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}.")
    value = value.strip()
    if not value:
        if required:
            raise ValueError(f"{what} is required.")
        return None
    if len(value) > limit:
        raise ValueError(f"{what} is too long: {len(value):,} characters, at most {limit:,}.")
    return value


def as_day(value, what: str) -> date | None:
    """date / datetime / Timestamp / ISO text -> date; None stays None; else ValueError."""
    return as_date(value, what, allow_none=True)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _data_day(con) -> date:
    """The data's as-of date (``kpis.default_as_of``): overdue is measured in data days, never the wall clock;
    a database without dated data falls back to the newest summit's as-of, else 1900-01-01 (nothing overdue)."""
    try:
        day = kpis.default_as_of(con)
    except duckdb.Error:
        day = None
    if day is None and has_table(con, "summits"):
        day = con.execute("SELECT max(as_of) FROM summits").fetchall()[0][0]
    return day or date(1900, 1, 1)


def _existing(path):
    p = db.resolve_db_path(path)
    if not p.exists():
        raise db.DatabaseError(f"No database at {p}: build the demo or import data first.")
    return p


def _summit_row(con, summit_id) -> tuple:
    rows = con.execute("SELECT summit_id, month, as_of FROM summits WHERE summit_id = $id",
                       {"id": int(summit_id)}).fetchall()
    if not rows:
        raise ValueError(f"No summit {summit_id}.")
    return rows[0]


def _exception(con, summit_id: int, key: str) -> str:
    """The frozen exception ``key`` of the summit, described in one line (ValueError when it is not there)."""
    rows = con.execute("SELECT frame_json FROM summit_frames WHERE summit_id = $id AND name = 'exceptions'",
                       {"id": summit_id}).fetchall()
    exc = frame_from_json(rows[0][0]) if rows else pd.DataFrame(columns=["exception_key"])
    hit = exc[exc["exception_key"] == key]
    if hit.empty:
        raise ValueError(f"Summit {summit_id} has no exception {key!r}: pick one from its exceptions list.")
    r = hit.iloc[0]
    money = "" if pd.isna(r["money_impact"]) else f" ({r['money_impact']:,.0f})"
    return f"#{r['rank']} {r['kind']}: {r['subject']}: {r['detail']}{money}"


# ---------------------------------------------------------------------------- decisions and actions


@access.requires("decision")
def add_decision(db_path, summit_id: int, text: str, owner: str | None = None, due=None, kind: str = "decision",
                 source_exception: str | None = None, by: str | None = None) -> int:
    """Record a decision or an action at a summit; returns its action_id. One db.writer transaction.

    ``text``: at most 1000 characters. An action needs an ``owner`` and a ``due`` date (a decision may have
    them). ``source_exception``: the exception_key of one of the summit's frozen exceptions it answers.
    Actions start 'open'; decisions have no status. ValueError on any invalid value.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be 'decision' or 'action', not {kind!r}.")
    text = clean_text(text, "The text", required=True)
    owner = clean_text(owner, "The owner", MAX_NAME, required=kind == "action")
    due = as_day(due, "The due date")
    if kind == "action" and due is None:
        raise ValueError("An action needs a due date.")
    key = clean_text(source_exception, "The source exception", MAX_KEY)
    by = clean_text(by, "Who records it", MAX_NAME)
    with db.writer(_existing(db_path)) as con:
        sid = int(_summit_row(con, summit_id)[0])
        detail = _exception(con, sid, key) if key else None
        action_id = int(con.execute("SELECT coalesce(max(action_id), 0) + 1 FROM summit_actions").fetchall()[0][0])
        access.note(target=f"summit {sid} {kind} {action_id}", after={"text": text, "owner": owner, "due": due})
        now = _now()
        con.execute(
            "INSERT INTO summit_actions VALUES ($id, $sid, $kind, $text, $owner, $due, $status, $key, $detail, $at, "
            "$by, $at, $by, NULL)",
            {"id": action_id, "sid": sid, "kind": kind, "text": text, "owner": owner, "due": due,
             "status": "open" if kind == "action" else None, "key": key, "detail": detail, "at": now, "by": by})
        if kind == "action":
            _log(con, action_id, "open", None, by, now)
    return action_id


def _log(con, action_id: int, status: str, note: str | None, by: str | None, at: datetime) -> None:
    log_id = int(con.execute("SELECT coalesce(max(log_id), 0) + 1 FROM summit_action_log").fetchall()[0][0])
    con.execute("INSERT INTO summit_action_log VALUES ($id, $a, $at, $s, $n, $by)",
                {"id": log_id, "a": action_id, "at": at, "s": status, "n": note, "by": by})


@access.requires("action")
def update_action(db_path, action_id: int, status: str, note: str | None = None, by: str | None = None) -> None:
    """Set an action's status ('open', 'in progress', 'done', 'dropped') with an optional note (at most 1000
    characters); the change is logged. Decisions have no status (ValueError). One db.writer transaction."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}.")
    note = clean_text(note, "The note")
    by = clean_text(by, "Who updates it", MAX_NAME)
    with db.writer(_existing(db_path)) as con:
        rows = con.execute("SELECT kind, status FROM summit_actions WHERE action_id = $id",
                           {"id": int(action_id)}).fetchall()
        if not rows:
            raise ValueError(f"No action {action_id}.")
        access.note(target=f"action {action_id}", before={"status": rows[0][1]}, after={"status": status, "note": note})
        if rows[0][0] != "action":
            raise ValueError(f"{action_id} is a decision: only actions have a status.")
        now = _now()
        con.execute(
            "UPDATE summit_actions SET status = $s, updated_at = $at, updated_by = $by, "
            "last_note = coalesce($n, last_note) WHERE action_id = $id",
            {"s": status, "at": now, "by": by, "n": note, "id": int(action_id)})
        _log(con, int(action_id), status, note, by, now)


_ACTIONS_SQL = """
    SELECT a.action_id, a.summit_id, s.month AS summit_month, s.title AS summit_title, a.kind, a.text, a.owner,
           a.due, a.status, (a.kind = 'action' AND a.status IN ('open', 'in progress') AND a.due < $ref) AS overdue,
           a.source_exception, a.source_detail, a.created_at, a.created_by, a.updated_at, a.updated_by, a.last_note
    FROM summit_actions a JOIN summits s USING (summit_id)
"""


def _frame(con, where: str, params: dict, ref: date) -> pd.DataFrame:
    if not has_table(con, "summit_actions"):
        return pd.DataFrame(columns=ACTION_COLUMNS)
    df = con.execute(_ACTIONS_SQL + where, params | {"ref": ref}).df()
    df["overdue"] = df["overdue"].fillna(False).astype(bool)
    for c in ("summit_month", "due"):
        df[c] = df[c].map(lambda d: None if d is None or pd.isna(d) else pd.Timestamp(d).date()).astype(object)
    return df[ACTION_COLUMNS]


def actions(con, summit_id: int) -> pd.DataFrame:
    """The decisions and actions recorded at one summit, in the order they were recorded.

    grain: one row per decision or action. Columns: action_id, summit_id, summit_month, summit_title, kind,
    text, owner, due, status (None for decisions), overdue (an open action past its due date, against the
    summit's as-of date), source_exception, source_detail, created_at, created_by, updated_at, updated_by,
    last_note.
    """
    ref = None
    if has_table(con, "summits"):
        got = con.execute("SELECT as_of FROM summits WHERE summit_id = $id", {"id": int(summit_id)}).fetchall()
        ref = got[0][0] if got else None
    ref = ref or _data_day(con)
    return _frame(con, "WHERE a.summit_id = $id ORDER BY a.action_id", {"id": int(summit_id)}, ref)


def open_actions(con, before_summit_id: int | None = None) -> pd.DataFrame:
    """Actions still open or in progress, carried to the next summit (its agenda step 1).

    ``before_summit_id``: only actions of summits held before that one (an earlier month, or the same month
    and a smaller id), overdue measured against its as-of date; None: every open action, overdue against
    the data's as-of date (due dates are data days, like the summit's as-of). grain: one row per action, oldest due date first. Columns: as :func:`actions`.
    """
    if not has_table(con, "summits"):
        return pd.DataFrame(columns=ACTION_COLUMNS)
    where = "WHERE a.kind = 'action' AND a.status IN ('open', 'in progress')"
    params: dict = {}
    ref = _data_day(con)
    if before_summit_id is not None:
        _, month, as_of = _summit_row(con, before_summit_id)
        where += " AND (s.month < $month OR (s.month = $month AND s.summit_id < $id))"
        params = {"month": month, "id": int(before_summit_id)}
        ref = as_of
    return _frame(con, where + " ORDER BY a.due, a.action_id", params, ref)


# ---------------------------------------------------------------------------- the pulse


@access.requires("pulse")
def record_pulse(db_path, summit_id: int, side: str, score, note: str | None = None, by: str | None = None) -> int:
    """One answer to "how well do sales and production work together?" at a summit: ``side`` 'sales' or
    'production', ``score`` a whole number 0-10, optional note (at most 1000 characters). Returns pulse_id."""
    if side not in SIDES:
        raise ValueError(f"side must be 'sales' or 'production', not {side!r}.")
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise ValueError(f"The score must be a whole number from 0 to 10, not {score!r}.") from None
    if isinstance(score, bool) or not value.is_integer() or not 0 <= value <= 10:
        raise ValueError(f"The score must be a whole number from 0 to 10, not {score!r}.")
    note = clean_text(note, "The note")
    by = clean_text(by, "Who answers", MAX_NAME)
    with db.writer(_existing(db_path)) as con:
        sid = int(_summit_row(con, summit_id)[0])
        pulse_id = int(con.execute("SELECT coalesce(max(pulse_id), 0) + 1 FROM summit_pulse").fetchall()[0][0])
        access.note(target=f"summit {sid} pulse", after={"side": side, "score": int(value), "note": note})
        con.execute("INSERT INTO summit_pulse VALUES ($id, $sid, $side, $score, $note, $by, $at)",
                    {"id": pulse_id, "sid": sid, "side": side, "score": int(value), "note": note, "by": by,
                     "at": _now()})
    return pulse_id


def pulse_trend(con) -> pd.DataFrame:
    """The collaboration pulse over summits.

    grain: one row per summit x side with answers, in summit order (month, then id). Columns: summit_id,
    month, title, side, average_score (mean of the 0-10 scores), responses.
    """
    if not has_table(con, "summit_pulse"):
        return pd.DataFrame(columns=PULSE_COLUMNS)
    df = con.execute(
        """-- grain: one row per summit x side
        SELECT s.summit_id, s.month, s.title, p.side, avg(p.score)::DOUBLE AS average_score, count(*) AS responses
        FROM summit_pulse p JOIN summits s USING (summit_id)
        GROUP BY ALL ORDER BY s.month, s.summit_id, p.side""").df()
    df["month"] = df["month"].map(lambda d: pd.Timestamp(d).date()).astype(object)
    return df[PULSE_COLUMNS]
