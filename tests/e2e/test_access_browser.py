"""Sign-in and a viewer's read-only pages in a real browser (Debian Chromium)."""

from __future__ import annotations

from analytics import access
from tests.e2e.conftest import run_server, screenshot, wait_rendered


def test_viewer_signs_in_and_cannot_save_targets(demo_db, browser, tmp_path):
    users = tmp_path / "access.toml"
    access.save_user("vera", "viewer", "viewer-password", users)
    with run_server(demo_db, users) as url:
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = ctx.new_page()
        page.goto(url + "/targets")
        wait_rendered(page)
        assert page.get_by_text("Sign in to the S&OP dashboard").is_visible()
        page.get_by_label("User name").fill("vera")
        page.get_by_label("Password", exact=True).fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
        wait_rendered(page)
        assert page.get_by_text("Unknown user name or wrong password.").is_visible()
        page.get_by_label("Password", exact=True).fill("viewer-password")
        page.get_by_role("button", name="Sign in").click()
        wait_rendered(page)
        # Signed in: the session goes on through the navigation (a password sign-in lasts for the browser tab).
        page.get_by_role("link", name="Targets & definitions").click()
        wait_rendered(page)
        assert page.get_by_role("heading", name="Targets & definitions").is_visible()
        assert page.get_by_role("button", name="Save targets").is_disabled()
        assert page.get_by_text("you need the admin role").first.is_visible()
        assert page.get_by_text("Signed in as").first.is_visible()
        screenshot(page, "access_viewer_targets")
        ctx.close()
