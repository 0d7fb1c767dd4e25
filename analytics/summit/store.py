"""Starting a summit (freezing what the meeting looks at), reading it back, listing summits.

:func:`start_summit` computes every agenda step's content from the database and stores it with the summit in
ONE ``db.writer`` transaction: the content is computed on the writer's own copy of the file, so what is frozen
is exactly the data of the version the summit lands in. Tables (``db.SUMMIT_TABLES_SQL``):

* ``summits``: one row per summit: month, title, facilitator, created_at, as_of, data_version, versions_json
  (forecast snapshots, forecast run, plan version and key figures), notes_json.
* ``summit_frames``: one row per summit x frozen frame: the frame as JSON (``codec``: columns, dtypes and
  values exactly), so :func:`load_summit` gives back the numbers the meeting saw, whatever was imported since.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

import pandas as pd

from analytics import access, db, kpis
from analytics.planning.common import has_table
from analytics.summit import content, ranking, team
from analytics.summit.codec import frame_from_json, frame_to_json
from analytics.summit.decisions import MAX_NAME, as_day, clean_text, open_actions

MAX_TITLE = 200


@dataclass(frozen=True)
class AgendaStep:
    """One step of the meeting: key, title, the frozen frames it shows, what it is for."""

    key: str
    title: str
    frames: tuple[str, ...]
    purpose: str


AGENDA: tuple[AgendaStep, ...] = (
    AgendaStep("actions", "1. Actions from earlier summits", ("carried_actions",),
               "Open actions carried over: done, in progress or overdue?"),
    AgendaStep("scorecard", "2. Scorecard", ("scorecard", "scorecard_trend"),
               "Every KPI for the month against its target, the month before, last year and the 13-month trend."),
    AgendaStep("misses", "3. The biggest misses, explained", ("misses", "miss_breakdowns"),
               "The KPIs furthest off target and the family, region, customer or work center that drives each."),
    AgendaStep("demand", "4. Demand review",
               ("demand_actuals", "bias_by_family", "consensus_changes", "fva", "fva_verdicts"),
               "Actual orders against the consensus (lag 1), bias by family, how the consensus changed and why, "
               "and whether each forecasting step adds value."),
    AgendaStep("supply", "5. Supply review",
               ("capacity_load", "unconstrained_load", "inventory_vs_safety_stock", "shortages"),
               "Which plan, its capacity load against the load of demand as it falls due (where it overloads), "
               "projected inventory against safety stock and the shortages of the plan's next months."),
    AgendaStep("gaps", "6. Gaps", ("demand_supply_gap", "revenue_vs_budget"),
               "Demand against supply in units and money; revenue against the budget."),
    AgendaStep("scenarios", "7. Scenarios side by side", ("scenarios", "scenario_comparison"),
               "The saved what-if scenarios against the baseline; the recommended one is marked."),
    AgendaStep("exceptions", "8. Exceptions, ranked by money", ("exceptions",),
               "What needs a decision, largest money impact first; each can become an action."),
    AgendaStep("team", "9. Sales and production, one team", ("promise_gap_trend", "promise_kept_rate", "request_stats"),
               "How much later than asked production lets sales promise, and how often the promise is kept."),
)
FRAME_NAMES: tuple[str, ...] = tuple(name for step in AGENDA for name in step.frames)


@dataclass(frozen=True, eq=False)
class Summit:
    """A summit and every frame frozen at its start (grain and columns: see each builder).

    carried_actions: ``decisions.open_actions`` at the start. scorecard / scorecard_trend:
    ``content.scorecard_frames``. misses / miss_breakdowns: ``content.biggest_misses``. demand_actuals,
    bias_by_family, consensus_changes, fva, fva_verdicts: the demand review (``content``). capacity_load,
    inventory_vs_safety_stock, shortages: ``content.supply_review``; unconstrained_load: the chase plan's load
    (``content.unconstrained_load``; empty in summits frozen before it existed). demand_supply_gap, revenue_vs_budget:
    the gaps. scenarios / scenario_comparison: ``content.scenarios_side_by_side``. exceptions:
    ``ranking.exceptions``. promise_gap_trend / promise_kept_rate: ``team``; request_stats: one row of
    ``planning.requests.request_stats`` (every request to production made before the summit started).
    versions: as_of, statistical_snapshot, consensus_snapshot, forecast_run_id, forecast_run_snapshot,
    data_version and plan (kind, name, scenario_id, plan_id, strategy, plan_as_of, first_period, horizon,
    key_figures).
    """

    summit_id: int
    month: date
    title: str
    facilitator: str | None
    created_at: datetime
    as_of: date
    data_version: int
    versions: dict
    notes: tuple[str, ...]
    carried_actions: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard_trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    miss_breakdowns: pd.DataFrame = field(default_factory=pd.DataFrame)
    demand_actuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    bias_by_family: pd.DataFrame = field(default_factory=pd.DataFrame)
    consensus_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    fva: pd.DataFrame = field(default_factory=pd.DataFrame)
    fva_verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    capacity_load: pd.DataFrame = field(default_factory=pd.DataFrame)
    unconstrained_load: pd.DataFrame = field(default_factory=pd.DataFrame)
    inventory_vs_safety_stock: pd.DataFrame = field(default_factory=pd.DataFrame)
    shortages: pd.DataFrame = field(default_factory=pd.DataFrame)
    demand_supply_gap: pd.DataFrame = field(default_factory=pd.DataFrame)
    revenue_vs_budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    scenarios: pd.DataFrame = field(default_factory=pd.DataFrame)
    scenario_comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    exceptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    promise_gap_trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    promise_kept_rate: pd.DataFrame = field(default_factory=pd.DataFrame)
    request_stats: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every frozen frame by name, in agenda order."""
        return {name: getattr(self, name) for name in FRAME_NAMES}

    @property
    def label(self) -> str:
        return f"{self.title} ({self.month:%Y-%m})"


assert set(FRAME_NAMES) <= {f.name for f in fields(Summit)}


# ---------------------------------------------------------------------------- freezing


def freeze_content(con, month: date, as_of: date) -> tuple[dict[str, pd.DataFrame], dict, list[str]]:
    """Compute every agenda frame (except carried_actions) for ``month`` with data as of ``as_of``.

    Returns (frames by name, versions, notes). Windows and rules: ``content``, ``ranking`` and ``team``.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(what: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[what] = round(now - started, 3)
        started = now

    notes: list[str] = []
    versions = {"as_of": as_of.isoformat(), **content.forecast_versions(con, as_of),
                "data_version": db.data_version(con)}
    plan, plan_version, plan_notes = content.summit_plan(con, as_of)
    versions["plan"] = plan_version
    notes += plan_notes
    lap("plan")
    f: dict[str, pd.DataFrame] = {}
    f["scorecard"], f["scorecard_trend"] = content.scorecard_frames(con, month, as_of)
    lap("scorecard")
    f["misses"], f["miss_breakdowns"] = content.biggest_misses(con, f["scorecard"], month, as_of)
    lap("misses")
    f["demand_actuals"] = content.demand_actuals(con, month, as_of)
    f["bias_by_family"] = content.bias_by_family(f["demand_actuals"], kpis.targets(con)["forecast_bias"][1])
    f["consensus_changes"] = content.consensus_changes(con, as_of)
    f["fva"], f["fva_verdicts"] = content.fva_frames(con, month, as_of)
    lap("demand review")
    f["capacity_load"], f["inventory_vs_safety_stock"], f["shortages"] = content.supply_review(plan)
    f["unconstrained_load"] = content.unconstrained_load(con, plan, plan_version)
    f["demand_supply_gap"] = content.demand_supply_gap(plan)
    f["revenue_vs_budget"] = content.revenue_vs_budget(con, month, as_of)
    if f["revenue_vs_budget"].empty:
        notes.append("No budget rows: revenue against budget is left out.")
    lap("supply review and gaps")
    f["scenarios"], f["scenario_comparison"], scen_notes = content.scenarios_side_by_side(con)
    notes += scen_notes
    lap("scenarios")
    f["exceptions"] = ranking.exceptions(con, month, as_of, plan, scorecard_rows=f["scorecard"])
    lap("exceptions")
    f["promise_gap_trend"] = team.promise_gap_trend(con, content.TREND_MONTHS, as_of)
    f["promise_kept_rate"] = team.promise_kept_rate(con, content.TREND_MONTHS, as_of)
    from analytics.planning.requests import request_stats

    f["request_stats"] = pd.DataFrame([request_stats(con)])  # one row: requests to production up to the start
    lap("sales and production")
    if versions["consensus_snapshot"] is None:
        notes.append("No consensus forecast on or before the as-of date.")
    versions["seconds"] = timings
    return f, versions, notes


@access.requires("summit")
def start_summit(db_path, month, title: str, facilitator: str | None, as_of=None) -> int:
    """Start the summit for ``month`` (the month under review; any date in it) and freeze its content.

    ``as_of``: the data date (None = the latest date in the data, ``kpis.default_as_of``); it may not be
    before the month starts. Everything the agenda shows, the as-of date and the versions used (forecast
    snapshots and run, plan version) are stored with the summit in one db.writer transaction; the open
    actions of earlier summits are frozen as agenda step 1. Returns the summit_id. ValueError on invalid
    input (title required, at most 200 characters; facilitator at most 100).
    """
    month = as_day(month, "The month")
    if month is None:
        raise ValueError("Choose the month the summit reviews.")
    month = month.replace(day=1)
    title = clean_text(title, "The title", MAX_TITLE, required=True)
    facilitator = clean_text(facilitator, "The facilitator", MAX_NAME)
    as_of = as_day(as_of, "The as-of date")
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        as_of = as_of or kpis.default_as_of(con)
        access.note(target=f"summit {title}", after={"month": str(month), "as_of": str(as_of)})
        if as_of is None:
            raise ValueError("The database holds no data: import a folder or build the demo first.")
        if as_of < month:
            raise ValueError(f"The as-of date {as_of} is before the summit month {month:%Y-%m} starts.")
        frames, versions, notes = freeze_content(con, month, as_of)
        if as_of < kpis.month_range(month)[1]:
            notes.append(f"The month is not complete: data as of {as_of}.")
        summit_id = int(con.execute("SELECT coalesce(max(summit_id), 0) + 1 FROM summits").fetchall()[0][0])
        con.execute(
            "INSERT INTO summits VALUES ($id, $month, $title, $fac, $at, $as_of, $dv, $versions, $notes)",
            {"id": summit_id, "month": month, "title": title, "fac": facilitator,
             "at": datetime.now(UTC).replace(tzinfo=None), "as_of": as_of, "dv": int(versions["data_version"]),
             "versions": json.dumps(versions, default=str), "notes": json.dumps(notes)})
        frames["carried_actions"] = open_actions(con, before_summit_id=summit_id)
        for position, name in enumerate(FRAME_NAMES):
            con.execute("INSERT INTO summit_frames VALUES ($id, $name, $pos, $json)",
                        {"id": summit_id, "name": name, "pos": position, "json": frame_to_json(frames[name])})
    return summit_id


# ---------------------------------------------------------------------------- reading back


def load_summit(con, summit_id: int) -> Summit:
    """The summit exactly as frozen at its start (ValueError when there is no such summit)."""
    if not has_table(con, "summits"):
        raise ValueError("No summit has been held in this database yet.")
    rows = con.execute(
        "SELECT summit_id, month, title, facilitator, created_at, as_of, data_version, versions_json, notes_json "
        "FROM summits WHERE summit_id = $id", {"id": int(summit_id)}).fetchall()
    if not rows:
        raise ValueError(f"No summit {summit_id}.")
    sid, month, title, fac, created, as_of, dv, versions, notes = rows[0]
    stored = dict(con.execute("SELECT name, frame_json FROM summit_frames WHERE summit_id = $id",
                              {"id": sid}).fetchall())
    frames = {name: frame_from_json(stored[name]) for name in FRAME_NAMES if name in stored}
    return Summit(summit_id=int(sid), month=month, title=title, facilitator=fac, created_at=created, as_of=as_of,
                  data_version=int(dv), versions=json.loads(versions), notes=tuple(json.loads(notes)), **frames)


LIST_COLUMNS = ["summit_id", "month", "title", "facilitator", "created_at", "as_of", "consensus_snapshot",
                "statistical_snapshot", "forecast_run_id", "plan", "decisions", "actions", "open_actions"]


def list_summits(con) -> pd.DataFrame:
    """Summits held, newest month first.

    grain: one row per summit. Columns: summit_id, month, title, facilitator, created_at, as_of,
    consensus_snapshot, statistical_snapshot, forecast_run_id, plan (the plan version in words), decisions,
    actions, open_actions (counts, live).
    """
    if not has_table(con, "summits"):
        return pd.DataFrame(columns=LIST_COLUMNS)
    df = con.execute(
        """-- grain: one row per summit
        SELECT s.summit_id, s.month, s.title, s.facilitator, s.created_at, s.as_of, s.versions_json,
               count(a.action_id) FILTER (WHERE a.kind = 'decision') AS decisions,
               count(a.action_id) FILTER (WHERE a.kind = 'action') AS actions,
               count(a.action_id) FILTER (WHERE a.kind = 'action' AND a.status IN ('open', 'in progress'))
                   AS open_actions
        FROM summits s LEFT JOIN summit_actions a USING (summit_id)
        GROUP BY ALL ORDER BY s.month DESC, s.summit_id DESC""").df()
    v = df.pop("versions_json").map(json.loads)
    df["consensus_snapshot"] = v.map(lambda d: d.get("consensus_snapshot"))
    df["statistical_snapshot"] = v.map(lambda d: d.get("statistical_snapshot"))
    df["forecast_run_id"] = v.map(lambda d: d.get("forecast_run_id"))
    df["plan"] = v.map(lambda d: plan_label(d.get("plan") or {}))
    for c in ("month", "as_of"):
        df[c] = df[c].map(lambda d: pd.Timestamp(d).date()).astype(object)
    return df[LIST_COLUMNS]


def plan_label(plan: dict) -> str:
    """The plan version in words, e.g. "recommended scenario 'Promo Q1'" or "optimised plan made at the summit
    start"."""
    if plan.get("kind") == "recommended scenario":
        return f"recommended scenario {plan.get('name')!r}"
    return str(plan.get("kind") or "none")
