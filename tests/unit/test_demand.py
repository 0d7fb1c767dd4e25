"""The demand workbench (analytics/demand.py): overrides, forecast value added, accuracy by lag, bias.

Three small hand-made companies built on the TINY_ROWS products (A and B in family F1, C in F2;
unit prices A 20, B 8, C 5). Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date

import pandas as pd
import pytest

from analytics import db, demand, kpis
from analytics.filters import Filters
from tests.conftest import TINY_ROWS, write_rows

APR, MAY, JUN = date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)
SAVE_DAY = date(2026, 4, 10)


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def orders(rows: list[tuple[str, str, float]]) -> list[tuple]:
    """(sku, order_date, qty) -> contract order lines (one order per line)."""
    return [(f"X{i}", 1, "C1", sku, day, None, None, qty, None) for i, (sku, day, qty) in enumerate(rows)]


def cells(con, snapshot: date, source: str = "consensus") -> dict[tuple[str, date], float]:
    rows = con.execute(
        "SELECT sku, period, quantity FROM forecasts WHERE source = $s AND snapshot_date = $d",
        {"s": source, "d": snapshot},
    ).fetchall()
    return {(sku, period): qty for sku, period, qty in rows}


# --------------------------------------------------------------------------- overrides

# The override company: the latest statistical snapshot before the save day (2026-04-10) is 03-31.
OVERRIDE_FORECASTS = [
    ("2026-02-28", "A", "2026-05-01", "statistical", 99),  # older statistical run: not the base
    ("2026-03-31", "A", "2026-03-01", "statistical", 18),  # a past month: copied, never editable
    ("2026-03-31", "A", "2026-04-01", "statistical", 12),
    ("2026-03-31", "B", "2026-04-01", "statistical", 4),
    ("2026-03-31", "A", "2026-05-01", "statistical", 20),
    ("2026-03-31", "B", "2026-05-01", "statistical", 6),
    ("2026-03-31", "C", "2026-05-01", "statistical", 5),
    ("2026-03-31", "A", "2026-06-01", "statistical", 0),  # family F1 is 0 in June
    ("2026-03-31", "B", "2026-06-01", "statistical", 0),
    ("2026-03-31", "C", "2026-06-01", "statistical", 7),
    ("2026-03-31", "A", "2026-05-01", "sales", 40),  # other sources are never the base
    ("2026-04-30", "A", "2026-05-01", "consensus", 500),  # after the save day: not the base
]


@pytest.fixture(scope="module")
def override_source(tmp_path_factory):
    path = tmp_path_factory.mktemp("override") / "override.duckdb"
    write_rows(path, dict(TINY_ROWS, forecasts=OVERRIDE_FORECASTS))
    return path


@pytest.fixture()
def override_db(override_source, tmp_path):
    """A private copy for tests that save."""
    path = tmp_path / "override.duckdb"
    shutil.copyfile(override_source, path)
    return path


@pytest.fixture()
def override_con(override_source):
    con = db.open_reader(override_source)
    yield con
    con.close()


def test_base_forecast_is_latest_statistical_without_consensus(override_con):
    # No consensus on or before 04-10 -> the latest statistical snapshot on or before it (03-31);
    # future_only keeps April (the save month) on: A/B x Apr, May, Jun = 6 rows.
    df = demand.base_forecast(override_con, "F1", "family", SAVE_DAY)
    assert set(df["source"]) == {"statistical"}
    assert set(pd.to_datetime(df["snapshot_date"]).dt.date) == {date(2026, 3, 31)}
    got = {(r.sku, pd.Timestamp(r.period).date()): r.quantity for r in df.itertuples()}
    assert got == {("A", APR): 12, ("B", APR): 4, ("A", MAY): 20, ("B", MAY): 6, ("A", JUN): 0, ("B", JUN): 0}
    # the past month shows when asked for the whole snapshot
    full = demand.base_forecast(override_con, "A", "sku", SAVE_DAY, future_only=False)
    assert len(full) == 4
    # on 05-01 the consensus snapshot of 04-30 is the base
    assert demand.base_snapshot(override_con, date(2026, 5, 1)) == ("consensus", date(2026, 4, 30))


def test_family_override_spread_in_proportion(override_con):
    # F1 in May: A 20, B 6 (family 26).
    # +10 %: family 26 x 1.1 = 28.6 -> 29 whole chairs, spread 20 : 6 -> A 22.31, B 6.69 -> floors 22 + 6 = 28,
    # the missing unit to the largest remainder (B, 0.69) -> A 22, B 7: whole units, the family total exact.
    pct = demand.plan_override(override_con, "family", "F1", {MAY: 10}, "percent", as_of=SAVE_DAY)
    assert dict(zip(pct["sku"], pct["new_qty"])) == {"A": 22.0, "B": 7.0}
    assert dict(zip(pct["sku"], pct["base_qty"])) == {"A": 20, "B": 6}
    assert set(pct["spread"]) == {"proportional"}
    # 39 units for the family: A 39 x 20/26 = 30, B 39 x 6/26 = 9.
    units = demand.plan_override(override_con, "family", "F1", {MAY: 39}, "units", as_of=SAVE_DAY)
    assert dict(zip(units["sku"], units["new_qty"])) == pytest.approx({"A": 30.0, "B": 9.0})
    assert pct.attrs["notes"] == [] and units.attrs["notes"] == []


def test_sku_override_units_vs_percent(override_con):
    # SKU A in May (base 20): set to 25 units, or -50 % -> 10. Two months at once: April (12) +25 % -> 15.
    units = demand.plan_override(override_con, "sku", "A", {MAY: 25}, "units", as_of=SAVE_DAY)
    assert units[["sku", "base_qty", "new_qty"]].values.tolist() == [["A", 20.0, 25.0]]
    pct = demand.plan_override(override_con, "sku", "A", {"2026-05-01": -50, APR: 25}, "percent", as_of=SAVE_DAY)
    assert pct["new_qty"].tolist() == pytest.approx([15.0, 10.0])  # sorted by period: April, May


def test_family_override_on_zero_base_spreads_equally_and_says_so(override_con):
    # F1 in June: A 0, B 0 -> 10 units spread equally over the 2 SKUs: 5 each.
    df = demand.plan_override(override_con, "family", "F1", {JUN: 10}, "units", as_of=SAVE_DAY)
    assert dict(zip(df["sku"], df["new_qty"])) == {"A": 5.0, "B": 5.0}
    assert set(df["spread"]) == {"equal"}
    assert len(df.attrs["notes"]) == 1 and "spread equally" in df.attrs["notes"][0]
    # a percent change cannot move a zero base
    with pytest.raises(ValueError, match="percent change cannot move it"):
        demand.plan_override(override_con, "family", "F1", {JUN: 10}, "percent", as_of=SAVE_DAY)


@pytest.mark.parametrize(
    ("level", "target", "edits", "unit", "message"),
    [
        ("sku", "A", {date(2026, 3, 1): 5}, "units", "in the past"),
        ("sku", "A", {date(2026, 5, 15): 5}, "units", "not the first day of a month"),
        ("sku", "A", {MAY: -1}, "units", "zero or more"),
        ("sku", "A", {MAY: -150}, "percent", "negative"),
        ("sku", "A", {MAY: "lots"}, "units", "not a number"),
        ("sku", "A", {}, "units", "edits are empty"),
        ("sku", "ZZ", {MAY: 5}, "units", "Unknown SKU 'ZZ'"),
        ("family", "Nope", {MAY: 5}, "units", "Unknown family 'Nope'"),
        ("region", "North", {MAY: 5}, "units", "level must be"),
        ("sku", "A", {MAY: 5}, "boxes", "unit must be"),
    ],
)
def test_plan_override_validation(override_con, level, target, edits, unit, message):
    with pytest.raises(ValueError, match=message):
        demand.plan_override(override_con, level, target, edits, unit, as_of=SAVE_DAY)


def test_reason_is_mandatory_and_a_refused_save_leaves_the_file_untouched(override_db):
    before = sha(override_db)
    for reason in ("", "   ", None):
        with pytest.raises(ValueError, match="reason is required"):
            demand.save_override(override_db, "sku", "A", {MAY: 25}, "units", reason, "ann", snapshot_date=SAVE_DAY)
    with pytest.raises(ValueError, match="the name is empty"):
        demand.save_override(override_db, "sku", "A", {MAY: 25}, "units", "promo", " ", snapshot_date=SAVE_DAY)
    # refused inside the writer transaction (unknown family; percent on a zero base): rolled back
    with pytest.raises(ValueError, match="Unknown family"):
        demand.save_override(override_db, "family", "F9", {MAY: 5}, "units", "promo", "ann", snapshot_date=SAVE_DAY)
    with pytest.raises(ValueError, match="percent"):
        demand.save_override(override_db, "family", "F1", {JUN: 5}, "percent", "promo", "ann", snapshot_date=SAVE_DAY)
    # an edit that changes nothing (A in May is already 20) writes nothing
    assert demand.save_override(override_db, "sku", "A", {MAY: 20}, "units", "check", "ann", snapshot_date=SAVE_DAY) == 0
    assert sha(override_db) == before


def test_save_writes_a_full_consensus_copy_and_history(override_db):
    stat = date(2026, 3, 31)
    # 1) F1 in May set to 39 units on 04-10: A 20 -> 30, B 6 -> 9 (2 cells changed).
    n = demand.save_override(override_db, "family", "F1", {MAY: 39}, "units", "  Promo in May ", "ann",
                             snapshot_date=SAVE_DAY)
    assert n == 2
    con = db.open_reader(override_db)
    base, new = cells(con, stat, "statistical"), cells(con, SAVE_DAY)
    # a full copy of the 03-31 statistical snapshot (9 cells, the past March cell included) ...
    assert set(new) == set(base) and len(new) == 9
    # ... with only the edited cells changed
    assert {k: v for k, v in new.items() if base[k] != v} == {("A", MAY): 30, ("B", MAY): 9}
    hist = demand.override_history(con)
    assert len(hist) == 2
    r = hist.set_index("sku").loc["A"]
    assert (r["created_by"], r["level"], r["target"], r["unit"], r["reason"]) == ("ann", "family", "F1", "units",
                                                                                 "Promo in May")
    assert (r["base_qty"], r["new_qty"], r["change"], r["input_value"]) == (20, 30, 10, 39)
    assert r["base_source"] == "statistical" and pd.Timestamp(r["base_snapshot_date"]).date() == stat
    con.close()

    # 2) same day again, SKU C in June +100 % (7 -> 14): the 04-10 snapshot is the base and is replaced
    #    as a whole, so it keeps the May edits and still has 9 cells (no duplicates).
    assert demand.save_override(override_db, "sku", "C", {JUN: 100}, "percent", "Customer intel", "bob",
                                snapshot_date=SAVE_DAY) == 1
    # 3) on 04-15 F1 in June (0) set to 10 units: spread equally, A 5 and B 5; base = the 04-10 consensus
    #    (the 04-30 one is later, the newer statistical rule does not apply once a consensus exists).
    assert demand.save_override(override_db, "family", "F1", {JUN: 10}, "units", "New listing", "cy",
                                snapshot_date=date(2026, 4, 15)) == 2
    con = db.open_reader(override_db)
    day10, day15 = cells(con, SAVE_DAY), cells(con, date(2026, 4, 15))
    assert len(day10) == 9 and day10[("A", MAY)] == 30 and day10[("C", JUN)] == 14
    assert {k: v for k, v in day15.items() if day10[k] != v} == {("A", JUN): 5, ("B", JUN): 5}
    assert cells(con, date(2026, 4, 30)) == {("A", MAY): 500}  # untouched

    hist = demand.override_history(con)
    assert len(hist) == 5
    # newest first: the 04-15 rows (cy), then bob's, then ann's
    assert hist["override_id"].tolist() == [5, 4, 3, 2, 1]
    assert hist["created_by"].tolist() == ["cy", "cy", "bob", "ann", "ann"]
    bob = hist[hist["created_by"] == "bob"].iloc[0]
    assert (bob["base_source"], bob["base_qty"], bob["new_qty"], bob["input_value"]) == ("consensus", 7, 14, 100)
    assert pd.Timestamp(bob["base_snapshot_date"]).date() == SAVE_DAY
    assert demand.override_history(con, sku="C")["reason"].tolist() == ["Customer intel"]
    assert demand.override_history(con, family="F1")["sku"].tolist() == ["B", "A", "B", "A"]
    assert demand.override_history(con, sku="A", family="F2").empty

    # One row per override a person made (5 cells, 3 saves), newest first, with its total change:
    # cy: F1 June 0 -> 10 (A 5, B 5); bob: C June 7 -> 14 (+100%); ann: F1 May 26 -> 39 (A 20 -> 30, B 6 -> 9).
    ev = demand.override_events(con)
    assert ev["created_by"].tolist() == ["cy", "bob", "ann"] and ev["event"].tolist() == [4, 3, 1]
    assert ev[["skus", "base_qty", "new_qty", "change"]].values.tolist() == [[2, 0, 10, 10], [1, 7, 14, 7],
                                                                            [2, 26, 39, 13]]
    assert ev["change_text"].tolist() == ["new total per month", "+100%", "new total per month"]
    assert ev["change_pct"].iloc[2] == pytest.approx(13 / 26) and pd.isna(ev["change_pct"].iloc[0])
    assert demand.override_event_cells(con, 1)[["sku", "base_qty", "new_qty"]].values.tolist() == [
        ["A", 20, 30], ["B", 6, 9]]  # the drill-down to its SKUs
    assert demand.override_events(con, sku="C")["event"].tolist() == [3]
    con.close()


# --------------------------------------------------------------------------- forecast value added

# The FVA company. Actuals (ordered units): Jan A 10, B 4, C 6; Feb A 12, B 4, C 6; Mar A 20, B 10, C 10.
FVA_ORDERS = orders([
    ("A", "2026-01-15", 10), ("B", "2026-01-15", 4), ("C", "2026-01-15", 6),
    ("A", "2026-02-15", 12), ("B", "2026-02-15", 4), ("C", "2026-02-15", 6),
    ("A", "2026-03-10", 15), ("A", "2026-03-20", 5), ("B", "2026-03-15", 10), ("C", "2026-03-15", 10),
])
FVA_FORECASTS = [
    # statistical made in December (lag 3 for March, lag 2 for February)
    ("2025-12-15", "A", "2026-02-01", "statistical", 10), ("2025-12-15", "B", "2026-02-01", "statistical", 4),
    ("2025-12-15", "C", "2026-02-01", "statistical", 6),
    ("2025-12-15", "A", "2026-03-01", "statistical", 18), ("2025-12-15", "B", "2026-03-01", "statistical", 10),
    ("2025-12-15", "C", "2026-03-01", "statistical", 6),
    # statistical made in January for February only: lag 1 for Feb, which no other step covers
    ("2026-01-15", "A", "2026-02-01", "statistical", 12), ("2026-01-15", "B", "2026-02-01", "statistical", 4),
    ("2026-01-15", "C", "2026-02-01", "statistical", 6),
    # statistical made in February (lag 1 for March); 02-01 is superseded by 02-26 (run after the 02-25 consensus)
    ("2026-02-01", "A", "2026-03-01", "statistical", 1), ("2026-02-01", "B", "2026-03-01", "statistical", 1),
    ("2026-02-26", "A", "2026-03-01", "statistical", 16), ("2026-02-26", "B", "2026-03-01", "statistical", 8),
    ("2026-02-26", "C", "2026-03-01", "statistical", 10),
    # sales made in February only
    ("2026-02-20", "A", "2026-03-01", "sales", 22), ("2026-02-20", "B", "2026-03-01", "sales", 10),
    ("2026-02-20", "C", "2026-03-01", "sales", 12),
]
MARCH = kpis.Query(date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))
FEB_MAR = kpis.Query(date(2026, 2, 1), date(2026, 3, 31), date(2026, 3, 31))


@pytest.fixture(scope="module")
def fva_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("fva") / "fva.duckdb"
    rows = {"products": TINY_ROWS["products"], "customers": TINY_ROWS["customers"],
            "orders": FVA_ORDERS, "forecasts": FVA_FORECASTS}
    write_rows(path, rows)
    # Consensus snapshots come from planner overrides:
    # 12-20: base = statistical 12-15; A in March 18 -> 30 ('Promo'). Snapshot: Feb A10 B4 C6, Mar A30 B10 C6.
    assert demand.save_override(path, "sku", "A", {date(2026, 3, 1): 30}, "units", "Promo", "ann",
                                snapshot_date=date(2025, 12, 20)) == 1
    # 02-25: the planner carries the 12-20 consensus forward (start_from='consensus', over the newer 01-15 and
    # 02-01 statistical runs);
    # B in March 10 -> 8 ('Customer intel'), then the same day C in March 6 -> 10 ('Promo').
    # Snapshot 02-25: Mar A30 B8 C10.
    assert demand.save_override(path, "sku", "B", {date(2026, 3, 1): 8}, "units", "Customer intel", "bob",
                                snapshot_date=date(2026, 2, 25), start_from="consensus") == 1
    assert demand.save_override(path, "sku", "C", {date(2026, 3, 1): 10}, "units", "Promo", "bob",
                                snapshot_date=date(2026, 2, 25), start_from="consensus") == 1
    return path


@pytest.fixture()
def fva_con(fva_db):
    con = db.open_reader(fva_db)
    yield con
    con.close()


def rows_by(df, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in df.to_dict("records")}


def test_fva_stairstep_overall_by_hand(fva_con):
    df = demand.fva_stairstep(fva_con, FEB_MAR, lags=(1, 3))
    assert list(df.columns) == demand.FVA_COLUMNS
    r = rows_by(df, "lag", "step")
    # Lag 1, March only (February: only the 01-15 statistical run covers it, so it is left out).
    # Actual March A 20, B 10, C 10: sum A = 40.
    assert df.loc[df["lag"] == 1, "step"].tolist() == ["naive", "statistical", "sales", "consensus"]
    assert set(df["months"]) == {1}
    # naive = actual of January (the month before the February snapshot month): A 10, B 4, C 6
    #   |10-20| + |4-10| + |6-10| = 20 -> accuracy 1 - 20/40 = 0.5; bias (20-40)/40 = -0.5
    n = r[(1, "naive")]
    assert (n["numerator"], n["denominator"], n["sku_months"]) == (20, 40, 3)
    assert n["accuracy"] == pytest.approx(0.5) and n["bias"] == pytest.approx(-0.5) and pd.isna(n["fva"])
    # statistical 02-26 (not 02-01): A 16, B 8, C 10 -> 4 + 2 + 0 = 6 -> 0.85; bias -6/40 = -0.15; fva +0.35
    s = r[(1, "statistical")]
    assert s["accuracy"] == pytest.approx(0.85) and s["bias"] == pytest.approx(-0.15)
    assert s["fva"] == pytest.approx(0.35) and s["previous_step"] == "naive"
    # sales 02-20: A 22, B 10, C 12 -> 2 + 0 + 2 = 4 -> 0.9; bias +4/40 = 0.1; fva +0.05
    assert r[(1, "sales")]["accuracy"] == pytest.approx(0.9) and r[(1, "sales")]["fva"] == pytest.approx(0.05)
    # consensus 02-25: A 30, B 8, C 10 -> 10 + 2 + 0 = 12 -> 0.7; bias +8/40 = 0.2; fva 0.7 - 0.9 = -0.2
    c = r[(1, "consensus")]
    assert c["accuracy"] == pytest.approx(0.7) and c["bias"] == pytest.approx(0.2) and c["fva"] == pytest.approx(-0.2)
    # Lag 3 (snapshots made in December): no naive (history starts in January, naive needs November),
    # no sales -> statistical 12-15 (A 18, B 10, C 6: 2 + 0 + 4 = 6 -> 0.85) then
    # consensus 12-20 (A 30, B 10, C 6: 10 + 0 + 4 = 14 -> 0.65; bias +6/40 = 0.15); fva -0.2.
    assert df.loc[df["lag"] == 3, "step"].tolist() == ["statistical", "consensus"]
    assert pd.isna(r[(3, "statistical")]["fva"]) and r[(3, "statistical")]["accuracy"] == pytest.approx(0.85)
    c3 = r[(3, "consensus")]
    assert c3["accuracy"] == pytest.approx(0.65) and c3["bias"] == pytest.approx(0.15)
    assert c3["fva"] == pytest.approx(-0.2) and c3["previous_step"] == "statistical"

    verdicts = demand.fva_verdicts(df)
    assert "The statistical model made the forecast BETTER overall at lag 1: accuracy 85.0% vs 50.0% naive " \
           "(+35.0 pts)." in verdicts
    assert "Consensus overrides made the forecast WORSE overall at lag 3: accuracy 65.0% vs 85.0% statistical " \
           "(-20.0 pts)." in verdicts
    assert len(verdicts) == 4  # naive and lag-3 statistical have nothing to compare with


def test_fva_stairstep_per_family_and_filters(fva_con):
    df = demand.fva_stairstep(fva_con, MARCH, lags=(1,), by="family")
    r = rows_by(df, "family", "step")
    # F1 (A, B), actual 30: naive 10 + 6 = 16 -> 1 - 16/30; statistical 4 + 2 = 6 -> 0.8;
    # sales 2 + 0 = 2 -> 0.9333; consensus 10 + 2 = 12 -> 0.6 (fva -0.3333)
    assert r[("F1", "naive")]["accuracy"] == pytest.approx(1 - 16 / 30)
    assert r[("F1", "statistical")]["accuracy"] == pytest.approx(0.8)
    assert r[("F1", "sales")]["accuracy"] == pytest.approx(1 - 2 / 30)
    assert r[("F1", "consensus")]["fva"] == pytest.approx(0.6 - (1 - 2 / 30))
    # F2 (C), actual 10: naive 6 -> 0.6; statistical 10 -> 1.0; sales 12 -> 0.8; consensus 10 -> 1.0 (+0.2)
    assert [r[("F2", s)]["accuracy"] for s in demand.STEPS] == pytest.approx([0.6, 1.0, 0.8, 1.0])
    verdicts = demand.fva_verdicts(df)
    assert ("Consensus overrides made the forecast WORSE for family F1 at lag 1: accuracy 60.0% vs 93.3% sales "
            "(-33.3 pts).") in verdicts
    assert ("Consensus overrides made the forecast BETTER for family F2 at lag 1: accuracy 100.0% vs 80.0% sales "
            "(+20.0 pts).") in verdicts
    # the global filters apply: F2 alone gives the F2 numbers
    only = demand.fva_stairstep(fva_con, kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, Filters(families=("F2",))),
                                lags=(1,))
    assert only["accuracy"].tolist() == pytest.approx([0.6, 1.0, 0.8, 1.0])
    with pytest.raises(ValueError, match="by must be"):
        demand.fva_stairstep(fva_con, MARCH, by="region")


def test_fva_stairstep_leaves_missing_steps_out(tiny_con):
    # The tiny company has only consensus and sales snapshots (02-25) and demand from February on:
    # lag 1 March -> no statistical, no naive (January has no demand). March actual A 18, B 10, C 8 = 36.
    # sales: A 50 -> |50-18| + 10 + 8 = 50 -> 1 - 50/36 < 0 -> accuracy 0.
    # consensus: A 20, B 6 -> 2 + 4 + 8 = 14 -> 1 - 14/36 = 0.6111; fva +0.6111.
    df = demand.fva_stairstep(tiny_con, MARCH, lags=(1, 3))
    assert df["step"].tolist() == ["sales", "consensus"] and set(df["lag"]) == {1}  # lag 3: no snapshot at all
    assert df["accuracy"].tolist() == pytest.approx([0.0, 1 - 14 / 36])
    assert df["fva"].iloc[1] == pytest.approx(1 - 14 / 36)
    empty = demand.fva_stairstep(tiny_con, kpis.Query(date(2025, 1, 1), date(2025, 1, 31), date(2026, 3, 31)))
    assert empty.empty and list(empty.columns) == demand.FVA_COLUMNS
    assert demand.fva_verdicts(empty) == []
    assert demand.fva_by_reason(tiny_con, MARCH).empty  # no override was ever saved


def test_fva_by_reason(fva_con):
    # Lag 1, March: scored snapshot = consensus 02-25; overrides saved in February for March:
    #   B 'Customer intel' base 10 -> 8 (actual 10); C 'Promo' base 6 -> 10 (actual 10).
    #   (A's 'Promo' override was saved in December: it counts at lag 3, not at lag 1.)
    df = demand.fva_by_reason(fva_con, MARCH, lag=1)
    assert list(df.columns) == demand.REASON_COLUMNS
    r = rows_by(df, "reason", "step")
    # Customer intel: before |10-10| = 0 -> 1.0; consensus |8-10| = 2 -> 0.8, bias -0.2; fva -0.2
    ci = r[("Customer intel", "consensus")]
    assert r[("Customer intel", "before override")]["accuracy"] == pytest.approx(1.0)
    assert (ci["accuracy"], ci["bias"], ci["fva"], ci["sku_months"]) == pytest.approx((0.8, -0.2, -0.2, 1))
    assert ci["base_sources"] == "consensus"
    # Promo: before |6-10| = 4 -> 0.6, bias -0.4; consensus 0 -> 1.0; fva +0.4
    assert r[("Promo", "before override")]["bias"] == pytest.approx(-0.4)
    assert r[("Promo", "consensus")]["fva"] == pytest.approx(0.4)
    verdicts = demand.fva_verdicts(df)
    assert verdicts == [
        "Overrides with reason 'Customer intel' made the forecast WORSE at lag 1: accuracy 80.0% vs 100.0% "
        "before the override (-20.0 pts, 1 sku-month).",
        "Overrides with reason 'Promo' made the forecast BETTER at lag 1: accuracy 100.0% vs 60.0% "
        "before the override (+40.0 pts, 1 sku-month).",
    ]
    # Lag 3: consensus 12-20, A 'Promo' 18 -> 30 vs actual 20: before 2 -> 0.9; after 10 -> 0.5; fva -0.4
    lag3 = rows_by(demand.fva_by_reason(fva_con, MARCH, lag=3), "reason", "step")
    assert set(lag3) == {("Promo", "before override"), ("Promo", "consensus")}
    assert lag3[("Promo", "consensus")]["fva"] == pytest.approx(-0.4)
    assert lag3[("Promo", "consensus")]["base_sources"] == "statistical"
    # filters apply: family F2 keeps only C
    f2 = demand.fva_by_reason(fva_con, kpis.Query(MARCH.start, MARCH.end, MARCH.as_of, Filters(families=("F2",))))
    assert set(f2["reason"]) == {"Promo"}


def test_accuracy_by_lag(fva_con):
    # consensus snapshots: 12-20 (Feb A10 B4 C6, Mar A30 B10 C6) and 02-25 (Mar A30 B8 C10).
    # Feb lag 2 (12-20) vs actual A12 B4 C6 = 22: |10-12| = 2 -> 1 - 2/22; bias -2/22.
    # Mar lag 1 (02-25): 0.7, bias 0.2. Mar lag 3 (12-20): 0.65, bias 0.15. Other lags: no snapshot.
    df = demand.accuracy_by_lag(fva_con, FEB_MAR)
    assert list(df.columns) == demand.LAG_COLUMNS
    assert list(zip(df["month"], df["lag"])) == [(date(2026, 2, 1), 2), (date(2026, 3, 1), 1), (date(2026, 3, 1), 3)]
    assert df["accuracy"].tolist() == pytest.approx([1 - 2 / 22, 0.7, 0.65])
    assert df["bias"].tolist() == pytest.approx([-2 / 22, 0.2, 0.15])
    total = demand.accuracy_by_lag(fva_con, FEB_MAR, by_month=False)
    assert total["lag"].tolist() == [1, 2, 3]
    assert total["accuracy"].tolist() == pytest.approx([0.7, 1 - 2 / 22, 0.65])
    # the statistical source at lag 1 over Feb-Mar: Feb (01-15) exact 0 error, Mar (02-26) 6 -> 1 - 6/62
    stat = demand.accuracy_by_lag(fva_con, FEB_MAR, lags=(1,), source="statistical", by_month=False)
    assert stat["accuracy"].tolist() == pytest.approx([1 - 6 / 62])
    assert demand.accuracy_by_lag(fva_con, FEB_MAR, lags=(5,)).empty


# --------------------------------------------------------------------------- bias exceptions

# Six months (Jan-Jun 2026), one lag-1 consensus snapshot on the 15th of the month before each:
# A sells 10 a month, forecast 12 (over by 2 every month); B sells 5, forecast 3 (under by 2);
# C sells 6, forecast alternates 8 / 4 (errors cancel out).
BIAS_MONTHS = [date(2026, m, 1) for m in range(1, 7)]


@pytest.fixture()
def bias_con(tmp_path):
    path = tmp_path / "bias.duckdb"
    sales, fc = [], []
    for i, m in enumerate(BIAS_MONTHS):
        snap = kpis.add_months(m, -1).replace(day=15).isoformat()
        for sku, qty, f in (("A", 10, 12), ("B", 5, 3), ("C", 6, 8 if i % 2 == 0 else 4)):
            sales.append((sku, m.replace(day=10).isoformat(), qty))
            fc.append((snap, sku, m.isoformat(), "consensus", f))
    write_rows(path, {"products": TINY_ROWS["products"], "customers": TINY_ROWS["customers"],
                      "orders": orders(sales), "forecasts": fc})
    con = db.open_reader(path)
    yield con
    con.close()


def test_bias_exceptions(bias_con):
    q = kpis.Query(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30))
    df = demand.bias_exceptions(bias_con, q, months=6, threshold=4.0)
    assert list(df.columns) == demand.EXCEPTION_COLUMNS
    # A: sum(A - F) = 6 x (10 - 12) = -12, MAD = 2 -> TS -6: over-forecast; impact 12 x 20 = 240.
    # B: sum(A - F) = 6 x (5 - 3) = +12, MAD 2 -> TS +6: under-forecast; impact 12 x 8 = 96.
    # C: sum(A - F) = 0 -> TS 0: not flagged. Largest money first.
    assert df["sku"].tolist() == ["A", "B"]
    a, b = df.to_dict("records")
    assert (a["direction"], a["family"], a["sum_error"], a["tracking_signal"], a["money_impact"]) == (
        "over-forecast", "F1", -12, pytest.approx(-6), 240)
    assert (b["direction"], b["sum_error"], b["tracking_signal"], b["money_impact"]) == (
        "under-forecast", 12, pytest.approx(6), 96)
    # a stricter threshold flags nobody
    none = demand.bias_exceptions(bias_con, q, months=6, threshold=6.5)
    assert none.empty and list(none.columns) == demand.EXCEPTION_COLUMNS


def test_new_statistical_run_becomes_the_base_unless_told_otherwise(fva_con):
    # On 02-27 the newest snapshots are: consensus 02-25 and statistical 02-26 -> the new run is the base,
    # so next month's consensus starts from the new statistical forecast; a planner may carry the consensus.
    assert demand.base_snapshot(fva_con, date(2026, 2, 27)) == ("statistical", date(2026, 2, 26))
    assert demand.base_snapshot(fva_con, date(2026, 2, 27), "consensus") == ("consensus", date(2026, 2, 25))
    # Same day: consensus wins the tie (it was made from that day's run).
    assert demand.base_snapshot(fva_con, date(2026, 2, 25)) == ("consensus", date(2026, 2, 25))
    with pytest.raises(ValueError, match="start_from"):
        demand.base_snapshot(fva_con, date(2026, 2, 27), "sales")


def test_largest_remainder_keeps_the_total_whole_and_exact():
    from analytics import rounding

    # 120 over 1 : 1 : 1.5 -> 34.29, 34.29, 51.43 -> floors 34, 34, 51 (119) -> the missing unit to 51.43 -> 52
    assert rounding.largest_remainder(120, [1, 1, 1.5]).tolist() == [34, 34, 52]
    assert rounding.largest_remainder(7, [0, 0, 0]).tolist() == [3, 2, 2]  # no weights: equal, ties to the first
    assert rounding.largest_remainder(0, [3, 1]).tolist() == [0, 0]
    assert rounding.half_up(2.5) == 3 and rounding.half_up(33.15) == 33
    rng = __import__("numpy").random.default_rng(1)
    for _ in range(200):
        w, t = rng.random(rng.integers(1, 9)) * 50, int(rng.integers(0, 500))
        out = rounding.largest_remainder(t, w)
        assert out.sum() == t and (out >= 0).all() and (abs(out - t * w / w.sum()) < 1).all()


def test_fva_verdict_compares_absolute_error_when_accuracy_floors_at_0():
    # Sparse SKUs: the error exceeds demand (5,000) for both steps, so both accuracies floor at 0 and fva is 0;
    # the absolute error fell from 13,053 to 12,388: (12,388 - 13,053) / 13,053 = -5.1%.
    df = pd.DataFrame([
        {"lag": 1, "step": "statistical", "accuracy": 0.0, "bias": 1.2, "fva": None, "previous_step": None,
         "numerator": 13_053.0, "denominator": 5_000.0, "sku_months": 40, "months": 6, "previous_numerator": None},
        {"lag": 1, "step": "consensus", "accuracy": 0.0, "bias": 1.1, "fva": 0.0, "previous_step": "statistical",
         "numerator": 12_388.0, "denominator": 5_000.0, "sku_months": 40, "months": 6,
         "previous_numerator": 13_053.0},
    ])
    assert demand.fva_verdicts(df) == [
        "Consensus overrides made the forecast BETTER overall at lag 1: absolute error 12,388 vs 13,053 statistical "
        "(-5.1%); accuracy 0.0% for both (floored at 0: the error is larger than the demand)."]
    # The same absolute error: no change.
    df.loc[1, "numerator"] = 13_053.0
    assert "did not change accuracy" in demand.fva_verdicts(df)[0]


def test_fva_stairstep_gives_the_previous_steps_error(tiny_con):
    # As test_fva_stairstep_leaves_missing_steps_out: sales sum |F - A| = 50, consensus 14 on the same sku-months.
    df = demand.fva_stairstep(tiny_con, MARCH, lags=(1,))
    assert df["numerator"].tolist() == pytest.approx([50, 14])
    assert pd.isna(df["previous_numerator"].iloc[0]) and df["previous_numerator"].iloc[1] == pytest.approx(50)
