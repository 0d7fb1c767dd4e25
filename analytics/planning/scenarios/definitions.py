"""What a scenario is: the frozen, JSON-serialisable :class:`Scenario` (demand changes, promotions, lost
customers, capacity changes, service levels, plan settings), its checks, and :class:`ScenarioResult`.
Rules of each change: :mod:`analytics.planning.scenarios` (the package docstring)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import date

import numpy as np

from analytics.planning.common import PlanningError, as_date
from analytics.planning.inputs import PlanInputs
from analytics.planning.plans import Plan, PlanSettings

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
    plan inputs; ``base_inputs`` / ``base_settings``: what it was changed from (None for a loaded one).
    ``baseline_kpis``: the KPIs of the plan with no changes made from the same base inputs, settings and
    strategy (stored with a saved scenario, so it is compared like with like); ``basis``: what it was computed
    on (as_of, horizon, inputs_fingerprint, months_differing); both None for a scenario saved before they
    were kept."""

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
    baseline_kpis: dict | None = None
    basis: dict | None = None

