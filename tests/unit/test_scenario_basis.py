"""Scenarios compare like with like: a saved scenario keeps the baseline it was computed with, a scenario that
changes nothing differs by 0, and one computed on older data says so.

The tiny company of tests/conftest.py, data as of 2026-03-24 (the plan starts in April 2026)."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import access, db, demand
from analytics.planning import plan_inputs
from analytics.planning import scenarios as sc

AS_OF = date(2026, 3, 24)
KEY = ["revenue", "units_short", "fill_rate", "total_cost", "holding_cost", "months_differing"]


def _save(path, scenario):
    con = db.open_reader(path)
    try:
        result = sc.run_scenario(con, AS_OF, 6, scenario)
    finally:
        con.close()
    sc.save_scenario(path, scenario, result)
    return result


def _compare(path, names):
    con = db.open_reader(path)
    try:
        return sc.compare_scenarios(con, names).set_index("kpi")
    finally:
        con.close()


def test_a_no_change_scenario_differs_by_zero_even_after_the_data_changes(tiny_db):
    same = _save(tiny_db, sc.Scenario(name="Same"))
    costly = _save(tiny_db, sc.Scenario(name="Costly", settings={"holding_rate": 0.04}))
    table = _compare(tiny_db, ["Same", "Costly"])
    assert (table.loc[KEY, "Same delta"] == 0).all()
    # The baseline column is the plan with no changes on the same inputs: the no-change scenario's own KPIs.
    assert table.loc["revenue", "baseline"] == pytest.approx(same.kpis["revenue"])
    assert table.attrs["stale"] == {"Same": None, "Costly": None} and table.attrs["notes"] == []
    assert costly.kpis["revenue"] == pytest.approx(table.loc["revenue", "Costly"])

    # New data on the same data day: an override raises A's April forecast from 9 to 40 units.
    demand.save_override(tiny_db, "sku", "A", {date(2026, 4, 1): 40}, "units", "Trade fair", "ann")
    con = db.open_reader(tiny_db)
    now = sc.run_scenario(con, AS_OF, 6, None)  # the baseline made now: another plan
    con.close()
    assert now.kpis["revenue"] != pytest.approx(same.kpis["revenue"])  # what the old comparison subtracted
    table = _compare(tiny_db, ["Same", "Costly"])
    assert (table.loc[KEY, "Same delta"] == 0).all()  # still like with like
    assert table.loc["revenue", "baseline"] == pytest.approx(same.kpis["revenue"])
    stale = table.attrs["stale"]
    assert stale["Same"] == (
        "'Same' was computed on older data (as of 2026-03-24): the forecast, orders, stock or "
        "capacity have changed since it was saved. Run it again to compare like with like."
    )
    assert stale["Costly"].startswith("'Costly' was computed on older data")

    # A later data date: the sentence names both dates.
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        con.execute("INSERT INTO surveys VALUES ('2026-03-31', 'C1', 9)")
    table = _compare(tiny_db, ["Same"])
    assert table.attrs["stale"]["Same"] == (
        "'Same' was computed on the data as of 2026-03-24; the data is now as of "
        "2026-03-31. Run it again to compare like with like."
    )


def test_the_stored_baseline_and_basis_come_back_with_the_scenario(tiny_db):
    res = _save(tiny_db, sc.Scenario(name="More demand", demand_changes=[sc.DemandChange(None, None, None, 50)]))
    con = db.open_reader(tiny_db)
    loaded = sc.load_scenario(con, "More demand")
    fresh = sc.inputs_fingerprint(plan_inputs(con, AS_OF, 6))  # the same data: the same fingerprint
    con.close()
    assert loaded.basis["as_of"] == "2026-03-24" and loaded.basis["horizon"] == 6
    assert loaded.basis["inputs_fingerprint"] == sc.inputs_fingerprint(res.base_inputs)
    assert fresh == loaded.basis["inputs_fingerprint"]
    assert loaded.baseline_kpis["revenue"] == pytest.approx(sc.baseline_of(res).kpis["revenue"])
    assert "baseline" not in loaded.kpis and "basis" not in loaded.kpis
    # +50% demand plans more: its own months differ from its baseline.
    assert loaded.basis["months_differing"] >= 1
