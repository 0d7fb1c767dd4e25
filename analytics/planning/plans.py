"""Production plans (a master production schedule by SKU and month): chase, level and optimised.

Every plan uses the same month-end stock balance per SKU:

    projected_inventory[t] = projected_inventory[t-1] + open_receipts[t] + production[t] - demand[t]

starting from on hand, with demand = forecast + backlog (see ``inputs``). A negative projected inventory is
a backorder (demand not yet shipped, carried to the next month). Quantities are continuous (no lot sizes).

Strategies
    chase      production[t] = max(0, safety_stock + demand[t] - open_receipts[t] - projected_inventory[t-1]):
               every month ends at the safety stock (or above it, when receipts already bring more).
               Capacity is not looked at: :func:`capacity.capacity_load` shows what it costs.
    level      a constant rate per family that ends the horizon at the safety stock: each SKU's need over the
               horizon, max(0, sum(demand) + safety_stock - on_hand - sum(open_receipts)), is made in equal
               monthly parts; the family's rate is the sum over its SKUs (so it is spread in proportion to
               their need). Mid-horizon backorders are possible (seasonal demand) and shown.
    optimised  a linear programme (scipy.optimize.linprog, HiGHS, sparse matrices) per SKU x month with
               production P, on-hand stock I, backorders B, shortfall below safety stock U and, per work
               center x month, overtime hours O:
                   minimise  sum c_prod P + c_hold I + c_back B + c_short U + c_ot O - c_prod (I - B)[last month]
                   s.t.      I[t] - B[t] = I[t-1] - B[t-1] + open_receipts[t] + P[t] - demand[t]   (I[-1] = on hand)
                             I[t] + U[t] >= safety_stock,  0 <= U <= safety_stock
                             sum over the work center's SKUs of hours_per_unit x P[t] - O[t] <= available_hours[t]
                             0 <= O[t] <= overtime_share x available_hours[t];  B = 0 if backorders are not allowed
               The ending stock position is credited at its production cost (it is sold after the horizon),
               so the horizon end neither runs stock down nor builds it up; production cost is then the same
               for every feasible plan and timing is decided by overtime, holding, backorder and shortfall
               costs. Work centers without capacity data are unconstrained.

Costs (the same for every strategy, so plans compare): production = production_cost_rate x unit_cost per
unit; holding = holding_rate x unit_cost per unit of month-end stock; backorder = backorder_rate x unit_price
per unit backordered at a month end; safety-stock shortfall penalty = shortfall_rate x unit_price per unit
below safety stock at a month end (capped at the safety stock); overtime = overtime hours x overtime cost
per hour, where overtime hours = max(0, load - available hours) (chase and level may need more overtime
than allowed: ``capacity_load`` flags it).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from analytics import presentation as pr
from analytics.planning.common import PlanningError, as_date, check_non_negative, days_in_month, ts
from analytics.planning.inputs import PlanInputs

# Next month's demand below this many units (it rounds to 0) counts as no demand: days of supply "no demand"
# instead of stock divided by a few thousandths of a unit (a sparse SKU's statistical forecast).
NO_DEMAND_UNITS = 0.5

STRATEGIES = ("chase", "level", "optimised", "manual")
LINE_COLUMNS = [
    "sku", "family", "work_center", "period", "forecast", "backlog", "demand", "demand_source", "open_receipts",
    "production", "projected_inventory", "safety_stock", "shortfall", "days_of_supply", "load_hours",
]
CAPACITY_COLUMNS = ["work_center", "period", "available_hours", "overtime_allowed_hours", "load_hours",
                    "overtime_hours", "capacity_source"]
PRODUCT_COLUMNS = ["sku", "family", "work_center", "unit_cost", "unit_price", "hours_per_unit", "on_hand",
                   "safety_stock"]
COST_NAMES = ("production_cost", "overtime_cost", "holding_cost", "backorder_cost", "shortfall_cost")


@dataclass(frozen=True)
class PlanSettings:
    """Costs and limits of a plan (frozen: hashable, keys caches). Rates are shares of the product's data.

    holding_rate: share of unit_cost per unit per month in stock (2%).
    backorder_rate: share of unit_price per unit per month late (25%).
    shortfall_rate: share of unit_price per unit per month below safety stock (5%; the optimiser's penalty).
    production_cost_rate: share of unit_cost per unit produced (100%).
    overtime_cost_per_hour: None = 25% of the median standard cost of an hour's output
        (unit_cost / hours_per_unit over the products).
    overtime_share: allowed overtime as a share of available hours (15%).
    capacity_change_cost_per_hour: cost of an hour of added capacity (an extra shift); None = 80% of the
        overtime cost per hour.
    allow_backorders: False forbids backorders in the optimised plan (it may then be infeasible).
    """

    holding_rate: float = 0.02
    backorder_rate: float = 0.25
    shortfall_rate: float = 0.05
    production_cost_rate: float = 1.0
    overtime_cost_per_hour: float | None = None
    overtime_share: float = 0.15
    capacity_change_cost_per_hour: float | None = None
    allow_backorders: bool = True

    def __post_init__(self):
        for name in ("holding_rate", "backorder_rate", "shortfall_rate", "production_cost_rate", "overtime_share"):
            check_non_negative(name.replace("_", " "), getattr(self, name))
        check_non_negative("overtime cost per hour", self.overtime_cost_per_hour, allow_none=True)
        check_non_negative("capacity change cost per hour", self.capacity_change_cost_per_hour, allow_none=True)
        if self.overtime_share > 5:
            raise PlanningError(f"overtime share is a fraction of available hours (0.15 = 15%), not {self.overtime_share}.")

    def overtime_rate(self, products: pd.DataFrame) -> float:
        """Overtime cost per hour: the setting, else 25% of the median unit_cost / hours_per_unit."""
        if self.overtime_cost_per_hour is not None:
            return float(self.overtime_cost_per_hour)
        p = products[products["hours_per_unit"] > 0]
        if p.empty:
            return 0.0
        return float(0.25 * (p["unit_cost"] / p["hours_per_unit"]).median())

    def capacity_change_rate(self, products: pd.DataFrame) -> float:
        if self.capacity_change_cost_per_hour is not None:
            return float(self.capacity_change_cost_per_hour)
        return 0.8 * self.overtime_rate(products)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> PlanSettings:
        return cls(**json.loads(text)) if text else cls()


@dataclass(eq=False)
class Plan:
    """A production plan.

    lines: grain sku x month. Columns: sku, family, work_center, period, forecast (due in the month),
        backlog, demand (= forecast + backlog), demand_source, open_receipts, production,
        projected_inventory (month end; negative = backorder), safety_stock, shortfall
        (= max(0, safety_stock - projected_inventory)), days_of_supply (max(0, projected inventory) / the
        next month's demand per day; the last month uses its own; NaN without demand, i.e. below
        NO_DEMAND_UNITS a month: shown as "no demand", see :func:`days_of_supply_text`), load_hours
        (= production x hours_per_unit).
    capacity: grain work_center x month: available_hours (NaN = unconstrained), overtime_allowed_hours,
        load_hours, overtime_hours (planned by the optimiser; else max(0, load - available)), capacity_source.
    products: grain sku: family, work_center, unit_cost, unit_price, hours_per_unit, on_hand, safety_stock.
    Costs over the horizon (see the module docstring); lp_* = size of the linear programme (optimised only).
    """

    strategy: str
    lines: pd.DataFrame
    capacity: pd.DataFrame
    products: pd.DataFrame
    settings: PlanSettings
    as_of: date
    months: tuple[date, ...]
    production_cost: float = 0.0
    overtime_cost: float = 0.0
    holding_cost: float = 0.0
    backorder_cost: float = 0.0
    shortfall_cost: float = 0.0
    overtime_cost_per_hour: float = 0.0
    lp_variables: int | None = None
    lp_constraints: int | None = None
    lp_nonzeros: int | None = None
    solve_seconds: float = 0.0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    unavailable: dict[str, str] = field(default_factory=dict)  # from PlanInputs.unavailable (e.g. "costs")

    @property
    def total_cost(self) -> float:
        """Production + overtime + holding + backorder cost (the shortfall penalty is shown apart)."""
        return self.production_cost + self.overtime_cost + self.holding_cost + self.backorder_cost

    def totals(self) -> dict:
        """The plan's headline figures as a flat dict (JSON-safe)."""
        return {
            "strategy": self.strategy, "as_of": str(self.as_of), "first_period": str(self.months[0]),
            "horizon": len(self.months), "production_units": float(self.lines["production"].sum()),
            **{k: float(getattr(self, k)) for k in COST_NAMES}, "total_cost": float(self.total_cost),
            "overtime_hours": float(self.capacity["overtime_hours"].sum()),
            "overtime_cost_per_hour": float(self.overtime_cost_per_hour),
            "backorder_sku_months": int((self.lines["projected_inventory"] < -1e-6).sum()),
            "shortfall_sku_months": int((self.lines["shortfall"] > 1e-6).sum()),
            "lp_variables": self.lp_variables, "lp_constraints": self.lp_constraints,
            "lp_nonzeros": self.lp_nonzeros, "solve_seconds": float(self.solve_seconds),
            "seconds": float(self.seconds),
        }


# ---------------------------------------------------------------------------- the numeric grid


@dataclass(eq=False)
class _Grid:
    products: pd.DataFrame  # sorted by sku, PRODUCT_COLUMNS
    months: tuple[date, ...]
    F: np.ndarray  # forecast due (S x T)
    BL: np.ndarray  # backlog (S x T)
    R: np.ndarray  # open receipts (S x T)
    source: np.ndarray  # demand source (S x T, object)
    wcs: list[str]
    wc_idx: np.ndarray  # (S,)
    cap: np.ndarray  # available hours (W x T), NaN = unconstrained
    cap_source: np.ndarray  # (W x T, object)

    @property
    def D(self) -> np.ndarray:
        return self.F + self.BL

    def col(self, name: str) -> np.ndarray:
        return self.products[name].to_numpy(dtype=float)


def _grid(inputs: PlanInputs) -> _Grid:
    months = tuple(as_date(m) for m in inputs.months)
    if not months:
        raise PlanningError("The plan has no months: choose a horizon of at least 1 month.")
    if list(months) != sorted(set(months)):
        raise PlanningError("The plan months must be distinct and in order.")
    missing = [c for c in PRODUCT_COLUMNS if c not in inputs.products.columns]
    if missing:
        raise PlanningError(f"The products frame lacks {', '.join(missing)}.")
    products = inputs.products[PRODUCT_COLUMNS].copy().sort_values("sku", kind="stable").reset_index(drop=True)
    if products.empty:
        raise PlanningError("There are no products to plan.")
    if products["sku"].duplicated().any():
        raise PlanningError(f"SKU {products.loc[products['sku'].duplicated(), 'sku'].iloc[0]!r} appears twice in products.")
    for c in ("unit_cost", "unit_price", "hours_per_unit", "on_hand", "safety_stock"):
        products[c] = pd.to_numeric(products[c], errors="coerce").astype(float)
        bad = products[products[c].isna() | (products[c] < 0) | ~np.isfinite(products[c])]
        if len(bad):
            raise PlanningError(f"{c} of SKU {bad['sku'].iloc[0]!r} is {bad[c].iloc[0]!r}: it must be a number >= 0.")
    products["work_center"] = products["work_center"].astype(object).where(products["work_center"].notna(), "(none)")
    S, T = len(products), len(months)
    sku_index = pd.Index(products["sku"])
    month_index = pd.DatetimeIndex([ts(m) for m in months]).as_unit("us")

    def matrix(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
        out = np.zeros((S, T))
        if frame is None or frame.empty or column not in frame.columns:
            return out
        vals = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if (vals < 0).any() or not np.isfinite(vals).all():
            bad = frame.iloc[int(np.argmax((vals < 0) | ~np.isfinite(vals)))]
            raise PlanningError(f"{what} of SKU {bad['sku']!r} in {pd.Timestamp(bad['period']):%Y-%m} is negative.")
        si = sku_index.get_indexer(frame["sku"])
        ti = month_index.get_indexer(pd.to_datetime(frame["period"]).dt.as_unit("us"))
        ok = (si >= 0) & (ti >= 0)
        np.add.at(out, (si[ok], ti[ok]), vals[ok])
        return out

    F = matrix(inputs.demand, "forecast", "The forecast")
    BL = matrix(inputs.demand, "backlog", "The backlog")
    R = matrix(inputs.receipts, "open_receipts", "The open receipts")
    source = np.full((S, T), "none", dtype=object)
    if inputs.demand is not None and "demand_source" in inputs.demand.columns and len(inputs.demand):
        si = sku_index.get_indexer(inputs.demand["sku"])
        ti = month_index.get_indexer(pd.to_datetime(inputs.demand["period"]).dt.as_unit("us"))
        ok = (si >= 0) & (ti >= 0)
        source[si[ok], ti[ok]] = inputs.demand["demand_source"].to_numpy(dtype=object)[ok]

    wcs = sorted(products["work_center"].unique().tolist())
    wc_index = pd.Index(wcs)
    wc_idx = wc_index.get_indexer(products["work_center"])
    cap = np.full((len(wcs), T), np.nan)
    cap_source = np.full((len(wcs), T), "no capacity data: unconstrained", dtype=object)
    c = inputs.capacity
    if c is not None and len(c):
        wi = wc_index.get_indexer(c["work_center"])
        ti = month_index.get_indexer(pd.to_datetime(c["period"]).dt.as_unit("us"))
        hours = pd.to_numeric(c["available_hours"], errors="coerce").to_numpy(dtype=float)
        ok = (wi >= 0) & (ti >= 0) & ~np.isnan(hours)
        if (hours[ok] < 0).any():
            raise PlanningError("Available hours cannot be negative.")
        cap[wi[ok], ti[ok]] = hours[ok]
        srcs = c["capacity_source"].to_numpy(dtype=object) if "capacity_source" in c.columns else None
        cap_source[wi[ok], ti[ok]] = srcs[ok] if srcs is not None else "capacity table"
    return _Grid(products, months, F, BL, R, source, wcs, wc_idx, cap, cap_source)


# ---------------------------------------------------------------------------- evaluation


def project(on_hand: np.ndarray, receipts: np.ndarray, production: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Month-end projected inventory (S x T): previous + receipts + production - demand, from on hand."""
    return on_hand[:, None] + np.cumsum(receipts + production - demand, axis=1)


def _evaluate(g: _Grid, P: np.ndarray, settings: PlanSettings, strategy: str, overtime: np.ndarray | None = None,
              lp_size: tuple[int, int, int] | None = None, solve_seconds: float = 0.0, started: float | None = None,
              notes: tuple[str, ...] = ()) -> Plan:
    S, T = P.shape
    D = g.D
    I0, SS, h = g.col("on_hand"), g.col("safety_stock"), g.col("hours_per_unit")
    cost, price = g.col("unit_cost"), g.col("unit_price")
    inv = project(I0, g.R, P, D)
    inv[np.abs(inv) < 1e-7 * np.maximum(1.0, np.abs(D).max(initial=0.0))] = 0.0  # solver / float noise
    load_sku = P * h[:, None]
    load = np.zeros((len(g.wcs), T))
    np.add.at(load, g.wc_idx, load_sku)
    cap = g.cap
    if overtime is None:
        overtime = np.where(np.isnan(cap), 0.0, np.maximum(load - np.nan_to_num(cap), 0.0))
    ot_rate = settings.overtime_rate(g.products)
    on_hand_stock = np.maximum(inv, 0.0)
    back = np.maximum(-inv, 0.0)
    below = np.minimum(SS[:, None], np.maximum(SS[:, None] - inv, 0.0))
    costs = {
        "production_cost": float((P * (settings.production_cost_rate * cost)[:, None]).sum()),
        "overtime_cost": float(overtime.sum() * ot_rate),
        "holding_cost": float((on_hand_stock * (settings.holding_rate * cost)[:, None]).sum()),
        "backorder_cost": float((back * (settings.backorder_rate * price)[:, None]).sum()),
        "shortfall_cost": float((below * (settings.shortfall_rate * price)[:, None]).sum()),
    }
    nxt = np.concatenate([D[:, 1:], D[:, -1:]], axis=1)
    nxt_days = np.array([days_in_month(m) for m in g.months[1:]] + [days_in_month(g.months[-1])], dtype=float)
    daily = nxt / nxt_days[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        dos = np.where(nxt >= NO_DEMAND_UNITS, on_hand_stock / daily, np.nan)
    p = g.products
    period = np.array([ts(m) for m in g.months], dtype="datetime64[us]")
    lines = pd.DataFrame({
        "sku": np.repeat(p["sku"].to_numpy(dtype=object), T),
        "family": np.repeat(p["family"].to_numpy(dtype=object), T),
        "work_center": np.repeat(p["work_center"].to_numpy(dtype=object), T),
        "period": np.tile(period, S),
        "forecast": g.F.ravel(), "backlog": g.BL.ravel(), "demand": D.ravel(),
        "demand_source": g.source.ravel(), "open_receipts": g.R.ravel(), "production": P.ravel(),
        "projected_inventory": inv.ravel(), "safety_stock": np.repeat(SS, T),
        "shortfall": np.where(SS[:, None] - inv > 1e-7, SS[:, None] - inv, 0.0).ravel(), "days_of_supply": dos.ravel(),
        "load_hours": load_sku.ravel(),
    })
    W = len(g.wcs)
    capacity = pd.DataFrame({
        "work_center": np.repeat(np.array(g.wcs, dtype=object), T), "period": np.tile(period, W),
        "available_hours": cap.ravel(), "overtime_allowed_hours": (cap * settings.overtime_share).ravel(),
        "load_hours": load.ravel(), "overtime_hours": overtime.ravel(), "capacity_source": g.cap_source.ravel(),
    })
    n_back = int((inv < -1e-6).sum())
    extra = (f"{n_back} sku-months end in backorder.",) if n_back else ()
    return Plan(
        strategy=strategy, lines=lines, capacity=capacity, products=p.copy(), settings=settings,
        as_of=None, months=g.months, **costs, overtime_cost_per_hour=ot_rate,
        lp_variables=lp_size[0] if lp_size else None, lp_constraints=lp_size[1] if lp_size else None,
        lp_nonzeros=lp_size[2] if lp_size else None, solve_seconds=solve_seconds,
        seconds=(time.perf_counter() - started) if started else 0.0, notes=tuple(notes) + extra,
    )


def _finish(plan: Plan, inputs: PlanInputs) -> Plan:
    plan.as_of = as_date(inputs.as_of) if inputs.as_of is not None else None
    plan.notes = tuple(inputs.notes) + plan.notes
    plan.unavailable = dict(getattr(inputs, "unavailable", {}) or {})
    return plan


# ---------------------------------------------------------------------------- strategies


def chase_plan(inputs: PlanInputs, settings: PlanSettings | None = None) -> Plan:
    """Chase: each month make what demand and the safety-stock target need (capacity not considered).

    production[t] = max(0, safety_stock + demand[t] - open_receipts[t] - projected_inventory[t-1]).
    """
    started = time.perf_counter()
    settings = settings or PlanSettings()
    g = _grid(inputs)
    D, R = g.D, g.R
    SS = g.col("safety_stock")
    inv = g.col("on_hand").copy()
    P = np.zeros_like(D)
    for t in range(D.shape[1]):
        P[:, t] = np.maximum(SS + D[:, t] - R[:, t] - inv, 0.0)
        inv = inv + R[:, t] + P[:, t] - D[:, t]
    return _finish(_evaluate(g, P, settings, "chase", started=started), inputs)


def level_plan(inputs: PlanInputs, settings: PlanSettings | None = None) -> Plan:
    """Level: a constant monthly rate per family that ends the horizon at the safety stock.

    Each SKU's need = max(0, sum(demand) + safety_stock - on_hand - sum(open_receipts)) is made in equal
    monthly parts (need / months); the family rate is the sum over its SKUs. A SKU without need makes nothing.
    """
    started = time.perf_counter()
    settings = settings or PlanSettings()
    g = _grid(inputs)
    D, R = g.D, g.R
    T = D.shape[1]
    need = np.maximum(D.sum(axis=1) + g.col("safety_stock") - g.col("on_hand") - R.sum(axis=1), 0.0)
    P = np.repeat((need / T)[:, None], T, axis=1)
    rates = pd.Series(need / T, index=g.products["family"]).groupby(level=0).sum()
    note = "Level rate per family (units/month): " + ", ".join(f"{k} {v:,.1f}" for k, v in rates.items())
    return _finish(_evaluate(g, P, settings, "level", started=started, notes=(note,)), inputs)


def evaluate_plan(inputs: PlanInputs, production: pd.DataFrame, settings: PlanSettings | None = None,
                  strategy: str = "manual") -> Plan:
    """A plan from a given production schedule (columns sku, period, production; missing = 0), e.g. a
    planner's edit of another plan: projected inventory, costs and loads computed as for every plan."""
    started = time.perf_counter()
    settings = settings or PlanSettings()
    g = _grid(inputs)
    S, T = g.F.shape
    P = np.zeros((S, T))
    if production is not None and len(production):
        vals = pd.to_numeric(production["production"], errors="coerce").to_numpy(dtype=float)
        if np.isnan(vals).any() or (vals < 0).any():
            raise PlanningError("Production quantities must be numbers >= 0.")
        si = pd.Index(g.products["sku"]).get_indexer(production["sku"])
        ti = pd.DatetimeIndex([ts(m) for m in g.months]).as_unit("us").get_indexer(
            pd.to_datetime(production["period"]).dt.as_unit("us"))
        ok = (si >= 0) & (ti >= 0)
        np.add.at(P, (si[ok], ti[ok]), vals[ok])
    return _finish(_evaluate(g, P, settings, strategy, started=started), inputs)


# ---------------------------------------------------------------------------- the optimiser


def _check_feasible_without_backorders(g: _Grid, settings: PlanSettings) -> None:
    """Backorders forbidden: cumulative hours needed by each month must fit the cumulative hours available
    (regular + allowed overtime) by then. Exact for one work center (production may always be earlier)."""
    D, R = g.D, g.R
    I0, h = g.col("on_hand"), g.col("hours_per_unit")
    req = np.maximum.accumulate(np.maximum(np.cumsum(D - R, axis=1) - I0[:, None], 0.0), axis=1)
    for w, wc in enumerate(g.wcs):
        if np.isnan(g.cap[w]).all():
            continue
        members = np.flatnonzero(g.wc_idx == w)
        hours = (req[members] * h[members, None]).sum(axis=0)
        cap = np.nan_to_num(g.cap[w], nan=np.inf) * (1 + settings.overtime_share)
        avail = np.cumsum(cap)
        bad = np.flatnonzero(hours > avail + 1e-6 * np.maximum(1.0, hours))
        if len(bad):
            t = int(bad[0])
            by = pd.Series(req[members, t] * h[members], index=g.products["sku"].to_numpy()[members])
            top = ", ".join(f"{k} {v:,.1f} h" for k, v in by.sort_values(ascending=False).head(3).items() if v > 0)
            raise PlanningError(
                f"No feasible plan without backorders: by {g.months[t]:%Y-%m} work center {wc} needs at least "
                f"{hours[t]:,.1f} hours to meet demand ({top}) but has only {avail[t]:,.1f} hours including "
                f"{settings.overtime_share:.0%} overtime. Allow backorders, add capacity or overtime, or lower demand."
            )


def optimised_plan(inputs: PlanInputs, settings: PlanSettings | None = None, time_limit: float = 120.0) -> Plan:
    """The least-cost plan within work-center capacity (linear programme; see the module docstring).

    Raises PlanningError when the settings allow no plan (e.g. no capacity for demand while backorders are
    not allowed) or the solver fails, with the reason.
    """
    import scipy.sparse as sp  # here, not at the top: importing scipy.optimize costs ~0.4 s, and the pages that
    from scipy.optimize import linprog  # only read plans (summit, scenarios listed) should not pay it

    started = time.perf_counter()
    settings = settings or PlanSettings()
    g = _grid(inputs)
    if not settings.allow_backorders:
        _check_feasible_without_backorders(g, settings)
    D, R = g.D, g.R
    S, T = D.shape
    W = len(g.wcs)
    n = S * T
    I0, SS, h = g.col("on_hand"), g.col("safety_stock"), g.col("hours_per_unit")
    cost, price = g.col("unit_cost"), g.col("unit_price")
    oP, oI, oB, oU, oO = 0, n, 2 * n, 3 * n, 4 * n
    nv = 4 * n + W * T
    idx = np.arange(n).reshape(S, T)

    # balance: P[t] - I[t] + B[t] + I[t-1] - B[t-1] = D[t] - R[t]  (- on hand in the first month)
    flat = idx.ravel()
    rows = [flat, flat, flat]
    cols = [oP + flat, oI + flat, oB + flat]
    vals = [np.ones(n), -np.ones(n), np.ones(n)]
    if T > 1:
        r, c = idx[:, 1:].ravel(), idx[:, :-1].ravel()
        rows += [r, r]
        cols += [oI + c, oB + c]
        vals += [np.ones(len(r)), -np.ones(len(r))]
    A_eq = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, nv))
    b_eq = D - R
    b_eq[:, 0] -= I0
    b_eq = b_eq.ravel()

    # safety stock: -I[t] - U[t] <= -SS  (only SKUs with a safety stock)
    ss_pos = idx[SS > 0].ravel()
    m1 = len(ss_pos)
    rows = [np.arange(m1), np.arange(m1)]
    cols = [oI + ss_pos, oU + ss_pos]
    vals = [-np.ones(m1), -np.ones(m1)]
    b_ub = [-np.repeat(SS[SS > 0], T)]
    # capacity: sum h x P[t] - O[t] <= available hours (constrained work-center months only)
    constrained = ~np.isnan(g.cap)
    cap_row = np.full((W, T), -1)
    cap_row[constrained] = m1 + np.arange(int(constrained.sum()))
    s_idx, t_idx = np.nonzero((h[:, None] > 0) & constrained[g.wc_idx])
    rows.append(cap_row[g.wc_idx[s_idx], t_idx])
    cols.append(oP + idx[s_idx, t_idx])
    vals.append(h[s_idx])
    w_idx, tw_idx = np.nonzero(constrained)
    rows.append(cap_row[w_idx, tw_idx])
    cols.append(oO + w_idx * T + tw_idx)
    vals.append(-np.ones(len(w_idx)))
    b_ub.append(g.cap[constrained])
    m_ub = m1 + int(constrained.sum())
    A_ub = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m_ub, nv))
    b_ub = np.concatenate(b_ub)

    # costs (per unit or hour); the last month's stock position is credited at production cost
    c_prod = settings.production_cost_rate * cost
    c = np.zeros(nv)
    c[oP:oI] = np.repeat(c_prod, T)
    c_I = np.repeat((settings.holding_rate * cost)[:, None], T, axis=1)
    c_B = np.repeat((settings.backorder_rate * price)[:, None], T, axis=1)
    c_I[:, -1] -= c_prod
    c_B[:, -1] += c_prod
    c[oI:oB], c[oB:oU] = c_I.ravel(), c_B.ravel()
    c[oU:oO] = np.repeat(settings.shortfall_rate * price, T)
    ot_rate = settings.overtime_rate(g.products)
    c[oO:] = ot_rate

    lo = np.zeros(nv)
    hi = np.full(nv, np.inf)
    if not settings.allow_backorders:
        hi[oB:oU] = 0.0
    hi[oU:oO] = np.repeat(SS, T)
    hi[oO:] = np.nan_to_num(g.cap * settings.overtime_share, nan=0.0).ravel()

    t0 = time.perf_counter()
    res = linprog(c, A_ub=A_ub if m_ub else None, b_ub=b_ub if m_ub else None, A_eq=A_eq, b_eq=b_eq,
                  bounds=np.column_stack([lo, hi]), method="highs", options={"time_limit": float(time_limit)})
    solve_seconds = time.perf_counter() - t0
    size = (nv, n + m_ub, int(A_eq.nnz + A_ub.nnz))
    if res.status == 2:
        raise PlanningError(
            "No feasible plan: demand cannot be met within capacity and overtime with the settings given "
            f"(backorders {'allowed' if settings.allow_backorders else 'not allowed'}). Allow backorders, add "
            "capacity or overtime. Solver: " + str(res.message))
    if res.status == 3:
        raise PlanningError("The plan is unbounded: check that no cost is negative. Solver: " + str(res.message))
    if res.status != 0 or res.x is None:
        raise PlanningError(f"The optimiser stopped without a plan ({res.message}). Try a shorter horizon or fewer SKUs.")
    x = res.x
    P = np.where(x[oP:oI] > 1e-9, x[oP:oI], 0.0).reshape(S, T)
    overtime = np.where(x[oO:] > 1e-9, x[oO:], 0.0).reshape(W, T)
    note = (f"Linear programme: {size[0]:,} variables, {size[1]:,} constraints, {size[2]:,} non-zeros; "
            f"solved by HiGHS in {solve_seconds:.2f} s.")
    plan = _evaluate(g, P, settings, "optimised", overtime=overtime, lp_size=size, solve_seconds=solve_seconds,
                     started=started, notes=(note,))
    return _finish(plan, inputs)


PLANNERS = {"chase": chase_plan, "level": level_plan, "optimised": optimised_plan}


def make_plan(inputs: PlanInputs, strategy: str, settings: PlanSettings | None = None) -> Plan:
    """The plan of one strategy by name ('chase', 'level', 'optimised')."""
    if strategy not in PLANNERS:
        raise PlanningError(f"Unknown strategy {strategy!r}: choose one of {', '.join(PLANNERS)}.")
    return PLANNERS[strategy](inputs, settings)


# ---------------------------------------------------------------------------- roll-ups


def days_of_supply_text(days: pd.Series) -> pd.Series:
    """Days of supply for people: '12.5', or 'no demand' where there is none (NaN), never a number such as
    6,963,233.4 that a demand of a few thousandths of a unit would give."""
    return days.map(lambda v: "no demand" if pd.isna(v) else f"{v:,.1f}")


# How a cover column made by :func:`with_cover_text` is shown (the supply page, the summit screen and packs).
COVER = pr.Column("Cover", pr.TEXT, unit="days", help="Days of supply: month-end stock / next month's demand "
                  f"per day; 'no demand' below {NO_DEMAND_UNITS:g} units a month")


def with_cover_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (plan lines or a roll-up) with its days_of_supply as people read it (:func:`days_of_supply_text`:
    '12.5' or 'no demand'), for the tables people see; show it with :data:`COVER`. The one place the supply
    page and the summit (screen, HTML and Excel pack) take cover text from."""
    if "days_of_supply" not in frame.columns:
        return frame
    return frame.assign(days_of_supply=days_of_supply_text(frame["days_of_supply"]).astype(object))


def plan_rollup(plan: Plan, by: str = "family") -> pd.DataFrame:
    """The plan summed per family or work center and month.

    grain: one row per ``by`` x month. Columns: <by>, period, forecast, backlog, demand, open_receipts,
    production, projected_inventory (sum of the SKUs' month-end positions), safety_stock, shortfall (sum
    of the SKUs' shortfalls), load_hours, days_of_supply (max(0, projected inventory) / the next month's
    demand per day, as for SKUs).
    """
    if by not in ("family", "work_center"):
        raise PlanningError("Roll a plan up by 'family' or 'work_center'.")
    cols = ["forecast", "backlog", "demand", "open_receipts", "production", "projected_inventory", "safety_stock",
            "shortfall", "load_hours"]
    g = plan.lines.groupby([by, "period"], as_index=False, sort=True)[cols].sum()
    g = g.sort_values([by, "period"]).reset_index(drop=True)
    nxt = g.groupby(by)["demand"].shift(-1).fillna(g["demand"])
    nxt_period = g.groupby(by)["period"].shift(-1).fillna(g["period"])
    daily = nxt / nxt_period.dt.days_in_month
    g["days_of_supply"] = (g["projected_inventory"].clip(lower=0) / daily.where(nxt >= NO_DEMAND_UNITS))
    return g
