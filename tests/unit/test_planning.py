"""Planning (analytics/planning): safety stock, ABC/XYZ, plan inputs, chase / level / optimised plans,
rough-cut capacity, available-to-promise, saved versions. Every expected value is worked by hand in the
comments; hand-made PlanInputs keep the plan tests independent of the database.
"""

from __future__ import annotations

import io
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import db
from analytics import planning as pl
from analytics.kpis import add_months
from analytics.planning.inputs import phase
from tests.conftest import TINY_ROWS, write_rows

JAN, FEB, MAR = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)


def make_inputs(products: list[dict], demand: dict, capacity: dict, receipts: dict | None = None,
                months=(JAN, FEB, MAR)) -> pl.PlanInputs:
    """products: dicts (sku, family, work_center, unit_cost, unit_price, hours_per_unit, on_hand, safety_stock);
    demand: sku -> (forecast per month, backlog per month); capacity: work center -> hours per month;
    receipts: sku -> open receipts per month."""
    periods = [pd.Timestamp(m) for m in months]
    dem = [
        {"sku": s, "period": p, "forecast": f, "backlog": b, "demand_source": "consensus"}
        for s, (fc, bl) in demand.items() for p, f, b in zip(periods, fc, bl)
    ]
    rec = [{"sku": s, "period": p, "open_receipts": q} for s, qs in (receipts or {}).items() for p, q in zip(periods, qs)]
    cap = [{"work_center": w, "period": p, "available_hours": h} for w, hs in capacity.items() for p, h in zip(periods, hs)]
    return pl.PlanInputs(
        as_of=date(2026, 12, 31), months=tuple(months), products=pd.DataFrame(products), demand=pd.DataFrame(dem),
        receipts=pd.DataFrame(rec, columns=["sku", "period", "open_receipts"]), capacity=pd.DataFrame(cap),
    )


def product(sku, cost, price, hours, on_hand=0.0, ss=0.0, family="F1", wc="W1") -> dict:
    return {"sku": sku, "family": family, "work_center": wc, "unit_cost": cost, "unit_price": price,
            "hours_per_unit": hours, "on_hand": on_hand, "safety_stock": ss}


def sku_col(plan: pl.Plan, sku: str, col: str) -> list[float]:
    return plan.lines[plan.lines["sku"] == sku].sort_values("period")[col].round(6).tolist()


# --------------------------------------------------------------------------- safety stock: the formula


def test_safety_stock_units_for_a_given_sigma_and_z():
    # z(95%) = 1.6449; 1.6449 x sigma 10 x sqrt(1 month) = 16.45
    assert pl.z_value(0.95) == pytest.approx(1.644854, abs=1e-6)
    assert pl.safety_stock_units(10, 0.95, 1.0) == pytest.approx(16.4485, abs=1e-4)
    # a quarter of a month: x sqrt(0.25) = x 0.5 -> 8.22
    assert pl.safety_stock_units(10, 0.95, 0.25) == pytest.approx(8.2243, abs=1e-4)
    with pytest.raises(pl.PlanningError, match="between 0 and 1"):
        pl.z_value(1.2)
    with pytest.raises(pl.PlanningError, match="service level"):
        pl.PolicySettings(service_by_family=(("F1", 95),))  # 95 instead of 0.95


def test_abc_on_a_hand_example():
    # revenue 500 / 300 / 100 / 60 / 40 of 1000; cumulative share including the SKU:
    # P1 0.50 A, P2 0.80 A (within 80%), P3 0.90 B, P4 0.96 C (beyond 95%), P5 1.00 C; P6 no revenue: C
    rev = pd.Series({"P3": 100.0, "P1": 500.0, "P5": 40.0, "P2": 300.0, "P4": 60.0, "P6": 0.0})
    assert pl.policy.abc_class(rev).to_dict() == {"P3": "B", "P1": "A", "P5": "C", "P2": "A", "P4": "C", "P6": "C"}
    # one SKU with 90% of revenue is still A (the top SKU always is)
    assert pl.policy.abc_class(pd.Series({"X": 90.0, "Y": 10.0})).to_dict() == {"X": "A", "Y": "C"}
    # XYZ: X below 0.5, Y below 1.0, Z from 1.0 (and without demand)
    cv = pd.Series([0.3, 0.5, 0.99, 1.0, np.inf])
    assert pl.policy.xyz_class(cv).tolist() == ["X", "Y", "Y", "Z", "Z"]


# The policy company (TINY products: A F1 cost 10 price 20; B F1 cost 5 price 8; C F2 cost 2 price 5),
# as of 2026-06-30: the last 12 complete months are 2025-07 .. 2026-06.
POLICY_AS_OF = date(2026, 6, 30)
MONTHS_12 = [add_months(date(2025, 7, 1), i) for i in range(12)]
A_QTY = [10] * 8 + [12, 8, 14, 6]          # sum 120, mean 10, sample std 1.907 -> CV 0.19 -> X
B_QTY = [5, 15, 5, 15, 5, 15, 5, 15, 5, 5, 7, 3]  # sum 100, mean 8.333, sample std 4.997 -> CV 0.60 -> Y
C_QTY = [0, 30, 0, 0, 0, 30] + [0] * 6     # sum 60, mean 5, sample std 11.677 -> CV 2.34 -> Z


def _policy_rows() -> dict:
    orders = []
    for sku, qtys in (("A", A_QTY), ("B", B_QTY), ("C", C_QTY)):
        for m, q in zip(MONTHS_12, qtys):
            if q:
                orders.append((f"{sku}{m:%y%m}", 1, "C1", sku, m.replace(day=10).isoformat(), None, None, q, None))
    fc = []
    for snap, period in (("2026-02-28", "2026-03-01"), ("2026-03-31", "2026-04-01"),
                         ("2026-04-30", "2026-05-01"), ("2026-05-31", "2026-06-01")):
        fc.append((snap, "A", period, "consensus", 10))   # A - F: +2, -2, +4, -4
        fc.append((snap, "B", period, "statistical", 5))  # B - F: 0, 0, +2, -2
    return {
        "products": TINY_ROWS["products"], "customers": TINY_ROWS["customers"], "orders": orders, "forecasts": fc,
        # wo, sku, wc, planned_start, planned_end, actual_start, actual_end, planned, produced, scrap
        "production": [
            ("P1", "A", "W1", "2026-03-02", "2026-03-06", "2026-03-02", "2026-03-06", 10, 10, 0),  # 4 days
            ("P2", "A", "W1", "2026-04-01", "2026-04-09", "2026-04-01", "2026-04-09", 10, 10, 0),  # 8 days
            ("P3", "A", "W1", "2026-05-01", "2026-05-07", "2026-05-01", "2026-05-07", 10, 10, 0),  # 6 days
            ("P4", "A", "W1", "2026-06-01", "2026-07-10", "2026-06-01", "2026-07-10", 10, 10, 0),  # after as-of
            ("P5", "B", "W1", "2026-03-01", "2026-03-16", "2026-03-01", "2026-03-16", 10, 10, 0),  # 15 days
            ("P6", "B", "W1", "2026-04-01", "2026-04-26", "2026-04-01", "2026-04-26", 10, 10, 0),  # 25 days
        ],
        # forecast_runs: run_id, started_at, snapshot_date, horizon, n_series, n_failed, seconds, executor, notes
        "forecast_runs": [
            (1, "2026-06-30 12:00:00", "2026-06-30", 12, 3, 0, 1.0, "local", "{}"),
            (2, "2026-07-31 12:00:00", "2026-07-31", 12, 3, 0, 1.0, "local", "{}"),  # after as-of: ignored
        ],
        # run_id, unique_id, model, wmape, mase, smape, bias, chosen, notes, class, reason, error_sigma_lag1
        "forecast_leaderboard": [
            (1, "C", "ets", 0.5, 1.0, 0.5, 0.0, True, "", "lumpy", "best", 7.0),
            (1, "C", "naive", 0.9, 1.2, 0.9, 0.0, False, "", "lumpy", "", 99.0),
            (2, "C", "ets", 0.5, 1.0, 0.5, 0.0, True, "", "lumpy", "best", 50.0),
        ],
    }


@pytest.fixture(scope="module")
def policy_con(tmp_path_factory):
    path = tmp_path_factory.mktemp("policy") / "policy.duckdb"
    write_rows(path, _policy_rows())
    con = db.open_reader(path)
    yield con
    con.close()


def test_abc_xyz_from_the_database(policy_con):
    df = pl.abc_xyz(policy_con, POLICY_AS_OF).set_index("sku")
    # revenue: A 120 x 20 = 2400, B 100 x 8 = 800, C 60 x 5 = 300; total 3500
    # cumulative share: A 0.686 -> A, B 0.914 -> B, C 1.0 -> C
    assert df["revenue"].to_dict() == {"A": 2400.0, "B": 800.0, "C": 300.0}
    assert df["cumulative_share"].round(4).to_dict() == {"A": 0.6857, "B": 0.9143, "C": 1.0}
    assert df["abc_xyz"].to_dict() == {"A": "AX", "B": "BY", "C": "CZ"}
    assert df["cv"].round(4).to_dict() == {"A": 0.1907, "B": 0.5996, "C": 2.3355}
    assert (df["months"] == 12).all()


def test_safety_stock_per_sku_with_its_sources(policy_con):
    df = pl.safety_stock(policy_con, POLICY_AS_OF).set_index("sku")
    # sigma: A from the consensus: errors +2, -2, +4, -4 over the 4 months with a lag-1 snapshot -> sqrt(40/3) = 3.6515
    #        B has no consensus forecast -> statistical: 0, 0, +2, -2 -> sqrt(8/3) = 1.6330
    #        C has no forecast -> the backtest of run 1 (run 2 is after the as-of date), chosen model: 7.0
    assert df.at["A", "sigma"] == pytest.approx(3.651484, abs=1e-6)
    assert df.at["B", "sigma"] == pytest.approx(1.632993, abs=1e-6)
    assert df.at["C", "sigma"] == 7.0
    assert df.at["A", "sigma_source"] == "consensus lag-1 error (4 months)"
    assert df.at["B", "sigma_source"] == "statistical lag-1 error (4 months)"
    assert df.at["C", "sigma_source"] == "backtest of forecast run 1 (ets)"
    # lead time: A median of 4, 8, 6 days = 6 days = 0.197 months -> the 0.25 minimum (the WO ending after the
    # as-of date is not counted); B median of 15, 25 = 20 days = 20 / 30.4375 = 0.6571 months;
    # C has no work orders and W2 none either -> median of all: 4, 6, 8, 15, 25 -> 8 days = 0.2628 months
    assert df["lead_time_months"].round(4).to_dict() == {"A": 0.25, "B": 0.6571, "C": 0.2628}
    assert "minimum" in df.at["A", "lead_time_source"] and "all work orders" in df.at["C", "lead_time_source"]
    # service level by class: A 98% (z 2.0537), B 95% (1.6449), C 90% (1.2816)
    # SS A = 2.0537 x 3.6515 x sqrt(0.25) = 3.7496; ROP = 10/month x 0.25 + 3.7496 = 6.2496; money = x 10 = 37.50
    # SS B = 1.6449 x 1.6330 x sqrt(0.6571) = 2.1773; ROP = 8.333 x 0.6571 + 2.1773 = 7.6530
    # SS C = 1.2816 x 7 x sqrt(0.2628) = 4.5991; ROP = 5 x 0.2628 + 4.5991 = 5.9133
    assert df["safety_stock"].round(4).to_dict() == {"A": 3.7496, "B": 2.1773, "C": 4.5991}
    assert df["reorder_point"].round(4).to_dict() == {"A": 6.2496, "B": 7.6530, "C": 5.9133}
    assert df.at["A", "money_tied_up"] == pytest.approx(37.496, abs=1e-3)
    assert df.at["A", "formula"].startswith("SS = z(98.0%) 2.054 x sigma 3.65 x sqrt(LT 0.25 months) = 3.75")
    # a family override wins over the class; a lead-time setting wins over history
    df2 = pl.safety_stock(policy_con, POLICY_AS_OF, pl.PolicySettings(
        service_by_family=(("F2", 0.95),), lead_time_months=1.0)).set_index("sku")
    assert df2.at["C", "service_level"] == 0.95 and df2.at["C", "service_level_source"] == "family F2"
    assert df2.at["C", "safety_stock"] == pytest.approx(1.644854 * 7.0, abs=1e-5)  # x sqrt(1)
    assert df2.at["A", "lead_time_source"] == "setting"


# --------------------------------------------------------------------------- plan inputs from the database


def test_plan_inputs_from_the_tiny_company(tiny_con):
    inputs = pl.plan_inputs(tiny_con, date(2026, 3, 31), horizon=3, phase_forecast=False)
    assert inputs.months == (date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1))
    d = inputs.demand.set_index(["sku", "period"])
    apr = pd.Timestamp("2026-04-01")
    # A: latest consensus snapshot 2026-02-25 forecasts April 9; open line O4 (3, promised 04-05) -> April
    assert d.loc[("A", apr), ["forecast", "backlog", "demand_source"]].tolist() == [9.0, 3.0, "consensus"]
    # C: O3 (4 units, promised 03-30, before the plan) counts in the first month; no forecast -> 'none'
    assert d.loc[("C", apr), ["forecast", "backlog", "demand_source"]].tolist() == [0.0, 4.0, "none"]
    assert d["backlog"].sum() == 7.0  # O1/O2 lines are delivered in full
    p = inputs.products.set_index("sku")
    assert p["on_hand"].to_dict() == {"A": 10.0, "B": 0.0, "C": 40.0}  # the 2026-03-15 snapshot
    # open work order W3 (C, 40 planned, none produced, planned_end 03-31, overdue) arrives in April
    assert inputs.receipts.to_dict("records") == [{"sku": "C", "period": apr, "open_receipts": 40.0}]
    cap = inputs.capacity.set_index(["work_center", "period"])
    assert cap.loc[("W1", apr), "available_hours"] == 100.0
    assert cap.loc[("W2", pd.Timestamp("2026-06-01")), "capacity_source"] == "carried forward from 2026-03"

    # phased: of the orders of the last 12 months 35 units were due the month they were ordered and 7 the
    # month after (O3, O4) -> shares 5/6, 1/6: A's April forecast 9 is due 7.5 in April and 1.5 in May
    phased = pl.plan_inputs(tiny_con, date(2026, 3, 31), horizon=3).demand.set_index(["sku", "period"])
    assert phased.loc[("A", apr), "forecast"] == pytest.approx(7.5)
    assert phased.loc[("A", pd.Timestamp("2026-05-01")), "forecast"] == pytest.approx(1.5)
    assert phased.loc[("A", apr), "forecast_ordered"] == 9.0
    assert phase(np.array([[9.0, 0.0, 0.0]]), np.array([5 / 6, 1 / 6])).round(6).tolist() == [[7.5, 1.5, 0.0]]
    with pytest.raises(pl.PlanningError, match="horizon"):
        pl.plan_inputs(tiny_con, date(2026, 3, 31), horizon=0)


# --------------------------------------------------------------------------- chase and level


def chase_level_inputs() -> pl.PlanInputs:
    # A: on hand 10, safety stock 5, forecast 5/6/12 + backlog 3/0/0 -> demand 8/6/12, open WO 4 in February
    # B: on hand 50, no safety stock, demand 10/10/10 (same family F1)
    return make_inputs(
        [product("A", 10, 20, 0.5, on_hand=10, ss=5), product("B", 5, 8, 1.0, on_hand=50)],
        {"A": ([5, 6, 12], [3, 0, 0]), "B": ([10, 10, 10], [0, 0, 0])},
        {"W1": [100, 100, 100]}, receipts={"A": [0, 4, 0]},
    )


def test_projected_inventory_month_by_month():
    # previous + open receipts + production - demand: 10 + 0 + 3 - 8 = 5; 5 + 4 + 2 - 6 = 5; 5 + 0 + 12 - 12 = 5
    inv = pl.project(np.array([10.0]), np.array([[0, 4, 0]]), np.array([[3, 2, 12]]), np.array([[8, 6, 12]]))
    assert inv.tolist() == [[5.0, 5.0, 5.0]]


def test_chase_plan():
    plan = pl.chase_plan(chase_level_inputs(), pl.PlanSettings())
    # A: Jan max(0, 5 + 8 - 0 - 10) = 3; Feb 5 + 6 - 4 - 5 = 2; Mar 5 + 12 - 0 - 5 = 12 -> stock 5, 5, 5
    assert sku_col(plan, "A", "production") == [3, 2, 12]
    assert sku_col(plan, "A", "projected_inventory") == [5, 5, 5]
    assert sku_col(plan, "A", "demand") == [8, 6, 12]
    assert sku_col(plan, "A", "shortfall") == [0, 0, 0]
    # days of supply: 5 / (next month's demand per day): Jan 5 / (6 / 28) = 23.33; Feb 5 / (12 / 31) = 12.92;
    # March (last month) uses its own demand: 12.92
    assert sku_col(plan, "A", "days_of_supply") == pytest.approx([23.333333, 12.916667, 12.916667])
    # B covers its demand from stock: 40, 30, 20, no production
    assert sku_col(plan, "B", "production") == [0, 0, 0]
    assert sku_col(plan, "B", "projected_inventory") == [40, 30, 20]
    assert sku_col(plan, "A", "load_hours") == [1.5, 1.0, 6.0]  # x 0.5 h
    # costs: production 17 x 10 = 170; holding A 15 unit-months x 0.2 + B 90 x 0.1 = 3 + 9 = 12
    assert plan.production_cost == pytest.approx(170.0)
    assert plan.holding_cost == pytest.approx(12.0)
    assert plan.backorder_cost == 0 and plan.overtime_cost == 0


def test_level_plan():
    plan = pl.level_plan(chase_level_inputs(), pl.PlanSettings())
    # A's need: demand 26 + safety stock 5 - on hand 10 - receipts 4 = 17 -> 17 / 3 = 5.6667 a month
    # stock: 10 + 5.6667 - 8 = 7.6667; + 4 + 5.6667 - 6 = 11.3333; + 5.6667 - 12 = 5 (the safety stock)
    assert sku_col(plan, "A", "production") == pytest.approx([5.666667] * 3)
    assert sku_col(plan, "A", "projected_inventory") == pytest.approx([7.666667, 11.333333, 5.0])
    # B needs nothing (30 - 50 < 0): no production; the family rate is A's 5.67 a month
    assert sku_col(plan, "B", "production") == [0, 0, 0]
    fam = pl.plan_rollup(plan, "family")
    assert fam["production"].round(4).tolist() == [5.6667] * 3
    assert "F1 5.7" in plan.notes[-1]


# --------------------------------------------------------------------------- the optimiser


def lp_inputs() -> pl.PlanInputs:
    # one work center, 10 hours a month; X and Y take 1 hour each; no stock, no safety stock
    # demand X 2/4/12, Y 3/3/6 -> load 5, 7, 18: March needs 8 hours more than it has, Jan and Feb have
    # 5 + 3 spare hours: exactly enough when the 8 units are made early
    return make_inputs(
        [product("X", 10, 20, 1.0), product("Y", 50, 60, 1.0)],
        {"X": ([2, 4, 12], [0, 0, 0]), "Y": ([3, 3, 6], [0, 0, 0])},
        {"W1": [10, 10, 10]},
    )


def test_optimised_plan_prebuilds_for_a_capacity_bound_month():
    settings = pl.PlanSettings(holding_rate=0.02, overtime_share=0.0)
    plan = pl.optimised_plan(lp_inputs(), settings)
    # Hand solution. Holding per unit-month: X 2% x 10 = 0.2, Y 2% x 50 = 1.0, so the 8 missing March hours
    # are made as X early: 3 in February (1 month early, 0.6) and 5 in January (2 months, 2.0). Backordering
    # instead costs 25% x price per month plus the production still owed at the horizon end: far more.
    # X: production 2+5 = 7, 4+3 = 7, 12-8 = 4; stock 5, 8, 0.  Y: as demanded 3, 3, 6.
    assert sku_col(plan, "X", "production") == pytest.approx([7, 7, 4], abs=1e-6)
    assert sku_col(plan, "X", "projected_inventory") == pytest.approx([5, 8, 0], abs=1e-6)
    assert sku_col(plan, "Y", "production") == pytest.approx([3, 3, 6], abs=1e-6)
    assert plan.holding_cost == pytest.approx(2.6, abs=1e-6)  # 13 unit-months x 0.2
    assert plan.production_cost == pytest.approx(18 * 10 + 12 * 50)  # 780
    assert plan.capacity["load_hours"].tolist() == pytest.approx([10, 10, 10])
    # LP size: 4 variables per sku-month (P, I, B, U) x 6 + 3 overtime = 27; 6 balance rows + 3 capacity rows
    # (no safety-stock rows); non-zeros: balance 3 x 6 + 2 x 4 = 26, capacity 6 + 3 = 35
    assert (plan.lp_variables, plan.lp_constraints, plan.lp_nonzeros) == (27, 9, 35)

    # Overtime at 0.1 per hour is cheaper than any pre-build (0.2 per unit-month): 8 overtime hours in March
    cheap = pl.optimised_plan(lp_inputs(), pl.PlanSettings(overtime_share=1.0, overtime_cost_per_hour=0.1))
    assert sku_col(cheap, "X", "production") == pytest.approx([2, 4, 12], abs=1e-6)
    assert cheap.capacity["overtime_hours"].tolist() == pytest.approx([0, 0, 8], abs=1e-6)
    assert cheap.overtime_cost == pytest.approx(0.8, abs=1e-6)

    # At 0.3 per hour: a February pre-build (0.2) beats overtime, a January one (0.4) does not:
    # 3 X made in February, 5 overtime hours in March: X = 2, 7, 9; cost 0.6 + 1.5
    mixed = pl.optimised_plan(lp_inputs(), pl.PlanSettings(overtime_share=1.0, overtime_cost_per_hour=0.3))
    assert sku_col(mixed, "X", "production") == pytest.approx([2, 7, 9], abs=1e-6)
    assert mixed.capacity["overtime_hours"].tolist() == pytest.approx([0, 0, 5], abs=1e-6)
    assert mixed.holding_cost + mixed.overtime_cost == pytest.approx(2.1, abs=1e-6)


def test_optimised_plan_holds_safety_stock_when_capacity_allows():
    # ample capacity: the least-cost plan is the chase plan (each month ends at the safety stock)
    inputs = chase_level_inputs()
    lp, chase = pl.optimised_plan(inputs), pl.chase_plan(inputs)
    assert sku_col(lp, "A", "production") == pytest.approx(sku_col(chase, "A", "production"), abs=1e-6)
    assert sku_col(lp, "A", "projected_inventory") == pytest.approx([5, 5, 5], abs=1e-6)


def test_impossible_settings_give_a_clear_planning_error():
    inputs = make_inputs([product("X", 10, 20, 1.0)], {"X": ([5, 5, 5], [0, 0, 0])}, {"W1": [0, 0, 0]})
    with pytest.raises(pl.PlanningError, match=r"without backorders: by 2027-01 work center W1 needs at least 5.0 hours"):
        pl.optimised_plan(inputs, pl.PlanSettings(allow_backorders=False))
    # with backorders allowed the same case has a plan: nothing can be made, everything is backordered
    plan = pl.optimised_plan(inputs, pl.PlanSettings())
    assert sku_col(plan, "X", "projected_inventory") == pytest.approx([-5, -10, -15], abs=1e-6)
    with pytest.raises(pl.PlanningError, match="holding rate must be zero or positive"):
        pl.PlanSettings(holding_rate=-0.02)
    with pytest.raises(pl.PlanningError, match="overtime cost per hour"):
        pl.PlanSettings(overtime_cost_per_hour=-5)
    with pytest.raises(pl.PlanningError, match="hours_per_unit of SKU 'X'"):
        pl.chase_plan(make_inputs([product("X", 10, 20, -1.0)], {"X": ([1, 1, 1], [0, 0, 0])}, {"W1": [9, 9, 9]}))


# --------------------------------------------------------------------------- rough-cut capacity


def test_capacity_load_and_fixes():
    settings = pl.PlanSettings(overtime_cost_per_hour=40.0)
    plan = pl.chase_plan(lp_inputs(), settings)  # chase ignores capacity: loads 5, 7, 18 against 10
    load = pl.capacity_load(plan)
    assert load["load_hours"].tolist() == [5, 7, 18]
    assert load["overloaded"].tolist() == [False, False, True]
    assert load["utilisation"].tolist() == pytest.approx([0.5, 0.7, 1.8])
    assert load.loc[2, "top_contributors"] == "X 12.0 h (67%), Y 6.0 h (33%)"
    assert bool(load.loc[2, "beyond_overtime"])  # 8 h over, 15% of 10 = 1.5 h allowed
    fixes = pl.capacity_fixes(plan, load).set_index("fix")
    # pull forward (as the optimiser did): 3 X into February (0.6) and 5 X into January (2 x 1.0) = 2.6
    assert fixes.at["pull forward", "hours"] == pytest.approx(8.0)
    assert fixes.at["pull forward", "cost"] == pytest.approx(2.6)
    # overtime: only 1.5 h allowed, at 40/h = 60, 6.5 h left over; capacity change: 8 h x 0.8 x 40 = 256
    assert fixes.at["overtime", "hours"] == pytest.approx(1.5)
    assert fixes.at["overtime", "cost"] == pytest.approx(60.0)
    assert fixes.at["overtime", "remaining_hours"] == pytest.approx(6.5)
    assert fixes.at["capacity change", "cost"] == pytest.approx(256.0)


def test_pull_forward_moves_whole_units():
    # X takes 1.5 h a unit, 10 h a month; demand 2 / 2 / 10 -> load 3, 3, 15: March 5 h over. 5 / 1.5 = 3.33
    # units (it was offered as '3.3 X'); whole units: 4 X (6 h) into February, which has 7 h spare.
    inputs = make_inputs([product("X", 10, 20, 1.5)], {"X": ([2, 2, 10], [0, 0, 0])}, {"W1": [10, 10, 10]})
    plan = pl.chase_plan(inputs, pl.PlanSettings())
    fixes = pl.capacity_fixes(plan).set_index("fix")
    assert fixes.at["pull forward", "units"] == 4 and fixes.at["pull forward", "hours"] == pytest.approx(6.0)
    assert fixes.at["pull forward", "covers_hours"] == pytest.approx(5.0)
    assert fixes.at["pull forward", "remaining_hours"] == 0
    assert "make 4 X to 2027-02" in fixes.at["pull forward", "detail"]


# --------------------------------------------------------------------------- available to promise


def atp_plan() -> pl.Plan:
    # A (on hand 10): demand 6, 3, 6 (January includes 2 backlog), planned production 0, 0, 10
    # B fills W1's 10 hours in January and February; overtime up to 50% = 5 h at 30/h
    inputs = make_inputs(
        [product("A", 10, 20, 1.0, on_hand=10), product("B", 5, 8, 1.0)],
        {"A": ([4, 3, 6], [2, 0, 0]), "B": ([10, 10, 0], [0, 0, 0])}, {"W1": [10, 10, 10]},
    )
    production = pd.DataFrame({"sku": ["A"] * 3 + ["B"] * 3, "period": [pd.Timestamp(m) for m in (JAN, FEB, MAR)] * 2,
                               "production": [0, 0, 10, 10, 10, 0]})
    return pl.evaluate_plan(inputs, production, pl.PlanSettings(overtime_share=0.5, overtime_cost_per_hour=30.0))


def test_available_to_promise_on_a_hand_made_plan():
    plan = atp_plan()
    # A's projected stock: 10 - 6 = 4; 4 - 3 = 1; 1 + 10 - 6 = 5. Cumulative ATP with look-ahead = the
    # smallest later stock: Jan min(4, 1, 5) = 1, Feb 1, Mar 5.
    res = pl.available_to_promise(None, plan, "A", 5, date(2027, 2, 14), price=45.0)
    assert res["atp_by_month"]["atp"].tolist() == [1, 1, 5]
    assert not res["available"]
    assert res["qty_on_requested_date"] == 1.0
    assert res["earliest_full_date"] == date(2027, 3, 31)  # March has 5; sure by its last day
    # CTP for the missing 4: February has no spare hours (B uses all 10), so 4 overtime hours x 30 = 120;
    # pulling 4 of March's planned 10 into February takes the same 4 overtime hours, and March still ends at
    # 0 + 6 - 6 = 0 (the look-ahead holds). Equal cost: pulling forward is preferred (no extra units).
    opts = {o["option"]: o for o in res["ctp_options"]}
    assert opts["extra production"]["overtime_hours"] == pytest.approx(4.0)
    assert opts["extra production"]["cost"] == pytest.approx(120.0)
    assert opts["pull forward"]["feasible"] and opts["pull forward"]["cost"] == pytest.approx(120.0)
    assert res["ctp_best"]["option"] == "pull forward"
    # margin at 45: 5 x (45 - 10) = 175, after expediting 55: profitable on its own
    assert (res["margin_before_expediting"], res["margin_after_expediting"]) == (175.0, 55.0)
    assert not res["profitable_only_if_production_absorbs_expediting"]
    # at 30: 5 x 20 = 100 before, -20 after: profitable only if production absorbs the expediting
    cheap = pl.available_to_promise(None, plan, "A", 5, date(2027, 2, 14), price=30.0)
    assert cheap["margin_after_expediting"] == -20.0
    assert cheap["profitable_only_if_production_absorbs_expediting"]
    # consuming forecast (only the 2 backlog units are committed): 10 - 2 = 8 is free in February
    assert pl.available_to_promise(None, plan, "A", 5, date(2027, 2, 14), consume_forecast=True)["available"]
    # 1 unit is there on the requested date; 20 units never are within the horizon
    assert pl.available_to_promise(None, plan, "A", 1, date(2027, 2, 14))["available"]
    big = pl.available_to_promise(None, plan, "A", 20, date(2027, 2, 14))
    assert big["earliest_full_date"] is None and big["ctp_best"] is None  # 5 + 5 overtime h: not 19
    with pytest.raises(pl.PlanningError, match="Unknown SKU"):
        pl.available_to_promise(None, plan, "NOPE", 1, date(2027, 2, 14))


# --------------------------------------------------------------------------- versions and downloads


def test_save_list_load_and_export(tiny_db):
    con = db.open_reader(tiny_db)
    plan = pl.optimised_plan(pl.plan_inputs(con, date(2026, 3, 31), horizon=3))
    con.close()
    first = pl.save_plan(tiny_db, plan, "Base", "anna")
    second = pl.save_plan(tiny_db, plan, "Base", "anna")
    with pytest.raises(pl.PlanningError, match="name"):
        pl.save_plan(tiny_db, plan, "  ", "anna")
    write_rows(tiny_db, TINY_ROWS)  # a replace-all import keeps the saved plans
    con = db.open_reader(tiny_db)
    try:
        plans = pl.list_plans(con)
        assert plans["plan_id"].tolist() == [second, first] and plans["version"].tolist() == [2, 1]
        assert plans.loc[0, "total_cost"] == pytest.approx(plan.total_cost)
        back = pl.load_plan(con, "Base")
        assert back.strategy == "optimised" and back.months == plan.months
        pd.testing.assert_frame_equal(back.lines, plan.lines, check_dtype=False)
        assert pl.load_plan(con, first).settings == plan.settings
        with pytest.raises(pl.PlanningError, match="No saved plan"):
            pl.load_plan(con, "nope")
    finally:
        con.close()
    xlsx = pl.export_plan_excel(back)
    assert xlsx[:2] == b"PK"
    assert set(pd.read_excel(io.BytesIO(xlsx), sheet_name=None)) == {
        "Summary", "Plan", "By family", "By work center", "Capacity"}
    csv = pl.export_plan_csv(back).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("sku,family,work_center,period,forecast,backlog,demand")
    assert math.isclose(len(csv.splitlines()) - 1, len(plan.lines))


def test_days_of_supply_without_demand_reads_no_demand():
    # B: 50 on hand; forecast 0.002, 0.001, 0 a month (a sparse SKU's statistical forecast): below 0.5 units a
    # month is no demand, so no days of supply (50 / (0.001 / 28) would be 1,400,000 days).
    # A: demand 8, 6, 12 as in test_chase_plan -> Jan 5 / (6 / 28) = 23.3.
    inputs = make_inputs(
        [product("A", 10, 20, 0.5, on_hand=10, ss=5), product("B", 5, 8, 1.0, on_hand=50)],
        {"A": ([5, 6, 12], [3, 0, 0]), "B": ([0.002, 0.001, 0], [0, 0, 0])},
        {"W1": [100, 100, 100]}, receipts={"A": [0, 4, 0]},
    )
    plan = pl.chase_plan(inputs, pl.PlanSettings())
    assert all(np.isnan(sku_col(plan, "B", "days_of_supply")))
    assert pl.days_of_supply_text(plan.lines["days_of_supply"]).tolist()[:4] == ["23.3", "12.9", "12.9", "no demand"]
    roll = pl.plan_rollup(plan, "family")  # F1 = A + B: demand is A's, so a number
    assert roll["days_of_supply"].notna().all()
