"""Requests from sales to production (analytics/planning/requests.py) and the `promise` command line.
Hours to answer and counts are worked by hand in the comments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from analytics import db
from analytics import planning as pl
from analytics.planning import requests as rq

ROOT = Path(__file__).resolve().parents[2]


def count(path) -> int:
    con = db.open_reader(path)
    try:
        return len(pl.list_requests(con))
    finally:
        con.close()


def test_create_answer_list_and_stats(tiny_db):
    con = db.open_reader(tiny_db)
    plan = pl.chase_plan(pl.plan_inputs(con, date(2026, 3, 31), horizon=3))
    atp = pl.available_to_promise(con, plan, "A", 10, date(2026, 4, 15), price=19.5)
    con.close()
    r1 = pl.create_request(tiny_db, "A", 10, "2026-04-15", "sam", "C1", partial_qty_now=4, rest_by_date="2026-04-30",
                           quoted_price=19.5, atp_summary=atp, flexibility="<b>rush</b> & 'soon'",
                           at=datetime(2026, 4, 1, 9, 0))
    r2 = pl.create_request(tiny_db, "B", 5, date(2026, 5, 2), "sam", latest_acceptable_date="2026-05-20",
                           at=datetime(2026, 4, 1, 10, 0))
    r3 = pl.create_request(tiny_db, "C", 8, date(2026, 4, 20), "kim", at=datetime(2026, 4, 2, 8, 0))
    r4 = pl.create_request(tiny_db, "C", 2, date(2026, 4, 21), "kim", at=datetime(2026, 4, 3, 8, 0))
    assert (r1, r2, r3, r4) == (1, 2, 3, 4)

    # answers: r1 accepted after 3 h, r2 proposed after 24 h, r3 declined after 6 h; r4 stays open
    assert pl.answer_request(tiny_db, r1, "accept", None, "pia", at=datetime(2026, 4, 1, 12, 0)) == "accepted"
    assert pl.answer_request(tiny_db, r2, "propose", "May 10 is possible", "pia", proposed_date="2026-05-10",
                             at=datetime(2026, 4, 2, 10, 0)) == "proposed"
    pl.answer_request(tiny_db, r3, "decline", "W2 is full", "pia", at=datetime(2026, 4, 2, 14, 0))
    with pytest.raises(ValueError, match="Request 1 was already answered \\(accepted by pia"):
        pl.answer_request(tiny_db, r1, "decline", "changed my mind", "pia")

    con = db.open_reader(tiny_db)
    try:
        all_rows = pl.list_requests(con)
        assert all_rows["request_id"].tolist() == [4, 3, 2, 1]  # newest first
        one = all_rows.set_index("request_id").loc[1]
        assert one["flexibility"] == "<b>rush</b> & 'soon'"  # stored as given; the screen escapes it
        assert one["partial_qty_now"] == 4 and str(one["rest_by_date"])[:10] == "2026-04-30"
        assert one["atp_summary"].startswith(("available", "not available")) and "x A on 2026-04-15" in one["atp_summary"]
        assert one["hours_to_answer"] == pytest.approx(3.0)
        assert pl.list_requests(con, "open")["request_id"].tolist() == [4]
        assert pl.list_requests(con, "answered")["request_id"].tolist() == [3, 2, 1]
        prop = pl.list_requests(con, "proposed").iloc[0]
        assert str(prop["proposed_date"])[:10] == "2026-05-10" and prop["answer_note"] == "May 10 is possible"
        stats = pl.request_stats(con)
        # 4 requests, 1 open, 3 answered (1 each); hours 3, 24, 6 -> median 6, mean 33 / 3 = 11
        assert stats == {"requests": 4, "open": 1, "answered": 3, "accepted": 1, "proposed": 1, "declined": 1,
                         "median_hours_to_answer": 6.0, "mean_hours_to_answer": 11.0}
        # since 2026-04-02: r3 (declined, 6 h) and r4 (open)
        assert pl.request_stats(con, since=date(2026, 4, 2)) == {
            "requests": 2, "open": 1, "answered": 1, "accepted": 0, "proposed": 0, "declined": 1,
            "median_hours_to_answer": 6.0, "mean_hours_to_answer": 6.0}
        with pytest.raises(ValueError, match="status"):
            pl.list_requests(con, "lost")
    finally:
        con.close()


def test_request_validation_writes_nothing(tiny_db):
    with pytest.raises(ValueError, match="Unknown SKU 'ZZ'"):
        pl.create_request(tiny_db, "ZZ", 1, "2026-04-15", "sam")
    with pytest.raises(ValueError, match="Unknown customer 'C9'"):
        pl.create_request(tiny_db, "A", 1, "2026-04-15", "sam", "C9")
    with pytest.raises(ValueError, match="positive"):
        pl.create_request(tiny_db, "A", 0, "2026-04-15", "sam")
    with pytest.raises(ValueError, match="below the quantity"):
        pl.create_request(tiny_db, "A", 5, "2026-04-15", "sam", partial_qty_now=5)
    with pytest.raises(ValueError, match="before the requested date"):
        pl.create_request(tiny_db, "A", 5, "2026-04-15", "sam", latest_acceptable_date="2026-04-01")
    with pytest.raises(ValueError, match="501 characters long; at most 500"):
        pl.create_request(tiny_db, "A", 5, "2026-04-15", "sam", flexibility="x" * 501)
    with pytest.raises(ValueError, match="requested_by"):
        pl.create_request(tiny_db, "A", 5, "2026-04-15", " ")
    assert count(tiny_db) == 0
    rid = pl.create_request(tiny_db, "A", 5, "2026-04-15", "sam", flexibility="x" * 500)
    with pytest.raises(ValueError, match="note is required"):
        pl.answer_request(tiny_db, rid, "decline", "  ", "pia")
    with pytest.raises(ValueError, match="note is required"):
        pl.answer_request(tiny_db, rid, "propose", None, "pia", proposed_qty=3)
    with pytest.raises(ValueError, match="another date and/or quantity"):
        pl.answer_request(tiny_db, rid, "propose", "later", "pia")
    with pytest.raises(ValueError, match="Only a proposal"):
        pl.answer_request(tiny_db, rid, "accept", None, "pia", proposed_qty=3)
    with pytest.raises(ValueError, match="decision is one of"):
        pl.answer_request(tiny_db, rid, "maybe", "x", "pia")
    with pytest.raises(ValueError, match="No request 99"):
        pl.answer_request(tiny_db, 99, "accept", None, "pia")
    con = db.open_reader(tiny_db)
    try:
        assert pl.request_stats(con)["open"] == 1
    finally:
        con.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_promise_cli_json_text_and_unknown_sku(tiny_db, tmp_path):
    base = ["promise", "--db", str(tiny_db), "--as-of", "2026-03-31", "--horizon", "3"]
    out = run_cli(*base, "--sku", "A", "--qty", "5", "--date", "2026-04-15", "--price", "18", "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["sku"] == "A" and answer["qty"] == 5 and answer["price"] == 18
    assert answer["strategy"] == "optimised" and answer["as_of"] == "2026-03-31" and answer["horizon"] == 3
    assert answer["requested_month"] == "2026-04-01" and len(answer["atp_by_month"]) == 3
    # the answer agrees with itself: on the date = min(qty, ATP of the month); margin = 5 x (18 - cost 10) = 40
    assert answer["qty_on_requested_date"] == pytest.approx(min(5, answer["atp_in_requested_month"]))
    assert answer["partial_now"] == answer["qty_on_requested_date"]
    assert answer["margin_before_expediting"] == pytest.approx(40.0)
    assert answer["verdict"] == ("available" if answer["available"] else answer["verdict"])
    # the same as in-process
    con = db.open_reader(tiny_db)
    try:
        same = pl.promise_answer(con, "A", 5, "2026-04-15", price=18, horizon=3, as_of="2026-03-31")
    finally:
        con.close()
    assert same == answer

    # far more than W1 can make (1e6 x 0.5 h): no CTP, not within the horizon
    text = run_cli(*base, "--sku", "A", "--qty", "1000000", "--date", "2026-04-15", "--strategy", "chase")
    assert text.returncode == 0, text.stderr
    assert "Verdict:" in text.stdout and "Earliest full:    not within the plan horizon" in text.stdout
    assert ("partial only" in text.stdout) or ("not available" in text.stdout)

    bad = run_cli(*base, "--sku", "AA", "--qty", "5", "--date", "2026-04-15")
    assert bad.returncode == 2 and "Unknown SKU 'AA'" in bad.stderr and "Traceback" not in bad.stderr


def test_promise_cli_on_the_demo_database(tmp_path):
    from analytics import demo as demo_company

    demo = tmp_path / "demo.duckdb"  # a small demo company of its own: the test runs on any machine
    demo_company.build_demo(demo, scale=0.1, seed=42, as_of=date(2026, 10, 31))
    out = run_cli("promise", "--db", str(demo), "--sku", "DESK-001", "--qty", "40", "--date", "2026-12-20", "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["as_of"] == "2026-10-31" and answer["requested_month"] == "2026-12-01"
    assert len(answer["atp_by_month"]) == 18 and answer["verdict"] in (
        "available", "capable to promise", "capable to promise, only if production absorbs the expediting cost",
        "later date", "partial only", "not available")


def test_atp_summary_fits_the_limit():
    answer = {"sku": "A", "qty": 10.0, "requested_date": date(2026, 4, 15), "available": False,
              "qty_on_requested_date": 4.0, "earliest_full_date": date(2026, 5, 31),
              "ctp_best": {"option": "pull forward", "cost": 12.5}, "margin_after_expediting": 87.5, "price": 20.0}
    assert rq.atp_summary_text(answer) == (
        "not available: 4 of 10 x A on 2026-04-15; full quantity by 2026-05-31; CTP by pull forward at 12.50; "
        "margin 87.50 at price 20.00")
