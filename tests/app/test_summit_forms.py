"""The summit page's forms, headless (AppTest) on the tiny company: the start popover closes once a summit has
started, and the decision and action forms keep what was typed when it is refused."""

from __future__ import annotations

from datetime import date

import pytest

from tests.app.test_pages import _submit, run_page

DECISIONS_STEP = 9  # nine agenda steps, then "10. Decisions and actions"
EXCEPTIONS_STEP = 7  # "8. Exceptions, ranked by money"


@pytest.fixture()
def app_db(tiny_db, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    return tiny_db


@pytest.fixture()
def started(app_db):
    at = run_page("pages/summit.py")
    at.session_state["sm_new_pop"] = True  # the user opened "Start a new summit"
    _submit(at, "Freeze the data and start")
    assert not at.exception
    return at


def test_the_start_popover_closes_once_the_summit_has_started(started):
    assert started.session_state["sm_new_pop"] is False
    assert started.header[0].value.startswith("1.")  # the new summit is open on its first step


def test_a_refused_decision_keeps_every_field(started):
    at = started
    at.session_state["sm_step"] = DECISIONS_STEP
    at.run()
    at.text_area(key="sm_dec_text").set_value("Add a Saturday shift in upholstery")
    at.radio(key="sm_dec_kind").set_value("action")
    at.text_input(key="sm_dec_owner").set_value("Piotr")
    _submit(at, "Record")  # an action without a due date is refused
    assert any("needs a due date" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key="sm_dec_text").value == "Add a Saturday shift in upholstery"
    assert at.radio(key="sm_dec_kind").value == "action"
    assert at.text_input(key="sm_dec_owner").value == "Piotr"
    at.date_input(key="sm_dec_due").set_value(date(2026, 4, 30))
    _submit(at, "Record")
    assert any(s.value == "Recorded." for s in at.success), [e.value for e in at.error]
    # Saved: the form is empty again for the next one.
    assert at.text_area(key="sm_dec_text").value == "" and at.text_input(key="sm_dec_owner").value == ""
    assert at.date_input(key="sm_dec_due").value is None and at.radio(key="sm_dec_kind").value == "decision"


def test_a_refused_exception_action_keeps_every_field(started):
    at = started
    at.session_state["sm_step"] = EXCEPTIONS_STEP
    at.run()
    assert any(b.label == "Create action" for b in at.button)  # the tiny company's summit has exceptions
    at.text_input(key="sm_exc_text").set_value("Expedite the late order")
    at.date_input(key="sm_exc_due").set_value(date(2026, 4, 30))
    _submit(at, "Create action")  # no owner: refused
    assert any("owner is required" in e.value.lower() for e in at.error), [e.value for e in at.error]
    assert at.text_input(key="sm_exc_text").value == "Expedite the late order"
    assert at.date_input(key="sm_exc_due").value == date(2026, 4, 30)
    at.text_input(key="sm_exc_owner").set_value("Sam")
    _submit(at, "Create action")
    assert any(s.value == "Action created." for s in at.success), [e.value for e in at.error]
    assert at.text_input(key="sm_exc_text").value == ""
