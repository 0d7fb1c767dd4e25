"""Every page renders headless (AppTest) on the tiny company, and the scorecard shows its numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import access

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/scorecard.py", "pages/targets.py", "pages/import_data.py", "pages/data_audit.py",
         "pages/demand_workbench.py", "pages/forecast_value_added.py", "pages/supply_review.py",
         "pages/scenarios.py", "pages/promise.py", "pages/summit.py", "pages/admin.py"]


@pytest.fixture()
def app_db(tiny_db, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    return tiny_db


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["_entry_point_ran"] = True  # as if app.py had run (see ui.common.entry_guard)
    at.session_state["_sop_user"] = access.LOCAL  # as on localhost without an access file (tests/app/test_access_pages.py)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app_db, page):
    from tests.app.human_tables import assert_human_tables

    at = run_page(page)
    assert not at.exception, at.exception
    assert_human_tables(at)  # every table a person sees: human headers, numbers formatted (ui.tables)


def test_entry_point_runs_default_page(app_db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["_sop_user"] = access.LOCAL
    at.run()
    assert not at.exception
    assert at.title[0].value == "KPI scorecard"


def test_scorecard_shows_hand_worked_values(app_db):
    at = run_page("pages/scorecard.py")
    # As of 2026-03-24 (the last event) March is incomplete, so the default month is February 2026.
    at.selectbox(key="sc_month").set_value(next(o for o in at.selectbox(key="sc_month").options if "March" in o))
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    # As of 03-24: lines promised 03-10, 03-12, 03-15 -> OTIF 2 of 3.
    assert metrics["OTIF to promise"] == "66.7%"
    assert metrics["Order accuracy"] == "75.0%"


def test_sidebar_filter_changes_the_numbers(app_db):
    at = run_page("pages/scorecard.py")
    at.selectbox(key="sc_month").set_value(next(o for o in at.selectbox(key="sc_month").options if "March" in o))
    at.run()
    at.sidebar.multiselect(key="flt_regions").set_value(["North"])
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    # North, promised up to 03-24: O1/1 on time, O1/2 late -> 50%.
    assert metrics["OTIF to promise"] == "50.0%"
    # Inventory is not held by region: the tile says so instead of a number.
    assert metrics["Inventory turnover"] == "n/a"


def test_missing_database_gives_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(tmp_path / "nothing.duckdb"))
    at = run_page("pages/scorecard.py")
    assert not at.exception
    assert "No database at" in at.error[0].value


def test_scorecard_date_range_and_every_kpi_panel(app_db):
    at = run_page("pages/scorecard.py")
    at.radio(key="sc_period").set_value("Date range")
    at.run()
    at.date_input(key="sc_range").set_value((__import__("datetime").date(2026, 2, 1), __import__("datetime").date(2026, 3, 24)))
    at.run()
    assert not at.exception
    assert any("2026-02-01 to 2026-03-24" in c.value for c in at.caption)
    for kpi in ("forecast_accuracy", "capacity_utilisation", "promise_gap_mean_days", "nps"):
        at.selectbox(key="sc_kpi").set_value(kpi)
        for tab in ("Trend", "Drill-down", "How is this computed", "All KPIs"):
            at.session_state["sc_tab"] = tab
            at.run()
            assert not at.exception, (kpi, tab)
    # The "how is this computed" panel shows the one written definition from the spec.
    from analytics.kpis import SPECS

    at.session_state["sc_tab"] = "How is this computed"
    at.run()
    assert any(SPECS["nps"].definition in m.value for m in at.markdown)


def test_scorecard_draws_only_the_open_tab(app_db):
    """The first view builds the trend chart only; the drill-down's chart and table come when its tab is opened."""
    at = run_page("pages/scorecard.py")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 0
    assert "sc_dim" not in at.session_state  # the drill-down did not run
    at.session_state["sc_tab"] = "Drill-down"
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
    assert at.radio(key="sc_dim").value == "family"


def test_supply_review_every_strategy(app_db):
    at = run_page("pages/supply_review.py")
    assert not at.exception
    for strategy in ("chase", "level", "optimised"):
        at.radio(key="sr_strategy").set_value(strategy)
        at.run()
        assert not at.exception, strategy
        assert at.metric[0].label == "Total cost"


def test_supply_review_draws_the_open_tab_and_keeps_its_choices(app_db):
    """Only the open tab is computed and sent; a choice made in a tab survives a visit to another tab."""
    at = run_page("pages/supply_review.py")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1  # the plan figure only: no capacity heatmap yet
    at.radio(key="sr_level").set_value("sku")
    at.run()
    sku = at.selectbox(key="sr_pick_sku").options[1]
    at.selectbox(key="sr_pick_sku").set_value(sku)
    at.run()
    table = at.dataframe[0].value
    assert len(table) and set(table["SKU"]) == {sku}  # the table follows the pick

    at.session_state["sr_tab"] = "Capacity"
    at.run()
    assert not at.exception
    assert "sr_level" not in at.session_state  # the plan tab's widgets were not drawn
    assert any("overloaded" in m.value or "No work center" in m.value for m in at.markdown)

    at.session_state["sr_tab"] = "Plan"
    at.run()
    assert at.radio(key="sr_level").value == "sku" and at.selectbox(key="sr_pick_sku").value == sku


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()


def test_scenarios_save_two_and_compare(app_db):
    at = run_page("pages/scenarios.py")
    assert not at.exception
    for name, field, value in (("Costly stock", "Holding, % of cost per month", 4.0),
                               ("Better service", "Service level class A (%)", 99.5)):
        next(t for t in at.text_input if t.label == "Scenario name").set_value(name)
        next(n for n in at.number_input if n.label == field).set_value(value)
        _submit(at, "Run and save scenario")
        assert not at.exception
        assert any(f"Saved scenario '{name}'" in s.value for s in at.success), [e.value for e in at.error]
    at.multiselect(key="sc_compare").set_value(["Costly stock", "Better service"])
    at.run()
    # Both are compared side by side against the baseline: one row per KPI, a column per scenario.
    table = next(d.value for d in at.dataframe if "Costly stock" in d.value.columns)
    assert {"Baseline", "Costly stock", "Better service"} <= set(table.columns)
    _submit(at, "Mark as recommended")
    assert any("is the recommended scenario" in s.value for s in at.success)


def test_promise_check_and_request_round_trip(app_db):
    at = run_page("pages/promise.py")
    at.selectbox(key="pr_sku").set_value("A")
    at.number_input(key="pr_qty").set_value(5.0)
    _submit(at, "Check")
    assert not at.exception
    assert at.metric[0].label == "Available on the requested date"
    at.text_input(key="pr_who").set_value("Sam Sales")
    _submit(at, "Send to production")
    assert any("sent to production" in s.value for s in at.success), [e.value for e in at.error]
    at.run()
    assert {m.label: m.value for m in at.metric}["Open"] == "1"
    next(t for t in at.text_input if t.label == "Planner").set_value("Pat Planner")
    _submit(at, "Send answer")
    assert any("answered: accept" in s.value for s in at.success), [e.value for e in at.error]
    at.run()
    assert {m.label: m.value for m in at.metric}["Accepted"] == "1"


def test_summit_start_walk_the_agenda_and_decide(app_db):
    """Start a summit (frozen), step through all ten agenda steps, record a decision."""
    at = run_page("pages/summit.py")
    assert not at.exception
    _submit(at, "Freeze the data and start")
    assert not at.exception
    headers = []
    for _ in range(10):
        headers.append(at.header[0].value)
        nxt = next(b for b in at.button if b.label == "Next ▶")
        if nxt.disabled:
            break
        nxt.click()
        at.run()
        assert not at.exception, headers[-1]
    assert headers[0].startswith("1.") and headers[-1].startswith("10. Decisions")
    next(t for t in at.text_area if t.label == "Decision or action").set_value("Keep the <b>safety stock</b> policy")
    _submit(at, "Record")
    assert any(s.value == "Recorded." for s in at.success)


@pytest.fixture()
def forecast_db(app_db):
    """The tiny company after a statistical forecast run (18 months from April 2026)."""
    import concurrent.futures as cf

    from analytics.forecasting import batch

    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(app_db, horizon=18, as_of=__import__("datetime").date(2026, 3, 31), executor=ex)
    return app_db


def test_workbench_shows_the_run_and_saves_an_override(forecast_db):
    from analytics import db, demand

    at = run_page("pages/demand_workbench.py")
    assert not at.exception
    assert any("Statistical run #1" in c.value for c in at.caption)
    at.selectbox(key="wb_sku").set_value("A")
    at.run()
    assert any("chosen model" in m.value for m in at.markdown)
    months = at.multiselect(key="wb_ovr_months").options  # only months from today's month on are offered
    assert months
    at.multiselect(key="wb_ovr_months").set_value(months[:2])
    at.number_input(key="wb_ovr_value").set_value(20.0)
    at.text_input(key="wb_ovr_user").set_value("Pat")
    _submit(at, "Save as new consensus")
    # Without a reason nothing is saved.
    assert any("reason is required" in e.value for e in at.error)
    at.text_input(key="wb_ovr_reason").set_value("Trade fair in spring")
    _submit(at, "Save as new consensus")
    assert any("forecast cells changed" in s.value for s in at.success), [e.value for e in at.error]
    history = demand.override_history(db.open_reader(forecast_db), sku="A")
    assert set(history["reason"]) == {"Trade fair in spring"} and len(history) == 2
    assert (history["new_qty"] > history["base_qty"]).all()  # +20%


def test_workbench_family_and_total_views_show_reconciled_and_direct(forecast_db):
    at = run_page("pages/demand_workbench.py")
    for level in ("family", "total"):
        at.radio(key="wb_level").set_value(level)
        at.run()
        assert not at.exception
        assert any("reconciled so that they add up" in c.value for c in at.caption)
        assert any("chosen model" in m.value for m in at.markdown)  # the family's / total's own model


def test_fva_view_shows_an_override_reason(app_db):
    from datetime import date

    from analytics import access, db, demand

    with access.acting_as(access.SYSTEM, "import"), db.writer(app_db) as con:  # a survey on 03-31 makes March the last complete month of the data
        con.execute("INSERT INTO surveys VALUES ('2026-03-31', 'C1', 9)")
    # An override saved in February for March (the tiny company has March actuals): B 6 -> 10 (actual 10).
    demand.save_override(app_db, "sku", "B", {date(2026, 3, 1): 10}, "units", "Customer intel", "Pat",
                         snapshot_date=date(2026, 2, 26), start_from="consensus")
    at = run_page("pages/forecast_value_added.py")
    at.slider(key="fva_months").set_value(3)
    at.run()
    assert not at.exception
    assert any("Customer intel" in s.value and "BETTER" in s.value for s in at.success), \
        [s.value for s in at.success] + [e.value for e in at.error]


def test_supply_review_takes_an_overtime_cost_per_hour(app_db):
    at = run_page("pages/supply_review.py")
    at.number_input(key="sr_ot_cost").set_value(1000.0)
    at.run()
    assert not at.exception
    assert at.number_input(key="sr_ot_cost").value == 1000.0


def test_caches_follow_the_data_version(app_db):
    """Cached queries are keyed on the data version: a write that lands is seen without clearing any cache."""
    from datetime import date

    from analytics import access, db
    from ui import common

    v1 = common.version()
    first = common.as_of_default(v1)
    with access.acting_as(access.SYSTEM, "import"), db.writer(app_db) as con:
        con.execute("INSERT INTO surveys VALUES ('2026-04-30', 'C1', 9)")
    v2 = common.version()
    assert v2 != v1
    assert common.as_of_default(v2) == date(2026, 4, 30) != first
    assert common.as_of_default(v1) == first  # the old version's entry is still the old answer


def test_a_planner_can_run_the_forecast_with_arima(forecast_db):
    # issue 11: ARIMA existed in the code but no option reached it; the run button now offers every model
    from analytics import db

    at = run_page("pages/demand_workbench.py")
    assert "ARIMA (automatic order search)" in at.selectbox(key="wb_run_model").options
    at.selectbox(key="wb_run_model").set_value("ARIMA")
    next(b for b in at.button if b.label == "Run the statistical forecast now").click()
    at.run(timeout=180)
    assert not at.exception, at.exception
    con = db.open_reader(forecast_db)
    chosen = con.execute(
        "SELECT DISTINCT model, reason FROM forecast_leaderboard WHERE run_id = 2 AND chosen AND demand_class <> 'inactive'"
    ).fetchall()
    con.close()
    assert chosen and {m for m, _ in chosen} == {"ARIMA"}
    assert all(r.startswith("ARIMA chosen by the planner") for _, r in chosen)
