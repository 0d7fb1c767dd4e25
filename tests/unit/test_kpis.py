"""KPI values on the tiny hand-made company in tests/conftest.py (as of 2026-03-31).

Every expected value is worked out by hand in the comments from the fixture rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from analytics import access, db, kpis
from analytics.filters import Filters
from tests.conftest import TINY_ROWS, write_rows

MARCH = kpis.Query(date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))


def values(con, q=MARCH, by=()):
    df = kpis.kpi_values(con, q, by=by)
    if by:
        return df
    return {r["kpi"]: r for r in df.to_dict("records")}


def test_order_line_kpis_march(tiny_con):
    v = values(tiny_con)
    # Population promised in March: O1/1 (03-10), O1/2 (03-12), O2/1 (03-15), O2/2 (03-25), O3/1 (03-30) = 5.
    # OTIF to promise: O1/1 10 by 03-09; O1/2 only 6 of 10 by 03-12; O2/1 5 on 03-15; O2/2 8 on 03-24;
    # O3/1 nothing -> 3 / 5. O4/1 is promised in April and O0/1 in February: outside.
    assert v["otif_to_promise"]["numerator"] == 3 and v["otif_to_promise"]["denominator"] == 5
    assert v["otif_to_promise"]["value"] == pytest.approx(0.6)
    # OTIF to request: O1/1 yes; O1/2 0 by 03-10; O2/1 yes (delivered on the requested day);
    # O2/2 nothing by 03-20; O3/1 nothing -> 2 / 5.
    assert v["otif_to_request"]["value"] == pytest.approx(0.4)
    # Perfect: OTIF lines O1/1, O2/1, O2/2 minus O2/1 (damaged) -> 2 / 5.
    assert v["perfect_order_rate"]["value"] == pytest.approx(0.4)
    # Completed in March: O1/1 03-09, O1/2 03-14 (6+4 reaches 10), O2/1 03-15, O2/2 03-24 -> 4 lines;
    # error-free: all but O2/1 (an empty error_code on D5 is no error) -> 3 / 4.
    assert v["order_accuracy"]["numerator"] == 3 and v["order_accuracy"]["denominator"] == 4
    # Cycle days: 8, 13, 10, 19 -> mean 12.5, median (10 + 13) / 2 = 11.5,
    # p90 = 13 + 0.7 x (19 - 13) = 17.2 (position 0.9 x 3 = 2.7 in the sorted list).
    assert v["order_cycle_time_mean_days"]["value"] == pytest.approx(12.5)
    assert v["order_cycle_time_median_days"]["value"] == pytest.approx(11.5)
    assert v["order_cycle_time_p90_days"]["value"] == pytest.approx(17.2)
    # Promise gap: 0, 2, 0, 5, 2 days -> 9 / 5 = 1.8.
    assert v["promise_gap_mean_days"]["value"] == pytest.approx(1.8)


def test_production_and_capacity_kpis_march(tiny_con):
    v = values(tiny_con)
    # Finished in March: W1 4 days, W2 12 days, W4 10 days (ended 03-02) -> mean 26/3, median 10. W3 is open.
    assert v["production_cycle_time_mean_days"]["value"] == pytest.approx(26 / 3)
    assert v["production_cycle_time_median_days"]["value"] == pytest.approx(10)
    # p90: sorted 4, 10, 12; position 0.9 x 2 = 1.8 -> 10 + 0.8 x (12 - 10) = 11.6.
    assert v["production_cycle_time_p90_days"]["value"] == pytest.approx(11.6)
    assert v["production_cycle_time_p90_days"]["denominator"] == 3
    # Due in March: W1 min(90,100)=90, W2 50, W3 open 0 -> 140 / (100 + 50 + 40) = 140/190.
    assert v["plan_adherence"]["value"] == pytest.approx(140 / 190)
    # Load: W1 90 x 0.5 + W2 50 x 1.0 = 95 h on W1 (100 h), W4 80 x 0.25 = 20 h on W2 (40 h) -> 115 / 140.
    assert v["capacity_utilisation"]["numerator"] == pytest.approx(115)
    assert v["capacity_utilisation"]["value"] == pytest.approx(115 / 140)
    per_wc = kpis.kpi_values(tiny_con, MARCH, ("capacity_utilisation",), by=("work_center",))
    got = dict(zip(per_wc["work_center"], per_wc["value"]))
    assert got == {"W1": pytest.approx(0.95), "W2": pytest.approx(0.5)}


def test_inventory_turns_march(tiny_con):
    v = values(tiny_con)
    # COGS (ship_date in March): D1 10x10 + D2 6x5 + D3 4x5 + D4 5x10 + D5 8x2 = 216 (D6 shipped in February).
    # Snapshots in March: 03-01 = 20x10 + 10x5 + 50x2 = 350; 03-15 = 10x10 + 0 + 40x2 = 180 -> average 265.
    assert v["inventory_turns"]["numerator"] == pytest.approx(216)
    assert v["inventory_turns"]["denominator"] == pytest.approx(265)
    assert v["inventory_turns"]["value"] == pytest.approx(216 / 265 * 365 / 31)
    assert v["days_of_inventory"]["value"] == pytest.approx(265 * 31 / 216)


def test_forecast_accuracy_and_bias(tiny_con):
    v = values(tiny_con)
    # Lag 1 for March: latest consensus snapshot dated in February is 02-25 (A 20, B 6, C missing = 0);
    # the 02-10 snapshot (A 100) and the sales row (A 50) are ignored.
    # Actual March orders: A 10 + 5 + 3 = 18, B 10, C 8 (O3/1 was ordered in February) -> 36.
    # |F - A| = 2 + 4 + 8 = 14 -> accuracy 1 - 14/36; bias (2 - 4 - 8) / 36 = -10/36.
    assert v["forecast_accuracy"]["value"] == pytest.approx(1 - 14 / 36)
    assert v["forecast_bias"]["value"] == pytest.approx(-10 / 36)
    # Lag 2: the 01-31 snapshot (A 15, B 10, C 8) -> |15-18| = 3 -> 1 - 3/36.
    q2 = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, lag=2)
    assert values(tiny_con, q2)["forecast_accuracy"]["value"] == pytest.approx(1 - 3 / 36)
    # Sales source, lag 1: only A 50 in the 02-25 snapshot -> |50-18| + 10 + 8 = 50 > 36 -> max(0, ...) = 0.
    qs = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, source="sales")
    assert values(tiny_con, qs)["forecast_accuracy"]["value"] == 0.0
    # Family F1 only: A and B -> |2| + |4| = 6 over 28.
    qf = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, Filters(families=("F1",)))
    assert values(tiny_con, qf)["forecast_accuracy"]["value"] == pytest.approx(1 - 6 / 28)


def test_forecast_month_not_complete_or_without_snapshot_is_not_a_zero(tiny_con):
    # April is not complete on 2026-03-31: no pairs -> null with a reason, not 0% accuracy.
    q = kpis.Query(date(2026, 4, 1), date(2026, 4, 30), date(2026, 3, 31))
    r = values(tiny_con, q)["forecast_accuracy"]
    assert r["value"] is None or r["value"] != r["value"]
    assert "no actual demand" in r["reason"]


def test_tracking_signal(tiny_con):
    ts = kpis.tracking_signals(tiny_con, MARCH).set_index("sku")
    # Months with a lag-1 snapshot in the 6-month window: February (01-31 snapshot, no February rows -> F = 0)
    # and March. A: March 18-20 = -2, February 0 -> sum -2, MAD 2/2 = 1, TS -2.
    # B: March 10-6 = 4, February 2-0 = 2 -> TS 6 / 3 = 2. C: 8 + 4 = 12, MAD 6 -> TS 2.
    assert ts.loc["A", "tracking_signal"] == pytest.approx(-2)
    assert ts.loc["B", "tracking_signal"] == pytest.approx(2)
    assert ts.loc["C", "mad"] == pytest.approx(6)
    assert not ts["flag"].any()


def test_nps(tiny_con):
    v = values(tiny_con)
    # March answers 10, 9, 3, 7, 6, 10: promoters 3, detractors 2 (3 and 6) of 6 -> 100 x 1/6.
    assert v["nps"]["value"] == pytest.approx(100 / 6)
    by_region = values(tiny_con, by=("region",))
    nps = by_region[by_region["kpi"] == "nps"].set_index("region")["value"]
    # North 10, 9, 6 -> (2 - 1)/3; South 3, 7, 10 -> (1 - 1)/3.
    assert nps["North"] == pytest.approx(100 / 3)
    assert nps["South"] == pytest.approx(0)


def test_filters_and_drilldown_sum_numerators(tiny_con):
    q = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, Filters(regions=("North",)))
    v = values(tiny_con, q)
    # North lines promised in March: O1/1 (OTIF) and O1/2 (not) -> 1/2.
    assert v["otif_to_promise"]["value"] == pytest.approx(0.5)
    # Inventory is not held by region: null with a reason, not a wrong number.
    assert v["inventory_turns"]["value"] != v["inventory_turns"]["value"] or v["inventory_turns"]["value"] is None
    assert v["inventory_turns"]["reason"] == "not available by region"
    q = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, Filters(families=("F2",), work_centers=("W2",)))
    # F2 on W2: O2/2 (OTIF) and O3/1 (not) -> 1/2.
    assert values(tiny_con, q)["otif_to_promise"]["value"] == pytest.approx(0.5)
    bd = kpis.kpi_breakdown(tiny_con, "otif_to_promise", MARCH, "region")
    # Breakdown numerators and denominators add up to the total (3/5), they are not averaged.
    assert bd["numerator"].sum() == 3 and bd["denominator"].sum() == 5
    # South misses 1 of 3 lines, North 1 of 2 -> each causes half the misses.
    assert sorted(bd["share_of_miss"]) == [0.5, 0.5]


def test_trend_by_month(tiny_con):
    trend = kpis.kpi_trend(tiny_con, date(2026, 3, 1), MARCH, ("plan_adherence", "inventory_turns"), n_months=2)
    pa = trend[trend["kpi"] == "plan_adherence"].sort_values("month")
    assert [str(m)[:10] for m in pa["month"]] == ["2026-02-01", "2026-03-01"]
    # February: W4 due 02-28, 80 of 80; March 140/190 as above.
    assert pa["value"].tolist() == [pytest.approx(1.0), pytest.approx(140 / 190)]
    turns = trend[trend["kpi"] == "inventory_turns"].sort_values("month")["value"].tolist()
    # February: COGS D6 2 x 5 = 10; one snapshot 02-15 = 99 x (10 + 5 + 2) = 1683; 28 days.
    assert turns[0] == pytest.approx(10 / 1683 * 365 / 28)
    assert turns[1] == pytest.approx(216 / 265 * 365 / 31)


def test_missing_promised_date_says_not_available(tmp_path):
    rows = dict(TINY_ROWS)
    rows["orders"] = [r[:6] + (None,) + r[7:] for r in TINY_ROWS["orders"]]
    path = tmp_path / "nopromise.duckdb"
    write_rows(path, rows)
    con = db.open_reader(path)
    v = values(con)
    assert v["otif_to_promise"]["reason"] == "not available: needs promised_date"
    assert v["otif_to_request"]["value"] == pytest.approx(0.4)  # still computed


def test_no_surveys_and_zero_actuals(tmp_path):
    rows = {k: v for k, v in TINY_ROWS.items() if k != "surveys"}
    path = tmp_path / "nosurvey.duckdb"
    write_rows(path, rows)
    v = values(db.open_reader(path))
    assert v["nps"]["reason"] == "not available: needs a surveys file"


def test_targets_and_traffic_lights(tiny_db):
    spec = kpis.SPECS["otif_to_promise"]
    assert kpis.traffic_light(spec, 0.96, 0.95, 0.03) == "green"
    assert kpis.traffic_light(spec, 0.93, 0.95, 0.03) == "amber"
    assert kpis.traffic_light(spec, 0.90, 0.95, 0.03) == "red"
    low = kpis.SPECS["order_cycle_time_mean_days"]
    assert kpis.traffic_light(low, 13, 14, 3) == "green"
    assert kpis.traffic_light(low, 18, 14, 3) == "red"
    band = kpis.SPECS["capacity_utilisation"]
    assert kpis.traffic_light(band, 0.80, 0.85, 0.10) == "green"
    assert kpis.traffic_light(band, 1.02, 0.85, 0.10) == "amber"
    assert kpis.traffic_light(band, 1.20, 0.85, 0.10) == "red"
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        kpis.set_targets(con, {"otif_to_promise": (0.9, 0.02)}, user="test")
    assert kpis.targets(db.open_reader(tiny_db))["otif_to_promise"] == (0.9, 0.02)


def test_last_complete_month():
    assert kpis.last_complete_month(date(2026, 3, 31)) == date(2026, 3, 1)
    assert kpis.last_complete_month(date(2026, 3, 30)) == date(2026, 2, 1)
    assert kpis.last_complete_month(date(2026, 1, 5)) == date(2025, 12, 1)


def test_cli_json(tiny_db):
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "kpis", "--db", str(tiny_db), "--start", "2026-03-01",
         "--end", "2026-03-31", "--as-of", "2026-03-31", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    rows = json.loads(out)
    by_id = {(r["kpi"], r.get("work_center")): r for r in rows}
    assert by_id[("otif_to_promise", None)] == {
        "kpi": "otif_to_promise", "value": 0.6, "numerator": 3.0, "denominator": 5.0, "unit": "rate"}
    assert by_id[("capacity_utilisation", "W1")]["value"] == pytest.approx(0.95)
    assert ("capacity_utilisation", None) not in by_id

    assert len({r["kpi"] for r in rows}) == len(kpis.KPI_IDS)
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "kpis", "--db", str(tiny_db), "--start", "2026-03-01",
         "--end", "2026-03-31", "--region", "North"], capture_output=True, text=True, check=True).stdout
    assert "OTIF to promise" in out and "50.0%" in out


def test_cli_default_as_of(tiny_db):
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "kpis", "--db", str(tiny_db), "--start", "2026-03-01",
         "--end", "2026-03-31", "--json"], capture_output=True, text=True, check=True).stdout
    otif = next(r for r in json.loads(out) if r["kpi"] == "otif_to_promise")
    # Default as-of = 2026-03-24 (last delivery): O2/2 (promised 03-25) and O3/1 (03-30) are not due yet.
    assert otif["denominator"] == 3 and otif["numerator"] == 2


def test_forecast_accuracy_at_family_level(tiny_con):
    # Lag 1, March, consensus 02-25 (A 20, B 6, C 0) against actuals A 18, B 10, C 8.
    # Family level: F1 = A + B: F 26 vs A 28 -> |26 - 28| = 2; F2 = C: F 0 vs A 8 -> 8. 10 / 36 -> 1 - 10/36
    # (SKU level: 2 + 4 + 8 = 14 -> 1 - 14/36: A's over- and B's under-forecast cancel within F1).
    qf = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, level="family")
    v = values(tiny_con, qf)
    assert v["forecast_accuracy"]["value"] == pytest.approx(1 - 10 / 36)
    assert v["forecast_accuracy"]["numerator"] == pytest.approx(10)
    assert v["forecast_bias"]["value"] == pytest.approx(-10 / 36)  # sums cancel the same at both levels
    # Sales (02-25: A 50 only): SKU level 32 + 10 + 8 = 50 > 36 -> floored at 0;
    # family level F1 |50 - 28| = 22, F2 8 -> 30 -> 1 - 30/36.
    qs = kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, source="sales", level="family")
    assert values(tiny_con, qs)["forecast_accuracy"]["value"] == pytest.approx(1 - 30 / 36)
    # Broken down by family: F1 1 - 2/28, F2 1 - 8/8 = 0; by SKU it is not available at family level.
    bd = kpis.kpi_breakdown(tiny_con, "forecast_accuracy", qf, "family").set_index("family")
    assert bd.loc["F1", "value"] == pytest.approx(1 - 2 / 28) and bd.loc["F2", "value"] == 0.0
    sku = kpis.kpi_breakdown(tiny_con, "forecast_accuracy", qf, "sku")
    assert sku["reason"].iloc[0] == "not available by sku at family level"
    with pytest.raises(ValueError, match="level"):
        kpis.kpi_values(tiny_con, kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, level="region"))


def test_floored_accuracy_says_what_moved():
    # 50 absolute error on 36 demand: WMAPE 50/36 = 139%.
    assert kpis.floored_note("forecast_accuracy", 0.0, 50.0, 36.0) == \
        "floored at 0: WMAPE 139% (absolute error 50 on demand 36)"
    assert kpis.floored_note("forecast_accuracy", 0.61, 14.0, 36.0) is None
    assert kpis.floored_note("forecast_bias", 0.0, 50.0, 36.0) is None


def test_default_forecast_source(tiny_con, tmp_path):
    from tests.conftest import TINY_ROWS, write_rows

    assert kpis.default_source(tiny_con) == ("consensus", "forecast source: consensus")
    path = tmp_path / "sales_only.duckdb"
    write_rows(path, {**TINY_ROWS, "forecasts": [r for r in TINY_ROWS["forecasts"] if r[3] == "sales"]})
    con = db.open_reader(path)
    try:
        assert kpis.default_source(con) == ("sales", "forecast source: sales (no consensus snapshot in the data)")
    finally:
        con.close()
    path = tmp_path / "none.duckdb"
    write_rows(path, {**TINY_ROWS, "forecasts": []})
    con = db.open_reader(path)
    try:
        source, note = kpis.default_source(con)
    finally:
        con.close()
    assert source is None and "--backfill" in note


def test_missing_data_reason_names_the_files_in_plain_words():
    # No production file (empty table): the reason names the file, not a column of it ('actual_end'); capacity
    # utilisation with nothing it needs lists the files and the product columns as a plain list.
    from analytics.kpis import SPECS, missing_data_reason

    nothing = {}
    for spec in SPECS.values():
        for t, c in spec.needs:
            nothing[(t, c)] = nothing[(t, None)] = False
    nothing[("products", None)] = True  # the products table always has rows (the import derives it if need be)
    assert missing_data_reason(SPECS["production_cycle_time_mean_days"], nothing) == (
        "not available: needs a production file"
    )
    assert missing_data_reason(SPECS["capacity_utilisation"], nothing) == (
        "not available: needs a production file, a capacity file, work centers and hours per unit"
    )
    # a production file whose rows have no actual_end: the column is named
    some = {**nothing, ("production", None): True}
    assert missing_data_reason(SPECS["production_cycle_time_mean_days"], some) == "not available: needs actual_end"


def test_data_availability_knows_an_empty_table(tiny_db):
    # every table a KPI needs a column of is also checked as a whole (so an empty one reads as 'a ... file')
    from analytics import db
    from analytics.kpis import data_availability

    con = db.open_reader(tiny_db)
    try:
        avail = data_availability(con)
    finally:
        con.close()
    assert avail[("production", None)] is True and avail[("products", None)] is True
