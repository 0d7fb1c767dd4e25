"""The scorecard's comparisons: the period before, the same period last year, targets and lights."""

from datetime import date

import pytest

from analytics import access, db, kpis
from analytics.scorecard import previous_period, scorecard, year_earlier


def test_previous_period_and_year_earlier():
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 2, 1), date(2026, 2, 28))
    # A quarter compares with the quarter before.
    assert previous_period(date(2026, 1, 1), date(2026, 3, 31)) == (date(2025, 10, 1), date(2025, 12, 31))
    # A 10-day range compares with the 10 days before.
    assert previous_period(date(2026, 3, 11), date(2026, 3, 20)) == (date(2026, 3, 1), date(2026, 3, 10))
    assert year_earlier(date(2024, 2, 1), date(2024, 2, 29)) == (date(2023, 2, 1), date(2023, 2, 28))
    assert year_earlier(date(2024, 2, 29), date(2024, 3, 5)) == (date(2023, 2, 28), date(2023, 3, 5))


def test_scorecard_march_against_february(tiny_db):
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        kpis.set_targets(con, {"plan_adherence": (0.9, 0.05)})
    con = db.open_reader(tiny_db)
    card = scorecard(con, date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31)).set_index("kpi")
    pa = card.loc["plan_adherence"]
    # March 140/190 = 0.737; February 80/80 = 1.0 -> delta -0.263; no work orders a year earlier.
    assert pa["value"] == pytest.approx(140 / 190)
    assert pa["prev_value"] == pytest.approx(1.0)
    assert pa["delta_prev"] == pytest.approx(140 / 190 - 1)
    assert pa["last_year"] is None or pa["last_year"] != pa["last_year"]
    # Stored target 0.90 with a 0.05 band: 0.737 is more than 0.05 below -> red.
    assert pa["target"] == 0.9 and pa["light"] == "red"
    otif = card.loc["otif_to_promise"]
    # February: O0/1 promised 02-10, delivered 02-09 in full -> 1/1.
    assert otif["prev_value"] == pytest.approx(1.0)
    assert otif["light"] == "red"  # 0.6 against the default 0.95 +- 0.03
    months = [m for m, _ in card.loc["plan_adherence", "trend"]]
    assert months == [date(2026, 2, 1), date(2026, 3, 1)]  # the trend holds only months with data


def test_zero_reads_without_a_sign():
    """NPS 0 and a change of 0 read '0', not '+0' (which reads as a gain and drew an up arrow)."""
    from analytics.scorecard import format_delta

    nps, otif = kpis.SPECS["nps"], kpis.SPECS["otif_to_promise"]
    assert kpis.format_value(nps, 0.0) == "0" and kpis.format_value(nps, 0.4) == "0"
    assert kpis.format_value(nps, 12.0) == "+12" and kpis.format_value(nps, -3.0) == "-3"
    assert format_delta(nps, 0.2) == "0" and format_delta(nps, 2.0) == "+2"
    assert format_delta(otif, 0.0004) == "0.0 pts" and format_delta(otif, -0.012) == "-1.2 pts"


def test_a_zero_target_is_no_target():
    """A 0% OTIF target can never be missed: the light says 'no target', not green."""
    otif = kpis.SPECS["otif_to_promise"]
    assert kpis.traffic_light(otif, 0.40, 0.0, 0.03) == "unset"
    assert kpis.traffic_light(otif, 0.96, 0.95, 0.03) == "green"
    gap = kpis.SPECS["promise_gap_mean_days"]  # lower is better: 0 days is a real target
    assert kpis.traffic_light(gap, 0.0, 0.0, 1.0) == "green"
