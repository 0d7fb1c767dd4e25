"""Navigation in a real browser: a deep link survives the sign-in, each page titles its browser tab, and a
server that refuses to serve lists no pages."""

from __future__ import annotations

from analytics import access
from tests.e2e.conftest import run_server, wait_rendered


def test_a_deep_link_lands_on_its_page_after_sign_in(demo_db, browser, tmp_path):
    users = tmp_path / "access.toml"
    access.save_user("ada", "admin", "admin-password", users)
    with run_server(demo_db, users) as url:
        first = browser.new_context()  # another session has run app.py: the server knows the navigation
        warm = first.new_page()
        warm.goto(url)
        wait_rendered(warm)
        first.close()
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = ctx.new_page()
        page.goto(url + "/summit")
        wait_rendered(page)
        assert page.get_by_text("Sign in to the S&OP dashboard").is_visible()
        assert page.locator("[data-testid='stSidebarNav']").count() == 0  # no page list before sign-in
        page.get_by_label("User name").fill("ada")
        page.get_by_label("Password", exact=True).fill("admin-password")
        page.get_by_role("button", name="Sign in").click()
        wait_rendered(page)
        assert page.get_by_role("heading", name="S&OP summit").first.is_visible()
        assert page.url.rstrip("/").endswith("/summit")
        ctx.close()


def test_each_page_titles_its_browser_tab(demo_db, browser):
    with run_server(demo_db) as url:
        page = browser.new_page()
        titles = {}
        for path in ("", "/summit", "/supply_review"):
            page.goto(url + path)
            wait_rendered(page)
            titles[path] = page.title()
        page.close()
    assert titles[""] == "KPI scorecard · S&OP dashboard"
    assert titles["/summit"] == "S&OP summit · S&OP dashboard"
    assert titles["/supply_review"] == "Supply review · S&OP dashboard"


def test_a_server_that_refuses_lists_no_page_files(demo_db, browser):
    # 127.0.0.2 is not one of the addresses the app trusts as "this machine only": it refuses to serve.
    with run_server(demo_db, address="127.0.0.2") as url:
        page = browser.new_page()
        page.goto(url + "/summit")
        wait_rendered(page)
        assert page.get_by_text("refuses to start").first.is_visible()
        nav = page.locator("[data-testid='stSidebarNav']")
        assert nav.count() == 0 or not nav.first.is_visible(), nav.first.inner_text()
        assert page.get_by_text("data audit").count() == 0 and page.get_by_text("demand workbench").count() == 0
        page.close()


def test_the_start_popover_closes_and_next_can_be_clicked(demo_db, browser, tmp_path):
    db = tmp_path / "summit.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with run_server(db) as url:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(url + "/summit")
        wait_rendered(page)
        page.get_by_role("button", name="Start a new summit").click()
        start = page.get_by_role("button", name="Freeze the data and start")
        start.wait_for(state="visible")
        start.click()
        wait_rendered(page)
        assert page.get_by_role("heading", name="1. Actions from earlier summits").is_visible()
        assert not start.is_visible()  # the popover closed once the summit started
        page.get_by_role("button", name="Next ▶").click(timeout=10_000)  # not covered by the popover
        wait_rendered(page)
        assert page.get_by_role("heading", name="2. Scorecard").is_visible()
        page.close()
