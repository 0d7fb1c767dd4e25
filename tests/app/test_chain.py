"""The chain the product exists for, end to end through the pages: a consensus override saved on the demand
workbench reaches the supply plan, the promise answer and a new summit's "consensus changes".

The tiny company (tests/conftest.py): data as of 2026-03-24 (the last event), so the statistical run, the
override and the summit are all dated 2026-03-24 and the plan starts in April 2026.

Worked by hand:
* The statistical run (as of 03-24, last complete month February) forecasts B and C; A has no order in a
  complete month, so it has no statistical forecast. Before the override the plan takes A's April from the
  latest consensus on or before 03-24: the 02-25 snapshot, A April = 9.
* The override sets A April 2026 to 40 units. Its base is the newest snapshot on or before 03-24: the
  statistical one of 03-24 (newer than consensus 02-25); A is not in it, so base_qty = 0. The new consensus
  snapshot (dated 03-24) is the statistical snapshot with A April = 40 added.
* Planning phases the forecast by order month over the months orders fall due: the orders of the 12 complete
  months to February 2026 are O0 (2 units, due the same month) and O3 (4 units, ordered 02-20, due 03-30: one
  month later) -> shares 1/3 same month, 2/3 a month later. A's demand in April = 40 x 1/3 + backlog 3 (O4,
  promised 04-05) = 16.333 (before: 9 x 1/3 + 3 = 6).
* Promise: the answer commits A's April demand, 16.333, on top of which the new order comes.
* Summit "consensus changes", family F1 (A and B), April: consensus 40 (A) + B's statistical April forecast;
  previous cycle = the latest consensus before March 2026 = 02-25: A April 9 -> previous 9; one overridden
  cell, override change 40 - 0 = 40, reason "Trade fair in spring".
"""

from __future__ import annotations

import concurrent.futures as cf
from datetime import date

import pytest

from analytics import db, planning, summit
from tests.app.test_pages import _submit, run_page

AS_OF = date(2026, 3, 24)
APRIL = date(2026, 4, 1)
REASON = "Trade fair in spring"


@pytest.fixture()
def run_db(tiny_db, monkeypatch):
    """The tiny company (the pages' database) after a statistical run dated by the data (as of 2026-03-24)."""
    from analytics.forecasting import batch

    monkeypatch.setenv("SOP_DB", str(tiny_db))
    with cf.ThreadPoolExecutor(2) as ex:
        report = batch.run_forecast(tiny_db, horizon=12, executor=ex)
    assert report.snapshot_date == AS_OF
    return tiny_db


def _a_april_demand(path) -> float:
    con = db.open_reader(path)
    try:
        plan = planning.make_plan(planning.plan_inputs(con, AS_OF, 18), "optimised")
    finally:
        con.close()
    row = plan.lines[(plan.lines["sku"] == "A") & (plan.lines["period"] == "2026-04-01")].iloc[0]
    return float(row["demand"])


def test_an_override_on_the_workbench_reaches_plan_promise_and_summit(run_db):
    assert _a_april_demand(run_db) == pytest.approx(9 / 3 + 3)  # before: the 02-25 consensus

    # 1. The workbench: SKU A, Override tab, April 2026 -> 40 units, with a reason.
    at = run_page("pages/demand_workbench.py")
    assert not at.exception
    assert any("Statistical run #1 · snapshot 2026-03-24" in c.value for c in at.caption)
    at.selectbox(key="wb_sku").set_value("A")
    at.run()
    assert not any("run the statistical forecast first" in i.value for i in at.info)
    assert at.multiselect(key="wb_ovr_months").options[:2] == ["Mar 2026", "Apr 2026"]  # from the data's month
    at.multiselect(key="wb_ovr_months").set_value([APRIL])
    at.radio(key="wb_ovr_unit").set_value("units")
    at.number_input(key="wb_ovr_value").set_value(40.0)
    at.text_input(key="wb_ovr_reason").set_value(REASON)
    at.text_input(key="wb_ovr_user").set_value("Pat")
    _submit(at, "Save as new consensus")
    assert any("1 forecast cells changed" in s.value for s in at.success), [e.value for e in at.error]
    con = db.open_reader(run_db)
    snap = con.execute(
        "SELECT snapshot_date, quantity FROM forecasts WHERE source = 'consensus' AND sku = 'A' "
        "AND period = $p ORDER BY snapshot_date DESC LIMIT 1",
        {"p": APRIL},
    ).fetchall()
    b_april = con.execute(
        "SELECT quantity FROM forecasts WHERE source = 'statistical' AND sku = 'B' "
        "AND period = $p AND snapshot_date = $d",
        {"p": APRIL, "d": AS_OF},
    ).fetchall()[0][0]
    con.close()
    assert snap == [(AS_OF, 40.0)]  # dated by the data, not by today's date

    # 2. The supply plan (the supply review page and the planning function it calls).
    assert _a_april_demand(run_db) == pytest.approx(40 / 3 + 3)
    at = run_page("pages/supply_review.py")
    at.radio(key="sr_level").set_value("sku")
    at.run()
    at.selectbox(key="sr_pick_sku").set_value("A")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    april = table[table.astype(str).apply(lambda r: r.str.contains("2026-04-01")).any(axis=1)]
    assert len(april) == 1
    assert april.iloc[0]["Demand units"] == 16, april  # 40/3 + 3 = 16.3, shown in whole units

    # 3. The promise page: the answer for A in April commits the new demand.
    at = run_page("pages/promise.py")
    at.selectbox(key="pr_sku").set_value("A")
    at.number_input(key="pr_qty").set_value(5.0)
    at.date_input(key="pr_date").set_value(date(2026, 4, 20))
    _submit(at, "Check")
    assert not at.exception
    answer = at.session_state["pr_answer"]
    atp = answer["atp_by_month"].set_index("period")
    assert atp.loc["2026-04-01", "committed"] == pytest.approx(40 / 3 + 3)
    # The optimised plan holds no safety stock here (tiny history): it makes on hand 10 + 6.333 = 16.333, exactly
    # the demand -> cumulative net 0, ATP 0, and the page says why.
    assert atp.loc["2026-04-01", "cumulative_net"] == pytest.approx(0, abs=1e-6)
    assert answer["atp_explanation"].startswith(
        "Available to promise in Apr 2026: 0. Supply up to Apr 2026 less what is committed to the forecast and the "
        "orders on the books leaves 0 (cumulative net): the plan makes exactly what is committed"
    )
    assert any(i.value.replace("\\", "").startswith("Available to promise in Apr 2026: 0.") for i in at.info)
    # The same order as part of the forecast (it consumes it): only the backlog (3) is committed in April, so
    # supply 10 + 6.333 less 3 = 13.333 = 40/3 (the April forecast this order is part of) is available.
    at.checkbox(key="pr_consume").check()
    _submit(at, "Check")
    atp = at.session_state["pr_answer"]["atp_by_month"].set_index("period")
    assert atp.loc["2026-04-01", "atp"] == pytest.approx(40 / 3)
    assert at.session_state["pr_answer"]["available"]

    # 4. A new summit: its demand step's "consensus changes" shows the override and its reason.
    at = run_page("pages/summit.py")
    _submit(at, "Freeze the data and start")
    assert not at.exception
    sid = at.session_state["sm_id"]
    con = db.open_reader(run_db)
    s = summit.load_summit(con, sid)
    con.close()
    assert s.as_of == AS_OF and s.versions["consensus_snapshot"] == "2026-03-24"
    ch = s.consensus_changes.set_index(["family", "period"]).loc[("F1", APRIL)]
    assert ch["consensus"] == pytest.approx(40 + b_april)
    assert ch["previous_consensus"] == pytest.approx(9)
    assert ch["override_cells"] == 1 and ch["override_change"] == pytest.approx(40)
    assert ch["reasons"] == REASON
    while not at.header[0].value.startswith("4."):  # walk the agenda to the demand review
        _submit(at, "Next ▶")
    assert not at.exception
    shown = [t.value for t in at.table]
    assert any(t.astype(str).apply(lambda r: r.str.contains(REASON)).any(axis=None) for t in shown), shown
    # 5. The supply step says which plan it shows (the tiny company's work centers are not overloaded).
    while not at.header[0].value.startswith("5."):
        _submit(at, "Next ▶")
    assert any(
        m.value.replace("\\", "").startswith(  # the page escapes Markdown
            "**Plan shown: the optimised plan made when the summit started, on the data as of 2026-03-24"
        )
        for m in at.markdown
    ), [m.value for m in at.markdown]
    assert not s.unconstrained_load.empty and not s.unconstrained_load["demand_overloaded"].any()


def test_a_stale_scenario_says_so_on_the_page_and_in_the_summit(tiny_db, monkeypatch):
    """A no-change scenario saved on the Scenarios page compares to 0 difference, also after the data changed;
    after an override the page and a new summit's scenarios step say it was computed on older data."""
    from analytics import demand

    monkeypatch.setenv("SOP_DB", str(tiny_db))
    at = run_page("pages/scenarios.py")
    next(t for t in at.text_input if t.label == "Scenario name").set_value("No change")
    _submit(at, "Run and save scenario")
    assert any("Saved scenario 'No change'" in s.value for s in at.success), [e.value for e in at.error]
    assert not at.warning  # computed on the current data
    from analytics.planning import scenarios as sc

    sc.mark_recommended(tiny_db, "No change")  # the summit's plan: this scenario's saved plan
    demand.save_override(tiny_db, "sku", "A", {APRIL: 40}, "units", REASON, "Pat")  # new data, same data day
    at = run_page("pages/scenarios.py")
    assert any(
        "'No change' was computed on older data (as of 2026-03-24)" in w.value.replace("\\", "") for w in at.warning
    ), [w.value for w in at.warning]
    at = run_page("pages/summit.py")
    _submit(at, "Freeze the data and start")
    con = db.open_reader(tiny_db)
    s = summit.load_summit(con, at.session_state["sm_id"])
    con.close()
    comp = s.scenario_comparison.set_index("kpi")
    assert (comp.loc[["revenue", "fill_rate", "total_cost", "months_differing"], "No change delta"] == 0).all()
    assert s.scenarios["basis"].iloc[0].startswith("'No change' was computed on older data")
    # The supply step's plan is that scenario's saved plan, made before the override: the step says so.
    assert s.versions["plan"]["stale"].startswith("'No change' was computed on older data")
    while not at.header[0].value.startswith("5."):
        _submit(at, "Next ▶")
    assert any(
        "Plan shown: the recommended scenario 'No change'" in m.value.replace("\\", "")
        and "computed on older data" in m.value
        for m in at.markdown
    )
    while not at.header[0].value.startswith("7."):  # the scenarios step warns
        _submit(at, "Next ▶")
    assert any("computed on older data" in w.value for w in at.warning)
    # Run it again on the current data from the Scenarios page: no warning, still recommended, still 0 difference.
    at = run_page("pages/scenarios.py")
    _submit(at, "Run 'No change' again on the current data")
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    con = db.open_reader(tiny_db)
    assert sc.recommended_scenario(con) == "No change"
    comp = sc.compare_scenarios(con, ["No change"]).set_index("kpi")
    con.close()
    assert (comp.loc[["revenue", "total_cost", "months_differing"], "No change delta"] == 0).all()
    assert comp.attrs["stale"] == {"No change": None}
