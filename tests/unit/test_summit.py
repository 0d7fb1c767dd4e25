"""Summit mode (analytics/summit): the frozen snapshot, the action log, exceptions ranked by money, the pulse,
the promise trends and the pack. Expected values are worked by hand from the tiny company (tests/conftest.py)
in the comments.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analytics import db, ingest, kpis
from analytics import summit as sm
from analytics.planning import Plan, PlanSettings
from analytics.schema import CONTRACT, LOAD_ORDER
from analytics.summit.codec import frame_from_json, frame_to_json
from tests.conftest import TINY_ROWS, write_rows

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
AS_OF = date(2026, 3, 31)


def march_summit(path, title="March S&OP") -> int:
    return sm.start_summit(path, MARCH, title, "Anna", as_of=AS_OF)


# --------------------------------------------------------------------------- storage


def test_codec_round_trips_dtypes_and_odd_values():
    df = pd.DataFrame({
        "f": [1.5, np.nan, np.inf], "i": [1, 2, 3], "s": ["x", None, "<z>"], "d": [date(2026, 1, 1), None, MARCH],
        "t": pd.to_datetime(["2026-01-01", None, "2026-03-01"]).astype("datetime64[us]"), "b": [True, False, True],
        "o": [True, None, (date(2026, 1, 1), 0.5)], "n": pd.array([1, None, 3], dtype="Int64"),
    })
    text = frame_to_json(df)
    json.loads(text)  # strict JSON: no NaN / Infinity literals
    pd.testing.assert_frame_equal(frame_from_json(text), df)
    empty = pd.DataFrame(columns=["a", "b"])
    pd.testing.assert_frame_equal(frame_from_json(frame_to_json(empty)), empty)


def _export_folder(path, folder, change_orders=None) -> None:
    """Write the database's contract tables as CSV files (what an ERP export would bring)."""
    con = db.open_reader(path)
    try:
        for t in LOAD_ORDER:
            df = con.execute(f"SELECT * FROM {t}").df()  # t: a constant contract name
            if t == "orders" and change_orders:
                df = change_orders(df)
            if len(df):
                df[list(CONTRACT[t].column_names)].to_csv(folder / f"{t}.csv", index=False)
    finally:
        con.close()


def test_frozen_summit_shows_the_original_numbers_after_a_new_import(tiny_db, tmp_path):
    sid = march_summit(tiny_db)
    con = db.open_reader(tiny_db)
    before = sm.load_summit(con, sid)
    con.close()
    sc = before.scorecard.set_index("kpi")
    # OTIF to promise in March: O1/1, O2/1, O2/2 in full by their promise; O1/2 (6 of 10) and O3/1 (nothing) not.
    assert sc.loc["otif_to_promise", "value"] == pytest.approx(3 / 5)
    assert before.versions["consensus_snapshot"] == "2026-02-25"  # the latest consensus on or before 03-31
    assert before.versions["statistical_snapshot"] is None and before.versions["forecast_run_id"] is None
    assert before.versions["plan"]["kind"] == "optimised plan made at the summit start"
    assert before.as_of == AS_OF and before.month == MARCH

    # A new import (replace-all) in which O1/2 was promised for 03-14: now it is on time, OTIF 4 / 5.
    folder = tmp_path / "export"
    folder.mkdir()

    def later_promise(orders: pd.DataFrame) -> pd.DataFrame:
        hit = (orders["order_id"] == "O1") & (orders["line_no"] == 2)
        orders.loc[hit, "promised_date"] = pd.Timestamp("2026-03-14")
        return orders

    _export_folder(tiny_db, folder, later_promise)
    report = ingest.import_folder(tiny_db, folder, mode="replace")
    assert report.ok, report.problems

    con = db.open_reader(tiny_db)
    now = kpis.kpi_values(con, kpis.Query(MARCH, AS_OF, AS_OF), ("otif_to_promise",))
    assert now["value"].iloc[0] == pytest.approx(4 / 5)  # the live number moved
    after = sm.load_summit(con, sid)
    for name, frame in before.frames().items():  # the frozen numbers did not
        pd.testing.assert_frame_equal(after.frames()[name], frame, obj=name)
    assert after.versions == before.versions and after.notes == before.notes
    assert sm.list_summits(con)["summit_id"].tolist() == [sid]
    con.close()


def test_start_summit_validates_its_input(tiny_db):
    with pytest.raises(ValueError, match="title"):
        sm.start_summit(tiny_db, MARCH, "   ", "Anna", as_of=AS_OF)
    with pytest.raises(ValueError, match="too long"):
        sm.start_summit(tiny_db, MARCH, "x" * 201, "Anna", as_of=AS_OF)
    with pytest.raises(ValueError, match="before the summit month"):
        sm.start_summit(tiny_db, APRIL, "April", "Anna", as_of=AS_OF)
    con = db.open_reader(tiny_db)
    assert sm.list_summits(con).empty
    with pytest.raises(ValueError, match="No summit"):
        sm.load_summit(con, 1)
    con.close()


def test_summit_uses_the_recommended_scenario_and_explains_consensus_changes(tiny_db):
    from analytics import demand
    from analytics import planning as pl

    # An override on 03-31: A's April consensus 9 (snapshot 02-25) -> 12, reason "promo".
    assert demand.save_override(tiny_db, "sku", "A", {APRIL: 12}, "units", "promo", "ben", snapshot_date=AS_OF) == 1
    con = db.open_reader(tiny_db)
    promo = pl.Scenario("Promo A", "anna", promotions=[pl.Promotion("A", "2026-05", 20)])
    result = pl.run_scenario(con, AS_OF, 3, promo)
    con.close()
    pl.save_scenario(tiny_db, promo, result)
    pl.mark_recommended(tiny_db, "Promo A", "cfo")
    sid = march_summit(tiny_db)
    con = db.open_reader(tiny_db)
    s = sm.load_summit(con, sid)
    con.close()
    plan = s.versions["plan"]
    assert (plan["kind"], plan["name"], plan["horizon"]) == ("recommended scenario", "Promo A", 3)
    assert plan["key_figures"]["revenue"] == pytest.approx(result.kpis["revenue"])
    assert s.versions["consensus_snapshot"] == "2026-03-31"
    assert s.scenarios[["name", "recommended"]].values.tolist() == [["Promo A", True]]
    assert {"baseline", "Promo A", "Promo A delta"} <= set(s.scenario_comparison.columns)
    # This cycle (03-31) against the previous one (the latest before March: 02-25): F1 April 9 -> 12.
    row = s.consensus_changes.set_index(["family", "period"]).loc[("F1", APRIL)]
    assert (row["previous_consensus"], row["consensus"], row["change"]) == (9.0, 12.0, 3.0)
    assert (row["override_cells"], row["reasons"]) == (1, "promo")
    assert s.capacity_load["period"].nunique() == 3  # the scenario's plan has 3 months


# --------------------------------------------------------------------------- actions, decisions, pulse


def test_action_log_status_and_carry_over_to_the_next_summit(tiny_db):
    s1 = march_summit(tiny_db)
    late = sm.add_decision(tiny_db, s1, "Chase O3 with the carrier", "Piotr", date(2026, 4, 10), kind="action",
                           source_exception="kpi:otif_to_promise", by="Anna")
    done = sm.add_decision(tiny_db, s1, "Recount stock of B", "Maria", "2026-04-05", kind="action")
    dropped = sm.add_decision(tiny_db, s1, "Call C2", "Maria", date(2026, 4, 30), kind="action")
    decided = sm.add_decision(tiny_db, s1, "Keep the 95% OTIF target", kind="decision")
    with pytest.raises(ValueError, match="too long"):
        sm.add_decision(tiny_db, s1, "x" * 1001)
    with pytest.raises(ValueError, match="owner"):
        sm.add_decision(tiny_db, s1, "No owner", kind="action", due=date(2026, 4, 1))
    with pytest.raises(ValueError, match="due date"):
        sm.add_decision(tiny_db, s1, "No due date", "Piotr", kind="action")
    with pytest.raises(ValueError, match="no exception"):
        sm.add_decision(tiny_db, s1, "From nowhere", source_exception="stockout:ZZZ")
    with pytest.raises(ValueError, match="No summit"):
        sm.add_decision(tiny_db, 99, "Lost")

    sm.update_action(tiny_db, late, "in progress", note="carrier called", by="Piotr")
    sm.update_action(tiny_db, done, "done", by="Maria")
    sm.update_action(tiny_db, dropped, "dropped", note="customer left")
    with pytest.raises(ValueError, match="status"):
        sm.update_action(tiny_db, late, "finished")
    with pytest.raises(ValueError, match="decision"):
        sm.update_action(tiny_db, decided, "done")

    con = db.open_reader(tiny_db)
    recorded = sm.actions(con, s1).set_index("action_id")
    assert recorded.loc[[late, done, dropped], "status"].tolist() == ["in progress", "done", "dropped"]
    assert pd.isna(recorded.loc[decided, "status"])  # a decision has no status
    assert recorded.loc[late, "last_note"] == "carrier called"
    assert "OTIF to promise" in recorded.loc[late, "source_detail"]
    log = con.execute("SELECT status FROM summit_action_log WHERE action_id = $a ORDER BY log_id", {"a": late}).fetchall()
    assert [r[0] for r in log] == ["open", "in progress"]
    assert sm.open_actions(con, before_summit_id=s1).empty  # nothing before the first summit
    con.close()

    s2 = sm.start_summit(tiny_db, APRIL, "April S&OP", "Anna", as_of=date(2026, 4, 30))
    con = db.open_reader(tiny_db)
    carried = sm.open_actions(con, before_summit_id=s2)
    assert carried["action_id"].tolist() == [late]  # done, dropped and decisions are not carried
    assert bool(carried["overdue"].iloc[0])  # due 04-10, the April summit's data is as of 04-30
    frozen = sm.load_summit(con, s2).carried_actions  # agenda step 1 of the next summit
    assert frozen["action_id"].tolist() == [late] and frozen["status"].tolist() == ["in progress"]
    listed = sm.list_summits(con).set_index("summit_id")
    assert listed.loc[s1, ["decisions", "actions", "open_actions"]].tolist() == [1, 3, 1]
    con.close()

    sm.update_action(tiny_db, late, "done")
    con = db.open_reader(tiny_db)
    assert sm.open_actions(con, before_summit_id=s2).empty
    con.close()


def test_pulse_trend_over_summits(tiny_db):
    s1 = march_summit(tiny_db)
    s2 = sm.start_summit(tiny_db, APRIL, "April S&OP", "Anna", as_of=date(2026, 4, 30))
    for sid, side, score in [(s1, "sales", 6), (s1, "sales", 8), (s1, "production", 4),
                             (s2, "sales", 7), (s2, "production", 6), (s2, "production", 8.0)]:
        sm.record_pulse(tiny_db, sid, side, score, note="ok", by="x")
    for bad in (11, -1, 7.5, "high", True):
        with pytest.raises(ValueError, match="score"):
            sm.record_pulse(tiny_db, s1, "sales", bad)
    with pytest.raises(ValueError, match="side"):
        sm.record_pulse(tiny_db, s1, "marketing", 5)
    con = db.open_reader(tiny_db)
    trend = sm.pulse_trend(con)
    con.close()
    # March: sales (6 + 8) / 2 = 7, production 4; April: sales 7, production (6 + 8) / 2 = 7.
    got = list(zip(trend["summit_id"], trend["side"], trend["average_score"], trend["responses"]))
    assert got == [(s1, "production", 4.0, 1), (s1, "sales", 7.0, 2), (s2, "production", 7.0, 2), (s2, "sales", 7.0, 1)]


# --------------------------------------------------------------------------- exceptions

# Added to the tiny company so every kind of exception shows up:
# * SKU C is ordered 5 a month from 2025-10 to 2026-02 (no promised / requested date, never delivered: no KPI
#   population of March changes) while the consensus made the month before says 0 for C;
# * customer C2 has two more lines ordered in 2025-09 (outside the 6-month bias window), promised in January and
#   February, never delivered: with O3/1 that is 3 late lines in January..March.
EXTRA_ROWS = {
    "orders": [(f"X{i}", 1, "C1", "C", f"{m}-10", None, None, 5, 5.0)
               for i, m in enumerate(["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"])]
    + [("L1", 1, "C2", "A", "2025-09-15", "2026-01-20", "2026-01-20", 1, 20.0),
       ("L2", 1, "C2", "B", "2025-09-15", "2026-02-20", "2026-02-20", 3, 8.0)],
    "forecasts": [(snap, "C", f"{m}-01", "consensus", 0)
                  for snap, m in [("2025-09-30", "2025-10"), ("2025-10-31", "2025-11"), ("2025-11-30", "2025-12"),
                                  ("2025-12-31", "2026-01"), ("2026-01-31", "2026-02")]],
}


def hand_plan() -> Plan:
    """Two plan months (April, May 2026), three SKUs.

    A (price 20): demand 10 / 10, projected inventory -5 / -10 (a stockout).
    B (W1, 1 h/unit): produces 14 in April: W1 has 10 h available, so 4 h over; May 8 h of 10.
    C: stock 3 / 1 above its safety stock 0.
    """
    months = (APRIL, date(2026, 5, 1))
    p = [pd.Timestamp(m) for m in months]
    line = lambda sku, fam, wc, t, d, prod, inv, ss, h: {  # noqa: E731
        "sku": sku, "family": fam, "work_center": wc, "period": p[t], "forecast": d, "backlog": 0.0, "demand": d,
        "demand_source": "consensus", "open_receipts": 0.0, "production": prod, "projected_inventory": inv,
        "safety_stock": ss, "shortfall": max(0.0, ss - inv), "days_of_supply": np.nan, "load_hours": prod * h}
    lines = pd.DataFrame([
        line("A", "F1", "W1", 0, 10.0, 0.0, -5.0, 2.0, 0.5), line("A", "F1", "W1", 1, 10.0, 5.0, -10.0, 2.0, 0.5),
        line("B", "F1", "W1", 0, 14.0, 14.0, 0.0, 0.0, 1.0), line("B", "F1", "W1", 1, 5.5, 5.5, 0.0, 0.0, 1.0),
        line("C", "F2", "W2", 0, 1.0, 0.0, 3.0, 0.0, 0.25), line("C", "F2", "W2", 1, 2.0, 0.0, 1.0, 0.0, 0.25)])
    capacity = pd.DataFrame([
        {"work_center": "W1", "period": p[0], "available_hours": 10.0, "overtime_allowed_hours": 1.5,
         "load_hours": 14.0, "overtime_hours": 4.0, "capacity_source": "capacity table"},
        {"work_center": "W1", "period": p[1], "available_hours": 10.0, "overtime_allowed_hours": 1.5,
         "load_hours": 8.0, "overtime_hours": 0.0, "capacity_source": "capacity table"},
        {"work_center": "W2", "period": p[0], "available_hours": 40.0, "overtime_allowed_hours": 6.0,
         "load_hours": 0.0, "overtime_hours": 0.0, "capacity_source": "capacity table"},
        {"work_center": "W2", "period": p[1], "available_hours": 40.0, "overtime_allowed_hours": 6.0,
         "load_hours": 0.0, "overtime_hours": 0.0, "capacity_source": "capacity table"}])
    products = pd.DataFrame([("A", "F1", "W1", 10.0, 20.0, 0.5, 0.0, 2.0), ("B", "F1", "W1", 5.0, 8.0, 1.0, 0.0, 0.0),
                             ("C", "F2", "W2", 2.0, 5.0, 0.25, 3.0, 0.0)],
                            columns=["sku", "family", "work_center", "unit_cost", "unit_price", "hours_per_unit",
                                     "on_hand", "safety_stock"])
    return Plan("manual", lines, capacity, products, PlanSettings(overtime_cost_per_hour=50.0), AS_OF, months)


def test_exceptions_ranked_by_money_impact_by_hand(tmp_path):
    path = tmp_path / "tiny_plus.duckdb"
    rows = {t: list(v) + EXTRA_ROWS.get(t, []) for t, v in TINY_ROWS.items()}
    write_rows(path, rows)
    con = db.open_reader(path)
    exc = sm.exceptions(con, MARCH, AS_OF, plan=hand_plan())
    con.close()
    got = [(r["kind"], r["subject"], None if pd.isna(r["money_impact"]) else round(r["money_impact"], 6))
           for r in exc.to_dict("records")]
    # KPIs of March (lines promised / requested / completed in March, values = quantity x price):
    #   lines promised: O1/1 200, O1/2 80, O2/1 100, O2/2 40, O3/1 20 -> 5 lines, 440, average 88.
    #   OTIF to request 2/5: 3 missed x 88 = 264; perfect order 2/5 (O2/1 damaged): 3 x 88 = 264;
    #   OTIF to promise 3/5: 2 x 88 = 176; order accuracy 3/4 completed lines (200+80+100+40 = 420, average
    #   105): 1 x 105 = 105.
    #   Plan adherence: W1 10 not produced x cost 10 + W3 40 x cost 2 = 180.
    #   Forecast accuracy (lag 1 = snapshot 02-25): |20-18| x 10 + |6-10| x 5 + |0-8| x 2 = 56; bias
    #   |(2 x 10) - (4 x 5) - (8 x 2)| = 16. NPS (+17) and production cycle time (8.7 days) have no money.
    # Persistent bias over 2025-10..2026-03 (6 months with pairs), TS = sum(A - F) / (sum|A - F| / 6):
    #   C: Oct..Feb 5 each, + O3/1 (4, ordered 02-20) in Feb, + 8 in March = 37, TS 6 -> 37 x 5 = 185;
    #   B: Feb +2, Mar +4 = 6, TS 6 -> 6 x 8 = 48;
    #   A: Mar 18 - 20 = -2, TS -6 -> 2 x 20 = 40.
    # Plan: A short min(10, 5) + min(10, 10) = 15 units x 20 = 300; W1 4 h over x 50 = 200.
    # Late: C2 has L1 (1 x 20), L2 (3 x 8) and O3/1 (4 x 5) late = 64; C1 only O1/2.
    assert got == [
        ("projected stockout", "A", 300.0),
        ("KPI off target", "OTIF to request", 264.0),
        ("KPI off target", "Perfect order rate", 264.0),  # a tie: then kind, then subject
        ("overloaded work center", "W1", 200.0),
        ("persistent bias", "C", 185.0),
        ("KPI off target", "Plan adherence", 180.0),
        ("KPI off target", "OTIF to promise", 176.0),
        ("KPI off target", "Order accuracy", 105.0),
        ("late deliveries", "C2 South Co", 64.0),
        ("KPI off target", "Forecast accuracy", 56.0),
        ("persistent bias", "B", 48.0),
        ("persistent bias", "A", 40.0),
        ("KPI off target", "Forecast bias", 16.0),
        ("KPI off target", "Net promoter score", None),
        ("KPI off target", "Production cycle time (mean)", None),
    ]
    assert exc["rank"].tolist() == list(range(1, 16))
    assert list(exc.columns[:6]) == ["kind", "subject", "detail", "money_impact", "impact_basis", "rank"]
    basis = exc.set_index("exception_key")["impact_basis"]
    assert basis["kpi:otif_to_promise"].startswith("missed lines 2 x average line value 88.00")
    assert basis["overload:W1"] == "excess hours 4.0 x overtime cost per hour 50.00"
    assert basis["stockout:A"].startswith("units short 15")


# --------------------------------------------------------------------------- sales and production


def test_promise_gap_trend_and_kept_rate_by_hand(tiny_con):
    gap = sm.promise_gap_trend(tiny_con, months=13, as_of=AS_OF)
    # Lines promised by 03-31 with a requested date (O4/1 is promised in April):
    #   Feb F1: O0/1 promised = requested -> 1 line, 0 days, none later.
    #   Mar F1: O1/1 0, O1/2 +2, O2/1 0 -> 3 lines, 2 days, mean 0.667, 1 later (1/3).
    #   Mar F2: O2/2 +5, O3/1 +2 -> 2 lines, 7 days, mean 3.5, both later.
    got = [(m, f, n, s, round(mean, 4), late, round(share, 4)) for m, f, n, s, mean, late, share in
           gap[["month", "family", "lines", "gap_days_sum", "mean_gap_days", "lines_promised_late",
                "share_promised_late"]].itertuples(index=False)]
    assert got == [(date(2026, 2, 1), "F1", 1, 0.0, 0.0, 0, 0.0), (MARCH, "F1", 3, 2.0, 0.6667, 1, 0.3333),
                   (MARCH, "F2", 2, 7.0, 3.5, 2, 1.0)]
    kept = sm.promise_kept_rate(tiny_con, months=13, as_of=AS_OF)
    # Kept = delivered in full by the promised date: Feb F1 O0/1; Mar F1 O1/1, O2/1 (damaged, but in full);
    # Mar F2 O2/2 (O3/1 never delivered).
    assert [(m, f, n, k) for m, f, n, k in kept[["month", "family", "lines", "lines_kept"]].itertuples(index=False)] == [
        (date(2026, 2, 1), "F1", 1, 1), (MARCH, "F1", 3, 2), (MARCH, "F2", 2, 1)]
    kpi = kpis.kpi_values(tiny_con, kpis.Query(date(2025, 4, 1), AS_OF, AS_OF), ("otif_to_promise",),
                          by=("month", "family"))
    kpi["month"] = pd.to_datetime(kpi["month"]).dt.date
    merged = kept.merge(kpi, on=["month", "family"])
    assert len(merged) == 3 and np.allclose(merged["kept_rate"], merged["value"])  # = the OTIF KPI
    assert len(sm.promise_gap_trend(tiny_con, months=1, as_of=AS_OF)) == 2  # March only


# --------------------------------------------------------------------------- the pack


def test_html_pack_is_offline_escaped_and_dated(tiny_db):
    sid = march_summit(tiny_db, title="March <S&OP>")
    hostile = "<script>alert(1)</script>"
    sm.add_decision(tiny_db, sid, hostile, owner="<b>Eve</b>")
    con = db.open_reader(tiny_db)
    html = sm.export_html(con, sid)
    summit = sm.load_summit(con, sid)
    con.close()
    assert html.startswith("<!DOCTYPE html>")
    assert "cdn.plot.ly" not in html and "<script src=" not in html and "<link" not in html
    assert "2026-03-31" in html and "2026-02-25" in html  # the as-of date and the consensus version used
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Eve</b>" not in html and "March &lt;S&amp;OP&gt;" in html
    assert html.count("Plotly.newPlot") >= 3  # several inline figures ...
    assert html.count("PlotlyConfig") == 1  # ... and plotly.js embedded once
    for step in sm.AGENDA:
        assert f'<section id="{step.key}">' in html
    assert sm.pack_filename(summit, "html") == "sop-summit-2026-03.html"
    assert sm.pack_filename(summit, ".xlsx") == "sop-summit-2026-03.xlsx"


def test_excel_pack_opens_with_a_cover_sheet(tiny_db):
    sid = march_summit(tiny_db)
    sm.add_decision(tiny_db, sid, "=HYPERLINK(\"http://x\")", "Eve", date(2026, 4, 9), kind="action")
    con = db.open_reader(tiny_db)
    data = sm.export_excel(con, sid)
    con.close()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames[0] == "Cover"
    assert {"Scorecard", "Exceptions", "Shortages", "Decisions and actions", "Collaboration pulse"} <= set(wb.sheetnames)
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(min_row=2, values_only=True)}
    assert cover["Title"] == "March S&OP" and cover["Month"] == "2026-03" and cover["As of"] == "2026-03-31"
    assert cover["Consensus forecast snapshot"] == "2026-02-25"
    texts = [r[5] for r in wb["Decisions and actions"].iter_rows(min_row=2, values_only=True)]
    assert texts == ["'=HYPERLINK(\"http://x\")"]  # neutralised, not a live formula
    wb.close()


def test_request_counts_are_frozen_with_the_summit(tiny_db):
    from analytics.planning import requests as rq

    rq.create_request(tiny_db, "A", 10, "2026-04-15", "sam", "C1", at=datetime(2026, 3, 30, 9, 0))
    sid = march_summit(tiny_db)
    rq.create_request(tiny_db, "B", 5, "2026-04-20", "sam", "C2", at=datetime(2026, 3, 30, 10, 0))
    s = sm.load_summit(db.open_reader(tiny_db), sid)
    frozen = s.request_stats.iloc[0]
    assert (int(frozen["requests"]), int(frozen["open"])) == (1, 1)  # the second request came after the start
    assert rq.request_stats(db.open_reader(tiny_db))["requests"] == 2


def test_packs_use_human_headers_and_number_the_agenda_once(tiny_db):
    """The HTML and Excel packs read like the screen: human headers, formats from analytics.presentation."""
    import re

    from analytics import presentation

    sid = march_summit(tiny_db)
    con = db.open_reader(tiny_db)
    html = sm.export_html(con, sid)
    data = sm.export_excel(con, sid)
    con.close()
    headers = re.findall(r"<th>([^<]*)</th>", html)
    assert headers and not [h for h in headers if presentation.is_machine_name(h)]
    assert "Money impact" in headers and "How the money impact is computed" in headers
    # The step titles carry their number: the agenda is a plain list, not an <ol> that numbers them again.
    nav = html[html.index("<nav>"):html.index("</nav>")]
    assert "<ol>" not in nav and "1. Actions from earlier summits" in nav
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        names = [c.value for c in ws[1]]
        assert not [n for n in names if presentation.is_machine_name(n)], (ws.title, names)
    ex = wb["Exceptions"]
    head = [c.value for c in ex[1]]
    money = head.index("Money impact") + 1
    assert ex.cell(2, money).number_format == "#,##0;(#,##0)"
    sc = wb["Scorecard"]
    head = [c.value for c in sc[1]]
    kpi, value = head.index("KPI") + 1, head.index("Value") + 1
    units = {sc.cell(r, kpi).value: sc.cell(r, value).number_format for r in range(2, sc.max_row + 1)}
    assert units["otif_to_promise"] == "0.0%" and units["promise_gap_mean_days"] == "#,##0.0"


# --------------------------------------------------------------------------- cover without demand


def _no_demand_plan():
    """F1 = A (demand 8, 6, 12 a month); F2 = B alone, a sparse SKU forecast 0.002, 0.001, 0 a month (below
    planning.NO_DEMAND_UNITS = 0.5 units: no demand). Level plan: B's need = 0.003 + safety stock 80 - on hand
    50 = 30.003 -> 10.001 a month, so B ends Jan at 59.999 and Feb at 70.0, below its safety stock of 80."""
    from analytics import planning as pl
    from tests.unit.test_planning import make_inputs, product

    inputs = make_inputs(
        [product("A", 10, 20, 0.5, on_hand=10, ss=5), product("B", 5, 8, 1.0, on_hand=50, ss=80, family="F2")],
        {"A": ([5, 6, 12], [3, 0, 0]), "B": ([0.002, 0.001, 0], [0, 0, 0])},
        {"W1": [100, 100, 100]}, receipts={"A": [0, 4, 0]},
    )
    return pl.level_plan(inputs, pl.PlanSettings())


def test_summit_inventory_cover_reads_no_demand_without_demand():
    from analytics.planning import with_cover_text
    from analytics.summit import content

    _, inv, _ = content.supply_review(_no_demand_plan())
    f2 = inv[inv["family"] == "F2"]
    assert f2["days_of_supply"].isna().all()  # stock / 0.001 a month would be ~1,800,000 days
    assert inv.loc[inv["family"] == "F1", "days_of_supply"].notna().all()
    shown = with_cover_text(inv)
    assert shown.loc[shown["family"] == "F2", "days_of_supply"].tolist() == ["no demand"] * 3
    assert "no demand" not in shown.loc[shown["family"] == "F1", "days_of_supply"].tolist()


def test_summit_packs_show_no_demand_as_cover(tmp_path):
    from types import SimpleNamespace

    from analytics import exports
    from analytics.planning import COVER, with_cover_text
    from analytics.summit import content
    from analytics.summit import pack as packs

    _, inv, _ = content.supply_review(_no_demand_plan())
    below = packs.inventory_below_safety_stock(SimpleNamespace(inventory_vs_safety_stock=inv))
    # F2 Jan (59.999 < 80) and Feb (70.0 < 80) are below safety stock; F1 never is.
    assert below["family"].tolist() == ["F2", "F2"] and below["days_of_supply"].tolist() == ["no demand"] * 2
    html = packs.table_html(below, packs.INVENTORY_COLUMNS, overrides={"days_of_supply": COVER})
    assert "<th>Cover (days)</th>" in html and html.count("<td>no demand</td>") == 2 and "–" not in html
    data = exports.to_excel_bytes({"Inventory vs safety stock": with_cover_text(inv)}, human=True)
    ws = load_workbook(io.BytesIO(data))["Inventory vs safety stock"]
    head = [c.value for c in ws[1]]
    cover = [r[head.index("Cover")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert cover[3:] == ["no demand"] * 3 and all(c not in (None, "", "–", "no demand") for c in cover[:3])
