"""What-if scenarios (analytics/planning/scenarios/): applying changes to the plan inputs, scenario KPIs,
saving / listing / comparing against the baseline, the recommended flag and validation. Expected values
are worked by hand in the comments; hand-made PlanInputs keep most tests independent of the database.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import db
from analytics import planning as pl
from tests.conftest import TINY_ROWS, write_rows

JAN, FEB, MAR = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)
PERIODS = [pd.Timestamp(m) for m in (JAN, FEB, MAR)]


def tiny_inputs(with_policy: bool = True) -> pl.PlanInputs:
    """Three SKUs, three months (2027-01..03).

    A: F1 at W1, cost 10 price 20, 1 h/unit; forecast 10/10/10, backlog 5 in January.
    B: F1 at W1, cost 5 price 10, 0.5 h/unit; forecast 20/20/20.
    C: F2 at W2, cost 2 price 5, 0.25 h/unit; forecast 8/8/8.
    W1 100 h/month, W2 40 h/month. Safety stock: A 20.54 (98%, class A), B 8.22 (95%, family F1), C 1.64 (95%, class C).
    """
    products = pd.DataFrame([
        ("A", "F1", "W1", 10.0, 20.0, 1.0, 0.0, 20.5375), ("B", "F1", "W1", 5.0, 10.0, 0.5, 0.0, 8.2243),
        ("C", "F2", "W2", 2.0, 5.0, 0.25, 0.0, 1.6449)],
        columns=["sku", "family", "work_center", "unit_cost", "unit_price", "hours_per_unit", "on_hand", "safety_stock"])
    fc = {"A": [10, 10, 10], "B": [20, 20, 20], "C": [8, 8, 8]}
    demand = pd.DataFrame([
        {"sku": s, "period": p, "forecast_ordered": float(f), "forecast": float(f),
         "backlog": 5.0 if (s == "A" and p == PERIODS[0]) else 0.0, "demand_source": "consensus"}
        for s, v in fc.items() for p, f in zip(PERIODS, v)])
    capacity = pd.DataFrame([{"work_center": w, "period": p, "available_hours": h, "capacity_source": "capacity table"}
                             for w, h in (("W1", 100.0), ("W2", 40.0)) for p in PERIODS])
    # safety stock = z x sigma x sqrt(LT): A z(98%) 2.0537 x 10 x 1 = 20.54; B z(95%) 1.6449 x 10 x sqrt(.25)
    # = 8.22 (a family level of the base policy); C z(95%) 1.6449 x 2 x sqrt(.25) = 1.64
    policy = pd.DataFrame({
        "sku": ["A", "B", "C"], "family": ["F1", "F1", "F2"], "abc": ["A", "B", "C"],
        "service_level": [0.98, 0.95, 0.95], "service_level_source": ["class A", "family F1", "class C"],
        "sigma": [10.0, 10.0, 2.0], "lead_time_months": [1.0, 0.25, 0.25], "safety_stock": [20.5375, 8.2243, 1.6449]})
    return pl.PlanInputs(as_of=date(2026, 12, 31), months=(JAN, FEB, MAR), products=products, demand=demand,
                         receipts=pd.DataFrame(columns=["sku", "period", "open_receipts"]), capacity=capacity,
                         policy=policy if with_policy else None)


def col(frame: pd.DataFrame, sku_or_wc: str, column: str, key: str = "sku") -> list[float]:
    return frame[frame[key] == sku_or_wc].sort_values("period")[column].round(4).tolist()


# --------------------------------------------------------------------------- applying a scenario


def test_demand_change_promotion_and_capacity_on_hand_made_inputs():
    inputs = tiny_inputs()
    s = pl.Scenario(
        "Push F1", "anna",
        demand_changes=[pl.DemandChange("F1", "2027-02", None, 10)],
        promotions=[pl.Promotion("F1", "2027-03", 30), pl.Promotion("C", FEB, 4)],
        capacity_changes=[pl.CapacityChange("W1", FEB, None, hours_per_month=160),
                          pl.CapacityChange("W2", JAN, JAN, percent=-50)],
    )
    out = pl.apply_scenario(inputs, s)
    d = out.demand
    # +10% on F1 from February: A 10 -> 11, B 20 -> 22 in Feb and Mar; January and F2 unchanged.
    # Promotion F1 +30 in March spread by March forecast A 11 : B 22 -> A +10, B +20.  C +4 in February.
    assert col(d, "A", "forecast") == [10, 11, 21]
    assert col(d, "B", "forecast") == [20, 22, 42]
    assert col(d, "C", "forecast") == [8, 12, 8]
    assert col(d, "A", "forecast_ordered") == [10, 11, 21]
    assert col(d, "A", "backlog") == [5, 0, 0]  # firm orders are not scaled
    # a shift added to W1 from February: 100 + 160 = 260; W2 -50% in January only: 20
    assert col(out.capacity, "W1", "available_hours", "work_center") == [100, 260, 260]
    assert col(out.capacity, "W2", "available_hours", "work_center") == [20, 40, 40]
    # pure: the original inputs are untouched
    assert col(inputs.demand, "A", "forecast") == [10, 10, 10]
    assert col(inputs.capacity, "W1", "available_hours", "work_center") == [100, 100, 100]
    notes = [n for n in out.notes if n.startswith("Scenario 'Push F1':")]
    assert len(notes) == 5
    # F1 February + March forecast 2 x (10 + 20) = 60 -> 66
    assert "demand +10% on the forecast of F1 from 2027-02 to the end of the horizon: 60.0 -> 66.0" in notes[0]
    assert "A 10.0" in notes[1] and "B 20.0" in notes[1]
    assert "200.0 -> 520.0 available hours over 2 months" in notes[3]  # 2 x 100 -> 2 x 260


def test_service_level_change_recomputes_safety_stock_and_settings_apply_to_the_plan():
    s = pl.Scenario("Service up", service_by_class={"A": 0.99, "B": 0.99}, service_by_family={"F2": 0.90},
                    settings={"overtime_cost_per_hour": 90, "holding_rate": 0.03})
    out = pl.apply_scenario(tiny_inputs(), s)
    ss = out.products.set_index("sku")["safety_stock"]
    # A: z(99%) 2.3263 x sigma 10 x sqrt(1) = 23.26
    assert ss["A"] == pytest.approx(23.2635, abs=1e-4)
    # B keeps the base policy's family level (precedence: a base family level beats a scenario class level)
    assert ss["B"] == pytest.approx(8.2243)
    # C: family F2 at 90%: z 1.28155 x 2 x sqrt(0.25) = 1.2816
    assert ss["C"] == pytest.approx(1.28155, abs=1e-4)
    assert out.policy.set_index("sku").loc["C", "service_level_source"] == "scenario family F2"
    res = pl.run_scenario(None, scenario=s, inputs=tiny_inputs())
    assert res.plan.settings.overtime_cost_per_hour == 90 and res.plan.settings.holding_rate == 0.03
    assert any("plan settings" in n for n in res.adjustments)


def test_lost_customer_backlog_and_forecast_share_from_the_tiny_company(tiny_con):
    inputs = pl.plan_inputs(tiny_con, date(2026, 3, 31), horizon=3, phase_forecast=False)
    # Plan months 2026-04..06. A: forecast 9 in April (consensus of 02-25), backlog 3 in April (O4, customer C1,
    # promised 04-05). C: backlog 4 (O3, customer C2, overdue -> first month).
    assert col(inputs.demand, "A", "forecast") == [9, 0, 0] and col(inputs.demand, "A", "backlog") == [3, 0, 0]
    out = pl.apply_scenario(inputs, pl.Scenario("Lose C1", lost_customers=["C1"]), tiny_con)
    # C1's open backlog (3 x A) goes; C's backlog of customer C2 stays.
    assert col(out.demand, "A", "backlog") == [0, 0, 0]
    assert col(out.demand, "C", "backlog") == [4, 0, 0]
    # C1's share of A's orders 2025-04..2026-03: O1 10 + O4 3 of 10 + 5 + 3 = 13/18 -> 9 x 5/18 = 2.5
    assert col(out.demand, "A", "forecast") == [2.5, 0, 0]
    notes = " | ".join(out.notes)
    assert "3.0 units of their open backlog removed (1 order lines, 1 SKUs)" in notes
    assert "A 72%" in notes and "B 100%" in notes
    with pytest.raises(ValueError, match="unknown customer"):
        pl.apply_scenario(inputs, pl.Scenario("x", lost_customers=["C9"]), tiny_con)
    with pytest.raises(ValueError, match="need the database"):
        pl.apply_scenario(inputs, pl.Scenario("x", lost_customers=["C1"]))


def test_validation_errors_are_clear():
    inputs = tiny_inputs()
    with pytest.raises(ValueError, match="from month 2027-03 is after the to month 2027-01"):
        pl.DemandChange("F1", "2027-03", "2027-01", 5)
    with pytest.raises(ValueError, match="more than 100%"):
        pl.DemandChange(None, JAN, None, -150)
    with pytest.raises(ValueError, match="more than 100%"):
        pl.CapacityChange("W1", JAN, None, percent=-101)
    with pytest.raises(ValueError, match="exactly one"):
        pl.CapacityChange("W1", JAN, None, hours_per_month=10, percent=5)
    with pytest.raises(ValueError, match="unknown family 'F9'"):
        pl.apply_scenario(inputs, pl.Scenario("x", demand_changes=[("F9", JAN, None, 5)]))
    with pytest.raises(ValueError, match="unknown SKU 'Z'"):
        pl.apply_scenario(inputs, pl.Scenario("x", promotions=[pl.Promotion("Z", JAN, 5, level="sku")]))
    with pytest.raises(ValueError, match="neither a SKU nor a family"):
        pl.apply_scenario(inputs, pl.Scenario("x", promotions=[pl.Promotion("Z", JAN, 5)]))
    with pytest.raises(ValueError, match="unknown work center 'W9'"):
        pl.apply_scenario(inputs, pl.Scenario("x", capacity_changes=[pl.CapacityChange("W9", JAN, hours_per_month=8)]))
    with pytest.raises(ValueError, match="Unknown plan setting 'overtime'"):
        pl.Scenario("x", settings={"overtime": 3})
    with pytest.raises(ValueError, match="between 0 and 1"):
        pl.Scenario("x", service_by_class={"A": 99})
    with pytest.raises(ValueError, match="Unknown strategy"):
        pl.Scenario("x", strategy="magic")
    with pytest.raises(ValueError, match="scenario name is empty"):
        pl.Scenario("  ")
    with pytest.raises(ValueError, match="safety-stock frame"):
        pl.apply_scenario(tiny_inputs(with_policy=False), pl.Scenario("x", service_by_class={"A": 0.99}))
    # an impossible plan surfaces the planner's message, named by scenario
    s = pl.Scenario("No W1", capacity_changes=[pl.CapacityChange("W1", JAN, None, percent=-100)],
                    settings={"allow_backorders": False})
    with pytest.raises(pl.PlanningError, match="Scenario 'No W1': No feasible plan without backorders"):
        pl.run_scenario(None, scenario=s, inputs=tiny_inputs())


def test_scenario_json_round_trip_and_hashable():
    s = pl.Scenario("All in", "anna", "level", demand_changes=[("F1", "2027-02", "2027-03", -20)],
                    promotions=[("A", "2027-01", 5)], lost_customers=["C1", "C1"],
                    capacity_changes=[pl.CapacityChange("W1", FEB, hours_per_month=-160)],
                    service_by_family={"F1": 0.97}, settings={"holding_rate": 0.03}, notes="<b>board</b> ask")
    assert s.lost_customers == ("C1",)
    back = pl.Scenario.from_json(s.to_json())
    assert back == s and hash(back) == hash(s)
    assert json.loads(s.to_json())["demand_changes"][0] == {
        "family": "F1", "from_month": "2027-02-01", "to_month": "2027-03-01", "percent": -20.0}
    assert pl.Scenario("base").is_baseline and not s.is_baseline


# --------------------------------------------------------------------------- KPIs


def test_scenario_kpis_by_hand():
    # A (W1, cost 10, price 20, 1 h/unit, on hand 5): demand 10/10/10, production 0/10/20
    #   inventory 5-10 = -5, -5+10-10 = -5, -5+20-10 = 5; backorders 5, 5, 0
    #   shipped = D + B[t-1] - B[t]: 5, 10, 15 (= 30);  short = min(D, B): 5, 5, 0 (= 10)
    # B (W2, cost 4, price 8, 2 h/unit): demand 5/5/5, production 5/5/5 -> inventory 0, shipped 15
    products = pd.DataFrame([("A", "F1", "W1", 10.0, 20.0, 1.0, 5.0, 0.0), ("B", "F2", "W2", 4.0, 8.0, 2.0, 0.0, 0.0)],
                            columns=["sku", "family", "work_center", "unit_cost", "unit_price", "hours_per_unit",
                                     "on_hand", "safety_stock"])
    demand = pd.DataFrame([{"sku": s, "period": p, "forecast": f, "backlog": 0.0, "demand_source": "consensus"}
                           for s, f in (("A", 10.0), ("B", 5.0)) for p in PERIODS])
    capacity = pd.DataFrame([{"work_center": w, "period": p, "available_hours": h}
                             for w, h in (("W1", 20.0), ("W2", 10.0)) for p in PERIODS])
    inputs = pl.PlanInputs(date(2026, 12, 31), (JAN, FEB, MAR), products, demand,
                           pd.DataFrame(columns=["sku", "period", "open_receipts"]), capacity)
    production = pd.DataFrame({"sku": ["A"] * 3 + ["B"] * 3, "period": PERIODS * 2,
                               "production": [0, 10, 20, 5, 5, 5]})
    plan = pl.evaluate_plan(inputs, production)
    k = pl.scenario_kpis(plan, inputs)
    assert k["revenue"] == pytest.approx(30 * 20 + 15 * 8)  # 720
    assert k["demand_units"] == 45 and k["shipped_units"] == 45
    assert k["units_short"] == pytest.approx(10)
    assert k["fill_rate"] == pytest.approx(1 - 10 / 45)  # 0.7778
    assert k["average_inventory_value"] == pytest.approx((0 + 0 + 5 * 10) / 3)  # 16.67
    # load W1 0 + 10 + 20 = 30 of 60 h; W2 10 x 3 = 30 of 30 h -> overall 60 / 90, highest W2 at 100%
    assert k["capacity_utilisation"] == pytest.approx(60 / 90)
    assert k["max_work_center"] == "W2" and k["max_work_center_utilisation"] == pytest.approx(1.0)
    # production 30 x 10 + 15 x 4 = 360; holding 2% x 10 x 5 = 1; backorder 25% x 20 x (5 + 5) = 50
    assert k["total_cost"] == pytest.approx(411.0)
    assert json.loads(json.dumps(k)) == k


# --------------------------------------------------------------------------- saving and comparing


AS_OF = date(2026, 3, 31)


def test_save_list_compare_and_recommend(tiny_db):
    con = db.open_reader(tiny_db)
    try:
        inputs = pl.plan_inputs(con, AS_OF, horizon=3)
        promo = pl.Scenario("Promo A", "anna", promotions=[pl.Promotion("A", "2026-05", 20)])
        shift = pl.Scenario("W1 shift", "ben", capacity_changes=[pl.CapacityChange("W1", "2026-04", hours_per_month=160)])
        r_promo = pl.run_scenario(con, scenario=promo, inputs=inputs)
        r_shift = pl.run_scenario(con, scenario=shift, inputs=inputs)
        base = pl.run_scenario(con, AS_OF, 3)
        from_results = pl.compare_scenarios([r_promo, r_shift], ["Promo A", "W1 shift"])
    finally:
        con.close()
    id1 = pl.save_scenario(tiny_db, promo, r_promo)
    id2 = pl.save_scenario(tiny_db, shift, r_shift)
    assert (id1, id2) == (1, 2)
    with pytest.raises(ValueError, match="already saved"):
        pl.save_scenario(tiny_db, promo, r_promo)
    with pytest.raises(ValueError, match="computed for scenario 'W1 shift'"):
        pl.save_scenario(tiny_db, promo, r_shift)

    pl.mark_recommended(tiny_db, "Promo A", "cfo")
    pl.mark_recommended(tiny_db, "W1 shift", "cfo")
    with pytest.raises(ValueError, match="No saved scenario 'nope'"):
        pl.mark_recommended(tiny_db, "nope")
    write_rows(tiny_db, TINY_ROWS)  # a replace-all import keeps the scenarios
    con = db.open_reader(tiny_db)
    try:
        listed = pl.list_scenarios(con)
        assert listed["name"].tolist() == ["W1 shift", "Promo A"]  # newest first
        assert listed["recommended"].tolist() == [True, False]  # exactly one
        assert pl.recommended_scenario(con) == "W1 shift"
        loaded = pl.load_scenario(con, "Promo A")
        assert loaded.scenario == promo and loaded.kpis == pytest.approx(r_promo.kpis)
        pd.testing.assert_frame_equal(loaded.plan.lines, r_promo.plan.lines, check_dtype=False)
        assert "Scenario: Promo A" in set(pl.list_plans(con)["name"])
        table = pl.compare_scenarios(con, ["Promo A", "W1 shift"])
    finally:
        con.close()

    for t in (table, from_results):
        assert list(t.columns) == ["kpi", "label", "unit", "higher_is_better", "baseline", "Promo A", "Promo A delta",
                                   "W1 shift", "W1 shift delta"]
        row = t.set_index("kpi")
        assert row.loc["revenue", "baseline"] == pytest.approx(base.kpis["revenue"])
        # 20 more A at list price 20, all shipped (no backorders): revenue +400
        assert row.loc["revenue", "Promo A delta"] == pytest.approx(400.0)
        assert row.loc["total_cost", "W1 shift delta"] == pytest.approx(
            r_shift.kpis["total_cost"] - base.kpis["total_cost"])
        assert row.loc["months_differing", "Promo A"] >= 1
    diff = pl.scenario_month_diff(r_promo, base)
    # the 20 extra A (family F1) are made by May: production differs there
    assert not diff.empty and set(diff["family"]) == {"F1"}
    assert diff["period"].min() <= pd.Timestamp("2026-05-01")

    # replacing a saved scenario clears its recommended flag (a changed scenario is recommended again)
    pl.save_scenario(tiny_db, shift, r_shift, replace=True)
    con = db.open_reader(tiny_db)
    try:
        assert pl.recommended_scenario(con) is None and len(pl.list_scenarios(con)) == 2
    finally:
        con.close()
    with pytest.raises(ValueError, match="at least one scenario"):
        pl.compare_scenarios([r_promo], ["baseline"])
    with pytest.raises(ValueError, match="at most 4"):
        pl.compare_scenarios([r_promo], ["a", "b", "c", "d", "e"])
    assert np.isfinite(from_results.drop(columns=["kpi", "label", "unit", "higher_is_better"]).to_numpy(float)).all()
