"""Forecast runs: the snapshot, leaderboard and backtests they write; the same batch on a Dask cluster;
the CSV mode and its command line."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import db
from analytics.forecasting import batch

AS_OF = date(2026, 3, 31)


def _snapshot(path) -> pd.DataFrame:
    con = db.open_reader(path)
    try:
        return con.execute("SELECT sku, period, quantity FROM forecasts WHERE source = 'statistical' "
                           "AND snapshot_date = $d ORDER BY sku, period", {"d": AS_OF}).df()
    finally:
        con.close()


def test_run_writes_snapshot_leaderboard_and_intervals(tiny_db):
    with cf.ThreadPoolExecutor(2) as ex:
        report = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, executor=ex)
    # Series: SKUs A, B, C with orders up to March (the last complete month) + families F1, F2 (direct)
    # + the total.
    assert (report.n_series, report.n_failed) == (6, 0)
    snap = _snapshot(tiny_db)
    assert sorted(snap["sku"].unique()) == ["A", "B", "C"]
    # 6 months from April 2026 (the month after the last complete month).
    assert sorted(pd.to_datetime(snap["period"]).dt.date.unique()) == [date(2026, m, 1) for m in range(4, 10)]
    assert (snap["quantity"] >= 0).all()
    con = db.open_reader(tiny_db)
    board = con.execute("SELECT unique_id, count(*) FILTER (WHERE chosen) AS chosen FROM forecast_leaderboard "
                        "GROUP BY 1 ORDER BY 1").fetchall()
    assert board == [("A", 1), ("B", 1), ("C", 1), ("family:F1", 1), ("family:F2", 1), ("total:all", 1)]
    fan = con.execute("SELECT lo95, lo80, mean, hi80, hi95 FROM forecast_intervals").fetchnumpy()
    assert (fan["lo95"] <= fan["lo80"] + 1e-9).all() and (fan["lo80"] <= fan["mean"] + 1e-9).all()
    assert (fan["mean"] <= fan["hi80"] + 1e-9).all() and (fan["hi80"] <= fan["hi95"] + 1e-9).all()
    runs = con.execute("SELECT run_id, snapshot_date, horizon, n_series FROM forecast_runs").fetchall()
    assert runs == [(1, AS_OF, 6, 6)]
    # A second run on the same day replaces the snapshot instead of doubling it.
    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, executor=ex)
    assert len(_snapshot(tiny_db)) == len(snap)


def test_same_batch_on_a_dask_cluster(tiny_db, tmp_path):
    import distributed
    local = tmp_path / "local.duckdb"
    local.write_bytes(tiny_db.read_bytes())
    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(local, horizon=6, as_of=AS_OF, executor=ex)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        report = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, dask_address=cluster.scheduler_address)
    assert report.executor.startswith("dask ") and report.n_failed == 0
    pd.testing.assert_frame_equal(_snapshot(tiny_db), _snapshot(local))


def _series_csv(path):
    t = np.arange(36)
    seasonal = 100 + 30 * np.sin(2 * np.pi * t / 12)
    rows = [("seasonal", f"{2023 + m // 12}-{m % 12 + 1:02d}-01", round(v, 1)) for m, v in zip(t, seasonal)]
    rows += [("short", "2026-01-15", 5), ("short", "2026-03-02", 7)]  # February missing = 0
    pd.DataFrame(rows, columns=["series_id", "period", "value"]).to_csv(path, index=False)


def test_csv_mode(tmp_path):
    src, out = tmp_path / "series.csv", tmp_path / "forecasts.csv"
    _series_csv(src)
    with cf.ThreadPoolExecutor(2) as ex:
        df = batch.forecast_csv(src, out, horizon=4, executor=ex)
    assert list(df.columns) == ["series_id", "period", "model", "forecast", "lo80", "hi80", "lo95", "hi95"]
    written = pd.read_csv(out)
    assert len(written) == 8 and set(written["series_id"]) == {"seasonal", "short"}
    # The seasonal series ends in December 2025: its forecast starts January 2026; "short" ends in March 2026.
    first = written.groupby("series_id")["period"].min().to_dict()
    assert first == {"seasonal": "2026-01-01", "short": "2026-04-01"}
    assert (written["lo95"] <= written["forecast"]).all() and (written["forecast"] <= written["hi95"]).all()


def test_csv_mode_rejects_bad_rows(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("series_id,period,value\na,2026-01-01,5\na,not a date,6\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 3"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)
    src.write_text("name,period,value\na,2026-01-01,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no series_id column"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)
    src.write_text("series_id,period,value\na,2026-01-01,5\na,2026-02-01,lots\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 3, column value: 'lots' is not a number"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)
    src.write_text("sku,date,qty,quantity\na,2026-01-01,5,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="more than one candidate column"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)


def test_csv_mode_reads_statsforecast_long_format_with_numbered_periods(tmp_path):
    """unique_id, ds, y with ds = 1, 2, 3 ... (how statsforecast's M3 data come): the same forecast as the dated
    file, and the output numbers the months on from each series' last (36 -> 37..40)."""
    dated = tmp_path / "dated.csv"
    _series_csv(dated)
    df = pd.read_csv(dated)
    seasonal = df[df["series_id"] == "seasonal"]
    numbered = pd.DataFrame({"unique_id": "seasonal", "ds": np.arange(1, 37), "y": seasonal["value"].to_numpy()})
    src = tmp_path / "numbered.csv"
    numbered.to_csv(src, index=False)
    with cf.ThreadPoolExecutor(2) as ex:
        a = batch.forecast_csv(dated, tmp_path / "a.csv", horizon=4, executor=ex)
        b = batch.forecast_csv(src, tmp_path / "b.csv", horizon=4, executor=ex)
    a = a[a["series_id"] == "seasonal"].reset_index(drop=True)
    assert b["period"].tolist() == [37, 38, 39, 40]
    assert b["forecast"].to_numpy() == pytest.approx(a["forecast"].to_numpy())
    assert pd.read_csv(tmp_path / "b.csv")["period"].tolist() == [37, 38, 39, 40]


def test_cli_csv_mode(tmp_path):
    src, out = tmp_path / "series.csv", tmp_path / "out.csv"
    _series_csv(src)
    res = subprocess.run([sys.executable, "-m", "analytics", "forecast", "--input", str(src), "--horizon", "3",
                          "--output", str(out), "--workers", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "wrote 6 rows for 2 series" in res.stdout
    res = subprocess.run([sys.executable, "-m", "analytics", "forecast", "--input", str(src), "--horizon", "3"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "--output" in res.stderr


def test_forecast_from_inside_a_streamlit_script_does_not_rerun_the_script_in_workers(tiny_db, tmp_path, monkeypatch):
    """Streamlit installs the running page as ``__main__``; spawned workers must not import it again."""
    import sys
    import types

    from analytics.forecasting import batch

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a page script ran inside a forecast worker')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    report = batch.run_forecast(tiny_db, 3, workers=1)
    assert report.n_series > 0 and report.n_failed == 0
    assert sys.modules["__main__"] is fake  # put back afterwards


def _history_rows(last: date, spike_after: date | None = None) -> dict[str, list[tuple]]:
    """Two SKUs with monthly orders from 2025-01 up to ``last`` (A: 10, 12, 14, ... ; B: 5 every month);
    ``spike_after``: a 10,000-unit order of A the day after it (the future the backfill must not see)."""
    from datetime import timedelta

    from tests.conftest import TINY_ROWS

    orders, m = [], date(2025, 1, 1)
    i = 0
    while m <= last:
        orders.append((f"A{i}", 1, "C1", "A", str(m.replace(day=10)), None, None, 10 + 2 * i, 20.0))
        orders.append((f"B{i}", 1, "C2", "B", str(m.replace(day=12)), None, None, 5, 8.0))
        i += 1
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    if spike_after is not None:
        orders.append(("SPIKE", 1, "C1", "A", str(spike_after + timedelta(days=1)), None, None, 10_000, 20.0))
    return {"products": TINY_ROWS["products"][:2], "customers": TINY_ROWS["customers"], "orders": orders}


def test_backfill_makes_month_end_snapshots_from_the_past_only(tmp_path):
    from tests.conftest import write_rows

    full = tmp_path / "full.duckdb"
    write_rows(full, _history_rows(date(2026, 3, 1), spike_after=date(2025, 12, 31)))
    # As of 2026-03-12 (the last order) the last complete month is February: month-ends 12-31, 01-31, 02-28.
    con = db.open_reader(full)
    assert batch.backfill_month_ends(con, 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
    # Month-ends before the first order are left out (first order 2025-01-10).
    assert batch.backfill_month_ends(con, 20)[0] == date(2025, 1, 31)
    con.close()
    steps = []
    with cf.ThreadPoolExecutor(2) as ex:
        report = batch.backfill(full, 3, horizon=3, executor=ex, progress=lambda f, m: steps.append(f))
    assert [r.snapshot_date for r in report.runs] == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
    assert steps == sorted(steps) and steps[-1] == 1.0  # progress only moves forward
    con = db.open_reader(full)
    snaps = con.execute("SELECT snapshot_date, min(period), max(period) FROM forecasts WHERE source = 'statistical' "
                        "GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    # Each snapshot forecasts the 3 months after its own month-end.
    assert snaps == [(date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 1)),
                     (date(2026, 1, 31), date(2026, 2, 1), date(2026, 4, 1)),
                     (date(2026, 2, 28), date(2026, 3, 1), date(2026, 5, 1))]
    # No leakage: the 2025-12-31 snapshot equals a run on a database that ends on that day (so it never saw the
    # 10,000-unit order of 2026-01-01 nor anything after).
    past = tmp_path / "past.duckdb"
    write_rows(past, _history_rows(date(2025, 12, 1)))
    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(past, horizon=3, as_of=date(2025, 12, 31), executor=ex)

    def snap(path, d):
        c = db.open_reader(path)
        try:
            return c.execute("SELECT sku, period, quantity FROM forecasts WHERE source = 'statistical' "
                             "AND snapshot_date = $d ORDER BY sku, period", {"d": d}).df()
        finally:
            c.close()

    pd.testing.assert_frame_equal(snap(full, date(2025, 12, 31)), snap(past, date(2025, 12, 31)))
    # The January snapshot did see the spike: it differs.
    assert snap(full, date(2026, 1, 31))["quantity"].max() > snap(full, date(2025, 12, 31))["quantity"].max()
    # Running it again skips the month-ends that have a snapshot.
    with cf.ThreadPoolExecutor(2) as ex:
        again = batch.backfill(full, 3, horizon=3, executor=ex)
    assert not again.runs and len(again.skipped) == 3


def test_backfill_command_line(tiny_db, capsys):
    from analytics.__main__ import main

    # The tiny company (as of 2026-03-24, orders from 2026-02-01): month-ends on or before February's end
    # with orders: only 2026-02-28.
    assert main(["forecast", "--db", str(tiny_db), "--backfill", "2", "--horizon", "3", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 statistical snapshot(s) written" in out and "2026-02-28: run #1" in out
    assert main(["forecast", "--db", str(tiny_db), "--backfill", "0"]) == 2


def test_csv_mode_with_a_model_the_planner_picked(tmp_path):
    # ARIMA is reachable from the command line: every active series gets it, and the output says so
    src, out = tmp_path / "series.csv", tmp_path / "forecasts.csv"
    _series_csv(src)
    with cf.ThreadPoolExecutor(2) as ex:
        df = batch.forecast_csv(src, out, horizon=4, executor=ex, model="ARIMA")
    assert set(df.loc[df["series_id"] == "seasonal", "model"]) == {"ARIMA"}
    with pytest.raises(ValueError, match="unknown model"):
        batch.forecast_csv(src, out, horizon=4, model="Prophet")
    # every choice offered to planners is a model the engine has (or the automatic choice)
    from analytics.forecasting.models import MODEL_ALIASES

    assert set(batch.MODEL_CHOICES) - {"auto"} <= set(MODEL_ALIASES)


def test_csv_series_adds_same_month_rows_and_fills_gaps():
    raw = pd.DataFrame({
        "series_id": pd.Series(["b", "a", "b", "a", "b"], dtype=str),
        "period": pd.to_datetime(["2025-11-03", "2026-01-31", "2026-01-02", "2026-01-01", "2025-11-20"]),
        "value": [1.5, 2.0, 4.0, 3.0, 2.5],
    })
    series, after_last = batch._csv_series(raw)
    # sorted by id; "a": January 2026 = 2 + 3 = 5; "b": November 2025 = 1.5 + 2.5 = 4, December 0, January 4
    assert [sid for sid, _ in series] == ["a", "b"]
    np.testing.assert_array_equal(series[0][1], [5.0])
    np.testing.assert_array_equal(series[1][1], [4.0, 0.0, 4.0])
    # months since January 1970: February 2026 = 56 * 12 + 1 = 673 for both
    assert after_last == {"a": 673, "b": 673}
    assert batch._month_start(673) == date(2026, 2, 1)


def test_local_pool_runs_niced_and_stops_its_fork_server(monkeypatch):
    from multiprocessing import forkserver

    monkeypatch.setenv("SOP_FORECAST_NICE", "5")
    with batch.make_executor(2) as (ex, label):
        nices = {f.result() for f in [ex.submit(batch._niceness) for _ in range(4)]}
        y = 100 + 10 * np.sin(np.arange(36))
        (r,) = batch.run_series([("s", y)], 3, ex)
    assert label == "processes x2" and r.ok and len(r.forecast) == 3
    # workers run 5 below this process (forked from the server, which lowered itself already: not 10 below)
    assert nices == {min(batch._niceness() + 5, 19)}
    assert forkserver._forkserver._forkserver_pid is None  # stopped with the last pool: no idle process left


def test_result_frames_place_each_row_in_its_months():
    fc = pd.DataFrame({"step": [1, 2], "mean": [5.0, 6.0], "lo80": [4.0, 5.0], "hi80": [6.0, 7.0],
                       "lo95": [3.0, 4.0], "hi95": [7.0, 8.0]})
    board = pd.DataFrame({"model": ["IMAPA", "Naive"], "wmape": [0.5, 0.6], "mase": [1.0, 1.1],
                          "smape": [0.4, 0.5], "bias": [0.0, 0.1], "chosen": [True, False], "notes": ["", ""]})
    bt = pd.DataFrame({"cutoff": np.array([2, 2], dtype="int64"), "step": np.array([1, 2], dtype="int64"),
                       "y": [1.0, 2.0], "model": ["IMAPA", "IMAPA"], "forecast": [1.5, 1.5]})
    results = [
        batch.SeriesResult("a", True, "intermittent", "IMAPA", "class default", fc, board, bt, 0.7),
        batch.SeriesResult("broken", False, error="ValueError: x"),
        batch.SeriesResult("b", True, "intermittent", "IMAPA", "why b", fc * 2, board, bt.iloc[:0], 0.9),
    ]
    history = {"a": [date(2025, m, 1) for m in range(1, 13)], "b": [date(2024, 7, 1)] * 12}
    out = batch.result_frames(results, history, date(2026, 1, 1), 7, date(2025, 12, 31))
    fan = out["forecast_intervals"]
    assert list(fan["unique_id"]) == ["a", "a", "b", "b"] and list(fan["run_id"]) == [7] * 4
    assert list(fan["period"]) == [date(2026, 1, 1), date(2026, 2, 1)] * 2
    assert list(fan["mean"]) == [5.0, 6.0, 10.0, 12.0] and set(fan["model"]) == {"IMAPA"}
    lb = out["forecast_leaderboard"]
    # the reason and the lag-1 spread only on each series' chosen row
    assert list(lb["reason"]) == ["class default", "", "why b", ""]
    np.testing.assert_array_equal(lb["error_sigma_lag1"], [0.7, np.nan, 0.9, np.nan])
    t = out["forecast_backtests"]  # only "a" has backtest rows; cutoff 2 = its third month, March 2025
    assert list(t["cutoff_period"]) == [date(2025, 3, 1)] * 2
    assert list(t["period"]) == [date(2025, 4, 1), date(2025, 5, 1)] and set(t["unique_id"]) == {"a"}
