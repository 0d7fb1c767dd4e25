"""Every table on every page reads like a report: no snake_case header, no float column without a format.

Each page is drawn headless (AppTest) on the tiny company, its tabs opened one by one, and every st.dataframe
and st.table checked by ``tests.app.human_tables``."""

from __future__ import annotations

import pytest

from tests.app.human_tables import assert_human_tables
from tests.app.test_pages import run_page


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
        if at.header[0].value.startswith("10."):
            break
        _next(at)
    assert seen >= 1  # the tiny company has few exceptions and no scenarios; the browser test sees them all
