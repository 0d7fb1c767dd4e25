"""What-if scenarios on the production plan: demand, promotions, lost customers, capacity, service, costs.

A :class:`Scenario` is a frozen, JSON-serialisable description of changes. :func:`apply_scenario` returns
changed copies of the plan inputs (the original is never touched) and explains every adjustment in the
notes; :func:`run_scenario` plans the changed inputs with the scenario's strategy and computes its KPIs.

Adjustments, in this order (each explained in a note "Scenario '<name>': ..."):

1. lost customers: their open backlog is taken off the backlog (the same rule as ``plan_inputs``: open
   order lines due in a plan month, overdue ones in the first plan month; lines left out there as stale or
   due after the horizon are not taken off), never below 0. The forecast of each SKU is multiplied by
   (1 - their share of that SKU's ordered quantity over the last 12 complete months before the as-of date).
2. demand changes: the forecast (not the backlog: orders on the books are firm) of a family, or of every
   SKU, in the months from..to (to None = the end of the horizon) x (1 + percent / 100). Overlapping
   changes compound.
3. promotions: extra units added to the forecast due in the month; for a family they are spread over its
   SKUs in proportion to their forecast that month (equally when the family has none that month).
4. capacity changes: the work center's available hours from..to + hours_per_month (e.g. +160 for a
   shift added, -160 for one lost), or x (1 + percent / 100); never below 0. A work center without capacity
   data stays unconstrained (noted).
5. service levels, per ABC class or family: safety stock = z(level) x sigma x sqrt(lead time) with the sigma
   and lead time of the inputs' safety-stock frame (``inputs.policy``). Precedence: the scenario's family
   level, then a family level of the base policy, then the scenario's class level, then the base level.
6. plan settings (``PlanSettings`` fields, e.g. overtime_cost_per_hour, holding_rate): replace the base
   settings when the plan is made (``run_scenario``).

KPIs of a plan (:func:`scenario_kpis`), per SKU and month with demand D, month-end projected inventory I
(negative = backorder) and backorders B = max(0, -I):

    shipped[t]     = D[t] + B[t-1] - B[t]  (= min(demand incl. carried backorders, supply available))
    revenue        = sum shipped x unit_price over the horizon
    units short    = sum min(D[t], B[t]): demand of the month not shipped in its month (each unit once)
    fill rate      = 1 - units short / sum D (service level; 1 without demand)
    avg inventory  = mean over months of sum max(0, I) x unit_cost
    utilisation    = load hours / available hours of the work centers with capacity data (overall), and
                     the highest work center (its hours over the horizon)
    total cost     = the plan's production + overtime + holding + backorder cost

Saved scenarios (``plan_scenarios`` table) keep the scenario JSON, its KPIs and adjustment notes; the
plan itself is stored as a plan version named "Scenario: <name>" in the plan tables of ``store``, in the
same db.writer transaction. Exactly one saved scenario can be the recommended one (for the S&OP summit).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtri  # = scipy.stats.norm.ppf, without importing scipy.stats (~1 s)

from analytics import access, db
from analytics.kpis import add_months
from analytics.planning.common import PlanningError, as_date, has_table
from analytics.planning.inputs import PlanInputs, plan_inputs
from analytics.planning.plans import CAPACITY_COLUMNS, LINE_COLUMNS, PRODUCT_COLUMNS, Plan, PlanSettings, make_plan
from analytics.planning.policy import history_window
from analytics.planning.store import _insert, load_plan

SCENARIO_STRATEGIES = ("chase", "level", "optimised")
MAX_NAME = 100
MAX_TEXT = 500
PLAN_NAME_PREFIX = "Scenario: "
SETTINGS_FIELDS = tuple(f.name for f in fields(PlanSettings))

# (key, label, unit, higher_is_better): the rows of compare_scenarios
KPI_SPECS = (
    ("revenue", "Revenue (shipped x price)", "money", True),
    ("units_short", "Units short (not shipped in the month due)", "units", False),
    ("fill_rate", "Service level (fill rate)", "share", True),
    ("average_inventory_value", "Average inventory value", "money", False),
    ("capacity_utilisation", "Capacity utilisation (all work centers)", "share", None),
    ("max_work_center_utilisation", "Capacity utilisation (highest work center)", "share", None),
    ("overtime_hours", "Overtime hours", "hours", False),
    ("production_units", "Units produced", "units", None),
    ("total_cost", "Total cost", "money", False),
    ("production_cost", "Production cost", "money", False),
    ("overtime_cost", "Overtime cost", "money", False),
    ("holding_cost", "Holding cost", "money", False),
    ("backorder_cost", "Backorder cost", "money", False),
    ("months_differing", "Months that differ from the baseline", "months", None),
)
SCENARIO_LIST_COLUMNS = ["scenario_id", "name", "author", "created_at", "strategy", "as_of", "horizon",
                         "recommended", "plan_id", "revenue", "units_short", "fill_rate", "average_inventory_value",
                         "capacity_utilisation", "total_cost", "notes"]
DIFF_COLUMNS = ["family", "period", "measure", "baseline", "scenario", "delta"]


# ---------------------------------------------------------------------------- the scenario


def _month(value, what: str, allow_none: bool = False) -> date | None:
    """date / datetime / Timestamp / 'YYYY-MM' / 'YYYY-MM-DD' -> first day of the month."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise ValueError(f"{what} is missing: give a month (YYYY-MM).")
    if isinstance(value, str) and len(value.strip()) == 7:
        value = value.strip() + "-01"
    try:
        return as_date(value).replace(day=1)
    except PlanningError:
        raise ValueError(f"{what} {value!r} is not a month (expected YYYY-MM or YYYY-MM-DD).") from None


def _number(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, not {value!r}.")
    return v


def _percent(value, what: str) -> float:
    v = _number(value, what)
    if v < -100:
        raise ValueError(f"{what} is {v:g}%: a change cannot take away more than 100%.")
    return v


def _text(value, what: str, limit: int = MAX_TEXT, required: bool = False) -> str:
    text = "" if value is None else value
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}.")
    text = text.strip()
    if required and not text:
        raise ValueError(f"{what} is empty.")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; at most {limit} are allowed.")
    return text


def _check_range(start: date | None, end: date | None, what: str) -> None:
    if start is not None and end is not None and start > end:
        raise ValueError(f"{what}: the from month {start:%Y-%m} is after the to month {end:%Y-%m}.")


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


@dataclass(frozen=True)
class DemandChange:
    """Forecast x (1 + percent/100) for ``family`` (None = every family) from ``from_month`` (None = the
    first plan month) to ``to_month`` (None = the end of the horizon). E.g. DemandChange('Desks', '2027-01',
    None, 10) is +10% on desks from January 2027."""

    family: str | None
    from_month: date | None
    to_month: date | None = None
    percent: float = 0.0

    def __post_init__(self):
        fam = self.family.strip() if isinstance(self.family, str) else self.family
        if fam is not None and not isinstance(fam, str):
            raise ValueError(f"A demand change's family must be text or None (all), not {self.family!r}.")
        object.__setattr__(self, "family", fam or None)
        object.__setattr__(self, "from_month", _month(self.from_month, "Demand change from month", True))
        object.__setattr__(self, "to_month", _month(self.to_month, "Demand change to month", True))
        object.__setattr__(self, "percent", _percent(self.percent, "A demand change"))
        _check_range(self.from_month, self.to_month, f"Demand change for {self.family or 'all families'}")


@dataclass(frozen=True)
class Promotion:
    """``extra_units`` added to the forecast due in ``month`` for ``target``, a SKU or a family
    (``level`` 'sku', 'family' or 'auto' = a SKU if there is one by that code, else a family)."""

    target: str
    month: date
    extra_units: float
    level: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "target", _text(self.target, "A promotion's SKU or family", MAX_NAME, True))
        object.__setattr__(self, "month", _month(self.month, f"The month of the promotion on {self.target}"))
        units = _number(self.extra_units, f"The extra units of the promotion on {self.target}")
        if units <= 0:
            raise ValueError(f"The promotion on {self.target} must add units (got {units:g}); use a demand change "
                             "to lower demand.")
        object.__setattr__(self, "extra_units", units)
        if self.level not in ("auto", "sku", "family"):
            raise ValueError(f"A promotion's level is 'sku', 'family' or 'auto', not {self.level!r}.")


@dataclass(frozen=True)
class CapacityChange:
    """Available hours of ``work_center`` from ``from_month`` to ``to_month`` (None = the end of the
    horizon) + ``hours_per_month`` (e.g. +160 a shift added, -160 lost), or x (1 + ``percent``/100)."""

    work_center: str
    from_month: date | None
    to_month: date | None = None
    hours_per_month: float | None = None
    percent: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "work_center", _text(self.work_center, "A capacity change's work center", MAX_NAME, True))
        object.__setattr__(self, "from_month", _month(self.from_month, "Capacity change from month", True))
        object.__setattr__(self, "to_month", _month(self.to_month, "Capacity change to month", True))
        if (self.hours_per_month is None) == (self.percent is None):
            raise ValueError(f"The capacity change of {self.work_center} needs either hours per month or a percent "
                             "(exactly one).")
        if self.hours_per_month is not None:
            object.__setattr__(self, "hours_per_month",
                               _number(self.hours_per_month, f"The hours per month of {self.work_center}"))
        else:
            object.__setattr__(self, "percent", _percent(self.percent, f"The capacity change of {self.work_center}"))
        _check_range(self.from_month, self.to_month, f"Capacity change of {self.work_center}")


def _pairs(value, what: str, check) -> tuple[tuple[str, object], ...]:
    items = value.items() if isinstance(value, dict) else (value or ())
    out = {}
    for item in items:
        try:
            key, val = item
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be (key, value) pairs or a dict, not {item!r}.") from None
        key = _text(key, f"A key of {what}", MAX_NAME, True)
        out[key] = check(key, val)
    return tuple(sorted(out.items()))


def _service_level(key, val) -> float:
    v = _number(val, f"The service level for {key}")
    if not 0 < v < 1:
        raise ValueError(f"The service level for {key} must be between 0 and 1 (e.g. 0.97 for 97%), not {val!r}.")
    return v


def _setting(key, val):
    if key not in SETTINGS_FIELDS:
        raise ValueError(f"Unknown plan setting {key!r}: choose from {', '.join(SETTINGS_FIELDS)}.")
    if key == "allow_backorders":
        if not isinstance(val, bool | np.bool_):
            raise ValueError(f"allow_backorders must be true or false, not {val!r}.")
        return bool(val)
    if val is None and key in ("overtime_cost_per_hour", "capacity_change_cost_per_hour"):
        return None
    return _number(val, f"The plan setting {key}")


def _items(value, cls, what: str) -> tuple:
    out = []
    for item in value or ():
        if isinstance(item, cls):
            out.append(item)
        elif isinstance(item, dict):
            out.append(cls(**item))
        elif isinstance(item, list | tuple):
            out.append(cls(*item))
        else:
            raise ValueError(f"{what}: {item!r} is not a {cls.__name__}.")
    return tuple(out)


@dataclass(frozen=True)
class Scenario:
    """A what-if on the production plan (frozen: hashable, keys caches; JSON via to_json / from_json).

    strategy: 'chase', 'level' or 'optimised'. lost_customers: customer ids. service_by_class: (ABC class,
    level) pairs; service_by_family: (family, level) pairs; settings: (PlanSettings field, value) pairs.
    Dicts and lists are accepted and turned into sorted tuples. Rules: the module docstring.
    """

    name: str
    author: str = ""
    strategy: str = "optimised"
    demand_changes: tuple[DemandChange, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    lost_customers: tuple[str, ...] = ()
    capacity_changes: tuple[CapacityChange, ...] = ()
    service_by_class: tuple[tuple[str, float], ...] = ()
    service_by_family: tuple[tuple[str, float], ...] = ()
    settings: tuple[tuple[str, object], ...] = ()
    notes: str = ""

    def __post_init__(self):
        s = object.__setattr__
        s(self, "name", _text(self.name, "The scenario name", MAX_NAME, True))
        s(self, "author", _text(self.author, "The author", MAX_NAME))
        s(self, "notes", _text(self.notes, "The scenario notes"))
        if self.strategy not in SCENARIO_STRATEGIES:
            raise ValueError(f"Unknown strategy {self.strategy!r}: choose one of {', '.join(SCENARIO_STRATEGIES)}.")
        s(self, "demand_changes", _items(self.demand_changes, DemandChange, "Demand changes"))
        s(self, "promotions", _items(self.promotions, Promotion, "Promotions"))
        s(self, "capacity_changes", _items(self.capacity_changes, CapacityChange, "Capacity changes"))
        if isinstance(self.lost_customers, str):
            s(self, "lost_customers", (self.lost_customers,))
        ids = [_text(c, "A lost customer id", MAX_NAME, True) for c in self.lost_customers or ()]
        s(self, "lost_customers", tuple(dict.fromkeys(ids)))
        s(self, "service_by_class", _pairs(self.service_by_class, "service_by_class", _service_level))
        bad = [k for k, _ in self.service_by_class if k not in ("A", "B", "C")]
        if bad:
            raise ValueError(f"Service levels by class are for ABC classes A, B or C, not {bad[0]!r}.")
        s(self, "service_by_family", _pairs(self.service_by_family, "service_by_family", _service_level))
        s(self, "settings", _pairs(self.settings, "settings", _setting))
        self.plan_settings()  # values PlanSettings refuses (e.g. a negative rate) fail here, with its message

    # -- settings and serialisation

    def plan_settings(self, base: PlanSettings | None = None) -> PlanSettings:
        """``base`` (default PlanSettings()) with this scenario's setting overrides."""
        return replace(base or PlanSettings(), **dict(self.settings))

    @property
    def is_baseline(self) -> bool:
        """True when the scenario changes nothing."""
        return not (self.demand_changes or self.promotions or self.lost_customers or self.capacity_changes
                    or self.service_by_class or self.service_by_family or self.settings)

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("demand_changes", "capacity_changes"):
            for item in d[key]:
                item["from_month"], item["to_month"] = _iso(item["from_month"]), _iso(item["to_month"])
        for item in d["promotions"]:
            item["month"] = _iso(item["month"])
        d["lost_customers"] = list(self.lost_customers)
        for key in ("service_by_class", "service_by_family", "settings"):
            d[key] = dict(getattr(self, key))
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> Scenario:
        known = {f.name for f in fields(cls)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"Unknown scenario field(s): {', '.join(sorted(extra))}.")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"The scenario is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError("A scenario in JSON is an object with a name and its changes.")
        return cls.from_dict(data)


@dataclass(eq=False)
class ScenarioResult:
    """A scenario's plan and KPIs. ``adjustments``: what was changed, in words. ``inputs``: the changed
    plan inputs; ``base_inputs`` / ``base_settings``: what it was changed from (None for a loaded one)."""

    scenario: Scenario
    plan: Plan
    kpis: dict
    adjustments: tuple[str, ...] = ()
    inputs: PlanInputs | None = None
    base_inputs: PlanInputs | None = None
    base_settings: PlanSettings | None = None
    seconds: float = 0.0
    scenario_id: int | None = None
    recommended: bool = False


# ---------------------------------------------------------------------------- applying a scenario


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


# ---------------------------------------------------------------------------- KPIs


def _matrix(lines: pd.DataFrame, column: str) -> pd.DataFrame:
    return lines.pivot(index="sku", columns="period", values=column).sort_index().sort_index(axis=1).fillna(0.0)


def scenario_kpis(plan: Plan, inputs: PlanInputs | None = None) -> dict:
    """The KPIs of a plan (formulas: the module docstring), as a flat JSON-safe dict.

    Keys: revenue, demand_units, shipped_units, units_short, ending_backorder_units, fill_rate,
    average_inventory_value, capacity_utilisation, max_work_center, max_work_center_utilisation,
    overtime_hours, production_units, total_cost, production_cost, overtime_cost, holding_cost,
    backorder_cost, shortfall_cost, strategy, first_period, horizon. Prices and costs come from ``inputs``
    when given, else from the plan's products.
    """
    lines = plan.lines
    D = _matrix(lines, "demand")
    inv = _matrix(lines, "projected_inventory")
    back = (-inv).clip(lower=0.0)
    prev = back.shift(1, axis=1).fillna(0.0)
    shipped = (D + prev - back).clip(lower=0.0)
    short = np.minimum(D, back)
    prods = (inputs.products if inputs is not None else plan.products).drop_duplicates("sku").set_index("sku")
    price = prods["unit_price"].astype(float).reindex(D.index).fillna(0.0)
    cost = prods["unit_cost"].astype(float).reindex(D.index).fillna(0.0)
    demand_units = float(D.to_numpy().sum())
    units_short = float(short.to_numpy().sum())
    stock_value = inv.clip(lower=0.0).mul(cost, axis=0).sum(axis=0)

    cap = plan.capacity
    constrained = cap[cap["available_hours"].notna()]
    total_avail = float(constrained["available_hours"].sum())
    by_wc = constrained.groupby("work_center")[["load_hours", "available_hours"]].sum()
    by_wc = by_wc[by_wc["available_hours"] > 0]
    util_wc = (by_wc["load_hours"] / by_wc["available_hours"]).sort_values(ascending=False, kind="stable")
    return {
        "strategy": plan.strategy, "first_period": str(plan.months[0]), "horizon": len(plan.months),
        "revenue": float(shipped.mul(price, axis=0).to_numpy().sum()),
        "demand_units": demand_units,
        "shipped_units": float(shipped.to_numpy().sum()),
        "units_short": units_short,
        "ending_backorder_units": float(back.iloc[:, -1].sum()) if back.shape[1] else 0.0,
        "fill_rate": 1.0 - units_short / demand_units if demand_units > 0 else 1.0,
        "average_inventory_value": float(stock_value.mean()) if len(stock_value) else 0.0,
        "capacity_utilisation": float(constrained["load_hours"].sum()) / total_avail if total_avail > 0 else None,
        "max_work_center": str(util_wc.index[0]) if len(util_wc) else None,
        "max_work_center_utilisation": float(util_wc.iloc[0]) if len(util_wc) else None,
        "overtime_hours": float(cap["overtime_hours"].sum()),
        "production_units": float(lines["production"].sum()),
        "total_cost": float(plan.total_cost),
        "production_cost": float(plan.production_cost), "overtime_cost": float(plan.overtime_cost),
        "holding_cost": float(plan.holding_cost), "backorder_cost": float(plan.backorder_cost),
        "shortfall_cost": float(plan.shortfall_cost),
    }


# ---------------------------------------------------------------------------- running


def run_scenario(con: duckdb.DuckDBPyConnection | None, as_of=None, horizon: int = 18,
                 scenario: Scenario | None = None, *, inputs: PlanInputs | None = None,
                 settings: PlanSettings | None = None, stale_backlog_months: int | None = 6) -> ScenarioResult:
    """Plan ``scenario`` (None = the baseline, no changes) and compute its KPIs.

    The base inputs are ``plan_inputs(con, as_of, horizon)`` unless ``inputs`` is given (then as_of and
    horizon are taken from it: reuse one PlanInputs to compare several scenarios quickly). ``settings``:
    the base PlanSettings, which the scenario's setting overrides change. A plan that cannot be made raises
    PlanningError with the planner's message, prefixed by the scenario name.
    """
    started = time.perf_counter()
    scenario = scenario or Scenario(name="baseline")
    if inputs is None:
        if con is None or as_of is None:
            raise ValueError("run_scenario needs a connection and an as-of date, or ready inputs.")
        inputs = plan_inputs(con, as_of, horizon, stale_backlog_months=stale_backlog_months)
    base_settings = settings or PlanSettings()
    changed, notes = _apply(inputs, scenario, con, stale_backlog_months)
    try:
        plan = make_plan(changed, scenario.strategy, scenario.plan_settings(base_settings))
    except PlanningError as e:
        raise PlanningError(f"Scenario {scenario.name!r}: {e}") from e
    return ScenarioResult(scenario=scenario, plan=plan, kpis=scenario_kpis(plan, changed), adjustments=tuple(notes),
                          inputs=changed, base_inputs=inputs, base_settings=base_settings,
                          seconds=time.perf_counter() - started)


# ---------------------------------------------------------------------------- saved scenarios


@access.requires("scenario")
def save_scenario(db_path, scenario: Scenario, result: ScenarioResult, replace: bool = False) -> int:
    """Store the scenario, its KPIs, adjustment notes and plan; returns its scenario_id. One db.writer
    transaction. The plan goes to the plan tables as the next version of "Scenario: <name>". A name that
    is already saved raises ValueError unless ``replace`` (the old row goes, and with it its recommended
    flag: a changed scenario must be recommended again)."""
    if not isinstance(scenario, Scenario):
        raise ValueError("save_scenario needs a Scenario.")
    if result.scenario != scenario:
        raise ValueError(f"The result was computed for scenario {result.scenario.name!r}, not for {scenario.name!r} "
                         "as given: run the scenario again.")
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    plan = result.plan
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.writer(path) as con:
        old = con.execute("SELECT scenario_id FROM plan_scenarios WHERE name = $n", {"n": scenario.name}).fetchall()
        access.note(target=f"scenario {scenario.name}", replaced=bool(old))
        if old and not replace:
            raise ValueError(f"A scenario named {scenario.name!r} is already saved: choose another name or replace it.")
        con.execute("DELETE FROM plan_scenarios WHERE name = $n", {"n": scenario.name})
        plan_name = PLAN_NAME_PREFIX + scenario.name
        plan_id = int(con.execute("SELECT coalesce(max(plan_id), 0) + 1 FROM plan_versions").fetchall()[0][0])
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM plan_versions WHERE name = $n",
                                  {"n": plan_name}).fetchall()[0][0])
        con.execute(  # the same row store.save_plan writes, so store.load_plan reads it back
            "INSERT INTO plan_versions VALUES ($id, $name, $version, $strategy, $author, $at, $as_of, $first, "
            "$horizon, $settings, $totals, $notes)",
            {"id": plan_id, "name": plan_name, "version": version, "strategy": plan.strategy,
             "author": scenario.author or "scenario", "at": now, "as_of": plan.as_of, "first": plan.months[0],
             "horizon": len(plan.months), "settings": plan.settings.to_json(), "totals": json.dumps(plan.totals()),
             "notes": json.dumps(list(plan.notes))},
        )
        _insert(con, "plan_lines", plan.lines, plan_id, LINE_COLUMNS)
        _insert(con, "plan_products", plan.products, plan_id, PRODUCT_COLUMNS)
        _insert(con, "plan_capacity", plan.capacity, plan_id, CAPACITY_COLUMNS)
        scenario_id = int(con.execute("SELECT coalesce(max(scenario_id), 0) + 1 FROM plan_scenarios").fetchall()[0][0])
        con.execute(
            "INSERT INTO plan_scenarios VALUES ($id, $name, $author, $at, $strategy, $as_of, $horizon, $scenario, "
            "$kpis, $notes, $plan_id, false, NULL, NULL)",
            {"id": scenario_id, "name": scenario.name, "author": scenario.author, "at": now,
             "strategy": scenario.strategy, "as_of": plan.as_of, "horizon": len(plan.months),
             "scenario": scenario.to_json(), "kpis": json.dumps(result.kpis),
             "notes": json.dumps(list(result.adjustments)), "plan_id": plan_id},
        )
    return scenario_id


def list_scenarios(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved scenarios, newest first.

    grain: one row per saved scenario. Columns: scenario_id, name, author, created_at, strategy, as_of,
    horizon, recommended, plan_id, revenue, units_short, fill_rate, average_inventory_value,
    capacity_utilisation, total_cost, notes (the scenario's own notes).
    """
    if not has_table(con, "plan_scenarios"):
        return pd.DataFrame(columns=SCENARIO_LIST_COLUMNS)
    df = con.execute(
        "SELECT scenario_id, name, author, created_at, strategy, as_of, horizon, recommended, plan_id, kpis_json, "
        "scenario_json FROM plan_scenarios ORDER BY created_at DESC, scenario_id DESC"
    ).df()
    kpis = df.pop("kpis_json").map(lambda t: json.loads(t) if t else {})
    for k in ("revenue", "units_short", "fill_rate", "average_inventory_value", "capacity_utilisation", "total_cost"):
        df[k] = kpis.map(lambda d, k=k: d.get(k)).astype(float)
    df["notes"] = df.pop("scenario_json").map(lambda t: json.loads(t).get("notes", "") if t else "")
    df["recommended"] = df["recommended"].fillna(False).astype(bool)
    return df[SCENARIO_LIST_COLUMNS]


def load_scenario(con: duckdb.DuckDBPyConnection, name: str) -> ScenarioResult:
    """A saved scenario by name: the Scenario, its stored KPIs, adjustment notes and plan (inputs None)."""
    if not has_table(con, "plan_scenarios"):
        raise ValueError("No scenarios have been saved in this database yet.")
    rows = con.execute("SELECT * FROM plan_scenarios WHERE name = $n", {"n": str(name)}).df()
    if rows.empty:
        raise ValueError(f"No saved scenario {name!r}.")
    r = rows.iloc[0]
    return ScenarioResult(
        scenario=Scenario.from_json(r["scenario_json"]), plan=load_plan(con, int(r["plan_id"])),
        kpis=json.loads(r["kpis_json"] or "{}"), adjustments=tuple(json.loads(r["notes_json"] or "[]")),
        scenario_id=int(r["scenario_id"]), recommended=bool(r["recommended"]) if pd.notna(r["recommended"]) else False,
    )


@access.requires("scenario")
def mark_recommended(db_path, name: str, by: str | None = None) -> None:
    """Make ``name`` the one recommended scenario (every other loses the flag). One db.writer transaction."""
    by = _text(by, "Who recommends", MAX_NAME)
    path = db.resolve_db_path(db_path)
    if not path.exists():
        raise db.DatabaseError(f"No database at {path}: build the demo or import data first.")
    with db.writer(path) as con:
        found = con.execute("SELECT count(*) FROM plan_scenarios WHERE name = $n", {"n": name}).fetchall()[0][0]
        access.note(target=f"scenario {name}", after={"recommended": True})
        if not found:
            raise ValueError(f"No saved scenario {name!r} to recommend.")
        con.execute(
            "UPDATE plan_scenarios SET recommended = (name = $n), "
            "recommended_by = CASE WHEN name = $n THEN $by END, recommended_at = CASE WHEN name = $n THEN $at END",
            {"n": name, "by": by or None, "at": datetime.now(UTC).replace(tzinfo=None)},
        )


def recommended_scenario(con: duckdb.DuckDBPyConnection) -> str | None:
    """The name of the recommended scenario, or None."""
    if not has_table(con, "plan_scenarios"):
        return None
    rows = con.execute("SELECT name FROM plan_scenarios WHERE recommended").fetchall()
    return rows[0][0] if rows else None


# ---------------------------------------------------------------------------- comparing


def _plan_of(x) -> Plan:
    return x.plan if isinstance(x, ScenarioResult) else x


def _family_month(plan: Plan) -> pd.DataFrame:
    lines = plan.lines.assign(
        inventory=plan.lines["projected_inventory"].clip(lower=0.0),
        shortage=(-plan.lines["projected_inventory"]).clip(lower=0.0),
    )
    return lines.groupby(["family", "period"], as_index=False)[["production", "inventory", "shortage"]].sum()


def scenario_month_diff(scenario, baseline, rel_tol: float = 0.05, min_units: float = 1.0) -> pd.DataFrame:
    """The family-months where a scenario's plan differs materially from the baseline's.

    ``scenario`` / ``baseline``: Plans or ScenarioResults. grain: one row per family x month x measure that
    differs. Measures: production, inventory (sum of positive month-end stock), shortage (sum of backorders).
    Material: |delta| > max(min_units, rel_tol x the larger of the two values). Columns: family, period,
    measure, baseline, scenario, delta.
    """
    a, b = _family_month(_plan_of(scenario)), _family_month(_plan_of(baseline))
    m = b.merge(a, on=["family", "period"], how="outer", suffixes=("_b", "_s")).fillna(0.0)
    parts = []
    for measure in ("production", "inventory", "shortage"):
        base, scen = m[f"{measure}_b"], m[f"{measure}_s"]
        delta = scen - base
        limit = np.maximum(min_units, rel_tol * np.maximum(base.abs(), scen.abs()))
        hit = delta.abs() > limit
        parts.append(pd.DataFrame({"family": m.loc[hit, "family"], "period": m.loc[hit, "period"],
                                   "measure": measure, "baseline": base[hit], "scenario": scen[hit],
                                   "delta": delta[hit]}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DIFF_COLUMNS)
    order = {"production": 0, "inventory": 1, "shortage": 2}
    out = out.sort_values(["period", "family", "measure"], key=lambda s: s.map(order) if s.name == "measure" else s)
    return out[DIFF_COLUMNS].reset_index(drop=True)


def _gather(con_or_results, names: list[str], baseline: str) -> dict[str, ScenarioResult]:
    wanted = [n for n in dict.fromkeys(names) if n != baseline]
    if not wanted:
        raise ValueError("Choose at least one scenario to compare with the baseline.")
    if len(names) > 4:
        raise ValueError(f"Compare at most 4 scenarios side by side (got {len(names)}).")
    out: dict[str, ScenarioResult] = {}
    if hasattr(con_or_results, "execute"):
        con = con_or_results
        for n in wanted:
            out[n] = load_scenario(con, n)
        saved = list_scenarios(con)
        if baseline in set(saved["name"]):
            out[baseline] = load_scenario(con, baseline)
        else:  # the plan with no changes, on the current data, as of the first scenario's date
            first = out[wanted[0]]
            out[baseline] = run_scenario(con, first.plan.as_of, len(first.plan.months),
                                         Scenario(name=baseline, strategy=first.scenario.strategy))
        return {baseline: out.pop(baseline), **out}
    results = list(con_or_results.values()) if isinstance(con_or_results, dict) else list(con_or_results)
    by_name = {r.scenario.name: r for r in results}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ValueError(f"No result for scenario(s) {', '.join(map(repr, missing))}.")
    if baseline in by_name:
        base = by_name[baseline]
    else:
        first = by_name[wanted[0]]
        if first.base_inputs is None:
            raise ValueError(f"No {baseline!r} result and the results carry no base inputs to plan it from.")
        base = run_scenario(None, scenario=Scenario(name=baseline, strategy=first.scenario.strategy),
                            inputs=first.base_inputs, settings=first.base_settings)
    return {baseline: base, **{n: by_name[n] for n in wanted}}


def compare_scenarios(con_or_results, names: list[str] | tuple[str, ...], baseline: str = "baseline",
                      rel_tol: float = 0.05, min_units: float = 1.0) -> pd.DataFrame:
    """Scenarios side by side against the baseline.

    ``con_or_results``: a reader connection (saved scenarios by name; the baseline is the saved scenario
    named ``baseline``, else the plan with no changes made now, on the current data, with the first
    scenario's as-of date, horizon and strategy and default settings) or ScenarioResults (list or dict; the
    baseline is planned from the first one's base inputs if it is not among them). ``names``: up to 4.

    grain: one row per KPI (KPI_SPECS). Columns: kpi, label, unit, higher_is_better, <baseline>, then per
    scenario <name> and "<name> delta" (scenario - baseline). months_differing counts the months in
    :func:`scenario_month_diff`.
    """
    results = _gather(con_or_results, list(names), baseline)
    base_plan = results[baseline].plan
    table = pd.DataFrame([{"kpi": k, "label": label, "unit": unit, "higher_is_better": better}
                          for k, label, unit, better in KPI_SPECS])
    for name, res in results.items():
        kpis = dict(res.kpis)
        kpis["months_differing"] = (0 if name == baseline else
                                    scenario_month_diff(res.plan, base_plan, rel_tol, min_units)["period"].nunique())
        values = table["kpi"].map(lambda k, d=kpis: d.get(k)).astype(float)
        table[name] = values
        if name != baseline:
            table[f"{name} delta"] = values - table[baseline]
    return table
