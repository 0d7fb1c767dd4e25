"""The demo company: a deterministic, fully synthetic furniture manufacturer.

``build_demo(path)`` writes three years of history for "Nordhavn Furniture" into a
DuckDB file through the one writer path (:func:`analytics.db.writer`). The data
follows the contract in :mod:`analytics.schema` and is generated with vectorised
numpy (one Python iteration per *month* or per *stage*, never per order line), so
``scale=80`` (about ten million order lines) builds in a few minutes.

The company is built to tell the stories an S&OP meeting discusses:

* **Demand patterns** per SKU: smooth, seasonal (Sofas & Lounge peak in autumn, Outdoor
  in early summer), trending up or down, intermittent (many zero months), one
  product launch (:data:`LAUNCH_SKU`, ~6 months of ramp-up history) and one
  end-of-life SKU (:data:`EOL_SKU`, no demand in the last ~4 months).
* **Sales over-forecasts one family** (:data:`BIASED_FAMILY`, +25 %); the
  consensus sits between the statistical and the sales forecast.
* **Late and partial deliveries concentrate in one region** (:data:`LATE_REGION`),
  getting worse over time; that region also scores lower in the NPS survey.
* **One work center is overloaded in the peak season** (:data:`OVERLOADED_WC`,
  ~100-125 % from September to December) while the others run at roughly 60-88 %.
* An **open backlog** at the as-of date (orders due after it, late lines not yet
  delivered), open and planned work orders, and a budget for this and next year.

Same ``seed``, ``scale`` and ``as_of`` give identical data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from os import PathLike

import duckdb
import numpy as np
import pandas as pd

from analytics import access, db
from analytics.schema import CONTRACT, DATE, DUCKDB_TYPE, NUMBER, TEXT

# --------------------------------------------------------------------------- the stories

COMPANY = "Nordhavn Furniture"
BIASED_FAMILY = "Outdoor"  # sales persistently over-forecasts it
LATE_REGION = "South"  # late, partial and short deliveries concentrate here
OVERLOADED_WC = "WC-UPHOLSTERY"  # over 100 % in the Q4 peak
PEAK_MONTHS = (9, 10, 11, 12)  # the overloaded work center's peak season (sofa orders peak in October)
LAUNCH_SKU = "CHAIR-030"  # new product, ~6 months of history, ramping up
EOL_SKU = "DESK-026"  # end of life: no demand in the last ~4 months

HIST_MONTHS = 36  # months of history, the last one contains as_of
AHEAD_MONTHS = 18  # forecast horizon and capacity plan
N_MONTHS = 60  # demand model horizon (covers next year's budget)
BASE_LINES = 125_000  # expected order lines over the history at scale 1
BASE_CUSTOMERS = 400
SURVEYS_PER_MONTH = 25
NULL_DAY = -10**6  # sentinel for an empty date in the integer day arrays

REGIONS = ("North", "South", "East", "West")
REGION_SHARE = (0.28, 0.22, 0.25, 0.25)
SEGMENTS = ("Retail", "Distributor", "Key Account")
WORK_CENTERS = ("WC-CUTTING", "WC-ASSEMBLY", "WC-UPHOLSTERY", "WC-FINISHING", "WC-METAL")
ERROR_CODES = ("wrong_item", "wrong_quantity", "damaged", "documentation")
SOURCES = ("statistical", "sales", "consensus")

# Random streams: every stage draws from its own generator, so the product range
# and demand model do not change with --scale and stages do not disturb each other.
_S_PRODUCTS, _S_DEMAND, _S_CUSTOMERS, _S_ORDERS, _S_PRODUCTION = 1, 2, 3, 4, 5
_S_FORECAST, _S_SURVEYS = 6, 7


@dataclass(frozen=True)
class _Family:
    name: str
    prefix: str
    n: int
    bases: tuple[str, ...]
    variants: tuple[str, ...]
    cost: tuple[float, float]  # unit cost range
    hours: tuple[float, float]  # hours per unit range
    work_centers: tuple[tuple[str, float], ...]  # (work center, share of SKUs)
    qty_per_line: float  # mean units per order line
    season_amp: float  # seasonal amplitude (0 = flat)
    season_peak: float  # month of the peak (1..12)
    sales_bias: float  # sales forecast bias (+0.25 = 25 % over)
    budget_ambition: float  # budget growth on top of the true trend


FAMILIES: tuple[_Family, ...] = (
    _Family("Desks", "DESK", 26,
            ("Oak desk", "Walnut desk", "White desk", "Sit-stand desk", "Corner desk", "Compact desk",
             "Executive desk", "Bench desk", "Classic desk"),
            ("120", "140", "160", "180"), (120, 420), (0.6, 1.4),
            (("WC-ASSEMBLY", 0.8), ("WC-CUTTING", 0.2)), 4.0, 0.15, 9, 0.03, 0.05),
    _Family("Office Chairs", "CHAIR", 30,
            ("Task chair", "Ergo chair", "Mesh chair", "Visitor chair", "Stacking chair", "Conference chair",
             "Drafting stool", "Swivel chair"),
            ("black", "grey", "blue", "sand"), (60, 260), (0.3, 0.8),
            (("WC-UPHOLSTERY", 0.7), ("WC-METAL", 0.3)), 7.0, 0.15, 10, -0.02, 0.04),
    _Family("Storage", "STOR", 26,
            ("Filing cabinet", "Pedestal", "Bookcase", "Locker", "Tambour cabinet", "Shelving unit", "Sideboard"),
            ("H80", "H120", "H160", "H200"), (80, 340), (0.5, 1.2),
            (("WC-CUTTING", 0.75), ("WC-ASSEMBLY", 0.25)), 5.0, 0.10, 1, 0.02, 0.03),
    _Family("Meeting Tables", "TABL", 22,
            ("Meeting table", "Round table", "Boardroom table", "Cafe table", "Folding table", "Training table"),
            ("oak", "walnut", "white", "black"), (150, 600), (0.8, 2.0),
            (("WC-FINISHING", 0.7), ("WC-ASSEMBLY", 0.3)), 3.0, 0.05, 3, -0.03, 0.04),
    _Family("Sofas & Lounge", "SOFA", 24,
            ("Modular sofa", "2-seat sofa", "3-seat sofa", "Armchair", "Pouf", "Booth sofa"),
            ("wool grey", "leather brown", "felt green", "velvet blue"), (350, 1150), (2.0, 4.5),
            (("WC-UPHOLSTERY", 1.0),), 2.0, 0.65, 10, 0.02, 0.05),
    _Family("Outdoor", "OUTD", 22,
            ("Garden chair", "Patio table", "Sun lounger", "Bistro set", "Parasol base", "Garden bench"),
            ("aluminium", "teak", "steel black", "rope"), (40, 250), (0.5, 1.0),
            (("WC-METAL", 0.85), ("WC-FINISHING", 0.15)), 6.0, 0.60, 6, 0.25, 0.15),
)

_NAME_A = ("Nordic", "Harbor", "Summit", "Lindqvist", "Oakridge", "Bluefjord", "Granite", "Meridian", "Aurora",
           "Westbrook", "Riverside", "Kestrel", "Birchwood", "Pioneer", "Solvik", "Crescent", "Falcon", "Evergreen",
           "Highland", "Lakeside", "Northgate", "Redwood", "Silverline", "Stonebridge", "Tidewater", "Valley",
           "Alder", "Beacon", "Cedar", "Delta", "Elmhurst", "Fjell", "Greystone", "Hansen", "Ironside", "Juniper",
           "Kingsway", "Larsen", "Maple", "Norrland", "Orchard", "Parkside", "Quarry", "Rosen", "Saltmarsh",
           "Tallberg", "Uppland")  # 47
_NAME_B = ("Office", "Interiors", "Workspace", "Furnishing", "Living", "Design", "Contract", "Home", "Supply",
           "Projects", "Spaces", "Trading", "Retail", "Outfitters", "Studio", "Hospitality", "Education",
           "Facilities", "Distribution", "Concepts", "Collective", "Partners", "Group")  # 23
_NAME_C = ("AB", "Ltd", "GmbH", "Oy", "AS", "BV", "Inc")


ProgressFn = Callable[[float, str], None]


def default_as_of(today: date | None = None) -> date:
    """The last day of the month before ``today`` (default: the real today).

    The one wall-clock date in the product: a generated demo company has no data to take a date from, so it is
    generated up to last month. Everything dated afterwards (forecast runs, summits, overrides) follows the data.
    """
    today = today or date.today()
    return today.replace(day=1) - timedelta(days=1)


# --------------------------------------------------------------------------- calendar helpers


def _day(d: date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(d, "D").astype(np.int64))


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 for integer epoch days (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _to_monday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays forward to the next Monday."""
    wd = _weekday(days)
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def _to_friday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays back to the Friday before."""
    wd = _weekday(days)
    return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))


@dataclass(frozen=True)
class _Calendar:
    as_of: date
    as_of_day: int
    day0: int  # first day of the history
    month_start: np.ndarray  # epoch day of the first day of month index i (i = -1 .. N_MONTHS), see ms()
    moy: np.ndarray  # month of year (1..12) for month index 0..N_MONTHS-1
    bdays: np.ndarray  # business days (epoch days) from day0 to as_of
    bd_lo: np.ndarray  # per history month: slice of bdays in the month (up to as_of)
    bd_hi: np.ndarray
    bd_full: np.ndarray  # business days in the full month, index 0..N_MONTHS-1

    def ms(self, i):
        """First epoch day of month index ``i`` (vectorised, -1 allowed)."""
        return self.month_start[np.asarray(i) + 1]


def _calendar(as_of: date) -> _Calendar:
    last = np.datetime64(as_of, "M")
    first = last - (HIST_MONTHS - 1)
    months = first + np.arange(-1, N_MONTHS + 2)
    month_start = months.astype("datetime64[D]").astype(np.int64)
    moy = (months[1:N_MONTHS + 1].astype(np.int64) % 12) + 1
    as_of_day = _day(as_of)
    day0 = int(month_start[1])
    all_days = np.arange(day0, int(month_start[-1]))
    all_bdays = all_days[_weekday(all_days) < 5]
    bdays = all_bdays[all_bdays <= as_of_day]
    starts = month_start[1:HIST_MONTHS + 1]
    ends = np.minimum(month_start[2:HIST_MONTHS + 2], as_of_day + 1)
    bd_lo = np.searchsorted(bdays, starts)
    bd_hi = np.searchsorted(bdays, ends)
    bd_full = np.diff(np.searchsorted(all_bdays, month_start[1:N_MONTHS + 2]))
    return _Calendar(as_of, as_of_day, day0, month_start, moy, bdays, bd_lo, bd_hi, bd_full)


# --------------------------------------------------------------------------- products and demand


@dataclass
class _Products:
    df: pd.DataFrame  # contract columns
    family_idx: np.ndarray
    wc_idx: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    hours: np.ndarray
    qty_per_line: np.ndarray
    intermittent: np.ndarray  # bool
    pattern: np.ndarray  # demand class label per SKU
    launch: int  # index of the launch SKU
    eol: int  # index of the end-of-life SKU

    @property
    def skus(self) -> list[str]:
        return self.df["sku"].tolist()


def _products(seed: int) -> _Products:
    rng = np.random.default_rng([seed, _S_PRODUCTS])
    rows, fam_idx, wc_idx, qpl = [], [], [], []
    for f_i, fam in enumerate(FAMILIES):
        combos = [(b, v) for v in fam.variants for b in fam.bases]
        picks = rng.permutation(len(combos))[: fam.n]
        shares = np.array([s for _, s in fam.work_centers])
        wcs = rng.choice(len(fam.work_centers), size=fam.n, p=shares / shares.sum())
        wcs[0] = 0  # the family's main work center always makes its first SKU
        cost = np.round(rng.uniform(*fam.cost, fam.n), 2)
        margin = rng.uniform(0.25, 0.50, fam.n)
        price = np.round(cost / (1 - margin), 0)
        hours = np.round(rng.uniform(*fam.hours, fam.n), 2)
        for i in range(fam.n):
            base, variant = combos[picks[i]]
            rows.append((f"{fam.prefix}-{i + 1:03d}", f"{base} {variant}", fam.name, float(cost[i]),
                         float(price[i]), fam.work_centers[wcs[i]][0], float(hours[i])))
            fam_idx.append(f_i)
            wc_idx.append(WORK_CENTERS.index(fam.work_centers[wcs[i]][0]))
            qpl.append(fam.qty_per_line)
    df = pd.DataFrame(rows, columns=list(CONTRACT["products"].column_names))
    skus = df["sku"].tolist()
    launch, eol = skus.index(LAUNCH_SKU), skus.index(EOL_SKU)
    df.loc[launch, "name"] = "Ergo chair Pro black"
    df.loc[eol, "name"] = "Classic desk 160 beech"
    n = len(df)
    qty_per_line = np.asarray(qpl) * rng.lognormal(0.0, 0.35, n)
    # Intermittent SKUs: two per family among the non-story SKUs, lumpy big orders
    # (none on the overloaded work center, whose load should show the season clearly).
    intermittent = np.zeros(n, bool)
    fam_arr = np.asarray(fam_idx)
    wc_arr = np.asarray(wc_idx)
    for f_i in range(len(FAMILIES)):
        ok = (fam_arr == f_i) & (np.arange(n) != launch) & (np.arange(n) != eol)
        cand = np.flatnonzero(ok & (wc_arr != WORK_CENTERS.index(OVERLOADED_WC)))[1:]  # keep one runner
        if len(cand) >= 2:
            intermittent[rng.choice(cand, 2, replace=False)] = True
    qty_per_line = np.where(intermittent, qty_per_line * 4, qty_per_line)
    qty_per_line[eol] = qpl[eol]
    qty_per_line[launch] = 3.0  # many small first orders: a clear ramp even at small scales
    return _Products(df, fam_arr, np.asarray(wc_idx), df["unit_price"].to_numpy(float),
                     df["unit_cost"].to_numpy(float), df["hours_per_unit"].to_numpy(float), qty_per_line,
                     intermittent, np.empty(n, object), launch, eol)


def _demand(seed: int, prod: _Products, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Demand model at scale 1: expected order lines per SKU and month.

    Returns ``(lines_real, units_exp)`` of shape (SKUs, N_MONTHS): ``units_exp`` is
    the true demand *level* in units a good forecaster could know (used for
    forecasts, production plans and the budget); ``lines_real`` adds month-to-month
    noise and the zero months of intermittent SKUs and drives the order lines.
    Also sets ``prod.pattern`` (the demand class of each SKU).
    """
    rng = np.random.default_rng([seed, _S_DEMAND])
    n = len(prod.df)
    t = np.arange(N_MONTHS)
    fam = prod.family_idx
    amp = np.array([FAMILIES[f].season_amp for f in fam]) * rng.uniform(0.7, 1.3, n)
    peak = np.array([FAMILIES[f].season_peak for f in fam], float)
    season = 1 + amp[:, None] * np.cos(2 * np.pi * (cal.moy[None, :] - peak[:, None]) / 12)

    # Trends: in each family two SKUs grow and two decline (linear, per month).
    slope = np.zeros(n)
    pattern = np.where(amp > 0.3, "seasonal", "smooth").astype(object)
    for f_i in range(len(FAMILIES)):
        cand = np.flatnonzero((fam == f_i) & ~prod.intermittent & (np.arange(n) != prod.launch)
                              & (np.arange(n) != prod.eol))
        if FAMILIES[f_i].name == "Sofas & Lounge":
            cand = cand[1:]  # keep the peak-season load steady
        pick = rng.choice(cand, 4, replace=False)
        slope[pick[:2]] = rng.uniform(0.012, 0.022, 2)
        slope[pick[2:]] = -rng.uniform(0.010, 0.018, 2)
        pattern[pick[:2]] = "trend_up"
        pattern[pick[2:]] = "trend_down"
    trend = np.clip(1 + slope[:, None] * (t[None, :] - 17), 0.25, None)

    level = rng.lognormal(0.0, 0.8, n)  # lines per month, Pareto-ish across SKUs
    level = np.where(prod.intermittent, level * 0.15, level)
    p_active = np.where(prod.intermittent, rng.uniform(0.35, 0.5, n), 1.0)
    # More working days, more orders (forecasters know the calendar too).
    workdays = cal.bd_full / cal.bd_full.mean()
    shape = season * trend * workdays[None, :]

    # Launch: nothing before month 30, ramp over 6 months, keeps growing a little.
    launch_m = HIST_MONTHS - 6
    ramp = np.clip((t - launch_m + 1) / 6.0, 0, 1) * (1 + 0.01 * np.clip(t - launch_m - 6, 0, None))
    shape[prod.launch] = ramp * season[prod.launch] * workdays
    level[prod.launch] = 2 * np.quantile(level, 0.95)
    pattern[prod.launch] = "launch"
    # End of life: fades over 18 months, zero in the last 4 history months and after.
    eol_last = HIST_MONTHS - 5
    fade = np.clip((eol_last + 1 - t) / 18.0, 0, 1)
    shape[prod.eol] = np.where(t <= eol_last, fade, 0.0) * season[prod.eol] * workdays
    level[prod.eol] = np.quantile(level, 0.85)
    pattern[prod.eol] = "end_of_life"
    pattern[prod.intermittent] = "intermittent"
    prod.pattern = pattern

    lines_exp = level[:, None] * shape * p_active[:, None]
    active = rng.random((n, N_MONTHS)) < p_active[:, None]
    noise = rng.lognormal(-0.08**2 / 2, 0.08, (n, N_MONTHS))
    lines_real = level[:, None] * shape * active * noise
    k = BASE_LINES / lines_real[:, :HIST_MONTHS].sum()
    lines_real *= k
    lines_exp *= k
    return lines_real, lines_exp * prod.qty_per_line[:, None]


# --------------------------------------------------------------------------- customers


@dataclass
class _Customers:
    df: pd.DataFrame
    region: np.ndarray
    segment: np.ndarray
    weight: np.ndarray  # order probability (Pareto)
    discount: np.ndarray


def _customers(seed: int, scale: float) -> _Customers:
    rng = np.random.default_rng([seed, _S_CUSTOMERS])
    n = max(20, int(round(BASE_CUSTOMERS * scale)))
    rank = rng.permutation(n) + 1  # 1 = biggest customer
    weight = 1.0 / rank**0.95
    weight /= weight.sum()
    q = rank / n  # 0..1, small = big customer
    seg = np.where(q <= 0.06, 2, np.where(q <= 0.30, 1, 0))
    flip = rng.random(n) < 0.1  # a few surprises: small key accounts, big retailers
    seg = np.where(flip, rng.integers(0, 3, n), seg)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARE)
    disc_lo = np.array([0.0, 0.08, 0.05])[seg]
    disc_hi = np.array([0.05, 0.15, 0.12])[seg]
    discount = rng.uniform(disc_lo, disc_hi)
    i = np.arange(n)
    a, b, c = len(_NAME_A), len(_NAME_B), len(_NAME_C)
    perm = rng.permutation(a * b * c)
    combo = perm[i % (a * b * c)]
    names = (np.asarray(_NAME_A, dtype=object)[combo % a] + " "
             + np.asarray(_NAME_B, dtype=object)[(combo // a) % b] + " "
             + np.asarray(_NAME_C, dtype=object)[(combo // (a * b)) % c])
    dup = i // (a * b * c)
    names = np.where(dup > 0, names + " (" + (dup + 1).astype(str).astype(object) + ")", names)
    df = pd.DataFrame({
        "customer_id": _customer_ids(i),
        "name": names.astype(str),
        "region": np.asarray(REGIONS)[region],
        "segment": np.asarray(SEGMENTS)[seg],
    })
    return _Customers(df, region, seg, weight, discount)


def _customer_ids(idx: np.ndarray) -> np.ndarray:
    return np.char.add("C", np.char.zfill((np.asarray(idx) + 1).astype(str), 5))


# --------------------------------------------------------------------------- insert helper


def _insert(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, exprs: dict[str, str] | None = None) -> None:
    """INSERT a frame into a contract table, in contract column order.

    Date columns arrive as integer epoch days (``NULL_DAY`` = empty); nullable
    numbers as floats with NaN = empty. ``exprs`` overrides the SQL per column.
    """
    exprs = exprs or {}
    cols = []
    for c in CONTRACT[table].columns:
        if c.name in exprs:
            cols.append(exprs[c.name])
        elif c.name not in df.columns and c.nullable:  # an optional column the demo does not fill (orders.region)
            cols.append(f"CAST(NULL AS {DUCKDB_TYPE[c.type]})")
        elif c.type == DATE:
            e = f"DATE '1970-01-01' + CAST(\"{c.name}\" AS INTEGER)"
            cols.append(f"CASE WHEN \"{c.name}\" = {NULL_DAY} THEN NULL ELSE {e} END" if c.nullable else e)
        elif c.type == TEXT:
            cols.append(f"CAST(\"{c.name}\" AS VARCHAR)")
        elif c.type == NUMBER and c.nullable:
            v = f"CAST(\"{c.name}\" AS DOUBLE)"
            cols.append(f"CASE WHEN isnan({v}) THEN NULL ELSE {v} END")
        else:
            cols.append(f"\"{c.name}\"")
    con.register("_demo_frame", df)
    try:
        con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM _demo_frame")  # constant: schema names
    finally:
        con.unregister("_demo_frame")


def _cat(codes: np.ndarray, labels) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int32), categories=list(labels))


# --------------------------------------------------------------------------- orders and deliveries


@dataclass
class _OrderStats:
    lines: int = 0
    orders: int = 0
    deliveries: int = 0


def _orders_month(
    con: duckdb.DuckDBPyConnection, m: int, seed: int, scale: float, cal: _Calendar, prod: _Products,
    cust: _Customers, lines_real: np.ndarray, shipped: np.ndarray, stats: _OrderStats,
) -> None:
    """Generate and insert the order lines placed in history month ``m`` and their deliveries."""
    rng = np.random.default_rng([seed, _S_ORDERS, m])
    lo, hi = cal.bd_lo[m], cal.bd_hi[m]
    if hi <= lo:
        return
    frac = (hi - lo) / cal.bd_full[m]  # the as-of month may be partial
    counts = rng.poisson(lines_real[:, m] * scale * frac)
    n = int(counts.sum())
    if n == 0:
        return
    sku = np.repeat(np.arange(len(counts), dtype=np.int32), counts)[rng.permutation(n)]

    # Group the shuffled lines into orders of 1-5 lines.
    sizes = rng.choice(np.arange(1, 6), size=n, p=[0.35, 0.25, 0.18, 0.12, 0.10])
    starts = np.concatenate(([0], np.cumsum(sizes)))
    starts = starts[starts < n]
    first = np.zeros(n, bool)
    first[starts] = True
    oidx = np.cumsum(first) - 1
    line_no = np.arange(n) - starts[oidx] + 1
    n_orders = len(starts)

    # Order header: customer, date, requested date (lead time by segment).
    c = rng.choice(len(cust.weight), size=n_orders, p=cust.weight).astype(np.int32)
    seg = cust.segment[c]
    od_o = cal.bdays[lo + (rng.random(n_orders) * (hi - lo)).astype(np.int64)]
    lead_lo = np.array([7, 10, 7])[seg]
    lead_hi = np.array([21, 28, 14])[seg]  # +2 at most from the weekend shift
    rd_o = _to_monday(od_o + rng.integers(lead_lo, lead_hi + 1))

    cl, od, rd = c[oidx], od_o[oidx], rd_o[oidx]
    region = cust.region[cl]
    south = region == REGIONS.index(LATE_REGION)
    push = np.where(rng.random(n) < np.where(south, 0.35, 0.2), rng.integers(1, 11, n), 0)
    pd_ = _to_monday(rd + push)

    units = prod.qty_per_line[sku]
    shape_k = np.where(prod.intermittent[sku], 0.8, 2.0)
    qty = (1 + rng.poisson(rng.gamma(shape_k, np.maximum(units - 1, 0.05) / shape_k))).astype(np.float64)
    price_factor = 1.03 ** ((m - (HIST_MONTHS - 1)) / 12)  # list prices rose ~3 % a year
    price = np.round(prod.price[sku] * (1 - cust.discount[cl]) * price_factor, 2)

    order_seq = stats.orders + oidx
    _insert(con, "orders", pd.DataFrame({
        "oid": order_seq, "line_no": line_no, "cust": cl, "sku": _cat(sku, prod.skus),
        "order_date": od, "requested_date": rd, "promised_date": pd_, "quantity": qty, "unit_price": price,
    }), {
        "order_id": "'SO-' || CAST(10000000 + oid AS VARCHAR)",
        "customer_id": "'C' || lpad(CAST(cust + 1 AS VARCHAR), 5, '0')",
    })

    # Deliveries: on time or late (late concentrated in LATE_REGION, worse over time,
    # and in the overloaded work center's peak), split in 1-3 parts, some short.
    t = m / (HIST_MONTHS - 1)
    p_late = np.where(south, 0.13 + 0.17 * t, np.array([0.05, 0.0, 0.07, 0.06])[region])
    peak = (prod.wc_idx[sku] == WORK_CENTERS.index(OVERLOADED_WC)) & np.isin(cal.moy[m], PEAK_MONTHS)
    p_late = p_late + np.where(peak, 0.10, 0.0)
    late = rng.random(n) < p_late
    delay = np.minimum(rng.geometric(np.where(south, 0.14, 0.25)), 45)
    early = rng.choice(4, size=n, p=[0.55, 0.25, 0.12, 0.08])
    d1 = np.where(late, _to_monday(pd_ + delay), _to_friday(pd_ - early))
    d1 = np.maximum(d1, od + 1)

    short = (rng.random(n) < np.where(south, 0.04, 0.012)) & (qty >= 2)
    short_qty = np.where(short, np.maximum(1, np.floor(qty * rng.uniform(0.05, 0.35, n))), 0)
    deliverable = qty - short_qty
    p_partial = np.where(south, 0.14, 0.04)
    nparts = 1 + (rng.random(n) < p_partial) * (1 + (rng.random(n) < 0.35))
    nparts = np.minimum(nparts, deliverable).astype(np.int64)
    q1 = np.where(nparts == 1, deliverable,
                  np.clip(np.round(deliverable * rng.uniform(0.4, 0.75, n)), 1, deliverable - (nparts - 1)))
    rem = deliverable - q1
    q2 = np.where(nparts == 2, rem,
                  np.where(nparts == 3, np.clip(np.round(rem * rng.uniform(0.3, 0.7, n)), 1, rem - 1), 0))
    q3 = deliverable - q1 - q2
    d2 = d1 + rng.integers(3, 16, n)
    d3 = d2 + rng.integers(3, 16, n)

    line_idx = np.concatenate([np.arange(n), np.flatnonzero(nparts >= 2), np.flatnonzero(nparts == 3)])
    dq = np.concatenate([q1, q2[nparts >= 2], q3[nparts == 3]])
    dd = np.concatenate([d1, d2[nparts >= 2], d3[nparts == 3]])
    keep = dd <= cal.as_of_day  # nothing is delivered after the as-of date
    line_idx, dq, dd = line_idx[keep], dq[keep], dd[keep]
    order = np.lexsort((line_idx, dd))
    line_idx, dq, dd = line_idx[order], dq[order], dd[order]
    nd = len(dd)
    ship = np.maximum(_to_friday(dd - rng.integers(1, 4, nd)), od[line_idx])  # 1-5 days before
    p_err = np.where(south[line_idx], 0.022, 0.012)
    err = np.where(rng.random(nd) < p_err, rng.choice(4, size=nd, p=[0.3, 0.3, 0.25, 0.15]), -1)
    err_sql = "CASE err " + " ".join(f"WHEN {i} THEN '{e}'" for i, e in enumerate(ERROR_CODES)) + " END"
    _insert(con, "deliveries", pd.DataFrame({
        "did": stats.deliveries + np.arange(nd), "oid": order_seq[line_idx], "line_no": line_no[line_idx],
        "ship_date": ship, "delivered_date": dd, "quantity": dq, "err": err,
    }), {
        "delivery_id": "'D-' || CAST(10000000 + did AS VARCHAR)",
        "order_id": "'SO-' || CAST(10000000 + oid AS VARCHAR)",
        "error_code": err_sql,
    })
    # Units shipped per SKU and day, for the stock simulation.
    flat = sku[line_idx].astype(np.int64) * shipped.shape[1] + (ship - cal.day0)
    shipped += np.bincount(flat, weights=dq, minlength=shipped.size).reshape(shipped.shape)
    stats.lines += n
    stats.orders += n_orders
    stats.deliveries += nd


# --------------------------------------------------------------------------- production, inventory, capacity


def _production(
    con: duckdb.DuckDBPyConnection, seed: int, scale: float, cal: _Calendar, prod: _Products,
    units_exp: np.ndarray, shipped: np.ndarray,
) -> pd.DataFrame:
    """Monthly work orders that keep stock near one month of cover; weekly stock counts.

    Returns the work orders (with ``load_month`` and ``hours``) for the capacity stage.
    """
    rng = np.random.default_rng([seed, _S_PRODUCTION])
    n_sku, n_days = shipped.shape
    demand = units_exp * scale
    cover = np.where(prod.intermittent, 1.5, 1.0)
    # Planning view of shipments: actuals up to as_of, the expected rate after.
    ship_plan = shipped.copy()
    days = cal.day0 + np.arange(n_days)
    future = days > cal.as_of_day
    month_of_day = np.searchsorted(cal.month_start, days, side="right") - 2  # month index
    m_idx = np.clip(month_of_day, 0, N_MONTHS - 1)
    days_in = np.diff(cal.month_start)[m_idx + 1]
    ship_plan[:, future] = demand[:, m_idx[future]] / days_in[future]
    receipts = np.zeros_like(shipped)  # actual receipts (produced, finished by as_of)
    planned_in = np.zeros_like(shipped)  # everything expected in (for planning)
    init = cover * demand[:, :12].mean(1)
    init[prod.launch] = 0.0
    big = demand[:, :HIST_MONTHS].mean(1) >= np.quantile(demand[:, :HIST_MONTHS].mean(1), 0.6)
    upholstery = prod.wc_idx == WORK_CENTERS.index(OVERLOADED_WC)

    frames = []
    last_month = HIST_MONTHS + 1  # history plus two months of planned work orders
    for m in range(last_month + 1):
        d0 = int(cal.ms(m)) - cal.day0
        projected = init + planned_in.sum(1) - ship_plan[:, :d0].sum(1)
        # Chase strategy: stock targets follow the de-seasonalised level, production follows demand.
        target = cover * demand[:, max(m - 5, 0): m + 7].mean(1)
        plan = np.ceil(np.clip(demand[:, m] + 0.5 * (target - projected), 0, None))
        plan = np.where(plan >= np.maximum(1.0, 0.05 * demand[:, m]), plan, 0)
        n_wo = np.where(big & (plan >= 4), 2, 1)
        for k in (0, 1):
            has = (plan > 0) & (n_wo > k)
            s = np.flatnonzero(has)
            if len(s) == 0:
                continue
            qty = np.where(n_wo[s] == 2, np.ceil(plan[s] / 2) if k == 0 else np.floor(plan[s] / 2), plan[s])
            # One work order a month starts any time in the first 3 weeks; two split the month.
            window = np.where(k == 1, 12, np.where(n_wo[s] == 2, 8, 20))
            start = _to_monday(int(cal.ms(m)) + 14 * k + rng.integers(0, window + 1))
            dur = rng.integers(3, 8, len(s))
            end = start + dur
            a_start = start + rng.choice([0, 0, 0, 1, 2], size=len(s))
            hot = upholstery[s] & np.isin(cal.moy[m], PEAK_MONTHS)
            late = rng.random(len(s)) < np.where(hot, 0.5, 0.15)
            a_end = a_start + dur + np.where(late, np.where(hot, rng.integers(2, 9, len(s)),
                                                            rng.integers(1, 5, len(s))), 0)
            scrap = np.where(rng.random(len(s)) < 0.7, np.round(qty * rng.uniform(0, 0.03, len(s))), 0)
            shortfall = np.where(rng.random(len(s)) < 0.12, np.round(qty * rng.uniform(0.02, 0.10, len(s))), 0)
            produced = np.maximum(qty - scrap - shortfall, 0)
            started = a_start <= cal.as_of_day
            finished = a_end <= cal.as_of_day
            # Planning: finished work orders deliver what they produced, others the plan.
            in_day = np.where(finished, a_end, end) - cal.day0
            np.add.at(planned_in, (s, np.minimum(in_day, n_days - 1)), np.where(finished, produced, qty))
            np.add.at(receipts, (s[finished], a_end[finished] - cal.day0), produced[finished])
            frames.append(pd.DataFrame({
                "sku_i": s, "planned_start": start, "planned_end": end,
                "actual_start": np.where(started, a_start, NULL_DAY),
                "actual_end": np.where(finished, a_end, NULL_DAY),
                "planned_qty": qty,
                "produced_qty": np.where(finished, produced, np.nan),
                "scrap_qty": np.where(finished, scrap, np.nan),
            }))
    wo = pd.concat(frames, ignore_index=True)
    wo = wo.sort_values(["planned_start", "sku_i"], kind="stable", ignore_index=True)
    wo["wo"] = np.arange(len(wo))
    wo["sku"] = _cat(wo["sku_i"].to_numpy(), prod.skus)
    wo["work_center"] = _cat(prod.wc_idx[wo["sku_i"].to_numpy()], WORK_CENTERS)
    _insert(con, "production", wo, {"work_order_id": "'WO-' || CAST(300001 + wo AS VARCHAR)"})

    # Weekly stock counts every Monday morning: opening stock + receipts - shipments so far.
    stock = init[:, None] + np.cumsum(receipts - shipped, axis=1)
    first_monday = cal.day0 + (7 - int(_weekday(np.array([cal.day0]))[0])) % 7
    mondays = np.arange(first_monday, cal.as_of_day + 1, 7)
    col = mondays - cal.day0 - 1  # stock at the end of the day before
    on_hand = np.where(col[None, :] >= 0, stock[:, np.maximum(col, 0)], init[:, None])
    on_hand = np.round(np.clip(on_hand, 0, None))
    exists = mondays[None, :] >= int(cal.ms(HIST_MONTHS - 8))  # the launch SKU exists from its pre-build
    keep = np.ones_like(on_hand, bool)
    keep[prod.launch] = exists[0]
    s_i, w_i = np.nonzero(keep)
    _insert(con, "inventory", pd.DataFrame({
        "snapshot_date": mondays[w_i], "sku": _cat(s_i, prod.skus), "on_hand": on_hand[s_i, w_i],
    }))

    # Load for the capacity stage: hours in the month the work order finishes
    # (finished: produced; open or planned: planned quantity at the planned end).
    done = wo["actual_end"].to_numpy() != NULL_DAY
    when = np.where(done, wo["actual_end"].to_numpy(), wo["planned_end"].to_numpy())
    qty = np.where(done, wo["produced_qty"].to_numpy(), wo["planned_qty"].to_numpy())
    wo["load_month"] = np.searchsorted(cal.month_start, when, side="right") - 2
    wo["hours"] = qty * prod.hours[wo["sku_i"].to_numpy()]
    wo["wc_i"] = prod.wc_idx[wo["sku_i"].to_numpy()]
    return wo


def _capacity(con: duckdb.DuckDBPyConnection, cal: _Calendar, wo: pd.DataFrame) -> dict[str, float]:
    """Available hours per work center and month (history + 18 months ahead).

    Calibrated on the realised load so the overloaded work center runs at ~110 %
    in its peak months and every other work center stays at or below ~88 %.
    Returns the peak utilisation per work center over the history.
    """
    months = np.arange(HIST_MONTHS + AHEAD_MONTHS)
    base = cal.bd_full[months] * 8.0  # hours of one 8-hour shift per working day; scaled by a rate below
    hist = wo[(wo["load_month"] >= 0) & (wo["load_month"] < HIST_MONTHS)]
    load = np.zeros((len(WORK_CENTERS), HIST_MONTHS))
    np.add.at(load, (hist["wc_i"].to_numpy(), hist["load_month"].to_numpy()), hist["hours"].to_numpy())
    # Only complete months calibrate (the as-of month may be partial).
    full = np.arange(HIST_MONTHS) < (HIST_MONTHS - 1 if cal.as_of_day + 1 < int(cal.ms(HIST_MONTHS)) else HIST_MONTHS)
    per_base = load / base[None, :HIST_MONTHS]
    rates = np.zeros(len(WORK_CENTERS))
    for w, name in enumerate(WORK_CENTERS):
        x = per_base[w, full]
        if not np.any(x > 0):
            rates[w] = 1.0
            continue
        if name == OVERLOADED_WC:
            in_peak = np.isin(cal.moy[:HIST_MONTHS][full], PEAK_MONTHS)
            rates[w] = max(x[in_peak].mean() / 1.10, x.max() / 1.28)
        else:
            rates[w] = x.max() / 0.88
    avail = np.round(rates[:, None] * base[None, :])
    w_i, m_i = np.meshgrid(np.arange(len(WORK_CENTERS)), months, indexing="ij")
    _insert(con, "capacity", pd.DataFrame({
        "work_center": _cat(w_i.ravel(), WORK_CENTERS), "period": cal.ms(m_i.ravel()),
        "available_hours": avail.ravel(),
    }))
    util = load[:, full] / avail[:, :HIST_MONTHS][:, full]
    return {name: round(float(util[w].max()), 3) for w, name in enumerate(WORK_CENTERS)}


# --------------------------------------------------------------------------- forecasts, budget, surveys


def _forecasts(con: duckdb.DuckDBPyConnection, seed: int, scale: float, cal: _Calendar, prod: _Products,
               units_exp: np.ndarray) -> int:
    """Month-end snapshots (36) x active SKUs x 18 months x 3 sources."""
    rng = np.random.default_rng([seed, _S_FORECAST])
    n_sku = len(prod.df)
    # The last snapshot is the last month-end on or before as_of.
    month_end_last = int(cal.ms(HIST_MONTHS)) - 1
    last_snap_m = HIST_MONTHS - 1 if month_end_last <= cal.as_of_day else HIST_MONTHS - 2
    snap_m = np.arange(last_snap_m - HIST_MONTHS + 1, last_snap_m + 1)  # month index of each snapshot
    h = np.arange(AHEAD_MONTHS)
    k_n = len(snap_m)
    period_m = snap_m[:, None, None] + 1 + h[None, None, :]  # (K, 1, H)
    mu = units_exp[np.arange(n_sku)[None, :, None], period_m] * scale  # (K, S, H)

    intermittent = prod.intermittent[None, :, None]
    sd_level = np.where(intermittent, 0.35, 0.10)
    sd_h = 0.04 + 0.006 * h[None, None, :]
    e_stat = rng.normal(0, 1, (k_n, n_sku, 1)) * sd_level + rng.normal(0, 1, (k_n, n_sku, AHEAD_MONTHS)) * sd_h
    stat = mu * np.exp(e_stat - (sd_level**2 + sd_h**2) / 2)
    # The statistical model has no history for the launch SKU's first months: it under-forecasts.
    young = (snap_m < HIST_MONTHS - 6 + 3)[:, None]
    stat[:, prod.launch, :] *= np.where(young, 0.5, 1.0)

    bias = np.array([FAMILIES[f].sales_bias for f in prod.family_idx])[None, :, None]
    sd_sales = np.where(intermittent, 0.40, 0.16)
    e_sales = rng.normal(0, 1, (k_n, n_sku, 1)) * sd_sales + rng.normal(0, 1, (k_n, n_sku, AHEAD_MONTHS)) * sd_h
    sales = mu * (1 + bias) * np.exp(e_sales - (sd_sales**2 + sd_h**2) / 2)
    # Consensus leans on the statistical forecast and trims the sales optimism.
    w_sales = 0.4
    e_cons = rng.normal(0, 0.04, (k_n, n_sku, AHEAD_MONTHS))
    cons = ((1 - w_sales) * stat + w_sales * sales) * np.exp(e_cons - 0.04**2 / 2)

    # Active SKUs: the launch SKU appears 2 months before launch; the EOL SKU
    # drops out of the snapshots once its demand has gone.
    active = np.ones((k_n, n_sku), bool)
    active[:, prod.launch] = snap_m >= HIST_MONTHS - 6 - 2
    active[:, prod.eol] = snap_m <= HIST_MONTHS - 4
    k_i, s_i = np.nonzero(active)
    n_rows = len(k_i) * AHEAD_MONTHS
    snap_day = cal.ms(snap_m + 1) - 1
    kk = np.repeat(k_i, AHEAD_MONTHS)
    ss = np.repeat(s_i, AHEAD_MONTHS)
    hh = np.tile(h, len(k_i))
    frames = []
    for src_i, arr in enumerate((stat, sales, cons)):
        frames.append(pd.DataFrame({
            "snapshot_date": snap_day[kk], "sku": _cat(ss, prod.skus),
            "period": cal.ms(snap_m[kk] + 1 + hh), "source": _cat(np.full(n_rows, src_i), SOURCES),
            "quantity": np.round(arr[kk, ss, hh]),
        }))
    df = pd.concat(frames, ignore_index=True)
    _insert(con, "forecasts", df)
    return len(df)


def _budget(con: duckdb.DuckDBPyConnection, scale: float, cal: _Calendar, prod: _Products,
            units_exp: np.ndarray) -> None:
    """Budget per month and family for the as-of year and the next."""
    first = (HIST_MONTHS - 1) - (cal.as_of.month - 1)  # January of the as-of year
    months = np.arange(first, first + 24)
    units = units_exp[:, months] * scale  # (S, 24)
    price_factor = 1.03 ** ((months - (HIST_MONTHS - 1)) / 12)
    revenue = units * prod.price[:, None] * 0.93 * price_factor[None, :]
    n_fam = len(FAMILIES)
    fu = np.zeros((n_fam, len(months)))
    fr = np.zeros((n_fam, len(months)))
    np.add.at(fu, prod.family_idx, units)
    np.add.at(fr, prod.family_idx, revenue)
    ambition = np.array([f.budget_ambition for f in FAMILIES])[:, None]
    f_i, m_i = np.meshgrid(np.arange(n_fam), np.arange(len(months)), indexing="ij")
    _insert(con, "budget", pd.DataFrame({
        "period": cal.ms(months[m_i.ravel()]), "family": _cat(f_i.ravel(), [f.name for f in FAMILIES]),
        "units": np.round(fu * (1 + ambition)).ravel(), "revenue": np.round(fr * (1 + ambition), -2).ravel(),
    }))


def _surveys(con: duckdb.DuckDBPyConnection, seed: int, cal: _Calendar, cust: _Customers) -> None:
    """NPS answers (0-10), ~300 a year; the late-delivery region scores lower and falls."""
    rng = np.random.default_rng([seed, _S_SURVEYS])
    per_month = rng.poisson(SURVEYS_PER_MONTH, HIST_MONTHS)
    m = np.repeat(np.arange(HIST_MONTHS), per_month)
    n = len(m)
    lo, hi = cal.ms(m), np.minimum(cal.ms(m + 1) - 1, cal.as_of_day)
    day = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    w = np.sqrt(cust.weight)
    c = rng.choice(len(w), size=n, p=w / w.sum())
    region = cust.region[c]
    mean = np.array([8.5, 0.0, 8.2, 8.4])[region]
    mean = np.where(region == REGIONS.index(LATE_REGION), 7.4 - 1.3 * m / (HIST_MONTHS - 1), mean)
    score = np.clip(np.round(rng.normal(mean, 1.5)), 0, 10)
    order = np.lexsort((c, day))
    _insert(con, "surveys", pd.DataFrame({"survey_date": day[order], "cust": c[order], "score": score[order]}),
            {"customer_id": "'C' || lpad(CAST(cust + 1 AS VARCHAR), 5, '0')"})


# --------------------------------------------------------------------------- entry point


@access.requires("demo")
def build_demo(
    path: str | PathLike,
    scale: float = 1.0,
    seed: int = 42,
    as_of: date | None = None,
    progress: ProgressFn | None = None,
) -> dict:
    """Generate the demo company and write it to the DuckDB file at ``path``.

    ``scale`` multiplies customers and order lines (1 = ~125k lines, 80 = ~10
    million). ``as_of`` is the last day of history (default: the last day of the
    previous month). Same seed, scale and as_of give identical data. ``progress``
    is called as ``progress(fraction, message)`` at each stage.

    Returns a summary: as_of, seed, scale, row counts per table, seconds, and the
    story parameters (which family, region, work center, SKUs carry the stories).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    t0 = time.perf_counter()
    as_of = as_of or default_as_of()

    def report(f: float, msg: str) -> None:
        if progress is not None:
            progress(min(max(f, 0.0), 1.0), msg)

    report(0.0, "products, customers and demand model")
    cal = _calendar(as_of)
    prod = _products(seed)
    lines_real, units_exp = _demand(seed, prod, cal)
    cust = _customers(seed, scale)
    n_days = int(cal.ms(HIST_MONTHS + 3)) - cal.day0 + 120
    shipped = np.zeros((len(prod.df), n_days))
    stats = _OrderStats()
    rows: dict[str, int] = {}

    with db.writer(path, fresh=True, keep_settings=False) as con:  # a new company: nothing carried but the data version
        con.execute("SET enable_progress_bar = false")  # progress is reported through `progress`
        _insert(con, "products", prod.df)
        _insert(con, "customers", cust.df)
        for m in range(HIST_MONTHS):
            report(0.02 + 0.68 * m / HIST_MONTHS, f"orders and deliveries {m + 1}/{HIST_MONTHS}")
            _orders_month(con, m, seed, scale, cal, prod, cust, lines_real, shipped, stats)
        report(0.72, "production and inventory")
        wo = _production(con, seed, scale, cal, prod, units_exp, shipped)
        report(0.76, "capacity")
        peak_util = _capacity(con, cal, wo)
        report(0.78, "forecast snapshots")
        _forecasts(con, seed, scale, cal, prod, units_exp)
        report(0.80, "budget and surveys")
        _budget(con, scale, cal, prod, units_exp)
        _surveys(con, seed, cal, cust)
        db.set_meta(con, "as_of", as_of.isoformat())
        db.set_meta(con, "demo_seed", str(seed))
        db.set_meta(con, "demo_scale", str(scale))
        report(0.82, "fact tables")
        db.rebuild_facts(con)
        for name in CONTRACT:
            rows[name] = int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # constant names
        report(0.95, "writing the database file")
    seconds = round(time.perf_counter() - t0, 2)
    report(1.0, f"done in {seconds:.1f} s")
    return {
        "as_of": as_of.isoformat(),
        "seed": seed,
        "scale": scale,
        "rows": rows,
        "seconds": seconds,
        "stories": {
            "sales_overforecast_family": BIASED_FAMILY,
            "late_delivery_region": LATE_REGION,
            "overloaded_work_center": OVERLOADED_WC,
            "peak_utilisation": peak_util,
            "launch_sku": LAUNCH_SKU,
            "end_of_life_sku": EOL_SKU,
            "intermittent_skus": [s for s, i in zip(prod.skus, prod.intermittent) if i],
            "demand_classes": {str(c): int(n) for c, n in zip(*np.unique(prod.pattern.astype(str), return_counts=True))},
        },
    }


# --------------------------------------------------------------------------- first start: the story already under way

FACILITATOR = "Anna Berg"
SALES_LEAD = "Lars Holm (sales)"
PRODUCTION_LEAD = "Piotr Nowak (production)"
LOGISTICS_LEAD = "Maria Lind (logistics)"
PLANNER = "Sofia Ek (demand planning)"


def first_start_months(as_of: date) -> tuple[date, date, date]:
    """(this month's summit month, last month's summit month, last month's as-of date), all from the data.

    This month's summit reviews the last complete month on or before ``as_of``; last month's reviewed the month
    before and was held on the data of its last day. As of 2026-11-30: November, October, 2026-10-31.
    """
    from analytics import kpis

    this_month = kpis.last_complete_month(as_of)
    last_month = kpis.add_months(this_month, -1)
    return this_month, last_month, this_month - timedelta(days=1)


def _first_key(exceptions: pd.DataFrame, prefix: str) -> str | None:
    keys = [k for k in exceptions.get("exception_key", pd.Series(dtype=str)) if str(k).startswith(prefix)]
    return keys[0] if keys else None


def first_start(path: str | PathLike, progress: ProgressFn | None = None, executor=None) -> dict:
    """Bring a freshly built demo company to the state a new user should find it in: a current statistical
    forecast run, and last month's S&OP summit already held, with its decisions, open actions and pulse, so
    that this month's summit carries the open actions over (agenda step 1).

    Every date comes from the data's as-of date (meta ``as_of``), never the wall clock: the run is dated the
    as-of date, last month's summit reviews the month before the last complete one on the data of its last day
    (:func:`first_start_months`), and due dates are counted from those days. Each step goes through the
    product's own write functions (forecast run, start_summit, add_decision, update_action, record_pulse), so
    the audit log shows them like any other write. ``executor``: run the forecast on it (tests) instead of a
    process pool. Returns what was made.
    """
    from analytics import summit
    from analytics.forecasting import batch

    def report(f: float, msg: str) -> None:
        if progress is not None:
            progress(min(max(f, 0.0), 1.0), msg)

    reader = db.open_reader(path)
    try:
        as_of = date.fromisoformat(db.get_meta(reader, "as_of"))
    finally:
        reader.close()
    this_month, last_month, last_as_of = first_start_months(as_of)

    report(0.0, f"last month's summit ({last_month:%B %Y})")
    sid = summit.start_summit(path, last_month, f"{last_month:%B %Y} S&OP", FACILITATOR, as_of=last_as_of)
    reader = db.open_reader(path)
    try:
        exceptions = summit.load_summit(reader, sid).exceptions
    finally:
        reader.close()
    day = lambda n: last_as_of + timedelta(days=n)  # noqa: E731  (due dates: days after that summit's data)
    decided = [
        summit.add_decision(
            path, sid, f"Trim the {BIASED_FAMILY} consensus towards the statistical forecast: sales has "
            "over-forecast the family by about a quarter all year.", SALES_LEAD, None, kind="decision",
            source_exception=_first_key(exceptions, f"bias:{BIASED_FAMILY[:4].upper()}"), by=FACILITATOR),
        summit.add_decision(
            path, sid, f"Add a Saturday shift in {OVERLOADED_WC} from the start of the sofa peak until December.",
            PRODUCTION_LEAD, day(14), kind="action", by=FACILITATOR),
        summit.add_decision(
            path, sid, f"Find out why deliveries to the {LATE_REGION} region arrive late and in parts, and agree a "
            "fix with the carrier.", LOGISTICS_LEAD, day(45), kind="action",
            source_exception=_first_key(exceptions, "late:"), by=FACILITATOR),
        summit.add_decision(
            path, sid, f"Review the safety stock of the new product {LAUNCH_SKU} now that it has six months of "
            "orders.", PLANNER, day(10), kind="action", by=FACILITATOR),
    ]
    _, shift, south, launch = decided
    report(0.05, "actions followed up since")
    summit.update_action(path, south, "in progress", "Carrier meeting held; a new route for the South is being "
                         "priced.", by=LOGISTICS_LEAD)
    summit.update_action(path, launch, "done", "Safety stock raised from 40 to 65 units.", by=PLANNER)
    summit.record_pulse(path, sid, "sales", 6, "Better, but the Outdoor numbers still start from our optimism.",
                        by=SALES_LEAD)
    summit.record_pulse(path, sid, "production", 5, "We heard about the sofa peak late again.", by=PRODUCTION_LEAD)

    done = [0.0]

    def run_progress(f: float, msg: str) -> None:  # the run says 1.0 after its last series, 0.99 while writing
        done[0] = max(done[0], min(f, 0.99))
        report(0.1 + 0.9 * done[0], msg)

    run = batch.run_forecast(path, as_of=as_of, executor=executor, progress=run_progress)
    report(1.0, f"forecast run #{run.run_id} dated {as_of}; summit #{sid} held")
    return {
        "as_of": as_of.isoformat(),
        "forecast_run": {"run_id": run.run_id, "snapshot_date": run.snapshot_date.isoformat(),
                         "series": run.n_series, "failed": run.n_failed, "seconds": round(run.seconds, 1)},
        "last_summit": {"summit_id": sid, "month": last_month.isoformat(), "as_of": last_as_of.isoformat(),
                        "decisions": 1, "actions": 3, "open_actions": 2},
        "this_month": this_month.isoformat(),
    }
