"""The one dating rule: business records are dated by the data's as-of date, never by the wall clock.

Works on the tiny company of tests/conftest.py, whose data as-of date (the last event) is 2026-03-24.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from analytics import db, demand, kpis
from analytics.planning import plan_inputs

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 24)  # the tiny company's last event (a delivery on 03-24)
APRIL = date(2026, 4, 1)

# Calls that read today's date off the wall clock. Timestamps (datetime.now) are audit times and allowed.
WALL_CLOCK_DATE = re.compile(
    r"\bdate\.today\(|\bdatetime\.today\(|Timestamp\.today\(|Timestamp\.now\(\)\.(date|normalize)"
)
# The demo generator may pick its as-of date from the calendar (its documented default: last month's end).
ALLOWED = {"analytics/demo.py"}


def test_no_business_date_comes_from_the_wall_clock():
    hits = []
    for folder in ("analytics", "ui", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if WALL_CLOCK_DATE.search(line) and not line.lstrip().startswith("#"):
                    hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "dates from the wall clock:\n" + "\n".join(hits)


def _consensus(con, snapshot: date) -> dict:
    return {
        (s, p): q
        for s, p, q in con.execute(
            "SELECT sku, period, quantity FROM forecasts WHERE source = 'consensus' AND snapshot_date = $d",
            {"d": snapshot},
        ).fetchall()
    }


def test_an_override_is_dated_by_the_data_and_a_second_one_the_same_day_supersedes(tiny_db):
    con = db.open_reader(tiny_db)
    assert kpis.default_as_of(con) == AS_OF
    con.close()
    # Base: the consensus of 2026-02-25 (A Mar 20, B Mar 6, A Apr 9). Save A Apr -> 12 without a date.
    assert demand.save_override(tiny_db, "sku", "A", {APRIL: 12}, "units", "promo", "ann") == 1
    con = db.open_reader(tiny_db)
    got = _consensus(con, AS_OF)  # dated by the data (2026-03-24), not by today's date
    assert got == {("A", date(2026, 3, 1)): 20.0, ("B", date(2026, 3, 1)): 6.0, ("A", APRIL): 12.0}
    con.close()
    # A second save on the same data day starts from that snapshot (consensus wins the tie) and replaces it:
    # A Apr 12 -> 15, the other cells carried; one snapshot for the day, no key collision.
    assert demand.save_override(tiny_db, "sku", "A", {APRIL: 15}, "units", "bigger promo", "bob") == 1
    con = db.open_reader(tiny_db)
    got = _consensus(con, AS_OF)
    assert got[("A", APRIL)] == 15.0 and len(got) == 3
    hist = demand.override_history(con, sku="A")
    assert list(zip(hist["base_qty"], hist["new_qty"])) == [(12.0, 15.0), (9.0, 12.0)]  # newest first
    assert set(hist["snapshot_date"].dt.date) == {AS_OF}
    # Planning as of the data date reads it: the plan starts in April; A's April forecast (by order month) is 15.
    inputs = plan_inputs(con, AS_OF, horizon=3)
    a_april = inputs.demand[(inputs.demand["sku"] == "A") & (inputs.demand["period"] == "2026-04-01")].iloc[0]
    assert a_april["forecast_ordered"] == 15.0
    assert a_april["demand_source"] == "consensus" and a_april["snapshot_date"].date() == AS_OF
    con.close()


def _load_rows(rows):
    """(work center, month, available, demand load, plan load, plan overtime) -> an unconstrained_load frame."""
    import pandas as pd

    df = pd.DataFrame(
        rows,
        columns=[
            "work_center",
            "period",
            "available_hours",
            "demand_load_hours",
            "plan_load_hours",
            "planned_overtime_hours",
        ],
    )
    df["period"] = pd.to_datetime(df["period"])
    df["demand_utilisation"] = df["demand_load_hours"] / df["available_hours"]
    df["plan_utilisation"] = df["plan_load_hours"] / df["available_hours"]
    df["demand_overloaded"] = df["demand_load_hours"] > df["available_hours"]
    df["plan_overloaded"] = df["plan_load_hours"] > df["available_hours"]
    df["top_contributors"] = ""
    return df


def test_the_overload_story_names_the_work_center_and_what_the_plan_does():
    from analytics.summit import content

    # UPH: 100 h a month. Demand as it falls due: 60, 80, 125, 110 h -> overloaded in Mar (125%) and Apr (110%).
    # The optimised plan builds ahead in February (95 h > 80 h) and runs at most 100 h: smoothed, peak 100%.
    rows = [
        ("UPH", "2027-01-01", 100, 60, 60, 0),
        ("UPH", "2027-02-01", 100, 80, 95, 0),
        ("UPH", "2027-03-01", 100, 125, 100, 0),
        ("UPH", "2027-04-01", 100, 110, 100, 0),
        ("CUT", "2027-01-01", 50, 10, 10, 0),
        ("CUT", "2027-02-01", 50, 10, 10, 0),
        ("CUT", "2027-03-01", 50, 10, 10, 0),
        ("CUT", "2027-04-01", 50, 10, 10, 0),
    ]
    story = content.overload_story(_load_rows(rows), "optimised")
    assert story == [
        "Producing demand as it falls due (chase plan) would overload UPH in 2 of the 4 plan months "
        "(Mar 2027 125%, Apr 2027 110% of available hours). The optimised plan shown smooths it (building ahead "
        "from Feb 2027): its highest load there is 100%."
    ]
    # A plan that still overloads April (120 h with 20 overtime hours) says so.
    rows[3] = ("UPH", "2027-04-01", 100, 110, 120, 20)
    story = content.overload_story(_load_rows(rows), "level")
    assert story[0].endswith(
        "The level plan shown still loads it above available hours in Apr 2027 (highest 120%; "
        "building ahead from Feb 2027, 20 overtime hours)."
    )
    # Nothing overloaded; an older summit without the frame says nothing.
    calm = [r for r in rows if r[0] == "CUT"]
    assert content.overload_story(_load_rows(calm), "optimised")[0].startswith(
        "Producing demand as it falls due (chase plan), no work center"
    )
    assert content.overload_story(_load_rows([])[:0], "optimised") == []


def test_the_summit_says_which_plan_it_shows():
    from analytics.summit import content

    made = {
        "kind": "optimised plan made at the summit start",
        "strategy": "optimised",
        "plan_as_of": "2026-03-24",
        "first_period": "2026-04-01",
        "horizon": 12,
    }
    assert content.plan_statement(made) == (
        "Plan shown: the optimised plan made when the summit started, on the "
        "data as of 2026-03-24, 12 months from Apr 2026, default settings."
    )
    rec = {
        "kind": "recommended scenario",
        "name": "Promo",
        "strategy": "level",
        "plan_id": 7,
        "plan_version": 2,
        "plan_as_of": "2026-02-28",
        "first_period": "2026-03-01",
        "horizon": 18,
    }
    assert content.plan_statement(rec) == (
        "Plan shown: the recommended scenario 'Promo' (level strategy, saved plan "
        "#7 version 2), planned on the data as of 2026-02-28, 18 months from "
        "Mar 2026."
    )
    stale = rec | {"stale": "'Promo' was computed on older data (as of 2026-02-28): ..."}
    assert content.plan_statement(stale).endswith(
        "Mar 2026. 'Promo' was computed on older data (as of 2026-02-28): ..."
    )


# --------------------------------------------------------------------------- ATP explains itself


def test_atp_names_the_month_that_limits_it_and_says_why():
    import pandas as pd

    from analytics import planning as pl
    from tests.unit.test_planning import JAN, atp_plan, make_inputs, product

    # A (tests/unit/test_planning.py): supply 10 (on hand), 0, 10; committed 6, 3, 6 -> cumulative net 4, 1, 5;
    # ATP = lowest net from the month on: 1, 1, 5, limited by February, February, March.
    res = pl.available_to_promise(None, atp_plan(), "A", 5, date(2027, 1, 20))
    t = res["atp_by_month"]
    assert t["cumulative_net"].tolist() == [4, 1, 5] and t["atp"].tolist() == [1, 1, 5]
    assert [d.strftime("%Y-%m") for d in t["limited_by"]] == ["2027-02", "2027-02", "2027-03"]
    # A request to production built from the answer is dated by the plan's data day, not the wall clock.
    from analytics.planning.requests import atp_summary_text

    assert res["as_of"] == atp_plan().as_of and atp_summary_text(res).endswith(f"plan as of {res['as_of']}")
    assert res["atp_explanation"].startswith(
        "Available to promise in Jan 2027: 1. Supply up to Jan 2027 less what is committed to the forecast and the "
        "orders on the books leaves 4 (cumulative net); by Feb 2027 it falls to 1, so only 1 can be promised "
        "without taking stock from a later month."
    )

    # The audit's case: 321 in stock, nothing made, demand 0, 100, 221 -> net 321, 221, 0: ATP 0 every month
    # next to a cumulative net of 321, because March needs every unit.
    inputs = make_inputs([product("S", 10, 20, 1.0, on_hand=321)], {"S": ([0, 100, 221], [0, 0, 0])}, {"W1": [500] * 3})
    production = pd.DataFrame(
        {
            "sku": ["S"] * 3,
            "period": [pd.Timestamp(m) for m in (JAN, date(2027, 2, 1), date(2027, 3, 1))],
            "production": [0.0, 0.0, 0.0],
        }
    )
    plan = pl.evaluate_plan(inputs, production, pl.PlanSettings())
    res = pl.available_to_promise(None, plan, "S", 10, date(2027, 1, 15))
    assert res["atp_by_month"]["atp"].tolist() == [0, 0, 0]
    assert res["atp_by_month"]["cumulative_net"].tolist() == [321, 221, 0]
    assert res["atp_explanation"] == (
        "Available to promise in Jan 2027: 0. Supply up to Jan 2027 less what is committed to the forecast and the "
        "orders on the books leaves 321 (cumulative net); but by Mar 2027 the cumulative net falls to 0: every unit "
        "is needed for later demand, so nothing can be promised without taking it from a later month. The plan makes "
        "what the forecast needs: an order on top of the forecast needs extra supply (capable to promise, below). If "
        "this order is part of the forecast, check it as consuming the forecast."
    )
    # Consuming the forecast (no orders on the books): all 321 are free in January.
    res = pl.available_to_promise(None, plan, "S", 10, date(2027, 1, 15), consume_forecast=True)
    assert res["available"] and res["atp_by_month"]["atp"].tolist() == [321, 321, 321]


def test_atp_explanation_reads_whole_units_and_says_when_the_plan_is_short():
    import pandas as pd

    from analytics.planning import atp_explanation
    from analytics.planning.promise import cumulative_atp

    def answer(supply, committed):
        net, atp = cumulative_atp(supply, committed)
        periods = [pd.Timestamp(2027, m, 1) for m in range(1, len(net) + 1)]
        table = pd.DataFrame({"period": periods, "cumulative_net": net, "atp": atp})
        return {"atp_by_month": table, "requested_month": periods[0], "consume_forecast": True}

    # net 0, then -0.3 (a fraction of a unit short later): reads as 0 in January, not "falls to -0".
    text = atp_explanation(answer([10, 0], [10, 0.3]))
    assert text == (
        "Available to promise in Jan 2027: 0. Supply up to Jan 2027 less what is committed to the orders "
        "on the books leaves 0 (cumulative net): the plan makes exactly what is committed, so nothing is "
        "left over to promise."
    )
    # 5 short in January: the plan is short.
    assert "leaves -5 (cumulative net): the plan is short of what is committed" in atp_explanation(answer([0], [5]))
    # 20 now, 12 needed in February: 8 can be promised, limited by February.
    assert atp_explanation(answer([20, 0], [0, 12])).endswith(
        "leaves 20 (cumulative net); by Feb 2027 it falls to 8, so only 8 can be promised without taking stock from "
        "a later month."
    )
