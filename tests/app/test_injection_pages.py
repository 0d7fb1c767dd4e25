"""Hostile input on screen (issue 6): text people typed (an override reason, a scenario name, a summit title,
decisions, owners, notes) is shown as text: never as Markdown or HTML. Headless (AppTest) on the tiny company.

Markdown-rendering elements (st.markdown, captions, alerts, subheaders, expander labels and every st.table cell)
must carry the text escaped (``ui.common.md_escape``); tables for data (st.dataframe) carry it verbatim.
"""

from __future__ import annotations

import concurrent.futures as cf
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import access, db, demand
from analytics import planning as pl
from analytics import summit as sm
from analytics.forecasting import batch
from tests.conftest import TINY_ROWS, write_rows
from ui.common import md_escape

ROOT = Path(__file__).resolve().parents[2]
FEB, MARCH, APRIL = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
AS_OF = date(2026, 3, 31)

MARKUP = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) =cmd|' /C calc'!A0"
SCENARIO = "<b>Promo</b> **A** [x](javascript:alert(1)) =cmd|' /C calc'!A0"
OWNER = "<i>Owner</i> _o_"
TITLE = "<h1>Summit</h1> **big** ' OR 1=1 --"
# What must never reach a Markdown element unescaped.
RAW = ("<script>", "**bold**", "](javascript:", "<b>", "<i>", "<h1>", "**A**", "_o_")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """The tiny company with a forecast run, overrides, two scenarios and two summits whose typed texts are
    hostile."""
    path = tmp_path_factory.mktemp("hostile_pages") / "hostile.duckdb"
    with access.default_user(access.SYSTEM):
        write_rows(path, TINY_ROWS)
        with access.acting_as(access.SYSTEM, "import"), db.writer(path) as con:  # March becomes a complete month
            con.execute("INSERT INTO surveys VALUES ('2026-03-31', 'C1', 9)")
        with cf.ThreadPoolExecutor(2) as ex:
            batch.run_forecast(path, horizon=18, as_of=AS_OF, executor=ex)
        # Saved in February for March (scored by the FVA page), and on 03-31 for April (the summit's demand step).
        demand.save_override(path, "sku", "B", {MARCH: 10}, "units", MARKUP, OWNER,
                             snapshot_date=date(2026, 2, 26), start_from="consensus")
        demand.save_override(path, "sku", "A", {APRIL: 12}, "units", MARKUP, OWNER, snapshot_date=AS_OF)
        con = db.open_reader(path)
        for name in (SCENARIO, "Plain"):
            scenario = pl.Scenario(name, author=OWNER, notes=MARKUP, promotions=[pl.Promotion("A", "2026-05", 20)])
            pl.save_scenario(path, scenario, pl.run_scenario(con, AS_OF, 3, scenario))
        con.close()
        pl.mark_recommended(path, SCENARIO, OWNER)
        feb = sm.start_summit(path, FEB, "February", "Anna", as_of=date(2026, 2, 28))
        sm.add_decision(path, feb, MARKUP, owner=OWNER, due=date(2026, 3, 15), kind="action")
        march = sm.start_summit(path, MARCH, TITLE, OWNER, as_of=AS_OF)
        sm.add_decision(path, march, MARKUP, owner=OWNER, kind="decision")
        sm.record_pulse(path, march, "sales", 7, note=MARKUP)
    return path


@pytest.fixture()
def app_db(hostile_db, monkeypatch):
    """Streamlit's caches live as long as the process and some key on nothing but the function (the data
    version argument is not hashed): cleared before and after, so no other test's database shows here."""
    monkeypatch.setenv("SOP_DB", str(hostile_db))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield hostile_db
    st.cache_data.clear()
    st.cache_resource.clear()


def run_page(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["_entry_point_ran"] = True  # as if app.py had run (see ui.common.entry_guard)
    at.session_state["_sop_user"] = access.LOCAL  # signed in (ui.auth.gate), as on localhost without an access file
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def markdown_texts(at: AppTest) -> list[str]:
    """The Markdown source of every element that renders Markdown: text elements, alerts, headings, expander
    labels and the cells and headers of st.table."""
    out = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "title", "header", "subheader"):
        out += [str(e.value) for e in at.get(kind)]
    out += [str(e.label) for e in at.get("expander")]
    for t in at.table:
        df: pd.DataFrame = t.value
        out += [str(c) for c in df.columns] + [str(v) for v in df.to_numpy().ravel()]
    return out


def assert_shown_escaped(at: AppTest, *texts: str) -> None:
    shown = markdown_texts(at)
    leaked = [s for s in shown if any(r in s for r in RAW)]
    assert not leaked, leaked
    for text in texts:
        assert any(md_escape(text) in s for s in shown), (text, shown)


def dataframe_cells(at: AppTest) -> set:
    cells = set()
    for d in at.dataframe:
        try:
            frame = d.value
        except ValueError:  # AppTest cannot decode a frame whose column labels are dates (the override preview)
            continue
        cells |= {str(v) for v in frame.to_numpy().ravel()}
    return cells


def march_summit_id(path) -> int:
    con = db.open_reader(path)
    try:
        listed = sm.list_summits(con)
    finally:
        con.close()
    return int(listed.loc[listed["title"] == TITLE, "summit_id"].iloc[0])


def test_workbench_override_history_shows_the_reason_as_text(app_db):
    at = run_page("pages/demand_workbench.py", wb_sku="B")
    assert at.selectbox(key="wb_sku").value == "B"
    assert MARKUP in dataframe_cells(at) and OWNER in dataframe_cells(at)  # the history table, verbatim
    assert_shown_escaped(at)


def test_fva_verdict_shows_the_override_reason_escaped(app_db):
    at = run_page("pages/forecast_value_added.py", fva_months=3)
    assert_shown_escaped(at, MARKUP)
    assert any(md_escape(MARKUP) in s.value and "BETTER" in s.value for s in at.success)


def test_scenarios_page_shows_names_escaped(app_db):
    at = run_page("pages/scenarios.py")
    assert set(at.multiselect(key="sc_compare").value) == {SCENARIO, "Plain"}
    assert_shown_escaped(at, SCENARIO)
    assert any(f"Currently recommended: **{md_escape(SCENARIO)}**" == c.value for c in at.caption)
    assert any(md_escape(SCENARIO) in e.label for e in at.expander)  # "Where '...' differs from the baseline"
    assert SCENARIO in dataframe_cells(at) and MARKUP in dataframe_cells(at)


@pytest.mark.parametrize("step", ["actions", "demand", "scenarios", "decisions"])
def test_summit_steps_show_typed_text_escaped(app_db, step):
    keys = [a.key for a in sm.AGENDA] + ["decisions"]
    sid = march_summit_id(app_db)
    at = run_page("pages/summit.py", sm_step=keys.index(step), sm_id=sid)
    assert at.selectbox(key="sm_id").value == sid
    expected = {"actions": (MARKUP, OWNER), "demand": (MARKUP,), "scenarios": (SCENARIO,),
                "decisions": (MARKUP, OWNER)}[step]
    assert_shown_escaped(at, *expected)
    assert any(md_escape(SCENARIO) in c.value for c in at.caption)  # the frozen plan: the recommended scenario
    if step == "decisions":
        cells = [str(v) for t in at.table for v in t.value.to_numpy().ravel()]
        assert md_escape(MARKUP) in cells and md_escape(OWNER) in cells
