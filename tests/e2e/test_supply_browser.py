"""Supply pages in Chromium: save two scenarios through the form and compare them against the baseline."""

from __future__ import annotations

import shutil

from analytics import db
from analytics.planning import scenarios as sc
from tests.e2e.conftest import run_server, screenshot, wait_rendered


def test_save_and_compare_two_scenarios(demo_db, tmp_path, page):
    path = tmp_path / "scen.duckdb"
    shutil.copyfile(demo_db, path)
    with run_server(path) as url:
        page.goto(f"{url}/scenarios")
        wait_rendered(page)
        for name, label, value in (("Costly stock", "Holding, % of cost per month", "4"),
                                   ("Better service", "Service level class A (%)", "99.5")):
            if not page.get_by_label("Scenario name").is_visible():
                page.get_by_text("Build a new scenario").click()
                page.get_by_label("Scenario name").wait_for(state="visible")
                wait_rendered(page)
            page.get_by_label("Scenario name").fill(name)
            page.get_by_label(label).fill(value)
            page.get_by_label(label).press("Tab")
            page.get_by_role("button", name="Run and save scenario").click()
            outcome = page.get_by_text(f"Saved scenario '{name}'").or_(page.locator("[data-testid='stAlertContentError']"))
            outcome.first.wait_for(timeout=180_000)
            wait_rendered(page)
            errors = page.locator("[data-testid='stAlertContentError']")
            assert errors.count() == 0, errors.first.inner_text()
        page.goto(f"{url}/scenarios")
        wait_rendered(page)
        assert page.locator("[data-testid='stException']").count() == 0
        # The comparison table (baseline + both scenarios) and the month differences are on screen.
        assert page.locator("[data-testid='stDataFrame']").count() >= 2
        assert page.get_by_text("Where 'Costly stock' differs from the baseline").count() == 1
        screenshot(page, "scenarios_compared")
    saved = sc.list_scenarios(db.open_reader(path))
    assert set(saved["name"]) == {"Costly stock", "Better service"}
