"""Every command runs on partial data: the fixture company with each optional table or column left out."""

from __future__ import annotations

import pytest

from analytics.__main__ import main
from tests.partial_data import VARIANTS


@pytest.fixture()
def variant_dbs(partial_variant_dbs):
    return partial_variant_dbs


COMMANDS = {
    "kpis": ["kpis", "--start", "2026-02-01", "--end", "2026-03-31"],
    "kpis_json": ["kpis", "--start", "2026-03-01", "--end", "2026-03-31", "--json"],
    "promise": ["promise", "--sku", "A", "--qty", "5", "--date", "2026-04-20"],
    "promise_json": ["promise", "--sku", "C", "--qty", "500", "--date", "2026-05-20", "--json"],
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_runs(variant_dbs, variant, command, capsys):
    rc = main([*COMMANDS[command], "--db", str(variant_dbs[variant])])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "Traceback" not in out.err


def _kpis(db_path, capsys, *extra) -> dict:
    import json

    assert main(["kpis", "--db", str(db_path), "--start", "2026-03-01", "--end", "2026-03-31", "--json", *extra]) == 0
    return {r["kpi"]: r for r in json.loads(capsys.readouterr().out)}


def test_order_accuracy_needs_an_error_code_column(variant_dbs, capsys):
    # No error_code column: the data cannot tell an error from none, so no number (and no perfect order rate).
    rows = _kpis(variant_dbs["no_error_code"], capsys)
    for kpi in ("order_accuracy", "perfect_order_rate"):
        assert rows[kpi]["value"] is None
        assert rows[kpi]["reason"] == "not available: the data has no error information (no error_code column)"
    # The column supplied with every cell empty means no errors. March, as of 03-24, completed lines:
    # O1/1 (03-09), O1/2 (03-14), O2/1 (03-15), O2/2 (03-24) -> 4 of 4 without error = 100%.
    rows = _kpis(variant_dbs["blank_error_code"], capsys)
    assert rows["order_accuracy"]["value"] == 1.0 and rows["order_accuracy"]["denominator"] == 4
    # With the file's own codes: O2/1 damaged -> 3 of 4 = 75% (as tests/app/test_pages.py).
    assert _kpis(variant_dbs["full"], capsys)["order_accuracy"]["value"] == 0.75


def test_deliveries_derived_from_ship_dates(variant_dbs, capsys):
    from analytics import db, kpis

    # Derived deliveries carry no error information, and their delivered date is the ship date.
    rows = _kpis(variant_dbs["deliveries_from_ship_date"], capsys)
    assert rows["order_accuracy"]["value"] is None
    # Completed in March as of 03-22 (the last date in this data: 03-22 ship of O2/2):
    # O1/1 03-08 - 03-01 = 7, O1/2 03-13 - 03-01 = 12, O2/1 03-14 - 03-05 = 9, O2/2 03-22 - 03-05 = 17
    # -> mean 45 / 4 = 11.25 days, order to ship.
    assert rows["order_cycle_time_mean_days"]["value"] == pytest.approx(11.25)
    con = db.open_reader(variant_dbs["deliveries_from_ship_date"])
    try:
        spec = kpis.effective_specs(con)["order_cycle_time_mean_days"]
    finally:
        con.close()
    assert spec.label == "Order cycle time, order to ship (mean)" and "order to ship" in spec.definition
    main(["kpis", "--db", str(variant_dbs["deliveries_from_ship_date"]), "--start", "2026-03-01",
          "--end", "2026-03-31"])
    assert "Order cycle time, order to ship (mean)" in capsys.readouterr().out
    # With a real deliveries file the label stays.
    con = db.open_reader(variant_dbs["full"])
    try:
        assert kpis.effective_specs(con)["order_cycle_time_mean_days"].label == "Order cycle time (mean)"
    finally:
        con.close()


def test_kpis_says_which_forecast_source_and_level(variant_dbs, capsys):
    main(["kpis", "--db", str(variant_dbs["full"]), "--start", "2026-03-01", "--end", "2026-03-31",
          "--level", "family"])
    out = capsys.readouterr().out
    assert "forecast source: consensus" in out and "Forecast accuracy (family level)" in out
    # No forecasts at all: the header says so and how to make some.
    main(["kpis", "--db", str(variant_dbs["no_forecasts"]), "--start", "2026-03-01", "--end", "2026-03-31"])
    out = capsys.readouterr().out
    assert "no forecast snapshot in the data (run `python -m analytics forecast --db DB --backfill 6`)" in out


def test_no_number_without_unit_costs_work_centers_or_prices(variant_dbs, capsys):
    rows = _kpis(variant_dbs["no_unit_cost"], capsys)
    for kpi in ("inventory_turns", "days_of_inventory"):
        assert rows[kpi]["value"] is None and rows[kpi]["reason"] == "not available: needs unit costs"
    assert main(["promise", "--db", str(variant_dbs["no_unit_cost"]), "--sku", "A", "--qty", "5",
                 "--date", "2026-04-20"]) == 0
    out = capsys.readouterr().out
    assert "Margin:           not available: needs unit costs (3 of 3 SKUs have none)" in out
    assert "margin after it" not in out
    rows = _kpis(variant_dbs["no_work_center_hours"], capsys)
    assert rows["capacity_utilisation"]["reason"] == "not available: needs work centers and hours per unit"
    # No list or order prices: the promise quotes the unit cost as the price (A: 10) -> margin 0.
    assert main(["promise", "--db", str(variant_dbs["no_unit_price"]), "--sku", "A", "--qty", "5",
                 "--date", "2026-04-20", "--json"]) == 0
    import json

    answer = json.loads(capsys.readouterr().out)
    assert answer["price"] == 10.0 and answer["margin_before_expediting"] == 0.0
