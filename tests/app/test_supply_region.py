"""Supply review says which sidebar filters it cannot apply instead of ignoring them silently."""

from __future__ import annotations

import pytest

from analytics.filters import Filters
from analytics.planning.common import PLAN_DIMS
from tests.app.test_pages import run_page


@pytest.fixture()
def app_db(tiny_db, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(tiny_db))
    return tiny_db


def test_filters_a_plan_cannot_apply():
    f = Filters(regions=("North",), families=("F1",), segments=("Retail",))
    assert f.not_applied(PLAN_DIMS) == ["region", "segment"]
    assert Filters(families=("F1",), work_centers=("W1",)).not_applied(PLAN_DIMS) == []


def test_supply_review_says_not_available_by_region(app_db):
    at = run_page("pages/supply_review.py")
    assert not any("Not available by" in i.value for i in at.info)  # no filter set: nothing to say
    at.multiselect(key="flt_regions").set_value(["North"])
    at.run()
    assert not at.exception
    said = [i.value for i in at.info if "Not available by" in i.value]
    assert len(said) == 1 and said[0].startswith("Not available by region:"), [i.value for i in at.info]
    at.multiselect(key="flt_families").set_value(["F1"])  # a filter the plan applies adds nothing to the note
    at.run()
    assert [i.value for i in at.info if "Not available by" in i.value] == said
