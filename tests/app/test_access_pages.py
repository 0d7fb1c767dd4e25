"""The sign-in gate and role-aware pages, headless (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import access

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def app_db(tiny_db, monkeypatch, tmp_path):
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    monkeypatch.setenv("SOP_ACCESS", str(tmp_path / "access.toml"))  # none yet
    return tiny_db


@pytest.fixture()
def with_users(app_db, tmp_path, monkeypatch):
    monkeypatch.setattr(access, "SIGN_IN_THROTTLE", access.SignInThrottle())  # no failures left by other tests
    path = tmp_path / "access.toml"
    access.save_user("vera", "viewer", "viewer-password", path)
    access.save_user("ada", "admin", "admin-password", path)
    return path


def test_without_access_file_and_not_on_localhost_the_app_refuses(app_db):
    # AppTest leaves server.address unset, which for `streamlit run` means every network interface.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("refuses to start" in e.value for e in at.error), [e.value for e in at.error]
    assert "python -m analytics users add" in at.error[0].value
    assert not at.title or at.title[0].value != "KPI scorecard"


def _sign_in_page() -> AppTest:
    """app.py showing the sign-in form. AppTest (1.67) starts its first run on the entry script itself; the
    navigation, which app.py draws before the sign-in form, then moves the session onto the default page, and
    widget values set between those two runs are dropped. A browser's first run already carries its page
    (tests/e2e/test_navigation_browser.py signs in on the first try), so the test runs the app twice."""
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run().run()


def test_sign_in_with_wrong_then_right_password(with_users):
    at = _sign_in_page()
    assert at.title[0].value == "Sign in to the S&OP dashboard"
    at.text_input(key="signin_name").set_value("vera")
    at.text_input(key="signin_password").set_value("nope-nope")
    at.button[0].click().run()
    assert any("wrong password" in e.value for e in at.error)
    at.text_input(key="signin_password").set_value("viewer-password")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["_sop_user"] == access.User("vera", "viewer", "password")
    assert at.title[0].value == "KPI scorecard"


def test_sign_in_is_refused_after_five_failures_for_that_name(with_users):
    at = _sign_in_page()
    for _ in range(5):
        at.text_input(key="signin_name").set_value("vera")
        at.text_input(key="signin_password").set_value("guess")
        at.button[0].click().run()
        assert any("wrong password" in e.value for e in at.error)
    at.text_input(key="signin_password").set_value("viewer-password")  # the right one, too late
    at.button[0].click().run()
    assert any("Too many failed sign-ins" in e.value and "15 minutes" in e.value for e in at.error)
    assert "_sop_user" not in at.session_state
    at.text_input(key="signin_name").set_value("ada")  # another name is not locked out
    at.text_input(key="signin_password").set_value("admin-password")
    at.button[0].click().run()
    assert at.session_state["_sop_user"] == access.User("ada", "admin", "password")


def _page_as(page: str, user: access.User) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = user
    return at.run()


def test_a_viewer_sees_write_controls_disabled_and_the_reason(with_users):
    vera = access.User("vera", "viewer", "password")
    at = _page_as("pages/targets.py", vera)
    assert not at.exception
    assert [b.disabled for b in at.button if b.label == "Save targets"] == [True]
    assert any("you need the admin role" in c.value for c in at.caption)
    assert any("Signed in as" in c.value and "vera" in c.value for c in at.sidebar.caption)
    at = _page_as("pages/admin.py", vera)
    assert not at.exception
    assert not at.tabs, "the admin page shows nothing to a viewer"
    assert any("you need the admin role" in c.value for c in at.caption)


def test_an_admin_sees_the_audit_log_and_backups(with_users):
    at = _page_as("pages/admin.py", access.User("ada", "admin", "password"))
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Audit log", "Backups", "Who may do what"]
    # the tiny company's fixture write is in the log
    assert len(at.dataframe[0].value) >= 1
    assert "vera" in at.dataframe[-1].value["User"].tolist()
