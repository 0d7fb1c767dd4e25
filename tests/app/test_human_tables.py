"""Every table on every page reads like a report: no snake_case header, no float column without a format.

Each page is drawn headless (AppTest) on the tiny company, its tabs opened one by one, and every st.dataframe
and st.table checked by ``tests.app.human_tables``."""

from __future__ import annotations

import pytest

from tests.app.human_tables import assert_human_tables
from tests.app.test_pages import forecast_db, run_page  # noqa: F401 - a fixture


@pytest.fixture()
def app_db(tiny_db, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    return tiny_db


def test_scorecard_tables(app_db):
    at = run_page("pages/scorecard.py")
    for kpi in ("otif_to_promise", "forecast_accuracy", "promise_gap_mean_days", "nps"):
        at.selectbox(key="sc_kpi").set_value(kpi)
        for tab in ("Drill-down", "All KPIs"):
            at.session_state["sc_tab"] = tab
            at.run()
            assert not at.exception, (kpi, tab)
            assert_human_tables(at, at_least=1)
    at.selectbox(key="sc_kpi").set_value("otif_to_promise")
    at.session_state["sc_tab"] = "Drill-down"
    at.run()
    drill = at.dataframe[0].value
    # The drill-down's value column is the KPI, shown as a % like the chart next to it; no column of None.
    assert "OTIF to promise" in drill.columns and "Note" not in drill.columns
    cfg = __import__("json").loads(at.dataframe[0].proto.columns)
    assert cfg["OTIF to promise"]["type_config"]["format"] == "percent"


def _next(at):
    next(b for b in at.button if b.label == "Next ▶").click()
    at.run()


def test_summit_tables_and_the_money_basis_one_click_away(app_db):
    at = run_page("pages/summit.py")
    next(b for b in at.button if b.label == "Freeze the data and start").click()
    at.run()
    # the tiny company has no statistical run: the caption says 'none', never Python's 'None' (the browser audit)
    frozen = next(c.value for c in at.caption if c.value.startswith("Frozen"))
    assert "statistical forecast none ·" in frozen and "None" not in frozen, frozen
    seen = 0
    for _ in range(10):
        assert not at.exception
        assert_human_tables(at)
        seen += len(at.table)
        if at.header[0].value.startswith("8."):
            # Each exception's money figure has its basis in an expander next to the table.
            bases = [e for e in at.expander if "how is this computed" in e.label]
            assert bases and len(bases) == min(12, len(at.table[0].value))
            assert any("Money impact" in m.value and "=" in m.value for m in bases[0].markdown)
        if at.header[0].value.startswith("1."):  # the first summit: nothing carried over, said in its words
            assert [i.value for i in at.info] == ["No open action carried over from an earlier summit."]
        if at.header[0].value.startswith("5."):  # empty tables say what is not there, never 'Nothing to show.'
            assert "Nothing to show." not in [i.value for i in at.info]
        if at.header[0].value.startswith("7."):
            # No saved scenario: one message that says so, not "Nothing to show." twice (the browser audit).
            infos = [i.value for i in at.info]
            assert infos == ["No scenario was saved when this summit was frozen: build and save one on the "
                             "Scenarios page, then start a new summit."], infos
        if at.header[0].value.startswith("10."):
            break
        _next(at)
    assert seen >= 1  # the tiny company has few exceptions and no scenarios; the browser test sees them all


def test_workbench_tables_and_one_row_per_override(forecast_db):  # noqa: F811 - the imported fixture
    from datetime import date

    from analytics import demand

    # A family change over 2 months of F1's 2 SKUs: 4 cells, one override event.
    demand.save_override(forecast_db, "family", "F1", {date(2026, 4, 1): 20, date(2026, 5, 1): 20}, "units",
                         "Trade fair", "Pat", snapshot_date=date(2026, 3, 24))
    at = run_page("pages/demand_workbench.py")
    at.radio(key="wb_level").set_value("family")
    at.run()
    at.selectbox(key="wb_family").set_value("F1")
    at.run()
    assert not at.exception
    assert_human_tables(at, at_least=4)  # forecast, leaderboard, model mix, override base, history
    events = next(d.value for d in at.dataframe if "Saved (UTC)" in d.value.columns)
    assert len(events) == 1 and events["Change"].iloc[0] == "new total per month"
    cells = next(d.value for d in at.dataframe if "After (units)" in d.value.columns and "SKU" in d.value.columns)
    from analytics import db

    n_cells = len(demand.override_history(db.open_reader(forecast_db)))
    assert n_cells >= 3 and len(cells) == n_cells  # the drill-down: its SKUs and months (the changed cells)
    board = next(d.value for d in at.dataframe if "Model" in d.value.columns and "Chosen" in d.value.columns)
    for col in ("sMAPE", "WMAPE"):  # fractions, shown once as a % (left out when no backtest scored them)
        assert col not in board or (board[col].dropna() <= 2).all()


def test_targets_editor_reads_like_a_report_and_saves(app_db):
    from analytics import db, kpis

    before = kpis.targets(db.open_reader(app_db))
    at = run_page("pages/targets.py")
    assert not at.exception
    assert_human_tables(at, at_least=1)
    cols = list(at.dataframe[0].value.columns)
    assert cols == ["KPI", "Unit", "Direction", "Target", "Amber band"]  # not both 'kpi' and 'KPI'
    next(b for b in at.button if b.label == "Save targets").click()
    at.run()
    assert any("Targets saved" in s.value for s in at.success), [e.value for e in at.error]
    saved = kpis.targets(db.open_reader(app_db))
    for k in kpis.SPECS:  # saved unchanged: rates edited in % are stored as fractions again, by KPI id
        assert tuple(saved[k]) == __import__("pytest").approx(tuple(before[k])), k


def test_fva_tables(app_db):
    from datetime import date

    from analytics import access, db, demand

    with access.acting_as(access.SYSTEM, "import"), db.writer(app_db) as con:  # March complete (see test_pages)
        con.execute("INSERT INTO surveys VALUES ('2026-03-31', 'C1', 9)")
    demand.save_override(app_db, "sku", "B", {date(2026, 3, 1): 10}, "units", "Customer intel", "Pat",
                         snapshot_date=date(2026, 2, 26), start_from="consensus")
    at = run_page("pages/forecast_value_added.py")
    at.slider(key="fva_months").set_value(3)
    at.run()
    assert not at.exception
    assert_human_tables(at, at_least=3)
    overall = at.dataframe[0]
    cfg = __import__("json").loads(overall.proto.columns)
    assert cfg["Accuracy"]["type_config"]["format"] == "percent"
    assert cfg["Value added"]["type_config"]["format"] == "%+.1f pts"
    # and its values are rounded as shown: the browser grid's accessible copy read '12.344289703828903'
    added = overall.value["Value added"].dropna()
    assert len(added) and ((added * 10).round() - added * 10).abs().max() < 1e-9, added.tolist()
    # the previous step's Σ|F − A| is units like Σ|F − A| itself: whole (the audit saw '78,938.0' next to '78,938')
    assert cfg["Previous step's Σ|F − A|"]["type_config"]["format"] == cfg["Σ|F − A|"]["type_config"]["format"]


def test_supply_review_tables(app_db):
    at = run_page("pages/supply_review.py")
    assert not at.exception
    assert_human_tables(at, at_least=1)
    plan = at.dataframe[0].value
    assert {"SKU", "Month", "Demand units", "Production units"} <= set(plan.columns)
    assert str(plan["Production units"].dtype) == "Int64"  # whole units, never 33.15 chairs
    for tab in ("Capacity", "Inventory policy", "Versions & export"):
        at.session_state["sr_tab"] = tab
        at.run()
        assert not at.exception, tab
        assert_human_tables(at)
    at.radio(key="sr_strategy").set_value("chase")  # chase ignores capacity: overloads and fixes to show
    at.session_state["sr_tab"] = "Capacity"
    at.run()
    assert_human_tables(at)


def test_scenario_tables(app_db):
    at = run_page("pages/scenarios.py")
    next(t for t in at.text_input if t.label == "Scenario name").set_value("Costly stock")
    next(n for n in at.number_input if n.label == "Holding, % of cost per month").set_value(4.0)
    next(b for b in at.button if b.label == "Run and save scenario").click()
    at.run()
    at.multiselect(key="sc_compare").set_value(["Costly stock"])
    at.run()
    assert not at.exception
    assert_human_tables(at, at_least=5)  # three builder tables, the saved list, the comparison (and diffs)
    comp = next(d.value for d in at.dataframe if "Costly stock" in d.value.columns)
    fill = comp.set_index("KPI").loc["Service level (fill rate)"]
    assert fill["Baseline"].endswith("%") and fill["Costly stock: change"].endswith("pts")


def test_promise_tables(app_db):
    at = run_page("pages/promise.py")
    # no request yet: the empty table says so in the page's words (the browser audit saw 'Nothing to show.')
    assert [i.value for i in at.info] == ["No request to production yet: check an order above, then send it to "
                                          "production."]
    at.selectbox(key="pr_sku").set_value("A")
    at.number_input(key="pr_qty").set_value(5.0)
    next(b for b in at.button if b.label == "Check").click()
    at.run()
    at.text_input(key="pr_who").set_value("Sam Sales")
    next(b for b in at.button if b.label == "Send to production").click()
    at.run()
    at.run()
    assert not at.exception
    assert_human_tables(at, at_least=3)  # ATP by month, CTP options, the requests
    atp = next(d for d in at.dataframe if "Available to promise" in d.value.columns)
    cfg = __import__("json").loads(atp.proto.columns)
    assert "help" in cfg["Available to promise"]  # why ATP can be 0 next to a positive cumulative net


@pytest.mark.parametrize(("page", "tables"), [("pages/data_audit.py", 2), ("pages/admin.py", 2),
                                               ("pages/import_data.py", 0)])
def test_data_audit_admin_and_import_tables(app_db, page, tables):
    at = run_page(page)
    assert not at.exception
    assert_human_tables(at, at_least=tables)
    if page == "pages/data_audit.py":  # the last write as a person reads it, not '2026-12-07T17:59:22+00:00'
        import re

        cap = next(c.value for c in at.caption if "last write" in c.value)
        assert re.search(r"last write \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)$", cap), cap


def test_summit_page_opens_on_the_newest_summit(app_db):
    # The browser audit: with last month's summit and this month's, a new session opened on the oldest one.
    from datetime import date

    from analytics import summit as sm

    feb = sm.start_summit(app_db, date(2026, 2, 1), "February", "Anna", as_of=date(2026, 2, 28))
    march = sm.start_summit(app_db, date(2026, 3, 1), "March", "Anna", as_of=date(2026, 3, 24))
    at = run_page("pages/summit.py")
    assert not at.exception
    box = at.selectbox(key="sm_id")
    assert box.value == march and box.options[0].startswith("March")  # newest first, and chosen
    assert len(box.options) == 2 and box.options[1].startswith("February") and feb != march
