"""Every page renders on partial data (AppTest): the fixture company with each optional table or column left
out (tests/partial_data.py). Where data is missing the page says so in words instead of drawing an empty chart."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics import access
from tests.app.test_pages import PAGES, ROOT
from tests.partial_data import VARIANTS


@pytest.fixture()
def variant_dbs(partial_variant_dbs):
    return partial_variant_dbs


# Pages with tabs that compute only when open: every tab is visited.
TABS = {
    "pages/scorecard.py": ("sc_tab", ["Drill-down", "How is this computed", "All KPIs"]),
    "pages/supply_review.py": ("sr_tab", ["Capacity", "Inventory policy", "Versions & export"]),
}
# Pages that read no optional table (import, targets, admin) run on the whole and the barest company only, and the
# supply review's tabs are visited on the variants that change its inputs: the matrix stays fit for `make test`.
DATA_FREE_PAGES = {"pages/import_data.py", "pages/targets.py", "pages/admin.py"}
SUPPLY_VARIANTS = {"full", "no_deliveries", "no_forecasts", "no_inventory", "no_production", "no_capacity",
                   "deliveries_from_ship_date", "orders_only", "no_unit_cost", "no_work_center_hours",
                   "no_unit_price", "derived_masters"}
MATRIX = [(page, variant) for page in PAGES for variant in VARIANTS
          if page not in DATA_FREE_PAGES or variant in ("full", "orders_only")]


def open_page(page: str, db_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SOP_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = access.LOCAL
    at.run()
    return at


@pytest.mark.parametrize(("page", "variant"), MATRIX)
def test_page_renders(variant_dbs, variant, page, monkeypatch):
    at = open_page(page, variant_dbs[variant], monkeypatch)
    assert not at.exception, at.exception
    key, tabs = TABS.get(page, (None, []))
    if page == "pages/supply_review.py" and variant not in SUPPLY_VARIANTS:
        tabs = []
    for tab in tabs:
        at.session_state[key] = tab
        at.run()
        assert not at.exception, (tab, at.exception)


def test_missing_data_is_said_in_words_not_drawn(variant_dbs, monkeypatch):
    # Orders only: the OTIF trend has no value in any month -> a sentence instead of a chart "last 0 months".
    at = open_page("pages/scorecard.py", variant_dbs["orders_only"], monkeypatch)
    assert not at.get("plotly_chart")
    assert any(
        i.value.startswith("No trend to draw for OTIF to promise: not available: needs a deliveries file")
        for i in at.info
    ), [i.value for i in at.info]
    # No capacity file: the capacity tab says so instead of an empty heatmap (and claims no overload).
    at = open_page("pages/supply_review.py", variant_dbs["no_capacity"], monkeypatch)
    at.session_state["sr_tab"] = "Capacity"
    at.run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("needs a capacity file" in i.value for i in at.info), [i.value for i in at.info]
    assert not any("No work center is overloaded" in m.value for m in at.markdown)
    # No error_code column: order accuracy is not a number, and the tile says why.
    at = open_page("pages/scorecard.py", variant_dbs["no_error_code"], monkeypatch)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Order accuracy"] == "n/a"
    assert any(c.value == "not available: the data has no error information (no error_code column)" for c in at.caption)
    # Deliveries derived from ship dates: the cycle-time tile says what it measures.
    at = open_page("pages/scorecard.py", variant_dbs["deliveries_from_ship_date"], monkeypatch)
    assert "Order cycle time, order to ship (mean)" in {m.label for m in at.metric}
    # No unit costs: the plan runs, its costs read n/a; no work centers or hours: the capacity tab says so.
    at = open_page("pages/supply_review.py", variant_dbs["no_unit_cost"], monkeypatch)
    assert {m.label: m.value for m in at.metric}["Total cost"] == "n/a"
    at = open_page("pages/supply_review.py", variant_dbs["no_work_center_hours"], monkeypatch)
    at.session_state["sr_tab"] = "Capacity"
    at.run()
    assert any("needs work centers and hours per unit" in i.value for i in at.info), [i.value for i in at.info]
    # No forecasts: forecast value added offers to make the history it needs.
    at = open_page("pages/forecast_value_added.py", variant_dbs["no_forecasts"], monkeypatch)
    assert any("No forecast snapshots" in i.value for i in at.info)
    assert any(b.label == "Make 6 months of forecast history" for b in at.button)


@pytest.mark.parametrize("variant", ["orders_only", "no_forecasts", "no_inventory", "deliveries_from_ship_date",
                                     "derived_masters"])
def test_summit_walks_every_step(variant_dbs, variant, monkeypatch):
    at = open_page("pages/summit.py", variant_dbs[variant], monkeypatch)
    next(b for b in at.button if b.label == "Freeze the data and start").click()
    at.run()
    assert not at.exception, at.exception
    for _ in range(10):
        nxt = next(b for b in at.button if b.label == "Next ▶")
        if nxt.disabled:
            break
        nxt.click()
        at.run()
        assert not at.exception, (at.header[0].value, at.exception)
    assert at.header[0].value.startswith("10.")


def test_import_page_offers_forecast_history(tiny_db, monkeypatch):
    """After an import the page offers the backfill; on the tiny company (orders from 2026-02-01, as of 03-24)
    the only month-end with orders before it is 2026-02-28: one snapshot."""
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    at = AppTest.from_file(str(ROOT / "pages/import_data.py"), default_timeout=120)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = access.LOCAL
    at.run()
    assert not any(b.label.startswith("Make ") for b in at.button)  # nothing imported in this session yet
    at.session_state["_backfill_offer"] = True  # as a successful import sets it
    at.run()
    at.number_input(key="im_backfill_n").set_value(2)
    at.run()
    next(b for b in at.button if b.label == "Make 2 months of forecast history").click()
    at.run()
    assert not at.exception, at.exception
    said = [s.value.replace("\\", "") for s in at.success]  # markdown-escaped on screen
    assert any("1 statistical snapshot(s) written" in s and "2026-02-28: run #1" in s for s in said), [
        s.value for s in at.success
    ] + [e.value for e in at.error]


def test_workbench_without_a_forecast_offers_forecast_history(tmp_path, monkeypatch):
    """Orders only (no forecast run yet): the workbench offers the backfill of the import and FVA pages, to a
    role that may run forecasts only."""
    from tests.partial_data import import_variant

    path = import_variant(tmp_path, VARIANTS["orders_only"])
    at = open_page("pages/demand_workbench.py", path, monkeypatch)
    assert not at.exception, at.exception
    assert any(i.value == "No statistical forecast has been run on this data yet." for i in at.info)
    assert any(m.value.startswith("**Forecast history.**") for m in at.markdown)
    assert at.button(key="wb_backfill_go").label == "Make 6 months of forecast history"
    assert not at.button(key="wb_backfill_go").disabled

    at = AppTest.from_file(str(ROOT / "pages/demand_workbench.py"), default_timeout=60)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = access.User("vera", "viewer")  # may not run forecasts: no offer
    at.run()
    assert not at.exception, at.exception
    assert not any(m.value.startswith("**Forecast history.**") for m in at.markdown)
    assert not [b for b in at.button if b.key == "wb_backfill_go"]


def _summit_scorecard_step(variant_dbs, variant, monkeypatch) -> AppTest:
    at = open_page("pages/summit.py", variant_dbs[variant], monkeypatch)
    next(b for b in at.button if b.label == "Freeze the data and start").click()
    at.run()
    while not at.header[0].value.startswith("2."):
        next(b for b in at.button if b.label == "Next ▶").click()
        at.run()
    assert not at.exception, at.exception
    return at


def test_summit_tiles_name_the_substitute_and_the_reason(variant_dbs, monkeypatch):
    """The summit's scorecard tiles say what the page's tiles say: the substitute in the label (cycle time on a
    delivered date filled from ship_date is 'order to ship') and, for a KPI without a value, why - not a bare
    'no data'."""
    at = _summit_scorecard_step(variant_dbs, "deliveries_from_ship_date", monkeypatch)
    assert "Order cycle time, order to ship (mean)" in {m.label for m in at.metric}
    at = _summit_scorecard_step(variant_dbs, "orders_only", monkeypatch)
    assert {m.label: m.value for m in at.metric}["OTIF to promise"] == "n/a"
    assert any("not available: needs a deliveries file" in m.value.replace("\\", "") for m in at.markdown), [
        m.value for m in at.markdown]
