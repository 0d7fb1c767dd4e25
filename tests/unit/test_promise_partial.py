"""Promise on partial data: a SKU with no work center / hours per unit is uncapacitated and says so, a missing
unit cost reads 'not available: needs unit costs' (not 0.00), and units read whole (the product is discrete).
Only the variants needed are imported (tests/partial_data.py)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analytics import access
from analytics.__main__ import main
from analytics.planning.promise import ctp_table, units_text
from tests.app.test_pages import ROOT
from tests.partial_data import VARIANTS, import_variant


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    base = tmp_path_factory.mktemp("promise_partial")
    return {n: import_variant(base, VARIANTS[n]) for n in ("full", "no_unit_cost", "no_work_center_hours")}


def _promise(db, capsys, sku="A", qty="5", date="2026-04-20", *extra) -> str:
    assert main(["promise", "--db", str(db), "--sku", sku, "--qty", qty, "--date", date, *extra]) == 0
    return capsys.readouterr().out


def test_units_read_whole():
    # half up, thousands separators; a float's 2.4999999 from 16.333 x 0.15 style sums does not drop a unit
    assert [units_text(x) for x in (16.333, 2.0, 0.0, 1234.5, 0.49, 2.4999999999)] == [
        "16",
        "2",
        "0",
        "1,235",
        "0",
        "3",
    ]


def test_no_work_center_or_hours_is_uncapacitated_in_words(dbs, capsys):
    # A (tiny fixture): nothing available in 2026-04, so 5 must be made; A has no work center or hours here.
    answer = json.loads(_promise(dbs["no_work_center_hours"], capsys, "A", "5", "2026-04-20", "--json"))
    best = answer["ctp_best"]
    assert best["option"] == "extra production" and best["capacity_checked"] is False
    assert best["spare_hours"] is None and best["overtime_hours"] is None  # no hours to report: none were checked
    assert answer["verdict"].startswith(
        "capable to promise, but capacity not checked (uncapacitated for A: it has no work center or hours per unit"
    )
    out = _promise(dbs["no_work_center_hours"], capsys)
    assert "(none)" not in out and "spare h" not in out
    assert (
        "CTP extra production feasible, cost 0.00 (holding only; overtime not known: capacity not checked): "
        "make 5 extra by 2026-04: uncapacitated for A: it has no work center or hours per unit, so the extra "
        "production is not checked against capacity"
    ) in out
    assert "Capable to promise (capacity not checked) on 2026-04-20" in out


def test_missing_unit_cost_reads_not_available_not_zero(dbs, capsys):
    out = _promise(dbs["no_unit_cost"], capsys)
    assert "CTP extra production feasible, cost not available: needs unit costs: make 5 extra by 2026-04 at W1" in out
    assert "cost 0.00" not in out and "cost n/a" not in out
    # with a work center and hours the capacity is checked: A at W1, 0.5 h/unit x 5 = 2.5 spare hours
    assert "2.5 spare h, 0.0 overtime h" in out and "capacity not checked" not in out


def test_promise_cli_units_whole(dbs, capsys):
    # C 500 on 2026-05-20 in the whole fixture: 76 available (ATP), 368 can be made at W2 (80 spare h + 12
    # overtime h at 0.25 h/unit = 368 units), 56 lack capacity (500 - 76 - 368).
    out = _promise(dbs["full"], capsys, "C", "500", "2026-05-20")
    assert "On that date:     76 available to promise (76 in 2026-05)" in out
    assert "Partial now:      76\n" in out
    assert "make 368 extra by 2026-05 at W2: 80.0 spare h, 12.0 overtime h; 56 units lack capacity" in out
    assert "Only 76 of 500 x C" in out and ".0 of" not in out


def test_ctp_table_words_for_missing_costs():
    opts = [
        {
            "option": "extra production",
            "feasible": True,
            "units": 16.333,
            "spare_hours": None,
            "overtime_hours": None,
            "overtime_cost": 0.0,
            "holding_cost": 0.0,
            "cost": 0.0,
            "detail": "d",
            "cost_note": "not available: needs unit costs",
        }
    ]
    t = ctp_table(opts)
    assert t.loc[0, "units"] == 16 and t.loc[0, "cost"] == "not available: needs unit costs"
    assert t["overtime_cost"].isna().all() and "cost_note" not in t.columns


def test_promise_page_says_uncapacitated_and_cost_not_available(dbs, monkeypatch, tmp_path):
    # no_work_center_hours has unit costs; the page must still say capacity is not checked.
    monkeypatch.setenv("SOP_DB", str(dbs["no_work_center_hours"]))
    at = AppTest.from_file(str(ROOT / "pages/promise.py"), default_timeout=60)
    at.session_state["_entry_point_ran"] = True
    at.session_state["_sop_user"] = access.LOCAL
    at.run()
    at.selectbox(key="pr_sku").set_value("A")
    at.number_input(key="pr_qty").set_value(5.0)
    next(b for b in at.button if b.label == "Check").click()
    at.run()
    assert not at.exception
    said = [w.value.replace("\\", "") for w in at.warning]  # markdown-escaped on screen
    assert any(w.startswith("Capacity not checked: uncapacitated for A: it has no work center") for w in said), said
    table = at.dataframe[1].value  # [0]: the ATP months, [1]: the CTP options
    assert "Spare" not in table.columns  # no hours were checked: the column is left out, not 0.0
    assert table["Units"].tolist()[0] == 5
    assert table["Cost"].tolist()[0] == "0.00 (holding only; overtime not known: capacity not checked)"


def test_promise_message_money_reads_like_the_tiles(dbs, capsys):
    # The browser audit: 'at 0.00; margin after it 8,116.00' next to tiles reading 8,116. Money in the message
    # is whole and thousands separated, a zero expediting cost reads in words.
    # A 5 on 2026-04-20: none available, 5 made at W1 in spare hours (no overtime, so no expediting cost)
    answer = json.loads(_promise(dbs["full"], capsys, "A", "5", "2026-04-20", "--json"))
    msg = answer["message"]
    assert "margin after it " in msg and not __import__("re").search(r"\d\.\d\d\b", msg), msg
    assert "by extra production (make 5 extra by 2026-04 at W1: 2.5 spare h, 0.0 overtime h) at no extra cost;" in msg
