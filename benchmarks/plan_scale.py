"""Time the optimised production plan at scale: 1,000 SKUs x 18 months on 5 work centers.

    python benchmarks/plan_scale.py                       # 1000 SKUs, 18 months, 5 work centers
    python benchmarks/plan_scale.py --skus 3000 --months 18 --db /tmp/demo1.duckdb
    python benchmarks/plan_scale.py --smoke               # 40 SKUs x 6 months, and the chain on a small demo (make test)

Synthetic inputs are built with the same PlanInputs dataclass the database reader fills: seasonal demand
(+-30%, a peak in the last quarter of each year), a first-month backlog, open work orders in the first two
months, safety stocks, and capacity at ~95% of the average load, so the peak months are capacity-bound and
the optimiser has to pre-build, use overtime or backorder. Prints the LP's size (variables, constraints,
non-zeros), the HiGHS solve time and the total time, and the chase / level plans and rough-cut capacity for
comparison. Target (issue "From forecast to production plan"): the optimised plan under 10 s.
With --db it also runs the whole chain once on a real database and prints each step's time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import planning as pl  # noqa: E402
from analytics.kpis import add_months  # noqa: E402


def synthetic_inputs(n_skus: int, n_months: int, n_wcs: int, capacity_factor: float = 0.95,
                     seed: int = 7) -> pl.PlanInputs:
    rng = np.random.default_rng(seed)
    first = date(2027, 1, 1)
    months = tuple(add_months(first, i) for i in range(n_months))
    skus = np.array([f"SKU-{i:05d}" for i in range(n_skus)], dtype=object)
    wcs = np.array([f"WC-{w}" for w in range(n_wcs)], dtype=object)
    wc_of = wcs[rng.integers(0, n_wcs, n_skus)]
    cost = rng.uniform(20, 400, n_skus).round(2)
    base = rng.gamma(2.0, 40.0, n_skus)
    hours = rng.uniform(0.2, 2.0, n_skus).round(2)
    products = pd.DataFrame({
        "sku": skus, "family": np.array([f"FAM-{i % 12:02d}" for i in range(n_skus)], dtype=object),
        "work_center": wc_of, "unit_cost": cost, "unit_price": (cost * rng.uniform(1.3, 2.2, n_skus)).round(2),
        "hours_per_unit": hours, "on_hand": (base * rng.uniform(0.5, 1.5, n_skus)).round(),
        "safety_stock": (base * rng.uniform(0.2, 0.6, n_skus)).round(1),
    })
    season = np.array([1 + 0.3 * np.sin(2 * np.pi * (m.month - 7) / 12) for m in months])
    fc = np.maximum(base[:, None] * season[None, :] * rng.lognormal(0, 0.25, (n_skus, n_months)), 0).round()
    backlog = np.zeros_like(fc)
    backlog[:, 0] = (base * rng.uniform(0.2, 0.6, n_skus)).round()
    periods = np.array([pd.Timestamp(m) for m in months], dtype="datetime64[us]")
    demand = pd.DataFrame({
        "sku": np.repeat(skus, n_months), "period": np.tile(periods, n_skus), "forecast": fc.ravel(),
        "backlog": backlog.ravel(), "demand_source": "consensus",
    })
    rec = np.zeros_like(fc)
    rec[:, :2] = (base[:, None] * rng.uniform(0.3, 0.8, (n_skus, 2))).round()
    receipts = pd.DataFrame({"sku": np.repeat(skus, n_months), "period": np.tile(periods, n_skus),
                             "open_receipts": rec.ravel()})
    load = pd.Series((fc + backlog).mean(axis=1) * hours).groupby(wc_of).sum()
    capacity = pd.DataFrame({
        "work_center": np.repeat(wcs, n_months), "period": np.tile(periods, n_wcs),
        "available_hours": np.repeat(load.reindex(wcs).fillna(0).to_numpy() * capacity_factor, n_months).round(),
        "capacity_source": "synthetic",
    })
    return pl.PlanInputs(date(2026, 12, 31), months, products, demand, receipts, capacity)


def timed(label: str, fn):
    t = time.perf_counter()
    out = fn()
    print(f"  {label:<34} {time.perf_counter() - t:8.3f} s", flush=True)
    return out


def synthetic(args) -> None:
    print(f"Synthetic plan: {args.skus:,} SKUs x {args.months} months on {args.wcs} work centers, capacity "
          f"{args.capacity_factor:.0%} of the average load")
    t = time.perf_counter()
    inputs = synthetic_inputs(args.skus, args.months, args.wcs, args.capacity_factor)
    print(f"  {'build inputs':<34} {time.perf_counter() - t:8.3f} s")
    settings = pl.PlanSettings()
    t = time.perf_counter()
    plan = pl.optimised_plan(inputs, settings)
    total = time.perf_counter() - t
    print(f"  LP size: {plan.lp_variables:,} variables, {plan.lp_constraints:,} constraints, "
          f"{plan.lp_nonzeros:,} non-zeros")
    print(f"  {'optimised: HiGHS solve':<34} {plan.solve_seconds:8.3f} s")
    print(f"  {'optimised: total (build+solve+eval)':<34} {total:8.3f} s   target < 10 s: "
          f"{'met' if total < 10 else 'MISSED'}")
    chase = timed("chase plan", lambda: pl.chase_plan(inputs, settings))
    level = timed("level plan", lambda: pl.level_plan(inputs, settings))
    load = timed("capacity_load (optimised)", lambda: pl.capacity_load(plan))
    timed("capacity_fixes (chase)", lambda: pl.capacity_fixes(chase))
    sku = f"SKU-{min(42, args.skus - 1):05d}"
    timed("available_to_promise", lambda: pl.available_to_promise(inputs, plan, sku, 500, date(2027, 3, 15)))
    print("  costs (production / overtime / holding / backorder / shortfall penalty):")
    for p in (chase, level, plan):
        print(f"    {p.strategy:<10} {p.production_cost:>14,.0f} {p.overtime_cost:>11,.0f} {p.holding_cost:>11,.0f} "
              f"{p.backorder_cost:>11,.0f} {p.shortfall_cost:>11,.0f}   total {p.total_cost:>14,.0f}")
    print(f"  optimised: {int(load['overloaded'].sum())} overloaded work-center months (covered by "
          f"{plan.capacity['overtime_hours'].sum():,.0f} planned overtime hours)")


def real(path: str, horizon: int) -> None:
    from analytics import db, kpis

    print(f"\nReal data: {path}, horizon {horizon} months")
    t0 = time.perf_counter()
    con = db.open_reader(path)
    as_of = kpis.default_as_of(con)
    classes = timed("abc_xyz", lambda: pl.abc_xyz(con, as_of))
    ss = timed("safety_stock", lambda: pl.safety_stock(con, as_of))
    inputs = timed("plan_inputs (reusing safety stock)", lambda: pl.plan_inputs(con, as_of, horizon, safety_stocks=ss))
    plans = {s: timed(f"{s} plan", lambda s=s: pl.make_plan(inputs, s)) for s in ("chase", "level", "optimised")}
    opt = plans["optimised"]
    load = timed("capacity_load", lambda: pl.capacity_load(opt, con))
    timed("capacity_fixes (chase)", lambda: pl.capacity_fixes(plans["chase"]))
    sku = inputs.products["sku"].iloc[0]
    atp = timed("available_to_promise", lambda: pl.available_to_promise(
        con, opt, sku, 200, add_months(inputs.months[0], 1)))
    timed("export_plan_excel", lambda: pl.export_plan_excel(opt))
    con.close()
    print(f"  {'total':<34} {time.perf_counter() - t0:8.3f} s")
    print(f"  as of {as_of}: {len(classes)} SKUs, ABC {classes['abc'].value_counts().to_dict()}, "
          f"safety stock worth {ss['money_tied_up'].sum():,.0f}")
    print(f"  LP size: {opt.lp_variables:,} variables, {opt.lp_constraints:,} constraints, {opt.lp_nonzeros:,} "
          f"non-zeros; solve {opt.solve_seconds:.3f} s")
    for p in plans.values():
        print(f"    {p.strategy:<10} total cost {p.total_cost:>14,.0f}  overtime h {p.capacity['overtime_hours'].sum():>9,.0f}"
              f"  backorder sku-months {int((p.lines['projected_inventory'] < -1e-6).sum()):>4}")
    print(f"  optimised: {int(load['overloaded'].sum())} overloaded work-center months; ATP {sku}: {atp['message']}")
    for n in inputs.notes:
        print(f"  note: {n}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=1000)
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--wcs", type=int, default=5)
    ap.add_argument("--capacity-factor", type=float, default=0.95, help="available hours / average load")
    ap.add_argument("--db", help="also run the whole chain on this database")
    ap.add_argument("--horizon", type=int, default=18)
    ap.add_argument("--smoke", action="store_true",
                    help="40 SKUs x 6 months on 2 work centers, then the chain on a small demo (scale 0.05)")
    args = ap.parse_args(argv)
    if args.smoke:
        from analytics import access, demo

        args.skus, args.months, args.wcs, args.horizon = 40, 6, 2, 6
        synthetic(args)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "plan_smoke.duckdb"
            demo.build_demo(path, scale=0.05, seed=42, as_of=date(2026, 10, 31), user=access.SYSTEM)
            real(str(path), args.horizon)
        return 0
    synthetic(args)
    if args.db:
        real(args.db, args.horizon)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
